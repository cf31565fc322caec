// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_vq: the split-virtqueue iterator (hvisor_vhost/vq.c) against rings
 * the fuzzer writes into a fake zone.
 *
 * Input: one or two RAM regions (gpa, size), the queue registers (size,
 * ring addresses, EVENT_IDX/INDIRECT_DESC), where the free-running
 * indices stand (to cross the 16-bit wrap), an image of zone RAM, then a
 * stream of operations: pop, push, signal, notify on/off, unpop, a guest
 * write into RAM between two steps, a queue restart.
 *
 * Checked, besides what ASan and UBSan see: every segment of a popped
 * chain is inside one region and is what hvv_zone_map() gives for its
 * gpa; chains hold at most HVV_CHAIN_MAX_SEGS segments, readable ones
 * first, and their lengths add up; heads are ring indices; the device
 * never consumes more than the avail index offers; a pop fails only with
 * the queue marked broken and the device NEEDS_RESET; a push publishes
 * exactly its entry and index.
 */
#include "harness.h"
#include <uapi/linux/virtio_config.h>

#define FZ_MAX_OPS	2048

static u64 fz_no_features(struct hvv_device *dev)
{
	(void)dev;
	return 0;
}

static const struct hvv_dev_ops fz_vq_ops = {
	.name = "fuzz",
	.device_id = 2,
	.queue_max = 256,
	.features = fz_no_features,
};

/* Chains popped and not yet pushed, in pop order. */
struct fz_out {
	u16 head;
	u32 in_len;
};

static struct hvv_chain chain;
static struct fz_out out[FZ_MAX_OPS];

static void check_chain(const struct hvv_zone *zone, const struct hvv_vq *vq)
{
	u64 out_len = 0, in_len = 0;
	unsigned int i, n = chain.nr_out + chain.nr_in;

	HVV_CHECK(chain.head < vq->size);
	HVV_CHECK(n <= HVV_CHAIN_MAX_SEGS);
	for (i = 0; i < n; i++) {
		const struct hvv_seg *s = &chain.segs[i];

		HVV_CHECK(s->len > 0);
		HVV_CHECK(fz_zone_holds(zone, s->addr, s->len));
		HVV_CHECK(hvv_zone_map(zone, s->gpa, s->len) == s->addr);
		if (i < chain.nr_out)
			out_len += s->len;
		else
			in_len += s->len;
	}
	HVV_CHECK(out_len == chain.out_len);
	HVV_CHECK(in_len == chain.in_len);
}

static bool rings_in_zone(const struct hvv_zone *zone, const struct hvv_vq *vq)
{
	return fz_zone_holds(zone, vq->desc, 16u * vq->size) &&
	       fz_zone_holds(zone, vq->avail, 6u + 2u * vq->size) &&
	       fz_zone_holds(zone, vq->used, 6u + 8u * vq->size);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz f = { data, size };
	struct hvv_zone zone;
	struct hvv_device dev;
	struct hvv_vq vq;
	u64 gpa[2], len[2];
	unsigned int nr, nout = 0, tail = 0, ops, i;
	u16 img, start_avail, start_used;
	u8 b, flags;
	int ret;

	/*
	 * Regions: small, so that rings and buffers fall into them often;
	 * page-aligned as zone.c insists, so that aligned guest addresses
	 * give aligned pointers.
	 */
	nr = 1 + (fz_u8(&f) & 1);
	for (i = 0; i < 2; i++) {
		gpa[i] = fz_u64(&f) & ~(u64)(PAGE_SIZE - 1);
		len[i] = 1 + fz_u16(&f) % 0x4000;
	}
	fz_zone_init(&zone, nr, gpa, len);

	memset(&dev, 0, sizeof(dev));
	dev.zone = &zone;
	dev.id = 1;
	dev.ops = &fz_vq_ops;
	dev.nr_vqs = 1;
	dev.vqs = &vq;
	hvv_vq_init(&vq, &dev, 0);

	/* The queue registers, as the driver would write them. */
	b = fz_u8(&f);
	vq.num = b & 0x80 ? fz_u16(&f) : 1u << (b % 9);
	vq.desc_gpa = fz_u64(&f);
	vq.avail_gpa = fz_u64(&f);
	vq.used_gpa = fz_u64(&f);
	flags = fz_u8(&f);
	vq.ready = !(flags & 4);
	if (flags & 1)
		dev.features |= BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
	if (flags & 2)
		dev.features |= BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
	start_avail = fz_u16(&f);
	start_used = fz_u16(&f);

	/* Zone RAM: region 0, then region 1. */
	img = fz_u16(&f);
	for (i = 0; i < zone.nr_regions && img; i++) {
		u64 k = min_t(u64, img, zone.regions[i].size);

		fz_bytes(&f, zone.regions[i].kva, k);
		img -= k;
	}

	ret = hvv_vq_start(&vq);
	if (ret) {
		HVV_CHECK(ret == -EINVAL && !vq.started);
		goto out;
	}
	HVV_CHECK(is_power_of_2(vq.size) && vq.size <= fz_vq_ops.queue_max);
	HVV_CHECK(rings_in_zone(&zone, &vq));
	/* As if 65536 * k + start chains had gone through already. */
	vq.last_avail_idx = vq.avail_idx = start_avail;
	vq.used_idx = vq.signalled_used = start_used;

	for (ops = 0; ops < FZ_MAX_OPS && !fz_empty(&f); ops++) {
		u8 op = fz_u8(&f);

		switch (op % 9) {
		case 0:
		case 1:
			ret = hvv_vq_pop(&vq, &chain);
			if (ret < 0) {
				HVV_CHECK(ret == -EIO && vq.broken);
				HVV_CHECK(dev.status & VIRTIO_CONFIG_S_NEEDS_RESET);
				break;
			}
			if (!ret)
				break;
			HVV_CHECK(ret == 1);
			check_chain(&zone, &vq);
			out[nout].head = chain.head;
			out[nout].in_len = chain.in_len;
			nout++;
			tail++;
			break;
		case 2: {
			/* Complete one of the chains out, not always the oldest. */
			u32 pick, wlen;
			u16 idx;

			if (!nout)
				break;
			pick = fz_u8(&f) % nout;
			wlen = out[pick].in_len ? fz_u32(&f) % (out[pick].in_len + 1) : 0;
			idx = vq.used_idx;
			hvv_vq_push(&vq, out[pick].head, wlen);
			HVV_CHECK(vq.used_idx == (u16)(idx + 1));
			HVV_CHECK(vq.used->idx == vq.used_idx);
			HVV_CHECK(vq.used->ring[idx & (vq.size - 1)].id == out[pick].head);
			HVV_CHECK(vq.used->ring[idx & (vq.size - 1)].len == wlen);
			out[pick] = out[--nout];
			tail = 0;	/* out[] is no longer in pop order */
			break;
		}
		case 3:
			hvv_vq_signal(&vq);
			break;
		case 4:
			hvv_vq_enable_notify(&vq);
			break;
		case 5:
			hvv_vq_disable_notify(&vq);
			break;
		case 6: {
			/* The guest writes into its RAM between two steps. */
			struct hvv_region *r = &zone.regions[fz_u8(&f) % zone.nr_regions];
			u64 at = fz_u16(&f) % r->size;
			u64 k = min_t(u64, 1 + fz_u8(&f) % 16, r->size - at);

			fz_bytes(&f, (u8 *)r->kva + at, k);
			break;
		}
		case 7:
			/* Give back the chain popped last, if it is still out. */
			if (tail && op & 0x80) {
				hvv_vq_unpop(&vq, 1);
				nout--;
				tail--;
			}
			break;
		case 8:
			/* Reset-like restart: every chain out is forgotten. */
			if (!(op & 0x80))
				break;
			hvv_vq_stop(&vq);
			HVV_CHECK(!vq.started);
			dev.status &= ~VIRTIO_CONFIG_S_NEEDS_RESET;
			ret = hvv_vq_start(&vq);
			HVV_CHECK(!ret);
			nout = 0;
			tail = 0;
			break;
		}
		HVV_CHECK(vq.broken || (u16)(vq.avail_idx - vq.last_avail_idx) <= vq.size);
	}
out:
	hvv_vq_stop(&vq);
	fz_zone_free(&zone);
	return 0;
}

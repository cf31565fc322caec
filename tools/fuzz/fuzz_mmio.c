// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_mmio: the virtio-mmio register file (hvisor_vhost/mmio.c) under a
 * random stream of guest accesses, as hvv_bridge_dispatch() hands them
 * over: any offset in the window, any size (the hypervisor does not check
 * it), reads and writes.  The device is a fake type with a fuzzed number
 * of queues, QueueNumMax, features and config space (a heap buffer of
 * exactly its length).  The process-context half of the device core
 * (reset, start on DRIVER_OK with hvv_vq_start() on a small zone) runs
 * after the access that queued it, or one access later when that access
 * says so (bit 4 of its kind byte), so that accesses also arrive in the
 * middle of a reset.
 *
 * Checked: config space is never read or written out of bounds (ASan);
 * answers fit the access size; FEATURES_OK implies VERSION_1 and no
 * feature that was not offered; DRIVER_OK implies FEATURES_OK; QueueNum
 * is 0 or a power of two up to QueueNumMax; the registers of a ready queue
 * do not change; a parked access happens only during a reset or a queue
 * change.
 */
#include "harness.h"
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_mmio.h>

#define FZ_MAX_OPS	1024
#define FZ_RAM_GPA	0x40000000ULL
#define FZ_RAM_SIZE	0x4000ULL

struct fz_mmio {
	u64 features;
	u16 queue_max;
	unsigned int config_writes;
};

static struct fz_mmio fzm;

static u64 fz_features(struct hvv_device *dev)
{
	(void)dev;
	return fzm.features;
}

static void fz_config_write(struct hvv_device *dev, unsigned int off,
			    const void *buf, unsigned int len)
{
	HVV_CHECK(off < dev->config_len && len <= dev->config_len - off);
	memcpy(dev->config + off, buf, len);
	fzm.config_writes++;
}

static int fz_start(struct hvv_device *dev)
{
	(void)dev;
	return 0;
}

static void fz_stop(struct hvv_device *dev)
{
	(void)dev;
}

static struct hvv_dev_ops fz_mmio_ops = {
	.name = "fuzz",
	.device_id = 1,
	.features = fz_features,
	.config_write = fz_config_write,
	.start = fz_start,
	.stop = fz_stop,
};

/* device.c's state work, without threads: reset, queue change or start. */
static void run_state_work(struct hvv_device *dev)
{
	unsigned int i;

	if (dev->resetting) {
		dev->started = false;
		for (i = 0; i < dev->nr_vqs; i++)
			hvv_vq_stop(&dev->vqs[i]);
		hvv_mmio_reset(dev);
		dev->resetting = false;
		dev->requeue = false;
		return;
	}
	if (dev->requeue) {
		/* device_requeue(): the other queues keep their rings. */
		dev->started = false;
		for (i = 0; i < dev->nr_vqs; i++) {
			if (!dev->vqs[i].reset_pending)
				continue;
			hvv_vq_stop(&dev->vqs[i]);
			hvv_vq_reset(&dev->vqs[i]);
			dev->vqs[i].reset = true;
		}
		dev->requeue = false;
	}
	if (dev->started || !(dev->status & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    dev->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	for (i = 0; i < dev->nr_vqs; i++) {
		if (!dev->vqs[i].ready || dev->vqs[i].started)
			continue;
		if (hvv_vq_start(&dev->vqs[i])) {
			hvv_device_broken(dev, "queue setup refused");
			for (i = 0; i < dev->nr_vqs; i++)
				hvv_vq_stop(&dev->vqs[i]);
			return;
		}
	}
	dev->started = true;
}

static const unsigned int fz_sizes[8] = { 1, 2, 4, 8, 4, 4, 0, 3 };

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz f = { data, size };
	struct hvv_vq vqs[HVV_MAX_QUEUES], before;
	struct hvv_device dev;
	struct hvv_zone zone;
	u64 gpa = FZ_RAM_GPA, len = FZ_RAM_SIZE, offered;
	unsigned int ops, i;
	bool pending = false;

	memset(&fzm, 0, sizeof(fzm));
	fzm.features = fz_u64(&f);
	fzm.queue_max = 1u << (fz_u8(&f) % 16);
	fz_mmio_ops.queue_max = fzm.queue_max;
	offered = fzm.features | BIT_ULL(VIRTIO_F_VERSION_1) |
		  BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |
		  BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |
		  BIT_ULL(VIRTIO_F_RING_RESET);

	fz_zone_init(&zone, 1, &gpa, &len);
	memset(&dev, 0, sizeof(dev));
	dev.zone = &zone;
	dev.id = 1;
	dev.irq = 40;
	dev.ops = &fz_mmio_ops;
	dev.nr_vqs = 1 + fz_u8(&f) % HVV_MAX_QUEUES;
	dev.vqs = vqs;
	for (i = 0; i < dev.nr_vqs; i++)
		hvv_vq_init(&vqs[i], &dev, i);
	dev.config_len = fz_u8(&f) % 65;
	/* Exactly config_len bytes: past them is a heap overflow. */
	dev.config = malloc(dev.config_len ? dev.config_len : 1);
	HVV_CHECK(dev.config);
	fz_bytes(&f, dev.config, dev.config_len);
	memset(&fz_core, 0, sizeof(fz_core));

	for (ops = 0; ops < FZ_MAX_OPS && !fz_empty(&f); ops++) {
		u8 kind = fz_u8(&f);
		bool is_write = kind & 1;
		u64 req_size = fz_sizes[(kind >> 1) & 7];
		u64 off = kind & 0x80 ? fz_u16(&f) : fz_u16(&f) & 0x1ff;
		u64 value = is_write ? fz_u64(&f) : 0;
		unsigned int q = dev.queue_sel;
		bool was_ready = q < dev.nr_vqs && vqs[q].ready;
		bool was_busy = dev.resetting || dev.requeue;
		enum hvv_mmio_result res;

		if ((kind & 0x70) == 0x70)
			req_size = fz_u64(&f);	/* anything the hypervisor passes */
		if (was_ready)
			before = vqs[q];

		/* As hvv_bridge_dispatch() calls it. */
		res = hvv_mmio_access(&dev, off, req_size, is_write, &value);

		if (res == HVV_MMIO_PARK) {
			HVV_CHECK(was_busy && value == 0);
		} else if (res == HVV_MMIO_HOLD) {
			/* Only the write that starts a reset is held. */
			HVV_CHECK(!was_busy && is_write && dev.resetting);
			HVV_CHECK(off == VIRTIO_MMIO_STATUS && value == 0);
		} else {
			HVV_CHECK(res == HVV_MMIO_ANSWER);
			if (is_write)
				HVV_CHECK(value == 0);
			else if ((unsigned int)req_size < 8)
				HVV_CHECK(value >> (8 * (unsigned int)req_size) == 0);
		}
		if (was_ready && !dev.resetting && vqs[q].ready) {
			HVV_CHECK(vqs[q].num == before.num);
			HVV_CHECK(vqs[q].desc_gpa == before.desc_gpa);
			HVV_CHECK(vqs[q].avail_gpa == before.avail_gpa);
			HVV_CHECK(vqs[q].used_gpa == before.used_gpa);
		}

		if (fz_core.queued == &dev.state_work) {
			fz_core.queued = NULL;
			pending = true;
		}
		if (pending && !(kind & 0x10)) {
			pending = false;
			run_state_work(&dev);
		}

		if (dev.status & VIRTIO_CONFIG_S_FEATURES_OK) {
			HVV_CHECK(!(dev.features & ~offered));
			HVV_CHECK(dev.features & BIT_ULL(VIRTIO_F_VERSION_1));
		}
		if (dev.status & VIRTIO_CONFIG_S_DRIVER_OK)
			HVV_CHECK(dev.status & VIRTIO_CONFIG_S_FEATURES_OK);
		HVV_CHECK(!(dev.status & ~0xffu));
		for (i = 0; i < dev.nr_vqs; i++)
			HVV_CHECK(!vqs[i].num || (is_power_of_2(vqs[i].num) &&
						  vqs[i].num <= fzm.queue_max));
		if (dev.started)
			HVV_CHECK(dev.status & VIRTIO_CONFIG_S_DRIVER_OK);
	}

	if (pending)
		run_state_work(&dev);
	for (i = 0; i < dev.nr_vqs; i++)
		hvv_vq_stop(&vqs[i]);
	free(dev.config);
	fz_zone_free(&zone);
	return 0;
}

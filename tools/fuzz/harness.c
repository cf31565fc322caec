// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzz targets' side of the module: the device core's callbacks that
 * vq.c and mmio.c use (recorded in fz_core), the kernel services zone.c
 * links against but the fuzzers never reach, and the fake zone.
 */
#include "harness.h"
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_mmio.h>

#include "bridge.h"

struct fz_core fz_core;
struct mutex hvv_lock;
static struct workqueue_struct fz_wq;
struct workqueue_struct *system_unbound_wq = &fz_wq;

/* --- the device core, as device.c does it, minus the locking ------------ */

void hvv_device_interrupt(struct hvv_device *dev, u32 isr_bits)
{
	fz_core.interrupts++;
	dev->isr |= isr_bits;
	if (!dev->irq_pushed)
		hvv_device_push_irq(dev);
}

/* No repeats here: the fuzzers have no time. */
void hvv_device_push_irq(struct hvv_device *dev)
{
	dev->irq_pushed = true;
	atomic64_inc(&dev->stats.interrupts);
	hvv_bridge_inject(dev->zone->id, dev->irq);
}

void hvv_device_broken(struct hvv_device *dev, const char *why)
{
	bool first = !(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);

	(void)why;
	fz_core.broken++;
	dev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (first)
		hvv_device_interrupt(dev, VIRTIO_MMIO_INT_CONFIG);
}

void hvv_device_kick(struct hvv_device *dev, unsigned int qidx)
{
	HVV_CHECK(qidx < dev->nr_vqs);
	if (dev->vqs[qidx].started)
		kthread_queue_work(dev->worker, &dev->vqs[qidx].work);
}

bool hvv_bridge_inject(u32 zone, u32 irq)
{
	(void)zone;
	(void)irq;
	fz_core.injects++;
	return true;
}

void hvv_bridge_irq_taken(void)
{
}

bool kthread_queue_work(struct kthread_worker *worker,
			struct kthread_work *work)
{
	(void)worker;
	(void)work;
	fz_core.kicks++;
	return true;
}

bool queue_work(struct workqueue_struct *wq, struct work_struct *work)
{
	(void)wq;
	fz_core.queued = work;
	return true;
}

/* --- zone.c's mapping side: zones are made by fz_zone_init() here ------- */

static void fz_unreachable(const char *what)
{
	fprintf(stderr, "fuzz harness: %s called\n", what);
	abort();
}

void *memremap(resource_size_t offset, size_t size, unsigned long flags)
{
	(void)offset;
	(void)size;
	(void)flags;
	fz_unreachable("memremap");
	return NULL;
}

void memunmap(void *addr)
{
	(void)addr;
	fz_unreachable("memunmap");
}

bool virt_addr_valid(const void *addr)
{
	(void)addr;
	return false;
}

int walk_iomem_res_desc(unsigned long desc, unsigned long flags, u64 start,
			u64 end, void *arg,
			int (*func)(struct resource *, void *))
{
	(void)desc;
	(void)flags;
	(void)start;
	(void)end;
	(void)arg;
	(void)func;
	fz_unreachable("walk_iomem_res_desc");
	return 0;
}

int security_locked_down(int what)
{
	(void)what;
	fz_unreachable("security_locked_down");
	return 0;
}

void sort(void *base, size_t num, size_t size,
	  int (*cmp)(const void *, const void *), void *swap)
{
	(void)swap;
	qsort(base, num, size, cmp);
}

/* --- the fake zone ------------------------------------------------------------ */

void fz_zone_init(struct hvv_zone *zone, unsigned int nr, const u64 *gpa,
		  const u64 *size)
{
	unsigned int i;

	memset(zone, 0, sizeof(*zone));
	zone->id = 1;
	for (i = 0; i < nr && i < HVISOR_VHOST_MAX_REGIONS; i++) {
		struct hvv_region *r = &zone->regions[i];

		r->gpa = gpa[i];
		r->hpa = gpa[i];
		r->size = size[i];
		/* Exactly @size bytes: one byte more is a heap overflow. */
		r->kva = calloc(1, size[i] ? size[i] : 1);
		HVV_CHECK(r->kva);
		zone->nr_regions = i + 1;
	}
}

void fz_zone_free(struct hvv_zone *zone)
{
	unsigned int i;

	for (i = 0; i < zone->nr_regions; i++)
		free(zone->regions[i].kva);
	zone->nr_regions = 0;
}

bool fz_zone_holds(const struct hvv_zone *zone, const void *p, u64 len)
{
	uintptr_t a = (uintptr_t)p;
	unsigned int i;

	for (i = 0; i < zone->nr_regions; i++) {
		uintptr_t b = (uintptr_t)zone->regions[i].kva;

		if (a >= b && a - b <= zone->regions[i].size &&
		    len <= zone->regions[i].size - (a - b))
			return true;
	}
	return false;
}

/* --- chains ------------------------------------------------------------------ */

void fz_chain_make(struct fz *f, struct hvv_chain *chain,
		   unsigned int max_out, unsigned int max_in)
{
	u64 out_len = 0, in_len = 0;
	unsigned int i, n;

	memset(chain, 0, sizeof(*chain));
	chain->nr_out = fz_u8(f) % (max_out + 1);
	chain->nr_in = fz_u8(f) % (max_in + 1);
	n = chain->nr_out + chain->nr_in;
	for (i = 0; i < n; i++) {
		struct hvv_seg *s = &chain->segs[i];
		u16 l = fz_u16(f);

		/* Mostly short; or even, up to 64 KiB (sectors fit). */
		s->len = l & 0x8000 ? 2 * ((l & 0x7fff) + 1) : 1 + l % 64;
		s->addr = malloc(s->len);
		HVV_CHECK(s->addr);
		s->gpa = 0x10000ULL * (i + 1);
		/* The first bytes from the input, the rest zero. */
		fz_bytes(f, s->addr, min_t(u32, s->len, 64));
		if (s->len > 64)
			memset((u8 *)s->addr + 64, 0, s->len - 64);
		if (i < chain->nr_out)
			out_len += s->len;
		else
			in_len += s->len;
	}
	chain->out_len = out_len;
	chain->in_len = in_len;
}

void fz_chain_free(struct hvv_chain *chain)
{
	unsigned int i;

	for (i = 0; i < (unsigned int)chain->nr_out + chain->nr_in; i++)
		free(chain->segs[i].addr);
	chain->nr_out = chain->nr_in = 0;
}

int fz_chain_seg(const struct hvv_chain *chain, const void *p, u64 len)
{
	uintptr_t a = (uintptr_t)p;
	unsigned int i;

	for (i = 0; i < (unsigned int)chain->nr_out + chain->nr_in; i++) {
		const struct hvv_seg *s = &chain->segs[i];
		uintptr_t b = (uintptr_t)s->addr;

		if (a >= b && a - b < s->len && len <= s->len - (a - b))
			return i;
	}
	return -1;
}

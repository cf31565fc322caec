// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueues, device side.
 *
 * The three rings live in zone RAM, mapped write-back and cache-coherent
 * with the guest, which runs on other physical CPUs and may rewrite them at
 * any time.  Every index is read once with READ_ONCE(), every descriptor is
 * copied once into a local before it is looked at, and only the copies are
 * validated and used.  All index arithmetic is done in u16 so that the free
 * running indices wrap as the driver's do.
 *
 * The barriers are the virt_*() flavour: the other side is a guest on CPUs
 * this kernel does not know about, so they must stay real barriers even in
 * a kernel built without SMP.
 *
 * Virtio 1.x rings are little-endian whatever the guest's byte order.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/printk.h>
#include <linux/string.h>
#include <linux/virtio_byteorder.h>
#include <asm/barrier.h>
#include <uapi/linux/virtio_mmio.h>

#include "hvv.h"
#include "vq.h"

static inline u16 vq_to_cpu16(__virtio16 v)
{
	return __virtio16_to_cpu(true, v);
}

static inline u32 vq_to_cpu32(__virtio32 v)
{
	return __virtio32_to_cpu(true, v);
}

static inline u64 vq_to_cpu64(__virtio64 v)
{
	return __virtio64_to_cpu(true, v);
}

static inline __virtio16 vq_from_cpu16(u16 v)
{
	return __cpu_to_virtio16(true, v);
}

static inline __virtio32 vq_from_cpu32(u32 v)
{
	return __cpu_to_virtio32(true, v);
}

/* used_event: written by the driver after the avail ring's entries. */
static inline __virtio16 *vq_used_event(struct hvv_vq *vq)
{
	return &vq->avail->ring[vq->size];
}

/* avail_event: written by us after the used ring's entries. */
static inline __virtio16 *vq_avail_event(struct hvv_vq *vq)
{
	return (__virtio16 *)&vq->used->ring[vq->size];
}

/* Map @len bytes of zone RAM at @gpa; NULL unless all of it is zone RAM. */
static void *vq_map(struct hvv_vq *vq, u64 gpa, u64 len)
{
	return hvv_zone_map(vq->dev->zone, gpa, len);
}

/*
 * The driver broke the ring protocol: stop popping from this queue and let
 * the core set DEVICE_NEEDS_RESET (it also logs, rate limited).
 */
static int vq_broken(struct hvv_vq *vq, const char *why)
{
	vq->broken = true;
	hvv_device_broken(vq->dev, why);
	return -EIO;
}

static void hvv_vq_work(struct kthread_work *work)
{
	struct hvv_vq *vq = container_of(work, struct hvv_vq, work);

	vq->dev->ops->handle_vq(vq);
}

/**
 * hvv_vq_init() - set up a queue once, when its device is created
 * @vq: the queue
 * @dev: its device
 * @index: its index in @dev->vqs
 *
 * Context: process context.
 */
void hvv_vq_init(struct hvv_vq *vq, struct hvv_device *dev,
		 unsigned int index)
{
	memset(vq, 0, sizeof(*vq));
	vq->dev = dev;
	vq->index = index;
	spin_lock_init(&vq->used_lock);
	hvv_vq_init_work(vq);
}

/**
 * hvv_vq_init_work() - make the queue's work item new
 * @vq: the queue, its work neither queued nor running
 *
 * A work item stays tied to the worker it last ran on; the core calls this
 * once that worker has ended, so that the next one may run it.
 */
void hvv_vq_init_work(struct hvv_vq *vq)
{
	kthread_init_work(&vq->work, hvv_vq_work);
}

/* Forget the rings; the caller holds @vq->used_lock. */
static void vq_clear_rings(struct hvv_vq *vq)
{
	vq->started = false;
	vq->size = 0;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->event_idx = false;
	vq->indirect = false;
	vq->last_avail_idx = 0;
	vq->avail_idx = 0;
	vq->broken = false;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_used_valid = false;
}

/**
 * hvv_vq_reset() - return a queue to its state after a device reset
 * @vq: the queue
 *
 * Clears the register fields and the ring state.  The device is quiesced:
 * no worker runs @vq and no completion will push to it.
 *
 * Context: process context, possibly under dev->lock; does not sleep.
 */
void hvv_vq_reset(struct hvv_vq *vq)
{
	unsigned long flags;

	vq->num = 0;
	vq->ready = false;
	vq->desc_gpa = 0;
	vq->avail_gpa = 0;
	vq->used_gpa = 0;
	vq->reset = false;
	vq->reset_pending = false;

	spin_lock_irqsave(&vq->used_lock, flags);
	vq_clear_rings(vq);
	spin_unlock_irqrestore(&vq->used_lock, flags);
}

/* Tell the driver whether we want to be notified of new buffers. */
static void vq_set_notify(struct hvv_vq *vq, bool enable)
{
	if (vq->event_idx) {
		/*
		 * Notify us when avail->idx moves past what we last saw.  That
		 * is what we consumed, unless chains were given back with
		 * hvv_vq_unpop() because they were not enough (net RX): then
		 * only new chains are worth a notify.
		 */
		if (enable)
			WRITE_ONCE(*vq_avail_event(vq),
				   vq_from_cpu16(vq->avail_idx));
		return;
	}
	WRITE_ONCE(vq->used->flags,
		   vq_from_cpu16(enable ? 0 : VRING_USED_F_NO_NOTIFY));
}

static int vq_bad_config(struct hvv_vq *vq, const char *why)
{
	pr_warn_ratelimited("zone %u device %u queue %u: %s\n",
			    vq->dev->zone->id, vq->dev->id, vq->index, why);
	return -EINVAL;
}

/**
 * hvv_vq_start() - check the queue registers and map the rings
 * @vq: the queue
 *
 * Validates what the driver wrote to the queue registers, maps the three
 * rings from zone RAM and starts the queue from index 0.
 *
 * Context: process context, dev->lock not held, the device quiesced.
 * Return: 0, or -EINVAL when the registers describe no usable queue.
 */
int hvv_vq_start(struct hvv_vq *vq)
{
	struct hvv_device *dev = vq->dev;
	u64 desc_gpa, avail_gpa, used_gpa, features;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	unsigned long flags;
	bool ready;
	u16 num;

	spin_lock_irq(&dev->lock);
	num = vq->num;
	ready = vq->ready;
	desc_gpa = vq->desc_gpa;
	avail_gpa = vq->avail_gpa;
	used_gpa = vq->used_gpa;
	features = dev->features;
	spin_unlock_irq(&dev->lock);

	if (!ready)
		return vq_bad_config(vq, "queue not ready");
	if (!is_power_of_2(num) || num > dev->ops->queue_max)
		return vq_bad_config(vq, "bad queue size");
	if (!IS_ALIGNED(desc_gpa, VRING_DESC_ALIGN_SIZE) ||
	    !IS_ALIGNED(avail_gpa, VRING_AVAIL_ALIGN_SIZE) ||
	    !IS_ALIGNED(used_gpa, VRING_USED_ALIGN_SIZE))
		return vq_bad_config(vq, "misaligned ring");

	/* The event words after each ring are part of it in virtio 1.x. */
	desc = vq_map(vq, desc_gpa, array_size(num, sizeof(*desc)));
	avail = vq_map(vq, avail_gpa, struct_size(avail, ring, num + 1));
	used = vq_map(vq, used_gpa, struct_size(used, ring, num) +
				    sizeof(__virtio16));
	if (!desc || !avail || !used)
		return vq_bad_config(vq, "ring outside zone RAM");

	spin_lock_irqsave(&vq->used_lock, flags);
	vq_clear_rings(vq);
	vq->size = num;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->event_idx = features & BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = features & BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
	vq_set_notify(vq, true);
	vq->started = true;
	spin_unlock_irqrestore(&vq->used_lock, flags);
	return 0;
}

/**
 * hvv_vq_stop() - forget the rings
 * @vq: the queue
 *
 * Context: process context; no worker runs @vq and no completion will
 * push to it any more.
 */
void hvv_vq_stop(struct hvv_vq *vq)
{
	unsigned long flags;

	spin_lock_irqsave(&vq->used_lock, flags);
	vq_clear_rings(vq);
	spin_unlock_irqrestore(&vq->used_lock, flags);
}

/*
 * Read avail->idx and remember it.  Returns the number of chains available
 * (0 .. size) or -EIO when the driver claims more than the ring holds.
 */
static int vq_fetch_avail_idx(struct hvv_vq *vq)
{
	u16 idx = vq_to_cpu16(READ_ONCE(vq->avail->idx));
	u16 n = idx - vq->last_avail_idx;

	if (n > vq->size)
		return vq_broken(vq, "avail index out of range");
	vq->avail_idx = idx;
	/*
	 * Read the ring entries below idx only after idx itself: pairs with
	 * the driver's write barrier between filling them and publishing idx.
	 */
	virt_rmb();
	return n;
}

/*
 * Walk the chain that starts at descriptor @head and fill @chain.  This is
 * the one place where descriptors are read and checked: each one is copied
 * once, and every decision is made on the copy.
 */
static int vq_walk(struct hvv_vq *vq, struct hvv_chain *chain, u16 head)
{
	const void *table = vq->desc;	/* the table being walked */
	unsigned int nr = vq->size;	/* its number of entries */
	unsigned int left = vq->size;	/* visits left before we call it a loop */
	unsigned int i = head;
	bool in_indirect = false;
	bool writable;
	u64 out_len = 0, in_len = 0;
	unsigned int nsegs = 0;
	struct vring_desc d;
	struct hvv_seg *seg;
	u16 flags;
	u64 addr;
	u32 len;

	chain->head = head;
	chain->nr_out = 0;
	chain->nr_in = 0;

	for (;;) {
		if (i >= nr)
			return vq_broken(vq, "descriptor index out of range");
		if (!left--)
			return vq_broken(vq, "descriptor chain loops");

		memcpy(&d, table + i * sizeof(d), sizeof(d));
		/* Use only the copy: the compiler must not read @table again. */
		barrier();
		flags = vq_to_cpu16(d.flags);
		addr = vq_to_cpu64(d.addr);
		len = vq_to_cpu32(d.len);

		if (flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return vq_broken(vq, "indirect descriptor not negotiated");
			if (in_indirect)
				return vq_broken(vq, "nested indirect descriptor");
			if (flags & VRING_DESC_F_NEXT)
				return vq_broken(vq, "indirect descriptor with next");
			if (!len || len % sizeof(d) ||
			    len / sizeof(d) > HVV_CHAIN_MAX_SEGS)
				return vq_broken(vq, "bad indirect table length");
			table = vq_map(vq, addr, len);
			if (!table)
				return vq_broken(vq, "indirect table outside zone RAM");
			in_indirect = true;
			nr = len / sizeof(d);
			left = nr;
			i = 0;
			continue;
		}

		/* Zero-length buffers carry nothing: skip them. */
		if (len) {
			writable = flags & VRING_DESC_F_WRITE;
			if (!writable && chain->nr_in)
				return vq_broken(vq, "readable descriptor after writable");
			if (nsegs == HVV_CHAIN_MAX_SEGS)
				return vq_broken(vq, "descriptor chain too long");
			seg = &chain->segs[nsegs++];
			seg->addr = vq_map(vq, addr, len);
			if (!seg->addr)
				return vq_broken(vq, "buffer outside zone RAM");
			seg->gpa = addr;
			seg->len = len;
			if (writable) {
				chain->nr_in++;
				in_len += len;
			} else {
				chain->nr_out++;
				out_len += len;
			}
		}

		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = vq_to_cpu16(d.next);
	}

	if (out_len > U32_MAX || in_len > U32_MAX)
		return vq_broken(vq, "descriptor chain longer than 4 GiB");
	chain->out_len = out_len;
	chain->in_len = in_len;
	return 0;
}

/**
 * hvv_vq_pop() - take the next available descriptor chain
 * @vq: the queue
 * @chain: filled with the chain's segments, readable ones first
 *
 * Context: the device's worker (one caller per queue at a time).
 * Return: 1 with @chain filled, 0 if no chain is available, -EIO if the
 * driver broke the ring protocol (the device is then marked broken and
 * every further pop fails until the queue is reset).
 */
int hvv_vq_pop(struct hvv_vq *vq, struct hvv_chain *chain)
{
	u16 head;
	int ret;

	if (unlikely(vq->broken))
		return -EIO;
	if (unlikely(!vq->started))
		return 0;

	if (vq->last_avail_idx == vq->avail_idx) {
		ret = vq_fetch_avail_idx(vq);
		if (ret <= 0)
			return ret;
	}

	head = vq_to_cpu16(READ_ONCE(vq->avail->ring[vq->last_avail_idx &
						     (vq->size - 1)]));
	ret = vq_walk(vq, chain, head);
	if (ret)
		return ret;
	vq->last_avail_idx++;
	return 1;
}

/**
 * hvv_chain_copy_out() - copy from the readable part of a popped chain
 * @chain: the chain
 * @off: where to start, in bytes from the start of its readable segments
 * @buf: where to copy to
 * @len: bytes to copy; the caller made sure the readable part holds
 *	@off + @len bytes
 *
 * Context: any context.
 */
void hvv_chain_copy_out(const struct hvv_chain *chain, u32 off, void *buf,
			u32 len)
{
	unsigned int i;

	for (i = 0; i < chain->nr_out && len; i++) {
		const struct hvv_seg *seg = &chain->segs[i];
		u32 n;

		if (off >= seg->len) {
			off -= seg->len;
			continue;
		}
		n = min(seg->len - off, len);
		memcpy(buf, seg->addr + off, n);
		buf += n;
		len -= n;
		off = 0;
	}
}

/**
 * hvv_vq_unpop() - give back the last chains popped
 * @vq: the queue
 * @n: how many; they are popped again, unchanged, by the next pops
 *
 * Context: the device's worker.
 */
void hvv_vq_unpop(struct hvv_vq *vq, unsigned int n)
{
	vq->last_avail_idx -= n;
	/*
	 * avail->idx may have been read again since these chains were
	 * popped.  A driver never has more chains available than the ring
	 * holds, the ones we give back included: one that claims more is
	 * broken, as vq_fetch_avail_idx() would have found had it looked
	 * from here.  Without this, the next pops would take more chains
	 * than the ring has.
	 */
	if ((u16)(vq->avail_idx - vq->last_avail_idx) > vq->size)
		vq_broken(vq, "avail index out of range");
}

/**
 * hvv_vq_push() - return a chain to the driver through the used ring
 * @vq: the queue
 * @head: the chain's head, as popped
 * @len: bytes written into the chain's writable segments
 *
 * Publishes the used entry but raises no interrupt: call hvv_vq_signal()
 * once after a batch.  Does nothing while the queue is stopped.
 *
 * Context: any context.
 */
void hvv_vq_push(struct hvv_vq *vq, u16 head, u32 len)
{
	struct vring_used_elem *elem;
	unsigned long flags;

	spin_lock_irqsave(&vq->used_lock, flags);
	if (vq->started) {
		elem = &vq->used->ring[vq->used_idx & (vq->size - 1)];
		WRITE_ONCE(elem->id, vq_from_cpu32(head));
		WRITE_ONCE(elem->len, vq_from_cpu32(len));
		/*
		 * The entry before the index that covers it: pairs with the
		 * driver's read barrier between reading used->idx and reading
		 * the entries below it.
		 */
		virt_wmb();
		vq->used_idx++;
		WRITE_ONCE(vq->used->idx, vq_from_cpu16(vq->used_idx));
	}
	spin_unlock_irqrestore(&vq->used_lock, flags);
}

/**
 * hvv_vq_signal() - interrupt the driver if it wants to hear of new used
 *	entries
 * @vq: the queue
 *
 * Looks at what was pushed since the last call and at the driver's
 * suppression state (used_event with EVENT_IDX, else the avail ring's
 * NO_INTERRUPT flag) and raises the queue interrupt if needed.
 *
 * Context: any context.
 */
void hvv_vq_signal(struct hvv_vq *vq)
{
	unsigned long flags;
	bool need = false;
	u16 new, old;

	spin_lock_irqsave(&vq->used_lock, flags);
	if (!vq->started)
		goto out;
	new = vq->used_idx;
	old = vq->signalled_used;
	/*
	 * Nothing pushed since the last look: nothing to tell.  Before the
	 * first interrupt both are 0 (vq_clear_rings()), so a queue that
	 * never used a buffer raises none either.
	 */
	if (new == old)
		goto out;
	/*
	 * Our used->idx stores (made under used_lock) must be visible before
	 * we read the driver's suppression state: pairs with the driver's
	 * full barrier between writing used_event or clearing
	 * NO_INTERRUPT and re-reading used->idx.
	 */
	virt_mb();
	if (!vq->signalled_used_valid)
		need = true;
	else if (vq->event_idx)
		need = vring_need_event(vq_to_cpu16(READ_ONCE(*vq_used_event(vq))),
					new, old);
	else
		need = !(vq_to_cpu16(READ_ONCE(vq->avail->flags)) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	/*
	 * Entries up to @new have been offered to the driver, whether or not
	 * it wanted an interrupt for them: the next decision is about what
	 * comes after (the driver re-reads used->idx after moving used_event
	 * or clearing NO_INTERRUPT, so it cannot miss them).
	 */
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
out:
	spin_unlock_irqrestore(&vq->used_lock, flags);

	/* Outside used_lock: the core takes dev->lock, which nests outside. */
	if (need)
		hvv_device_interrupt(vq->dev, VIRTIO_MMIO_INT_VRING);
}

/**
 * hvv_vq_disable_notify() - ask the driver not to notify us
 * @vq: the queue
 *
 * A hint only: the driver may notify anyway.  With EVENT_IDX nothing is
 * written; avail_event stays where hvv_vq_enable_notify() put it, so the
 * driver notifies at most once more.
 *
 * Context: the device's worker.
 */
void hvv_vq_disable_notify(struct hvv_vq *vq)
{
	if (vq->started)
		vq_set_notify(vq, false);
}

/**
 * hvv_vq_enable_notify() - ask the driver to notify us of new chains
 * @vq: the queue
 *
 * Call when hvv_vq_pop() found nothing, or when the chains it found were
 * not enough and were given back with hvv_vq_unpop().  Chains made
 * available before the driver saw the request would never be notified,
 * so this checks again.
 *
 * Context: the device's worker.
 * Return: true if chains were made available since the last look at the
 * avail ring (or the ring is broken): the caller must pop again.
 */
bool hvv_vq_enable_notify(struct hvv_vq *vq)
{
	u16 seen = vq->avail_idx;

	if (!vq->started || vq->broken)
		return false;
	vq_set_notify(vq, true);
	/*
	 * The request must be visible before we re-read avail->idx: pairs
	 * with the driver's full barrier between publishing avail->idx and
	 * reading used->flags or avail_event.
	 */
	virt_mb();
	return vq_fetch_avail_idx(vq) < 0 || vq->avail_idx != seen;
}

/**
 * hvv_vq_pop_or_wait() - the next chain, or notifications turned back on
 * @vq: the queue, notifications disabled by the caller
 * @chain: as for hvv_vq_pop()
 *
 * hvv_vq_pop(); when the ring is empty, notifications are enabled again
 * and the ring looked at once more (hvv_vq_enable_notify()), so that a
 * chain made available meanwhile is not left waiting for a kick that
 * will not come.
 *
 * Context: the device's worker.
 * Return: as hvv_vq_pop(): 1 with a chain (notifications still
 * disabled), 0 when there is none (notifications enabled), or a negative
 * errno when the ring is broken.
 */
int hvv_vq_pop_or_wait(struct hvv_vq *vq, struct hvv_chain *chain)
{
	int ret;

	for (;;) {
		ret = hvv_vq_pop(vq, chain);
		if (ret)
			return ret;
		if (!hvv_vq_enable_notify(vq))
			return 0;
		hvv_vq_disable_notify(vq);
	}
}

/**
 * hvv_vq_driver_idle() - has the driver finished with the queue for now?
 * @vq: the queue
 *
 * True when the driver has taken every used entry we published, asked to
 * be interrupted at the next one, and made nothing available since we
 * last read avail->idx: it will not touch the ring again before we do.
 * Only EVENT_IDX tells (through used_event); without it this is false.
 *
 * Context: the device's worker.
 */
bool hvv_vq_driver_idle(struct hvv_vq *vq)
{
	u16 event;

	if (!vq->started || vq->broken || !vq->event_idx)
		return false;
	event = vq_to_cpu16(READ_ONCE(*vq_used_event(vq)));
	if (event != READ_ONCE(vq->used_idx))
		return false;
	/*
	 * The driver moves used_event at the end of a pass that may have
	 * posted buffers: read avail->idx after used_event, so that a pass
	 * seen ending is seen whole.  Pairs with the driver's barrier between
	 * publishing avail->idx and moving used_event.
	 */
	virt_rmb();
	return vq_to_cpu16(READ_ONCE(vq->avail->idx)) == vq->avail_idx;
}

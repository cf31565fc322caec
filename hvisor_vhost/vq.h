/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueues, device side.
 *
 * Every guest value is hostile: the rings live in zone RAM and change under
 * our feet.  Each descriptor is copied out of guest memory once and only the
 * copy is validated and used (no double fetch).  Any violation of the ring
 * protocol marks the device DEVICE_NEEDS_RESET (hvv_device_broken()) and
 * stops the queue; it never reaches BUG_ON/WARN_ON.
 */
#ifndef HVISOR_VHOST_VQ_H
#define HVISOR_VHOST_VQ_H

#include <linux/kthread.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <uapi/linux/virtio_ring.h>

struct hvv_device;

/* Longest chain accepted, counting the descriptors of an indirect table. */
#define HVV_CHAIN_MAX_SEGS	256

/**
 * struct hvv_seg - one guest buffer of a chain
 * @addr: kernel mapping of the whole buffer (checked by hvv_zone_map)
 * @gpa: its guest-physical address
 * @len: its length (> 0 bytes; zero-length descriptors are skipped)
 */
struct hvv_seg {
	void *addr;
	u64 gpa;
	u32 len;
};

/**
 * struct hvv_chain - a descriptor chain popped from the avail ring
 * @head: head descriptor index, to give back with hvv_vq_push()
 * @nr_out: device-readable segments: @segs[0 .. nr_out - 1]
 * @nr_in: device-writable segments: @segs[nr_out .. nr_out + nr_in - 1]
 * @out_len: total bytes of the readable segments
 * @in_len: total bytes of the writable segments
 * @segs: the segments, readable ones first (the iterator refuses a
 *	readable descriptor after a writable one)
 */
struct hvv_chain {
	u16 head;
	u16 nr_out;
	u16 nr_in;
	u32 out_len;
	u32 in_len;
	struct hvv_seg segs[HVV_CHAIN_MAX_SEGS];
};

/**
 * struct hvv_vq - one split virtqueue
 * @dev: owning device
 * @index: queue index
 * @num: (register) QueueNum; 0 until the driver sets it
 * @ready: (register) QueueReady
 * @desc_gpa: (register) QueueDesc
 * @avail_gpa: (register) QueueDriver
 * @used_gpa: (register) QueueDevice
 * @reset: the queue was reset on its own (VIRTIO_F_RING_RESET) and not
 *	enabled again yet: QueueReady may be set after DRIVER_OK
 * @reset_pending: (register) QueueReset: a queue reset the driver asked
 *	for is still being carried out
 * @started: the rings below are mapped; set and cleared in process context
 *	by hvv_vq_start()/hvv_vq_stop() while no worker runs this queue
 * @size: ring size fixed at start (copy of @num)
 * @desc: descriptor table in zone RAM
 * @avail: available ring in zone RAM
 * @used: used ring in zone RAM
 * @event_idx: VIRTIO_RING_F_EVENT_IDX negotiated
 * @indirect: VIRTIO_RING_F_INDIRECT_DESC negotiated
 * @last_avail_idx: next avail entry to consume (worker only)
 * @avail_idx: last value read from avail->idx (worker only)
 * @broken: the driver broke the ring protocol; pops fail with -EIO until
 *	hvv_vq_reset() or hvv_vq_start() (worker only)
 * @used_lock: serialises producers of the used ring (any context)
 * @used_idx: next used index to publish (under @used_lock)
 * @signalled_used: used index at the last interrupt (under @used_lock)
 * @signalled_used_valid: @signalled_used means something
 * @work: runs dev->ops->handle_vq on @worker
 * @worker: the worker that runs @work; NULL for the device's.  A device
 *	type may set it in its start op (before any kick), to a worker of its
 *	own that it destroys in its stop op
 * @priv: the device type's per-queue data
 */
struct hvv_vq {
	struct hvv_device *dev;
	unsigned int index;

	u16 num;
	bool ready;
	u64 desc_gpa;
	u64 avail_gpa;
	u64 used_gpa;
	bool reset;
	bool reset_pending;

	bool started;
	u16 size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	bool event_idx;
	bool indirect;

	u16 last_avail_idx;
	u16 avail_idx;
	bool broken;

	spinlock_t used_lock;	/* used ring producers, any context */
	u16 used_idx;
	u16 signalled_used;
	bool signalled_used_valid;

	struct kthread_work work;
	struct kthread_worker *worker;
	void *priv;
};

void hvv_vq_init(struct hvv_vq *vq, struct hvv_device *dev,
		 unsigned int index);
void hvv_vq_reset(struct hvv_vq *vq);
void hvv_vq_init_work(struct hvv_vq *vq);
int hvv_vq_start(struct hvv_vq *vq);
void hvv_vq_stop(struct hvv_vq *vq);
int hvv_vq_pop(struct hvv_vq *vq, struct hvv_chain *chain);
void hvv_chain_copy_out(const struct hvv_chain *chain, u32 off, void *buf,
			u32 len);
void hvv_vq_unpop(struct hvv_vq *vq, unsigned int n);
void hvv_vq_push(struct hvv_vq *vq, u16 head, u32 len);
void hvv_vq_signal(struct hvv_vq *vq);
bool hvv_vq_enable_notify(struct hvv_vq *vq);
int hvv_vq_pop_or_wait(struct hvv_vq *vq, struct hvv_chain *chain);
bool hvv_vq_driver_idle(struct hvv_vq *vq);
void hvv_vq_disable_notify(struct hvv_vq *vq);

#endif /* HVISOR_VHOST_VQ_H */

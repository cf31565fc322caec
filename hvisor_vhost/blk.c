// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk on a block device of the root zone, with asynchronous bios.
 *
 * The device's worker pops descriptor chains, copies each request header
 * out of guest memory once, validates the copy and turns the request into
 * one or more bios, many requests in flight and every bio of one pass under
 * one plug.  The bio completion (hard IRQ, softirq or a thread) writes the
 * status byte, returns the chain through the used ring and signals the
 * guest itself; nothing hops back to a thread unless asked to.
 *
 * Guest data goes into the bios without a copy when it lies in root RAM with
 * struct pages and meets the queue's alignment; otherwise it is bounced
 * through pages of root's own: copied in before a write is submitted,
 * copied out when a read completes.
 *
 * A hostile guest cannot make root allocate without bound: requests in
 * flight are capped per queue (by the queue size: a request slot is taken
 * before a chain is popped), and the data and the bounce memory in flight
 * are capped per device.  A queue that hits a cap stops popping; the next
 * completion queues its work again.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/build_bug.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <uapi/linux/virtio_blk.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ids.h>

#include "blk_compat.h"
#include "blk_req.h"
#include "hvv.h"
#include "vq.h"

/* QueueNumMax: a power of two, also the cap of requests in flight. */
#define HVV_BLK_QUEUE_MAX	256
/* Chains popped per run of the queue's work before yielding the worker. */
#define HVV_BLK_BATCH		64
/* Bounced reads larger than this are copied out in the worker, not in IRQ. */
#define HVV_BLK_IRQ_COPY_MAX	SZ_64K
/* Bios kept in reserve by the device's bio_set. */
#define HVV_BLK_BIO_POOL	16

/* What a request's bios do, for the completion. */
enum hvv_blk_op {
	HVV_BLK_OP_DATA,	/* read or write, also emulated write zeroes */
	HVV_BLK_OP_FLUSH,
	HVV_BLK_OP_DISCARD,
	HVV_BLK_OP_ZEROES,
};

static bool blk_complete_in_worker;
module_param(blk_complete_in_worker, bool, 0644);
MODULE_PARM_DESC(blk_complete_in_worker,
		 "virtio-blk: finish requests in the device's worker instead of in the bio completion");

static bool blk_force_bounce;
module_param(blk_force_bounce, bool, 0644);
MODULE_PARM_DESC(blk_force_bounce,
		 "virtio-blk: bounce all guest data, even where it could be mapped into bios");

static unsigned int blk_max_inflight_kb = 64 * 1024;
module_param(blk_max_inflight_kb, uint, 0644);
MODULE_PARM_DESC(blk_max_inflight_kb,
		 "virtio-blk: data in flight per device, KiB (one request is always let through)");

static unsigned int blk_max_bounce_kb = 16 * 1024;
module_param(blk_max_bounce_kb, uint, 0644);
MODULE_PARM_DESC(blk_max_bounce_kb,
		 "virtio-blk: bounce memory per device, KiB (one request is always let through)");

/*
 * Config space, virtio 1.x layout up to the write-zeroes fields,
 * little-endian.  Our own copy of the layout so that field names and
 * availability do not depend on the kernel headers we build against.
 */
struct hvv_blk_config {
	__le64 capacity;
	__le32 size_max;
	__le32 seg_max;
	__le16 cylinders;
	u8 heads;
	u8 sectors;
	__le32 blk_size;
	u8 physical_block_exp;
	u8 alignment_offset;
	__le16 min_io_size;
	__le32 opt_io_size;
	u8 writeback;
	u8 unused0;
	__le16 num_queues;
	__le32 max_discard_sectors;
	__le32 max_discard_seg;
	__le32 discard_sector_alignment;
	__le32 max_write_zeroes_sectors;
	__le32 max_write_zeroes_seg;
	u8 write_zeroes_may_unmap;
	u8 unused1[3];
} __packed;

static_assert(offsetof(struct hvv_blk_config, blk_size) ==
	      offsetof(struct virtio_blk_config, blk_size));
static_assert(offsetof(struct hvv_blk_config, writeback) ==
	      offsetof(struct virtio_blk_config, wce));
static_assert(offsetof(struct hvv_blk_config, num_queues) ==
	      offsetof(struct virtio_blk_config, num_queues));
static_assert(offsetof(struct hvv_blk_config, max_discard_sectors) ==
	      offsetof(struct virtio_blk_config, max_discard_sectors));
static_assert(offsetof(struct hvv_blk_config, write_zeroes_may_unmap) ==
	      offsetof(struct virtio_blk_config, write_zeroes_may_unmap));
static_assert(sizeof(struct hvv_blk_config) ==
	      offsetofend(struct virtio_blk_config, unused1));

static_assert(sizeof(struct hvv_blk_hdr) == sizeof(struct virtio_blk_outhdr));

static_assert(sizeof(struct hvv_blk_range) ==
	      sizeof(struct virtio_blk_discard_write_zeroes));
static_assert(HVV_MAX_QUEUES <= BITS_PER_LONG);

struct hvv_blk;
struct hvv_blk_queue;

/**
 * struct hvv_blk_req - one request in flight
 * @q: its queue
 * @free_node: entry in @q->free while the slot is unused (blk->lock)
 * @done_node: entry in @q->done while it waits for the worker to finish it
 * @pending: bios in flight, plus one held by the submitter
 * @error: a bio failed
 * @notsupp: a bio failed because the device does not do the operation
 * @op: enum hvv_blk_op
 * @head: the chain's head
 * @is_read: a VIRTIO_BLK_T_IN request
 * @status: the guest's status byte (last writable byte of the chain)
 * @data_len: payload bytes
 * @sector: first sector of a write-zeroes range, to write it by hand
 * @nr_sectors: its length
 * @wz_unmap: the write-zeroes may unmap
 * @charged_data: charged to blk->data_inflight
 * @charged_bounce: charged to blk->bounce_inflight
 * @pages: bounce pages, in payload order (linked through page->lru)
 * @pieces: where a bounced read goes in guest memory
 * @nr_pieces: entries in @pieces
 */
struct hvv_blk_req {
	struct hvv_blk_queue *q;
	struct list_head free_node;
	struct llist_node done_node;
	atomic_t pending;
	bool error;
	bool notsupp;
	u8 op;
	u16 head;
	bool is_read;
	u8 *status;
	u32 data_len;
	u64 sector;
	u32 nr_sectors;
	bool wz_unmap;
	u32 charged_data;
	u32 charged_bounce;
	struct list_head pages;
	struct hvv_blk_piece *pieces;
	unsigned int nr_pieces;
};

/**
 * struct hvv_blk_queue - per-queue state
 * @blk: the device
 * @vq: the virtqueue (set at start)
 * @index: queue index
 * @chain: where hvv_vq_pop() puts a chain (allocated at start)
 * @pieces: scratch list of payload runs of the request being parsed
 * @reqs: request slots, one per ring entry (allocated at start)
 * @free: unused slots (blk->lock)
 * @done: requests completed, to be finished by @done_work
 * @done_work: finishes @done on @worker
 * @worker: runs the queue's work and @done_work: the device's worker for
 *	queue 0, one of the queue's own for the others (set at start)
 */
struct hvv_blk_queue {
	struct hvv_blk *blk;
	struct hvv_vq *vq;
	unsigned int index;
	struct hvv_chain *chain;
	struct hvv_blk_piece *pieces;
	struct hvv_blk_req *reqs;
	struct list_head free;
	struct llist_head done;
	struct kthread_work done_work;
	struct kthread_worker *worker;
};

/**
 * struct hvv_blk - a virtio-blk device
 * @dev: the core's device
 * @bdev: the backing block device, opened exclusively
 * @bs: bios for data and flushes
 * @config: config space (dev->config points here)
 * @capacity: size in 512-byte sectors
 * @lbs: logical block size
 * @map_align: alignment of address and length a payload run needs to go
 *	into a bio without a bounce
 * @max_discard: discard limit per range, sectors (0: no discard)
 * @max_write_zeroes: write-zeroes limit per range, sectors (0: none)
 * @ro: read-only
 * @stable_writes: the queue wants data not to change during a write
 * @wz_refused: variants of write-zeroes (BIT(unmap allowed)) the device
 *	refused although it claims to support them: we write zero pages
 *	for those from now on (worker only)
 * @flags: HVISOR_VHOST_BLK_F_* as created
 * @serial: GET_ID answer
 * @nr_queues: number of virtqueues
 * @queues: per-queue state
 * @lock: protects the fields below and every queue's free list
 * @stopping: stop() runs or ran: take no new request, queue no work
 * @inflight: request slots taken, on every queue
 * @throttled: queues that stopped popping for lack of a slot or budget
 * @data_inflight: payload bytes in flight
 * @bounce_inflight: bounce bytes allocated
 * @idle: stop() waits here for @inflight to drop to 0
 */
struct hvv_blk {
	struct hvv_device *dev;
	struct hvv_bdev bdev;
	struct bio_set bs;
	struct hvv_blk_config config;
	u64 capacity;
	unsigned int lbs;
	unsigned int map_align;
	u32 max_discard;
	u32 max_write_zeroes;
	bool ro;
	bool stable_writes;
	u8 wz_refused;
	u32 flags;
	char serial[HVISOR_VHOST_BLK_SERIAL_LEN];
	unsigned int nr_queues;
	struct hvv_blk_queue *queues;

	spinlock_t lock;	/* see the fields below */
	bool stopping;
	unsigned int inflight;
	unsigned long throttled;
	u64 data_inflight;
	u64 bounce_inflight;
	wait_queue_head_t idle;
};

static struct block_device *hvv_blk_bdev(const struct hvv_blk *blk)
{
	return blk->bdev.bdev;
}

/* Queue @q's work again.  Caller holds blk->lock. */
static void hvv_blk_kick_locked(struct hvv_blk_queue *q)
{
	if (!q->blk->stopping)
		kthread_queue_work(q->worker, &q->vq->work);
}

/*
 * Take a request slot before popping a chain, so that a chain is only
 * popped when it can be processed.  On failure the queue is throttled and
 * the next completion queues its work again.
 */
static struct hvv_blk_req *hvv_blk_get_req(struct hvv_blk_queue *q)
{
	struct hvv_blk *blk = q->blk;
	struct hvv_blk_req *req = NULL;

	spin_lock_irq(&blk->lock);
	if (blk->stopping)
		goto out;
	req = list_first_entry_or_null(&q->free, struct hvv_blk_req,
				       free_node);
	if (!req) {
		blk->throttled |= BIT(q->index);
		goto out;
	}
	list_del(&req->free_node);
	blk->inflight++;
out:
	spin_unlock_irq(&blk->lock);
	return req;
}

/*
 * Give a slot back and, if @kick_waiters, requeue the queues that wait
 * for one.
 * Last thing a completion does: once blk->inflight drops to 0, stop() may
 * return and the device be freed, so nothing of the device may be touched
 * after the unlock.
 */
static void hvv_blk_put_req(struct hvv_blk_req *req, bool kick_waiters)
{
	struct hvv_blk_queue *q = req->q;
	struct hvv_blk *blk = q->blk;
	unsigned long flags, kick;
	unsigned int i;

	spin_lock_irqsave(&blk->lock, flags);
	blk->data_inflight -= req->charged_data;
	blk->bounce_inflight -= req->charged_bounce;
	req->charged_data = 0;
	req->charged_bounce = 0;
	list_add(&req->free_node, &q->free);
	if (kick_waiters) {
		kick = blk->throttled;
		blk->throttled = 0;
		for_each_set_bit(i, &kick, blk->nr_queues)
			hvv_blk_kick_locked(&blk->queues[i]);
	}
	if (!--blk->inflight && blk->stopping)
		wake_up(&blk->idle);
	spin_unlock_irqrestore(&blk->lock, flags);
}

/*
 * Charge a request's payload and bounce memory to the device's budgets.
 * When nothing is in flight a request always gets through, whatever its
 * size, so a queue cannot throttle itself for good.
 */
static bool hvv_blk_charge(struct hvv_blk_req *req, u32 data, u32 bounce)
{
	struct hvv_blk_queue *q = req->q;
	struct hvv_blk *blk = q->blk;
	u64 max_data = (u64)READ_ONCE(blk_max_inflight_kb) * SZ_1K;
	u64 max_bounce = (u64)READ_ONCE(blk_max_bounce_kb) * SZ_1K;
	bool ok = false;

	spin_lock_irq(&blk->lock);
	if (blk->data_inflight && blk->data_inflight + data > max_data)
		goto out;
	if (bounce && blk->bounce_inflight &&
	    blk->bounce_inflight + bounce > max_bounce)
		goto out;
	blk->data_inflight += data;
	blk->bounce_inflight += bounce;
	req->charged_data = data;
	req->charged_bounce = bounce;
	ok = true;
out:
	if (!ok)
		blk->throttled |= BIT(q->index);
	spin_unlock_irq(&blk->lock);
	return ok;
}

/*
 * Return a chain to the guest: status byte, used entry, counters, and the
 * interrupt if @signal.  Any context.
 */
static void hvv_blk_finish(struct hvv_blk_req *req, u8 status, u32 used_len,
			   u32 bytes, bool signal)
{
	struct hvv_vq *vq = req->q->vq;
	struct hvv_device *dev = vq->dev;

	/* Ordered before the used index by the barrier in hvv_vq_push(). */
	WRITE_ONCE(*req->status, status);
	hvv_vq_push(vq, req->head, used_len);
	atomic64_inc(&dev->stats.requests);
	if (status == VIRTIO_BLK_S_OK)
		atomic64_add(bytes, &dev->stats.bytes);
	else
		atomic64_inc(&dev->stats.errors);
	atomic_dec(&dev->stats.inflight);
	if (signal)
		hvv_vq_signal(vq);
	hvv_blk_put_req(req, true);
}

/* Copy between the bounce pages of @req and the guest runs in @p. */
static void hvv_blk_bounce_copy(struct hvv_blk_req *req,
				const struct hvv_blk_piece *p,
				unsigned int nr, bool to_guest)
{
	struct page *page = list_first_entry(&req->pages, struct page, lru);
	unsigned int i, poff = 0;
	u32 left = req->data_len;

	for (i = 0; i < nr && left; i++) {
		void *addr = p[i].addr;
		u32 len = min(p[i].len, left);

		left -= len;
		while (len) {
			unsigned int n = min_t(u32, len, PAGE_SIZE - poff);
			void *b = page_address(page) + poff;

			if (to_guest)
				memcpy(addr, b, n);
			else
				memcpy(b, addr, n);
			addr += n;
			len -= n;
			poff += n;
			if (poff == PAGE_SIZE) {
				page = list_next_entry(page, lru);
				poff = 0;
			}
		}
	}
}

static void hvv_blk_free_bounce(struct hvv_blk_req *req)
{
	struct page *page, *tmp;

	list_for_each_entry_safe(page, tmp, &req->pages, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	kfree(req->pieces);
	req->pieces = NULL;
	req->nr_pieces = 0;
}

/* All bios of @req are done: copy a bounced read out and finish. */
static void hvv_blk_finish_io(struct hvv_blk_req *req, bool signal)
{
	bool ok = !READ_ONCE(req->error);
	u8 status = VIRTIO_BLK_S_IOERR;

	if (ok && req->is_read && req->pieces)
		hvv_blk_bounce_copy(req, req->pieces, req->nr_pieces, true);
	hvv_blk_free_bounce(req);
	if (ok) {
		hvv_blk_finish(req, VIRTIO_BLK_S_OK,
			       req->is_read ? req->data_len + 1 : 1,
			       req->data_len, signal);
		return;
	}
	/* A device that cannot discard: tell the guest, not an I/O error. */
	if (req->op == HVV_BLK_OP_DISCARD && READ_ONCE(req->notsupp))
		status = VIRTIO_BLK_S_UNSUPP;
	hvv_blk_finish(req, status, 1, 0, signal);
}

static void hvv_blk_zero_write(struct hvv_blk_req *req);

/*
 * A write-zeroes the device refused although it announces the operation
 * (a loop device over a file system without FALLOC_FL_ZERO_RANGE refuses
 * the variant that must not unmap): write the zeroes by hand, and from now
 * on for every request of that variant.  Worker context.
 */
static bool hvv_blk_wz_refused(struct hvv_blk_req *req)
{
	struct hvv_blk *blk = req->q->blk;
	u8 variant = BIT(req->wz_unmap);

	if (req->op != HVV_BLK_OP_ZEROES || !READ_ONCE(req->notsupp))
		return false;
	if (!(blk->wz_refused & variant)) {
		WRITE_ONCE(blk->wz_refused, blk->wz_refused | variant);
		pr_info_ratelimited("zone %u dev %u: device refuses write-zeroes%s, writing zero pages\n",
				    blk->dev->zone->id, blk->dev->id,
				    req->wz_unmap ? "" : " without unmap");
	}
	hvv_blk_zero_write(req);
	return true;
}

/* The worker finishes what completions handed over. */
static void hvv_blk_done_work(struct kthread_work *work)
{
	struct hvv_blk_queue *q = container_of(work, struct hvv_blk_queue,
					       done_work);
	struct hvv_blk_req *req, *tmp;
	struct llist_node *list;

	list = llist_reverse_order(llist_del_all(&q->done));
	if (!list)
		return;
	llist_for_each_entry_safe(req, tmp, list, done_node)
		if (!hvv_blk_wz_refused(req))
			hvv_blk_finish_io(req, false);
	/*
	 * The requests above may have been the last ones stop() waited for;
	 * it flushes this work before the queue goes away.
	 */
	hvv_vq_signal(q->vq);
}

/* Drop a reference on @req; the last one finishes it.  Any context. */
static void hvv_blk_req_put_io(struct hvv_blk_req *req)
{
	struct hvv_blk_queue *q = req->q;
	bool defer;

	if (!atomic_dec_and_test(&req->pending))
		return;
	/*
	 * Finish right here, in whatever context the last bio completed,
	 * unless asked to hop to the worker, unless a large bounced read
	 * would make an interrupt handler copy for too long, or unless a
	 * refused write-zeroes must be redone with bios allocated in process
	 * context.
	 */
	defer = READ_ONCE(blk_complete_in_worker) ||
		(req->pieces && req->data_len > HVV_BLK_IRQ_COPY_MAX &&
		 !in_task()) ||
		(req->op == HVV_BLK_OP_ZEROES && READ_ONCE(req->notsupp));
	if (!defer) {
		hvv_blk_finish_io(req, true);
		return;
	}
	if (llist_add(&req->done_node, &q->done))
		kthread_queue_work(q->worker, &q->done_work);
}

static void hvv_blk_bio_end(struct bio *bio)
{
	struct hvv_blk_req *req = bio->bi_private;

	if (bio->bi_status == BLK_STS_NOTSUPP) {
		WRITE_ONCE(req->notsupp, true);
		WRITE_ONCE(req->error, true);
	} else if (bio->bi_status) {
		WRITE_ONCE(req->error, true);
		pr_err_ratelimited("zone %u dev %u: I/O error %d\n",
				   req->q->blk->dev->zone->id,
				   req->q->blk->dev->id,
				   blk_status_to_errno(bio->bi_status));
	}
	bio_put(bio);
	hvv_blk_req_put_io(req);
}

/* Get @req ready for its bios; the caller holds the first reference. */
static void hvv_blk_req_begin(struct hvv_blk_req *req, enum hvv_blk_op op)
{
	req->op = op;
	req->error = false;
	req->notsupp = false;
	atomic_set(&req->pending, 1);
}

static void hvv_blk_submit_bio(struct hvv_blk_req *req, struct bio *bio)
{
	bio->bi_end_io = hvv_blk_bio_end;
	bio->bi_private = req;
	atomic_inc(&req->pending);
	submit_bio(bio);
}

/**
 * struct hvv_blk_builder - turns a request's payload into bios
 * @req: the request
 * @opf: operation and flags of every bio
 * @sector: first sector of the payload
 * @done: payload bytes already in bios
 * @vecs_left: upper bound of the bio_vecs still needed
 * @bio: the bio being filled
 */
struct hvv_blk_builder {
	struct hvv_blk_req *req;
	blk_opf_t opf;
	sector_t sector;
	u64 done;
	unsigned int vecs_left;
	struct bio *bio;
};

/*
 * Add a page range.  A full bio is submitted and a new one started; the
 * callers only add ranges whose boundaries are multiples of the logical
 * block size within the payload, so every bio is a whole number of blocks.
 */
static void hvv_blk_add_page(struct hvv_blk_builder *b, struct page *page,
			     unsigned int len, unsigned int off)
{
	struct hvv_blk *blk = b->req->q->blk;

	if (!b->bio || bio_add_page(b->bio, page, len, off) != len) {
		if (b->bio)
			hvv_blk_submit_bio(b->req, b->bio);
		/* From a mempool: waits, never fails. */
		b->bio = hvv_bio_alloc(hvv_blk_bdev(blk),
				       clamp_t(unsigned int, b->vecs_left,
					       1, BIO_MAX_VECS),
				       b->opf, GFP_NOIO, &blk->bs);
		b->bio->bi_iter.bi_sector = b->sector +
					    (b->done >> SECTOR_SHIFT);
		__bio_add_page(b->bio, page, len, off);
	}
	b->done += len;
	if (b->vecs_left)
		b->vecs_left--;
}

static void hvv_blk_build_mapped(struct hvv_blk_builder *b,
				 const struct hvv_blk_piece *p,
				 unsigned int nr)
{
	unsigned int i;

	b->vecs_left = 0;
	for (i = 0; i < nr; i++)
		b->vecs_left += DIV_ROUND_UP(offset_in_page(p[i].addr) +
					     p[i].len, PAGE_SIZE);
	for (i = 0; i < nr; i++) {
		void *addr = p[i].addr;
		u32 len = p[i].len;

		while (len) {
			unsigned int off = offset_in_page(addr);
			unsigned int n = min_t(u32, len, PAGE_SIZE - off);

			hvv_blk_add_page(b, virt_to_page(addr), n, off);
			addr += n;
			len -= n;
		}
	}
}

static void hvv_blk_build_bounce(struct hvv_blk_builder *b)
{
	struct hvv_blk_req *req = b->req;
	u32 left = req->data_len;
	struct page *page;

	b->vecs_left = DIV_ROUND_UP(left, PAGE_SIZE);
	list_for_each_entry(page, &req->pages, lru) {
		unsigned int n = min_t(u32, left, PAGE_SIZE);

		hvv_blk_add_page(b, page, n, 0);
		left -= n;
	}
}

/*
 * Can the payload go into bios as it is?  It needs struct pages (root RAM
 * in the linear map), and every run must start and end on a logical block
 * (which also meets the queue's DMA alignment) so that a bio can be cut at
 * any page or run boundary and still be whole blocks.
 */
static bool hvv_blk_can_map(const struct hvv_blk *blk,
			    const struct hvv_blk_piece *p, unsigned int nr,
			    bool is_read)
{
	unsigned int i;

	if (READ_ONCE(blk_force_bounce))
		return false;
	/* The guest could change the data under a checksum or parity. */
	if (!is_read && blk->stable_writes)
		return false;
	for (i = 0; i < nr; i++) {
		unsigned long a = (unsigned long)p[i].addr;

		if (!IS_ALIGNED(a | p[i].len, blk->map_align))
			return false;
		if (!virt_addr_valid(p[i].addr) ||
		    !virt_addr_valid(p[i].addr + p[i].len - 1))
			return false;
	}
	return true;
}

static int hvv_blk_alloc_bounce(struct hvv_blk_req *req, u32 len)
{
	unsigned int i, nr = DIV_ROUND_UP(len, PAGE_SIZE);
	struct page *page;

	for (i = 0; i < nr; i++) {
		/* Not highmem: completions copy through page_address(). */
		page = alloc_page(GFP_NOIO | __GFP_NOWARN);
		if (!page)
			return -ENOMEM;
		list_add_tail(&page->lru, &req->pages);
	}
	return 0;
}

static void hvv_blk_ratelimited(const struct hvv_blk *blk, const char *what,
				u64 a, u64 b)
{
	pr_debug_ratelimited("zone %u dev %u: %s (%llu, %llu)\n",
			     blk->dev->zone->id, blk->dev->id, what, a, b);
}

/*
 * Writes go through with FUA when the guest wants a write-through device:
 * it did not negotiate FLUSH, or it switched the cache off through the
 * writeback field.
 */
static bool hvv_blk_write_through(const struct hvv_blk *blk)
{
	const struct hvv_device *dev = blk->dev;

	if (!bdev_write_cache(hvv_blk_bdev(blk)))
		return false;
	if (!hvv_has_feature(dev, VIRTIO_BLK_F_FLUSH))
		return true;
	return hvv_has_feature(dev, VIRTIO_BLK_F_CONFIG_WCE) &&
	       !READ_ONCE(blk->config.writeback);
}

/* VIRTIO_BLK_T_IN and _OUT.  Returns -EAGAIN when throttled. */
static int hvv_blk_rw(struct hvv_blk_queue *q, struct hvv_blk_req *req,
		      u64 sector, bool is_read)
{
	struct hvv_chain *chain = q->chain;
	struct hvv_blk *blk = q->blk;
	struct hvv_blk_builder b = { .req = req, .sector = sector };
	unsigned int nr;
	bool mapped;
	u32 len;

	len = hvv_blk_rw_data(chain, is_read, q->pieces, &nr);

	if (!is_read && blk->ro) {
		hvv_blk_ratelimited(blk, "write to read-only disk", sector, len);
		goto ioerr;
	}
	if (!hvv_blk_rw_ok(blk->capacity, blk->lbs, sector, len)) {
		hvv_blk_ratelimited(blk, "bad sector or length", sector, len);
		goto ioerr;
	}
	if (!len) {
		hvv_blk_finish(req, VIRTIO_BLK_S_OK, 1, 0, false);
		return 0;
	}

	mapped = hvv_blk_can_map(blk, q->pieces, nr, is_read);
	if (!hvv_blk_charge(req, len, mapped ? 0 : round_up(len, PAGE_SIZE)))
		return -EAGAIN;

	req->is_read = is_read;
	req->data_len = len;
	if (!mapped) {
		atomic64_inc(&blk->dev->stats.bounced);
		if (hvv_blk_alloc_bounce(req, len))
			goto nomem;
		if (is_read) {
			/* The chain buffer is reused: keep where data goes. */
			req->pieces = kmemdup(q->pieces,
					      array_size(nr, sizeof(*q->pieces)),
					      GFP_NOIO);
			if (!req->pieces)
				goto nomem;
			req->nr_pieces = nr;
		} else {
			hvv_blk_bounce_copy(req, q->pieces, nr, false);
		}
	}

	if (is_read) {
		b.opf = REQ_OP_READ;
	} else {
		b.opf = REQ_OP_WRITE | REQ_SYNC;
		if (hvv_blk_write_through(blk))
			b.opf |= REQ_FUA;
	}

	/* One reference for us until every bio is submitted. */
	hvv_blk_req_begin(req, HVV_BLK_OP_DATA);
	if (mapped)
		hvv_blk_build_mapped(&b, q->pieces, nr);
	else
		hvv_blk_build_bounce(&b);
	hvv_blk_submit_bio(req, b.bio);
	hvv_blk_req_put_io(req);
	return 0;

nomem:
	pr_warn_ratelimited("zone %u dev %u: no memory to bounce %u bytes\n",
			    blk->dev->zone->id, blk->dev->id, len);
	hvv_blk_free_bounce(req);
ioerr:
	hvv_blk_finish(req, VIRTIO_BLK_S_IOERR, 1, 0, false);
	return 0;
}

static void hvv_blk_flush(struct hvv_blk_queue *q, struct hvv_blk_req *req)
{
	struct hvv_blk *blk = q->blk;
	struct bio *bio;

	/* Nothing was written through a read-only device. */
	if (blk->ro) {
		hvv_blk_finish(req, VIRTIO_BLK_S_OK, 1, 0, false);
		return;
	}
	req->is_read = false;
	req->data_len = 0;
	hvv_blk_req_begin(req, HVV_BLK_OP_FLUSH);
	bio = hvv_bio_alloc(hvv_blk_bdev(blk), 0, REQ_OP_WRITE | REQ_PREFLUSH,
			    GFP_NOIO, &blk->bs);
	hvv_blk_submit_bio(req, bio);
	hvv_blk_req_put_io(req);
}

/* VIRTIO_BLK_T_DISCARD and _WRITE_ZEROES: one range, copied out once. */
static void hvv_blk_discard(struct hvv_blk_queue *q, struct hvv_blk_req *req,
			    bool zeroes)
{
	struct hvv_chain *chain = q->chain;
	struct hvv_blk *blk = q->blk;
	u32 max = zeroes ? blk->max_write_zeroes : blk->max_discard;
	u32 allowed = zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
	struct bio *bio = NULL;
	u32 nr, flags;
	u64 sector;
	u8 status;
	int ret;

	if (!max) {
		hvv_blk_finish(req, VIRTIO_BLK_S_UNSUPP, 1, 0, false);
		return;
	}
	if (blk->ro)
		goto ioerr;
	status = hvv_blk_read_range(chain, blk->capacity, blk->lbs, max,
				    allowed, &sector, &nr, &flags);
	if (status == VIRTIO_BLK_S_UNSUPP) {
		hvv_blk_finish(req, VIRTIO_BLK_S_UNSUPP, 1, 0, false);
		return;
	}
	if (status != VIRTIO_BLK_S_OK) {
		hvv_blk_ratelimited(blk, "bad discard range", sector, nr);
		goto ioerr;
	}
	if (!nr) {
		hvv_blk_finish(req, VIRTIO_BLK_S_OK, 1, 0, false);
		return;
	}

	req->is_read = false;
	req->data_len = 0;
	req->sector = sector;
	req->nr_sectors = nr;
	req->wz_unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	if (zeroes && READ_ONCE(blk->wz_refused) & BIT(req->wz_unmap)) {
		hvv_blk_zero_write(req);
		return;
	}
	hvv_blk_req_begin(req, zeroes ? HVV_BLK_OP_ZEROES : HVV_BLK_OP_DISCARD);
	if (zeroes)
		/*
		 * No fallback in the helper: a device that refuses fails the
		 * bio with BLK_STS_NOTSUPP and hvv_blk_wz_refused() takes over.
		 */
		ret = __blkdev_issue_zeroout(hvv_blk_bdev(blk), sector, nr,
					     GFP_NOIO, &bio,
					     BLKDEV_ZERO_NOFALLBACK |
					     (req->wz_unmap ? 0 : BLKDEV_ZERO_NOUNMAP));
	else
		ret = hvv_blkdev_issue_discard(hvv_blk_bdev(blk), sector, nr,
					       GFP_NOIO, &bio);
	if (ret) {
		/*
		 * A device that stopped announcing the operation (a loop
		 * device gives up write-zeroes after one refusal) is refused
		 * as a bio would be: write-zeroes are then written by hand.
		 */
		if (ret == -EOPNOTSUPP)
			WRITE_ONCE(req->notsupp, true);
		WRITE_ONCE(req->error, true);
	}
	/* The helpers chained and submitted all but the last bio. */
	if (bio)
		hvv_blk_submit_bio(req, bio);
	hvv_blk_req_put_io(req);
	return;

ioerr:
	hvv_blk_finish(req, VIRTIO_BLK_S_IOERR, 1, 0, false);
}

/*
 * Write zeroes over req->sector and req->nr_sectors with zero-page bios.
 * Bounded by the write-zeroes limit we announce.  Worker context.
 */
static void hvv_blk_zero_write(struct hvv_blk_req *req)
{
	struct hvv_blk *blk = req->q->blk;
	struct hvv_blk_builder b = {
		.req = req,
		.sector = req->sector,
		.opf = REQ_OP_WRITE | REQ_SYNC,
	};
	u64 left = (u64)req->nr_sectors << SECTOR_SHIFT;

	if (hvv_blk_write_through(blk))
		b.opf |= REQ_FUA;
	hvv_blk_req_begin(req, HVV_BLK_OP_DATA);
	b.vecs_left = DIV_ROUND_UP(left, PAGE_SIZE);
	while (left) {
		unsigned int n = min_t(u64, left, PAGE_SIZE);

		hvv_blk_add_page(&b, ZERO_PAGE(0), n, 0);
		left -= n;
	}
	hvv_blk_submit_bio(req, b.bio);
	hvv_blk_req_put_io(req);
}

static void hvv_blk_get_id(struct hvv_blk_queue *q, struct hvv_blk_req *req)
{
	struct hvv_blk *blk = q->blk;
	u32 len = hvv_blk_put_id(q->chain, blk->serial, sizeof(blk->serial),
				 q->pieces);

	hvv_blk_finish(req, VIRTIO_BLK_S_OK, len + 1, 0, false);
}

/*
 * Start the request in q->chain.  Returns -EAGAIN when a budget is
 * exhausted: the caller gives the chain back and stops popping.
 */
static int hvv_blk_start_req(struct hvv_blk_queue *q, struct hvv_blk_req *req)
{
	struct hvv_chain *chain = q->chain;
	struct hvv_device *dev = q->blk->dev;
	struct hvv_blk_hdr hdr;
	u64 sector;
	u32 type;

	req->head = chain->head;
	atomic_inc(&dev->stats.inflight);

	req->status = hvv_blk_status_byte(chain);
	if (!req->status) {
		/* No status byte to answer in: give the chain back empty. */
		pr_warn_ratelimited("zone %u dev %u: request without status byte\n",
				    dev->zone->id, dev->id);
		hvv_vq_push(q->vq, req->head, 0);
		atomic64_inc(&dev->stats.requests);
		atomic64_inc(&dev->stats.errors);
		atomic_dec(&dev->stats.inflight);
		hvv_blk_put_req(req, true);
		return 0;
	}
	/* The one read of the header; only the copy is used. */
	if (!hvv_blk_read_hdr(chain, &hdr)) {
		pr_warn_ratelimited("zone %u dev %u: request header too short\n",
				    dev->zone->id, dev->id);
		hvv_blk_finish(req, VIRTIO_BLK_S_IOERR, 1, 0, false);
		return 0;
	}
	type = le32_to_cpu(hdr.type);
	sector = le64_to_cpu(hdr.sector);

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return hvv_blk_rw(q, req, sector, type == VIRTIO_BLK_T_IN);
	case VIRTIO_BLK_T_FLUSH:
		hvv_blk_flush(q, req);
		return 0;
	case VIRTIO_BLK_T_GET_ID:
		hvv_blk_get_id(q, req);
		return 0;
	case VIRTIO_BLK_T_DISCARD:
		hvv_blk_discard(q, req, false);
		return 0;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		hvv_blk_discard(q, req, true);
		return 0;
	default:
		hvv_blk_finish(req, VIRTIO_BLK_S_UNSUPP, 1, 0, false);
		return 0;
	}
}

/*
 * A slot taken but not used: give it back.  Nothing was freed that another
 * queue could wait for, and requeueing ourselves after a failed charge
 * would spin until a completion comes.
 */
static void hvv_blk_unget_req(struct hvv_blk_req *req)
{
	hvv_blk_put_req(req, false);
}

/*
 * Pop and start chains until the ring is empty (0), or until a cap, the
 * batch limit or a broken ring says stop (1).
 */
static int hvv_blk_drain(struct hvv_blk_queue *q)
{
	struct hvv_blk *blk = q->blk;
	struct hvv_vq *vq = q->vq;
	struct hvv_blk_req *req;
	unsigned int n;
	int ret;

	for (n = 0; n < HVV_BLK_BATCH; n++) {
		req = hvv_blk_get_req(q);
		if (!req)
			return 1;
		ret = hvv_vq_pop(vq, q->chain);
		if (ret <= 0) {
			hvv_blk_unget_req(req);
			return ret < 0;
		}
		if (hvv_blk_start_req(q, req) == -EAGAIN) {
			atomic_dec(&blk->dev->stats.inflight);
			hvv_vq_unpop(vq, 1);
			hvv_blk_unget_req(req);
			return 1;
		}
	}
	/* Let the other queues of the device have the worker. */
	spin_lock_irq(&blk->lock);
	hvv_blk_kick_locked(q);
	spin_unlock_irq(&blk->lock);
	return 1;
}

/**
 * hvv_blk_handle_vq() - process the available chains of a queue
 * @vq: the queue
 *
 * Context: the device's worker.
 */
static void hvv_blk_handle_vq(struct hvv_vq *vq)
{
	struct hvv_blk_queue *q = READ_ONCE(vq->priv);
	struct blk_plug plug;

	if (!q)
		return;
	blk_start_plug(&plug);
	for (;;) {
		hvv_vq_disable_notify(vq);
		if (hvv_blk_drain(q))
			break;
		if (!hvv_vq_enable_notify(vq))
			break;
	}
	blk_finish_plug(&plug);
	/* For the chains finished right here (errors, GET_ID, ...). */
	hvv_vq_signal(vq);
}

static void hvv_blk_fill_config(struct hvv_blk *blk)
{
	struct block_device *bdev = hvv_blk_bdev(blk);
	struct hvv_blk_config *c = &blk->config;
	unsigned int lbs = blk->lbs;
	unsigned int pbs = bdev_physical_block_size(bdev);
	int align = bdev_alignment_offset(bdev);

	c->capacity = cpu_to_le64(blk->capacity);
	c->size_max = cpu_to_le32(HVV_BLK_SIZE_MAX);
	c->seg_max = cpu_to_le32(HVV_BLK_SEG_MAX);
	c->blk_size = cpu_to_le32(lbs);
	c->physical_block_exp = pbs > lbs ? ilog2(pbs / lbs) : 0;
	/* Negative means "misaligned": nothing useful to announce. */
	c->alignment_offset = align > 0 ? min_t(unsigned int, align / lbs,
						U8_MAX) : 0;
	c->min_io_size = cpu_to_le16(min_t(unsigned int,
					   bdev_io_min(bdev) / lbs, U16_MAX));
	c->opt_io_size = cpu_to_le32(max(bdev_io_opt(bdev), 0) / lbs);
	c->writeback = 1;
	c->num_queues = cpu_to_le16(blk->nr_queues);
	if (blk->max_discard) {
		c->max_discard_sectors = cpu_to_le32(blk->max_discard);
		c->max_discard_seg = cpu_to_le32(HVV_BLK_MAX_RANGES);
		c->discard_sector_alignment =
			cpu_to_le32(max(bdev_discard_granularity(bdev), lbs) >>
				    SECTOR_SHIFT);
	}
	if (blk->max_write_zeroes) {
		c->max_write_zeroes_sectors = cpu_to_le32(blk->max_write_zeroes);
		c->max_write_zeroes_seg = cpu_to_le32(HVV_BLK_MAX_RANGES);
		/* A write-zeroes bio may unmap where the device discards. */
		c->write_zeroes_may_unmap = !!blk->max_discard;
	}
}

/* Per-request limits in sectors, whole logical blocks, 0 for "none". */
static u32 hvv_blk_limit(unsigned int sectors, unsigned int lbs)
{
	return round_down(sectors, lbs >> SECTOR_SHIFT);
}

/*
 * Open the block device @devt, or else the one behind @fd, exclusively.
 * Read-only when asked, when the caller's file was not open for writing,
 * or when the device refuses writes.
 */
static int hvv_blk_open(struct hvv_blk *blk, int fd, dev_t devt)
{
	struct file *f;
	bool ro = blk->flags & HVISOR_VHOST_BLK_F_RO;
	int ret;

	if (!devt) {
		if (fd < 0)
			return -EBADF;
		f = fget(fd);
		if (!f)
			return -EBADF;
		if (!S_ISBLK(file_inode(f)->i_mode)) {
			fput(f);
			return -ENOTBLK;
		}
		devt = file_inode(f)->i_rdev;
		/* No more access than the caller had. */
		if (!(f->f_mode & FMODE_WRITE))
			ro = true;
		fput(f);
	}

	ret = hvv_bdev_open(&blk->bdev, devt, !ro, blk);
	if (!ro && (ret == -EACCES || ret == -EROFS)) {
		ro = true;
		ret = hvv_bdev_open(&blk->bdev, devt, false, blk);
	}
	if (ret)
		return ret;
	blk->ro = ro || bdev_read_only(hvv_blk_bdev(blk));
	return 0;
}

/**
 * hvv_blk_create() - set up a virtio-blk device on a block device
 * @dev: the core's device
 * @args: DEV_ADD arguments; args->blk.capacity and backing_* are filled
 *	in
 * @devt: the block device, or 0 for the one behind args->backend_fd
 *
 * Context: process context, hvv_lock held.
 * Return: 0, -EBADF (bad fd), -ENOTBLK (not a block device), -EBUSY
 * (claimed by someone else), -EINVAL (bad parameters or unusable device),
 * -ENOMEM.
 */
static int hvv_blk_create(struct hvv_device *dev, struct hvisor_vhost_dev *args,
			  dev_t devt)
{
	const struct hvisor_vhost_blk_params *p = &args->blk;
	unsigned int nr = args->num_queues ?: 1;
	struct block_device *bdev;
	struct hvv_blk *blk;
	unsigned int i;
	int ret;

	if (p->flags & ~HVISOR_VHOST_BLK_F_RO || p->reserved0 ||
	    p->reserved1 || memchr_inv(p->reserved, 0, sizeof(p->reserved)))
		return -EINVAL;
	if (nr > min_t(unsigned int, HVV_MAX_QUEUES, nr_cpu_ids))
		return -EINVAL;

	blk = kzalloc(sizeof(*blk), GFP_KERNEL);
	if (!blk)
		return -ENOMEM;
	blk->dev = dev;
	blk->flags = p->flags;
	blk->nr_queues = nr;
	memcpy(blk->serial, p->serial, sizeof(blk->serial));
	spin_lock_init(&blk->lock);
	init_waitqueue_head(&blk->idle);

	ret = hvv_blk_open(blk, args->backend_fd, devt);
	if (ret)
		goto err_free;
	bdev = hvv_blk_bdev(blk);

	blk->lbs = bdev_logical_block_size(bdev);
	/* Bounce pages are cut at page boundaries: blocks must fit. */
	if (blk->lbs > PAGE_SIZE || bdev_is_zoned(bdev)) {
		ret = -EINVAL;
		goto err_close;
	}
	blk->map_align = max_t(unsigned int, blk->lbs,
			       bdev_dma_alignment(bdev) + 1);
	blk->capacity = bdev_nr_sectors(bdev);
	blk->stable_writes = bdev_stable_writes(bdev);
	if (!blk->ro) {
		blk->max_discard = hvv_blk_limit(bdev_max_discard_sectors(bdev),
						 blk->lbs);
		/* Small enough to be written by hand if the device refuses. */
		blk->max_write_zeroes =
			hvv_blk_limit(min_t(unsigned int,
					    bdev_write_zeroes_sectors(bdev),
					    HVV_BLK_MAX_DATA >> SECTOR_SHIFT),
				      blk->lbs);
	}

	ret = bioset_init(&blk->bs, HVV_BLK_BIO_POOL, 0, BIOSET_NEED_BVECS);
	if (ret)
		goto err_close;

	blk->queues = kcalloc(nr, sizeof(*blk->queues), GFP_KERNEL);
	if (!blk->queues) {
		ret = -ENOMEM;
		goto err_bioset;
	}
	for (i = 0; i < nr; i++) {
		struct hvv_blk_queue *q = &blk->queues[i];

		q->blk = blk;
		q->index = i;
		INIT_LIST_HEAD(&q->free);
		init_llist_head(&q->done);
	}

	hvv_blk_fill_config(blk);
	dev->priv = blk;
	dev->config = (u8 *)&blk->config;
	dev->config_len = sizeof(blk->config);
	dev->nr_vqs = nr;
	args->blk.capacity = blk->capacity;
	args->blk.backing_major = MAJOR(hvv_blk_bdev(blk)->bd_dev);
	args->blk.backing_minor = MINOR(hvv_blk_bdev(blk)->bd_dev);
	return 0;

err_bioset:
	bioset_exit(&blk->bs);
err_close:
	hvv_bdev_close(&blk->bdev);
err_free:
	kfree(blk);
	return ret;
}

/**
 * hvv_blk_destroy() - release the block device and free the device
 * @dev: the device, stopped
 *
 * Context: process context.
 */
static void hvv_blk_destroy(struct hvv_device *dev)
{
	struct hvv_blk *blk = dev->priv;

	kfree(blk->queues);
	bioset_exit(&blk->bs);
	hvv_bdev_close(&blk->bdev);
	dev->priv = NULL;
	dev->config = NULL;
	dev->config_len = 0;
	kfree(blk);
}

/**
 * hvv_blk_features() - the virtio-blk features we offer
 * @dev: the device
 *
 * The transport adds the ring features (EVENT_IDX, INDIRECT_DESC).
 *
 * Context: any context.
 * Return: feature bits.
 */
static u64 hvv_blk_features(struct hvv_device *dev)
{
	const struct hvv_blk *blk = dev->priv;
	u64 f = BIT_ULL(VIRTIO_F_VERSION_1) |
		BIT_ULL(VIRTIO_BLK_F_SIZE_MAX) |
		BIT_ULL(VIRTIO_BLK_F_SEG_MAX) |
		BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) |
		BIT_ULL(VIRTIO_BLK_F_TOPOLOGY) |
		BIT_ULL(VIRTIO_BLK_F_FLUSH) |
		BIT_ULL(VIRTIO_BLK_F_CONFIG_WCE);

	if (blk->ro)
		f |= BIT_ULL(VIRTIO_BLK_F_RO);
	if (blk->max_discard)
		f |= BIT_ULL(VIRTIO_BLK_F_DISCARD);
	if (blk->max_write_zeroes)
		f |= BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES);
	if (blk->nr_queues > 1)
		f |= BIT_ULL(VIRTIO_BLK_F_MQ);
	return f;
}

/**
 * hvv_blk_config_write() - the driver writes config space
 * @dev: the device
 * @off: offset, checked against the config size
 * @buf: the bytes written, in config-space order
 * @len: their number
 *
 * Only the writeback field is writable (VIRTIO_BLK_F_CONFIG_WCE); any
 * non-zero value means write-back.
 *
 * Context: dev->lock held, interrupts off.
 */
static void hvv_blk_config_write(struct hvv_device *dev, unsigned int off,
				 const void *buf, unsigned int len)
{
	const unsigned int wb = offsetof(struct hvv_blk_config, writeback);
	struct hvv_blk *blk = dev->priv;

	if (!hvv_has_feature(dev, VIRTIO_BLK_F_CONFIG_WCE))
		return;
	if (off > wb || wb - off >= len)
		return;
	WRITE_ONCE(blk->config.writeback, !!((const u8 *)buf)[wb - off]);
}

static void hvv_blk_free_queue(struct hvv_blk_queue *q)
{
	if (q->worker && q->worker != q->blk->dev->worker)
		kthread_destroy_worker(q->worker);
	q->worker = NULL;
	if (q->vq)
		q->vq->worker = NULL;
	kfree(q->reqs);
	kfree(q->pieces);
	kfree(q->chain);
	q->reqs = NULL;
	q->pieces = NULL;
	q->chain = NULL;
}

/*
 * Give @q its worker: the device's for queue 0, so that a single-queue
 * device has one thread, a thread of its own for each other queue so that
 * the queues of a multi-queue device run in parallel.
 */
static int hvv_blk_queue_worker(struct hvv_blk_queue *q)
{
	struct hvv_device *dev = q->blk->dev;
	struct kthread_worker *w = dev->worker;

	if (q->index) {
		w = hvv_device_worker_create(dev, q->index);
		if (IS_ERR(w))
			return PTR_ERR(w);
	}
	q->worker = w;
	/* Before the core's first kick of the queue. */
	q->vq->worker = w;
	/* Its last worker, if any, has ended: see hvv_vq_start(). */
	kthread_init_work(&q->done_work, hvv_blk_done_work);
	return 0;
}

/**
 * hvv_blk_start() - allocate the per-queue state and accept requests
 * @dev: the device, its ready queues started
 *
 * Context: process context, no worker runs the queues.
 * Return: 0, -ENOMEM or a thread creation error (nothing left allocated).
 */
static int hvv_blk_start(struct hvv_device *dev)
{
	struct hvv_blk *blk = dev->priv;
	unsigned int i, j;
	int ret;

	for (i = 0; i < blk->nr_queues; i++) {
		struct hvv_blk_queue *q = &blk->queues[i];
		struct hvv_vq *vq = &dev->vqs[i];

		q->vq = vq;
		if (!vq->started)
			continue;	/* a queue the driver does not use */
		q->chain = kmalloc(sizeof(*q->chain), GFP_KERNEL);
		q->pieces = kmalloc_array(HVV_CHAIN_MAX_SEGS,
					  sizeof(*q->pieces), GFP_KERNEL);
		q->reqs = kcalloc(vq->size, sizeof(*q->reqs), GFP_KERNEL);
		ret = -ENOMEM;
		if (!q->chain || !q->pieces || !q->reqs)
			goto fail;
		ret = hvv_blk_queue_worker(q);
		if (ret)
			goto fail;
		INIT_LIST_HEAD(&q->free);
		for (j = 0; j < vq->size; j++) {
			struct hvv_blk_req *req = &q->reqs[j];

			req->q = q;
			INIT_LIST_HEAD(&req->pages);
			list_add_tail(&req->free_node, &q->free);
		}
	}

	spin_lock_irq(&blk->lock);
	blk->stopping = false;
	blk->throttled = 0;
	spin_unlock_irq(&blk->lock);

	/* The queue's work runs only once the core kicks it after this. */
	for (i = 0; i < blk->nr_queues; i++)
		if (blk->queues[i].reqs)
			WRITE_ONCE(dev->vqs[i].priv, &blk->queues[i]);
	return 0;

fail:
	for (i = 0; i < blk->nr_queues; i++)
		hvv_blk_free_queue(&blk->queues[i]);
	return ret;
}

/**
 * hvv_blk_stop() - wait for every request in flight and stop
 * @dev: the device, no longer kicked
 *
 * When this returns no bio of ours is in flight, no completion touches
 * the rings and none of our work items is queued or running.
 *
 * Context: process context.
 */
static void hvv_blk_stop(struct hvv_device *dev)
{
	struct hvv_blk *blk = dev->priv;
	unsigned int i;

	spin_lock_irq(&blk->lock);
	blk->stopping = true;
	blk->throttled = 0;
	/* Woken by the last hvv_blk_put_req(), under this same lock. */
	wait_event_lock_irq(blk->idle, !blk->inflight, blk->lock);
	spin_unlock_irq(&blk->lock);

	for (i = 0; i < blk->nr_queues; i++) {
		struct hvv_blk_queue *q = &blk->queues[i];

		if (!q->reqs)
			continue;
		/*
		 * Work queued before stopping was set may still run (it finds
		 * nothing to take); the done work may still be signalling.
		 */
		kthread_flush_work(&q->vq->work);
		kthread_flush_work(&q->done_work);
		WRITE_ONCE(q->vq->priv, NULL);
		hvv_blk_free_queue(q);
	}
}

/* A reset device starts in write-back mode again. */
static void hvv_blk_reset(struct hvv_device *dev)
{
	struct hvv_blk *blk = dev->priv;

	spin_lock_irq(&dev->lock);
	blk->config.writeback = 1;
	spin_unlock_irq(&dev->lock);
}

/**
 * hvv_blk_fill_info() - the virtio-blk part of a DEV_NEXT answer
 * @dev: the device
 * @info: filled in
 *
 * Context: process context, hvv_lock held.
 */
static void hvv_blk_fill_info(struct hvv_device *dev,
			      struct hvisor_vhost_dev *info)
{
	const struct hvv_blk *blk = dev->priv;

	info->blk.flags = blk->ro ? HVISOR_VHOST_BLK_F_RO : 0;
	memcpy(info->blk.serial, blk->serial, sizeof(info->blk.serial));
	info->blk.capacity = blk->capacity;
	info->blk.backing_major = MAJOR(hvv_blk_bdev(blk)->bd_dev);
	info->blk.backing_minor = MINOR(hvv_blk_bdev(blk)->bd_dev);
}

const struct hvv_dev_ops hvv_blk_ops = {
	.name		= "blk",
	.device_id	= VIRTIO_ID_BLOCK,
	.queue_max	= HVV_BLK_QUEUE_MAX,
	.create		= hvv_blk_create,
	.destroy	= hvv_blk_destroy,
	.features	= hvv_blk_features,
	.config_write	= hvv_blk_config_write,
	.start		= hvv_blk_start,
	.stop		= hvv_blk_stop,
	.reset		= hvv_blk_reset,
	.handle_vq	= hvv_blk_handle_vq,
	.fill_info	= hvv_blk_fill_info,
};

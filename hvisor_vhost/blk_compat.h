/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The block layer across the kernels we build for (see compat.h).
 *
 * The block layer changed how a device is opened and claimed three times
 * after 6.1: blk_mode_t and holder ops (6.5), a handle (6.7), then a struct
 * file (6.9).  The blk device only needs "open this dev_t exclusively,
 * read-only or read-write" and "close it", so the difference is hidden
 * here.  Built and tested on 5.10, 6.1, 6.12 and 7.2; 6.5 to 6.8 are
 * refused at build time rather than guessed at.  Further down: the
 * queue-limit helpers and bio allocation 5.10 lacks, and discard.
 */
#ifndef HVISOR_VHOST_BLK_COMPAT_H
#define HVISOR_VHOST_BLK_COMPAT_H

#include <linux/blkdev.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/version.h>

/**
 * struct hvv_bdev - an exclusively opened block device
 * @bdev: the device, valid between hvv_bdev_open() and hvv_bdev_close()
 * @file: (6.9+) the open file that holds the claim
 * @mode: (before 6.5) the mode to give back to blkdev_put()
 */
struct hvv_bdev {
	struct block_device *bdev;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct file *file;
#else
	fmode_t mode;
#endif
};

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
#error "hvisor_vhost: block device open API of 6.5 to 6.8 not supported"
#endif

/**
 * hvv_bdev_open() - open and claim a block device
 * @h: filled on success
 * @devt: the device
 * @write: open for writing too
 * @holder: the claim's owner; a second claim by another holder fails
 *
 * Context: process context, may sleep.
 * Return: 0, -EBUSY when someone else holds a claim, -EACCES or -EROFS
 * when @write is refused, or another negative errno.
 */
static inline int hvv_bdev_open(struct hvv_bdev *h, dev_t devt, bool write,
				void *holder)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	blk_mode_t mode = BLK_OPEN_READ | BLK_OPEN_EXCL;
	struct file *f;

	if (write)
		mode |= BLK_OPEN_WRITE;
	/* No holder ops: we have no filesystem to sync, freeze or kill. */
	f = bdev_file_open_by_dev(devt, mode, holder, NULL);
	if (IS_ERR(f))
		return PTR_ERR(f);
	h->file = f;
	h->bdev = file_bdev(f);
	return 0;
#else
	fmode_t mode = FMODE_READ | FMODE_EXCL;
	struct block_device *bdev;

	if (write)
		mode |= FMODE_WRITE;
	bdev = blkdev_get_by_dev(devt, mode, holder);
	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	h->bdev = bdev;
	h->mode = mode;
	return 0;
#endif
}

/**
 * hvv_bdev_close() - drop the claim and close
 * @h: opened by hvv_bdev_open()
 *
 * Context: process context, may sleep; no bio of ours is in flight.
 */
static inline void hvv_bdev_close(struct hvv_bdev *h)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	/* Gives up the claim now, not when the last file reference goes. */
	bdev_fput(h->file);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	fput(h->file);
#else
	blkdev_put(h->bdev, h->mode);
#endif
	h->bdev = NULL;
}

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
/*
 * 5.10 (the one kernel before 6.1 we build for, see compat.h): the
 * block device's limits are read from its queue, bios carry an unsigned
 * int operation, and bio_alloc_bioset() neither sets the device nor the
 * operation.
 */
typedef unsigned int blk_opf_t;
#define BIO_MAX_VECS	BIO_MAX_PAGES

static inline sector_t bdev_nr_sectors(struct block_device *bdev)
{
	return i_size_read(bdev->bd_inode) >> SECTOR_SHIFT;
}

static inline bool bdev_write_cache(struct block_device *bdev)
{
	return test_bit(QUEUE_FLAG_WC, &bdev_get_queue(bdev)->queue_flags);
}

static inline bool bdev_stable_writes(struct block_device *bdev)
{
	return blk_queue_stable_writes(bdev_get_queue(bdev));
}

static inline unsigned int bdev_dma_alignment(struct block_device *bdev)
{
	return queue_dma_alignment(bdev_get_queue(bdev));
}

static inline unsigned int bdev_max_discard_sectors(struct block_device *bdev)
{
	struct request_queue *q = bdev_get_queue(bdev);

	return blk_queue_discard(q) ? q->limits.max_discard_sectors : 0;
}

static inline unsigned int bdev_discard_granularity(struct block_device *bdev)
{
	return bdev_get_queue(bdev)->limits.discard_granularity;
}
#endif

/**
 * hvv_bio_alloc() - a bio from a bio set, for a device and an operation
 * @bdev: the device
 * @nr_vecs: bio_vecs to hold
 * @opf: operation and flags
 * @gfp: allocation flags (GFP_NOIO: from the mempool, never fails)
 * @bs: the bio set
 *
 * Return: the bio.
 */
static inline struct bio *hvv_bio_alloc(struct block_device *bdev,
					unsigned short nr_vecs, blk_opf_t opf,
					gfp_t gfp, struct bio_set *bs)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)
	return bio_alloc_bioset(bdev, nr_vecs, opf, gfp, bs);
#else
	struct bio *bio = bio_alloc_bioset(gfp, nr_vecs, bs);

	bio_set_dev(bio, bdev);
	bio->bi_opf = opf;
	return bio;
#endif
}

/**
 * hvv_blkdev_issue_discard() - chain discard bios for a range
 * @bdev: the device
 * @sector: first sector
 * @nr_sects: number of sectors
 * @gfp: allocation flags
 * @biop: in/out: the chain; the last bio is left to the caller to submit
 *
 * __blkdev_issue_discard() returns nothing since 6.13.
 *
 * Return: 0 or a negative errno (only before 6.13).
 */
static inline int hvv_blkdev_issue_discard(struct block_device *bdev,
					   sector_t sector, sector_t nr_sects,
					   gfp_t gfp, struct bio **biop)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	__blkdev_issue_discard(bdev, sector, nr_sects, gfp, biop);
	return 0;
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)
	return __blkdev_issue_discard(bdev, sector, nr_sects, gfp, biop);
#else
	return __blkdev_issue_discard(bdev, sector, nr_sects, gfp, 0, biop);
#endif
}

#endif /* HVISOR_VHOST_BLK_COMPAT_H */

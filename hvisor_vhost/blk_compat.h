/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Opening a block device exclusively, across the kernels we build for.
 *
 * The block layer changed how a device is opened and claimed three times
 * after 6.1: blk_mode_t and holder ops (6.5), a handle (6.7), then a struct
 * file (6.9).  The blk device only needs "open this dev_t exclusively,
 * read-only or read-write" and "close it", so the difference is hidden
 * here.  Built and tested on 6.1 and 6.12; 6.5 to 6.8 are refused at build
 * time rather than guessed at.
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
#else
	return __blkdev_issue_discard(bdev, sector, nr_sects, gfp, biop);
#endif
}

#endif /* HVISOR_VHOST_BLK_COMPAT_H */

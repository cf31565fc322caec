/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences across the kernels we build for, in one place,
 * keyed on LINUX_VERSION_CODE (the block layer's are in blk_compat.h).
 * The .c files use the newest API; it is provided here for older
 * kernels.  Built and tested on Debian's 5.10, 6.1, 6.12 (also
 * PREEMPT_RT) and 7.2.  Between 6.12 and 7.2 a boundary is the release
 * that made the change as far as we know; those kernels are not built.
 */
#ifndef HVISOR_VHOST_COMPAT_H
#define HVISOR_VHOST_COMPAT_H

#include <linux/types.h>
#include <linux/version.h>

/*
 * Debian 11's 5.10 is the oldest kernel we build for; the next is 6.1.
 * What 5.10 lacks is provided under one condition rather than at each
 * API's own version: the kernels between are not built for.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 11, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "hvisor_vhost: kernels 5.11 to 6.0 are not supported"
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
/* iov_iter directions (the data's source or destination). */
#define ITER_SOURCE	WRITE
#define ITER_DEST	READ
/* The uapi header gained the flag later. */
#define VIRTIO_F_RING_RESET	40
/* In linux/blkdev.h rather than linux/blk_types.h. */
#ifndef SECTOR_SHIFT
#define SECTOR_SHIFT	9
#endif
#define CSD_INIT(_func, _info)	{ .func = (_func), .info = (_info) }
#define irq_work_is_busy(work) \
	(atomic_read(&(work)->flags) & IRQ_WORK_BUSY)
#define irq_data_update_affinity(d, m) \
	cpumask_copy(irq_data_get_affinity_mask(d), (m))
/* file_open_root() took the root as dentry and mount. */
#define hvv_file_open_root(root, name, flags, mode) \
	file_open_root((root)->dentry, (root)->mnt, (name), (flags), (mode))
#else
#define hvv_file_open_root(root, name, flags, mode) \
	file_open_root((root), (name), (flags), (mode))
#endif

/*
 * A virtio transport's per-queue reset (VIRTIO_F_RING_RESET, for
 * virtqueue_resize()): the virtqueue's reset flag and num_max, and the
 * three config ops, came in 6.0. Without them a transport does not keep
 * the feature (HVV_HAVE_VQ_RESET is 0) and its reset ops go unused.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)
#define HVV_HAVE_VQ_RESET		1
#define hvv_vq_resetting(vq)		((vq)->reset)
#define hvv_vq_set_resetting(vq, v)	((vq)->reset = (v))
#define hvv_vq_set_num_max(vq, n)	((vq)->num_max = (n))
#define HVV_VQ_RESET_OPS(sync, disable, enable)	\
	.synchronize_cbs = (sync),			\
	.disable_vq_and_reset = (disable),		\
	.enable_vq_after_reset = (enable),
#else
#define HVV_HAVE_VQ_RESET		0
#define hvv_vq_resetting(vq)		false
#define hvv_vq_set_resetting(vq, v)	do { (void)(vq); (void)(v); } while (0)
#define hvv_vq_set_num_max(vq, n)	do { (void)(vq); (void)(n); } while (0)
#define HVV_VQ_RESET_OPS(sync, disable, enable)
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
/*
 * A per-CPU workqueue says so since 6.17 (backported to 6.12.y), and a
 * kernel warns about one that says neither WQ_PERCPU nor WQ_UNBOUND.
 */
#define WQ_PERCPU	0
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
/* hrtimer_setup() replaced hrtimer_init() plus setting ->function. */
#define hrtimer_setup(timer, fn, clock_id, mode)		\
	do {							\
		hrtimer_init((timer), (clock_id), (mode));	\
		(timer)->function = (fn);			\
	} while (0)
#endif

/*
 * timer_delete_sync() is used as is (7.2 has no del_timer_sync() any
 * more): the 5.10 and 6.1 we build for have it from their stable series.
 */

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 16, 0)
/* from_timer() was renamed timer_container_of(). */
#define timer_container_of(var, callback_timer, timer_fieldname) \
	from_timer(var, callback_timer, timer_fieldname)
#endif

/*
 * tty_operations.write_room and .chars_in_buffer return unsigned int
 * since 5.14 (int before).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)
typedef unsigned int hvv_tty_room_t;
#else
typedef int hvv_tty_room_t;
#endif

/*
 * tty_operations.write takes a size_t count and returns ssize_t since
 * 6.6 (an int count and int before).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
typedef size_t hvv_tty_count_t;
typedef ssize_t hvv_tty_ret_t;
#else
typedef int hvv_tty_count_t;
typedef int hvv_tty_ret_t;
#endif

/*
 * struct dma_map_ops maps a single range by physical address (.map_phys,
 * .unmap_phys) since 6.19, by page and offset (.map_page, .unmap_page)
 * before; unmapping takes the same arguments either way.
 * HVV_DMA_OPS_MAP(map, unmap) fills in whichever the kernel has from a
 * map function that takes a physical address;
 * HVV_DMA_MAP_PAGE_WRAPPER(map) defines the by-page wrapper the older
 * kernels need (nothing on newer ones).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#define HVV_DMA_MAP_PAGE_WRAPPER(map)
#define HVV_DMA_OPS_MAP(map, unmap) \
	.map_phys = (map), .unmap_phys = (unmap)
#else
#define HVV_DMA_MAP_PAGE_WRAPPER(map)					\
static dma_addr_t map##_page(struct device *dev, struct page *page,	\
			     unsigned long offset, size_t size,		\
			     enum dma_data_direction dir,		\
			     unsigned long attrs)			\
{									\
	return map(dev, page_to_phys(page) + offset, size, dir, attrs);	\
}

#define HVV_DMA_OPS_MAP(map, unmap) \
	.map_page = map##_page, .unmap_page = (unmap)
#endif

#endif /* HVISOR_VHOST_COMPAT_H */

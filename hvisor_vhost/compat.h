/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences across the kernels we build for, in one place,
 * keyed on LINUX_VERSION_CODE (the block layer's are in blk_compat.h).  Built and tested on Debian's 6.1, 6.12 (also
 * PREEMPT_RT) and 7.2; a version boundary here is where the kernel's
 * history puts the change.  The newer API is used in the .c files and
 * provided here for older kernels.
 */
#ifndef HVISOR_VHOST_COMPAT_H
#define HVISOR_VHOST_COMPAT_H

#include <linux/hrtimer.h>
#include <linux/timer.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
/* hrtimer_setup() replaced hrtimer_init() plus setting ->function. */
static inline void
hrtimer_setup(struct hrtimer *timer,
	      enum hrtimer_restart (*function)(struct hrtimer *),
	      clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 16, 0)
/* from_timer() was renamed timer_container_of(). */
#define timer_container_of(var, callback_timer, timer_fieldname) \
	from_timer(var, callback_timer, timer_fieldname)
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
#define HVV_DMA_OPS_MAP(map, unmap)	.map_phys = (map), .unmap_phys = (unmap)
#else
#define HVV_DMA_MAP_PAGE_WRAPPER(map)					\
static dma_addr_t map##_page(struct device *dev, struct page *page,	\
			     unsigned long offset, size_t size,		\
			     enum dma_data_direction dir,		\
			     unsigned long attrs)			\
{									\
	return map(dev, page_to_phys(page) + offset, size, dir, attrs);	\
}
#define HVV_DMA_OPS_MAP(map, unmap)	.map_page = map##_page, .unmap_page = (unmap)
#endif

#endif /* HVISOR_VHOST_COMPAT_H */

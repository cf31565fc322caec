/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hostile-zone facility of the loopback test module: the ioctls of
 * /sys/kernel/debug/hvisor_vhost_loopback/hostile, shared by the module
 * (hostile.c beside this file) and the suite (selftests/hostile_test.c).
 *
 * Each open file is one hostile context:
 *
 *  HOSTILE_IOC_RAM	allocate the context's zone RAM once: @size bytes
 *			(a multiple of the page size, at most 4 MiB), zeroed,
 *			physically contiguous, with one guard page on each
 *			side filled with HOSTILE_GUARD_BYTE; answers its
 *			host-physical address.  Give that range to a zone
 *			with ZONE_ADD (any guest-physical address).  mmap()
 *			of the file at offset 0 maps the RAM (not the guards)
 *			shared, for the test to write rings and buffers.
 *	 EEXIST (already allocated), EINVAL (size), ENOMEM
 *  HOSTILE_IOC_ACCESS	one register access as EL2 makes it: any zone,
 *			address, size and value; blocking (answered through
 *			cfg_flags, the value read comes back in @value) or
 *			posted (a write with need_interrupt set, as a
 *			QueueNotify; never waits).  The ioctl fails with the
 *			error of the access: ETIMEDOUT (no answer in
 *			timeout_ms: the zone is then dead for the module),
 *			EIO (dead zone), EBUSY (no answer slot), EINVAL
 *			(unknown flags)
 *  HOSTILE_IOC_WATCH	count the interrupts (result-ring entries) the
 *			backend raises for {@zone, @irq} from now on; at most
 *			HOSTILE_MAX_WATCH per context.  EEXIST (watched
 *			already, by any context), ENOSPC
 *  HOSTILE_IOC_IRQS	in {@zone, @irq} (watched by this context): out
 *			@count, the interrupts raised since WATCH; ENOENT
 *  HOSTILE_IOC_GUARD	check both guard pages: out @bad (bytes that are not
 *			HOSTILE_GUARD_BYTE any more) and @first (offset of
 *			the first one from the start of the low guard page)
 *
 * Interrupts for the watched pairs are counted only, never delivered to a
 * driver.  On close the watches end; the RAM is not freed before the
 * module unloads, in case a zone still maps it (a test that died before
 * removing its zone must not leave the device writing into free pages).
 */
#ifndef HVV_HOSTILE_ABI_H
#define HVV_HOSTILE_ABI_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define HOSTILE_GUARD_BYTE	0xa5
#define HOSTILE_MAX_RAM		(4U << 20)
#define HOSTILE_MAX_WATCH	8

struct hostile_ram {
	__u64 size;		/* in */
	__u64 host_phys;	/* out */
};

/* hostile_access.flags */
#define HOSTILE_WRITE		_BITUL(0)
#define HOSTILE_POSTED		_BITUL(1)	/* with HOSTILE_WRITE only */

struct hostile_access {
	__u32 zone;
	__u32 flags;
	__u64 addr;
	__u64 size;
	__u64 value;		/* in: written; out: read (all ones on error) */
};

struct hostile_irq {
	__u32 zone;
	__u32 irq;
	__u64 count;		/* out (IRQS) */
};

struct hostile_guard {
	__u64 bad;		/* out */
	__u64 first;		/* out */
};

#define HOSTILE_IOC_MAGIC	0xB9
#define HOSTILE_IOC_RAM		_IOWR(HOSTILE_IOC_MAGIC, 1, struct hostile_ram)
#define HOSTILE_IOC_ACCESS	_IOWR(HOSTILE_IOC_MAGIC, 2, struct hostile_access)
#define HOSTILE_IOC_WATCH	_IOW(HOSTILE_IOC_MAGIC, 3, struct hostile_irq)
#define HOSTILE_IOC_IRQS	_IOWR(HOSTILE_IOC_MAGIC, 4, struct hostile_irq)
#define HOSTILE_IOC_GUARD	_IOR(HOSTILE_IOC_MAGIC, 5, struct hostile_guard)

#endif /* HVV_HOSTILE_ABI_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvisor_vhost_loopback: test-only module that plays, inside root's own
 * kernel, the two parties a board has and QEMU lacks:
 *
 *  - el2.c: the hypervisor.  It marshals every register access of an
 *    emulated guest zone into a device_req on the bridge page, exactly as
 *    hvisor's EL2 does, waits for the answer in cfg_flags/cfg_values, and
 *    implements hypercall 1 by draining res_list;
 *  - transport.c: the guest zone.  A virtio transport whose register
 *    accesses go through el2.c, so that the stock virtio_blk and
 *    virtio_net drivers bind to the backend's devices;
 *  - zram.c: zone RAM that is not root's memory, for a zone whose rings
 *    and buffers must live there as on a board (DMA operations that
 *    allocate and bounce inside it);
 *  - hostile.c: zones a test plays by hand, RAM and registers, to throw
 *    malformed rings and register sequences at the backend;
 *  - loopback.c: module glue and the debugfs control files.
 */
#ifndef HVV_LOOPBACK_LB_H
#define HVV_LOOPBACK_LB_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/virtio.h>
#include <linux/workqueue.h>

#define LB_NAME			"hvisor_vhost_loopback"

/* The virtio-mmio magic value, "virt" read as a little-endian u32. */
#define LB_MMIO_MAGIC		0x74726976
#define LB_MMIO_MIN_SIZE	0x100

/* Distinct pending interrupts EL2 keeps per zone (its first CPU), plus 1. */
#define LB_MAX_DEVS		8

/**
 * struct lb_zone - what the devices of one zone share: its first CPU,
 *	which takes every interrupt of the zone
 * @node: entry in the transport's zone list (lb_mutex)
 * @id: zone id
 * @refs: devices of the zone (lb_mutex)
 * @cpu: held by the interrupt handler running on that CPU: one at a time
 * @masked: the test masked the zone's interrupts (zone_irq file): they
 *	stay pending (@mask_wq)
 * @mask_wq: handlers waiting for @masked to clear
 * @nr_pending: devices of the zone whose interrupt is pending
 */
struct lb_zone {
	struct list_head node;
	u32 id;
	unsigned int refs;
	struct mutex cpu;	/* one interrupt handler at a time */
	bool masked;
	wait_queue_head_t mask_wq;
	atomic_t nr_pending;
};

/* An emulated device's interrupt, as a list register holds it. */
enum {
	LB_IRQ_IDLE,
	LB_IRQ_PENDING,		/* injected, the handler has not begun */
	LB_IRQ_ACTIVE,		/* its handler runs (acknowledge to EOI) */
};

/**
 * struct lb_dev - one emulated virtio-mmio device of one zone
 * @vdev: the device the virtio core and its driver see; its release
 *	callback frees this structure
 * @node: entry in lb_devs (lb_mutex and lb_dev_lock to change, either
 *	to read)
 * @zone: the zone whose accesses this is
 * @base: guest-physical base of the register window
 * @size: size of the window
 * @region: base of the zone-config virtio region the window lies in (its
 *	own base unless several devices share one region): EL2 posts the
 *	writes at offset 0x50 of the region, and those only
 * @irq: interrupt id the backend pushes for this device
 * @bus_name: what bus_name() answers
 * @registered: register_virtio_device() succeeded (lb_dev_lock)
 * @core_ready: the virtio core has set up vdev's locks and vq list (it
 *	does so before its first reset); config interrupts wait for it
 * @zram: the zone's RAM is outside root's memory: the parent device that
 *	confines rings and buffers to it (zram.c), or NULL
 * @lz: the zone's shared part
 * @irq_work: interrupt delivery in process context (see transport.c)
 * @irq_state: LB_IRQ_*: what EL2 would find in the list register
 * @cb_lock: serialises virtqueue callbacks against find_vqs/del_vqs
 * @vqs_ready: the vq list is complete and may be walked (@cb_lock)
 * @accesses: blocking register accesses
 * @notifies: QueueNotify writes (posted or not)
 * @timeouts: accesses that got no answer in time
 * @interrupts: {zone, irq} results for this device
 * @irqs_merged: results for it while its interrupt was pending (merged)
 * @irqs_dropped: results for it dropped, its handler running, or as an
 *	8th distinct pending interrupt of the zone
 */
struct lb_dev {
	struct virtio_device vdev;
	struct list_head node;
	u32 zone;
	u64 base;
	u64 size;
	u64 region;
	u32 irq;
	char bus_name[48];
	bool registered;
	bool core_ready;
	struct device *zram;

	struct lb_zone *lz;
	struct work_struct irq_work;
	atomic_t irq_state;
	struct mutex cb_lock;	/* vq callbacks vs. find_vqs/del_vqs */
	bool vqs_ready;

	atomic64_t accesses;
	atomic64_t notifies;
	atomic64_t timeouts;
	atomic64_t interrupts;
	atomic64_t irqs_merged;
	atomic64_t irqs_dropped;
};

/* Module-wide counters, shown in the stats file. */
struct lb_stats {
	atomic64_t accesses;
	atomic64_t posted;
	atomic64_t timeouts;
	atomic64_t ring_full;
	atomic64_t wakeups;
	atomic64_t wakeups_lost;
	atomic64_t wakeups_dropped;
	atomic64_t junk_writes;
	atomic64_t irqs_off_waits;
	atomic64_t finish_calls;
	atomic64_t res_delivered;
	atomic64_t irqs_merged;
	atomic64_t irqs_dropped;
	atomic64_t irqs_overflow;
	atomic64_t res_unknown;
	atomic64_t res_bad;
	atomic64_t slots_leaked;
	atomic64_t dead_zones;
};

extern struct lb_stats lb_stats;
extern unsigned int lb_timeout_ms;
extern unsigned int lb_lose_wakeups;
extern unsigned int lb_kind_mask;

/*
 * The hypervisor's harsh rules, each of which a test may switch off with
 * a bit of the parameter "kind" (default 0: all of them apply).
 */
#define LB_KIND_WAKEUP		BIT(0)	/* raise a pending/active wake-up */
#define LB_KIND_ZONE_IRQ	BIT(1)	/* never drop a zone interrupt */
#define LB_KIND_PENDING_MAX	BIT(2)	/* any number of pending interrupts */
#define LB_KIND_JUNK		BIT(3)	/* mask write values to their size */
#define LB_KIND_STATUS_POLL	BIT(4)	/* poll Status for 0 after a reset */

static inline bool lb_kind(unsigned int rule)
{
	return READ_ONCE(lb_kind_mask) & rule;
}

/* el2.c */
int lb_el2_attach(void);
void lb_el2_detach(void);
int lb_el2_access(u32 zone, u64 addr, u64 size, bool is_write, u64 *value);
int lb_el2_write_atomic(u32 zone, u64 addr, u64 size, u64 value);
int lb_el2_post(u32 zone, u64 addr, u64 size, u64 value);
bool lb_zone_dead(u32 zone);
void lb_el2_show(struct seq_file *m);

/* transport.c */
extern struct mutex lb_mutex;
int lb_transport_init(void);
void lb_transport_exit(void);
int lb_dev_create(u32 zone, u64 base, u64 size, u32 irq, u64 region);
int lb_dev_remove(bool has_zone, u32 zone, u64 base);
void lb_dev_remove_all(void);
bool lb_deliver(u32 zone, u32 irq);
int lb_zone_mask(u32 zone, bool mask);
void lb_zone_show(struct seq_file *m);
void lb_devs_show(struct seq_file *m);
struct device *lb_root_device(void);

/* zram.c */
int lb_zram_write(int argc, char **argv);
void lb_zram_show(struct seq_file *m);
int lb_zram_clear(void);
struct device *lb_zram_get(u32 zone);
void lb_zram_put(struct device *parent);

/* hostile.c */
struct dentry;
void lb_hostile_init(struct dentry *dir);
void lb_hostile_exit(void);
bool lb_hostile_deliver(u32 zone, u32 irq);

#endif /* HVV_LOOPBACK_LB_H */

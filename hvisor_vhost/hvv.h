/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvisor_vhost core types: zones, devices and the device ops table.
 *
 * Locking, outermost first:
 *  - hvv_lock (mutex): the zone and device registries, ioctls, teardown;
 *  - dev->lock (spinlock, taken from the wake-up interrupt): the register
 *    file of one device, including every field of its queues marked
 *    "register";
 *  - vq->used_lock (spinlock, irqsave): the used ring of one queue;
 *  - the bridge's result-ring lock (innermost).
 * The device list is read under RCU by the wake-up interrupt handler.
 */
#ifndef HVISOR_VHOST_HVV_H
#define HVISOR_VHOST_HVV_H

#include <linux/atomic.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/hvisor_vhost.h>

#include "compat.h"
#include "bridge_abi.h"

#define HVV_NAME		"hvisor_vhost"
#define HVV_MAX_ZONES		16
#define HVV_MAX_DEVICES		64
#define HVV_MAX_QUEUES		16
#define HVV_MMIO_MIN_SIZE	0x200

/**
 * struct hvv_region - one RAM region of a zone, mapped into root
 * @gpa: guest-physical base
 * @hpa: machine-physical base
 * @size: length in bytes
 * @kva: kernel mapping of the whole region (memremap, write-back)
 * @has_pages: the region is root RAM with struct pages (linear map), so
 *	buffers in it can go into bios without a bounce
 */
struct hvv_region {
	u64 gpa;
	u64 hpa;
	u64 size;
	void *kva;
	bool has_pages;
};

/**
 * struct hvv_zone - a guest zone: its id and RAM
 * @node: entry in the zone registry (hvv_lock)
 * @id: hypervisor zone id (>= 1)
 * @flags: HVISOR_VHOST_ZONE_F_* (ZONE_NEXT reports them)
 * @nr_devices: devices that point at this zone (hvv_lock); a zone with
 *	devices cannot be removed, so its mappings outlive every device
 * @nr_regions: valid entries in @regions
 * @regions: RAM as mapped: the regions given, sorted by @gpa, those
 *	contiguous in both address spaces merged into one (the zone's
 *	driver may use a buffer across their boundary)
 * @nr_given: valid entries in @given
 * @given: the regions as ZONE_ADD gave them (ZONE_NEXT reports these)
 */
struct hvv_zone {
	struct list_head node;
	u32 id;
	u32 flags;
	unsigned int nr_devices;
	unsigned int nr_regions;
	struct hvv_region regions[HVISOR_VHOST_MAX_REGIONS];
	unsigned int nr_given;
	struct hvisor_vhost_region given[HVISOR_VHOST_MAX_REGIONS];
};

/* zone.c: the only code that turns guest-physical addresses into pointers. */
void *hvv_zone_map(const struct hvv_zone *zone, u64 gpa, u64 len);
const struct hvv_region *hvv_zone_region(const struct hvv_zone *zone,
					 u64 gpa, u64 len);
extern bool hvv_root_ram_ok;
int hvv_zone_add(const struct hvisor_vhost_zone *uz);
int hvv_zone_add_dt(const struct hvisor_vhost_zone *uz);
int hvv_zone_del(u32 id);
int hvv_zone_next(struct hvisor_vhost_zone *uz);
struct hvv_zone *hvv_zone_find(u32 id);
void hvv_zones_destroy(void);

struct hvv_device;
struct hvv_vq;

/**
 * struct hvv_dev_stats - per-device counters (read with hvctl stats)
 * @requests: chains completed
 * @bytes: payload bytes moved
 * @errors: requests ended with an error status, or malformed chains
 * @kicks: QueueNotify writes
 * @interrupts: interrupts pushed to the hypervisor
 * @inflight: chains popped and not yet completed
 * @bounced: blk requests whose data went through bounce pages
 */
struct hvv_dev_stats {
	atomic64_t requests;
	atomic64_t bytes;
	atomic64_t errors;
	atomic64_t kicks;
	atomic64_t interrupts;
	atomic_t inflight;
	atomic64_t bounced;
};

/**
 * struct hvv_dev_ops - what a device type (blk, net) plugs into the core
 * @name: short name ("blk"), used for threads and messages
 * @device_id: virtio device id
 * @queue_max: QueueNumMax (a power of two)
 * @create: process context; validate @args, take the backend (@devt when
 *	non-zero, a block device named by the device tree; else
 *	args->backend_fd), set dev->priv, dev->nr_vqs, dev->config and
 *	dev->config_len; on error return a negative errno with nothing left
 *	allocated
 * @destroy: process context; undo @create (the device is stopped)
 * @features: device features offered (atomic context)
 * @config_write: optional; a driver write to config space, under dev->lock,
 *	offset and length already bounds-checked against dev->config_len
 * @start: process context, after DRIVER_OK with the queues mapped
 * @stop: process context; when it returns no chain is in flight and no
 *	completion will touch the rings any more.  A queue reset stops and
 *	starts the device: state the driver set (config, filters) stays
 * @reset: optional; process context, the device stopped: the driver reset
 *	the device, return what it may have changed to the values at @create
 * @handle_vq: worker thread context; process the available chains of @vq
 * @fill_info: fill the type-specific part of a DEV_NEXT answer
 * @attach: optional; process context, hvv_lock held: replace the backend
 *	(DEV_ATTACH), @args already checked for reserved fields; return 0
 *	or a negative errno with the old backend kept
 */
struct hvv_dev_ops {
	const char *name;
	u32 device_id;
	u16 queue_max;
	int (*create)(struct hvv_device *dev, struct hvisor_vhost_dev *args,
		      dev_t devt);
	void (*destroy)(struct hvv_device *dev);
	u64 (*features)(struct hvv_device *dev);
	void (*config_write)(struct hvv_device *dev, unsigned int off,
			     const void *buf, unsigned int len);
	int (*start)(struct hvv_device *dev);
	void (*stop)(struct hvv_device *dev);
	void (*reset)(struct hvv_device *dev);
	void (*handle_vq)(struct hvv_vq *vq);
	void (*fill_info)(struct hvv_device *dev, struct hvisor_vhost_dev *info);
	int (*attach)(struct hvv_device *dev,
		      const struct hvisor_vhost_attach *args);
};

/**
 * struct hvv_device - one virtio-mmio device of one zone
 * @node: entry in the device list (RCU for readers, hvv_lock for writers)
 * @rcu: deferred free
 * @id: module-wide id, >= 1
 * @zone: the zone; outlives the device
 * @mmio_base: guest-physical base of the register window
 * @mmio_size: window size
 * @irq: interrupt injected into the zone
 * @flags: HVISOR_VHOST_DEV_F_* (DEV_NEXT reports them)
 * @ops: the device type
 * @priv: the device type's state
 * @config: config space (little-endian), @config_len bytes, owned by @priv
 * @config_len: config space size
 * @lock: protects the register file (fields below up to @vqs) and the
 *	register fields of every queue
 * @status: device status
 * @dev_features_sel: DeviceFeaturesSel
 * @drv_features_sel: DriverFeaturesSel
 * @drv_features: what the driver wrote to DriverFeatures
 * @features: negotiated features, fixed at FEATURES_OK
 * @queue_sel: QueueSel (any value: checked where used)
 * @isr: InterruptStatus
 * @irq_pushed: an interrupt was pushed and not yet acknowledged
 * @irq_timer: repeats the push while it is not acknowledged
 * @irq_retry_us: the next repeat's delay (backoff)
 * @irq_waited_us: how long the repeats have gone unanswered
 * @config_generation: ConfigGeneration
 * @resetting: a reset is being carried out in process context; blocking
 *	accesses wait in @parked until it is done
 * @requeue: queues were reset or enabled again after DRIVER_OK
 *	(VIRTIO_F_RING_RESET): the device is being stopped and started in
 *	process context; accesses wait in @parked as for @resetting
 * @started: queues mapped and the device type started
 * @removing: the device is being removed: DRIVER_OK and reset are ignored
 * @parked: blocking requests that arrived during a reset, one per CPU
 * @parked_mask: which entries of @parked are valid
 * @held_mask: which of them are the Status = 0 writes that started the
 *	reset: they are answered, not replayed, when it is done
 * @nr_vqs: number of queues
 * @vqs: the queues
 * @worker: kthread running the queues' work (those without a worker of
 *	their own); exists from DRIVER_OK until the device is quiesced
 * @state_work: start and reset in process context
 * @stats: counters
 */
struct hvv_device {
	struct list_head node;
	struct rcu_head rcu;
	u32 id;
	struct hvv_zone *zone;
	u64 mmio_base;
	u64 mmio_size;
	u32 irq;
	u32 flags;
	const struct hvv_dev_ops *ops;
	void *priv;
	u8 *config;
	unsigned int config_len;

	spinlock_t lock;	/* register file; taken in the wake-up IRQ */
	u32 status;
	u32 dev_features_sel;
	u32 drv_features_sel;
	u64 drv_features;
	u64 features;
	u32 queue_sel;
	u32 isr;
	bool irq_pushed;
	struct hrtimer irq_timer;
	unsigned int irq_retry_us;
	unsigned int irq_waited_us;
	u32 config_generation;
	bool resetting;
	bool requeue;
	bool started;
	bool removing;
	struct hvv_device_req parked[HVV_BRIDGE_MAX_CPUS];
	u32 parked_mask;
	u32 held_mask;

	unsigned int nr_vqs;
	struct hvv_vq *vqs;
	struct kthread_worker *worker;
	struct work_struct state_work;
	struct hvv_dev_stats stats;
};

static inline bool hvv_has_feature(const struct hvv_device *dev,
				   unsigned int bit)
{
	return dev->features & BIT_ULL(bit);
}

/* device.c */
extern struct mutex hvv_lock;
extern struct list_head hvv_devices;
int hvv_device_add(struct hvisor_vhost_dev *args);
int hvv_zone_reset(u32 zone_id);
int hvv_device_add_dt(struct hvisor_vhost_dev *args, dev_t devt);
int hvv_device_del_at(u32 zone_id, u64 mmio_base);
int hvv_device_del(u32 id);
int hvv_device_next(struct hvisor_vhost_dev *info);
int hvv_device_attach(const struct hvisor_vhost_attach *args);
int hvv_device_stats(struct hvisor_vhost_dev_stats *st);
void hvv_devices_destroy(void);
struct hvv_device *hvv_device_lookup(u32 zone_id, u64 addr);
void hvv_device_kick(struct hvv_device *dev, unsigned int qidx);
void hvv_device_interrupt(struct hvv_device *dev, u32 isr_bits);
void hvv_device_push_irq(struct hvv_device *dev);
extern unsigned int hvv_zone_max_devices;
void hvv_device_config_changed(struct hvv_device *dev);
void hvv_device_broken(struct hvv_device *dev, const char *why);
struct kthread_worker *hvv_device_worker_create(struct hvv_device *dev,
						unsigned int n);

/* mmio.c: the register file; called with dev->lock held */
enum hvv_mmio_result {
	HVV_MMIO_ANSWER,	/* answer now with *value */
	HVV_MMIO_PARK,		/* keep the request until the reset is done */
	HVV_MMIO_HOLD,		/* a write that started a reset: answer */
				/* it once the device has stopped */
};

enum hvv_mmio_result hvv_mmio_access(struct hvv_device *dev, u64 off,
				     u64 size, bool is_write, u64 *value);
void hvv_mmio_reset(struct hvv_device *dev);

/* The device types; each file exports only its table. */
extern const struct hvv_dev_ops hvv_blk_ops;
extern const struct hvv_dev_ops hvv_net_ops;
extern const struct hvv_dev_ops hvv_console_ops;

/* console_tty.c: the hvvcon tty driver, registered with the module */
int hvv_con_tty_init(void);
void hvv_con_tty_exit(void);

#endif /* HVISOR_VHOST_HVV_H */

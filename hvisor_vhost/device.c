// SPDX-License-Identifier: GPL-2.0
/*
 * Devices: the registry, creation and removal, and the device life cycle
 * that needs process context (start at DRIVER_OK, reset, quiesce).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/idr.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/rculist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_mmio.h>

#include "bridge.h"
#include "hvv.h"
#include "vq.h"

/* The zone and device registries; see hvv.h for the lock order. */
DEFINE_MUTEX(hvv_lock);
LIST_HEAD(hvv_devices);
static DEFINE_IDA(hvv_dev_ida);
static unsigned int hvv_nr_devices;

static const struct hvv_dev_ops *const hvv_dev_types[] = {
	&hvv_blk_ops,
	&hvv_net_ops,
	&hvv_console_ops,
};

static const struct hvv_dev_ops *dev_type(u32 device_id)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hvv_dev_types); i++)
		if (hvv_dev_types[i]->device_id == device_id)
			return hvv_dev_types[i];
	return NULL;
}

/**
 * hvv_device_lookup() - the device whose register window holds an address
 * @zone_id: the zone that made the access
 * @addr: guest-physical address
 *
 * Caller holds rcu_read_lock().
 *
 * Return: the device, or NULL.
 */
struct hvv_device *hvv_device_lookup(u32 zone_id, u64 addr)
{
	struct hvv_device *dev;

	list_for_each_entry_rcu(dev, &hvv_devices, node)
		if (dev->zone->id == zone_id && addr >= dev->mmio_base &&
		    addr - dev->mmio_base < dev->mmio_size)
			return dev;
	return NULL;
}

/* Called with dev->lock held, from the register file. */
void hvv_device_kick(struct hvv_device *dev, unsigned int qidx)
{
	struct hvv_vq *vq = &dev->vqs[qidx];

	if (vq->started)
		kthread_queue_work(vq->worker ?: dev->worker, &vq->work);
}

unsigned int hvv_zone_max_devices = 7;
module_param_named(zone_max_devices, hvv_zone_max_devices, uint, 0644);
MODULE_PARM_DESC(zone_max_devices, "devices (each with its interrupt) one zone may have: hvisor fails on the 8th distinct pending interrupt of a zone (default: 7)");

/*
 * Re-pushing an unacknowledged interrupt.  The hypervisor drops an
 * injection while the zone still handles the previous one of the same
 * interrupt (from its acknowledge to its EOI): a push made then, for
 * instance from inside InterruptACK or by a completion that lands in that
 * window, is lost, and a device that pushed only once until the next ACK
 * would stay silent for good.  So while InterruptStatus is set and not
 * acknowledged, the push is repeated with a backoff.  A repeat of an
 * interrupt that is still pending is deduplicated by the hypervisor.  A
 * zone that acknowledges nothing for HVV_IRQ_RETRY_FOR (it stopped) is
 * given up on until its next acknowledge or reset.
 */
#define HVV_IRQ_RETRY_FIRST_US	500
#define HVV_IRQ_RETRY_MAX_US	64000U
#define HVV_IRQ_RETRY_FOR_S	10U
#define HVV_IRQ_RETRY_FOR_US	(HVV_IRQ_RETRY_FOR_S * 1000000U)

static enum hrtimer_restart device_irq_retry(struct hrtimer *t)
{
	struct hvv_device *dev = container_of(t, struct hvv_device, irq_timer);
	enum hrtimer_restart ret = HRTIMER_NORESTART;
	unsigned long flags;

	spin_lock_irqsave(&dev->lock, flags);
	/*
	 * A push meanwhile (hvv_device_push_irq) started the timer anew:
	 * that start stands, this expiry is void.
	 */
	if (hrtimer_is_queued(t) || !dev->irq_pushed || !dev->isr)
		goto out;
	if (dev->irq_waited_us >= HVV_IRQ_RETRY_FOR_US) {
		pr_warn_ratelimited("zone %u dev %u: interrupt %u unacknowledged for %u s: no more pushes until the driver acknowledges\n",
				    dev->zone->id, dev->id, dev->irq,
				    HVV_IRQ_RETRY_FOR_S);
		goto out;
	}
	hvv_bridge_reinject(dev->zone->id, dev->irq);
	dev->irq_waited_us += dev->irq_retry_us;
	dev->irq_retry_us = min(2 * dev->irq_retry_us, HVV_IRQ_RETRY_MAX_US);
	hrtimer_forward_now(t, ns_to_ktime((u64)dev->irq_retry_us * NSEC_PER_USEC));
	ret = HRTIMER_RESTART;
out:
	spin_unlock_irqrestore(&dev->lock, flags);
	return ret;
}

/**
 * hvv_device_push_irq() - push the device's interrupt to the hypervisor
 * @dev: the device, dev->lock held, InterruptStatus non-zero
 *
 * The push is repeated until the driver acknowledges (see above).
 */
void hvv_device_push_irq(struct hvv_device *dev)
{
	dev->irq_pushed = true;
	atomic64_inc(&dev->stats.interrupts);
	/* A push that found the result ring full is retried the same way. */
	hvv_bridge_inject(dev->zone->id, dev->irq);
	dev->irq_retry_us = HVV_IRQ_RETRY_FIRST_US;
	dev->irq_waited_us = 0;
	hrtimer_start(&dev->irq_timer, ns_to_ktime((u64)dev->irq_retry_us * NSEC_PER_USEC),
		      HRTIMER_MODE_REL);
}

/**
 * hvv_device_interrupt() - raise the device's interrupt
 * @dev: the device
 * @isr_bits: VIRTIO_MMIO_INT_VRING and/or VIRTIO_MMIO_INT_CONFIG
 *
 * Any context.  The interrupt is pushed to the hypervisor once (and
 * repeated while unacknowledged); further events only add InterruptStatus
 * bits until the driver acknowledges.
 */
void hvv_device_interrupt(struct hvv_device *dev, u32 isr_bits)
{
	unsigned long flags;

	spin_lock_irqsave(&dev->lock, flags);
	dev->isr |= isr_bits;
	if (!dev->irq_pushed)
		hvv_device_push_irq(dev);
	spin_unlock_irqrestore(&dev->lock, flags);
}

/**
 * hvv_device_config_changed() - tell the driver that config space changed
 * @dev: the device
 *
 * Any context.
 */
void hvv_device_config_changed(struct hvv_device *dev)
{
	unsigned long flags;

	spin_lock_irqsave(&dev->lock, flags);
	dev->config_generation++;
	spin_unlock_irqrestore(&dev->lock, flags);
	hvv_device_interrupt(dev, VIRTIO_MMIO_INT_CONFIG);
}

/**
 * hvv_device_broken() - the driver broke the protocol: DEVICE_NEEDS_RESET
 * @dev: the device
 * @why: what happened, for the log
 *
 * Any context.  The device stops processing until the driver resets it.
 */
void hvv_device_broken(struct hvv_device *dev, const char *why)
{
	unsigned long flags;
	bool first;

	spin_lock_irqsave(&dev->lock, flags);
	first = !(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	dev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	spin_unlock_irqrestore(&dev->lock, flags);
	if (!first)
		return;
	atomic64_inc(&dev->stats.errors);
	pr_warn_ratelimited("zone %u dev %u: %s: device needs reset\n",
			    dev->zone->id, dev->id, why);
	hvv_device_interrupt(dev, VIRTIO_MMIO_INT_CONFIG);
}

/*
 * Stop all processing: no worker runs, no request is in flight.  The
 * queues keep their rings and indices.  Process context.
 */
static void device_pause(struct hvv_device *dev)
{
	unsigned int i;
	bool started;

	spin_lock_irq(&dev->lock);
	started = dev->started;
	dev->started = false;	/* no new kicks from now on */
	spin_unlock_irq(&dev->lock);

	if (dev->worker)
		kthread_flush_worker(dev->worker);
	if (started)
		dev->ops->stop(dev);
	/*
	 * Completions of the last requests may have queued work again; the
	 * worker flushes it before it ends.  The next DRIVER_OK makes a new
	 * one, so a device the driver does not use has no thread.
	 */
	if (dev->worker) {
		kthread_destroy_worker(dev->worker);
		dev->worker = NULL;
	}
	for (i = 0; i < dev->nr_vqs; i++)
		hvv_vq_init_work(&dev->vqs[i]);
}

/* As device_pause(), and the rings are unmapped. */
static void device_quiesce(struct hvv_device *dev)
{
	unsigned int i;

	device_pause(dev);
	for (i = 0; i < dev->nr_vqs; i++)
		hvv_vq_stop(&dev->vqs[i]);
}

/**
 * hvv_device_worker_create() - a worker thread for a device's queues
 * @dev: the device
 * @n: 0 for the device's own worker, else the number of an extra one
 *	(a queue or queue pair) that the device type starts and stops
 *
 * Context: process context.
 * Return: the worker or an ERR_PTR().
 */
struct kthread_worker *hvv_device_worker_create(struct hvv_device *dev,
						unsigned int n)
{
	if (!n)
		return kthread_create_worker(0, "hvv-%s%u", dev->ops->name,
					     dev->id);
	return kthread_create_worker(0, "hvv-%s%u-%u", dev->ops->name, dev->id,
				     n);
}

/*
 * Answer the parked requests, one at a time, in process context.  Only
 * those parked now: a replayed access may start another reset or queue
 * change, which parks the accesses after it again and queues the state
 * work that replays them when that is done.
 */
static void replay_parked(struct hvv_device *dev, bool removed)
{
	struct hvv_device_req req;
	unsigned long todo;
	unsigned int cpu;

	spin_lock_irq(&dev->lock);
	todo = dev->parked_mask;
	spin_unlock_irq(&dev->lock);

	for_each_set_bit(cpu, &todo, HVV_BRIDGE_MAX_CPUS) {
		bool held;

		spin_lock_irq(&dev->lock);
		/* One blocking request per CPU: still the one we saw. */
		if (!(dev->parked_mask & BIT(cpu))) {
			spin_unlock_irq(&dev->lock);
			continue;
		}
		dev->parked_mask &= ~BIT(cpu);
		held = dev->held_mask & BIT(cpu);
		dev->held_mask &= ~BIT(cpu);
		req = dev->parked[cpu];
		spin_unlock_irq(&dev->lock);
		if (held)	/* the reset it asked for is done */
			hvv_bridge_answer(req.src_cpu, 0);
		else	/* a removed device answers like an empty address: 0 */
			hvv_bridge_dispatch(removed ? NULL : dev, &req);
	}
}

static void device_reset(struct hvv_device *dev)
{
	device_quiesce(dev);
	if (dev->ops->reset)
		dev->ops->reset(dev);
	spin_lock_irq(&dev->lock);
	hvv_mmio_reset(dev);
	dev->resetting = false;
	dev->requeue = false;	/* the reset undid every queue change */
	spin_unlock_irq(&dev->lock);
	replay_parked(dev, false);
}

static void device_start(struct hvv_device *dev)
{
	unsigned int i;
	int ret;

	spin_lock_irq(&dev->lock);
	if (dev->started || dev->resetting ||
	    !(dev->status & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    dev->status & VIRTIO_CONFIG_S_NEEDS_RESET) {
		spin_unlock_irq(&dev->lock);
		return;
	}
	spin_unlock_irq(&dev->lock);

	/* Threads exist only while the driver runs the device. */
	dev->worker = hvv_device_worker_create(dev, 0);
	if (IS_ERR(dev->worker)) {
		dev->worker = NULL;
		hvv_device_broken(dev, "no worker thread");
		return;
	}
	for (i = 0; i < dev->nr_vqs; i++) {
		bool ready;

		spin_lock_irq(&dev->lock);
		ready = dev->vqs[i].ready;
		spin_unlock_irq(&dev->lock);
		/*
		 * Not a queue the driver uses, or one that kept running
		 * across a queue reset (device_requeue()).
		 */
		if (!ready || dev->vqs[i].started)
			continue;
		ret = hvv_vq_start(&dev->vqs[i]);
		if (ret) {
			hvv_device_broken(dev, "queue setup refused");
			goto fail;
		}
	}
	ret = dev->ops->start(dev);
	if (ret) {
		hvv_device_broken(dev, "device start failed");
		goto fail;
	}

	spin_lock_irq(&dev->lock);
	dev->started = true;
	/* Buffers made available before we started wait for a kick. */
	for (i = 0; i < dev->nr_vqs; i++)
		hvv_device_kick(dev, i);
	spin_unlock_irq(&dev->lock);
	return;
fail:
	for (i = 0; i < dev->nr_vqs; i++)
		hvv_vq_stop(&dev->vqs[i]);
	kthread_destroy_worker(dev->worker);
	dev->worker = NULL;
}

/*
 * Queues were reset or enabled again while the device runs: stop the
 * device, carry out the queue resets, and start it again with the queues
 * now ready.  The other queues pause meanwhile (their requests in flight
 * complete first) and go on where they were, indices and all; the
 * driver's settings stay (no ops->reset).  The zone's
 * accesses to the device are parked until this is done: the driver's next
 * read of QueueReset gives 0, the reset complete.
 */
static void device_requeue(struct hvv_device *dev)
{
	unsigned int i;

	device_pause(dev);
	for (i = 0; i < dev->nr_vqs; i++)
		if (dev->vqs[i].reset_pending)
			hvv_vq_stop(&dev->vqs[i]);
	spin_lock_irq(&dev->lock);
	for (i = 0; i < dev->nr_vqs; i++) {
		struct hvv_vq *vq = &dev->vqs[i];

		if (vq->reset_pending) {
			hvv_vq_reset(vq);
			vq->reset = true;
		}
	}
	dev->requeue = false;
	spin_unlock_irq(&dev->lock);
	device_start(dev);
	replay_parked(dev, false);
}

static void device_state_work(struct work_struct *work)
{
	struct hvv_device *dev = container_of(work, struct hvv_device,
					      state_work);
	bool resetting, requeue;

	spin_lock_irq(&dev->lock);
	resetting = dev->resetting;
	requeue = dev->requeue;
	spin_unlock_irq(&dev->lock);

	if (resetting)
		device_reset(dev);
	else if (requeue)
		device_requeue(dev);
	else
		device_start(dev);
}

/*
 * Reset @dev as its driver's Status = 0 would, and wait until it is done.
 * Caller holds hvv_lock (no removal runs).
 */
static void device_reset_sync(struct hvv_device *dev)
{
	spin_lock_irq(&dev->lock);
	if (dev->removing) {
		spin_unlock_irq(&dev->lock);
		return;
	}
	dev->resetting = true;
	spin_unlock_irq(&dev->lock);
	queue_work(system_unbound_wq, &dev->state_work);
	flush_work(&dev->state_work);
}

/**
 * hvv_zone_reset() - reset every device of a zone (ZONE_RESET)
 * @zone_id: the zone
 *
 * For a zone that was shut down: its driver will never reset its devices,
 * whose workers would go on writing into its RAM (where the next boot
 * loads its kernel) and pushing its interrupts.  When this returns every
 * device of the zone is as after a reset by its driver: stopped, ready for
 * the zone's next boot.
 *
 * Return: the number of devices reset, or -ENOENT for an unknown zone.
 */
int hvv_zone_reset(u32 zone_id)
{
	struct hvv_device *dev;
	int n = 0;

	if (mutex_lock_killable(&hvv_lock))
		return -EINTR;
	if (!hvv_zone_find(zone_id)) {
		mutex_unlock(&hvv_lock);
		return -ENOENT;
	}
	list_for_each_entry(dev, &hvv_devices, node) {
		if (dev->zone->id != zone_id)
			continue;
		device_reset_sync(dev);
		n++;
	}
	mutex_unlock(&hvv_lock);
	pr_info("zone %u: %d device(s) reset\n", zone_id, n);
	return n;
}

static int check_args(const struct hvisor_vhost_dev *a)
{
	u64 end;

	if (a->flags || a->reserved0 ||
	    memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	if (a->mmio_size < HVV_MMIO_MIN_SIZE || a->mmio_size > SZ_1M ||
	    !IS_ALIGNED(a->mmio_base, HVV_MMIO_MIN_SIZE) ||
	    !IS_ALIGNED(a->mmio_size, HVV_MMIO_MIN_SIZE) ||
	    check_add_overflow(a->mmio_base, a->mmio_size, &end))
		return -EINVAL;
	if (!a->irq)
		return -EINVAL;
	return 0;
}

/* Caller holds hvv_lock. */
static int check_conflicts(const struct hvv_zone *zone,
			   const struct hvisor_vhost_dev *a)
{
	struct hvv_device *dev;
	unsigned int i;

	for (i = 0; i < zone->nr_regions; i++) {
		const struct hvv_region *r = &zone->regions[i];

		if (a->mmio_base < r->gpa + r->size &&
		    r->gpa < a->mmio_base + a->mmio_size)
			return -EINVAL;	/* registers inside RAM */
	}
	list_for_each_entry(dev, &hvv_devices, node) {
		if (dev->zone != zone)
			continue;
		if (a->mmio_base < dev->mmio_base + dev->mmio_size &&
		    dev->mmio_base < a->mmio_base + a->mmio_size)
			return -EEXIST;
		if (dev->irq == a->irq)
			return -EEXIST;
	}
	return 0;
}

static void device_free(struct hvv_device *dev)
{
	hrtimer_cancel(&dev->irq_timer);
	if (dev->worker)
		kthread_destroy_worker(dev->worker);
	kfree(dev->vqs);
	if (dev->id)
		ida_free(&hvv_dev_ida, dev->id);
	kfree(dev);
}

/* Everything that does not depend on the device type. Caller holds hvv_lock. */
static struct hvv_device *device_alloc(struct hvv_zone *zone,
				       const struct hvv_dev_ops *ops,
				       const struct hvisor_vhost_dev *a)
{
	struct hvv_device *dev;
	int id;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	id = ida_alloc_range(&hvv_dev_ida, 1, INT_MAX, GFP_KERNEL);
	if (id < 0) {
		kfree(dev);
		return ERR_PTR(id);
	}
	dev->id = id;
	dev->zone = zone;
	dev->ops = ops;
	dev->mmio_base = a->mmio_base;
	dev->mmio_size = a->mmio_size;
	dev->irq = a->irq;
	spin_lock_init(&dev->lock);
	hrtimer_setup(&dev->irq_timer, device_irq_retry, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL);
	INIT_WORK(&dev->state_work, device_state_work);
	return dev;
}

static int device_init_vqs(struct hvv_device *dev)
{
	unsigned int i;

	if (!dev->nr_vqs || dev->nr_vqs > HVV_MAX_QUEUES)
		return -EINVAL;
	dev->vqs = kcalloc(dev->nr_vqs, sizeof(*dev->vqs), GFP_KERNEL);
	if (!dev->vqs)
		return -ENOMEM;
	for (i = 0; i < dev->nr_vqs; i++)
		hvv_vq_init(&dev->vqs[i], dev, i);
	return 0;
}

static int device_create(struct hvisor_vhost_dev *args, dev_t devt,
			 u32 flags)
{
	const struct hvv_dev_ops *ops = dev_type(args->type);
	struct hvv_device *dev;
	struct hvv_zone *zone;
	int ret;

	if (!ops)
		return -EINVAL;
	ret = check_args(args);
	if (ret)
		return ret;

	if (mutex_lock_killable(&hvv_lock))
		return -EINTR;
	zone = hvv_zone_find(args->zone_id);
	if (!zone) {
		ret = -ENOENT;
		goto out;
	}
	ret = check_conflicts(zone, args);
	if (ret)
		goto out;
	if (hvv_nr_devices >= HVV_MAX_DEVICES) {
		ret = -ENOSPC;
		goto out;
	}
	if (zone->nr_devices >= hvv_zone_max_devices) {
		pr_err("zone %u: no more than %u devices: the hypervisor keeps at most that many interrupts of one zone pending (zone_max_devices)\n",
		       zone->id, hvv_zone_max_devices);
		ret = -ENOSPC;
		goto out;
	}
	dev = device_alloc(zone, ops, args);
	if (IS_ERR(dev)) {
		ret = PTR_ERR(dev);
		goto out;
	}
	dev->flags = flags;
	ret = ops->create(dev, args, devt);
	if (ret) {
		device_free(dev);
		goto out;
	}
	ret = device_init_vqs(dev);
	if (ret) {
		ops->destroy(dev);
		device_free(dev);
		goto out;
	}
	args->dev_id = dev->id;
	zone->nr_devices++;
	hvv_nr_devices++;
	/* Fully set up before the interrupt handler can find it. */
	list_add_tail_rcu(&dev->node, &hvv_devices);
	pr_info("zone %u dev %u: virtio-%s at %#llx+%#llx irq %u\n", zone->id,
		dev->id, ops->name, dev->mmio_base, dev->mmio_size, dev->irq);
out:
	mutex_unlock(&hvv_lock);
	return ret;
}

/**
 * hvv_device_add() - create a device (DEV_ADD)
 * @args: the request; dev_id and the type's out fields are filled in
 *
 * Return: 0 or a negative errno (see the uapi header); nothing is left
 * behind on failure.
 */
int hvv_device_add(struct hvisor_vhost_dev *args)
{
	return device_create(args, 0, 0);
}

/**
 * hvv_device_add_dt() - create a device the device tree declares
 * @args: as for hvv_device_add(); backend_fd is ignored
 * @devt: virtio-blk: the block device (the device tree names it by path);
 *	virtio-net: 0 (the device starts without a tap)
 *
 * DEV_NEXT reports the device with HVISOR_VHOST_DEV_F_DT.
 *
 * Return: as hvv_device_add(); -ENXIO (among others) while no disk has
 * that number yet.
 */
int hvv_device_add_dt(struct hvisor_vhost_dev *args, dev_t devt)
{
	bool blk = args->type == HVISOR_VHOST_DEV_BLK;

	/* A disk comes with its block device, a net device without a tap. */
	if (blk != !!devt)
		return -EINVAL;
	args->backend_fd = -1;
	return device_create(args, devt, HVISOR_VHOST_DEV_F_DT);
}

/*
 * How long a removal waits for the driver to acknowledge the interrupts of
 * the requests completed while quiescing.  Once the device is gone its
 * InterruptStatus reads 0 and a driver would drop them; a zone that never
 * acknowledges costs the removal this much, no more.
 */
#define HVV_REMOVE_ACK_WAIT	(2 * HZ)

static void device_wait_ack(struct hvv_device *dev)
{
	unsigned long deadline = jiffies + HVV_REMOVE_ACK_WAIT;
	u32 isr;

	for (;;) {
		spin_lock_irq(&dev->lock);
		isr = dev->isr;
		spin_unlock_irq(&dev->lock);
		if (!isr || time_after(jiffies, deadline))
			return;
		usleep_range(1000, 2000);
	}
}

/*
 * Removal, in two halves.  The first marks the device (hvv_lock held):
 * nothing starts, resets or attaches it from then on, and a second
 * removal does not find it.  The second quiesces it with hvv_lock
 * released, since that waits for the backing device (which may take as
 * long as it likes) and for the zone's acknowledge, then unlists and
 * frees it under hvv_lock.  Returns false when the device is already
 * being removed.
 */
static bool device_remove_begin(struct hvv_device *dev)
{
	bool first;

	spin_lock_irq(&dev->lock);
	first = !dev->removing;
	dev->removing = true;	/* no start, no reset from now on */
	spin_unlock_irq(&dev->lock);
	return first;
}

/* Called without hvv_lock; takes it. */
static void device_remove_finish(struct hvv_device *dev)
{
	cancel_work_sync(&dev->state_work);
	/*
	 * Quiesce while the zone can still reach the register file: the
	 * requests that complete now raise interrupts, and the driver must
	 * be able to read InterruptStatus to take them.
	 */
	device_quiesce(dev);
	device_wait_ack(dev);

	mutex_lock(&hvv_lock);
	list_del_rcu(&dev->node);
	/* After this no interrupt handler can reach the device. */
	synchronize_rcu();
	replay_parked(dev, true);
	dev->ops->destroy(dev);
	dev->zone->nr_devices--;
	hvv_nr_devices--;
	mutex_unlock(&hvv_lock);
	pr_info("zone %u dev %u removed\n", dev->zone->id, dev->id);
	device_free(dev);
}

typedef bool (*hvv_dev_match_t)(struct hvv_device *dev, const void *arg);

/* The device @match finds, its removal begun; NULL if none.  Killable. */
static struct hvv_device *device_remove_find(hvv_dev_match_t match,
					     const void *arg, int *err)
{
	struct hvv_device *dev, *found = NULL;

	*err = mutex_lock_killable(&hvv_lock);
	if (*err)
		return NULL;
	*err = -ENOENT;
	list_for_each_entry(dev, &hvv_devices, node) {
		if (match(dev, arg) && device_remove_begin(dev)) {
			found = dev;
			*err = 0;
			break;
		}
	}
	mutex_unlock(&hvv_lock);
	return found;
}

static bool match_id(struct hvv_device *dev, const void *arg)
{
	return dev->id == *(const u32 *)arg;
}

struct window {
	u32 zone_id;
	u64 base;
};

static bool match_window(struct hvv_device *dev, const void *arg)
{
	const struct window *w = arg;

	return dev->zone->id == w->zone_id && dev->mmio_base == w->base;
}

/**
 * hvv_device_del() - remove a device (DEV_DEL), quiescing its I/O first
 * @id: device id
 *
 * Return: 0, -ENOENT (also while another removal of it runs), or -EINTR
 * when killed before the removal began; once begun it is not killable.
 */
int hvv_device_del(u32 id)
{
	struct hvv_device *dev;
	int ret;

	dev = device_remove_find(match_id, &id, &ret);
	if (dev)
		device_remove_finish(dev);
	return ret;
}

/**
 * hvv_device_del_at() - remove the device at a register window
 * @zone_id: its zone
 * @mmio_base: the base of its window
 *
 * Windows of one zone do not overlap, so this names one device whatever
 * its id (ids are reused).
 *
 * Return: 0, -ENOENT, or -EINTR when killed before the removal began.
 */
int hvv_device_del_at(u32 zone_id, u64 mmio_base)
{
	struct window w = { .zone_id = zone_id, .base = mmio_base };
	struct hvv_device *dev;
	int ret;

	dev = device_remove_find(match_window, &w, &ret);
	if (dev)
		device_remove_finish(dev);
	return ret;
}

/**
 * hvv_device_next() - the device with the smallest id >= info->dev_id
 * @info: in: dev_id; out: the device
 *
 * Return: 0, or -ENOENT when there is none.
 */
int hvv_device_next(struct hvisor_vhost_dev *info)
{
	struct hvv_device *dev, *best = NULL;

	if (mutex_lock_killable(&hvv_lock))
		return -EINTR;
	list_for_each_entry(dev, &hvv_devices, node)
		if (dev->id >= info->dev_id && (!best || dev->id < best->id))
			best = dev;
	if (best) {
		memset(info, 0, sizeof(*info));
		info->dev_id = best->id;
		info->type = best->ops->device_id;
		info->zone_id = best->zone->id;
		info->irq = best->irq;
		info->mmio_base = best->mmio_base;
		info->mmio_size = best->mmio_size;
		info->backend_fd = -1;
		info->num_queues = best->nr_vqs;
		info->flags = best->flags;
		best->ops->fill_info(best, info);
	}
	mutex_unlock(&hvv_lock);
	return best ? 0 : -ENOENT;
}

/**
 * hvv_device_attach() - give a device a new backend (DEV_ATTACH)
 * @args: the request
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int hvv_device_attach(const struct hvisor_vhost_attach *args)
{
	struct hvv_device *dev;
	int ret = -ENOENT;

	if (args->flags || memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;
	if (mutex_lock_killable(&hvv_lock))
		return -EINTR;
	list_for_each_entry(dev, &hvv_devices, node) {
		if (dev->id != args->dev_id || dev->removing)
			continue;
		ret = dev->ops->attach ? dev->ops->attach(dev, args) : -EINVAL;
		break;
	}
	mutex_unlock(&hvv_lock);
	return ret;
}

/**
 * hvv_device_stats() - read a device's counters (DEV_STATS)
 * @st: in: dev_id; out: the counters
 *
 * Return: 0, or -ENOENT when there is no such device.
 */
int hvv_device_stats(struct hvisor_vhost_dev_stats *st)
{
	struct hvv_device *dev;
	int ret = -ENOENT;

	if (mutex_lock_killable(&hvv_lock))
		return -EINTR;
	list_for_each_entry(dev, &hvv_devices, node) {
		if (dev->id != st->dev_id)
			continue;
		st->requests = atomic64_read(&dev->stats.requests);
		st->bytes = atomic64_read(&dev->stats.bytes);
		st->errors = atomic64_read(&dev->stats.errors);
		st->kicks = atomic64_read(&dev->stats.kicks);
		st->interrupts = atomic64_read(&dev->stats.interrupts);
		st->inflight = max(atomic_read(&dev->stats.inflight), 0);
		st->bounced = atomic64_read(&dev->stats.bounced);
		ret = 0;
		break;
	}
	mutex_unlock(&hvv_lock);
	return ret;
}

/* Module exit. */
void hvv_devices_destroy(void)
{
	struct hvv_device *dev;

	for (;;) {
		mutex_lock(&hvv_lock);
		dev = list_first_entry_or_null(&hvv_devices, struct hvv_device,
					       node);
		/* Module exit: no ioctl runs, so nobody else removes it. */
		if (dev)
			device_remove_begin(dev);
		mutex_unlock(&hvv_lock);
		if (!dev)
			return;
		device_remove_finish(dev);
	}
}

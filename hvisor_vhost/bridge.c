// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio bridge: the page shared with the hypervisor, its request
 * consumer, the per-CPU answers and the result ring.
 *
 * The wake-up interrupt handler drains the request ring and emulates each
 * register access right there, while the zone's vCPU spins in the
 * hypervisor waiting for the answer.  Nothing here sleeps.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/interrupt.h>
#include <linux/gfp.h>
#include <linux/mm.h>

#include "bridge.h"
#include "hvv.h"
#include "hyp.h"

static struct hvv_bridge_page *bridge;
static const struct hvv_hyp_ops *hyp;
static int bridge_irq = -1;
/* Producers of the result ring: device interrupts come from any context. */
static DEFINE_SPINLOCK(res_lock);
/* The one consumer of the request ring at a time (handler or set_irq). */
static DEFINE_SPINLOCK(drain_lock);

/**
 * hvv_bridge_answer() - release a vCPU waiting for a blocking access
 * @cpu: the physical CPU named in the request
 * @value: what a read returns (ignored by the hypervisor for writes)
 *
 * Any context.  Each request has its own CPU slot: a CPU waits for at most
 * one answer at a time, so slots need no lock.
 */
void hvv_bridge_answer(u64 cpu, u64 value)
{
	if (cpu >= HVV_BRIDGE_MAX_CPUS) {
		pr_err_ratelimited("request from CPU %llu cannot be answered\n",
				   cpu);
		return;
	}
	WRITE_ONCE(bridge->cfg_values[cpu], value);
	/*
	 * The value must be visible before the flag moves: the hypervisor
	 * reads cfg_values as soon as it sees cfg_flags change.
	 */
	smp_wmb();
	WRITE_ONCE(bridge->cfg_flags[cpu], bridge->cfg_flags[cpu] + 1);
	/* Publish the flag now rather than whenever the store drains. */
	smp_wmb();
}

/*
 * Push one interrupt into the result ring.  The hypervisor empties the whole
 * ring in every FINISH_REQ hypercall, so a full ring is drained by calling
 * it once before pushing.  Caller holds res_lock.
 */
static bool res_push(u32 zone, u32 irq)
{
	u32 rear = bridge->res_rear % HVV_BRIDGE_MAX_REQ;

	if (hvv_ring_next(rear) == READ_ONCE(bridge->res_front)) {
		hyp->finish_req();
		if (hvv_ring_next(rear) == READ_ONCE(bridge->res_front))
			return false;
	}
	bridge->res_list[rear].target_zone = zone;
	bridge->res_list[rear].irq_id = irq;
	/*
	 * The entry must be visible before the new rear; pairs with the
	 * hypervisor's read barrier between reading res_rear and the entries.
	 */
	smp_wmb();
	WRITE_ONCE(bridge->res_rear, hvv_ring_next(rear));
	return true;
}

/**
 * hvv_bridge_inject() - ask the hypervisor to inject an interrupt
 * @zone: target zone
 * @irq: hypervisor interrupt number
 *
 * Any context.  Callers coalesce (one push per unacknowledged interrupt of a
 * device), which keeps the hypervisor under its per-CPU pending limit.
 */
void hvv_bridge_inject(u32 zone, u32 irq)
{
	unsigned long flags;
	bool pushed;

	spin_lock_irqsave(&res_lock, flags);
	pushed = res_push(zone, irq);
	spin_unlock_irqrestore(&res_lock, flags);
	if (pushed)
		hyp->finish_req();
	else
		pr_err_ratelimited("result ring full: interrupt %u of zone %u lost\n",
				   irq, zone);
}

/**
 * hvv_bridge_dispatch() - apply one request to its device and answer it
 * @dev: the device (NULL: no device at that address, reads return 0)
 * @req: a copy of the request
 *
 * Any context.  A blocking request for a device in the middle of a reset is
 * parked in the device and answered when the reset completes.
 */
void hvv_bridge_dispatch(struct hvv_device *dev, const struct hvv_device_req *req)
{
	enum hvv_mmio_result res;
	unsigned long flags;
	u64 value = req->value;

	if (!dev) {
		pr_debug("zone %u: no device at %#llx\n", req->src_zone,
			 req->address);
		if (!req->need_interrupt)
			hvv_bridge_answer(req->src_cpu, 0);
		return;
	}

	spin_lock_irqsave(&dev->lock, flags);
	res = hvv_mmio_access(dev, req->address - dev->mmio_base, req->size,
			      req->is_write, &value);
	if (res == HVV_MMIO_PARK && !req->need_interrupt &&
	    req->src_cpu < HVV_BRIDGE_MAX_CPUS) {
		dev->parked[req->src_cpu] = *req;
		dev->parked_mask |= BIT(req->src_cpu);
		spin_unlock_irqrestore(&dev->lock, flags);
		return;
	}
	spin_unlock_irqrestore(&dev->lock, flags);

	if (!req->need_interrupt)
		hvv_bridge_answer(req->src_cpu, res == HVV_MMIO_ANSWER ? value : 0);
}

static void bridge_handle(const struct hvv_device_req *req)
{
	struct hvv_device *dev;

	rcu_read_lock();
	dev = hvv_device_lookup(req->src_zone, req->address);
	hvv_bridge_dispatch(dev, req);
	rcu_read_unlock();
}

/* Drain the request ring; returns the number of requests handled. */
static unsigned int bridge_drain(void)
{
	u32 front = READ_ONCE(bridge->req_front) % HVV_BRIDGE_MAX_REQ;
	unsigned int n = 0;
	u32 rear;

	for (;;) {
		struct hvv_device_req req;

		rear = READ_ONCE(bridge->req_rear) % HVV_BRIDGE_MAX_REQ;
		if (front == rear)
			break;
		/*
		 * Read the entry only after seeing the rear that covers it;
		 * pairs with the hypervisor's write barrier between filling
		 * req_list[rear] and advancing req_rear.
		 */
		smp_rmb();
		memcpy(&req, &bridge->req_list[front], sizeof(req));
		front = hvv_ring_next(front);
		/*
		 * Hand the slot back only after our copy is complete (load ->
		 * store ordering): the hypervisor refills it as soon as it
		 * sees req_front move.
		 */
		smp_store_release(&bridge->req_front, front);
		bridge_handle(&req);
		n++;
	}
	return n;
}

static irqreturn_t bridge_interrupt(int irq, void *data)
{
	unsigned int n = 0, got;
	unsigned long flags;

	/*
	 * need_wakeup stays 1 all the time: the hypervisor checks it without
	 * a full barrier after publishing req_rear, so a handshake that
	 * clears it could lose a wake-up.  Draining until the ring reads
	 * empty after a pass covers requests pushed while we ran.
	 */
	spin_lock_irqsave(&drain_lock, flags);
	do {
		got = bridge_drain();
		n += got;
	} while (got);
	spin_unlock_irqrestore(&drain_lock, flags);
	return n ? IRQ_HANDLED : IRQ_NONE;
}

/**
 * hvv_bridge_init() - allocate the bridge and register it
 * @ops: the hypervisor interface
 *
 * Return: 0 or a negative errno.
 */
int hvv_bridge_init(const struct hvv_hyp_ops *ops)
{
	int ret;

	bridge = (struct hvv_bridge_page *)get_zeroed_page(GFP_KERNEL);
	if (!bridge)
		return -ENOMEM;
	hyp = ops;
	WRITE_ONCE(bridge->need_wakeup, 1);
	ret = hyp->register_bridge(bridge);
	if (ret) {
		pr_err("%s: cannot register the bridge: %d\n", hyp->name, ret);
		free_page((unsigned long)bridge);
		bridge = NULL;
	}
	return ret;
}

/**
 * hvv_bridge_set_irq() - take the wake-up interrupt
 * @irq: Linux IRQ number
 *
 * Return: 0 or a negative errno.
 */
int hvv_bridge_set_irq(int irq)
{
	int ret;

	ret = request_irq(irq, bridge_interrupt, 0, HVV_NAME, bridge);
	if (ret) {
		pr_err("cannot take wake-up interrupt %d: %d\n", irq, ret);
		return ret;
	}
	bridge_irq = irq;
	/* Requests may have been pushed before we listened. */
	bridge_interrupt(irq, bridge);
	return 0;
}

int hvv_bridge_irq(void)
{
	return bridge_irq;
}

/* Module exit: every device is gone, nothing can push any more. */
void hvv_bridge_exit(void)
{
	if (bridge_irq >= 0)
		free_irq(bridge_irq, bridge);
	bridge_irq = -1;
	if (!bridge)
		return;
	if (hyp->unregister_bridge)
		hyp->unregister_bridge();
	free_page((unsigned long)bridge);
	bridge = NULL;
}

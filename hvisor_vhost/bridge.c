// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio bridge: the page shared with the hypervisor, its request
 * consumer, the per-CPU answers and the result ring.
 *
 * Register accesses are answered as soon as root looks at the request
 * ring, while the zone's vCPU spins in the hypervisor.  Root looks:
 *
 *  - in the wake-up interrupt's hard handler, for at most irq_budget
 *    requests, so that a zone flooding posted notifies cannot hold root's
 *    CPU in interrupt context;
 *  - in the interrupt's thread, which runs after the handler's EOI and
 *    drains until the ring reads empty.  The hypervisor drops a wake-up
 *    while the interrupt is still pending or active in root's list
 *    register, i.e. from the handler's acknowledge to its EOI; a request
 *    pushed in that window is seen by the thread, and one pushed after
 *    the thread's last look gets a wake-up of its own;
 *  - optionally (poll_us) in a polling thread that keeps looking for a
 *    while after each wake-up with the wake-ups turned off, which saves
 *    a hypervisor round trip per access when accesses come in bursts;
 *  - or only in that thread (wakeup=poll), for hypervisors that send no
 *    wake-up at all.
 *
 * Nothing here sleeps except the threads between their looks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/timer.h>

#include "bridge.h"
#include "hvv.h"
#include "hyp.h"

static unsigned int irq_budget = 32;
module_param(irq_budget, uint, 0644);
MODULE_PARM_DESC(irq_budget, "requests handled in the wake-up interrupt's hard handler before the rest goes to its thread (default: 32)");

static unsigned int poll_us;
module_param(poll_us, uint, 0644);
MODULE_PARM_DESC(poll_us, "after a wake-up, keep polling the request ring with wake-ups off for this many microseconds of idleness (default: 0, no polling)");

static char *wakeup = "irq";
module_param(wakeup, charp, 0444);
MODULE_PARM_DESC(wakeup, "irq (default): the hypervisor's wake-up interrupt; poll: a thread polls the ring and no interrupt is taken (a hypervisor that sends no wake-up)");

static unsigned int poll_sleep_us = 100;
module_param(poll_sleep_us, uint, 0644);
MODULE_PARM_DESC(poll_sleep_us, "wakeup=poll: sleep between looks at an idle ring, in microseconds (default: 100)");

/**
 * struct hvv_bridge_stats - where requests were handled (debugfs "bridge")
 * @wakeups: wake-up interrupts taken
 * @hardirq: requests handled in the hard handler
 * @thread: requests handled by the interrupt thread (after the EOI)
 * @polled: requests handled by the polling thread
 * @watchdog: requests found by the look after a polling phase
 * @budget_hit: hard handlers that left requests to the thread
 * @res_full: pushes that found the result ring full (retried)
 * @irq_retries: interrupts pushed again while unacknowledged
 */
struct hvv_bridge_stats {
	atomic64_t wakeups;
	atomic64_t hardirq;
	atomic64_t thread;
	atomic64_t polled;
	atomic64_t watchdog;
	atomic64_t budget_hit;
	atomic64_t res_full;
	atomic64_t irq_retries;
};

static struct hvv_bridge_page *bridge;
static const struct hvv_hyp_ops *hyp;
/* Set once the hypervisor knows the page; the handlers ignore it before. */
static bool bridge_live;
static bool bridge_polls;	/* wakeup=poll */
static int bridge_irq = -1;
static struct task_struct *poll_task;
static struct timer_list bridge_watchdog;
static struct hvv_bridge_stats bstats;
static struct dentry *bridge_debugfs;
/* Producers of the result ring: device interrupts come from any context. */
static DEFINE_SPINLOCK(res_lock);
/* The one consumer of the request ring at a time. */
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
	 * reads cfg_values as soon as it sees cfg_flags change.  The other
	 * side is the hypervisor, not a CPU of this kernel: virt_*.
	 */
	virt_wmb();
	WRITE_ONCE(bridge->cfg_flags[cpu], bridge->cfg_flags[cpu] + 1);
	/* Publish the flag now rather than whenever the store drains. */
	virt_wmb();
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
	virt_wmb();
	WRITE_ONCE(bridge->res_rear, hvv_ring_next(rear));
	return true;
}

/**
 * hvv_bridge_inject() - ask the hypervisor to inject an interrupt
 * @zone: target zone
 * @irq: hypervisor interrupt number
 *
 * Any context.  Callers coalesce (one push per unacknowledged interrupt of a
 * device, repeated only while it stays unacknowledged), which keeps the
 * hypervisor under its per-CPU pending limit.
 *
 * Return: false when the result ring stayed full and nothing was pushed.
 */
bool hvv_bridge_inject(u32 zone, u32 irq)
{
	unsigned long flags;
	bool pushed;

	if (!READ_ONCE(bridge_live))
		return false;
	spin_lock_irqsave(&res_lock, flags);
	pushed = res_push(zone, irq);
	spin_unlock_irqrestore(&res_lock, flags);
	if (pushed) {
		hyp->finish_req();
	} else {
		atomic64_inc(&bstats.res_full);
		pr_err_ratelimited("result ring full: interrupt %u of zone %u not pushed\n",
				   irq, zone);
	}
	return pushed;
}

/**
 * hvv_bridge_reinject() - push again an interrupt the zone has not taken
 * @zone: target zone
 * @irq: hypervisor interrupt number
 *
 * Any context.  As hvv_bridge_inject(), counted apart.
 */
void hvv_bridge_reinject(u32 zone, u32 irq)
{
	atomic64_inc(&bstats.irq_retries);
	hvv_bridge_inject(zone, irq);
}

/**
 * hvv_bridge_irq_taken() - a zone's driver is handling its interrupt
 *
 * Any context: tells the hypervisors that need to know.
 */
void hvv_bridge_irq_taken(void)
{
	if (hyp->irq_taken)
		hyp->irq_taken();
}

/**
 * hvv_bridge_dispatch() - apply one request to its device and answer it
 * @dev: the device (NULL: no device at that address, reads return 0)
 * @req: a copy of the request
 *
 * Any context.  A blocking request for a device in the middle of a reset is
 * parked in the device and answered when the reset completes; so is the
 * Status = 0 write that starts the reset.
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
	if (res != HVV_MMIO_ANSWER && !req->need_interrupt &&
	    req->src_cpu < HVV_BRIDGE_MAX_CPUS) {
		dev->parked[req->src_cpu] = *req;
		dev->parked_mask |= BIT(req->src_cpu);
		if (res == HVV_MMIO_HOLD)
			dev->held_mask |= BIT(req->src_cpu);
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

static bool ring_empty(void)
{
	return READ_ONCE(bridge->req_front) % HVV_BRIDGE_MAX_REQ ==
	       READ_ONCE(bridge->req_rear) % HVV_BRIDGE_MAX_REQ;
}

/*
 * Handle at most @budget requests; returns how many.  Caller holds
 * drain_lock.
 */
static unsigned int bridge_drain(unsigned int budget)
{
	u32 front = READ_ONCE(bridge->req_front) % HVV_BRIDGE_MAX_REQ;
	unsigned int n = 0;
	u32 rear;

	while (n < budget) {
		struct hvv_device_req req;

		rear = READ_ONCE(bridge->req_rear) % HVV_BRIDGE_MAX_REQ;
		if (front == rear)
			break;
		/*
		 * Read the entry only after seeing the rear that covers it;
		 * pairs with the hypervisor's write barrier between filling
		 * req_list[rear] and advancing req_rear.
		 */
		virt_rmb();
		memcpy(&req, &bridge->req_list[front], sizeof(req));
		front = hvv_ring_next(front);
		/*
		 * Hand the slot back only after our copy is complete (load ->
		 * store ordering): the hypervisor refills it as soon as it
		 * sees req_front move.
		 */
		virt_store_release(&bridge->req_front, front);
		bridge_handle(&req);
		n++;
	}
	return n;
}

/* Drain until the ring reads empty; process context.  Returns the count. */
static unsigned long drain_all(void)
{
	unsigned long total = 0;
	unsigned int n;

	do {
		spin_lock_irq(&drain_lock);
		n = bridge_drain(HVV_BRIDGE_MAX_REQ);
		spin_unlock_irq(&drain_lock);
		total += n;
		cond_resched();
	} while (n);
	return total;
}

static irqreturn_t bridge_hardirq(int irq, void *cookie)
{
	unsigned int n;

	if (!READ_ONCE(bridge_live))
		return IRQ_NONE;
	atomic64_inc(&bstats.wakeups);
	/*
	 * Whoever holds the lock drains; the thread below looks again
	 * after our EOI in any case, so nothing waits for a second look.
	 */
	if (spin_trylock(&drain_lock)) {
		n = bridge_drain(irq_budget);
		spin_unlock(&drain_lock);
		atomic64_add(n, &bstats.hardirq);
		if (n >= irq_budget)
			atomic64_inc(&bstats.budget_hit);
	}
	/* Always ours: a request may already have been taken by the thread. */
	return IRQ_WAKE_THREAD;
}

static irqreturn_t bridge_thread(int irq, void *cookie)
{
	atomic64_add(drain_all(), &bstats.thread);
	if (READ_ONCE(poll_us) && poll_task)
		wake_up_process(poll_task);
	return IRQ_HANDLED;
}

/*
 * The hypervisor reads need_wakeup after publishing req_rear without a
 * full barrier between the two, so turning wake-ups back on and looking
 * at the ring once more can still, rarely, miss a request pushed in that
 * instant.  One more look a tick later finds it.
 */
static void bridge_watchdog_fn(struct timer_list *t)
{
	unsigned long flags;
	unsigned int n;

	if (ring_empty())
		return;
	spin_lock_irqsave(&drain_lock, flags);
	n = bridge_drain(HVV_BRIDGE_MAX_REQ);
	spin_unlock_irqrestore(&drain_lock, flags);
	atomic64_add(n, &bstats.watchdog);
}

/* Poll until the ring has been idle for @idle_us; returns the count. */
static unsigned long poll_ring(unsigned int idle_us)
{
	u64 deadline = ktime_get_ns() + (u64)idle_us * NSEC_PER_USEC;
	unsigned long total = 0;
	unsigned int n;

	while (!kthread_should_stop()) {
		spin_lock_irq(&drain_lock);
		n = bridge_drain(HVV_BRIDGE_MAX_REQ);
		spin_unlock_irq(&drain_lock);
		total += n;
		if (n)
			deadline = ktime_get_ns() +
				   (u64)idle_us * NSEC_PER_USEC;
		else if (ktime_get_ns() >= deadline)
			break;
		cpu_relax();
		cond_resched();
	}
	return total;
}

/*
 * The polling thread.  With wake-ups (poll_us), it is woken by the
 * interrupt thread, polls with need_wakeup = 0 until the ring has been
 * idle for poll_us, turns wake-ups back on and sleeps.  With wakeup=poll
 * it never sleeps for long: need_wakeup stays 0 and it looks at an idle
 * ring every poll_sleep_us.
 */
static int bridge_poll_fn(void *unused)
{
	while (!kthread_should_stop()) {
		if (bridge_polls) {
			atomic64_add(poll_ring(READ_ONCE(poll_us)),
				     &bstats.polled);
			usleep_range(READ_ONCE(poll_sleep_us),
				     2 * READ_ONCE(poll_sleep_us) + 1);
			continue;
		}
		/* Until the interrupt thread wakes us after a wake-up. */
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
		if (kthread_should_stop() || !READ_ONCE(poll_us))
			continue;
		WRITE_ONCE(bridge->need_wakeup, 0);
		atomic64_add(poll_ring(READ_ONCE(poll_us)), &bstats.polled);
		WRITE_ONCE(bridge->need_wakeup, 1);
		/*
		 * need_wakeup = 1 must be visible before we look at req_rear
		 * for the last time (store -> load): a request the look
		 * misses then gets its wake-up.  See bridge_watchdog_fn for
		 * the hypervisor's half of this handshake.
		 */
		virt_mb();
		atomic64_add(drain_all(), &bstats.polled);
		mod_timer(&bridge_watchdog, jiffies + 1);
	}
	return 0;
}

static int bridge_stats_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "mode %s\n", bridge_polls ? "poll" : "irq");
	seq_printf(m, "wakeups %lld\n", atomic64_read(&bstats.wakeups));
	seq_printf(m, "hardirq %lld\n", atomic64_read(&bstats.hardirq));
	seq_printf(m, "thread %lld\n", atomic64_read(&bstats.thread));
	seq_printf(m, "polled %lld\n", atomic64_read(&bstats.polled));
	seq_printf(m, "watchdog %lld\n", atomic64_read(&bstats.watchdog));
	seq_printf(m, "budget_hit %lld\n", atomic64_read(&bstats.budget_hit));
	seq_printf(m, "res_full %lld\n", atomic64_read(&bstats.res_full));
	seq_printf(m, "irq_retries %lld\n", atomic64_read(&bstats.irq_retries));
	seq_printf(m, "need_wakeup %u\n", READ_ONCE(bridge->need_wakeup));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bridge_stats);

/**
 * hvv_bridge_polls() - whether the module runs without a wake-up interrupt
 *
 * Return: true with wakeup=poll.
 */
bool hvv_bridge_polls(void)
{
	return !strcmp(wakeup, "poll");
}

/*
 * The hypervisor sends every wake-up to root's first CPU, whatever the
 * interrupt's affinity says; offline, it would take none, and every
 * zone's virtio would stop.  Refuse to let it go while the wake-ups are
 * needed (not with wakeup=poll).
 */
#define HVV_WAKEUP_CPU	0

static int hvv_cpuhp_state = -1;

static int bridge_cpu_down(unsigned int cpu)
{
	if (cpu != HVV_WAKEUP_CPU || bridge_polls)
		return 0;
	pr_err("CPU %u takes the hypervisor's wake-ups: it cannot go offline while %s runs (wakeup=poll does without)\n",
	       cpu, HVV_NAME);
	return -EBUSY;
}

static void bridge_unlisten(void)
{
	if (bridge_irq >= 0)
		free_irq(bridge_irq, &bridge);
	bridge_irq = -1;
	if (hvv_cpuhp_state >= 0)
		cpuhp_remove_state_nocalls(hvv_cpuhp_state);
	hvv_cpuhp_state = -1;
	if (poll_task)
		kthread_stop(poll_task);
	poll_task = NULL;
	timer_delete_sync(&bridge_watchdog);
}

/* The interrupt, if any, and the polling thread; before registration. */
static int bridge_listen(int irq)
{
	int ret;

	timer_setup(&bridge_watchdog, bridge_watchdog_fn, 0);
	poll_task = kthread_create(bridge_poll_fn, NULL, "hvv-bridge-poll");
	if (IS_ERR(poll_task)) {
		ret = PTR_ERR(poll_task);
		poll_task = NULL;
		return ret;
	}
	if (bridge_polls)
		return 0;
	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, HVV_NAME ":wakeup",
					NULL, bridge_cpu_down);
	if (ret < 0) {
		bridge_unlisten();
		return ret;
	}
	hvv_cpuhp_state = ret;
	/*
	 * Shared, rising edge: the flags the hypervisor's own tool module
	 * uses for the same interrupt, so that both load in either order
	 * (it is needed to start zones).  Its handler ignores the wake-ups
	 * while its own daemon does not run.
	 */
	ret = request_threaded_irq(irq, bridge_hardirq, bridge_thread,
				   IRQF_SHARED | IRQF_TRIGGER_RISING, HVV_NAME,
				   &bridge);
	if (ret) {
		pr_err("cannot take wake-up interrupt %d: %d\n", irq, ret);
		bridge_unlisten();
		return ret;
	}
	bridge_irq = irq;
	return 0;
}


/**
 * hvv_bridge_init() - set up the bridge and register it
 * @ops: the hypervisor interface
 * @irq: the wake-up interrupt (ignored with wakeup=poll)
 *
 * Everything that can fail is done before the hypervisor learns of the
 * page: once it has, it uses the page for good, so the page is never
 * freed after a successful registration.
 *
 * Return: 0 or a negative errno; on error nothing is registered.
 */
int hvv_bridge_init(const struct hvv_hyp_ops *ops, int irq)
{
	int ret;

	if (strcmp(wakeup, "irq") && strcmp(wakeup, "poll")) {
		pr_err("unknown wakeup=%s (irq or poll)\n", wakeup);
		return -EINVAL;
	}
	bridge_polls = hvv_bridge_polls();
	bridge = (struct hvv_bridge_page *)get_zeroed_page(GFP_KERNEL);
	if (!bridge)
		return -ENOMEM;
	hyp = ops;
	WRITE_ONCE(bridge->need_wakeup, bridge_polls ? 0 : 1);
	ret = bridge_listen(irq);
	if (ret)
		goto err_free;
	ret = hyp->register_bridge(bridge);
	if (ret) {
		pr_err("%s: cannot register the bridge: %d\n", hyp->name, ret);
		bridge_unlisten();
		goto err_free;
	}
	WRITE_ONCE(bridge_live, true);
	bridge_debugfs = debugfs_create_dir(HVV_NAME, NULL);
	debugfs_create_file("bridge", 0444, bridge_debugfs, NULL,
			    &bridge_stats_fops);
	/* A created thread sleeps uninterruptibly until its first wake-up. */
	wake_up_process(poll_task);
	return 0;

err_free:
	free_page((unsigned long)bridge);
	bridge = NULL;
	return ret;
}

int hvv_bridge_irq(void)
{
	return bridge_irq;
}

/* Module exit: every device is gone, nothing can push any more. */
void hvv_bridge_exit(void)
{
	if (!bridge)
		return;
	debugfs_remove_recursive(bridge_debugfs);
	bridge_unlisten();
	WRITE_ONCE(bridge_live, false);
	if (!hyp->unregister_bridge) {
		/*
		 * The hypervisor cannot be told to forget the page: it may
		 * still write into it.  Leave it allocated.
		 */
		pr_warn("the bridge page stays allocated: the hypervisor keeps it\n");
		bridge = NULL;
		return;
	}
	hyp->unregister_bridge();
	free_page((unsigned long)bridge);
	bridge = NULL;
}

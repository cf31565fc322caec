// SPDX-License-Identifier: GPL-2.0
/*
 * The hypervisor's half of the loopback: what hvisor's EL2 does when a
 * guest zone touches a virtio region, and its hypercall 1.
 *
 * Every register access becomes a struct hvv_device_req in req_list.  A
 * write at offset 0x50 of the zone-config virtio region (the transport
 * knows where each device's region starts) is posted: the vCPU goes on at
 * once and nobody waits for an answer.  Everything else blocks: the vCPU
 * reads cfg_flags[cpu] before it pushes, then waits until the backend
 * changes it and takes cfg_values[cpu] as the value of a read.
 *
 * As harsh as EL2, unless a test switches a rule off (parameter kind):
 *
 *  - A wake-up is dropped while root's wake-up interrupt is pending or
 *    active (acknowledged, not EOIed): counted as wakeups_dropped.  A
 *    request pushed after the handler's last look and before its EOI
 *    waits for the next wake-up.
 *  - A zone interrupt is dropped while the zone handles it, merged while
 *    it is pending, and the 8th distinct pending interrupt of a zone,
 *    where EL2 panics, is warned about and dropped (transport.c).
 *  - A write of 1, 2 or 4 bytes carries random bits above its size, as
 *    the whole source register does (lb_junk()).
 *  - Only region offset 0x50 is posted: the notifies of a device above
 *    the base of a shared region block.
 *
 * Where this differs from EL2:
 *
 *  - The 7-pending limit counts interrupts whose handler has not begun;
 *    EL2's list empties into the list registers whenever the zone's CPU
 *    leaves EL2, so on a board the limit is on a shorter backlog.
 *  - The zone's interrupts are taken one at a time, as by one CPU, by
 *    work items in process context (see transport.c), not in hard IRQ.
 *  - On x86_64 the wake-up is a software interrupt, raised from an
 *    irq_work on the first CPU: "active" is the irq_work running.
 *  - The interrupts of hostile zones (hostile.c) are counted as the
 *    backend pushes them, before any of these rules: those tests look
 *    at what the backend does, not at what a zone would receive.
 *
 * and, because the waiting "vCPU" here is a task of root's own kernel, not
 * a physical CPU that root never sees:
 *
 *  - The slot (src_cpu) is the current CPU's id whenever that slot is free,
 *    which is the common case.  If it is taken (a task that was preempted
 *    in the middle of an access on this CPU, or CPU ids beyond the page's
 *    32 slots), any free slot is used: the backend only uses src_cpu to
 *    know where to answer and must hold one request per slot at most,
 *    which the slot bitmap guarantees.
 *  - A blocking access that may sleep does not spin with preemption
 *    disabled: after a short spin it sleeps in short steps.  The backend
 *    finishes some requests in process context (a reset parks the accesses
 *    that follow it until a work item has stopped the device); spinning
 *    with preemption disabled on the CPU that work item was queued on
 *    would never let it run.  Interrupts stay enabled throughout so the
 *    wake-up interrupt can be taken on the waiting CPU, as the real one
 *    would be on root's CPU while a guest vCPU spins elsewhere.
 *  - The wait is bounded (timeout_ms).  On expiry the request is logged,
 *    the zone is marked dead (its later accesses fail at once with all
 *    ones) and the slot is never used again, so that a late answer cannot
 *    release somebody else's wait.
 */

#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/hardirq.h>
#include <linux/irqflags.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/spinlock.h>

#include "loopback.h"
#include "lb.h"

/* Spin this long before sleeping between polls, when sleeping is allowed. */
#define LB_SPIN_NS		(20 * NSEC_PER_USEC)

#define LB_MAX_DEAD		32

static struct hvv_bridge_page *lb_page;

/* Serialises producers of req_list, as EL2 does across physical CPUs. */
static DEFINE_SPINLOCK(lb_req_lock);
/* Serialises concurrent hypercall 1 callers, the consumers of res_list. */
static DEFINE_SPINLOCK(lb_res_lock);

/* cfg_flags/cfg_values slots: busy while a blocking access owns them. */
static DECLARE_BITMAP(lb_slots, HVV_BRIDGE_MAX_CPUS);
/* Slots given up after a timeout: they stay busy for good. */
static DECLARE_BITMAP(lb_slots_dead, HVV_BRIDGE_MAX_CPUS);
static unsigned int lb_nr_slots;

/*
 * Dead zones.  Entries are only ever added: a reader loads the count with
 * acquire, which pairs with the release that publishes a new entry.
 */
static DEFINE_SPINLOCK(lb_dead_lock);
static u32 lb_dead[LB_MAX_DEAD];
static unsigned int lb_nr_dead;
static bool lb_all_dead;

bool lb_zone_dead(u32 zone)
{
	unsigned int i, n;

	if (READ_ONCE(lb_all_dead))
		return true;
	/* Pairs with the release in lb_mark_dead(). */
	n = smp_load_acquire(&lb_nr_dead);
	for (i = 0; i < n; i++)
		if (lb_dead[i] == zone)
			return true;
	return false;
}

static void lb_mark_dead(u32 zone)
{
	unsigned long flags;

	spin_lock_irqsave(&lb_dead_lock, flags);
	if (!lb_zone_dead(zone)) {
		atomic64_inc(&lb_stats.dead_zones);
		if (lb_nr_dead < LB_MAX_DEAD) {
			lb_dead[lb_nr_dead] = zone;
			/* Pairs with the acquire in lb_zone_dead(). */
			smp_store_release(&lb_nr_dead, lb_nr_dead + 1);
		} else {
			WRITE_ONCE(lb_all_dead, true);
		}
		pr_err(LB_NAME ": zone %u is dead: no more accesses go to the bridge\n",
		       zone);
	}
	spin_unlock_irqrestore(&lb_dead_lock, flags);
}

/*
 * May this access sleep while it waits?  Config ops may sleep by the virtio
 * core's contract (they are not safe from atomic context) and the module's
 * own callers are process context; kernels with a preempt count also tell
 * us about held spinlocks.
 */
static bool lb_may_sleep(void)
{
	if (irqs_disabled() || in_interrupt())
		return false;
#ifdef CONFIG_PREEMPT_COUNT
	return preemptible();
#else
	return true;
#endif
}

static void lb_relax(bool may_sleep, ktime_t start)
{
	if (may_sleep && ktime_to_ns(ktime_sub(ktime_get(), start)) > LB_SPIN_NS)
		usleep_range(10, 30);
	else if (may_sleep)
		cond_resched();
	else
		cpu_relax();
}

static unsigned int lb_this_slot(void)
{
	unsigned int cpu = raw_smp_processor_id();

	return cpu < HVV_BRIDGE_MAX_CPUS ? cpu : 0;
}

static int lb_slot_get(bool may_sleep, ktime_t start, ktime_t deadline)
{
	unsigned int slot;

	for (;;) {
		if (bitmap_full(lb_slots_dead, lb_nr_slots))
			return -EIO;
		slot = lb_this_slot();
		if (slot < lb_nr_slots && !test_and_set_bit_lock(slot, lb_slots))
			return slot;
		for_each_clear_bit(slot, lb_slots, lb_nr_slots)
			if (!test_and_set_bit_lock(slot, lb_slots))
				return slot;
		if (ktime_after(ktime_get(), deadline))
			return -EBUSY;
		lb_relax(may_sleep, start);
	}
}

static void lb_slot_put(unsigned int slot)
{
	clear_bit_unlock(slot, lb_slots);
}

/*
 * Tests may ask for wake-ups to be lost (parameter lose_wakeups), as
 * EL2's missing barrier can lose one: the request then waits in the ring
 * until the next wake-up, and alone it times out.
 */
static bool lb_lose_wakeup(void)
{
	unsigned int n = READ_ONCE(lb_lose_wakeups), old;

	while (n) {
		old = cmpxchg(&lb_lose_wakeups, n, n - 1);
		if (old == n)
			return true;
		n = old;
	}
	return false;
}

/* Push one request; back off while the ring is full, as EL2 does. */
static int lb_push(const struct hvv_device_req *req, bool may_sleep,
		   ktime_t start, ktime_t deadline)
{
	struct hvv_bridge_page *page = lb_page;
	bool counted = false;
	unsigned long flags;
	bool wake;
	u32 front, rear;

	for (;;) {
		spin_lock_irqsave(&lb_req_lock, flags);
		rear = READ_ONCE(page->req_rear);
		/*
		 * Pairs with the backend's barrier between reading a request
		 * and advancing req_front: once we see the slot free, its old
		 * contents have been consumed and we may overwrite them.
		 */
		front = smp_load_acquire(&page->req_front);
		if (rear >= HVV_BRIDGE_MAX_REQ || front >= HVV_BRIDGE_MAX_REQ) {
			spin_unlock_irqrestore(&lb_req_lock, flags);
			pr_err_ratelimited(LB_NAME ": request ring indices corrupt: front %u rear %u\n",
					   front, rear);
			return -EIO;
		}
		if (hvv_ring_next(rear) != front)
			break;
		spin_unlock_irqrestore(&lb_req_lock, flags);

		/* Full: EL2 spins and retries, and sends no IPI meanwhile. */
		if (!counted) {
			atomic64_inc(&lb_stats.ring_full);
			counted = true;
		}
		if (ktime_after(ktime_get(), deadline))
			return -ETIMEDOUT;
		lb_relax(may_sleep, start);
	}

	page->req_list[rear] = *req;
	/*
	 * The request must be complete before the backend can see it: pairs
	 * with the backend's read barrier after it reads req_rear.
	 */
	smp_wmb();
	WRITE_ONCE(page->req_rear, hvv_ring_next(rear));
	/*
	 * Deliberately no full barrier between publishing req_rear and
	 * reading need_wakeup: EL2 has none either, and the backend must
	 * cope (see hvisor-bridge.md, "Waking the root side").
	 */
	wake = READ_ONCE(page->need_wakeup);
	spin_unlock_irqrestore(&lb_req_lock, flags);

	if (wake && lb_lose_wakeup())
		atomic64_inc(&lb_stats.wakeups_lost);
	else if (wake && hvv_loopback_wakeup(!lb_kind(LB_KIND_WAKEUP)))
		atomic64_inc(&lb_stats.wakeups);
	else if (wake)
		atomic64_inc(&lb_stats.wakeups_dropped);
	return 0;
}

/*
 * EL2 hands over the whole source register of a trapped store: above the
 * access size, @value carries whatever the register held.  Random bits
 * stand for that, unless the caller chose the upper bits itself (raw and
 * hostile accesses that test exactly that).
 */
static u64 lb_junk(u64 size, u64 value)
{
	u64 mask;

	if ((size != 1 && size != 2 && size != 4) || lb_kind(LB_KIND_JUNK))
		return value;
	mask = GENMASK_ULL(size * 8 - 1, 0);
	if (value & ~mask)
		return value;
	atomic64_inc(&lb_stats.junk_writes);
	return value | (get_random_u64() & ~mask);
}

static void lb_report_timeout(const struct hvv_device_req *req, bool pushed)
{
	struct hvv_bridge_page *page = lb_page;

	atomic64_inc(&lb_stats.timeouts);
	pr_err(LB_NAME ": TIMEOUT after %u ms %s: zone %u %s addr 0x%llx size %llu value 0x%llx slot %llu (cfg_flags %llu) ring req %u/%u res %u/%u need_wakeup %u\n",
	       READ_ONCE(lb_timeout_ms),
	       pushed ? "waiting for the answer" : "waiting for ring space",
	       req->src_zone, req->is_write ? "write" : "read",
	       req->address, req->size, req->value, req->src_cpu,
	       req->src_cpu < HVV_BRIDGE_MAX_CPUS ?
			READ_ONCE(page->cfg_flags[req->src_cpu]) : 0,
	       READ_ONCE(page->req_front), READ_ONCE(page->req_rear),
	       READ_ONCE(page->res_front), READ_ONCE(page->res_rear),
	       READ_ONCE(page->need_wakeup));
	lb_mark_dead(req->src_zone);
}

static ktime_t lb_deadline(ktime_t start)
{
	return ktime_add_ms(start, READ_ONCE(lb_timeout_ms));
}

/* A blocking access; @atomic: never sleep while waiting. */
static int __lb_el2_access(u32 zone, u64 addr, u64 size, bool is_write,
			   u64 *value, bool atomic)
{
	struct hvv_bridge_page *page = lb_page;
	struct hvv_device_req req = {
		.address = addr,
		.size = size,
		.value = is_write ? lb_junk(size, *value) : 0,
		.src_zone = zone,
		.is_write = is_write,
		.need_interrupt = 0,
	};
	ktime_t start, deadline;
	bool may_sleep;
	u64 old;
	int slot, ret;

	if (!is_write)
		*value = ~0ULL;
	if (lb_zone_dead(zone))
		return -EIO;

	may_sleep = !atomic && lb_may_sleep();
	/*
	 * With interrupts off, a wake-up interrupt routed to this CPU cannot
	 * be taken, so the answer may never come.  The transport never does
	 * this (device interrupts are handled in a work item); try anyway,
	 * the answer may come from another CPU.
	 */
	if (irqs_disabled()) {
		atomic64_inc(&lb_stats.irqs_off_waits);
		WARN_ONCE(1, LB_NAME ": blocking access with interrupts disabled (zone %u addr 0x%llx)\n",
			  zone, addr);
	}

	start = ktime_get();
	deadline = lb_deadline(start);
	slot = lb_slot_get(may_sleep, start, deadline);
	if (slot < 0) {
		pr_err_ratelimited(LB_NAME ": no answer slot for zone %u addr 0x%llx: %d\n",
				   zone, addr, slot);
		return slot;
	}
	req.src_cpu = slot;
	atomic64_inc(&lb_stats.accesses);

	/*
	 * Read the flag before the request can be seen, or an answer that
	 * comes at once could be taken for the old value.  The acquire keeps
	 * this load before the stores of lb_push().
	 */
	old = smp_load_acquire(&page->cfg_flags[slot]);

	ret = lb_push(&req, may_sleep, start, deadline);
	if (ret) {
		if (ret == -ETIMEDOUT)
			lb_report_timeout(&req, false);
		lb_slot_put(slot);
		return ret;
	}

	while (READ_ONCE(page->cfg_flags[slot]) == old) {
		if (ktime_after(ktime_get(), deadline)) {
			lb_report_timeout(&req, true);
			/* A late answer must not release a later waiter. */
			set_bit(slot, lb_slots_dead);
			atomic64_inc(&lb_stats.slots_leaked);
			return -ETIMEDOUT;
		}
		lb_relax(may_sleep, start);
	}
	/*
	 * Pairs with the backend's write barrier between writing cfg_values
	 * and incrementing cfg_flags.
	 */
	smp_rmb();
	if (!is_write)
		*value = READ_ONCE(page->cfg_values[slot]);
	lb_slot_put(slot);
	return 0;
}

/**
 * lb_el2_access() - a blocking register access of a guest zone
 * @zone: the zone making the access
 * @addr: absolute guest-physical address
 * @size: access size (1, 2, 4 or 8 for a real vCPU; not checked, like EL2)
 * @is_write: write @value instead of reading
 * @value: in: value to write; out: the answer of a read (all ones on error)
 *
 * Return: 0; -EIO if the zone is dead or the bridge is corrupt;
 * -ETIMEDOUT if no answer came in time (the zone is then dead); -EBUSY if
 * no answer slot became free in time.
 */
int lb_el2_access(u32 zone, u64 addr, u64 size, bool is_write, u64 *value)
{
	return __lb_el2_access(zone, addr, size, is_write, value, false);
}

/**
 * lb_el2_write_atomic() - a blocking write that never sleeps while it waits
 * @zone: the zone making the access
 * @addr: absolute guest-physical address
 * @size: access size
 * @value: value written
 *
 * For callers that may not sleep but cannot tell (a virtqueue notify runs
 * inside the block layer's RCU read-side section, which a preemptible
 * kernel does not show in the preempt count).
 *
 * Return: as lb_el2_access().
 */
int lb_el2_write_atomic(u32 zone, u64 addr, u64 size, u64 value)
{
	return __lb_el2_access(zone, addr, size, true, &value, true);
}

/**
 * lb_el2_post() - a posted write (QueueNotify): push and go on
 * @zone: the zone making the access
 * @addr: absolute guest-physical address
 * @size: access size
 * @value: value written
 *
 * May be called from any context: it never sleeps.
 *
 * Return: 0, -EIO if the zone is dead or the bridge is corrupt, -ETIMEDOUT
 * if the ring stayed full (the zone is then dead).
 */
int lb_el2_post(u32 zone, u64 addr, u64 size, u64 value)
{
	struct hvv_device_req req = {
		.src_cpu = lb_this_slot(),
		.address = addr,
		.size = size,
		.value = lb_junk(size, value),
		.src_zone = zone,
		.is_write = 1,
		.need_interrupt = 1,
	};
	ktime_t start;
	int ret;

	if (lb_zone_dead(zone))
		return -EIO;
	atomic64_inc(&lb_stats.posted);
	start = ktime_get();
	ret = lb_push(&req, false, start, lb_deadline(start));
	if (ret == -ETIMEDOUT)
		lb_report_timeout(&req, false);
	return ret;
}

/*
 * Hypercall 1: drain res_list and deliver each interrupt.  Any context,
 * concurrently on several CPUs; never sleeps.
 */
static void lb_finish_req(void *priv)
{
	struct hvv_bridge_page *page = READ_ONCE(lb_page);
	struct hvv_device_res res;
	unsigned long flags;
	u32 front, rear;

	atomic64_inc(&lb_stats.finish_calls);
	if (!page)
		return;
	spin_lock_irqsave(&lb_res_lock, flags);
	front = READ_ONCE(page->res_front);
	rear = READ_ONCE(page->res_rear);
	/*
	 * Pairs with the backend's write barrier between filling res_list
	 * entries and publishing res_rear.
	 */
	smp_rmb();
	if (front >= HVV_BRIDGE_MAX_REQ || rear >= HVV_BRIDGE_MAX_REQ) {
		atomic64_inc(&lb_stats.res_bad);
		spin_unlock_irqrestore(&lb_res_lock, flags);
		pr_err_ratelimited(LB_NAME ": result ring indices corrupt: front %u rear %u\n",
				   front, rear);
		return;
	}
	while (front != rear) {
		res.target_zone = READ_ONCE(page->res_list[front].target_zone);
		res.irq_id = READ_ONCE(page->res_list[front].irq_id);
		front = hvv_ring_next(front);

		if (lb_deliver(res.target_zone, res.irq_id) ||
		    lb_hostile_deliver(res.target_zone, res.irq_id)) {
			atomic64_inc(&lb_stats.res_delivered);
		} else {
			atomic64_inc(&lb_stats.res_unknown);
			pr_warn_ratelimited(LB_NAME ": interrupt %u for zone %u matches no device\n",
					    res.irq_id, res.target_zone);
		}
	}
	/*
	 * The entries are read before their slots are handed back: pairs with
	 * the backend's read of res_front before it reuses a slot.
	 */
	smp_store_release(&page->res_front, front);
	spin_unlock_irqrestore(&lb_res_lock, flags);
}

static const struct hvv_loopback_el2 lb_el2 = {
	.finish_req = lb_finish_req,
};

int lb_el2_attach(void)
{
	struct hvv_bridge_page *page;

	lb_nr_slots = min_t(unsigned int, nr_cpu_ids, HVV_BRIDGE_MAX_CPUS);
	page = hvv_loopback_attach(&lb_el2);
	if (IS_ERR(page))
		return PTR_ERR(page);
	/*
	 * Hypercall 1 may come before this store (lb_finish_req() then finds
	 * no page and returns): nothing can be pending for devices that do
	 * not exist yet.
	 */
	WRITE_ONCE(lb_page, page);
	return 0;
}

void lb_el2_detach(void)
{
	hvv_loopback_detach();
	WRITE_ONCE(lb_page, NULL);
}

void lb_el2_show(struct seq_file *m)
{
	struct hvv_bridge_page *page = lb_page;

	seq_printf(m, "accesses %lld\n", atomic64_read(&lb_stats.accesses));
	seq_printf(m, "posted %lld\n", atomic64_read(&lb_stats.posted));
	seq_printf(m, "timeouts %lld\n", atomic64_read(&lb_stats.timeouts));
	seq_printf(m, "ring_full %lld\n", atomic64_read(&lb_stats.ring_full));
	seq_printf(m, "wakeups %lld\n", atomic64_read(&lb_stats.wakeups));
	seq_printf(m, "wakeups_lost %lld\n",
		   atomic64_read(&lb_stats.wakeups_lost));
	seq_printf(m, "wakeups_dropped %lld\n",
		   atomic64_read(&lb_stats.wakeups_dropped));
	seq_printf(m, "junk_writes %lld\n",
		   atomic64_read(&lb_stats.junk_writes));
	seq_printf(m, "irqs_off_waits %lld\n",
		   atomic64_read(&lb_stats.irqs_off_waits));
	seq_printf(m, "finish_calls %lld\n",
		   atomic64_read(&lb_stats.finish_calls));
	seq_printf(m, "res_delivered %lld\n",
		   atomic64_read(&lb_stats.res_delivered));
	seq_printf(m, "irqs_merged %lld\n",
		   atomic64_read(&lb_stats.irqs_merged));
	seq_printf(m, "irqs_dropped %lld\n",
		   atomic64_read(&lb_stats.irqs_dropped));
	seq_printf(m, "irqs_overflow %lld\n",
		   atomic64_read(&lb_stats.irqs_overflow));
	seq_printf(m, "res_unknown %lld\n",
		   atomic64_read(&lb_stats.res_unknown));
	seq_printf(m, "res_bad %lld\n", atomic64_read(&lb_stats.res_bad));
	seq_printf(m, "slots %u\n", lb_nr_slots);
	seq_printf(m, "slots_leaked %lld\n",
		   atomic64_read(&lb_stats.slots_leaked));
	seq_printf(m, "dead_zones %lld\n", atomic64_read(&lb_stats.dead_zones));
	if (page) {
		seq_printf(m, "req_front %u\n", READ_ONCE(page->req_front));
		seq_printf(m, "req_rear %u\n", READ_ONCE(page->req_rear));
		seq_printf(m, "res_front %u\n", READ_ONCE(page->res_front));
		seq_printf(m, "res_rear %u\n", READ_ONCE(page->res_rear));
		seq_printf(m, "need_wakeup %u\n", READ_ONCE(page->need_wakeup));
	}
}

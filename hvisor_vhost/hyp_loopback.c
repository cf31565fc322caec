// SPDX-License-Identifier: GPL-2.0
/*
 * The loopback hypervisor, for tests: a test-only module attaches as the
 * hypervisor's half (loopback.h) and plays EL2 and a guest zone in this
 * same kernel.  The backend keeps its real code paths: the same bridge page,
 * a real interrupt as wake-up, "hypercall 1" delivered to the other half.
 *
 * The wake-up interrupt is the one the device tree names when there is one
 * (on arm64 a GIC SPI that the other half makes pending through the
 * irqchip), or else a software interrupt raised from an irq_work on the
 * first online CPU (the hypervisor wakes root's first CPU), so that the
 * handler runs in hard interrupt context either way.
 *
 * As the hypervisor does, a raise can be dropped while the interrupt is
 * still pending or active (see hvv_loopback_wakeup()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irq_work.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/smp.h>

#include "compat.h"
#include "hyp.h"
#include "loopback.h"

static struct hvv_bridge_page *lb_page;
static const struct hvv_loopback_el2 __rcu *lb_el2;
static DEFINE_MUTEX(lb_attach_lock);
static int lb_irq = -1;
static bool lb_irq_is_soft;

static void lb_soft_raise(struct irq_work *work)
{
	/* irq_work runs in hard interrupt context, as a device IRQ would. */
	generic_handle_irq(lb_irq);
}

static DEFINE_IRQ_WORK(lb_work, lb_soft_raise);

/*
 * The soft interrupt is raised on the first online CPU, as the hypervisor
 * wakes root's first CPU: a call there queues the irq_work locally (the
 * module cannot queue it on another CPU itself).  lb_soft_sent is 1 from
 * the call's claim until the irq_work is queued.
 */
static atomic_t lb_soft_sent = ATOMIC_INIT(0);
static unsigned int lb_soft_cpu;

static void lb_soft_queue(void *unused)
{
	irq_work_queue(&lb_work);
	/* The work is claimed (BUSY) before the claim of the call ends. */
	atomic_set_release(&lb_soft_sent, 0);
}

static call_single_data_t lb_soft_csd = CSD_INIT(lb_soft_queue, NULL);

static int lb_register_bridge(struct hvv_bridge_page *page)
{
	lb_page = page;
	return 0;
}

static int lb_soft_irq(void)
{
	/*
	 * No owner module: request_irq() would pin the owner, and the owner
	 * would be this module, which could then never be unloaded.
	 */
	int irq = __irq_alloc_descs(-1, 0, 1, NUMA_NO_NODE, NULL, NULL);

	if (irq < 0)
		return irq;
	irq_set_chip_and_handler(irq, &dummy_irq_chip, handle_edge_irq);
	irq_modify_status(irq, IRQ_NOREQUEST | IRQ_NOPROBE, 0);
	/*
	 * Like a device interrupt, it targets one CPU, and a threaded
	 * handler's thread follows it there: otherwise the thread could run
	 * on another CPU while the interrupt is still active here.
	 */
	lb_soft_cpu = cpumask_first(cpu_online_mask);
	irq_data_update_affinity(irq_get_irq_data(irq), cpumask_of(lb_soft_cpu));
	irq_data_update_effective_affinity(irq_get_irq_data(irq),
					   cpumask_of(lb_soft_cpu));
	lb_irq_is_soft = true;
	return irq;
}

static int lb_wakeup_irq(int dt_irq)
{
	lb_irq = dt_irq >= 0 ? dt_irq : lb_soft_irq();
	return lb_irq;
}

static void lb_unregister_bridge(void)
{
	/*
	 * A call to the first CPU may still be on its way; it runs with
	 * interrupts off, so once it has let go of lb_soft_sent, an RCU
	 * grace period sees it out of this module's code.
	 */
	while (atomic_read_acquire(&lb_soft_sent))
		cpu_relax();
	synchronize_rcu();
	irq_work_sync(&lb_work);
	if (lb_irq_is_soft && lb_irq >= 0)
		irq_free_desc(lb_irq);
	lb_irq = -1;
	lb_irq_is_soft = false;
	lb_page = NULL;
}

static void lb_finish_req(void)
{
	const struct hvv_loopback_el2 *el2;

	rcu_read_lock();
	el2 = rcu_dereference(lb_el2);
	if (el2)
		el2->finish_req(el2->priv);
	rcu_read_unlock();
}

const struct hvv_hyp_ops hvv_hyp_loopback = {
	.name = "loopback",
	.register_bridge = lb_register_bridge,
	.unregister_bridge = lb_unregister_bridge,
	.wakeup_irq = lb_wakeup_irq,
	.finish_req = lb_finish_req,
};

/**
 * hvv_loopback_attach() - attach the hypervisor half of the loopback
 * @el2: its operations; must stay valid until hvv_loopback_detach()
 *
 * Return: the bridge page, ERR_PTR(-ENODEV) without a loopback bridge,
 * ERR_PTR(-EBUSY) if another half is attached.
 */
struct hvv_bridge_page *hvv_loopback_attach(const struct hvv_loopback_el2 *el2)
{
	struct hvv_bridge_page *page = ERR_PTR(-ENODEV);

	mutex_lock(&lb_attach_lock);
	if (lb_page && lb_irq >= 0) {
		if (rcu_access_pointer(lb_el2)) {
			page = ERR_PTR(-EBUSY);
		} else {
			rcu_assign_pointer(lb_el2, el2);
			page = lb_page;
		}
	}
	mutex_unlock(&lb_attach_lock);
	return page;
}
EXPORT_SYMBOL_GPL(hvv_loopback_attach);

/**
 * hvv_loopback_detach() - detach the hypervisor half
 *
 * When it returns, no call of the half's finish_req runs or will start.
 */
void hvv_loopback_detach(void)
{
	mutex_lock(&lb_attach_lock);
	RCU_INIT_POINTER(lb_el2, NULL);
	mutex_unlock(&lb_attach_lock);
	/* finish_req runs under rcu_read_lock(). */
	synchronize_rcu();
}
EXPORT_SYMBOL_GPL(hvv_loopback_detach);

/* Is the wake-up interrupt pending or active (acknowledged, not EOIed)? */
static bool lb_irq_busy(void)
{
	bool pending = false, active = false;

	/*
	 * The soft interrupt is "pending" from the call to the first CPU
	 * until lb_soft_raise() runs, "active" until it returns: lb_soft_sent
	 * and then the work's BUSY flag cover that, and BUSY is cleared by a
	 * fully ordered cmpxchg after the handler returned.
	 */
	if (lb_irq_is_soft)
		return atomic_read_acquire(&lb_soft_sent) ||
		       irq_work_is_busy(&lb_work);
	/* If the irqchip cannot tell, raise: no worse than before. */
	if (irq_get_irqchip_state(lb_irq, IRQCHIP_STATE_PENDING, &pending) ||
	    irq_get_irqchip_state(lb_irq, IRQCHIP_STATE_ACTIVE, &active))
		return false;
	return pending || active;
}

/**
 * hvv_loopback_wakeup() - raise the wake-up interrupt, from any context
 * @drop_if_busy: drop the raise while the interrupt is pending or active,
 *	as the hypervisor drops an injection that a list register already
 *	holds; active lasts from the handler's acknowledge to its EOI, so a
 *	request published after the handler's last look at the ring and
 *	before its EOI gets no wake-up
 *
 * Return: false if the raise was dropped.
 */
bool hvv_loopback_wakeup(bool drop_if_busy)
{
	if (lb_irq < 0)
		return false;
	if (drop_if_busy) {
		/*
		 * The caller published its request before this call; that
		 * store must be visible before we look at the interrupt's
		 * state, or a handler that EOIs and then looks at the ring
		 * could miss the request while we still see it active.  On
		 * a board the check runs on root's CPU after the IPI, which
		 * orders it so.  Pairs with the handler's EOI (the GIC's
		 * EOI register write, or the cmpxchg that ends the irq_work)
		 * and whatever ordering the handler puts between it and its
		 * next look at the ring.
		 */
		smp_mb();
		if (lb_irq_busy())
			return false;
	}
	if (lb_irq_is_soft) {
		/* Only one call in flight; that one will raise. */
		if (!atomic_cmpxchg(&lb_soft_sent, 0, 1))
			smp_call_function_single_async(lb_soft_cpu, &lb_soft_csd);
	} else {
		irq_set_irqchip_state(lb_irq, IRQCHIP_STATE_PENDING, true);
	}
	return true;
}
EXPORT_SYMBOL_GPL(hvv_loopback_wakeup);

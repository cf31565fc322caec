// SPDX-License-Identifier: GPL-2.0
/*
 * The loopback hypervisor, for tests: a test-only module attaches as the
 * hypervisor's half (loopback.h) and plays EL2 and a guest zone in this
 * same kernel.  The backend keeps its real code paths: the same bridge page,
 * a real interrupt as wake-up, "hypercall 1" delivered to the other half.
 *
 * The wake-up interrupt is the one the device tree names when there is one
 * (on arm64 a GIC SPI that the other half makes pending through the
 * irqchip), or else a software interrupt raised from an irq_work, so that
 * the handler runs in hard interrupt context either way.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irq_work.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>

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

/**
 * hvv_loopback_wakeup() - raise the wake-up interrupt, from any context
 */
void hvv_loopback_wakeup(void)
{
	if (lb_irq < 0)
		return;
	if (lb_irq_is_soft)
		irq_work_queue(&lb_work);
	else
		irq_set_irqchip_state(lb_irq, IRQCHIP_STATE_PENDING, true);
}
EXPORT_SYMBOL_GPL(hvv_loopback_wakeup);

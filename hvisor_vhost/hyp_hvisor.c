// SPDX-License-Identifier: GPL-2.0
/*
 * The real hvisor hypervisor: hypercalls, one calling convention per
 * architecture (code and two arguments in, one result out).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/io.h>
#include <linux/slab.h>

#include "bridge_abi.h"
#include "hyp.h"

#include "hyp_hvisor_call.h"

static int hvisor_register_bridge(struct hvv_bridge_page *page)
{
	long ret = hvisor_call(HVV_HC_INIT_VIRTIO, virt_to_phys(page), 0);

	return ret ? -EIO : 0;
}

static int hvisor_wakeup_irq(int dt_irq)
{
#ifdef CONFIG_X86_64
	u32 *irq;
	int ret;

	if (dt_irq >= 0)
		return dt_irq;
	/* The hypervisor writes the IRQ number at a physical address. */
	irq = kzalloc(sizeof(*irq), GFP_KERNEL);
	if (!irq)
		return -ENOMEM;
	ret = hvisor_call(HVV_HC_GET_VIRTIO_IRQ, virt_to_phys(irq), 0) ? -EIO
								       : *irq;
	kfree(irq);
	return ret;
#else
	return dt_irq;
#endif
}

static void hvisor_finish_req(void)
{
	hvisor_call(HVV_HC_FINISH_REQ, 0, 0);
}

#ifdef CONFIG_LOONGARCH
/*
 * LoongArch's hvisor leaves an injected interrupt asserted until it is
 * told to clear it; the zone's driver reading InterruptStatus means the
 * interrupt was taken.
 */
static void hvisor_irq_taken(void)
{
	hvisor_call(HVV_HC_CLEAR_INJECT_IRQ, 0, 0);
}
#endif

const struct hvv_hyp_ops hvv_hyp_hvisor = {
	.name = "hvisor",
	.register_bridge = hvisor_register_bridge,
	.wakeup_irq = hvisor_wakeup_irq,
	.finish_req = hvisor_finish_req,
#ifdef CONFIG_LOONGARCH
	.irq_taken = hvisor_irq_taken,
#endif
	.pin_module = true,
};

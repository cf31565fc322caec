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

#if defined(CONFIG_ARM64)
static unsigned long hvisor_call(unsigned long code, unsigned long arg0,
				 unsigned long arg1)
{
	register unsigned long x0 asm("x0") = code;
	register unsigned long x1 asm("x1") = arg0;
	register unsigned long x2 asm("x2") = arg1;

	asm volatile("hvc #0x4856" : "+r"(x0) : "r"(x1), "r"(x2) : "memory");
	return x0;
}
#elif defined(CONFIG_RISCV)
static unsigned long hvisor_call(unsigned long code, unsigned long arg0,
				 unsigned long arg1)
{
	register unsigned long a0 asm("a0") = code;
	register unsigned long a1 asm("a1") = arg0;
	register unsigned long a2 asm("a2") = arg1;
	register unsigned long a7 asm("a7") = 0x114514;	/* hvisor's SBI extension */

	asm volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a7) : "memory");
	return a1;
}
#elif defined(CONFIG_LOONGARCH)
static unsigned long hvisor_call(unsigned long code, unsigned long arg0,
				 unsigned long arg1)
{
	register unsigned long a0 asm("a0") = code;
	register unsigned long a1 asm("a1") = arg0;
	register unsigned long a2 asm("a2") = arg1;

	/* "hvcl 0", spelled out for assemblers without the virt extension */
	asm volatile(".word 0x002b8000" : "+r"(a0) : "r"(a1), "r"(a2) : "memory");
	return a0;
}
#elif defined(CONFIG_X86_64)
static unsigned long hvisor_call(unsigned long code, unsigned long arg0,
				 unsigned long arg1)
{
	unsigned long ret;

	asm volatile("vmcall" : "=a"(ret) : "a"(code), "D"(arg0), "S"(arg1)
		     : "memory");
	return ret;
}
#else
#error "hvisor runs on arm64, riscv64, loongarch64 and x86_64"
#endif

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

const struct hvv_hyp_ops hvv_hyp_hvisor = {
	.name = "hvisor",
	.register_bridge = hvisor_register_bridge,
	.wakeup_irq = hvisor_wakeup_irq,
	.finish_req = hvisor_finish_req,
	.pin_module = true,
};

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hypervisor operations.  Two implementations: the real hvisor (hypercalls,
 * one calling convention per architecture) and the loopback used by the
 * tests.  Only main.c chooses; nothing else knows which one runs.
 */
#ifndef HVISOR_VHOST_HYP_H
#define HVISOR_VHOST_HYP_H

#include <linux/types.h>

struct hvv_bridge_page;

/**
 * struct hvv_hyp_ops - what the backend asks of the hypervisor
 * @name: "hvisor" or "loopback"
 * @register_bridge: hypercall 0: hand the bridge page to the hypervisor
 * @unregister_bridge: optional; forget the page and release what
 *	@wakeup_irq set up (loopback only: hvisor has no such call)
 * @wakeup_irq: the Linux IRQ to take as the wake-up interrupt, given the
 *	one the device tree names (negative errno when it names none); e.g.
 *	x86_64 asks hvisor with hypercall 86, loopback makes a software one
 * @finish_req: hypercall 1: inject what res_list holds; any context
 * @irq_taken: optional; a zone's driver read InterruptStatus, i.e. it is
 *	handling the interrupt (LoongArch's hvisor keeps an injected
 *	interrupt asserted until hypercall 20); any context
 * @pin_module: the hypervisor keeps using the bridge page forever, so the
 *	module must never be unloaded once it is registered
 */
struct hvv_hyp_ops {
	const char *name;
	int (*register_bridge)(struct hvv_bridge_page *page);
	void (*unregister_bridge)(void);
	int (*wakeup_irq)(int dt_irq);
	void (*finish_req)(void);
	void (*irq_taken)(void);
	bool pin_module;
};

extern const struct hvv_hyp_ops hvv_hyp_hvisor;
extern const struct hvv_hyp_ops hvv_hyp_loopback;

#endif /* HVISOR_VHOST_HYP_H */

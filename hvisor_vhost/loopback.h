/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loopback hypervisor: what hvisor_vhost.ko, loaded with hyp=loopback,
 * offers to the test-only module that plays the hypervisor (EL2) and a
 * guest zone inside the same kernel.  The backend cannot tell the
 * difference: it sees the same bridge page and the same wake-up interrupt,
 * and its "hypercall 1" ends up in @finish_req.
 */
#ifndef HVISOR_VHOST_LOOPBACK_H
#define HVISOR_VHOST_LOOPBACK_H

#include "bridge_abi.h"

/**
 * struct hvv_loopback_el2 - the test module's hypervisor half
 * @finish_req: hypercall 1: drain res_list and deliver the interrupts; may
 *	be called from any context (hard IRQ, softirq, thread), concurrently
 *	on several CPUs, and must not sleep
 * @priv: passed to @finish_req
 */
struct hvv_loopback_el2 {
	void (*finish_req)(void *priv);
	void *priv;
};

/*
 * Attach the hypervisor half.  Returns the registered bridge page, or
 * ERR_PTR(-ENODEV) when the module does not run with hyp=loopback or has no
 * bridge yet, ERR_PTR(-EBUSY) when another half is attached.
 */
struct hvv_bridge_page *hvv_loopback_attach(const struct hvv_loopback_el2 *el2);

/* Detach; when it returns, @finish_req runs nowhere and will not be called. */
void hvv_loopback_detach(void);

/*
 * Raise the backend's wake-up interrupt, as the hypervisor's IPI does;
 * with @drop_if_busy, not while it is pending or active (returns false).
 */
bool hvv_loopback_wakeup(bool drop_if_busy);

#endif /* HVISOR_VHOST_LOOPBACK_H */

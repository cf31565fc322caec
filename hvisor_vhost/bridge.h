/* SPDX-License-Identifier: GPL-2.0 */
/* The bridge: see bridge.c. */
#ifndef HVISOR_VHOST_BRIDGE_H
#define HVISOR_VHOST_BRIDGE_H

#include "bridge_abi.h"

struct hvv_device;
struct hvv_hyp_ops;

int hvv_bridge_init(const struct hvv_hyp_ops *ops, int irq);
bool hvv_bridge_polls(void);
int hvv_bridge_irq(void);
void hvv_bridge_exit(void);
void hvv_bridge_answer(u64 cpu, u64 value);
bool hvv_bridge_inject(u32 zone, u32 irq);
void hvv_bridge_reinject(u32 zone, u32 irq);
void hvv_bridge_irq_taken(void);
void hvv_bridge_dispatch(struct hvv_device *dev,
			 const struct hvv_device_req *req);

#endif /* HVISOR_VHOST_BRIDGE_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-console: what console.c does with guest chains before any tty
 * sees them (the direction checks, the output ring's arithmetic).  Pure
 * functions, kept apart from the tty code so that the user-space fuzzer
 * builds them too (tools/fuzz).
 */
#ifndef HVISOR_VHOST_CONSOLE_OUT_H
#define HVISOR_VHOST_CONSOLE_OUT_H

#include <linux/sizes.h>
#include <linux/types.h>

#include "vq.h"

/* Zone output kept for the tty (and for the next opener without one). */
#define HVV_CON_OUT_SIZE	SZ_64K

/**
 * struct hvv_con_out - the output ring
 * @buf: HVV_CON_OUT_SIZE bytes
 * @start: oldest byte in @buf
 * @count: bytes in @buf from @start (wrapping)
 * @dropped: bytes lost: pushed out by newer ones or past the ring's size
 */
struct hvv_con_out {
	u8 *buf;
	u32 start;
	u32 count;
	u64 dropped;
};

int hvv_con_tx_check(const struct hvv_chain *c);
int hvv_con_rx_check(const struct hvv_chain *c);
bool hvv_con_tx_must_wait(const struct hvv_con_out *o, u32 len, bool reader);
void hvv_con_out_put(struct hvv_con_out *o, const struct hvv_chain *c,
		     const u8 *src, u32 len);
void hvv_con_out_consumed(struct hvv_con_out *o, u32 n);

#endif /* HVISOR_VHOST_CONSOLE_OUT_H */

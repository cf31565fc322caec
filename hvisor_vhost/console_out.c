// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console: the chains' direction checks and the output ring, apart
 * from the tty so that tools/fuzz builds them (see console_out.h).
 *
 * Callers serialise on the console's lock; nothing here sleeps.
 */
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/string.h>

#include "console_out.h"

/**
 * hvv_con_tx_check() - may the device take this transmitq chain?
 * @c: a chain from hvv_vq_pop()
 *
 * Return: 0, or -EINVAL when it has a writable buffer (the driver broke
 * the protocol: the device needs a reset).
 */
int hvv_con_tx_check(const struct hvv_chain *c)
{
	return c->nr_in ? -EINVAL : 0;
}

/**
 * hvv_con_rx_check() - may the device fill this receiveq chain?
 * @c: a chain from hvv_vq_pop()
 *
 * Return: 0, or -EINVAL when it has a readable buffer or no writable
 * byte (the device needs a reset).
 */
int hvv_con_rx_check(const struct hvv_chain *c)
{
	return c->nr_out || !c->in_len ? -EINVAL : 0;
}

/**
 * hvv_con_tx_must_wait() - must a chain wait for room in the ring?
 * @o: the ring
 * @len: the chain's readable bytes
 * @reader: someone has the tty open
 *
 * With a reader, a chain waits until the ring has room for all of it,
 * except one larger than the whole ring, which could never fit: it is
 * taken and keeps its last bytes.  Without a reader nothing waits.
 */
bool hvv_con_tx_must_wait(const struct hvv_con_out *o, u32 len, bool reader)
{
	return reader && len <= HVV_CON_OUT_SIZE &&
	       len > HVV_CON_OUT_SIZE - o->count;
}

/**
 * hvv_con_out_put() - append to the ring, dropping the oldest bytes
 * @o: the ring
 * @c: a chain whose first @len readable bytes are appended, or NULL
 * @src: without @c, @len bytes of kernel memory
 * @len: bytes; the caller made sure @c holds them
 *
 * Of more than the ring holds, only the last HVV_CON_OUT_SIZE bytes are
 * kept; every byte lost is counted in @o->dropped.
 */
void hvv_con_out_put(struct hvv_con_out *o, const struct hvv_chain *c,
		     const u8 *src, u32 len)
{
	u32 off = 0, room, pos, n;

	if (len > HVV_CON_OUT_SIZE) {
		o->dropped += len - HVV_CON_OUT_SIZE;
		off = len - HVV_CON_OUT_SIZE;
		len = HVV_CON_OUT_SIZE;
	}
	room = HVV_CON_OUT_SIZE - o->count;
	if (len > room) {
		u32 drop = len - room;

		o->start = (o->start + drop) % HVV_CON_OUT_SIZE;
		o->count -= drop;
		o->dropped += drop;
	}
	pos = (o->start + o->count) % HVV_CON_OUT_SIZE;
	n = min(len, HVV_CON_OUT_SIZE - pos);
	if (c) {
		hvv_chain_copy_out(c, off, o->buf + pos, n);
		hvv_chain_copy_out(c, off + n, o->buf, len - n);
	} else {
		memcpy(o->buf + pos, src + off, n);
		memcpy(o->buf, src + off + n, len - n);
	}
	o->count += len;
}

/**
 * hvv_con_out_consumed() - the oldest bytes went to the tty
 * @o: the ring
 * @n: how many, at most @o->count
 */
void hvv_con_out_consumed(struct hvv_con_out *o, u32 n)
{
	n = min(n, o->count);
	o->start = (o->start + n) % HVV_CON_OUT_SIZE;
	o->count -= n;
}

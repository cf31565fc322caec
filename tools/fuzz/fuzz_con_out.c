// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_con_out: what the virtio-console device does with the zone's
 * chains (hvisor_vhost/console_out.c): the direction checks, whether a
 * transmit chain waits for room, and the output ring it is copied into,
 * against a plain model of the ring.
 *
 * The input is a sequence of operations: a chain (fz_chain_make(): each
 * segment a heap buffer of exactly its length, so ASan reports any read
 * past one) offered to transmitq or receiveq, an emergency-write byte,
 * the tty taking bytes, a reader coming or going.  Checked besides: a
 * chain with a writable buffer is refused on transmitq, one with a
 * readable buffer or no writable byte on receiveq; with a reader, a chain
 * that fits the ring but not its free room waits, and nothing else does;
 * the ring holds exactly the model's bytes (the last ones appended,
 * oldest first) and counts as dropped every byte appended and not kept
 * or taken.
 */
#include "harness.h"
#include "console_out.h"

static struct hvv_chain chain;
static u8 ring[HVV_CON_OUT_SIZE];
/* The model: the ring's bytes in order, and the totals. */
static u8 model[HVV_CON_OUT_SIZE];
static u32 model_len;
/* A chain's readable bytes: up to 8 segments of up to 64 KiB. */
static u8 stream[8 * SZ_64K];

/* Append @len bytes to the model, keeping the last HVV_CON_OUT_SIZE. */
static void model_put(const u8 *p, u32 len, u64 *dropped)
{
	u32 keep;

	if (len >= HVV_CON_OUT_SIZE) {
		*dropped += model_len + len - HVV_CON_OUT_SIZE;
		memcpy(model, p + len - HVV_CON_OUT_SIZE, HVV_CON_OUT_SIZE);
		model_len = HVV_CON_OUT_SIZE;
		return;
	}
	keep = min_t(u32, model_len, HVV_CON_OUT_SIZE - len);
	*dropped += model_len - keep;
	memmove(model, model + model_len - keep, keep);
	memcpy(model + keep, p, len);
	model_len = keep + len;
}

static void check_ring(const struct hvv_con_out *o)
{
	u32 n;

	HVV_CHECK(o->count <= HVV_CON_OUT_SIZE);
	HVV_CHECK(o->start < HVV_CON_OUT_SIZE);
	HVV_CHECK(o->count == model_len);
	n = min_t(u32, o->count, HVV_CON_OUT_SIZE - o->start);
	HVV_CHECK(!memcmp(o->buf + o->start, model, n));
	HVV_CHECK(!memcmp(o->buf, model + n, o->count - n));
}

/*
 * The chain's readable bytes, in order, into stream; returns where the
 * last HVV_CON_OUT_SIZE of them start (what the ring keeps), the bytes
 * before that in *@skipped.
 */
static const u8 *chain_tail(u32 *len, u64 *skipped)
{
	unsigned int i;
	u32 k = 0;

	for (i = 0; i < chain.nr_out; i++) {
		memcpy(stream + k, chain.segs[i].addr, chain.segs[i].len);
		k += chain.segs[i].len;
	}
	*skipped = k > HVV_CON_OUT_SIZE ? k - HVV_CON_OUT_SIZE : 0;
	*len = k - *skipped;
	return stream + *skipped;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz f = { data, size };
	struct hvv_con_out o = { .buf = ring };
	u64 model_dropped = 0;
	bool reader = false;
	unsigned int ops = 0;

	/* Start anywhere in the ring: the wrap is where the bugs are. */
	o.start = fz_u16(&f) % HVV_CON_OUT_SIZE;
	model_len = 0;
	while (!fz_empty(&f) && ops++ < 64) {
		u8 op = fz_u8(&f);

		switch (op % 5) {
		case 0: {	/* transmitq */
			const u8 *tail;
			u32 len, k;
			u64 skipped;
			bool wait;

			fz_chain_make(&f, &chain, 8, 2);
			if (hvv_con_tx_check(&chain)) {
				HVV_CHECK(chain.nr_in);
				fz_chain_free(&chain);
				break;
			}
			HVV_CHECK(!chain.nr_in);
			len = chain.out_len;
			wait = hvv_con_tx_must_wait(&o, len, reader);
			HVV_CHECK(wait == (reader && len <= HVV_CON_OUT_SIZE &&
					   o.count + len > HVV_CON_OUT_SIZE));
			if (!wait) {
				tail = chain_tail(&k, &skipped);
				HVV_CHECK(k == min_t(u32, len, HVV_CON_OUT_SIZE));
				model_dropped += skipped;
				model_put(tail, k, &model_dropped);
				hvv_con_out_put(&o, &chain, NULL, len);
			}
			fz_chain_free(&chain);
			break;
		}
		case 1:		/* receiveq */
			fz_chain_make(&f, &chain, 2, 8);
			HVV_CHECK(!hvv_con_rx_check(&chain) ==
				  (!chain.nr_out && chain.in_len > 0));
			fz_chain_free(&chain);
			break;
		case 2: {	/* emergency write: one byte */
			u8 b = fz_u8(&f);

			model_put(&b, 1, &model_dropped);
			hvv_con_out_put(&o, NULL, &b, 1);
			break;
		}
		case 3: {	/* the tty takes bytes */
			u32 n = fz_u32(&f) % (HVV_CON_OUT_SIZE + 2);
			u32 k = min(n, o.count);

			hvv_con_out_consumed(&o, n);
			memmove(model, model + k, model_len - k);
			model_len -= k;
			break;
		}
		default:
			reader = !reader;
			break;
		}
		check_ring(&o);
		HVV_CHECK(o.dropped == model_dropped);
	}
	return 0;
}

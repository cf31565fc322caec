/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every fuzz target shares: a reader over the fuzzer's input, a fake
 * zone whose RAM regions are heap buffers of exactly their size (so that
 * AddressSanitizer catches any access past a region), the parts of the
 * device core the parsing code calls back into, and a check macro.
 */
#ifndef HVV_FUZZ_HARNESS_H
#define HVV_FUZZ_HARNESS_H

#include "hvv.h"
#include "vq.h"

/* An invariant of the code under test: abort so that libFuzzer reports. */
#define HVV_CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* The fuzzer's input, consumed from the front; zeros once it runs out. */
struct fz {
	const u8 *p;
	size_t n;
};

static inline bool fz_empty(const struct fz *f)
{
	return !f->n;
}

static inline void fz_bytes(struct fz *f, void *buf, size_t len)
{
	size_t k = len < f->n ? len : f->n;

	memcpy(buf, f->p, k);
	memset((u8 *)buf + k, 0, len - k);
	f->p += k;
	f->n -= k;
}

static inline u8 fz_u8(struct fz *f)
{
	u8 v;

	fz_bytes(f, &v, 1);
	return v;
}

static inline u16 fz_u16(struct fz *f)
{
	u16 v;

	fz_bytes(f, &v, 2);
	return v;
}

static inline u32 fz_u32(struct fz *f)
{
	u32 v;

	fz_bytes(f, &v, 4);
	return v;
}

static inline u64 fz_u64(struct fz *f)
{
	u64 v;

	fz_bytes(f, &v, 8);
	return v;
}

/* A zone of @nr regions; region i is @size[i] bytes at @gpa[i]. */
void fz_zone_init(struct hvv_zone *zone, unsigned int nr, const u64 *gpa,
		  const u64 *size);
void fz_zone_free(struct hvv_zone *zone);
/* Does [@p, @p + @len) lie inside one region's buffer? */
bool fz_zone_holds(const struct hvv_zone *zone, const void *p, u64 len);

/*
 * A chain as the iterator would hand it over, of the input's choosing: up
 * to @max_out readable segments, then up to @max_in writable ones, each a
 * heap buffer of exactly its length (1 byte to 64 KiB).  Per segment the
 * input gives a u16: bit 15 clear, 1 + (v % 64) bytes; set, 2 * ((v & 0x7fff)
 * + 1) bytes; then its first bytes (up to 64; the rest is zero).
 */
void fz_chain_make(struct fz *f, struct hvv_chain *chain,
		   unsigned int max_out, unsigned int max_in);
void fz_chain_free(struct hvv_chain *chain);
/* The segment of @chain that holds [@p, @p + @len), or -1. */
int fz_chain_seg(const struct hvv_chain *chain, const void *p, u64 len);

/* What the core was asked to do, since the target last cleared it. */
struct fz_core {
	unsigned int broken;		/* hvv_device_broken() calls */
	unsigned int interrupts;	/* hvv_device_interrupt() calls */
	unsigned int injects;		/* hvv_bridge_inject() calls */
	unsigned int kicks;		/* kthread_queue_work() calls */
	struct work_struct *queued;	/* last queue_work() */
};
extern struct fz_core fz_core;

#endif /* HVV_FUZZ_HARNESS_H */

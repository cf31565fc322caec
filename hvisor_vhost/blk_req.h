/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk request parsing: what blk.c reads out of a descriptor chain
 * before it builds any bio.  Pure functions over a struct hvv_chain, kept
 * apart from the block layer so that the user-space fuzzer builds them
 * too (tools/fuzz).
 */
#ifndef HVISOR_VHOST_BLK_REQ_H
#define HVISOR_VHOST_BLK_REQ_H

#include <linux/sizes.h>
#include <linux/types.h>

#include "vq.h"

/* Data segments per request: a chain also needs a header and a status. */
#define HVV_BLK_SEG_MAX		(HVV_CHAIN_MAX_SEGS - 2)
/*
 * Largest segment we announce.  Not below 64 KiB: a Linux guest with
 * 64 KiB pages raises a smaller limit to its page size anyway.
 */
#define HVV_BLK_SIZE_MAX	SZ_64K
/* Longest request accepted: what seg_max and size_max allow. */
#define HVV_BLK_MAX_DATA	((u32)HVV_BLK_SEG_MAX * HVV_BLK_SIZE_MAX)
/* Discard and write-zeroes ranges per request. */
#define HVV_BLK_MAX_RANGES	1

/* The request header (struct virtio_blk_outhdr), little-endian. */
struct hvv_blk_hdr {
	__le32 type;
	__le32 ioprio;
	__le64 sector;
};

/* One discard or write-zeroes range (virtio_blk_discard_write_zeroes). */
struct hvv_blk_range {
	__le64 sector;
	__le32 num_sectors;
	__le32 flags;
};

/* A run of guest data: part of one segment of a chain. */
struct hvv_blk_piece {
	void *addr;
	u32 len;
};

unsigned int hvv_blk_gather(const struct hvv_chain *chain,
			    unsigned int first, unsigned int end,
			    u32 skip, u32 len, struct hvv_blk_piece *out);
u8 *hvv_blk_status_byte(const struct hvv_chain *chain);
bool hvv_blk_read_hdr(const struct hvv_chain *chain, struct hvv_blk_hdr *hdr);
bool hvv_blk_range_ok(u64 capacity, unsigned int lbs, u64 sector, u64 nr);
u32 hvv_blk_rw_data(const struct hvv_chain *chain, bool is_read,
		    struct hvv_blk_piece *out, unsigned int *nr);
bool hvv_blk_rw_ok(u64 capacity, unsigned int lbs, u64 sector, u32 len);
u8 hvv_blk_read_range(const struct hvv_chain *chain, u64 capacity,
		      unsigned int lbs, u32 max, u32 allowed,
		      u64 *sector, u32 *nr, u32 *flags);
u32 hvv_blk_put_id(const struct hvv_chain *chain, const char *serial,
		   u32 serial_len, struct hvv_blk_piece *scratch);

#endif /* HVISOR_VHOST_BLK_REQ_H */

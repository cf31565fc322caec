// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk request parsing (see blk_req.h).
 *
 * A chain reaches here validated by the iterator: every segment is mapped
 * zone RAM of the length it claims, readable segments come first.  What is
 * left to check is what the request says: its header, its lengths against
 * the disk, its discard range.  Guest memory is read once into copies.
 */
#include <linux/blk_types.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <asm/byteorder.h>
#include <uapi/linux/virtio_blk.h>

#include "blk_req.h"
#include "compat.h"

/*
 * Gather @len bytes of @chain's segments [@first, @end), starting @skip
 * bytes in, as runs into @out.  The caller made sure they are there.
 */
unsigned int hvv_blk_gather(const struct hvv_chain *chain,
			    unsigned int first, unsigned int end,
			    u32 skip, u32 len, struct hvv_blk_piece *out)
{
	unsigned int i, n = 0;

	for (i = first; i < end && len; i++) {
		const struct hvv_seg *seg = &chain->segs[i];
		u32 take;

		if (skip >= seg->len) {
			skip -= seg->len;
			continue;
		}
		take = min(seg->len - skip, len);
		out[n].addr = seg->addr + skip;
		out[n].len = take;
		n++;
		skip = 0;
		len -= take;
	}
	return n;
}

/* The status byte: the last writable byte; NULL when there is none. */
u8 *hvv_blk_status_byte(const struct hvv_chain *chain)
{
	const struct hvv_seg *last;

	if (!chain->nr_in)
		return NULL;
	last = &chain->segs[chain->nr_out + chain->nr_in - 1];
	return last->addr + last->len - 1;
}

/* Copy the header out; false when the readable part is too short. */
bool hvv_blk_read_hdr(const struct hvv_chain *chain, struct hvv_blk_hdr *hdr)
{
	if (chain->out_len < sizeof(*hdr))
		return false;
	hvv_chain_copy_out(chain, 0, hdr, sizeof(*hdr));
	return true;
}

/*
 * Is [@sector, @sector + @nr) on a disk of @capacity sectors and aligned to
 * its logical block size @lbs?
 */
bool hvv_blk_range_ok(u64 capacity, unsigned int lbs, u64 sector, u64 nr)
{
	u64 mask = (lbs >> SECTOR_SHIFT) - 1;

	if (sector > capacity || nr > capacity - sector)
		return false;
	return !((sector | nr) & mask);
}

/*
 * The payload of a read (every writable byte but the status) or of a
 * write (every readable byte after the header), as runs into @out (room
 * for HVV_CHAIN_MAX_SEGS); *@nr is set to their number.  The chain has a
 * status byte and, for a write, a whole header.  Returns the length.
 */
u32 hvv_blk_rw_data(const struct hvv_chain *chain, bool is_read,
		    struct hvv_blk_piece *out, unsigned int *nr)
{
	u32 len;

	if (is_read) {
		len = chain->in_len - 1;
		*nr = hvv_blk_gather(chain, chain->nr_out,
				     chain->nr_out + chain->nr_in, 0, len, out);
	} else {
		len = chain->out_len - sizeof(struct hvv_blk_hdr);
		*nr = hvv_blk_gather(chain, 0, chain->nr_out,
				     sizeof(struct hvv_blk_hdr), len, out);
	}
	return len;
}

/* May @len bytes at @sector be read or written? */
bool hvv_blk_rw_ok(u64 capacity, unsigned int lbs, u64 sector, u32 len)
{
	return len <= HVV_BLK_MAX_DATA && !(len % lbs) &&
	       hvv_blk_range_ok(capacity, lbs, sector, len >> SECTOR_SHIFT);
}

/*
 * The one range of a discard or write-zeroes request (whole header
 * present), read once.  @max is the limit in sectors, @allowed the flags
 * the request may carry.  Returns VIRTIO_BLK_S_OK with the range in
 * *@sector, *@nr and *@flags; VIRTIO_BLK_S_UNSUPP for flags not allowed;
 * VIRTIO_BLK_S_IOERR for a malformed request or a range off the disk.
 */
u8 hvv_blk_read_range(const struct hvv_chain *chain, u64 capacity,
		      unsigned int lbs, u32 max, u32 allowed,
		      u64 *sector, u32 *nr, u32 *flags)
{
	struct hvv_blk_range range;
	u32 len = chain->out_len - sizeof(struct hvv_blk_hdr);

	*sector = 0;
	*nr = 0;
	*flags = 0;
	if (!len || len % sizeof(range) ||
	    len / sizeof(range) > HVV_BLK_MAX_RANGES)
		return VIRTIO_BLK_S_IOERR;
	hvv_chain_copy_out(chain, sizeof(struct hvv_blk_hdr), &range,
			   sizeof(range));
	*sector = le64_to_cpu(range.sector);
	*nr = le32_to_cpu(range.num_sectors);
	*flags = le32_to_cpu(range.flags);
	if (*flags & ~allowed)
		return VIRTIO_BLK_S_UNSUPP;
	if (*nr > max || !hvv_blk_range_ok(capacity, lbs, *sector, *nr))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

/*
 * GET_ID: write @serial (@serial_len bytes, not terminated when full)
 * into the writable bytes before the status, as much as fits.  @scratch
 * has room for HVV_CHAIN_MAX_SEGS runs.  Returns the bytes written.
 */
u32 hvv_blk_put_id(const struct hvv_chain *chain, const char *serial,
		   u32 serial_len, struct hvv_blk_piece *scratch)
{
	u32 len = min_t(u32, chain->in_len - 1, serial_len);
	unsigned int i, nr;

	nr = hvv_blk_gather(chain, chain->nr_out, chain->nr_out + chain->nr_in,
			    0, len, scratch);
	for (i = 0; i < nr; i++) {
		memcpy(scratch[i].addr, serial, scratch[i].len);
		serial += scratch[i].len;
	}
	return len;
}

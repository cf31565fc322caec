// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_blk_req: virtio-blk request parsing (hvisor_vhost/blk_req.c) on
 * chains made from the input, dispatched the way hvv_blk_start_req()
 * does, against a disk of fuzzed capacity, logical block size and
 * discard/write-zeroes limits.
 *
 * Each segment of a chain is a heap buffer of exactly its length, so ASan
 * reports any read or write past a segment.  Checked besides: the status
 * byte is the last writable byte; a header is read only from a chain long
 * enough for one; the payload runs of a read or write lie inside the
 * chain's writable (read) or readable (write) segments, add up to the
 * payload length and never cover the status byte or the header; a request
 * accepted for I/O is on the disk, aligned and within the announced
 * limits; GET_ID writes at most the serial and never the status byte.
 */
#include "harness.h"
#include "blk_req.h"
#include <uapi/linux/virtio_blk.h>

static struct hvv_chain chain;
static struct hvv_blk_piece pieces[HVV_CHAIN_MAX_SEGS];
static u8 scratch[SZ_64K];

static void check_pieces(unsigned int nr, u32 len, bool writable,
			 const u8 *status)
{
	u64 sum = 0;
	unsigned int i;

	HVV_CHECK(nr <= HVV_CHAIN_MAX_SEGS);
	for (i = 0; i < nr; i++) {
		int s = fz_chain_seg(&chain, pieces[i].addr, pieces[i].len);

		HVV_CHECK(pieces[i].len > 0);
		HVV_CHECK(s >= 0);
		HVV_CHECK(writable == (s >= chain.nr_out));
		/* The status byte is not data. */
		HVV_CHECK(!status || status < (u8 *)pieces[i].addr ||
			  status >= (u8 *)pieces[i].addr + pieces[i].len);
		sum += pieces[i].len;
		/* Touch every byte, as the bio or the bounce copy would. */
		if (writable)
			memset(pieces[i].addr, 0x5a, pieces[i].len);
		else
			memcpy(scratch, pieces[i].addr, pieces[i].len);
	}
	HVV_CHECK(sum == len);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const char serial[HVISOR_VHOST_BLK_SERIAL_LEN] = "fuzz-serial-0123456";
	struct fz f = { data, size };
	unsigned int lbs, nr;
	u32 max, allowed, len, nr_sectors, flags, type;
	struct hvv_blk_hdr hdr;
	u64 capacity, sector;
	u8 *status, st;
	bool zeroes;

	/* The disk. */
	capacity = fz_u8(&f) & 1 ? fz_u64(&f) : fz_u32(&f) % 0x100000;
	lbs = SECTOR_SIZE << (fz_u8(&f) % 4);
	max = fz_u32(&f);

	fz_chain_make(&f, &chain, 8, 8);

	status = hvv_blk_status_byte(&chain);
	if (!status) {
		HVV_CHECK(!chain.nr_in);
		goto out;
	}
	HVV_CHECK(fz_chain_seg(&chain, status, 1) == chain.nr_out + chain.nr_in - 1);
	HVV_CHECK(status == (u8 *)chain.segs[chain.nr_out + chain.nr_in - 1].addr +
		  chain.segs[chain.nr_out + chain.nr_in - 1].len - 1);
	*status = 0xa5;

	if (!hvv_blk_read_hdr(&chain, &hdr)) {
		HVV_CHECK(chain.out_len < sizeof(hdr));
		goto out;
	}
	HVV_CHECK(chain.out_len >= sizeof(hdr));
	type = le32_to_cpu(hdr.type);
	sector = le64_to_cpu(hdr.sector);

	switch (type % 16) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool is_read = type % 16 == VIRTIO_BLK_T_IN;

		len = hvv_blk_rw_data(&chain, is_read, pieces, &nr);
		HVV_CHECK(len == (is_read ? chain.in_len - 1 :
				  chain.out_len - sizeof(hdr)));
		check_pieces(nr, len, is_read, status);
		if (hvv_blk_rw_ok(capacity, lbs, sector, len)) {
			HVV_CHECK(len <= HVV_BLK_MAX_DATA);
			HVV_CHECK(len % lbs == 0);
			HVV_CHECK(sector % (lbs / SECTOR_SIZE) == 0);
			HVV_CHECK(sector <= capacity &&
				  len / SECTOR_SIZE <= capacity - sector);
		}
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		zeroes = type % 16 == VIRTIO_BLK_T_WRITE_ZEROES;
		allowed = zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
		st = hvv_blk_read_range(&chain, capacity, lbs, max, allowed,
					&sector, &nr_sectors, &flags);
		if (st == VIRTIO_BLK_S_OK) {
			HVV_CHECK(chain.out_len == sizeof(hdr) +
				  sizeof(struct hvv_blk_range));
			HVV_CHECK(!(flags & ~allowed));
			HVV_CHECK(nr_sectors <= max);
			HVV_CHECK(sector <= capacity &&
				  nr_sectors <= capacity - sector);
			HVV_CHECK(!((sector | nr_sectors) % (lbs / SECTOR_SIZE)));
		} else {
			HVV_CHECK(st == VIRTIO_BLK_S_IOERR ||
				  st == VIRTIO_BLK_S_UNSUPP);
		}
		break;
	case VIRTIO_BLK_T_GET_ID:
		len = hvv_blk_put_id(&chain, serial, sizeof(serial), pieces);
		HVV_CHECK(len <= sizeof(serial) && len <= chain.in_len - 1);
		break;
	default:
		break;
	}
	/* Whatever the request, the status byte is still ours to write. */
	HVV_CHECK(*status == 0xa5);
out:
	fz_chain_free(&chain);
	return 0;
}

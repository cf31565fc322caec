// SPDX-License-Identifier: GPL-2.0
/*
 * blk_chain_helper: a hand-made virtio-blk driver for blk_chain.sh (not a
 * test itself: run-selftests skips programs named *_helper).  Static, libc
 * only.
 *
 *   blk_chain_helper ZONE BASE BACKING CASE
 *
 * Drives the backend's virtio-blk device at guest-physical BASE of ZONE
 * through the loopback zone's raw register file
 * (/sys/kernel/debug/hvisor_vhost_loopback/raw), with rings and buffers in
 * pages of this process: the zone must map root's RAM one to one (hvctl
 * zone add --identity-ram), and the pages are locked (run with
 * vm.compact_unevictable_allowed=0 so that they stay where pagemap said).
 * The stock driver never sends the odd chains a hostile guest can make;
 * this one does, one CASE per run, and checks the status byte, the used
 * length and, for data, the bytes on BACKING (read with O_DIRECT).
 *
 * Each run resets the device, negotiates VERSION_1 plus every blk feature
 * offered (no ring features: no EVENT_IDX, no indirect), sets up queue 0
 * with 8 entries, sends the CASE's chains, polls the used ring, and resets
 * the device again.  CASE "list" prints the cases.
 *
 * Exit status 0 when the device answered as expected, 1 otherwise, 2 on
 * usage or setup errors.
 */
#include <stdbool.h>
#include <time.h>

#include "raw_lib.h"

#define QSIZE		8
#define SECTOR		512

#define F_RO			5
#define F_FLUSH			9
#define F_DISCARD		13
#define F_WRITE_ZEROES		14

#define T_IN			0
#define T_OUT			1
#define T_FLUSH			4
#define T_GET_ID		8
#define T_DISCARD		11
#define T_WRITE_ZEROES		13

#define ST_OK			0
#define ST_IOERR		1
#define ST_UNSUPP		2

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

struct hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

struct range {
	uint64_t sector;
	uint32_t num;
	uint32_t flags;
};

static const char *backing;
static uint64_t features;
static uint64_t capacity;
static struct desc *dtab;
static uint16_t *avail;		/* flags, idx, ring[] */
static uint16_t *used;		/* flags, idx, then {u32 id, len}[] */
static uint16_t avail_idx, used_idx;

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return 1;
}

static void notify(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "p %u 0x%" PRIx64 " 4 0", zone,
		 base + VIRTIO_MMIO_QUEUE_NOTIFY);
	raw_cmd(cmd);
}

/* Page 0: descriptors, 1: avail ring, 2: used ring, 3..: buffers. */
#define PG_BUF		3
static void *buf(int i)
{
	return mem + (PG_BUF + i) * PAGE;
}

static uint64_t buf_pa(int i)
{
	return phys[PG_BUF + i];
}

static void setup_device(void)
{
	features = negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << F_RO) |
			     (1ULL << F_FLUSH) | (1ULL << F_DISCARD) |
			     (1ULL << F_WRITE_ZEROES));
	capacity = rd(VIRTIO_MMIO_CONFIG, 4) | rd(VIRTIO_MMIO_CONFIG + 4, 4) << 32;

	dtab = (struct desc *)mem;
	avail = (uint16_t *)(mem + PAGE);
	used = (uint16_t *)(mem + 2 * PAGE);
	memset(mem, 0, 3 * PAGE);
	avail_idx = 0;
	used_idx = 0;
	start_queue(0, QSIZE);
}

/* A chain under construction: descriptors from 0 up. */
static unsigned int nd;

static void chain_begin(void)
{
	nd = 0;
}

static void seg(uint64_t pa, uint32_t len, bool writable)
{
	if (nd)
		dtab[nd - 1].flags |= VRING_DESC_F_NEXT;
	dtab[nd].addr = pa;
	dtab[nd].len = len;
	dtab[nd].flags = writable ? VRING_DESC_F_WRITE : 0;
	dtab[nd].next = nd + 1;
	nd++;
}

/* Publish the chain at head 0, notify, wait for its used entry. */
static int submit(uint32_t *used_len)
{
	uint32_t *ue = (uint32_t *)(used + 2);
	struct timespec t0, t;
	uint16_t u;

	avail[2 + (avail_idx % QSIZE)] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail_idx++;
	__atomic_store_n(&avail[1], avail_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	notify();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		u = __atomic_load_n(&used[1], __ATOMIC_ACQUIRE);
		if (u != used_idx)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10) {
			printf("no used entry after 10 s (device status %#" PRIx64 ")\n",
			       rd(VIRTIO_MMIO_STATUS, 4));
			return -1;
		}
		usleep(1000);
	}
	/* After the acquire load of used->idx above. */
	*used_len = ue[(used_idx % QSIZE) * 2 + 1];
	used_idx++;
	if (rd(VIRTIO_MMIO_INTERRUPT_STATUS, 4))
		wr(VIRTIO_MMIO_INTERRUPT_ACK, 3);
	return 0;
}

/* Send a request, check status and used length. */
static int expect(uint8_t *status, uint8_t want, uint32_t want_len)
{
	uint32_t len;

	if (status)
		*status = 0xee;
	if (submit(&len))
		return 1;
	if (status && *status != want)
		return fail("status %u, want %u", *status, want);
	if (len != want_len)
		return fail("used length %u, want %u", len, want_len);
	return 0;
}

static void put_hdr(void *at, uint32_t type, uint64_t sector)
{
	struct hdr h = { .type = type, .sector = sector };

	memcpy(at, &h, sizeof(h));
}

static void fill(void *p, size_t len, unsigned int seed)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 31 + seed * 7 + 1);
}

/* Compare @len bytes at @p with BACKING at byte @off. */
static int backing_is(const void *p, uint64_t off, size_t len)
{
	void *b;
	int fd, ret = 0;

	if (posix_memalign(&b, PAGE, PAGE * 2))
		die("no memory");
	fd = open(backing, O_RDONLY | O_DIRECT);
	if (fd < 0)
		die("open %s: %s", backing, strerror(errno));
	if (pread(fd, b, PAGE * 2, off & ~(PAGE - 1)) < (ssize_t)PAGE)
		ret = fail("cannot read %s", backing);
	else if (memcmp((uint8_t *)b + (off & (PAGE - 1)), p, len))
		ret = fail("%s at %" PRIu64 " does not hold the data", backing,
			   off);
	close(fd);
	free(b);
	return ret;
}

/* ---- cases ------------------------------------------------------------ */

/* Reference read: header, 4 KiB, status in three descriptors. */
static int c_read(void)
{
	uint8_t *st = buf(2);

	chain_begin();
	put_hdr(buf(0), T_IN, 8);
	seg(buf_pa(0), 16, false);
	seg(buf_pa(1), 4096, true);
	seg(buf_pa(2), 1, true);
	return expect(st, ST_OK, 4097) ?: backing_is(buf(1), 8 * SECTOR, 4096);
}

/* A write, then a read of it with the header split 5/5/6 over 3 pages. */
static int c_split_header(void)
{
	uint8_t h[16], *st = buf(5);

	chain_begin();
	put_hdr(buf(0), T_OUT, 16);
	fill(buf(1), 1024, 3);
	seg(buf_pa(0), 16, false);
	seg(buf_pa(1), 1024, false);
	seg(buf_pa(5), 1, true);
	if (expect(st, ST_OK, 1) || backing_is(buf(1), 16 * SECTOR, 1024))
		return 1;
	put_hdr(h, T_IN, 16);
	memcpy(buf(2), h, 5);
	memcpy(buf(3), h + 5, 5);
	memcpy(buf(4), h + 10, 6);
	memset(buf(1), 0, 1024);
	chain_begin();
	seg(buf_pa(2), 5, false);
	seg(buf_pa(3), 5, false);
	seg(buf_pa(4), 6, false);
	seg(buf_pa(1), 1024, true);
	seg(buf_pa(5), 1, true);
	return expect(st, ST_OK, 1025) ?: backing_is(buf(1), 16 * SECTOR, 1024);
}

/*
 * Header and data in one readable buffer, data and status in one
 * writable buffer, at odd offsets in their pages (bounced then).
 */
static int c_shared_buffers(void)
{
	uint8_t *out = (uint8_t *)buf(0) + 100, *in = (uint8_t *)buf(1) + 7;

	chain_begin();
	put_hdr(out, T_OUT, 24);
	fill(out + 16, 1536, 5);
	seg(buf_pa(0) + 100, 16 + 1536, false);
	seg(buf_pa(2), 1, true);
	if (expect(buf(2), ST_OK, 1) ||
	    backing_is(out + 16, 24 * SECTOR, 1536))
		return 1;
	chain_begin();
	put_hdr(buf(3), T_IN, 24);
	seg(buf_pa(3), 16, false);
	seg(buf_pa(1) + 7, 1536 + 1, true);
	return expect(in + 1536, ST_OK, 1537) ?:
	       backing_is(in, 24 * SECTOR, 1536);
}

/*
 * No writable byte for the status: given back with length 0; the device
 * goes on working.
 */
static int c_no_status(void)
{
	chain_begin();
	put_hdr(buf(0), T_IN, 0);
	seg(buf_pa(0), 16, false);
	if (expect(NULL, 0, 0))
		return 1;
	chain_begin();
	put_hdr(buf(0), T_FLUSH, 0);
	seg(buf_pa(0), 16, false);
	seg(buf_pa(0) + 16, 1, false);
	if (expect(NULL, 0, 0))
		return 1;
	return c_read();
}

static int c_short_header(void)
{
	chain_begin();
	put_hdr(buf(0), T_IN, 0);
	seg(buf_pa(0), 8, false);
	seg(buf_pa(1), 1, true);
	return expect(buf(1), ST_IOERR, 1);
}

static int one_io(uint32_t type, uint64_t sector, uint32_t len, uint8_t want)
{
	chain_begin();
	put_hdr(buf(0), type, sector);
	seg(buf_pa(0), 16, false);
	if (len)
		seg(buf_pa(1), len, type == T_IN);
	seg(buf_pa(2), 1, true);
	/* Only a read that succeeds wrote more than the status. */
	return expect(buf(2), want, type == T_IN && want == ST_OK ? len + 1 : 1);
}

/* Sectors past the end, overflowing sector arithmetic, odd lengths. */
static int c_bad_ranges(void)
{
	if (one_io(T_IN, capacity, 512, ST_IOERR) ||
	    one_io(T_IN, capacity - 1, 1024, ST_IOERR) ||
	    one_io(T_OUT, capacity - 1, 1024, ST_IOERR) ||
	    one_io(T_IN, 1ULL << 63, 512, ST_IOERR) ||
	    one_io(T_IN, UINT64_MAX, 512, ST_IOERR) ||
	    one_io(T_IN, UINT64_MAX / SECTOR + 1, 512, ST_IOERR) ||
	    one_io(T_IN, 0, 100, ST_IOERR) ||
	    one_io(T_OUT, 0, 513, ST_IOERR))
		return 1;
	/* The last sector itself is fine. */
	chain_begin();
	put_hdr(buf(0), T_IN, capacity - 1);
	seg(buf_pa(0), 16, false);
	seg(buf_pa(1), 512, true);
	seg(buf_pa(2), 1, true);
	return expect(buf(2), ST_OK, 513);
}

/*
 * A request longer than seg_max * size_max: five 4 MiB readable buffers
 * (only read, and not even that: the device refuses before any I/O).
 */
static int c_too_long(void)
{
	int i;

	chain_begin();
	put_hdr(buf(0), T_OUT, 0);
	seg(buf_pa(0), 16, false);
	for (i = 0; i < 5; i++)
		seg(phys[PG_BUF + 1] & ~((4ULL << 20) - 1), 4 << 20, false);
	seg(buf_pa(2), 1, true);
	return expect(buf(2), ST_IOERR, 1);
}

static int c_unsupported(void)
{
	return one_io(99, 0, 0, ST_UNSUPP) ||
	       one_io(0x80000000u | T_IN, 0, 512, ST_UNSUPP) ||
	       one_io(2, 0, 0, ST_UNSUPP);	/* SCSI_CMD */
}

static int c_flush(void)
{
	return one_io(T_FLUSH, 0, 0, ST_OK) ||
	       one_io(T_FLUSH, UINT64_MAX, 0, ST_OK);
}

/* GET_ID into 20 bytes and into 8 bytes split over two buffers. */
static int c_get_id(void)
{
	char want[20] = "", id[21] = "";
	uint8_t *st = buf(3);

	strncpy(want, getenv("SERIAL") ?: "", sizeof(want));

	chain_begin();
	put_hdr(buf(0), T_GET_ID, 0);
	memset(buf(1), 0x55, 64);
	seg(buf_pa(0), 16, false);
	seg(buf_pa(1), 20, true);
	seg(buf_pa(3), 1, true);
	if (expect(st, ST_OK, 21))
		return 1;
	memcpy(id, buf(1), 20);
	if (memcmp(id, want, 20))
		return fail("serial '%s', want '%.20s'", id, want);
	memset(buf(1), 0x55, 64);
	memset(buf(2), 0x55, 64);
	chain_begin();
	seg(buf_pa(0), 16, false);
	seg(buf_pa(1), 3, true);
	seg(buf_pa(2), 6, true);	/* 5 bytes of id + the status */
	if (expect((uint8_t *)buf(2) + 5, ST_OK, 9))
		return 1;
	if (memcmp(buf(1), want, 3) || memcmp(buf(2), want + 3, 5) ||
	    ((uint8_t *)buf(1))[3] != 0x55)
		return fail("truncated serial wrong");
	return 0;
}

static int range_io(uint32_t type, const struct range *r, unsigned int nr,
		    uint32_t len, uint8_t want)
{
	chain_begin();
	put_hdr(buf(0), type, 0);
	memcpy(buf(1), r, nr * sizeof(*r));
	seg(buf_pa(0), 16, false);
	seg(buf_pa(1), len, false);
	seg(buf_pa(2), 1, true);
	return expect(buf(2), want, 1);
}

/* Malformed discard and write-zeroes requests. */
static int c_bad_discard(void)
{
	struct range r[2] = {
		{ .sector = 0, .num = 8 }, { .sector = 64, .num = 8 },
	};

	if (!(features & (1ULL << F_DISCARD)))
		return printf("discard not offered\n"), 0;
	if (range_io(T_DISCARD, r, 2, 32, ST_IOERR) ||
	    range_io(T_DISCARD, r, 1, 15, ST_IOERR) ||
	    range_io(T_DISCARD, r, 1, 17, ST_IOERR))
		return 1;
	r[0].flags = 1;		/* unmap is not for discard */
	if (range_io(T_DISCARD, r, 1, 16, ST_UNSUPP))
		return 1;
	r[0].flags = 0;
	r[0].sector = capacity;
	if (range_io(T_DISCARD, r, 1, 16, ST_IOERR))
		return 1;
	r[0].sector = UINT64_MAX - 3;
	if (range_io(T_DISCARD, r, 1, 16, ST_IOERR))
		return 1;
	r[0].sector = 0;
	r[0].num = 8;
	if (range_io(T_DISCARD, r, 1, 16, ST_OK))
		return 1;
	if (!(features & (1ULL << F_WRITE_ZEROES)))
		return printf("write zeroes not offered\n"), 0;
	r[0].flags = 2;		/* reserved */
	if (range_io(T_WRITE_ZEROES, r, 1, 16, ST_UNSUPP))
		return 1;
	r[0].flags = 1;
	return range_io(T_WRITE_ZEROES, r, 1, 16, ST_OK);
}

/* On a read-only device every write is refused. */
static int c_read_only(void)
{
	struct range r = { .sector = 0, .num = 8 };

	if (!(features & (1ULL << F_RO)))
		return fail("VIRTIO_BLK_F_RO not offered");
	if (one_io(T_OUT, 0, 512, ST_IOERR) ||
	    range_io(T_WRITE_ZEROES, &r, 1, 16, ST_UNSUPP) ||
	    range_io(T_DISCARD, &r, 1, 16, ST_UNSUPP))
		return 1;
	return one_io(T_IN, 0, 512, ST_OK) || one_io(T_FLUSH, 0, 0, ST_OK);
}

static const struct {
	const char *name;
	int (*fn)(void);
} cases[] = {
	{ "read", c_read },
	{ "split-header", c_split_header },
	{ "shared-buffers", c_shared_buffers },
	{ "no-status", c_no_status },
	{ "short-header", c_short_header },
	{ "bad-ranges", c_bad_ranges },
	{ "too-long", c_too_long },
	{ "unsupported", c_unsupported },
	{ "flush", c_flush },
	{ "get-id", c_get_id },
	{ "bad-discard", c_bad_discard },
	{ "read-only", c_read_only },
};

int main(int argc, char **argv)
{
	unsigned int i;
	int ret;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (i = 0; i < ARRAY_SIZE(cases); i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (argc != 5) {
		fprintf(stderr, "usage: %s ZONE BASE BACKING CASE | list\n",
			argv[0]);
		return 2;
	}
	zone = strtoul(argv[1], NULL, 0);
	base = strtoull(argv[2], NULL, 0);
	backing = argv[3];
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		if (!strcmp(argv[4], cases[i].name))
			break;
	if (i == ARRAY_SIZE(cases))
		die("unknown case %s", argv[4]);

	get_pages();
	setup_device();
	ret = cases[i].fn();
	if (!ret && rd(VIRTIO_MMIO_STATUS, 4) & VIRTIO_CONFIG_S_NEEDS_RESET)
		ret = fail("the device needs a reset");
	reset_device();
	return ret;
}

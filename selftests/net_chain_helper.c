// SPDX-License-Identifier: GPL-2.0
/*
 * net_chain_helper: a hand-made virtio-net driver for net_chain.sh (not a
 * test itself: run-selftests skips programs named *_helper).  Static, libc
 * only.
 *
 *   net_chain_helper ZONE BASE CASE
 *
 * Drives the transmit queue (queue 1) of the backend's virtio-net device
 * at guest-physical BASE of ZONE through the loopback zone's raw register
 * file (/sys/kernel/debug/hvisor_vhost_loopback/raw), with rings and
 * buffers in locked pages of this process: the zone must map root's RAM
 * one to one (hvctl zone add --identity-ram).  The stock driver never
 * sends the frames a hostile guest can make; this one sends one CASE per
 * run and checks that the chain comes back (used length 0) and that the
 * device does not ask for a reset, or, for a buffer outside zone RAM, that
 * it does.  Whether a frame reached the tap is for the caller to see.
 *
 * Only VIRTIO_F_VERSION_1 is negotiated: no offload, no ring feature.
 * CASE "list" prints the cases.  Exit status 0 when the device answered as
 * expected, 1 otherwise, 2 on usage or setup errors.
 */
#include <stdbool.h>
#include <time.h>

#include "raw_lib.h"

#define QSIZE		32
#define TXQ		1

#define HDR_LEN			12
#define HDR_F_NEEDS_CSUM	1
#define GSO_TCPV4		1
/* Largest frame the device takes: 64 KiB plus a VLAN Ethernet header. */
#define MAX_FRAME		(65536 + 18)
/* Outside the RAM of any test guest, and page aligned. */
#define OUTSIDE_RAM		0x2000000000ULL

static struct desc *dtab;
static uint16_t *avail;		/* flags, idx, ring[] */
static uint16_t *used;		/* flags, idx, then {u32 id, len}[] */
static uint16_t avail_idx, used_idx;
static unsigned int nd;

/* Page 0: descriptors, 1: avail ring, 2: used ring, 3..: buffers. */
#define PG_BUF		3
#define NBUF		(NPAGES - PG_BUF)

static void setup_device(void)
{
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	dtab = (struct desc *)mem;
	avail = (uint16_t *)(mem + PAGE);
	used = (uint16_t *)(mem + 2 * PAGE);
	start_queue(TXQ, QSIZE);
}

static void seg(uint64_t pa, uint32_t len, bool writable)
{
	if (nd >= QSIZE)
		die("chain longer than the ring");
	if (nd)
		dtab[nd - 1].flags |= VRING_DESC_F_NEXT;
	dtab[nd].addr = pa;
	dtab[nd].len = len;
	dtab[nd].flags = writable ? VRING_DESC_F_WRITE : 0;
	dtab[nd].next = nd + 1;
	nd++;
}

/*
 * @len bytes of buffer memory from byte @off of the buffer pages, as
 * descriptors that never cross a page (the pages are not contiguous).
 */
static void segs(size_t off, size_t len)
{
	while (len) {
		size_t pg = off / PAGE, po = off % PAGE;
		size_t n = PAGE - po < len ? PAGE - po : len;

		if (pg >= NBUF)
			die("not enough buffer pages");
		seg(phys[PG_BUF + pg] + po, n, false);
		off += n;
		len -= n;
	}
}

/* Buffer byte @off, for filling. */
static uint8_t *bufp(size_t off)
{
	return mem + PG_BUF * PAGE + off;
}

/* A virtio-net header at buffer byte 0, a broadcast frame after it. */
static void fill(uint8_t flags, uint8_t gso, size_t frame)
{
	static const uint8_t eth[14] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0xb5,
	};
	size_t i;

	memset(bufp(0), 0, HDR_LEN);
	bufp(0)[0] = flags;
	bufp(0)[1] = gso;
	if (gso) {
		bufp(0)[4] = 1400 & 0xff;	/* gso_size */
		bufp(0)[5] = 1400 >> 8;
	}
	if (frame >= sizeof(eth))
		memcpy(bufp(HDR_LEN), eth, sizeof(eth));
	for (i = sizeof(eth); i < frame; i++)
		*bufp(HDR_LEN + i) = (uint8_t)i;
}

/*
 * Publish the chain at head 0 and notify.  Waits for its used entry, or,
 * with @want_reset, for DEVICE_NEEDS_RESET.  Returns 0 when the device
 * did what was expected.
 */
static int submit(bool want_reset)
{
	uint32_t *ue = (uint32_t *)(used + 2);
	struct timespec t0, t;
	uint32_t st, len;
	char cmd[128];
	uint16_t u;

	avail[2 + (avail_idx % QSIZE)] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail_idx++;
	__atomic_store_n(&avail[1], avail_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	snprintf(cmd, sizeof(cmd), "p %u 0x%" PRIx64 " 4 %u", zone,
		 base + VIRTIO_MMIO_QUEUE_NOTIFY, TXQ);
	raw_cmd(cmd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		st = rd(VIRTIO_MMIO_STATUS, 4);
		u = __atomic_load_n(&used[1], __ATOMIC_ACQUIRE);
		if (want_reset && (st & VIRTIO_CONFIG_S_NEEDS_RESET)) {
			if (u != used_idx) {
				printf("the device needs a reset, but returned the chain\n");
				return 1;
			}
			printf("the device needs a reset, the chain was not returned\n");
			return 0;
		}
		if (!want_reset && u != used_idx)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10) {
			printf("nothing after 10 s (device status %#x, used idx %u)\n",
			       st, u);
			return 1;
		}
		usleep(1000);
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	len = ue[2 * (used_idx % QSIZE) + 1];
	if (ue[2 * (used_idx % QSIZE)] != 0) {
		printf("used entry for head %u, not 0\n", ue[2 * (used_idx % QSIZE)]);
		return 1;
	}
	used_idx++;
	if (len) {
		printf("used length %u, not 0 (nothing is written on TX)\n", len);
		return 1;
	}
	if (st & VIRTIO_CONFIG_S_NEEDS_RESET) {
		printf("the device asks for a reset (status %#x)\n", st);
		return 1;
	}
	printf("chain returned, used length 0, device status %#x\n", st);
	return 0;
}

struct tcase {
	const char *name;
	const char *what;
	void (*build)(void);
	bool want_reset;
};

static void c_ok(void)
{
	fill(0, 0, 60);
	segs(0, HDR_LEN + 60);
}

static void c_split_header(void)
{
	fill(0, 0, 60);
	segs(0, 5);
	segs(5, 7);
	segs(HDR_LEN, 60);
}

static void c_short_header(void)
{
	fill(0, 0, 0);
	segs(0, HDR_LEN - 1);
}

static void c_only_writable(void)
{
	fill(0, 0, 60);
	seg(phys[PG_BUF], HDR_LEN + 60, true);
}

static void c_max_frame(void)
{
	fill(0, 0, MAX_FRAME);
	segs(0, HDR_LEN + MAX_FRAME);
}

static void c_too_long(void)
{
	fill(0, 0, MAX_FRAME + 1);
	segs(0, HDR_LEN + MAX_FRAME + 1);
}

static void c_csum(void)
{
	fill(HDR_F_NEEDS_CSUM, 0, 60);
	bufp(0)[6] = 34;	/* csum_start */
	bufp(0)[8] = 6;		/* csum_offset */
	segs(0, HDR_LEN + 60);
}

static void c_gso(void)
{
	fill(0, GSO_TCPV4, 3000);
	segs(0, HDR_LEN + 3000);
}

static void c_unknown_flags(void)
{
	fill(0x80, 0, 60);
	segs(0, HDR_LEN + 60);
}

static void c_outside_ram(void)
{
	fill(0, 0, 60);
	segs(0, HDR_LEN);
	seg(OUTSIDE_RAM, 60, false);
}

static const struct tcase cases[] = {
	{ "ok", "a valid 60-byte frame (reaches the tap)", c_ok, false },
	{ "split-header", "the header split over two descriptors (reaches the tap)",
	  c_split_header, false },
	{ "short-header", "11 bytes: shorter than the header", c_short_header, false },
	{ "only-writable", "no readable descriptor", c_only_writable, false },
	{ "max-frame", "a frame of 64 KiB + 18 bytes, the most taken (reaches the tap)",
	  c_max_frame, false },
	{ "too-long", "a frame of 64 KiB + 19 bytes", c_too_long, false },
	{ "csum", "NEEDS_CSUM without VIRTIO_NET_F_CSUM", c_csum, false },
	{ "gso", "TCPv4 GSO without VIRTIO_NET_F_HOST_TSO4", c_gso, false },
	{ "unknown-flags", "header flags no spec defines", c_unknown_flags, false },
	{ "outside-ram", "a frame buffer outside zone RAM (needs reset)",
	  c_outside_ram, true },
};

int main(int argc, char **argv)
{
	const struct tcase *tc = NULL;
	unsigned int i;
	int ret;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			printf("%s\t%s\n", cases[i].name, cases[i].what);
		return 0;
	}
	if (argc != 4)
		die("usage: net_chain_helper ZONE BASE CASE | list");
	zone = strtoul(argv[1], NULL, 0);
	base = strtoull(argv[2], NULL, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(argv[3], cases[i].name))
			tc = &cases[i];
	if (!tc)
		die("unknown case '%s'", argv[3]);

	get_pages();
	setup_device();
	nd = 0;
	tc->build();
	ret = submit(tc->want_reset);
	reset_device();
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * con_chain_helper: a hand-made virtio-console driver for con_chain.sh
 * (not a test itself: run-selftests skips programs named *_helper).
 * Static, libc only.
 *
 *   con_chain_helper ZONE BASE TTY CASE
 *
 * Drives the receive (0) and transmit (1) queues of the backend's
 * virtio-console device at guest-physical BASE of ZONE through the
 * loopback zone's raw register file, with rings and buffers in locked
 * pages of this process (the zone maps root's RAM one to one), and
 * root's side of the console through its tty TTY, held open and raw.
 * Each CASE is a chain no stock driver makes, or a valid one for
 * comparison; the helper checks what the device did with it: a valid
 * chain comes back with the right used length and its bytes reach the
 * other side; a malformed one makes the device ask for a reset (the
 * module's rule for a broken ring), is not returned, and nothing of it
 * reaches root's tty.
 *
 * VIRTIO_F_VERSION_1 and VIRTIO_RING_F_INDIRECT_DESC are negotiated
 * (the "indirect-not-negotiated" case leaves the latter out).  CASE
 * "list" prints the cases.  Exit status 0 when the device answered as
 * expected, 1 otherwise, 2 on usage or setup errors.
 */
#include <poll.h>
#include <stdbool.h>
#include <termios.h>
#include <time.h>

#include "raw_lib.h"

#define QSIZE		32
#define RXQ		0
#define TXQ		1
/* The module's output ring: a longer chain keeps its last bytes. */
#define OUT_RING	65536
/* Outside the RAM of any test guest, and page aligned. */
#define OUTSIDE_RAM	0x2000000000ULL

/* Pages 0-2: transmitq rings, 3-5: receiveq rings, 6: indirect, 7..: buffers */
#define PG_TX		0
#define PG_RX		3
#define PG_IND		6
#define PG_BUF		7
#define NBUF		(NPAGES - PG_BUF)

struct ring {
	struct desc *dtab;
	uint16_t *avail;	/* flags, idx, ring[] */
	uint16_t *used;		/* flags, idx, then {u32 id, len}[] */
	uint16_t avail_idx, used_idx;
	unsigned int nd;
	unsigned int q;
};

static struct ring rx, tx;
static int tty = -1;
static bool no_indirect;

static uint8_t *page(unsigned int pg)
{
	return mem + pg * PAGE;
}

static void ring_init(struct ring *r, unsigned int q, unsigned int pg)
{
	r->q = q;
	r->dtab = (struct desc *)page(pg);
	r->avail = (uint16_t *)page(pg + 1);
	r->used = (uint16_t *)page(pg + 2);
}

static void queue_setup(struct ring *r, unsigned int pg)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, r->q);
	if (rd(VIRTIO_MMIO_QUEUE_NUM_MAX, 4) < QSIZE)
		die("QueueNumMax below %u", QSIZE);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)phys[pg]);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW + 4, phys[pg] >> 32);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)phys[pg + 1]);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW + 4, phys[pg + 1] >> 32);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)phys[pg + 2]);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW + 4, phys[pg + 2] >> 32);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

static void setup_device(void)
{
	uint64_t want = 1ULL << VIRTIO_F_VERSION_1;

	if (!no_indirect)
		want |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (negotiate(want) != want)
		die("features %#llx not all offered", (unsigned long long)want);
	ring_init(&tx, TXQ, PG_TX);
	ring_init(&rx, RXQ, PG_RX);
	queue_setup(&rx, PG_RX);
	queue_setup(&tx, PG_TX);
	wr(VIRTIO_MMIO_STATUS, S_DRIVER_UP | VIRTIO_CONFIG_S_FEATURES_OK |
	   VIRTIO_CONFIG_S_DRIVER_OK);
}

/* Descriptor @i of @r: @len bytes at @pa, chained to @next (or not). */
static void desc(struct ring *r, unsigned int i, uint64_t pa, uint32_t len,
		 uint16_t flags, int next)
{
	r->dtab[i].addr = pa;
	r->dtab[i].len = len;
	r->dtab[i].flags = flags | (next >= 0 ? VRING_DESC_F_NEXT : 0);
	r->dtab[i].next = next >= 0 ? next : 0;
}

/* Append a descriptor to the chain at head 0 of @r. */
static void seg(struct ring *r, uint64_t pa, uint32_t len, bool writable)
{
	if (r->nd >= QSIZE)
		die("chain longer than the ring");
	if (r->nd)
		r->dtab[r->nd - 1].flags |= VRING_DESC_F_NEXT;
	desc(r, r->nd, pa, len, writable ? VRING_DESC_F_WRITE : 0, -1);
	r->dtab[r->nd].next = r->nd + 1;
	r->nd++;
}

static uint8_t *buf(unsigned int i)
{
	if (i >= NBUF)
		die("not enough buffer pages");
	return page(PG_BUF + i);
}

static uint64_t bufpa(unsigned int i)
{
	if (i >= NBUF)
		die("not enough buffer pages");
	return phys[PG_BUF + i];
}

/*
 * Make the chain at @head available and notify (@bump more than one: a
 * lie about how many there are).
 */
static void publish_head(struct ring *r, uint16_t head, uint16_t bump)
{
	char cmd[128];

	r->avail[2 + (r->avail_idx % QSIZE)] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	r->avail_idx += bump;
	__atomic_store_n(&r->avail[1], r->avail_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	snprintf(cmd, sizeof(cmd), "p %u 0x%" PRIx64 " 4 %u", zone,
		 base + VIRTIO_MMIO_QUEUE_NOTIFY, r->q);
	raw_cmd(cmd);
}

static void publish(struct ring *r, uint16_t bump)
{
	publish_head(r, 0, bump);
}

/*
 * Wait for the chain's used entry (its length in *@len), or, with
 * @want_reset, for DEVICE_NEEDS_RESET with the chain not returned.
 * 0 when the device did that.
 */
static int wait_device(struct ring *r, bool want_reset, uint32_t *len)
{
	uint32_t *ue = (uint32_t *)(r->used + 2);
	struct timespec t0, t;
	uint32_t st;
	uint16_t u;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		st = rd(VIRTIO_MMIO_STATUS, 4);
		u = __atomic_load_n(&r->used[1], __ATOMIC_ACQUIRE);
		if (want_reset && (st & VIRTIO_CONFIG_S_NEEDS_RESET)) {
			if (u != r->used_idx) {
				printf("the device needs a reset, but returned the chain\n");
				return 1;
			}
			printf("the device needs a reset, the chain was not returned\n");
			return 0;
		}
		if (!want_reset && u != r->used_idx)
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
	if (ue[2 * (r->used_idx % QSIZE)] != 0) {
		printf("used entry for head %u, not 0\n",
		       ue[2 * (r->used_idx % QSIZE)]);
		return 1;
	}
	*len = ue[2 * (r->used_idx % QSIZE) + 1];
	r->used_idx++;
	if (st & VIRTIO_CONFIG_S_NEEDS_RESET) {
		printf("the device asks for a reset (status %#x)\n", st);
		return 1;
	}
	return 0;
}

/* Read up to @n bytes from root's tty, waiting at most @ms for each. */
static size_t tty_read(uint8_t *p, size_t n, int ms)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pf = { .fd = tty, .events = POLLIN };
		ssize_t k;

		if (poll(&pf, 1, ms) <= 0)
			break;
		k = read(tty, p + got, n - got);
		if (k <= 0)
			break;
		got += k;
	}
	return got;
}

static void tty_open(const char *path)
{
	struct termios t;

	tty = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (tty < 0)
		die("open %s: %s", path, strerror(errno));
	if (tcgetattr(tty, &t))
		die("tcgetattr %s: %s", path, strerror(errno));
	cfmakeraw(&t);
	if (tcsetattr(tty, TCSANOW, &t))
		die("tcsetattr %s: %s", path, strerror(errno));
	tcflush(tty, TCIOFLUSH);
}

/* Nothing reached root's tty. */
static int tty_quiet(void)
{
	uint8_t b[64];
	size_t n = tty_read(b, sizeof(b), 300);

	if (n) {
		printf("%zu bytes reached root's tty\n", n);
		return 1;
	}
	return 0;
}

static void pattern(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 8));
}

/* Transmit cases --------------------------------------------------------- */

/* A valid chain of @n segments (one a zero-length one): its bytes arrive. */
static int tx_valid(unsigned int n)
{
	uint8_t want[3 * 100], got[sizeof(want)];
	uint32_t len = ~0U;
	size_t k = 0, g;
	unsigned int i;

	for (i = 0; i < n; i++) {
		pattern(buf(i), 100, i);
		memcpy(want + k, buf(i), 100);
		k += 100;
		seg(&tx, bufpa(i), 100, false);
		if (i == 0 && n > 1)
			seg(&tx, bufpa(20), 0, false);
	}
	publish(&tx, 1);
	if (wait_device(&tx, false, &len))
		return 1;
	if (len) {
		printf("used length %u, not 0 (nothing is written on transmitq)\n", len);
		return 1;
	}
	g = tty_read(got, k, 5000);
	if (g != k || memcmp(got, want, k)) {
		printf("root's tty got %zu of %zu bytes%s\n", g, k,
		       g == k ? ", different" : "");
		return 1;
	}
	printf("chain returned, used length 0, %zu bytes on root's tty\n", k);
	return 0;
}

static int c_tx_ok(void)
{
	return tx_valid(1);
}

static int c_tx_split(void)
{
	return tx_valid(3);
}

/* A malformed transmit chain: needs reset, nothing on root's tty. */
static int tx_bad(uint16_t bump)
{
	uint32_t len;

	publish(&tx, bump);
	if (wait_device(&tx, true, &len))
		return 1;
	return tty_quiet();
}

static int c_tx_writable(void)
{
	pattern(buf(0), 100, 0);
	seg(&tx, bufpa(0), 100, false);
	seg(&tx, bufpa(1), 100, true);
	return tx_bad(1);
}

static int c_tx_only_writable(void)
{
	pattern(buf(0), 100, 0);
	seg(&tx, bufpa(0), 100, true);
	return tx_bad(1);
}

static int c_tx_outside(void)
{
	pattern(buf(0), 100, 0);
	seg(&tx, bufpa(0), 100, false);
	seg(&tx, OUTSIDE_RAM, 100, false);
	return tx_bad(1);
}

static int c_tx_straddle(void)
{
	/* Starts in zone RAM, runs 4 GiB - 1 past it. */
	seg(&tx, bufpa(0), 0xffffffffU, false);
	return tx_bad(1);
}

static int c_tx_loop(void)
{
	desc(&tx, 0, bufpa(0), 100, 0, 1);
	desc(&tx, 1, bufpa(1), 100, 0, 0);
	return tx_bad(1);
}

static int c_tx_next_range(void)
{
	desc(&tx, 0, bufpa(0), 100, 0, QSIZE + 3);
	return tx_bad(1);
}

static int c_tx_head_range(void)
{
	uint32_t len;

	desc(&tx, 0, bufpa(0), 100, 0, -1);
	publish_head(&tx, QSIZE, 1);
	if (wait_device(&tx, true, &len))
		return 1;
	return tty_quiet();
}

static int c_tx_avail_jump(void)
{
	desc(&tx, 0, bufpa(0), 100, 0, -1);
	return tx_bad(QSIZE + 1);
}

/* An indirect table of @n entries in the indirect page, each @len bytes. */
static void indirect(unsigned int n, uint32_t len, uint16_t flags)
{
	struct desc *t = (struct desc *)page(PG_IND);
	unsigned int i;

	if (n > PAGE / sizeof(*t))
		die("indirect table too big");
	for (i = 0; i < n; i++) {
		t[i].addr = bufpa(i % 16);
		t[i].len = len;
		t[i].flags = (i + 1 < n ? VRING_DESC_F_NEXT : 0) | flags;
		t[i].next = i + 1;
	}
	desc(&tx, 0, phys[PG_IND], n * sizeof(*t), VRING_DESC_F_INDIRECT, -1);
}

/*
 * 40 indirect entries of 4 KiB (160 KiB), more than the output ring: the
 * chain is taken, its last 64 KiB reach root, the rest is counted as
 * dropped (the caller checks the count).
 */
static int c_tx_oversized(void)
{
	static uint8_t got[OUT_RING], want[OUT_RING];
	unsigned int i, n = 40, per = OUT_RING / PAGE;
	uint32_t len = ~0U;
	size_t g;

	for (i = 0; i < 16; i++)
		pattern(buf(i), PAGE, i + 1);
	indirect(n, PAGE, 0);
	for (i = 0; i < per; i++)
		memcpy(want + i * PAGE, buf((n - per + i) % 16), PAGE);
	publish(&tx, 1);
	if (wait_device(&tx, false, &len))
		return 1;
	g = tty_read(got, sizeof(got), 5000);
	if (g != sizeof(got) || memcmp(got, want, sizeof(got))) {
		printf("root's tty got %zu of %zu bytes%s\n", g, sizeof(got),
		       g == sizeof(got) ? ", not the chain's last ones" : "");
		return 1;
	}
	if (tty_quiet())
		return 1;
	printf("chain of %u bytes returned, its last %zu on root's tty\n",
	       n * (unsigned int)PAGE, sizeof(got));
	return 0;
}

static int c_tx_indirect_long(void)
{
	/* 257 entries: checked before the table is mapped */
	desc(&tx, 0, phys[PG_IND], 257 * sizeof(struct desc),
	     VRING_DESC_F_INDIRECT, -1);
	return tx_bad(1);
}

static int c_tx_indirect_nested(void)
{
	indirect(4, 100, 0);
	((struct desc *)page(PG_IND))[2].flags |= VRING_DESC_F_INDIRECT;
	return tx_bad(1);
}

static int c_tx_indirect_odd(void)
{
	indirect(4, 100, 0);
	tx.dtab[0].len = 4 * sizeof(struct desc) - 1;
	return tx_bad(1);
}

static int c_tx_indirect_loop(void)
{
	indirect(4, 100, 0);
	((struct desc *)page(PG_IND))[3].flags |= VRING_DESC_F_NEXT;
	((struct desc *)page(PG_IND))[3].next = 1;
	return tx_bad(1);
}

static int c_tx_indirect_off(void)
{
	indirect(2, 100, 0);
	return tx_bad(1);
}

/* Receive cases ------------------------------------------------------------ */

static const char rx_input[] = "from root!";
#define RX_LEN	(sizeof(rx_input) - 1)

/* Root's input waits in the device's fifo for a receive buffer. */
static void rx_input_ready(void)
{
	if (write(tty, rx_input, RX_LEN) != RX_LEN)
		die("write to root's tty: %s", strerror(errno));
	usleep(100000);
}

static int rx_valid(unsigned int first)
{
	uint32_t len = ~0U;
	uint8_t got[RX_LEN + 8];

	memset(buf(0), 0xee, PAGE);
	memset(buf(1), 0xee, PAGE);
	rx_input_ready();
	if (first)
		seg(&rx, bufpa(0), first, true);
	seg(&rx, bufpa(1), 64, true);
	publish(&rx, 1);
	if (wait_device(&rx, false, &len))
		return 1;
	if (len != RX_LEN) {
		printf("used length %u, not %zu\n", len, RX_LEN);
		return 1;
	}
	memcpy(got, buf(0), first);
	memcpy(got + first, buf(1), RX_LEN - first);
	if (memcmp(got, rx_input, RX_LEN) || buf(1)[RX_LEN - first] != 0xee) {
		printf("the zone's buffers do not hold root's input alone\n");
		return 1;
	}
	printf("chain returned, used length %u, root's input in it\n", len);
	return 0;
}

static int c_rx_ok(void)
{
	return rx_valid(0);
}

static int c_rx_split(void)
{
	return rx_valid(3);
}

static int rx_bad(void)
{
	uint32_t len;

	rx_input_ready();
	publish(&rx, 1);
	return wait_device(&rx, true, &len);
}

static int c_rx_readable(void)
{
	seg(&rx, bufpa(0), 64, false);
	return rx_bad();
}

static int c_rx_mixed(void)
{
	seg(&rx, bufpa(0), 64, false);
	seg(&rx, bufpa(1), 64, true);
	return rx_bad();
}

static int c_rx_outside(void)
{
	seg(&rx, bufpa(0), 4, true);
	seg(&rx, OUTSIDE_RAM, 64, true);
	return rx_bad();
}

static int c_rx_empty(void)
{
	/* Only a zero-length descriptor: nothing to write into. */
	seg(&rx, bufpa(0), 0, true);
	return rx_bad();
}

struct tcase {
	const char *name;
	const char *what;
	int (*run)(void);
};

static const struct tcase cases[] = {
	{ "tx-ok", "transmitq: a valid 100-byte chain", c_tx_ok },
	{ "tx-split", "transmitq: 3 buffers and a zero-length one", c_tx_split },
	{ "tx-writable", "transmitq: a writable buffer after a readable one", c_tx_writable },
	{ "tx-only-writable", "transmitq: a writable buffer only", c_tx_only_writable },
	{ "tx-outside-ram", "transmitq: a buffer outside zone RAM", c_tx_outside },
	{ "tx-straddle", "transmitq: a buffer of 4 GiB - 1 from zone RAM on", c_tx_straddle },
	{ "tx-loop", "transmitq: descriptors 0 -> 1 -> 0", c_tx_loop },
	{ "tx-next-range", "transmitq: next past the ring", c_tx_next_range },
	{ "tx-head-range", "transmitq: a head past the ring", c_tx_head_range },
	{ "tx-avail-jump", "transmitq: avail idx moved by more than the ring", c_tx_avail_jump },
	{ "tx-oversized", "transmitq: a 160 KiB chain (indirect), more than the 64 KiB ring",
	  c_tx_oversized },
	{ "tx-indirect-long", "transmitq: an indirect table of 257 entries", c_tx_indirect_long },
	{ "tx-indirect-nested", "transmitq: an indirect entry in an indirect table",
	  c_tx_indirect_nested },
	{ "tx-indirect-odd", "transmitq: an indirect table of 63 bytes", c_tx_indirect_odd },
	{ "tx-indirect-loop", "transmitq: a loop inside an indirect table", c_tx_indirect_loop },
	{ "tx-indirect-off", "transmitq: indirect without INDIRECT_DESC negotiated",
	  c_tx_indirect_off },
	{ "rx-ok", "receiveq: a valid 64-byte buffer", c_rx_ok },
	{ "rx-split", "receiveq: 3 + 64 bytes in two buffers", c_rx_split },
	{ "rx-readable", "receiveq: a readable buffer", c_rx_readable },
	{ "rx-mixed", "receiveq: a readable buffer, then a writable one", c_rx_mixed },
	{ "rx-outside-ram", "receiveq: a buffer outside zone RAM", c_rx_outside },
	{ "rx-empty", "receiveq: a zero-length buffer only", c_rx_empty },
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
	if (argc != 5)
		die("usage: con_chain_helper ZONE BASE TTY CASE | list");
	zone = strtoul(argv[1], NULL, 0);
	base = strtoull(argv[2], NULL, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(argv[4], cases[i].name))
			tc = &cases[i];
	if (!tc)
		die("unknown case '%s'", argv[4]);
	no_indirect = !strcmp(tc->name, "tx-indirect-off");

	tty_open(argv[3]);
	get_pages();
	setup_device();
	ret = tc->run();
	reset_device();
	/* Root's input no receive buffer took: not for the next case. */
	tcflush(tty, TCIOFLUSH);
	close(tty);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile zone against the backend: register sequences, rings and
 * requests that no well-behaved driver makes, one case per TAP line.
 *
 * Each case gets a fresh zone whose RAM is a buffer of the loopback
 * module's hostile facility (selftests/loopback/hostile_abi.h), mapped
 * here, with a guard page on each side: the rings and buffers are written
 * by hand, register accesses are raw accesses as EL2 makes them, and the
 * interrupts the backend raises are counted.  The zone has two RAM
 * regions, the two halves of the buffer at far-apart guest-physical
 * addresses (so a range can straddle a region end), and two virtio-blk
 * devices on loop devices (one read-only); net cases add a virtio-net
 * device on a tap.  A second, "witness" zone with a blk device at the
 * same MMIO address is driven correctly beside it.
 *
 * Each case checks the documented answer (an error status, NEEDS_RESET
 * with a config interrupt, an ignored write, 0 on a read), and after it
 * the teardown checks, for every case:
 *  - every blocking register access was answered (none timed out);
 *  - the witness zone's device still reads its disk correctly;
 *  - the hostile blk device, once reset, serves a correct request, and
 *    has nothing in flight;
 *  - devices and zones are removed without error;
 *  - both zones' guard pages are untouched;
 *  - the kernel log has no warning, BUG, oops, lockup or stall.
 * The last case unloads the loopback module if this program loaded it.
 *
 * Zone ids 300..899 only.  Static, libc and pthreads.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/hvisor_vhost.h>
#include <linux/if_tun.h>
#include <linux/loop.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include "loop_lib.h"
#include "loopback/hostile_abi.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#define LB_DIR		"/sys/kernel/debug/hvisor_vhost_loopback"
#define LB_HOSTILE	LB_DIR "/hostile"
#define LB_KO		"/modules/hvisor_vhost_loopback.ko"
#define SEQ_FILE	"/tmp/hostile_test.seq"
#define LOADED_FILE	"/tmp/hostile_test.loaded"

#define ZONE_FIRST	300
#define ZONE_SPAN	600

#define RAM_SIZE	0x40000ULL		/* 256 KiB: two regions */
#define HALF		(RAM_SIZE / 2)
#define GPA_A		0x80000000ULL		/* first half */
#define GPA_B		0x90000000ULL		/* second half */
#define W_RAM_SIZE	0x10000ULL		/* the witness: one region */

#define MMIO_BLK	0x0a000000ULL
#define MMIO_RO		0x0a001000ULL
#define MMIO_NET	0x0a002000ULL
#define MMIO_SIZE	0x200
#define IRQ_BLK		40
#define IRQ_RO		41
#define IRQ_NET		42

#define DISK_SIZE	(1024 * 1024)
#define DISK_SECTORS	(DISK_SIZE / 512)

/* RAM layout (offsets into the buffer). */
#define O_DESC		0x0000
#define O_AVAIL		0x1000
#define O_USED		0x2000
#define O_INDIR		0x3000
#define O_HDR		0x5000
#define O_DATA		0x6000		/* 16 KiB */
#define O_STATUS	0xa000
#define O_NDESC		0xb000		/* net TX queue */
#define O_NAVAIL	0xc000
#define O_NUSED		0xd000
#define O_NHDR		0xf000
#define O_BIG		HALF		/* region B: 128 KiB */

/* virtio-mmio registers */
#define R_MAGIC		0x000
#define R_VERSION	0x004
#define R_DEVICE_ID	0x008
#define R_VENDOR	0x00c
#define R_DEV_FEAT	0x010
#define R_DEV_FEAT_SEL	0x014
#define R_DRV_FEAT	0x020
#define R_DRV_FEAT_SEL	0x024
#define R_QSEL		0x030
#define R_QNUM_MAX	0x034
#define R_QNUM		0x038
#define R_QREADY	0x044
#define R_NOTIFY	0x050
#define R_ISR		0x060
#define R_ACK		0x064
#define R_STATUS	0x070
#define R_QDESC		0x080
#define R_QAVAIL	0x090
#define R_QUSED		0x0a0
#define R_SHM_SEL	0x0ac
#define R_SHM_LEN	0x0b0
#define R_SHM_BASE	0x0b8
#define R_QRESET	0x0c0
#define R_GEN		0x0fc
#define R_CONFIG	0x100

#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8
#define S_NEEDS_RESET	64

#define F_RO		5
#define F_INDIRECT	28
#define F_EVENT_IDX	29
#define F_VERSION_1	32
#define F_RING_RESET	40

#define BLK_T_IN	0
#define BLK_T_OUT	1
#define BLK_S_OK	0
#define BLK_S_IOERR	1
#define BLK_S_UNSUPP	2

#define D_NEXT		1
#define D_WRITE		2
#define D_INDIRECT	4

#define QN		8		/* queue size of the cases */
#define WAIT_MS		10000
#define PATTERN(i)	((uint8_t)((i) * 7 + 3))

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct blk_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

/* Register accesses that got no answer, or failed, in this process. */
static unsigned int acc_errors;

/*
 * One device as the hand-made driver sees it: its zone, window, RAM, and
 * the queue being driven.
 */
struct drv {
	int hfd;
	uint32_t zone;
	uint64_t base;
	uint32_t irq;
	volatile uint8_t *ram;
	uint64_t half;		/* size of the first region */
	unsigned int q;		/* queue driven */
	uint16_t num;
	uint64_t o_desc, o_avail, o_used;
	uint16_t avail_idx;
};

/* ---- the facility ------------------------------------------------------ */

static int h_access(int hfd, uint32_t zone, uint64_t addr, uint64_t size,
		    uint32_t flags, uint64_t *value)
{
	struct hostile_access a = {
		.zone = zone, .flags = flags, .addr = addr, .size = size,
		.value = value ? *value : 0,
	};

	if (ioctl(hfd, HOSTILE_IOC_ACCESS, &a)) {
		acc_errors++;
		fprintf(stderr, "# access zone %u addr %#llx size %llu flags %u: %s\n",
			zone, (unsigned long long)addr,
			(unsigned long long)size, flags, strerror(errno));
		if (value)
			*value = ~0ULL;
		return -errno;
	}
	if (value)
		*value = a.value;
	return 0;
}

static uint64_t h_read(int hfd, uint32_t zone, uint64_t addr, uint64_t size)
{
	uint64_t v = 0;

	h_access(hfd, zone, addr, size, 0, &v);
	return v;
}

static void h_write(int hfd, uint32_t zone, uint64_t addr, uint64_t size,
		    uint64_t v)
{
	h_access(hfd, zone, addr, size, HOSTILE_WRITE, &v);
}

static uint32_t rd(struct drv *d, uint64_t off)
{
	return h_read(d->hfd, d->zone, d->base + off, 4);
}

static void wr(struct drv *d, uint64_t off, uint32_t v)
{
	h_write(d->hfd, d->zone, d->base + off, 4, v);
}

static void kick(struct drv *d, uint32_t q)
{
	uint64_t v = q;

	h_access(d->hfd, d->zone, d->base + R_NOTIFY, 4,
		 HOSTILE_WRITE | HOSTILE_POSTED, &v);
}

static uint64_t irqs(int hfd, uint32_t zone, uint32_t irq)
{
	struct hostile_irq i = { .zone = zone, .irq = irq };

	if (ioctl(hfd, HOSTILE_IOC_IRQS, &i))
		return ~0ULL;
	return i.count;
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* ---- zone RAM ---------------------------------------------------------- */

/* Guest-physical address of buffer offset @off. */
static uint64_t gpa(struct drv *d, uint64_t off)
{
	return off < d->half ? GPA_A + off : GPA_B + off - d->half;
}

static volatile struct vdesc *desc_at(struct drv *d, uint64_t off)
{
	return (volatile struct vdesc *)(d->ram + off);
}

static volatile struct vdesc *qdesc(struct drv *d)
{
	return desc_at(d, d->o_desc);
}

static volatile uint16_t *avail(struct drv *d)
{
	return (volatile uint16_t *)(d->ram + d->o_avail);
}

static volatile uint16_t *used(struct drv *d)
{
	return (volatile uint16_t *)(d->ram + d->o_used);
}

static uint32_t used_len(struct drv *d, unsigned int i)
{
	volatile uint32_t *u = (volatile uint32_t *)(d->ram + d->o_used + 4);

	return u[2 * (i % d->num) + 1];
}

static uint32_t used_id(struct drv *d, unsigned int i)
{
	volatile uint32_t *u = (volatile uint32_t *)(d->ram + d->o_used + 4);

	return u[2 * (i % d->num)];
}

static void set_desc(volatile struct vdesc *t, unsigned int i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	t[i].addr = addr;
	t[i].len = len;
	t[i].flags = flags;
	t[i].next = next;
}

/* Make chain @head available (no notify). */
static void offer(struct drv *d, uint16_t head)
{
	avail(d)[2 + d->avail_idx % d->num] = head;
	__sync_synchronize();
	d->avail_idx++;
	avail(d)[1] = d->avail_idx;
	__sync_synchronize();
}

static bool wait_used(struct drv *d, uint16_t n, unsigned int ms)
{
	uint64_t end = now_ms() + ms;

	do {
		__sync_synchronize();
		if ((uint16_t)(used(d)[1] - n) < 0x8000)
			return true;
		msleep(1);
	} while (now_ms() < end);
	return false;
}

/* Wait until Status has all of @bits; returns the last value read. */
static uint32_t wait_status(struct drv *d, uint32_t bits, unsigned int ms)
{
	uint64_t end = now_ms() + ms;
	uint32_t s;

	for (;;) {
		s = rd(d, R_STATUS);
		if ((s & bits) == bits || now_ms() >= end)
			return s;
		msleep(2);
	}
}

/* ---- the hand-made driver ------------------------------------------------ */

static void drv_reset(struct drv *d)
{
	wr(d, R_STATUS, 0);
	/* The reset is complete once Status reads 0. */
	for (int i = 0; i < 1000 && rd(d, R_STATUS); i++)
		msleep(1);
	d->avail_idx = 0;
}

static uint64_t dev_features(struct drv *d)
{
	uint64_t f;

	wr(d, R_DEV_FEAT_SEL, 1);
	f = (uint64_t)rd(d, R_DEV_FEAT) << 32;
	wr(d, R_DEV_FEAT_SEL, 0);
	return f | rd(d, R_DEV_FEAT);
}

static void set_features(struct drv *d, uint64_t f)
{
	wr(d, R_DRV_FEAT_SEL, 1);
	wr(d, R_DRV_FEAT, f >> 32);
	wr(d, R_DRV_FEAT_SEL, 0);
	wr(d, R_DRV_FEAT, (uint32_t)f);
}

/*
 * Reset, ACK|DRIVER, accept @want & offered, FEATURES_OK.  Returns the
 * Status read back.
 */
static uint32_t drv_negotiate(struct drv *d, uint64_t want)
{
	drv_reset(d);
	wr(d, R_STATUS, S_ACK);
	wr(d, R_STATUS, S_ACK | S_DRIVER);
	set_features(d, dev_features(d) & want);
	wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	return rd(d, R_STATUS);
}

static void q_regs(struct drv *d, unsigned int q, uint32_t num,
		   uint64_t desc, uint64_t av, uint64_t us)
{
	wr(d, R_QSEL, q);
	wr(d, R_QNUM, num);
	wr(d, R_QDESC, (uint32_t)desc);
	wr(d, R_QDESC + 4, desc >> 32);
	wr(d, R_QAVAIL, (uint32_t)av);
	wr(d, R_QAVAIL + 4, av >> 32);
	wr(d, R_QUSED, (uint32_t)us);
	wr(d, R_QUSED + 4, us >> 32);
	wr(d, R_QREADY, 1);
}

/*
 * Clear the avail and used rings in RAM and program queue d->q with them;
 * the descriptor table is left as the case wrote it.
 */
static void q_setup(struct drv *d)
{
	memset((void *)(d->ram + d->o_avail), 0, 0x1000);
	memset((void *)(d->ram + d->o_used), 0, 0x1000);
	__sync_synchronize();
	q_regs(d, d->q, d->num, gpa(d, d->o_desc), gpa(d, d->o_avail),
	       gpa(d, d->o_used));
}

static void driver_ok(struct drv *d)
{
	wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* A working device: features, queue d->q, DRIVER_OK.  Returns Status. */
static uint32_t drv_up(struct drv *d, uint64_t want)
{
	uint32_t s = drv_negotiate(d, want);

	if (!(s & S_FEATURES_OK))
		return s;
	q_setup(d);
	driver_ok(d);
	return rd(d, R_STATUS);
}

#define WANT_DEFAULT	((1ULL << F_VERSION_1) | (1ULL << F_INDIRECT))

#define BLK_UP(d) ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK, \
			    drv_up((d), WANT_DEFAULT))

/*
 * A blk request in descriptors 0..2 of the queue: header at O_HDR, data
 * at O_DATA (@len bytes; none when 0), status at O_STATUS.
 */
static void blk_chain(struct drv *d, uint32_t type, uint64_t sector,
		      uint32_t len)
{
	volatile struct blk_hdr *h = (volatile struct blk_hdr *)(d->ram + O_HDR);
	volatile struct vdesc *t = qdesc(d);
	bool in = type == BLK_T_IN;

	h->type = type;
	h->ioprio = 0;
	h->sector = sector;
	d->ram[O_STATUS] = 0xee;
	set_desc(t, 0, gpa(d, O_HDR), sizeof(struct blk_hdr), D_NEXT, 1);
	if (len) {
		set_desc(t, 1, gpa(d, O_DATA), len, D_NEXT | (in ? D_WRITE : 0), 2);
		set_desc(t, 2, gpa(d, O_STATUS), 1, D_WRITE, 0);
	} else {
		set_desc(t, 0, gpa(d, O_HDR), sizeof(struct blk_hdr), D_NEXT, 2);
		set_desc(t, 2, gpa(d, O_STATUS), 1, D_WRITE, 0);
	}
}

/* Offer chain 0, kick, wait for it.  Returns the status byte or -1. */
static int blk_submit(struct drv *d)
{
	uint16_t n = d->avail_idx + 1;

	offer(d, 0);
	kick(d, d->q);
	if (!wait_used(d, n, WAIT_MS))
		return -1;
	return d->ram[O_STATUS];
}

static bool data_is_disk(struct drv *d, uint64_t sector, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (d->ram[O_DATA + i] != PATTERN(sector * 512 + i))
			return false;
	return true;
}

/* ---- the root side: loop devices, taps, zones, devices ----------------- */

static int hvv_open(void)
{
	return open(HVISOR_VHOST_DEVICE_PATH, O_RDWR | O_CLOEXEC);
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? errno : 0;
}

/* A loop device over a 1 MiB file of PATTERN bytes; -1 on failure. */
static int loop_create(bool ro)
{
	uint8_t buf[4096];
	char file[64], path[32];
	int ffd, lfd = -1;

	snprintf(file, sizeof(file), "/tmp/hostile.%d.XXXXXX", getpid());
	ffd = mkstemp(file);
	if (ffd < 0)
		return -1;
	unlink(file);
	for (int off = 0; off < DISK_SIZE; off += sizeof(buf)) {
		for (unsigned int i = 0; i < sizeof(buf); i++)
			buf[i] = PATTERN(off + i);
		if (write(ffd, buf, sizeof(buf)) != sizeof(buf))
			goto out;
	}
	lfd = loop_attach(ffd, ro, ro ? O_RDONLY : O_RDWR, path, sizeof(path));
out:
	close(ffd);
	return lfd;
}

/* A tap with the 12-byte little-endian virtio-net header; -1 on failure. */
static int tap_create(char *name)
{
	struct ifreq ifr;
	int fd, hs = 12, le = 1;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0 && !system("modprobe tun 2>/dev/null"))
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "hst%d", getpid() % 100000);
	if (ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETVNETHDRSZ, &hs) ||
	    ioctl(fd, TUNSETVNETLE, &le)) {
		close(fd);
		return -1;
	}
	strcpy(name, ifr.ifr_name);
	return fd;
}

static int zone_add(int fd, uint32_t id, uint64_t hpa, uint64_t size,
		    bool split)
{
	struct hvisor_vhost_zone z;

	memset(&z, 0, sizeof(z));
	z.zone_id = id;
	z.nr_regions = split ? 2 : 1;
	z.regions[0].guest_phys = GPA_A;
	z.regions[0].host_phys = hpa;
	z.regions[0].size = split ? size / 2 : size;
	if (split) {
		z.regions[1].guest_phys = GPA_B;
		z.regions[1].host_phys = hpa + size / 2;
		z.regions[1].size = size / 2;
	}
	return xioctl(fd, HVISOR_VHOST_IOC_ZONE_ADD, &z);
}

static int zone_del(int fd, uint32_t id)
{
	struct hvisor_vhost_id zid = { .id = id };

	return xioctl(fd, HVISOR_VHOST_IOC_ZONE_DEL, &zid);
}

/* DEV_ADD; returns the device id, 0 on failure. */
/* DEV_ADD with @queues queues (blk) or pairs (net); the id or 0. */
static uint32_t dev_add_q(int fd, uint32_t type, uint32_t zone, uint64_t base,
			  uint32_t irq, int backend, bool ro, uint32_t queues)
{
	struct hvisor_vhost_dev d;

	memset(&d, 0, sizeof(d));
	d.type = type;
	d.zone_id = zone;
	d.irq = irq;
	d.mmio_base = base;
	d.mmio_size = MMIO_SIZE;
	d.backend_fd = backend;
	d.num_queues = queues;
	if (type == HVISOR_VHOST_DEV_BLK && ro)
		d.blk.flags = HVISOR_VHOST_BLK_F_RO;
	if (xioctl(fd, HVISOR_VHOST_IOC_DEV_ADD, &d))
		return 0;
	return d.dev_id;
}

static uint32_t dev_add(int fd, uint32_t type, uint32_t zone, uint64_t base,
			uint32_t irq, int backend, bool ro)
{
	return dev_add_q(fd, type, zone, base, irq, backend, ro, 1);
}

static int dev_del(int fd, uint32_t id)
{
	struct hvisor_vhost_id did = { .id = id };

	return xioctl(fd, HVISOR_VHOST_IOC_DEV_DEL, &did);
}

static int dev_stats(int fd, uint32_t id, struct hvisor_vhost_dev_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->dev_id = id;
	return xioctl(fd, HVISOR_VHOST_IOC_DEV_STATS, s);
}

static uint32_t next_zone(void)
{
	unsigned int n = 0;
	FILE *f = fopen(SEQ_FILE, "r+");

	if (!f)
		f = fopen(SEQ_FILE, "w+");
	if (!f)
		return ZONE_FIRST;
	if (fscanf(f, "%u", &n) != 1)
		n = 0;
	rewind(f);
	fprintf(f, "%u\n", n + 1);
	fclose(f);
	return ZONE_FIRST + (2 * n) % ZONE_SPAN;
}

/* Lines of the kernel log since @fd was opened that say something broke. */
static int kmsg_bad(int fd)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "soft lockup", "hard LOCKUP",
		"self-detected stall", "rcu_preempt detected stall",
		"hung_task", "blocked for more than", "general protection",
	};
	char rec[2048];
	int n = 0;
	ssize_t len;

	while ((len = read(fd, rec, sizeof(rec) - 1)) > 0 || errno == EPIPE) {
		if (len <= 0)
			continue;
		rec[len] = 0;
		for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++)
			if (strstr(rec, bad[i])) {
				fprintf(stderr, "# kernel: %s", rec);
				n++;
				break;
			}
	}
	return n;
}

static bool lb_load(void)
{
	int fd;

	if (!access(LB_HOSTILE, F_OK))
		return true;
	if (access(LB_DIR, F_OK) && system("insmod " LB_KO " 2>/dev/null"))
		return false;
	fd = open(LOADED_FILE, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	return !access(LB_HOSTILE, F_OK);
}

/* ---- the fixture --------------------------------------------------------- */

FIXTURE(hz) {
	int hvv, kmsg;
	int hfd, wfd;			/* hostile and witness contexts */
	volatile uint8_t *ram, *wram;
	uint64_t hpa, whpa;
	uint32_t zone, wzone;
	int loop, ro_loop, wloop, tap;
	char tapname[IFNAMSIZ];
	uint32_t blk_id, ro_id, net_id, w_id;
	bool zone_made, wzone_made;
	struct drv blk, ro, net, w;
};

static void drv_init(struct drv *d, int hfd, uint32_t zone, uint64_t base,
		     uint32_t irq, volatile uint8_t *ram, uint64_t half)
{
	memset(d, 0, sizeof(*d));
	d->hfd = hfd;
	d->zone = zone;
	d->base = base;
	d->irq = irq;
	d->ram = ram;
	d->half = half;
	d->num = QN;
	d->o_desc = O_DESC;
	d->o_avail = O_AVAIL;
	d->o_used = O_USED;
}

static int ctx_open(uint64_t size, volatile uint8_t **ram, uint64_t *hpa)
{
	struct hostile_ram r = { .size = size };
	void *p;
	int fd;

	fd = open(LB_HOSTILE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (ioctl(fd, HOSTILE_IOC_RAM, &r))
		goto fail;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	*ram = p;
	*hpa = r.host_phys;
	return fd;
fail:
	close(fd);
	return -1;
}

static int watch(int hfd, uint32_t zone, uint32_t irq)
{
	struct hostile_irq i = { .zone = zone, .irq = irq };

	return ioctl(hfd, HOSTILE_IOC_WATCH, &i);
}

FIXTURE_SETUP(hz)
{
	self->hvv = -1;
	self->kmsg = -1;
	self->hfd = -1;
	self->wfd = -1;
	self->loop = -1;
	self->ro_loop = -1;
	self->wloop = -1;
	self->tap = -1;
	ASSERT_TRUE(lb_load()) TH_LOG("no hostile facility in the loopback module");
	self->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (self->kmsg >= 0)
		lseek(self->kmsg, 0, SEEK_END);
	self->hvv = hvv_open();
	ASSERT_LE(0, self->hvv) TH_LOG("%s: %s", HVISOR_VHOST_DEVICE_PATH,
				      strerror(errno));

	self->zone = next_zone();
	self->wzone = self->zone + 1;
	self->hfd = ctx_open(RAM_SIZE, &self->ram, &self->hpa);
	ASSERT_LE(0, self->hfd) TH_LOG("hostile RAM: %s", strerror(errno));
	self->wfd = ctx_open(W_RAM_SIZE, &self->wram, &self->whpa);
	ASSERT_LE(0, self->wfd) TH_LOG("witness RAM: %s", strerror(errno));

	ASSERT_EQ(0, zone_add(self->hvv, self->zone, self->hpa, RAM_SIZE, true));
	self->zone_made = true;
	ASSERT_EQ(0, zone_add(self->hvv, self->wzone, self->whpa, W_RAM_SIZE,
			      false));
	self->wzone_made = true;

	self->loop = loop_create(false);
	self->ro_loop = loop_create(true);
	self->wloop = loop_create(false);
	ASSERT_LE(0, self->loop);
	ASSERT_LE(0, self->ro_loop);
	ASSERT_LE(0, self->wloop);
	self->blk_id = dev_add(self->hvv, HVISOR_VHOST_DEV_BLK, self->zone,
			       MMIO_BLK, IRQ_BLK, self->loop, false);
	ASSERT_NE(0, self->blk_id);
	self->ro_id = dev_add(self->hvv, HVISOR_VHOST_DEV_BLK, self->zone,
			      MMIO_RO, IRQ_RO, self->ro_loop, true);
	ASSERT_NE(0, self->ro_id);
	self->w_id = dev_add(self->hvv, HVISOR_VHOST_DEV_BLK, self->wzone,
			     MMIO_BLK, IRQ_BLK, self->wloop, false);
	ASSERT_NE(0, self->w_id);

	ASSERT_EQ(0, watch(self->hfd, self->zone, IRQ_BLK));
	ASSERT_EQ(0, watch(self->hfd, self->zone, IRQ_RO));
	ASSERT_EQ(0, watch(self->hfd, self->zone, IRQ_NET));
	ASSERT_EQ(0, watch(self->wfd, self->wzone, IRQ_BLK));

	drv_init(&self->blk, self->hfd, self->zone, MMIO_BLK, IRQ_BLK,
		 self->ram, HALF);
	drv_init(&self->ro, self->hfd, self->zone, MMIO_RO, IRQ_RO,
		 self->ram, HALF);
	drv_init(&self->net, self->hfd, self->zone, MMIO_NET, IRQ_NET,
		 self->ram, HALF);
	self->net.q = 1;		/* transmitq of pair 0 */
	self->net.num = 32;
	self->net.o_desc = O_NDESC;
	self->net.o_avail = O_NAVAIL;
	self->net.o_used = O_NUSED;
	drv_init(&self->w, self->wfd, self->wzone, MMIO_BLK, IRQ_BLK,
		 self->wram, W_RAM_SIZE);

	/* The witness zone: a correct driver, a queue set up before the case. */
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(&self->w, 1ULL << F_VERSION_1));
	ASSERT_EQ(0, acc_errors);
}

/* Add the virtio-net device on a tap of its own. */
static bool net_add(FIXTURE_DATA(hz) *self)
{
	self->tap = tap_create(self->tapname);
	if (self->tap < 0)
		return false;
	self->net_id = dev_add(self->hvv, HVISOR_VHOST_DEV_NET, self->zone,
			       MMIO_NET, IRQ_NET, self->tap, false);
	return self->net_id != 0;
}

/* A correct 4 KiB read at sector 8; true when OK and the data is right. */
static bool good_read(struct drv *d)
{
	memset((void *)(d->ram + O_DATA), 0, 4096);
	blk_chain(d, BLK_T_IN, 8, 4096);
	return blk_submit(d) == BLK_S_OK && data_is_disk(d, 8, 4096);
}

FIXTURE_TEARDOWN(hz)
{
	struct hvisor_vhost_dev_stats st;
	struct hostile_guard g;

	/*
	 * A failed ASSERT leaves the harness's trigger set (it jumps out
	 * before clearing it), so the TH_LOG of every later expectation
	 * would print, passed or not: the teardown's checks start clean.
	 */
	_metadata->trigger = 0;

	if (self->wzone_made && self->w_id) {
		EXPECT_TRUE(good_read(&self->w))
			TH_LOG("the witness zone's device no longer reads its disk");
		EXPECT_EQ(0, rd(&self->w, R_STATUS) & S_NEEDS_RESET);
		drv_reset(&self->w);
	}
	if (self->zone_made && self->blk_id) {
		/* Whatever the case did: a reset makes the device usable. */
		self->blk.num = QN;
		self->blk.q = 0;
		EXPECT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
			  drv_up(&self->blk, WANT_DEFAULT));
		EXPECT_TRUE(good_read(&self->blk))
			TH_LOG("the device does not serve a correct request after a reset");
		drv_reset(&self->blk);
		EXPECT_EQ(0, dev_stats(self->hvv, self->blk_id, &st));
		EXPECT_EQ(0, st.inflight);
	}
	if (self->zone_made) {
		drv_reset(&self->ro);
		if (self->net_id)
			drv_reset(&self->net);
	}
	EXPECT_EQ(0, acc_errors) TH_LOG("register accesses left unanswered");

	if (self->blk_id)
		EXPECT_EQ(0, dev_del(self->hvv, self->blk_id));
	if (self->ro_id)
		EXPECT_EQ(0, dev_del(self->hvv, self->ro_id));
	if (self->net_id)
		EXPECT_EQ(0, dev_del(self->hvv, self->net_id));
	if (self->w_id)
		EXPECT_EQ(0, dev_del(self->hvv, self->w_id));
	if (self->zone_made)
		EXPECT_EQ(0, zone_del(self->hvv, self->zone));
	if (self->wzone_made)
		EXPECT_EQ(0, zone_del(self->hvv, self->wzone));

	if (self->hfd >= 0) {
		EXPECT_EQ(0, ioctl(self->hfd, HOSTILE_IOC_GUARD, &g));
		EXPECT_EQ(0, g.bad) TH_LOG("hostile guard: %llu bytes changed from %llu",
					   (unsigned long long)g.bad,
					   (unsigned long long)g.first);
		close(self->hfd);
	}
	if (self->wfd >= 0) {
		EXPECT_EQ(0, ioctl(self->wfd, HOSTILE_IOC_GUARD, &g));
		EXPECT_EQ(0, g.bad) TH_LOG("witness guard: %llu bytes changed",
					   (unsigned long long)g.bad);
		close(self->wfd);
	}
	if (self->tap >= 0)
		close(self->tap);
	if (self->loop >= 0)
		close(self->loop);
	if (self->ro_loop >= 0)
		close(self->ro_loop);
	if (self->wloop >= 0)
		close(self->wloop);
	if (self->hvv >= 0)
		close(self->hvv);
	if (self->kmsg >= 0) {
		EXPECT_EQ(0, kmsg_bad(self->kmsg))
			TH_LOG("the kernel log reports a warning, BUG, oops, lockup or stall");
		close(self->kmsg);
	}
}

/*
 * Wait until InterruptStatus has @bit and the interrupt reached the
 * result ring: the device sets NEEDS_RESET, then raises the interrupt.
 */
static bool wait_isr(struct drv *d, uint32_t bit, unsigned int ms)
{
	uint64_t end = now_ms() + ms;

	for (;;) {
		if (rd(d, R_ISR) & bit && irqs(d->hfd, d->zone, d->irq) &&
		    irqs(d->hfd, d->zone, d->irq) != ~0ULL)
			return true;
		if (now_ms() >= end)
			return false;
		msleep(2);
	}
}

/* Expect DEVICE_NEEDS_RESET and the config interrupt that announces it. */
#define EXPECT_NEEDS_RESET(d) do {					\
	uint32_t __s = wait_status((d), S_NEEDS_RESET, WAIT_MS);	\
	EXPECT_TRUE(__s & S_NEEDS_RESET) TH_LOG("status %#x", __s);	\
	EXPECT_TRUE(wait_isr((d), 2, WAIT_MS))				\
		TH_LOG("no config interrupt for NEEDS_RESET");		\
} while (0)

/* The device did not ask for a reset (checked after a settle time). */
#define EXPECT_HEALTHY(d) do {						\
	msleep(20);							\
	EXPECT_EQ(0, rd((d), R_STATUS) & S_NEEDS_RESET);		\
} while (0)

/* ---- register file --------------------------------------------------- */

static const unsigned int queue_regs[] = {
	R_QNUM_MAX, R_QNUM, R_QREADY, R_QDESC, R_QDESC + 4, R_QAVAIL,
	R_QAVAIL + 4, R_QUSED, R_QUSED + 4, R_QRESET,
};

static void queue_sel_oob(struct __test_metadata *_metadata, struct drv *d,
			  uint32_t sel)
{
	drv_negotiate(d, WANT_DEFAULT);
	wr(d, R_QSEL, sel);
	for (unsigned int i = 0; i < ARRAY_SIZE(queue_regs); i++) {
		EXPECT_EQ(0, rd(d, queue_regs[i])) TH_LOG("sel %#x reg %#x", sel,
							   queue_regs[i]);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(queue_regs); i++)
		wr(d, queue_regs[i], 0x1000);
	/* Nothing reached a real queue. */
	wr(d, R_QSEL, 0);
	EXPECT_EQ(0, rd(d, R_QREADY));
	EXPECT_EQ(0, rd(d, R_QDESC));
	EXPECT_EQ(0, rd(d, R_QAVAIL));
	EXPECT_EQ(0, rd(d, R_QUSED));
	EXPECT_EQ(256, rd(d, R_QNUM_MAX));
}

TEST_F(hz, queue_sel_past_last_queue)
{
	queue_sel_oob(_metadata, &self->blk, 1);
}

TEST_F(hz, queue_sel_all_ones)
{
	queue_sel_oob(_metadata, &self->blk, 0xffffffff);
}

/* Registers given to a queue that are no ring: the device refuses to start. */
static void bad_queue(struct __test_metadata *_metadata, struct drv *d,
		      uint32_t num, uint64_t desc, uint64_t av, uint64_t us)
{
	ASSERT_TRUE(drv_negotiate(d, WANT_DEFAULT) & S_FEATURES_OK);
	q_regs(d, 0, num, desc, av, us);
	driver_ok(d);
	EXPECT_NEEDS_RESET(d);
	/* A notify to a device that did not start is ignored. */
	kick(d, 0);
	EXPECT_EQ(0, used(d)[1]);
}

TEST_F(hz, queue_num_zero)
{
	struct drv *d = &self->blk;

	bad_queue(_metadata, d, 0, gpa(d, O_DESC), gpa(d, O_AVAIL),
		  gpa(d, O_USED));
}

TEST_F(hz, queue_num_not_power_of_two)
{
	struct drv *d = &self->blk;

	bad_queue(_metadata, d, 6, gpa(d, O_DESC), gpa(d, O_AVAIL),
		  gpa(d, O_USED));
}

TEST_F(hz, queue_num_over_max)
{
	struct drv *d = &self->blk;

	bad_queue(_metadata, d, 512, gpa(d, O_DESC), gpa(d, O_AVAIL),
		  gpa(d, O_USED));
}

TEST_F(hz, ring_outside_zone_ram)
{
	struct drv *d = &self->blk;

	bad_queue(_metadata, d, QN, 0x1000, gpa(d, O_AVAIL), gpa(d, O_USED));
}

TEST_F(hz, ring_just_below_zone_ram)
{
	struct drv *d = &self->blk;

	/* The guard page's guest-physical neighbour: not zone RAM. */
	bad_queue(_metadata, d, QN, gpa(d, O_DESC), gpa(d, O_AVAIL),
		  GPA_A - 0x1000);
}

TEST_F(hz, ring_straddles_region_end)
{
	struct drv *d = &self->blk;

	/* 8 descriptors, 128 bytes: the last 64 are past region A. */
	bad_queue(_metadata, d, QN, GPA_A + HALF - 64, gpa(d, O_AVAIL),
		  gpa(d, O_USED));
}

TEST_F(hz, ring_past_last_region)
{
	struct drv *d = &self->blk;

	/* The used ring runs into the high guard page's guest address. */
	bad_queue(_metadata, d, QN, gpa(d, O_DESC), gpa(d, O_AVAIL),
		  GPA_B + HALF - 16);
}

TEST_F(hz, ring_unaligned)
{
	struct drv *d = &self->blk;

	bad_queue(_metadata, d, QN, gpa(d, O_DESC) + 8, gpa(d, O_AVAIL),
		  gpa(d, O_USED));
}

TEST_F(hz, used_ring_unaligned)
{
	struct drv *d = &self->blk;

	bad_queue(_metadata, d, QN, gpa(d, O_DESC), gpa(d, O_AVAIL) + 1,
		  gpa(d, O_USED) + 2);
}

TEST_F(hz, ring_address_overflows)
{
	struct drv *d = &self->blk;

	bad_queue(_metadata, d, QN, 0xfffffffffffffff0ULL, gpa(d, O_AVAIL),
		  gpa(d, O_USED));
}

TEST_F(hz, queue_not_ready_is_not_started)
{
	struct drv *d = &self->blk;

	/* A queue left not ready is a queue the driver does not use. */
	ASSERT_TRUE(drv_negotiate(d, WANT_DEFAULT) & S_FEATURES_OK);
	q_setup(d);
	wr(d, R_QREADY, 0);
	driver_ok(d);
	EXPECT_HEALTHY(d);
	blk_chain(d, BLK_T_IN, 0, 512);
	offer(d, 0);
	kick(d, 0);
	msleep(100);
	EXPECT_EQ(0, used(d)[1]);
}

TEST_F(hz, queue_registers_ignored_while_ready)
{
	struct drv *d = &self->blk;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_DEFAULT));
	wr(d, R_QNUM, 2);
	wr(d, R_QDESC, 0x1000);
	wr(d, R_QREADY, 0);
	EXPECT_EQ(gpa(d, O_DESC), rd(d, R_QDESC));
	EXPECT_EQ(1, rd(d, R_QREADY));
	EXPECT_EQ(BLK_S_OK, (blk_chain(d, BLK_T_IN, 0, 512), blk_submit(d)));
}

/* ---- queue reset (VIRTIO_F_RING_RESET) ------------------------------------ */

#define WANT_RING_RESET	(WANT_DEFAULT | (1ULL << F_RING_RESET))

/* Reset queue d->q alone; returns QueueReset read back (0: done). */
static uint32_t q_reset(struct drv *d)
{
	wr(d, R_QSEL, d->q);
	wr(d, R_QRESET, 1);
	return rd(d, R_QRESET);
}

/* Enable queue d->q again with fresh rings, indices from 0. */
static void q_reenable(struct drv *d)
{
	d->avail_idx = 0;
	q_setup(d);
}

TEST_F(hz, queue_reset_offered)
{
	struct drv *d = &self->blk;

	drv_reset(d);
	EXPECT_TRUE(dev_features(d) & (1ULL << F_RING_RESET));
}

TEST_F(hz, queue_reset_not_negotiated_is_ignored)
{
	struct drv *d = &self->blk;

	BLK_UP(d);
	EXPECT_EQ(0, q_reset(d));
	EXPECT_EQ(1, rd(d, R_QREADY));
	EXPECT_EQ(gpa(d, O_DESC), rd(d, R_QDESC));
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
	EXPECT_HEALTHY(d);
}

TEST_F(hz, queue_reset_then_enabled_again)
{
	struct drv *d = &self->blk;
	uint16_t before;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_RING_RESET));
	blk_chain(d, BLK_T_IN, 0, 512);
	ASSERT_EQ(BLK_S_OK, blk_submit(d));
	/* Done by the time of the next read. */
	EXPECT_EQ(0, q_reset(d));
	EXPECT_EQ(0, rd(d, R_QREADY));
	EXPECT_EQ(0, rd(d, R_QNUM));
	EXPECT_EQ(0, rd(d, R_QDESC));
	/* The queue is off: a request now is not served. */
	before = used(d)[1];
	offer(d, 0);
	kick(d, d->q);
	msleep(100);
	EXPECT_EQ(before, used(d)[1]);
	/* Enabled again after DRIVER_OK: served, indices from 0. */
	q_reenable(d);
	EXPECT_EQ(1, rd(d, R_QREADY));
	EXPECT_EQ(0, rd(d, R_QRESET));
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
	EXPECT_EQ(1, used(d)[1]);
	EXPECT_HEALTHY(d);
}

TEST_F(hz, queue_reset_before_driver_ok)
{
	struct drv *d = &self->blk;

	ASSERT_TRUE(drv_negotiate(d, WANT_RING_RESET) & S_FEATURES_OK);
	q_setup(d);
	EXPECT_EQ(0, q_reset(d));
	EXPECT_EQ(0, rd(d, R_QREADY));
	EXPECT_EQ(0, rd(d, R_QDESC));
	q_setup(d);
	driver_ok(d);
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
	EXPECT_HEALTHY(d);
}

TEST_F(hz, queue_reset_garbage)
{
	static const uint32_t sel[] = { 1, 99, 0xffffffff };
	struct drv *d = &self->blk;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_RING_RESET));
	for (unsigned int i = 0; i < ARRAY_SIZE(sel); i++) {
		wr(d, R_QSEL, sel[i]);
		wr(d, R_QRESET, 1);
		EXPECT_EQ(0, rd(d, R_QRESET));
	}
	wr(d, R_QSEL, d->q);
	wr(d, R_QRESET, 0);
	wr(d, R_QRESET, 2);
	wr(d, R_QRESET, 0xffffffff);
	/* Disabling takes QueueReset; QueueReady 0 is ignored. */
	wr(d, R_QREADY, 0);
	EXPECT_EQ(1, rd(d, R_QREADY));
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
	EXPECT_HEALTHY(d);
}

TEST_F(hz, queue_reset_with_io_in_flight)
{
	struct drv *d = &self->blk;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_RING_RESET));
	for (unsigned int round = 0; round < 20; round++) {
		/* The same 16 KiB read, offered eight times at once. */
		blk_chain(d, BLK_T_IN, 0, 16384);
		for (unsigned int i = 0; i < 8; i++)
			offer(d, 0);
		kick(d, d->q);
		EXPECT_EQ(0, q_reset(d)) TH_LOG("round %u", round);
		EXPECT_EQ(0, rd(d, R_QREADY));
		q_reenable(d);
	}
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
	EXPECT_HEALTHY(d);
}

/* ---- descriptors and chains -------------------------------------------- */

/* Up with a queue of QN, then offer chain @head and kick. */
static void up_and_offer(struct __test_metadata *_metadata, struct drv *d,
			 uint64_t want, uint16_t head)
{
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, want));
	offer(d, head);
	kick(d, d->q);
}

TEST_F(hz, head_index_past_queue)
{
	struct drv *d = &self->blk;

	blk_chain(d, BLK_T_IN, 0, 512);
	up_and_offer(_metadata, d, WANT_DEFAULT, QN);
	EXPECT_NEEDS_RESET(d);
}

/*
 * A disk with two queues, each with its own rings and worker: both serve;
 * a broken chain on queue 1 marks the whole device NEEDS_RESET (with the
 * config interrupt); after a reset both serve again.  Uses the net
 * device's window and rings (no net device in this case).
 */
TEST_F(hz, blk_two_queues_one_broken)
{
	struct drv q0, q1;
	uint32_t id;
	int loop;

	loop = loop_create(false);
	ASSERT_LE(0, loop);
	id = dev_add_q(self->hvv, HVISOR_VHOST_DEV_BLK, self->zone, MMIO_NET,
		       IRQ_NET, loop, false, 2);
	ASSERT_NE(0, id);
	drv_init(&q0, self->hfd, self->zone, MMIO_NET, IRQ_NET, self->ram,
		 HALF);
	q1 = q0;
	q1.q = 1;
	q1.o_desc = O_NDESC;
	q1.o_avail = O_NAVAIL;
	q1.o_used = O_NUSED;

	for (int round = 0; round < 2; round++) {
		ASSERT_TRUE(drv_negotiate(&q0, WANT_DEFAULT) & S_FEATURES_OK);
		q1.avail_idx = 0;
		q_setup(&q0);
		q_setup(&q1);
		driver_ok(&q0);
		EXPECT_TRUE(good_read(&q0)) TH_LOG("round %d", round);
		EXPECT_TRUE(good_read(&q1)) TH_LOG("round %d", round);
		EXPECT_HEALTHY(&q0);
	}
	/* A head index past the queue, on queue 1. */
	offer(&q1, QN);
	kick(&q1, 1);
	EXPECT_NEEDS_RESET(&q0);

	drv_reset(&q0);
	EXPECT_EQ(0, dev_del(self->hvv, id));
	close(loop);
}

TEST_F(hz, next_index_past_queue)
{
	struct drv *d = &self->blk;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_DEFAULT));
	blk_chain(d, BLK_T_IN, 0, 512);
	qdesc(d)[1].next = 0xffff;
	offer(d, 0);
	kick(d, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, chain_loops)
{
	struct drv *d = &self->blk;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_DEFAULT));
	set_desc(qdesc(d), 0, gpa(d, O_HDR), 16, D_NEXT, 1);
	set_desc(qdesc(d), 1, gpa(d, O_DATA), 512, D_NEXT, 0);
	offer(d, 0);
	kick(d, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, chain_self_loop_writable)
{
	struct drv *d = &self->blk;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_DEFAULT));
	set_desc(qdesc(d), 3, gpa(d, O_DATA), 512, D_NEXT | D_WRITE, 3);
	offer(d, 3);
	kick(d, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, chain_longer_than_queue)
{
	struct drv *d = &self->blk;
	volatile struct vdesc *t = qdesc(d);

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_DEFAULT));
	/* All QN descriptors, then back into the middle: QN + 1 visits. */
	set_desc(t, 0, gpa(d, O_HDR), 16, D_NEXT, 1);
	for (unsigned int i = 1; i < QN; i++)
		set_desc(t, i, gpa(d, O_DATA + i * 512), 512, D_NEXT | D_WRITE,
			 i + 1 < QN ? i + 1 : 4);
	offer(d, 0);
	kick(d, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, chain_of_whole_queue_is_fine)
{
	struct drv *d = &self->blk;
	volatile struct vdesc *t = qdesc(d);
	volatile struct blk_hdr *h = (volatile struct blk_hdr *)(d->ram + O_HDR);

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_DEFAULT));
	h->type = BLK_T_IN;
	h->sector = 0;
	d->ram[O_STATUS] = 0xee;
	set_desc(t, 0, gpa(d, O_HDR), 16, D_NEXT, 1);
	for (unsigned int i = 1; i < QN - 1; i++)
		set_desc(t, i, gpa(d, O_DATA + (i - 1) * 512), 512,
			 D_NEXT | D_WRITE, i + 1);
	set_desc(t, QN - 1, gpa(d, O_STATUS), 1, D_WRITE, 0);
	offer(d, 0);
	kick(d, 0);
	ASSERT_TRUE(wait_used(d, 1, WAIT_MS));
	EXPECT_EQ(BLK_S_OK, d->ram[O_STATUS]);
	EXPECT_EQ((QN - 2) * 512 + 1, used_len(d, 0));
	EXPECT_TRUE(data_is_disk(d, 0, (QN - 2) * 512));
}

TEST_F(hz, zero_length_descriptors_skipped)
{
	struct drv *d = &self->blk;
	volatile struct vdesc *t = qdesc(d);

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_DEFAULT));
	blk_chain(d, BLK_T_IN, 2, 1024);
	/* 0 -> 4 (empty, even pointing nowhere) -> 1 -> 2 */
	set_desc(t, 0, gpa(d, O_HDR), 16, D_NEXT, 4);
	set_desc(t, 4, 0xdead0000, 0, D_NEXT | D_WRITE, 1);
	offer(d, 0);
	kick(d, 0);
	ASSERT_TRUE(wait_used(d, 1, WAIT_MS));
	EXPECT_EQ(BLK_S_OK, d->ram[O_STATUS]);
	EXPECT_TRUE(data_is_disk(d, 2, 1024));
	EXPECT_HEALTHY(d);
}

/* One descriptor in the queue pointing at an indirect table at O_INDIR. */
static void indirect_head(struct drv *d, uint64_t addr, uint32_t len,
			  uint16_t flags)
{
	set_desc(qdesc(d), 0, addr, len, D_INDIRECT | flags, 0);
}

/* A correct read of @len bytes at @sector as an indirect table of 3. */
static void indirect_table(struct drv *d, uint64_t sector, uint32_t len)
{
	volatile struct blk_hdr *h = (volatile struct blk_hdr *)(d->ram + O_HDR);
	volatile struct vdesc *t = desc_at(d, O_INDIR);

	h->type = BLK_T_IN;
	h->sector = sector;
	d->ram[O_STATUS] = 0xee;
	set_desc(t, 0, gpa(d, O_HDR), 16, D_NEXT, 1);
	set_desc(t, 1, gpa(d, O_DATA), len, D_NEXT | D_WRITE, 2);
	set_desc(t, 2, gpa(d, O_STATUS), 1, D_WRITE, 0);
}

TEST_F(hz, indirect_works_when_negotiated)
{
	struct drv *d = &self->blk;

	indirect_table(d, 4, 2048);
	indirect_head(d, gpa(d, O_INDIR), 3 * 16, 0);
	up_and_offer(_metadata, d, WANT_DEFAULT, 0);
	ASSERT_TRUE(wait_used(d, 1, WAIT_MS));
	EXPECT_EQ(BLK_S_OK, d->ram[O_STATUS]);
	EXPECT_TRUE(data_is_disk(d, 4, 2048));
}

/*
 * The longest chain there is: an indirect table of 256 entries, header,
 * 254 data buffers of 300 and 724 bytes in turn (crossing page ends, no
 * one a whole sector), status.
 */
static void max_chain(struct drv *d, uint32_t type, uint64_t sector)
{
	volatile struct blk_hdr *h = (volatile struct blk_hdr *)(d->ram + O_HDR);
	volatile struct vdesc *t = desc_at(d, O_INDIR);
	uint64_t off = O_BIG;

	h->type = type;
	h->ioprio = 0;
	h->sector = sector;
	d->ram[O_STATUS] = 0xee;
	set_desc(t, 0, gpa(d, O_HDR), 16, D_NEXT, 1);
	for (unsigned int i = 1; i <= 254; i++) {
		uint32_t len = i & 1 ? 300 : 724;

		set_desc(t, i, gpa(d, off), len,
			 D_NEXT | (type == BLK_T_IN ? D_WRITE : 0), i + 1);
		off += len;
	}
	set_desc(t, 255, gpa(d, O_STATUS), 1, D_WRITE, 0);
	set_desc(qdesc(d), 0, gpa(d, O_INDIR), 256 * 16, D_INDIRECT, 0);
}

#define BOUNCE	"/sys/module/hvisor_vhost/parameters/blk_force_bounce"

static void set_bounce(char on)
{
	int fd = open(BOUNCE, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, &on, 1) != 1)
		fprintf(stderr, "# %s: %s\n", BOUNCE, strerror(errno));
	close(fd);
}

TEST_F(hz, indirect_256_segments_of_odd_lengths)
{
	struct drv *d = &self->blk;
	const uint32_t total = 127 * 1024;

	BLK_UP(d);
	/* Mapped into bios, then through bounce pages. */
	for (char bounce = '0'; bounce <= '1'; bounce++) {
		set_bounce(bounce);
		memset((void *)(d->ram + O_BIG), 0, total);
		max_chain(d, BLK_T_IN, 16);
		EXPECT_EQ(BLK_S_OK, blk_submit(d));
		EXPECT_EQ(total + 1, used_len(d, d->avail_idx - 1));
		for (uint32_t i = 0; i < total; i++)
			if (d->ram[O_BIG + i] != PATTERN(16 * 512 + i)) {
				EXPECT_EQ(PATTERN(16 * 512 + i), d->ram[O_BIG + i])
					TH_LOG("byte %u, bounce %c", i, bounce);
				break;
			}
		/* The same bytes written back through the same scatter list. */
		max_chain(d, BLK_T_OUT, 16);
		EXPECT_EQ(BLK_S_OK, blk_submit(d));
	}
	set_bounce('0');
	/* One entry more is refused. */
	qdesc(d)[0].len = 257 * 16;
	offer(d, 0);
	kick(d, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, indirect_not_negotiated)
{
	struct drv *d = &self->blk;

	indirect_table(d, 4, 2048);
	indirect_head(d, gpa(d, O_INDIR), 3 * 16, 0);
	up_and_offer(_metadata, d, 1ULL << F_VERSION_1, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, indirect_nested)
{
	struct drv *d = &self->blk;
	volatile struct vdesc *t = desc_at(d, O_INDIR);

	indirect_table(d, 4, 2048);
	set_desc(t, 1, gpa(d, O_INDIR + 0x100), 48, D_INDIRECT | D_NEXT, 2);
	indirect_head(d, gpa(d, O_INDIR), 3 * 16, 0);
	up_and_offer(_metadata, d, WANT_DEFAULT, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, indirect_zero_length)
{
	struct drv *d = &self->blk;

	indirect_head(d, gpa(d, O_INDIR), 0, 0);
	up_and_offer(_metadata, d, WANT_DEFAULT, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, indirect_length_not_multiple_of_16)
{
	struct drv *d = &self->blk;

	indirect_table(d, 4, 2048);
	indirect_head(d, gpa(d, O_INDIR), 40, 0);
	up_and_offer(_metadata, d, WANT_DEFAULT, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, indirect_huge)
{
	struct drv *d = &self->blk;

	/* 4096 entries, all in zone RAM: more than a chain may have. */
	indirect_table(d, 4, 2048);
	indirect_head(d, gpa(d, 0), 4096 * 16, 0);
	up_and_offer(_metadata, d, WANT_DEFAULT, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, indirect_address_overflows)
{
	struct drv *d = &self->blk;

	indirect_head(d, 0xffffffffffffffe0ULL, 3 * 16, 0);
	up_and_offer(_metadata, d, WANT_DEFAULT, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, indirect_with_next)
{
	struct drv *d = &self->blk;

	indirect_table(d, 4, 2048);
	indirect_head(d, gpa(d, O_INDIR), 3 * 16, D_NEXT);
	qdesc(d)[0].next = 1;
	set_desc(qdesc(d), 1, gpa(d, O_STATUS), 1, D_WRITE, 0);
	up_and_offer(_metadata, d, WANT_DEFAULT, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, indirect_table_outside_zone_ram)
{
	struct drv *d = &self->blk;

	indirect_head(d, GPA_A + HALF - 32, 3 * 16, 0);
	up_and_offer(_metadata, d, WANT_DEFAULT, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, indirect_chain_loops)
{
	struct drv *d = &self->blk;
	volatile struct vdesc *t = desc_at(d, O_INDIR);

	indirect_table(d, 4, 2048);
	t[2].flags = D_WRITE | D_NEXT;
	t[2].next = 1;
	indirect_head(d, gpa(d, O_INDIR), 3 * 16, 0);
	up_and_offer(_metadata, d, WANT_DEFAULT, 0);
	EXPECT_NEEDS_RESET(d);
}

/* A data buffer at @addr, @len bytes, in an otherwise correct read. */
static void bad_buffer(struct __test_metadata *_metadata, struct drv *d,
		       uint64_t addr, uint32_t len)
{
	blk_chain(d, BLK_T_IN, 0, 512);
	qdesc(d)[1].addr = addr;
	qdesc(d)[1].len = len;
	up_and_offer(_metadata, d, WANT_DEFAULT, 0);
	EXPECT_NEEDS_RESET(d);
	EXPECT_EQ(0xee, d->ram[O_STATUS]);
}

TEST_F(hz, buffer_address_plus_length_overflows)
{
	bad_buffer(_metadata, &self->blk, 0xfffffffffffff000ULL, 0x2000);
}

TEST_F(hz, buffer_outside_zone_ram)
{
	bad_buffer(_metadata, &self->blk, 0x1000, 512);
}

TEST_F(hz, buffer_straddles_region_end)
{
	bad_buffer(_metadata, &self->blk, GPA_A + HALF - 256, 512);
}

TEST_F(hz, buffer_runs_into_guard)
{
	/* The last 256 bytes of zone RAM and 256 more: the guard page's. */
	bad_buffer(_metadata, &self->blk, GPA_B + HALF - 256, 512);
}

TEST_F(hz, buffer_ending_at_last_byte_of_zone_ram)
{
	struct drv *d = &self->blk;
	volatile struct vdesc *t = qdesc(d);

	/* Data and status fill the last 513 bytes of RAM: right up to the guard. */
	BLK_UP(d);
	blk_chain(d, BLK_T_IN, 3, 512);
	set_desc(t, 1, gpa(d, RAM_SIZE - 513), 512, D_NEXT | D_WRITE, 2);
	set_desc(t, 2, gpa(d, RAM_SIZE - 1), 1, D_WRITE, 0);
	d->ram[RAM_SIZE - 1] = 0xee;
	offer(d, 0);
	kick(d, 0);
	ASSERT_TRUE(wait_used(d, 1, WAIT_MS));
	EXPECT_EQ(BLK_S_OK, d->ram[RAM_SIZE - 1]);
	for (unsigned int i = 0; i < 512; i++)
		if (d->ram[RAM_SIZE - 513 + i] != PATTERN(3 * 512 + i)) {
			EXPECT_EQ(PATTERN(3 * 512 + i), d->ram[RAM_SIZE - 513 + i]);
			break;
		}
	EXPECT_HEALTHY(d);
}

TEST_F(hz, readable_after_writable)
{
	struct drv *d = &self->blk;

	blk_chain(d, BLK_T_IN, 0, 512);
	qdesc(d)[2].flags = 0;		/* status readable, after the data */
	up_and_offer(_metadata, d, WANT_DEFAULT, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, avail_index_jumps_past_queue_size)
{
	struct drv *d = &self->blk;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_DEFAULT));
	blk_chain(d, BLK_T_IN, 0, 512);
	avail(d)[1] = QN + 1;
	kick(d, 0);
	EXPECT_NEEDS_RESET(d);
	EXPECT_EQ(0, used(d)[1]);
}

TEST_F(hz, avail_index_jumps_backwards)
{
	struct drv *d = &self->blk;

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_DEFAULT));
	blk_chain(d, BLK_T_IN, 0, 512);
	ASSERT_EQ(BLK_S_OK, blk_submit(d));
	avail(d)[1] = 0;		/* 0 - 1: 65535 chains */
	kick(d, 0);
	EXPECT_NEEDS_RESET(d);
}

/* ---- virtio-blk requests ------------------------------------------------ */

/* Up, one blk request as set up by @setup, its status byte and used len. */
static int blk_case(struct __test_metadata *_metadata, struct drv *d,
		    uint32_t *ulen)
{
	int st;

	offer(d, 0);
	kick(d, 0);
	if (!wait_used(d, 1, WAIT_MS))
		return -1;
	st = d->ram[O_STATUS];
	*ulen = used_len(d, 0);
	return st;
}

TEST_F(hz, blk_header_short)
{
	struct drv *d = &self->blk;
	uint32_t len;

	BLK_UP(d);
	blk_chain(d, BLK_T_IN, 0, 512);
	qdesc(d)[0].len = 8;
	EXPECT_EQ(BLK_S_IOERR, blk_case(_metadata, d, &len));
	EXPECT_EQ(1, len);
	EXPECT_HEALTHY(d);
}

TEST_F(hz, blk_header_split_over_descriptors)
{
	struct drv *d = &self->blk;
	volatile struct vdesc *t = qdesc(d);
	uint32_t len;

	BLK_UP(d);
	blk_chain(d, BLK_T_IN, 6, 512);
	/* 16 bytes of header as 3 + 13, the second part in region B. */
	memcpy((void *)(d->ram + O_BIG), (void *)(d->ram + O_HDR + 3), 13);
	set_desc(t, 0, gpa(d, O_HDR), 3, D_NEXT, 3);
	set_desc(t, 3, gpa(d, O_BIG), 13, D_NEXT, 1);
	EXPECT_EQ(BLK_S_OK, blk_case(_metadata, d, &len));
	EXPECT_TRUE(data_is_disk(d, 6, 512));
}

TEST_F(hz, blk_status_byte_missing)
{
	struct drv *d = &self->blk;
	uint32_t len;

	BLK_UP(d);
	blk_chain(d, BLK_T_OUT, 0, 512);
	qdesc(d)[1].flags = 0;		/* header, data: nothing writable */
	EXPECT_EQ(0xee, blk_case(_metadata, d, &len));
	EXPECT_EQ(0, len);
	EXPECT_HEALTHY(d);
}

TEST_F(hz, blk_status_in_readable_buffer)
{
	struct drv *d = &self->blk;
	uint32_t len;

	BLK_UP(d);
	blk_chain(d, BLK_T_IN, 0, 0);
	qdesc(d)[2].flags = 0;		/* the status byte readable */
	EXPECT_EQ(0xee, blk_case(_metadata, d, &len));
	EXPECT_EQ(0, len);
	EXPECT_HEALTHY(d);
}

TEST_F(hz, blk_sector_past_capacity)
{
	struct drv *d = &self->blk;
	uint32_t len;

	BLK_UP(d);
	memset((void *)(d->ram + O_DATA), 0x5a, 512);
	blk_chain(d, BLK_T_IN, DISK_SECTORS, 512);
	EXPECT_EQ(BLK_S_IOERR, blk_case(_metadata, d, &len));
	EXPECT_EQ(0x5a, d->ram[O_DATA]);
	EXPECT_HEALTHY(d);
}

TEST_F(hz, blk_request_runs_past_capacity)
{
	struct drv *d = &self->blk;
	uint32_t len;

	BLK_UP(d);
	blk_chain(d, BLK_T_OUT, DISK_SECTORS - 1, 1024);
	EXPECT_EQ(BLK_S_IOERR, blk_case(_metadata, d, &len));
	EXPECT_HEALTHY(d);
}

TEST_F(hz, blk_sector_math_overflows)
{
	struct drv *d = &self->blk;
	uint32_t len;

	BLK_UP(d);
	/* sector * 512 and sector + length both wrap around 64 bits. */
	blk_chain(d, BLK_T_IN, 0xffffffffffffffffULL, 4096);
	EXPECT_EQ(BLK_S_IOERR, blk_case(_metadata, d, &len));
	d->avail_idx = 1;
	blk_chain(d, BLK_T_OUT, 0x0080000000000000ULL, 512);
	offer(d, 0);
	kick(d, 0);
	ASSERT_TRUE(wait_used(d, 2, WAIT_MS));
	EXPECT_EQ(BLK_S_IOERR, d->ram[O_STATUS]);
	EXPECT_HEALTHY(d);
}

TEST_F(hz, blk_length_not_multiple_of_sector)
{
	struct drv *d = &self->blk;
	uint32_t len;

	BLK_UP(d);
	blk_chain(d, BLK_T_IN, 0, 100);
	EXPECT_EQ(BLK_S_IOERR, blk_case(_metadata, d, &len));
	EXPECT_HEALTHY(d);
}

TEST_F(hz, blk_write_to_read_only)
{
	struct drv *d = &self->ro;
	uint32_t len;

	ASSERT_TRUE(dev_features(d) & (1ULL << F_RO));
	BLK_UP(d);
	memset((void *)(d->ram + O_DATA), 0, 4096);
	blk_chain(d, BLK_T_OUT, 0, 4096);
	EXPECT_EQ(BLK_S_IOERR, blk_case(_metadata, d, &len));
	EXPECT_HEALTHY(d);
	/* The disk is unchanged. */
	d->avail_idx = 1;
	blk_chain(d, BLK_T_IN, 0, 4096);
	offer(d, 0);
	kick(d, 0);
	ASSERT_TRUE(wait_used(d, 2, WAIT_MS));
	EXPECT_EQ(BLK_S_OK, d->ram[O_STATUS]);
	EXPECT_TRUE(data_is_disk(d, 0, 4096));
	drv_reset(d);
}

TEST_F(hz, blk_unknown_types)
{
	static const uint32_t types[] = { 2, 3, 5, 0x77, 0x80000000, 0xffffffff };
	struct drv *d = &self->blk;

	BLK_UP(d);
	for (unsigned int i = 0; i < ARRAY_SIZE(types); i++) {
		blk_chain(d, types[i], 0, 512);
		EXPECT_EQ(BLK_S_UNSUPP, blk_submit(d)) TH_LOG("type %#x", types[i]);
	}
	EXPECT_HEALTHY(d);
}

TEST_F(hz, blk_data_and_status_share_a_buffer)
{
	struct drv *d = &self->blk;
	volatile struct vdesc *t = qdesc(d);
	uint32_t len;

	BLK_UP(d);
	blk_chain(d, BLK_T_IN, 0, 512);
	/* 513 writable bytes: 512 of data, the last one the status. */
	set_desc(t, 1, gpa(d, O_DATA), 513, D_WRITE, 0);
	d->ram[O_DATA + 512] = 0xee;
	offer(d, 0);
	kick(d, 0);
	ASSERT_TRUE(wait_used(d, 1, WAIT_MS));
	len = used_len(d, 0);
	EXPECT_EQ(BLK_S_OK, d->ram[O_DATA + 512]);
	EXPECT_EQ(513, len);
	EXPECT_TRUE(data_is_disk(d, 0, 512));
}

TEST_F(hz, blk_get_id_into_short_buffer)
{
	struct drv *d = &self->blk;
	uint32_t len;

	BLK_UP(d);
	memset((void *)(d->ram + O_DATA), 0x5a, 64);
	blk_chain(d, 8, 0, 3);		/* VIRTIO_BLK_T_GET_ID, 3 bytes */
	qdesc(d)[1].flags = D_NEXT | D_WRITE;
	EXPECT_EQ(BLK_S_OK, blk_case(_metadata, d, &len));
	EXPECT_EQ(4, len);
	EXPECT_EQ(0x5a, d->ram[O_DATA + 3]);
	EXPECT_HEALTHY(d);
}

TEST_F(hz, blk_discard_ranges_malformed)
{
	struct drv *d = &self->blk;
	volatile uint64_t *r = (volatile uint64_t *)(d->ram + O_DATA);
	int st;

	BLK_UP(d);
	/* A range whose sector + count overflows, as 16 bytes. */
	r[0] = 0xfffffffffffffff8ULL;
	r[1] = 16;			/* num_sectors 16, flags 0 */
	blk_chain(d, 11, 0, 16);	/* VIRTIO_BLK_T_DISCARD */
	qdesc(d)[1].flags = D_NEXT;	/* the range is readable */
	st = blk_submit(d);
	EXPECT_TRUE(st == BLK_S_IOERR || st == BLK_S_UNSUPP) TH_LOG("status %d", st);
	/* 20 bytes: no whole number of ranges. */
	qdesc(d)[1].len = 20;
	st = blk_submit(d);
	EXPECT_TRUE(st == BLK_S_IOERR || st == BLK_S_UNSUPP) TH_LOG("status %d", st);
	/* Unknown flags in a write-zeroes range. */
	r[0] = 0;
	r[1] = 8 | (0xfeULL << 32);
	qdesc(d)[1].len = 16;
	((volatile struct blk_hdr *)(d->ram + O_HDR))->type = 13;
	st = blk_submit(d);
	EXPECT_TRUE(st == BLK_S_UNSUPP) TH_LOG("status %d", st);
	EXPECT_HEALTHY(d);
}

TEST_F(hz, event_idx_with_hostile_used_event)
{
	struct drv *d = &self->blk;
	static const uint16_t ev[] = { 0, 0xffff, 0x8000, 3, 0x7fff };

	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, WANT_DEFAULT | (1ULL << F_EVENT_IDX)));
	for (unsigned int i = 0; i < 2 * ARRAY_SIZE(ev); i++) {
		/* used_event sits after the avail ring's entries. */
		avail(d)[2 + QN] = ev[i % (ARRAY_SIZE(ev))];
		blk_chain(d, BLK_T_IN, i, 512);
		EXPECT_EQ(BLK_S_OK, blk_submit(d));
		wr(d, R_ACK, 3);
	}
	EXPECT_HEALTHY(d);
}

/* ---- virtio-net --------------------------------------------------------- */

/* The net device up, TX queue only; then one frame of @n descriptors. */
static void net_up(struct __test_metadata *_metadata, FIXTURE_DATA(hz) *self)
{
	struct drv *d = &self->net;

	if (!net_add(self))
		SKIP(return, "no tap: %s", strerror(errno));
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, 1ULL << F_VERSION_1));
}

static void net_frame_done(struct __test_metadata *_metadata,
			   FIXTURE_DATA(hz) *self, uint64_t errors_before)
{
	struct drv *d = &self->net;
	struct hvisor_vhost_dev_stats st;

	offer(d, 0);
	kick(d, d->q);
	ASSERT_TRUE(wait_used(d, 1, WAIT_MS));
	EXPECT_EQ(0, used_len(d, 0));
	EXPECT_EQ(0, used_id(d, 0));
	EXPECT_HEALTHY(d);
	ASSERT_EQ(0, dev_stats(self->hvv, self->net_id, &st));
	EXPECT_LT(errors_before, st.errors);
}

TEST_F(hz, net_header_short)
{
	struct drv *d = &self->net;

	net_up(_metadata, self);
	set_desc(qdesc(d), 0, gpa(d, O_NHDR), 11, 0, 0);
	net_frame_done(_metadata, self, 0);
}

TEST_F(hz, net_frame_over_64k)
{
	struct drv *d = &self->net;
	volatile struct vdesc *t = qdesc(d);
	unsigned int i;

	net_up(_metadata, self);
	memset((void *)(d->ram + O_NHDR), 0, 12);
	set_desc(t, 0, gpa(d, O_NHDR), 12, D_NEXT, 1);
	/* 17 segments of 4 KiB in region B: 68 KiB of frame. */
	for (i = 1; i <= 17; i++)
		set_desc(t, i, gpa(d, O_BIG + (i - 1) * 4096), 4096,
			 i < 17 ? D_NEXT : 0, i + 1);
	net_frame_done(_metadata, self, 0);
}

/* The control queue (index 2 with one pair): commands, their ack bytes. */
#define F_NET_CTRL_VQ	17
#define F_NET_CTRL_RX	18
#define NET_OK		0
#define NET_ERR		1

/* Command @cmd (@len bytes at O_NHDR), then the ack byte; its ack. */
static int net_ctrl_cmd(struct drv *d, uint32_t len, bool with_ack)
{
	volatile struct vdesc *t = qdesc(d);
	uint16_t n = d->avail_idx + 1;

	d->ram[O_NHDR + 0x800] = 0xee;
	set_desc(t, 0, gpa(d, O_NHDR), len, with_ack ? D_NEXT : 0, 1);
	set_desc(t, 1, gpa(d, O_NHDR + 0x800), 1, D_WRITE, 0);
	offer(d, 0);
	kick(d, d->q);
	if (!wait_used(d, n, WAIT_MS))
		return -1;
	return d->ram[O_NHDR + 0x800];
}

TEST_F(hz, net_control_commands_malformed)
{
	struct drv *d = &self->net;
	volatile uint8_t *c = d->ram + O_NHDR;

	if (!net_add(self))
		SKIP(return, "no tap: %s", strerror(errno));
	d->q = 2;
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, (1ULL << F_VERSION_1) | (1ULL << F_NET_CTRL_VQ) |
			    (1ULL << F_NET_CTRL_RX)));
	/* A MAC table whose count says 4 G entries. */
	c[0] = 1;			/* VIRTIO_NET_CTRL_MAC */
	c[1] = 0;			/* MAC_TABLE_SET */
	memset((void *)(c + 2), 0xff, 4);
	memset((void *)(c + 6), 0, 4);
	EXPECT_EQ(NET_ERR, net_ctrl_cmd(d, 10, true));
	/* Counts that fit, but the tables run past the command. */
	c[2] = 2; c[3] = c[4] = c[5] = 0;
	EXPECT_EQ(NET_ERR, net_ctrl_cmd(d, 10, true));
	/* An unknown class, then a known one with a short payload. */
	c[0] = 0x77;
	EXPECT_EQ(NET_ERR, net_ctrl_cmd(d, 3, true));
	c[0] = 0;			/* VIRTIO_NET_CTRL_RX */
	c[1] = 0;			/* PROMISC, without its byte */
	EXPECT_EQ(NET_ERR, net_ctrl_cmd(d, 2, true));
	/* The MAC address of a command too short for it. */
	c[0] = 1;
	c[1] = 1;			/* MAC_ADDR_SET */
	EXPECT_EQ(NET_ERR, net_ctrl_cmd(d, 5, true));
	/* No ack byte at all: the chain comes back unanswered. */
	c[0] = 0;
	c[2] = 1;
	EXPECT_EQ(0xee, net_ctrl_cmd(d, 3, false));
	EXPECT_EQ(0, used_len(d, d->avail_idx - 1));
	/* A one-byte command: no class and command. */
	EXPECT_EQ(0xee, net_ctrl_cmd(d, 1, true));
	EXPECT_HEALTHY(d);
	/* And a good one still works. */
	c[0] = 0;
	c[1] = 0;
	c[2] = 1;
	EXPECT_EQ(NET_OK, net_ctrl_cmd(d, 3, true));
}

#define F_NET_MQ	22

/* VIRTIO_NET_CTRL_MQ VQ_PAIRS_SET of @n pairs, @len bytes of command. */
static int net_mq_set(struct drv *d, uint8_t cmd, uint16_t n, uint32_t len)
{
	volatile uint8_t *c = d->ram + O_NHDR;

	c[0] = 4;			/* VIRTIO_NET_CTRL_MQ */
	c[1] = cmd;
	c[2] = n & 0xff;
	c[3] = n >> 8;
	c[4] = 0;
	return net_ctrl_cmd(d, len, true);
}

/*
 * A two-pair device without a tap: pair counts out of range, commands of
 * the wrong size or kind are refused; queues never set up are kicked;
 * without MQ the control queue moves to index 2 and refuses MQ commands.
 */
TEST_F(hz, net_mq_commands_hostile)
{
	struct drv *d = &self->net;
	static const uint32_t stray[] = { 2, 3, 5, 7, 100, 0xffff, ~0u };
	unsigned int i;

	self->net_id = dev_add_q(self->hvv, HVISOR_VHOST_DEV_NET, self->zone,
				 MMIO_NET, IRQ_NET, -1, false, 2);
	ASSERT_NE(0, self->net_id);
	d->q = 4;			/* the control queue with MQ and 2 pairs */
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, (1ULL << F_VERSION_1) | (1ULL << F_NET_CTRL_VQ) |
			    (1ULL << F_NET_MQ)));
	EXPECT_EQ(NET_ERR, net_mq_set(d, 0, 0, 4));
	EXPECT_EQ(NET_ERR, net_mq_set(d, 0, 3, 4));
	EXPECT_EQ(NET_ERR, net_mq_set(d, 0, 0xffff, 4));
	EXPECT_EQ(NET_ERR, net_mq_set(d, 0, 2, 3));	/* short */
	EXPECT_EQ(NET_ERR, net_mq_set(d, 0, 2, 5));	/* long */
	EXPECT_EQ(NET_ERR, net_mq_set(d, 1, 2, 4));	/* RSS: not offered */
	EXPECT_EQ(NET_OK, net_mq_set(d, 0, 2, 4));
	/* Queues of both pairs, never made ready, and queues that are not. */
	for (i = 0; i < sizeof(stray) / sizeof(stray[0]); i++)
		kick(d, stray[i]);
	EXPECT_EQ(NET_OK, net_mq_set(d, 0, 1, 4));
	EXPECT_EQ(NET_OK, net_mq_set(d, 0, 2, 4));
	EXPECT_HEALTHY(d);

	drv_reset(d);
	d->q = 2;			/* the control queue without MQ */
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, (1ULL << F_VERSION_1) | (1ULL << F_NET_CTRL_VQ)));
	EXPECT_EQ(NET_ERR, net_mq_set(d, 0, 1, 4));
	for (i = 0; i < sizeof(stray) / sizeof(stray[0]); i++)
		kick(d, stray[i]);
	EXPECT_HEALTHY(d);
}

/*
 * Bring the tap up and send one broadcast frame of @len bytes (60 to
 * 9014) out of it, to the zone; the tap's MTU grows to carry it.
 */
static bool tap_send_sized(const char *name, size_t len)
{
	struct sockaddr_ll sll;
	struct ifreq ifr;
	uint8_t frame[9014];
	char path[96];
	bool ok = false;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			fprintf(stderr, "# %s: %s\n", path, strerror(errno));
		close(fd);
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		goto out;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) || ioctl(fd, SIOCGIFINDEX, &ifr))
		goto out;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (len > 1514) {
		ifr.ifr_mtu = 9000;	/* in place of ifr_ifindex */
		if (ioctl(fd, SIOCSIFMTU, &ifr))
			goto out;
	}
	sll.sll_halen = ETH_ALEN;
	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, ETH_ALEN);
	frame[6] = 0x02;
	frame[12] = 0x88;
	frame[13] = 0xb5;		/* local experimental ethertype */
	ok = sendto(fd, frame, len, 0, (struct sockaddr *)&sll,
		    sizeof(sll)) == (ssize_t)len;
out:
	close(fd);
	return ok;
}

static bool tap_send_frame(const char *name)
{
	return tap_send_sized(name, 60);
}

/* Make @d drive the receive queue of pair 0; its descriptor table. */
static volatile struct vdesc *net_rx_queue(struct drv *d)
{
	d->q = 0;
	d->num = QN;
	d->o_desc = 0x12000;
	d->o_avail = 0x13000;
	d->o_used = 0x14000;
	return qdesc(d);
}

TEST_F(hz, net_rx_buffers_unfit)
{
	struct drv *d = &self->net;
	volatile struct vdesc *t;

	if (!net_add(self))
		SKIP(return, "no tap: %s", strerror(errno));
	t = net_rx_queue(d);
	/* Readable only; 4 writable bytes, less than the header; 2 KiB. */
	set_desc(t, 0, gpa(d, 0x15000), 2048, 0, 0);
	set_desc(t, 1, gpa(d, 0x16000), 4, D_WRITE, 0);
	set_desc(t, 2, gpa(d, 0x17000), 2048, D_WRITE, 0);
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, 1ULL << F_VERSION_1));
	offer(d, 0);
	offer(d, 1);
	offer(d, 2);
	kick(d, 0);
	ASSERT_TRUE(tap_send_frame(self->tapname)) TH_LOG("cannot send on %s",
							  self->tapname);
	ASSERT_TRUE(wait_used(d, 3, WAIT_MS));
	/* The unfit buffers come back empty, first; the frame in the third. */
	EXPECT_EQ(0, used_id(d, 0));
	EXPECT_EQ(0, used_len(d, 0));
	EXPECT_EQ(1, used_id(d, 1));
	EXPECT_EQ(0, used_len(d, 1));
	EXPECT_EQ(2, used_id(d, 2));
	EXPECT_LE(12 + 14, used_len(d, 2));
	EXPECT_HEALTHY(d);
}

#define F_NET_MRG_RXBUF	15

/*
 * The driver posts two 2 KiB receive buffers and goes idle; an 8000-byte
 * frame needs four.  A driver may wait for the device before it posts more
 * (virtio_net refills only once half its ring is used): the frame is
 * dropped and counted rather than left to block the tap, and the next one
 * arrives, in the first buffer.  With EVENT_IDX the device sees that the
 * driver has gone idle; without, it gives up after a short wait.
 */
static void net_rx_short(struct __test_metadata *_metadata,
			 FIXTURE_DATA(hz) *self, bool event_idx)
{
	struct drv *d = &self->net;
	struct hvisor_vhost_dev_stats st;
	uint64_t want = 1ULL << F_VERSION_1 | 1ULL << F_NET_MRG_RXBUF;
	volatile struct vdesc *t;
	unsigned int i;

	if (!net_add(self))
		SKIP(return, "no tap: %s", strerror(errno));
	t = net_rx_queue(d);
	for (i = 0; i < 4; i++)
		set_desc(t, i, gpa(d, 0x15000 + 0x1000 * i), 2048, D_WRITE, 0);
	if (event_idx)
		want |= 1ULL << F_EVENT_IDX;
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, want));
	/* used_event: interrupt at the first used entry, i.e. idle. */
	avail(d)[2 + d->num] = 0;
	offer(d, 0);
	offer(d, 1);
	kick(d, 0);
	ASSERT_TRUE(tap_send_sized(self->tapname, 8000))
		TH_LOG("cannot send on %s: %s", self->tapname, strerror(errno));
	ASSERT_TRUE(tap_send_frame(self->tapname));
	ASSERT_TRUE(wait_used(d, 1, WAIT_MS)) TH_LOG("the tap is blocked");
	msleep(200);
	EXPECT_EQ(1, used(d)[1]);
	EXPECT_EQ(0, used_id(d, 0));
	EXPECT_EQ(12 + 60, used_len(d, 0));
	/* num_buffers of the frame received */
	EXPECT_EQ(1, *(volatile uint16_t *)(d->ram + 0x15000 + 10));
	ASSERT_EQ(0, dev_stats(self->hvv, self->net_id, &st));
	EXPECT_EQ(1, st.errors);
	EXPECT_HEALTHY(d);
}

TEST_F(hz, net_rx_short_ring_driver_idle)
{
	net_rx_short(_metadata, self, true);
}

TEST_F(hz, net_rx_short_ring_no_event_idx)
{
	net_rx_short(_metadata, self, false);
}

TEST_F(hz, net_rx_queue_bad_ring)
{
	struct drv *d = &self->net;

	if (!net_add(self))
		SKIP(return, "no tap: %s", strerror(errno));
	ASSERT_TRUE(drv_negotiate(d, 1ULL << F_VERSION_1) & S_FEATURES_OK);
	/* receiveq: ring in nobody's RAM */
	q_regs(d, 0, 16, 0x2000, 0x3000, 0x4000);
	driver_ok(d);
	EXPECT_NEEDS_RESET(d);
}

/* ---- status and features ------------------------------------------------- */

TEST_F(hz, driver_ok_before_features_ok)
{
	struct drv *d = &self->blk;

	drv_reset(d);
	wr(d, R_STATUS, S_ACK | S_DRIVER);
	set_features(d, 1ULL << F_VERSION_1);
	q_setup(d);
	wr(d, R_STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
	EXPECT_EQ(S_ACK | S_DRIVER, rd(d, R_STATUS));
	blk_chain(d, BLK_T_IN, 0, 512);
	offer(d, 0);
	kick(d, 0);
	msleep(100);
	EXPECT_EQ(0, used(d)[1]) TH_LOG("a device that never got DRIVER_OK ran");
	/* FEATURES_OK after the refused DRIVER_OK, then DRIVER_OK: it runs. */
	wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	EXPECT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK, rd(d, R_STATUS));
	driver_ok(d);
	ASSERT_TRUE(wait_used(d, 1, WAIT_MS));
	EXPECT_EQ(BLK_S_OK, d->ram[O_STATUS]);
}

TEST_F(hz, features_never_offered)
{
	struct drv *d = &self->blk;

	drv_reset(d);
	wr(d, R_STATUS, S_ACK | S_DRIVER);
	set_features(d, (1ULL << F_VERSION_1) | (1ULL << 63) | (1ULL << 20));
	wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	EXPECT_EQ(0, rd(d, R_STATUS) & S_FEATURES_OK);
	/* DRIVER_OK without FEATURES_OK is refused too. */
	driver_ok(d);
	EXPECT_EQ(0, rd(d, R_STATUS) & S_DRIVER_OK);
}

TEST_F(hz, features_without_version_1)
{
	struct drv *d = &self->blk;

	EXPECT_EQ(0, drv_negotiate(d, 1ULL << F_INDIRECT) & S_FEATURES_OK);
}

TEST_F(hz, features_select_out_of_range)
{
	struct drv *d = &self->blk;

	drv_reset(d);
	wr(d, R_DEV_FEAT_SEL, 2);
	EXPECT_EQ(0, rd(d, R_DEV_FEAT));
	wr(d, R_DEV_FEAT_SEL, 0xffffffff);
	EXPECT_EQ(0, rd(d, R_DEV_FEAT));
	wr(d, R_STATUS, S_ACK | S_DRIVER);
	set_features(d, 1ULL << F_VERSION_1);
	wr(d, R_DRV_FEAT_SEL, 7);
	wr(d, R_DRV_FEAT, 0xffffffff);	/* ignored */
	wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	EXPECT_TRUE(rd(d, R_STATUS) & S_FEATURES_OK);
}

TEST_F(hz, features_changed_after_features_ok)
{
	struct drv *d = &self->blk;

	ASSERT_TRUE(drv_negotiate(d, 1ULL << F_VERSION_1) & S_FEATURES_OK);
	/* Too late: INDIRECT stays off, so an indirect chain breaks. */
	set_features(d, WANT_DEFAULT);
	wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	indirect_table(d, 4, 2048);
	indirect_head(d, gpa(d, O_INDIR), 3 * 16, 0);
	q_setup(d);
	driver_ok(d);
	offer(d, 0);
	kick(d, 0);
	EXPECT_NEEDS_RESET(d);
}

TEST_F(hz, features_ok_after_driver_ok)
{
	struct drv *d = &self->blk;

	BLK_UP(d);
	/* Status bits only ever accumulate; a second FEATURES_OK changes nothing. */
	wr(d, R_STATUS, S_FEATURES_OK);
	wr(d, R_STATUS, S_ACK);
	EXPECT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  rd(d, R_STATUS));
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
}

/* ---- config space, unknown registers, sizes ------------------------------ */

static const uint64_t sizes[] = { 1, 2, 3, 4, 8, 16 };
#define NSIZES	(ARRAY_SIZE(sizes))

/* Config reads at every offset and size: consistent bytes, or 0. */
static void config_reads(struct __test_metadata *_metadata, struct drv *d,
			 unsigned int span, uint64_t capacity)
{
	uint8_t bytes[0x140];
	unsigned int off, s, len = 0;

	for (off = 0; off < span; off++) {
		bytes[off] = h_read(d->hfd, d->zone, d->base + R_CONFIG + off, 1);
		if (bytes[off])
			len = off + 1;
	}
	if (capacity) {
		uint64_t c = h_read(d->hfd, d->zone, d->base + R_CONFIG, 8);

		EXPECT_EQ(capacity, c);
	}
	for (off = 0; off < span; off++)
		for (s = 0; s < NSIZES; s++) {
			uint64_t size = sizes[s], v, want = 0;

			v = h_read(d->hfd, d->zone, d->base + R_CONFIG + off, size);
			if (size <= 8 && !(size & (size - 1)) && !(off % size) &&
			    off + size <= span)
				memcpy(&want, bytes + off, size);
			if (size > 8 || (size & (size - 1)) || off % size) {
				EXPECT_EQ(0, v) TH_LOG("off %#x size %llu", off,
						       (unsigned long long)size);
			} else if (off + size <= len) {
				EXPECT_EQ(want, v) TH_LOG("off %#x size %llu", off,
							  (unsigned long long)size);
			}
		}
}

TEST_F(hz, config_reads_every_offset_and_size)
{
	struct drv *d = &self->blk;

	ASSERT_TRUE(drv_negotiate(d, WANT_DEFAULT) & S_FEATURES_OK);
	config_reads(_metadata, d, 0x100, DISK_SECTORS);
}

TEST_F(hz, config_writes_every_offset_and_size)
{
	struct drv *d = &self->blk;
	uint8_t before[0x80], after[0x80];
	unsigned int off, s;

	ASSERT_TRUE(drv_negotiate(d, ~0ULL) & S_FEATURES_OK);
	for (off = 0; off < sizeof(before); off++)
		before[off] = h_read(d->hfd, d->zone, d->base + R_CONFIG + off, 1);
	for (off = 0; off < 0x100; off++)
		for (s = 0; s < NSIZES; s++)
			h_write(d->hfd, d->zone, d->base + R_CONFIG + off, sizes[s],
				~0ULL);
	/* writeback (offset 32) is the one writable field: 1 stays 1. */
	for (off = 0; off < sizeof(after); off++)
		after[off] = h_read(d->hfd, d->zone, d->base + R_CONFIG + off, 1);
	EXPECT_EQ(0, memcmp(before, after, sizeof(before)));
	EXPECT_EQ(DISK_SECTORS, h_read(d->hfd, d->zone, d->base + R_CONFIG, 8));
	q_setup(d);
	driver_ok(d);
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
}

TEST_F(hz, net_config_reads_every_offset_and_size)
{
	struct drv *d = &self->net;

	if (!net_add(self))
		SKIP(return, "no tap: %s", strerror(errno));
	config_reads(_metadata, d, 0x40, 0);
	for (unsigned int off = 0; off < 0x40; off++)
		h_write(d->hfd, d->zone, d->base + R_CONFIG + off, 1, 0xff);
	EXPECT_HEALTHY(d);
}

static bool writable_reg(unsigned int off)
{
	switch (off) {
	case R_DEV_FEAT_SEL: case R_DRV_FEAT: case R_DRV_FEAT_SEL:
	case R_QSEL: case R_QNUM: case R_QREADY: case R_NOTIFY: case R_ACK:
	case R_STATUS: case R_QDESC: case R_QDESC + 4: case R_QAVAIL:
	case R_QAVAIL + 4: case R_QUSED: case R_QUSED + 4:
		return true;
	}
	return false;
}

TEST_F(hz, control_registers_wrong_size_or_alignment)
{
	struct drv *d = &self->blk;
	uint32_t status;

	BLK_UP(d);
	status = rd(d, R_STATUS);
	for (unsigned int off = 0; off < R_CONFIG; off++)
		for (unsigned int s = 0; s < NSIZES; s++) {
			if (sizes[s] == 4 && !(off & 3))
				continue;
			EXPECT_EQ(0, h_read(d->hfd, d->zone, d->base + off, sizes[s]))
				TH_LOG("off %#x size %llu", off,
				       (unsigned long long)sizes[s]);
			/* Zeroes everywhere: a reset if Status took it. */
			h_write(d->hfd, d->zone, d->base + off, sizes[s], 0);
		}
	EXPECT_EQ(status, rd(d, R_STATUS));
	EXPECT_EQ(0x74726976, rd(d, R_MAGIC));
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
}

TEST_F(hz, unknown_and_read_only_registers)
{
	struct drv *d = &self->blk;
	uint32_t status;

	BLK_UP(d);
	status = rd(d, R_STATUS);
	for (unsigned int off = 0; off < R_CONFIG; off += 4) {
		uint32_t v = rd(d, off);

		switch (off) {
		case R_MAGIC:
			EXPECT_EQ(0x74726976, v);
			break;
		case R_VERSION:
		case R_DEVICE_ID:
			EXPECT_EQ(2, v);
			break;
		case R_VENDOR: case R_DEV_FEAT: case R_QNUM_MAX: case R_QREADY:
		case R_ISR: case R_STATUS: case R_QDESC: case R_QDESC + 4:
		case R_QAVAIL: case R_QAVAIL + 4: case R_QUSED: case R_QUSED + 4:
		case R_GEN:
			break;
		case R_SHM_LEN: case R_SHM_LEN + 4: case R_SHM_BASE:
		case R_SHM_BASE + 4:
			EXPECT_EQ(0xffffffff, v);
			break;
		default:
			EXPECT_EQ(0, v) TH_LOG("register %#x reads %#x", off, v);
		}
		if (!writable_reg(off))
			wr(d, off, 0xffffffff);
	}
	EXPECT_EQ(status, rd(d, R_STATUS));
	EXPECT_EQ(2, rd(d, R_DEVICE_ID));
	EXPECT_EQ(0, rd(d, R_QRESET));
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
}

TEST_F(hz, access_sizes_no_vcpu_makes)
{
	static const uint64_t odd[] = {
		0, 5, 7, 32, 4096, (1ULL << 32) | 1, (1ULL << 32) | 4,
		(1ULL << 32) | 8, ~0ULL,
	};
	struct drv *d = &self->blk;
	uint32_t status;

	BLK_UP(d);
	status = rd(d, R_STATUS);
	for (unsigned int i = 0; i < ARRAY_SIZE(odd); i++) {
		uint64_t sz = odd[i];

		EXPECT_EQ(0, h_read(d->hfd, d->zone, d->base + R_MAGIC, sz))
			TH_LOG("MagicValue, size %#llx", (unsigned long long)sz);
		EXPECT_EQ(0, h_read(d->hfd, d->zone, d->base + R_CONFIG, sz))
			TH_LOG("config, size %#llx", (unsigned long long)sz);
		/* A reset or a queue switch, if the size were ignored. */
		h_write(d->hfd, d->zone, d->base + R_STATUS, sz, 0);
		h_write(d->hfd, d->zone, d->base + R_QSEL, sz, 5);
		h_write(d->hfd, d->zone, d->base + R_CONFIG + 32, sz, 0);
	}
	EXPECT_EQ(status, rd(d, R_STATUS));
	EXPECT_EQ(256, rd(d, R_QNUM_MAX));
	EXPECT_EQ(1, h_read(d->hfd, d->zone, d->base + R_CONFIG + 32, 1));
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
}

TEST_F(hz, addresses_outside_every_window)
{
	struct drv *d = &self->blk;
	static const uint64_t addrs[] = {
		MMIO_BLK + MMIO_SIZE, MMIO_BLK + 0xfff, MMIO_BLK - 4, 0,
		0xfffffffffffffff0ULL, 0xffffffffffffffffULL, GPA_A,
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(addrs); i++)
		for (unsigned int s = 0; s < NSIZES; s++) {
			EXPECT_EQ(0, h_read(d->hfd, d->zone, addrs[i], sizes[s]));
			h_write(d->hfd, d->zone, addrs[i], sizes[s], ~0ULL);
		}
	/* Zones that do not exist, including root's. */
	EXPECT_EQ(0, h_read(d->hfd, 0, MMIO_BLK, 4));
	EXPECT_EQ(0, h_read(d->hfd, 0xfffffff0, MMIO_BLK, 4));
	h_write(d->hfd, 0, MMIO_BLK + R_STATUS, 4, 0);
	EXPECT_EQ(0x74726976, rd(d, R_MAGIC));
}

TEST_F(hz, interrupt_ack_garbage)
{
	struct drv *d = &self->blk;

	BLK_UP(d);
	wr(d, R_ACK, 0xffffffff);
	wr(d, R_ACK, 0);
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
	EXPECT_TRUE(wait_isr(d, 1, WAIT_MS));
	wr(d, R_ACK, 1);
	EXPECT_EQ(0, rd(d, R_ISR));
}

/* ---- floods, resets, removal, races -------------------------------------- */

TEST_F(hz, notify_flood)
{
	struct drv *d = &self->blk;
	uint64_t v;

	BLK_UP(d);
	/* Posted notifies with no buffers, of queues real and not. */
	for (unsigned int i = 0; i < 3000; i++) {
		v = i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : 0xffffffff;
		h_access(d->hfd, d->zone, d->base + R_NOTIFY, 4,
			 HOSTILE_WRITE | HOSTILE_POSTED, &v);
	}
	/* As the hypervisor sends them for a shared region: blocking. */
	for (unsigned int i = 0; i < 300; i++)
		wr(d, R_NOTIFY, 0);
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
	EXPECT_HEALTHY(d);
}

TEST_F(hz, posted_writes_to_other_registers)
{
	struct drv *d = &self->blk;
	uint64_t v = 0;

	BLK_UP(d);
	/* A posted write never gets an answer; the device must not need one. */
	h_access(d->hfd, d->zone, d->base + R_QSEL, 4,
		 HOSTILE_WRITE | HOSTILE_POSTED, &v);
	h_access(d->hfd, d->zone, d->base + R_CONFIG + 32, 1,
		 HOSTILE_WRITE | HOSTILE_POSTED, &v);
	h_access(d->hfd, d->zone, d->base + R_NOTIFY, 2,
		 HOSTILE_WRITE | HOSTILE_POSTED, &v);
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
}

/* Many 16 KiB requests in the ring at once. */
static void fill_queue(struct drv *d)
{
	volatile struct vdesc *t = qdesc(d);
	volatile struct blk_hdr *h = (volatile struct blk_hdr *)(d->ram + O_HDR);

	h->type = BLK_T_IN;
	h->sector = 0;
	/* QN / 2 chains of header + 16 KiB + status, sharing buffers. */
	for (unsigned int c = 0; c < QN / 2; c++) {
		set_desc(t, 2 * c, gpa(d, O_HDR), 16, D_NEXT, 2 * c + 1);
		set_desc(t, 2 * c + 1, gpa(d, O_DATA), 16384 + 1, D_WRITE, 0);
		avail(d)[2 + c] = 2 * c;
	}
	__sync_synchronize();
	d->avail_idx = QN / 2;
	avail(d)[1] = d->avail_idx;
	__sync_synchronize();
}

TEST_F(hz, reset_with_io_in_flight)
{
	struct drv *d = &self->blk;

	for (unsigned int round = 0; round < 5; round++) {
		BLK_UP(d);
		fill_queue(d);
		kick(d, 0);
		wr(d, R_STATUS, 0);
		/* The write was answered once the device had stopped. */
		EXPECT_EQ(0, rd(d, R_STATUS));
	}
}

/* A null_blk disk whose every request takes @ms; an open fd, or -1. */
static int slow_disk(unsigned int ms)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "modprobe null_blk nr_devices=0 2>/dev/null; "
		 "d=/sys/kernel/config/nullb/hostile_slow; "
		 "[ -d $d ] || { mkdir $d && echo 16 >$d/size && "
		 "echo 2 >$d/irqmode && echo %u000000 >$d/completion_nsec && "
		 "echo 1 >$d/power; } || exit 1; "
		 /* Named after the directory (6.1 on), or nullb<index>. */
		 "[ -d /sys/block/hostile_slow ] || "
		 "ln -sf /dev/nullb$(cat $d/index) /dev/hostile_slow; "
		 "for i in 1 2 3 4 5 6 7 8 9 10; do "
		 "[ -b /dev/hostile_slow ] && exit 0; sleep 0.2; done; exit 1",
		 ms);
	if (system(cmd))
		return -1;
	return open("/dev/hostile_slow", O_RDWR | O_CLOEXEC);
}

/*
 * The driver frees its buffers as soon as its Status = 0 write returns
 * (Linux 6.1's virtio_mmio reads nothing back): from then on nothing of
 * the device may write into zone RAM.  On a disk whose requests take
 * 200 ms, requests in flight at the reset must not land in the used ring
 * after the write was answered.
 */
TEST_F(hz, reset_answered_once_nothing_writes_zone_ram)
{
	struct drv *d = &self->blk;
	uint16_t idx;
	int fd = slow_disk(200);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, dev_del(self->hvv, self->blk_id));
	self->blk_id = dev_add(self->hvv, HVISOR_VHOST_DEV_BLK, self->zone,
			       MMIO_BLK, IRQ_BLK, fd, false);
	ASSERT_NE(0, self->blk_id);
	BLK_UP(d);
	fill_queue(d);
	kick(d, 0);
	msleep(50);		/* the requests are on the slow disk now */
	wr(d, R_STATUS, 0);
	idx = used(d)[1];
	msleep(500);		/* well past their completion */
	EXPECT_EQ(idx, used(d)[1]);
	EXPECT_EQ(0, rd(d, R_STATUS));
	/* The fixture's disk again, for the teardown's checks. */
	EXPECT_EQ(0, dev_del(self->hvv, self->blk_id));
	self->blk_id = dev_add(self->hvv, HVISOR_VHOST_DEV_BLK, self->zone,
			       MMIO_BLK, IRQ_BLK, self->loop, false);
	EXPECT_NE(0, self->blk_id);
	close(fd);
}

TEST_F(hz, device_and_zone_removal_with_io_in_flight)
{
	struct drv *d = &self->blk;

	BLK_UP(d);
	fill_queue(d);
	kick(d, 0);
	EXPECT_EQ(0, dev_del(self->hvv, self->blk_id));
	self->blk_id = 0;
	/* Its window now answers as an empty address. */
	EXPECT_EQ(0, rd(d, R_MAGIC));
	EXPECT_EQ(EBUSY, zone_del(self->hvv, self->zone));
	/* The zone still has the read-only disk: busy it until it goes too. */
	d = &self->ro;
	BLK_UP(d);
	fill_queue(d);
	kick(d, 0);
	EXPECT_EQ(0, dev_del(self->hvv, self->ro_id));
	self->ro_id = 0;
	EXPECT_EQ(0, zone_del(self->hvv, self->zone));
	self->zone_made = false;
}

TEST_F(hz, no_interrupt_without_used_buffers)
{
	struct drv *d = &self->blk;

	BLK_UP(d);
	/* Notifies of an empty ring: nothing was used, nothing to signal. */
	for (unsigned int i = 0; i < 5; i++) {
		kick(d, 0);
		msleep(10);
	}
	msleep(50);
	EXPECT_EQ(0, rd(d, R_ISR));
	EXPECT_EQ(0, irqs(d->hfd, d->zone, d->irq));
	EXPECT_EQ(0, used(d)[1]);
}

/*
 * The hypervisor drops a push while the zone handles the same interrupt,
 * so an unacknowledged interrupt is pushed again, with a backoff (0.5 ms,
 * doubling): a few pushes, not one per completion, and none once the
 * driver acknowledges.
 */
TEST_F(hz, interrupts_repeated_until_acked)
{
	struct drv *d = &self->blk;
	uint64_t before, after_ack, t0;

	BLK_UP(d);
	/* Once started and acknowledged, count from there. */
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
	EXPECT_TRUE(wait_isr(d, 1, WAIT_MS));
	msleep(20);
	wr(d, R_ACK, 3);
	msleep(20);
	before = irqs(d->hfd, d->zone, d->irq);
	t0 = now_ms();
	for (unsigned int i = 0; i < 6; i++) {
		blk_chain(d, BLK_T_IN, i, 512);
		EXPECT_EQ(BLK_S_OK, blk_submit(d));
	}
	/* The first push, then a repeat while nothing acknowledges. */
	while (irqs(d->hfd, d->zone, d->irq) < before + 2 &&
	       now_ms() - t0 < WAIT_MS)
		msleep(1);
	EXPECT_LE(before + 2, irqs(d->hfd, d->zone, d->irq));
	/*
	 * Repeats 0.5 ms apart, then 1, 2, 4 ... ms: about 9 in 200 ms
	 * (a dozen allows for timer slack), where a fixed 0.5 ms would
	 * make 400.
	 */
	while (now_ms() - t0 < 200)
		msleep(5);
	EXPECT_GE(before + 12, irqs(d->hfd, d->zone, d->irq));
	/* The ack stops them. */
	wr(d, R_ACK, 3);
	after_ack = irqs(d->hfd, d->zone, d->irq);
	msleep(200);
	EXPECT_EQ(after_ack, irqs(d->hfd, d->zone, d->irq));
	/* And the next completion is pushed again. */
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
	EXPECT_TRUE(wait_isr(d, 1, WAIT_MS));
	EXPECT_LE(after_ack + 1, irqs(d->hfd, d->zone, d->irq));
	wr(d, R_ACK, 3);
}

TEST_F(hz, queue_of_one_entry)
{
	struct drv *d = &self->blk;
	volatile struct vdesc *t = qdesc(d);
	volatile struct blk_hdr *h = (volatile struct blk_hdr *)(d->ram + O_HDR);

	d->num = 1;
	BLK_UP(d);
	/* One descriptor: the request must come as an indirect table. */
	h->type = BLK_T_IN;
	h->sector = 5;
	indirect_table(d, 5, 512);
	set_desc(t, 0, gpa(d, O_INDIR), 3 * 16, D_INDIRECT, 0);
	for (unsigned int i = 0; i < 3; i++) {
		d->ram[O_STATUS] = 0xee;
		EXPECT_EQ(BLK_S_OK, blk_submit(d));
	}
	EXPECT_TRUE(data_is_disk(d, 5, 512));
	d->num = QN;
}

TEST_F(hz, rings_overlap)
{
	struct drv *d = &self->blk;

	/* Descriptor table, avail and used ring all at one address. */
	ASSERT_TRUE(drv_negotiate(d, WANT_DEFAULT) & S_FEATURES_OK);
	blk_chain(d, BLK_T_IN, 0, 512);
	q_regs(d, 0, QN, gpa(d, O_DESC), gpa(d, O_DESC), gpa(d, O_DESC));
	driver_ok(d);
	for (unsigned int i = 0; i < 20; i++) {
		kick(d, 0);
		if (rd(d, R_STATUS) & S_NEEDS_RESET)
			break;
	}
	/* Served or refused, both are fine: nothing outside zone RAM moved. */
	msleep(50);
}

struct storm {
	struct drv d;
	volatile bool stop;
	unsigned int n;
};

static void *storm_thread(void *arg)
{
	struct storm *st = arg;
	struct drv *d = &st->d;

	while (!st->stop) {
		switch (st->n++ % 5) {
		case 0:
			wr(d, R_STATUS, 0);
			break;
		case 1:
			h_read(d->hfd, d->zone, d->base + R_CONFIG, 8);
			break;
		case 2:
			wr(d, R_QSEL, st->n);
			break;
		case 3:
			kick(d, 0);
			break;
		default:
			rd(d, R_STATUS);
		}
	}
	return NULL;
}

TEST_F(hz, reset_storm_against_a_working_driver)
{
	struct storm st = { .d = self->blk };
	unsigned int rounds = 0;
	pthread_t th;
	uint64_t end;

	ASSERT_EQ(0, pthread_create(&th, NULL, storm_thread, &st));
	/* Another vCPU keeps resetting while this one drives the device. */
	end = now_ms() + 1500;
	while (now_ms() < end) {
		struct drv *d = &self->blk;

		drv_up(d, WANT_DEFAULT);
		blk_chain(d, BLK_T_IN, 0, 512);
		offer(d, 0);
		kick(d, 0);
		wait_used(d, 1, 20);
		rounds++;
	}
	st.stop = true;
	pthread_join(th, NULL);
	EXPECT_LT(0, rounds);
	EXPECT_LT(0, st.n);
}

TEST_F(hz, removal_during_a_reset_storm)
{
	struct storm st = { .d = self->blk };
	struct drv *d = &self->blk;
	pthread_t th;

	BLK_UP(d);
	fill_queue(d);
	kick(d, 0);
	ASSERT_EQ(0, pthread_create(&th, NULL, storm_thread, &st));
	msleep(200);
	/* Removed while another vCPU resets it and requests are parked. */
	EXPECT_EQ(0, dev_del(self->hvv, self->blk_id));
	self->blk_id = 0;
	msleep(100);
	st.stop = true;
	pthread_join(th, NULL);
	EXPECT_EQ(0, rd(d, R_MAGIC));
	EXPECT_LT(0, st.n);
}

TEST_F(hz, net_reset_storm_with_traffic)
{
	struct storm st;
	struct drv *d = &self->net;
	volatile struct vdesc *t = qdesc(d);
	unsigned int rounds = 0;
	pthread_t th;
	uint64_t end;

	if (!net_add(self))
		SKIP(return, "no tap: %s", strerror(errno));
	ASSERT_TRUE(tap_send_frame(self->tapname));
	memset((void *)(d->ram + O_NHDR), 0, 12 + 60);
	memset((void *)(d->ram + O_NHDR + 12), 0xff, 6);
	set_desc(t, 0, gpa(d, O_NHDR), 12 + 60, 0, 0);
	st = (struct storm){ .d = *d };
	ASSERT_EQ(0, pthread_create(&th, NULL, storm_thread, &st));
	end = now_ms() + 1500;
	while (now_ms() < end) {
		drv_up(d, 1ULL << F_VERSION_1);
		for (unsigned int i = 0; i < 4; i++)
			offer(d, 0);
		kick(d, d->q);
		wait_used(d, 4, 20);
		rounds++;
	}
	st.stop = true;
	pthread_join(th, NULL);
	EXPECT_LT(0, rounds);
	/* Frames still go out after a clean start. */
	EXPECT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(d, 1ULL << F_VERSION_1));
	offer(d, 0);
	kick(d, d->q);
	EXPECT_TRUE(wait_used(d, 1, WAIT_MS));
	EXPECT_HEALTHY(d);
}

struct rewriter {
	struct drv *d;
	volatile bool stop;
	unsigned int seed;
};

static void *rewrite(void *arg)
{
	struct rewriter *r = arg;
	struct drv *d = r->d;

	while (!r->stop) {
		unsigned int x = rand_r(&r->seed);

		/* Ring entries and descriptors change under the device. */
		avail(d)[2 + x % QN] = x >> 8;
		qdesc(d)[(x >> 4) % QN].next = x >> 12;
		qdesc(d)[(x >> 7) % QN].flags = (x >> 16) & 7;
		if (!(x & 0xff))
			avail(d)[1] += (x >> 8) & 3;
	}
	return NULL;
}

TEST_F(hz, avail_ring_rewritten_while_read)
{
	struct drv *d = &self->blk;
	struct rewriter r = { .d = d, .seed = 42 };
	pthread_t th;
	uint64_t end;

	BLK_UP(d);
	fill_queue(d);
	ASSERT_EQ(0, pthread_create(&th, NULL, rewrite, &r));
	end = now_ms() + 1500;
	while (now_ms() < end && !(rd(d, R_STATUS) & S_NEEDS_RESET))
		kick(d, 0);
	r.stop = true;
	pthread_join(th, NULL);
	/* Either answer is fine: requests served, or NEEDS_RESET. */
	drv_reset(d);
	EXPECT_EQ(0, rd(d, R_STATUS));
}

TEST_F(hz, other_zone_cannot_reach_the_device)
{
	struct drv *d = &self->blk;
	struct drv other = self->w;

	BLK_UP(d);
	/* The witness zone resets "its" device at the same address. */
	wr(&other, R_STATUS, 0);
	EXPECT_EQ(0, rd(&other, R_STATUS));
	EXPECT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  rd(d, R_STATUS));
	/* And up again, for the teardown's witness read. */
	EXPECT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
		  drv_up(&self->w, 1ULL << F_VERSION_1));
	blk_chain(d, BLK_T_IN, 0, 512);
	EXPECT_EQ(BLK_S_OK, blk_submit(d));
}

/* ---- the end: the test module goes away cleanly ------------------------ */

/* A fixture of its own, declared last, so that this case runs last. */
FIXTURE(zz_end) {
	int unused;
};

FIXTURE_SETUP(zz_end)
{
}

FIXTURE_TEARDOWN(zz_end)
{
}

/* Remove whatever a case that died left in the suite's zones. */
static int cleanup_zones(void)
{
	struct hvisor_vhost_dev d;
	uint32_t id = 0;
	int fd = hvv_open(), n = 0;

	if (fd < 0)
		return 0;
	for (;;) {
		memset(&d, 0, sizeof(d));
		d.dev_id = id;
		if (xioctl(fd, HVISOR_VHOST_IOC_DEV_NEXT, &d))
			break;
		if (d.zone_id >= ZONE_FIRST && d.zone_id < ZONE_FIRST + ZONE_SPAN &&
		    !dev_del(fd, d.dev_id))
			n++;
		if (d.dev_id == UINT32_MAX)
			break;
		id = d.dev_id + 1;
	}
	for (id = ZONE_FIRST; id < ZONE_FIRST + ZONE_SPAN; id++)
		if (!zone_del(fd, id))
			n++;
	close(fd);
	return n;
}

TEST_F(zz_end, loopback_module_unloads)
{
	int refs = -1;
	FILE *f;

	/* The buffers go with the module: no zone may map them then. */
	ASSERT_EQ(0, cleanup_zones()) TH_LOG("zones or devices were left behind");

	if (access(LOADED_FILE, F_OK))
		SKIP(return, "the loopback module was loaded before this program");
	unlink(LOADED_FILE);
	unlink(SEQ_FILE);
	/* Frees every hostile RAM buffer: no zone may map them any more. */
	EXPECT_EQ(0, system("rmmod hvisor_vhost_loopback"));
	/* Nothing of the suite holds the backend module any more. */
	f = fopen("/sys/module/hvisor_vhost/refcnt", "r");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(1, fscanf(f, "%d", &refs));
	fclose(f);
	EXPECT_EQ(0, refs);
}

TEST_HARNESS_MAIN

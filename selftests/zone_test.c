// SPDX-License-Identifier: GPL-2.0
/*
 * Zones and devices through the ioctls of /dev/hvisor_vhost: round trips,
 * iteration, and every error the uapi header documents (EEXIST, EINVAL,
 * ENOSPC, ENOENT, EBUSY, EBADF, ENOTBLK), with nothing left half-created.
 *
 * Zone RAM is taken inside root's System RAM (as the loopback zone does)
 * so that every region maps. Block devices are loop devices over files in
 * /tmp. The tests use zone ids 200..299 only and remove whatever they
 * created there, whatever the outcome.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/hvisor_vhost.h>
#include <linux/loop.h>

/*
 * The harness is not -Wextra clean: its wrappers have unused parameters
 * and its EXPECT macros compare int literals with unsigned values.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "loop_lib.h"
#include "kselftest_harness.h"

#define ZONE_FIRST	200
#define ZONE_LAST	299
#define MIB		(1024ULL * 1024)
#define GPA_BASE	0x40000000ULL
#define MMIO_BASE	0x0a000000ULL
#define LOOP_SIZE	(1 * MIB)
#define MAX_LOOPS	4

/* ---- helpers ---------------------------------------------------------- */

static int hvv_open(void)
{
	return open(HVISOR_VHOST_DEVICE_PATH, O_RDWR | O_CLOEXEC);
}

/* ioctl() returning 0 or the errno. */
static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? errno : 0;
}

/*
 * The largest top-level System RAM range of root, page aligned: the host
 * side of the regions the tests create.
 */
static int find_ram(__u64 *base, __u64 *size)
{
	unsigned long long s, e, cur_s = 0, cur_e = 0, best_s = 0, best_len = 0;
	unsigned long long mask = ~(unsigned long long)(sysconf(_SC_PAGESIZE) - 1);
	bool have = false, eof;
	char line[256];
	FILE *f;
	int n;

	f = fopen("/proc/iomem", "re");
	if (!f)
		return -1;
	do {
		eof = !fgets(line, sizeof(line), f);
		if (!eof) {
			n = 0;
			if (line[0] == ' ')
				continue;
			if (sscanf(line, "%llx-%llx : %n", &s, &e, &n) != 2 ||
			    !n || strncmp(line + n, "System RAM", 10))
				continue;
			/* Adjacent ranges are one. */
			if (have && s == cur_e + 1) {
				cur_e = e;
				continue;
			}
		}
		if (have) {
			unsigned long long b = (cur_s + ~mask) & mask;
			unsigned long long x = (cur_e + 1) & mask;

			if (x > b && x - b > best_len) {
				best_s = b;
				best_len = x - b;
			}
		}
		cur_s = s;
		cur_e = e;
		have = true;
	} while (!eof);
	fclose(f);
	if (best_len < 16 * MIB)
		return -1;
	*base = best_s;
	*size = best_len;
	return 0;
}

static void region(struct hvisor_vhost_region *r, __u64 gpa, __u64 hpa,
		   __u64 size)
{
	memset(r, 0, sizeof(*r));
	r->guest_phys = gpa;
	r->host_phys = hpa;
	r->size = size;
}

/* A zone with one 1 MiB region at GPA_BASE, host side at @hpa. */
static void zone1(struct hvisor_vhost_zone *z, __u32 id, __u64 hpa)
{
	memset(z, 0, sizeof(*z));
	z->zone_id = id;
	z->nr_regions = 1;
	region(&z->regions[0], GPA_BASE, hpa, MIB);
}

static int zone_add(int fd, const struct hvisor_vhost_zone *z)
{
	struct hvisor_vhost_zone copy = *z;

	return xioctl(fd, HVISOR_VHOST_IOC_ZONE_ADD, &copy);
}

static int zone_del(int fd, __u32 id)
{
	struct hvisor_vhost_id zid;

	memset(&zid, 0, sizeof(zid));
	zid.id = id;
	return xioctl(fd, HVISOR_VHOST_IOC_ZONE_DEL, &zid);
}

/* ZONE_NEXT from @id; returns 0 or the errno. */
static int zone_next(int fd, __u32 id, struct hvisor_vhost_zone *out)
{
	memset(out, 0, sizeof(*out));
	out->zone_id = id;
	return xioctl(fd, HVISOR_VHOST_IOC_ZONE_NEXT, out);
}

/* Does zone @id exist? */
static bool zone_exists(int fd, __u32 id)
{
	struct hvisor_vhost_zone z;

	return !zone_next(fd, id, &z) && z.zone_id == id;
}

static int dev_del(int fd, __u32 id)
{
	struct hvisor_vhost_id did;

	memset(&did, 0, sizeof(did));
	did.id = id;
	return xioctl(fd, HVISOR_VHOST_IOC_DEV_DEL, &did);
}

static int dev_next(int fd, __u32 id, struct hvisor_vhost_dev *out)
{
	memset(out, 0, sizeof(*out));
	out->dev_id = id;
	return xioctl(fd, HVISOR_VHOST_IOC_DEV_NEXT, out);
}

/* Number of devices in the test's zone range. */
static int nr_test_devices(int fd)
{
	struct hvisor_vhost_dev d;
	__u32 id = 0;
	int n = 0;

	while (!dev_next(fd, id, &d)) {
		if (d.zone_id >= ZONE_FIRST && d.zone_id <= ZONE_LAST)
			n++;
		if (d.dev_id == 0xffffffff || d.dev_id < id)
			break;
		id = d.dev_id + 1;
	}
	return n;
}

/* Remove every device of the zones in the test range. */
static void cleanup_devices(int fd)
{
	struct hvisor_vhost_dev d;
	__u32 id = 0;

	while (!dev_next(fd, id, &d)) {
		if (d.zone_id >= ZONE_FIRST && d.zone_id <= ZONE_LAST)
			dev_del(fd, d.dev_id);
		if (d.dev_id == 0xffffffff || d.dev_id < id)
			break;
		id = d.dev_id + 1;
	}
}

/* Remove every device and zone in the test range. */
static void cleanup_range(int fd)
{
	struct hvisor_vhost_zone z;
	__u32 id;

	cleanup_devices(fd);
	id = ZONE_FIRST;
	while (!zone_next(fd, id, &z) && z.zone_id <= ZONE_LAST &&
	       z.zone_id >= id) {
		zone_del(fd, z.zone_id);
		id = z.zone_id + 1;
	}
}

static int is_zero(const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len--)
		if (*b++)
			return 0;
	return 1;
}

/* Is @r among the first @n regions of @z? */
static bool has_region(const struct hvisor_vhost_zone *z,
		       const struct hvisor_vhost_region *r)
{
	unsigned int i;

	for (i = 0; i < z->nr_regions && i < HVISOR_VHOST_MAX_REGIONS; i++)
		if (z->regions[i].guest_phys == r->guest_phys &&
		    z->regions[i].host_phys == r->host_phys &&
		    z->regions[i].size == r->size)
			return true;
	return false;
}

/*
 * A loop device over a fresh 1 MiB file in /tmp, detached automatically
 * when its last user (us, then the module) lets go. Returns the path in
 * @path and an fd opened with @flags, or -1.
 */
static int loop_create(char *path, size_t len, int flags)
{
	char file[64];
	int ffd, lfd = -1;

	snprintf(file, sizeof(file), "/tmp/zone_test.%d.XXXXXX", getpid());
	ffd = mkstemp(file);
	if (ffd < 0)
		return -1;
	unlink(file);
	if (!ftruncate(ffd, LOOP_SIZE))
		lfd = loop_attach(ffd, false, flags, path, len);
	close(ffd);
	return lfd;
}

/* ---- zones ------------------------------------------------------------ */

FIXTURE(zone) {
	int fd;
	__u64 ram;	/* host base of the test regions, in System RAM */
	__u64 ram_size;
	struct hvisor_vhost_version ver;
};

FIXTURE_SETUP(zone)
{
	self->fd = hvv_open();
	ASSERT_LE(0, self->fd) {
		TH_LOG("open %s: %s", HVISOR_VHOST_DEVICE_PATH,
		       strerror(errno));
	}
	ASSERT_EQ(0, xioctl(self->fd, HVISOR_VHOST_IOC_VERSION, &self->ver));
	ASSERT_EQ(0, find_ram(&self->ram, &self->ram_size)) {
		TH_LOG("no System RAM range of 16 MiB in /proc/iomem");
	}
	cleanup_range(self->fd);
}

FIXTURE_TEARDOWN(zone)
{
	cleanup_range(self->fd);
	close(self->fd);
}

TEST_F(zone, add_next_del_round_trip)
{
	struct hvisor_vhost_zone z, out;
	unsigned int i;

	memset(&z, 0, sizeof(z));
	z.zone_id = 201;
	z.nr_regions = 2;
	region(&z.regions[0], GPA_BASE, self->ram, MIB);
	region(&z.regions[1], GPA_BASE + 16 * MIB, self->ram + 4 * MIB,
	       2 * MIB);
	ASSERT_EQ(0, zone_add(self->fd, &z));

	ASSERT_EQ(0, zone_next(self->fd, ZONE_FIRST, &out));
	EXPECT_EQ(201, out.zone_id);
	ASSERT_EQ(2, out.nr_regions);
	EXPECT_TRUE(has_region(&out, &z.regions[0]));
	EXPECT_TRUE(has_region(&out, &z.regions[1]));
	EXPECT_TRUE(is_zero(out.reserved, sizeof(out.reserved)));
	EXPECT_EQ(0, out.flags);	/* not from the device tree */
	EXPECT_EQ(0, out.reserved0);
	for (i = 0; i < HVISOR_VHOST_MAX_REGIONS; i++)
		EXPECT_EQ(0, out.regions[i].reserved);
	for (i = out.nr_regions; i < HVISOR_VHOST_MAX_REGIONS; i++)
		EXPECT_TRUE(is_zero(&out.regions[i], sizeof(out.regions[i])));
	/* Asking for exactly its id finds it too. */
	ASSERT_EQ(0, zone_next(self->fd, 201, &out));
	EXPECT_EQ(201, out.zone_id);
	EXPECT_EQ(ENOENT, zone_next(self->fd, 202, &out));

	EXPECT_EQ(0, zone_del(self->fd, 201));
	EXPECT_EQ(ENOENT, zone_next(self->fd, ZONE_FIRST, &out));
	EXPECT_EQ(ENOENT, zone_del(self->fd, 201));
	/* The id is free again. */
	EXPECT_EQ(0, zone_add(self->fd, &z));
	EXPECT_EQ(0, zone_del(self->fd, 201));
}

TEST_F(zone, iteration_in_id_order)
{
	static const __u32 ids[] = { 207, 203, 205, 299 };
	static const __u32 sorted[] = { 203, 205, 207, 299 };
	struct hvisor_vhost_zone z, out;
	unsigned int i;
	__u32 next;

	for (i = 0; i < 4; i++) {
		zone1(&z, ids[i], self->ram + i * MIB);
		ASSERT_EQ(0, zone_add(self->fd, &z));
	}
	next = ZONE_FIRST;
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, zone_next(self->fd, next, &out));
		EXPECT_EQ(sorted[i], out.zone_id);
		EXPECT_EQ(1, out.nr_regions);
		next = out.zone_id + 1;
	}
	EXPECT_EQ(ENOENT, zone_next(self->fd, next, &out));
	ASSERT_EQ(0, zone_next(self->fd, 204, &out));
	EXPECT_EQ(205, out.zone_id);
	EXPECT_EQ(self->ram + 2 * MIB, out.regions[0].host_phys);
}

TEST_F(zone, duplicate_id_eexist)
{
	struct hvisor_vhost_zone z, out;

	zone1(&z, 210, self->ram);
	ASSERT_EQ(0, zone_add(self->fd, &z));
	zone1(&z, 210, self->ram + 8 * MIB);
	EXPECT_EQ(EEXIST, zone_add(self->fd, &z));
	/* The first zone is untouched. */
	ASSERT_EQ(0, zone_next(self->fd, 210, &out));
	EXPECT_EQ(210, out.zone_id);
	EXPECT_EQ(self->ram, out.regions[0].host_phys);
}

TEST_F(zone, overlap_guest_einval)
{
	struct hvisor_vhost_zone z;

	memset(&z, 0, sizeof(z));
	z.zone_id = 211;
	z.nr_regions = 2;
	region(&z.regions[0], GPA_BASE, self->ram, 2 * MIB);
	region(&z.regions[1], GPA_BASE + MIB, self->ram + 4 * MIB, MIB);
	EXPECT_EQ(EINVAL, zone_add(self->fd, &z));
	EXPECT_FALSE(zone_exists(self->fd, 211));
	/* Same base, one inside the other in the other order. */
	region(&z.regions[0], GPA_BASE + MIB, self->ram, MIB);
	region(&z.regions[1], GPA_BASE, self->ram + 4 * MIB, 4 * MIB);
	EXPECT_EQ(EINVAL, zone_add(self->fd, &z));
	EXPECT_FALSE(zone_exists(self->fd, 211));
}

TEST_F(zone, overlap_host_einval)
{
	struct hvisor_vhost_zone z;

	memset(&z, 0, sizeof(z));
	z.zone_id = 212;
	z.nr_regions = 2;
	region(&z.regions[0], GPA_BASE, self->ram, 2 * MIB);
	region(&z.regions[1], GPA_BASE + 8 * MIB, self->ram + MIB, MIB);
	EXPECT_EQ(EINVAL, zone_add(self->fd, &z));
	EXPECT_FALSE(zone_exists(self->fd, 212));
	/* Adjacent is fine. */
	region(&z.regions[1], GPA_BASE + 8 * MIB, self->ram + 2 * MIB, MIB);
	EXPECT_EQ(0, zone_add(self->fd, &z));
	EXPECT_TRUE(zone_exists(self->fd, 212));
}

TEST_F(zone, bad_description_einval)
{
	long page = sysconf(_SC_PAGESIZE);
	struct hvisor_vhost_zone z;
	unsigned int i;

	for (i = 0; i < 15; i++) {
		zone1(&z, 213, self->ram);
		switch (i) {
		case 0:
			z.nr_regions = 0;
			break;
		case 1:
			z.nr_regions = HVISOR_VHOST_MAX_REGIONS + 1;
			break;
		case 2:
			z.regions[0].size = 0;
			break;
		case 3:
			z.regions[0].guest_phys += page / 2;
			break;
		case 4:
			z.regions[0].host_phys += page / 2;
			break;
		case 5:
			z.regions[0].size += page / 2;
			break;
		case 6:	/* guest end wraps */
			z.regions[0].guest_phys = -(__u64)page;
			z.regions[0].size = 2 * page;
			break;
		case 7:	/* host end wraps */
			z.regions[0].host_phys = -(__u64)page;
			z.regions[0].size = 2 * page;
			break;
		case 8:
			z.regions[0].reserved = 1;
			break;
		case 9:
			z.reserved[1] = 1;
			break;
		case 13:	/* only the device tree makes DT zones */
			z.flags = HVISOR_VHOST_ZONE_F_DT;
			break;
		case 14:
			z.reserved0 = 1;
			break;
		case 10:	/* a stale entry past nr_regions */
			region(&z.regions[1], GPA_BASE + 8 * MIB,
			       self->ram + 8 * MIB, MIB);
			break;
		case 11:
			z.zone_id = 0;
			break;
		case 12:	/* size that wraps only in the end address */
			z.regions[0].size = -(__u64)page;
			break;
		}
		EXPECT_EQ(EINVAL, zone_add(self->fd, &z)) {
			TH_LOG("case %u accepted", i);
		}
		EXPECT_FALSE(zone_exists(self->fd, 213)) {
			TH_LOG("case %u left zone 213 behind", i);
		}
		zone_del(self->fd, 213);
	}
}

/*
 * A host range that is partly root's RAM and partly not cannot be a
 * zone's RAM (and cannot be mapped with one attribute): refused whether
 * the rest is another resource or no resource at all.
 */
TEST_F(zone, host_range_partly_ram_einval)
{
	long page = sysconf(_SC_PAGESIZE);
	struct hvisor_vhost_zone z;

	ASSERT_LT(page, self->ram) {
		TH_LOG("System RAM starts at 0x%llx", self->ram);
	}
	/* The last page before the RAM range and its first page. */
	zone1(&z, 214, self->ram - page);
	z.regions[0].size = 2 * page;
	EXPECT_EQ(EINVAL, zone_add(self->fd, &z)) {
		TH_LOG("0x%llx-0x%llx accepted", self->ram - page,
		       self->ram + page - 1);
	}
	EXPECT_FALSE(zone_exists(self->fd, 214));
	zone_del(self->fd, 214);
	/* Its last page and the first page after it. */
	zone1(&z, 214, self->ram + self->ram_size - page);
	z.regions[0].size = 2 * page;
	EXPECT_EQ(EINVAL, zone_add(self->fd, &z)) {
		TH_LOG("0x%llx-0x%llx accepted",
		       self->ram + self->ram_size - page,
		       self->ram + self->ram_size + page - 1);
	}
	EXPECT_FALSE(zone_exists(self->fd, 214));
}

/*
 * A host range that is none of root's RAM (no System RAM resource, no
 * struct pages: the range the rig keeps from root at boot, HVV_ZONE_RAM)
 * is what zone RAM is on a board: accepted whole.  With root's last page
 * before it, it is partly RAM again: refused.
 */
TEST_F(zone, host_range_not_ram_accepted)
{
	long page = sysconf(_SC_PAGESIZE);
	const char *env = getenv("HVV_ZONE_RAM");
	unsigned long long hpa, size;
	struct hvisor_vhost_zone z;

	if (!env || sscanf(env, "%llx %llx", &hpa, &size) != 2)
		SKIP(return, "no zone RAM range kept at boot (HVV_ZONE_RAM)");
	zone1(&z, 215, hpa);
	z.regions[0].size = size;
	EXPECT_EQ(0, zone_add(self->fd, &z)) {
		TH_LOG("0x%llx+0x%llx refused", hpa, size);
	}
	EXPECT_TRUE(zone_exists(self->fd, 215));
	EXPECT_EQ(0, zone_del(self->fd, 215));

	zone1(&z, 215, hpa - page);
	z.regions[0].size = 2 * page;
	EXPECT_EQ(EINVAL, zone_add(self->fd, &z)) {
		TH_LOG("0x%llx-0x%llx accepted", hpa - page, hpa + page - 1);
	}
	EXPECT_FALSE(zone_exists(self->fd, 215));
}

TEST_F(zone, del_unknown_enoent)
{
	struct hvisor_vhost_id zid;

	EXPECT_EQ(ENOENT, zone_del(self->fd, 298));
	EXPECT_EQ(ENOENT, zone_del(self->fd, 0xffffffff));
	/* Reserved fields of the id must be zero. */
	memset(&zid, 0, sizeof(zid));
	zid.id = 298;
	zid.reserved0 = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, HVISOR_VHOST_IOC_ZONE_DEL, &zid));
}

TEST_F(zone, full_enospc)
{
	struct hvisor_vhost_zone z, out;
	__u32 n = self->ver.max_zones, i, existing = 0, id;

	ASSERT_LE(1, n);
	if (n > ZONE_LAST - ZONE_FIRST)
		SKIP(return, "max_zones %u is more than the test range", n);
	/* Zones outside our range count against the limit too. */
	for (id = 0; !zone_next(self->fd, id, &out); id = out.zone_id + 1) {
		existing++;
		if (out.zone_id == 0xffffffff)
			break;
	}
	for (i = 0; i + existing < n; i++) {
		zone1(&z, ZONE_FIRST + i, self->ram);
		ASSERT_EQ(0, zone_add(self->fd, &z)) {
			TH_LOG("zone %u of %u", i + existing + 1, n);
		}
	}
	zone1(&z, ZONE_FIRST + i, self->ram);
	EXPECT_EQ(ENOSPC, zone_add(self->fd, &z));
	EXPECT_FALSE(zone_exists(self->fd, ZONE_FIRST + i));
	/* Room again after one is removed. */
	ASSERT_EQ(0, zone_del(self->fd, ZONE_FIRST));
	EXPECT_EQ(0, zone_add(self->fd, &z));
}

TEST_F(zone, del_with_device_ebusy)
{
	struct hvisor_vhost_zone z, out;
	struct hvisor_vhost_dev d;
	char path[32];
	int bfd;

	zone1(&z, 220, self->ram);
	ASSERT_EQ(0, zone_add(self->fd, &z));
	bfd = loop_create(path, sizeof(path), O_RDWR);
	ASSERT_LE(0, bfd) {
		TH_LOG("loop device: %s", strerror(errno));
	}
	memset(&d, 0, sizeof(d));
	d.type = HVISOR_VHOST_DEV_BLK;
	d.zone_id = 220;
	d.irq = 40;
	d.mmio_base = MMIO_BASE;
	d.mmio_size = 0x200;
	d.backend_fd = bfd;
	ASSERT_EQ(0, xioctl(self->fd, HVISOR_VHOST_IOC_DEV_ADD, &d));
	close(bfd);

	EXPECT_EQ(EBUSY, zone_del(self->fd, 220));
	ASSERT_EQ(0, zone_next(self->fd, 220, &out));
	EXPECT_EQ(220, out.zone_id);

	EXPECT_EQ(0, dev_del(self->fd, d.dev_id));
	EXPECT_EQ(0, zone_del(self->fd, 220));
	EXPECT_FALSE(zone_exists(self->fd, 220));
}

/* ---- devices ---------------------------------------------------------- */

FIXTURE(dev) {
	int fd;
	__u64 ram;
	__u64 ram_size;
	int loop[MAX_LOOPS];
	char loop_path[MAX_LOOPS][32];
};

FIXTURE_SETUP(dev)
{
	struct hvisor_vhost_zone z;
	unsigned int i;

	for (i = 0; i < MAX_LOOPS; i++)
		self->loop[i] = -1;
	self->fd = hvv_open();
	ASSERT_LE(0, self->fd) {
		TH_LOG("open %s: %s", HVISOR_VHOST_DEVICE_PATH,
		       strerror(errno));
	}
	ASSERT_EQ(0, find_ram(&self->ram, &self->ram_size));
	cleanup_range(self->fd);
	zone1(&z, 230, self->ram);
	ASSERT_EQ(0, zone_add(self->fd, &z));
	zone1(&z, 231, self->ram + 2 * MIB);
	ASSERT_EQ(0, zone_add(self->fd, &z));
	for (i = 0; i < MAX_LOOPS; i++) {
		self->loop[i] = loop_create(self->loop_path[i],
					    sizeof(self->loop_path[i]),
					    i == MAX_LOOPS - 1 ?
					    O_RDONLY : O_RDWR);
		ASSERT_LE(0, self->loop[i]) {
			TH_LOG("loop device %u: %s", i, strerror(errno));
		}
	}
}

FIXTURE_TEARDOWN(dev)
{
	unsigned int i;

	cleanup_range(self->fd);
	for (i = 0; i < MAX_LOOPS; i++)
		if (self->loop[i] >= 0)
			close(self->loop[i]);
	close(self->fd);
}

static void blk(struct hvisor_vhost_dev *d, __u32 zone, __u64 mmio,
		__u32 irq, int bfd)
{
	memset(d, 0, sizeof(*d));
	d->type = HVISOR_VHOST_DEV_BLK;
	d->zone_id = zone;
	d->irq = irq;
	d->mmio_base = mmio;
	d->mmio_size = 0x200;
	d->backend_fd = bfd;
}

static int dev_add(int fd, struct hvisor_vhost_dev *d)
{
	return xioctl(fd, HVISOR_VHOST_IOC_DEV_ADD, d);
}

TEST_F(dev, add_next_del_round_trip)
{
	static const char serial[HVISOR_VHOST_BLK_SERIAL_LEN] =
		"0123456789abcdefghij";	/* all 20 bytes, no NUL */
	struct hvisor_vhost_dev d, out;

	blk(&d, 230, MMIO_BASE, 40, self->loop[0]);
	d.mmio_size = 0x1000;
	memcpy(d.blk.serial, serial, sizeof(serial));
	ASSERT_EQ(0, dev_add(self->fd, &d));
	EXPECT_LE(1, d.dev_id);
	EXPECT_EQ(LOOP_SIZE / 512, d.blk.capacity);

	ASSERT_EQ(0, dev_next(self->fd, d.dev_id, &out));
	EXPECT_EQ(d.dev_id, out.dev_id);
	EXPECT_EQ(HVISOR_VHOST_DEV_BLK, out.type);
	EXPECT_EQ(230, out.zone_id);
	EXPECT_EQ(40, out.irq);
	EXPECT_EQ(MMIO_BASE, out.mmio_base);
	EXPECT_EQ(0x1000, out.mmio_size);
	EXPECT_EQ(LOOP_SIZE / 512, out.blk.capacity);
	EXPECT_EQ(0, out.blk.flags & HVISOR_VHOST_BLK_F_RO);
	EXPECT_EQ(0, memcmp(out.blk.serial, serial, sizeof(serial)));
	EXPECT_LE(1, out.num_queues);
	EXPECT_EQ(0, out.flags);
	EXPECT_TRUE(is_zero(out.reserved, sizeof(out.reserved)));
	EXPECT_EQ(1, nr_test_devices(self->fd));

	EXPECT_EQ(0, dev_del(self->fd, d.dev_id));
	EXPECT_EQ(0, nr_test_devices(self->fd));
	EXPECT_EQ(ENOENT, dev_del(self->fd, d.dev_id));
	/* The backing device was released: it can be added again. */
	blk(&d, 230, MMIO_BASE, 40, self->loop[0]);
	EXPECT_EQ(0, dev_add(self->fd, &d));
}

TEST_F(dev, read_only)
{
	struct hvisor_vhost_dev d, out;

	blk(&d, 230, MMIO_BASE, 40, self->loop[MAX_LOOPS - 1]);
	d.blk.flags = HVISOR_VHOST_BLK_F_RO;
	ASSERT_EQ(0, dev_add(self->fd, &d));
	ASSERT_EQ(0, dev_next(self->fd, d.dev_id, &out));
	EXPECT_EQ(HVISOR_VHOST_BLK_F_RO, out.blk.flags & HVISOR_VHOST_BLK_F_RO);
}

TEST_F(dev, unknown_zone_enoent)
{
	struct hvisor_vhost_dev d;

	blk(&d, 239, MMIO_BASE, 40, self->loop[0]);
	EXPECT_EQ(ENOENT, dev_add(self->fd, &d));
	EXPECT_EQ(0, nr_test_devices(self->fd));
}

TEST_F(dev, mmio_overlap_eexist)
{
	struct hvisor_vhost_dev a, b;

	blk(&a, 230, MMIO_BASE, 40, self->loop[0]);
	a.mmio_size = 0x1000;
	ASSERT_EQ(0, dev_add(self->fd, &a));
	blk(&b, 230, MMIO_BASE + 0x800, 41, self->loop[1]);
	EXPECT_EQ(EEXIST, dev_add(self->fd, &b));
	blk(&b, 230, MMIO_BASE - 0x200, 41, self->loop[1]);
	b.mmio_size = 0x400;
	EXPECT_EQ(EEXIST, dev_add(self->fd, &b));
	EXPECT_EQ(1, nr_test_devices(self->fd));
	/* Right after it is fine; so is the same window in another zone. */
	blk(&b, 230, MMIO_BASE + 0x1000, 41, self->loop[1]);
	EXPECT_EQ(0, dev_add(self->fd, &b));
	blk(&b, 231, MMIO_BASE, 40, self->loop[2]);
	EXPECT_EQ(0, dev_add(self->fd, &b));
	EXPECT_EQ(3, nr_test_devices(self->fd));
}

TEST_F(dev, irq_used_eexist)
{
	struct hvisor_vhost_dev a, b;

	blk(&a, 230, MMIO_BASE, 40, self->loop[0]);
	ASSERT_EQ(0, dev_add(self->fd, &a));
	blk(&b, 230, MMIO_BASE + 0x1000, 40, self->loop[1]);
	EXPECT_EQ(EEXIST, dev_add(self->fd, &b));
	EXPECT_EQ(1, nr_test_devices(self->fd));
}

TEST_F(dev, bad_fd_ebadf)
{
	struct hvisor_vhost_dev d;
	int closed = dup(0);

	ASSERT_LE(0, closed);
	close(closed);
	blk(&d, 230, MMIO_BASE, 40, -1);
	EXPECT_EQ(EBADF, dev_add(self->fd, &d));
	blk(&d, 230, MMIO_BASE, 40, closed);
	EXPECT_EQ(EBADF, dev_add(self->fd, &d));
	EXPECT_EQ(0, nr_test_devices(self->fd));
}

TEST_F(dev, not_block_enotblk)
{
	struct hvisor_vhost_dev d;
	char file[] = "/tmp/zone_test.file.XXXXXX";
	int ffd, nfd;

	ffd = mkstemp(file);
	ASSERT_LE(0, ffd);
	unlink(file);
	ASSERT_EQ(0, ftruncate(ffd, LOOP_SIZE));
	blk(&d, 230, MMIO_BASE, 40, ffd);
	EXPECT_EQ(ENOTBLK, dev_add(self->fd, &d));
	close(ffd);
	nfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nfd);
	blk(&d, 230, MMIO_BASE, 40, nfd);
	EXPECT_EQ(ENOTBLK, dev_add(self->fd, &d));
	close(nfd);
	EXPECT_EQ(0, nr_test_devices(self->fd));
}

TEST_F(dev, claimed_ebusy)
{
	struct hvisor_vhost_dev a, b;
	int again;

	blk(&a, 230, MMIO_BASE, 40, self->loop[0]);
	ASSERT_EQ(0, dev_add(self->fd, &a));
	/* The same block device through another descriptor. */
	again = open(self->loop_path[0], O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, again);
	blk(&b, 231, MMIO_BASE, 41, again);
	EXPECT_EQ(EBUSY, dev_add(self->fd, &b));
	close(again);
	EXPECT_EQ(1, nr_test_devices(self->fd));
	/* Held exclusively by the module: an O_EXCL open fails too. */
	again = open(self->loop_path[0], O_RDWR | O_EXCL | O_CLOEXEC);
	EXPECT_EQ(-1, again);
	EXPECT_EQ(EBUSY, errno);
	if (again >= 0)
		close(again);
}

TEST_F(dev, bad_parameters_einval)
{
	struct hvisor_vhost_dev d;
	unsigned int i;

	for (i = 0; i < 8; i++) {
		blk(&d, 230, MMIO_BASE, 40, self->loop[0]);
		switch (i) {
		case 0:
			d.mmio_size = 0x100;
			break;
		case 1:
			d.mmio_size = 0;
			break;
		case 2:	/* window wraps */
			d.mmio_base = 0xfffffffffffff000ULL;
			d.mmio_size = 0x2000;
			break;
		case 3:
			d.type = 99;
			break;
		case 4:
			d.type = 0;
			break;
		case 5:	/* only the device tree makes DT devices */
			d.flags = HVISOR_VHOST_DEV_F_DT;
			break;
		case 6:
			d.reserved[3] = 1;
			break;
		case 7:	/* registers inside the zone's RAM */
			d.mmio_base = GPA_BASE + 0x1000;
			break;
		}
		EXPECT_EQ(EINVAL, dev_add(self->fd, &d)) {
			TH_LOG("case %u accepted", i);
		}
		EXPECT_EQ(0, nr_test_devices(self->fd)) {
			TH_LOG("case %u left a device", i);
		}
		cleanup_devices(self->fd);
	}
}

TEST_F(dev, del_unknown_enoent)
{
	struct hvisor_vhost_id id;

	EXPECT_EQ(ENOENT, dev_del(self->fd, 0xfffffff0));
	memset(&id, 0, sizeof(id));
	id.id = 1;
	id.reserved[0] = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, HVISOR_VHOST_IOC_DEV_DEL, &id));
}

TEST_F(dev, next_iterates_in_order)
{
	struct hvisor_vhost_dev d, out;
	__u32 ids[3], next = 0;
	unsigned int i, seen = 0;

	for (i = 0; i < 3; i++) {
		blk(&d, 230, MMIO_BASE + i * 0x1000, 40 + i, self->loop[i]);
		ASSERT_EQ(0, dev_add(self->fd, &d));
		ids[i] = d.dev_id;
	}
	EXPECT_NE(ids[0], ids[1]);
	EXPECT_NE(ids[1], ids[2]);
	EXPECT_NE(ids[0], ids[2]);
	while (!dev_next(self->fd, next, &out)) {
		ASSERT_LE(next, out.dev_id);
		for (i = 0; i < 3; i++)
			if (out.dev_id == ids[i]) {
				seen++;
				EXPECT_EQ(MMIO_BASE + i * 0x1000,
					  out.mmio_base);
				EXPECT_EQ(40 + i, out.irq);
			}
		next = out.dev_id + 1;
	}
	EXPECT_EQ(3, seen);
}

TEST_HARNESS_MAIN

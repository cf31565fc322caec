// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI of /dev/hvisor_vhost: the version query, unknown ioctls,
 * iteration on an empty module and bad argument pointers.
 *
 * Expects the module loaded with no zone and no device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/hvisor_vhost.h>

/*
 * The harness is not -Wextra clean: its wrappers have unused parameters
 * and its EXPECT macros compare int literals with unsigned values.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#define KNOWN_FEATURES	(HVISOR_VHOST_F_ZONES | HVISOR_VHOST_F_BLK | \
			 HVISOR_VHOST_F_NET | HVISOR_VHOST_F_STATS | \
			 HVISOR_VHOST_F_STATS_BOUNCED | \
			 HVISOR_VHOST_F_ZONE_RESET)

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(HVISOR_VHOST_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("open %s: %s (module not loaded?)",
		       HVISOR_VHOST_DEVICE_PATH, strerror(errno));
	}
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int is_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

/* A page that is not mapped: the pointer the kernel must refuse. */
static void *unmapped_page(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	p = mmap(NULL, page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	munmap(p, page);
	return p;
}

TEST_F(dev, version_answers_abi)
{
	struct hvisor_vhost_version v;

	memset(&v, 0xa5, sizeof(v));
	ASSERT_EQ(0, ioctl(self->fd, HVISOR_VHOST_IOC_VERSION, &v)) {
		TH_LOG("VERSION: %s", strerror(errno));
	}
	EXPECT_EQ(HVISOR_VHOST_ABI_VERSION, v.abi_version);
	EXPECT_TRUE(is_zero(v.reserved, sizeof(v.reserved))) {
		TH_LOG("reserved fields not zero");
	}
}

TEST_F(dev, version_features_sane)
{
	struct hvisor_vhost_version v;

	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, ioctl(self->fd, HVISOR_VHOST_IOC_VERSION, &v));
	/* Only bits the header defines: anything else is a forgotten bump. */
	EXPECT_EQ(0, v.features & ~(__u64)KNOWN_FEATURES) {
		TH_LOG("unknown feature bits 0x%llx",
		       (unsigned long long)(v.features & ~(__u64)KNOWN_FEATURES));
	}
	EXPECT_LE(v.max_regions, HVISOR_VHOST_MAX_REGIONS);
	if (v.features & HVISOR_VHOST_F_ZONES) {
		EXPECT_LE(1, v.max_zones);
		EXPECT_LE(1, v.max_regions);
	}
	if (v.features & (HVISOR_VHOST_F_BLK | HVISOR_VHOST_F_NET)) {
		EXPECT_TRUE(v.features & HVISOR_VHOST_F_ZONES) {
			TH_LOG("devices without zones");
		}
		EXPECT_LE(1, v.max_devices);
	}
}

TEST_F(dev, version_is_stable)
{
	struct hvisor_vhost_version a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0xff, sizeof(b));
	ASSERT_EQ(0, ioctl(self->fd, HVISOR_VHOST_IOC_VERSION, &a));
	ASSERT_EQ(0, ioctl(self->fd, HVISOR_VHOST_IOC_VERSION, &b));
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
}

TEST_F(dev, unknown_nr_enotty)
{
	static const unsigned long cmds[] = {
		_IO(HVISOR_VHOST_IOC_MAGIC, 0x01),
		_IOR(HVISOR_VHOST_IOC_MAGIC, 0x7f, struct hvisor_vhost_version),
		_IOWR(HVISOR_VHOST_IOC_MAGIC, 0xff, struct hvisor_vhost_dev),
		_IOW(HVISOR_VHOST_IOC_MAGIC, 0x14, struct hvisor_vhost_id),
	};
	struct hvisor_vhost_dev buf;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		memset(&buf, 0, sizeof(buf));
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, cmds[i], &buf)) {
			TH_LOG("ioctl 0x%lx succeeded", cmds[i]);
		}
		EXPECT_EQ(ENOTTY, errno) {
			TH_LOG("ioctl 0x%lx: %s", cmds[i], strerror(errno));
		}
	}
}

TEST_F(dev, foreign_magic_enotty)
{
	struct hvisor_vhost_version v;
	/* Same number and size as VERSION, another magic. */
	unsigned long cmd = _IOR(HVISOR_VHOST_IOC_MAGIC + 1, 0x00,
				 struct hvisor_vhost_version);

	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, cmd, &v));
	EXPECT_EQ(ENOTTY, errno) {
		TH_LOG("foreign magic: %s", strerror(errno));
	}
	cmd = _IOR('V', 0x00, struct hvisor_vhost_version);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, cmd, &v));
	EXPECT_EQ(ENOTTY, errno) {
		TH_LOG("magic 'V': %s", strerror(errno));
	}
}

/* The full command word is the ABI: another size or direction is not it. */
TEST_F(dev, version_wrong_encoding_enotty)
{
	unsigned char buf[sizeof(struct hvisor_vhost_version) * 2];
	unsigned long cmds[] = {
		_IOC(_IOC_READ, HVISOR_VHOST_IOC_MAGIC, 0x00,
		     sizeof(struct hvisor_vhost_version) - 8),
		_IOC(_IOC_READ, HVISOR_VHOST_IOC_MAGIC, 0x00,
		     sizeof(struct hvisor_vhost_version) + 8),
		_IOW(HVISOR_VHOST_IOC_MAGIC, 0x00, struct hvisor_vhost_version),
		_IO(HVISOR_VHOST_IOC_MAGIC, 0x00),
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		memset(buf, 0, sizeof(buf));
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, cmds[i], buf)) {
			TH_LOG("ioctl 0x%lx succeeded", cmds[i]);
		}
		EXPECT_EQ(ENOTTY, errno) {
			TH_LOG("ioctl 0x%lx: %s", cmds[i], strerror(errno));
		}
	}
}

TEST_F(dev, zone_next_empty_enoent)
{
	struct hvisor_vhost_zone z;

	memset(&z, 0, sizeof(z));
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, HVISOR_VHOST_IOC_ZONE_NEXT, &z)) {
		TH_LOG("ZONE_NEXT found zone %u: module not empty?", z.zone_id);
	}
	EXPECT_EQ(ENOENT, errno) {
		TH_LOG("ZONE_NEXT: %s", strerror(errno));
	}
	/* From the top of the id space too. */
	memset(&z, 0, sizeof(z));
	z.zone_id = 0xffffffff;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, HVISOR_VHOST_IOC_ZONE_NEXT, &z));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(dev, dev_next_empty_enoent)
{
	struct hvisor_vhost_dev d;

	memset(&d, 0, sizeof(d));
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, HVISOR_VHOST_IOC_DEV_NEXT, &d)) {
		TH_LOG("DEV_NEXT found device %u: module not empty?", d.dev_id);
	}
	EXPECT_EQ(ENOENT, errno) {
		TH_LOG("DEV_NEXT: %s", strerror(errno));
	}
	memset(&d, 0, sizeof(d));
	d.dev_id = 0xffffffff;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, HVISOR_VHOST_IOC_DEV_NEXT, &d));
	EXPECT_EQ(ENOENT, errno);
}

/* DEV_STATS: ENOENT for no such device, EINVAL for non-zero reserved fields. */
TEST_F(dev, dev_stats_errors)
{
	struct hvisor_vhost_dev_stats st;

	memset(&st, 0, sizeof(st));
	st.dev_id = 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, HVISOR_VHOST_IOC_DEV_STATS, &st));
	EXPECT_EQ(ENOENT, errno) {
		TH_LOG("DEV_STATS of no device: %s", strerror(errno));
	}
	memset(&st, 0, sizeof(st));
	st.dev_id = 1;
	st.reserved[6] = 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, HVISOR_VHOST_IOC_DEV_STATS, &st));
	EXPECT_EQ(EINVAL, errno);
	memset(&st, 0, sizeof(st));
	st.reserved0 = 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, HVISOR_VHOST_IOC_DEV_STATS, &st));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, bad_pointer_efault)
{
	static const unsigned long cmds[] = {
		HVISOR_VHOST_IOC_VERSION,
		HVISOR_VHOST_IOC_ZONE_ADD,
		HVISOR_VHOST_IOC_ZONE_DEL,
		HVISOR_VHOST_IOC_ZONE_NEXT,
		HVISOR_VHOST_IOC_DEV_ADD,
		HVISOR_VHOST_IOC_DEV_DEL,
		HVISOR_VHOST_IOC_DEV_NEXT,
		HVISOR_VHOST_IOC_DEV_STATS,
	};
	void *ptrs[2] = { NULL, unmapped_page() };
	unsigned int i, j;

	ASSERT_NE(NULL, ptrs[1]);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (j = 0; j < 2; j++) {
			errno = 0;
			EXPECT_EQ(-1, ioctl(self->fd, cmds[i], ptrs[j])) {
				TH_LOG("ioctl 0x%lx with %p succeeded",
				       cmds[i], ptrs[j]);
			}
			EXPECT_EQ(EFAULT, errno) {
				TH_LOG("ioctl 0x%lx with %p: %s", cmds[i],
				       ptrs[j], strerror(errno));
			}
		}
	}
}

/* The output struct is written only where the kernel may write it. */
TEST_F(dev, version_partial_page_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	struct hvisor_vhost_version *v;
	char *p;

	/* Two pages, the second unmapped; the struct straddles the gap. */
	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + page, page));
	v = (void *)(p + page - 8);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, HVISOR_VHOST_IOC_VERSION, v));
	EXPECT_EQ(EFAULT, errno);
	munmap(p, page);
}

/* The node opens more than once and each opener gets answers. */
/* 2 MiB of root's System RAM (the loopback takes it as zone RAM). */
static int root_ram(struct hvisor_vhost_region *r)
{
	unsigned long long a, b;
	char line[256];
	FILE *f = fopen("/proc/iomem", "r");
	int ret = -1;

	if (!f)
		return -1;
	while (ret && fgets(line, sizeof(line), f)) {
		if (!strstr(line, "System RAM") ||
		    sscanf(line, "%llx-%llx", &a, &b) != 2)
			continue;
		a = (a + 0xfff) & ~0xfffULL;
		if (b - a + 1 < (2 << 20))
			continue;
		memset(r, 0, sizeof(*r));
		r->guest_phys = r->host_phys = a;
		r->size = 2 << 20;
		ret = 0;
	}
	fclose(f);
	return ret;
}

/* The bytes of the DEV_ADD union past the net parameters are reserved. */
TEST_F(dev, net_union_tail_reserved)
{
	struct hvisor_vhost_zone z;
	struct hvisor_vhost_dev d;
	struct hvisor_vhost_id id;

	memset(&z, 0, sizeof(z));
	z.zone_id = 77;
	z.nr_regions = 1;
	ASSERT_EQ(0, root_ram(&z.regions[0]));
	ASSERT_EQ(0, ioctl(self->fd, HVISOR_VHOST_IOC_ZONE_ADD, &z));

	memset(&d, 0, sizeof(d));
	d.type = HVISOR_VHOST_DEV_NET;
	d.zone_id = 77;
	d.irq = 40;
	d.mmio_base = 0x1000000000ULL;
	d.mmio_size = 0x200;
	d.backend_fd = -1;
	d.raw[7] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, HVISOR_VHOST_IOC_DEV_ADD, &d));
	EXPECT_EQ(EINVAL, errno);
	d.raw[7] = 0;
	EXPECT_EQ(0, ioctl(self->fd, HVISOR_VHOST_IOC_DEV_ADD, &d));

	memset(&id, 0, sizeof(id));
	id.id = d.dev_id;
	EXPECT_EQ(0, ioctl(self->fd, HVISOR_VHOST_IOC_DEV_DEL, &id));
	id.id = 77;
	EXPECT_EQ(0, ioctl(self->fd, HVISOR_VHOST_IOC_ZONE_DEL, &id));
}

TEST(open_twice)
{
	struct hvisor_vhost_version v;
	int a, b;

	a = open(HVISOR_VHOST_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, a);
	b = open(HVISOR_VHOST_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, b);
	memset(&v, 0, sizeof(v));
	EXPECT_EQ(0, ioctl(b, HVISOR_VHOST_IOC_VERSION, &v));
	EXPECT_EQ(HVISOR_VHOST_ABI_VERSION, v.abi_version);
	close(b);
	memset(&v, 0, sizeof(v));
	EXPECT_EQ(0, ioctl(a, HVISOR_VHOST_IOC_VERSION, &v));
	EXPECT_EQ(HVISOR_VHOST_ABI_VERSION, v.abi_version);
	close(a);
}

/* Struct sizes are part of the ABI: a change must be deliberate. */
TEST(struct_sizes)
{
	EXPECT_EQ(72, sizeof(struct hvisor_vhost_version));
	EXPECT_EQ(32, sizeof(struct hvisor_vhost_region));
	EXPECT_EQ(32 + 32 * HVISOR_VHOST_MAX_REGIONS,
		  sizeof(struct hvisor_vhost_zone));
	EXPECT_EQ(64, sizeof(struct hvisor_vhost_blk_params));
	EXPECT_EQ(56, sizeof(struct hvisor_vhost_net_params));
	EXPECT_EQ(144, sizeof(struct hvisor_vhost_dev));
	EXPECT_EQ(16, sizeof(struct hvisor_vhost_id));
	EXPECT_EQ(120, sizeof(struct hvisor_vhost_dev_stats));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading and reloading hvisor_vhost.ko: the device node and the sysfs
 * directory come and go with the module, an open descriptor pins it, and
 * the kernel logs no warning on the way. The module is left loaded.
 *
 * Environment:
 *   HVV_MODULE         path of hvisor_vhost.ko (default: the first of
 *                      /modules/hvisor_vhost.ko and
 *                      /lib/modules/hvisor_vhost/hvisor_vhost.ko)
 *   HVV_MODULE_PARAMS  parameters to load it with (default: none), the
 *                      same the rig used
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/hvisor_vhost.h>

/*
 * The harness is not -Wextra clean: its wrappers have unused parameters
 * and its EXPECT macros compare int literals with unsigned values.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#define MOD_NAME	"hvisor_vhost"
#define MOD_SYSFS	"/sys/module/" MOD_NAME
#define CYCLES		20

static const char *const default_paths[] = {
	"/modules/hvisor_vhost.ko",
	"/lib/modules/hvisor_vhost/hvisor_vhost.ko",
};

static const char *module_path(void)
{
	const char *p = getenv("HVV_MODULE");
	unsigned int i;

	if (p && *p)
		return p;
	for (i = 0; i < ARRAY_SIZE(default_paths); i++)
		if (!access(default_paths[i], R_OK))
			return default_paths[i];
	return NULL;
}

static const char *module_params(void)
{
	const char *p = getenv("HVV_MODULE_PARAMS");

	return p ? p : "";
}

static bool exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

static bool is_loaded(void)
{
	return exists(MOD_SYSFS);
}

/* Returns 0 or an errno. */
static int load(void)
{
	const char *path = module_path();
	int fd, ret = 0;

	if (!path)
		return ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (syscall(SYS_finit_module, fd, module_params(), 0))
		ret = errno;
	close(fd);
	return ret;
}

static int unload(void)
{
	if (syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK))
		return errno;
	return 0;
}

/* The module's reference count as sysfs shows it, -1 if unknown. */
static int refcnt(void)
{
	int n = -1;
	FILE *f;

	f = fopen(MOD_SYSFS "/refcnt", "re");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* Number of modules that use ours (a test module on top of it). */
static int nr_holders(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(MOD_SYSFS "/holders");
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Open the node and check the version; returns 0 or an errno. */
static int check_node(void)
{
	struct hvisor_vhost_version v;
	int fd, ret = 0;

	fd = open(HVISOR_VHOST_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno;
	memset(&v, 0, sizeof(v));
	if (ioctl(fd, HVISOR_VHOST_IOC_VERSION, &v))
		ret = errno;
	else if (v.abi_version != HVISOR_VHOST_ABI_VERSION)
		ret = EPROTO;
	close(fd);
	return ret;
}

/* /dev/kmsg positioned at its end: what is read later is new. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Count the new kernel log records that report a problem; print them.
 * Records are read one per read() call.
 */
static int kmsg_bad_lines(int fd)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "general protection",
		"kernel BUG", "UBSAN:", "KASAN:", "refcount_t:",
	};
	char rec[8192];
	unsigned int i;
	int n = 0;
	ssize_t len;

	for (;;) {
		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0) {
			if (errno == EPIPE || errno == EINTR)
				continue;	/* overwritten record: go on */
			break;			/* EAGAIN: nothing more */
		}
		if (!len)
			break;
		rec[len] = '\0';
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			if (strstr(rec, bad[i])) {
				const char *msg = strchr(rec, ';');

				fprintf(stderr, "# kernel: %s",
					msg ? msg + 1 : rec);
				n++;
				break;
			}
		}
	}
	return n;
}

FIXTURE(mod) {
	int kmsg;
	int holders;
};

/* A module stacked on ours pins it: nothing to test then. */
#define SKIP_IF_HELD() do { \
	if (self->holders) \
		SKIP(return, "%s is used by %d other module(s)", MOD_NAME, \
		     self->holders); \
} while (0)

FIXTURE_SETUP(mod)
{
	const char *path = module_path();

	ASSERT_NE(NULL, path) {
		TH_LOG("no hvisor_vhost.ko: set HVV_MODULE");
	}
	self->holders = nr_holders();
	self->kmsg = kmsg_open();
	ASSERT_LE(0, self->kmsg) {
		TH_LOG("/dev/kmsg: %s", strerror(errno));
	}
	if (!is_loaded()) {
		int ret = load();

		ASSERT_EQ(0, ret) {
			TH_LOG("initial load of %s: %s", path, strerror(ret));
		}
	}
}

FIXTURE_TEARDOWN(mod)
{
	int ret;

	/* Other tests need the module: leave it loaded whatever happened. */
	if (!is_loaded()) {
		ret = load();
		if (ret)
			fprintf(stderr, "# reload failed: %s\n", strerror(ret));
	}
	if (self->kmsg >= 0) {
		int bad = kmsg_bad_lines(self->kmsg);

		/*
		 * Not EXPECT_EQ(...) { TH_LOG }: after a failed ASSERT the
		 * harness would run that block whatever the result.
		 */
		if (bad)
			TH_LOG("the kernel logged %d warning(s) or bug(s)", bad);
		EXPECT_EQ(0, bad);
		close(self->kmsg);
	}
}

TEST_F_TIMEOUT(mod, unload_reload_cycles, 300)
{
	int i, ret;

	SKIP_IF_HELD();
	for (i = 0; i < CYCLES; i++) {
		ret = unload();
		ASSERT_EQ(0, ret) {
			TH_LOG("cycle %d: unload: %s (refcnt %d)", i,
			       strerror(ret), refcnt());
		}
		ASSERT_FALSE(exists(HVISOR_VHOST_DEVICE_PATH)) {
			TH_LOG("cycle %d: %s still exists after unload", i,
			       HVISOR_VHOST_DEVICE_PATH);
		}
		ASSERT_FALSE(is_loaded()) {
			TH_LOG("cycle %d: %s still exists after unload", i,
			       MOD_SYSFS);
		}
		ASSERT_EQ(ENOENT, check_node());

		ret = load();
		ASSERT_EQ(0, ret) {
			TH_LOG("cycle %d: load %s (params '%s'): %s", i,
			       module_path(), module_params(), strerror(ret));
		}
		ASSERT_TRUE(is_loaded());
		ASSERT_TRUE(exists(HVISOR_VHOST_DEVICE_PATH)) {
			TH_LOG("cycle %d: no %s after load", i,
			       HVISOR_VHOST_DEVICE_PATH);
		}
		ret = check_node();
		ASSERT_EQ(0, ret) {
			TH_LOG("cycle %d: version ioctl after load: %s", i,
			       strerror(ret));
		}
		ret = kmsg_bad_lines(self->kmsg);
		ASSERT_EQ(0, ret) {
			TH_LOG("cycle %d: the kernel logged warnings or bugs", i);
		}
	}
}

/* An open descriptor holds a module reference: unload must be refused. */
TEST_F(mod, unload_while_open_refused)
{
	struct hvisor_vhost_version v;
	int fd, ret;

	SKIP_IF_HELD();
	fd = open(HVISOR_VHOST_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ret = unload();
	EXPECT_TRUE(ret == EWOULDBLOCK || ret == EBUSY) {
		TH_LOG("unload with the node open: %s",
		       ret ? strerror(ret) : "succeeded");
	}
	EXPECT_TRUE(is_loaded());
	memset(&v, 0, sizeof(v));
	EXPECT_EQ(0, ioctl(fd, HVISOR_VHOST_IOC_VERSION, &v));
	EXPECT_EQ(HVISOR_VHOST_ABI_VERSION, v.abi_version);
	close(fd);

	/* Closing dropped the reference. */
	ret = unload();
	EXPECT_EQ(0, ret) {
		TH_LOG("unload after close: %s (refcnt %d)", strerror(ret),
		       refcnt());
	}
	EXPECT_FALSE(exists(HVISOR_VHOST_DEVICE_PATH));
	ret = load();
	ASSERT_EQ(0, ret) {
		TH_LOG("reload: %s", strerror(ret));
	}
	EXPECT_EQ(0, check_node());
}

/* A second load of the same module is refused and changes nothing. */
TEST_F(mod, double_load_eexist)
{
	ASSERT_TRUE(is_loaded());
	EXPECT_EQ(EEXIST, load());
	EXPECT_TRUE(is_loaded());
	EXPECT_EQ(0, check_node());
}

TEST_HARNESS_MAIN

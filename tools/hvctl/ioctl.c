// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl: access to /dev/hvisor_vhost and the ABI version check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hvctl.h"

static const char *const feature_names[] = {
	[0] = "zones",
	[1] = "blk",
	[2] = "net",
	[3] = "stats",
	[4] = "stats-bounced",
	[5] = "zone-reset",
};

const char *feature_name(unsigned int bit)
{
	if (bit < ARRAY_SIZE(feature_names))
		return feature_names[bit];
	return NULL;
}

const char *device_path(void)
{
	const char *p = getenv(HVCTL_DEVICE_ENV);

	return p && *p ? p : HVISOR_VHOST_DEVICE_PATH;
}

int module_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do
		ret = ioctl(fd, req, arg);
	while (ret < 0 && errno == EINTR);
	return ret;
}

/*
 * Open the device node and check the module's ABI version. On success
 * store the descriptor in *fdp and return EXIT_OK; otherwise print why
 * and return the exit code (with *fdp >= 0 only for EXIT_ABI, where @ver
 * holds the module's answer).
 */
int module_connect(struct hvisor_vhost_version *ver, int *fdp)
{
	const char *path = device_path();
	int fd;

	*fdp = -1;
	memset(ver, 0, sizeof(*ver));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		switch (errno) {
		case ENOENT:
			err_msg("hvisor_vhost module not loaded (no %s)", path);
			return EXIT_NO_MODULE;
		case ENODEV:
		case ENXIO:
			err_msg("hvisor_vhost module not loaded (%s has no driver)",
				path);
			return EXIT_NO_MODULE;
		default:
			err_msg("cannot open %s: %s", path, strerror(errno));
			return EXIT_FAILED;
		}
	}
	if (module_ioctl(fd, HVISOR_VHOST_IOC_VERSION, ver) < 0) {
		int e = errno;

		if (e == ENOTTY || e == EINVAL)
			err_msg("%s: version query failed: %s (not an hvisor_vhost device?)",
				path, strerror(e));
		else
			err_msg("%s: version query failed: %s", path,
				strerror(e));
		close(fd);
		return EXIT_FAILED;
	}
	*fdp = fd;
	if (ver->abi_version != HVISOR_VHOST_ABI_VERSION) {
		err_msg("ABI mismatch: module has ABI version %u, this hvctl has ABI version %u; use the hvctl built with the module",
			ver->abi_version, HVISOR_VHOST_ABI_VERSION);
		return EXIT_ABI;
	}
	return EXIT_OK;
}

/* module_connect(), exiting on any failure. */
int module_open(struct hvisor_vhost_version *ver)
{
	int fd, ret;

	ret = module_connect(ver, &fd);
	if (ret != EXIT_OK)
		exit(ret);
	return fd;
}

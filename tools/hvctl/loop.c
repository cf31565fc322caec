// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl: image files as loop devices, and what backs a block device.
 *
 * The module serves block devices only, so add-blk of a regular file
 * puts a loop device over it: a free one from /dev/loop-control, bound
 * with LOOP_CONFIGURE (or, on kernels without it, LOOP_SET_FD and
 * LOOP_SET_STATUS64 followed by LOOP_SET_DIRECT_IO), direct I/O so that
 * the data does not pass through root's page cache twice, and
 * LO_FLAGS_AUTOCLEAR: the loop device comes apart by itself when its last
 * user closes it, that is when the module releases it at `hvctl del` (or
 * at once, when hvctl closes it after a failed DEV_ADD).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/loop.h>

#include "hvctl.h"

#define LOOP_CONTROL		"/dev/loop-control"
/* Tests: pretend the kernel has no LOOP_CONFIGURE. */
#define NO_CONFIGURE_ENV	"HVCTL_NO_LOOP_CONFIGURE"
/* Free loop devices another program may take before we bind them. */
#define LOOP_TRIES		8

static void set_file_name(struct loop_info64 *info, const char *image)
{
	/* For display (losetup -l); the kernel keeps 64 bytes. */
	strncpy((char *)info->lo_file_name, image, LO_NAME_SIZE - 1);
}

/* LOOP_SET_FD and friends, for kernels before 5.8; 0 or -1 (errno). */
static int bind_old(int lfd, int ifd, const char *image)
{
	struct loop_info64 info;
	int e;

	if (ioctl(lfd, LOOP_SET_FD, ifd) < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	/* Read-only follows the mode of @ifd. */
	info.lo_flags = LO_FLAGS_AUTOCLEAR;
	set_file_name(&info, image);
	if (ioctl(lfd, LOOP_SET_STATUS64, &info) < 0) {
		e = errno;
		ioctl(lfd, LOOP_CLR_FD, 0);
		errno = e;
		return -1;
	}
	/* Best effort: without it the loop device uses the page cache. */
	ioctl(lfd, LOOP_SET_DIRECT_IO, 1UL);
	return 0;
}

/* Bind the loop device @lfd to the image @ifd; 0 or -1 (errno). */
static int bind_loop(int lfd, int ifd, const char *image, bool ro)
{
	struct loop_config cfg;

	if (getenv(NO_CONFIGURE_ENV))
		return bind_old(lfd, ifd, image);
	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = ifd;
	cfg.info.lo_flags = LO_FLAGS_DIRECT_IO | LO_FLAGS_AUTOCLEAR;
	if (ro)
		cfg.info.lo_flags |= LO_FLAGS_READ_ONLY;
	set_file_name(&cfg.info, image);
	if (!ioctl(lfd, LOOP_CONFIGURE, &cfg))
		return 0;
	/* Before 5.8: no such ioctl (EINVAL from the loop driver). */
	if (errno != EINVAL && errno != ENOTTY)
		return -1;
	return bind_old(lfd, ifd, image);
}

/* The first line of a sysfs file, without its newline; 0 or -1. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	char *nl;

	if (!f)
		return -1;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

/*
 * Put a loop device over the image @image, open as @ifd (read-only when
 * @ro); exits on failure. Returns an open descriptor of the loop device,
 * whose path goes into @loop (@len bytes).
 */
int loop_attach(const char *cmd, const char *image, int ifd, bool ro,
		char *loop, size_t len)
{
	char sys[64], dio[8];
	unsigned int tries;
	struct stat st;
	int ctl, n = -1, lfd = -1;

	if (fstat(ifd, &st)) {
		err_msg("cannot stat %s: %s", image, strerror(errno));
		exit(EXIT_FAILED);
	}
	if (st.st_size < 512)
		usage_error(cmd, "%s: an image needs at least one 512-byte sector",
			    image);
	ctl = open(LOOP_CONTROL, O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		err_msg("cannot set up a loop device for %s: %s: %s%s", image,
			LOOP_CONTROL, strerror(errno),
			errno == ENOENT ? " (is the loop module loaded?)" : "");
		exit(EXIT_FAILED);
	}
	for (tries = 0; tries < LOOP_TRIES; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			err_msg("cannot set up a loop device for %s: no free loop device: %s",
				image, strerror(errno));
			exit(EXIT_FAILED);
		}
		snprintf(loop, len, "/dev/loop%d", n);
		lfd = open(loop, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (lfd < 0) {
			err_msg("cannot open %s: %s", loop, strerror(errno));
			exit(EXIT_FAILED);
		}
		if (!bind_loop(lfd, ifd, image, ro))
			break;
		close(lfd);
		lfd = -1;
		/* Taken by someone else since GET_FREE: try the next. */
		if (errno != EBUSY) {
			err_msg("cannot bind %s to %s: %s", loop, image,
				strerror(errno));
			exit(EXIT_FAILED);
		}
	}
	close(ctl);
	if (lfd < 0) {
		err_msg("cannot set up a loop device for %s: every free one was taken meanwhile",
			image);
		exit(EXIT_FAILED);
	}
	snprintf(sys, sizeof(sys), "/sys/block/loop%d/loop/dio", n);
	if (!read_line(sys, dio, sizeof(dio)) && strcmp(dio, "1"))
		fprintf(stderr, "%s: note: %s cannot do direct I/O on %s; it goes through the page cache\n",
			prog, loop, image);
	return lfd;
}

/*
 * What backs block device @major:@minor: its name (/dev/NAME) into @dev
 * and, for a loop device, its image into @image (else ""). Returns -1 when
 * sysfs does not know the device.
 */
int backing_info(uint32_t major, uint32_t minor, char *dev, size_t devlen,
		 char *image, size_t imglen)
{
	char path[PATH_MAX], link[PATH_MAX], *name;
	ssize_t n;

	*dev = '\0';
	*image = '\0';
	if (!major && !minor)
		return -1;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major, minor);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = '\0';
	name = strrchr(link, '/');
	snprintf(dev, devlen, "/dev/%s", name ? name + 1 : link);
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/loop/backing_file",
		 major, minor);
	if (read_line(path, image, imglen))
		*image = '\0';
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loop devices over files, for the C selftests (header only: each test is
 * one static program).
 */
#ifndef HVV_SELFTEST_LOOP_LIB_H
#define HVV_SELFTEST_LOOP_LIB_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/loop.h>

/*
 * Attach the open file @ffd (it stays the caller's) to a free loop device
 * that detaches itself when its last user lets go, read-only if @ro.  The
 * device's path goes into @path (@len bytes).  Returns an fd of the device
 * opened with @flags, or -1.
 */
static inline int loop_attach(int ffd, bool ro, int flags, char *path,
			      size_t len)
{
	struct loop_info64 info;
	int ctl, nr, lfd, fd;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -1;
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		return -1;
	snprintf(path, len, "/dev/loop%d", nr);
	lfd = open(path, O_RDWR | O_CLOEXEC);
	if (lfd < 0)
		return -1;
	if (ioctl(lfd, LOOP_SET_FD, ffd))
		goto fail;
	memset(&info, 0, sizeof(info));
	info.lo_flags = LO_FLAGS_AUTOCLEAR | (ro ? LO_FLAGS_READ_ONLY : 0);
	if (ioctl(lfd, LOOP_SET_STATUS64, &info)) {
		ioctl(lfd, LOOP_CLR_FD, 0);
		goto fail;
	}
	if ((flags & O_ACCMODE) == O_RDWR)
		return lfd;
	/* Open the other one first: closing the last one detaches. */
	fd = open(path, flags | O_CLOEXEC);
	close(lfd);
	return fd;
fail:
	close(lfd);
	return -1;
}

#endif /* HVV_SELFTEST_LOOP_LIB_H */

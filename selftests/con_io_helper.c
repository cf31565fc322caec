// SPDX-License-Identifier: GPL-2.0
/*
 * con_io_helper: a reader for the console tests (not a test itself:
 * run-selftests skips programs named *_helper).  Static, libc only.
 *
 *   con_io_helper read TTY BYTES CHUNK DELAY_US IDLE_S
 *
 * Opens TTY, sets it raw, and copies BYTES bytes from it to stdout, at
 * most CHUNK bytes per read(), sleeping DELAY_US microseconds after each
 * read: a slow reader when DELAY_US is large.  Gives up when nothing
 * comes for IDLE_S seconds.  On stderr: the bytes read and the time.
 * Exit status 0 when BYTES bytes were read, 1 otherwise, 2 on usage or
 * setup errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static int do_read(const char *tty, unsigned long long bytes, size_t chunk,
		   unsigned long delay_us, int idle_s)
{
	unsigned long long got = 0;
	struct termios t;
	double t0 = now();
	char *buf;
	int fd;

	buf = malloc(chunk);
	fd = open(tty, O_RDONLY | O_NOCTTY);
	if (!buf || fd < 0) {
		fprintf(stderr, "open %s: %s\n", tty, strerror(errno));
		return 2;
	}
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	while (got < bytes) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		size_t want = chunk;
		ssize_t n;
		int r;

		r = poll(&p, 1, idle_s * 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "nothing for %d s\n", idle_s);
			break;
		}
		if (want > bytes - got)
			want = bytes - got;
		n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "read: %s\n", n ? strerror(errno) : "end of file");
			break;
		}
		if (write_all(1, buf, n)) {
			fprintf(stderr, "write: %s\n", strerror(errno));
			return 2;
		}
		got += n;
		if (delay_us)
			usleep(delay_us);
	}
	fprintf(stderr, "read %llu of %llu bytes in %.1f s\n", got, bytes,
		now() - t0);
	close(fd);
	return got == bytes ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "read"))
		return do_read(argv[2], strtoull(argv[3], NULL, 0),
			       strtoul(argv[4], NULL, 0) ?: 1,
			       strtoul(argv[5], NULL, 0), atoi(argv[6]) ?: 1);
	fprintf(stderr, "usage: con_io_helper read TTY BYTES CHUNK DELAY_US IDLE_S\n");
	return 2;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * blkio_helper: block I/O tool for the blk_*.sh selftests (not a test
 * itself: run-selftests skips programs named *_helper).  Static, libc only.
 *
 *   blkio_helper rand DEV --off O --len L [--count N] [--min B] [--max B]
 *                [--align A] [--jobs J] [--seed S] [--direct] [--fsync]
 *                [--shadow FILE]
 *       N writes of random data, random sizes in [B, B] (multiples of A),
 *       at random A-aligned offsets inside [O, O+L); with J > 1 the range
 *       is cut in J disjoint parts, each written by its own process at the
 *       same time (N/J writes each).  --direct: O_DIRECT; --fsync: fsync
 *       after every 16th write and at the end.  --shadow: write what
 *       [O, O+L) must hold afterwards to FILE (the range is read first).
 *       Prints "writes=N bytes=N".
 *   blkio_helper aio DEV --off O --len L --count N [--bs B] [--depth D]
 *                [--seed S] [--shadow FILE]
 *       N O_DIRECT writes of B bytes (default 4096) of random data through
 *       Linux AIO, D (default 64) in flight at a time, each at a random
 *       B-aligned block of [O, O+L) not in flight already: a deep queue
 *       with few system calls, to push many requests through one queue
 *       fast.  --shadow as for rand.  Prints "writes=N".
 *   blkio_helper cmp A OFFA B OFFB LEN [--direct]
 *       compare LEN bytes of A at OFFA with B at OFFB (files or devices;
 *       /dev/zero works); prints the first difference, exit 1 if any.
 *   blkio_helper zeroout|discard|punch|zerorange DEV OFF LEN
 *       BLKZEROOUT, BLKDISCARD, fallocate(PUNCH_HOLE|KEEP_SIZE) or
 *       fallocate(ZERO_RANGE|KEEP_SIZE) on DEV.
 *   blkio_helper fsync PATH            open PATH for writing and fsync it
 *   blkio_helper excl DEV              exit 0 if DEV can be opened with
 *       O_EXCL (nobody claims it), 1 with EBUSY
 *   blkio_helper loop read|write DEV [--bs B] [--direct] [--seed S]
 *       read or write DEV from start to end, over and over, until SIGTERM
 *       or SIGINT; a failing open or I/O is counted, and the device is
 *       opened again after 10 ms (it may be unbound and bound meanwhile).
 *       On exit prints "ok=N errors=N" (completed I/Os and failures).
 *   blkio_helper lb-kick ZONE BASE
 *       acts as the zone's driver, through the loopback zone's raw
 *       register interface, on the virtio-blk device at BASE of ZONE (it
 *       must be freshly reset): sets it up with a private 4-entry ring in
 *       locked memory of this process (physical addresses from
 *       /proc/self/pagemap), makes one GET_ID request, waits for it to
 *       complete (its interrupt reaches whatever virtio device the
 *       loopback zone has at BASE), prints the id, and resets the device.
 *   blkio_helper wait-state PID STATE SECONDS
 *       wait until /proc/PID/stat shows STATE (one letter, e.g. T, D)
 *       exit 0, or 1 after SECONDS, printing the state seen last.
 *
 * Exit status 0 on success, 1 on a failed check or I/O error, 2 on usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ALIGN_BUF	4096

static const char *prog = "blkio_helper";

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static uint64_t num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		die(2, "bad number '%s'", s);
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end)
		die(2, "bad number '%s'", s);
	return v;
}

/* xorshift64*: reproducible from a seed, fast enough under TCG. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void rnd_fill(uint64_t *s, void *buf, size_t len)
{
	unsigned char *p = buf;
	uint64_t v;

	while (len >= 8) {
		v = rnd(s);
		memcpy(p, &v, 8);
		p += 8;
		len -= 8;
	}
	v = rnd(s);
	memcpy(p, &v, len);
}

static void *abuf(size_t len)
{
	void *p;

	if (posix_memalign(&p, ALIGN_BUF, len ? len : ALIGN_BUF))
		die(1, "out of memory (%zu bytes)", len);
	return p;
}

static int xopen(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0)
		die(1, "open %s: %s", path, strerror(errno));
	return fd;
}

/* Full pread/pwrite; 0 or -errno. */
static int pio(int fd, bool wr, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = wr ? pwrite(fd, p, len, off) : pread(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENOSPC;
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

/* --- rand ---------------------------------------------------------------- */

struct rand_args {
	const char *dev;
	uint64_t off, len, count, min, max, align, seed;
	unsigned int jobs;
	bool direct, fsync;
	const char *shadow;
};

/* One writer: [off, off+len) of the device, shadow at sh (the whole range). */
static int rand_job(const struct rand_args *a, unsigned int job,
		    uint64_t off, uint64_t len, uint64_t count,
		    unsigned char *sh, uint64_t *written)
{
	uint64_t s = a->seed * 0x9E3779B97F4A7C15ULL + job + 1;
	uint64_t units = len / a->align, i;
	unsigned char *buf = abuf(a->max);
	int fd, ret;

	fd = xopen(a->dev, O_RDWR | (a->direct ? O_DIRECT : 0));
	for (i = 0; i < count; i++) {
		uint64_t nmin = a->min / a->align, nmax = a->max / a->align;
		uint64_t n = nmin + rnd(&s) % (nmax - nmin + 1);
		uint64_t at;

		if (n > units)
			n = units;
		at = (rnd(&s) % (units - n + 1)) * a->align;
		rnd_fill(&s, buf, n * a->align);
		ret = pio(fd, true, buf, n * a->align, off + at);
		if (ret) {
			fprintf(stderr, "%s: job %u: write of %" PRIu64 " bytes at %" PRIu64 ": %s\n",
				prog, job, n * a->align, off + at, strerror(-ret));
			return 1;
		}
		if (sh)
			memcpy(sh + (off - a->off) + at, buf, n * a->align);
		*written += n * a->align;
		if (a->fsync && (i % 16 == 15) && fsync(fd)) {
			fprintf(stderr, "%s: fsync: %s\n", prog, strerror(errno));
			return 1;
		}
	}
	if (a->fsync && fsync(fd)) {
		fprintf(stderr, "%s: fsync: %s\n", prog, strerror(errno));
		return 1;
	}
	if (close(fd)) {
		fprintf(stderr, "%s: close: %s\n", prog, strerror(errno));
		return 1;
	}
	free(buf);
	return 0;
}

static int cmd_rand(int argc, char **argv)
{
	struct rand_args a = {
		.count = 100, .min = 512, .max = 65536, .align = 512,
		.jobs = 1, .seed = 1, .len = 0,
	};
	unsigned char *sh = NULL;
	uint64_t *stats, total_w = 0, part;
	unsigned int j;
	int i, fails = 0;

	if (argc < 2)
		die(2, "rand: missing device");
	a.dev = argv[1];
	for (i = 2; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--direct")) {
			a.direct = true;
			continue;
		}
		if (!strcmp(o, "--fsync")) {
			a.fsync = true;
			continue;
		}
		if (i + 1 >= argc)
			die(2, "rand: %s needs a value", o);
		if (!strcmp(o, "--off"))
			a.off = num(argv[++i]);
		else if (!strcmp(o, "--len"))
			a.len = num(argv[++i]);
		else if (!strcmp(o, "--count"))
			a.count = num(argv[++i]);
		else if (!strcmp(o, "--min"))
			a.min = num(argv[++i]);
		else if (!strcmp(o, "--max"))
			a.max = num(argv[++i]);
		else if (!strcmp(o, "--align"))
			a.align = num(argv[++i]);
		else if (!strcmp(o, "--jobs"))
			a.jobs = num(argv[++i]);
		else if (!strcmp(o, "--seed"))
			a.seed = num(argv[++i]);
		else if (!strcmp(o, "--shadow"))
			a.shadow = argv[++i];
		else
			die(2, "rand: unknown option '%s'", o);
	}
	if (!a.align || !a.len || !a.jobs || a.min < a.align || a.max < a.min)
		die(2, "rand: bad sizes (need --len, align <= min <= max)");
	part = a.len / a.jobs / a.align * a.align;
	if (part < a.align)
		die(2, "rand: range too small for %u jobs", a.jobs);

	if (a.shadow) {
		/* Shared with the writers; starts as the range's contents. */
		int fd = xopen(a.dev, O_RDONLY | (a.direct ? O_DIRECT : 0));
		int ret;

		sh = mmap(NULL, a.len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (sh == MAP_FAILED)
			die(1, "mmap: %s", strerror(errno));
		ret = pio(fd, false, sh, a.len, a.off);
		if (ret)
			die(1, "reading %s: %s", a.dev, strerror(-ret));
		close(fd);
	}
	stats = mmap(NULL, a.jobs * sizeof(*stats), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stats == MAP_FAILED)
		die(1, "mmap: %s", strerror(errno));
	memset(stats, 0, a.jobs * sizeof(*stats));

	for (j = 0; j < a.jobs; j++) {
		uint64_t cnt = a.count / a.jobs + (j < a.count % a.jobs);
		uint64_t len = j == a.jobs - 1 ? a.len - j * part : part;
		pid_t pid;

		if (a.jobs == 1) {
			fails += rand_job(&a, j, a.off, len, cnt, sh, &stats[j]);
			break;
		}
		fflush(NULL);
		pid = fork();
		if (pid < 0)
			die(1, "fork: %s", strerror(errno));
		if (pid == 0)
			_exit(rand_job(&a, j, a.off + j * part, len, cnt, sh,
				       &stats[j]));
	}
	if (a.jobs > 1) {
		int st;

		while (wait(&st) > 0)
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				fails++;
	}
	for (j = 0; j < a.jobs; j++)
		total_w += stats[j];

	if (sh) {
		int fd = open(a.shadow, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int ret;

		if (fd < 0)
			die(1, "open %s: %s", a.shadow, strerror(errno));
		ret = pio(fd, true, sh, a.len, 0);
		if (ret || close(fd))
			die(1, "writing %s: %s", a.shadow, strerror(ret ? -ret : errno));
	}
	printf("writes=%" PRIu64 " bytes=%" PRIu64 "\n", a.count, total_w);
	return fails ? 1 : 0;
}

/* --- aio ----------------------------------------------------------------- */

static int cmd_aio(int argc, char **argv)
{
	uint64_t off = 0, len = 0, count = 0, bs = 4096, depth = 64, seed = 1;
	uint64_t nblocks, submitted = 0, done = 0, s;
	const char *shadow = NULL;
	struct iocb *iocbs, **ptrs;
	struct io_event *ev;
	unsigned char *bufs, *sh = NULL, *busy;
	uint64_t *slot_block;
	unsigned int *free_slots, nfree;
	aio_context_t ctx = 0;
	int i, fd;

	if (argc < 2)
		die(2, "aio: missing device");
	for (i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			die(2, "aio: %s needs a value", argv[i]);
		if (!strcmp(argv[i], "--off"))
			off = num(argv[++i]);
		else if (!strcmp(argv[i], "--len"))
			len = num(argv[++i]);
		else if (!strcmp(argv[i], "--count"))
			count = num(argv[++i]);
		else if (!strcmp(argv[i], "--bs"))
			bs = num(argv[++i]);
		else if (!strcmp(argv[i], "--depth"))
			depth = num(argv[++i]);
		else if (!strcmp(argv[i], "--seed"))
			seed = num(argv[++i]);
		else if (!strcmp(argv[i], "--shadow"))
			shadow = argv[++i];
		else
			die(2, "aio: unknown option '%s'", argv[i]);
	}
	nblocks = len / bs;
	if (!bs || bs % 512 || !depth || depth > 1024 || nblocks <= depth)
		die(2, "aio: need 512 | bs, 0 < depth <= 1024, len/bs > depth");
	s = seed * 0x9E3779B97F4A7C15ULL + 1;
	fd = xopen(argv[1], O_RDWR | O_DIRECT);
	if (shadow) {
		int ret;

		sh = abuf(nblocks * bs);
		ret = pio(fd, false, sh, nblocks * bs, off);
		if (ret)
			die(1, "reading %s: %s", argv[1], strerror(-ret));
	}
	if (syscall(SYS_io_setup, (long)depth, &ctx))
		die(1, "io_setup: %s", strerror(errno));
	bufs = abuf(depth * bs);
	iocbs = calloc(depth, sizeof(*iocbs));
	ptrs = calloc(depth, sizeof(*ptrs));
	ev = calloc(depth, sizeof(*ev));
	slot_block = calloc(depth, sizeof(*slot_block));
	free_slots = calloc(depth, sizeof(*free_slots));
	busy = calloc(nblocks, 1);
	if (!iocbs || !ptrs || !ev || !slot_block || !free_slots || !busy)
		die(1, "out of memory");
	for (nfree = 0; nfree < depth; nfree++)
		free_slots[nfree] = nfree;

	while (done < count) {
		unsigned int n = 0;
		long got, k;

		/* Fill every free slot, each with a block not in flight. */
		while (nfree && submitted + n < count) {
			unsigned int slot = free_slots[--nfree];
			uint64_t b = rnd(&s) % nblocks;
			struct iocb *cb = &iocbs[slot];
			unsigned char *buf = bufs + slot * bs;

			while (busy[b])
				b = (b + 1) % nblocks;
			busy[b] = 1;
			slot_block[slot] = b;
			rnd_fill(&s, buf, bs);
			if (sh)
				memcpy(sh + b * bs, buf, bs);
			memset(cb, 0, sizeof(*cb));
			cb->aio_data = slot;
			cb->aio_lio_opcode = IOCB_CMD_PWRITE;
			cb->aio_fildes = fd;
			cb->aio_buf = (uintptr_t)buf;
			cb->aio_nbytes = bs;
			cb->aio_offset = off + b * bs;
			ptrs[n++] = cb;
		}
		if (n) {
			long r = syscall(SYS_io_submit, ctx, (long)n, ptrs);

			if (r != (long)n)
				die(1, "io_submit of %u: %ld (%s)", n, r,
				    r < 0 ? strerror(errno) : "short");
			submitted += n;
		}
		got = syscall(SYS_io_getevents, ctx, 1L, (long)depth, ev, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			die(1, "io_getevents: %s", strerror(errno));
		}
		for (k = 0; k < got; k++) {
			unsigned int slot = ev[k].data;

			if (ev[k].res != (long long)bs)
				die(1, "write at %" PRIu64 ": result %lld",
				    off + slot_block[slot] * bs,
				    (long long)ev[k].res);
			busy[slot_block[slot]] = 0;
			free_slots[nfree++] = slot;
			done++;
		}
	}
	syscall(SYS_io_destroy, ctx);
	if (close(fd))
		die(1, "close: %s", strerror(errno));
	if (sh) {
		int sfd = open(shadow, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int ret;

		if (sfd < 0)
			die(1, "open %s: %s", shadow, strerror(errno));
		ret = pio(sfd, true, sh, nblocks * bs, 0);
		if (ret || close(sfd))
			die(1, "writing %s: %s", shadow, strerror(ret ? -ret : errno));
	}
	printf("writes=%" PRIu64 "\n", done);
	return 0;
}

/* --- cmp ----------------------------------------------------------------- */

static int cmd_cmp(int argc, char **argv)
{
	const size_t chunk = 1 << 20;
	uint64_t offa, offb, len, done = 0;
	unsigned char *ba, *bb;
	int fa, fb, flags = O_RDONLY;

	if (argc < 6)
		die(2, "cmp: A OFFA B OFFB LEN [--direct]");
	if (argc > 6 && !strcmp(argv[6], "--direct"))
		flags |= O_DIRECT;
	offa = num(argv[2]);
	offb = num(argv[4]);
	len = num(argv[5]);
	fa = xopen(argv[1], flags);
	/* /dev/zero and pipes-like files refuse O_DIRECT: fall back. */
	fb = open(argv[3], flags);
	if (fb < 0)
		fb = xopen(argv[3], O_RDONLY);
	ba = abuf(chunk);
	bb = abuf(chunk);
	while (done < len) {
		size_t n = len - done < chunk ? len - done : chunk;
		int ra = pio(fa, false, ba, n, offa + done);
		int rb = pio(fb, false, bb, n, offb + done);
		size_t k;

		if (ra || rb) {
			printf("read error at +%" PRIu64 ": %s: %s\n", done,
			       ra ? argv[1] : argv[3], strerror(ra ? -ra : -rb));
			return 1;
		}
		if (memcmp(ba, bb, n)) {
			for (k = 0; k < n && ba[k] == bb[k]; k++)
				;
			printf("differ at +%" PRIu64 " (%s@%" PRIu64 "=0x%02x, %s@%" PRIu64 "=0x%02x)\n",
			       done + k, argv[1], offa + done + k, ba[k],
			       argv[3], offb + done + k, bb[k]);
			return 1;
		}
		done += n;
	}
	return 0;
}

/* --- ioctls and fallocate ------------------------------------------------ */

static int cmd_range(int argc, char **argv)
{
	uint64_t r[2];
	int fd, ret;

	if (argc != 4)
		die(2, "%s DEV OFF LEN", argv[0]);
	r[0] = num(argv[2]);
	r[1] = num(argv[3]);
	fd = xopen(argv[1], O_RDWR);
	if (!strcmp(argv[0], "zeroout"))
		ret = ioctl(fd, BLKZEROOUT, r);
	else if (!strcmp(argv[0], "discard"))
		ret = ioctl(fd, BLKDISCARD, r);
	else if (!strcmp(argv[0], "punch"))
		ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				r[0], r[1]);
	else
		ret = fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
				r[0], r[1]);
	if (ret) {
		fprintf(stderr, "%s: %s %s: %s\n", prog, argv[0], argv[1],
			strerror(errno));
		return 1;
	}
	return close(fd) ? 1 : 0;
}

static int cmd_fsync(int argc, char **argv)
{
	int fd;

	if (argc != 2)
		die(2, "fsync PATH");
	fd = xopen(argv[1], O_WRONLY);
	if (fsync(fd)) {
		fprintf(stderr, "%s: fsync %s: %s\n", prog, argv[1], strerror(errno));
		return 1;
	}
	return close(fd) ? 1 : 0;
}

static int cmd_excl(int argc, char **argv)
{
	int fd;

	if (argc != 2)
		die(2, "excl DEV");
	fd = open(argv[1], O_RDONLY | O_EXCL);
	if (fd < 0) {
		printf("%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}

/* --- loop ---------------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_loop(int argc, char **argv)
{
	uint64_t bs = 65536, seed = 1, ok = 0, errs = 0, off = 0, size = 0;
	const struct timespec pause = { 0, 10 * 1000 * 1000 };
	struct sigaction sa;
	bool wr, direct = false;
	unsigned char *buf;
	int i, fd = -1;

	if (argc < 3)
		die(2, "loop read|write DEV [--bs B] [--direct] [--seed S]");
	if (!strcmp(argv[1], "read"))
		wr = false;
	else if (!strcmp(argv[1], "write"))
		wr = true;
	else
		die(2, "loop: read or write, not '%s'", argv[1]);
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--direct"))
			direct = true;
		else if (!strcmp(argv[i], "--bs") && i + 1 < argc)
			bs = num(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = num(argv[++i]);
		else
			die(2, "loop: bad option '%s'", argv[i]);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	buf = abuf(bs);

	while (!stop) {
		int ret;

		if (fd < 0) {
			fd = open(argv[2], (wr ? O_RDWR : O_RDONLY) |
				  (direct ? O_DIRECT : 0));
			if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) || size < bs) {
				if (fd >= 0)
					close(fd);
				fd = -1;
				errs++;
				nanosleep(&pause, NULL);
				continue;
			}
		}
		if (off + bs > size)
			off = 0;
		if (wr)
			rnd_fill(&seed, buf, bs);
		ret = pio(fd, wr, buf, bs, off);
		if (ret) {
			errs++;
			close(fd);
			fd = -1;
			nanosleep(&pause, NULL);
			continue;
		}
		ok++;
		off += bs;
	}
	printf("ok=%" PRIu64 " errors=%" PRIu64 "\n", ok, errs);
	return 0;
}

/* --- lb-kick -------------------------------------------------------------- */

#define LB_RAW		"/sys/kernel/debug/hvisor_vhost_loopback/raw"

/* virtio-mmio registers and bits (the values of the virtio spec). */
#define R_STATUS		0x070
#define R_DRV_FEATURES		0x020
#define R_DRV_FEATURES_SEL	0x024
#define R_QUEUE_SEL		0x030
#define R_QUEUE_NUM_MAX		0x034
#define R_QUEUE_NUM		0x038
#define R_QUEUE_READY		0x044
#define R_QUEUE_NOTIFY		0x050
#define R_QUEUE_DESC		0x080
#define R_QUEUE_AVAIL		0x090
#define R_QUEUE_USED		0x0a0
#define S_ACK			1
#define S_DRIVER		2
#define S_DRIVER_OK		4
#define S_FEATURES_OK		8
#define D_NEXT			1
#define D_WRITE			2
#define BLK_T_GET_ID		8
#define KICK_QSIZE		4

static int raw_fd = -1;
static unsigned int raw_zone;
static uint64_t raw_base;

static void raw_cmd(const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (pwrite(raw_fd, buf, n, 0) != n)
		die(1, "'%s' > %s: %s", buf, LB_RAW, strerror(errno));
}

static void raw_w(unsigned int off, uint32_t val)
{
	raw_cmd("w %u 0x%" PRIx64 " 4 0x%x", raw_zone, raw_base + off, val);
}

static uint32_t raw_r(unsigned int off)
{
	char buf[32];
	ssize_t n;

	raw_cmd("r %u 0x%" PRIx64 " 4", raw_zone, raw_base + off);
	n = pread(raw_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		die(1, "reading %s: %s", LB_RAW, strerror(errno));
	buf[n] = '\0';
	return strtoul(buf, NULL, 0);
}

/* The physical address of a locked byte of ours. */
static uint64_t phys_of(void *p)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t ent;
	int fd = xopen("/proc/self/pagemap", O_RDONLY);

	if (pread(fd, &ent, 8, (uintptr_t)p / psz * 8) != 8)
		die(1, "pagemap: %s", strerror(errno));
	close(fd);
	if (!(ent >> 63) || !(ent & ((1ULL << 55) - 1)))
		die(1, "pagemap gives no PFN (not root?)");
	return (ent & ((1ULL << 55) - 1)) * psz + (uintptr_t)p % psz;
}

struct kick_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static int cmd_lb_kick(int argc, char **argv)
{
	const struct timespec tick = { 0, 1000 * 1000 };
	volatile uint16_t *avail, *used;
	struct kick_desc *desc;
	unsigned char *mem, *hdr, *id, *status;
	uint32_t st;
	uint64_t a;
	int i;

	if (argc != 3)
		die(2, "lb-kick ZONE BASE");
	raw_zone = num(argv[1]);
	raw_base = num(argv[2]);
	raw_fd = xopen(LB_RAW, O_RDWR);

	/* One page: rings in the first half, request buffers in the second. */
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		die(1, "mmap: %s", strerror(errno));
	memset(mem, 0, 4096);
	desc = (struct kick_desc *)mem;			/* 16 * 4 */
	avail = (volatile uint16_t *)(mem + 512);	/* 4 + 2 * 4 */
	used = (volatile uint16_t *)(mem + 1024);	/* 4 + 8 * 4 */
	hdr = mem + 2048;
	id = mem + 2560;
	status = mem + 3072;
	a = phys_of(mem);

	hdr[0] = BLK_T_GET_ID;		/* type, little-endian; sector 0 */
	*status = 0xff;
	desc[0] = (struct kick_desc){ a + 2048, 16, D_NEXT, 1 };
	desc[1] = (struct kick_desc){ a + 2560, 20, D_NEXT | D_WRITE, 2 };
	desc[2] = (struct kick_desc){ a + 3072, 1, D_WRITE, 0 };
	avail[2] = 0;			/* ring[0]: head 0 */

	if (raw_r(R_STATUS))
		die(1, "the device at 0x%" PRIx64 " is not reset", raw_base);
	raw_w(R_STATUS, S_ACK);
	raw_w(R_STATUS, S_ACK | S_DRIVER);
	raw_w(R_DRV_FEATURES_SEL, 1);
	raw_w(R_DRV_FEATURES, 1);	/* VIRTIO_F_VERSION_1 (bit 32) */
	raw_w(R_DRV_FEATURES_SEL, 0);
	raw_w(R_DRV_FEATURES, 0);
	raw_w(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	st = raw_r(R_STATUS);
	if (!(st & S_FEATURES_OK))
		die(1, "FEATURES_OK refused (status 0x%x)", st);
	raw_w(R_QUEUE_SEL, 0);
	if (raw_r(R_QUEUE_NUM_MAX) < KICK_QSIZE)
		die(1, "queue too small");
	raw_w(R_QUEUE_NUM, KICK_QSIZE);
	raw_w(R_QUEUE_DESC, a);
	raw_w(R_QUEUE_DESC + 4, a >> 32);
	raw_w(R_QUEUE_AVAIL, a + 512);
	raw_w(R_QUEUE_AVAIL + 4, (a + 512) >> 32);
	raw_w(R_QUEUE_USED, a + 1024);
	raw_w(R_QUEUE_USED + 4, (a + 1024) >> 32);
	raw_w(R_QUEUE_READY, 1);
	raw_w(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);

	__atomic_store_n(&avail[1], 1, __ATOMIC_RELEASE);	/* avail->idx */
	raw_cmd("p %u 0x%" PRIx64 " 4 0", raw_zone, raw_base + R_QUEUE_NOTIFY);
	for (i = 0; i < 5000 && __atomic_load_n(&used[1], __ATOMIC_ACQUIRE) != 1; i++)
		nanosleep(&tick, NULL);
	if (used[1] != 1)
		die(1, "the request did not complete (used idx %u)", used[1]);
	printf("status=%u id=%.20s\n", *status, id);
	/* Give the zone time to take the interrupt, then reset the device. */
	for (i = 0; i < 200; i++)
		nanosleep(&tick, NULL);
	raw_w(R_STATUS, 0);
	for (i = 0; i < 5000 && raw_r(R_STATUS); i++)
		nanosleep(&tick, NULL);
	if (raw_r(R_STATUS))
		die(1, "the device does not reset");
	return *status ? 1 : 0;
}

/* --- wait-state ---------------------------------------------------------- */

static char proc_state(const char *pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '-';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '-';
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may contain anything but ends at the last ')'. */
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

static int cmd_wait_state(int argc, char **argv)
{
	const struct timespec tick = { 0, 20 * 1000 * 1000 };
	struct timespec t0, t;
	double limit;
	char st;

	if (argc != 4)
		die(2, "wait-state PID STATE SECONDS");
	limit = atof(argv[3]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		st = proc_state(argv[1]);
		if (st == argv[2][0])
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 > limit)
			break;
		nanosleep(&tick, NULL);
	}
	printf("state %c\n", st);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die(2, "usage: see the comment at the top of blkio_helper.c");
	argc--;
	argv++;
	if (!strcmp(argv[0], "rand"))
		return cmd_rand(argc, argv);
	if (!strcmp(argv[0], "aio"))
		return cmd_aio(argc, argv);
	if (!strcmp(argv[0], "cmp"))
		return cmd_cmp(argc, argv);
	if (!strcmp(argv[0], "zeroout") || !strcmp(argv[0], "discard") ||
	    !strcmp(argv[0], "punch") || !strcmp(argv[0], "zerorange"))
		return cmd_range(argc, argv);
	if (!strcmp(argv[0], "fsync"))
		return cmd_fsync(argc, argv);
	if (!strcmp(argv[0], "excl"))
		return cmd_excl(argc, argv);
	if (!strcmp(argv[0], "loop"))
		return cmd_loop(argc, argv);
	if (!strcmp(argv[0], "lb-kick"))
		return cmd_lb_kick(argc, argv);
	if (!strcmp(argv[0], "wait-state"))
		return cmd_wait_state(argc, argv);
	die(2, "unknown command '%s'", argv[0]);
	return 2;
}

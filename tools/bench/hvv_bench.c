// SPDX-License-Identifier: GPL-2.0
/*
 * hvv-bench: the small measuring programs of `make bench`, run inside the
 * guest (static, no libraries).  One subcommand per job:
 *
 *   rtt RAWFILE ZONE ADDR COUNT [CPU]
 *       Blocking register reads through the bridge, one per write(2) to
 *       the loopback zone's debugfs "raw" file ("r ZONE ADDR 4"),
 *       interleaved with writes the file refuses before any bridge work
 *       ("r ZONE x 4": EINVAL after the parse), which time the syscall
 *       and parse alone.  Pinned to CPU if given.  Prints
 *       "rtt_med_ns= rtt_p99_ns= rtt_mean_ns= floor_med_ns= floor_p99_ns=
 *        floor_mean_ns= n=".
 *
 *   tcp-recv PORT SECONDS
 *       Accepts one connection and reads until EOF (or SECONDS + 30 s);
 *       prints "bytes= secs= gbps=", from the first byte to the last.
 *   tcp-send IP PORT SECONDS
 *       Connects and writes 64 KiB buffers for SECONDS, then closes.
 *
 *   udp-recv PORT SECONDS SIZE
 *       Counts datagrams of SIZE bytes until none came for 1 s (or
 *       SECONDS + 30 s); prints "pkts= secs= pps= bad=", from the first
 *       datagram to the last.
 *   udp-send IP PORT SECONDS SIZE
 *       Sends SIZE-byte datagrams as fast as sendto(2) takes them for
 *       SECONDS; prints "sent= dropped= secs= pps=" (dropped: ENOBUFS
 *       and EAGAIN refusals).
 *
 *   sync-wait PORT SECONDS
 *       Accepts one TCP connection (within SECONDS) and exits 0: the
 *       other side said "go".
 *   sync IP PORT SECONDS
 *       Connects to IP:PORT, trying again every 50 ms while the port is
 *       refused or unreachable, for at most SECONDS; exits 0 once
 *       connected.  Two machines with no other channel order their
 *       steps with this pair.
 *
 *   spin CPU SECONDS
 *       Busy-loops on CPU at SCHED_IDLE priority for SECONDS: the CPU
 *       never idles (under TCG: its vCPU thread never sleeps in the
 *       host), yet any other task preempts the loop at once.
 *
 * Every receiver prints "ready" once it listens, so a script can start
 * the sender then.  Exit status 0, 1 on error, 2 on usage.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define TCP_BUF		(64 * 1024)
#define UDP_MAX		65536
#define GRACE_S		30

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int die(const char *what)
{
	fprintf(stderr, "hvv-bench: %s: %s\n", what, strerror(errno));
	return 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v; median, p99 and mean of its n values. */
static void summary(uint64_t *v, size_t n, uint64_t *med, uint64_t *p99,
		    uint64_t *mean)
{
	uint64_t sum = 0;
	size_t i;

	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		sum += v[i];
	*med = v[n / 2];
	*p99 = v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
	*mean = sum / n;
}

static int pin(const char *cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(atoi(cpu), &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return die("sched_setaffinity");
	return 0;
}

static int cmd_rtt(int argc, char **argv)
{
	char good[96], bad[96];
	uint64_t *rtt, *floor, t0, m, p, a, fm, fp, fa;
	size_t n, i;
	int fd, lg, lb;

	if (argc < 4)
		return 2;
	n = strtoul(argv[3], NULL, 0);
	if (n < 100)
		return 2;
	if (argc > 4 && pin(argv[4]))
		return 1;
	lg = snprintf(good, sizeof(good), "r %s %s 4\n", argv[1], argv[2]);
	lb = snprintf(bad, sizeof(bad), "r %s x 4\n", argv[1]);
	rtt = calloc(n, sizeof(*rtt));
	floor = calloc(n, sizeof(*floor));
	if (!rtt || !floor)
		return die("calloc");
	fd = open(argv[0], O_WRONLY);
	if (fd < 0)
		return die(argv[0]);
	/* Warm up caches and the CPU's idle state, unmeasured. */
	for (i = 0; i < 200; i++) {
		if (write(fd, good, lg) != lg)
			return die("write (read access)");
	}
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if (write(fd, good, lg) != lg)
			return die("write (read access)");
		rtt[i] = now_ns() - t0;
		t0 = now_ns();
		if (write(fd, bad, lb) >= 0 || errno != EINVAL) {
			fprintf(stderr, "hvv-bench: the raw file took '%s'\n", bad);
			return 1;
		}
		floor[i] = now_ns() - t0;
	}
	close(fd);
	summary(rtt, n, &m, &p, &a);
	summary(floor, n, &fm, &fp, &fa);
	printf("rtt_med_ns=%llu rtt_p99_ns=%llu rtt_mean_ns=%llu floor_med_ns=%llu floor_p99_ns=%llu floor_mean_ns=%llu n=%zu\n",
	       (unsigned long long)m, (unsigned long long)p,
	       (unsigned long long)a, (unsigned long long)fm,
	       (unsigned long long)fp, (unsigned long long)fa, n);
	return 0;
}

static int sockaddr_of(struct sockaddr_in *sa, const char *ip, const char *port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(port));
	if (!ip) {
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
		fprintf(stderr, "hvv-bench: bad address %s\n", ip);
		return -1;
	}
	return 0;
}

static void set_timeout(int fd, int opt, int secs)
{
	struct timeval tv = { .tv_sec = secs };

	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* A TCP socket listening on any address at PORT; -1 when it failed (said). */
static int tcp_listen(const char *port)
{
	struct sockaddr_in sa;
	int ls, one = 1;

	sockaddr_of(&sa, NULL, port);	/* no address: cannot fail */
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0) {
		die("socket");
		return -1;
	}
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1)) {
		die("bind/listen");
		return -1;
	}
	return ls;
}

static int cmd_tcp_recv(int argc, char **argv)
{
	static char buf[TCP_BUF];
	uint64_t bytes = 0, first = 0, last = 0, limit;
	int ls, fd;
	ssize_t r;

	if (argc != 2)
		return 2;
	ls = tcp_listen(argv[0]);
	if (ls < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	set_timeout(ls, SO_RCVTIMEO, atoi(argv[1]) + GRACE_S);
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		return die("accept");
	set_timeout(fd, SO_RCVTIMEO, 5);
	limit = (uint64_t)(atoi(argv[1]) + GRACE_S) * 1000000000ull;
	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		last = now_ns();
		if (!first)
			first = last;
		bytes += r;
		if (last - first > limit)
			break;
	}
	close(fd);
	close(ls);
	if (!bytes || last == first) {
		fprintf(stderr, "hvv-bench: tcp-recv: nothing received\n");
		return 1;
	}
	printf("bytes=%llu secs=%.3f gbps=%.4f\n", (unsigned long long)bytes,
	       (last - first) / 1e9, bytes * 8.0 / (last - first));
	return 0;
}

static int cmd_tcp_send(int argc, char **argv)
{
	struct sockaddr_in sa;
	static char buf[TCP_BUF];
	uint64_t end, bytes = 0;
	ssize_t r;
	int fd;

	if (argc != 3)
		return 2;
	if (sockaddr_of(&sa, argv[0], argv[1]))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	memset(buf, 0x5a, sizeof(buf));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return die("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return die("connect");
	end = now_ns() + (uint64_t)atoi(argv[2]) * 1000000000ull;
	while (now_ns() < end) {
		r = write(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return die("write");
		bytes += r;
	}
	close(fd);
	printf("sent=%llu\n", (unsigned long long)bytes);
	return 0;
}

static int cmd_udp_recv(int argc, char **argv)
{
	struct sockaddr_in sa;
	static char buf[UDP_MAX];
	uint64_t pkts = 0, bad = 0, first = 0, last = 0, limit;
	int fd, rcvbuf = 4 << 20;
	size_t size;
	ssize_t r;

	if (argc != 3)
		return 2;
	if (sockaddr_of(&sa, NULL, argv[0]))
		return 2;
	size = strtoul(argv[2], NULL, 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return die("socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return die("bind");
	printf("ready\n");
	fflush(stdout);
	/* The first datagram may take a while: the sender starts later. */
	set_timeout(fd, SO_RCVTIMEO, GRACE_S);
	limit = (uint64_t)(atoi(argv[1]) + GRACE_S) * 1000000000ull;
	for (;;) {
		r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		last = now_ns();
		if (!first) {
			first = last;
			set_timeout(fd, SO_RCVTIMEO, 1);
		}
		if ((size_t)r == size)
			pkts++;
		else
			bad++;
		if (last - first > limit)
			break;
	}
	close(fd);
	if (pkts < 2 || last == first) {
		fprintf(stderr, "hvv-bench: udp-recv: nothing received\n");
		return 1;
	}
	printf("pkts=%llu secs=%.3f pps=%.0f bad=%llu\n",
	       (unsigned long long)pkts, (last - first) / 1e9,
	       (pkts - 1) * 1e9 / (last - first), (unsigned long long)bad);
	return 0;
}

static int cmd_udp_send(int argc, char **argv)
{
	struct sockaddr_in sa;
	static char buf[UDP_MAX];
	uint64_t start, end, t, sent = 0, dropped = 0;
	size_t size;
	unsigned int i;
	int fd;

	if (argc != 4)
		return 2;
	if (sockaddr_of(&sa, argv[0], argv[1]))
		return 2;
	size = strtoul(argv[3], NULL, 0);
	if (!size || size > UDP_MAX - 64)
		return 2;
	memset(buf, 0xa5, size);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return die("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return die("connect");
	start = now_ns();
	end = start + (uint64_t)atoi(argv[2]) * 1000000000ull;
	do {
		/* Read the clock once per 64 datagrams. */
		for (i = 0; i < 64; i++) {
			if (send(fd, buf, size, 0) == (ssize_t)size) {
				sent++;
			} else if (errno == ENOBUFS || errno == EAGAIN ||
				   errno == ECONNREFUSED) {
				dropped++;
			} else if (errno != EINTR) {
				return die("send");
			}
		}
		t = now_ns();
	} while (t < end);
	close(fd);
	printf("sent=%llu dropped=%llu secs=%.3f pps=%.0f\n",
	       (unsigned long long)sent, (unsigned long long)dropped,
	       (t - start) / 1e9, sent * 1e9 / (t - start));
	return 0;
}

static int cmd_sync_wait(int argc, char **argv)
{
	int ls, fd;

	if (argc != 2)
		return 2;
	ls = tcp_listen(argv[0]);
	if (ls < 0)
		return 1;
	set_timeout(ls, SO_RCVTIMEO, atoi(argv[1]));
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		return die("accept");
	close(fd);
	close(ls);
	return 0;
}

static int cmd_sync(int argc, char **argv)
{
	struct sockaddr_in sa;
	uint64_t end;
	int fd;

	if (argc != 3)
		return 2;
	if (sockaddr_of(&sa, argv[0], argv[1]))
		return 2;
	end = now_ns() + (uint64_t)atoi(argv[2]) * 1000000000ull;
	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return die("socket");
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(fd);
		/* Not listening yet (or no route yet): try again. */
		if ((errno != ECONNREFUSED && errno != EHOSTUNREACH &&
		     errno != ENETUNREACH && errno != ETIMEDOUT &&
		     errno != EINTR) || now_ns() > end)
			return die("connect");
		usleep(50000);
	}
	close(fd);
	return 0;
}

static int cmd_spin(int argc, char **argv)
{
	struct sched_param sp = { 0 };
	volatile unsigned long n = 0;
	uint64_t end;

	if (argc != 2)
		return 2;
	if (pin(argv[0]))
		return 1;
	if (sched_setscheduler(0, SCHED_IDLE, &sp))
		return die("sched_setscheduler");
	end = now_ns() + (uint64_t)atoi(argv[1]) * 1000000000ull;
	while (now_ns() < end)
		n++;
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
} cmds[] = {
	{ "rtt", cmd_rtt, "RAWFILE ZONE ADDR COUNT [CPU]" },
	{ "tcp-recv", cmd_tcp_recv, "PORT SECONDS" },
	{ "tcp-send", cmd_tcp_send, "IP PORT SECONDS" },
	{ "udp-recv", cmd_udp_recv, "PORT SECONDS SIZE" },
	{ "udp-send", cmd_udp_send, "IP PORT SECONDS SIZE" },
	{ "sync-wait", cmd_sync_wait, "PORT SECONDS" },
	{ "sync", cmd_sync, "IP PORT SECONDS" },
	{ "spin", cmd_spin, "CPU SECONDS" },
};

int main(int argc, char **argv)
{
	size_t i;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		ret = cmds[i].fn(argc - 2, argv + 2);
		if (ret == 2)
			fprintf(stderr, "usage: hvv-bench %s %s\n", cmds[i].name,
				cmds[i].usage);
		return ret;
	}
	fprintf(stderr, "usage: hvv-bench rtt|tcp-recv|tcp-send|udp-recv|udp-send|sync-wait|sync|spin ...\n");
	return 2;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * net_helper: UDP traffic for the net_*.sh selftests (busybox nc has no
 * UDP). Not a test itself: run-selftests skips *_helper programs.
 *
 *   net_helper udp-recv PORT COUNT SIZE IDLE_MS
 *	receive COUNT datagrams of SIZE bytes on PORT, until all came or
 *	nothing came for IDLE_MS; check that each sequence number arrives
 *	once with its payload intact. Prints "ready" once bound (on stdout,
 *	flushed), then one summary line. Exit 0 when all came intact.
 *   net_helper udp-send ADDR PORT COUNT SIZE BURST GAP_US
 *	send COUNT datagrams of SIZE (>= 8) bytes to ADDR:PORT, BURST at a
 *	time with GAP_US microseconds between bursts. Exit 0 when all were
 *	sent.
 *   net_helper tcp-send ADDR PORT FILE
 *	send FILE over TCP to ADDR:PORT in writes of 256 KiB (busybox nc
 *	writes a few KiB at a time, which leaves the stack nothing to make
 *	GSO frames of), then close. Exit 0 when all was sent.
 *   net_helper offload IFNAME tx|sg|tso|gso on|off
 *	switch one offload of an interface, as ethtool -K does (busybox has
 *	no ethtool); prints the offloads afterwards.
 *   net_helper offload IFNAME
 *	print the offloads: "tx on sg on tso on gso on".
 *   net_helper ring IFNAME [RX TX]
 *	resize the interface's rings, as ethtool -G does (virtio_net resets
 *	each queue on its own for that: VIRTIO_F_RING_RESET); prints the
 *	sizes afterwards: "rx 256 tx 256 max 256 256".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE	65507
#define RCVBUF		(64 << 20)

static unsigned long num(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "net_helper: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* Byte i of datagram seq: a pattern a lost or shifted byte breaks. */
static uint8_t pattern(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 7 + i * 13 + (i >> 8));
}

static void fill(uint8_t *buf, uint32_t seq, size_t size)
{
	size_t i;

	memcpy(buf, &seq, sizeof(seq));
	memcpy(buf + 4, &seq, sizeof(seq));
	for (i = 8; i < size; i++)
		buf[i] = pattern(seq, i);
}

static int udp_recv(int argc, char **argv)
{
	unsigned long port, count, size, idle;
	unsigned long got = 0, bad = 0, dup = 0, other = 0;
	struct sockaddr_in sin;
	struct pollfd pfd;
	uint8_t *seen, *buf;
	int fd, rcvbuf = RCVBUF;
	uint32_t seq, seq2;
	size_t i;

	if (argc != 6)
		return 2;
	port = num(argv[2], "port");
	count = num(argv[3], "count");
	size = num(argv[4], "size");
	idle = num(argv[5], "idle time");
	if (size < 8 || size > MAX_SIZE || !count)
		return 2;
	seen = calloc(count, 1);
	buf = malloc(MAX_SIZE);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!seen || !buf || fd < 0) {
		perror("net_helper: udp-recv");
		return 1;
	}
	/* Room for the whole burst: this is about the device, not us. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		perror("net_helper: bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got < count) {
		ssize_t n;
		int r = poll(&pfd, 1, idle);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = recv(fd, buf, MAX_SIZE, 0);
		if (n < 0)
			continue;
		if ((size_t)n != size) {
			other++;
			continue;
		}
		memcpy(&seq, buf, sizeof(seq));
		memcpy(&seq2, buf + 4, sizeof(seq2));
		if (seq != seq2 || seq >= count) {
			bad++;
			continue;
		}
		for (i = 8; i < size; i++)
			if (buf[i] != pattern(seq, i))
				break;
		if (i < size) {
			bad++;
			continue;
		}
		if (seen[seq]) {
			dup++;
			continue;
		}
		seen[seq] = 1;
		got++;
	}
	printf("received %lu of %lu datagrams of %lu bytes; %lu corrupt, %lu duplicate, %lu of another size\n",
	       got, count, size, bad, dup, other);
	return got == count && !bad && !dup ? 0 : 1;
}

static int udp_send(int argc, char **argv)
{
	unsigned long port, count, size, burst, gap, i;
	struct sockaddr_in sin;
	struct timespec ts;
	uint8_t *buf;
	int fd;

	if (argc != 8)
		return 2;
	port = num(argv[3], "port");
	count = num(argv[4], "count");
	size = num(argv[5], "size");
	burst = num(argv[6], "burst");
	gap = num(argv[7], "gap");
	if (size < 8 || size > MAX_SIZE || !burst)
		return 2;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1) {
		fprintf(stderr, "net_helper: bad address '%s'\n", argv[2]);
		return 2;
	}
	buf = malloc(size);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!buf || fd < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		perror("net_helper: udp-send");
		return 1;
	}
	ts.tv_sec = gap / 1000000;
	ts.tv_nsec = (gap % 1000000) * 1000;
	for (i = 0; i < count; i++) {
		fill(buf, i, size);
		while (send(fd, buf, size, 0) < 0) {
			/* A full queue below us: wait, do not lose it. */
			if (errno != ENOBUFS && errno != EAGAIN &&
			    errno != EINTR) {
				perror("net_helper: send");
				return 1;
			}
			usleep(1000);
		}
		if ((i + 1) % burst == 0 && gap)
			nanosleep(&ts, NULL);
	}
	printf("sent %lu datagrams of %lu bytes\n", count, size);
	return 0;
}

static int tcp_send(int argc, char **argv)
{
	static char buf[256 << 10];
	struct sockaddr_in sin;
	int fd, in;
	ssize_t n, w;

	if (argc != 5)
		return 2;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(num(argv[3], "port"));
	if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1) {
		fprintf(stderr, "net_helper: bad address '%s'\n", argv[2]);
		return 2;
	}
	in = open(argv[4], O_RDONLY);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (in < 0 || fd < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		perror("net_helper: tcp-send");
		return 1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (w = 0; w < n;) {
			ssize_t r = write(fd, buf + w, n - w);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				perror("net_helper: write");
				return 1;
			}
			w += r;
		}
	}
	if (n < 0) {
		perror("net_helper: read");
		return 1;
	}
	/* The FIN follows the data; the receiver checks what it got. */
	return close(fd) ? 1 : 0;
}

static const struct {
	const char *name;
	__u32 get, set;
} offloads[] = {
	{ "tx", ETHTOOL_GTXCSUM, ETHTOOL_STXCSUM },
	{ "sg", ETHTOOL_GSG, ETHTOOL_SSG },
	{ "tso", ETHTOOL_GTSO, ETHTOOL_STSO },
	{ "gso", ETHTOOL_GGSO, ETHTOOL_SGSO },
};

static int ethtool_value(int fd, const char *ifname, __u32 cmd, __u32 *val)
{
	struct ethtool_value ev = { .cmd = cmd, .data = *val };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		return -1;
	*val = ev.data;
	return 0;
}

static int offload(int argc, char **argv)
{
	unsigned int i;
	__u32 v;
	int fd;

	if (argc != 3 && argc != 5)
		return 2;
	if (strlen(argv[2]) >= IFNAMSIZ)
		return 2;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("net_helper: socket");
		return 1;
	}
	if (argc == 5) {
		for (i = 0; i < sizeof(offloads) / sizeof(offloads[0]); i++)
			if (!strcmp(argv[3], offloads[i].name))
				break;
		if (i == sizeof(offloads) / sizeof(offloads[0]) ||
		    (strcmp(argv[4], "on") && strcmp(argv[4], "off")))
			return 2;
		v = !strcmp(argv[4], "on");
		if (ethtool_value(fd, argv[2], offloads[i].set, &v)) {
			fprintf(stderr, "net_helper: %s %s %s: %s\n", argv[2],
				argv[3], argv[4], strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < sizeof(offloads) / sizeof(offloads[0]); i++) {
		v = 0;
		if (ethtool_value(fd, argv[2], offloads[i].get, &v)) {
			fprintf(stderr, "net_helper: %s: %s\n", argv[2],
				strerror(errno));
			return 1;
		}
		printf("%s%s %s", i ? " " : "", offloads[i].name,
		       v ? "on" : "off");
	}
	printf("\n");
	return 0;
}

static int ring(int argc, char **argv)
{
	struct ethtool_ringparam rp = { .cmd = ETHTOOL_GRINGPARAM };
	struct ifreq ifr;
	int fd;

	if ((argc != 3 && argc != 5) || strlen(argv[2]) >= IFNAMSIZ)
		return 2;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("net_helper: socket");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, argv[2], IFNAMSIZ - 1);
	ifr.ifr_data = (void *)&rp;
	if (argc == 5) {
		if (ioctl(fd, SIOCETHTOOL, &ifr)) {
			fprintf(stderr, "net_helper: %s: %s\n", argv[2],
				strerror(errno));
			return 1;
		}
		rp.cmd = ETHTOOL_SRINGPARAM;
		rp.rx_pending = strtoul(argv[3], NULL, 0);
		rp.tx_pending = strtoul(argv[4], NULL, 0);
		if (ioctl(fd, SIOCETHTOOL, &ifr)) {
			fprintf(stderr, "net_helper: %s: rings %s/%s: %s\n",
				argv[2], argv[3], argv[4], strerror(errno));
			return 1;
		}
		rp.cmd = ETHTOOL_GRINGPARAM;
	}
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		fprintf(stderr, "net_helper: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	printf("rx %u tx %u max %u %u\n", rp.rx_pending, rp.tx_pending,
	       rp.rx_max_pending, rp.tx_max_pending);
	return 0;
}

int main(int argc, char **argv)
{
	int ret = 2;

	if (argc >= 2 && !strcmp(argv[1], "udp-recv"))
		ret = udp_recv(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "udp-send"))
		ret = udp_send(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "tcp-send"))
		ret = tcp_send(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "offload"))
		ret = offload(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "ring"))
		ret = ring(argc, argv);
	if (ret == 2)
		fprintf(stderr,
			"usage: net_helper udp-recv PORT COUNT SIZE IDLE_MS\n"
			"       net_helper udp-send ADDR PORT COUNT SIZE BURST GAP_US\n"
			"       net_helper tcp-send ADDR PORT FILE\n"
			"       net_helper offload IFNAME [tx|sg|tso|gso on|off]\n"
			"       net_helper ring IFNAME [RX TX]\n");
	return ret;
}

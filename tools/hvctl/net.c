// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl add-net, attach-net and detach-net: virtio-net devices and their
 * taps.
 *
 * The module takes a tap as an open file.  hvctl opens it the way the
 * module needs it: /dev/net/tun with TUNSETIFF(IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR) on the interface name (which creates the tap if it does
 * not exist), then a 12-byte little-endian virtio-net header
 * (TUNSETVNETHDRSZ, TUNSETVNETLE): the tap reads those values from user
 * memory, so the module cannot set them itself.  A macvtap is given as
 * the path of its character device (/dev/tapN) and set up the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "hvctl.h"

#define TUN_PATH		"/dev/net/tun"
/* The virtio 1.x header: struct virtio_net_hdr_mrg_rxbuf. */
#define VNET_HDR_LEN		12
#define MAX_PAIRS		16

void help_add_net(FILE *out)
{
	fprintf(out,
		"Usage: %s add-net [<tap>] --zone Z --mmio BASE [--size SIZE] --irq N\n"
		"                  [--mac MAC] [--mtu N] [--queues N] [--no-offload]\n"
		"\n"
		"Give zone Z a virtio-net device whose virtio-mmio registers are\n"
		"at guest-physical BASE, raising interrupt N in the zone, backed by\n"
		"the tap interface <tap> of root. Prints the new device's id.\n"
		"\n"
		"<tap> is an interface name: hvctl attaches to that tun/tap\n"
		"interface, or creates it if there is none (a tap hvctl creates\n"
		"lives as long as the device holds it; create it beforehand, e.g.\n"
		"with 'tunctl -t NAME', to keep it across a detach). A path such\n"
		"as /dev/tap5 names a macvtap instead. Without <tap> the device\n"
		"starts with its link down (see attach-net). Bring the tap up\n"
		"and give it an address with the usual tools.\n"
		"\n"
		"  --zone Z       zone the device belongs to (see '%s zone add')\n"
		"  --mmio BASE    guest-physical base of the register window\n"
		"  --size SIZE    size of the window (default 0x%x, at least 0x200)\n"
		"  --irq N        interrupt injected into the zone (GIC INTID)\n"
		"  --mac MAC      the device's MAC (default: a random locally\n"
		"                 administered one)\n"
		"  --mtu N        MTU announced to the zone (default 1500); also\n"
		"                 set on a tun/tap interface\n"
		"  --queues N     queue pairs (default 1); a tun/tap is then opened\n"
		"                 with N queues (IFF_MULTI_QUEUE)\n"
		"  --no-offload   offer the zone no checksum or TSO offload\n",
		prog, prog, DEFAULT_MMIO_SIZE);
}

void help_attach_net(FILE *out)
{
	fprintf(out,
		"Usage: %s attach-net <dev-id> <tap>\n"
		"\n"
		"Make <tap> the backend of virtio-net device <dev-id> (see\n"
		"'%s list'), replacing the tap it has; the zone sees its link\n"
		"come up. <tap> is opened as for add-net.\n", prog, prog);
}

void help_detach_net(FILE *out)
{
	fprintf(out,
		"Usage: %s detach-net <dev-id>\n"
		"\n"
		"Take the tap away from virtio-net device <dev-id>: the zone sees\n"
		"its link go down, frames it sends are dropped. A tap that hvctl\n"
		"created disappears with it.\n", prog);
}

/* A macvtap is named by the path of its character device. */
static bool is_path(const char *tap)
{
	return strchr(tap, '/');
}

/* The name the module shows for @tap: the interface, or the path's end. */
static void tap_label(const char *tap, char *label)
{
	const char *s = strrchr(tap, '/');

	memset(label, 0, HVISOR_VHOST_IFNAMSIZ);
	strncpy(label, s ? s + 1 : tap, HVISOR_VHOST_IFNAMSIZ - 1);
}

/* Give @fd the virtio-net header the module uses. */
static int set_vnet_hdr(int fd, const char *tap)
{
	int sz = VNET_HDR_LEN, le = 1;

	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
		err_msg("%s: cannot set the virtio-net header size: %s", tap,
			strerror(errno));
		return -1;
	}
	if (ioctl(fd, TUNSETVNETLE, &le) < 0 && errno != EINVAL) {
		err_msg("%s: cannot make the virtio-net header little-endian: %s",
			tap, strerror(errno));
		return -1;
	}
	return 0;
}

static void close_all(int *fds, unsigned int n)
{
	while (n--)
		close(fds[n]);
}

/*
 * Open @n queues of the tun/tap interface @tap, or the macvtap device at
 * the path @tap; exits on failure.
 */
static void open_tap(const char *cmd, const char *tap, unsigned int n,
		     int *fds)
{
	struct ifreq ifr;
	unsigned int i;

	if (!is_path(tap) && (!*tap || strlen(tap) >= IFNAMSIZ))
		usage_error(cmd, "bad interface name '%s'", tap);
	for (i = 0; i < n; i++) {
		fds[i] = open(is_path(tap) ? tap : TUN_PATH,
			      O_RDWR | O_CLOEXEC);
		if (fds[i] < 0) {
			int e = errno;

			close_all(fds, i);
			if (is_path(tap) && (e == ENOENT || e == ENOTDIR))
				usage_error(cmd, "%s: no such device", tap);
			err_msg("cannot open %s: %s%s",
				is_path(tap) ? tap : TUN_PATH, strerror(e),
				e == ENOENT ? " (is the tun module loaded?)" : "");
			exit(EXIT_FAILED);
		}
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		if (n > 1)
			ifr.ifr_flags |= IFF_MULTI_QUEUE;
		if (!is_path(tap))
			strncpy(ifr.ifr_name, tap, IFNAMSIZ - 1);
		if (ioctl(fds[i], TUNSETIFF, &ifr) < 0) {
			int e = errno;

			close_all(fds, i + 1);
			if (e == EBUSY)
				err_msg("cannot attach to %s: it is in use by another program or device",
					tap);
			else if (e == EINVAL && !is_path(tap))
				err_msg("cannot attach to %s: not a tap, or its multi-queue setting differs from --queues %u",
					tap, n);
			else
				err_msg("cannot attach to %s: %s", tap,
					strerror(e));
			exit(EXIT_FAILED);
		}
		if (set_vnet_hdr(fds[i], tap)) {
			close_all(fds, i + 1);
			exit(EXIT_FAILED);
		}
	}
}

/* The tap's MTU, so that frames of the zone's MTU pass both ways. */
static void set_tap_mtu(const char *tap, unsigned int mtu)
{
	struct ifreq ifr;
	int s;

	if (is_path(tap))
		return;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, tap, IFNAMSIZ - 1);
	ifr.ifr_mtu = mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		fprintf(stderr, "%s: note: cannot set the MTU of %s to %u: %s\n",
			prog, tap, mtu, strerror(errno));
	close(s);
}

/* Errors of DEV_ADD and DEV_ATTACH that concern the tap. */
static bool tap_error(const char *what, int e, const char *tap)
{
	switch (e) {
	case EBADF:
		err_msg("%s: %s: the module could not use the descriptor (%s)",
			what, tap, strerror(e));
		return true;
	case ENOTSOCK:
		err_msg("%s: %s is not a tap (tun/tap or macvtap)", what, tap);
		return true;
	case ENXIO:
		err_msg("%s: %s has no interface any more", what, tap);
		return true;
	case EBUSY:
		err_msg("%s: %s is already the backend of another device",
			what, tap);
		return true;
	}
	return false;
}

/* Attach @fd as queue pair @pair of @dev; returns errno or 0. */
static int attach(int fd, uint32_t dev, uint32_t pair, int tfd,
		  const char *tap)
{
	struct hvisor_vhost_attach a;

	memset(&a, 0, sizeof(a));
	a.dev_id = dev;
	a.fd = tfd;
	a.queue_pair = pair;
	if (tap)
		tap_label(tap, a.ifname);
	return module_ioctl(fd, HVISOR_VHOST_IOC_DEV_ATTACH, &a) < 0 ? errno : 0;
}

int cmd_add_net(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "mmio", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "irq", required_argument, NULL, 'i' },
		{ "mac", required_argument, NULL, 'M' },
		{ "mtu", required_argument, NULL, 'u' },
		{ "queues", required_argument, NULL, 'q' },
		{ "no-offload", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *cmd = "add-net", *tap = NULL;
	struct window_opts w = { };
	struct hvisor_vhost_version ver;
	struct hvisor_vhost_dev d;
	unsigned int i, pairs;
	int fds[MAX_PAIRS];
	__u32 v;
	int c, fd, e;

	memset(&d, 0, sizeof(d));
	d.type = HVISOR_VHOST_DEV_NET;
	d.mmio_size = DEFAULT_MMIO_SIZE;
	d.backend_fd = -1;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":z:m:s:i:M:u:q:Oh", opts,
				NULL)) != -1) {
		switch (c) {
		case 'M':
			if (parse_mac(optarg, d.net.mac))
				usage_error(cmd, "bad MAC '%s'", optarg);
			if (d.net.mac[0] & 1)
				usage_error(cmd, "MAC %s is a multicast address",
					    optarg);
			break;
		case 'u':
			if (parse_u32(optarg, &v) || v < 68 || v > 65535)
				usage_error(cmd, "bad MTU '%s' (68..65535)", optarg);
			d.net.mtu = v;
			break;
		case 'q':
			if (parse_u32(optarg, &d.num_queues) || !d.num_queues ||
			    d.num_queues > MAX_PAIRS)
				usage_error(cmd, "bad queue pair count '%s' (1..%u)",
					    optarg, MAX_PAIRS);
			break;
		case 'O':
			d.net.flags |= HVISOR_VHOST_NET_F_NO_OFFLOAD;
			break;
		case 'h':
			help_add_net(stdout);
			return EXIT_OK;
		default:
			if (!window_opt(cmd, c, optarg, &d, &w))
				option_error(cmd, c, argv);
		}
	}
	if (optind < argc)
		tap = argv[optind++];
	if (optind < argc)
		usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	window_opts_check(cmd, &d, &w);
	pairs = d.num_queues ? d.num_queues : 1;

	fd = module_open(&ver);
	if (!(ver.features & HVISOR_VHOST_F_NET)) {
		err_msg("cannot add device: the module has no virtio-net support");
		close(fd);
		return EXIT_FAILED;
	}
	if (tap) {
		open_tap(cmd, tap, pairs, fds);
		if (d.net.mtu)
			set_tap_mtu(tap, d.net.mtu);
		d.backend_fd = fds[0];
		tap_label(tap, d.net.ifname);
	}
	if (module_ioctl(fd, HVISOR_VHOST_IOC_DEV_ADD, &d) < 0) {
		e = errno;
		if (!tap_error("cannot add device", e, tap ? tap : "-"))
			dev_add_error(fd, e, tap ? tap : "-", &d, &ver);
		if (tap)
			close_all(fds, pairs);
		close(fd);
		return EXIT_FAILED;
	}
	/* The other queues of a multi-queue tap, one per queue pair. */
	for (i = 1; tap && i < pairs; i++) {
		e = attach(fd, d.dev_id, i, fds[i], tap);
		if (e) {
			if (!tap_error("cannot attach queue", e, tap))
				err_msg("cannot attach queue %u of %s: %s", i,
					tap, strerror(e));
			close_all(fds, pairs);
			close(fd);
			return EXIT_FAILED;
		}
	}
	/* The module holds its own references to the tap. */
	if (tap)
		close_all(fds, pairs);
	close(fd);
	printf("%u\n", d.dev_id);
	return EXIT_OK;
}

/* The net device @id, or exit. */
static void get_net_dev(const char *cmd, int fd, uint32_t id,
			struct hvisor_vhost_dev *d)
{
	memset(d, 0, sizeof(*d));
	d->dev_id = id;
	if (module_ioctl(fd, HVISOR_VHOST_IOC_DEV_NEXT, d) < 0 ||
	    d->dev_id != id) {
		err_msg("%s: no device %u", cmd, id);
		exit(EXIT_FAILED);
	}
	if (d->type != HVISOR_VHOST_DEV_NET) {
		err_msg("%s: device %u is not a virtio-net device", cmd, id);
		exit(EXIT_FAILED);
	}
	if (!d->num_queues || d->num_queues > MAX_PAIRS) {
		err_msg("%s: device %u has %u queue pairs", cmd, id,
			d->num_queues);
		exit(EXIT_FAILED);
	}
}

static int parse_dev_id(const char *cmd, const char *s, uint32_t *id)
{
	if (parse_u32(s, id) || !*id)
		usage_error(cmd, "bad device id '%s'", s);
	return 0;
}

static int attach_err(const char *cmd, uint32_t dev, int e, const char *tap)
{
	char what[64];

	snprintf(what, sizeof(what), "%s: device %u", cmd, dev);
	if (e == ENOENT)
		err_msg("%s: no such device", what);
	else if (e == ENOTTY)
		err_msg("%s: the module cannot attach backends (%s)", what,
			strerror(e));
	else if (e == EPERM || e == EACCES)
		err_msg("%s: %s (needs root)", what, strerror(e));
	else if (!tap || !tap_error(what, e, tap))
		err_msg("%s: %s", what, strerror(e));
	return EXIT_FAILED;
}

int cmd_attach_net(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *cmd = "attach-net", *tap;
	struct hvisor_vhost_version ver;
	struct hvisor_vhost_dev d;
	int fds[MAX_PAIRS];
	unsigned int i;
	uint32_t id;
	int c, fd, e = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			help_attach_net(stdout);
			return EXIT_OK;
		default:
			option_error(cmd, c, argv);
		}
	}
	if (argc - optind < 2)
		usage_error(cmd, "need a device id and a tap");
	if (argc - optind > 2)
		usage_error(cmd, "unexpected argument '%s'", argv[optind + 2]);
	parse_dev_id(cmd, argv[optind], &id);
	tap = argv[optind + 1];

	fd = module_open(&ver);
	get_net_dev(cmd, fd, id, &d);
	open_tap(cmd, tap, d.num_queues, fds);
	if (d.net.mtu)
		set_tap_mtu(tap, d.net.mtu);
	for (i = 0; i < d.num_queues && !e; i++)
		e = attach(fd, id, i, fds[i], tap);
	close_all(fds, d.num_queues);
	close(fd);
	return e ? attach_err(cmd, id, e, tap) : EXIT_OK;
}

int cmd_detach_net(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *cmd = "detach-net";
	struct hvisor_vhost_version ver;
	struct hvisor_vhost_dev d;
	unsigned int i;
	uint32_t id;
	int c, fd, e = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			help_detach_net(stdout);
			return EXIT_OK;
		default:
			option_error(cmd, c, argv);
		}
	}
	if (optind >= argc)
		usage_error(cmd, "missing device id");
	if (optind + 1 < argc)
		usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	parse_dev_id(cmd, argv[optind], &id);

	fd = module_open(&ver);
	get_net_dev(cmd, fd, id, &d);
	/* Pair 0 last: the link goes down when it has no tap. */
	for (i = d.num_queues; i-- > 0 && !e;)
		e = attach(fd, id, i, -1, NULL);
	close(fd);
	return e ? attach_err(cmd, id, e, NULL) : EXIT_OK;
}

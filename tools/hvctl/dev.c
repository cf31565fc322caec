// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl add-blk and del: creating and removing devices.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvctl.h"

void help_add_blk(FILE *out)
{
	fprintf(out,
		"Usage: %s add-blk <path> --zone Z --mmio BASE [--size SIZE] --irq N\n"
		"                  [--ro] [--serial S] [--queues N]\n"
		"\n"
		"Serve <path> to zone Z as a virtio-blk device\n"
		"whose virtio-mmio registers are at guest-physical BASE, raising\n"
		"interrupt N in the zone. Prints the new device's id.\n"
		"\n"
		"  --zone Z       zone the device belongs to (see '%s zone add')\n"
		"  --mmio BASE    guest-physical base of the register window\n"
		"  --size SIZE    size of the window (default 0x%x, at least 0x200)\n"
		"  --irq N        interrupt injected into the zone (GIC INTID)\n"
		"  --ro           read-only: open <path> read-only, refuse writes\n"
		"  --serial S     serial number the guest reads (at most %u bytes)\n"
		"  --queues N     number of request queues (default: the module's)\n"
		"\n"
		"<path> is a block device or an image file. An image is served\n"
		"through a loop device that hvctl sets up (direct I/O, read-only\n"
		"with --ro) and that goes away by itself when the device is\n"
		"removed ('%s del'); '%s list' shows both.\n",
		prog, prog, DEFAULT_MMIO_SIZE, HVISOR_VHOST_BLK_SERIAL_LEN,
		prog, prog);
}

void help_del(FILE *out)
{
	fprintf(out,
		"Usage: %s del <dev-id>\n"
		"\n"
		"Remove device <dev-id> (see '%s list'), after its I/O has\n"
		"stopped.\n", prog, prog);
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* EEXIST from DEV_ADD: find the device in the way and name it. */
static void dev_eexist(int fd, const struct hvisor_vhost_dev *d)
{
	unsigned long long base = d->mmio_base;
	unsigned long long last = d->mmio_base + d->mmio_size - 1;
	struct hvisor_vhost_dev o;
	uint32_t next = 0;

	for (;;) {
		memset(&o, 0, sizeof(o));
		o.dev_id = next;
		if (module_ioctl(fd, HVISOR_VHOST_IOC_DEV_NEXT, &o) < 0 ||
		    o.dev_id < next)
			break;
		if (o.zone_id == d->zone_id &&
		    overlaps(d->mmio_base, d->mmio_size, o.mmio_base,
			     o.mmio_size)) {
			err_msg("cannot add device: MMIO window 0x%llx-0x%llx overlaps device %u's (0x%llx-0x%llx) in zone %u",
				base, last, o.dev_id,
				(unsigned long long)o.mmio_base,
				(unsigned long long)(o.mmio_base + o.mmio_size - 1),
				d->zone_id);
			return;
		}
		if (o.zone_id == d->zone_id && o.irq == d->irq) {
			err_msg("cannot add device: IRQ %u is already used by device %u in zone %u",
				d->irq, o.dev_id, d->zone_id);
			return;
		}
		if (o.dev_id == UINT32_MAX)
			break;
		next = o.dev_id + 1;
	}
	err_msg("cannot add device: MMIO window 0x%llx-0x%llx overlaps another device's, or IRQ %u is already used in zone %u",
		base, last, d->irq, d->zone_id);
}

/* EINVAL from DEV_ADD: say what is likely wrong. */
static void dev_einval(int fd, const struct hvisor_vhost_dev *d)
{
	unsigned long long base = d->mmio_base;
	unsigned long long last = d->mmio_base + d->mmio_size - 1;
	struct hvisor_vhost_zone z;
	unsigned int i;

	memset(&z, 0, sizeof(z));
	z.zone_id = d->zone_id;
	if (!module_ioctl(fd, HVISOR_VHOST_IOC_ZONE_NEXT, &z) &&
	    z.zone_id == d->zone_id) {
		for (i = 0; i < z.nr_regions && i < HVISOR_VHOST_MAX_REGIONS; i++) {
			const struct hvisor_vhost_region *r = &z.regions[i];

			if (!overlaps(d->mmio_base, d->mmio_size,
				      r->guest_phys, r->size))
				continue;
			err_msg("cannot add device: MMIO window 0x%llx-0x%llx lies in RAM of zone %u (0x%llx-0x%llx)",
				base, last, d->zone_id,
				(unsigned long long)r->guest_phys,
				(unsigned long long)(r->guest_phys + r->size - 1));
			return;
		}
	}
	err_msg("cannot add device: the module refused the parameters (%s): check the MMIO window 0x%llx-0x%llx (base and size aligned to 0x%x), IRQ %u and queue count",
		strerror(EINVAL), base, last, DEFAULT_MMIO_SIZE, d->irq);
}

void dev_add_error(int fd, int e, const char *path,
		   const struct hvisor_vhost_dev *d,
		   const struct hvisor_vhost_version *ver)
{
	const char *what = "cannot add device";

	switch (e) {
	case ENOENT:
		err_msg("%s: zone %u does not exist (create it with '%s zone add')",
			what, d->zone_id, prog);
		break;
	case EEXIST:
		dev_eexist(fd, d);
		break;
	case EINVAL:
		dev_einval(fd, d);
		break;
	case EBADF:
		err_msg("%s: %s: the module could not use the descriptor (%s)",
			what, path, strerror(e));
		break;
	case ENOTBLK:
		err_msg("%s: %s is not a block device", what, path);
		break;
	case EBUSY:
		err_msg("%s: %s is already in use (claimed by another device, mounted, or opened exclusively)",
			what, path);
		break;
	case ENOSPC:
		err_msg("%s: no room for another device (the module holds at most %u, and at most %u in one zone)",
			what, ver->max_devices, ver->max_zone_devices);
		break;
	case ENOTTY:
		err_msg("%s: the module does not support this device type (%s)",
			what, strerror(e));
		break;
	case EPERM:
	case EACCES:
		err_msg("%s: %s (needs root)", what, strerror(e));
		break;
	default:
		err_msg("%s: %s", what, strerror(e));
	}
}

/*
 * Open the backing block device, or set up a loop device over the image
 * @path (its path into @loop, else ""); exits on failure.
 */
static int open_backing(const char *path, bool ro, char *loop, size_t len)
{
	struct stat st;
	int fd;

	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		switch (e) {
		case ENOENT:
		case ENOTDIR:
			usage_error("add-blk", "%s: no such file or device",
				    path);
		case EISDIR:
			usage_error("add-blk",
				    "%s is a directory, not a block device or an image",
				    path);
		case EROFS:
		case EACCES:
			if (!ro) {
				err_msg("cannot open %s read-write: %s (use --ro for a read-only device)",
					path, strerror(e));
				exit(EXIT_FAILED);
			}
			fallthrough;
		default:
			err_msg("cannot open %s: %s", path, strerror(e));
			exit(EXIT_FAILED);
		}
	}
	if (fstat(fd, &st)) {
		err_msg("cannot stat %s: %s", path, strerror(errno));
		exit(EXIT_FAILED);
	}
	*loop = '\0';
	if (S_ISREG(st.st_mode)) {
		int lfd = loop_attach("add-blk", path, fd, ro, loop, len);

		/* The loop device holds the image now. */
		close(fd);
		return lfd;
	}
	if (!S_ISBLK(st.st_mode)) {
		close(fd);
		usage_error("add-blk", "%s is not a block device or an image file",
			    path);
	}
	return fd;
}

/*
 * Option @c with argument @arg, if it is one of the register window's
 * (see struct window_opts), into @d; false when it is not.  A bad value
 * is a usage error.
 */
bool window_opt(const char *cmd, int c, const char *arg,
		struct hvisor_vhost_dev *d, struct window_opts *w)
{
	switch (c) {
	case 'z':
		if (parse_u32(arg, &d->zone_id) || !d->zone_id)
			usage_error(cmd, "bad zone id '%s'", arg);
		w->zone = true;
		return true;
	case 'm':
		if (parse_u64(arg, &d->mmio_base))
			usage_error(cmd, "bad MMIO base '%s'", arg);
		w->mmio = true;
		return true;
	case 's':
		if (parse_size(arg, &d->mmio_size))
			usage_error(cmd, "bad MMIO size '%s'", arg);
		return true;
	case 'i':
		if (parse_u32(arg, &d->irq))
			usage_error(cmd, "bad IRQ '%s'", arg);
		w->irq = true;
		return true;
	default:
		return false;
	}
}

/* After the options: the window's are all there and make a window. */
void window_opts_check(const char *cmd, const struct hvisor_vhost_dev *d,
		       const struct window_opts *w)
{
	if (!w->zone)
		usage_error(cmd, "missing --zone");
	if (!w->mmio)
		usage_error(cmd, "missing --mmio");
	if (!w->irq)
		usage_error(cmd, "missing --irq");
	if (d->mmio_size < DEFAULT_MMIO_SIZE)
		usage_error(cmd, "MMIO size 0x%llx is below the minimum 0x%x",
			    (unsigned long long)d->mmio_size, DEFAULT_MMIO_SIZE);
	if (d->mmio_base + d->mmio_size < d->mmio_base)
		usage_error(cmd, "MMIO window beyond the 64-bit address space");
}

int cmd_add_blk(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "mmio", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "irq", required_argument, NULL, 'i' },
		{ "ro", no_argument, NULL, 'r' },
		{ "serial", required_argument, NULL, 'S' },
		{ "queues", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *cmd = "add-blk", *path, *serial = NULL;
	char loop[32];
	struct window_opts w = { };
	bool ro = false;
	struct hvisor_vhost_version ver;
	struct hvisor_vhost_dev d;
	int c, fd, bfd;

	memset(&d, 0, sizeof(d));
	d.type = HVISOR_VHOST_DEV_BLK;
	d.mmio_size = DEFAULT_MMIO_SIZE;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":z:m:s:i:rS:q:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 'r':
			ro = true;
			break;
		case 'S':
			serial = optarg;
			if (strlen(serial) > HVISOR_VHOST_BLK_SERIAL_LEN)
				usage_error(cmd, "serial '%s' is longer than %u bytes",
					    serial, HVISOR_VHOST_BLK_SERIAL_LEN);
			break;
		case 'q':
			if (parse_u32(optarg, &d.num_queues) || !d.num_queues)
				usage_error(cmd, "bad queue count '%s'", optarg);
			break;
		case 'h':
			help_add_blk(stdout);
			return EXIT_OK;
		default:
			if (!window_opt(cmd, c, optarg, &d, &w))
				option_error(cmd, c, argv);
		}
	}
	if (optind >= argc)
		usage_error(cmd, "missing block device path");
	if (optind + 1 < argc)
		usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	path = argv[optind];
	window_opts_check(cmd, &d, &w);
	if (ro)
		d.blk.flags |= HVISOR_VHOST_BLK_F_RO;
	if (serial)
		/* Not NUL-terminated when all 20 bytes are used. */
		memcpy(d.blk.serial, serial, strlen(serial));

	bfd = open_backing(path, ro, loop, sizeof(loop));
	fd = module_open(&ver);
	d.backend_fd = bfd;
	if (module_ioctl(fd, HVISOR_VHOST_IOC_DEV_ADD, &d) < 0) {
		dev_add_error(fd, errno, path, &d, &ver);
		close(fd);
		/* A loop device of ours comes apart here (autoclear). */
		close(bfd);
		return EXIT_FAILED;
	}
	/*
	 * The module holds its own reference to the block device; a loop
	 * device of ours lives as long as it does.
	 */
	close(bfd);
	if (!ro) {
		struct hvisor_vhost_dev info;

		/* The module makes the device read-only if the disk is. */
		memset(&info, 0, sizeof(info));
		info.dev_id = d.dev_id;
		if (!module_ioctl(fd, HVISOR_VHOST_IOC_DEV_NEXT, &info) &&
		    info.dev_id == d.dev_id &&
		    (info.blk.flags & HVISOR_VHOST_BLK_F_RO))
			fprintf(stderr, "%s: note: %s is read-only, so is device %u\n",
				prog, path, d.dev_id);
	}
	close(fd);
	printf("%u\n", d.dev_id);
	return EXIT_OK;
}

int cmd_del(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct hvisor_vhost_version ver;
	struct hvisor_vhost_id id;
	uint32_t dev;
	int c, fd;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			help_del(stdout);
			return EXIT_OK;
		default:
			option_error("del", c, argv);
		}
	}
	if (optind >= argc)
		usage_error("del", "missing device id");
	if (optind + 1 < argc)
		usage_error("del", "unexpected argument '%s'", argv[optind + 1]);
	if (parse_u32(argv[optind], &dev) || !dev)
		usage_error("del", "bad device id '%s'", argv[optind]);

	fd = module_open(&ver);
	memset(&id, 0, sizeof(id));
	id.id = dev;
	if (module_ioctl(fd, HVISOR_VHOST_IOC_DEV_DEL, &id) < 0) {
		int e = errno;

		if (e == ENOENT)
			err_msg("cannot remove device %u: no such device", dev);
		else if (e == ENOTTY)
			err_msg("cannot remove device %u: the module does not support devices (%s)",
				dev, strerror(e));
		else
			err_msg("cannot remove device %u: %s", dev, strerror(e));
		close(fd);
		return EXIT_FAILED;
	}
	close(fd);
	return EXIT_OK;
}

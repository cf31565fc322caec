// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl list: the zones (ZONE_NEXT) and devices (DEV_NEXT) of the module,
 * as a table or as JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvctl.h"

void help_list(FILE *out)
{
	fprintf(out,
		"Usage: %s list [--json]\n"
		"\n"
		"List the zones (id and RAM regions) and the devices (id, type,\n"
		"zone, MMIO window, IRQ, queues and backend) of the module.\n"
		"Zones and devices the device tree declared (made when the\n"
		"module loaded, and again at the next load if deleted) are\n"
		"marked [device tree].\n"
		"\n"
		"  --json   print one JSON object:\n"
		"           {\"zones\": [{\"id\", \"from_dt\", \"regions\":\n"
		"             [{\"guest_phys\", \"host_phys\", \"size\"}]}],\n"
		"            \"devices\": [{\"id\", \"type\", \"zone\", \"mmio_base\",\n"
		"             \"mmio_size\", \"irq\", \"queues\", \"from_dt\",\n"
		"             \"blk\" or \"net\"}]}\n"
		"           with numbers as JSON integers; \"blk\" holds\n"
		"           {\"read_only\", \"serial\", \"capacity_sectors\",\n"
		"           \"backing\" (/dev/NAME), \"image\" (the file behind a loop\n"
		"           device, else \"\")}, \"net\"\n"
		"           holds {\"mac\", \"mtu\", \"tap\", \"attached\"} (tap: \"\"\n"
		"           and attached: 0 when the link is down).\n", prog);
}

const char *dev_type_name(uint32_t type)
{
	switch (type) {
	case HVISOR_VHOST_DEV_BLK:
		return "blk";
	case HVISOR_VHOST_DEV_NET:
		return "net";
	case HVISOR_VHOST_DEV_CONSOLE:
		return "console";
	default:
		return "unknown";
	}
}

static void *grow(void *p, size_t n, size_t size)
{
	/* Doubling from 8: called when n is 0 or a power of two >= 8. */
	if (n && (n < 8 || (n & (n - 1))))
		return p;
	p = realloc(p, (n ? 2 * n : 8) * size);
	if (!p) {
		err_msg("out of memory");
		exit(EXIT_FAILED);
	}
	return p;
}

static int fetch_zones(int fd, struct hvisor_vhost_zone **zp, size_t *np)
{
	struct hvisor_vhost_zone *z = NULL, cur;
	uint32_t next = 0;
	size_t n = 0;

	for (;;) {
		memset(&cur, 0, sizeof(cur));
		cur.zone_id = next;
		if (module_ioctl(fd, HVISOR_VHOST_IOC_ZONE_NEXT, &cur) < 0) {
			if (errno == ENOENT)
				break;
			err_msg("cannot list zones: %s%s", strerror(errno),
				errno == ENOTTY ?
				" (module without zone support)" : "");
			free(z);
			return EXIT_FAILED;
		}
		if (cur.zone_id < next || cur.nr_regions > HVISOR_VHOST_MAX_REGIONS) {
			err_msg("cannot list zones: module answered a bad zone (id %u after %u, %u regions)",
				cur.zone_id, next, cur.nr_regions);
			free(z);
			return EXIT_FAILED;
		}
		z = grow(z, n, sizeof(*z));
		z[n++] = cur;
		if (cur.zone_id == UINT32_MAX)
			break;
		next = cur.zone_id + 1;
	}
	*zp = z;
	*np = n;
	return EXIT_OK;
}

int fetch_devs(int fd, struct hvisor_vhost_dev **dp, size_t *np)
{
	struct hvisor_vhost_dev *d = NULL, cur;
	uint32_t next = 0;
	size_t n = 0;

	for (;;) {
		memset(&cur, 0, sizeof(cur));
		cur.dev_id = next;
		if (module_ioctl(fd, HVISOR_VHOST_IOC_DEV_NEXT, &cur) < 0) {
			if (errno == ENOENT)
				break;
			err_msg("cannot list devices: %s%s", strerror(errno),
				errno == ENOTTY ?
				" (module without device support)" : "");
			free(d);
			return EXIT_FAILED;
		}
		if (cur.dev_id < next) {
			err_msg("cannot list devices: module answered device %u after %u",
				cur.dev_id, next);
			free(d);
			return EXIT_FAILED;
		}
		d = grow(d, n, sizeof(*d));
		d[n++] = cur;
		if (cur.dev_id == UINT32_MAX)
			break;
		next = cur.dev_id + 1;
	}
	*dp = d;
	*np = n;
	return EXIT_OK;
}

/* Printable text of a serial that may lack its NUL. */
static void print_serial(const char *s)
{
	size_t i;

	putchar('"');
	for (i = 0; i < HVISOR_VHOST_BLK_SERIAL_LEN && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_mac(FILE *out, const uint8_t *m)
{
	fprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x",
		m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void text_zones(const struct hvisor_vhost_zone *z, size_t n)
{
	char sz[32];
	size_t i, r;

	if (!n) {
		printf("no zones\n");
		return;
	}
	printf("%-6s %-18s %-18s %s\n", "ZONE", "GUEST_PHYS", "HOST_PHYS",
	       "SIZE");
	for (i = 0; i < n; i++) {
		for (r = 0; r < z[i].nr_regions; r++) {
			const struct hvisor_vhost_region *reg = &z[i].regions[r];

			format_size(reg->size, sz, sizeof(sz));
			if (r)
				printf("%-6s ", "");
			else
				printf("%-6u ", z[i].zone_id);
			printf("0x%016llx 0x%016llx 0x%llx (%s)%s\n",
			       (unsigned long long)reg->guest_phys,
			       (unsigned long long)reg->host_phys,
			       (unsigned long long)reg->size, sz,
			       !r && z[i].flags & HVISOR_VHOST_ZONE_F_DT ?
			       " [device tree]" : "");
		}
		if (!z[i].nr_regions)
			printf("%-6u (no regions)\n", z[i].zone_id);
	}
}

static void text_backend(const struct hvisor_vhost_dev *d)
{
	char sz[32], bdev[PATH_MAX], image[PATH_MAX];

	switch (d->type) {
	case HVISOR_VHOST_DEV_BLK:
		if (!backing_info(d->blk.backing_major, d->blk.backing_minor,
				  bdev, sizeof(bdev), image, sizeof(image))) {
			printf("%s ", bdev);
			if (*image)
				printf("(image %s) ", image);
		}
		format_size(d->blk.capacity * 512, sz, sizeof(sz));
		printf("%s (%llu sectors) %s", sz,
		       (unsigned long long)d->blk.capacity,
		       d->blk.flags & HVISOR_VHOST_BLK_F_RO ? "ro" : "rw");
		if (d->blk.serial[0]) {
			printf(" serial ");
			print_serial(d->blk.serial);
		}
		break;
	case HVISOR_VHOST_DEV_NET:
		printf("mac ");
		print_mac(stdout, d->net.mac);
		printf(" mtu %u ", d->net.mtu);
		if (d->net.attached)
			printf("tap %.*s", HVISOR_VHOST_IFNAMSIZ,
			       d->net.ifname);
		else
			printf("no tap (link down)");
		break;
	case HVISOR_VHOST_DEV_CONSOLE:
		printf("tty /dev/%.*s size %ux%u dropped %llu",
		       HVISOR_VHOST_TTY_NAMSIZ, d->console.tty_name,
		       d->console.cols, d->console.rows,
		       (unsigned long long)d->console.dropped);
		break;
	default:
		printf("type %u", d->type);
	}
}

static void text_devs(const struct hvisor_vhost_dev *d, size_t n)
{
	size_t i;

	if (!n) {
		printf("no devices\n");
		return;
	}
	printf("%-5s %-5s %-6s %-18s %-10s %-5s %-6s %s\n", "DEV", "TYPE",
	       "ZONE", "MMIO_BASE", "MMIO_SIZE", "IRQ", "QUEUES", "BACKEND");
	for (i = 0; i < n; i++) {
		printf("%-5u %-5s %-6u 0x%-16llx 0x%-8llx %-5u %-6u ",
		       d[i].dev_id, dev_type_name(d[i].type), d[i].zone_id,
		       (unsigned long long)d[i].mmio_base,
		       (unsigned long long)d[i].mmio_size, d[i].irq,
		       d[i].num_queues);
		text_backend(&d[i]);
		if (d[i].flags & HVISOR_VHOST_DEV_F_DT)
			printf(" [device tree]");
		putchar('\n');
	}
}

static void json_zones(const struct hvisor_vhost_zone *z, size_t n)
{
	size_t i, r;

	printf("\"zones\":[");
	for (i = 0; i < n; i++) {
		printf("%s{\"id\":%u,\"from_dt\":%s,\"regions\":[",
		       i ? "," : "", z[i].zone_id,
		       z[i].flags & HVISOR_VHOST_ZONE_F_DT ? "true" : "false");
		for (r = 0; r < z[i].nr_regions; r++) {
			const struct hvisor_vhost_region *reg = &z[i].regions[r];

			printf("%s{\"guest_phys\":%llu,\"host_phys\":%llu,\"size\":%llu}",
			       r ? "," : "",
			       (unsigned long long)reg->guest_phys,
			       (unsigned long long)reg->host_phys,
			       (unsigned long long)reg->size);
		}
		printf("]}");
	}
	printf("]");
}

static void json_devs(const struct hvisor_vhost_dev *d, size_t n)
{
	char bdev[PATH_MAX], image[PATH_MAX];
	size_t i;

	printf("\"devices\":[");
	for (i = 0; i < n; i++) {
		printf("%s{\"id\":%u,\"type\":\"%s\",\"type_id\":%u,\"zone\":%u,",
		       i ? "," : "", d[i].dev_id, dev_type_name(d[i].type),
		       d[i].type, d[i].zone_id);
		printf("\"mmio_base\":%llu,\"mmio_size\":%llu,\"irq\":%u,\"queues\":%u",
		       (unsigned long long)d[i].mmio_base,
		       (unsigned long long)d[i].mmio_size, d[i].irq,
		       d[i].num_queues);
		printf(",\"from_dt\":%s",
		       d[i].flags & HVISOR_VHOST_DEV_F_DT ? "true" : "false");
		if (d[i].type == HVISOR_VHOST_DEV_BLK) {
			printf(",\"blk\":{\"read_only\":%s,\"serial\":",
			       d[i].blk.flags & HVISOR_VHOST_BLK_F_RO ?
			       "true" : "false");
			json_string(stdout, d[i].blk.serial,
				    HVISOR_VHOST_BLK_SERIAL_LEN);
			printf(",\"capacity_sectors\":%llu,\"backing\":",
			       (unsigned long long)d[i].blk.capacity);
			backing_info(d[i].blk.backing_major,
				     d[i].blk.backing_minor, bdev, sizeof(bdev),
				     image, sizeof(image));
			json_string(stdout, bdev, sizeof(bdev));
			printf(",\"image\":");
			json_string(stdout, image, sizeof(image));
			printf("}");
		} else if (d[i].type == HVISOR_VHOST_DEV_NET) {
			printf(",\"net\":{\"mac\":\"");
			print_mac(stdout, d[i].net.mac);
			printf("\",\"mtu\":%u,\"tap\":", d[i].net.mtu);
			json_string(stdout, d[i].net.ifname,
				    HVISOR_VHOST_IFNAMSIZ);
			printf(",\"attached\":%u}", d[i].net.attached);
		} else if (d[i].type == HVISOR_VHOST_DEV_CONSOLE) {
			printf(",\"console\":{\"tty\":");
			json_string(stdout, d[i].console.tty_name,
				    HVISOR_VHOST_TTY_NAMSIZ);
			printf(",\"tty_index\":%u,\"cols\":%u,\"rows\":%u,\"dropped\":%llu}",
			       d[i].console.tty_index, d[i].console.cols,
			       d[i].console.rows,
			       (unsigned long long)d[i].console.dropped);
		}
		printf("}");
	}
	printf("]");
}

/* List zones and/or devices; the module is opened and checked here. */
int list_run(bool zones, bool devices, bool json)
{
	struct hvisor_vhost_version ver;
	struct hvisor_vhost_zone *z = NULL;
	struct hvisor_vhost_dev *d = NULL;
	size_t nz = 0, nd = 0;
	int fd, ret = EXIT_OK;

	fd = module_open(&ver);
	if (zones)
		ret = fetch_zones(fd, &z, &nz);
	if (!ret && devices)
		ret = fetch_devs(fd, &d, &nd);
	close(fd);
	if (ret)
		goto out;

	if (json) {
		printf("{");
		if (zones)
			json_zones(z, nz);
		if (zones && devices)
			printf(",");
		if (devices)
			json_devs(d, nd);
		printf("}\n");
	} else {
		if (zones)
			text_zones(z, nz);
		if (zones && devices)
			putchar('\n');
		if (devices)
			text_devs(d, nd);
	}
	if (fflush(stdout) || ferror(stdout)) {
		err_msg("write error: %s", strerror(errno));
		ret = EXIT_FAILED;
	}
out:
	free(z);
	free(d);
	return ret;
}

int cmd_list(int argc, char **argv)
{
	bool json;

	if (!parse_json_opts("list", help_list, argc, argv, &json))
		return EXIT_OK;
	if (optind < argc)
		usage_error("list", "unexpected argument '%s'", argv[optind]);
	return list_run(true, true, json);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl zone add|del|list: guest zones and their RAM regions.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "hvctl.h"

static void help_zone_add(FILE *out)
{
	fprintf(out,
		"Usage: %s zone add <id> --region GPA:HPA:SIZE [--region ...]\n"
		"       %s zone add <id> --identity-ram\n"
		"\n"
		"Create zone <id> (>= 1; 0 is root) with up to %u RAM regions.\n"
		"\n"
		"  --region GPA:HPA:SIZE  guest-physical base, host-physical base\n"
		"                         and size, all page aligned; SIZE takes\n"
		"                         a K, M or G suffix (0x40000000:0x80000000:256M)\n"
		"  --identity-ram         add every top-level \"System RAM\" range of\n"
		"                         /proc/iomem with GPA == HPA (adjacent ranges\n"
		"                         merged, rounded inwards to pages)\n"
		"\n"
		"Regions must not overlap, neither in guest- nor in host-physical\n"
		"space.\n", prog, prog, HVISOR_VHOST_MAX_REGIONS);
}

static void help_zone_del(FILE *out)
{
	fprintf(out,
		"Usage: %s zone del <id>\n"
		"\n"
		"Remove zone <id>. Fails while devices of the zone exist.\n",
		prog);
}

static void help_zone_list(FILE *out)
{
	fprintf(out,
		"Usage: %s zone list [--json]\n"
		"\n"
		"List the zones and their RAM regions; with --json as\n"
		"{\"zones\": [{\"id\", \"regions\": [{\"guest_phys\", \"host_phys\",\n"
		"\"size\"}]}]} (see '%s list --help').\n", prog, prog);
}

static void help_zone_reset(FILE *out)
{
	fprintf(out,
		"Usage: %s zone reset <id>\n"
		"\n"
		"Reset every device of zone <id> as its driver would, and wait\n"
		"until they have stopped. Run it after the hypervisor shut the\n"
		"zone down and before it starts the zone again: a zone that is\n"
		"gone never resets its devices itself, and they would go on\n"
		"writing into its RAM. The devices stay, ready for the next boot.\n",
		prog);
}

void help_zone(FILE *out)
{
	fprintf(out,
		"Usage: %s zone add <id> --region GPA:HPA:SIZE [--region ...]\n"
		"       %s zone add <id> --identity-ram\n"
		"       %s zone del <id>\n"
		"       %s zone reset <id>\n"
		"       %s zone list [--json]\n"
		"\n"
		"Manage guest zones: a zone is a hypervisor zone id and the RAM\n"
		"regions the module may access for it. Run '%s zone add --help'\n"
		"for details of each.\n", prog, prog, prog, prog, prog, prog);
}

static int parse_zone_id(const char *cmd, const char *s, uint32_t *id)
{
	if (parse_u32(s, id))
		usage_error(cmd, "bad zone id '%s'", s);
	if (*id == 0)
		usage_error(cmd, "zone 0 is root and cannot be configured");
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
			   uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* The checks the module also makes, for precise messages. */
static void check_regions(const struct hvisor_vhost_region *r, unsigned int n)
{
	uint64_t page = sysconf(_SC_PAGESIZE);
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		if (!r[i].size)
			usage_error("zone add", "region %u: size is zero", i + 1);
		if ((r[i].guest_phys | r[i].host_phys | r[i].size) & (page - 1))
			usage_error("zone add",
				    "region %u: 0x%llx:0x%llx:0x%llx is not aligned to the page size (0x%llx)",
				    i + 1, (unsigned long long)r[i].guest_phys,
				    (unsigned long long)r[i].host_phys,
				    (unsigned long long)r[i].size,
				    (unsigned long long)page);
		if (r[i].guest_phys + r[i].size < r[i].guest_phys ||
		    r[i].host_phys + r[i].size < r[i].host_phys)
			usage_error("zone add",
				    "region %u: end beyond the 64-bit address space",
				    i + 1);
	}
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			if (ranges_overlap(r[i].guest_phys, r[i].size,
					   r[j].guest_phys, r[j].size))
				usage_error("zone add",
					    "regions %u and %u overlap in guest-physical space",
					    i + 1, j + 1);
			if (ranges_overlap(r[i].host_phys, r[i].size,
					   r[j].host_phys, r[j].size))
				usage_error("zone add",
					    "regions %u and %u overlap in host-physical space",
					    i + 1, j + 1);
		}
	}
}

/* Explain the module's EINVAL for regions that passed check_regions(). */
static void zone_einval(uint32_t id, const struct hvisor_vhost_region *r,
			unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (iomem_ram_mixed(r[i].host_phys, r[i].size) == 1) {
			err_msg("cannot add zone %u: region %u: host range 0x%llx-0x%llx is partly System RAM of root (take all of it or none)",
				id, i + 1, (unsigned long long)r[i].host_phys,
				(unsigned long long)(r[i].host_phys + r[i].size - 1));
			return;
		}
	}
	err_msg("cannot add zone %u: the module refused its regions (%s)",
		id, strerror(EINVAL));
}

static int zone_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "identity-ram", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct hvisor_vhost_region regions[HVISOR_VHOST_MAX_REGIONS];
	struct hvisor_vhost_version ver;
	struct hvisor_vhost_zone z;
	unsigned int nr = 0, nid;
	bool identity = false;
	uint32_t id;
	int c, fd;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":r:Ih", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (nr == HVISOR_VHOST_MAX_REGIONS)
				usage_error("zone add", "more than %u regions",
					    HVISOR_VHOST_MAX_REGIONS);
			if (parse_region(optarg, &regions[nr]))
				usage_error("zone add",
					    "bad region '%s' (want GPA:HPA:SIZE)",
					    optarg);
			nr++;
			break;
		case 'I':
			identity = true;
			break;
		case 'h':
			help_zone_add(stdout);
			return EXIT_OK;
		default:
			option_error("zone add", c, argv);
		}
	}
	if (optind >= argc)
		usage_error("zone add", "missing zone id");
	if (optind + 1 < argc)
		usage_error("zone add", "unexpected argument '%s'",
			    argv[optind + 1]);
	parse_zone_id("zone add", argv[optind], &id);
	if (!nr && !identity)
		usage_error("zone add", "no RAM: give --region or --identity-ram");
	if (identity) {
		if (identity_ram_regions(regions + nr,
					 HVISOR_VHOST_MAX_REGIONS - nr, &nid))
			return EXIT_FAILED;
		nr += nid;
	}
	check_regions(regions, nr);

	fd = module_open(&ver);
	memset(&z, 0, sizeof(z));
	z.zone_id = id;
	z.nr_regions = nr;
	memcpy(z.regions, regions, nr * sizeof(regions[0]));
	if (module_ioctl(fd, HVISOR_VHOST_IOC_ZONE_ADD, &z) < 0) {
		int e = errno;

		switch (e) {
		case EEXIST:
			err_msg("cannot add zone %u: zone %u already exists",
				id, id);
			break;
		case EINVAL:
			zone_einval(id, regions, nr);
			break;
		case EADDRNOTAVAIL:
			err_msg("cannot add zone %u: a region is System RAM of root, its kernel's own memory (the module takes that only when loaded with allow_root_ram=1, unsafe)",
				id);
			break;
		case EBUSY:
			err_msg("cannot add zone %u: a region overlaps memory a driver of root has claimed (device registers: see /proc/iomem and the kernel log)",
				id);
			break;
		case ENOSPC:
			err_msg("cannot add zone %u: no room for another zone (the module holds at most %u)",
				id, ver.max_zones);
			break;
		case ENOTTY:
			err_msg("cannot add zone %u: the module does not support zones (%s)",
				id, strerror(e));
			break;
		case EPERM:
		case EACCES:
			if (geteuid() == 0)
				err_msg("cannot add zone %u: %s (the kernel is locked down: zone RAM is mapped as /dev/mem would be)",
					id, strerror(e));
			else
				err_msg("cannot add zone %u: %s (needs root)", id,
					strerror(e));
			break;
		default:
			err_msg("cannot add zone %u: %s", id, strerror(e));
		}
		close(fd);
		return EXIT_FAILED;
	}
	close(fd);
	return EXIT_OK;
}

/*
 * The one argument of "zone del" and "zone reset": the zone id into @id.
 * Returns false when --help was printed.
 */
static bool parse_zone_arg(const char *cmd, void (*help)(FILE *out),
			   int argc, char **argv, uint32_t *id)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			help(stdout);
			return false;
		default:
			option_error(cmd, c, argv);
		}
	}
	if (optind >= argc)
		usage_error(cmd, "missing zone id");
	if (optind + 1 < argc)
		usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	parse_zone_id(cmd, argv[optind], id);
	return true;
}

/* ZONE_DEL or ZONE_RESET on zone @id; returns 0 or errno. */
static int zone_ioctl(unsigned long req, uint32_t id)
{
	struct hvisor_vhost_version ver;
	struct hvisor_vhost_id zid;
	int fd, e = 0;

	fd = module_open(&ver);
	memset(&zid, 0, sizeof(zid));
	zid.id = id;
	if (module_ioctl(fd, req, &zid) < 0)
		e = errno;
	close(fd);
	return e;
}

static int zone_del(int argc, char **argv)
{
	uint32_t id;
	int e;

	if (!parse_zone_arg("zone del", help_zone_del, argc, argv, &id))
		return EXIT_OK;
	e = zone_ioctl(HVISOR_VHOST_IOC_ZONE_DEL, id);
	switch (e) {
	case 0:
		return EXIT_OK;
	case ENOENT:
		err_msg("cannot remove zone %u: no such zone", id);
		break;
	case EBUSY:
		err_msg("cannot remove zone %u: it still has devices (remove them first with '%s del')",
			id, prog);
		break;
	case ENOTTY:
		err_msg("cannot remove zone %u: the module does not support zones (%s)",
			id, strerror(e));
		break;
	default:
		err_msg("cannot remove zone %u: %s", id, strerror(e));
	}
	return EXIT_FAILED;
}

static int zone_reset(int argc, char **argv)
{
	uint32_t id;
	int e;

	if (!parse_zone_arg("zone reset", help_zone_reset, argc, argv, &id))
		return EXIT_OK;
	e = zone_ioctl(HVISOR_VHOST_IOC_ZONE_RESET, id);
	switch (e) {
	case 0:
		return EXIT_OK;
	case ENOENT:
		err_msg("cannot reset zone %u: no such zone", id);
		break;
	case ENOTTY:
		err_msg("cannot reset zone %u: the module is older than this command (%s)",
			id, strerror(e));
		break;
	default:
		err_msg("cannot reset zone %u: %s", id, strerror(e));
	}
	return EXIT_FAILED;
}

static int zone_list(int argc, char **argv)
{
	bool json;

	if (!parse_json_opts("zone list", help_zone_list, argc, argv, &json))
		return EXIT_OK;
	if (optind < argc)
		usage_error("zone list", "unexpected argument '%s'",
			    argv[optind]);
	return list_run(true, false, json);
}

int cmd_zone(int argc, char **argv)
{
	if (argc < 2)
		usage_error("zone", "missing subcommand (add, del, reset or list)");
	if (is_help(argv[1])) {
		help_zone(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "add"))
		return zone_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "del"))
		return zone_del(argc - 1, argv + 1);
	if (!strcmp(argv[1], "reset"))
		return zone_reset(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return zone_list(argc - 1, argv + 1);
	usage_error("zone", "unknown subcommand '%s'", argv[1]);
}

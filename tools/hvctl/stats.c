// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl stats: the per-device counters of the module (DEV_STATS), as a
 * table or as JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvctl.h"

void help_stats(FILE *out)
{
	fprintf(out,
		"Usage: %s stats [<dev-id>] [--json]\n"
		"\n"
		"Show the counters of every device, or of device <dev-id>:\n"
		"\n"
		"  requests    requests completed (virtio-blk requests; net frames\n"
		"              sent and received)\n"
		"  bytes       payload bytes moved (net: without the virtio-net\n"
		"              header)\n"
		"  errors      requests that ended with an error, malformed\n"
		"              chains, dropped frames, resets the device needed\n"
		"  kicks       the zone's QueueNotify writes\n"
		"  interrupts  interrupts injected into the zone\n"
		"  inflight    requests taken from the rings, not yet completed\n"
		"  bounced     blk requests whose data was copied through root's\n"
		"              pages rather than put into bios where it lies: zone\n"
		"              RAM without struct pages, unaligned buffers (net: 0;\n"
		"              \"-\" from a module that does not count them)\n"
		"\n"
		"Counters start at 0 when the device is added and only grow\n"
		"(but inflight).\n"
		"\n"
		"  --json   print one JSON object:\n"
		"           {\"devices\": [{\"id\", \"type\", \"zone\", \"requests\",\n"
		"             \"bytes\", \"errors\", \"kicks\", \"interrupts\",\n"
		"             \"inflight\", \"bounced\"}]}\n"
		"           (no \"bounced\" from a module that does not count it)\n"
		"           with numbers as JSON integers.\n", prog);
}

/* The counters of @d; returns 0 or an errno. */
static int read_stats(int fd, const struct hvisor_vhost_dev *d,
		      struct hvisor_vhost_dev_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->dev_id = d->dev_id;
	return module_ioctl(fd, HVISOR_VHOST_IOC_DEV_STATS, st) < 0 ? errno : 0;
}

/*
 * A module without HVISOR_VHOST_F_STATS_BOUNCED leaves bounced at 0: the
 * table shows "-" and the JSON leaves the key out rather than claim 0.
 */
static void print_text(const struct hvisor_vhost_dev *d,
		       const struct hvisor_vhost_dev_stats *st, size_t n,
		       bool bounced)
{
	char b[24];
	size_t i;

	if (!n) {
		printf("no devices\n");
		return;
	}
	printf("%-5s %-7s %-6s %12s %16s %8s %12s %12s %8s %12s\n", "DEV",
	       "TYPE", "ZONE", "REQUESTS", "BYTES", "ERRORS", "KICKS",
	       "INTERRUPTS", "INFLIGHT", "BOUNCED");
	for (i = 0; i < n; i++) {
		if (bounced)
			snprintf(b, sizeof(b), "%llu",
				 (unsigned long long)st[i].bounced);
		else
			snprintf(b, sizeof(b), "-");
		printf("%-5u %-7s %-6u %12llu %16llu %8llu %12llu %12llu %8llu %12s\n",
		       d[i].dev_id, dev_type_name(d[i].type), d[i].zone_id,
		       (unsigned long long)st[i].requests,
		       (unsigned long long)st[i].bytes,
		       (unsigned long long)st[i].errors,
		       (unsigned long long)st[i].kicks,
		       (unsigned long long)st[i].interrupts,
		       (unsigned long long)st[i].inflight, b);
	}
}

static void print_json(const struct hvisor_vhost_dev *d,
		       const struct hvisor_vhost_dev_stats *st, size_t n,
		       bool bounced)
{
	size_t i;

	printf("{\"devices\":[");
	for (i = 0; i < n; i++) {
		printf("%s{\"id\":%u,\"type\":\"%s\",\"zone\":%u,",
		       i ? "," : "", d[i].dev_id, dev_type_name(d[i].type),
		       d[i].zone_id);
		printf("\"requests\":%llu,\"bytes\":%llu,\"errors\":%llu,",
		       (unsigned long long)st[i].requests,
		       (unsigned long long)st[i].bytes,
		       (unsigned long long)st[i].errors);
		printf("\"kicks\":%llu,\"interrupts\":%llu,\"inflight\":%llu",
		       (unsigned long long)st[i].kicks,
		       (unsigned long long)st[i].interrupts,
		       (unsigned long long)st[i].inflight);
		if (bounced)
			printf(",\"bounced\":%llu",
			       (unsigned long long)st[i].bounced);
		printf("}");
	}
	printf("]}\n");
}

int cmd_stats(int argc, char **argv)
{
	struct hvisor_vhost_dev_stats *st = NULL;
	struct hvisor_vhost_version ver;
	struct hvisor_vhost_dev *d = NULL;
	bool json, one = false, bounced;
	size_t i, n = 0, kept = 0;
	uint32_t id = 0;
	int e, fd, ret;

	if (!parse_json_opts("stats", help_stats, argc, argv, &json))
		return EXIT_OK;
	if (optind < argc) {
		if (parse_u32(argv[optind], &id) || !id)
			usage_error("stats", "bad device id '%s'", argv[optind]);
		one = true;
		if (optind + 1 < argc)
			usage_error("stats", "unexpected argument '%s'",
				    argv[optind + 1]);
	}

	fd = module_open(&ver);
	ret = fetch_devs(fd, &d, &n);
	if (ret)
		goto out;
	st = calloc(n ? n : 1, sizeof(*st));
	if (!st) {
		err_msg("out of memory");
		ret = EXIT_FAILED;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (one && d[i].dev_id != id)
			continue;
		e = read_stats(fd, &d[i], &st[kept]);
		if (e == ENOENT)
			continue;	/* removed since the listing */
		if (e) {
			err_msg("cannot read the counters of device %u: %s%s",
				d[i].dev_id, strerror(e),
				e == ENOTTY ?
				" (module without per-device counters)" : "");
			ret = EXIT_FAILED;
			goto out;
		}
		d[kept++] = d[i];
	}
	if (one && !kept) {
		err_msg("device %u: no such device", id);
		ret = EXIT_FAILED;
		goto out;
	}
	bounced = ver.features & HVISOR_VHOST_F_STATS_BOUNCED;
	if (json)
		print_json(d, st, kept, bounced);
	else
		print_text(d, st, kept, bounced);
	if (fflush(stdout) || ferror(stdout)) {
		err_msg("write error: %s", strerror(errno));
		ret = EXIT_FAILED;
	}
out:
	close(fd);
	free(d);
	free(st);
	return ret;
}

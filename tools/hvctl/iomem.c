// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl: identity RAM regions from /proc/iomem (guest_phys == host_phys
 * for all of root's RAM), used by zone add --identity-ram.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvctl.h"

#define IOMEM_PATH	"/proc/iomem"

/*
 * Parse one top-level line "start-end : name". Returns 1 for a System RAM
 * line (with [*start, *end] inclusive), 0 for any other line.
 */
static int iomem_ram_line(const char *line, uint64_t *start, uint64_t *end)
{
	unsigned long long s, e;
	int n = 0;

	/* Nested resources are indented: only top-level lines count. */
	if (line[0] == ' ' || line[0] == '\t')
		return 0;
	if (sscanf(line, "%llx-%llx : %n", &s, &e, &n) != 2 || !n)
		return 0;
	if (strcmp(line + n, "System RAM\n") && strcmp(line + n, "System RAM"))
		return 0;
	*start = s;
	*end = e;
	return 1;
}

/*
 * Does [start, start + size) cover part, but not all, of root's System
 * RAM? Then the module refuses it as a region's host side. Returns -1
 * when /proc/iomem cannot be read.
 */
int iomem_ram_mixed(uint64_t start, uint64_t size)
{
	uint64_t s, e, end = start + size - 1, covered = 0;
	char line[256];
	FILE *f;

	f = fopen(IOMEM_PATH, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!iomem_ram_line(line, &s, &e) || e < start || s > end)
			continue;
		if (s < start)
			s = start;
		if (e > end)
			e = end;
		covered += e - s + 1;
	}
	fclose(f);
	return covered && covered != size;
}

/*
 * Fill @r with root's RAM as identity regions: adjacent System RAM ranges
 * merged, each rounded inwards to whole pages. Prints the reason and
 * returns -1 on failure.
 */
int identity_ram_regions(struct hvisor_vhost_region *r, unsigned int max,
			 unsigned int *nr)
{
	uint64_t page = sysconf(_SC_PAGESIZE);
	uint64_t s = 0, e = 0, cur_s = 0, cur_e = 0;
	bool have = false, all_zero = true;
	unsigned int n = 0;
	char line[256];
	FILE *f;

	f = fopen(IOMEM_PATH, "re");
	if (!f) {
		err_msg("cannot read %s: %s", IOMEM_PATH, strerror(errno));
		return -1;
	}
	for (;;) {
		bool eof = !fgets(line, sizeof(line), f);
		bool flush = eof;

		if (!eof) {
			if (!iomem_ram_line(line, &s, &e))
				continue;
			if (s || e)
				all_zero = false;
			if (e < s)
				continue;
			if (have && cur_e != UINT64_MAX && s == cur_e + 1) {
				cur_e = e;
				continue;
			}
			flush = have;
		}
		if (flush) {
			/* [cur_s, cur_e] inclusive, rounded inwards. */
			uint64_t b = (cur_s + page - 1) & ~(page - 1);
			uint64_t x = cur_e == UINT64_MAX ? UINT64_MAX & ~(page - 1)
							 : (cur_e + 1) & ~(page - 1);

			if (b >= cur_s && x > b) {
				if (n == max) {
					err_msg("%s: root has more than %u RAM ranges, too many for one zone; use --region",
						IOMEM_PATH, max);
					fclose(f);
					return -1;
				}
				memset(&r[n], 0, sizeof(r[n]));
				r[n].guest_phys = b;
				r[n].host_phys = b;
				r[n].size = x - b;
				n++;
			}
		}
		if (eof)
			break;
		cur_s = s;
		cur_e = e;
		have = true;
	}
	fclose(f);
	if (have && all_zero) {
		err_msg("%s shows no addresses (reading it needs root)",
			IOMEM_PATH);
		return -1;
	}
	if (!n) {
		err_msg("%s: no System RAM found", IOMEM_PATH);
		return -1;
	}
	*nr = n;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl: parsing of numbers, sizes, regions and MAC addresses.
 * Every parser returns 0 or -1 and accepts the whole string or nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hvctl.h"

/* A number in C syntax: decimal, 0x hexadecimal or 0 octal. */
int parse_u64(const char *s, __u64 *out)
{
	unsigned long long v;
	char *end;

	/* strtoull skips blanks and accepts a sign: refuse both. */
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

int parse_u32(const char *s, __u32 *out)
{
	__u64 v;

	if (parse_u64(s, &v) || v > UINT32_MAX)
		return -1;
	*out = v;
	return 0;
}

/* A number with an optional K, M, G or T suffix (powers of 1024). */
int parse_size(const char *s, __u64 *out)
{
	unsigned int shift = 0;
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	case 't': case 'T':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (shift) {
		end++;
		if (*end && strcmp(end, "iB") && strcmp(end, "B"))
			return -1;
		if (v > (UINT64_MAX >> shift))
			return -1;
		v <<= shift;
	}
	*out = v;
	return 0;
}

/* GPA:HPA:SIZE; the checks against each other are done by the caller. */
int parse_region(const char *s, struct hvisor_vhost_region *r)
{
	char buf[128], *gpa, *hpa, *size;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	gpa = buf;
	hpa = strchr(gpa, ':');
	if (!hpa)
		return -1;
	*hpa++ = '\0';
	size = strchr(hpa, ':');
	if (!size)
		return -1;
	*size++ = '\0';
	memset(r, 0, sizeof(*r));
	if (parse_u64(gpa, &r->guest_phys) || parse_u64(hpa, &r->host_phys) ||
	    parse_size(size, &r->size))
		return -1;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* xx:xx:xx:xx:xx:xx (or with '-'), two hex digits per byte. */
int parse_mac(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	for (i = 0; i < 6; i++) {
		hi = hexval(s[0]);
		lo = hi < 0 ? -1 : hexval(s[1]);
		if (lo < 0)
			return -1;
		mac[i] = hi << 4 | lo;
		s += 2;
		if (i < 5) {
			if (*s != ':' && *s != '-')
				return -1;
			s++;
		}
	}
	return *s ? -1 : 0;
}

/* "1.5 GiB", "512 KiB", "100 B" */
void format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	unsigned int u = 0;
	double v = bytes;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

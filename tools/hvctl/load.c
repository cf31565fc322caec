// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl load: zones and devices from a virtio_cfg.json file, the format
 * of the user-space daemon this module replaces:
 *
 *   { "zones": [ { "id": 1,
 *       "memory_region": [ { "zone0_ipa": HPA, "zonex_ipa": GPA,
 *                            "size": N } ],
 *       "devices": [ { "type": "blk", "addr": A, "len": L, "irq": I,
 *                      "img": PATH, "status": "enable" },
 *                    { "type": "net", ..., "tap": NAME,
 *                      "mac": ["0x00", ...] } ] } ] }
 *
 * Numbers are JSON integers or strings in C syntax ("0x50000000").
 *
 * Everything is parsed and checked first (the file, then the module's
 * state); only then is anything created, each step exactly as the
 * matching hvctl command does it (zone add, add-blk, add-net, run in a
 * child process so that their checks and messages are the same). If a
 * step fails, what the earlier ones created is removed again.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvctl.h"
#include "json_parse.h"

#define MAX_FILE		(4 << 20)
#define MMIO_ALIGN		0x200	/* the module's minimum and alignment */
#define MMIO_MAX		0x100000
#define MAX_ARGS		(8 + 2 * HVISOR_VHOST_MAX_REGIONS)
/* Characters that need no quoting in a shell word. */
#define SHELL_SAFE		"abcdefghijklmnopqrstuvwxyz" \
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"0123456789_-+=.,/:@%"

enum dev_kind {
	KIND_BLK,
	KIND_NET,
	KIND_CON,
	KIND_SKIP,	/* disabled, or a type the module does not serve */
};

struct ld_dev {
	const struct json_value *v;
	enum dev_kind kind;
	const char *type;
	uint64_t addr;
	uint64_t len;
	uint32_t irq;
	const char *img;
	struct stat st;
	const char *tap;
	bool have_mac;
	uint8_t mac[6];
	uint32_t dev_id;	/* once created */
};

struct ld_zone {
	const struct json_value *v;
	uint32_t id;
	unsigned int nr_regions;
	struct hvisor_vhost_region regions[HVISOR_VHOST_MAX_REGIONS];
	struct ld_dev *devs;
	size_t nr_devs;
	bool created;
};

struct ld_cfg {
	struct ld_zone *zones;
	size_t nr_zones;
};

/* Context of the messages about the value being checked. */
static const char *cfg_file;
static char where[64];

void help_load(FILE *out)
{
	fprintf(out,
		"Usage: %s load <virtio_cfg.json> [--dry-run]\n"
		"\n"
		"Create the zones and devices a virtio_cfg.json file describes (the\n"
		"file format of the user-space virtio daemon):\n"
		"\n"
		"  {\"zones\": [{\"id\": 1,\n"
		"    \"memory_region\": [{\"zone0_ipa\": \"0x50000000\",\n"
		"                       \"zonex_ipa\": \"0x50000000\", \"size\": \"0x30000000\"}],\n"
		"    \"devices\": [\n"
		"      {\"type\": \"blk\", \"addr\": \"0xa003c00\", \"len\": \"0x200\", \"irq\": 78,\n"
		"       \"img\": \"rootfs2.ext4\", \"status\": \"enable\"},\n"
		"      {\"type\": \"net\", \"addr\": \"0xa003600\", \"len\": \"0x200\", \"irq\": 75,\n"
		"       \"tap\": \"tap0\", \"mac\": [\"0x00\",\"0x16\",\"0x3e\",\"0x10\",\"0x10\",\"0x10\"],\n"
		"       \"status\": \"enable\"},\n"
		"      {\"type\": \"console\", \"addr\": \"0xa003800\", \"len\": \"0x200\",\n"
		"       \"irq\": 76}]}]}\n"
		"\n"
		"Each zone becomes '%s zone add' with one --region ZONEX_IPA:ZONE0_IPA:SIZE\n"
		"per memory region, each blk device '%s add-blk IMG' (a block device\n"
		"or an image file; relative paths are taken from the current\n"
		"directory), each net device '%s add-net TAP' (mac optional), each\n"
		"console device '%s add-console' (root's side is a tty, /dev/hvvconN:\n"
		"'%s list' names it), all with --zone, --mmio ADDR, --size LEN and\n"
		"--irq IRQ. Numbers are JSON integers or strings in C syntax\n"
		"(\"0x...\"). \"status\": \"disable\" skips a device (status defaults\n"
		"to \"enable\"); gpu and scmi devices are not served by the module:\n"
		"reported and skipped. Other keys are ignored.\n"
		"\n"
		"The whole file is read and checked before anything is created: a\n"
		"JSON syntax error, a missing or bad field, overlapping windows or\n"
		"regions, a missing image are reported as FILE:LINE:COLUMN: ... with\n"
		"exit status 2; a zone that already exists, or a module without room\n"
		"or without virtio-net, with exit status 1. If creating fails halfway,\n"
		"what was created is removed again.\n"
		"\n"
		"  --dry-run   check, then print the %s commands it would run\n"
		"              (without the module loaded, checks only the file)\n",
		prog, prog, prog, prog, prog, prog, prog);
}

static void __noreturn __printf(2, 3)
cfg_fail(const struct json_value *v, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s:%u:%u: %s", prog, cfg_file, v->line, v->col,
		where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

/* A message about @v that is no usage error: a note, or before exit 1. */
static void __printf(3, 4) cfg_note(const char *tag, const struct json_value *v,
				    const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s%s:%u:%u: %s", prog, tag, cfg_file, v->line,
		v->col, where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Member @key of @obj, of JSON type @type; exits if absent or another. */
static const struct json_value *get(const struct json_value *obj,
				    const char *key, enum json_type type)
{
	const struct json_value *v = json_member(obj, key);

	if (!v)
		cfg_fail(obj, "missing \"%s\"", key);
	if (v->type != type)
		cfg_fail(v, "\"%s\" must be %s, not %s", key,
			 json_type_name(type), json_type_name(v->type));
	return v;
}

/* A number: a JSON integer, or a string in C syntax. */
static uint64_t num_value(const struct json_value *v, const char *key)
{
	unsigned long long n;
	__u64 u;
	char *end;

	if (v->type == JSON_STRING) {
		if (strlen(v->str) != v->len || parse_u64(v->str, &u))
			cfg_fail(v, "\"%s\": \"%.40s\" is not a number (decimal, 0x hexadecimal or 0 octal)",
				 key, v->str);
		return u;
	}
	if (v->type != JSON_NUMBER)
		cfg_fail(v, "\"%s\" must be a number or a string holding one, not %s",
			 key, json_type_name(v->type));
	if (strspn(v->str, "0123456789") != v->len)
		cfg_fail(v, "\"%s\": %s is not a non-negative integer", key,
			 v->str);
	errno = 0;
	n = strtoull(v->str, &end, 10);
	if (errno)
		cfg_fail(v, "\"%s\": %s is out of range", key, v->str);
	return n;
}

static uint64_t get_num(const struct json_value *obj, const char *key,
			uint64_t max)
{
	const struct json_value *v = json_member(obj, key);
	uint64_t n;

	if (!v)
		cfg_fail(obj, "missing \"%s\"", key);
	n = num_value(v, key);
	if (n > max)
		cfg_fail(v, "\"%s\": %llu is out of range (at most %llu)", key,
			 (unsigned long long)n, (unsigned long long)max);
	return n;
}

/* A string without NULs, non-empty. */
static const char *get_str(const struct json_value *obj, const char *key)
{
	const struct json_value *v = get(obj, key, JSON_STRING);

	if (!v->len || strlen(v->str) != v->len)
		cfg_fail(v, "\"%s\" must be a non-empty string without NULs",
			 key);
	return v->str;
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static void parse_regions(struct ld_zone *z)
{
	const struct json_value *arr = get(z->v, "memory_region", JSON_ARRAY);
	uint64_t page = sysconf(_SC_PAGESIZE);
	struct hvisor_vhost_region *r;
	unsigned int i, j;

	if (!arr->n)
		cfg_fail(arr, "\"memory_region\" is empty: a zone needs RAM");
	if (arr->n > HVISOR_VHOST_MAX_REGIONS)
		cfg_fail(&arr->items[HVISOR_VHOST_MAX_REGIONS],
			 "more than %u memory regions", HVISOR_VHOST_MAX_REGIONS);
	for (i = 0; i < arr->n; i++) {
		const struct json_value *o = &arr->items[i];

		snprintf(where, sizeof(where), "zone %u, memory region %u: ",
			 z->id, i + 1);
		if (o->type != JSON_OBJECT)
			cfg_fail(o, "must be an object, not %s",
				 json_type_name(o->type));
		r = &z->regions[i];
		r->host_phys = get_num(o, "zone0_ipa", UINT64_MAX);
		r->guest_phys = get_num(o, "zonex_ipa", UINT64_MAX);
		r->size = get_num(o, "size", UINT64_MAX);
		if (!r->size)
			cfg_fail(json_member(o, "size"), "size is zero");
		if ((r->host_phys | r->guest_phys | r->size) & (page - 1))
			cfg_fail(o, "not aligned to the page size (0x%llx)",
				 (unsigned long long)page);
		if (r->host_phys + r->size < r->host_phys ||
		    r->guest_phys + r->size < r->guest_phys)
			cfg_fail(o, "ends beyond the 64-bit address space");
		for (j = 0; j < i; j++) {
			if (overlap(r->guest_phys, r->size,
				    z->regions[j].guest_phys, z->regions[j].size))
				cfg_fail(o, "overlaps region %u in guest-physical space (zonex_ipa)",
					 j + 1);
			if (overlap(r->host_phys, r->size,
				    z->regions[j].host_phys, z->regions[j].size))
				cfg_fail(o, "overlaps region %u in host-physical space (zone0_ipa)",
					 j + 1);
		}
	}
	z->nr_regions = arr->n;
}

/* "mac": six numbers (JSON or strings), or one "xx:xx:xx:xx:xx:xx". */
static void parse_mac_value(struct ld_dev *d, const struct json_value *v)
{
	unsigned int i;

	if (v->type == JSON_STRING) {
		if (strlen(v->str) != v->len || parse_mac(v->str, d->mac))
			cfg_fail(v, "\"mac\": \"%.40s\" is not a MAC address",
				 v->str);
	} else if (v->type == JSON_ARRAY && v->n == 6) {
		for (i = 0; i < 6; i++) {
			uint64_t b = num_value(&v->items[i], "mac");

			if (b > 0xff)
				cfg_fail(&v->items[i], "\"mac\": byte %u is above 0xff",
					 i + 1);
			d->mac[i] = b;
		}
	} else {
		cfg_fail(v, "\"mac\" must be an array of six bytes");
	}
	if (d->mac[0] & 1)
		cfg_fail(v, "\"mac\" is a multicast address");
	d->have_mac = true;
}

static void check_img(struct ld_dev *d, const struct json_value *v)
{
	if (stat(d->img, &d->st))
		cfg_fail(v, "\"img\": %s: %s", d->img, strerror(errno));
	if (S_ISDIR(d->st.st_mode))
		cfg_fail(v, "\"img\": %s is a directory", d->img);
	if (!S_ISBLK(d->st.st_mode) && !S_ISREG(d->st.st_mode))
		cfg_fail(v, "\"img\": %s is neither a block device nor an image file",
			 d->img);
	if (S_ISREG(d->st.st_mode) && d->st.st_size < 512)
		cfg_fail(v, "\"img\": %s: an image needs at least one 512-byte sector",
			 d->img);
}

static void parse_device(struct ld_zone *z, size_t idx, struct ld_dev *d)
{
	static const char *const unserved[] = { "gpu", "scmi" };
	const struct json_value *o = d->v, *v;
	const char *status = "enable";
	size_t i;

	snprintf(where, sizeof(where), "zone %u, device %zu: ", z->id, idx + 1);
	if (o->type != JSON_OBJECT)
		cfg_fail(o, "must be an object, not %s", json_type_name(o->type));
	d->type = get_str(o, "type");
	v = json_member(o, "status");
	if (v) {
		if (v->type != JSON_STRING ||
		    (strcmp(v->str, "enable") && strcmp(v->str, "disable")))
			cfg_fail(v, "\"status\" must be \"enable\" or \"disable\"");
		status = v->str;
	}
	if (!strcmp(d->type, "blk")) {
		d->kind = KIND_BLK;
	} else if (!strcmp(d->type, "net")) {
		d->kind = KIND_NET;
	} else if (!strcmp(d->type, "console")) {
		d->kind = KIND_CON;
	} else {
		for (i = 0; i < ARRAY_SIZE(unserved); i++)
			if (!strcmp(d->type, unserved[i]))
				break;
		if (i == ARRAY_SIZE(unserved))
			cfg_fail(json_member(o, "type"),
				 "unknown device type \"%.20s\" (blk, net, console, gpu or scmi)",
				 d->type);
		cfg_note("note: ", o, "%s devices are not served by hvisor_vhost: skipped",
			 d->type);
		d->kind = KIND_SKIP;
		return;
	}
	if (!strcmp(status, "disable")) {
		cfg_note("note: ", o, "%s device disabled (\"status\": \"disable\"): skipped",
			 d->type);
		d->kind = KIND_SKIP;
		return;
	}
	d->addr = get_num(o, "addr", UINT64_MAX);
	d->len = get_num(o, "len", MMIO_MAX);
	d->irq = get_num(o, "irq", UINT32_MAX);
	if (d->len < MMIO_ALIGN || d->len % MMIO_ALIGN)
		cfg_fail(json_member(o, "len"),
			 "\"len\": 0x%llx is not a multiple of 0x%x",
			 (unsigned long long)d->len, MMIO_ALIGN);
	if (d->addr % MMIO_ALIGN)
		cfg_fail(json_member(o, "addr"),
			 "\"addr\": 0x%llx is not aligned to 0x%x",
			 (unsigned long long)d->addr, MMIO_ALIGN);
	if (d->addr + d->len < d->addr)
		cfg_fail(json_member(o, "addr"),
			 "the window ends beyond the 64-bit address space");
	if (!d->irq)
		cfg_fail(json_member(o, "irq"), "\"irq\" must not be 0");
	if (d->kind == KIND_BLK) {
		d->img = get_str(o, "img");
		check_img(d, json_member(o, "img"));
	} else if (d->kind == KIND_NET) {
		d->tap = get_str(o, "tap");
		if (!strchr(d->tap, '/') && strlen(d->tap) >= IFNAMSIZ)
			cfg_fail(json_member(o, "tap"),
				 "\"tap\": '%s' is longer than %u characters",
				 d->tap, IFNAMSIZ - 1);
		v = json_member(o, "mac");
		if (v)
			parse_mac_value(d, v);
	}
}

/* Windows, IRQs, RAM of one zone's served devices. */
static void check_zone_devices(const struct ld_zone *z)
{
	const struct ld_dev *d, *e;
	size_t i, j;
	unsigned int r;

	for (i = 0; i < z->nr_devs; i++) {
		d = &z->devs[i];
		if (d->kind == KIND_SKIP)
			continue;
		snprintf(where, sizeof(where), "zone %u, device %zu: ", z->id,
			 i + 1);
		for (r = 0; r < z->nr_regions; r++)
			if (overlap(d->addr, d->len, z->regions[r].guest_phys,
				    z->regions[r].size))
				cfg_fail(json_member(d->v, "addr"),
					 "the window 0x%llx-0x%llx lies in the zone's RAM (memory region %u)",
					 (unsigned long long)d->addr,
					 (unsigned long long)(d->addr + d->len - 1),
					 r + 1);
		for (j = 0; j < i; j++) {
			e = &z->devs[j];
			if (e->kind == KIND_SKIP)
				continue;
			if (overlap(d->addr, d->len, e->addr, e->len))
				cfg_fail(json_member(d->v, "addr"),
					 "the window overlaps device %zu's", j + 1);
			if (d->irq == e->irq)
				cfg_fail(json_member(d->v, "irq"),
					 "IRQ %u is also device %zu's", d->irq,
					 j + 1);
		}
	}
}

/* The same image or tap twice would be two devices on one backend. */
static void check_duplicates(const struct ld_cfg *c)
{
	const struct ld_dev *d, *e;
	size_t zi, di, zj, dj;

	for (zi = 0; zi < c->nr_zones; zi++) {
		for (di = 0; di < c->zones[zi].nr_devs; di++) {
			d = &c->zones[zi].devs[di];
			if (d->kind == KIND_SKIP)
				continue;
			for (zj = 0; zj <= zi; zj++) {
				for (dj = 0; dj < c->zones[zj].nr_devs; dj++) {
					e = &c->zones[zj].devs[dj];
					if (zj == zi && dj >= di)
						break;
					if (e->kind != d->kind)
						continue;
					snprintf(where, sizeof(where),
						 "zone %u, device %zu: ",
						 c->zones[zi].id, di + 1);
					if (d->kind == KIND_BLK &&
					    (S_ISBLK(d->st.st_mode) ?
					     d->st.st_rdev == e->st.st_rdev :
					     d->st.st_dev == e->st.st_dev &&
					     d->st.st_ino == e->st.st_ino) &&
					    (d->st.st_mode & S_IFMT) ==
					    (e->st.st_mode & S_IFMT))
						cfg_fail(json_member(d->v, "img"),
							 "%s is also the image of zone %u's device %zu",
							 d->img, c->zones[zj].id, dj + 1);
					if (d->kind == KIND_NET &&
					    !strcmp(d->tap, e->tap))
						cfg_fail(json_member(d->v, "tap"),
							 "%s is also the tap of zone %u's device %zu",
							 d->tap, c->zones[zj].id, dj + 1);
				}
			}
		}
	}
}

static void parse_config(const struct json_value *root, struct ld_cfg *c)
{
	const struct json_value *zones, *devs;
	size_t i, j;

	where[0] = '\0';
	if (root->type != JSON_OBJECT)
		cfg_fail(root, "the top level must be an object with \"zones\"");
	zones = get(root, "zones", JSON_ARRAY);
	c->nr_zones = zones->n;
	c->zones = calloc(zones->n ? zones->n : 1, sizeof(*c->zones));
	if (!c->zones) {
		err_msg("out of memory");
		exit(EXIT_FAILED);
	}
	for (i = 0; i < zones->n; i++) {
		struct ld_zone *z = &c->zones[i];

		z->v = &zones->items[i];
		snprintf(where, sizeof(where), "zone #%zu: ", i + 1);
		if (z->v->type != JSON_OBJECT)
			cfg_fail(z->v, "must be an object, not %s",
				 json_type_name(z->v->type));
		z->id = get_num(z->v, "id", UINT32_MAX);
		if (!z->id)
			cfg_fail(json_member(z->v, "id"),
				 "zone 0 is root and cannot be configured");
		for (j = 0; j < i; j++)
			if (c->zones[j].id == z->id)
				cfg_fail(json_member(z->v, "id"),
					 "zone %u is described twice", z->id);
		parse_regions(z);
		snprintf(where, sizeof(where), "zone %u: ", z->id);
		devs = get(z->v, "devices", JSON_ARRAY);
		z->nr_devs = devs->n;
		z->devs = calloc(devs->n ? devs->n : 1, sizeof(*z->devs));
		if (!z->devs) {
			err_msg("out of memory");
			exit(EXIT_FAILED);
		}
		for (j = 0; j < devs->n; j++) {
			z->devs[j].v = &devs->items[j];
			parse_device(z, j, &z->devs[j]);
		}
		check_zone_devices(z);
	}
	check_duplicates(c);
	where[0] = '\0';
}

static struct json_value *read_config(const char *path)
{
	struct json_error err;
	struct json_value *root;
	size_t len = 0, cap = 1 << 16;
	char *text = NULL, *p;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			usage_error("load", "%s: no such file", path);
		err_msg("cannot open %s: %s", path, strerror(errno));
		exit(EXIT_FAILED);
	}
	for (;;) {
		if (!text || len == cap) {
			if (text)
				cap *= 2;
			p = cap > MAX_FILE + 1 ? NULL : realloc(text, cap);
			if (!p) {
				err_msg("%s: %s", path, cap > MAX_FILE + 1 ?
					"larger than 4 MiB" : "out of memory");
				exit(EXIT_USAGE);
			}
			text = p;
		}
		n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_msg("cannot read %s: %s", path, strerror(errno));
			exit(errno == EISDIR ? EXIT_USAGE : EXIT_FAILED);
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	root = json_parse(text, len, &err);
	free(text);
	if (!root) {
		fprintf(stderr, "%s: %s:%u:%u: %s\n", prog, path, err.line,
			err.col, err.msg);
		exit(EXIT_USAGE);
	}
	return root;
}

/* --- against the module ------------------------------------------------- */

/*
 * What the module already has must leave room for the file: its zones
 * must be new, the devices must fit, net and console need their
 * features. Exits 1.
 */
static void check_module(int fd, const struct hvisor_vhost_version *ver,
			 const struct ld_cfg *c)
{
	struct hvisor_vhost_zone z;
	struct hvisor_vhost_dev *d = NULL;
	size_t i, j, nd = 0, new_devs = 0, nzones = 0;
	uint32_t next = 0;
	bool net = false, con = false;

	for (;;) {
		memset(&z, 0, sizeof(z));
		z.zone_id = next;
		if (module_ioctl(fd, HVISOR_VHOST_IOC_ZONE_NEXT, &z) < 0)
			break;
		nzones++;
		for (i = 0; i < c->nr_zones; i++) {
			if (c->zones[i].id != z.zone_id)
				continue;
			where[0] = '\0';
			cfg_note("", json_member(c->zones[i].v, "id"),
				 "zone %u already exists (remove it first with '%s zone del %u')",
				 z.zone_id, prog, z.zone_id);
			exit(EXIT_FAILED);
		}
		if (z.zone_id == UINT32_MAX)
			break;
		next = z.zone_id + 1;
	}
	if (nzones + c->nr_zones > ver->max_zones) {
		err_msg("%s: %zu zones do not fit: the module has %zu of at most %u",
			cfg_file, c->nr_zones, nzones, ver->max_zones);
		exit(EXIT_FAILED);
	}
	if (fetch_devs(fd, &d, &nd))
		exit(EXIT_FAILED);
	for (i = 0; i < c->nr_zones; i++) {
		for (j = 0; j < c->zones[i].nr_devs; j++) {
			const struct ld_dev *ld = &c->zones[i].devs[j];
			size_t k;

			if (ld->kind == KIND_SKIP)
				continue;
			new_devs++;
			net |= ld->kind == KIND_NET;
			con |= ld->kind == KIND_CON;
			if (ld->kind != KIND_BLK || !S_ISBLK(ld->st.st_mode))
				continue;
			for (k = 0; k < nd; k++) {
				if (d[k].type != HVISOR_VHOST_DEV_BLK ||
				    d[k].blk.backing_major != major(ld->st.st_rdev) ||
				    d[k].blk.backing_minor != minor(ld->st.st_rdev))
					continue;
				snprintf(where, sizeof(where),
					 "zone %u, device %zu: ",
					 c->zones[i].id, j + 1);
				cfg_note("", json_member(ld->v, "img"),
					 "%s is already the backend of device %u",
					 ld->img, d[k].dev_id);
				exit(EXIT_FAILED);
			}
		}
	}
	free(d);
	if (nd + new_devs > ver->max_devices) {
		err_msg("%s: %zu devices do not fit: the module has %zu of at most %u",
			cfg_file, new_devs, nd, ver->max_devices);
		exit(EXIT_FAILED);
	}
	if (net && !(ver->features & HVISOR_VHOST_F_NET)) {
		err_msg("%s: the module has no virtio-net support", cfg_file);
		exit(EXIT_FAILED);
	}
	if (con && !(ver->features & HVISOR_VHOST_F_CONSOLE)) {
		err_msg("%s: the module has no virtio-console support", cfg_file);
		exit(EXIT_FAILED);
	}
}

/* --- the steps ----------------------------------------------------------- */

struct step {
	int (*run)(int argc, char **argv);
	int argc;
	char *argv[MAX_ARGS];
	char buf[MAX_ARGS][64];
};

static void __printf(2, 3) step_arg(struct step *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->buf[s->argc], sizeof(s->buf[0]), fmt, ap);
	va_end(ap);
	s->argv[s->argc] = s->buf[s->argc];
	s->argc++;
	s->argv[s->argc] = NULL;
}

/* An argument that may be long (a path): not copied. */
static void step_str(struct step *s, const char *str)
{
	s->argv[s->argc++] = (char *)str;
	s->argv[s->argc] = NULL;
}

static void zone_step(const struct ld_zone *z, struct step *s)
{
	unsigned int r;

	memset(s, 0, sizeof(*s));
	s->run = cmd_zone;
	step_arg(s, "zone");
	step_arg(s, "add");
	step_arg(s, "%u", z->id);
	for (r = 0; r < z->nr_regions; r++) {
		step_arg(s, "--region");
		step_arg(s, "0x%llx:0x%llx:0x%llx",
			 (unsigned long long)z->regions[r].guest_phys,
			 (unsigned long long)z->regions[r].host_phys,
			 (unsigned long long)z->regions[r].size);
	}
}

static void dev_step(const struct ld_zone *z, const struct ld_dev *d,
		     struct step *s)
{
	memset(s, 0, sizeof(*s));
	if (d->kind == KIND_BLK) {
		s->run = cmd_add_blk;
		step_arg(s, "add-blk");
		step_str(s, d->img);
	} else if (d->kind == KIND_CON) {
		s->run = cmd_add_console;
		step_arg(s, "add-console");
	} else {
		s->run = cmd_add_net;
		step_arg(s, "add-net");
		step_str(s, d->tap);
	}
	step_arg(s, "--zone");
	step_arg(s, "%u", z->id);
	step_arg(s, "--mmio");
	step_arg(s, "0x%llx", (unsigned long long)d->addr);
	step_arg(s, "--size");
	step_arg(s, "0x%llx", (unsigned long long)d->len);
	step_arg(s, "--irq");
	step_arg(s, "%u", d->irq);
	if (d->have_mac) {
		step_arg(s, "--mac");
		step_arg(s, "%02x:%02x:%02x:%02x:%02x:%02x", d->mac[0],
			 d->mac[1], d->mac[2], d->mac[3], d->mac[4], d->mac[5]);
	}
}

/* @s as a shell command line. */
static void print_step(FILE *out, const struct step *s)
{
	const char *a;
	int i;

	fputs(prog, out);
	for (i = 0; i < s->argc; i++) {
		a = s->argv[i];
		fputc(' ', out);
		if (*a && strspn(a, SHELL_SAFE) == strlen(a)) {
			fputs(a, out);
			continue;
		}
		fputc('\'', out);
		for (; *a; a++) {
			if (*a == '\'')
				fputs("'\\''", out);
			else
				fputc(*a, out);
		}
		fputc('\'', out);
	}
	fputc('\n', out);
}

/*
 * Run @s as hvctl would, in a child process (the commands exit on
 * failure); its standard output into @out. Returns its exit status.
 */
static int run_step(const struct step *s, char *out, size_t len)
{
	size_t got = 0;
	int pfd[2], st;
	char sink[256];
	ssize_t n;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe2(pfd, O_CLOEXEC)) {
		err_msg("pipe: %s", strerror(errno));
		return EXIT_FAILED;
	}
	pid = fork();
	if (pid < 0) {
		err_msg("fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return EXIT_FAILED;
	}
	if (!pid) {
		if (dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(EXIT_FAILED);
		exit(s->run(s->argc, (char **)s->argv));
	}
	close(pfd[1]);
	for (;;) {
		if (got + 1 < len)
			n = read(pfd[0], out + got, len - 1 - got);
		else
			n = read(pfd[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got + 1 < len)
			got += n;
	}
	out[got] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return EXIT_FAILED;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	err_msg("'%s' was killed by signal %d", s->argv[0], WTERMSIG(st));
	return EXIT_FAILED;
}

/* Remove what was created, newest first. Returns 0 or -1. */
static int undo_all(const struct ld_cfg *c)
{
	struct hvisor_vhost_version ver;
	struct hvisor_vhost_id id;
	size_t i, j;
	int fd, ret = 0;

	fd = module_open(&ver);
	for (i = c->nr_zones; i-- > 0;) {
		const struct ld_zone *z = &c->zones[i];

		for (j = z->nr_devs; j-- > 0;) {
			if (!z->devs[j].dev_id)
				continue;
			memset(&id, 0, sizeof(id));
			id.id = z->devs[j].dev_id;
			if (module_ioctl(fd, HVISOR_VHOST_IOC_DEV_DEL, &id) < 0) {
				err_msg("undo: cannot remove device %u: %s",
					id.id, strerror(errno));
				ret = -1;
			} else {
				fprintf(stderr, "%s: undo: removed device %u\n",
					prog, id.id);
			}
		}
		if (!z->created)
			continue;
		memset(&id, 0, sizeof(id));
		id.id = z->id;
		if (module_ioctl(fd, HVISOR_VHOST_IOC_ZONE_DEL, &id) < 0) {
			err_msg("undo: cannot remove zone %u: %s", z->id,
				strerror(errno));
			ret = -1;
		} else {
			fprintf(stderr, "%s: undo: removed zone %u\n", prog,
				z->id);
		}
	}
	close(fd);
	return ret;
}

/* Create everything; on failure undo and return the exit status. */
static int apply(struct ld_cfg *c)
{
	char out[256], *last;
	struct ld_zone *z;
	struct ld_dev *d;
	struct step s;
	size_t i, j;
	__u32 id;
	int rc;

	for (i = 0; i < c->nr_zones; i++) {
		z = &c->zones[i];
		zone_step(z, &s);
		rc = run_step(&s, out, sizeof(out));
		if (rc)
			goto fail;
		z->created = true;
		printf("zone %u: added (%u memory region%s)\n", z->id,
		       z->nr_regions, z->nr_regions == 1 ? "" : "s");
		for (j = 0; j < z->nr_devs; j++) {
			d = &z->devs[j];
			if (d->kind == KIND_SKIP)
				continue;
			dev_step(z, d, &s);
			rc = run_step(&s, out, sizeof(out));
			if (rc)
				goto fail;
			/* The device id is the last line. */
			while (*out && out[strlen(out) - 1] == '\n')
				out[strlen(out) - 1] = '\0';
			last = strrchr(out, '\n');
			last = last ? last + 1 : out;
			if (parse_u32(last, &id) || !id) {
				err_msg("'%s' did not print a device id", s.argv[0]);
				rc = EXIT_FAILED;
				goto fail;
			}
			d->dev_id = id;
			if (d->kind == KIND_CON)
				printf("zone %u: device %u: console at 0x%llx irq %u\n",
				       z->id, id, (unsigned long long)d->addr,
				       d->irq);
			else
				printf("zone %u: device %u: %s %s at 0x%llx irq %u\n",
				       z->id, id, d->type,
				       d->kind == KIND_BLK ? d->img : d->tap,
				       (unsigned long long)d->addr, d->irq);
		}
	}
	return EXIT_OK;
fail:
	fflush(stdout);
	fprintf(stderr, "%s: %s: failed at: ", prog, cfg_file);
	print_step(stderr, &s);
	if (undo_all(c)) {
		err_msg("%s: could not remove everything it had created", cfg_file);
		return EXIT_FAILED;
	}
	err_msg("%s: nothing applied", cfg_file);
	return rc;
}

int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct hvisor_vhost_version ver;
	struct json_value *root;
	struct ld_cfg cfg = { 0 };
	bool dry = false;
	size_t i, j, ndev = 0;
	struct step s;
	int c, fd, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":nh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry = true;
			break;
		case 'h':
			help_load(stdout);
			return EXIT_OK;
		default:
			option_error("load", c, argv);
		}
	}
	if (optind >= argc)
		usage_error("load", "missing configuration file");
	if (optind + 1 < argc)
		usage_error("load", "unexpected argument '%s'", argv[optind + 1]);
	cfg_file = argv[optind];

	root = read_config(cfg_file);
	parse_config(root, &cfg);
	for (i = 0; i < cfg.nr_zones; i++)
		for (j = 0; j < cfg.zones[i].nr_devs; j++)
			ndev += cfg.zones[i].devs[j].kind != KIND_SKIP;

	if (dry) {
		rc = module_connect(&ver, &fd);
		if (fd >= 0 && rc == EXIT_OK)
			check_module(fd, &ver, &cfg);
		else
			fprintf(stderr, "%s: note: not checked against the module\n",
				prog);
		if (fd >= 0)
			close(fd);
		for (i = 0; i < cfg.nr_zones; i++) {
			zone_step(&cfg.zones[i], &s);
			print_step(stdout, &s);
			for (j = 0; j < cfg.zones[i].nr_devs; j++) {
				if (cfg.zones[i].devs[j].kind == KIND_SKIP)
					continue;
				dev_step(&cfg.zones[i], &cfg.zones[i].devs[j], &s);
				print_step(stdout, &s);
			}
		}
		rc = EXIT_OK;
	} else {
		fd = module_open(&ver);
		check_module(fd, &ver, &cfg);
		close(fd);
		rc = apply(&cfg);
		if (!rc)
			printf("%s: %zu zone%s, %zu device%s\n", cfg_file,
			       cfg.nr_zones, cfg.nr_zones == 1 ? "" : "s",
			       ndev, ndev == 1 ? "" : "s");
	}
	for (i = 0; i < cfg.nr_zones; i++)
		free(cfg.zones[i].devs);
	free(cfg.zones);
	json_free(root);
	if (fflush(stdout) || ferror(stdout)) {
		err_msg("write error: %s", strerror(errno));
		rc = EXIT_FAILED;
	}
	return rc;
}

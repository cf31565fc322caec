// SPDX-License-Identifier: GPL-2.0
/*
 * Zones and their RAM.
 *
 * A zone's RAM regions are mapped into root once, when the zone is created,
 * with memremap(MEMREMAP_WB): zone RAM is cache-coherent with root.  A
 * region is either all root RAM or none of it (region_check()).  Where it
 * is root RAM, memremap hands back the linear mapping and the region has
 * struct pages (bios can point at it directly).  Elsewhere, the board
 * case of zone RAM that root's memory map leaves out, memremap falls back
 * to ioremap_cache(): on arm64 a Normal, cacheable mapping in the vmalloc
 * area (allowed because the range is not in the linear map), on x86_64 a
 * write-back one; either way without struct pages, so the block path
 * bounces, and everything else only ever copies through the pointer.
 *
 * hvv_zone_map() is the one translation primitive: nothing else in the module
 * turns a guest-physical address into a pointer.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "hvv.h"

static LIST_HEAD(hvv_zones);
static unsigned int hvv_nr_zones;
/* Whether root's own RAM may be a zone's (main.c decides at load). */
bool hvv_root_ram_ok;

/**
 * hvv_zone_region() - the region holding a whole guest-physical range
 * @zone: the zone
 * @gpa: start of the range
 * @len: its length, > 0
 *
 * Return: the region containing all of [@gpa, @gpa + @len), or NULL when the
 * range is empty, wraps around, or is not inside one region.
 */
const struct hvv_region *hvv_zone_region(const struct hvv_zone *zone,
					 u64 gpa, u64 len)
{
	unsigned int i;

	if (!len)
		return NULL;
	for (i = 0; i < zone->nr_regions; i++) {
		const struct hvv_region *r = &zone->regions[i];

		/* Written so that no sum can overflow. */
		if (gpa >= r->gpa && gpa - r->gpa < r->size &&
		    len <= r->size - (gpa - r->gpa))
			return r;
	}
	return NULL;
}

/**
 * hvv_zone_map() - kernel address of a guest-physical range
 * @zone: the zone
 * @gpa: start of the range
 * @len: its length, > 0
 *
 * Return: a kernel pointer valid for @len bytes while the zone exists, or
 * NULL unless the whole range lies inside one RAM region of @zone.
 */
void *hvv_zone_map(const struct hvv_zone *zone, u64 gpa, u64 len)
{
	const struct hvv_region *r = hvv_zone_region(zone, gpa, len);

	return r ? r->kva + (gpa - r->gpa) : NULL;
}

/* Caller holds hvv_lock. */
struct hvv_zone *hvv_zone_find(u32 id)
{
	struct hvv_zone *zone;

	list_for_each_entry(zone, &hvv_zones, node)
		if (zone->id == id)
			return zone;
	return NULL;
}

static bool ranges_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

static int add_ram_bytes(struct resource *res, void *arg)
{
	*(u64 *)arg += resource_size(res);
	return 0;
}

/* How many bytes of [start, start + size) are System RAM. */
static u64 system_ram_bytes(u64 start, u64 size)
{
	u64 bytes = 0;

	/*
	 * The walk hands out each top-level RAM resource clipped to the
	 * range and resumes after it, so nested resources count once.
	 */
	walk_iomem_res_desc(IORES_DESC_NONE,
			    IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY,
			    start, start + size - 1, &bytes, add_ram_bytes);
	return bytes;
}

static int find_claimed_mmio(struct resource *res, void *arg)
{
	/* System RAM is judged apart; anything else busy is a device's. */
	if (res->flags & IORESOURCE_SYSRAM)
		return 0;
	*(struct resource **)arg = res;
	return 1;
}

/*
 * Memory a driver of root claimed (request_mem_region: busy, not RAM) in
 * [start, start + size), or NULL.  Mapping device registers write-back
 * would be wrong, and on arm64 a cacheable access to them can raise an
 * SError.
 */
static struct resource *claimed_mmio(u64 start, u64 size)
{
	struct resource *res = NULL;

	walk_iomem_res_desc(IORES_DESC_NONE, IORESOURCE_MEM | IORESOURCE_BUSY,
			    start, start + size - 1, &res, find_claimed_mmio);
	return res;
}

static int region_check(const struct hvisor_vhost_region *r)
{
	struct resource *mmio;
	u64 end, ram;

	if (r->reserved || !r->size)
		return -EINVAL;
	if (!PAGE_ALIGNED(r->guest_phys) || !PAGE_ALIGNED(r->host_phys) ||
	    !PAGE_ALIGNED(r->size))
		return -EINVAL;
	if (check_add_overflow(r->guest_phys, r->size, &end) ||
	    check_add_overflow(r->host_phys, r->size, &end))
		return -EINVAL;
	/*
	 * A range that is partly System RAM cannot be mapped as one: the
	 * linear map does not cover the rest, and memremap() would not
	 * always notice.  Refuse it.
	 */
	ram = system_ram_bytes(r->host_phys, r->size);
	if (ram && ram != r->size)
		return -EINVAL;
	/*
	 * Root's own RAM (its kernel, its page tables, the bridge page) is
	 * never a zone's on a board: only the loopback tests, whose zone
	 * runs in root, or the documented unsafe switch allow it.
	 */
	if (ram && !hvv_root_ram_ok) {
		pr_err("host range %#llx-%#llx is System RAM of root: refused (allow_root_ram=1 allows it, unsafely)\n",
		       r->host_phys, r->host_phys + r->size - 1);
		return -EADDRNOTAVAIL;
	}
	mmio = claimed_mmio(r->host_phys, r->size);
	if (mmio) {
		pr_err("host range %#llx-%#llx overlaps %pR (%s), claimed by a driver of root: refused\n",
		       r->host_phys, r->host_phys + r->size - 1, mmio,
		       mmio->name ?: "?");
		return -EBUSY;
	}
	return 0;
}

static int zone_check(const struct hvisor_vhost_zone *uz)
{
	unsigned int i, j;
	int ret;

	if (!uz->zone_id || !uz->nr_regions ||
	    uz->nr_regions > HVISOR_VHOST_MAX_REGIONS ||
	    uz->flags || uz->reserved0)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(uz->reserved); i++)
		if (uz->reserved[i])
			return -EINVAL;
	for (i = uz->nr_regions; i < HVISOR_VHOST_MAX_REGIONS; i++)
		if (memchr_inv(&uz->regions[i], 0, sizeof(uz->regions[i])))
			return -EINVAL;
	for (i = 0; i < uz->nr_regions; i++) {
		const struct hvisor_vhost_region *a = &uz->regions[i];

		ret = region_check(a);
		if (ret)
			return ret;
		for (j = 0; j < i; j++) {
			const struct hvisor_vhost_region *b = &uz->regions[j];

			if (ranges_overlap(a->guest_phys, a->size,
					   b->guest_phys, b->size) ||
			    ranges_overlap(a->host_phys, a->size,
					   b->host_phys, b->size))
				return -EINVAL;
		}
	}
	return 0;
}

static void zone_unmap(struct hvv_zone *zone)
{
	unsigned int i;

	for (i = 0; i < zone->nr_regions; i++)
		if (zone->regions[i].kva)
			memunmap(zone->regions[i].kva);
}

static int region_cmp(const void *a, const void *b)
{
	const struct hvisor_vhost_region *ra = a, *rb = b;

	return ra->guest_phys < rb->guest_phys ? -1 :
	       ra->guest_phys > rb->guest_phys;
}

/*
 * The zone's RAM as it will be mapped: the regions (sorted by guest
 * address), those that continue one another in both address spaces
 * (and are alike, both root RAM or neither) merged.  The zone sees one
 * RAM range there and its block layer merges buffers across the
 * boundary; one mapping serves such a buffer as it serves any other.
 * Regions adjacent only for the guest cannot be merged: a buffer across
 * that boundary is refused as outside zone RAM (logged here).
 */
static void zone_layout(struct hvv_zone *zone)
{
	struct hvv_region *last = NULL;
	unsigned int i;

	zone->nr_regions = 0;
	for (i = 0; i < zone->nr_given; i++) {
		const struct hvisor_vhost_region *g = &zone->given[i];
		bool ram = system_ram_bytes(g->host_phys, g->size);

		if (last && last->gpa + last->size == g->guest_phys) {
			if (last->hpa + last->size == g->host_phys &&
			    last->has_pages == ram) {
				last->size += g->size;
				continue;
			}
			pr_warn("zone %u: RAM at %#llx continues the region before it only in guest addresses: a buffer across %#llx fails\n",
				zone->id, g->guest_phys, g->guest_phys);
		}
		last = &zone->regions[zone->nr_regions++];
		last->gpa = g->guest_phys;
		last->hpa = g->host_phys;
		last->size = g->size;
		/* Until mapped: whether it is root RAM, to merge alike only. */
		last->has_pages = ram;
	}
}

static int zone_map(struct hvv_zone *zone, const struct hvisor_vhost_zone *uz)
{
	unsigned int i;

	zone->nr_given = uz->nr_regions;
	memcpy(zone->given, uz->regions, uz->nr_regions * sizeof(uz->regions[0]));
	sort(zone->given, zone->nr_given, sizeof(zone->given[0]), region_cmp,
	     NULL);
	zone_layout(zone);
	for (i = 0; i < zone->nr_regions; i++) {
		struct hvv_region *r = &zone->regions[i];

		r->kva = memremap(r->hpa, r->size, MEMREMAP_WB);
		if (!r->kva)
			return -ENOMEM;
		/*
		 * memremap() returns the linear map exactly when the range is
		 * root RAM; then every page of it has a struct page.
		 */
		r->has_pages = virt_addr_valid(r->kva) &&
			       virt_addr_valid(r->kva + r->size - 1);
	}
	return 0;
}

static unsigned int zone_nr_nopage(const struct hvv_zone *zone)
{
	unsigned int i, n = 0;

	for (i = 0; i < zone->nr_regions; i++)
		n += !zone->regions[i].has_pages;
	return n;
}

static int zone_add(const struct hvisor_vhost_zone *uz, u32 flags)
{
	struct hvv_zone *zone;
	int ret;

	/*
	 * A zone maps physical memory root chooses, as /dev/mem does: not
	 * on a kernel locked down against that.
	 */
	ret = security_locked_down(LOCKDOWN_DEV_MEM);
	if (ret)
		return ret;
	ret = zone_check(uz);
	if (ret)
		return ret;

	if (mutex_lock_killable(&hvv_lock))
		return -EINTR;
	if (hvv_zone_find(uz->zone_id)) {
		ret = -EEXIST;
		goto out;
	}
	if (hvv_nr_zones >= HVV_MAX_ZONES) {
		ret = -ENOSPC;
		goto out;
	}
	zone = kzalloc(sizeof(*zone), GFP_KERNEL);
	if (!zone) {
		ret = -ENOMEM;
		goto out;
	}
	zone->id = uz->zone_id;
	zone->flags = flags;
	ret = zone_map(zone, uz);
	if (ret) {
		zone_unmap(zone);
		kfree(zone);
		goto out;
	}
	list_add_tail(&zone->node, &hvv_zones);
	hvv_nr_zones++;
	pr_info("zone %u: %u RAM region(s) mapped as %u, %u without struct pages (block data bounced)\n",
		zone->id, zone->nr_given, zone->nr_regions,
		zone_nr_nopage(zone));
out:
	mutex_unlock(&hvv_lock);
	return ret;
}

/**
 * hvv_zone_add() - create a zone (ZONE_ADD)
 * @uz: the zone as user space described it
 *
 * Return: 0, -EINVAL on a malformed description, -EADDRNOTAVAIL for a
 * region of root's own RAM (unless allowed), -EBUSY for one that overlaps
 * memory a driver claimed, -EPERM under lockdown, -EEXIST if the id is
 * taken, -ENOSPC when the table is full, -ENOMEM.
 */
int hvv_zone_add(const struct hvisor_vhost_zone *uz)
{
	return zone_add(uz, 0);
}

/**
 * hvv_zone_add_dt() - create a zone the device tree declares
 * @uz: the zone, as hvv_zone_add() takes it
 *
 * ZONE_NEXT reports it with HVISOR_VHOST_ZONE_F_DT.
 *
 * Return: as hvv_zone_add().
 */
int hvv_zone_add_dt(const struct hvisor_vhost_zone *uz)
{
	return zone_add(uz, HVISOR_VHOST_ZONE_F_DT);
}

static void zone_free(struct hvv_zone *zone)
{
	list_del(&zone->node);
	hvv_nr_zones--;
	zone_unmap(zone);
	kfree(zone);
}

/**
 * hvv_zone_del() - remove a zone (ZONE_DEL)
 * @id: zone id
 *
 * Return: 0, -ENOENT if unknown, -EBUSY while devices use it.
 */
int hvv_zone_del(u32 id)
{
	struct hvv_zone *zone;
	int ret = 0;

	if (mutex_lock_killable(&hvv_lock))
		return -EINTR;
	zone = hvv_zone_find(id);
	if (!zone)
		ret = -ENOENT;
	else if (zone->nr_devices)
		ret = -EBUSY;
	else
		zone_free(zone);
	mutex_unlock(&hvv_lock);
	if (!ret)
		pr_info("zone %u removed\n", id);
	return ret;
}

/**
 * hvv_zone_next() - the zone with the smallest id >= uz->zone_id (ZONE_NEXT)
 * @uz: in: zone_id; out: that zone
 *
 * Return: 0, or -ENOENT when there is none.
 */
int hvv_zone_next(struct hvisor_vhost_zone *uz)
{
	struct hvv_zone *zone, *best = NULL;
	unsigned int i;

	if (mutex_lock_killable(&hvv_lock))
		return -EINTR;
	list_for_each_entry(zone, &hvv_zones, node)
		if (zone->id >= uz->zone_id && (!best || zone->id < best->id))
			best = zone;
	if (best) {
		memset(uz, 0, sizeof(*uz));
		uz->zone_id = best->id;
		uz->nr_regions = best->nr_given;
		uz->flags = best->flags;
		for (i = 0; i < best->nr_given; i++)
			uz->regions[i] = best->given[i];
	}
	mutex_unlock(&hvv_lock);
	return best ? 0 : -ENOENT;
}

/* Module exit, after every device is gone. */
void hvv_zones_destroy(void)
{
	struct hvv_zone *zone, *tmp;

	mutex_lock(&hvv_lock);
	list_for_each_entry_safe(zone, tmp, &hvv_zones, node)
		zone_free(zone);
	mutex_unlock(&hvv_lock);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Zone RAM that root does not manage, for the loopback zone.
 *
 * On a board, a zone's RAM is a physical range root's kernel knows nothing
 * of: no struct pages, no linear mapping.  Root's own virtio drivers, which
 * play the zone here, allocate their rings and buffers from root's RAM, so
 * by default the tests give the zone root's RAM.  With a zone RAM range set
 * (the zone_ram control file, on a range the rig kept from root at boot),
 * the devices of that zone get a parent device whose DMA operations place
 * everything the drivers hand to the device inside that range:
 *
 *  - coherent allocations (the rings) come from the range;
 *  - every streaming mapping (request headers, data, frames, indirect
 *    tables) is bounced: a piece of the range is taken, filled from the
 *    driver's buffer on map and sync-for-device, copied back on unmap and
 *    sync-for-cpu (DMA_FROM_DEVICE, DMA_BIDIRECTIONAL), as swiotlb does.
 *
 * The DMA address handed to the driver, and so written into the rings, is
 * the zone's guest-physical address of the piece: the backend's zone then
 * describes only that range, and any buffer outside it would fail its
 * bounds checks.  The transport makes the virtio core use the DMA API by
 * accepting VIRTIO_F_ACCESS_PLATFORM for the core without telling the
 * device (transport.c).
 */

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/genalloc.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "lb.h"

/* Bounce pieces are whole slots of this size. */
#define LB_ZRAM_SLOT_SHIFT	9
#define LB_ZRAM_SLOT		BIT(LB_ZRAM_SLOT_SHIFT)
/* Largest streaming mapping (virtio_blk and virtio_net size to it). */
#define LB_ZRAM_MAX_MAP		SZ_256K

/**
 * struct lb_zram - a zone's RAM outside root's memory
 * @dev: parent of the zone's virtio devices; carries the DMA operations
 * @zone: zone id
 * @hpa: host-physical base
 * @gpa: guest-physical base (the zone's view; the DMA addresses)
 * @size: length
 * @kva: root's mapping of the range
 * @pool: allocator over @kva
 * @orig: per slot in use by a streaming mapping, the driver's buffer it
 *	stands for
 * @users: registered loopback devices with @dev as parent (changed under
 *	lb_mutex)
 * @maps: streaming mappings made
 * @map_fail: mappings refused (range full, oversized)
 * @to_dev: bytes copied into the range
 * @to_cpu: bytes copied out of it
 * @coherent: coherent allocations (rings) made
 */
struct lb_zram {
	struct device dev;
	u32 zone;
	phys_addr_t hpa;
	u64 gpa;
	u64 size;
	void *kva;
	struct gen_pool *pool;
	void **orig;
	unsigned int users;

	atomic64_t maps;
	atomic64_t map_fail;
	atomic64_t to_dev;
	atomic64_t to_cpu;
	atomic64_t coherent;
};

/*
 * The one zone RAM range: changed with lb_mutex and lb_zram_lock held;
 * the zone_ram file reads it under lb_zram_lock only, so that it never
 * waits for a probe stuck on a dead zone.
 */
static struct lb_zram *lb_zram;
static DEFINE_MUTEX(lb_zram_lock);

static struct lb_zram *to_zram(struct device *dev)
{
	return container_of(dev, struct lb_zram, dev);
}

/* Kernel address of the piece at DMA address @dma, or NULL. */
static void *zram_kva(struct lb_zram *z, dma_addr_t dma, size_t size)
{
	if (dma < z->gpa || dma - z->gpa >= z->size ||
	    size > z->size - (dma - z->gpa))
		return NULL;
	return z->kva + (dma - z->gpa);
}

/* The driver's buffer behind the bounced byte at @dma. */
static void *zram_orig(struct lb_zram *z, dma_addr_t dma)
{
	u64 off = dma - z->gpa;
	void *base = z->orig[off >> LB_ZRAM_SLOT_SHIFT];

	return base ? base + (off & (LB_ZRAM_SLOT - 1)) : NULL;
}

static void zram_copy(struct lb_zram *z, dma_addr_t dma, size_t size,
		      bool to_dev)
{
	void *b = zram_kva(z, dma, size);
	void *o = b ? zram_orig(z, dma) : NULL;

	if (!o) {
		dev_err_ratelimited(&z->dev, "sync of 0x%llx+0x%zx: not a bounced mapping\n",
				    (u64)dma, size);
		return;
	}
	if (to_dev) {
		memcpy(b, o, size);
		atomic64_add(size, &z->to_dev);
	} else {
		memcpy(o, b, size);
		atomic64_add(size, &z->to_cpu);
	}
}

static dma_addr_t zram_map(struct device *dev, phys_addr_t phys, size_t size,
			   enum dma_data_direction dir, unsigned long attrs)
{
	struct lb_zram *z = to_zram(dev);
	void *src = phys_to_virt(phys);
	unsigned long va;
	unsigned int i, first, n;
	dma_addr_t dma;

	if (!size || size > LB_ZRAM_MAX_MAP)
		goto fail;
	va = gen_pool_alloc(z->pool, size);
	if (!va)
		goto fail;
	first = (va - (unsigned long)z->kva) >> LB_ZRAM_SLOT_SHIFT;
	n = DIV_ROUND_UP(size, LB_ZRAM_SLOT);
	for (i = 0; i < n; i++)
		z->orig[first + i] = src + i * LB_ZRAM_SLOT;
	dma = z->gpa + (va - (unsigned long)z->kva);
	atomic64_inc(&z->maps);
	/*
	 * Filled whatever the direction, as swiotlb does: what the device
	 * does not overwrite must not come back as stale bytes on unmap.
	 */
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		zram_copy(z, dma, size, true);
	return dma;
fail:
	atomic64_inc(&z->map_fail);
	return DMA_MAPPING_ERROR;
}

HVV_DMA_MAP_PAGE_WRAPPER(zram_map)

static void zram_unmap(struct device *dev, dma_addr_t dma, size_t size,
		       enum dma_data_direction dir, unsigned long attrs)
{
	struct lb_zram *z = to_zram(dev);
	void *b = zram_kva(z, dma, size);
	unsigned int i, first;

	if (!b || !size) {
		dev_err_ratelimited(dev, "unmap of 0x%llx+0x%zx: not in the zone's RAM\n",
				    (u64)dma, size);
		return;
	}
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
	    (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		zram_copy(z, dma, size, false);
	first = (dma - z->gpa) >> LB_ZRAM_SLOT_SHIFT;
	for (i = 0; i < DIV_ROUND_UP(size, LB_ZRAM_SLOT); i++)
		z->orig[first + i] = NULL;
	gen_pool_free(z->pool, (unsigned long)b, size);
}

static void zram_sync_for_cpu(struct device *dev, dma_addr_t dma,
			      size_t size, enum dma_data_direction dir)
{
	if (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL)
		zram_copy(to_zram(dev), dma, size, false);
}

static void zram_sync_for_device(struct device *dev, dma_addr_t dma,
				 size_t size, enum dma_data_direction dir)
{
	if (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL)
		zram_copy(to_zram(dev), dma, size, true);
}

static void zram_unmap_sg(struct device *dev, struct scatterlist *sgl,
			  int nents, enum dma_data_direction dir,
			  unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		zram_unmap(dev, sg_dma_address(sg), sg_dma_len(sg), dir, attrs);
}

static int zram_map_sg(struct device *dev, struct scatterlist *sgl, int nents,
		       enum dma_data_direction dir, unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		sg_dma_address(sg) = zram_map(dev, sg_phys(sg), sg->length,
					      dir, attrs);
		if (sg_dma_address(sg) == DMA_MAPPING_ERROR) {
			zram_unmap_sg(dev, sgl, i, dir,
				      attrs | DMA_ATTR_SKIP_CPU_SYNC);
			return -ENOMEM;
		}
		sg_dma_len(sg) = sg->length;
	}
	return nents;
}

static void zram_sync_sg_for_cpu(struct device *dev, struct scatterlist *sgl,
				 int nents, enum dma_data_direction dir)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		zram_sync_for_cpu(dev, sg_dma_address(sg), sg_dma_len(sg), dir);
}

static void zram_sync_sg_for_device(struct device *dev,
				    struct scatterlist *sgl, int nents,
				    enum dma_data_direction dir)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		zram_sync_for_device(dev, sg_dma_address(sg), sg_dma_len(sg),
				     dir);
}

static void *zram_alloc(struct device *dev, size_t size, dma_addr_t *dma,
			gfp_t gfp, unsigned long attrs)
{
	struct lb_zram *z = to_zram(dev);
	struct genpool_data_align align = { .align = PAGE_SIZE };
	unsigned long va;

	size = PAGE_ALIGN(size);
	va = gen_pool_alloc_algo(z->pool, size, gen_pool_first_fit_align,
				 &align);
	if (!va)
		return NULL;
	memset((void *)va, 0, size);
	*dma = z->gpa + (va - (unsigned long)z->kva);
	atomic64_inc(&z->coherent);
	return (void *)va;
}

static void zram_free(struct device *dev, size_t size, void *va,
		      dma_addr_t dma, unsigned long attrs)
{
	struct lb_zram *z = to_zram(dev);

	if (!zram_kva(z, dma, PAGE_ALIGN(size))) {
		dev_err(dev, "free of 0x%llx: not in the zone's RAM\n", (u64)dma);
		return;
	}
	gen_pool_free(z->pool, (unsigned long)va, PAGE_ALIGN(size));
}

static size_t zram_max_mapping_size(struct device *dev)
{
	return LB_ZRAM_MAX_MAP;
}

static const struct dma_map_ops lb_zram_dma_ops = {
	.alloc			= zram_alloc,
	.free			= zram_free,
	HVV_DMA_OPS_MAP(zram_map, zram_unmap),
	.map_sg			= zram_map_sg,
	.unmap_sg		= zram_unmap_sg,
	.sync_single_for_cpu	= zram_sync_for_cpu,
	.sync_single_for_device	= zram_sync_for_device,
	.sync_sg_for_cpu	= zram_sync_sg_for_cpu,
	.sync_sg_for_device	= zram_sync_sg_for_device,
	.max_mapping_size	= zram_max_mapping_size,
};

/* The last reference to the parent device is gone. */
static void zram_release(struct device *dev)
{
	struct lb_zram *z = to_zram(dev);

	if (z->pool)
		gen_pool_destroy(z->pool);
	kvfree(z->orig);
	if (z->kva)
		memunmap(z->kva);
	kfree(z);
}

static int zram_set(u32 zone, u64 hpa, u64 size, u64 gpa)
{
	struct lb_zram *z;
	int ret;

	lockdep_assert_held(&lb_mutex);
	if (lb_zram)
		return -EBUSY;
	if (!size || !PAGE_ALIGNED(hpa) || !PAGE_ALIGNED(size) ||
	    !PAGE_ALIGNED(gpa) || hpa + size < hpa || gpa + size < gpa ||
	    size > SZ_1G)
		return -EINVAL;
	/* Root's RAM would also be handed out by root's allocator. */
	if (region_intersects(hpa, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pr_info(LB_NAME ": zone RAM 0x%llx+0x%llx: is root's RAM\n",
			hpa, size);
		return -EINVAL;
	}

	z = kzalloc(sizeof(*z), GFP_KERNEL);
	if (!z)
		return -ENOMEM;
	z->zone = zone;
	z->hpa = hpa;
	z->gpa = gpa;
	z->size = size;
	device_initialize(&z->dev);
	z->dev.release = zram_release;
	z->dev.parent = lb_root_device();
	ret = dev_set_name(&z->dev, "zone%u-ram", zone);
	if (ret)
		goto out_put;

	ret = -ENOMEM;
	z->kva = memremap(hpa, size, MEMREMAP_WB);
	if (!z->kva)
		goto out_put;
	z->orig = kvcalloc(size >> LB_ZRAM_SLOT_SHIFT, sizeof(*z->orig),
			   GFP_KERNEL);
	z->pool = gen_pool_create(LB_ZRAM_SLOT_SHIFT, -1);
	if (!z->orig || !z->pool ||
	    gen_pool_add_virt(z->pool, (unsigned long)z->kva, gpa, size, -1))
		goto out_put;

	set_dma_ops(&z->dev, &lb_zram_dma_ops);
	ret = dma_coerce_mask_and_coherent(&z->dev, DMA_BIT_MASK(64));
	if (ret)
		goto out_put;
	ret = device_add(&z->dev);
	if (ret)
		goto out_put;
	mutex_lock(&lb_zram_lock);
	lb_zram = z;
	mutex_unlock(&lb_zram_lock);
	pr_info(LB_NAME ": zone %u RAM: host 0x%llx guest 0x%llx size 0x%llx, mapped %s the linear map\n",
		zone, hpa, gpa, size,
		virt_addr_valid(z->kva) ? "in" : "outside");
	return 0;

out_put:
	put_device(&z->dev);
	return ret;
}

/**
 * lb_zram_clear() - forget the zone RAM range
 *
 * Return: 0, or -EBUSY while devices of its zone are registered.
 */
int lb_zram_clear(void)
{
	struct lb_zram *z = lb_zram;

	lockdep_assert_held(&lb_mutex);
	if (!z)
		return 0;
	if (z->users)
		return -EBUSY;
	mutex_lock(&lb_zram_lock);
	lb_zram = NULL;
	mutex_unlock(&lb_zram_lock);
	pr_info(LB_NAME ": zone %u RAM: released\n", z->zone);
	device_unregister(&z->dev);
	return 0;
}

/**
 * lb_zram_get() - the parent device for a new device of @zone
 * @zone: the zone
 *
 * Return: the parent whose DMA operations confine the device's memory to
 * the zone's RAM, or NULL when @zone uses root's RAM.  Release with
 * lb_zram_put().
 */
struct device *lb_zram_get(u32 zone)
{
	lockdep_assert_held(&lb_mutex);
	if (!lb_zram || lb_zram->zone != zone)
		return NULL;
	WRITE_ONCE(lb_zram->users, lb_zram->users + 1);
	return &lb_zram->dev;
}

void lb_zram_put(struct device *parent)
{
	lockdep_assert_held(&lb_mutex);
	if (parent && lb_zram && parent == &lb_zram->dev)
		WRITE_ONCE(lb_zram->users, lb_zram->users - 1);
}

/* zone_ram file: "<zone> <host_phys> <size> [<guest_phys>]" or "none". */
int lb_zram_write(int argc, char **argv)
{
	u64 hpa, size, gpa;
	u32 zone;
	int ret;

	if (argc == 1 && !strcmp(argv[0], "none")) {
		mutex_lock(&lb_mutex);
		ret = lb_zram_clear();
		mutex_unlock(&lb_mutex);
		return ret;
	}
	if ((argc != 3 && argc != 4) || kstrtou32(argv[0], 0, &zone) ||
	    kstrtou64(argv[1], 0, &hpa) || kstrtou64(argv[2], 0, &size))
		return -EINVAL;
	gpa = hpa;
	if (argc == 4 && kstrtou64(argv[3], 0, &gpa))
		return -EINVAL;
	mutex_lock(&lb_mutex);
	ret = zram_set(zone, hpa, size, gpa);
	mutex_unlock(&lb_mutex);
	return ret;
}

void lb_zram_show(struct seq_file *m)
{
	struct lb_zram *z;

	mutex_lock(&lb_zram_lock);
	z = lb_zram;
	if (!z) {
		seq_puts(m, "none\n");
		goto out;
	}
	seq_printf(m, "zone %u\nhost_phys 0x%llx\nguest_phys 0x%llx\nsize 0x%llx\nlinear_map %d\ndevices %u\nfree 0x%zx\nmaps %lld\nmap_fail %lld\nbytes_to_dev %lld\nbytes_to_cpu %lld\ncoherent %lld\n",
		   z->zone, (u64)z->hpa, z->gpa, z->size,
		   virt_addr_valid(z->kva), READ_ONCE(z->users),
		   gen_pool_avail(z->pool),
		   atomic64_read(&z->maps), atomic64_read(&z->map_fail),
		   atomic64_read(&z->to_dev), atomic64_read(&z->to_cpu),
		   atomic64_read(&z->coherent));
out:
	mutex_unlock(&lb_zram_lock);
}

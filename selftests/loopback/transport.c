// SPDX-License-Identifier: GPL-2.0
/*
 * The guest zone's half of the loopback: a virtio-mmio (version 2 only)
 * transport whose registers are the backend's, every access going through
 * el2.c as a trapped access of a guest vCPU would.  The stock virtio
 * drivers bind to the devices it registers, in root's own kernel.
 *
 * By default the rings and buffers are ordinary kernel memory.  The device
 * is never told of VIRTIO_F_ACCESS_PLATFORM, so the virtio core puts
 * physical addresses into the rings; the tests give the zone RAM regions
 * that map root's System RAM one to one (guest-physical == host-physical),
 * so the backend reaches them through its normal translation.
 *
 * A zone with a zone RAM range (zram.c) is different: its devices' parent
 * has DMA operations that place rings and buffers in that range, and the
 * core is made to use them by accepting ACCESS_PLATFORM on its side only.
 */

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <linux/wait.h>

#include "compat.h"
#include "lb.h"

/* Alignment between the parts of a legacy-layout vring, as virtio-mmio. */
#define LB_VRING_ALIGN		PAGE_SIZE
/* virtio 1.2 4.2.2; not in every kernel's uapi header. */
#define LB_MMIO_QUEUE_RESET	0x0c0
/* How long a queue reset may take, in 1 ms polls. */
#define LB_QUEUE_RESET_POLLS	5000

/* Serialises probe and remove; outside lb_dev_lock. */
DEFINE_MUTEX(lb_mutex);
static LIST_HEAD(lb_devs);
/* Protects lb_devs against hypercall 1, which runs in any context. */
static DEFINE_SPINLOCK(lb_dev_lock);

static struct workqueue_struct *lb_wq;
static struct device *lb_root;

/*
 * Devices whose release has not run yet.  Something may hold a device
 * after it was unregistered (an open /dev/vdX keeps its disk, the disk
 * keeps its parent), and the release is this module's code.
 */
static atomic_t lb_nr_unreleased = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(lb_release_wq);

static inline struct lb_dev *to_lb_dev(struct virtio_device *vdev)
{
	return container_of(vdev, struct lb_dev, vdev);
}

/* Register accesses of this device's window */

static int lb_read(struct lb_dev *ldev, unsigned int off, unsigned int size,
		   u64 *val)
{
	int ret;

	atomic64_inc(&ldev->accesses);
	ret = lb_el2_access(ldev->zone, ldev->base + off, size, false, val);
	if (ret == -ETIMEDOUT)
		atomic64_inc(&ldev->timeouts);
	return ret;
}

/*
 * EL2 decides by the offset in the zone-config virtio region, not in the
 * device's window: a write at offset 0x50 of the region is posted (the
 * vCPU goes on at once), any other access blocks.  Only the device at the
 * base of a shared region gets posted QueueNotify writes.
 */
static bool lb_posted(struct lb_dev *ldev, unsigned int off)
{
	return ldev->base + off - ldev->region == VIRTIO_MMIO_QUEUE_NOTIFY;
}

static int lb_write(struct lb_dev *ldev, unsigned int off, unsigned int size,
		    u64 val)
{
	int ret;

	if (lb_posted(ldev, off))
		return lb_el2_post(ldev->zone, ldev->base + off, size, val);
	atomic64_inc(&ldev->accesses);
	ret = lb_el2_access(ldev->zone, ldev->base + off, size, true, &val);
	if (ret == -ETIMEDOUT)
		atomic64_inc(&ldev->timeouts);
	return ret;
}

/* A failed read answers all ones, as a bus error would. */
static u32 lb_readl(struct lb_dev *ldev, unsigned int off)
{
	u64 val;

	lb_read(ldev, off, 4, &val);
	return val;
}

static void lb_writel(struct lb_dev *ldev, unsigned int off, u32 val)
{
	lb_write(ldev, off, 4, val);
}

/* Configuration interface */

static bool lb_cfg_in_window(struct lb_dev *ldev, unsigned int offset,
			     unsigned int len)
{
	if ((u64)VIRTIO_MMIO_CONFIG + offset + len <= ldev->size)
		return true;
	dev_warn_ratelimited(&ldev->vdev.dev,
			     "config access at 0x%x+%u beyond the 0x%llx window\n",
			     offset, len, ldev->size);
	return false;
}

/* Config space is little-endian; bytes are placed explicitly. */
static void lb_put_le(u8 *p, u64 val, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		p[i] = val >> (8 * i);
}

static u64 lb_get_le(const u8 *p, unsigned int len)
{
	unsigned int i;
	u64 val = 0;

	for (i = 0; i < len; i++)
		val |= (u64)p[i] << (8 * i);
	return val;
}

static void lb_get(struct virtio_device *vdev, unsigned int offset,
		   void *buf, unsigned int len)
{
	struct lb_dev *ldev = to_lb_dev(vdev);
	unsigned int off = VIRTIO_MMIO_CONFIG + offset;
	u8 *p = buf;
	unsigned int i;
	u64 val;

	if (!lb_cfg_in_window(ldev, offset, len)) {
		memset(buf, 0xff, len);
		return;
	}

	switch (len) {
	case 1:
	case 2:
	case 4:
		lb_read(ldev, off, len, &val);
		lb_put_le(p, val, len);
		break;
	case 8:
		/*
		 * Two 32-bit halves, as a 32-bit bus would; the core retries
		 * on a ConfigGeneration change for multi-access fields.
		 */
		lb_read(ldev, off, 4, &val);
		lb_put_le(p, val, 4);
		lb_read(ldev, off + 4, 4, &val);
		lb_put_le(p + 4, val, 4);
		break;
	default:
		for (i = 0; i < len; i++) {
			lb_read(ldev, off + i, 1, &val);
			p[i] = val;
		}
		break;
	}
}

static void lb_set(struct virtio_device *vdev, unsigned int offset,
		   const void *buf, unsigned int len)
{
	struct lb_dev *ldev = to_lb_dev(vdev);
	unsigned int off = VIRTIO_MMIO_CONFIG + offset;
	const u8 *p = buf;
	unsigned int i;

	if (!lb_cfg_in_window(ldev, offset, len))
		return;

	switch (len) {
	case 1:
	case 2:
	case 4:
		lb_write(ldev, off, len, lb_get_le(p, len));
		break;
	case 8:
		lb_write(ldev, off, 4, lb_get_le(p, 4));
		lb_write(ldev, off + 4, 4, lb_get_le(p + 4, 4));
		break;
	default:
		for (i = 0; i < len; i++)
			lb_write(ldev, off + i, 1, p[i]);
		break;
	}
}

static u32 lb_generation(struct virtio_device *vdev)
{
	return lb_readl(to_lb_dev(vdev), VIRTIO_MMIO_CONFIG_GENERATION);
}

static u8 lb_get_status(struct virtio_device *vdev)
{
	return lb_readl(to_lb_dev(vdev), VIRTIO_MMIO_STATUS) & 0xff;
}

static void lb_set_status(struct virtio_device *vdev, u8 status)
{
	/* Zero means reset, which goes through lb_reset(). */
	WARN_ON(!status);
	lb_writel(to_lb_dev(vdev), VIRTIO_MMIO_STATUS, status);
}

static void lb_reset(struct virtio_device *vdev)
{
	struct lb_dev *ldev = to_lb_dev(vdev);
	ktime_t deadline;
	u64 status;

	/*
	 * register_virtio_device() sets up vdev's config lock and vq list
	 * before it resets the device for the first time; from now on an
	 * interrupt may call into the core.  Pairs with the acquire in
	 * lb_irq_work().
	 */
	smp_store_release(&ldev->core_ready, true);

	/*
	 * As virtio_mmio does (Linux 6.1): write 0 and go on, without
	 * reading Status back; the next access may come at once, and the
	 * device must already look reset to it.
	 */
	lb_writel(ldev, VIRTIO_MMIO_STATUS, 0);
	if (!lb_kind(LB_KIND_STATUS_POLL))
		return;
	/* Kind: complete when Status reads back 0 (virtio 1.x). */
	deadline = ktime_add_ms(ktime_get(), READ_ONCE(lb_timeout_ms));
	for (;;) {
		if (lb_read(ldev, VIRTIO_MMIO_STATUS, 4, &status))
			return;
		if (!(u32)status)
			return;
		if (ktime_after(ktime_get(), deadline)) {
			dev_err(&vdev->dev, "reset: Status still 0x%x after %u ms\n",
				(u32)status, READ_ONCE(lb_timeout_ms));
			return;
		}
		usleep_range(20, 100);
	}
}

static u64 lb_get_features(struct virtio_device *vdev)
{
	struct lb_dev *ldev = to_lb_dev(vdev);
	u64 features;

	lb_writel(ldev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	features = lb_readl(ldev, VIRTIO_MMIO_DEVICE_FEATURES);
	features <<= 32;
	lb_writel(ldev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	features |= lb_readl(ldev, VIRTIO_MMIO_DEVICE_FEATURES);
	return features;
}

static int lb_finalize_features(struct virtio_device *vdev)
{
	struct lb_dev *ldev = to_lb_dev(vdev);
	u64 offered = lb_get_features(vdev);

	u64 to_device;

	vring_transport_features(vdev);
	/*
	 * The ring code does not know RING_RESET; the queue reset is the
	 * transport's (lb_disable_vq_and_reset()), so keep it when offered.
	 */
	if (HVV_HAVE_VQ_RESET && (offered & BIT_ULL(VIRTIO_F_RING_RESET)))
		__virtio_set_bit(vdev, VIRTIO_F_RING_RESET);

	/*
	 * The rings must carry physical addresses (root's RAM) or the
	 * zone's guest-physical ones (zone RAM), never DMA addresses of the
	 * parent device of root's kernel: the device is never told of
	 * ACCESS_PLATFORM.  With zone RAM the core still gets it, so that
	 * it maps everything through the parent's DMA operations.
	 * NOTIFICATION_DATA would change what QueueNotify carries, which
	 * this transport does not implement.
	 */
	if (!ldev->zram && __virtio_test_bit(vdev, VIRTIO_F_ACCESS_PLATFORM)) {
		dev_info(&vdev->dev, "not accepting VIRTIO_F_ACCESS_PLATFORM\n");
		__virtio_clear_bit(vdev, VIRTIO_F_ACCESS_PLATFORM);
	}
	if (ldev->zram)
		__virtio_set_bit(vdev, VIRTIO_F_ACCESS_PLATFORM);
#ifdef VIRTIO_F_NOTIFICATION_DATA
	__virtio_clear_bit(vdev, VIRTIO_F_NOTIFICATION_DATA);
#endif
	to_device = vdev->features & ~BIT_ULL(VIRTIO_F_ACCESS_PLATFORM);

	if (!__virtio_test_bit(vdev, VIRTIO_F_VERSION_1)) {
		dev_err(&vdev->dev, "virtio-mmio version 2 devices must offer VIRTIO_F_VERSION_1\n");
		return -EINVAL;
	}

	lb_writel(ldev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	lb_writel(ldev, VIRTIO_MMIO_DRIVER_FEATURES, to_device >> 32);
	lb_writel(ldev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	lb_writel(ldev, VIRTIO_MMIO_DRIVER_FEATURES, (u32)to_device);
	return lb_zone_dead(ldev->zone) ? -EIO : 0;
}

/* Virtqueues */

/*
 * The only access that may come from atomic context: posted at the base
 * of a region, otherwise blocking (el2.c spins then, as the vCPU would).
 */
static bool lb_notify(struct virtqueue *vq)
{
	struct lb_dev *ldev = to_lb_dev(vq->vdev);
	u64 addr = ldev->base + VIRTIO_MMIO_QUEUE_NOTIFY;
	int ret;

	atomic64_inc(&ldev->notifies);
	if (lb_posted(ldev, VIRTIO_MMIO_QUEUE_NOTIFY)) {
		ret = lb_el2_post(ldev->zone, addr, 4, vq->index);
	} else {
		atomic64_inc(&ldev->accesses);
		ret = lb_el2_write_atomic(ldev->zone, addr, 4, vq->index);
		if (ret == -ETIMEDOUT)
			atomic64_inc(&ldev->timeouts);
	}
	/* false marks the queue broken: right for a dead zone. */
	return !ret;
}

/* Give the selected queue its ring and enable it. */
static void lb_activate_vq(struct lb_dev *ldev, struct virtqueue *vq)
{
	u64 addr;

	lb_writel(ldev, VIRTIO_MMIO_QUEUE_NUM, virtqueue_get_vring_size(vq));
	addr = virtqueue_get_desc_addr(vq);
	lb_writel(ldev, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)addr);
	lb_writel(ldev, VIRTIO_MMIO_QUEUE_DESC_HIGH, addr >> 32);
	addr = virtqueue_get_avail_addr(vq);
	lb_writel(ldev, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (u32)addr);
	lb_writel(ldev, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, addr >> 32);
	addr = virtqueue_get_used_addr(vq);
	lb_writel(ldev, VIRTIO_MMIO_QUEUE_USED_LOW, (u32)addr);
	lb_writel(ldev, VIRTIO_MMIO_QUEUE_USED_HIGH, addr >> 32);
	lb_writel(ldev, VIRTIO_MMIO_QUEUE_READY, 1);
}

static struct virtqueue *lb_setup_vq(struct lb_dev *ldev, unsigned int index,
				     vq_callback_t *callback, const char *name,
				     bool ctx)
{
	struct virtqueue *vq;
	u64 val;
	u32 num;

	lb_writel(ldev, VIRTIO_MMIO_QUEUE_SEL, index);
	/* The queue must not be live already. */
	if (lb_read(ldev, VIRTIO_MMIO_QUEUE_READY, 4, &val))
		return ERR_PTR(-EIO);
	if (val)
		return ERR_PTR(-ENOENT);
	if (lb_read(ldev, VIRTIO_MMIO_QUEUE_NUM_MAX, 4, &val))
		return ERR_PTR(-EIO);
	num = val;
	if (!num)
		return ERR_PTR(-ENOENT);

	vq = vring_create_virtqueue(index, num, LB_VRING_ALIGN, &ldev->vdev,
				    true, true, ctx, lb_notify, callback, name);
	if (!vq)
		return ERR_PTR(-ENOMEM);
	hvv_vq_set_num_max(vq, num);

	lb_activate_vq(ldev, vq);
	if (lb_zone_dead(ldev->zone)) {
		vring_del_virtqueue(vq);
		return ERR_PTR(-EIO);
	}
	return vq;
}

static void lb_del_vq(struct lb_dev *ldev, struct virtqueue *vq)
{
	u64 ready;

	lb_writel(ldev, VIRTIO_MMIO_QUEUE_SEL, vq->index);
	lb_writel(ldev, VIRTIO_MMIO_QUEUE_READY, 0);
	if (!lb_read(ldev, VIRTIO_MMIO_QUEUE_READY, 4, &ready) && ready)
		dev_warn(&ldev->vdev.dev, "queue %u still ready after disabling it\n",
			 vq->index);
	vring_del_virtqueue(vq);
}

static void lb_del_vqs(struct virtio_device *vdev)
{
	struct lb_dev *ldev = to_lb_dev(vdev);
	struct virtqueue *vq, *n;

	/* No callback walks the list once this is false. */
	mutex_lock(&ldev->cb_lock);
	ldev->vqs_ready = false;
	mutex_unlock(&ldev->cb_lock);

	list_for_each_entry_safe(vq, n, &vdev->vqs, list)
		lb_del_vq(ldev, vq);
}

static int lb_find_one(struct lb_dev *ldev, struct virtqueue **vqp,
		       unsigned int *index, vq_callback_t *callback,
		       const char *name, bool ctx)
{
	if (!name) {
		*vqp = NULL;
		return 0;
	}
	*vqp = lb_setup_vq(ldev, (*index)++, callback, name, ctx);
	return PTR_ERR_OR_ZERO(*vqp);
}

static int lb_find_done(struct lb_dev *ldev, int err)
{
	if (err) {
		lb_del_vqs(&ldev->vdev);
		return err;
	}
	mutex_lock(&ldev->cb_lock);
	ldev->vqs_ready = true;
	mutex_unlock(&ldev->cb_lock);
	return 0;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
static int lb_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
		       struct virtqueue *vqs[],
		       struct virtqueue_info vqs_info[],
		       struct irq_affinity *desc)
{
	struct lb_dev *ldev = to_lb_dev(vdev);
	unsigned int i, index = 0;
	int err = 0;

	for (i = 0; i < nvqs && !err; i++)
		err = lb_find_one(ldev, &vqs[i], &index, vqs_info[i].callback,
				  vqs_info[i].name, vqs_info[i].ctx);
	return lb_find_done(ldev, err);
}
#else
static int lb_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
		       struct virtqueue *vqs[], vq_callback_t *callbacks[],
		       const char * const names[], const bool *ctx,
		       struct irq_affinity *desc)
{
	struct lb_dev *ldev = to_lb_dev(vdev);
	unsigned int i, index = 0;
	int err = 0;

	for (i = 0; i < nvqs && !err; i++)
		err = lb_find_one(ldev, &vqs[i], &index, callbacks[i],
				  names[i], ctx ? ctx[i] : false);
	return lb_find_done(ldev, err);
}
#endif

/*
 * Resetting one queue (VIRTIO_F_RING_RESET), for virtqueue_resize(): its
 * callback stops first (lb_irq_work() skips reset queues), then the device
 * is asked to reset it and polled until QueueReset and QueueReady read 0,
 * as the spec has the driver do.
 */
static int __maybe_unused lb_disable_vq_and_reset(struct virtqueue *vq)
{
	struct lb_dev *ldev = to_lb_dev(vq->vdev);
	u64 busy, ready;
	int i;

	if (!virtio_has_feature(vq->vdev, VIRTIO_F_RING_RESET))
		return -ENOENT;
	mutex_lock(&ldev->cb_lock);
	hvv_vq_set_resetting(vq, true);
	mutex_unlock(&ldev->cb_lock);

	lb_writel(ldev, VIRTIO_MMIO_QUEUE_SEL, vq->index);
	lb_writel(ldev, LB_MMIO_QUEUE_RESET, 1);
	for (i = 0; i < LB_QUEUE_RESET_POLLS; i++) {
		if (lb_read(ldev, LB_MMIO_QUEUE_RESET, 4, &busy) ||
		    lb_read(ldev, VIRTIO_MMIO_QUEUE_READY, 4, &ready))
			break;
		if (!busy && !ready)
			return 0;
		usleep_range(1000, 2000);
	}
	dev_err(&ldev->vdev.dev, "queue %u: reset did not complete\n",
		vq->index);
	mutex_lock(&ldev->cb_lock);
	hvv_vq_set_resetting(vq, false);
	mutex_unlock(&ldev->cb_lock);
	return -EIO;
}

/* The queue after its reset, maybe with a new ring: enable it again. */
static int __maybe_unused lb_enable_vq_after_reset(struct virtqueue *vq)
{
	struct lb_dev *ldev = to_lb_dev(vq->vdev);
	u64 ready;

	if (!hvv_vq_resetting(vq))
		return -EBUSY;
	lb_writel(ldev, VIRTIO_MMIO_QUEUE_SEL, vq->index);
	if (lb_read(ldev, VIRTIO_MMIO_QUEUE_READY, 4, &ready) || ready)
		return -EBUSY;
	lb_activate_vq(ldev, vq);
	if (lb_read(ldev, VIRTIO_MMIO_QUEUE_READY, 4, &ready) || !ready) {
		dev_err(&ldev->vdev.dev, "queue %u: not ready after enabling it again\n",
			vq->index);
		return -EIO;
	}
	mutex_lock(&ldev->cb_lock);
	hvv_vq_set_resetting(vq, false);
	mutex_unlock(&ldev->cb_lock);
	return 0;
}

/* Callbacks run under cb_lock: taking it waits for a running one. */
static void __maybe_unused lb_synchronize_cbs(struct virtio_device *vdev)
{
	struct lb_dev *ldev = to_lb_dev(vdev);

	mutex_lock(&ldev->cb_lock);
	mutex_unlock(&ldev->cb_lock);
}

static const char *lb_bus_name(struct virtio_device *vdev)
{
	return to_lb_dev(vdev)->bus_name;
}

static bool lb_get_shm_region(struct virtio_device *vdev,
			      struct virtio_shm_region *region, u8 id)
{
	struct lb_dev *ldev = to_lb_dev(vdev);
	u64 len, addr;

	lb_writel(ldev, VIRTIO_MMIO_SHM_SEL, id);
	len = lb_readl(ldev, VIRTIO_MMIO_SHM_LEN_LOW);
	len |= (u64)lb_readl(ldev, VIRTIO_MMIO_SHM_LEN_HIGH) << 32;
	region->len = len;
	/* All ones: no such region. */
	if (len == ~0ULL)
		return false;

	addr = lb_readl(ldev, VIRTIO_MMIO_SHM_BASE_LOW);
	addr |= (u64)lb_readl(ldev, VIRTIO_MMIO_SHM_BASE_HIGH) << 32;
	region->addr = addr;
	return true;
}

static const struct virtio_config_ops lb_config_ops = {
	.get			= lb_get,
	.set			= lb_set,
	.generation		= lb_generation,
	.get_status		= lb_get_status,
	.set_status		= lb_set_status,
	.reset			= lb_reset,
	.find_vqs		= lb_find_vqs,
	.del_vqs		= lb_del_vqs,
	HVV_VQ_RESET_OPS(lb_synchronize_cbs, lb_disable_vq_and_reset,
			 lb_enable_vq_after_reset)
	.get_features		= lb_get_features,
	.finalize_features	= lb_finalize_features,
	.bus_name		= lb_bus_name,
	.get_shm_region		= lb_get_shm_region,
};

/*
 * Device interrupts.  On a board, the hypervisor injects the device's IRQ
 * and the zone's handler reads InterruptStatus in hard-IRQ context.  Here
 * that read is a blocking bridge access whose answer may need the wake-up
 * interrupt on this very CPU, and possibly a backend work item (a reset in
 * progress), so it cannot be made in hard-IRQ context or with interrupts
 * off.  Delivery therefore runs in a work item; the virtqueue and config
 * callbacks run with bottom halves disabled, as drivers expect of an
 * interrupt handler (NAPI scheduling, block completions raise softirqs
 * that then run at local_bh_enable()).
 *
 * What the work item stands for is kept as the hypervisor sees it in a
 * list register of the zone's first CPU (ldev->irq_state): pending from
 * the injection until the handler begins (its acknowledge), active until
 * the handler returns (its EOI).  An injection of a pending interrupt is
 * merged with it; one of an active interrupt is dropped, as EL2 drops it:
 * a device must push again if it still needs the zone's attention.  The
 * zone's first CPU takes every interrupt of the zone, one at a time
 * (lz->cpu), and EL2 keeps at most LB_MAX_DEVS - 1 of them pending.
 */
static void lb_irq_work(struct work_struct *work)
{
	struct lb_dev *ldev = container_of(work, struct lb_dev, irq_work);
	struct virtio_device *vdev = &ldev->vdev;
	struct lb_zone *lz = ldev->lz;
	struct virtqueue *vq;
	u64 isr;

	wait_event(lz->mask_wq, !READ_ONCE(lz->masked));
	mutex_lock(&lz->cpu);
	/* The acknowledge: pending becomes active. */
	if (atomic_cmpxchg(&ldev->irq_state, LB_IRQ_PENDING,
			   LB_IRQ_ACTIVE) == LB_IRQ_PENDING)
		atomic_dec(&lz->nr_pending);

	/* As virtio_mmio's handler: read, then acknowledge what was read. */
	if (lb_read(ldev, VIRTIO_MMIO_INTERRUPT_STATUS, 4, &isr))
		goto eoi;
	isr = (u32)isr;
	lb_write(ldev, VIRTIO_MMIO_INTERRUPT_ACK, 4, isr);

	mutex_lock(&ldev->cb_lock);
	local_bh_disable();
	if ((isr & VIRTIO_MMIO_INT_VRING) && ldev->vqs_ready)
		virtio_device_for_each_vq(vdev, vq)
			if (!hvv_vq_resetting(vq))
				vring_interrupt(0, vq);
	/* Pairs with the release in lb_reset(). */
	if ((isr & VIRTIO_MMIO_INT_CONFIG) && smp_load_acquire(&ldev->core_ready))
		virtio_config_changed(&ldev->vdev);
	/*
	 * The EOI comes when the handler returns, before the softirqs it
	 * raised run (irq_exit() runs them after the EOI).  Fully ordered:
	 * the callbacks' reads of the used rings come before an injection
	 * can be taken again.
	 */
	atomic_set(&ldev->irq_state, LB_IRQ_IDLE);
	/* Pairs with the cmpxchg (full barrier) in lb_inject(). */
	smp_mb__after_atomic();
	local_bh_enable();
	mutex_unlock(&ldev->cb_lock);
	mutex_unlock(&lz->cpu);
	return;
eoi:
	atomic_set(&ldev->irq_state, LB_IRQ_IDLE);
	/* As above. */
	smp_mb__after_atomic();
	mutex_unlock(&lz->cpu);
}

/* Hypercall 1 injects the device's interrupt into its zone: any context. */
static void lb_inject(struct lb_dev *ldev)
{
	struct lb_zone *lz = ldev->lz;
	int old;

	atomic64_inc(&ldev->interrupts);
	if (lb_kind(LB_KIND_ZONE_IRQ)) {
		/* Kind: queued again even while running, never lost. */
		queue_work(lb_wq, &ldev->irq_work);
		return;
	}
	old = atomic_cmpxchg(&ldev->irq_state, LB_IRQ_IDLE, LB_IRQ_PENDING);
	if (old == LB_IRQ_PENDING) {
		atomic64_inc(&ldev->irqs_merged);
		atomic64_inc(&lb_stats.irqs_merged);
		return;
	}
	if (old == LB_IRQ_ACTIVE) {
		atomic64_inc(&ldev->irqs_dropped);
		atomic64_inc(&lb_stats.irqs_dropped);
		return;
	}
	/*
	 * EL2 asserts that the zone's list of distinct pending interrupts
	 * stays below MAX_DEVS, and panics otherwise.  Here: said loudly,
	 * counted, and the interrupt is dropped.
	 */
	if (atomic_inc_return(&lz->nr_pending) >= LB_MAX_DEVS &&
	    !lb_kind(LB_KIND_PENDING_MAX)) {
		atomic_dec(&lz->nr_pending);
		atomic_set(&ldev->irq_state, LB_IRQ_IDLE);
		atomic64_inc(&ldev->irqs_dropped);
		atomic64_inc(&lb_stats.irqs_overflow);
		WARN_ONCE(1, LB_NAME ": zone %u: interrupt %u would be the %dth distinct pending interrupt of the zone: the hypervisor panics here (at most %d); dropped\n",
			  lz->id, ldev->irq, LB_MAX_DEVS, LB_MAX_DEVS - 1);
		return;
	}
	queue_work(lb_wq, &ldev->irq_work);
}

/* Hypercall 1 found {zone, irq}: any context. */
bool lb_deliver(u32 zone, u32 irq)
{
	struct lb_dev *ldev;
	unsigned long flags;
	bool found = false;

	spin_lock_irqsave(&lb_dev_lock, flags);
	list_for_each_entry(ldev, &lb_devs, node) {
		if (ldev->zone == zone && ldev->irq == irq) {
			lb_inject(ldev);
			found = true;
			break;
		}
	}
	spin_unlock_irqrestore(&lb_dev_lock, flags);
	return found;
}

/* Zones: created with their first device, freed with their last. */

static LIST_HEAD(lb_zones);

static struct lb_zone *lb_zone_find(u32 zone)
{
	struct lb_zone *lz;

	lockdep_assert_held(&lb_mutex);
	list_for_each_entry(lz, &lb_zones, node)
		if (lz->id == zone)
			return lz;
	return NULL;
}

static struct lb_zone *lb_zone_get(u32 zone)
{
	struct lb_zone *lz = lb_zone_find(zone);

	if (lz) {
		lz->refs++;
		return lz;
	}
	lz = kzalloc(sizeof(*lz), GFP_KERNEL);
	if (!lz)
		return NULL;
	lz->id = zone;
	lz->refs = 1;
	mutex_init(&lz->cpu);
	init_waitqueue_head(&lz->mask_wq);
	atomic_set(&lz->nr_pending, 0);
	list_add_tail(&lz->node, &lb_zones);
	return lz;
}

static void lb_zone_put(struct lb_zone *lz)
{
	lockdep_assert_held(&lb_mutex);
	if (--lz->refs)
		return;
	list_del(&lz->node);
	mutex_destroy(&lz->cpu);
	kfree(lz);
}

/*
 * The device is off the list and its work is cancelled: a pending
 * interrupt it leaves no longer counts against the zone, and the zone
 * loses it.
 */
static void lb_zone_irq_forget(struct lb_dev *ldev)
{
	if (atomic_xchg(&ldev->irq_state, LB_IRQ_IDLE) == LB_IRQ_PENDING)
		atomic_dec(&ldev->lz->nr_pending);
	lb_zone_put(ldev->lz);
	ldev->lz = NULL;
}

/**
 * lb_zone_mask() - mask or unmask a zone's interrupts, for tests
 * @zone: zone id (it must have devices)
 * @mask: mask; interrupts injected meanwhile stay pending
 *
 * Return: 0 or -ENOENT.
 */
int lb_zone_mask(u32 zone, bool mask)
{
	struct lb_zone *lz;
	int ret = -ENOENT;

	mutex_lock(&lb_mutex);
	lz = lb_zone_find(zone);
	if (lz) {
		WRITE_ONCE(lz->masked, mask);
		if (!mask)
			wake_up_all(&lz->mask_wq);
		ret = 0;
	}
	mutex_unlock(&lb_mutex);
	return ret;
}

void lb_zone_show(struct seq_file *m)
{
	struct lb_zone *lz;

	mutex_lock(&lb_mutex);
	list_for_each_entry(lz, &lb_zones, node)
		seq_printf(m, "zone=%u devices=%u masked=%d pending=%d\n",
			   lz->id, lz->refs, READ_ONCE(lz->masked),
			   atomic_read(&lz->nr_pending));
	mutex_unlock(&lb_mutex);
}

/* Device lifetime */

static void lb_release(struct device *dev)
{
	struct virtio_device *vdev = dev_to_virtio(dev);

	kfree(to_lb_dev(vdev));
	if (atomic_dec_and_test(&lb_nr_unreleased))
		wake_up(&lb_release_wq);
}

static int lb_check_new(u32 zone, u64 base, u64 size, u32 irq)
{
	struct lb_dev *ldev;

	lockdep_assert_held(&lb_mutex);
	list_for_each_entry(ldev, &lb_devs, node) {
		if (ldev->zone != zone)
			continue;
		if (base < ldev->base + ldev->size && ldev->base < base + size) {
			pr_info(LB_NAME ": zone %u: window 0x%llx+0x%llx overlaps 0x%llx+0x%llx\n",
				zone, base, size, ldev->base, ldev->size);
			return -EEXIST;
		}
		if (ldev->irq == irq) {
			pr_info(LB_NAME ": zone %u: irq %u already used by 0x%llx\n",
				zone, irq, ldev->base);
			return -EEXIST;
		}
	}
	return 0;
}

/* Identify the device through the bridge, as virtio_mmio's probe does. */
static int lb_identify(struct lb_dev *ldev)
{
	u64 magic, version, id, vendor;
	int ret;

	ret = lb_read(ldev, VIRTIO_MMIO_MAGIC_VALUE, 4, &magic);
	if (ret)
		return ret;
	if (magic != LB_MMIO_MAGIC) {
		pr_info(LB_NAME ": zone %u 0x%llx: wrong magic 0x%08llx\n",
			ldev->zone, ldev->base, magic);
		return -ENODEV;
	}
	ret = lb_read(ldev, VIRTIO_MMIO_VERSION, 4, &version);
	if (ret)
		return ret;
	if (version != 2) {
		pr_info(LB_NAME ": zone %u 0x%llx: version %llu, only 2 is supported\n",
			ldev->zone, ldev->base, version);
		return -ENXIO;
	}
	ret = lb_read(ldev, VIRTIO_MMIO_DEVICE_ID, 4, &id);
	if (ret)
		return ret;
	if (!id) {
		pr_info(LB_NAME ": zone %u 0x%llx: device id 0 (placeholder)\n",
			ldev->zone, ldev->base);
		return -ENODEV;
	}
	ret = lb_read(ldev, VIRTIO_MMIO_VENDOR_ID, 4, &vendor);
	if (ret)
		return ret;
	ldev->vdev.id.device = id;
	ldev->vdev.id.vendor = vendor;
	return 0;
}

/**
 * lb_dev_create() - emulate a device of @zone and register it
 * @zone: zone id
 * @base: guest-physical base of its register window
 * @size: window size
 * @irq: interrupt id the backend injects for it
 * @region: base of the zone-config virtio region that holds the window
 *
 * Return: 0; -EINVAL bad window or region; -EEXIST window or irq already used in the
 * zone; -ENODEV wrong magic or device id 0; -ENXIO version is not 2;
 * -EIO/-ETIMEDOUT/-EBUSY the bridge did not answer; -ENOMEM; or what
 * register_virtio_device() returned.
 */
int lb_dev_create(u32 zone, u64 base, u64 size, u32 irq, u64 region)
{
	struct lb_dev *ldev;
	unsigned long flags;
	int ret;

	if (size < LB_MMIO_MIN_SIZE || base + size < base || region > base)
		return -EINVAL;

	mutex_lock(&lb_mutex);
	ret = lb_check_new(zone, base, size, irq);
	if (ret)
		goto out_unlock;

	ret = -ENOMEM;
	ldev = kzalloc(sizeof(*ldev), GFP_KERNEL);
	if (!ldev)
		goto out_unlock;
	ldev->zone = zone;
	ldev->base = base;
	ldev->size = size;
	ldev->region = region;
	ldev->irq = irq;
	snprintf(ldev->bus_name, sizeof(ldev->bus_name), "hvv-lb-z%u@%llx",
		 zone, base);
	INIT_WORK(&ldev->irq_work, lb_irq_work);
	atomic_set(&ldev->irq_state, LB_IRQ_IDLE);
	mutex_init(&ldev->cb_lock);

	ret = lb_identify(ldev);
	if (ret) {
		kfree(ldev);
		goto out_unlock;
	}
	ldev->lz = lb_zone_get(zone);
	if (!ldev->lz) {
		kfree(ldev);
		ret = -ENOMEM;
		goto out_unlock;
	}

	ldev->zram = lb_zram_get(zone);
	ldev->vdev.dev.parent = ldev->zram ?: lb_root;
	ldev->vdev.dev.release = lb_release;
	ldev->vdev.config = &lb_config_ops;

	/* Visible to hypercall 1 before the driver probes: it needs IRQs. */
	spin_lock_irqsave(&lb_dev_lock, flags);
	list_add_tail(&ldev->node, &lb_devs);
	spin_unlock_irqrestore(&lb_dev_lock, flags);

	/* From here on the release frees ldev, whatever happens. */
	atomic_inc(&lb_nr_unreleased);
	ret = register_virtio_device(&ldev->vdev);
	if (ret) {
		spin_lock_irqsave(&lb_dev_lock, flags);
		list_del(&ldev->node);
		spin_unlock_irqrestore(&lb_dev_lock, flags);
		cancel_work_sync(&ldev->irq_work);
		lb_zone_irq_forget(ldev);
		lb_zram_put(ldev->zram);
		/* The device is initialised: its release frees ldev. */
		put_device(&ldev->vdev.dev);
		goto out_unlock;
	}
	spin_lock_irqsave(&lb_dev_lock, flags);
	ldev->registered = true;
	spin_unlock_irqrestore(&lb_dev_lock, flags);
	pr_info(LB_NAME ": zone %u 0x%llx irq %u: %s, virtio device id %u\n",
		zone, base, irq, dev_name(&ldev->vdev.dev),
		ldev->vdev.id.device);

out_unlock:
	mutex_unlock(&lb_mutex);
	return ret;
}

static void lb_dev_destroy(struct lb_dev *ldev)
{
	unsigned long flags;

	lockdep_assert_held(&lb_mutex);
	/* The driver's remove needs interrupts. */
	if (READ_ONCE(ldev->lz->masked)) {
		pr_info(LB_NAME ": zone %u: interrupts unmasked to remove 0x%llx\n",
			ldev->zone, ldev->base);
		WRITE_ONCE(ldev->lz->masked, false);
		wake_up_all(&ldev->lz->mask_wq);
	}
	/*
	 * Keep ldev until the end: unregistering drops the core's reference,
	 * and the driver's remove still needs interrupts (I/O is drained
	 * while it runs), so the device stays on the list until then.
	 */
	get_device(&ldev->vdev.dev);
	unregister_virtio_device(&ldev->vdev);

	spin_lock_irqsave(&lb_dev_lock, flags);
	list_del(&ldev->node);
	spin_unlock_irqrestore(&lb_dev_lock, flags);
	/* Hypercall 1 can no longer queue it; wait for a running one. */
	cancel_work_sync(&ldev->irq_work);
	lb_zone_irq_forget(ldev);
	/* The driver is gone, and with it every ring and mapping. */
	lb_zram_put(ldev->zram);

	pr_info(LB_NAME ": zone %u 0x%llx: %s removed\n", ldev->zone,
		ldev->base, dev_name(&ldev->vdev.dev));
	put_device(&ldev->vdev.dev);
}

/**
 * lb_dev_remove() - unregister and free an emulated device
 * @has_zone: match @zone as well; otherwise @base must be unique
 * @zone: zone id
 * @base: guest-physical base of the device's window
 *
 * Return: 0, -ENOENT no such device, -EINVAL @base is used in several
 * zones and no zone was given.
 */
int lb_dev_remove(bool has_zone, u32 zone, u64 base)
{
	struct lb_dev *ldev, *found = NULL;
	int ret = 0;

	mutex_lock(&lb_mutex);
	list_for_each_entry(ldev, &lb_devs, node) {
		if (ldev->base != base || (has_zone && ldev->zone != zone))
			continue;
		if (found) {
			ret = -EINVAL;
			goto out_unlock;
		}
		found = ldev;
	}
	if (!found) {
		ret = -ENOENT;
		goto out_unlock;
	}
	lb_dev_destroy(found);

out_unlock:
	mutex_unlock(&lb_mutex);
	return ret;
}

void lb_dev_remove_all(void)
{
	mutex_lock(&lb_mutex);
	while (!list_empty(&lb_devs))
		lb_dev_destroy(list_first_entry(&lb_devs, struct lb_dev, node));
	mutex_unlock(&lb_mutex);
}

/*
 * The devices file: one line per device, key=value fields.  Under the
 * spinlock only, so that listing never waits for a probe or a removal that
 * is stuck on a dead zone.
 */
void lb_devs_show(struct seq_file *m)
{
	struct lb_dev *ldev;
	unsigned long flags;

	spin_lock_irqsave(&lb_dev_lock, flags);
	list_for_each_entry(ldev, &lb_devs, node) {
		struct device *dev = &ldev->vdev.dev;
		bool reg = ldev->registered;

		/*
		 * The name lives until the release, after the device left
		 * the list; the driver string is read as dev_printk() does.
		 */
		seq_printf(m, "%s zone=%u base=0x%llx size=0x%llx irq=%u device_id=%u driver=%s dead=%d accesses=%lld notifies=%lld timeouts=%lld interrupts=%lld irqs_merged=%lld irqs_dropped=%lld irq_state=%d region=0x%llx\n",
			   reg ? dev_name(dev) : "-", ldev->zone, ldev->base,
			   ldev->size, ldev->irq, ldev->vdev.id.device,
			   reg && READ_ONCE(dev->driver) ?
				dev_driver_string(dev) : "-",
			   lb_zone_dead(ldev->zone),
			   atomic64_read(&ldev->accesses),
			   atomic64_read(&ldev->notifies),
			   atomic64_read(&ldev->timeouts),
			   atomic64_read(&ldev->interrupts),
			   atomic64_read(&ldev->irqs_merged),
			   atomic64_read(&ldev->irqs_dropped),
			   atomic_read(&ldev->irq_state), ldev->region);
	}
	spin_unlock_irqrestore(&lb_dev_lock, flags);
}

struct device *lb_root_device(void)
{
	return lb_root;
}

int lb_transport_init(void)
{
	/*
	 * Block completions go through here, so it must make progress under
	 * memory pressure (WQ_MEM_RECLAIM).
	 */
	lb_wq = alloc_workqueue("hvv_loopback",
				WQ_PERCPU | WQ_HIGHPRI | WQ_MEM_RECLAIM, 0);
	if (!lb_wq)
		return -ENOMEM;
	lb_root = root_device_register(LB_NAME);
	if (IS_ERR(lb_root)) {
		destroy_workqueue(lb_wq);
		return PTR_ERR(lb_root);
	}
	return 0;
}

void lb_transport_exit(void)
{
	while (!wait_event_timeout(lb_release_wq,
				   !atomic_read(&lb_nr_unreleased), 10 * HZ))
		pr_info(LB_NAME ": waiting for %d removed devices still in use (open disks?)\n",
			atomic_read(&lb_nr_unreleased));
	root_device_unregister(lb_root);
	destroy_workqueue(lb_wq);
}

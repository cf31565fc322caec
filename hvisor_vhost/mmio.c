// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-mmio (version 2) register file.
 *
 * Called from the wake-up interrupt with dev->lock held: every access is
 * applied and answered at once, nothing sleeps.  Work that needs process
 * context (starting the device, a reset) is handed to dev->state_work, on
 * an unbound workqueue: the CPU that took the interrupt may be kept busy
 * by a driver that spins for the device (virtio_net waits so for its
 * control queue), which would starve work bound to that CPU.  The
 * transport knows nothing of the device types beyond the ops table.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_mmio.h>
#include <uapi/linux/virtio_ring.h>

#include "bridge.h"
#include "hvv.h"
#include "vq.h"

#define HVV_MMIO_MAGIC		0x74726976	/* "virt" */
#define HVV_MMIO_VERSION	2
#define HVV_MMIO_VENDOR		0x68767668	/* "hvvh" */
#define HVV_MMIO_CONFIG		0x100
/* virtio 1.2 4.2.2; newer than some kernels' uapi header. */
#define HVV_MMIO_QUEUE_RESET	0x0c0

/* Ring features the transport implements for every device type. */
#define HVV_TRANSPORT_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) |		\
				 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |	\
				 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |	\
				 BIT_ULL(VIRTIO_F_RING_RESET))

static u64 offered_features(struct hvv_device *dev)
{
	return dev->ops->features(dev) | HVV_TRANSPORT_FEATURES;
}

static struct hvv_vq *selected_vq(struct hvv_device *dev)
{
	return dev->queue_sel < dev->nr_vqs ? &dev->vqs[dev->queue_sel] : NULL;
}

/* The queue registers may change only while the queue is not ready. */
static struct hvv_vq *writable_vq(struct hvv_device *dev)
{
	struct hvv_vq *vq = selected_vq(dev);

	if (vq && vq->ready) {
		pr_warn_ratelimited("dev %u: queue %u changed while ready\n",
				    dev->id, vq->index);
		return NULL;
	}
	return vq;
}

static void set_low(u64 *reg, u32 v)
{
	*reg = (*reg & ~0xffffffffULL) | v;
}

static void set_high(u64 *reg, u32 v)
{
	*reg = (*reg & 0xffffffffULL) | ((u64)v << 32);
}

static u32 read_reg(struct hvv_device *dev, unsigned int off)
{
	struct hvv_vq *vq = selected_vq(dev);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return HVV_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return HVV_MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return dev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return HVV_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (dev->dev_features_sel > 1)
			return 0;
		return offered_features(dev) >> (32 * dev->dev_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? dev->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case HVV_MMIO_QUEUE_RESET:
		/* 1 while in progress; accesses park until then anyway. */
		return vq ? vq->reset_pending : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		/* The driver takes the interrupt: some hypervisors must know. */
		hvv_bridge_irq_taken();
		return dev->isr;
	case VIRTIO_MMIO_STATUS:
		return dev->status;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return vq ? lower_32_bits(vq->desc_gpa) : 0;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return vq ? upper_32_bits(vq->desc_gpa) : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		return vq ? lower_32_bits(vq->avail_gpa) : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		return vq ? upper_32_bits(vq->avail_gpa) : 0;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		return vq ? lower_32_bits(vq->used_gpa) : 0;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		return vq ? upper_32_bits(vq->used_gpa) : 0;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		/* No shared memory regions: all-ones length says so. */
		return 0xffffffff;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return dev->config_generation;
	default:
		/* Write-only, reserved and unknown registers read as 0. */
		return 0;
	}
}

/* FEATURES_OK: the driver may accept only what was offered, and 1.x. */
static bool features_acceptable(struct hvv_device *dev)
{
	u64 offered = offered_features(dev);

	if (dev->drv_features & ~offered) {
		pr_warn_ratelimited("dev %u: driver accepted features %#llx never offered\n",
				    dev->id, dev->drv_features & ~offered);
		return false;
	}
	return dev->drv_features & BIT_ULL(VIRTIO_F_VERSION_1);
}

/*
 * Hand a reset (@flag: dev->resetting) or a queue change (dev->requeue) to
 * the state work; the zone's accesses park until it is done.
 */
static void start_state_change(struct hvv_device *dev, bool *flag)
{
	/* A device being removed is quiesced for good: nothing to change. */
	if (dev->removing)
		return;
	*flag = true;
	queue_work(system_unbound_wq, &dev->state_work);
}

static void write_status(struct hvv_device *dev, u32 val)
{
	u32 old = dev->status;

	if (!val) {
		start_state_change(dev, &dev->resetting);
		return;
	}
	val &= 0xff;
	if (val & ~old & VIRTIO_CONFIG_S_FEATURES_OK) {
		if (old & VIRTIO_CONFIG_S_DRIVER_OK || !features_acceptable(dev))
			val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		else
			dev->features = dev->drv_features;
	}
	if (val & ~old & VIRTIO_CONFIG_S_DRIVER_OK &&
	    !(val & VIRTIO_CONFIG_S_FEATURES_OK)) {
		pr_warn_ratelimited("dev %u: DRIVER_OK without FEATURES_OK\n",
				    dev->id);
		val &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	/* The driver sets bits one by one; it clears them only by reset. */
	dev->status = old | val;
	if (dev->status & ~old & VIRTIO_CONFIG_S_DRIVER_OK && !dev->removing)
		queue_work(system_unbound_wq, &dev->state_work);
}

static void write_queue_num(struct hvv_device *dev, u32 val)
{
	struct hvv_vq *vq = writable_vq(dev);

	if (!vq)
		return;
	if (!val || val > dev->ops->queue_max || !is_power_of_2(val)) {
		pr_warn_ratelimited("dev %u: bad QueueNum %u\n", dev->id, val);
		val = 0;	/* the queue then fails to start: NEEDS_RESET */
	}
	vq->num = val;
}

static bool ring_reset_negotiated(struct hvv_device *dev)
{
	return dev->features & BIT_ULL(VIRTIO_F_RING_RESET);
}

static void write_queue_ready(struct hvv_device *dev, u32 val)
{
	struct hvv_vq *vq = selected_vq(dev);

	if (!vq)
		return;
	if (!(dev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
		vq->ready = !!val;
		return;
	}
	/*
	 * Once the device runs, the only change is enabling a queue that was
	 * reset on its own (VIRTIO_F_RING_RESET); disabling one takes
	 * QueueReset.
	 */
	if (!val || !vq->reset || vq->ready) {
		pr_warn_ratelimited("dev %u: QueueReady %u written after DRIVER_OK\n",
				    dev->id, val);
		return;
	}
	vq->ready = true;
	vq->reset = false;
	start_state_change(dev, &dev->requeue);
}

/*
 * QueueReset: 1 resets the selected queue alone.  Before DRIVER_OK the
 * queue cannot be running: clear it here.  Afterwards the state work
 * carries it out (device_requeue()).
 */
static void write_queue_reset(struct hvv_device *dev, u32 val)
{
	struct hvv_vq *vq = selected_vq(dev);

	if (!vq || val != 1 || !ring_reset_negotiated(dev))
		return;
	if (!(dev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
		hvv_vq_reset(vq);
		vq->reset = true;
		return;
	}
	vq->reset_pending = true;
	start_state_change(dev, &dev->requeue);
}

static void write_notify(struct hvv_device *dev, u32 val)
{
	atomic64_inc(&dev->stats.kicks);
	if (val < dev->nr_vqs && dev->started)
		hvv_device_kick(dev, val);
}

static void write_ack(struct hvv_device *dev, u32 val)
{
	dev->isr &= ~val;
	dev->irq_pushed = false;
	/*
	 * Anything raised between the driver's read and this ack: again.
	 * The zone is still in its handler, so the hypervisor drops this
	 * push; the repeat after it lands once the handler has returned.
	 * Nothing left: the repeats stop (the timer sees isr == 0).
	 */
	if (dev->isr)
		hvv_device_push_irq(dev);
}

static void write_reg(struct hvv_device *dev, unsigned int off, u32 val)
{
	struct hvv_vq *vq;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev->dev_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (dev->status & VIRTIO_CONFIG_S_FEATURES_OK ||
		    dev->drv_features_sel > 1)
			break;
		if (dev->drv_features_sel)
			set_high(&dev->drv_features, val);
		else
			set_low(&dev->drv_features, val);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev->drv_features_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		dev->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		write_queue_num(dev, val);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		write_queue_ready(dev, val);
		break;
	case HVV_MMIO_QUEUE_RESET:
		write_queue_reset(dev, val);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		write_notify(dev, val);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		write_ack(dev, val);
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(dev, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		vq = writable_vq(dev);
		if (!vq)
			break;
		if (off == VIRTIO_MMIO_QUEUE_DESC_LOW)
			set_low(&vq->desc_gpa, val);
		else if (off == VIRTIO_MMIO_QUEUE_DESC_HIGH)
			set_high(&vq->desc_gpa, val);
		else if (off == VIRTIO_MMIO_QUEUE_AVAIL_LOW)
			set_low(&vq->avail_gpa, val);
		else if (off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH)
			set_high(&vq->avail_gpa, val);
		else if (off == VIRTIO_MMIO_QUEUE_USED_LOW)
			set_low(&vq->used_gpa, val);
		else
			set_high(&vq->used_gpa, val);
		break;
	default:
		/* Read-only, reserved, unknown: ignored (SHMSel). */
		break;
	}
}

static u64 read_config(struct hvv_device *dev, unsigned int off,
		       unsigned int size)
{
	u64 v = 0;

	/* Little-endian config space into a little-endian host value. */
	memcpy(&v, dev->config + off, size);
	return v;
}

static bool config_access_ok(struct hvv_device *dev, u64 off, u64 size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return false;
	if (off & (size - 1))
		return false;
	return off < dev->config_len && size <= dev->config_len - off;
}

/**
 * hvv_mmio_access() - apply one guest access to the register window
 * @dev: the device, dev->lock held
 * @off: offset in the window (anything: checked here)
 * @size: access size (anything: checked here)
 * @is_write: direction
 * @value: in: value written; out: value read
 *
 * Accesses the spec forbids (wrong size, misaligned, past the config space)
 * read as 0 and are otherwise ignored.
 *
 * Return: HVV_MMIO_ANSWER, HVV_MMIO_PARK while a reset or a queue change
 * is being carried out, HVV_MMIO_HOLD for the write that starts a reset.
 */
enum hvv_mmio_result hvv_mmio_access(struct hvv_device *dev, u64 off,
				     u64 size, bool is_write, u64 *value)
{
	u64 in = *value;

	*value = 0;
	if (dev->resetting || dev->requeue)
		return HVV_MMIO_PARK;

	if (off >= HVV_MMIO_CONFIG) {
		off -= HVV_MMIO_CONFIG;
		if (!config_access_ok(dev, off, size)) {
			pr_debug("dev %u: bad config access %#llx/%llu\n",
				 dev->id, off, size);
			return HVV_MMIO_ANSWER;
		}
		if (!is_write)
			*value = read_config(dev, off, size);
		else if (dev->ops->config_write)
			dev->ops->config_write(dev, off, &in, size);
		return HVV_MMIO_ANSWER;
	}

	/* Control registers: 32-bit wide and aligned only. */
	if (size != 4 || off & 3) {
		pr_debug("dev %u: bad register access %#llx/%llu\n",
			 dev->id, off, size);
		return HVV_MMIO_ANSWER;
	}
	if (!is_write) {
		*value = read_reg(dev, off);
		return HVV_MMIO_ANSWER;
	}
	write_reg(dev, off, (u32)in);
	/*
	 * The driver frees its buffers right after writing Status = 0 (Linux
	 * 6.1's virtio_mmio does not read Status back): its vCPU waits until
	 * nothing of the device touches zone RAM any more.
	 */
	if (off == VIRTIO_MMIO_STATUS && dev->resetting)
		return HVV_MMIO_HOLD;
	return HVV_MMIO_ANSWER;
}

/**
 * hvv_mmio_reset() - back to the state after power-on
 * @dev: the device, quiesced, dev->lock held
 */
void hvv_mmio_reset(struct hvv_device *dev)
{
	unsigned int i;

	dev->status = 0;
	dev->dev_features_sel = 0;
	dev->drv_features_sel = 0;
	dev->drv_features = 0;
	dev->features = 0;
	dev->queue_sel = 0;
	dev->isr = 0;
	dev->irq_pushed = false;
	for (i = 0; i < dev->nr_vqs; i++)
		hvv_vq_reset(&dev->vqs[i]);
}

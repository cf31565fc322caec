// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console device type: port 0 only (no MULTIPORT), the zone's
 * terminal, served to root as the tty /dev/hvvconN (console_tty.c).
 *
 * transmitq chains (zone output) are copied into a bounded ring: while
 * no one has the tty open the ring keeps the last HVV_CON_OUT_SIZE bytes
 * (older ones are dropped and counted); while someone does, a chain is
 * taken only when the ring has room for it, and the ring drains into the
 * tty's flip buffer as fast as the reader takes it (back-pressure on the
 * zone instead of loss).  Root's input (tty writes) waits in a small fifo
 * for receiveq buffers.
 *
 * Every chain comes from hvv_vq_pop(), which checks each descriptor; a
 * chain of the wrong direction marks the device broken.
 */
#include <linux/build_bug.h>
#include <linux/kfifo.h>
#include <linux/kthread.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/tty.h>
#include <linux/tty_flip.h>
#include <linux/workqueue.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_console.h>
#include <uapi/linux/virtio_ids.h>

#include "hvv.h"
#include "console.h"
#include "vq.h"

#define HVV_CON_QUEUE_MAX	256
/* Transmit chains taken in one run before the worker is let go. */
#define HVV_CON_WEIGHT		64

static_assert(sizeof(struct hvv_con_config) ==
	      sizeof(struct virtio_console_config));
static_assert(offsetof(struct hvv_con_config, emerg_wr) ==
	      offsetof(struct virtio_console_config, emerg_wr));

/**
 * hvv_con_kick() - run a queue's work
 * @con: the console
 * @qidx: HVV_CON_RXQ or HVV_CON_TXQ
 *
 * Context: process context, no lock of ours held, from the kick work
 * (which the device's destruction cancels).
 */
void hvv_con_kick(struct hvv_con *con, unsigned int qidx)
{
	struct hvv_device *dev = con->dev;
	unsigned long flags;

	/* Not started: the device's start kicks every queue. */
	spin_lock_irqsave(&dev->lock, flags);
	if (dev->started)
		hvv_device_kick(dev, qidx);
	spin_unlock_irqrestore(&dev->lock, flags);
}

/**
 * hvv_con_set_size() - root set the terminal size: tell the zone
 * @con: the console
 * @cols: width
 * @rows: height
 *
 * Context: process context, from the kick work.
 */
void hvv_con_set_size(struct hvv_con *con, u16 cols, u16 rows)
{
	struct hvv_device *dev = con->dev;
	bool changed;

	spin_lock_irq(&dev->lock);
	changed = le16_to_cpu(con->config.cols) != cols ||
		  le16_to_cpu(con->config.rows) != rows;
	con->config.cols = cpu_to_le16(cols);
	con->config.rows = cpu_to_le16(rows);
	spin_unlock_irq(&dev->lock);
	/* Only a driver that took the feature reads the size. */
	if (changed && hvv_has_feature(dev, VIRTIO_CONSOLE_F_SIZE))
		hvv_device_config_changed(dev);
}

/* Let the tty side show what the ring holds. */
static void con_flush_soon(struct hvv_con *con)
{
	unsigned long flags;

	spin_lock_irqsave(&con->lock, flags);
	if (con->alive && con->open)
		mod_delayed_work(system_unbound_wq, &con->flush_work, 0);
	spin_unlock_irqrestore(&con->lock, flags);
}

/* Zone output: the transmit queue's chains into the ring. */
static void con_tx(struct hvv_con *con, struct hvv_vq *vq)
{
	struct hvv_device *dev = vq->dev;
	struct hvv_chain *c = con->chain;
	unsigned int chains = 0;
	bool taken = false;
	int ret;

	hvv_vq_disable_notify(vq);
	for (;;) {
		ret = hvv_vq_pop_or_wait(vq, c);
		if (ret <= 0)
			break;
		if (hvv_con_tx_check(c)) {
			hvv_device_broken(dev, "transmitq chain with a writable buffer");
			break;
		}
		spin_lock_irq(&con->lock);
		/*
		 * A reader is attached: wait for it rather than drop.  A
		 * chain larger than the whole ring cannot wait for room; it
		 * keeps its last bytes (counted as dropped).
		 */
		if (hvv_con_tx_must_wait(&con->out, c->out_len, con->open)) {
			con->tx_blocked = true;
			spin_unlock_irq(&con->lock);
			hvv_vq_unpop(vq, 1);
			taken = true;	/* the ring drains, then kicks */
			break;
		}
		hvv_con_out_put(&con->out, c, NULL, c->out_len);
		spin_unlock_irq(&con->lock);
		taken = true;
		/* Read only: the used length is 0. */
		hvv_vq_push(vq, c->head, 0);
		atomic64_inc(&dev->stats.requests);
		atomic64_add(c->out_len, &dev->stats.bytes);
		if (++chains >= HVV_CON_WEIGHT) {
			/* Let the receive queue have the worker. */
			kthread_queue_work(vq->worker ?: dev->worker, &vq->work);
			break;
		}
	}
	hvv_vq_signal(vq);
	if (taken)
		con_flush_soon(con);
}

/* Root's input: the fifo into the receive queue's buffers. */
static void con_rx(struct hvv_con *con, struct hvv_vq *vq)
{
	struct hvv_device *dev = vq->dev;
	struct hvv_chain *c = con->chain;
	bool given = false;
	unsigned int i;
	int ret;

	hvv_vq_disable_notify(vq);
	for (;;) {
		u32 len = 0;

		spin_lock_irq(&con->lock);
		ret = kfifo_is_empty(&con->in);
		spin_unlock_irq(&con->lock);
		if (ret)
			break;
		ret = hvv_vq_pop_or_wait(vq, c);
		if (ret <= 0)
			break;
		if (hvv_con_rx_check(c)) {
			hvv_device_broken(dev, "receiveq chain without only writable buffers");
			break;
		}
		/*
		 * Straight into zone RAM through the checked mappings of the
		 * chain; hvv_vq_push() orders these stores before the used
		 * index that hands the buffer to the driver.
		 */
		spin_lock_irq(&con->lock);
		for (i = c->nr_out; i < c->nr_out + c->nr_in; i++) {
			u32 n = kfifo_out(&con->in, (u8 *)c->segs[i].addr,
					  c->segs[i].len);

			len += n;
			if (n < c->segs[i].len)
				break;
		}
		spin_unlock_irq(&con->lock);
		hvv_vq_push(vq, c->head, len);
		atomic64_inc(&dev->stats.requests);
		atomic64_add(len, &dev->stats.bytes);
		given = true;
	}
	hvv_vq_signal(vq);
	/* Room in the fifo: writers may go on. */
	if (given)
		tty_port_tty_wakeup(&con->port);
}

/**
 * hvv_con_handle_vq() - process a queue of a virtio-console device
 * @vq: receiveq (0) or transmitq (1) of port 0
 *
 * Context: the device's worker.
 */
static void hvv_con_handle_vq(struct hvv_vq *vq)
{
	struct hvv_con *con = vq->dev->priv;

	if (vq->index == HVV_CON_TXQ)
		con_tx(con, vq);
	else
		con_rx(con, vq);
}

/**
 * hvv_con_create() - make a console and its tty
 * @dev: the device
 * @args: DEV_ADD arguments; the console's out fields are filled in
 * @devt: must be 0
 *
 * Context: process context, hvv_lock held.
 * Return: 0, -EINVAL, -ENOSPC (no tty index free) or -ENOMEM.
 */
static int hvv_con_create(struct hvv_device *dev, struct hvisor_vhost_dev *args,
			  dev_t devt)
{
	struct hvisor_vhost_console_params *cp = &args->console;
	struct hvv_con *con;
	int ret;

	/* The union's bytes past the console parameters are reserved too. */
	if (devt || args->backend_fd != -1 || args->num_queues > 1 ||
	    cp->flags || cp->reserved0 ||
	    memchr_inv(cp->reserved, 0, sizeof(cp->reserved)) ||
	    memchr_inv((u8 *)args->raw + sizeof(*cp), 0,
		       sizeof(args->raw) - sizeof(*cp)))
		return -EINVAL;

	con = hvv_con_alloc();
	if (IS_ERR(con))
		return PTR_ERR(con);
	con->chain = kmalloc(sizeof(*con->chain), GFP_KERNEL);
	if (!con->chain) {
		hvv_con_free(con);
		return -ENOMEM;
	}
	con->dev = dev;
	con->zone_id = dev->zone->id;
	con->dev_id = dev->id;
	con->config.cols = cpu_to_le16(cp->cols);
	con->config.rows = cpu_to_le16(cp->rows);
	con->config.max_nr_ports = cpu_to_le32(1);
	ret = hvv_con_tty_add(con);
	if (ret) {
		hvv_con_free(con);
		return ret;
	}
	dev->priv = con;
	dev->config = (u8 *)&con->config;
	dev->config_len = sizeof(con->config);
	dev->nr_vqs = 2;
	cp->tty_index = con->index;
	snprintf(cp->tty_name, sizeof(cp->tty_name), "hvvcon%u", con->index);
	return 0;
}

/**
 * hvv_con_destroy() - remove the tty and let go of the console
 * @dev: the device, stopped
 *
 * An open tty is hung up: its reads end, its writes fail with EIO; the
 * memory goes with its last close.
 *
 * Context: process context.
 */
static void hvv_con_destroy(struct hvv_device *dev)
{
	hvv_con_tty_remove(dev->priv);
	dev->priv = NULL;
}

static u64 hvv_con_features(struct hvv_device *dev)
{
	return BIT_ULL(VIRTIO_F_VERSION_1) |
	       BIT_ULL(VIRTIO_CONSOLE_F_SIZE) |
	       BIT_ULL(VIRTIO_CONSOLE_F_EMERG_WRITE);
}

/*
 * A driver write to config space, under dev->lock: only emerg_wr is
 * writable; its low byte goes to the tty like zone output.
 */
static void hvv_con_config_write(struct hvv_device *dev, unsigned int off,
				 const void *buf, unsigned int len)
{
	struct hvv_con *con = dev->priv;
	unsigned long flags;

	if (off != offsetof(struct hvv_con_config, emerg_wr))
		return;
	/*
	 * @buf holds the value as the register file has it, the bytes of
	 * config space in order (both little-endian): the first is the
	 * low byte, the character.
	 */
	spin_lock_irqsave(&con->lock, flags);
	hvv_con_out_put(&con->out, NULL, buf, 1);
	if (con->alive && con->open)
		mod_delayed_work(system_unbound_wq, &con->flush_work, 0);
	spin_unlock_irqrestore(&con->lock, flags);
	atomic64_inc(&dev->stats.bytes);
}

static int hvv_con_start(struct hvv_device *dev)
{
	struct hvv_con *con = dev->priv;

	spin_lock_irq(&con->lock);
	con->tx_blocked = false;	/* the start kicks every queue */
	spin_unlock_irq(&con->lock);
	return 0;
}

/*
 * Nothing of ours runs on the worker once the core has flushed it; the
 * tty side's kicks find the device not started.
 */
static void hvv_con_stop(struct hvv_device *dev)
{
}

static void hvv_con_fill_info(struct hvv_device *dev,
			      struct hvisor_vhost_dev *info)
{
	struct hvisor_vhost_console_params *cp = &info->console;
	struct hvv_con *con = dev->priv;

	spin_lock_irq(&dev->lock);
	cp->cols = le16_to_cpu(con->config.cols);
	cp->rows = le16_to_cpu(con->config.rows);
	spin_unlock_irq(&dev->lock);
	cp->tty_index = con->index;
	snprintf(cp->tty_name, sizeof(cp->tty_name), "hvvcon%u", con->index);
	spin_lock_irq(&con->lock);
	cp->dropped = con->out.dropped;
	spin_unlock_irq(&con->lock);
	info->num_queues = 1;
}

const struct hvv_dev_ops hvv_console_ops = {
	.name		= "con",
	.device_id	= VIRTIO_ID_CONSOLE,
	.queue_max	= HVV_CON_QUEUE_MAX,
	.create		= hvv_con_create,
	.destroy	= hvv_con_destroy,
	.features	= hvv_con_features,
	.config_write	= hvv_con_config_write,
	.start		= hvv_con_start,
	.stop		= hvv_con_stop,
	.handle_vq	= hvv_con_handle_vq,
	.fill_info	= hvv_con_fill_info,
};

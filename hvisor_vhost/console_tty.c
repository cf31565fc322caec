// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console, the tty side: one tty per console device, /dev/hvvconN,
 * N the lowest index free when the device was made (not the device id;
 * the tty's sysfs attributes "zone" and "dev_id" say whose it is).
 *
 * A standard tty_port driver: the line discipline, stty and the like work
 * as on any serial line; the backend adds no echo and no line editing.
 */
#include <linux/device.h>
#include <linux/idr.h>
#include <linux/kfifo.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/tty.h>
#include <linux/tty_driver.h>
#include <linux/tty_flip.h>
#include <linux/vmalloc.h>

#include "hvv.h"
#include "console.h"

static struct tty_driver *hvv_con_driver;
static DEFINE_IDA(hvv_con_ida);
/* The consoles by tty index, for install (tty open). */
static DEFINE_MUTEX(hvv_con_table_lock);
static struct hvv_con *hvv_con_table[HVV_CON_MAX_TTYS];

/* Polling the flip buffer for room: it says nothing when it drains. */
#define HVV_CON_RETRY	msecs_to_jiffies(2)

/* The ring into the flip buffer, as much as it takes. */
static void con_flush_work(struct work_struct *work)
{
	struct hvv_con *con = container_of(to_delayed_work(work),
					   struct hvv_con, flush_work);
	struct tty_port *port = &con->port;
	bool more, kick = false;
	unsigned int space;

	spin_lock_irq(&con->lock);
	while (con->open && con->out.count) {
		u32 n = min_t(u32, con->out.count,
			      HVV_CON_OUT_SIZE - con->out.start);

		space = tty_buffer_space_avail(port);
		if (!space)
			break;
		n = tty_insert_flip_string(port, con->out.buf + con->out.start,
					   min_t(u32, n, space));
		if (!n)
			break;
		hvv_con_out_consumed(&con->out, n);
	}
	more = con->open && con->out.count;
	/* The ring has room again: the waiting chain may come. */
	if (con->tx_blocked && con->out.count <= HVV_CON_OUT_SIZE / 2) {
		con->tx_blocked = false;
		kick = true;
	}
	if (more && con->alive)
		mod_delayed_work(system_unbound_wq, &con->flush_work, HVV_CON_RETRY);
	spin_unlock_irq(&con->lock);
	tty_flip_buffer_push(port);
	if (kick) {
		spin_lock_irq(&con->lock);
		set_bit(HVV_CON_TXQ, &con->kick_mask);
		if (con->alive)
			queue_work(system_unbound_wq, &con->kick_work);
		spin_unlock_irq(&con->lock);
	}
}

static void con_kick_work(struct work_struct *work)
{
	struct hvv_con *con = container_of(work, struct hvv_con, kick_work);

	/* Queued only while alive; the destruction cancels it. */
	if (test_and_clear_bit(HVV_CON_RXQ, &con->kick_mask))
		hvv_con_kick(con, HVV_CON_RXQ);
	if (test_and_clear_bit(HVV_CON_TXQ, &con->kick_mask))
		hvv_con_kick(con, HVV_CON_TXQ);
	if (test_and_clear_bit(HVV_CON_SIZE, &con->kick_mask)) {
		u16 cols, rows;

		spin_lock_irq(&con->lock);
		cols = con->want_cols;
		rows = con->want_rows;
		spin_unlock_irq(&con->lock);
		hvv_con_set_size(con, cols, rows);
	}
}

/* Port operations ------------------------------------------------------- */

static int con_port_activate(struct tty_port *port, struct tty_struct *tty)
{
	struct hvv_con *con = container_of(port, struct hvv_con, port);

	spin_lock_irq(&con->lock);
	if (!con->alive) {
		spin_unlock_irq(&con->lock);
		return -ENODEV;
	}
	con->open = true;
	/* What the zone wrote meanwhile is shown to the opener. */
	mod_delayed_work(system_unbound_wq, &con->flush_work, 0);
	spin_unlock_irq(&con->lock);
	return 0;
}

static void con_port_shutdown(struct tty_port *port)
{
	struct hvv_con *con = container_of(port, struct hvv_con, port);

	spin_lock_irq(&con->lock);
	con->open = false;
	/* No reader to wait for: a waiting chain goes into the ring. */
	if (con->tx_blocked && con->alive) {
		con->tx_blocked = false;
		set_bit(HVV_CON_TXQ, &con->kick_mask);
		queue_work(system_unbound_wq, &con->kick_work);
	}
	spin_unlock_irq(&con->lock);
}

static void con_port_destruct(struct tty_port *port)
{
	struct hvv_con *con = container_of(port, struct hvv_con, port);

	ida_free(&hvv_con_ida, con->index);
	kfree(con->chain);
	vfree(con->out.buf);
	/* tty_port_destroy() was called by the port's last put. */
	kfree(con);
}

static const struct tty_port_operations hvv_con_port_ops = {
	.activate	= con_port_activate,
	.shutdown	= con_port_shutdown,
	.destruct	= con_port_destruct,
};

/* tty operations ---------------------------------------------------------- */

static int con_install(struct tty_driver *driver, struct tty_struct *tty)
{
	struct hvv_con *con;
	int ret;

	mutex_lock(&hvv_con_table_lock);
	con = hvv_con_table[tty->index];
	if (con)
		tty_port_get(&con->port);
	mutex_unlock(&hvv_con_table_lock);
	if (!con)
		return -ENODEV;
	ret = tty_port_install(&con->port, driver, tty);
	if (ret) {
		tty_port_put(&con->port);
		return ret;
	}
	tty->driver_data = con;
	return 0;
}

static void con_cleanup(struct tty_struct *tty)
{
	struct hvv_con *con = tty->driver_data;

	tty->driver_data = NULL;
	tty_port_put(&con->port);
}

static int con_open(struct tty_struct *tty, struct file *filp)
{
	struct hvv_con *con = tty->driver_data;

	return tty_port_open(&con->port, tty, filp);
}

static void con_close(struct tty_struct *tty, struct file *filp)
{
	struct hvv_con *con = tty->driver_data;

	tty_port_close(&con->port, tty, filp);
}

static void con_hangup(struct tty_struct *tty)
{
	struct hvv_con *con = tty->driver_data;

	tty_port_hangup(&con->port);
}

/* Root's input for the zone, byte for byte: as much as the fifo takes. */
static int con_write_bytes(struct tty_struct *tty, const u8 *buf, size_t count)
{
	struct hvv_con *con = tty->driver_data;
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&con->lock, flags);
	if (!con->alive) {
		spin_unlock_irqrestore(&con->lock, flags);
		return -EIO;
	}
	n = kfifo_in(&con->in, buf, count);
	if (n) {
		set_bit(HVV_CON_RXQ, &con->kick_mask);
		queue_work(system_unbound_wq, &con->kick_work);
	}
	spin_unlock_irqrestore(&con->lock, flags);
	return n;
}

static hvv_tty_ret_t con_write(struct tty_struct *tty, const u8 *buf,
			       hvv_tty_count_t count)
{
	return con_write_bytes(tty, buf, count);
}

static hvv_tty_room_t con_write_room(struct tty_struct *tty)
{
	struct hvv_con *con = tty->driver_data;
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&con->lock, flags);
	n = kfifo_avail(&con->in);
	spin_unlock_irqrestore(&con->lock, flags);
	return n;
}

static hvv_tty_room_t con_chars_in_buffer(struct tty_struct *tty)
{
	struct hvv_con *con = tty->driver_data;
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&con->lock, flags);
	n = kfifo_len(&con->in);
	spin_unlock_irqrestore(&con->lock, flags);
	return n;
}

/* tcflush(TCOFLUSH), hang-up: root's input not yet taken is forgotten. */
static void con_flush_buffer(struct tty_struct *tty)
{
	struct hvv_con *con = tty->driver_data;
	unsigned long flags;

	spin_lock_irqsave(&con->lock, flags);
	kfifo_reset(&con->in);
	spin_unlock_irqrestore(&con->lock, flags);
	tty_wakeup(tty);
}

/*
 * TIOCSWINSZ: the tty's size, and the zone's through config space.  The
 * device may be going while an ioctl runs: it is reached from the kick
 * work, which its destruction cancels.
 */
static int con_resize(struct tty_struct *tty, struct winsize *ws)
{
	struct hvv_con *con = tty->driver_data;
	int ret;

	ret = tty_do_resize(tty, ws);
	if (ret)
		return ret;
	spin_lock_irq(&con->lock);
	if (con->alive) {
		con->want_cols = ws->ws_col;
		con->want_rows = ws->ws_row;
		set_bit(HVV_CON_SIZE, &con->kick_mask);
		queue_work(system_unbound_wq, &con->kick_work);
	}
	spin_unlock_irq(&con->lock);
	return 0;
}

static void con_unthrottle(struct tty_struct *tty)
{
	struct hvv_con *con = tty->driver_data;
	unsigned long flags;

	spin_lock_irqsave(&con->lock, flags);
	if (con->alive && con->open)
		mod_delayed_work(system_unbound_wq, &con->flush_work, 0);
	spin_unlock_irqrestore(&con->lock, flags);
}

static const struct tty_operations hvv_con_tty_ops = {
	.install		= con_install,
	.cleanup		= con_cleanup,
	.open			= con_open,
	.close			= con_close,
	.hangup			= con_hangup,
	.write			= con_write,
	.write_room		= con_write_room,
	.chars_in_buffer	= con_chars_in_buffer,
	.flush_buffer		= con_flush_buffer,
	.resize			= con_resize,
	.unthrottle		= con_unthrottle,
};

/* sysfs: whose console this is ------------------------------------------ */

static ssize_t zone_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	struct hvv_con *con = dev_get_drvdata(d);

	return sysfs_emit(buf, "%u\n", con->zone_id);
}
static DEVICE_ATTR_RO(zone);

static ssize_t dev_id_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	struct hvv_con *con = dev_get_drvdata(d);

	return sysfs_emit(buf, "%u\n", con->dev_id);
}
static DEVICE_ATTR_RO(dev_id);

static ssize_t dropped_show(struct device *d, struct device_attribute *attr,
			    char *buf)
{
	struct hvv_con *con = dev_get_drvdata(d);
	u64 n;

	spin_lock_irq(&con->lock);
	n = con->out.dropped;
	spin_unlock_irq(&con->lock);
	return sysfs_emit(buf, "%llu\n", n);
}
static DEVICE_ATTR_RO(dropped);

static struct attribute *hvv_con_attrs[] = {
	&dev_attr_zone.attr,
	&dev_attr_dev_id.attr,
	&dev_attr_dropped.attr,
	NULL,
};

static const struct attribute_group hvv_con_attr_group = {
	.attrs = hvv_con_attrs,
};

static const struct attribute_group *hvv_con_attr_groups[] = {
	&hvv_con_attr_group,
	NULL,
};

/* Life cycle -------------------------------------------------------------- */

/**
 * hvv_con_alloc() - a console with its tty port and index, not yet live
 *
 * Context: process context.
 * Return: the console (free it with hvv_con_free()) or an ERR_PTR().
 */
struct hvv_con *hvv_con_alloc(void)
{
	struct hvv_con *con;
	int idx;

	con = kzalloc(sizeof(*con), GFP_KERNEL);
	if (!con)
		return ERR_PTR(-ENOMEM);
	idx = ida_alloc_max(&hvv_con_ida, HVV_CON_MAX_TTYS - 1, GFP_KERNEL);
	if (idx < 0) {
		kfree(con);
		return ERR_PTR(idx == -ENOSPC ? -ENOSPC : -ENOMEM);
	}
	con->out.buf = vmalloc(HVV_CON_OUT_SIZE);
	if (!con->out.buf) {
		ida_free(&hvv_con_ida, idx);
		kfree(con);
		return ERR_PTR(-ENOMEM);
	}
	con->index = idx;
	spin_lock_init(&con->lock);
	INIT_KFIFO(con->in);
	INIT_DELAYED_WORK(&con->flush_work, con_flush_work);
	INIT_WORK(&con->kick_work, con_kick_work);
	tty_port_init(&con->port);
	con->port.ops = &hvv_con_port_ops;
	return con;
}

/* Let go of a console that has no tty device (yet, or any more). */
void hvv_con_free(struct hvv_con *con)
{
	tty_port_put(&con->port);
}

/**
 * hvv_con_tty_add() - make the console live and its tty appear
 * @con: from hvv_con_alloc(), its device set
 *
 * Context: process context.
 * Return: 0 or a negative errno (@con is then not live).
 */
int hvv_con_tty_add(struct hvv_con *con)
{
	struct device *d;

	spin_lock_irq(&con->lock);
	con->alive = true;
	spin_unlock_irq(&con->lock);
	mutex_lock(&hvv_con_table_lock);
	hvv_con_table[con->index] = con;
	mutex_unlock(&hvv_con_table_lock);
	d = tty_port_register_device_attr(&con->port, hvv_con_driver,
					  con->index, NULL, con,
					  hvv_con_attr_groups);
	if (IS_ERR(d)) {
		mutex_lock(&hvv_con_table_lock);
		hvv_con_table[con->index] = NULL;
		mutex_unlock(&hvv_con_table_lock);
		spin_lock_irq(&con->lock);
		con->alive = false;
		spin_unlock_irq(&con->lock);
		return PTR_ERR(d);
	}
	return 0;
}

/**
 * hvv_con_tty_remove() - the device goes: its tty with it
 * @con: the console, its device stopped
 *
 * An open tty is hung up; the console's memory goes with its last close.
 *
 * Context: process context.
 */
void hvv_con_tty_remove(struct hvv_con *con)
{
	mutex_lock(&hvv_con_table_lock);
	hvv_con_table[con->index] = NULL;	/* no new opens */
	mutex_unlock(&hvv_con_table_lock);
	spin_lock_irq(&con->lock);
	con->alive = false;	/* no work is queued from now on */
	spin_unlock_irq(&con->lock);
	tty_unregister_device(hvv_con_driver, con->index);
	/* Readers see the end of file, writers EIO. */
	tty_port_tty_hangup(&con->port, false);
	cancel_delayed_work_sync(&con->flush_work);
	cancel_work_sync(&con->kick_work);
	hvv_con_free(con);
}

/**
 * hvv_con_tty_init() - register the hvvcon tty driver
 *
 * Context: module load.
 * Return: 0 or a negative errno.
 */
int hvv_con_tty_init(void)
{
	struct tty_driver *drv;
	int ret;

	drv = tty_alloc_driver(HVV_CON_MAX_TTYS, TTY_DRIVER_REAL_RAW |
			       TTY_DRIVER_DYNAMIC_DEV);
	if (IS_ERR(drv))
		return PTR_ERR(drv);
	drv->driver_name = "hvvcon";
	drv->name = "hvvcon";
	drv->major = 0;		/* dynamic */
	drv->type = TTY_DRIVER_TYPE_SERIAL;
	drv->subtype = SERIAL_TYPE_NORMAL;
	drv->init_termios = tty_std_termios;
	tty_set_operations(drv, &hvv_con_tty_ops);
	ret = tty_register_driver(drv);
	if (ret) {
		tty_driver_kref_put(drv);
		return ret;
	}
	hvv_con_driver = drv;
	return 0;
}

/* Module unload: every console device is gone. */
void hvv_con_tty_exit(void)
{
	tty_unregister_driver(hvv_con_driver);
	tty_driver_kref_put(hvv_con_driver);
}

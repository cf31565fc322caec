/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-console: state shared by the device side (console.c) and the tty
 * side (console_tty.c).
 *
 * Locking: dev->lock (the register file) may be held when con->lock is
 * taken (an emergency write), never the other way round: the tty side
 * reaches the device only from works that hold no lock of ours.
 */
#ifndef HVISOR_VHOST_CONSOLE_H
#define HVISOR_VHOST_CONSOLE_H

#include <linux/kfifo.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/tty.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "hvv.h"
#include "console_out.h"

struct hvv_device;
struct hvv_chain;

/* Root's input waiting for receive buffers of the zone. */
#define HVV_CON_IN_SIZE		SZ_4K
/* ttys the driver can number: every device could be a console. */
#define HVV_CON_MAX_TTYS	HVV_MAX_DEVICES

/* struct virtio_console_config, little-endian */
struct hvv_con_config {
	__le16 cols;
	__le16 rows;
	__le32 max_nr_ports;
	__le32 emerg_wr;
} __packed;

/**
 * struct hvv_con - one virtio-console device and its tty
 * @dev: the device; used only while @alive
 * @port: the tty port; its reference count keeps this struct
 * @index: N of /dev/hvvconN
 * @zone_id: the zone, for sysfs
 * @dev_id: the device id, for sysfs
 * @config: config space (dev->lock)
 * @chain: scratch chain for the worker
 * @lock: everything below (irqsave: taken under dev->lock)
 * @alive: the device exists: works may be queued and may reach @dev
 * @open: the tty is open (a reader is attached)
 * @tx_blocked: a transmit chain waits for room in @out
 * @out: ring of zone output, and the bytes lost while no one read
 * @in: root's input for the receive queue
 * @flush_work: moves @out into the tty's flip buffer (process context)
 * @kick_work: kicks the queues from process context
 * @kick_mask: what @kick_work does: kick HVV_CON_RXQ, HVV_CON_TXQ, pass
 *	the size (HVV_CON_SIZE)
 * @want_cols: the size root set last, for @kick_work
 * @want_rows: as @want_cols
 */
struct hvv_con {
	struct hvv_device *dev;
	struct tty_port port;
	unsigned int index;
	u32 zone_id;
	u32 dev_id;
	struct hvv_con_config config;
	struct hvv_chain *chain;

	spinlock_t lock;	/* below; taken under dev->lock */
	bool alive;
	bool open;
	bool tx_blocked;
	struct hvv_con_out out;
	DECLARE_KFIFO(in, u8, HVV_CON_IN_SIZE);
	struct delayed_work flush_work;
	struct work_struct kick_work;
	unsigned long kick_mask;
	u16 want_cols;
	u16 want_rows;
};

/* Queue indices of port 0 (no MULTIPORT). */
#define HVV_CON_RXQ	0
#define HVV_CON_TXQ	1
/* kick_mask: the size changed */
#define HVV_CON_SIZE	2

/* console.c */
void hvv_con_kick(struct hvv_con *con, unsigned int qidx);
void hvv_con_set_size(struct hvv_con *con, u16 cols, u16 rows);

/* console_tty.c (its driver's registration is in hvv.h) */
struct hvv_con *hvv_con_alloc(void);
int hvv_con_tty_add(struct hvv_con *con);
void hvv_con_tty_remove(struct hvv_con *con);
void hvv_con_free(struct hvv_con *con);

#endif /* HVISOR_VHOST_CONSOLE_H */

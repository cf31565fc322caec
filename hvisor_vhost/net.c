// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net on a tap of the root zone: a tun/tap interface in IFF_TAP
 * mode, or a macvtap, given to the module as an open file.
 *
 * Each queue pair has one tap file (one tun queue) and one worker (pair 0
 * uses the device's, which also runs the control queue).  The worker
 * moves frames between the zone's rings and the tap's socket directly:
 *  - TX: a chain is popped, its virtio-net header is copied out of guest
 *    memory once and checked, and the frame goes to the socket with one
 *    sendmsg() over a kvec iterator (our copy of the header, then the
 *    guest's segments);
 *  - RX: the length of the socket's next frame is peeked, enough of the
 *    guest's receive buffers are popped for it (several with
 *    VIRTIO_NET_F_MRG_RXBUF), and one recvmsg() writes header and frame
 *    straight into them.  Without buffers the frame stays in the tap's
 *    queue and the worker waits for the driver's notify: the tap queues
 *    for us, nothing is dropped here.
 * The worker sleeps on the socket's wait queue through a poll table entry,
 * so new frames in the tap, room to send again and the tap going away
 * all queue the right work.
 *
 * The virtio-net header is always the 12-byte virtio 1.x one (the
 * transport insists on VIRTIO_F_VERSION_1), so the tap is expected to use
 * the same: IFF_VNET_HDR with TUNSETVNETHDRSZ 12 and little-endian
 * (TUNSETVNETLE), set by whoever opened it (hvctl does) because the tap
 * takes those values from user memory only.  The tap's offloads follow
 * what the zone's driver accepted: TUNSETOFFLOAD takes its argument by
 * value, so the module sets it itself, from a work item of its own,
 * whenever the driver starts the device or a tap is attached to a running
 * device.  That takes the RTNL, which a driver in root's own kernel (the
 * test zone) may hold while it spins for an answer on the control queue:
 * nothing that the control queue waits for may wait for the RTNL.
 *
 * The control queue implements VIRTIO_NET_F_CTRL_RX (receive filter:
 * promiscuous, all-multicast, MAC tables; applied to each frame before it
 * is handed to the zone), VIRTIO_NET_F_CTRL_MAC_ADDR and, with several
 * queue pairs, VIRTIO_NET_F_MQ.  Frames a tap queue delivers for a queue
 * pair the driver does not use go to the receive queue of a pair it uses.
 *
 * tun and macvtap are found at run time with symbol_get(): the module
 * loads without them, and a file of theirs pins them while we hold it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/etherdevice.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/if_vlan.h>
#include <linux/kthread.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/sock.h>
#include <uapi/linux/if_tun.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ids.h>
#include <uapi/linux/virtio_net.h>

#include "hvv.h"
#include "net_hdr.h"
#include "vq.h"

/* QueueNumMax of every queue. */
#define HVV_NET_QUEUE_MAX	256
/* Queue pairs per device: the queues also hold a control queue. */
#define HVV_NET_MAX_PAIRS	((HVV_MAX_QUEUES - 1) / 2)
/* Receive buffers (chains) one frame may take with MRG_RXBUF. */
#define HVV_NET_RX_MAX_BUFS	HVV_NET_QUEUE_MAX
/* Guest segments one frame may be written into, or read from. */
#define HVV_NET_MAX_IOV		512
/* Frames and bytes per run of a queue's work before it yields the worker. */
#define HVV_NET_WEIGHT		64
#define HVV_NET_WEIGHT_BYTES	SZ_512K
/* Used entries published between two interrupt decisions on RX. */
#define HVV_NET_RX_SIGNAL_BATCH	32
/*
 * A frame that needs more receive buffers than the driver posted waits
 * at most this long, looked at again every HVV_NET_RX_SHORT_POLL (see
 * net_rx_short_give_up()).
 */
#define HVV_NET_RX_SHORT_WAIT	msecs_to_jiffies(100)
#define HVV_NET_RX_SHORT_POLL	msecs_to_jiffies(10)
#define HVV_NET_DEFAULT_MTU	ETH_DATA_LEN
#define HVV_NET_MIN_MTU		ETH_MIN_MTU
#define HVV_NET_MAX_MTU		(HVV_NET_MAX_FRAME - VLAN_ETH_HLEN)

static_assert(HVV_NET_MAX_IOV > HVV_CHAIN_MAX_SEGS);
static_assert(2 * HVV_NET_MAX_PAIRS + 1 <= HVV_MAX_QUEUES);

/*
 * Config space, virtio 1.x layout up to the MTU, little-endian.  Our own
 * copy of the layout so that field names and availability do not depend
 * on the kernel headers we build against.
 */
struct hvv_net_config {
	u8 mac[ETH_ALEN];
	__le16 status;
	__le16 max_virtqueue_pairs;
	__le16 mtu;
} __packed;

static_assert(offsetof(struct hvv_net_config, status) ==
	      offsetof(struct virtio_net_config, status));
static_assert(offsetof(struct hvv_net_config, max_virtqueue_pairs) ==
	      offsetof(struct virtio_net_config, max_virtqueue_pairs));
static_assert(offsetof(struct hvv_net_config, mtu) ==
	      offsetof(struct virtio_net_config, mtu));

static_assert(sizeof(struct hvv_net_hdr) ==
	      sizeof(struct virtio_net_hdr_mrg_rxbuf));

/* One receive buffer (chain) taken for the frame being received. */
struct hvv_net_rxbuf {
	u16 head;
	bool bad;
	u32 len;
};

/**
 * struct hvv_net_filter - the receive filter set through the control queue
 * @promisc: every frame passes (the state after a reset, until the driver
 *	says otherwise)
 * @allmulti: every multicast frame passes
 * @uni_overflow: the driver gave more unicast addresses than fit: all pass
 * @multi_overflow: the same for multicast
 * @nr_uni: entries in @uni
 * @nr_multi: entries in @multi
 * @mac: the device's address (VIRTIO_NET_CTRL_MAC_ADDR_SET changes it)
 * @uni: unicast addresses that pass besides @mac
 * @multi: multicast addresses that pass
 */
struct hvv_net_filter {
	bool promisc;
	bool allmulti;
	bool uni_overflow;
	bool multi_overflow;
	unsigned int nr_uni;
	unsigned int nr_multi;
	u8 mac[ETH_ALEN];
	u8 uni[HVV_NET_MAC_TABLE][ETH_ALEN];
	u8 multi[HVV_NET_MAC_TABLE][ETH_ALEN];
};

struct hvv_net;

/**
 * struct hvv_net_pair - one queue pair and its tap
 * @net: the device
 * @index: pair number
 * @worker: the worker that runs both queues of the pair (set at start)
 * @own_worker: @worker when the pair has one of its own (pairs >= 1 that
 *	the driver uses; from start to stop)
 * @mutex: serialises the backend fields below against the processing of
 *	the two queues, which holds it while it uses the socket; never held
 *	while waiting for the RTNL (see the top of the file)
 * @file: the tap file we hold a reference to, or NULL
 * @sock: its socket
 * @ifname: the tap's name as given, for display
 * @running: the device is started: @rx and @tx are usable
 * @rx: receive queue (set at start)
 * @tx: transmit queue (set at start)
 * @wqh: the socket's wait queue while we are on it
 * @wait: our entry on @wqh
 * @table: poll table that puts @wait on the socket's wait queue
 * @tx_blocked: the socket refused a frame for lack of room: TX waits for
 *	a write-space wakeup (read in the wakeup)
 * @rx_short: the tap's next frame waits for more receive buffers than the
 *	driver has posted, since @rx_short_since (jiffies)
 * @rx_short_since: see @rx_short
 * @rx_short_timer: looks at the waiting frame again
 * @chain: scratch chain for hvv_vq_pop()
 * @iov: scratch segments of one frame
 * @bufs: scratch receive buffers of one frame
 */
struct hvv_net_pair {
	struct hvv_net *net;
	unsigned int index;
	struct kthread_worker *worker;
	struct kthread_worker *own_worker;

	struct mutex mutex;	/* backend and queue processing */
	struct file *file;
	struct socket *sock;
	char ifname[HVISOR_VHOST_IFNAMSIZ];
	bool running;
	struct hvv_vq *rx;
	struct hvv_vq *tx;
	wait_queue_head_t *wqh;
	wait_queue_entry_t wait;
	poll_table table;
	bool tx_blocked;
	bool rx_short;
	unsigned long rx_short_since;
	struct timer_list rx_short_timer;

	struct hvv_chain *chain;
	struct kvec *iov;
	struct hvv_net_rxbuf *bufs;
};

/**
 * struct hvv_net - a virtio-net device
 * @dev: the core's device
 * @config: config space (dev->config points here; under dev->lock)
 * @mac: the MAC the device was created with, back after each reset
 * @mtu: MTU announced
 * @flags: HVISOR_VHOST_NET_F_* as created
 * @nr_pairs: queue pairs
 * @pairs: the queue pairs
 * @features: features negotiated, copied at start
 * @active_pairs: queue pairs the driver uses (VIRTIO_NET_CTRL_MQ), read
 *	by every pair's worker
 * @ctrl: the control queue (set at start), run by the device's worker
 * @ctrl_chain: scratch chain of the control queue
 * @ctrl_uni: scratch unicast table of the control queue
 * @ctrl_multi: scratch multicast table of the control queue
 * @started: the control queue may be processed
 * @filter_lock: protects @filter
 * @filter: the receive filter
 * @offload_work: sets the taps' offloads, outside every lock of ours
 */
struct hvv_net {
	struct hvv_device *dev;
	struct hvv_net_config config;
	u8 mac[ETH_ALEN];
	u16 mtu;
	u32 flags;
	unsigned int nr_pairs;
	struct hvv_net_pair *pairs;
	u64 features;
	unsigned int active_pairs;
	struct hvv_vq *ctrl;
	struct hvv_chain *ctrl_chain;
	u8 ctrl_uni[HVV_NET_MAC_TABLE][ETH_ALEN];
	u8 ctrl_multi[HVV_NET_MAC_TABLE][ETH_ALEN];
	bool started;
	spinlock_t filter_lock;	/* the receive filter */
	struct hvv_net_filter filter;
	struct work_struct offload_work;
};

static bool net_has(const struct hvv_net *net, unsigned int bit)
{
	return net->features & BIT_ULL(bit);
}

/* Queue pairs with queues: without VIRTIO_NET_F_MQ only the first. */
static unsigned int net_used_pairs(const struct hvv_net *net)
{
	return net_has(net, VIRTIO_NET_F_MQ) ? net->nr_pairs : 1;
}

/* The control queue follows the pairs with queues. */
static unsigned int net_ctrl_index(const struct hvv_net *net)
{
	return 2 * net_used_pairs(net);
}

/*
 * The pair whose receive queue takes the frames of pair @i's tap: itself
 * while the driver uses it, else one it uses (VIRTIO_NET_CTRL_MQ, or a
 * driver without MQ on a device with several pairs).
 */
static unsigned int net_target(unsigned int i, unsigned int active)
{
	return i < active ? i : i % active;
}

static unsigned int net_rx_target(const struct hvv_net *net, unsigned int i)
{
	return net_target(i, READ_ONCE(net->active_pairs));
}

/* Have the frames of @p's tap received: queue the right receive work. */
static void net_kick_rx(struct hvv_net_pair *p)
{
	struct hvv_net_pair *t = &p->net->pairs[net_rx_target(p->net, p->index)];

	if (t->rx)
		kthread_queue_work(t->worker, &t->rx->work);
}

/* Backend files ----------------------------------------------------------- */

/* The socket of a tun or macvtap file, or ERR_PTR(-ENOTSOCK). */
static struct socket *net_file_socket(struct file *file)
{
	struct socket *sock = ERR_PTR(-ENOTSOCK);
	struct socket *(*get)(struct file *f);

#if IS_ENABLED(CONFIG_TUN)
	get = symbol_get(tun_get_socket);
	if (get) {
		sock = get(file);
		symbol_put(tun_get_socket);
		if (!IS_ERR(sock))
			return sock;
	}
#endif
#if IS_ENABLED(CONFIG_TAP)
	get = symbol_get(tap_get_socket);
	if (get) {
		sock = get(file);
		symbol_put(tap_get_socket);
		if (!IS_ERR(sock))
			return sock;
	}
#endif
	return ERR_PTR(-ENOTSOCK);
}

/*
 * Take the tap behind @fd.  A tun file whose interface was deleted (or that
 * never had one) polls EPOLLERR: refuse it, it would never carry a frame.
 */
static int net_get_backend(int fd, struct file **filep, struct socket **sockp)
{
	struct socket *sock;
	struct file *file;

	if (fd < 0)
		return -EBADF;
	file = fget(fd);
	if (!file)
		return -EBADF;
	sock = net_file_socket(file);
	if (IS_ERR(sock)) {
		fput(file);
		return PTR_ERR(sock);
	}
	if (!sock->ops->peek_len || (vfs_poll(file, NULL) & EPOLLERR)) {
		fput(file);
		return -ENXIO;
	}
	*filep = file;
	*sockp = sock;
	return 0;
}

/*
 * Is @sock the backend of another queue pair?  Two readers on one tap
 * queue would each see half of the frames.  Caller holds hvv_lock, which
 * every attach holds; a pointer that changes meanwhile (the tap went away)
 * only ever becomes NULL.
 */
static bool net_sock_busy(const struct hvv_net_pair *self,
			  const struct socket *sock)
{
	struct hvv_device *dev;
	unsigned int i;

	list_for_each_entry(dev, &hvv_devices, node) {
		struct hvv_net *net = dev->priv;

		if (dev->ops != &hvv_net_ops)
			continue;
		for (i = 0; i < net->nr_pairs; i++)
			if (&net->pairs[i] != self &&
			    READ_ONCE(net->pairs[i].sock) == sock)
				return true;
	}
	return false;
}

/* The socket's wait queue --------------------------------------------------- */

static int net_poll_wake(wait_queue_entry_t *wait, unsigned int mode,
			 int sync, void *key)
{
	struct hvv_net_pair *p = container_of(wait, struct hvv_net_pair, wait);
	__poll_t mask = key_to_poll(key);

	/* A wakeup without a key may mean anything. */
	if (!mask)
		mask = EPOLLIN | EPOLLOUT | EPOLLERR;
	/* Frames to receive, or the tap went away: RX finds out which. */
	if (mask & (EPOLLIN | EPOLLERR | EPOLLHUP))
		net_kick_rx(p);
	if (mask & EPOLLOUT && READ_ONCE(p->tx_blocked) && p->tx)
		kthread_queue_work(p->worker, &p->tx->work);
	return 0;
}

static void net_poll_queue(struct file *file, wait_queue_head_t *wqh,
			   poll_table *pt)
{
	struct hvv_net_pair *p = container_of(pt, struct hvv_net_pair, table);

	if (p->wqh)
		return;
	p->wqh = wqh;
	add_wait_queue(wqh, &p->wait);
}

/* Caller holds p->mutex. */
static void net_poll_stop(struct hvv_net_pair *p)
{
	if (p->wqh) {
		remove_wait_queue(p->wqh, &p->wait);
		p->wqh = NULL;
	}
}

/*
 * Get on the socket's wait queue and look once at what is pending: the
 * wakeups from now on queue the work, what came before is handled by
 * running both queues once.  Caller holds p->mutex; p->running and
 * p->file are set.
 */
static void net_poll_start(struct hvv_net_pair *p)
{
	vfs_poll(p->file, &p->table);
	net_kick_rx(p);
	if (p->tx)
		kthread_queue_work(p->worker, &p->tx->work);
}

/* The tap offloads that match what the driver accepted to receive. */
static unsigned long net_offloads(const struct hvv_net *net)
{
	unsigned long off = 0;

	if (net_has(net, VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (net_has(net, VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (net_has(net, VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
		if (net_has(net, VIRTIO_NET_F_GUEST_ECN))
			off |= TUN_F_TSO_ECN;
	}
	return off;
}

/*
 * Set the offloads of every running pair's tap.  The ioctl takes the RTNL:
 * it runs here, with a reference of its own to the file and none of our
 * locks held.
 */
static void net_offload_work(struct work_struct *work)
{
	struct hvv_net *net = container_of(work, struct hvv_net, offload_work);
	unsigned long off = net_offloads(net);
	unsigned int i;
	long ret;

	for (i = 0; i < net->nr_pairs; i++) {
		struct hvv_net_pair *p = &net->pairs[i];
		struct file *file = NULL;

		mutex_lock(&p->mutex);
		if (p->running && p->file)
			file = get_file(p->file);
		mutex_unlock(&p->mutex);
		if (!file)
			continue;
		ret = -ENOTTY;
		/* TUNSETOFFLOAD takes its argument by value, not in memory. */
		if (file->f_op->unlocked_ioctl)
			ret = file->f_op->unlocked_ioctl(file, TUNSETOFFLOAD, off);
		if (ret)
			pr_warn_ratelimited("zone %u dev %u: tap of queue pair %u refused offloads %#lx: %ld\n",
					    net->dev->zone->id, net->dev->id, i,
					    off, ret);
		fput(file);
	}
}

/* Link state ------------------------------------------------------------ */

/*
 * Bring the link status in config space in line with whether queue pair
 * 0 has a tap, and tell a running driver.  The tap pointer is read under
 * dev->lock, after the caller changed it: of two concurrent updates the
 * later one sees the final state.
 */
static void net_update_link(struct hvv_net *net)
{
	struct hvv_device *dev = net->dev;
	bool notify = false;
	__le16 status;

	spin_lock_irq(&dev->lock);
	status = cpu_to_le16(READ_ONCE(net->pairs[0].file) ?
			     VIRTIO_NET_S_LINK_UP : 0);
	if (net->config.status != status) {
		net->config.status = status;
		/* A driver that is not running reads it when it starts. */
		if (dev->status & VIRTIO_CONFIG_S_DRIVER_OK)
			notify = true;
		else
			dev->config_generation++;
	}
	spin_unlock_irq(&dev->lock);
	if (notify)
		hvv_device_config_changed(dev);
}

/*
 * Has the tap's interface been deleted?  tun marks its files RCV_SHUTDOWN
 * and wakes their readers before it detaches them, so the wakeup may find
 * the file still attached: the mark tells.  A detached file polls
 * EPOLLERR.  Caller holds p->mutex and p->file is set.
 */
static bool net_backend_gone(struct hvv_net_pair *p)
{
	return READ_ONCE(p->sock->sk->sk_shutdown) & RCV_SHUTDOWN ||
	       vfs_poll(p->file, NULL) & EPOLLERR;
}

/*
 * The tap is gone (its interface was deleted): let go of it.  Caller holds
 * p->mutex, in the worker.
 */
static void net_backend_lost(struct hvv_net_pair *p)
{
	struct hvv_device *dev = p->net->dev;
	struct file *file = p->file;

	pr_info("zone %u dev %u: tap %s of queue pair %u went away, link down\n",
		dev->zone->id, dev->id, p->ifname, p->index);
	net_poll_stop(p);
	WRITE_ONCE(p->sock, NULL);
	WRITE_ONCE(p->file, NULL);
	p->ifname[0] = '\0';
	p->tx_blocked = false;
	fput(file);
	net_update_link(p->net);
}

/* Guest segments ------------------------------------------------------- */

static void net_bad_chain(struct hvv_vq *vq, u16 head, const char *why)
{
	struct hvv_device *dev = vq->dev;

	pr_warn_ratelimited("zone %u dev %u queue %u: %s\n", dev->zone->id,
			    dev->id, vq->index, why);
	hvv_vq_push(vq, head, 0);
	atomic64_inc(&dev->stats.requests);
	atomic64_inc(&dev->stats.errors);
}

/* TX ---------------------------------------------------------------------- */

/*
 * Send the frame in p->chain.  Returns 0 when the chain was returned to the
 * driver, -EAGAIN when the socket has no room (the chain is given back to
 * the ring), -EBADFD when the tap went away.
 */
static int net_tx_chain(struct hvv_net_pair *p, size_t *bytes)
{
	struct hvv_chain *c = p->chain;
	struct hvv_vq *vq = p->tx;
	struct hvv_device *dev = vq->dev;
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	struct hvv_net_hdr hdr;
	const char *bad;
	unsigned int n;
	int ret;

	bad = hvv_net_tx_check(p->net->features, c, &hdr);
	if (bad) {
		net_bad_chain(vq, c->head, bad);
		return 0;
	}

	if (!p->sock) {
		/* No tap: the link is down and the frame goes nowhere. */
		hvv_vq_push(vq, c->head, 0);
		atomic64_inc(&dev->stats.requests);
		return 0;
	}

	n = hvv_net_tx_iov(c, &hdr, p->iov);
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, p->iov, n, c->out_len);
	ret = p->sock->ops->sendmsg(p->sock, &msg, c->out_len);
	if (ret == -EAGAIN || ret == -ENOMEM || ret == -ENOBUFS) {
		hvv_vq_unpop(vq, 1);
		return -EAGAIN;
	}
	hvv_vq_push(vq, c->head, 0);
	atomic64_inc(&dev->stats.requests);
	if (ret == -EBADFD)
		return -EBADFD;
	if (ret < 0) {
		/* The tap refused the frame (too short, bad GSO header). */
		pr_debug("zone %u dev %u: tap refused a frame: %d\n",
			 dev->zone->id, dev->id, ret);
		atomic64_inc(&dev->stats.errors);
		return 0;
	}
	*bytes += c->out_len - HVV_NET_HDR_LEN;
	atomic64_add(c->out_len - HVV_NET_HDR_LEN, &dev->stats.bytes);
	return 0;
}

static void net_tx(struct hvv_net_pair *p)
{
	struct hvv_vq *vq = p->tx;
	unsigned int frames = 0;
	size_t bytes = 0;
	int ret;

	mutex_lock(&p->mutex);
	if (!p->running)
		goto out;
	WRITE_ONCE(p->tx_blocked, false);
	hvv_vq_disable_notify(vq);
	for (;;) {
		ret = hvv_vq_pop_or_wait(vq, p->chain);
		if (ret <= 0)
			break;
		ret = net_tx_chain(p, &bytes);
		if (ret == -EAGAIN) {
			/* Wait for room. */
			WRITE_ONCE(p->tx_blocked, true);
			/*
			 * The wakeup may have come before the flag was
			 * visible: look once more.  The flag before the look:
			 * pairs with the socket freeing room before it takes
			 * its wait queue's lock to wake us, where
			 * net_poll_wake() reads the flag.
			 */
			smp_mb();
			if (vfs_poll(p->file, NULL) & EPOLLOUT)
				kthread_queue_work(p->worker, &vq->work);
			break;
		}
		if (ret == -EBADFD) {
			net_backend_lost(p);
			continue;	/* the rest is dropped, link down */
		}
		if (++frames >= HVV_NET_WEIGHT || bytes >= HVV_NET_WEIGHT_BYTES) {
			/* Let the other queues have the worker. */
			kthread_queue_work(p->worker, &vq->work);
			break;
		}
	}
	hvv_vq_signal(vq);
out:
	mutex_unlock(&p->mutex);
}

/* RX ---------------------------------------------------------------------- */

/* Does the receive filter let a frame for @dst through? */
static bool net_rx_accept(struct hvv_net *net, const u8 *dst)
{
	struct hvv_net_filter *f = &net->filter;
	bool ok = true;
	unsigned int i;

	if (!net_has(net, VIRTIO_NET_F_CTRL_RX))
		return true;
	spin_lock(&net->filter_lock);
	if (f->promisc || is_broadcast_ether_addr(dst))
		goto out;
	if (is_multicast_ether_addr(dst)) {
		if (f->allmulti || f->multi_overflow)
			goto out;
		for (i = 0; i < f->nr_multi; i++)
			if (ether_addr_equal(dst, f->multi[i]))
				goto out;
	} else {
		if (ether_addr_equal(dst, f->mac) || f->uni_overflow)
			goto out;
		for (i = 0; i < f->nr_uni; i++)
			if (ether_addr_equal(dst, f->uni[i]))
				goto out;
	}
	ok = false;
out:
	spin_unlock(&net->filter_lock);
	return ok;
}

/* Throw away the socket's next frame: the zone cannot take it. */
static void net_rx_discard(struct hvv_net_pair *p)
{
	struct hvv_net_hdr scratch;
	struct kvec iov = { .iov_base = &scratch, .iov_len = sizeof(scratch) };
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &iov, 1, sizeof(scratch));
	p->sock->ops->recvmsg(p->sock, &msg, sizeof(scratch),
			      MSG_DONTWAIT | MSG_TRUNC);
}

/* Publish the chains of a received frame, bad ones first. */
static void net_rx_publish(struct hvv_net_pair *p, struct hvv_vq *vq,
			   unsigned int nbufs, unsigned int *pending)
{
	struct hvv_device *dev = vq->dev;
	unsigned int i;

	for (i = 0; i < nbufs; i++)
		if (p->bufs[i].bad)
			net_bad_chain(vq, p->bufs[i].head,
				      "RX buffer without room for the header");
	for (i = 0; i < nbufs; i++) {
		if (p->bufs[i].bad)
			continue;
		hvv_vq_push(vq, p->bufs[i].head, p->bufs[i].len);
		atomic64_inc(&dev->stats.requests);
	}
	*pending += nbufs;
	if (*pending >= HVV_NET_RX_SIGNAL_BATCH) {
		hvv_vq_signal(vq);
		*pending = 0;
	}
}

/*
 * Receive the next frame of @p's tap, @len bytes without header, into the
 * driver's buffers of @vq (@p's receive queue, or the one of the pair that
 * takes @p's frames).  Returns 0 when the frame was delivered or dropped,
 * -EAGAIN when the driver has posted no buffer, -ENOSPC when it posted
 * some but not enough (nothing consumed in both cases), -EIO when the
 * ring is broken, -EBADFD when the tap went away.
 */
static int net_rx_frame(struct hvv_net_pair *p, struct hvv_vq *vq,
			unsigned int len, unsigned int *pending)
{
	struct hvv_net *net = p->net;
	struct hvv_device *dev = net->dev;
	unsigned int max_good = net_has(net, VIRTIO_NET_F_MRG_RXBUF) ?
				HVV_NET_RX_MAX_BUFS : 1;
	size_t need = (size_t)len + HVV_NET_HDR_LEN, have = 0;
	unsigned int nbufs = 0, ngood = 0, niov = 0;
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	struct hvv_chain *c = p->chain;
	struct hvv_net_hdr hdr;
	u8 dst[ETH_ALEN];
	long taken;
	int ret;

	while (have < need) {
		struct hvv_net_rxbuf *b;

		/*
		 * The frame cannot fit in what the driver may give us: we
		 * hold every entry of the ring (a driver may shrink it below
		 * what a GSO frame needs), or as many as we take.
		 */
		if (ngood == max_good || nbufs == HVV_NET_RX_MAX_BUFS ||
		    (vq->started && nbufs == vq->size))
			goto too_big;
		ret = hvv_vq_pop(vq, c);
		if (ret < 0)
			return ret;
		if (!ret)
			goto no_bufs;
		b = &p->bufs[nbufs++];
		b->head = c->head;
		b->len = 0;
		taken = hvv_net_rx_take(c, !ngood, need - have, p->iov, &niov,
					HVV_NET_MAX_IOV);
		if (taken < 0)
			goto too_big;
		b->bad = !taken;
		if (b->bad)
			continue;
		b->len = taken;
		have += b->len;
		ngood++;
	}

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, p->iov, niov, need);
	ret = p->sock->ops->recvmsg(p->sock, &msg, need,
				    MSG_DONTWAIT | MSG_TRUNC);
	if (ret < 0 || (size_t)ret != need) {
		/* Nothing reached the driver: the buffers serve again. */
		hvv_vq_unpop(vq, nbufs);
		if (ret == -EBADFD)
			return -EBADFD;
		if (ret > 0) {
			/* Not the frame that was peeked: it is lost. */
			atomic64_inc(&dev->stats.errors);
		}
		return 0;
	}

	/*
	 * The tap wrote header and frame into guest memory: what we look at
	 * now, the zone may already have changed.  It only decides about
	 * the zone's own frame, and what we write back is ours.
	 */
	hvv_net_iov_read(p->iov, niov, 0, &hdr, sizeof(hdr));
	hvv_net_iov_read(p->iov, niov, HVV_NET_HDR_LEN, dst, sizeof(dst));
	if (len < ETH_HLEN || !hvv_net_rx_hdr_ok(net->features, &hdr)) {
		hvv_vq_unpop(vq, nbufs);
		atomic64_inc(&dev->stats.errors);
		return 0;
	}
	if (!net_rx_accept(net, dst)) {
		/* Filtered out: the buffers serve again. */
		hvv_vq_unpop(vq, nbufs);
		return 0;
	}
	hdr.num_buffers = cpu_to_le16(ngood);
	hvv_net_iov_write(p->iov, niov, 0, &hdr, sizeof(hdr));
	atomic64_add(len, &dev->stats.bytes);
	net_rx_publish(p, vq, nbufs, pending);
	return 0;

no_bufs:
	if (nbufs && !ngood) {
		/* Only bad buffers so far: give them back as failed. */
		net_rx_publish(p, vq, nbufs, pending);
		return -EAGAIN;
	}
	hvv_vq_unpop(vq, nbufs);
	return ngood ? -ENOSPC : -EAGAIN;

too_big:
	hvv_vq_unpop(vq, nbufs);
	pr_warn_ratelimited("zone %u dev %u: dropped a %u-byte frame: the receive buffers cannot hold it\n",
			    dev->zone->id, dev->id, len);
	atomic64_inc(&dev->stats.errors);
	net_rx_discard(p);
	return 0;
}

static void net_rx_short_timeout(struct timer_list *t)
{
	struct hvv_net_pair *p = timer_container_of(p, t, rx_short_timer);

	net_kick_rx(p);
}

/*
 * @p's next frame needs more buffers than the driver has posted in @vq,
 * and no more came when we asked to be notified.  Should we drop it?
 *
 * A driver may wait for us before it posts more: Linux's virtio_net
 * refills its ring only once half of it is used, and half a small ring of
 * small buffers cannot hold a 64 KiB GSO frame.  Waiting would then stop
 * the tap for good.  So, as a NIC out of descriptors does, drop the frame
 * once the driver has taken everything we gave it and posted nothing
 * since (it will not move again before we do), or once it has waited
 * HVV_NET_RX_SHORT_WAIT (a driver without EVENT_IDX does not show that).
 * Until then the timer looks again, since the driver finishing its pass
 * notifies nobody.  Caller holds p->mutex.
 */
static bool net_rx_short_give_up(struct hvv_net_pair *p, struct hvv_vq *vq)
{
	if (!p->rx_short) {
		p->rx_short = true;
		p->rx_short_since = jiffies;
	}
	if (hvv_vq_driver_idle(vq) ||
	    time_after_eq(jiffies, p->rx_short_since + HVV_NET_RX_SHORT_WAIT))
		return true;
	mod_timer(&p->rx_short_timer, jiffies + HVV_NET_RX_SHORT_POLL);
	return false;
}

/* Drop @p's next frame, @len bytes, for want of receive buffers. */
static void net_rx_drop_short(struct hvv_net_pair *p, int len)
{
	struct hvv_device *dev = p->net->dev;

	pr_info_ratelimited("zone %u dev %u: dropped a %d-byte frame: the driver posted too few receive buffers for it\n",
			    dev->zone->id, dev->id, len);
	atomic64_inc(&dev->stats.errors);
	net_rx_discard(p);
	p->rx_short = false;
}

/*
 * Receive what @p's tap has into @vq.  Returns true when the frames left
 * wait for the driver to post buffers, false when the tap is empty or the
 * run used its share of the worker (its work is queued again).  Caller
 * holds p->mutex and the mutex of @vq's pair.
 */
static bool net_rx_sock(struct hvv_net_pair *p, struct hvv_vq *vq,
			unsigned int *pending)
{
	unsigned int frames = 0;
	size_t bytes = 0;
	int len, ret;

	if (!p->running || !p->sock)
		return false;
	for (;;) {
		len = p->sock->ops->peek_len(p->sock);
		if (len <= 0) {
			/* Empty, or the tap's interface was deleted. */
			if (net_backend_gone(p))
				net_backend_lost(p);
			return false;
		}
		ret = net_rx_frame(p, vq, len, pending);
		if (ret == -EAGAIN || ret == -ENOSPC) {
			/*
			 * Not enough buffers: the frame waits in the tap until
			 * the driver posts more and notifies us, unless they
			 * may never come (net_rx_short_give_up()).
			 */
			if (hvv_vq_enable_notify(vq)) {
				hvv_vq_disable_notify(vq);
				continue;
			}
			if (ret == -EAGAIN || !net_rx_short_give_up(p, vq))
				return true;
			/* Dropped: it counts against the weight as sent. */
			hvv_vq_disable_notify(vq);
			net_rx_drop_short(p, len);
			ret = 0;
		}
		p->rx_short = false;
		if (ret == -EBADFD) {
			net_backend_lost(p);
			return false;
		}
		if (ret)
			return false;
		bytes += len;
		if (++frames >= HVV_NET_WEIGHT || bytes >= HVV_NET_WEIGHT_BYTES) {
			net_kick_rx(p);
			return false;
		}
	}
}

static void net_rx(struct hvv_net_pair *p)
{
	struct hvv_net *net = p->net;
	unsigned int active = READ_ONCE(net->active_pairs);
	unsigned int pending = 0, i;
	struct hvv_vq *vq = p->rx;

	/* A hint: after stop() no work may be queued on another worker. */
	if (!READ_ONCE(p->running))
		return;
	if (net_target(p->index, active) != p->index) {
		/*
		 * The driver does not use this pair: its tap's frames go to
		 * the pair that takes them, which drains this tap too.
		 */
		net_kick_rx(p);
		return;
	}

	mutex_lock(&p->mutex);
	if (!p->running)
		goto out;
	hvv_vq_disable_notify(vq);
	if (net_rx_sock(p, vq, &pending))
		goto signal;
	/*
	 * The taps of the pairs the driver does not use, after ours.  One
	 * look at active_pairs for all decisions: every pair taken here has
	 * a higher index than @p.
	 */
	for (i = active; i < net->nr_pairs; i++) {
		struct hvv_net_pair *o = &net->pairs[i];
		bool wait;

		if (net_target(i, active) != p->index)
			continue;
		/* Lock order: the pair in use before the unused one. */
		mutex_lock(&o->mutex);
		wait = net_rx_sock(o, vq, &pending);
		mutex_unlock(&o->mutex);
		if (wait)
			break;
	}
signal:
	hvv_vq_signal(vq);
out:
	mutex_unlock(&p->mutex);
}

/* Control queue ---------------------------------------------------------- */

/* VIRTIO_NET_CTRL_RX: one on/off byte. */
static u8 net_ctrl_rx(struct hvv_net *net, u8 cmd, const struct hvv_chain *c)
{
	u8 on;

	if (!net_has(net, VIRTIO_NET_F_CTRL_RX) || c->out_len != 3)
		return VIRTIO_NET_ERR;
	hvv_chain_copy_out(c, 2, &on, 1);
	spin_lock(&net->filter_lock);
	switch (cmd) {
	case VIRTIO_NET_CTRL_RX_PROMISC:
		net->filter.promisc = on;
		break;
	case VIRTIO_NET_CTRL_RX_ALLMULTI:
		net->filter.allmulti = on;
		break;
	default:
		spin_unlock(&net->filter_lock);
		return VIRTIO_NET_ERR;
	}
	spin_unlock(&net->filter_lock);
	return VIRTIO_NET_OK;
}

/* VIRTIO_NET_CTRL_MAC: the filter tables, or the device's address. */
static u8 net_ctrl_mac(struct hvv_net *net, u8 cmd, const struct hvv_chain *c)
{
	u8 (*uni)[ETH_ALEN] = net->ctrl_uni, (*multi)[ETH_ALEN] = net->ctrl_multi;
	struct hvv_net_filter *f = &net->filter;
	struct hvv_device *dev = net->dev;
	long nu, nm;
	u8 mac[ETH_ALEN];
	u32 off = 2;

	switch (cmd) {
	case VIRTIO_NET_CTRL_MAC_TABLE_SET:
		if (!net_has(net, VIRTIO_NET_F_CTRL_RX))
			return VIRTIO_NET_ERR;
		nu = hvv_net_ctrl_table(c, &off, uni);
		nm = nu < 0 ? -1 : hvv_net_ctrl_table(c, &off, multi);
		if (nm < 0 || off != c->out_len)
			return VIRTIO_NET_ERR;
		spin_lock(&net->filter_lock);
		f->uni_overflow = nu > HVV_NET_MAC_TABLE;
		f->nr_uni = f->uni_overflow ? 0 : nu;
		memcpy(f->uni, uni, f->nr_uni * ETH_ALEN);
		f->multi_overflow = nm > HVV_NET_MAC_TABLE;
		f->nr_multi = f->multi_overflow ? 0 : nm;
		memcpy(f->multi, multi, f->nr_multi * ETH_ALEN);
		spin_unlock(&net->filter_lock);
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MAC_ADDR_SET:
		if (!net_has(net, VIRTIO_NET_F_CTRL_MAC_ADDR) ||
		    c->out_len != 2 + ETH_ALEN)
			return VIRTIO_NET_ERR;
		hvv_chain_copy_out(c, 2, mac, ETH_ALEN);
		if (!is_valid_ether_addr(mac))
			return VIRTIO_NET_ERR;
		spin_lock(&net->filter_lock);
		ether_addr_copy(f->mac, mac);
		spin_unlock(&net->filter_lock);
		spin_lock_irq(&dev->lock);
		ether_addr_copy(net->config.mac, mac);
		spin_unlock_irq(&dev->lock);
		return VIRTIO_NET_OK;
	default:
		return VIRTIO_NET_ERR;
	}
}

/* VIRTIO_NET_CTRL_MQ: how many queue pairs the driver uses. */
static u8 net_ctrl_mq(struct hvv_net *net, u8 cmd, const struct hvv_chain *c)
{
	unsigned int i, old = net->active_pairs;
	__le16 le;
	u16 n;

	if (!net_has(net, VIRTIO_NET_F_MQ) ||
	    cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || c->out_len != 4)
		return VIRTIO_NET_ERR;
	hvv_chain_copy_out(c, 2, &le, sizeof(le));
	n = le16_to_cpu(le);
	if (n < 1 || n > net->nr_pairs)
		return VIRTIO_NET_ERR;
	WRITE_ONCE(net->active_pairs, n);
	/* Frames that waited for a pair that now takes them, or now not. */
	for (i = min_t(unsigned int, n, old); i < max_t(unsigned int, n, old);
	     i++)
		net_kick_rx(&net->pairs[i]);
	return VIRTIO_NET_OK;
}

static void net_ctrl(struct hvv_net *net)
{
	struct hvv_chain *c = net->ctrl_chain;
	struct hvv_vq *vq = net->ctrl;
	const struct hvv_seg *last;
	u8 hdr[2], ack;
	int ret;

	if (!READ_ONCE(net->started))
		return;
	for (;;) {
		ret = hvv_vq_pop(vq, c);
		if (ret < 0)
			break;
		if (!ret) {
			if (hvv_vq_enable_notify(vq))
				continue;
			break;
		}
		if (!c->nr_in || c->out_len < sizeof(hdr)) {
			net_bad_chain(vq, c->head,
				      "control command without class or ack byte");
			continue;
		}
		/* Each part of the command is read once, then checked. */
		hvv_chain_copy_out(c, 0, hdr, sizeof(hdr));
		switch (hdr[0]) {
		case VIRTIO_NET_CTRL_RX:
			ack = net_ctrl_rx(net, hdr[1], c);
			break;
		case VIRTIO_NET_CTRL_MAC:
			ack = net_ctrl_mac(net, hdr[1], c);
			break;
		case VIRTIO_NET_CTRL_MQ:
			ack = net_ctrl_mq(net, hdr[1], c);
			break;
		default:
			ack = VIRTIO_NET_ERR;
		}
		if (ack != VIRTIO_NET_OK)
			pr_debug("zone %u dev %u: control command %u.%u refused\n",
				 net->dev->zone->id, net->dev->id, hdr[0],
				 hdr[1]);
		last = &c->segs[c->nr_out + c->nr_in - 1];
		/* Ordered before the used index by hvv_vq_push(). */
		WRITE_ONCE(*(u8 *)(last->addr + last->len - 1), ack);
		hvv_vq_push(vq, c->head, 1);
		atomic64_inc(&net->dev->stats.requests);
	}
	/* The driver polls for the answer; tell it anyway if it wants. */
	hvv_vq_signal(vq);
}

/**
 * hvv_net_handle_vq() - process a queue of a virtio-net device
 * @vq: the queue: 2n receives and 2n + 1 transmits for pair n, the one
 *	after the pairs' is the control queue
 *
 * Context: the queue pair's worker; the device's for the control queue.
 */
static void hvv_net_handle_vq(struct hvv_vq *vq)
{
	struct hvv_net *net = vq->dev->priv;
	unsigned int pair = vq->index / 2;

	if (!net)
		return;
	if (vq->index == net_ctrl_index(net))
		net_ctrl(net);
	else if (pair >= net_used_pairs(net))
		return;
	else if (vq->index & 1)
		net_tx(&net->pairs[pair]);
	else
		net_rx(&net->pairs[pair]);
}

/* Life cycle -------------------------------------------------------------- */

/*
 * Make @file (or nothing) the tap of @p.  The caller holds a reference to
 * @file that passes to @p.  Returns the tap it replaces, for the caller to
 * release.
 */
static struct file *net_set_backend(struct hvv_net_pair *p, struct file *file,
				    struct socket *sock, const char *ifname)
{
	struct file *old;

	mutex_lock(&p->mutex);
	net_poll_stop(p);
	old = p->file;
	WRITE_ONCE(p->sock, sock);
	WRITE_ONCE(p->file, file);
	strscpy(p->ifname, file ? ifname : "", sizeof(p->ifname));
	p->tx_blocked = false;
	p->rx_short = false;	/* about the old tap's frame */
	if (p->running && file) {
		queue_work(system_unbound_wq, &p->net->offload_work);
		net_poll_start(p);
	}
	mutex_unlock(&p->mutex);
	return old;
}

static bool net_ifname_ok(const char *name)
{
	return memchr(name, '\0', HVISOR_VHOST_IFNAMSIZ);
}

static void net_free(struct hvv_net *net)
{
	unsigned int i;

	for (i = 0; net->pairs && i < net->nr_pairs; i++) {
		struct hvv_net_pair *p = &net->pairs[i];

		if (p->file)
			fput(p->file);
		kfree(p->bufs);
		kfree(p->iov);
		kfree(p->chain);
		mutex_destroy(&p->mutex);
	}
	kfree(net->ctrl_chain);
	kfree(net->pairs);
	kfree(net);
}

/* The receive filter after a reset: everything passes. */
static void net_reset_filter(struct hvv_net *net)
{
	spin_lock(&net->filter_lock);
	memset(&net->filter, 0, sizeof(net->filter));
	net->filter.promisc = true;
	ether_addr_copy(net->filter.mac, net->mac);
	spin_unlock(&net->filter_lock);
}

static int net_alloc_pair(struct hvv_net *net, unsigned int i)
{
	struct hvv_net_pair *p = &net->pairs[i];

	p->net = net;
	p->index = i;
	mutex_init(&p->mutex);
	init_waitqueue_func_entry(&p->wait, net_poll_wake);
	init_poll_funcptr(&p->table, net_poll_queue);
	timer_setup(&p->rx_short_timer, net_rx_short_timeout, 0);
	p->chain = kmalloc(sizeof(*p->chain), GFP_KERNEL);
	p->iov = kmalloc_array(HVV_NET_MAX_IOV, sizeof(*p->iov), GFP_KERNEL);
	p->bufs = kmalloc_array(HVV_NET_RX_MAX_BUFS, sizeof(*p->bufs),
				GFP_KERNEL);
	if (!p->chain || !p->iov || !p->bufs)
		return -ENOMEM;
	return 0;
}

/* Undo net_start_workers(); nothing queues work on them any more. */
static void net_stop_workers(struct hvv_net *net)
{
	unsigned int i;

	for (i = 0; i < net->nr_pairs; i++) {
		struct hvv_net_pair *p = &net->pairs[i];

		if (p->own_worker)
			kthread_destroy_worker(p->own_worker);
		p->own_worker = NULL;
		p->worker = NULL;
	}
}

/*
 * One worker per queue pair the driver uses; pair 0, the control queue
 * and the pairs without queues have the device's.  Before any kick.
 */
static int net_start_workers(struct hvv_net *net)
{
	unsigned int i;

	for (i = 0; i < net->nr_pairs; i++) {
		struct hvv_net_pair *p = &net->pairs[i];

		p->worker = net->dev->worker;
		if (!i || i >= net_used_pairs(net))
			continue;
		p->own_worker = hvv_device_worker_create(net->dev, i);
		if (IS_ERR(p->own_worker)) {
			int ret = PTR_ERR(p->own_worker);

			p->own_worker = NULL;
			net_stop_workers(net);
			return ret;
		}
		p->worker = p->own_worker;
	}
	return 0;
}

/**
 * hvv_net_create() - set up a virtio-net device, with or without a tap
 * @dev: the core's device
 * @args: DEV_ADD arguments; args->net.mac and .mtu are filled in
 * @devt: must be 0 (a tap comes as args->backend_fd or not at all)
 *
 * Context: process context, hvv_lock held.
 * Return: 0, -EINVAL (bad parameters), -EBADF, -ENOTSOCK, -ENXIO, -EBUSY
 * (see DEV_ATTACH), -ENOMEM.
 */
static int hvv_net_create(struct hvv_device *dev, struct hvisor_vhost_dev *args,
			  dev_t devt)
{
	struct hvisor_vhost_net_params *np = &args->net;
	unsigned int nr = args->num_queues ?: 1;
	u16 mtu = np->mtu ?: HVV_NET_DEFAULT_MTU;
	struct socket *sock = NULL;
	struct file *file = NULL;
	struct hvv_net *net;
	unsigned int i;
	int ret;

	/* The union's bytes past the net parameters are reserved too. */
	if (devt || np->flags & ~HVISOR_VHOST_NET_F_NO_OFFLOAD ||
	    memchr_inv(np->reserved, 0, sizeof(np->reserved)) ||
	    memchr_inv((u8 *)args->raw + sizeof(*np), 0,
		       sizeof(args->raw) - sizeof(*np)) ||
	    !net_ifname_ok(np->ifname))
		return -EINVAL;
	if (nr > HVV_NET_MAX_PAIRS)
		return -EINVAL;
	if (mtu < HVV_NET_MIN_MTU || mtu > HVV_NET_MAX_MTU)
		return -EINVAL;
	if (is_multicast_ether_addr(np->mac))
		return -EINVAL;
	if (args->backend_fd != -1) {
		ret = net_get_backend(args->backend_fd, &file, &sock);
		if (ret)
			return ret;
		if (net_sock_busy(NULL, sock)) {
			fput(file);
			return -EBUSY;
		}
	}

	ret = -ENOMEM;
	net = kzalloc(sizeof(*net), GFP_KERNEL);
	if (!net)
		goto err_file;
	net->dev = dev;
	net->nr_pairs = nr;
	net->active_pairs = 1;
	net->mtu = mtu;
	net->flags = np->flags;
	spin_lock_init(&net->filter_lock);
	INIT_WORK(&net->offload_work, net_offload_work);
	net->pairs = kcalloc(nr, sizeof(*net->pairs), GFP_KERNEL);
	net->ctrl_chain = kmalloc(sizeof(*net->ctrl_chain), GFP_KERNEL);
	if (!net->pairs || !net->ctrl_chain)
		goto err_free;
	for (i = 0; i < nr; i++) {
		ret = net_alloc_pair(net, i);
		if (ret)
			goto err_free;
	}

	if (is_zero_ether_addr(np->mac))
		eth_random_addr(net->mac);
	else
		ether_addr_copy(net->mac, np->mac);
	ether_addr_copy(net->config.mac, net->mac);
	net_reset_filter(net);
	net->config.max_virtqueue_pairs = cpu_to_le16(nr);
	net->config.mtu = cpu_to_le16(mtu);
	if (file) {
		net->pairs[0].file = file;
		net->pairs[0].sock = sock;
		strscpy(net->pairs[0].ifname, np->ifname,
			sizeof(net->pairs[0].ifname));
		net->config.status = cpu_to_le16(VIRTIO_NET_S_LINK_UP);
	}

	dev->priv = net;
	dev->config = (u8 *)&net->config;
	dev->config_len = sizeof(net->config);
	dev->nr_vqs = 2 * nr + 1;
	ether_addr_copy(np->mac, net->mac);
	np->mtu = mtu;
	return 0;

err_free:
	net_free(net);
err_file:
	if (file)
		fput(file);
	return ret;
}

/**
 * hvv_net_destroy() - release the taps and free the device
 * @dev: the device, stopped
 *
 * Context: process context.
 */
static void hvv_net_destroy(struct hvv_device *dev)
{
	struct hvv_net *net = dev->priv;

	cancel_work_sync(&net->offload_work);
	net_free(net);
	dev->priv = NULL;
	dev->config = NULL;
	dev->config_len = 0;
}

/**
 * hvv_net_features() - the virtio-net features we offer
 * @dev: the device
 *
 * The transport adds the ring features (EVENT_IDX, INDIRECT_DESC).
 *
 * Context: any context.
 * Return: feature bits.
 */
static u64 hvv_net_features(struct hvv_device *dev)
{
	const struct hvv_net *net = dev->priv;
	u64 f = BIT_ULL(VIRTIO_F_VERSION_1) |
		BIT_ULL(VIRTIO_NET_F_MAC) |
		BIT_ULL(VIRTIO_NET_F_STATUS) |
		BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |
		BIT_ULL(VIRTIO_NET_F_MTU) |
		BIT_ULL(VIRTIO_NET_F_CTRL_VQ) |
		BIT_ULL(VIRTIO_NET_F_CTRL_RX) |
		BIT_ULL(VIRTIO_NET_F_CTRL_MAC_ADDR);

	if (net->nr_pairs > 1)
		f |= BIT_ULL(VIRTIO_NET_F_MQ);
	if (net->flags & HVISOR_VHOST_NET_F_NO_OFFLOAD)
		return f;
	/*
	 * Checksum and TSO offloads both ways: the tap takes and gives the
	 * virtio-net header as it is, GSO included (HOST_* are frames from
	 * the zone, GUEST_* frames to it).
	 */
	return f |
	       BIT_ULL(VIRTIO_NET_F_CSUM) |
	       BIT_ULL(VIRTIO_NET_F_GUEST_CSUM) |
	       BIT_ULL(VIRTIO_NET_F_HOST_TSO4) |
	       BIT_ULL(VIRTIO_NET_F_HOST_TSO6) |
	       BIT_ULL(VIRTIO_NET_F_HOST_ECN) |
	       BIT_ULL(VIRTIO_NET_F_GUEST_TSO4) |
	       BIT_ULL(VIRTIO_NET_F_GUEST_TSO6) |
	       BIT_ULL(VIRTIO_NET_F_GUEST_ECN);
}

/**
 * hvv_net_start() - start moving frames
 * @dev: the device, its ready queues started
 *
 * Context: process context, no worker runs the queues.
 * Return: 0 or a thread creation error.
 */
static int hvv_net_start(struct hvv_device *dev)
{
	struct hvv_net *net = dev->priv;
	unsigned int i;
	int ret;

	/* Fixed at FEATURES_OK, before DRIVER_OK. */
	spin_lock_irq(&dev->lock);
	net->features = dev->features;
	spin_unlock_irq(&dev->lock);
	ret = net_start_workers(net);
	if (ret)
		return ret;

	/*
	 * Which queue is what depends on MQ.  Before any kick: the core
	 * queues a queue's work on its worker.
	 */
	for (i = 0; i < dev->nr_vqs; i++)
		dev->vqs[i].worker = NULL;
	for (i = 0; i < net->nr_pairs; i++) {
		struct hvv_net_pair *p = &net->pairs[i];

		p->rx = NULL;
		p->tx = NULL;
		if (i < net_used_pairs(net)) {
			p->rx = &dev->vqs[2 * i];
			p->tx = &dev->vqs[2 * i + 1];
			p->rx->worker = p->own_worker;
			p->tx->worker = p->own_worker;
		}
		/* A pair without queues has its tap drained by pair 0. */
		mutex_lock(&p->mutex);
		WRITE_ONCE(p->running, true);
		p->tx_blocked = false;
		p->rx_short = false;
		if (p->file)
			net_poll_start(p);
		mutex_unlock(&p->mutex);
	}
	net->ctrl = &dev->vqs[net_ctrl_index(net)];
	WRITE_ONCE(net->started, true);
	queue_work(system_unbound_wq, &net->offload_work);
	return 0;
}

/**
 * hvv_net_stop() - stop moving frames
 * @dev: the device, no longer kicked
 *
 * Frames keep arriving in the taps' queues meanwhile; they are received
 * once the driver starts the device again.  The MAC and the receive
 * filter return to what they were when the device was created.
 *
 * Context: process context.
 */
static void hvv_net_stop(struct hvv_device *dev)
{
	struct hvv_net *net = dev->priv;
	unsigned int i;

	WRITE_ONCE(net->started, false);
	for (i = 0; i < net->nr_pairs; i++) {
		struct hvv_net_pair *p = &net->pairs[i];

		mutex_lock(&p->mutex);
		WRITE_ONCE(p->running, false);
		net_poll_stop(p);
		p->tx_blocked = false;
		p->rx_short = false;
		mutex_unlock(&p->mutex);
		/* Not armed again: that takes p->running, under p->mutex. */
		timer_delete_sync(&p->rx_short_timer);
	}
	/*
	 * Work queued by a wakeup before that finds nothing running; the
	 * pairs' own workers end here, the device's in the core.
	 */
	for (i = 0; i < net->nr_pairs; i++) {
		struct hvv_net_pair *p = &net->pairs[i];

		if (p->rx)
			kthread_flush_work(&p->rx->work);
		if (p->tx)
			kthread_flush_work(&p->tx->work);
	}
	if (net->ctrl)
		kthread_flush_work(&net->ctrl->work);
	net_stop_workers(net);
}

/**
 * hvv_net_reset() - the driver reset the device
 * @dev: the device, quiesced
 *
 * The MAC, the receive filter and the number of queue pairs in use return
 * to what they were when the device was created.  (A queue reset stops
 * and starts the device without this: the driver's settings stay.)
 *
 * Context: process context.
 */
static void hvv_net_reset(struct hvv_device *dev)
{
	struct hvv_net *net = dev->priv;

	spin_lock_irq(&dev->lock);
	ether_addr_copy(net->config.mac, net->mac);
	spin_unlock_irq(&dev->lock);
	net->active_pairs = 1;
	net_reset_filter(net);
}

/**
 * hvv_net_attach() - attach a tap to a queue pair, or detach it (fd -1)
 * @dev: the device
 * @args: DEV_ATTACH arguments, reserved fields checked
 *
 * Context: process context, hvv_lock held.
 * Return: 0, -EINVAL, -EBADF, -ENOTSOCK, -ENXIO or -EBUSY.
 */
static int hvv_net_attach(struct hvv_device *dev,
			  const struct hvisor_vhost_attach *args)
{
	struct hvv_net *net = dev->priv;
	struct socket *sock = NULL;
	struct file *file = NULL, *old;
	struct hvv_net_pair *p;
	int ret;

	if (args->queue_pair >= net->nr_pairs || !net_ifname_ok(args->ifname))
		return -EINVAL;
	p = &net->pairs[args->queue_pair];
	if (args->fd != -1) {
		ret = net_get_backend(args->fd, &file, &sock);
		if (ret)
			return ret;
		if (net_sock_busy(p, sock)) {
			fput(file);
			return -EBUSY;
		}
	}
	old = net_set_backend(p, file, sock, args->ifname);
	if (old)
		fput(old);
	net_update_link(net);
	pr_info("zone %u dev %u: queue pair %u %s%s\n", dev->zone->id, dev->id,
		args->queue_pair, file ? "attached to tap " : "detached",
		file ? p->ifname : "");
	return 0;
}

/**
 * hvv_net_fill_info() - the virtio-net part of a DEV_NEXT answer
 * @dev: the device
 * @info: filled in
 *
 * Context: process context, hvv_lock held.
 */
static void hvv_net_fill_info(struct hvv_device *dev,
			      struct hvisor_vhost_dev *info)
{
	struct hvv_net *net = dev->priv;
	unsigned int i;

	info->num_queues = net->nr_pairs;
	spin_lock_irq(&dev->lock);
	ether_addr_copy(info->net.mac, net->config.mac);
	spin_unlock_irq(&dev->lock);
	info->net.mtu = net->mtu;
	info->net.flags = net->flags;
	for (i = 0; i < net->nr_pairs; i++) {
		struct hvv_net_pair *p = &net->pairs[i];

		mutex_lock(&p->mutex);
		if (p->file)
			info->net.attached++;
		if (!i && p->file)
			strscpy(info->net.ifname, p->ifname,
				sizeof(info->net.ifname));
		mutex_unlock(&p->mutex);
	}
}

const struct hvv_dev_ops hvv_net_ops = {
	.name		= "net",
	.device_id	= VIRTIO_ID_NET,
	.queue_max	= HVV_NET_QUEUE_MAX,
	.create		= hvv_net_create,
	.destroy	= hvv_net_destroy,
	.features	= hvv_net_features,
	.start		= hvv_net_start,
	.stop		= hvv_net_stop,
	.reset		= hvv_net_reset,
	.handle_vq	= hvv_net_handle_vq,
	.fill_info	= hvv_net_fill_info,
	.attach		= hvv_net_attach,
};

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-net: what net.c reads out of guest chains and frames before any
 * socket sees them (the virtio-net header, frame lengths, the control
 * queue's MAC tables).  Pure functions, kept apart from the socket code so
 * that the user-space fuzzer builds them too (tools/fuzz).
 */
#ifndef HVISOR_VHOST_NET_HDR_H
#define HVISOR_VHOST_NET_HDR_H

#include <linux/if_ether.h>
#include <linux/if_vlan.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/uio.h>

#include "vq.h"

/* Largest frame accepted from the zone, without the virtio-net header. */
#define HVV_NET_MAX_FRAME	(SZ_64K + VLAN_ETH_HLEN)
/* Entries of each receive filter table (more: that kind is let through). */
#define HVV_NET_MAC_TABLE	64

/* The virtio 1.x header (virtio_net_hdr_mrg_rxbuf), little-endian. */
struct hvv_net_hdr {
	u8 flags;
	u8 gso_type;
	__le16 hdr_len;
	__le16 gso_size;
	__le16 csum_start;
	__le16 csum_offset;
	__le16 num_buffers;
};

#define HVV_NET_HDR_LEN		sizeof(struct hvv_net_hdr)

void hvv_net_iov_write(const struct kvec *iov, unsigned int niov, size_t off,
		       const void *buf, size_t len);
void hvv_net_iov_read(const struct kvec *iov, unsigned int niov, size_t off,
		      void *buf, size_t len);
bool hvv_net_tx_hdr_ok(u64 features, const struct hvv_net_hdr *h);
const char *hvv_net_tx_check(u64 features, const struct hvv_chain *c,
			     struct hvv_net_hdr *hdr);
unsigned int hvv_net_tx_iov(const struct hvv_chain *c, struct hvv_net_hdr *hdr,
			    struct kvec *iov);
long hvv_net_rx_take(const struct hvv_chain *c, bool first, size_t want,
		     struct kvec *iov, unsigned int *niov, unsigned int max_iov);
bool hvv_net_rx_hdr_ok(u64 features, struct hvv_net_hdr *h);
long hvv_net_ctrl_table(const struct hvv_chain *c, u32 *off,
			u8 (*table)[ETH_ALEN]);

#endif /* HVISOR_VHOST_NET_HDR_H */

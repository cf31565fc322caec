// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net header and frame checks (see net_hdr.h).
 *
 * Chains reach here validated by the iterator (every segment mapped zone
 * RAM of the length it claims, readable ones first); what the guest wrote
 * in them is read once into copies and only the copies are checked.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <asm/byteorder.h>
#include <uapi/linux/virtio_net.h>

#include "net_hdr.h"

static bool has(u64 features, unsigned int bit)
{
	return features & BIT_ULL(bit);
}

/*
 * Copy @len bytes between @buf and the segments @iov, from offset @off of
 * the segments on: into them if @to_iov, else out of them.
 */
static void net_iov_copy(const struct kvec *iov, unsigned int niov,
			 size_t off, void *buf, size_t len, bool to_iov)
{
	unsigned int i;

	for (i = 0; i < niov && len; i++) {
		void *seg;
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		seg = iov[i].iov_base + off;
		n = min(iov[i].iov_len - off, len);
		if (to_iov)
			memcpy(seg, buf, n);
		else
			memcpy(buf, seg, n);
		buf += n;
		len -= n;
		off = 0;
	}
}

/* Write @len bytes at offset @off of the segments @iov. */
void hvv_net_iov_write(const struct kvec *iov, unsigned int niov, size_t off,
		       const void *buf, size_t len)
{
	/* Only read: net_iov_copy() writes @buf when copying out. */
	net_iov_copy(iov, niov, off, (void *)buf, len, true);
}

/* Read @len bytes at offset @off of the segments @iov. */
void hvv_net_iov_read(const struct kvec *iov, unsigned int niov, size_t off,
		      void *buf, size_t len)
{
	net_iov_copy(iov, niov, off, buf, len, false);
}

/* Is the header of a frame from the zone one we agreed on (@features)? */
bool hvv_net_tx_hdr_ok(u64 features, const struct hvv_net_hdr *h)
{
	u8 gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM &&
	    !has(features, VIRTIO_NET_F_CSUM))
		return false;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return !(h->gso_type & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!has(features, VIRTIO_NET_F_HOST_TSO4))
			return false;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!has(features, VIRTIO_NET_F_HOST_TSO6))
			return false;
		break;
	default:
		return false;
	}
	if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN &&
	    !has(features, VIRTIO_NET_F_HOST_ECN))
		return false;
	return le16_to_cpu(h->gso_size) != 0;
}

/*
 * A TX chain: header and frame lengths, then the header, read once into
 * @hdr and checked against @features.  Returns NULL when the frame may be
 * sent (with @hdr's num_buffers cleared), else why not.
 */
const char *hvv_net_tx_check(u64 features, const struct hvv_chain *c,
			     struct hvv_net_hdr *hdr)
{
	if (c->out_len < HVV_NET_HDR_LEN)
		return "TX header too short";
	if (c->out_len - HVV_NET_HDR_LEN > HVV_NET_MAX_FRAME)
		return "TX frame too long";
	/* The one read of the header; only the copy is checked and sent. */
	hvv_chain_copy_out(c, 0, hdr, sizeof(*hdr));
	if (!hvv_net_tx_hdr_ok(features, hdr))
		return "TX header with offloads not negotiated";
	hdr->num_buffers = 0;
	return NULL;
}

/*
 * The frame of a checked TX chain as segments into @iov (room for
 * HVV_CHAIN_MAX_SEGS + 1): our copy @hdr of the header, then the guest's
 * bytes after it.  Returns the number of segments; they hold
 * c->out_len bytes.
 */
unsigned int hvv_net_tx_iov(const struct hvv_chain *c, struct hvv_net_hdr *hdr,
			    struct kvec *iov)
{
	u32 skip = HVV_NET_HDR_LEN;
	unsigned int i, n = 0;

	iov[n].iov_base = hdr;
	iov[n++].iov_len = sizeof(*hdr);
	for (i = 0; i < c->nr_out; i++) {
		const struct hvv_seg *s = &c->segs[i];

		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		iov[n].iov_base = s->addr + skip;
		iov[n++].iov_len = s->len - skip;
		skip = 0;
	}
	return n;
}

/*
 * Take the chain @c as the next receive buffer of a frame that still needs
 * @want bytes (> 0, header included); @first: no buffer of the frame was
 * good so far, so the header must fit in this one.  Its writable segments
 * are appended to @iov, which holds *@niov of at most @max_iov entries.
 * Returns the bytes of the frame this buffer holds (> 0), 0 when the
 * buffer cannot be used (no writable byte, or no room for the header in a
 * first buffer; @iov unchanged), or -E2BIG when its segments do not fit
 * in @iov.
 */
long hvv_net_rx_take(const struct hvv_chain *c, bool first, size_t want,
		     struct kvec *iov, unsigned int *niov, unsigned int max_iov)
{
	unsigned int i;

	if (!c->in_len || (first && c->in_len < HVV_NET_HDR_LEN))
		return 0;
	if (*niov + c->nr_in > max_iov)
		return -E2BIG;
	for (i = 0; i < c->nr_in; i++) {
		iov[*niov].iov_base = c->segs[c->nr_out + i].addr;
		iov[(*niov)++].iov_len = c->segs[c->nr_out + i].len;
	}
	return min_t(size_t, c->in_len, want);
}

/*
 * Is the header the tap wrote one the driver agreed to (@features)?
 * Checksum flags it did not negotiate are cleared.  Frames queued in the
 * tap before its offloads changed may carry offloads the driver did not
 * accept (or no longer accepts); they are not handed over.
 */
bool hvv_net_rx_hdr_ok(u64 features, struct hvv_net_hdr *h)
{
	u8 gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (!has(features, VIRTIO_NET_F_GUEST_CSUM))
		h->flags &= ~(VIRTIO_NET_HDR_F_NEEDS_CSUM |
			      VIRTIO_NET_HDR_F_DATA_VALID);
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return has(features, VIRTIO_NET_F_GUEST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return has(features, VIRTIO_NET_F_GUEST_TSO6);
	default:
		return false;
	}
}

/*
 * Read one MAC table (le32 count, then the addresses) at *@off of @c into
 * @table (HVV_NET_MAC_TABLE entries; a longer table is skipped, not
 * copied); *@off is at most c->out_len.  Returns the count, or -1 when the
 * chain is too short for it.
 */
long hvv_net_ctrl_table(const struct hvv_chain *c, u32 *off,
			u8 (*table)[ETH_ALEN])
{
	__le32 le;
	u32 n;

	if (c->out_len - *off < sizeof(le))
		return -1;
	hvv_chain_copy_out(c, *off, &le, sizeof(le));
	*off += sizeof(le);
	n = le32_to_cpu(le);
	if (n > (c->out_len - *off) / ETH_ALEN)
		return -1;
	if (n <= HVV_NET_MAC_TABLE)
		hvv_chain_copy_out(c, *off, table, n * ETH_ALEN);
	*off += n * ETH_ALEN;
	return n;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_net_hdr: the virtio-net header and frame checks
 * (hvisor_vhost/net_hdr.c) on chains made from the input, with fuzzed
 * negotiated features.  Four modes, picked by the input:
 *  - TX: the length and header checks of a transmitted chain, then the
 *    segments handed to the socket;
 *  - RX: the header a tap wrote, read and rewritten through the receive
 *    buffers' segments, at any offset and length;
 *  - control: the two MAC tables of VIRTIO_NET_CTRL_MAC_TABLE_SET;
 *  - RX buffers: receive chains taken for a frame of fuzzed length, as
 *    net_rx_frame() takes them, then the frame and header written.
 *
 * Each segment is a heap buffer of exactly its length (ASan).  Checked
 * besides: a frame accepted for TX has a whole header, is not longer than
 * HVV_NET_MAX_FRAME, carries only offloads that were negotiated and goes
 * out as our header copy followed by exactly the guest's bytes after the
 * header; RX headers keep only negotiated checksum flags and GSO types;
 * segment reads and writes move exactly the bytes a flat copy would; a
 * MAC table is copied only when it fits, and the parse never runs past
 * the chain; a frame's receive segments are writable segments of its
 * buffers, the first usable buffer holds the whole header, buffers take
 * exactly the frame's length and the segment list never overflows.
 */
#include "harness.h"
#include "net_hdr.h"
#include <uapi/linux/virtio_net.h>

static struct hvv_chain chain;
static struct kvec iov[HVV_CHAIN_MAX_SEGS + 1];
static u8 flat[16 * SZ_64K];	/* fz_chain_make(.., 16, 16) */
static u8 buf[SZ_64K * 2];

static bool has(u64 features, unsigned int bit)
{
	return features & BIT_ULL(bit);
}

/* The chain's readable (or writable) bytes in one buffer; their count. */
static size_t flatten(bool writable)
{
	unsigned int i, first = writable ? chain.nr_out : 0;
	unsigned int end = writable ? chain.nr_out + chain.nr_in : chain.nr_out;
	size_t n = 0;

	for (i = first; i < end; i++) {
		HVV_CHECK(n + chain.segs[i].len <= sizeof(flat));
		memcpy(flat + n, chain.segs[i].addr, chain.segs[i].len);
		n += chain.segs[i].len;
	}
	return n;
}

static void fuzz_tx(u64 features)
{
	struct hvv_net_hdr hdr, raw;
	const char *bad;
	unsigned int n, i;
	size_t total = 0, flen;
	u8 gso;

	bad = hvv_net_tx_check(features, &chain, &hdr);
	if (bad)
		return;
	HVV_CHECK(chain.out_len >= HVV_NET_HDR_LEN);
	HVV_CHECK(chain.out_len - HVV_NET_HDR_LEN <= HVV_NET_MAX_FRAME);
	flen = flatten(false);
	memcpy(&raw, flat, sizeof(raw));
	HVV_CHECK(hdr.num_buffers == 0);
	HVV_CHECK(hdr.flags == raw.flags && hdr.gso_type == raw.gso_type &&
		  hdr.gso_size == raw.gso_size);
	HVV_CHECK(!(hdr.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM));
	if (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		HVV_CHECK(has(features, VIRTIO_NET_F_CSUM));
	gso = hdr.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	HVV_CHECK(gso == VIRTIO_NET_HDR_GSO_NONE ||
		  (gso == VIRTIO_NET_HDR_GSO_TCPV4 &&
		   has(features, VIRTIO_NET_F_HOST_TSO4)) ||
		  (gso == VIRTIO_NET_HDR_GSO_TCPV6 &&
		   has(features, VIRTIO_NET_F_HOST_TSO6)));
	if (hdr.gso_type & VIRTIO_NET_HDR_GSO_ECN)
		HVV_CHECK(gso != VIRTIO_NET_HDR_GSO_NONE &&
			  has(features, VIRTIO_NET_F_HOST_ECN));
	if (gso != VIRTIO_NET_HDR_GSO_NONE)
		HVV_CHECK(hdr.gso_size != 0);

	n = hvv_net_tx_iov(&chain, &hdr, iov);
	HVV_CHECK(n >= 1 && n <= chain.nr_out + 1u);
	HVV_CHECK(iov[0].iov_base == &hdr && iov[0].iov_len == sizeof(hdr));
	for (i = 1; i < n; i++) {
		int s = fz_chain_seg(&chain, iov[i].iov_base, iov[i].iov_len);

		HVV_CHECK(s >= 0 && s < chain.nr_out);
		HVV_CHECK(iov[i].iov_len > 0);
		/* What the socket sends: exactly the guest's bytes. */
		HVV_CHECK(!memcmp(iov[i].iov_base, flat + total + sizeof(hdr),
				  iov[i].iov_len));
		total += iov[i].iov_len;
	}
	HVV_CHECK(total + sizeof(hdr) == chain.out_len && flen == chain.out_len);
}

static void fuzz_rx(struct fz *f, u64 features)
{
	struct hvv_net_hdr hdr, before;
	unsigned int i, niov = 0;
	size_t total, off, len, k;
	bool ok;

	for (i = 0; i < chain.nr_in; i++) {
		iov[niov].iov_base = chain.segs[chain.nr_out + i].addr;
		iov[niov++].iov_len = chain.segs[chain.nr_out + i].len;
	}
	total = flatten(true);

	/* A read and a write anywhere, as net_rx_frame() does at 0 and 12. */
	off = fz_u8(f) & 1 ? fz_u32(f) % (total + 16) : fz_u8(f) % 16;
	len = fz_u32(f) % (sizeof(buf) / 2);
	memset(buf, 0xee, sizeof(buf));
	hvv_net_iov_read(iov, niov, off, buf, len);
	k = off < total ? min_t(size_t, len, total - off) : 0;
	HVV_CHECK(!memcmp(buf, flat + (off < total ? off : 0), k));
	HVV_CHECK(k == len || buf[k] == 0xee);

	fz_bytes(f, buf, len);
	hvv_net_iov_write(iov, niov, off, buf, len);
	flatten(true);
	HVV_CHECK(!memcmp(flat + (off < total ? off : 0), buf, k));

	/* The header as the tap left it. */
	memset(&hdr, 0, sizeof(hdr));
	hvv_net_iov_read(iov, niov, 0, &hdr, sizeof(hdr));
	before = hdr;
	ok = hvv_net_rx_hdr_ok(features, &hdr);
	if (!has(features, VIRTIO_NET_F_GUEST_CSUM))
		HVV_CHECK(!(hdr.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM |
					 VIRTIO_NET_HDR_F_DATA_VALID)));
	else
		HVV_CHECK(hdr.flags == before.flags);
	HVV_CHECK(hdr.gso_type == before.gso_type);
	if (ok) {
		u8 gso = hdr.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

		HVV_CHECK(gso == VIRTIO_NET_HDR_GSO_NONE ||
			  (gso == VIRTIO_NET_HDR_GSO_TCPV4 &&
			   has(features, VIRTIO_NET_F_GUEST_TSO4)) ||
			  (gso == VIRTIO_NET_HDR_GSO_TCPV6 &&
			   has(features, VIRTIO_NET_F_GUEST_TSO6)));
	}
	hdr.num_buffers = cpu_to_le16(1);
	hvv_net_iov_write(iov, niov, 0, &hdr, sizeof(hdr));
}

static void fuzz_ctrl(void)
{
	static u8 uni[HVV_NET_MAC_TABLE][ETH_ALEN], multi[HVV_NET_MAC_TABLE][ETH_ALEN];
	u32 off = 2, at;
	long nu, nm;

	/* net_ctrl() takes only chains with the class and command bytes. */
	if (chain.out_len < 2)
		return;
	flatten(false);
	nu = hvv_net_ctrl_table(&chain, &off, uni);
	if (nu < 0)
		return;
	HVV_CHECK(off <= chain.out_len);
	HVV_CHECK(off == 2 + 4 + nu * ETH_ALEN);
	if (nu <= HVV_NET_MAC_TABLE)
		HVV_CHECK(!memcmp(uni, flat + 6, nu * ETH_ALEN));
	at = off;
	nm = hvv_net_ctrl_table(&chain, &off, multi);
	if (nm < 0)
		return;
	HVV_CHECK(off <= chain.out_len);
	HVV_CHECK(off == at + 4 + nm * ETH_ALEN);
	if (nm <= HVV_NET_MAC_TABLE)
		HVV_CHECK(!memcmp(multi, flat + at + 4, nm * ETH_ALEN));
}

#define FZ_RX_CHAINS	8
#define FZ_RX_IOV	32

/* net_rx_frame()'s gathering of receive buffers, then what recvmsg does. */
static void fuzz_rx_bufs(struct fz *f, u64 features)
{
	static struct hvv_chain rxc[FZ_RX_CHAINS];
	static struct kvec riov[FZ_RX_IOV];
	unsigned int max_good = has(features, VIRTIO_NET_F_MRG_RXBUF) ?
				FZ_RX_CHAINS : 1;
	unsigned int max_iov = 1 + fz_u8(f) % FZ_RX_IOV;
	size_t need = fz_u32(f) % (HVV_NET_MAX_FRAME + 1) + HVV_NET_HDR_LEN;
	unsigned int nbufs = 0, ngood = 0, niov = 0, i;
	struct hvv_net_hdr hdr;
	size_t have = 0, total = 0;

	while (have < need && ngood < max_good && nbufs < FZ_RX_CHAINS &&
	       !fz_empty(f)) {
		struct hvv_chain *c = &rxc[nbufs++];
		unsigned int before = niov;
		long t;

		fz_chain_make(f, c, 2, 4);
		t = hvv_net_rx_take(c, !ngood, need - have, riov, &niov, max_iov);
		if (t < 0) {
			HVV_CHECK(t == -E2BIG && niov == before &&
				  before + c->nr_in > max_iov);
			break;
		}
		if (!t) {
			HVV_CHECK(niov == before);
			HVV_CHECK(!c->in_len ||
				  (!ngood && c->in_len < HVV_NET_HDR_LEN));
			continue;
		}
		HVV_CHECK(niov == before + c->nr_in && niov <= max_iov);
		HVV_CHECK((size_t)t <= c->in_len && (size_t)t <= need - have);
		if (!ngood)
			HVV_CHECK(c->in_len >= HVV_NET_HDR_LEN);
		for (i = before; i < niov; i++)
			HVV_CHECK(fz_chain_seg(c, riov[i].iov_base,
					       riov[i].iov_len) >= c->nr_out);
		have += t;
		ngood++;
	}
	if (have == need) {
		for (i = 0; i < niov; i++)
			total += riov[i].iov_len;
		HVV_CHECK(total >= need);
		/* The tap writes header and frame, we read and fix the header. */
		memset(buf, 0x11, need);
		hvv_net_iov_write(riov, niov, 0, buf, need);
		hvv_net_iov_read(riov, niov, 0, &hdr, sizeof(hdr));
		hvv_net_rx_hdr_ok(features, &hdr);
		hdr.num_buffers = cpu_to_le16(ngood);
		hvv_net_iov_write(riov, niov, 0, &hdr, sizeof(hdr));
	}
	HVV_CHECK(have <= need);
	for (i = 0; i < nbufs; i++)
		fz_chain_free(&rxc[i]);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz f = { data, size };
	u8 mode = fz_u8(&f);
	u64 features = fz_u64(&f);

	if (mode % 4 == 3) {
		fuzz_rx_bufs(&f, features);
		return 0;
	}
	fz_chain_make(&f, &chain, 16, 16);
	switch (mode % 4) {
	case 0:
		fuzz_tx(features);
		break;
	case 1:
		fuzz_rx(&f, features);
		break;
	case 2:
		fuzz_ctrl();
		break;
	}
	fz_chain_free(&chain);
	return 0;
}

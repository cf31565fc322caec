/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio bridge page shared with the hypervisor, byte for byte.
 *
 * The layout is fixed by the hypervisor (see README.md, "The bridge"): one
 * 4 KiB page, little-endian, natural alignment.  Every offset is asserted at
 * compile time so that a change of this file cannot silently break the
 * protocol.  The loopback test module includes this header too, since it
 * plays the hypervisor's side of the same page.
 */
#ifndef HVISOR_VHOST_BRIDGE_ABI_H
#define HVISOR_VHOST_BRIDGE_ABI_H

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>

#ifndef __LITTLE_ENDIAN
#error "the bridge page is little-endian and accessed natively"
#endif

#define HVV_BRIDGE_MAX_REQ	32
#define HVV_BRIDGE_MAX_DEVS	8
#define HVV_BRIDGE_MAX_CPUS	32

/* Written by the hypervisor when a zone accesses a virtio region. */
struct hvv_device_req {
	u64 src_cpu;		/* physical CPU that waits for the answer */
	u64 address;		/* guest-physical address of the access */
	u64 size;		/* 1, 2, 4 or 8 (not validated by the hypervisor) */
	u64 value;		/* value written, for writes */
	u32 src_zone;
	u8 is_write;
	u8 need_interrupt;	/* posted: nobody waits for an answer */
	u16 padding;
};

/* Written by root: an interrupt to inject into a zone. */
struct hvv_device_res {
	u32 target_zone;
	u32 irq_id;
};

struct hvv_bridge_page {
	u32 req_front;		/* root advances after consuming */
	u32 req_rear;		/* hypervisor advances after producing */
	u32 res_front;		/* hypervisor advances after consuming */
	u32 res_rear;		/* root advances after producing */
	struct hvv_device_req req_list[HVV_BRIDGE_MAX_REQ];
	struct hvv_device_res res_list[HVV_BRIDGE_MAX_REQ];
	u64 cfg_flags[HVV_BRIDGE_MAX_CPUS];	/* root increments to answer */
	u64 cfg_values[HVV_BRIDGE_MAX_CPUS];	/* answer of a read */
	u64 mmio_addrs[HVV_BRIDGE_MAX_DEVS];	/* unused by the hypervisor */
	u8 mmio_avail;				/* unused by the hypervisor */
	u8 need_wakeup;		/* root asks for a wake-up IPI per push */
};

static_assert(sizeof(struct hvv_device_req) == 40);
static_assert(sizeof(struct hvv_device_res) == 8);
static_assert(offsetof(struct hvv_device_req, src_zone) == 32);
static_assert(offsetof(struct hvv_device_req, is_write) == 36);
static_assert(offsetof(struct hvv_device_req, need_interrupt) == 37);
static_assert(offsetof(struct hvv_bridge_page, req_front) == 0);
static_assert(offsetof(struct hvv_bridge_page, req_rear) == 4);
static_assert(offsetof(struct hvv_bridge_page, res_front) == 8);
static_assert(offsetof(struct hvv_bridge_page, res_rear) == 12);
static_assert(offsetof(struct hvv_bridge_page, req_list) == 16);
static_assert(offsetof(struct hvv_bridge_page, res_list) == 1296);
static_assert(offsetof(struct hvv_bridge_page, cfg_flags) == 1552);
static_assert(offsetof(struct hvv_bridge_page, cfg_values) == 1808);
static_assert(offsetof(struct hvv_bridge_page, mmio_addrs) == 2064);
static_assert(offsetof(struct hvv_bridge_page, mmio_avail) == 2128);
static_assert(offsetof(struct hvv_bridge_page, need_wakeup) == 2129);

/* Ring indices run modulo HVV_BRIDGE_MAX_REQ; one slot stays empty. */
static inline u32 hvv_ring_next(u32 idx)
{
	return (idx + 1) % HVV_BRIDGE_MAX_REQ;
}

/* Hypercall codes. */
#define HVV_HC_INIT_VIRTIO		0	/* arg0: bridge page physical address */
#define HVV_HC_FINISH_REQ		1	/* inject what res_list holds */
#define HVV_HC_CLEAR_INJECT_IRQ		20	/* loongarch64: deassert injections */
#define HVV_HC_GET_VIRTIO_IRQ		86	/* x86_64: arg0: PA of a u32 to fill */

#endif /* HVISOR_VHOST_BRIDGE_ABI_H */

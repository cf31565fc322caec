/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvisor_vhost: ioctl ABI of /dev/hvisor_vhost.
 *
 * Rules that keep this ABI stable:
 *  - every struct has a fixed size, explicit padding and reserved fields;
 *    reserved fields must be zero on input and are zero on output;
 *  - addresses and sizes are __u64 whatever the architecture;
 *  - HVISOR_VHOST_ABI_VERSION changes only on an incompatible change;
 *    additions are announced through feature bits.
 */
#ifndef _UAPI_LINUX_HVISOR_VHOST_H
#define _UAPI_LINUX_HVISOR_VHOST_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define HVISOR_VHOST_DEVICE_PATH	"/dev/hvisor_vhost"
#define HVISOR_VHOST_ABI_VERSION	1

/* Feature bits reported in hvisor_vhost_version.features. */
#define HVISOR_VHOST_F_ZONES		_BITULL(0)	/* zone ioctls */
#define HVISOR_VHOST_F_BLK		_BITULL(1)	/* virtio-blk devices */
#define HVISOR_VHOST_F_NET		_BITULL(2)	/* virtio-net devices */
#define HVISOR_VHOST_F_STATS		_BITULL(3)	/* DEV_STATS */
#define HVISOR_VHOST_F_STATS_BOUNCED	_BITULL(4)	/* DEV_STATS fills bounced */
#define HVISOR_VHOST_F_ZONE_RESET	_BITULL(5)	/* ZONE_RESET */

/**
 * struct hvisor_vhost_version - answer of HVISOR_VHOST_IOC_VERSION
 * @abi_version: HVISOR_VHOST_ABI_VERSION of the running module
 * @max_zones: number of zones the module can hold
 * @features: HVISOR_VHOST_F_* bits the module implements
 * @max_devices: number of devices the module can hold (all zones)
 * @max_regions: RAM regions per zone
 * @max_zone_devices: devices one zone may have (the hypervisor's limit of
 *	pending interrupts per zone; 0 from modules that do not say)
 * @reserved0: zero
 * @reserved: zero
 */
struct hvisor_vhost_version {
	__u32 abi_version;
	__u32 max_zones;
	__u64 features;
	__u32 max_devices;
	__u32 max_regions;
	__u32 max_zone_devices;
	__u32 reserved0;
	__u64 reserved[5];
};

#define HVISOR_VHOST_MAX_REGIONS	8

/**
 * struct hvisor_vhost_region - one RAM region of a zone
 * @guest_phys: guest-physical base address (what the zone's driver uses)
 * @host_phys: machine-physical base address (what root sees)
 * @size: length in bytes, non-zero, page aligned like both bases
 * @reserved: zero
 */
struct hvisor_vhost_region {
	__u64 guest_phys;
	__u64 host_phys;
	__u64 size;
	__u64 reserved;
};

/* hvisor_vhost_zone.flags (ZONE_NEXT): declared in the device tree. */
#define HVISOR_VHOST_ZONE_F_DT		_BITUL(0)

/**
 * struct hvisor_vhost_zone - a guest zone and its RAM
 * @zone_id: hypervisor zone id, >= 1 (0 is root)
 * @nr_regions: number of valid entries in @regions, 1..HVISOR_VHOST_MAX_REGIONS
 * @flags: (in, ZONE_ADD) zero; (out, ZONE_NEXT) HVISOR_VHOST_ZONE_F_*
 * @reserved0: zero
 * @reserved: zero
 * @regions: the RAM regions; they must not overlap each other, neither in
 *	guest-physical nor in host-physical space
 */
struct hvisor_vhost_zone {
	__u32 zone_id;
	__u32 nr_regions;
	__u32 flags;
	__u32 reserved0;
	__u64 reserved[2];
	struct hvisor_vhost_region regions[HVISOR_VHOST_MAX_REGIONS];
};

/*
 * hvisor_vhost_dev.flags (DEV_NEXT): declared in the device tree, made
 * when the module loaded (a DEV_DEL'd one comes back at the next load).
 */
#define HVISOR_VHOST_DEV_F_DT		_BITUL(0)

/* Device types are virtio device ids. */
#define HVISOR_VHOST_DEV_NET		1
#define HVISOR_VHOST_DEV_BLK		2

/* hvisor_vhost_blk_params.flags */
#define HVISOR_VHOST_BLK_F_RO		_BITUL(0)

#define HVISOR_VHOST_BLK_SERIAL_LEN	20

/**
 * struct hvisor_vhost_blk_params - virtio-blk backend parameters
 * @flags: HVISOR_VHOST_BLK_F_*
 * @reserved0: zero
 * @serial: GET_ID answer, not NUL-terminated when all 20 bytes are used
 * @reserved1: zero
 * @capacity: (out) size of the backing device in 512-byte sectors
 * @backing_major: (out) major number of the block device the module
 *	holds (ignored on input; 0 from modules without HVISOR_VHOST_F_STATS)
 * @backing_minor: (out) its minor number
 * @reserved: zero
 */
struct hvisor_vhost_blk_params {
	__u32 flags;
	__u32 reserved0;
	char serial[HVISOR_VHOST_BLK_SERIAL_LEN];
	__u32 reserved1;
	__u64 capacity;
	__u32 backing_major;
	__u32 backing_minor;
	__u64 reserved[2];
};

#define HVISOR_VHOST_IFNAMSIZ		16

/* hvisor_vhost_net_params.flags: offer no checksum or TSO offload. */
#define HVISOR_VHOST_NET_F_NO_OFFLOAD	_BITUL(0)

/**
 * struct hvisor_vhost_net_params - virtio-net backend parameters
 * @mac: the device's MAC; all zero asks for a generated (locally
 *	administered, unicast) one; (out) the MAC in use
 * @mtu: MTU announced to the zone (VIRTIO_NET_F_MTU), 68..65535; 0 for
 *	1500; (out) the MTU announced
 * @flags: HVISOR_VHOST_NET_F_*
 * @ifname: name of the tap given as backend_fd, NUL-terminated, for
 *	display only (the module cannot check it); (out) the name of the
 *	tap of queue pair 0, empty when none is attached
 * @attached: (out) queue pairs that have a tap; the zone sees its link up
 *	while queue pair 0 has one
 * @reserved: zero
 *
 * The tap (tun IFF_TAP, or macvtap) must deliver and take frames with a
 * 12-byte little-endian virtio-net header (IFF_VNET_HDR, TUNSETVNETHDRSZ
 * 12, TUNSETVNETLE): virtio 1.x always uses that header.  The module sets
 * the tap's offloads (TUNSETOFFLOAD) to what the zone's driver accepts.
 */
struct hvisor_vhost_net_params {
	__u8 mac[6];
	__u16 mtu;
	__u32 flags;
	char ifname[HVISOR_VHOST_IFNAMSIZ];
	__u32 attached;
	__u64 reserved[3];
};

/**
 * struct hvisor_vhost_dev - a device, for DEV_ADD (in/out) and DEV_NEXT (out)
 * @dev_id: (out) module-wide device id, >= 1
 * @type: HVISOR_VHOST_DEV_*
 * @zone_id: zone the device belongs to
 * @irq: hypervisor interrupt number injected into the zone (GIC INTID)
 * @mmio_base: guest-physical base of the virtio-mmio register window
 * @mmio_size: size of that window, >= 0x200 (0x1000 is customary)
 * @backend_fd: (in) block device or tap fd; -1 for none (net only: the
 *	device then starts with its link down, see DEV_ATTACH)
 * @num_queues: requested queues (blk) or queue pairs (net); 0 for default
 * @flags: (in, DEV_ADD) zero; (out, DEV_NEXT) HVISOR_VHOST_DEV_F_*
 * @reserved0: zero
 * @blk: parameters when @type is HVISOR_VHOST_DEV_BLK
 * @net: parameters when @type is HVISOR_VHOST_DEV_NET
 * @raw: size of the union
 * @reserved: zero
 */
struct hvisor_vhost_dev {
	__u32 dev_id;
	__u32 type;
	__u32 zone_id;
	__u32 irq;
	__u64 mmio_base;
	__u64 mmio_size;
	__s32 backend_fd;
	__u32 num_queues;
	__u32 flags;
	__u32 reserved0;
	union {
		struct hvisor_vhost_blk_params blk;
		struct hvisor_vhost_net_params net;
		__u64 raw[8];
	};
	__u64 reserved[4];
};

/**
 * struct hvisor_vhost_id - names a zone or a device
 * @id: zone id or device id
 * @reserved0: zero
 * @reserved: zero
 */
struct hvisor_vhost_id {
	__u32 id;
	__u32 reserved0;
	__u64 reserved[1];
};

/**
 * struct hvisor_vhost_attach - argument of DEV_ATTACH
 * @dev_id: the device
 * @fd: the new backend (a tap fd, set up as for DEV_ADD); -1 detaches
 * @queue_pair: net: the queue pair whose tap this is, 0..num_queues-1
 * @flags: zero
 * @ifname: the tap's name, NUL-terminated, for display only
 * @reserved: zero
 *
 * The module takes its own reference to @fd's file: the caller may close
 * @fd afterwards.  A previous backend of that queue pair is released.
 */
struct hvisor_vhost_attach {
	__u32 dev_id;
	__s32 fd;
	__u32 queue_pair;
	__u32 flags;
	char ifname[HVISOR_VHOST_IFNAMSIZ];
	__u64 reserved[2];
};

/**
 * struct hvisor_vhost_dev_stats - argument of DEV_STATS
 * @dev_id: (in) the device
 * @reserved0: zero
 * @requests: (out) requests completed: virtio-blk requests, or net frames
 *	sent and received
 * @bytes: (out) payload bytes moved (blk: data read and written; net:
 *	frames without their virtio-net header)
 * @errors: (out) requests ended with an error status, malformed chains,
 *	dropped frames, and the times the device needed a reset
 * @kicks: (out) QueueNotify writes of the zone's driver
 * @interrupts: (out) interrupts injected into the zone
 * @inflight: (out) requests taken from the rings and not yet completed
 * @bounced: (out) virtio-blk requests whose data was copied through pages
 *	of root instead of going into bios as it lies in zone RAM (zone RAM
 *	without struct pages, buffers not aligned to the logical block, or
 *	the blk_force_bounce parameter); 0 for net, which always copies;
 *	filled when the module reports HVISOR_VHOST_F_STATS_BOUNCED
 * @reserved: zero
 *
 * The counters start at zero when the device is created and only grow,
 * except @inflight; they are read one by one, not as a snapshot.
 */
struct hvisor_vhost_dev_stats {
	__u32 dev_id;
	__u32 reserved0;
	__u64 requests;
	__u64 bytes;
	__u64 errors;
	__u64 kicks;
	__u64 interrupts;
	__u64 inflight;
	__u64 bounced;
	__u64 reserved[7];
};

/*
 * 0xB8 is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst.
 *
 * VERSION	always succeeds; call it first and compare abi_version.
 * ZONE_ADD	creates a zone; EEXIST if the id is taken, EINVAL on bad or
 *		overlapping regions, ENOSPC when full.
 * ZONE_DEL	removes a zone; ENOENT if unknown, EBUSY while it has devices.
 * ZONE_NEXT	in: zone_id; out: the zone with the smallest id >= zone_id,
 *		ENOENT when there is none (iterate with zone_id + 1).
 * ZONE_RESET	resets every device of a zone, as its driver writing Status 0
 *		would, and returns when they have stopped: for a zone that was
 *		shut down, before it boots again; ENOENT if unknown (feature
 *		HVISOR_VHOST_F_ZONE_RESET).
 * DEV_ADD	creates a device; ENOENT unknown zone, EEXIST MMIO window
 *		overlaps another device's or IRQ already used in the zone,
 *		EINVAL bad window/type, EBADF bad fd, ENOTBLK fd is not a block
 *		device, EBUSY device already claimed, ENOSPC when full.
 * DEV_DEL	removes a device (after quiescing its I/O); ENOENT if unknown.
 * DEV_NEXT	in: dev_id; out: the device with the smallest id >= dev_id,
 *		ENOENT when there is none.
 * DEV_ATTACH	gives a device a new backend, or takes it away (fd -1);
 *		net only: the zone's link goes up or down with it; ENOENT
 *		unknown device, EINVAL not a net device, bad queue pair or
 *		non-zero reserved fields, EBADF bad fd, ENOTSOCK the fd is
 *		no tap (tun or macvtap), ENXIO the tap has no interface any
 *		more, EBUSY the tap is already another device's backend.
 *
 * DEV_STATS	in: dev_id; out: the device's counters; ENOENT unknown
 *		device, EINVAL non-zero reserved fields.  Needs no privilege
 *		beyond opening the node (feature HVISOR_VHOST_F_STATS).
 *
 * DEV_ADD of a net device fails as DEV_ATTACH does for its backend_fd.
 */
#define HVISOR_VHOST_IOC_MAGIC		0xB8
#define HVISOR_VHOST_IOC_VERSION	\
	_IOR(HVISOR_VHOST_IOC_MAGIC, 0x00, struct hvisor_vhost_version)
#define HVISOR_VHOST_IOC_ZONE_ADD	_IOW(HVISOR_VHOST_IOC_MAGIC, 0x10, struct hvisor_vhost_zone)
#define HVISOR_VHOST_IOC_ZONE_DEL	_IOW(HVISOR_VHOST_IOC_MAGIC, 0x11, struct hvisor_vhost_id)
#define HVISOR_VHOST_IOC_ZONE_NEXT	\
	_IOWR(HVISOR_VHOST_IOC_MAGIC, 0x12, struct hvisor_vhost_zone)
#define HVISOR_VHOST_IOC_ZONE_RESET	_IOW(HVISOR_VHOST_IOC_MAGIC, 0x13, struct hvisor_vhost_id)
#define HVISOR_VHOST_IOC_DEV_ADD	_IOWR(HVISOR_VHOST_IOC_MAGIC, 0x20, struct hvisor_vhost_dev)
#define HVISOR_VHOST_IOC_DEV_DEL	_IOW(HVISOR_VHOST_IOC_MAGIC, 0x21, struct hvisor_vhost_id)
#define HVISOR_VHOST_IOC_DEV_NEXT	_IOWR(HVISOR_VHOST_IOC_MAGIC, 0x22, struct hvisor_vhost_dev)
#define HVISOR_VHOST_IOC_DEV_ATTACH	\
	_IOW(HVISOR_VHOST_IOC_MAGIC, 0x23, struct hvisor_vhost_attach)
#define HVISOR_VHOST_IOC_DEV_STATS	\
	_IOWR(HVISOR_VHOST_IOC_MAGIC, 0x24, struct hvisor_vhost_dev_stats)

#endif /* _UAPI_LINUX_HVISOR_VHOST_H */

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/rig/demo.sh - `make demo`: boot the arm64-6.1 guest and show the
# backend at work. Extra arguments go to tools/vm-run (e.g. --smp 4).

set -euo pipefail
cd "$(dirname "$0")/../.."

# The demo, as run inside the guest (busybox sh, hvisor_vhost.ko loaded;
# see tools/vm-run --help for what the guest has).
DEMO='
set -e
echo "== the backend and its tool"
hvctl version
echo "== the loopback zone plays the hypervisor and a guest zone"
insmod /modules/hvisor_vhost_loopback.ko
modprobe brd rd_nr=1 rd_size=65536
echo "== zone 1 gets root RAM (identity), and a virtio-blk disk on /dev/ram0"
hvctl zone add 1 --identity-ram
hvctl add-blk /dev/ram0 --zone 1 --mmio 0x1000000000 --irq 40 --serial demo-disk
hvctl list
echo "== the zone probes its virtio-mmio window: virtio_blk binds"
echo "1 0x1000000000 0x200 40" > /sys/kernel/debug/hvisor_vhost_loopback/probe
vd=$(basename "$(ls -d /sys/bus/virtio/drivers/virtio_blk/virtio*/block/vd* | head -n 1)")
echo "zone disk: /dev/$vd, serial $(cat /sys/block/$vd/serial)"
echo "== a filesystem on it, through the backend"
mke2fs -q /dev/$vd >/dev/null
mkdir -p /mnt/zone
mount -t ext4 /dev/$vd /mnt/zone
dd if=/dev/urandom of=/mnt/zone/data bs=1M count=4 2>/dev/null
md5sum /mnt/zone/data
df -h /mnt/zone
umount /mnt/zone
cat /sys/kernel/debug/hvisor_vhost_loopback/devices
echo "== the zone lets go of its disk, the backend releases /dev/ram0"
echo all > /sys/kernel/debug/hvisor_vhost_loopback/remove
hvctl del 1
echo "== and the same file, read straight from the backing device"
mount -t ext4 -o ro /dev/ram0 /mnt/zone
md5sum /mnt/zone/data
umount /mnt/zone
echo "== a virtio-net device for zone 1, on tap0 of root (10.0.0.1)"
tunctl -t tap0 >/dev/null
ip addr add 10.0.0.1/24 dev tap0
ip link set tap0 up
net=$(hvctl add-net tap0 --zone 1 --mmio 0x1000001000 --irq 41 --mac 52:54:00:00:00:01)
hvctl list
echo "== the zone probes it: virtio_net binds; its interface goes into a"
echo "   network namespace of its own (the zone), as 10.0.0.2"
echo "1 0x1000001000 0x200 41" > /sys/kernel/debug/hvisor_vhost_loopback/probe
if=$(ls /sys/bus/virtio/drivers/virtio_net/virtio*/net | head -n 1)
unshare -n sleep 1000 &
zone=$!
sleep 1
ip link set "$if" netns $zone
nsenter -t $zone -n ip addr add 10.0.0.2/24 dev "$if"
nsenter -t $zone -n ip link set "$if" up
sleep 1
nsenter -t $zone -n ip addr show "$if"
echo "== the zone pings root over virtio-net, and root pings the zone"
nsenter -t $zone -n ping -c 3 10.0.0.1
ping -c 3 10.0.0.2
echo "== detach the tap: the zone sees its link go down; attach it: up again"
hvctl detach-net $net
sleep 1
nsenter -t $zone -n ip link show "$if"
hvctl attach-net $net tap0
sleep 1
nsenter -t $zone -n ip link show "$if"
nsenter -t $zone -n ping -c 2 10.0.0.1
kill $zone
'

exec tools/vm-run --target arm64-6.1 "$@" -- "$DEMO"

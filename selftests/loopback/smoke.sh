#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of the loopback rig (hvisor_vhost_loopback.ko) against the
# real backend, in a guest of tools/vm-run.  Not run by run-selftests; run
# it with:
#
#   tools/vm-run --smp 4 --add selftests/loopback/smoke.sh -- sh /extra/smoke.sh
#
# It covers the control files (probe, remove, devices, stats, raw and their
# errors), three blk devices in two zones with parallel I/O, a filesystem,
# a driver unbind/bind (device reset), unloading with devices present, and
# a timeout provoked by a lost wake-up.  Prints "ALL OK" and exits 0 on
# success.

# expect_err's commands are expanded when it evals them; "a && b || fail"
# means fail if either fails.
# shellcheck disable=SC2016,SC2015

D=/sys/kernel/debug/hvisor_vhost_loopback
P=/sys/module/hvisor_vhost_loopback/parameters

fail() {
	echo "FAIL: $*"
	cat $D/devices $D/stats 2>/dev/null
	exit 1
}

# expect_err MSG CMD: CMD must fail with an error message containing MSG
expect_err() {
	want=$1
	shift
	out=$( (eval "$*") 2>&1) && fail "'$*' succeeded"
	case $out in
	*"$want"*) echo "ok: '$*' -> $want" ;;
	*) fail "'$*': got '$out', want '$want'" ;;
	esac
}

stat_of() { sed -n "s/^$1 //p" $D/stats; }

# The rig loads the backend for the real hypervisor: reload it.
grep -q '^hvisor_vhost ' /proc/modules && rmmod hvisor_vhost
# dt_devices=0: the arm64 test tree's zone 9 would take /dev/ram0 and ram1.
insmod /modules/hvisor_vhost.ko hyp=loopback dt_devices=0 || fail "insmod backend"
insmod /modules/hvisor_vhost_loopback.ko || fail "insmod loopback"
modprobe brd rd_nr=3 rd_size=16384 || fail "brd"

hvctl zone add 1 --identity-ram || fail "zone 1"
hvctl zone add 2 --identity-ram || fail "zone 2"
hvctl add-blk /dev/ram0 --zone 1 --mmio 0xd0000000 --irq 78 >/dev/null ||
	fail "blk 1"
hvctl add-blk /dev/ram1 --zone 1 --mmio 0xd0001000 --irq 79 >/dev/null ||
	fail "blk 2"
hvctl add-blk /dev/ram2 --zone 2 --mmio 0xd0000000 --irq 78 >/dev/null ||
	fail "blk 3"

# probe and remove
expect_err "No such device" 'echo "1 0xd0002000 0x200 80" > $D/probe'
expect_err "Invalid argument" 'echo "1 0xd0000000" > $D/probe'
expect_err "Invalid argument" 'echo "1 0xd0000000 0x10 78" > $D/probe'
expect_err "Invalid argument" 'echo "1 zz 0x200 78" > $D/probe'
echo "1 0xd0000000 0x200 78" > $D/probe || fail "probe 1"
echo "1 0xd0001000 0x200 79" > $D/probe || fail "probe 2"
echo " 2  0xd0000000 512 78 " > $D/probe || fail "probe 3"
expect_err "File exists" 'echo "1 0xd0000100 0x200 90" > $D/probe'
expect_err "File exists" 'echo "1 0xd0003000 0x200 78" > $D/probe'
expect_err "Invalid argument" 'echo 0xd0000000 > $D/remove'
expect_err "No such file" 'echo 0xdead0000 > $D/remove'
expect_err "No such file" 'echo "3 0xd0000000" > $D/remove'
cat $D/devices
[ "$(grep -c 'driver=virtio_blk' $D/devices)" = 3 ] || fail "3 devices bound"

# raw accesses
echo "r 1 0xd0000000 4" > $D/raw || fail "raw read"
[ "$(cat $D/raw)" = 0x74726976 ] || fail "magic $(cat $D/raw)"
echo "r 1 0xd0000008 4" > $D/raw && [ "$(cat $D/raw)" = 0x2 ] ||
	fail "device id"
echo "r 5 0x1234 4" > $D/raw && [ "$(cat $D/raw)" = 0x0 ] ||
	fail "read in an unknown zone"
echo "w 5 0x1234 4 7" > $D/raw || fail "write in an unknown zone"
echo "p 5 0x1250 4 7" > $D/raw || fail "posted write"
echo "r 1 0xd0000003 3" > $D/raw && [ "$(cat $D/raw)" = 0x0 ] ||
	fail "odd size"
expect_err "Invalid argument" 'echo "x 1 2 3" > $D/raw'
expect_err "Invalid argument" 'echo "r 1 2" > $D/raw'
expect_err "Invalid argument" 'echo "w 1 2 4" > $D/raw'

# parallel I/O on the three disks
for d in vda vdb vdc; do
	dd if=/dev/urandom of=/tmp/$d.src bs=64k count=64 2>/dev/null
done
for d in vda vdb vdc; do
	dd if=/tmp/$d.src of=/dev/$d bs=64k conv=fsync 2>/dev/null &
done
wait
echo 3 > /proc/sys/vm/drop_caches
for d in vda vdb vdc; do
	dd if=/dev/$d of=/tmp/$d.dst bs=64k count=64 2>/dev/null
	cmp -s /tmp/$d.src /tmp/$d.dst || fail "data of $d"
done
echo "ok: data on 3 disks"

# a filesystem, when the guest can mount one
if mke2fs -q /dev/vdb 2>/dev/null && mount /dev/vdb /mnt 2>/dev/null; then
	cp /tmp/vda.src /mnt/f && sync && umount /mnt || fail "fs write"
	echo 3 > /proc/sys/vm/drop_caches
	mount /dev/vdb /mnt && cmp /tmp/vda.src /mnt/f && umount /mnt ||
		fail "fs read"
	echo "ok: ext2"
else
	echo "skip: no filesystem"
fi

# unbind/bind: a device reset (the backend finishes it in process context)
v=$(grep "zone=1 base=0xd0001000" $D/devices | cut -d' ' -f1)
echo "$v" > /sys/bus/virtio/drivers/virtio_blk/unbind || fail "unbind"
grep -q "^$v .*driver=-" $D/devices || fail "still bound"
echo "$v" > /sys/bus/virtio/drivers/virtio_blk/bind || fail "bind"
grep -q "^$v .*driver=virtio_blk" $D/devices || fail "not rebound"
echo "ok: rebind"

echo "2 0xd0000000" > $D/remove || fail "remove in zone 2"
[ "$(wc -l < $D/devices)" = 2 ] || fail "2 devices left"
[ "$(stat_of timeouts)" = 0 ] || fail "timeouts"
# unloading removes the devices that are left
rmmod hvisor_vhost_loopback || fail "rmmod with devices"
for d in /sys/block/vd*; do [ -e "$d" ] && fail "disk $d left"; done
echo "ok: unload with devices"

# a lost wake-up leaves the request in the ring: it times out
insmod /modules/hvisor_vhost_loopback.ko timeout_ms=300 lose_wakeups=1 ||
	fail "insmod again"
expect_err "timed out" 'echo "r 3 0x1000 4" > $D/raw'
echo 5000 > $P/timeout_ms
[ "$(stat_of timeouts)" = 1 ] || fail "timeouts 1"
[ "$(stat_of wakeups_lost)" = 1 ] || fail "wakeups_lost 1"
[ "$(stat_of slots_leaked)" = 1 ] || fail "slots_leaked 1"
[ "$(stat_of req_front)" != "$(stat_of req_rear)" ] ||
	fail "the request is not in the ring"
expect_err "Input/output error" 'echo "r 3 0x1000 4" > $D/raw'
# the next wake-up drains both; the late answer releases nobody
echo "r 4 0x1000 4" > $D/raw || fail "zone 4 after zone 3 died"
[ "$(stat_of req_front)" = "$(stat_of req_rear)" ] || fail "ring not drained"
echo "1 0xd0000000 0x200 78" > $D/probe || fail "probe after the timeout"
dd if=/dev/vda of=/dev/null bs=64k count=16 2>/dev/null ||
	fail "I/O after the timeout"
echo "ok: timeout"

rmmod hvisor_vhost_loopback || fail "rmmod"
for i in 1 2 3; do hvctl del $i; done
hvctl zone del 1 && hvctl zone del 2 || fail "zone del"
rmmod hvisor_vhost || fail "rmmod backend"
echo "ALL OK"

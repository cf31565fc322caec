#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The hypervisor posts a write only at offset 0x50 of the zone-config
# virtio region, not of the device: when several devices share one
# region, only the device at its base gets posted QueueNotify writes, and
# the others' notifies block the vCPU until the backend answers them.
#
# Two disks in one shared region (probe's region base): A at its base,
# B 0x200 above. I/O on B alone must make no posted write and on A alone
# only posted notifies; data written through each is on its own backing
# device. TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES=1
MIB=16
R=0x1000000000
tap_begin

stat_of() { sed -n "s/^$1 //p" "$LB/stats"; }

# region_probe BASE IRQ: probe the window at BASE in the region at R.
region_probe() {
	LB_VIRTIO='' LB_VD=
	echo "1 $1 0x200 $2 $R" >"$LB/probe" 2>>"$LOG" || return 1
	LB_VIRTIO=$(lb_vdev 1 "$1")
	[ -n "$LB_VIRTIO" ] && wait_vd "$LB_VIRTIO" 20
}

# io DISK RAM SEED: random O_DIRECT writes through DISK, checked on RAM.
io() {
	"$BLKIO" rand "$1" --off 0 --len ${MIB}M --count 200 --min 512 \
		--max 64K --direct --seed "$3" --shadow "$TMP/s$3" &&
	"$BLKIO" cmp "$2" 0 "$TMP/s$3" 0 ${MIB}M --direct
}

mk_brd 2 $MIB || bail "modprobe brd failed"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
check "a region base above the window is refused" \
	sh -c "! echo '1 $R 0x200 40 0x1000000100' >$LB/probe"
blk_add /dev/ram0 1 $R 40 && blk_add /dev/ram1 1 0x1000000200 41 ||
	bail "add-blk failed"
check "disk A at the base of the region" region_probe $R 40 || bail "no disk A"
A=$LB_VD A_V=$LB_VIRTIO
check "disk B 0x200 above it, in the same region" \
	region_probe 0x1000000200 41 || bail "no disk B"
B=$LB_VD B_V=$LB_VIRTIO
note "A: $A ($A_V), B: $B ($B_V)"

p0=$(stat_of posted) n0=$(lb_field "$B_V" notifies)
check "I/O through B (blocking notifies), data on its backing device" \
	timed 120 io "$B" /dev/ram1 1
n1=$(lb_field "$B_V" notifies)
check "B notified the device ($((n1 - n0)) times)" test "$n1" -gt "$n0"
check "... and none of them was posted" test "$(stat_of posted)" = "$p0"

p0=$(stat_of posted) n0=$(lb_field "$A_V" notifies)
check "I/O through A (posted notifies), data on its backing device" \
	timed 120 io "$A" /dev/ram0 2
n1=$(lb_field "$A_V" notifies)
check "A's notifies were all posted ($((n1 - n0)))" \
	test "$(($(stat_of posted) - p0))" = "$((n1 - n0))"
check "no register access timed out" test "$(stat_of timeouts)" = 0
lb_diag
tap_end

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The threads of a virtio-blk device: none while no driver runs it; once
# the driver sets DRIVER_OK, one per queue (hvv-blkN for queue 0,
# hvv-blkN-Q for queue Q), each doing the work of its own queue when
# writers run on both CPUs; gone again after a reset (the driver unbound)
# and after the device is removed. TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES=1
tap_begin

# workers ID: the pids and names of device ID's threads, "pid:name ...".
workers() {
	for _c in /proc/[0-9]*/comm; do
		read -r _n <"$_c" 2>/dev/null || continue
		case $_n in
		"hvv-blk$1" | "hvv-blk$1"-*)
			_p=${_c#/proc/}
			echo "${_p%/comm}:$_n"
			;;
		esac
	done | sort -t: -k2 | tr '\n' ' '
}

# names ID: only the names, sorted.
names() { workers "$1" | tr ' ' '\n' | sed 's/^[0-9]*://' | sort | tr '\n' ' '; }

# runs PID: how many times the thread has been scheduled (schedstat's
# third field).
runs() { awk '{ print $3 }' "/proc/$1/schedstat" 2>/dev/null || echo 0; }

# until_names ID EXPECTED: wait up to 10 s for the thread names.
until_names() {
	_n=100
	while [ "$(names "$1")" != "$2" ] && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	[ "$(names "$1")" = "$2" ]
}

mk_brd 1 32 || bail "modprobe brd failed"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
check "add-blk /dev/ram0 with two queues" \
	blk_add /dev/ram0 1 0x1000000000 40 --queues 2 || bail "no device"
ID=$BLK_ID
BOTH="hvv-blk$ID hvv-blk$ID-1 "

[ -z "$(workers "$ID")" ] &&
	ok "no thread before a driver runs the device" ||
	nok "no thread before a driver runs the device" "found: $(workers "$ID")"

check "the zone's virtio_blk binds" lb_probe 1 0x1000000000 40 ||
	bail "no disk"
V=$LB_VIRTIO VD=$LB_VD
nq=$(ls -d /sys/block/"${VD#/dev/}"/mq/* 2>/dev/null | wc -l)
[ "$nq" -eq 2 ] && ok "the driver uses both queues" ||
	nok "the driver uses both queues" "blk-mq hardware queues: $nq"
until_names "$ID" "$BOTH" &&
	ok "after DRIVER_OK: one thread per queue ($BOTH)" ||
	nok "after DRIVER_OK: one thread per queue" "threads: '$(workers "$ID")'"

# A writer on each CPU: blk-mq maps each CPU to its own queue, so each
# queue's thread runs.
set -- $(workers "$ID")
P0=${1%%:*} P1=${2%%:*}
r0=$(runs "$P0") r1=$(runs "$P1")
bg taskset -c 0 "$BLKIO" loop write "$VD" --bs 4k --direct >/dev/null 2>&1
W0=$BG_PID
bg taskset -c 1 "$BLKIO" loop write "$VD" --bs 4k --direct >/dev/null 2>&1
W1=$BG_PID
sleep 3
kill -TERM $W0 $W1 2>/dev/null
wait $W0
wait $W1
d0=$(($(runs "$P0") - r0)) d1=$(($(runs "$P1") - r1))
[ $d0 -gt 10 ] && [ $d1 -gt 10 ] &&
	ok "writers on both CPUs: both queue threads worked ($d0 and $d1 runs)" ||
	nok "writers on both CPUs: both queue threads worked" \
		"runs of hvv-blk$ID: $d0, of hvv-blk$ID-1: $d1"

DRV=/sys/bus/virtio/drivers/virtio_blk
check "unbind virtio_blk (the driver resets the device)" \
	timed 30 sh -c "echo $V >$DRV/unbind"
until_names "$ID" "" &&
	ok "after the reset: no thread left" ||
	nok "after the reset: no thread left" "threads: '$(workers "$ID")'"
check "bind virtio_blk again" timed 30 sh -c "echo $V >$DRV/bind"
until_names "$ID" "$BOTH" &&
	ok "after the new DRIVER_OK: one thread per queue again" ||
	nok "after the new DRIVER_OK: one thread per queue again" \
		"threads: '$(workers "$ID")'"
wait_vd "$V" 20 && VD=$LB_VD
check "the disk works after the rebind" \
	dd if=/dev/zero of="$VD" bs=4096 count=16 conv=fsync

lb_remove_all
check "hvctl del $ID" "$HVCTL" del "$ID"
[ -z "$(workers "$ID")" ] &&
	ok "after removal: no thread left" ||
	nok "after removal: no thread left" "threads: '$(workers "$ID")'"

tap_end

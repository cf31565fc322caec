#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvctl zone reset: what a user runs after the hypervisor shut a zone down
# and before it boots the zone again. Every device of the zone is reset as
# its driver would (the workers stop: no thread of the device is left),
# the devices stay, and the zone's next driver (here: the loopback zone's
# device removed and probed again, as a new boot would probe it) finds a
# working disk with the data written before. An unknown zone is an error.
# TAP; busybox sh.

# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES=1
tap_begin

mk_loop BK zreset 16 || bail "no loop device"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1" zone_add 1 || bail "no zone"
setup_disk VD 1 0x1000000000 40 "$BK" || bail "no disk"
check "4 MiB through $VD" "$BLKIO" rand "$VD" --off 0 --len 4M --count 64 --direct --seed 3
check "the workers run while the driver does" sh -c "ps | grep -q '\[hvv-blk$VD_ID\]'"

check "hvctl zone reset 1" "$HVCTL" zone reset 1
new_dmesg | grep -q "zone 1: 1 device(s) reset" &&
	ok "the kernel log says zone 1's device was reset" ||
	nok "the kernel log says zone 1's device was reset"
check_fails "no worker of the device is left" sh -c "ps | grep -q '\[hvv-blk$VD_ID\]'"
check "the device is still listed" sh -c "'$HVCTL' list | grep -q '$BK'"
out=$("$HVCTL" zone reset 99 2>&1)
rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "zone 99: no such zone" &&
	ok "hvctl zone reset 99 fails (exit 1), naming the unknown zone" ||
	nok "hvctl zone reset 99 fails (exit 1), naming the unknown zone" "exit $rc: $out"
check "hvctl zone reset 1 again (nothing running) succeeds" "$HVCTL" zone reset 1

# The zone's next boot: its driver probes the device anew.
check "the zone's driver lets go of the device" sh -c "echo 1 0x1000000000 >$LB/remove"
check "... and probes it again" lb_probe 1 0x1000000000 40
check "the data written before the reset reads back through $LB_VD" \
	"$BLKIO" cmp "$LB_VD" 0 "$BK" 0 4194304 --direct
check "new writes through $LB_VD" "$BLKIO" rand "$LB_VD" --off 4M --len 4M --count 64 --direct --seed 4
check "... are on the backing device" "$BLKIO" cmp "$LB_VD" 0 "$BK" 0 8388608 --direct

tap_end

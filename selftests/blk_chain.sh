#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-blk requests no stock driver sends, from a hand-made driver
# (blk_chain_helper) that owns the zone's side of the device through the
# loopback's raw register file: headers split over descriptors, data and
# status sharing a buffer, chains without a status byte, short headers,
# sectors past the end and sector arithmetic that overflows, lengths that
# are no multiple of 512, a request longer than seg_max * size_max,
# unknown request types, GET_ID into short buffers, malformed discard and
# write-zeroes ranges, writes to a read-only disk. Each case checks the
# status byte, the used length and the data on the backing device, and
# that the device does not ask for a reset; every case runs with data
# mapped into bios and bounced (blk_force_bounce). TAP output; busybox sh.

. "$(dirname "$0")/lib.sh"

ZONES=1
HELPER=${BLK_CHAIN:-$(cd "$(dirname "$0")" && pwd)/blk_chain_helper}
PARAM=/sys/module/hvisor_vhost/parameters/blk_force_bounce
COMPACT=/proc/sys/vm/compact_unevictable_allowed
SERIAL=chain-serial-0001
tap_begin

mk_loop BK chain 64 || bail "no loop device"
dd if=/dev/urandom of="$BK" bs=1M count=64 oflag=direct 2>/dev/null ||
	bail "cannot fill $BK"
mk_loop RO ro 4 || bail "no second loop device"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
check "add-blk $BK (no driver of the zone binds: the helper is the driver)" \
	blk_add "$BK" 1 0x1000000000 40 --serial $SERIAL || bail "no device"
check "add-blk $RO read-only" blk_add "$RO" 1 0x1000001000 41 --ro ||
	bail "no read-only device"
[ -w "$PARAM" ] || bail "no $PARAM"

# The helper's rings and buffers are locked pages at the physical
# addresses pagemap gave: compaction must not move them.
compact=$(cat $COMPACT 2>/dev/null)
[ -n "$compact" ] && echo 0 >$COMPACT

for bounce in 0 1; do
	echo $bounce >$PARAM
	for c in $("$HELPER" list); do
		[ "$c" = read-only ] && continue
		check "$c (bounce=$bounce)" env SERIAL=$SERIAL \
			"$HELPER" 1 0x1000000000 "$BK" "$c"
	done
done
echo 0 >$PARAM
check "read-only: writes, discard and write zeroes refused, reads and flush work" \
	"$HELPER" 1 0x1000001000 "$RO" read-only

[ -n "$compact" ] && echo "$compact" >$COMPACT
tap_end

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Reset and rebind with I/O in flight: while an O_DIRECT writer and a
# reader run on the zone's disk, virtio_blk is unbound from the device
# (the driver drains its queue and resets the device: Status 0) and bound
# again (a fresh probe: reset, feature negotiation, queue setup), several
# times. Each time the unbind and the bind return within seconds and the
# disk comes back; the I/O that ran across all this made progress, no
# register access timed out, and data written after the last rebind is on
# the backing device, byte for byte. TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES=1
CYCLES=5
DRV=/sys/bus/virtio/drivers/virtio_blk
tap_begin

mk_brd 1 32 || bail "modprobe brd failed"
BK=/dev/ram0
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
setup_disk VD 1 0x1000000000 40 $BK || bail "no disk"
V=$VD_V

# Writer on the first half, reader over the whole disk. Both open the
# device again whenever I/O fails (the disk is gone while unbound).
bg "$BLKIO" loop write "$VD" --bs 64k --direct >"$TMP/writer" 2>&1
WRITER=$BG_PID
bg "$BLKIO" loop read "$VD" --bs 128k --direct >"$TMP/reader" 2>&1
READER=$BG_PID

i=1
while [ $i -le $CYCLES ]; do
	# I/O runs for a second; the driver is unbound right after.
	n0=$(($(blk_stat "$VD" 1) + $(blk_stat "$VD" 5)))
	sleep 1
	n1=$(($(blk_stat "$VD" 1) + $(blk_stat "$VD" 5)))
	infl=$(inflight "$VD")
	if ! timed 30 sh -c "echo $V >$DRV/unbind"; then
		nok "cycle $i: unbind $V from virtio_blk with I/O in flight" \
			"unbind failed or hung (${TIMED_MS} ms)"
		bail "the disk is stuck"
	fi
	t_unbind=$TIMED_MS
	gone=yes
	vd_of "$V" >/dev/null 2>&1 && gone="no: $(vd_of "$V")"
	drv=$(awk -v v="$V" '$1 == v { print $7 }' "$LB/devices")
	if ! timed 30 sh -c "echo $V >$DRV/bind"; then
		nok "cycle $i: bind $V to virtio_blk again" \
			"bind failed or hung (${TIMED_MS} ms)"
		bail "the disk did not come back"
	fi
	t_bind=$TIMED_MS
	if [ $((n1 - n0)) -gt 0 ] && [ "$gone" = yes ] &&
		[ "$drv" = driver=- ] && wait_vd "$V" 20; then
		ok "cycle $i: unbind in $t_unbind ms with I/O running ($((n1 - n0)) requests in the second before), bind in $t_bind ms: $V is $LB_VD again"
	else
		nok "cycle $i: unbind with I/O running and bind, the disk comes back" \
			"requests in the second before: $((n1 - n0)); disk gone after unbind: $gone, $drv; disk after bind: '$LB_VD'"
		bail "the disk did not come back"
	fi
	note "in flight at the unbind (reads writes): $infl"
	VD=$LB_VD
	i=$((i + 1))
done

# Stop the I/O and see what it did.
kill -TERM $WRITER $READER 2>/dev/null
wait $WRITER
wait $READER
note "writer: $(cat "$TMP/writer"), reader: $(cat "$TMP/reader")"
wok=$(sed -n 's/^ok=\([0-9]*\) .*/\1/p' "$TMP/writer")
rok=$(sed -n 's/^ok=\([0-9]*\) .*/\1/p' "$TMP/reader")
[ "${wok:-0}" -gt 0 ] && [ "${rok:-0}" -gt 0 ] &&
	ok "the writer and the reader made progress across the rebinds" ||
	nok "the writer and the reader made progress" "writer ok=$wok, reader ok=$rok"
w=$(blk_stat "$VD" 5)
r=$(blk_stat "$VD" 1)
[ "$w" -gt 0 ] && [ "$r" -gt 0 ] &&
	ok "I/O ran on the disk after the last bind ($w writes, $r reads)" ||
	nok "I/O ran on the disk after the last bind" "$w writes, $r reads"

check "after $CYCLES rebinds: 300 random O_DIRECT writes through $VD" \
	"$BLKIO" rand "$VD" --off 0 --len 32M --count 300 --min 512 \
	--max 256K --direct --seed 5 --shadow "$TMP/s"
check "... are on the backing device" \
	"$BLKIO" cmp $BK 0 "$TMP/s" 0 32M --direct
check "buffered writes + fsync through $VD are on the backing device too" \
	sh -c "'$BLKIO' rand '$VD' --off 0 --len 8M --count 100 --min 1 \
		--max 64K --align 1 --fsync --seed 6 --shadow '$TMP/s2' &&
		'$BLKIO' cmp $BK 0 '$TMP/s2' 0 8M --direct"
grep -q "^$V .* timeouts=0 " "$LB/devices" && ok "no register access timed out" ||
	nok "no register access timed out" "$(grep "^$V " "$LB/devices")"

tap_end

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Removing a device from the root side (hvctl del) while the zone has I/O
# in flight on it. The backing device is a slow null_blk disk (every
# request takes 2 s), so that requests are in flight in the backend when
# the removal comes: three O_DIRECT readers and a writer run on the zone's
# disk, are stopped (SIGSTOP: no new request after the one each waits
# for), and the device is deleted at once.
#
#  - hvctl del succeeds within seconds (the time the backend needs to let
#    the requests in flight finish), and meanwhile another hvctl call is
#    answered (the wait holds no lock of the module's);
#  - every request that was in flight completes to the zone: each process
#    reaches the stopped state (none stays in D), the zone's disk has
#    nothing in flight, and they exit once continued;
#  - the backing device is released: it can be opened O_EXCL, added again
#    at another window, and the zone reads it there;
#  - the zone removes its disk of the vanished device promptly;
#  - the root kernel logs no warning.
#
# If requests stay stranded in the zone, the test finds out why and gets
# the zone going again: a new device at the same window (same zone, IRQ)
# answers one request of blkio_helper lb-kick, whose interrupt makes the
# zone's driver look at its used ring; if the stranded requests complete
# then, the backend had finished them and only their interrupt was lost.
# If that does not help either, the zone's disk can never be removed: the
# test records it in $LB_WEDGED so that the later tests leave it alone
# (and do not hang on it).
#
# What it does not do: let the zone keep submitting after the removal.
# Such requests go to an address where no device answers any more, as after
# a real surprise removal, and wait forever (uninterruptibly, for O_DIRECT),
# and with them the removal of the zone's disk: that would leave a disk
# that can never be removed. TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

# A zone and windows of its own: should its disk ever stay stuck, the
# other tests' windows are free.
ZONES=7
Z=7
BASE=0x1000070000
IRQ=47
tap_begin

mk_nullb BK nullb_hvvslow 64 irqmode=2 completion_nsec=2000000000 ||
	bail "no null_blk device"
dd if=/dev/urandom of="$BK" bs=64k count=4 oflag=direct 2>/dev/null
mk_loop SPARE spare 1 || bail "no loop device"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone $Z with identity RAM" zone_add $Z || bail "no zone"
setup_disk VD $Z $BASE $IRQ "$BK" || bail "no disk"
V=$VD_V

PIDS=
for i in 1 2 3; do
	bg "$BLKIO" loop read "$VD" --bs 64k --direct >"$TMP/reader$i" 2>&1
	PIDS="$PIDS $BG_PID"
done
bg "$BLKIO" loop write "$VD" --bs 16k --direct >"$TMP/writer" 2>&1
PIDS="$PIDS $BG_PID"
sleep 3
n=$(($(blk_stat "$VD" 1) + $(blk_stat "$VD" 5)))
[ "$n" -ge 4 ] && ok "4 processes do I/O on $VD ($n requests done)" ||
	nok "4 processes do I/O on $VD" "only $n requests completed"

# Stop them while requests are in flight on the backing device, and
# delete the device at once (shell builtins only in between: a fork can
# take a while on a busy machine).
irqs0=$(lb_field "$V" interrupts)
BKSTAT=/sys/block/$(dev_name "$BK")/inflight
tries=0
while :; do
	# shellcheck disable=SC2086
	kill -STOP $PIDS
	read -r br bw <"$BKSTAT"
	[ $((br + bw)) -gt 0 ] && break
	tries=$((tries + 1))
	[ $tries -ge 10 ] && break
	# shellcheck disable=SC2086
	kill -CONT $PIDS
	sleep 0.3
done
read -r zr zw <"/sys/block/$(dev_name "$VD")/inflight"
infl="$br $bw"
# The removal waits for the backing device with the module's lock free:
# another hvctl call is answered meanwhile.
t0=$(uptime_ms)
"$HVCTL" del "$VD_ID" >"$TMP/del" 2>&1 &
delpid=$!
sleep 0.3
"$HVCTL" list >"$TMP/list" 2>&1
lrc=$?
kill -0 $delpid 2>/dev/null && during=yes || during=no
wait $delpid
rc=$?
TIMED_MS=$(($(uptime_ms) - t0))
[ $lrc = 0 ] && [ $during = yes ] &&
	ok "hvctl list is answered while hvctl del waits for the backing device" ||
	nok "hvctl list is answered while hvctl del waits for the backing device" \
		"list status $lrc, del still running when it returned: $during"
note "in flight (reads writes) before the removal: backing $infl, zone $zr $zw (attempt $((tries + 1)))"
if [ "$rc" = 0 ] && [ "$TIMED_MS" -lt 5000 ] && [ "$infl" != "0 0" ]; then
	ok "hvctl del with requests in flight on the backing device ($infl) succeeds in $TIMED_MS ms"
else
	nok "hvctl del with requests in flight succeeds within 5 s" \
		"status $rc after $TIMED_MS ms; in flight on the backing device: $infl"
fi
"$HVCTL" list --json | sed 's/.*"devices"://' >"$LOG" 2>&1
grep -q "{\"id\":$VD_ID," "$LOG" &&
	nok "hvctl list no longer shows device $VD_ID" "it does" ||
	ok "hvctl list no longer shows device $VD_ID"

# Each process was in a read or write; all of them must get to stop.
all_stopped() {
	_stuck=
	for _p in $PIDS; do
		[ "$(proc_state "$_p")" = T ] ||
			_stuck="$_stuck $_p($(proc_state "$_p"))"
	done
	[ -z "$_stuck" ]
}
stopped() {
	wait_for "$1" all_stopped
	all_stopped
}
if stopped 4; then
	ok "every request in flight completed to the zone: all 4 processes stopped"
else
	zinfl=$(inflight "$VD")
	nok "every request in flight completed to the zone" \
		"still waiting for I/O (pid(state)):$_stuck; the zone's disk has $zinfl (reads writes) in flight"
	note "interrupts delivered to $V: $irqs0 before the removal, $(lb_field "$V" interrupts) after"
	# Diagnosis and recovery.
	if blk_add "$SPARE" $Z $BASE $IRQ --serial hvv-kick &&
		"$BLKIO" lb-kick $Z $BASE >>"$LOG" 2>&1 && stopped 5; then
		ok "diagnosis: an interrupt from a new device at $BASE completes them: the backend had put them in the used ring, the zone missed the interrupt"
		"$HVCTL" del "$BLK_ID" >/dev/null 2>&1
	else
		nok "diagnosis: an interrupt from a new device at $BASE completes them" \
			"they stay stranded:$_stuck"
		echo "$Z $BASE" >>"$LB_WEDGED"
		bail "the zone's disk $VD can never be removed (recorded in $LB_WEDGED)"
	fi
fi
zinfl=$(inflight "$VD")
[ "$zinfl" = "0 0" ] && ok "the zone's disk has no request in flight" ||
	nok "the zone's disk has no request in flight" "inflight: $zinfl"
# shellcheck disable=SC2086
kill -TERM $PIDS
# shellcheck disable=SC2086
kill -CONT $PIDS
gone=yes
for p in $PIDS; do
	wait_for 5 exited "$p" || gone="no: $p is $(proc_state "$p")"
done
[ "$gone" = yes ] && ok "continued, they all exit" ||
	nok "continued, they all exit" "$gone"
note "readers: $(cat "$TMP"/reader* | tr '\n' ' ')writer: $(cat "$TMP/writer")"

# The backing device is free again.
check "$BK can be opened O_EXCL (nobody claims it)" "$BLKIO" excl "$BK"
NEW=
if blk_add "$BK" $Z 0x1000071000 48; then
	ok "hvctl add-blk $BK at another window succeeds (device $BLK_ID)"
	NEW=$BLK_ID
else
	nok "hvctl add-blk $BK at another window succeeds"
fi

# The zone side: the disk of the vanished device goes away promptly.
timed 20 sh -c "echo $Z $BASE >$LB/remove"
rc=$?
if [ "$rc" = 0 ] && ! vd_of "$V" >/dev/null 2>&1; then
	ok "the zone removes its disk of the vanished device ($TIMED_MS ms)"
else
	nok "the zone removes its disk of the vanished device" \
		"status $rc after $TIMED_MS ms"
	[ "$rc" = 124 ] && echo "$Z $BASE" >>"$LB_WEDGED"
fi

if [ -n "$NEW" ] && lb_probe $Z 0x1000071000 48; then
	ok "the zone probes the new device: $LB_VD"
	check "it reads the backing device's bytes" \
		"$BLKIO" cmp "$LB_VD" 0 "$BK" 0 256K --direct
else
	nok "the zone probes the new device"
fi

tap_end

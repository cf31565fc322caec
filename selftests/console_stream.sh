#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-console bulk transfers through the loopback zone and the stock
# virtio_console driver: several MiB of random binary data each way,
# compared by checksum, then a slow reader on each side: root's reader
# takes 1 KiB every 2 ms while the zone writes as fast as it can (the
# ring fills, back-pressure holds the zone: nothing may be dropped), and
# the zone's reader is slow while root writes (root's writer waits for
# write room). hvctl stats counts every byte. TAP output; busybox sh.
#
# CON_MIB (default 4): MiB each way. CON_SLOW_KIB (default 3072): KiB
# moved past each slow reader: more than the zone's posted receive
# buffers (1 MiB with 256 of 4 KiB) and the flip buffer (640 KiB) hold.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/con_lib.sh"

ZONES=1
IO=${CON_IO:-$(cd "$(dirname "$0")" && pwd)/con_io_helper}
BYTES=$((${CON_MIB:-4} * 1048576))
SLOW=$((${CON_SLOW_KIB:-3072} * 1024))
tap_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
check "a console, virtio_console bound to it" con_setup ||
	bail "no console ($(cat "$LOG"))"
note "device $CON_ID, root's $TTY, the zone's $HVC"

# Keep both ttys open and raw (hvc resets its settings on each first open).
bg sleep 100000 <"$HVC"
bg sleep 100000 <"$TTY"
sleep 0.2
check "both ends raw (stty)" sh -c "stty -F $HVC raw -echo && stty -F $TTY raw -echo"

# diag: the device's state, after a failure (CON_DIAG=1: every CPU's
# backtrace in the kernel log too).
diag() {
	[ -n "$CON_DIAG" ] && echo l >/proc/sysrq-trigger
	echo "dropped $(cat "$SYS/dropped"); $("$HVCTL" stats "$CON_ID" | tail -n 1)"
}

# z2r N CHUNK DELAY_US WHAT: N random bytes from the zone to root's reader.
z2r() {
	MOVED=$((MOVED + $1))
	head -c "$1" /dev/urandom >"$TMP/z2r"
	d0=$(cat "$SYS/dropped")
	bg rr "$IO" read "$TTY" "$1" "$2" "$3" 30 >"$TMP/z2r.got" 2>"$TMP/z2r.err"
	R=$BG_PID
	sleep 0.3
	timed ${CON_WAIT:-600} zw sh -c "exec 3<>$HVC; stty raw -echo <&3 && cat $TMP/z2r >&3"
	wrc=$?
	wait_for 60 exited "$R"
	note "writer $wrc in ${TIMED_MS} ms; reader: $(cat "$TMP/z2r.err")"
	d=$(($(cat "$SYS/dropped") - d0))
	[ "$wrc" = 0 ] && [ "$d" = 0 ] &&
		[ "$(sums "$TMP/z2r")" = "$(sums "$TMP/z2r.got")" ] &&
		ok "zone to root: $4, same checksum, nothing dropped" ||
		nok "zone to root: $4" "writer $wrc, dropped $d; $(con_diff "$TMP/z2r" "$TMP/z2r.got"); $(diag)"
}

# r2z N WHAT [SLOW]: N random bytes from root to the zone's reader, slow
# (512 bytes every 2 ms) with SLOW.
r2z() {
	MOVED=$((MOVED + $1))
	head -c "$1" /dev/urandom >"$TMP/r2z"
	if [ -n "$3" ]; then
		bg zw "$IO" read "$HVC" "$1" 1024 2000 30 >"$TMP/r2z.got" 2>"$TMP/r2z.err"
	else
		bg zw "$IO" read "$HVC" "$1" 65536 0 30 >"$TMP/r2z.got" 2>"$TMP/r2z.err"
	fi
	R=$BG_PID
	sleep 0.3
	timed ${CON_WAIT:-600} rr sh -c "cat $TMP/r2z >$TTY"
	wrc=$?
	wait_for 60 exited "$R"
	note "writer $wrc in ${TIMED_MS} ms; reader: $(cat "$TMP/r2z.err")"
	[ "$wrc" = 0 ] && [ "$(sums "$TMP/r2z")" = "$(sums "$TMP/r2z.got")" ] &&
		ok "root to zone: $2, same checksum" ||
		nok "root to zone: $2" "writer $wrc; $(con_diff "$TMP/r2z" "$TMP/r2z.got"); $(diag)"
}

MOVED=0
if [ "$ZW" = yes ]; then
	z2r $BYTES 65536 0 "$BYTES random bytes"
	# The ring (64 KiB) and the flip buffer fill: the zone is held back.
	z2r $SLOW 1024 2000 "$SLOW random bytes to a slow reader (1 KiB / 2 ms)"
else
	skip "zone to root: $BYTES random bytes" "$ZW_WHY"
	skip "zone to root: a slow reader" "$ZW_WHY"
fi
r2z $BYTES "$BYTES random bytes"
r2z $SLOW "$SLOW random bytes to a slow reader (1 KiB / 2 ms)" slow

# hvctl stats and list show the console: every byte moved is counted.
b=$("$HVCTL" stats "$CON_ID" --json | sed -n 's/.*"bytes":\([0-9]*\).*/\1/p')
[ "$b" = "$MOVED" ] && "$HVCTL" stats | grep -q "^$CON_ID  *console  *1 " &&
	ok "hvctl stats: the console, $MOVED bytes both ways" ||
	nok "hvctl stats counts the console's bytes" "bytes $b, moved $MOVED: $("$HVCTL" stats)"

tap_end

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-console chains no stock driver makes, from a hand-made driver
# (con_chain_helper) that owns the zone's side of the device through the
# loopback's raw register file, root's side through its tty: buffers of
# the wrong direction on either queue, buffers outside zone RAM or
# running 4 GiB past it, descriptor loops, indices past the ring, an
# avail index that jumps, malformed indirect tables, a chain larger than
# the output ring, and valid chains beside them. A valid chain comes back
# and its bytes reach the other side; a malformed one makes the device
# ask for a reset (counted as an error, hvctl stats) and nothing of it
# reaches root. The 160 KiB chain is taken, its last 64 KiB reach root,
# the rest is counted as dropped. At the end the device still serves
# the stock driver. TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/con_lib.sh"

ZONES=1
HELPER=${CON_CHAIN:-$(cd "$(dirname "$0")" && pwd)/con_chain_helper}
COMPACT=/proc/sys/vm/compact_unevictable_allowed
tap_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
"$HVCTL" add-console --zone 1 --mmio $CON_BASE --irq $CON_IRQ >"$LOG" 2>&1
CON_ID=$(sed -n '$p' "$LOG")
case $CON_ID in
''|*[!0-9]*) bail "hvctl add-console failed" ;;
esac
TTYN=$("$HVCTL" list --json | dev_json "$CON_ID" |
	sed -n 's/.*"tty":"\([^"]*\)".*/\1/p')
TTY=/dev/$TTYN
SYS=/sys/class/tty/$TTYN
[ -c "$TTY" ] && ok "a console (no driver of the zone binds: the helper is the driver)" ||
	bail "no tty for device $CON_ID"
# The helper's locked pages must stay where pagemap said.
if [ -w "$COMPACT" ]; then
	old_compact=$(cat "$COMPACT")
	echo 0 >"$COMPACT"
fi

errors() {
	"$HVCTL" stats "$CON_ID" --json |
		sed -n 's/.*"errors":\([0-9]*\).*/\1/p'
}

"$HELPER" list >"$TMP/cases" || bail "con_chain_helper list failed"
while IFS="	" read -r c what; do
	e0=$(errors) d0=$(cat "$SYS/dropped")
	if timed 60 "$HELPER" 1 $CON_BASE "$TTY" "$c"; then
		e1=$(errors) d1=$(cat "$SYS/dropped")
		case $c in
		*-ok|*-split)
			[ "$e1" = "$e0" ] && [ "$d1" = "$d0" ] &&
				ok "$c: $what" ||
				nok "$c: $what" "errors $e0 -> $e1, dropped $d0 -> $d1"
			;;
		tx-oversized)
			[ "$e1" = "$e0" ] && [ $((d1 - d0)) = $((163840 - 65536)) ] &&
				ok "$c: $what: taken, $((d1 - d0)) bytes counted as dropped" ||
				nok "$c: $what" "errors $e0 -> $e1, dropped $d0 -> $d1"
			;;
		*)
			[ "$e1" -gt "$e0" ] && [ "$d1" = "$d0" ] &&
				ok "$c: $what: needs reset, counted" ||
				nok "$c: $what: needs reset, counted" "errors $e0 -> $e1, dropped $d0 -> $d1"
			;;
		esac
	else
		nok "$c: $what" "con_chain_helper failed"
	fi
done <"$TMP/cases"
[ -n "$old_compact" ] && echo "$old_compact" >"$COMPACT"

# After all that, the stock driver binds and root's input reaches it.
echo "1 $CON_BASE 0x200 $CON_IRQ" >"$LB/probe" 2>>"$LOG"
V=$(lb_vdev 1 $CON_BASE)
HVC=
if [ -n "$V" ] && wait_for 20 con_bound && wait_for 10 con_find_hvc; then
	con_pin
	bg sh -c "exec 3<>$HVC; stty raw -echo <&3 && head -c 6 <&3 >$TMP/after.got"
	R=$BG_PID
	sleep 0.3
	printf 'after\n' >"$TMP/after"
	timed 20 sh -c "cat $TMP/after >$TTY"
	wait_for 10 exited "$R"
	[ "$(sums "$TMP/after")" = "$(sums "$TMP/after.got")" ] &&
		ok "then virtio_console binds and root's input reaches the zone" ||
		nok "then root's input reaches the zone's virtio_console" "got '$(cat "$TMP/after.got")'"
	echo "1 $CON_BASE" >"$LB/remove" 2>>"$LOG"
else
	nok "then virtio_console binds" "$(cat "$LB/devices")"
fi
tap_end

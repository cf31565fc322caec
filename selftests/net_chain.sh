#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-net frames no stock driver sends, from a hand-made driver
# (net_chain_helper) that owns the zone's side of the device through the
# loopback's raw register file: a header split over descriptors, a header
# shorter than 12 bytes, a chain without readable descriptors, the
# largest frame taken and one byte more, checksum and GSO offloads never
# negotiated, header flags no spec defines, a buffer outside zone RAM.
# Each malformed chain comes back to the driver with an error counted
# (hvctl stats) and never reaches the tap; the valid ones reach it; a
# buffer outside zone RAM makes the device ask for a reset. TAP output;
# busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

ZONES=1
HELPER=${NET_CHAIN:-$(cd "$(dirname "$0")" && pwd)/net_chain_helper}
COMPACT=/proc/sys/vm/compact_unevictable_allowed
BASE=0x1000000000
net_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
check "a persistent tap0, up" sh -c "tunctl -t tap0 && ip link set tap0 up"
NET_TAPS=tap0
check "a virtio-net device on tap0" net_add tap0 1 $BASE 40 || bail "no device"
# The helper's locked pages must stay where pagemap said.
if [ -w "$COMPACT" ]; then
	old_compact=$(cat "$COMPACT")
	echo 0 >"$COMPACT"
fi

errors() {
	"$HVCTL" stats "$NET_ID" --json |
		sed -n 's/.*"errors":\([0-9]*\).*/\1/p'
}

"$HELPER" list >"$TMP/cases" || bail "net_chain_helper list failed"
while IFS="	" read -r c what; do
	p0=$(if_stat - tap0 rx_packets) e0=$(errors)
	if "$HELPER" 1 $BASE "$c" >"$LOG" 2>&1; then
		p1=$(if_stat - tap0 rx_packets) e1=$(errors)
		case $c in
		ok|split-header|max-frame)
			[ $((p1 - p0)) = 1 ] && [ "$e1" = "$e0" ] &&
				ok "$c: $what" ||
				nok "$c: $what" "tap0 got $((p1 - p0)) frames, errors $e0 -> $e1"
			;;
		*)
			[ "$p1" = "$p0" ] && [ "$e1" -gt "$e0" ] &&
				ok "$c: $what: refused, counted" ||
				nok "$c: $what: refused, counted" "tap0 got $((p1 - p0)) frames, errors $e0 -> $e1"
			;;
		esac
	else
		nok "$c: $what" "net_chain_helper failed"
	fi
done <"$TMP/cases"

[ -n "$old_compact" ] && echo "$old_compact" >"$COMPACT"
tap_end

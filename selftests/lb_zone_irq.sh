#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The hypervisor drops an injection of a zone interrupt that is being
# handled (from the zone's acknowledge to its EOI) and merges one that is
# still pending; the loopback does the same (devices: irqs_dropped,
# irqs_merged). A device that pushes its interrupt only once until the
# zone's InterruptACK loses the push it makes from inside the ACK, or
# while the handler still runs, and then never pushes again: the disk
# stalls. The backend must push again until the zone acknowledges.
#
# Random writes from four processes at once on one disk, so that requests
# complete while the zone handles the interrupt of earlier ones, then the
# data read back. Every request must complete (a stall is reported after
# a generous limit, the disk left in place). Interrupts the loopback
# dropped show that the window was hit (without one the last case is
# skipped, not passed). TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES=1
MIB=32
tap_begin

stat_of() { sed -n "s/^$1 //p" "$LB/stats"; }

mk_brd 1 $MIB || bail "modprobe brd failed"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
setup_disk A 1 0x1000000000 40 /dev/ram0 || bail "no disk"

d0=$(stat_of irqs_dropped)
if timed 180 "$BLKIO" rand "$A" --off 0 --len ${MIB}M --jobs 4 --count 2500 \
	--min 512 --max 16K --direct --seed 11 --shadow "$TMP/shadow"; then
	ok "4 writers, 10000 requests: every one completed"
	check "$A holds what was written" \
		timed 120 "$BLKIO" cmp "$A" 0 "$TMP/shadow" 0 ${MIB}M --direct
	check "nothing is left in flight" idle "$A"
else
	nok "4 writers, 10000 requests: every one completed" \
		"stalled (in flight: $(inflight "$A"))"
fi
dropped=$(($(stat_of irqs_dropped) - d0))
note "interrupts for $A_V: $(lb_field "$A_V" interrupts), merged while pending $(lb_field "$A_V" irqs_merged), dropped while handled $dropped"
if [ "$dropped" -gt 0 ]; then
	ok "injections were dropped while the zone handled the interrupt"
else
	skip "injections were dropped while the zone handled the interrupt" \
		"the window was never hit"
fi
lb_diag
tap_end

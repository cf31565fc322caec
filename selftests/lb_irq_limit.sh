#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The hypervisor keeps at most 7 distinct pending interrupts per zone (its
# first CPU) and panics on the 8th; the loopback warns, counts it
# (stats: irqs_overflow) and drops it. The backend must not let that
# happen: it refuses an 8th device with an interrupt in one zone.
#
# Eight disks are asked for in one zone and every one that is accepted
# is probed. With the zone's interrupts masked (its CPU busy), each disk
# reads one block, so that every device's interrupt is pending at once;
# then the zone takes them. No interrupt may overflow and every read must
# complete. TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES=1
tap_begin

stat_of() { sed -n "s/^$1 //p" "$LB/stats"; }
zone_pending() { sed -n "s/^zone=1 .* pending=\([0-9]*\).*/\1/p" "$LB/zone_irq"; }

mk_brd 8 4 || bail "modprobe brd failed"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"

VDS=
n=0
for i in 0 1 2 3 4 5 6 7; do
	base=$(printf '0x%x' $((0x1000000000 + i * 0x1000)))
	if blk_add /dev/ram$i 1 "$base" $((40 + i)); then
		if lb_probe 1 "$base" $((40 + i)); then
			VDS="$VDS $LB_VD"
			n=$((n + 1))
			continue
		fi
		note "device $((i + 1)) added but its disk did not appear: $(tail -n 1 "$LOG")"
	else
		note "device $((i + 1)) refused: $(tail -n 1 "$LOG")"
	fi
done
note "$n disks in zone 1:$VDS"
check "at least 7 disks in one zone" test "$n" -ge 7 || bail "too few disks"

all_pending() { [ "$(zone_pending)" = "$n" ] || [ "$(stat_of irqs_overflow)" != 0 ]; }
check "zone 1's interrupts masked" sh -c "echo '1 mask' >$LB/zone_irq"
pids=
for d in $VDS; do
	dd if="$d" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null &
	pids="$pids $!"
done
check "all $n interrupts pending at once ($LB/zone_irq)" wait_for 30 all_pending
cat "$LB/zone_irq" >"$LOG"
note "$(cat "$LB/zone_irq")"
check "zone 1's interrupts unmasked" sh -c "echo '1 unmask' >$LB/zone_irq"

all_exited() {
	for p in $pids; do
		exited "$p" || return 1
	done
}
check "no 8th distinct pending interrupt in the zone (irqs_overflow 0)" \
	test "$(stat_of irqs_overflow)" = 0
if wait_for 60 all_exited; then
	bad=0
	for p in $pids; do
		wait "$p" || bad=$((bad + 1))
	done
	check "every read completed without error" test "$bad" = 0
else
	nok "every read completed without error" "reads still waiting"
fi
lb_diag
tap_end

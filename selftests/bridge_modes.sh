#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The ways root looks at the request ring (bridge.c), each with a disk that
# must keep its data, and the per-zone device limit:
#  - irq_budget=1: the hard handler takes one request per wake-up and
#    leaves the rest to the interrupt's thread (budget_hit > 0);
#  - poll_us: after a wake-up a thread polls with wake-ups off (polled > 0,
#    need_wakeup back to 1 once idle);
#  - CPU 0, which takes the hypervisor's wake-ups, cannot go offline
#    (where the machine can offline it at all), CPU 1 can;
#  - wakeup=poll: no interrupt is requested at all, the hypervisor is asked
#    for no wake-up (need_wakeup 0), the disk still works (wakeups 0), and
#    CPU 0 may go offline;
#  - a zone gets at most zone_max_devices devices: the 8th is refused with
#    ENOSPC and hvctl names the limit; with zone_max_devices=8 it is taken.
# Each mode reloads hvisor_vhost.ko with its parameter. TAP; busybox sh.

# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES=1
tap_begin
BR=/sys/kernel/debug/hvisor_vhost/bridge
bstat() { sed -n "s/^$1 //p" "$BR"; }

mk_loop BK modes 16 || bail "no loop device"

# reload PARAMS...: hvisor_vhost.ko with the rig's parameters and these.
reload() {
	timed 60 rmmod hvisor_vhost_loopback 2>/dev/null
	rmmod hvisor_vhost >"$LOG" 2>&1 || return 1
	# shellcheck disable=SC2086
	insmod "$HVV_MODULE" $HVV_MODULE_PARAMS "$@" >>"$LOG" 2>&1
}

# disk_io WHAT: a zone with the disk, 400 random O_DIRECT writes through
# it found on the backing device, then the zone taken down again.
disk_io() {
	check "$1: the loopback zone and zone 1" sh -c "true" &&
		lb_setup && zone_add 1 || { nok "$1: zone 1"; return 1; }
	setup_disk VD 1 0x1000000000 40 "$BK" || return 1
	check "$1: 400 random O_DIRECT writes through $VD" \
		"$BLKIO" rand "$VD" --off 0 --len 8M --count 400 --direct --seed 7
	check "$1: ... are on the backing device" \
		"$BLKIO" cmp "$VD" 0 "$BK" 0 8388608 --direct
	cp "$BR" "$TMP/bridge.$1"
	lb_remove_all
	"$HVCTL" del "$VD_ID" >/dev/null 2>&1
	"$HVCTL" zone del 1 >/dev/null 2>&1
}

# 1. The hard handler's budget.
check "reload with irq_budget=1" reload irq_budget=1 || bail "no module"
disk_io budget
[ "$(bstat budget_hit)" -gt 0 ] &&
	ok "irq_budget=1: hard handlers stopped at their budget" ||
	nok "irq_budget=1: hard handlers stopped at their budget" \
		"$(tr '\n' ' ' <"$BR")"
note "requests the interrupt thread took after the hard handler: $(bstat thread)"

# 2. Polling after each wake-up.
check "reload with poll_us=300" reload poll_us=300 || bail "no module"
disk_io poll_us
sleep 1
[ "$(bstat polled)" -gt 0 ] && [ "$(bstat need_wakeup)" = 1 ] &&
	ok "poll_us: requests were polled, wake-ups back on when idle" ||
	nok "poll_us: requests were polled, wake-ups back on when idle" \
		"$(tr '\n' ' ' <"$BR")"

# CPU 0 takes the wake-ups: it may not go offline while they are needed.
CPU0=/sys/devices/system/cpu/cpu0/online
if [ -w $CPU0 ]; then
	check_fails "CPU 0 cannot go offline (it takes the wake-ups)" sh -c "echo 0 >$CPU0"
	check "... it is still online, and the module says why" sh -c \
		"grep -qx 1 $CPU0 && dmesg | grep -q 'CPU 0 takes the hypervisor.s wake-ups'"
	check "CPU 1 can go offline and come back" sh -c \
		"echo 0 >/sys/devices/system/cpu/cpu1/online && echo 1 >/sys/devices/system/cpu/cpu1/online"
else
	skip "CPU 0 cannot go offline (it takes the wake-ups)" "CPU 0 cannot be offlined on this machine"
fi

# 3. No wake-up interrupt at all.
check "reload with wakeup=poll" reload wakeup=poll || bail "no module"
if [ -w $CPU0 ]; then
	check "wakeup=poll: CPU 0 can go offline and come back" sh -c \
		"echo 0 >$CPU0 && echo 1 >$CPU0"
fi
grep -q hvisor_vhost /proc/interrupts &&
	nok "wakeup=poll: no interrupt requested" "$(grep hvisor_vhost /proc/interrupts)" ||
	ok "wakeup=poll: no interrupt requested"
[ "$(bstat need_wakeup)" = 0 ] && ok "wakeup=poll: need_wakeup is 0" ||
	nok "wakeup=poll: need_wakeup is 0" "$(tr '\n' ' ' <"$BR")"
disk_io poll
[ "$(bstat wakeups)" = 0 ] && [ "$(bstat polled)" -gt 0 ] &&
	ok "wakeup=poll: every request was polled, no wake-up taken" ||
	nok "wakeup=poll: every request was polled, no wake-up taken" \
		"$(tr '\n' ' ' <"$BR")"
check_fails "wakeup=bogus is refused" reload wakeup=bogus
check "back to the defaults" sh -c "rmmod hvisor_vhost 2>/dev/null; insmod $HVV_MODULE $HVV_MODULE_PARAMS"

# 4. Devices per zone (network devices without a tap: nothing to back).
net_add() {
	"$HVCTL" add-net --zone "$1" --mmio "$2" --irq "$3" >"$LOG" 2>&1
}
zone_add 1 || bail "no zone"
n=0
for i in 0 1 2 3 4 5 6; do
	net_add 1 "0x10000${i}0000" $((40 + i)) && n=$((n + 1))
done
[ "$n" = 7 ] && ok "a zone takes 7 devices" || nok "a zone takes 7 devices" "only $n"
if net_add 1 0x1000070000 47; then
	nok "the 8th device of a zone is refused" "it was added"
else
	grep -q "at most 7 in one zone" "$LOG" &&
		ok "the 8th device of a zone is refused, hvctl names the limit" ||
		nok "the 8th device of a zone is refused, hvctl names the limit" "$(cat "$LOG")"
fi
"$HVCTL" version >"$LOG" 2>&1
grep -q "max devices per zone: 7" "$LOG" && ok "hvctl version: max devices per zone: 7" ||
	nok "hvctl version: max devices per zone: 7" "$(cat "$LOG")"
echo 8 >/sys/module/hvisor_vhost/parameters/zone_max_devices
check "with zone_max_devices=8 the 8th is taken" net_add 1 0x1000070000 47
echo 7 >/sys/module/hvisor_vhost/parameters/zone_max_devices
ZONES="1 2"
check "a second zone still takes devices" sh -c \
	"'$HVCTL' zone add 2 --identity-ram && '$HVCTL' add-net --zone 2 --mmio 0x1000000000 --irq 40"

tap_end

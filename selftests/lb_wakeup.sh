#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The hypervisor drops a wake-up while root's wake-up interrupt is pending
# or active (acknowledged, not yet EOIed), and the loopback does the same
# (stats: wakeups_dropped). A request pushed after the handler's last look
# at the ring and before its EOI then gets no wake-up at all: the backend
# must look at the ring again after the EOI.
#
# From every CPU in turn, one "vCPU" reads a register back to back (raw
# "R": the next access is pushed as soon as the answer is seen, so it lands
# while the handler that answered is finishing). Nothing else pushes, so
# a request left in the ring would wait for the access timeout: every
# access must be answered. The raises the loopback dropped show that the
# window was hit (without one the case is skipped, not passed). TAP
# output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

# Zone 60 has no device: its accesses are answered 0 by the handler.
ZONES=
N=${LB_WAKEUP_N:-20000}
tap_begin

stat_of() { sed -n "s/^$1 //p" "$LB/stats"; }

check "loopback zone module loads" lb_setup || bail "no loopback zone"
irq=$(awk -F: '/hvisor_vhost/ { gsub(/ /, "", $1); print $1; exit }' /proc/interrupts)
note "wake-up interrupt $irq, delivered to CPU $(cat "/proc/irq/$irq/effective_affinity_list" 2>/dev/null)"
check "the loopback drops wake-ups (kind bit 0 clear)" \
	test $(($(cat /sys/module/hvisor_vhost_loopback/parameters/kind) & 1)) = 0

d0=$(stat_of wakeups_dropped)
for cpu in $(seq 0 $(($(nproc) - 1))); do
	check "CPU $cpu: $N reads back to back, each one answered" \
		taskset -c "$cpu" sh -c "echo 'R 60 0x1000 4 $N' >$LB/raw"
done
check "no access timed out" test "$(stat_of timeouts)" = 0
check "the request ring is empty" test "$(stat_of req_front)" = "$(stat_of req_rear)"
dropped=$(($(stat_of wakeups_dropped) - d0))
note "wake-ups raised $(stat_of wakeups), dropped as pending or active $dropped"
if [ "$dropped" -gt 0 ]; then
	ok "wake-ups were dropped while the interrupt was pending or active"
else
	skip "wake-ups were dropped while the interrupt was pending or active" \
		"the window was never hit"
fi
lb_diag
tap_end

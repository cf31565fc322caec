#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Shared code of the console_*.sh selftests (busybox sh); not a test
# itself. Source it after lib.sh. con_setup makes zone 1, a console at
# CON_BASE with the stock virtio_console bound to it through the loopback
# zone, and sets:
#   CON_ID  the device id        TTY   root's /dev/hvvconN
#   TTYN    hvvconN              SYS   its sysfs directory
#   V       the virtio device    HVC   the zone's /dev/hvcN
# ZW=yes when the zone's output can be tested here (ZW_WHY says why not).

CON_BASE=0x1000000000
CON_IRQ=40
DRV=/sys/bus/virtio/drivers/virtio_console

con_bound() {
	[ "$(basename "$(readlink "/sys/bus/virtio/devices/$V/driver")")" = virtio_console ]
}

# hvc_console makes all its ttys at once: ours is the one that opens.
con_find_hvc() {
	for _h in /dev/hvc0 /dev/hvc1 /dev/hvc2 /dev/hvc3 /dev/hvc4 \
		/dev/hvc5 /dev/hvc6 /dev/hvc7; do
		stty -F "$_h" >/dev/null 2>&1 && { HVC=$_h; return 0; }
	done
	return 1
}

# The zone's driver spins with interrupts off until the device has used
# each output buffer (virtio_console's put_chars); the loopback zone is
# root's own kernel, so its writers and hvc's thread (khvcd) stay on CPU
# 1 and everything of root's side on CPU 0: the device's worker, the
# readers (zw/rr) and the unbound workqueues (the flip buffer's and the
# console's own works). A timer armed or a task woken on CPU 1 while it
# spins would wait for the spin to end, which waits for them. On a board
# the zone has CPUs of its own.
zw() { taskset -c 1 "$@"; }
rr() { taskset -c 0 "$@"; }
con_pin() {
	for _p in /proc/[0-9]*; do
		case $(cat "$_p/comm" 2>/dev/null) in
		khvcd) taskset -p -c 1 "${_p#/proc/}" >/dev/null ;;
		"hvv-con$CON_ID") taskset -p -c 0 "${_p#/proc/}" >/dev/null ;;
		esac
	done
	[ -n "$CON_NO_WQ_PIN" ] && return 0
	con_wq_pin
}

# con_wq_pin: the unbound workqueues on CPU 0 until the test exits (the
# mask it found is put back then, for the tests after it).
CON_WQ=/sys/devices/virtual/workqueue/cpumask
con_wq_pin() {
	if [ -z "$CON_WQ_OLD" ]; then
		CON_WQ_OLD=$(cat $CON_WQ) || return 1
		trap 'echo "$CON_WQ_OLD" >$CON_WQ; lib_cleanup' EXIT
	fi
	echo 1 >$CON_WQ
}

con_setup() {
	"$HVCTL" add-console --zone 1 --mmio $CON_BASE --irq $CON_IRQ \
		--cols 80 --rows 25 >"$LOG" 2>&1
	CON_ID=$(sed -n '$p' "$LOG")
	case $CON_ID in
	''|*[!0-9]*) return 1 ;;
	esac
	TTYN=$("$HVCTL" list --json | dev_json "$CON_ID" |
		sed -n 's/.*"tty":"\([^"]*\)".*/\1/p')
	TTY=/dev/$TTYN
	SYS=/sys/class/tty/$TTYN
	[ -c "$TTY" ] || return 1
	echo "1 $CON_BASE 0x200 $CON_IRQ" >"$LB/probe" 2>>"$LOG"
	V=$(lb_vdev 1 $CON_BASE)
	HVC=
	[ -n "$V" ] && wait_for 20 con_bound && wait_for 10 con_find_hvc ||
		return 1
	con_pin
}

ZW=yes ZW_WHY=
# Without a wake-up interrupt from the device tree (x86_64) the loopback
# raises the bridge's wake-up from an irq_work on the CPU that made the
# access, the one spinning with interrupts off: the zone cannot write.
if [ "$(uname -m)" != aarch64 ]; then
	ZW=no
	ZW_WHY="loopback on $(uname -m): the wake-up is an irq_work on the zone writer's CPU, which virtio_console's put_chars spins on with interrupts off"
fi

# sums FILE: its checksum.
sums() { md5sum <"$1" | cut -d' ' -f1; }

# con_diff A B: how B differs from A, for a diagnostic.
con_diff() {
	echo "got $(wc -c <"$2") of $(wc -c <"$1") bytes; first difference: $(cmp "$1" "$2" 2>&1 | head -n 1)"
}

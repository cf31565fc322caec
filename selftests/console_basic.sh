#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-console through the loopback zone and the stock virtio_console
# driver: the zone's /dev/hvcN against root's /dev/hvvconM. Random binary
# data both ways, compared by checksum (both ends raw); the window size
# set on root's tty reaches the zone's; zone output with no reader is
# kept (the last 64 KiB), the rest dropped and counted, and shown to the
# next reader; the driver rebinds and the device goes with the tty open,
# without a crash; a shell on the zone's console runs what root types.
# TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/con_lib.sh"

ZONES=1
BASE=0x1000000000
IRQ=40
BYTES=${CON_BYTES:-40000}
DRV=/sys/bus/virtio/drivers/virtio_console
tap_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"

# The device and its tty.
"$HVCTL" add-console --zone 1 --mmio $BASE --irq $IRQ --cols 80 \
	--rows 25 >"$LOG" 2>&1
CON_ID=$(sed -n '$p' "$LOG")
case $CON_ID in
''|*[!0-9]*) bail "hvctl add-console failed" ;;
esac
ok "hvctl add-console: device $CON_ID"
J=$("$HVCTL" list --json | dev_json "$CON_ID")
TTYN=$(echo "$J" | sed -n 's/.*"tty":"\([^"]*\)".*/\1/p')
TTY=/dev/$TTYN
note "$J"
SYS=/sys/class/tty/$TTYN
[ -c "$TTY" ] && [ "$(cat "$SYS/zone")" = 1 ] &&
	[ "$(cat "$SYS/dev_id")" = "$CON_ID" ] &&
	ok "$TTY exists, sysfs says zone 1 device $CON_ID" ||
	nok "$TTY exists with sysfs zone and dev_id" "json: $J"
"$HVCTL" list | grep -q "console.*tty $TTY" && ok "hvctl list shows the console" ||
	nok "hvctl list shows the console" "$("$HVCTL" list)"

# The zone's driver.
echo "1 $BASE 0x200 $IRQ" >"$LB/probe" 2>>"$LOG"
V=$(lb_vdev 1 $BASE)
bound() { [ "$(basename "$(readlink "/sys/bus/virtio/devices/$V/driver")")" = virtio_console ]; }
# hvc_console makes all its ttys at once: ours is the one that opens.
find_hvc() {
	for _h in /dev/hvc0 /dev/hvc1 /dev/hvc2 /dev/hvc3 /dev/hvc4 \
		/dev/hvc5 /dev/hvc6 /dev/hvc7; do
		stty -F "$_h" >/dev/null 2>&1 && { HVC=$_h; return 0; }
	done
	return 1
}
HVC=
[ -n "$V" ] && wait_for 20 bound && wait_for 10 find_hvc &&
	ok "virtio_console bound to $V, the zone's console is $HVC" ||
	bail "virtio_console did not take the device ($V, $(cat "$LB/devices"))"

# Keep both ttys open: root's side then counts as read, and the zone's
# exists for the window size to reach. (hvc resets its settings on each
# first open: the zone's side is set raw by each user.)
bg sleep 100000 <"$HVC"
HOLD_Z=$BG_PID
bg sleep 100000 <"$TTY"
HOLD_R=$BG_PID
sleep 0.2
check "both ends raw (stty)" sh -c "stty -F $HVC raw -echo && stty -F $TTY raw -echo"

# sums FILE: its checksum.
sums() { md5sum <"$1" | cut -d' ' -f1; }

# zw CMD...: run CMD, a writer to the zone's console, on CPU 1. The
# zone's driver waits for each output buffer with interrupts off
# (virtio_console's put_chars spins until the device has used it). On a
# board the zone has CPUs of its own; the loopback zone is root's kernel,
# so the writers (and hvc's thread, khvcd) stay on CPU 1 and root's
# side on CPU 0: the device's worker (where the bridge's wake-ups arrive
# too), the readers (rr) and the unbound workqueues (the flip buffer's
# work, the console's flush work and its retry timer). A reader or work
# left to wake on CPU 1 waits there for the spin to end, which waits for
# it once the output ring and flip buffer are full: the transfer stalls.
zw() { taskset -c 1 "$@"; }
rr() { taskset -c 0 "$@"; }
# Without a wake-up interrupt from the device tree (x86_64) the loopback
# raises the bridge's wake-up from an irq_work on the CPU that made the
# access, the one spinning with interrupts off: the zone cannot write.
ZW=yes ZW_WHY=
if [ "$(uname -m)" != aarch64 ]; then
	ZW=no
	ZW_WHY="loopback on $(uname -m): the wake-up is an irq_work on the zone writer's CPU, which virtio_console's put_chars spins on with interrupts off"
fi
pin() {
	for _p in /proc/[0-9]*; do
		case $(cat "$_p/comm" 2>/dev/null) in
		khvcd) taskset -p -c 1 "${_p#/proc/}" >/dev/null ;;
		"hvv-con$CON_ID") taskset -p -c 0 "${_p#/proc/}" >/dev/null ;;
		esac
	done
	con_wq_pin
}
pin

head -c $BYTES /dev/urandom >"$TMP/z2r"
head -c $BYTES /dev/urandom >"$TMP/r2z"
if [ "$ZW" = yes ]; then
	bg rr sh -c "head -c $BYTES $TTY >$TMP/z2r.got"
	R=$BG_PID
	sleep 0.2
	timed 120 zw sh -c "exec 3<>$HVC; stty raw -echo <&3 && cat $TMP/z2r >&3"
	wait_for 60 exited $R
	[ "$(sums "$TMP/z2r")" = "$(sums "$TMP/z2r.got")" ] &&
		ok "zone to root: $BYTES random bytes, same checksum" ||
		nok "zone to root: $BYTES bytes, same checksum" "got $(wc -c <"$TMP/z2r.got") bytes; $(cmp -l "$TMP/z2r" "$TMP/z2r.got" | wc -l) differ: $(cmp -l "$TMP/z2r" "$TMP/z2r.got" | head -5 | tr '\n' ' '); root: $(stty -F "$TTY" -a | tr '\n' ' ')"
else
	skip "zone to root: $BYTES random bytes" "$ZW_WHY"
fi

bg sh -c "exec 3<>$HVC; stty raw -echo <&3 && head -c $BYTES <&3 >$TMP/r2z.got"
R=$BG_PID
sleep 0.2
timed 120 sh -c "cat $TMP/r2z >$TTY"
wait_for 60 exited $R
[ "$(sums "$TMP/r2z")" = "$(sums "$TMP/r2z.got")" ] &&
	ok "root to zone: $BYTES random bytes, same checksum" ||
	nok "root to zone: $BYTES bytes, same checksum" "got $(wc -c <"$TMP/r2z.got") bytes"

# Window size.
stty -F "$TTY" cols 132 rows 43
size_is() { [ "$(stty -F "$HVC" size)" = "$1" ]; }
wait_for 10 size_is "43 132" &&
	ok "stty cols 132 rows 43 on $TTY: the zone's $HVC has size 43 132" ||
	nok "window size reaches the zone" "zone sees '$(stty -F "$HVC" size)'"
"$HVCTL" list --json | dev_json "$CON_ID" | grep -q '"cols":132,"rows":43' &&
	ok "hvctl list shows the size" || nok "hvctl list shows the size"

# A shell on the zone's console, driven from root's tty: what is typed on
# root's side runs in the zone, its output comes back.
if [ "$ZW" = yes ]; then
	# taskset itself, not zw/rr: a function would run in a subshell,
	# and its pid is not the one to kill.
	bg taskset -c 1 setsid sh -c "exec 0<>$HVC 1>&0 2>&0; stty raw -echo; exec sh -i"
	SH=$BG_PID
	bg taskset -c 0 sh -c "exec cat $TTY >$TMP/sh.out"
	SHR=$BG_PID
	sleep 0.5
	# shellcheck disable=SC2016 # the zone's shell expands it
	printf 'echo MARK$((6 * 7)) $(uname -m)\n' >"$TTY"
	sh_said() { grep -q "MARK42 $(uname -m)" "$TMP/sh.out"; }
	wait_for 20 sh_said &&
		ok "a shell on the zone's $HVC runs what root types on $TTY" ||
		nok "a shell on the zone's console runs what root types" "root read: $(od -c "$TMP/sh.out" | head -n 5)"
	printf 'exit\n' >"$TTY"
	wait_for 10 exited "$SH" || kill "$SH" 2>/dev/null
	kill "$SHR" 2>/dev/null
	wait "$SHR" 2>/dev/null
else
	skip "a shell on the zone's console, driven from root's tty" "$ZW_WHY"
fi

if [ "$ZW" = yes ]; then
	# No reader: the last 64 KiB are kept, the rest counted as dropped.
	dropped0=$(cat "$SYS/dropped")
	kill "$HOLD_R"
	wait "$HOLD_R" 2>/dev/null
	head -c 200000 /dev/urandom >"$TMP/nor"
	timed 30 zw sh -c "exec 3<>$HVC; stty raw -echo <&3 && cat $TMP/nor >&3" &&
		ok "with no reader the zone's 200000 bytes are taken at once" ||
		nok "with no reader the zone is not held up"
	d=$(($(cat "$SYS/dropped") - dropped0))
	[ "$d" = $((200000 - 65536)) ] && ok "$d bytes counted as dropped" ||
		nok "200000 - 65536 bytes counted as dropped" "dropped $d"
	tail -c 65536 "$TMP/nor" >"$TMP/nor.tail"
	bg rr sh -c "head -c 65536 $TTY >$TMP/nor.got"
	R=$BG_PID
	wait_for 20 exited $R
	[ "$(sums "$TMP/nor.tail")" = "$(sums "$TMP/nor.got")" ] &&
		ok "the next reader gets the last 65536 bytes" ||
		nok "the next reader gets the last 65536 bytes" "got $(wc -c <"$TMP/nor.got")"

	bg sleep 100000 <"$TTY"
	HOLD_R=$BG_PID
	dropped0=$(cat "$SYS/dropped")
else
	skip "zone output with no reader: bounded, counted, shown to the next reader" "$ZW_WHY"
fi


# hvctl console with no terminal: copies its input to the zone.
bg sh -c "exec 3<>$HVC; stty raw -echo <&3 && head -c 11 <&3 >$TMP/hc.got"
R=$BG_PID
sleep 0.3
printf 'hello zone\n' >"$TMP/hc.in"
timed 20 sh -c "'$HVCTL' console $CON_ID <$TMP/hc.in"
wait_for 10 exited $R
[ "$(cat "$TMP/hc.got" 2>/dev/null)" = "hello zone" ] &&
	ok "hvctl console $CON_ID: its input reaches the zone" ||
	nok "hvctl console: its input reaches the zone" "zone got '$(cat "$TMP/hc.got" 2>/dev/null)'"
check_fails "hvctl console of a device that does not exist fails" \
	"$HVCTL" console 999

# A driver rebind with root's tty open.
if timed 30 sh -c "echo $V >$DRV/unbind" && ! bound &&
	timed 30 sh -c "echo $V >$DRV/bind" && wait_for 10 bound; then
	ok "virtio_console unbound and bound again with root's tty open"
else
	nok "driver rebind with the tty open" "$(tail -n 5 "$LOG")"
fi
HVC=
wait_for 10 find_hvc && ok "the zone's console is back: $HVC" ||
	nok "the zone's console comes back after the rebind"
pin

# The device goes with root's tty open and read.
bg cat "$TTY"
CAT=$BG_PID
echo "1 $BASE" >"$LB/remove" 2>>"$LOG"
check "hvctl del $CON_ID with $TTY open" "$HVCTL" del "$CON_ID"
wait_for 10 exited $CAT && ok "root's reader of $TTY ended" ||
	nok "root's reader of $TTY ended"
[ ! -e "$SYS" ] && ok "$TTYN is gone" || nok "$TTYN is gone"
kill "$HOLD_R" 2>/dev/null

tap_end

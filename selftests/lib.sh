#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Shared code of the blk_*.sh selftests (busybox sh); not a test itself
# (run-selftests skips lib.sh). A test sources it:
#
#   . "$(dirname "$0")/lib.sh"
#   tap_begin
#   lb_setup && zone_add 1 && blk_add /dev/ram0 1 0x1000000000 40 && ...
#   check "what it proves" some command ...
#   tap_end
#
# TAP: result/check/ok/nok/skip print one numbered line each; tap_end
# prints the plan and exits 0 when nothing failed, 1 otherwise. On exit
# (whatever the cause) cleanup removes every loopback device, every device
# and zone in ZONES (the zone ids the test uses: set it before tap_begin),
# unloads the loopback module, detaches the loop devices made by mk_loop,
# unloads brd/null_blk if the test loaded them, and reloads hvisor_vhost.ko
# if the test unloaded it: the next test starts from a fresh module.
#
# Environment: HVCTL (default hvctl), BLKIO (default blkio_helper beside
# the test), LB_KO (the loopback module), HVV_MODULE and HVV_MODULE_PARAMS
# (from the rig: how hvisor_vhost.ko was loaded).

HVCTL=${HVCTL:-hvctl}
BLKIO=${BLKIO:-$(cd "$(dirname "$0")" && pwd)/blkio_helper}
LB=/sys/kernel/debug/hvisor_vhost_loopback
LB_KO=${LB_KO:-/modules/hvisor_vhost_loopback.ko}
# Loopback devices ("ZONE BASE" lines) whose disk can never be removed
# (requests that will never complete): cleanup leaves them, and the
# loopback module, alone rather than hang on them.
LB_WEDGED=/run/hvisor_vhost_selftests.wedged
HVV_MODULE=${HVV_MODULE:-/modules/hvisor_vhost.ko}
T_NAME=$(basename "$0" .sh)
TMP=${TMPDIR:-/tmp}/$T_NAME.$$
LOG=$TMP/log
ZONES=${ZONES:-1}
T_N=0
T_FAILED=0
LOOPS=
BG_PIDS=
MOUNTS=
NULLB=
LOADED_MODS=

# --- TAP ---------------------------------------------------------------------

# result WHY DESC: "ok" when WHY is empty; otherwise "not ok", WHY and the
# output of the last command ($LOG) as diagnostics.
result() {
	T_N=$((T_N + 1))
	if [ -z "$1" ]; then
		echo "ok $T_N - $2"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_N - $2"
		echo "# $1"
		[ -s "$LOG" ] && tail -n 30 "$LOG" | sed 's/^/#   | /'
	fi
	: >"$LOG"
}
ok() { result "" "$1"; }
nok() { result "${2:-failed}" "$1"; }
skip() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1 # SKIP $2"
}

# check DESC CMD...: one result, ok when CMD exits 0 (output in $LOG).
check() {
	_d=$1
	shift
	_t0=$(date +%s)
	"$@" >"$LOG" 2>&1
	_rc=$?
	_t=$(($(date +%s) - _t0))
	[ "$_t" -ge 3 ] && note "took ${_t}s: $*"
	if [ "$_rc" = 0 ]; then
		result "" "$_d"
	else
		result "'$*' exited $_rc" "$_d"
	fi
	return "$_rc"
}

# check_fails DESC CMD...: one result, ok when CMD fails.
check_fails() {
	_d=$1
	shift
	if "$@" >"$LOG" 2>&1; then
		result "'$*' succeeded, it should fail" "$_d"
		return 1
	fi
	[ -s "$LOG" ] && note "failed as it should: $(head -n 1 "$LOG")"
	result "" "$_d"
}

# note TEXT: a TAP comment.
note() { echo "# $*"; }

tap_begin() {
	mkdir -p "$TMP" || exit 1
	: >"$LOG"
	trap lib_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	echo "TAP version 13"
	note "$T_NAME on $(uname -r) ($(uname -m))"
	T_START=$(date +%s)
	DMESG0=$(dmesg | wc -l)
}

# The kernel messages since tap_begin.
new_dmesg() {
	dmesg | tail -n +$((DMESG0 + 1))
}

# check_dmesg: one result, ok when the kernel logged no BUG, WARNING,
# Oops, lockup, stall or hung task since tap_begin (what the rig fails a
# whole target for, shown here next to the test that caused it).
check_dmesg() {
	new_dmesg | grep -E -A 20 'BUG:|WARNING:|Oops|general protection|soft lockup|hard LOCKUP|self-detected stall|rcu: INFO|Kernel panic|blocked for more than' \
		>"$LOG" 2>&1
	if [ -s "$LOG" ]; then
		result "the kernel log has errors" "kernel log: no BUG/WARNING/Oops/lockup/hung task"
	else
		result "" "kernel log: no BUG/WARNING/Oops/lockup/hung task"
	fi
}

# bail WHY: stop the test here (a failed setup step makes the rest moot).
bail() {
	echo "Bail out! $*"
	lb_diag
	tap_end
}

# lb_diag: the loopback zone's devices and counters, as TAP comments.
lb_diag() {
	[ -r "$LB/devices" ] || return 0
	sed 's/^/# devices: /' "$LB/devices"
	tr '\n' ' ' <"$LB/stats" | sed 's/^/# stats: /'
	echo
	# The backend's wake-up interrupt: how often it ran, if it was
	# disabled as spurious.
	_irq=$(awk -F: '/hvisor_vhost/ { gsub(/ /, "", $1); print $1; exit }' /proc/interrupts)
	[ -n "$_irq" ] || return 0
	grep "^ *$_irq:" /proc/interrupts | tr -s ' ' | sed 's/^/# wake-up irq: /'
	tr '\n' ' ' <"/proc/irq/$_irq/spurious" 2>/dev/null | sed 's/^/# spurious: /'
	echo
}

tap_end() {
	check_dmesg
	note "$T_NAME: $T_N results, $T_FAILED failed, $(($(date +%s) - T_START))s"
	echo "1..$T_N"
	[ "$T_FAILED" = 0 ] && exit 0
	exit 1
}

# --- small tools ---------------------------------------------------------------

# Data at rest: what the zone wrote is on the device, nothing from caches.
drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# dev_name /dev/vda -> vda
dev_name() { basename "$1"; }

# blk_stat DEV FIELD: field FIELD (1-based) of /sys/block/DEV/stat
# (1 reads, 5 writes, 12 discards, 16 flushes: requests completed).
blk_stat() {
	awk -v f="$2" '{ print $f }' "/sys/block/$(dev_name "$1")/stat"
}

# inflight DEV: "READS WRITES" the driver of DEV has in flight.
inflight() {
	awk '{ print $1, $2 }' "/sys/block/$(dev_name "$1")/inflight"
}

# queue_attr DEV ATTR: /sys/block/DEV/queue/ATTR.
queue_attr() {
	cat "/sys/block/$(dev_name "$1")/queue/$2"
}

# zone_disks: the vd* disks there are.
zone_disks() {
	for _s in /sys/block/vd*; do
		[ -e "$_s" ] && echo "${_s##*/}"
	done
}

# fill DEV BYTES: random bytes over the first BYTES of DEV (O_DIRECT; a
# multiple of 512), faster than /dev/urandom.
fill() {
	"$BLKIO" rand "$1" --off 0 --len "$2" --count 1 --min "$2" --max "$2" \
		--direct --seed "$$" >/dev/null
}

# size_bytes DEV: capacity in bytes.
size_bytes() {
	echo $(($(cat "/sys/block/$(dev_name "$1")/size") * 512))
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	_n=$(($1 * 10))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# timed SECONDS CMD...: run CMD (output to $LOG) but wait for it at most
# SECONDS; then return 124 and leave it running (it may be stuck in the
# kernel, where no signal reaches it). Otherwise CMD's exit status.
# TIMED_MS: how long it ran, in ms.
timed() {
	_tm_s=$1
	shift
	_tm_t0=$(uptime_ms)
	"$@" >>"$LOG" 2>&1 &
	_tm_p=$!
	_tm_n=$((_tm_s * 20))
	while kill -0 "$_tm_p" 2>/dev/null; do
		if [ "$_tm_n" -le 0 ]; then
			echo "'$*' still running after ${_tm_s}s" >>"$LOG"
			TIMED_MS=$(($(uptime_ms) - _tm_t0))
			return 124
		fi
		sleep 0.05
		_tm_n=$((_tm_n - 1))
	done
	wait "$_tm_p"
	_tm_rc=$?
	# shellcheck disable=SC2034 # for the caller
	TIMED_MS=$(($(uptime_ms) - _tm_t0))
	return $_tm_rc
}

# uptime_ms: milliseconds since boot.
uptime_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# bg CMD...: run CMD in the background, remember its pid in BG_PID (killed
# at cleanup if still running).
bg() {
	"$@" &
	BG_PID=$!
	BG_PIDS="$BG_PIDS $BG_PID"
}

# proc_state PID: the one-letter state of PID, or "-" if it is gone.
proc_state() {
	sed -n 's/^.*) \(.\) .*$/\1/p' "/proc/$1/stat" 2>/dev/null || echo -
}

# exited PID: PID is gone or a zombie.
exited() {
	case $(proc_state "$1") in
	Z|-) return 0 ;;
	esac
	return 1
}

# --- backing devices -----------------------------------------------------------

# mk_loop VAR NAME MIB: a loop device over a MIB MiB file in tmpfs
# ($TMP/NAME.img, sparse); its path goes into VAR.
mk_loop() {
	_img=$TMP/$2.img
	rm -f "$_img"
	truncate -s "$3M" "$_img" || return 1
	_l=$(losetup -f) && losetup "$_l" "$_img" || return 1
	LOOPS="$LOOPS $_l"
	eval "$1=\$_l"
}

# mk_brd COUNT MIB: /dev/ram0..COUNT-1, MIB MiB each (brd reloaded).
mk_brd() {
	rmmod brd 2>/dev/null
	modprobe brd rd_nr="$1" rd_size=$(($2 * 1024)) || return 1
	LOADED_MODS="$LOADED_MODS brd"
	wait_for 5 test -b "/dev/ram$(($1 - 1))"
}

# mk_nullb VAR NAME MIB [ATTR=VALUE...]: a memory-backed null_blk device
# made through configfs (e.g. completion_nsec=200000000 irqmode=2 for a
# slow disk); its path goes into VAR.
mk_nullb() {
	_v=$1 _name=$2 _mib=$3
	shift 3
	if [ ! -d /sys/kernel/config/nullb ]; then
		modprobe null_blk nr_devices=0 || return 1
		LOADED_MODS="$LOADED_MODS null_blk"
	fi
	_d=/sys/kernel/config/nullb/$_name
	mkdir "$_d" || return 1
	NULLB="$NULLB $_d"
	echo "$_mib" >"$_d/size" && echo 1 >"$_d/memory_backed" || return 1
	for _a in "$@"; do
		echo "${_a#*=}" >"$_d/${_a%%=*}" || return 1
	done
	echo 1 >"$_d/power" || return 1
	# Named after the configfs directory (6.1 on), or nullb<index>.
	_nb=/dev/$_name
	[ -d "/sys/block/$_name" ] || _nb=/dev/nullb$(cat "$_d/index")
	wait_for 5 test -b "$_nb" || return 1
	eval "$_v=\$_nb"
}

# --- the backend (hvctl) -------------------------------------------------------

zone_add() {
	"$HVCTL" zone add "$1" --identity-ram >"$LOG" 2>&1
}

# blk_add BACKING ZONE MMIO IRQ [hvctl options...]: the device id goes
# into BLK_ID.
blk_add() {
	_b=$1 _z=$2 _m=$3 _i=$4
	shift 4
	BLK_ID=
	"$HVCTL" add-blk "$_b" --zone "$_z" --mmio "$_m" --irq "$_i" "$@" \
		>"$LOG" 2>&1 || return 1
	BLK_ID=$(sed -n '$p' "$LOG")
	case $BLK_ID in
	''|*[!0-9]*) return 1 ;;
	esac
}

# dev_json ID: from `hvctl list --json` on stdin, the object of device ID
# (up to the next device).
dev_json() {
	awk '{ gsub(/\{"id":/, "\n{\"id\":"); print }' |
		grep "^{\"id\":$1,\"type\""
}

# dev_ids ZONE: the ids of the backend's devices in ZONE.
dev_ids() {
	"$HVCTL" list --json 2>/dev/null | tr '{' '\n' |
		sed -n "s/^\"id\":\([0-9]*\),\"type\".*\"zone\":$1,.*/\1/p"
}

# --- the loopback zone ---------------------------------------------------------

lb_setup() {
	grep -q ' /sys/kernel/debug debugfs ' /proc/mounts ||
		mount -t debugfs none /sys/kernel/debug 2>/dev/null
	if [ ! -d /sys/module/hvisor_vhost_loopback ]; then
		insmod "$LB_KO" >"$LOG" 2>&1 || return 1
	fi
	if grep -qx stuck "$LB_WEDGED" 2>/dev/null; then
		echo "# the loopback zone is stuck since an earlier test (a removal hangs)" >>"$LOG"
		return 1
	fi
	[ -s "$LB_WEDGED" ] &&
		note "left by an earlier test, zone disks that cannot be removed: $(tr '\n' ' ' <"$LB_WEDGED")"
	test -w "$LB/probe"
}

# lb_field VIRTIO FIELD: a field (accesses, notifies, timeouts,
# interrupts...) of VIRTIO's line in the loopback's devices file.
lb_field() {
	sed -n "s/^$1 .* $2=\([^ ]*\).*/\1/p" "$LB/devices"
}

# lb_vdev ZONE BASE: the virtio device (virtioN) the loopback made for
# the window at BASE of ZONE (BASE as the devices file prints it: 0x%llx).
lb_vdev() {
	awk -v z="zone=$1" -v b="base=$2" '$2 == z && $3 == b { print $1 }' \
		"$LB/devices"
}

# vd_of VIRTIO: /dev/vdX of a virtio device bound to virtio_blk, found
# through /sys/block/vd*/device -> VIRTIO; fails if there is none (yet).
vd_of() {
	for _s in /sys/block/vd*; do
		[ -e "$_s/device" ] || continue
		[ "$(basename "$(readlink "$_s/device")")" = "$1" ] || continue
		[ -b "/dev/${_s##*/}" ] || return 1
		echo "/dev/${_s##*/}"
		return 0
	done
	return 1
}

# wait_vd VIRTIO [SECONDS]: wait for VIRTIO's disk; its path goes into
# LB_VD.
wait_vd() {
	LB_VD=
	_n=$((${2:-20} * 10))
	while [ "$_n" -gt 0 ]; do
		LB_VD=$(vd_of "$1") && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# lb_probe ZONE BASE IRQ: make the zone probe the device at BASE and wait
# for its disk. Sets LB_VIRTIO (virtioN) and LB_VD (/dev/vdX).
lb_probe() {
	LB_VIRTIO='' LB_VD=
	echo "$1 $2 0x200 $3" >"$LB/probe" 2>>"$LOG" || return 1
	LB_VIRTIO=$(lb_vdev "$1" "$2")
	[ -n "$LB_VIRTIO" ] ||
		{ echo "no $1/$2 in $LB/devices" >>"$LOG"; return 1; }
	wait_vd "$LB_VIRTIO" 20 ||
		{ echo "no disk for $LB_VIRTIO" >>"$LOG"; return 1; }
}

# setup_disk VAR ZONE BASE IRQ BACKING [hvctl options...]: add-blk and probe
# in one; VAR gets /dev/vdX, VAR_V the virtio device, VAR_ID the backend's
# device id. One TAP result.
setup_disk() {
	_var=$1 _z=$2 _base=$3 _irq=$4 _bk=$5
	shift 5
	if blk_add "$_bk" "$_z" "$_base" "$_irq" "$@" &&
		lb_probe "$_z" "$_base" "$_irq"; then
		eval "${_var}=\$LB_VD ${_var}_V=\$LB_VIRTIO ${_var}_ID=\$BLK_ID"
		result "" "zone $_z: $_bk as $LB_VD ($LB_VIRTIO, device $BLK_ID) at $_base irq $_irq"
		return 0
	fi
	result "add-blk or probe failed" "zone $_z: $_bk at $_base irq $_irq appears as /dev/vdX"
	return 1
}

# --- zone RAM that root does not manage ----------------------------------------

# zram_begin: the range the rig kept from root at boot (HVV_ZONE_RAM, see
# tools/vm-run --zone-ram) into ZRAM_HPA and ZRAM_SIZE; without one, a
# skip result, the plan and exit 4 (kselftest's skip).
zram_begin() {
	# shellcheck disable=SC2086 # "HOST_PHYS SIZE"
	set -- $HVV_ZONE_RAM
	if [ $# != 2 ]; then
		skip "zone RAM outside root's memory" "no range kept at boot (vm-run --zone-ram 0)"
		echo "1..$T_N"
		exit 4
	fi
	ZRAM_HPA=$1 ZRAM_SIZE=$2
}

# not_root_ram: no System RAM resource overlaps the range.
not_root_ram() {
	_lo=$(printf '%d' "$ZRAM_HPA")
	_hi=$((_lo + $(printf '%d' "$ZRAM_SIZE") - 1))
	grep 'System RAM' /proc/iomem | sed 's/^ *//; s/ .*//' |
		while IFS=- read -r _a _b; do
			if [ $((0x$_a)) -le "$_hi" ] && [ $((0x$_b)) -ge "$_lo" ]; then
				echo "System RAM $_a-$_b overlaps"
				exit 1
			fi
		done
}

# no_struct_page PHYS...: root has no struct page for the page at each
# PHYS: /proc/kpageflags ends before it (beyond root's last page frame)
# or reports KPF_NOPAGE (bit 20) for it; 4 KiB pages.
no_struct_page() {
	[ -r /proc/kpageflags ] || { echo "no /proc/kpageflags"; return 1; }
	for _p in "$@"; do
		_f=$(dd if=/proc/kpageflags bs=8 skip=$(($(printf '%d' "$_p") / 4096)) \
			count=1 2>/dev/null | od -An -tu8 | tr -d ' ')
		echo "$_p: kpageflags '$_f'"
		[ -z "$_f" ] || [ $(((_f >> 20) & 1)) = 1 ] || return 1
	done
}

# zram KEY: a value from the loopback's zone_ram file.
zram() {
	sed -n "s/^$1 //p" "$LB/zone_ram"
}

# zram_zone ZONE GPA: the range checked to be none of root's RAM, then
# given to the loopback as ZONE's RAM and to the backend as ZONE's only
# RAM region, at guest-physical GPA. A TAP result per step; fails at the
# first that fails.
zram_zone() {
	_last=$(printf '0x%x' $(($(printf '%d' "$ZRAM_HPA") + $(printf '%d' "$ZRAM_SIZE") - 4096)))
	check "the range $ZRAM_HPA+$ZRAM_SIZE is not root's System RAM" \
		not_root_ram &&
	check "root has no struct page for its first and last pages" \
		no_struct_page "$ZRAM_HPA" "$_last" &&
	check "loopback zone module loads" lb_setup &&
	check "the loopback takes the range as zone $1's RAM at $2" \
		sh -c "echo $1 $ZRAM_HPA $ZRAM_SIZE $2 >$LB/zone_ram" &&
	check "root maps it outside its linear map" test "$(zram linear_map)" = 0 &&
	check "zone $1: only that range, at $2" \
		"$HVCTL" zone add "$1" --region "$2:$ZRAM_HPA:$ZRAM_SIZE" &&
	check "the module logs that the zone's RAM has no struct pages" \
		sh -c "dmesg | grep -q 'zone $1: 1 RAM region(s) mapped as 1, 1 without struct pages'"
}

# zram_end: the loopback's counters as a comment; every mapping undone
# once its devices are gone (call after removing them); the range
# released.
zram_end() {
	note "zone RAM: $(tr '\n' ' ' <"$LB/zone_ram")"
	check "no mapping was refused" test "$(zram map_fail)" = 0
	echo all >"$LB/remove"
	check "every mapping was undone: the whole range is free again" \
		test "$(zram free)" = "$ZRAM_SIZE"
	check "the range is released" \
		sh -c "echo none >$LB/zone_ram && grep -qx none $LB/zone_ram"
}

# --- cleanup -------------------------------------------------------------------

# idle DEV: DEV has no request in flight.
idle() {
	[ "$(inflight "$1")" = "0 0" ]
}

# lb_remove_all: remove every loopback device, one by one, except those
# that cannot go: a disk whose requests never complete (a dead zone, a
# lost interrupt) hangs whoever removes it, in the kernel, for good, and
# with it every later use of the loopback zone. Such devices are left and
# recorded in $LB_WEDGED; a removal that hangs all the same is recorded
# as "stuck".
lb_remove_all() {
	: >"$TMP/lbdevs"
	if ! timed 10 cp "$LB/devices" "$TMP/lbdevs"; then
		echo stuck >>"$LB_WEDGED"
		return 1
	fi
	sed 's/ zone=/ /; s/ base=/ /' "$TMP/lbdevs" |
		while read -r _v _z _b _rest; do
			grep -qx "$_z $_b" "$LB_WEDGED" 2>/dev/null && continue
			_vd=$(vd_of "$_v")
			if [ -n "$_vd" ] && ! wait_for 5 idle "$_vd"; then
				echo "# cleanup: $_vd ($_v, zone $_z at $_b) has requests that do not complete: left in place"
				echo "$_z $_b" >>"$LB_WEDGED"
				continue
			fi
			if ! timed 60 sh -c "echo $_z $_b >$LB/remove"; then
				echo "# cleanup: removing $_v (zone $_z at $_b) hangs"
				echo stuck >>"$LB_WEDGED"
				return 1
			fi
		done
}

lib_cleanup() {
	trap - EXIT INT TERM
	for _p in $BG_PIDS; do
		kill -9 "$_p" 2>/dev/null
	done
	for _m in $MOUNTS; do
		umount "$_m" 2>/dev/null
	done
	[ -w "$LB/remove" ] && lb_remove_all
	if [ -e /dev/hvisor_vhost ]; then
		for _z in $ZONES; do
			for _id in $(dev_ids "$_z"); do
				"$HVCTL" del "$_id" >/dev/null 2>&1
			done
			"$HVCTL" zone del "$_z" >/dev/null 2>&1
		done
	fi
	if [ -d /sys/module/hvisor_vhost_loopback ] && [ ! -s "$LB_WEDGED" ]; then
		timed 60 rmmod hvisor_vhost_loopback
	fi
	for _l in $LOOPS; do
		losetup -d "$_l" 2>/dev/null
	done
	for _d in $NULLB; do
		echo 0 >"$_d/power" 2>/dev/null
		rmdir "$_d" 2>/dev/null
	done
	for _m in $LOADED_MODS; do
		rmmod "$_m" 2>/dev/null
	done
	# Leave the module loaded, as the rig did.
	if [ -z "$HVV_NO_MODULE" ] && [ ! -d /sys/module/hvisor_vhost ]; then
		# shellcheck disable=SC2086
		insmod "$HVV_MODULE" $HVV_MODULE_PARAMS
	fi
	rm -rf "$TMP"
}

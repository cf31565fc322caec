#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvctl load: configurations in the user-space daemon's virtio_cfg.json
# format, written by this script. A valid one (an image and a block
# device, a net device on a tap, a console, and a gpu device and a
# disabled device that are skipped with a note naming their line) creates
# its zone and devices (the console with its tty), and the loopback zone
# uses the disk; --dry-run prints the commands and
# changes nothing; loading it again fails (the zone exists). Malformed
# ones (JSON syntax, missing or bad fields, overlaps, a missing image...)
# exit with status 2 and FILE:LINE:COLUMN of the fault, and leave
# `hvctl list --json` as it was; a failure while applying (a disk that is
# mounted) removes what was created. TAP output; busybox sh.

. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2034 # read by lib.sh
ZONES="1 2"
tap_begin

CFG=$TMP/cfg.json
OUT=$TMP/out

# ld_expect DESC WANT_RC SAME PATTERN CMD...: CMD exits WANT_RC and
# its output (kept in $OUT) matches PATTERN (grep basic regex, '' for
# none); with SAME "same", `hvctl list --json` is as it was before.
ld_expect() {
	_d=$1 _w=$2 _same=$3 _p=$4
	shift 4
	_before=$("$HVCTL" list --json 2>&1)
	"$@" >"$OUT" 2>&1
	_rc=$?
	cp "$OUT" "$LOG"
	_why=
	[ "$_rc" = "$_w" ] || _why="exit status $_rc, want $_w"
	if [ -n "$_p" ] && ! grep -q -- "$_p" "$OUT"; then
		_why="${_why:+$_why; }output lacks '$_p'"
	fi
	if [ "$_same" = same ]; then
		_now=$("$HVCTL" list --json 2>&1)
		[ "$_now" = "$_before" ] ||
			_why="${_why:+$_why; }hvctl list changed: $_now"
	fi
	result "$_why" "$_d"
}

# col LINE TEXT: the column where TEXT first starts on line LINE of $CFG.
col() {
	awk -v l="$1" -v t="$2" 'NR == l { print index($0, t) }' "$CFG"
}

# bad DESC LINE TEXT MESSAGE: loading $CFG fails with exit status 2 at
# LINE and the column of TEXT on it (column 1 if TEXT is empty), saying
# MESSAGE, and changes nothing.
bad() {
	_c=1
	[ -n "$3" ] && _c=$(col "$2" "$3")
	ld_expect "$1: $CFG:$2:$_c, exit status 2" 2 same \
		"^hvctl: $CFG:$2:$_c: .*$4" "$HVCTL" load "$CFG"
}

# nbound: how many loop devices are bound to a file.
nbound() {
	for _f in /sys/block/loop*/loop/backing_file; do
		[ -e "$_f" ] && echo "$_f"
	done | wc -l
}

# nbound_is N: N loop devices are bound.
# shellcheck disable=SC2317 # run through wait_for
nbound_is() {
	[ "$(nbound)" = "$1" ]
}

# The zone's RAM: what --identity-ram finds, as memory_region entries,
# zone0_ipa as a JSON number and zonex_ipa as a hex string.
"$HVCTL" zone add 2 --identity-ram >"$LOG" 2>&1 || bail "zone add --identity-ram"
REGIONS=$("$HVCTL" zone list --json | tr '{' '\n' |
	sed -n 's/^"guest_phys":\([0-9]*\),"host_phys":\([0-9]*\),"size":\([0-9]*\)}.*/\1 \2 \3/p' |
	while read -r g h s; do
		printf '{"zone0_ipa": %s, "zonex_ipa": "0x%x", "size": "0x%x"}, ' \
			"$h" "$g" "$s"
	done)
REGIONS=${REGIONS%, }
"$HVCTL" zone del 2 >"$LOG" 2>&1 || bail "zone del"
[ -n "$REGIONS" ] || bail "no RAM regions"
RAM0=$(echo "$REGIONS" | sed 's/^[^}]*"zonex_ipa": "\(0x[0-9a-f]*\)".*/\1/')
note "zone RAM: $REGIONS"

# cfg DEVICE...: $CFG with zone 1, its RAM regions on line 3 and device
# N on line 4 + N.
cfg() {
	{
		echo '{"zones": ['
		echo ' {"id": 1,'
		echo "  \"memory_region\": [$REGIONS],"
		echo '  "devices": ['
		_first=1
		for _l in "$@"; do
			[ -z "$_first" ] && printf ',\n'
			printf '%s' "$_l"
			_first=
		done
		echo
		echo ']}]}'
	} >"$CFG"
}

check "loopback zone module loads" lb_setup || bail "no loopback zone"
mk_brd 2 16 || bail "no brd"
IMG=$TMP/disk.img
truncate -s 8M "$IMG" || bail "no image"

BLK1='{"type": "blk", "addr": "0x1000000000", "len": "0x200", "irq": 40, "img": "'$IMG'", "status": "enable"}'
BLK2='{"type": "blk", "addr": "0x1000001000", "len": 512, "irq": "41", "img": "/dev/ram0"}'
NET='{"type": "net", "addr": "0x1000002000", "len": "0x1000", "irq": 42, "tap": "hvl0", "mac": ["0x02", "0x16", "0x3e", "0x10", "0x10", "0x10"], "status": "enable"}'
CON='{"type": "console", "addr": "0x1000003000", "len": "0x200", "irq": 43, "status": "enable"}'
OFF='{"type": "blk", "addr": "0x1000004000", "len": "0x200", "irq": 44, "img": "/nonexistent", "status": "disable"}'
GPU='{"type": "gpu", "addr": "0x1000005000", "len": "0x200", "irq": 45, "status": "enable"}'

# A valid configuration: dry run, load, use, load again.
cfg "$BLK1" "$BLK2" "$NET" "$CON" "$OFF" "$GPU"
ld_expect "--dry-run prints the add-blk of the image" 0 same \
	"^hvctl add-blk $IMG --zone 1 --mmio 0x1000000000 --size 0x200 --irq 40$" \
	"$HVCTL" load "$CFG" --dry-run
check "--dry-run prints zone add with the regions" \
	grep -q "^hvctl zone add 1 --region $(echo "$RAM0" | sed 's/\./\\./g'):" "$OUT"
check "--dry-run prints the add-blk of /dev/ram0" \
	grep -q "^hvctl add-blk /dev/ram0 --zone 1 --mmio 0x1000001000 --size 0x200 --irq 41$" "$OUT"
check "--dry-run prints the add-net with its MAC" \
	grep -q "^hvctl add-net hvl0 --zone 1 --mmio 0x1000002000 --size 0x1000 --irq 42 --mac 02:16:3e:10:10:10$" "$OUT"
check "--dry-run prints the add-console" \
	grep -q "^hvctl add-console --zone 1 --mmio 0x1000003000 --size 0x200 --irq 43$" "$OUT"
check "--dry-run: 5 commands" test "$(grep -c '^hvctl ' "$OUT")" = 5
check "the gpu device is skipped, with its line" \
	grep -q "^hvctl: note: $CFG:10:1: zone 1, device 6: gpu devices are not served" "$OUT"
check "the disabled device is skipped, with its line" \
	grep -q "^hvctl: note: $CFG:9:1: zone 1, device 5: blk device disabled" "$OUT"

ld_expect "load exits 0" 0 changes "^$CFG: 1 zone, 4 devices$" \
	"$HVCTL" load "$CFG"
check "load says what it created" grep -q \
	"^zone 1: device [0-9]*: net hvl0 at 0x1000002000 irq 42$" "$OUT"
check "load says it created the console" grep -q \
	"^zone 1: device [0-9]*: console at 0x1000003000 irq 43$" "$OUT"
check "list shows 4 devices in zone 1" test "$(dev_ids 1 | wc -l)" = 4
"$HVCTL" list >"$TMP/list" 2>&1
cp "$TMP/list" "$LOG"
check "list: the image's device, on a loop device" grep -q \
	" 0x1000000000 *0x200 *40 .*/dev/loop[0-9]* (image $IMG) 8.0 MiB" "$TMP/list"
check "list: /dev/ram0's device" grep -q \
	" 0x1000001000 *0x200 *41 .*/dev/ram0 16.0 MiB" "$TMP/list"
check "list: the net device, its MAC and tap" grep -q \
	" 0x1000002000 *0x1000 *42 .*mac 02:16:3e:10:10:10 .*tap hvl0" "$TMP/list"
LTTY=$(sed -n 's|.* 0x1000003000 *0x200 *43 .*tty \(/dev/hvvcon[0-9]*\).*|\1|p' "$TMP/list")
check "list: the console and its tty, which exists" test -c "$LTTY"
check "the zone probes the image's device" lb_probe 1 0x1000000000 40
dd if=/dev/urandom of="$TMP/pattern" bs=64k count=4 2>/dev/null
check "the zone writes to it" \
	dd if="$TMP/pattern" of="$LB_VD" bs=64k oflag=direct
check "the image holds the data" sh -c \
	"dd if='$IMG' bs=64k count=4 2>/dev/null | cmp - '$TMP/pattern'"

ld_expect "loading it again exits 1: zone 1 exists" 1 same \
	"^hvctl: $CFG:2:$(col 2 1): zone 1 already exists" "$HVCTL" load "$CFG"
ld_expect "so does --dry-run" 1 same "zone 1 already exists" \
	"$HVCTL" load "$CFG" --dry-run

check "the zone's disk goes" sh -c "echo '1 0x1000000000' >$LB/remove"
LO=$(sed -n "s|^.* 0x1000000000 .*\(/dev/loop[0-9]*\) (image.*|\1|p" "$TMP/list")
for id in $(dev_ids 1); do
	"$HVCTL" del "$id" >>"$LOG" 2>&1
done
check "the devices and the zone are removed" "$HVCTL" zone del 1
check "the image's loop device is detached" \
	wait_for 5 sh -c "[ ! -e /sys/block/${LO#/dev/}/loop/backing_file ]"

# A failure while applying: /dev/ram1 is mounted, so the module cannot
# claim it; the image's device and the zone made before go again.
mkdir -p "$TMP/mnt"
if mke2fs -q /dev/ram1 >"$LOG" 2>&1 && mount -t ext2 /dev/ram1 "$TMP/mnt" 2>>"$LOG"; then
	MOUNTS="$MOUNTS $TMP/mnt"
	cfg "$BLK1" '{"type": "blk", "addr": "0x1000001000", "len": "0x200", "irq": 41, "img": "/dev/ram1"}'
	B0=$(nbound)
	ld_expect "a failure halfway: exit 1, nothing left" 1 same \
		"/dev/ram1 is already in use" "$HVCTL" load "$CFG"
	check "it names the failed step" grep -q \
		"failed at: hvctl add-blk /dev/ram1 --zone 1" "$OUT"
	check "it removed the device and the zone it had made" sh -c \
		"grep -q 'undo: removed device' '$OUT' && grep -q 'undo: removed zone 1' '$OUT' && grep -q 'nothing applied' '$OUT'"
	check "no loop device is left bound" wait_for 5 nbound_is "$B0"
else
	nok "ext2 mounted on /dev/ram1"
fi

# Malformed configurations: exit status 2 at the fault's line and column.
cfg "$BLK2,"
bad "a trailing comma" 6 '' "trailing comma before ']'"
cfg '{"type": "blk", "addr": "0x1000001000", "len": 512, "img": "/dev/ram0"}'
bad "a device without irq" 5 '' 'zone 1, device 1: missing "irq"'
cfg '{"type": "blk", "addr": "0x1000001000", "len": 512, "irq": "4x0", "img": "/dev/ram0"}'
bad "a number string that is none" 5 '"4x0"' '"irq": "4x0" is not a number'
cfg '{"type": "blk", "addr": "0x1000001000", "len": 512, "irq": -4, "img": "/dev/ram0"}'
bad "a negative irq" 5 '-4' 'is not a non-negative integer'
cfg '{"type": "blk", "addr": "0x1000001000", "len": 512, "irq": 4.5, "img": "/dev/ram0"}'
bad "a fractional irq" 5 '4.5' 'is not a non-negative integer'
cfg '{"type": "blk", "addr": "0x1000001000", "len": 512, "irq": 4294967296, "img": "/dev/ram0"}'
bad "an irq beyond 32 bits" 5 '4294967296' 'out of range'
cfg "$BLK1" '{"type": "blkk", "addr": "0x1000001000", "len": 512, "irq": 41}'
bad "an unknown device type" 6 '"blkk"' 'unknown device type "blkk"'
cfg '{"type": "blk", "addr": "0x1000001000", "len": 512, "irq": 41, "img": "/dev/ram0", "status": "on"}'
bad "a bad status" 5 '"on"' '"status" must be "enable" or "disable"'
cfg '{"type": "blk", "addr": "0x1000001000", "len": "0x100", "irq": 41, "img": "/dev/ram0"}'
bad "a window below 0x200" 5 '"0x100"' 'not a multiple of 0x200'
cfg '{"type": "blk", "addr": "0x1000001000", "len": "0x1000", "irq": 41, "img": "/dev/ram0"}' \
	'{"type": "blk", "addr": "0x1000001800", "len": "0x200", "irq": 42, "img": "'"$IMG"'"}'
bad "overlapping windows" 6 '"0x1000001800"' "the window overlaps device 1's"
cfg '{"type": "blk", "addr": "0x1000001000", "len": "0x200", "irq": 41, "img": "/dev/ram0"}' \
	'{"type": "blk", "addr": "0x1000002000", "len": "0x200", "irq": 41, "img": "'"$IMG"'"}'
bad "an IRQ twice" 6 '41,' "IRQ 41 is also device 1's"
cfg '{"type": "blk", "addr": "'"$RAM0"'", "len": "0x200", "irq": 41, "img": "/dev/ram0"}'
bad "a window in the zone's RAM" 5 "\"$RAM0\"" "lies in the zone's RAM"
cfg '{"type": "blk", "addr": "0x1000001000", "len": "0x200", "irq": 41, "img": "'"$TMP"'/none.img"}'
bad "a missing image" 5 "\"$TMP/none.img\"" 'No such file or directory'
cfg '{"type": "blk", "addr": "0x1000001000", "len": "0x200", "irq": 41, "img": "/dev/ram0"}' \
	'{"type": "blk", "addr": "0x1000002000", "len": "0x200", "irq": 42, "img": "/dev/ram0"}'
bad "the same disk twice" 6 '"/dev/ram0"' '/dev/ram0 is also the image of zone 1'"'"'s device 1'
cfg '{"type": "net", "addr": "0x1000002000", "len": "0x200", "irq": 42, "tap": "hvl0", "mac": ["0x02", "0x16", "0x3e", "0x10", "0x10"]}'
bad "a MAC of five bytes" 5 '["0x02"' '"mac" must be an array of six bytes'
cfg '{"type": "net", "addr": "0x1000002000", "len": "0x200", "irq": 42, "tap": "hvl0", "mac": ["0x01", "0x16", "0x3e", "0x10", "0x10", "0x10"]}'
bad "a multicast MAC" 5 '["0x01"' 'multicast'
cfg '{"type": "net", "addr": "0x1000002000", "len": "0x200", "irq": 42, "tap": "hvl0", "mac": ["0x02", "0x16", "0x3e", "0x10", "0x10", "0x100"]}'
bad "a MAC byte above 0xff" 5 '"0x100"' 'byte 6 is above 0xff'
cfg '{"type": "blk", "type": "net", "addr": "0x1000002000", "len": "0x200", "irq": 42}'
bad "a duplicate key" 5 '"type": "net"' 'duplicate key "type"'

printf '{"zones": [\n {"id": 1,\n  "memory_region": [],\n  "devices": []}]}\n' >"$CFG"
bad "no memory region" 3 '[]' '"memory_region" is empty'
printf '{"zones": [\n {"id": 1,\n  "memory_region": [{"zone0_ipa": "0x40000100", "zonex_ipa": "0x40000000", "size": "0x1000"}],\n  "devices": []}]}\n' >"$CFG"
bad "a region not page aligned" 3 '{"zone0' 'memory region 1: not aligned to the page size'
printf '{"zones": [\n {"id": 1,\n  "memory_region": [{"zonex_ipa": "0x40000000", "size": "0x1000"}],\n  "devices": []}]}\n' >"$CFG"
bad "a region without zone0_ipa" 3 '{"zonex' 'missing "zone0_ipa"'
printf '{"zones": [\n {"id": 0,\n  "memory_region": [{"zone0_ipa": 0, "zonex_ipa": 0, "size": 4096}],\n  "devices": []}]}\n' >"$CFG"
bad "zone 0" 2 '0,' 'zone 0 is root'
printf '{"zones": [\n {"id": 1, "memory_region": [%s], "devices": []},\n {"id": 1, "memory_region": [%s], "devices": []}]}\n' \
	"$REGIONS" "$REGIONS" >"$CFG"
bad "a zone twice" 3 '1,' 'zone 1 is described twice'
printf '{"zones": [\n {"memory_region": [%s], "devices": []}]}\n' "$REGIONS" >"$CFG"
bad "a zone without id" 2 '{"memory' 'zone #1: missing "id"'
printf '{"zones": [\n {"id": 1, "memory_region": [%s]}]}\n' "$REGIONS" >"$CFG"
bad "a zone without devices" 2 '{"id"' 'zone 1: missing "devices"'
printf '[\n]\n' >"$CFG"
bad "a top-level array" 1 '' 'the top level must be an object'
printf '{"zone": []}\n' >"$CFG"
bad "no \"zones\"" 1 '' 'missing "zones"'
printf '{"zones": [] /* none */}\n' >"$CFG"
bad "a comment" 1 '/*' 'comments are not JSON'
printf '{"zones": [\n{"id": 1 "memory_region": []}]}\n' >"$CFG"
bad "a missing comma" 2 '"memory' "expected ',' or '}'"
printf '{"zones": [{"id": "\xff"}]}\n' >"$CFG"
bad "invalid UTF-8" 1 "$(printf '\377')" 'invalid UTF-8'
: >"$CFG"
bad "an empty file" 1 '' 'end of the input'

ld_expect "load of a missing file exits 2" 2 same 'no such file' \
	"$HVCTL" load "$TMP/none.json"
ld_expect "load without a file exits 2" 2 same 'missing configuration file' \
	"$HVCTL" load
ld_expect "load of a directory exits 2" 2 same '' "$HVCTL" load "$TMP"
check "the module is empty again" sh -c \
	"'$HVCTL' list --json | grep -qx '{\"zones\":\[\],\"devices\":\[\]}'"

tap_end

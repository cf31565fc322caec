#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvctl add-blk of an image file: hvctl puts an autoclear loop device over
# it, `hvctl list` shows the loop device and the image, the zone writes
# through its /dev/vdX into the image, and `hvctl del` makes the loop
# device come apart (its /sys/block/loopN/loop/ goes) with the data in the
# image file. Also: direct I/O where the file system allows it (ext2 on
# brd), --ro, the LOOP_SET_FD fallback for kernels without LOOP_CONFIGURE
# (HVCTL_NO_LOOP_CONFIGURE), a failed add-blk leaves no loop device bound
# and `hvctl list` unchanged, an empty image and a directory are usage
# errors (exit status 2). TAP output; busybox sh.

. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2034 # read by lib.sh
ZONES=1
tap_begin

# img_field ID KEY: string KEY ("backing", "image") of device ID in
# `hvctl list --json`.
img_field() {
	"$HVCTL" list --json | sed 's/{"id"/\n{"id"/g' |
		grep "^{\"id\":$1,\"type\"" | tr ',' '\n' |
		sed -n "s/^\"$2\":\"\(.*\)\"[]}]*\$/\1/p"
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

# unbound LOOPDEV: /dev/loopN is not bound to a file any more.
# shellcheck disable=SC2317 # run through wait_for
unbound() {
	[ ! -e "/sys/block/$(dev_name "$1")/loop/backing_file" ]
}

# loop_attr LOOPDEV ATTR: /sys/block/loopN/loop/ATTR.
loop_attr() {
	cat "/sys/block/$(dev_name "$1")/loop/$2" 2>&1
}

# expect DESC WANT_RC PATTERN CMD...: CMD exits WANT_RC, its output
# matches PATTERN, and `hvctl list --json` is as before.
expect() {
	_d=$1 _w=$2 _p=$3
	shift 3
	_before=$("$HVCTL" list --json 2>&1)
	"$@" >"$LOG" 2>&1
	_rc=$?
	_why=
	[ "$_rc" = "$_w" ] || _why="exit status $_rc, want $_w"
	grep -q -- "$_p" "$LOG" || _why="${_why:+$_why; }output lacks '$_p'"
	_now=$("$HVCTL" list --json 2>&1)
	[ "$_now" = "$_before" ] || _why="${_why:+$_why; }hvctl list changed: $_now"
	result "$_why" "$_d"
}

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"

# An image in /tmp (tmpfs).
IMG=$TMP/disk.img
truncate -s 8M "$IMG" || bail "no image"
setup_disk VD 1 0x1000000000 40 "$IMG" --serial image ||
	bail "add-blk of an image"
LO=$(img_field "$VD_ID" backing)
case $LO in
/dev/loop*) ok "list --json: device $VD_ID is backed by $LO" ;;
*) nok "list --json: device $VD_ID is backed by a loop device" "backing '$LO'" ;;
esac
check "list --json: its image is $IMG" test "$(img_field "$VD_ID" image)" = "$IMG"
check "list shows $LO and the image" sh -c \
	"'$HVCTL' list | grep -q '^$VD_ID  *blk .* $LO (image $IMG) 8.0 MiB (16384 sectors) rw serial \"image\"$'"
check "$LO is bound to $IMG" test "$(loop_attr "$LO" backing_file)" = "$IMG"
check "$LO has autoclear set" test "$(loop_attr "$LO" autoclear)" = 1
note "$LO direct I/O on tmpfs: $(loop_attr "$LO" dio)"

dd if=/dev/urandom of="$TMP/pattern" bs=64k count=16 2>/dev/null
check "the zone writes 1 MiB at 1 MiB through $VD" \
	dd if="$TMP/pattern" of="$VD" bs=64k seek=16 oflag=direct
check "the zone reads it back" sh -c \
	"dd if='$VD' bs=64k skip=16 count=16 iflag=direct 2>/dev/null | cmp - '$TMP/pattern'"
check "the zone's disk goes" sh -c "echo '1 0x1000000000' >$LB/remove"
check "hvctl del $VD_ID" "$HVCTL" del "$VD_ID"
check "$LO is detached (autoclear)" wait_for 5 unbound "$LO"
check "the image holds the data" sh -c \
	"dd if='$IMG' bs=64k skip=16 count=16 2>/dev/null | cmp - '$TMP/pattern'"
zeros=$(dd if=/dev/zero bs=64k count=16 2>/dev/null | md5sum)
check "the rest of the image is still zeros" test \
	"$(dd if="$IMG" bs=64k count=16 2>/dev/null | md5sum)" = "$zeros"

# A failed add-blk: the loop device comes apart at once.
B0=$(nbound)
expect "add-blk of an image to an unknown zone exits 1" 1 \
	'zone 7 does not exist' \
	"$HVCTL" add-blk "$IMG" --zone 7 --mmio 0x1000000000 --irq 40
check "no loop device is left bound" wait_for 5 nbound_is "$B0"
: >"$TMP/empty.img"
expect "add-blk of an empty image exits 2" 2 \
	'needs at least one 512-byte sector' \
	"$HVCTL" add-blk "$TMP/empty.img" --zone 1 --mmio 0x1000000000 --irq 40
expect "add-blk of a directory exits 2" 2 'is a directory' \
	"$HVCTL" add-blk "$TMP" --zone 1 --mmio 0x1000000000 --irq 40

# Direct I/O, read-only, and the fallback for kernels without
# LOOP_CONFIGURE: an image on ext2.
mk_brd 1 32 || bail "no brd"
mkdir -p "$TMP/mnt"
if mke2fs -q /dev/ram0 >"$LOG" 2>&1 && mount -t ext2 /dev/ram0 "$TMP/mnt" 2>>"$LOG"; then
	MOUNTS="$MOUNTS $TMP/mnt"
	ok "ext2 on /dev/ram0"
else
	bail "no ext2 on /dev/ram0"
fi
IMG2=$TMP/mnt/ro.img
dd if=/dev/urandom of="$IMG2" bs=64k count=32 2>/dev/null
sum=$(md5sum <"$IMG2")
for how in LOOP_CONFIGURE LOOP_SET_FD; do
	if [ $how = LOOP_SET_FD ]; then
		export HVCTL_NO_LOOP_CONFIGURE=1
	fi
	setup_disk VD2 1 0x1000001000 41 "$IMG2" --ro || bail "add-blk --ro"
	unset HVCTL_NO_LOOP_CONFIGURE
	LO2=$(img_field "$VD2_ID" backing)
	check "$how: $LO2 is bound to $IMG2" \
		test "$(loop_attr "$LO2" backing_file)" = "$IMG2"
	check "$how: $LO2 does direct I/O" test "$(loop_attr "$LO2" dio)" = 1
	check "$how: $LO2 has autoclear set" test "$(loop_attr "$LO2" autoclear)" = 1
	check "$how: $LO2 is read-only" test "$(cat "/sys/block/$(dev_name "$LO2")/ro")" = 1
	check "$how: the zone's $VD2 is read-only" \
		test "$(cat "/sys/block/$(dev_name "$VD2")/ro")" = 1
	check "$how: the zone reads the image" sh -c \
		"[ \"\$(dd if='$VD2' bs=64k iflag=direct 2>/dev/null | md5sum)\" = '$sum' ]"
	check "$how: the zone's disk goes" sh -c "echo '1 0x1000001000' >$LB/remove"
	check "$how: hvctl del $VD2_ID" "$HVCTL" del "$VD2_ID"
	check "$how: $LO2 is detached (autoclear)" wait_for 5 unbound "$LO2"
done
check "the image is unchanged" test "$(md5sum <"$IMG2")" = "$sum"

tap_end

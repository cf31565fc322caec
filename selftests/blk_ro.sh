#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Read-only disks, serial numbers and capacity. `hvctl add-blk --ro`: the
# zone's disk is read-only (VIRTIO_BLK_F_RO), every kind of write through
# it fails (buffered, O_DIRECT, discard, write zeroes) and the backing
# device is unchanged, while reads return its bytes. `--serial` shows in
# /sys/block/vdX/serial (a short one and one of the full 20 bytes), and
# /sys/block/vdX/size equals the backing device's size (an odd number of
# sectors). TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES=1
tap_begin

# 20 MiB + 7 sectors: a size no power of two hides.
SECTORS=$((20 * 2048 + 7))
mk_loop BK ro 21 || bail "no loop device"
truncate -s $((SECTORS * 512)) "$TMP/ro.img" && losetup -c "$BK" ||
	bail "cannot resize $BK"
fill "$BK" $((SECTORS * 512)) || bail "cannot fill $BK"
mk_loop BK2 rw 4 || bail "no second loop device"
md5() { dd if="$1" bs=64k iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1; }
sum0=$(md5 "$BK")

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
SERIAL="ro-disk-0042"
setup_disk VD 1 0x1000000000 40 "$BK" --ro --serial $SERIAL || bail "no disk"
SERIAL2="ABCDEFGHIJ0123456789"
setup_disk VD2 1 0x1000001000 41 "$BK2" --serial $SERIAL2 || bail "no disk"
N=$(dev_name "$VD")

# Identity and size.
ro=$(cat "/sys/block/$N/ro")
[ "$ro" = 1 ] && ok "/sys/block/$N/ro is 1" || nok "/sys/block/$N/ro is 1" "it is '$ro'"
s=$(cat "/sys/block/$N/serial" 2>&1)
[ "$s" = $SERIAL ] && ok "/sys/block/$N/serial is '$SERIAL'" ||
	nok "/sys/block/$N/serial is '$SERIAL'" "it is '$s'"
s=$(cat "/sys/block/$(dev_name "$VD2")/serial" 2>&1)
[ "$s" = $SERIAL2 ] && ok "a 20-byte serial shows whole: '$SERIAL2'" ||
	nok "a 20-byte serial shows whole: '$SERIAL2'" "it is '$s'"
a=$(cat "/sys/block/$N/size")
b=$(cat "/sys/block/$(dev_name "$BK")/size")
[ "$a" = "$b" ] && [ "$a" = $SECTORS ] &&
	ok "capacity of $VD equals the backing's ($a sectors)" ||
	nok "capacity of $VD equals the backing's ($SECTORS sectors)" "$VD: $a, $BK: $b"
a=$(cat "/sys/block/$(dev_name "$VD2")/size")
b=$(cat "/sys/block/$(dev_name "$BK2")/size")
[ "$a" = "$b" ] && ok "capacity of $VD2 equals the backing's ($a sectors)" ||
	nok "capacity of $VD2 equals the backing's" "$VD2: $a, $BK2: $b"
"$HVCTL" list --json >"$TMP/json" 2>&1
dev_json "$VD_ID" <"$TMP/json" >"$TMP/dev"
if grep -qF '"read_only":true' "$TMP/dev" &&
	grep -qF "\"serial\":\"$SERIAL\"" "$TMP/dev" &&
	grep -qF "\"capacity_sectors\":$SECTORS" "$TMP/dev"; then
	ok "hvctl list --json: read-only, the serial, the capacity"
else
	cp "$TMP/json" "$LOG"
	nok "hvctl list --json: read-only, the serial, the capacity" \
		"device $VD_ID: $(cat "$TMP/dev")"
fi

# Reads work.
check "$VD reads the backing device's bytes, last sector included" \
	"$BLKIO" cmp "$VD" 0 "$BK" 0 $((SECTORS * 512)) --direct

# Writes do not.
check_fails "buffered write + fsync to $VD fails" \
	dd if=/dev/zero of="$VD" bs=4k count=4 conv=fsync,notrunc
check_fails "O_DIRECT write to $VD fails" \
	"$BLKIO" rand "$VD" --off 0 --len 1M --count 4 --direct
check_fails "BLKDISCARD on $VD fails" "$BLKIO" discard "$VD" 0 1048576
check_fails "BLKZEROOUT on $VD fails" "$BLKIO" zeroout "$VD" 0 1048576
check_fails "blockdev --setrw does not make it writable" sh -c \
	"blockdev --setrw '$VD' 2>/dev/null; '$BLKIO' rand '$VD' --off 0 --len 1M --count 4 --direct"
blockdev --setro "$VD" 2>/dev/null
drop_caches
sum1=$(md5 "$BK")
[ "$sum0" = "$sum1" ] && ok "the backing device is unchanged" ||
	nok "the backing device is unchanged" "md5 $sum0 -> $sum1"
check "$VD still reads the backing device's bytes" \
	"$BLKIO" cmp "$VD" 0 "$BK" 0 $((SECTORS * 512)) --direct

# The read-write disk next to it takes writes.
check "the read-write disk $VD2 takes writes" \
	"$BLKIO" rand "$VD2" --off 0 --len 4M --count 50 --direct --shadow "$TMP/s2"
check "... which reach its backing device" \
	"$BLKIO" cmp "$BK2" 0 "$TMP/s2" 0 4M --direct

tap_end

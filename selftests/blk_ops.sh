#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# FLUSH, DISCARD and WRITE_ZEROES from the zone's /dev/vdX, observed on the
# backing device: a loop device over a file in tmpfs, which takes all
# three (discard and write-zeroes with unmap punch holes in the file).
#  - fsync on /dev/vdX: flush requests complete on the zone's disk and on
#    the backing device (/sys/block/*/stat, field 16), data is there;
#  - blkdiscard: the range reads as zeros on the backing device, the file
#    behind it lost those blocks, the neighbours are intact;
#  - fallocate(PUNCH_HOLE) on /dev/vdX (write zeroes with unmap, no
#    fallback to writing zeros in the zone: it needs
#    VIRTIO_BLK_T_WRITE_ZEROES): zeros on the backing device and freed
#    blocks, before and after a BLKZEROOUT (write zeroes without unmap,
#    which the loop device refuses and the backend then writes by hand):
#    zeros.
# TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES=1
MIB=32
tap_begin

mk_loop BK ops $MIB || bail "no loop device"
IMG=$TMP/ops.img
# Random bytes everywhere: every block of the file is allocated.
fill "$BK" $((MIB << 20)) || bail "cannot fill $BK"
cp "$IMG" "$TMP/orig" || bail "no copy"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
setup_disk VD 1 0x1000000000 40 "$BK" || bail "no disk"
note "$BK: write_cache '$(queue_attr "$BK" write_cache)'," \
	"discard_max_bytes $(queue_attr "$BK" discard_max_bytes)," \
	"write_zeroes_max_bytes $(queue_attr "$BK" write_zeroes_max_bytes)"

# blocks: 512-byte blocks the backing file holds.
blocks() { stat -c %b "$IMG"; }
# shellcheck disable=SC2317 # called through check
is_zero() { "$BLKIO" cmp "$BK" "$1" /dev/zero 0 "$2" --direct; }

M=1048576

# --- FLUSH ------------------------------------------------------------------
wc=$(queue_attr "$VD" write_cache)
[ "$wc" = "write back" ] && ok "$VD has a write-back cache (VIRTIO_BLK_F_FLUSH)" ||
	nok "$VD has a write-back cache (VIRTIO_BLK_F_FLUSH)" "write_cache: $wc"
f0=$(blk_stat "$BK" 16)
v0=$(blk_stat "$VD" 16)
check "buffered write of 1 MiB at 1 MiB through $VD, then fsync" \
	sh -c "dd if=/dev/urandom of='$TMP/data' bs=1M count=1 2>/dev/null &&
		dd if='$TMP/data' of='$VD' bs=1M seek=1 2>/dev/null &&
		'$BLKIO' fsync '$VD'"
f1=$(blk_stat "$BK" 16)
v1=$(blk_stat "$VD" 16)
[ "$v1" -gt "$v0" ] && ok "the zone's disk completed flushes ($v0 -> $v1)" ||
	nok "the zone's disk completed flushes" "$VD flush count $v0 -> $v1"
[ "$f1" -gt "$f0" ] && ok "flushes reached the backing device ($f0 -> $f1)" ||
	nok "flushes reached the backing device" "$BK flush count $f0 -> $f1"
check "the fsynced data is on the backing device" \
	"$BLKIO" cmp "$BK" $M "$TMP/data" 0 $M --direct
cp "$IMG" "$TMP/orig"

# --- DISCARD ------------------------------------------------------------------
d=$(queue_attr "$VD" discard_max_bytes)
[ "$d" -gt 0 ] && ok "$VD takes discards (discard_max_bytes $d)" ||
	nok "$VD takes discards" "discard_max_bytes $d"
b0=$(blocks)
d0=$(blk_stat "$BK" 12)
check "blkdiscard 4 MiB at 4 MiB on $VD" \
	blkdiscard -o $((4 * M)) -l $((4 * M)) "$VD"
d1=$(blk_stat "$BK" 12)
b1=$(blocks)
[ "$d1" -gt "$d0" ] && ok "discards reached the backing device ($d0 -> $d1)" ||
	nok "discards reached the backing device" "$BK discard count $d0 -> $d1"
check "the discarded range reads as zeros on the backing device" \
	is_zero $((4 * M)) $((4 * M))
[ $((b0 - b1)) -ge 8192 ] &&
	ok "the backing file freed the range ($b0 -> $b1 blocks)" ||
	nok "the backing file freed the 4 MiB (8192 blocks)" "$b0 -> $b1 blocks"
check "the bytes around the discarded range are intact" \
	sh -c "'$BLKIO' cmp '$BK' 0 '$TMP/orig' 0 $((4 * M)) --direct &&
		'$BLKIO' cmp '$BK' $((8 * M)) '$TMP/orig' $((8 * M)) $((4 * M)) --direct"
check "$VD reads zeros there too" \
	"$BLKIO" cmp "$VD" $((4 * M)) /dev/zero 0 $((4 * M)) --direct

# --- WRITE_ZEROES ---------------------------------------------------------------
z=$(queue_attr "$VD" write_zeroes_max_bytes)
[ "$z" -gt 0 ] && ok "$VD takes write-zeroes (write_zeroes_max_bytes $z)" ||
	nok "$VD takes write-zeroes" "write_zeroes_max_bytes $z"

# punch OFF_MIB WHEN: fallocate(PUNCH_HOLE) 4 MiB at OFF_MIB MiB on $VD,
# zeros on the backing device and the blocks freed there.
punch() {
	_o=$(($1 * M))
	_b0=$(blocks)
	check "$2: fallocate(PUNCH_HOLE) 4 MiB at $1 MiB on $VD (write zeroes + unmap)" \
		"$BLKIO" punch "$VD" $_o $((4 * M))
	_b1=$(blocks)
	check "the punched range reads as zeros on the backing device" \
		is_zero $_o $((4 * M))
	if [ "$(queue_attr "$BK" write_zeroes_max_bytes)" = 0 ]; then
		skip "the backing file freed the punched range" \
			"$BK takes no write-zeroes any more: zeros written, nothing to unmap with"
	elif [ $((_b0 - _b1)) -ge 8192 ]; then
		ok "the backing file freed the punched range ($_b0 -> $_b1 blocks)"
	else
		nok "the backing file freed the punched 4 MiB (8192 blocks)" \
			"$_b0 -> $_b1 blocks"
	fi
	check "$VD reads zeros there" \
		"$BLKIO" cmp "$VD" $_o /dev/zero 0 $((4 * M)) --direct
}

punch 16 "first write-zeroes"

# The loop device refuses write-zeroes without unmap (tmpfs has no
# FALLOC_FL_ZERO_RANGE): the backend writes the zeros itself.
check "BLKZEROOUT (write zeroes, no unmap) 2 MiB + 4 KiB at 12 MiB - 4 KiB on $VD" \
	"$BLKIO" zeroout "$VD" $((12 * M - 4096)) $((2 * M + 4096))
check "the zeroed range reads as zeros on the backing device" \
	is_zero $((12 * M - 4096)) $((2 * M + 4096))
check "$VD reads zeros there" \
	"$BLKIO" cmp "$VD" $((12 * M - 4096)) /dev/zero 0 $((2 * M + 4096)) --direct
# Newer kernels (6.12) stop announcing write-zeroes on a device that
# refused one: the backend can then only write zeros.
note "$BK now: write_zeroes_max_bytes $(queue_attr "$BK" write_zeroes_max_bytes)"

# Write zeroes with unmap still unmaps after one without was refused.
punch 24 "after a refused BLKZEROOUT"

# Nothing outside the four ranges changed since the flush test.
check "every other byte of the backing device is unchanged" \
	sh -c "'$BLKIO' cmp '$BK' 0 '$TMP/orig' 0 $((4 * M)) --direct &&
		'$BLKIO' cmp '$BK' $((8 * M)) '$TMP/orig' $((8 * M)) $((4 * M - 4096)) --direct &&
		'$BLKIO' cmp '$BK' $((14 * M)) '$TMP/orig' $((14 * M)) $((2 * M)) --direct &&
		'$BLKIO' cmp '$BK' $((20 * M)) '$TMP/orig' $((20 * M)) $((4 * M)) --direct &&
		'$BLKIO' cmp '$BK' $((28 * M)) '$TMP/orig' $((28 * M)) $((4 * M)) --direct"

tap_end

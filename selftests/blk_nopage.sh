#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-blk with zone RAM that root does not manage, as on a board: the
# rig keeps a physical range from root at boot (tools/vm-run --zone-ram:
# no struct pages, no System RAM resource; HVV_ZONE_RAM says where), zone
# 2's only RAM region is that range at another guest-physical address, and
# the loopback zone keeps the rings there and bounces every buffer of the
# stock virtio_blk driver through it. The backend maps the range outside
# its linear map and bounces the data of every request through pages of
# its own. Checked: the range is none of root's RAM; the module says the
# zone has no struct pages; random data written through the zone's disk
# is on the backing device and reads back the same; a file system made,
# filled, remounted and checked; the loopback bounced both ways, refused
# no mapping and got all of the range back. TAP output; busybox sh.

# shellcheck disable=SC2034 # ZONES, MOUNTS: read by lib.sh
. "$(dirname "$0")/lib.sh"

ZONES=2
# The zone's guest-physical view of the range (not its host address).
GPA=0x2000000000
tap_begin
zram_begin
zram_zone 2 $GPA || bail "no zone over the range"

mk_brd 1 32 || bail "modprobe brd failed"
setup_disk VD 2 0x1000000000 40 /dev/ram0 || bail "no disk"
check "the rings are in the zone's RAM" test "$(zram coherent)" -ge 1

# Raw data: 8 MiB of random bytes in, compared on the backing device and
# read back through the zone.
dd if=/dev/urandom of="$TMP/data" bs=64k count=128 2>/dev/null
check "write 8 MiB through $VD" dd if="$TMP/data" of="$VD" bs=64k oflag=direct
drop_caches
check "the backing device has them" sh -c \
	"head -c 8388608 /dev/ram0 | cmp - '$TMP/data'"
check "read back through $VD (O_DIRECT, 4k and 128k requests)" sh -c \
	"dd if='$VD' bs=4k count=2048 iflag=direct 2>/dev/null | cmp - '$TMP/data' &&
	 dd if='$VD' bs=128k count=64 iflag=direct 2>/dev/null | cmp - '$TMP/data'"
check "$VD equals /dev/ram0 byte for byte" \
	"$BLKIO" cmp "$VD" 0 /dev/ram0 0 "$(size_bytes /dev/ram0)" --direct

# A file system, as a zone would use its disk.
MNT=$TMP/mnt
mkdir -p "$MNT" "$TMP/src" || bail "mkdir"
i=0
while [ $i -lt 50 ]; do
	head -c $((i * 997 + 1)) /dev/urandom >"$TMP/src/f$i"
	i=$((i + 1))
done
cp "$TMP/data" "$TMP/src/big"
(cd "$TMP/src" && md5sum ./*) >"$TMP/sums"
check "mke2fs on $VD" mke2fs -F -b 4096 "$VD" || bail "mke2fs failed"
if check "mount $VD" mount -t ext2 "$VD" "$MNT"; then
	MOUNTS=$MNT
	check "copy 51 files in" cp -a "$TMP/src/." "$MNT/"
	check "umount" umount "$MNT"
	MOUNTS=
	drop_caches
	check "mount again (ext4 driver)" mount -t ext4 "$VD" "$MNT" &&
		MOUNTS=$MNT
	check "every file is there with its checksum" sh -c \
		"cd '$MNT' && md5sum -c '$TMP/sums'"
	check "umount" umount "$MNT"
	MOUNTS=
fi

# stats_field FIELD: a counter of the disk's device in hvctl stats --json.
stats_field() {
	"$HVCTL" stats "$VD_ID" --json | tr ',' '\n' |
		sed -n "s/^\"$1\":\([0-9]*\).*/\1/p"
}
note "hvctl stats: $("$HVCTL" stats "$VD_ID" --json)"
check "the backend bounced the data of its requests (hvctl stats: bounced)" \
	test "$(stats_field bounced)" -ge 128
check "the loopback bounced buffers into the zone's RAM" \
	test "$(zram bytes_to_dev)" -gt 8388608
check "and read data back out of it" test "$(zram bytes_to_cpu)" -gt 8388608
zram_end
check "hvctl del" "$HVCTL" del "$VD_ID"

tap_end

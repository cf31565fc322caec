#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A file system on the zone's disk: mke2fs on /dev/vdX, mount, copy files
# in (one large, many small, a tree), checksums, unmount, drop caches,
# mount again (ext4 driver), checksums again, one more file; then, with the disk given back by the
# backend (hvctl del), root mounts the backing device itself and finds the
# same files. The backing device is a loop device over a file in tmpfs.
# TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES=1
tap_begin

MNT=$TMP/mnt
SRC=$TMP/src
mkdir -p "$MNT" "$SRC/tree/a/b" || bail "mkdir"
mk_loop BK disk 48 || bail "no loop device"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
setup_disk VD 1 0x1000000000 40 "$BK" || bail "no disk"

# What goes on the disk: 6 MiB, 200 small files, a small tree.
dd if=/dev/urandom of="$SRC/big" bs=64k count=96 2>/dev/null
i=0
while [ $i -lt 200 ]; do
	head -c $((i * 37 + 1)) /dev/urandom >"$SRC/tree/f$i"
	i=$((i + 1))
done
echo hello >"$SRC/tree/a/b/deep"
(cd "$SRC" && find . -type f | sort | xargs md5sum) >"$TMP/sums"
nfiles=$(wc -l <"$TMP/sums")

# sums_in DIR: the checksums of DIR's files, as $TMP/sums has them.
sums_in() {
	(cd "$1" && find . -type f ! -path './lost+found/*' | sort | xargs md5sum)
}

check "mke2fs on $VD" mke2fs -F -b 4096 "$VD" || bail "mke2fs failed"
FSTYPE=ext2
if check "mount -t $FSTYPE $VD" mount -t $FSTYPE "$VD" "$MNT"; then
	MOUNTS="$MNT"
else
	bail "mount failed"
fi
check "copy $nfiles files (6.5 MiB) into the file system" cp -a "$SRC/." "$MNT/"
check "checksums on the mounted disk match" sh -c \
	"cd '$MNT' && md5sum -c '$TMP/sums'"
check "sync" sync
check "umount" umount "$MNT"
MOUNTS=
drop_caches

# Again, through the ext4 driver this time (it mounts ext2 too).
if check "mount again (-t ext4)" mount -t ext4 "$VD" "$MNT"; then
	MOUNTS="$MNT"
	sums_in "$MNT" >"$TMP/sums2" 2>"$LOG"
	if cmp -s "$TMP/sums" "$TMP/sums2"; then
		ok "after a remount, every file is there with its checksum"
	else
		diff "$TMP/sums" "$TMP/sums2" >"$LOG" 2>&1
		nok "after a remount, every file is there with its checksum" \
			"the file list or checksums differ"
	fi
	dd if=/dev/urandom of="$SRC/late" bs=4k count=100 2>/dev/null
	(cd "$SRC" && find . -type f | sort | xargs md5sum) >"$TMP/sums"
	check "write one more file through ext4 and fsync it" \
		dd if="$SRC/late" of="$MNT/late" bs=4k conv=fsync
	check "umount" umount "$MNT"
	MOUNTS=
else
	skip "after a remount, every file is there" "mount failed"
	skip "write one more file through ext4" "mount failed"
	skip "umount" "mount failed"
fi

# The zone's disk byte for byte on the backing device.
check "$VD equals the backing device $BK" \
	"$BLKIO" cmp "$VD" 0 "$BK" 0 "$(size_bytes "$BK")" --direct

# Root takes the disk back and reads the file system the zone wrote.
echo all >"$LB/remove"
check "hvctl del $VD_ID" "$HVCTL" del "$VD_ID"
drop_caches
if check "root mounts the backing device $BK" \
	mount -t $FSTYPE -o ro "$BK" "$MNT"; then
	MOUNTS="$MNT"
	sums_in "$MNT" >"$TMP/sums3" 2>"$LOG"
	cmp -s "$TMP/sums" "$TMP/sums3" &&
		ok "root finds every file with its checksum" ||
		nok "root finds every file with its checksum" "differ"
	check "umount" umount "$MNT"
	MOUNTS=
fi

tap_end

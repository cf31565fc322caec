#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-blk data integrity, both ways, through the loopback zone: bytes
# written through the zone's /dev/vdX (O_DIRECT, and buffered + fsync at
# byte granularity) at random offsets and sizes are on the backing device
# (a brd RAM disk, read back with O_DIRECT); bytes written to the backing
# device are what /dev/vdX reads (caches dropped between); several writers
# at once on disjoint ranges; more than 65,536 requests on one virtqueue
# (16-bit index wrap-around) with a final compare of the whole disk; the
# same both ways with every request bounced (blk_force_bounce) and
# completed in the worker (blk_complete_in_worker).
# TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES=1
MIB=32
tap_begin

mk_brd 1 $MIB || bail "modprobe brd failed"
BK=/dev/ram0
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
setup_disk VD 1 0x1000000000 40 $BK || bail "no disk"

want=$(size_bytes $BK)
got=$(size_bytes "$VD")
[ "$got" = "$want" ] && ok "capacity of $VD ($got) equals the backing's" ||
	nok "capacity of $VD equals the backing's" "$VD: $got bytes, $BK: $want"

# 1. zone -> backing, O_DIRECT, random 512-byte aligned offsets and sizes.
check "O_DIRECT: 250 random writes (512 B..256 KiB) through $VD" \
	"$BLKIO" rand "$VD" --off 0 --len 8M --count 250 --min 512 \
	--max 256K --align 512 --direct --seed 11 --shadow "$TMP/s1"
check "O_DIRECT writes: the backing device holds them" \
	"$BLKIO" cmp $BK 0 "$TMP/s1" 0 8M --direct

# 2. zone -> backing, buffered at any byte offset and length, fsync.
check "buffered: 200 random writes (1 B..96 KiB, any offset) + fsync" \
	"$BLKIO" rand "$VD" --off 8M --len 8M --count 200 --min 1 \
	--max 96K --align 1 --fsync --seed 12 --shadow "$TMP/s2"
check "buffered writes: the backing device holds them after fsync" \
	"$BLKIO" cmp $BK 8M "$TMP/s2" 0 8M --direct
# The range is now in $VD's page cache, with the data above.
check "buffered read of $VD sees the same bytes" \
	"$BLKIO" cmp "$VD" 8M "$TMP/s2" 0 8M

# 3. backing -> zone: overwrite that range on the backing device.
check "root writes 200 random blocks to the backing device (O_DIRECT)" \
	"$BLKIO" rand $BK --off 8M --len 8M --count 200 --min 512 \
	--max 128K --align 512 --direct --seed 13 --shadow "$TMP/s3"
drop_caches
check "after dropping caches, $VD reads what root wrote (buffered)" \
	"$BLKIO" cmp "$VD" 8M "$TMP/s3" 0 8M
check "... and with O_DIRECT" \
	"$BLKIO" cmp "$VD" 8M "$TMP/s3" 0 8M --direct
check "a range root did not write reads as the zone wrote it" \
	"$BLKIO" cmp "$VD" 0 "$TMP/s1" 0 8M --direct

# 4. Several writers at once on disjoint ranges.
check "4 O_DIRECT writers at once on disjoint quarters of 16 MiB" \
	"$BLKIO" rand "$VD" --off 0 --len 16M --jobs 4 --count 500 \
	--min 512 --max 128K --align 512 --direct --seed 14 --shadow "$TMP/s4"
check "parallel O_DIRECT writes: the backing device holds them" \
	"$BLKIO" cmp $BK 0 "$TMP/s4" 0 16M --direct
check "4 buffered writers at once on disjoint quarters of 16 MiB, fsync" \
	"$BLKIO" rand "$VD" --off 16M --len 16M --jobs 4 --count 250 \
	--min 1 --max 64K --align 1 --fsync --seed 15 --shadow "$TMP/s5"
check "parallel buffered writes: the backing device holds them" \
	"$BLKIO" cmp $BK 16M "$TMP/s5" 0 16M --direct

# 5. More than 65,536 requests on the one queue: 4 KiB O_DIRECT writes
# through Linux AIO, 128 in flight (a full ring half the time), merging
# off so that every write is one request (one chain).
N=70000
q=/sys/block/$(dev_name "$VD")/queue
echo 2 >"$q/nomerges"
r0=$(blk_stat "$VD" 1)
w0=$(blk_stat "$VD" 5)
check "$N O_DIRECT 4 KiB writes, 128 in flight, on one queue" \
	"$BLKIO" aio "$VD" --off 0 --len 16M --count $N --bs 4K --depth 128 \
	--seed 16 --shadow "$TMP/s6"
r1=$(blk_stat "$VD" 1)
w1=$(blk_stat "$VD" 5)
n=$((r1 - r0 + w1 - w0))
[ "$n" -gt 65536 ] && ok "the queue completed $n requests (> 65536: its indices wrapped)" ||
	nok "more than 65536 requests completed" "only $n (reads $((r1 - r0)), writes $((w1 - w0)))"
check "after the wrap-around the backing device holds every write" \
	"$BLKIO" cmp $BK 0 "$TMP/s6" 0 16M --direct
check "after the wrap-around reads work: $VD equals the backing device" \
	"$BLKIO" cmp "$VD" 0 $BK 0 $((MIB << 20)) --direct
a=$(dd if="$VD" bs=1M iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
b=$(dd if=$BK bs=1M iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
[ -n "$a" ] && [ "$a" = "$b" ] && ok "md5sum of $VD equals md5sum of $BK ($a)" ||
	nok "md5sum of $VD equals md5sum of $BK" "$VD: $a, $BK: $b"
# 6. The other data paths of the backend: every request bounced through
# root's own pages (as when zone RAM has no struct page), and completed
# in the device's worker instead of in the bio completion.
P=/sys/module/hvisor_vhost/parameters
for mode in blk_force_bounce blk_complete_in_worker; do
	if [ ! -w "$P/$mode" ]; then
		skip "$mode: data both ways" "no $P/$mode"
		continue
	fi
	echo 1 >"$P/$mode"
	check "$mode=1: 2 O_DIRECT, then 2 buffered writers: the backing device holds their data" \
		sh -c "'$BLKIO' rand '$VD' --off 0 --len 8M --jobs 2 --count 120 --min 512 \
			--max 256K --direct --seed 21 --shadow '$TMP/b1' &&
			'$BLKIO' rand '$VD' --off 8M --len 8M --jobs 2 --count 120 --min 1 \
			--max 64K --align 1 --fsync --seed 22 --shadow '$TMP/b2' &&
			'$BLKIO' cmp $BK 0 '$TMP/b1' 0 8M --direct &&
			'$BLKIO' cmp $BK 8M '$TMP/b2' 0 8M --direct"
	check "$mode=1: root writes the backing device, $VD reads it" \
		sh -c "'$BLKIO' rand $BK --off 16M --len 8M --count 100 --min 512 \
			--max 128K --direct --seed 23 --shadow '$TMP/b3' &&
			echo 3 >/proc/sys/vm/drop_caches &&
			'$BLKIO' cmp '$VD' 16M '$TMP/b3' 0 8M &&
			'$BLKIO' cmp '$VD' 16M '$TMP/b3' 0 8M --direct"
	echo 0 >"$P/$mode"
done

grep -q "^$VD_V .* timeouts=0 " "$LB/devices" && ok "no register access timed out" ||
	nok "no register access timed out" "$(grep "^$VD_V " "$LB/devices")"

tap_end

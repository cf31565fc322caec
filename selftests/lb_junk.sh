#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The hypervisor passes the whole source register of a trapped store: a
# write of 1, 2 or 4 bytes carries garbage above its size, and the
# loopback puts random bits there (stats: junk_writes). The backend must
# honour the size.
#
# A disk probed with every driver write so (feature, queue and status
# registers), then its writeback flag switched through the 1-byte config
# field (cache_type: virtio_blk writes the byte, then reads the flag back
# from the device), then data written and read back. TAP output; busybox
# sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES=1
MIB=16
tap_begin

stat_of() { sed -n "s/^$1 //p" "$LB/stats"; }

mk_brd 1 $MIB || bail "modprobe brd failed"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "the loopback puts garbage above the size of writes (kind bit 3 clear)" \
	test $(($(cat /sys/module/hvisor_vhost_loopback/parameters/kind) & 8)) = 0
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
setup_disk A 1 0x1000000000 40 /dev/ram0 || bail "no disk"
check "the driver's writes carried garbage ($(stat_of junk_writes) of them)" \
	test "$(stat_of junk_writes)" -gt 0

CT=/sys/block/$(dev_name "$A")/cache_type
for v in "write through" "write back" "write through" "write back"; do
	j0=$(stat_of junk_writes)
	echo "$v" >"$CT" 2>"$LOG"
	check "cache_type '$v' (a 1-byte config write) reads back from the device" \
		test "$(cat "$CT")" = "$v"
	check "... and that write carried garbage" test "$(stat_of junk_writes)" -gt "$j0"
done
check "$MIB MiB of random writes through $A" \
	"$BLKIO" rand "$A" --off 0 --len ${MIB}M --count 300 --min 512 \
	--max 64K --direct --seed 5 --shadow "$TMP/shadow"
check "... are on the backing device" \
	"$BLKIO" cmp /dev/ram0 0 "$TMP/shadow" 0 ${MIB}M --direct
check "no register access timed out" test "$(stat_of timeouts)" = 0
lb_diag
tap_end

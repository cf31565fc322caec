#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A zone whose RAM is given as several regions that continue one another
# (for the guest and in host memory). The zone sees one RAM range and its
# block layer, and here the loopback's bounce allocator, put buffers across
# the regions' boundaries; the backend maps such regions as one, so those
# buffers are zone RAM like any other. The range the rig kept from root
# is given as 8 regions, 1 MiB apart at the start where the buffers are,
# and heavy random I/O of buffers up to 256 KiB must reach the backing
# device intact, with no request failed and no device broken. TAP; busybox
# sh.

# shellcheck disable=SC2034 # ZONES: read by lib.sh
. "$(dirname "$0")/lib.sh"

ZONES=2
GPA=0x2000000000
tap_begin
zram_begin

MIB=1048576
hpa=$(printf '%d' "$ZRAM_HPA")
gpa=$(printf '%d' "$GPA")
size=$(printf '%d' "$ZRAM_SIZE")
set --
i=0
while [ $i -lt 7 ]; do
	set -- "$@" --region "$(printf '0x%x:0x%x:0x%x' $((gpa + i * MIB)) $((hpa + i * MIB)) $MIB)"
	i=$((i + 1))
done
set -- "$@" --region "$(printf '0x%x:0x%x:0x%x' $((gpa + 7 * MIB)) $((hpa + 7 * MIB)) $((size - 7 * MIB)))"

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "the loopback takes the range as zone 2's RAM at $GPA" \
	sh -c "echo 2 $ZRAM_HPA $ZRAM_SIZE $GPA >$LB/zone_ram" || bail "no zone RAM"
check "zone 2: the range as 8 regions" "$HVCTL" zone add 2 "$@" || bail "no zone"
check "the module maps the 8 regions as one" sh -c \
	"dmesg | grep -q 'zone 2: 8 RAM region(s) mapped as 1, 1 without struct pages'"
"$HVCTL" zone list >"$LOG" 2>&1
[ "$(grep -c ' 0x00000020' "$LOG")" = 8 ] && ok "hvctl zone list shows the 8 regions given" ||
	nok "hvctl zone list shows the 8 regions given" "$(cat "$LOG")"

mk_brd 1 64 || bail "modprobe brd failed"
setup_disk VD 2 0x1000000000 40 /dev/ram0 || bail "no disk"
check "2000 random O_DIRECT writes of 4-256 KiB, 2 jobs, through $VD" \
	"$BLKIO" rand "$VD" --off 0 --len 48M --count 1000 --min 4096 --max 262144 --jobs 2 --direct --seed 11
drop_caches
check "$VD equals /dev/ram0 byte for byte" \
	"$BLKIO" cmp "$VD" 0 /dev/ram0 0 50331648 --direct
stats_field() {
	"$HVCTL" stats "$VD_ID" --json | tr ',' '\n' |
		sed -n "s/^\"$1\":\([0-9]*\).*/\1/p"
}
note "hvctl stats: $("$HVCTL" stats "$VD_ID" --json)"
check "no request failed" test "$(stats_field errors)" = 0
check_fails "the device never needed a reset (no buffer 'outside zone RAM')" sh -c \
	"dmesg | grep -q 'dev $VD_ID: .*device needs reset'"
zram_end
tap_end

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Two zones with two disks each, at the same time. Both zones use the same
# MMIO windows and IRQs (a device is found by zone and address), one disk
# has two queues. Writers run on all four disks at once (two processes
# each, O_DIRECT, random offsets and sizes), then readers on all four at
# once; every disk's bytes are checked against its own backing device (4
# brd RAM disks), so that nothing went to the wrong disk or zone. TAP
# output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES="1 2"
MIB=16
tap_begin

mk_brd 4 $MIB || bail "modprobe brd failed"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zones 1 and 2 with identity RAM" \
	sh -c "'$HVCTL' zone add 1 --identity-ram && '$HVCTL' zone add 2 --identity-ram" ||
	bail "no zones"
setup_disk A 1 0x1000000000 40 /dev/ram0 || bail "no disk"
setup_disk B 1 0x1000001000 41 /dev/ram1 || bail "no disk"
setup_disk C 2 0x1000000000 40 /dev/ram2 || bail "no disk"
setup_disk D 2 0x1000001000 41 /dev/ram3 --queues 2 || bail "no disk"
DISKS="$A $B $C $D"

# Distinct serials in the backing devices' first sector, seen by the zone.
i=0
for d in $DISKS; do
	printf 'disk-%d-%s' $i "$d" | dd of=/dev/ram$i bs=512 conv=sync,notrunc oflag=direct 2>/dev/null
	i=$((i + 1))
done
drop_caches
bad=
i=0
for d in $DISKS; do
	got=$(dd if="$d" bs=512 count=1 iflag=direct 2>/dev/null | tr -d '\000')
	[ "$got" = "disk-$i-$d" ] || bad="$bad $d:'$got'"
	i=$((i + 1))
done
[ -z "$bad" ] && ok "each disk shows its own backing device (zone and address select it)" ||
	nok "each disk shows its own backing device" "got:$bad"

# Writers on all four at once.
i=0
pids=
for d in $DISKS; do
	"$BLKIO" rand "$d" --off 0 --len ${MIB}M --jobs 2 --count 300 \
		--min 512 --max 128K --direct --seed $((i + 40)) \
		--shadow "$TMP/s$i" >"$TMP/w$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
i=0
for p in $pids; do
	if wait "$p"; then
		ok "writers on disk $i ($(echo "$DISKS" | cut -d' ' -f$((i + 1)))) finished: $(cat "$TMP/w$i")"
	else
		cp "$TMP/w$i" "$LOG"
		nok "writers on disk $i finished" "they failed"
	fi
	i=$((i + 1))
done

i=0
for d in $DISKS; do
	check "/dev/ram$i, the backing device of $d, holds what was written to $d" \
		"$BLKIO" cmp /dev/ram$i 0 "$TMP/s$i" 0 ${MIB}M --direct
	i=$((i + 1))
done

# Readers on all four at once.
i=0
pids=
for d in $DISKS; do
	"$BLKIO" cmp "$d" 0 "$TMP/s$i" 0 ${MIB}M --direct >"$TMP/r$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
i=0
for p in $pids; do
	if wait "$p"; then
		ok "concurrent read of disk $i matches"
	else
		cp "$TMP/r$i" "$LOG"
		nok "concurrent read of disk $i matches"
	fi
	i=$((i + 1))
done

bad=$(awk '$0 !~ / timeouts=0 / { print $1 }' "$LB/devices")
[ -z "$bad" ] && ok "no register access of either zone timed out" ||
	nok "no register access of either zone timed out" "$bad"

tap_end

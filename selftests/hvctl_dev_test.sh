#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvctl against the module's zones and devices: zone add --identity-ram,
# add-blk on loop devices, list (text and JSON), del, zone del, and each
# error the module reports (exit status 1, a message naming the object,
# `hvctl list --json` unchanged). Expects a module without zones or
# devices and leaves it so. TAP output; busybox sh.
#
#   HVCTL   the hvctl to test (default: hvctl from PATH)

HVCTL=${HVCTL:-hvctl}
TMP=${TMPDIR:-/tmp}/hvctl_dev_test.$$
OUT=$TMP/out
ZONE=250
# Above the guest RAM of the test machines, so outside the zone's RAM.
MMIO=0x1000000000
n=0
failed=0
LOOPS=

mkdir -p "$TMP" || exit 1

cleanup() {
	for id in $("$HVCTL" list --json 2>/dev/null | tr '{' '\n' |
		sed -n "s/^\"id\":\([0-9]*\),\"type\".*\"zone\":$ZONE,.*/\1/p"); do
		"$HVCTL" del "$id" >/dev/null 2>&1
	done
	"$HVCTL" zone del $ZONE >/dev/null 2>&1
	for l in $LOOPS; do
		losetup -d "$l" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "TAP version 13"

result() {
	n=$((n + 1))
	if [ -z "$1" ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		echo "# $1"
		sed 's/^/#   | /' "$OUT"
	fi
}

list_json() {
	"$HVCTL" list --json 2>&1
}

# t DESC WANT_RC PATTERN CMD...: as in hvctl_test.sh; a failing command
# must leave `hvctl list --json` as it was.
t() {
	desc=$1 want=$2 pat=$3
	shift 3
	before=$(list_json)
	"$@" >"$OUT" 2>&1
	rc=$?
	why=
	[ "$rc" = "$want" ] || why="exit status $rc, want $want"
	if [ -n "$pat" ] && ! grep -q -- "$pat" "$OUT"; then
		why="${why:+$why; }output lacks '$pat'"
	fi
	if [ "$want" != 0 ]; then
		now=$(list_json)
		[ "$now" = "$before" ] ||
			why="${why:+$why; }hvctl list changed: $now"
	fi
	result "$why" "$desc"
}

# A loop device over a 1 MiB file.
mkloop() {
	dd if=/dev/zero of="$TMP/$1.img" bs=1024 count=1024 2>/dev/null &&
		l=$(losetup -f) && losetup "$l" "$TMP/$1.img" || return 1
	echo "$l"
}

if ! L0=$(mkloop a) || ! L1=$(mkloop b) || ! L2=$(mkloop c); then
	echo "not ok 1 - loop devices"
	echo "1..1"
	exit 1
fi
# mkloop ran in subshells: record the devices for cleanup here.
LOOPS="$L0 $L1 $L2"

t "zone add --identity-ram" 0 '' "$HVCTL" zone add $ZONE --identity-ram
t "zone list shows the zone" 0 "^$ZONE " "$HVCTL" zone list
t "zone list --json shows the zone, not from the device tree" 0 \
	"{\"id\":$ZONE,\"from_dt\":false,\"regions\":\[{" \
	"$HVCTL" zone list --json
t "zone add of an existing zone exits 1" 1 "zone $ZONE already exists" \
	"$HVCTL" zone add $ZONE --identity-ram

t "add-blk prints the device id" 0 '^[0-9][0-9]*$' \
	"$HVCTL" add-blk "$L0" --zone $ZONE --mmio $MMIO --irq 40 \
	--serial hvctl-test
D0=$(cat "$OUT")
t "list shows the device" 0 \
	"^$D0 *blk *$ZONE *0x1000000000 *0x200 *40 .*$L0 (image $TMP/a.img) 1.0 MiB (2048 sectors) rw serial \"hvctl-test\"" \
	"$HVCTL" list
t "list --json shows the device, not from the device tree" 0 \
	"{\"id\":$D0,\"type\":\"blk\",\"type_id\":2,\"zone\":$ZONE,\"mmio_base\":68719476736,\"mmio_size\":512,\"irq\":40,\"queues\":[0-9]*,\"from_dt\":false,\"blk\":{\"read_only\":false,\"serial\":\"hvctl-test\",\"capacity_sectors\":2048,\"backing\":\"$L0\",\"image\":\"$TMP/a.img\"}}" \
	"$HVCTL" list --json

t "add-blk of a claimed device exits 1" 1 "$L0 is already in use" \
	"$HVCTL" add-blk "$L0" --zone $ZONE --mmio 0x1000001000 --irq 41
t "add-blk over another device's window exits 1" 1 \
	"MMIO window 0x1000000000-0x10000001ff overlaps device $D0's" \
	"$HVCTL" add-blk "$L1" --zone $ZONE --mmio $MMIO --irq 41
t "add-blk with an IRQ in use exits 1" 1 \
	"IRQ 40 is already used by device $D0 in zone $ZONE" \
	"$HVCTL" add-blk "$L1" --zone $ZONE --mmio 0x1000001000 --irq 40
t "add-blk to an unknown zone exits 1" 1 'zone 251 does not exist' \
	"$HVCTL" add-blk "$L1" --zone 251 --mmio 0x1000001000 --irq 41
t "add-blk with a misaligned window exits 1" 1 'refused' \
	"$HVCTL" add-blk "$L1" --zone $ZONE --mmio 0x1000001010 --irq 41
# The zone's first RAM region (identity: guest == host).
RAM=$("$HVCTL" zone list --json | tr '{' '\n' |
	sed -n 's/^"guest_phys":\([0-9]*\),.*/\1/p' | head -n 1)
t "add-blk with the window in zone RAM exits 1" 1 "lies in RAM of zone $ZONE" \
	"$HVCTL" add-blk "$L1" --zone $ZONE --mmio "$RAM" --irq 41
t "zone del with devices exits 1" 1 "zone $ZONE: it still has devices" \
	"$HVCTL" zone del $ZONE

t "add-blk --ro" 0 '^[0-9][0-9]*$' \
	"$HVCTL" add-blk "$L1" --zone $ZONE --mmio 0x1000001000 --size 4K \
	--irq 41 --ro
D1=$(cat "$OUT")
t "list shows the read-only device" 0 \
	"^$D1 *blk *$ZONE *0x1000001000 *0x1000 *41 .* ro$" "$HVCTL" list
t "device ids differ" 0 '' test "$D0" != "$D1"
# A read-only disk makes a read-only device, and hvctl says so.
if L3=$(mkloop ro-src) && losetup -d "$L3" && losetup -r "$L3" "$TMP/ro-src.img"; then
	LOOPS="$LOOPS $L3"
	t "add-blk of a read-only disk notes it" 0 "$L3 is read-only, so is device" \
		"$HVCTL" add-blk "$L3" --zone $ZONE --mmio 0x1000002000 --irq 42
	D3=$(sed -n '$p' "$OUT")
	t "the device of a read-only disk is read-only" 0 \
		"^$D3 *blk *$ZONE *0x1000002000 .* ro$" "$HVCTL" list
	t "del it" 0 '' "$HVCTL" del "$D3"
else
	result "losetup -r failed" "read-only loop device"
fi

t "del removes the device" 0 '' "$HVCTL" del "$D0"
t "list no longer shows it" 0 '' sh -c \
	"! '$HVCTL' list | grep -q '^$D0 '"
t "del of a removed device exits 1" 1 "device $D0: no such device" \
	"$HVCTL" del "$D0"
t "the released device can be added again" 0 '^[0-9][0-9]*$' \
	"$HVCTL" add-blk "$L0" --zone $ZONE --mmio $MMIO --irq 40
D0=$(cat "$OUT")
t "del" 0 '' "$HVCTL" del "$D0"
t "del the read-only device" 0 '' "$HVCTL" del "$D1"
t "zone del" 0 '' "$HVCTL" zone del $ZONE
t "list is empty again" 0 '^no devices$' "$HVCTL" list
t "zone list is empty again" 0 '^no zones$' "$HVCTL" zone list
t "zone del of a removed zone exits 1" 1 "zone $ZONE: no such zone" \
	"$HVCTL" zone del $ZONE

echo "1..$n"
[ "$failed" = 0 ]

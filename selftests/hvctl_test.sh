#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvctl's exit codes and messages (see tools/hvctl/README.md): help, usage
# errors, a missing module, ioctl failures and bad input. After every
# failing command, `hvctl list --json` must be unchanged. Expects the
# module loaded with no zone and no device. TAP output; busybox sh.
#
#   HVCTL   the hvctl to test (default: hvctl from PATH)

HVCTL=${HVCTL:-hvctl}
TMP=${TMPDIR:-/tmp}/hvctl_test.$$
OUT=$TMP/out
n=0
failed=0

mkdir -p "$TMP" || exit 1
trap 'rm -rf "$TMP"' EXIT

echo "TAP version 13"

# result WHY DESC: ok when WHY is empty; shows the output otherwise.
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

# t DESC WANT_RC PATTERN CMD...: run CMD (stdout and stderr to $OUT),
# check its exit status, that the output matches PATTERN (a grep basic
# regex, empty for none) and, for a failing command, that the module's
# state did not change.
t() {
	desc=$1 want=$2 pat=$3
	shift 3
	"$@" >"$OUT" 2>&1
	rc=$?
	why=
	[ "$rc" = "$want" ] || why="exit status $rc, want $want"
	if [ -n "$pat" ] && ! grep -q -- "$pat" "$OUT"; then
		why="${why:+$why; }output lacks '$pat'"
	fi
	if [ "$want" != 0 ] && [ -n "$BASE" ]; then
		now=$(list_json)
		[ "$now" = "$BASE" ] ||
			why="${why:+$why; }hvctl list changed: $now"
	fi
	result "$why" "$desc"
}

if ! command -v "$HVCTL" >/dev/null 2>&1; then
	echo "not ok 1 - hvctl found (HVCTL=$HVCTL)"
	echo "1..1"
	exit 1
fi

BASE=
# The state every failure must leave untouched.
t "list --json works" 0 '"devices"' "$HVCTL" list --json
BASE=$(list_json)

# Help.
t "--help exits 0" 0 '^Usage: hvctl' "$HVCTL" --help
t "-h exits 0" 0 '^Usage: hvctl' "$HVCTL" -h
t "help exits 0" 0 '^Usage: hvctl' "$HVCTL" help
t "--help documents exit status 3" 0 '3 .*not loaded' "$HVCTL" --help
t "--help documents exit status 4" 0 '4 .*ABI' "$HVCTL" --help
for c in version list zone add-blk del; do
	t "$c --help exits 0" 0 "Usage: hvctl $c" "$HVCTL" $c --help
	t "help $c exits 0" 0 "Usage: hvctl $c" "$HVCTL" help $c
done
for c in add del list; do
	t "zone $c --help exits 0" 0 "Usage: hvctl zone $c" \
		"$HVCTL" zone $c --help
done

# Usage errors: exit status 2.
t "no command exits 2" 2 'missing command' "$HVCTL"
t "unknown command exits 2" 2 "unknown command 'frobnicate'" \
	"$HVCTL" frobnicate
t "help of an unknown command exits 2" 2 'unknown command' \
	"$HVCTL" help frobnicate
t "unknown option exits 2" 2 "unknown option '--bogus'" \
	"$HVCTL" list --bogus
t "extra argument exits 2" 2 'unexpected argument' "$HVCTL" version extra
t "zone without subcommand exits 2" 2 'missing subcommand' "$HVCTL" zone
t "zone frob exits 2" 2 "unknown subcommand" "$HVCTL" zone frob
t "zone add without id exits 2" 2 'missing zone id' "$HVCTL" zone add
t "zone add without RAM exits 2" 2 'no RAM' "$HVCTL" zone add 5
t "zone add 0 exits 2" 2 'zone 0 is root' \
	"$HVCTL" zone add 0 --region 0x40000000:0x40000000:1M
t "zone add with a bad id exits 2" 2 "bad zone id 'x5'" \
	"$HVCTL" zone add x5 --region 0x40000000:0x40000000:1M
t "zone add with a malformed region exits 2" 2 "bad region '0x1000:4K'" \
	"$HVCTL" zone add 5 --region 0x1000:4K
t "zone add with a bad size suffix exits 2" 2 'bad region' \
	"$HVCTL" zone add 5 --region 0x40000000:0x40000000:1Q
t "zone add with an empty region exits 2" 2 'size is zero' \
	"$HVCTL" zone add 5 --region 0x40000000:0x40000000:0
t "zone add with an unaligned region exits 2" 2 'not aligned' \
	"$HVCTL" zone add 5 --region 0x40000800:0x40000000:1M
t "zone add with guest-overlapping regions exits 2" 2 \
	'overlap in guest-physical' "$HVCTL" zone add 5 \
	--region 0x40000000:0x80000000:1M --region 0x400ff000:0x90000000:1M
t "zone add with host-overlapping regions exits 2" 2 \
	'overlap in host-physical' "$HVCTL" zone add 5 \
	--region 0x40000000:0x80000000:1M --region 0x50000000:0x800ff000:1M
t "zone add with 9 regions exits 2" 2 'more than 8 regions' \
	"$HVCTL" zone add 5 \
	--region 0x100000:0x100000:4K --region 0x200000:0x200000:4K \
	--region 0x300000:0x300000:4K --region 0x400000:0x400000:4K \
	--region 0x500000:0x500000:4K --region 0x600000:0x600000:4K \
	--region 0x700000:0x700000:4K --region 0x800000:0x800000:4K \
	--region 0x900000:0x900000:4K
t "zone add with a region past 2^64 exits 2" 2 'beyond the 64-bit' \
	"$HVCTL" zone add 5 --region 0xfffffffffffff000:0x1000:8K
t "zone del without id exits 2" 2 'missing zone id' "$HVCTL" zone del
t "zone del with a bad id exits 2" 2 'bad zone id' "$HVCTL" zone del -- -1
t "del without id exits 2" 2 'missing device id' "$HVCTL" del
t "del with a bad id exits 2" 2 "bad device id 'abc'" "$HVCTL" del abc
t "del 0 exits 2" 2 "bad device id '0'" "$HVCTL" del 0
t "add-blk without path exits 2" 2 'missing block device path' \
	"$HVCTL" add-blk --zone 1 --mmio 0x10000000 --irq 40

# add-blk input errors (exit status 2), checked before the module.
IMG=$TMP/disk.img
dd if=/dev/zero of="$IMG" bs=1024 count=64 2>/dev/null
: >"$TMP/empty.img"
t "add-blk of an empty image exits 2" 2 \
	'needs at least one 512-byte sector' \
	"$HVCTL" add-blk "$TMP/empty.img" --zone 1 --mmio 0x10000000 --irq 40
t "add-blk of a directory exits 2" 2 'is a directory' \
	"$HVCTL" add-blk /etc --zone 1 --mmio 0x10000000 --irq 40
t "add-blk of a character device: not a block device, exits 2" 2 \
	'/dev/null is not a block device or an image file' \
	"$HVCTL" add-blk /dev/null --zone 1 --mmio 0x10000000 --irq 40
t "add-blk of a missing path exits 2" 2 'no such file' \
	"$HVCTL" add-blk "$TMP/nothing" --zone 1 --mmio 0x10000000 --irq 40
t "add-blk without --zone exits 2" 2 'missing --zone' \
	"$HVCTL" add-blk "$IMG" --mmio 0x10000000 --irq 40
t "add-blk without --mmio exits 2" 2 'missing --mmio' \
	"$HVCTL" add-blk "$IMG" --zone 1 --irq 40
t "add-blk without --irq exits 2" 2 'missing --irq' \
	"$HVCTL" add-blk "$IMG" --zone 1 --mmio 0x10000000
t "add-blk --zone without value exits 2" 2 "option '--zone' needs" \
	"$HVCTL" add-blk "$IMG" --irq 40 --mmio 0x10000000 --zone
t "add-blk with a bad --mmio exits 2" 2 "bad MMIO base '0xzz'" \
	"$HVCTL" add-blk "$IMG" --zone 1 --mmio 0xzz --irq 40
t "add-blk with a negative --irq exits 2" 2 "bad IRQ '-4'" \
	"$HVCTL" add-blk "$IMG" --zone 1 --mmio 0x10000000 --irq -4
t "add-blk with an IRQ past 32 bits exits 2" 2 "bad IRQ" \
	"$HVCTL" add-blk "$IMG" --zone 1 --mmio 0x10000000 --irq 0x100000000
t "add-blk with a small window exits 2" 2 'below the minimum' \
	"$HVCTL" add-blk "$IMG" --zone 1 --mmio 0x10000000 --size 0x100 \
	--irq 40
t "add-blk with a 21-byte serial exits 2" 2 'longer than 20 bytes' \
	"$HVCTL" add-blk "$IMG" --zone 1 --mmio 0x10000000 --irq 40 \
	--serial 123456789012345678901
t "add-blk with 0 queues exits 2" 2 "bad queue count '0'" \
	"$HVCTL" add-blk "$IMG" --zone 1 --mmio 0x10000000 --irq 40 --queues 0

# Talking to the module.
t "version exits 0" 0 '^module ABI version: [0-9]' "$HVCTL" version
tool_abi=$(sed -n 's/^tool ABI version: //p' "$OUT")
mod_abi=$(sed -n 's/^module ABI version: //p' "$OUT")
why=
[ -n "$tool_abi" ] && [ "$tool_abi" = "$mod_abi" ] ||
	why="tool ABI '$tool_abi', module ABI '$mod_abi'"
result "$why" "version: module ABI equals the tool's"
t "version shows features" 0 '^features: ' "$HVCTL" version
t "version shows limits" 0 '^max zones: [0-9]' "$HVCTL" version
t "list exits 0 and says there are no devices" 0 '^no devices$' \
	"$HVCTL" list
t "list says there are no zones" 0 '^no zones$' "$HVCTL" list
t "list --json of an empty module" 0 '^{"zones":\[\],"devices":\[\]}$' \
	"$HVCTL" list --json
t "zone list of an empty module" 0 '^no zones$' "$HVCTL" zone list
t "zone list --json of an empty module" 0 '^{"zones":\[\]}$' \
	"$HVCTL" zone list --json

# The module refuses: exit status 1 with the object named.
t "zone del 99 exits 1 naming the zone" 1 'zone 99.*no such zone' \
	"$HVCTL" zone del 99
t "del 99 exits 1 naming the device" 1 'device 99.*no such device' \
	"$HVCTL" del 99

# No module: exit status 3.
for args in "list" "version" "zone list" "zone del 1" "del 1"; do
	# shellcheck disable=SC2086
	t "$args without the device node exits 3" 3 \
		'hvisor_vhost module not loaded (no /nonexistent/hvisor_vhost)' \
		env HVCTL_DEVICE=/nonexistent/hvisor_vhost "$HVCTL" $args
done
# A node that is not ours: the version query fails, exit status 1.
t "list on /dev/null exits 1" 1 'version query failed' \
	env HVCTL_DEVICE=/dev/null "$HVCTL" list
t "zone del on /dev/null exits 1" 1 'version query failed' \
	env HVCTL_DEVICE=/dev/null "$HVCTL" zone del 1

echo "1..$n"
[ "$failed" = 0 ]

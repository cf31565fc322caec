#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvctl stats: the per-device counters move as the zone does I/O. A
# brd-backed virtio-blk disk: after a direct write and a direct read of
# 1 MiB through the zone's /dev/vdX, requests, bytes, kicks and interrupts
# have grown (bytes by at least the 2 MiB moved), errors stay 0, inflight
# is back to 0, bounced stays 0 (aligned buffers in root's RAM go into bios
# as they are); on a slow null_blk disk inflight is seen above 0 while a
# read waits. The table and `--json` (parsed back with sed/awk) agree;
# bad and unknown device ids fail with exit status 2 and 1. TAP output;
# busybox sh.

. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2034 # read by lib.sh
ZONES=1
tap_begin

# st_json [ID]: `hvctl stats [ID] --json`.
st_json() {
	"$HVCTL" stats "$@" --json
}

# st_field JSON ID NAME: counter NAME of device ID in a stats JSON object.
st_field() {
	echo "$1" | sed 's/},{/}\n{/g' | grep "\"id\":$2," | tr ',' '\n' |
		sed -n "s/^\"$3\":\([0-9]*\).*/\1/p"
}

# st_grew BEFORE AFTER NAME [MIN]: counter NAME grew by at least MIN (1).
st_grew() {
	_a=$(st_field "$1" "$ID" "$3") _b=$(st_field "$2" "$ID" "$3")
	if [ -n "$_a" ] && [ -n "$_b" ] && [ "$_b" -ge $((_a + ${4:-1})) ]; then
		ok "$3 grew by at least ${4:-1}: $_a -> $_b"
	else
		nok "$3 grew by at least ${4:-1}" "before '$_a', after '$_b'"
	fi
}

# st_is FIELD WANT JSON: counter FIELD of device ID is WANT.
st_is() {
	_v=$(st_field "$3" "$ID" "$1")
	if [ "$_v" = "$2" ]; then
		ok "$1 is $2"
	else
		nok "$1 is $2" "it is '$_v'"
	fi
}

# st_inflight OP N: device ID2's inflight counter compared with test's OP
# (-ge, -eq) to N.
# shellcheck disable=SC2317 # run through wait_for
st_inflight() {
	_s=$(st_json "$ID2") && test "$(st_field "$_s" "$ID2" inflight)" "$1" "$2"
}

mk_brd 1 16 || bail "no brd"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
setup_disk VD 1 0x1000000000 40 /dev/ram0 || bail "no disk"
ID=$VD_ID

RE='^\{"devices":\[\{"id":[0-9]+,"type":"blk","zone":1,"requests":[0-9]+,"bytes":[0-9]+,"errors":[0-9]+,"kicks":[0-9]+,"interrupts":[0-9]+,"inflight":[0-9]+,"bounced":[0-9]+\}\]\}$'
S0=$(st_json "$ID")
echo "$S0" >"$LOG"
if echo "$S0" | grep -Eq "$RE"; then
	ok "stats $ID --json is one well-formed object"
else
	nok "stats $ID --json is one well-formed object" "no match for $RE"
fi
note "before: $S0"

check "write 1 MiB through $VD (O_DIRECT)" \
	dd if=/dev/urandom of="$VD" bs=64k count=16 oflag=direct
check "read it back (O_DIRECT)" \
	dd if="$VD" of=/dev/null bs=64k count=16 iflag=direct
S1=$(st_json "$ID")
note "after: $S1"
st_grew "$S0" "$S1" requests 32
st_grew "$S0" "$S1" bytes $((2 * 1024 * 1024))
st_grew "$S0" "$S1" kicks
st_grew "$S0" "$S1" interrupts
st_is errors 0 "$S1"
st_is inflight 0 "$S1"
# Root's RAM, O_DIRECT buffers aligned to the block: no copy.
st_is bounced 0 "$S1"

# The table says the same as the JSON (nothing moves while idle).
"$HVCTL" stats "$ID" >"$TMP/table" 2>&1
cp "$TMP/table" "$LOG"
S2=$(st_json "$ID")
row=$(awk -v id="$ID" '$1 == id { print $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$TMP/table")
want="blk 1 $(st_field "$S2" "$ID" requests) $(st_field "$S2" "$ID" bytes) $(st_field "$S2" "$ID" errors) $(st_field "$S2" "$ID" kicks) $(st_field "$S2" "$ID" interrupts) $(st_field "$S2" "$ID" inflight) $(st_field "$S2" "$ID" bounced)"
if [ "$row" = "$want" ]; then
	ok "the table's row matches --json: $row"
else
	nok "the table's row matches --json" "table '$row', json '$want'"
fi
check "the table has its header" grep -q \
	'^DEV  *TYPE  *ZONE  *REQUESTS  *BYTES  *ERRORS  *KICKS  *INTERRUPTS  *INFLIGHT  *BOUNCED$' \
	"$TMP/table"

# inflight: a disk whose every request takes 100 ms.
mk_nullb NB slow 16 irqmode=2 completion_nsec=100000000 ||
	bail "no null_blk device"
setup_disk VD2 1 0x1000001000 41 "$NB" || bail "no slow disk"
ID2=$VD2_ID
bg dd if="$VD2" of=/dev/null bs=4k count=6 iflag=direct 2>/dev/null
check "inflight of the slow disk is >= 1 while a read waits" wait_for 5 st_inflight -ge 1
check "the read ends" wait_for 10 exited "$BG_PID"
check "inflight is back to 0" wait_for 5 st_inflight -eq 0

# Every device: both, in one object.
ALL=$(st_json)
echo "$ALL" >"$LOG"
n=$(echo "$ALL" | sed 's/},{/}\n{/g' | grep -c '"id":')
if [ "$n" -ge 2 ] && [ -n "$(st_field "$ALL" "$ID" requests)" ] &&
	[ -n "$(st_field "$ALL" "$ID2" requests)" ]; then
	ok "stats --json lists both devices"
else
	nok "stats --json lists both devices" "$n objects"
fi
if [ "$(st_field "$ALL" "$ID2" requests)" -ge 6 ]; then
	ok "the slow disk counted its requests"
else
	nok "the slow disk counted its requests" "$ALL"
fi

# Errors of the command.
"$HVCTL" stats abc >"$LOG" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q "bad device id 'abc'" "$LOG"; then
	ok "stats abc: exit status 2, 'bad device id'"
else
	nok "stats abc: exit status 2, 'bad device id'" "exit status $rc"
fi
"$HVCTL" stats 4000 >"$LOG" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "device 4000: no such device" "$LOG"; then
	ok "stats of an unknown device: exit status 1, 'no such device'"
else
	nok "stats of an unknown device: exit status 1, 'no such device'" \
		"exit status $rc"
fi

tap_end

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-net with zone RAM that root does not manage, as on a board (see
# blk_nopage.sh for how the range is kept from root and given to zone 2):
# the zone's virtio_net keeps its rings in the range and every frame and
# receive buffer is bounced through it; the backend moves frames between
# the tap and that memory with copies (kvec iterators over its own mapping
# of the range, which has no struct pages). Checked: ping both ways, also
# 1400 bytes; a TCP transfer each way arrives with its checksum; a burst
# of small UDP datagrams each way arrives complete; the loopback bounced
# both ways and got all of the range back. TAP output; busybox sh.

# shellcheck disable=SC2034 # ZONES, MOUNTS: read by lib.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

ZONES=2
MB=${NET_TEST_MB:-8}
GPA=0x2000000000
net_begin
zram_begin
zram_zone 2 $GPA || bail "no zone over the range"

check "a persistent tap0" mk_tap tap0 || bail "no tap"
net_zone Z 2 0x1000000000 40 tap0 10.0.0 || bail "no zone interface"
check "the zone's link is up" wait_for 10 link_up "$Z_NS" "$Z_IF"
check "the rings are in the zone's RAM" test "$(zram coherent)" -ge 2

check "root pings the zone" ping -c 3 -W 5 10.0.0.2
check "the zone pings root" in_ns "$Z_NS" ping -c 3 -W 5 10.0.0.1
check "a 1400-byte ping each way" \
	sh -c "ping -c 2 -W 5 -s 1400 10.0.0.2 && nsenter -t $Z_NS -n ping -c 2 -W 5 -s 1400 10.0.0.1"

dd if=/dev/urandom of="$TMP/data" bs=1M count="$MB" 2>/dev/null ||
	bail "no test data"
# errors: the backend's error counter of the device. (The zone's first
# frames can be refused: its interface comes up before tap0 does.)
errors() {
	"$HVCTL" stats "$Z_ID" --json | sed -n 's/.*"errors":\([0-9]*\).*/\1/p'
}
e0=$(errors)
note "backend errors before the transfers: $e0"
check "TCP, zone -> root: $MB MiB arrive intact" \
	tcp_xfer "$Z_NS" - 10.0.0.1 "$TMP/data" && note "zone -> root: $TCP_RATE"
check "TCP, root -> zone: $MB MiB arrive intact" \
	tcp_xfer - "$Z_NS" 10.0.0.2 "$TMP/data" && note "root -> zone: $TCP_RATE"
check "UDP, zone -> root: a burst of 2000 small datagrams arrives complete" \
	udp_burst "$Z_NS" - 10.0.0.1 2000 64
check "UDP, root -> zone: a burst of 2000 small datagrams arrives complete" \
	udp_burst - "$Z_NS" 10.0.0.2 2000 64

note "hvctl stats: $("$HVCTL" stats "$Z_ID" --json)"
check "the backend counted no error during the transfers" \
	test "$(errors)" = "$e0"
check "the loopback bounced frames into the zone's RAM" \
	test "$(zram bytes_to_dev)" -gt $((MB * 1048576))
check "and received frames out of it" \
	test "$(zram bytes_to_cpu)" -gt $((MB * 1048576))
# The interface goes with its device: nothing may still use the range.
kill -9 "$Z_NS" 2>/dev/null
zram_end
check "hvctl del" "$HVCTL" del "$Z_ID"

tap_end

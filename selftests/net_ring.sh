#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Queue reset (VIRTIO_F_RING_RESET): the zone's virtio_net accepts the
# feature, and resizing its rings (ethtool -G, which resets each queue on
# its own through QueueReset and enables it again with a new ring) works
# while a TCP transfer runs: every resize succeeds, the transfer arrives
# intact, and traffic flows at each new size. A device that serves queues
# at the old size after a resize would read the new, smaller descriptor
# tables out of range and be marked broken. TAP output; busybox sh.
#
#   NET_TEST_MB   size of the TCP transfer in MiB (default 16)

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

# The zone's virtio_net resizes a ring through a queue reset, which Linux
# has since 6.0: an older kernel's driver can do neither.
case $(uname -r) in
[1-5].*)
	echo "TAP version 13"
	echo "1..0 # SKIP $(uname -r): virtio_net resizes no rings before 6.0"
	exit 4
	;;
esac

ZONES=1
MB=${NET_TEST_MB:-16}
RING_RESET=40
net_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
check "a persistent tap0" mk_tap tap0 || bail "no tap"
net_zone Z 1 0x1000000000 40 tap0 10.0.0 || bail "no zone interface"
check "the driver accepted VIRTIO_F_RING_RESET" features "$Z_V" $RING_RESET

ring() { in_ns "$Z_NS" "$NET_HELPER" ring "$Z_IF" "$@"; }
sizes=$(ring 2>&1)
note "rings: $sizes"
MAX=$(echo "$sizes" | sed -n 's/.* max \([0-9]*\) .*/\1/p')
[ -n "$MAX" ] || bail "cannot read the ring sizes: $sizes"

dd if=/dev/urandom of="$TMP/data" bs=1M count="$MB" 2>/dev/null ||
	bail "no test data"
(
	tcp_xfer "$Z_NS" - 10.0.0.1 "$TMP/data"
	echo $? >"$TMP/xfer.rc"
) >"$TMP/xfer.out" 2>&1 &
XFER=$!
sleep 1

for n in 64 $((MAX / 2)) 32 "$MAX"; do
	got=$(ring "$n" "$n" 2>&1)
	case $got in
	"rx $n tx $n "*)
		ok "under traffic: rings resized to $n ($got)"
		;;
	*)
		nok "under traffic: rings resized to $n" "$got"
		;;
	esac
	sleep 1
done
wait $XFER
rc=$(cat "$TMP/xfer.rc" 2>/dev/null)
[ "$rc" = 0 ] &&
	ok "TCP, zone -> root across the resizes: $MB MiB arrive intact" ||
	nok "TCP, zone -> root across the resizes: $MB MiB arrive intact" \
		"tcp_xfer: ${rc:-none}: $(tail -2 "$TMP/xfer.out")"

# 64 entries still hold a 64 KiB GSO frame in mergeable buffers; far
# smaller rings cannot, and such frames are dropped (and counted). The
# driver keeps only half of a ring posted at times: a frame that needs
# more is dropped too, and TCP sends it again (it used to stop RX).
check "rings of 64: resize" ring 64 64
check "at 64 entries: the zone pings root" in_ns "$Z_NS" ping -c 3 -W 5 10.0.0.1
check "at 64 entries: TCP, root -> zone: $MB MiB arrive intact" \
	tcp_xfer - "$Z_NS" 10.0.0.2 "$TMP/data"
new_dmesg | grep -q "dev $Z_ID: .*needs reset" &&
	nok "the device was never marked broken" "$(new_dmesg | grep 'needs reset')" ||
	ok "the device was never marked broken"

tap_end

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-net device reset under traffic: with TCP streams running both
# ways, the zone's driver is unbound (the device is reset with frames in
# flight both ways) and bound again, twice; each time a new
# interface comes up, in the zone's namespace again, and the zone and root
# ping each other and move data intact. The kernel stays healthy. TAP
# output; busybox sh.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

ZONES=1
net_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
check "a persistent tap0" mk_tap tap0 || bail "no tap"
net_zone Z 1 0x1000000000 40 tap0 10.0.0 || bail "no zone interface"
dd if=/dev/urandom of="$TMP/data" bs=1M count=1 2>/dev/null ||
	bail "no test data"
IF=$Z_IF

# Streams that run until they break: the zone's interface goes away under
# them.
streams() {
	STREAMS=
	sleep 1000 | nc -l -p "$1" >/dev/null 2>&1 &
	STREAMS="$STREAMS $!"
	sleep 1000 | in_ns "$Z_NS" nc -l -p "$2" >/dev/null 2>&1 &
	STREAMS="$STREAMS $!"
	wait_for 10 sh -c "netstat -tln | grep -q ':$1 '"
	wait_for 10 sh -c "nsenter -t $Z_NS -n netstat -tln | grep -q ':$2 '"
	# Sessions of their own, so that they stop as a whole.
	bg setsid sh -c "dd if=/dev/zero bs=64k count=100000 2>/dev/null | nsenter -t $Z_NS -n nc 10.0.0.1 $1"
	STREAMS="$STREAMS -$BG_PID"
	bg setsid sh -c "dd if=/dev/zero bs=64k count=100000 2>/dev/null | nc 10.0.0.2 $2"
	STREAMS="$STREAMS -$BG_PID"
	BG_PIDS="$BG_PIDS $(echo "$STREAMS" | tr -d -)"
}

# The streams of a round, and what they started.
streams_stop() {
	for _p in $STREAMS; do
		kill -- "$_p" 2>/dev/null
	done
}

for round in 1 2; do
	streams $((8000 + round * 2)) $((8001 + round * 2))
	rx0=$(if_stat - tap0 rx_bytes) tx0=$(if_stat - tap0 tx_bytes)
	sleep 2
	rx1=$(if_stat - tap0 rx_bytes) tx1=$(if_stat - tap0 tx_bytes)
	check "round $round: traffic flows both ways ($((rx1 - rx0)) and $((tx1 - tx0)) bytes in 2s)" \
		test $((rx1 - rx0)) -gt 50000 -a $((tx1 - tx0)) -gt 50000
	check "round $round: unbind virtio_net under traffic" \
		sh -c "echo $Z_V >/sys/bus/virtio/drivers/virtio_net/unbind"
	check "round $round: bind it again" \
		sh -c "echo $Z_V >/sys/bus/virtio/drivers/virtio_net/bind"
	streams_stop
	check "round $round: an interface is back" \
		wait_for 20 test -n "$(net_if_of "$Z_V")"
	IF=$(net_if_of "$Z_V")
	check "round $round: it goes into the zone's namespace" \
		net_into_ns "$Z_NS" "$IF" 10.0.0.2
	check "round $round: its link is up" wait_for 10 link_up "$Z_NS" "$IF"
	check "round $round: the zone pings root" \
		in_ns "$Z_NS" ping -c 2 -W 5 10.0.0.1
	check "round $round: TCP, root -> zone: 1 MiB arrives intact" \
		tcp_xfer - "$Z_NS" 10.0.0.2 "$TMP/data"
done

tap_end

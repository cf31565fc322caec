#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Two zones talk to each other through a bridge on root: zone 1's and zone
# 2's virtio-net devices (same MMIO window and IRQ in each zone) on taps
# tapa and tapb, both ports of br0. Each zone's interface is in a network
# namespace of its own; they ping each other, a TCP transfer each way
# arrives intact (GSO frames from one zone reach the other through the
# bridge), and root, on the bridge, reaches both. TAP output; busybox sh.
#
#   NET_TEST_MB   size of each TCP transfer in MiB (default 8)

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

ZONES="1 2"
MB=${NET_TEST_MB:-8}
net_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zones 1 and 2 with identity RAM" \
	sh -c "'$HVCTL' zone add 1 --identity-ram && '$HVCTL' zone add 2 --identity-ram" ||
	bail "no zones"
check "bridge br0 with 10.0.5.254" \
	sh -c "ip link add br0 type bridge && ip addr add 10.0.5.254/24 dev br0 && ip link set br0 up"
NET_BRIDGES=br0
check "taps tapa and tapb, ports of br0" \
	sh -c "tunctl -t tapa && tunctl -t tapb &&
		ip link set tapa master br0 && ip link set tapb master br0 &&
		ip link set tapa up && ip link set tapb up"
NET_TAPS="tapa tapb"

# zone_on_bridge ZONE TAP ADDR VAR: the zone's device on TAP, its
# interface in a namespace of its own with ADDR; the namespace in VAR.
# shellcheck disable=SC2317 # called through check
zone_on_bridge() {
	_ns=
	net_add "$2" "$1" 0x1000000000 40 &&
		lb_probe_net "$1" 0x1000000000 40 &&
		new_ns _ns &&
		net_into_ns "$_ns" "$NET_IF" "$3" || return 1
	eval "$4=\$_ns ${4}_IF=\$NET_IF"
}
check "zone 1 on tapa as 10.0.5.1" zone_on_bridge 1 tapa 10.0.5.1 A ||
	bail "no zone 1 interface"
check "zone 2 on tapb as 10.0.5.2" zone_on_bridge 2 tapb 10.0.5.2 B ||
	bail "no zone 2 interface"
check "both links are up" \
	sh -c "nsenter -t $A -n ip link show $A_IF | grep -q LOWER_UP &&
		nsenter -t $B -n ip link show $B_IF | grep -q LOWER_UP"

check "zone 1 pings zone 2" in_ns "$A" ping -c 3 -W 5 10.0.5.2
check "zone 2 pings zone 1" in_ns "$B" ping -c 3 -W 5 10.0.5.1
check "root pings both zones over the bridge" \
	sh -c "ping -c 2 -W 5 10.0.5.1 && ping -c 2 -W 5 10.0.5.2"

dd if=/dev/urandom of="$TMP/data" bs=1M count="$MB" 2>/dev/null ||
	bail "no test data"
check "TCP, zone 1 -> zone 2: $MB MiB arrive intact" \
	tcp_xfer "$A" "$B" 10.0.5.2 "$TMP/data" && note "zone 1 -> zone 2: $TCP_RATE"
check "TCP, zone 2 -> zone 1: $MB MiB arrive intact" \
	tcp_xfer "$B" "$A" 10.0.5.1 "$TMP/data" && note "zone 2 -> zone 1: $TCP_RATE"
check "UDP, zone 1 -> zone 2: a burst of 2000 datagrams arrives complete" \
	udp_burst "$A" "$B" 10.0.5.2 2000 64

tap_end

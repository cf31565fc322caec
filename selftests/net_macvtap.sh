#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-net on a macvtap: `hvctl add-net /dev/tapN` hands the module the
# macvtap's queue (taken with tap_get_socket), the zone's link comes up,
# and the zone reaches a peer on the macvtap's lower device (one end of a
# veth pair, the other end in a namespace of its own): ping both ways and
# a TCP transfer each way with checksums compared. TAP output; busybox sh.
#
#   NET_TEST_MB   size of each TCP transfer in MiB (default 16)

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

ZONES=1
MB=${NET_TEST_MB:-16}
net_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
if ! modprobe macvtap >"$LOG" 2>&1; then
	skip "macvtap" "no macvtap module in this kernel"
	tap_end
fi
LOADED_MODS="$LOADED_MODS macvtap macvlan"

# The peer: the far end of a veth pair, in a namespace of its own.
# peer_of IF: the name of the other end of veth IF (busybox's ip cannot
# name it).
peer_of() {
	_l=$(cat "/sys/class/net/$1/iflink")
	for _d in /sys/class/net/*; do
		[ "$(cat "$_d/ifindex")" = "$_l" ] && basename "$_d"
	done
}

check "a veth pair on mvl0" \
	sh -c "ip link add mvl0 type veth && ip link set mvl0 up"
NET_TAPS="$NET_TAPS mvl0"
PEER_IF=$(peer_of mvl0)
new_ns PEER || bail "no namespace"
check "its other end $PEER_IF in the peer's namespace as 10.0.3.1" \
	net_into_ns "$PEER" "$PEER_IF" 10.0.3.1 || bail "no peer"

check "a macvtap mvt0 on mvl0" \
	sh -c "ip link add link mvl0 name mvt0 type macvtap && ip link set mvt0 up"
NET_TAPS="mvt0 $NET_TAPS"
IDX=$(cat /sys/class/net/mvt0/ifindex)
check "its character device /dev/tap$IDX" wait_for 5 test -c "/dev/tap$IDX" ||
	bail "no /dev/tap$IDX"
MAC=$(cat /sys/class/net/mvt0/address)

# The zone's interface must use the macvtap's MAC: a macvtap passes on
# only the frames addressed to it.
if net_add "/dev/tap$IDX" 1 0x1000000000 40 --mac "$MAC" &&
	lb_probe_net 1 0x1000000000 40 && new_ns ZNS &&
	net_into_ns "$ZNS" "$NET_IF" 10.0.3.2 >>"$LOG" 2>&1; then
	ok "zone 1: virtio-net on /dev/tap$IDX with mvt0's MAC $MAC: $NET_IF, device $NET_ID"
else
	nok "zone 1: virtio-net on /dev/tap$IDX" "$(tail -3 "$LOG")"
	bail "no zone interface"
fi
check "hvctl list shows the macvtap as the device's tap (tap$IDX)" \
	sh -c "'$HVCTL' list | grep -q '^$NET_ID .* tap tap$IDX\$'"
check "the zone's link is up" wait_for 10 link_up "$ZNS" "$NET_IF"
check "the zone pings the peer" in_ns "$ZNS" ping -c 3 -W 5 10.0.3.1
check "the peer pings the zone" in_ns "$PEER" ping -c 3 -W 5 10.0.3.2

dd if=/dev/urandom of="$TMP/data" bs=1M count="$MB" 2>/dev/null ||
	bail "no test data"
check "TCP, zone -> peer: $MB MiB arrive intact" \
	tcp_xfer "$ZNS" "$PEER" 10.0.3.1 "$TMP/data" && note "zone -> peer: $TCP_RATE"
check "TCP, peer -> zone: $MB MiB arrive intact" \
	tcp_xfer "$PEER" "$ZNS" 10.0.3.2 "$TMP/data" && note "peer -> zone: $TCP_RATE"

tap_end

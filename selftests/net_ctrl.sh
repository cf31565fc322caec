#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-net control queue: the driver accepts CTRL_VQ, CTRL_RX and
# CTRL_MAC_ADDR; frames for another MAC do not reach the zone until its
# interface goes promiscuous (VIRTIO_NET_CTRL_RX_PROMISC), then they do;
# the zone changes its MAC (VIRTIO_NET_CTRL_MAC_ADDR_SET): hvctl list
# shows it and root reaches the zone at it; unbinding and binding the
# driver again (a device reset) brings back the MAC the device was made
# with, and the link works after it. TAP output; busybox sh.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

ZONES=1
MAC=52:54:00:12:34:56
NEWMAC=52:54:00:ab:cd:ef
net_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
check "a persistent tap0" mk_tap tap0 || bail "no tap"
net_zone Z 1 0x1000000000 40 tap0 10.0.0 --mac $MAC || bail "no zone interface"
check "the driver accepted CTRL_VQ, CTRL_RX and CTRL_MAC_ADDR" \
	features "$Z_V" 17 18 23
check "the zone pings root" in_ns "$Z_NS" ping -c 2 -W 5 10.0.0.1

# Receive filter: frames to a MAC that is not the zone's.
check "root sends to 10.0.0.99 at 02:00:00:00:00:99 through tap0" \
	arp -i tap0 -s 10.0.0.99 02:00:00:00:00:99
p0=$(if_stat "$Z_NS" "$Z_IF" rx_packets)
ping -c 10 -i 0.2 -W 1 10.0.0.99 >/dev/null 2>&1
p1=$(if_stat "$Z_NS" "$Z_IF" rx_packets)
check "not promiscuous: the zone got $((p1 - p0)) of 10 frames for another MAC" \
	test $((p1 - p0)) -lt 10
check "the zone's interface goes promiscuous" \
	in_ns "$Z_NS" ip link set "$Z_IF" promisc on
p0=$(if_stat "$Z_NS" "$Z_IF" rx_packets)
ping -c 10 -i 0.2 -W 1 10.0.0.99 >/dev/null 2>&1
p1=$(if_stat "$Z_NS" "$Z_IF" rx_packets)
check "promiscuous: the zone got $((p1 - p0)) frames for another MAC (>= 10)" \
	test $((p1 - p0)) -ge 10
check "and leaves promiscuous mode" \
	in_ns "$Z_NS" ip link set "$Z_IF" promisc off
p0=$(if_stat "$Z_NS" "$Z_IF" rx_packets)
ping -c 10 -i 0.2 -W 1 10.0.0.99 >/dev/null 2>&1
p1=$(if_stat "$Z_NS" "$Z_IF" rx_packets)
check "not promiscuous again: the zone got $((p1 - p0)) of 10 frames" \
	test $((p1 - p0)) -lt 10

# The zone's MAC.
check "the zone sets its MAC to $NEWMAC" \
	in_ns "$Z_NS" ip link set "$Z_IF" address $NEWMAC
check "hvctl list shows $NEWMAC" \
	sh -c "'$HVCTL' list | grep -q '^$Z_ID .* mac $NEWMAC '"
arp -d 10.0.0.2 >/dev/null 2>&1
check "root pings the zone at its new MAC" ping -c 2 -W 5 10.0.0.2
check "root's neighbour entry has the new MAC" \
	sh -c "arp -n -i tap0 | grep '10.0.0.2' | grep -qi '$NEWMAC'"

# A device reset: unbind and bind the driver.
check "unbind virtio_net from $Z_V" \
	sh -c "echo $Z_V >/sys/bus/virtio/drivers/virtio_net/unbind"
check "bind it again" \
	sh -c "echo $Z_V >/sys/bus/virtio/drivers/virtio_net/bind"
check "an interface is back" wait_for 20 test -n "$(net_if_of "$Z_V")"
NIF=$(net_if_of "$Z_V")
check "with the MAC the device was made with, $MAC" \
	sh -c "ip link show $NIF | grep -q 'link/ether $MAC '"
check "hvctl list shows $MAC again" \
	sh -c "'$HVCTL' list | grep -q '^$Z_ID .* mac $MAC '"
check "it goes into the zone's namespace" net_into_ns "$Z_NS" "$NIF" 10.0.0.2
arp -d 10.0.0.2 >/dev/null 2>&1
check "the zone's link is up" wait_for 10 link_up "$Z_NS" "$NIF"
check "root pings the zone" ping -c 2 -W 5 10.0.0.2

tap_end

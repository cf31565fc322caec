#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-net on a tap, the basics: `hvctl add-net` on an existing tap, the
# zone's virtio_net comes up with the MAC and MTU given and its link up;
# `hvctl list` shows the device; ping both ways between the zone's
# namespace and root; a TCP transfer each way (busybox nc) arrives with
# the checksum it left with; a burst of small UDP datagrams each way
# arrives complete; the interfaces' counters moved. TAP output; busybox
# sh.
#
#   NET_TEST_MB   size of each TCP transfer in MiB (default 64)

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

ZONES=1
MB=${NET_TEST_MB:-64}
MAC=52:54:00:12:34:56
net_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
check "a persistent tap0" mk_tap tap0 || bail "no tap"
net_zone Z 1 0x1000000000 40 tap0 10.0.0 --mac $MAC || bail "no zone interface"

check "the zone's interface has MAC $MAC" \
	sh -c "nsenter -t $Z_NS -n ip link show $Z_IF | grep -q 'link/ether $MAC '"
check "the zone's interface has MTU 1500" \
	sh -c "nsenter -t $Z_NS -n ip link show $Z_IF | grep -q ' mtu 1500 '"
check "the zone's link is up" wait_for 10 link_up "$Z_NS" "$Z_IF"
check "hvctl list shows the device: net, its MAC, MTU and tap" \
	sh -c "'$HVCTL' list | grep -q '^$Z_ID *net *1 *0x1000000000 *0x200 *40 *1 *mac $MAC mtu 1500 tap tap0\$'"
check "hvctl list --json shows the device's net part" \
	sh -c "'$HVCTL' list --json | grep -qF '\"net\":{\"mac\":\"$MAC\",\"mtu\":1500,\"tap\":\"tap0\",\"attached\":1}'"

check "root pings the zone" ping -c 3 -W 5 10.0.0.2
check "the zone pings root" in_ns "$Z_NS" ping -c 3 -W 5 10.0.0.1
check "a 1400-byte ping each way (no fragments at MTU 1500)" \
	sh -c "ping -c 2 -W 5 -s 1400 10.0.0.2 && nsenter -t $Z_NS -n ping -c 2 -W 5 -s 1400 10.0.0.1"

dd if=/dev/urandom of="$TMP/data" bs=1M count="$MB" 2>/dev/null ||
	bail "no test data"
rx0=$(if_stat - tap0 rx_bytes)
check "TCP, zone -> root: $MB MiB arrive intact" \
	tcp_xfer "$Z_NS" - 10.0.0.1 "$TMP/data" && note "zone -> root: $TCP_RATE"
check "TCP, root -> zone: $MB MiB arrive intact" \
	tcp_xfer - "$Z_NS" 10.0.0.2 "$TMP/data" && note "root -> zone: $TCP_RATE"
check "UDP, zone -> root: a burst of 5000 small datagrams arrives complete" \
	udp_burst "$Z_NS" - 10.0.0.1 5000 64
check "UDP, root -> zone: a burst of 5000 small datagrams arrives complete" \
	udp_burst - "$Z_NS" 10.0.0.2 5000 64
rx1=$(if_stat - tap0 rx_bytes)
check "tap0 received at least $MB MiB from the zone" \
	test $((rx1 - rx0)) -ge $((MB * 1048576))
zrx=$(if_stat "$Z_NS" "$Z_IF" rx_bytes)
check "the zone's interface received at least $MB MiB" \
	test "$zrx" -ge $((MB * 1048576))

tap_end

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-net offloads. With checksum and TSO negotiated both ways the zone
# sends GSO frames far above its MTU to the tap and receives such frames
# from it (average frame sizes on both interfaces); TCP each way arrives
# intact. Checksum and TSO offloads turned off in the zone (as ethtool -K
# would) still carry TCP intact, in MTU-sized frames. A device with MTU
# 9000 gives the zone that MTU, its tap too, and carries jumbo pings and
# TCP both ways. A device made with --no-offload offers none: the driver
# accepts none, the tap's offloads stay off, and TCP still arrives intact.
# TAP output; busybox sh.
#
#   NET_TEST_MB        size of each TCP transfer in MiB (default 4)
#   NET_TEST_JUMBO_MB  size of the transfers at MTU 9000 with TSO on
#                      (default 64)

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

ZONES=1
MB=${NET_TEST_MB:-4}
JMB=${NET_TEST_JUMBO_MB:-64}
net_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
check "persistent taps tap0, tap1" sh -c "tunctl -t tap0 && tunctl -t tap1"
NET_TAPS="tap0 tap1"
dd if=/dev/urandom of="$TMP/data" bs=1M count="$MB" 2>/dev/null ||
	bail "no test data"
net_zone Z 1 0x1000000000 40 tap0 10.0.0 || bail "no zone interface"

# What was negotiated (virtio_net feature bits) and what it turned into.
check "the zone's driver accepted CSUM, GUEST_CSUM, HOST_TSO4/6, GUEST_TSO4/6" \
	features "$Z_V" 0 1 7 8 11 12
check "the zone's interface has tx checksum, sg, tso and gso on" \
	sh -c "nsenter -t $Z_NS -n '$NET_HELPER' offload $Z_IF | grep -qx 'tx on sg on tso on gso on'"
check "tap0 took checksum and TSO offloads (TUNSETOFFLOAD)" \
	sh -c "'$NET_HELPER' offload tap0 | grep -q 'tx on sg on tso on'"

# GSO frames, both ways.
b0=$(if_stat - tap0 rx_bytes) p0=$(if_stat - tap0 rx_packets)
# Big writes, so that the stacks have more than a segment to send at once.
TCP_BIG_WRITES=1
check "TCP, zone -> root, TSO on: $MB MiB arrive intact" \
	tcp_xfer "$Z_NS" - 10.0.0.1 "$TMP/data" && note "zone -> root: $TCP_RATE"
avg=$(avg_frame - tap0 rx "$b0" "$p0")
check "the zone sent GSO frames: $avg bytes per frame on average (> 1514: only GSO frames are larger)" \
	test "$avg" -gt 1514
b0=$(if_stat "$Z_NS" "$Z_IF" rx_bytes) p0=$(if_stat "$Z_NS" "$Z_IF" rx_packets)
check "TCP, root -> zone, TSO on: $MB MiB arrive intact" \
	tcp_xfer - "$Z_NS" 10.0.0.2 "$TMP/data" && note "root -> zone: $TCP_RATE"
avg=$(avg_frame "$Z_NS" "$Z_IF" rx "$b0" "$p0")
check "the zone received GSO frames: $avg bytes per frame on average (> 1514: only GSO frames are larger)" \
	test "$avg" -gt 1514
TCP_BIG_WRITES=

# The zone turns its offloads off.
check "the zone turns tx checksum and TSO off" \
	sh -c "nsenter -t $Z_NS -n '$NET_HELPER' offload $Z_IF tso off &&
		nsenter -t $Z_NS -n '$NET_HELPER' offload $Z_IF tx off |
		grep -q 'tx off sg .* tso off'"
b0=$(if_stat - tap0 rx_bytes) p0=$(if_stat - tap0 rx_packets)
check "TCP, zone -> root, offloads off: $MB MiB arrive intact" \
	tcp_xfer "$Z_NS" - 10.0.0.1 "$TMP/data" && note "zone -> root: $TCP_RATE"
avg=$(avg_frame - tap0 rx "$b0" "$p0")
check "the zone sent MTU-sized frames: $avg bytes per frame on average (<= 1514)" \
	test "$avg" -gt 0 -a "$avg" -le 1514
check "the zone turns them on again" \
	sh -c "nsenter -t $Z_NS -n '$NET_HELPER' offload $Z_IF tx on &&
		nsenter -t $Z_NS -n '$NET_HELPER' offload $Z_IF tso on"
check "the zone pings root" in_ns "$Z_NS" ping -c 2 -W 5 10.0.0.1

# Jumbo frames.
net_zone J 1 0x1000001000 41 tap1 10.0.1 --mtu 9000 || bail "no MTU 9000 interface"
check "the zone's interface has MTU 9000" \
	sh -c "nsenter -t $J_NS -n ip link show $J_IF | grep -q ' mtu 9000 '"
check "tap1 has MTU 9000" sh -c "ip link show tap1 | grep -q ' mtu 9000 '"
check "hvctl list shows MTU 9000" \
	sh -c "'$HVCTL' list | grep -q '^$J_ID .* mtu 9000 tap tap1\$'"
check "8900-byte pings both ways" \
	sh -c "ping -c 2 -W 5 -s 8900 10.0.1.2 && nsenter -t $J_NS -n ping -c 2 -W 5 -s 8900 10.0.1.1"
dd if=/dev/urandom of="$TMP/jdata" bs=1M count="$JMB" 2>/dev/null ||
	bail "no test data"
check "TCP, zone -> root at MTU 9000: $JMB MiB arrive intact" \
	tcp_xfer "$J_NS" - 10.0.1.1 "$TMP/jdata" && note "zone -> root: $TCP_RATE"
check "TCP, root -> zone at MTU 9000: $JMB MiB arrive intact" \
	tcp_xfer - "$J_NS" 10.0.1.2 "$TMP/jdata" && note "root -> zone: $TCP_RATE"
rm -f "$TMP/jdata"
check "with TSO off in the zone too" \
	sh -c "nsenter -t $J_NS -n '$NET_HELPER' offload $J_IF tso off >/dev/null"
b0=$(if_stat - tap1 rx_bytes) p0=$(if_stat - tap1 rx_packets)
check "TCP, zone -> root at MTU 9000, TSO off: $MB MiB arrive intact" \
	tcp_xfer "$J_NS" - 10.0.1.1 "$TMP/data" && note "zone -> root: $TCP_RATE"
avg=$(avg_frame - tap1 rx "$b0" "$p0")
check "the zone sent jumbo frames: $avg bytes per frame on average (1514 < avg <= 9014)" \
	test "$avg" -gt 1514 -a "$avg" -le 9014

# No offload offered at all.
check "persistent tap2" tunctl -t tap2
NET_TAPS="$NET_TAPS tap2"
net_zone N 1 0x1000002000 42 tap2 10.0.2 --no-offload ||
	bail "no interface without offloads"
check "the driver accepted no checksum or TSO feature" \
	no_features "$N_V" 0 1 7 8 11 12
check "the zone's interface has tx checksum and tso off" \
	sh -c "nsenter -t $N_NS -n '$NET_HELPER' offload $N_IF | grep -q 'tx off sg .* tso off'"
check "tap2 has checksum and TSO offloads off" \
	sh -c "'$NET_HELPER' offload tap2 | grep -q 'tx off sg .* tso off'"
check "TCP, zone -> root, no offload: $MB MiB arrive intact" \
	tcp_xfer "$N_NS" - 10.0.2.1 "$TMP/data" && note "zone -> root: $TCP_RATE"
check "TCP, root -> zone, no offload: $MB MiB arrive intact" \
	tcp_xfer - "$N_NS" 10.0.2.2 "$TMP/data" && note "root -> zone: $TCP_RATE"

tap_end

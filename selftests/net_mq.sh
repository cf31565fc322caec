#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-net with several queue pairs (VIRTIO_NET_F_MQ), one worker per
# pair: `hvctl add-net --queues 4` makes a multi-queue tap and attaches
# one tap queue per pair; the driver accepts MQ and uses as many pairs as
# the zone has CPUs (VIRTIO_NET_CTRL_MQ), so with fewer CPUs than pairs
# the frames of the unused pairs' tap queues go to pairs in use. Several
# TCP flows each way arrive intact, and the workers of pairs other than 0
# did work. TAP output; busybox sh.
#
#   NET_TEST_MB   size of each TCP flow in MiB (default 4)

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

ZONES=1
MB=${NET_TEST_MB:-4}
PAIRS=4
FLOWS=4
net_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
NET_TAPS=mq0
net_zone Z 1 0x1000000000 40 mq0 10.0.0 --queues $PAIRS ||
	bail "no multi-queue interface"
check "hvctl list: $PAIRS queue pairs, all with a tap" \
	sh -c "'$HVCTL' list --json | grep -F '{\"id\":$Z_ID,' |
		grep -F '\"queues\":$PAIRS,' | grep -qF '\"tap\":\"mq0\",\"attached\":$PAIRS}'"
check "the driver accepted MQ and CTRL_VQ" features "$Z_V" 22 17
w=0
for i in $(seq 1 $((PAIRS - 1))); do
	grep -qx "hvv-net$Z_ID-$i" /proc/[0-9]*/comm 2>/dev/null && w=$((w + 1))
done
check "a worker thread for each of pairs 1..$((PAIRS - 1)): $w" \
	test "$w" = $((PAIRS - 1))
note "the zone has $(nproc) CPUs: the driver uses $(($(nproc) < PAIRS ? $(nproc) : PAIRS)) of $PAIRS pairs"
check "the zone pings root" in_ns "$Z_NS" ping -c 2 -W 5 10.0.0.1

dd if=/dev/urandom of="$TMP/data" bs=1M count="$MB" 2>/dev/null ||
	bail "no test data"
s1=$(ctxt_switches "hvv-net$Z_ID-1")
u1=$(($(ctxt_switches "hvv-net$Z_ID-2") + $(ctxt_switches "hvv-net$Z_ID-3")))
check "TCP, zone -> root: $FLOWS flows of $MB MiB at once arrive intact" \
	tcp_multi "$Z_NS" - 10.0.0.1 "$TMP/data" $FLOWS
check "TCP, root -> zone: $FLOWS flows of $MB MiB at once arrive intact" \
	tcp_multi - "$Z_NS" 10.0.0.2 "$TMP/data" $FLOWS
s2=$(ctxt_switches "hvv-net$Z_ID-1")
u2=$(($(ctxt_switches "hvv-net$Z_ID-2") + $(ctxt_switches "hvv-net$Z_ID-3")))
note "the workers of pairs 2 and 3 woke $((u2 - u1)) times (for frames of their tap queues, handed to pairs in use when the driver does not use them)"
check "pair 1's worker ran: $((s2 - s1)) context switches" \
	test $((s2 - s1)) -gt 10
check "UDP, root -> zone: a burst of 2000 datagrams arrives complete" \
	udp_burst - "$Z_NS" 10.0.0.2 2000 64

tap_end

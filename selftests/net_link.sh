#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# virtio-net link state follows the tap: `hvctl detach-net` takes the
# zone's link down and `attach-net` brings it up again; a device added
# without a tap starts with its link down; a tap that hvctl created goes
# away with the detach; a tap cannot serve two devices; deleting the tap
# under traffic leaves the kernel healthy and the zone's link down, and
# a new tap brings it back. TAP output; busybox sh.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

ZONES=1
net_begin

check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zone 1 with identity RAM" zone_add 1 || bail "no zone"
check "persistent taps tap0, tap1, tap2" \
	sh -c "tunctl -t tap0 && tunctl -t tap1 && tunctl -t tap2"
NET_TAPS="tap0 tap1 tap2 tapy"
net_zone Z 1 0x1000000000 40 tap0 10.0.0 || bail "no zone interface"
check "the zone's link is up" wait_for 10 link_up "$Z_NS" "$Z_IF"
check "the zone pings root" in_ns "$Z_NS" ping -c 2 -W 5 10.0.0.1

# Detach and attach again.
check "hvctl detach-net $Z_ID" "$HVCTL" detach-net "$Z_ID"
check "the zone's link goes down" wait_for 10 link_down "$Z_NS" "$Z_IF"
check "hvctl list shows no tap" \
	sh -c "'$HVCTL' list | grep -q '^$Z_ID .* no tap (link down)\$'"
check "hvctl list --json: tap \"\", attached 0" \
	sh -c "'$HVCTL' list --json | grep -qF '\"tap\":\"\",\"attached\":0}'"
check_fails "no ping while detached" in_ns "$Z_NS" ping -c 1 -W 2 10.0.0.1
check "hvctl attach-net $Z_ID tap0" "$HVCTL" attach-net "$Z_ID" tap0
check "the zone's link comes up" wait_for 10 link_up "$Z_NS" "$Z_IF"
check "root pings the zone again" ping -c 2 -W 5 10.0.0.2

# A tap that hvctl creates lives as long as the device holds it.
net_zone Y 1 0x1000001000 41 tapy 10.0.1 || bail "no second interface"
check "hvctl created tapy" ip link show tapy
check "the zone pings root through tapy" in_ns "$Y_NS" ping -c 2 -W 5 10.0.1.1
check "hvctl detach-net $Y_ID" "$HVCTL" detach-net "$Y_ID"
check_fails "tapy went away with the detach" ip link show tapy
check "the zone's link goes down" wait_for 10 link_down "$Y_NS" "$Y_IF"
check "hvctl attach-net $Y_ID tap1" "$HVCTL" attach-net "$Y_ID" tap1
check "tap1 gets 10.0.1.1" sh -c "ip addr add 10.0.1.1/24 dev tap1 && ip link set tap1 up"
check "the zone's link comes up" wait_for 10 link_up "$Y_NS" "$Y_IF"
check "the zone pings root through tap1" in_ns "$Y_NS" ping -c 2 -W 5 10.0.1.1

# A device without a tap starts with its link down.
net_zone X 1 0x1000002000 42 - 10.0.2 || bail "no third interface"
check "its link is down from the start" wait_for 10 link_down "$X_NS" "$X_IF"
check "hvctl list shows no tap" \
	sh -c "'$HVCTL' list | grep -q '^$X_ID .* no tap (link down)\$'"
check "hvctl attach-net $X_ID tap2" "$HVCTL" attach-net "$X_ID" tap2
check "tap2 gets 10.0.2.1" sh -c "ip addr add 10.0.2.1/24 dev tap2 && ip link set tap2 up"
check "its link comes up" wait_for 10 link_up "$X_NS" "$X_IF"
check "the zone pings root through tap2" in_ns "$X_NS" ping -c 2 -W 5 10.0.2.1

# One tap, one device.
check_fails "attach-net of tap1 (device $Y_ID's) to device $Z_ID fails" \
	"$HVCTL" attach-net "$Z_ID" tap1
check "device $Z_ID keeps tap0" \
	sh -c "'$HVCTL' list | grep -q '^$Z_ID .* tap tap0\$'"
check_fails "attach-net to a device that does not exist fails" \
	"$HVCTL" attach-net 999 tap0
check_fails "detach-net of a device that does not exist fails" \
	"$HVCTL" detach-net 999

# Delete the tap under traffic, both ways.
sleep 1000 | nc -l -p 7001 >/dev/null 2>&1 &
BG_PIDS="$BG_PIDS $!"
sleep 1000 | in_ns "$Z_NS" nc -l -p 7002 >/dev/null 2>&1 &
BG_PIDS="$BG_PIDS $!"
wait_for 10 sh -c "netstat -tln | grep -q ':7001 '"
wait_for 10 sh -c "nsenter -t $Z_NS -n netstat -tln | grep -q ':7002 '"
bg sh -c "dd if=/dev/zero bs=64k count=100000 2>/dev/null | nsenter -t $Z_NS -n nc 10.0.0.1 7001"
bg sh -c "dd if=/dev/zero bs=64k count=100000 2>/dev/null | nc 10.0.0.2 7002"
rx0=$(if_stat - tap0 rx_bytes)
sleep 3
rx1=$(if_stat - tap0 rx_bytes)
check "traffic flows: tap0 received $((rx1 - rx0)) bytes in 3s" \
	test $((rx1 - rx0)) -gt 100000
check "ip link del tap0 under traffic" ip link del tap0
check "the zone's link goes down" wait_for 10 link_down "$Z_NS" "$Z_IF"
check "hvctl list shows no tap" \
	sh -c "'$HVCTL' list | grep -q '^$Z_ID .* no tap (link down)\$'"
check "the kernel log says the tap went away" \
	sh -c "dmesg | grep -q 'dev $Z_ID: tap tap0 of queue pair 0 went away'"
check "the other devices still work: the zone pings root through tap1" \
	in_ns "$Y_NS" ping -c 2 -W 5 10.0.1.1
check "a new tap0" sh -c "tunctl -t tap0 && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up"
check "hvctl attach-net $Z_ID tap0" "$HVCTL" attach-net "$Z_ID" tap0
check "the zone's link comes up" wait_for 10 link_up "$Z_NS" "$Z_IF"
check "the zone pings root through the new tap0" \
	in_ns "$Z_NS" ping -c 2 -W 5 10.0.0.1

tap_end

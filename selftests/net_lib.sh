#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Shared code of the net_*.sh selftests, on top of lib.sh (busybox sh); not
# a test itself (run-selftests skips *_lib.sh). A test sources both:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/net_lib.sh"
#   net_begin
#   net_zone Z 1 0x1000000000 40 tap0 10.0.0 || bail "..."
#   check "ping" in_ns "$Z_NS" ping -c 1 10.0.0.1
#   tap_end
#
# The zone's interface (the stock virtio_net driver bound through the
# loopback zone) lives in a network namespace of its own, held by a
# background "unshare -n sleep"; root's tap stays in the initial one.
# net_begin adds to lib.sh's cleanup: the taps made by mk_tap and the
# bridges made by mk_bridge are deleted.

NET_HELPER=${NET_HELPER:-$(cd "$(dirname "$0")" && pwd)/net_helper}
NET_TAPS=
NET_BRIDGES=
NET_QDISC=
NET_XFERS=0

net_begin() {
	tap_begin
	trap 'net_cleanup; lib_cleanup' EXIT
	# The zone's interfaces get a plain FIFO as qdisc: fq_codel drops
	# what waits long, and a busy host stalls the zone's queues long
	# enough to lose datagrams of a burst before they reach the device.
	NET_QDISC=$(sysctl -n net.core.default_qdisc 2>/dev/null)
	sysctl -w net.core.default_qdisc=pfifo_fast >/dev/null 2>&1
}

net_cleanup() {
	for _t in $NET_TAPS $NET_BRIDGES; do
		ip link del "$_t" 2>/dev/null
	done
	[ -n "$NET_QDISC" ] &&
		sysctl -w net.core.default_qdisc="$NET_QDISC" >/dev/null 2>&1
}

# net_into_ns NS IF ADDR: move IF into namespace NS, give it ADDR (a /24)
# and bring it up.
net_into_ns() {
	ip link set "$2" netns "$1" &&
		in_ns "$1" ip link set "$2" qlen 10000 &&
		in_ns "$1" ip addr add "$3/24" dev "$2" &&
		in_ns "$1" ip link set "$2" up
}

# features VIRTIO BIT...: the driver of virtio device VIRTIO accepted
# every feature BIT. no_features VIRTIO BIT...: none of them.
features() {
	_f=$(cat "/sys/bus/virtio/devices/$1/features") || return 2
	shift
	for _b in "$@"; do
		[ "$(echo "$_f" | cut -c $((_b + 1)))" = 1 ] || return 1
	done
}
no_features() {
	_f=$(cat "/sys/bus/virtio/devices/$1/features") || return 2
	shift
	for _b in "$@"; do
		[ "$(echo "$_f" | cut -c $((_b + 1)))" = 0 ] || return 1
	done
}

# avg_frame NS IF DIR BEFORE_BYTES BEFORE_PACKETS: average frame size of
# DIR (rx or tx) since the counters read BEFORE.
avg_frame() {
	_b=$(if_stat "$1" "$2" "${3}_bytes")
	_p=$(if_stat "$1" "$2" "${3}_packets")
	[ "$_p" -gt "$5" ] || { echo 0; return; }
	echo $(((_b - $4) / (_p - $5)))
}

# mk_tap NAME: a persistent tap (it outlives a detach), deleted at cleanup.
mk_tap() {
	tunctl -t "$1" >>"$LOG" 2>&1 || return 1
	NET_TAPS="$NET_TAPS $1"
}

# mk_bridge NAME: a bridge, up, deleted at cleanup.
mk_bridge() {
	ip link add "$1" type bridge >>"$LOG" 2>&1 &&
		ip link set "$1" up >>"$LOG" 2>&1 || return 1
	NET_BRIDGES="$NET_BRIDGES $1"
}

# net_add TAP ZONE MMIO IRQ [hvctl options...]: the device id goes into
# NET_ID. TAP "-" adds the device without a tap.
net_add() {
	_t=$1 _z=$2 _m=$3 _i=$4
	shift 4
	[ "$_t" = - ] && _t=
	NET_ID=
	# shellcheck disable=SC2086
	"$HVCTL" add-net $_t --zone "$_z" --mmio "$_m" --irq "$_i" "$@" \
		>>"$LOG" 2>&1 || return 1
	NET_ID=$(sed -n '$p' "$LOG")
	case $NET_ID in
	''|*[!0-9]*) return 1 ;;
	esac
}

# net_if_of VIRTIO: the interface virtio_net made for VIRTIO (in the
# initial namespace: look before moving it).
net_if_of() {
	ls "/sys/bus/virtio/devices/$1/net" 2>/dev/null | head -n 1
}

# lb_probe_net ZONE BASE IRQ: make the zone probe the device at BASE and
# wait for its interface. Sets LB_VIRTIO and NET_IF.
lb_probe_net() {
	LB_VIRTIO='' NET_IF=''
	echo "$1 $2 0x200 $3" >"$LB/probe" 2>>"$LOG" || return 1
	LB_VIRTIO=$(lb_vdev "$1" "$2")
	[ -n "$LB_VIRTIO" ] ||
		{ echo "no $1/$2 in $LB/devices" >>"$LOG"; return 1; }
	wait_for 20 test -n "$(net_if_of "$LB_VIRTIO")" ||
		{ echo "no interface for $LB_VIRTIO" >>"$LOG"; return 1; }
	NET_IF=$(net_if_of "$LB_VIRTIO")
}

# new_ns VAR: a network namespace, held by a background process whose pid
# goes into VAR (killed at cleanup, which ends the namespace).
new_ns() {
	bg unshare -n sleep 100000
	# unshare runs before sleep: wait for the new namespace.
	_self=$(readlink /proc/self/ns/net)
	wait_for 5 sh -c "[ -e /proc/$BG_PID/ns/net ] &&
		[ \"\$(readlink /proc/$BG_PID/ns/net)\" != '$_self' ]" || return 1
	eval "$1=\$BG_PID"
}

# in_ns PID CMD...: run CMD in the network namespace of PID.
in_ns() {
	_p=$1
	shift
	nsenter -t "$_p" -n "$@"
}

# link_up NS IF: the interface has its carrier (LOWER_UP).
link_up() {
	in_ns "$1" ip link show "$2" 2>/dev/null | grep -q 'LOWER_UP'
}

# link_down NS IF: the interface has no carrier.
link_down() {
	in_ns "$1" ip link show "$2" 2>/dev/null | grep -q 'NO-CARRIER'
}

# if_stat NS IF FIELD: a counter of /proc/net/dev in the namespace
# (FIELD: rx_bytes rx_packets tx_bytes tx_packets); NS "-" for the
# initial namespace.
if_stat() {
	_f=$3
	case $_f in
	rx_bytes) _c=2 ;;
	rx_packets) _c=3 ;;
	tx_bytes) _c=10 ;;
	tx_packets) _c=11 ;;
	*) return 1 ;;
	esac
	if [ "$1" = - ]; then
		cat /proc/net/dev
	else
		in_ns "$1" cat /proc/net/dev
	fi | tr ':' ' ' | awk -v i="$2" -v c="$_c" '$1 == i { print $c }'
}

# net_zone PREFIX ZONE MMIO IRQ TAP NET [hvctl options...]: one zone
# interface wired to root's TAP, both on NET.0/24 (root .1, zone .2).
# TAP must exist (mk_tap) unless it is "-". Sets PREFIX_ID (device id),
# PREFIX_V (virtio device), PREFIX_IF (interface), PREFIX_NS (namespace
# pid), PREFIX_IP (the zone's address). One TAP result.
net_zone() {
	_pre=$1 _z=$2 _m=$3 _i=$4 _tap=$5 _net=$6
	shift 6
	_desc="zone $_z: virtio-net at $_m irq $_i on ${_tap}, in a namespace of its own"
	if ! net_add "$_tap" "$_z" "$_m" "$_i" "$@"; then
		result "hvctl add-net failed" "$_desc"
		return 1
	fi
	if ! lb_probe_net "$_z" "$_m" "$_i"; then
		result "the zone's virtio_net did not come up" "$_desc"
		return 1
	fi
	_ns=
	if ! new_ns _ns; then
		result "no network namespace" "$_desc"
		return 1
	fi
	if ! { in_ns "$_ns" ip link set lo up &&
		net_into_ns "$_ns" "$NET_IF" "$_net.2"; } >>"$LOG" 2>&1; then
		result "cannot set up $NET_IF in its namespace" "$_desc"
		return 1
	fi
	if [ "$_tap" != - ] && [ -n "$_net" ]; then
		if ! { ip addr add "$_net.1/24" dev "$_tap" &&
			ip link set "$_tap" up; } >>"$LOG" 2>&1; then
			result "cannot set up $_tap" "$_desc"
			return 1
		fi
	fi
	eval "${_pre}_ID=\$NET_ID ${_pre}_V=\$LB_VIRTIO ${_pre}_IF=\$NET_IF"
	eval "${_pre}_NS=\$_ns ${_pre}_IP=\$_net.2"
	result "" "$_desc: $NET_IF, device $NET_ID"
}

# tcp_listen NS PORT OUT: a receiver in namespace NS ("-": the initial
# one) that writes what arrives on PORT to OUT, and its exit status to
# OUT.rc once the sender has closed; returns when it listens.
tcp_listen() {
	_lp=''
	[ "$1" = - ] || _lp="nsenter -t $1 -n"
	rm -f "$3" "$3.rc" "$3.in"
	# busybox nc half-closes when its stdin ends, and the sender then
	# stops: the receiver reads a fifo that we keep open.
	mkfifo "$3.in" || return 1
	exec 8<>"$3.in"
	# shellcheck disable=SC2086
	($_lp nc -l -p "$2" <&8 >"$3"; echo $? >"$3.rc") &
	BG_PIDS="$BG_PIDS $!"
	exec 8>&-
	# shellcheck disable=SC2086
	wait_for 10 sh -c "$_lp netstat -tln | grep -q ':$2 '" ||
		{ echo "no listener on port $2"; return 1; }
}

# tcp_xfer SRC_NS DST_NS DST_IP FILE: send FILE over TCP from namespace
# SRC_NS to DST_IP, received in namespace DST_NS ("-": the initial one);
# succeeds when the bytes received have FILE's checksum. TCP_RATE tells
# how fast it went. With TCP_BIG_WRITES=1 the sender is net_helper, which
# writes 256 KiB at a time (big enough for GSO frames), not nc.
tcp_xfer() {
	_src=$1 _dst=$2 _ip=$3 _file=$4
	NET_XFERS=$((NET_XFERS + 1))
	_port=$((5000 + NET_XFERS))
	_out=$TMP/tcp.$NET_XFERS
	_sp=''
	[ "$_src" = - ] || _sp="nsenter -t $_src -n"
	tcp_listen "$_dst" "$_port" "$_out" || return 1
	_t0=$(date +%s)
	if [ -n "$TCP_BIG_WRITES" ]; then
		# shellcheck disable=SC2086
		$_sp timeout 150 "$NET_HELPER" tcp-send "$_ip" "$_port" "$_file"
	else
		# shellcheck disable=SC2086
		$_sp timeout 150 nc "$_ip" "$_port" <"$_file"
	fi
	_rc=$?
	# The receiver ends once it has read the sender's FIN.
	wait_for 30 test -s "$_out.rc"
	_t=$(($(date +%s) - _t0))
	_a=$(md5sum <"$_file" | cut -d' ' -f1)
	_b=$(md5sum <"$_out" | cut -d' ' -f1)
	_n=$(wc -c <"$_file")
	echo "sent $_n bytes ($_a), received $(wc -c <"$_out") ($_b) in ${_t}s; nc exited $_rc"
	TCP_RATE="$_n bytes in ${_t}s"
	[ "$_t" -gt 0 ] && TCP_RATE="$TCP_RATE: $((_n / 1024 / _t)) KiB/s"
	[ "$_rc" = 0 ] && [ "$_a" = "$_b" ]
}

# udp_burst SRC_NS DST_NS DST_IP COUNT SIZE: send COUNT datagrams of SIZE
# bytes from namespace SRC_NS to DST_IP, in bursts of 16 a millisecond
# apart (a pace the receiver keeps up with); succeeds when every one
# arrived, once and intact, in namespace DST_NS ("-": the initial one).
# The root side's taps queue up to 10000 frames meanwhile (tun drops what
# does not fit in its queue: a busy host may stall the device's worker
# for longer than 500 frames take); /proc/net/dev is shown on failure.
udp_burst() {
	_src=$1 _dst=$2 _ip=$3 _cnt=$4 _sz=$5
	NET_XFERS=$((NET_XFERS + 1))
	_port=$((6000 + NET_XFERS))
	_out=$TMP/udp.$NET_XFERS
	_sp='' _dp=''
	[ "$_src" = - ] || _sp="nsenter -t $_src -n"
	[ "$_dst" = - ] || _dp="nsenter -t $_dst -n"
	# shellcheck disable=SC2086
	$_dp "$NET_HELPER" udp-recv "$_port" "$_cnt" "$_sz" 5000 >"$_out" 2>&1 &
	_rp=$!
	BG_PIDS="$BG_PIDS $_rp"
	wait_for 10 grep -q ready "$_out" || { cat "$_out"; return 1; }
	for _t in $NET_TAPS; do
		ip link set "$_t" qlen 10000 2>/dev/null
	done
	# shellcheck disable=SC2086
	$_sp "$NET_HELPER" udp-send "$_ip" "$_port" "$_cnt" "$_sz" 16 1000
	_rc=$?
	wait "$_rp"
	_rrc=$?
	cat "$_out"
	[ "$_rc" = 0 ] && [ "$_rrc" = 0 ] && return 0
	cat /proc/net/dev
	[ "$_dst" = - ] || in_ns "$_dst" cat /proc/net/dev
	return 1
}

# tcp_multi SRC_NS DST_NS DST_IP FILE N: N transfers of FILE at the same
# time (N flows, which the tap and the driver spread over their queues);
# succeeds when all arrive intact.
tcp_multi() {
	_src=$1 _dst=$2 _ip=$3 _file=$4 _nflows=$5
	_sp=''
	[ "$_src" = - ] || _sp="nsenter -t $_src -n"
	_a=$(md5sum <"$_file" | cut -d' ' -f1)
	NET_XFERS=$((NET_XFERS + 1))
	_first=$((7000 + NET_XFERS * 16))
	_i=0
	while [ "$_i" -lt "$_nflows" ]; do
		_port=$((_first + _i))
		tcp_listen "$_dst" "$_port" "$TMP/tcpm.$NET_XFERS.$_i" ||
			return 1
		_i=$((_i + 1))
	done
	_pids=
	_i=0
	while [ "$_i" -lt "$_nflows" ]; do
		_port=$((_first + _i))
		# shellcheck disable=SC2086
		$_sp timeout 150 nc "$_ip" "$_port" <"$_file" &
		_pids="$_pids $!"
		_i=$((_i + 1))
	done
	_fail=0
	for _p in $_pids; do
		wait "$_p" || _fail=1
	done
	_i=0
	while [ "$_i" -lt "$_nflows" ]; do
		_out=$TMP/tcpm.$NET_XFERS.$_i
		wait_for 30 test -s "$_out.rc"
		_b=$(md5sum <"$_out" | cut -d' ' -f1)
		echo "flow $_i: received $(wc -c <"$_out") bytes ($_b), sent $_a"
		[ "$_a" = "$_b" ] || _fail=1
		_i=$((_i + 1))
	done
	[ "$_fail" = 0 ]
}

# ctxt_switches NAME: voluntary context switches of the kernel thread
# NAME (0 if there is none).
ctxt_switches() {
	for _s in /proc/[0-9]*/status; do
		grep -q "^Name:[[:space:]]*$1\$" "$_s" 2>/dev/null || continue
		sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' "$_s"
		return 0
	done
	echo 0
}

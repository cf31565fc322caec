# SPDX-License-Identifier: GPL-2.0
#
# The workloads of `make bench-hvisor`, shared by root (the raw file) and
# zone 1 (its virtio disk): sourced by busybox sh.
#
# WL: NAME:RW:BS:QD, in the order they run.
WL="randread_qd1:randread:4k:1 randread_qd32:randread:4k:32 randwrite_qd32:randwrite:4k:32 seqread_128k:read:128k:8 seqwrite_128k:write:128k:8"

# fio_file FILE RUNTIME ENGINE DIRECT [N]: the job file (stonewalled
# jobs j1..); with N, only job jN.
fio_file() {
	echo "[global]"
	echo "filename=$1"
	echo "ioengine=$3"
	echo "direct=$4"
	echo "thread"
	echo "time_based"
	echo "runtime=$2"
	echo "ramp_time=1"
	echo "offset=1m"
	echo "size=240m"
	echo "norandommap"
	echo "randrepeat=0"
	echo "lat_percentiles=1"
	echo "clocksource=clock_gettime"
	_n=0
	for _w in $WL; do
		_n=$((_n + 1))
		[ -n "${5:-}" ] && [ "$5" != $_n ] && continue
		_r=${_w#*:}
		echo "[j$_n]"
		echo "stonewall"
		echo "rw=${_r%%:*}"
		_r=${_r#*:}
		echo "bs=${_r%%:*}"
		echo "iodepth=${_r#*:}"
	done
}

# fio_lines PATH TAG ROUND < terse output: one "@B" line per job.
# terse v3: read side fields 6-46, write side 47-87: +1 KiB/s, +2 IOPS,
# +34 mean total latency (us), total-latency percentiles at +12..+31.
fio_lines() {
	awk -F';' -v path="$1" -v tag="$2" -v round="$3" -v wl="$WL" '
	BEGIN { n = split(wl, w, " ") }
	$1 == 3 && $3 ~ /^j[0-9]+$/ {
		k = substr($3, 2) + 0
		split(w[k], f, ":")
		b = (f[2] ~ /write/) ? 47 : 6
		p99 = -1
		for (i = b + 12; i < b + 32; i++)
			if ($i ~ /^99\.000000%=/) { v = $i; sub(/.*=/, "", v); p99 = v }
		printf "@B path=%s backend=%s round=%s job=%d wl=%s iops=%s kibs=%s lat_us=%s p99_us=%s err=%s\n",
			path, tag, round, k, f[1], $(b + 2), $(b + 1), $(b + 34), p99, $5
	}'
}

# The network jobs, after the fio jobs, when zone 1 has a net device:
# TEST:DIRECTION, z2r zone 1 sends to root, r2z root sends to zone 1.
# Each runs the fio jobs' seconds; the receiver measures.
NETJOBS="tcp:z2r tcp:r2z udp64:z2r udp64:r2z"
ROOT_IP=10.0.0.1
ZONE_IP=10.0.0.2
# Ports: the transfer's, and one per job for the side that must be
# ready first (the receiver) to tell the sender to begin.
NET_PORT=5201
SYNC_PORT=5300
HVB=/bench/hvv-bench

# net_recv TEST SECONDS / net_send TEST IP SECONDS: hvv-bench's words.
net_recv() {
	case $1 in
	tcp) echo "tcp-recv $NET_PORT $2" ;;
	udp64) echo "udp-recv $NET_PORT $2 64" ;;
	esac
}
net_send() {
	case $1 in
	tcp) echo "tcp-send $2 $NET_PORT $3" ;;
	udp64) echo "udp-send $2 $NET_PORT $3 64" ;;
	esac
}

# net_receive TEST SECONDS SYNC_IP SYNC_PORT OUT: start the receiver,
# tell the sender (at SYNC_IP) to begin once it listens, wait for it.
# The result's words in OUT. Status: the receiver's.
net_receive() {
	# shellcheck disable=SC2046 # hvv-bench's words
	$HVB $(net_recv "$1" "$2") >"$5" 2>&1 &
	_p=$!
	_i=0
	while ! grep -q ready "$5" && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	$HVB sync "$3" "$4" 120 >>"$5" 2>&1 || { kill $_p 2>/dev/null; wait $_p; return 1; }
	net_t0
	wait $_p
}

# net_line PATH BACKEND ROUND JOB TEST DIR < the receiver's output:
# one "@N" line (gbps= for TCP, pps= for UDP).
net_line() {
	awk -v h="@N path=$1 backend=$2 round=$3 job=$4 test=$5 dir=$6" '
	/(gbps|pps)=/ { print h, $0; exit }'
}
# Called by net_receive once the sender was told to begin (root samples
# its CPU there).
net_t0() { :; }

# net_counters IF: the interface's drop counters and TCP's retransmitted
# segments so far (what a slow transfer lost on the way).
net_counters() {
	_s=/sys/class/net/$1/statistics
	printf 'rx_dropped=%s tx_dropped=%s rx_packets=%s tx_packets=%s ' \
		"$(cat $_s/rx_dropped)" "$(cat $_s/tx_dropped)" \
		"$(cat $_s/rx_packets)" "$(cat $_s/tx_packets)"
	awk '$1 == "Tcp:" && $13 ~ /^[0-9]+$/ { print "tcp_retrans=" $13; exit }' /proc/net/snmp
}

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # busybox sh has local
#
# Guest side of `make bench` (busybox sh; started by tools/bench/run
# through tools/vm-run). Sets up the loopback zone with the helpers of
# selftests/lib.sh and net_lib.sh, then measures each workload on the
# baseline and through the zone, interleaved, round after round. Every
# figure is printed as one line the host parses:
#
#   @I key=value                   facts about the guest
#   @B backing= path= wl= jobs= round= iops= kibs= lat_us= p99_us= ...
#                                  one fio run (block; path raw, zone,
#                                  bounce or hop)
#   @C cpu= round= rtt_med_ns= ... one batch of bridge round trips
#   @N test= path= round= ...      one network run (path veth or tap)
#
# Everything else (setup output) goes to $BENCH_LOG, printed only when
# something fails.
#
# Environment:
#   BENCH_SECTIONS  what to run, any of "blk ctl net qd1" (default
#                   "blk ctl net"; qd1: the 4 KiB depth-1 pair only)
#   BENCH_ROUNDS    rounds (default 3)
#   BENCH_RUNTIME   seconds per fio run (default 2; plus 0.5 s ramp)
#   BENCH_NET_SECS  seconds per network run (default 3)
#   BENCH_RTT_N     register reads per batch (default 20000)
#   BENCH_FIO       fio launcher (default /extra/fio-<arch>/run-fio)
#   BENCH_TOOL      hvv-bench (default /extra/hvv-bench)

# fio runs "guest.sh --snap FILE VIRTIO DEV [PARAM VALUE]" before and
# after each zone measurement (once per job: twice with two jobs): FILE
# gets "notifies interrupts requests" of the zone's device VIRTIO and its
# disk DEV; a *.pre FILE is written only once (the earliest counts), others
# each time (the latest counts). VALUE, if given, is written to
# hvisor_vhost's parameter PARAM first (set before, cleared after a run).
PARAMS=/sys/module/hvisor_vhost/parameters
if [ "${1:-}" = --snap ]; then
	[ -n "${6:-}" ] && echo "$6" >"$PARAMS/$5"
	case $2 in *.pre) [ -s "$2" ] && exit 0 ;; esac
	awk -v v="$3" '$1 == v {
		for (i = 2; i <= NF; i++) {
			split($i, a, "=")
			c[a[1]] = a[2]
		}
		printf "%s %s ", c["notifies"], c["interrupts"]
	}' /sys/kernel/debug/hvisor_vhost_loopback/devices >"$2"
	awk '{ print $1 + $5 }' "/sys/block/${4#/dev/}/stat" >>"$2"
	exit 0
fi

SELF=$0
SELF_DIR=/selftests
. "$SELF_DIR/lib.sh"
. "$SELF_DIR/net_lib.sh"

SECTIONS=${BENCH_SECTIONS:-blk ctl net}
ROUNDS=${BENCH_ROUNDS:-3}
RT=${BENCH_RUNTIME:-2}
NET_SECS=${BENCH_NET_SECS:-3}
RTT_N=${BENCH_RTT_N:-20000}
case $(uname -m) in
aarch64) _arch=arm64 ;;
*) _arch=$(uname -m) ;;
esac
FIO=${BENCH_FIO:-/extra/fio-$_arch/run-fio}
TOOL=${BENCH_TOOL:-/extra/hvv-bench}
mkdir -p "$TMP"
BENCH_LOG=$TMP/bench.log
: >"$BENCH_LOG"
SPEC=$TMP/spec
: >"$SPEC"

# Zone 1's windows and interrupts.
NULL_BASE=0x1000000000 NULL_IRQ=40
RAM_BASE=0x1000001000 RAM_IRQ=41
NET_BASE=0x1000002000 NET_IRQ=42
# brd: a ramdisk of this many MiB, written through once so that reads
# find pages.
RAM_MIB=256

fail() {
	echo "bench: $*"
	echo "bench: setup log:"
	sed 's/^/  | /' "$LOG" "$BENCH_LOG" | tail -n 40
	exit 1
}

info() { echo "@I $1=$2"; }

# --- block ---------------------------------------------------------------

# The workloads: name rw bs iodepth.
WORKLOADS="rr4k_qd1:randread:4k:1
rr4k_qd32:randread:4k:32
rw4k_qd32:randwrite:4k:32
sr128k_qd8:read:128k:8
sw128k_qd8:write:128k:8"

# One fio process runs a whole batch of measurements, one after the other
# (stonewall): starting fio (its libraries) costs seconds under TCG.
# A batch is a file of spec lines, "BACKING PATH DEV WL JOBS VIRTIO"
# (WL one line of WORKLOADS, VIRTIO the zone's device or "-"), added
# with spec and run with fio_batch.
spec() { echo "$*" >>"$SPEC"; }

# pair BACKING RAW_DEV ZONE_DEV VIRTIO WL JOBS ROUND: raw and zone, the
# order alternating with the round.
pair() {
	if [ $(($7 % 2)) = 1 ]; then
		spec "$1" raw "$2" "$5" "$6" -
		spec "$1" zone "$3" "$5" "$6" "$4"
	else
		spec "$1" zone "$3" "$5" "$6" "$4"
		spec "$1" raw "$2" "$5" "$6" -
	fi
}

# fio_job N BACKING PATH DEV WL JOBS VIRTIO: the job file section of spec
# line N.
fio_job() {
	local _n="$1" _path="$3" _dev="$4" _wl="$5" _j="$6" _v="$7" _rest _part _snap
	_rest=${_wl#*:}
	echo "[j$_n]"
	echo "stonewall"
	echo "filename=$_dev"
	echo "rw=${_rest%%:*}"
	_rest=${_rest#*:}
	echo "bs=${_rest%%:*}"
	echo "iodepth=${_rest#*:}"
	echo "numjobs=$_j"
	case ${_wl#*:} in
	read:*|write:*)
		# Sequential jobs each get their own part of the device.
		if [ "$_j" -gt 1 ]; then
			_part=$(($(size_bytes "$_dev") / _j / 1048576))M
			echo "size=$_part"
			echo "offset_increment=$_part"
		fi
		;;
	esac
	if [ "$_v" != - ]; then
		_snap="sh $SELF --snap $TMP/snap.$_n"
		_p=$(path_param "$_path")
		echo "exec_prerun=$_snap.pre $_v $_dev ${_p:+$_p 1}"
		echo "exec_postrun=$_snap.post $_v $_dev ${_p:+$_p 0}"
	fi
}

# fio_batch ROUND: run the batch in $SPEC, one @B line per spec line
# (an @E line for a run that failed), and empty $SPEC.
fio_batch() {
	local _r="$1" _n=0 _bk _path _dev _wl _j _v _res _extra _name _rest _rw _bs _qd
	{
		echo "[global]"
		echo "direct=1"
		echo "ioengine=libaio"
		echo "thread"
		echo "group_reporting"
		echo "time_based"
		echo "runtime=$RT"
		echo "ramp_time=500ms"
		echo "norandommap"
		echo "randrepeat=0"
		echo "lat_percentiles=1"
		echo "clocksource=clock_gettime"
		while read -r _bk _path _dev _wl _j _v; do
			_n=$((_n + 1))
			fio_job "$_n" "$_bk" "$_path" "$_dev" "$_wl" "$_j" "$_v"
		done <"$SPEC"
	} >"$TMP/batch.fio"
	rm -f "$TMP"/snap.*
	"$FIO" --output-format=terse --terse-version=3 "$TMP/batch.fio" \
		>"$TMP/fio.out" 2>>"$BENCH_LOG"
	_n=0
	while read -r _bk _path _dev _wl _j _v; do
		_n=$((_n + 1))
		_name=${_wl%%:*}
		_rest=${_wl#*:}
		_rw=${_rest%%:*}
		_rest=${_rest#*:}
		_bs=${_rest%%:*}
		_qd=${_rest#*:}
		# terse v3: the read side is fields 6-46, the write side 47-87:
		# +1 KiB/s, +2 IOPS, +34 mean total latency (us), percentiles
		# of the total latency at +12..+31 ("99.000000%=N", us); then
		# usr and sys CPU.
		if ! _res=$(awk -F';' -v job="j$_n" \
			-v w="$([ "${_rw#rand}" = write ] && echo 1 || echo 0)" '
			$1 == 3 && $3 == job && $5 == 0 {
				b = w ? 47 : 6
				p99 = -1
				for (i = b + 12; i < b + 32; i++)
					if ($i ~ /^99\.000000%=/) { sub(/.*=/, "", $i); p99 = $i }
				sub(/%$/, "", $88); sub(/%$/, "", $89)
				print $(b + 2), $(b + 1), $(b + 34), p99, $88, $89
				found = 1
			}
			END { exit !found }' "$TMP/fio.out"); then
			echo "@E blk backing=$_bk path=$_path wl=$_name jobs=$_j round=$_r: fio failed: $(grep -h "j$_n" "$TMP/fio.out" "$BENCH_LOG" | tail -n 2 | cut -c1-200 | tr '\n' ' ')"
			continue
		fi
		_extra=
		if [ "$_v" != - ] && [ -s "$TMP/snap.$_n.pre" ] && [ -s "$TMP/snap.$_n.post" ]; then
			_extra=$(cat "$TMP/snap.$_n.pre" "$TMP/snap.$_n.post" | awk '
				NR == 1 { n = $1; q = $2; io = $3 }
				NR == 2 && $3 > io {
					printf " ios=%d notify_per_io=%.3f irq_per_io=%.3f",
						$3 - io, ($1 - n) / ($3 - io), ($2 - q) / ($3 - io)
				}')
		fi
		# shellcheck disable=SC2086 # the six figures
		set -- $_res
		echo "@B backing=$_bk path=$_path wl=$_name rw=$_rw bs=$_bs qd=$_qd jobs=$_j round=$_r iops=$1 kibs=$2 lat_us=$3 p99_us=$4 usr=$5 sys=$6$_extra"
	done <"$SPEC"
	: >"$SPEC"
}

blk_setup() {
	lb_setup || fail "the loopback zone module does not load"
	zone_add 1 || fail "hvctl zone add 1 failed"
	# null_blk without memory: the device does nothing, only the
	# software stacks above it cost time.
	modprobe null_blk nr_devices=1 gb=4 memory_backed=0 >>"$BENCH_LOG" 2>&1 ||
		fail "modprobe null_blk failed"
	wait_for 5 test -b /dev/nullb0 || fail "no /dev/nullb0"
	modprobe brd rd_nr=1 rd_size=$((RAM_MIB * 1024)) >>"$BENCH_LOG" 2>&1 ||
		fail "modprobe brd failed"
	wait_for 5 test -b /dev/ram0 || fail "no /dev/ram0"
	dd if=/dev/zero of=/dev/ram0 bs=1M count=$RAM_MIB conv=fsync 2>>"$BENCH_LOG" ||
		fail "cannot fill /dev/ram0"

	if ! blk_add /dev/nullb0 1 $NULL_BASE $NULL_IRQ --serial bench-null ||
		! lb_probe 1 $NULL_BASE $NULL_IRQ; then
		fail "zone disk on nullb0"
	fi
	VD_NULL=$LB_VD VD_NULL_V=$LB_VIRTIO
	if ! blk_add /dev/ram0 1 $RAM_BASE $RAM_IRQ --serial bench-ram ||
		! lb_probe 1 $RAM_BASE $RAM_IRQ; then
		fail "zone disk on ram0"
	fi
	VD_RAM=$LB_VD VD_RAM_V=$LB_VIRTIO
	# No I/O scheduler on either side: the stacks, not the elevator.
	for _d in nullb0 ram0 "${VD_NULL#/dev/}" "${VD_RAM#/dev/}"; do
		_s=/sys/block/$_d/queue/scheduler
		[ -w "$_s" ] && echo none >"$_s" 2>/dev/null
		info "sched_$_d" "$(sed 's/.*\[\(.*\)\].*/\1/' "$_s" 2>/dev/null)"
		# shellcheck disable=SC2046 # count the entries
		info "hwq_$_d" "$(set -- $(cd "/sys/block/$_d/mq" 2>/dev/null && echo [0-9]*); [ "$1" = "[0-9]*" ] && echo 0 || echo $#)"
	done
	info zone_disk_nullb "$VD_NULL"
	info zone_disk_ram "$VD_RAM"
	for _p in /sys/module/null_blk/parameters/*; do
		case ${_p##*/} in
		queue_mode|irqmode|completion_nsec|hw_queue_depth|submit_queues|bs|memory_backed|gb)
			info "null_blk_${_p##*/}" "$(cat "$_p")" ;;
		esac
	done
	info brd_mib $RAM_MIB
	for _p in /sys/module/hvisor_vhost/parameters/blk_*; do
		info "hvisor_vhost_${_p##*/}" "$(cat "$_p")"
	done
}

# One round of the block workloads on one backing device, baseline and
# zone alternating which goes first.
blk_round() {
	local _bk="$1" _raw="$2" _vd="$3" _v="$4" _r="$5" _wl _j
	for _wl in $WORKLOADS; do
		for _j in 1 2; do
			pair "$_bk" "$_raw" "$_vd" "$_v" "$_wl" "$_j" "$_r"
		done
	done
}

# Zone paths with a module parameter set (and cleared) around each run,
# on null_blk, one job: "bounce", the zone's data bounced through root's
# pages, as for zone RAM without struct page; "hop", each completion
# finished by the queue's worker thread instead of in the completion
# context (is the hop worth it?).
BOUNCE_WORKLOADS="rr4k_qd1:randread:4k:1
rr4k_qd32:randread:4k:32
sr128k_qd8:read:128k:8
sw128k_qd8:write:128k:8"
HOP_WORKLOADS="rr4k_qd1:randread:4k:1
rr4k_qd32:randread:4k:32
rw4k_qd32:randwrite:4k:32"
path_param() {
	case $1 in
	bounce) echo blk_force_bounce ;;
	hop) echo blk_complete_in_worker ;;
	esac
}
param_round() {
	local _wl _path=$1 _wls=$2
	[ -w "$PARAMS/$(path_param "$_path")" ] || return 0
	for _wl in $_wls; do
		spec nullb "$_path" "$VD_NULL" "$_wl" 1 "$VD_NULL_V"
	done
}

# --- control path ----------------------------------------------------------

ctl_round() {
	local _r="$1" _cpu _res
	for _cpu in 0 1; do
		[ -d "/sys/devices/system/cpu/cpu$_cpu" ] || continue
		if _res=$("$TOOL" rtt "$LB/raw" 1 "$NULL_BASE" "$RTT_N" "$_cpu" 2>>"$BENCH_LOG"); then
			echo "@C cpu=$_cpu round=$_r $_res"
		else
			echo "@E ctl cpu=$_cpu round=$_r: $(tail -n 1 "$BENCH_LOG")"
		fi
	done
}

# The CPUs that took the bridge's wake-up interrupt so far.
wakeup_irq_cpus() {
	awk '/hvisor_vhost/ && !/loopback/ {
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++)
			printf "%scpu%d:%s", (i > 2 ? "," : ""), i - 2, $i
		exit
	}' /proc/interrupts
}

# --- network -----------------------------------------------------------------

# veth_peer IF: the name of the other end of veth IF.
veth_peer() {
	_ix=$(cat "/sys/class/net/$1/iflink") || return 1
	for _n in /sys/class/net/*; do
		[ "$(cat "$_n/ifindex")" = "$_ix" ] && { echo "${_n##*/}"; return 0; }
	done
	return 1
}

net_setup() {
	mk_tap tap0 || fail "tunctl -t tap0 failed"
	net_zone Z 1 $NET_BASE $NET_IRQ tap0 10.0.0 >>"$BENCH_LOG" ||
		fail "no zone interface"
	# The baseline: a veth pair between the same two namespaces.
	# (busybox ip ignores "peer name": rename the peer it made.)
	{ ip link add vb0 type veth &&
		_peer=$(veth_peer vb0) && ip link set "$_peer" name vb1 &&
		ip link set vb1 netns "$Z_NS" &&
		ip addr add 10.9.0.1/24 dev vb0 && ip link set vb0 up &&
		in_ns "$Z_NS" ip addr add 10.9.0.2/24 dev vb1 &&
		in_ns "$Z_NS" ip link set vb1 up; } >>"$BENCH_LOG" 2>&1 ||
		fail "no veth pair"
	NET_TAPS="$NET_TAPS vb0"
	wait_for 10 ping -c 1 -W 1 10.0.0.2 >/dev/null || fail "the zone does not answer on the tap"
	wait_for 10 ping -c 1 -W 1 10.9.0.2 >/dev/null || fail "the zone does not answer on the veth"
	info zone_if "$Z_IF"
	info zone_if_features "$(cat "/sys/bus/virtio/devices/$Z_V/features")"
}

# net_pair DIR PATH: the sender's and the receiver's namespace ("-": root)
# and the receiver's address for DIR (z2r or r2z) over PATH (tap or veth).
net_pair() {
	case $2 in tap) _net=10.0.0 ;; *) _net=10.9.0 ;; esac
	case $1 in
	z2r) N_SRC=$Z_NS N_DST=- N_IP=$_net.1 ;;
	r2z) N_SRC=- N_DST=$Z_NS N_IP=$_net.2 ;;
	esac
}

# ns_run NS CMD...: CMD in namespace NS ("-": root's).
ns_run() {
	_n=$1
	shift
	if [ "$_n" = - ]; then
		"$@"
	else
		in_ns "$_n" "$@"
	fi
}

# net_run TEST DIR PATH ROUND: one transfer, one @N line.
NET_PORT=7000
net_run() {
	local _t _dir _p _r _out _rcmd _scmd _rp _s _src _rrc
	_t=$1 _dir=$2 _p=$3 _r=$4
	net_pair "$_dir" "$_p"
	NET_PORT=$((NET_PORT + 1))
	_out=$TMP/recv.$NET_PORT
	case $_t in
	tcp) _rcmd="tcp-recv $NET_PORT $NET_SECS" _scmd="tcp-send $N_IP $NET_PORT $NET_SECS" ;;
	udp64) _rcmd="udp-recv $NET_PORT $NET_SECS 64" _scmd="udp-send $N_IP $NET_PORT $NET_SECS 64" ;;
	esac
	# shellcheck disable=SC2086
	ns_run "$N_DST" "$TOOL" $_rcmd >"$_out" 2>>"$BENCH_LOG" &
	_rp=$!
	if ! wait_for 10 grep -q ready "$_out"; then
		kill "$_rp" 2>/dev/null
		echo "@E net test=$_t dir=$_dir path=$_p round=$_r: no receiver"
		return 1
	fi
	# shellcheck disable=SC2086
	_s=$(ns_run "$N_SRC" "$TOOL" $_scmd 2>>"$BENCH_LOG")
	_src=$?
	wait "$_rp"
	_rrc=$?
	if [ "$_src" != 0 ] || [ "$_rrc" != 0 ]; then
		echo "@E net test=$_t dir=$_dir path=$_p round=$_r: sender $_src receiver $_rrc: $(tail -n 2 "$BENCH_LOG" | tr '\n' ' ')"
		return 1
	fi
	echo "@N test=$_t dir=$_dir path=$_p round=$_r $(sed -n '$p' "$_out") $(echo "$_s" | sed 's/\(^\| \)\([a-z]\)/\1s_\2/g')"
}

net_round() {
	local _r _t _dir
	_r=$1
	for _t in tcp udp64; do
		for _dir in z2r r2z; do
			if [ $((_r % 2)) = 1 ]; then
				net_run "$_t" "$_dir" veth "$_r"
				net_run "$_t" "$_dir" tap "$_r"
			else
				net_run "$_t" "$_dir" tap "$_r"
				net_run "$_t" "$_dir" veth "$_r"
			fi
		done
	done
}

# --- main ----------------------------------------------------------------------

has() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }

info kernel "$(uname -r)"
info machine "$(uname -m)"
info cpus "$(grep -c ^processor /proc/cpuinfo)"
info mem_mib $(($(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024))
info fio "$("$FIO" --version 2>/dev/null)"
info rounds "$ROUNDS"
info runtime_s "$RT"
info net_secs "$NET_SECS"
info rtt_n "$RTT_N"

blk_setup
has net && net_setup

_r=1
while [ "$_r" -le "$ROUNDS" ]; do
	echo "@P round $_r of $ROUNDS at $(cut -d' ' -f1 /proc/uptime)s"
	if has blk; then
		blk_round nullb /dev/nullb0 "$VD_NULL" "$VD_NULL_V" "$_r"
		param_round bounce "$BOUNCE_WORKLOADS"
		param_round hop "$HOP_WORKLOADS"
		fio_batch "$_r"
		blk_round brd /dev/ram0 "$VD_RAM" "$VD_RAM_V" "$_r"
		fio_batch "$_r"
	fi
	if has ctl || has qd1; then
		# Notify to completion: a 512-byte read at depth 1.
		has ctl && pair nullb /dev/nullb0 "$VD_NULL" "$VD_NULL_V" \
			rr512_qd1:randread:512:1 1 "$_r"
		has qd1 && pair nullb /dev/nullb0 "$VD_NULL" "$VD_NULL_V" \
			rr4k_qd1:randread:4k:1 1 "$_r"
		fio_batch "$_r"
	fi
	has ctl && ctl_round "$_r"
	has net && net_round "$_r"
	_r=$((_r + 1))
done
info wakeup_irq_cpus "$(wakeup_irq_cpus)"
info lb_devices "$(tr '\n' ';' <"$LB/devices")"
info uptime_s "$(cut -d' ' -f1 /proc/uptime)"
echo "@P done"

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The root zone's side of `make bench-hvisor` (run by the rig's root-init
# as /hvv/root-tests.sh; tools/bench/hvisor-run packs it there). One boot
# serves zone 1's disk with one backend:
#
#   hvb_backend=daemon    hvisor.ko and hvisor-tool's user-space daemon
#                         (`hvisor virtio start`), the image as its "img"
#   hvb_backend=module    hvisor_vhost.ko (default parameters, or
#                         hvb_modparams=a=1,b=2), `hvctl add-blk` on the
#                         image, then hvisor.ko
#   hvb_raw=1             first, fio on the image file in root and the
#                         network jobs over root's loopback (the limits)
#   hvb_net=0             no network device, no network jobs
#
# The backing store is a 256 MiB image in root's tmpfs, written through
# with zeros. While zone 1 runs its fio jobs it announces each in sector
# 0 of the disk; root samples /proc/stat and /proc/uptime (shell builtins
# only, no process started) at each job's start and end, and the
# module's bridge counters. Output, for the host: "@"-lines (see
# tools/bench/hvisor-run), HVV-PROGRESS lines for its watchdog.

BACKEND=module RAW=0 RT=3 ROUND=0 MODPARAMS= TAG= NET=1
for a in $(cat /proc/cmdline); do
	case $a in
	hvb_backend=*) BACKEND=${a#*=} ;;
	hvb_raw=*) RAW=${a#*=} ;;
	hvb_rt=*) RT=${a#*=} ;;
	hvb_round=*) ROUND=${a#*=} ;;
	hvb_modparams=*) MODPARAMS=$(echo "${a#*=}" | tr , ' ') ;;
	hvb_tag=*) TAG=${a#*=} ;;
	hvb_net=*) NET=${a#*=} ;;
	esac
done
TAG=${TAG:-$BACKEND}
IMG=/run/hvb/disk.img
LOG=/tmp/hvb.log
. /hvv/fio-jobs.sh
HVB=/hvv/hvv-bench
# Root's CPU is sampled from where the sender was told to begin.
net_t0() { snap; b0=$S_BUSY w0=$S_WALL; }
progress() { read -r _up _x </proc/uptime; echo "HVV-PROGRESS $* (t=$_up)"; }
err() { echo "@E root $TAG: $*"; }

# A sleep without a process: read with a timeout on a fifo no one writes.
mkfifo /tmp/nap
exec 9<>/tmp/nap
nap() { read -r -t "$1" _x <&9; }

# busy/wall time in centiseconds (USER_HZ = 100), builtins only.
snap() {
	read -r _c _u _n _s _i _w _q _sq _st _rest </proc/stat
	read -r _up _rest </proc/uptime
	S_BUSY=$((_u + _n + _s + _q + _sq))
	_a=${_up%.*} _b=${_up#*.}
	S_WALL=$((_a * 100 + ${_b#0}))
}
bridge() { cat /sys/kernel/debug/hvisor_vhost/bridge 2>/dev/null | awk '{ printf "%s=%s ", $1, $2 }'; }

progress "boot: $TAG round $ROUND"
mkdir -p /run/hvb
dd if=/dev/zero of=$IMG bs=1M count=256 2>/dev/null
printf 'HVB CFG %s %s %s\n' "$RT" "$TAG" "$ROUND" | dd of=$IMG bs=512 conv=sync,notrunc 2>/dev/null
echo "@I root $TAG round=$ROUND kernel=$(uname -r) cpus=$(nproc) fio=$(/fio/run-fio --version 2>&1)"

# The limit: the same file in root (tmpfs has no direct I/O: buffered,
# libaio then completes each request as it is submitted).
if [ "$RAW" = 1 ]; then
	progress "raw fio"
	fio_file $IMG "$RT" libaio 0 >/tmp/raw.fio
	snap; b0=$S_BUSY w0=$S_WALL
	/fio/run-fio --output-format=terse --terse-version=3 /tmp/raw.fio >/tmp/raw.out 2>/tmp/raw.err ||
		err "raw fio failed: $(tail -n 2 /tmp/raw.err | tr '\n' ' ')"
	snap
	fio_lines raw raw "$ROUND" </tmp/raw.out
	echo "@C path=raw backend=raw round=$ROUND job=all busy_cs=$((S_BUSY - b0)) wall_cs=$((S_WALL - w0))"
	printf 'HVB CFG %s %s %s\n' "$RT" "$TAG" "$ROUND" | dd of=$IMG bs=512 conv=sync,notrunc 2>/dev/null
	# The network's limit: both ends in root, over the loopback device.
	for t in tcp udp64; do
		[ "$NET" = 1 ] || break
		progress "raw $t over lo"
		{ $HVB sync-wait 5399 60 && $HVB $(net_send $t 127.0.0.1 "$RT"); } >/tmp/lo-send.out 2>&1 &
		if net_receive $t "$RT" 127.0.0.1 5399 /tmp/lo.out; then
			snap
			net_line raw raw "$ROUND" 0 $t lo </tmp/lo.out
			echo "@C path=net backend=raw round=$ROUND job=${t}_lo busy_cs=$((S_BUSY - b0)) wall_cs=$((S_WALL - w0))"
		else
			err "raw $t over lo: $(tail -n 2 /tmp/lo.out | tr '\n' ' ')"
		fi
		wait
	done
fi

progress "deploy: $TAG"
# Zone 1's network: a persistent tap in root, which either backend
# attaches to (the daemon opens it by name).
NETDEV=
if [ "$NET" = 1 ]; then
	{ tunctl -t tap0 && ip addr add $ROOT_IP/24 dev tap0 && ip link set tap0 up; } >>$LOG 2>&1 ||
		err "tap0: $(tail -n 2 $LOG | tr '\n' ' ')"
	NETDEV='{ "type": "net", "addr": "0xa003600", "len": "0x200", "irq": 75, "tap": "tap0",
                 "mac": [ "0x02", "0x00", "0x00", "0x00", "0x01", "0x01" ], "status": "enable" },'
fi
case $BACKEND in
module)
	# shellcheck disable=SC2086 # the parameters, one word each
	insmod /hvv/hvisor_vhost.ko $MODPARAMS &&
	hvctl zone add 1 --region 0x50000000:0x50000000:0x30000000 &&
	hvctl add-blk $IMG --zone 1 --mmio 0xa003c00 --irq 78 --serial bench >/tmp/blk.id &&
	{ [ "$NET" != 1 ] ||
	  hvctl add-net tap0 --zone 1 --mmio 0xa003600 --irq 75 --mac 02:00:00:00:01:01 >/tmp/net.id; } &&
	insmod /hvv/hvisor.ko
	;;
daemon)
	cat >/tmp/virtio_cfg.json <<EOT
{ "zones": [ { "id": 1,
  "memory_region": [ { "zone0_ipa": "0x50000000", "zonex_ipa": "0x50000000", "size": "0x30000000" } ],
  "devices": [ $NETDEV
               { "type": "blk", "addr": "0xa003c00", "len": "0x200", "irq": 78,
                 "img": "$IMG", "status": "enable" } ] } ] }
EOT
	insmod /hvv/hvisor.ko &&
	{ (cd /tmp && exec hvisor virtio start /tmp/virtio_cfg.json >/tmp/daemon.out 2>&1) & sleep 5; }
	;;
esac >>$LOG 2>&1
rc=$?
if [ "$BACKEND" = daemon ] && ! pidof hvisor >/dev/null; then
	rc=1
	echo "the daemon is not running: $(cat /tmp/daemon.out; grep -i hvisor /var/log/messages | tail -n 5)" >>$LOG
fi
if [ $rc != 0 ]; then
	# A zone touching a virtio region with no backend takes the
	# hypervisor down: do not start it.
	err "deploy failed: $(tail -n 5 $LOG | tr '\n' ' ')"
	echo "HVB-ROOT-LOG-BEGIN"; cat $LOG /var/log/messages; echo "HVB-ROOT-LOG-END"
	exit 1
fi
echo "@I root $TAG modparams='$MODPARAMS' bridge: $(bridge)"

progress "zone 1 starting"
(cd /hvv && hvisor zone start /hvv/zone1.json) >>$LOG 2>&1 || err "zone start failed: $(tail -n 3 $LOG | tr '\n' ' ')"

# Sector 0 is read from the image file with a builtin, for every
# backend: the module's loop device on tmpfs is buffered (tmpfs has no
# direct I/O), so what the zone wrote is in the file's page cache. (An
# O_DIRECT read of the loop device is no way round that here: it gave
# back the sector as it was before the zone's first write, so the marks
# were never seen.)
# readmark: sector 0's words in _h _w _k.
readmark() { read -r _h _w _k <$IMG; }
# diag: what a wait saw, every 4 s or so (root's uptime: a slow root
# and a mark that never came look alike otherwise).
DIAG_N=0
diag() {
	DIAG_N=$((DIAG_N + 1))
	[ $((DIAG_N % 40)) = 1 ] || return 0
	read -r _up _x </proc/uptime
	echo "@D root $TAG t=$_up want='$1 $2' saw='$_h $_w $_k'"
}
# wait_mark WORD N SECONDS: until sector 0 reads "HVB WORD N".
wait_mark() {
	_t=$(($3 * 10))
	while [ $_t -gt 0 ]; do
		readmark
		diag "$1" "$2"
		[ "$_w $_k" = "$1 $2" ] && return 0
		# The zone may be on to the next step already: END n is past
		# when RUN n+1 or NET shows.
		[ "$1" = END ] && { [ "$_w $_k" = "RUN $(($2 + 1))" ] || [ "$_w" = NET ]; } && return 0
		[ "$_w" = DONE ] && return 1
		nap 0.1
		_t=$((_t - 1))
	done
	return 1
}
# net_jobs: root's half of NETJOBS, in the zone's order (zone1.sh).
net_jobs() {
	wait_mark NET 0 120 || { err "hang: no NET"; return; }
	k=0
	for nj in $NETJOBS; do
		k=$((k + 1))
		t=${nj%%:*} d=${nj#*:}
		progress "net $nj"
		if [ "$d" = z2r ]; then
			if net_receive "$t" "$RT" "$ZONE_IP" $((SYNC_PORT + k)) /tmp/net.out; then
				snap
				net_line zone "$TAG" "$ROUND" "$k" "$t" "$d" </tmp/net.out
			else
				err "net $nj: $(tail -n 2 /tmp/net.out | tr '\n' ' ')"
				continue
			fi
		elif $HVB sync-wait $((SYNC_PORT + k)) 180 >/tmp/net.out 2>&1; then
			net_t0
			# shellcheck disable=SC2046 # hvv-bench's words
			$HVB $(net_send "$t" "$ZONE_IP" "$RT") >>/tmp/net.out 2>&1 ||
				err "net $nj: $(tail -n 2 /tmp/net.out | tr '\n' ' ')"
			snap
		else
			err "net $nj: $(tail -n 2 /tmp/net.out | tr '\n' ' ')"
			continue
		fi
		echo "@C path=net backend=$TAG round=$ROUND job=${t}_$d busy_cs=$((S_BUSY - b0)) wall_cs=$((S_WALL - w0))"
		echo "@I root $TAG net $nj tap0 $(net_counters tap0)"
	done
}
nj=0
for w in $WL; do nj=$((nj + 1)); done
# The zone writes "GO" and at once "RUN 1": wait for the latter.
if :; then
	n=0
	while [ $n -lt $nj ]; do
		n=$((n + 1))
		# Each wait is long enough for a slow zone, short enough that a
		# hung one (a lost wake-up) ends the boot soon.
		wait_mark RUN $n $([ $n = 1 ] && echo 150 || echo 60) || { err "hang: no RUN $n"; break; }
		snap; b0=$S_BUSY w0=$S_WALL; br0=$(bridge)
		progress "job $n"
		wait_mark END $n $((RT * 2 + 60)) || { err "hang: no END $n"; break; }
		snap; br1=$(bridge)
		echo "@C path=zone backend=$TAG round=$ROUND job=$n busy_cs=$((S_BUSY - b0)) wall_cs=$((S_WALL - w0))"
		[ -n "$br0" ] && echo "@R backend=$TAG round=$ROUND job=$n pre: $br0 post: $br1"
	done
	[ "$NET" = 1 ] && net_jobs
	wait_mark DONE 0 60 || err "hang: no DONE"
else
	err "hang: zone 1 never started its jobs"
fi
progress "zone 1 done"
echo "@I root $TAG bridge: $(bridge)"
hvctl stats 2>/dev/null | sed 's/^/@I stats /'
bad='BUG:|WARNING:|Oops|soft lockup|hard LOCKUP|self-detected stall|rcu: INFO|Kernel panic'
dmesg | grep -E "$bad" | head -n 5 | sed 's/^/@E root dmesg: /'
echo "HVB-ROOT-LOG-BEGIN"
cat $LOG /tmp/daemon.out 2>/dev/null | tail -n 30
grep -iE 'error|fail|virtio' /var/log/messages 2>/dev/null | tail -n 20
echo "HVB-ROOT-LOG-END"
exit 0

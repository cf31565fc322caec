#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The root zone's side of the hvisor-arm64 target (run by root-init in
# /hvv). Deploys the backend with the shell blocks of README.md's
# "Deploying on an hvisor board" (extracted by the host into
# /hvv/deploy/*.sh and run as they are), then starts zone 1 hvv_starts
# times, serves its tests and checks what they left on root's side.
#
# Kernel command line: hvv_order=vhost-first|hvisor-first (which module
# loads first), hvv_starts=N. Output on the console, for the host:
#   HVV-PROGRESS ...             a step began (the host's watchdog)
#   ROOT-TAP: ok - NAME          a result; "not ok", "# diagnostics"
#   HVV-ROOT-END rc=N            (root-init) done
# While zone 1 runs, root prints nothing: the zone's results come on the
# same serial line.

ORDER=vhost-first STARTS=1
for a in $(cat /proc/cmdline); do
	case $a in
	hvv_order=*) ORDER=${a#*=} ;;
	hvv_starts=*) STARTS=${a#*=} ;;
	esac
done
ZONE=10.0.0.2
T=240			# seconds a zone gets for its tests
T_UP=120		# seconds for it to reach its /init
LOG=/tmp/root.log
IMG=/run/hvv
FAILED=0

progress() { echo "HVV-PROGRESS $*"; }
tap() {		# tap RC NAME [DIAG]
	if [ "$1" = 0 ]; then
		echo "ROOT-TAP: ok - $2"
	else
		FAILED=$((FAILED + 1))
		echo "ROOT-TAP: not ok - $2"
		[ -n "${3:-}" ] && echo "ROOT-TAP: # $3"
		tail -n 8 "$LOG" | sed 's/^/ROOT-TAP: #   /'
	fi
	: >"$LOG"
}
md5() { md5sum | cut -d' ' -f1; }
# region FILE OFFSET_MIB COUNT_MIB: md5 of a part of an image
region() { dd if="$1" bs=1M skip="$2" count="$3" 2>/dev/null | md5; }

# block NAME: run README's block NAME as it is, traced, in a subshell
# that stops at the first failing command; the device ids it sets (BLK,
# BLK2, NET, CON) are kept for the next blocks, also when it failed midway.
block() {
	rm -f /hvv/deploy/state.new
	(
		[ -f /hvv/deploy/state ] && . /hvv/deploy/state
		save() {
			for v in BLK BLK2 NET CON; do
				eval "_x=\${$v:-}"
				[ -z "$_x" ] || echo "$v=$_x"
			done >/hvv/deploy/state.new
		}
		trap save EXIT
		set -ex
		. "/hvv/deploy/$1.sh"
	) >>"$LOG" 2>&1
	_rc=$?
	[ -f /hvv/deploy/state.new ] && mv /hvv/deploy/state.new /hvv/deploy/state
	echo "--- block $1: status $_rc" >>"$LOG"
	return $_rc
}

# The disks the blocks hand to zone 1: images in root's tmpfs (loop
# devices through hvctl, with discard as hole punching).
mkdir -p $IMG
DISK1=$IMG/disk.img DISK2=$IMG/data.img
export DISK1 DISK2
truncate -s 64M $DISK1 && truncate -s 64M $DISK2

progress "boot: $ORDER, $STARTS zone starts"
if [ "$ORDER" = hvisor-first ]; then
	block hvisor; tap $? "deploy: hvisor.ko first"
	block backend; tap $? "deploy: the backend after hvisor.ko"
else
	block backend; tap $? "deploy: the backend first"
	block hvisor; tap $? "deploy: hvisor.ko after the backend"
fi
# Both drivers hold the wake-up interrupt.
grep -E 'hvisor' /proc/interrupts >>"$LOG"
n=$(grep -cE 'hvisor_vhost|hvisor_virtio' /proc/interrupts)
[ "$(grep -E 'hvisor_vhost' /proc/interrupts | grep -c hvisor_virtio_device)" = 1 ]
tap $? "the wake-up interrupt is shared by both modules" "$n lines in /proc/interrupts"
hvctl version >>"$LOG" 2>&1

# serve: the root half of the zone's network tests, in the background.
serve() {
	rm -f /tmp/srv.* /tmp/z2r /tmp/hold
	# zone -> root on 5001; our stdin stays open (fifo) so that nc does
	# not half-close and stop the sender.
	mkfifo /tmp/hold
	(exec 8<>/tmp/hold; timeout $T nc -l -p 5001 <&8 >/tmp/z2r; echo $? >/tmp/srv.z2r) &
	# "ping me" on 5003, then root's data on 5002.
	(
		timeout $T nc -l -p 5003 </dev/null >/dev/null 2>&1
		ping -c 3 -W 5 $ZONE >/tmp/srv.ping.log 2>&1
		echo $? >/tmp/srv.ping
		timeout $T nc -l -p 5002 </tmp/r2z >/dev/null
		echo $? >/tmp/srv.r2z
	) &
	# "flap" on 5005: link down until the zone has seen it (it writes
	# HVV-LINK-DOWN at 2 MiB + 512 of disk A), then up again.
	(
		timeout $T nc -l -p 5005 </dev/null >/dev/null 2>&1 || exit 0
		. /hvv/deploy/state
		hvctl detach-net "$NET" >/tmp/srv.detach.log 2>&1
		echo $? >/tmp/srv.detach
		i=0
		while [ $i -lt 60 ]; do
			dd if=$DISK1 bs=512 skip=4097 count=1 2>/dev/null |
				grep -q "HVV-LINK-DOWN $K" && break
			sleep 1
			i=$((i + 1))
		done
		hvctl attach-net "$NET" tap0 >/tmp/srv.attach.log 2>&1
		echo $? >/tmp/srv.attach
	) &
}

rc_of() { cat "/tmp/srv.$1" 2>/dev/null || echo none; }

# Zone 1's console (the backend's virtio-console, the zone's hvc0 and
# its kernel console): root's end is the tty /dev/hvvconN of device CON.
# Held open for a whole start, raw and without echo (a tty's default
# echo would send the zone's output back to the zone's shell), with
# everything the zone writes going to /tmp/con.log.
CON_PID=
con_open() {
	. /hvv/deploy/state
	CON_TTY=
	: >/tmp/con.log
	for t in /sys/class/tty/hvvcon*; do
		[ "$(cat "$t/dev_id" 2>/dev/null)" = "$CON" ] && CON_TTY=/dev/${t##*/}
	done
	[ -n "$CON_TTY" ] || return 1
	exec 7<>"$CON_TTY" || return 1
	stty raw -echo <&7
	cat <&7 >>/tmp/con.log &
	CON_PID=$!
}
con_close() {
	[ -z "$CON_PID" ] || kill "$CON_PID" 2>/dev/null
	wait "$CON_PID" 2>/dev/null
	CON_PID=
	exec 7>&-
}
# con_wait SECONDS REGEX: until the zone's console has said REGEX
con_wait() {
	_t=$1
	while ! tr -d '\r' </tmp/con.log | grep -qE "$2"; do
		[ "$_t" -le 0 ] && return 1
		sleep 1
		_t=$((_t - 1))
	done
}
# con_cmd SECONDS LINE: type LINE into the zone's shell, then a marker
# whose text differs from its echo (the shell evaluates it), and wait
# for the marker: the output of LINE is then in /tmp/con.log.
CON_N=0
con_cmd() {
	CON_N=$((CON_N + 1))
	printf '%s; echo HVV-CON-DONE-$((%d + 1))\n' "$2" $((CON_N * 10)) >&7
	con_wait "$1" "HVV-CON-DONE-$((CON_N * 10 + 1))\$"
}

K=0
while [ $K -lt "$STARTS" ]; do
	K=$((K + 1))
	progress "start $K: preparing"
	# Root's pattern for the zone: 1 MiB at 1 MiB, its md5 in the
	# header with that of the file root serves on TCP.
	head -c 1048576 /dev/urandom >/tmp/rpat
	head -c 3145728 /dev/urandom >/tmp/r2z
	dd if=/tmp/rpat of=$DISK1 bs=1M seek=1 conv=notrunc 2>/dev/null
	dd if=/dev/zero of=$DISK1 bs=1M seek=2 count=1 conv=notrunc 2>/dev/null
	printf 'HVV-ROOT %s %s %s %s\n' $K "$(md5 </tmp/rpat)" "$(md5 </tmp/r2z)" \
		"$(wc -c </tmp/r2z)" | dd of=$DISK1 bs=512 conv=sync,notrunc 2>/dev/null
	serve
	con_open
	tap $? "start $K: root opens zone 1's console ($CON_TTY)"
	progress "start $K: zone 1 starting"
	block start
	st=$?
	# Silent now until the zone's record is on disk A (or time is up).
	rec= up=
	if [ $st = 0 ]; then
		# First "up" (its /init ran, disk A works), then its record.
		i=0
		while [ $i -lt $T_UP ]; do
			dd if=$DISK1 bs=512 skip=4098 count=1 2>/dev/null |
				grep -q "HVV-ZONE-UP $K" && { up=1; break; }
			sleep 1
			i=$((i + 1))
		done
		i=0
		[ -n "$up" ] || i=$T
		while [ $i -lt $T ]; do
			rec=$(dd if=$DISK1 bs=512 skip=4096 count=1 2>/dev/null | tr -d '\0' | head -n1)
			case $rec in "HVV-ZONE-DONE $K "*) break ;; esac
			rec=
			sleep 1
			i=$((i + 1))
		done
	fi
	progress "start $K: zone 1 finished its tests or timed out"
	tap $st "start $K: README start block (hvisor zone start)"
	[ -n "$up" ]
	tap $? "start $K: zone 1 came up (its /init wrote to disk A)"
	[ -n "$rec" ]
	tap $? "start $K: zone 1 left its record on disk A" "found '$(dd if=$DISK1 bs=512 skip=4096 count=1 2>/dev/null | tr -d '\0' | head -n1)'"
	set -- $rec
	z_md5=${3:-} z2r_md5=${4:-} z2r_size=${5:-} fs_md5=${6:-}
	got=$(region $DISK1 4 1)
	[ -n "$z_md5" ] && [ "$got" = "$z_md5" ]
	tap $? "start $K: the zone's data is in root's image" "zone wrote $z_md5, image has $got"
	got=$(region $DISK1 8 8) zero=$(head -c 8388608 /dev/zero | md5)
	[ -n "$rec" ] && [ "$got" = "$zero" ]
	tap $? "start $K: the discarded range reads zeros in root's image"
	[ "$(rc_of ping)" = 0 ]
	tap $? "start $K: root pings zone 1" "$(tail -n 2 /tmp/srv.ping.log 2>/dev/null | tr '\n' ' ')"
	[ "$(rc_of r2z)" = 0 ]
	tap $? "start $K: root sent its data to zone 1 over TCP" "nc status $(rc_of r2z)"
	got=$(md5 </tmp/z2r 2>/dev/null) size=$(wc -c </tmp/z2r 2>/dev/null)
	[ -n "$z2r_md5" ] && [ "$got" = "$z2r_md5" ] && [ "$size" = "$z2r_size" ]
	tap $? "start $K: zone 1's TCP data arrived intact" "zone sent $z2r_size $z2r_md5, root got $size $got"
	[ "$(rc_of detach)" = 0 ] && [ "$(rc_of attach)" = 0 ]
	tap $? "start $K: hvctl detach-net, attach-net" "$(cat /tmp/srv.detach.log /tmp/srv.attach.log 2>/dev/null | tr '\n' ' ')"

	# The console: the zone's results came on it too (its kernel
	# console is hvc0), and root's commands reach the zone's shell.
	tr -d '\r' </tmp/con.log >/tmp/con.txt
	plan=$(grep -o 'ZONE1-TAP: 1\.\.[0-9]*' /tmp/con.txt | head -n1 | cut -d. -f3)
	n=$(grep -cE 'ZONE1-TAP: (not )?ok [0-9]+ - ' /tmp/con.txt)
	[ -n "$plan" ] && [ "$n" = "$plan" ] && grep -q "ZONE1-DONE $K\$" /tmp/con.txt
	tap $? "start $K: zone 1's results came through its console too" "plan '$plan', $n results, $(wc -c </tmp/con.txt) bytes"
	# Root to zone: 512 random bytes as hex on the command line; the
	# zone's md5 of them comes back.
	tok=$(head -c 256 /dev/urandom | od -An -tx1 -v | tr -d ' \n')
	want=$(echo "$tok" | md5)
	con_cmd 60 "echo $tok | md5sum" &&
		tr -d '\r' </tmp/con.log | grep -q "^$want  -\$"
	tap $? "start $K: a command typed into zone 1's console runs there (512 bytes in, its md5 back)" \
		"want $want; $(tr -d '\r' </tmp/con.log | tail -n 3 | tr '\n' '|')"
	# Zone to root: 4 KiB of the zone's random bytes as hex lines, and
	# the zone's md5 of that text: what came is what the zone sent.
	con_cmd 120 "head -c 4096 /dev/urandom | od -An -tx1 -v >/tmp/cb; sed 's/^/HX/' /tmp/cb; md5sum </tmp/cb | sed 's/^/HXMD5 /'" &&
		zmd5=$(tr -d '\r' </tmp/con.log | grep -oE '^HXMD5 [0-9a-f]{32}' | tail -n1 | cut -d' ' -f2) &&
		got=$(tr -d '\r' </tmp/con.log | grep -E '^HX( [0-9a-f]{2})+$' | sed 's/^HX//' | md5) &&
		n=$(tr -d '\r' </tmp/con.log | grep -cE '^HX( [0-9a-f]{2})+$') &&
		[ "$n" = 256 ] && [ "$got" = "$zmd5" ]
	tap $? "start $K: 4 KiB from zone 1's console arrive intact (256 hex lines)" "lines ${n:-?}, zone's md5 ${zmd5:-none}, root's ${got:-none}"

	progress "start $K: stopping zone 1"
	block stop
	tap $? "start $K: README stop block (hvisor zone shutdown, hvctl zone reset)"
	hvisor zone list >>"$LOG" 2>&1
	! hvisor zone list 2>/dev/null | grep -qE '^\| +1 \|'
	tap $? "start $K: zone 1 is gone from hvisor zone list"
	# The reset stops every worker of the zone's devices; they stay.
	n=$(hvctl list --json 2>>"$LOG" | grep -o '"type":"[a-z]*"' | tr '\n' ' ')
	[ "$n" = '"type":"blk" "type":"blk" "type":"net" "type":"console" ' ] &&
		! ps | grep -v grep | grep -qE '\[hvv-(blk|net)'
	tap $? "start $K: the devices stay, none of their workers runs" "devices: $n; $(ps | grep -E '\[hvv-(blk|net)' | grep -v grep | tr '\n' ' ')"
	# The zone's file system, seen by root once the disk is free.
	got=
	if mount -t ext2 -o ro,loop $DISK2 /mnt >>"$LOG" 2>&1; then
		got=$(md5 </mnt/data)
		umount /mnt
	fi
	[ -n "$fs_md5" ] && [ "$got" = "$fs_md5" ]
	tap $? "start $K: root reads the zone's ext2 file" "zone wrote $fs_md5, root read $got"
	con_close
	# Anything left behind from the zone's tests.
	for j in $(jobs -p); do kill "$j" 2>/dev/null; done
	wait 2>/dev/null
	progress "start $K: done"
	if [ -z "$up" ] || [ -z "$rec" ]; then
		# A zone that hung (in its boot or in its tests) leaves the
		# hypervisor in a state nothing here can judge, and each
		# further hang would cost the whole wait: the remaining
		# starts are not run (the host counts them as missing).
		echo "ROOT-TAP: # zone 1 hung in start $K: no further starts"
		break
	fi
done

# Root's kernel log: nothing went wrong in root's kernel meanwhile.
bad='BUG:|WARNING:|Oops|general protection|soft lockup|hard LOCKUP|self-detected stall|rcu: INFO|Kernel panic|genirq: Flags mismatch'
dmesg | grep -E "$bad" >"$LOG"
[ ! -s "$LOG" ]
tap $? "root's kernel log has no errors"
echo "HVV-ROOT-DMESG-BEGIN"
dmesg
echo "HVV-ROOT-DMESG-END"
echo "HVV-ROOT-SYSLOG-BEGIN"
cat /var/log/messages 2>/dev/null
echo "HVV-ROOT-SYSLOG-END"
exit $FAILED

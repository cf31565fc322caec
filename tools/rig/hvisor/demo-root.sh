#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make demo, the root zone's side (run by root-init in /hvv with
# hvv_run=demo): deploys the backend with README.md's "Deploying on an
# hvisor board" blocks as they are, starts zone 1 from its virtio disk,
# and shows the zone at work, each step labelled as it happens. Every
# step checks what it shows; the last line is the verdict for the host:
#   HVV-DEMO-VERDICT ok: ...  |  HVV-DEMO-VERDICT fail: step N: ...
# Zone 1's console (its hvc0, the backend's virtio-console) is read on
# /dev/hvvconN and shown as "zone1 | ..."; root types commands into the
# zone's shell there. hvv_interactive=1: zone 1 is left running and the
# user gets a guide (root-init then starts a shell).

INTERACTIVE=
for a in $(cat /proc/cmdline); do
	case $a in hvv_interactive=*) INTERACTIVE=${a#*=} ;; esac
done
ZONE=10.0.0.2
IMG=/run/hvv
CR=$(printf '\r') ESC=$(printf '\033')
N=0

step() { N=$((N + 1)); echo; echo "=== [$N] $*"; }
note() { echo "    $*"; }
# guide: for make demo INTERACTIVE=1, what the user can do next
guide() {
	cat <<EOT

=== zone 1 is running; you are at the root zone's shell.
    hvctl console ${CON:-<dev-id>}        zone 1's console (a shell); Ctrl-] comes back here
    hvctl list, hvctl stats   the devices and their counters
    ping 10.0.0.2             zone 1 over the tap (from zone 1: ping 10.0.0.1)
    hvisor zone shutdown -id 1; hvctl zone reset 1
                              stop zone 1 (hvisor zone start /hvv/zone1.json starts it again)
    Ctrl-a x                  quit QEMU (ends the demo)
EOT
}
fail() {
	# What root can see of the failure: the backend's counters and the
	# end of its kernel log.
	echo "--- hvctl stats; the bridge; 5 s later; ping; the end of root's dmesg"
	hvctl stats 2>&1
	cat /sys/kernel/debug/hvisor_vhost/bridge 2>&1 | tr '\n' ' '; echo
	sleep 5
	hvctl stats 2>&1
	cat /sys/kernel/debug/hvisor_vhost/bridge 2>&1 | tr '\n' ' '; echo
	ping -c 2 -W 2 $ZONE 2>&1 | tail -n 2
	if [ -n "$CON_PID" ]; then
		printf '\003' >&7; sleep 2; printf 'echo HVV-POKE-$((1+1))\n' >&7; sleep 8
		echo "--- the console's last bytes (after Ctrl-C and an echo)"
		tail -c 400 /tmp/con.log | od -c | tail -n 14
		hvctl stats "$CON"
	fi
	dmesg | tail -n 8
	if [ "$INTERACTIVE" = 1 ]; then
		[ -z "$CON_PID" ] || { printf 'stty echo\n' >&7; con_close; }
		guide
	fi
	echo "HVV-DEMO-VERDICT fail: step $N: $*"
	exit 1
}
# run CMD...: show a root command as typed, then run it
run() { echo "root# $*"; eval "$@"; }
# block NAME: README's deploy block NAME, line by line as it is written
block() {
	while IFS= read -r _l; do
		echo "root# $_l"
		eval "$_l" || fail "README block $1: '$_l' failed"
	done </hvv/deploy/$1.sh
}
md5() { md5sum | cut -d' ' -f1; }
# counter DEV FIELD: one of hvctl stats' counters
counter() { hvctl stats "$1" --json | grep -o "\"$2\":[0-9]*" | cut -d: -f2; }

# --- zone 1's console -------------------------------------------------
# Root's end is the tty of device CON, held open raw and without echo (a
# tty's default echo would send the zone's output back into the zone's
# shell). One reader shows each line ("zone1 | ...") and logs it for the
# checks, without escape sequences; what root types is shown as
# "zone1 < ...".
con_show() {
	while IFS= read -r _l; do
		_l=${_l%"$CR"}
		case $_l in *"$ESC"*)
			_l=$(printf '%s\n' "$_l" | sed "s/$ESC\[[0-9;?]*[A-Za-z]//g") ;;
		esac
		# The zone's shell does not echo (zone1-disk-init): its prompt
		# comes before its next output.
		_l=${_l#zone1:/# }
		echo "$_l" >>/tmp/con.log
		case $_l in
		HVV-CON-[0-9]*) ;;
		*) echo "  zone1 | $_l" ;;
		esac
	done
}
# con_tty: the tty of console device $CON (hvctl list names it too)
con_tty() {
	CON_TTY=
	for t in /sys/class/tty/hvvcon*; do
		[ "$(cat "$t/dev_id" 2>/dev/null)" = "$CON" ] && CON_TTY=/dev/${t##*/}
	done
	[ -n "$CON_TTY" ]
}
CON_PID=
con_open() {
	con_tty || return 1
	: >/tmp/con.log
	exec 7<>"$CON_TTY"
	stty raw -echo <&7
	# dd, not cat: busybox cat copies with sendfile(), a splice from the
	# tty that holds the pipe's lock while it waits for the tty's next
	# input, so con_show could not read what had come (README, make demo).
	dd bs=4096 <&7 2>/dev/null | con_show &
	CON_PID=$!
}
con_close() {
	# The reader pipeline's dd holds the tty: end it first.
	for p in $(pidof dd); do
		[ "$(readlink /proc/$p/fd/0)" = "$CON_TTY" ] && kill "$p"
	done
	wait "$CON_PID" 2>/dev/null
	exec 7>&-
}
# con_wait SECONDS REGEX: until the zone's console has said REGEX
con_wait() {
	_t=$1
	while ! grep -qE "$2" /tmp/con.log; do
		[ "$_t" -le 0 ] && return 1
		sleep 1
		_t=$((_t - 1))
	done
}
# con_cmd SECONDS LINE: type LINE into the zone's shell, then a marker
# whose text differs from its echo (the zone's shell computes it); the
# lines the zone wrote meanwhile end up in /tmp/con.out. Short lines:
# the zone's line editor takes the terminal as 80 columns wide.
CON_N=0
con_cmd() {
	CON_N=$((CON_N + 1))
	_from=$(wc -l </tmp/con.log)
	echo "  zone1 < $2"
	printf '%s; echo HVV-CON-$((%d+1))\n' "$2" $((CON_N * 10)) >&7
	con_wait "$1" "^HVV-CON-$((CON_N * 10 + 1))\$"
	_rc=$?
	tail -n +$((_from + 1)) /tmp/con.log >/tmp/con.out
	return $_rc
}

# --- 1 ----------------------------------------------------------------
step "the root zone (zone 0) runs on the hypervisor"
run 'uname -sr'
note "root has $(grep -c ^processor /proc/cpuinfo) of the machine's 4 CPUs; zone 1 gets the other 2"
run 'cat /proc/device-tree/hvisor_virtio_device/compatible; echo'

# --- 2 ----------------------------------------------------------------
step "the backend, hvisor-tool's module, zone 1's disk, network and console (README's deploy blocks, as they are)"
# Zone 1's disk: an ext4 image with its root file system (the host made
# it); a second, empty disk with two queues.
mkdir -p $IMG
cp /hvv/zone1/disk.img $IMG/disk.img
truncate -s 64M $IMG/data.img
DISK1=$IMG/disk.img DISK2=$IMG/data.img
note "DISK1=$DISK1 (zone 1's root file system, ext4), DISK2=$DISK2"
block backend
block hvisor
run 'hvctl list'
run 'hvctl stats'

# --- 3 ----------------------------------------------------------------
con_tty
step "zone 1 starts (README's start block); its console is ${CON_TTY:-?} on root, shown as 'zone1 |'"
con_open || fail "no tty for console device $CON"
block start
con_wait 180 '^ZONE1-UP: ' || fail "zone 1 did not come up in 180 s"
# Its shell has printed its prompt before root types.
con_wait 30 '^Enter .help.' && sleep 3

# --- 4 ----------------------------------------------------------------
step "zone 1 booted on its virtio disk"
grep -qE '^ZONE1-UP: / is /dev/vd[a-z]+ \(ext4, disk serial zone1-disk\)' /tmp/con.log ||
	fail "zone 1's / is not the virtio disk: $(grep ZONE1-UP /tmp/con.log)"
con_cmd 60 "cat /proc/cmdline" && con_cmd 60 "grep ' / ' /proc/mounts" &&
	con_cmd 60 "dmesg | grep -E 'virtio_blk|EXT4-fs'" ||
	fail "zone 1's shell did not answer"
n=$(counter "$BLK" requests)
note "root: the disk's backend has served $n requests (hvctl stats $BLK)"
[ "${n:-0}" -gt 0 ] || fail "no disk requests"

# --- 5 ----------------------------------------------------------------
step "ping between root and zone 1, through the tap and the virtio-net device"
run "ping -c 3 $ZONE" || fail "root cannot ping zone 1"
# -A: the next ping as soon as the reply came (3 s less under TCG).
con_cmd 60 'ping -A -c 3 10.0.0.1' && grep -q ' 0% packet loss' /tmp/con.out ||
	fail "zone 1 cannot ping root"

# --- 6 ----------------------------------------------------------------
step "TCP: 4 MiB each way between root and zone 1, checked by md5"
b0=$(counter "$NET" bytes)
head -c 4194304 /dev/urandom >/tmp/r2z
want=$(md5 </tmp/r2z)
note "root -> zone 1: root serves 4 MiB (md5 $want) on port 5002"
nc -l -p 5002 </tmp/r2z >/dev/null &
t0=$(date +%s)
con_cmd 120 'nc 10.0.0.1 5002 <>/tmp/hold | md5sum' && grep -q "^$want  -" /tmp/con.out ||
	fail "zone 1 did not receive root's 4 MiB intact"
note "zone 1 got them intact in $(( $(date +%s) - t0 )) s"
mkfifo /tmp/hold 2>/dev/null
(exec 8<>/tmp/hold; nc -l -p 5001 <&8 >/tmp/z2r) &
note "zone 1 -> root: root listens on port 5001"
t0=$(date +%s)
con_cmd 60 'head -c 4194304 /dev/urandom >/tmp/z' && con_cmd 60 'md5sum /tmp/z' &&
	zsum=$(grep -oE '^[0-9a-f]{32}  /tmp/z' /tmp/con.out | cut -d' ' -f1) &&
	con_cmd 120 'nc 10.0.0.1 5001 </tmp/z' || fail "zone 1's send did not finish"
i=0
while [ "$(wc -c </tmp/z2r)" != 4194304 ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
got=$(md5 </tmp/z2r)
note "root received $(wc -c </tmp/z2r) bytes, md5 $got (zone 1 sent ${zsum:-?}) in $(( $(date +%s) - t0 )) s"
[ -n "$zsum" ] && [ "$got" = "$zsum" ] || fail "zone 1's 4 MiB did not arrive intact"
b1=$(counter "$NET" bytes)
note "the network device moved $((b1 - b0)) bytes meanwhile (hvctl stats $NET)"
[ "$((b1 - b0))" -ge 8388608 ] || fail "the net counters did not move"

# --- 7 ----------------------------------------------------------------
step "hvctl list and hvctl stats: the counters moved"
run 'hvctl list'
run 'hvctl stats'

# --- 8 ----------------------------------------------------------------
step "zone 1's console through the module: root's keys in, the zone's answer out"
t=${CON_TTY#/dev/}
note "$CON_TTY: zone $(cat /sys/class/tty/$t/zone), device $(cat /sys/class/tty/$t/dev_id), $(cat /sys/class/tty/$t/dropped) bytes dropped"
c0=$(counter "$CON" bytes)
con_cmd 60 'echo typed on root, run by $(hostname) | tr a-z A-Z' &&
	grep -q '^TYPED ON ROOT, RUN BY ZONE1$' /tmp/con.out && con_cmd 60 'tty' && grep -q '^/dev/hvc0$' /tmp/con.out ||
	fail "the console did not carry the command and its answer"
note "the console device moved $(( $(counter "$CON" bytes) - c0 )) bytes for that (hvctl stats $CON)"

# --- 9 ----------------------------------------------------------------
if [ "$INTERACTIVE" = 1 ]; then
	# The user's terminal answers the line editor's questions.
	printf 'stty echo\n' >&7
	sleep 1
	con_close
	guide
	echo "HVV-DEMO-VERDICT ok: zone 1 booted from its virtio disk; ping and TCP both ways; console on $CON_TTY"
	exit 0
fi
step "zone 1 stops (README's stop block)"
con_close
block stop
run 'hvisor zone list'
echo
echo "HVV-DEMO-VERDICT ok: zone 1 booted from its virtio disk; ping and TCP both ways; console on $CON_TTY"

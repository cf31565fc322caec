#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Zones and devices declared in the device tree (dts/hvisor-vhost.yaml;
# the arm64 guest's tree has them: dts/qemu-arm64-backend.dtsi).
#  - the module, loaded without dt_devices=0, creates zone 9 and its
#    devices without any hvctl call: the net device at once (link down,
#    no tap), the console at once (its tty, the declared window size),
#    the disks once /dev/ram0 and /dev/ram1 appear (brd is loaded after
#    the module: the disks are waited for); the malformed nodes are
#    named in the kernel log and skipped;
#  - the loopback zone reads and writes the disks (serial, read-only disk
#    as declared), a tap attached with hvctl brings the link up, and the
#    zone's virtio_console gets what root writes to the console's tty;
#  - rmmod removes them and releases the disks; rmmod while disks are
#    still waited for cancels the wait (nothing runs after the unload);
#    a disk that never appears is reported once, after dt_blk_wait;
#  - with the rig's parameters (dt_devices=0) the module creates nothing.
# Skipped (exit 4) where the tree has no such node (x86_64). The module
# is left loaded as the rig had it. TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/con_lib.sh"

skip_all() {
	echo "TAP version 13"
	echo "1..0 # SKIP $1"
	exit 4
}

DT=
for _c in /proc/device-tree/*/compatible; do
	[ -f "$_c" ] || continue
	if tr '\0' '\n' <"$_c" | grep -qx 'hvisor,vhost' &&
		[ -d "${_c%/compatible}/zone@9" ]; then
		DT=${_c%/compatible}
	fi
done
[ -n "$DT" ] || skip_all "no hvisor,vhost node with zone@9 in the device tree"
# Zone 9's RAM in the tree is root's RAM in the default guest: 896 MiB at
# 0x40000000 (1 GiB less the 128 MiB vm-run keeps from root).
grep -q '^40000000-77ffffff : System RAM$' /proc/iomem ||
	skip_all "root's RAM is not the 896 MiB at 0x40000000 the tree declares"

# lib.sh cleanup: the zone is the tree's, it goes with the module.
# shellcheck disable=SC2034
ZONES=
tap_begin

BLK0=$((0x2000000000)) BLK1=$((0x2000000200)) NET=$((0x2000000400))
CON=$((0x2000000600))
# The rig's parameters without dt_devices=0.
PARAMS=$(echo "$HVV_MODULE_PARAMS" | sed 's/dt_devices=[^ ]*//g')

# dev_at BASE: the JSON object of zone 9's device at BASE (decimal).
dev_at() {
	"$HVCTL" list --json 2>/dev/null | awk '{ gsub(/\{"id":/, "\n{\"id\":"); print }' |
		grep "\"zone\":9,\"mmio_base\":$1,"
}
has_dev() { dev_at "$1" >/dev/null; }
dev_id() { dev_at "$1" | sed -n 's/^{"id":\([0-9]*\),.*/\1/p'; }
md5() { dd if="$1" bs=64k count=64 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1; }
# dmesg_has TEXT: the kernel logged TEXT since the mark in DMESG1.
dmesg_has() { new_dmesg "$DMESG1" | grep -qF -- "$1"; }
mark() { DMESG1=$(dmesg_mark); }

if [ -s "$LB_WEDGED" ]; then
	nok "no zone disk left stuck by an earlier test" "stuck: $(cat "$LB_WEDGED")"
	bail "cannot unload"
fi
[ -d /sys/module/hvisor_vhost_loopback ] && timed 60 rmmod hvisor_vhost_loopback
rmmod brd 2>/dev/null
[ -e /dev/ram0 ] && bail "/dev/ram0 exists and brd cannot be unloaded"

# --- load: what the tree declares comes up --------------------------------------

check "rmmod hvisor_vhost (loaded with $HVV_MODULE_PARAMS)" timed 60 rmmod hvisor_vhost ||
	bail "cannot unload"
mark
# shellcheck disable=SC2086
check "insmod hvisor_vhost.ko $PARAMS dt_blk_wait=60" \
	insmod "$HVV_MODULE" $PARAMS dt_blk_wait=60 || bail "cannot load"

"$HVCTL" list --json >"$TMP/json" 2>&1
G=$((0x40000000)) S=$((0x38000000))
grep -qF "{\"zones\":[{\"id\":9,\"from_dt\":true,\"regions\":[{\"guest_phys\":$G,\"host_phys\":$G,\"size\":$S}]}]" "$TMP/json" &&
	ok "zone 9 exists, from the tree, with the RAM it declares, and no other zone" ||
	nok "zone 9 exists, from the tree, with the RAM it declares, and no other zone" "$(cat "$TMP/json")"
o=$(dev_at $NET)
case $o in
*'"irq":82,'*'"from_dt":true,'*'"mac":"52:54:00:00:09:01"'*'"tap":"","attached":0'*)
	ok "the net device exists, irq 32 + SPI 0x32, its MAC, no tap (link down)" ;;
*)	nok "the net device exists, irq 32 + SPI 0x32, its MAC, no tap (link down)" "$o" ;;
esac
o=$(dev_at $CON)
case $o in
*'"type":"console",'*'"irq":85,'*'"from_dt":true,'*'"tty":"hvvcon'*'"cols":100,"rows":30,'*)
	ok "the console exists, irq 32 + SPI 0x35, its tty, size 100x30" ;;
*)	nok "the console exists, irq 32 + SPI 0x35, its tty, size 100x30" "$o" ;;
esac
CTTY=/dev/$(echo "$o" | sed -n 's/.*"tty":"\([^"]*\)".*/\1/p')
[ -c "$CTTY" ] && dmesg_has "zone@9/virtio-console@2000000600: zone 9 dev $(dev_id $CON), root's side is $CTTY" &&
	ok "$CTTY exists, the log names it" || nok "the console's tty exists, the log names it" "'$CTTY'"
n=$(tr '{' '\n' <"$TMP/json" | grep -c '^"id":[0-9]*,"type"')
[ "$n" = 2 ] && ok "no disk before /dev/ram0 and /dev/ram1 exist" ||
	nok "no disk before /dev/ram0 and /dev/ram1 exist" "$n devices: $(cat "$TMP/json")"
dmesg_has "zone@9/virtio-blk@2000000000: waiting up to 60 s for /dev/ram0" &&
	ok "the log says the disk is waited for" ||
	nok "the log says the disk is waited for"
for m in "zone@9/virtio-blk-noreg: no reg" \
	"zone@9/virtio-net@2000000800: local-mac-address is not a unicast MAC" \
	"zone@9/virtio-console@2000000a00: hvisor,window-size is not <cols rows> below 65536" \
	"zone@b: hvisor,ram-regions is not" \
	"/hvisor-vhost/virtio-blk-nozone: not a zone node"; do
	dmesg_has "$m" && ok "malformed node named and skipped: $m" ||
		nok "malformed node named and skipped: $m"
done

check "modprobe brd rd_nr=2 rd_size=16384" modprobe brd rd_nr=2 rd_size=16384 ||
	bail "no brd"
LOADED_MODS="$LOADED_MODS brd"
check "the two disks come up once their block devices exist" \
	wait_for 10 sh -c "'$HVCTL' list --json | grep -q '\"mmio_base\":$BLK0,' &&
		'$HVCTL' list --json | grep -q '\"mmio_base\":$BLK1,'" || bail "no disks"
o=$(dev_at $BLK0)
case $o in
*'"irq":80,'*'"from_dt":true,'*'"read_only":false,"serial":"dt-disk-0",'*'"backing":"/dev/ram0"'*)
	ok "disk 0: irq 80, read-write, serial dt-disk-0, on /dev/ram0" ;;
*)	nok "disk 0: irq 80, read-write, serial dt-disk-0, on /dev/ram0" "$o" ;;
esac
o=$(dev_at $BLK1)
case $o in
*'"irq":81,'*'"read_only":true,'*'"backing":"/dev/ram1"'*)
	ok "disk 1: irq 81, read-only, on /dev/ram1" ;;
*)	nok "disk 1: irq 81, read-only, on /dev/ram1" "$o" ;;
esac

n=$("$HVCTL" list | grep -c ' \[device tree\]$')
[ "$n" = 5 ] && ok "hvctl list marks the zone and the four devices [device tree]" ||
	nok "hvctl list marks the zone and the four devices [device tree]" "$("$HVCTL" list)"

# --- the loopback zone uses them ------------------------------------------------

fill /dev/ram1 $((4 << 20)) || nok "random data on /dev/ram1"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
lb_probe 9 0x2000000000 80 && ok "zone 9 probes disk 0: $LB_VD" ||
	bail "zone 9 cannot probe disk 0"
VD0=$LB_VD
lb_probe 9 0x2000000200 81 && ok "zone 9 probes disk 1: $LB_VD" ||
	bail "zone 9 cannot probe disk 1"
VD1=$LB_VD
s=$(cat "/sys/block/$(dev_name "$VD0")/serial" 2>&1)
[ "$s" = dt-disk-0 ] && ok "$VD0's serial is dt-disk-0" || nok "$VD0's serial is dt-disk-0" "'$s'"
check "write 4 MiB through $VD0" \
	"$BLKIO" rand "$VD0" --off 0 --len 4M --count 100 --direct --seed 9 --shadow "$TMP/s0"
check "/dev/ram0 holds what the zone wrote" \
	"$BLKIO" cmp /dev/ram0 0 "$TMP/s0" 0 4M --direct
check "$VD0 reads it back" "$BLKIO" cmp "$VD0" 0 "$TMP/s0" 0 4M --direct
ro=$(cat "/sys/block/$(dev_name "$VD1")/ro")
[ "$ro" = 1 ] && ok "$VD1 is read-only" || nok "$VD1 is read-only" "ro is '$ro'"
a=$(md5 "$VD1") b=$(md5 /dev/ram1)
[ -n "$a" ] && [ "$a" = "$b" ] && ok "$VD1 reads /dev/ram1's bytes" ||
	nok "$VD1 reads /dev/ram1's bytes" "$a vs $b"
check_fails "a write through $VD1 fails" \
	dd if=/dev/zero of="$VD1" bs=4096 count=1 oflag=direct conv=fsync

ID=$(dev_id $NET)
if tunctl -t dttap0 >"$LOG" 2>&1; then
	check "hvctl attach-net $ID dttap0" "$HVCTL" attach-net "$ID" dttap0
	case $(dev_at $NET) in
	*'"tap":"dttap0","attached":1'*) ok "the net device has its tap (link up)" ;;
	*) nok "the net device has its tap (link up)" "$(dev_at $NET)" ;;
	esac
	"$HVCTL" detach-net "$ID" >/dev/null 2>&1
	tunctl -d dttap0 >/dev/null 2>&1
else
	nok "tunctl -t dttap0"
fi

# The zone's virtio_console on the console: root's input reaches it.
echo "9 0x2000000600 0x200 85" >"$LB/probe" 2>>"$LOG"
V=$(lb_vdev 9 0x2000000600)
HVC=
if [ -n "$V" ] && wait_for 20 con_bound && wait_for 10 con_find_hvc; then
	bg sh -c "exec 3<>$HVC; stty raw -echo <&3 && head -c 8 <&3 >$TMP/con.got"
	R=$BG_PID
	sleep 0.3
	timed 20 sh -c "printf dt-input >$CTTY"
	wait_for 10 exited "$R"
	[ "$(cat "$TMP/con.got" 2>/dev/null)" = dt-input ] &&
		ok "zone 9's virtio_console ($HVC) gets what root writes to $CTTY" ||
		nok "zone 9's virtio_console gets root's input" "got '$(cat "$TMP/con.got" 2>/dev/null)'"
else
	nok "zone 9's virtio_console binds to the console" "$(cat "$LB/devices")"
fi

# --- unload ---------------------------------------------------------------------

lb_remove_all && timed 60 rmmod hvisor_vhost_loopback
check "rmmod hvisor_vhost with the tree's zone and devices" timed 60 rmmod hvisor_vhost
check "the disks are released (O_EXCL opens succeed)" \
	sh -c "'$BLKIO' excl /dev/ram0 && '$BLKIO' excl /dev/ram1"

# A wait in progress when the module goes: cancelled, nothing runs later.
rmmod brd
mark
# shellcheck disable=SC2086
check "insmod with dt_blk_wait=2, no /dev/ram0" insmod "$HVV_MODULE" $PARAMS dt_blk_wait=2
check "rmmod while the disks are waited for" timed 60 rmmod hvisor_vhost
sleep 3
dmesg_has "did not appear" && nok "no disk wait ran after the unload" ||
	ok "no disk wait ran after the unload"

# A disk that never appears: one message once the wait is over.
mark
# shellcheck disable=SC2086
check "insmod with dt_blk_wait=1, no /dev/ram0" insmod "$HVV_MODULE" $PARAMS dt_blk_wait=1
wait_for 5 dmesg_has "/dev/ram1 did not appear within 1 s"
sleep 1
n=$(new_dmesg "$DMESG1" | grep -c "/dev/ram0 did not appear within 1 s")
[ "$n" = 1 ] && ok "a disk that does not appear is reported once" ||
	nok "a disk that does not appear is reported once" "$n messages"
check "rmmod" timed 60 rmmod hvisor_vhost

# shellcheck disable=SC2086
check "insmod with the rig's parameters ($HVV_MODULE_PARAMS)" \
	insmod "$HVV_MODULE" $HVV_MODULE_PARAMS || bail "the module does not load again"
check "dt_devices=0: no zones and no devices" \
	sh -c "'$HVCTL' list --json | grep -qx '{\"zones\":\[\],\"devices\":\[\]}'"

tap_end

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Unloading hvisor_vhost.ko with zones and devices present. Three zones:
# zone 1 with two disks the loopback zone uses (data written and checked),
# zone 2 with a device no driver ever probed, zone 3 without devices.
#  - while the loopback module is loaded (it uses the backend's symbols),
#    rmmod hvisor_vhost fails and nothing changes: the zone's disks still
#    work;
#  - with the loopback module removed (its disks go, their devices are
#    reset), rmmod hvisor_vhost succeeds, /dev/hvisor_vhost goes away, the
#    backing devices are released (O_EXCL opens succeed), the kernel logs
#    no warning;
#  - insmod with the rig's parameters gives a module without zones or
#    devices, and a disk set up again reads what was written before.
# The module is left loaded, as the rig had it. TAP output; busybox sh.

# "COND && ok ... || nok ...": ok never fails.
# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES="1 2 3"
tap_begin

if [ -s "$LB_WEDGED" ]; then
	nok "no zone disk left stuck by an earlier test" \
		"stuck: $(cat "$LB_WEDGED"): the loopback module cannot be unloaded"
	bail "cannot unload"
fi
mk_loop BK1 u1 16 || bail "no loop device"
mk_loop BK2 u2 16 || bail "no loop device"
mk_loop BK3 u3 4 || bail "no loop device"
check "loopback zone module loads" lb_setup || bail "no loopback zone"
check "zones 1, 2 and 3 with identity RAM" \
	sh -c "'$HVCTL' zone add 1 --identity-ram && '$HVCTL' zone add 2 --identity-ram &&
		'$HVCTL' zone add 3 --identity-ram" || bail "no zones"
setup_disk VD1 1 0x1000000000 40 "$BK1" --serial unload-1 || bail "no disk"
setup_disk VD2 1 0x1000001000 41 "$BK2" --queues 2 || bail "no disk"
check "zone 2: a device no driver probes" blk_add "$BK3" 2 0x1000000000 40 ||
	bail "no device"
check "write through both disks" \
	sh -c "'$BLKIO' rand '$VD1' --off 0 --len 16M --count 200 --direct --seed 1 --shadow '$TMP/s1' &&
		'$BLKIO' rand '$VD2' --off 0 --len 16M --count 200 --direct --seed 2 --shadow '$TMP/s2'"
check "the backend holds the backing devices (O_EXCL opens fail)" \
	sh -c "! '$BLKIO' excl '$BK1' && ! '$BLKIO' excl '$BK2' && ! '$BLKIO' excl '$BK3'"

# While the loopback module uses it, the module stays.
before=$("$HVCTL" list --json 2>&1)
check_fails "rmmod hvisor_vhost fails while the loopback module is loaded" \
	timed 30 rmmod hvisor_vhost
now=$("$HVCTL" list --json 2>&1)
[ -e /dev/hvisor_vhost ] && [ "$now" = "$before" ] &&
	ok "the module, its zones and devices are unchanged" ||
	nok "the module, its zones and devices are unchanged" "now: $now"
check "the zone's disks still work" \
	sh -c "'$BLKIO' cmp '$VD1' 0 '$TMP/s1' 0 16M --direct &&
		'$BLKIO' cmp '$VD2' 0 '$TMP/s2' 0 16M --direct"

# The zone side goes first.
check "rmmod hvisor_vhost_loopback (its disks are removed)" \
	timed 60 rmmod hvisor_vhost_loopback
left=$(zone_disks)
[ -z "$left" ] && ok "no zone disk is left" ||
	nok "no zone disk is left" "$left"
n=$("$HVCTL" list --json | tr '{' '\n' | grep -c '^"id":[0-9]*,"type"')
[ "$n" = 3 ] && ok "the backend still has its 3 devices" ||
	nok "the backend still has its 3 devices" "it has $n"

# Then the backend, with 3 zones and 3 devices.
dmesg0=$(dmesg_mark)
if check "rmmod hvisor_vhost with 3 zones and 3 devices" timed 60 rmmod hvisor_vhost; then
	note "took $TIMED_MS ms"
fi
[ ! -e /dev/hvisor_vhost ] && [ ! -d /sys/module/hvisor_vhost ] &&
	ok "/dev/hvisor_vhost and /sys/module/hvisor_vhost are gone" ||
	nok "/dev/hvisor_vhost and /sys/module/hvisor_vhost are gone"
new_dmesg "$dmesg0" | sed 's/^/# dmesg: /'
check "the backing devices are released (O_EXCL opens succeed)" \
	sh -c "'$BLKIO' excl '$BK1' && '$BLKIO' excl '$BK2' && '$BLKIO' excl '$BK3'"
check "the data written through the zone is on the backing devices" \
	sh -c "'$BLKIO' cmp '$BK1' 0 '$TMP/s1' 0 16M --direct &&
		'$BLKIO' cmp '$BK2' 0 '$TMP/s2' 0 16M --direct"

# Back as the rig loaded it.
# shellcheck disable=SC2086
check "insmod $HVV_MODULE $HVV_MODULE_PARAMS" insmod "$HVV_MODULE" $HVV_MODULE_PARAMS ||
	bail "the module does not load again"
check "the new module has no zones and no devices" \
	sh -c "'$HVCTL' list --json | grep -qx '{\"zones\":\[\],\"devices\":\[\]}'"
check "loopback zone module loads again" lb_setup || bail "no loopback zone"
check "zone 1 again" zone_add 1 || bail "no zone"
setup_disk VD1 1 0x1000000000 40 "$BK1" || bail "no disk"
check "it reads what the zone wrote before the unload" \
	"$BLKIO" cmp "$VD1" 0 "$TMP/s1" 0 16M --direct

tap_end

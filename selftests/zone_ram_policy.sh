#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What may become a zone's RAM. Root's own System RAM only with the
# loopback (these tests' default) or allow_root_ram=1: with
# allow_root_ram=0, as with the real hypervisor, zone add of root RAM is
# refused, hvctl says why, and nothing is created. Memory a driver of
# root claimed (device registers: the UART on arm64, the local APIC on
# x86_64) is refused in every mode. RAM root does not have (the range the
# rig kept from root at boot) is taken either way. TAP; busybox sh.

# shellcheck disable=SC2015
. "$(dirname "$0")/lib.sh"

ZONES="1 2"
tap_begin

reload() {
	rmmod hvisor_vhost >"$LOG" 2>&1 || return 1
	# shellcheck disable=SC2086
	insmod "$HVV_MODULE" $HVV_MODULE_PARAMS "$@" >>"$LOG" 2>&1
}

# A page of device registers a driver has claimed.
case $(uname -m) in
aarch64) MMIO=$(sed -n 's/^  \([0-9a-f]*\)-[0-9a-f]* : .*pl011.*/\1/p' /proc/iomem | head -n 1) ;;
x86_64) MMIO=$(sed -n 's/^\([0-9a-f]*\)-[0-9a-f]* : Local APIC$/\1/p' /proc/iomem | head -n 1) ;;
esac
[ -n "$MMIO" ] || bail "no claimed device registers in /proc/iomem"

zones() { "$HVCTL" zone list 2>&1 | grep -c '^zone '; }

check "reload with allow_root_ram=0" reload allow_root_ram=0 || bail "no module"
out=$("$HVCTL" zone add 1 --identity-ram 2>&1)
rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "System RAM of root" &&
	ok "allow_root_ram=0: root's RAM is refused (exit 1), hvctl says why" ||
	nok "allow_root_ram=0: root's RAM is refused (exit 1), hvctl says why" "exit $rc: $out"
[ "$(zones)" = 0 ] && ok "... and no zone was created" ||
	nok "... and no zone was created" "$("$HVCTL" zone list 2>&1)"
if [ -n "${HVV_ZONE_RAM:-}" ]; then
	# shellcheck disable=SC2086
	set -- $HVV_ZONE_RAM
	check "allow_root_ram=0: RAM root does not have is taken" \
		"$HVCTL" zone add 2 --region "0x2000000000:$1:$2"
	"$HVCTL" zone del 2 >/dev/null 2>&1
else
	skip "allow_root_ram=0: RAM root does not have is taken" "no range kept from root"
fi

for mode in "allow_root_ram=0" "allow_root_ram=1" ""; do
	check "reload with ${mode:-the defaults}" reload $mode || bail "no module"
	out=$("$HVCTL" zone add 1 --region "0x$MMIO:0x$MMIO:0x1000" 2>&1)
	rc=$?
	[ $rc = 1 ] && echo "$out" | grep -q "claimed" &&
		ok "${mode:-defaults}: claimed registers at 0x$MMIO are refused, hvctl says why" ||
		nok "${mode:-defaults}: claimed registers at 0x$MMIO are refused, hvctl says why" "exit $rc: $out"
	[ "$(zones)" = 0 ] && ok "... and no zone was created" ||
		nok "... and no zone was created" "$("$HVCTL" zone list 2>&1)"
done
check "defaults (loopback): root's RAM is taken" "$HVCTL" zone add 1 --identity-ram
check "allow_root_ram=1 warns in the kernel log" sh -c \
	"dmesg | grep -q 'allow_root_ram=1: zones may be given root'"

tap_end

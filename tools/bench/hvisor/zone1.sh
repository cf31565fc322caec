#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of zone 1 in `make bench-hvisor` (tools/bench/hvisor-run): fio on
# the zone's one virtio disk, whichever backend in root serves it.
#
# The zone has no console of its own (it shares root's pl011 through
# earlycon): results go to the kernel log at level 2 as "@"-lines, which
# the host picks out of the serial log. Root cannot see that line, so
# the zone tells it when each fio job runs through sector 0 of the disk
# (root reads its image file): "HVB RUN <n>" before job n, "HVB END <n>"
# after it, "HVB NET 0" before the network jobs (NETJOBS, with a net
# device), "HVB DONE" at the end. fio uses the disk from 1 MiB on.
#
# Root writes the parameters there first: "HVB CFG <seconds per job>
# <backend> <round>"; the workloads are fio-jobs.sh's WL.

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
exec </dev/null >/tmp/init.log 2>&1

say() { printf '<2>%s\n' "$*" >/dev/kmsg; }
for m in $(cat /etc/hvv/modules); do
	insmod "$m" || say "@E zone insmod $m failed"
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
[ -b /dev/vda ] || { say "@E zone no /dev/vda"; say "HVB-ZONE-END"; while :; do sleep 3600; done; }
# Root's word for this boot: "HVB CFG <seconds per job> <backend> <round>".
set -- $(dd if=/dev/vda bs=512 count=1 iflag=direct 2>/dev/null | tr -d '\0' | head -n 1)
RT=${3:-3} TAG=${4:-?} ROUND=${5:-0}
echo none >/sys/block/vda/queue/scheduler 2>/dev/null
mark() { printf "HVB %s %s\n" "$1" "$2" | dd of=/dev/vda bs=512 count=1 conv=sync,notrunc,fsync 2>/dev/null || say "@E zone mark $1 $2 failed"; }
say "HVB-ZONE-UP $(uname -r) $(nproc) CPUs"

. /bench/fio-jobs.sh
# One fio process per job, announced to root through the disk.
mark GO 0
n=0
for w in $WL; do
	n=$((n + 1))
	fio_file /dev/vda "$RT" libaio 1 $n >/tmp/j$n.fio
	mark RUN $n
	/fio/run-fio --output-format=terse --terse-version=3 /tmp/j$n.fio >/tmp/fio.out 2>/tmp/fio.err
	rc=$?
	mark END $n
	fio_lines zone "$TAG" "$ROUND" </tmp/fio.out | while IFS= read -r l; do say "$l"; done
	[ $rc = 0 ] || say "@E zone fio j$n rc=$rc"
	grep -v '^3;' /tmp/fio.out | head -n 3 | while IFS= read -r l; do say "@E zone fio: $l"; done
	tail -n 3 /tmp/fio.err | while IFS= read -r l; do say "@E zone fio: $l"; done
done

# The network, when the zone has one (root's tap at $ROOT_IP): the jobs
# of NETJOBS in order, root running the same list. The receiver's side
# starts first and tells the sender through hvv-bench sync.
if [ -d /sys/class/net/eth0 ]; then
	ip addr add $ZONE_IP/24 dev eth0 && ip link set eth0 up
	i=0
	while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 30 ]; do
		sleep 1
		i=$((i + 1))
	done
	mark NET 0
	k=0
	for nj in $NETJOBS; do
		k=$((k + 1))
		t=${nj%%:*} d=${nj#*:}
		if [ "$d" = z2r ]; then
			$HVB sync-wait $((SYNC_PORT + k)) 180 >/tmp/net.out 2>&1 &&
				$HVB $(net_send "$t" "$ROOT_IP" "$RT") >>/tmp/net.out 2>&1 ||
				say "@E zone net $nj: $(tail -n 2 /tmp/net.out | tr '\n' ' ')"
		elif net_receive "$t" "$RT" "$ROOT_IP" $((SYNC_PORT + k)) /tmp/net.out; then
			net_line zone "$TAG" "$ROUND" "$k" "$t" "$d" </tmp/net.out |
				while IFS= read -r l; do say "$l"; done
		else
			say "@E zone net $nj: $(tail -n 2 /tmp/net.out | tr '\n' ' ')"
		fi
		say "@I zone $TAG net $nj eth0 $(net_counters eth0)"
	done
fi
mark DONE 0
say "HVB-ZONE-END"
while :; do sleep 3600; done

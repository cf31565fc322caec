# SPDX-License-Identifier: GPL-2.0
#
# tools/bench/hvisor/report.awk - the table and JSON of `make
# bench-hvisor` from the "@"-lines of its boots (tools/bench/hvisor-run).
# Variables: json (output file), rev, date, cmd, rounds, rt.
# Medians over the rounds; ratios are medians of per-round ratios;
# spr = (max - min) / median.

function kv(line, key,    re, m) {
	re = "(^| )" key "=[^ ]*"
	if (!match(line, re)) return ""
	m = substr(line, RSTART, RLENGTH); sub(/^ /, "", m)
	return substr(m, length(key) + 2)
}
function sortn(a, n,    i, j, t) {
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
}
# med(KEY): median of the values stored as V[KEY, 1..N[KEY]]
function med(key,    a, n, i) {
	n = N[key]; if (!n) return ""
	for (i = 1; i <= n; i++) a[i] = V[key, i]
	sortn(a, n)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function spr(key,    a, n, i, m) {
	n = N[key]; if (n < 2) return ""
	for (i = 1; i <= n; i++) a[i] = V[key, i]
	sortn(a, n); m = med(key)
	return m ? (a[n] - a[1]) / m : ""
}
function add(key, v) { N[key]++; V[key, N[key]] = v + 0; if (!(key in SEEN)) { SEEN[key] = 1; KEYS[++NK] = key } }
function f(v, d) { return v == "" ? "-" : sprintf("%." d "f", v) }
function pc(v) { return v == "" ? "-" : sprintf("%d%%", v * 100 + 0.5) }

/ @B / {
	b = kv($0, "backend"); w = kv($0, "wl"); r = kv($0, "round"); j = kv($0, "job")
	if (!(w in WSEEN)) { WSEEN[w] = 1; WL[++NW] = w; WJ[w] = j }
	if (!(b in BSEEN)) { BSEEN[b] = 1; BK[++NB] = b }
	IOPS[b, w, r] = kv($0, "iops"); LAT[b, w, r] = kv($0, "lat_us"); P99[b, w, r] = kv($0, "p99_us")
	RND[r] = 1
	add("iops|" b "|" w, kv($0, "iops")); add("kibs|" b "|" w, kv($0, "kibs"))
	add("lat|" b "|" w, kv($0, "lat_us")); add("p99|" b "|" w, kv($0, "p99_us"))
	ALL[++NA] = $0
}
/ @C path=zone / {
	b = kv($0, "backend"); r = kv($0, "round"); j = kv($0, "job")
	BUSY[b, j, r] = kv($0, "busy_cs"); WALL[b, j, r] = kv($0, "wall_cs")
	ALL[++NA] = $0
}
/ @R / {
	b = kv($0, "backend"); r = kv($0, "round"); j = kv($0, "job")
	split($0, halves, " post: ")
	pre = halves[1]; sub(/.* pre: /, "", pre); post = halves[2]
	for (c = 1; c <= 4; c++) {
		cn = c == 1 ? "wakeups" : c == 2 ? "hardirq" : c == 3 ? "thread" : "polled"
		BR[b, j, r, cn] = kv(post, cn) - kv(pre, cn)
	}
	ALL[++NA] = $0
}
# Network: "@N ... test=tcp dir=z2r gbps=" (or pps= for UDP), the
# receiver's figure; raw is root's loopback (dir=lo).
/ @N / {
	b = kv($0, "backend"); r = kv($0, "round"); t = kv($0, "test") "_" kv($0, "dir")
	v = kv($0, "gbps") != "" ? kv($0, "gbps") : kv($0, "pps")
	if (!(t in TSEEN)) { TSEEN[t] = 1; TL[++NT] = t }
	if (!(b in BSEEN)) { BSEEN[b] = 1; BK[++NB] = b }
	NETV[b, t, r] = v; RND[r] = 1
	add("net|" b "|" t, v)
	ALL[++NA] = $0
}
/ @C path=net / {
	b = kv($0, "backend"); r = kv($0, "round"); j = kv($0, "job")
	NBUSY[b, j, r] = kv($0, "busy_cs"); NWALL[b, j, r] = kv($0, "wall_cs")
	ALL[++NA] = $0
}
/ @E / { ERR[++NE] = $0; ALL[++NA] = $0 }
/ @H / { split($1, bb, "="); hb = bb[2]; sub(/-try[0-9]+$/, "", hb); sub(/^r[0-9]+-/, "", hb); HANG[hb]++; ALL[++NA] = $0 }
/^boot=/ { split($1, bb, "="); hb = bb[2]; sub(/-try[0-9]+$/, "", hb); sub(/^r[0-9]+-/, "", hb); if (!((hb, bb[2]) in BOOTS)) { BOOTS[hb, bb[2]] = 1; NBOOT[hb]++ } }

END {
	# Per-round derived figures: root CPU per request, bridge events per
	# request, ratios.
	for (wi = 1; wi <= NW; wi++) {
		w = WL[wi]; j = WJ[w]
		for (r in RND) {
			for (bi = 1; bi <= NB; bi++) {
				b = BK[bi]
				if (IOPS[b, w, r] > 0 && WALL[b, j, r] > 0) {
					cpus = BUSY[b, j, r] / WALL[b, j, r]
					add("cpus|" b "|" w, cpus)
					add("cpu_us|" b "|" w, cpus * 1e6 / IOPS[b, w, r])
					ios = IOPS[b, w, r] * WALL[b, j, r] / 100
					if ((b, j, r, "wakeups") in BR)
						for (c = 1; c <= 4; c++) {
							cn = c == 1 ? "wakeups" : c == 2 ? "hardirq" : c == 3 ? "thread" : "polled"
							add(cn "|" b "|" w, BR[b, j, r, cn] / ios)
						}
				}
				if (b != "daemon" && b != "raw" && IOPS["daemon", w, r] > 0 && IOPS[b, w, r] > 0) {
					add("r_iops_daemon|" b "|" w, IOPS[b, w, r] / IOPS["daemon", w, r])
					add("r_lat_daemon|" b "|" w, LAT[b, w, r] / LAT["daemon", w, r])
					add("r_p99_daemon|" b "|" w, P99[b, w, r] / P99["daemon", w, r])
				}
				if (b != "raw" && IOPS["raw", w, r] > 0 && IOPS[b, w, r] > 0)
					add("r_iops_raw|" b "|" w, IOPS[b, w, r] / IOPS["raw", w, r])
			}
		}
	}
	printf "\nReal hypervisor (hvisor.bin under QEMU TCG), %s rounds, %s s per fio job, %s, rev %s\n", rounds, rt, date, rev
	printf "command: %s\n\n", cmd
	printf "%-15s %-16s %9s %5s %9s %9s %7s %9s %9s %8s %9s %9s\n", "workload", "backend", "IOPS", "spr", "lat_us", "p99_us", "root_cpu", "cpu_us/io", "x_daemon", "x_raw", "lat_x_d", "p99_x_d"
	for (wi = 1; wi <= NW; wi++) {
		w = WL[wi]
		for (bi = 1; bi <= NB; bi++) {
			b = BK[bi]; k = b "|" w
			if (!N["iops|" k]) continue
			printf "%-15s %-16s %9s %5s %9s %9s %7s %9s %9s %8s %9s %9s\n", w, b, f(med("iops|" k), 0), pc(spr("iops|" k)),
				f(med("lat|" k), 0), f(med("p99|" k), 0), f(med("cpus|" k), 2), f(med("cpu_us|" k), 0),
				f(med("r_iops_daemon|" k), 2), f(med("r_iops_raw|" k), 2), f(med("r_lat_daemon|" k), 2), f(med("r_p99_daemon|" k), 2)
		}
	}
	# The network: per round root CPU and ratios, then the table.
	for (ti = 1; ti <= NT; ti++) {
		t = TL[ti]; lo = t; sub(/_.*/, "_lo", lo)
		for (r in RND) for (bi = 1; bi <= NB; bi++) {
			b = BK[bi]
			if (!((b, t, r) in NETV)) continue
			if (NWALL[b, t, r] > 0) add("ncpus|" b "|" t, NBUSY[b, t, r] / NWALL[b, t, r])
			if (b != "daemon" && NETV["daemon", t, r] > 0)
				add("r_net_daemon|" b "|" t, NETV[b, t, r] / NETV["daemon", t, r])
			if (NETV["raw", lo, r] > 0)
				add("r_net_raw|" b "|" t, NETV[b, t, r] / NETV["raw", lo, r])
		}
	}
	if (NT) {
		printf "\nnetwork (receiver's figure: TCP Gbit/s, 64-byte UDP datagrams/s; raw: root's loopback)\n"
		printf "%-12s %-16s %11s %5s %8s %9s %8s\n", "test", "backend", "Gbit/s|pps", "spr", "root_cpu", "x_daemon", "x_raw"
		for (ti = 1; ti <= NT; ti++) for (bi = 1; bi <= NB; bi++) {
			t = TL[ti]; b = BK[bi]; k = b "|" t
			if (!N["net|" k]) continue
			printf "%-12s %-16s %11s %5s %8s %9s %8s\n", t, b, f(med("net|" k), t ~ /^tcp/ ? 3 : 0), pc(spr("net|" k)),
				f(med("ncpus|" k), 2), f(med("r_net_daemon|" k), 2), f(med("r_net_raw|" k), 3)
		}
	}
	printf "\nbridge events per request (module boots; approx.: requests = IOPS x window)\n"
	printf "%-15s %-16s %8s %8s %8s %8s\n", "workload", "backend", "wakeups", "hardirq", "thread", "polled"
	for (wi = 1; wi <= NW; wi++) for (bi = 1; bi <= NB; bi++) {
		w = WL[wi]; b = BK[bi]; k = b "|" w
		if (!N["wakeups|" k]) continue
		printf "%-15s %-16s %8s %8s %8s %8s\n", w, b, f(med("wakeups|" k), 2), f(med("hardirq|" k), 2), f(med("thread|" k), 2), f(med("polled|" k), 2)
	}
	for (hb in NBOOT) printf "boots %s: %d, hung or failed: %d\n", hb, NBOOT[hb], HANG[hb] + 0
	for (i = 1; i <= NE; i++) print "error: " ERR[i]
	# JSON
	printf "{\n  \"date\": \"%s\", \"revision\": \"%s\", \"command\": \"%s\", \"rounds\": %s, \"fio_runtime_s\": %s,\n", date, rev, cmd, rounds, rt >json
	printf "  \"boots\": {" >json
	nb = 0
	for (hb in NBOOT) printf "%s\"%s\": {\"boots\": %d, \"hung_or_failed\": %d}", nb++ ? ", " : "", hb, NBOOT[hb], HANG[hb] + 0 >json
	printf "},\n  \"medians\": {" >json
	for (i = 1; i <= NK; i++) {
		split(KEYS[i], p, "|")
		printf "%s\n    \"%s\": {\"median\": %s, \"spread\": %s, \"n\": %d}", (i > 1 ? "," : ""), KEYS[i], med(KEYS[i]) + 0, (spr(KEYS[i]) == "" ? "null" : spr(KEYS[i])), N[KEYS[i]] >json
	}
	printf "\n  },\n  \"lines\": [" >json
	for (i = 1; i <= NA; i++) { l = ALL[i]; gsub(/\\/, "\\\\", l); gsub(/"/, "\\\"", l); printf "%s\n    \"%s\"", (i > 1 ? "," : ""), l >json }
	printf "\n  ]\n}\n" >json
}

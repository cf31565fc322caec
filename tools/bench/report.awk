# SPDX-License-Identifier: GPL-2.0
#
# tools/bench/report.awk - turn the guest's @-lines (tools/bench/guest.sh)
# into the table of `make bench` (stdout) and its JSON file.
#
#   awk -v json=FILE -v meta=META_FILE -f report.awk BOOT_OUTPUT...
#
# Each BOOT_OUTPUT starts with lines the host adds:
#   @H target=T vcpus=N      which guest produced what follows
#   @Q <command line>        the QEMU command line of that boot
# META_FILE holds "key=value" lines (date, git revision, host facts) for
# the JSON's top level.
#
# Figures: for every workload the median over the rounds, min, max, and
# the spread (max - min) / median; the zone/raw ratio is the median of
# the per-round ratios (each round measures both back to back).
# Portable awk (mawk).

function kv(s,    n, i, p, parts) {
	delete R
	n = split(s, parts, " ")
	for (i = 2; i <= n; i++) {
		p = index(parts[i], "=")
		if (p > 1)
			R[substr(parts[i], 1, p - 1)] = substr(parts[i], p + 1)
	}
}

# Values of key k (a SUBSEP-joined prefix) over the rounds -> V[1..n].
function collect(k,    r, n) {
	n = 0
	delete V
	for (r = 1; r <= maxround; r++)
		if ((k, r) in val)
			V[++n] = val[k, r] + 0
	return n
}

function sortv(n,    i, j, t) {
	for (i = 2; i <= n; i++) {
		t = V[i]
		for (j = i - 1; j >= 1 && V[j] > t; j--)
			V[j + 1] = V[j]
		V[j + 1] = t
	}
}

function median(n) {
	if (n == 0)
		return ""
	sortv(n)
	if (n % 2)
		return V[(n + 1) / 2]
	return (V[n / 2] + V[n / 2 + 1]) / 2
}

# stat(k): median, min, max, spread of key k into S_*; "" when absent.
function stat(k,    n, vals, i) {
	n = collect(k)
	vals = ""
	for (i = 1; i <= n; i++)
		vals = vals (i > 1 ? "," : "") num(V[i])
	S_vals = vals
	S_n = n
	S_med = median(n)
	S_min = n ? V[1] : ""
	S_max = n ? V[n] : ""
	S_spr = (n && S_med > 0) ? (S_max - S_min) / S_med : ""
	return n
}

# The median of the per-round ratios a/b.
function ratio(ka, kb,    r, n) {
	n = 0
	delete V
	for (r = 1; r <= maxround; r++)
		if (((ka, r) in val) && ((kb, r) in val) && val[kb, r] > 0)
			V[++n] = val[ka, r] / val[kb, r]
	return n ? median(n) : ""
}

function num(x) {
	if (x == "")
		return "null"
	if (x == int(x) && x < 1e15 && x > -1e15)
		return sprintf("%d", x)
	return sprintf("%.6g", x)
}

function jstr(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	gsub(/\t/, " ", s)
	return "\"" s "\""
}

# JSON object of the statistics of key k.
function jstat(k) {
	stat(k)
	return "{\"median\":" num(S_med) ",\"min\":" num(S_min) ",\"max\":" \
		num(S_max) ",\"spread\":" num(S_spr) ",\"rounds\":[" S_vals "]}"
}

function fmt(x, f) {
	return x == "" ? "-" : sprintf(f, x)
}

function pct(x) {
	return x == "" ? "-" : sprintf("%.0f%%", x * 100)
}

function wlname(w) {
	return (w in WLN) ? WLN[w] : w
}

function add_order(list, item) {
	if (!((list, item) in seen_order)) {
		seen_order[list, item] = 1
		order[list, ++norder[list]] = item
	}
}

BEGIN {
	WLN["rr4k_qd1"] = "4k randread QD1"
	WLN["rr4k_qd32"] = "4k randread QD32"
	WLN["rw4k_qd32"] = "4k randwrite QD32"
	WLN["sr128k_qd8"] = "128k read QD8"
	WLN["sw128k_qd8"] = "128k write QD8"
	WLN["rr512_qd1"] = "512 randread QD1"
	maxround = 0
	nerr = 0
}

/^@H / {
	kv($0)
	boot = R["target"] SUBSEP R["vcpus"]
	add_order("boots", boot)
	btarget[boot] = R["target"]
	bvcpus[boot] = R["vcpus"]
	next
}
/^@Q / {
	qemu[boot] = substr($0, 4)
	next
}
/^@I / {
	p = index($0, "=")
	k = substr($0, 4, p - 4)
	add_order("info" SUBSEP boot, k)
	info[boot, k] = substr($0, p + 1)
	next
}
/^@B / {
	kv($0)
	r = R["round"] + 0
	if (r > maxround)
		maxround = r
	g = boot SUBSEP R["backing"] SUBSEP R["wl"] SUBSEP R["jobs"]
	add_order("blk" SUBSEP boot, R["backing"] SUBSEP R["wl"] SUBSEP R["jobs"])
	wlrw[R["wl"]] = R["rw"] " bs=" R["bs"] " iodepth=" R["qd"]
	p = R["path"]
	haspath[g, p] = 1
	val[g, p, "iops", r] = R["iops"]
	val[g, p, "mibs", r] = R["kibs"] / 1024
	val[g, p, "lat_us", r] = R["lat_us"]
	val[g, p, "p99_us", r] = R["p99_us"]
	if ("notify_per_io" in R) {
		val[g, p, "notify_per_io", r] = R["notify_per_io"]
		val[g, p, "irq_per_io", r] = R["irq_per_io"]
	}
	next
}
/^@C / {
	kv($0)
	r = R["round"] + 0
	if (r > maxround)
		maxround = r
	g = boot SUBSEP R["cpu"]
	add_order("ctl" SUBSEP boot, R["cpu"])
	val[g, "rtt_med_us", r] = R["rtt_med_ns"] / 1000
	val[g, "rtt_p99_us", r] = R["rtt_p99_ns"] / 1000
	val[g, "rtt_mean_us", r] = R["rtt_mean_ns"] / 1000
	val[g, "floor_med_us", r] = R["floor_med_ns"] / 1000
	val[g, "floor_p99_us", r] = R["floor_p99_ns"] / 1000
	val[g, "bridge_med_us", r] = (R["rtt_med_ns"] - R["floor_med_ns"]) / 1000
	next
}
/^@N / {
	kv($0)
	r = R["round"] + 0
	if (r > maxround)
		maxround = r
	g = boot SUBSEP R["test"] SUBSEP R["dir"]
	add_order("net" SUBSEP boot, R["test"] SUBSEP R["dir"])
	p = R["path"]
	if (R["test"] == "tcp") {
		val[g, p, "gbps", r] = R["gbps"]
	} else {
		val[g, p, "pps", r] = R["pps"]
		val[g, p, "sent_pps", r] = R["s_pps"]
	}
	next
}
/^@E / {
	errs[++nerr] = substr($0, 4)
	next
}

END {
	for (b = 1; b <= norder["boots"]; b++) {
		boot = order["boots", b]
		report_boot(boot)
	}
	if (nerr) {
		printf "\nErrors (runs missing from the figures):\n"
		for (i = 1; i <= nerr; i++)
			printf "  %s\n", errs[i]
	}
	if (json != "")
		write_json()
}

function report_boot(boot,    i, g, k, sp, wl, j, n, line, hdr, c, t, dir, unit, m) {
	printf("\n== %s, %s vCPU%s, kernel %s, %s; %d round%s; median, spread = (max-min)/median\n",
		btarget[boot], bvcpus[boot], bvcpus[boot] == 1 ? "" : "s",
		info[boot, "kernel"], info[boot, "fio"], maxround, maxround == 1 ? "" : "s")
	if (norder["blk" SUBSEP boot]) {
		printf "\nBlock (fio libaio O_DIRECT; raw = the backing device in root; zone = the zone's virtio-blk disk on it)\n"
		printf "%-6s %-18s %2s | %8s %5s %8s %8s %8s | %8s %5s %8s %8s %8s | %6s %6s\n",
			"", "", "", "raw", "", "", "", "", "zone", "", "", "", "", "zone/", "raw"
		printf "%-6s %-18s %2s | %8s %5s %8s %8s %8s | %8s %5s %8s %8s %8s | %6s %6s\n",
			"dev", "workload", "j", "IOPS", "spr", "MiB/s", "lat us", "p99 us",
			"IOPS", "spr", "MiB/s", "lat us", "p99 us", "IOPS", "lat"
		for (i = 1; i <= norder["blk" SUBSEP boot]; i++) {
			k = order["blk" SUBSEP boot, i]
			g = boot SUBSEP k
			split(k, sp, SUBSEP)
			line = sprintf("%-6s %-18s %2s", sp[1], wlname(sp[2]), sp[3])
			line = line blkcols(g, "raw")
			if ((g, "zone") in haspath)
				line = line blkcols(g, "zone") sprintf(" | %6s %6s",
					fmt(ratio(g SUBSEP "zone" SUBSEP "iops", g SUBSEP "raw" SUBSEP "iops"), "%.2f"),
					fmt(ratio(g SUBSEP "zone" SUBSEP "lat_us", g SUBSEP "raw" SUBSEP "lat_us"), "%.2f"))
			print line
			for (pi = 1; pi <= 2; pi++) {
				p = pi == 1 ? "bounce" : "hop"
				if (!((g, p) in haspath))
					continue
				label = "  (worker finishes: blk_complete_in_worker=1)"
				if (p == "bounce")
					label = "  (zone data bounced: blk_force_bounce=1)"
				line = sprintf("%-6s %-18s %2s", sp[1], wlname(sp[2]), sp[3])
				line = line sprintf(" | %-44s", label)
				line = line blkcols(g, p) sprintf(" | %6s %6s",
					fmt(ratio(g SUBSEP p SUBSEP "iops", g SUBSEP "raw" SUBSEP "iops"), "%.2f"),
					fmt(ratio(g SUBSEP p SUBSEP "lat_us", g SUBSEP "raw" SUBSEP "lat_us"), "%.2f"))
				print line
			}
		}
	}
	if (norder["ctl" SUBSEP boot]) {
		printf "\nControl path: blocking register read through the bridge (loopback raw file, %s reads a round)\n",
			info[boot, "rtt_n"]
		printf "  %-34s %9s %9s %9s %9s %9s\n", "", "med us", "spr", "p99 us", "floor us", "bridge us"
		for (i = 1; i <= norder["ctl" SUBSEP boot]; i++) {
			c = order["ctl" SUBSEP boot, i]
			g = boot SUBSEP c
			stat(g SUBSEP "rtt_med_us"); m = S_med; t = S_spr
			stat(g SUBSEP "rtt_p99_us"); p = S_med
			stat(g SUBSEP "floor_med_us"); f = S_med
			stat(g SUBSEP "bridge_med_us")
			printf "  %-34s %9s %9s %9s %9s %9s\n", "reader on CPU " c,
				fmt(m, "%.1f"), pct(t), fmt(p, "%.1f"), fmt(f, "%.1f"), fmt(S_med, "%.1f")
		}
		printf "  (floor: the same write(2), refused before any bridge work; bridge = med - floor)\n"
	}
	if (norder["net" SUBSEP boot]) {
		printf "\nNetwork (tap = the zone's virtio-net through the tap; veth = a veth pair between the same namespaces)\n"
		printf "  %-26s %10s %5s %10s %5s %8s\n", "", "veth", "spr", "tap", "spr", "tap/veth"
		for (i = 1; i <= norder["net" SUBSEP boot]; i++) {
			k = order["net" SUBSEP boot, i]
			g = boot SUBSEP k
			split(k, sp, SUBSEP)
			dir = sp[2] == "z2r" ? "zone->root" : "root->zone"
			unit = sp[1] == "tcp" ? "gbps" : "pps"
			stat(g SUBSEP "veth" SUBSEP unit); a = S_med; as = S_spr
			stat(g SUBSEP "tap" SUBSEP unit); bb = S_med; bs = S_spr
			printf "  %-26s %10s %5s %10s %5s %8s\n",
				(sp[1] == "tcp" ? "TCP stream " : "UDP 64 B ") dir (unit == "gbps" ? ", Gbit/s" : ", pkt/s"),
				fmt(a, unit == "gbps" ? "%.3f" : "%.0f"), pct(as),
				fmt(bb, unit == "gbps" ? "%.3f" : "%.0f"), pct(bs),
				fmt(ratio(g SUBSEP "tap" SUBSEP unit, g SUBSEP "veth" SUBSEP unit), "%.2f")
		}
		printf "  (UDP: datagrams received per second, the sender sending as fast as it can)\n"
	}
}

function blkcols(g, p) {
	stat(g SUBSEP p SUBSEP "iops"); iops = S_med; spr = S_spr
	stat(g SUBSEP p SUBSEP "mibs"); mibs = S_med
	stat(g SUBSEP p SUBSEP "lat_us"); lat = S_med
	stat(g SUBSEP p SUBSEP "p99_us"); p99 = S_med
	return sprintf(" | %8s %5s %8s %8s %8s", fmt(iops, "%.0f"), pct(spr),
		fmt(mibs, "%.1f"), fmt(lat, "%.0f"), fmt(p99, "%.0f"))
}

function jblkpath(g, p,    s, m, ms, i) {
	split("iops mibs lat_us p99_us notify_per_io irq_per_io", ms, " ")
	s = ""
	for (i = 1; i <= 6; i++) {
		m = ms[i]
		if (i > 4 && !collect(g SUBSEP p SUBSEP m))
			continue
		s = s (s == "" ? "" : ",") jstr(m) ":" jstat(g SUBSEP p SUBSEP m)
	}
	return "{" s "}"
}

function write_json(    b, boot, i, k, g, sp, first, p, s, c, metric, n, line) {
	printf("{\n") > json
	while ((getline line < meta) > 0) {
		p = index(line, "=")
		if (p > 1)
			printf("  %s: %s,\n", jstr(substr(line, 1, p - 1)), jstr(substr(line, p + 1))) > json
	}
	close(meta)
	printf("  \"units\": {\"iops\": \"I/O per second\", \"mibs\": \"MiB/s\", \"lat_us\": \"mean total latency (submission to completion), us\", \"p99_us\": \"99th percentile of the total latency, us\", \"gbps\": \"Gbit/s received\", \"pps\": \"datagrams received per second\", \"sent_pps\": \"datagrams sent per second\"},\n") > json
	printf("  \"boots\": [\n") > json
	for (b = 1; b <= norder["boots"]; b++) {
		boot = order["boots", b]
		printf("    {\n      \"target\": %s,\n      \"vcpus\": %s,\n      \"qemu_cmdline\": %s,\n",
			jstr(btarget[boot]), bvcpus[boot], jstr(qemu[boot])) > json
		printf("      \"guest\": {") > json
		for (i = 1; i <= norder["info" SUBSEP boot]; i++) {
			k = order["info" SUBSEP boot, i]
			printf("%s%s: %s", i > 1 ? ", " : "", jstr(k), jstr(info[boot, k])) > json
		}
		printf("},\n      \"block\": [") > json
		for (i = 1; i <= norder["blk" SUBSEP boot]; i++) {
			k = order["blk" SUBSEP boot, i]
			g = boot SUBSEP k
			split(k, sp, SUBSEP)
			printf("%s\n        {\"backing\": %s, \"workload\": %s, \"fio\": %s, \"jobs\": %s",
				i > 1 ? "," : "", jstr(sp[1]), jstr(sp[2]), jstr(wlrw[sp[2]]), sp[3]) > json
			for (pi = 1; pi <= 4; pi++) {
				p = pi == 1 ? "raw" : pi == 2 ? "zone" : pi == 3 ? "bounce" : "hop"
				if (!((g, p) in haspath))
					continue
				printf(",\n         %s: %s", jstr(p), jblkpath(g, p)) > json
				if (p != "raw")
					printf(",\n         %s: {\"iops\": %s, \"lat_us\": %s, \"p99_us\": %s}",
						jstr(p "_over_raw"),
						num(ratio(g SUBSEP p SUBSEP "iops", g SUBSEP "raw" SUBSEP "iops")),
						num(ratio(g SUBSEP p SUBSEP "lat_us", g SUBSEP "raw" SUBSEP "lat_us")),
						num(ratio(g SUBSEP p SUBSEP "p99_us", g SUBSEP "raw" SUBSEP "p99_us"))) > json
			}
			printf("}") > json
		}
		printf("\n      ],\n      \"control\": [") > json
		for (i = 1; i <= norder["ctl" SUBSEP boot]; i++) {
			c = order["ctl" SUBSEP boot, i]
			g = boot SUBSEP c
			printf("%s\n        {\"reader_cpu\": %s", i > 1 ? "," : "", c) > json
			split("rtt_med_us rtt_p99_us rtt_mean_us floor_med_us floor_p99_us bridge_med_us", ms, " ")
			for (mi = 1; mi <= 6; mi++)
				printf(", %s: %s", jstr(ms[mi]), jstat(g SUBSEP ms[mi])) > json
			printf("}") > json
		}
		printf("\n      ],\n      \"network\": [") > json
		for (i = 1; i <= norder["net" SUBSEP boot]; i++) {
			k = order["net" SUBSEP boot, i]
			g = boot SUBSEP k
			split(k, sp, SUBSEP)
			printf("%s\n        {\"test\": %s, \"direction\": %s", i > 1 ? "," : "",
				jstr(sp[1]), jstr(sp[2] == "z2r" ? "zone->root" : "root->zone")) > json
			metric = sp[1] == "tcp" ? "gbps" : "pps"
			for (pi = 1; pi <= 2; pi++) {
				p = pi == 1 ? "veth" : "tap"
				printf(", %s: {%s: %s", jstr(p), jstr(metric), jstat(g SUBSEP p SUBSEP metric)) > json
				if (metric == "pps")
					printf(", \"sent_pps\": %s", jstat(g SUBSEP p SUBSEP "sent_pps")) > json
				printf("}") > json
			}
			printf(", \"tap_over_veth\": %s}",
				num(ratio(g SUBSEP "tap" SUBSEP metric, g SUBSEP "veth" SUBSEP metric))) > json
		}
		printf("\n      ]\n    }%s\n", b < norder["boots"] ? "," : "") > json
	}
	printf("  ],\n  \"errors\": [") > json
	for (i = 1; i <= nerr; i++)
		printf("%s%s", i > 1 ? ", " : "", jstr(errs[i])) > json
	printf("]\n}\n") > json
	close(json)
}

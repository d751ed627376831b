#!/usr/bin/env bash
# Generates the simulate golden-test traces, deterministically (awk with a
# Park-Miller generator: integer-exact in doubles). Usage: gen_traces.sh DIR
set -euo pipefail
out=${1:?usage: gen_traces.sh DIR}
mkdir -p "$out"

gen() { # gen NAME HEADER AWK-BODY
	local name=$1 header=$2 body=$3
	{
		printf '%s\n' "$header"
		echo "time,service,cpu_used,mem_used,oom_kills,throttled_ratio"
		awk "
		function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
		function noise(a) { return (rnd() * 2 - 1) * a }
		function row(t, svc, cpu, mib, oom, thr) {
			if (cpu < 0) cpu = 0
			if (mib < 1) mib = 1
			printf \"%d,%s,%.3f,%dM,%d,%.3f\\n\", t, svc, cpu, mib, oom, thr
		}
		BEGIN { seed = 42; $body }"
	} >"$out/$name.csv"
}

# Steady load at about half the limits: nothing should change.
gen steady "# steady: web at ~50% CPU and memory for 6 hours
# start: 2024-03-09T00:00:00Z
# limits:
#   web: cpu=1.0 memory=512M" '
	for (t = 0; t < 6 * 3600; t += 60)
		row(t, "web", 0.5 + noise(0.08), 256 + noise(20), 0, 0.01)'

# CPU demand ramps from 0.3 to 2.6 cores over 8 hours: stepwise increases.
gen ramp "# ramp: api CPU demand climbs steadily for 8 hours
# start: 2024-03-09T00:00:00Z
# limits:
#   api: cpu=1.0 memory=512M" '
	for (t = 0; t < 8 * 3600; t += 60)
		row(t, "api", 0.3 + 2.3 * t / (8 * 3600) + noise(0.03), 220 + noise(10), 0, 0.02)'

# Short CPU spikes (one or two checks) on a quiet service: no change.
gen spike "# spike: web spikes to 95-99% for one or two checks every hour
# start: 2024-03-09T00:00:00Z
# limits:
#   web: cpu=1.0 memory=512M" '
	for (t = 0; t < 6 * 3600; t += 60) {
		m = (t % 3600) / 60
		cpu = (m == 30 || (m == 31 && t >= 3 * 3600)) ? 0.97 + noise(0.02) : 0.45 + noise(0.05)
		row(t, "web", cpu, 240 + noise(15), 0, 0.01)
	}'

# A memory leak over 30 hours (crossing local midnight): memory follows it
# up, capped per day; the idle CPU comes down.
gen leak "# leak: worker leaks memory from 200 MiB to 2.2 GiB over 30 hours
# start: 2024-03-09T06:00:00Z
# limits:
#   worker: cpu=2.0 memory=512M" '
	for (t = 0; t < 30 * 3600; t += 60)
		row(t, "worker", 0.25 + noise(0.05), 200 + 2000 * t / (30 * 3600) + noise(8), 0, 0.0)'

# Memory creeps to the limit and the container is OOM-killed twice, restarts
# low each time; CPU is throttled while the average looks fine.
gen oom "# oom: cache is OOM-killed, restarts, and is CPU-throttled
# start: 2024-03-09T00:00:00Z
# limits:
#   cache: cpu=0.5 memory=256M" '
	base = 0
	for (t = 0; t < 4 * 3600; t += 60) {
		if (t == 3600 || t == 7200) { base = t; oom = 1 } else oom = 0
		mib = 100 + (t - base) / 3600 * 200 + noise(4)
		if (mib > 250) mib = 250
		thr = (t >= 9000 && t < 10800) ? 0.35 + noise(0.05) : 0.02
		row(t, "cache", 0.2 + noise(0.03), mib, oom, thr)
	}'

# Over-provisioned services on a host that is short of memory: the critical
# one is never decreased, the optional one gives back first.
gen idle "# idle: db (critical), web and batch (optional) use little of their limits
# start: 2024-03-09T00:00:00Z
# host: cpu=8 memory=4G
# limits:
#   db: cpu=2.0 memory=2G
#   web: cpu=2.0 memory=1G
#   batch: cpu=1.0 memory=2G" '
	for (t = 0; t < 4 * 3600; t += 60) {
		row(t, "db", 0.1 + noise(0.02), 300 + noise(10), 0, 0.0)
		row(t, "web", 0.15 + noise(0.03), 150 + noise(10), 0, 0.0)
		row(t, "batch", 0.05 + noise(0.01), 120 + noise(10), 0, 0.0)
	}'

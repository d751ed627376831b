#!/usr/bin/env bash
# tracegen: the recommender benchmark's trace generator (bench/tracegen.c) is
# deterministic for a seed, writes simulate's format with ten services of one
# row per 30 s each, simulate reads it, every family shows its signature on
# two seeds, a family alone gives the same rows as in the full trace, and bad
# arguments exit 2 with a message. Skipped (77) when the benchmarks are not
# built (RM_BENCH=OFF). RM_TRACEGEN_SEEDS="1 2 3 ..." checks the signatures on
# more seeds (default 1 2).
set -uo pipefail
: "${RM_BINARY:?}" "${RM_TEST_OUTPUT:?}"
tracegen=${RM_TRACEGEN:-$(dirname "$RM_BINARY")/bench/tracegen}
[ -x "$tracegen" ] || {
	echo "skip: $tracegen not built (RM_BENCH=OFF)"
	exit 77
}
out=$RM_TEST_OUTPUT/tracegen
rm -rf "$out"
mkdir -p "$out"
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# Same seed, same bytes; another seed, other bytes.
"$tracegen" --seed 7 --days 2 --out "$out/a.csv" || fail "tracegen --seed 7 exited $?"
"$tracegen" --seed 7 --days 2 >"$out/b.csv" || fail "tracegen --seed 7 (stdout) exited $?"
"$tracegen" --seed 8 --days 2 --out "$out/c.csv" || fail "tracegen --seed 8 exited $?"
cmp -s "$out/a.csv" "$out/b.csv" || fail "seed 7 twice: outputs differ"
cmp -s "$out/a.csv" "$out/c.csv" && fail "seeds 7 and 8: identical outputs"
# Parameters too differ between seeds, not only the noise: the limits header.
[ "$(grep '^#   ' "$out/a.csv")" != "$(grep '^#   ' "$out/c.csv")" ] ||
	fail "seeds 7 and 8: same limits"

# simulate reads the trace (the first four columns where its parser predates
# cpu_demand).
sim() {
	env -i PATH="$PATH" TZ=UTC "$RM_BINARY" simulate \
		--config "${RM_SOURCE_DIR:-$(dirname "$0")/../..}/config/config.yml" --trace "$1"
}
if ! sim "$out/a.csv" >"$out/sim.out" 2>"$out/sim.err"; then
	if grep -q "expected 4 to 6 fields" "$out/sim.err"; then
		cut -d, -f1-4 "$out/a.csv" >"$out/a4.csv"
		sim "$out/a4.csv" >"$out/sim.out" 2>"$out/sim.err" ||
			fail "simulate on the 4-column trace: $(cat "$out/sim.err")"
	else
		fail "simulate on the trace: $(cat "$out/sim.err")"
	fi
fi
grep -q '^throttled ' "$out/sim.out" || fail "simulate: no summary line for throttled"

# A family alone has the rows it has in the full trace (its own stream).
"$tracegen" --seed 7 --days 2 --family cron --family oomer >"$out/two.csv"
diff <(grep -E '^[0-9]+,(cron|oomer),' "$out/a.csv") <(grep -E '^[0-9]+,' "$out/two.csv") \
	>/dev/null || fail "--family cron --family oomer: rows differ from the full trace"
grep -q '^# tracegen seed=7 days=2 step=30 families=cron,oomer$' "$out/two.csv" ||
	fail "--family: header line: $(head -1 "$out/two.csv")"

# The format and the families' signatures, on two seeds of 14 days (one in
# the sanitizer trees, where generating 400,000 rows is slow).
default_seeds="1 2"
[ "${RM_TEST_SANITIZED:-0}" = 1 ] && default_seeds=1
for seed in ${RM_TRACEGEN_SEEDS:-$default_seeds}; do
	f=$out/seed$seed.csv
	"$tracegen" --seed "$seed" --out "$f" || fail "tracegen --seed $seed exited $?"
	awk -F, -v seed="$seed" -f /dev/stdin "$f" <<'EOF' || fail "seed $seed: signatures (above)"
function bad(msg) { printf "FAIL seed %s: %s\n", seed, msg; nbad++ }
function mib(s) { sub(/M$/, "", s); return s * 1048576 }
/^#   [a-z]+: cpu=/ {
	split($0, p, /[ :=]+/)
	cpu_lim[p[2]] = p[4]; mem_lim[p[2]] = mib(p[6]); nlim++
	next
}
/^#/ { next }
$1 == "time" {
	if ($0 != "time,service,cpu_used,mem_used,oom_kills,throttled_ratio,cpu_demand")
		bad("column header: " $0)
	next
}
{
	t = $1; s = $2; c = $3 + 0; m = $4 + 0
	if (NF != 7 || $5 != "" || $6 != "" || $3 != $7 || c < 0.001 || $4 !~ /^[0-9]+$/)
		bad("line " NR ": " $0)
	if (!times || t != last_t) { slot = 0; last_t = t; times++ }
	if (times == 1) order[slot] = s
	else if (order[slot] != s) bad("line " NR ": service " s " out of order")
	slot++
	n[s]++
	day = int(t / 86400); sec = t % 3600; hour = int((t % 86400) / 3600)
	cpu_day[s, day] += c; mem_day[s, day] += m; cnt_day[s, day]++
	if (m > mem_lim[s]) { over_mem[s]++; if (prev_over[s] != 1) runs_over[s]++ }
	prev_over[s] = (m > mem_lim[s])
	if (s != "oomer" || m <= mem_lim[s]) if (m > usual[s]) usual[s] = m
	if (m > max_mem[s]) max_mem[s] = m
	if (c > cpu_lim[s]) over_cpu[s]++
	if (s == "cron") {
		if (sec < 120 && c < 0.8) cron_low++
		if (sec >= 60 && sec < 120 && m < 200 * 1048576) cron_mem_low++
		if (sec >= 600 && c > 0.1) cron_high++
		if (sec >= 600 && m > 100 * 1048576) cron_mem_high++
	}
	if (s == "leak" && prev_mem[s] - m > 150 * 1048576) leak_restarts++
	if (s == "jvm") jvm_hmax[int(t / 3600)] = m > jvm_hmax[int(t / 3600)] ? m : jvm_hmax[int(t / 3600)]
	if (s == "web") {
		if (day % 7 >= 5) { we += c; nwe++ } else { wd += c; nwd++ }
		if (hour >= 13 && hour < 17) { aft += c; naft++ }
		if (hour >= 2 && hour < 5) { ngt += c; nngt++ }
	}
	if (s == "throttled" && c > 0.5) thr_over++
	prev_mem[s] = m
}
function dmean(s, d) { return cpu_day[s, d] / cnt_day[s, d] }
function mmean(s, d) { return mem_day[s, d] / cnt_day[s, d] }
END {
	if (nlim != 10) bad(nlim " limits lines, expected 10")
	for (s in n) { ns++; if (n[s] != 14 * 2880) bad(s ": " n[s] " rows, expected 40320") }
	if (ns != 10) bad(ns " services, expected 10")
	# cron: every hour a burst of at least 2 min above 0.8 core (and 200 MiB after its
	# first minute), idle after 10 min.
	if (cron_low || cron_mem_low) bad("cron: " cron_low "+" cron_mem_low " samples of the first 2 min of an hour not in a burst")
	if (cron_high > 0.01 * 336 * 100 || cron_mem_high) bad("cron: " cron_high " / " cron_mem_high " busy samples after minute 10")
	# step: Wed and Thu of week 2 (after the step, days 4-9) twice week 1's.
	for (d = 2; d <= 3; d++) {
		r = dmean("step", d + 7) / dmean("step", d); rm = mmean("step", d + 7) / mmean("step", d)
		if (r < 1.7 || r > 2.3) bad("step: day " d + 7 "/" d " CPU ratio " r ", expected about 2")
		if (rm < 1.25 || rm > 1.55) bad("step: day " d + 7 "/" d " memory ratio " rm ", expected 1.3-1.5")
	}
	# oomer: one excursion above its limit of 2-10 min, 1.3-1.8x its usual maximum.
	if (runs_over["oomer"] != 1 || over_mem["oomer"] < 4 || over_mem["oomer"] > 20)
		bad("oomer: " runs_over["oomer"] " excursions, " over_mem["oomer"] " samples above the limit")
	r = max_mem["oomer"] / usual["oomer"]
	if (r < 1.29 || r > 1.86) bad("oomer: excursion " r "x the usual maximum")
	for (s in n) if (s != "oomer" && over_mem[s]) bad(s ": " over_mem[s] " samples above its memory limit")
	for (s in n) if (s != "throttled" && over_cpu[s]) bad(s ": " over_cpu[s] " samples above its CPU limit")
	# leak: a restart every 1-3 days, memory grows in between.
	if (leak_restarts < 4 || leak_restarts > 14) bad("leak: " leak_restarts " restarts in 14 days")
	if (max_mem["leak"] < 500 * 1048576) bad("leak: never above 500 MiB")
	# jvm: the weekly restart drops the hourly maximum, which climbs back.
	for (h = 1; h < 336; h++) if (jvm_hmax[h] < 0.7 * max_mem["jvm"] && jvm_hmax[h - 1] >= 0.85 * max_mem["jvm"]) jvm_resets++
	if (jvm_resets < 1 || jvm_resets > 2) bad("jvm: " jvm_resets " heap resets in 14 days")
	if (jvm_hmax[335] < 0.85 * max_mem["jvm"] && jvm_hmax[300] < 0.85 * max_mem["jvm"]) bad("jvm: no plateau at the end")
	# web: lighter weekends, afternoon well above the night.
	r = (we / nwe) / (wd / nwd)
	if (r < 0.4 || r > 0.85) bad("web: weekend/weekday CPU " r)
	if (aft / naft < 2 * ngt / nngt) bad("web: afternoon CPU " aft / naft " not twice the night's " ngt / nngt)
	# db: the cache grows 20-40 % over 14 days.
	r = mmean("db", 12) / mmean("db", 0)
	if (r < 1.12 || r > 1.45) bad("db: memory day 12/day 0 " r)
	# sidecar: idle, 1 core and 512M.
	if (cpu_lim["sidecar"] != "1.00" || mem_lim["sidecar"] != 512 * 1048576 || max_mem["sidecar"] > 40 * 1048576)
		bad("sidecar: limits " cpu_lim["sidecar"] " " mem_lim["sidecar"] ", max memory " max_mem["sidecar"])
	# throttled: limit 0.5, demand above it most of the time.
	if (cpu_lim["throttled"] != "0.50" || thr_over < 0.8 * n["throttled"])
		bad("throttled: limit " cpu_lim["throttled"] ", " thr_over " of " n["throttled"] " samples above 0.5")
	exit nbad > 0
}
EOF
	# api: a heavy tail of spikes over a low base.
	grep ',api,' "$f" | cut -d, -f3 | sort -n | awk -v seed="$seed" '{ v[NR] = $1 }
		END {
			p50 = v[int(NR * 0.5)]; p99 = v[int(NR * 0.99)]; mx = v[NR]
			if (p99 < 8 * p50 || mx < 1.2) {
				printf "FAIL seed %s: api p50 %s p99 %s max %s: no heavy tail\n", seed, p50, p99, mx
				exit 1
			}
		}' || fail "seed $seed: api"
done

# --describe: one line per service.
desc=$("$tracegen" --seed 1 --days 3 --describe)
[ "$(printf '%s\n' "$desc" | grep -cE '^[a-z]+ +[0-9.]+ ')" = 10 ] ||
	fail "--describe: expected 10 service lines, got: $desc"

# Bad arguments: exit 2, a message naming the option, nothing written.
bad() { # EXPECTED-MESSAGE ARGS...
	local want=$1 rc
	shift
	"$tracegen" --out "$out/bad.csv" "$@" >"$out/bad.out" 2>"$out/bad.err"
	rc=$?
	[ "$rc" = 2 ] || fail "tracegen $*: exit $rc, expected 2"
	grep -q -- "$want" "$out/bad.err" || fail "tracegen $*: no '$want' in: $(cat "$out/bad.err")"
	[ ! -e "$out/bad.csv" ] || fail "tracegen $*: wrote a file"
}
bad "seed N is required" --days 3
bad "\-\-seed 'abc'" --seed abc
bad "\-\-seed '-1'" --seed -1
bad "\-\-days '0'" --seed 1 --days 0
bad "\-\-days '400'" --seed 1 --days 400
bad "\-\-step 'x'" --seed 1 --step x
bad "\-\-family 'nope': unknown family" --seed 1 --family nope
bad "unknown option '--frobnicate'" --seed 1 --frobnicate
bad "missing value for '--seed'" --seed
bad "unexpected argument 'extra'" --seed 1 extra
bad "more than 4000000 samples" --seed 1 --days 366 --step 1

[ "$failures" -eq 0 ] || {
	echo "$failures failure(s)"
	exit 1
}
echo "ok"

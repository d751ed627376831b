#!/usr/bin/env bash
# simulate_golden: replays the generated traces in tests/data/simulate through
# `resource-manager simulate` and compares the output with the .golden files,
# byte for byte; then checks that bad input fails cleanly with file:line.
#
# Regenerate the traces and the goldens after an intended change with:
#   RM_UPDATE_GOLDEN=1 ctest -R simulate_golden    (then review `git diff`)
set -uo pipefail
: "${RM_BINARY:?}" "${RM_SOURCE_DIR:?}" "${RM_TEST_OUTPUT:?}"
data=$RM_SOURCE_DIR/tests/data/simulate
out=$RM_TEST_OUTPUT/simulate
rm -rf "$out"
mkdir -p "$out/traces"
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# A clean environment: no config overrides from the caller, a fixed zone.
sim() {
	env -i PATH="$PATH" TZ=UTC "$RM_BINARY" simulate --config "$data/config.yml" "$@"
}

# The committed traces must be what the generator makes.
bash "$data/gen_traces.sh" "$out/traces"
for f in "$out"/traces/*.csv; do
	name=$(basename "$f")
	if [ "${RM_UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$f" "$data/$name"
	elif ! diff -u "$data/$name" "$f" >"$out/$name.diff"; then
		fail "$name differs from gen_traces.sh output (RM_UPDATE_GOLDEN=1 regenerates):"
		head -20 "$out/$name.diff"
	fi
done

# golden NAME ARGS...: output of simulate ARGS compared with $data/NAME.golden.
golden() {
	local name=$1
	shift
	local got=$out/$name.out
	if ! sim "$@" >"$got" 2>"$out/$name.err"; then
		fail "$name: simulate exited $?:"
		cat "$out/$name.err"
		return
	fi
	if [ "${RM_UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$got" "$data/$name.golden"
		echo "updated $name.golden"
	elif ! diff -u "$data/$name.golden" "$got"; then
		fail "$name: output differs from $name.golden (diff above)"
	else
		echo "ok $name"
	fi
}

for t in steady ramp spike leak oom idle; do
	golden "$t" --trace "$data/$t.csv"
done
golden oom.json --trace "$data/oom.csv" --format json
golden idle.json --trace "$data/idle.csv" --format json
golden spike.all --trace "$data/spike.csv" --all

# The percentile policy on the same traces, and a closed-loop trace from
# bench/tracegen replayed at the daemon's cadence, both policies and the
# oracle side by side.
for t in steady ramp spike leak oom idle; do
	golden "$t.pct" --config "$data/config-percentile.yml" --trace "$data/$t.csv"
done
golden closed --config "$data/config-closed.yml" --trace "$data/closed.csv"
golden closed.compare --config "$data/config-closed.yml" --trace "$data/closed.csv" \
	--compare --oracle
golden closed.compare.json --config "$data/config-closed.yml" --trace "$data/closed.csv" \
	--compare --oracle --format json

# What the traces are for, stated independently of the goldens.
grep -q '^ *(none)$' "$out/steady.out" || fail "steady load made a change"
grep -q '^ *(none)$' "$out/spike.out" || fail "a short spike made a change"
grep -q ' hysteresis ' "$out/spike.all.out" || fail "spike: no hysteresis seen"
grep -q ' cpu_high ' "$out/ramp.out" || fail "ramp: no CPU increase"
grep -q ' mem_high ' "$out/leak.out" || fail "leak: memory never followed"
grep -q ' oom ' "$out/oom.out" || fail "oom: no OOM bump"
grep -q ' throttled ' "$out/oom.out" || fail "oom: throttling ignored"
grep -q ' optional_scale_down ' "$out/idle.out" || fail "idle: optional not shrunk"
grep -Eq '^db +240 +0 ' "$out/idle.out" || fail "idle: critical db was changed"
grep -q '^decisions (changes only, policy percentile)' "$out/steady.pct.out" ||
	fail "steady.pct: not the percentile policy"
grep -q ' oom  .*OOM kill' "$out/oom.pct.out" || fail "oom.pct: the OOM kill went unanswered"
grep -Eq '^db +[0-9]+ +0 ' "$out/idle.pct.out" || fail "idle.pct: critical db was changed"
grep -q 'rows every 2m are aggregated' "$out/closed.out" || fail "closed: rows not aggregated"
grep -q 'closed loop on cpu_demand' "$out/closed.out" || fail "closed: not closed-loop"
grep -Eq '^threshold ' "$out/closed.compare.out" || fail "closed.compare: no threshold line"
grep -Eq '^oracle ' "$out/closed.compare.out" || fail "closed.compare: no oracle line"

# expect_error NAME CODE PATTERN [ARGS...]: simulate fails with CODE and a
# message matching PATTERN on stderr, and nothing crashes.
expect_error() {
	local name=$1 code=$2 pattern=$3
	shift 3
	sim "$@" >"$out/$name.out" 2>"$out/$name.err"
	local rc=$?
	if [ "$rc" != "$code" ]; then
		fail "$name: exit $rc, expected $code"
		cat "$out/$name.err"
	elif ! grep -Eq -- "$pattern" "$out/$name.err"; then
		fail "$name: stderr lacks /$pattern/:"
		cat "$out/$name.err"
	else
		echo "ok $name: $(head -1 "$out/$name.err")"
	fi
}

bad() { # bad NAME BODY: writes a trace with the usual header
	printf '# limits:\n#   web: cpu=1 memory=512M\ntime,service,cpu_used,mem_used\n%s\n' "$2" \
		>"$out/$1.csv"
}
bad short_line "0,web,0.5"
bad unknown_service "0,web,0.5,100M
60,ghost,0.5,100M"
bad negative "0,web,-0.5,100M"
bad nan "0,web,0.5,100M
60,web,NaN,100M"
bad backwards "60,web,0.5,100M
0,web,0.5,100M"
bad bad_mem "0,web,0.5,lots"
printf '# limits:\n#   web: cpu=fast\n0,web,1,1M\n' >"$out/bad_limits.csv"
printf '0,newsvc,1,1M\n' >"$out/unknown_no_limits.csv"
printf '# limits:\n#   api: memory=1G\n0,api,1,1M\n' >"$out/no_cpu_limit.csv"

expect_error missing_file 1 "nope.csv: cannot read the trace" --trace "$out/nope.csv"
expect_error no_trace 1 "--trace FILE is required"
expect_error bad_format 1 "unknown format" --trace "$data/steady.csv" --format xml
expect_error short_line 1 "short_line.csv:4: expected 4 to 7 fields" --trace "$out/short_line.csv"
expect_error unknown_service 1 "unknown_service.csv:5: unknown service 'ghost'" \
	--trace "$out/unknown_service.csv"
expect_error negative 1 "negative.csv:4: cpu_used '-0.5': negative" --trace "$out/negative.csv"
expect_error nan 1 "nan.csv:5: cpu_used 'NaN': NaN is not a value" --trace "$out/nan.csv"
expect_error backwards 1 "backwards.csv:5: time 0 goes backwards" --trace "$out/backwards.csv"
expect_error bad_mem 1 "bad_mem.csv:4: mem_used 'lots': not a number" --trace "$out/bad_mem.csv"
expect_error bad_limits 1 "bad_limits.csv:2: limits of 'web': cpu 'fast': not a number" \
	--trace "$out/bad_limits.csv"
expect_error unknown_no_limits 1 "unknown_no_limits.csv:1: unknown service 'newsvc'" \
	--trace "$out/unknown_no_limits.csv"
expect_error no_cpu_limit 1 "no_cpu_limit.csv:2: service 'api' has no initial cpu limit" \
	--trace "$out/no_cpu_limit.csv"
expect_error binary 1 "not a CSV text file" --trace "$RM_BINARY"
if [ -w /dev/full ]; then
	# Output that cannot be written is a runtime failure.
	sim --trace "$data/steady.csv" --all >/dev/full 2>"$out/full.err"
	rc=$?
	[ "$rc" = 2 ] || fail "write to /dev/full: exit $rc, expected 2"
fi

if [ "$failures" -gt 0 ]; then
	echo "$failures failure(s); outputs in $out"
	exit 1
fi
echo "all simulate golden and error tests passed"

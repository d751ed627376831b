#!/usr/bin/env bash
# bench_recommender: bench/recommender.sh's aggregation, with a stand-in for
# `simulate --compare --oracle --format json` (test data: it prints the JSON
# shape the real one prints: fleet figures, per-service figures as in its
# summary, with figures chosen per seed): mean and worst
# seed per policy and column, issue 13's goals judged on the worst seed, a
# clear error on JSON of another shape and on a failing simulate. The real
# tracegen makes the traces (skipped, 77, when the benchmarks are not built).
set -uo pipefail
: "${RM_BINARY:?}" "${RM_SOURCE_DIR:?}" "${RM_TEST_OUTPUT:?}"
tracegen=${RM_TRACEGEN:-$(dirname "$RM_BINARY")/bench/tracegen}
[ -x "$tracegen" ] || {
	echo "skip: $tracegen not built (RM_BENCH=OFF)"
	exit 77
}
command -v python3 >/dev/null || {
	echo "FAIL: python3 missing (bench/recommender.sh installs it)"
	exit 1
}
out=$RM_TEST_OUTPUT/bench_recommender
rm -rf "$out"
mkdir -p "$out"
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# The stand-in: the seed from the trace's first line picks the figures; a
# file "mode" beside it (the harness clears the environment) holds "shape"
# for JSON without "policies", "fail" for an exit 1.
cat >"$out/fake-simulate" <<'EOF'
#!/usr/bin/env bash
trace=
while [ $# -gt 0 ]; do
	[ "$1" = --trace ] && trace=$2
	shift
done
case "$(cat "$(dirname "$0")/mode" 2>/dev/null)" in
shape) echo '{"summary": []}'; exit 0 ;;
fail) echo "resource-manager simulate: unknown option '--compare'" >&2; exit 1 ;;
esac
seed=$(sed -n '1s/.*seed=\([0-9]*\).*/\1/p' "$trace")
fleet() { # cpu_over cpu_slack mem_slack oom changes
	printf '{"cpu_over": %s, "cpu_slack": %s, "mem_slack": %s, "oom_kills": %s, "changes_per_service_day": %s, "service_days": 10}' "$@"
}
if [ "$seed" = 1 ]; then
	tf="0.07 0.61 0.52 3 4.6" pf="0.02 0.50 0.25 1 0.8" of="0.007 0.3 0.2 0 0.9"
else
	tf="0.08 0.65 0.50 5 4.4" pf="0.03 0.40 0.27 2 0.6" of="0.005 0.3 0.2 0 0.9"
fi
# shellcheck disable=SC2086 # five figures each
t=$(fleet $tf) p=$(fleet $pf) o=$(fleet $of)
svc() { # one service in the per-service shape of simulate's summary
	local f
	read -ra f <<<"$1"
	printf '[{"service": "web", "cpu_over_limit": %s, "cpu_slack": {"mean": %s, "p95": 0.9}, "memory_slack": {"mean": %s, "p95": 0.9}, "oom_kills": %s, "changes_per_day": %s}]' "${f[@]}"
}
printf '{"check_interval": 300.0, "policies": [%s, %s, %s]}\n' \
	"{\"policy\": \"threshold\", \"fleet\": $t, \"services\": $(svc "$tf")}" \
	"{\"policy\": \"percentile\", \"fleet\": $p, \"services\": $(svc "$pf")}" \
	"{\"policy\": \"oracle\", \"fleet\": $o, \"services\": $(svc "$of")}"
EOF
chmod +x "$out/fake-simulate"

run() {
	RM_BINARY=$out/fake-simulate RM_TRACEGEN=$tracegen \
		bash "$RM_SOURCE_DIR/bench/recommender.sh" --seeds "1 2" --days 1 \
		--results "$out/results.md" "$@"
}

run --per-service >"$out/table.txt" 2>"$out/table.err"
rc=$?
[ "$rc" = 0 ] || fail "recommender.sh exited $rc: $(cat "$out/table.err")"
expect() { # LINE: must be in the output, verbatim
	grep -qxF -- "$1" "$out/table.txt" || fail "no line '$1' in:$(printf '\n%s' "$(cat "$out/table.txt")")"
}
expect "| threshold | 7.5% (8.0%) | 63.0% (65.0%) | 51.0% (52.0%) | 4.0 (5.0) | 4.50 (4.60) |"
expect "| percentile | 2.5% (3.0%) | 45.0% (50.0%) | 26.0% (27.0%) | 1.5 (2.0) | 0.70 (0.80) |"
expect "| oracle | 0.6% (0.7%) | 30.0% (30.0%) | 20.0% (20.0%) | 0.0 (0.0) | 0.90 (0.90) |"
expect "- CPU demand over the limit <= 2.5%: NOT met (worst 3.0%)"
expect "- memory slack <= 30.0%: met (worst 27.0%)"
expect "- would-be OOM kills <= 2.0: met (worst 2.0)"
expect "| web | percentile | 2.5% | 45.0% | 26.0% | 1.5 | 0.70 |"
cmp -s "$out/table.txt" "$out/results.md" || fail "--results: file differs from the printed table"
grep -q "seeds 1 2, 1 days at 30 s, check interval 300 s" "$out/table.txt" ||
	fail "title line: $(head -1 "$out/table.txt")"

echo shape >"$out/mode"
run >"$out/shape.out" 2>"$out/shape.err" && fail "JSON without policies: exit 0"
grep -q "no 'policies' list" "$out/shape.err" || fail "JSON without policies: $(cat "$out/shape.err")"
echo fail >"$out/mode"
run >"$out/fail.out" 2>"$out/fail.err" && fail "failing simulate: exit 0"
grep -q "simulate exited 1 on seed 1" "$out/fail.err" || fail "failing simulate: $(cat "$out/fail.err")"
rm -f "$out/mode"
run --seeds "1 x" >/dev/null 2>"$out/seeds.err" && fail "--seeds '1 x': exit 0"
grep -q "'x' is not a whole number" "$out/seeds.err" || fail "--seeds '1 x': $(cat "$out/seeds.err")"

[ "$failures" -eq 0 ] || {
	echo "$failures failure(s)"
	exit 1
}
echo "ok"

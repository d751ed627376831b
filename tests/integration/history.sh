#!/usr/bin/env bash
# history.sh: `recommend`, `simulate --from-prometheus` and the daemon's warm
# start against a real Prometheus holding three days of cAdvisor-shaped
# history (tests/integration/history_gen.py -> promtool tsdb
# create-blocks-from openmetrics -> its own Prometheus on loopback):
#   - the report in every format, the Compose override valid for
#     docker-compose, chunked reads equal to one read, requests = 9 per chunk;
#   - the same answer as the live path: simulate's histograms, fed the same
#     samples as a trace, reach the same targets (within one 2 % bucket);
#   - bad inputs: missing series, gaps, counter resets, part of the range,
#     NaN, no Prometheus, Prometheus down, 503 and a hang mid-read (partial,
#     said so), Prometheus refusing too many samples (smaller chunks);
#   - the warm start: seeded before the first decision, cold when Prometheus
#     is down, the histograms in the state file.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
src=${RM_SOURCE_DIR:?}
out=${RM_TEST_OUTPUT:-/tmp}/history-$$
mkdir -p "$out"
. "$src/scripts/lib/common.sh"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap cleanup EXIT
command -v promtool >/dev/null || { echo "promtool missing (package prometheus)"; exit 1; }

# 1. Three days of history ending two hours ago, in a private TSDB.
end=$(( $(date +%s) - 7200 ))
/usr/bin/python3 "$src/tests/integration/history_gen.py" "$out/om.txt" --end "$end" --days 3 \
  --scrape 120 || { bad "history_gen"; exit 1; }
promtool tsdb create-blocks-from openmetrics "$out/om.txt" "$out/tsdb" >"$out/promtool.log" 2>&1 \
  || { bad "promtool: $(tail -3 "$out/promtool.log")"; exit 1; }
rm -f "$out/om.txt"
printf 'global: {scrape_interval: 1m}\nscrape_configs: []\n' >"$out/prom.yml"
prom_pid=
start_prom() { # extra flags...
  port=$(rm_free_port $((19400 + $$ % 200)))
  prometheus --config.file="$out/prom.yml" --storage.tsdb.path="$out/tsdb" \
    --storage.tsdb.retention.time=60d --web.listen-address="127.0.0.1:$port" "$@" \
    >>"$out/prometheus.log" 2>&1 &
  prom_pid=$!
  pids+=("$prom_pid")
  prom=http://127.0.0.1:$port
  rm_wait_http "$prom/-/ready" 30 || { bad "Prometheus did not start"; tail "$out/prometheus.log"; exit 1; }
}
stop_prom() { kill "$prom_pid"; wait "$prom_pid" 2>/dev/null; }
start_prom

svcs="hweb hpartial hgap hreset hnocpu hnan hthrottle hmissing"
cfg() { # file url [query timeout]
  cat >"$1" <<YML
monitoring: {prometheus_url: "$2", query_timeout: ${3:-30s}}
services: {monitored: [${svcs// /, }], critical: [], optional: [], baseline: {}, priority: {}}
YML
}
cfg "$out/cfg.yml" "$prom"
rec() { "$bin" recommend --config "$out/cfg.yml" --since 3d "$@"; }
# py FILE EXPR: EXPR over the JSON in FILE (j), printed.
py() { /usr/bin/python3 -c "import json,sys; j=json.load(open('$1')); print($2)"; }

# 2. The report.
rec --format json >"$out/rec.json" 2>"$out/rec.err" && ok "recommend --format json" || bad "recommend: $(cat "$out/rec.err")"
[ "$(py "$out/rec.json" "len(j['services'])")" = 8 ] && ok "eight services reported" || bad "services: $(py "$out/rec.json" "[s['service'] for s in j['services']]")"
svc() { py "$out/rec.json" "[s for s in j['services'] if s['service']=='$1'][0]$2"; }
t=$(svc hweb "['cpu']['target']")
/usr/bin/python3 -c "import sys; t=float('$t'); sys.exit(0 if 0.5 < t < 0.62 else 1)" \
  && ok "hweb: CPU target $t cores (p98 of 0.1-0.5 + 10 %)" || bad "hweb CPU target $t"
[ "$(svc hpartial "['partial']")" = True ] && svc hpartial "['note']" | grep -q "history for 4[0-9]% of the steps" \
  && ok "part of the range: $(svc hpartial "['note']")" || bad "hpartial: $(svc hpartial "")"
svc hgap "['note']" | grep -q "history for [89][0-9]% of the steps" && ok "a gap: $(svc hgap "['note']")" || bad "hgap: $(svc hgap "['note']")"
[ "$(svc hnocpu "['cpu']")" = None ] && [ "$(svc hnocpu "['memory'] is not None")" = True ] \
  && ok "missing CPU series: memory only" || bad "hnocpu: $(svc hnocpu "")"
[ "$(svc hnan "['memory'] is not None")" = True ] && ok "NaN samples skipped, memory recommended" || bad "hnan"
[ "$(svc hmissing "['samples']")" = 0 ] && svc hmissing "['note']" | grep -q "no history" \
  && ok "no series at all: $(svc hmissing "['note']")" || bad "hmissing: $(svc hmissing "")"
svc hthrottle "['note']" | grep -q "throttled 30% of the time" && ok "throttling said: $(svc hthrottle "['note']")" || bad "hthrottle note"
r1=$(svc hreset "['cpu']['target']"); r0=$(svc hweb "['cpu']['target']")
/usr/bin/python3 -c "import sys; sys.exit(0 if abs($r1-$r0) < 0.05 * $r0 else 1)" \
  && ok "counter resets: CPU target $r1 (hweb $r0)" || bad "hreset CPU target $r1 vs $r0"
req=$(py "$out/rec.json" "j['history']['requests']"); chunks=$(py "$out/rec.json" "j['history']['chunks']")
[ "$req" -eq $((9 * chunks)) ] && ok "$req requests for $chunks chunk(s)" || bad "$req requests for $chunks chunks"

# Chunks: many small answers give the same figures, 9 requests each.
rec --format json --max-points 400 >"$out/rec-small.json" 2>/dev/null
req=$(py "$out/rec-small.json" "j['history']['requests']"); chunks=$(py "$out/rec-small.json" "j['history']['chunks']")
[ "$chunks" -gt 10 ] && [ "$req" -eq $((9 * chunks)) ] && ok "--max-points 400: $chunks chunks, $req requests" \
  || bad "--max-points 400: $chunks chunks, $req requests"
same=$(/usr/bin/python3 - "$out/rec.json" "$out/rec-small.json" <<'PY'
import json, sys
a, b = (json.load(open(f))["services"] for f in sys.argv[1:])
print(all(x["cpu"] == y["cpu"] and x["memory"] == y["memory"] for x, y in zip(a, b)))
PY
)
[ "$same" = True ] && ok "chunked read gives the same recommendations" || bad "chunked read differs"

rec --format csv >"$out/rec.csv" 2>/dev/null
[ "$(wc -l <"$out/rec.csv")" -eq 9 ] && head -1 "$out/rec.csv" | grep -q '^service,samples,cpu_limit' \
  && ok "csv: header and 8 rows" || bad "csv: $(head -3 "$out/rec.csv")"
rec >"$out/rec.txt" 2>"$out/rec-table.err"
grep -q '^hweb ' "$out/rec.txt" && grep -q 'history: 100%' "$out/rec-table.err" \
  && ok "table, with progress on stderr" || bad "table: $(head -3 "$out/rec.txt") / $(cat "$out/rec-table.err")"

# The Compose override, with a base file naming the services.
rec --format compose >"$out/override.yml" 2>/dev/null
{ echo "services:"; for s in $svcs; do echo "  $s: {image: busybox}"; done; } >"$out/base.yml"
if docker-compose -f "$out/base.yml" -f "$out/override.yml" config >"$out/compose.txt" 2>&1; then
  grep -q 'cpus: 0.5' "$out/compose.txt" && ok "docker-compose config accepts the override" || bad "compose: $(head "$out/compose.txt")"
else
  bad "docker-compose config: $(cat "$out/compose.txt")"
fi
grep -q '^  hmissing:' "$out/override.yml" && bad "a service with no history in the override" || ok "no limits for a service with no history"
sed 's/cpus:/cpu:/' "$out/override.yml" >"$out/broken.yml"
docker-compose -f "$out/base.yml" -f "$out/broken.yml" config >/dev/null 2>&1 \
  && bad "docker-compose accepted a broken override (the check cannot fail)" || ok "a broken override is refused by the same check"

# 3. The same answer as live: the trace simulate builds is what the daemon
# would have seen; its histograms reach the same targets. Under throttling
# the replay changes the limit the recorded throttling refers to (open loop),
# so hthrottle is left out.
"$bin" simulate --config "$out/cfg.yml" --from-prometheus --since 3d --write-trace "$out/trace.csv" \
  --format json >"$out/sim.json" 2>"$out/sim.err" && ok "simulate --from-prometheus: $(cat "$out/sim.err")" || bad "simulate: $(cat "$out/sim.err")"
cmp=$(/usr/bin/python3 - "$out/rec.json" "$out/sim.json" <<'PY'
import json, sys
rec = {s["service"]: s for s in json.load(open(sys.argv[1]))["services"]}
bad = []
n = 0
for s in json.load(open(sys.argv[2]))["summary"]:
    if s["service"] == "hthrottle":
        continue
    r, live = rec[s["service"]], s.get("recommendation") or {}
    for key, want in (("cpu", "cpu_target"), ("memory", "memory_target")):
        a = r[key]["target"] if r[key] else None
        b = live.get(want)
        n += 1
        if (a is None) != (b is None) or (a is not None and abs(a - b) > 0.02 * a):
            bad.append("%s %s %s vs %s" % (s["service"], key, a, b))
print("ok %d" % n if not bad else "; ".join(bad))
PY
)
case "$cmp" in ok*) ok "history and live agree within a bucket (${cmp#ok } targets)" ;; *) bad "history vs live: $cmp" ;; esac
"$bin" simulate --config "$out/cfg.yml" --trace "$out/trace.csv" --format json >"$out/sim2.json" 2>/dev/null
cmp -s "$out/sim.json" "$out/sim2.json" && ok "--write-trace replays the same offline" || bad "the saved trace replays differently"

# 4. Faults.
PROMETHEUS_URL= "$bin" recommend --config "$out/cfg.yml" >/dev/null 2>"$out/noprom.err"; rc=$?
[ "$rc" = 1 ] && grep -q 'history needs Prometheus' "$out/noprom.err" && ok "no Prometheus: $(cat "$out/noprom.err")" || bad "no Prometheus: exit $rc"
closed=$(rm_free_port 19650)
PROMETHEUS_URL=http://127.0.0.1:$closed "$bin" recommend --config "$out/cfg.yml" >/dev/null 2>"$out/down.err"; rc=$?
[ "$rc" = 2 ] && grep -q 'history needs Prometheus, and it gave none' "$out/down.err" && ok "Prometheus down: exit 2, $(cat "$out/down.err")" || bad "Prometheus down: exit $rc $(cat "$out/down.err")"
proxy() { # args...: starts the fault proxy in front of Prometheus; sets $purl
  rm -f "$out/proxy.port"
  /usr/bin/python3 "$src/tests/integration/fault_proxy.py" "$out/proxy.port" "$prom" "$@" 2>>"$out/proxy.log" &
  pids+=("$!"); proxy_pid=$!
  for _ in $(seq 50); do [ -s "$out/proxy.port" ] && break; sleep 0.1; done
  purl=http://127.0.0.1:$(cat "$out/proxy.port")
}
# A hang of 8 s against a 3 s query timeout.
cfg "$out/cfg-3s.yml" "$prom" 3s
proxy --fail 12 --hang 25 --hang-for 8
PROMETHEUS_URL=$purl "$bin" recommend --config "$out/cfg-3s.yml" --since 3d --max-points 400 --format json \
  >"$out/partial.json" 2>"$out/partial.err"; rc=$?
kill "$proxy_pid"
[ "$rc" = 0 ] && [ "$(py "$out/partial.json" "j['history']['partial']")" = True ] \
  && grep -q 'PARTIAL: [0-9]* of' "$out/partial.err" && ok "503 and a hang mid-read: partial, $(head -c 200 "$out/partial.err")" \
  || bad "faults mid-read: exit $rc, $(cat "$out/partial.err")"
py "$out/partial.json" "j['history']['error']" | grep -q 'HTTP 503' && ok "the partial result names the fault" || bad "partial error: $(py "$out/partial.json" "j['history']['error']")"
[ "$(py "$out/partial.json" "[s for s in j['services'] if s['service']=='hweb'][0]['samples']")" -lt \
  "$(svc hweb "['samples']")" ] && ok "the partial result misses the failed chunks' steps" || bad "partial samples"
proxy --fail 1,2,3
PROMETHEUS_URL=$purl "$bin" recommend --config "$out/cfg.yml" --since 3d --max-points 400 >/dev/null 2>"$out/fail3.err"; rc=$?
kill "$proxy_pid"
[ "$rc" = 2 ] && grep -q 'HTTP 503' "$out/fail3.err" && ok "three failures in a row: exit 2" || bad "three failures: exit $rc $(cat "$out/fail3.err")"

# Prometheus refusing answers that load too many samples: smaller chunks.
stop_prom
start_prom --query.max-samples=3000
cfg "$out/cfg-limited.yml" "$prom"
"$bin" recommend --config "$out/cfg-limited.yml" --since 3d --format json >"$out/limited.json" 2>"$out/limited.err"; rc=$?
chunks=$(py "$out/limited.json" "j['history']['chunks']" 2>/dev/null)
same=$(/usr/bin/python3 - "$out/rec.json" "$out/limited.json" <<'PY' 2>/dev/null
import json, sys
a, b = (json.load(open(f))["services"] for f in sys.argv[1:])
print(all(x["cpu"] == y["cpu"] and x["memory"] == y["memory"] for x, y in zip(a, b)))
PY
)
[ "$rc" = 0 ] && [ "${chunks:-0}" -gt 1 ] && [ "$same" = True ] \
  && ok "max-samples 3000: refused, read again in $chunks chunks, same figures" || bad "limited Prometheus: exit $rc, $chunks chunks, same=$same, $(head -c 300 "$out/limited.err")"
stop_prom
start_prom

# 5. The warm start of the daemon.
port=$(rm_free_port $((18900 + $$ % 100)))
cat >"$out/daemon.yml" <<YML
monitoring: {prometheus_url: "$prom", source: prometheus, check_interval: 300}
services: {monitored: [hweb, hmissing], critical: [], optional: [], baseline: {}, priority: {}}
recommender: {history_window: 3d}
docker: {host: "$RM_TEST_DOCKER_HOST"}
notifications: {enabled: false}
state: {path: "$out/state.json"}
metrics: {port: $port, bind_address: 127.0.0.1}
YML
"$bin" run --config "$out/daemon.yml" >"$out/daemon.log" 2>&1 &
dpid=$!; pids+=("$dpid")
for _ in $(seq 100); do grep -q 'warm start' "$out/daemon.log" && break; sleep 0.2; done
grep -q 'warm start: usage histograms seeded from Prometheus history.*services=1 of 2' "$out/daemon.log" \
  && ok "warm start: $(grep -o 'services=.*' "$out/daemon.log" | head -1)" || bad "warm start: $(grep -i warm "$out/daemon.log")"
n=
for _ in $(seq 100); do
  n=$(curl -fsS "http://127.0.0.1:$port/api/v1/status" 2>/dev/null | /usr/bin/python3 -c \
    "import json,sys; s=[x for x in json.load(sys.stdin)['services'] if x['name']=='hweb'][0]; print(s['recommendation']['cpu']['samples'])" 2>/dev/null)
  [ -n "$n" ] && break; sleep 0.2
done
[ "${n%.*}" -gt 500 ] 2>/dev/null && ok "first check decides with $n samples of history" || bad "recommendation after the warm start: '$n'"
kill -TERM "$dpid"; wait "$dpid"
[ "$(py "$out/state.json" "j['services']['hweb']['usage']['cpu']['samples'] > 500")" = True ] \
  && ok "the seeded histograms are in the state file" || bad "state after warm start"
# A restart with histograms in the state does not seed again.
"$bin" run --config "$out/daemon.yml" >"$out/daemon2.log" 2>&1 &
dpid=$!; pids+=("$dpid")
for _ in $(seq 100); do grep -q 'started' "$out/daemon2.log" && break; sleep 0.2; done
sleep 1
grep -q 'services=1 of 2\|services=0 of 1' "$out/daemon2.log" && ok "restart: only the service without history is asked for ($(grep -o 'services=[0-9]* of [0-9]*' "$out/daemon2.log"))" \
  || bad "restart warm start: $(grep -i warm "$out/daemon2.log")"
kill -TERM "$dpid"; wait "$dpid"
rm -f "$out/state.json"
sed -i "s#prometheus_url: \"$prom\"#prometheus_url: \"http://127.0.0.1:$closed\"#" "$out/daemon.yml"
"$bin" run --config "$out/daemon.yml" >"$out/daemon3.log" 2>&1 &
dpid=$!; pids+=("$dpid")
for _ in $(seq 100); do grep -q 'cold start' "$out/daemon3.log" && break; sleep 0.2; done
grep -q 'warm start: no history, the histograms start empty (cold start)' "$out/daemon3.log" \
  && ok "Prometheus down: a cold start, said so" || bad "cold start: $(grep -i 'warm\|cold' "$out/daemon3.log")"
kill -TERM "$dpid"; wait "$dpid"

[ "$fails" -eq 0 ] || { echo "$fails history checks failed; logs in $out"; exit 1; }
echo "all history checks passed"

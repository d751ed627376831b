#!/usr/bin/env bash
# daemon_percentile.sh: `resource-manager run` under the percentile policy
# against the real Docker engine: the histograms fill at every check, the API
# shows the recommendation and the fleet totals, an over-sized container is
# cut to its recommendation once (the explanation names percentile, window,
# margin, confidence, bound and expected slack), no second decrease within
# decrease_interval, and the histograms are in the state file (version 2)
# and survive a restart.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
out=${RM_TEST_OUTPUT:-/tmp}/daemon-percentile-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
. "${RM_SOURCE_DIR:?}/scripts/lib/common.sh"
port=$(rm_free_port $((18800 + $$ % 200)))
url=http://127.0.0.1:$port
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
svc=rmdp-$$
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  docker rm -f "$svc" >/dev/null 2>&1
}
trap cleanup EXIT

cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1s}
thresholds: {min_uptime: 0}
adjustment: {policy: percentile, cooldown_period: 1h, min_cpu: 0.3, min_memory: 16M}
recommender: {min_history: 8s, half_life: 1m, decrease_interval: 1h}
blue_green: {strategy: in-place}
services: {monitored: [$svc], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "$RM_TEST_DOCKER_HOST"}
notifications: {enabled: false}
state: {path: "$out/state.json"}
metrics: {port: $port, bind_address: 127.0.0.1}
logging: {level: debug}
YML
wait_log() { # file pattern seconds
  for _ in $(seq 1 $(( $3 * 10 ))); do grep -q -- "$2" "$1" && return 0; sleep 0.1; done
  return 1
}
status() { curl -fsS --max-time 5 "$url/api/v1/status"; }
# py EXPR: evaluates EXPR on the status JSON (s), prints the result.
py() { status | /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin); print($1)" 2>/dev/null; }

docker rm -f "$svc" >/dev/null 2>&1
# 40 MiB held, no CPU to speak of, under generous limits.
docker run -d --pull=never --name "$svc" --label com.docker.compose.service="$svc" \
  --cpus 1 --memory 256m "$img" alloc 40 >/dev/null || { bad "workload start"; exit 1; }

"$bin" run --config "$out/cfg.yml" >"$out/run1.log" 2>&1 &
pid=$!
# 1. The recommendation appears in the API before any decrease (too little history).
rec=
for _ in $(seq 1 100); do
  rec=$(py "s['services'][0]['recommendation']['memory']['p99'] if s['services'] and s['services'][0]['recommendation'] and s['services'][0]['recommendation']['memory'] else ''")
  [ -n "$rec" ] && break
  sleep 0.2
done
[ -n "$rec" ] && ok "recommendation in /api/v1/status (memory p99 $rec bytes)" || bad "no recommendation in the API"
pol=$(py "s['automation']['policy']")
[ "$pol" = percentile ] && ok "policy percentile in the status" || bad "policy is '$pol'"
grep -q 'no decrease before 8s of history' "$out/run1.log" && ok "no decrease before min_history" \
  || bad "min_history not seen: $(grep -m3 'explanation' "$out/run1.log")"

# 2. Cut once to the recommendation, in place.
if wait_log "$out/run1.log" "change applied" 60; then ok "decrease applied"; else bad "no change applied"; tail -20 "$out/run1.log"; fi
sleep 1
mem=$(docker inspect "$svc" --format '{{.HostConfig.Memory}}')
cpu=$(docker inspect "$svc" --format '{{.HostConfig.NanoCpus}}')
[ "$mem" -gt $((40 * 1048576)) ] && [ "$mem" -lt $((128 * 1048576)) ] && ok "memory 256 MiB -> $((mem / 1048576)) MiB" \
  || bad "memory limit is $mem"
[ "$cpu" = 300000000 ] && ok "cpu 1 -> 0.3 cores (adjustment.min_cpu)" || bad "NanoCpus is $cpu"
expl=$(grep -m1 'deploying' "$out/run1.log")
for part in 'reason=cpu_recommended' 'cpu p98 ' 'half-life 1m' 'confidence ' '% margin = ' 'mem p99.9 ' '(min)' 'expected slack'; do
  case "$expl" in *"$part"*) ;; *) bad "explanation lacks '$part': $expl" ;; esac
done
ok "explanation: ${expl#*explanation=}"

# 3. No second decrease within decrease_interval.
sleep 6
n=$(grep -c 'change applied' "$out/run1.log")
[ "$n" -eq 1 ] && ok "one change (decrease_interval holds)" || bad "$n changes"
grep -q 'no decrease within 1h of a change' "$out/run1.log" && ok "decrease_paced explained" \
  || bad "no decrease_paced explanation"
fleet=$(py "s['fleet']['memory']['recommended']")
[ -n "$fleet" ] && [ "${fleet%.*}" -gt 0 ] && ok "fleet totals: memory recommended $fleet bytes" || bad "fleet: '$fleet'"

# 4. The histograms are in the state file, and survive a restart.
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ "$rc" -eq 0 ] && ok "daemon stops cleanly" || bad "daemon exit $rc"
read -r ver samples < <(/usr/bin/python3 -c "
import json,sys; s=json.load(open('$out/state.json'))
u=s['services']['$svc']['usage']; print(s['version'], u['memory']['samples'])")
[ "$ver" = 2 ] && ok "state file version 2" || bad "state version '$ver'"
[ "${samples:-0}" -gt 5 ] && ok "$samples memory samples saved" || bad "samples '$samples'"
"$bin" run --config "$out/cfg.yml" >"$out/run2.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do
  n2=$(py "s['services'][0]['recommendation']['memory']['samples'] if s['services'] and s['services'][0]['recommendation'] else 0")
  [ "${n2:-0}" -gt "$samples" ] && break
  sleep 0.2
done
[ "${n2:-0}" -gt "$samples" ] && ok "history kept across the restart ($samples -> $n2 samples)" \
  || bad "history after restart: ${n2:-none} samples (had $samples)"
grep -q 'change applied' "$out/run2.log" && bad "changed again after the restart" || ok "no change after the restart"
kill -TERM "$pid"; wait "$pid"; pid=

[ "$fails" -eq 0 ] || { echo "$fails daemon_percentile checks failed; logs in $out"; exit 1; }
echo "all daemon_percentile checks passed"

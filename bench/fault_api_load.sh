#!/usr/bin/env bash
# fault_api_load.sh: 1,000 API requests a second (hey, 20 workers x 50/s on
# /api/v1/status) while the daemon runs a blue-green deployment that the API
# itself started. Reports the rate hey achieved, its latencies and failures,
# the deployment's outcome and duration with and without the load, and the
# loop's check gaps meanwhile (does it keep its 1 s schedule?). Not part of
# the test suite; figures go to docs/benchmarks.md.
#
#   bench/fault_api_load.sh [--binary PATH] [--seconds N]   (default build/, 20 s)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"
cd "$RM_ROOT"
BIN=$RM_ROOT/build/resource-manager
SECS=20
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BIN=$2; shift ;;
    --seconds) SECS=$2; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) rm_die "unknown option '$1'" ;;
  esac
  shift
done
rm_install_packages hey busybox-static
[ -x "$BIN" ] || rm_die "no binary at $BIN (build first)"
RUN="$RM_ROOT/.run/bench-api-load"
rm -rf "$RUN"; mkdir -p "$RUN"
p=rmbal$$
svc=$p-web
trap 'docker ps -aq --filter "label=com.docker.compose.project=$p" | xargs -r docker rm -f >/dev/null 2>&1; rm_stop_all' EXIT
rm_start_dockerd "$RUN"
export DOCKER_HOST="unix://$RM_DOCKER_SOCK"
docker image inspect rm-test/workload:1 >/dev/null 2>&1 || rm_build_workload_image "$RUN"
. "$RM_ROOT/scripts/lib/docker_test.sh"
docker run -d --pull=never --name "$p-web-1" --label com.docker.compose.project="$p" \
  --label com.docker.compose.service="$svc" --cpus 0.5 --memory 64m rm-test/workload:1 http 8080 >/dev/null
rm_wait_healthy "$p-web-1" 30 || rm_die "workload never healthy"
port=$(rm_free_port 19150)
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RUN/token"
cat >"$RUN/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1s}
automation: {enabled: true, actions: {decrease_on_low: false, increase_on_high: false}}
blue_green: {strategy: blue-green, settle_seconds: 1, drain_seconds: 1, stability_seconds: 2, health_check_timeout: 30}
services: {monitored: [$svc], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "unix://$RM_DOCKER_SOCK"}
notifications: {enabled: false, channels: {logfile: {enabled: false}}}
state: {path: "$RUN/state.json"}
metrics: {port: $port, bind_address: 127.0.0.1}
web: {admin_token_file: "$RUN/token"}
logging: {level: debug}
YML
"$BIN" run --config "$RUN/cfg.yml" >"$RUN/daemon.log" 2>&1 &
rm_track $!
url=http://127.0.0.1:$port
rm_wait_http "$url/health" 20 || rm_die "daemon did not start"
sleep 3 # a first check knows the limits

deploy() { # cpu memory: POSTs the deployment, waits for its end; prints its seconds
  local n0 t0
  n0=$(grep -c "change applied\|change failed\|change not applied" "$RUN/daemon.log" || true)
  t0=$(date +%s.%N)
  curl -fsS -X POST -H "Authorization: Bearer $(cat "$RUN/token")" -H "X-Requested-By: resource-manager" \
    -H 'Content-Type: application/json' -d "{\"cpu\": $1, \"memory\": \"$2\"}" \
    "$url/api/v1/services/$svc/deploy" >"$RUN/deploy-answer.json" || rm_die "the deploy request was refused"
  for _ in $(seq 1 600); do
    [ "$(grep -c "change applied\|change failed\|change not applied" "$RUN/daemon.log")" -gt "$n0" ] && break
    sleep 0.1
  done
  awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }' 
}
quiet=$(deploy 0.75 96M)
rm_log "without load: deployment in $quiet s"
sleep 3
# The load: hey at 1,000 requests/s; the deployment starts 3 s into it.
hey -z "${SECS}s" -c 20 -q 50 -t 10 "$url/api/v1/status" >"$RUN/hey.txt" 2>&1 &
hey_pid=$!
sleep 3
mark=$(wc -l <"$RUN/daemon.log")
loaded=$(deploy 0.5 64M)
wait "$hey_pid"
end=$(wc -l <"$RUN/daemon.log")
outcomes=$(grep -o "change applied service=$svc strategy=[a-z-]*\|change failed[^\t]*\|change not applied" "$RUN/daemon.log" | sort | uniq -c | tr '\n' ';')
# Check gaps during the load window, from the debug log's "check done" lines.
gaps=$(sed -n "${mark},${end}p" "$RUN/daemon.log" | grep "check done" | awk '{
  split($1, a, "T"); split(a[2], t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3];
  if (prev) { g = s - prev; if (g > max) max = g; n++; sum += g } prev = s }
  END { printf "%d checks, mean gap %.2f s, max gap %.2f s", n, sum / n, max }')
rps=$(awk '/Requests\/sec/ {print $2}' "$RUN/hey.txt")
p50=$(awk '/50% in/ {print $3}' "$RUN/hey.txt")
p99=$(awk '/99% in/ {print $3}' "$RUN/hey.txt")
codes=$(sed -n '/Status code distribution:/,/^$/p' "$RUN/hey.txt" | grep -o '\[[0-9]*\][[:space:]]*[0-9]*' | tr -s ' ' | tr '\n' ' ')
errors=$(sed -n '/Error distribution:/,$p' "$RUN/hey.txt" | grep -c '\[' || true)
echo "api-load: hey ${rps} req/s on /api/v1/status (p50 ${p50} s, p99 ${p99} s), codes: ${codes}errors: ${errors}"
echo "api-load: deployment ${quiet} s without load, ${loaded} s under load; outcomes: ${outcomes}"
echo "api-load: loop: ${gaps}"

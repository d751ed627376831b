#!/usr/bin/env bash
# daemon_drift.sh: a container recreated or changed behind resource-manager's
# back (its limits differ from the last ones it applied) is reported as drift,
# and put back when automation.reapply_on_drift is on.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
out=${RM_TEST_OUTPUT:-/tmp}/daemon-drift-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
svc=rmdr-$$
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; docker rm -f "$svc" >/dev/null 2>&1; }
trap cleanup EXIT
wait_log() { for _ in $(seq 1 $(( $3 * 10 ))); do grep -q -- "$2" "$1" && return 0; sleep 0.1; done; return 1; }
nanocpus() { docker inspect "$svc" --format '{{.HostConfig.NanoCpus}}'; }

docker run -d --pull=never --name "$svc" --label com.docker.compose.service="$svc" \
  --cpus 0.5 --memory 64m "$img" idle >/dev/null || { bad "workload start"; exit 1; }
# The state of an earlier run: it had applied 0.75 cores and 64 MiB an hour ago.
now=$(date +%s)
cat >"$out/state.json" <<JSON
{"version": 1, "services": {"$svc": {
  "engine": {"last_change": $((now - 3600)), "last_result": "applied", "day": 0},
  "applied": {"cpu": 0.75, "memory": 67108864},
  "last_good": {"cpu": 0.5, "memory": 67108864}, "replicas": 1}}}
JSON
cfg() { # reapply
  cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1s}
thresholds: {consecutive_checks: 2, min_uptime: 0}
adjustment: {min_cpu: 0.1, cooldown_period: 1h}
services: {monitored: [$svc], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "$RM_TEST_DOCKER_HOST"}
automation: {reapply_on_drift: $1, actions: {decrease_on_low: false}}
blue_green: {strategy: in-place}
notifications: {enabled: false, channels: {logfile: {enabled: false, path: "$out/x"}}}
metrics: {enabled: false}
state: {path: "$out/state.json"}
YML
}
cfg false
"$bin" run --config "$out/cfg.yml" >"$out/report.log" 2>&1 &
pid=$!
wait_log "$out/report.log" "drift: running limits" 30 && ok "drift reported" || bad "drift not reported"
sleep 3
[ "$(grep -c 'drift: running limits' "$out/report.log")" -eq 1 ] && ok "reported once" || bad "drift reported repeatedly"
[ "$(nanocpus)" = 500000000 ] && ok "left alone without reapply_on_drift" || bad "changed without reapply_on_drift"
kill -TERM "$pid"; wait "$pid"; pid=

cfg true
"$bin" run --config "$out/cfg.yml" >"$out/reapply.log" 2>&1 &
pid=$!
wait_log "$out/reapply.log" "change applied" 30 && ok "managed limits re-applied" || bad "not re-applied"
[ "$(nanocpus)" = 750000000 ] && ok "back to 0.75 cores" || bad "NanoCpus $(nanocpus)"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ "$rc" -eq 0 ] && ok "clean stop" || bad "exit $rc"
[ "$fails" -eq 0 ] && echo "all drift checks passed" || echo "$fails drift checks failed; logs in $out"
exit $((fails > 0))

#!/usr/bin/env bash
# daemon_web.sh: the daemon with manual approval, its web server and the real
# Prometheus: a decision waits (no change); `approve --reject` drops it; the
# real Prometheus scrapes /metrics and finds resource_manager_total_adjustments;
# headless Chromium loads the dashboard of this running service, checks every
# service row, chart and the history, clicks Approve, and the change is applied.
# A manual deploy outside adjustment.min_*/max_* is refused by the API (400)
# and by `deploy` (exit 1, unless --force) and changes nothing; one inside is
# applied.
set -u
bin=${RM_BINARY:?}
src=${RM_SOURCE_DIR:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}" "${RM_TEST_PROMETHEUS_URL:?}" "${RM_TEST_PROM_TARGETS_DIR:?}"
. "$src/scripts/lib/common.sh"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
out=${RM_TEST_OUTPUT:-/tmp}/daemon-web-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
svc=rmw-$$
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  docker rm -f "$svc" >/dev/null 2>&1
  rm -f "$RM_TEST_PROM_TARGETS_DIR/daemon-$$.json"
}
trap cleanup EXIT
wait_log() { for _ in $(seq 1 $(( $2 * 10 ))); do grep -q -- "$1" "$out/rm.log" && return 0; sleep 0.1; done; return 1; }
nanocpus() { docker inspect "$svc" --format '{{.HostConfig.NanoCpus}}'; }
promq() { curl -fsS -G "$RM_TEST_PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$1"; }
memory() { docker inspect "$svc" --format '{{.HostConfig.Memory}}'; }
api_deploy() { # name json: POSTs a manual deploy, prints the status, the body in $out/name.json
  curl -sS -o "$out/$1.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(tr -d '\n' <"$out/token")" \
    -H 'X-Requested-By: resource-manager' -H 'Content-Type: application/json' --data "$2" \
    "http://127.0.0.1:$port/api/v1/services/$svc/deploy"
}
refused() { # name expected-status expected-text
  [ "$2" = 400 ] && grep -qF "\"error\":\"$3; nothing was changed\"" "$out/$1.json" \
    && ok "API deploy refused: $3" || { bad "API deploy $1: status $2"; cat "$out/$1.json"; }
}

docker run -d --pull=never --name "$svc" --label com.docker.compose.service="$svc" \
  --cpus 0.5 --memory 64m "$img" busy 2 >/dev/null || { bad "workload start"; exit 1; }
port=$(rm_free_port 18700)
printf 'token-%s-%s\n' "$$" "$RANDOM" >"$out/token"
cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1s}
thresholds: {consecutive_checks: 2, min_uptime: 0}
adjustment: {policy: threshold, cooldown_period: 1h, min_memory: 48M, max_memory: 256M}
services: {monitored: [$svc], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "$RM_TEST_DOCKER_HOST"}
automation: {manual_approval: true, actions: {decrease_on_low: false}}
# In place keeps this test about approval (blue-green has its own tests).
blue_green: {strategy: in-place}
notifications: {enabled: false, channels: {logfile: {enabled: false, path: "$out/x"}}}
metrics: {port: $port, bind_address: 127.0.0.1}
web: {admin_token_file: "$out/token"}
state: {path: "$out/state.json"}
logging: {level: debug}
YML
"$bin" run --config "$out/cfg.yml" >"$out/rm.log" 2>&1 &
pid=$!
wait_log "change waits for approval" 90 && ok "decision waits for approval" || bad "no pending decision"
sleep 3

# Manual deploys outside the bounds: refused, nothing applied or journaled.
refused low "$(api_deploy low '{"memory": "32M"}')" "memory 32Mi is below adjustment.min_memory (48Mi)"
refused high "$(api_deploy high '{"cpu": 16, "memory": "128M"}')" "cpu 16 is above adjustment.max_cpu (8)"
# The CLI, on its own state file (the daemon owns the other one).
sed "s#$out/state.json#$out/cli-state.json#" "$out/cfg.yml" >"$out/cli.yml"
"$bin" deploy "$svc" 0.5 512M --config "$out/cli.yml" >"$out/cli-refused" 2>&1; rc=$?
[ "$rc" -eq 1 ] && grep -qF "memory 512Mi is above adjustment.max_memory (256Mi); nothing was changed" "$out/cli-refused" \
  && ok "deploy above max_memory: exit 1" || { bad "deploy above max_memory: exit $rc"; cat "$out/cli-refused"; }
"$bin" deploy "$svc" 0.5 512M --config "$out/cli.yml" --force --dry-run >"$out/cli-forced" 2>&1; rc=$?
[ "$rc" -eq 0 ] && grep -q "warn deploy memory 512Mi is above adjustment.max_memory (256Mi); deploying anyway (--force)" "$out/cli-forced" \
  && grep -q "dry_run" "$out/cli-forced" && ok "deploy --force: warns and goes on" || { bad "deploy --force: exit $rc"; cat "$out/cli-forced"; }
[ "$(nanocpus)" = 500000000 ] && ok "nothing applied before approval" || bad "applied without approval: $(nanocpus)"
[ "$(memory)" = 67108864 ] && ok "memory unchanged by the refused deploys" || bad "memory $(memory)"
"$bin" healthcheck --config "$out/cfg.yml" >"$out/hc" 2>&1 && ok "healthcheck passes" || { bad "healthcheck failed"; cat "$out/hc"; }

# Reject through the CLI; a new decision comes back later and waits again.
"$bin" approve "$svc" --reject --config "$out/cfg.yml" >"$out/reject" 2>&1 && grep -q "rejected" "$out/reject" \
  && ok "approve --reject" || { bad "reject failed"; cat "$out/reject"; }
"$bin" approve "$svc" --config "$out/cfg.yml" --token-file /dev/null >"$out/noauth" 2>&1
[ $? -ne 0 ] && ok "approve with a wrong token is refused" || bad "approve without the token worked"
"$bin" approve no-such-svc --config "$out/cfg.yml" >/dev/null 2>&1; [ $? -eq 1 ] && ok "approve of an unknown service: exit 1" || bad "unknown service not refused"
for _ in $(seq 1 300); do [ "$(grep -c 'change waits for approval' "$out/rm.log")" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c 'change waits for approval' "$out/rm.log")" -ge 2 ] && ok "a new decision waits after the rejection" || bad "no new pending decision"

# The real Prometheus scrapes the running service.
printf '[{"targets":["127.0.0.1:%s"],"labels":{"rmtest":"daemon-%s"}}]\n' "$port" "$$" >"$RM_TEST_PROM_TARGETS_DIR/daemon-$$.json"
found=
for _ in $(seq 1 60); do
  promq "resource_manager_total_adjustments{service=\"$svc\"}" | grep -q "\"service\":\"$svc\"" && { found=1; break; }
  sleep 0.5
done
[ -n "$found" ] && ok "Prometheus scraped resource_manager_total_adjustments" || bad "series not in Prometheus"
promq "up{rmtest=\"daemon-$$\"}" | grep -q '"value":\[[0-9.]*,"1"\]' && ok "target up" || bad "target not up"

# The browser: rows, charts, history, then Approve.
RM_DASHBOARD_URL="http://127.0.0.1:$port/" RM_DASHBOARD_TOKEN_FILE="$out/token" \
  RM_DASHBOARD_REQUIRE_PENDING=1 RM_TEST_OUTPUT="$out" bash "$src/tests/e2e/dashboard.sh" >"$out/browser" 2>&1 \
  && ok "dashboard test passed (screenshots in $out/dashboard)" || { bad "dashboard test failed"; cat "$out/browser"; }
wait_log "change applied" 30 && ok "approved change applied" || bad "approval not applied"
[ "$(nanocpus)" = 630000000 ] && ok "new limit 0.63 cores" || bad "NanoCpus $(nanocpus)"
for _ in $(seq 1 40); do
  promq "resource_manager_total_adjustments{service=\"$svc\"}" | grep -q '"value":\[[0-9.]*,"1"\]' && break; sleep 0.5
done
promq "resource_manager_total_adjustments{service=\"$svc\"}" | grep -q '"value":\[[0-9.]*,"1"\]' \
  && ok "Prometheus sees the adjustment" || bad "Prometheus does not see the adjustment"
# A manual deploy inside the bounds is applied as before.
code=$(api_deploy inside '{"cpu": 0.7}')
[ "$code" = 200 ] && ok "API deploy inside the bounds accepted" || { bad "API deploy inside: $code"; cat "$out/inside.json"; }
for _ in $(seq 1 150); do [ "$(grep -c 'change applied' "$out/rm.log")" -ge 2 ] && break; sleep 0.1; done
[ "$(nanocpus)" = 700000000 ] && ok "manual limit 0.7 cores applied" || bad "NanoCpus $(nanocpus) after the manual deploy"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ "$rc" -eq 0 ] && ok "clean stop" || bad "exit $rc"
/usr/bin/python3 - "$out/state.json" "$svc" <<'PY' && ok "history: pending, rejected, approved, applied; one manual deploy" || bad "history incomplete"
import json, sys
s = json.load(open(sys.argv[1])); svc = sys.argv[2]
events = [e for e in s["history"] if e["service"] == svc]
outcomes = [e["outcome"] for e in events]
for o in ("pending", "rejected", "approved", "applied"):
    assert o in outcomes, (o, outcomes)
manual = [e for e in events if "manual deploy" in (e.get("explanation") or "")]
assert len(manual) == 1 and "0.70 cores" in manual[0]["explanation"], manual
PY
[ "$fails" -eq 0 ] && echo "all daemon web checks passed" || echo "$fails checks failed; logs in $out"
exit $((fails > 0))

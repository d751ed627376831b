#!/usr/bin/env bash
# daemon_verify_bg.sh: the watch after a change, blue-green, under load
# through an HAProxy. `resource-manager run` cuts the memory of an idle web
# service (128 -> 64 MiB) with a blue-green replacement; then the service
# needs more (a process in it allocates 100 MiB on demand) and is OOM-killed
# under its new limit. Within adjustment.verify_window the manager reverts
# the change through the same zero-downtime path: back to 128 MiB, one
# container, the revert in the history, /metrics and the state, and no
# request through the balancer fails from the daemon's start to the end.
# The revert is sent as change_reverted to Alertmanager and to a webhook.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}" "${RM_TEST_ALERTMANAGER_URL:?}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
lbimg=${RM_TEST_HAPROXY_IMAGE:-rm-test/haproxy:1}
out=${RM_TEST_OUTPUT:-/tmp}/daemon-verify-bg-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
. "${RM_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$RM_SOURCE_DIR/scripts/lib/docker_test.sh"
port=$(rm_free_port $((18850 + $$ % 50)))
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
p=rmvbg$$
svc=$p-web
web=$p-web-1
net=$p-net
pid=
whpid=
loads=()
left() { docker ps -aq --filter "label=com.docker.compose.project=$p"; docker network ls -q --filter "label=com.docker.compose.project=$p"; }
cleanup() {
  [ ${#loads[@]} -gt 0 ] && kill "${loads[@]}" 2>/dev/null
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  [ -n "$whpid" ] && kill "$whpid" 2>/dev/null
  docker ps -aq --filter "label=com.docker.compose.project=$p" | xargs -r docker rm -f >/dev/null 2>&1
  docker network ls -q --filter "label=com.docker.compose.project=$p" | xargs -r docker network rm >/dev/null 2>&1
}
trap cleanup EXIT

# A webhook receiver: each POST body a line in $out/webhook.
whport=$(rm_free_port $((18800 + $$ % 50)))
/usr/bin/python3 - "$whport" "$out/webhook" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
whpid=$!
cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1s}
thresholds: {consecutive_checks: 2, min_uptime: 0}
adjustment: {policy: threshold, cooldown_period: 5s, decrease_factor: 0.5, min_memory: 16M, min_cpu: 0.3,
             verify_window: 60s, revert_backoff: 1h}
# Only the decrease and its revert are under test.
automation: {enabled: true, actions: {increase_on_high: false}}
blue_green: {strategy: blue-green, settle_seconds: 2, drain_seconds: 1, health_check_timeout: 20s,
             rollback_timeout: 20s}
services: {monitored: [$svc], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "$RM_TEST_DOCKER_HOST"}
notifications:
  events: [deployment_failure]
  channels:
    alertmanager: {enabled: true, url: "$RM_TEST_ALERTMANAGER_URL"}
    webhook: {enabled: true, url: "http://127.0.0.1:$whport/hook"}
    logfile: {enabled: false}
state: {path: "$out/state.json"}
metrics: {port: $port, bind_address: 127.0.0.1}
logging: {level: debug}
YML
memory() { docker inspect "$1" --format '{{.HostConfig.Memory}}' 2>/dev/null; }

docker network create --label com.docker.compose.project="$p" "$net" >/dev/null || { bad "network"; exit 1; }
docker run -d --pull=never --name "$web" --network "$net" --network-alias web \
  --label com.docker.compose.project="$p" --label com.docker.compose.service="$svc" \
  --label com.docker.compose.container-number=1 \
  --cpus 0.5 --memory 128m "$img" web-alloc 20 8080 >/dev/null || { bad "web start"; exit 1; }
rm_haproxy_config "$out/haproxy.cfg" web 8080
docker run -d --pull=never --name "$p-lb" --network "$net" -p 127.0.0.1::8080 \
  --label com.docker.compose.project="$p" --label com.docker.compose.service="$p-lb" \
  -v "$out/haproxy.cfg:/etc/haproxy/haproxy.cfg:ro" "$lbimg" >/dev/null || { bad "haproxy start"; exit 1; }
lbport=$(docker port "$p-lb" 8080 | head -1 | sed 's/.*://')
rm_wait_healthy "$web" 20 || bad "blue never healthy"
rm_wait_http "http://127.0.0.1:$lbport/" 10 && ok "HAProxy serves the web service" || bad "HAProxy does not serve"

# Requests by 4 clients from before the daemon starts to after the revert;
# "<start> <HTTP status> <end>" a line (000: no answer). Bounded: 900
# requests per client, 100 s.
for _ in 1 2 3 4; do rm_load_client "$out/load" "http://127.0.0.1:$lbport/" 100 900 "$out/stop-load" & loads+=($!); done

"$bin" run --config "$out/cfg.yml" >"$out/run.log" 2>&1 &
pid=$!
# 1. The cut: blue-green, 128 -> 64 MiB.
rm_wait_log "$out/run.log" "change applied service=$svc strategy=blue-green" 60 \
  && ok "memory cut blue-green" || { bad "no change applied"; tail -20 "$out/run.log"; }
for _ in $(seq 1 100); do [ "$(memory "$web")" = 67108864 ] && break; sleep 0.1; done
[ "$(memory "$web")" = 67108864 ] && ok "the copy runs with 64 MiB" || bad "memory after the cut: $(memory "$web")"
curl -fsS "http://127.0.0.1:$port/api/v1/services/$svc" >"$out/watching.json" 2>/dev/null
python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["watch"]; assert w["memory_to"] == 64 << 20, w' \
  "$out/watching.json" && ok "/api/v1/services: the change is being watched" \
  || bad "no watch in the service's API answer: $(head -c 300 "$out/watching.json")"
# 2. The trigger: a process in the service needs 100 MiB; the kernel kills it.
docker exec "$web" dd if=/dev/zero of=/dev/null bs=100M count=1 >/dev/null 2>&1
echo "trigger exit: $?" >>"$out/trigger"
rm_wait_log "$out/run.log" "reverting it.*service=$svc" 30 \
  && ok "OOM seen: $(grep -o 'reverted (oom_kill)[^"]*' "$out/run.log" | head -1)" \
  || { bad "no revert"; grep -iE "oom|revert|verif" "$out/run.log" | tail -5; }
# 3. The revert, blue-green again.
rm_wait_log "$out/run.log" "change applied service=$svc strategy=blue-green.*reverted" 60 \
  && ok "reverted blue-green" || { bad "the revert was not applied"; tail -20 "$out/run.log"; }
for _ in $(seq 1 100); do [ "$(memory "$web")" = 134217728 ] && break; sleep 0.1; done
[ "$(memory "$web")" = 134217728 ] && ok "back to the last known good, 128 MiB" || bad "memory after the revert: $(memory "$web")"
rm_wait_healthy "$web" 20 && ok "the reverted copy is healthy" || bad "the reverted copy is not healthy"
sleep 2 # requests after the revert too
touch "$out/stop-load"; wait "${loads[@]}"; loads=()

# 4. The revert was sent: Alertmanager has it, the webhook got it.
for _ in $(seq 1 50); do
  curl -fsS -G "$RM_TEST_ALERTMANAGER_URL/api/v2/alerts" --data-urlencode "filter=service=\"$svc\"" >"$out/alerts" 2>/dev/null
  grep -q '"alertname":"ChangeReverted"' "$out/alerts" && break; sleep 0.2
done
grep -q '"alertname":"ChangeReverted"' "$out/alerts" && ok "ChangeReverted alert in Alertmanager" \
  || bad "no ChangeReverted alert: $(head -c 300 "$out/alerts")"
grep -q '"change_reverted"' "$out/webhook" 2>/dev/null && grep '"change_reverted"' "$out/webhook" | grep -q "OOM kill" \
  && ok "change_reverted sent to the webhook, with the verdict" || bad "webhook: $(head -c 300 "$out/webhook" 2>/dev/null)"
curl -s "http://127.0.0.1:$port/metrics" >"$out/metrics"
grep -q "^resource_manager_reverts_total{service=\"$svc\"} 1\$" "$out/metrics" && ok "/metrics: one revert" \
  || bad "/metrics: $(grep reverts "$out/metrics" | tr '\n' ' ')"
kill -TERM "$pid"; wait "$pid"; pid=
[ "$(grep -c 'change applied' "$out/run.log")" -eq 2 ] && ok "two changes: the cut and its revert" \
  || bad "$(grep -c 'change applied' "$out/run.log") changes applied"
[ "$(docker ps -aq --filter "label=com.docker.compose.service=$svc" | wc -l)" -eq 1 ] \
  && ok "exactly one container for the service" \
  || bad "containers: $(docker ps -a --filter "label=com.docker.compose.service=$svc" --format '{{.Names}} {{.Status}}')"
python3 - "$out/state.json" "$svc" <<'PY' && ok "state: revert in the history, counted, journal empty, watch over" || bad "state after the revert"
import json, sys
s = json.load(open(sys.argv[1])); svc = sys.argv[2]; sv = s["services"][svc]
assert s["journal"] == [], s["journal"]
ev = [e for e in s["history"] if e["service"] == svc]
assert any(e.get("outcome") == "reverted" and "OOM kill" in e.get("explanation", "") for e in ev), ev
assert sv["counters"]["reverts"] == 1, sv["counters"]
assert "watch" not in sv, sv
assert sv["applied"]["memory"] == 128 << 20, sv["applied"]
PY
read -r n f < <(rm_load_counts "$out/load")
[ "$n" -gt 100 ] && [ "$f" -eq 0 ] && ok "no failed request through the balancer ($n requests, two cut-overs and an OOM kill)" \
  || { bad "$f of $n requests failed"; grep -v ' 200$' "$out/load" | head; cat "$out/load-errors" 2>/dev/null; }

cleanup
[ -z "$(left)" ] && ok "no container or network left" || bad "left behind: $(left | tr '\n' ' ')"
[ "$fails" -eq 0 ] && echo "all daemon_verify_bg checks passed" || echo "$fails daemon_verify_bg checks failed; logs in $out"
exit $((fails > 0))

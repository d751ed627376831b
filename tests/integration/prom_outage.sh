#!/usr/bin/env bash
# prom_outage.sh: the daemon reading a real Prometheus (monitoring.source
# auto, the real Docker engine behind it) that is stopped in the middle of a
# run: one log line for the outage, Prometheus named down in /health and
# /metrics while the engine stays up, no decision while it lasts (the engine
# has no container of that name to measure), one line for the recovery, and
# decisions again afterwards, on its own.
set -u
bin=${RM_BINARY:?}
. "${RM_SOURCE_DIR:?}/scripts/lib/common.sh"
out=${RM_TEST_OUTPUT:-/tmp}/prom-outage-$$
mkdir -p "$out"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
svc=rmpo-$$
trap 'rm_stop_all' EXIT

# An exporter of cAdvisor-style series: 0.9 cores used of a 1-core limit.
eport=$(rm_free_port 19500)
cat >"$out/exporter.py" <<'PY'
import http.server, sys, time
svc, port = sys.argv[1], int(sys.argv[2])
t0 = time.time()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        cpu = 0.9 * (time.time() - t0)
        lab = 'name="%s",container_label_com_docker_compose_service="%s",id="/docker/%s"' % (svc, svc, svc)
        body = "".join([
            "container_cpu_usage_seconds_total{%s} %f\n" % (lab, cpu),
            "container_spec_cpu_quota{%s} 100000\n" % lab,
            "container_spec_cpu_period{%s} 100000\n" % lab,
            "container_memory_working_set_bytes{%s} %d\n" % (lab, 100 << 20),
            "container_memory_usage_bytes{%s} %d\n" % (lab, 100 << 20),
            "container_spec_memory_limit_bytes{%s} %d\n" % (lab, 256 << 20),
            "container_start_time_seconds{%s} %f\n" % (lab, t0 - 3600),
        ]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
/usr/bin/python3 "$out/exporter.py" "$svc" "$eport" &
rm_track $!
rm_start_prometheus "$out" 19400
prom_pid=${RM_STARTED_PIDS[-1]}
printf '[{"targets":["127.0.0.1:%s"]}]\n' "$eport" >"$out/prom-targets/exporter.json"
for _ in $(seq 1 100); do
  curl -fsS -G "$RM_PROMETHEUS_URL/api/v1/query" --data-urlencode "query=container_spec_cpu_quota{name=\"$svc\"}" \
    | grep -q "$svc" && break; sleep 0.2
done

mport=$(rm_free_port $((18800 + $$ % 150)))
cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "$RM_PROMETHEUS_URL", source: auto, check_interval: 1s,
             analysis_window: 5s, query_timeout: 2s}
thresholds: {consecutive_checks: 2, min_uptime: 0}
services: {monitored: [$svc], critical: [], optional: [], baseline: {}, priority: {}}
automation: {enabled: false}
docker: {host: "${RM_TEST_DOCKER_HOST:-unix:///var/run/docker.sock}"}
notifications: {enabled: false, channels: {logfile: {enabled: false, path: "$out/x"}}}
state: {path: "$out/state.json"}
# Its own port: other suites on this host run the same test.
metrics: {port: $mport, bind_address: 127.0.0.1}
logging: {level: debug}
YML
"$bin" run --config "$out/cfg.yml" >"$out/rm.log" 2>&1 &
rmpid=$!
rm_track $rmpid
wait_log() { for _ in $(seq 1 $(( $2 * 10 ))); do grep -q -- "$1" "$out/rm.log" && return 0; sleep 0.1; done; return 1; }
wait_log "recommended: would change limits" 30 && ok "decision while Prometheus is up" || bad "no decision with Prometheus up"
# The outage.
kill -TERM "$prom_pid"; wait "$prom_pid" 2>/dev/null
wait_log "prometheus unreachable" 15 && ok "outage reported" || bad "outage not reported"
# /health names the dependency that is down, not the source standing in.
dep() { curl -fsS "http://127.0.0.1:$mport/health" | /usr/bin/python3 -c 'import json,sys; h=json.load(sys.stdin); print(h["status"], h["dependencies"]["prometheus"]["status"], h["dependencies"]["docker"]["status"])'; }
h=$(dep)
[ "$h" = "degraded down up" ] && ok "/health during the outage: $h" || bad "/health during the outage: '$h' (want degraded, prometheus down, docker up)"
m=$(curl -fsS "http://127.0.0.1:$mport/metrics" | grep '^resource_manager_dependency_up')
[ "$(printf '%s\n' "$m" | sort | tr '\n' ' ')" = 'resource_manager_dependency_up{dependency="docker"} 1 resource_manager_dependency_up{dependency="prometheus"} 0 ' ] \
  && ok "/metrics: one series per dependency, prometheus 0" || bad "/metrics dependency series: $m"
before=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["services"][sys.argv[2]]["engine"]["cpu_high"])' "$out/state.json" "$svc")
sleep 5
after=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["services"][sys.argv[2]]["engine"]["cpu_high"])' "$out/state.json" "$svc")
[ "$before" = "$after" ] && ok "no decision during the outage (counter stays $after)" || bad "engine counted during the outage ($before -> $after)"
[ "$(grep -c 'prometheus unreachable' "$out/rm.log")" -eq 1 ] && ok "one line per outage" || bad "outage logged $(grep -c 'prometheus unreachable' "$out/rm.log") times"
# Recovery on the same port, with the same data folder.
port=${RM_PROMETHEUS_URL##*:}
prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/prom-data" \
  --web.listen-address="127.0.0.1:$port" >"$out/prometheus2.log" 2>&1 &
rm_track $!
wait_log "reachable again" 30 && ok "recovery reported" || bad "no recovery"
h=$(dep)
[ "$h" = "healthy up up" ] && ok "/health after the recovery: $h" || bad "/health after the recovery: '$h'"
# rate() needs fresh samples over analysis_window again before values are
# known; then the hysteresis counter climbs check after check.
counter() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["services"][sys.argv[2]]["engine"]["cpu_high"])' "$out/state.json" "$svc"; }
seen=""
for _ in $(seq 1 40); do
  v=$(counter); seen="$seen $v"
  [ "$v" -ge 3 ] && break
  sleep 0.5
done
[ "$(counter)" -ge 3 ] && ok "decisions resume (cpu_high:$seen)" || bad "decisions did not resume (cpu_high:$seen)"
kill -TERM "$rmpid"; wait "$rmpid"; rc=$?
[ "$rc" -eq 0 ] && ok "clean stop" || bad "exit $rc"
[ "$fails" -eq 0 ] && echo "all outage checks passed" || echo "$fails outage checks failed; logs in $out"
exit $((fails > 0))

#!/usr/bin/env bash
# observe.sh: `resource-manager observe --once --format json` against the real
# Prometheus of scripts/test.sh, with a small exporter (python3) registered
# through file_sd; also the exit codes for a Prometheus that is down (2) and
# for bad arguments (1).
set -euo pipefail
: "${RM_BINARY:?}" "${RM_TEST_PROMETHEUS_URL:?}" "${RM_TEST_PROM_TARGETS_DIR:?}"

rid="obs$$$(date +%s)"
work=$(mktemp -d)
sd="$RM_TEST_PROM_TARGETS_DIR/observe_$rid.json"
exporter_pid=
cleanup() {
  rm -f "$sd"
  [ -n "$exporter_pid" ] && kill "$exporter_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Two replicas of "api" in this run's project, one without limits ("db"),
# and a look-alike ("api-worker") that must not count.
lbl() { echo "name=\"$rid-$1-$2\",container_label_com_docker_compose_service=\"$1\",container_label_com_docker_compose_project=\"$rid\""; }
cat >"$work/metrics" <<M
container_memory_working_set_bytes{$(lbl api 1)} 104857600
container_memory_working_set_bytes{$(lbl api 2)} 52428800
container_memory_working_set_bytes{$(lbl api-worker 1)} 999999999
container_memory_working_set_bytes{$(lbl db 1)} 1048576
container_spec_memory_limit_bytes{$(lbl api 1)} 268435456
container_spec_memory_limit_bytes{$(lbl api 2)} 268435456
container_spec_memory_limit_bytes{$(lbl api-worker 1)} 268435456
container_spec_memory_limit_bytes{$(lbl db 1)} 0
container_spec_cpu_quota{$(lbl api 1)} 50000
container_spec_cpu_quota{$(lbl api 2)} 50000
container_spec_cpu_period{$(lbl api 1)} 100000
container_spec_cpu_period{$(lbl api 2)} 100000
M

port_file="$work/port"
/usr/bin/python3 - "$work/metrics" "$port_file" >/dev/null 2>&1 <<'PY' &
import http.server, sys
body = open(sys.argv[1], 'rb').read()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain; version=0.0.4')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
open(sys.argv[2] + '.tmp', 'w').write(str(s.server_address[1]))
import os; os.rename(sys.argv[2] + '.tmp', sys.argv[2])
s.serve_forever()
PY
exporter_pid=$!
for _ in $(seq 1 50); do [ -s "$port_file" ] && break; sleep 0.1; done
port=$(cat "$port_file") || fail "the exporter did not start"

printf '[{"targets":["127.0.0.1:%s"],"labels":{"rmtest":"%s"}}]\n' "$port" "$rid" >"$sd.tmp"
mv "$sd.tmp" "$sd"
up=0
for _ in $(seq 1 100); do
  if curl -fsS --max-time 2 -G "$RM_TEST_PROMETHEUS_URL/api/v1/query" \
      --data-urlencode "query=up{rmtest=\"$rid\"}" | grep -q '"1"\]'; then up=1; break; fi
  sleep 0.2
done
[ "$up" -eq 1 ] || fail "Prometheus did not scrape the exporter within 20 s"

cat >"$work/config.yml" <<Y
monitoring:
  prometheus_url: "$RM_TEST_PROMETHEUS_URL"
  source: prometheus
  query_timeout: 5
  analysis_window: 10s
  trend_window: 20s
services:
  monitored: [api, db, nothing]
  critical: []
  optional: []
  stateful: []
  priority: {}
  baseline: {}
  project: "$rid"
Y

"$RM_BINARY" observe --config "$work/config.yml" --once --format json >"$work/out.json" \
  2>"$work/err" || { cat "$work/err" >&2; fail "observe exited $?"; }
/usr/bin/python3 - "$work/out.json" <<'PY' || { cat "$work/out.json" >&2; fail "unexpected observe output"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["source"] == "prometheus", d["source"]
# With services.project set: the discovery query, then one per quantity.
assert d["requests"] == 11, d["requests"]
s = {x["service"]: x for x in d["services"]}
api, db, nothing = s["api"], s["db"], s["nothing"]
assert api["containers"] == 2, api
assert api["memory"]["used"] == 157286400, api["memory"]
assert api["memory"]["limit"] == 536870912 and api["memory"]["unlimited"] is False
assert abs(api["memory"]["ratio"] - 157286400 / 536870912) < 1e-9
assert api["cpu"]["limit"] == 1.0 and api["cpu"]["unlimited"] is False
assert api["cpu"]["used"] is None and "no cpu" in api["unknown"], api
assert db["containers"] == 1
assert db["memory"]["unlimited"] is True and db["memory"]["ratio"] is None
assert db["cpu"]["unlimited"] is True and db["cpu"]["limit"] == 0
assert nothing["containers"] == 0 and nothing["memory"]["used"] is None
assert "no series for nothing" in nothing["unknown"]
PY

# Table output works too.
"$RM_BINARY" observe --config "$work/config.yml" --once >"$work/out.txt" 2>/dev/null
grep -q '^api ' "$work/out.txt" || fail "no api row in the table"

# Repeating until SIGTERM: at least two checks, then a clean exit.
sed -i "s|^  query_timeout: 5|  query_timeout: 5\n  check_interval: 1|" "$work/config.yml"
"$RM_BINARY" observe --config "$work/config.yml" --format json >"$work/loop.out" 2>"$work/loop.err" &
loop_pid=$!
sleep 2.5
kill -TERM "$loop_pid"
set +e
wait "$loop_pid"
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat "$work/loop.err" >&2; fail "observe loop exited $rc after SIGTERM"; }
n=$(grep -c '"source": "prometheus"' "$work/loop.out" || true)
[ "$n" -ge 2 ] || fail "observe loop printed $n checks in 2.5 s, want >= 2"

# Prometheus down: exit 2 with the reason.
sed -i "s|prometheus_url: .*|prometheus_url: \"http://127.0.0.1:9\"|" "$work/config.yml"
set +e
"$RM_BINARY" observe --config "$work/config.yml" --once --format json >/dev/null 2>"$work/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "down Prometheus: exit $rc, want 2"
grep -q "no metrics source answers" "$work/err" || fail "down Prometheus: no reason given"

# Bad arguments: exit 1.
set +e
"$RM_BINARY" observe --config "$work/config.yml" --format yaml >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "bad --format: exit $rc, want 1"
echo "observe.sh: OK"

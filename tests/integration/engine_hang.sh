#!/usr/bin/env bash
# engine_hang.sh: the daemon behind a Docker endpoint that accepts
# connections and never answers (a hung socket proxy). Each check waits one
# docker.timeout on the container list and asks nothing more of the engine;
# /health calls that degraded (200, docker down with the reason), never
# unhealthy (503), and checks keep completing. Stopping it is prompt.
set -u
bin=${RM_BINARY:?}
. "${RM_SOURCE_DIR:?}/scripts/lib/common.sh"
out=${RM_TEST_OUTPUT:-/tmp}/engine-hang-$$
mkdir -p "$out"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
trap 'rm_stop_all' EXIT

# A listener that takes every connection and says nothing.
hport=$(rm_free_port 19700)
/usr/bin/python3 - "$hport" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)
PY
rm_track $!
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$hport") 2>/dev/null && break; sleep 0.1; done

mport=$(rm_free_port $((18950 + $$ % 40)))
cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1s}
services: {monitored: [web], critical: [], optional: [], baseline: {}, priority: {}}
automation: {enabled: false}
docker: {host: "tcp://127.0.0.1:$hport", timeout: 2s, api_version: "1.41"}
notifications: {enabled: false, channels: {logfile: {enabled: false, path: "$out/x"}}}
state: {path: "$out/state.json"}
metrics: {port: $mport, bind_address: 127.0.0.1}
YML
# DOCKER_HOST (set by scripts/test.sh) would override docker.host.
env -u DOCKER_HOST -u PROMETHEUS_URL "$bin" run --config "$out/cfg.yml" >"$out/rm.log" 2>&1 &
rmpid=$!
rm_track $rmpid
rm_wait_http "http://127.0.0.1:$mport/health" 10 || bad "the web server did not answer"

# 12 s: six docker.timeouts, twelve intervals. Each /health answer is kept.
codes=""
end=$((SECONDS + 12))
while [ "$SECONDS" -lt "$end" ]; do
  code=$(curl -s -o "$out/health.json" -w '%{http_code}' --max-time 2 "http://127.0.0.1:$mport/health")
  codes="$codes $code"
  sleep 0.5
done
case "$codes" in
  *503*) bad "/health answered 503 while the engine hung:$codes" ;;
  *) ok "/health never unhealthy while the engine hung" ;;
esac
# The reason is in the API (the open /health names no endpoint or error).
curl -s --max-time 2 -o "$out/status.json" "http://127.0.0.1:$mport/api/v1/status"
read -r status docker detail checks < <(/usr/bin/python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))
d = h["dependencies"]["docker"]
s = [x for x in json.load(open(sys.argv[2]))["dependencies"] if x["name"] == "docker"][0]
print(h["status"], d["status"], "timed-out" if "imed out" in s.get("detail", "") else "other", h["checks"])
' "$out/health.json" "$out/status.json")
[ "$status $docker" = "degraded down" ] && ok "/health: degraded, docker down" || bad "/health: $status, docker $docker"
[ "$detail" = timed-out ] && ok "the reason is the timeout" || bad "docker detail: $(cat "$out/status.json")"
# One list per check at 2 s each: 4 or more checks in 12 s; two Engine
# calls per check (the list, then the stats' own list) leave 2.
[ "$checks" -ge 3 ] && ok "checks keep completing ($checks in 12 s)" || bad "only $checks checks completed in 12 s"
[ "$(grep -c 'docker unreachable' "$out/rm.log")" -eq 1 ] && ok "one log line for the outage" \
  || bad "outage logged $(grep -c 'docker unreachable' "$out/rm.log") times"

t0=$SECONDS
kill -TERM "$rmpid"; wait "$rmpid"; rc=$?
[ "$rc" -eq 0 ] && ok "clean stop in $((SECONDS - t0)) s" || bad "exit $rc"
[ "$fails" -eq 0 ] && echo "all engine-hang checks passed" || { echo "$fails engine-hang checks failed; logs in $out"; tail -20 "$out/rm.log"; }
exit $((fails > 0))

#!/usr/bin/env bash
# daemon_bluegreen.sh: `resource-manager run` decides on its own to raise the
# CPU of a busy Compose service (health-checked, stateless, no published
# port) and carries the change out blue-green: the copy holds the new limits,
# the Compose labels, the networks and aliases, and is healthy; the old
# container is gone and one container is left; requests sent through an
# HAProxy that finds its backends by Docker's DNS all succeed across the
# cut-over; the history records the change with its reason, the journal is
# empty afterwards, `status` shows the new limits; nothing is left behind.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
lbimg=${RM_TEST_HAPROXY_IMAGE:-rm-test/haproxy:1}
out=${RM_TEST_OUTPUT:-/tmp}/daemon-bluegreen-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
. "${RM_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$RM_SOURCE_DIR/scripts/lib/docker_test.sh"
port=$(rm_free_port $((18900 + $$ % 50)))
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
# Everything this test creates carries the project label, the copy included
# (it inherits every label): the clean-up finds it by that label.
p=rmdbg$$
svc=$p-web
web=$p-web-1
net=$p-net
pid=
loads=()
left() { docker ps -aq --filter "label=com.docker.compose.project=$p"; docker network ls -q --filter "label=com.docker.compose.project=$p"; }
cleanup() {
  [ ${#loads[@]} -gt 0 ] && kill "${loads[@]}" 2>/dev/null
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  docker ps -aq --filter "label=com.docker.compose.project=$p" | xargs -r docker rm -f >/dev/null 2>&1
  docker network ls -q --filter "label=com.docker.compose.project=$p" | xargs -r docker network rm >/dev/null 2>&1
}
trap cleanup EXIT

cat >"$out/cfg.yml" <<YML
# Checks every 2 s: at least one falls while blue and green both run, and
# the replicas the state records must still be one.
monitoring: {prometheus_url: "", source: docker, check_interval: 2s}
# 70 %: the busy loops reach it even on a host other tests keep busy.
thresholds: {cpu_high: 0.7, consecutive_checks: 2, min_uptime: 0}
adjustment: {policy: threshold, cooldown_period: 1h}
# Only the increase is under test (a starved host could make a decrease right).
automation: {enabled: true, actions: {decrease_on_low: false}}
blue_green: {strategy: auto, settle_seconds: 2, drain_seconds: 1, health_check_timeout: 20s,
             rollback_timeout: 20s}
services: {monitored: [$svc], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "$RM_TEST_DOCKER_HOST"}
notifications: {enabled: false, channels: {logfile: {enabled: false}}}
state: {path: "$out/state.json"}
metrics: {port: $port, bind_address: 127.0.0.1}
logging: {level: debug}
YML

# Blue: a Compose-style container on a user network under the alias the
# balancer resolves, busy at its CPU limit; the image has a health check.
docker network create --label com.docker.compose.project="$p" "$net" >/dev/null || { bad "network"; exit 1; }
docker run -d --pull=never --name "$web" --network "$net" --network-alias web \
  --label com.docker.compose.project="$p" --label com.docker.compose.service="$svc" \
  --label com.docker.compose.container-number=1 \
  --cpus 0.2 --memory 64m "$img" web-busy 3 8080 >/dev/null || { bad "web start"; exit 1; }
rm_haproxy_config "$out/haproxy.cfg" web 8080
docker run -d --pull=never --name "$p-lb" --network "$net" -p 127.0.0.1::8080 \
  --label com.docker.compose.project="$p" --label com.docker.compose.service="$p-lb" \
  -v "$out/haproxy.cfg:/etc/haproxy/haproxy.cfg:ro" "$lbimg" >/dev/null || { bad "haproxy start"; exit 1; }
lbport=$(docker port "$p-lb" 8080 | head -1 | sed 's/.*://')
rm_wait_healthy "$web" 20 || bad "blue never healthy"
rm_wait_http "http://127.0.0.1:$lbport/" 10 && ok "HAProxy serves the web service" || bad "HAProxy does not serve"
docker inspect "$web" >"$out/blue.json" || bad "inspect blue"
blue=$(python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["Id"])' <"$out/blue.json")

# Requests through the balancer by 4 clients, from before the daemon starts
# until after the change; one line each, "<start epoch> <HTTP status> <end epoch>" (000:
# no answer). Bounded: 500 requests per client, 75 s.
loads=()
for _ in 1 2 3 4; do rm_load_client "$out/load" "http://127.0.0.1:$lbport/" 75 500 "$out/stop-load" & loads+=($!); done

t0=$SECONDS
"$bin" run --config "$out/cfg.yml" >"$out/run.log" 2>&1 &
pid=$!
if rm_wait_log "$out/run.log" "change applied" 60; then ok "the daemon applied a change ($((SECONDS - t0)) s after its start)"
else bad "no change applied"; tail -30 "$out/run.log"; fi
# The load goes on until the daemon wants a second increase and the
# cooldown holds it: a broken cooldown would make a second change here.
rm_wait_decision "http://127.0.0.1:$port" "$svc" cooldown 40 \
  && ok "the cooldown holds a second increase under the same load" \
  || bad "no decision held by the cooldown within 40 s of the change"
touch "$out/stop-load"; wait "${loads[@]}"; loads=()

grep -q "deploying service=$svc reason=cpu_high" "$out/run.log" && ok "its own decision: cpu_high" \
  || bad "no cpu_high decision in the log"
grep -q "strategy blue-green (health-checked, stateless)" "$out/run.log" && ok "auto picked blue-green" \
  || bad "strategy not blue-green"
grep -q "change applied service=$svc strategy=blue-green" "$out/run.log" && ok "applied blue-green" \
  || bad "not applied blue-green"
[ "$(grep -c 'change applied' "$out/run.log")" -eq 1 ] && ok "exactly one change (cooldown holds)" \
  || bad "$(grep -c 'change applied' "$out/run.log") changes"

# The copy: healthy, new limits, blue's labels, networks and aliases; blue gone.
[ "$(docker ps -aq --filter "label=com.docker.compose.service=$svc" | wc -l)" -eq 1 ] \
  && ok "exactly one container for the service" \
  || bad "containers: $(docker ps -a --filter "label=com.docker.compose.service=$svc" --format '{{.Names}} {{.Status}}')"
docker inspect "$blue" >/dev/null 2>&1 && bad "the old container still exists" || ok "the old container is removed"
# Healthy (the daemon waited for it; a saturated host can delay a check).
rm_wait_healthy "$web" 20 && ok "the copy is healthy" || bad "the copy is not healthy"
docker inspect "$web" >"$out/green.json" || bad "no container named $web"
green() { python3 -c "import json, sys; c = json.load(sys.stdin)[0]; print($1)" <"$out/green.json"; }
[ "$(green 'c["Id"] != "'"$blue"'"')" = True ] && ok "a new container under the name $web" || bad "not replaced"
[ "$(green 'c["HostConfig"]["NanoCpus"], c["HostConfig"]["Memory"]')" = "250000000 67108864" ] \
  && ok "new limits: 0.2 -> 0.25 cores, memory kept" \
  || bad "limits: $(green 'c["HostConfig"]["NanoCpus"], c["HostConfig"]["Memory"]')"
[ "$(rm_labels_of <"$out/green.json")" = "$(rm_labels_of <"$out/blue.json")" ] \
  && ok "the same labels (Compose's included)" || bad "labels differ: $(rm_labels_of <"$out/green.json")"
nets0=$(rm_networks_of <"$out/blue.json")
[ "$(rm_networks_of <"$out/green.json")" = "$nets0" ] && ok "the same networks and aliases ($nets0)" \
  || bad "networks: $(rm_networks_of <"$out/green.json") (was $nets0)"
state='c["Config"]["Labels"].get("deployment.type"), c["State"]["Status"]'
[ "$(green "$state")" = "blue-green running" ] && ok "running, deployment.type=blue-green" \
  || bad "state: $(green "$state")"

# What the daemon recorded, through its API while it runs.
curl -fsS "http://127.0.0.1:$port/api/v1/history?service=$svc" >"$out/history.json" || bad "history API"
python3 - "$out/history.json" <<'PY' && ok "/api/v1/history: the blue-green deployment, cpu_high, 0.2 -> 0.25" || bad "history: $(cat "$out/history.json")"
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["events"] if e["kind"] == "deployment"]
assert len(ev) == 1, ev
e = ev[0]
assert (e["outcome"], e["strategy"], e["reason"]) == ("applied", "blue-green", "cpu_high"), e
assert abs(e["from"]["cpu"] - 0.2) < 1e-9 and abs(e["to"]["cpu"] - 0.25) < 1e-9, e
assert "cpu" in e["explanation"].lower(), e
PY
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ "$rc" -eq 0 ] && ok "daemon stops cleanly" || bad "daemon exit $rc"

# The state file: the deployment in the history with its reason, the
# counters, one replica, an empty journal.
python3 - "$out/state.json" "$svc" <<'PY' && ok "state: history, counters, one replica, empty journal" || bad "state file"
import json, sys
s = json.load(open(sys.argv[1])); sv = s["services"][sys.argv[2]]
assert s["journal"] == [], s["journal"]
deps = [e for e in s["history"] if e["service"] == sys.argv[2] and e["kind"] == "deployment"]
assert len(deps) == 1 and (deps[0]["reason"], deps[0]["strategy"]) == ("cpu_high", "blue-green"), deps
assert deps[0].get("backend") == "bluegreen", deps
c = sv["counters"]
assert c["successful_adjustments"] == 1 and c["blue_green_deployments"] == 1, c
assert abs(sv["applied"]["cpu"] - 0.25) < 1e-9 and sv["replicas"] == 1, sv
PY
"$bin" export-overrides --config "$out/cfg.yml" --output "$out/override.yml" 2>/dev/null
grep -q 'cpus: "0.25"' "$out/override.yml" && grep -q 'memory: 64M' "$out/override.yml" \
  && ok "export-overrides: 0.25 cores and 64M for the one container" \
  || { bad "export-overrides output:"; cat "$out/override.yml"; }

# The load: every request answered; requests were under way while green
# started and while blue stopped (the phases' times in the daemon's log; a
# request counts for a span when it was in flight during it).
python3 - "$out/run.log" "$out/load" <<'PY' && ok "requests through the cut-over" || bad "no requests through the cut-over"
import datetime, sys
def at(phase):
    line = next(l for l in open(sys.argv[1]) if f'"phase {phase}"' in l)
    t = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()
start, stop, done = at("create_green -> start_green"), at("drain_blue -> stop_blue"), at("finalize -> done")
t = [tuple(map(float, (l.split()[0], l.split()[2]))) for l in open(sys.argv[2])]
n_all = sum(a <= done and b >= start for a, b in t)
n_stop = sum(a <= done and b >= stop for a, b in t)
print(f"{n_all} requests in flight in the {done - start:.1f} s from green's start to done, {n_stop} while blue stopped")
assert n_all >= 10 and n_stop >= 1
PY
read -r n f < <(rm_load_counts "$out/load")
[ "$n" -gt 50 ] && [ "$f" -eq 0 ] && ok "no failed request through the balancer ($n requests)" \
  || { bad "$f of $n requests failed"; grep -v ' 200$' "$out/load" | head; cat "$out/load-errors" 2>/dev/null; }

"$bin" status --config "$out/cfg.yml" "$svc" >"$out/status.log" 2>&1
grep -q "^  $web ([0-9a-f]*): running, .*, cpu 0.25, memory 64" "$out/status.log" \
  && grep -q "blue-green applied" "$out/status.log" && ok "status shows the new limits and the deployment" \
  || { bad "status output"; cat "$out/status.log"; }

cleanup
[ -z "$(left)" ] && ok "no container or network left" || bad "left behind: $(left | tr '\n' ' ')"
[ "$fails" -eq 0 ] && echo "all daemon blue-green checks passed" || echo "$fails daemon blue-green checks failed; logs in $out"
exit $((fails > 0))

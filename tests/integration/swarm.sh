#!/usr/bin/env bash
# swarm.sh: the Swarm backend on a one-node swarm this test creates (and
# leaves) when the engine is in none; a swarm it did not create is left
# alone (the test is skipped). A service of two replicas (stack $p, service
# web, endpoint mode dnsrr on an attachable overlay network) behind a
# FROM-scratch HAProxy that resolves it through Docker's DNS, under `hey`:
#   1. a change the daemon decides (memory_high) is applied by Swarm, start-first,
#      with 0 failed requests; the history names the swarm backend; the
#      change is watched (adjustment.verify_window);
#   2. the same through `deploy web CPU MEM`;
#   3. new tasks that never become healthy (their health check fails above
#      100 MB of memory): Swarm rolls back, the old limits stay, 0 failed
#      requests, exit code 4, the history says rolled_back;
#   4. SIGKILL of `deploy` in the middle of an update, then `reconcile`: one
#      consistent spec (new limits, no change label), the history says applied;
#   5. SIGKILL and the state file deleted in the middle of an update, then a
#      daemon start: reconciled from the service's labels alone;
#   6. the Docker source, for a service with a task it cannot see (3 replicas,
#      at most 2 per node, one node): partial, sums scaled to 3 tasks.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
lbimg=${RM_TEST_HAPROXY_IMAGE:-rm-test/haproxy:1}
src=${RM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${RM_TEST_OUTPUT:-/tmp}/swarm-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
. "$src/scripts/lib/docker_test.sh"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
p=rmsw$$
svc=${p}_web
net=$p-net
port=$((20000 + $$ % 20000))
created=0 pid= dpid= lpid=
had_gwbridge=$(docker network ls -q --filter name='^docker_gwbridge$')

case "$(docker info --format '{{.Swarm.LocalNodeState}}')" in
  inactive)
    docker swarm init --advertise-addr 127.0.0.1 >"$out/swarm-init.log" 2>&1 \
      || { echo "FAIL: docker swarm init: $(cat "$out/swarm-init.log")"; exit 1; }
    created=1 ;;
  *) echo "skipped: the engine is already part of a swarm this test did not create"; exit 77 ;;
esac
cleanup() {
  [ -n "$lpid" ] && kill "$lpid" 2>/dev/null
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  [ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null
  docker service rm "$svc" "${p}_spread" >/dev/null 2>&1
  docker rm -f "$p-lb" >/dev/null 2>&1
  for _ in $(seq 1 50); do docker network rm "$net" >/dev/null 2>&1 && break; sleep 0.2; done
  if [ "$created" = 1 ]; then
    docker swarm leave --force >/dev/null 2>&1
    [ -z "$had_gwbridge" ] && docker network rm docker_gwbridge >/dev/null 2>&1
  fi
}
trap cleanup EXIT

cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 2s}
# Memory decides (CPU readings depend on how busy the shared host is).
thresholds: {cpu_high: 0.99, cpu_throttle_high: 0.99, memory_high: 0.7, consecutive_checks: 2, min_uptime: 0}
adjustment: {policy: threshold, cooldown_period: 1h, min_memory: 16M}
automation: {enabled: true, actions: {decrease_on_low: false}}
blue_green: {health_check_timeout: 30s, stability_seconds: 2}
services: {project: $p, monitored: [web], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "$RM_TEST_DOCKER_HOST"}
notifications: {enabled: false, channels: {logfile: {enabled: false}}}
state: {path: "$out/state.json"}
metrics: {port: $port, bind_address: 127.0.0.1}
YML
# (Only in the foreground: a background job must be the binary itself, so
# that its pid is the one signalled.)
cli() { "$bin" "$1" --config "$out/cfg.yml" "${@:2}"; }

load() { hey -z "$1s" -c 4 -q 20 -t 10 "http://127.0.0.1:$lbport/" >"$2" 2>&1; }
load_counts() {
  awk '/^Status code distribution:/ {s=1; next} /^Error distribution:/ {s=0; e=1; next}
       s && /\[[0-9]+\]/ {gsub(/[\[\]]/, "", $1); n+=$2; if ($1 >= 200 && $1 < 300) ok+=$2}
       e && /\[[0-9]+\]/ {gsub(/[\[\]]/, "", $1); err+=$1}
       END {printf "%d %d %d\n", ok, n, err}' "$1"
}
check_load() { # file what
  local okn n err
  read -r okn n err < <(load_counts "$1")
  if [ "$n" -gt 50 ] && [ "$okn" -eq "$n" ] && [ "$err" -eq 0 ]; then
    ok "$2: $n requests, all 2xx, none failed"
  else
    bad "$2: $okn of $n requests 2xx, $err failed"; sed -n '/Status code/,$p' "$1"
  fi
}
# "NanoCPUs MemoryBytes" per task in the spec, and a label of the spec.
limits() { docker service inspect "$svc" --format '{{.Spec.TaskTemplate.Resources.Limits.NanoCPUs}} {{.Spec.TaskTemplate.Resources.Limits.MemoryBytes}}'; }
label() { docker service inspect "$svc" --format "{{index .Spec.Labels \"$1\"}}"; }
update_state() { docker service inspect "$svc" --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}'; }
# The last deployment in the state file: "outcome backend".
last_deploy() {
  python3 - "$out/state.json" "$svc" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
d = [e for e in s["history"] if e["kind"] == "deployment"]
print(d[-1]["outcome"], d[-1].get("backend", "-") if d else "none")
PY
}
# Waits until the journal holds phase $1 (the update was sent).
wait_journal() {
  for _ in $(seq 1 300); do
    grep -q "\"$1\"" "$out/state.json" 2>/dev/null && return 0; sleep 0.1
  done
  return 1
}

docker network create -d overlay --attachable "$net" >/dev/null || { bad "overlay network"; exit 1; }
# Healthy only below 100 MB of memory (cgroup v1 or v2): a change above it
# makes tasks that never become healthy.
hc='m=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max); test "$m" -lt 100000000'
docker service create --detach --name "$svc" --network name="$net",alias=web \
  --label com.docker.stack.namespace="$p" --container-label com.docker.stack.namespace="$p" \
  --endpoint-mode dnsrr --replicas 2 --limit-cpu 0.2 --limit-memory 48m \
  --update-order start-first --update-failure-action rollback --update-monitor 2s \
  --health-cmd "$hc" --health-interval 2s --health-retries 3 --health-start-period 2s \
  --no-resolve-image "$img" web-alloc 36 8080 >/dev/null || { bad "service create"; exit 1; }
rm_haproxy_config "$out/haproxy.cfg" web 8080
# Docker's DNS answers slowly while Swarm moves tasks: keep the last good
# answer through a timeout or a refusal instead of dropping every server.
sed -i 's/^  hold nx 1s$/  hold nx 1s\n  hold timeout 30s\n  hold refused 30s\n  hold other 30s/' "$out/haproxy.cfg"
docker run -d --pull=never --name "$p-lb" --network "$net" -p 127.0.0.1::8080 \
  -v "$out/haproxy.cfg:/etc/haproxy/haproxy.cfg:ro" "$lbimg" >/dev/null || { bad "haproxy start"; exit 1; }
lbport=$(docker port "$p-lb" 8080 | head -1 | sed 's/.*://')
for _ in $(seq 1 150); do
  [ "$(docker service ls --filter name="$svc" --format '{{.Replicas}}')" = "2/2" ] && break; sleep 0.2
done
for _ in $(seq 1 50); do curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$lbport/" && break; sleep 0.2; done
curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$lbport/" && ok "HAProxy serves the Swarm service" \
  || bad "HAProxy does not serve ($(docker service ps "$svc" --format '{{.CurrentState}} {{.Error}}' | head -3))"

# 1. A change the daemon decides.
load 25 "$out/load1" & lpid=$!
t0=$SECONDS
"$bin" run --config "$out/cfg.yml" >"$out/run.log" 2>&1 & pid=$!
if rm_wait_log "$out/run.log" "change applied" 60; then ok "the daemon applied a change ($((SECONDS - t0)) s)"
else bad "no change applied"; tail -30 "$out/run.log"; fi
# The watch after a change (adjustment.verify_window, 10 minutes by default)
# covers the swarm backend too.
for _ in $(seq 1 20); do
  curl -fsS "http://127.0.0.1:$port/api/v1/services/web" >"$out/web.json" 2>/dev/null \
    && python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["watch"]; assert w and w["memory_to"] > w["memory_from"]' "$out/web.json" 2>/dev/null && break
  sleep 0.2
done
python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["watch"]; assert w and w["memory_to"] > w["memory_from"], w' "$out/web.json" \
  && ok "the Swarm change is being watched" || bad "no watch after the Swarm change: $(head -c 300 "$out/web.json")"
kill -TERM "$pid"; wait "$pid"; pid=
wait "$lpid"; lpid=
check_load "$out/load1" "daemon-decided Swarm update under load"
grep -q "change applied service=web" "$out/run.log" && grep -q "backend swarm" "$out/run.log" \
  && ok "the daemon went through the swarm backend" || bad "backend: $(grep -m3 'backend\|strategy' "$out/run.log")"
read -r cpu1 mem1 < <(limits)
[ "$cpu1" = 200000000 ] && [ "$mem1" -gt 50331648 ] && [ "$mem1" -lt 100000000 ] \
  && ok "the spec holds the raised memory ($mem1 per task)" \
  || bad "spec limits after the daemon: $cpu1 $mem1"
[ "$(last_deploy)" = "applied swarm" ] && ok "history: applied by the swarm backend" || bad "history: $(last_deploy)"
[ -z "$(label resource-manager.change)" ] && [ -n "$(label resource-manager.last_good)" ] \
  && ok "labels: no change in progress, last known good kept" || bad "labels: change='$(label resource-manager.change)'"

# 2. deploy SERVICE CPU MEM under load.
load 25 "$out/load2" & lpid=$!
sleep 1
cli deploy web 1 160M >"$out/deploy2.log" 2>&1; rc=$?
wait "$lpid"; lpid=
cat "$out/deploy2.log"
[ "$rc" -eq 0 ] && ok "deploy exit 0" || bad "deploy exit $rc"
[ "$(limits)" = "500000000 83886080" ] && ok "half of 1 core and 160M per task in the spec" || bad "spec: $(limits)"
[ "$(docker service inspect "$svc" --format '{{.Spec.UpdateConfig.Order}} {{.Spec.UpdateConfig.FailureAction}}')" = "start-first rollback" ] \
  && ok "UpdateConfig start-first, rollback on failure" || bad "UpdateConfig: $(docker service inspect "$svc" --format '{{json .Spec.UpdateConfig}}')"
check_load "$out/load2" "deploy through Swarm under load"
[ "$(label resource-manager.last_good)" = "cpu=1.000 memory=167772160" ] && ok "last known good label: the new limits" \
  || bad "last_good label: $(label resource-manager.last_good)"

# 3. New tasks never healthy: Swarm rolls back.
load 30 "$out/load3" & lpid=$!
sleep 1
cli deploy web 1 256M >"$out/deploy3.log" 2>&1; rc=$?
wait "$lpid"; lpid=
cat "$out/deploy3.log"
[ "$rc" -eq 4 ] && ok "never healthy: exit 4" || bad "never healthy: exit $rc"
[ "$(limits)" = "500000000 83886080" ] && ok "old limits kept after the rollback" || bad "spec: $(limits)"
[ "$(update_state)" = rollback_completed ] && ok "UpdateStatus rollback_completed" || bad "UpdateStatus $(update_state)"
[ "$(last_deploy)" = "rolled_back swarm" ] && ok "history: rolled_back" || bad "history: $(last_deploy)"
[ -z "$(label resource-manager.change)" ] && ok "no change label left" || bad "change label left"
check_load "$out/load3" "rollback under load"

# 4. SIGKILL in the middle of an update, then reconcile.
"$bin" deploy --config "$out/cfg.yml" web 0.8 160M >"$out/deploy4.log" 2>&1 & dpid=$!
wait_journal wait_healthy || bad "the journal never reached wait_healthy"
kill -9 "$dpid"; wait "$dpid" 2>/dev/null; dpid=
[ -n "$(label resource-manager.change)" ] && ok "killed mid-update: the change label is in the spec" \
  || bad "no change label mid-update"
cli reconcile web >"$out/reconcile4.log" 2>&1; rc=$?
cat "$out/reconcile4.log"
[ "$rc" -eq 0 ] && ok "reconcile exit 0" || bad "reconcile exit $rc"
[ "$(limits)" = "400000000 83886080" ] && [ -z "$(label resource-manager.change)" ] \
  && ok "one consistent spec: the new limits, no change label" || bad "spec $(limits), change '$(label resource-manager.change)'"
[ "$(last_deploy)" = "applied swarm" ] && ok "history: applied (reconciled)" || bad "history: $(last_deploy)"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["journal"] == []' "$out/state.json" \
  && ok "journal empty" || bad "journal left: $(cat "$out/state.json")"

# 5. SIGKILL and the state file lost mid-update: a daemon start reconciles
# from the labels alone.
"$bin" deploy --config "$out/cfg.yml" web 0.6 160M >"$out/deploy5.log" 2>&1 & dpid=$!
wait_journal wait_healthy || bad "the journal never reached wait_healthy (5)"
kill -9 "$dpid"; wait "$dpid" 2>/dev/null; dpid=
rm -f "$out/state.json"
"$bin" run --config "$out/cfg.yml" >"$out/run5.log" 2>&1 & pid=$!
if rm_wait_log "$out/run5.log" "interrupted deployment reconciled" 60; then ok "the daemon reconciled from the labels"
else bad "no reconcile at start"; tail -20 "$out/run5.log"; fi
kill -TERM "$pid"; wait "$pid"; pid=
[ "$(limits)" = "300000000 83886080" ] && [ -z "$(label resource-manager.change)" ] \
  && ok "labels-only reconcile: new limits, no change label" || bad "spec $(limits), change '$(label resource-manager.change)'"
[ "$(last_deploy)" = "applied swarm" ] && ok "history of the fresh state: applied" || bad "history: $(last_deploy)"

# 6. A task elsewhere: the third replica finds no node that may take it.
docker service create --detach --name "${p}_spread" --label com.docker.stack.namespace="$p" \
  --container-label com.docker.stack.namespace="$p" --replicas 3 --replicas-max-per-node 2 \
  --limit-cpu 0.1 --limit-memory 32m --no-resolve-image "$img" idle >/dev/null || bad "spread create"
for _ in $(seq 1 100); do
  [ "$(docker ps -q --filter label=com.docker.swarm.service.name="${p}_spread" | wc -l)" -eq 2 ] && break; sleep 0.2
done
sed 's/monitored: \[web\]/monitored: [spread]/' "$out/cfg.yml" >"$out/cfg6.yml"
"$bin" observe --config "$out/cfg6.yml" --once >"$out/observe6.log" 2>&1
cat "$out/observe6.log"
grep -q "partial: 2 of 3 tasks of ${p}_spread on this node" "$out/observe6.log" \
  && grep -Eq "^spread +3 " "$out/observe6.log" && ok "Docker source: 2 of 3 tasks seen, partial, scaled to 3" \
  || bad "Docker source did not mark the service partial"

[ "$fails" -eq 0 ] && echo "all Swarm checks passed" || echo "$fails Swarm checks failed; logs in $out"
exit $((fails > 0))

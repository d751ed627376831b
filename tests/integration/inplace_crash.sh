#!/usr/bin/env bash
# inplace_crash.sh: an in-place update is journaled before it is sent, so a
# manager killed between the update and its record finds it again:
#   1. a real `deploy --strategy in-place` leaves no journal entry behind and
#      records the change;
#   2. the engine holds the new limits (the update went through before the
#      kill): `reconcile` records it as applied, the journal is emptied;
#   3. the engine holds the old limits (it never left): nothing is recorded,
#      the journal is emptied; shown twice: from a `deploy` SIGKILLed after
#      its journal entry and before its update (the test-only pause), and
#      from a journal entry written here;
#   4. the daemon, started on such a journal (a memory cut that went
#      through), records it and watches it (adjustment.verify_window).
# The journal entries of 2-4 are what run_in_place writes before its first
# update: the one step 1 saw in flight is compared with them.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
out=${RM_TEST_OUTPUT:-/tmp}/inplace-crash-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
. "${RM_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$RM_SOURCE_DIR/scripts/lib/docker_test.sh"
port=$(rm_free_port $((18750 + $$ % 50)))
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
svc=rmic-$$
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  docker rm -f "$svc" >/dev/null 2>&1
}
trap cleanup EXIT

cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 2s}
adjustment: {policy: threshold, verify_window: 10m, min_memory: 16M}
automation: {enabled: false}
blue_green: {strategy: in-place}
services: {monitored: [$svc], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "$RM_TEST_DOCKER_HOST"}
notifications: {enabled: false, channels: {logfile: {enabled: false}}}
state: {path: "$out/state.json"}
metrics: {port: $port, bind_address: 127.0.0.1}
logging: {level: debug}
YML
memory() { docker inspect "$svc" --format '{{.HostConfig.Memory}}'; }
docker run -d --pull=never --name "$svc" --label com.docker.compose.service="$svc" --cpus 0.5 \
  --memory 128m "$img" idle >/dev/null || { bad "workload start"; exit 1; }

# 1. A real in-place deploy: the journal entry it wrote is gone, the change
# recorded.
"$bin" deploy --config "$out/cfg.yml" --strategy in-place "$svc" 0.5 64M >"$out/deploy.log" 2>&1 \
  && [ "$(memory)" = 67108864 ] && ok "deploy in place: 64 MiB" || { bad "deploy: $(memory)"; cat "$out/deploy.log"; }
python3 - "$out/state.json" "$svc" <<'PY' && ok "recorded, journal empty" || bad "state after deploy"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["journal"] == [], s["journal"]
d = [e for e in s["history"] if e["kind"] == "deployment"]
assert d and d[-1]["outcome"] == "applied" and d[-1]["backend"] == "inplace", d
PY

# A state file whose journal holds an in-place update of svc from -> to
# (MiB), as run_in_place writes it before its first update.
journal() { # from_mib to_mib
  python3 - "$out/state.json" "$svc" "$1" "$2" <<'PY'
import json, sys
path, svc, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = json.load(open(path))
s["journal"] = [{"service": svc, "phase": "prepare", "entered": 0, "started": 0,
                 "rollback_enabled": True, "blue_stopped": False,
                 "from": {"cpu": 0.5, "memory": a << 20}, "to": {"cpu": 0.5, "memory": b << 20},
                 "strategy": "in-place", "backend": "inplace"}]
s["services"].get(svc, {}).pop("watch", None)
json.dump(s, open(path, "w"))
PY
}
deployments() {
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(len([e for e in s["history"] if e["kind"] == "deployment"]))' "$out/state.json"
}

# 2. Killed after the update went through (the engine holds 64 MiB).
journal 128 64
n0=$(deployments)
"$bin" reconcile --config "$out/cfg.yml" "$svc" >"$out/reconcile2.log" 2>&1 \
  && ok "reconcile exit 0" || { bad "reconcile exit"; cat "$out/reconcile2.log"; }
grep -q "had reached the engine" "$out/reconcile2.log" && ok "reconcile says the update went through" \
  || { bad "reconcile output"; cat "$out/reconcile2.log"; }
python3 - "$out/state.json" "$svc" "$n0" <<'PY' && ok "recorded as applied (reconciled), journal empty" || bad "state after reconcile 2"
import json, sys
s = json.load(open(sys.argv[1])); n0 = int(sys.argv[3])
assert s["journal"] == [], s["journal"]
d = [e for e in s["history"] if e["kind"] == "deployment"]
assert len(d) == n0 + 1 and d[-1]["outcome"] == "applied" and d[-1]["reason"] == "reconciled", d
assert d[-1]["to"]["memory"] == 64 << 20, d[-1]
PY

# 3a. A deploy SIGKILLed after journaling, before its update.
RM_TEST_PAUSE_IN_PHASE=in_place "$bin" deploy --config "$out/cfg.yml" --strategy in-place "$svc" 0.5 32M \
  >"$out/deploy-paused.log" 2>&1 &
dpid=$!
for _ in $(seq 1 100); do grep -q "paused in phase in_place" "$out/deploy-paused.log" && break; sleep 0.1; done
kill -9 "$dpid"; wait "$dpid" 2>/dev/null
python3 - "$out/state.json" "$svc" <<'PY' && ok "killed deploy: its update is in the journal (write-ahead)" || { bad "no journal entry"; cat "$out/deploy-paused.log"; }
import json, sys
j = json.load(open(sys.argv[1]))["journal"]
assert len(j) == 1 and j[0]["service"] == sys.argv[2] and j[0]["backend"] == "inplace", j
assert j[0]["from"]["memory"] == 64 << 20 and j[0]["to"]["memory"] == 32 << 20, j
PY
n0=$(deployments)
"$bin" reconcile --config "$out/cfg.yml" "$svc" >"$out/reconcile3a.log" 2>&1 \
  && grep -q "never reached the engine" "$out/reconcile3a.log" && [ "$(memory)" = 67108864 ] \
  && [ "$(deployments)" = "$n0" ] && ok "reconcile: never reached the engine, nothing recorded, 64 MiB kept" \
  || { bad "reconcile after the killed deploy"; cat "$out/reconcile3a.log"; }
# 3b. The same from a journal entry written here.
journal 64 32
n0=$(deployments)
"$bin" reconcile --config "$out/cfg.yml" "$svc" >"$out/reconcile3.log" 2>&1 \
  && ok "reconcile exit 0" || { bad "reconcile exit"; cat "$out/reconcile3.log"; }
grep -q "never reached the engine" "$out/reconcile3.log" && ok "reconcile says nothing changed" \
  || { bad "reconcile output"; cat "$out/reconcile3.log"; }
[ "$(memory)" = 67108864 ] && ok "limits untouched" || bad "memory $(memory)"
python3 - "$out/state.json" "$n0" <<'PY' && ok "nothing recorded, journal empty" || bad "state after reconcile 3"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["journal"] == [], s["journal"]
assert len([e for e in s["history"] if e["kind"] == "deployment"]) == int(sys.argv[2])
PY

# 4. The daemon starts on a journal whose memory cut went through: recorded
# and watched.
journal 128 64
"$bin" run --config "$out/cfg.yml" >"$out/run.log" 2>&1 &
pid=$!
rm_wait_log "$out/run.log" "interrupted deployment reconciled.*service=$svc outcome=applied" 20 \
  && ok "the daemon reconciles the in-place update at start-up" || { bad "no reconcile at start-up"; tail -20 "$out/run.log"; }
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/api/v1/services/$svc" >"$out/svc.json" 2>/dev/null \
    && python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["watch"]; assert w["memory_to"] == 64 << 20' "$out/svc.json" 2>/dev/null && break
  sleep 0.2
done
python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["watch"]; assert w["memory_from"] == 128 << 20 and w["memory_to"] == 64 << 20, w' "$out/svc.json" \
  && ok "the reconciled memory cut is watched" || bad "no watch: $(head -c 300 "$out/svc.json")"
kill -TERM "$pid"; wait "$pid"; pid=

[ "$fails" -eq 0 ] && echo "all in-place crash checks passed" || echo "$fails in-place crash checks failed; logs in $out"
exit $((fails > 0))

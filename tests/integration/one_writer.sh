#!/usr/bin/env bash
# one_writer.sh: `deploy` from the CLI while the daemon runs on the same state
# file (issue 17): every CLI deployment record survives the daemon's saves,
# the CLI's journal entry stays in the file while its deployment is in
# flight, and the daemon takes no decision for that service meanwhile.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
out=${RM_TEST_OUTPUT:-/tmp}/one-writer-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
. "${RM_SOURCE_DIR:?}/scripts/lib/common.sh"
port=$(rm_free_port $((18800 + $$ % 200)))
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
svc=rmw-$$
pid=
cleanup() {
  [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null
  docker ps -aq --filter "label=com.docker.compose.service=$svc" | xargs -r docker rm -f >/dev/null 2>&1
}
trap cleanup EXIT

# The daemon checks every second and saves its state each time; its
# thresholds never fire (the workload idles), so only the CLI deploys.
cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1s}
thresholds: {consecutive_checks: 2, min_uptime: 0}
blue_green: {stability_seconds: 3s, settle_seconds: 1s, drain_seconds: 0s}
services: {monitored: [$svc], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "$RM_TEST_DOCKER_HOST"}
automation: {actions: {decrease_on_low: false}}
notifications:
  channels:
    alertmanager: {enabled: false}
    logfile: {enabled: false, path: "$out/unused.log"}
state: {path: "$out/state.json"}
metrics: {port: $port, bind_address: 127.0.0.1}
logging: {level: debug}
YML
docker run -d --pull=never --name "$svc" --label com.docker.compose.service="$svc" \
  --cpus 0.5 --memory 64m --no-healthcheck "$img" idle >/dev/null || { bad "workload start"; exit 1; }

"$bin" run --config "$out/cfg.yml" >"$out/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s "$out/state.json" ] && break; sleep 0.1; done

# 1. In-place deployments from the CLI, each between two of the daemon's saves.
n=4
for i in $(seq 1 $n); do
  mem=$((64 + 8 * i))
  "$bin" deploy "$svc" 0.5 "${mem}M" --strategy in-place --config "$out/cfg.yml" >>"$out/cli.log" 2>&1 \
    || bad "deploy $i exit $?"
  sleep 1.5 # the daemon saves at least once in between
done

# The per-service deploy lock: while another process holds it, `deploy`
# refuses with exit 2 and touches nothing.
flock "$out/.deploy-$svc.lock" sleep 3 &
holder=$!
sleep 0.3
"$bin" deploy "$svc" 0.5 200M --strategy in-place --config "$out/cfg.yml" >"$out/locked.log" 2>&1
rc=$?
wait "$holder"
if [ "$rc" -eq 2 ] && grep -q "another deployment of $svc is in progress" "$out/locked.log" \
   && [ "$(docker inspect "$svc" --format '{{.HostConfig.Memory}}')" != $((200 << 20)) ]; then
  ok "the per-service deploy lock refuses a second deployment (exit 2)"
else
  bad "deploy under another's lock: exit $rc, memory $(docker inspect "$svc" --format '{{.HostConfig.Memory}}')"
fi

# 2. A blue-green from the CLI: its journal entry must stay in the file, and
# the daemon must see it, while green waits for its stability period. The
# daemon is restarted meanwhile: it must leave the CLI's deployment in
# flight to the CLI (not "finish" it as if interrupted).
kill -TERM "$pid"; wait "$pid"
"$bin" deploy "$svc" 0.75 96M --strategy blue-green --force --config "$out/cfg.yml" \
  >"$out/bg.log" 2>&1 &
cli=$!
for _ in $(seq 1 100); do grep -q '"phase"' "$out/state.json" && break; sleep 0.05; done
"$bin" run --config "$out/cfg.yml" >>"$out/daemon.log" 2>&1 &
pid=$!
seen_journal=0
while kill -0 "$cli" 2>/dev/null; do
  grep -q "\"phase\"" "$out/state.json" 2>/dev/null && seen_journal=$((seen_journal+1))
  sleep 0.2
done
wait "$cli"; rc=$?
[ "$rc" -eq 0 ] && ok "blue-green from the CLI applied" || { bad "blue-green exit $rc"; cat "$out/bg.log"; }
sleep 2.5
kill -TERM "$pid"; wait "$pid"; pid=

python3 - "$out/state.json" "$svc" "$n" <<'PY' && ok "every CLI record survived the daemon's saves" || bad "CLI records lost (state above)"
import json, sys
path, svc, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = json.load(open(path))
c = s["services"][svc]["counters"]
deps = [e for e in s.get("history", []) if e.get("service") == svc and e.get("kind") == "deployment"]
ok = c.get("total_adjustments") == n + 1 and len(deps) == n + 1 and not s.get("journal")
ok = ok and s["services"][svc]["applied"]["memory"] == 96 << 20
if not ok:
    print(json.dumps({"counters": c, "deployments": len(deps), "journal": s.get("journal"),
                      "applied": s["services"][svc].get("applied")}, indent=1))
sys.exit(0 if ok else 1)
PY
[ "$seen_journal" -gt 0 ] && ok "the CLI's journal entry stayed in the file while in flight ($seen_journal looks)" \
  || bad "the CLI's journal entry never seen in the file during its blue-green"
grep -q "a deployment by another process is in flight, left to it" "$out/daemon.log" \
  && ok "the daemon, started during the CLI's deployment, left it to the CLI" \
  || bad "the daemon did not leave the CLI's deployment alone at its start"
grep -q "a deployment by another process is in flight, no decision" "$out/daemon.log" \
  && ok "the daemon saw the CLI's deployment and held its decisions" \
  || bad "the daemon never noticed the CLI's deployment"
if grep -E "deploying\s+service=$svc|would change limits" "$out/daemon.log" >/dev/null; then
  bad "the daemon decided for $svc during the CLI's deployments"
else
  ok "no decision of the daemon for $svc"
fi
[ "$fails" -eq 0 ] && echo "PASS" || { echo "$fails failure(s); logs in $out"; exit 1; }

#!/usr/bin/env bash
# bluegreen_crash.sh: `resource-manager deploy` killed with SIGKILL in each
# blue-green phase in turn (the test-only RM_TEST_PAUSE_IN_PHASE holds it
# there, after the phase is journaled and before its side effect). Then the
# reconciliation — from the journal in the state file, or from the
# deployment.* labels when the state file is gone, or by `run` at start-up —
# must leave exactly one healthy container under the service's name, with
# either the old or the new limits, its network alias (blue leaves it in
# unlist_blue: killed in drain_blue, the roll back must give it back), and
# no leftovers.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
out=${RM_TEST_OUTPUT:-/tmp}/bluegreen-crash-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
. "${RM_SOURCE_DIR:?}/scripts/lib/docker_test.sh"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
p=rmbgk$$
svc=$p-web
name=$p-web-1
net=$p-net
dpid=
cleanup() {
  [ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null
  docker ps -aq --filter "label=com.docker.compose.service=$svc" | xargs -r docker rm -f >/dev/null 2>&1
  docker network rm "$net" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup

cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1h}
services: {monitored: [$svc]}
blue_green: {settle_seconds: 0.2, drain_seconds: 0.2, health_check_timeout: 20}
docker: {host: "$RM_TEST_DOCKER_HOST"}
notifications: {enabled: false}
state: {path: "$out/state.json"}
metrics: {enabled: false}
YML

# A subnet of the test's own (10.199.N.0/24, outside Docker's default
# pools): there the engine lets the manager ask for blue's address when it
# connects blue again without its aliases, and blue must keep it.
for n in $(( $$ % 250 )) $(( ($$ + 83) % 250 )) $(( ($$ + 167) % 250 )); do
  docker network create --subnet "10.199.$n.0/24" "$net" >/dev/null 2>&1 && break
done
docker network inspect "$net" >/dev/null 2>&1 || { bad "network"; exit 1; }
docker run -d --pull=never --name "$name" --label com.docker.compose.service="$svc" \
  --network "$net" --network-alias web \
  --cpus 0.5 --memory 64m "$img" http 8080 >/dev/null || { bad "start"; exit 1; }
rm_wait_healthy "$name" 20 || bad "blue never healthy"
ip_of() { docker inspect "$1" --format "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" 2>/dev/null; }

limits=(0.5:67108864 0.6:83886080)
cur=0 # index of the limits in place
# check CASE: one healthy container named $name, old or new limits, no leftover.
check() {
  local what=$1 nets
  rm_check_one_serving "$what" "$svc" "$name" 15 500000000:67108864 600000000:83886080 \
    && cur=$rm_limits_index
  nets=$(docker inspect "$name" 2>/dev/null | rm_networks_of)
  [ "$nets" = "$net=web" ] || bad "$what: networks '$nets', not '$net=web'"
}

# Starts a deployment that pauses in $1 and SIGKILLs it there.
kill_in() {
  local phase=$1 target=$(( 1 - cur )) cpu mem
  ip_before=$(ip_of "$name")
  cpu=${limits[$target]%%:*}
  mem=$(( ${limits[$target]##*:} / 1048576 ))M
  RM_TEST_PAUSE_IN_PHASE=$phase "$bin" deploy --config "$out/cfg.yml" "$svc" "$cpu" "$mem" \
    >"$out/deploy-$phase.log" 2>&1 &
  dpid=$!
  if rm_wait_log "$out/deploy-$phase.log" "paused in phase $phase" 30; then
    kill -9 "$dpid"; wait "$dpid" 2>/dev/null; dpid=
    return 0
  fi
  bad "$phase: never paused"; cat "$out/deploy-$phase.log"
  kill -9 "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; dpid=
  return 1
}

phases=(prepare create_green start_green wait_healthy list_green settle verify unlist_blue drain_blue stop_blue remove_blue finalize)
label_phases=(start_green settle drain_blue stop_blue remove_blue finalize)
# The sanitizer tree repeats a representative subset (the suite's time is bounded).
if [ "${RM_TEST_SANITIZED:-0}" = 1 ]; then
  phases=(create_green wait_healthy drain_blue stop_blue finalize)
  label_phases=(stop_blue)
fi
# From the journal.
for ph in "${phases[@]}"; do
  kill_in "$ph" || continue
  grep -q "\"phase\": *\"$ph\"\|\"$ph\"" "$out/state.json" 2>/dev/null \
    || bad "$ph: the journal does not hold the phase"
  # Until list_green green has no alias (DNS does not know it while it starts).
  if [ "$ph" = list_green ]; then
    g=$(docker ps -q --filter "name=^/$name-rm-" | head -1)
    [ -n "$g" ] && [ "$(docker inspect "$g" | rm_networks_of)" = "$net=" ] && ok "list_green: green has no alias yet" \
      || bad "list_green: green on $( [ -n "$g" ] && docker inspect "$g" | rm_networks_of)"
  fi
  # In drain_blue blue has left its alias already: what reconcile gives back.
  if [ "$ph" = drain_blue ]; then
    [ "$(docker inspect "$name" | rm_networks_of)" = "$net=" ] && [ "$(ip_of "$name")" = "$ip_before" ] \
      && ok "drain_blue: blue had left its alias, at its address $ip_before" \
      || bad "drain_blue: blue on $(docker inspect "$name" | rm_networks_of) at $(ip_of "$name") (was $ip_before)"
  fi
  # The journal names the backend that wrote it; in one phase it is taken
  # out, as a file written before backends existed: the strategy says.
  python3 - "$out/state.json" "$ph" <<'PY' || bad "$ph: the journal does not name the bluegreen backend"
import json, sys
path, ph = sys.argv[1], sys.argv[2]
s = json.load(open(path)); j = s["journal"]
assert len(j) == 1 and j[0].get("backend") == "bluegreen", j
if ph == "wait_healthy":
    del j[0]["backend"]
    json.dump(s, open(path, "w"))
PY
  "$bin" reconcile --config "$out/cfg.yml" "$svc" >"$out/reconcile-$ph.log" 2>&1
  rc=$?
  [ "$rc" -eq 0 ] || { bad "$ph: reconcile exit $rc"; cat "$out/reconcile-$ph.log"; }
  check "killed in $ph, journal"
done
# Without the journal (state file lost): the deployment.* labels.
for ph in "${label_phases[@]}"; do
  kill_in "$ph" || continue
  rm -f "$out/state.json"
  "$bin" reconcile --config "$out/cfg.yml" "$svc" >"$out/reconcile-labels-$ph.log" 2>&1
  rc=$?
  [ "$rc" -eq 0 ] || { bad "$ph: label reconcile exit $rc"; cat "$out/reconcile-labels-$ph.log"; }
  check "killed in $ph, labels only"
done
# The daemon reconciles its journal at start-up.
if kill_in remove_blue; then
  "$bin" run --config "$out/cfg.yml" >"$out/run.log" 2>&1 &
  rpid=$!
  rm_wait_log "$out/run.log" "interrupted deployment reconciled" 30 && ok "run reconciles at start-up" \
    || { bad "run did not reconcile"; tail -20 "$out/run.log"; }
  kill -TERM "$rpid"; wait "$rpid"
  check "killed in remove_blue, daemon start-up"
fi

[ "$fails" -eq 0 ] && echo "all crash-recovery checks passed" || echo "$fails crash-recovery checks failed; logs in $out"
exit $((fails > 0))

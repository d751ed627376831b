#!/usr/bin/env bash
# dockerd_restart.sh: the Docker daemon restarted in each blue-green phase of a
# `resource-manager deploy`. The test runs its own dockerd (its own data root,
# exec root, pidfile, unix socket and network, in a temp folder; the shared
# engine is never touched): the deploy pauses in a phase (the test-only
# RM_TEST_PAUSE_IN_PHASE, after the phase is journaled, before its side
# effect), the daemon is stopped by its PID, the deploy resumes and meets an
# engine that is gone, the daemon starts again a moment later. What the user
# sees is checked per phase: the exit code and message documented in
# docs/troubleshooting.md; then, after `reconcile`, exactly one healthy
# container under the service's name with either the old or the new limits,
# no copy left behind, an empty journal, and the deployment in the history.
# Needs root and dockerd on PATH; else skipped.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
[ "$(id -u)" = 0 ] && command -v dockerd >/dev/null || { echo "skipped: needs root and dockerd"; exit 77; }
out=${RM_TEST_OUTPUT:-/tmp}/dockerd-restart-$$
mkdir -p "$out"
. "${RM_SOURCE_DIR:?}/scripts/lib/docker_test.sh"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }

# A short folder: the unix socket's path must fit in 108 bytes.
w=$(mktemp -d /tmp/rm-dkr.XXXXXX)
sock=$w/d.sock
export DOCKER_HOST=unix://$sock
dkpid= # the private dockerd
rpid=  # the deploy under test
dmpid= # the daemon under test
net=
netlink= # the user-defined network's bridge (br-<id>)
# The private engine's default bridge: one of its own. Never --bridge=none:
# dockerd then deletes the host's docker0, the shared engine's bridge. Never
# the default name either (it would take over docker0).
br=rmdkr$(( $$ % 100000 ))
sub=$(( $$ % 250 ))
start_dockerd() {
  # No proxy and no resolver: the private engine reaches nothing outside;
  # no iptables rules, no forwarding switch.
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY= \
    dockerd --data-root "$w/data" --exec-root "$w/exec" --pidfile "$w/dockerd.pid" \
    --host "unix://$sock" --bridge="$br" --iptables=false --ip-masq=false --ip-forward=false \
    --dns 127.0.0.1 >>"$out/dockerd.log" 2>&1 &
  dkpid=$!
  for _ in $(seq 1 200); do
    docker version >/dev/null 2>&1 && return 0
    kill -0 "$dkpid" 2>/dev/null || break
    sleep 0.1
  done
  echo "private dockerd did not start"; tail -20 "$out/dockerd.log"
  return 1
}
stop_dockerd() {
  [ -n "$dkpid" ] || return 0
  kill -TERM "$dkpid" 2>/dev/null
  for _ in $(seq 1 300); do kill -0 "$dkpid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$dkpid" 2>/dev/null && kill -9 "$dkpid" 2>/dev/null
  wait "$dkpid" 2>/dev/null
  dkpid=
}
cleanup() {
  [ -z "$rpid" ] || kill -9 "$rpid" 2>/dev/null
  [ -z "$dmpid" ] || kill -9 "$dmpid" 2>/dev/null
  if [ -n "$dkpid" ]; then
    docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1
    [ -z "$net" ] || docker network rm "$net" >/dev/null 2>&1
  fi
  stop_dockerd
  # The containerd this dockerd started, should it outlive a SIGKILL.
  local cp
  cp=$(cat "$w/exec/containerd/containerd.pid" 2>/dev/null)
  [ -n "$cp" ] && kill -0 "$cp" 2>/dev/null && kill -9 "$cp" 2>/dev/null
  findmnt -rn -o TARGET | grep "^$w/" | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$w"
  [ -z "$netlink" ] || ip link del "$netlink" 2>/dev/null
  ip link del "$br" 2>/dev/null
}
trap cleanup EXIT
# Stopped from outside (ctest, ^C): the same clean-up.
trap 'exit 143' TERM
trap 'exit 130' INT

# The host's docker0 (the shared engine's) must be the same link at the end.
docker0=$(cat /sys/class/net/docker0/ifindex 2>/dev/null)
ip link add name "$br" type bridge && ip addr add "10.232.$sub.1/24" dev "$br" \
  && ip link set "$br" up || { bad "bridge $br"; exit 1; }
start_dockerd || exit 1
DOCKER_HOST=$RM_TEST_DOCKER_HOST docker save "$img" | docker load >/dev/null || { bad "image load"; exit 1; }
# A network of its own on a range nothing else here uses (the shared engine
# keeps 172.16/12's defaults).
p=rmdkr$$
for i in 0 1 2 3 4 5 6 7; do
  docker network create --subnet "10.231.$(( ($$ + i) % 250 )).0/24" "$p-net" >/dev/null 2>&1 \
    && { net=$p-net; break; }
done
[ -n "$net" ] || { bad "network create"; exit 1; }
netlink=br-$(docker network inspect "$net" --format '{{.Id}}' | cut -c1-12)
svc=$p-web
name=$p-web-1

cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1h}
services: {monitored: [$svc]}
blue_green: {settle_seconds: 0.2, drain_seconds: 0.2, health_check_timeout: 20}
docker: {host: "unix://$sock", timeout: 10}
notifications: {enabled: false}
state: {path: "$out/state.json"}
metrics: {enabled: false}
YML

# As Compose starts a service: a restart policy, a network alias.
docker run -d --pull=never --name "$name" --label com.docker.compose.service="$svc" \
  --restart unless-stopped --network "$net" --network-alias web \
  --cpus 0.5 --memory 64m "$img" http 8080 >/dev/null || { bad "start"; exit 1; }
rm_wait_healthy "$name" 20 || bad "blue never healthy"

limits=(0.5:67108864 0.6:83886080)
cur=0 # index of the limits in place
# check WHAT: one healthy container named $name, old or new limits, nothing
# left over, an empty journal, every deploy's record in the history.
check() {
  local what=$1
  rm_check_one_serving "$what" "$svc" "$name" 20 500000000:67108864 600000000:83886080 \
    && cur=$rm_limits_index
  python3 - "$out/state.json" "$2" <<'PY' || bad "$what: the state file"
import json, sys
s = json.load(open(sys.argv[1]))
assert not s.get("journal"), ("journal not empty", s.get("journal"))
h = [r for r in s.get("history") or [] if r.get("reason") == "manual"]
assert len(h) == int(sys.argv[2]), ("deploy records", len(h), "want", sys.argv[2])
PY
}

# The user-visible outcome (docs/troubleshooting.md, "The Docker daemon
# restarted during a deployment"). An engine back within the Docker timeout
# (docker.timeout, 10 s here): every phase waits for it and the deploy
# completes, exit 0. An engine gone longer: the call fails, the rollback
# cannot see blue either, exit 3 "manual attention needed"; `reconcile`, or
# the daemon's start-up (from the copy's labels: no journal is left), once
# the engine is back, ends it.
records=0
# run_case PHASE CONFIG DOWN WANT_RC WANT_WORDS [daemon]: a deploy paused in
# PHASE; the engine is stopped, the deploy resumed; DOWN "short": the engine
# starts again 1 s later; "long": only after the deploy has ended. Then
# `reconcile`, or with "daemon" the start-up of `run`.
run_case() {
  local ph=$1 cfg=$2 down=$3 want=$4 words=$5 by=${6:-cli} target cpu mem t0 t1 rc r msg
  target=$(( 1 - cur ))
  cpu=${limits[$target]%%:*}
  mem=$(( ${limits[$target]##*:} / 1048576 ))M
  rm -f "$w/resume"
  RM_TEST_PAUSE_IN_PHASE=$ph RM_TEST_RESUME_FILE=$w/resume \
    "$bin" deploy --config "$cfg" "$svc" "$cpu" "$mem" >"$out/deploy-$ph-$down.log" 2>&1 &
  rpid=$!
  if ! rm_wait_log "$out/deploy-$ph-$down.log" "paused in phase $ph" 30; then
    bad "$ph: never paused"; cat "$out/deploy-$ph-$down.log"
    kill -9 "$rpid"; wait "$rpid" 2>/dev/null; rpid=
    return
  fi
  t0=$(date +%s.%N)
  stop_dockerd
  touch "$w/resume"
  if [ "$down" = short ]; then
    sleep 1
  else
    for _ in $(seq 1 300); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
  fi
  start_dockerd || { bad "$ph: dockerd did not come back"; return; }
  t1=$(date +%s.%N)
  for _ in $(seq 1 900); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$rpid" 2>/dev/null; then
    bad "$ph: deploy still running 90 s after the restart"; kill -9 "$rpid"
  fi
  wait "$rpid"; rc=$?; rpid=
  records=$((records + 1))
  msg=$(grep "^deploy $svc:" "$out/deploy-$ph-$down.log" | tail -1)
  echo "  $ph ($down): engine down $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s; deploy exit $rc: ${msg#deploy $svc: }"
  if [ "$rc" = "$want" ] && grep -q "$words" <<<"$msg"; then
    ok "$ph ($down): deploy exit $rc, '$words'"
  else
    bad "$ph ($down): deploy exit $rc (want $want, '$words')"; cat "$out/deploy-$ph-$down.log"
  fi
  if [ "$by" = daemon ]; then
    "$bin" run --config "$out/cfg.yml" >"$out/run-$ph.log" 2>&1 &
    dmpid=$!
    rm_wait_log "$out/run-$ph.log" "copy with no journal entry, reconciled from its labels" 60 \
      && ok "$ph ($down): the daemon's start-up reconciles: $(grep -o 'outcome=[a-z_]*' "$out/run-$ph.log" | tail -1)" \
      || { bad "$ph ($down): the daemon did not reconcile at start-up"; tail -20 "$out/run-$ph.log"; }
    kill -TERM "$dmpid"; wait "$dmpid"; dmpid=
  else
    "$bin" reconcile --config "$out/cfg.yml" "$svc" >"$out/reconcile-$ph-$down.log" 2>&1
    r=$?
    [ "$r" -eq 0 ] || { bad "$ph: reconcile exit $r"; cat "$out/reconcile-$ph-$down.log"; }
  fi
  check "engine restarted in $ph ($down), then $by" "$records"
}

phases=(prepare create_green start_green wait_healthy list_green settle verify unlist_blue drain_blue stop_blue remove_blue finalize)
long=(create_green)
if [ "${RM_TEST_SANITIZED:-0}" = 1 ]; then
  phases=(create_green wait_healthy stop_blue)
  long=()
fi
for ph in "${phases[@]}"; do
  run_case "$ph" "$out/cfg.yml" short 0 "applied"
done
sed 's/timeout: 10}/timeout: 3}/' "$out/cfg.yml" >"$out/cfg-short-timeout.yml"
long_words="cannot be reached (waited 3 s); cannot see $name: .*manual attention needed"
for ph in "${long[@]}"; do
  run_case "$ph" "$out/cfg-short-timeout.yml" long 3 "$long_words"
done
run_case stop_blue "$out/cfg-short-timeout.yml" long 3 "$long_words" daemon

[ "$(cat /sys/class/net/docker0/ifindex 2>/dev/null)" = "$docker0" ] \
  || bad "the host's docker0 changed (was ifindex '$docker0')"
[ "$fails" -eq 0 ] && echo "all dockerd-restart checks passed" || echo "$fails dockerd-restart checks failed; logs in $out"
exit $((fails > 0))

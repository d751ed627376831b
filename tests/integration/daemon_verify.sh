#!/usr/bin/env bash
# daemon_verify.sh: the watch after a change, on the real engine. A memory
# decrease is applied; within adjustment.verify_window the workload needs more
# than the new limit and is OOM-killed: the manager reverts the change through
# the same deployment path, says why (signal, how much, compared with what),
# records it in the history, and holds further memory decreases for
# adjustment.revert_backoff. A second service's clean decrease passes its
# window and becomes the last known good, with no revert (no false positive),
# though its container had restarted once before the change. A third one's
# CPU cut is followed by heavy throttling (a busy loop at the new limit), a
# fourth one's health check starts failing after its change: both reverted.
# The manager is SIGKILLed in the middle of the watches: the next one
# concludes them from the state file.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
out=${RM_TEST_OUTPUT:-/tmp}/daemon-verify-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
. "${RM_SOURCE_DIR:?}/scripts/lib/common.sh"
port=$(rm_free_port $((18950 + $$ % 50)))
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
svc=rmv-$$ calm=rmvc-$$ hot=rmvh-$$ sick=rmvs-$$
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  docker rm -f "$svc" "$calm" "$hot" "$sick" >/dev/null 2>&1
}
trap cleanup EXIT

cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1s}
thresholds: {consecutive_checks: 2, min_uptime: 0}
adjustment: {policy: threshold, cooldown_period: 5s, decrease_factor: 0.5, min_memory: 16M, min_cpu: 0.3,
             verify_window: 60s, revert_backoff: 1h}
automation: {actions: {increase_on_high: false}}
blue_green: {strategy: in-place}
services: {monitored: [$svc, $calm, $hot, $sick], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "$RM_TEST_DOCKER_HOST"}
notifications: {enabled: false}
state: {path: "$out/state.json"}
metrics: {port: $port, bind_address: 127.0.0.1}
logging: {level: debug}
YML
wait_log() { # pattern seconds
  for _ in $(seq 1 $(( $2 * 10 ))); do grep -q -- "$1" "$out/rm.log" && return 0; sleep 0.1; done
  return 1
}
memory() { docker inspect "$1" --format '{{.HostConfig.Memory}}'; }
cpus() { docker inspect "$1" --format '{{.HostConfig.NanoCpus}}'; }

docker rm -f "$svc" "$calm" "$hot" "$sick" >/dev/null 2>&1
for c in "$svc" "$calm" "$sick"; do
  docker run -d --pull=never --name "$c" --label com.docker.compose.service="$c" --cpus 0.5 \
    --memory 128m --restart always "$img" alloc 20 >/dev/null || { bad "workload start"; exit 1; }
done
docker run -d --pull=never --name "$hot" --label com.docker.compose.service="$hot" --cpus 1 \
  --memory 128m "$img" alloc 20 >/dev/null || { bad "workload start"; exit 1; }
# The calm one restarts once before the manager starts: an old restart count
# is no regression.
docker exec "$calm" kill 1
for _ in $(seq 1 100); do
  [ "$(docker inspect "$calm" --format '{{.RestartCount}} {{.State.Running}}')" = "1 true" ] && break; sleep 0.1
done
[ "$(docker inspect "$calm" --format '{{.RestartCount}}')" = 1 ] && ok "calm restarted once before the change" \
  || bad "calm restart count: $(docker inspect "$calm" --format '{{.RestartCount}}')"

"$bin" run --config "$out/cfg.yml" >"$out/rm.log" 2>&1 &
pid=$!
# 1. Both are cut (20 of 128 MiB: below the low threshold): 128 -> 64 MiB.
# All four are cut before the kill (the daemon deploys two at a time).
for _ in $(seq 1 600); do
  [ "$(memory "$svc")" = 67108864 ] && [ "$(memory "$calm")" = 67108864 ] \
    && [ "$(memory "$hot")" = 67108864 ] && [ "$(memory "$sick")" = 67108864 ] && break; sleep 0.1
done
[ "$(memory "$svc")" = 67108864 ] && [ "$(memory "$calm")" = 67108864 ] && ok "all four cut to 64 MiB" \
  || { bad "cuts: $(memory "$svc") $(memory "$calm")"; tail -20 "$out/rm.log"; }
# The manager dies in the middle of both watches; the next one carries them on
# from the state file.
sleep 1
kill -9 "$pid"; wait "$pid" 2>/dev/null
/usr/bin/python3 -c "import json,sys; s=json.load(open('$out/state.json'))['services']; sys.exit(0 if all('watch' in s[n] for n in ('$svc', '$calm', '$hot', '$sick')) else 1)" \
  && ok "SIGKILL during the watch: all four watches are in the state file" || bad "no watch in the state file"
"$bin" run --config "$out/cfg.yml" >>"$out/rm.log" 2>&1 &
pid=$!
# 2. The three triggers at once, early in the windows (a busy host makes
# each wait long): the first one now needs 90 MiB: OOM-killed under its new
# limit; the hot one's CPU was cut (1 -> 0.5 cores) and busy loops now
# want three cores: throttled in nearly every period, above the 25 %
# target; the sick one's health check starts failing.
[ "$(cpus "$hot")" = 500000000 ] && ok "hot cut to 0.5 cores" || bad "hot cpus $(cpus "$hot")"
# Three loops: throttled even when a busy host gives each a third of a core.
for _ in 1 2 3; do docker exec -d "$hot" sh -c 'while :; do :; done'; done
docker exec "$sick" touch /tmp/unhealthy
docker exec "$svc" dd if=/dev/zero of=/dev/shm/more bs=1048576 count=70 >/dev/null 2>&1
# reverted NAME SIGNAL WHAT GETTER WANT: the revert of NAME's change, read
# from SIGNAL, is logged and puts GETTER back at WANT.
reverted() {
  if wait_log "change made the service worse, reverting it.*service=$1" 30; then
    ok "$3 seen: $(grep "reverting it.*service=$1" "$out/rm.log" | grep -o "reverted ($2)[^\"]*" | head -1)"
  else
    bad "no revert on $3"; grep "service=$1" "$out/rm.log" | tail -5
  fi
  for _ in $(seq 1 100); do [ "$($4 "$1")" = "$5" ] && break; sleep 0.1; done
  [ "$($4 "$1")" = "$5" ] && ok "$1 back to $5" || bad "$1: $4 $($4 "$1") after the revert, want $5"
}
reverted "$svc" oom_kill "an OOM kill" memory 134217728
grep "reverted (oom_kill)" "$out/rm.log" | grep -q 'OOM kill.* after 128 -> 64 MiB' \
  && ok "the verdict names the signal and the change" || bad "verdict text: $(grep -o 'reverted ([^"]*' "$out/rm.log" | head -1)"
reverted "$hot" cpu_throttling "throttling after a CPU cut" cpus 1000000000
grep "reverting it.*service=$hot" "$out/rm.log" | grep -q 'CPU throttled in [0-9.]*% of periods > 25% .* after 1.00 -> 0.50 cores' \
  && ok "the verdict says how much throttling, against what" || bad "throttling verdict text"
docker exec "$hot" pkill -f 'while' >/dev/null 2>&1
reverted "$sick" health_check "a failing health check" memory 134217728
# 3. Held: no memory decrease of it for revert_backoff, though it is low again.
docker exec "$svc" rm -f /dev/shm/more >/dev/null 2>&1
wait_log "decision.service=$svc reason=reverted explanation=.*a decrease was reverted, none for" 30 \
  && ok "decrease held: $(grep -o "a decrease was reverted, none for [^;\"]*" "$out/rm.log" | tail -1)" \
  || bad "no held decrease seen"
[ "$(memory "$svc")" = 134217728 ] && ok "still 128 MiB" || bad "decreased again: $(memory "$svc")"
# 4. The calm one passes its window: last known good, no revert.
wait_log "change verified, now the last known good.*service=$calm" 80 \
  && ok "clean change verified: $(grep -o "service=$calm detail=.*" "$out/rm.log" | grep -m1 'no OOM' | cut -c1-140)" \
  || bad "no verdict for the clean change"
grep -q "reverting it.*service=$calm" "$out/rm.log" && bad "a clean change was reverted" || ok "no false positive"
curl -s "http://127.0.0.1:$port/metrics" >"$out/metrics"
for n in "$svc" "$hot" "$sick"; do
  grep -q "^resource_manager_reverts_total{service=\"$n\"} 1\$" "$out/metrics" || bad "/metrics lacks the revert of $n"
done
grep -q "^resource_manager_verified_changes_total{service=\"$calm\"} 1\$" "$out/metrics" \
  && ok "/metrics: reverts and verified changes counted" || bad "/metrics: $(grep -E 'reverts|verified' "$out/metrics" | tr '\n' ' ')"
kill -TERM "$pid"; wait "$pid"; pid=
/usr/bin/python3 - "$out/state.json" "$svc" "$calm" "$hot" "$sick" <<'PY' && ok "state: the revert in the history, memory decreases held, the watch over" || bad "state after the revert"
import json, sys, time
s = json.load(open(sys.argv[1]))
svc, calm, hot, sick = sys.argv[2:6]
ev = [e for e in s["history"] if e["service"] == svc]
assert any(e.get("outcome") == "reverted" for e in ev), ev
assert s["services"][svc]["engine"]["mem_revert_until"] > time.time() + 3000
assert "watch" not in s["services"][svc] and "watch" not in s["services"][calm]
assert s["services"][calm]["last_good"]["memory"] == 64 << 20
c = {n: s["services"][n]["counters"] for n in sys.argv[2:]}
assert c[svc]["reverts"] == c[hot]["reverts"] == c[sick]["reverts"] == 1, c
assert c[calm]["reverts"] == 0 and c[calm]["verified"] == 1, c
PY

[ "$fails" -eq 0 ] || { echo "$fails daemon_verify checks failed; logs in $out"; exit 1; }
echo "all daemon_verify checks passed"

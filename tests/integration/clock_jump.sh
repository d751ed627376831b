#!/usr/bin/env bash
# clock_jump.sh: the wall clock jumps a day ahead, then two days back, under a
# running daemon (libfaketime; the machine's clock is not touched). The
# cooldown is elapsed time: the jump ahead does not end it early, the jump
# back does not stretch it by a day; nor does the jump ahead end the watch
# after a change (verify_window). The daily cap follows the calendar: a
# change after each jump counts on the day the wall clock shows.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
ft=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[ -e "$ft" ] || { echo "libfaketime missing (package faketime, RM_TEST_PACKAGES)"; exit 1; }
[ "${RM_TEST_SANITIZED:-0}" = 1 ] && { echo "skipped: libfaketime under ASan"; exit 77; }
out=${RM_TEST_OUTPUT:-/tmp}/clock-jump-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
. "${RM_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$RM_SOURCE_DIR/scripts/lib/docker_test.sh"
port=$(rm_free_port $((19900 + $$ % 90)))
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
svc=rmcj-$$
pid=
cleanup() {
  [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null
  docker rm -f "$svc" >/dev/null 2>&1
}
trap cleanup EXIT

cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1s}
thresholds: {consecutive_checks: 2, min_uptime: 0}
adjustment: {policy: threshold, cooldown_period: 20s, max_adjustments_per_day: 6}
automation: {actions: {decrease_on_low: false}}
blue_green: {strategy: in-place}
services: {monitored: [$svc], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "$RM_TEST_DOCKER_HOST"}
notifications:
  channels:
    alertmanager: {enabled: false}
    logfile: {enabled: false, path: "$out/unused.log"}
state: {path: "$out/state.json"}
metrics: {port: $port, bind_address: 127.0.0.1}
logging: {level: info}
YML
# Two busy loops pinned at 0.5 cores: every check is over cpu_high.
docker run -d --pull=never --name "$svc" --label com.docker.compose.service="$svc" \
  --cpus 0.5 --memory 64m --no-healthcheck "$img" busy 2 >/dev/null || { bad "workload start"; exit 1; }

echo "+0" >"$out/offset"
LD_PRELOAD=$ft FAKETIME_TIMESTAMP_FILE="$out/offset" FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
  "$bin" run --config "$out/cfg.yml" >"$out/daemon.log" 2>&1 &
pid=$!
changes() { grep -c "change applied" "$out/daemon.log"; }
wait_changes() { # n seconds
  for _ in $(seq 1 $(($2 * 5))); do [ "$(changes)" -ge "$1" ] && return 0; sleep 0.2; done
  return 1
}
day_count() { # the service's engine day (relative to today) and changes that day, from the file
  python3 - "$out/state.json" "$svc" <<'PY'
import json, sys, time, calendar
s = json.load(open(sys.argv[1]))["services"][sys.argv[2]]["engine"]
today = int(time.time() // 86400)  # TZ is UTC here (the suite's environment)
print(s["day"] - today, s["changes_today"])
PY
}

wait_changes 1 60 && ok "first increase" || { bad "no first change"; tail "$out/daemon.log"; exit 1; }
t1=$SECONDS
# 1. A day ahead: the cooldown (20 s of elapsed time) still holds.
echo "+1d" >"$out/offset"
rm_wait_decision "http://127.0.0.1:$port" "$svc" cooldown 10 \
  && ok "a day ahead, the cooldown still holds the next increase" \
  || bad "a day ahead, no decision held by the cooldown"
[ "$(changes)" -eq 1 ] && ok "no change within the cooldown after the jump ahead" \
  || bad "$(changes) changes $((SECONDS - t1)) s after the first (cooldown 20 s)"
# The watch after the change (adjustment.verify_window, 10 minutes) is
# elapsed time too: the jump does not end it.
grep -q "change verified" "$out/daemon.log" && bad "the jump ahead ended the watch: $(grep -m1 'change verified' "$out/daemon.log")" \
  || ok "the jump ahead does not end the watch after the change"
wait_changes 2 40 && ok "the second increase, once 20 s have passed ($((SECONDS - t1)) s)" \
  || bad "no second change"
[ $((SECONDS - t1)) -ge 15 ] || bad "the second change came $((SECONDS - t1)) s after the first (cooldown 20 s)"
sleep 1.5
[ "$(day_count)" = "1 1" ] && ok "it counts on the day the wall clock shows (tomorrow, 1 change)" \
  || bad "day, changes: $(day_count)"
t2=$SECONDS
# 2. Two days back: the cooldown ends after 20 s, not after a day.
echo "-1d" >"$out/offset"
wait_changes 3 45 && ok "a day back, the third increase after the cooldown ($((SECONDS - t2)) s)" \
  || bad "a day back, no change within 45 s (cooldown 20 s)"
[ $((SECONDS - t2)) -ge 15 ] || bad "the third change came $((SECONDS - t2)) s after the second (cooldown 20 s)"
sleep 1.5
[ "$(day_count)" = "-1 1" ] && ok "it counts on the day the wall clock shows (yesterday, 1 change)" \
  || bad "day, changes: $(day_count)"
kill -TERM "$pid"; wait "$pid"; pid=
[ "$fails" -eq 0 ] && echo "PASS" || { echo "$fails failure(s); logs in $out"; exit 1; }

#!/usr/bin/env bash
# web_hold.sh: `resource-manager healthcheck` stays healthy while 4, then 50
# slow clients hold the web port (issue 19: four were enough to fail the
# container's health check). The check goes over the reserved health socket;
# the slow clients are cut off by web.request_timeout and come back.
set -u
bin=${RM_BINARY:?RM_BINARY must point at the resource-manager binary}
out=${RM_TEST_OUTPUT:-/tmp}/web_hold-$$
mkdir -p "$out"
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lib/fixture.sh"
trap 'fixture_stop_all; kill $hold_pid 2>/dev/null' EXIT
hold_pid=
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }

sock=$out/health.sock
fixture_start hold --health-socket "$sock" --request-timeout 3 || exit 1
port=$FIXTURE_PORT
printf 'metrics: {port: %s, bind_address: 127.0.0.1}\nweb: {health_socket: "%s"}\n' \
  "$port" "$sock" >"$out/config.yml"

"$bin" healthcheck --config "$out/config.yml" >"$out/last" 2>&1 \
  && grep -q "^healthy: HTTP 200 from unix://$sock" "$out/last" \
  && ok "healthcheck goes over the health socket" \
  || { bad "healthcheck over the socket: $(cat "$out/last")"; }

for n in 4 50; do
  python3 "$here/hold.py" "$port" "$n" 10 >"$out/hold-$n.log" 2>&1 &
  hold_pid=$!
  sleep 1
  checks=0 healthy=0 public=0
  for _ in 1 2 3 4 5 6 7; do
    checks=$((checks+1))
    "$bin" healthcheck --config "$out/config.yml" >"$out/last" 2>&1 && healthy=$((healthy+1)) \
      || cat "$out/last"
    # The public port, for the record: with every worker held it may not answer.
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/health" && public=$((public+1))
    sleep 0.5
  done
  wait "$hold_pid"
  opened=$(sed -n 's/^opened \([0-9]*\) connections$/\1/p' "$out/hold-$n.log")
  [ "$healthy" -eq "$checks" ] && ok "$n slow clients: healthcheck healthy $healthy/$checks" \
    || bad "$n slow clients: healthcheck healthy $healthy/$checks"
  echo "     (public /health answered $public/$checks; the clients opened ${opened:-?} connections)"
  # A held worker lets go within 3 s (request_timeout), or at once after an
  # early answer, and its client comes back: over 10 s, four workers cut off
  # more than a dozen (those waiting in the queue hold no worker).
  [ "${opened:-0}" -gt $((n + 12)) ] && ok "$n slow clients were cut off and came back" \
    || { bad "$n slow clients: only ${opened:-?} connections opened"; cat "$out/hold-$n.log"; }
done

[ "$fails" -eq 0 ] && echo "web_hold: all passed" || echo "web_hold: $fails failed"
exit $((fails > 0))

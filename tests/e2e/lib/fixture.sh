#!/usr/bin/env bash
# fixture.sh: starts tests/web_fixture (the web layer serving a hand-built
# view) in the background and stops it by PID. Sourced by the e2e scripts.
#   fixture_start NAME [web_fixture options...]   sets FIXTURE_PORT, FIXTURE_PID
#   fixture_stop_all                               (an EXIT trap)
FIXTURE_PIDS=()

fixture_start() {
  local name=$1; shift
  local bin=${RM_WEB_FIXTURE:?RM_WEB_FIXTURE must point at the web_fixture program}
  local log="$out/fixture-$name.log"
  "$bin" "$@" >"$log" 2>&1 &
  FIXTURE_PID=$!
  FIXTURE_PIDS+=("$FIXTURE_PID")
  FIXTURE_PORT=
  for _ in $(seq 1 100); do
    FIXTURE_PORT=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$log")
    [ -n "$FIXTURE_PORT" ] && return 0
    kill -0 "$FIXTURE_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "web_fixture did not start:"; cat "$log"
  return 1
}

fixture_stop_all() {
  local pid
  for pid in "${FIXTURE_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  FIXTURE_PIDS=()
}

#!/usr/bin/env bash
# cli.sh: the binary's command line: dispatch, help, exit codes, run's
# clean stop on SIGTERM/SIGINT, JSON logs, check-config provenance.
set -u
bin=${RM_BINARY:?RM_BINARY must point at the resource-manager binary}
src=${RM_SOURCE_DIR:?}
out=${RM_TEST_OUTPUT:-/tmp}/cli
mkdir -p "$out"
fails=0
check() { # name expected-status actual-status
  if [ "$2" != "$3" ]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails+1)); else echo "ok: $1"; fi
}
contains() { # name file pattern
  if grep -q -- "$3" "$2"; then echo "ok: $1"; else echo "FAIL: $1: no '$3' in:"; cat "$2"; fails=$((fails+1)); fi
}
# No production host is ever contacted: every URL points at loopback.
export PROMETHEUS_URL= ALERTMANAGER_URL=http://127.0.0.1:9 DOCKER_HOST=unix:///nonexistent.sock
export LOG_FILE="$out/rm.log" STATE_PATH="$out/state.json"
# The web server binds a port nobody else uses (8000 may be taken on a busy host).
METRICS_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export METRICS_PORT

"$bin" help >"$out/help" 2>&1; check "help" 0 $?
contains "help lists check-config" "$out/help" "check-config"
"$bin" --help >/dev/null 2>&1; check "--help" 0 $?
"$bin" version >"$out/version" 2>&1; check "version" 0 $?
contains "version names libcurl" "$out/version" "libcurl"
"$bin" frobnicate >"$out/unknown" 2>&1; check "unknown command" 1 $?
contains "unknown command named" "$out/unknown" "unknown command 'frobnicate'"
"$bin" check-config --bogus >"$out/badopt" 2>&1; check "unknown option" 1 $?
contains "unknown option named" "$out/badopt" "unknown option '--bogus'"
"$bin" check-config --config >/dev/null 2>&1; check "missing option value" 1 $?
"$bin" check-config --help >"$out/cchelp" 2>&1; check "check-config --help" 0 $?
contains "check-config usage" "$out/cchelp" "Usage: resource-manager check-config"

"$bin" check-config --config "$src/config/config.yml" >"$out/cc" 2>&1; check "check-config shipped" 0 $?
contains "provenance: file line" "$out/cc" "thresholds.cpu_high = 0.8   # file line"
contains "unused keys listed" "$out/cc" "# accepted but not used yet:"
CPU_HIGH_THRESHOLD=0.9 "$bin" check-config --config "$src/config/config.yml" >"$out/cc2" 2>&1
check "check-config env" 0 $?
# deploy: a --log-file that cannot be opened stops it before any Engine call.
"$bin" deploy --config "$src/config/config.yml" grafana 1 512M --log-file "$out/no/such/dir/bg.log" \
  >"$out/deploy-log" 2>&1
check "deploy with an unopenable --log-file" 1 $?
contains "the --log-file is named" "$out/deploy-log" "cannot open --log-file $out/no/such/dir/bg.log: No such file or directory; nothing was done"
contains "provenance: env" "$out/cc2" "thresholds.cpu_high = 0.9   # env CPU_HIGH_THRESHOLD"
env -u CONFIG_PATH "$bin" check-config >"$out/cc3" 2>&1; check "embedded default" 0 $?
contains "embedded default used" "$out/cc3" "embedded default"
CONFIG_PATH="$out/missing.yml" "$bin" check-config >"$out/cc4" 2>&1; check "CONFIG_PATH missing file" 1 $?
contains "missing file named" "$out/cc4" "missing.yml"

# run: once, then a clean stop on each signal within a second or two.
CHECK_INTERVAL=1 "$bin" run --once --config "$src/config/config.yml" >"$out/once" 2>&1
check "run --once" 0 $?
for sig in TERM INT; do
  CHECK_INTERVAL=1 "$bin" run --config "$src/config/config.yml" >"$out/run-$sig" 2>&1 &
  pid=$!
  sleep 1.5
  kill -"$sig" "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "FAIL: run did not stop on SIG$sig"; kill -9 "$pid"; fails=$((fails+1)); fi
  wait "$pid"; check "run stops on SIG$sig" 0 $?
  contains "run logs the signal ($sig)" "$out/run-$sig" "stopping on signal, no new decisions signal=$sig"
done
LOG_FORMAT=json CHECK_INTERVAL=1 "$bin" run --once --config "$src/config/config.yml" >"$out/json" 2>&1
check "run json logs" 0 $?
if /usr/bin/python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' "$out/json"; then
  echo "ok: every log line is JSON"; else echo "FAIL: log lines are not JSON"; cat "$out/json"; fails=$((fails+1)); fi
contains "log file written" "$LOG_FILE" "started"
CHECK_INTERVAL=abc "$bin" run --once >"$out/badenv" 2>&1; check "run with bad env" 1 $?
contains "bad env named" "$out/badenv" "CHECK_INTERVAL"

[ "$fails" -eq 0 ] && echo "all CLI checks passed" || echo "$fails CLI checks failed"
exit $((fails > 0))

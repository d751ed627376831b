#!/usr/bin/env bash
# test_resource_manager.sh: scripts/test-resource-manager.sh without a stack:
# help and bad arguments; the config check on good and bad files (binary);
# the compose check on good, broken and unrelated files; the endpoint checks
# against tests/web_fixture (healthy, then a stalled loop) and against a
# closed port. (tests/integration/compose_e2e.sh runs it on a real stack.)
set -u
bin=${RM_BINARY:?}
src=${RM_SOURCE_DIR:?}
out=${RM_TEST_OUTPUT:-/tmp}/test-rm-$$
mkdir -p "$out"
. "$src/tests/e2e/lib/fixture.sh"
. "$src/scripts/lib/common.sh"
trap fixture_stop_all EXIT
tr=$src/scripts/test-resource-manager.sh
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
line() { grep -q -- "$2" "$1" && ok "$3" || { bad "$3: no '$2' in"; cat "$1"; }; }

"$tr" --help >"$out/help" && grep -q -- '--compose-file' "$out/help" && grep -q 'Exit status' "$out/help" && ok "--help" || bad "--help"
"$tr" --bogus >"$out/a" 2>&1; [ $? -eq 2 ] && grep -q "unknown option '--bogus'" "$out/a" && ok "unknown option: exit 2" || bad "unknown option"
"$tr" --url >"$out/a" 2>&1; [ $? -eq 2 ] && ok "missing value: exit 2" || bad "missing value"
"$tr" --timeout x >"$out/a" 2>&1; [ $? -eq 2 ] && ok "bad --timeout: exit 2" || bad "bad --timeout"

# Only the checks that need no Docker engine and no stack.
nodocker="--skip image --skip container --skip hardening"
fixture_start healthy || exit 1
good=$FIXTURE_PORT
fixture_start stale --stale || exit 1
stale=$FIXTURE_PORT
printf 'thresholds: {cpu_high: 0.9}\nmonitoring: {prometheus_url: "http://prometheus:9090"}\n' >"$out/good.yml"
printf 'thresholds: {cpu_high: 7, cpu_low: 0.9}\n' >"$out/bad.yml"

# Healthy service, valid config and compose files: everything passes.
"$tr" --url "http://127.0.0.1:$good" --config "$out/good.yml" --binary "$bin" $nodocker \
  --compose-file "$src/compose/resource-manager.yml" --compose-file "$src/compose/example/docker-compose.yml" \
  --project-directory "$src/compose" >"$out/good" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "healthy: exit 0" || { bad "healthy: exit $rc"; cat "$out/good"; }
line "$out/good" "^PASS  config      valid ($bin check-config)" "config PASS with the binary"
line "$out/good" "^PASS  compose " "compose PASS"
line "$out/good" "^PASS  health      http://127.0.0.1:$good/health: HTTP 200, status healthy" "health PASS"
line "$out/good" "^PASS  metrics .*metric families" "metrics PASS"
line "$out/good" "^PASS  docker " "docker PASS from /health"
line "$out/good" "^PASS  prometheus  the service reads metrics from Prometheus (http://prometheus:9090)" "prometheus PASS from /health"
line "$out/good" "^SKIP  image .*--skip" "skips named"
line "$out/good" "^test-resource-manager: 6 passed, 0 failed, 3 skipped$" "summary line"

# Invalid config, broken compose file, stalled loop.
printf 'services:\n  resource-manager:\n    image: x\n   bad: indent\n' >"$out/broken.yml"
"$tr" --url "http://127.0.0.1:$stale" --config "$out/bad.yml" --binary "$bin" $nodocker \
  --compose-file "$out/broken.yml" >"$out/bad" 2>&1
rc=$?
[ $rc -eq 1 ] && ok "broken: exit 1" || { bad "broken: exit $rc"; cat "$out/bad"; }
line "$out/bad" "^FAIL  config      invalid (.*cpu_high" "config FAIL names the key"
line "$out/bad" "^FAIL  compose " "compose FAIL"
line "$out/bad" "^FAIL  health      http://127.0.0.1:$stale/health: HTTP 503, status unhealthy" "health FAIL on a stalled loop"
line "$out/bad" "^PASS  metrics " "metrics still PASS"

# A compose file without the service.
printf 'services:\n  web:\n    image: x\n' >"$out/other.yml"
"$tr" --url "http://127.0.0.1:$good" --compose-file "$out/other.yml" --skip config $nodocker >"$out/other" 2>&1
[ $? -eq 1 ] && ok "no resource-manager service: exit 1" || bad "unrelated compose file passed"
line "$out/other" "^FAIL  compose .*no service named resource-manager" "compose FAIL names the missing service"
line "$out/other" "^PASS  prometheus  the service reads metrics from Prometheus$" "prometheus PASS from /health alone (no configuration)"

# Nothing listening; a missing config file.
closed=$(rm_free_port 18950)
"$tr" --url "http://127.0.0.1:$closed" --config "$out/nope.yml" $nodocker --skip compose >"$out/closed" 2>&1
[ $? -eq 1 ] && ok "closed port: exit 1" || bad "closed port passed"
line "$out/closed" "^FAIL  config      $out/nope.yml: no such file" "missing config file named"
line "$out/closed" "^FAIL  health      http://127.0.0.1:$closed/health: no answer" "health FAIL: no answer"
line "$out/closed" "^FAIL  metrics " "metrics FAIL"
line "$out/closed" "^FAIL  docker      cannot tell" "docker FAIL: cannot tell"
[ "$fails" -eq 0 ] && echo "all test-resource-manager checks passed" || echo "$fails checks failed; output in $out"
exit $((fails > 0))

#!/usr/bin/env bash
# healthcheck.sh: `resource-manager healthcheck` (the image's HEALTHCHECK)
# against the web layer: 0 on 200, 2 on 503 or no answer, 1 on bad input.
set -u
bin=${RM_BINARY:?RM_BINARY must point at the resource-manager binary}
out=${RM_TEST_OUTPUT:-/tmp}/healthcheck
mkdir -p "$out"
. "$(dirname "${BASH_SOURCE[0]}")/lib/fixture.sh"
trap fixture_stop_all EXIT
fails=0
check() { # name expected-status actual-status
  if [ "$2" != "$3" ]; then echo "FAIL: $1: exit $3, expected $2"; cat "$out/last"; fails=$((fails+1)); else echo "ok: $1"; fi
}
contains() { # name file pattern
  if grep -q -- "$3" "$2"; then echo "ok: $1"; else echo "FAIL: $1: no '$3' in:"; cat "$2"; fails=$((fails+1)); fi
}

fixture_start healthy || exit 1
healthy=$FIXTURE_PORT
fixture_start stale --stale || exit 1
stale=$FIXTURE_PORT

"$bin" healthcheck --url "http://127.0.0.1:$healthy/health" >"$out/last" 2>&1
check "healthy answers 200" 0 $?
contains "one line naming the status" "$out/last" "^healthy: HTTP 200 from http://127.0.0.1:$healthy/health$"
"$bin" healthcheck --url "http://127.0.0.1:$healthy" >"$out/last" 2>&1
check "path defaults to /health" 0 $?
"$bin" healthcheck --url "http://127.0.0.1:$stale/health" >"$out/last" 2>&1
check "stale loop answers 503" 2 $?
contains "unhealthy named" "$out/last" "^unhealthy: HTTP 503"
"$bin" healthcheck --url "http://127.0.0.1:$healthy/nope" >"$out/last" 2>&1
check "404 is not healthy" 2 $?

# Nothing listening: from the config's port.
printf 'metrics:\n  port: 9\n  bind_address: "127.0.0.1"\n' >"$out/closed.yml"
start=$(date +%s)
"$bin" healthcheck --config "$out/closed.yml" >"$out/last" 2>&1
check "nothing listening" 2 $?
contains "unhealthy on refusal" "$out/last" "^unhealthy: http://127.0.0.1:9/health"
[ $(( $(date +%s) - start )) -le 3 ] && echo "ok: fails fast" || { echo "FAIL: took more than 3 s"; fails=$((fails+1)); }
printf 'metrics:\n  port: %s\n' "$healthy" >"$out/any.yml"
"$bin" healthcheck --config "$out/any.yml" >"$out/last" 2>&1
check "0.0.0.0 probes loopback" 0 $?
printf 'metrics:\n  enabled: false\n' >"$out/off.yml"
"$bin" healthcheck --config "$out/off.yml" >"$out/last" 2>&1
check "metrics disabled" 2 $?

"$bin" healthcheck --bogus >"$out/last" 2>&1; check "unknown option" 1 $?
"$bin" healthcheck --url >"$out/last" 2>&1; check "missing value" 1 $?
"$bin" healthcheck extra >"$out/last" 2>&1; check "extra argument" 1 $?
"$bin" healthcheck --url "ftp://x/health" >"$out/last" 2>&1; check "unusable URL" 1 $?
printf 'metrics:\n  port: 70000\n' >"$out/bad.yml"
"$bin" healthcheck --config "$out/bad.yml" >"$out/last" 2>&1; check "invalid config" 1 $?
"$bin" healthcheck --help >"$out/last" 2>&1; check "--help" 0 $?
contains "usage" "$out/last" "Usage: resource-manager healthcheck"
"$bin" help >"$out/last" 2>&1
contains "listed in help" "$out/last" "healthcheck"

[ "$fails" -eq 0 ] && echo "healthcheck: all passed" || echo "healthcheck: $fails failed"
exit $((fails > 0))

#!/usr/bin/env bash
# web_probe.sh: the probe of issue 19 as a test, bounded in time (about a
# minute): tests/e2e/probe.py against tests/web_fixture, then the fixture is
# stopped and, in a sanitizer tree, its log must hold no ASan, LSan or UBSan
# report (leaks included). Prints "N tried, M handled"; docs/security.md
# quotes the ASan tree's figure.
set -u
out=${RM_TEST_OUTPUT:-/tmp}/web_probe-$$
mkdir -p "$out"
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lib/fixture.sh"
trap fixture_stop_all EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
token=probe-token-$$-abcdef
printf '%s\n' "$token" >"$out/token"
fixture_start probe --token-file "$out/token" --forward-auth --request-timeout 2 \
  --health-socket "$out/health.sock" || exit 1
start=$(date +%s)
timeout 240 python3 "$here/probe.py" "$FIXTURE_PORT" "$token" "$out/health.sock" 2 | tee "$out/probe.log"
rc=${PIPESTATUS[0]}
fixture_stop_all
log="$out/fixture-probe.log"
tried=$(sed -n 's/^\([0-9]*\) tried, \([0-9]*\) handled$/\1/p' "$out/probe.log")
handled=$(sed -n 's/^\([0-9]*\) tried, \([0-9]*\) handled$/\2/p' "$out/probe.log")
if [ "${RM_TEST_SANITIZED:-0}" = 1 ] || grep -q "Sanitizer" "$log"; then
  tried=$((tried + 1))
  if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$log"; then
    echo "NOT HANDLED: sanitizer report in $log:"; grep -E -A12 "Sanitizer|runtime error:" "$log" | head -40
    rc=1
  else
    handled=$((handled + 1)); echo "sanitizers: no report, no leak"
  fi
fi
echo "web_probe: $tried tried, $handled handled in $(( $(date +%s) - start )) s$([ "${RM_TEST_SANITIZED:-0}" = 1 ] && echo ' (ASan+UBSan build)')"
exit $((rc != 0))

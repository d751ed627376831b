#!/usr/bin/env bash
# dashboard.sh: the browser test (tests/e2e/dashboard.py, headless Chromium).
# With RM_DASHBOARD_URL set it tests that page (a running daemon; give the
# token with RM_DASHBOARD_TOKEN_FILE); otherwise it starts tests/web_fixture
# with a token file and tests the web layer over the sample view.
# Screenshots go to $RM_TEST_OUTPUT/dashboard/.
set -u
out=${RM_TEST_OUTPUT:-/tmp}/dashboard
mkdir -p "$out"
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lib/fixture.sh"
trap fixture_stop_all EXIT

for f in /usr/bin/chromium /usr/bin/chromedriver; do
  [ -x "$f" ] || { echo "FAIL: $f missing: install chromium chromium-driver python3-selenium"; exit 1; }
done
/usr/bin/python3 -c 'import selenium' 2>/dev/null \
  || { echo "FAIL: python3-selenium missing (Debian's, for /usr/bin/python3)"; exit 1; }

if [ -z "${RM_DASHBOARD_URL:-}" ]; then
  printf 'dashboard-test-%s\n' "$$" >"$out/token"
  fixture_start dashboard --token-file "$out/token" || exit 1
  export RM_DASHBOARD_URL="http://127.0.0.1:$FIXTURE_PORT/"
  export RM_DASHBOARD_TOKEN_FILE="$out/token"
  export RM_DASHBOARD_REQUIRE_PENDING=1
fi
if [ -n "${RM_DASHBOARD_TOKEN_FILE:-}" ]; then
  RM_DASHBOARD_TOKEN=$(tr -d '[:space:]' <"$RM_DASHBOARD_TOKEN_FILE")
  export RM_DASHBOARD_TOKEN
fi
echo "testing $RM_DASHBOARD_URL"
# Chromium's launcher and D-Bus are noisy on this machine; keep that out of the log.
/usr/bin/python3 "$here/dashboard.py" 2>"$out/chromium-stderr.log"
status=$?
[ $status -eq 0 ] || tail -20 "$out/chromium-stderr.log"
exit $status

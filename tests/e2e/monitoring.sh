#!/usr/bin/env bash
# monitoring.sh: what Prometheus and Grafana consume. /metrics of the sample
# view passes `promtool check metrics` (only the original's compatible counter
# names may lack _total); config/prometheus-alerts.yml passes `promtool check
# rules` and its unit tests; config/grafana-dashboard.json is valid JSON; every
# metric name the rules, the dashboard and docs/metrics.md use is exported,
# and every exported family is documented in docs/metrics.md.
set -u
src=${RM_SOURCE_DIR:?}
out=${RM_TEST_OUTPUT:-/tmp}/monitoring
mkdir -p "$out"
fx=${RM_WEB_FIXTURE:?RM_WEB_FIXTURE must point at the web_fixture program}
fails=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails+1)); }
command -v promtool >/dev/null || { echo "FAIL: promtool missing (Debian package prometheus)"; exit 1; }

"$fx" --print-metrics >"$out/metrics.txt" || { echo "FAIL: web_fixture --print-metrics"; exit 1; }
promtool check metrics <"$out/metrics.txt" >"$out/lint.txt" 2>&1
# The original's documented names are kept as they are (no _total).
grep -v -E '^(resource_manager_(total|successful|failed)_adjustments|resource_manager_blue_green_deployments|resource_manager_rollbacks|threshold_breaches) counter metrics should have "_total" suffix$' \
  "$out/lint.txt" | grep . >"$out/lint-unexpected.txt"
if [ -s "$out/lint-unexpected.txt" ]; then bad "promtool check metrics:"; cat "$out/lint-unexpected.txt"; else ok "promtool check metrics"; fi

promtool check rules "$src/config/prometheus-alerts.yml" >"$out/rules.txt" 2>&1 \
  && ok "promtool check rules" || { bad "promtool check rules"; cat "$out/rules.txt"; }
promtool test rules "$src/tests/data/monitoring/alerts-test.yml" >"$out/rules-test.txt" 2>&1 \
  && ok "promtool test rules" || { bad "promtool test rules"; cat "$out/rules-test.txt"; }

/usr/bin/python3 - "$out/metrics.txt" "$src" <<'PY' || fails=$((fails+1))
import json, re, sys
metrics_file, src = sys.argv[1], sys.argv[2]
exported = set()
for line in open(metrics_file):
    m = re.match(r"# TYPE (\S+) (\S+)", line)
    if m:
        exported.add(m.group(1))
ours = re.compile(r"\b(resource_manager_[a-z_]+|blue_green_[a-z_]+|services_monitored|threshold_breaches)\b")
failed = 0
def need(where, text):
    global failed
    for name in ours.findall(text):
        if name not in exported:
            print("FAIL: %s uses %s, which /metrics does not export" % (where, name))
            failed += 1

dash = json.load(open(src + "/config/grafana-dashboard.json"))
exprs = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("expr", "definition") and isinstance(v, str):
                exprs.append(v)
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(dash)
print("ok: grafana-dashboard.json is valid JSON with %d queries" % len(exprs))
for e in exprs:
    need("grafana-dashboard.json", e)
    if not ours.search(e):
        print("FAIL: grafana query uses none of our metrics: " + e); failed += 1
rules = open(src + "/config/prometheus-alerts.yml").read()
for e in re.findall(r"expr: (?:>\n)?((?:.+\n?)+?)(?=\s+(?:for|labels):)", rules):
    need("prometheus-alerts.yml", e)

doc = open(src + "/docs/metrics.md").read()
need("docs/metrics.md", doc)
for name in sorted(exported):
    if "`%s`" % name not in doc:
        print("FAIL: docs/metrics.md does not document %s" % name); failed += 1
if not failed:
    print("ok: every metric used is exported, every exported metric documented (%d)" % len(exported))
sys.exit(1 if failed else 0)
PY

[ "$fails" -eq 0 ] && echo "monitoring: all passed" || echo "monitoring: $fails failed"
exit $((fails > 0))

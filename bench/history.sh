#!/usr/bin/env bash
# history.sh: `resource-manager recommend` against a local Prometheus holding
# SERVICES x DAYS of cAdvisor-shaped history at a 5-minute step (issue 14's
# performance goal: 100 services x 14 days under 10 s wall and 64 MiB RSS;
# requests growing with the chunks, not with the services).
#
#   bench/history.sh [--services 100] [--days 14] [--runs 3] [--tsdb DIR]
#
# Writing the history (tests/integration/history_gen.py, then promtool) takes
# about 5 minutes for 100 x 14 days; --tsdb DIR keeps the blocks in DIR and
# reuses them when they are already there. Needs prometheus and promtool
# (Debian's prometheus package) and a built resource-manager (build-bench/).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"
cd "$RM_ROOT"
services=100 days=14 runs=3 tsdb=
while [ $# -gt 0 ]; do
  case "$1" in
    --services) services=$2; shift ;;
    --days) days=$2; shift ;;
    --runs) runs=$2; shift ;;
    --tsdb) tsdb=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) rm_die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
bin=${RM_BINARY:-}
if [ -z "$bin" ]; then
  RM_TARGETS=resource-manager rm_build build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
  bin=$RM_ROOT/build-bench/resource-manager
fi
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
[ -n "$tsdb" ] || tsdb=$work/tsdb
if [ ! -d "$tsdb/wal" ] && [ -z "$(ls -A "$tsdb" 2>/dev/null)" ]; then
  rm_log "writing $services services x $days days of history (5-minute scrapes)"
  /usr/bin/python3 tests/integration/history_gen.py "$work/om.txt" --end $(( $(date +%s) - 7200 )) \
    --days "$days" --scrape 300 --services "$services"
  rm_log "promtool tsdb create-blocks-from openmetrics ($(du -h "$work/om.txt" | cut -f1))"
  promtool tsdb create-blocks-from openmetrics "$work/om.txt" "$tsdb" >"$work/promtool.log"
  rm -f "$work/om.txt"
fi
port=$(rm_free_port 19480)
printf 'global: {scrape_interval: 1m}\nscrape_configs: []\n' >"$work/prom.yml"
prometheus --config.file="$work/prom.yml" --storage.tsdb.path="$tsdb" --storage.tsdb.retention.time=60d \
  --web.listen-address="127.0.0.1:$port" >"$work/prometheus.log" 2>&1 &
pid=$!
rm_wait_http "http://127.0.0.1:$port/-/ready" 60 || rm_die "Prometheus did not start"
{
  echo "monitoring: {prometheus_url: \"http://127.0.0.1:$port\"}"
  printf 'services: {monitored: ['
  for i in $(seq 0 $((services - 1))); do printf '%shsvc%03d' "$([ "$i" = 0 ] || echo ', ')" "$i"; done
  echo '], critical: [], optional: [], baseline: {}, priority: {}}'
} >"$work/cfg.yml"
echo "recommend --since ${days}d --step 5m, $services services ($runs runs):"
for _ in $(seq "$runs"); do
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$bin" recommend --config "$work/cfg.yml" \
    --since "${days}d" --format json >"$work/r.json"
  read -r wall rss user sys <"$work/time"
  /usr/bin/python3 - "$work/r.json" "$wall" "$rss" "$user" "$sys" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["history"]
wall, rss, user, sysc = sys.argv[2:]
print("  wall %s s, max RSS %.1f MiB, CPU %s+%s s; %d steps, %d chunks, %d requests, %.1f MB, "
      "%d observations%s" % (wall, int(rss) / 1024, user, sysc, h["steps"], h["chunks"],
                             h["requests"], h["bytes"] / 1e6, h["observations"],
                             ", PARTIAL" if h["partial"] else ""))
PY
done

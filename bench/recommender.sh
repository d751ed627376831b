#!/usr/bin/env bash
# recommender.sh: the recommender benchmark (issue 13). Generates one trace
# per seed with bench/tracegen (ten workload families, 30 s samples), replays
# each with `resource-manager simulate --compare --oracle --format json`
# (TZ=UTC, the config's check interval) and prints one table: per policy
# (threshold, percentile, the daily oracle), the fleet's CPU demand over the
# limit, CPU slack (over-limit samples count as 0), memory slack, would-be OOM
# kills (sum over services) and changes per service-day, each as the mean over
# the seeds and the worst seed.
#
#   bench/recommender.sh [--seeds "1 2 3 4 5"] [--days 14] [--config FILE]
#                        [--per-service] [--keep DIR] [--results FILE]
#     --per-service  also a table per service and policy (means over the seeds)
#     --keep DIR     keep the traces and simulate's JSON in DIR
#     --results FILE where the table goes too (bench/results/recommender.md)
#
# Builds build-bench/ (resource-manager and tracegen) unless RM_BINARY and
# RM_TRACEGEN name binaries to use. Nothing leaves this machine.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"
cd "$RM_ROOT"

seeds="1 2 3 4 5"
days=14
config=config/config.yml
per_service=0
keep=
results=bench/results/recommender.md
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds=${2:?--seeds needs a list like \"1 2 3\"}; shift ;;
    --days) days=${2:?--days needs a number}; shift ;;
    --config) config=${2:?--config needs a file}; shift ;;
    --per-service) per_service=1 ;;
    --keep) keep=${2:?--keep needs a folder}; shift ;;
    --results) results=${2:?--results needs a file}; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) rm_die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
for s in $seeds; do
  [[ $s =~ ^[0-9]{1,19}$ ]] || rm_die "--seeds: '$s' is not a whole number; nothing run"
done
[ -n "${seeds// /}" ] || rm_die "--seeds: empty list; nothing run"
if ! [[ $days =~ ^[0-9]{1,3}$ ]] || [ "$days" -lt 1 ] || [ "$days" -gt 366 ]; then
  rm_die "--days: '$days' is not a number of days from 1 to 366; nothing run"
fi
[ -r "$config" ] || rm_die "--config: cannot read '$config'; nothing run"

rm_install_packages "${RM_BUILD_PACKAGES[@]}" python3
if [ -n "${RM_BINARY:-}" ] && [ -n "${RM_TRACEGEN:-}" ]; then
  BIN=$RM_BINARY
  TRACEGEN=$RM_TRACEGEN
else
  BUILD="$RM_ROOT/build-bench"
  rm_log "building build-bench/ (resource-manager, tracegen; warnings are errors)"
  RM_TARGETS="resource-manager tracegen" rm_build "$BUILD" -DRM_TESTS=OFF -DRM_BENCH=ON
  BIN=$BUILD/resource-manager
  TRACEGEN=$BUILD/bench/tracegen
fi

if [ -n "$keep" ]; then
  mkdir -p "$keep"
  work=$keep
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/rm-recommender.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi

jsons=()
for s in $seeds; do
  trace=$work/trace-$s.csv
  t0=$(date +%s.%N)
  "$TRACEGEN" --seed "$s" --days "$days" --out "$trace" ||
    rm_die "tracegen failed on seed $s; nothing measured"
  t1=$(date +%s.%N)
  rc=0
  env -i PATH="$PATH" TZ=UTC "$BIN" simulate --config "$config" --trace "$trace" \
    --compare --oracle --format json >"$work/sim-$s.json" 2>"$work/sim-$s.err" || rc=$?
  t2=$(date +%s.%N)
  if [ "$rc" -ne 0 ]; then
    cat "$work/sim-$s.err" >&2
    rm_die "simulate exited $rc on seed $s (its message above; it needs --compare --oracle)"
  fi
  rm_log "seed $s: trace $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s, simulate $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", b - a }') s"
  jsons+=("$work/sim-$s.json")
done

mkdir -p "$(dirname "$results")"
/usr/bin/python3 - "$days" "$config" "$per_service" "${jsons[@]}" <<'EOF' | tee "$results"
"""Aggregates simulate --compare --oracle JSON over seeds: mean and worst."""
import json
import re
import sys

days, config, per_service, paths = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
COLS = [  # key, title, format of a value
    ("cpu_over", "CPU demand over the limit", "{:.1%}"),
    ("cpu_slack", "CPU slack", "{:.1%}"),
    ("mem_slack", "memory slack", "{:.1%}"),
    ("oom_kills", "would-be OOM kills", "{:.1f}"),
    ("changes_per_service_day", "changes per service-day", "{:.2f}"),
]


def die(msg):
    sys.exit("error: " + msg)


# Per service, simulate may name a figure as its summary table does.
ALIASES = {"cpu_over": "cpu_over_limit", "cpu_slack": "cpu_slack", "mem_slack": "memory_slack",
           "oom_kills": "oom_kills", "changes_per_service_day": "changes_per_day"}


def figures(path, where, obj):
    out = {}
    for key, _, _ in COLS:
        v = obj.get(key, obj.get(ALIASES[key]))
        if isinstance(v, dict):  # {"mean": ..., "p95": ...}
            v = v.get("mean")
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            die(f"{path}: {where}: '{key}' missing or not a number ({v!r}); nothing aggregated")
        out[key] = float(v)
    return out


def load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        die(f"{path}: not simulate's JSON ({e}); nothing aggregated")
    if not isinstance(doc, dict) or not isinstance(doc.get("policies"), list):
        die(f"{path}: no 'policies' list (simulate without --compare --oracle?)")
    run = {}
    for p in doc["policies"]:
        name = p.get("policy") if isinstance(p, dict) else None
        if not isinstance(name, str) or not isinstance(p.get("fleet"), dict):
            die(f"{path}: a policy without 'policy' or 'fleet'")
        svcs = {}
        for s in (p.get("services") or []) if per_service else []:
            svcs[s.get("service", "?")] = figures(path, f"{name}/{s.get('service')}", s)
        run[name] = (figures(path, f"{name}/fleet", p["fleet"]), svcs)
    interval = doc.get("check_interval")
    return f"{interval:g}" if isinstance(interval, (int, float)) else str(interval), run


def cell(values, fmt):
    """Mean (worst): every column is lower-is-better."""
    return f"{fmt.format(sum(values) / len(values))} ({fmt.format(max(values))})"


runs = [load(p) for p in paths]
seeds = [re.sub(r"^sim-|\.json$", "", p.rsplit("/", 1)[-1]) for p in paths]
intervals = sorted({str(r[0]) for r in runs})
policies = []
for _, run in runs:
    for name in run:
        if name not in policies:
            policies.append(name)

print(f"Recommender benchmark: seeds {' '.join(seeds)}, {days} days at 30 s, "
      f"check interval {'/'.join(intervals)} s, {config}, TZ=UTC.")
print("Each cell: mean over the seeds (worst seed).\n")
print("| policy | " + " | ".join(t for _, t, _ in COLS) + " |")
print("|---" * (len(COLS) + 1) + "|")
for name in policies:
    have = [run[name][0] for _, run in runs if name in run]
    if len(have) < len(runs):
        die(f"policy '{name}' missing from {len(runs) - len(have)} run(s)")
    print(f"| {name} | " + " | ".join(cell([h[k] for h in have], fmt) for k, _, fmt in COLS)
          + " |")

# Issue 13's goal for percentile, per run: met when the worst seed meets it.
GOALS = {"cpu_over": 0.025, "cpu_slack": 0.72, "mem_slack": 0.30, "oom_kills": 2,
         "changes_per_service_day": 1.0}
if "percentile" in policies:
    print("\nIssue 13's goals for percentile (worst seed against the bound):\n")
    for k, title, fmt in COLS:
        worst = max(run["percentile"][0][k] for _, run in runs)
        verdict = "met" if worst <= GOALS[k] + 1e-12 else "NOT met"
        print(f"- {title} <= {fmt.format(GOALS[k])}: {verdict} (worst {fmt.format(worst)})")

if per_service:
    print("\nPer service (mean over the seeds):\n")
    print("| service | policy | " + " | ".join(t for _, t, _ in COLS) + " |")
    print("|---" * (len(COLS) + 2) + "|")
    services = []
    for _, run in runs:
        for name in run:
            for s in run[name][1]:
                if s not in services:
                    services.append(s)
    for s in services:
        for name in policies:
            have = [run[name][1][s] for _, run in runs if s in run[name][1]]
            if not have:
                continue
            row = [fmt.format(sum(h[k] for h in have) / len(have)) for k, _, fmt in COLS]
            print(f"| {s} | {name} | " + " | ".join(row) + " |")
EOF

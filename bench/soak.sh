#!/usr/bin/env bash
# soak.sh: the daemon under AddressSanitizer/LeakSanitizer at a 1 s check
# interval against 50 idle containers for 30 minutes (by default), with the
# web layer asked for /metrics and /api/v1/status every few seconds. Samples
# RSS (/proc/PID/status) and open fds (/proc/PID/fd) every 10 s and reports
# the RSS slope after a warm-up minute (least squares, KiB per minute), the
# fd range, and LeakSanitizer's report at exit (an --binary without ASan
# reports 0 leaks: nothing looked), and the machine's load average. All
# three should be flat or none. Long: not part of the test suite; figures go
# to docs/benchmarks.md.
#
#   bench/soak.sh [--minutes N] [--containers N] [--binary PATH]
#     (default 30, 50, build-asan/resource-manager, built if missing)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"
cd "$RM_ROOT"
MINUTES=30
N=50
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift ;;
    --containers) N=$2; shift ;;
    --binary) BIN=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) rm_die "unknown option '$1'" ;;
  esac
  shift
done
if [ -z "$BIN" ]; then
  [ -x build-asan/resource-manager ] \
    || RM_TARGETS=resource-manager rm_build build-asan -DRM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  BIN=$RM_ROOT/build-asan/resource-manager
fi
RUN="$RM_ROOT/.run/bench-soak"
rm -rf "$RUN"; mkdir -p "$RUN"
p=rmsoak$$
trap 'docker ps -aq --filter "label=rm-bench=$p" | xargs -r docker rm -f >/dev/null 2>&1; rm_stop_all' EXIT
rm_start_dockerd "$RUN"
export DOCKER_HOST="unix://$RM_DOCKER_SOCK"
docker image inspect rm-test/workload:1 >/dev/null 2>&1 || rm_build_workload_image "$RUN"
names=()
# No network: an idle container needs none (and an engine's default bridge
# may be missing: docker0 was, once, on the shared machine).
for i in $(seq 1 "$N"); do
  docker run -d --pull=never --name "$p-$i" --label rm-bench="$p" --network none --cpus 0.1 --memory 16m \
    --no-healthcheck rm-test/workload:1 idle >/dev/null
  names+=("$p-$i")
done
port=$(rm_free_port 19350)
cat >"$RUN/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1s}
automation: {enabled: true, actions: {decrease_on_low: false}}
services: {monitored: [$(IFS=,; echo "${names[*]}")], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "unix://$RM_DOCKER_SOCK"}
notifications: {enabled: false, channels: {logfile: {enabled: false}}}
state: {path: "$RUN/state.json"}
metrics: {port: $port, bind_address: 127.0.0.1}
YML
# ASan keeps freed blocks in a quarantine (256 MiB by default) and caches
# freed memory: RSS would then climb for minutes whatever the program does.
# A small quarantine and prompt release make the slope the program's.
ASAN_OPTIONS=detect_leaks=1:log_path="$RUN/asan":quarantine_size_mb=8:thread_local_quarantine_size_kb=256:allocator_release_to_os_interval_ms=1000 \
  "$BIN" run --config "$RUN/cfg.yml" >"$RUN/daemon.log" 2>&1 &
pid=$!
rm_track $pid
url=http://127.0.0.1:$port
rm_wait_http "$url/health" 60 || rm_die "daemon did not start"
rm_log "soaking for $MINUTES min: $N containers, 1 s checks (samples in $RUN/samples)"
start=$SECONDS
: >"$RUN/samples"
while [ $((SECONDS - start)) -lt $((MINUTES * 60)) ]; do
  kill -0 "$pid" 2>/dev/null || rm_die "the daemon died (see $RUN)"
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  fds=$(ls "/proc/$pid/fd" | wc -l)
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "$((SECONDS - start)) $rss $fds $load" >>"$RUN/samples"
  for _ in 1 2 3; do
    curl -fsS -o /dev/null --max-time 5 "$url/metrics" || true
    curl -fsS -o /dev/null --max-time 5 "$url/api/v1/status" || true
    sleep 3.3
  done
done
checks=$(curl -fsS --max-time 5 "$url/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["checks"])')
kill -TERM "$pid"
wait "$pid" || true
leaks=$(cat "$RUN"/asan.* 2>/dev/null | grep -c "^Direct leak\|^Indirect leak" || true)
errors=$(cat "$RUN"/asan.* 2>/dev/null | grep -c "ERROR: AddressSanitizer" || true)
python3 - "$RUN/samples" "$MINUTES" "$N" "$checks" "$leaks" "$errors" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
def slope(part):  # least squares, KiB per minute
    n = len(part)
    mx = sum(r[0] for r in part) / n
    my = sum(r[1] for r in part) / n
    sxx = sum((r[0] - mx) ** 2 for r in part) or 1
    return sum((r[0] - mx) * (r[1] - my) for r in part) / sxx * 60
warm = [r for r in rows if r[0] >= 60] or rows
# The charts' rings (120 checks a service) fill in the first minutes, and the
# rendered status grows with them: the second half says whether it settled.
half = [r for r in rows if r[0] >= rows[-1][0] / 2] or rows
fds = [int(r[2]) for r in rows]
print(f"soak: {sys.argv[2]} min, {sys.argv[3]} containers, {sys.argv[4]} checks; "
      f"RSS {rows[0][1] / 1024:.1f} -> {rows[-1][1] / 1024:.1f} MiB (max "
      f"{max(r[1] for r in rows) / 1024:.1f}), slope after the first minute "
      f"{slope(warm):+.1f} KiB/min, over the second half {slope(half):+.1f} KiB/min; "
      f"fds {min(fds)}..{max(fds)} (first {fds[0]}, last {fds[-1]}); "
      f"LeakSanitizer: {sys.argv[5]} leak(s), AddressSanitizer errors: {sys.argv[6]}")
by_min = " ".join(f"{int(r[0])}:{r[1] / 1024:.1f}" for r in rows if int(r[0]) % 120 < 10)
loads = [r[3] for r in rows if len(r) > 3]
if loads:
    print(f"load average (1 min) while soaking: mean {sum(loads) / len(loads):.2f}, "
          f"max {max(loads):.2f}")
print(f"RSS (MiB) by second: {by_min}")
PY

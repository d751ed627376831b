#!/usr/bin/env bash
# web.sh: benchmarks 5 (footprint of the running service) and 6 (web layer
# under load), on the real Docker engine with 20 idle workload containers:
#   - start to the first /health 200 (median of 5 starts);
#   - idle RSS and CPU over a window with 20 services monitored;
#   - wrk on /health, /metrics and /api/v1/status: requests/s and p99 latency,
#     bounded (2 threads, 8 connections, a few seconds each), while the loop
#     runs a check every 10 s: does it keep its schedule? (check durations and
#     gaps with and without the load, in the same run)
#
#   bench/web.sh [--quick] [--binary PATH]      (default build-bench or build)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"
cd "$RM_ROOT"
quick=0
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --binary) BIN=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) rm_die "unknown option '$1'" ;;
  esac
  shift
done
rm_install_packages "${RM_BUILD_PACKAGES[@]}" docker.io busybox-static wrk
if [ -z "$BIN" ]; then
  [ -x build/resource-manager ] || rm_build build
  BIN=$RM_ROOT/build/resource-manager
fi
RUN="$RM_ROOT/.run/bench-web"
rm -rf "$RUN"; mkdir -p "$RUN"
N=20
IDLE=$([ $quick -eq 1 ] && echo 15 || echo 60)
WRK_SECONDS=$([ $quick -eq 1 ] && echo 3 || echo 10)
STARTS=5
pfx="rmbw-$$"
trap 'docker ps -aq --filter "label=rm-bench=$pfx" | xargs -r docker rm -f >/dev/null 2>&1; rm_stop_all' EXIT
rm_start_dockerd "$RUN"
export DOCKER_HOST="unix://$RM_DOCKER_SOCK"
rm_build_workload_image "$RUN"
names=()
for i in $(seq 1 $N); do
  docker run -d --pull=never --name "$pfx-$i" --label rm-bench="$pfx" \
    --label com.docker.compose.service="$pfx-$i" --cpus 0.2 --memory 32m --no-healthcheck \
    rm-test/workload:1 idle >/dev/null
  names+=("$pfx-$i")
done
port=$(rm_free_port 18900)
config() { # interval
  cat >"$RUN/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: $1}
services: {monitored: [$(IFS=,; echo "${names[*]}")], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "unix://$RM_DOCKER_SOCK"}
automation: {enabled: false}
notifications: {enabled: false, channels: {logfile: {enabled: false, path: "$RUN/x"}}}
metrics: {port: $port, bind_address: 127.0.0.1}
state: {path: "$RUN/state.json"}
logging: {level: debug}
YML
}
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%s (%s-%s)", m, a[1], a[NR]}'; }

# 5a. Start to the first /health 200.
config 300
# Start to the first 200 of /health, timed by one Python process that starts
# the daemon and polls with raw sockets every millisecond (a curl per poll
# costs more than the start-up itself on a loaded machine).
for _ in $(seq 1 $STARTS); do
  /usr/bin/python3 - "$BIN" "$RUN/cfg.yml" "$port" "$RUN/start.log" >>"$RUN/start_ms" <<'PY'
import socket, subprocess, sys, time
binary, cfg, port, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
t0 = time.monotonic()
p = subprocess.Popen([binary, "run", "--config", cfg], stdout=open(log, "w"), stderr=subprocess.STDOUT)
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.sendall(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        if s.recv(64).startswith(b"HTTP/1.1 200"):
            break
    except OSError:
        pass
    time.sleep(0.001)
print("%.0f" % ((time.monotonic() - t0) * 1000))
p.terminate()
p.wait()
PY
done
start_ms=$(median <"$RUN/start_ms")

# 5b. Idle RSS and CPU over $IDLE s, 20 services, default interval (5 min).
"$BIN" run --config "$RUN/cfg.yml" >"$RUN/idle.log" 2>&1 &
pid=$!
rm_track $pid
until grep -q "check done" "$RUN/idle.log"; do sleep 0.1; done
# CPU from the scheduler's per-thread run time (ns), not clock ticks: at
# 10 ms a tick, 60 s of a nearly idle process would be a few ticks.
runtime_ns() { cat /proc/$pid/task/*/schedstat 2>/dev/null | awk '{ t += $1 } END { printf "%.0f", t }'; }
r0=$(runtime_ns)
sleep "$IDLE"
r1=$(runtime_ns)
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
hwm_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
idle_cpu=$(awk -v a="$((r1 - r0))" -v w="$IDLE" 'BEGIN {printf "%.3f", a/1e9/w*100}')
kill -TERM $pid; wait $pid || true

# 6. wrk while the loop checks every 10 s; the same window without load first.
INTERVAL=10
config ${INTERVAL}s
"$BIN" run --config "$RUN/cfg.yml" >"$RUN/load.log" 2>&1 &
pid=$!
rm_track $pid
until grep -q "check done" "$RUN/load.log"; do sleep 0.1; done
window=$((3 * WRK_SECONDS))
echo "quiet $(date +%s.%N)" >"$RUN/marks"
sleep "$window"
echo "load $(date +%s.%N)" >>"$RUN/marks"
declare -A rps p99
for path in /health /metrics /api/v1/status; do
  f="$RUN/wrk$(echo $path | tr / _).txt"
  wrk -t2 -c8 -d"${WRK_SECONDS}s" --latency "http://127.0.0.1:$port$path" >"$f" 2>&1
  rps[$path]=$(awk '/Requests\/sec/ {print $2}' "$f")
  p99[$path]=$(awk '$1 == "99%" {print $2}' "$f")
done
echo "end $(date +%s.%N)" >>"$RUN/marks"
kill -TERM $pid; wait $pid || true
# Check starts come from "check done" time minus its duration.
/usr/bin/python3 - "$RUN/load.log" "$RUN/marks" "$INTERVAL" >"$RUN/schedule.txt" <<'PY'
import sys, re, datetime, statistics
log, marks, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
m = dict(l.split() for l in open(marks))
quiet, load, end = float(m["quiet"]), float(m["load"]), float(m["end"])
checks = []
for l in open(log):
    r = re.match(r"(\S+) debug daemon check done .* seconds=([0-9.]+)", l)
    if r:
        t = datetime.datetime.strptime(r.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
        checks.append((t - float(r.group(2)), float(r.group(2))))
def part(a, b):
    c = [x for x in checks if a <= x[0] < b]
    starts = [x[0] for x in checks]
    gaps = [q - p for p, q in zip(starts, starts[1:]) if a <= q < b]
    d = sorted(x[1] for x in c)
    return "%d checks, duration median %.2f s (max %.2f), start-to-start gap max %.2f s" % (
        len(c), statistics.median(d) if d else float("nan"), d[-1] if d else float("nan"),
        max(gaps) if gaps else float("nan"))
print("without load: " + part(quiet, load))
print("under load: " + part(load, end))
PY

bin_size=$(stat -c %s "$BIN")
{
  echo "## 5. Footprint (running service, $N idle containers, Docker source)"
  echo
  echo "| Figure | Value |"
  echo "|---|---|"
  echo "| Binary measured | \`$(basename "$(dirname "$BIN")")/resource-manager\`, $bin_size bytes |"
  echo "| Start to first /health 200 (exec to the answer, one Python poller every ms) | $start_ms ms, median (min-max) of $STARTS starts |"
  echo "| Idle RSS after the first check | $((rss_kb)) KiB (peak $hwm_kb KiB) |"
  echo "| Idle CPU over ${IDLE} s (check_interval 5m; scheduler run time of every thread) | ${idle_cpu} % of one core |"
  echo
  echo "## 6. Web layer under wrk (2 threads, 8 connections, ${WRK_SECONDS} s per path; loop checking every ${INTERVAL} s)"
  echo
  echo "| Path | Requests/s | p99 latency |"
  echo "|---|---|---|"
  for path in /health /metrics /api/v1/status; do
    echo "| \`$path\` | ${rps[$path]} | ${p99[$path]} |"
  done
  echo
  echo "Loop schedule (check_interval ${INTERVAL} s, $N containers through the Docker source):"
  echo
  sed 's/^/- /' "$RUN/schedule.txt"
} | tee "$RUN/latest.md"

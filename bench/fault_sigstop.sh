#!/usr/bin/env bash
# fault_sigstop.sh: the manager stopped with SIGSTOP (2 minutes by default),
# then continued, with 5 idle services at a 1 s check interval. Reports what
# the user sees: /health while stopped, how soon after SIGCONT it answers and
# with what status, whether checks pile up after the pause (checks in the
# 10 s after it), whether the state file is whole, and what the log says.
# Not part of the test suite (it lasts minutes); figures go to
# docs/benchmarks.md.
#
#   bench/fault_sigstop.sh [--binary PATH] [--stop SECONDS]   (default build/, 120)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"
cd "$RM_ROOT"
BIN=$RM_ROOT/build/resource-manager
STOP=120
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BIN=$2; shift ;;
    --stop) STOP=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) rm_die "unknown option '$1'" ;;
  esac
  shift
done
[ -x "$BIN" ] || rm_die "no binary at $BIN (build first)"
RUN="$RM_ROOT/.run/bench-sigstop"
rm -rf "$RUN"; mkdir -p "$RUN"
p=rmbss$$
trap 'docker ps -aq --filter "label=rm-bench=$p" | xargs -r docker rm -f >/dev/null 2>&1; rm_stop_all' EXIT
rm_start_dockerd "$RUN"
export DOCKER_HOST="unix://$RM_DOCKER_SOCK"
docker image inspect rm-test/workload:1 >/dev/null 2>&1 || rm_build_workload_image "$RUN"
names=()
for i in 1 2 3 4 5; do
  docker run -d --pull=never --name "$p-$i" --label rm-bench="$p" --cpus 0.25 --memory 32m \
    --no-healthcheck rm-test/workload:1 idle >/dev/null
  names+=("$p-$i")
done
port=$(rm_free_port 19250)
cat >"$RUN/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker, check_interval: 1s}
automation: {enabled: false}
services: {monitored: [$(IFS=,; echo "${names[*]}")], critical: [], optional: [], baseline: {}, priority: {}}
docker: {host: "unix://$RM_DOCKER_SOCK"}
notifications: {enabled: false, channels: {logfile: {enabled: false}}}
state: {path: "$RUN/state.json"}
metrics: {port: $port, bind_address: 127.0.0.1}
logging: {level: debug}
YML
"$BIN" run --config "$RUN/cfg.yml" >"$RUN/daemon.log" 2>&1 &
pid=$!
rm_track $pid
url=http://127.0.0.1:$port
rm_wait_http "$url/health" 20 || rm_die "daemon did not start"
sleep 10
checks() { curl -sS --max-time 2 "$url/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["checks"])'; }
c0=$(checks)
kill -STOP "$pid"
rm_log "stopped for $STOP s"
t_stop=$SECONDS
answered=0 polls=0
while [ $((SECONDS - t_stop)) -lt "$STOP" ]; do
  curl -s -o /dev/null --max-time 2 "$url/health" && answered=$((answered + 1))
  polls=$((polls + 1))
  sleep 3
done
lines0=$(wc -l <"$RUN/daemon.log")
kill -CONT "$pid"
# /health every 0.1 s for 5 s: its answers in order, run-length encoded.
seq=""
for _ in $(seq 1 50); do
  code=$(curl -s -o "$RUN/health.json" -w '%{http_code}' --max-time 2 "$url/health" || true)
  st=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$RUN/health.json" 2>/dev/null || echo none)
  seq="$seq $code:$st"
  sleep 0.1
done
first=$(echo "$seq" | tr ' ' '\n' | grep -v '^$' | uniq -c | awk '{printf "%s x%d, ", $2, $1}')
c1=$(checks)
sleep 10
c2=$(checks)
healthy=$(curl -sS --max-time 2 "$url/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
whole=$(python3 -c 'import json,sys; json.load(open(sys.argv[1])); print("whole")' "$RUN/state.json" 2>/dev/null || echo torn)
kill -TERM "$pid"; wait "$pid" || true
after=$(sed -n "$((lines0 + 1)),\$p" "$RUN/daemon.log" | grep -v "debug" | cut -f1 | cut -c26- | sort | uniq -c | sort -rn | head -5 | tr -s ' ' | tr '\n' ';')
echo "sigstop: $STOP s stopped: /health answered $answered of $polls polls meanwhile (checks before: $c0)"
echo "sigstop: after SIGCONT, /health every 0.1 s for 5 s: ${first}then checks $c1 -> $c2 in 10 s; then $healthy; state file $whole"
echo "sigstop: log lines after SIGCONT (info and above): ${after:-none}"

#!/usr/bin/env bash
# run.sh: the benchmark harness (issue 9). Builds build-bench/, runs every
# benchmark that can be measured today, prints the tables and writes them to
# bench/results/latest.md. Everything runs on loopback: a private Prometheus
# (scrape interval 1 s, file_sd) started here and stopped by PID at the end.
#
#   bench/run.sh [--quick] [--static] [--check-only] [--swarm-only] [--scales "N ..."]
#     --quick   fewer scales and repetitions: under 2 minutes once built
#               (CI may run it as a smoke test; it never asserts a time)
#     --static  also run scripts/build-static.sh (apt-get source, ~2 min the
#               first time) and measure the static binary
#     --check-only  only section 1 (check cost versus scale)
#     --swarm-only  only sections 2b and 2c (the Docker source over Swarm
#               services, on a one-node swarm it creates when the engine is
#               in none; the Prometheus source over Swarm-labelled series):
#               about 9 minutes
#     --scales  the numbers of services of section 1 (default 10 100 1000
#               5000 10000; --quick 10 100 1000)
#
# Section 2b runs Swarm services: on an engine in no swarm it initialises a
# one-node swarm (docker swarm init --advertise-addr 127.0.0.1) and leaves it
# at the end; in a swarm it did not create it adds its services (a manager)
# or skips (a worker), and never leaves that swarm.
#
# The key=value lines the programs printed go to bench/results/latest.raw.txt.
# Each figure is repeated (5 times or more) and given as median (min-max).
# Variants are compared as ratios of medians measured in the same run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"
cd "$RM_ROOT"

quick=0
static=0
check_only=0
swarm_only=0
scales=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --static) static=1 ;;
    --check-only) check_only=1 ;;
    --swarm-only) swarm_only=1 ;;
    --scales) [ $# -ge 2 ] || rm_die "--scales needs a list, e.g. --scales \"1000 10000\""; scales=$2; shift ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) rm_die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

started=$(date +%s)
BUILD="$RM_ROOT/build-bench"
BIN="$BUILD/resource-manager"
B="$BUILD/bench"
RUN="$RM_ROOT/.run/bench"
OUT="$RUN/latest.md"

if [ "$quick" -eq 1 ]; then
  SCALES=(10 100 1000)
  CHECK_REPS=5
  ORIG_REPS=3
  ENGINE_CHECKS=50
  HYPERFINE_RUNS=10
  IDLE_SECONDS=1
  IDLE_RUNS=3
  # A sequential collect costs about 1.1 s per container: 5 keeps this quick.
  DOCKER_SCALES=(5)
  DOCKER_REPS=3
  SWARM_SCALES=(5)
  SWARM_REPS=3
  SWARM_PROM_SCALES=(100)
else
  SCALES=(10 100 1000 5000 10000)
  CHECK_REPS=7
  ORIG_REPS=5 # 4N sequential queries: about a minute per check at 5000 services
  ENGINE_CHECKS=200
  HYPERFINE_RUNS=50
  IDLE_SECONDS=3
  IDLE_RUNS=5
  DOCKER_SCALES=(10 50)
  DOCKER_REPS=5 # a sequential collect of 50 containers takes about a minute
  SWARM_SCALES=(10 50)
  SWARM_REPS=3 # the services' start and removal take minutes of their own
  SWARM_PROM_SCALES=(100 1000)
fi
if [ -n "$scales" ]; then
  read -ra SCALES <<<"$scales"
  for n in "${SCALES[@]}"; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || rm_die "--scales: '$n' is not a number of services"; done
fi
# The original's 4N sequential queries take minutes per check from 10,000 up.
orig_reps_for() { if [ "$1" -ge 10000 ]; then echo 1; else echo "$ORIG_REPS"; fi; }
# The exporter's containers are all in compose project "bench", as a stack
# managed with services.project set (COMPOSE_PROJECT_NAME) would be.
PROJECT=bench
ENGINE_SERVICES=1000
ENGINE_RUNS=5
CALLGRIND_CHECKS=20

rm_install_packages "${RM_BUILD_PACKAGES[@]}" prometheus hyperfine valgrind time
rm_log "building build-bench/ (RelWithDebInfo, -O2, warnings are errors)"
# --swarm-only needs one program of the tree.
[ "$swarm_only" -eq 0 ] || export RM_TARGETS="bench_docker bench_exporter bench_check"
rm_build "$BUILD" -DRM_TESTS=OFF -DRM_BENCH=ON
if [ "$static" -eq 1 ]; then
  rm_log "building build-static/ with scripts/build-static.sh"
  scripts/build-static.sh >&2
fi

rm -rf "$RUN"
mkdir -p "$RUN/prom-targets"
BENCH_CONTAINERS=() # containers this run created: the only ones it removes
remove_bench_containers() {
  [ ${#BENCH_CONTAINERS[@]} -gt 0 ] || return 0
  docker -H "unix://$RM_DOCKER_SOCK" rm -f "${BENCH_CONTAINERS[@]}" >/dev/null 2>&1 || true
  BENCH_CONTAINERS=()
}
trap 'remove_bench_containers; remove_bench_swarm; rm_stop_all' EXIT
# Sections are measured in the order that disturbs least (no Prometheus
# running during the engine and footprint figures) and printed by number.
SEC="$RUN/sec-0.md"
out() { printf '%s\n' "$*" >>"$SEC"; }

# ---- helpers ---------------------------------------------------------------

# kv LINE KEY: the value of KEY in a line of key=value figures.
kv() {
  awk -v l=" $1" -v k="$2" 'BEGIN { n = split(l, f, " ");
    for (i = 1; i <= n; i++) { p = index(f[i], "="); if (substr(f[i], 1, p - 1) == k) { print substr(f[i], p + 1); exit } } }'
}

# spread LINE KEY [DIVISOR] [DECIMALS]: "med (min–max)" of KEY_med/_min/_max.
spread() {
  awk -v l=" $1" -v k="$2" -v d="${3:-1}" -v p="${4:-1}" 'BEGIN { n = split(l, f, " ");
    for (i = 1; i <= n; i++) { q = index(f[i], "="); v[substr(f[i], 1, q - 1)] = substr(f[i], q + 1) }
    printf "%.*f (%.*f–%.*f)", p, v[k "_med"] / d, p, v[k "_min"] / d, p, v[k "_max"] / d }'
}

# calc EXPR [DECIMALS]: arithmetic on decimals.
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }

# stats DECIMALS < numbers: "med (min–max)".
stats() {
  sort -g | awk -v p="$1" '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
    printf "%.*f (%.*f–%.*f)", p, m, p, v[1], p, v[NR] }'
}

# ---- machine -----------------------------------------------------------------

machine_section() {
  SEC="$RUN/sec-0.md"
  local model mem_kib commit
  model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  mem_kib=$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)
  commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include bench || echo "+dirty")
  out "# Benchmark results"
  out ""
  out "Generated by \`bench/run.sh$([ $quick -eq 1 ] && echo ' --quick')\` at $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $commit."
  out "Figures: median (min–max) over the repetitions given; ratios are of medians from this run."
  out ""
  out "## Machine"
  out ""
  out "| | |"
  out "|---|---|"
  out "| CPUs (nproc) | $(nproc) |"
  out "| Model | ${model:-unknown} |"
  out "| RAM | $(calc "$mem_kib / 1048576" 1) GiB |"
  out "| Kernel | $(uname -r) |"
  out "| Load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
  out "| Compiler | $(gcc --version | awk 'NR == 1') |"
  out "| Prometheus | $(prometheus --version 2>&1 | awk 'NR == 1') |"
  out "| libcurl / jansson | $(dpkg-query -W -f='${Version}' libcurl4 2>/dev/null) / $(dpkg-query -W -f='${Version}' libjansson4 2>/dev/null) |"
  out ""
}

# ---- 3. engine throughput -------------------------------------------------------

engine_section() {
  SEC="$RUN/sec-3.md"
  rm_log "[$(( $(date +%s) - started )) s] 3. engine throughput: $ENGINE_SERVICES services x $ENGINE_CHECKS checks x $ENGINE_RUNS runs"
  local cmd line cg_cmd collected decisions
  cmd="$B/bench_engine --services $ENGINE_SERVICES --checks $ENGINE_CHECKS --runs $ENGINE_RUNS"
  line=$($cmd)
  echo "$line" >>"$RUN/raw.txt"
  cg_cmd="valgrind --tool=callgrind --toggle-collect=engine_decide $B/bench_engine --services $ENGINE_SERVICES --checks $CALLGRIND_CHECKS --runs 1"
  rm_log "[$(( $(date +%s) - started )) s] 3. engine under callgrind ($ENGINE_SERVICES x $CALLGRIND_CHECKS decisions)"
  valgrind --tool=callgrind --toggle-collect=engine_decide --callgrind-out-file="$RUN/callgrind.engine.out" \
    "$B/bench_engine" --services "$ENGINE_SERVICES" --checks "$CALLGRIND_CHECKS" --runs 1 \
    >"$RUN/callgrind.engine.stdout" 2>"$RUN/callgrind.engine.stderr"
  collected=$(awk '/Collected :/ { print $NF }' "$RUN/callgrind.engine.stderr")
  decisions=$(kv "$(cat "$RUN/callgrind.engine.stdout")" decisions_total)
  out "## 3. Engine throughput"
  out ""
  out "Synthetic observations (steady, CPU high/low, memory high/low, throttled, unknown, young/OOM), checks 300 s apart; a change is recorded as applied and the limits follow it."
  out ""
  out "| Figure | Value |"
  out "|---|---|"
  out "| CPU ns per decision (engine_decide + engine_apply_result, thread CPU time) | $(spread "$line" ns_per_decision 1 0) |"
  out "| Decisions per second (1 core, from the median) | $(calc "$(kv "$line" decisions_per_s_med) / 1000" 0) k |"
  out "| Wall ns per decision (includes time the scheduler took away) | $(spread "$line" wall_ns_per_decision 1 0) |"
  out "| Instructions per engine_decide (callgrind, exact) | $(calc "$collected / $decisions" 0) ($collected over $decisions decisions) |"
  out "| Of which formatting text (vsnprintf: the explanation, durations) | $(callgrind_annotate --inclusive=yes "$RUN/callgrind.engine.out" 2>/dev/null \
      | awk -v total="$collected" '{ sub(/\([^)]*\)/, "") } $2 ~ /:__vsnprintf_internal$/ && !done++ { gsub(/,/, "", $1); printf "%.1f %%", 100 * $1 / total }') |"
  out ""
  out "- Reasons of one run: \`$(kv "$line" mix)\`"
  out "- Command: \`$cmd\`"
  out "- Callgrind: \`$cg_cmd\` (the \"Collected\" line)"
  out ""
  ENGINE_LINE=$line
  ENGINE_INSTR=$(calc "$collected / $decisions" 0)
}

# ---- 5. footprint ------------------------------------------------------------------

# hyperfine_row LABEL COMMAND: median (min–max) ms of a command's start to exit.
hyperfine_row() {
  local csv="$RUN/hyperfine.$RANDOM.csv"
  hyperfine -N --warmup 3 --runs "$HYPERFINE_RUNS" --export-csv "$csv" "$2" >/dev/null 2>&1 \
    || rm_die "hyperfine failed on: $2"
  awk -F, -v lbl="$1" 'NR == 2 { printf "| %s | %.2f (%.2f–%.2f) |\n", lbl, $4 * 1000, $7 * 1000, $8 * 1000 }' "$csv" >>"$SEC"
}

# max_rss_kib COMMAND...: peak RSS of one run, from /usr/bin/time -v.
max_rss_kib() {
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ { print $2 }'
}

# idle_rss BINARY: VmRSS (KiB) of `run` after IDLE_SECONDS, IDLE_RUNS times; prints
# "rss_kib cpu_ticks" lines.
idle_rss() {
  local i pid
  for i in $(seq 1 "$IDLE_RUNS"); do
    LOG_FILE="$RUN/idle.log" "$1" run --config config/config.yml 2>>"$RUN/idle.stderr" &
    pid=$!
    sleep "$IDLE_SECONDS"
    kill -0 "$pid" 2>/dev/null || rm_die "resource-manager run exited early (see $RUN/idle.stderr)"
    echo "$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status") $(awk '{ print $14 + $15 }' "/proc/$pid/stat")"
    kill -TERM "$pid"
    wait "$pid" || true
  done
}

footprint_section() {
  SEC="$RUN/sec-5.md"
  rm_log "[$(( $(date +%s) - started )) s] 5. footprint: binary sizes, check-config start to exit, idle RSS of run"
  local stripped="$RUN/resource-manager.stripped" sbin="$RM_ROOT/build-static/resource-manager" rss idle
  strip -o "$stripped" "$BIN"
  out "## 5. Footprint (partial)"
  out ""
  out "| Binary | Size |"
  out "|---|---|"
  out "| Dynamic, as built (RelWithDebInfo, with debug info) | $(calc "$(stat -c %s "$BIN") / 1024" 0) KiB |"
  out "| Dynamic, stripped | $(calc "$(stat -c %s "$stripped") / 1024" 0) KiB (text $(size "$stripped" | awk 'NR == 2 { print $1 }') B); $(ldd "$BIN" | wc -l) shared libraries loaded |"
  if [ -x "$sbin" ]; then
    out "| Static, stripped (scripts/build-static.sh, built $(date -u -r "$sbin" +%Y-%m-%d)) | $(calc "$(stat -c %s "$sbin") / 1024" 0) KiB |"
  else
    out "| Static | not built: run \`bench/run.sh --static\` or \`scripts/build-static.sh\` |"
  fi
  out ""
  out "| Start to exit of \`check-config --quiet\` ($HYPERFINE_RUNS runs, hyperfine -N, 3 warm-up) | ms |"
  out "|---|---|"
  hyperfine_row "dynamic" "$BIN check-config --config config/config.yml --quiet"
  [ -x "$sbin" ] && hyperfine_row "static" "$sbin check-config --config config/config.yml --quiet"
  out ""
  rss=$(for _ in 1 2 3 4 5; do max_rss_kib "$BIN" check-config --config config/config.yml --quiet; done | stats 0)
  idle=$(idle_rss "$BIN")
  out "| Memory | KiB |"
  out "|---|---|"
  out "| Peak RSS of \`check-config\`, dynamic (/usr/bin/time -v, 5 runs) | $rss |"
  if [ -x "$sbin" ]; then
    out "| Peak RSS of \`check-config\`, static (5 runs) | $(for _ in 1 2 3 4 5; do max_rss_kib "$sbin" check-config --config config/config.yml --quiet; done | stats 0) |"
  fi
  out "| RSS of \`run\` after ${IDLE_SECONDS} s idle, dynamic (VmRSS, $IDLE_RUNS runs) | $(awk '{ print $1 }' <<<"$idle" | stats 0) |"
  if [ -x "$sbin" ]; then
    out "| RSS of \`run\` after ${IDLE_SECONDS} s idle, static ($IDLE_RUNS runs) | $(idle_rss "$sbin" | awk '{ print $1 }' | stats 0) |"
  fi
  out "| CPU ticks (1/100 s) used by \`run\` from exec to that reading (start-up included) | $(awk '{ print $2 }' <<<"$idle" | stats 0) |"
  out ""
  out "- \`run\` is the daemon with config/config.yml, whose Prometheus and Docker hosts do not resolve here: it makes one check with no observations (no state file either) and waits. This idle RSS is a floor, not the steady-state RSS of a daemon watching 1,000 services."
  out "- Commands: \`hyperfine -N --warmup 3 --runs $HYPERFINE_RUNS '$BIN check-config --config config/config.yml --quiet'\`; \`/usr/bin/time -v\` on the same; \`LOG_FILE=... resource-manager run --config config/config.yml\`, then VmRSS from /proc/PID/status."
  out ""
}

# ---- 2. Docker source: bounded parallel stats versus sequential ---------------------

docker_row() { # LINE
  local l=$1 par src
  par=$(kv "$l" parallel); src=$(kv "$l" source)
  printf '| %s | %s | %s | %s KiB | %s | %s | %s/%s of %s |\n' \
    "$(kv "$l" n)" "$([ "$src" = cgroup ] && echo "cgroup files, inspect $par at once (default)" || { [ "$par" -eq 1 ] && echo "stats, 1 (sequential)" || echo "stats, $par at once"; })" \
    "$(kv "$l" requests_med | cut -d. -f1)" "$(calc "$(kv "$l" bytes_rx_med) / 1024" 0)" \
    "$(spread "$l" wall_ms 1 0)" "$(spread "$l" cpu_ms 1 1)" \
    "$(kv "$l" known_cpu)" "$(kv "$l" known_mem)" "$(kv "$l" n)" >>"$SEC"
}

docker_section() {
  SEC="$RUN/sec-2.md"
  rm_start_dockerd "$RUN"
  rm_build_workload_image "$RUN"
  local host="unix://$RM_DOCKER_SOCK" tag max=${DOCKER_SCALES[${#DOCKER_SCALES[@]}-1]} i name n line
  local engine
  engine=$(docker -H "$host" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || echo unknown)
  # A name and compose project no one else uses: only these containers match.
  tag="rmbench-$$-$RANDOM"
  rm_log "[$(( $(date +%s) - started )) s] 2. Docker source: starting $max idle containers $tag-NN"
  local pids=() pid
  for ((i = 0; i < max; i++)); do
    name=$(printf '%s-%02d' "$tag" "$i")
    BENCH_CONTAINERS+=("$name") # tracked first: removed even if the run fails half-way
    docker -H "$host" run -d --pull=never --name "$name" --label "rm.bench=$tag" \
      --label "com.docker.compose.project=$tag" \
      --label "com.docker.compose.service=$(printf 'svc-%02d' "$i")" \
      rm-test/workload:1 idle >/dev/null 2>>"$RUN/docker-run.err" &
    pids+=($!)
    # Eight at a time: the engine is shared.
    if [ ${#pids[@]} -ge 8 ]; then
      for pid in "${pids[@]}"; do wait "$pid" || rm_die "docker run failed (see $RUN/docker-run.err)"; done
      pids=()
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || rm_die "docker run failed (see $RUN/docker-run.err)"; done
  # Global: the Swarm section compares with them when both ran.
  declare -gA PAR SEQ CG
  for n in "${DOCKER_SCALES[@]}"; do
    rm_log "[$(( $(date +%s) - started )) s] 2. Docker source: $n containers, cgroup files, stats 8 at once and sequential, $DOCKER_REPS collects each"
    line=$("$B/bench_docker" --host "$host" --project "$tag" --services "$n" --prefix svc \
      --parallel c8,8,1 --reps "$DOCKER_REPS" --warmup 1) || rm_die "bench_docker ($n) failed"
    printf '%s\n' "$line" >>"$RUN/raw.txt"
    CG[$n]=$(grep '^parallel=8 source=cgroup ' <<<"$line")
    PAR[$n]=$(grep '^parallel=8 source=stats ' <<<"$line")
    SEQ[$n]=$(grep '^parallel=1 ' <<<"$line")
  done
  remove_bench_containers

  out "## 2. Docker source: bounded parallel stats versus sequential"
  out ""
  out "One collect of the Docker source (\`source_docker\`: one container list, then inspect + one-shot stats per matching container) for N idle containers of \`rm-test/workload:1\` on the engine of this machine (Docker Engine $engine, shared with other work), fetched 8 at a time (the production default) or one after another (\`source_docker_set_parallel(src, 1)\`, a setter only the benchmark calls). Each variant has a source of its own (one source switching between the cgroup files and the stats would take a second sample, a second later, at each switch: the two read times are on different clocks); each repetition runs one collect of each variant, after one unmeasured collect of each (the first one of a container has no CPU rate). $DOCKER_REPS repetitions. CPU is the benchmark process's (every worker thread), not the engine's."
  out ""
  out "| N | containers fetched at once | requests/collect | received/collect | wall ms | CPU ms | services with CPU/memory known |"
  out "|---|---|---|---|---|---|---|"
  for n in "${DOCKER_SCALES[@]}"; do
    docker_row "${CG[$n]}"
    docker_row "${PAR[$n]}"
    docker_row "${SEQ[$n]}"
  done
  out ""
  out "Ratios of medians, same run (stats 8 at once ÷ cgroup files; sequential ÷ stats 8 at once):"
  out ""
  out "| N | wall: stats ÷ cgroup | CPU: stats ÷ cgroup | wall: sequential ÷ 8 | CPU: sequential ÷ 8 |"
  out "|---|---|---|---|---|"
  for n in "${DOCKER_SCALES[@]}"; do
    out "| $n | $(calc "$(kv "${PAR[$n]}" wall_ms_med) / $(kv "${CG[$n]}" wall_ms_med)" 2)× | $(calc "$(kv "${PAR[$n]}" cpu_ms_med) / $(kv "${CG[$n]}" cpu_ms_med)" 2)× | $(calc "$(kv "${SEQ[$n]}" wall_ms_med) / $(kv "${PAR[$n]}" wall_ms_med)" 2)× | $(calc "$(kv "${SEQ[$n]}" cpu_ms_med) / $(kv "${PAR[$n]}" cpu_ms_med)" 2)× |"
  done
  out ""
  out "- Command per N: \`$B/bench_docker --host $host --project P --services N --prefix svc --parallel c8,8,1 --reps $DOCKER_REPS --warmup 1\`, with N containers \`docker run -d --name P-NN --label com.docker.compose.project=P --label com.docker.compose.service=svc-NN rm-test/workload:1 idle\` (P unique per run; removed by name at the end, also on failure)."
  out ""
}

# ---- 2b. Docker source over Swarm services ---------------------------------------------

BENCH_SERVICES=() # Swarm services this run created: the only ones it removes
SWARM_TAG=
SWARM_CREATED=0 # 1 when this run initialised the swarm: then it leaves it
HAD_GWBRIDGE=
remove_bench_swarm() {
  [ ${#BENCH_SERVICES[@]} -gt 0 ] || [ "$SWARM_CREATED" = 1 ] || return 0
  local host="unix://$RM_DOCKER_SOCK"
  if [ ${#BENCH_SERVICES[@]} -gt 0 ]; then
    docker -H "$host" service rm "${BENCH_SERVICES[@]}" >/dev/null 2>&1 || true
    BENCH_SERVICES=()
    # The task containers stop after the services are gone: wait (30 s at
    # most) so that neither the next section nor the swarm's leave meets them.
    for _ in $(seq 1 150); do
      [ -z "$(docker -H "$host" ps -aq --filter "label=com.docker.stack.namespace=$SWARM_TAG")" ] && break
      sleep 0.2
    done
  fi
  if [ "$SWARM_CREATED" = 1 ]; then
    docker -H "$host" swarm leave --force >/dev/null 2>&1 || true
    [ -n "$HAD_GWBRIDGE" ] || docker -H "$host" network rm docker_gwbridge >/dev/null 2>&1 || true
    SWARM_CREATED=0
  fi
}

swarm_section() {
  SEC="$RUN/sec-2b.md"
  rm_start_dockerd "$RUN"
  local host="unix://$RM_DOCKER_SOCK" max=${SWARM_SCALES[${#SWARM_SCALES[@]}-1]} i name n line
  docker -H "$host" image inspect rm-test/workload:1 >/dev/null 2>&1 || rm_build_workload_image "$RUN"
  out "## 2b. Docker source over Swarm services"
  out ""
  local swarm_state
  swarm_state=$(docker -H "$host" info --format '{{.Swarm.LocalNodeState}}/{{.Swarm.ControlAvailable}}')
  case "$swarm_state" in
    inactive/*)
      HAD_GWBRIDGE=$(docker -H "$host" network ls -q --filter name='^docker_gwbridge$')
      docker -H "$host" swarm init --advertise-addr 127.0.0.1 >"$RUN/swarm-init.log" 2>&1 \
        || rm_die "docker swarm init failed: $(cat "$RUN/swarm-init.log")"
      SWARM_CREATED=1 ;;
    active/true) rm_log "the engine is a manager of a swarm this run did not create: its services are added to it, and removed" ;;
    *) out "Not measured: the engine's swarm state is \`$swarm_state\` (state/manager); it needs no swarm (one is created) or to be a manager of an active one (only managers answer GET /services)."; out ""; return 0 ;;
  esac
  local engine
  engine=$(docker -H "$host" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || echo unknown)
  # A stack namespace no one else uses: only these services' tasks match.
  SWARM_TAG="rmswarm-$$-$RANDOM"
  rm_log "[$(( $(date +%s) - started )) s] 2b. Swarm: creating $max services ${SWARM_TAG}_svc-NN, 1 replica each"
  local pids=() pid t0=$SECONDS
  for ((i = 0; i < max; i++)); do
    name=$(printf '%s_svc-%02d' "$SWARM_TAG" "$i")
    BENCH_SERVICES+=("$name") # tracked first: removed even if the run fails half-way
    # As `docker stack deploy` would label it (stack namespace on the service
    # and its tasks); the idle workload without its health check, as in §2.
    docker -H "$host" service create --detach --name "$name" --replicas 1 --no-healthcheck \
      --label "com.docker.stack.namespace=$SWARM_TAG" \
      --container-label "com.docker.stack.namespace=$SWARM_TAG" \
      --no-resolve-image rm-test/workload:1 idle >/dev/null 2>>"$RUN/service-create.err" &
    pids+=($!)
    if [ ${#pids[@]} -ge 8 ]; then
      for pid in "${pids[@]}"; do wait "$pid" || rm_die "docker service create failed (see $RUN/service-create.err)"; done
      pids=()
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || rm_die "docker service create failed (see $RUN/service-create.err)"; done
  local running=0
  for _ in $(seq 1 300); do
    running=$(docker -H "$host" ps -q --filter "label=com.docker.stack.namespace=$SWARM_TAG" --filter status=running | wc -l)
    [ "$running" -ge "$max" ] && break
    sleep 1
  done
  [ "$running" -ge "$max" ] || rm_die "only $running of $max Swarm tasks running after 300 s (docker service ps ${SWARM_TAG}_svc-00)"
  local start_s=$((SECONDS - t0))
  declare -A SPAR SSEQ SCG
  for n in "${SWARM_SCALES[@]}"; do
    rm_log "[$(( $(date +%s) - started )) s] 2b. Swarm: $n services, cgroup files, stats 8 at once and sequential, $SWARM_REPS collects each"
    line=$("$B/bench_docker" --host "$host" --project "$SWARM_TAG" --services "$n" --prefix svc \
      --parallel c8,8,1 --reps "$SWARM_REPS" --warmup 1) || rm_die "bench_docker (Swarm, $n) failed"
    printf 'swarm %s\n' "$line" >>"$RUN/raw.txt"
    SCG[$n]=$(grep '^parallel=8 source=cgroup ' <<<"$line")
    SPAR[$n]=$(grep '^parallel=8 source=stats ' <<<"$line")
    SSEQ[$n]=$(grep '^parallel=1 ' <<<"$line")
  done
  local swarm_note=", a swarm this run created and left"
  [ "$SWARM_CREATED" = 1 ] || swarm_note=", a swarm that was there before this run (its other services untouched)"
  remove_bench_swarm

  out "One collect of the Docker source over N Swarm services of one replica each (\`docker service create --replicas 1 --no-healthcheck\` of \`rm-test/workload:1 idle\`, labelled with a stack namespace as \`docker stack deploy\` labels them; \`services.project\` is the stack), on a one-node swarm of the engine of this machine (Docker Engine $engine$swarm_note). The collect is §2's (list, then per task container an inspect and the cgroup files or the engine's one-shot stats) plus one \`GET /services\` per collect, which tells a service with tasks on other nodes (none here). Same program and variants as §2 (a source per variant); $SWARM_REPS repetitions after one unmeasured collect of each. The $max services took $start_s s to have every task running."
  out ""
  out "| N | containers fetched at once | requests/collect | received/collect | wall ms | CPU ms | services with CPU/memory known |"
  out "|---|---|---|---|---|---|---|"
  for n in "${SWARM_SCALES[@]}"; do
    docker_row "${SCG[$n]}"
    docker_row "${SPAR[$n]}"
    docker_row "${SSEQ[$n]}"
  done
  out ""
  out "Ratios of medians, same run (the original's access pattern, one container after another through the engine's stats, ÷ the default, cgroup files; stats 8 at once ÷ cgroup files):"
  out ""
  out "| N | wall: sequential ÷ cgroup | CPU: sequential ÷ cgroup | wall: stats 8 ÷ cgroup | CPU: stats 8 ÷ cgroup |"
  out "|---|---|---|---|---|"
  for n in "${SWARM_SCALES[@]}"; do
    out "| $n | $(calc "$(kv "${SSEQ[$n]}" wall_ms_med) / $(kv "${SCG[$n]}" wall_ms_med)" 1)× | $(calc "$(kv "${SSEQ[$n]}" cpu_ms_med) / $(kv "${SCG[$n]}" cpu_ms_med)" 1)× | $(calc "$(kv "${SPAR[$n]}" wall_ms_med) / $(kv "${SCG[$n]}" wall_ms_med)" 1)× | $(calc "$(kv "${SPAR[$n]}" cpu_ms_med) / $(kv "${SCG[$n]}" cpu_ms_med)" 1)× |"
  done
  local compared=0
  for n in "${SWARM_SCALES[@]}"; do [ -n "${CG[$n]:-}" ] && compared=1; done
  if [ "$compared" = 1 ]; then
    out ""
    out "Swarm ÷ Compose (§2, same run), default variant (cgroup files):"
    out ""
    out "| N | wall | CPU | requests |"
    out "|---|---|---|---|"
    for n in "${SWARM_SCALES[@]}"; do
      [ -n "${CG[$n]:-}" ] || continue
      out "| $n | $(calc "$(kv "${SCG[$n]}" wall_ms_med) / $(kv "${CG[$n]}" wall_ms_med)" 2)× | $(calc "$(kv "${SCG[$n]}" cpu_ms_med) / $(kv "${CG[$n]}" cpu_ms_med)" 2)× | $(calc "$(kv "${SCG[$n]}" requests_med) / $(kv "${CG[$n]}" requests_med)" 2)× |"
    done
  fi
  out ""
  out "- Command per N: \`$B/bench_docker --host $host --project P --services N --prefix svc --parallel c8,8,1 --reps $SWARM_REPS --warmup 1\`, with the services \`docker service create --detach --name P_svc-NN --replicas 1 --no-healthcheck --label com.docker.stack.namespace=P --container-label com.docker.stack.namespace=P --no-resolve-image rm-test/workload:1 idle\` (P unique per run; removed by name at the end, also on failure, and the swarm left when this run created it)."
  out "- The Prometheus source reads Swarm tasks from cAdvisor's series by \`container_label_com_docker_swarm_service_name\` with the same fixed number of queries per check as Compose services (docs/swarm.md); not measured here: §1 measures that query shape over Compose labels."
  out ""
}

# ---- 2c. Prometheus source over Swarm services ------------------------------------------

swarm_prom_section() {
  SEC="$RUN/sec-2c.md"
  ensure_prometheus
  local n p kind sline cline oline
  declare -A SB CB SO
  for n in "${SWARM_PROM_SCALES[@]}"; do
    for kind in swarm compose; do
      p=$(printf 's%s%05d' "${kind:0:1}" "$n")
      rm_log "[$(( $(date +%s) - started )) s] 2c. Prometheus source: $n services, $kind labels"
      start_exporter "$n" "$p" "$([ "$kind" = swarm ] && echo --swarm)"
      sline=$("$B/bench_check" --prometheus "$RM_PROMETHEUS_URL" --services "$n" --prefix "$p" \
        --reps "$CHECK_REPS" --project "$PROJECT" --mode batched --prom-pid "$PROM_PID" --ready-timeout 300) \
        || rm_die "bench_check (batched, $kind, $n) failed"
      printf '%s %s\n' "$kind" "$sline" >>"$RUN/raw.txt"
      if [ "$kind" = swarm ]; then
        SB[$n]=$sline
        oline=$("$B/bench_check" --prometheus "$RM_PROMETHEUS_URL" --services "$n" --prefix "$p" \
          --reps "$(orig_reps_for "$n")" --mode original --warmup 0 --prom-pid "$PROM_PID") \
          || rm_die "bench_check (original, swarm, $n) failed"
        printf '%s %s\n' "$kind" "$oline" >>"$RUN/raw.txt"
        SO[$n]=$oline
      else
        CB[$n]=$sline
      fi
      stop_exporter "$p"
    done
  done
  out "## 2c. Prometheus source over Swarm services"
  out ""
  out "§1's check (collect + decide through the real Prometheus source and engine), over N Swarm services of stack \`$PROJECT\` (one task each) as cAdvisor labels them with the Swarm labels kept (\`name=\"${PROJECT}_<service>.1.<task id>\"\`, \`container_label_com_docker_swarm_service_name\`, \`container_label_com_docker_stack_namespace\`; \`bench_exporter --swarm\`), then the same N as Compose services, one after the other against the same Prometheus; \"original\" is the original's access pattern (§1) over the Swarm tasks. Same columns as §1; $CHECK_REPS batched checks after a warm-up, $ORIG_REPS original ones."
  out ""
  out "| N | variant | requests/check | received/check | wall ms | Prometheus CPU ms | our CPU ms (collect+decide) | collect CPU ms | decide CPU ms | peak RSS MiB |"
  out "|---|---|---|---|---|---|---|---|---|---|"
  for n in "${SWARM_PROM_SCALES[@]}"; do
    check_row "${SB[$n]}" "batched, Swarm services"
    check_row "${SO[$n]}" "original, Swarm services"
    check_row "${CB[$n]}" "batched, Compose services"
  done
  out ""
  out "Ratios of medians, same run:"
  out ""
  out "| N | original ÷ batched (Swarm): wall | Prometheus CPU | our CPU | Swarm ÷ Compose (batched): wall | Prometheus CPU | our CPU | bytes received |"
  out "|---|---|---|---|---|---|---|---|"
  for n in "${SWARM_PROM_SCALES[@]}"; do
    sline=${SB[$n]}; oline=${SO[$n]}; cline=${CB[$n]}
    out "| $n | $(calc "$(kv "$oline" wall_ms_med) / $(kv "$sline" wall_ms_med)" 2)× | $(calc "$(kv "$oline" prom_cpu_ms_med) / ($(kv "$sline" prom_cpu_ms_med) > 0.1 ? $(kv "$sline" prom_cpu_ms_med) : 0.1)" 2)× | $(calc "$(kv "$oline" cpu_ms_med) / $(kv "$sline" cpu_ms_med)" 2)× | $(calc "$(kv "$sline" wall_ms_med) / $(kv "$cline" wall_ms_med)" 2)× | $(calc "$(kv "$sline" prom_cpu_ms_med) / ($(kv "$cline" prom_cpu_ms_med) > 0.1 ? $(kv "$cline" prom_cpu_ms_med) : 0.1)" 2)× | $(calc "$(kv "$sline" cpu_ms_med) / $(kv "$cline" cpu_ms_med)" 2)× | $(calc "$(kv "$sline" bytes_rx_med) / $(kv "$cline" bytes_rx_med)" 2)× |"
  done
  out ""
  out "- Commands per N: \`bench_exporter --services N --prefix P --swarm\` (and without \`--swarm\`) registered through file_sd, then \`$B/bench_check --prometheus URL --services N --prefix P --project $PROJECT --mode batched --reps $CHECK_REPS\` and \`... --mode original --reps $ORIG_REPS --warmup 0\`."
  out ""
}

# ---- 1. check cost versus scale ---------------------------------------------------

EXP_PID=
start_exporter() { # N PREFIX [--swarm]
  local pf="$RUN/exporter-$2.port"
  "$B/bench_exporter" --services "$1" --prefix "$2" --port-file "$pf" ${3:-} &
  EXP_PID=$!
  rm_track "$EXP_PID"
  for _ in $(seq 1 100); do [ -s "$pf" ] && break; sleep 0.05; done
  [ -s "$pf" ] || rm_die "bench_exporter did not start"
  printf '[{"targets":["127.0.0.1:%s"],"labels":{"bench":"%s"}}]\n' "$(cat "$pf")" "$2" \
    >"$RUN/prom-targets/$2.json.tmp"
  mv "$RUN/prom-targets/$2.json.tmp" "$RUN/prom-targets/$2.json"
}

stop_exporter() { # PREFIX
  rm -f "$RUN/prom-targets/$1.json"
  kill -TERM "$EXP_PID" 2>/dev/null || true
  wait "$EXP_PID" 2>/dev/null || true
}

# check_row LINE: one table row from a bench_check line.
check_row() { # LINE [VARIANT]
  local l=$1
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$(kv "$l" n)" "${2:-$(kv "$l" mode)}" "$(kv "$l" requests_med | cut -d. -f1)" \
    "$(calc "$(kv "$l" bytes_rx_med) / 1024" 0) KiB" \
    "$(spread "$l" wall_ms 1 1)" "$(spread "$l" prom_cpu_ms 1 1)" "$(spread "$l" cpu_ms 1 2)" "$(spread "$l" collect_cpu_ms 1 2)" \
    "$(spread "$l" decide_cpu_ms 1 3)" "$(calc "$(kv "$l" rss_peak_kib) / 1024" 1)" >>"$SEC"
}

# url_limit_probe LENGTH: the status line Prometheus answers to a GET
# /api/v1/query whose path is LENGTH bytes long ("no answer" when it resets the
# connection). Raw HTTP over bash's /dev/tcp: curl cannot take a 1 MiB URL.
url_limit_probe() {
  local head='/api/v1/query?query=up%7Bname%3D%22' tail='%22%7D' hostport=${RM_PROMETHEUS_URL#http://} status
  local pad
  pad=$(head -c $(( $1 - ${#head} - ${#tail} )) /dev/zero | tr '\0' a)
  status=$(
    exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}" || exit 0
    printf 'GET %s%s%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$head" "$pad" "$tail" "$hostport" >&3 2>/dev/null
    timeout 30 head -1 <&3 | tr -d '\r'
  ) || true
  echo "${status:-no answer}"
}

# post_limit_probe LENGTH: the HTTP status and error Prometheus answers to a POST
# /api/v1/query whose form body is LENGTH bytes (how queries are sent now).
post_limit_probe() {
  local head='query=up%7Bname%3D%22' tail='%22%7D' body="$RUN/post-probe.body" code
  { printf '%s' "$head"; head -c $(( $1 - ${#head} - ${#tail} )) /dev/zero | tr '\0' a; printf '%s' "$tail"; } >"$body"
  code=$(curl -s -o "$RUN/post-probe.out" -w '%{http_code}' --max-time 60 -X POST \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "@$body" \
    "$RM_PROMETHEUS_URL/api/v1/query") || code="no answer"
  printf '%s %s' "$code" "$(grep -o '"errorType":"[a-z_]*"' "$RUN/post-probe.out" || echo '(success)')"
  rm -f "$body"
}

PROM_PID= # the run's Prometheus, started by the first section that needs it
ensure_prometheus() {
  [ -z "$PROM_PID" ] || return 0
  rm_start_prometheus "$RUN" 19190
  PROM_PID=${RM_STARTED_PIDS[${#RM_STARTED_PIDS[@]}-1]}
}

scale_section() {
  SEC="$RUN/sec-1.md"
  ensure_prometheus
  local prom_pid=$PROM_PID
  local probe_ok probe_big
  probe_ok=$(url_limit_probe 1040000)
  probe_big=$(url_limit_probe 1060000)
  local post_ok post_big
  post_ok=$(post_limit_probe 10400000)
  post_big=$(post_limit_probe 10500000)
  local n p bline oline cmd ratios="" cg="" cg_cmd
  declare -A BATCHED ORIGINAL
  for n in "${SCALES[@]}"; do
    p=$(printf 'b%05d' "$n")
    rm_log "[$(( $(date +%s) - started )) s] 1. check cost: $n services ($CHECK_REPS batched checks, $(orig_reps_for "$n") original)"
    start_exporter "$n" "$p"
    cmd="$B/bench_check --prometheus $RM_PROMETHEUS_URL --services $n --prefix $p --reps $CHECK_REPS --project $PROJECT"
    bline=$($cmd --mode batched --prom-pid "$prom_pid" --ready-timeout 300) || rm_die "bench_check (batched, $n) failed"
    # The original's one-off costs are spread over 4n requests: no warm-up check.
    oline=$($B/bench_check --prometheus "$RM_PROMETHEUS_URL" --services "$n" --prefix "$p" \
      --reps "$(orig_reps_for "$n")" --mode original --warmup 0 --prom-pid "$prom_pid") \
      || rm_die "bench_check (original, $n) failed"
    BATCHED[$n]=$bline
    ORIGINAL[$n]=$oline
    printf '%s\n%s\n' "$bline" "$oline" >>"$RUN/raw.txt"
    if [ "$n" -eq 1000 ]; then
      rm_log "[$(( $(date +%s) - started )) s] 1. one batched check of 1000 services under callgrind"
      valgrind --tool=callgrind '--toggle-collect=check_once*' --callgrind-out-file="$RUN/callgrind.check.out" \
        $cmd --mode batched --reps 1 --warmup 0 >"$RUN/callgrind.check.stdout" 2>"$RUN/callgrind.check.stderr" \
        || rm_die "bench_check under callgrind failed"
      cg=$(awk '/Collected :/ { print $NF }' "$RUN/callgrind.check.stderr")
      cg_cmd="valgrind --tool=callgrind '--toggle-collect=check_once*' bench_check ... --services 1000 --project $PROJECT --mode batched --reps 1 --warmup 0"
    fi
    stop_exporter "$p"
  done

  out "## 1. Check cost versus scale"
  out ""
  out "One check = collect + decide: the real Prometheus source (\`source_prom\`) and the real engine over N services, against a Prometheus scraping \`bench_exporter\` (9 cAdvisor series per container, 1 s scrapes). **There is no publish step yet** (the daemon loop is not built), so it is not measured. \"original\" is the original's access pattern issued by \`bench_check --mode original\`: four instant queries per service, one after another, \`{name=~\".*<svc>.*\"}\`, first sample taken; then the same engine. Windows: analysis 10 s, trend 60 s at 1 s steps: 10 points per rate and 60 subquery steps, the order of production's defaults (5 m of 15 s scrapes is 20 points; 1 h at 1 m steps is 60). $CHECK_REPS measured batched checks after one warm-up check, $ORIG_REPS original ones; one process per variant and N, so the peak RSS is that scale's."
  out ""
  out "| N | variant | requests/check | received/check | wall ms | Prometheus CPU ms | our CPU ms (collect+decide) | collect CPU ms | decide CPU ms | peak RSS MiB |"
  out "|---|---|---|---|---|---|---|---|---|---|"
  for n in "${SCALES[@]}"; do
    check_row "${BATCHED[$n]}"
    check_row "${ORIGINAL[$n]}"
  done
  out ""
  out "Original ÷ batched (ratios of medians, same run):"
  out ""
  out "| N | requests | wall time | Prometheus CPU | our CPU | bytes received |"
  out "|---|---|---|---|---|---|"
  for n in "${SCALES[@]}"; do
    bline=${BATCHED[$n]}; oline=${ORIGINAL[$n]}
    out "| $n | $(calc "$(kv "$oline" requests_med) / $(kv "$bline" requests_med)" 0)× | $(calc "$(kv "$oline" wall_ms_med) / $(kv "$bline" wall_ms_med)" 2)× | $(calc "$(kv "$oline" prom_cpu_ms_med) / ($(kv "$bline" prom_cpu_ms_med) > 0.1 ? $(kv "$bline" prom_cpu_ms_med) : 0.1)" 2)× | $(calc "$(kv "$oline" cpu_ms_med) / $(kv "$bline" cpu_ms_med)" 2)× | $(calc "$(kv "$oline" bytes_rx_med) / $(kv "$bline" bytes_rx_med)" 2)× |"
  done
  out ""
  if [ -n "$cg" ]; then
    out "One batched check of 1000 services executes $(calc "$cg / 1000000" 1) M instructions (callgrind, exact and repeatable; \`$cg_cmd\`). Where they go (inclusive):"
    out ""
    out "| Function | Share | What |"
    out "|---|---|---|"
    callgrind_annotate --inclusive=yes "$RUN/callgrind.check.out" 2>/dev/null \
      | awk -v total="$cg" 'BEGIN { d["prom_collect"] = "the whole collect";
          d["prom_json_parse"] = "answers to samples (one-pass scanner)";
          d["read_string"] = "of which strings: label names and values";
          d["strtod"] = "of which sample values strtod had to read";
          d["http_request_headers"] = "libcurl: send the POST, receive the body"; d["curl_easy_perform"] = "of which inside libcurl";
          d["http_urlencode"] = "percent-encoding (the alternations, once per check)";
          d["query_text"] = "building the ten queries";
          d["engine_decide"] = "the decide step" }
          # Read to the end (no early exit: the writer would die of SIGPIPE under pipefail).
          /Auto-annotated source/ { stop = 1 } stop { next }
          { sub(/\([^)]*\)/, "") }
          $2 ~ /:(prom_collect|prom_json_parse|read_string|strtod|http_request_headers|curl_easy_perform|http_urlencode|query_text|engine_decide)$/ {
          f = $2; sub(/.*:/, "", f); sub(/.2$/, "", f); gsub(/,/, "", $1);
          if (done[f]++) next;
          printf "| %s | %.1f %% | %s |\n", f, 100 * $1 / total, d[f] }' >>"$SEC"
    out ""
  fi
  local big=${SCALES[${#SCALES[@]}-1]} per
  per=$(calc "$(kv "${BATCHED[$big]}" url_max_bytes) / $big" 1)
  out "Request size: the longest batched query (CPU limit: four alternations of every name) is $(calc "$(kv "${BATCHED[$big]}" url_max_bytes) / 1024" 0) KiB of form body at $big services, $per bytes per service with these 12-character names. Queries are sent with POST (form body), so Prometheus' 1 MiB limit on request headers, which stopped GET queries at about $(calc "1048576 / $per" 0) services of such names, no longer applies (probed in this run: a GET whose query path is 1,040,000 bytes got \"$probe_ok\", 1,060,000 bytes \"$probe_big\"). The next ceiling is Go's 10 MiB limit on a form body: probed, a 10,400,000-byte POST got \"$post_ok\", a 10,500,000-byte one \"$post_big\" (the body is cut, the query is empty). That is about $(calc "10485760 / $per" 0) services of such names, fewer with longer names."
  out ""
  out "- Command per N: \`$B/bench_check --prometheus URL --services N --prefix bNNNNN --mode batched --reps $CHECK_REPS\` and \`... --mode original --reps $ORIG_REPS --warmup 0\`, with \`bench_exporter --services N\` registered through file_sd."
  out ""
  out "Goals:"
  out ""
  local reqs_all req_goal b1000=${BATCHED[1000]:-}
  reqs_all=$(for n in "${SCALES[@]}"; do kv "${BATCHED[$n]}" requests_max | cut -d. -f1; kv "${BATCHED[$n]}" requests_min | cut -d. -f1; done | sort -u)
  if [ "$(wc -l <<<"$reqs_all")" -eq 1 ]; then req_goal="**met**: $reqs_all requests per check at every N"; else req_goal="**missed**: $(tr '\n' ' ' <<<"$reqs_all")"; fi
  out "- Requests per check constant in N: $req_goal."
  if [ -n "$b1000" ]; then
    local cpu rss
    cpu=$(kv "$b1000" cpu_ms_med); rss=$(calc "$(kv "$b1000" rss_peak_kib) / 1024" 1)
    out "- CPU of one check at 1,000 services under 20 ms: $(awk -v c="$cpu" 'BEGIN { print (c < 20 ? "**met**" : "**missed**") }') ($(calc "$cpu" 1) ms median)."
    out "- Peak RSS at 1,000 services under 16 MB: $(awk -v r="$(kv "$b1000" rss_peak_kib)" 'BEGIN { print (r * 1024 < 16000000 ? "**met**" : "**missed**") }') ($rss MiB)."
    local w=$(kv "$b1000" wall_ms_med) pc=$(kv "$b1000" prom_cpu_ms_med)
    out "- Issue 18, 1,000 services: a check in ≤ 100 ms wall $(awk -v v="$w" 'BEGIN { print (v <= 100 ? "**met**" : "**missed**") }') ($(calc "$w" 1) ms), with ≤ 50 ms of Prometheus CPU $(awk -v v="$pc" 'BEGIN { print (v <= 50 ? "**met**" : "**missed**") }') ($(calc "$pc" 1) ms)."
  fi
  local b10k=${BATCHED[10000]:-}
  if [ -n "$b10k" ]; then
    local w=$(kv "$b10k" wall_ms_med) r=$(kv "$b10k" rss_peak_kib)
    out "- Issue 18, 10,000 services: ≤ 1 s wall $(awk -v v="$w" 'BEGIN { print (v <= 1000 ? "**met**" : "**missed**") }') ($(calc "$w" 0) ms), ≤ 64 MiB RSS $(awk -v v="$r" 'BEGIN { print (v <= 65536 ? "**met**" : "**missed**") }') ($(calc "$r / 1024" 1) MiB)."
  fi
  out ""
}

# ---- sections not measurable yet ----------------------------------------------------

todo_sections() {
  SEC="$RUN/sec-4.md"
  out "## 4. Blue-green cut-over — TODO"
  out ""
  out "Not measured: the blue-green orchestrator is not built. To do: load through the router with wrk or hey during a cut-over; non-2xx count (goal 0), latency percentiles before/during/after, cut-over duration."
  out ""
  SEC="$RUN/sec-6.md"
  out "## 6. Web layer under wrk — TODO"
  out ""
  out "Not measured: the web layer is not built. To do: wrk against /, /api/state and /metrics on loopback; requests/s, latency percentiles, and the daemon's CPU and RSS under that load."
  out ""
}

# ---- run ---------------------------------------------------------------------------------

machine_section
if [ "$swarm_only" -eq 1 ]; then
  swarm_section
  swarm_prom_section
elif [ "$check_only" -eq 0 ]; then
  engine_section
  footprint_section
  docker_section
  swarm_section
fi
if [ "$swarm_only" -eq 0 ]; then
  scale_section
  [ "$check_only" -eq 1 ] || swarm_prom_section
fi
[ "$check_only" -eq 1 ] || [ "$swarm_only" -eq 1 ] || todo_sections
# TODO(issue 9, part 4): cutover_section — wrk/hey through the router during a blue-green cut-over.
# TODO(issue 9, part 6): web_section — wrk against the web layer.
rm_stop_all
trap - EXIT

SEC="$RUN/sec-7.md"
out "_Total time of this run: $(( $(date +%s) - started )) s._"
for sec in 0 1 2 2b 2c 3 4 5 6 7; do [ ! -f "$RUN/sec-$sec.md" ] || cat "$RUN/sec-$sec.md"; done >"$OUT"
mkdir -p bench/results
cp "$OUT" bench/results/latest.md
cp "$RUN/raw.txt" bench/results/latest.raw.txt
cat "$OUT"
rm_log "wrote bench/results/latest.md in $(( $(date +%s) - started )) s"

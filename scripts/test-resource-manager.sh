#!/usr/bin/env bash
# test-resource-manager.sh: checks an installed resource-manager: its
# configuration, the compose files, the image, the running container (health
# and hardening), the /health and /metrics endpoints, and whether the service
# reaches Docker and Prometheus. One PASS/FAIL/SKIP line per check, then a
# summary; every check runs even when an earlier one failed.
#
#   scripts/test-resource-manager.sh [options]
#     --url URL             the service's base URL
#                           (default http://127.0.0.1:${RESOURCE_MANAGER_PORT:-8000})
#     --compose-file FILE   a compose file of the stack; repeat for several
#                           (default: $COMPOSE_FILE, else docker-compose.yml
#                           in the folder above scripts/ when it exists)
#     --project-directory DIR   passed to docker-compose with the files
#     --image IMAGE         the image (default resource-manager:latest)
#     --container NAME      the running container (default resource-manager)
#     --config FILE         check this configuration file (with --binary, or
#                           the image) instead of the running container's
#     --binary PATH         a resource-manager binary for the config check
#     --timeout SECONDS     per HTTP request (default 5)
#     --wait SECONDS        wait this long for the container to turn healthy
#                           (default 0)
#     --skip CHECK          skip a check: config, compose, image, container,
#                           hardening, health, metrics, docker, prometheus
#     -h, --help
# Exit status: 0 no check failed, 1 one or more failed, 2 bad arguments.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
url="http://127.0.0.1:${RESOURCE_MANAGER_PORT:-8000}"
files=()
projdir=
image=resource-manager:latest
container=resource-manager
config=
binary=
timeout=5
wait_s=0
skips=" "
usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "error: $1 needs a value (see --help)" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --url) need "$@"; url=${2%/}; shift ;;
    --compose-file) need "$@"; files+=("$2"); shift ;;
    --project-directory) need "$@"; projdir=$2; shift ;;
    --image) need "$@"; image=$2; shift ;;
    --container) need "$@"; container=$2; shift ;;
    --config) need "$@"; config=$2; shift ;;
    --binary) need "$@"; binary=$2; shift ;;
    --timeout) need "$@"; timeout=$2; shift ;;
    --wait) need "$@"; wait_s=$2; shift ;;
    --skip) need "$@"; skips+="$2 "; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$timeout$wait_s" in *[!0-9]*) echo "error: --timeout and --wait take whole seconds" >&2; exit 2 ;; esac
if [ ${#files[@]} -eq 0 ]; then
  if [ -n "${COMPOSE_FILE:-}" ]; then IFS=: read -r -a files <<<"$COMPOSE_FILE"
  elif [ -f "$root/docker-compose.yml" ]; then files=("$root/docker-compose.yml"); fi
fi
command -v curl >/dev/null || { echo "error: curl is needed (apt-get install curl)" >&2; exit 2; }

passed=0 failed=0 skipped=0
report() { # PASS|FAIL|SKIP name detail
  printf '%-4s  %-10s  %s\n' "$1" "$2" "$3"
  case "$1" in PASS) passed=$((passed+1)) ;; FAIL) failed=$((failed+1)) ;; *) skipped=$((skipped+1)) ;; esac
}
skipping() { case "$skips" in *" $1 "*) report SKIP "$1" "skipped (--skip)"; return 0 ;; esac; return 1; }
have_docker() { command -v docker >/dev/null && docker version >/dev/null 2>&1; }
oneline() { tr '\n' ' ' | sed 's/[[:space:]]*$//' | cut -c1-300; }

# --- config ---------------------------------------------------------------
effective=
check_config() {
  skipping config && return
  local out rc how
  if [ -n "$config" ]; then
    [ -f "$config" ] || { report FAIL config "$config: no such file"; return; }
    local bin=$binary
    [ -n "$bin" ] || bin=$(command -v resource-manager || true)
    if [ -n "$bin" ]; then
      how="$bin check-config"
      out=$("$bin" check-config --config "$config" 2>&1); rc=$?
    elif have_docker && docker image inspect "$image" >/dev/null 2>&1; then
      how="check-config in $image"
      out=$(docker run --rm --pull=never --network none -v "$(cd "$(dirname "$config")" && pwd)/$(basename "$config"):/config/config.yml:ro" \
        "$image" check-config --config /config/config.yml 2>&1); rc=$?
    else
      report FAIL config "no resource-manager binary (--binary) and no image $image to check $config with"; return
    fi
  elif have_docker && [ "$(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" = true ]; then
    # The running container's own view: its file plus its environment.
    how="check-config in container $container"
    out=$(docker exec "$container" /resource-manager check-config 2>&1); rc=$?
  else
    report SKIP config "container $container is not running; give --config FILE to check a file"; return
  fi
  effective=$out
  if [ "$rc" -eq 0 ]; then
    report PASS config "valid ($how$(printf '%s\n' "$out" | grep -qi 'warning' && echo ', with warnings'))"
  else
    report FAIL config "invalid ($how): $(printf '%s\n' "$out" | grep -iE 'error|invalid' | head -3 | oneline)"
  fi
}

# --- compose --------------------------------------------------------------
check_compose() {
  skipping compose && return
  [ ${#files[@]} -gt 0 ] || { report SKIP compose "no compose file (give --compose-file)"; return; }
  local f args=() out rc services
  for f in "${files[@]}"; do
    [ -f "$f" ] || { report FAIL compose "$f: no such file"; return; }
    args+=(-f "$f")
  done
  [ -n "$projdir" ] && args=(--project-directory "$projdir" "${args[@]}")
  local compose=()
  if docker compose version >/dev/null 2>&1; then compose=(docker compose)
  elif command -v docker-compose >/dev/null; then compose=(docker-compose)
  fi
  # docker-compose 1.x does not know `include:`: only parse such files.
  if [ ${#compose[@]} -gt 0 ] && [ "${compose[0]}" = docker-compose ] && grep -q '^include:' "${files[@]}"; then
    compose=()
    local why=" (docker-compose 1.x cannot read include:)"
  fi
  if [ ${#compose[@]} -gt 0 ]; then
    out=$("${compose[@]}" "${args[@]}" config -q 2>&1); rc=$?
    if [ "$rc" -ne 0 ]; then
      report FAIL compose "${compose[*]} config: $(printf '%s\n' "$out" | oneline)"; return
    fi
    services=$("${compose[@]}" "${args[@]}" config --services 2>/dev/null)
    if printf '%s\n' "$services" | grep -qx 'resource-manager'; then
      report PASS compose "${compose[*]} config: valid, service resource-manager defined"
    else
      report FAIL compose "${compose[*]} config: valid, but no service named resource-manager"
    fi
  elif command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null; then
    out=$(python3 - "${files[@]}" <<'PY' 2>&1
import sys, yaml
found = False
for f in sys.argv[1:]:
    with open(f) as fh:
        doc = yaml.safe_load(fh) or {}
    if not isinstance(doc, dict):
        sys.exit(f"{f}: not a mapping")
    svcs = doc.get("services") or {}
    found = found or "resource-manager" in svcs
    for inc in doc.get("include") or []:
        found = found or "resource-manager" in str(inc)
if not found:
    sys.exit("no service resource-manager (nor an include of it)")
PY
    ); rc=$?
    if [ "$rc" -eq 0 ]; then report PASS compose "YAML parses, resource-manager present${why:-} (no docker compose to validate further)"
    else report FAIL compose "YAML: $(printf '%s\n' "$out" | tail -2 | oneline)"; fi
  else
    report SKIP compose "neither docker compose, docker-compose nor python3-yaml is installed"
  fi
}

# --- image and container ----------------------------------------------------
check_image() {
  skipping image && return
  have_docker || { report FAIL image "the Docker engine does not answer (docker version)"; return; }
  local info
  if ! info=$(docker image inspect "$image" --format '{{.Size}} {{.Config.User}} {{if .Config.Healthcheck}}healthcheck{{else}}no-healthcheck{{end}}' 2>/dev/null); then
    report FAIL image "$image is not present (scripts/build-image.sh builds it)"; return
  fi
  set -- $info
  report PASS image "$image present: $(( $1 / 1024 )) KiB, user ${2:-root}, $3"
}

check_container() {
  skipping container && return
  have_docker || { report FAIL container "the Docker engine does not answer"; return; }
  local st health deadline=$((SECONDS + wait_s))
  while :; do
    st=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$container" 2>/dev/null) \
      || { report FAIL container "no container named $container"; return; }
    health=${st#* }
    [ "$health" = starting ] && [ "$SECONDS" -lt "$deadline" ] || break
    sleep 1
  done
  case "$st" in
    "running healthy") report PASS container "$container running, Docker health: healthy" ;;
    "running none") report PASS container "$container running (no Docker health check)" ;;
    "running starting") report FAIL container "$container running, Docker health still starting (try --wait 90)" ;;
    running*) report FAIL container "$container running, Docker health: $health: $(docker inspect -f '{{with .State.Health}}{{range .Log}}{{.Output}}{{end}}{{end}}' "$container" 2>/dev/null | tail -1 | oneline)" ;;
    *) report FAIL container "$container is ${st%% *}" ;;
  esac
}

check_hardening() {
  skipping hardening && return
  have_docker || { report FAIL hardening "the Docker engine does not answer"; return; }
  local ro user sec problems=()
  ro=$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$container" 2>/dev/null) \
    || { report FAIL hardening "no container named $container"; return; }
  user=$(docker inspect -f '{{.Config.User}}' "$container")
  sec=$(docker inspect -f '{{.HostConfig.SecurityOpt}}' "$container")
  [ "$ro" = true ] || problems+=("root filesystem writable")
  case "${user%%:*}" in ""|0|root) problems+=("runs as root") ;; esac
  case "$sec" in *no-new-privileges*) ;; *) problems+=("no no-new-privileges") ;; esac
  if [ ${#problems[@]} -eq 0 ]; then report PASS hardening "read-only root, user $user, no-new-privileges"
  else report FAIL hardening "$(IFS=,; echo "${problems[*]}" | sed 's/,/, /g')"; fi
}

# --- endpoints --------------------------------------------------------------
health_body= health_code=
fetch() { # path -> sets body and code
  local tmp; tmp=$(mktemp)
  code=$(curl -sS -o "$tmp" -w '%{http_code}' --max-time "$timeout" "$url$1" 2>"$tmp.err") || code=000
  body=$(cat "$tmp"); err=$(oneline <"$tmp.err")
  rm -f "$tmp" "$tmp.err"
}
json_str() { printf '%s' "$2" | grep -o "\"$1\":\"[^\"]*\"" | head -1 | sed 's/^.*:"//; s/"$//'; }
dep_status() { printf '%s' "$health_body" | grep -o "\"$1\":{\"status\":\"[a-z_]*\"" | sed 's/.*:"//; s/"$//'; }
# The reason a dependency is down: the open /health does not say, the API does.
dep_detail() {
  local body code err
  fetch /api/v1/status
  printf '%s' "$body" | grep -o "\"name\":\"$1\"[^}]*" | grep -o '"detail":"[^"]*"' | sed 's/^"detail":"//; s/"$//'
}

check_health() {
  local body code err status
  fetch /health
  health_body=$body health_code=$code
  skipping health && return
  status=$(json_str status "$body")
  case "$code" in
    000) report FAIL health "$url/health: no answer ($err)" ;;
    200) report PASS health "$url/health: HTTP 200, status ${status:-?}" ;;
    *) report FAIL health "$url/health: HTTP $code, status ${status:-?}" ;;
  esac
}

check_metrics() {
  skipping metrics && return
  local body code err n
  fetch /metrics
  if [ "$code" = 200 ] && printf '%s\n' "$body" | grep -q '^resource_manager_info{'; then
    n=$(printf '%s\n' "$body" | grep -c '^# TYPE ')
    report PASS metrics "$url/metrics: HTTP 200, $n metric families"
  elif [ "$code" = 000 ]; then report FAIL metrics "$url/metrics: no answer ($err)"
  else report FAIL metrics "$url/metrics: HTTP $code$( [ "$code" = 200 ] && echo ', no resource_manager_info')"; fi
}

check_docker() {
  skipping docker && return
  [ "$health_code" != 000 ] || { report FAIL docker "cannot tell: /health does not answer"; return; }
  local s; s=$(dep_status docker)
  case "$s" in
    up) report PASS docker "the service reaches the Docker engine" ;;
    "") report FAIL docker "/health reports no Docker dependency (no check has completed yet?)" ;;
    *) report FAIL docker "the service does not reach the Docker engine ($s): $(dep_detail docker)" ;;
  esac
}

check_prometheus() {
  skipping prometheus && return
  [ "$health_code" != 000 ] || { report FAIL prometheus "cannot tell: /health does not answer"; return; }
  local s purl source
  s=$(dep_status prometheus)
  purl=$(printf '%s\n' "$effective" | sed -n 's/^monitoring\.prometheus_url = "\(.*\)".*/\1/p')
  source=$(printf '%s\n' "$effective" | sed -n 's/^monitoring\.source = \([a-z]*\).*/\1/p')
  if [ "$s" = up ]; then
    report PASS prometheus "the service reads metrics from Prometheus${purl:+ ($purl)}"
  elif [ "$s" = not_configured ]; then
    report PASS prometheus "not used (${source:+monitoring.source=$source, }prometheus_url=\"$purl\"): measuring through the Docker engine"
  elif [ -n "$s" ]; then
    report FAIL prometheus "Prometheus${purl:+ ($purl)} does not answer the service ($s): $(dep_detail prometheus)"
  elif [ -z "$effective" ]; then
    report SKIP prometheus "the service measures through the Docker engine; its configuration is unknown (config check skipped), so whether Prometheus should answer is too"
  elif [ -z "$purl" ] || [ "$source" = docker ]; then
    report PASS prometheus "not used (${source:+monitoring.source=$source, }prometheus_url=\"$purl\"): measuring through the Docker engine"
  else
    report FAIL prometheus "Prometheus ($purl) is configured but the service measures through the Docker engine: it does not answer"
  fi
}

echo "resource-manager checks: $url, image $image, container $container"
check_config
check_compose
check_image
check_container
check_hardening
check_health
check_metrics
check_docker
check_prometheus
echo "test-resource-manager: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

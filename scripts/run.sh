#!/usr/bin/env bash
# run.sh: runs resource-manager in the foreground on this machine's Docker
# engine with the embedded default config (config/config.yml). Installs the
# missing Debian packages, builds, starts dockerd if no engine answers (and
# stops it on exit). Production host names are never looked up: Prometheus is
# off unless PROMETHEUS_URL is given, the Docker URL is the local socket, and
# Alertmanager is off unless ALERTMANAGER_URL is given.
#
#   scripts/run.sh [resource-manager run options, e.g. --dry-run]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$RM_ROOT"

rm_install_packages "${RM_BUILD_PACKAGES[@]}" "${RM_RUN_PACKAGES[@]}"
rm_log "building build/"
rm_build build

RUN="$RM_ROOT/.run/local"
mkdir -p "$RUN"
trap 'rm_stop_all' EXIT
rm_start_dockerd "$RUN"

export DOCKER_HOST="unix://$RM_DOCKER_SOCK"
export PROMETHEUS_URL="${PROMETHEUS_URL:-}"
export MONITORING_SOURCE="${MONITORING_SOURCE:-$([ -n "$PROMETHEUS_URL" ] && echo auto || echo docker)}"
export LOG_FILE="${LOG_FILE:-$RUN/resource-manager.log}"
export STATE_PATH="${STATE_PATH:-$RUN/state.json}"
export METRICS_PORT="${METRICS_PORT:-8000}"
if [ -z "${ALERTMANAGER_URL:-}" ]; then
  # No Alertmanager here: point the channel at loopback, where nothing listens.
  export ALERTMANAGER_URL=http://127.0.0.1:9093
fi
rm_log "running build/resource-manager (Ctrl-C stops it); log also in $LOG_FILE"
build/resource-manager run "$@" &
pid=$!
rm_track "$pid"
wait "$pid"

#!/usr/bin/env bash
# blue-green-deploy.sh: the original deploy script's command line and exit
# codes, on resource-manager's in-process orchestrator.
#
#   blue-green-deploy.sh SERVICE CPU MEMORY [--dry-run] [--timeout S] [--no-rollback]
#                        [--force] [--no-drain] [--log-file P] [--metrics[=P]] [--strategy S]
#   blue-green-deploy.sh rollback SERVICE
#   blue-green-deploy.sh status SERVICE
#   blue-green-deploy.sh -h | --help
#
# CPU in cores (1.5), MEMORY as 768M or 1G. Exit codes: 0 success,
# 1 validation error, 2 deployment failure, 3 rollback failure,
# 4 health-check timeout.
#
# The binary: $RM_BINARY, else build/resource-manager in this repository,
# else resource-manager on PATH. The configuration: $RM_CONFIG, else the
# binary's own lookup ($CONFIG_PATH, /config/config.yml, the defaults).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

find_binary() {
  if [ -n "${RM_BINARY:-}" ]; then echo "$RM_BINARY"; return; fi
  if [ -x "$here/../build/resource-manager" ]; then echo "$here/../build/resource-manager"; return; fi
  command -v resource-manager || true
}

[ $# -ge 1 ] || { usage >&2; exit 1; }
case "$1" in
  -h|--help) usage; exit 0 ;;
esac
bin=$(find_binary)
[ -n "$bin" ] && [ -x "$bin" ] || { echo "error: resource-manager binary not found (set RM_BINARY)" >&2; exit 1; }
cfg=()
[ -n "${RM_CONFIG:-}" ] && cfg=(--config "$RM_CONFIG")

case "$1" in
  rollback|status)
    [ $# -eq 2 ] || { echo "error: usage: $0 $1 SERVICE" >&2; exit 1; }
    exec "$bin" "$1" "${cfg[@]}" "$2"
    ;;
esac
[ $# -ge 3 ] || { echo "error: expected SERVICE CPU MEMORY (see --help)" >&2; exit 1; }
exec "$bin" deploy "${cfg[@]}" "$@"

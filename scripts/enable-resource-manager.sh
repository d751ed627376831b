#!/usr/bin/env bash
# enable-resource-manager.sh: adds compose/resource-manager.yml to the
# `include:` list of the stack's docker-compose.yml. Idempotent; backs the
# file up first; creates the data and log folders the service mounts.
#
#   scripts/enable-resource-manager.sh [--file PATH] [--data-dir DIR] [-h|--help]
#     --file      the stack's compose file (default: docker-compose.yml in the
#                 folder above scripts/, or $COMPOSE_FILE)
#     --data-dir  where state and logs go (default: $DATADIR or ./data)
# Exit status: 0 enabled (or already enabled), 1 bad arguments or file not found.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
file=${COMPOSE_FILE:-$root/docker-compose.yml}
data=${DATADIR:-$root/data}
entry="compose/resource-manager.yml"
usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --file) file=${2:?--file needs a path}; shift ;;
    --data-dir) data=${2:?--data-dir needs a folder}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option '$1'; nothing was changed (see --help)" >&2; exit 1 ;;
  esac
  shift
done
if [ ! -f "$file" ]; then
  echo "error: $file not found; nothing was changed. Give the stack's compose file with --file." >&2
  exit 1
fi
dir=$(cd "$(dirname "$file")" && pwd)
if [ ! -f "$dir/$entry" ]; then
  echo "error: $dir/$entry not found: copy compose/resource-manager.yml next to the stack first; nothing was changed." >&2
  exit 1
fi
mkdir -p "$data/resource-manager/state" "$data/resource-manager/logs"
# The container runs as uid 1000: it must be able to write its state and log.
chown 1000:1000 "$data/resource-manager/state" "$data/resource-manager/logs" 2>/dev/null || true
if grep -Eq "^[[:space:]]*-[[:space:]]*\"?$entry\"?[[:space:]]*$" "$file"; then
  echo "resource-manager is already enabled in $file"
  exit 0
fi
backup="$file.backup.$(date +%Y%m%d_%H%M%S).$$"
cp -p "$file" "$backup"
tmp=$(mktemp "$dir/.compose.XXXXXX")
if grep -q '^include:' "$file"; then
  awk -v e="$entry" '{ print } /^include:[[:space:]]*$/ && !done { print "  - " e; done = 1 }' "$file" >"$tmp"
else
  { printf 'include:\n  - %s\n\n' "$entry"; cat "$file"; } >"$tmp"
fi
chmod --reference="$file" "$tmp" 2>/dev/null || true
mv "$tmp" "$file"
echo "enabled: added $entry to $file (backup: $backup)"
echo "next: scripts/build-image.sh && docker compose up -d resource-manager"

#!/usr/bin/env bash
# disable-resource-manager.sh: removes compose/resource-manager.yml from the
# stack's docker-compose.yml `include:` list (and the include block if it is
# left empty). Idempotent; backs the file up first. Stop the container
# yourself (`docker compose stop resource-manager`) or pass --stop.
#
#   scripts/disable-resource-manager.sh [--file PATH] [--stop] [-h|--help]
# Exit status: 0 disabled (or already disabled), 1 bad arguments or file not found.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
file=${COMPOSE_FILE:-$root/docker-compose.yml}
entry="compose/resource-manager.yml"
stop=0
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --file) file=${2:?--file needs a path}; shift ;;
    --stop) stop=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option '$1'; nothing was changed (see --help)" >&2; exit 1 ;;
  esac
  shift
done
if [ ! -f "$file" ]; then
  echo "error: $file not found; nothing was changed. Give the stack's compose file with --file." >&2
  exit 1
fi
if ! grep -Eq "^[[:space:]]*-[[:space:]]*\"?$entry\"?[[:space:]]*$" "$file"; then
  echo "resource-manager is not enabled in $file"
  exit 0
fi
if [ "$stop" -eq 1 ] && command -v docker >/dev/null; then
  docker stop resource-manager >/dev/null 2>&1 || echo "warning: could not stop container resource-manager (not running?)" >&2
  docker rm resource-manager >/dev/null 2>&1 || true
fi
dir=$(cd "$(dirname "$file")" && pwd)
backup="$file.backup.$(date +%Y%m%d_%H%M%S).$$"
cp -p "$file" "$backup"
tmp=$(mktemp "$dir/.compose.XXXXXX")
# Drop the entry; then an `include:` with no entries left (and its blank line).
awk -v e="$entry" '
  { lines[NR] = $0 }
  END {
    n = 0
    for (i = 1; i <= NR; i++) {
      l = lines[i]; t = l; gsub(/[[:space:]"]/, "", t)
      if (t == "-" e) continue
      out[++n] = l
    }
    for (i = 1; i <= n; i++) {
      if (out[i] ~ /^include:[[:space:]]*$/ && (i == n || out[i+1] !~ /^[[:space:]]+-/)) {
        if (i < n && out[i+1] ~ /^[[:space:]]*$/) i++
        continue
      }
      print out[i]
    }
  }' "$file" >"$tmp"
chmod --reference="$file" "$tmp" 2>/dev/null || true
mv "$tmp" "$file"
echo "disabled: removed $entry from $file (backup: $backup)"

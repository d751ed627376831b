#!/usr/bin/env bash
# enable_disable.sh: the enable/disable scripts on scratch compose files:
# idempotent, backed up, include lists kept intact, clear errors.
set -u
src=${RM_SOURCE_DIR:?}
out=${RM_TEST_OUTPUT:-/tmp}/enable-$$
rm -rf "$out"; mkdir -p "$out/compose"
touch "$out/compose/resource-manager.yml"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
en="$src/scripts/enable-resource-manager.sh"
dis="$src/scripts/disable-resource-manager.sh"
f="$out/docker-compose.yml"

for variant in plain listed; do
  if [ $variant = plain ]; then
    printf 'services:\n  web:\n    image: x\n' >"$f"
  else
    printf 'include:\n  - compose/traefik.yml\n\nservices:\n  web:\n    image: x\n' >"$f"
  fi
  cp "$f" "$out/orig"
  "$en" --file "$f" --data-dir "$out/data" >/dev/null || bad "$variant: enable failed"
  [ "$(grep -c 'compose/resource-manager.yml' "$f")" -eq 1 ] && ok "$variant: entry added" || bad "$variant: entry missing"
  grep -q '^include:' "$f" && ok "$variant: include block present" || bad "$variant: no include block"
  "$en" --file "$f" --data-dir "$out/data" | grep -q "already enabled" && ok "$variant: enable is idempotent" || bad "$variant: enable not idempotent"
  [ "$(grep -c 'compose/resource-manager.yml' "$f")" -eq 1 ] || bad "$variant: entry duplicated"
  ls "$f".backup.* >/dev/null 2>&1 && ok "$variant: backup written" || bad "$variant: no backup"
  [ -d "$out/data/resource-manager/state" ] && [ -d "$out/data/resource-manager/logs" ] && ok "$variant: data folders" || bad "$variant: data folders missing"
  "$dis" --file "$f" >/dev/null || bad "$variant: disable failed"
  cmp -s "$f" "$out/orig" && ok "$variant: disable restores the file" || { bad "$variant: file differs after disable"; diff "$out/orig" "$f"; }
  "$dis" --file "$f" | grep -q "not enabled" && ok "$variant: disable is idempotent" || bad "$variant: disable not idempotent"
  rm -f "$f".backup.*
done
"$en" --file "$out/missing.yml" >"$out/err" 2>&1; [ $? -eq 1 ] && grep -q "not found" "$out/err" && ok "missing file: exit 1, named" || bad "missing file not reported"
"$en" --bogus >"$out/err" 2>&1; [ $? -eq 1 ] && grep -q "unknown option" "$out/err" && ok "bad option: exit 1" || bad "bad option not reported"
"$en" --help | grep -q "include" && ok "help" || bad "no help"
"$dis" --help | grep -q "include" && ok "disable help" || bad "no disable help"
[ "$fails" -eq 0 ] && echo "all enable/disable checks passed"
exit $((fails > 0))

#!/usr/bin/env bash
# socket_proxy_swarm.sh: the socket proxy's Swarm grants
# (compose/socket-proxy/haproxy.cfg, the file the image ships), call by call:
# GET /services, /services/ID and /tasks and POST /services/ID/update pass to
# the engine; a service update whose spec runs privileged or mounts the
# Docker socket, service create and delete, /nodes, /swarm, /secrets and
# /configs are refused with 403. The proxy runs as HAProxy on loopback in
# front of the real engine; the engine is in no swarm of this test (it
# answers what passes with 503 or 404), so nothing is changed.
set -u
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
src=${RM_SOURCE_DIR:?}
. "$src/scripts/lib/common.sh"
command -v haproxy >/dev/null || { echo "haproxy not installed (RM_TEST_PACKAGES)"; exit 1; }
out=${RM_TEST_OUTPUT:-/tmp}/socket-proxy-swarm-$$
mkdir -p "$out"
sock=${RM_TEST_DOCKER_HOST#unix://}
port=$(rm_free_port $((19700 + $$ % 200)))
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null' EXIT

sed -e "s|^    bind :2375|    bind 127.0.0.1:$port|" -e "s|/var/run/docker.sock|$sock|" \
  -e "s|^    log stdout format raw local0 info|    log stderr format raw local0 info|" \
  "$src/compose/socket-proxy/haproxy.cfg" >"$out/haproxy.cfg"
grep -q "bind 127.0.0.1:$port" "$out/haproxy.cfg" || { bad "cannot rewrite the bind line"; exit 1; }
haproxy -db -f "$out/haproxy.cfg" >"$out/haproxy.log" 2>&1 &
pid=$!
rm_wait_http "http://127.0.0.1:$port/_ping" 10 || { bad "proxy did not start"; cat "$out/haproxy.log"; exit 1; }
base=http://127.0.0.1:$port/v1.41

call() { # method path [body]: prints the HTTP status
  local args=(-s -o "$out/answer" -w '%{http_code}' -X "$1")
  [ $# -ge 3 ] && { printf '%s' "$3" >"$out/body"; args+=(-H 'Content-Type: application/json' --data-binary @"$out/body"); }
  curl "${args[@]}" "$base$2"
}
passes() { # name method path [body]: the engine answers, not the proxy
  local name=$1 code; shift
  code=$(call "$@")
  if [ "$code" != 403 ] && ! grep -q "socket-proxy" "$out/answer"; then ok "passes: $name (engine: $code)"
  else bad "refused but should pass: $name (HTTP $code: $(head -c 200 "$out/answer"))"; fi
}
refused() { # name method path [body]
  local name=$1 code; shift
  code=$(call "$@")
  if [ "$code" = 403 ] && grep -q "socket-proxy" "$out/answer"; then ok "refused: $name"
  else bad "not refused: $name (HTTP $code: $(head -c 200 "$out/answer"))"; fi
}

spec='{"Name":"rmsp_web","TaskTemplate":{"ContainerSpec":{"Image":"rm-test/no-such-image:0"},"Resources":{"Limits":{"NanoCPUs":500000000}}},"UpdateConfig":{"Order":"start-first","FailureAction":"rollback"},"Labels":{"resource-manager.change":"cpu=1.000 memory=0"}}'
passes "list services" GET /services
passes "inspect a service" GET /services/rmsp-no-such-service
passes "list tasks with a filter" GET '/tasks?filters=%7B%22service%22%3A%5B%22x%22%5D%7D'
passes "update a service's limits" POST '/services/rmsp-no-such-service/update?version=1' "$spec"
passes "roll a service back" POST '/services/rmsp-no-such-service/update?version=1&rollback=previous' "$spec"
refused "update with a privileged spec" POST '/services/x/update?version=1' \
  '{"TaskTemplate":{"ContainerSpec":{"Image":"x","Privileged":true}}}'
refused "update mounting the Docker socket" POST '/services/x/update?version=1' \
  '{"TaskTemplate":{"ContainerSpec":{"Image":"x","Mounts":[{"Source":"/var/run/docker.sock","Target":"/s"}]}}}'
refused "update with CapabilityAdd" POST '/services/x/update?version=1' \
  '{"TaskTemplate":{"ContainerSpec":{"Image":"x","CapabilityAdd":["SYS_ADMIN"]}}}'
refused "create a service" POST /services/create "$spec"
refused "delete a service" DELETE /services/x
refused "service logs" GET /services/x/logs
refused "list nodes" GET /nodes
refused "swarm join tokens" GET /swarm
refused "leave the swarm" POST '/swarm/leave?force=1'
refused "secrets" GET /secrets
refused "configs" GET /configs
refused "a task's logs" GET /tasks/x/logs

[ "$fails" -eq 0 ] && echo "all socket-proxy Swarm checks passed" || echo "$fails socket-proxy Swarm checks failed; logs in $out"
exit $((fails > 0))

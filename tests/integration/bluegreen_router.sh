#!/usr/bin/env bash
# bluegreen_router.sh: blue-green `deploy` behind a router that does NOT
# retry: HAProxy with `retries 0`, no `redispatch`, no `retry-on`, health
# checks every 2 s, backends found through Docker's DNS (Traefik without a
# retry middleware behaves alike). Under `hey` load:
#   1. the copy joins the router's pool only once healthy, and blue leaves
#      it before it stops (move_aliases: the copy is created without the
#      network alias and given it once healthy; blue's alias goes after the
#      verify phase, HAProxy re-resolves and drops it, the drain lets it
#      finish what it holds, then it stops): 0 failed requests, the alias
#      on the copy, one container;
#   2. the same cut-over with move_aliases: false: the copy is in the pool
#      from its start and blue until it stops, and some requests fail (20 to 41 of about
#      2,000-2,800 in our runs). Checked only to be more than none: the proof
#      that this router really does not retry, so that 1. means something;
#   3. verify_url through the same HAProxy: green is healthy for Docker (its
#      health check passes) but answers 503 on the verify path, which blue
#      answers 200 on (a CGI script, the same file in both, that answers 200
#      only where /tmp/verify-ok exists; the test creates it in blue only).
#      The clients' load goes to "/", which both serve: a green that failed
#      the clients' own requests would fail them while in the pool, whatever
#      the manager does, so the honest test of "rolled back before blue is
#      drained, with 0 failed requests" is a verify path the clients do not
#      use. Expected: rolled back in the verify phase (exit 2), the message
#      names the URL and the statuses with their counts, blue untouched (same
#      id, start time, limits, alias), green gone, 0 failed requests.
# Figures to $RM_TEST_OUTPUT/bluegreen-router-*/figures.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
lbimg=${RM_TEST_HAPROXY_IMAGE:-rm-test/haproxy:1}
src=${RM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${RM_TEST_OUTPUT:-/tmp}/bluegreen-router-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
. "$src/scripts/lib/docker_test.sh"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
p=rmbgr$$
net=$p-net
svc=$p-web
web=$p-web-1
lpid=
cleanup() {
  [ -n "$lpid" ] && kill "$lpid" 2>/dev/null
  docker ps -aq --filter "label=com.docker.compose.project=$p" | xargs -r docker rm -f >/dev/null 2>&1
  docker rm -f "$p-lb" >/dev/null 2>&1
  docker network rm "$net" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup

# settle 3 s: HAProxy resolves every second and a new server is UP at once;
# drain 2.5 s: longer than HAProxy's re-resolution (hold valid 1s) plus the
# longest request.
cfg() { # FILE EXTRA-BLUE-GREEN-KEYS
  cat >"$1" <<YML
monitoring: {prometheus_url: "", source: docker}
adjustment: {min_memory: 16M}
blue_green: {settle_seconds: 3, drain_seconds: 2.5, health_check_timeout: 30, stability_seconds: 2$2}
docker: {host: "$RM_TEST_DOCKER_HOST"}
notifications: {enabled: false}
state: {path: "$out/state.json"}
YML
}
cfg "$out/cfg.yml" ""
cfg "$out/cfg-nounlist.yml" ", move_aliases: false"

# The router: no retry of any kind, checks every 2 s (fall 2), and Docker's
# DNS re-resolved every second.
cat >"$out/haproxy.cfg" <<CFG
global
  maxconn 2000
defaults
  mode http
  timeout connect 5s
  timeout check 2s
  timeout client 10s
  timeout server 10s
  retries 0
resolvers docker
  nameserver dns 127.0.0.11:53
  resolve_retries 3
  timeout resolve 1s
  timeout retry 1s
  hold valid 1s
  hold obsolete 0s
  hold nx 1s
  accepted_payload_size 8192
frontend fe
  bind :8080
  default_backend be
backend be
  balance roundrobin
  option httpchk GET /
  default-server inter 2s fall 2 rise 1 check resolvers docker init-addr none resolve-prefer ipv4
  server-template web 4 web:8080
CFG
# The verify path: the same script in blue and in its copy (a bind mount
# the copy inherits); 200 only where /tmp/verify-ok exists.
mkdir -p "$out/cgi"
cat >"$out/cgi/verify" <<'SH'
#!/bin/sh
if [ -e /tmp/verify-ok ]; then printf 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n'
else printf 'Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nnot ready\n'; fi
SH
chmod 755 "$out/cgi/verify"

docker network create --label com.docker.compose.project="$p" "$net" >/dev/null || { bad "network"; exit 1; }
docker run -d --pull=never --name "$web" --network "$net" --network-alias web \
  --label com.docker.compose.project="$p" --label com.docker.compose.service="$svc" \
  --label com.docker.compose.container-number=1 -v "$out/cgi:/www/cgi-bin:ro" \
  --cpus 0.5 --memory 64m "$img" http 8080 >/dev/null || { bad "web start"; exit 1; }
docker run -d --pull=never --name "$p-lb" --network "$net" -p 127.0.0.1::8080 \
  -v "$out/haproxy.cfg:/etc/haproxy/haproxy.cfg:ro" "$lbimg" >/dev/null || { bad "haproxy start"; exit 1; }
lbport=$(docker port "$p-lb" 8080 | head -1 | sed 's/.*://')
rm_wait_healthy "$web" 20 || bad "blue never healthy"
for _ in $(seq 1 50); do curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$lbport/" && break; sleep 0.2; done
curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$lbport/" && ok "HAProxy (no retries) serves the web service" \
  || bad "HAProxy does not serve"

# hey for $1 seconds through the balancer into $2.
load() { hey -z "$1s" -c 8 -q 30 -t 10 "http://127.0.0.1:$lbport/" >"$2" 2>&1; }
# "<2xx> <all responses> <errors>" from hey's report.
load_counts() {
  awk '/^Status code distribution:/ {s=1; next} /^Error distribution:/ {s=0; e=1; next}
       s && /\[[0-9]+\]/ {gsub(/[\[\]]/, "", $1); n+=$2; if ($1 >= 200 && $1 < 300) ok+=$2}
       e && /\[[0-9]+\]/ {gsub(/[\[\]]/, "", $1); err+=$1}
       END {printf "%d %d %d\n", ok, n, err}' "$1"
}
check_load() { # file what
  local okn n err
  read -r okn n err < <(load_counts "$1")
  echo "$2: requests=$((n + err)) failed=$((n - okn + err))" >>"$out/figures"
  if [ "$n" -gt 100 ] && [ "$okn" -eq "$n" ] && [ "$err" -eq 0 ]; then
    ok "$2: $n requests, all 2xx, none failed"
  else
    bad "$2: $okn of $n requests 2xx, $err failed"; sed -n '/Status code/,$p' "$1"
  fi
}
# deploy under 14 s of load: NAME CONFIG CPU MEMORY; sets rc.
deploy_under_load() {
  load 14 "$out/load-$1" &
  lpid=$!
  sleep 2
  "$bin" deploy --config "$2" "$svc" "$3" "$4" >"$out/deploy-$1.log" 2>&1
  rc=$?
  wait "$lpid"; lpid=
  cat "$out/deploy-$1.log"
}
aliases_of() { docker inspect "$1" | rm_networks_of; }

# 1. Blue leaves the pool before it stops.
deploy_under_load unlist "$out/cfg.yml" 0.75 96M
[ "$rc" -eq 0 ] && ok "deploy exit 0" || bad "deploy exit $rc"
grep -q "list: $web-rm-[0-9]* gets 1 alias(es) on $net" "$out/deploy-unlist.log" \
  && grep -q "phase list_green -> settle" "$out/deploy-unlist.log" \
  && grep -q "unlist: $web leaves its 1 alias(es) on $net" "$out/deploy-unlist.log" \
  && grep -q "phase unlist_blue -> drain_blue" "$out/deploy-unlist.log" \
  && ! grep -q "address on .* changed" "$out/deploy-unlist.log" \
  && ok "green got the alias once healthy, blue left it before the drain, at its address" \
  || bad "aliases not moved (see the log above)"
check_load "$out/load-unlist" "no-retry router, aliases moved"
[ "$(docker inspect "$web" --format '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}')" = "750000000 100663296" ] \
  && ok "new limits in place" || bad "limits: $(docker inspect "$web" --format '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}')"
[ "$(aliases_of "$web")" = "$net=web" ] && ok "the copy holds the alias ($net=web)" \
  || bad "copy's networks: $(aliases_of "$web")"
[ "$(docker ps -aq --filter "label=com.docker.compose.service=$svc" | wc -l)" -eq 1 ] \
  && ok "one container left" || bad "containers left: $(docker ps -aq --filter "label=com.docker.compose.service=$svc" | wc -l)"

# 2. The same without unlisting: the router's premise (it does not retry).
deploy_under_load nounlist "$out/cfg-nounlist.yml" 0.5 64M
[ "$rc" -eq 0 ] && ok "deploy (move_aliases: false) exit 0" || bad "deploy (move_aliases: false) exit $rc"
read -r okn n err < <(load_counts "$out/load-nounlist")
echo "no-retry router, move_aliases false: requests=$((n + err)) failed=$((n - okn + err))" >>"$out/figures"
[ $((n - okn + err)) -gt 0 ] \
  && ok "without unlisting, $((n - okn + err)) of $((n + err)) requests failed: the router does not retry" \
  || bad "without unlisting no request failed: the router retries, and 1. proves nothing"

# 3. verify_url: green answers 503 on the verify path through the router.
docker exec "$web" touch /tmp/verify-ok || bad "exec"
curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$lbport/cgi-bin/verify" && ok "blue answers 200 on the verify path" \
  || bad "blue does not answer the verify path"
cfg "$out/cfg-verify.yml" ", verify_url: \"http://127.0.0.1:$lbport/cgi-bin/verify\", verify_requests: 10, verify_timeout: 5s"
id0=$(docker inspect "$web" --format '{{.Id}} {{.State.StartedAt}} {{.HostConfig.NanoCpus}}')
deploy_under_load verify "$out/cfg-verify.yml" 1 128M
[ "$rc" -eq 2 ] && ok "verify failure exits 2 (rolled back)" || bad "verify failure exit $rc"
grep -q "blue-green failed in verify (verify_url http://127.0.0.1:$lbport/cgi-bin/verify: .* of 10 needed, not reached in time .*503 x[0-9]" \
  "$out/deploy-verify.log" && ok "the message names the URL, the streak and the 503s with their count" \
  || bad "verify message"
grep -q "phase verify -> rollback" "$out/deploy-verify.log" && ! grep -q "unlist_blue\|drain_blue" "$out/deploy-verify.log" \
  && ok "rolled back before blue was unlisted or drained" || bad "phases: $(grep phase "$out/deploy-verify.log" | tr '\n' ' ')"
[ "$(docker inspect "$web" --format '{{.Id}} {{.State.StartedAt}} {{.HostConfig.NanoCpus}}')" = "$id0" ] \
  && [ "$(aliases_of "$web")" = "$net=web" ] \
  && ok "blue untouched (same id, start time, limits, alias)" || bad "blue changed"
[ "$(docker ps -aq --filter "label=com.docker.compose.service=$svc" | wc -l)" -eq 1 ] \
  && ok "green removed" || bad "containers left: $(docker ps -aq --filter "label=com.docker.compose.service=$svc" | wc -l)"
check_load "$out/load-verify" "verify_url rollback under load"

cat "$out/figures"
[ "$fails" -eq 0 ] && echo "all router checks passed" || echo "$fails router checks failed; logs in $out"
exit $((fails > 0))

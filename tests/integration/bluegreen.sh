#!/usr/bin/env bash
# bluegreen.sh: `resource-manager deploy` against the real engine.
#   1. blue-green behind a real L7 load balancer (HAProxy in a FROM-scratch
#      container, backends found through Docker's DNS, active health checks)
#      while `hey` sends requests through it: zero failed requests and zero
#      non-2xx, new limits in place, labels identical, name kept, one container;
#   2. green never becomes healthy: rolled back, blue untouched, no request
#      failed, exit code 4;
#   3. in place: a stateful service raised without a restart; a memory decrease
#      below current use refused (exit 1) with the reason;
#   4. a container publishing a host port goes in place;
#   5. a container that ignores SIGTERM is replaced (killed after its grace);
#   6. rollback SERVICE and status SERVICE; the wrapper script's exit codes;
#   7. a service of two replicas: both replaced, each with half the total.
# The cut-over figures go to $RM_TEST_OUTPUT/bluegreen-*/figures.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
lbimg=${RM_TEST_HAPROXY_IMAGE:-rm-test/haproxy:1}
src=${RM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${RM_TEST_OUTPUT:-/tmp}/bluegreen-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
. "$src/scripts/lib/docker_test.sh"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
p=rmbg$$
net=$p-net
cleanup() {
  docker ps -aq --filter "name=^/$p-" | xargs -r docker rm -f >/dev/null 2>&1
  docker network rm "$net" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup

cat >"$out/cfg.yml" <<YML
monitoring: {prometheus_url: "", source: docker}
services: {stateful: [$p-db]}
adjustment: {min_memory: 16M}
blue_green: {settle_seconds: 2.5, drain_seconds: 1.5, health_check_timeout: 30, stability_seconds: 2}
docker: {host: "$RM_TEST_DOCKER_HOST"}
notifications: {enabled: false}
state: {path: "$out/state.json"}
YML
deploy() { "$bin" deploy --config "$out/cfg.yml" "$@"; }

# Runs hey for $1 seconds through the balancer into $2.
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
  if [ "$n" -gt 100 ] && [ "$okn" -eq "$n" ] && [ "$err" -eq 0 ]; then
    ok "$2: $n requests, all 2xx, none failed"
  else
    bad "$2: $okn of $n requests 2xx, $err failed"; sed -n '/Status code/,$p' "$1"
  fi
}
labels_of() { docker inspect "$1" | rm_labels_of; }
service_count() { docker ps -aq --filter "label=com.docker.compose.service=$1" | wc -l; }

docker network create "$net" >/dev/null || { bad "network"; exit 1; }
# Blue: a Compose-style container with Traefik labels, on the network under
# the alias the balancer resolves.
web=$p-web-1
docker run -d --pull=never --name "$web" --network "$net" --network-alias web \
  --label com.docker.compose.project="$p" --label com.docker.compose.service="$p-web" \
  --label com.docker.compose.container-number=1 \
  --label 'traefik.http.routers.web.rule=Host(`web.example`) && PathPrefix(`/`)' \
  --label traefik.http.services.web.loadbalancer.server.port=8080 \
  --cpus 0.5 --memory 64m --restart unless-stopped "$img" http 8080 >/dev/null \
  || { bad "web start"; exit 1; }
rm_haproxy_config "$out/haproxy.cfg" web 8080
docker run -d --pull=never --name "$p-lb" --network "$net" -p 127.0.0.1::8080 \
  -v "$out/haproxy.cfg:/etc/haproxy/haproxy.cfg:ro" "$lbimg" >/dev/null || { bad "haproxy start"; exit 1; }
lbport=$(docker port "$p-lb" 8080 | head -1 | sed 's/.*://')
rm_wait_healthy "$web" 20 || bad "blue never healthy"
for _ in $(seq 1 50); do curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$lbport/" && break; sleep 0.2; done
curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$lbport/" && ok "HAProxy serves the web service" || bad "HAProxy does not serve"

# 1. Blue-green under load.
labels0=$(labels_of "$web")
load 13 "$out/load1" &
lpid=$!
sleep 2
deploy "$p-web" 0.75 96M --log-file "$out/bg.log" --metrics="$out/bg.prom" >"$out/deploy1.log" 2>&1
rc=$?
wait "$lpid"
cat "$out/deploy1.log"
[ "$rc" -eq 0 ] && ok "blue-green deploy exit 0" || bad "blue-green deploy exit $rc"
grep -q "strategy blue-green" "$out/deploy1.log" && ok "auto picked blue-green" || bad "strategy not blue-green"
check_load "$out/load1" "blue-green under load"
[ "$(docker inspect "$web" --format '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}')" = "750000000 100663296" ] \
  && ok "new limits in place" || bad "limits: $(docker inspect "$web" --format '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}')"
[ "$(labels_of "$web")" = "$labels0" ] && ok "labels identical (traefik.* byte for byte)" || bad "labels differ"
[ "$(docker inspect "$web" --format '{{index .Config.Labels "deployment.type"}} {{index .Config.Labels "deployment.new_memory"}}')" = "blue-green 96M" ] \
  && ok "deployment.* labels set" || bad "deployment labels missing"
[ "$(service_count "$p-web")" -eq 1 ] && ok "exactly one container left, name kept" || bad "$(service_count "$p-web") containers"
docker inspect "$web" --format '{{json .NetworkSettings.Networks}}' | grep -q '"Aliases":\["web"' \
  && ok "network alias kept" || bad "alias lost"
[ "$(docker inspect "$web" --format '{{.HostConfig.RestartPolicy.Name}}')" = unless-stopped ] \
  && ok "restart policy kept" || bad "restart policy lost"
# Cut-over figures from the phase timestamps ("[  1.23s] phase a -> b").
awk -v settle=2.5 -v drain=1.5 '
  function at() { x = $0; sub(/^\[ */, "", x); return x + 0 }
  /phase create_green -> start_green/ {a=at()}
  /phase wait_healthy -> list_green/ {h=at()}
  /phase drain_blue -> stop_blue/ {d=at()}
  /phase stop_blue -> remove_blue/ {s=at()}
  /phase finalize -> done/ {t=at()}
  END {printf "total=%.2f green_start_to_healthy=%.2f settle_drain=%.2f (configured %.1f) blue_stop=%.2f manager_overhead=%.2f\n",
       t, h-a, d-h, settle+drain, s-d, t-(h-a)-(settle+drain)-(s-d)}' "$out/deploy1.log" | tee -a "$out/figures"

# 2. Green never healthy: its health check needs a file only blue has.
bad1=$p-fragile-1
docker run -d --pull=never --name "$bad1" --network "$net" --network-alias web \
  --label com.docker.compose.service="$p-fragile" --health-cmd 'test -e /tmp/ready' \
  --health-interval 1s --health-retries 2 --cpus 0.5 --memory 64m "$img" http 8080 >/dev/null
docker exec "$bad1" touch /tmp/ready
rm_wait_healthy "$bad1" 20 || bad "fragile blue never healthy"
id1=$(docker inspect "$bad1" --format '{{.Id}} {{.State.StartedAt}} {{.HostConfig.NanoCpus}}')
sleep 1
load 9 "$out/load2" &
lpid=$!
sleep 1
METRICS_FILE="$out/bg.prom" deploy "$p-fragile" 1 128M --timeout 6 --metrics >"$out/deploy2.log" 2>&1
rc=$?
wait "$lpid"
cat "$out/deploy2.log"
[ "$rc" -eq 4 ] && ok "health failure exits 4" || bad "health failure exit $rc"
grep -q "rolled_back" "$out/deploy2.log" && ok "rolled back" || bad "not rolled back"
[ "$(docker inspect "$bad1" --format '{{.Id}} {{.State.StartedAt}} {{.HostConfig.NanoCpus}}')" = "$id1" ] \
  && ok "blue untouched (same id, start time, limits)" || bad "blue changed"
# --log-file: every phase and the outcome, timestamped; --metrics (the
# original's textfile): both services in one file, memory in bytes, the
# failure counted, no sample timestamps.
grep -q "deploy service=$p-web phase wait_healthy -> list_green" "$out/bg.log" \
  && grep -q "deploy service=$p-web deploy $p-web: applied (blue-green" "$out/bg.log" \
  && ok "--log-file has the phases and the outcome" || bad "--log-file: $(cat "$out/bg.log")"
want="blue_green_deployment_total{service=\"$p-web\",status=\"success\"} 1
blue_green_deployment_total{service=\"$p-web\",status=\"failure\"} 0
blue_green_deployment_total{service=\"$p-fragile\",status=\"success\"} 0
blue_green_deployment_total{service=\"$p-fragile\",status=\"failure\"} 1
blue_green_cpu_limit{service=\"$p-web\"} 0.75
blue_green_memory_limit_bytes{service=\"$p-web\"} 100663296
blue_green_memory_limit_bytes{service=\"$p-fragile\"} 67108864"
got=$(grep -E '^blue_green_(deployment_total|memory_limit_bytes|cpu_limit\{service="'"$p"'-web)' "$out/bg.prom")
[ "$got" = "$want" ] && ok "--metrics textfile: both services, bytes, the failure" \
  || bad "--metrics textfile: $(cat "$out/bg.prom")"
grep -q "blue_green_deployment_duration_seconds{service=\"$p-fragile\",status=\"failure\"}" "$out/bg.prom" \
  && [ "$(grep -vc '^#' "$out/bg.prom")" -eq 12 ] && ! grep -Eq '^[a-z_]+\{[^}]*\} [0-9.e+-]+ [0-9]+$' "$out/bg.prom" \
  && ok "--metrics: 12 samples, durations by status, no timestamps" || bad "--metrics: $(cat "$out/bg.prom")"
promtool check metrics <"$out/bg.prom" >"$out/promtool.log" 2>&1 \
  && ok "--metrics textfile passes promtool check metrics" || bad "promtool: $(cat "$out/promtool.log")"
[ "$(service_count "$p-fragile")" -eq 1 ] && ok "green removed" || bad "$(service_count "$p-fragile") containers"
check_load "$out/load2" "rollback under load"
docker rm -f "$bad1" >/dev/null

# 3. In place for a stateful service: no restart; a decrease below use refused.
db=$p-db
docker run -d --pull=never --name "$db" --label com.docker.compose.service="$db" \
  --cpus 0.5 --memory 64m "$img" alloc 40 >/dev/null
sleep 2
id0=$(docker inspect "$db" --format '{{.Id}} {{.State.StartedAt}}')
# (--metrics to a folder that does not exist: said, and the exit code stays
# the deployment's.)
deploy "$db" 1 128M --metrics="$out/no/such/dir/bg.prom" >"$out/deploy3.log" 2>&1
rc=$?
cat "$out/deploy3.log"
[ "$rc" -eq 0 ] && grep -q "strategy in-place (stateful" "$out/deploy3.log" && ok "stateful goes in place" \
  || bad "stateful deploy exit $rc"
grep -q "deploy: --metrics: cannot create a temporary file beside $out/no/such/dir/bg.prom: No such file or directory; the deployment's outcome above stands" \
  "$out/deploy3.log" && ok "an unwritable --metrics file is named, the deployment stands" || bad "no --metrics error"
[ "$(docker inspect "$db" --format '{{.Id}} {{.State.StartedAt}}')" = "$id0" ] && ok "same container, not restarted" \
  || bad "container restarted"
[ "$(docker inspect "$db" --format '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}')" = "1000000000 134217728" ] \
  && ok "raised in place" || bad "limits not raised"
deploy "$db" 1 32M >"$out/deploy4.log" 2>&1
rc=$?
cat "$out/deploy4.log"
[ "$rc" -eq 1 ] && grep -q "below its current use" "$out/deploy4.log" && ok "decrease below use refused (exit 1)" \
  || bad "decrease below use: exit $rc"
[ "$(docker inspect "$db" --format '{{.HostConfig.Memory}} {{.State.Running}}')" = "134217728 true" ] \
  && ok "refused decrease changed nothing" || bad "memory changed or container died"

# 4. A fixed published host port goes in place.
pub=$p-pub
hport=$((20000 + $$ % 20000))
while (exec 3<>"/dev/tcp/127.0.0.1/$hport") 2>/dev/null; do hport=$((hport+1)); done
docker run -d --pull=never --name "$pub" -p "127.0.0.1:$hport:8080" --cpus 0.5 --memory 64m "$img" http 8080 >/dev/null
rm_wait_healthy "$pub" 20
idp=$(docker inspect "$pub" --format '{{.Id}} {{.State.StartedAt}}')
deploy "$pub" 0.8 96M >"$out/deploy5.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q "strategy in-place (publishes a fixed host port" "$out/deploy5.log" \
  && [ "$(docker inspect "$pub" --format '{{.Id}} {{.State.StartedAt}}')" = "$idp" ] \
  && ok "published port: in place, same container" || { bad "published port: exit $rc"; cat "$out/deploy5.log"; }

# 5. A container that ignores SIGTERM (no compose labels: addressed by its
#    container name, which it keeps): killed after its grace period.
st=$p-stubborn
docker run -d --pull=never --name "$st" --stop-timeout 2 --cpus 0.5 --memory 64m "$img" ignore-term >/dev/null
rm_wait_healthy "$st" 20
deploy "$st" 0.6 80M --no-drain >"$out/deploy6.log" 2>&1
rc=$?
cat "$out/deploy6.log"
stop_s=$(awk 'function at() { x = $0; sub(/^\[ */, "", x); return x + 0 }
  /phase drain_blue -> stop_blue/ {d=at()} /phase stop_blue -> remove_blue/ {printf "%.1f", at()-d}' "$out/deploy6.log")
[ "$rc" -eq 0 ] && ok "SIGTERM-ignoring container replaced (stop took ${stop_s}s of its 2 s grace)" \
  || bad "ignore-term deploy exit $rc"
[ "$(docker ps -aq --filter "name=^/$st" | wc -l)" -eq 1 ] \
  && [ "$(docker inspect "$st" --format '{{.HostConfig.NanoCpus}} {{.State.Running}}')" = "600000000 true" ] \
  && ok "name kept, one container, new limits" || bad "ignore-term result wrong"

# 6. rollback SERVICE: back to the limits before the last change; status.
"$bin" rollback --config "$out/cfg.yml" "$p-web" >"$out/rollback.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ "$(docker inspect "$web" --format '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}')" = "500000000 67108864" ] \
  && ok "rollback restores 0.5 cores / 64M" || { bad "rollback exit $rc"; cat "$out/rollback.log"; }
"$bin" status --config "$out/cfg.yml" "$p-web" >"$out/status.log" 2>&1
grep -q "deployment.type=blue-green" "$out/status.log" && grep -q "blue-green applied" "$out/status.log" \
  && ok "status shows labels and history" || { bad "status output"; cat "$out/status.log"; }
# The original's script interface on top of the binary.
RM_BINARY=$bin RM_CONFIG="$out/cfg.yml" bash "$src/scripts/blue-green-deploy.sh" "$p-web" 0.05 64M >/dev/null 2>&1
rc=$?
[ "$rc" -eq 1 ] && ok "wrapper: CPU out of range exits 1" || bad "wrapper: exit $rc for a bad CPU"
RM_BINARY=$bin RM_CONFIG="$out/cfg.yml" bash "$src/scripts/blue-green-deploy.sh" "$p-web" 0.7 96M --dry-run >"$out/wrap.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q "dry run" "$out/wrap.log" && ok "wrapper: dry run" || { bad "wrapper dry run exit $rc"; cat "$out/wrap.log"; }
RM_BINARY=$bin RM_CONFIG="$out/cfg.yml" bash "$src/scripts/blue-green-deploy.sh" status "$p-web" >/dev/null 2>&1 \
  && ok "wrapper: status" || bad "wrapper: status failed"

# 7. Two replicas: each replaced in turn, each with half of the total, both
#    names kept.
for i in 1 2; do
  docker run -d --pull=never --name "$p-multi-$i" --network "$net" --network-alias multi \
    --label com.docker.compose.project="$p" --label com.docker.compose.service="$p-multi" \
    --label com.docker.compose.container-number="$i" \
    --cpus 0.25 --memory 48m "$img" http 8080 >/dev/null || bad "replica $i start"
done
rm_wait_healthy "$p-multi-1" 20 && rm_wait_healthy "$p-multi-2" 20 || bad "replicas never healthy"
ids0=$(docker ps -q --filter "label=com.docker.compose.service=$p-multi" --no-trunc | sort | tr '\n' ' ')
deploy "$p-multi" 1 128M >"$out/deploy7.log" 2>&1
rc=$?
cat "$out/deploy7.log"
ids1=$(docker ps -q --filter "label=com.docker.compose.service=$p-multi" --no-trunc | sort | tr '\n' ' ')
[ "$rc" -eq 0 ] && grep -q "strategy blue-green" "$out/deploy7.log" && ok "two replicas: blue-green, exit 0" \
  || bad "two replicas: exit $rc"
got=$(for i in 1 2; do docker inspect "$p-multi-$i" --format '{{.Name}} {{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.State.Running}}'; done | tr '\n' ' ')
[ "$got" = "/$p-multi-1 500000000 67108864 true /$p-multi-2 500000000 67108864 true " ] \
  && ok "each replica has half (0.5 cores, 64M), names kept" || bad "replicas: $got"
[ "$(service_count "$p-multi")" -eq 2 ] && [ "$ids0" != "$ids1" ] && [ -z "$(comm -12 <(tr ' ' '\n' <<<"$ids0" | sed '/^$/d') <(tr ' ' '\n' <<<"$ids1" | sed '/^$/d'))" ] \
  && ok "both replicas replaced, two containers left" || bad "replicas after: $(service_count "$p-multi") containers, ids $ids0 -> $ids1"

[ "$fails" -eq 0 ] && echo "all blue-green checks passed" || echo "$fails blue-green checks failed; logs in $out"
exit $((fails > 0))

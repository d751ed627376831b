#!/usr/bin/env bash
# docker_test.sh: helpers the integration tests share to watch containers on
# the real engine (health, logs, what a blue-green copy must keep) and the
# HAProxy router of the blue-green tests. Sourced; uses $DOCKER_HOST.

# rm_wait_healthy NAME SECONDS: 0 once the container's health is "healthy".
rm_wait_healthy() {
  for _ in $(seq 1 $(($2 * 10))); do
    [ "$(docker inspect "$1" --format '{{.State.Health.Status}}' 2>/dev/null)" = healthy ] && return 0
    sleep 0.1
  done
  return 1
}

# rm_wait_log FILE PATTERN SECONDS: 0 once grep finds PATTERN in FILE.
rm_wait_log() {
  for _ in $(seq 1 $(($3 * 10))); do grep -q -- "$2" "$1" && return 0; sleep 0.1; done
  return 1
}

# rm_load_client FILE URL SECONDS MAX STOPFILE: requests to URL one after
# the other (20 ms apart) until SECONDS have passed, MAX were sent or
# STOPFILE exists; a line each appended to FILE, "<start epoch> <HTTP
# status> <end epoch>" (000: no answer); curl's errors in FILE-errors.
rm_load_client() {
  local n=0 end=$((SECONDS + $3)) t code
  while [ "$n" -lt "$4" ] && [ "$SECONDS" -lt "$end" ] && [ ! -e "$5" ]; do
    t=$EPOCHREALTIME
    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$2" 2>>"$1-errors")
    echo "$t $code $EPOCHREALTIME"; n=$((n+1)); sleep 0.02
  done >>"$1"
}

# rm_load_counts FILE: "<requests> <failed>" of rm_load_client's lines.
rm_load_counts() { awk '{n++} $2 != "200" {f++} END {print n + 0, f + 0}' "$1"; }

# rm_wait_decision URL SERVICE REASON SECONDS: 0 once the daemon at URL (its
# /api/v1/status) shows SERVICE's last decision held or made for REASON
# (cooldown, daily_cap, ...): proof that the rule, not chance, is what acts.
rm_wait_decision() {
  for _ in $(seq 1 $(($4 * 5))); do
    curl -fsS --max-time 2 "$1/api/v1/status" 2>/dev/null | python3 -c 'import json, sys
s = [x for x in json.load(sys.stdin)["services"] if x["name"] == sys.argv[1]]
sys.exit(0 if s and (s[0].get("decision") or {}).get("reason") == sys.argv[2] else 1)' "$2" "$3" \
      && return 0
    sleep 0.2
  done
  return 1
}

# A container's labels as sorted JSON, without the deployment.* ones a
# blue-green copy adds; from `docker inspect` on stdin.
rm_labels_of() {
  python3 -c 'import json, sys
d = json.load(sys.stdin)[0]["Config"]["Labels"]
print(json.dumps({k: v for k, v in d.items() if not k.startswith("deployment.")}, sort_keys=True))'
}

# A container's networks with their aliases ("net=a,b ..."), without the
# alias Docker derives from the container's own id; from `docker inspect` on
# stdin.
rm_networks_of() {
  python3 -c 'import json, sys
c = json.load(sys.stdin)[0]
nets = c["NetworkSettings"]["Networks"]
print(" ".join(sorted(k + "=" + ",".join(a for a in (v["Aliases"] or []) if not c["Id"].startswith(a))
                      for k, v in nets.items())))'
}

# rm_haproxy_config FILE HOST PORT: an HAProxy configuration (for the image
# rm_build_haproxy_image builds) that listens on :8080 and balances over the
# addresses Docker's DNS gives for HOST, with active health checks. A stopping
# or starting container's address can swallow SYNs for a moment (DNS knows it
# before its interface answers, and after it died): a short connect timeout
# with retries on another server absorbs that, as a production HAProxy setup
# would.
rm_haproxy_config() {
  cat >"$1" <<CFG
global
  maxconn 2000
defaults
  mode http
  timeout connect 500ms
  timeout check 2s
  timeout client 10s
  timeout server 5s
  retries 6
  option redispatch 1
  retry-on all-retryable-errors
resolvers docker
  nameserver dns 127.0.0.11:53
  resolve_retries 3
  timeout resolve 500ms
  timeout retry 500ms
  hold valid 1s
  hold obsolete 1s
  hold nx 1s
  accepted_payload_size 8192
frontend fe
  bind :8080
  default_backend be
backend be
  balance roundrobin
  option httpchk GET /
  default-server inter 500ms fall 2 rise 1 check resolvers docker init-addr none resolve-prefer ipv4
  server-template $2 4 $2:$3
CFG
}

# rm_check_one_serving WHAT SERVICE NAME SECONDS OLD NEW: after a deployment
# was cut short and reconciled: exactly one container carries the Compose
# service label SERVICE, it is NAME, healthy (waited up to SECONDS), with the
# limits OLD or NEW ("<NanoCpus>:<Memory>"). Reports through the caller's ok
# and bad; sets rm_limits_index to 0 (OLD) or 1 (NEW) when it holds.
rm_check_one_serving() {
  local n l
  rm_wait_healthy "$3" "$4"
  n=$(docker ps -aq --filter "label=com.docker.compose.service=$2" | wc -l)
  l=$(docker inspect "$3" --format '{{.HostConfig.NanoCpus}}:{{.HostConfig.Memory}} {{.State.Health.Status}}' 2>/dev/null)
  case "$n $l" in
    "1 $5 healthy") rm_limits_index=0 ;;
    "1 $6 healthy") rm_limits_index=1 ;;
    *) bad "$1: $n container(s), $3: '$l'"
       docker ps -a --filter "label=com.docker.compose.service=$2" --format '{{.Names}} {{.Status}}'
       return 1 ;;
  esac
  ok "$1: one healthy container, limits ${l%% *}"
}

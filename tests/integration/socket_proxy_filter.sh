#!/usr/bin/env bash
# socket_proxy_filter.sh: the socket proxy's container-create filter and path
# rules (compose/socket-proxy/haproxy.cfg, the file the image ships), case by
# case: privileged, host namespaces, CapAdd, devices, unconfined profiles, a
# docker.sock bind, \u-escaped keys, bodies over 64 KiB, chunked bodies, and
# "..", "%2e" and "//" paths are refused with 403; a plain copy passes. The
# proxy runs as HAProxy on loopback in front of the real engine; every body
# names an image that does not exist, so what passes is answered by the
# engine (404) and creates nothing.
set -u
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
src=${RM_SOURCE_DIR:?}
. "$src/scripts/lib/common.sh"
command -v haproxy >/dev/null || { echo "haproxy not installed (RM_TEST_PACKAGES)"; exit 1; }
out=${RM_TEST_OUTPUT:-/tmp}/socket-proxy-$$
mkdir -p "$out"
sock=${RM_TEST_DOCKER_HOST#unix://}
port=$(rm_free_port $((19500 + $$ % 200)))
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null' EXIT

# The shipped configuration, listening on loopback, talking to this engine.
sed -e "s|^    bind :2375|    bind 127.0.0.1:$port|" -e "s|/var/run/docker.sock|$sock|" \
  -e "s|^    log stdout format raw local0 info|    log stderr format raw local0 info|" \
  "$src/compose/socket-proxy/haproxy.cfg" >"$out/haproxy.cfg"
grep -q "bind 127.0.0.1:$port" "$out/haproxy.cfg" || { bad "cannot rewrite the bind line"; exit 1; }
haproxy -db -f "$out/haproxy.cfg" >"$out/haproxy.log" 2>&1 &
pid=$!
rm_wait_http "http://127.0.0.1:$port/_ping" 10 || { bad "proxy did not start"; cat "$out/haproxy.log"; exit 1; }
base=http://127.0.0.1:$port/v1.41

img='"Image":"rm-test/no-such-image:0"'
create() { # body [curl args...]: prints the HTTP status
  local body=$1; shift
  printf '%s' "$body" >"$out/body"
  curl -s -o "$out/answer" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary @"$out/body" "$@" "$base/containers/create?name=rmsp-$$"
}
refused() { # name body [curl args...]
  local name=$1 code; shift
  code=$(create "$@")
  if [ "$code" = 403 ] && grep -q "socket-proxy" "$out/answer"; then ok "refused: $name"
  else bad "not refused: $name (HTTP $code: $(head -c 200 "$out/answer"))"; fi
}
passed() { # name body: the engine answers, not the proxy
  local name=$1 code; shift
  code=$(create "$@")
  if [ "$code" != 403 ] && ! grep -q "socket-proxy" "$out/answer"; then ok "passes: $name (engine: $code)"
  else bad "refused but should pass: $name (HTTP $code: $(head -c 200 "$out/answer"))"; fi
}

# A copy of an ordinary service passes, with its empty or null grants.
passed "a plain copy" "{$img,\"HostConfig\":{\"Privileged\":false,\"CapAdd\":null,\"Devices\":[],\"PidMode\":\"\",\"NetworkMode\":\"rmnet\",\"Binds\":[\"vol:/data\"]}}"
passed "CapAdd empty" "{$img,\"HostConfig\":{\"CapAdd\":[]}}"

refused "Privileged" "{$img,\"HostConfig\":{\"Privileged\":true}}"
refused "privileged, lower case and spaced" "{$img,\"HostConfig\":{\"privileged\" :  true}}"
for k in PidMode IpcMode UTSMode UsernsMode NetworkMode; do
  refused "$k host" "{$img,\"HostConfig\":{\"$k\":\"host\"}}"
done
refused "CapAdd" "{$img,\"HostConfig\":{\"CapAdd\":[\"SYS_ADMIN\"]}}"
refused "Devices" "{$img,\"HostConfig\":{\"Devices\":[{\"PathOnHost\":\"/dev/sda\",\"PathInContainer\":\"/dev/sda\",\"CgroupPermissions\":\"rwm\"}]}}"
refused "DeviceRequests" "{$img,\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"nvidia\",\"Count\":-1}]}}"
refused "DeviceCgroupRules" "{$img,\"HostConfig\":{\"DeviceCgroupRules\":[\"c 1:3 rwm\"]}}"
refused "seccomp unconfined" "{$img,\"HostConfig\":{\"SecurityOpt\":[\"seccomp=unconfined\"]}}"
refused "docker.sock bind" "{$img,\"HostConfig\":{\"Binds\":[\"/var/run/docker.sock:/var/run/docker.sock\"]}}"
refused "docker.sock mount" "{$img,\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/run/docker.sock\",\"Target\":\"/s\"}]}}"
refused "\\u-escaped key" "{$img,\"HostConfig\":{\"Privil\\u0065ged\":true}}"
refused "\\u-escaped value" "{$img,\"HostConfig\":{\"PidMode\":\"\\u0068ost\"}}"
pad=$(head -c 70000 /dev/zero | tr '\0' a)
refused "a body over 64 KiB" "{$img,\"Labels\":{\"pad\":\"$pad\"}}"
refused "a chunked body" "{$img,\"HostConfig\":{\"Privileged\":true}}" -H 'Transfer-Encoding: chunked'
refused "a chunked plain body" "{$img}" -H 'Transfer-Encoding: chunked'

# Paths: no dot segments, encodings or doubled slashes; nothing not granted.
path_refused() { # name path [method]
  local code
  code=$(curl -s --path-as-is -o "$out/answer" -w '%{http_code}' -X "${3:-GET}" "http://127.0.0.1:$port$2")
  if [ "$code" = 403 ] && grep -q "socket-proxy" "$out/answer"; then ok "refused path: $1"
  else bad "path not refused: $1 (HTTP $code)"; fi
}
path_refused ".." "/v1.41/containers/x/../../images/json"
path_refused "%2e%2e" "/v1.41/containers/x/%2e%2e/%2e%2e/images/json"
path_refused "%2F" "/v1.41/containers%2Fcreate" POST
path_refused "//" "//v1.41/containers/json"
path_refused "// inside" "/v1.41/containers//json"
path_refused "exec (not granted)" "/v1.41/containers/x/exec" POST
path_refused "images (not granted)" "/v1.41/images/json"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1.41/containers/json")
[ "$code" = 200 ] && ok "the container list passes" || bad "the container list: HTTP $code"

docker -H "$RM_TEST_DOCKER_HOST" inspect "rmsp-$$" >/dev/null 2>&1 && { bad "a container was created"; docker -H "$RM_TEST_DOCKER_HOST" rm -f "rmsp-$$" >/dev/null; }
[ "$fails" -eq 0 ] && echo "PASS" || { echo "$fails failure(s); proxy log in $out"; exit 1; }

#!/usr/bin/env bash
# proxy_fault.sh: the socket proxy fails in the middle of a blue-green
# deployment: it answers 500 to green's start, 500 to blue's stop, or
# forwards green's create and loses the engine's answer (the client times
# out while green exists). Each time: the deployment rolls back (exit 2),
# blue serves with its old limits, no green is left behind, the journal is
# empty and the failed deployment is in the history. The proxy is a small
# loopback forwarder to the real engine that injects one fault.
set -u
bin=${RM_BINARY:?}
: "${RM_TEST_DOCKER_HOST:?run through scripts/test.sh}"
img=${RM_TEST_WORKLOAD_IMAGE:-rm-test/workload:1}
. "${RM_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$RM_SOURCE_DIR/scripts/lib/docker_test.sh"
out=${RM_TEST_OUTPUT:-/tmp}/proxy-fault-$$
mkdir -p "$out"
export DOCKER_HOST=$RM_TEST_DOCKER_HOST
sock=${RM_TEST_DOCKER_HOST#unix://}
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
p=rmpf$$
svc=$p-web
web=$p-web-1
cleanup() {
  rm_stop_all
  docker ps -aq --filter "label=com.docker.compose.project=$p" | xargs -r docker rm -f >/dev/null 2>&1
}
trap cleanup EXIT

# proxy PORT METHOD PATH-REGEX ACTION: forwards to the engine; the first
# request matching gets ACTION: 500, or lose (forwarded, answer withheld).
proxy() {
  /usr/bin/python3 - "$sock" "$@" <<'PY' &
import re, socket, sys, threading
sock, port, method, pattern, action = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
fired = threading.Lock()
def read_request(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    n = 0
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v.strip())
    while len(body) < n:
        body += c.recv(65536)
    kept = [l for l in lines[1:] if not l.lower().startswith(b"connection:")]
    return lines[0], kept, body
def serve(c):
    try:
        req = read_request(c)
        if not req:
            return
        line, headers, body = req
        m, path = line.split(b" ")[0].decode(), line.split(b" ")[1].decode()
        hit = m == method and re.search(pattern, path) and fired.acquire(blocking=False)
        if hit and action == "500":
            msg = b'{"message":"injected fault"}'
            c.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(msg), msg))
            print("fault: 500 for", m, path, flush=True)
            return
        u = socket.socket(socket.AF_UNIX); u.connect(sock)
        u.sendall(line + b"\r\n" + b"\r\n".join(headers + [b"Connection: close"]) + b"\r\n\r\n" + body)
        while True:
            chunk = u.recv(65536)
            if not chunk:
                break
            if not (hit and action == "lose"):
                c.sendall(chunk)
        u.close()
        if hit:
            print("fault: answer lost for", m, path, flush=True)
            threading.Event().wait(600)  # the client times out
    except OSError:
        pass
    finally:
        c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
  rm_track $!
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && break; sleep 0.1; done
}

docker run -d --pull=never --name "$web" --label com.docker.compose.project="$p" \
  --label com.docker.compose.service="$svc" --cpus 0.5 --memory 64m "$img" http 8080 >/dev/null \
  || { bad "web start"; exit 1; }
rm_wait_healthy "$web" 30 || bad "blue never healthy"
blue_id=$(docker inspect "$web" --format '{{.Id}}')

scenario() { # name method path-regex action
  local name=$1 port rc
  port=$(rm_free_port $((19450 + $$ % 40)))
  proxy "$port" "$2" "$3" "$4" >"$out/$name-proxy.log" 2>&1
  cat >"$out/$name.yml" <<YML
monitoring: {prometheus_url: "", source: docker}
blue_green: {settle_seconds: 1, drain_seconds: 0, health_check_timeout: 30, stability_seconds: 1,
             rollback_timeout: 30}
docker: {host: "tcp://127.0.0.1:$port", timeout: 3s, api_version: "1.41"}
notifications: {enabled: false}
state: {path: "$out/$name-state.json"}
YML
  env -u DOCKER_HOST "$bin" deploy "$svc" 0.75 96M --strategy blue-green --config "$out/$name.yml" \
    >"$out/$name.log" 2>&1
  rc=$?
  grep -q "^fault:" "$out/$name-proxy.log" || bad "$name: the fault never fired"
  [ "$rc" -eq 2 ] && ok "$name: rolled back (exit 2)" || { bad "$name: exit $rc"; tail -5 "$out/$name.log"; }
  local left
  left=$(docker ps -a --filter "label=com.docker.compose.service=$svc" --format '{{.Names}} {{.State}}')
  [ "$left" = "$web running" ] && ok "$name: blue alone serves, no green left" || bad "$name: containers: $left"
  [ "$(docker inspect "$web" --format '{{.Id}} {{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}')" = "$blue_id 500000000 67108864" ] \
    && ok "$name: blue keeps its old limits" \
    || bad "$name: $web is $(docker inspect "$web" --format '{{.Id}} {{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}')"
  python3 - "$out/$name-state.json" "$svc" <<'PY' && ok "$name: journal empty, the rollback recorded" || bad "$name: state"
import json, sys
s = json.load(open(sys.argv[1]))
deps = [e for e in s["history"] if e["service"] == sys.argv[2] and e["kind"] == "deployment"]
sys.exit(0 if not s["journal"] and len(deps) == 1 and deps[0]["outcome"] == "rolled_back" else 1)
PY
  rm_wait_healthy "$web" 30 || bad "$name: blue not healthy afterwards"
  rm_stop_all
}

scenario green-start-500 POST '^/v1\.41/containers/[0-9a-f]+/start$' 500
scenario blue-stop-500 POST "^/v1\\.41/containers/$blue_id/stop" 500
scenario green-create-lost POST '^/v1\.41/containers/create\?name=.*-rm-' lose
[ "$fails" -eq 0 ] && echo "PASS" || { echo "$fails failure(s); logs in $out"; exit 1; }

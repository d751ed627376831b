#!/usr/bin/env python3
"""probe.py: throws bad input at the web port of a running web_fixture, the
probe of issue 19 made repeatable: auth, CSRF, Host, bodies, framing, paths,
methods and slow clients. A case is handled when the answer has the expected
status, carries the security headers, echoes nothing it was sent, and the
server stays up; slow clients must be cut off in time while the health socket
answers. Prints one line per case not handled, then "N tried, M handled".

    probe.py PORT TOKEN HEALTH_SOCKET REQUEST_TIMEOUT
"""
import concurrent.futures
import json
import socket
import sys
import time

PORT, TOKEN, HSOCK, RT = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
MARK = b"<xss>"
HOST = b"Host: localhost\r\n"
AUTH = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
CSRF = b"X-Requested-By: resource-manager\r\n"
FWD = b"X-Forwarded-User: mallory\r\n"
SEC = [b"content-security-policy:", b"x-content-type-options: nosniff", b"x-frame-options: deny"]


def exchange(raw, timeout=RT * 2 + 3, sock_path=None):
    """Sends raw, returns (status or None, response bytes, seconds to close)."""
    start = time.monotonic()
    try:
        if sock_path:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock_path)
        else:
            s = socket.create_connection(("127.0.0.1", PORT))
    except OSError:  # nothing listening: the server is gone
        return None, b"", 0.0
    s.settimeout(timeout)
    data = b""
    try:
        s.sendall(raw)
    except OSError:
        pass
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    status = None
    if data.startswith(b"HTTP/1."):
        try:
            status = int(data.split(b" ", 2)[1])
        except (IndexError, ValueError):
            pass
    return status, data, time.monotonic() - start


def req(method, path, headers=b"", body=None, host=HOST, version=b"HTTP/1.1"):
    h = method + b" " + path + b" " + version + b"\r\n" + host + headers
    if body is not None:
        h += b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    else:
        h += b"\r\n"
    return h


cases = []  # (name, raw, expected statuses)


def case(name, raw, *want):
    cases.append((name, raw, set(want)))


# ---- auth and CSRF: nothing changes without both ----
POSTS = [b"/api/v1/automation/pause", b"/api/v1/automation/resume",
         b"/api/v1/services/grafana/approve", b"/api/v1/services/grafana/reject",
         b"/api/v1/services/postgres/deploy"]
creds = [b"", b"Authorization: Bearer wrong\r\n", b"Authorization: Bearer " + TOKEN[:-1].encode() + b"\r\n",
         b"Authorization: Bearer " + TOKEN.encode() + b"x\r\n", b"Authorization: Basic " + TOKEN.encode() + b"\r\n",
         b"Authorization: bearer\r\n", b"Authorization: Bearer \r\n", b"X-Forwarded-User: \r\n",
         b"Authorization: Bearer " + TOKEN.encode() + b"\x00\r\n", b"Authorization: Bearer <xss>\r\n"]
for p in POSTS:
    for c in creds:
        case(f"auth {p.decode()} {c[:30]!r}", req(b"POST", p, CSRF + c, b'{"cpu": 1}'), 401, 400)
csrf = [b"", b"X-Requested-By: evil\r\n", b"X-Requested-By: resource-manager-evil\r\n",
        b"X-Requested-By: \r\n", b"X-Requested-By: <xss>\r\n"]
origins = [b"Origin: http://evil.example\r\n", b"Origin: null\r\n", b"Origin: http://localhost.evil.example\r\n",
           b"Origin: http://localhost:1\r\n", b"Origin: file://\r\n", b"Origin: <xss>\r\n",
           b"Origin: http://\xff\xfe\r\n"]
for p in POSTS:
    for c in csrf:
        case(f"csrf header {p.decode()} {c!r}", req(b"POST", p, AUTH + c, b"{}"), 403)
    for o in origins:
        case(f"csrf origin {p.decode()} {o!r}", req(b"POST", p, AUTH + CSRF + o, b"{}"), 403)

# ---- Host: DNS rebinding refused, forward-auth or not ----
hosts = [b"evil.example", b"evil.example:%d" % PORT, b"localhost.evil.example", b"127.0.0.1.nip.io",
         b"<xss>", b"localhost:80x", b"localhost:-1", b"[::1", b"evil.example.", b"resource-manager.evil",
         b"LOCALHOST.evil", b"a" * 300]
for h in hosts:
    case(f"host {h[:40]!r} POST", req(b"POST", b"/api/v1/automation/pause", CSRF + FWD +
         b"Origin: http://" + h + b"\r\n", b"{}", host=b"Host: " + h + b"\r\n"), 421, 400)
    case(f"host {h[:40]!r} GET", req(b"GET", b"/api/v1/status", host=b"Host: " + h + b"\r\n"), 421, 400)
    case(f"forwarded host {h[:40]!r}", req(b"GET", b"/api/v1/status", b"X-Forwarded-Host: " + h + b"\r\n"), 421, 400)
case("no Host on 1.1", req(b"GET", b"/health", host=b""), 400)
case("two Hosts", req(b"GET", b"/health", host=b"Host: localhost\r\nHost: evil.example\r\n"), 400, 421)

# ---- bodies ----
bodies = [b"{", b"[1]", b'"x"', b"1", b"null", b"true", b'{"cpu": 1, "cpu": 2}', b'{"cpu": -1}',
          b'{"cpu": 0}', b'{"cpu": 1e400}', b'{"cpu": "lots"}', b'{"cpu": "-1"}', b'{"cpu": "1e999"}',
          b'{"memory": "12 parsecs"}', b'{"memory": -5}', b'{"memory": 1e30}', b'{"memory": "99999999999999999999G"}',
          b'{"gpu": 1}', b"{}", b'{"cpu": null, "memory": null}', b'{"cpu": [1]}', b'{"cpu": {"a": 1}}',
          b"nul\x00l", b'{"cpu": "\xff\xfe"}', b'{"\xff": 1}', b'{"cpu": "\\u0000"}', b'{"<xss>": 1}',
          b'{"cpu": "<xss>"}', b"\xef\xbb\xbf{}", b"{/*c*/}", b"{'cpu': 1}", b'{"cpu": 1,}', b'{"cpu": NaN}',
          b'{"cpu": 0x10}', b'{"cpu": 1} trailing', b"{" * 3 + b"}" * 3]
for levels in (10, 100, 1000, 10000, 30000):
    bodies.append(b'{"cpu":' + b"[" * levels + b"]" * levels + b"}")
    bodies.append(b"[" * levels)
    bodies.append(b'{"a":' * levels)
for b in bodies:
    case(f"body {b[:40]!r}", req(b"POST", b"/api/v1/services/postgres/deploy", AUTH + CSRF, b), 400, 413)
case("body over max_body", req(b"POST", b"/api/v1/automation/pause", AUTH + CSRF, b" " * 70000), 413)
case("declared over max_body", req(b"POST", b"/api/v1/automation/pause", AUTH + CSRF)[:-2] +
     b"Content-Length: 100000000\r\n\r\n{", 413)

# ---- framing ----
P = b"POST /api/v1/automation/pause HTTP/1.1\r\n" + HOST + AUTH + CSRF
framing = [
    (b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400),
    (b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} ", 400),
    (b"Content-Length: 2, 2\r\n\r\n{}", 400),
    (b"Content-Length: 2,2\r\n\r\n{}", 400),
    (b"Content-Length: +2\r\n\r\n{}", 400),
    (b"Content-Length: -1\r\n\r\n{}", 400, 411),
    (b"Content-Length: 0x2\r\n\r\n{}", 400),
    (b"Content-Length: 2 2\r\n\r\n{}", 400),
    (b"Content-Length: \r\n\r\n{}", 400, 411),
    (b"Content-Length: <xss>\r\n\r\n{}", 400, 411),
    (b"Content-Length: 99999999999999999999999\r\n\r\n{}", 400, 413),
    (b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400),
    (b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400),
    (b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 411),
    (b"Transfer-Encoding: gzip\r\n\r\n{}", 400),
    (b"Transfer-Encoding: chunked, identity\r\n\r\n{}", 400),
    (b"Transfer-Encoding: <xss>\r\n\r\n{}", 400),
    (b"Content-Length: 2\r\nTransfer-Encoding: identity\r\n\r\n{}", 400),
    (b"Content-Length : 2\r\n\r\n{}", 400),
    (b"Content-Length: 20\r\n\r\n{}", 408),  # short body: the deadline answers
]
for tail, *want in framing:
    case(f"framing {tail[:50]!r}", P + tail, *want)
lines = [
    (b"GET / HTTP/1.2\r\n" + HOST + b"\r\n", 505), (b"GET / HTTP/9.9\r\n" + HOST + b"\r\n", 505),
    (b"GET /<xss> HTTP/2.0\r\n" + HOST + b"\r\n", 505), (b"GET / HTTP/1.1 <xss>\r\n" + HOST + b"\r\n", 400),
    (b"GET / FTP/1.1\r\n" + HOST + b"\r\n", 400), (b"<xss>\r\n\r\n", 400), (b"GET\r\n\r\n", 400),
    (b"GET  /  HTTP/1.1\r\n" + HOST + b"\r\n", 200, 400), (b"\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n" + HOST + b"X-Big: " + b"b" * 20000 + b"\r\n\r\n", 400, 413, 431),
    (b"GET / HTTP/1.1\r\n" + HOST + b"\r\n".join(b"X-%d: y" % i for i in range(200)) + b"\r\n\r\n", 400, 431),
    (b"GET / HTTP/1.1\r\n" + HOST + b"X-Fold: a\r\n b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n" + HOST + b"X-Fold: a\r\n\tb\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n" + HOST + b"X-Fold: a\r\n b\r\nContent-Length: 5\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n" + HOST + b"X-Empty:\r\nX-Empty2:\r\n\r\n", 200),
    (b"GET / HTTP/1.1\r\n" + HOST + b"X-Spaces:   \r\n\r\n", 200),
    (b"GET / HTTP/1.1\r\n" + HOST + b"X-Tight:v\r\n\r\n", 200),
    (b"GET / HTTP/1.1\r\n" + HOST + b"X-Empty :\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n" + HOST + b"Bad Header: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n" + HOST + b": x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\n" + HOST.replace(b"\r", b"") + b"\n", 200, 400),
    (b"G\x00T / HTTP/1.1\r\n" + HOST + b"\r\n", 400, 404, 405),
    (b"\xff\xfe / HTTP/1.1\r\n" + HOST + b"\r\n", 400, 404, 405),
]
for raw, *want in lines:
    case(f"request line {raw[:40]!r}", raw, *want)

# ---- paths ----
paths = [b"/nope", b"/assets/", b"/assets/../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd", b"/etc/passwd",
         b"/api/v1", b"/api/v1/services/", b"/api/v1/services/a%2Fb",
         b"/api/v1/services/" + b"a" * 200, b"/index.html", b"/metrics/", b"/health/x",
         b"/health%00", b"/%00", b"/api/v1/services/<xss>", b"/<xss>", b"/health?x=%00",
         b"/assets/app.js/", b"/assets/app.js%00.html", b"/\xff\xfe", b"/api/v1/services/grafana/explode",
         b"/api/v1/services/grafana/approve/", b"/api/v1/history?limit=0", b"/api/v1/history?limit=1001",
         b"/api/v1/history?limit=abc", b"/api/v1/history?limit=<xss>", b"/api/v1/history?service=" + b"a" * 300,
         b"/api/v1/history?limit=99999999999999999999", b"/" + b"a" * 2000, b"/health?" + b"q" * 2000,
         b"/api/v1/services/%3Cxss%3E"]
for p in paths:
    case(f"path {p[:40]!r}", req(b"GET", p), 400, 404, 414)
# Not a path of this server: civetweb closes without an answer.
for p in [b"*", b"http://evil.example/health"]:
    case(f"path {p[:40]!r}", req(b"GET", p), None)
# Dot segments and double slashes are resolved as a browser would.
ok_paths = [b"/health?x=1", b"/health?<xss>", b"/api/v1/history?service=nope", b"/./health", b"/assets/../health",
            b"/api/v1/services/../status", b"//health", b"/..", b"/.", b"/./health/.."]
for p in ok_paths:
    case(f"path {p[:40]!r}", req(b"GET", p), 200)

# ---- methods ----
for m in [b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"TRACE", b"CONNECT", b"PROPFIND", b"MKCOL", b"FOO", b"<xss>", b"get"]:
    for p in [b"/", b"/health", b"/metrics", b"/api/v1/status", b"/api/v1/automation/pause",
              b"/api/v1/services/grafana", b"/api/v1/services/grafana/approve"]:
        case(f"method {m!r} {p.decode()}", req(m, p, AUTH + CSRF), 400, 404, 405, 501)
for p in [b"/health", b"/", b"/api/v1/status", b"/metrics"]:
    case(f"POST {p.decode()}", req(b"POST", p, AUTH + CSRF, b"{}"), 405)


def handled(name, raw, want):
    status, data, _ = exchange(raw)
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    why = None
    if status not in want:
        why = f"status {status}, wanted {sorted(want, key=str)}"
    elif status is not None and not all(h in head for h in SEC):
        why = "security headers missing"
    elif MARK in data:
        why = "echoed its input"
    return why


def slow_clients():
    """12 connections that never finish: each must be closed by the deadline
    (with a body, half of it more), while the health socket answers. With 4
    workers they are served 4 at a time, so the last wait two rounds."""
    openers = [b"GET /health HTTP/1.1\r\n", b"", P + b"Content-Length: 1000\r\n\r\n{"]
    socks = []
    for i in range(12):
        try:
            s = socket.create_connection(("127.0.0.1", PORT))
            s.sendall(openers[i % 3])
        except OSError:
            return [(f"slow client {i}", "server gone")]
        s.setblocking(False)
        socks.append([s, None])
    start = time.monotonic()
    health = []
    while time.monotonic() - start < RT * 6 + 4 and any(x[1] is None for x in socks):
        for x in socks:
            if x[1] is not None:
                continue
            try:
                d = x[0].recv(4096)
                if not d:
                    x[1] = time.monotonic() - start
                    continue
            except BlockingIOError:
                pass
            except OSError:
                x[1] = time.monotonic() - start
                continue
            try:
                x[0].send(b"x")
            except OSError:
                pass
        health.append(exchange(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n", 2, HSOCK)[0])
        time.sleep(0.5)
    for x in socks:
        x[0].close()
    results = []
    for i, x in enumerate(socks):
        t = x[1]
        results.append((f"slow client {i} ({['headers', 'idle', 'body'][i % 3]})",
                        None if t is not None else "never closed"))
    bad = [h for h in health if h != 200]
    results.append(("health socket while held", f"answers {health}" if bad else None))
    return results


results = []
with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
    futs = {pool.submit(handled, *c): c[0] for c in cases}
    for f in futs:
        results.append((futs[f], f.result()))
results.extend(slow_clients())
# Nothing got through: automation not paused, grafana's decision still pending.
status, data, _ = exchange(req(b"GET", b"/api/v1/status"))
try:
    st = json.loads(data.split(b"\r\n\r\n", 1)[1])
    intact = not st["automation"]["paused"] and any(
        s["name"] == "grafana" and s["pending"] for s in st["services"])
except (ValueError, KeyError, IndexError, TypeError):
    intact = False
results.append(("no command got through", None if intact else "state changed"))
status, _, _ = exchange(req(b"GET", b"/health"))
results.append(("still serving", None if status == 200 else f"/health answered {status}"))

for name, why in results:
    if why:
        print(f"NOT HANDLED: {name}: {why}")
print(f"{len(results)} tried, {sum(1 for _, w in results if not w)} handled")
sys.exit(0 if all(not w for _, w in results) else 1)

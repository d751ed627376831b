#!/usr/bin/python3
"""fault_proxy: an HTTP proxy on loopback in front of a real peer (here the
test's Prometheus) that spoils chosen requests, to test how clients take a
peer's faults. Every other request is forwarded as it is.

    fault_proxy.py PORT_FILE UPSTREAM [--fail N,...] [--hang N,...] [--hang-for S]

  --fail N   the Nth request (1-based) gets 503 with a short text body
  --hang N   the Nth request gets no answer for --hang-for seconds (10)

Writes the port it listens on to PORT_FILE, serves until killed, logs one
line per request on stderr.
"""
import argparse
import http.server
import socketserver
import sys
import threading
import time
import urllib.request


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port_file")
    ap.add_argument("upstream")
    ap.add_argument("--fail", default="")
    ap.add_argument("--hang", default="")
    ap.add_argument("--hang-for", type=float, default=10)
    a = ap.parse_args()
    fail = {int(x) for x in a.fail.split(",") if x}
    hang = {int(x) for x in a.hang.split(",") if x}
    lock = threading.Lock()
    count = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            with lock:
                count[0] += 1
                n = count[0]
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            print("request %d %s %d bytes" % (n, self.path, len(body)), file=sys.stderr)
            if n in hang:
                time.sleep(a.hang_for)
                return
            if n in fail:
                self.send_response(503)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"injected fault\n")
                return
            req = urllib.request.Request(a.upstream + self.path, data=body, method="POST",
                                         headers={"Content-Type": self.headers.get("Content-Type", "")})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    data, status = r.read(), r.status
            except urllib.error.HTTPError as e:
                data, status = e.read(), e.code
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST

        def log_message(self, *args):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    srv = Server(("127.0.0.1", 0), Handler)
    with open(a.port_file, "w") as f:
        f.write(str(srv.server_address[1]))
    srv.serve_forever()


if __name__ == "__main__":
    main()

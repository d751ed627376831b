#!/usr/bin/env python3
"""hold.py: holds a web port with N slow clients for S seconds, the way issue
19 found it: a third send `POST /nope` with a 1 GB Content-Length and then one
byte a second, a third send their headers one byte a second, a third connect
and say nothing. A connection the server closes is opened again a tenth of a
second later. Prints "opened K connections" (K - N is how many the server cut
off).

    hold.py PORT N SECONDS
"""
import select
import socket
import sys
import time

OPENERS = [
    b"POST /nope HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000000\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: localhost\r\n",
    b"",
]


def main():
    port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    opened = 0
    conns = {}  # socket -> (kind, next byte time)
    reopen = []  # (time, kind)

    def open_one(kind):
        nonlocal opened
        s = socket.create_connection(("127.0.0.1", port))
        s.setblocking(False)
        if OPENERS[kind]:
            s.send(OPENERS[kind])
        conns[s] = (kind, time.monotonic() + 1)
        opened += 1

    for i in range(n):
        open_one(i % 3)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        readable, _, _ = select.select(list(conns), [], [], 0.2)
        for s in readable:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:  # closed by the server: come back soon
                reopen.append((time.monotonic() + 0.1, conns.pop(s)[0]))
                s.close()
        now = time.monotonic()
        for due, kind in [r for r in reopen if r[0] <= now]:
            reopen.remove((due, kind))
            open_one(kind)
        for s, (kind, due) in list(conns.items()):
            if kind != 2 and now >= due:
                try:
                    s.send(b"x" if kind == 0 else b"X")
                except OSError:
                    pass
                conns[s] = (kind, due + 1)
    print(f"opened {opened} connections")
    for s in conns:
        s.close()


if __name__ == "__main__":
    main()

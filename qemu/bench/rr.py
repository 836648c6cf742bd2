#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Request/response rate, netperf TCP_RR style: one byte each way per
transaction, one transaction in flight, for a fixed time.

    rr.py serve --port P [--mptcp]           echoes one byte per byte, until EOF
    rr.py run HOST --port P [--mptcp] [--seconds S]
                                             prints {"transactions": N,
                                             "seconds": S, "rate": N/S}

TCP_NODELAY on both ends (as netperf's TCP_RR), so that Nagle's algorithm
does not wait for the delayed ACK. --mptcp opens IPPROTO_MPTCP (262).
"""
import argparse
import json
import socket
import time

IPPROTO_MPTCP = 262


def make(args):
    proto = IPPROTO_MPTCP if args.mptcp else socket.IPPROTO_TCP
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def serve(args):
    ls = make(args)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", args.port))
    ls.listen(1)
    c, _ = ls.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        b = c.recv(1)
        if not b:
            break
        c.sendall(b)
    c.close()


def run(args):
    deadline = time.monotonic() + 30
    while True:
        s = make(args)
        try:
            s.connect((args.host, args.port))
            break
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    n = 0
    start = time.monotonic()
    end = start + args.seconds
    while True:
        s.sendall(b"x")
        if not s.recv(1):
            raise SystemExit("server closed early")
        n += 1
        if n % 64 == 0 and time.monotonic() >= end:
            break
    secs = time.monotonic() - start
    s.close()
    print(json.dumps({"transactions": n, "seconds": round(secs, 3), "rate": n / secs}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["serve", "run"])
    p.add_argument("host", nargs="?")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mptcp", action="store_true")
    p.add_argument("--seconds", type=float, default=5)
    args = p.parse_args()
    serve(args) if args.mode == "serve" else run(args)


if __name__ == "__main__":
    main()

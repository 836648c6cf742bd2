#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Memory of an MPTCP connection under awkward traffic, for the VM tests.
Each role prints one JSON line and exits 0 if the bytes arrived intact.

    memcheck.py limited-recv --port P
    memcheck.py limited-send HOST --port P [--writes N] [--size B] [--gap S]
        An application-limited sender: N writes of B bytes, S seconds apart,
        each read by the peer before the next. The sender samples the
        connection's tables (getsockopt SOL_MPTCP/MPTCP_RS_INFO): the
        records of what was sent must not grow with the writes.

    memcheck.py tiny-send HOST --port P [--count N]
        N writes of one byte each, TCP_NODELAY: as many 1-byte segments.
    memcheck.py tiny-recv --port P [--count N] [--hold S]
        A slow reader: reads nothing for S seconds while sampling the
        socket's memory (SO_MEMINFO: what is charged to it, against its
        receive buffer), then reads all N bytes.
"""
import argparse
import json
import socket
import struct
import sys
import time

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_RS_INFO = 0x7273
SO_MEMINFO = 55
INFO_FIELDS = ("sndbuf_bytes", "sent_records", "tx_mappings", "rx_mappings", "rx_segments",
               "rx_queued", "readable", "rmem_alloc", "rcvbuf", "sndbuf", "snd_una", "data_ack")
MEMINFO_FIELDS = ("rmem_alloc", "rcvbuf", "wmem_alloc", "sndbuf", "fwd_alloc", "wmem_queued",
                  "optmem", "backlog", "drops")


def info(s):
    raw = s.getsockopt(SOL_MPTCP, MPTCP_RS_INFO, 8 * len(INFO_FIELDS))
    return dict(zip(INFO_FIELDS, struct.unpack("=%dQ" % len(INFO_FIELDS), raw)))


def meminfo(s):
    raw = s.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 4 * len(MEMINFO_FIELDS))
    return dict(zip(MEMINFO_FIELDS, struct.unpack("=%dI" % len(MEMINFO_FIELDS), raw)))


def listen(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    ls.settimeout(120)
    c, _ = ls.accept()
    ls.close()
    c.settimeout(300)
    return c


def connect(host, port):
    deadline = time.monotonic() + 60
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        try:
            s.connect((host, port))
            s.settimeout(300)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def limited_recv(a):
    c = listen(a.port)
    got = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        got += len(b)
        # An answer per write: the sender waits for it (application-limited).
        c.sendall(b"k")
    print(json.dumps({"received": got}))


def limited_send(a):
    s = connect(a.host, a.port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    peak = {}
    for i in range(a.writes):
        s.sendall(bytes([i & 0xFF]) * a.size)
        if s.recv(1) != b"k":
            raise SystemExit("no answer")
        if i % 50 == 0 or i == a.writes - 1:
            for k, v in info(s).items():
                peak[k] = max(peak.get(k, 0), v)
        time.sleep(a.gap)
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    print(json.dumps({"writes": a.writes, "peak": peak, "final": info(s)}))


def tiny_send(a):
    s = connect(a.host, a.port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(a.count):
        s.send(bytes([i & 0xFF]))
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    print(json.dumps({"sent": a.count}))


def tiny_recv(a):
    c = listen(a.port)
    peak_rmem, peak_queued, samples = 0, 0, []
    end = time.monotonic() + a.hold
    while time.monotonic() < end:
        m, i = meminfo(c), info(c)
        peak_rmem = max(peak_rmem, m["rmem_alloc"])
        peak_queued = max(peak_queued, i["rx_queued"])
        samples.append((m["rmem_alloc"], m["rcvbuf"]))
        time.sleep(0.2)
    rcvbuf = meminfo(c)["rcvbuf"]
    data = bytearray()
    while True:
        b = c.recv(65536)
        if not b:
            break
        data += b
    ok = len(data) == a.count and all(data[i] == (i & 0xFF) for i in range(len(data)))
    after = meminfo(c)
    c.close()
    print(json.dumps({"received": len(data), "ok": ok, "rcvbuf": rcvbuf, "peak_rmem": peak_rmem,
                      "peak_rx_queued": peak_queued, "rmem_after_read": after["rmem_alloc"],
                      "samples": len(samples)}))
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["limited-recv", "limited-send", "tiny-send", "tiny-recv"])
    p.add_argument("host", nargs="?")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--writes", type=int, default=1000)
    p.add_argument("--size", type=int, default=16)
    p.add_argument("--gap", type=float, default=0.002)
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--hold", type=float, default=5)
    a = p.parse_args()
    fn = {"limited-recv": limited_recv, "limited-send": limited_send,
          "tiny-send": tiny_send, "tiny-recv": tiny_recv}[a.mode]
    return fn(a) or 0


if __name__ == "__main__":
    sys.exit(main())

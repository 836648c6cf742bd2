#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The socket API of IPPROTO_MPTCP as applications see it: every case runs
the same steps on a TCP socket and on an MPTCP socket, and the MPTCP socket
must behave as TCP does (same return values and errno), which is also what
Linux's own MPTCP does. Prints TAP; exits 1 if any case differs.

    sockapi.py [--proto mptcp|tcp] [--family inet|inet6] [--addr 127.0.0.1]

With --proto tcp the cases run against TCP alone (a self-check of the
expectations on any kernel). With --family inet6 every socket is an IPv6
one; give an IPv4-mapped --addr (::ffff:127.0.0.1).
"""
import argparse
import errno
import os
import select
import socket
import sys
import threading
import time

IPPROTO_MPTCP = 262
results = []
family = socket.AF_INET


def sock(proto, nonblock=False):
    s = socket.socket(family, socket.SOCK_STREAM, proto)
    s.setblocking(not nonblock)
    return s


def outcome(fn):
    """Runs fn; returns ("ok", value) or ("errno", name)."""
    try:
        return ("ok", fn())
    except OSError as e:
        return ("errno", errno.errorcode.get(e.errno, str(e.errno)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# Each case takes (proto, addr) and returns a comparable description of what
# happened, built from outcome() values.

def case_connect_refused(proto, addr):
    s = sock(proto)
    r = outcome(lambda: s.connect((addr, free_port())))
    s.close()
    return r


def case_connect_nonblock_refused(proto, addr):
    s = sock(proto, nonblock=True)
    r1 = outcome(lambda: s.connect((addr, free_port())))
    select.select([], [s], [], 10)
    r2 = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    s.close()
    return (r1, errno.errorcode.get(r2, r2))


def case_connect_nonblock_inprogress(proto, addr):
    ls = sock(proto)
    ls.bind((addr, 0))
    ls.listen(1)
    s = sock(proto, nonblock=True)
    r1 = outcome(lambda: s.connect(ls.getsockname()))
    _, w, _ = select.select([], [s], [], 10)
    r2 = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    r3 = outcome(lambda: s.connect(ls.getsockname()))
    s.close()
    ls.close()
    return (r1, bool(w), r2, r3)


def case_send_unconnected(proto, addr):
    s = sock(proto)
    r = outcome(lambda: s.send(b"x", socket.MSG_NOSIGNAL))
    s.close()
    return r


def case_recv_unconnected(proto, addr):
    s = sock(proto)
    r = outcome(lambda: s.recv(1))
    s.close()
    return r


def case_recv_nonblock_empty(proto, addr):
    ls, c, a = pair(proto, addr)
    c.setblocking(False)
    r = outcome(lambda: c.recv(10))
    for x in (c, a, ls):
        x.close()
    return r


def case_send_after_peer_close(proto, addr):
    ls, c, a = pair(proto, addr)
    a.close()
    time.sleep(0.5)
    r1 = outcome(lambda: c.send(b"x" * 10, socket.MSG_NOSIGNAL))
    time.sleep(0.5)
    rs = []
    for _ in range(5):
        rs.append(outcome(lambda: c.send(b"x" * 10, socket.MSG_NOSIGNAL)))
        if rs[-1][0] == "errno":
            break
        time.sleep(0.2)
    c.close()
    ls.close()
    return (r1, rs[-1])


def case_shutdown_eof(proto, addr):
    ls, c, a = pair(proto, addr)
    c.sendall(b"hello")
    c.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = a.recv(100)
        if not chunk:
            break
        data += chunk
    a.sendall(b"back")
    a.close()
    back = c.recv(100)
    eof = c.recv(100)
    r = outcome(lambda: c.send(b"x", socket.MSG_NOSIGNAL))
    c.close()
    ls.close()
    return (data, back, eof, r)


def case_shutdown_unconnected(proto, addr):
    s = sock(proto)
    r = outcome(lambda: s.shutdown(socket.SHUT_RDWR))
    s.close()
    return r


def case_listen_accept_nonblock(proto, addr):
    ls = sock(proto, nonblock=True)
    ls.bind((addr, 0))
    ls.listen(4)
    r1 = outcome(lambda: ls.accept())
    c = sock(proto)
    c.connect(ls.getsockname())
    r, _, _ = select.select([ls], [], [], 10)
    a, peer = ls.accept()
    r2 = (bool(r), peer == c.getsockname(), a.getsockname() == ls.getsockname())
    for x in (a, c, ls):
        x.close()
    return (r1, r2)


def case_bind_in_use(proto, addr):
    a = sock(proto)
    a.bind((addr, 0))
    a.listen(1)
    b = sock(proto)
    r = outcome(lambda: b.bind(a.getsockname()))
    a.close()
    b.close()
    return r


def case_double_connect(proto, addr):
    ls, c, a = pair(proto, addr)
    r = outcome(lambda: c.connect(ls.getsockname()))
    for x in (c, a, ls):
        x.close()
    return r


def case_getpeername_unconnected(proto, addr):
    s = sock(proto)
    r = outcome(lambda: s.getpeername())
    s.close()
    return r


def case_names(proto, addr):
    ls, c, a = pair(proto, addr)
    r = (c.getpeername() == a.getsockname(), a.getpeername() == c.getsockname(),
         c.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE),
         c.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == proto)
    for x in (c, a, ls):
        x.close()
    return r


def case_sockopts(proto, addr):
    ls, c, a = pair(proto, addr)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    nodelay = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 18)
    rcv = c.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    snd = c.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    for x in (c, a, ls):
        x.close()
    # The kernel doubles the value set (socket(7)), within rmem_max/wmem_max.
    return (bool(nodelay), rcv, snd)


def case_accepted_inherits_buffers(proto, addr):
    """SO_RCVBUF and SO_SNDBUF set on a listener hold for the connections it
    accepts, and stay fixed (not autotuned) through a transfer."""
    ls = sock(proto)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 17)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 3 << 16)
    ls.bind((addr, 0))
    ls.listen(4)
    c = sock(proto)
    c.connect(ls.getsockname())
    a, _ = ls.accept()

    def bufs():
        return (a.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
                a.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
    before = bufs()
    c.sendall(b"x" * (1 << 20))
    c.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        b = a.recv(1 << 16)
        if not b:
            break
        got += len(b)
    back = []
    t = threading.Thread(target=lambda: back.append(len(c.recv(1 << 20, socket.MSG_WAITALL))))
    t.start()
    a.sendall(b"y" * (1 << 20))
    t.join(60)
    after = bufs()
    for x in (c, a, ls):
        x.close()
    return (before, got, back, after)


def case_poll_states(proto, addr):
    ls, c, a = pair(proto, addr)
    p = select.poll()
    p.register(c, select.POLLIN | select.POLLOUT)
    ev1 = dict(p.poll(1000)).get(c.fileno(), 0) & (select.POLLIN | select.POLLOUT)
    a.sendall(b"data")
    time.sleep(0.5)
    ev2 = dict(p.poll(1000)).get(c.fileno(), 0) & (select.POLLIN | select.POLLOUT)
    c.recv(10)
    a.close()
    time.sleep(0.5)
    ev3 = dict(p.poll(1000)).get(c.fileno(), 0) & (select.POLLIN | select.POLLRDHUP | 0x10)
    c.close()
    ls.close()
    return (ev1, ev2, ev3)


def case_epoll(proto, addr):
    ls, c, a = pair(proto, addr)
    ep = select.epoll()
    ep.register(c.fileno(), select.EPOLLIN | select.EPOLLET)
    e1 = ep.poll(0.2)
    a.sendall(b"x" * 1000)
    e2 = ep.poll(5)
    got = c.recv(2000)
    ep.close()
    for x in (c, a, ls):
        x.close()
    return (len(e1), [ev & select.EPOLLIN for _, ev in e2], len(got))


def case_blocking_large(proto, addr):
    """A blocking send larger than the buffers completes once the reader reads."""
    ls, c, a = pair(proto, addr)
    n = 4 << 20
    import threading
    got = []

    def reader():
        total = 0
        try:
            while total < n:
                d = a.recv(1 << 16)
                if not d:
                    break
                total += len(d)
        except OSError as e:
            got.append(f"reader: {e!r} after {total}")
            return
        got.append(total)
    t = threading.Thread(target=reader)
    t.start()
    c.sendall(b"y" * n)
    t.join(60)
    for x in (c, a, ls):
        x.close()
    return got


def case_nonblock_send_fills(proto, addr):
    """A non-blocking sender eventually gets EAGAIN when nobody reads."""
    ls, c, a = pair(proto, addr)
    c.setblocking(False)
    r = None
    for _ in range(10000):
        r = outcome(lambda: c.send(b"z" * 65536))
        if r[0] == "errno":
            break
    for x in (c, a, ls):
        x.close()
    return r[1] if r else None


def pair(proto, addr):
    ls = sock(proto)
    ls.bind((addr, 0))
    ls.listen(4)
    c = sock(proto)
    c.connect(ls.getsockname())
    a, _ = ls.accept()
    return ls, c, a


CASES = [(name[5:], fn) for name, fn in sorted(globals().items()) if name.startswith("case_")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", choices=["mptcp", "tcp"], default="mptcp")
    ap.add_argument("--family", choices=["inet", "inet6"], default="inet")
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    proto = IPPROTO_MPTCP if args.proto == "mptcp" else socket.IPPROTO_TCP
    global family
    family = socket.AF_INET6 if args.family == "inet6" else socket.AF_INET
    failed = 0
    n = 0
    for name, fn in CASES:
        if args.only and args.only not in name:
            continue
        n += 1
        try:
            want = fn(socket.IPPROTO_TCP, args.addr)
        except Exception as e:  # noqa: BLE001 - reported as a failed case
            want = f"TCP raised {e!r}"
        try:
            got = fn(proto, args.addr)
        except Exception as e:  # noqa: BLE001
            got = f"raised {e!r}"
        if got == want:
            print(f"ok {n} - {name}: {args.proto} behaves as TCP ({got})", flush=True)
        else:
            failed += 1
            print(f"not ok {n} - {name}: {args.proto} gave {got}, TCP gives {want}", flush=True)
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

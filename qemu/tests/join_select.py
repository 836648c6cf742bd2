#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Joins never make an MPTCP listener readable: they go to their
connections, there is nothing for accept().

    join_select.py server PORT N     accepts N connections as a select()-
        driven server does (select, then accept without blocking), and
        watches the listener 2 s more; prints "<accepted> <empty>", where
        <empty> counts the times select said readable and accept found
        nothing (EAGAIN).
    join_select.py client ADDR PORT N
        opens N connections, half a second apart, each sending 64 KB and
        staying open, so that their extra subflows join after the server
        accepted them.
"""
import select
import socket
import sys
import time

IPPROTO_MPTCP = 262


def try_accept(ls):
    ls.setblocking(False)
    try:
        return ls.accept()[0]
    except BlockingIOError:
        return None
    finally:
        ls.setblocking(True)


def watch(ls, conns, n, seconds):
    """Select on `ls` for `seconds` or until `conns` holds `n`, accepting
    without blocking; how many times accept found nothing."""
    empty = 0
    end = time.time() + seconds
    while len(conns) < n and time.time() < end:
        if select.select([ls], [], [], 0.2)[0]:
            c = try_accept(ls)
            if c is None:
                empty += 1
            else:
                conns.append(c)
    return empty


def server(port, n):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(16)
    conns = []
    empty = watch(ls, conns, n, 60)
    # The last connection's subflows join after its accept.
    empty += watch(ls, conns, n + 1, 2)
    print(len(conns), empty)


def client(addr, port, n):
    conns = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        s.connect((addr, port))
        s.sendall(b"x" * 65536)
        conns.append(s)
        time.sleep(0.5)
    time.sleep(3)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), int(sys.argv[3]))
    else:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))

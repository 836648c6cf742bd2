#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Bulk transfers whose bytes are checked end to end, for the VM tests.

    xfer.py serve --port P [--bind A] [--mptcp] [--recv N] [--send N] [--once]
    xfer.py connect HOST --port P [--bind A] [--mptcp] [--send N] [--recv N]
    xfer.py digest N [--seed S]      the SHA-256 of the first N bytes

The sender sends N bytes of a deterministic pseudo-random stream (the same
on every host: a SHA-256 counter stream from --seed); the receiver reads
until EOF, hashes what it got and compares it with the stream it expected.
Prints one JSON line with the figures (bytes, seconds, Mbit/s, CPU seconds,
sha256, ok) and exits 1 on any mismatch, short transfer or error.

Both directions may run at once (--send and --recv together): the sender
shuts down its write side when done and the receiver reads to EOF.
--pause-at N --until FILE: the sender stops after N bytes until FILE
exists (the connection stays open meanwhile), then sends the rest.
--sndbuf N sets SO_SNDBUF; --cc NAME sets TCP_CONGESTION (the JSON's
"cc" is what the socket reports after the transfer); --read-size N --read-delay S make a slow
reader (N bytes per read, S seconds between reads).
--mptcp opens the socket with IPPROTO_MPTCP (262).
"""
import argparse
import hashlib
import json
import os
import resource
import socket
import struct
import sys
import threading
import time

IPPROTO_MPTCP = 262
CHUNK = 1 << 16


def stream(seed, nbytes):
    """The deterministic byte stream: SHAKE-256 of (seed, block number) in
    64 KiB blocks, so that no two blocks are alike and any misplaced byte
    changes the digest. One C call per block keeps it fast under TCG."""
    block = 0
    sent = 0
    while sent < nbytes:
        n = min(CHUNK, nbytes - sent)
        yield hashlib.shake_256(f"{seed}:{block}".encode()).digest(n)
        sent += n
        block += 1


def expected_digest(seed, nbytes):
    h = hashlib.sha256()
    for chunk in stream(seed, nbytes):
        h.update(chunk)
    return h.hexdigest()


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def wait_for(path, limit):
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {limit} s")
        time.sleep(0.2)


def do_send(sock, seed, nbytes, result, pause_at=None, until=None, limit=600):
    t0 = time.monotonic()
    sent = 0
    try:
        for chunk in stream(seed, nbytes):
            if pause_at is not None and sent >= pause_at:
                wait_for(until, limit)
                pause_at = None
            sock.sendall(chunk)
            sent += len(chunk)
        sock.shutdown(socket.SHUT_WR)
    except OSError as e:
        result["send_error"] = f"{type(e).__name__}: {e}"
    result["sent"] = sent
    result["send_seconds"] = round(time.monotonic() - t0, 3)


def do_recv(sock, seed, nbytes, result, read_size=CHUNK * 4, read_delay=0.0):
    t0 = time.monotonic()
    h = hashlib.sha256()
    got = 0
    try:
        while True:
            if read_delay:
                time.sleep(read_delay)
            data = sock.recv(read_size)
            if not data:
                break
            h.update(data)
            got += len(data)
    except OSError as e:
        result["recv_error"] = f"{type(e).__name__}: {e}"
    secs = time.monotonic() - t0
    result["received"] = got
    result["recv_seconds"] = round(secs, 3)
    result["recv_mbps"] = round(got * 8 / secs / 1e6, 2) if secs > 0 else 0
    result["recv_sha256"] = h.hexdigest()
    if nbytes is not None:
        result["expected_sha256"] = expected_digest(seed, nbytes)
        result["recv_ok"] = got == nbytes and result["recv_sha256"] == result["expected_sha256"]


def transfer(sock, args):
    result = {}
    cpu0 = cpu_seconds()
    t0 = time.monotonic()
    threads = []
    if args.send is not None:
        threads.append(threading.Thread(target=do_send, args=(sock, args.seed, args.send, result,
                                                              args.pause_at, args.until, args.timeout)))
    if args.recv is not None:
        threads.append(threading.Thread(target=do_recv, args=(sock, args.seed, args.recv, result,
                                                              args.read_size, args.read_delay)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result["seconds"] = round(time.monotonic() - t0, 3)
    result["cpu_seconds"] = round(cpu_seconds() - cpu0, 3)
    ok = "send_error" not in result and "recv_error" not in result
    if args.send is not None:
        ok = ok and result.get("sent") == args.send
    if args.recv is not None:
        ok = ok and result.get("recv_ok", False)
    result["ok"] = ok
    return result


def make_socket(args):
    proto = IPPROTO_MPTCP if args.mptcp else 0
    family = socket.AF_INET6 if ":" in (args.host or args.bind or "") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, proto)
    if args.cc:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, args.cc.encode())
    return sock


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["serve", "connect", "digest"])
    p.add_argument("host", nargs="?")
    p.add_argument("--port", type=int)
    p.add_argument("--bind", default="")
    p.add_argument("--mptcp", action="store_true")
    p.add_argument("--send", type=int)
    p.add_argument("--recv", type=int)
    p.add_argument("--seed", default="mptcp-rs")
    p.add_argument("--retry", type=float, default=60, help="connect: keep retrying for this long")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--label", default="")
    p.add_argument("--pause-at", type=int, help="send: stop after this many bytes until --until exists")
    p.add_argument("--until", help="send: the file that ends the pause")
    p.add_argument("--sndbuf", type=int, help="SO_SNDBUF of the connection")
    p.add_argument("--cc", help="TCP_CONGESTION of the socket (a listener's connections inherit it)")
    p.add_argument("--read-size", type=int, default=CHUNK * 4, help="recv: bytes per read")
    p.add_argument("--read-delay", type=float, default=0.0, help="recv: seconds between reads")
    args = p.parse_args()
    if (args.pause_at is None) != (args.until is None):
        p.error("--pause-at and --until go together")

    if args.mode == "digest":
        print(expected_digest(args.seed, int(args.host)))
        return 0
    if args.port is None:
        p.error("--port is required")
    if args.mode == "serve":
        ls = make_socket(args)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((args.bind, args.port))
        ls.listen(8)
        ls.settimeout(args.timeout)
        sock, peer = ls.accept()
        # The listener stays open during the transfer: MPTCP joins reach
        # the connection through it.
    else:
        ls = None
        deadline = time.monotonic() + args.retry
        while True:
            sock = make_socket(args)
            if args.bind:
                sock.bind((args.bind, 0))
            try:
                sock.connect((args.host, args.port))
                break
            except (ConnectionRefusedError, OSError) as e:
                sock.close()
                if time.monotonic() > deadline or not isinstance(e, (ConnectionRefusedError, TimeoutError)) \
                        and e.errno not in (111, 113, 101, 110):
                    print(json.dumps({"label": args.label, "ok": False, "error": f"connect: {e}"}))
                    return 1
                time.sleep(0.5)
        peer = (args.host, args.port)
    if args.sndbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, args.sndbuf)
    sock.settimeout(args.timeout)
    result = transfer(sock, args)
    try:
        result["cc"] = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
    except OSError:
        pass
    if ls is not None:
        ls.close()
    if args.mptcp:
        # mptcp_rs's own view of the connection, when the kernel is ours.
        try:
            raw = sock.getsockopt(284, 0x7273, 96)
            names = ("sndbuf_bytes", "sent_records", "tx_mappings", "rx_mappings", "rx_segments",
                     "rx_queued", "readable", "rmem_alloc", "rcvbuf", "sndbuf", "snd_una", "data_ack")
            result["mptcp_rs"] = dict(zip(names, struct.unpack("=12Q", raw)))
        except OSError:
            pass
    sock.close()
    result["label"] = args.label
    result["mode"] = args.mode
    result["peer"] = str(peer[0])
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Samples the congestion windows of a namespace's TCP sockets (subflows
included) through sock_diag, as `ss -ti` does, from one process (a process
per sample costs half a second under TCG), and measures how fast each grew
in congestion avoidance.

    cwnd.py --seconds S [--interval I] [--port P]... [--stop-file F] [--out FILE]

Prints one JSON object: per socket (by its 4-tuple) its congestion control,
samples, and its growth in congestion avoidance: the segments its window
gained over the intervals where it was in congestion avoidance (state Open,
cwnd >= ssthresh, ssthresh set by a loss), and those intervals' length in
its smoothed RTTs. Reno gains one segment per RTT there (RFC 5681); a
coupled subflow (RFC 6356 goal 2) no more than that. With --out, the
samples go to FILE too. With --stop-file, sampling ends when F exists
(S seconds at most): the flows sampled may start seconds after the sampler
does, since Python takes seconds to start under TCG.
"""
import argparse
import json
import os
import socket
import struct
import sys
import time

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
INET_DIAG_INFO = 2
INET_DIAG_CONG = 4
TCP_LISTEN = 10
TCP_CA_OPEN = 0
# tcp_info (include/uapi/linux/tcp.h): offsets of the fields read here.
OFF_CA_STATE = 1
OFF_SND_MSS = 16
OFF_SRTT = 68
OFF_SSTHRESH = 76
OFF_CWND = 80
OFF_BYTES_ACKED = 120
INFINITE_SSTHRESH = 0x7FFFFFFF


def request():
    """An inet_diag_req_v2 dump of every connected IPv4 TCP socket, with
    its tcp_info and congestion control name."""
    ext = (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_CONG - 1))
    # Every state but LISTEN (a server that sends nothing half-closes its
    # end at once: the client's socket is in CLOSE_WAIT as it sends).
    states = 0xFFF & ~(1 << TCP_LISTEN)
    req = struct.pack("=BBBxI", socket.AF_INET, socket.IPPROTO_TCP, ext, states)
    req += b"\0" * 48  # inet_diag_sockid: any
    hdr = struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    return hdr + req


def dump(nl, req):
    """The sockets of one dump: {(src, sport, dst, dport): fields}."""
    nl.send(req)
    out = {}
    while True:
        data = nl.recv(1 << 16)
        off = 0
        while off + 16 <= len(data):
            length, kind, _, _, _ = struct.unpack_from("=IHHII", data, off)
            if length < 16:
                return out
            if kind == NLMSG_DONE:
                return out
            if kind == NLMSG_ERROR:
                raise OSError("sock_diag: error reply")
            msg = data[off + 16:off + length]
            sport, dport = struct.unpack_from("!HH", msg, 4)
            src = socket.inet_ntoa(msg[8:12])
            dst = socket.inet_ntoa(msg[24:28])
            fields = {}
            a = 72  # after struct inet_diag_msg
            while a + 4 <= len(msg):
                alen, atype = struct.unpack_from("=HH", msg, a)
                if alen < 4:
                    break
                payload = msg[a + 4:a + alen]
                if atype == INET_DIAG_INFO and len(payload) >= OFF_BYTES_ACKED + 8:
                    fields["ca_state"] = payload[OFF_CA_STATE]
                    fields["mss"] = struct.unpack_from("=I", payload, OFF_SND_MSS)[0]
                    fields["srtt_us"] = struct.unpack_from("=I", payload, OFF_SRTT)[0]
                    fields["ssthresh"] = struct.unpack_from("=I", payload, OFF_SSTHRESH)[0]
                    fields["cwnd"] = struct.unpack_from("=I", payload, OFF_CWND)[0]
                    fields["bytes_acked"] = struct.unpack_from("=Q", payload, OFF_BYTES_ACKED)[0]
                elif atype == INET_DIAG_CONG:
                    fields["cong"] = payload.split(b"\0")[0].decode()
                a += (alen + 3) & ~3
            if "cwnd" in fields:
                out[(src, sport, dst, dport)] = fields
            off += (length + 3) & ~3


def growth(samples):
    """Segments gained and RTTs spent in congestion avoidance, from
    consecutive samples [(t, fields)] of one socket."""
    gained, rtts, intervals = 0, 0.0, 0
    for (t0, a), (t1, b) in zip(samples, samples[1:]):
        in_ca = (a["ca_state"] == TCP_CA_OPEN and b["ca_state"] == TCP_CA_OPEN
                 and a["ssthresh"] < INFINITE_SSTHRESH and a["cwnd"] >= a["ssthresh"]
                 and b["ssthresh"] == a["ssthresh"] and b["cwnd"] >= a["cwnd"]
                 and a["srtt_us"] > 0)
        if not in_ca:
            continue
        gained += b["cwnd"] - a["cwnd"]
        rtts += (t1 - t0) / (a["srtt_us"] / 1e6)
        intervals += 1
    return gained, rtts, intervals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--port", type=int, action="append", default=[],
                    help="only sockets with this remote port (repeatable)")
    ap.add_argument("--stop-file",
                    help="sample until this file exists (--seconds at most)")
    ap.add_argument("--out")
    args = ap.parse_args()
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    req = request()
    series = {}
    t_start = time.monotonic()
    t_end = t_start + args.seconds
    n = 0
    while time.monotonic() < t_end:
        if args.stop_file and os.path.exists(args.stop_file):
            break
        t = time.monotonic()
        for key, fields in dump(nl, req).items():
            if args.port and key[3] not in args.port:
                continue
            series.setdefault(key, []).append((t, fields))
        n += 1
        time.sleep(max(0.0, args.interval - (time.monotonic() - t)))
    result = {"dumps": n, "seconds": round(time.monotonic() - t_start, 2), "sockets": []}
    for (src, sport, dst, dport), samples in sorted(series.items()):
        gained, rtts, intervals = growth(samples)
        result["sockets"].append({
            "src": src, "sport": sport, "dst": dst, "dport": dport,
            "cong": samples[-1][1].get("cong", "?"),
            "samples": len(samples),
            "max_cwnd": max(s["cwnd"] for _, s in samples),
            "bytes_acked": samples[-1][1]["bytes_acked"],
            "ca_gained": gained, "ca_rtts": round(rtts, 2), "ca_intervals": intervals,
            "ca_growth_per_rtt": round(gained / rtts, 3) if rtts > 0 else None,
        })
    if args.out:
        with open(args.out, "w") as f:
            json.dump({str(k): v for k, v in series.items()}, f)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

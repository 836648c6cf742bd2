#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Crafted segments (scapy) for the VM tests: forged MPTCP options injected
into a live connection, and handshakes with MP_CAPABLE options that RFC 8684
says must be ignored. Each command prints one JSON line.

    craft.py forge --iface I --dst A --dport P --count N
        Waits for a data segment of the connection to A:P (run in the
        router's namespace, which forwards it), then sends N forged segments
        with that connection's 4-tuple and a valid checksum but sequence
        numbers outside its window, each way, carrying a conflicting DSS
        mapping, a DATA_FIN, or an MP_FASTCLOSE; creates --done FILE after.

    craft.py syn --dst A --dport P [--version V] [--flags F]
        Sends a SYN with MP_CAPABLE (version V, flags F) to a listener and
        reports whether its SYN/ACK carries MP_CAPABLE.

    craft.py third-ack --dst A --dport P [--version V] [--flags F] [--data N]
        A whole handshake: a valid MP_CAPABLE SYN, then a third ACK with
        MP_CAPABLE of version V and flags F, carrying N bytes of data (the
        "MP_CAPABLE with data" form) or none; reports whether the
        listener's answer carries DSS, and its DATA_ACK against the one that
        covers the data.

    craft.py dss-lengths --pcap F
        The lengths of the DSS options of a capture: on segments with data,
        and on segments with a DATA_FIN but no data (RFC 8684, 3.3, Figure
        9: 22 octets for a 4-octet DATA_ACK and an 8-octet DSN, as Linux).

    craft.py synack --iface I --sport P [--version V] [--flags F]
        A server of sorts: answers the first SYN to port P with a SYN/ACK
        carrying MP_CAPABLE (version V, flags F) and reports whether the
        client's third ACK carries MP_CAPABLE (it must not when the SYN/ACK's
        must be ignored).

    craft.py join-syn --dst A --dport P --token T
        Sends a SYN with MP_JOIN naming the connection of token T to a
        listener and reports whether it was answered with a RST (a join for
        an unknown token must be) or a SYN/ACK with MP_JOIN.

    craft.py cases < COMMANDS
        Each line of stdin is one of the commands above (scapy is imported
        once for all); one JSON line each, in order. (dss-lengths reads the
        pcap itself: it needs no scapy.)

Run where the kernel's own RSTs for these connections are dropped
(iptables), since no socket of that kernel owns them. Importing scapy takes
seconds under TCG: the listening commands (forge, synack) create the file
given by --ready once they listen, for the test to start the traffic then.
"""
import argparse
import hashlib
import json
import random
import struct
import sys

MPTCP = 30
H = 0x01


def load_scapy():
    """Imports the parts of scapy the crafting commands use (not scapy.all:
    its import alone takes 40 s under TCG with a debug kernel)."""
    global IP, TCP, AsyncSniffer, Raw, send, sr1
    from scapy.config import conf
    from scapy.layers.inet import IP, TCP
    from scapy.packet import Raw
    from scapy.sendrecv import AsyncSniffer, send, sr1
    conf.verb = 0


def mp_capable(version, flags, sender_key=None, receiver_key=None, data_len=None):
    body = bytes([(0 << 4) | version, flags])
    if sender_key is not None:
        body += struct.pack("!Q", sender_key)
    if receiver_key is not None:
        body += struct.pack("!Q", receiver_key)
    if data_len is not None:
        body += struct.pack("!H", data_len)
    return (MPTCP, body)


def dss_mapping(dsn, ssn, length, data_fin=False, ack=None):
    flags = 0x04 | 0x08  # M, m (8-octet DSN)
    body = b""
    if ack is not None:
        flags |= 0x01 | 0x02
        body += struct.pack("!Q", ack)
    if data_fin:
        flags |= 0x10
    body += struct.pack("!QIH", dsn, ssn, length)
    return (MPTCP, bytes([(2 << 4), flags]) + body)


def fastclose(key):
    return (MPTCP, bytes([(7 << 4), 0]) + struct.pack("!Q", key))


def mptcp_options(pkt):
    """The MPTCP options of a scapy TCP segment: (subtype, body) pairs."""
    out = []
    for kind, value in pkt[TCP].options:
        if kind == MPTCP and isinstance(value, (bytes, bytearray)) and value:
            out.append((value[0] >> 4, bytes(value)))
    return out


def idsn(key):
    return int.from_bytes(hashlib.sha256(struct.pack("!Q", key)).digest()[24:], "big")


def ready(a):
    if a.ready:
        open(a.ready, "w").close()


def forge(a):
    # A data segment of the connection, seen as the router forwards it.
    sniffer = AsyncSniffer(iface=a.iface, lfilter=lambda p: TCP in p and p[IP].dst == a.dst
                           and p[TCP].dport == a.dport and len(p[TCP].payload) > 0,
                           count=1, timeout=120)
    sniffer.start()
    ready(a)
    sniffer.join()
    seen = sniffer.results or []
    if not seen:
        print(json.dumps({"ok": False, "error": "no data segment seen"}))
        return 1
    p = seen[0]
    src, dst, sport, dport = p[IP].src, p[IP].dst, p[TCP].sport, p[TCP].dport
    seq, ack = p[TCP].seq, p[TCP].ack
    # A round at a time, each by one send() (one socket: a send() per
    # packet costs seconds under TCG). Building and sending them all takes
    # longer than a transfer: the test's sender waits for --done.
    sent = 0
    for i in range(a.count):
        packets = []
        for far in (1 << 30, -(1 << 30)):
            s = (seq + far) & 0xFFFFFFFF
            k = (ack + far) & 0xFFFFFFFF
            variants = [
                # A mapping of data the peer is receiving, to other DSNs.
                [dss_mapping(random.getrandbits(64), 1 + i * 1000, 1000)],
                # A DATA_FIN, which would end the stream early.
                [dss_mapping(random.getrandbits(64), 0, 1, data_fin=True)],
                [fastclose(random.getrandbits(64))],
            ]
            for opts in variants:
                # Towards the server, and towards the client.
                packets.append(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="A", seq=s,
                                                          ack=ack, options=opts) / Raw(b"x" * 100))
                packets.append(IP(src=dst, dst=src) / TCP(sport=dport, dport=sport, flags="A", seq=k,
                                                          ack=seq, options=opts) / Raw(b"y" * 100))
        send(packets)
        sent += len(packets)
    if a.done:
        open(a.done, "w").close()
    print(json.dumps({"ok": True, "forged": sent, "tuple": [src, sport, dst, dport]}))
    return 0


def syn(a):
    sport = random.randint(20000, 60000)
    iss = random.getrandbits(32)
    r = sr1(IP(dst=a.dst) / TCP(sport=sport, dport=a.dport, flags="S", seq=iss,
                                options=[("MSS", 1460), mp_capable(a.version, a.flags)]), timeout=5)
    if r is None or TCP not in r:
        print(json.dumps({"ok": False, "error": "no SYN/ACK"}))
        return 1
    caps = [o for o in mptcp_options(r) if o[0] == 0]
    send(IP(dst=a.dst) / TCP(sport=sport, dport=a.dport, flags="R", seq=iss + 1))
    print(json.dumps({"ok": True, "synack_flags": str(r[TCP].flags), "mp_capable": bool(caps)}))
    return 0


def join_syn(a):
    sport = random.randint(20000, 60000)
    iss = random.getrandbits(32)
    body = bytes([(1 << 4), 0]) + struct.pack("!II", a.token, random.getrandbits(32))
    r = sr1(IP(dst=a.dst) / TCP(sport=sport, dport=a.dport, flags="S", seq=iss,
                                options=[("MSS", 1460), (MPTCP, body)]), timeout=5)
    if r is None or TCP not in r:
        print(json.dumps({"ok": False, "error": "no answer"}))
        return 1
    joins = [o for o in mptcp_options(r) if o[0] == 1]
    rst = "R" in str(r[TCP].flags)
    if not rst:
        send(IP(dst=a.dst) / TCP(sport=sport, dport=a.dport, flags="R", seq=iss + 1))
    print(json.dumps({"ok": True, "rst": rst, "mp_join": bool(joins)}))
    return 0


def third_ack(a):
    sport = random.randint(20000, 60000)
    iss = random.getrandbits(32)
    ckey = random.getrandbits(64)
    r = sr1(IP(dst=a.dst) / TCP(sport=sport, dport=a.dport, flags="S", seq=iss,
                                options=[("MSS", 1460), mp_capable(1, H)]), timeout=5)
    if r is None or TCP not in r:
        print(json.dumps({"ok": False, "error": "no SYN/ACK"}))
        return 1
    caps = [o for o in mptcp_options(r) if o[0] == 0]
    if not caps or len(caps[0][1]) < 10:
        print(json.dumps({"ok": False, "error": "SYN/ACK without MP_CAPABLE"}))
        return 1
    skey = struct.unpack("!Q", caps[0][1][2:10])[0]
    data = b"d" * a.data
    opt = mp_capable(a.version, a.flags, ckey, skey, len(data) if data else None)
    pkt = IP(dst=a.dst) / TCP(sport=sport, dport=a.dport, flags="PA" if data else "A", seq=iss + 1,
                              ack=r[TCP].seq + 1, options=[opt])
    if data:
        pkt = pkt / Raw(data)
        answer = sr1(pkt, timeout=5)
    else:
        send(pkt)
        # Something the listener answers: one byte of data without MPTCP.
        answer = sr1(IP(dst=a.dst) / TCP(sport=sport, dport=a.dport, flags="PA", seq=iss + 1,
                                         ack=r[TCP].seq + 1) / Raw(b"z"), timeout=5)
    result = {"ok": True, "answered": answer is not None}
    if answer is not None and TCP in answer:
        dss = [o for o in mptcp_options(answer) if o[0] == 2]
        result["dss"] = bool(dss)
        if dss:
            body = dss[0][1]
            flags = body[1]
            if flags & 0x01:
                wide = flags & 0x02
                ack = int.from_bytes(body[2:10] if wide else body[2:6], "big")
                want = (idsn(ckey) + 1 + len(data)) & (0xFFFFFFFFFFFFFFFF if wide else 0xFFFFFFFF)
                result["data_ack"] = ack
                result["data_ack_covers_data"] = ack == want
    sent = len(data) if data else 1
    send(IP(dst=a.dst) / TCP(sport=sport, dport=a.dport, flags="R", seq=iss + 1 + sent))
    print(json.dumps(result))
    return 0


def synack(a):
    sniffer = AsyncSniffer(iface=a.iface, lfilter=lambda p: TCP in p and p[TCP].dport == a.sport
                           and p[TCP].flags == "S", count=1, timeout=60)
    sniffer.start()
    ready(a)
    sniffer.join()
    got = sniffer.results or []
    if not got:
        print(json.dumps({"ok": False, "error": "no SYN"}))
        return 1
    s = got[0]
    iss = random.getrandbits(32)
    third = AsyncSniffer(iface=a.iface, lfilter=lambda p: TCP in p and p[TCP].dport == a.sport
                         and p[TCP].flags & 0x10 and not p[TCP].flags & 0x02, count=1, timeout=10)
    third.start()
    send(IP(src=s[IP].dst, dst=s[IP].src) / TCP(sport=a.sport, dport=s[TCP].sport, flags="SA", seq=iss,
                                                ack=s[TCP].seq + 1,
                                                options=[("MSS", 1460),
                                                         mp_capable(a.version, a.flags, random.getrandbits(64))]))
    third.join()
    acks = third.results or []
    caps = bool(acks) and any(o[0] == 0 for o in mptcp_options(acks[0]))
    print(json.dumps({"ok": bool(acks), "third_ack_mp_capable": caps}))
    return 0 if acks else 1


def tcp_options(raw):
    """(kind, value) pairs of a TCP header's option bytes."""
    out, i = [], 0
    while i < len(raw):
        kind = raw[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2:
            break
        out.append((kind, raw[i + 2:i + raw[i + 1]]))
        i += raw[i + 1]
    return out


def pcap_tcp(path):
    """(TCP options, payload length) of each IPv4 TCP segment of a classic
    pcap file with Ethernet frames (tcpdump -w), without scapy."""
    with open(path, "rb") as f:
        blob = f.read()
    magic = blob[:4]
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
              b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if endian is None or struct.unpack(endian + "I", blob[20:24])[0] != 1:
        raise SystemExit(f"{path}: not a classic pcap of Ethernet frames")
    off = 24
    while off + 16 <= len(blob):
        caplen = struct.unpack(endian + "I", blob[off + 8:off + 12])[0]
        frame = blob[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        tcp = ip[ihl:]
        doff = (tcp[12] >> 4) * 4
        yield tcp_options(tcp[20:doff]), total - ihl - doff


def dss_lengths(a):
    data, fin = {}, {}
    for options, payload in pcap_tcp(a.pcap):
        for kind, body in options:
            if kind != MPTCP or len(body) < 2 or body[0] >> 4 != 2:
                continue
            n = len(body) + 2
            if payload > 0:
                data[n] = data.get(n, 0) + 1
            elif body[1] & 0x10:
                fin[n] = fin.get(n, 0) + 1
    print(json.dumps({"ok": True, "data": data, "data_fin": fin}))
    return 0


MODES = {"forge": forge, "syn": syn, "join-syn": join_syn, "third-ack": third_ack, "synack": synack, "dss-lengths": dss_lengths}


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=list(MODES) + ["cases"])
    p.add_argument("--pcap")
    p.add_argument("--dst")
    p.add_argument("--dport", type=int)
    p.add_argument("--sport", type=int)
    p.add_argument("--iface")
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--version", type=int, default=1)
    p.add_argument("--flags", type=lambda v: int(v, 0), default=H)
    p.add_argument("--data", type=int, default=0)
    p.add_argument("--token", type=lambda v: int(v, 0), default=0)
    p.add_argument("--ready", help="a file to create once listening")
    p.add_argument("--done", help="forge: a file to create once all are sent")
    return p


def cases(p):
    """One process for many commands (scapy is imported once): each line of
    stdin is a command line of this script; one JSON line per command; a
    line "end" (or the end of stdin) ends it. (With stdin a FIFO, the end of
    the input may never come: processes started meanwhile hold the writing
    end open too.)"""
    status = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        if line.strip() == "end":
            break
        a = p.parse_args(line.split())
        if a.mode == "cases":
            raise SystemExit("cases: no nesting")
        status |= MODES[a.mode](a)
        sys.stdout.flush()
    return status


def main():
    p = parser()
    a = p.parse_args()
    if a.mode != "dss-lengths":
        load_scapy()
    if a.mode == "cases":
        return cases(p)
    return MODES[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())

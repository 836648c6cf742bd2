#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args: --module --timeout 3600
#
# Soak: SOAK_CONNECTIONS (default 2000) short MPTCP connections, 16 at a
# time, each 64 KB each way with a SHA-256 check, then the module is
# unloaded: no connection left behind, no leak (kmemleak scans at the end),
# the token table empty again (the module's unload would wait otherwise).
. "$(dirname "$0")/../tests/tap.sh"
. "$(dirname "$0")/../tests/lib-mptcp.sh"
. "$(dirname "$0")/../topo.sh"

n=${SOAK_CONNECTIONS:-2000}
check "a 1-path topology" topo_create 1
cli python3 - "$n" "${TOPO_SRV_ADDR[1]}" <<'PY' && ok "$n connections, 64 KB each way, all intact" || not_ok "connection churn"
import hashlib, os, socket, subprocess, sys, threading
n, addr = int(sys.argv[1]), sys.argv[2]
IPPROTO_MPTCP = 262
payload = os.urandom(65536)
digest = hashlib.sha256(payload).digest()
srv = subprocess.Popen(["ip", "netns", "exec", "srv", "python3", "-c", f"""
import socket, threading
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, {IPPROTO_MPTCP})
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 47100)); s.listen(64)
print("ready", flush=True)
def echo(c):
    with c:
        while True:
            b = c.recv(65536)
            if not b: break
            c.sendall(b)
for _ in range({n}):
    c, _ = s.accept()
    threading.Thread(target=echo, args=(c,)).start()
"""], stdout=subprocess.PIPE, text=True)
assert srv.stdout.readline().strip() == "ready"
failures = []
def client(k):
    for i in range(k, n, 16):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        c.settimeout(120)
        c.connect((addr, 47100))
        c.sendall(payload); c.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            b = c.recv(65536)
            if not b: break
            got += b
        c.close()
        if hashlib.sha256(got).digest() != digest:
            failures.append(i)
ts = [threading.Thread(target=client, args=(k,)) for k in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
srv.wait(timeout=600)
print(f"# {len(failures)} of {n} connections failed", file=sys.stderr)
sys.exit(1 if failures else 0)
PY
expect_mib cli MPCapableSYNACKRX -eq "$n"
expect_mib srv MPCapableACKRX -eq "$n"
for ns in cli srv; do
	expect_mib $ns SubflowReset -eq 0
	expect_mib $ns DSSNoMapping -eq 0
done
topo_destroy
sleep 2
check "rmmod once every connection is gone" rmmod mptcp_rs
tap_done

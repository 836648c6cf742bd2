#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args: --timeout 900
#
# Loading and unloading mptcp_rs 8 times: each load brings net.mptcp back in
# every namespace, each unload removes it; the harness then checks the kernel
# log and kmemleak. Then unloading under traffic, and with a closed
# connection still delivering: refused at once with EBUSY, never a hang.
. "$(dirname "$0")/tap.sh"
ko=$PWD/mptcp_rs.ko
f=/proc/sys/net/mptcp/enabled

check "modinfo shows the version" sh -c "modinfo $ko | grep -q '^version: *[0-9]'"
ip netns add lu-a
fails=0
# Few processes per round: each costs about half a second under TCG, and a
# load (with its KUnit suites) 3-4 s: 8 rounds, not more.
loads=8
for i in $(seq 1 $loads); do
	if ! insmod "$ko"; then fails=$((fails + 1)); echo "# insmod $i failed"; continue; fi
	[ "$(<$f)" = 1 ] || { fails=$((fails + 1)); echo "# load $i: enabled not 1 in init_net"; }
	if [ $((i % 4)) = 0 ]; then
		[ "$(ip netns exec lu-a cat $f)" = 1 ] || { fails=$((fails + 1)); echo "# load $i: no sysctl in lu-a"; }
		# A namespace born while loaded, gone before unload.
		ip netns add lu-b && ip netns exec lu-b sysctl -q -w net.mptcp.enabled=0 && ip netns del lu-b
	fi
	if ! rmmod mptcp_rs; then fails=$((fails + 1)); echo "# rmmod $i failed"; continue; fi
	[ ! -e $f ] || { fails=$((fails + 1)); echo "# unload $i: $f still there"; }
done
expect_eq "$loads loads and unloads without error" 0 $fails
ip netns del lu-a
check "no mptcp_rs left in /proc/modules" sh -c "! grep -q '^mptcp_rs ' /proc/modules"

# Unloading under traffic: refused at once (EBUSY: every connection holds a
# reference on the module), never a hang; the traffic is not disturbed.
. "$(dirname "$0")/lib-mptcp.sh"
. "$(dirname "$0")/../topo.sh"
out=${MPTCP_RS_OUT:-/tmp}
check "insmod for the traffic" insmod "$ko"
check "a 1-path topology" topo_create 1
SRV=${TOPO_SRV_ADDR[1]}
srv timeout 600 python3 -S "$here/xfer.py" serve --port 47101 --mptcp --recv 5000000 >"$out/unload.server.json" 2>&1 &
spid=$!
# The client pauses after 1 MB until the unload was tried: without the
# pause, a fast run finished the transfer before rmmod, which then
# succeeded, rightly.
rm -f "$out/unload.resume"
cli timeout 600 python3 -S "$here/xfer.py" connect "$SRV" --port 47101 --mptcp --send 5000000 --retry 60 \
	--pause-at 1000000 --until "$out/unload.resume" >"$out/unload.client.json" 2>&1 &
cpid=$!
# Under way once a subflow is established (Python takes seconds to start
# under TCG: unloading before would succeed, rightly).
for _ in $(seq 1 120); do
	[ -n "$(cli ss -Htn state established '( dport = :47101 )')" ] && break
	sleep 0.5
done
sleep 1
t0=$SECONDS
msg=$(timeout 30 rmmod mptcp_rs 2>&1)
rc=$?
expect_eq "rmmod under traffic is refused (not a hang, not a success)" 1 "$rc"
case $msg in *"in use"*) ok "it says the module is in use: $msg" ;; *) not_ok "rmmod said: $msg" ;; esac
echo "# rmmod under traffic answered in $((SECONDS - t0)) s"
expect_eq "and it answered within 20 s (a hang runs into the 30 s timeout)" True "$([ $((SECONDS - t0)) -le 20 ] && echo True || echo False)"
touch "$out/unload.resume"
check "the transfer completes intact (client)" wait $cpid
check "the transfer completes intact (server)" wait $spid

# A connection whose application closed its socket with data still to
# deliver finishes in the background; unloading is refused meanwhile, and
# works once it is done.
srv timeout 600 python3 -S -c '
import socket, sys, time, hashlib
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 47102)); s.listen(1)
c, _ = s.accept()
time.sleep(5)  # the client closes meanwhile, its data still in flight
got = b""
while True:
    b = c.recv(65536)
    if not b: break
    got += b
print(len(got), hashlib.sha256(got).hexdigest())
' >"$out/orphan.server.txt" 2>&1 &
spid=$!
cli timeout 120 python3 -S -c '
import socket, sys, hashlib
data = bytes(range(256)) * 20000
import time
for _ in range(120):  # until the server listens
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
    try:
        s.connect((sys.argv[1], 47102))
        break
    except ConnectionRefusedError:
        s.close()
        time.sleep(0.5)
s.sendall(data)
s.close()
print(len(data), hashlib.sha256(data).hexdigest())
' "$SRV" >"$out/orphan.client.txt" 2>&1
sleep 1
msg=$(timeout 30 rmmod mptcp_rs 2>&1)
expect_eq "rmmod while a closed connection still delivers is refused" 1 "$?"
check "the closed connection delivers every byte" wait $spid
expect_eq "the reader got exactly what was written before close" "$(cat "$out/orphan.client.txt")" "$(cat "$out/orphan.server.txt")"
# rmmod_within SECS WHAT: a TAP case: rmmod works within SECS.
rmmod_within() {
	local t0=$SECONDS
	until rmmod mptcp_rs 2>/dev/null; do
		[ $((SECONDS - t0)) -lt "$1" ] || break
		sleep 1
	done
	check "$2: rmmod works (within $1 s)" sh -c "! grep -q '^mptcp_rs ' /proc/modules"
	echo "# rmmod took $((SECONDS - t0)) s"
}
topo_destroy
rmmod_within 90 "once every connection is gone"

# A connection that ends while its path manager retries a path that is
# down (connect fails at once: no route) lets the module go: a retry left
# pending once the connection is over must not re-arm its timer (whose
# reference would hold the connection, its namespace and the module).
check "insmod for a path that stays down" insmod "$ko"
check "a 2-path topology" topo_create 2
ip -n cli mptcp endpoint add "${TOPO_CLI_ADDR[2]}" dev c2 subflow
ip -n cli mptcp limits set subflow 2 add_addr_accepted 0
ip -n cli link set c2 down
# Path 2's source-routed table (102, see topo.sh) gets no route but an
# unreachable one: the join's connect fails at once (ENETUNREACH, no SYN)
# and the path manager tries again after a while. (With the table empty
# the lookup fell through to path 1's default route and the join SYN went
# unanswered instead.)
ip -n cli route add unreachable default table 102
syn_tx=$(mib cli MPJoinSynTx)
port=47200
mp_transfer path-down 1000000
expect_mib cli MPJoinSynTxConnectErr -ge 1
expect_mib cli MPJoinSynTx -eq "$syn_tx"
topo_destroy
rmmod_within 90 "the connection retrying a path that is down ends"
n=$(dmesg | grep -c 'mptcp_rs .* loaded' || true)
expect_eq "the module logged $((loads + 2)) loads" $((loads + 2)) "$n"
tap_done

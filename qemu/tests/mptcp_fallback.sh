#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args: --module
#
# Fallback to TCP, unnoticed by the application: a peer without MPTCP (a
# plain TCP server, a plain TCP client of our listener), and MP_CAPABLE
# stripped by a middlebox (iptables TCPOPTSTRIP in the router) on the SYN,
# on the SYN/ACK, and on the third ACK (and everything after it from the
# client). Each case moves data both ways at once, checked by SHA-256, and
# the counters say which fallback happened where.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/lib-mptcp.sh"
. "$(dirname "$0")/../topo.sh"

out=${MPTCP_RS_OUT:-/tmp}
port=44000
N=1000000
check "a 1-path topology" topo_create 1
SRV=${TOPO_SRV_ADDR[1]}

# transfer NAME SECONDS WHAT SERVER_ARGS CLIENT_ARGS: one connection,
# xfer.py at both ends (WHAT says what passing means).
transfer() {
	local name=$1 secs=$2 what=$3 sargs=$4 cargs=$5
	port=$((port + 1))
	# shellcheck disable=SC2086
	srv timeout "$secs" python3 -S "$here/xfer.py" serve --port $port $sargs >"$out/$name.server.json" 2>&1 &
	local spid=$!
	# shellcheck disable=SC2086
	cli timeout "$secs" python3 -S "$here/xfer.py" connect "$SRV" --port $port $cargs --retry 60 \
		>"$out/$name.client.json" 2>&1
	local crc=$?
	wait $spid
	local src=$?
	if [ $crc = 0 ] && [ $src = 0 ]; then
		ok "$name: $what"
	else
		not_ok "$name: client $crc, server $src"
		sed 's/^/#   /' "$out/$name.client.json" "$out/$name.server.json" | cut -c1-300
	fi
}

# both NAME SERVER_PROTO CLIENT_PROTO: a transfer both ways, each end with
# --mptcp or not.
both() {
	transfer "$1" 300 "1 MB each way, SHA-256 matches at both ends" \
		"$2 --send $N --recv $N" "$3 --send $N --recv $N"
}

# counters NS: a snapshot of the mptcp_rs counters of NS.
snap() { in_ns "$1" sed -n 2p /proc/net/mptcp_rs; }
# delta NS NAME BEFORE: how much NAME grew since the snapshot BEFORE.
delta() {
	local now
	now=$(mib "$1" "$2")
	local before
	before=$(awk -v n="$2" -v vals="$3" 'BEGIN { split(vals, v, " ") } NR == 1 { for (i = 2; i <= NF; i++) if ($i == n) print v[i] }' <(in_ns "$1" head -1 /proc/net/mptcp_rs))
	echo $((now - before))
}
expect_delta() { # NS NAME BEFORE WANT
	local d
	d=$(delta "$1" "$2" "$3")
	expect_eq "ns $1: $2 grew by $4" "$4" "$d"
}

# 1. Our MPTCP client, a plain TCP server.
c0=$(snap cli)
both plain-server "" --mptcp
expect_delta cli MPCapableFallbackSYNACK "$c0" 1

# 2. A plain TCP client, our MPTCP listener.
s0=$(snap srv)
both plain-client --mptcp ""
expect_delta srv MPCapableSYNRX "$s0" 0
expect_delta srv MPCapableACKRX "$s0" 0

# slow NAME SERVER_PROTO CLIENT_PROTO SENDER: 1 MB one way, from a sender
# with a small send buffer (SO_SNDBUF 4 KB) that waits in poll() (Python's
# socket timeout makes it non-blocking) to a reader taking 2 KB every 2 ms.
# ACKs free the buffer a little at a time: TCP's wake-up of the sender
# (SOCK_NOSPACE, then write_space) must survive our callbacks on the
# subflow, or the sender sleeps in poll() with everything acknowledged.
slow() {
	local name=$1 sflag=$2 cflag=$3 sender=$4 sopts copts
	local tx="--send $N --sndbuf 4096" rx="--recv $N --read-size 2048 --read-delay 0.002"
	if [ "$sender" = srv ]; then sopts=$tx copts=$rx; else sopts=$rx copts=$tx; fi
	transfer "$name" 120 "1 MB from a 4 KB send buffer to a slow reader, SHA-256 matches" \
		"$sflag $sopts" "$cflag $copts"
}

# 2b. The same two, with the sender's buffer full most of the time.
slow slow-plain-client --mptcp "" srv
slow slow-plain-server "" --mptcp cli

strip() { # DIRECTION-INTERFACE TCP-FLAGS-MASK TCP-FLAGS-SET
	rtr iptables -t mangle -F FORWARD
	rtr iptables -t mangle -A FORWARD -i "$1" -p tcp --tcp-flags "$2" "$3" -j TCPOPTSTRIP --strip-options 30
}

# 3. MP_CAPABLE stripped from the SYN: the server never sees it.
strip rc1 SYN,ACK SYN
c0=$(snap cli) s0=$(snap srv)
both strip-syn --mptcp --mptcp
expect_delta srv MPCapableSYNRX "$s0" 0
expect_delta cli MPCapableFallbackSYNACK "$c0" 1

# 4. Stripped from the SYN/ACK: the client falls back, so does the server.
strip rs1 SYN,ACK SYN,ACK
c0=$(snap cli) s0=$(snap srv)
both strip-synack --mptcp --mptcp
expect_delta srv MPCapableSYNRX "$s0" 1
expect_delta cli MPCapableFallbackSYNACK "$c0" 1
expect_delta srv MPCapableFallbackACK "$s0" 1

# 5. Stripped from the third ACK and everything after it from the client:
# the server's child is plain TCP; the client sees TCP in its replies.
strip rc1 SYN ""
c0=$(snap cli) s0=$(snap srv)
both strip-ack --mptcp --mptcp
expect_delta cli MPCapableSYNACKRX "$c0" 1
expect_delta srv MPCapableFallbackACK "$s0" 1
expect_delta cli MPFallbackNoDSS "$c0" 1
rtr iptables -t mangle -F FORWARD

# And with nothing in the way, MPTCP again.
c0=$(snap cli) s0=$(snap srv)
both clear-path --mptcp --mptcp
expect_delta srv MPCapableACKRX "$s0" 1
expect_delta cli MPCapableFallbackSYNACK "$c0" 0
for ns in cli srv; do
	expect_zero $ns DSSNoMapping SubflowReset
done
topo_destroy
tap_done

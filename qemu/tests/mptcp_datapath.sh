#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args: --module --timeout 1800
#
# The connection data path's defects, each with the test that shows it
# fixed (ours to ours, through a router):
# - an application-limited sender keeps its tables small: the records of
#   what was sent go as DATA_ACKs and TCP's ACKs come, not only when its
#   send buffer fills (was: pruned only from write_space, growing for the
#   connection's life);
# - 1-byte segments to a slow reader: the memory charged to the receiving
#   socket (SO_MEMINFO) stays within its receive buffer, the rest waits on
#   the subflow (was: clones of skbs TCP had uncharged, pinning hundreds of
#   times the buffer);
# - allocation failures injected on both ends (net.mptcp.debug_fail_alloc)
#   lose and duplicate nothing: received data waits on its subflow and is
#   handed again, a writer waits for memory instead of failing after part
#   of its data was queued;
# - a connection whose IDSNs lie within 1 MiB of 2^64
#   (net.mptcp.debug_idsn_near_wrap) moves 4 MB / 2 MB intact across the wrap
#   (100 MB: make soak, qemu/soak/long_transfer.sh).
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/lib-mptcp.sh"
. "$(dirname "$0")/../topo.sh"

out=${MPTCP_RS_OUT:-/tmp}
check "a 1-path topology" topo_create 1
SRV=${TOPO_SRV_ADDR[1]}

# transfer NAME PORT UP DOWN: both ways at once, SHA-256 checked.
transfer() {
	local name=$1 port=$2 up=$3 down=$4
	srv timeout 900 python3 -S "$here/xfer.py" serve --port "$port" --mptcp --recv "$up" --send "$down" \
		>"$out/$name.server.json" 2>&1 &
	local spid=$!
	cli timeout 900 python3 -S "$here/xfer.py" connect "$SRV" --port "$port" --mptcp --send "$up" --recv "$down" \
		--retry 60 >"$out/$name.client.json" 2>&1
	local crc=$?
	wait $spid
	local src=$?
	if [ $crc = 0 ] && [ $src = 0 ]; then
		ok "$name: $up bytes up, $down down, SHA-256 matches both ways"
	else
		not_ok "$name: client $crc, server $src"
		sed 's/^/#   /' "$out/$name.client.json" "$out/$name.server.json" | cut -c1-300
	fi
}

# --- an application-limited sender -------------------------------------------
srv timeout 300 python3 -S "$here/memcheck.py" limited-recv --port 46001 >"$out/limited.server.json" 2>&1 &
spid=$!
r=$(cli timeout 300 python3 -S "$here/memcheck.py" limited-send "$SRV" --port 46001 --writes 500 --size 16)
wait $spid
echo "# application-limited sender: $r"
expect_eq "500 writes of 16 bytes arrive" 8000 "$(json_get "$(cat "$out/limited.server.json")" .received)"
expect_eq "the sender's records of what it sent stay at most 4" True "$(json_get "$r" '.peak.sent_records <= 4')"
expect_eq "its sent mappings stay at most 4" True "$(json_get "$r" '.peak.tx_mappings <= 4')"
expect_eq "its send buffer is empty at the end" 0 "$(json_get "$r" '.final.sndbuf_bytes')"

# --- 1-byte segments to a slow reader -----------------------------------------
srv timeout 600 python3 -S "$here/memcheck.py" tiny-recv --port 46002 --count 2000 --hold 8 >"$out/tiny.server.json" 2>&1 &
spid=$!
cli timeout 600 python3 -S "$here/memcheck.py" tiny-send "$SRV" --port 46002 --count 2000 >"$out/tiny.client.json" 2>&1
wait $spid
r=$(cat "$out/tiny.server.json")
echo "# slow reader of 1-byte segments: $r"
expect_eq "2000 one-byte segments arrive intact" True "$(json_get "$r" .ok)"
# One skb may overshoot the buffer (it is charged, then the check stops).
expect_eq "the memory charged to the reader's socket stays within its receive buffer (+64 KiB)" True \
	"$(json_get "$r" '.peak_rmem <= .rcvbuf + 65536')"
expect_eq "and goes back to nothing once read" 0 "$(json_get "$r" .rmem_after_read)"

# --- allocation failures -------------------------------------------------------
for ns in cli srv; do in_ns $ns sysctl -q -w net.mptcp.debug_fail_alloc=5; done
transfer fail-alloc 46003 2000000 2000000
for ns in cli srv; do in_ns $ns sysctl -q -w net.mptcp.debug_fail_alloc=0; done
expect_mib srv RcvRetry -ge 1
expect_mib cli RcvRetry -ge 1

# --- the DSN space wraps -------------------------------------------------------
for ns in cli srv; do in_ns $ns sysctl -q -w net.mptcp.debug_idsn_near_wrap=1; done
transfer wrap 46004 4000000 2000000
for ns in cli srv; do in_ns $ns sysctl -q -w net.mptcp.debug_idsn_near_wrap=0; done
r=$(cat "$out/wrap.client.json")
echo "# across the wrap: $(json_get "$r" .mptcp_rs)"
expect_eq "the client's data went past 2^64: its snd_una wrapped to a small DSN" True \
	"$(json_get "$r" '.mptcp_rs.snd_una < 1099511627776')"
expect_eq "and the DATA_ACK of what it received from the server wrapped too" True "$(json_get "$r" '.mptcp_rs.data_ack < 1099511627776')"

for ns in cli srv; do
	expect_zero $ns MPCapableFallbackSYNACK MPCapableFallbackACK MPFallbackNoDSS DSSNotMatching \
		DSSNoMapping SubflowReset DataFinMismatch
done
topo_destroy
tap_done

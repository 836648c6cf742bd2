#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args: --module --timeout 900
#
# Ours to ours, through a router namespace: 1 MB and 4 MB in each
# direction, and 2 MB under 1% loss with reordering; every transfer checked
# by a SHA-256 of the bytes, the 1 MB runs captured and decoded by tshark,
# and the counters of both ends showing MPTCP, not a fallback. (Longer
# transfers: `make soak`, qemu/soak/long_transfer.sh.)
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/lib-mptcp.sh"
. "$(dirname "$0")/../topo.sh"

out=${MPTCP_RS_OUT:-/tmp}
port=43210
check "a 1-path topology" topo_create 1
SRV=${TOPO_SRV_ADDR[1]}

# transfer NAME BYTES up|down: the client sends (up) or receives (down).
transfer() {
	local name=$1 bytes=$2 dir=$3 s c
	port=$((port + 1))
	if [ "$dir" = up ]; then s="--recv $bytes" c="--send $bytes"; else s="--send $bytes" c="--recv $bytes"; fi
	# shellcheck disable=SC2086
	srv timeout 900 python3 -S "$here/xfer.py" serve --port $port --mptcp $s --label "$name" >"$out/$name.server.json" 2>&1 &
	local spid=$!
	# shellcheck disable=SC2086
	cli timeout 900 python3 -S "$here/xfer.py" connect "$SRV" --port $port --mptcp $c --retry 60 --label "$name" \
		>"$out/$name.client.json" 2>&1
	local crc=$?
	wait $spid
	local src=$?
	if [ $crc = 0 ] && [ $src = 0 ]; then
		ok "$name: $bytes bytes $dir, SHA-256 matches ($(jq -rs '(.[0].recv_mbps // .[1].recv_mbps | tostring) + " Mbit/s"' "$out/$name.server.json" "$out/$name.client.json"))"
	else
		not_ok "$name: $bytes bytes $dir (client $crc, server $src)"
		sed 's/^/#   /' "$out/$name.client.json" "$out/$name.server.json" | cut -c1-300
	fi
}

capture_start rtr rs1 "$out/1mb.pcap"
transfer 1mb-up 1000000 up
transfer 1mb-down 1000000 down
capture_stop
check_capture "$out/1mb.pcap"

transfer 4mb-up 4000000 up
transfer 4mb-down 4000000 down

check "1% loss and reordering on the path" topo_shape 1 - 5ms 1% reorder 25% 50%
transfer 2mb-lossy-up 2000000 up
transfer 2mb-lossy-down 2000000 down

for ns in cli srv; do
	expect_zero $ns MPCapableFallbackSYNACK MPCapableFallbackACK MPFallbackNoDSS DSSNotMatching \
		DSSNoMapping SubflowReset
done
expect_mib cli MPCapableSYNACKRX -eq 6
expect_mib srv MPCapableACKRX -eq 6
expect_mib srv DataFinRx -ge 3
expect_mib cli DataFinRx -ge 3
topo_destroy
tap_done

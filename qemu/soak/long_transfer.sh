#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args: --module --no-kmemleak --memory 2G --timeout 3600
#
# Soak: ours to ours, SOAK_BYTES (default 1 GB) in each direction at once on
# one connection through a router, then SOAK_WRAP_BYTES (default 100 MB) on a
# connection whose IDSNs lie within 1 MiB of 2^64, SHA-256 checked, then the
# counters of both ends: MPTCP all along, no fallback, no reset, no mapping
# error.
. "$(dirname "$0")/../tests/tap.sh"
. "$(dirname "$0")/../tests/lib-mptcp.sh"
. "$(dirname "$0")/../topo.sh"

out=${MPTCP_RS_OUT:-/tmp}
bytes=${SOAK_BYTES:-1000000000}
check "a 1-path topology" topo_create 1
srv timeout 3000 python3 -S "$here/xfer.py" serve --port 47001 --mptcp --send "$bytes" --recv "$bytes" \
	--label soak >"$out/soak.server.json" 2>&1 &
spid=$!
if cli timeout 3000 python3 -S "$here/xfer.py" connect "${TOPO_SRV_ADDR[1]}" --port 47001 --mptcp \
	--send "$bytes" --recv "$bytes" --retry 60 --timeout 3000 --label soak >"$out/soak.client.json" 2>&1; then
	ok "client: $bytes bytes each way, SHA-256 matches"
else
	not_ok "client: $bytes bytes each way"
	sed 's/^/#   /' "$out/soak.client.json" | cut -c1-300
fi
if wait $spid; then ok "server: $bytes bytes each way, SHA-256 matches"; else not_ok "server side"; fi
# Across the wrap of the data sequence space: IDSNs within 1 MiB of 2^64.
wrap=${SOAK_WRAP_BYTES:-100000000}
for ns in cli srv; do in_ns $ns sysctl -q -w net.mptcp.debug_idsn_near_wrap=1; done
srv timeout 3000 python3 -S "$here/xfer.py" serve --port 47002 --mptcp --recv "$wrap" --send 10000000 \
	>"$out/wrap.server.json" 2>&1 &
spid=$!
if cli timeout 3000 python3 -S "$here/xfer.py" connect "${TOPO_SRV_ADDR[1]}" --port 47002 --mptcp \
	--send "$wrap" --recv 10000000 --retry 60 >"$out/wrap.client.json" 2>&1 && wait $spid; then
	ok "across the DSN wrap: $wrap bytes up, 10 MB down, SHA-256 matches"
else
	not_ok "across the DSN wrap: $wrap bytes up"
	sed 's/^/#   /' "$out/wrap.client.json" "$out/wrap.server.json" | cut -c1-300
fi
for ns in cli srv; do in_ns $ns sysctl -q -w net.mptcp.debug_idsn_near_wrap=0; done
for ns in cli srv; do
	for m in MPCapableFallbackSYNACK MPCapableFallbackACK MPFallbackNoDSS DSSNotMatching DSSNoMapping SubflowReset; do
		expect_mib $ns $m -eq 0
	done
done
topo_destroy
tap_done

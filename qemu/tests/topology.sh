#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args:
#
# The shared multipath topology (qemu/topo.sh): disjoint paths, per-path
# shaping, link failure and the option-stripping middlebox all work, so
# that the protocol tests built on them measure what they claim.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/../topo.sh"

check "create a 2-path topology" topo_create 2
check "path 1: client reaches server" cli ping -c 1 -W 5 -I 10.1.1.1 10.1.2.1
check "path 2: client reaches server" cli ping -c 1 -W 5 -I 10.2.1.1 10.2.2.1
# Source routing: traffic from 10.2.1.1 leaves through c2.
route=$(cli ip route get 10.1.2.1 from 10.2.1.1)
case $route in *"dev c2"*) ok "source 10.2.1.1 is routed via path 2" ;; *) not_ok "source 10.2.1.1 is routed via path 2: $route" ;; esac

# Delay: 20 ms one way on path 2 makes its RTT at least 40 ms.
check "shape path 2 (20 ms each way)" topo_shape 2 - 20ms
rtt=$(cli ping -c 3 -i 0.2 -I 10.2.1.1 10.2.2.1 | sed -n 's/.*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p')
check "path 2 RTT >= 40 ms (got ${rtt:-none} ms)" awk -v r="${rtt:-0}" 'BEGIN { exit !(r >= 40) }'
rtt1=$(cli ping -c 3 -i 0.2 -I 10.1.1.1 10.1.2.1 | sed -n 's/.*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p')
check "path 1 is unaffected (RTT ${rtt1:-none} ms < 20 ms)" awk -v r="${rtt1:-99}" 'BEGIN { exit !(r < 20) }'

# Rate: 8 Mbit/s on path 1; a 2 MB transfer takes about 2 s (at least 1.6 s).
check "shape path 1 (8 Mbit/s)" topo_shape 1 8mbit 1ms
srv sh -c 'exec socat -u TCP-LISTEN:5001,bind=10.1.2.1,reuseaddr OPEN:/dev/null' &
sleep 1
start=$EPOCHREALTIME
check "2 MB over path 1" cli sh -c 'head -c 2000000 /dev/zero | socat -u - TCP:10.1.2.1:5001,bind=10.1.1.1'
secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
check "the rate limit holds (2 MB in ${secs} s >= 1.6 s)" awk -v s="$secs" 'BEGIN { exit !(s >= 1.6) }'
wait

# Failure: a path taken down stops carrying traffic and comes back.
check "take path 2 down" topo_down 2
# ping exits 1 when no reply came (2 on errors such as a missing binary).
cli ping -c 1 -W 1 -I 10.2.1.1 10.2.2.1 >/dev/null 2>&1
expect_eq "path 2 is down (ping gets no reply)" 1 $?
check "path 1 still up" cli ping -c 1 -W 5 -I 10.1.1.1 10.1.2.1
check "bring path 2 up" topo_up 2
check "path 2 is back" cli ping -c 1 -W 5 -I 10.2.1.1 10.2.2.1

# Middlebox: TCPOPTSTRIP in the router removes an option from SYNs; here the
# timestamps (kind 8), so the server's connection has none.
check "router strips TCP timestamps from SYNs" rtr iptables -t mangle -A FORWARD -p tcp \
	--tcp-flags SYN SYN -j TCPOPTSTRIP --strip-options timestamp
srv sh -c 'exec socat -u TCP-LISTEN:5002,bind=10.1.2.1,reuseaddr EXEC:"sleep 3"' &
sleep 1
cli sh -c 'exec socat -u EXEC:"sleep 2" TCP:10.1.2.1:5002' &
sleep 1
opts=$(srv ss -tni state established '( sport = :5002 )')
case $opts in
*"ts "*) not_ok "the server's connection has no timestamps: $opts" ;;
*cubic*) ok "the server's connection has no timestamps (stripped)" ;;
*) not_ok "no established connection on the server: $opts" ;;
esac
wait
topo_destroy
check "namespaces removed" sh -c '! ip netns list | grep -q .'
tap_done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args: --module
#
# net.mptcp.enabled: per network namespace, 0 or 1, default 1, as in
# Linux's own MPTCP. net.mptcp.scheduler: the name of one of
# net.mptcp.available_schedulers (read-only), "default" by default; any
# other name is refused with ENOENT, as Linux does. net.mptcp.ndiffports:
# 0 to 8; net.mptcp.opportunistic_retransmit and net.mptcp.penalize: 0 or 1;
# net.mptcp.add_addr_timeout: 1 to 86400 s, 120 by default.
. "$(dirname "$0")/tap.sh"
f=/proc/sys/net/mptcp/enabled

expect_eq "enabled is 1 in init_net after load" 1 "$(cat $f)"
expect_eq "mode is 0644" 644 "$(stat -c %a $f)"
check "write 0" sh -c "echo 0 > $f"
expect_eq "reads back 0" 0 "$(cat $f)"
check "write 1 with sysctl(8)" sysctl -q -w net.mptcp.enabled=1
expect_eq "sysctl(8) reads 1" "net.mptcp.enabled = 1" "$(sysctl net.mptcp.enabled)"
for bad in 2 -1 256 abc; do
	err=$(bash -c "echo $bad > $f" 2>&1) && not_ok "write $bad is refused" ||
		{ case $err in *"Invalid argument"*) ok "write $bad is refused with EINVAL" ;;
			*) not_ok "write $bad: expected EINVAL, got: $err" ;; esac; }
done
expect_eq "value unchanged after refused writes" 1 "$(cat $f)"

s=/proc/sys/net/mptcp/scheduler
expect_eq "available_schedulers" "default roundrobin blest" \
	"$(cat /proc/sys/net/mptcp/available_schedulers)"
expect_eq "available_schedulers is read-only (0444)" 444 "$(stat -c %a /proc/sys/net/mptcp/available_schedulers)"
expect_eq "scheduler is default after load" default "$(cat $s)"
for name in roundrobin blest default; do
	check "write scheduler $name" sh -c "echo $name > $s"
	expect_eq "scheduler reads back $name" $name "$(cat $s)"
done
check "sysctl(8) sets scheduler roundrobin" sysctl -q -w net.mptcp.scheduler=roundrobin
for bad in cubic Default roundrobinx redundant; do
	err=$(bash -c "printf '%s' '$bad' > $s" 2>&1) && not_ok "scheduler '$bad' is refused" ||
		{ case $err in *"No such file"*) ok "scheduler '$bad' is refused with ENOENT" ;;
			*) not_ok "scheduler '$bad': expected ENOENT, got: $err" ;; esac; }
done
expect_eq "scheduler unchanged after refused writes" roundrobin "$(cat $s)"

ip netns add mp-a && ip netns add mp-b
expect_eq "a new namespace starts with scheduler default" default "$(ip netns exec mp-a cat $s)"
sysctl -q -w net.mptcp.scheduler=default

# net.mptcp.ndiffports: 0 by default (the endpoints of `ip mptcp`), up to 8
# subflows between the initial pair of addresses.
d=/proc/sys/net/mptcp/ndiffports
expect_eq "ndiffports is 0 after load" 0 "$(cat $d)"
check "sysctl(8) sets ndiffports 8" sysctl -q -w net.mptcp.ndiffports=8
expect_eq "ndiffports reads back 8" 8 "$(cat $d)"
for bad in 9 -1 abc; do
	err=$(bash -c "echo $bad > $d" 2>&1) && not_ok "ndiffports $bad is refused" ||
		{ case $err in *"Invalid argument"*) ok "ndiffports $bad is refused with EINVAL" ;;
			*) not_ok "ndiffports $bad: expected EINVAL, got: $err" ;; esac; }
done
expect_eq "ndiffports unchanged after refused writes" 8 "$(cat $d)"
sysctl -q -w net.mptcp.ndiffports=0

# net.mptcp.opportunistic_retransmit, net.mptcp.penalize and
# net.mptcp.allow_join_initial_addr_port: 0 or 1, 1 by default.
for name in opportunistic_retransmit penalize allow_join_initial_addr_port; do
	o=/proc/sys/net/mptcp/$name
	expect_eq "$name is 1 after load" 1 "$(cat $o)"
	check "sysctl(8) sets $name 0" sysctl -q -w net.mptcp.$name=0
	expect_eq "$name reads back 0" 0 "$(cat $o)"
	err=$(bash -c "echo 2 > $o" 2>&1) && not_ok "$name 2 is refused" ||
		{ case $err in *"Invalid argument"*) ok "$name 2 is refused with EINVAL" ;;
			*) not_ok "$name 2: expected EINVAL, got: $err" ;; esac; }
	sysctl -q -w net.mptcp.$name=1
done

# net.mptcp.add_addr_timeout: seconds before an unechoed ADD_ADDR goes
# again, 120 by default as on Linux; 1 to 86400.
a=/proc/sys/net/mptcp/add_addr_timeout
expect_eq "add_addr_timeout is 120 after load" 120 "$(cat $a)"
check "sysctl(8) sets add_addr_timeout 1" sysctl -q -w net.mptcp.add_addr_timeout=1
expect_eq "add_addr_timeout reads back 1" 1 "$(cat $a)"
for bad in 0 86401 -1; do
	err=$(bash -c "echo $bad > $a" 2>&1) && not_ok "add_addr_timeout $bad is refused" ||
		{ case $err in *"Invalid argument"*) ok "add_addr_timeout $bad is refused with EINVAL" ;;
			*) not_ok "add_addr_timeout $bad: expected EINVAL, got: $err" ;; esac; }
done
expect_eq "add_addr_timeout unchanged after refused writes" 1 "$(cat $a)"
sysctl -q -w net.mptcp.add_addr_timeout=120
expect_eq "a new namespace starts with enabled=1" 1 "$(ip netns exec mp-a cat $f)"
check "set enabled=0 in namespace a" ip netns exec mp-a sysctl -q -w net.mptcp.enabled=0
expect_eq "namespace a reads 0" 0 "$(ip netns exec mp-a cat $f)"
expect_eq "namespace b is untouched" 1 "$(ip netns exec mp-b cat $f)"
expect_eq "init_net is untouched" 1 "$(cat $f)"
check "set enabled=0 in init_net" sysctl -q -w net.mptcp.enabled=0
expect_eq "namespace b still 1" 1 "$(ip netns exec mp-b cat $f)"
sysctl -q -w net.mptcp.enabled=1
ip netns del mp-a && ip netns del mp-b
ok "namespaces with state deleted"

# Many namespaces created and destroyed: per-netns init and exit. (Each
# `ip netns` costs about a second under TCG: 8 of them, not more.)
n=8
for i in $(seq 1 $n); do ip netns add mp-$i; done
for i in $(seq 1 $n); do ip netns exec mp-$i sysctl -q -w net.mptcp.enabled=$((i % 2)); done
bad=0
for i in $(seq 1 $n); do [ "$(ip netns exec mp-$i cat $f)" = $((i % 2)) ] || bad=$((bad + 1)); done
expect_eq "$n namespaces keep their own values" 0 $bad
bad=0
for i in $(seq 1 $n); do ip netns del mp-$i || bad=$((bad + 1)); done
expect_eq "$n namespaces deleted" 0 $bad

expect_eq "version in sysfs" "$(sed -n 's/^pub const VERSION: &str = "\(.*\)";/\1/p' net-mptcp/core/src/lib.rs)" \
	"$(cat /sys/module/mptcp_rs/version)"
tap_done

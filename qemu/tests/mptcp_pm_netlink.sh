#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args: --module
#
# The mptcp_pm generic netlink family through the unmodified `ip mptcp`
# (iproute2): endpoints and limits per network namespace, Linux's defaults,
# bounds and errors.
. "$(dirname "$0")/tap.sh"

ns=pm-a other=pm-b
ip netns add $ns && ip netns add $other
pm() { ip -n $ns mptcp "$@"; }
# refused MESSAGE-PART ARGS...: `ip mptcp ARGS` fails and says MESSAGE-PART.
refused() {
	local want=$1 out
	shift
	if out=$(pm "$@" 2>&1); then
		not_ok "ip mptcp $* is refused (it succeeded)"
	else
		case $out in
		*"$want"*) ok "ip mptcp $* is refused: $out" ;;
		*) not_ok "ip mptcp $*: expected '$want', got: $out" ;;
		esac
	fi
}

check "the family is registered" sh -c "ip mptcp limits show >/dev/null"
# The events group exists (tools that listen join it; no event is sent yet).
case $(genl ctrl get name mptcp_pm 2>&1) in
*"name: mptcp_pm_events"*) ok "the family has the mptcp_pm_events multicast group" ;;
*) not_ok "the family has no mptcp_pm_events multicast group" ;;
esac
timeout 3 ip -n $ns mptcp monitor >/dev/null 2>&1
expect_eq "ip mptcp monitor joins it and listens (until its timeout)" 124 $?
expect_eq "default limits" "add_addr_accepted 0 subflows 2 " "$(pm limits show)"
check "set limits" pm limits set subflow 4 add_addr_accepted 3
expect_eq "limits read back" "add_addr_accepted 3 subflows 4 " "$(pm limits show)"
refused "limit greater than maximum" limits set subflow 9
expect_eq "limits unchanged after a refusal" "add_addr_accepted 3 subflows 4 " "$(pm limits show)"
expect_eq "another namespace keeps the defaults" "add_addr_accepted 0 subflows 2 " \
	"$(ip -n $other mptcp limits show)"

expect_eq "no endpoint at first" "" "$(pm endpoint show)"
check "add a signal endpoint" pm endpoint add 10.0.1.1 dev lo signal
check "add a subflow backup endpoint with id 5" pm endpoint add 10.0.1.2 id 5 subflow backup
expect_eq "both listed (dump)" "10.0.1.1 id 1 signal dev lo 
10.0.1.2 id 5 subflow backup " "$(pm endpoint show)"
expect_eq "one by id" "10.0.1.2 id 5 subflow backup " "$(pm endpoint show id 5)"
refused "duplicate" endpoint add 10.0.1.3 id 5 subflow
refused "duplicate" endpoint add 10.0.1.1 subflow
refused "IPv6 endpoints are not supported" endpoint add 2001:db8::1 subflow
refused "not supported" endpoint add 10.0.1.4 port 4000 signal
check "change id 5 to fullmesh, no backup" pm endpoint change id 5 nobackup fullmesh
expect_eq "the change is seen" "10.0.1.2 id 5 subflow fullmesh " "$(pm endpoint show id 5)"
refused "invalid addr flags" endpoint change id 1 fullmesh
check "delete id 5" pm endpoint delete id 5
refused "address not found" endpoint delete id 5
refused "address not found" endpoint show id 5
expect_eq "the other namespace has none" "" "$(ip -n $other mptcp endpoint show)"
for i in $(seq 2 8); do pm endpoint add 10.0.2.$i subflow || break; done
expect_eq "8 endpoints at most" 8 "$(pm endpoint show | wc -l)"
refused "too many addresses" endpoint add 10.0.3.1 subflow
check "flush" pm endpoint flush
expect_eq "none after flush" "" "$(pm endpoint show)"
check "ids start again from 1" pm endpoint add 10.0.4.1 signal
expect_eq "first id after flush" "10.0.4.1 id 1 signal " "$(pm endpoint show)"
ip netns del $ns && ip netns del $other
tap_done

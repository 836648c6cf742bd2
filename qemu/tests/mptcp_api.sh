#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args: --module
#
# The socket API of IPPROTO_MPTCP: every case of sockapi.py behaves as TCP
# (return values and errno), with MPTCP established; and net.mptcp.enabled=0
# refuses new MPTCP sockets with ENOPROTOOPT, as Linux's own MPTCP does.
# The scheduler of a socket: net.mptcp.scheduler of its namespace when it is
# created, then our SOL_MPTCP option MPTCP_RS_SCHEDULER (a name, as
# TCP_CONGESTION takes one; ENOENT for an unknown one).
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/lib-mptcp.sh"

# sockapi.py prints TAP itself; fold its cases into ours.
while IFS= read -r line; do
	case $line in
	"ok "*) ok "${line#ok * - }" ;;
	"not ok "*) not_ok "${line#not ok * - }" ;;
	"#"*) echo "$line" ;;
	esac
done < <(timeout 600 python3 -S "$here/sockapi.py" --proto mptcp 2>&1)
expect_mib - MPCapableACKRX -ge 10

ip netns add api-off
ip netns exec api-off sysctl -q -w net.mptcp.enabled=0
err=$(ip netns exec api-off python3 -S -c '
import socket, errno
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
    print("created")
except OSError as e:
    print(errno.errorcode[e.errno])')
expect_eq "enabled=0: socket(IPPROTO_MPTCP) fails with ENOPROTOOPT" ENOPROTOOPT "$err"
err=$(ip netns exec api-off python3 -S -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0).close()
print("ok")')
expect_eq "enabled=0: TCP sockets are unaffected" ok "$err"
ip netns exec api-off sysctl -q -w net.mptcp.enabled=1
err=$(ip netns exec api-off python3 -S -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262).close()
print("ok")')
expect_eq "enabled=1 again: MPTCP sockets can be created" ok "$err"
ip netns exec api-off sysctl -q -w net.mptcp.scheduler=blest
r=$(ip netns exec api-off python3 -S -c '
import errno, socket
SOL_MPTCP, MPTCP_RS_SCHEDULER = 284, 0x7274
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
got = [s.getsockopt(SOL_MPTCP, MPTCP_RS_SCHEDULER, 32).decode()]
s.setsockopt(SOL_MPTCP, MPTCP_RS_SCHEDULER, b"roundrobin")
got.append(s.getsockopt(SOL_MPTCP, MPTCP_RS_SCHEDULER, 32).decode())
try:
    s.setsockopt(SOL_MPTCP, MPTCP_RS_SCHEDULER, b"cubic")
    got.append("accepted")
except OSError as e:
    got.append(errno.errorcode[e.errno])
got.append(s.getsockopt(SOL_MPTCP, MPTCP_RS_SCHEDULER, 32).decode())
print(" ".join(got))')
expect_eq "a socket starts with its namespace's scheduler (blest)" blest "$(cut -d" " -f1 <<<"$r")"
expect_eq "MPTCP_RS_SCHEDULER sets roundrobin" roundrobin "$(cut -d" " -f2 <<<"$r")"
expect_eq "an unknown scheduler is refused with ENOENT" ENOENT "$(cut -d" " -f3 <<<"$r")"
expect_eq "and the scheduler stays roundrobin" roundrobin "$(cut -d" " -f4 <<<"$r")"
ip netns del api-off
tap_done

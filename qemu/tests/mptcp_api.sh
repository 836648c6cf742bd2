#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args: --module
#
# The socket API of IPPROTO_MPTCP: every case of sockapi.py behaves as TCP
# (return values and errno), with MPTCP established; and net.mptcp.enabled=0
# refuses new MPTCP sockets with ENOPROTOOPT, as Linux's own MPTCP does.
# AF_INET6 sockets too, with IPv4-mapped addresses (subflows are IPv4).
# The scheduler of a socket: net.mptcp.scheduler of its namespace when it is
# created, then our SOL_MPTCP option MPTCP_RS_SCHEDULER (a name, as
# TCP_CONGESTION takes one; ENOENT for an unknown one).
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/lib-mptcp.sh"

# sockapi.py prints TAP itself; fold its cases into ours.
sockapi() { # PREFIX ARGS...
	local prefix=$1 line
	shift
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "$prefix${line#ok * - }" ;;
		"not ok "*) not_ok "$prefix${line#not ok * - }" ;;
		"#"*) echo "$line" ;;
		esac
	done < <(timeout 600 python3 -S "$here/sockapi.py" --proto mptcp "$@" 2>&1)
}
sockapi ""
expect_mib - MPCapableACKRX -ge 10

# IPv6 sockets, whose subflows are IPv4: every case again with IPv4-mapped
# addresses; then what Linux's selftests do (mptcp_connect listens on `::`
# whatever the client's family): an IPv4 MPTCP client reaches a listener
# bound to `::`, and the accepted socket names both ends in IPv6 form.
# Native IPv6 addresses are refused with EAFNOSUPPORT.
sockapi "inet6: " --family inet6 --addr ::ffff:127.0.0.1
before=$(mib - MPCapableACKRX)
r=$(timeout 120 python3 -S -c '
import errno, hashlib, os, socket, threading
MPTCP = 262
ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, MPTCP)
ls.bind(("::", 0))
ls.listen(1)
port = ls.getsockname()[1]
data = os.urandom(4 << 20)
def client():
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, MPTCP)
    c.connect(("127.0.0.1", port))
    c.sendall(data)
    c.close()
t = threading.Thread(target=client)
t.start()
a, peer = ls.accept()
got = bytearray()
while True:
    b = a.recv(1 << 16)
    if not b:
        break
    got += b
t.join()
def err(fn):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, MPTCP)
    try:
        fn(s)
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
print(ls.getsockname()[0], a.family == socket.AF_INET6, peer[0], a.getsockname()[0],
      hashlib.sha256(got).digest() == hashlib.sha256(data).digest(),
      err(lambda s: s.bind(("::1", 0))), err(lambda s: s.connect(("::1", port))))' 2>&1)
read -r lname fam6 pname aname intact bind6 conn6 <<<"$r"
expect_eq "inet6: a listener bound to :: names itself ::" "::" "$lname"
expect_eq "inet6: the accepted socket is AF_INET6" True "$fam6"
expect_eq "inet6: the IPv4 client's address comes IPv4-mapped" "::ffff:127.0.0.1" "$pname"
expect_eq "inet6: and the accepted socket's own" "::ffff:127.0.0.1" "$aname"
expect_eq "inet6: 4 MB from an IPv4 client arrive intact (SHA-256)" True "$intact"
expect_eq "inet6: bind to a native IPv6 address: EAFNOSUPPORT" EAFNOSUPPORT "$bind6"
expect_eq "inet6: connect to a native IPv6 address: EAFNOSUPPORT" EAFNOSUPPORT "$conn6"
after=$(mib - MPCapableACKRX)
expect_eq "inet6: that connection was MPTCP (MPCapableACKRX +1)" 1 "$((after - before))"

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

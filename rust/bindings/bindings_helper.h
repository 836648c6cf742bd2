/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel headers that mptcp_rs needs and the `kernel` crate does not
 * bind: bindgen turns this into bindings_generated.rs at build time, with
 * the kernel's own C flags (see Kbuild). Sorted alphabetically.
 */
#include <crypto/sha2.h>
#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/poll.h>
#include <linux/random.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <linux/sysctl.h>
#include <linux/tcp.h>
#include <linux/timer.h>
#include <linux/uio.h>
#include <net/genetlink.h>
#include <net/inet_common.h>
#include <net/inet_connection_sock.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/protocol.h>
#include <net/request_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "../helpers.h"

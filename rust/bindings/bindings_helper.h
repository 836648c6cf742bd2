/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel headers that mptcp_rs needs and the `kernel` crate does not
 * bind: bindgen turns this into bindings_generated.rs at build time, with
 * the kernel's own C flags (see Kbuild). Sorted alphabetically.
 */
#include <crypto/sha2.h>
#include <kunit/test.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/sysctl.h>
#include <linux/tcp.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "../helpers.h"

// SPDX-License-Identifier: GPL-2.0
/*
 * C wrappers for static inline functions and macros used from Rust. Nothing
 * here holds logic: each function is one call or one expression.
 */
#include <crypto/sha2.h>
#include <kunit/test-bug.h>
#include <linux/sysctl.h>
#include <net/netns/generic.h>

#include "helpers.h"

void *mptcp_rs_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

void *mptcp_rs_sysctl_zero(void)
{
	return SYSCTL_ZERO;
}

void *mptcp_rs_sysctl_one(void)
{
	return SYSCTL_ONE;
}

struct kunit *mptcp_rs_kunit_get_current_test(void)
{
	return kunit_get_current_test();
}

void mptcp_rs_sha256_init(struct sha256_state *state)
{
	sha256_init(state);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prototypes of rust/helpers.c: C wrappers for the static inline functions
 * and macros that the Rust side of mptcp_rs needs and bindgen cannot see.
 * Every wrapper is named mptcp_rs_<what it wraps>.
 */
#ifndef MPTCP_RS_HELPERS_H
#define MPTCP_RS_HELPERS_H

#include <linux/types.h>

struct kunit;
struct net;
struct sha256_state;

void *mptcp_rs_net_generic(const struct net *net, unsigned int id);
void *mptcp_rs_sysctl_zero(void);
void *mptcp_rs_sysctl_one(void);
struct kunit *mptcp_rs_kunit_get_current_test(void);
void mptcp_rs_sha256_init(struct sha256_state *state);

#endif

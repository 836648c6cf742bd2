// SPDX-License-Identifier: GPL-2.0

//! mptcp_rs: Multipath TCP (RFC 8684, version 1) for Linux 6.12, as an
//! out-of-tree module, after the design of the UCLouvain implementation.
//!
//! The crate is laid out as:
//! - `kernel_net` (rust/): safe abstractions over the kernel facilities the
//!   `kernel` crate lacks; the only place with `unsafe`;
//! - `mptcp_core` (net-mptcp/core/): the pure protocol core, also a host crate;
//! - the modules of this directory: the protocol machinery in the kernel;
//! - `kunit_tests` (kunit-tests/): the KUnit suites, when the kernel has KUnit.

#![deny(unsafe_code)]

use kernel::prelude::*;

#[allow(unsafe_code)]
#[path = "../rust/mod.rs"]
mod kernel_net;

// The core is a library: the module uses part of its API, the host tests
// all of it, and its items are `pub` for the host crate.
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/lib.rs"]
mod mptcp_core;

mod pernet;

#[cfg(CONFIG_KUNIT)]
#[path = "../kunit-tests/mod.rs"]
mod kunit_tests;

use kernel_net::pernet::PernetRegistration;
use pernet::MptcpNet;

module! {
    type: MptcpRs,
    name: "mptcp_rs",
    author: "mptcp-rs developers",
    description: "Multipath TCP (RFC 8684) in Rust",
    license: "GPL",
}

// `modinfo mptcp_rs` and /sys/module/mptcp_rs/version report this.
kernel_net::modinfo::module_version!(mptcp_core::VERSION);

struct MptcpRs {
    _pernet: PernetRegistration<MptcpNet>,
}

impl kernel::Module for MptcpRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let pernet = MptcpNet::register()?;
        pr_info!("mptcp_rs {} loaded (MPTCP v1, RFC 8684)\n", mptcp_core::VERSION);
        Ok(Self { _pernet: pernet })
    }
}

impl Drop for MptcpRs {
    fn drop(&mut self) {
        pr_info!("mptcp_rs {} unloaded\n", mptcp_core::VERSION);
    }
}

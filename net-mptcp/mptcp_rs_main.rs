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
// The pin-init macros expand one level per field: `Mpcb` has many.
#![recursion_limit = "256"]

use kernel::prelude::*;

// The abstraction layer offers more than the protocol uses at any time.
#[allow(unsafe_code, dead_code)]
#[path = "../rust/mod.rs"]
mod kernel_net;

// The core is a library: the module uses part of its API, the host tests
// all of it, and its items are `pub` for the host crate.
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/lib.rs"]
mod mptcp_core;

mod coupled;
mod keys;
mod mib;
mod mpcb;
mod options;
mod pernet;
mod platform;
mod pm_netlink;
mod protocol;
mod sndbuf;
mod subflow;

#[cfg(CONFIG_KUNIT)]
#[path = "../kunit-tests/mod.rs"]
mod kunit_tests;

use kernel_net::{
    genetlink::FamilyRegistration, pernet::PernetRegistration, proto::Registration, wq,
};
use pernet::MptcpNet;
use protocol::Mptcp;

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
    protocol: Option<Registration<Mptcp>>,
    /// `ip mptcp` (the namespaces' configuration it edits lives in `pernet`).
    pm_family: Option<FamilyRegistration<pm_netlink::PmFamily>>,
    pernet: Option<PernetRegistration<MptcpNet>>,
    /// `lia`, `olia` and `balia`.
    congestion: Option<coupled::Registrations>,
}

impl kernel::Module for MptcpRs {
    fn init(module: &'static ThisModule) -> Result<Self> {
        keys::init()?;
        wq::init()?;
        options::AF_OPS.init();
        let mut this = Self {
            protocol: None,
            pm_family: None,
            pernet: None,
            congestion: None,
        };
        this.pernet = Some(MptcpNet::register()?);
        this.pm_family = Some(pm_netlink::register(module)?);
        this.congestion = Some(coupled::register(module)?);
        this.protocol = Some(Mptcp::register(module)?);
        pr_info!(
            "mptcp_rs {} loaded (MPTCP v1, RFC 8684)\n",
            mptcp_core::VERSION
        );
        Ok(this)
    }
}

impl Drop for MptcpRs {
    fn drop(&mut self) {
        // Every connection holds a reference on the module, and every MPTCP
        // socket one through its protocol: none is left when this runs
        // (`rmmod` fails with EBUSY while one is). What remains is code of
        // ours that TCP may still run for sockets being destroyed (their
        // destructors, deferred to RCU) and our work items.
        self.protocol = None;
        self.congestion = None;
        self.pm_family = None;
        self.pernet = None;
        wq::drain();
        kernel_net::global::rcu_barrier();
        keys::exit();
        pr_info!("mptcp_rs {} unloaded\n", mptcp_core::VERSION);
    }
}

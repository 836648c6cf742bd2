// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state and the `net.mptcp` sysctls.
//!
//! Names and semantics follow Linux's own MPTCP, so that the tools and
//! habits of its users carry over: `net.mptcp.enabled` (0 or 1, default 1)
//! decides whether new MPTCP sockets can be created in the namespace.

use crate::kernel_net::{
    net::Net,
    netfilter::NetHooks,
    pernet::{Pernet, PernetData, PernetRegistration},
    procfs::NetProcFile,
    sysctl::SysctlTable,
};
use crate::mib::{MibFile, Mibs};
use crate::options::{MptcpHooks, NF_OPS};
use core::sync::atomic::{AtomicU8, Ordering};
use kernel::{c_str, prelude::*, str::CStr};

static MPTCP_PERNET: Pernet<MptcpNet> = Pernet::new();

/// The MPTCP state of one network namespace.
pub(crate) struct MptcpNet {
    // Dropped in this order: the hooks and the file that use the counters
    // go before them.
    /// Where MPTCP options are read (and written into SYN/ACKs).
    _hooks: NetHooks<MptcpHooks>,
    /// /proc/net/mptcp_rs.
    _mib_file: NetProcFile,
    /// `net.mptcp.enabled`.
    enabled: AtomicU8,
    /// What MPTCP did and saw here.
    pub(crate) mib: Mibs,
}

impl MptcpNet {
    /// Creates the state in every namespace, now and as they come.
    pub(crate) fn register() -> Result<PernetRegistration<Self>> {
        MPTCP_PERNET.register()
    }

    /// The state of `net`, while the module is registered.
    #[cfg_attr(not(CONFIG_KUNIT), allow(dead_code))]
    pub(crate) fn get(net: &Net) -> Option<&MptcpNet> {
        MPTCP_PERNET.get(net)
    }

    /// Whether new MPTCP sockets may be created (`net.mptcp.enabled`).
    #[cfg_attr(not(CONFIG_KUNIT), allow(dead_code))]
    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed) != 0
    }
}

impl PernetData for MptcpNet {
    const SYSCTL_PATH: &'static CStr = c_str!("net/mptcp");

    fn pernet() -> &'static Pernet<Self> {
        &MPTCP_PERNET
    }

    fn new(net: &Net) -> Result<Self> {
        Ok(Self {
            _hooks: NF_OPS.register(net)?,
            _mib_file: NetProcFile::create::<MibFile>(net, c_str!("mptcp_rs"))?,
            enabled: AtomicU8::new(1),
            mib: Mibs::new(),
        })
    }

    fn sysctls<'a>(&'a self, table: &mut SysctlTable<'a>) -> Result {
        table.add_u8(c_str!("enabled"), &self.enabled, &0, &1)
    }
}

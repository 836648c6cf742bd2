// SPDX-License-Identifier: GPL-2.0

//! Counters of what MPTCP did and saw, per network namespace, shown in
//! /proc/net/mptcp_rs in the format of /proc/net/netstat, so that
//!     PROC_NET_NETSTAT=/proc/net/mptcp_rs nstat -az
//! reads them as it reads Linux's own MPTcpExt counters. Names follow
//! Linux's where the event is the same.

use crate::kernel_net::{
    net::Net,
    procfs::{ProcShow, SeqFile},
};
use crate::pernet::MptcpNet;
use core::{
    fmt::{self, Write},
    sync::atomic::{AtomicU64, Ordering},
};

macro_rules! mibs {
    ($($name:ident: $doc:literal,)*) => {
        /// An event counted.
        #[derive(Clone, Copy)]
        #[allow(clippy::upper_case_acronyms)]
        pub(crate) enum Mib {
            $(#[doc = $doc] $name,)*
        }

        const NAMES: &[&str] = &[$(stringify!($name),)*];
    };
}

mibs! {
    MPCapableSYNTX: "A SYN with MP_CAPABLE was sent.",
    MPCapableSYNRX: "A SYN with MP_CAPABLE arrived at a listener.",
    MPCapableSYNACKTX: "A SYN/ACK with MP_CAPABLE was sent.",
    MPCapableSYNACKRX: "A SYN/ACK with MP_CAPABLE arrived.",
    MPCapableACKRX: "The ACK (or first data) completing MP_CAPABLE arrived.",
    MPCapableFallbackACK: "A listener's child fell back: its handshake ended without MP_CAPABLE.",
    MPCapableFallbackSYNACK: "A client fell back: the SYN/ACK had no MP_CAPABLE.",
    MPFallbackNoDSS: "A client fell back: data or an ACK of data without DSS came before the peer had our keys.",
    DataFinTx: "A DATA_FIN was sent.",
    DataFinRx: "The peer's DATA_FIN was delivered.",
    DSSNotMatching: "A mapping conflicted with an earlier one.",
    DSSNoMapping: "Data came without a mapping after MPTCP was established.",
    SubflowReset: "A subflow was reset for a protocol error.",
    OptionMalformed: "A malformed MPTCP option was ignored.",
}

const COUNT: usize = NAMES.len();

/// The counters of a namespace.
pub(crate) struct Mibs([AtomicU64; COUNT]);

impl Mibs {
    pub(crate) fn new() -> Self {
        Self([const { AtomicU64::new(0) }; COUNT])
    }

    pub(crate) fn inc(&self, mib: Mib) {
        self.0[mib as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add(&self, mib: Mib, n: u64) {
        self.0[mib as usize].fetch_add(n, Ordering::Relaxed);
    }
}

/// Counts `mib` in the namespace `net`.
pub(crate) fn inc(net: &Net, mib: Mib) {
    if let Some(n) = MptcpNet::get(net) {
        n.mib.inc(mib);
    }
}

/// Adds `n` to `mib` in the namespace `net`.
pub(crate) fn add(net: &Net, mib: Mib, n: u64) {
    if let Some(m) = MptcpNet::get(net) {
        m.mib.add(mib, n);
    }
}

/// /proc/net/mptcp_rs.
pub(crate) struct MibFile;

impl ProcShow for MibFile {
    fn show(net: &Net, out: &mut SeqFile) -> fmt::Result {
        let Some(n) = MptcpNet::get(net) else {
            return Ok(());
        };
        out.write_str("MPTcpExt:")?;
        for name in NAMES {
            write!(out, " {name}")?;
        }
        out.write_str("\nMPTcpExt:")?;
        for v in n.mib.0.iter() {
            write!(out, " {}", v.load(Ordering::Relaxed))?;
        }
        out.write_str("\n")
    }
}

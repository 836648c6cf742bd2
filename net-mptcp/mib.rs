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
use crate::mptcp_core::conn::Counter;
use crate::pernet::MptcpNet;
use core::{
    fmt::{self, Write},
    sync::atomic::{AtomicU64, Ordering},
};

macro_rules! mibs {
    ($($name:ident: $doc:literal,)*) => {
        /// An event counted by the kernel side (the connection core counts
        /// the protocol's own events: [`Counter`]).
        #[derive(Clone, Copy)]
        #[allow(clippy::upper_case_acronyms)]
        pub(crate) enum Mib {
            $(#[doc = $doc] $name,)*
        }

        const NAMES: &[&str] = &[$(stringify!($name),)*];
    };
}

mibs! {
    MPCapableSYNRX: "A SYN with a valid MP_CAPABLE arrived at a listener.",
    MPCapableSYNACKTX: "A SYN/ACK with MP_CAPABLE was sent.",
    MPCapableACKRX: "The ACK (or first data) completing MP_CAPABLE arrived.",
    MPCapableFallbackACK: "A listener's child fell back: its handshake ended without a valid MP_CAPABLE.",
    OptionMalformed: "A malformed MPTCP option was ignored.",
    RcvPruned: "Out-of-order data was dropped to make room for data in order.",
    RcvRetry: "Received data waited on its subflow for memory.",
    RcvAfterClose: "New data came after the application closed its socket: the connection was reset.",
    MPJoinNoTokenFound: "A SYN with MP_JOIN named no connection of ours: it was refused with a RST.",
    MPJoinSynTxConnectErr: "An additional subflow's connect failed at once (no route, no port): no SYN went; the path manager tries again later.",
    MPJoinSynTxCreatSkErr: "No socket could be created for an additional subflow: no SYN went; the path manager tries again later.",
    MPJoinSynTxBindErr: "An additional subflow's socket could not be bound to its local address: no SYN went; the path manager tries again later.",
    MPRstTx: "A RST with MP_TCPRST was sent (a join refused by a listener).",
    RmSubflow: "A subflow was closed because the endpoint of its local address was deleted.",
}

/// The kernel side's counters, then the core's.
const COUNT: usize = NAMES.len() + Counter::ALL.len();

/// The counters of a namespace.
pub(crate) struct Mibs([AtomicU64; COUNT]);

impl Mibs {
    pub(crate) fn new() -> Self {
        Self([const { AtomicU64::new(0) }; COUNT])
    }

    fn add(&self, index: usize, n: u64) {
        self.0[index].fetch_add(n, Ordering::Relaxed);
    }
}

/// Counts `mib` in the namespace `net`.
pub(crate) fn inc(net: &Net, mib: Mib) {
    if let Some(n) = MptcpNet::get(net) {
        n.mib.add(mib as usize, 1);
    }
}

/// Adds `n` to `mib` in the namespace `net`.
pub(crate) fn add(net: &Net, mib: Mib, n: u64) {
    if let Some(m) = MptcpNet::get(net) {
        m.mib.add(mib as usize, n);
    }
}

/// Adds `n` to the core's `counter` in the namespace `net`.
pub(crate) fn add_core(net: &Net, counter: Counter, n: u32) {
    if let Some(m) = MptcpNet::get(net) {
        m.mib.add(NAMES.len() + counter as usize, u64::from(n));
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
        for name in NAMES
            .iter()
            .copied()
            .chain(Counter::ALL.iter().map(|c| c.name()))
        {
            write!(out, " {name}")?;
        }
        out.write_str("\nMPTcpExt:")?;
        for v in n.mib.0.iter() {
            write!(out, " {}", v.load(Ordering::Relaxed))?;
        }
        // Gauges, module-wide (not counters of this namespace).
        writeln!(
            out,
            "\nMPTcpRsLive: Connections ConnectionsOver\nMPTcpRsLive: {} {}",
            crate::mpcb::LIVE.load(Ordering::Relaxed),
            crate::mpcb::LIVE_OVER.load(Ordering::Relaxed)
        )
    }
}

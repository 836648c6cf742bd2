// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state and the `net.mptcp` sysctls.
//!
//! Names and semantics follow Linux's own MPTCP, so that the tools and
//! habits of its users carry over: `net.mptcp.enabled` (0 or 1, default 1)
//! decides whether new MPTCP sockets can be created in the namespace;
//! `net.mptcp.scheduler` (default "default") names the packet scheduler of
//! new connections, one of `net.mptcp.available_schedulers`.
//! `net.mptcp.congestion_control` (ours; default "default") names the
//! congestion control of new connections' subflows: "default" leaves them
//! the namespace's TCP default (`net.ipv4.tcp_congestion_control`,
//! uncoupled, as Linux's MPTCP has it), the others are coupled (`lia`,
//! `olia`, `balia`, see `coupled.rs`) or TCP's own, uncoupled.

use crate::kernel_net::{
    cong::CaName,
    net::Net,
    netfilter::NetHooks,
    pernet::{Pernet, PernetData, PernetRegistration},
    procfs::NetProcFile,
    sysctl::{Choices, SysctlTable},
};
use crate::mib::{MibFile, Mibs};
use crate::mptcp_core::conn::Opportunism;
use crate::mptcp_core::sched::AnyScheduler;
use crate::options::{MptcpHooks, NF_OPS};
use crate::pm_netlink::PmConfig;
use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use kernel::{c_str, new_mutex, prelude::*, str::CStr, sync::Mutex};

static MPTCP_PERNET: Pernet<MptcpNet> = Pernet::new();

/// What `net.mptcp.scheduler` accepts ("default" first: the default): the
/// core's schedulers but "redundant", whose selection of several subflows
/// the data path does not yet turn into copies of the same data.
static SCHEDULERS: Choices = Choices(&["default", "roundrobin", "blest"]);

/// What `net.mptcp.congestion_control` accepts ("default" first: TCP's
/// default algorithm, whichever it is).
static CONGESTION: Choices = Choices(&["default", "lia", "olia", "balia", "cubic", "reno"]);

/// `net.mptcp.add_addr_timeout` (seconds): Linux's default, and a day at
/// most.
const ADD_ADDR_TIMEOUT_DEFAULT: u32 = 120;
static ADD_ADDR_TIMEOUT_MAX: u32 = 86_400;

/// The scheduler called `name`, if the module offers it (a socket option).
pub(crate) fn scheduler_by_name(name: &[u8]) -> Option<AnyScheduler> {
    SCHEDULERS
        .0
        .iter()
        .find(|s| s.as_bytes() == name)
        .and_then(|s| AnyScheduler::from_name(s.as_bytes()))
}

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
    /// `net.mptcp.scheduler`: the index in [`SCHEDULERS`] of new
    /// connections' scheduler.
    scheduler: AtomicU8,
    /// `net.mptcp.congestion_control`: the index in [`CONGESTION`] of new
    /// subflows' algorithm.
    congestion: AtomicU8,
    /// `net.mptcp.debug_idsn_near_wrap`: new connections move their IDSNs to
    /// within 1 MiB of 2^64 (to test the wrap of the data sequence space;
    /// both ends must run mptcp_rs with it set: their IDSNs are no longer
    /// the ones RFC 8684 derives from the keys).
    idsn_near_wrap: AtomicU8,
    /// `net.mptcp.debug_fail_alloc`: 0, or N to make one in N of the data
    /// path's allocations of new connections fail (fault injection: the
    /// send buffer's, and the handing of received data to the connection).
    fail_alloc: AtomicU8,
    /// `net.mptcp.ndiffports`: 0 (or 1), the path manager follows the
    /// endpoints of `ip mptcp`; N >= 2, the client of a new connection
    /// opens N subflows in all between the initial pair of addresses, each
    /// from its own port (the seeds' "ndiffports" path manager, for
    /// datacenters with ECMP), within the `subflows` limit.
    ndiffports: AtomicU8,
    /// `net.mptcp.opportunistic_retransmit` and `net.mptcp.penalize` (1 by
    /// default, each): when the peer's window is full and a slower subflow
    /// holds its head, a faster subflow sends the head again, and the slow
    /// one's congestion window is halved, at most once per its RTT (seed
    /// 004's remedies for paths of unlike delays).
    opportunistic_retransmit: AtomicU8,
    penalize: AtomicU8,
    /// Seconds an ADD_ADDR of ours waits for its echo before it goes again
    /// (`net.mptcp.add_addr_timeout`, Linux's name and default).
    add_addr_timeout: AtomicU32,
    /// 0: our SYN/ACKs say (MP_CAPABLE "C") that no additional subflow may
    /// come to the address and port of the initial one
    /// (`net.mptcp.allow_join_initial_addr_port`, Linux's name, default 1).
    allow_join_initial_addr_port: AtomicU8,
    /// What MPTCP did and saw here.
    pub(crate) mib: Mibs,
    /// The in-kernel path manager's endpoints and limits (`ip mptcp`).
    pm: Pin<KBox<Mutex<PmConfig>>>,
    /// Its `subflows` limit, readable in softirq (a listener answering a
    /// join for a connection whose path manager has not started yet).
    subflows_limit: AtomicU8,
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

    /// One in how many data-path allocations of a new connection fail (0:
    /// none), `net.mptcp.debug_fail_alloc`.
    pub(crate) fn fail_alloc(&self) -> u8 {
        self.fail_alloc.load(Ordering::Relaxed)
    }

    /// A scheduler of the kind `net.mptcp.scheduler` names, for a new
    /// connection.
    pub(crate) fn scheduler(&self) -> AnyScheduler {
        let chosen = usize::from(self.scheduler.load(Ordering::Relaxed));
        SCHEDULERS
            .0
            .get(chosen)
            .and_then(|name| AnyScheduler::from_name(name.as_bytes()))
            .unwrap_or_default()
    }

    /// The congestion control of new connections' subflows, if not TCP's
    /// default (`net.mptcp.congestion_control`).
    pub(crate) fn congestion(&self) -> Option<CaName> {
        let chosen = usize::from(self.congestion.load(Ordering::Relaxed));
        match CONGESTION.0.get(chosen) {
            Some(name) if chosen != 0 => CaName::new(name.as_bytes()).ok(),
            _ => None,
        }
    }

    /// The in-kernel path manager's configuration.
    pub(crate) fn pm(&self) -> &Mutex<PmConfig> {
        &self.pm
    }

    /// How long (µs) an ADD_ADDR of a new connection waits for its echo
    /// before it goes again (`net.mptcp.add_addr_timeout`).
    pub(crate) fn add_addr_timeout_us(&self) -> u64 {
        u64::from(self.add_addr_timeout.load(Ordering::Relaxed)) * 1_000_000
    }

    /// Whether peers may open subflows to the address and port of a
    /// connection's initial subflow (`net.mptcp.allow_join_initial_addr_port`).
    pub(crate) fn allow_join_initial(&self) -> bool {
        self.allow_join_initial_addr_port.load(Ordering::Relaxed) != 0
    }

    /// The `subflows` limit of `ip mptcp limits` (any context).
    pub(crate) fn subflows_limit(&self) -> u8 {
        self.subflows_limit.load(Ordering::Relaxed)
    }

    /// Records a new `subflows` limit (with the configuration's lock).
    pub(crate) fn set_subflows_limit(&self, limit: u8) {
        self.subflows_limit.store(limit, Ordering::Relaxed);
    }

    /// How many subflows the client of a new connection opens between the
    /// initial pair of addresses (`net.mptcp.ndiffports`), if that mode is
    /// on.
    pub(crate) fn ndiffports(&self) -> Option<u8> {
        let n = self.ndiffports.load(Ordering::Relaxed);
        (n >= 2).then_some(n)
    }

    /// Opportunistic retransmission and penalisation for a new connection.
    pub(crate) fn opportunism(&self) -> Opportunism {
        Opportunism {
            retransmit: self.opportunistic_retransmit.load(Ordering::Relaxed) != 0,
            penalize: self.penalize.load(Ordering::Relaxed) != 0,
        }
    }

    /// Whether new connections move their IDSNs near 2^64
    /// (`net.mptcp.debug_idsn_near_wrap`).
    pub(crate) fn idsn_near_wrap(&self) -> bool {
        self.idsn_near_wrap.load(Ordering::Relaxed) != 0
    }
}

/// The most subflows `net.mptcp.ndiffports` asks for: one connection's.
const MAX_NDIFFPORTS: u32 = crate::mptcp_core::conn::MAX_SUBFLOWS as u32;

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
            scheduler: AtomicU8::new(0),
            congestion: AtomicU8::new(0),
            idsn_near_wrap: AtomicU8::new(0),
            fail_alloc: AtomicU8::new(0),
            ndiffports: AtomicU8::new(0),
            opportunistic_retransmit: AtomicU8::new(1),
            penalize: AtomicU8::new(1),
            add_addr_timeout: AtomicU32::new(ADD_ADDR_TIMEOUT_DEFAULT),
            allow_join_initial_addr_port: AtomicU8::new(1),
            mib: Mibs::new(),
            pm: KBox::pin_init(new_mutex!(PmConfig::new(), "MptcpNet::pm"), GFP_KERNEL)?,
            subflows_limit: AtomicU8::new(PmConfig::new().limits().subflows),
        })
    }

    fn sysctls<'a>(&'a self, table: &mut SysctlTable<'a>) -> Result {
        table.add_u8(c_str!("enabled"), &self.enabled, &0, &1)?;
        table.add_choice(c_str!("scheduler"), &self.scheduler, &SCHEDULERS)?;
        table.add_choice_list(c_str!("available_schedulers"), &SCHEDULERS)?;
        table.add_choice(c_str!("congestion_control"), &self.congestion, &CONGESTION)?;
        table.add_u8(c_str!("ndiffports"), &self.ndiffports, &0, &MAX_NDIFFPORTS)?;
        table.add_u8(
            c_str!("opportunistic_retransmit"),
            &self.opportunistic_retransmit,
            &0,
            &1,
        )?;
        table.add_u8(c_str!("penalize"), &self.penalize, &0, &1)?;
        table.add_u8(
            c_str!("allow_join_initial_addr_port"),
            &self.allow_join_initial_addr_port,
            &0,
            &1,
        )?;
        table.add_u32(
            c_str!("add_addr_timeout"),
            &self.add_addr_timeout,
            &1,
            &ADD_ADDR_TIMEOUT_MAX,
        )?;
        table.add_u8(c_str!("debug_idsn_near_wrap"), &self.idsn_near_wrap, &0, &1)?;
        table.add_u8(c_str!("debug_fail_alloc"), &self.fail_alloc, &0, &255)
    }
}

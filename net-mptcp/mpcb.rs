// SPDX-License-Identifier: GPL-2.0

//! The multipath control block (mpcb) of one MPTCP connection: the
//! connection core (`mptcp_core::conn`, sans I/O), the connection-level
//! send buffer, the table of subflow sockets, and what carries out the
//! core's decisions on them.
//!
//! Data flows one way each direction, driven by packets (the UCLouvain
//! design):
//! - send: `sendmsg` copies the application's bytes once, into page
//!   fragments of the send buffer; a subflow pulls from it
//!   ([`Mpcb::push`]) when the application writes and whenever an ACK opens
//!   room on it (its `write_space` callback, in softirq), as the core maps
//!   the next bytes onto it; DATA_ACKs, read off incoming segments, free the
//!   buffer and wake writers.
//! - receive: a subflow's in-order skbs move to the connection in its
//!   `data_ready` callback ([`Mpcb::receive`], in softirq), charged to the
//!   master socket, into the core's reassembly queue, where the DATA_ACK
//!   advances; the reader copies from there. When the master's receive
//!   buffer is full, skbs stay on their subflow and its window closes.
//! - The work item only does what needs process context and is rare: the
//!   data-level retransmission timer, subflow resets, retrying after an
//!   allocation failure, finishing a closed connection.
//!
//! # Lock order
//!
//! Outermost first:
//! 1. the master socket's lock (`lock_sock`): system calls on the MPTCP
//!    socket;
//! 2. a subflow's socket lock: `lock_sock` in process context, or TCP's own
//!    `bh_lock_sock` around our callbacks and hooks in softirq; never two
//!    subflows' at once;
//! 3. [`Mpcb::inner`] (`spin_lock_bh`): the core, the send buffer and the
//!    subflow table. Never held while calling into TCP (TCP's transmit path
//!    calls our hook, which takes it), waking a socket or freeing one;
//! 4. the timer's own lock; the key tables' locks.

use crate::coupled::Coupling;
use crate::kernel_net::{
    callbacks::Callbacks,
    cong::CaName,
    errno,
    global::random_u64,
    global::{jiffies, jiffies_to_us, ktime_us, us_to_jiffies, ModuleRef},
    kernel_socket::{take_children, KernelSocket, O_NONBLOCK},
    net::Net,
    page::{FragList, PageFrag},
    skb::SkbSpan,
    sock::{state, Sock},
    sync::{new_spinlock_bh, SpinLockBh, SpinLockBhBackend},
    tcp::{TcpLocked, TcpSock},
    timer::{Timer, TimerCallback},
    user::SockAddrIn,
};
use crate::mib::{self, Mib};
use crate::mptcp_core::{
    conn::join::{JoinRequest, JoinSyn},
    conn::{
        DataOutcome, Event, Mode, PathSample, Role, SegmentIn, SegmentOut, SubflowId, TcpWindow,
        TxRoom, MAX_SUBFLOWS,
    },
    option::{MptcpOption, Received},
    pm::{Addr, Endpoint, PathManager, PmAction, PmMode, BACKUP},
    rcvbuf::RcvBufTuner,
    sched,
    subflow::Stage,
};
use crate::options::AF_OPS;
use crate::pernet::MptcpNet;
use crate::platform::Conn;
use crate::pm_netlink::MAX_ENDPOINTS;
use crate::sndbuf::{FragSlot, SendBuf};
use crate::subflow::{SubflowCtx, REFUSED};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::{
    alloc::Flags,
    prelude::*,
    sync::{lock::Guard, Arc},
    types::ARef,
    workqueue::{new_work, Work, WorkItem},
};

/// What the work item has to do (bits of [`Mpcb::pending`]).
mod todo {
    /// The timer fired: the data-level retransmission timeout, or the end
    /// of a closed connection's linger time.
    pub(super) const TIMEOUT: u32 = 1 << 0;
    /// A subflow must be reset (its slot says so).
    pub(super) const RESET: u32 = 1 << 1;
    /// Received data waits for memory on a subflow.
    pub(super) const RETRY: u32 = 1 << 2;
    /// A closed connection may be finished.
    pub(super) const FINISH: u32 = 1 << 3;
    /// The path manager has work: start it, or carry out its actions.
    pub(super) const PM: u32 = 1 << 4;
    /// The scheduler picked subflows that did not ask
    /// ([`super::Mpcb::push_wanted`]): push on them.
    pub(super) const PUSH: u32 = 1 << 5;
    /// Joined children wait on a listener's accept queue: take them.
    pub(super) const ADOPT: u32 = 1 << 6;
    /// A slow subflow is penalised: its congestion window is halved
    /// (under its own lock).
    pub(super) const PENALIZE: u32 = 1 << 7;
}

/// How many times (a jiffy apart) the connection looks for a joined child
/// on the listener's accept queue before it gives it up.
const ADOPT_TRIES: u32 = 200;

/// How long a connection whose application closed its socket waits for the
/// peer to finish (its DATA_FIN, the DATA_ACK of ours) before its subflows
/// are closed anyway, as TCP's own FIN_WAIT2 timeout does.
const LINGER_US: u64 = 60_000_000;

/// Subflow `id`'s bit in [`Mpcb::pushing`] and [`Mpcb::rx_waiting`].
const fn subflow_bit(id: SubflowId) -> u32 {
    1u32 << (id % 32)
}

/// A subflow of the connection.
struct Slot {
    sk: ARef<TcpSock>,
    /// Data taken off the subflow that the core could not queue for lack of
    /// memory, with its subflow sequence number: handed again before
    /// anything else, so nothing is lost.
    stash: Option<(u32, SkbSpan)>,
    /// The core asked for the subflow to be reset, with this MP_TCPRST
    /// reason (done by the work item: resetting takes the socket's lock).
    reset: Option<u8>,
    /// Memory added to the subflow's receive charge for the bytes that
    /// left it for the connection and that the application has not read
    /// yet ([`Mpcb::sync_shadow`]). TCP then offers the window it would if
    /// those bytes still sat in its queue: it shrinks while the reader
    /// lags, so TCP delays its ACKs as for a plain socket, instead of
    /// acknowledging every skb at once because its queue is always empty.
    shadow: u32,
    /// An additional subflow the connection opened itself (MP_JOIN): its
    /// socket and our callbacks on it, owned by the connection.
    owned: Option<Owned>,
    /// The path manager's addresses of the subflow (our id, the peer's), if
    /// it opened it.
    planned: Option<(u8, u8)>,
    /// The subflow's send buffer (`sk_sndbuf`) when it last sent: TCP sizes
    /// it to the subflow's window ([`Mpcb::sndbuf_tuned`]).
    sndbuf: u32,
}

/// Why [`Mpcb::open_subflow`] opened nothing.
#[derive(Debug)]
enum OpenFailure {
    /// Its connect failed before a SYN went (no route, an address TCP
    /// cannot reach).
    Unreachable(#[allow(dead_code)] Error),
    /// Anything else (no memory, no socket, the table full).
    Other(#[allow(dead_code)] Error),
}

impl From<Error> for OpenFailure {
    fn from(e: Error) -> Self {
        Self::Other(e)
    }
}

/// The socket of a subflow the connection opened, and our callbacks on it.
/// Dropped in process context, never under [`Mpcb::inner`] (releasing a
/// socket sleeps).
struct Owned {
    callbacks: Option<Callbacks<SubflowCtx>>,
    sock: KernelSocket,
}

impl Owned {
    /// The connection is done with a live subflow: TCP closes it (FIN,
    /// retransmissions, TIME_WAIT) with our hooks still on, so that its last
    /// segments carry the DATA_ACK.
    fn finish(mut self) {
        if let Some(callbacks) = self.callbacks.take() {
            callbacks.into_detached();
        }
    }

    /// A subflow that died (reset, failed): TCP alone is left with what
    /// remains of it.
    fn discard(mut self) {
        drop(self.callbacks.take());
        AF_OPS.uninstall(self.sock.sk());
    }
}

impl Slot {
    /// Makes the subflow's shadow charge `bytes`.
    fn set_shadow(&mut self, bytes: u32) {
        if bytes != self.shadow {
            self.sk.shadow_rmem(bytes.wrapping_sub(self.shadow) as i32);
            self.shadow = bytes;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        // Before our reference goes: a socket is destroyed with no charge.
        self.set_shadow(0);
    }
}

/// The initial subflow's `struct socket` and our callbacks on it, kept by
/// the connection once the application closed its socket.
pub(crate) struct Orphaned {
    pub(crate) sock: Arc<KernelSocket>,
    pub(crate) callbacks: Option<Callbacks<SubflowCtx>>,
}

/// What a writer may do, from [`Mpcb::write_room`].
pub(crate) enum WriteRoom {
    /// Fallen back, and all written before went to TCP: the rest goes
    /// straight to it.
    Passthrough,
    /// The write side is shut (our DATA_FIN is queued).
    Shut,
    /// `room` bytes may be queued; if there is room, `spare` is a tree node
    /// kept for reuse (see [`Mpcb::frag_slot`]).
    Open { room: u64, spare: Option<FragSlot> },
}

/// What packet processing and system calls share: under [`Mpcb::inner`].
pub(crate) struct Inner {
    /// The connection core.
    pub(crate) conn: Conn,
    /// The connection-level send buffer.
    sndbuf: SendBuf,
    /// The subflows, by the core's subflow id.
    subflows: [Option<Slot>; MAX_SUBFLOWS],
    /// The application's socket while it is there: received data is charged
    /// to it, and it is woken.
    master: Option<ARef<Sock>>,
    /// The application closed its socket: what arrives is dropped, and the
    /// connection ends once the peer is done, or at this deadline (µs).
    linger_until: Option<u64>,
    /// The initial subflow's socket, after the application closed its own.
    orphaned: Option<Orphaned>,
    /// The path manager and what it waits for.
    pm: PmState,
    /// The listener whose accept queue holds children that joined this
    /// connection (MP_JOIN), how many, and how many looks are left.
    join_listener: Option<ARef<Sock>>,
    joins_queued: u32,
    adopt_tries: u32,
    /// The congestion control the connection's subflows use, if it chose
    /// one (`net.mptcp.congestion_control`, `TCP_CONGESTION`); otherwise
    /// each has TCP's default (or its listener's).
    congestion: Option<CaName>,
    /// The connection's receive buffer as the subflows' deliveries call
    /// for it (seed 004: 2 x sum of their rates x the largest RTT).
    rcvtuner: RcvBufTuner,
}

impl Inner {
    /// The address id and backup flag of our address `ip`, as a SYN or
    /// SYN/ACK of MP_JOIN says them: 0 for the initial subflow's address
    /// `initial` (a backup if that subflow is), else its endpoint's; an
    /// address without an endpoint is 0, not a backup.
    fn local_addr(&mut self, ip: [u8; 4], initial: Option<[u8; 4]>) -> (u8, bool) {
        if initial == Some(ip) {
            return (0, self.conn.subflow(0).is_some_and(|sf| sf.local_backup()));
        }
        self.pm
            .endpoints()
            .iter()
            .find(|e| e.addr.ip == ip)
            .map_or((0, false), |e| (e.id, e.flags & BACKUP != 0))
    }
}

/// The in-kernel path manager of the connection (`mptcp_core::pm`), with
/// the endpoints and limits of its namespace as they were when MPTCP was
/// established (`ip mptcp endpoint|limits`).
struct PmState {
    pm: Option<PathManager>,
    /// The first [`PmState::n_endpoints`] are the endpoints.
    endpoints: [Endpoint; MAX_ENDPOINTS],
    n_endpoints: usize,
    /// Additional subflows allowed (the `subflows` limit).
    subflows: u8,
    /// MPTCP is established: the work item starts the path manager.
    start: bool,
    /// What the peer announced or removed before the path manager started:
    /// `(id, Some(addr))` for ADD_ADDR, `(id, None)` for REMOVE_ADDR.
    early: [Option<(u8, Option<Addr>)>; 4],
    /// Actions for the work item (opening and closing subflows needs
    /// process context).
    actions: [Option<PmAction>; 8],
}

impl PmState {
    const fn new() -> Self {
        const NONE: Endpoint = Endpoint {
            id: 0,
            addr: Addr {
                ip: [0; 4],
                port: 0,
            },
            flags: 0,
        };
        Self {
            pm: None,
            endpoints: [NONE; MAX_ENDPOINTS],
            n_endpoints: 0,
            subflows: 0,
            start: false,
            early: [None; 4],
            actions: [None; 8],
        }
    }

    fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints[..self.n_endpoints]
    }

    /// Additional subflows a join may make: the `subflows` limit, or the
    /// namespace's before the path manager started (a listener's child not
    /// accepted yet).
    fn join_limit(&self, net: &Net) -> u8 {
        match self.pm {
            Some(_) => self.subflows,
            None => MptcpNet::get(net).map_or(0, MptcpNet::subflows_limit),
        }
    }

    /// The peer announced `addr` as `id` (`Some`), or removed `id` (`None`).
    fn peer_addr(&mut self, id: u8, addr: Option<Addr>) {
        let endpoints = &self.endpoints[..self.n_endpoints];
        match (self.pm.as_mut(), addr) {
            (Some(pm), Some(addr)) => {
                pm.add_addr_received(id, addr, endpoints);
            }
            (Some(pm), None) => pm.rm_addr_received(id),
            (None, _) => {
                if let Some(slot) = self.early.iter_mut().find(|e| e.is_none()) {
                    *slot = Some((id, addr));
                }
            }
        }
    }

    /// Moves the path manager's actions to [`PmState::actions`]; whether
    /// there are any.
    fn collect(&mut self) -> bool {
        let Some(pm) = self.pm.as_mut() else {
            return false;
        };
        for slot in self.actions.iter_mut().filter(|a| a.is_none()) {
            match pm.poll_action() {
                Some(a) => *slot = Some(a),
                None => break,
            }
        }
        self.actions.iter().any(Option::is_some)
    }
}

/// Connections alive, module-wide, and how many of those are over (see
/// [`Mpcb::over`]): /proc/net/mptcp_rs shows both, so that a connection
/// outliving its end (it holds the module) is seen, and tests can wait for
/// none to be left.
pub(crate) static LIVE: AtomicU32 = AtomicU32::new(0);
/// See [`LIVE`].
pub(crate) static LIVE_OVER: AtomicU32 = AtomicU32::new(0);

/// The multipath control block.
#[pin_data(PinnedDrop)]
pub(crate) struct Mpcb {
    /// See the lock order above.
    #[pin]
    pub(crate) inner: SpinLockBh<Inner>,
    /// [`todo`] bits for the work item.
    pending: AtomicU32,
    /// A bit per subflow that [`Mpcb::push`] is pushing on.
    pushing: AtomicU32,
    /// A bit per subflow whose received data [`Mpcb::receive`] left on it
    /// (the master's buffer was full, no master yet, no memory): only those
    /// are locked again by [`Mpcb::receive_all`] when the reader makes room
    /// (a `lock_sock` per subflow per `recvmsg` otherwise).
    rx_waiting: AtomicU32,
    /// A bit per subflow the scheduler picked for data while another one
    /// asked: the work item pushes on them (a subflow's lock cannot be
    /// taken under another's).
    push_wanted: AtomicU32,
    /// Writers inside `sendmsg`, between copies: while there is one, a
    /// mapping that would be shorter than an skb for lack of data waits for
    /// the rest of the write (`TxRoom::more`); the writer pushes it when it
    /// leaves ([`Mpcb::writer_leave`]).
    writers: AtomicU32,
    /// The master's send buffer size as its last writer saw it: a DATA_ACK
    /// wakes writers only once a third of it is free, as TCP's
    /// `sk_stream_write_space` does (a wake-up per DATA_ACK costs a context
    /// switch and a small copy each).
    sndbuf: AtomicU64,
    /// Fault injection (`net.mptcp.debug_fail_alloc`): one in this many
    /// data-path allocations fails (0: none); the count so far.
    fail_every: u32,
    allocations: AtomicU32,
    #[pin]
    work: Work<Mpcb>,
    #[pin]
    timer: Timer<Mpcb>,
    /// When [`Mpcb::timer`] was last armed to expire (jiffies).
    timer_at: AtomicU64,
    /// The receive buffer [`Inner::rcvtuner`] chose last (0: none yet):
    /// the connection's, and each subflow's, unless the application fixed
    /// the master's (`SO_RCVBUF`). Read without the lock.
    rcvbuf_tuned: AtomicU32,
    /// Twice the sum of the subflows' send buffers, the largest seen (0:
    /// none yet): the connection's send buffer, unless the application
    /// fixed the master's (`SO_SNDBUF`). TCP grows each subflow's to about
    /// twice its congestion window; the connection keeps every byte until
    /// its DATA_ACK, so it needs room for all the subflows' windows and for
    /// what waits behind a loss on one of them. Sized from one subflow, it
    /// ran dry while the others had room in their windows. Read without
    /// the lock.
    sndbuf_tuned: AtomicU32,
    /// The connection is over for us: its subflows were handed to TCP (or
    /// reset), nobody reads or writes it. Its timer is never armed again
    /// and its path manager is gone: a retry or a data-level timeout left
    /// pending would otherwise re-arm the timer for ever, and the timer's
    /// reference would keep the connection, its namespace and this module.
    over: AtomicBool,
    /// What coupled congestion control reads of each subflow (see
    /// `coupled.rs`).
    pub(crate) coupling: Coupling,
    /// Dropped last: the module stays loaded while the connection lives.
    _module: ModuleRef,
}

kernel::impl_has_work! {
    impl HasWork<Self> for Mpcb { self.work }
}

impl WorkItem for Mpcb {
    type Pointer = Arc<Mpcb>;

    fn run(this: Arc<Mpcb>) {
        this.deferred();
    }
}

impl TimerCallback for Mpcb {
    fn expired(this: Arc<Self>) {
        this.schedule(todo::TIMEOUT);
    }
}

/// What is owed once [`Mpcb::inner`] is released.
#[derive(Default)]
struct Wake {
    master: Option<ARef<Sock>>,
    readable: bool,
    writable: bool,
    state: bool,
    error: i32,
    work: u32,
}

type InnerGuard<'a> = Guard<'a, Inner, SpinLockBhBackend>;

impl Mpcb {
    /// A connection run by `conn`. It holds a reference on the module for as
    /// long as it lives, so that `rmmod` fails with EBUSY under it instead
    /// of waiting.
    pub(crate) fn new(conn: Conn, fail_every: u8, flags: Flags) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                inner <- new_spinlock_bh!(
                    Inner {
                        conn,
                        // Offsets from our IDSN: the first byte is 1.
                        sndbuf: SendBuf::new(1),
                        subflows: [const { None }; MAX_SUBFLOWS],
                        master: None,
                        linger_until: None,
                        orphaned: None,
                        pm: PmState::new(),
                        join_listener: None,
                        joins_queued: 0,
                        adopt_tries: 0,
                        congestion: None,
                        rcvtuner: RcvBufTuner::new(0, ktime_us()),
                    },
                    "Mpcb::inner"
                ),
                pending: AtomicU32::new(0),
                pushing: AtomicU32::new(0),
                rx_waiting: AtomicU32::new(0),
                push_wanted: AtomicU32::new(0),
                writers: AtomicU32::new(0),
                sndbuf: AtomicU64::new(0),
                fail_every: u32::from(fail_every),
                allocations: AtomicU32::new(0),
                work <- new_work!("Mpcb::work"),
                timer <- Timer::new(),
                timer_at: AtomicU64::new(0),
                over: AtomicBool::new(false),
                rcvbuf_tuned: AtomicU32::new(0),
                sndbuf_tuned: AtomicU32::new(0),
                coupling: Coupling::new(),
                _module: ModuleRef::new(&crate::THIS_MODULE),
            }),
            flags,
        )
        .inspect(|_| {
            LIVE.fetch_add(1, Ordering::Relaxed);
        })
    }

    /// Whether this data-path allocation is to fail (fault injection).
    pub(crate) fn inject_failure(&self) -> bool {
        self.fail_every != 0
            && self.allocations.fetch_add(1, Ordering::Relaxed) % self.fail_every == 0
    }

    /// A send buffer node for [`Mpcb::append`] (process context).
    /// `spare` is one [`Mpcb::write_room`] handed out, used if there is one.
    pub(crate) fn frag_slot(&self, spare: Option<FragSlot>) -> Result<FragSlot> {
        if self.inject_failure() {
            return Err(ENOMEM);
        }
        spare.map_or_else(SendBuf::slot, Ok)
    }

    /// Takes the connection's lock (see the lock order).
    pub(crate) fn lock(&self) -> InnerGuard<'_> {
        self.inner.lock()
    }

    /// Queues work for the work item.
    fn schedule(self: &Arc<Self>, what: u32) {
        if what == 0 {
            return;
        }
        // Whoever set these bits since the work item last took them queued
        // it, or is about to: it will see ours too. (`todo::ADOPT` alone is
        // set without queueing, and never passed here.)
        if self.pending.fetch_or(what, Ordering::AcqRel) & what == what {
            return;
        }
        if let Some(queue) = crate::kernel_net::wq::QUEUE.get() {
            // Already queued is fine: one run serves all.
            let _ = queue.queue().enqueue(self.clone());
        }
    }

    /// How the connection runs, now.
    pub(crate) fn mode(&self) -> Mode {
        self.lock().conn.mode()
    }

    /// Whether the application's calls go straight to the subflow (see
    /// `Connection::passthrough`).
    pub(crate) fn passthrough(&self) -> bool {
        self.lock().conn.passthrough()
    }

    /// The connection's mode and whether the application's calls go straight
    /// to the subflow, in one look.
    pub(crate) fn mode_passthrough(&self) -> (Mode, bool) {
        let inner = self.lock();
        (inner.conn.mode(), inner.conn.passthrough())
    }

    // --- subflows and the master --------------------------------------

    /// Records subflow `id`'s socket. (Data may wait on it already: it
    /// arrived before our callbacks were there.)
    pub(crate) fn set_subflow(&self, id: SubflowId, sk: &TcpSock) {
        self.rx_waiting.fetch_or(subflow_bit(id), Ordering::AcqRel);
        let mut inner = self.lock();
        if let Some(slot) = inner.subflows.get_mut(id as usize) {
            *slot = Some(Slot {
                sk: sk.to_tcp_ref(),
                stash: None,
                reset: None,
                shadow: 0,
                owned: None,
                planned: None,
                sndbuf: 0,
            });
        }
        drop(inner);
        sk.clear_rcvlowat();
    }

    /// The sockets of the subflows whose bit ([`subflow_bit`]) is in
    /// `mask`, by id, under one lock.
    fn subflow_socks(&self, mask: u32) -> [Option<ARef<TcpSock>>; MAX_SUBFLOWS] {
        let mut socks = [const { None }; MAX_SUBFLOWS];
        if mask == 0 {
            return socks;
        }
        let inner = self.lock();
        for (id, (slot, sk)) in inner.subflows.iter().zip(socks.iter_mut()).enumerate() {
            if mask & subflow_bit(id as SubflowId) != 0 {
                *sk = slot.as_ref().map(|s| s.sk.clone());
            }
        }
        socks
    }

    /// The socket of subflow `id`, if there is one.
    fn subflow_sock(&self, id: SubflowId) -> Option<ARef<TcpSock>> {
        self.lock()
            .subflows
            .get(id as usize)
            .and_then(Option::as_ref)
            .map(|s| s.sk.clone())
    }

    /// The application's socket is `master` from now on: received data is
    /// charged to it, and it is woken.
    pub(crate) fn attach_master(&self, master: &Sock) {
        self.lock().master = Some(master.to_ref());
    }

    /// The application closed its socket: what was written still goes, then
    /// our DATA_FIN, in the background (as TCP does for a closed socket);
    /// what arrives is acknowledged and dropped. Everything charged to the
    /// master is freed here, before it goes.
    pub(crate) fn detach_master(self: &Arc<Self>, orphaned: Option<Orphaned>) {
        let lingers = orphaned.is_some();
        let mut freed = KVec::new();
        let master = {
            let mut inner = self.lock();
            inner.conn.shutdown_write();
            inner.conn.discard_rx();
            inner.conn.prune_out_of_order(u64::MAX);
            for slot in inner.subflows.iter_mut().flatten() {
                if let Some(stash) = slot.stash.take() {
                    // The stash is retried without a master: drop the
                    // charged copy now (not stashing loses nothing: the
                    // data is dropped anyway).
                    let _ = freed.push(stash, GFP_ATOMIC);
                }
            }
            if lingers {
                inner.linger_until = Some(ktime_us().saturating_add(LINGER_US));
            }
            inner.orphaned = orphaned;
            self.sync_timer(&mut inner);
            let master = inner.master.take();
            Self::sync_shadow(&mut inner);
            master
        };
        drop(freed);
        drop(master);
        if !lingers {
            // Plain TCP from here: nothing of ours is left to do.
            self.end();
            return;
        }
        self.push_all();
        self.schedule(todo::FINISH);
    }

    // --- sending ------------------------------------------------------

    /// What a writer with a send buffer of `sndbuf` bytes may do, in one
    /// look at the connection (see [`WriteRoom`]).
    pub(crate) fn write_room(&self, sndbuf: u64) -> WriteRoom {
        self.sndbuf.store(sndbuf, Ordering::Relaxed);
        let mut inner = self.lock();
        if inner.conn.passthrough() {
            return WriteRoom::Passthrough;
        }
        if inner.conn.write_shut() {
            return WriteRoom::Shut;
        }
        let room = inner.conn.send_space(sndbuf);
        let spare = if room > 0 {
            inner.sndbuf.take_spare()
        } else {
            None
        };
        WriteRoom::Open { room, spare }
    }

    /// Whether a writer that waits for room in a send buffer of `sndbuf`
    /// bytes should go on: a third of it free.
    /// (No writer yet: any room.)
    fn writable(conn: &Conn, sndbuf: u64) -> bool {
        let space = conn.send_space(sndbuf);
        sndbuf == 0 || (space > 0 && space >= sndbuf / 3)
    }

    /// Whether a writer waiting for room in a send buffer of `sndbuf`
    /// bytes goes on (see [`Mpcb::writable`]).
    pub(crate) fn can_write(&self, sndbuf: u64) -> bool {
        self.sndbuf.store(sndbuf, Ordering::Relaxed);
        Self::writable(&self.lock().conn, sndbuf)
    }

    /// Appends the application's bytes in `frag` (with a tree node for it,
    /// allocated beforehand) to the send buffer; returns the bytes the buffer
    /// holds.
    pub(crate) fn append(&self, frag: PageFrag, slot: FragSlot) -> u64 {
        let mut inner = self.lock();
        let len = u64::from(frag.len());
        inner.sndbuf.append(frag, slot);
        inner.conn.app_write(len);
        inner.sndbuf.bytes()
    }

    /// Lets subflow `id` (`sk`, locked) pull what the core maps onto it, as
    /// its room allows, then our DATA_FIN if it is due. If data is left
    /// that the subflow could not take, `SOCK_NOSPACE` makes TCP call
    /// `write_space` on each ACK, which brings us back here.
    pub(crate) fn push(self: &Arc<Self>, id: SubflowId, sk: &TcpLocked<'_>) {
        // A subflow in error takes nothing (and TCP would consume its error
        // while refusing, which the master reports).
        if sk.error() != 0 {
            return;
        }
        // Not again from within: `tcp_sendmsg_locked` processes the socket's
        // backlog now and then (`sk_flush_backlog`), whose ACKs call
        // `write_space`, which calls us. The outer push goes on with the
        // room those ACKs made.
        let bit = subflow_bit(id);
        if self.pushing.fetch_or(bit, Ordering::Acquire) & bit != 0 {
            return;
        }
        self.push_locked(id, sk);
        self.pushing.fetch_and(!bit, Ordering::Release);
    }

    fn push_locked(self: &Arc<Self>, id: SubflowId, sk: &TcpLocked<'_>) {
        let mut full = false;
        // Whether the scheduler wants data on other subflows.
        let mut others = false;
        // Whether TCP took bytes after a fallback, which freed the send
        // buffer (no DATA_ACK will).
        let mut freed = false;
        // Whether a slow subflow is to be penalised.
        let mut penalize = false;
        // Whether the siblings' Loss states are still to be looked at (once
        // per push: each costs a look at another socket).
        let mut siblings = true;
        loop {
            let tcp = sk.snapshot();
            let room = TxRoom {
                room: sk.send_space().max(0) as u32,
                mss: tcp.mss_cache.max(1),
                write_seq: tcp.write_seq,
                packets_out: tcp.packets_out,
                nodelay: tcp.nodelay,
                size_goal: u32::from(tcp.gso_segs) * tcp.mss_cache,
                more: self.writers.load(Ordering::Relaxed) > 0,
                snd_nxt: Some(tcp.snd_nxt),
            };
            let mut frags = FragList::new();
            let planned = {
                let mut inner = self.lock();
                let now = ktime_us();
                inner
                    .conn
                    .set_subflow_rto(id, jiffies_to_us(u64::from(tcp.rto)));
                let path = PathSample {
                    srtt_us: tcp.srtt_us,
                    cwnd: tcp.snd_cwnd,
                    ssthresh: tcp.snd_ssthresh,
                    recovering: !tcp.ca_open,
                };
                inner.conn.subflow_sample(id, path, now);
                // Every subflow's retransmission timer, as it is now (a
                // failed subflow's data goes here at once; its own
                // retransmission also tells, in `options_for`).
                if core::mem::take(&mut siblings) {
                    let inner = &mut *inner;
                    for (i, slot) in inner.subflows.iter().enumerate() {
                        if let Some(slot) = slot {
                            inner
                                .conn
                                .subflow_loss_state(i as SubflowId, slot.sk.timed_out());
                        }
                    }
                }
                self.note_sndbuf(&mut inner, id, sk.buf_sizes().1);
                let t = inner.conn.poll_transmit(id, &room);
                if inner.conn.has_penalty() {
                    penalize = true;
                }
                let wanted = u32::from(inner.conn.take_push_wanted()) & !subflow_bit(id);
                if wanted != 0 {
                    self.push_wanted.fetch_or(wanted, Ordering::AcqRel);
                    others = true;
                }
                if let Some(t) = t {
                    let offset = t.dsn.wrapping_sub(inner.conn.local().idsn);
                    let lent = inner.sndbuf.share(offset, t.len, &mut frags);
                    inner.conn.on_transmit(now);
                    self.sync_timer(&mut inner);
                    Some((t, lent))
                } else {
                    None
                }
            };
            let Some((t, lent)) = planned else {
                // No room: part of a mapping may wait for TCP's next ACK.
                full |= room.room == 0;
                break;
            };
            if lent == 0 {
                break;
            }
            if t.new_mapping {
                // The last mapping may have grown until now: no more.
                sk.close_record();
            }
            let sent = sk.send_frags(frags.as_slice()) as u32;
            {
                let mut inner = self.lock();
                inner.conn.handed(t.dsn, u64::from(sent));
                if inner.conn.mode() == Mode::Fallback {
                    // TCP holds those pages now: nothing else will free them.
                    let una = inner
                        .conn
                        .sndbuf_una()
                        .wrapping_sub(inner.conn.local().idsn);
                    inner.sndbuf.free_below(una);
                    freed |= sent > 0;
                }
            }
            if sent < lent {
                // TCP is full: the rest of the mapping goes when an ACK
                // makes room (`write_space`).
                full = true;
                break;
            }
            // ACKs that arrived meanwhile make room now, not at the end of
            // the push (in process context; nothing in softirq).
            sk.flush_backlog();
            // All taken; if the buffer lent fewer pages than the mapping,
            // the core hands out the rest of it next.
        }
        let mut wake = Wake::default();
        if others {
            wake.work |= todo::PUSH;
        }
        if penalize {
            wake.work |= todo::PENALIZE;
        }
        let fin = {
            let mut inner = self.lock();
            let due = inner
                .conn
                .data_fin_due(id, sk.snapshot().write_seq, ktime_us());
            let unsent = inner.conn.write_seq() != inner.conn.snd_nxt();
            // We wait for room as a writer would (SOCK_NOSPACE: TCP grows
            // the buffer and calls `write_space` as ACKs come). Set, never
            // cleared: the mark may be TCP's own, for a writer on the
            // subflow (after a fallback the application writes there) that
            // its `sk_stream_write_space` clears once it has room.
            if full || unsent {
                sk.writer_waits();
            }
            if unsent {
                // And so do the others: each pulls at its next ACK that
                // frees memory (the scheduler asks an idle one at once,
                // `take_push_wanted`; one with data in flight waits for
                // that ACK).
                for (i, slot) in inner.subflows.iter().enumerate() {
                    if let Some(slot) = slot.as_ref().filter(|_| i != id as usize) {
                        slot.sk.writer_waits();
                    }
                }
            }
            if freed {
                wake.writable = Self::writable(&inner.conn, self.sndbuf.load(Ordering::Relaxed));
            }
            self.flush(&mut inner, sk.net(), &mut wake);
            due
        };
        if fin {
            // Our DATA_FIN goes on this ACK and on every segment until the
            // peer DATA_ACKs it; the subflow's FIN follows the data, so that
            // TCP retransmits until the peer has both.
            sk.send_ack();
            sk.shutdown_send();
        }
        self.wake(wake);
    }

    /// A writer starts copying (see [`Mpcb::writers`]).
    pub(crate) fn writer_enter(&self) {
        self.writers.fetch_add(1, Ordering::Relaxed);
    }

    /// A writer stops copying, to return or to wait: what it held back
    /// goes now.
    pub(crate) fn writer_leave(self: &Arc<Self>) {
        self.writers.fetch_sub(1, Ordering::Relaxed);
        self.push_all();
    }

    /// Pushes on every subflow, taking each one's lock in turn (process
    /// context).
    pub(crate) fn push_all(self: &Arc<Self>) {
        self.push_on(u32::MAX);
    }

    /// Pushes on the subflows whose bit ([`subflow_bit`]) is in `mask`, as
    /// [`Mpcb::push_all`].
    fn push_on(self: &Arc<Self>, mask: u32) {
        for (id, sk) in self.subflow_socks(mask).iter().enumerate() {
            if let Some(sk) = sk {
                let guard = sk.lock();
                self.push(id as SubflowId, guard.locked());
            }
        }
    }

    // --- receiving ----------------------------------------------------

    /// Moves subflow `id`'s in-order data (`sk`, locked) to the connection:
    /// each skb off TCP's receive queue, charged to the master, into the
    /// core's reassembly queue at the DSNs its mappings give. Stops when
    /// the master's receive buffer of `rcvbuf` bytes is full: the rest
    /// waits on the subflow, whose window closes. Without a master (a
    /// listener's child not accepted yet) nothing moves (the DATA_ACK
    /// covers it all the same). From process context (`process`), an ACK
    /// tells the peer when moving reopened a window that was nearly shut.
    pub(crate) fn receive(
        self: &Arc<Self>,
        id: SubflowId,
        sk: &TcpLocked<'_>,
        rcvbuf: u32,
        process: bool,
    ) {
        let mut wake = Wake::default();
        let window_was_small = process && {
            let t = sk.snapshot();
            let edge = t.rcv_wup.wrapping_add(t.rcv_wnd);
            edge.wrapping_sub(t.rcv_nxt) < (sk.rmem().1.max(0) as u32) / 4
        };
        let mut moved = 0u32;
        // Whether the subflow's receive queue (and stash) ended up empty.
        let mut drained = false;
        let mut inner = self.lock();
        loop {
            if inner.conn.mode() != Mode::Mptcp {
                break;
            }
            let master = inner.master.clone();
            if master.is_none() && inner.linger_until.is_none() {
                // Not accepted yet.
                break;
            }
            let stash = inner
                .subflows
                .get_mut(id as usize)
                .and_then(Option::as_mut)
                .and_then(|s| s.stash.take());
            let (seq, span) = match stash {
                // First what waited for memory.
                Some(stash) => stash,
                None => {
                    if !sk.rx_pending() {
                        drained = true;
                        break;
                    }
                    if let Some(m) = master.as_ref() {
                        // With several subflows, a full buffer still takes
                        // what the reader waits for (the data that fills
                        // the gap may come behind out-of-order data of
                        // another subflow); the rest waits on its subflow,
                        // whose window closes. With one subflow,
                        // out-of-order data goes instead (the peer sends
                        // it again), or everything waits.
                        if m.rmem_alloc() >= rcvbuf as i32 {
                            let blocked = if inner.conn.live_subflows() > 1 {
                                !inner.conn.rx_in_order(id)
                            } else {
                                !self.make_room(&mut inner, sk.net())
                            };
                            if blocked {
                                break;
                            }
                        }
                    }
                    let Some(mut skb) = sk.take_rx_skb() else {
                        break;
                    };
                    if let Some(m) = master.as_ref() {
                        skb.charge_to(m);
                    }
                    moved += skb.len();
                    (skb.seq(), skb.into_span())
                }
            };
            if self.inject_failure() {
                // As if the core had no memory for it (fault injection).
                if let Some(slot) = inner.subflows.get_mut(id as usize).and_then(Option::as_mut) {
                    slot.stash = Some((seq, span));
                }
                mib::inc(sk.net(), Mib::RcvRetry);
                wake.work |= todo::RETRY;
                break;
            }
            // Our own reference, in case the core cannot take it all.
            let keep = span.share();
            let before = inner.conn.readable();
            let acked = inner.conn.data_ack();
            match inner.conn.handle_data(id, seq, span) {
                DataOutcome::Taken => {}
                DataOutcome::NoMemory => {
                    if let Some(slot) = inner.subflows.get_mut(id as usize).and_then(Option::as_mut)
                    {
                        slot.stash = Some((seq, keep));
                    }
                    mib::inc(sk.net(), Mib::RcvRetry);
                    wake.work |= todo::RETRY;
                    break;
                }
                DataOutcome::Broken | DataOutcome::NotMptcp => break,
            }
            if master.is_none() && inner.conn.data_ack() != acked {
                // New data for an application that closed its socket: nobody
                // will read it. As TCP does for a closed socket, the
                // connection is reset (a RST on every subflow).
                mib::inc(sk.net(), Mib::RcvAfterClose);
                for slot in inner.subflows.iter_mut().flatten() {
                    slot.reset = Some(0);
                }
                inner.linger_until = Some(0);
                wake.work |= todo::RESET;
                break;
            }
            wake.readable |= inner.conn.readable() != before;
        }
        self.flush(&mut inner, sk.net(), &mut wake);
        Self::sync_shadow(&mut inner);
        if moved > 0 {
            self.tune_rcvbuf(&mut inner, id, sk, moved);
        }
        drop(inner);
        let tuned = self.rcvbuf_tuned.load(Ordering::Relaxed);
        if tuned > 0 {
            sk.grow_rcvbuf(tuned);
        }
        let bit = subflow_bit(id);
        if drained {
            self.rx_waiting.fetch_and(!bit, Ordering::AcqRel);
        } else {
            self.rx_waiting.fetch_or(bit, Ordering::AcqRel);
        }
        if moved > 0 {
            sk.rcv_space_adjust();
        }
        if moved > 0 && window_was_small {
            // The reader made room where the window was nearly shut: tell
            // the peer now (TCP's own `tcp_cleanup_rbuf` is not exported).
            sk.send_ack();
        }
        self.wake(wake);
    }

    /// Subflow `id` (`sk`) delivered `moved` octets to the connection: the
    /// tuner measures the subflows' rates over the largest RTT and sizes
    /// the connection's buffer from them, up to `tcp_rmem[2]`. Not once the
    /// application fixed its buffer (`SO_RCVBUF`), nor without one.
    fn tune_rcvbuf(&self, inner: &mut Inner, id: SubflowId, sk: &TcpLocked<'_>, moved: u32) {
        let Some(master) = inner.master.as_ref() else {
            return;
        };
        if master.buf_locks().0 {
            return;
        }
        let t = sk.snapshot();
        // The receiver's own RTT estimate, or the sender's where there is
        // none (no timestamps).
        let rtt = if t.rcv_rtt_us > 0 {
            t.rcv_rtt_us
        } else {
            t.srtt_us
        };
        inner.rcvtuner.delivered(id as usize, moved, rtt);
        if let Some(want) = inner.rcvtuner.sample(ktime_us(), sk.net().tcp_rmem_max()) {
            self.rcvbuf_tuned.fetch_max(want, Ordering::Relaxed);
        }
    }

    /// Records subflow `id`'s send buffer, `sndbuf`, and grows
    /// [`Mpcb::sndbuf_tuned`] to twice the sum of the subflows'.
    fn note_sndbuf(&self, inner: &mut Inner, id: SubflowId, sndbuf: i32) {
        let sndbuf = sndbuf.max(0) as u32;
        let Some(slot) = inner.subflows.get_mut(id as usize).and_then(Option::as_mut) else {
            return;
        };
        if slot.sndbuf == sndbuf {
            return;
        }
        slot.sndbuf = sndbuf;
        let sum = inner
            .subflows
            .iter()
            .flatten()
            .fold(0u32, |sum, slot| sum.saturating_add(slot.sndbuf));
        self.sndbuf_tuned
            .fetch_max(sum.saturating_mul(2), Ordering::Relaxed);
    }

    /// The send buffer sized from the subflows' (0: none yet).
    pub(crate) fn sndbuf_tuned(&self) -> u32 {
        self.sndbuf_tuned.load(Ordering::Relaxed)
    }

    /// The receive buffer the tuner chose for the connection (0: none).
    pub(crate) fn rcvbuf_tuned(&self) -> u32 {
        self.rcvbuf_tuned.load(Ordering::Relaxed)
    }

    /// The master's receive buffer is full: out-of-order data goes (the peer
    /// sends it again, at the data level), so that what fills the gap can
    /// come in. False if there was none: the rest waits on the subflow.
    fn make_room(&self, inner: &mut Inner, net: &Net) -> bool {
        let ooo = inner.conn.rx_queued().saturating_sub(inner.conn.readable());
        if ooo == 0 || inner.conn.prune_out_of_order(ooo) == 0 {
            return false;
        }
        mib::inc(net, Mib::RcvPruned);
        true
    }

    /// Takes up to `max` bytes of in-order data for the reader, at most
    /// `room` spans, each handed to `put`. Returns the bytes taken.
    pub(crate) fn take_readable(&self, room: usize, max: u64, mut put: impl FnMut(SkbSpan)) -> u64 {
        let mut inner = self.lock();
        let mut taken = 0;
        for _ in 0..room {
            if taken >= max {
                break;
            }
            let Some(span) = inner.conn.pop_readable() else {
                break;
            };
            taken += u64::from(span.len());
            put(span);
        }
        taken
    }

    /// Bytes readable at the connection level, and whether the reader is at
    /// the end of the stream.
    pub(crate) fn readable(&self) -> (u64, bool) {
        let inner = self.lock();
        (inner.conn.readable(), inner.conn.at_eof())
    }

    /// What a reader that found nothing to take looks at, in one look:
    /// whether the reader is at the end of the stream, and the mode.
    pub(crate) fn read_state(&self) -> (bool, Mode) {
        let inner = self.lock();
        (inner.conn.at_eof(), inner.conn.mode())
    }

    /// Moves what waits on the subflows (the reader made room, or memory
    /// came back), taking each one's lock in turn (process context).
    /// Returns whether any subflow had data waiting.
    pub(crate) fn receive_all(self: &Arc<Self>, rcvbuf: u32) -> bool {
        // (Set under the subflow's lock by `receive`, which runs for every
        // arrival: a subflow whose bit is clear holds nothing.)
        let waiting = self.rx_waiting.load(Ordering::Acquire);
        if waiting == 0 {
            return false;
        }
        for (id, sk) in self.subflow_socks(waiting).iter().enumerate() {
            let (id, Some(sk)) = (id as SubflowId, sk) else {
                continue;
            };
            let guard = sk.lock();
            if guard.locked().rx_pending() || self.has_stash(id) {
                self.receive(id, guard.locked(), rcvbuf, true);
            }
        }
        true
    }

    /// Sets each subflow's shadow charge ([`Slot::shadow`]) to what the
    /// master holds unread, at most half the subflow's buffer (so that TCP
    /// keeps room for what is in flight); none outside MPTCP (after a
    /// fallback the application reads the subflow itself) or without a
    /// master.
    fn sync_shadow(inner: &mut Inner) {
        let unread = match inner.master.as_ref() {
            Some(m) if inner.conn.mode() == Mode::Mptcp => m.rmem_alloc().max(0) as u32,
            _ => 0,
        };
        for slot in inner.subflows.iter_mut().flatten() {
            let cap = (slot.sk.buf_sizes().0.max(0) as u32) / 2;
            slot.set_shadow(unread.min(cap));
        }
    }

    /// The reader took data: what waits on the subflows moves in, the
    /// shadow charges shrink, and each subflow sends the ACK TCP would send
    /// after a read ([`TcpSock::ack_due_after_read`]): the one it held back
    /// while the reader lagged, or one that tells the peer the window grew.
    pub(crate) fn reader_done(self: &Arc<Self>, rcvbuf: u32) {
        let _ = self.receive_all(rcvbuf);
        let mut reopened = 0u32;
        {
            let mut inner = self.lock();
            Self::sync_shadow(&mut inner);
            for (id, slot) in inner.subflows.iter().enumerate() {
                if slot.as_ref().is_some_and(|s| s.sk.ack_due_after_read()) {
                    reopened |= subflow_bit(id as SubflowId);
                }
            }
        }
        for sk in self.subflow_socks(reopened).iter().flatten() {
            let guard = sk.lock();
            if guard.locked().ack_due_after_read() {
                guard.locked().send_ack();
            }
        }
    }

    fn has_stash(&self, id: SubflowId) -> bool {
        self.lock()
            .subflows
            .get(id as usize)
            .and_then(Option::as_ref)
            .is_some_and(|s| s.stash.is_some())
    }

    // --- the hooks ----------------------------------------------------

    /// A segment reached subflow `id` (`sk`, not locked: before TCP): its
    /// options go to the core, which ignores them unless TCP will accept
    /// the segment. A DATA_ACK frees the send buffer and wakes writers.
    pub(crate) fn segment_in(
        self: &Arc<Self>,
        id: SubflowId,
        sk: &TcpSock,
        seg: &SegmentIn<'_>,
        window: u16,
    ) {
        let t = sk.snapshot();
        let tcp = TcpWindow {
            rcv_nxt: t.rcv_nxt,
            rcv_wup: t.rcv_wup,
            rcv_wnd: t.rcv_wnd,
            snd_una: t.snd_una,
            snd_max: t.write_seq,
            max_window: t.max_window,
        };
        let scaled = u32::from(window) << t.snd_wscale.min(14);
        let mut wake = Wake::default();
        let mut inner = self.lock();
        let freed = inner.conn.handle_segment(id, seg, &tcp, scaled, ktime_us());
        // What TCP took as acknowledged (its snd_una as this segment came)
        // is never sent again: its mappings can go, so that they do not
        // pile up while the application writes little. Not up to this
        // segment's ACK: TCP may send before it processes that ACK (the
        // segment waits in the backlog while the socket's user holds it),
        // and a retransmission below it went without its mapping (an
        // 8-octet DSS on data, seen once in `mptcp_conformance`).
        if let Some(sf) = inner.conn.subflow(id) {
            sf.acked(t.snd_una);
        }
        if freed {
            let offset = inner.conn.snd_una().wrapping_sub(inner.conn.local().idsn);
            inner.sndbuf.free_below(offset);
            wake.writable = Self::writable(&inner.conn, self.sndbuf.load(Ordering::Relaxed));
        }
        if inner.conn.take_ack_wanted() {
            // The peer's DATA_FIN came without data: TCP owes no ACK for
            // it, but the peer needs the DATA_ACK; the subflow sends one
            // when it next can (its state change or our push).
            wake.work |= todo::RETRY;
        }
        self.flush(&mut inner, sk.net(), &mut wake);
        drop(inner);
        self.wake(wake);
    }

    /// The option a segment of subflow `id` carries, if any, and on a
    /// pure ACK the address signal that may go beside it (see
    /// [`Mpcb::signal_sent`]). `timed_out` is whether the subflow's
    /// retransmission timer fired: its retransmission at the timeout is
    /// the first segment to leave in that state, and what the subflow holds
    /// goes on the others from then on, pushed by the work item, without
    /// waiting for a push of theirs (they may all be idle, their data
    /// acknowledged and the data-level window held by the failed subflow).
    pub(crate) fn options_for(
        self: &Arc<Self>,
        id: SubflowId,
        seg: &SegmentOut,
        timed_out: bool,
    ) -> (Option<MptcpOption>, Option<MptcpOption>) {
        let (option, signal, marked) = {
            let mut inner = self.lock();
            let marked = inner.conn.subflow_loss_state(id, timed_out);
            let option = inner.conn.option_for(id, seg);
            (option, inner.conn.signal_for(id, seg), marked)
        };
        if marked {
            self.push_wanted
                .fetch_or(!subflow_bit(id), Ordering::AcqRel);
            self.schedule(todo::PUSH);
        }
        (option, signal)
    }

    /// The signal from [`Mpcb::options_for`] went on subflow `id`.
    pub(crate) fn signal_sent(&self, id: SubflowId, signal: &MptcpOption) {
        self.lock().conn.signal_sent(id, signal, ktime_us());
    }

    /// A subflow's TCP state changed: the master hears of it; a closed
    /// connection may be finished.
    pub(crate) fn subflow_state_changed(self: &Arc<Self>) {
        let wake = Wake {
            master: self.lock().master.clone(),
            state: true,
            work: todo::FINISH,
            ..Wake::default()
        };
        self.wake(wake);
    }

    /// Subflow `id` got an error: the master reports it (`SO_ERROR`, poll)
    /// if the connection depends on that subflow alone; otherwise the
    /// connection goes on without it (its data goes on the others).
    pub(crate) fn subflow_error(self: &Arc<Self>, id: SubflowId, err: i32) {
        let wake = {
            let inner = self.lock();
            if inner.conn.has_other_subflow(id) {
                Wake {
                    work: todo::FINISH,
                    ..Wake::default()
                }
            } else {
                Wake {
                    master: inner.master.clone(),
                    error: err,
                    ..Wake::default()
                }
            }
        };
        self.wake(wake);
    }

    /// Whether the initial subflow's fate is the connection's: unless
    /// MPTCP runs and another subflow carries data, when the connection
    /// survives its loss (the application's socket no longer follows it).
    pub(crate) fn first_decides(&self) -> bool {
        !self.lock().conn.has_other_subflow(0)
    }

    // --- events, timers, wake-ups -------------------------------------

    /// Hands what the core counted to the MIB of `net`, and turns its
    /// events into wake-ups and work; re-arms the timer.
    fn flush(self: &Arc<Self>, inner: &mut Inner, net: &Net, wake: &mut Wake) {
        inner.conn.take_counts(|c, n| mib::add_core(net, c, n));
        while let Some(event) = inner.conn.poll_event() {
            match event {
                Event::Established => wake.state = true,
                Event::FullyEstablished => {
                    // The server has made the connection our joins will
                    // name (a join SYN sent before could beat the third ACK
                    // to the server and be refused: seen on two CPUs). The
                    // path manager starts (in process context: it reads
                    // the namespace's configuration).
                    inner.pm.start = true;
                    wake.work |= todo::PM;
                }
                Event::FellBack(_) => {
                    // What was written before goes to TCP (process context
                    // may take the subflow's lock).
                    wake.state = true;
                    wake.work |= todo::RETRY;
                }
                Event::AddrAnnounced { id, addr, port } => {
                    // (Counted and echoed by the core.) IPv4 only, so far.
                    if let core::net::IpAddr::V4(v4) = addr {
                        let addr = Addr {
                            ip: v4.octets(),
                            port: port.unwrap_or(0),
                        };
                        inner.pm.peer_addr(id, Some(addr));
                    }
                    wake.work |= todo::PM;
                }
                Event::AddrRemoved { id } => {
                    inner.pm.peer_addr(id, None);
                    wake.work |= todo::PM;
                }
                Event::Joined { id } => {
                    // Another subflow can carry data: what waits goes.
                    wake.work |= todo::RETRY;
                    let planned = inner
                        .subflows
                        .get(id as usize)
                        .and_then(Option::as_ref)
                        .and_then(|s| s.planned);
                    if let (Some(pm), Some((local, remote))) = (inner.pm.pm.as_mut(), planned) {
                        pm.subflow_up(local, remote);
                    }
                }
                Event::PassedThrough => {
                    // Readers and writers waiting on the master go to the
                    // subflow, whose own callbacks wake them from now on.
                    wake.state = true;
                    wake.readable = true;
                }
                Event::PeerDataFin => {
                    wake.readable = true;
                    wake.state = true;
                    wake.work |= todo::FINISH;
                }
                Event::DataFinAcked => {
                    wake.state = true;
                    wake.work |= todo::FINISH;
                }
                Event::ResetSubflow { id, reason } => {
                    if let Some(slot) = inner.subflows.get_mut(id as usize).and_then(Option::as_mut)
                    {
                        slot.reset = Some(reason);
                    }
                    wake.work |= todo::RESET;
                }
                Event::FastClose => {
                    for slot in inner.subflows.iter_mut().flatten() {
                        slot.reset = Some(0);
                    }
                    wake.error = -crate::kernel_net::errno::econnreset().to_errno();
                    wake.work |= todo::RESET;
                }
            }
        }
        if inner.pm.collect() {
            wake.work |= todo::PM;
        }
        if wake.readable || wake.writable || wake.state || wake.error != 0 {
            wake.master = inner.master.clone();
        }
        if wake.writable {
            let queued = inner.sndbuf.bytes();
            if let Some(m) = wake.master.as_ref() {
                m.set_wmem_queued(queued.min(i32::MAX as u64) as i32);
            }
        }
        self.sync_timer(inner);
    }

    /// Wakes the master as `wake` says, and queues its work.
    fn wake(self: &Arc<Self>, wake: Wake) {
        if let Some(m) = wake.master.as_ref() {
            if wake.error != 0 {
                m.report_error(wake.error);
            }
            if wake.readable {
                m.data_ready();
            }
            if wake.writable && m.writer_waited() {
                m.write_space();
            }
            if wake.state {
                m.state_change();
            }
        }
        self.schedule(wake.work);
    }

    /// Arms the timer for the core's next deadline (or the linger deadline
    /// of a closed connection, or the path manager's), unless it is armed
    /// for that time or earlier already: an earlier expiry finds nothing to
    /// do and re-arms it. (A later one would hold back what is due now: a
    /// third ACK of MP_JOIN to send again, once the data-level timer is far
    /// away.)
    fn sync_timer(self: &Arc<Self>, inner: &mut Inner) {
        let pm = inner.pm.pm.as_ref().and_then(PathManager::poll_timeout);
        let deadline = [inner.conn.poll_timeout(), inner.linger_until, pm]
            .into_iter()
            .flatten()
            .min();
        let Some(deadline) = deadline else { return };
        let wait = deadline.saturating_sub(ktime_us());
        self.arm_timer(jiffies().saturating_add(us_to_jiffies(wait)));
    }

    /// Arms the timer to expire at `expires` (jiffies), unless it is armed
    /// to expire before.
    fn arm_timer(self: &Arc<Self>, expires: u64) {
        if self.over.load(Ordering::SeqCst) {
            return;
        }
        let armed_at = self.timer_at.load(Ordering::Acquire);
        if self.timer.armed() && armed_at <= expires {
            return;
        }
        self.timer_at.store(expires, Ordering::Release);
        self.timer.arm(self, expires);
        // Raced with `end`, which disarmed before we armed: undo.
        if self.over.load(Ordering::SeqCst) {
            self.timer.disarm();
        }
    }

    /// The connection is over for us (see [`Mpcb::over`]): no timer, no
    /// path manager from now on.
    fn end(&self) {
        if !self.over.swap(true, Ordering::SeqCst) {
            LIVE_OVER.fetch_add(1, Ordering::Relaxed);
        }
        self.timer.disarm();
        self.lock().pm.pm = None;
    }

    // --- the work item ------------------------------------------------

    /// What needs process context, and is rare.
    fn deferred(self: Arc<Self>) {
        let todo = self.pending.swap(0, Ordering::AcqRel);
        if todo & todo::TIMEOUT != 0 {
            let (resend, ack, join_acks) = {
                let mut inner = self.lock();
                let resend = inner.conn.handle_timeout(ktime_us());
                self.sync_timer(&mut inner);
                (
                    resend,
                    inner.conn.take_ack_wanted(),
                    inner.conn.take_join_acks(),
                )
            };
            // Third ACKs of MP_JOIN not acknowledged yet go again (each ACK
            // of a pre-established subflow carries it).
            for sk in self.subflow_socks(u32::from(join_acks)).iter().flatten() {
                sk.lock().locked().send_ack();
            }
            if ack {
                // Our DATA_FIN again, on an ACK of every subflow.
                self.retry();
            } else if resend {
                self.push_all();
            }
        }
        if todo & todo::ADOPT != 0 {
            self.adopt_joins();
        }
        if todo & todo::PENALIZE != 0 {
            self.penalize();
        }
        if todo & todo::RESET != 0 {
            self.reset_subflows();
        }
        if todo & (todo::FINISH | todo::TIMEOUT | todo::RESET) != 0 {
            self.reap_subflows();
        }
        if todo & (todo::PM | todo::TIMEOUT) != 0 {
            self.run_pm();
        }
        if todo & todo::RETRY != 0 {
            self.retry();
        } else if todo & todo::PUSH != 0 {
            self.push_on(self.push_wanted.swap(0, Ordering::AcqRel));
        }
        if todo & (todo::FINISH | todo::TIMEOUT | todo::RESET) != 0 {
            self.finish_if_done();
        }
    }

    /// Halves the congestion windows of the slow subflows that the core
    /// penalised (opportunistic retransmission), each under its lock, as
    /// its TCP has them then: one that entered loss recovery since is left
    /// alone.
    fn penalize(&self) {
        loop {
            // (Not `while let`: the connection's lock, a temporary of the
            // condition, would be held across the body, where the
            // subflow's is taken: the lock order is subflow, then
            // connection.)
            let Some(id) = self.lock().conn.take_penalty() else {
                break;
            };
            let Some(sk) = self.subflow_sock(id) else {
                continue;
            };
            let guard = sk.lock();
            let locked = guard.locked();
            let tcp = locked.snapshot();
            if let Some((cwnd, ssthresh)) =
                sched::penalty_window(tcp.snd_cwnd, tcp.snd_ssthresh, !tcp.ca_open)
            {
                locked.set_cwnd(cwnd, ssthresh);
            }
        }
    }

    /// Resets the subflows the core asked to reset (`tcp_abort`: a RST, and
    /// the socket closed with ECONNRESET); their unacknowledged data goes to
    /// the others (RFC 8684, 3.6).
    fn reset_subflows(self: &Arc<Self>) {
        for id in 0..MAX_SUBFLOWS as SubflowId {
            let doomed = {
                let mut inner = self.lock();
                let Some(slot) = inner.subflows.get_mut(id as usize).and_then(Option::as_mut)
                else {
                    continue;
                };
                if slot.reset.take().is_none() {
                    continue;
                }
                let sk = slot.sk.clone();
                inner.conn.subflow_closed(id);
                sk
            };
            doomed.abort(crate::kernel_net::errno::econnreset());
        }
    }

    // --- the path manager and additional subflows ----------------------

    /// The initial subflow of a listener's child that was never accepted
    /// is gone: the subflows that joined it are reset (they hold the
    /// connection, which would otherwise outlive everything).
    pub(crate) fn abandon(self: &Arc<Self>) {
        let mut any = false;
        {
            let mut inner = self.lock();
            if inner.master.is_some() || inner.orphaned.is_some() {
                return;
            }
            for slot in inner.subflows.iter_mut().flatten() {
                slot.reset = Some(0);
                any = true;
            }
        }
        // Nobody will read or write it: once the resets are carried out,
        // nothing is left to time.
        self.end();
        if any {
            self.schedule(todo::RESET);
        }
    }

    /// A listener's connection was accepted: its path manager starts (the
    /// client's once the server showed it has our keys, on
    /// `Event::FullyEstablished`).
    pub(crate) fn start_path_manager(self: &Arc<Self>) {
        self.lock().pm.start = true;
        self.schedule(todo::PM);
    }

    /// Starts the path manager once MPTCP is established, gives it the
    /// time, and carries out what it decided (process context).
    fn run_pm(self: &Arc<Self>) {
        if self.over.load(Ordering::SeqCst) {
            return;
        }
        let start = {
            let inner = self.lock();
            inner.pm.start && inner.pm.pm.is_none()
        };
        if start {
            self.start_pm();
        }
        {
            let mut inner = self.lock();
            if let Some(pm) = inner.pm.pm.as_mut() {
                pm.handle_timeout(ktime_us());
            }
            inner.pm.collect();
        }
        loop {
            let action = {
                let mut inner = self.lock();
                inner.pm.actions.iter_mut().find_map(Option::take)
            };
            let Some(action) = action else { break };
            self.pm_act(action);
        }
        let mut inner = self.lock();
        self.sync_timer(&mut inner);
    }

    /// Creates the path manager, from the namespace's endpoints and limits
    /// (less an endpoint for the initial subflow's own address, which is
    /// address id 0) and the initial subflow's peer.
    fn start_pm(self: &Arc<Self>) {
        let Some(first) = self.subflow_sock(0) else {
            return;
        };
        let Some(net) = MptcpNet::get(first.net()) else {
            return;
        };
        let (all, limits) = net.pm().lock().snapshot();
        let ndiffports = net.ndiffports();
        let addrs = first.addrs4();
        let peer = Addr {
            ip: addrs.remote,
            port: addrs.remote_port,
        };
        let mut inner = self.lock();
        if inner.pm.pm.is_some() {
            return;
        }
        // The initial subflow's own address as a backup endpoint makes it a
        // backup subflow, which the peer learns by MP_PRIO (as on Linux).
        let first_backup = all
            .iter()
            .flatten()
            .any(|ep| ep.addr.ip == addrs.local && ep.flags & BACKUP != 0);
        if first_backup {
            inner.conn.set_subflow_backup(0, true);
        }
        let ours = all.iter().flatten().filter(|ep| ep.addr.ip != addrs.local);
        let mut n = 0;
        for (out, ep) in inner.pm.endpoints.iter_mut().zip(ours) {
            *out = *ep;
            n += 1;
        }
        inner.pm.n_endpoints = n;
        inner.pm.subflows = limits.subflows;
        // ndiffports is the client's way to open subflows; a server still
        // follows its endpoints (it may announce them).
        let mode = match ndiffports {
            Some(n) if inner.conn.role() == Role::Client => PmMode::NDiffPorts(n),
            _ => PmMode::Endpoints,
        };
        inner.conn.set_add_addr_timeout(net.add_addr_timeout_us());
        let mut pm = PathManager::new(limits, mode, peer);
        if inner.conn.peer_denies_join_to_initial() {
            pm.deny_join_to_initial();
        }
        pm.established(inner.pm.endpoints());
        inner.pm.pm = Some(pm);
        let early = core::mem::take(&mut inner.pm.early);
        for (id, addr) in early.into_iter().flatten() {
            inner.pm.peer_addr(id, addr);
        }
        inner.pm.collect();
    }

    /// Whether the connection is ending: our DATA_FIN was DATA_ACKed (all
    /// our data arrived), and the peer is done sending too or our
    /// application closed (nobody reads what it would send). No subflow
    /// opens, nor is tried again, then: it would carry nothing, and its
    /// join would reach a peer whose connection may be gone. (The reader at
    /// the end of the stream is not enough: an upload whose peer half-closed
    /// at once reads its end at the start, and then never opened a join.)
    fn finishing(inner: &Inner) -> bool {
        inner.conn.exchange_done() || (inner.linger_until.is_some() && inner.conn.data_fin_acked())
    }

    /// Carries out one decision of the path manager.
    fn pm_act(self: &Arc<Self>, action: PmAction) {
        match action {
            PmAction::OpenSubflow {
                local_id,
                local,
                remote_id,
                remote,
                backup,
            } => {
                {
                    let mut inner = self.lock();
                    if Self::finishing(&inner) {
                        // Not tried again either: the path manager forgets it.
                        if let Some(pm) = inner.pm.pm.as_mut() {
                            pm.subflow_closed(local_id, remote_id, false, ktime_us());
                        }
                        return;
                    }
                }
                if let Err(e) = self.open_subflow(local_id, local, remote_id, remote, backup) {
                    pr_debug!("mptcp_rs: no subflow to {:?}: {:?}\n", remote.ip, e);
                    let mut inner = self.lock();
                    let pm = &mut inner.pm;
                    let endpoints = &pm.endpoints[..pm.n_endpoints];
                    if let Some(core_pm) = pm.pm.as_mut() {
                        match e {
                            OpenFailure::Unreachable(_) => core_pm.subflow_unreachable(
                                local_id,
                                remote_id,
                                endpoints,
                                ktime_us(),
                            ),
                            OpenFailure::Other(_) => {
                                core_pm.subflow_closed(local_id, remote_id, true, ktime_us())
                            }
                        }
                    }
                    if pm.collect() {
                        drop(inner);
                        self.schedule(todo::PM);
                    }
                }
            }
            PmAction::Announce { id, addr } => {
                let ip = core::net::IpAddr::V4(core::net::Ipv4Addr::from(addr.ip));
                let port = (addr.port != 0).then_some(addr.port);
                if self.lock().conn.announce_addr(id, ip, port).is_ok() {
                    // The signal rides on a pure ACK.
                    self.send_ack_on(0);
                }
            }
            PmAction::Remove { id } => {
                if self.lock().conn.remove_addr(id).is_ok() {
                    self.send_ack_on(0);
                }
            }
            PmAction::CloseSubflows {
                local_id,
                remote_id,
            } => {
                let mut any = false;
                {
                    let mut inner = self.lock();
                    let inner = &mut *inner;
                    for (id, slot) in inner.subflows.iter_mut().enumerate() {
                        let Some(slot) = slot.as_mut() else { continue };
                        // The initial subflow is between both ends' ids 0;
                        // ours by the path manager's plan; the peer's joins
                        // by the address ids their MP_JOIN exchanged, where
                        // only our address is ours to close them by.
                        let (local, remote) = match slot.planned {
                            _ if id == 0 => (0, Some(0)),
                            Some((local, remote)) => (local, Some(remote)),
                            None => {
                                match inner.conn.subflow(id as SubflowId).and_then(|s| s.join()) {
                                    Some(join) => (join.local_id, None),
                                    None => continue,
                                }
                            }
                        };
                        let ours = local_id.is_some_and(|l| l == local);
                        if ours || remote_id.is_some_and(|r| Some(r) == remote) {
                            pr_debug!("mptcp_rs: closing subflow {}\n", id);
                            slot.reset = Some(0);
                            any = true;
                            if ours {
                                mib::inc(slot.sk.net(), Mib::RmSubflow);
                            }
                        }
                    }
                }
                if any {
                    self.reset_subflows();
                    self.reap_subflows();
                }
            }
        }
    }

    /// Whether the connection lives in namespace `net` (a path manager's
    /// command acts only there).
    fn lives_in(&self, net: &Net) -> bool {
        self.subflow_sock(0)
            .is_some_and(|first| first.net().as_raw() == net.as_raw())
    }

    /// The endpoints `ids` of the namespace `net` were deleted (`ip mptcp
    /// endpoint delete|flush`, `flushed` for the latter): if this
    /// connection lives there, its path manager forgets them, tells the
    /// peer (REMOVE_ADDR, see `PathManager::endpoint_removed`), and closes
    /// the subflows on those addresses.
    pub(crate) fn endpoints_removed(self: &Arc<Self>, net: &Net, ids: &[u8], flushed: bool) {
        if !self.lives_in(net) {
            return;
        }
        let mut inner = self.lock();
        let pm = &mut inner.pm;
        let mut n = pm.n_endpoints;
        for &id in ids {
            if let Some(i) = pm.endpoints[..n].iter().position(|ep| ep.id == id) {
                pm.endpoints.copy_within(i + 1..n, i);
                n -= 1;
            }
        }
        pm.n_endpoints = n;
        let Some(core_pm) = pm.pm.as_mut() else {
            return;
        };
        for &id in ids {
            core_pm.endpoint_removed(id, flushed);
        }
        if pm.collect() {
            drop(inner);
            self.schedule(todo::PM);
        }
    }

    /// The address `ip` of namespace `net` is to go as address id 0 (`ip
    /// mptcp endpoint delete id 0 ADDR`): if this connection lives there
    /// and its initial subflow went from `ip`, the peer hears that id 0 is
    /// gone (REMOVE_ADDR, on another subflow), and the subflows from that
    /// address close, the initial one included; the connection goes on
    /// over the others.
    pub(crate) fn initial_address_removed(self: &Arc<Self>, net: &Net, ip: [u8; 4]) {
        if !self.lives_in(net) {
            return;
        }
        if !self
            .subflow_sock(0)
            .is_some_and(|first| first.addrs4().local == ip)
        {
            return;
        }
        if self.lock().conn.remove_addr(0).is_err() {
            return;
        }
        // The signal rides on an ACK of a subflow that stays, if any.
        let others = self.subflow_socks(!subflow_bit(0));
        match others.iter().flatten().next() {
            Some(sk) => sk.lock().locked().send_ack(),
            None => self.send_ack_on(0),
        }
        self.pm_act(PmAction::CloseSubflows {
            local_id: Some(0),
            remote_id: None,
        });
    }

    /// The endpoint `ep` was added in namespace `net` (`ip mptcp endpoint
    /// add`): if this connection lives there and its path manager runs,
    /// it is used as if it had been there at establishment (announced,
    /// subflows opened from it), unless it is the initial subflow's own
    /// address.
    pub(crate) fn endpoint_added(self: &Arc<Self>, net: &Net, ep: &Endpoint) {
        if !self.lives_in(net) {
            return;
        }
        let Some(first) = self.subflow_sock(0) else {
            return;
        };
        if first.addrs4().local == ep.addr.ip {
            return;
        }
        let mut inner = self.lock();
        let pm = &mut inner.pm;
        if pm.pm.is_none() || pm.n_endpoints >= pm.endpoints.len() {
            return;
        }
        pm.endpoints[pm.n_endpoints] = *ep;
        pm.n_endpoints += 1;
        if let Some(core_pm) = pm.pm.as_mut() {
            core_pm.endpoint_added(ep);
        }
        if pm.collect() {
            drop(inner);
            self.schedule(todo::PM);
        }
    }

    /// The endpoint of our address `ip` in namespace `net` became a backup,
    /// or no longer (`ip mptcp endpoint change ... [no]backup`): if this
    /// connection lives there, each of its subflows from that address
    /// tells the peer (MP_PRIO, on a pure ACK of the subflow), and our
    /// scheduler follows at once.
    pub(crate) fn endpoint_backup(&self, net: &Net, ip: [u8; 4], backup: bool) {
        if !self.lives_in(net) {
            return;
        }
        let mut changed = 0u32;
        {
            let mut inner = self.lock();
            let Inner {
                conn, pm, subflows, ..
            } = &mut *inner;
            for (id, slot) in subflows.iter().enumerate() {
                let Some(slot) = slot else { continue };
                if slot.sk.addrs4().local != ip {
                    continue;
                }
                conn.set_subflow_backup(id as SubflowId, backup);
                changed |= subflow_bit(id as SubflowId);
            }
            // Subflows the path manager opens from it later join so too.
            for ep in pm.endpoints[..pm.n_endpoints].iter_mut() {
                if ep.addr.ip == ip {
                    ep.flags = if backup {
                        ep.flags | BACKUP
                    } else {
                        ep.flags & !BACKUP
                    };
                }
            }
        }
        for id in 0..MAX_SUBFLOWS as SubflowId {
            if changed & subflow_bit(id) != 0 {
                self.send_ack_on(id);
            }
        }
    }

    // --- joins from the peer (MP_JOIN, as responder) ---------------------

    /// A SYN with MP_JOIN (`syn`) came to our address `local`: the request
    /// to answer it with, unless the connection takes no more subflows
    /// (not MPTCP, its table full). The `subflows` limit is checked at the
    /// third ACK ([`Mpcb::join_child`]).
    pub(crate) fn join_synack(
        &self,
        net: &Net,
        syn: &JoinSyn,
        local: [u8; 4],
    ) -> Option<JoinRequest> {
        let initial = self.subflow_sock(0).map(|first| first.addrs4().local);
        let mut inner = self.lock();
        let (local_id, backup) = inner.local_addr(local, initial);
        let req = inner
            .conn
            .join_synack(syn, local_id, random_u64() as u32, backup)
            .ok();
        inner.conn.take_counts(|c, n| mib::add_core(net, c, n));
        req
    }

    /// The third ACK of the join `req` made `child` on `listener` (softirq,
    /// the child locked): if its HMAC is right and the limits allow, the
    /// child is a subflow of the connection from now on (its data moves in
    /// at once); it leaves the listener's accept queue for the connection
    /// in process context ([`Mpcb::adopt_joins`]). A refused child is reset
    /// there.
    pub(crate) fn join_child(
        self: &Arc<Self>,
        listener: &Sock,
        child: &TcpSock,
        req: &JoinRequest,
        options: &Received,
        iss: u32,
        irs: u32,
    ) {
        let joined = {
            let mut inner = self.lock();
            let limit = inner.pm.join_limit(listener.net());
            let joined = inner.conn.join_ack(req, options, iss, irs, limit);
            inner
                .conn
                .take_counts(|c, n| mib::add_core(listener.net(), c, n));
            joined
        };
        let id = joined.unwrap_or(REFUSED);
        if SubflowCtx::attach_detached(self, id, child, true, None).is_err() {
            // No memory: the child stays plain TCP, unknown to us.
            if id != REFUSED {
                self.lock().conn.remove_subflow(id);
            }
            return;
        }
        if id != REFUSED {
            self.set_subflow(id, child);
        }
        {
            let mut inner = self.lock();
            inner.join_listener = Some(listener.to_ref());
            inner.joins_queued += 1;
            inner.adopt_tries = ADOPT_TRIES;
        }
        // TCP queues the child once this returns: look a jiffy later.
        self.pending.fetch_or(todo::ADOPT, Ordering::AcqRel);
        self.arm_timer(jiffies().saturating_add(1));
    }

    /// Takes this connection's joined children off the listener's accept
    /// queue (the mpcb's own accept queue, in the seeds' words: they never
    /// reach the application's `accept`). Looks again a jiffy later while
    /// some are not queued yet.
    fn adopt_joins(self: &Arc<Self>) {
        let Some(listener) = self.lock().join_listener.clone() else {
            return;
        };
        let me: &Mpcb = self;
        let taken = take_children(&listener, |child| {
            SubflowCtx::of(child).is_some_and(|c| c.join && core::ptr::eq(&*c.mpcb, me))
        });
        for sock in taken {
            self.adopt_join(sock);
        }
        let again = {
            let mut inner = self.lock();
            inner.adopt_tries = inner.adopt_tries.saturating_sub(1);
            if inner.joins_queued == 0 || inner.adopt_tries == 0 {
                // (Children never found were dropped by their listener.)
                inner.join_listener = None;
                inner.joins_queued = 0;
                false
            } else {
                true
            }
        };
        if again {
            self.pending.fetch_or(todo::ADOPT, Ordering::AcqRel);
            self.arm_timer(jiffies().saturating_add(1));
        }
    }

    /// A joined child, off the accept queue with a socket of its own (by
    /// [`Mpcb::adopt_joins`], or by the application's `accept` if it came
    /// first): the connection owns it from now on. A refused one is reset.
    pub(crate) fn adopt_join(self: &Arc<Self>, sock: KernelSocket) {
        let ctx = SubflowCtx::of(sock.sk());
        let callbacks = Callbacks::<SubflowCtx>::adopt(sock.sk());
        {
            let mut inner = self.lock();
            inner.joins_queued = inner.joins_queued.saturating_sub(1);
        }
        let Some(ctx) = ctx else {
            return;
        };
        let owned = Owned { callbacks, sock };
        if ctx.id == REFUSED {
            if let Some(tcp) = TcpSock::from_sock(owned.sock.sk()) {
                tcp.abort(errno::econnreset());
            }
            owned.discard();
            return;
        }
        let id = ctx.id;
        let leftover = {
            let mut inner = self.lock();
            match inner.subflows.get_mut(id as usize).and_then(Option::as_mut) {
                Some(slot) if slot.owned.is_none() => {
                    slot.owned = Some(owned);
                    None
                }
                _ => Some(owned),
            }
        };
        if let Some(owned) = leftover {
            // Its slot went meanwhile (the connection was reset).
            owned.discard();
            return;
        }
        // What came before is moved, what waits is sent.
        if let Some(sk) = self.subflow_sock(id) {
            self.apply_congestion(&sk);
            let guard = sk.lock();
            let rcvbuf = self.rcvbuf();
            self.receive(id, guard.locked(), rcvbuf, true);
            self.push(id, guard.locked());
        }
    }

    /// Makes every subflow use congestion control `name` from now on, new
    /// ones too (`TCP_CONGESTION` on the application's socket; the caller
    /// set it on the initial subflow). Process context.
    pub(crate) fn set_congestion(&self, name: CaName) {
        self.lock().congestion = Some(name);
        for sk in self.subflow_socks(u32::MAX).iter().skip(1).flatten() {
            self.apply_congestion(sk);
        }
    }

    /// Makes subflow socket `sk` use the connection's congestion control,
    /// if it chose one: process context, not holding `sk`'s lock.
    fn apply_congestion(&self, sk: &TcpSock) {
        let Some(name) = self.lock().congestion else {
            return;
        };
        if let Err(e) = sk.set_congestion(&name) {
            // TCP's default stays (the algorithm's module was unloaded).
            pr_debug!("mptcp_rs: congestion control not set: {:?}\n", e);
        }
    }

    /// Sends an ACK on subflow `id` now (it carries what the core has to
    /// say: an address signal, the DATA_ACK).
    fn send_ack_on(&self, id: SubflowId) {
        if let Some(sk) = self.subflow_sock(id) {
            sk.lock().locked().send_ack();
        }
    }

    /// Opens an additional subflow (MP_JOIN) from our address `local`
    /// (`local_id`; routing picks it if `None`) to the peer's `remote`
    /// (`remote_id`; the initial subflow's port if it has none). The
    /// handshake goes on in softirq: the core writes the SYN's MP_JOIN,
    /// checks the SYN/ACK's HMAC and sends the third ACK's.
    fn open_subflow(
        self: &Arc<Self>,
        local_id: u8,
        local: Option<Addr>,
        remote_id: u8,
        remote: Addr,
        backup: bool,
    ) -> Result<(), OpenFailure> {
        let first = self.subflow_sock(0).ok_or_else(errno::enotconn)?;
        let port = match remote.port {
            0 => first.addrs4().remote_port,
            p => p,
        };
        let sock = KernelSocket::new_tcp(first.net()).inspect_err(|_| {
            mib::inc(first.net(), Mib::MPJoinSynTxCreatSkErr);
        })?;
        // A subflow from the address routing picks: that address, found
        // before the SYN, names it (its endpoint's id and backup flag, or id
        // 0 for the initial subflow's address), as Linux's path manager
        // does when it builds the SYN.
        let (wire_id, backup, source) = match local {
            Some(local) => (local_id, backup, Some(local.ip)),
            None => match first.net().route_source(remote.ip) {
                Some(src) => {
                    let (id, b) = self.lock().local_addr(src, Some(first.addrs4().local));
                    (id, b, Some(src))
                }
                None => (local_id, backup, None),
            },
        };
        if let Some(source) = source {
            sock.bind(&SockAddrIn::new(source, 0).as_sockaddr())
                .inspect_err(|_| mib::inc(first.net(), Mib::MPJoinSynTxBindErr))?;
        }
        let tcp = TcpSock::from_sock(sock.sk()).ok_or(EINVAL)?;
        self.apply_congestion(tcp);
        let id = {
            let mut inner = self.lock();
            let limit = inner.pm.subflows;
            inner
                .conn
                .open_join(wire_id, random_u64() as u32, backup, limit)
                .map_err(|_| EBUSY)?
        };
        AF_OPS.install(sock.sk());
        let callbacks = match SubflowCtx::attach(self, id, tcp) {
            Ok(c) => c,
            Err(e) => {
                self.forget_subflow(id);
                AF_OPS.uninstall(sock.sk());
                return Err(e.into());
            }
        };
        let owned = Owned {
            callbacks: Some(callbacks),
            sock,
        };
        let res = owned
            .sock
            .connect(&SockAddrIn::new(remote.ip, port).as_sockaddr(), O_NONBLOCK);
        match res {
            Ok(()) => {}
            Err(e) if e == errno::einprogress() => {}
            Err(e) => {
                mib::inc(first.net(), Mib::MPJoinSynTxConnectErr);
                self.forget_subflow(id);
                owned.discard();
                return Err(OpenFailure::Unreachable(e));
            }
        }
        let mut inner = self.lock();
        if let Some(slot) = inner.subflows.get_mut(id as usize).and_then(Option::as_mut) {
            slot.owned = Some(owned);
            slot.planned = Some((local_id, remote_id));
            return Ok(());
        }
        // Gone meanwhile (the connection was reset).
        drop(inner);
        owned.discard();
        Err(errno::econnreset().into())
    }

    /// Takes subflow `id` out of the connection and of the table (its
    /// socket is the caller's to release, outside the lock).
    fn forget_subflow(&self, id: SubflowId) -> Option<Slot> {
        let mut inner = self.lock();
        inner.conn.remove_subflow(id);
        self.coupling.forget(id);
        inner.subflows.get_mut(id as usize).and_then(Option::take)
    }

    /// Takes the additional subflows that TCP closed (a reset, a timeout,
    /// a failed connect) out of the connection: their unacknowledged data
    /// goes on the others, and the path manager tries their path again
    /// after a while.
    fn reap_subflows(self: &Arc<Self>) {
        let mut dead: [Option<Owned>; MAX_SUBFLOWS] = [const { None }; MAX_SUBFLOWS];
        let mut slots: [Option<Slot>; MAX_SUBFLOWS] = [const { None }; MAX_SUBFLOWS];
        let mut reinject_first = false;
        // What a closed subflow's TCP took in order goes to the connection
        // first, whatever the receive buffer: our DATA_ACKs on that subflow
        // covered it (see the core's `data_ack_for`), so the peer freed it
        // and will not send it again. (Once the application has closed its
        // socket nobody reads it: it stays where it is.)
        if self.lock().master.is_some() {
            for (id, sk) in self.subflow_socks(u32::MAX).iter().enumerate() {
                if let Some(sk) = sk.as_ref().filter(|sk| sk.state() == state::CLOSE) {
                    let guard = sk.lock();
                    self.receive(id as SubflowId, guard.locked(), u32::MAX, true);
                }
            }
        }
        {
            let mut inner = self.lock();
            let now = ktime_us();
            // The initial subflow's socket is the application's socket's
            // (or the orphaned connection's) to release: when it closes
            // while others carry data, only its data moves to them.
            let (first_closed, first_failed) =
                inner.subflows[0].as_ref().map_or((false, false), |s| {
                    (s.sk.state() == state::CLOSE, s.sk.error() != 0)
                });
            let first_carried = inner
                .conn
                .subflow(0)
                .is_some_and(|sf| sf.stage() != Stage::Closed);
            if first_closed && first_carried && inner.conn.has_other_subflow(0) {
                let moved = inner.conn.initial_subflow_closed(first_failed);
                pr_debug!("mptcp_rs: initial subflow closed, {} octets move\n", moved);
                reinject_first = true;
            }
            for id in 1..MAX_SUBFLOWS {
                let closed = inner.subflows[id]
                    .as_ref()
                    .is_some_and(|s| s.sk.state() == state::CLOSE);
                if !closed {
                    continue;
                }
                let Some(mut slot) = inner.subflows[id].take() else {
                    continue;
                };
                let refused = inner.conn.refused_for_good(id as SubflowId);
                inner.conn.remove_subflow(id as SubflowId);
                self.coupling.forget(id as SubflowId);
                // A subflow that failed (reset, timed out, refused: TCP
                // left an error on it) is tried again after a while. Not
                // one closed cleanly (a FIN each way: one end chose to end
                // it), nor one that ends with the connection, nor one that
                // fails after our application closed (as Linux opens no
                // subflow once its socket left ESTABLISHED): the usual
                // cause then is a peer that closed with data unread and
                // reset its subflows, and whose token is gone, so that
                // every join would be refused, with a backoff, until our
                // linger time ends. Nor one the peer refused for good
                // (MP_TCPRST without the T flag).
                let failed = slot.sk.error() != 0
                    && !refused
                    && !Self::finishing(&inner)
                    && inner.linger_until.is_none();
                if let (Some(pm), Some((local, remote))) = (inner.pm.pm.as_mut(), slot.planned) {
                    pm.subflow_closed(local, remote, failed, now);
                }
                dead[id] = slot.owned.take();
                slots[id] = Some(slot);
            }
            self.sync_timer(&mut inner);
        }
        drop(slots);
        let mut any = reinject_first;
        for owned in dead.into_iter().flatten() {
            owned.discard();
            any = true;
        }
        if any {
            // What they had in flight goes on the others.
            self.push_all();
            // The application's socket may depend on the initial subflow
            // alone now (see `first_decides`): it looks again.
            let wake = Wake {
                master: self.lock().master.clone(),
                state: true,
                ..Wake::default()
            };
            self.wake(wake);
        }
    }

    /// Hands again what waited for memory, moves what waits on the
    /// subflows, and sends the ACK a DATA_FIN without data is owed.
    fn retry(self: &Arc<Self>) {
        self.push_all();
        let rcvbuf = self.rcvbuf();
        for (id, sk) in self.subflow_socks(u32::MAX).iter().enumerate() {
            if let Some(sk) = sk {
                let guard = sk.lock();
                self.receive(id as SubflowId, guard.locked(), rcvbuf, true);
                guard.locked().send_ack();
            }
        }
    }

    /// The receive buffer the connection may fill: the master's.
    pub(crate) fn rcvbuf(&self) -> u32 {
        let master = self.lock().master.clone();
        master.map_or(u32::MAX, |m| {
            let own = m.buf_sizes().0.max(0) as u32;
            if m.buf_locks().0 {
                own
            } else {
                own.max(self.rcvbuf_tuned())
            }
        })
    }

    /// A connection whose application closed its socket ends once the peer
    /// has everything (our DATA_FIN DATA_ACKed) and sent everything (its
    /// DATA_FIN came), once MPTCP is over (reset, fallen back), or at the
    /// end of its linger time. Its subflows are then handed to TCP, with our
    /// hooks on (every segment still carries its option), and TCP closes
    /// them as it closes any socket (FIN, retransmissions, TIME_WAIT). At
    /// the end of the linger time with MPTCP's close unfinished, they are
    /// reset instead (as MP_FASTCLOSE would end them): a subflow handed to
    /// TCP with data the peer does not take (a zero window, a peer gone)
    /// would otherwise live on for many minutes of probes, holding the
    /// connection, its namespace and the module.
    fn finish_if_done(self: &Arc<Self>) {
        let (orphaned, mut slots, timed_out) = {
            let mut inner = self.lock();
            let Some(until) = inner.linger_until else {
                return;
            };
            let clean = match inner.conn.mode() {
                Mode::Mptcp => inner.conn.data_fin_acked() && inner.conn.at_eof(),
                // Fallen back: once TCP has every byte and its FIN.
                Mode::Fallback => inner.conn.all_sent(),
                _ => true,
            };
            let expired = ktime_us() >= until;
            if !(clean || expired) || inner.orphaned.is_none() {
                return;
            }
            let timed_out = !clean && inner.conn.mode() == Mode::Mptcp;
            inner.linger_until = None;
            let mut slots: [Option<Slot>; MAX_SUBFLOWS] = [const { None }; MAX_SUBFLOWS];
            for (out, slot) in slots.iter_mut().zip(inner.subflows.iter_mut()) {
                *out = slot.take();
            }
            (inner.orphaned.take(), slots, timed_out)
        };
        self.end();
        if timed_out {
            for slot in slots.iter().flatten() {
                slot.sk.abort(errno::econnreset());
            }
        }
        for slot in slots.iter_mut().flatten() {
            if let Some(owned) = slot.owned.take() {
                owned.finish();
            }
        }
        drop(slots);
        if let Some(o) = orphaned {
            if let Some(callbacks) = o.callbacks {
                callbacks.into_detached();
            }
            drop(o.sock);
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Mpcb {
    fn drop(self: Pin<&mut Self>) {
        // The token names the connection to MP_JOIN: free for others now.
        crate::keys::release_token(self.inner.lock().conn.local().token);
        LIVE.fetch_sub(1, Ordering::Relaxed);
        if self.over.load(Ordering::Relaxed) {
            LIVE_OVER.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

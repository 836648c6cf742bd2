// SPDX-License-Identifier: GPL-2.0

//! Packet schedulers: on which subflow(s) the next data goes.
//!
//! The kernel takes a cheap [`Subflow`] snapshot of each subflow of a
//! connection (a few fields of its `tcp_sock` and subflow context) and of
//! the connection ([`ConnSnapshot`]), and asks a [`Scheduler`] for a
//! [`Selection`]: a set of indices into the snapshot slice (a single one
//! for every scheduler but "redundant"). Nothing here allocates or keeps
//! pointers; the decisions are pure functions of the snapshots, plus one
//! index of state for round-robin.
//!
//! Schedulers are selected by name (a sysctl) with
//! [`AnyScheduler::from_name`]: "default", "roundrobin", "redundant",
//! "blest" ([`SCHEDULER_NAMES`]).
//!
//! # Which subflows may carry new data
//!
//! A subflow is *available* when it is established (for a subflow added
//! by MP_JOIN: the fourth ACK has been received) and not suspected to have
//! failed ([`SubflowState::Active`]). An available subflow *can send* now
//! when it has room in its congestion window (`in_flight < cwnd`), its TCP
//! send queue is not full, and the peer's window leaves room on it.
//!
//! Backup subflows (MP_JOIN or MP_PRIO with the B bit, RFC 8684 section
//! 3.3.8) are used only when no non-backup subflow is available at all,
//! as Linux's scheduler does: a non-backup subflow that is merely
//! out of congestion window keeps the backups idle (the data waits for
//! it). The *usable* set ([`usable`]) is the set of subflows that can send
//! now and that this rule allows.
//!
//! At most [`MAX_SUBFLOWS`] (64) subflows are considered: the rest of a
//! longer slice is ignored (Linux allows 8 per connection).
//!
//! # Algorithms
//!
//! - default ([`default_pick`]): the usable subflow with the lowest smoothed
//!   RTT (the first on ties);
//! - round-robin ([`RoundRobin`]): the next usable subflow after the last
//!   one chosen, cyclically;
//! - redundant ([`redundant_set`]): every usable subflow, each sends a copy;
//! - BLEST ([`blest_pick`]): lowest RTT first, but when the fastest
//!   available subflow is out of window, the slower one is used only if the
//!   data it holds would not block the fast one at the receiver (Ferlin et
//!   al., "BLEST: Blocking estimation-based MPTCP scheduler for
//!   heterogeneous networks", IFIP Networking 2016);
//! - opportunistic retransmission and penalisation
//!   ([`opportunistic_retransmit`]): when the connection-level window is
//!   exhausted, resend its head on a faster subflow and halve the window of
//!   the slow subflow that holds it (Raiciu et al., "How Hard Can It Be?
//!   Designing and Implementing a Deployable Multipath TCP", NSDI 2012,
//!   section 4.2).

use super::cc::wide_mul;

/// The largest number of subflows a [`Selection`] can name.
pub const MAX_SUBFLOWS: usize = 64;

/// The life-cycle state of a subflow, as far as scheduling cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubflowState {
    /// Established (MP_JOIN fully established) and not suspected to have
    /// failed: may carry data.
    Active,
    /// The handshake (or the MP_JOIN's fourth ACK) is not complete yet.
    Connecting,
    /// Potentially failed (RTO back-offs, "stale" in Linux): not used until
    /// it proves alive again.
    Failing,
    /// Closed or closing.
    Closed,
}

/// What a scheduler reads from a subflow: a cheap copy of a few fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subflow {
    /// The caller's identifier of the subflow (not used for decisions).
    pub id: u32,
    /// Life-cycle state.
    pub state: SubflowState,
    /// The backup flag (B bit of MP_JOIN or MP_PRIO, ours or the peer's).
    pub backup: bool,
    /// Smoothed RTT in microseconds (Linux's `srtt_us >> 3`); 0 before the
    /// first sample (sorts first, so that new subflows get probed).
    pub srtt_us: u32,
    /// Congestion window, in segments.
    pub cwnd: u32,
    /// Slow-start threshold, in segments (for penalisation).
    pub ssthresh: u32,
    /// Segments in flight (`tcp_packets_in_flight()`).
    pub in_flight: u32,
    /// MSS in bytes.
    pub mss: u32,
    /// Bytes the peer's window still allows on this subflow beyond what is
    /// sent (`tcp_wnd_end() - snd_nxt`, saturated at 0).
    pub wnd_space: u32,
    /// Whether the subflow's TCP send queue is full
    /// (`!sk_stream_memory_free()`).
    pub sndbuf_full: bool,
    /// When this subflow was last penalised ([`opportunistic_retransmit`]),
    /// in microseconds of the caller's monotonic clock.
    pub penalized_at_us: Option<u64>,
    /// Its TCP is not in the Open state: it saw duplicate ACKs or SACKs,
    /// or is recovering from a loss or a timeout (`icsk_ca_state`).
    pub recovering: bool,
}

impl Subflow {
    /// An active, non-backup subflow with the given id and nothing else
    /// known: zero RTT, window and MSS.
    pub const fn new(id: u32) -> Self {
        Subflow {
            id,
            state: SubflowState::Active,
            backup: false,
            srtt_us: 0,
            cwnd: 0,
            ssthresh: INFINITE_SSTHRESH,
            in_flight: 0,
            mss: 0,
            wnd_space: 0,
            sndbuf_full: false,
            penalized_at_us: None,
            recovering: false,
        }
    }

    /// Whether the subflow may carry data at all: established and not
    /// suspected to have failed.
    pub const fn is_available(&self) -> bool {
        matches!(self.state, SubflowState::Active)
    }

    /// Whether its congestion window has room for another segment.
    pub const fn has_cwnd_space(&self) -> bool {
        self.in_flight < self.cwnd
    }

    /// Whether it can send new data now: available, room in the congestion
    /// window, in the send queue and in the peer's window.
    pub const fn can_send(&self) -> bool {
        self.is_available() && self.has_cwnd_space() && !self.sndbuf_full && self.wnd_space > 0
    }

    /// Whether it can resend data already inside the peer's window (a
    /// reinjection): as [`can_send`](Self::can_send), but the peer's window
    /// need not have room beyond what is sent.
    pub const fn can_reinject(&self) -> bool {
        self.is_available() && self.has_cwnd_space() && !self.sndbuf_full
    }
}

/// Linux's `TCP_INFINITE_SSTHRESH`: a slow-start threshold never set by a
/// loss. [`opportunistic_retransmit`] leaves it as it is.
pub const INFINITE_SSTHRESH: u32 = 0x7fff_ffff;

/// A set of subflows, by their index in the snapshot slice (below
/// [`MAX_SUBFLOWS`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selection(u64);

impl Selection {
    /// No subflow.
    pub const EMPTY: Selection = Selection(0);

    /// The set given by a bitmask: bit `i` is subflow `i`.
    pub const fn from_bits(bits: u64) -> Self {
        Selection(bits)
    }

    /// The bitmask: bit `i` is subflow `i`.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// The set of one subflow; empty if `i >= MAX_SUBFLOWS`.
    pub const fn single(i: usize) -> Self {
        if i < MAX_SUBFLOWS {
            Selection(1 << i)
        } else {
            Selection(0)
        }
    }

    /// The set with `i` added (unchanged if `i >= MAX_SUBFLOWS`).
    #[must_use]
    pub const fn with(self, i: usize) -> Self {
        Selection(self.0 | Self::single(i).0)
    }

    /// Whether subflow `i` is in the set.
    pub const fn contains(self, i: usize) -> bool {
        i < MAX_SUBFLOWS && self.0 & (1 << i) != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The number of subflows in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The lowest index in the set.
    pub const fn first(self) -> Option<usize> {
        if self.0 == 0 {
            None
        } else {
            Some(self.0.trailing_zeros() as usize)
        }
    }

    /// The indices in the set, in increasing order.
    pub const fn iter(self) -> SelectionIter {
        SelectionIter(self.0)
    }
}

impl From<Option<usize>> for Selection {
    fn from(i: Option<usize>) -> Self {
        match i {
            Some(i) => Selection::single(i),
            None => Selection::EMPTY,
        }
    }
}

impl IntoIterator for Selection {
    type Item = usize;
    type IntoIter = SelectionIter;
    fn into_iter(self) -> SelectionIter {
        self.iter()
    }
}

/// The indices of a [`Selection`], in increasing order.
#[derive(Clone, Debug)]
pub struct SelectionIter(u64);

impl Iterator for SelectionIter {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(i)
    }
}

/// The snapshots considered: at most [`MAX_SUBFLOWS`].
fn considered(subflows: &[Subflow]) -> impl Iterator<Item = (usize, &Subflow)> {
    subflows.iter().take(MAX_SUBFLOWS).enumerate()
}

/// Whether the backup rule lets backup subflows be used: no non-backup
/// subflow is available.
pub fn backups_allowed(subflows: &[Subflow]) -> bool {
    !considered(subflows).any(|(_, s)| s.is_available() && !s.backup)
}

/// Whether the backup rule lets subflow `s` carry data, given
/// [`backups_allowed`].
const fn class_allowed(s: &Subflow, backups: bool) -> bool {
    !s.backup || backups
}

/// The usable set: subflows that [can send](Subflow::can_send) now and
/// that the backup rule allows (backups only when no non-backup subflow is
/// available).
pub fn usable(subflows: &[Subflow]) -> Selection {
    let backups = backups_allowed(subflows);
    considered(subflows)
        .filter(|(_, s)| s.can_send() && class_allowed(s, backups))
        .fold(Selection::EMPTY, |set, (i, _)| set.with(i))
}

/// The subflow of `set` with the lowest RTT, the lowest index on ties.
fn lowest_rtt(subflows: &[Subflow], set: Selection) -> Option<usize> {
    set.iter().filter(|&i| i < subflows.len()).min_by(|&a, &b| {
        subflows[a]
            .srtt_us
            .cmp(&subflows[b].srtt_us)
            .then(a.cmp(&b))
    })
}

/// The default scheduler: the usable subflow with the lowest smoothed RTT
/// (the first on ties); `None` when no subflow is usable.
pub fn default_pick(subflows: &[Subflow]) -> Option<usize> {
    lowest_rtt(subflows, usable(subflows))
}

/// Whether usable subflow `i` is as good a pick for the default scheduler
/// as [`default_pick`]'s: its RTT at most an eighth above the lowest. Lets
/// the subflow that asks for data take it, rather than hand it to another
/// of (nearly) the same RTT, whose RTT differs by noise.
pub fn near_lowest_rtt(subflows: &[Subflow], i: usize) -> bool {
    let set = usable(subflows);
    // (The usable set holds only indices of `subflows`.)
    if !set.contains(i) {
        return false;
    }
    let Some(best) = lowest_rtt(subflows, set) else {
        return false;
    };
    let lowest = u64::from(subflows[best].srtt_us);
    u64::from(subflows[i].srtt_us) <= lowest + lowest / 8
}

/// The redundant scheduler: every usable subflow.
pub fn redundant_set(subflows: &[Subflow]) -> Selection {
    usable(subflows)
}

/// Round-robin over the usable subflows. The state is the index of the
/// last subflow chosen; the next choice is the first usable one after it,
/// cyclically, so that every usable subflow is chosen within `n` calls if
/// the set of usable subflows does not change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundRobin {
    /// The index of the last subflow chosen.
    pub last: Option<usize>,
}

impl RoundRobin {
    /// A round-robin with no history: starts at index 0.
    pub const fn new() -> Self {
        RoundRobin { last: None }
    }

    /// Chooses the next usable subflow after the last one, and remembers
    /// it. `None` (and no change) when no subflow is usable.
    pub fn pick(&mut self, subflows: &[Subflow]) -> Option<usize> {
        let set = usable(subflows);
        let n = subflows.len().min(MAX_SUBFLOWS);
        if set.is_empty() || n == 0 {
            return None;
        }
        let start = self.last.map_or(0, |l| l.saturating_add(1) % n);
        let i = (0..n).map(|k| (start + k) % n).find(|&i| set.contains(i))?;
        self.last = Some(i);
        Some(i)
    }
}

/// Fractional bits of BLEST's `lambda`.
pub const LAMBDA_SHIFT: u32 = 10;
/// `lambda = 1.0`, BLEST's neutral scaling.
pub const LAMBDA_ONE: u32 = 1 << LAMBDA_SHIFT;

/// Whether sending on the slow subflow `slow` would block the fast one
/// `fast` at the receiver, per BLEST.
///
/// During one RTT of the slow subflow the fast one could send, in
/// congestion avoidance (its window growing by one segment per RTT),
///
/// ```text
///     X = MSS_f * (CWND_f + (rho - 1) / 2) * rho,    rho = RTT_s / RTT_f
/// ```
///
/// bytes. The slow subflow blocks if that, scaled by `lambda`, does not
/// fit in the connection-level send window `|M|` once the slow subflow's
/// data in flight and the segment to send are counted:
///
/// ```text
///     lambda * X > |M| - MSS_s * (inflight_s + 1)
/// ```
///
/// Multiplied through by `2 * RTT_f^2 * 2^LAMBDA_SHIFT`, the test is exact
/// in integers with no division:
/// `lambda * MSS_f * (2 CWND_f RTT_f + RTT_s - RTT_f) * RTT_s >
/// 2^(1 + LAMBDA_SHIFT) * avail * RTT_f^2`, the products in 256 bits.
/// RTTs of 0 count as 1 us; a "slow" subflow that is not slower counts as
/// `rho = 1`.
pub fn blest_would_block(fast: &Subflow, slow: &Subflow, send_window: u64, lambda: u32) -> bool {
    let rf = fast.srtt_us.max(1) as u128;
    let rs = (slow.srtt_us as u128).max(rf);
    let slow_bytes = (slow.mss as u64).saturating_mul(slow.in_flight as u64 + 1);
    let avail = send_window.saturating_sub(slow_bytes) as u128;
    // 2 CWND_f RTT_f + RTT_s - RTT_f < 2^66.
    let growth = 2 * fast.cwnd as u128 * rf + (rs - rf);
    let lhs = wide_mul(fast.mss as u128 * lambda as u128, growth * rs);
    let rhs = wide_mul((avail * 2) << LAMBDA_SHIFT, rf * rf);
    lhs > rhs
}

/// BLEST: the lowest-RTT usable subflow, except that when the fastest
/// available subflow (of the class the backup rule allows) cannot send, a
/// slower one is chosen only if it would not block the fast one
/// ([`blest_would_block`]); otherwise `None`: wait for the fast subflow.
///
/// `send_window` is the connection-level send window `|M|` in bytes (what
/// the peer allows beyond the DATA_ACK); `lambda` BLEST's scaling factor
/// with [`LAMBDA_SHIFT`] fractional bits (the paper adapts it at run time;
/// larger is more cautious).
pub fn blest_pick(subflows: &[Subflow], send_window: u64, lambda: u32) -> Option<usize> {
    let backups = backups_allowed(subflows);
    let available = considered(subflows)
        .filter(|(_, s)| s.is_available() && class_allowed(s, backups))
        .fold(Selection::EMPTY, |set, (i, _)| set.with(i));
    let fastest = lowest_rtt(subflows, available)?;
    let set = usable(subflows);
    if set.contains(fastest) {
        return Some(fastest);
    }
    let slow = lowest_rtt(subflows, set)?;
    if blest_would_block(&subflows[fastest], &subflows[slow], send_window, lambda) {
        None
    } else {
        Some(slow)
    }
}

/// What the scheduler knows of the connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnSnapshot {
    /// The caller's monotonic clock, in microseconds.
    pub now_us: u64,
    /// The connection-level send window in bytes: how far beyond `snd_una`
    /// (the DATA_ACK) the peer allows data (`wnd_end - snd_una`).
    pub send_window: u64,
    /// Whether that window is exhausted: everything up to its end is sent
    /// and no new data may go out.
    pub window_exhausted: bool,
    /// The oldest unacknowledged data sequence number, the head of the
    /// window.
    pub snd_una: u64,
    /// The index of the subflow that carries `snd_una` (the one it was
    /// originally sent on), if known.
    pub una_subflow: Option<usize>,
    /// The subflows on which the data at `snd_una` has been sent so far
    /// (the original and any reinjections).
    pub una_sent_on: Selection,
}

/// Resend the data at `dsn` on `subflow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reinject {
    /// Index of the subflow to resend on.
    pub subflow: usize,
    /// The data sequence number to resend (`snd_una`).
    pub dsn: u64,
}

/// Reduce the windows of `subflow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Penalty {
    /// Index of the subflow to penalise.
    pub subflow: usize,
    /// Its new congestion window.
    pub cwnd: u32,
    /// Its new slow-start threshold.
    pub ssthresh: u32,
}

/// The outcome of [`opportunistic_retransmit`]: at least one of the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opportunistic {
    /// The head of the window to resend on a faster subflow.
    pub reinject: Option<Reinject>,
    /// The slow subflow that holds it, to penalise.
    pub penalize: Option<Penalty>,
}

/// Opportunistic retransmission and penalisation (NSDI 2012, section 4.2).
///
/// When the connection is limited by the peer's receive window
/// (`window_exhausted`) while a subflow faster than the one holding the
/// head of the window (`una_subflow`) could send (room in its congestion
/// window and send queue; the backup rule applies), the segment at
/// `snd_una` is resent on the fastest such subflow, unless it was already
/// sent there (`una_sent_on`), and the slow subflow is penalised
/// ([`penalty_window`]), at most once per its RTT (`penalized_at_us`) and
/// only if it is not closed.
///
/// A subflow recovering from a loss is not penalised, as in the seeds'
/// kernel: TCP has just reduced its window for that loss, which is also
/// why it holds the head; halving it again, once per RTT of a recovery
/// that lasts several, drove a subflow sharing a bottleneck with its
/// siblings down to a window of 2 or 3 segments, where every loss is a
/// timeout.
///
/// `None` when there is nothing to do.
pub fn opportunistic_retransmit(
    subflows: &[Subflow],
    conn: &ConnSnapshot,
) -> Option<Opportunistic> {
    if !conn.window_exhausted {
        return None;
    }
    let h = conn
        .una_subflow
        .filter(|&h| h < subflows.len().min(MAX_SUBFLOWS))?;
    let holder = &subflows[h];
    let backups = backups_allowed(subflows);
    let fast = considered(subflows)
        .filter(|&(i, s)| {
            i != h && s.can_reinject() && class_allowed(s, backups) && s.srtt_us < holder.srtt_us
        })
        .min_by(|(a, sa), (b, sb)| sa.srtt_us.cmp(&sb.srtt_us).then(a.cmp(b)))
        .map(|(i, _)| i)?;
    let reinject = (!conn.una_sent_on.contains(fast)).then_some(Reinject {
        subflow: fast,
        dsn: conn.snd_una,
    });
    let rtt_elapsed = holder.penalized_at_us.map_or(true, |t| {
        conn.now_us.saturating_sub(t) >= holder.srtt_us as u64
    });
    let penalize = (holder.state != SubflowState::Closed && rtt_elapsed)
        .then(|| penalty_window(holder.cwnd, holder.ssthresh, holder.recovering))
        .flatten()
        .map(|(cwnd, ssthresh)| Penalty {
            subflow: h,
            cwnd,
            ssthresh,
        });
    if reinject.is_none() && penalize.is_none() {
        return None;
    }
    Some(Opportunistic { reinject, penalize })
}

/// The window and slow-start threshold (segments) of a penalised subflow
/// whose TCP has `cwnd` and `ssthresh` now: the window halved (to at least
/// 1 segment), and the threshold too (to at least 2) unless the subflow is
/// in slow start, as the seeds' kernel did. `None` if there is nothing to
/// halve (a window of 1) or the subflow is `recovering` from a loss.
///
/// The caller applies it under the subflow's lock, to the values TCP has
/// then: the decision was taken on a sample.
pub const fn penalty_window(cwnd: u32, ssthresh: u32, recovering: bool) -> Option<(u32, u32)> {
    if recovering || cwnd <= 1 {
        return None;
    }
    let ssthresh = if cwnd < ssthresh || ssthresh >= INFINITE_SSTHRESH {
        ssthresh
    } else {
        let half = ssthresh / 2;
        if half < 2 {
            2
        } else {
            half
        }
    };
    Some((cwnd / 2, ssthresh))
}

/// The names of the schedulers, as the sysctl accepts them.
pub const SCHEDULER_NAMES: [&str; 4] = ["default", "roundrobin", "redundant", "blest"];

/// A packet scheduler, selected by name.
pub trait Scheduler {
    /// The name the sysctl selects it by (one of [`SCHEDULER_NAMES`]).
    fn name(&self) -> &'static str;

    /// The subflows on which to send the next data: one for all but the
    /// redundant scheduler, empty when the data must wait.
    fn select(&mut self, subflows: &[Subflow], conn: &ConnSnapshot) -> Selection;
}

/// The default scheduler (lowest RTT first), see [`default_pick`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefaultScheduler;

impl Scheduler for DefaultScheduler {
    fn name(&self) -> &'static str {
        "default"
    }
    fn select(&mut self, subflows: &[Subflow], _conn: &ConnSnapshot) -> Selection {
        default_pick(subflows).into()
    }
}

impl Scheduler for RoundRobin {
    fn name(&self) -> &'static str {
        "roundrobin"
    }
    fn select(&mut self, subflows: &[Subflow], _conn: &ConnSnapshot) -> Selection {
        self.pick(subflows).into()
    }
}

/// The redundant scheduler, see [`redundant_set`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Redundant;

impl Scheduler for Redundant {
    fn name(&self) -> &'static str {
        "redundant"
    }
    fn select(&mut self, subflows: &[Subflow], _conn: &ConnSnapshot) -> Selection {
        redundant_set(subflows)
    }
}

/// The BLEST scheduler, see [`blest_pick`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blest {
    /// The scaling factor `lambda`, [`LAMBDA_SHIFT`] fractional bits.
    pub lambda: u32,
}

impl Default for Blest {
    fn default() -> Self {
        Blest { lambda: LAMBDA_ONE }
    }
}

impl Scheduler for Blest {
    fn name(&self) -> &'static str {
        "blest"
    }
    fn select(&mut self, subflows: &[Subflow], conn: &ConnSnapshot) -> Selection {
        blest_pick(subflows, conn.send_window, self.lambda).into()
    }
}

/// Any of the schedulers, with its state: what a connection stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnyScheduler {
    /// "default".
    Default(DefaultScheduler),
    /// "roundrobin".
    RoundRobin(RoundRobin),
    /// "redundant".
    Redundant(Redundant),
    /// "blest".
    Blest(Blest),
}

impl Default for AnyScheduler {
    fn default() -> Self {
        AnyScheduler::Default(DefaultScheduler)
    }
}

impl AnyScheduler {
    /// The scheduler called `name` (exactly one of [`SCHEDULER_NAMES`]),
    /// in its initial state.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"default" => AnyScheduler::Default(DefaultScheduler),
            b"roundrobin" => AnyScheduler::RoundRobin(RoundRobin::new()),
            b"redundant" => AnyScheduler::Redundant(Redundant),
            b"blest" => AnyScheduler::Blest(Blest::default()),
            _ => return None,
        })
    }

    fn inner(&mut self) -> &mut dyn Scheduler {
        match self {
            AnyScheduler::Default(s) => s,
            AnyScheduler::RoundRobin(s) => s,
            AnyScheduler::Redundant(s) => s,
            AnyScheduler::Blest(s) => s,
        }
    }
}

impl Scheduler for AnyScheduler {
    fn name(&self) -> &'static str {
        match self {
            AnyScheduler::Default(s) => s.name(),
            AnyScheduler::RoundRobin(s) => s.name(),
            AnyScheduler::Redundant(s) => s.name(),
            AnyScheduler::Blest(s) => s.name(),
        }
    }
    fn select(&mut self, subflows: &[Subflow], conn: &ConnSnapshot) -> Selection {
        self.inner().select(subflows, conn)
    }
}

/// Hand vectors, run on the host and as KUnit cases.
#[cfg(any(test, CONFIG_KUNIT))]
pub fn selftest(c: &mut dyn super::check::Check) {
    // An active subflow with room: MSS 1000, a 64 KB window.
    let sf = |id: u32, srtt_us: u32, cwnd: u32, in_flight: u32| Subflow {
        srtt_us,
        cwnd,
        in_flight,
        mss: 1000,
        wnd_space: 65_535,
        ..Subflow::new(id)
    };
    let state = |s: Subflow, state: SubflowState| Subflow { state, ..s };
    let backup = |s: Subflow| Subflow { backup: true, ..s };
    let ms = 1000;

    // Default: lowest RTT; the first on ties; a full window skips a subflow.
    check_eq!(
        c,
        default_pick(&[sf(0, 30 * ms, 10, 0), sf(1, 10 * ms, 10, 0)]),
        Some(1)
    );
    check_eq!(
        c,
        default_pick(&[sf(0, 10 * ms, 10, 0), sf(1, 10 * ms, 10, 0)]),
        Some(0)
    );
    check_eq!(
        c,
        default_pick(&[sf(0, 10 * ms, 10, 10), sf(1, 30 * ms, 10, 0)]),
        Some(1)
    );
    // No subflow, or none usable: None.
    check_eq!(c, default_pick(&[]), None);
    check_eq!(
        c,
        default_pick(&[sf(0, 10 * ms, 10, 10), sf(1, 30 * ms, 4, 5)]),
        None
    );
    let full = Subflow {
        sndbuf_full: true,
        ..sf(0, 10 * ms, 10, 0)
    };
    let no_wnd = Subflow {
        wnd_space: 0,
        ..sf(1, 10 * ms, 10, 0)
    };
    check_eq!(c, default_pick(&[full, no_wnd]), None);
    // Subflows not yet established, failing or closed are ignored.
    let fast = sf(0, 5 * ms, 10, 0);
    let slow = sf(1, 50 * ms, 10, 0);
    for st in [
        SubflowState::Connecting,
        SubflowState::Failing,
        SubflowState::Closed,
    ] {
        check_eq!(c, default_pick(&[state(fast, st), slow]), Some(1));
        check_eq!(c, default_pick(&[state(fast, st)]), None);
    }
    // Backups: not used while a non-backup subflow is available, even out
    // of window; used when all are backups, or the others have failed.
    check_eq!(c, default_pick(&[backup(fast), slow]), Some(1));
    check_eq!(
        c,
        default_pick(&[backup(fast), sf(1, 50 * ms, 10, 10)]),
        None
    );
    check_eq!(c, default_pick(&[backup(slow), backup(fast)]), Some(1));
    check_eq!(
        c,
        default_pick(&[backup(fast), state(slow, SubflowState::Failing)]),
        Some(0)
    );
    check_eq!(
        c,
        default_pick(&[backup(fast), state(slow, SubflowState::Connecting)]),
        Some(0)
    );
    check!(
        c,
        backups_allowed(&[backup(fast), state(slow, SubflowState::Closed)])
    );
    check!(c, !backups_allowed(&[backup(fast), slow]));

    // Redundant: all usable subflows, under the same backup rule.
    let three = [
        sf(0, 10 * ms, 10, 0),
        sf(1, 20 * ms, 10, 10),
        sf(2, 30 * ms, 10, 0),
        backup(sf(3, 1, 10, 0)),
    ];
    check_eq!(c, redundant_set(&three), Selection::from_bits(0b0101));
    check_eq!(
        c,
        redundant_set(&[backup(fast), backup(slow)]),
        Selection::from_bits(0b11)
    );
    check_eq!(c, redundant_set(&[]), Selection::EMPTY);

    // Round-robin: cycles through the usable ones, skipping the rest.
    let mut rr = RoundRobin::new();
    let picks = [rr.pick(&three), rr.pick(&three), rr.pick(&three)];
    check_eq!(c, picks, [Some(0), Some(2), Some(0)]);
    let all = [
        sf(0, 10 * ms, 10, 0),
        sf(1, 20 * ms, 10, 0),
        sf(2, 30 * ms, 10, 0),
    ];
    let picks = [rr.pick(&all), rr.pick(&all), rr.pick(&all), rr.pick(&all)];
    check_eq!(c, picks, [Some(1), Some(2), Some(0), Some(1)]);
    check_eq!(c, rr.pick(&[]), None);
    check_eq!(c, rr.last, Some(1));
    // A shorter slice than the last index: starts over, no panic.
    check_eq!(c, rr.pick(&all[..1]), Some(0));

    // BLEST. Fast: 10 ms, 10 segments, window full. Slow: 100 ms, nothing
    // in flight. rho = 10: during one slow RTT the fast subflow could send
    // X = 1000 * (10 + 9/2) * 10 = 145000 bytes.
    let f = sf(0, 10 * ms, 10, 10);
    let s = sf(1, 100 * ms, 10, 0);
    // |M| = 200000: 145000 <= 200000 - 1000: the slow subflow may send.
    check_eq!(c, blest_pick(&[f, s], 200_000, LAMBDA_ONE), Some(1));
    // |M| = 100000: it would block the fast one: wait.
    check_eq!(c, blest_pick(&[f, s], 100_000, LAMBDA_ONE), None);
    // lambda = 1.5: 217500 > 199000: wait.
    check_eq!(c, blest_pick(&[f, s], 200_000, LAMBDA_ONE * 3 / 2), None);
    // The boundary: X = 145000 exactly fits |M| = 146000 with one segment.
    check!(c, !blest_would_block(&f, &s, 146_000, LAMBDA_ONE));
    check!(c, blest_would_block(&f, &s, 145_999, LAMBDA_ONE));
    // The slow subflow's data in flight counts against the window.
    check!(
        c,
        blest_would_block(&f, &sf(1, 100 * ms, 10, 1), 146_000, LAMBDA_ONE)
    );
    // When the fast subflow can send, BLEST is the default.
    check_eq!(
        c,
        blest_pick(&[sf(0, 10 * ms, 10, 0), s], 0, LAMBDA_ONE),
        Some(0)
    );
    check_eq!(c, blest_pick(&[], 0, LAMBDA_ONE), None);

    // Opportunistic retransmission and penalisation: the connection is
    // window-limited, its head is on slow subflow 1, fast subflow 0 has room.
    let fast = sf(0, 10 * ms, 10, 2);
    let holder = Subflow {
        ssthresh: 16,
        ..sf(1, 100 * ms, 20, 20)
    };
    let conn = ConnSnapshot {
        now_us: 1_000_000,
        send_window: 64_000,
        window_exhausted: true,
        snd_una: 0x1234_5678_9abc,
        una_subflow: Some(1),
        una_sent_on: Selection::single(1),
    };
    let both = Opportunistic {
        reinject: Some(Reinject {
            subflow: 0,
            dsn: 0x1234_5678_9abc,
        }),
        penalize: Some(Penalty {
            subflow: 1,
            cwnd: 10,
            ssthresh: 8,
        }),
    };
    check_eq!(
        c,
        opportunistic_retransmit(&[fast, holder], &conn),
        Some(both)
    );
    // Penalised 50 ms ago, less than its RTT: reinject only.
    let recent = Subflow {
        penalized_at_us: Some(950_000),
        ..holder
    };
    let only = Opportunistic {
        penalize: None,
        ..both
    };
    check_eq!(
        c,
        opportunistic_retransmit(&[fast, recent], &conn),
        Some(only)
    );
    // ... 100 ms ago: penalised again.
    let old = Subflow {
        penalized_at_us: Some(900_000),
        ..holder
    };
    check_eq!(c, opportunistic_retransmit(&[fast, old], &conn), Some(both));
    // Already resent on the fast subflow, and recently penalised: nothing.
    let sent = ConnSnapshot {
        una_sent_on: Selection::from_bits(0b11),
        ..conn
    };
    check_eq!(c, opportunistic_retransmit(&[fast, recent], &sent), None);
    // Not window-limited, or the fast subflow out of window: nothing.
    let open = ConnSnapshot {
        window_exhausted: false,
        ..conn
    };
    check_eq!(c, opportunistic_retransmit(&[fast, holder], &open), None);
    check_eq!(
        c,
        opportunistic_retransmit(&[sf(0, 10 * ms, 10, 10), holder], &conn),
        None
    );
    // The head on the fastest subflow: nothing faster to resend it on.
    let on_fast = ConnSnapshot {
        una_subflow: Some(0),
        ..conn
    };
    check_eq!(c, opportunistic_retransmit(&[fast, holder], &on_fast), None);
    check_eq!(
        c,
        opportunistic_retransmit(
            &[fast, holder],
            &ConnSnapshot {
                una_subflow: Some(7),
                ..conn
            }
        ),
        None
    );
    // An infinite ssthresh stays; a window of 1 is not halved.
    let ss = Subflow {
        ssthresh: INFINITE_SSTHRESH,
        cwnd: 3,
        ..holder
    };
    let got = opportunistic_retransmit(&[fast, ss], &conn).and_then(|o| o.penalize);
    check_eq!(
        c,
        got,
        Some(Penalty {
            subflow: 1,
            cwnd: 1,
            ssthresh: INFINITE_SSTHRESH
        })
    );
    let tiny = Subflow { cwnd: 1, ..holder };
    check_eq!(
        c,
        opportunistic_retransmit(&[fast, tiny], &conn).and_then(|o| o.penalize),
        None
    );
    // Recovering from a loss: the head is resent, the window left to TCP.
    let recovering = Subflow {
        recovering: true,
        ..holder
    };
    check_eq!(
        c,
        opportunistic_retransmit(&[fast, recovering], &conn),
        Some(only)
    );
    // In slow start (window below the threshold): the threshold stays.
    let slow_start = Subflow { cwnd: 12, ..holder };
    check_eq!(
        c,
        opportunistic_retransmit(&[fast, slow_start], &conn).and_then(|o| o.penalize),
        Some(Penalty {
            subflow: 1,
            cwnd: 6,
            ssthresh: 16
        })
    );
    check_eq!(c, penalty_window(20, 16, false), Some((10, 8)));
    check_eq!(c, penalty_window(20, 3, false), Some((10, 2)));
    check_eq!(c, penalty_window(20, 16, true), None);
    check_eq!(c, penalty_window(1, 16, false), None);
    // A backup is not used to resend while a non-backup subflow is available.
    check_eq!(
        c,
        opportunistic_retransmit(&[backup(fast), holder], &conn),
        None
    );

    // Selection by name, and the trait.
    for name in SCHEDULER_NAMES {
        let s = AnyScheduler::from_name(name.as_bytes());
        check_eq!(c, s.map(|s| s.name()), Some(name));
    }
    check!(c, AnyScheduler::from_name(b"bogus").is_none());
    check!(c, AnyScheduler::from_name(b"default\n").is_none());
    check_eq!(c, AnyScheduler::default().name(), "default");
    let conn = ConnSnapshot {
        send_window: 200_000,
        ..ConnSnapshot::default()
    };
    let mut s = AnyScheduler::from_name(b"redundant").unwrap_or_default();
    check_eq!(c, s.select(&three, &conn), Selection::from_bits(0b0101));
    let mut s = AnyScheduler::from_name(b"roundrobin").unwrap_or_default();
    check_eq!(c, s.select(&three, &conn), Selection::single(0));
    check_eq!(c, s.select(&three, &conn), Selection::single(2));
    let mut s = AnyScheduler::from_name(b"blest").unwrap_or_default();
    check_eq!(
        c,
        s.select(&[f, sf(1, 100 * ms, 10, 0)], &conn),
        Selection::single(1)
    );
    let mut s = AnyScheduler::from_name(b"default").unwrap_or_default();
    check_eq!(c, s.select(&three, &conn), Selection::single(0));

    // Selection.
    let set = Selection::single(3).with(0).with(63).with(64);
    check_eq!(c, set.bits(), (1 << 63) | 0b1001);
    check_eq!(c, set.len(), 3);
    check_eq!(c, set.first(), Some(0));
    check!(c, set.contains(63) && !set.contains(64) && !set.contains(1));
    let mut it = set.iter();
    check_eq!(
        c,
        (it.next(), it.next(), it.next(), it.next()),
        (Some(0), Some(3), Some(63), None)
    );
    check_eq!(c, Selection::from(None), Selection::EMPTY);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn vectors() {
        selftest(&mut crate::check::PanicCheck);
    }

    #[test]
    fn more_than_64_subflows_are_ignored() {
        let mut v = std::vec![Subflow { cwnd: 0, ..Subflow::new(0) }; 70];
        v[65] = Subflow {
            srtt_us: 1,
            cwnd: 10,
            mss: 1000,
            wnd_space: 1,
            ..Subflow::new(65)
        };
        assert_eq!(default_pick(&v), None);
        assert_eq!(redundant_set(&v), Selection::EMPTY);
        assert_eq!(RoundRobin::new().pick(&v), None);
        v[63] = v[65];
        assert_eq!(default_pick(&v), Some(63));
    }

    #[test]
    fn near_lowest_rtt_is_within_an_eighth_of_the_lowest_among_the_usable() {
        let sf = |id, srtt_us| Subflow {
            srtt_us,
            cwnd: 10,
            mss: 1000,
            wnd_space: 1,
            ..Subflow::new(id)
        };
        let mut v = std::vec![sf(0, 8_000), sf(1, 9_000), sf(2, 9_001), sf(3, 7_000)];
        // The fastest (3) cannot send: 0 is the lowest usable.
        v[3].in_flight = 10;
        assert_eq!(default_pick(&v), Some(0));
        assert!(near_lowest_rtt(&v, 0));
        // 9000 = 8000 + 8000 / 8; 9001 is above.
        assert!(near_lowest_rtt(&v, 1));
        assert!(!near_lowest_rtt(&v, 2));
        // Not usable; no such subflow.
        assert!(!near_lowest_rtt(&v, 3));
        assert!(!near_lowest_rtt(&v, 4));
        // A backup is not usable while a non-backup is.
        v[1].backup = true;
        assert!(!near_lowest_rtt(&v, 1));
    }

    // ---- Naive references ----

    fn ref_usable(v: &[Subflow], i: usize) -> bool {
        let s = &v[i];
        let active = |s: &Subflow| s.state == SubflowState::Active;
        let any_non_backup = v.iter().take(64).any(|s| active(s) && !s.backup);
        i < 64
            && active(s)
            && s.in_flight < s.cwnd
            && !s.sndbuf_full
            && s.wnd_space > 0
            && (!s.backup || !any_non_backup)
    }

    fn any_active_non_backup(v: &[Subflow]) -> bool {
        v.iter()
            .any(|s| s.state == SubflowState::Active && !s.backup)
    }

    fn ref_set(v: &[Subflow]) -> Vec<usize> {
        (0..v.len()).filter(|&i| ref_usable(v, i)).collect()
    }

    // ---- Strategies: small ranges, so that ties and edge cases are common ----

    fn subflow() -> impl Strategy<Value = Subflow> {
        let state = prop_oneof![
            4 => Just(SubflowState::Active),
            1 => Just(SubflowState::Connecting),
            1 => Just(SubflowState::Failing),
            1 => Just(SubflowState::Closed),
        ];
        (
            (
                any::<u32>(),
                state,
                prop::bool::weighted(0.3),
                0u32..5,
                0u32..5,
                0u32..5,
            ),
            (
                prop_oneof![Just(INFINITE_SSTHRESH), 0u32..40],
                1u32..9000,
                prop_oneof![Just(0u32), 1u32..100_000],
            ),
            (
                prop::bool::weighted(0.1),
                prop::option::of(0u64..2_000_000),
                prop::bool::weighted(0.3),
            ),
        )
            .prop_map(
                |(
                    (id, state, backup, rtt, cwnd, in_flight),
                    (ssthresh, mss, wnd_space),
                    (sndbuf_full, pen, recovering),
                )| {
                    Subflow {
                        id,
                        state,
                        backup,
                        srtt_us: rtt * 10_000,
                        cwnd,
                        ssthresh,
                        in_flight,
                        mss,
                        wnd_space,
                        sndbuf_full,
                        penalized_at_us: pen,
                        recovering,
                    }
                },
            )
    }

    fn subflows() -> impl Strategy<Value = Vec<Subflow>> {
        proptest::collection::vec(subflow(), 0..=10)
    }

    /// Any values at all, for robustness.
    fn wild_subflow() -> impl Strategy<Value = Subflow> {
        (subflow(), any::<[u32; 6]>(), any::<u64>()).prop_map(|(s, x, p)| Subflow {
            srtt_us: x[0],
            cwnd: x[1],
            ssthresh: x[2],
            in_flight: x[3],
            mss: x[4],
            wnd_space: x[5],
            penalized_at_us: s.penalized_at_us.map(|_| p),
            ..s
        })
    }

    fn conn(n: usize) -> impl Strategy<Value = ConnSnapshot> {
        (
            any::<u64>(),
            0u64..1_000_000,
            any::<bool>(),
            any::<u64>(),
            0..n + 2,
            any::<u16>(),
            0u64..3_000_000,
        )
            .prop_map(move |(now, wnd, exhausted, una, holder, sent, now_small)| {
                ConnSnapshot {
                    now_us: if now % 2 == 0 { now } else { now_small },
                    send_window: wnd,
                    window_exhausted: exhausted || wnd % 3 != 0,
                    snd_una: una,
                    una_subflow: (holder < n + 1).then_some(holder),
                    una_sent_on: Selection::from_bits(sent as u64),
                }
            })
    }

    fn subflows_and_conn() -> impl Strategy<Value = (Vec<Subflow>, ConnSnapshot)> {
        subflows().prop_flat_map(|v| {
            let n = v.len();
            (Just(v), conn(n))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn usable_and_redundant_are_the_usable_set(v in subflows()) {
            let want = ref_set(&v);
            let got: Vec<usize> = usable(&v).iter().collect();
            prop_assert_eq!(&got, &want);
            let red: Vec<usize> = redundant_set(&v).iter().collect();
            prop_assert_eq!(red, want);
        }

        #[test]
        fn default_picks_a_usable_lowest_rtt(v in subflows()) {
            match default_pick(&v) {
                None => prop_assert!(ref_set(&v).is_empty()),
                Some(i) => {
                    prop_assert!(ref_usable(&v, i));
                    for j in ref_set(&v) {
                        // The lowest RTT, the first on ties.
                        let (a, b) = (v[i].srtt_us, v[j].srtt_us);
                        prop_assert!(a < b || (a == b && i <= j));
                    }
                    if v[i].backup {
                        prop_assert!(!any_active_non_backup(&v));
                    }
                }
            }
        }

        #[test]
        fn round_robin_visits_every_usable_subflow(
            v in subflows(),
            last in prop::option::of(0usize..12),
        ) {
            let mut rr = RoundRobin { last };
            let want = ref_set(&v);
            let mut seen = Vec::new();
            for _ in 0..v.len().max(1) {
                match rr.pick(&v) {
                    None => prop_assert!(want.is_empty()),
                    Some(i) => {
                        prop_assert!(ref_usable(&v, i));
                        if v[i].backup {
                            prop_assert!(!any_active_non_backup(&v));
                        }
                        seen.push(i);
                    }
                }
            }
            seen.sort_unstable();
            seen.dedup();
            prop_assert_eq!(seen, want);
        }

        #[test]
        fn blest_is_default_or_waits(
            v in subflows(),
            wnd in 0u64..1_000_000,
            lambda in 0u32..4 * LAMBDA_ONE,
        ) {
            let d = default_pick(&v);
            let b = blest_pick(&v, wnd, lambda);
            prop_assert!(b.is_none() || b == d);
            // lambda = 0 never blocks; more caution (lambda) or less window
            // never unblocks.
            prop_assert_eq!(blest_pick(&v, wnd, 0), d);
            if b.is_none() {
                prop_assert_eq!(blest_pick(&v, wnd, lambda.saturating_add(1)), None);
                prop_assert_eq!(blest_pick(&v, wnd / 2, lambda), None);
            }
            // With the fastest available subflow able to send, no waiting.
            if let Some(i) = d {
                let backups = backups_allowed(&v);
                let fastest = (0..v.len())
                    .filter(|&j| v[j].state == SubflowState::Active && (!v[j].backup || backups))
                    .min_by_key(|&j| (v[j].srtt_us, j));
                if fastest == Some(i) {
                    prop_assert_eq!(b, Some(i));
                }
            }
        }

        #[test]
        fn blest_would_block_matches_float(
            fcwnd in 1u32..1000,
            frtt in 1u32..1_000_000,
            srtt in 1u32..10_000_000,
            mss_f in 500u32..9000,
            mss_s in 500u32..9000,
            infl in 0u32..1000,
            wnd in 0u64..100_000_000,
            lambda in 0u32..4 * LAMBDA_ONE,
        ) {
            let f = Subflow { srtt_us: frtt, cwnd: fcwnd, mss: mss_f, ..Subflow::new(0) };
            let s = Subflow { srtt_us: srtt, in_flight: infl, mss: mss_s, ..Subflow::new(1) };
            let rho = (srtt.max(frtt) as f64) / frtt as f64;
            let x = mss_f as f64 * (fcwnd as f64 + (rho - 1.0) / 2.0) * rho;
            let lhs = lambda as f64 / LAMBDA_ONE as f64 * x;
            let rhs = (wnd as f64 - mss_s as f64 * (infl as f64 + 1.0)).max(0.0);
            // Away from the boundary, the exact integer test agrees.
            if (lhs - rhs).abs() > 1e-9 * (lhs + rhs) + 1e-6 {
                prop_assert_eq!(blest_would_block(&f, &s, wnd, lambda), lhs > rhs);
            }
        }

        #[test]
        fn opportunistic_decisions_are_sound((v, conn) in subflows_and_conn()) {
            let Some(o) = opportunistic_retransmit(&v, &conn) else {
                return Ok(());
            };
            prop_assert!(conn.window_exhausted);
            prop_assert!(o.reinject.is_some() || o.penalize.is_some());
            let h = conn.una_subflow.unwrap();
            prop_assert!(h < v.len());
            let backups = backups_allowed(&v);
            // The fast subflow exists, is faster than the holder and can
            // resend; the fastest such one.
            let eligible = |j: usize| {
                let s = &v[j];
                j != h && s.state == SubflowState::Active && s.in_flight < s.cwnd && !s.sndbuf_full
                    && (!s.backup || backups) && s.srtt_us < v[h].srtt_us
            };
            let fast = (0..v.len()).filter(|&j| eligible(j)).min_by_key(|&j| (v[j].srtt_us, j));
            prop_assert!(fast.is_some());
            if let Some(r) = o.reinject {
                prop_assert_eq!(Some(r.subflow), fast);
                prop_assert_eq!(r.dsn, conn.snd_una);
                prop_assert!(!conn.una_sent_on.contains(r.subflow));
            } else {
                prop_assert!(conn.una_sent_on.contains(fast.unwrap()));
            }
            if let Some(p) = o.penalize {
                let s = &v[h];
                prop_assert_eq!(p.subflow, h);
                prop_assert!(s.cwnd > 1 && s.state != SubflowState::Closed && !s.recovering);
                prop_assert_eq!(p.cwnd, s.cwnd / 2);
                // The threshold halves only in congestion avoidance.
                if s.cwnd < s.ssthresh || s.ssthresh == INFINITE_SSTHRESH {
                    prop_assert_eq!(p.ssthresh, s.ssthresh);
                } else {
                    prop_assert_eq!(p.ssthresh, (s.ssthresh / 2).max(2));
                }
                if let Some(t) = s.penalized_at_us {
                    prop_assert!(conn.now_us.saturating_sub(t) >= s.srtt_us as u64);
                }
            }
        }

        #[test]
        fn no_panic_on_any_input(
            v in proptest::collection::vec(wild_subflow(), 0..=70),
            c in conn(70),
            wnd in any::<u64>(),
            lambda in any::<u32>(),
            last in any::<Option<usize>>(),
        ) {
            let _ = default_pick(&v);
            let _ = redundant_set(&v);
            let _ = RoundRobin { last }.pick(&v);
            let _ = blest_pick(&v, wnd, lambda);
            let _ = opportunistic_retransmit(&v, &c);
            for name in SCHEDULER_NAMES {
                let mut s = AnyScheduler::from_name(name.as_bytes()).unwrap();
                let sel = s.select(&v, &c);
                for i in sel {
                    prop_assert!(i < v.len());
                }
            }
            if let (Some(f), Some(s)) = (v.first(), v.last()) {
                let _ = blest_would_block(f, s, wnd, lambda);
            }
        }
    }
}

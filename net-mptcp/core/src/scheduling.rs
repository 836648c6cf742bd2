// SPDX-License-Identifier: GPL-2.0

//! Which established subflow takes the connection's next new data, when
//! there are several: the packet scheduler of [`super::super::sched`] asked
//! from [`Connection::poll_transmit`].
//!
//! A subflow asks for data when it has room (the application wrote, or an
//! ACK opened its window). The scheduler sees every established subflow as
//! last sampled: RTT and congestion window ([`Connection::subflow_sample`]),
//! segments in flight, MSS and send-buffer room (recorded by each
//! `poll_transmit`). If it picks the asking subflow, that one maps the
//! data; otherwise the data waits for the subflow it picked, which the
//! caller pushes on ([`Connection::take_push_wanted`]), or whose own next
//! ACK asks. A subflow never sampled counts as able to send, with no RTT
//! (so it is tried first, as Linux probes a new subflow). With one
//! established subflow nothing is asked.
//!
//! Data awaiting reinjection and the rest of a mapping TCP took part of do
//! not go through the scheduler: the former goes on whichever subflow asks
//! (another than the one that failed), the latter must go where its
//! mapping is.
//!
//! The redundant scheduler's copies are not made yet: the core maps each
//! octet once, so under "redundant" a subflow of its set takes the data.

use super::super::sched::{self, AnyScheduler, ConnSnapshot, Scheduler, Selection};
use super::super::sender::SentRange;
use super::super::subflow::{Stage, Subflow};
use super::{Connection, Counter, Platform, SubflowId, Transmit, MAX_SUBFLOWS};

/// What a subflow's TCP says of its path, for the scheduler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathSample {
    /// Smoothed RTT, µs.
    pub srtt_us: u32,
    /// Congestion window, segments.
    pub cwnd: u32,
    /// Slow-start threshold, segments.
    pub ssthresh: u32,
    /// Its TCP is not in the Open state (`icsk_ca_state`): it saw
    /// duplicate ACKs or SACKs, or recovers from a loss or a timeout.
    pub recovering: bool,
}

/// Opportunistic retransmission and penalisation (seed 004, section 4.2):
/// when the peer's window is full and its head is held by a slower
/// subflow, a faster one sends the head again (`retransmit`) and the slow
/// one's congestion window is halved, at most once per its RTT
/// (`penalize`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Opportunism {
    /// Resend the head of the window on a faster subflow.
    pub retransmit: bool,
    /// Halve the congestion window of the slow subflow that holds it.
    pub penalize: bool,
}

impl<S: Platform> Connection<S> {
    /// What subflow `id`'s TCP says of its path at `now_us`, for the
    /// scheduler.
    pub fn subflow_sample(&mut self, id: SubflowId, path: PathSample, now_us: u64) {
        self.sampled_at_us = now_us;
        if let Some(sf) = self.subflow(id) {
            let sample = sf.tx_sample_mut();
            sample.srtt_us = path.srtt_us;
            sample.cwnd = path.cwnd;
            sample.ssthresh = path.ssthresh;
            sample.recovering = path.recovering;
        }
    }

    /// Whether subflow `id`'s retransmission timer has fired (its TCP is in
    /// the Loss state), as seen now. Seen first (not at the last look),
    /// what the subflow holds goes again elsewhere
    /// ([`Connection::subflow_timed_out`]). The glue looks at every
    /// subflow whenever one of them sends (a failed subflow's own pushes
    /// stop when the writer waits for room), and at a subflow whenever a
    /// segment of it leaves (its retransmission at the timeout does).
    /// Returns whether data was marked to go again: the other subflows
    /// have it to send.
    pub fn subflow_loss_state(&mut self, id: SubflowId, timed_out: bool) -> bool {
        self.subflow(id)
            .is_some_and(|sf| sf.note_timed_out(timed_out))
            && self.subflow_timed_out(id)
    }

    /// Switches opportunistic retransmission and penalisation.
    pub fn set_opportunism(&mut self, opportunism: Opportunism) {
        self.opportunism = opportunism;
    }

    /// Whether a penalty waits for [`Connection::take_penalty`].
    pub fn has_penalty(&self) -> bool {
        self.penalties != 0
    }

    /// A subflow penalised: the caller applies
    /// [`sched::penalty_window`] to its TCP's window and threshold as
    /// they are under its lock. Each is returned once.
    pub fn take_penalty(&mut self) -> Option<SubflowId> {
        let id = self.penalties.trailing_zeros();
        if id >= u8::BITS {
            return None;
        }
        self.penalties &= !(1 << id);
        Some(id as SubflowId)
    }

    /// Sends `range` (not the DATA_FIN) again on subflow `id`, whose next
    /// octet is at `offset`, at most `max` octets: a mapping of its own.
    pub(super) fn resend_on(
        &mut self,
        id: SubflowId,
        range: SentRange,
        offset: u64,
        max: u32,
    ) -> Option<Transmit> {
        let len = range.len.min(u64::from(max)) as u32;
        if len == 0 {
            return None;
        }
        let sf = self.subflow(id)?;
        if !sf.record_sent(offset, range.dsn, len) {
            self.count(Counter::MapAllocFail);
            return None;
        }
        self.sender
            .resend(range.dsn, u64::from(len), id, offset)
            .ok()?;
        Some(Transmit {
            dsn: range.dsn,
            len,
            end_of_mapping: true,
            new_mapping: true,
        })
    }

    /// Subflow `id` asks for data while the peer's window is full: if a
    /// slower subflow holds the head of the window, the fastest subflow
    /// that can send resends it (this one, or the caller pushes on that
    /// one), and the slow one is penalised (see [`Opportunism`]).
    pub(super) fn opportunistic(
        &mut self,
        id: SubflowId,
        offset: u64,
        max: u32,
    ) -> Option<Transmit> {
        let Opportunism {
            retransmit,
            penalize,
        } = self.opportunism;
        if !retransmit && !penalize {
            return None;
        }
        let head = self.sender.next_range(self.sender.snd_una())?;
        let holder = head.subflow.filter(|&h| h != id && !head.data_fin)?;
        let (snaps, n) = self.snapshots();
        let snaps = &snaps[..n];
        let una_subflow = snaps.iter().position(|s| s.id == holder)?;
        let conn = ConnSnapshot {
            now_us: self.sampled_at_us,
            send_window: 0,
            window_exhausted: true,
            snd_una: head.dsn,
            una_subflow: Some(una_subflow),
            una_sent_on: Selection::single(una_subflow),
        };
        let decided = sched::opportunistic_retransmit(snaps, &conn)?;
        if let Some(p) = decided.penalize.filter(|_| penalize) {
            let slow = snaps[p.subflow].id;
            let now = self.sampled_at_us;
            if let Some(sf) = self.subflow(slow) {
                sf.tx_sample_mut().penalized_at_us = Some(now);
                self.penalties |= 1 << slow;
                self.count(Counter::Penalized);
            }
        }
        let fast = snaps[decided.reinject.filter(|_| retransmit)?.subflow].id;
        if fast != id {
            self.push_wanted |= 1 << fast;
            return None;
        }
        let t = self.resend_on(id, head, offset, max)?;
        self.add_count(Counter::OpportunisticRetransmit, t.len);
        Some(t)
    }

    /// The scheduler's view of the established subflows (the first of the
    /// array), and how many there are.
    fn snapshots(&self) -> ([sched::Subflow; MAX_SUBFLOWS], usize) {
        let established = |sf: &&Subflow<S>| sf.stage() == Stage::Established;
        let mut snaps = [sched::Subflow::new(0); MAX_SUBFLOWS];
        let mut n = 0;
        for (i, slot) in self.subflows.iter().enumerate() {
            let Some(sf) = slot.as_ref().filter(established) else {
                continue;
            };
            let t = sf.tx_sample().unwrap_or_default();
            let never = sf.tx_sample().is_none();
            snaps[n] = sched::Subflow {
                id: i as u32,
                backup: sf.backup(),
                srtt_us: t.srtt_us,
                cwnd: if t.cwnd == 0 { u32::MAX } else { t.cwnd },
                ssthresh: if t.ssthresh == 0 {
                    sched::INFINITE_SSTHRESH
                } else {
                    t.ssthresh
                },
                in_flight: t.in_flight,
                mss: t.mss,
                // The data-level window is the connection's, checked by the
                // caller for every subflow alike.
                wnd_space: u32::MAX,
                sndbuf_full: !never && t.room == 0,
                penalized_at_us: t.penalized_at_us,
                recovering: t.recovering,
                ..sched::Subflow::new(i as u32)
            };
            n += 1;
        }
        (snaps, n)
    }

    /// The scheduler for new data from now on.
    pub fn set_scheduler(&mut self, scheduler: AnyScheduler) {
        self.scheduler = scheduler;
    }

    /// The scheduler in use.
    pub fn scheduler(&self) -> &AnyScheduler {
        &self.scheduler
    }

    /// The subflows (a bit per id) the scheduler picked while another one
    /// asked: the caller pushes on them; clears the request.
    pub fn take_push_wanted(&mut self) -> u8 {
        core::mem::take(&mut self.push_wanted)
    }

    /// The most one mapping on subflow `id` may hold while the connection
    /// has several established subflows: one congestion window of it, in
    /// whole segments of `mss` (at least one). The scheduler gives a
    /// subflow new data only while its segments in flight and unsent are
    /// fewer than its window, so what it takes leaves within about two of
    /// its RTTs. Before this cap a mapping was as long as TCP's GSO burst
    /// (64 KB), whatever the window: on a subflow of 2 segments it waited
    /// for seconds, holding the head of the peer's window while the other
    /// subflows delivered what followed, and opportunistic retransmission
    /// penalised that subflow again and again (3 subflows through one
    /// bottleneck got 0.2-0.6 of a Reno flow). `None` with one subflow,
    /// where TCP's own queue is all there is, or before TCP told its
    /// window.
    pub(super) fn window_cap(&self, id: SubflowId, mss: u32) -> Option<u32> {
        let established = |sf: &&Subflow<S>| sf.stage() == Stage::Established;
        if self.subflows.iter().flatten().filter(established).count() <= 1 {
            return None;
        }
        let sf = self.subflows.get(id as usize)?.as_ref()?;
        let cwnd = sf.tx_sample().map_or(0, |t| t.cwnd);
        if cwnd == 0 {
            return None;
        }
        Some(cwnd.max(1).saturating_mul(mss))
    }

    /// Whether new data goes on subflow `id`, which asks for it.
    pub(super) fn scheduled_here(&mut self, id: SubflowId) -> bool {
        // One established subflow (the common case): nothing to ask.
        let established = |sf: &&Subflow<S>| sf.stage() == Stage::Established;
        if self.subflows.iter().flatten().filter(established).count() <= 1 {
            return true;
        }
        let (snaps, n) = self.snapshots();
        let snd_una = self.sender.snd_una();
        let send_window = self
            .snd_wnd_edge
            .map_or(u64::MAX, |edge| edge.wrapping_sub(snd_una));
        let conn = ConnSnapshot {
            now_us: 0,
            send_window,
            window_exhausted: false,
            snd_una,
            una_subflow: None,
            una_sent_on: Selection::EMPTY,
        };
        // A scheduler with state (round-robin's last pick) keeps the new
        // state only if the data goes now: a pick of another subflow is
        // asked again when that one asks.
        let mut scheduler = self.scheduler;
        // The default scheduler leaves new data on the subflow that asks if
        // it is nearly as fast as the fastest: handing it to another costs
        // a push from the work item, and among subflows of one path (RTTs
        // apart by noise) that was 9 pushes in 10 (8 subflows on one path,
        // 189 thousand requests in 8 s).
        if matches!(scheduler, AnyScheduler::Default(_)) {
            let asking = snaps[..n].iter().position(|s| s.id == id);
            if asking.is_some_and(|i| sched::near_lowest_rtt(&snaps[..n], i)) {
                self.push_wanted &= !(1 << id);
                return true;
            }
        }
        let chosen = scheduler.select(&snaps[..n], &conn);
        let mut here = false;
        for index in chosen {
            let pick = snaps[index].id;
            if pick == id {
                here = true;
            } else if snaps[index].in_flight == 0 {
                // An idle subflow has no ACK coming to make it ask: it is
                // pushed on. One with data in flight asks at its next ACK
                // (a push from the work item for each would cost more than
                // the data it carries sooner: 8 subflows of one path asked
                // for 163 thousand in 8 s).
                self.push_wanted |= 1 << pick;
            }
        }
        if here {
            self.scheduler = scheduler;
            self.push_wanted &= !(1 << id);
        }
        here
    }
}

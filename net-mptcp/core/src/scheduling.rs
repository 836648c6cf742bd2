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
use super::super::subflow::{Stage, Subflow};
use super::{Connection, Platform, SubflowId, MAX_SUBFLOWS};

impl<S: Platform> Connection<S> {
    /// Subflow `id`'s smoothed RTT (µs) and congestion window (segments),
    /// for the scheduler.
    pub fn subflow_sample(&mut self, id: SubflowId, srtt_us: u32, cwnd: u32) {
        if let Some(sf) = self.subflow(id) {
            let sample = sf.tx_sample_mut();
            sample.srtt_us = srtt_us;
            sample.cwnd = cwnd;
        }
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

    /// Whether new data goes on subflow `id`, which asks for it.
    pub(super) fn scheduled_here(&mut self, id: SubflowId) -> bool {
        let established = |sf: &&Subflow<S>| sf.stage() == Stage::Established;
        if self.subflows.iter().flatten().filter(established).count() <= 1 {
            return true;
        }
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
                in_flight: t.in_flight,
                mss: t.mss,
                // The data-level window is the connection's, checked by the
                // caller for every subflow alike.
                wnd_space: u32::MAX,
                sndbuf_full: !never && t.room == 0,
                ..sched::Subflow::new(i as u32)
            };
            n += 1;
        }
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
        let chosen = scheduler.select(&snaps[..n], &conn);
        let mut here = false;
        for index in chosen {
            let pick = snaps[index].id;
            if pick == id {
                here = true;
            } else {
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

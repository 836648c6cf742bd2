// SPDX-License-Identifier: GPL-2.0

//! MP_JOIN (RFC 8684, section 3.2): how an additional subflow joins a
//! connection, at the end that opens it (the initiator, host A) and at the
//! end that answers (the responder, host B).
//!
//! ```text
//!  A: open_join                                 B: (listener)
//!     SYN + MP_JOIN(token of B, R-A) ---------->   listener_join_syn; the caller
//!                                                  finds the connection by token
//!                                                  join_synack: limits checked
//!     HMAC-B checked (handle_segment) <--------    SYN/ACK + MP_JOIN(HMAC-B, R-B)
//!     pre-established:
//!     ACK + MP_JOIN(HMAC-A) ------------------->   join_ack: HMAC-A and limits
//!                                                  checked, the subflow added
//!     established on B's ACK  <----------------    ACK
//! ```
//!
//! The responder keeps nothing in the connection between the SYN and the
//! third ACK: its caller keeps the [`JoinRequest`] with the request socket,
//! so a flood of joining SYNs takes no subflow slot. The initiator sends no
//! data before the responder acknowledged its third ACK, and sends that ACK
//! again, at the data-level RTO with backoff, until it is acknowledged;
//! after [`JOIN_ACK_TRIES`] it resets the subflow. A join the responder
//! refuses (unknown token, wrong HMAC, limits) is reset with MP_TCPRST
//! "MPTCP-specific error" ([`JOIN_RESET_REASON`], as section 3.2 says).

use super::super::crypto::{hmac_eq, mp_join_ack_hmac, mp_join_synack_hmac, token_and_idsn};
use super::super::option::{tcprst_reason, MpJoin, MptcpOption, Received};
use super::super::sender::subflow_bit;
use super::super::seq;
use super::super::subflow::{JoinInfo, Stage, Subflow};
use super::{
    flags, Connection, Counter, Event, Mode, Platform, SegmentIn, SegmentOut, SubflowId, TcpWindow,
};
use super::{MAX_RTO_US, MAX_SUBFLOWS};

/// The MP_TCPRST reason of a refused or failed join (RFC 8684, 3.2).
pub const JOIN_RESET_REASON: u8 = tcprst_reason::MPTCP_SPECIFIC;

/// How many times the initiator sends its third ACK of MP_JOIN before it
/// gives the subflow up.
pub const JOIN_ACK_TRIES: u32 = 5;

/// What a listener learns from a SYN with MP_JOIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinSyn {
    /// The token of the connection it joins (ours: the caller looks it up).
    pub token: u32,
    /// The initiator's random number.
    pub nonce: u32,
    /// The initiator's address id for the SYN's source address.
    pub addr_id: u8,
    /// The initiator asks for the subflow to be a backup.
    pub backup: bool,
}

/// The MP_JOIN of a SYN, if a listener acts on it. A SYN that also carries
/// MP_CAPABLE opens a new connection, and is not a join.
pub fn listener_join_syn(options: &Received) -> Option<JoinSyn> {
    if options.mp_capable.is_some() {
        return None;
    }
    match options.mp_join? {
        MpJoin::Syn {
            backup,
            addr_id,
            receiver_token,
            sender_random,
        } => Some(JoinSyn {
            token: receiver_token,
            nonce: sender_random,
            addr_id,
            backup,
        }),
        _ => None,
    }
}

/// A join SYN the responder answered: what its caller keeps with the
/// request socket until the third ACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinRequest {
    /// The SYN's MP_JOIN.
    pub syn: JoinSyn,
    /// Our address id for the address the SYN came to.
    pub local_id: u8,
    /// Our random number.
    pub local_nonce: u32,
    /// We ask for the subflow to be a backup.
    pub local_backup: bool,
    /// Our truncated HMAC (HMAC-B), for the SYN/ACK and its retransmissions.
    hmac: u64,
}

impl JoinRequest {
    /// The MP_JOIN of our SYN/ACK (the same on every retransmission).
    pub fn synack_option(&self) -> MptcpOption {
        MptcpOption::MpJoin(MpJoin::SynAck {
            backup: self.local_backup,
            addr_id: self.local_id,
            sender_truncated_hmac: self.hmac,
            sender_random: self.local_nonce,
        })
    }
}

/// Why a connection takes no further subflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinRefused {
    /// It does not run MPTCP (its handshake is on, it fell back, or it was
    /// reset).
    NotMptcp,
    /// It has as many subflows as the limit allows, or no free slot.
    Limit,
}

impl<S: Platform> Connection<S> {
    /// The subflows that are not closed.
    pub fn live_subflows(&self) -> usize {
        self.subflows
            .iter()
            .flatten()
            .filter(|sf| sf.stage() != Stage::Closed)
            .count()
    }

    /// A free slot for one more subflow, if the connection runs MPTCP and
    /// holds fewer than `1 + limit` live subflows (`limit` additional
    /// ones, as the path manager's `subflows` limit counts them).
    fn room_for_join(&self, limit: u8) -> Result<usize, JoinRefused> {
        if self.mode != Mode::Mptcp || self.remote.is_none() {
            return Err(JoinRefused::NotMptcp);
        }
        if self.live_subflows() > usize::from(limit).min(MAX_SUBFLOWS - 1) {
            return Err(JoinRefused::Limit);
        }
        self.subflows
            .iter()
            .position(Option::is_none)
            .ok_or(JoinRefused::Limit)
    }

    // --- the initiator ------------------------------------------------

    /// Opens an additional subflow from our address `local_id`, with our
    /// random number `nonce`, a backup if `backup`, if fewer than `1 +
    /// limit` subflows are live: its id. Its SYN carries MP_JOIN
    /// ([`Connection::option_for`]); the caller connects it.
    pub fn open_join(
        &mut self,
        local_id: u8,
        nonce: u32,
        backup: bool,
        limit: u8,
    ) -> Result<SubflowId, JoinRefused> {
        let free = self.room_for_join(limit)?;
        let join = JoinInfo {
            local_id,
            remote_id: 0,
            local_nonce: nonce,
            remote_nonce: 0,
            local_backup: backup,
            remote_backup: false,
        };
        self.subflows[free] = Some(Subflow::joined(Stage::JoinSynSent, 0, 0, join));
        Ok(free as SubflowId)
    }

    /// The MP_JOIN a segment of joining subflow `id` carries: on its SYN,
    /// the peer's token and our random number; while pre-established, our
    /// HMAC (every segment, until the peer acknowledged one).
    pub(super) fn join_option_for(
        &mut self,
        id: SubflowId,
        seg: &SegmentOut,
    ) -> Option<MptcpOption> {
        let remote = self.remote?;
        let local_key = self.local.key;
        let sf = self.subflow(id)?;
        let join = *sf.join()?;
        let (syn, ack, rst) = (
            seg.flags & flags::SYN != 0,
            seg.flags & flags::ACK != 0,
            seg.flags & flags::RST != 0,
        );
        match sf.stage() {
            Stage::JoinSynSent if syn && !ack => {
                sf.set_iss(seg.seq);
                if sf.first_syn() {
                    self.count(Counter::MPJoinSynTx);
                }
                Some(MptcpOption::MpJoin(MpJoin::Syn {
                    backup: join.local_backup,
                    addr_id: join.local_id,
                    receiver_token: token_and_idsn::<S::Sha256>(remote.key).0,
                    sender_random: join.local_nonce,
                }))
            }
            Stage::JoinPreEstablished if !syn && !rst => Some(MptcpOption::MpJoin(MpJoin::Ack {
                sender_hmac: mp_join_ack_hmac::<S::Sha256>(
                    local_key,
                    remote.key,
                    join.local_nonce,
                    join.remote_nonce,
                ),
            })),
            _ => None,
        }
    }

    /// A RST came on subflow `id`, in `stage`. If TCP accepts it (in
    /// SYN-SENT it acknowledges our SYN, later its sequence number is in
    /// the window) and it carries MP_TCPRST, it is counted; without the T
    /// flag the peer says the condition is permanent, and the path is not
    /// tried again for this connection (RFC 8684, 3.6: the receiver "SHOULD
    /// NOT try to re-establish a subflow for this connection over this
    /// path"): a join refused for the limits, an unknown token or a wrong
    /// HMAC is refused the same way every time.
    pub(super) fn reset_received(
        &mut self,
        id: SubflowId,
        stage: Stage,
        seg: &SegmentIn<'_>,
        tcp: &TcpWindow,
    ) {
        let Some(rst) = seg.options.mp_tcprst else {
            return;
        };
        let Some(sf) = self.subflow(id) else { return };
        let accepted = match stage {
            Stage::SynSent | Stage::JoinSynSent => {
                seg.has(flags::ACK) && seg.ack == sf.iss().wrapping_add(1)
            }
            _ => {
                let right = tcp.rcv_wup.wrapping_add(tcp.rcv_wnd.max(1));
                !seq::before32(seg.seq, tcp.rcv_wup) && seq::before32(seg.seq, right)
            }
        };
        if !accepted {
            return;
        }
        self.count(Counter::MPRstRx);
        if !rst.transient {
            self.refused |= subflow_bit(id);
        }
    }

    /// Whether the peer reset subflow `id` saying that trying its path again
    /// is useless (see [`Connection::reset_received`]).
    pub fn refused_for_good(&self, id: SubflowId) -> bool {
        self.refused & subflow_bit(id) != 0
    }

    /// The SYN/ACK of our MP_JOIN SYN on subflow `id`: its truncated HMAC
    /// must be the one only a holder of the peer's key can compute;
    /// otherwise, or without MP_JOIN (a path that strips options: an
    /// additional subflow cannot fall back, RFC 8684, section 3.7), the
    /// subflow is reset.
    pub(super) fn handle_join_synack(&mut self, id: SubflowId, seg: &SegmentIn<'_>, now_us: u64) {
        let Some(remote) = self.remote else { return };
        let local_key = self.local.key;
        let deadline = now_us.saturating_add(self.rto_us);
        let Some(sf) = self.subflow(id) else { return };
        if !(seg.has(flags::SYN) && seg.has(flags::ACK)) || seg.ack != sf.iss().wrapping_add(1) {
            return;
        }
        let Some(join) = sf.join().copied() else {
            return;
        };
        let Some(MpJoin::SynAck {
            backup,
            addr_id,
            sender_truncated_hmac,
            sender_random,
        }) = seg.options.mp_join
        else {
            self.count(Counter::MPJoinSynAckNoJoin);
            self.reset_subflow(id, JOIN_RESET_REASON);
            return;
        };
        let want = mp_join_synack_hmac::<S::Sha256>(
            local_key,
            remote.key,
            join.local_nonce,
            sender_random,
        );
        if !hmac_eq(&want.to_be_bytes(), &sender_truncated_hmac.to_be_bytes()) {
            self.count(Counter::MPJoinSynAckHMacFailure);
            self.reset_subflow(id, JOIN_RESET_REASON);
            return;
        }
        sf.set_irs(seg.seq);
        sf.set_stage(Stage::JoinPreEstablished);
        if let Some(j) = sf.join_mut() {
            j.remote_id = addr_id;
            j.remote_nonce = sender_random;
            j.remote_backup = backup;
        }
        // TCP's ACK of the SYN/ACK carries the third ACK's MP_JOIN first.
        sf.set_join_ack_deadline(Some(deadline));
        self.count(Counter::MPJoinSynAckRx);
        if backup {
            self.count(Counter::MPJoinSynAckBackupRx);
        }
    }

    /// A segment TCP accepts on pre-established subflow `id`: the peer
    /// had our third ACK (it sends nothing else after its SYN/ACK before
    /// it), so the subflow is established.
    pub(super) fn join_acknowledged(&mut self, id: SubflowId) {
        let Some(sf) = self.subflow(id) else { return };
        sf.set_join_ack_deadline(None);
        sf.set_stage(Stage::Established);
        self.events.push(Event::Joined { id });
    }

    /// Pre-established subflows whose third ACK is due again at `now_us`:
    /// each goes into [`Connection::take_join_acks`], or is reset once it
    /// went [`JOIN_ACK_TRIES`] times.
    pub(super) fn join_timeouts(&mut self, now_us: u64) {
        let rto = self.rto_us;
        for i in 0..self.subflows.len() {
            let id = i as SubflowId;
            let Some(sf) = self.subflows[i].as_mut() else {
                continue;
            };
            if sf.stage() != Stage::JoinPreEstablished
                || sf.join_ack_deadline().map_or(true, |d| now_us < d)
            {
                continue;
            }
            let tries = sf.join_ack_tries();
            if tries >= JOIN_ACK_TRIES {
                sf.set_join_ack_deadline(None);
                self.count(Counter::MPJoinAckTimeout);
                self.reset_subflow(id, JOIN_RESET_REASON);
                continue;
            }
            let wait = rto.saturating_mul(1 << tries.min(6)).min(MAX_RTO_US);
            sf.set_join_ack_deadline(Some(now_us.saturating_add(wait)));
            self.join_acks_wanted |= 1 << i;
        }
    }

    /// The earliest time a third ACK of MP_JOIN is due again.
    pub(super) fn join_deadline(&self) -> Option<u64> {
        self.subflows
            .iter()
            .flatten()
            .filter(|sf| sf.stage() == Stage::JoinPreEstablished)
            .filter_map(Subflow::join_ack_deadline)
            .min()
    }

    /// The subflows (a bit per id) on which an ACK must go now, to carry
    /// our third ACK of MP_JOIN again; clears the request.
    pub fn take_join_acks(&mut self) -> u8 {
        core::mem::take(&mut self.join_acks_wanted)
    }

    // --- the responder ------------------------------------------------

    /// A SYN with MP_JOIN (`syn`) came for this connection, to our address
    /// `local_id`: unless the connection refuses (not MPTCP, or its table
    /// of subflows full), the request to keep and the MP_JOIN of our
    /// SYN/ACK (our HMAC, with our random number `nonce`, a backup if
    /// `backup`). Nothing changes in the connection until the third ACK.
    ///
    /// The `subflows` limit is applied at the third ACK ([`join_ack`]), as
    /// Linux applies it: a limit counts established subflows, and joins
    /// can race each other between SYN and ACK. (RFC 8684, 3.2, allows a
    /// refusal at either; Linux's selftests count the SYN/ACK.)
    ///
    /// [`join_ack`]: Connection::join_ack
    pub fn join_synack(
        &mut self,
        syn: &JoinSyn,
        local_id: u8,
        nonce: u32,
        backup: bool,
    ) -> Result<JoinRequest, JoinRefused> {
        self.count(Counter::MPJoinSynRx);
        if syn.backup {
            self.count(Counter::MPJoinSynBackupRx);
        }
        if let Err(e) = self.room_for_join((MAX_SUBFLOWS - 1) as u8) {
            self.count(Counter::MPJoinRefused);
            return Err(e);
        }
        let Some(remote) = self.remote else {
            return Err(JoinRefused::NotMptcp);
        };
        Ok(JoinRequest {
            syn: *syn,
            local_id,
            local_nonce: nonce,
            local_backup: backup,
            hmac: mp_join_synack_hmac::<S::Sha256>(remote.key, self.local.key, syn.nonce, nonce),
        })
    }

    /// The third ACK of the join `req` completed its TCP handshake, with our
    /// initial sequence number `iss` and the peer's `irs`: if it carries
    /// the initiator's HMAC, and the limits still allow it, the subflow
    /// joins, established (its id). Otherwise the MP_TCPRST reason to reset
    /// it with.
    pub fn join_ack(
        &mut self,
        req: &JoinRequest,
        options: &Received,
        iss: u32,
        irs: u32,
        limit: u8,
    ) -> Result<SubflowId, u8> {
        let Some(remote) = self.remote else {
            self.count(Counter::MPJoinRefused);
            return Err(JOIN_RESET_REASON);
        };
        let want = mp_join_ack_hmac::<S::Sha256>(
            remote.key,
            self.local.key,
            req.syn.nonce,
            req.local_nonce,
        );
        let valid = matches!(
            options.mp_join,
            Some(MpJoin::Ack { sender_hmac }) if hmac_eq(&sender_hmac, &want)
        );
        if !valid {
            self.count(Counter::MPJoinAckHMacFailure);
            return Err(JOIN_RESET_REASON);
        }
        let free = match self.room_for_join(limit) {
            Ok(free) => free,
            Err(_) => {
                self.count(Counter::MPJoinRefused);
                return Err(JOIN_RESET_REASON);
            }
        };
        let join = JoinInfo {
            local_id: req.local_id,
            remote_id: req.syn.addr_id,
            local_nonce: req.local_nonce,
            remote_nonce: req.syn.nonce,
            local_backup: req.local_backup,
            remote_backup: req.syn.backup,
        };
        self.subflows[free] = Some(Subflow::joined(Stage::Established, iss, irs, join));
        self.count(Counter::MPJoinAckRx);
        let id = free as SubflowId;
        self.events.push(Event::Joined { id });
        Ok(id)
    }
}

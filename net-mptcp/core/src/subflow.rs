// SPDX-License-Identifier: GPL-2.0

//! One subflow of a connection, as the connection core sees it: where its
//! handshake stands, its initial sequence numbers, the mappings it sent and
//! received (RFC 8684, section 3.3.1), and how far its in-order data was
//! handed to the connection.
//!
//! Subflow sequence numbers are 32 bits on the wire; everything kept here
//! is an *offset* from the subflow's initial sequence number (its SYN), so
//! that tables keyed by it never wrap: [`seq::subflow_offset`] widens a
//! 32-bit number around the highest offset seen so far.

use super::conn::Platform;
use super::mapping::{Mapped, Mapping, MappingTable, RecordError, SentMapping, SentMappings};
use super::seq;

/// Names a subflow of a connection: an index into its subflow table.
pub type SubflowId = u32;

/// Where a subflow stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Our SYN is out (with MP_CAPABLE on the initial subflow of a client);
    /// the SYN/ACK has not come.
    SynSent,
    /// Our SYN with MP_JOIN is out (an additional subflow we opened); the
    /// SYN/ACK, with the peer's HMAC, has not come.
    JoinSynSent,
    /// The SYN/ACK's HMAC was right; our third ACK, with our HMAC, goes on
    /// every segment until the peer's ACK of it shows it arrived. No data
    /// goes before (RFC 8684, section 3.2).
    JoinPreEstablished,
    /// MPTCP runs on the subflow: its data carries mappings.
    Established,
    /// The connection fell back to TCP: the subflow is the connection.
    Fallback,
    /// Closed or reset: nothing more goes through it.
    Closed,
}

/// What an MP_JOIN handshake exchanged (RFC 8684, section 3.2): the
/// address ids and random numbers of both ends, and which end asked for the
/// subflow to be a backup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JoinInfo {
    /// Our address id for the subflow's local address.
    pub local_id: u8,
    /// The peer's address id for its address (known from its MP_JOIN).
    pub remote_id: u8,
    /// Our random number.
    pub local_nonce: u32,
    /// The peer's random number (known from its MP_JOIN).
    pub remote_nonce: u32,
    /// We asked for the subflow to be a backup ("B" on our MP_JOIN).
    pub local_backup: bool,
    /// The peer asked for it ("B" on its MP_JOIN): we send on it only when
    /// no other subflow can (RFC 8684, sections 3.2 and 3.3.8).
    pub remote_backup: bool,
}

/// What the scheduler last learnt of a subflow's TCP (see
/// [`super::conn::Connection::subflow_sample`] and
/// [`super::conn::Connection::poll_transmit`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxSample {
    /// Smoothed RTT, µs (0: no sample yet).
    pub srtt_us: u32,
    /// Congestion window, segments (0: not known).
    pub cwnd: u32,
    /// Segments in flight.
    pub in_flight: u32,
    /// MSS.
    pub mss: u32,
    /// Room in its send buffer, octets.
    pub room: u32,
    /// Slow-start threshold, segments (0: not known).
    pub ssthresh: u32,
    /// When it was last penalised (opportunistic retransmission), µs.
    pub penalized_at_us: Option<u64>,
    /// Its TCP is recovering from a loss (not in the Open state).
    pub recovering: bool,
}

/// A subflow's state in the connection core.
pub struct Subflow<S: Platform> {
    stage: Stage,
    /// The scheduler's view of its TCP; `None` before the first sample.
    tx_sample: Option<TxSample>,
    /// Its retransmission timer had fired at the last look (TCP in the
    /// Loss state; see `Connection::subflow_loss_state`).
    timed_out: bool,
    /// How it joined, if it is an additional subflow.
    join: Option<JoinInfo>,
    /// The backup wishes as MP_PRIO changed them since (ours, the peer's).
    local_backup: Option<bool>,
    remote_backup: Option<bool>,
    /// A client's third ACK of MP_JOIN goes again at this time (µs) if the
    /// peer did not acknowledge it, and has gone this many times already.
    join_ack_deadline: Option<u64>,
    join_ack_sent: u32,
    /// Our SYN (MP_CAPABLE or MP_JOIN) went out at least once: a
    /// retransmission is the same SYN, not a new connection or join.
    syn_sent: bool,
    /// Our initial sequence number on the subflow (of our SYN).
    iss: u32,
    /// The peer's initial sequence number (of its SYN).
    irs: u32,
    /// The mappings we sent, keyed by subflow offset from `iss`, exactly as
    /// they went on the wire.
    tx: SentMappings<S::TxMaps>,
    /// The highest offset we mapped so far: the reference for widening.
    tx_ref: u64,
    /// The mappings the peer sent, keyed by subflow offset from `irs`.
    rx: MappingTable<S::RxMaps>,
    /// The highest offset received so far: the reference for widening.
    rx_ref: u64,
    /// The offset up to which the subflow's in-order data was handed to the
    /// connection (offset 1 is the first data octet).
    rx_handed: u64,
}

impl<S: Platform> Subflow<S> {
    /// A subflow in stage `stage` with the initial sequence numbers known
    /// so far (0 until learnt).
    pub fn new(stage: Stage, iss: u32, irs: u32) -> Self {
        Self {
            stage,
            tx_sample: None,
            timed_out: false,
            join: None,
            local_backup: None,
            remote_backup: None,
            join_ack_deadline: None,
            join_ack_sent: 0,
            syn_sent: false,
            iss,
            irs,
            tx: SentMappings::new(S::tx_maps()),
            tx_ref: 1,
            rx: MappingTable::new(S::rx_maps()),
            rx_ref: 1,
            rx_handed: 1,
        }
    }

    /// Where the subflow stands.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    pub(crate) fn set_stage(&mut self, stage: Stage) {
        self.stage = stage;
    }

    /// How it joined, if it is an additional subflow.
    pub fn join(&self) -> Option<&JoinInfo> {
        self.join.as_ref()
    }

    pub(crate) fn join_mut(&mut self) -> Option<&mut JoinInfo> {
        self.join.as_mut()
    }

    /// A subflow in stage `stage` that joins with `join`.
    pub(crate) fn joined(stage: Stage, iss: u32, irs: u32, join: JoinInfo) -> Self {
        let mut this = Self::new(stage, iss, irs);
        this.join = Some(join);
        this
    }

    /// Whether data goes on it only when no other subflow can take it: either
    /// end asked for it to be a backup.
    pub fn backup(&self) -> bool {
        let join = self.join.unwrap_or_default();
        self.local_backup.unwrap_or(join.local_backup)
            || self.remote_backup.unwrap_or(join.remote_backup)
    }

    /// Whether we asked for it to be a backup (in its MP_JOIN, or by
    /// MP_PRIO since).
    pub fn local_backup(&self) -> bool {
        let join = self.join.unwrap_or_default();
        self.local_backup.unwrap_or(join.local_backup)
    }

    /// We asked (MP_PRIO) for the subflow to be a backup, or no longer.
    pub(crate) fn set_local_backup(&mut self, backup: bool) {
        self.local_backup = Some(backup);
    }

    /// The peer asked (MP_PRIO) for the subflow to be a backup, or no
    /// longer.
    pub(crate) fn set_remote_backup(&mut self, backup: bool) {
        self.remote_backup = Some(backup);
    }

    pub(crate) fn join_ack_deadline(&self) -> Option<u64> {
        self.join_ack_deadline
    }

    /// How many times our third ACK of MP_JOIN went (TCP's ACK of the
    /// SYN/ACK, then each time [`Subflow::set_join_ack_deadline`] re-armed).
    pub(crate) fn join_ack_tries(&self) -> u32 {
        self.join_ack_sent
    }

    /// Our third ACK of MP_JOIN goes (again) now and is due again at
    /// `deadline`; `None`: it was acknowledged, or given up.
    pub(crate) fn set_join_ack_deadline(&mut self, deadline: Option<u64>) {
        if deadline.is_some() {
            self.join_ack_sent = self.join_ack_sent.saturating_add(1);
        }
        self.join_ack_deadline = deadline;
    }

    /// Records whether its retransmission timer has fired; true if it has
    /// and had not at the last look.
    pub(crate) fn note_timed_out(&mut self, timed_out: bool) -> bool {
        let first = timed_out && !self.timed_out;
        self.timed_out = timed_out;
        first
    }

    /// The scheduler's view of its TCP, if sampled.
    pub fn tx_sample(&self) -> Option<TxSample> {
        self.tx_sample
    }

    pub(crate) fn tx_sample_mut(&mut self) -> &mut TxSample {
        self.tx_sample.get_or_insert_with(TxSample::default)
    }

    /// Our initial sequence number.
    pub fn iss(&self) -> u32 {
        self.iss
    }

    pub(crate) fn set_iss(&mut self, iss: u32) {
        self.iss = iss;
    }

    /// Records that our SYN goes out: true the first time only.
    pub(crate) fn first_syn(&mut self) -> bool {
        !core::mem::replace(&mut self.syn_sent, true)
    }

    pub(crate) fn set_irs(&mut self, irs: u32) {
        self.irs = irs;
    }

    /// The number of mappings we keep for data sent and not yet acknowledged
    /// by the subflow, and of the peer's mappings kept for data not yet
    /// handed to the connection (memory that must stay bounded).
    pub fn table_sizes(&self) -> (usize, usize) {
        (self.tx.len(), self.rx.entries())
    }

    // --- sending ------------------------------------------------------

    /// The offset of our subflow sequence number `ssn`.
    pub(crate) fn tx_offset(&self, ssn: u32) -> Option<u64> {
        seq::subflow_offset(self.tx_ref, self.iss, ssn)
    }

    /// The mapping of ours that covers offset `offset`, with the offset
    /// where it starts.
    pub(crate) fn sent_mapping_at(&mut self, offset: u64) -> Option<(u64, SentMapping)> {
        self.tx.at(offset)
    }

    /// Records that `len` octets from offset `offset` carry the DSNs from
    /// `dsn`. False if no memory was left (or it would overlap, which the
    /// caller never asks).
    pub(crate) fn record_sent(&mut self, offset: u64, dsn: u64, len: u32) -> bool {
        if !self.tx.record(offset, dsn, len) {
            return false;
        }
        self.tx_ref = self.tx_ref.max(offset.saturating_add(u64::from(len)));
        true
    }

    /// Lengthens our mapping that starts at offset `start`, the last one,
    /// by the `extra` octets after it. False if it is not there, not the
    /// last, or would grow past a mapping's length.
    pub(crate) fn extend_sent(&mut self, start: u64, extra: u32) -> bool {
        let Some(end) = self.tx.extend(start, extra) else {
            return false;
        };
        self.tx_ref = self.tx_ref.max(end);
        true
    }

    /// Forgets our mappings that end at or before the subflow's `snd_una`:
    /// TCP never sends those octets again.
    pub fn acked(&mut self, snd_una: u32) {
        if let Some(offset) = self.tx_offset(snd_una) {
            self.tx.prune(offset);
        }
    }

    // --- receiving ----------------------------------------------------

    /// The offset of the peer's subflow sequence number `ssn`.
    pub(crate) fn rx_offset(&self, ssn: u32) -> Option<u64> {
        seq::subflow_offset(self.rx_ref, self.irs, ssn)
    }

    /// Records a mapping of the peer's, widened already.
    pub(crate) fn record_received(&mut self, mapping: Mapping) -> Result<(), RecordError> {
        self.rx.record(mapping)?;
        if mapping.data_len > 0 {
            self.rx_ref = self.rx_ref.max(mapping.subflow_seq);
        }
        Ok(())
    }

    /// The DSN of the peer's octet at offset `offset`, and how many octets
    /// from it on are mapped contiguously.
    pub(crate) fn lookup_received(&mut self, offset: u64) -> Option<Mapped> {
        self.rx.lookup(offset)
    }

    /// The offset up to which in-order data was handed to the connection.
    pub(crate) fn rx_handed(&self) -> u64 {
        self.rx_handed
    }

    /// In-order data up to offset `offset` was handed to the connection: the
    /// peer's mappings before it are no longer needed.
    pub(crate) fn set_rx_handed(&mut self, offset: u64) {
        self.rx_handed = offset;
        self.rx_ref = self.rx_ref.max(offset);
        self.rx.prune(offset);
    }
}

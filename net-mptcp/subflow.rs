// SPDX-License-Identifier: GPL-2.0

//! A subflow: one kernel TCP socket of an MPTCP connection, and what MPTCP
//! keeps for it. Its context lives on the socket (`sk_user_data`, see
//! `kernel_net::callbacks`), where the packet hooks find it.

use crate::kernel_net::{
    callbacks::SockEvents,
    errno,
    seqmap::RbSeqMap,
    sock::Sock,
    sync::{new_spinlock_bh, SpinLockBh},
    tcp,
};
use crate::mpcb::Mpcb;
use crate::mptcp_core::{
    mapping::{MapEntry, Mapped, Mapping, MappingTable, SentMapping, SentMappings},
    seq,
};
use kernel::{alloc::Flags, prelude::*, sync::Arc};

/// Where the MP_CAPABLE handshake of the subflow stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Client: our SYN with MP_CAPABLE is out, the SYN/ACK not in yet.
    SynSent,
    /// MP_CAPABLE agreed; until the peer shows that it has our keys (a DSS
    /// from it), our ACKs and first data carry both keys.
    KeysPending,
    /// MPTCP runs on the subflow.
    Established,
    /// The subflow is plain TCP (the connection fell back).
    Fallback,
}

/// The MPTCP state of a subflow.
pub(crate) struct SubState {
    pub(crate) stage: Stage,
    /// Our initial sequence number on the subflow (of our SYN).
    pub(crate) iss: u32,
    /// The peer's initial sequence number (of its SYN).
    pub(crate) irs: u32,
    /// Where our data went: subflow offsets (from `iss`) to DSNs, exactly
    /// as each mapping was sent.
    tx: SentMappings<RbSeqMap<SentMapping>>,
    /// The highest offset sent so far: the reference for widening.
    tx_ref: u64,
    /// What the peer's mappings say: subflow offsets (from `irs`) to DSNs.
    rx: MappingTable<RbSeqMap<MapEntry>>,
    /// The highest offset received so far: the reference for widening.
    rx_ref: u64,
    /// A mapping conflict or unmapped data: the subflow must be reset.
    pub(crate) broken: bool,
}

/// A subflow's context.
#[pin_data]
pub(crate) struct Subflow {
    pub(crate) mpcb: Arc<Mpcb>,
    #[pin]
    pub(crate) st: SpinLockBh<SubState>,
}

impl Subflow {
    /// The context of a subflow in handshake stage `stage`.
    pub(crate) fn new(
        mpcb: Arc<Mpcb>,
        stage: Stage,
        iss: u32,
        irs: u32,
        flags: Flags,
    ) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                mpcb,
                st <- new_spinlock_bh!(
                    SubState {
                        stage,
                        iss,
                        irs,
                        tx: SentMappings::new(RbSeqMap::with_flags(GFP_ATOMIC)),
                        tx_ref: 1,
                        rx: MappingTable::new(RbSeqMap::with_flags(GFP_ATOMIC)),
                        rx_ref: 1,
                        broken: false,
                    },
                    "Subflow::st"
                ),
            }),
            flags,
        )
    }

    /// Plans the next `len` bytes at DSN `dsn` that go to the subflow at its
    /// sequence number `ssn`, before TCP gets them (TCP may send segments
    /// while it takes the bytes): if `ssn` lies inside a mapping of ours (TCP
    /// took only part of it last time), the rest of that mapping, else a new
    /// mapping. Returns how many bytes to hand to TCP, at most `len`; 0 if no
    /// mapping could be recorded (the data waits).
    pub(crate) fn plan_send(&self, ssn: u32, dsn: u64, len: u32) -> u32 {
        let mut st = self.st.lock();
        let Some(offset) = seq::subflow_offset(st.tx_ref, st.iss, ssn) else {
            return 0;
        };
        if let Some((start, m)) = st.tx.at(offset) {
            let into = offset - start;
            // The rest must be the same bytes of the data stream.
            if m.dsn.wrapping_add(into) != dsn {
                return 0;
            }
            return len.min(m.len - into as u32);
        }
        if !st.tx.record(offset, dsn, len) {
            return 0;
        }
        st.tx_ref = st.tx_ref.max(offset.saturating_add(u64::from(len)));
        len
    }

    /// The mapping of ours that covers subflow sequence number `ssn`: the
    /// subflow offset where it starts, and the mapping.
    pub(crate) fn sent_mapping(st: &mut SubState, ssn: u32) -> Option<(u64, SentMapping)> {
        let offset = seq::subflow_offset(st.tx_ref, st.iss, ssn)?;
        st.tx.at(offset)
    }

    /// Forgets our mappings below the subflow's `snd_una` (TCP will not send
    /// those bytes again).
    pub(crate) fn prune_sent(&self, snd_una: u32) {
        let mut st = self.st.lock();
        if let Some(offset) = seq::subflow_offset(st.tx_ref, st.iss, snd_una) {
            st.tx.prune(offset);
        }
    }

    /// The DSN of the peer's byte at subflow sequence number `seq`, and how
    /// many bytes from it on are mapped contiguously.
    pub(crate) fn map_received(&self, seq: u32) -> Option<Mapped> {
        let mut st = self.st.lock();
        let offset = seq::subflow_offset(st.rx_ref, st.irs, seq)?;
        st.rx.lookup(offset)
    }

    /// Widens the peer's 32-bit subflow sequence number `seq` to an offset
    /// from its initial sequence number.
    pub(crate) fn rx_offset(st: &SubState, seq: u32) -> Option<u64> {
        seq::subflow_offset(st.rx_ref, st.irs, seq)
    }

    /// Records a mapping of the peer's `mapping` (widened already); a
    /// conflict with an earlier one breaks the subflow. Returns false then.
    pub(crate) fn record_received(&self, st: &mut SubState, mapping: Mapping) -> bool {
        if mapping.subflow_seq > st.rx_ref {
            st.rx_ref = mapping.subflow_seq;
        }
        match st.rx.record(mapping) {
            Ok(_) => true,
            Err(_) => {
                st.broken = true;
                false
            }
        }
    }

    /// Forgets the peer's mappings below the subflow's `copied_seq`.
    pub(crate) fn prune_received(&self, copied_seq: u32) {
        let mut st = self.st.lock();
        if let Some(offset) = seq::subflow_offset(st.rx_ref, st.irs, copied_seq) {
            st.rx.prune(offset);
        }
    }

    /// The peer broke the stream (data without a mapping, conflicting
    /// mappings): the subflow must be reset (see [`Subflow::reset_if_broken`]).
    pub(crate) fn protocol_error(&self) {
        self.st.lock().broken = true;
    }

    /// Resets the subflow if it is broken (RFC 8684, 3.7: without DSS
    /// checksums, a mapping problem cannot be recovered from); returns
    /// whether it did. Call without the subflow's lock.
    pub(crate) fn reset_if_broken(&self, sk: &Sock) -> bool {
        if !self.st.lock().broken {
            return false;
        }
        crate::mib::inc(sk.net(), crate::mib::Mib::SubflowReset);
        tcp::abort(sk, errno::econnreset());
        true
    }

    /// New data on the subflow. A reader sleeping in `recvmsg` reorders it
    /// in process context (the prequeue-style design of seed 004): it is
    /// only woken. Otherwise the work item moves it to the connection's
    /// queues (and drains an orphaned connection).
    fn kick(&self) {
        let (master, reader) = {
            let conn = self.mpcb.conn.lock();
            (conn.master.clone(), conn.readers_waiting > 0)
        };
        if let Some(master) = master {
            master.data_ready();
        }
        if !reader {
            self.mpcb.schedule();
        }
    }
}

impl SockEvents for Subflow {
    fn data_ready(&self, _sk: &Sock) {
        self.kick();
    }

    fn write_space(&self, sk: &Sock) {
        // Room again: `push` marks it full anew if it fills it.
        sk.set_nospace(false);
        self.prune_sent(sk.tcp_snapshot().snd_una);
        let master = self.mpcb.conn.lock().master.clone();
        if let Some(master) = master {
            master.write_space();
        }
        self.mpcb.schedule();
    }

    fn state_change(&self, _sk: &Sock) {
        let master = self.mpcb.conn.lock().master.clone();
        if let Some(master) = master {
            master.state_change();
        }
        self.mpcb.schedule();
    }

    fn error_report(&self, sk: &Sock) {
        let master = self.mpcb.conn.lock().master.clone();
        if let Some(master) = master {
            // `getsockopt(SO_ERROR)` reads the master's own `sk_err`.
            master.report_error(sk.error());
        }
    }
}

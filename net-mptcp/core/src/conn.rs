// SPDX-License-Identifier: GPL-2.0

//! One MPTCP connection, sans I/O: the connection state machine and the
//! data-level sender and receiver of RFC 8684, driven by events in and
//! decisions out, in the style of quinn-proto's `Connection`.
//!
//! The kernel side (net-mptcp/) only translates: a segment that reaches a
//! subflow becomes [`Connection::handle_segment`] (its options) and, once
//! TCP queued it in order, [`Connection::handle_data`] (its bytes); a
//! segment a subflow is about to send asks [`Connection::option_for`]; room
//! on a subflow asks [`Connection::poll_transmit`] what to map and send
//! next; the application's calls become [`Connection::app_write`],
//! [`Connection::shutdown_write`], [`Connection::pop_readable`]; time
//! passes through [`Connection::poll_timeout`] and
//! [`Connection::handle_timeout`]. What happened comes out of
//! [`Connection::poll_event`], and what it counted (for the MIB) out of
//! [`Connection::take_counts`]. Nothing here allocates, sleeps or locks:
//! the caller serialises the calls of one connection.
//!
//! # States (RFC 8684, sections 3.1, 3.3.3, 3.5, 3.7)
//!
//! ```text
//!  client:  Handshake --SYN/ACK with MP_CAPABLE--> Mptcp (keys unconfirmed)
//!               |                                      |  first DSS from the peer
//!               +--SYN/ACK without it--> Fallback      v
//!  server:  (third ACK with MP_CAPABLE) ----------> Mptcp (keys confirmed)
//!  Mptcp --data without DSS before confirmation, infinite mapping--> Fallback
//!  Mptcp --MP_FASTCLOSE with our key--> Closed
//! ```
//!
//! Within `Mptcp`, each direction closes on its own: our DATA_FIN once the
//! application shut down writing and every octet before it was mapped; the
//! peer's once its DATA_FIN is reached in order.

use super::crypto::{token_and_idsn, LocalKey, Sha256};
use super::mapping::{MapEntry, Mapping, RecordError, SentMapping};
use super::option::{
    CapableFlags, CapableForm, Dss, DssMapping, DssSeq, MpCapable, MptcpOption, Received,
};
use super::reassembly::{Insert, Payload, Reassembly};
use super::sched::{self, AnyScheduler};
use super::sender::{AckError, Sender, SentEntry};
use super::seq;
use super::store::SeqMap;
use super::subflow::{Stage, Subflow};

pub use super::subflow::SubflowId;
#[path = "join.rs"]
pub mod join;
#[path = "scheduling.rs"]
mod scheduling;
pub use scheduling::{Opportunism, PathSample};
#[path = "signal.rs"]
pub mod signal;

/// At most this many subflows per connection.
pub const MAX_SUBFLOWS: usize = 8;

/// The largest mapping we send: the data-level length is 16 bits.
pub const MAX_MAPPING: u32 = u16::MAX as u32;

/// The data-level retransmission timeout's bounds, in microseconds.
pub const MIN_RTO_US: u64 = 200_000;
/// See [`MIN_RTO_US`].
pub const MAX_RTO_US: u64 = 60_000_000;

/// What a connection takes from its environment: the storage it keeps its
/// growing state in, the payload type of received data (the kernel's rbtree
/// and skb references in the module, `BTreeMap`s and byte vectors on the
/// host), and SHA-256. The constructors must not allocate (the maps
/// allocate when entries are inserted).
pub trait Platform: Sized {
    /// SHA-256, for the peer's IDSN.
    type Sha256: Sha256;
    /// Received data: a reference to (part of) an skb in the kernel.
    type Payload: Payload;
    /// The reassembly queue.
    type RxQueue: SeqMap<Self::Payload>;
    /// The sender's record of what went where.
    type Sent: SeqMap<SentEntry>;
    /// A subflow's received mappings.
    type RxMaps: SeqMap<MapEntry>;
    /// A subflow's sent mappings.
    type TxMaps: SeqMap<SentMapping>;
    /// An empty reassembly queue.
    fn rx_queue() -> Self::RxQueue;
    /// An empty sender record.
    fn sent() -> Self::Sent;
    /// An empty table of received mappings.
    fn rx_maps() -> Self::RxMaps;
    /// An empty table of sent mappings.
    fn tx_maps() -> Self::TxMaps;
}

/// Which end opened the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// We sent the first SYN.
    Client,
    /// A listener of ours answered it.
    Server,
}

/// How the connection runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A client's MP_CAPABLE SYN is out; the SYN/ACK decides.
    Handshake,
    /// MPTCP is in use: data carries mappings.
    Mptcp,
    /// Regular TCP on the one subflow (RFC 8684, section 3.7): the caller
    /// passes the application's calls through to it.
    Fallback,
    /// Reset: MP_FASTCLOSE, or a protocol error with no subflow left.
    Closed,
}

/// Why a connection fell back to TCP (each has its counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FallbackReason {
    /// The SYN/ACK had no valid MP_CAPABLE (a plain TCP server, a
    /// middlebox, or one we must ignore: RFC 8684, section 3.1).
    SynAck,
    /// Data or an ACK of our data came without DSS before the peer showed
    /// it had our keys: a middlebox took MP_CAPABLE off our third ACK.
    NoDss,
    /// The peer sent the infinite mapping.
    InfiniteMapping,
}

/// What a connection tells its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// MPTCP is established (a client got a valid MP_CAPABLE SYN/ACK).
    Established,
    /// A client's connection is fully established: the server showed it
    /// has our keys, so it made the connection that joins will name
    /// (RFC 8684, section 3.1). Not for a server: its connection is fully
    /// established when it is made.
    FullyEstablished,
    /// The connection fell back to TCP.
    FellBack(FallbackReason),
    /// After a fallback, TCP took the last octet written before it: from
    /// now on the application's calls go straight to the subflow (and its
    /// waiters must wait there: nothing wakes them here any more).
    PassedThrough,
    /// The peer's DATA_FIN was reached in order: after what is readable,
    /// the reader sees the end of the stream.
    PeerDataFin,
    /// Our DATA_FIN was DATA_ACKed: the peer has every octet we wrote.
    DataFinAcked,
    /// The subflow must be reset (RFC 8684, section 3.6: the reason goes in
    /// MP_TCPRST): a mapping problem that cannot be recovered from.
    ResetSubflow {
        /// The subflow.
        id: SubflowId,
        /// The MP_TCPRST reason code.
        reason: u8,
    },
    /// MP_FASTCLOSE with our key: reset every subflow, the connection is
    /// gone (RFC 8684, section 3.5).
    FastClose,
    /// An additional subflow completed MP_JOIN: data may go on it.
    Joined {
        /// The subflow.
        id: SubflowId,
    },
    /// The peer announced an address (ADD_ADDR with the right HMAC): for
    /// the path manager.
    AddrAnnounced {
        /// The peer's address id.
        id: u8,
        /// The address.
        addr: core::net::IpAddr,
        /// Its port, if it gave one.
        port: Option<u16>,
    },
    /// The peer removed its address `id` (REMOVE_ADDR): its subflows go.
    AddrRemoved {
        /// The peer's address id.
        id: u8,
    },
}

macro_rules! counters {
    ($($name:ident: $doc:literal,)*) => {
        /// What a connection counts, for the MIB (names as Linux's MPTcpExt
        /// counters where the event is the same).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(clippy::upper_case_acronyms)]
        pub enum Counter {
            $(#[doc = $doc] $name,)*
        }

        impl Counter {
            /// Every counter, in order.
            pub const ALL: &'static [Counter] = &[$(Counter::$name,)*];
            /// The counter's name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Counter::$name => stringify!($name),)*
                }
            }
        }
    };
}

counters! {
    MPCapableSYNTX: "A connection sent its SYN with MP_CAPABLE (once, however often TCP sends it).",
    MPCapableSYNACKRX: "A SYN/ACK with a valid MP_CAPABLE arrived.",
    MPCapableFallbackSYNACK: "A client fell back: the SYN/ACK had no valid MP_CAPABLE.",
    MPFallbackNoDSS: "A client fell back: data or an ACK of data without DSS came before the peer had our keys.",
    InfiniteMapRx: "The peer sent the infinite mapping: fallback.",
    DataFinTx: "Our DATA_FIN was sent.",
    DataFinRx: "The peer's DATA_FIN was reached in order.",
    DSSNotMatching: "A mapping conflicted with an earlier one.",
    DSSNoMapping: "Data came without a mapping after MPTCP was established.",
    DataFinMismatch: "The peer announced two different DATA_FINs, or data beyond its DATA_FIN.",
    DataAckBeyond: "A DATA_ACK acknowledged data never sent; ignored.",
    OptionOutOfWindow: "A segment outside the subflow's window carried MPTCP options; ignored.",
    DataLevelRetransmit: "The data-level retransmission timer fired with data in flight.",
    SubflowTimeoutReinject: "A subflow's retransmission timer fired: what it held was marked to go again on other subflows.",
    Reinjected: "Octets sent again on a subflow after their first one failed or stalled.",
    DuplicateData: "Octets received at the data level that were received already.",
    MPFastcloseRx: "MP_FASTCLOSE with our key arrived: the connection is reset.",
    SubflowReset: "A subflow was reset for a protocol error.",
    MapAllocFail: "No memory to record a mapping: the data waits, nothing is lost.",
    TxNoMapping: "A segment of ours carried data that no mapping of ours covers (a bug: the peer resets the subflow).",
    MPJoinSynTx: "A join began: its first SYN with MP_JOIN was sent (not counted again when retransmitted).",
    MPJoinSynRx: "A SYN with MP_JOIN came for a connection of ours.",
    MPJoinSynBackupRx: "A SYN with MP_JOIN came asking for a backup subflow.",
    MPJoinSynAckRx: "The SYN/ACK of our MP_JOIN SYN carried the right HMAC.",
    MPJoinSynAckBackupRx: "The SYN/ACK of our MP_JOIN SYN asked for a backup subflow.",
    MPJoinSynAckHMacFailure: "The SYN/ACK of our MP_JOIN SYN carried a wrong HMAC: the subflow is reset.",
    MPJoinSynAckNoJoin: "The SYN/ACK of our MP_JOIN SYN had no MP_JOIN: the subflow is reset (no fallback for an additional subflow).",
    MPJoinAckRx: "The third ACK of MP_JOIN carried the right HMAC: the subflow joined.",
    MPJoinAckHMacFailure: "The third ACK of MP_JOIN carried no valid HMAC: the subflow is reset.",
    MPJoinAckTimeout: "Our third ACK of MP_JOIN was never acknowledged: the subflow is reset.",
    MPJoinRefused: "A join was refused: the connection is not MPTCP, or has as many subflows as the limit allows.",
    AddAddr: "An ADD_ADDR with the right HMAC arrived.",
    AddAddrTx: "An ADD_ADDR of ours was sent.",
    EchoAdd: "An echo of an ADD_ADDR arrived (whether or not the address was still announced).",
    EchoAddTx: "The echo of the peer's ADD_ADDR was sent.",
    AddAddrDrop: "An ADD_ADDR was dropped: wrong HMAC, or no room to echo it.",
    RmAddr: "An address id in a REMOVE_ADDR that arrived.",
    RmAddrTx: "A REMOVE_ADDR of ours was sent.",
    MPPrioTx: "An MP_PRIO of ours was sent.",
    MPPrioRx: "An MP_PRIO arrived.",
    MPRstRx: "A RST that TCP accepts arrived with MP_TCPRST.",
    OpportunisticRetransmit: "Octets at the head of the window sent again on a faster subflow while the peer's window was full.",
    Penalized: "A slow subflow holding the head of a full window had its congestion window halved.",
    InitialSubflowLost: "The initial subflow failed (a reset, a timeout) while others carried the connection on.",
}

const COUNTERS: usize = Counter::ALL.len();

/// TCP header flags (byte 13).
pub mod flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// A segment that reached a subflow, as its TCP header and options say.
#[derive(Clone, Copy, Debug)]
pub struct SegmentIn<'a> {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// TCP flags.
    pub flags: u8,
    /// Payload octets.
    pub payload_len: u32,
    /// The MPTCP options it carries.
    pub options: &'a Received,
}

impl SegmentIn<'_> {
    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// The receiving subflow's TCP state, to decide whether TCP will accept a
/// segment (RFC 793's acceptability test, as `tcp_sequence()` does it, and
/// RFC 5961's ACK check): options of a segment TCP drops must not change
/// the connection (a blind attacker could otherwise reset it).
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpWindow {
    /// The next sequence number expected.
    pub rcv_nxt: u32,
    /// `rcv_nxt` when the window was last advertised.
    pub rcv_wup: u32,
    /// The window advertised then.
    pub rcv_wnd: u32,
    /// The oldest unacknowledged sequence number we sent.
    pub snd_una: u32,
    /// The end of what TCP was handed to send (`write_seq`): no ACK can go
    /// beyond it. (Not `snd_nxt`, read without the socket's lock: TCP moves
    /// it after the segment left, and the ACK can be back on another CPU
    /// before.)
    pub snd_max: u32,
    /// The largest window the peer ever advertised.
    pub max_window: u32,
}

impl TcpWindow {
    /// Whether TCP accepts `seg`: its sequence numbers overlap the receive
    /// window and its ACK is neither ahead of what we sent nor older than a
    /// window behind it.
    pub fn accepts(&self, seg: &SegmentIn<'_>) -> bool {
        if seg.has(flags::RST) {
            return false;
        }
        let end = seg
            .seq
            .wrapping_add(seg.payload_len)
            .wrapping_add(u32::from(seg.has(flags::FIN)));
        let right = self.rcv_wup.wrapping_add(self.rcv_wnd);
        let in_window = !seq::before32(end, self.rcv_wup) && !seq::after32(seg.seq, right);
        let ack_ok = !seg.has(flags::ACK)
            || (!seq::after32(seg.ack, self.snd_max)
                && !seq::before32(seg.ack, self.snd_una.wrapping_sub(self.max_window)));
        in_window && ack_ok
    }
}

/// A segment a subflow is about to send.
#[derive(Clone, Copy, Debug)]
pub struct SegmentOut {
    /// Sequence number.
    pub seq: u32,
    /// TCP flags.
    pub flags: u8,
    /// Payload octets (all of a GSO burst).
    pub payload_len: u32,
    /// The subflow's `rcv_nxt`: what TCP received in order, handed to the
    /// connection or not yet.
    pub rcv_nxt: u32,
}

/// What a subflow can take now, for [`Connection::poll_transmit`].
#[derive(Clone, Copy, Debug)]
pub struct TxRoom {
    /// Octets its send buffer takes.
    pub room: u32,
    /// Its MSS.
    pub mss: u32,
    /// The subflow sequence number the next octet handed to TCP gets
    /// (TCP's `write_seq`).
    pub write_seq: u32,
    /// Segments in flight.
    pub packets_out: u32,
    /// Nagle's algorithm is off (TCP_NODELAY).
    pub nodelay: bool,
    /// The octets TCP puts in one skb (its GSO burst: `gso_segs` times the
    /// MSS), or 0 if not known yet. A mapping ends its skb, so mappings
    /// sized to this fill every skb; one a little longer would add an skb
    /// of a segment or two to each.
    pub size_goal: u32,
    /// The application is writing now and pushes again when its write
    /// ends: a mapping that would be shorter than an skb for lack of data
    /// waits for the rest, instead of going out as an skb of its own.
    pub more: bool,
    /// TCP's `snd_nxt`, if known: the octets before it have been sent, so
    /// their mapping is fixed.
    pub snd_nxt: Option<u32>,
}

/// What to hand a subflow: the octets `[dsn, dsn + len)` of the send buffer,
/// under a mapping recorded already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The DSN of the first octet.
    pub dsn: u64,
    /// The octets.
    pub len: u32,
    /// The octets end their mapping as it stands (it may still grow: see
    /// `new_mapping`).
    pub end_of_mapping: bool,
    /// The octets start a new mapping: the caller first closes TCP's record
    /// (EOR on the last skb queued), so that no skb spans two mappings.
    /// Otherwise they continue the mapping TCP's last skb carries, whose
    /// record stays open for them (a mapping grows while none of it has
    /// been sent, so that a write's tail and the next write share an skb).
    pub new_mapping: bool,
}

/// What [`Connection::handle_data`] did with a payload.
#[derive(Debug, PartialEq, Eq)]
pub enum DataOutcome {
    /// Every octet is queued (or was already): the caller may release the
    /// subflow's copy.
    Taken,
    /// No memory to queue all of it: nothing the DATA_ACK covers was lost.
    /// The caller hands the same data again later (keeping its own
    /// reference to it): octets queued already are skipped then.
    NoMemory,
    /// Octets without a mapping, or a mapping error: the subflow must be
    /// reset (an [`Event::ResetSubflow`] is queued).
    Broken,
    /// The connection does not take data (fallback, closed).
    NotMptcp,
}

/// The peer's key and what derives from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Remote {
    /// Its 64-bit key.
    pub key: u64,
    /// Its initial data sequence number.
    pub idsn: u64,
}

/// Our DATA_FIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TxFin {
    /// Not asked for.
    None,
    /// The application shut down writing: it goes once every octet before
    /// it was mapped.
    Wanted,
    /// Sent (the sender records it): on every segment until DATA_ACKed.
    Sent,
}

/// A small ring of events.
struct Events {
    ring: [Option<Event>; 16],
    head: usize,
    len: usize,
}

impl Events {
    const fn new() -> Self {
        Self {
            ring: [None; 16],
            head: 0,
            len: 0,
        }
    }

    fn push(&mut self, event: Event) {
        if self.len == self.ring.len() {
            // Full: the oldest goes (events are idempotent facts).
            self.head = (self.head + 1) % self.ring.len();
            self.len -= 1;
        }
        let at = (self.head + self.len) % self.ring.len();
        self.ring[at] = Some(event);
        self.len += 1;
    }

    fn pop(&mut self) -> Option<Event> {
        if self.len == 0 {
            return None;
        }
        let event = self.ring[self.head].take();
        self.head = (self.head + 1) % self.ring.len();
        self.len -= 1;
        event
    }
}

/// One MPTCP connection.
pub struct Connection<S: Platform> {
    role: Role,
    mode: Mode,
    /// The peer showed it has our key (it sent a DSS, RFC 8684, 3.1); until
    /// then a client's ACKs and first data repeat both keys.
    keys_confirmed: bool,
    /// The peer's MP_CAPABLE had "C": it takes no additional subflow to
    /// the address and port of the initial subflow (RFC 8684, 3.1).
    peer_denies_join_to_initial: bool,
    /// The peer's latest mapping named its DSN in 64 bits (or was the
    /// implicit one of MP_CAPABLE with data): our DATA_ACKs do too.
    peer_dsn64: bool,
    local: LocalKey,
    remote: Option<Remote>,
    /// What was sent where, from our IDSN.
    sender: Sender<S::Sent>,
    /// The DSN after the last octet the application wrote.
    write_seq: u64,
    /// The DSN after the last octet handed, in order, to a subflow's TCP:
    /// after a fallback, TCP must get the rest from there on before any
    /// byte the application writes next.
    tcp_handed: u64,
    /// After a fallback, every octet written before it went to TCP.
    drained: bool,
    fin: TxFin,
    /// The peer's data-level receive window: the highest DSN it allows
    /// (DATA_ACK plus the window of the segment that carried it, RFC 8684,
    /// section 3.3.4), once known.
    snd_wnd_edge: Option<u64>,
    /// The data received, once the peer's IDSN is known.
    rx: Option<Reassembly<S::Payload, S::RxQueue>>,
    /// The application is gone: received data is dropped as it arrives.
    rx_discard: bool,
    /// An ACK must go, no TCP ACK being due: the DATA_ACK moved without
    /// data (the peer's DATA_FIN), or our DATA_FIN is to be sent again.
    ack_wanted: bool,
    /// IDSNs are moved to within 1 MiB of 2^64 (a debugging knob, to test
    /// the wrap of the data sequence space; both ends must set it).
    idsn_near_wrap: bool,
    subflows: [Option<Subflow<S>>; MAX_SUBFLOWS],
    /// Subflows (a bit per id) on which our third ACK of MP_JOIN must go
    /// again.
    join_acks_wanted: u8,
    /// Address signalling waiting for a pure ACK.
    signals: signal::Signals,
    /// Which subflow new data goes on, when several are established.
    scheduler: AnyScheduler,
    /// Subflows (a bit per id) the scheduler chose while another asked:
    /// the caller pushes on them.
    push_wanted: u8,
    /// Opportunistic retransmission and penalisation, if on.
    opportunism: Opportunism,
    /// Subflows (a bit per id) penalised, the penalty not yet applied by
    /// the caller.
    penalties: u8,
    /// Subflows (a bit per id) the peer reset with an MP_TCPRST that says
    /// the condition is not transient: that path is not tried again
    /// ([`Connection::refused_for_good`]).
    refused: u8,
    /// The time of the latest [`Connection::subflow_sample`] (µs).
    sampled_at_us: u64,
    /// The data-level retransmission timer: its deadline (µs), the timeout
    /// it was armed with, and `snd_una` when it was armed.
    rto_deadline: Option<u64>,
    /// The timeout when the subflow holding the oldest data in flight is
    /// not known: the RTO given last.
    rto_us: u64,
    /// Each subflow's own RTO, as its TCP last gave it (0: not known).
    subflow_rto_us: [u64; MAX_SUBFLOWS],
    /// Timeouts in a row without progress (exponential backoff).
    rto_backoff: u32,
    events: Events,
    counts: [u32; COUNTERS],
}

/// What the MP_CAPABLE of a SYN, SYN/ACK or third ACK must be for us to use
/// MPTCP (RFC 8684, section 3.1): version 1, "B" clear (an extension we do
/// not know makes the option to be ignored), "H" set (HMAC-SHA256, the only
/// algorithm; with no algorithm bit the option is invalid), and "A" clear
/// (we do not do DSS checksums, so a peer that requires them gets TCP).
pub fn capable_acceptable(option: &MpCapable) -> bool {
    option.version == 1 && capable_flags_acceptable(option.flags)
}

fn capable_flags_acceptable(flags: CapableFlags) -> bool {
    !flags.contains(CapableFlags::B) && flags.hmac_sha256() && !flags.checksum_required()
}

/// An IDSN moved to within 1 MiB of 2^64, keeping 16 bits of it: what both
/// ends use under the debugging knob that tests the wrap of the data
/// sequence space (a connection then moves past 2^64 after less than 1 MiB).
pub const fn idsn_near_wrap(idsn: u64) -> u64 {
    u64::MAX - (1 << 20) + (idsn & 0xffff)
}

/// MP_CAPABLE version 1 with HMAC-SHA256 and no checksum: what we send.
pub fn capable(form: CapableForm) -> MptcpOption {
    MptcpOption::MpCapable(MpCapable {
        version: 1,
        flags: CapableFlags::H,
        form,
    })
}

/// A listener's MP_CAPABLE of a SYN/ACK; with "C" if it takes no
/// additional subflow to the address and port the SYN came to (Linux's
/// `net.mptcp.allow_join_initial_addr_port = 0`).
pub fn capable_synack(sender_key: u64, deny_join_to_source: bool) -> MptcpOption {
    let c = if deny_join_to_source {
        CapableFlags::C.0
    } else {
        0
    };
    MptcpOption::MpCapable(MpCapable {
        version: 1,
        flags: CapableFlags(CapableFlags::H.0 | c),
        form: CapableForm::SynAck { sender_key },
    })
}

/// What a listener does with a SYN's options: whether to answer with
/// MP_CAPABLE (the caller then draws a key and remembers it). A higher
/// version than ours is answered with ours, version 1 (RFC 8684, 3.1).
pub fn listener_accepts_syn(options: &Received) -> bool {
    matches!(
        options.mp_capable,
        Some(MpCapable { version, flags, form: CapableForm::Syn })
            if version >= 1 && capable_flags_acceptable(flags)
    )
}

/// What completes a listener's MP_CAPABLE handshake (RFC 8684, section
/// 3.1): the third ACK (or the first data, if that ACK was lost) echoing
/// our key `local_key`. Gives the peer's key and, with data, the data-level
/// length of the first mapping; `None` if the child must be plain TCP.
pub fn listener_third_ack(options: &Received, local_key: u64) -> Option<(u64, Option<u16>)> {
    let option = options.mp_capable?;
    if !capable_acceptable(&option) {
        return None;
    }
    match option.form {
        CapableForm::Ack {
            sender_key,
            receiver_key,
        } if receiver_key == local_key => Some((sender_key, None)),
        CapableForm::AckData {
            sender_key,
            receiver_key,
            data_len,
            ..
        } if receiver_key == local_key => Some((sender_key, Some(data_len))),
        _ => None,
    }
}

impl<S: Platform> Connection<S> {
    fn new(role: Role, mode: Mode, local: LocalKey) -> Self {
        let first = local.idsn.wrapping_add(1);
        Self {
            role,
            mode,
            keys_confirmed: false,
            peer_denies_join_to_initial: false,
            peer_dsn64: false,
            local,
            remote: None,
            sender: Sender::new(S::sent(), local.idsn),
            write_seq: first,
            tcp_handed: first,
            drained: false,
            fin: TxFin::None,
            snd_wnd_edge: None,
            rx: None,
            rx_discard: false,
            ack_wanted: false,
            idsn_near_wrap: false,
            subflows: [const { None }; MAX_SUBFLOWS],
            join_acks_wanted: 0,
            signals: signal::Signals::new(),
            scheduler: AnyScheduler::Default(sched::DefaultScheduler),
            push_wanted: 0,
            opportunism: Opportunism::default(),
            penalties: 0,
            refused: 0,
            sampled_at_us: 0,
            rto_deadline: None,
            rto_us: MIN_RTO_US,
            subflow_rto_us: [0; MAX_SUBFLOWS],
            rto_backoff: 0,
            events: Events::new(),
            counts: [0; COUNTERS],
        }
    }

    /// A client's connection with our key `local`: its initial subflow (id
    /// 0) sends MP_CAPABLE on its SYN.
    pub fn client(local: LocalKey) -> Self {
        let mut this = Self::new(Role::Client, Mode::Handshake, local);
        this.subflows[0] = Some(Subflow::new(Stage::SynSent, 0, 0));
        this
    }

    /// A server's connection, from a listener's child whose handshake
    /// completed with MP_CAPABLE (see [`listener_third_ack`]): our key, the
    /// peer's, the child's initial sequence numbers, and the data-level
    /// length of the peer's first data if the third ACK carried it.
    pub fn server(
        local: LocalKey,
        remote: Remote,
        iss: u32,
        irs: u32,
        first_data: Option<u16>,
    ) -> Self {
        let mut this = Self::new(Role::Server, Mode::Mptcp, local);
        // The third ACK echoed our key: the client has it.
        this.keys_confirmed = true;
        this.establish(remote);
        this.subflows[0] = Some(Subflow::new(Stage::Established, iss, irs));
        if let Some(len) = first_data {
            this.record_first_data(0, len);
        }
        this
    }

    /// A connection that never spoke MPTCP: a listener's child without
    /// MP_CAPABLE, which the master passes through.
    pub fn plain(local: LocalKey) -> Self {
        let mut this = Self::new(Role::Server, Mode::Fallback, local);
        this.subflows[0] = Some(Subflow::new(Stage::Fallback, 0, 0));
        this
    }

    /// Whether the peer's MP_CAPABLE said it takes no additional subflow
    /// to the initial subflow's address and port ("C").
    pub fn peer_denies_join_to_initial(&self) -> bool {
        self.peer_denies_join_to_initial
    }

    /// Moves our IDSN, and the peer's, to within 1 MiB of 2^64 (see
    /// [`idsn_near_wrap`]); only before any data was sent or received.
    pub fn set_idsn_near_wrap(&mut self) {
        self.idsn_near_wrap = true;
        self.local.idsn = idsn_near_wrap(self.local.idsn);
        let first = self.local.idsn.wrapping_add(1);
        self.sender = Sender::new(S::sent(), self.local.idsn);
        self.write_seq = first;
        self.tcp_handed = first;
        if let Some(remote) = self.remote {
            let remote = Remote {
                key: remote.key,
                idsn: idsn_near_wrap(remote.idsn),
            };
            self.establish(remote);
        }
    }

    /// The IDSN of the peer's key.
    fn idsn_of(&self, key: u64) -> u64 {
        let idsn = token_and_idsn::<S::Sha256>(key).1;
        if self.idsn_near_wrap {
            idsn_near_wrap(idsn)
        } else {
            idsn
        }
    }

    fn establish(&mut self, remote: Remote) {
        self.remote = Some(remote);
        self.rx = Some(Reassembly::new(S::rx_queue(), remote.idsn, u64::MAX));
        self.mode = Mode::Mptcp;
    }

    /// The peer showed it has our keys (a DSS, or an ADD_ADDR HMAC keyed
    /// with them): a client's connection is fully established, as the
    /// server's is from the third ACK (RFC 8684, section 3.1).
    pub(crate) fn confirm_keys(&mut self) {
        if !core::mem::replace(&mut self.keys_confirmed, true) && self.role == Role::Client {
            self.events.push(Event::FullyEstablished);
        }
    }

    /// Which end we are.
    pub fn role(&self) -> Role {
        self.role
    }

    /// How the connection runs.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Our key, token and IDSN.
    pub fn local(&self) -> LocalKey {
        self.local
    }

    /// The peer's key and IDSN, once known.
    pub fn remote(&self) -> Option<Remote> {
        self.remote
    }

    /// The subflow `id`, if it exists.
    pub fn subflow(&mut self, id: SubflowId) -> Option<&mut Subflow<S>> {
        self.subflows.get_mut(id as usize)?.as_mut()
    }

    /// Whether a subflow other than `id` can carry data (established at
    /// the MPTCP level): the connection does not depend on `id` alone.
    pub fn has_other_subflow(&self, id: SubflowId) -> bool {
        self.mode == Mode::Mptcp
            && self.subflows.iter().enumerate().any(|(i, sf)| {
                i != id as usize
                    && sf
                        .as_ref()
                        .is_some_and(|sf| sf.stage() == Stage::Established)
            })
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop()
    }

    /// Hands each counter that moved to `f` with how much, and clears them.
    pub fn take_counts(&mut self, mut f: impl FnMut(Counter, u32)) {
        for (i, n) in self.counts.iter_mut().enumerate() {
            if *n > 0 {
                f(Counter::ALL[i], *n);
                *n = 0;
            }
        }
    }

    fn count(&mut self, counter: Counter) {
        self.add_count(counter, 1);
    }

    fn add_count(&mut self, counter: Counter, n: u32) {
        let slot = &mut self.counts[counter as usize];
        *slot = slot.saturating_add(n);
    }

    fn fall_back(&mut self, reason: FallbackReason) {
        self.mode = Mode::Fallback;
        for sf in self.subflows.iter_mut().flatten() {
            sf.set_stage(Stage::Fallback);
        }
        self.count(match reason {
            FallbackReason::SynAck => Counter::MPCapableFallbackSYNACK,
            FallbackReason::NoDss => Counter::MPFallbackNoDSS,
            FallbackReason::InfiniteMapping => Counter::InfiniteMapRx,
        });
        self.events.push(Event::FellBack(reason));
    }

    fn reset_subflow(&mut self, id: SubflowId, reason: u8) {
        if let Some(sf) = self.subflow(id) {
            sf.set_stage(Stage::Closed);
        }
        self.count(Counter::SubflowReset);
        self.events.push(Event::ResetSubflow { id, reason });
    }

    // --- options of incoming segments ---------------------------------

    /// A segment reached subflow `id`, before TCP processed it: its options.
    /// `tcp` is the subflow's TCP state, to ignore what TCP will drop;
    /// `window` the segment's receive window (scaled). Returns whether the
    /// DATA_ACK advanced (the send buffer may free memory and writers wake).
    pub fn handle_segment(
        &mut self,
        id: SubflowId,
        seg: &SegmentIn<'_>,
        tcp: &TcpWindow,
        window: u32,
        now_us: u64,
    ) -> bool {
        let Some(stage) = self.subflow(id).map(|sf| sf.stage()) else {
            return false;
        };
        if seg.has(flags::RST) {
            self.reset_received(id, stage, seg, tcp);
            return false;
        }
        match (self.mode, stage) {
            // The SYN/ACK of our MP_CAPABLE SYN decides (TCP checks that it
            // acknowledges our SYN; so do we, before acting on it).
            (Mode::Handshake, Stage::SynSent) => {
                self.handle_synack(id, seg);
                false
            }
            (Mode::Mptcp, Stage::JoinSynSent) => {
                self.handle_join_synack(id, seg, now_us);
                false
            }
            (Mode::Mptcp, Stage::Established | Stage::JoinPreEstablished) => {
                if seg.has(flags::SYN) {
                    return false;
                }
                if !tcp.accepts(seg) {
                    if !seg.options.is_empty() {
                        self.count(Counter::OptionOutOfWindow);
                    }
                    return false;
                }
                if stage == Stage::JoinPreEstablished {
                    self.join_acknowledged(id);
                }
                self.handle_mptcp_segment(id, seg, window, now_us)
            }
            _ => false,
        }
    }

    fn handle_synack(&mut self, id: SubflowId, seg: &SegmentIn<'_>) {
        let Some(sf) = self.subflow(id) else { return };
        let iss = sf.iss();
        if !(seg.has(flags::SYN) && seg.has(flags::ACK)) || seg.ack != iss.wrapping_add(1) {
            return;
        }
        match seg.options.mp_capable {
            Some(
                ref m @ MpCapable {
                    form: CapableForm::SynAck { sender_key },
                    ..
                },
            ) if capable_acceptable(m) => {
                if let Some(sf) = self.subflow(id) {
                    sf.set_irs(seg.seq);
                    sf.set_stage(Stage::Established);
                }
                self.peer_denies_join_to_initial = m.flags.no_join_to_source();
                let idsn = self.idsn_of(sender_key);
                self.establish(Remote {
                    key: sender_key,
                    idsn,
                });
                self.count(Counter::MPCapableSYNACKRX);
                self.events.push(Event::Established);
            }
            // A plain TCP server, a middlebox, or an MP_CAPABLE we must
            // ignore (RFC 8684, section 3.1): TCP it is.
            _ => self.fall_back(FallbackReason::SynAck),
        }
    }

    fn handle_mptcp_segment(
        &mut self,
        id: SubflowId,
        seg: &SegmentIn<'_>,
        window: u32,
        now_us: u64,
    ) -> bool {
        let options = seg.options;
        if let Some(fastclose) = options.mp_fastclose {
            if fastclose.receiver_key == self.local.key {
                self.count(Counter::MPFastcloseRx);
                self.mode = Mode::Closed;
                for sf in self.subflows.iter_mut().flatten() {
                    sf.set_stage(Stage::Closed);
                }
                self.events.push(Event::FastClose);
                return false;
            }
        }
        self.handle_signals(id, options);
        let mut freed = false;
        if let Some(dss) = options.dss {
            // The peer has our keys (RFC 8684, section 3.1).
            self.confirm_keys();
            if let Some(ack) = dss.data_ack {
                freed = self.handle_data_ack(ack, window, now_us);
            }
            if let Some(m) = dss.mapping {
                self.handle_mapping(id, seg, &m, dss.data_fin);
            }
        } else if let Some(MpCapable {
            form: CapableForm::AckData { data_len, .. },
            ..
        }) = options.mp_capable
        {
            // The client's first data, with its keys (its third ACK may be
            // lost): mapped to the first DSN.
            if self.role == Role::Server {
                self.record_first_data(id, data_len);
            }
        } else if self.role == Role::Client && !self.keys_confirmed {
            let first_ack = self.subflow(id).map(|sf| sf.iss().wrapping_add(1));
            let acks_data = first_ack.is_some_and(|a| seq::after32(seg.ack, a));
            if seg.payload_len > 0 || acks_data {
                // Data, or an ACK of our data, without DSS before the peer
                // showed it has our keys: it fell back to TCP (a middlebox
                // took MP_CAPABLE off our third ACK). So do we (RFC 8684,
                // section 3.7).
                self.fall_back(FallbackReason::NoDss);
            }
        }
        freed
    }

    /// The mapping of a client's first data (RFC 8684, section 3.1: MP_CAPABLE
    /// with data maps subflow offset 1 to the peer's IDSN + 1).
    fn record_first_data(&mut self, id: SubflowId, data_len: u16) {
        let Some(remote) = self.remote else { return };
        self.peer_dsn64 = true;
        let mapping = Mapping {
            subflow_seq: 1,
            dsn: remote.idsn.wrapping_add(1),
            data_len: u32::from(data_len),
            data_fin: false,
        };
        self.record_mapping(id, mapping);
    }

    fn handle_mapping(
        &mut self,
        id: SubflowId,
        seg: &SegmentIn<'_>,
        m: &DssMapping,
        data_fin: bool,
    ) {
        if self.rx.is_none() {
            return;
        }
        if m.data_len == 0 && !data_fin {
            // The infinite mapping: the peer fell back (RFC 8684, 3.7). It
            // comes with the data it covers: on a segment without data it
            // maps nothing (Linux looks at no mapping of a pure ACK).
            if seg.payload_len > 0 {
                self.fall_back(FallbackReason::InfiniteMapping);
            }
            return;
        }
        let Some(rx) = self.rx.as_ref() else { return };
        let dsn = match m.dsn {
            DssSeq::Bits64(v) => v,
            DssSeq::Bits32(v) => seq::expand_dsn(rx.rcv_nxt(), v),
        };
        self.peer_dsn64 = matches!(m.dsn, DssSeq::Bits64(_));
        let Some(sf) = self.subflow(id) else { return };
        let reference = sf.rx_offset(seg.seq).unwrap_or(1);
        let Some(mapping) = Mapping::from_dss(reference, m.subflow_seq, dsn, m.data_len, data_fin)
        else {
            self.count(Counter::DSSNotMatching);
            self.reset_subflow(id, super::option::tcprst_reason::MPTCP_SPECIFIC);
            return;
        };
        self.record_mapping(id, mapping);
    }

    fn record_mapping(&mut self, id: SubflowId, mapping: Mapping) {
        let Some(sf) = self.subflow(id) else { return };
        match sf.record_received(mapping) {
            Ok(()) => {}
            Err(RecordError::NoMemory) => {
                // Data under an unrecorded mapping cannot be handed on: it
                // waits on the subflow, and the peer sends the mapping
                // again with its retransmissions. Nothing is lost.
                self.count(Counter::MapAllocFail);
                return;
            }
            Err(RecordError::Infinite) => {
                self.fall_back(FallbackReason::InfiniteMapping);
                return;
            }
            Err(RecordError::DataFinMismatch) => {
                self.count(Counter::DataFinMismatch);
                self.reset_subflow(id, super::option::tcprst_reason::MPTCP_SPECIFIC);
                return;
            }
            Err(RecordError::Conflict { .. } | RecordError::OutOfRange) => {
                self.count(Counter::DSSNotMatching);
                self.reset_subflow(id, super::option::tcprst_reason::MPTCP_SPECIFIC);
                return;
            }
        }
        if let Some(fin) = mapping.data_fin_dsn() {
            self.note_peer_data_fin(id, fin);
        }
    }

    fn note_peer_data_fin(&mut self, id: SubflowId, fin: u64) {
        let Some(rx) = self.rx.as_mut() else { return };
        if rx.note_data_fin(fin).is_err() {
            self.count(Counter::DataFinMismatch);
            self.reset_subflow(id, super::option::tcprst_reason::MPTCP_SPECIFIC);
            return;
        }
        self.consume_peer_data_fin();
    }

    fn consume_peer_data_fin(&mut self) {
        let Some(rx) = self.rx.as_mut() else { return };
        if rx.consume_data_fin() {
            self.count(Counter::DataFinRx);
            self.ack_wanted = true;
            self.events.push(Event::PeerDataFin);
        }
    }

    /// Whether an ACK must go now, no TCP ACK being due: to carry a new
    /// DATA_ACK (it covers the peer's DATA_FIN), our DATA_FIN again (the
    /// data-level timer fired before the peer DATA_ACKed it), or address
    /// signalling (see [`signal`]). Clears the request.
    pub fn take_ack_wanted(&mut self) -> bool {
        core::mem::take(&mut self.ack_wanted)
    }

    fn handle_data_ack(&mut self, ack: DssSeq, window: u32, now_us: u64) -> bool {
        let ack = match ack {
            DssSeq::Bits64(v) => v,
            DssSeq::Bits32(v) => seq::expand_dsn(self.sender.snd_una(), v),
        };
        let freed = match self.sender.data_ack(ack) {
            Ok(acked) => {
                if acked.data_fin {
                    self.events.push(Event::DataFinAcked);
                }
                let progress = acked.bytes > 0 || acked.data_fin;
                if progress {
                    // The timer restarts for what is still in flight. (A
                    // DATA_ACK that repeats the last one is no progress: the
                    // ACKs of a subflow that carries nothing new must not
                    // hold the timer off.)
                    self.rto_backoff = 0;
                    self.rto_deadline = (self.sender.in_flight() > 0)
                        .then(|| now_us.saturating_add(self.data_rto_us()));
                }
                progress
            }
            Err(AckError::BeyondSndNxt) => {
                self.count(Counter::DataAckBeyond);
                return false;
            }
            Err(AckError::Stale) => false,
        };
        // The window is relative to this DATA_ACK (RFC 8684, 3.3.4); a
        // stale one must not move the edge back.
        if !seq::before64(ack, self.sender.snd_una()) {
            let edge = ack.wrapping_add(u64::from(window));
            self.snd_wnd_edge = match self.snd_wnd_edge {
                Some(old) if seq::after64(old, edge) => Some(old),
                _ => Some(edge),
            };
        }
        freed
    }

    // --- received data --------------------------------------------------

    /// Whether subflow `id`'s next octet to hand over is the one the
    /// connection waits for (at its DATA_ACK, or before it): such data is
    /// taken even into a full receive buffer, since the reader needs it;
    /// data beyond a gap may wait on its subflow. True when nothing tells
    /// (no mapping yet, or not MPTCP).
    pub fn rx_in_order(&mut self, id: SubflowId) -> bool {
        let Some(ack) = self.data_ack() else {
            return true;
        };
        let Some(sf) = self.subflow(id) else {
            return true;
        };
        let handed = sf.rx_handed();
        match sf.lookup_received(handed) {
            Some(m) => !seq::after64(m.dsn, ack),
            None => true,
        }
    }

    /// In-order data of subflow `id`, from its sequence number `ssn`, after
    /// TCP queued it: each octet goes to its DSN by the subflow's mappings,
    /// into the reassembly queue. Octets already handed are skipped, so the
    /// caller may hand the same data again (after [`DataOutcome::NoMemory`]).
    pub fn handle_data(&mut self, id: SubflowId, ssn: u32, mut payload: S::Payload) -> DataOutcome {
        if self.mode != Mode::Mptcp {
            return DataOutcome::NotMptcp;
        }
        let Some(sf) = self.subflow(id) else {
            return DataOutcome::NotMptcp;
        };
        if sf.stage() != Stage::Established {
            return DataOutcome::NotMptcp;
        }
        let Some(mut offset) = sf.rx_offset(ssn) else {
            return DataOutcome::Taken;
        };
        // Skip what was handed already.
        let handed = sf.rx_handed();
        if offset < handed {
            let skip = handed - offset;
            if skip >= payload.len() as u64 {
                return DataOutcome::Taken;
            }
            payload.trim_front(skip as usize);
            offset = handed;
        }
        let mut rest = Some(payload);
        while let Some(mut payload) = rest.take() {
            if payload.is_empty() {
                break;
            }
            let Some(sf) = self.subflow(id) else {
                return DataOutcome::NotMptcp;
            };
            let Some(mapped) = sf.lookup_received(offset) else {
                // Data without a mapping after MPTCP was established: the
                // peer or a middlebox broke the stream (RFC 8684, 3.7).
                self.count(Counter::DSSNoMapping);
                self.reset_subflow(id, super::option::tcprst_reason::MPTCP_SPECIFIC);
                return DataOutcome::Broken;
            };
            let piece = if (payload.len() as u64) > mapped.len {
                let front = payload.split_front(mapped.len as usize);
                rest = Some(payload);
                front
            } else {
                payload
            };
            let len = piece.len() as u64;
            let Some(rx) = self.rx.as_mut() else {
                return DataOutcome::NotMptcp;
            };
            match rx.insert(mapped.dsn, piece) {
                Insert::Queued { bytes } => {
                    if bytes < len {
                        self.add_count(Counter::DuplicateData, (len - bytes) as u32);
                    }
                }
                Insert::Duplicate => self.add_count(Counter::DuplicateData, len as u32),
                Insert::NoMemory(_) | Insert::OverBudget(_) => return DataOutcome::NoMemory,
                Insert::BeyondDataFin(_) => {
                    self.count(Counter::DataFinMismatch);
                    self.reset_subflow(id, super::option::tcprst_reason::MPTCP_SPECIFIC);
                    return DataOutcome::Broken;
                }
            }
            offset += len;
            if let Some(sf) = self.subflow(id) {
                sf.set_rx_handed(offset);
            }
        }
        self.consume_peer_data_fin();
        if self.rx_discard {
            self.discard_readable();
        }
        DataOutcome::Taken
    }

    /// The next in-order payload for the reader, if one was received.
    pub fn pop_readable(&mut self) -> Option<S::Payload> {
        self.rx.as_mut()?.pop()
    }

    /// The next in-order payload, left queued (`MSG_PEEK`).
    pub fn peek_readable(&mut self) -> Option<&mut S::Payload> {
        self.rx.as_mut()?.peek()
    }

    /// Octets received in order and not read yet.
    pub fn readable(&self) -> u64 {
        self.rx.as_ref().map_or(0, |rx| rx.readable())
    }

    /// Octets queued at the connection level, read or not yet in order.
    pub fn rx_queued(&self) -> u64 {
        self.rx.as_ref().map_or(0, |rx| rx.queued())
    }

    /// Entries of the reassembly queue (memory that must stay bounded).
    pub fn rx_segments(&self) -> usize {
        self.rx.as_ref().map_or(0, |rx| rx.segments())
    }

    /// Whether the reader is at the end of the stream: the peer's DATA_FIN
    /// came and every octet before it was read.
    pub fn at_eof(&self) -> bool {
        self.rx.as_ref().is_some_and(|rx| rx.at_eof())
    }

    /// The DATA_ACK: the DSN of the next octet expected in order.
    pub fn data_ack(&self) -> Option<u64> {
        self.rx.as_ref().map(|rx| rx.rcv_nxt())
    }

    /// Drops out-of-order data (highest DSN first) until `bytes` octets are
    /// freed, under memory pressure; data the DATA_ACK covers stays.
    pub fn prune_out_of_order(&mut self, bytes: u64) -> u64 {
        self.rx
            .as_mut()
            .map_or(0, |rx| rx.prune_out_of_order(bytes))
    }

    /// The application is gone: what arrives from now on is acknowledged and
    /// dropped, so that the peer can finish.
    pub fn discard_rx(&mut self) {
        self.rx_discard = true;
        self.discard_readable();
    }

    fn discard_readable(&mut self) {
        while self.pop_readable().is_some() {}
    }

    // --- sending --------------------------------------------------------

    /// The first DSN not DATA_ACKed.
    pub fn snd_una(&self) -> u64 {
        self.sender.snd_una()
    }

    /// The next DSN mapped onto a subflow.
    pub fn snd_nxt(&self) -> u64 {
        self.sender.snd_nxt()
    }

    /// The DSN after the last octet the application wrote.
    pub fn write_seq(&self) -> u64 {
        self.write_seq
    }

    /// The octets the application wrote that the peer did not DATA_ACK: what
    /// the send buffer holds (the DATA_FIN is not an octet).
    pub fn unacked(&self) -> u64 {
        // Past an acknowledged DATA_FIN, `snd_una` is one beyond the data.
        let una = self.sndbuf_una();
        if seq::after64(una, self.write_seq) {
            0
        } else {
            self.write_seq.wrapping_sub(una)
        }
    }

    /// Records per DSN range (memory that must stay bounded).
    pub fn sent_records(&self) -> usize {
        self.sender.entries()
    }

    /// Room in a send buffer of `sndbuf` octets.
    pub fn send_space(&self, sndbuf: u64) -> u64 {
        sndbuf.saturating_sub(self.unacked())
    }

    /// The application wrote `len` octets (into the caller's send buffer, at
    /// the DSN [`Connection::write_seq`] had).
    pub fn app_write(&mut self, len: u64) {
        self.write_seq = self.write_seq.wrapping_add(len);
    }

    /// Whether the application shut down writing.
    pub fn write_shut(&self) -> bool {
        self.fin != TxFin::None
    }

    /// The application shut down writing: our DATA_FIN follows its data.
    pub fn shutdown_write(&mut self) {
        if self.fin == TxFin::None {
            self.fin = TxFin::Wanted;
        }
    }

    /// Whether the peer is done sending: its DATA_FIN came and every octet
    /// before it arrived (read by the application or not).
    pub fn peer_done(&self) -> bool {
        self.rx
            .as_ref()
            .is_some_and(|rx| rx.data_fin_reached() || rx.data_fin_consumed())
    }

    /// Whether our DATA_FIN was DATA_ACKed.
    pub fn data_fin_acked(&self) -> bool {
        self.sender.data_fin_acked()
    }

    /// Whether the exchange is over both ways: the peer is done sending
    /// and our DATA_FIN was DATA_ACKed. A reader at the end of the stream
    /// is not enough: the application may still be writing (an upload whose
    /// peer half-closed at once), and its data may need new subflows.
    pub fn exchange_done(&self) -> bool {
        self.peer_done() && self.data_fin_acked()
    }

    /// Everything written, and the DATA_FIN, went to subflows.
    pub fn all_sent(&self) -> bool {
        match self.mode {
            Mode::Fallback => self.drained && self.fin != TxFin::Wanted,
            _ => self.fin == TxFin::Sent && self.sender.snd_nxt() == self.write_seq.wrapping_add(1),
        }
    }

    /// What subflow `id` should send next, given its `room`, or `None`.
    ///
    /// If TCP took only part of the last mapping, the rest of that mapping
    /// comes first (it must go under the mapping recorded for it); then
    /// data awaiting reinjection; then new data, as one mapping as large as
    /// room, the peer's window and [`MAX_MAPPING`] allow, cut at a multiple
    /// of the MSS so that TCP leaves no short segment behind it. A short
    /// tail waits while data is in flight, as Nagle's algorithm would have
    /// it wait in TCP (each mapping closes its skb, and TCP would hold a
    /// short one until every octet in flight is acknowledged), unless
    /// Nagle is off or the application is closing.
    pub fn poll_transmit(&mut self, id: SubflowId, tx: &TxRoom) -> Option<Transmit> {
        if self.mode == Mode::Fallback && !self.drained && tx.room > 0 {
            // What was written before the fallback goes to TCP as plain data,
            // in order (the only subflow, no mapping).
            let left = self.write_seq.wrapping_sub(self.tcp_handed);
            return (left > 0).then(|| Transmit {
                dsn: self.tcp_handed,
                len: left.min(u64::from(tx.room)) as u32,
                end_of_mapping: false,
                new_mapping: false,
            });
        }
        if self.mode != Mode::Mptcp {
            return None;
        }
        let sf = self.subflow(id)?;
        if sf.stage() != Stage::Established {
            return None;
        }
        // What the scheduler knows of this subflow, also when it is full.
        let sample = sf.tx_sample_mut();
        // What TCP holds unsent counts against its window too: it leaves
        // as soon as the window opens, before anything mapped now. Counting
        // only the segments in flight, the faster subflow seemed to have
        // room after each ACK and was handed everything its send buffer
        // took, until the peer's window was full, while the other subflow
        // sat idle.
        let unsent = tx
            .snd_nxt
            .map_or(0, |nxt| tx.write_seq.wrapping_sub(nxt))
            .min(i32::MAX as u32);
        sample.in_flight = tx
            .packets_out
            .saturating_add(unsent.div_ceil(tx.mss.max(1)));
        sample.mss = tx.mss;
        sample.room = tx.room;
        if tx.room == 0 {
            return None;
        }
        let offset = sf.tx_offset(tx.write_seq)?;
        if let Some((start, m)) = sf.sent_mapping_at(offset) {
            // The rest of a mapping TCP took part of.
            let into = (offset - start) as u32;
            let len = (m.len - into).min(tx.room);
            return Some(Transmit {
                dsn: m.dsn.wrapping_add(u64::from(into)),
                len,
                end_of_mapping: into + len == m.len,
                new_mapping: false,
            });
        }
        let mss = tx.mss.max(1);
        let mut max = MAX_MAPPING - MAX_MAPPING % mss;
        if (mss..max).contains(&tx.size_goal) {
            max = tx.size_goal - tx.size_goal % mss;
        }
        if let Some(window) = self.window_cap(id, mss) {
            max = max.min(window);
        }
        // Reinjections first: data another subflow failed to deliver.
        if let Some(range) = self.sender.next_reinjection_for(self.sender.snd_una(), id) {
            if !range.data_fin {
                let t = self.resend_on(id, range, offset, max.min(tx.room))?;
                self.add_count(Counter::Reinjected, t.len);
                return Some(t);
            }
        }
        let snd_nxt = self.sender.snd_nxt();
        if self.fin == TxFin::Sent {
            return None;
        }
        let mut avail = self.write_seq.wrapping_sub(snd_nxt);
        if let Some(edge) = self.snd_wnd_edge {
            // The peer's data-level window (RFC 8684, section 3.3.4).
            let allowed = if seq::before64(edge, snd_nxt) {
                0
            } else {
                edge.wrapping_sub(snd_nxt)
            };
            avail = avail.min(allowed);
        }
        if avail == 0 {
            if self.write_seq != snd_nxt {
                // Data waits for the peer's window: the head of it may be
                // stuck on a slow subflow.
                return self.opportunistic(id, offset, max.min(tx.room));
            }
            return None;
        }
        if !self.scheduled_here(id) {
            return None;
        }
        if let Some(t) = self.extend_mapping(id, tx, offset, snd_nxt, avail, max) {
            return Some(t);
        }
        // The mapping is sized by what is buffered, not by TCP's room at
        // this instant: a mapping ends its skb (EOR), so mappings cut to the
        // room an ACK just freed would cut the stream into small skbs. TCP
        // takes what fits now; the rest of the mapping follows as room
        // frees (see `sent_mapping_at` above).
        let mut mapping = avail.min(u64::from(max)) as u32;
        if tx.more && mapping < max && avail == self.write_seq.wrapping_sub(snd_nxt) {
            return None;
        }
        if mapping >= mss {
            mapping -= mapping % mss;
        } else if u64::from(mapping) == avail
            && tx.packets_out > 0
            && !tx.nodelay
            && self.fin == TxFin::None
        {
            // Nagle: a small tail waits for the ACK of what is in flight.
            return None;
        }
        let sf = self.subflow(id)?;
        if !sf.record_sent(offset, snd_nxt, mapping) {
            self.count(Counter::MapAllocFail);
            return None;
        }
        match self.sender.send(u64::from(mapping), id, offset) {
            Ok(_) => {}
            Err(_) => {
                self.count(Counter::MapAllocFail);
                return None;
            }
        }
        let len = mapping.min(tx.room);
        Some(Transmit {
            dsn: snd_nxt,
            len,
            end_of_mapping: len == mapping,
            new_mapping: true,
        })
    }

    /// New data that lengthens subflow `id`'s last mapping, which ends at
    /// `offset`, if none of it has been sent (TCP holds it, whole, in its
    /// last skb), it ends at `snd_nxt` and it is shorter than `max`: the
    /// receiver never saw it, so it may still change. Up to `avail` octets.
    fn extend_mapping(
        &mut self,
        id: SubflowId,
        tx: &TxRoom,
        offset: u64,
        snd_nxt: u64,
        avail: u64,
        max: u32,
    ) -> Option<Transmit> {
        if self.fin != TxFin::None {
            return None;
        }
        let tcp_snd_nxt = tx.snd_nxt?;
        let sf = self.subflow(id)?;
        let (start, m) = sf.sent_mapping_at(offset.checked_sub(1)?)?;
        if start + u64::from(m.len) != offset
            || m.dsn.wrapping_add(u64::from(m.len)) != snd_nxt
            || m.len >= max
            || sf.tx_offset(tcp_snd_nxt)? > start
        {
            return None;
        }
        let extra = (avail.min(u64::from(max - m.len)) as u32).min(tx.room);
        if extra == 0 || !sf.extend_sent(start, extra) {
            return None;
        }
        if self.sender.send(u64::from(extra), id, offset).is_err() {
            self.count(Counter::MapAllocFail);
            return None;
        }
        Some(Transmit {
            dsn: snd_nxt,
            len: extra,
            end_of_mapping: true,
            new_mapping: false,
        })
    }

    /// TCP took `len` octets from DSN `dsn` (what [`Connection::poll_transmit`]
    /// planned, or part of it). After a fallback, that is what frees the
    /// send buffer.
    pub fn handed(&mut self, dsn: u64, len: u64) {
        if dsn == self.tcp_handed {
            self.tcp_handed = dsn.wrapping_add(len);
        }
        if self.mode == Mode::Fallback && !self.drained && self.tcp_handed == self.write_seq {
            self.drained = true;
            self.events.push(Event::PassedThrough);
        }
    }

    /// The DSN up to which the send buffer may be freed: what the peer
    /// DATA_ACKed, or after a fallback what TCP took.
    pub fn sndbuf_una(&self) -> u64 {
        if self.mode == Mode::Fallback {
            self.tcp_handed
        } else {
            self.sender.snd_una()
        }
    }

    /// Whether the application's calls go straight to the subflow: during
    /// the handshake, and after a fallback once every octet written before
    /// it went to TCP (until then they queue behind them, here).
    pub fn passthrough(&self) -> bool {
        match self.mode {
            Mode::Handshake => true,
            Mode::Fallback => self.drained || self.tcp_handed == self.write_seq,
            _ => false,
        }
    }

    /// Whether subflow `id`, whose next octet from the application gets
    /// the subflow sequence number `write_seq`, has part of a mapping TCP
    /// has not taken yet (its FIN must wait for it).
    fn unhanded(&mut self, id: SubflowId, write_seq: u32) -> bool {
        self.subflow(id).is_some_and(|sf| {
            sf.tx_offset(write_seq)
                .is_some_and(|offset| sf.sent_mapping_at(offset).is_some())
        })
    }

    /// Whether subflow `id` should send our DATA_FIN now: the application
    /// shut down writing and every octet before it was mapped. If so, it is
    /// recorded as sent on `id`: the caller sends an ACK (which carries it,
    /// see [`Connection::option_for`]) and shuts the subflow down for
    /// sending, so that TCP retransmits its FIN, and our option with it,
    /// until the peer has both.
    pub fn data_fin_due(&mut self, id: SubflowId, write_seq: u32, now_us: u64) -> bool {
        if self.mode == Mode::Fallback && self.drained && self.fin == TxFin::Wanted {
            // Fallen back with data still queued here when the application
            // shut down writing: TCP's FIN, once TCP has it all.
            self.fin = TxFin::Sent;
            return true;
        }
        if self.mode != Mode::Mptcp
            || self.fin != TxFin::Wanted
            || self.sender.snd_nxt() != self.write_seq
            || self.unhanded(id, write_seq)
            || self.sender.send_data_fin(id).is_err()
        {
            return false;
        }
        self.count(Counter::DataFinTx);
        self.arm_rto(now_us);
        self.fin = TxFin::Sent;
        true
    }

    /// The option a segment of subflow `id` carries, if any.
    pub fn option_for(&mut self, id: SubflowId, seg: &SegmentOut) -> Option<MptcpOption> {
        let has = |f: u8| seg.flags & f != 0;
        let local_key = self.local.key;
        let mode = self.mode;
        let sf = self.subflow(id)?;
        match (mode, sf.stage()) {
            (Mode::Handshake, Stage::SynSent) if has(flags::SYN) && !has(flags::ACK) => {
                sf.set_iss(seg.seq);
                // Counted once per connection, as Linux counts it: TCP's
                // SYN timer sends the same SYN again.
                if sf.first_syn() {
                    self.count(Counter::MPCapableSYNTX);
                }
                Some(capable(CapableForm::Syn))
            }
            (Mode::Mptcp, Stage::Established) if !has(flags::SYN) && !has(flags::RST) => {
                self.dss_for(id, seg, local_key)
            }
            (Mode::Mptcp, Stage::JoinSynSent | Stage::JoinPreEstablished) => {
                self.join_option_for(id, seg)
            }
            _ => None,
        }
    }

    /// The DATA_ACK a segment of subflow `id` carries: the connection's, and
    /// beyond it the in-order data TCP queued on this subflow but did not
    /// hand over yet (a listener's child before `accept`, or a segment whose
    /// ACK TCP decided on before its data-ready callback), when it continues
    /// the connection's data: it reaches the connection unchanged.
    fn data_ack_for(&mut self, id: SubflowId, tcp_rcv_nxt: u32) -> Option<u64> {
        let data_ack = self.data_ack()?;
        let Some(sf) = self.subflow(id) else {
            return Some(data_ack);
        };
        let handed = sf.rx_handed();
        let upto = sf.rx_offset(tcp_rcv_nxt).unwrap_or(handed);
        if upto > handed {
            if let Some(m) = sf.lookup_received(handed) {
                if m.dsn == data_ack {
                    return Some(data_ack.wrapping_add(m.len.min(upto - handed)));
                }
            }
        }
        Some(data_ack)
    }

    fn dss_for(&mut self, id: SubflowId, seg: &SegmentOut, local_key: u64) -> Option<MptcpOption> {
        let remote = self.remote?;
        let data_ack = self.data_ack_for(id, seg.rcv_nxt)?;
        let keys_pending = self.role == Role::Client && !self.keys_confirmed;
        let sf = self.subflow(id)?;
        let mapping = if seg.payload_len > 0 {
            sf.tx_offset(seg.seq).and_then(|o| sf.sent_mapping_at(o))
        } else {
            None
        };
        if keys_pending {
            // The peer may not have our keys yet: they go on our ACKs, and
            // the first data says which DSN it starts at (RFC 8684, 3.1:
            // MP_CAPABLE with data, implicitly our IDSN + 1).
            match mapping {
                None if seg.payload_len == 0 && self.fin == TxFin::None => {
                    return Some(capable(CapableForm::Ack {
                        sender_key: local_key,
                        receiver_key: remote.key,
                    }));
                }
                Some((1, m)) => {
                    return Some(capable(CapableForm::AckData {
                        sender_key: local_key,
                        receiver_key: remote.key,
                        data_len: m.len.min(MAX_MAPPING) as u16,
                        checksum: None,
                    }));
                }
                _ => {}
            }
        }
        // The DATA_ACK as wide as the peer's DSNs, as Linux sends it (a
        // Linux peer names its DSNs in 64 bits); 4 octets otherwise, which
        // the peer widens around its snd_una (we never have 2^31 octets
        // unacknowledged), and which leaves room for more SACK blocks.
        let data_ack = if self.peer_dsn64 {
            DssSeq::Bits64(data_ack)
        } else {
            DssSeq::Bits32(data_ack as u32)
        };
        let mut dss = Dss {
            data_ack: Some(data_ack),
            mapping: None,
            data_fin: false,
        };
        if mapping.is_none() && seg.payload_len > 0 {
            self.count(Counter::TxNoMapping);
        }
        if let Some((offset, m)) = mapping {
            dss.mapping = Some(DssMapping {
                dsn: DssSeq::Bits64(m.dsn),
                subflow_seq: offset as u32,
                data_len: m.len.min(MAX_MAPPING) as u16,
                checksum: None,
            });
        } else if seg.payload_len == 0 {
            if let (Some(fin), false) = (self.sender.data_fin(), self.sender.data_fin_acked()) {
                // Our DATA_FIN, on a segment without data: subflow sequence
                // number 0, data-level length 1 (RFC 8684, section 3.3.1).
                dss.mapping = Some(DssMapping {
                    dsn: DssSeq::Bits64(fin),
                    subflow_seq: 0,
                    data_len: 1,
                    checksum: None,
                });
                dss.data_fin = true;
            }
        }
        Some(MptcpOption::Dss(dss))
    }

    // --- subflows -------------------------------------------------------

    /// A subflow joined the connection, established with the initial
    /// sequence numbers `iss` (ours) and `irs` (the peer's): its id, or
    /// `None` if the table is full or the connection is not MPTCP.
    pub fn add_subflow(&mut self, iss: u32, irs: u32) -> Option<SubflowId> {
        if self.mode != Mode::Mptcp {
            return None;
        }
        let free = self.subflows.iter().position(Option::is_none)?;
        self.subflows[free] = Some(Subflow::new(Stage::Established, iss, irs));
        Some(free as SubflowId)
    }

    /// Forgets subflow `id` (its socket is gone); its unacknowledged data is
    /// marked for reinjection first.
    pub fn remove_subflow(&mut self, id: SubflowId) {
        self.subflow_closed(id);
        if let Some(slot) = self.subflows.get_mut(id as usize) {
            *slot = None;
        }
        self.refused &= !super::sender::subflow_bit(id);
        if let Some(rto) = self.subflow_rto_us.get_mut(id as usize) {
            *rto = 0;
        }
    }

    /// The initial subflow closed while another carries data: the
    /// connection goes on without it, and what it carried goes again on
    /// the others; if it `failed` (a reset, a timeout: not the end of the
    /// connection) that is counted. Returns the octets marked.
    pub fn initial_subflow_closed(&mut self, failed: bool) -> u64 {
        if failed {
            self.count(Counter::InitialSubflowLost);
        }
        self.subflow_closed(0)
    }

    /// Whether a subflow other than `id` is established.
    fn established_besides(&self, id: SubflowId) -> bool {
        self.subflows.iter().enumerate().any(|(i, sf)| {
            i as SubflowId != id
                && sf
                    .as_ref()
                    .is_some_and(|sf| sf.stage() == Stage::Established)
        })
    }

    /// Subflow `id`'s retransmission timer fired: its path may have failed.
    /// What it carried and the peer did not DATA_ACK goes again on the
    /// other established subflows now (seed 004's reinjection; RFC 8684,
    /// section 3.3.6), not at the data-level timeout, which can come most
    /// of a second later (it runs from the last DATA_ACK that advanced,
    /// with the RTO of whichever subflow sent last). If the path was only
    /// slow, the peer drops the duplicates. Its own TCP goes on
    /// retransmitting too. Returns whether anything was marked.
    pub(crate) fn subflow_timed_out(&mut self, id: SubflowId) -> bool {
        if self.mode != Mode::Mptcp || !self.established_besides(id) {
            return false;
        }
        let marked = self.sender.fail_subflow(id) > 0;
        if marked {
            self.count(Counter::SubflowTimeoutReinject);
        }
        marked
    }

    /// Subflow `id` failed or closed with data in flight: what it carried
    /// and the peer did not DATA_ACK goes again on other subflows
    /// (reinjection). Returns the octets marked.
    pub fn subflow_closed(&mut self, id: SubflowId) -> u64 {
        if let Some(sf) = self.subflow(id) {
            sf.set_stage(Stage::Closed);
        }
        self.sender.fail_subflow(id)
    }

    // --- the data-level retransmission timer ----------------------------

    /// The retransmission timeout to use (the subflows' TCP RTO, say),
    /// bounded by [`MIN_RTO_US`] and [`MAX_RTO_US`].
    pub fn set_rto(&mut self, rto_us: u64) {
        self.rto_us = rto_us.clamp(MIN_RTO_US, MAX_RTO_US);
    }

    /// Subflow `id`'s TCP RTO is `rto_us`: the timeout for the data it
    /// holds (see [`Connection::data_rto_us`]), and the one for data whose
    /// holder is not known, as [`Connection::set_rto`].
    pub fn set_subflow_rto(&mut self, id: SubflowId, rto_us: u64) {
        self.set_rto(rto_us);
        if let Some(slot) = self.subflow_rto_us.get_mut(id as usize) {
            *slot = self.rto_us;
        }
    }

    /// The data-level timeout: the RTO of the subflow that carried the
    /// oldest octets not DATA_ACKed, whose DATA_ACK cannot come sooner
    /// (a subflow with a long queue has a long RTO: the timeout of a fast
    /// one would send its octets again each time they are on the way);
    /// the RTO given last if that subflow's is not known (the octets await
    /// reinjection, or no subflow gave its RTO).
    fn data_rto_us(&mut self) -> u64 {
        let una = self.sender.snd_una();
        self.sender
            .next_range(una)
            .and_then(|range| range.subflow)
            .and_then(|id| self.subflow_rto_us.get(id as usize).copied())
            .filter(|&rto| rto > 0)
            .unwrap_or(self.rto_us)
    }

    fn arm_rto(&mut self, now_us: u64) {
        if self.rto_deadline.is_none() {
            self.rto_deadline = Some(now_us.saturating_add(self.data_rto_us()));
        }
    }

    /// Data was mapped onto a subflow at `now_us`: the timer runs if it did
    /// not.
    pub fn on_transmit(&mut self, now_us: u64) {
        if self.sender.in_flight() > 0 {
            self.arm_rto(now_us);
        }
    }

    /// When [`Connection::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<u64> {
        [
            self.rto_deadline,
            self.join_deadline(),
            self.signal_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Time passed. If the DATA_ACK did not advance for a timeout with data
    /// in flight, the octets not DATA_ACKed that the subflow holding the
    /// oldest of them carried go again on other subflows (RFC 8684, section
    /// 3.3.6: the sender may retransmit on any subflow), and the timeout
    /// doubles; an unacknowledged DATA_FIN asks
    /// for an ACK ([`Connection::take_ack_wanted`]); a third ACK of
    /// MP_JOIN not acknowledged in time asks for an ACK on its subflow
    /// ([`Connection::take_join_acks`]). Returns whether anything was
    /// marked for retransmission.
    pub fn handle_timeout(&mut self, now_us: u64) -> bool {
        self.join_timeouts(now_us);
        self.signal_timeouts(now_us);
        let Some(deadline) = self.rto_deadline else {
            return false;
        };
        if now_us < deadline {
            return false;
        }
        if self.sender.in_flight() == 0 || self.mode != Mode::Mptcp {
            self.rto_deadline = None;
            return false;
        }
        self.count(Counter::DataLevelRetransmit);
        self.rto_backoff = (self.rto_backoff + 1).min(16);
        let timeout = self
            .data_rto_us()
            .saturating_mul(1 << self.rto_backoff.min(8))
            .min(MAX_RTO_US);
        self.rto_deadline = Some(now_us.saturating_add(timeout));
        if self.sender.data_fin().is_some() && !self.sender.data_fin_acked() {
            // Our DATA_FIN rides on pure ACKs (and on TCP's FIN only when
            // that goes alone), which TCP never retransmits: an ACK carries
            // it again.
            self.ack_wanted = true;
        }
        let una = self.sender.snd_una();
        let Some(range) = self.sender.next_range(una) else {
            return false;
        };
        let Some(holder) = range.subflow else {
            // Awaiting reinjection already.
            return true;
        };
        // On the subflow that holds it, TCP retransmits by itself: the data
        // goes again only where another established subflow can carry it.
        if !self.established_besides(holder) {
            return false;
        }
        // The subflow holding the oldest octets delivered nothing for a
        // timeout: it is taken as stalled (a failed path), and everything it
        // holds goes again elsewhere, not only those octets (one mapping per
        // doubling timeout would take seconds to drain a large window). If
        // it was only slow, the peer drops the duplicates.
        self.sender.fail_subflow(holder) > 0
    }
}

/// Test vectors, run on the host and as KUnit cases (with the kernel's
/// rbtree and SHA-256): a handshake through the real option codec, a
/// transfer under one mapping, its DATA_ACK, and the DATA_FIN both ways.
#[cfg(any(test, CONFIG_KUNIT))]
pub fn selftest<P: Platform<Payload = super::reassembly::Span>>(c: &mut dyn super::check::Check) {
    use super::reassembly::Span;
    fn wire(o: MptcpOption) -> Received {
        let mut buf = [0u8; 40];
        let n = o.write(&mut buf).unwrap_or(0);
        Received::parse(&buf[..n])
    }
    let window = |rcv_nxt: u32, snd_una: u32, snd_max: u32| TcpWindow {
        rcv_nxt,
        rcv_wup: rcv_nxt,
        rcv_wnd: 1 << 20,
        snd_una,
        snd_max,
        max_window: 1 << 20,
    };
    let (ckey, skey) = (
        LocalKey::from_key::<P::Sha256>(0x1111),
        LocalKey::from_key::<P::Sha256>(0x2222),
    );
    let (ciss, siss) = (1000u32, 5000u32);

    // The handshake.
    let mut cl = Connection::<P>::client(ckey);
    let syn = SegmentOut {
        seq: ciss,
        flags: flags::SYN,
        payload_len: 0,
        rcv_nxt: 0,
    };
    let syn = cl.option_for(0, &syn).map(wire).unwrap_or_default();
    check!(c, listener_accepts_syn(&syn));
    let synack = wire(capable(CapableForm::SynAck {
        sender_key: skey.key,
    }));
    let seg = SegmentIn {
        seq: siss,
        ack: ciss + 1,
        flags: flags::SYN | flags::ACK,
        payload_len: 0,
        options: &synack,
    };
    cl.handle_segment(0, &seg, &TcpWindow::default(), 0, 0);
    check_eq!(c, cl.mode(), Mode::Mptcp);
    check_eq!(c, cl.poll_event(), Some(Event::Established));
    let third = SegmentOut {
        seq: ciss + 1,
        flags: flags::ACK,
        payload_len: 0,
        rcv_nxt: siss + 1,
    };
    let third = cl.option_for(0, &third).map(wire).unwrap_or_default();
    let Some((remote_key, None)) = listener_third_ack(&third, skey.key) else {
        check!(c, false, "third ACK refused");
        return;
    };
    check_eq!(c, remote_key, ckey.key);
    let remote = Remote {
        key: ckey.key,
        idsn: ckey.idsn,
    };
    let mut sv = Connection::<P>::server(skey, remote, siss, ciss, None);

    // 3000 octets under one mapping, in three segments, each with MP_CAPABLE
    // with data (the client's keys are not confirmed yet: every segment of
    // that first mapping repeats them, and the mapping from subflow octet 1).
    cl.app_write(3000);
    let room = TxRoom {
        room: 1 << 16,
        mss: 1000,
        write_seq: ciss + 1,
        packets_out: 0,
        nodelay: false,
        size_goal: 0,
        more: false,
        snd_nxt: None,
    };
    let t = cl.poll_transmit(0, &room);
    check_eq!(
        c,
        t.map(|t| (t.dsn, t.len)),
        Some((ckey.idsn.wrapping_add(1), 3000))
    );
    for i in 0..3u32 {
        let seq = ciss + 1 + i * 1000;
        let out = SegmentOut {
            seq,
            flags: flags::ACK,
            payload_len: 1000,
            rcv_nxt: siss + 1,
        };
        let rx = cl.option_for(0, &out).map(wire).unwrap_or_default();
        check!(c, rx.mp_capable.is_some() && rx.dss.is_none());
        let seg = SegmentIn {
            seq,
            ack: siss + 1,
            flags: flags::ACK,
            payload_len: 1000,
            options: &rx,
        };
        sv.handle_segment(0, &seg, &window(seq, siss + 1, siss + 1), 1 << 16, 0);
        let span = Span {
            start: u64::from(i) * 1000,
            len: 1000,
        };
        check_eq!(c, sv.handle_data(0, seq, span), DataOutcome::Taken);
    }
    check_eq!(c, sv.readable(), 3000);
    check_eq!(c, sv.data_ack(), Some(ckey.idsn.wrapping_add(3001)));
    let mut read = 0u64;
    while let Some(span) = sv.pop_readable() {
        check_eq!(c, span.start, read);
        read += span.len as u64;
    }
    check_eq!(c, read, 3000);

    // The server's ACK carries the DATA_ACK: the client's buffer empties.
    let ack = SegmentOut {
        seq: siss + 1,
        flags: flags::ACK,
        payload_len: 0,
        rcv_nxt: ciss + 3001,
    };
    let rx = sv.option_for(0, &ack).map(wire).unwrap_or_default();
    let seg = SegmentIn {
        seq: siss + 1,
        ack: ciss + 3001,
        flags: flags::ACK,
        payload_len: 0,
        options: &rx,
    };
    check!(
        c,
        cl.handle_segment(
            0,
            &seg,
            &window(siss + 1, ciss + 1, ciss + 3001),
            1 << 16,
            0
        )
    );
    check_eq!(c, cl.unacked(), 0);
    check_eq!(c, cl.sent_records(), 0);

    // The client's DATA_FIN, on a pure ACK; the server consumes it and owes
    // an ACK for it.
    cl.shutdown_write();
    check!(c, cl.data_fin_due(0, ciss + 3001, 0));
    let fin = SegmentOut {
        seq: ciss + 3001,
        flags: flags::ACK,
        payload_len: 0,
        rcv_nxt: siss + 1,
    };
    let rx = cl.option_for(0, &fin).map(wire).unwrap_or_default();
    check!(c, rx.dss.is_some_and(|d| d.data_fin));
    let seg = SegmentIn {
        seq: ciss + 3001,
        ack: siss + 1,
        flags: flags::ACK,
        payload_len: 0,
        options: &rx,
    };
    sv.handle_segment(
        0,
        &seg,
        &window(ciss + 3001, siss + 1, siss + 1),
        1 << 16,
        0,
    );
    check!(c, sv.at_eof());
    check!(c, sv.take_ack_wanted());
    check_eq!(c, sv.data_ack(), Some(ckey.idsn.wrapping_add(3002)));
}

#[cfg(test)]
#[path = "conn_tests.rs"]
mod tests;

// SPDX-License-Identifier: GPL-2.0

//! Host tests of the connection core: two [`Connection`]s wired back to
//! back through a model of TCP (quinn-proto's `Pair`), every option going
//! through the real codec (written, then parsed) on its way.
//!
//! The TCP model keeps what MPTCP relies on: each subflow is a reliable
//! byte stream each way, cut into segments of at most one MSS; a segment's
//! options are read before TCP takes its data ([`Connection::handle_segment`]
//! as the netfilter hook does), its data reaches the connection once in
//! order ([`Connection::handle_data`] as the subflow's data-ready callback
//! does); ACKs carry the DATA_ACK back. A subflow can be cut (its segments
//! vanish), as a failed path.

use super::*;
use crate::mapping::{MapEntry, SentMapping};
use crate::option::{MpFastclose, Received};
use crate::sender::SentEntry;
use sha2::Digest;
use std::collections::{BTreeMap, VecDeque};
use std::vec;
use std::vec::Vec;

struct HostSha256(sha2::Sha256);

impl Sha256 for HostSha256 {
    fn new() -> Self {
        Self(sha2::Sha256::new())
    }
    fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data);
    }
    fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

struct Host;

impl Platform for Host {
    type Sha256 = HostSha256;
    type Payload = Vec<u8>;
    type RxQueue = BTreeMap<u64, Vec<u8>>;
    type Sent = BTreeMap<u64, SentEntry>;
    type RxMaps = BTreeMap<u64, MapEntry>;
    type TxMaps = BTreeMap<u64, SentMapping>;
    fn rx_queue() -> Self::RxQueue {
        BTreeMap::new()
    }
    fn sent() -> Self::Sent {
        BTreeMap::new()
    }
    fn rx_maps() -> Self::RxMaps {
        BTreeMap::new()
    }
    fn tx_maps() -> Self::TxMaps {
        BTreeMap::new()
    }
}

type Conn = Connection<Host>;

fn key(k: u64) -> LocalKey {
    LocalKey::from_key::<HostSha256>(k)
}

/// A segment on the wire.
#[derive(Clone, Debug)]
struct Wire {
    seq: u32,
    ack: u32,
    flags: u8,
    payload: Vec<u8>,
    /// The MPTCP options, as bytes (written by the codec).
    options: Vec<u8>,
    /// The window in the TCP header: the sender's connection-level
    /// receive window (RFC 8684, section 3.3.4).
    window: u32,
}

impl Wire {
    /// The segment as the receiving connection sees it, with its options
    /// `rx` (parsed from [`Wire::options`]).
    fn segment_in<'a>(&self, rx: &'a Received) -> SegmentIn<'a> {
        SegmentIn {
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            payload_len: self.payload.len() as u32,
            options: rx,
        }
    }
}

/// One end of a subflow's TCP.
struct Tcp {
    /// Sequence number of the next octet handed to TCP.
    write_seq: u32,
    /// Next sequence number to send.
    snd_nxt: u32,
    /// Oldest unacknowledged.
    snd_una: u32,
    /// Octets handed to TCP and not sent: `[snd_nxt, write_seq)`.
    queue: VecDeque<u8>,
    /// Ends of the mappings handed (EOR): no segment crosses one.
    records: VecDeque<u32>,
    rcv_nxt: u32,
    mss: u32,
    /// An ACK is owed (data came): the next segment carries it.
    ack_due: bool,
    /// A pure ACK must go (`tcp_send_ack`: our DATA_FIN rides on it),
    /// after any data sent now, never merged with it.
    pure_ack_due: bool,
    /// The subflow is cut: what it sends is lost.
    cut: bool,
    /// The subflow stalls: nothing leaves, TCP keeps it (it goes, with its
    /// mappings, when the stall ends).
    stalled: bool,
    /// What the scheduler is told of the path: smoothed RTT (µs) and
    /// congestion window (segments; 0: unknown).
    srtt_us: u32,
    cwnd: u32,
    ssthresh: u32,
    /// TCP recovers from a loss (not Open).
    recovering: bool,
    /// TCP's retransmission timer fired (the Loss state).
    timed_out: bool,
    /// Payload octets sent (retransmissions would count again; the model
    /// has none).
    data_sent: u64,
    /// The send buffer's size in octets (0: unlimited): the room TCP
    /// offers is what its queue leaves of it.
    sndbuf: u32,
}

impl Tcp {
    fn new(iss: u32, irs: u32, mss: u32) -> Self {
        Self {
            write_seq: iss.wrapping_add(1),
            snd_nxt: iss.wrapping_add(1),
            snd_una: iss.wrapping_add(1),
            queue: VecDeque::new(),
            records: VecDeque::new(),
            rcv_nxt: irs.wrapping_add(1),
            mss,
            ack_due: false,
            pure_ack_due: false,
            cut: false,
            stalled: false,
            srtt_us: 0,
            cwnd: 0,
            ssthresh: 0,
            recovering: false,
            timed_out: false,
            data_sent: 0,
            sndbuf: 0,
        }
    }

    fn window(&self) -> TcpWindow {
        TcpWindow {
            rcv_nxt: self.rcv_nxt,
            rcv_wup: self.rcv_nxt,
            rcv_wnd: 1 << 24,
            snd_una: self.snd_una,
            snd_max: self.write_seq,
            max_window: 1 << 24,
        }
    }
}

/// One end: a connection, its subflows' TCP, the application's buffers.
struct End {
    conn: Conn,
    tcp: Vec<Option<Tcp>>,
    /// The send buffer: octets from DSN `sndbuf_dsn` on.
    sndbuf: VecDeque<u8>,
    sndbuf_dsn: u64,
    received: Vec<u8>,
    events: Vec<Event>,
    counts: BTreeMap<&'static str, u32>,
    /// Largest `(sent records, sent mappings, received mappings, reassembly
    /// entries)` seen: memory that must stay bounded.
    peak_tables: (usize, usize, usize, usize),
    now: u64,
    nodelay: bool,
    /// Fault injection: the next `n` payload handings report no memory.
    fail_data: u32,
    /// In-order data not handed yet (no memory): it stays on the subflow
    /// and is handed again, as the kernel keeps it in the subflow's queue.
    pending: VecDeque<(usize, u32, Vec<u8>)>,
    /// Data stays on the subflows, not handed (a listener's child that the
    /// application did not accept yet).
    hold: bool,
    /// The receive buffer, if limited: the window this end advertises is
    /// what the data held beyond a gap leaves of it (what is in order is
    /// read at once).
    rcv_limit: Option<u32>,
}

impl End {
    fn new(conn: Conn) -> Self {
        let sndbuf_dsn = conn.snd_una();
        Self {
            conn,
            tcp: Vec::new(),
            sndbuf: VecDeque::new(),
            sndbuf_dsn,
            received: Vec::new(),
            events: Vec::new(),
            counts: BTreeMap::new(),
            peak_tables: (0, 0, 0, 0),
            now: 0,
            nodelay: false,
            fail_data: 0,
            pending: VecDeque::new(),
            hold: false,
            rcv_limit: None,
        }
    }

    fn count(&self, name: &str) -> u32 {
        self.counts.get(name).copied().unwrap_or(0)
    }

    fn write(&mut self, data: &[u8]) {
        self.sndbuf.extend(data);
        self.conn.app_write(data.len() as u64);
    }

    fn collect(&mut self) {
        while let Some(e) = self.conn.poll_event() {
            self.events.push(e);
        }
        let counts = &mut self.counts;
        self.conn
            .take_counts(|c, n| *counts.entry(c.name()).or_insert(0) += n);
        // The send buffer drops what the peer DATA_ACKed.
        let una = self.conn.snd_una();
        while self.sndbuf_dsn != una && !self.sndbuf.is_empty() {
            if seq::after64(self.sndbuf_dsn, una) {
                break;
            }
            self.sndbuf.pop_front();
            self.sndbuf_dsn = self.sndbuf_dsn.wrapping_add(1);
        }
        let mut tables = (self.conn.sent_records(), 0, 0, self.conn.rx_segments());
        for id in 0..self.tcp.len() {
            if let Some(sf) = self.conn.subflow(id as u32) {
                let (tx, rx) = sf.table_sizes();
                tables.1 = tables.1.max(tx);
                tables.2 = tables.2.max(rx);
            }
        }
        let p = &mut self.peak_tables;
        *p = (
            p.0.max(tables.0),
            p.1.max(tables.1),
            p.2.max(tables.2),
            p.3.max(tables.3),
        );
    }

    /// Hands subflow `id` what the connection maps onto it.
    fn push(&mut self, id: usize) {
        if self.tcp[id].is_none() {
            return;
        }
        // As the glue does: every subflow's retransmission timer, as it is.
        for (other, t) in self.tcp.iter().enumerate() {
            if let Some(t) = t {
                self.conn.subflow_loss_state(other as u32, t.timed_out);
            }
        }
        let Some(tcp) = self.tcp[id].as_mut() else {
            return;
        };
        self.conn.subflow_sample(
            id as u32,
            PathSample {
                srtt_us: tcp.srtt_us,
                cwnd: tcp.cwnd,
                ssthresh: tcp.ssthresh,
                recovering: tcp.recovering,
            },
            self.now,
        );
        loop {
            let room = TxRoom {
                room: match tcp.sndbuf {
                    0 => 1 << 20,
                    size => size.saturating_sub(tcp.queue.len() as u32),
                },
                mss: tcp.mss,
                write_seq: tcp.write_seq,
                packets_out: u32::from(tcp.snd_una != tcp.snd_nxt),
                nodelay: self.nodelay,
                size_goal: 0,
                more: false,
                snd_nxt: Some(tcp.snd_nxt),
            };
            let Some(t) = self.conn.poll_transmit(id as u32, &room) else {
                break;
            };
            let from = t.dsn.wrapping_sub(self.sndbuf_dsn) as usize;
            let bytes: Vec<u8> = self
                .sndbuf
                .range(from..from + t.len as usize)
                .copied()
                .collect();
            assert_eq!(
                bytes.len(),
                t.len as usize,
                "mapped octets not in the send buffer"
            );
            if t.new_mapping {
                // MSG_EOR on the last skb queued.
                tcp.records.push_back(tcp.write_seq);
            }
            tcp.queue.extend(bytes);
            tcp.write_seq = tcp.write_seq.wrapping_add(t.len);
            self.conn.on_transmit(self.now);
        }
        if self.conn.data_fin_due(id as u32, tcp.write_seq, self.now) {
            tcp.pure_ack_due = true;
        }
    }

    /// The segments subflow `id` sends now.
    fn emit(&mut self, id: usize) -> Vec<Wire> {
        let mut out = Vec::new();
        let window = self.advertised_window();
        let Some(tcp) = self.tcp[id].as_mut() else {
            return out;
        };
        if tcp.stalled {
            return out;
        }
        while !tcp.queue.is_empty() || tcp.ack_due || tcp.pure_ack_due {
            if tcp.queue.is_empty() && !tcp.ack_due {
                tcp.pure_ack_due = false;
            }
            let mut n = (tcp.mss as usize).min(tcp.queue.len());
            // No segment crosses the end of a record (MSG_EOR).
            while let Some(&end) = tcp.records.front() {
                if seq::after32(end, tcp.snd_nxt) {
                    n = n.min(end.wrapping_sub(tcp.snd_nxt) as usize);
                    break;
                }
                tcp.records.pop_front();
            }
            let payload: Vec<u8> = tcp.queue.drain(..n).collect();
            let seg = SegmentOut {
                seq: tcp.snd_nxt,
                flags: flags::ACK,
                payload_len: n as u32,
                rcv_nxt: tcp.rcv_nxt,
            };
            let mut options = vec![0u8; 40];
            let option = self.conn.option_for(id as u32, &seg);
            let mut len = match option {
                Some(o) => o.write(&mut options).expect("our option fits"),
                None => 0,
            };
            // Only a DSS gives way to a signal, never a handshake's option.
            let alone_ok = matches!(option, Some(MptcpOption::Dss(_)));
            // A signal beside it, on a pure ACK, if both fit with TCP's
            // timestamps (12 octets) in the 40 of the options area; if not,
            // alone, as the kernel side (and Linux) sends it.
            if let Some(signal) = self.conn.signal_for(id as u32, &seg) {
                let mut extra = [0u8; 40];
                let n = signal.write(&mut extra).expect("a signal fits alone");
                if len + n > 28 && alone_ok {
                    len = 0;
                }
                if len + n <= 28 {
                    options[len..len + n].copy_from_slice(&extra[..n]);
                    len += n;
                    self.conn.signal_sent(id as u32, &signal, self.now);
                }
            }
            options.truncate(len);
            out.push(Wire {
                seq: tcp.snd_nxt,
                ack: tcp.rcv_nxt,
                flags: flags::ACK,
                payload,
                options,
                window,
            });
            tcp.snd_nxt = tcp.snd_nxt.wrapping_add(n as u32);
            tcp.data_sent += n as u64;
            tcp.ack_due = false;
        }
        if tcp.cut {
            // Lost on the way; counted as sent.
            tcp.snd_una = tcp.snd_nxt;
            out.clear();
        }
        out
    }

    /// The window this end advertises (see [`End::rcv_limit`]).
    fn advertised_window(&self) -> u32 {
        self.rcv_limit.map_or(1 << 24, |limit| {
            limit.saturating_sub(self.conn.rx_queued() as u32)
        })
    }

    /// A segment from the peer reaches subflow `id`.
    fn deliver(&mut self, id: usize, w: &Wire) {
        let rx = Received::parse(&w.options);
        let window = {
            let Some(tcp) = self.tcp[id].as_ref() else {
                return;
            };
            tcp.window()
        };
        let seg = w.segment_in(&rx);
        self.conn
            .handle_segment(id as u32, &seg, &window, w.window, self.now);
        if self.conn.take_ack_wanted() {
            if let Some(tcp) = self.tcp[id].as_mut() {
                tcp.ack_due = true;
            }
        }
        if !window.accepts(&seg) {
            self.collect();
            return;
        }
        let tcp = self.tcp[id].as_mut().unwrap();
        if seq::after32(w.ack, tcp.snd_una) {
            tcp.snd_una = w.ack;
            if let Some(sf) = self.conn.subflow(id as u32) {
                sf.acked(w.ack);
            }
        }
        if !w.payload.is_empty() {
            assert_eq!(w.seq, tcp.rcv_nxt, "the model delivers in order");
            tcp.rcv_nxt = tcp.rcv_nxt.wrapping_add(w.payload.len() as u32);
            tcp.ack_due = true;
            self.pending.push_back((id, w.seq, w.payload.clone()));
            self.hand_pending();
        }
        while let Some(p) = self.conn.pop_readable() {
            self.received.extend_from_slice(&p);
        }
        self.collect();
    }

    /// Hands the connection the in-order data the subflows hold, in order.
    fn hand_pending(&mut self) {
        while let Some((id, seq, data)) = self.pending.front().cloned() {
            if self.hold {
                break;
            }
            let outcome = if self.fail_data > 0 {
                self.fail_data -= 1;
                DataOutcome::NoMemory
            } else {
                self.conn.handle_data(id as u32, seq, data)
            };
            assert_ne!(outcome, DataOutcome::Broken, "a subflow broke");
            if outcome == DataOutcome::NoMemory {
                break;
            }
            self.pending.pop_front();
        }
        while let Some(p) = self.conn.pop_readable() {
            self.received.extend_from_slice(&p);
        }
    }
}

const MSS: u32 = 1000;
const CLIENT_ISS: u32 = 0xffff_f000;
const SERVER_ISS: u32 = 0x7fff_ff00;

/// A client and a server, connected.
struct Pair {
    client: End,
    server: End,
}

/// The client's SYN options, written by its connection.
fn client_syn(c: &mut Conn, iss: u32) -> Vec<u8> {
    let seg = SegmentOut {
        seq: iss,
        flags: flags::SYN,
        payload_len: 0,
        rcv_nxt: 0,
    };
    let mut buf = vec![0u8; 40];
    let n = c
        .option_for(0, &seg)
        .map_or(0, |o| o.write(&mut buf).unwrap());
    buf.truncate(n);
    buf
}

#[test]
fn a_retransmitted_mp_capable_syn_is_one_connection() {
    let mut client = Conn::client(key(0x1111));
    let first = client_syn(&mut client, CLIENT_ISS);
    // TCP's SYN timer: the same SYN, the same option, counted once.
    let again = client_syn(&mut client, CLIENT_ISS);
    assert!(!first.is_empty());
    assert_eq!(first, again);
    let mut syns = 0;
    client.take_counts(|c, n| {
        if c == Counter::MPCapableSYNTX {
            syns += n;
        }
    });
    assert_eq!(syns, 1);
}

/// The path manager's `subflows` limit in these tests: the table's size.
const JOIN_LIMIT: u8 = MAX_SUBFLOWS as u8 - 1;

fn write_option(o: MptcpOption) -> Vec<u8> {
    let mut buf = vec![0u8; 40];
    let n = o.write(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

impl Pair {
    /// The MP_CAPABLE handshake through the real options, then both ends
    /// established on subflow 0.
    fn connect() -> Self {
        Self::connect_with(|_| {})
    }

    fn connect_with(tweak: impl Fn(&mut Conn)) -> Self {
        let (ckey, skey) = (key(0x1111), key(0x2222));
        let mut client = Conn::client(ckey);
        tweak(&mut client);
        // SYN.
        let syn = Received::parse(&client_syn(&mut client, CLIENT_ISS));
        assert!(listener_accepts_syn(&syn));
        // SYN/ACK.
        let synack = Received::parse(&write_option(capable(CapableForm::SynAck {
            sender_key: skey.key,
        })));
        let seg = SegmentIn {
            seq: SERVER_ISS,
            ack: CLIENT_ISS.wrapping_add(1),
            flags: flags::SYN | flags::ACK,
            payload_len: 0,
            options: &synack,
        };
        client.handle_segment(0, &seg, &TcpWindow::default(), 0, 0);
        assert_eq!(client.mode(), Mode::Mptcp);
        assert_eq!(client.poll_event(), Some(Event::Established));
        // Third ACK.
        let out = SegmentOut {
            seq: CLIENT_ISS.wrapping_add(1),
            flags: flags::ACK,
            payload_len: 0,
            rcv_nxt: SERVER_ISS.wrapping_add(1),
        };
        let ack = Received::parse(&write_option(client.option_for(0, &out).unwrap()));
        let (client_key, data) = listener_third_ack(&ack, skey.key).expect("valid third ACK");
        assert_eq!((client_key, data), (ckey.key, None));
        let mut server = Conn::server(
            skey,
            Remote {
                key: client_key,
                idsn: ckey.idsn,
            },
            SERVER_ISS,
            CLIENT_ISS,
            None,
        );
        tweak(&mut server);
        let mut client = End::new(client);
        let mut server = End::new(server);
        client.tcp.push(Some(Tcp::new(CLIENT_ISS, SERVER_ISS, MSS)));
        server.tcp.push(Some(Tcp::new(SERVER_ISS, CLIENT_ISS, MSS)));
        Pair { client, server }
    }

    /// Adds a subflow at both ends through the MP_JOIN handshake, every
    /// option through the codec, the server's ACK of the third ACK
    /// included; returns its id.
    fn join(&mut self, iss_c: u32, iss_s: u32) -> usize {
        self.join_with(iss_c, iss_s, false)
    }

    /// As [`Pair::join`], the client asking for a backup subflow if
    /// `backup`.
    fn join_with(&mut self, iss_c: u32, iss_s: u32, backup: bool) -> usize {
        let id = self.join_to_third_ack(iss_c, iss_s, backup);
        for (end, iss, irs) in [
            (&mut self.client, iss_c, iss_s),
            (&mut self.server, iss_s, iss_c),
        ] {
            while end.tcp.len() <= id {
                end.tcp.push(None);
            }
            end.tcp[id] = Some(Tcp::new(iss, irs, MSS));
        }
        // The server acknowledges the third ACK (with its DSS, as on every
        // segment of an established subflow): the client's subflow is
        // established too.
        self.server.tcp[id].as_mut().unwrap().ack_due = true;
        let acks = self.server.emit(id);
        assert_eq!(acks.len(), 1);
        assert!(Received::parse(&acks[0].options).dss.is_some());
        self.client.deliver(id, &acks[0]);
        assert_eq!(
            self.client.conn.subflow(id as u32).unwrap().stage(),
            Stage::Established
        );
        id
    }

    /// MP_JOIN from the client (a backup if `backup`) up to the server's
    /// acceptance of the third ACK; the client is left pre-established.
    fn join_to_third_ack(&mut self, iss_c: u32, iss_s: u32, backup: bool) -> usize {
        let (cid, req) = self.join_answered(iss_c, backup, 0xb2b2_0000 ^ iss_s);
        self.join_synack_to_client(cid, iss_c, iss_s, &write_option(req.synack_option()));
        let ack = self
            .join_third_ack(cid, iss_c, iss_s)
            .expect("a third ACK with MP_JOIN");
        let sid = self
            .server
            .conn
            .join_ack(&req, &ack, iss_s, iss_c, JOIN_LIMIT)
            .expect("the third ACK's HMAC is right");
        assert_eq!(cid, sid);
        cid as usize
    }

    /// The client opens a subflow (a backup if `backup`) and the server
    /// answers its SYN with our random number `nonce`: the client's id of
    /// the subflow, the server's request.
    fn join_answered(
        &mut self,
        iss_c: u32,
        backup: bool,
        nonce: u32,
    ) -> (SubflowId, join::JoinRequest) {
        let (cid, syn) = self.join_syn(iss_c, backup);
        let js = join::listener_join_syn(&syn).expect("a join SYN");
        assert_eq!(js.token, self.server.conn.local().token);
        let req = self
            .server
            .conn
            .join_synack(&js, 2, nonce, false)
            .expect("the server takes the join");
        (cid, req)
    }

    /// The client opens a subflow: its id, and its SYN's options as the
    /// server reads them.
    fn join_syn(&mut self, iss_c: u32, backup: bool) -> (SubflowId, Received) {
        let id = self
            .client
            .conn
            .open_join(1, 0xa1a1_0000 ^ iss_c, backup, JOIN_LIMIT)
            .expect("room for a subflow");
        let out = SegmentOut {
            seq: iss_c,
            flags: flags::SYN,
            payload_len: 0,
            rcv_nxt: 0,
        };
        let syn = self
            .client
            .conn
            .option_for(id, &out)
            .expect("MP_JOIN on the SYN");
        (id, Received::parse(&write_option(syn)))
    }

    /// A SYN/ACK with `options` reaches the client's joining subflow `id`.
    fn join_synack_to_client(&mut self, id: SubflowId, iss_c: u32, iss_s: u32, options: &[u8]) {
        let rx = Received::parse(options);
        let seg = SegmentIn {
            seq: iss_s,
            ack: iss_c.wrapping_add(1),
            flags: flags::SYN | flags::ACK,
            payload_len: 0,
            options: &rx,
        };
        let now = self.client.now;
        self.client
            .conn
            .handle_segment(id, &seg, &TcpWindow::default(), 0, now);
    }

    /// The options of the client's next ACK on subflow `id`, as read.
    fn join_third_ack(&mut self, id: SubflowId, iss_c: u32, iss_s: u32) -> Option<Received> {
        let out = SegmentOut {
            seq: iss_c.wrapping_add(1),
            flags: flags::ACK,
            payload_len: 0,
            rcv_nxt: iss_s.wrapping_add(1),
        };
        let o = self.client.conn.option_for(id, &out)?;
        Some(Received::parse(&write_option(o)))
    }

    /// One round: each end pushes and sends on every subflow, the other
    /// receives. Returns the segments that went (lost ones included).
    fn step(&mut self) -> usize {
        let mut moved = 0;
        for from_client in [true, false] {
            let (a, b) = if from_client {
                (&mut self.client, &mut self.server)
            } else {
                (&mut self.server, &mut self.client)
            };
            a.hand_pending();
            for id in 0..a.tcp.len() {
                a.push(id);
                let segs = a.emit(id);
                moved += segs.len();
                if b.tcp.get(id).is_some_and(Option::is_some) {
                    for w in &segs {
                        b.deliver(id, w);
                    }
                }
            }
            a.collect();
        }
        moved
    }

    /// Steps until nothing moves (or a bound).
    fn drive(&mut self) {
        for _ in 0..100_000 {
            if self.step() == 0 {
                return;
            }
        }
        panic!("the pair did not settle");
    }
}

/// A deterministic stream of `n` octets.
fn stream(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

/// The platform of the KUnit vectors, on the host: spans as payloads.
struct SpanHost;

impl Platform for SpanHost {
    type Sha256 = HostSha256;
    type Payload = crate::reassembly::Span;
    type RxQueue = BTreeMap<u64, crate::reassembly::Span>;
    type Sent = BTreeMap<u64, SentEntry>;
    type RxMaps = BTreeMap<u64, MapEntry>;
    type TxMaps = BTreeMap<u64, SentMapping>;
    fn rx_queue() -> Self::RxQueue {
        BTreeMap::new()
    }
    fn sent() -> Self::Sent {
        BTreeMap::new()
    }
    fn rx_maps() -> Self::RxMaps {
        BTreeMap::new()
    }
    fn tx_maps() -> Self::TxMaps {
        BTreeMap::new()
    }
}

#[test]
fn vectors() {
    selftest::<SpanHost>(&mut crate::check::PanicCheck);
}

#[test]
fn an_upload_whose_peer_half_closed_at_once_is_not_done_at_eof() {
    let mut p = Pair::connect();
    // The server sends nothing and shuts its side at once; the client's
    // reader reaches the end while the client still has data to send.
    p.server.conn.shutdown_write();
    p.drive();
    assert!(p.client.conn.at_eof() && p.client.conn.peer_done());
    assert!(!p.client.conn.exchange_done());
    let up = stream(100_000, 3);
    p.client.write(&up);
    p.drive();
    assert_eq!(p.server.received, up);
    assert!(!p.client.conn.exchange_done());
    p.client.conn.shutdown_write();
    p.drive();
    assert!(p.client.conn.exchange_done());
    // The server's peer is done too, and its DATA_FIN was acked.
    assert!(p.server.conn.exchange_done());
}

#[test]
fn handshake_data_both_ways_and_data_fins() {
    let mut p = Pair::connect();
    let up = stream(300_000, 1);
    let down = stream(200_001, 2);
    p.client.write(&up);
    p.server.write(&down);
    p.drive();
    assert_eq!(p.server.received, up);
    assert_eq!(p.client.received, down);
    // The server's DSS showed the client that its keys arrived: fully
    // established, once (the server's connection was from its making).
    let full = |e: &Vec<Event>| e.iter().filter(|e| **e == Event::FullyEstablished).count();
    assert_eq!((full(&p.client.events), full(&p.server.events)), (1, 0));
    // Everything DATA_ACKed: nothing left to keep.
    assert_eq!(p.client.conn.unacked(), 0);
    assert_eq!(p.client.conn.sent_records(), 0);
    assert!(p.client.sndbuf.is_empty() && p.server.sndbuf.is_empty());
    // DATA_FIN both ways.
    p.client.conn.shutdown_write();
    p.drive();
    assert!(p.server.events.contains(&Event::PeerDataFin));
    assert!(p.server.conn.at_eof());
    assert!(p.client.events.contains(&Event::DataFinAcked));
    assert!(!p.client.conn.at_eof());
    assert!(p.server.conn.peer_done() && !p.client.conn.peer_done());
    // The DATA_FIN takes a DSN but is no octet of the send buffer.
    assert_eq!(p.client.conn.unacked(), 0);
    p.server.conn.shutdown_write();
    p.drive();
    assert!(p.client.conn.at_eof());
    assert!(p.client.conn.peer_done());
    assert!(p.server.conn.data_fin_acked() && p.client.conn.data_fin_acked());
    assert_eq!(
        (p.client.count("DataFinTx"), p.server.count("DataFinRx")),
        (1, 1)
    );
    assert_eq!(
        p.client.count("DSSNoMapping") + p.server.count("DSSNotMatching"),
        0
    );
}

#[test]
fn mappings_end_on_mss_multiples_and_a_short_tail_waits() {
    let mut p = Pair::connect();
    // 2.5 MSS with nothing in flight: one mapping of 2 MSS, then the tail
    // (nothing is in flight in the model between rounds, so it goes).
    let data = stream(2_500, 3);
    p.client.write(&data);
    let tcp = p.client.tcp[0].as_ref().unwrap();
    let room = TxRoom {
        room: 1 << 20,
        mss: MSS,
        write_seq: tcp.write_seq,
        packets_out: 1,
        nodelay: false,
        size_goal: 0,
        more: false,
        snd_nxt: None,
    };
    let t = p.client.conn.poll_transmit(0, &room).unwrap();
    assert_eq!((t.len, t.end_of_mapping), (2_000, true));
    // The tail of 500 waits while packets are out...
    let room = TxRoom {
        write_seq: tcp.write_seq.wrapping_add(2_000),
        ..room
    };
    assert_eq!(p.client.conn.poll_transmit(0, &room), None);
    // ...but not with TCP_NODELAY.
    let nodelay = TxRoom {
        nodelay: true,
        ..room
    };
    assert_eq!(
        p.client.conn.poll_transmit(0, &nodelay).map(|t| t.len),
        Some(500)
    );
}

#[test]
fn a_mapping_is_sized_by_the_data_not_by_tcp_s_room() {
    let mut p = Pair::connect();
    let data = stream(100_000, 5);
    p.client.write(&data);
    p.client.conn.shutdown_write();
    let write_seq = p.client.tcp[0].as_ref().unwrap().write_seq;
    let room = TxRoom {
        room: 3_000,
        mss: MSS,
        write_seq,
        packets_out: 1,
        nodelay: false,
        size_goal: 0,
        more: false,
        snd_nxt: None,
    };
    // TCP takes 3 000 octets of a 65 000-octet mapping: no record end.
    let t = p.client.conn.poll_transmit(0, &room).unwrap();
    assert_eq!((t.len, t.end_of_mapping), (3_000, false));
    assert_eq!(p.client.conn.sent_records(), 1);
    let write_seq = write_seq.wrapping_add(3_000);
    // Its FIN must wait for the rest of the mapping.
    assert!(!p.client.conn.data_fin_due(0, write_seq, 0));
    // With no room, nothing; with room, the rest of that mapping.
    let full = TxRoom {
        room: 0,
        write_seq,
        ..room
    };
    assert_eq!(p.client.conn.poll_transmit(0, &full), None);
    let more = TxRoom {
        room: 1 << 20,
        write_seq,
        ..room
    };
    let t = p.client.conn.poll_transmit(0, &more).unwrap();
    assert_eq!(
        (t.dsn, t.len, t.end_of_mapping),
        (p.client.conn.snd_una() + 3_000, 62_000, true)
    );
    assert_eq!(p.client.conn.sent_records(), 1);
    // The model's TCP takes it from here: everything arrives once.
    let tcp = p.client.tcp[0].as_mut().unwrap();
    tcp.queue.extend(&data[..65_000]);
    tcp.write_seq = tcp.write_seq.wrapping_add(65_000);
    tcp.records.push_back(tcp.write_seq);
    p.drive();
    assert_eq!(p.server.received, data);
    assert!(p.server.conn.at_eof());
}

#[test]
fn a_mapping_fills_tcp_s_skb_and_no_more() {
    // TCP puts 45 segments in an skb (gso_segs x MSS = 45 000 here): a
    // mapping of 65 000 would leave an skb of 20 segments after each full
    // one, since a mapping ends its skb.
    let mut p = Pair::connect();
    p.client.write(&stream(200_000, 8));
    let write_seq = p.client.tcp[0].as_ref().unwrap().write_seq;
    let room = TxRoom {
        room: 1 << 20,
        mss: MSS,
        write_seq,
        packets_out: 1,
        nodelay: false,
        size_goal: 45 * MSS + 17,
        more: false,
        snd_nxt: None,
    };
    let t = p.client.conn.poll_transmit(0, &room).unwrap();
    assert_eq!((t.len, t.end_of_mapping), (45 * MSS, true));
    // A goal beyond what a DSS length field holds is not followed.
    let room = TxRoom {
        write_seq: write_seq.wrapping_add(t.len),
        size_goal: 80 * MSS,
        ..room
    };
    let t = p.client.conn.poll_transmit(0, &room).unwrap();
    assert_eq!(t.len, MAX_MAPPING - MAX_MAPPING % MSS);
}

#[test]
fn while_the_application_writes_a_short_mapping_waits_for_its_data() {
    let mut p = Pair::connect();
    p.client.write(&stream(100_000, 9));
    let mut write_seq = p.client.tcp[0].as_ref().unwrap().write_seq;
    let room = |write_seq, more| TxRoom {
        room: 1 << 20,
        mss: MSS,
        write_seq,
        packets_out: 1,
        nodelay: true,
        size_goal: 45 * MSS,
        more,
        snd_nxt: None,
    };
    for _ in 0..2 {
        let t = p
            .client
            .conn
            .poll_transmit(0, &room(write_seq, true))
            .unwrap();
        assert_eq!(t.len, 45 * MSS);
        write_seq = write_seq.wrapping_add(t.len);
    }
    // 10 000 octets left: not an skb's worth while more is being written...
    assert_eq!(p.client.conn.poll_transmit(0, &room(write_seq, true)), None);
    // ...and all of it once the write is over.
    let t = p
        .client
        .conn
        .poll_transmit(0, &room(write_seq, false))
        .unwrap();
    assert_eq!((t.len, t.end_of_mapping), (10_000, true));
}

#[test]
fn a_mapping_grows_while_none_of_it_has_left() {
    let mut p = Pair::connect();
    p.client.nodelay = true;
    let data = stream(10_000, 10);
    // (The first data carries MP_CAPABLE; then DSS.)
    p.client.write(&data[..1_000]);
    p.drive();
    // 3 000 octets handed to TCP, not sent yet: 2 000 more join their
    // mapping (and TCP's skb).
    p.client.write(&data[1_000..4_000]);
    p.client.push(0);
    p.client.write(&data[4_000..6_000]);
    p.client.push(0);
    let lengths = |wire: &[Wire]| -> Vec<u16> {
        wire.iter()
            .filter_map(|w| Received::parse(&w.options).dss?.mapping)
            .map(|m| m.data_len)
            .collect()
    };
    let wire = p.client.emit(0);
    assert_eq!(lengths(&wire), [5_000; 5]);
    for w in &wire {
        p.server.deliver(0, w);
    }
    // Once sent, a mapping is fixed: what follows gets one of its own.
    p.client.write(&data[6_000..]);
    p.client.push(0);
    let wire = p.client.emit(0);
    assert_eq!(lengths(&wire), [4_000; 4]);
    for w in &wire {
        p.server.deliver(0, w);
    }
    p.drive();
    assert_eq!(p.server.received, data);
}

#[test]
fn a_lost_data_fin_goes_again_when_the_data_level_timer_fires() {
    let mut p = Pair::connect();
    p.client.conn.set_rto(200_000);
    let data = stream(3_000, 6);
    p.client.write(&data);
    p.drive();
    assert_eq!(p.server.received, data);
    // The DATA_FIN goes on a pure ACK, which is lost.
    p.client.conn.shutdown_write();
    p.client.push(0);
    p.client.tcp[0].as_mut().unwrap().cut = true;
    assert!(p.client.emit(0).is_empty());
    p.client.tcp[0].as_mut().unwrap().cut = false;
    p.drive();
    assert!(!p.server.conn.at_eof(), "the DATA_FIN was lost");
    assert!(!p.client.conn.take_ack_wanted());
    // The timer fires: an ACK carries the DATA_FIN again.
    let deadline = p
        .client
        .conn
        .poll_timeout()
        .expect("armed for the DATA_FIN");
    p.client.now = deadline;
    p.client.conn.handle_timeout(deadline);
    assert!(p.client.conn.take_ack_wanted());
    p.client.tcp[0].as_mut().unwrap().pure_ack_due = true;
    p.drive();
    assert!(p.server.conn.at_eof());
    assert!(p.client.conn.data_fin_acked());
    assert_eq!(p.client.conn.poll_timeout(), None);
}

#[test]
fn a_mapping_is_never_larger_than_the_dss_length_field() {
    let mut p = Pair::connect();
    p.client.write(&stream(1_000_000, 4));
    let tcp = p.client.tcp[0].as_ref().unwrap();
    let room = TxRoom {
        room: 1 << 20,
        mss: 1448,
        write_seq: tcp.write_seq,
        packets_out: 0,
        nodelay: false,
        size_goal: 0,
        more: false,
        snd_nxt: None,
    };
    let t = p.client.conn.poll_transmit(0, &room).unwrap();
    assert_eq!(t.len, 65_160, "45 MSS: the largest multiple under 64 KiB");
}

#[test]
fn first_data_on_the_mp_capable_ack_is_data_acked_at_once() {
    // The client sends data before the server showed it has the keys: the
    // first segment carries MP_CAPABLE with data (RFC 8684, 3.1).
    let mut p = Pair::connect();
    p.client.write(b"hello");
    p.client.nodelay = true;
    p.client.push(0);
    let segs = p.client.emit(0);
    assert_eq!(segs.len(), 1);
    let rx = Received::parse(&segs[0].options);
    assert!(matches!(
        rx.mp_capable,
        Some(MpCapable {
            form: CapableForm::AckData { data_len: 5, .. },
            ..
        })
    ));
    p.server.deliver(0, &segs[0]);
    assert_eq!(p.server.received, b"hello");
    // The server's very next segment, a pure ACK, covers the data.
    let ack = p.server.emit(0);
    let rx = Received::parse(&ack[0].options);
    let data_ack = rx.dss.and_then(|d| d.data_ack).unwrap();
    let expected = key(0x1111).idsn.wrapping_add(6);
    // 64 bits: the mapping of MP_CAPABLE with data is (as Linux takes it).
    assert_eq!(data_ack, DssSeq::Bits64(expected));
}

#[test]
fn data_waiting_on_a_subflow_is_data_acked_before_it_is_handed() {
    // A listener's child before accept(): its data waits in TCP's queue,
    // yet the ACK of the MP_CAPABLE data covers it.
    let mut p = Pair::connect();
    p.server.hold = true;
    p.client.write(b"early data");
    p.client.nodelay = true;
    p.client.push(0);
    let segs = p.client.emit(0);
    p.server.deliver(0, &segs[0]);
    assert!(p.server.received.is_empty());
    let ack = p.server.emit(0);
    let rx = Received::parse(&ack[0].options);
    let expected = key(0x1111).idsn.wrapping_add(11);
    assert_eq!(
        rx.dss.and_then(|d| d.data_ack),
        Some(DssSeq::Bits64(expected))
    );
    // Accepted: the data moves, nothing is lost or doubled.
    p.server.hold = false;
    p.server.hand_pending();
    assert_eq!(p.server.received, b"early data");
    p.client.deliver(0, &ack[0]);
    assert_eq!(p.client.conn.unacked(), 0);
}

#[test]
fn the_dss_option_has_linux_lengths() {
    // RFC 8684, section 3.3, Figure 9: 4 octets of header, a DATA_ACK, an
    // 8-octet DSN, 4 of subflow sequence number, 2 of length. As Linux's
    // own MPTCP sends it: the DATA_ACK in 4 octets (22 in all) until the
    // peer's data came with 64-bit DSNs, in 8 (26) from then on, on data
    // and on a DATA_FIN.
    let mut p = Pair::connect();
    p.client.write(&stream(3_000, 5));
    p.client.push(0);
    for w in &p.client.emit(0) {
        assert_eq!(w.options.len(), 22, "{:?}", Received::parse(&w.options).dss);
        p.server.deliver(0, w);
    }
    p.drive();
    p.server.write(b"x");
    p.server.nodelay = true;
    p.drive();
    p.client.write(&stream(3_000, 5));
    p.client.push(0);
    let segs = p.client.emit(0);
    for w in &segs {
        assert_eq!(w.options.len(), 26, "{:?}", Received::parse(&w.options).dss);
        p.server.deliver(0, w);
    }
    p.drive();
    p.client.conn.shutdown_write();
    p.client.push(0);
    let fin = p.client.emit(0);
    let dss = Received::parse(&fin[0].options).dss.unwrap();
    assert!(dss.data_fin);
    assert_eq!(fin[0].options.len(), 26);
    p.server.deliver(0, &fin[0]);
    // A pure ACK carries the 8-octet DATA_ACK alone: 12 octets.
    p.drive();
    p.server.write(b"y");
    p.server.push(0);
    let data = p.server.emit(0);
    p.client.deliver(0, &data[0]);
    let ack = p.client.emit(0);
    assert_eq!(ack[0].options.len(), 12);
}

/// A DSS with only a mapping.
fn forged_mapping(dsn: u64, subflow_seq: u32, data_len: u16, data_fin: bool) -> Vec<u8> {
    write_option(MptcpOption::Dss(Dss {
        data_ack: None,
        mapping: Some(DssMapping {
            dsn: DssSeq::Bits64(dsn),
            subflow_seq,
            data_len,
            checksum: None,
        }),
        data_fin,
    }))
}

#[test]
fn out_of_window_segments_change_nothing() {
    let mut p = Pair::connect();
    let data = stream(50_000, 6);
    p.client.write(&data);
    p.client.push(0);
    let segs = p.client.emit(0);
    assert_eq!(segs.len(), 50);
    for w in &segs[..10] {
        p.server.deliver(0, w);
    }
    // Forged segments on the right subflow, out of its window: a mapping
    // that conflicts with the one being received, a DATA_FIN, an
    // MP_FASTCLOSE with the right key.
    let tcp = p.server.tcp[0].as_ref().unwrap();
    let (far, snd_nxt) = (tcp.rcv_nxt.wrapping_add(1 << 28), tcp.snd_nxt);
    let old = tcp.rcv_nxt.wrapping_sub(1 << 20);
    let fin_dsn = key(0x1111).idsn.wrapping_add(20_000);
    let forged = [
        forged_mapping(12345, 20_001, 100, false),
        forged_mapping(fin_dsn, 0, 1, true),
        write_option(MptcpOption::MpFastclose(MpFastclose {
            receiver_key: key(0x2222).key,
        })),
    ];
    for options in forged {
        for seq in [far, old] {
            let w = Wire {
                window: 1 << 24,
                seq,
                ack: snd_nxt,
                flags: flags::ACK,
                payload: vec![0; 10],
                options: options.clone(),
            };
            p.server.deliver(0, &w);
        }
    }
    assert_eq!(p.server.count("OptionOutOfWindow"), 6);
    assert!(p.server.events.iter().all(|e| !matches!(
        e,
        Event::ResetSubflow { .. } | Event::FastClose | Event::PeerDataFin
    )));
    // The transfer goes on intact.
    for w in &segs[10..] {
        p.server.deliver(0, w);
    }
    p.drive();
    assert_eq!(p.server.received, data);
    // The same conflicting mapping inside the window is a protocol error:
    // the subflow is reset (RFC 8684, section 3.3.1).
    p.client.write(&stream(5_000, 7));
    p.client.push(0);
    let segs = p.client.emit(0);
    p.server.deliver(0, &segs[0]);
    let tcp = p.server.tcp[0].as_ref().unwrap();
    let w = Wire {
        window: 1 << 24,
        seq: tcp.rcv_nxt,
        ack: tcp.snd_nxt,
        flags: flags::ACK,
        payload: Vec::new(),
        options: forged_mapping(12345, 52_001, 100, false),
    };
    p.server.deliver(0, &w);
    assert_eq!(p.server.count("DSSNotMatching"), 1);
    assert!(p.server.events.contains(&Event::ResetSubflow {
        id: 0,
        reason: crate::option::tcprst_reason::MPTCP_SPECIFIC
    }));
}

#[test]
fn a_zero_length_mapping_on_a_pure_ack_is_no_infinite_mapping() {
    // packetdrill's dss_ssn_specified_server.pkt: the peer acknowledges
    // with a DSS whose mapping has data-level length 0, on no data. Linux
    // looks at no mapping of a pure ACK; neither do we: no fallback.
    let mut p = Pair::connect();
    let tcp = p.server.tcp[0].as_ref().unwrap();
    let ack = Wire {
        window: 1 << 24,
        seq: tcp.rcv_nxt,
        ack: tcp.snd_nxt,
        flags: flags::ACK,
        payload: Vec::new(),
        options: forged_mapping(1, 1, 0, false),
    };
    p.server.deliver(0, &ack);
    assert_eq!(p.server.conn.mode(), Mode::Mptcp);
    assert_eq!(p.server.count("InfiniteMapRx"), 0);
    let data = stream(10_000, 3);
    p.server.write(&data);
    p.drive();
    assert_eq!(p.client.received, data);
    // On data it is the infinite mapping: the peer fell back.
    let tcp = p.server.tcp[0].as_ref().unwrap();
    let with_data = Wire {
        payload: vec![1, 2, 3],
        seq: tcp.rcv_nxt,
        ack: tcp.snd_nxt,
        options: forged_mapping(1, 1, 0, false),
        ..ack
    };
    p.server.deliver(0, &with_data);
    assert_eq!(p.server.count("InfiniteMapRx"), 1);
}

#[test]
fn mp_fastclose_with_our_key_resets_the_connection() {
    let mut p = Pair::connect();
    let tcp = p.server.tcp[0].as_ref().unwrap();
    let wrong = Wire {
        window: 1 << 24,
        seq: tcp.rcv_nxt,
        ack: tcp.snd_nxt,
        flags: flags::ACK,
        payload: Vec::new(),
        options: write_option(MptcpOption::MpFastclose(MpFastclose { receiver_key: 7 })),
    };
    p.server.deliver(0, &wrong);
    assert_eq!(p.server.conn.mode(), Mode::Mptcp);
    let right = Wire {
        window: 1 << 24,
        options: write_option(MptcpOption::MpFastclose(MpFastclose {
            receiver_key: key(0x2222).key,
        })),
        ..wrong
    };
    p.server.deliver(0, &right);
    assert_eq!(p.server.conn.mode(), Mode::Closed);
    assert!(p.server.events.contains(&Event::FastClose));
}

#[test]
fn the_data_sequence_space_wraps() {
    // Both IDSNs within 1 MiB of 2^64: 4 MB each way crosses it.
    let mut p = Pair::connect_with(Conn::set_idsn_near_wrap);
    p.client.sndbuf_dsn = p.client.conn.snd_una();
    p.server.sndbuf_dsn = p.server.conn.snd_una();
    assert!(p.client.conn.snd_una() > u64::MAX - (1 << 20));
    let up = stream(4_000_000, 7);
    let down = stream(4_000_000, 8);
    p.client.write(&up);
    p.server.write(&down);
    p.drive();
    assert!(p.client.conn.snd_una() < (1 << 22), "wrapped");
    assert_eq!(p.server.received, up);
    assert_eq!(p.client.received, down);
}

#[test]
fn no_memory_loses_nothing() {
    let mut p = Pair::connect();
    let data = stream(100_000, 9);
    p.client.write(&data[..50_000]);
    // The receiver runs out of memory for a while: the data stays on the
    // subflow and is handed again; no octet lost or duplicated.
    p.server.fail_data = 7;
    p.drive();
    p.client.write(&data[50_000..]);
    p.drive();
    assert_eq!(p.server.received, data);
}

#[test]
fn an_application_limited_sender_keeps_its_tables_small() {
    let mut p = Pair::connect();
    p.client.nodelay = true;
    for i in 0..2_000u32 {
        p.client.write(&i.to_le_bytes());
        p.drive();
    }
    assert_eq!(p.server.received.len(), 8_000);
    // Every mapping is DATA_ACKed and acknowledged by TCP before the next:
    // what is kept does not grow with the connection's life.
    assert!(p.client.peak_tables.0 <= 2, "{:?}", p.client.peak_tables);
    assert!(p.client.peak_tables.1 <= 2, "{:?}", p.client.peak_tables);
    assert!(p.server.peak_tables.2 <= 2, "{:?}", p.server.peak_tables);
    assert!(p.server.peak_tables.3 <= 2, "{:?}", p.server.peak_tables);
}

#[test]
fn a_failed_subflow_s_data_is_reinjected_on_another() {
    let mut p = Pair::connect();
    let id = p.join(0x1000, 0x2000);
    assert_eq!(id, 1);
    // Data mapped onto subflow 0, whose path then fails.
    let data = stream(40_000, 10);
    p.client.write(&data);
    p.client.tcp[0].as_mut().unwrap().cut = true;
    p.client.push(0);
    p.client.emit(0);
    assert!(p.client.conn.snd_nxt() != p.client.conn.snd_una());
    let marked = p.client.conn.subflow_closed(0);
    assert_eq!(marked, 40_000);
    p.drive();
    assert_eq!(p.server.received, data);
    assert_eq!(p.client.count("Reinjected"), 40_000);
}

#[test]
fn a_repeated_data_ack_does_not_hold_the_data_level_timer_off() {
    let mut p = Pair::connect();
    p.client.conn.set_rto(300_000);
    p.client.write(&stream(5_000, 12));
    p.client.tcp[0].as_mut().unwrap().stalled = true;
    p.client.push(0);
    assert!(p.client.emit(0).is_empty());
    let deadline = p.client.conn.poll_timeout().expect("armed");
    // The peer's pure ACKs repeat the DATA_ACK it sent last: no progress,
    // the deadline stays.
    for now in [100_000, 200_000, 299_000] {
        p.client.now = now;
        p.server.tcp[0].as_mut().unwrap().ack_due = true;
        for w in p.server.emit(0) {
            assert!(Received::parse(&w.options).dss.is_some());
            p.client.deliver(0, &w);
        }
        assert_eq!(p.client.conn.poll_timeout(), Some(deadline));
    }
}

#[test]
fn the_data_level_timer_retransmits_when_data_acks_stop() {
    let mut p = Pair::connect();
    p.client.conn.set_rto(300_000);
    let data = stream(5_000, 11);
    p.client.write(&data);
    // The path stalls with the data in TCP.
    p.client.tcp[0].as_mut().unwrap().stalled = true;
    p.client.push(0);
    assert!(p.client.emit(0).is_empty());
    let deadline = p.client.conn.poll_timeout().expect("armed");
    assert_eq!(deadline, 300_000);
    assert!(!p.client.conn.handle_timeout(deadline - 1));
    // With no other subflow, TCP's own retransmissions are all there is:
    // nothing goes again at the data level, the timer backs off.
    p.client.now = deadline;
    assert!(!p.client.conn.handle_timeout(deadline));
    assert_eq!(p.client.conn.poll_timeout(), Some(deadline + 600_000));
    // Another subflow joins: at the next timeout the octets go again there
    // (under a mapping of that subflow); when the first path comes back both
    // copies arrive and the receiver keeps one.
    p.join(0x3000, 0x4000);
    let deadline = deadline + 600_000;
    p.client.now = deadline;
    assert!(p.client.conn.handle_timeout(deadline));
    assert_eq!(p.client.conn.poll_timeout(), Some(deadline + 1_200_000));
    p.client.tcp[0].as_mut().unwrap().stalled = false;
    p.drive();
    assert_eq!(p.server.received, data);
    assert_eq!(p.client.count("DataLevelRetransmit"), 2);
    assert_eq!(p.client.count("Reinjected"), 5_000);
    assert_eq!(p.server.count("DuplicateData"), 5_000);
    // Everything DATA_ACKed: the timer is off.
    assert_eq!(p.client.conn.poll_timeout(), None);
}

/// The octets a slow subflow (a long queue, RTO 1.2 s) carries are not
/// sent again at the RTO of a fast one, which gave its RTO last: the
/// data-level timeout is that of the subflow holding the oldest octets.
#[test]
fn the_data_level_timeout_is_that_of_the_subflow_holding_the_oldest_data() {
    let mut p = Pair::connect();
    p.join(0x7000, 0x8000);
    p.client.conn.set_subflow_rto(1, 1_200_000);
    p.client.conn.set_subflow_rto(0, 300_000);
    let data = stream(3_000, 16);
    p.client.write(&data);
    // The slow path holds it, on the way.
    p.client.tcp[1].as_mut().unwrap().stalled = true;
    p.client.push(1);
    assert!(p.client.emit(1).is_empty());
    assert!(p.client.conn.snd_nxt() != p.client.conn.snd_una());
    let deadline = p.client.conn.poll_timeout().expect("armed");
    assert_eq!(deadline, 1_200_000);
    // At the fast subflow's RTO nothing is due.
    p.client.now = 300_000;
    assert!(!p.client.conn.handle_timeout(300_000));
    assert_eq!(p.client.count("DataLevelRetransmit"), 0);
    // It arrives late, once.
    p.client.tcp[1].as_mut().unwrap().stalled = false;
    p.drive();
    assert_eq!(p.server.received, data);
    assert_eq!(p.server.count("DuplicateData"), 0);
    assert_eq!(p.client.conn.poll_timeout(), None);
}

/// Two subflows (data-level RTO 300 ms); `len` octets written (`seed`)
/// and mapped onto subflow 0, whose path then stalls (a link down): TCP
/// keeps them, nothing arrives. Returns the pair, the data and the octets
/// subflow 0 holds.
fn stalled_on_first_subflow(len: usize, seed: u8) -> (Pair, Vec<u8>, u64) {
    let mut p = Pair::connect();
    p.client.conn.set_rto(300_000);
    p.join(0x5000, 0x6000);
    let data = stream(len, seed);
    p.client.write(&data);
    p.client.tcp[0].as_mut().unwrap().stalled = true;
    p.client.push(0);
    assert!(p.client.emit(0).is_empty());
    let held = p
        .client
        .conn
        .snd_nxt()
        .wrapping_sub(p.client.conn.snd_una());
    (p, data, held)
}

#[test]
fn at_a_data_level_timeout_all_a_stalled_subflow_holds_goes_elsewhere() {
    // Several mappings' worth held.
    let (mut p, data, held) = stalled_on_first_subflow(300_000, 14);
    assert!(held > 2 * 65_536, "held {held}");
    // One timeout: all of it is marked, not one mapping, and it goes on
    // subflow 1, never back to the stalled subflow 0 (whose TCP still has
    // room in its buffer).
    let deadline = p.client.conn.poll_timeout().expect("armed");
    p.client.now = deadline;
    assert!(p.client.conn.handle_timeout(deadline));
    p.drive();
    assert!(p.server.received == data);
    assert_eq!(p.client.count("DataLevelRetransmit"), 1);
    assert_eq!(p.client.count("Reinjected"), held as u32);
}

/// A subflow's retransmission timer fires (its path failed): at the next
/// sample of it, what it holds goes again on the other subflow at once,
/// long before the data-level timeout; once only for that timeout, and
/// again after it recovered and timed out anew.
#[test]
fn a_subflows_retransmission_timeout_sends_what_it_holds_elsewhere_at_once() {
    let (mut p, data, held) = stalled_on_first_subflow(200_000, 15);
    assert!(held > 0);
    let deadline = p.client.conn.poll_timeout().expect("armed");
    // Its TCP's timer fires well before the data-level one.
    p.client.tcp[0].as_mut().unwrap().timed_out = true;
    p.client.now = deadline - 200_000;
    p.client.push(0);
    p.client.collect();
    assert_eq!(p.client.count("SubflowTimeoutReinject"), 1);
    p.drive();
    assert!(p.server.received == data);
    assert_eq!(p.client.count("DataLevelRetransmit"), 0);
    assert_eq!(p.client.count("Reinjected"), held as u32);
    // Still in the Loss state at the next sample: nothing more is marked.
    p.client.push(0);
    p.client.collect();
    assert_eq!(p.client.count("SubflowTimeoutReinject"), 1);
    // Recovered, then a new timeout with new data held: marked again.
    p.client.tcp[0].as_mut().unwrap().timed_out = false;
    p.client.push(0);
    let more = stream(50_000, 16);
    p.client.write(&more);
    p.client.push(0);
    p.client.tcp[0].as_mut().unwrap().timed_out = true;
    p.client.push(0);
    p.client.collect();
    assert_eq!(p.client.count("SubflowTimeoutReinject"), 2);
    p.drive();
    assert!(p.server.received.len() == data.len() + more.len());
}

/// The glue also looks at a subflow as each of its segments leaves: its
/// retransmission at the timeout is the first such segment. That look says
/// whether data was marked (the first time only), so that the glue pushes
/// on the other subflows, which may all be idle, waiting for the DATA_ACK.
#[test]
fn a_subflows_retransmission_at_its_timeout_tells_the_others_to_send_once() {
    let (mut p, data, held) = stalled_on_first_subflow(200_000, 18);
    assert!(held > 0);
    let deadline = p.client.conn.poll_timeout().expect("armed");
    p.client.now = deadline - 250_000;
    assert!(p.client.conn.subflow_loss_state(0, true));
    // Its later retransmissions mark nothing more.
    assert!(!p.client.conn.subflow_loss_state(0, true));
    p.client.tcp[0].as_mut().unwrap().timed_out = true;
    p.client.push(1);
    p.drive();
    assert!(p.server.received == data);
    p.client.collect();
    assert_eq!(p.client.count("SubflowTimeoutReinject"), 1);
    assert_eq!(p.client.count("DataLevelRetransmit"), 0);
    assert_eq!(p.client.count("Reinjected"), held as u32);
}

/// With no other subflow to carry it, a subflow's timeout marks nothing:
/// its own TCP retransmits.
#[test]
fn a_lone_subflows_retransmission_timeout_marks_nothing() {
    let mut p = Pair::connect();
    let data = stream(50_000, 17);
    p.client.write(&data);
    p.client.tcp[0].as_mut().unwrap().stalled = true;
    p.client.push(0);
    p.client.tcp[0].as_mut().unwrap().timed_out = true;
    p.client.push(0);
    p.client.collect();
    assert_eq!(p.client.count("SubflowTimeoutReinject"), 0);
    assert_eq!(p.client.count("Reinjected"), 0);
    p.client.tcp[0].as_mut().unwrap().stalled = false;
    p.drive();
    assert!(p.server.received == data);
}

#[test]
fn a_data_ack_beyond_what_was_sent_is_ignored() {
    let mut p = Pair::connect();
    p.client.write(&stream(10_000, 12));
    p.client.push(0);
    let segs = p.client.emit(0);
    let una = p.client.conn.snd_una();
    let tcp = p.client.tcp[0].as_ref().unwrap();
    let w = Wire {
        window: 1 << 24,
        seq: tcp.rcv_nxt,
        ack: tcp.snd_una,
        flags: flags::ACK,
        payload: Vec::new(),
        options: write_option(MptcpOption::Dss(Dss {
            data_ack: Some(DssSeq::Bits64(una.wrapping_add(1_000_000))),
            mapping: None,
            data_fin: false,
        })),
    };
    p.client.deliver(0, &w);
    assert_eq!(p.client.conn.snd_una(), una);
    assert_eq!(p.client.count("DataAckBeyond"), 1);
    for s in &segs {
        p.server.deliver(0, s);
    }
    p.drive();
    assert_eq!(p.server.received, stream(10_000, 12));
}

// --- the handshake's conformance (RFC 8684, section 3.1) -----------------

fn capable_with(version: u8, flags: CapableFlags, form: CapableForm) -> Received {
    Received::parse(&write_option(MptcpOption::MpCapable(MpCapable {
        version,
        flags,
        form,
    })))
}

#[test]
fn a_listener_ignores_an_mp_capable_it_must_not_use() {
    let h = CapableFlags::H;
    assert!(listener_accepts_syn(&capable_with(1, h, CapableForm::Syn)));
    // "B" set: an extension we do not know: ignore MP_CAPABLE.
    assert!(!listener_accepts_syn(&capable_with(
        1,
        CapableFlags(0x41),
        CapableForm::Syn
    )));
    // No crypto algorithm bit: invalid.
    assert!(!listener_accepts_syn(&capable_with(
        1,
        CapableFlags(0),
        CapableForm::Syn
    )));
    // Version 0 (RFC 6824) is not ours; a higher version is answered with
    // ours, version 1 (RFC 8684, 3.1).
    assert!(!listener_accepts_syn(&capable_with(0, h, CapableForm::Syn)));
    assert!(listener_accepts_syn(&capable_with(2, h, CapableForm::Syn)));
    // Checksums required: we do not do them, so TCP.
    assert!(!listener_accepts_syn(&capable_with(
        1,
        CapableFlags(0x81),
        CapableForm::Syn
    )));
    // The third ACK likewise, and it must echo our key.
    let ours = key(0x2222).key;
    let ack = |v, f| {
        capable_with(
            v,
            f,
            CapableForm::Ack {
                sender_key: 9,
                receiver_key: ours,
            },
        )
    };
    assert_eq!(listener_third_ack(&ack(1, h), ours), Some((9, None)));
    assert_eq!(listener_third_ack(&ack(0, h), ours), None);
    assert_eq!(listener_third_ack(&ack(2, h), ours), None);
    assert_eq!(listener_third_ack(&ack(1, CapableFlags(0x41)), ours), None);
    assert_eq!(listener_third_ack(&ack(1, CapableFlags(0)), ours), None);
    assert_eq!(listener_third_ack(&ack(1, h), ours ^ 1), None);
    assert_eq!(listener_third_ack(&Received::default(), ours), None);
}

#[test]
fn a_client_falls_back_on_a_syn_ack_it_must_ignore() {
    for (version, flags) in [(1, 0x41), (1, 0x00), (0, 0x01), (1, 0x81)] {
        let mut c = Conn::client(key(1));
        client_syn(&mut c, 100);
        let rx = capable_with(
            version,
            CapableFlags(flags),
            CapableForm::SynAck { sender_key: 5 },
        );
        let seg = SegmentIn {
            seq: 500,
            ack: 101,
            flags: flags::SYN | flags::ACK,
            payload_len: 0,
            options: &rx,
        };
        c.handle_segment(0, &seg, &TcpWindow::default(), 0, 0);
        assert_eq!(
            c.mode(),
            Mode::Fallback,
            "version {version} flags {flags:#x}"
        );
        assert_eq!(
            c.poll_event(),
            Some(Event::FellBack(FallbackReason::SynAck))
        );
    }
    // A SYN/ACK that does not acknowledge our SYN decides nothing.
    let mut c = Conn::client(key(1));
    client_syn(&mut c, 100);
    let rx = capable_with(1, CapableFlags::H, CapableForm::SynAck { sender_key: 5 });
    let seg = SegmentIn {
        seq: 500,
        ack: 7,
        flags: flags::SYN | flags::ACK,
        payload_len: 0,
        options: &rx,
    };
    c.handle_segment(0, &seg, &TcpWindow::default(), 0, 0);
    assert_eq!(c.mode(), Mode::Handshake);
}

#[test]
fn after_a_fallback_the_data_written_goes_to_tcp_first() {
    // The client wrote and mapped data, TCP took part of it; then the
    // peer's data without DSS: fallback. The rest goes to TCP as plain
    // data, in order, before anything written later.
    let mut p = Pair::connect();
    p.client.write(&stream(10_000, 13));
    let tcp = p.client.tcp[0].as_ref().unwrap();
    let room = TxRoom {
        room: 4_000,
        mss: 1000,
        write_seq: tcp.write_seq,
        packets_out: 0,
        nodelay: false,
        size_goal: 0,
        more: false,
        snd_nxt: None,
    };
    let t = p.client.conn.poll_transmit(0, &room).unwrap();
    p.client.conn.handed(t.dsn, 2_500);
    let (rcv, snd) = (tcp.rcv_nxt, tcp.snd_nxt);
    let rx = Received::default();
    let seg = SegmentIn {
        seq: rcv,
        ack: snd,
        flags: flags::ACK,
        payload_len: 5,
        options: &rx,
    };
    let window = tcp.window();
    p.client.conn.handle_segment(0, &seg, &window, 1 << 16, 0);
    assert_eq!(p.client.conn.mode(), Mode::Fallback);
    assert!(!p.client.conn.passthrough());
    assert_eq!(p.client.conn.unacked(), 7_500);
    let first = key(0x1111).idsn.wrapping_add(1);
    let room = TxRoom {
        room: 5_000,
        ..room
    };
    let t = p.client.conn.poll_transmit(0, &room).unwrap();
    assert_eq!((t.dsn, t.len), (first.wrapping_add(2_500), 5_000));
    p.client.conn.handed(t.dsn, 5_000);
    let t = p.client.conn.poll_transmit(0, &room).unwrap();
    assert_eq!((t.dsn, t.len), (first.wrapping_add(7_500), 2_500));
    assert!(!p.client.conn.passthrough());
    assert!(!core::iter::from_fn(|| p.client.conn.poll_event()).any(|e| e == Event::PassedThrough));
    p.client.conn.handed(t.dsn, 2_500);
    assert!(p.client.conn.passthrough());
    // Once, when the last octet went: the glue wakes every waiter then.
    assert_eq!(
        core::iter::from_fn(|| p.client.conn.poll_event()).collect::<Vec<_>>(),
        [Event::PassedThrough]
    );
    p.client.conn.handed(t.dsn.wrapping_add(2_500), 0);
    assert_eq!(p.client.conn.poll_event(), None);
    assert_eq!(p.client.conn.unacked(), 0);
    assert_eq!(p.client.conn.poll_transmit(0, &room), None);
}

#[test]
fn a_client_falls_back_when_data_comes_without_dss() {
    // A middlebox took MP_CAPABLE off the third ACK: the server is plain
    // TCP and answers our data without DSS.
    let mut p = Pair::connect();
    let tcp = p.client.tcp[0].as_ref().unwrap();
    let w = Wire {
        window: 1 << 24,
        seq: tcp.rcv_nxt,
        ack: tcp.snd_nxt,
        flags: flags::ACK,
        payload: b"plain".to_vec(),
        options: Vec::new(),
    };
    let rx = Received::parse(&w.options);
    let seg = SegmentIn {
        seq: w.seq,
        ack: w.ack,
        flags: w.flags,
        payload_len: 5,
        options: &rx,
    };
    let window = tcp.window();
    p.client.conn.handle_segment(0, &seg, &window, 1 << 16, 0);
    assert_eq!(p.client.conn.mode(), Mode::Fallback);
    assert_eq!(
        p.client.conn.poll_event(),
        Some(Event::FellBack(FallbackReason::NoDss))
    );
}

#[path = "join_tests.rs"]
mod join_tests;

#[path = "scheduling_tests.rs"]
mod scheduling_tests;

#[path = "signal_tests.rs"]
mod signal_tests;

/// With two subflows, the receiver tells the data the reader waits for (at
/// the DATA_ACK) from data beyond a gap: the glue takes only the former into
/// a full receive buffer.
#[test]
fn data_beyond_a_gap_is_not_in_order_and_the_gap_filler_is() {
    let mut p = Pair::connect();
    let id = p.join(7000, 9000);
    // Each subflow takes one write, so that both carry a mapping (the new
    // one first: subflow 0 looks slow to the scheduler).
    let slow = PathSample {
        srtt_us: 1_000_000,
        cwnd: 10,
        ssthresh: 0,
        ..PathSample::default()
    };
    p.client.conn.subflow_sample(0, slow, 0);
    let data = stream(4 * MSS as usize, 3);
    let mut wires = Vec::new();
    for (sf, part) in [
        (id, &data[..2 * MSS as usize]),
        (0, &data[2 * MSS as usize..]),
    ] {
        p.client.write(part);
        p.client.push(sf);
        wires.extend(p.client.emit(sf).into_iter().map(|w| (sf, w)));
    }
    let mapped: Vec<(usize, u64, Wire)> = wires
        .into_iter()
        .filter_map(|(sf, w)| {
            let m = Received::parse(&w.options).dss?.mapping?;
            (!w.payload.is_empty()).then_some((sf, m.dsn.value(), w))
        })
        .collect();
    let on = |sf: usize| mapped.iter().filter(|m| m.0 == sf).min_by_key(|m| m.1);
    let (Some(a), Some(b)) = (on(0), on(id)) else {
        panic!(
            "both subflows carry data: {:?}",
            mapped.iter().map(|m| m.0).collect::<Vec<_>>()
        );
    };
    let (first, later) = if a.1 < b.1 { (a, b) } else { (b, a) };
    // Only the later mapping's options reach the server: its data is
    // beyond the gap.
    let server = &mut p.server;
    let deliver_options = |end: &mut End, sf: usize, w: &Wire| {
        let rx = Received::parse(&w.options);
        let seg = w.segment_in(&rx);
        let window = end.tcp[sf].as_ref().unwrap().window();
        end.conn
            .handle_segment(sf as u32, &seg, &window, 1 << 24, end.now);
    };
    deliver_options(server, later.0, &later.2);
    assert!(!server.conn.rx_in_order(later.0 as u32));
    deliver_options(server, first.0, &first.2);
    assert!(server.conn.rx_in_order(first.0 as u32));
    assert!(!server.conn.rx_in_order(later.0 as u32));
}

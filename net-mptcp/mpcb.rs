// SPDX-License-Identifier: GPL-2.0

//! The multipath control block (mpcb) of one MPTCP connection.
//!
//! It holds what the connection has beyond its subflows: the keys, the
//! connection-level send buffer (data the application wrote, kept until a
//! DATA_ACK covers it, so that it can be sent again on another subflow) and
//! the connection-level receive queue (data in DSN order, reordered here).
//!
//! State is split by who touches it:
//! - [`Conn`], under a BH spinlock: what packet processing reads and writes
//!   in softirq (DATA_ACK, the DSN to acknowledge, handshake progress);
//! - [`Data`], under a mutex: the buffers, the subflow socket, touched only
//!   in process context (system calls and the mpcb's work item).
//!
//! Data flows (as in the UCLouvain design):
//! - send: `sendmsg` copies into the send buffer; subflows pull from it
//!   (`push`) when the application writes and whenever an ACK frees room;
//! - receive: in-order subflow data is moved to the connection-level queue
//!   (`drain`) by the reader itself when it waits (prequeue-style) and by
//!   the work item otherwise, so that DATA_ACKs keep flowing.

use crate::kernel_net::{
    callbacks::Callbacks,
    kernel_socket::KernelSocket,
    seqmap::RbSeqMap,
    skb::SkbRef,
    sock::{Sock, SockGuard},
    sync::{new_spinlock_bh, SpinLockBh},
    tcp,
    user::MsgHdr,
};
use crate::mptcp_core::{
    crypto::LocalKey,
    reassembly::{Insert, Payload, Reassembly},
    store::SeqMap,
};
use crate::subflow::Subflow;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::{
    alloc::Flags,
    alloc::KVec,
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
    types::ARef,
    workqueue::{new_work, Work, WorkItem},
};

/// Connections alive (an mpcb with its subflow): the module waits for them
/// to end before it unloads.
pub(crate) static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The largest piece of data pushed to a subflow at once: one DSS mapping
/// (the data-level length is 16 bits).
const MAX_MAPPING: usize = 32 * 1024;

/// How the connection runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The MP_CAPABLE handshake is in progress.
    Connecting,
    /// MPTCP is established: data carries DSS mappings.
    Mptcp,
    /// Fallen back to TCP: the subflow is the connection.
    Fallback,
}

/// The peer's key and what derives from it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Remote {
    pub(crate) key: u64,
    pub(crate) idsn: u64,
}

/// Our DATA_FIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DataFin {
    /// Not asked for.
    None,
    /// The application shut down writing; sent once all data was pushed.
    Wanted,
    /// Sent, at this DSN; on every segment until a DATA_ACK covers it.
    Sent(u64),
    /// Acknowledged.
    Acked,
}

/// What softirq packet processing shares with process context.
pub(crate) struct Conn {
    pub(crate) mode: Mode,
    pub(crate) local: LocalKey,
    pub(crate) remote: Option<Remote>,
    /// A DSS came from the peer: it has our keys (RFC 8684, 3.1).
    pub(crate) fully_established: bool,
    /// DATA_ACKed up to here (DSN, 64 bits).
    pub(crate) snd_una: u64,
    /// Handed to subflows up to here.
    pub(crate) snd_nxt: u64,
    /// Written by the application up to here.
    pub(crate) write_seq: u64,
    /// In order at the connection level up to here: our DATA_ACK.
    pub(crate) rcv_nxt: u64,
    /// The DATA_ACK the last segment of ours carried.
    pub(crate) data_ack_sent: u64,
    /// Readers sleeping in `recvmsg`: they reorder new data themselves.
    pub(crate) readers_waiting: u32,
    pub(crate) data_fin: DataFin,
    /// The DSN of the peer's DATA_FIN, once a mapping announced it.
    pub(crate) peer_data_fin: Option<u64>,
    /// The peer's DATA_FIN was delivered (end of stream).
    pub(crate) eof: bool,
    /// The application's socket, while it exists.
    pub(crate) master: Option<ARef<Sock>>,
}

/// A piece of the send buffer.
pub(crate) struct Chunk {
    pub(crate) data: KVec<u8>,
}

impl Payload for SkbRef {
    fn len(&self) -> usize {
        SkbRef::len(self) as usize
    }
    fn trim_front(&mut self, n: usize) {
        SkbRef::trim_front(self, n as u32)
    }
    fn trim_back(&mut self, n: usize) {
        SkbRef::trim_back(self, n as u32)
    }
}

/// What only process context touches.
pub(crate) struct Data {
    /// The initial subflow's socket (the master owns its `struct socket`).
    pub(crate) subflow: Option<ARef<Sock>>,
    /// The initial subflow, once the application closed its socket while
    /// the connection still had data or a DATA_FIN to deliver.
    pub(crate) orphan_sock: Option<Arc<KernelSocket>>,
    /// Our callbacks on that subflow, kept with it.
    pub(crate) orphan_callbacks: Option<Callbacks<Subflow>>,
    /// The send buffer: chunks keyed by the DSN of their first byte.
    pub(crate) sndbuf: RbSeqMap<Chunk>,
    /// The connection-level out-of-order queue: data that arrived ahead of
    /// a gap. Its `rcv_nxt` is our DATA_ACK.
    pub(crate) ooo: Option<Reassembly<SkbRef, RbSeqMap<SkbRef>>>,
    /// The connection-level receive queue: in-order data the application
    /// has not read yet, keyed by DSN.
    pub(crate) rcv_queue: RbSeqMap<SkbRef>,
    /// The bytes in `rcv_queue`.
    pub(crate) rcv_queued: u64,
    /// The application closed its socket: finish in the background.
    pub(crate) orphan: bool,
}

/// The multipath control block.
#[pin_data(PinnedDrop)]
pub(crate) struct Mpcb {
    #[pin]
    pub(crate) conn: SpinLockBh<Conn>,
    #[pin]
    pub(crate) data: Mutex<Data>,
    #[pin]
    work: Work<Mpcb>,
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

impl Mpcb {
    /// A new connection with our key `local`.
    pub(crate) fn new(local: LocalKey, flags: Flags) -> Result<Arc<Self>> {
        let first_dsn = local.idsn.wrapping_add(1);
        let mpcb = Arc::pin_init(
            pin_init!(Self {
                conn <- new_spinlock_bh!(
                    Conn {
                        mode: Mode::Connecting,
                        local,
                        remote: None,
                        fully_established: false,
                        snd_una: first_dsn,
                        snd_nxt: first_dsn,
                        write_seq: first_dsn,
                        rcv_nxt: 0,
                        data_ack_sent: 0,
                        readers_waiting: 0,
                        data_fin: DataFin::None,
                        peer_data_fin: None,
                        eof: false,
                        master: None,
                    },
                    "Mpcb::conn"
                ),
                data <- new_mutex!(
                    Data {
                        subflow: None,
                        orphan_sock: None,
                        orphan_callbacks: None,
                        sndbuf: RbSeqMap::with_flags(GFP_KERNEL),
                        ooo: None,
                        rcv_queue: RbSeqMap::with_flags(GFP_KERNEL),
                        rcv_queued: 0,
                        orphan: false,
                    },
                    "Mpcb::data"
                ),
                work <- new_work!("Mpcb::work"),
            }),
            flags,
        )?;
        LIVE.fetch_add(1, Ordering::Relaxed);
        Ok(mpcb)
    }

    /// The mode, as of now.
    pub(crate) fn mode(&self) -> Mode {
        self.conn.lock().mode
    }

    /// Runs `deferred` soon, on the module's workqueue.
    pub(crate) fn schedule(self: &Arc<Self>) {
        // Already queued is fine: one run serves all.
        if let Some(queue) = crate::kernel_net::wq::QUEUE.get() {
            let _ = queue.queue().enqueue(self.clone());
        }
    }

    /// MPTCP is established with the peer's key `remote_key`: the receive
    /// queue starts after the peer's IDSN.
    pub(crate) fn establish(&self, conn: &mut Conn, remote_key: u64) {
        let remote = Remote {
            key: remote_key,
            idsn: crate::keys::idsn(remote_key),
        };
        conn.remote = Some(remote);
        conn.rcv_nxt = remote.idsn.wrapping_add(1);
        conn.mode = Mode::Mptcp;
    }

    /// The out-of-order queue, created once the peer's IDSN is known.
    fn ooo<'a>(
        &self,
        ooo: &'a mut Option<Reassembly<SkbRef, RbSeqMap<SkbRef>>>,
    ) -> Option<&'a mut Reassembly<SkbRef, RbSeqMap<SkbRef>>> {
        if ooo.is_none() {
            let remote = self.conn.lock().remote?;
            *ooo = Some(Reassembly::new(
                RbSeqMap::with_flags(GFP_KERNEL),
                remote.idsn,
                0,
            ));
        }
        ooo.as_mut()
    }

    // --- sending ------------------------------------------------------

    /// Bytes the application may still write (the send buffer holds what is
    /// not yet DATA_ACKed, up to `sndbuf` bytes).
    pub(crate) fn send_room(&self, sndbuf: u64) -> usize {
        let conn = self.conn.lock();
        let used = conn.write_seq.wrapping_sub(conn.snd_una);
        sndbuf.saturating_sub(used) as usize
    }

    /// Copies up to `len` bytes of the application's message into the send
    /// buffer; returns how many.
    pub(crate) fn buffer(&self, data: &mut Data, msg: &mut MsgHdr, len: usize) -> Result<usize> {
        let mut copied = 0usize;
        while copied < len {
            let n = (len - copied).min(MAX_MAPPING);
            let mut chunk = KVec::with_capacity(n, GFP_KERNEL)?;
            let got = msg.copy_into(&mut chunk, n)?;
            if got == 0 {
                break;
            }
            let dsn = {
                let mut conn = self.conn.lock();
                let dsn = conn.write_seq;
                conn.write_seq = dsn.wrapping_add(got as u64);
                dsn
            };
            if data.sndbuf.insert(dsn, Chunk { data: chunk }).is_err() {
                // Give the bytes back: nothing was queued for them.
                let mut conn = self.conn.lock();
                conn.write_seq = dsn;
                return if copied > 0 { Ok(copied) } else { Err(ENOMEM) };
            }
            copied += got;
        }
        Ok(copied)
    }

    /// Frees the send buffer below the DATA_ACK.
    fn free_acked(&self, data: &mut Data) {
        let snd_una = self.conn.lock().snd_una;
        while let Some((dsn, chunk)) = data.sndbuf.first() {
            if dsn.wrapping_add(chunk.data.len() as u64) > snd_una {
                break;
            }
            data.sndbuf.remove(dsn);
        }
    }

    /// Hands buffered data to the subflow as room allows (the subflow pulls
    /// from the connection-level buffer), one mapping at a time; a mapping
    /// may span several chunks of the buffer.
    ///
    /// TCP never lets data join an skb past the end of a mapping, so a
    /// mapping that ends off a segment boundary leaves a short segment, and
    /// Nagle's algorithm holds a short segment (and all behind it) until
    /// every byte in flight is acknowledged: a delayed ACK per mapping. So
    /// mappings are cut at multiples of the MSS, and a short tail at the end
    /// of the buffered data waits here, as Nagle would have it wait in TCP,
    /// while the subflow has data in flight (TCP calls `write_space` when
    /// an ACK arrives, which brings us back) unless the application turned
    /// Nagle off or is closing.
    pub(crate) fn push(&self, data: &mut Data, sub: &Subflow) {
        self.free_acked(data);
        let Some(sk) = data.subflow.clone() else {
            return;
        };
        let guard = sk.lock();
        loop {
            let (mode, snd_nxt, write_seq, closing) = {
                let conn = self.conn.lock();
                (
                    conn.mode,
                    conn.snd_nxt,
                    conn.write_seq,
                    conn.data_fin != DataFin::None,
                )
            };
            if mode == Mode::Connecting || snd_nxt == write_seq {
                break;
            }
            let room = sk.send_space().max(0) as usize;
            if room == 0 {
                // TCP calls the subflow's write_space, which brings us back.
                sk.set_nospace(true);
                break;
            }
            let tcp = sk.tcp_snapshot();
            let mss = tcp.mss_cache.max(1) as usize;
            let avail = write_seq.wrapping_sub(snd_nxt) as usize;
            let mut n = avail.min(room).min(MAX_MAPPING);
            if n >= mss {
                n -= n % mss;
            } else if n == avail && tcp.packets_out > 0 && !tcp.nodelay && !closing {
                // A short tail: Nagle's algorithm, at the connection level.
                sk.set_nospace(true);
                break;
            }
            if mode == Mode::Mptcp {
                // The mapping first: TCP may send segments while it takes the
                // bytes, and each must carry the mapping it belongs to.
                n = sub.plan_send(tcp.write_seq, snd_nxt, n as u32) as usize;
                if n == 0 {
                    break;
                }
            }
            // The bytes [snd_nxt, snd_nxt + n), chunk by chunk; the record
            // closes where the mapping (or what TCP took of it) ends.
            let mut done = 0usize;
            while done < n {
                let at = snd_nxt.wrapping_add(done as u64);
                let Some((dsn, chunk)) = data.sndbuf.floor(at) else {
                    break;
                };
                let start = at.wrapping_sub(dsn) as usize;
                let piece = chunk.data.get(start..).map_or(0, |b| b.len().min(n - done));
                if piece == 0 {
                    break;
                }
                let last = done + piece == n;
                let sent =
                    tcp::send_locked(&guard, &chunk.data[start..start + piece], last).unwrap_or(0);
                done += sent;
                if sent < piece {
                    // TCP is full; the rest of the mapping goes later (and
                    // may join TCP's last skb: it is the same mapping).
                    break;
                }
            }
            // What TCP took is sent, whatever stopped the loop.
            self.conn.lock().snd_nxt = snd_nxt.wrapping_add(done as u64);
            if done < n {
                break;
            }
        }
        self.send_data_fin_if_due(&guard);
    }

    /// Sends our DATA_FIN once everything before it went to the subflow: the
    /// subflow's next segments carry it (see `options::outgoing`), and its own
    /// FIN follows so that TCP retransmits until the peer has both.
    fn send_data_fin_if_due(&self, guard: &SockGuard<'_>) {
        let due = {
            let mut conn = self.conn.lock();
            if conn.data_fin == DataFin::Wanted && conn.snd_nxt == conn.write_seq {
                let dsn = conn.write_seq;
                if conn.mode == Mode::Mptcp {
                    conn.data_fin = DataFin::Sent(dsn);
                }
                true
            } else {
                false
            }
        };
        if due {
            guard.sock().send_ack(guard);
            // SHUT_WR: TCP sends its FIN after the queued data.
            let _ = tcp::shutdown_send_locked(guard);
        }
    }

    /// The application shut down writing (or closed).
    pub(crate) fn shutdown_send(&self) {
        let mut conn = self.conn.lock();
        if conn.data_fin == DataFin::None {
            conn.data_fin = DataFin::Wanted;
        }
    }

    /// A DATA_ACK arrived (softirq): the peer has everything below `ack`.
    /// Returns whether it freed room.
    pub(crate) fn data_acked(conn: &mut Conn, ack: u64) -> bool {
        let (una, nxt) = (conn.snd_una, conn.snd_nxt);
        let fin_end = match conn.data_fin {
            DataFin::Sent(dsn) => Some(dsn.wrapping_add(1)),
            _ => None,
        };
        let limit = fin_end.unwrap_or(nxt);
        // Neither stale nor beyond what was sent (RFC 8684, 3.3.2).
        if ack.wrapping_sub(una) as i64 <= 0 || ack.wrapping_sub(limit) as i64 > 0 {
            return false;
        }
        if fin_end == Some(ack) {
            conn.data_fin = DataFin::Acked;
            conn.snd_una = ack.wrapping_sub(1);
        } else {
            conn.snd_una = ack;
        }
        true
    }

    // --- receiving ----------------------------------------------------

    /// Moves the subflow's in-order data to the connection-level queues,
    /// within `rcvbuf` bytes for both: each byte goes to its DSN (by the
    /// subflow's mappings), into the out-of-order queue, from which what is
    /// in order moves on to the receive queue. Returns whether anything
    /// moved or the end of stream came.
    pub(crate) fn drain(&self, data: &mut Data, sub: &Subflow, rcvbuf: u64) -> bool {
        if self.mode() != Mode::Mptcp {
            return false;
        }
        let Some(sk) = data.subflow.clone() else {
            return false;
        };
        let budget = rcvbuf.saturating_sub(data.rcv_queued);
        let peer_data_fin = self.conn.lock().peer_data_fin;
        let Some(ooo) = self.ooo(&mut data.ooo) else {
            return false;
        };
        ooo.set_budget(budget);
        if let Some(fin) = peer_data_fin {
            let _ = ooo.note_data_fin(fin);
        }
        let guard = sk.lock();
        let mut moved = 0usize;
        let mut unmapped = false;
        let mut lost = false;
        let rcv_queue = &mut data.rcv_queue;
        let rcv_queued = &mut data.rcv_queued;
        tcp::read_sock(&guard, ooo.space() as usize, &mut |skb, offset, len| {
            let mut used = 0usize;
            while used < len {
                let seq = skb.seq().wrapping_add(offset).wrapping_add(used as u32);
                let Some(m) = sub.map_received(seq) else {
                    unmapped = true;
                    break;
                };
                let n = (len - used).min(usize::try_from(m.len).unwrap_or(usize::MAX));
                let Ok(span) = skb.clone_span(offset + used as u32, n as u32) else {
                    break;
                };
                match ooo.insert(m.dsn, span) {
                    Insert::Queued { .. } | Insert::Duplicate => used += n,
                    _ => break,
                }
            }
            // What is now in order moves to the receive queue at once, so
            // that the ACK TCP sends when this read ends carries the new
            // DATA_ACK.
            while let Some(span) = ooo.pop() {
                let len = span.len() as u64;
                let dsn = ooo.rcv_nxt().wrapping_sub(len);
                if let Err(span) = rcv_queue.insert(dsn, span) {
                    // No memory for the node: the DATA_ACK moved past data
                    // that is lost to the queue: a broken stream.
                    drop(span);
                    lost = true;
                    break;
                }
                *rcv_queued += len;
            }
            self.conn.lock().rcv_nxt = ooo.rcv_nxt();
            moved += used;
            used
        });
        if unmapped {
            // Data without a mapping after MPTCP was established: the peer
            // (or a middlebox) broke the stream (RFC 8684, 3.7).
            crate::mib::inc(sk.net(), crate::mib::Mib::DSSNoMapping);
            sub.protocol_error();
        }
        if lost {
            sub.protocol_error();
        }
        sub.prune_received(sk.tcp_snapshot().copied_seq);
        let mut fin_now = false;
        if ooo.data_fin_reached() && !ooo.data_fin_consumed() {
            ooo.consume_data_fin();
            fin_now = true;
        }
        let ack_due = {
            let mut conn = self.conn.lock();
            conn.rcv_nxt = ooo.rcv_nxt();
            if fin_now {
                conn.eof = true;
                crate::mib::inc(sk.net(), crate::mib::Mib::DataFinRx);
            }
            conn.data_ack_sent != conn.rcv_nxt
        };
        if ack_due {
            // The DATA_ACK advanced and no segment of TCP's carried it yet
            // (its ACK for these bytes may be gone, with the old one).
            sk.send_ack(&guard);
        }
        drop(guard);
        sub.reset_if_broken(&sk);
        moved > 0 || fin_now
    }

    /// Copies in-order data to the application; returns the bytes copied.
    /// With `peek`, the data stays queued.
    pub(crate) fn deliver(
        &self,
        data: &mut Data,
        msg: &mut MsgHdr,
        len: usize,
        peek: bool,
    ) -> Result<usize> {
        let mut copied = 0usize;
        let mut at = None;
        while copied < len {
            let next = match at {
                None => data.rcv_queue.first(),
                Some(key) => data.rcv_queue.next_after(key),
            };
            let Some((dsn, span)) = next else { break };
            let n = (len - copied).min(span.len() as usize);
            if peek {
                span.peek_to(msg, n as u32)?;
                at = Some(dsn);
            } else {
                span.copy_to(msg, n as u32)?;
                data.rcv_queued -= n as u64;
                if span.len() == 0 {
                    data.rcv_queue.remove(dsn);
                } else {
                    // Keyed by its first byte: move the rest.
                    let rest = data.rcv_queue.remove(dsn);
                    if let Some(rest) = rest {
                        let _ = data.rcv_queue.insert(dsn.wrapping_add(n as u64), rest);
                    }
                }
            }
            copied += n;
        }
        Ok(copied)
    }

    /// Whether the peer's DATA_FIN was delivered: reads past the queued data
    /// see the end of the stream.
    pub(crate) fn eof(&self) -> bool {
        self.conn.lock().eof
    }

    // --- background work ----------------------------------------------

    /// The work item: pushes pending data and drains the subflow when the
    /// application is not doing it, and finishes an orphaned connection.
    fn deferred(self: Arc<Self>) {
        let Some(sub) = self.subflow_ctx() else {
            return;
        };
        let master = self.conn.lock().master.clone();
        // The application's lock first, as in system calls.
        let _master_guard = master.as_ref().map(|m| m.lock());
        let mut data = self.data.lock();
        let rcvbuf = match (&master, &data.subflow) {
            (Some(m), Some(s)) => crate::socket::buf_sizes(m, s).0,
            (None, Some(s)) => s.buf_sizes().0.max(0) as u64,
            _ => 0,
        };
        self.push(&mut data, &sub);
        self.drain(&mut data, &sub, rcvbuf);
        if let Some(m) = master.as_ref() {
            m.data_ready();
            m.write_space();
        }
        if data.orphan_sock.is_some() {
            self.finish_orphan(&mut data);
        }
    }

    /// The subflow context, through the subflow socket.
    fn subflow_ctx(&self) -> Option<Arc<Subflow>> {
        let sk = self.data.lock().subflow.clone()?;
        crate::kernel_net::callbacks::events::<Subflow>(&sk)
    }

    /// The application closed its socket: once every byte and the DATA_FIN
    /// are queued on the subflow, TCP finishes the job as for any closed
    /// socket (it retransmits, times out and closes); our hooks stay on the
    /// subflow until TCP destroys it, so every segment still carries its
    /// mapping. A subflow that is already dead is simply released.
    fn finish_orphan(&self, data: &mut Data) {
        let Some(sk) = data.subflow.clone() else {
            return;
        };
        let dead = sk.state() == crate::kernel_net::sock::state::CLOSE || sk.error() != 0;
        let handed_over = {
            let conn = self.conn.lock();
            conn.mode != Mode::Mptcp
                || conn.snd_nxt == conn.write_seq
                    && matches!(conn.data_fin, DataFin::Sent(_) | DataFin::Acked)
        };
        if dead || self.mode() != Mode::Mptcp {
            self.release_subflow(data);
        } else if handed_over {
            if let Some(callbacks) = data.orphan_callbacks.take() {
                callbacks.into_detached();
            }
            // Released with our hooks on: TCP closes it gracefully.
            data.orphan_sock = None;
            data.subflow = None;
            data.orphan = false;
        }
    }

    /// Gives the orphaned subflow back to TCP (see [`Mpcb::release_with`]).
    pub(crate) fn release_subflow(&self, data: &mut Data) {
        if let Some(first) = data.orphan_sock.take() {
            self.release_with(data, &first);
        }
    }

    /// Gives the subflow `first` back to TCP: our hooks and callbacks come
    /// off, then TCP closes it as an orphan (FIN or RST as it decides).
    pub(crate) fn release_with(&self, data: &mut Data, first: &KernelSocket) {
        data.orphan_callbacks = None;
        crate::options::unhook(first.sk());
        data.subflow = None;
        data.orphan = false;
        while data.sndbuf.pop_first().is_some() {}
        while data.rcv_queue.pop_first().is_some() {}
        data.rcv_queued = 0;
        data.ooo = None;
    }
}

#[pinned_drop]
impl PinnedDrop for Mpcb {
    fn drop(self: Pin<&mut Self>) {
        crate::keys::release_token(self.conn.lock().local.token);
        LIVE.fetch_sub(1, Ordering::Release);
    }
}

// SPDX-License-Identifier: GPL-2.0

//! TCP sockets of our subflows: a type that can only hold a TCP socket
//! ([`TcpSock`]), a proof that its lock is held ([`TcpLocked`]), and what
//! MPTCP does with one: read its sequence state, hand it data from the
//! connection's pages without copying, take its in-order skbs.

use super::{
    bindings,
    page::PageFrag,
    skb::RxSkb,
    sock::{state, Sock, SockGuard, RCV_SHUTDOWN},
};
use core::{marker::PhantomData, ops::Deref, ptr::NonNull};
use kernel::{
    ffi::c_int,
    types::{ARef, AlwaysRefCounted},
};

const MSG_DONTWAIT: c_int = 0x40;
const MSG_MORE: c_int = 0x8000;
const MSG_SPLICE_PAGES: c_int = 0x0800_0000;
const ITER_SOURCE: u32 = 1;
const IPPROTO_TCP: u16 = 6;
const SOCK_STREAM: u16 = 1;

/// A full TCP socket (`struct tcp_sock`): a subflow, or a listener of
/// subflows.
///
/// # Invariants
///
/// The `struct sock` is a full socket (not a request or time-wait one) of
/// type `SOCK_STREAM` and protocol `IPPROTO_TCP`, so a `struct tcp_sock`.
#[repr(transparent)]
pub(crate) struct TcpSock(Sock);

// SAFETY: the reference count is the socket's own (see `Sock`).
unsafe impl AlwaysRefCounted for TcpSock {
    fn inc_ref(&self) {
        self.0.inc_ref();
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller gives up a reference it owned; `TcpSock` is a
        // transparent `Sock`.
        unsafe { Sock::dec_ref(obj.cast()) }
    }
}

impl Deref for TcpSock {
    type Target = Sock;

    fn deref(&self) -> &Sock {
        &self.0
    }
}

/// What MPTCP reads of a subflow's TCP state (`struct tcp_sock`), locklessly:
/// each field is a word TCP itself reads with `READ_ONCE`, so a snapshot may
/// be slightly stale, never torn.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TcpSnapshot {
    pub(crate) snd_una: u32,
    pub(crate) snd_nxt: u32,
    pub(crate) write_seq: u32,
    pub(crate) rcv_nxt: u32,
    pub(crate) copied_seq: u32,
    pub(crate) rcv_wup: u32,
    pub(crate) rcv_wnd: u32,
    pub(crate) max_window: u32,
    /// The peer's window scale (`rx_opt.snd_wscale`).
    pub(crate) snd_wscale: u8,
    /// Smoothed RTT in microseconds (`srtt_us >> 3`).
    pub(crate) srtt_us: u32,
    /// The receiver's RTT estimate in microseconds (`rcv_rtt_est.rtt_us
    /// >> 3`; 0 before a measure), which TCP's autotuning uses.
    pub(crate) rcv_rtt_us: u32,
    /// The retransmission timeout, in jiffies.
    pub(crate) rto: u32,
    pub(crate) snd_cwnd: u32,
    pub(crate) snd_ssthresh: u32,
    pub(crate) packets_out: u32,
    pub(crate) mss_cache: u32,
    /// Segments per skb that `tcp_sendmsg_locked` last aimed at (its
    /// size goal over the MSS; 0 before its first call).
    pub(crate) gso_segs: u16,
    /// The largest window TCP offers (`window_clamp`).
    pub(crate) window_clamp: u32,
    /// The share of a buffer's bytes the window offers, over 256
    /// (`scaling_ratio`: payload over truesize).
    pub(crate) scaling_ratio: u8,
    /// Nagle's algorithm is off (`TCP_NODELAY`, `TCP_CORK` clear).
    pub(crate) nodelay: bool,
    /// Congestion control is in the Open state (`icsk_ca_state`): no
    /// duplicate ACK, SACK, loss recovery or timeout outstanding.
    pub(crate) ca_open: bool,
}

/// `TCP_CA_Open` and `TCP_CA_Loss` of `enum tcp_ca_state`
/// (include/uapi/linux/tcp.h), which bindgen does not see.
const TCP_CA_OPEN: u8 = 0;
const TCP_CA_LOSS: u8 = 4;

impl TcpSock {
    /// `sk` as a TCP socket, if it is a full TCP socket.
    pub(crate) fn from_sock(sk: &Sock) -> Option<&TcpSock> {
        let raw = sk.as_raw();
        // SAFETY: `sk` is live; the fields read are set at creation and
        // never change (`sk_protocol`, `sk_type`, the full-socket state bits).
        let is_tcp = unsafe {
            bindings::mptcp_rs_sk_fullsock(raw)
                && (*raw).sk_protocol == IPPROTO_TCP
                && (*raw).sk_type == SOCK_STREAM
        };
        // INVARIANT: checked just above.
        // SAFETY: `TcpSock` is a transparent `Sock`.
        is_tcp.then(|| unsafe { &*(sk as *const Sock).cast::<TcpSock>() })
    }

    /// Borrows a `struct sock` known to be a full TCP socket.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live full TCP socket that stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::sock) -> &'a TcpSock {
        // INVARIANT: the caller guarantees it is a full TCP socket.
        // SAFETY: the caller guarantees the lifetime; transparent wrappers.
        unsafe { &*Sock::from_raw(ptr).cast_tcp() }
    }

    /// A counted reference.
    pub(crate) fn to_tcp_ref(&self) -> ARef<TcpSock> {
        ARef::from(self)
    }

    fn tp(&self) -> *mut bindings::tcp_sock {
        self.as_raw().cast()
    }

    /// A lockless snapshot of the TCP state.
    pub(crate) fn snapshot(&self) -> TcpSnapshot {
        let tp = self.tp();
        // SAFETY: by the type invariant `tp` is a live `tcp_sock`; these
        // fields are read locklessly throughout TCP (READ_ONCE). The
        // `icsk_ca_state` bitfield is read through its byte (bindgen's raw
        // accessor, no reference made); TCP writes it under the socket's
        // lock, and a racing read sees the old state or the new one, as
        // `tcp_get_timestamping_opt_stats` reads it from the transmit
        // completion path.
        unsafe {
            let icsk = tp.cast::<bindings::inet_connection_sock>();
            TcpSnapshot {
                snd_una: core::ptr::read_volatile(&(*tp).snd_una),
                snd_nxt: core::ptr::read_volatile(&(*tp).snd_nxt),
                write_seq: core::ptr::read_volatile(&(*tp).write_seq),
                rcv_nxt: core::ptr::read_volatile(&(*tp).rcv_nxt),
                copied_seq: core::ptr::read_volatile(&(*tp).copied_seq),
                rcv_wup: core::ptr::read_volatile(&(*tp).rcv_wup),
                rcv_wnd: core::ptr::read_volatile(&(*tp).rcv_wnd),
                max_window: core::ptr::read_volatile(&(*tp).max_window),
                snd_wscale: (*tp).rx_opt.snd_wscale() as u8,
                srtt_us: core::ptr::read_volatile(&(*tp).srtt_us) >> 3,
                rcv_rtt_us: core::ptr::read_volatile(&(*tp).rcv_rtt_est.rtt_us) >> 3,
                rto: core::ptr::read_volatile(&(*icsk).icsk_rto),
                snd_cwnd: core::ptr::read_volatile(&(*tp).snd_cwnd),
                snd_ssthresh: core::ptr::read_volatile(&(*tp).snd_ssthresh),
                packets_out: core::ptr::read_volatile(&(*tp).packets_out),
                mss_cache: core::ptr::read_volatile(&(*tp).mss_cache),
                gso_segs: core::ptr::read_volatile(&(*tp).gso_segs),
                window_clamp: core::ptr::read_volatile(&(*tp).window_clamp),
                scaling_ratio: core::ptr::read_volatile(&(*tp).scaling_ratio),
                // TCP_NAGLE_OFF is bit 0 of the 4-bit field (TCP_NAGLE_CORK
                // is bit 1, and holds segments back like Nagle does).
                nodelay: (*tp).nonagle() & 0b11 == 0b01,
                ca_open: bindings::inet_connection_sock::icsk_ca_state_raw(icsk) == TCP_CA_OPEN,
            }
        }
    }

    /// Whether the retransmission timer fired (congestion control in the
    /// Loss state), read without the socket's lock.
    pub(crate) fn timed_out(&self) -> bool {
        let icsk = self.tp().cast::<bindings::inet_connection_sock>();
        // SAFETY: by the type invariant the socket is live; the byte of the
        // `icsk_ca_state` bitfield is read as `snapshot` reads it.
        unsafe { bindings::inet_connection_sock::icsk_ca_state_raw(icsk) == TCP_CA_LOSS }
    }

    /// Adds `bytes` (or takes them back, if negative) to the memory the
    /// receive queue is charged with (`sk_rmem_alloc`), without queueing
    /// anything: TCP sizes the window it offers from that charge (see
    /// `Slot::shadow` in the module).
    pub(crate) fn shadow_rmem(&self, bytes: i32) {
        // SAFETY: the socket is live; an atomic add to a counter TCP itself
        // changes atomically from any context.
        unsafe { bindings::mptcp_rs_sk_rmem_add(self.as_raw(), bytes) };
    }

    /// Lets TCP call `sk_data_ready` for any new in-order data and decide
    /// its ACKs by the window alone (`sk_rcvlowat` 0). With the default of
    /// 1, TCP acknowledges at once whenever nothing is left unread on the
    /// socket, which is always so on a subflow whose data moves to the
    /// connection as it arrives.
    pub(crate) fn clear_rcvlowat(&self) {
        // SAFETY: the socket is live; a word TCP reads with READ_ONCE.
        unsafe { core::ptr::write_volatile(&mut (*self.as_raw()).sk_rcvlowat, 0) };
    }

    /// Whether TCP would send an ACK now that the reader took data, by the
    /// test TCP makes after a read (`__tcp_cleanup_rbuf`, not exported):
    /// an ACK is scheduled and more than one segment is unacknowledged, or
    /// the read emptied the buffer after a pushed segment; or the window TCP
    /// would offer now is at least twice what is left of the one it offered
    /// last, itself at most half the largest. (The new window is estimated
    /// as `__tcp_select_window` computes it, without its rounding.)
    pub(crate) fn ack_due_after_read(&self) -> bool {
        const ICSK_ACK_SCHED: u8 = 1;
        const ICSK_ACK_PUSHED: u8 = 4;
        const ICSK_ACK_PUSHED2: u8 = 8;
        let t = self.snapshot();
        let icsk = self.as_raw().cast::<bindings::inet_connection_sock>();
        // SAFETY: the socket is live; bytes TCP itself reads locklessly.
        let (pending, rcv_mss) = unsafe {
            (
                core::ptr::read_volatile(&(*icsk).icsk_ack.pending),
                core::ptr::read_volatile(&(*icsk).icsk_ack.rcv_mss),
            )
        };
        if pending & ICSK_ACK_SCHED != 0 {
            if t.rcv_nxt.wrapping_sub(t.rcv_wup) > u32::from(rcv_mss) {
                return true;
            }
            let pushed = pending & ICSK_ACK_PUSHED2 != 0
                || pending & ICSK_ACK_PUSHED != 0
                    // SAFETY: the socket is live; the helper reads a byte
                    // and a sysctl.
                    && !unsafe { bindings::mptcp_rs_in_pingpong_mode(self.as_raw()) };
            if pushed && self.rmem_alloc() == 0 {
                return true;
            }
        }
        if self.shutdown_bits() & RCV_SHUTDOWN != 0 {
            return false;
        }
        let now = t.rcv_wup.wrapping_add(t.rcv_wnd).wrapping_sub(t.rcv_nxt) as i32;
        let now = now.max(0) as u64;
        if 2 * now > u64::from(t.window_clamp) {
            return false;
        }
        let (rcvbuf, _) = self.buf_sizes();
        let free = (i64::from(rcvbuf) - i64::from(self.rmem_alloc())).max(0) as u64;
        let new = ((free * u64::from(t.scaling_ratio)) >> 8).min(u64::from(t.window_clamp));
        new > 0 && new >= 2 * now
    }

    /// Room left in the send buffer (`sk_stream_wspace`), in bytes.
    pub(crate) fn send_space(&self) -> i32 {
        // SAFETY: the socket is live; the helper reads two counters.
        unsafe { bindings::mptcp_rs_sk_stream_wspace(self.as_raw()) }
    }

    /// Makes TCP allocate with `GFP_ATOMIC` on this socket: the module sends
    /// on subflows from their callbacks, in softirq (as kTLS does), where
    /// TCP's own `GFP_KERNEL` for kernel sockets would sleep.
    pub(crate) fn use_atomic_allocations(&self) {
        // SAFETY: a store of the gfp word of a live socket not yet in use
        // (called before it connects or is handed over).
        unsafe { (*self.as_raw()).sk_allocation = kernel::bindings::GFP_ATOMIC };
    }

    /// Sets the receive buffer size (`sk_rcvbuf`), as TCP's own autotuning
    /// does (the connection tunes its subflows).
    pub(crate) fn set_rcvbuf(&self, rcvbuf: i32) {
        // SAFETY: a word store, read locklessly by TCP (WRITE_ONCE).
        unsafe { core::ptr::write_volatile(&mut (*self.as_raw()).sk_rcvbuf, rcvbuf) };
    }

    /// Takes the socket lock (`lock_sock`), which may sleep.
    pub(crate) fn lock(&self) -> TcpGuard<'_> {
        TcpGuard {
            guard: self.0.lock(),
            // INVARIANT: `lock_sock` is held by the guard, which owns it.
            locked: TcpLocked {
                sk: self,
                owner: true,
                _not_send: PhantomData,
            },
        }
    }

    /// Resets the subflow (`tcp_abort`): a RST goes out, the socket is closed
    /// with `err`, which its owner sees. Takes the socket's lock itself.
    pub(crate) fn abort(&self, err: kernel::error::Error) {
        // SAFETY: a live TCP socket whose lock the caller does not hold.
        unsafe { bindings::tcp_abort(self.as_raw(), -err.to_errno()) };
    }
}

impl Sock {
    /// # Safety
    ///
    /// `self` must be a full TCP socket.
    unsafe fn cast_tcp(&self) -> *const TcpSock {
        (self as *const Sock).cast()
    }
}

/// The lock of a TCP socket, taken by [`TcpSock::lock`].
pub(crate) struct TcpGuard<'a> {
    // Dropped after `locked`, which only borrows.
    locked: TcpLocked<'a>,
    guard: SockGuard<'a>,
}

impl<'a> TcpGuard<'a> {
    /// The locked socket, for the operations that need the lock.
    pub(crate) fn locked(&self) -> &TcpLocked<'a> {
        &self.locked
    }

    /// The lock as a plain socket guard (to wait on the socket).
    pub(crate) fn sock_guard(&mut self) -> &mut SockGuard<'a> {
        &mut self.guard
    }
}

/// Proof that the current context holds the lock of a TCP socket: through
/// `lock_sock` ([`TcpGuard`]), or because TCP holds it around the callback
/// or hook that lends it (`bh_lock_sock` in softirq, or the owned lock
/// while TCP processes its backlog).
///
/// # Invariants
///
/// For as long as a `TcpLocked` exists, the lock of `sk` is held, by the
/// current context. With `owner`, through our own `lock_sock`, in process
/// context, and not from within TCP's processing of the socket's backlog.
pub(crate) struct TcpLocked<'a> {
    sk: &'a TcpSock,
    owner: bool,
    _not_send: PhantomData<*mut ()>,
}

impl<'a> TcpLocked<'a> {
    /// Lends `sk` as locked.
    ///
    /// # Safety
    ///
    /// The current context must hold the lock of `sk` (TCP holds it around
    /// its socket callbacks and `queue_xmit`) for `'a`.
    pub(crate) unsafe fn assume_locked(sk: &'a TcpSock) -> Self {
        // INVARIANT: the caller guarantees that the lock is held; not
        // necessarily as its owner.
        Self {
            sk,
            owner: false,
            _not_send: PhantomData,
        }
    }

    /// The socket.
    pub(crate) fn sk(&self) -> &'a TcpSock {
        self.sk
    }

    /// Closes TCP's record: nothing more is appended to the last skb
    /// queued, sent or not (MSG_EOR after the fact), and TCP merges it with
    /// no later one when it retransmits.
    pub(crate) fn close_record(&self) {
        // SAFETY: by the type invariant we hold the socket's lock, under
        // which TCP changes its queues; the helper sets a flag on the last
        // skb of either queue.
        unsafe { bindings::mptcp_rs_tcp_mark_eor(self.sk.as_raw()) };
    }

    /// Hands TCP the pages of `frags`, in order, without copying them
    /// (`MSG_SPLICE_PAGES`: TCP takes its own page references, as the
    /// kernel's splice path does) and without waiting for room. TCP appends
    /// them to its last skb unless [`TcpLocked::close_record`] closed it,
    /// and holds back a partial segment between batches (`MSG_MORE`: one
    /// push per call). Returns how many bytes TCP took.
    pub(crate) fn send_frags(&self, frags: &[PageFrag]) -> usize {
        const BATCH: usize = 16;
        let mut sent = 0;
        let batches = frags.len().div_ceil(BATCH);
        for (i, batch) in frags.chunks(BATCH).enumerate() {
            let last = i + 1 == batches;
            let want: usize = batch.iter().map(|f| f.len() as usize).sum();
            let took = self.send_batch(batch, want, !last);
            sent += took;
            if took < want {
                break;
            }
        }
        sent
    }

    fn send_batch(&self, frags: &[PageFrag], total: usize, more: bool) -> usize {
        // SAFETY: all-zeroes is a valid (empty) `bio_vec`.
        let mut vecs: [bindings::bio_vec; 16] = unsafe { core::mem::zeroed() };
        for (v, f) in vecs.iter_mut().zip(frags) {
            v.bv_page = f.page_ptr();
            v.bv_offset = f.offset();
            v.bv_len = f.len();
        }
        let n = frags.len().min(vecs.len());
        let mut flags = MSG_DONTWAIT | MSG_SPLICE_PAGES;
        if more {
            flags |= MSG_MORE;
        }
        // SAFETY: all-zeroes is a valid, empty `msghdr`; the iterator is set
        // below.
        let mut msg: bindings::msghdr = unsafe { core::mem::zeroed() };
        msg.msg_flags = flags as _;
        // SAFETY: `vecs[..n]` describe pages that `frags` hold references
        // to, alive for the call; TCP only reads them (ITER_SOURCE) and takes
        // its own references to what it keeps. By the type invariant we hold
        // the socket's lock, as `tcp_sendmsg_locked` requires.
        let sent = unsafe {
            bindings::iov_iter_bvec(&mut msg.msg_iter, ITER_SOURCE, vecs.as_ptr(), n as _, total);
            bindings::tcp_sendmsg_locked(self.sk.as_raw(), &mut msg, total)
        };
        sent.max(0) as usize
    }

    /// Processes what arrived while we held the socket's lock (its backlog:
    /// mostly ACKs) now rather than at `release_sock`, as
    /// `tcp_sendmsg_locked` does between segments: a long push would
    /// otherwise hold the ACKs that open the window, and delay them into the
    /// RTT estimate. Only the owner of the lock may; for a socket lent by a
    /// callback this does nothing. Their callbacks may run meanwhile (ours
    /// take [`TcpLocked::assume_locked`] views, which never flush).
    pub(crate) fn flush_backlog(&self) {
        if self.owner {
            // SAFETY: by the type invariant (with `owner`), we own the lock
            // of this live TCP socket through `lock_sock`, in process
            // context, outside backlog processing: what `__sk_flush_backlog`
            // requires.
            unsafe { bindings::mptcp_rs_sk_flush_backlog(self.sk.as_raw()) };
        }
    }

    /// Sends an ACK now (carrying our options like any segment), for what
    /// TCP has received (`__tcp_send_ack(sk, rcv_nxt)`).
    pub(crate) fn send_ack(&self) {
        // Not before the handshake completed (an ACK from SYN_SENT would
        // acknowledge nothing the peer sent), nor once closed.
        if matches!(
            self.sk.state(),
            state::SYN_SENT | state::SYN_RECV | state::LISTEN | state::CLOSE
        ) {
            return;
        }
        let rcv_nxt = self.sk.snapshot().rcv_nxt;
        // SAFETY: a live TCP socket whose lock we hold (type invariant).
        unsafe { bindings::__tcp_send_ack(self.sk.as_raw(), rcv_nxt, 0) };
    }

    /// Shuts the socket down for sending (TCP sends its FIN after the queued
    /// data), as `shutdown(SHUT_WR)` does.
    pub(crate) fn shutdown_send(&self) {
        const SEND_SHUTDOWN: u8 = 2;
        // SAFETY: we hold the lock (type invariant); `sk_shutdown` is
        // written under it.
        unsafe {
            (*self.sk.as_raw()).sk_shutdown |= SEND_SHUTDOWN;
            bindings::tcp_shutdown(self.sk.as_raw(), c_int::from(SEND_SHUTDOWN));
        }
    }

    /// The first skb of the receive queue, if the data it starts with is
    /// the next in order (`copied_seq`): unlinked from the queue, its
    /// memory uncharged from this socket (the caller charges whoever keeps
    /// it), `copied_seq` moved past it. What TCP counts as read.
    pub(crate) fn take_rx_skb(&self) -> Option<RxSkb> {
        let raw = self.sk.as_raw();
        let tp = self.sk.tp();
        // SAFETY: we hold the lock (type invariant), under which TCP's
        // receive queue and `copied_seq` change; the queue's skbs are valid.
        unsafe {
            let skb = bindings::mptcp_rs_rx_peek(raw);
            let skb = NonNull::new(skb)?;
            let seq = bindings::mptcp_rs_tcp_skb_seq(skb.as_ptr());
            let end_seq = bindings::mptcp_rs_tcp_skb_end_seq(skb.as_ptr());
            let fin = bindings::mptcp_rs_tcp_skb_fin(skb.as_ptr());
            let copied = (*tp).copied_seq;
            // Octets of the skb already read (TCP collapsing can leave such).
            let offset = copied.wrapping_sub(seq);
            let len = (*skb.as_ptr()).len;
            if offset > len {
                return None;
            }
            bindings::mptcp_rs_rx_unlink(raw, skb.as_ptr());
            bindings::mptcp_rs_skb_orphan(skb.as_ptr());
            core::ptr::write_volatile(&mut (*tp).copied_seq, end_seq);
            Some(RxSkb::from_unlinked(
                skb,
                offset,
                len - offset,
                seq.wrapping_add(offset),
                fin,
            ))
        }
    }

    /// TCP's receive-buffer autotuning (`tcp_rcv_space_adjust`, through
    /// `tcp_read_done` with nothing to read, its exported caller): TCP runs
    /// it when the application reads, and nobody calls `tcp_recvmsg` on a
    /// subflow. Its measure is `copied_seq` per RTT, which moves as skbs
    /// move to the connection ([`TcpLocked::take_rx_skb`]): the rate the
    /// connection takes data, which stalls when its receive buffer is full.
    /// The subflow's `sk_rcvbuf` and window clamp grow; the connection's
    /// buffer follows (`buf_sizes`).
    pub(crate) fn rcv_space_adjust(&self) {
        // SAFETY: we hold the lock of this live TCP socket (type
        // invariant); with a length of 0, `tcp_read_done` frees no skb and
        // leaves `copied_seq` as it is: it only runs the autotuning, which
        // reads and writes fields of the socket under its lock.
        unsafe { bindings::tcp_read_done(self.sk.as_raw(), 0) };
    }

    /// Grows the subflow's receive buffer to `bytes` (never shrinks it),
    /// and its window clamp along, as `tcp_rcv_space_adjust` does: the
    /// connection's buffer, tuned across its subflows, so that this
    /// subflow's window does not hold the peer back while a slower path's
    /// data is outstanding. Not if the buffer was fixed (`SO_RCVBUF`).
    pub(crate) fn grow_rcvbuf(&self, bytes: u32) {
        let (locked, _) = self.sk.buf_locks();
        let (rcvbuf, sndbuf) = self.sk.buf_sizes();
        let bytes = bytes.min(i32::MAX as u32) as i32;
        if locked || bytes <= rcvbuf {
            return;
        }
        self.sk.set_buf_sizes(bytes, sndbuf);
        let ratio = u64::from(self.sk.snapshot().scaling_ratio);
        // `tcp_win_from_space`: the payload the buffer holds.
        let clamp = ((bytes as u64 * ratio) >> 8).min(u64::from(u32::MAX >> 1)) as u32;
        // SAFETY: we hold the lock of this live TCP socket (type
        // invariant), under which TCP writes `window_clamp` (WRITE_ONCE).
        unsafe {
            let tp = self.sk.as_raw().cast::<bindings::tcp_sock>();
            if clamp > core::ptr::read_volatile(&(*tp).window_clamp) {
                core::ptr::write_volatile(&mut (*tp).window_clamp, clamp);
            }
        }
    }

    /// Sets the congestion window and slow-start threshold (segments; at
    /// least 1 and 2): a slow subflow penalised by the connection.
    pub(crate) fn set_cwnd(&self, cwnd: u32, ssthresh: u32) {
        // SAFETY: we hold the lock of this live TCP socket (type
        // invariant), under which TCP's congestion control writes the
        // same two fields.
        unsafe { bindings::mptcp_rs_tcp_set_cwnd(self.sk.as_raw(), cwnd, ssthresh) };
    }

    /// Whether the receive queue holds an skb.
    pub(crate) fn rx_pending(&self) -> bool {
        // SAFETY: we hold the lock (type invariant).
        unsafe { !bindings::mptcp_rs_rx_peek(self.sk.as_raw()).is_null() }
    }

    /// The memory the receive queue holds (`sk_rmem_alloc`) and the buffer
    /// size (`sk_rcvbuf`).
    pub(crate) fn rmem(&self) -> (i32, i32) {
        (self.sk.rmem_alloc(), self.sk.buf_sizes().0)
    }
}

impl Deref for TcpLocked<'_> {
    type Target = TcpSock;

    fn deref(&self) -> &TcpSock {
        self.sk
    }
}

// SPDX-License-Identifier: GPL-2.0

//! TCP internals of our subflows: their sequence state, sending data from
//! kernel memory, and reading in-order data skb by skb.

use super::{
    bindings,
    skb::SkbRef,
    sock::{to_result_count, Sock, SockGuard},
};
use kernel::{
    ffi::{c_int, c_void},
    prelude::*,
};

const MSG_DONTWAIT: c_int = 0x40;
const MSG_EOR: c_int = 0x80;
const ITER_SOURCE: u32 = 1;

/// What MPTCP reads of a subflow's TCP state (`struct tcp_sock`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TcpSnapshot {
    pub(crate) snd_una: u32,
    pub(crate) snd_nxt: u32,
    pub(crate) write_seq: u32,
    pub(crate) rcv_nxt: u32,
    pub(crate) copied_seq: u32,
    /// Smoothed RTT in microseconds (`srtt_us >> 3`).
    pub(crate) srtt_us: u32,
    pub(crate) snd_cwnd: u32,
    pub(crate) packets_out: u32,
    pub(crate) mss_cache: u32,
    /// Nagle's algorithm is off (`TCP_NODELAY`, `TCP_CORK` clear).
    pub(crate) nodelay: bool,
}

impl Sock {
    fn tcp(&self) -> *mut bindings::tcp_sock {
        self.as_raw().cast()
    }

    /// A snapshot of the TCP state of a subflow (a full TCP socket).
    pub(crate) fn tcp_snapshot(&self) -> TcpSnapshot {
        let tp = self.tcp();
        // SAFETY: `self` is a live full TCP socket, so a `tcp_sock`; these
        // fields are read locklessly throughout TCP (READ_ONCE), each a word
        // that cannot tear. A snapshot may be slightly stale, never invalid.
        unsafe {
            TcpSnapshot {
                snd_una: core::ptr::read_volatile(&(*tp).snd_una),
                snd_nxt: core::ptr::read_volatile(&(*tp).snd_nxt),
                write_seq: core::ptr::read_volatile(&(*tp).write_seq),
                rcv_nxt: core::ptr::read_volatile(&(*tp).rcv_nxt),
                copied_seq: core::ptr::read_volatile(&(*tp).copied_seq),
                srtt_us: core::ptr::read_volatile(&(*tp).srtt_us) >> 3,
                snd_cwnd: core::ptr::read_volatile(&(*tp).snd_cwnd),
                packets_out: core::ptr::read_volatile(&(*tp).packets_out),
                mss_cache: core::ptr::read_volatile(&(*tp).mss_cache),
                // TCP_NAGLE_OFF is bit 0 of the 4-bit field (TCP_NAGLE_CORK
                // is bit 1, and holds segments back like Nagle does).
                nodelay: (*tp).nonagle() & 0b11 == 0b01,
            }
        }
    }

    /// Room left in the subflow's send buffer (`sk_stream_wspace`), in bytes.
    pub(crate) fn send_space(&self) -> i32 {
        // SAFETY: `self` is live; the helper reads two counters.
        unsafe { bindings::mptcp_rs_sk_stream_wspace(self.as_raw()) }
    }

    /// Marks the send buffer full (`SOCK_NOSPACE`), or no longer so: while
    /// it is marked, TCP grows the buffer as ACKs come and calls
    /// `sk_write_space`, as for a writer sleeping in `sk_stream_wait_memory`.
    pub(crate) fn set_nospace(&self, full: bool) {
        // SAFETY: `self` is live; the helper sets an atomic bit of the
        // socket's `struct socket`, if it has one.
        unsafe { bindings::mptcp_rs_sk_nospace(self.as_raw(), full) }
    }

    /// Sends an ACK now (carrying our options like any segment), for what
    /// TCP has received (`__tcp_send_ack(sk, rcv_nxt)`).
    pub(crate) fn send_ack(&self, _lock: &SockGuard<'_>) {
        let rcv_nxt = self.tcp_snapshot().rcv_nxt;
        // SAFETY: `self` is a live TCP socket whose lock the caller holds.
        unsafe { bindings::__tcp_send_ack(self.as_raw(), rcv_nxt, 0) };
    }
}

/// Queues `data` on a subflow for transmission (`tcp_sendmsg_locked`),
/// without waiting for room: returns how many bytes TCP took (`EAGAIN` if
/// none). With `end_of_record`, the last buffer of the data is closed: later
/// data never joins it, so that no skb spans two MPTCP mappings.
pub(crate) fn send_locked(
    guard: &SockGuard<'_>,
    data: &[u8],
    end_of_record: bool,
) -> Result<usize> {
    let sk = guard.sock();
    let kvec = bindings::kvec {
        iov_base: data.as_ptr() as *mut c_void,
        iov_len: data.len(),
    };
    // SAFETY: all-zeroes is a valid, empty `msghdr`; the iterator is set below.
    let mut msg: bindings::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_flags = (MSG_DONTWAIT | if end_of_record { MSG_EOR } else { 0 }) as _;
    // SAFETY: `kvec` describes `data`, which outlives the call; TCP only reads
    // it (ITER_SOURCE); the caller holds the socket lock.
    let sent = unsafe {
        bindings::iov_iter_kvec(&mut msg.msg_iter, ITER_SOURCE, &kvec, 1, data.len());
        let ret = bindings::tcp_sendmsg_locked(sk.as_raw(), &mut msg, data.len());
        if end_of_record {
            bindings::mptcp_rs_tcp_close_tail_record(sk.as_raw());
        }
        ret
    };
    to_result_count(sent)
}

/// An skb of a subflow's receive queue, as `tcp_read_sock` shows it.
pub(crate) struct RxSkb {
    skb: *mut bindings::sk_buff,
}

impl RxSkb {
    /// The subflow sequence number of the skb's first data byte.
    pub(crate) fn seq(&self) -> u32 {
        // SAFETY: `tcp_read_sock` passes skbs of the receive queue.
        unsafe { super::skb::tcp_skb_seq(self.skb) }
    }

    /// Whether the skb carries the subflow's FIN.
    pub(crate) fn fin(&self) -> bool {
        // SAFETY: as above.
        unsafe { super::skb::tcp_skb_fin(self.skb) }
    }

    /// A reference to `len` bytes at `offset` of the skb's data.
    pub(crate) fn clone_span(&self, offset: u32, len: u32) -> Result<SkbRef> {
        // SAFETY: `tcp_read_sock` guarantees `offset + len` bytes of data.
        unsafe { SkbRef::clone_span(self.skb, offset, len) }
    }
}

/// Reads up to `max` in-order bytes of a subflow, skb by skb
/// (`tcp_read_sock`): `actor(skb, offset, len)` returns how many of the
/// `len` bytes at `offset` it consumed; reading stops at the first partial
/// consumption. TCP then advances its window and may ACK. Returns the bytes
/// consumed.
pub(crate) fn read_sock(
    guard: &SockGuard<'_>,
    max: usize,
    actor: &mut dyn FnMut(&RxSkb, u32, usize) -> usize,
) -> usize {
    let mut actor: &mut dyn FnMut(&RxSkb, u32, usize) -> usize = actor;
    // SAFETY: all-zeroes is a valid descriptor; `arg.data` points at `actor`
    // (a fat pointer, behind a thin one), valid for the call.
    let mut desc: bindings::read_descriptor_t = unsafe { core::mem::zeroed() };
    desc.count = max;
    desc.arg.data = core::ptr::from_mut(&mut actor).cast();
    // SAFETY: the caller holds the lock of the subflow, a TCP socket.
    let ret =
        unsafe { bindings::tcp_read_sock(guard.sock().as_raw(), &mut desc, Some(read_actor)) };
    ret.max(0) as usize
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn read_actor(
    desc: *mut bindings::read_descriptor_t,
    skb: *mut bindings::sk_buff,
    offset: u32,
    len: usize,
) -> c_int {
    // SAFETY: `desc` is the descriptor of `read_sock`, whose `arg.data` points
    // at the actor for the duration of `tcp_read_sock`.
    unsafe {
        let actor = &mut *(*desc)
            .arg
            .data
            .cast::<&mut dyn FnMut(&RxSkb, u32, usize) -> usize>();
        let len = len.min((*desc).count);
        let used = actor(&RxSkb { skb }, offset, len).min(len);
        (*desc).count -= used;
        used as c_int
    }
}

/// Shuts the subflow down for sending (TCP sends its FIN after the queued
/// data), as `shutdown(SHUT_WR)` does, with the lock held.
pub(crate) fn shutdown_send_locked(guard: &SockGuard<'_>) -> Result {
    let sk = guard.sock();
    sk.set_shutdown_bits(guard, super::sock::SEND_SHUTDOWN);
    // SAFETY: the caller holds the lock of the subflow, a TCP socket.
    unsafe { bindings::tcp_shutdown(sk.as_raw(), super::sock::SEND_SHUTDOWN as c_int) };
    Ok(())
}

/// Resets the subflow (`tcp_abort`): a RST goes out, the socket is closed
/// with `err`, which its owner sees. Takes the socket's lock itself.
pub(crate) fn abort(sk: &Sock, err: kernel::error::Error) {
    // SAFETY: `sk` is a live TCP socket whose lock the caller does not hold.
    unsafe { bindings::tcp_abort(sk.as_raw(), -err.to_errno()) };
}

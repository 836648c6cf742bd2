// SPDX-License-Identifier: GPL-2.0

//! Hooks into the TCP of our subflows.
//!
//! With CONFIG_MPTCP=n, TCP's own calls into MPTCP are compiled out. Each TCP
//! socket reaches its address-family code through `icsk_af_ops`; our
//! subflows point it at a module-owned copy of `ipv4_specific` in which:
//! - `queue_xmit` first lets the protocol write its options into each
//!   segment TCP built (then calls `ip_queue_xmit`);
//! - `conn_request` (listeners) first shows the protocol each SYN;
//! - `syn_recv_sock` (listeners) tells the protocol of each child socket,
//!   with the segment that completed the handshake;
//! - `net_header_len` is larger by the room our options need, so that TCP
//!   sizes its segments (`tcp_mtu_to_mss`) to leave room for them and no
//!   segment exceeds the path MTU.
//!
//! Children of a listener inherit its `icsk_af_ops`, so accepted subflows
//! are hooked too.

use super::{
    bindings,
    skb::{TcpHeader, TxSegment},
    sock::Sock,
};
use core::marker::PhantomData;
use kernel::{ffi::c_int, types::Opaque};

/// What the protocol does at the hooks. Called in softirq or with the
/// subflow's lock held: must not sleep.
pub(crate) trait TcpHooks: 'static {
    /// Bytes of header room TCP must leave for our options in every segment.
    const OPTION_ROOM: u16;

    /// A segment of `sk` is about to leave (its TCP header is built).
    fn transmit(sk: &Sock, seg: &mut TxSegment<'_>);

    /// A SYN reached the listener `sk`: its TCP header, options and IPv4
    /// (source, destination) addresses. False drops it unanswered (TCP
    /// ignores what `conn_request` returns: no RST is sent).
    fn syn_received(sk: &Sock, th: &TcpHeader, options: &[u8], addrs: ([u8; 4], [u8; 4])) -> bool;

    /// `child` was created by `listener` from a request, completed by a
    /// segment with TCP header `th`, `options` and addresses `addrs`.
    fn child_created(
        listener: &Sock,
        child: &Sock,
        th: &TcpHeader,
        options: &[u8],
        addrs: ([u8; 4], [u8; 4]),
    );
}

/// The hooked copy of `ipv4_specific`: declare one `static`.
pub(crate) struct HookedAfOps<H: TcpHooks> {
    ops: Opaque<bindings::inet_connection_sock_af_ops>,
    _h: PhantomData<H>,
}

// SAFETY: written once by `init`, before any socket uses it; read-only after.
unsafe impl<H: TcpHooks> Sync for HookedAfOps<H> {}

impl<H: TcpHooks> HookedAfOps<H> {
    /// The table, to be placed in a `static` and initialised by `init`.
    pub(crate) const fn new() -> Self {
        Self {
            ops: Opaque::uninit(),
            _h: PhantomData,
        }
    }

    /// Fills the table from `ipv4_specific` with our hooks. Called once, at
    /// module load, before `install`.
    pub(crate) fn init(&'static self) {
        // SAFETY: `ipv4_specific` is an exported, constant table; nothing uses
        // ours before `init` returns (module load is single-threaded here).
        unsafe {
            let mut ops = core::ptr::read(core::ptr::addr_of!(bindings::ipv4_specific));
            ops.queue_xmit = Some(queue_xmit_cb::<H>);
            ops.conn_request = Some(conn_request_cb::<H>);
            ops.syn_recv_sock = Some(syn_recv_sock_cb::<H>);
            ops.net_header_len += H::OPTION_ROOM;
            self.ops.get().write(ops);
        }
    }

    /// Makes `sk` (an IPv4 TCP socket of ours, not yet connected or
    /// listening) use the hooked table.
    pub(crate) fn install(&'static self, sk: &Sock) {
        // SAFETY: `sk` is a TCP socket, so an `inet_connection_sock`; it is not
        // in use yet, and `init` filled the table.
        unsafe {
            (*sk.as_raw().cast::<bindings::inet_connection_sock>()).icsk_af_ops = self.ops.get()
        };
    }

    /// Gives `sk` back the kernel's `ipv4_specific` (it stays a TCP socket,
    /// without our hooks, and may outlive the module).
    pub(crate) fn uninstall(&'static self, sk: &Sock) {
        // SAFETY: `sk` is a live TCP socket; `ipv4_specific` is the kernel's
        // own table. A pointer store is atomic for concurrent readers.
        unsafe {
            let icsk = sk.as_raw().cast::<bindings::inet_connection_sock>();
            if (*icsk).icsk_af_ops == self.ops.get().cast_const() {
                core::ptr::write_volatile(
                    &mut (*icsk).icsk_af_ops,
                    core::ptr::addr_of!(bindings::ipv4_specific),
                );
            }
        }
    }

    /// Whether `sk` (a full TCP socket) uses the hooked table: one of ours.
    pub(crate) fn is_installed(&'static self, sk: &Sock) -> bool {
        // SAFETY: reading a pointer field of a live full socket; TCP sockets
        // are `inet_connection_sock`s, and the caller checked it is TCP.
        unsafe {
            core::ptr::read_volatile(
                &(*sk.as_raw().cast::<bindings::inet_connection_sock>()).icsk_af_ops,
            ) == self.ops.get().cast_const()
        }
    }
}

/// A received segment's TCP header, options and IPv4 (source, destination)
/// addresses.
type RxHeader<'a> = (TcpHeader, &'a [u8], ([u8; 4], [u8; 4]));

/// The TCP header, options and IPv4 (source, destination) addresses of a
/// received segment at TCP's own hooks, where `skb` has its network and
/// transport headers set and linear.
///
/// # Safety
///
/// `skb` must be a received IPv4 TCP segment being processed by TCP.
unsafe fn rx_header<'a>(skb: *mut bindings::sk_buff) -> Option<RxHeader<'a>> {
    // SAFETY: TCP validated (`tcp_v4_rcv` pulled) the whole header, options
    // included, at the transport header; the IP header precedes it.
    unsafe {
        let th = bindings::mptcp_rs_skb_transport_header(skb);
        let doff = usize::from(*th.add(12) >> 4) * 4;
        let all = core::slice::from_raw_parts(th, doff.max(20));
        let hdr = super::skb::parse_tcp_header(all)?;
        let ip = bindings::mptcp_rs_skb_network_header(skb);
        let mut src = [0u8; 4];
        let mut dst = [0u8; 4];
        core::ptr::copy_nonoverlapping(ip.add(12), src.as_mut_ptr(), 4);
        core::ptr::copy_nonoverlapping(ip.add(16), dst.as_mut_ptr(), 4);
        Some((hdr, &all[20..hdr.len], (src, dst)))
    }
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn queue_xmit_cb<H: TcpHooks>(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
    fl: *mut bindings::flowi,
) -> c_int {
    // SAFETY: TCP calls `queue_xmit` with its socket and a segment whose
    // header it built, which we own until we pass it to `ip_queue_xmit`.
    unsafe {
        if let Some(mut seg) = TxSegment::from_raw(skb) {
            H::transmit(Sock::from_raw(sk), &mut seg);
        }
        bindings::ip_queue_xmit(sk, skb, fl)
    }
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn conn_request_cb<H: TcpHooks>(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
) -> c_int {
    // SAFETY: TCP calls `conn_request` with a listener and a SYN it parsed.
    unsafe {
        if let Some((th, options, addrs)) = rx_header(skb) {
            if !H::syn_received(Sock::from_raw(sk), &th, options, addrs) {
                // Not handed to TCP: dropped.
                return -1;
            }
        }
        bindings::tcp_v4_conn_request(sk, skb)
    }
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn syn_recv_sock_cb<H: TcpHooks>(
    sk: *const bindings::sock,
    skb: *mut bindings::sk_buff,
    req: *mut bindings::request_sock,
    dst: *mut bindings::dst_entry,
    req_unhash: *mut bindings::request_sock,
    own_req: *mut bool,
    opt_child_init: Option<unsafe extern "C" fn(*mut bindings::sock, *const bindings::sock)>,
) -> *mut bindings::sock {
    // SAFETY: TCP calls `syn_recv_sock` with a listener, the segment that
    // completes a request and the request; the child it returns is live, and
    // ours to set up when `*own_req` (otherwise another CPU won the race and
    // the child is about to be freed).
    unsafe {
        let child =
            bindings::tcp_v4_syn_recv_sock(sk, skb, req, dst, req_unhash, own_req, opt_child_init);
        if !child.is_null() && *own_req {
            if let Some((th, options, addrs)) = rx_header(skb) {
                H::child_created(
                    Sock::from_raw(sk.cast_mut()),
                    Sock::from_raw(child),
                    &th,
                    options,
                    addrs,
                );
            }
        }
        child
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Socket buffers: TCP segments where MPTCP reads and writes its options,
//! and references to received data kept in the connection-level queues.

use super::{bindings, net::Net, sock::Sock, user::MsgHdr};
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{error::to_result, ffi::c_int, prelude::*, types::ARef};

const TCP_HDR: usize = 20;
const IP_HDR_MIN: usize = 20;
const IPPROTO_TCP: u8 = 6;

/// TCP header flags (byte 13 of the header).
pub(crate) mod flags {
    pub(crate) const FIN: u8 = 0x01;
    pub(crate) const SYN: u8 = 0x02;
    pub(crate) const RST: u8 = 0x04;
    pub(crate) const ACK: u8 = 0x10;
}

/// The fields of a TCP header that MPTCP needs, in host byte order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpHeader {
    pub(crate) sport: u16,
    pub(crate) dport: u16,
    pub(crate) seq: u32,
    pub(crate) ack_seq: u32,
    pub(crate) flags: u8,
    /// The receive window field, unscaled.
    pub(crate) window: u16,
    /// Header length in bytes, options included.
    pub(crate) len: usize,
}

/// Parses the fixed part of a TCP header (its first 20 bytes).
pub(crate) fn parse_tcp_header(bytes: &[u8]) -> Option<TcpHeader> {
    TcpHeader::parse(bytes)
}

impl TcpHeader {
    fn parse(bytes: &[u8]) -> Option<Self> {
        let b = bytes.get(..TCP_HDR)?;
        let len = usize::from(b[12] >> 4) * 4;
        if len < TCP_HDR {
            return None;
        }
        Some(Self {
            sport: u16::from_be_bytes([b[0], b[1]]),
            dport: u16::from_be_bytes([b[2], b[3]]),
            seq: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            ack_seq: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
            flags: b[13],
            window: u16::from_be_bytes([b[14], b[15]]),
            len,
        })
    }

    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Moves the first `keep` bytes of the skb data `delta` bytes towards the
/// head (`delta > 0`) or the tail, and gives the headers room or takes it
/// back: the data pointer moves by `delta`.
///
/// # Safety
///
/// `skb` must be valid, its first `keep` bytes linear and writable (after
/// `skb_cow_head` for `delta > 0`), and `delta >= -(the header's options)`.
unsafe fn shift_headers(skb: *mut bindings::sk_buff, keep: usize, delta: isize) {
    // SAFETY: per the contract: the bytes exist and may be written.
    unsafe {
        let old = (*skb).data;
        if delta > 0 {
            bindings::skb_push(skb, delta as u32);
        } else if delta < 0 {
            bindings::mptcp_rs_skb_pull(skb, (-delta) as u32);
        }
        let new = (*skb).data;
        core::ptr::copy(old, new, keep);
    }
}

/// An outgoing TCP segment where the transmit hook sees it: TCP built the
/// header (`skb->data` points at it) and the IP header is not there yet.
pub(crate) struct TxSegment<'a> {
    skb: NonNull<bindings::sk_buff>,
    hdr: TcpHeader,
    _skb: PhantomData<&'a mut bindings::sk_buff>,
}

impl<'a> TxSegment<'a> {
    /// # Safety
    ///
    /// `skb` must be the segment `queue_xmit` received, ours until we pass
    /// it on, with the TCP header built at `skb->data`.
    pub(crate) unsafe fn from_raw(skb: *mut bindings::sk_buff) -> Option<Self> {
        // SAFETY: the TCP header TCP just built is linear at `data`.
        let bytes = unsafe { core::slice::from_raw_parts((*skb).data, TCP_HDR) };
        let hdr = TcpHeader::parse(bytes)?;
        Some(Self {
            skb: NonNull::new(skb)?,
            hdr,
            _skb: PhantomData,
        })
    }

    pub(crate) fn header(&self) -> &TcpHeader {
        &self.hdr
    }

    /// TCP's options as it wrote them.
    pub(crate) fn options(&self) -> &[u8] {
        // SAFETY: the whole header, options included, is linear at `data`.
        unsafe {
            core::slice::from_raw_parts(
                (*self.skb.as_ptr()).data.add(TCP_HDR),
                self.hdr.len - TCP_HDR,
            )
        }
    }

    /// The number of payload bytes (all segments, for a GSO segment).
    pub(crate) fn payload_len(&self) -> usize {
        // SAFETY: `len` is plain data of our skb.
        unsafe { (*self.skb.as_ptr()).len as usize }.saturating_sub(self.hdr.len)
    }

    /// Replaces TCP's options with `options` (a multiple of 4 bytes, at most
    /// 40) and fixes the checksum set-up for `sk`.
    pub(crate) fn set_options(&mut self, sk: &Sock, options: &[u8]) -> Result {
        if options.len() % 4 != 0 || options.len() > 40 {
            return Err(EINVAL);
        }
        let old = self.hdr.len - TCP_HDR;
        let delta = options.len() as isize - old as isize;
        let skb = self.skb.as_ptr();
        // SAFETY: the skb is ours until `queue_xmit` passes it on; cow_head
        // gives a private header with room for `delta` more bytes; the header
        // is linear. The IP layer has not set network headers yet.
        unsafe {
            if delta > 0 && !bindings::mptcp_rs_skb_cow_head(skb, delta as u32) {
                return Err(ENOMEM);
            }
            shift_headers(skb, TCP_HDR, delta);
            let th = (*skb).data;
            core::ptr::copy_nonoverlapping(options.as_ptr(), th.add(TCP_HDR), options.len());
            let doff = ((TCP_HDR + options.len()) / 4) as u8;
            *th.add(12) = (doff << 4) | (*th.add(12) & 0x0f);
            bindings::mptcp_rs_skb_reset_transport_header(skb);
            bindings::tcp_v4_send_check(sk.as_raw(), skb);
        }
        self.hdr.len = TCP_HDR + options.len();
        Ok(())
    }
}

/// An IPv4 TCP packet at a netfilter hook (`skb->data` is the IP header).
pub(crate) struct IpSegment<'a> {
    skb: NonNull<bindings::sk_buff>,
    ihl: usize,
    hdr: TcpHeader,
    _skb: PhantomData<&'a mut bindings::sk_buff>,
}

impl<'a> IpSegment<'a> {
    /// Views a packet at a netfilter hook as a TCP segment, making its IP
    /// and TCP headers (options included) linear. `None` for anything else
    /// or a truncated packet.
    ///
    /// # Safety
    ///
    /// `skb` must be the packet of a netfilter hook call, at the IP header.
    pub(crate) unsafe fn from_netfilter(skb: *mut bindings::sk_buff) -> Option<Self> {
        // SAFETY: per the contract; `pskb_may_pull` makes bytes linear or
        // fails, and the reads below stay within what it made linear.
        unsafe {
            if !bindings::mptcp_rs_skb_is_ipv4(skb) {
                return None;
            }
            if !bindings::mptcp_rs_pskb_may_pull(skb, IP_HDR_MIN as u32) {
                return None;
            }
            let ip = (*skb).data;
            let ihl = usize::from(*ip & 0x0f) * 4;
            if ihl < IP_HDR_MIN || *ip.add(9) != IPPROTO_TCP {
                return None;
            }
            // Not a first fragment: no TCP header to read.
            let frag = u16::from_be_bytes([*ip.add(6), *ip.add(7)]);
            if frag & 0x1fff != 0 {
                return None;
            }
            if !bindings::mptcp_rs_pskb_may_pull(skb, (ihl + TCP_HDR) as u32) {
                return None;
            }
            let doff = usize::from(*(*skb).data.add(ihl + 12) >> 4) * 4;
            if doff < TCP_HDR || !bindings::mptcp_rs_pskb_may_pull(skb, (ihl + doff) as u32) {
                return None;
            }
            // Pulling may have moved the head: read again.
            let bytes = core::slice::from_raw_parts((*skb).data.add(ihl), doff);
            let hdr = TcpHeader::parse(bytes)?;
            Some(Self {
                skb: NonNull::new(skb)?,
                ihl,
                hdr,
                _skb: PhantomData,
            })
        }
    }

    pub(crate) fn header(&self) -> &TcpHeader {
        &self.hdr
    }

    fn ip(&self) -> *mut u8 {
        // SAFETY: the IP header is linear at `data` (from_netfilter).
        unsafe { (*self.skb.as_ptr()).data }
    }

    /// Source and destination IPv4 addresses, in network byte order.
    pub(crate) fn addrs(&self) -> ([u8; 4], [u8; 4]) {
        let mut s = [0u8; 4];
        let mut d = [0u8; 4];
        // SAFETY: the 20-byte IP header is linear.
        unsafe {
            core::ptr::copy_nonoverlapping(self.ip().add(12), s.as_mut_ptr(), 4);
            core::ptr::copy_nonoverlapping(self.ip().add(16), d.as_mut_ptr(), 4);
        }
        (s, d)
    }

    /// The TCP options.
    pub(crate) fn options(&self) -> &[u8] {
        // SAFETY: the TCP header, options included, is linear after the IP one.
        unsafe {
            core::slice::from_raw_parts(self.ip().add(self.ihl + TCP_HDR), self.hdr.len - TCP_HDR)
        }
    }

    /// The number of TCP payload bytes.
    pub(crate) fn payload_len(&self) -> usize {
        // SAFETY: the IP header is linear; tot_len is its bytes 2..4.
        let tot = unsafe { u16::from_be_bytes([*self.ip().add(2), *self.ip().add(3)]) } as usize;
        tot.saturating_sub(self.ihl + self.hdr.len)
    }

    /// The established (or connecting) full socket the packet is for: the
    /// one early demux attached, or else looked up in TCP's table (early
    /// demux does not run for packets that come with a route, loopback ones).
    pub(crate) fn established_sk(&self, net: &Net) -> Option<ARef<Sock>> {
        let skb = self.skb.as_ptr();
        // SAFETY: `skb->sk` of a received packet is set by early demux (with a
        // reference the skb holds) or null; checked to be a full socket.
        unsafe {
            let sk = (*skb).sk;
            if !sk.is_null() {
                return bindings::mptcp_rs_sk_fullsock(sk).then(|| Sock::from_raw(sk).to_ref());
            }
        }
        let ((s, d), th) = (self.addrs(), &self.hdr);
        // SAFETY: `net` is the packet's namespace; the lookup returns a socket
        // with a reference we own (or null).
        unsafe {
            let sk = bindings::mptcp_rs_tcp_lookup_established(
                net.as_raw(),
                skb,
                u32::from_ne_bytes(s),
                th.sport.to_be(),
                u32::from_ne_bytes(d),
                th.dport,
            );
            if sk.is_null() {
                return None;
            }
            if !bindings::mptcp_rs_sk_fullsock(sk) {
                // A request or time-wait socket: not a subflow.
                bindings::mptcp_rs_sock_gen_put(sk);
                return None;
            }
            Some(ARef::from_raw(NonNull::new_unchecked(sk.cast::<Sock>())))
        }
    }

    /// The socket of an outgoing packet: for a SYN/ACK, the request socket's
    /// listener (`req->rsk_listener`), with the request's ISNs.
    pub(crate) fn synack_listener(&self) -> Option<ARef<Sock>> {
        // SAFETY: at LOCAL_OUT `skb->sk` is the sending socket, held by the
        // skb; for a SYN/ACK it is a request socket whose listener is held by
        // the request.
        unsafe {
            let sk = (*self.skb.as_ptr()).sk;
            if sk.is_null() || (*sk).__sk_common.skc_state != super::sock::state::NEW_SYN_RECV {
                return None;
            }
            let listener = bindings::mptcp_rs_req_listener(sk);
            (!listener.is_null()).then(|| Sock::from_raw(listener).to_ref())
        }
    }

    /// Whether the outgoing packet belongs to no socket: TCP sends the
    /// SYN/ACK of a SYN cookie so (the request it built for it is gone).
    pub(crate) fn unowned(&self) -> bool {
        // SAFETY: reading the owner of a valid packet.
        unsafe { (*self.skb.as_ptr()).sk.is_null() }
    }

    /// Whether the packet's checksum is already known good (by the device or
    /// the stack); if not, checks it (`nf_ip_checksum`).
    pub(crate) fn checksum_ok(&self, hook: u32) -> bool {
        // SAFETY: the packet is valid; `nf_ip_checksum` verifies the TCP
        // checksum of a packet at a LOCAL_IN hook and records the result.
        unsafe {
            bindings::nf_ip_checksum(self.skb.as_ptr(), hook, self.ihl as u32, IPPROTO_TCP) == 0
        }
    }

    /// Turns an outgoing SYN/ACK (checksum left to the device or the stack,
    /// as TCP's are) into a RST acknowledging the same SYN, with `options`
    /// (a multiple of 4 bytes) as its only TCP options: a listener's way to
    /// refuse it after TCP answered. As RFC 9293 (3.10.7.1) builds the reset
    /// for a segment without ACK: sequence number zero, the SYN's sequence
    /// number plus one acknowledged (the SYN/ACK's already), window zero.
    pub(crate) fn synack_to_reset(&mut self, options: &[u8]) -> Result {
        if self.payload_len() != 0 {
            return Err(EINVAL);
        }
        self.set_options(options)?;
        // SAFETY: `set_options` made the headers private and linear.
        unsafe {
            let th = (*self.skb.as_ptr()).data.add(self.ihl);
            // Sequence number and window: covered by the checksum the
            // device computes from the TCP header on (CHECKSUM_PARTIAL); the
            // flags byte and these are not in the pseudo-header sum.
            core::ptr::write_bytes(th.add(4), 0, 4);
            *th.add(13) = flags::RST | flags::ACK;
            core::ptr::write_bytes(th.add(14), 0, 2);
        }
        self.hdr.seq = 0;
        self.hdr.window = 0;
        self.hdr.flags = flags::RST | flags::ACK;
        Ok(())
    }

    /// Appends `extra` (a multiple of 4 bytes) to the TCP options of an
    /// outgoing IP packet whose TCP checksum is left to the device or the
    /// stack (`CHECKSUM_PARTIAL`, as TCP's SYN/ACKs are), fixing the lengths
    /// and checksums.
    pub(crate) fn add_options(&mut self, extra: &[u8]) -> Result {
        let old = self.hdr.len - TCP_HDR;
        if extra.len() % 4 != 0 || old + extra.len() > 40 {
            return Err(EINVAL);
        }
        let mut area = [0u8; 40];
        area[..old].copy_from_slice(self.options());
        area[old..old + extra.len()].copy_from_slice(extra);
        self.set_options(&area[..old + extra.len()])
    }

    /// Makes `options` (a multiple of 4 bytes) the TCP options of an
    /// outgoing IP packet whose TCP checksum is left to the device or the
    /// stack (`CHECKSUM_PARTIAL`), fixing the lengths and checksums.
    fn set_options(&mut self, options: &[u8]) -> Result {
        if options.len() % 4 != 0 || options.len() > 40 {
            return Err(EINVAL);
        }
        let old = self.hdr.len - TCP_HDR;
        let delta = options.len() as isize - old as isize;
        let skb = self.skb.as_ptr();
        // SAFETY: reading the checksum state of our packet.
        if !unsafe { bindings::mptcp_rs_skb_csum_partial(skb) } {
            return Err(EINVAL);
        }
        // The IP header and the TCP header up to its options move by
        // `delta`; the options area between them and the payload is
        // written anew.
        let keep = self.ihl + TCP_HDR;
        // SAFETY: the packet is ours while the hook runs; cow_head makes the
        // headers private with room for `delta` more bytes; the headers are
        // linear; `delta` removes at most the old options.
        unsafe {
            bindings::mptcp_rs_skb_cow_head(skb, delta.max(0) as u32)
                .then_some(())
                .ok_or(ENOMEM)?;
            shift_headers(skb, keep, delta);
            let ip = (*skb).data;
            core::ptr::copy_nonoverlapping(options.as_ptr(), ip.add(keep), options.len());
            let th = ip.add(self.ihl);
            let doff = ((TCP_HDR + options.len()) / 4) as u8;
            *th.add(12) = (doff << 4) | (*th.add(12) & 0x0f);
            let tot = (u16::from_be_bytes([*ip.add(2), *ip.add(3)]) as isize + delta) as usize;
            let [hi, lo] = (tot as u16).to_be_bytes();
            *ip.add(2) = hi;
            *ip.add(3) = lo;
            bindings::mptcp_rs_skb_set_ip_headers(skb, self.ihl as c_int);
            bindings::ip_send_check(ip.cast());
            // CHECKSUM_PARTIAL: the check field holds the pseudo-header sum
            // (not inverted) and the device sums from the TCP header on.
            let tcp_len = tot - self.ihl;
            let sum = pseudo_header_sum(self.addrs(), tcp_len as u16);
            let [hi, lo] = sum.to_be_bytes();
            *th.add(16) = hi;
            *th.add(17) = lo;
            if !bindings::skb_partial_csum_set(skb, self.ihl as u16, 16) {
                return Err(EINVAL);
            }
        }
        self.hdr.len = TCP_HDR + options.len();
        Ok(())
    }
}

/// The folded ones' complement sum of the IPv4 pseudo-header of a TCP
/// segment (RFC 793): source, destination, protocol and TCP length.
fn pseudo_header_sum((saddr, daddr): ([u8; 4], [u8; 4]), tcp_len: u16) -> u16 {
    let words = [
        u16::from_be_bytes([saddr[0], saddr[1]]),
        u16::from_be_bytes([saddr[2], saddr[3]]),
        u16::from_be_bytes([daddr[0], daddr[1]]),
        u16::from_be_bytes([daddr[2], daddr[3]]),
        u16::from(IPPROTO_TCP),
        tcp_len,
    ];
    let mut sum: u32 = words.iter().map(|&w| u32::from(w)).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// An skb taken off a subflow's receive queue (by
/// [`super::tcp::TcpLocked::take_rx_skb`]): in no queue, charged to no
/// socket until [`RxSkb::charge_to`]. Its in-order data is the `len` bytes
/// at `offset` of its data, from subflow sequence number `seq`.
///
/// # Invariants
///
/// `skb` is a valid skb of which we own one reference, linked in no list;
/// `offset + len <= skb->len`.
pub(crate) struct RxSkb {
    skb: NonNull<bindings::sk_buff>,
    offset: u32,
    len: u32,
    seq: u32,
    fin: bool,
}

// SAFETY: an skb owned by nobody else may move and be freed on any thread.
unsafe impl Send for RxSkb {}

impl RxSkb {
    /// # Safety
    ///
    /// `skb` must be a valid skb, unlinked, whose reference the caller gives
    /// up; `offset + len <= skb->len`.
    pub(crate) unsafe fn from_unlinked(
        skb: NonNull<bindings::sk_buff>,
        offset: u32,
        len: u32,
        seq: u32,
        fin: bool,
    ) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self {
            skb,
            offset,
            len,
            seq,
            fin,
        }
    }

    /// The subflow sequence number of the first in-order byte.
    pub(crate) fn seq(&self) -> u32 {
        self.seq
    }

    /// The in-order bytes.
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// Whether the subflow's FIN came with it.
    pub(crate) fn fin(&self) -> bool {
        self.fin
    }

    /// The memory the skb takes (`truesize`).
    pub(crate) fn truesize(&self) -> u32 {
        // SAFETY: a field of a valid skb (type invariant).
        unsafe { (*self.skb.as_ptr()).truesize }
    }

    /// Charges the skb's memory to `sk` (in its `sk_rmem_alloc`, as
    /// `skb_set_owner_r` does) until the skb is freed, when its last
    /// [`SkbSpan`] goes. The skb holds a reference on `sk` meanwhile, so the
    /// socket cannot go before it.
    pub(crate) fn charge_to(&mut self, sk: &Sock) {
        let skb = self.skb.as_ptr();
        // SAFETY: the skb is ours and charged to nobody (type invariant: it
        // was orphaned when taken off its queue); `sk` is live, and the
        // reference taken here is dropped by `charged_rfree`, the
        // destructor, which undoes exactly this.
        unsafe {
            bindings::mptcp_rs_sock_hold(sk.as_raw());
            bindings::mptcp_rs_sk_rmem_add(sk.as_raw(), (*skb).truesize as i32);
            bindings::mptcp_rs_skb_set_owner(skb, sk.as_raw(), Some(charged_rfree));
        }
    }

    /// The in-order data as a span, which keeps our reference.
    pub(crate) fn into_span(self) -> SkbSpan {
        let this = core::mem::ManuallyDrop::new(self);
        // INVARIANT: the reference moves from `self` (never dropped) to the
        // span, with the same bytes.
        SkbSpan {
            skb: this.skb,
            offset: this.offset,
            len: this.len,
        }
    }
}

impl Drop for RxSkb {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant).
        unsafe { bindings::mptcp_rs_consume_skb(self.skb.as_ptr()) };
    }
}

/// Received data the connection holds: a counted reference to an skb that
/// is in no socket's queue, and the bytes `[offset, offset + len)` of its
/// data. Several spans may share one skb (its bytes belong to two
/// mappings); the skb is freed, and its memory uncharged, with the last.
///
/// # Invariants
///
/// `skb` is a valid skb, linked in no list, of which we hold one reference;
/// `offset + len <= skb->len`; its data is never written.
pub(crate) struct SkbSpan {
    skb: NonNull<bindings::sk_buff>,
    offset: u32,
    len: u32,
}

// SAFETY: a reference to an skb in no queue may move and be dropped on any
// thread (the reference count is atomic).
unsafe impl Send for SkbSpan {}
// SAFETY: shared references only read the span.
unsafe impl Sync for SkbSpan {}

impl SkbSpan {
    /// The bytes of the span.
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// Drops `n` bytes from the front of the span.
    pub(crate) fn trim_front(&mut self, n: u32) {
        let n = n.min(self.len);
        self.offset += n;
        self.len -= n;
    }

    /// Drops `n` bytes from the back of the span.
    pub(crate) fn trim_back(&mut self, n: u32) {
        self.len -= n.min(self.len);
    }

    /// Another reference to the same bytes (`skb_get`).
    pub(crate) fn share(&self) -> SkbSpan {
        // SAFETY: we hold a reference (type invariant), so another may be
        // taken.
        unsafe { bindings::mptcp_rs_skb_get(self.skb.as_ptr()) };
        // INVARIANT: a new reference, to the same bytes.
        SkbSpan {
            skb: self.skb,
            offset: self.offset,
            len: self.len,
        }
    }

    /// Splits off the first `n` bytes as a span of their own, sharing the
    /// skb (`skb_get`); `self` keeps the rest.
    pub(crate) fn split_front(&mut self, n: u32) -> SkbSpan {
        let n = n.min(self.len);
        // SAFETY: we hold a reference (type invariant), so another may be
        // taken.
        unsafe { bindings::mptcp_rs_skb_get(self.skb.as_ptr()) };
        // INVARIANT: a new reference, to bytes within ours.
        let front = SkbSpan {
            skb: self.skb,
            offset: self.offset,
            len: n,
        };
        self.trim_front(n);
        front
    }

    /// Copies the first `n` bytes of the span to the application (the
    /// message's iterator); they are then dropped from the span.
    pub(crate) fn copy_to(&mut self, msg: &mut MsgHdr, n: u32) -> Result {
        self.peek_to(msg, n)?;
        self.trim_front(n);
        Ok(())
    }

    /// Copies the first `n` bytes of the span to the application without
    /// consuming them (`MSG_PEEK`).
    pub(crate) fn peek_to(&self, msg: &mut MsgHdr, n: u32) -> Result {
        let n = n.min(self.len);
        // SAFETY: the span lies within the skb's data (type invariant);
        // `msg` is the caller's message, whose iterator the copy advances.
        to_result(unsafe {
            bindings::mptcp_rs_skb_copy_to_msg(
                self.skb.as_ptr(),
                self.offset as c_int,
                msg.as_raw(),
                n as c_int,
            )
        })
    }
}

impl Drop for SkbSpan {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant); the last one frees
        // the skb, whose destructor uncharges its socket.
        unsafe { bindings::mptcp_rs_consume_skb(self.skb.as_ptr()) };
    }
}

/// The destructor of an skb charged by [`RxSkb::charge_to`]: uncharges its
/// socket and drops the reference on it.
///
/// # Safety
///
/// Only the skb layer calls this, once, when it frees an skb that
/// [`RxSkb::charge_to`] charged.
unsafe extern "C" fn charged_rfree(skb: *mut bindings::sk_buff) {
    // SAFETY: `charge_to` set `skb->sk` to a socket it took a reference on,
    // and added `truesize` to its `sk_rmem_alloc`; both are undone once.
    unsafe {
        let sk = (*skb).sk;
        bindings::mptcp_rs_sk_rmem_add(sk, -((*skb).truesize as i32));
        bindings::mptcp_rs_sock_put(sk);
    }
}

// SPDX-License-Identifier: GPL-2.0

//! MPTCP options on the wire (RFC 8684, section 3): the hooks only. Each
//! turns a segment into a call of the connection core, or the core's
//! answer into option bytes; the decisions are the core's.
//!
//! Hook points (see `kernel_net::tcp_hooks` and `kernel_net::netfilter`):
//! - every segment a subflow sends passes [`MptcpHooks::transmit`], after
//!   TCP built its header: the core says which option it carries;
//! - every segment that reaches a subflow passes [`MptcpHooks::local_in`]
//!   (netfilter, before TCP): its options go to the core, which acts on
//!   them only if TCP will accept the segment;
//! - a listener's SYNs pass `syn_received` and the segments completing its
//!   handshakes `child_created` (TCP's own `icsk_af_ops` of the listener);
//! - its SYN/ACKs go out through neither, but pass `local_out` (netfilter).

use crate::kernel_net::{
    callbacks::Callbacks,
    net::Net,
    netfilter::{NfHookOps, NfHooks, Verdict, NF_INET_LOCAL_IN},
    skb::{flags, IpSegment, TcpHeader, TxSegment},
    sock::Sock,
    tcp::TcpSock,
    tcp_hooks::{HookedAfOps, TcpHooks},
};
use crate::keys::{self, RequestId};
use crate::mib::{self, Mib};
use crate::mpcb::Mpcb;
use crate::mptcp_core::{
    conn::{
        capable_synack,
        join::{listener_join_syn, JoinSyn, JOIN_RESET_REASON},
        listener_accepts_syn, listener_third_ack, Remote, SegmentIn, SegmentOut,
    },
    option::{MpTcpRst, MptcpOption, Received},
    tcpopt,
};
use crate::pernet::MptcpNet;
use crate::platform::Conn;
use crate::subflow::{SubflowCtx, REFUSED};
use kernel::prelude::*;

/// The hooks of the module.
pub(crate) struct MptcpHooks;

/// The hooked `icsk_af_ops` of our subflows.
pub(crate) static AF_OPS: HookedAfOps<MptcpHooks> = HookedAfOps::new();
/// The netfilter hooks, registered in every namespace.
pub(crate) static NF_OPS: NfHookOps<MptcpHooks> = NfHookOps::new();

/// Takes our hooks and callbacks off a subflow that goes back to TCP alone
/// (it may outlive the module).
pub(crate) fn unhook(sk: &Sock) {
    drop(Callbacks::<SubflowCtx>::adopt(sk));
    AF_OPS.uninstall(sk);
}

/// Puts our options `ours` beside TCP's own in `seg`: `Err` if they do not
/// fit together, else whether the segment took them.
fn put_options(sk: &Sock, seg: &mut TxSegment<'_>, ours: &[u8]) -> Result<bool, ()> {
    let mut merged = [0u8; tcpopt::MAX_TCP_OPTIONS];
    let len = tcpopt::merge(seg.options(), ours, &mut merged).map_err(|_| ())?;
    Ok(seg.set_options(sk, &merged[..len]).is_ok())
}

impl TcpHooks for MptcpHooks {
    /// A full DSS: DATA_ACK and mapping with 64-bit numbers and a checksum.
    const OPTION_ROOM: u16 = 28;

    fn transmit(sk: &Sock, seg: &mut TxSegment<'_>) {
        let Some(ctx) = SubflowCtx::of(sk) else {
            return;
        };
        let Some(tcp) = TcpSock::from_sock(sk) else {
            return;
        };
        let th = seg.header();
        if ctx.id == REFUSED {
            // A join refused at its third ACK: its reset tells the initiator
            // why, and (T = 0) that the path is not worth trying again.
            if th.has(flags::RST) {
                let rst = MptcpOption::MpTcpRst(MpTcpRst {
                    reason: JOIN_RESET_REASON,
                    ..MpTcpRst::default()
                });
                let mut ours = [0u8; 4];
                if let Ok(n) = rst.write(&mut ours) {
                    if put_options(sk, seg, &ours[..n]) == Ok(true) {
                        mib::inc(sk.net(), Mib::MPRstTx);
                    }
                }
            }
            return;
        }
        let out = SegmentOut {
            seq: th.seq,
            flags: th.flags,
            payload_len: seg.payload_len() as u32,
            rcv_nxt: tcp.snapshot().rcv_nxt,
        };
        let (option, signal) = ctx.mpcb.options_for(ctx.id, &out, tcp.timed_out());
        let Some(option) = option else {
            return;
        };
        let mut ours = [0u8; tcpopt::MAX_TCP_OPTIONS];
        let Ok(n) = option.write(&mut ours) else {
            return;
        };
        // A pure ACK may carry an address signal beside the DSS, if both fit
        // with TCP's own options; if not, the signal goes alone, as Linux
        // sends it (an ADD_ADDR with port and HMAC beside an 8-octet
        // DATA_ACK does not fit with timestamps): the DATA_ACK rides on the
        // next segment.
        // (Never in place of a handshake's option: the third ACK of
        // MP_JOIN or MP_CAPABLE is a pure ACK too.)
        let alone_ok = matches!(option, MptcpOption::Dss(_));
        if let Some(signal) = signal {
            if let Ok(m) = signal.write(&mut ours[n..]) {
                let sent = match put_options(sk, seg, &ours[..n + m]) {
                    Err(()) if alone_ok => put_options(sk, seg, &ours[n..n + m]),
                    beside => beside,
                };
                if let Ok(sent) = sent {
                    if sent {
                        ctx.mpcb.signal_sent(ctx.id, &signal);
                    }
                    return;
                }
            }
        }
        // No room even without SACK blocks cannot happen with the room TCP
        // left us; if it does, the segment goes without our option.
        let _ = put_options(sk, seg, &ours[..n]);
    }

    fn syn_received(
        listener: &Sock,
        th: &TcpHeader,
        options: &[u8],
        addrs: ([u8; 4], [u8; 4]),
    ) -> bool {
        let rx = Received::parse(options);
        if let Some(syn) = listener_join_syn(&rx) {
            return join_syn(listener, th, &syn, addrs);
        }
        if !listener_accepts_syn(&rx) {
            return true;
        }
        mib::inc(listener.net(), Mib::MPCapableSYNRX);
        keys::pending_add(client_request(listener, th, addrs, th.seq));
        true
    }

    fn child_created(
        listener: &Sock,
        child: &Sock,
        th: &TcpHeader,
        options: &[u8],
        addrs: ([u8; 4], [u8; 4]),
    ) {
        let id = client_request(listener, th, addrs, th.seq.wrapping_sub(1));
        let rx = Received::parse(options);
        if let Some(Some(req)) = keys::join_get(&id, true) {
            // A join: the child goes to its connection, if it is still there
            // (without it, the child is plain TCP that nobody asked for,
            // and the initiator's next segment meets a RST).
            if let (Some(mpcb), Some(child)) =
                (keys::lookup(req.syn.token), TcpSock::from_sock(child))
            {
                let (iss, irs) = (th.ack_seq.wrapping_sub(1), th.seq.wrapping_sub(1));
                mpcb.join_child(listener, child, &req, &rx, iss, irs);
            }
            return;
        }
        let Some(local) = keys::pending_take(&id) else {
            return;
        };
        let Some(child) = TcpSock::from_sock(child) else {
            keys::release_token(local.token);
            return;
        };
        let Some((remote_key, first_data)) = listener_third_ack(&rx, local.key) else {
            // No valid MP_CAPABLE on the ACK (a middlebox took it, or one we
            // must ignore): the child is plain TCP (RFC 8684, 3.1, 3.7).
            mib::inc(listener.net(), Mib::MPCapableFallbackACK);
            keys::release_token(local.token);
            return;
        };
        mib::inc(listener.net(), Mib::MPCapableACKRX);
        let remote = Remote {
            key: remote_key,
            idsn: keys::idsn(remote_key),
        };
        let iss = th.ack_seq.wrapping_sub(1);
        let irs = th.seq.wrapping_sub(1);
        let mut conn = Conn::server(local, remote, iss, irs, first_data);
        let net = MptcpNet::get(listener.net());
        if let Some(net) = net {
            if net.idsn_near_wrap() {
                conn.set_idsn_near_wrap();
            }
            conn.set_scheduler(net.scheduler());
            conn.set_opportunism(net.opportunism());
        }
        let fail = net.map_or(0, MptcpNet::fail_alloc);
        // The mpcb owns the token from here (it releases it when dropped).
        let Ok(mpcb) = Mpcb::new(conn, fail, GFP_ATOMIC) else {
            keys::release_token(local.token);
            return;
        };
        // The child belongs to the listener's accept queue until accepted;
        // its context goes with it (freed with it if never accepted).
        let token = local.token;
        if SubflowCtx::attach_detached(&mpcb, 0, child, false, Some(token)).is_ok() {
            // Joins may reach it before `accept` (a peer's path manager
            // opens subflows as soon as MPTCP is established); the child's
            // context takes the token back if it is never accepted.
            keys::publish(&mpcb, token);
        }
    }
}

/// A SYN with MP_JOIN reached `listener`: answered (its SYN/ACK carries our
/// HMAC) if it names a connection of ours that takes one more subflow;
/// refused with a RST otherwise.
fn join_syn(listener: &Sock, th: &TcpHeader, syn: &JoinSyn, addrs: ([u8; 4], [u8; 4])) -> bool {
    let id = client_request(listener, th, addrs, th.seq);
    if keys::join_get(&id, false).is_some() {
        // A retransmitted SYN: the same answer.
        return true;
    }
    let req = match keys::lookup(syn.token) {
        Some(mpcb) => mpcb.join_synack(listener.net(), syn, addrs.1),
        None => {
            mib::inc(listener.net(), Mib::MPJoinNoTokenFound);
            None
        }
    };
    // Refused: TCP's SYN/ACK goes out as a RST with MP_TCPRST (TCP ignores
    // what `conn_request` returns, and its own reset is not exported).
    keys::join_add(id, req)
}

/// The request that a segment from the client (`th`, addressed `src` to
/// `dst`) belongs to, the client's ISN being `client_isn`.
fn client_request(
    listener: &Sock,
    th: &TcpHeader,
    (src, dst): ([u8; 4], [u8; 4]),
    client_isn: u32,
) -> RequestId {
    RequestId {
        net: listener.net().as_raw() as usize,
        client: src,
        server: dst,
        client_port: th.sport,
        server_port: th.dport,
        client_isn,
    }
}

impl NfHooks for MptcpHooks {
    fn local_in(net: &Net, seg: &mut IpSegment<'_>) -> Verdict {
        let Some(sk) = seg.established_sk(net) else {
            return Verdict::Accept;
        };
        if !AF_OPS.is_installed(&sk) {
            return Verdict::Accept;
        }
        let (Some(ctx), Some(tcp)) = (SubflowCtx::of(&sk), TcpSock::from_sock(&sk)) else {
            return Verdict::Accept;
        };
        // Options of a corrupted segment must not touch our state; TCP will
        // drop the segment itself.
        if !seg.checksum_ok(NF_INET_LOCAL_IN) {
            return Verdict::Accept;
        }
        let rx = Received::parse(seg.options());
        if rx.malformed > 0 {
            mib::add(net, Mib::OptionMalformed, u64::from(rx.malformed));
        }
        let th = *seg.header();
        let segment = SegmentIn {
            seq: th.seq,
            ack: th.ack_seq,
            flags: th.flags,
            payload_len: seg.payload_len() as u32,
            options: &rx,
        };
        ctx.mpcb.segment_in(ctx.id, tcp, &segment, th.window);
        Verdict::Accept
    }

    fn local_out(net: &Net, seg: &mut IpSegment<'_>) -> Verdict {
        let th = *seg.header();
        if !(th.has(flags::SYN) && th.has(flags::ACK)) {
            return Verdict::Accept;
        }
        match seg.synack_listener() {
            Some(listener) if AF_OPS.is_installed(&listener) => {}
            // The SYN/ACK of a SYN cookie goes without its request: only
            // the request we recorded when our listener saw the SYN (below,
            // by namespace, addresses and ISN) tells that it is ours. The
            // third ACK comes back to the listener's `syn_recv_sock` with
            // both keys (RFC 8684, 3.1), as without a cookie.
            None if seg.unowned() => {}
            _ => return Verdict::Accept,
        }
        let (server, client) = seg.addrs();
        let id = RequestId {
            net: net.as_raw() as usize,
            client,
            server,
            client_port: th.dport,
            server_port: th.sport,
            client_isn: th.ack_seq.wrapping_sub(1),
        };
        if let Some(join) = keys::join_get(&id, false) {
            let mut ours = [0u8; 16];
            match join {
                Some(req) => {
                    // No room: the initiator resets the subflow, as
                    // without MP_JOIN.
                    if let Ok(n) = req.synack_option().write(&mut ours) {
                        let _ = seg.add_options(&ours[..n]);
                    }
                }
                None => {
                    // Refused: a RST saying why, instead of the SYN/ACK.
                    let rst = MptcpOption::MpTcpRst(MpTcpRst {
                        reason: JOIN_RESET_REASON,
                        ..MpTcpRst::default()
                    });
                    let Ok(n) = rst.write(&mut ours) else {
                        return Verdict::Drop;
                    };
                    if seg.synack_to_reset(&ours[..n]).is_err() {
                        return Verdict::Drop;
                    }
                    mib::inc(net, Mib::MPRstTx);
                }
            }
            return Verdict::Accept;
        }
        let Some(local) = keys::pending_key(&id) else {
            return Verdict::Accept;
        };
        let mut ours = [0u8; 12];
        let deny = MptcpNet::get(net).is_some_and(|n| !n.allow_join_initial());
        if capable_synack(local.key, deny)
            .write(&mut ours)
            .is_ok()
            // No room: the client will fall back, as with a plain SYN/ACK.
            && seg.add_options(&ours).is_ok()
        {
            mib::inc(net, Mib::MPCapableSYNACKTX);
        }
        Verdict::Accept
    }
}

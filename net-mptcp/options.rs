// SPDX-License-Identifier: GPL-2.0

//! MPTCP options on the wire (RFC 8684, section 3): what the segments of
//! our subflows carry, what the peer's segments tell us, and MP_CAPABLE on
//! the SYN/ACKs of our listeners.
//!
//! Hook points (see `kernel_net::tcp_hooks` and `kernel_net::netfilter`):
//! - every segment a subflow sends passes [`MptcpHooks::transmit`], after
//!   TCP built its header: we add MP_CAPABLE or DSS there;
//! - every segment that reaches a subflow passes [`MptcpHooks::local_in`]
//!   (netfilter, before TCP): we read MP_CAPABLE and DSS there;
//! - a listener's SYNs pass `syn_received` and the segments completing its
//!   handshakes `child_created` (TCP's own `icsk_af_ops` of the listener);
//! - its SYN/ACKs go out through neither, but pass `local_out` (netfilter).

use crate::kernel_net::{
    callbacks::{self, Callbacks},
    net::Net,
    netfilter::{NfHookOps, NfHooks, Verdict, NF_INET_LOCAL_IN},
    skb::{flags, IpSegment, TcpHeader, TxSegment},
    sock::Sock,
    tcp_hooks::{HookedAfOps, TcpHooks},
};
use crate::keys::{self, RequestId};
use crate::mib::{self, Mib};
use crate::mpcb::{DataFin, Mode, Mpcb};
use crate::mptcp_core::{
    mapping::Mapping,
    option::{
        CapableFlags, CapableForm, Dss, DssMapping, DssSeq, MpCapable, MptcpOption, Received,
    },
    seq, tcpopt,
};
use crate::subflow::{Stage, Subflow};
use kernel::prelude::*;

/// The hooks of the module.
pub(crate) struct MptcpHooks;

/// The hooked `icsk_af_ops` of our subflows.
pub(crate) static AF_OPS: HookedAfOps<MptcpHooks> = HookedAfOps::new();
/// The netfilter hooks, registered in every namespace.
pub(crate) static NF_OPS: NfHookOps<MptcpHooks> = NfHookOps::new();

/// MP_CAPABLE version 1 with HMAC-SHA256, no checksum required: what we
/// send on SYN, SYN/ACK and the third ACK.
fn mp_capable(form: CapableForm) -> MptcpOption {
    MptcpOption::MpCapable(MpCapable {
        version: 1,
        flags: CapableFlags::H,
        form,
    })
}

/// Takes our hooks and callbacks off a subflow that goes back to TCP alone
/// (it may outlive the module as an orphan).
pub(crate) fn unhook(sk: &Sock) {
    drop(Callbacks::<Subflow>::adopt(sk));
    AF_OPS.uninstall(sk);
}

/// The option a segment of `sub` carries, if any.
fn option_for(sub: &Subflow, th: &TcpHeader, payload: usize) -> Option<MptcpOption> {
    let mut st = sub.st.lock();
    match st.stage {
        Stage::SynSent if th.has(flags::SYN) && !th.has(flags::ACK) => {
            st.iss = th.seq;
            Some(mp_capable(CapableForm::Syn))
        }
        Stage::SynSent | Stage::Fallback => None,
        Stage::KeysPending | Stage::Established => {
            let mut conn = sub.mpcb.conn.lock();
            if conn.mode != Mode::Mptcp || th.has(flags::SYN) || th.has(flags::RST) {
                return None;
            }
            let remote = conn.remote?;
            let mapping = if payload > 0 {
                Subflow::sent_mapping(&mut st, th.seq)
            } else {
                None
            };
            if st.stage == Stage::KeysPending {
                // The peer may not have our keys yet: they go on our ACKs,
                // and the first data says which DSN it starts at (RFC 8684,
                // 3.1: MP_CAPABLE with data; implicitly IDSN + 1).
                match mapping {
                    None if payload == 0 => {
                        return Some(mp_capable(CapableForm::Ack {
                            sender_key: conn.local.key,
                            receiver_key: remote.key,
                        }))
                    }
                    Some((1, m)) => {
                        return Some(mp_capable(CapableForm::AckData {
                            sender_key: conn.local.key,
                            receiver_key: remote.key,
                            data_len: m.len.min(u32::from(u16::MAX)) as u16,
                            checksum: None,
                        }))
                    }
                    _ => {}
                }
            }
            let mut dss = Dss {
                data_ack: Some(DssSeq::Bits64(conn.rcv_nxt)),
                mapping: None,
                data_fin: false,
            };
            conn.data_ack_sent = conn.rcv_nxt;
            if let Some((offset, m)) = mapping {
                dss.mapping = Some(DssMapping {
                    dsn: DssSeq::Bits64(m.dsn),
                    subflow_seq: offset as u32,
                    data_len: m.len.min(u32::from(u16::MAX)) as u16,
                    checksum: None,
                });
            } else if let (0, DataFin::Sent(dsn)) = (payload, conn.data_fin) {
                // A DATA_FIN not on data: subflow sequence number 0, length 1.
                dss.mapping = Some(DssMapping {
                    dsn: DssSeq::Bits64(dsn),
                    subflow_seq: 0,
                    data_len: 1,
                    checksum: None,
                });
                dss.data_fin = true;
            }
            Some(MptcpOption::Dss(dss))
        }
    }
}

impl TcpHooks for MptcpHooks {
    /// A full DSS: DATA_ACK and mapping with 64-bit numbers and a checksum.
    const OPTION_ROOM: u16 = 28;

    fn transmit(sk: &Sock, seg: &mut TxSegment<'_>) {
        let Some(sub) = callbacks::events::<Subflow>(sk) else {
            return;
        };
        let Some(option) = option_for(&sub, seg.header(), seg.payload_len()) else {
            return;
        };
        match option {
            MptcpOption::MpCapable(MpCapable {
                form: CapableForm::Syn,
                ..
            }) => mib::inc(sk.net(), Mib::MPCapableSYNTX),
            MptcpOption::Dss(Dss { data_fin: true, .. }) => mib::inc(sk.net(), Mib::DataFinTx),
            _ => {}
        }
        let mut ours = [0u8; 28];
        let Ok(n) = option.write(&mut ours) else {
            return;
        };
        let mut merged = [0u8; tcpopt::MAX_TCP_OPTIONS];
        // No room even without SACK blocks cannot happen with the room TCP
        // left us; if it does, the segment goes without our option.
        let Ok(len) = tcpopt::merge(seg.options(), &ours[..n], &mut merged) else {
            return;
        };
        let _ = seg.set_options(sk, &merged[..len]);
    }

    fn syn_received(
        listener: &Sock,
        th: &TcpHeader,
        options: &[u8],
        (src, dst): ([u8; 4], [u8; 4]),
    ) {
        let rx = Received::parse(options);
        let Some(MpCapable {
            version: 1,
            form: CapableForm::Syn,
            flags,
        }) = rx.mp_capable
        else {
            return;
        };
        mib::inc(listener.net(), Mib::MPCapableSYNRX);
        let id = client_request(listener, th, (src, dst), th.seq);
        keys::pending_add(id, flags.checksum_required());
    }

    fn child_created(
        listener: &Sock,
        child: &Sock,
        th: &TcpHeader,
        options: &[u8],
        (src, dst): ([u8; 4], [u8; 4]),
    ) {
        let id = client_request(listener, th, (src, dst), th.seq.wrapping_sub(1));
        let Some((local, _checksum)) = keys::pending_take(&id) else {
            return;
        };
        let rx = Received::parse(options);
        let (remote_key, first_data) = match rx.mp_capable.map(|m| m.form) {
            Some(CapableForm::Ack {
                sender_key,
                receiver_key,
            }) if receiver_key == local.key => (sender_key, None),
            Some(CapableForm::AckData {
                sender_key,
                receiver_key,
                data_len,
                ..
            }) if receiver_key == local.key => (sender_key, Some(data_len)),
            // No MP_CAPABLE on the ACK (a middlebox took it), or not our key:
            // the child is plain TCP (RFC 8684, 3.7).
            _ => {
                mib::inc(listener.net(), Mib::MPCapableFallbackACK);
                keys::release_token(local.token);
                return;
            }
        };
        mib::inc(listener.net(), Mib::MPCapableACKRX);
        let Ok(mpcb) = Mpcb::new(local, GFP_ATOMIC) else {
            keys::release_token(local.token);
            return;
        };
        {
            let mut conn = mpcb.conn.lock();
            mpcb.establish(&mut conn, remote_key);
            conn.fully_established = true;
        }
        let iss = th.ack_seq.wrapping_sub(1);
        let irs = th.seq.wrapping_sub(1);
        let Ok(sub) = Subflow::new(mpcb.clone(), Stage::Established, iss, irs, GFP_ATOMIC) else {
            return;
        };
        if let Some(len) = first_data {
            record_first_data(&sub, len);
        }
        // The child belongs to the listener's accept queue until accepted;
        // its context goes with it (freed with it if never accepted).
        let _ = Callbacks::install_detached(child, sub);
    }
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

/// MP_CAPABLE with data: the mapping of the client's first data (subflow
/// offset 1, DSN = its IDSN + 1).
fn record_first_data(sub: &Subflow, data_len: u16) {
    let Some(remote) = sub.mpcb.conn.lock().remote else {
        return;
    };
    let mut st = sub.st.lock();
    let mapping = Mapping {
        subflow_seq: 1,
        dsn: remote.idsn.wrapping_add(1),
        data_len: u32::from(data_len),
        data_fin: false,
    };
    // A repeated MP_CAPABLE with data maps the same bytes again: no conflict.
    let _ = sub.record_received(&mut st, mapping);
}

/// What a segment reaching `sub` tells us. Returns whether room was freed
/// in the send buffer (a DATA_ACK advanced).
fn incoming(net: &Net, sub: &Subflow, seg: &IpSegment<'_>) -> bool {
    let th = *seg.header();
    let rx = Received::parse(seg.options());
    if rx.malformed > 0 {
        mib::add(net, Mib::OptionMalformed, u64::from(rx.malformed));
    }
    let mut st = sub.st.lock();
    match st.stage {
        Stage::SynSent => {
            if !(th.has(flags::SYN) && th.has(flags::ACK)) || th.ack_seq != st.iss.wrapping_add(1) {
                return false;
            }
            match rx.mp_capable {
                Some(MpCapable {
                    version: 1,
                    form: CapableForm::SynAck { sender_key },
                    ..
                }) => {
                    mib::inc(net, Mib::MPCapableSYNACKRX);
                    st.irs = th.seq;
                    st.stage = Stage::KeysPending;
                    let mut conn = sub.mpcb.conn.lock();
                    sub.mpcb.establish(&mut conn, sender_key);
                }
                // The server (or a middlebox on the way) speaks TCP.
                _ => {
                    mib::inc(net, Mib::MPCapableFallbackSYNACK);
                    st.stage = Stage::Fallback;
                    sub.mpcb.conn.lock().mode = Mode::Fallback;
                }
            }
            false
        }
        Stage::Fallback => false,
        Stage::KeysPending | Stage::Established => {
            let mut conn = sub.mpcb.conn.lock();
            if conn.mode != Mode::Mptcp {
                return false;
            }
            let mut freed = false;
            if let Some(dss) = rx.dss {
                if st.stage == Stage::KeysPending {
                    // The peer has our keys (RFC 8684, 3.1).
                    st.stage = Stage::Established;
                    conn.fully_established = true;
                }
                if let Some(ack) = dss.data_ack {
                    let ack = match ack {
                        DssSeq::Bits64(v) => v,
                        DssSeq::Bits32(v) => seq::expand_dsn(conn.snd_una, v),
                    };
                    freed = Mpcb::data_acked(&mut conn, ack);
                }
                if let Some(m) = dss.mapping {
                    let dsn = match m.dsn {
                        DssSeq::Bits64(v) => v,
                        DssSeq::Bits32(v) => seq::expand_dsn(conn.rcv_nxt, v),
                    };
                    let reference = Subflow::rx_offset(&st, th.seq).unwrap_or(1);
                    if let Some(mapping) =
                        Mapping::from_dss(reference, m.subflow_seq, dsn, m.data_len, dss.data_fin)
                    {
                        if let Some(fin) = mapping.data_fin_dsn() {
                            conn.peer_data_fin = Some(fin);
                        }
                        drop(conn);
                        if !sub.record_received(&mut st, mapping) {
                            mib::inc(net, Mib::DSSNotMatching);
                        }
                    }
                }
            } else if let Some(MpCapable {
                form: CapableForm::AckData { data_len, .. },
                ..
            }) = rx.mp_capable
            {
                // The client's first data, its third ACK lost or not.
                drop(conn);
                drop(st);
                record_first_data(sub, data_len);
            } else if st.stage == Stage::KeysPending
                && (seg.payload_len() > 0 || seq::after32(th.ack_seq, st.iss.wrapping_add(1)))
            {
                // Data, or an ACK of our data, without DSS before the peer
                // showed it has our keys: it fell back to TCP (a middlebox
                // took MP_CAPABLE off our third ACK). So do we (RFC 8684, 3.7).
                mib::inc(net, Mib::MPFallbackNoDSS);
                st.stage = Stage::Fallback;
                conn.mode = Mode::Fallback;
            }
            freed
        }
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
        let Some(sub) = callbacks::events::<Subflow>(&sk) else {
            return Verdict::Accept;
        };
        // Options of a corrupted segment must not touch our state; TCP will
        // drop the segment itself.
        if !seg.checksum_ok(NF_INET_LOCAL_IN) {
            return Verdict::Accept;
        }
        if incoming(net, &sub, seg) {
            sub.mpcb.schedule();
        }
        Verdict::Accept
    }

    fn local_out(seg: &mut IpSegment<'_>) -> Verdict {
        let th = *seg.header();
        if !(th.has(flags::SYN) && th.has(flags::ACK)) {
            return Verdict::Accept;
        }
        let Some(listener) = seg.synack_listener() else {
            return Verdict::Accept;
        };
        if !AF_OPS.is_installed(&listener) {
            return Verdict::Accept;
        }
        let (server, client) = seg.addrs();
        let id = RequestId {
            net: listener.net().as_raw() as usize,
            client,
            server,
            client_port: th.dport,
            server_port: th.sport,
            client_isn: th.ack_seq.wrapping_sub(1),
        };
        let Some(local) = keys::pending_key(&id) else {
            return Verdict::Accept;
        };
        let mut ours = [0u8; 12];
        if mp_capable(CapableForm::SynAck { sender_key: local.key }).write(&mut ours).is_ok()
            // No room: the client will fall back, as with a plain SYN/ACK.
            && seg.add_options(&ours).is_ok()
        {
            mib::inc(listener.net(), Mib::MPCapableSYNACKTX);
        }
        Verdict::Accept
    }
}

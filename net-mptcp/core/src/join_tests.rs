// SPDX-License-Identifier: GPL-2.0

//! Host tests of MP_JOIN (RFC 8684, section 3.2) between two connection
//! cores, every option through the codec; the HMACs also checked against
//! the `hmac` crate, an implementation independent of ours.

use super::*;
use crate::conn::join::{listener_join_syn, JoinRefused, JOIN_ACK_TRIES, JOIN_RESET_REASON};
use crate::option::MpJoin;
use hmac::{Hmac, Mac};

const CLIENT_KEY: u64 = 0x1111;
const SERVER_KEY: u64 = 0x2222;

/// HMAC-SHA256 of `msg` under `key`, by the `hmac` crate.
fn oracle(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

fn two_keys(first: u64, second: u64) -> Vec<u8> {
    [first.to_be_bytes(), second.to_be_bytes()].concat()
}

fn two_nonces(first: u32, second: u32) -> Vec<u8> {
    [first.to_be_bytes(), second.to_be_bytes()].concat()
}

#[test]
fn a_joined_subflow_carries_data_both_ways() {
    let mut p = Pair::connect();
    let id = p.join(0x3000, 0x4000);
    assert_eq!(id, 1);
    p.client.collect();
    p.server.collect();
    assert!(p.client.events.contains(&Event::Joined { id: 1 }));
    assert!(p.server.events.contains(&Event::Joined { id: 1 }));
    for (name, n) in [("MPJoinSynTx", 1), ("MPJoinSynAckRx", 1)] {
        assert_eq!(p.client.count(name), n, "{name}");
    }
    for (name, n) in [("MPJoinSynRx", 1), ("MPJoinAckRx", 1)] {
        assert_eq!(p.server.count(name), n, "{name}");
    }
    // The new subflow's path is the faster one: the default scheduler puts
    // every new octet on it, each way.
    for end in [&mut p.client, &mut p.server] {
        end.tcp[0].as_mut().unwrap().srtt_us = 50_000;
        end.tcp[1].as_mut().unwrap().srtt_us = 10_000;
    }
    let up = stream(30_000, 21);
    let down = stream(20_000, 22);
    p.client.write(&up);
    p.server.write(&down);
    p.drive();
    assert!(
        p.server.received == up,
        "{} octets up",
        p.server.received.len()
    );
    assert!(
        p.client.received == down,
        "{} octets down",
        p.client.received.len()
    );
    assert_eq!(p.client.conn.snd_una(), p.client.conn.write_seq());
    assert_eq!(p.server.conn.snd_una(), p.server.conn.write_seq());
    for end in [&p.client, &p.server] {
        assert_eq!(end.tcp[0].as_ref().unwrap().data_sent, 0);
    }
    assert_eq!(p.client.tcp[1].as_ref().unwrap().data_sent, 30_000);
    assert_eq!(p.server.tcp[1].as_ref().unwrap().data_sent, 20_000);
    assert_eq!(
        p.client.count("Reinjected") + p.server.count("Reinjected"),
        0
    );
}

#[test]
fn a_retransmitted_join_syn_is_the_same_join() {
    let mut p = Pair::connect();
    let (id, first) = p.join_syn(0x3000, false);
    let again = SegmentOut {
        seq: 0x3000,
        flags: flags::SYN,
        payload_len: 0,
        rcv_nxt: 0,
    };
    // TCP sends the SYN again (its SYN timer): the same MP_JOIN, one join.
    let syn = p.client.conn.option_for(id, &again).expect("MP_JOIN again");
    let again = Received::parse(&write_option(syn));
    assert_eq!(again.mp_join, first.mp_join);
    p.client.collect();
    assert_eq!(p.client.count("MPJoinSynTx"), 1);
    // A second subflow is a second join.
    p.join_syn(0x5000, false);
    p.client.collect();
    assert_eq!(p.client.count("MPJoinSynTx"), 2);
}

#[test]
fn the_join_hmacs_are_rfc_8684s() {
    let mut p = Pair::connect();
    let (iss_c, iss_s) = (0x3000, 0x4000);
    let (id, syn) = p.join_syn(iss_c, true);
    let js = listener_join_syn(&syn).unwrap();
    assert!(js.backup);
    let r_a = js.nonce;
    let req = p
        .server
        .conn
        .join_synack(&js, 2, 0x5555_aaaa, false)
        .unwrap();
    let Some(MpJoin::SynAck {
        sender_truncated_hmac,
        sender_random: r_b,
        addr_id,
        backup,
    }) = Received::parse(&write_option(req.synack_option())).mp_join
    else {
        panic!("no MP_JOIN on the SYN/ACK");
    };
    assert_eq!((r_b, addr_id, backup), (0x5555_aaaa, 2, false));
    // HMAC-B: key Key-B || Key-A, message R-B || R-A; its leftmost 64 bits.
    let b = oracle(&two_keys(SERVER_KEY, CLIENT_KEY), &two_nonces(r_b, r_a));
    assert_eq!(sender_truncated_hmac.to_be_bytes(), b[..8]);
    p.join_synack_to_client(id, iss_c, iss_s, &write_option(req.synack_option()));
    let ack = p.join_third_ack(id, iss_c, iss_s).unwrap();
    let Some(MpJoin::Ack { sender_hmac }) = ack.mp_join else {
        panic!("no MP_JOIN on the third ACK");
    };
    // HMAC-A: key Key-A || Key-B, message R-A || R-B; its leftmost 160 bits.
    let a = oracle(&two_keys(CLIENT_KEY, SERVER_KEY), &two_nonces(r_a, r_b));
    assert_eq!(sender_hmac, a[..20]);
    // The backup wish of each end is kept on both.
    let sid = p
        .server
        .conn
        .join_ack(&req, &ack, iss_s, iss_c, JOIN_LIMIT)
        .unwrap();
    let join = *p.server.conn.subflow(sid).unwrap().join().unwrap();
    assert!(join.remote_backup && !join.local_backup);
    assert!(p.server.conn.subflow(sid).unwrap().backup());
    let join = *p.client.conn.subflow(id).unwrap().join().unwrap();
    assert!(join.local_backup && !join.remote_backup);
    assert_eq!((join.local_id, join.remote_id), (1, 2));
    p.client.collect();
    assert_eq!(p.client.count("MPJoinSynAckRx"), 1);
}

#[test]
fn a_syn_ack_without_the_right_hmac_resets_the_joining_subflow() {
    for tamper in [true, false] {
        let mut p = Pair::connect();
        let (iss_c, iss_s) = (0x3000, 0x4000);
        let (id, req) = p.join_answered(iss_c, false, 7);
        let options = if tamper {
            let Some(MptcpOption::MpJoin(MpJoin::SynAck {
                backup,
                addr_id,
                sender_truncated_hmac,
                sender_random,
            })) = Some(req.synack_option())
            else {
                unreachable!()
            };
            write_option(MptcpOption::MpJoin(MpJoin::SynAck {
                backup,
                addr_id,
                sender_truncated_hmac: sender_truncated_hmac ^ 1,
                sender_random,
            }))
        } else {
            // A middlebox took MP_JOIN off the SYN/ACK: no fallback for an
            // additional subflow.
            Vec::new()
        };
        p.join_synack_to_client(id, iss_c, iss_s, &options);
        p.client.collect();
        assert!(p.client.events.contains(&Event::ResetSubflow {
            id,
            reason: JOIN_RESET_REASON
        }));
        let counter = if tamper {
            "MPJoinSynAckHMacFailure"
        } else {
            "MPJoinSynAckNoJoin"
        };
        assert_eq!(p.client.count(counter), 1);
        assert_eq!(p.client.count("MPJoinSynAckRx"), 0);
        assert!(p.join_third_ack(id, iss_c, iss_s).is_none());
        assert_eq!(p.client.conn.subflow(id).unwrap().stage(), Stage::Closed);
        // The connection itself goes on.
        assert_eq!(p.client.conn.mode(), Mode::Mptcp);
    }
}

#[test]
fn a_third_ack_without_the_right_hmac_is_refused() {
    let wrong = Received::parse(&write_option(MptcpOption::MpJoin(MpJoin::Ack {
        sender_hmac: [7; 20],
    })));
    for third_ack in [wrong, Received::default()] {
        let mut p = Pair::connect();
        let (_, req) = p.join_answered(0x3000, false, 7);
        assert_eq!(
            p.server
                .conn
                .join_ack(&req, &third_ack, 0x4000, 0x3000, JOIN_LIMIT),
            Err(JOIN_RESET_REASON)
        );
        p.server.collect();
        assert_eq!(p.server.count("MPJoinAckHMacFailure"), 1);
        assert_eq!(p.server.count("MPJoinAckRx"), 0);
        assert_eq!(p.server.conn.live_subflows(), 1);
        assert!(!p
            .server
            .events
            .iter()
            .any(|e| matches!(e, Event::Joined { .. })));
    }
}

#[test]
fn joins_beyond_the_limit_or_without_mptcp_are_refused() {
    let mut p = Pair::connect();
    // The initiator keeps to its own limit.
    assert_eq!(
        p.client.conn.open_join(1, 1, false, 0),
        Err(JoinRefused::Limit)
    );
    // Limit 1: three SYNs are answered (the limit is applied at the third
    // ACK, as Linux applies it), the first third ACK joins, the others
    // find the limit reached.
    let mut reqs = Vec::new();
    let mut js = None;
    for (iss_c, nonce) in [(0x3000u32, 11u32), (0x5000, 12), (0x7000, 13)] {
        let (_, syn) = p.join_syn(iss_c, false);
        let syn = listener_join_syn(&syn).unwrap();
        reqs.push((
            iss_c,
            p.server.conn.join_synack(&syn, 2, nonce, false).unwrap(),
        ));
        js = Some(syn);
    }
    for (n, &(iss_c, req)) in reqs.iter().enumerate() {
        let id = n as SubflowId + 1;
        let iss_s = iss_c + 0x1000;
        p.join_synack_to_client(id, iss_c, iss_s, &write_option(req.synack_option()));
        let ack = p.join_third_ack(id, iss_c, iss_s).unwrap();
        let joined = p.server.conn.join_ack(&req, &ack, iss_s, iss_c, 1);
        if n == 0 {
            assert_eq!(joined, Ok(1));
        } else {
            assert_eq!(joined, Err(JOIN_RESET_REASON));
        }
    }
    p.server.collect();
    assert_eq!(p.server.count("MPJoinSynRx"), 3);
    assert_eq!(p.server.count("MPJoinAckRx"), 1);
    assert_eq!(p.server.count("MPJoinRefused"), 2);
    assert_eq!(p.server.conn.live_subflows(), 2);
    let js = js.unwrap();
    // A connection that never spoke MPTCP takes no join.
    let mut plain = Conn::plain(key(0x3333));
    assert_eq!(
        plain.join_synack(&js, 2, 13, false),
        Err(JoinRefused::NotMptcp)
    );
    assert_eq!(
        plain.open_join(1, 1, false, JOIN_LIMIT),
        Err(JoinRefused::NotMptcp)
    );
}

#[test]
fn the_third_ack_goes_again_until_acknowledged_and_no_data_goes_before() {
    let mut p = Pair::connect();
    p.client.conn.set_rto(300_000);
    p.client.now = 1_000;
    let id = p.join_to_third_ack(0x3000, 0x4000, false) as SubflowId;
    let stage = |p: &mut Pair| p.client.conn.subflow(id).unwrap().stage();
    assert_eq!(stage(&mut p), Stage::JoinPreEstablished);
    // Data written now goes on the first subflow, never on this one.
    p.client.write(&stream(4_000, 23));
    let room = TxRoom {
        room: 1 << 20,
        mss: MSS,
        write_seq: 0x3001,
        packets_out: 0,
        nodelay: true,
        size_goal: 0,
        more: false,
        snd_nxt: Some(0x3001),
    };
    assert_eq!(p.client.conn.poll_transmit(id, &room), None);
    // Unacknowledged, the third ACK goes again at the RTO, with backoff,
    // JOIN_ACK_TRIES times in all (TCP's own ACK of the SYN/ACK was the
    // first); then the subflow is given up.
    let mut deadline = p.client.conn.poll_timeout().expect("armed");
    assert_eq!(deadline, 301_000);
    let mut wait = 300_000;
    for _ in 1..JOIN_ACK_TRIES {
        p.client.conn.handle_timeout(deadline - 1);
        assert_eq!(p.client.conn.take_join_acks(), 0);
        p.client.conn.handle_timeout(deadline);
        assert_eq!(p.client.conn.take_join_acks(), 1 << id);
        assert!(matches!(
            p.join_third_ack(id, 0x3000, 0x4000).and_then(|r| r.mp_join),
            Some(MpJoin::Ack { .. })
        ));
        wait *= 2;
        let next = p.client.conn.poll_timeout().unwrap();
        assert_eq!(next, deadline + wait);
        deadline = next;
    }
    p.client.conn.handle_timeout(deadline);
    assert_eq!(p.client.conn.take_join_acks(), 0);
    assert_eq!(stage(&mut p), Stage::Closed);
    p.client.collect();
    assert_eq!(p.client.count("MPJoinAckTimeout"), 1);
    assert!(p.client.events.contains(&Event::ResetSubflow {
        id,
        reason: JOIN_RESET_REASON
    }));
    assert_eq!(p.client.conn.poll_timeout(), None);
}

#[test]
fn a_listener_takes_only_a_syn_s_mp_join() {
    let syn = MptcpOption::MpJoin(MpJoin::Syn {
        backup: false,
        addr_id: 3,
        receiver_token: 0xdead_beef,
        sender_random: 9,
    });
    let js = listener_join_syn(&Received::parse(&write_option(syn))).unwrap();
    assert_eq!(
        (js.token, js.nonce, js.addr_id, js.backup),
        (0xdead_beef, 9, 3, false)
    );
    // With MP_CAPABLE beside it, the SYN opens a new connection.
    let both = [write_option(capable(CapableForm::Syn)), write_option(syn)].concat();
    assert_eq!(listener_join_syn(&Received::parse(&both)), None);
    let ack = MptcpOption::MpJoin(MpJoin::Ack {
        sender_hmac: [1; 20],
    });
    assert_eq!(
        listener_join_syn(&Received::parse(&write_option(ack))),
        None
    );
}

#[test]
fn a_join_refused_for_good_is_marked_and_a_transient_refusal_is_not() {
    use crate::option::MpTcpRst;
    for transient in [false, true] {
        let mut p = Pair::connect();
        let iss_c = 0x3000;
        let (id, _) = p.join_syn(iss_c, false);
        let rst = Received::parse(&write_option(MptcpOption::MpTcpRst(MpTcpRst {
            transient,
            reason: JOIN_RESET_REASON,
            ..MpTcpRst::default()
        })));
        // A RST that does not acknowledge our SYN is not one TCP takes.
        let stray = SegmentIn {
            seq: 0,
            ack: iss_c.wrapping_add(7),
            flags: flags::RST | flags::ACK,
            payload_len: 0,
            options: &rst,
        };
        let window = TcpWindow::default();
        p.client.conn.handle_segment(id, &stray, &window, 0, 0);
        assert!(!p.client.conn.refused_for_good(id));
        p.client.collect();
        assert_eq!(p.client.count("MPRstRx"), 0);
        // The answer to our SYN: permanent unless the T flag is set.
        let answer = SegmentIn {
            ack: iss_c.wrapping_add(1),
            ..stray
        };
        p.client.conn.handle_segment(id, &answer, &window, 0, 0);
        assert_eq!(p.client.conn.refused_for_good(id), !transient);
        p.client.collect();
        assert_eq!(p.client.count("MPRstRx"), 1);
        // The next subflow in that slot starts without the mark.
        p.client.conn.remove_subflow(id);
        assert!(!p.client.conn.refused_for_good(id));
    }
}

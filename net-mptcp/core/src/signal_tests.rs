// SPDX-License-Identifier: GPL-2.0

//! Host tests of address signalling (ADD_ADDR, its echo, REMOVE_ADDR,
//! MP_PRIO) between two connection cores, on pure ACKs through the codec;
//! the ADD_ADDR HMAC also checked against the `hmac` crate.

use super::*;
use crate::conn::signal::ADD_ADDR_TRIES;
use crate::option::{AddAddr, MpPrio};
use core::net::{IpAddr, Ipv4Addr};
use hmac::{Hmac, Mac};

const ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 5, 2));

/// The client's pure ACKs on subflow `id` (an ACK made due first).
fn client_acks(p: &mut Pair, id: usize) -> Vec<Wire> {
    if p.client.conn.take_ack_wanted() {
        p.client.tcp[id].as_mut().unwrap().ack_due = true;
    }
    p.client.emit(id)
}

/// A pair past the handshake's key echo: the server sent data with DSS, so
/// the client's ACKs carry a DSS, not MP_CAPABLE (which leaves ADD_ADDR no
/// room beside timestamps).
fn established() -> Pair {
    let mut p = Pair::connect();
    p.server.write(b"keys");
    p.drive();
    assert_eq!(p.client.received, b"keys");
    p
}

fn signal_of(w: &Wire) -> Received {
    Received::parse(&w.options)
}

#[test]
fn an_add_addr_is_echoed_and_its_retransmissions_stop() {
    let mut p = established();
    p.client.conn.set_add_addr_timeout(1_000_000);
    p.client.conn.announce_addr(5, ADDR, None).unwrap();
    let acks = client_acks(&mut p, 0);
    assert_eq!(acks.len(), 1);
    let add = signal_of(&acks[0]).add_addr.expect("ADD_ADDR on the ACK");
    assert_eq!((add.addr_id, add.addr, add.port), (5, ADDR, None));
    // The rightmost 64 bits of HMAC(Key-A || Key-B, id || address || port)
    // (no port: 0), by the client, Key-A being its own.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(
        &[0x1111u64.to_be_bytes(), 0x2222u64.to_be_bytes()].concat(),
    )
    .unwrap();
    mac.update(&[5, 10, 0, 5, 2, 0, 0]);
    let full: [u8; 32] = mac.finalize().into_bytes().into();
    assert_eq!(
        add.truncated_hmac,
        Some(u64::from_be_bytes(full[24..].try_into().unwrap()))
    );
    // The DSS still rides on the same ACK.
    assert!(signal_of(&acks[0]).dss.is_some());
    p.server.deliver(0, &acks[0]);
    p.server.collect();
    assert!(p.server.events.contains(&Event::AddrAnnounced {
        id: 5,
        addr: ADDR,
        port: None
    }));
    assert_eq!(p.server.count("AddAddr"), 1);
    // The server echoes it on its next (pure) ACK.
    let echo = p.server.emit(0);
    assert_eq!(echo.len(), 1);
    let e = signal_of(&echo[0]).add_addr.expect("echo");
    assert!(e.echo());
    p.client.deliver(0, &echo[0]);
    p.client.collect();
    p.server.collect();
    assert_eq!(p.client.count("EchoAdd"), 1);
    assert_eq!(p.server.count("EchoAddTx"), 1);
    // Echoed: nothing goes again.
    assert_eq!(p.client.conn.poll_timeout(), None);
    assert!(!p.client.conn.signals_pending());
    // An echo that comes after the address was withdrawn still counts.
    p.client.conn.remove_addr(5).unwrap();
    p.client.deliver(0, &echo[0]);
    p.client.collect();
    assert_eq!(p.client.count("EchoAdd"), 2);
}

#[test]
fn an_add_addr_goes_again_until_echoed_then_is_given_up() {
    let mut p = established();
    p.client.conn.set_add_addr_timeout(1_000_000);
    p.client.conn.announce_addr(5, ADDR, Some(8080)).unwrap();
    let mut now = 0;
    for round in 1..=u32::from(ADD_ADDR_TRIES) {
        p.client.now = now;
        let acks = client_acks(&mut p, 0);
        assert!(signal_of(&acks[0]).add_addr.is_some(), "round {round}");
        // Lost: no echo. It goes again one timeout later.
        let due = p.client.conn.poll_timeout().expect("armed");
        assert_eq!(due, now + 1_000_000);
        p.client.conn.handle_timeout(due - 1);
        assert!(!p.client.conn.signals_pending());
        p.client.conn.handle_timeout(due);
        now = due;
    }
    p.client.collect();
    assert_eq!(p.client.count("AddAddrTx"), u32::from(ADD_ADDR_TRIES));
    assert!(!p.client.conn.signals_pending());
    assert_eq!(p.client.conn.poll_timeout(), None);
}

#[test]
fn an_add_addr_with_a_wrong_hmac_is_dropped() {
    let mut p = Pair::connect();
    let tcp = p.server.tcp[0].as_ref().unwrap();
    let forged = AddAddr {
        addr_id: 9,
        addr: ADDR,
        port: None,
        truncated_hmac: Some(0x0123_4567_89ab_cdef),
    };
    let w = Wire {
        window: 1 << 24,
        seq: tcp.rcv_nxt,
        ack: tcp.snd_nxt,
        flags: flags::ACK,
        payload: Vec::new(),
        options: write_option(MptcpOption::AddAddr(forged)),
    };
    p.server.deliver(0, &w);
    p.server.collect();
    assert_eq!(p.server.count("AddAddrDrop"), 1);
    assert_eq!(p.server.count("AddAddr"), 0);
    assert!(!p
        .server
        .events
        .iter()
        .any(|e| matches!(e, Event::AddrAnnounced { .. })));
    assert!(!p.server.conn.signals_pending());
}

#[test]
fn remove_addr_is_reported_per_id_and_ends_our_announcement() {
    let mut p = established();
    p.client.conn.announce_addr(5, ADDR, None).unwrap();
    p.client.conn.announce_addr(6, ADDR, Some(1)).unwrap();
    // Withdrawn before it went: only the REMOVE_ADDR goes.
    p.client.conn.remove_addr(5).unwrap();
    p.client.conn.remove_addr(6).unwrap();
    let acks = client_acks(&mut p, 0);
    let rx = signal_of(&acks[0]);
    assert!(rx.add_addr.is_none());
    assert_eq!(rx.remove_addr.expect("REMOVE_ADDR").ids(), [5, 6]);
    p.server.deliver(0, &acks[0]);
    p.server.collect();
    assert_eq!(p.server.count("RmAddr"), 2);
    for id in [5, 6] {
        assert!(p.server.events.contains(&Event::AddrRemoved { id }));
    }
    assert!(!p.client.conn.signals_pending());
    assert_eq!(p.client.conn.poll_timeout(), None);
}

#[test]
fn mp_prio_marks_the_subflow_it_comes_on_as_a_backup() {
    let mut p = Pair::connect();
    let id = p.join(0x3000, 0x4000);
    p.client.conn.set_subflow_backup(id as SubflowId, true);
    assert!(p.client.conn.subflow(id as SubflowId).unwrap().backup());
    // Not on the other subflow, nor on a segment with data.
    let data_seg = SegmentOut {
        seq: 0x3001,
        flags: flags::ACK,
        payload_len: 100,
        rcv_nxt: 0x4001,
    };
    assert_eq!(p.client.conn.signal_for(id as SubflowId, &data_seg), None);
    assert!(client_acks(&mut p, 0)
        .iter()
        .all(|w| signal_of(w).mp_prio.is_none()));
    p.client.tcp[id].as_mut().unwrap().ack_due = true;
    let acks = p.client.emit(id);
    assert_eq!(signal_of(&acks[0]).mp_prio, Some(MpPrio { backup: true }));
    assert!(!p.server.conn.subflow(id as SubflowId).unwrap().backup());
    p.server.deliver(id, &acks[0]);
    p.server.collect();
    assert_eq!(p.server.count("MPPrioRx"), 1);
    assert!(p.server.conn.subflow(id as SubflowId).unwrap().backup());
    assert!(!p.server.conn.subflow(0).unwrap().backup());
}

#[test]
fn an_add_addr_shows_the_peer_has_our_key() {
    // Before any data, the client's ACKs repeat both keys (MP_CAPABLE);
    // the server's ADD_ADDR, whose HMAC is keyed with them, ends that: the
    // echo goes beside a DSS.
    let mut p = Pair::connect();
    p.server.conn.announce_addr(7, ADDR, None).unwrap();
    assert!(p.server.conn.take_ack_wanted());
    p.server.tcp[0].as_mut().unwrap().ack_due = true;
    let add = p.server.emit(0);
    assert!(signal_of(&add[0]).add_addr.is_some());
    p.client.tcp[0].as_mut().unwrap().ack_due = true;
    let before = p.client.emit(0);
    assert!(signal_of(&before[0]).mp_capable.is_some());
    p.client.deliver(0, &add[0]);
    let echo = p.client.emit(0);
    let rx = signal_of(&echo[0]);
    assert!(rx.add_addr.is_some_and(|a| a.echo()));
    assert!(rx.mp_capable.is_none());
    assert!(rx.dss.is_some());
}

// SPDX-License-Identifier: GPL-2.0

//! Host tests of where new data goes when several subflows are
//! established: the scheduler asked from `poll_transmit`.

use super::*;
use crate::sched::{AnyScheduler, RoundRobin};

/// A connected pair with a second subflow (a backup if `backup`), the
/// client's subflow 0 on a 50 ms path and subflow 1 on a 10 ms one.
fn two_paths(backup: bool) -> Pair {
    let mut p = Pair::connect();
    let id = p.join_with(0x3000, 0x4000, backup);
    assert_eq!(id, 1);
    for (id, srtt_us) in [(0, 50_000), (1, 10_000)] {
        p.client.tcp[id].as_mut().unwrap().srtt_us = srtt_us;
    }
    p
}

fn sent(p: &Pair, id: usize) -> u64 {
    p.client.tcp[id].as_ref().unwrap().data_sent
}

#[test]
fn the_slower_subflow_asking_leaves_the_data_to_the_faster_one() {
    let mut p = two_paths(false);
    p.client.write(&stream(10_000, 31));
    p.client.push(0);
    assert_eq!(p.client.tcp[0].as_ref().unwrap().queue.len(), 0);
    assert_eq!(p.client.conn.take_push_wanted(), 1 << 1);
    assert_eq!(p.client.conn.take_push_wanted(), 0);
    p.client.push(1);
    assert_eq!(p.client.tcp[1].as_ref().unwrap().queue.len(), 10_000);
    assert_eq!(p.client.conn.take_push_wanted(), 0);
}

#[test]
fn data_spills_to_the_slower_subflow_when_the_faster_one_is_full() {
    let mut p = two_paths(false);
    p.client.tcp[1].as_mut().unwrap().sndbuf = 8_000;
    let data = stream(200_000, 32);
    p.client.write(&data);
    p.drive();
    assert!(p.server.received == data);
    // The fast path took what its buffer allowed each round, the slow one
    // the rest.
    assert!(sent(&p, 1) >= 8_000, "fast path: {}", sent(&p, 1));
    assert!(sent(&p, 0) > 0, "slow path: {}", sent(&p, 0));
    assert_eq!(sent(&p, 0) + sent(&p, 1), 200_000);
}

#[test]
fn a_backup_subflow_stays_idle_while_another_can_send() {
    let mut p = two_paths(true);
    assert!(p.client.conn.subflow(1).unwrap().backup());
    let data = stream(100_000, 33);
    p.client.write(&data);
    // The backup, though faster, asks first and gets nothing.
    p.client.push(1);
    assert_eq!(p.client.tcp[1].as_ref().unwrap().queue.len(), 0);
    assert_eq!(p.client.conn.take_push_wanted(), 1 << 0);
    p.drive();
    assert!(p.server.received == data);
    assert_eq!(sent(&p, 1), 0);
    assert_eq!(sent(&p, 0), 100_000);
    // With the other subflow's buffer full, the backup still waits (Linux's
    // rule: backups only when no other subflow is available at all).
    p.client.tcp[0].as_mut().unwrap().sndbuf = 1;
    p.client.write(&stream(5_000, 34));
    p.client.push(0);
    p.client.push(1);
    assert_eq!(p.client.tcp[1].as_ref().unwrap().queue.len(), 0);
}

#[test]
fn round_robin_alternates_between_the_subflows() {
    let mut p = two_paths(false);
    p.client
        .conn
        .set_scheduler(AnyScheduler::RoundRobin(RoundRobin::new()));
    // One write per round: each becomes a mapping on the next subflow.
    for round in 0..6u8 {
        p.client.write(&stream(3_000, 40 + round));
        p.step();
    }
    p.drive();
    assert_eq!(p.server.received.len(), 18_000);
    assert_eq!((sent(&p, 0), sent(&p, 1)), (9_000, 9_000));
}

// SPDX-License-Identifier: GPL-2.0

//! Host tests of where new data goes when several subflows are
//! established: the scheduler asked from `poll_transmit`.

use super::*;
use crate::sched::{self, AnyScheduler, RoundRobin};

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

/// With RTTs an eighth apart or less (subflows of one path), the subflow
/// that asks keeps the data: no push is asked of the other, which would
/// cost a round through the work item.
#[test]
fn a_subflow_nearly_as_fast_as_the_fastest_keeps_the_data_it_asks_for() {
    let mut p = two_paths(false);
    p.client.tcp[0].as_mut().unwrap().srtt_us = 11_000;
    // Subflow 1's RTT sampled (nothing to send yet).
    p.client.push(1);
    p.client.write(&stream(10_000, 35));
    p.client.push(0);
    assert_eq!(p.client.tcp[0].as_ref().unwrap().queue.len(), 10_000);
    assert_eq!(p.client.conn.take_push_wanted(), 0);
    // A quarter slower: the faster one is asked.
    p.client.tcp[0].as_mut().unwrap().srtt_us = 12_500;
    p.client.write(&stream(10_000, 36));
    p.client.push(0);
    assert_eq!(p.client.tcp[0].as_ref().unwrap().queue.len(), 10_000);
    assert_eq!(p.client.conn.take_push_wanted(), 1 << 1);
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
fn data_queued_unsent_fills_a_subflows_window() {
    // Both windows hold 10 segments; TCP's buffers are unlimited. The fast
    // subflow, asking alone (as on each of its ACKs), takes one mapping:
    // with it queued and unsent its window is full, and the rest waits for
    // the other subflow instead of piling up behind it.
    let mut p = two_paths(false);
    for id in 0..2 {
        p.client.tcp[id].as_mut().unwrap().cwnd = 10;
    }
    // (A push samples its subflow: neither counts as never sampled.)
    p.client.push(0);
    p.client.push(1);
    let data = stream(300_000, 35);
    p.client.write(&data);
    p.client.push(1);
    let queued = p.client.tcp[1].as_ref().unwrap().queue.len();
    assert!(
        (1..=MAX_MAPPING as usize).contains(&queued),
        "fast subflow queued {queued}"
    );
    assert_eq!(p.client.conn.take_push_wanted(), 1 << 0);
    p.client.push(0);
    assert!(!p.client.tcp[0].as_ref().unwrap().queue.is_empty());
    p.drive();
    assert!(p.server.received == data);
    assert_eq!(sent(&p, 0) + sent(&p, 1), 300_000);
}

#[test]
fn a_new_mapping_holds_at_most_one_window_of_its_subflow() {
    // The slow subflow has a window of 2 segments, the fast one 10. With
    // 300 KB waiting, each takes at most one window when it asks, not a
    // GSO burst of 64 KB: what the slow one took leaves within its next
    // RTTs instead of holding the head of the peer's window for seconds.
    let mut p = two_paths(false);
    for (id, cwnd) in [(0, 2), (1, 10)] {
        p.client.tcp[id].as_mut().unwrap().cwnd = cwnd;
    }
    p.client.push(0);
    p.client.push(1);
    let data = stream(300_000, 36);
    p.client.write(&data);
    let mss = p.client.tcp[0].as_ref().unwrap().mss as usize;
    p.client.push(1);
    let fast = p.client.tcp[1].as_ref().unwrap().queue.len();
    assert!((1..=10 * mss).contains(&fast), "fast subflow queued {fast}");
    p.client.push(0);
    let slow = p.client.tcp[0].as_ref().unwrap().queue.len();
    assert!((1..=2 * mss).contains(&slow), "slow subflow queued {slow}");
    p.drive();
    assert!(p.server.received == data);
    assert_eq!(sent(&p, 0) + sent(&p, 1), 300_000);
}

#[test]
fn one_subflow_maps_what_its_buffer_takes_whatever_its_window() {
    // Alone, a subflow's TCP is the only queue: its window does not cut
    // the mappings (which end their skbs).
    let mut p = Pair::connect();
    p.client.tcp[0].as_mut().unwrap().cwnd = 2;
    p.client.push(0);
    p.client.write(&stream(200_000, 37));
    p.client.push(0);
    let queued = p.client.tcp[0].as_ref().unwrap().queue.len();
    let mss = p.client.tcp[0].as_ref().unwrap().mss as usize;
    assert!(queued > 2 * mss, "queued {queued}");
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

/// Two paths, the client's subflow 0 holding the head of the window on a
/// path that stalls (its RTT grown to 200 ms), subflow 1 on a 10 ms one,
/// and a server whose receive buffer holds 64 KB: the data subflow 1
/// carries beyond the gap fills the server's window.
fn head_stuck_on_a_slow_path(opportunism: Opportunism) -> (Pair, Vec<u8>) {
    head_stuck_on_a_path(opportunism, false)
}

/// As [`head_stuck_on_a_slow_path`]; the stalled subflow's TCP is
/// `recovering` from a loss.
fn head_stuck_on_a_path(opportunism: Opportunism, recovering: bool) -> (Pair, Vec<u8>) {
    let mut p = Pair::connect();
    p.server.rcv_limit = Some(65_536);
    assert_eq!(p.join(0x5000, 0x6000), 1);
    p.client.conn.set_opportunism(opportunism);
    // (Subflow 1's window holds more than the server's: it is never full.)
    for (id, srtt_us, cwnd) in [(0, 1_000, 40), (1, 10_000, 200)] {
        let tcp = p.client.tcp[id].as_mut().unwrap();
        tcp.srtt_us = srtt_us;
        tcp.cwnd = cwnd;
        tcp.ssthresh = 30;
    }
    // (Each push samples its subflow: subflow 1's RTT is known.)
    p.client.push(1);
    // The head goes on subflow 0, then its path stalls.
    let head = stream(20_000, 41);
    p.client.write(&head);
    p.client.push(0);
    assert_eq!(p.client.tcp[0].as_ref().unwrap().queue.len(), 20_000);
    let tcp = p.client.tcp[0].as_mut().unwrap();
    tcp.stalled = true;
    tcp.srtt_us = 200_000;
    tcp.recovering = recovering;
    let rest = stream(300_000, 42);
    p.client.write(&rest);
    p.drive();
    let mut data = head;
    data.extend_from_slice(&rest);
    (p, data)
}

#[test]
fn without_opportunistic_retransmission_a_stalled_head_blocks_the_window() {
    let (p, data) = head_stuck_on_a_slow_path(Opportunism::default());
    // Only the data-level timer (not fired here) would help: the server
    // got nothing in order, and holds what its window allowed beyond.
    assert!(p.server.received.is_empty());
    assert!(p.server.conn.rx_queued() > 0);
    assert!(p.server.conn.rx_queued() <= 65_536 - 20_000);
    assert!(p.server.received.len() < data.len());
    assert_eq!(p.client.count("OpportunisticRetransmit"), 0);
}

#[test]
fn the_head_of_a_full_window_goes_again_on_the_faster_subflow() {
    let (mut p, data) = head_stuck_on_a_slow_path(Opportunism {
        retransmit: true,
        penalize: true,
    });
    assert!(
        p.server.received == data,
        "received {}",
        p.server.received.len()
    );
    let resent = p.client.count("OpportunisticRetransmit");
    assert!((20_000..=2 * 20_000).contains(&resent), "resent {resent}");
    // The slow subflow was penalised once (its RTT is 200 ms; no time
    // passed): its window and threshold halved.
    assert_eq!(p.client.count("Penalized"), 1);
    assert_eq!(p.client.conn.take_penalty(), Some(0));
    assert_eq!(p.client.conn.take_penalty(), None);
    assert_eq!(sched::penalty_window(40, 30, false), Some((20, 15)));
}

#[test]
fn a_subflow_recovering_from_a_loss_is_not_penalised() {
    let (mut p, data) = head_stuck_on_a_path(
        Opportunism {
            retransmit: true,
            penalize: true,
        },
        true,
    );
    // The head goes again on the fast subflow; the slow one's window is
    // left to its TCP, which just reduced it for the loss.
    assert!(p.server.received == data);
    assert!(p.client.count("OpportunisticRetransmit") >= 20_000);
    assert_eq!(p.client.count("Penalized"), 0);
    assert_eq!(p.client.conn.take_penalty(), None);
}

#[test]
fn penalisation_alone_resends_nothing() {
    let (mut p, _) = head_stuck_on_a_slow_path(Opportunism {
        retransmit: false,
        penalize: true,
    });
    assert!(p.server.received.is_empty());
    assert_eq!(p.client.count("OpportunisticRetransmit"), 0);
    assert_eq!(p.client.conn.take_penalty(), Some(0));
}

#[test]
fn the_connection_survives_the_loss_of_its_initial_subflow() {
    let mut p = Pair::connect();
    assert!(!p.client.conn.has_other_subflow(0));
    assert_eq!(p.join(0x7000, 0x8000), 1);
    assert!(p.client.conn.has_other_subflow(0));
    assert!(p.client.conn.has_other_subflow(1));
    // Data on the initial subflow, whose path then dies with it.
    p.client.tcp[1].as_mut().unwrap().srtt_us = 50_000;
    p.client.tcp[0].as_mut().unwrap().srtt_us = 1_000;
    p.client.push(1);
    let data = stream(100_000, 51);
    p.client.write(&data);
    p.client.push(0);
    let tcp = p.client.tcp[0].as_mut().unwrap();
    assert!(!tcp.queue.is_empty());
    tcp.cut = true;
    p.client.emit(0);
    let moved = p.client.conn.initial_subflow_closed(true);
    assert_eq!(moved, 100_000);
    assert!(!p.client.conn.has_other_subflow(1));
    p.client.tcp[0] = None;
    p.drive();
    assert!(p.server.received == data);
    assert_eq!(p.client.count("InitialSubflowLost"), 1);
    assert_eq!(p.client.count("Reinjected"), 100_000);
}

// SPDX-License-Identifier: GPL-2.0

//! Fuzzes the connection core with what the network can send it.
//!
//! A connection (client or server, decided by the input) is driven by a
//! sequence of operations decoded from the input: segments with arbitrary
//! options bytes, sequence and acknowledgment numbers (inside or outside
//! the subflow's window), in-order data under whatever mappings those
//! options set up, and the application's and the kernel's own calls
//! (writes, transmissions, the option of an outgoing segment, timeouts,
//! reads, subflows joining and failing). Nothing may panic, and after every
//! operation:
//! - what is readable never exceeds what is queued;
//! - `snd_una <= snd_nxt <= write_seq + 1` in the data sequence space;
//! - every option the connection asks to send encodes, fits a segment, and
//!   parses back to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mptcp_core::conn::{
    capable, flags, Connection, Platform, Remote, SegmentIn, SegmentOut, TcpWindow, TxRoom,
};
use mptcp_core::crypto::{LocalKey, Sha256};
use mptcp_core::mapping::{MapEntry, SentMapping};
use mptcp_core::option::{CapableForm, MptcpOption, Received};
use mptcp_core::sender::SentEntry;
use mptcp_core::seq::before64;
use sha2::Digest;
use std::collections::BTreeMap;

struct HostSha256(sha2::Sha256);

impl Sha256 for HostSha256 {
    fn new() -> Self {
        Self(sha2::Sha256::new())
    }
    fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data);
    }
    fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

struct Host;

impl Platform for Host {
    type Sha256 = HostSha256;
    type Payload = Vec<u8>;
    type RxQueue = BTreeMap<u64, Vec<u8>>;
    type Sent = BTreeMap<u64, SentEntry>;
    type RxMaps = BTreeMap<u64, MapEntry>;
    type TxMaps = BTreeMap<u64, SentMapping>;
    fn rx_queue() -> Self::RxQueue {
        BTreeMap::new()
    }
    fn sent() -> Self::Sent {
        BTreeMap::new()
    }
    fn rx_maps() -> Self::RxMaps {
        BTreeMap::new()
    }
    fn tx_maps() -> Self::TxMaps {
        BTreeMap::new()
    }
}

/// Reads fixed-size fields off the input; zeroes once it runs out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
    fn u8(&mut self) -> u8 {
        self.bytes::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.bytes())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes())
    }
    fn slice(&mut self, max: usize) -> Vec<u8> {
        let n = (self.u8() as usize).min(max).min(self.0.len());
        let v = self.0[..n].to_vec();
        self.0 = &self.0[n..];
        v
    }
}

fn check_option(o: &MptcpOption) {
    let mut buf = [0u8; 40];
    let n = o.write(&mut buf).expect("our option encodes");
    assert!(n <= 28, "our option is {n} octets");
    let rx = Received::parse(&buf[..n]);
    assert_eq!(rx.malformed, 0);
    assert!(!rx.is_empty(), "our option parses");
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let server = input.u8() & 1 == 1;
    let local = LocalKey::from_key::<HostSha256>(0x1111);
    let remote_key = 0x2222u64;
    let (iss, irs) = (1000u32, 9000u32);
    let mut conn = if server {
        let idsn = LocalKey::from_key::<HostSha256>(remote_key).idsn;
        Connection::<Host>::server(
            local,
            Remote {
                key: remote_key,
                idsn,
            },
            iss,
            irs,
            None,
        )
    } else {
        let mut c = Connection::<Host>::client(local);
        let _ = c.option_for(
            0,
            &SegmentOut {
                seq: iss,
                flags: flags::SYN,
                payload_len: 0,
                rcv_nxt: 0,
            },
        );
        let mut buf = [0u8; 40];
        let n = capable(CapableForm::SynAck {
            sender_key: remote_key,
        })
        .write(&mut buf)
        .unwrap();
        let rx = Received::parse(&buf[..n]);
        let seg = SegmentIn {
            seq: irs,
            ack: iss + 1,
            flags: flags::SYN | flags::ACK,
            payload_len: 0,
            options: &rx,
        };
        c.handle_segment(0, &seg, &TcpWindow::default(), 0, 0);
        c
    };
    // Per subflow: the next sequence numbers of each direction.
    let mut rcv_nxt = [irs.wrapping_add(1); 8];
    let mut snd = [iss.wrapping_add(1); 8];
    let mut now = 0u64;
    let mut ops = 0;
    while !input.0.is_empty() && ops < 500 {
        ops += 1;
        let op = input.u8();
        let id = u32::from(input.u8() % 8);
        let i = id as usize;
        match op % 12 {
            // A segment with arbitrary options, in or out of the window.
            0..=3 => {
                let options = input.slice(40);
                let rx = Received::parse(&options);
                let seq = if op & 0x10 != 0 {
                    input.u32()
                } else {
                    rcv_nxt[i]
                };
                let ack = if op & 0x20 != 0 { input.u32() } else { snd[i] };
                let payload_len = u32::from(input.u16() % 3000);
                let window = TcpWindow {
                    rcv_nxt: rcv_nxt[i],
                    rcv_wup: rcv_nxt[i],
                    rcv_wnd: 65535,
                    snd_una: iss.wrapping_add(1),
                    snd_max: snd[i],
                    max_window: 65535,
                };
                let seg = SegmentIn {
                    seq,
                    ack,
                    flags: input.u8(),
                    payload_len,
                    options: &rx,
                };
                conn.handle_segment(id, &seg, &window, u32::from(input.u16()), now);
            }
            // In-order data on the subflow.
            4 | 5 => {
                let len = input.u16() as usize % 4000;
                let _ = conn.handle_data(id, rcv_nxt[i], vec![0xab; len]);
                rcv_nxt[i] = rcv_nxt[i].wrapping_add(len as u32);
            }
            6 => conn.app_write(u64::from(input.u16())),
            7 => {
                let room = TxRoom {
                    room: u32::from(input.u16()),
                    mss: u32::from(input.u16() % 1500) + 1,
                    write_seq: snd[i],
                    packets_out: u32::from(input.u8() % 3),
                    nodelay: input.u8() & 1 == 1,
                    size_goal: u32::from(input.u16()),
                    more: input.u8() & 1 == 1,
                    snd_nxt: (input.u8() & 1 == 1).then_some(snd[i]),
                };
                if let Some(t) = conn.poll_transmit(id, &room) {
                    assert!(t.len > 0 && t.len <= room.room);
                    snd[i] = snd[i].wrapping_add(t.len);
                }
                conn.on_transmit(now);
            }
            8 => {
                let seg = SegmentOut {
                    seq: snd[i].wrapping_sub(u32::from(input.u16())),
                    flags: input.u8(),
                    payload_len: u32::from(input.u16() % 3000),
                    rcv_nxt: rcv_nxt[i],
                };
                if let Some(o) = conn.option_for(id, &seg) {
                    check_option(&o);
                }
            }
            9 => {
                now += u64::from(input.u32());
                let _ = conn.handle_timeout(now);
                let _ = conn.data_fin_due(id, now);
                if input.u8() & 1 == 1 {
                    conn.shutdown_write();
                }
            }
            10 => {
                while conn.pop_readable().is_some() {}
                let _ = conn.prune_out_of_order(u64::from(input.u16()));
            }
            _ => match input.u8() % 3 {
                0 => {
                    let _ = conn.add_subflow(input.u32(), input.u32());
                }
                1 => {
                    let _ = conn.subflow_closed(id);
                }
                _ => conn.remove_subflow(id),
            },
        }
        while conn.poll_event().is_some() {}
        conn.take_counts(|_, _| {});
        assert!(conn.readable() <= conn.rx_queued());
        let (una, nxt, end) = (
            conn.snd_una(),
            conn.snd_nxt(),
            conn.write_seq().wrapping_add(1),
        );
        assert!(!before64(nxt, una), "snd_nxt before snd_una");
        assert!(!before64(end, nxt), "snd_nxt past what was written");
    }
});

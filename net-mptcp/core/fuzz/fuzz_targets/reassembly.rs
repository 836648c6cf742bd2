// SPDX-License-Identifier: GPL-2.0

//! Fuzzes the connection-level reassembly queue against a shadow model.
//!
//! The input is decoded into the peer's IDSN, a byte budget, and a sequence
//! of operations: inserts of pieces of one data stream at DSNs near
//! `rcv_nxt` (on a coarse grid, so that they often coincide, or finely), or
//! anywhere in the 64-bit space, with allocation failures on
//! demand; pops; budget changes; DATA_FIN notes and consumption; pruning of
//! the out-of-order queue. The model keeps the set of queued DSN offsets,
//! one per octet, and checks after every operation that:
//! - each outcome is the one the model predicts, and a refused insert
//!   changes nothing;
//! - delivered octets are exactly the stream from the IDSN on, each once;
//! - the queue's byte count equals the model's, and an insert never takes it
//!   past the budget;
//! - the DATA_ACK (`rcv_nxt`) is the end of the octets received contiguously
//!   from the reader's position (`read_nxt`), and pruning never drops one
//!   of them.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mptcp_core::reassembly::{DataFinError, Insert, Reassembly};
use mptcp_core::seq::before64;
use mptcp_core::store::SeqMap;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// The octet of the stream at DSN offset `o` from the IDSN.
fn stream(o: u64) -> u8 {
    (o ^ (o >> 8) ^ (o >> 16).wrapping_mul(13) ^ (o >> 40)) as u8
}

/// The stream's octets at DSN offsets `[o, o + len)`, wrapping.
fn piece(o: u64, len: usize) -> Vec<u8> {
    (0..len as u64).map(|i| stream(o.wrapping_add(i))).collect()
}

/// A BTreeMap store whose insertions fail while `fail` is set.
struct FlakyMap {
    map: BTreeMap<u64, Vec<u8>>,
    fail: Rc<Cell<bool>>,
}

impl SeqMap<Vec<u8>> for FlakyMap {
    fn insert(&mut self, key: u64, value: Vec<u8>) -> Result<(), Vec<u8>> {
        if self.fail.get() {
            return Err(value);
        }
        assert!(
            self.map.insert(key, value).is_none(),
            "key {key} inserted twice"
        );
        Ok(())
    }
    fn remove(&mut self, key: u64) -> Option<Vec<u8>> {
        self.map.remove(&key)
    }
    fn first(&mut self) -> Option<(u64, &mut Vec<u8>)> {
        self.map.iter_mut().next().map(|(k, v)| (*k, v))
    }
    fn last(&mut self) -> Option<(u64, &mut Vec<u8>)> {
        self.map.iter_mut().next_back().map(|(k, v)| (*k, v))
    }
    fn floor(&mut self, key: u64) -> Option<(u64, &mut Vec<u8>)> {
        self.map.range_mut(..=key).next_back().map(|(k, v)| (*k, v))
    }
    fn ceil(&mut self, key: u64) -> Option<(u64, &mut Vec<u8>)> {
        self.map.range_mut(key..).next().map(|(k, v)| (*k, v))
    }
    fn len(&self) -> usize {
        self.map.len()
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
    fn i16(&mut self) -> i16 {
        i16::from_le_bytes(self.bytes())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.bytes())
    }
}

/// The shadow model: DSN offsets from the IDSN. `rcv_nxt` here is the
/// reader's position (the queue's `read_nxt`).
struct Model {
    idsn: u64,
    rcv_nxt: u64,
    queued: BTreeSet<u64>,
    budget: u64,
    data_fin: Option<u64>,
    fin_consumed: bool,
}

impl Model {
    fn rcv_nxt_dsn(&self) -> u64 {
        self.idsn.wrapping_add(self.rcv_nxt)
    }

    /// The end of the octets queued contiguously from the reader's
    /// position: the DATA_ACK, before a consumed DATA_FIN.
    fn contiguous(&self) -> u64 {
        let mut end = self.rcv_nxt;
        while self.queued.contains(&end) {
            end += 1;
        }
        end
    }

    /// The DATA_ACK offset: past a consumed DATA_FIN, one more.
    fn data_ack(&self) -> u64 {
        self.contiguous() + u64::from(self.fin_consumed)
    }

    /// The offset of `dsn` as the queue places it: behind rcv_nxt if it is
    /// before it in the wrapping space.
    fn place(&self, dsn: u64) -> Result<u64, u64> {
        let ahead = dsn.wrapping_sub(self.rcv_nxt_dsn());
        if before64(dsn, self.rcv_nxt_dsn()) {
            Err(ahead.wrapping_neg())
        } else {
            self.rcv_nxt.checked_add(ahead).ok_or(u64::MAX)
        }
    }

    /// What inserting `len` octets at `dsn` must do, and the octet offsets
    /// it adds.
    fn predict(&self, dsn: u64, len: u64) -> (Insert<()>, Vec<u64>) {
        if len == 0 {
            return (Insert::Duplicate, vec![]);
        }
        let (start, len) = match self.place(dsn) {
            Err(behind) if behind >= len => return (Insert::Duplicate, vec![]),
            Err(behind) => (self.rcv_nxt, len - behind),
            Ok(start) => (start, len),
        };
        if start == u64::MAX {
            return (Insert::OverBudget(()), vec![]);
        }
        let Some(end) = start.checked_add(len) else {
            return (Insert::OverBudget(()), vec![]);
        };
        if self.data_fin.is_some_and(|fin| end > fin) {
            return (Insert::BeyondDataFin(()), vec![]);
        }
        let new: Vec<u64> = (start..end).filter(|o| !self.queued.contains(o)).collect();
        if new.is_empty() {
            return (Insert::Duplicate, vec![]);
        }
        if self.queued.len() as u64 + new.len() as u64 > self.budget {
            return (Insert::OverBudget(()), vec![]);
        }
        (
            Insert::Queued {
                bytes: new.len() as u64,
            },
            new,
        )
    }
}

/// Drops the payload of an outcome, to compare it with a prediction.
fn shape(outcome: &Insert<Vec<u8>>) -> Insert<()> {
    match outcome {
        Insert::Queued { bytes } => Insert::Queued { bytes: *bytes },
        Insert::Duplicate => Insert::Duplicate,
        Insert::OverBudget(_) => Insert::OverBudget(()),
        Insert::NoMemory(_) => Insert::NoMemory(()),
        Insert::BeyondDataFin(_) => Insert::BeyondDataFin(()),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let idsn = input.u64();
    let budget = u64::from(input.u16());
    let fail = Rc::new(Cell::new(false));
    let store = FlakyMap {
        map: BTreeMap::new(),
        fail: fail.clone(),
    };
    let mut q = Reassembly::new(store, idsn, budget);
    let mut m = Model {
        idsn,
        rcv_nxt: 1,
        queued: BTreeSet::new(),
        budget,
        data_fin: None,
        fin_consumed: false,
    };

    let mut ops = 0;
    while !input.0.is_empty() && ops < 2000 {
        ops += 1;
        let op = input.u8();
        match op % 8 {
            // Inserts near rcv_nxt, or anywhere, possibly failing to allocate.
            0..=3 => {
                let (dsn, len) = match op % 8 {
                    // On a coarse grid near rcv_nxt: many exact overlaps.
                    0 | 1 => {
                        let delta = i64::from(input.u8() as i8) * 4;
                        (
                            m.rcv_nxt_dsn().wrapping_add(delta as u64),
                            u64::from(input.u8() % 32) * 4,
                        )
                    }
                    // Any offset and length within a few segments.
                    2 => {
                        let delta = i64::from(input.i16());
                        (
                            m.rcv_nxt_dsn().wrapping_add(delta as u64),
                            u64::from(input.u16() % 1500),
                        )
                    }
                    // Anywhere in the DSN space.
                    _ => (input.u64(), u64::from(input.u8())),
                };
                let no_memory = op & 0x80 != 0;
                fail.set(no_memory);
                let before = q.queued();
                let outcome = q.insert(dsn, piece(dsn.wrapping_sub(idsn), len as usize));
                fail.set(false);
                let (expected, new) = m.predict(dsn, len);
                match (&outcome, no_memory) {
                    (Insert::NoMemory(_), true) => {
                        assert!(matches!(expected, Insert::Queued { .. }), "{expected:?}");
                        assert_eq!(q.queued(), before);
                    }
                    _ => {
                        assert_eq!(shape(&outcome), expected, "insert {len} at {dsn}");
                        m.queued.extend(new);
                    }
                }
                // A refused payload comes back, at most trimmed.
                if let Insert::OverBudget(p) | Insert::NoMemory(p) | Insert::BeyondDataFin(p) =
                    &outcome
                {
                    assert!(!p.is_empty() && p.len() as u64 <= len);
                }
                if let Insert::Queued { .. } = outcome {
                    assert!(q.queued() <= q.budget());
                }
            }
            // Pops: one, or all that are in order.
            4 | 5 => loop {
                let at = m.rcv_nxt;
                let Some(p) = q.pop() else {
                    assert!(!m.queued.contains(&at), "in-order data not popped");
                    break;
                };
                assert!(!p.is_empty());
                assert_eq!(
                    p,
                    piece(at, p.len()),
                    "delivered octets differ from the stream"
                );
                for o in at..at + p.len() as u64 {
                    assert!(m.queued.remove(&o), "octet {o} delivered but not queued");
                }
                m.rcv_nxt += p.len() as u64;
                if op % 8 == 4 {
                    break;
                }
            },
            6 => {
                let budget = u64::from(input.u16()) * u64::from(input.u8() % 4 + 1);
                q.set_budget(budget);
                m.budget = budget;
            }
            _ => match input.u8() % 3 {
                0 => {
                    let dsn = m.rcv_nxt_dsn().wrapping_add(i64::from(input.i16()) as u64);
                    // The queue places a DATA_FIN relative to its DATA_ACK.
                    let ack = m.data_ack();
                    let ack_dsn = idsn.wrapping_add(ack);
                    let ahead = dsn.wrapping_sub(ack_dsn);
                    let offset = if before64(dsn, ack_dsn) {
                        ack.checked_sub(ahead.wrapping_neg())
                    } else {
                        ack.checked_add(ahead)
                    };
                    let expected = match (m.data_fin, offset) {
                        (Some(fin), o) if o == Some(fin) => Ok(()),
                        (Some(_), _) => Err(DataFinError::Mismatch),
                        (None, Some(o)) if o >= ack && m.queued.last().map_or(true, |&l| l < o) => {
                            Ok(())
                        }
                        (None, _) => Err(DataFinError::DataBeyond),
                    };
                    assert_eq!(q.note_data_fin(dsn), expected);
                    if expected.is_ok() {
                        m.data_fin = offset;
                    }
                }
                1 => {
                    let reached = !m.fin_consumed && m.data_fin == Some(m.contiguous());
                    assert_eq!(q.data_fin_reached(), reached);
                    assert_eq!(q.consume_data_fin(), reached);
                    if reached {
                        m.fin_consumed = true;
                    }
                }
                _ => {
                    let want = u64::from(input.u16());
                    let contiguous = m.contiguous();
                    let freed = q.prune_out_of_order(want);
                    // Whole segments go from the top: the highest octets,
                    // never one the DATA_ACK covers.
                    for _ in 0..freed {
                        let top = m.queued.pop_last().expect("freed more than queued");
                        assert!(top > contiguous, "pruned octet {top} below the DATA_ACK");
                    }
                    assert_eq!(m.contiguous(), contiguous);
                    if freed < want {
                        // Only the contiguous run may be left.
                        let run = m.queued.iter().all(|&o| o < contiguous);
                        assert!(run, "out-of-order data left after pruning");
                    }
                }
            },
        }
        // The accounting is exact, the reader's position and the DATA_ACK
        // agree.
        assert_eq!(q.queued(), m.queued.len() as u64);
        assert_eq!(q.read_nxt(), m.rcv_nxt_dsn());
        assert_eq!(q.rcv_nxt(), idsn.wrapping_add(m.data_ack()));
        assert_eq!(q.readable(), m.contiguous() - m.rcv_nxt, "readable octets");
        assert_eq!(q.data_fin(), m.data_fin.map(|f| idsn.wrapping_add(f)));
        assert!(q.segments() as u64 <= q.queued());
    }
});

// SPDX-License-Identifier: GPL-2.0

//! The connection-level reassembly queue (RFC 8684, section 3.3.1; the
//! UCLouvain design's connection-level receive and out-of-order queues).
//!
//! Data reaches the connection on any subflow, in subflow order but in any
//! data-sequence order. Each segment, once its DSN is known from its
//! subflow's mapping, is inserted here at its DSN, in packet processing. Two
//! positions move through the stream:
//! - `rcv_nxt`, the end of the data received contiguously: the value of the
//!   DATA_ACK, which advances as soon as a segment fills the gap before it,
//!   before anybody reads (so that the ACK that answers the segment
//!   carries it);
//! - `read_nxt`, where the reader is: [`Reassembly::pop`] hands the next
//!   in-order segment to the reader, from the same queue, when it reads.
//!
//! The octets in `[read_nxt, rcv_nxt)` are the connection-level receive
//! queue of the UCLouvain design, those after `rcv_nxt` its out-of-order
//! queue: one ordered store holds both, so moving data from one to the other
//! needs no allocation, and no allocation failure can lose data that the
//! DATA_ACK already covers.
//!
//! The queue is generic over the payload ([`Payload`]): the kernel stores skb
//! references, the host byte vectors. Payloads are only ever shortened at
//! either end, never split or copied, so no octet is stored twice: a segment
//! that overlaps queued data is trimmed, and queued segments that it covers
//! entirely are replaced by it.
//!
//! Entries live in the caller's [`SeqMap`], keyed by their offset from the
//! peer's IDSN so that keys never wrap. Queued octets are counted exactly and
//! never exceed the byte budget (the receive buffer): a segment that would
//! exceed it is refused and given back, for the caller to drop; the peer
//! retransmits it.

use super::seq;
use super::store::SeqMap;
use core::marker::PhantomData;

/// A piece of the data stream that the queue can hold: an skb reference in
/// the kernel, a byte vector on the host.
pub trait Payload {
    /// The number of octets it carries.
    fn len(&self) -> usize;
    /// Whether it carries no octet.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Drops the first `n` octets; the queue passes `0 < n < len()`.
    fn trim_front(&mut self, n: usize);
    /// Drops the last `n` octets; the queue passes `0 < n < len()`.
    fn trim_back(&mut self, n: usize);
    /// Splits off the first `n` octets (`0 < n < len()`) as a payload of
    /// their own; `self` keeps the rest. An skb whose bytes belong to two
    /// mappings is split this way: both halves share its data.
    fn split_front(&mut self, n: usize) -> Self
    where
        Self: Sized;
}

#[cfg(any(test, feature = "std"))]
impl Payload for std::vec::Vec<u8> {
    fn len(&self) -> usize {
        std::vec::Vec::len(self)
    }
    fn trim_front(&mut self, n: usize) {
        self.drain(..n.min(std::vec::Vec::len(self)));
    }
    fn trim_back(&mut self, n: usize) {
        self.truncate(std::vec::Vec::len(self).saturating_sub(n));
    }
    fn split_front(&mut self, n: usize) -> Self {
        let n = n.min(std::vec::Vec::len(self));
        self.drain(..n).collect()
    }
}

/// What [`Reassembly::insert`] did with a segment.
#[derive(Debug, PartialEq, Eq)]
pub enum Insert<P> {
    /// The segment, trimmed of what the queue already had, was stored, and
    /// the queue grew by `bytes` new octets. Queued segments that it covered
    /// were dropped in its favour (they are not counted in `bytes`).
    Queued {
        /// Octets of the stream that the queue did not hold before.
        bytes: u64,
    },
    /// Every octet of the segment was already delivered or queued (or it
    /// was empty): nothing changed, the segment is dropped.
    Duplicate,
    /// Storing the new octets would exceed the budget (or they lie past 2^64
    /// octets from the IDSN, which cannot be represented): nothing changed,
    /// and the segment (possibly trimmed) is given back for the caller to
    /// drop.
    OverBudget(P),
    /// The [`SeqMap`] could not allocate an entry: nothing changed, and the
    /// segment (possibly trimmed) is given back.
    NoMemory(P),
    /// The segment carries data at or after the DSN of the DATA_FIN: a
    /// protocol error. Nothing changed, the segment is given back.
    BeyondDataFin(P),
}

/// Why [`Reassembly::note_data_fin`] refused a DATA_FIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFinError {
    /// A DATA_FIN at another DSN was seen before.
    Mismatch,
    /// Data at or after that DSN was already received.
    DataBeyond,
}

/// The connection-level reassembly queue of received data.
pub struct Reassembly<P: Payload, M: SeqMap<P>> {
    /// The queued segments, keyed by their offset from `idsn`; disjoint,
    /// non-empty, none below `read_nxt`. They tile `[read_nxt, rcv_nxt)`
    /// and none starts at `rcv_nxt`.
    queue: M,
    /// The peer's initial data sequence number.
    idsn: u64,
    /// The offset from `idsn` of the next octet the reader gets.
    read_nxt: u64,
    /// The offset from `idsn` of the next octet expected in order (past a
    /// consumed DATA_FIN, one more).
    rcv_nxt: u64,
    /// The octets queued: the sum of the lengths of the queued segments.
    queued: u64,
    /// The most octets the queue may hold.
    budget: u64,
    /// The offset from `idsn` of the DATA_FIN, once seen.
    data_fin: Option<u64>,
    _payload: PhantomData<P>,
}

/// The length of a payload in the 64-bit sequence space (lossless: `usize`
/// has at most 64 bits on every target).
fn len64<P: Payload>(p: &P) -> u64 {
    p.len() as u64
}

/// A count of octets known to be at most a payload's length, as `usize`.
fn trim_count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl<P: Payload, M: SeqMap<P>> Reassembly<P, M> {
    /// An empty queue in `queue` for the data of a peer whose initial data
    /// sequence number is `peer_idsn`: the first octet expected is at DSN
    /// `peer_idsn + 1`. It holds at most `budget` octets.
    pub fn new(queue: M, peer_idsn: u64, budget: u64) -> Self {
        Self {
            queue,
            idsn: peer_idsn,
            read_nxt: 1,
            rcv_nxt: 1,
            queued: 0,
            budget,
            data_fin: None,
            _payload: PhantomData,
        }
    }

    /// The DSN of the next octet expected in order: the DATA_ACK to send.
    /// Past a consumed DATA_FIN it counts the DATA_FIN's DSN too.
    pub fn rcv_nxt(&self) -> u64 {
        seq::offset_to_dsn(self.idsn, self.rcv_nxt)
    }

    /// The DSN of the next octet the reader gets from [`Reassembly::pop`].
    pub fn read_nxt(&self) -> u64 {
        seq::offset_to_dsn(self.idsn, self.read_nxt)
    }

    /// The octets received in order and not read yet.
    pub fn readable(&self) -> u64 {
        let end = match self.data_fin {
            Some(fin) if self.rcv_nxt > fin => fin,
            _ => self.rcv_nxt,
        };
        end - self.read_nxt
    }

    /// Whether the reader is at the end of the stream: the DATA_FIN was
    /// consumed and every octet before it read.
    pub fn at_eof(&self) -> bool {
        self.data_fin
            .is_some_and(|fin| self.rcv_nxt > fin && self.read_nxt == fin)
    }

    /// The number of octets queued.
    pub fn queued(&self) -> u64 {
        self.queued
    }

    /// The number of segments queued.
    pub fn segments(&self) -> usize {
        self.queue.len()
    }

    /// The most octets the queue may hold.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Changes the budget (receive buffer tuning). Lowering it below what
    /// is queued drops nothing: inserts are refused until pops make room.
    pub fn set_budget(&mut self, budget: u64) {
        self.budget = budget;
    }

    /// The octets that may still be queued: a window to advertise.
    pub fn space(&self) -> u64 {
        self.budget.saturating_sub(self.queued)
    }

    /// Inserts the segment `payload` whose first octet has the 64-bit DSN
    /// `dsn`. Octets already delivered (before `rcv_nxt`) or queued are
    /// trimmed away; queued segments the payload covers entirely are
    /// replaced by it. See [`Insert`] for the outcomes.
    pub fn insert(&mut self, dsn: u64, mut payload: P) -> Insert<P> {
        let len = len64(&payload);
        if len == 0 {
            return Insert::Duplicate;
        }
        // Place the segment relative to read_nxt: before it, the part
        // already read is trimmed off (what is queued is trimmed below).
        let ahead = dsn.wrapping_sub(self.read_nxt());
        let (mut start, mut len) = if seq::before64(dsn, self.read_nxt()) {
            let behind = ahead.wrapping_neg();
            if behind >= len {
                return Insert::Duplicate;
            }
            payload.trim_front(trim_count(behind));
            (self.read_nxt, len - behind)
        } else {
            match self.read_nxt.checked_add(ahead) {
                Some(start) => (start, len),
                // Past 2^64 octets from the IDSN: cannot be represented.
                None => return Insert::OverBudget(payload),
            }
        };
        let Some(mut end) = start.checked_add(len) else {
            return Insert::OverBudget(payload);
        };
        if let Some(fin) = self.data_fin {
            if end > fin {
                return Insert::BeyondDataFin(payload);
            }
        }

        // The queued segment starting at or before `start`: it may cover
        // the new one, or overlap its front.
        if let Some((key, prev)) = self.queue.floor(start) {
            let prev_end = key.saturating_add(len64(prev));
            if prev_end >= end {
                return Insert::Duplicate;
            }
            if key < start && prev_end > start {
                payload.trim_front(trim_count(prev_end - start));
                start = prev_end;
            }
        }

        // The queued segments starting in [start, end): those that end by
        // `end` are covered and will be replaced; one that ends after it
        // overlaps the new segment's back, which is trimmed.
        let mut covered: u64 = 0;
        let mut replaces_at_start = false;
        let mut cursor = self.queue.ceil(start);
        while let Some((key, next)) = cursor {
            if key >= end {
                break;
            }
            let next_len = len64(next);
            let next_end = key.saturating_add(next_len);
            if next_end > end {
                if key <= start {
                    // Front trimmed up to a segment that reaches past the
                    // end: the two cover it all.
                    return Insert::Duplicate;
                }
                payload.trim_back(trim_count(end - key));
                end = key;
                break;
            }
            covered = covered.saturating_add(next_len);
            replaces_at_start |= key == start;
            cursor = self.queue.next_after(key);
        }
        len = end - start;
        if covered >= len {
            // Queued segments tile [start, end) already.
            return Insert::Duplicate;
        }

        // The budget counts what the queue would hold afterwards.
        let after = self.queued.saturating_sub(covered).checked_add(len);
        let Some(after) = after.filter(|&after| after <= self.budget) else {
            return Insert::OverBudget(payload);
        };

        // Store the segment: in place of the covered one at `start`, or in a
        // new entry, and only then drop the other covered segments, so that
        // a failed allocation changes nothing.
        if replaces_at_start {
            if let Some((_, slot)) = self.queue.ceil(start) {
                *slot = payload;
            }
        } else if let Err(payload) = self.queue.insert(start, payload) {
            return Insert::NoMemory(payload);
        }
        while let Some((key, _)) = self.queue.next_after(start) {
            if key >= end {
                break;
            }
            self.queue.remove(key);
        }
        self.queued = after;
        if start <= self.rcv_nxt {
            // It touches the contiguous data: the DATA_ACK moves to its end,
            // and on over what was queued after a gap it filled.
            self.rcv_nxt = self.rcv_nxt.max(end);
            while let Some((key, next)) = self.queue.ceil(self.rcv_nxt) {
                if key != self.rcv_nxt {
                    break;
                }
                self.rcv_nxt = key.saturating_add(len64(next));
            }
        }
        Insert::Queued {
            bytes: len - covered,
        }
    }

    /// Removes and returns the next segment for the reader, if it was
    /// received in order (its DSN is `read_nxt`, below `rcv_nxt`),
    /// advancing `read_nxt` past it.
    pub fn pop(&mut self) -> Option<P> {
        let (key, _) = self.queue.first()?;
        if key != self.read_nxt || key >= self.rcv_nxt {
            return None;
        }
        let payload = self.queue.remove(key)?;
        let len = len64(&payload);
        self.read_nxt = self.read_nxt.saturating_add(len);
        self.queued = self.queued.saturating_sub(len);
        Some(payload)
    }

    /// The next segment for the reader, left in place (for `MSG_PEEK`).
    pub fn peek(&mut self) -> Option<&mut P> {
        let (key, payload) = self.queue.first()?;
        (key == self.read_nxt && key < self.rcv_nxt).then_some(payload)
    }

    /// Drops out-of-order segments, from the highest DSN down, until at least
    /// `bytes` octets are freed or none is left beyond `rcv_nxt` (as TCP
    /// prunes its out-of-order queue under memory pressure). Returns the
    /// octets freed. Data received in order, which the DATA_ACK covers, is
    /// never dropped.
    pub fn prune_out_of_order(&mut self, bytes: u64) -> u64 {
        let mut freed: u64 = 0;
        while freed < bytes {
            let Some((key, _)) = self.queue.last() else {
                break;
            };
            if key <= self.rcv_nxt {
                break;
            }
            if let Some(payload) = self.queue.remove(key) {
                let len = len64(&payload);
                freed = freed.saturating_add(len);
                self.queued = self.queued.saturating_sub(len);
            }
        }
        freed
    }

    /// Records that the peer's DATA_FIN has the DSN `dsn` (the DSN after the
    /// last data octet: the mapping's DSN plus its data-level length, minus
    /// one). Seeing the same DATA_FIN again is harmless.
    pub fn note_data_fin(&mut self, dsn: u64) -> Result<(), DataFinError> {
        let ahead = dsn.wrapping_sub(self.rcv_nxt());
        let offset = if seq::before64(dsn, self.rcv_nxt()) {
            self.rcv_nxt.checked_sub(ahead.wrapping_neg())
        } else {
            self.rcv_nxt.checked_add(ahead)
        };
        if let Some(fin) = self.data_fin {
            return if offset == Some(fin) {
                Ok(())
            } else {
                Err(DataFinError::Mismatch)
            };
        }
        // A new DATA_FIN behind rcv_nxt would end data already acknowledged.
        let Some(offset) = offset.filter(|&offset| offset >= self.rcv_nxt) else {
            return Err(DataFinError::DataBeyond);
        };
        if let Some((key, last)) = self.queue.last() {
            if key.saturating_add(len64(last)) > offset {
                return Err(DataFinError::DataBeyond);
            }
        }
        self.data_fin = Some(offset);
        Ok(())
    }

    /// The DSN of the peer's DATA_FIN, once seen.
    pub fn data_fin(&self) -> Option<u64> {
        self.data_fin.map(|fin| seq::offset_to_dsn(self.idsn, fin))
    }

    /// Whether every octet before the DATA_FIN was delivered, and the
    /// DATA_FIN itself not yet consumed: the connection's read side ends
    /// here, once [`Reassembly::consume_data_fin`] is called.
    pub fn data_fin_reached(&self) -> bool {
        self.data_fin == Some(self.rcv_nxt)
    }

    /// Whether the DATA_FIN was consumed: `rcv_nxt` is past it.
    pub fn data_fin_consumed(&self) -> bool {
        self.data_fin.is_some_and(|fin| self.rcv_nxt > fin)
    }

    /// Consumes the DATA_FIN if it is reached: `rcv_nxt` moves past its DSN,
    /// so that the DATA_ACK acknowledges it. Returns whether it did.
    pub fn consume_data_fin(&mut self) -> bool {
        if !self.data_fin_reached() {
            return false;
        }
        self.rcv_nxt = self.rcv_nxt.saturating_add(1);
        true
    }
}

/// A payload for tests that carries no octets, only their place in the
/// stream: the `len` octets from stream offset `start`. It needs no
/// allocator, so the kernel runs [`selftest`] with it.
#[cfg(any(test, CONFIG_KUNIT))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The stream offset of the first octet.
    pub start: u64,
    /// The number of octets.
    pub len: usize,
}

#[cfg(any(test, CONFIG_KUNIT))]
impl Payload for Span {
    fn len(&self) -> usize {
        self.len
    }
    fn trim_front(&mut self, n: usize) {
        let n = n.min(self.len);
        self.start = self.start.saturating_add(n as u64);
        self.len -= n;
    }
    fn trim_back(&mut self, n: usize) {
        self.len -= n.min(self.len);
    }
    fn split_front(&mut self, n: usize) -> Self {
        let n = n.min(self.len);
        let front = Span {
            start: self.start,
            len: n,
        };
        self.trim_front(n);
        front
    }
}

/// Test vectors, run on the host and as KUnit cases with the kernel's
/// rbtree-backed store.
#[cfg(any(test, CONFIG_KUNIT))]
pub fn selftest<M: SeqMap<Span> + Default>(c: &mut dyn super::check::Check) {
    // Stream offset `o` has DSN IDSN + 1 + o. The IDSN is near the end of
    // the DSN space, so that DSNs wrap after 16 octets.
    const IDSN: u64 = u64::MAX - 16;
    let dsn = |offset: u64| IDSN.wrapping_add(1).wrapping_add(offset);
    let span = |start: u64, len: usize| Span { start, len };
    let mut q = Reassembly::<Span, M>::new(M::default(), IDSN, 100);
    check_eq!(c, q.rcv_nxt(), u64::MAX - 15);
    check!(c, q.pop().is_none());

    // In order: queued, then popped.
    check_eq!(
        c,
        q.insert(dsn(0), span(0, 10)),
        Insert::Queued { bytes: 10 }
    );
    check_eq!(c, q.queued(), 10);
    check_eq!(c, q.pop(), Some(span(0, 10)));
    check_eq!(c, q.rcv_nxt(), dsn(10));
    check_eq!(c, q.queued(), 0);

    // Out of order, then a segment covering two queued ones and the gaps
    // around them: it replaces them.
    check_eq!(
        c,
        q.insert(dsn(20), span(20, 5)),
        Insert::Queued { bytes: 5 }
    );
    check_eq!(
        c,
        q.insert(dsn(30), span(30, 5)),
        Insert::Queued { bytes: 5 }
    );
    check!(c, q.pop().is_none());
    check_eq!(
        c,
        q.insert(dsn(15), span(15, 25)),
        Insert::Queued { bytes: 15 }
    );
    check_eq!(c, (q.queued(), q.segments()), (25, 1));
    // Overlapping the front and the back of queued data: trimmed.
    check_eq!(
        c,
        q.insert(dsn(10), span(10, 8)),
        Insert::Queued { bytes: 5 }
    );
    check_eq!(
        c,
        q.insert(dsn(38), span(38, 7)),
        Insert::Queued { bytes: 5 }
    );
    check_eq!(c, (q.queued(), q.segments()), (35, 3));
    // Covered entirely: a duplicate. So is an empty segment.
    check_eq!(c, q.insert(dsn(16), span(16, 10)), Insert::Duplicate);
    check_eq!(c, q.insert(dsn(15), span(15, 25)), Insert::Duplicate);
    check_eq!(c, q.insert(dsn(50), span(50, 0)), Insert::Duplicate);
    check_eq!(c, q.pop(), Some(span(10, 5)));
    check_eq!(c, q.pop(), Some(span(15, 25)));
    check_eq!(c, q.pop(), Some(span(40, 5)));
    check!(c, q.pop().is_none());
    check_eq!(c, (q.queued(), q.rcv_nxt()), (0, dsn(45)));

    // Below rcv_nxt: a duplicate, or trimmed if it reaches past it.
    check_eq!(c, q.insert(dsn(0), span(0, 45)), Insert::Duplicate);
    check_eq!(
        c,
        q.insert(dsn(40), span(40, 10)),
        Insert::Queued { bytes: 5 }
    );
    check_eq!(c, q.pop(), Some(span(45, 5)));

    // A segment at the same DSN as a shorter queued one replaces it.
    check_eq!(
        c,
        q.insert(dsn(60), span(60, 5)),
        Insert::Queued { bytes: 5 }
    );
    check_eq!(
        c,
        q.insert(dsn(60), span(60, 8)),
        Insert::Queued { bytes: 3 }
    );
    check_eq!(c, (q.queued(), q.segments()), (8, 1));
    // Exactly fills the gap between two queued segments.
    check_eq!(
        c,
        q.insert(dsn(52), span(52, 3)),
        Insert::Queued { bytes: 3 }
    );
    check_eq!(
        c,
        q.insert(dsn(55), span(55, 5)),
        Insert::Queued { bytes: 5 }
    );
    check_eq!(c, (q.queued(), q.segments()), (16, 3));
    // Covers two queued segments and is trimmed before the third.
    check_eq!(
        c,
        q.insert(dsn(50), span(50, 12)),
        Insert::Queued { bytes: 2 }
    );
    check_eq!(c, (q.queued(), q.segments()), (18, 2));

    // The budget: 100 octets, 18 queued ([50, 68) in order). 83 more do
    // not fit; the refused segment is given back, trimmed of what was
    // queued.
    check_eq!(c, q.rcv_nxt(), dsn(68));
    check_eq!(c, q.space(), 82);
    check_eq!(
        c,
        q.insert(dsn(70), span(70, 83)),
        Insert::OverBudget(span(70, 83))
    );
    check_eq!(
        c,
        q.insert(dsn(66), span(66, 87)),
        Insert::OverBudget(span(68, 85))
    );
    check_eq!(c, q.queued(), 18);
    // After a gap of two octets: out of order.
    check_eq!(
        c,
        q.insert(dsn(70), span(70, 82)),
        Insert::Queued { bytes: 82 }
    );
    check_eq!(c, (q.space(), q.rcv_nxt(), q.readable()), (0, dsn(68), 18));
    // A lower budget drops nothing; inserts wait for room.
    q.set_budget(50);
    check_eq!(
        c,
        q.insert(dsn(160), span(160, 1)),
        Insert::OverBudget(span(160, 1))
    );
    // Pruning drops the out-of-order tail from the highest DSN down, never
    // data received in order (the DATA_ACK covers it).
    check_eq!(c, q.prune_out_of_order(1), 82);
    check_eq!(c, q.queued(), 18);
    check_eq!(c, q.prune_out_of_order(1000), 0);
    check_eq!(c, q.pop(), Some(span(50, 10)));
    check_eq!(c, q.peek().copied(), Some(span(60, 8)));
    check_eq!(c, q.pop(), Some(span(60, 8)));
    check!(c, q.pop().is_none());
    check!(c, q.peek().is_none());
    check_eq!(c, (q.queued(), q.read_nxt()), (0, dsn(68)));

    // DATA_FIN at stream offset 80: data may not reach past it.
    check_eq!(
        c,
        q.insert(dsn(70), span(70, 5)),
        Insert::Queued { bytes: 5 }
    );
    check_eq!(c, q.note_data_fin(dsn(74)), Err(DataFinError::DataBeyond));
    check_eq!(c, q.note_data_fin(dsn(59)), Err(DataFinError::DataBeyond));
    check_eq!(c, q.note_data_fin(dsn(80)), Ok(()));
    check_eq!(c, q.note_data_fin(dsn(80)), Ok(()));
    check_eq!(c, q.note_data_fin(dsn(81)), Err(DataFinError::Mismatch));
    check_eq!(c, q.data_fin(), Some(dsn(80)));
    check_eq!(
        c,
        q.insert(dsn(78), span(78, 3)),
        Insert::BeyondDataFin(span(78, 3))
    );
    check_eq!(
        c,
        q.insert(dsn(75), span(75, 5)),
        Insert::Queued { bytes: 5 }
    );
    check!(c, !q.data_fin_reached());
    check!(c, !q.consume_data_fin());
    check!(c, q.pop().is_none());
    // Filling the gap: everything up to the DATA_FIN is in, read or not.
    check_eq!(
        c,
        q.insert(dsn(60), span(60, 10)),
        Insert::Queued { bytes: 2 }
    );
    check!(c, q.data_fin_reached());
    check_eq!(c, (q.rcv_nxt(), q.readable()), (dsn(80), 12));
    check_eq!(c, q.pop(), Some(span(68, 2)));
    check_eq!(c, q.pop(), Some(span(70, 5)));
    check!(c, q.consume_data_fin());
    check!(c, q.data_fin_consumed() && !q.data_fin_reached());
    check!(c, !q.consume_data_fin());
    // The DATA_ACK now covers the DATA_FIN; the reader is not at the end
    // before it read the last octets.
    check_eq!(c, q.rcv_nxt(), dsn(81));
    check_eq!(c, q.readable(), 5);
    check!(c, !q.at_eof());
    check_eq!(c, q.pop(), Some(span(75, 5)));
    check!(c, q.at_eof());
    check_eq!(c, q.readable(), 0);
    // Retransmissions after the end: duplicates, or beyond the DATA_FIN.
    check_eq!(c, q.insert(dsn(75), span(75, 5)), Insert::Duplicate);
    check_eq!(
        c,
        q.insert(dsn(81), span(81, 1)),
        Insert::BeyondDataFin(span(81, 1))
    );
    check_eq!(c, q.note_data_fin(dsn(80)), Ok(()));
    check_eq!(c, q.queued(), 0);

    // A DSN 2^63 or more ahead of rcv_nxt counts as behind it: a duplicate.
    let mut q = Reassembly::<Span, M>::new(M::default(), 0, u64::MAX);
    check_eq!(c, q.insert(1 + (1 << 63), span(0, 10)), Insert::Duplicate);
    // Far ahead but representable: queued.
    check_eq!(
        c,
        q.insert(1 << 62, span(0, 10)),
        Insert::Queued { bytes: 10 }
    );
    check_eq!(c, q.note_data_fin(2), Err(DataFinError::DataBeyond));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FailingMap;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::vec::Vec;

    type Queue = Reassembly<Vec<u8>, BTreeMap<u64, Vec<u8>>>;

    #[test]
    fn vectors() {
        selftest::<BTreeMap<u64, Span>>(&mut crate::check::PanicCheck);
    }

    #[test]
    fn no_memory_changes_nothing() {
        let map = FailingMap {
            budget: 1,
            ..FailingMap::default()
        };
        let mut q = Reassembly::<Span, _>::new(map, 0, 1000);
        assert_eq!(
            q.insert(11, Span { start: 10, len: 5 }),
            Insert::Queued { bytes: 5 }
        );
        assert_eq!(
            q.insert(21, Span { start: 20, len: 5 }),
            Insert::NoMemory(Span { start: 20, len: 5 })
        );
        assert_eq!((q.queued(), q.segments()), (5, 1));
        // Replacing the entry at the same key needs no allocation.
        assert_eq!(
            q.insert(11, Span { start: 10, len: 8 }),
            Insert::Queued { bytes: 3 }
        );
        // Covering it from before needs one: refused, and it stays queued.
        assert_eq!(
            q.insert(1, Span { start: 0, len: 30 }),
            Insert::NoMemory(Span { start: 0, len: 30 })
        );
        assert_eq!((q.queued(), q.segments()), (8, 1));
    }

    /// The sum of the lengths of the queued payloads.
    fn stored(q: &Queue) -> u64 {
        q.queue.values().map(|p| p.len() as u64).sum()
    }

    /// Checks the structural invariants of a queue: disjoint, non-empty
    /// entries at or after rcv_nxt, and exact accounting.
    fn check_invariants(q: &Queue, stream: &[u8]) -> Result<(), TestCaseError> {
        prop_assert_eq!(q.queued(), stored(q));
        prop_assert!(q.queued() <= q.budget());
        prop_assert!(q.read_nxt <= q.rcv_nxt);
        let mut previous_end = q.read_nxt;
        // [read_nxt, rcv_nxt) is tiled by entries, and none starts at
        // rcv_nxt (it would have moved past it).
        let mut contiguous = q.read_nxt;
        for (&key, payload) in &q.queue {
            if key == contiguous {
                contiguous += payload.len() as u64;
            }
            prop_assert!(!payload.is_empty());
            prop_assert!(key >= previous_end, "overlap at {}", key);
            previous_end = key + payload.len() as u64;
            // Stored octets are the stream's octets at their offsets.
            let at = (key - 1) as usize;
            prop_assert_eq!(&payload[..], &stream[at..at + payload.len()]);
        }
        let fin_consumed = q.data_fin.is_some_and(|fin| q.rcv_nxt > fin);
        prop_assert_eq!(q.rcv_nxt, contiguous + u64::from(fin_consumed));
        Ok(())
    }

    /// Segments cut from one stream: (stream offset, length), with random
    /// duplicates, overlaps and order.
    fn segments(max: usize) -> impl Strategy<Value = (Vec<u8>, Vec<(usize, usize)>)> {
        (1usize..max).prop_flat_map(|len| {
            let stream = proptest::collection::vec(any::<u8>(), len);
            let cuts = proptest::collection::vec((0..len, 1usize..64), 1..80);
            (stream, cuts)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn delivers_the_stream_prefix(
            (stream, cuts) in segments(600),
            idsn: u64,
            budget in 0u64..800,
            pop_every in 1usize..6,
        ) {
            let mut q = Queue::new(BTreeMap::new(), idsn, budget);
            let mut delivered: Vec<u8> = Vec::new();
            let dsn = |offset: usize| idsn.wrapping_add(1).wrapping_add(offset as u64);
            for (i, (offset, len)) in cuts.into_iter().enumerate() {
                let end = (offset + len).min(stream.len());
                let before = q.queued();
                match q.insert(dsn(offset), stream[offset..end].to_vec()) {
                    Insert::Queued { bytes } => {
                        prop_assert!(bytes > 0);
                        prop_assert_eq!(q.queued(), before + bytes);
                    }
                    Insert::Duplicate | Insert::OverBudget(_) => {
                        prop_assert_eq!(q.queued(), before);
                    }
                    Insert::NoMemory(_) | Insert::BeyondDataFin(_) => prop_assert!(false),
                }
                check_invariants(&q, &stream)?;
                if i % pop_every == 0 {
                    while let Some(p) = q.pop() {
                        delivered.extend_from_slice(&p);
                    }
                }
                // Delivered octets are exactly a prefix of the stream, each
                // delivered once.
                prop_assert_eq!(&delivered[..], &stream[..delivered.len()]);
                prop_assert_eq!(q.read_nxt(), dsn(delivered.len()));
                prop_assert_eq!(q.readable(), q.rcv_nxt().wrapping_sub(q.read_nxt()));
            }
            // Then the rest in order, as a receiver under memory pressure
            // does: prune the out-of-order queue when in-order data does
            // not fit. Everything arrives if the budget holds a segment.
            let mut offset = delivered.len();
            while offset < stream.len() && budget >= 50 {
                let end = (offset + 50).min(stream.len());
                if let Insert::OverBudget(_) = q.insert(dsn(offset), stream[offset..end].to_vec()) {
                    prop_assert!(q.prune_out_of_order(u64::MAX) > 0);
                    continue;
                }
                check_invariants(&q, &stream)?;
                while let Some(p) = q.pop() {
                    delivered.extend_from_slice(&p);
                }
                prop_assert_eq!(&delivered[..], &stream[..delivered.len()]);
                offset = delivered.len();
            }
            if budget >= 50 {
                prop_assert_eq!(delivered.len(), stream.len());
                prop_assert_eq!(q.queued(), 0);
            }
        }

        #[test]
        fn data_fin_ends_the_stream((stream, cuts) in segments(300), idsn: u64) {
            let mut q = Queue::new(BTreeMap::new(), idsn, u64::MAX);
            let fin = idsn.wrapping_add(1).wrapping_add(stream.len() as u64);
            prop_assert_eq!(q.note_data_fin(fin), Ok(()));
            for (offset, len) in cuts {
                let end = (offset + len).min(stream.len());
                let dsn = idsn.wrapping_add(1).wrapping_add(offset as u64);
                let outcome = q.insert(dsn, stream[offset..end].to_vec());
                prop_assert!(!matches!(outcome, Insert::BeyondDataFin(_)));
                // Reaching one octet past the DATA_FIN is refused, whatever
                // it overlaps.
                let back = len.min(stream.len()) as u64;
                let beyond = q.insert(fin.wrapping_sub(back), std::vec![0; len + 1]);
                prop_assert!(matches!(beyond, Insert::BeyondDataFin(_)));
                check_invariants(&q, &stream)?;
            }
            let missing = stream.len() as u64 - q.queued();
            let outcome = q.insert(idsn.wrapping_add(1), stream.clone());
            if missing == 0 {
                prop_assert_eq!(outcome, Insert::Duplicate);
            } else {
                prop_assert_eq!(outcome, Insert::Queued { bytes: missing });
            }
            let mut delivered = Vec::new();
            while let Some(p) = q.pop() {
                delivered.extend_from_slice(&p);
            }
            prop_assert_eq!(delivered, stream);
            prop_assert!(q.data_fin_reached());
            prop_assert!(q.consume_data_fin());
            prop_assert_eq!(q.rcv_nxt(), fin.wrapping_add(1));
        }
    }
}

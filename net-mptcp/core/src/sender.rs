// SPDX-License-Identifier: GPL-2.0

//! The connection-level sender's bookkeeping (RFC 8684, section 3.3; the
//! UCLouvain design's connection-level send buffer that subflows pull from).
//!
//! The data a host sends is numbered in the 64-bit data sequence space from
//! its IDSN + 1. `snd_una` is the first DSN not yet DATA_ACKed, `snd_nxt` the
//! next DSN to hand out. Each range of DSNs in between is recorded with the
//! subflow that carries it and the subflow offset at which it was sent
//! there, so that:
//! - a DATA_ACK frees what it covers ([`Sender::data_ack`]);
//! - when a subflow fails, what it carried and was not DATA_ACKed is marked
//!   for reinjection ([`Sender::fail_subflow`]), which the scheduler resends
//!   on other subflows ([`Sender::next_reinjection`], [`Sender::resend`]).
//!
//! Every DSN in `[snd_una, snd_nxt)` belongs to exactly one record: held by
//! the subflow that sent it last, or awaiting reinjection. The DATA_FIN
//! takes one DSN of its own, after the last data octet, and is recorded
//! like data (with a length of one and no subflow octet).
//!
//! Records live in the caller's [`SeqMap`], keyed by their offset from the
//! IDSN so that keys never wrap. A record may start before `snd_una` (a
//! DATA_ACK that ends inside it does not rewrite it, which would need an
//! allocation): everything reported is clipped to `snd_una`.

use super::seq;
use super::store::SeqMap;

/// Names a subflow of the connection, as the caller numbers them.
pub type SubflowId = u32;

/// The record of a range of DSNs: the value stored in the [`SeqMap`], at
/// the offset from the IDSN of its first DSN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentEntry {
    /// The number of DSNs (octets, or 1 for the DATA_FIN); never 0.
    pub len: u64,
    /// The subflow that carries it, or `None` if it awaits reinjection.
    pub subflow: Option<SubflowId>,
    /// Awaiting reinjection: a bit per subflow (id below 8) it must not go
    /// back to, the one it was taken from as failed or stalled.
    pub avoid: u8,
    /// The offset, from that subflow's initial sequence number, at which its
    /// first octet was sent there (0 for the DATA_FIN).
    pub subflow_seq: u64,
    /// Whether this is the DATA_FIN.
    pub data_fin: bool,
}

/// The bit of `subflow` in [`SentEntry::avoid`] (none above 7).
pub(crate) fn subflow_bit(subflow: SubflowId) -> u8 {
    1u8.checked_shl(subflow).unwrap_or(0)
}

/// A range of DSNs as reported by [`Sender::next_range`] and
/// [`Sender::next_reinjection`]: clipped to `snd_una`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentRange {
    /// The DSN of the first octet.
    pub dsn: u64,
    /// The number of DSNs.
    pub len: u64,
    /// The subflow that carries it, or `None` if it awaits reinjection.
    pub subflow: Option<SubflowId>,
    /// The subflow offset of its first octet on that subflow.
    pub subflow_seq: u64,
    /// Whether this is the DATA_FIN.
    pub data_fin: bool,
}

/// Why the sender refused to record a transmission. Nothing was changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The DATA_FIN was sent: no data may follow it.
    Closed,
    /// An empty range.
    Empty,
    /// The range reaches past `snd_nxt` (for a resend) or past 2^64 octets
    /// from the IDSN.
    OutOfRange,
    /// The [`SeqMap`] could not allocate an entry.
    NoMemory,
}

/// Why a DATA_ACK was ignored (RFC 8684, section 3.3.2). Nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckError {
    /// It acknowledges DSNs not sent yet (beyond `snd_nxt`).
    BeyondSndNxt,
    /// It is older than `snd_una` (reordered or duplicated on a subflow).
    Stale,
}

/// What a valid DATA_ACK freed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Acked {
    /// The octets of data newly acknowledged: the send buffer may drop them.
    pub bytes: u64,
    /// Whether the DATA_FIN was newly acknowledged.
    pub data_fin: bool,
}

/// The connection-level sender: snd_una, snd_nxt, and what went where.
pub struct Sender<M: SeqMap<SentEntry>> {
    /// The records, tiling `[first key, snd_nxt)` without gaps.
    map: M,
    /// The local initial data sequence number.
    idsn: u64,
    /// The offset from `idsn` of the first DSN not DATA_ACKed.
    snd_una: u64,
    /// The offset from `idsn` of the next DSN to send.
    snd_nxt: u64,
    /// The offset from `idsn` of the DATA_FIN, once sent.
    data_fin: Option<u64>,
    /// Whether a record may await reinjection: set when a subflow fails,
    /// cleared by a look from `snd_una` that finds none. Spares the look,
    /// a walk over every record in flight, to each transmission on
    /// subflows that all work.
    maybe_reinjecting: bool,
}

impl<M: SeqMap<SentEntry>> Sender<M> {
    /// A sender with nothing sent, recording in `map`, for a host whose
    /// initial data sequence number is `local_idsn`: the first octet has
    /// DSN `local_idsn + 1`.
    pub fn new(map: M, local_idsn: u64) -> Self {
        Self {
            map,
            idsn: local_idsn,
            snd_una: 1,
            snd_nxt: 1,
            data_fin: None,
            maybe_reinjecting: false,
        }
    }

    /// The first DSN not DATA_ACKed.
    pub fn snd_una(&self) -> u64 {
        seq::offset_to_dsn(self.idsn, self.snd_una)
    }

    /// The next DSN to send.
    pub fn snd_nxt(&self) -> u64 {
        seq::offset_to_dsn(self.idsn, self.snd_nxt)
    }

    /// The DSNs sent and not DATA_ACKed (the DATA_FIN counts one).
    pub fn in_flight(&self) -> u64 {
        self.snd_nxt - self.snd_una
    }

    /// The DSN of the DATA_FIN, once sent.
    pub fn data_fin(&self) -> Option<u64> {
        self.data_fin.map(|fin| seq::offset_to_dsn(self.idsn, fin))
    }

    /// Whether the DATA_FIN was sent and DATA_ACKed.
    pub fn data_fin_acked(&self) -> bool {
        self.data_fin.is_some_and(|fin| self.snd_una > fin)
    }

    /// The number of records.
    pub fn entries(&self) -> usize {
        self.map.len()
    }

    /// Records `len` new octets sent on `subflow`, from its subflow offset
    /// `subflow_seq`, and returns the DSN of the first: `snd_nxt`, which
    /// advances past them. Contiguous sends on the same subflow extend one
    /// record.
    pub fn send(
        &mut self,
        len: u64,
        subflow: SubflowId,
        subflow_seq: u64,
    ) -> Result<u64, SendError> {
        if self.data_fin.is_some() {
            return Err(SendError::Closed);
        }
        self.append(len, subflow, subflow_seq, false)
    }

    /// Records the DATA_FIN sent on `subflow`: it takes the DSN `snd_nxt`,
    /// which it returns, and no data may follow. Sending it again after it
    /// was recorded is done with [`Sender::resend`].
    pub fn send_data_fin(&mut self, subflow: SubflowId) -> Result<u64, SendError> {
        if self.data_fin.is_some() {
            return Err(SendError::Closed);
        }
        let dsn = self.append(1, subflow, 0, true)?;
        self.data_fin = Some(self.snd_nxt - 1);
        Ok(dsn)
    }

    fn append(
        &mut self,
        len: u64,
        subflow: SubflowId,
        subflow_seq: u64,
        data_fin: bool,
    ) -> Result<u64, SendError> {
        if len == 0 {
            return Err(SendError::Empty);
        }
        let end = self.snd_nxt.checked_add(len).ok_or(SendError::OutOfRange)?;
        let dsn = self.snd_nxt();
        let extended = match self.map.last() {
            Some((key, last))
                if !data_fin
                    && !last.data_fin
                    && last.subflow == Some(subflow)
                    && key.checked_add(last.len) == Some(self.snd_nxt)
                    && last.subflow_seq.checked_add(last.len) == Some(subflow_seq) =>
            {
                last.len += len;
                true
            }
            _ => false,
        };
        if !extended {
            let entry = SentEntry {
                len,
                subflow: Some(subflow),
                avoid: 0,
                subflow_seq,
                data_fin,
            };
            if self.map.insert(self.snd_nxt, entry).is_err() {
                return Err(SendError::NoMemory);
            }
        }
        self.snd_nxt = end;
        Ok(dsn)
    }

    /// Records that the DSNs `[dsn, dsn + len)`, already sent, were sent
    /// again on `subflow` from its subflow offset `subflow_seq` (a
    /// reinjection, or a retransmission on another path): they are now held
    /// by that subflow. DSNs already DATA_ACKed are skipped.
    ///
    /// Records are split where the range starts and ends inside them, which
    /// may allocate; on failure nothing is changed but such a split.
    pub fn resend(
        &mut self,
        dsn: u64,
        len: u64,
        subflow: SubflowId,
        subflow_seq: u64,
    ) -> Result<(), SendError> {
        if len == 0 {
            return Err(SendError::Empty);
        }
        // Place the range relative to snd_una, clipping what was acked.
        let ahead = dsn.wrapping_sub(self.snd_una());
        let (start, skipped) = if seq::before64(dsn, self.snd_una()) {
            let behind = ahead.wrapping_neg();
            if behind >= len {
                return Ok(());
            }
            (self.snd_una, behind)
        } else {
            (
                self.snd_una
                    .checked_add(ahead)
                    .ok_or(SendError::OutOfRange)?,
                0,
            )
        };
        let end = start
            .checked_add(len - skipped)
            .filter(|&end| end <= self.snd_nxt)
            .ok_or(SendError::OutOfRange)?;
        self.split_at(start)?;
        self.split_at(end)?;
        let base = subflow_seq.saturating_add(skipped);
        let mut cursor = self.map.ceil(start);
        while let Some((key, entry)) = cursor {
            if key >= end {
                break;
            }
            entry.subflow = Some(subflow);
            entry.subflow_seq = if entry.data_fin {
                0
            } else {
                base.saturating_add(key - start)
            };
            cursor = self.map.next_after(key);
        }
        Ok(())
    }

    /// Splits the record that contains `at` (not at its start) in two.
    fn split_at(&mut self, at: u64) -> Result<(), SendError> {
        let Some((key, entry)) = self.map.floor(at) else {
            return Ok(());
        };
        let entry = *entry;
        if key == at || key.saturating_add(entry.len) <= at {
            return Ok(());
        }
        let front = at - key;
        let back = SentEntry {
            len: entry.len - front,
            subflow_seq: entry.subflow_seq.saturating_add(front),
            ..entry
        };
        if self.map.insert(at, back).is_err() {
            return Err(SendError::NoMemory);
        }
        if let Some((_, entry)) = self.map.floor(key) {
            entry.len = front;
        }
        Ok(())
    }

    /// Processes a DATA_ACK: the 64-bit DSN of the next octet the peer
    /// expects (see [`seq::expand_dsn`] for a 4-octet one). A DATA_ACK
    /// beyond `snd_nxt` or before `snd_una` is ignored with an error;
    /// otherwise `snd_una` advances to it and the records it covers are
    /// dropped.
    pub fn data_ack(&mut self, ack: u64) -> Result<Acked, AckError> {
        if seq::before64(ack, self.snd_una()) {
            return Err(AckError::Stale);
        }
        let advance = ack.wrapping_sub(self.snd_una());
        if advance > self.in_flight() {
            return Err(AckError::BeyondSndNxt);
        }
        let old_una = self.snd_una;
        self.snd_una += advance;
        while let Some((key, entry)) = self.map.first() {
            if key.saturating_add(entry.len) > self.snd_una {
                break;
            }
            self.map.remove(key);
        }
        let data_fin = self
            .data_fin
            .is_some_and(|fin| old_una <= fin && fin < self.snd_una);
        Ok(Acked {
            bytes: advance - u64::from(data_fin),
            data_fin,
        })
    }

    /// Marks everything `subflow` holds and was not DATA_ACKed as awaiting
    /// reinjection, when the subflow failed (or was closed with data in
    /// flight). Returns the number of DSNs marked.
    pub fn fail_subflow(&mut self, subflow: SubflowId) -> u64 {
        let mut marked: u64 = 0;
        let mut cursor = self.map.first();
        while let Some((key, entry)) = cursor {
            if entry.subflow == Some(subflow) {
                self.maybe_reinjecting = true;
                entry.subflow = None;
                entry.avoid = subflow_bit(subflow);
                let end = key.saturating_add(entry.len);
                marked = marked.saturating_add(end - key.max(self.snd_una));
            }
            cursor = self.map.next_after(key);
        }
        marked
    }

    /// The first record at or after the DSN `from` (or containing it), from
    /// `max(from, snd_una)`; DSNs before `snd_una` count as `snd_una`.
    /// Walking `[snd_una, snd_nxt)` record by record: start at `snd_una()`,
    /// continue at `dsn + len`.
    pub fn next_range(&mut self, from: u64) -> Option<SentRange> {
        self.find_range(from, |_| true)
    }

    /// The first range awaiting reinjection at or after the DSN `from`, as
    /// [`Sender::next_range`]. The scheduler resends it on a working subflow
    /// and records that with [`Sender::resend`].
    pub fn next_reinjection(&mut self, from: u64) -> Option<SentRange> {
        self.find_reinjection(from, 0)
    }

    /// As [`Sender::next_reinjection`], for `subflow` to send: the ranges
    /// taken from it (it failed or stalled with them) are left to others.
    pub fn next_reinjection_for(&mut self, from: u64, subflow: SubflowId) -> Option<SentRange> {
        self.find_reinjection(from, subflow_bit(subflow))
    }

    /// The first range awaiting reinjection at or after `from` whose
    /// `avoid` bits have none of `avoid`.
    fn find_reinjection(&mut self, from: u64, avoid: u8) -> Option<SentRange> {
        if !self.maybe_reinjecting {
            return None;
        }
        let whole = !seq::before64(self.snd_una(), from);
        let mut awaiting = false;
        let found = self.find_range(from, |entry| {
            awaiting |= entry.subflow.is_none();
            entry.subflow.is_none() && entry.avoid & avoid == 0
        });
        if found.is_none() && whole && !awaiting {
            self.maybe_reinjecting = false;
        }
        found
    }

    fn find_range(
        &mut self,
        from: u64,
        mut wanted: impl FnMut(&SentEntry) -> bool,
    ) -> Option<SentRange> {
        let from = if seq::before64(from, self.snd_una()) {
            self.snd_una
        } else {
            self.snd_una
                .checked_add(from.wrapping_sub(self.snd_una()))?
        };
        let mut cursor = match self.map.floor(from) {
            Some((key, entry)) if key.saturating_add(entry.len) > from => Some((key, entry)),
            _ => self.map.ceil(from),
        };
        while let Some((key, entry)) = cursor {
            if wanted(entry) {
                let start = key.max(from);
                let into = start - key;
                return Some(SentRange {
                    dsn: seq::offset_to_dsn(self.idsn, start),
                    len: entry.len - into,
                    subflow: entry.subflow,
                    subflow_seq: entry.subflow_seq.saturating_add(into),
                    data_fin: entry.data_fin,
                });
            }
            cursor = self.map.next_after(key);
        }
        None
    }
}

/// Test vectors, run on the host and as KUnit cases with the kernel's
/// rbtree-backed store.
#[cfg(any(test, CONFIG_KUNIT))]
pub fn selftest<M: SeqMap<SentEntry> + Default>(c: &mut dyn super::check::Check) {
    // DSNs wrap after the first 10 octets.
    const IDSN: u64 = u64::MAX - 10;
    let dsn = |offset: u64| IDSN.wrapping_add(1).wrapping_add(offset);
    let range = |offset: u64, len: u64, subflow: Option<SubflowId>, subflow_seq: u64| SentRange {
        dsn: dsn(offset),
        len,
        subflow,
        subflow_seq,
        data_fin: false,
    };
    let mut s = Sender::new(M::default(), IDSN);
    check_eq!(
        c,
        (s.snd_una(), s.snd_nxt(), s.in_flight()),
        (dsn(0), dsn(0), 0)
    );
    check_eq!(c, s.next_range(s.snd_una()), None);

    // 30 octets on subflow 1 in two contiguous sends: one record.
    check_eq!(c, s.send(10, 1, 1), Ok(dsn(0)));
    check_eq!(c, s.send(20, 1, 11), Ok(dsn(10)));
    check_eq!(c, s.entries(), 1);
    // 20 on subflow 2, then 10 more on subflow 1 (not contiguous there).
    check_eq!(c, s.send(20, 2, 1), Ok(dsn(30)));
    check_eq!(c, s.send(10, 1, 41), Ok(dsn(50)));
    check_eq!(c, s.send(0, 1, 51), Err(SendError::Empty));
    check_eq!(
        c,
        (s.entries(), s.in_flight(), s.snd_nxt()),
        (3, 60, dsn(60))
    );
    check_eq!(c, s.next_range(dsn(5)), Some(range(5, 25, Some(1), 6)));
    check_eq!(c, s.next_range(dsn(30)), Some(range(30, 20, Some(2), 1)));

    // DATA_ACKs: beyond snd_nxt and stale ones are ignored.
    check_eq!(c, s.data_ack(dsn(61)), Err(AckError::BeyondSndNxt));
    check_eq!(c, s.data_ack(dsn(0).wrapping_sub(1)), Err(AckError::Stale));
    check_eq!(
        c,
        s.data_ack(dsn(0)),
        Ok(Acked {
            bytes: 0,
            data_fin: false
        })
    );
    // Into the middle of the first record: kept, reported clipped.
    check_eq!(
        c,
        s.data_ack(dsn(12)),
        Ok(Acked {
            bytes: 12,
            data_fin: false
        })
    );
    check_eq!(c, s.data_ack(dsn(11)), Err(AckError::Stale));
    check_eq!(c, (s.snd_una(), s.entries()), (dsn(12), 3));
    check_eq!(c, s.next_range(dsn(0)), Some(range(12, 18, Some(1), 13)));

    // Subflow 1 fails: its unacknowledged octets await reinjection.
    check_eq!(c, s.fail_subflow(1), 28);
    check_eq!(c, s.fail_subflow(1), 0);
    // Not back to subflow 1, which failed with them.
    check_eq!(c, s.next_reinjection_for(s.snd_una(), 1), None);
    check_eq!(
        c,
        s.next_reinjection_for(s.snd_una(), 2),
        Some(range(12, 18, None, 13))
    );
    check_eq!(
        c,
        s.next_reinjection(s.snd_una()),
        Some(range(12, 18, None, 13))
    );
    check_eq!(
        c,
        s.next_reinjection(dsn(30)),
        Some(range(50, 10, None, 41))
    );
    check_eq!(c, s.next_reinjection(dsn(60)), None);
    // The scheduler reinjects 8 octets of the first range on subflow 2:
    // the record is split.
    check_eq!(c, s.resend(dsn(12), 8, 2, 21), Ok(()));
    check_eq!(c, s.next_range(dsn(12)), Some(range(12, 8, Some(2), 21)));
    check_eq!(
        c,
        s.next_reinjection(s.snd_una()),
        Some(range(20, 10, None, 21))
    );
    // The rest, and the last range, in one resend spanning subflow 2's
    // record: all of it is now on subflow 3.
    check_eq!(c, s.resend(dsn(20), 40, 3, 1), Ok(()));
    check_eq!(c, s.next_reinjection(s.snd_una()), None);
    check_eq!(c, s.next_range(dsn(20)), Some(range(20, 10, Some(3), 1)));
    check_eq!(c, s.next_range(dsn(30)), Some(range(30, 20, Some(3), 11)));
    check_eq!(c, s.next_range(dsn(55)), Some(range(55, 5, Some(3), 36)));
    // Resends past snd_nxt are refused; below snd_una, clipped.
    check_eq!(c, s.resend(dsn(50), 11, 2, 1), Err(SendError::OutOfRange));
    check_eq!(c, s.resend(dsn(0), 12, 2, 1), Ok(()));
    check_eq!(c, s.resend(dsn(10), 4, 2, 100), Ok(()));
    check_eq!(c, s.next_range(dsn(12)), Some(range(12, 2, Some(2), 102)));

    // The DATA_FIN takes one DSN; nothing may follow it.
    check_eq!(c, s.send_data_fin(3), Ok(dsn(60)));
    check_eq!(c, s.data_fin(), Some(dsn(60)));
    check_eq!(c, s.send(1, 3, 51), Err(SendError::Closed));
    check_eq!(c, s.send_data_fin(3), Err(SendError::Closed));
    check_eq!(c, (s.snd_nxt(), s.in_flight()), (dsn(61), 49));
    // Subflow 3 fails: its data and the DATA_FIN await reinjection.
    check_eq!(c, s.fail_subflow(3), 41);
    let fin = SentRange {
        dsn: dsn(60),
        len: 1,
        subflow: None,
        subflow_seq: 0,
        data_fin: true,
    };
    check_eq!(c, s.next_reinjection(dsn(59)), Some(range(59, 1, None, 40)));
    check_eq!(c, s.next_reinjection(dsn(60)), Some(fin));
    check_eq!(c, s.resend(dsn(60), 1, 2, 0), Ok(()));
    check_eq!(
        c,
        s.next_range(dsn(60)),
        Some(SentRange {
            subflow: Some(2),
            ..fin
        })
    );
    // Acknowledging data only, then the DATA_FIN as well.
    check_eq!(
        c,
        s.data_ack(dsn(60)),
        Ok(Acked {
            bytes: 48,
            data_fin: false
        })
    );
    check!(c, !s.data_fin_acked());
    check_eq!(
        c,
        s.data_ack(dsn(61)),
        Ok(Acked {
            bytes: 0,
            data_fin: true
        })
    );
    check!(c, s.data_fin_acked());
    check_eq!(c, (s.entries(), s.in_flight()), (0, 0));
    check_eq!(
        c,
        s.data_ack(dsn(61)),
        Ok(Acked {
            bytes: 0,
            data_fin: false
        })
    );

    // Data and DATA_FIN acknowledged at once.
    let mut s = Sender::new(M::default(), 0);
    check_eq!(c, s.send(100, 7, 1), Ok(1));
    check_eq!(c, s.send_data_fin(7), Ok(101));
    check_eq!(
        c,
        s.data_ack(102),
        Ok(Acked {
            bytes: 100,
            data_fin: true
        })
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FailingMap;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::vec::Vec;

    #[test]
    fn vectors() {
        selftest::<BTreeMap<u64, SentEntry>>(&mut crate::check::PanicCheck);
    }

    #[test]
    fn no_memory() {
        let mut s = Sender::new(
            FailingMap {
                budget: 2,
                ..FailingMap::default()
            },
            0,
        );
        assert_eq!(s.send(10, 1, 1), Ok(1));
        assert_eq!(s.send(10, 1, 11), Ok(11));
        assert_eq!(s.send(10, 2, 1), Ok(21));
        assert_eq!(s.send(10, 3, 1), Err(SendError::NoMemory));
        assert_eq!(s.send_data_fin(3), Err(SendError::NoMemory));
        assert_eq!(s.snd_nxt(), 31);
        assert_eq!(s.data_fin(), None);
        // A resend that needs a split fails; on record boundaries it works.
        assert_eq!(s.resend(5, 10, 3, 1), Err(SendError::NoMemory));
        assert_eq!(s.resend(1, 20, 3, 1), Ok(()));
        assert_eq!(
            s.next_range(1),
            Some(SentRange {
                dsn: 1,
                len: 20,
                subflow: Some(3),
                subflow_seq: 1,
                data_fin: false
            })
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Send {
            len: u64,
            subflow: SubflowId,
        },
        DataFin {
            subflow: SubflowId,
        },
        Ack {
            fraction: u8,
        },
        BadAck {
            ahead: bool,
            by: u64,
        },
        Fail {
            subflow: SubflowId,
        },
        Reinject {
            subflow: SubflowId,
            max: u64,
        },
        Resend {
            at: u8,
            len: u64,
            subflow: SubflowId,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (1u64..100, 0u32..4).prop_map(|(len, subflow)| Op::Send { len, subflow }),
            1 => (0u32..4).prop_map(|subflow| Op::DataFin { subflow }),
            4 => any::<u8>().prop_map(|fraction| Op::Ack { fraction }),
            1 => (any::<bool>(), 1u64..1000).prop_map(|(ahead, by)| Op::BadAck { ahead, by }),
            2 => (0u32..4).prop_map(|subflow| Op::Fail { subflow }),
            3 => (0u32..4, 1u64..150).prop_map(|(subflow, max)| Op::Reinject { subflow, max }),
            2 => (any::<u8>(), 1u64..80, 0u32..4).prop_map(|(at, len, subflow)| Op::Resend { at, len, subflow }),
        ]
    }

    /// Per DSN offset from snd_una: who holds it, at which subflow offset
    /// (`None` for the DATA_FIN), or awaiting reinjection.
    type Model = Vec<(Option<SubflowId>, Option<u64>)>;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn records_cover_the_window_exactly(
            idsn: u64,
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            let mut s = Sender::new(BTreeMap::new(), idsn);
            let mut model: Model = Vec::new();
            let mut ssn = [1u64; 4];
            let mut fin_sent = false;
            let mut fin_acked = false;
            for op in ops {
                match op {
                    Op::Send { len, subflow } => {
                        let snd_nxt = s.snd_nxt();
                        let outcome = s.send(len, subflow, ssn[subflow as usize]);
                        if fin_sent {
                            prop_assert_eq!(outcome, Err(SendError::Closed));
                            continue;
                        }
                        prop_assert_eq!(outcome, Ok(snd_nxt));
                        for i in 0..len {
                            model.push((Some(subflow), Some(ssn[subflow as usize] + i)));
                        }
                        ssn[subflow as usize] += len;
                    }
                    Op::DataFin { subflow } => {
                        let outcome = s.send_data_fin(subflow);
                        if fin_sent {
                            prop_assert_eq!(outcome, Err(SendError::Closed));
                        } else {
                            prop_assert!(outcome.is_ok());
                            model.push((Some(subflow), None));
                            fin_sent = true;
                        }
                    }
                    Op::Ack { fraction } => {
                        let advance = model.len() as u64 * u64::from(fraction) / 255;
                        let ack = s.snd_una().wrapping_add(advance);
                        let acked = s.data_ack(ack).unwrap();
                        let gone: Vec<_> = model.drain(..advance as usize).collect();
                        let fin_in = gone.iter().any(|(_, at)| at.is_none());
                        prop_assert_eq!(acked, Acked { bytes: advance - u64::from(fin_in), data_fin: fin_in });
                        fin_acked |= fin_in;
                    }
                    Op::BadAck { ahead, by } => {
                        let ack = if ahead {
                            s.snd_nxt().wrapping_add(by)
                        } else {
                            s.snd_una().wrapping_sub(by)
                        };
                        let expected = if ahead { AckError::BeyondSndNxt } else { AckError::Stale };
                        prop_assert_eq!(s.data_ack(ack), Err(expected));
                    }
                    Op::Fail { subflow } => {
                        let expected = model.iter().filter(|(h, _)| *h == Some(subflow)).count() as u64;
                        prop_assert_eq!(s.fail_subflow(subflow), expected);
                        for entry in model.iter_mut().filter(|(h, _)| *h == Some(subflow)) {
                            entry.0 = None;
                        }
                    }
                    Op::Reinject { subflow, max } => {
                        // The scheduler resends up to `max` octets of the
                        // first range awaiting reinjection.
                        if let Some(r) = s.next_reinjection(s.snd_una()) {
                            let len = r.len.min(max);
                            let at = r.dsn.wrapping_sub(s.snd_una()) as usize;
                            for i in 0..len as usize {
                                prop_assert_eq!(model[at + i].0, None);
                            }
                            prop_assert_eq!(s.resend(r.dsn, len, subflow, ssn[subflow as usize]), Ok(()));
                            for i in 0..len as usize {
                                let fin = model[at + i].1.is_none();
                                model[at + i] = (Some(subflow), (!fin).then(|| ssn[subflow as usize] + i as u64));
                            }
                            ssn[subflow as usize] += len;
                        } else {
                            prop_assert!(model.iter().all(|(h, _)| h.is_some()));
                        }
                    }
                    Op::Resend { at, len, subflow } => {
                        // A range starting anywhere from a little before
                        // snd_una, possibly past snd_nxt.
                        let at = model.len() as i64 * i64::from(at) / 255 - 5;
                        let dsn = s.snd_una().wrapping_add(at as u64);
                        let outcome = s.resend(dsn, len, subflow, ssn[subflow as usize]);
                        if at + len as i64 > model.len() as i64 {
                            prop_assert_eq!(outcome, Err(SendError::OutOfRange));
                            continue;
                        }
                        prop_assert_eq!(outcome, Ok(()));
                        for i in at.max(0)..at + len as i64 {
                            let o = (i - at) as u64;
                            let fin = model[i as usize].1.is_none();
                            model[i as usize] = (Some(subflow), (!fin).then(|| ssn[subflow as usize] + o));
                        }
                        ssn[subflow as usize] += len;
                    }
                }
                // The records, walked from snd_una, cover [snd_una, snd_nxt)
                // exactly, as the model says.
                prop_assert_eq!(s.in_flight(), model.len() as u64);
                let mut walked: Model = Vec::new();
                let mut at = s.snd_una();
                while let Some(r) = s.next_range(at) {
                    prop_assert_eq!(r.dsn, at);
                    prop_assert!(r.len > 0);
                    for i in 0..r.len {
                        walked.push((r.subflow, (!r.data_fin).then(|| r.subflow_seq + i)));
                    }
                    at = r.dsn.wrapping_add(r.len);
                }
                prop_assert_eq!(at, s.snd_nxt());
                prop_assert_eq!(&walked, &model);
                // The reinjection list is exactly what no subflow holds.
                let mut pending = 0;
                let mut at = s.snd_una();
                while let Some(r) = s.next_reinjection(at) {
                    prop_assert_eq!(r.subflow, None);
                    pending += r.len;
                    at = r.dsn.wrapping_add(r.len);
                }
                prop_assert_eq!(pending, model.iter().filter(|(h, _)| h.is_none()).count() as u64);
                prop_assert_eq!(s.data_fin_acked(), fin_acked);
            }
        }
    }
}

// SPDX-License-Identifier: GPL-2.0

//! A subflow's table of data-sequence mappings (RFC 8684, section 3.3.1).
//!
//! The DSS option maps a range of a subflow's octets (its subflow sequence
//! number, relative to the subflow's initial sequence number, and the
//! data-level length) onto the connection's data sequence space. A mapping
//! may cover many segments, arrives with any of them, possibly out of order
//! and repeated on retransmissions. The receiving subflow records each
//! mapping here as its segment arrives and looks up the DSN of its octets as
//! they become in order at the subflow level.
//!
//! Mappings are kept in the caller's [`SeqMap`], keyed by the offset of
//! their first octet from the subflow's initial sequence number. Entries are
//! disjoint. A mapping that repeats, extends or touches a recorded one
//! consistently (the same octets to the same DSNs) is merged into it, so the
//! table holds one entry per run of contiguous data. A mapping that sends
//! recorded octets to other DSNs is a protocol error that
//! [`MappingTable::record`] reports without changing anything: RFC 8684
//! asks the receiver to reset the subflow (or send MP_FAIL).
//!
//! DATA_FIN: the data-level length of a mapping that carries the DATA_FIN
//! counts it as one octet that has no subflow octet: such a mapping covers
//! `data_len - 1` subflow octets, and the DATA_FIN has the DSN after them. A
//! DATA_FIN-only mapping (subflow sequence number 0, data-level length 1)
//! covers no subflow octet at all; the table remembers the DSN of the
//! DATA_FIN of either kind.

use super::seq;
use super::store::SeqMap;

/// One mapping, as carried in a DSS option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The offset of the mapping's first octet from the subflow's initial
    /// sequence number (see [`Mapping::from_dss`]).
    pub subflow_seq: u64,
    /// The 64-bit DSN of its first octet (see [`seq::expand_dsn`] for a
    /// 4-octet DSN).
    pub dsn: u64,
    /// The data-level length: the octets mapped, plus one if `data_fin`.
    /// Zero is the infinite mapping of fallback (RFC 8684, section 3.7).
    pub data_len: u32,
    /// Whether the mapping carries the DATA_FIN (the DSS's F flag).
    pub data_fin: bool,
}

impl Mapping {
    /// A mapping from the fields of a DSS option: `subflow_seq` is the
    /// option's 32-bit subflow sequence number, relative to the subflow's
    /// initial sequence number; it is widened around `reference`, an offset
    /// known to be close (the subflow's next expected octet). `None` if it
    /// lies before the initial sequence number.
    pub fn from_dss(
        reference: u64,
        subflow_seq: u32,
        dsn: u64,
        data_len: u16,
        data_fin: bool,
    ) -> Option<Self> {
        let subflow_seq = if data_fin && data_len == 1 && subflow_seq == 0 {
            // DATA_FIN-only: no subflow octet, nothing to widen.
            0
        } else {
            seq::expand_offset(reference, subflow_seq)?
        };
        Some(Self {
            subflow_seq,
            dsn,
            data_len: u32::from(data_len),
            data_fin,
        })
    }

    /// The number of subflow octets mapped: the data-level length less the
    /// DATA_FIN.
    pub fn subflow_len(&self) -> u32 {
        self.data_len.saturating_sub(u32::from(self.data_fin))
    }

    /// Whether this is the infinite mapping of fallback.
    pub fn is_infinite(&self) -> bool {
        self.data_len == 0
    }

    /// The DSN of the DATA_FIN, if the mapping carries one: the DSN after the
    /// last mapped octet.
    pub fn data_fin_dsn(&self) -> Option<u64> {
        if self.data_fin && self.data_len > 0 {
            Some(self.dsn.wrapping_add(u64::from(self.subflow_len())))
        } else {
            None
        }
    }
}

/// A run of subflow octets mapped contiguously: the value stored in the
/// [`SeqMap`], at the offset of the run's first subflow octet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapEntry {
    /// The DSN of the first octet.
    pub dsn: u64,
    /// The number of subflow octets (never 0).
    pub len: u64,
    /// Whether the DATA_FIN follows the last octet.
    pub data_fin: bool,
}

impl MapEntry {
    /// The DSN minus the subflow offset: two mappings that share octets
    /// agree iff this is the same for both.
    fn delta(&self, key: u64) -> u64 {
        self.dsn.wrapping_sub(key)
    }
}

/// How [`MappingTable::record`] took a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// It was stored as a new entry.
    New,
    /// It was merged with recorded mappings that it extends or touches.
    Merged,
    /// It was recorded already (a retransmission): nothing changed.
    Duplicate,
    /// A DATA_FIN-only mapping: no subflow octet, its DSN is remembered.
    DataFinOnly,
}

/// Why [`MappingTable::record`] refused a mapping. Nothing was changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// Octets already mapped are mapped to other DSNs, or past a DATA_FIN
    /// that ended them: a protocol error (reset the subflow or MP_FAIL).
    Conflict {
        /// The offset of the first recorded mapping in conflict.
        subflow_seq: u64,
    },
    /// A DATA_FIN at another DSN was seen before: a protocol error.
    DataFinMismatch,
    /// The infinite mapping (data-level length 0): not recorded; the
    /// caller falls back to regular TCP (RFC 8684, section 3.7).
    Infinite,
    /// The mapping's end lies past 2^64: it cannot be represented.
    OutOfRange,
    /// The [`SeqMap`] could not allocate an entry.
    NoMemory,
}

/// What [`MappingTable::lookup`] found for a subflow octet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapped {
    /// The DSN of the octet.
    pub dsn: u64,
    /// The octets mapped contiguously from it on, itself included.
    pub len: u64,
    /// Whether the DATA_FIN follows those octets.
    pub data_fin: bool,
}

/// The mappings received on one subflow.
pub struct MappingTable<M: SeqMap<MapEntry>> {
    /// Disjoint runs of mapped octets, keyed by subflow offset.
    map: M,
    /// The DSN of the DATA_FIN, once a mapping carried it.
    data_fin: Option<u64>,
}

impl<M: SeqMap<MapEntry>> MappingTable<M> {
    /// An empty table stored in `map`.
    pub fn new(map: M) -> Self {
        Self {
            map,
            data_fin: None,
        }
    }

    /// The number of entries (runs of contiguously mapped octets).
    pub fn entries(&self) -> usize {
        self.map.len()
    }

    /// The DSN of the DATA_FIN, once a mapping carried it.
    pub fn data_fin(&self) -> Option<u64> {
        self.data_fin
    }

    /// Records `mapping`, received on this subflow. See [`Recorded`] and
    /// [`RecordError`]; on error the table is unchanged.
    pub fn record(&mut self, mapping: Mapping) -> Result<Recorded, RecordError> {
        if mapping.is_infinite() {
            return Err(RecordError::Infinite);
        }
        let fin_dsn = mapping.data_fin_dsn();
        if let (Some(fin), Some(known)) = (fin_dsn, self.data_fin) {
            if fin != known {
                return Err(RecordError::DataFinMismatch);
            }
        }
        let len = u64::from(mapping.subflow_len());
        if len == 0 {
            // DATA_FIN-only.
            self.data_fin = fin_dsn;
            return Ok(Recorded::DataFinOnly);
        }
        let start = mapping.subflow_seq;
        let end = start.checked_add(len).ok_or(RecordError::OutOfRange)?;
        let delta = mapping.dsn.wrapping_sub(start);

        // First pass, read only: check the recorded entries that share
        // octets with [start, end) and find the union with those that
        // consistently overlap or touch it.
        let mut union = (start, end, mapping.data_fin);
        let mut merges = 0usize;
        let mut at_start = false;
        let mut cursor = match self.map.floor(start) {
            Some((key, _)) => Some(key),
            None => self.map.ceil(start).map(|(key, _)| key),
        };
        while let Some(key) = cursor {
            if key > end {
                break;
            }
            let Some((_, entry)) = self.map.ceil(key) else {
                break;
            };
            let entry = *entry;
            cursor = self.map.next_after(key).map(|(next, _)| next);
            let entry_end = key.saturating_add(entry.len);
            if entry_end < start {
                continue;
            }
            let consistent = entry.delta(key) == delta;
            let overlaps = key < end && entry_end > start;
            if overlaps {
                // The same octets must map to the same DSNs, and no octet
                // may follow a DATA_FIN.
                let past_old_fin = entry.data_fin && end > entry_end;
                let past_new_fin = mapping.data_fin && entry_end > end;
                if !consistent || past_old_fin || past_new_fin {
                    return Err(RecordError::Conflict { subflow_seq: key });
                }
                if key <= start && entry_end >= end && (entry.data_fin || !mapping.data_fin) {
                    return Ok(Recorded::Duplicate);
                }
            } else {
                // Touching: merge only a consistent run not ended by a
                // DATA_FIN before the other.
                let ended = if entry_end == start {
                    entry.data_fin
                } else {
                    mapping.data_fin
                };
                if !consistent || ended {
                    continue;
                }
            }
            union.0 = union.0.min(key);
            union.1 = union.1.max(entry_end);
            union.2 |= entry.data_fin;
            merges += 1;
            at_start |= key == union.0;
        }

        // Second pass: store the union at its first key, in place if an
        // entry is there already, then drop the other merged entries.
        let (lo, hi, data_fin) = union;
        let merged = MapEntry {
            dsn: delta.wrapping_add(lo),
            len: hi - lo,
            data_fin,
        };
        if at_start {
            if let Some((_, slot)) = self.map.ceil(lo) {
                *slot = merged;
            }
        } else if self.map.insert(lo, merged).is_err() {
            return Err(RecordError::NoMemory);
        }
        while let Some((key, _)) = self.map.next_after(lo) {
            if key >= hi {
                break;
            }
            self.map.remove(key);
        }
        if fin_dsn.is_some() {
            self.data_fin = fin_dsn;
        }
        Ok(if merges == 0 {
            Recorded::New
        } else {
            Recorded::Merged
        })
    }

    /// The DSN of the subflow octet at offset `subflow_seq`, with how many
    /// octets from it on are mapped contiguously; `None` if no mapping
    /// covers it.
    pub fn lookup(&mut self, subflow_seq: u64) -> Option<Mapped> {
        let (key, entry) = self.map.floor(subflow_seq)?;
        let into = subflow_seq - key;
        if into >= entry.len {
            return None;
        }
        Some(Mapped {
            dsn: entry.dsn.wrapping_add(into),
            len: entry.len - into,
            data_fin: entry.data_fin,
        })
    }

    /// Forgets the mappings of every octet before offset `subflow_seq` (the
    /// subflow's data there was consumed). A run that reaches `subflow_seq`
    /// is kept whole. Returns the number of entries dropped.
    pub fn prune(&mut self, subflow_seq: u64) -> usize {
        let mut dropped = 0;
        while let Some((key, entry)) = self.map.first() {
            if key.saturating_add(entry.len) > subflow_seq {
                break;
            }
            self.map.remove(key);
            dropped += 1;
        }
        dropped
    }
}

/// A mapping this host sent, exactly as it went on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentMapping {
    /// DSN of the first octet.
    pub dsn: u64,
    /// Octets mapped.
    pub len: u32,
}

/// The mappings this host sent on one subflow, keyed by subflow offset.
///
/// Unlike a [`MappingTable`], nothing is merged: a segment sent again must
/// carry the very mapping it carried the first time (same start, same
/// length), or the receiver sees two different mappings for its octets.
pub struct SentMappings<M: SeqMap<SentMapping>> {
    map: M,
}

impl<M: SeqMap<SentMapping>> SentMappings<M> {
    /// An empty record stored in `map`.
    pub fn new(map: M) -> Self {
        Self { map }
    }

    /// The number of mappings kept.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Records that `len` octets at subflow offset `subflow_seq` were mapped
    /// to DSN `dsn`. Offsets must not overlap a kept mapping (ours never
    /// do); an overlapping or empty one is refused. Gives false on refusal
    /// or if no memory was left.
    pub fn record(&mut self, subflow_seq: u64, dsn: u64, len: u32) -> bool {
        if len == 0 || subflow_seq.checked_add(u64::from(len)).is_none() {
            return false;
        }
        if let Some((key, prev)) = self.map.floor(subflow_seq) {
            if key.saturating_add(u64::from(prev.len)) > subflow_seq {
                return false;
            }
        }
        if let Some((key, _)) = self.map.ceil(subflow_seq) {
            if key < subflow_seq + u64::from(len) {
                return false;
            }
        }
        self.map
            .insert(subflow_seq, SentMapping { dsn, len })
            .is_ok()
    }

    /// Lengthens the mapping that starts at `subflow_seq` by `extra`
    /// octets, if it is the last one and its length still fits a DSS
    /// option. Returns the offset where it ends now.
    pub fn extend(&mut self, subflow_seq: u64, extra: u32) -> Option<u64> {
        if self.map.ceil(subflow_seq.checked_add(1)?).is_some() {
            return None;
        }
        let (key, m) = self.map.floor(subflow_seq)?;
        if key != subflow_seq {
            return None;
        }
        let len = m
            .len
            .checked_add(extra)
            .filter(|&l| l <= u32::from(u16::MAX))?;
        m.len = len;
        subflow_seq.checked_add(u64::from(len))
    }

    /// The mapping that covers the octet at subflow offset `subflow_seq`,
    /// with the offset where it starts.
    pub fn at(&mut self, subflow_seq: u64) -> Option<(u64, SentMapping)> {
        let (key, m) = self.map.floor(subflow_seq)?;
        (subflow_seq - key < u64::from(m.len)).then_some((key, *m))
    }

    /// Forgets the mappings that end at or before `subflow_seq` (acked by
    /// the subflow: they will not be sent again). Returns how many.
    pub fn prune(&mut self, subflow_seq: u64) -> usize {
        let mut dropped = 0;
        while let Some((key, m)) = self.map.first() {
            if key.saturating_add(u64::from(m.len)) > subflow_seq {
                break;
            }
            self.map.remove(key);
            dropped += 1;
        }
        dropped
    }
}

/// Test vectors of [`SentMappings`], run on the host and as KUnit cases.
#[cfg(any(test, CONFIG_KUNIT))]
pub fn sent_selftest<M: SeqMap<SentMapping> + Default>(c: &mut dyn super::check::Check) {
    let mut sent = SentMappings::new(M::default());
    check!(c, sent.record(1, 1000, 100));
    check!(c, sent.record(101, 5000, 50));
    // Contiguous in both spaces: still two mappings.
    check!(c, sent.record(151, 5050, 10));
    check_eq!(c, sent.len(), 3);
    check_eq!(
        c,
        sent.at(1),
        Some((
            1,
            SentMapping {
                dsn: 1000,
                len: 100
            }
        ))
    );
    check_eq!(
        c,
        sent.at(100),
        Some((
            1,
            SentMapping {
                dsn: 1000,
                len: 100
            }
        ))
    );
    check_eq!(
        c,
        sent.at(101),
        Some((101, SentMapping { dsn: 5000, len: 50 }))
    );
    check_eq!(
        c,
        sent.at(155),
        Some((151, SentMapping { dsn: 5050, len: 10 }))
    );
    check_eq!(c, sent.at(161), None);
    check_eq!(c, sent.at(0), None);
    // Overlaps and empty mappings are refused.
    check!(c, !sent.record(50, 9, 10));
    check!(c, !sent.record(0, 9, 2));
    check!(c, !sent.record(200, 9, 0));
    check!(c, !sent.record(u64::MAX - 1, 9, 5));
    // Pruning drops what ends at or before the offset.
    check_eq!(c, sent.prune(100), 0);
    check_eq!(c, sent.prune(101), 1);
    check_eq!(c, sent.at(50), None);
    check_eq!(c, sent.prune(1000), 2);
    check!(c, sent.is_empty());
}

/// Test vectors, run on the host and as KUnit cases with the kernel's
/// rbtree-backed store.
#[cfg(any(test, CONFIG_KUNIT))]
pub fn selftest<M: SeqMap<MapEntry> + Default>(c: &mut dyn super::check::Check) {
    let map = |subflow_seq: u64, dsn: u64, data_len: u32| Mapping {
        subflow_seq,
        dsn,
        data_len,
        data_fin: false,
    };
    let fin = |subflow_seq: u64, dsn: u64, data_len: u32| Mapping {
        subflow_seq,
        dsn,
        data_len,
        data_fin: true,
    };
    let found = |dsn: u64, len: u64, data_fin: bool| Some(Mapped { dsn, len, data_fin });

    // From DSS fields: the subflow sequence number is relative to the ISN
    // and widened around the reference.
    check_eq!(
        c,
        Mapping::from_dss(0xffff_fff0, 5, 100, 10, false),
        Some(map(0x1_0000_0005, 100, 10))
    );
    check_eq!(c, Mapping::from_dss(10, 0xffff_fff0, 100, 10, false), None);
    check_eq!(
        c,
        Mapping::from_dss(1 << 40, 0, 77, 1, true),
        Some(fin(0, 77, 1))
    );
    check_eq!(c, fin(10, 1000, 11).subflow_len(), 10);
    check_eq!(c, fin(10, 1000, 11).data_fin_dsn(), Some(1010));
    check_eq!(c, map(10, 1000, 11).data_fin_dsn(), None);
    // The DSN of the DATA_FIN wraps with the DSN space.
    check_eq!(c, fin(1, u64::MAX - 1, 3).data_fin_dsn(), Some(0));

    let mut t = MappingTable::new(M::default());
    // Subflow octets 1..101 carry DSN 1000..1100.
    check_eq!(c, t.record(map(1, 1000, 100)), Ok(Recorded::New));
    check_eq!(c, t.lookup(0), None);
    check_eq!(c, t.lookup(1), found(1000, 100, false));
    check_eq!(c, t.lookup(100), found(1099, 1, false));
    check_eq!(c, t.lookup(101), None);
    // Retransmitted whole, or in part: idempotent.
    check_eq!(c, t.record(map(1, 1000, 100)), Ok(Recorded::Duplicate));
    check_eq!(c, t.record(map(50, 1049, 20)), Ok(Recorded::Duplicate));
    // The same octets to other DSNs: a conflict, nothing changes.
    check_eq!(
        c,
        t.record(map(50, 2049, 20)),
        Err(RecordError::Conflict { subflow_seq: 1 })
    );
    check_eq!(
        c,
        t.record(map(90, 5000, 20)),
        Err(RecordError::Conflict { subflow_seq: 1 })
    );
    check_eq!(c, t.entries(), 1);
    // Out of order: a later mapping, with a DSN jump (a reinjection).
    check_eq!(c, t.record(map(201, 500, 100)), Ok(Recorded::New));
    check_eq!(c, t.lookup(250), found(549, 51, false));
    check_eq!(c, t.lookup(150), None);
    // The gap is filled contiguously with the first run: merged into it,
    // but not with the second, whose DSNs jump.
    check_eq!(c, t.record(map(101, 1100, 100)), Ok(Recorded::Merged));
    check_eq!(c, t.entries(), 2);
    check_eq!(c, t.lookup(150), found(1149, 51, false));
    check_eq!(c, t.lookup(200), found(1199, 1, false));
    check_eq!(c, t.lookup(201), found(500, 100, false));
    // Overlapping the end of a run consistently extends it.
    check_eq!(c, t.record(map(291, 590, 20)), Ok(Recorded::Merged));
    check_eq!(c, t.lookup(201), found(500, 110, false));
    // Conflicting with the second run only: reported at its key.
    check_eq!(
        c,
        t.record(map(190, 1189, 20)),
        Err(RecordError::Conflict { subflow_seq: 201 })
    );
    // A mapping covering two consistent runs and the gap between them.
    check_eq!(c, t.record(map(401, 2000, 10)), Ok(Recorded::New));
    check_eq!(c, t.record(map(421, 2020, 10)), Ok(Recorded::New));
    check_eq!(c, t.entries(), 4);
    check_eq!(c, t.record(map(395, 1994, 40)), Ok(Recorded::Merged));
    check_eq!(c, t.entries(), 3);
    check_eq!(c, t.lookup(395), found(1994, 40, false));
    // A DATA_FIN before octets already mapped: a conflict.
    check_eq!(
        c,
        t.record(fin(395, 1994, 5)),
        Err(RecordError::Conflict { subflow_seq: 395 })
    );

    // DATA_FIN carried by a mapping of 9 octets plus the DATA_FIN.
    check_eq!(c, t.record(fin(501, 3000, 10)), Ok(Recorded::New));
    check_eq!(c, t.data_fin(), Some(3009));
    check_eq!(c, t.lookup(509), found(3008, 1, true));
    check_eq!(c, t.lookup(510), None);
    // Repeated, or repeated without the flag in part: idempotent.
    check_eq!(c, t.record(fin(501, 3000, 10)), Ok(Recorded::Duplicate));
    check_eq!(c, t.record(map(501, 3000, 5)), Ok(Recorded::Duplicate));
    // Octets past it, consistently mapped: a conflict.
    check_eq!(
        c,
        t.record(map(505, 3004, 10)),
        Err(RecordError::Conflict { subflow_seq: 501 })
    );
    // Touching it after the DATA_FIN: not merged.
    check_eq!(c, t.record(map(510, 7000, 5)), Ok(Recorded::New));
    check_eq!(c, t.lookup(509), found(3008, 1, true));
    // Another DATA_FIN: a mismatch. The same one, DATA_FIN-only: fine.
    check_eq!(
        c,
        t.record(fin(0, 4000, 1)),
        Err(RecordError::DataFinMismatch)
    );
    check_eq!(c, t.record(fin(0, 3009, 1)), Ok(Recorded::DataFinOnly));
    check_eq!(c, t.record(map(600, 1, 0)), Err(RecordError::Infinite));
    check_eq!(
        c,
        t.record(map(u64::MAX - 5, 1, 10)),
        Err(RecordError::OutOfRange)
    );

    // Pruning drops the runs consumed entirely, keeps the one reaching on.
    check_eq!(c, t.entries(), 5);
    check_eq!(c, t.prune(100), 0);
    check_eq!(c, t.prune(201), 1);
    check_eq!(c, t.prune(300), 0);
    check_eq!(c, t.lookup(300), found(599, 11, false));
    check_eq!(c, t.prune(u64::MAX), 4);
    check_eq!(c, t.entries(), 0);
    check_eq!(c, t.data_fin(), Some(3009));

    // A DATA_FIN-only mapping first, then the data it ends.
    let mut t = MappingTable::new(M::default());
    check_eq!(c, t.record(fin(0, 50, 1)), Ok(Recorded::DataFinOnly));
    check_eq!(c, t.entries(), 0);
    check_eq!(c, t.record(fin(11, 40, 11)), Ok(Recorded::New));
    check_eq!(
        c,
        t.record(fin(11, 41, 11)),
        Err(RecordError::DataFinMismatch)
    );
    // Mapped DSNs wrap with the DSN space.
    check_eq!(c, t.record(map(1, u64::MAX - 4, 10)), Ok(Recorded::New));
    check_eq!(c, t.lookup(5), found(u64::MAX, 6, false));
    check_eq!(c, t.lookup(6), found(0, 5, false));
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
        selftest::<BTreeMap<u64, MapEntry>>(&mut crate::check::PanicCheck);
        sent_selftest::<BTreeMap<u64, SentMapping>>(&mut crate::check::PanicCheck);
    }

    #[test]
    fn no_memory_changes_nothing() {
        let mut t = MappingTable::new(FailingMap {
            budget: 1,
            ..FailingMap::default()
        });
        let map = |subflow_seq, dsn, data_len| Mapping {
            subflow_seq,
            dsn,
            data_len,
            data_fin: false,
        };
        assert_eq!(t.record(map(10, 100, 10)), Ok(Recorded::New));
        assert_eq!(t.record(map(30, 100, 10)), Err(RecordError::NoMemory));
        // Merging into an existing first key needs no allocation.
        assert_eq!(t.record(map(20, 110, 10)), Ok(Recorded::Merged));
        // A merge whose union starts before the recorded run needs one.
        assert_eq!(t.record(map(5, 95, 10)), Err(RecordError::NoMemory));
        assert_eq!(t.entries(), 1);
        assert_eq!(
            t.lookup(10),
            Some(Mapped {
                dsn: 100,
                len: 20,
                data_fin: false
            })
        );
    }

    /// A subflow stream whose octets map onto DSNs piece by piece: octet `o`
    /// of piece `i` (from `starts[i]`) has DSN `dsns[i] + o - starts[i]`.
    #[derive(Debug, Clone)]
    struct Truth {
        starts: Vec<u64>,
        dsns: Vec<u64>,
        end: u64,
    }

    impl Truth {
        fn dsn(&self, at: u64) -> Option<u64> {
            if at < 1 || at >= self.end {
                return None;
            }
            let i = self.starts.partition_point(|&s| s <= at) - 1;
            Some(self.dsns[i].wrapping_add(at - self.starts[i]))
        }
        /// The mapping of `[at, at + len)`, cut at the end of the piece.
        fn mapping(&self, at: u64, len: u64) -> Mapping {
            let i = self.starts.partition_point(|&s| s <= at) - 1;
            let piece_end = self.starts.get(i + 1).copied().unwrap_or(self.end);
            let len = len.min(piece_end - at);
            Mapping {
                subflow_seq: at,
                dsn: self.dsn(at).unwrap(),
                data_len: len as u32,
                data_fin: false,
            }
        }
    }

    fn truth() -> impl Strategy<Value = Truth> {
        proptest::collection::vec((1u64..200, any::<u64>()), 1..8).prop_map(|pieces| {
            let (mut starts, mut dsns, mut at) = (Vec::new(), Vec::new(), 1);
            for (len, dsn) in pieces {
                starts.push(at);
                dsns.push(dsn);
                at += len;
            }
            Truth {
                starts,
                dsns,
                end: at,
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn consistent_mappings_never_conflict(
            truth in truth(),
            cuts in proptest::collection::vec((0u64..2000, 1u64..150), 1..60),
        ) {
            let mut t = MappingTable::new(BTreeMap::new());
            let mut covered = std::collections::BTreeSet::new();
            for (at, len) in cuts {
                let at = 1 + at % (truth.end - 1);
                let m = truth.mapping(at, len);
                let outcome = t.record(m);
                prop_assert!(outcome.is_ok(), "{:?} for {:?}", outcome, m);
                for o in at..at + u64::from(m.data_len) {
                    covered.insert(o);
                }
                // Entries are disjoint and never more than the octets.
                let mut previous_end = 0;
                for (&key, entry) in &t.map {
                    prop_assert!(key >= previous_end && entry.len > 0);
                    previous_end = key + entry.len;
                }
            }
            for o in 0..truth.end + 2 {
                let found = t.lookup(o);
                if covered.contains(&o) {
                    let found = found.unwrap();
                    prop_assert_eq!(Some(found.dsn), truth.dsn(o));
                    // The contiguous run reported is right, to its last octet.
                    let last = o + found.len - 1;
                    prop_assert!(covered.contains(&last));
                    prop_assert_eq!(truth.dsn(last), Some(found.dsn.wrapping_add(found.len - 1)));
                } else {
                    prop_assert_eq!(found, None);
                }
            }
            // Pruning everything below a point keeps every octet at or after it.
            let cut = truth.end / 2;
            t.prune(cut);
            for &o in covered.range(cut..) {
                prop_assert_eq!(t.lookup(o).map(|m| m.dsn), truth.dsn(o));
            }
        }

        #[test]
        fn conflicts_change_nothing(
            truth in truth(),
            cuts in proptest::collection::vec((0u64..2000, 1u64..150), 1..30),
            at in 0u64..2000,
            len in 1u64..150,
            shift in 1u64..u64::MAX,
        ) {
            let mut t = MappingTable::new(BTreeMap::new());
            for (at, len) in cuts {
                let at = 1 + at % (truth.end - 1);
                prop_assert!(t.record(truth.mapping(at, len)).is_ok());
            }
            let before: Vec<_> = t.map.iter().map(|(k, v)| (*k, *v)).collect();
            let at = 1 + at % (truth.end - 1);
            let mut bad = truth.mapping(at, len);
            bad.dsn = bad.dsn.wrapping_add(shift);
            let overlaps = (at..at + u64::from(bad.data_len)).any(|o| t.lookup(o).is_some());
            let outcome = t.record(bad);
            if overlaps {
                let conflict = matches!(outcome, Err(RecordError::Conflict { .. }));
                prop_assert!(conflict, "{:?}", outcome);
                let after: Vec<_> = t.map.iter().map(|(k, v)| (*k, *v)).collect();
                prop_assert_eq!(before, after);
            } else {
                prop_assert!(outcome.is_ok());
            }
        }
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Ordered storage that the core borrows from its caller.
//!
//! The core has no allocator. Structures that grow with the traffic (the
//! reassembly queue, a subflow's mapping table, the sender's record of what
//! went where) keep their entries in a [`SeqMap`] that the caller provides:
//! the kernel's rbtree (allocating with the gfp flags of the context) in the
//! module, a `BTreeMap` on the host.
//!
//! Every method maps onto the 6.12 `kernel::rbtree::RBTree` API:
//! `insert` on `try_create_and_insert` (or `RBTreeNode::new` + `insert`),
//! `remove` on `remove`, `first`/`last` on `cursor_front`/`cursor_back`,
//! `ceil` on `cursor_lower_bound`, and `floor` on `cursor_lower_bound`
//! followed by `peek_prev` (or `cursor_back` when no key is `>=`). Walking
//! the entries in order is done by the users with repeated `ceil(key + 1)`.

/// An ordered map from 64-bit keys (sequence numbers made monotonic by the
/// caller: offsets from an initial sequence number) to values.
///
/// Lookups take `&mut self` so that cursor-based trees can implement them.
pub trait SeqMap<V> {
    /// Inserts `value` at `key`, which must not be present. Gives the value
    /// back if there is no memory for it.
    fn insert(&mut self, key: u64, value: V) -> Result<(), V>;
    /// Removes and returns the value at `key`.
    fn remove(&mut self, key: u64) -> Option<V>;
    /// The entry with the smallest key.
    fn first(&mut self) -> Option<(u64, &mut V)>;
    /// The entry with the greatest key.
    fn last(&mut self) -> Option<(u64, &mut V)>;
    /// The entry with the greatest key that is `<= key`.
    fn floor(&mut self, key: u64) -> Option<(u64, &mut V)>;
    /// The entry with the smallest key that is `>= key`.
    fn ceil(&mut self, key: u64) -> Option<(u64, &mut V)>;
    /// The number of entries.
    fn len(&self) -> usize;
    /// Whether there are no entries.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Removes and returns the entry with the smallest key.
    fn pop_first(&mut self) -> Option<(u64, V)> {
        let key = self.first()?.0;
        self.remove(key).map(|v| (key, v))
    }
    /// The entry with the smallest key that is `> key`.
    fn next_after(&mut self, key: u64) -> Option<(u64, &mut V)> {
        self.ceil(key.checked_add(1)?)
    }
}

#[cfg(any(test, feature = "std"))]
impl<V> SeqMap<V> for std::collections::BTreeMap<u64, V> {
    fn insert(&mut self, key: u64, value: V) -> Result<(), V> {
        debug_assert!(!self.contains_key(&key));
        std::collections::BTreeMap::insert(self, key, value);
        Ok(())
    }
    fn remove(&mut self, key: u64) -> Option<V> {
        std::collections::BTreeMap::remove(self, &key)
    }
    fn first(&mut self) -> Option<(u64, &mut V)> {
        self.iter_mut().next().map(|(k, v)| (*k, v))
    }
    fn last(&mut self) -> Option<(u64, &mut V)> {
        self.iter_mut().next_back().map(|(k, v)| (*k, v))
    }
    fn floor(&mut self, key: u64) -> Option<(u64, &mut V)> {
        self.range_mut(..=key).next_back().map(|(k, v)| (*k, v))
    }
    fn ceil(&mut self, key: u64) -> Option<(u64, &mut V)> {
        self.range_mut(key..).next().map(|(k, v)| (*k, v))
    }
    fn len(&self) -> usize {
        std::collections::BTreeMap::len(self)
    }
}

/// A [`SeqMap`] for tests that refuses insertions once `budget` of them
/// have been made, to exercise the out-of-memory paths.
#[cfg(test)]
pub(crate) struct FailingMap<V> {
    pub(crate) map: std::collections::BTreeMap<u64, V>,
    pub(crate) budget: usize,
}

#[cfg(test)]
impl<V> Default for FailingMap<V> {
    fn default() -> Self {
        Self {
            map: std::collections::BTreeMap::new(),
            budget: usize::MAX,
        }
    }
}

#[cfg(test)]
impl<V> SeqMap<V> for FailingMap<V> {
    fn insert(&mut self, key: u64, value: V) -> Result<(), V> {
        if self.budget == 0 {
            return Err(value);
        }
        self.budget -= 1;
        SeqMap::insert(&mut self.map, key, value)
    }
    fn remove(&mut self, key: u64) -> Option<V> {
        SeqMap::remove(&mut self.map, key)
    }
    fn first(&mut self) -> Option<(u64, &mut V)> {
        SeqMap::first(&mut self.map)
    }
    fn last(&mut self) -> Option<(u64, &mut V)> {
        SeqMap::last(&mut self.map)
    }
    fn floor(&mut self, key: u64) -> Option<(u64, &mut V)> {
        SeqMap::floor(&mut self.map, key)
    }
    fn ceil(&mut self, key: u64) -> Option<(u64, &mut V)> {
        SeqMap::ceil(&mut self.map, key)
    }
    fn len(&self) -> usize {
        self.map.len()
    }
}

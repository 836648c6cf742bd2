// SPDX-License-Identifier: GPL-2.0

//! Ordered storage that the core borrows from its caller.
//!
//! The core has no allocator. Structures that grow with the traffic (the
//! reassembly queue, a subflow's mapping table, the sender's record of what
//! went where) keep their entries in a [`SeqMap`] that the caller provides:
//! the kernel's rbtree (allocating with the gfp flags of the context) in the
//! module, a `BTreeMap` on the host.

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

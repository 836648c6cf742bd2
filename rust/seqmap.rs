// SPDX-License-Identifier: GPL-2.0

//! The protocol core's ordered storage ([`SeqMap`]) on the kernel's rbtree.

use crate::mptcp_core::store::SeqMap;
use kernel::{
    alloc::{flags::GFP_KERNEL, Flags},
    rbtree::{RBTree, RBTreeNodeReservation},
};

/// A [`SeqMap`] on `kernel::rbtree`, allocating nodes with the gfp flags of
/// the context it is used in.
pub(crate) struct RbSeqMap<V> {
    tree: RBTree<u64, V>,
    len: usize,
    flags: Flags,
}

impl<V> RbSeqMap<V> {
    /// An empty map whose insertions allocate with `flags` (`GFP_ATOMIC` where
    /// it is used from softirq context).
    pub(crate) fn with_flags(flags: Flags) -> Self {
        Self {
            tree: RBTree::new(),
            len: 0,
            flags,
        }
    }

    /// The `&mut V` at a key known to be present. Cursors lend their values
    /// only for their own lifetime, so lookups find the key with a cursor and
    /// then borrow from the tree.
    fn entry(&mut self, key: Option<u64>) -> Option<(u64, &mut V)> {
        let key = key?;
        self.tree.get_mut(&key).map(|v| (key, v))
    }
}

impl<V> Default for RbSeqMap<V> {
    fn default() -> Self {
        Self::with_flags(GFP_KERNEL)
    }
}

impl<V> SeqMap<V> for RbSeqMap<V> {
    fn insert(&mut self, key: u64, value: V) -> Result<(), V> {
        let Ok(reservation) = RBTreeNodeReservation::new(self.flags) else {
            return Err(value);
        };
        let old = self.tree.insert(reservation.into_node(key, value));
        debug_assert!(old.is_none(), "SeqMap::insert on a present key");
        if old.is_none() {
            self.len += 1;
        }
        Ok(())
    }

    fn remove(&mut self, key: u64) -> Option<V> {
        let value = self.tree.remove(&key);
        if value.is_some() {
            self.len -= 1;
        }
        value
    }

    fn first(&mut self) -> Option<(u64, &mut V)> {
        let key = self.tree.cursor_front().map(|c| *c.current().0);
        self.entry(key)
    }

    fn last(&mut self) -> Option<(u64, &mut V)> {
        let key = self.tree.cursor_back().map(|c| *c.current().0);
        self.entry(key)
    }

    fn floor(&mut self, key: u64) -> Option<(u64, &mut V)> {
        let found = match self.tree.cursor_lower_bound(&key) {
            Some(c) if *c.current().0 == key => Some(key),
            Some(c) => c.peek_prev().map(|(k, _)| *k),
            None => self.tree.cursor_back().map(|c| *c.current().0),
        };
        self.entry(found)
    }

    fn ceil(&mut self, key: u64) -> Option<(u64, &mut V)> {
        let found = self.tree.cursor_lower_bound(&key).map(|c| *c.current().0);
        self.entry(found)
    }

    fn len(&self) -> usize {
        self.len
    }
}

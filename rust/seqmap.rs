// SPDX-License-Identifier: GPL-2.0

//! The protocol core's ordered storage ([`SeqMap`]) on the kernel's rbtree.

use crate::mptcp_core::store::SeqMap;
use kernel::{
    alloc::{flags::GFP_KERNEL, Flags},
    rbtree::{RBTree, RBTreeNodeReservation},
};

/// Tree nodes kept for reuse after a removal, per map: a connection's maps
/// gain and lose about one entry per segment, and a node taken back from
/// the last removal spares the allocator a round trip each time.
const SPARE_NODES: usize = 4;

/// A [`SeqMap`] on `kernel::rbtree`, allocating nodes with the gfp flags of
/// the context it is used in.
///
/// Values are stored as `Some(value)`: a removal takes the value out and
/// keeps the node's allocation (a `None` left in it is dropped in place),
/// for the next insertion.
pub(crate) struct RbSeqMap<V> {
    tree: RBTree<u64, Option<V>>,
    len: usize,
    flags: Flags,
    spare: [Option<RBTreeNodeReservation<u64, Option<V>>>; SPARE_NODES],
}

impl<V> RbSeqMap<V> {
    /// An empty map whose insertions allocate with `flags` (`GFP_ATOMIC` where
    /// it is used from softirq context).
    pub(crate) fn with_flags(flags: Flags) -> Self {
        Self {
            tree: RBTree::new(),
            len: 0,
            flags,
            spare: [const { None }; SPARE_NODES],
        }
    }

    /// The `&mut V` at a key known to be present. Cursors lend their values
    /// only for their own lifetime, so lookups find the key with a cursor and
    /// then borrow from the tree.
    fn entry(&mut self, key: Option<u64>) -> Option<(u64, &mut V)> {
        let key = key?;
        self.tree
            .get_mut(&key)
            .and_then(Option::as_mut)
            .map(|v| (key, v))
    }

    /// A node for an insertion: a spare one, or a new allocation.
    fn reservation(&mut self) -> Option<RBTreeNodeReservation<u64, Option<V>>> {
        self.spare
            .iter_mut()
            .find_map(Option::take)
            .or_else(|| RBTreeNodeReservation::new(self.flags).ok())
    }
}

impl<V> Default for RbSeqMap<V> {
    fn default() -> Self {
        Self::with_flags(GFP_KERNEL)
    }
}

impl<V> SeqMap<V> for RbSeqMap<V> {
    fn insert(&mut self, key: u64, value: V) -> Result<(), V> {
        let Some(reservation) = self.reservation() else {
            return Err(value);
        };
        let old = self.tree.insert(reservation.into_node(key, Some(value)));
        debug_assert!(old.is_none(), "SeqMap::insert on a present key");
        if old.is_none() {
            self.len += 1;
        }
        Ok(())
    }

    fn remove(&mut self, key: u64) -> Option<V> {
        let mut entry = self.tree.find_mut(&key)?;
        let value = entry.get_mut().take();
        let node = entry.remove_node();
        self.len -= 1;
        // The node's `None` is dropped in place; its allocation is kept if
        // there is a free spare slot.
        if let Some(slot) = self.spare.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(node.into_reservation());
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

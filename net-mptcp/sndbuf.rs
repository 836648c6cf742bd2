// SPDX-License-Identifier: GPL-2.0

//! The connection-level send buffer of the UCLouvain design: the bytes the
//! application wrote, in page fragments keyed by their place in the data
//! stream, kept until a DATA_ACK covers them so that any subflow can send
//! them, or send them again. Subflows pull from it ([`SendBuf::share`]
//! lends the pages of a mapping, which TCP then references without a
//! copy); DATA_ACKs free it ([`SendBuf::free_below`]).
//!
//! Keys are offsets from our IDSN, which grow monotonically for the life of
//! the connection: the tree's order never wraps with the DSN space.

use crate::kernel_net::page::{FragList, PageFrag};
use kernel::{
    prelude::*,
    rbtree::{RBTree, RBTreeNodeReservation},
};

/// A tree node for one more fragment, allocated beforehand in process
/// context, so that appending under the connection's spinlock allocates
/// nothing.
pub(crate) type FragSlot = RBTreeNodeReservation<u64, PageFrag>;

/// The send buffer.
pub(crate) struct SendBuf {
    /// Fragments keyed by the offset of their first byte; they tile
    /// `[start, end)`, where `start` may lie inside the first one.
    tree: RBTree<u64, PageFrag>,
    /// The offset of the first byte kept (not yet DATA_ACKed).
    start: u64,
    /// The offset after the last byte written.
    end: u64,
    /// A node kept from an append that extended the last fragment, or from
    /// a fragment freed, for the next append.
    spare: Option<FragSlot>,
}

impl SendBuf {
    /// An empty buffer whose first byte will have offset `start`.
    pub(crate) fn new(start: u64) -> Self {
        Self {
            tree: RBTree::new(),
            start,
            end: start,
            spare: None,
        }
    }

    /// A node for [`SendBuf::append`], in process context.
    pub(crate) fn slot() -> Result<FragSlot> {
        RBTreeNodeReservation::new(GFP_KERNEL)
    }

    /// A node kept for reuse, if there is one (see [`SendBuf::slot`]).
    pub(crate) fn take_spare(&mut self) -> Option<FragSlot> {
        self.spare.take()
    }

    /// The bytes kept.
    pub(crate) fn bytes(&self) -> u64 {
        self.end - self.start
    }

    /// Appends `frag`: its bytes take the next offsets. A fragment that
    /// continues the last one in the same page extends it (and `slot` is
    /// kept for a later append).
    pub(crate) fn append(&mut self, frag: PageFrag, slot: FragSlot) {
        let len = u64::from(frag.len());
        let frag = match self.tree.cursor_back() {
            Some(mut last) => last.current_mut().1.try_extend(frag).err(),
            None => Some(frag),
        };
        match frag {
            Some(frag) => {
                self.tree.insert(slot.into_node(self.end, frag));
            }
            None => self.keep_spare(slot),
        }
        self.end += len;
    }

    /// Keeps `slot` for a later append, unless one is kept already.
    fn keep_spare(&mut self, slot: FragSlot) {
        if self.spare.is_none() {
            self.spare = Some(slot);
        }
    }

    /// References to the pages of the bytes `[from, from + len)`, as many as
    /// `out` holds. Returns the bytes covered.
    pub(crate) fn share(&mut self, from: u64, len: u32, out: &mut FragList) -> u32 {
        let to = from.saturating_add(u64::from(len)).min(self.end);
        let mut at = from.max(self.start);
        let Some(cursor) = self.tree.cursor_lower_bound(&at) else {
            // `at` is past every key: only the last fragment can hold it.
            return self.share_from_last(at, to, out);
        };
        // The fragment holding `at` starts at or before it.
        let mut cursor = if *cursor.current().0 > at {
            match cursor.move_prev() {
                Some(c) => c,
                None => return 0,
            }
        } else {
            cursor
        };
        let mut covered = 0u32;
        loop {
            let (&key, frag) = cursor.current();
            let into = (at - key) as u32;
            if into < frag.len() && at < to && !out.is_full() {
                let n = (frag.len() - into).min((to - at) as u32);
                if out.push(frag.share(into, n)).is_err() {
                    break;
                }
                at += u64::from(n);
                covered += n;
            }
            if at >= to {
                break;
            }
            match cursor.move_next() {
                Some(c) => cursor = c,
                None => break,
            }
        }
        covered
    }

    fn share_from_last(&mut self, at: u64, to: u64, out: &mut FragList) -> u32 {
        let Some(last) = self.tree.cursor_back() else {
            return 0;
        };
        let (&key, frag) = last.current();
        let into = at.saturating_sub(key) as u32;
        if at >= to || into >= frag.len() {
            return 0;
        }
        let n = (frag.len() - into).min((to - at) as u32);
        match out.push(frag.share(into, n)) {
            Ok(()) => n,
            Err(_) => 0,
        }
    }

    /// Frees the bytes before offset `offset` (DATA_ACKed). Returns how
    /// many were freed.
    pub(crate) fn free_below(&mut self, offset: u64) -> u64 {
        let offset = offset.min(self.end);
        if offset <= self.start {
            return 0;
        }
        let freed = offset - self.start;
        // Whole fragments go; one DATA_ACKed in part stays whole (`start`
        // then lies inside it) until the rest is DATA_ACKed too.
        while let Some(first) = self.tree.cursor_front() {
            let (&key, frag) = first.current();
            if key + u64::from(frag.len()) > offset {
                break;
            }
            let (_, node) = first.remove_current();
            // (The fragment's page reference goes here, the node stays.)
            self.keep_spare(node.into_reservation());
        }
        self.start = offset;
        freed
    }
}

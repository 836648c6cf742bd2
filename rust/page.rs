// SPDX-License-Identifier: GPL-2.0

//! Pieces of pages holding data the application wrote: the connection-level
//! send buffer. The application's bytes are copied once, into the page
//! fragment cache of the writing task (`sk_page_frag`, as TCP does), and
//! the pages are then handed to subflows by reference
//! ([`super::tcp::TcpLocked::send_frags`]): no second copy.

use super::{bindings, sock::SockGuard, user::MsgHdr};
use core::ptr::NonNull;
use kernel::prelude::*;

/// A counted reference to `len` bytes at `offset` of a page (of a compound
/// page: the offset may run past the first `PAGE_SIZE`).
///
/// # Invariants
///
/// `page` is a live page (not a slab page) on which this value holds one
/// reference (`get_page`); `offset + len` lies within its allocation.
pub(crate) struct PageFrag {
    page: NonNull<bindings::page>,
    offset: u32,
    len: u32,
}

// SAFETY: a page reference may be used and dropped on any thread.
unsafe impl Send for PageFrag {}
// SAFETY: shared references only read the description.
unsafe impl Sync for PageFrag {}

impl PageFrag {
    /// Copies up to `max` bytes of the application's message into the page
    /// fragment cache of the socket `sk` (the writing task's, or the
    /// socket's own), refilling it if needed; returns the piece that holds
    /// them. `ENOMEM` if no page could be had, `EFAULT` if nothing could be
    /// copied from the application's buffers.
    pub(crate) fn copy_from_msg(sk: &SockGuard<'_>, msg: &mut MsgHdr, max: usize) -> Result<Self> {
        let raw = sk.sock().as_raw();
        // SAFETY: the socket is locked by the caller (the guard), as
        // `sk_page_frag_refill` requires; the fragment is the current task's
        // or the socket's, both live. `copy_page_from_iter` copies into the
        // fragment's unused part, which refill guaranteed exists.
        unsafe {
            let pfrag = bindings::mptcp_rs_sk_page_frag(raw);
            if !bindings::sk_page_frag_refill(raw, pfrag) {
                return Err(ENOMEM);
            }
            let room = ((*pfrag).size - (*pfrag).offset) as usize;
            let want = max.min(room);
            let page = (*pfrag).page;
            let offset = (*pfrag).offset;
            let got = bindings::copy_page_from_iter(
                page,
                offset as usize,
                want,
                &mut (*msg.as_raw()).msg_iter,
            );
            if got == 0 {
                return Err(if want == 0 { EAGAIN } else { EFAULT });
            }
            (*pfrag).offset += got as u32;
            bindings::mptcp_rs_get_page(page);
            // INVARIANT: a reference was just taken on the fragment's page,
            // which the page allocator gave the cache (never a slab page);
            // the bytes lie within the fragment's size.
            Ok(Self {
                page: NonNull::new_unchecked(page),
                offset,
                len: got as u32,
            })
        }
    }

    /// The page, for a `bio_vec`.
    pub(crate) fn page_ptr(&self) -> *mut bindings::page {
        self.page.as_ptr()
    }

    /// The offset of the first byte in the page.
    pub(crate) fn offset(&self) -> u32 {
        self.offset
    }

    /// The number of bytes.
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// Appends `next` to `self` if it continues it in the same page (the
    /// next copy into the same fragment): one piece then covers both, and
    /// `next`'s page reference goes. Otherwise gives `next` back.
    pub(crate) fn try_extend(&mut self, next: PageFrag) -> core::result::Result<(), PageFrag> {
        if next.page == self.page && self.offset + self.len == next.offset {
            self.len += next.len;
            // `next` drops its reference; `self` keeps one on the page.
            Ok(())
        } else {
            Err(next)
        }
    }

    /// Another reference to the `len` bytes at `from` of this piece.
    pub(crate) fn share(&self, from: u32, len: u32) -> PageFrag {
        let from = from.min(self.len);
        let len = len.min(self.len - from);
        // SAFETY: we hold a reference to the page (type invariant), so it is
        // live and another may be taken.
        unsafe { bindings::mptcp_rs_get_page(self.page.as_ptr()) };
        // INVARIANT: a new reference, to bytes within ours.
        PageFrag {
            page: self.page,
            offset: self.offset + from,
            len,
        }
    }

    /// Drops the first `n` bytes from the piece.
    pub(crate) fn trim_front(&mut self, n: u32) {
        let n = n.min(self.len);
        self.offset += n;
        self.len -= n;
    }
}

impl Drop for PageFrag {
    fn drop(&mut self) {
        // SAFETY: we own one reference to the page (type invariant).
        unsafe { bindings::mptcp_rs_put_page(self.page.as_ptr()) };
    }
}

/// Up to [`FragList::CAPACITY`] page pieces, without allocating: what one
/// mapping's bytes are handed to TCP as.
pub(crate) struct FragList {
    frags: [core::mem::MaybeUninit<PageFrag>; FragList::CAPACITY],
    len: usize,
}

impl FragList {
    /// The most pieces a list holds.
    pub(crate) const CAPACITY: usize = 24;

    /// An empty list.
    pub(crate) fn new() -> Self {
        Self {
            frags: [const { core::mem::MaybeUninit::uninit() }; Self::CAPACITY],
            len: 0,
        }
    }

    /// Appends `frag`, or gives it back if the list is full.
    pub(crate) fn push(&mut self, frag: PageFrag) -> core::result::Result<(), PageFrag> {
        let Some(slot) = self.frags.get_mut(self.len) else {
            return Err(frag);
        };
        slot.write(frag);
        self.len += 1;
        Ok(())
    }

    /// Whether the list is full.
    pub(crate) fn is_full(&self) -> bool {
        self.len == Self::CAPACITY
    }

    /// The pieces.
    pub(crate) fn as_slice(&self) -> &[PageFrag] {
        // SAFETY: the first `len` elements were written by `push` and never
        // taken out; `MaybeUninit<T>` has the layout of `T`.
        unsafe { core::slice::from_raw_parts(self.frags.as_ptr().cast::<PageFrag>(), self.len) }
    }

    /// The bytes the pieces hold.
    pub(crate) fn bytes(&self) -> u32 {
        self.as_slice().iter().map(PageFrag::len).sum()
    }
}

impl Drop for FragList {
    fn drop(&mut self) {
        for f in &mut self.frags[..self.len] {
            // SAFETY: the first `len` elements are initialised, and dropped
            // once, here.
            unsafe { f.assume_init_drop() };
        }
    }
}

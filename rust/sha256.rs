// SPDX-License-Identifier: GPL-2.0

//! SHA-256 from lib/crypto, for the protocol core's keys, tokens and HMACs.

use super::bindings;

/// An incremental SHA-256 computation (`struct sha256_state`): the core's
/// [`crate::mptcp_core::crypto::Sha256`] in the kernel.
pub(crate) struct Sha256 {
    state: bindings::sha256_state,
}

impl crate::mptcp_core::crypto::Sha256 for Sha256 {
    fn new() -> Self {
        let mut state = bindings::sha256_state::default();
        // SAFETY: `state` is a valid, exclusively borrowed `sha256_state`.
        unsafe { bindings::mptcp_rs_sha256_init(&mut state) };
        Self { state }
    }

    fn update(&mut self, data: &[u8]) {
        // lib/crypto takes the length as `unsigned int`: feed huge slices in pieces.
        for chunk in data.chunks(u32::MAX as usize) {
            // SAFETY: `self.state` was initialised by `new`; `chunk` is valid for
            // reads of `chunk.len()` bytes, which fits in `u32`.
            unsafe { bindings::sha256_update(&mut self.state, chunk.as_ptr(), chunk.len() as u32) };
        }
    }

    fn finish(mut self) -> [u8; 32] {
        const _: () = assert!(bindings::SHA256_DIGEST_SIZE == 32);
        let mut out = [0u8; 32];
        // SAFETY: `self.state` was initialised by `new`; `out` has room for a
        // whole digest.
        unsafe { bindings::sha256_final(&mut self.state, out.as_mut_ptr()) };
        out
    }
}

// SPDX-License-Identifier: GPL-2.0

//! SHA-256 from lib/crypto, for the protocol core's keys, tokens and HMACs.

use super::bindings;

/// An incremental SHA-256 computation (`struct sha256_state`).
pub(crate) struct Sha256 {
    state: bindings::sha256_state,
}

impl Sha256 {
    /// The length of a digest in bytes.
    pub(crate) const DIGEST_LEN: usize = bindings::SHA256_DIGEST_SIZE as usize;

    /// Starts a new hash.
    pub(crate) fn new() -> Self {
        let mut state = bindings::sha256_state::default();
        // SAFETY: `state` is a valid, exclusively borrowed `sha256_state`.
        unsafe { bindings::mptcp_rs_sha256_init(&mut state) };
        Self { state }
    }

    /// Feeds `data` into the hash.
    pub(crate) fn update(&mut self, data: &[u8]) {
        // lib/crypto takes the length as `unsigned int`: feed huge slices in pieces.
        for chunk in data.chunks(u32::MAX as usize) {
            // SAFETY: `self.state` was initialised by `new`; `chunk` is valid for
            // reads of `chunk.len()` bytes, which fits in `u32`.
            unsafe {
                bindings::sha256_update(&mut self.state, chunk.as_ptr(), chunk.len() as u32)
            };
        }
    }

    /// Ends the hash and returns the digest.
    pub(crate) fn finalize(mut self) -> [u8; Self::DIGEST_LEN] {
        let mut out = [0u8; Self::DIGEST_LEN];
        // SAFETY: `self.state` was initialised by `new`; `out` has room for a
        // whole digest.
        unsafe { bindings::sha256_final(&mut self.state, out.as_mut_ptr()) };
        out
    }

    /// The digest of `data`, in one call.
    pub(crate) fn digest(data: &[u8]) -> [u8; Self::DIGEST_LEN] {
        let mut h = Self::new();
        h.update(data);
        h.finalize()
    }
}

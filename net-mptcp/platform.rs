// SPDX-License-Identifier: GPL-2.0

//! What the protocol core's connection takes from the kernel: the rbtree
//! for its growing state (nodes allocated with `GFP_ATOMIC`: the core runs
//! in softirq), received data as [`SkbSpan`]s, lib/crypto's SHA-256.

use crate::kernel_net::{seqmap::RbSeqMap, sha256::Sha256, skb::SkbSpan};
use crate::mptcp_core::{
    conn::{Connection, Platform},
    mapping::{MapEntry, SentMapping},
    reassembly::Payload,
    sender::SentEntry,
};
use kernel::prelude::*;

/// The kernel, as the core's platform.
pub(crate) struct Kernel;

/// A connection of the core, in the kernel.
pub(crate) type Conn = Connection<Kernel>;

impl Platform for Kernel {
    type Sha256 = Sha256;
    type Payload = SkbSpan;
    type RxQueue = RbSeqMap<SkbSpan>;
    type Sent = RbSeqMap<SentEntry>;
    type RxMaps = RbSeqMap<MapEntry>;
    type TxMaps = RbSeqMap<SentMapping>;

    fn rx_queue() -> Self::RxQueue {
        RbSeqMap::with_flags(GFP_ATOMIC)
    }
    fn sent() -> Self::Sent {
        RbSeqMap::with_flags(GFP_ATOMIC)
    }
    fn rx_maps() -> Self::RxMaps {
        RbSeqMap::with_flags(GFP_ATOMIC)
    }
    fn tx_maps() -> Self::TxMaps {
        RbSeqMap::with_flags(GFP_ATOMIC)
    }
}

impl Payload for SkbSpan {
    fn len(&self) -> usize {
        SkbSpan::len(self) as usize
    }
    fn trim_front(&mut self, n: usize) {
        SkbSpan::trim_front(self, n as u32)
    }
    fn trim_back(&mut self, n: usize) {
        SkbSpan::trim_back(self, n as u32)
    }
    fn split_front(&mut self, n: usize) -> Self {
        SkbSpan::split_front(self, n as u32)
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The protocol core's test vectors, run in the kernel: the same self-tests
//! as `cargo test`, here against lib/crypto's SHA-256 and the kernel's rbtree.

use super::KunitCheck;
use crate::kernel_net::{kunit::kunit_suite, kunit::Test, seqmap::RbSeqMap, sha256::Sha256};
use crate::mptcp_core::{
    cc, conn, crypto, mapping, option, reassembly, reassembly::Span, sched, sender, seq, tcpopt,
};

/// The connection core on the kernel's rbtree and SHA-256, with spans
/// (positions in the stream) for payloads.
struct KunitPlatform;

impl conn::Platform for KunitPlatform {
    type Sha256 = Sha256;
    type Payload = Span;
    type RxQueue = RbSeqMap<Span>;
    type Sent = RbSeqMap<sender::SentEntry>;
    type RxMaps = RbSeqMap<mapping::MapEntry>;
    type TxMaps = RbSeqMap<mapping::SentMapping>;
    fn rx_queue() -> Self::RxQueue {
        RbSeqMap::default()
    }
    fn sent() -> Self::Sent {
        RbSeqMap::default()
    }
    fn rx_maps() -> Self::RxMaps {
        RbSeqMap::default()
    }
    fn tx_maps() -> Self::TxMaps {
        RbSeqMap::default()
    }
}

fn connection_vectors(test: &Test) {
    conn::selftest::<KunitPlatform>(&mut KunitCheck::new(test));
}

fn crypto_vectors(test: &Test) {
    crypto::selftest::<Sha256>(&mut KunitCheck::new(test));
}

fn option_codec_vectors(test: &Test) {
    option::selftest(&mut KunitCheck::new(test));
}

fn sequence_vectors(test: &Test) {
    seq::selftest(&mut KunitCheck::new(test));
}

fn mapping_table_vectors(test: &Test) {
    mapping::selftest::<RbSeqMap<mapping::MapEntry>>(&mut KunitCheck::new(test));
}

fn sent_mapping_vectors(test: &Test) {
    mapping::sent_selftest::<RbSeqMap<mapping::SentMapping>>(&mut KunitCheck::new(test));
}

fn option_merge_vectors(test: &Test) {
    tcpopt::selftest(&mut KunitCheck::new(test));
}

fn reassembly_vectors(test: &Test) {
    reassembly::selftest::<RbSeqMap<reassembly::Span>>(&mut KunitCheck::new(test));
}

fn sender_vectors(test: &Test) {
    sender::selftest::<RbSeqMap<sender::SentEntry>>(&mut KunitCheck::new(test));
}

fn scheduler_vectors(test: &Test) {
    sched::selftest(&mut KunitCheck::new(test));
}

fn coupled_cc_vectors(test: &Test) {
    cc::selftest(&mut KunitCheck::new(test));
}

kunit_suite!(
    mptcp_rs_core,
    [
        crypto_vectors,
        option_codec_vectors,
        sequence_vectors,
        mapping_table_vectors,
        sent_mapping_vectors,
        option_merge_vectors,
        reassembly_vectors,
        sender_vectors,
        scheduler_vectors,
        coupled_cc_vectors,
        connection_vectors,
    ]
);

// SPDX-License-Identifier: GPL-2.0

//! Fuzzes the MPTCP option parser: arbitrary bytes as a TCP options area.
//!
//! Parsing must never panic (the core is built with overflow checks, and
//! so is this target); every option parsed must re-encode to exactly
//! `encoded_len` bytes that parse back to the same option; an error that
//! ends the walk of the area must be its last item; all the parsed options
//! written as one block must parse back in order; the per-segment summary
//! must account for every error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mptcp_core::option::{
    options, planned_len, write_options, OptionError, Received, MAX_OPTIONS_LEN,
};

fuzz_target!(|area: &[u8]| {
    let mut items = 0usize;
    let (mut malformed, mut unknown) = (0usize, 0usize);
    let mut ended = false;
    let mut parsed = Vec::new();
    for item in options(area) {
        assert!(!ended, "an item after an error that ends the area");
        items += 1;
        match item {
            Ok(option) => {
                let mut buf = [0u8; MAX_OPTIONS_LEN];
                let n = option.write(&mut buf).expect("a parsed option re-encodes");
                assert_eq!(n, option.encoded_len());
                let mut again = options(&buf[..n]);
                assert_eq!(
                    again.next(),
                    Some(Ok(option)),
                    "re-encoded option parses back"
                );
                assert_eq!(again.next(), None);
                parsed.push(option);
            }
            Err(e) => {
                if e.is_malformed() {
                    malformed += 1;
                } else {
                    unknown += 1;
                }
                ended = OptionError::ends_area(&e);
            }
        }
    }
    assert!(items <= area.len());
    // All of them written as one block (padded with NOPs) parse back in order.
    let mut block = vec![0u8; planned_len(&parsed)];
    assert_eq!(write_options(&parsed, &mut block), Ok(block.len()));
    let again: Vec<_> = options(&block)
        .collect::<Result<_, _>>()
        .expect("block parses");
    assert_eq!(again, parsed);
    // The summary's counters saturate at 255.
    let received = Received::parse(area);
    assert_eq!(usize::from(received.malformed), malformed.min(255));
    assert_eq!(usize::from(received.unknown), unknown.min(255));
});

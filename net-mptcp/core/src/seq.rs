// SPDX-License-Identifier: GPL-2.0

//! Sequence-number arithmetic (RFC 8684, section 3.3).
//!
//! Two sequence spaces meet in MPTCP: the 64-bit data sequence numbers
//! (DSN) of the connection and the 32-bit sequence numbers of each subflow.
//! Both wrap, so they are compared like TCP's `before()`/`after()`: `a` is
//! before `b` when `b - a`, taken modulo 2^n, is less than half the space.
//!
//! The DSS option may carry a DSN or a DATA_ACK in 4 octets only, and its
//! subflow sequence number is always 4 octets, relative to the subflow's
//! initial sequence number. [`expand_dsn`] and [`expand_offset`] widen them
//! to 64 bits around a reference value that the caller knows to be close
//! (rcv_nxt, snd_una, a subflow's next expected offset).
//!
//! Structures keyed in a [`SeqMap`](super::store::SeqMap) need keys that do
//! not wrap: they use *offsets*, the distance from the initial sequence
//! number (IDSN or subflow ISN), which grow monotonically for the life of the
//! connection (2^64 octets are never reached).

/// Whether `a` comes strictly before `b` in the wrapping 64-bit DSN space.
pub const fn before64(a: u64, b: u64) -> bool {
    (a.wrapping_sub(b) as i64) < 0
}

/// Whether `a` comes strictly after `b` in the wrapping 64-bit DSN space.
pub const fn after64(a: u64, b: u64) -> bool {
    before64(b, a)
}

/// Whether `low <= seq <= high` in the wrapping 64-bit space, walking
/// forward from `low` (like TCP's `between()`).
pub const fn between64(seq: u64, low: u64, high: u64) -> bool {
    high.wrapping_sub(low) >= seq.wrapping_sub(low)
}

/// Whether `a` comes strictly before `b` in a wrapping 32-bit space
/// (subflow sequence numbers, 4-octet DSNs).
pub const fn before32(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// Whether `a` comes strictly after `b` in a wrapping 32-bit space.
pub const fn after32(a: u32, b: u32) -> bool {
    before32(b, a)
}

/// Whether `low <= seq <= high` in the wrapping 32-bit space, walking
/// forward from `low`.
pub const fn between32(seq: u32, low: u32, high: u32) -> bool {
    high.wrapping_sub(low) >= seq.wrapping_sub(low)
}

/// The 64-bit DSN whose low 32 bits are `low` and which is closest to
/// `reference`, for a 4-octet DSN or DATA_ACK (RFC 8684, section 3.3).
///
/// The DSN space wraps, so the answer may lie across 2^64 from
/// `reference`, in either direction. When two values are equally close
/// (2^31 away), the one before `reference` is chosen.
pub const fn expand_dsn(reference: u64, low: u32) -> u64 {
    // The signed 32-bit distance from the reference's low bits to `low` is
    // the distance between the reference and the closest candidate.
    let delta = low.wrapping_sub(reference as u32) as i32;
    reference.wrapping_add(delta as i64 as u64)
}

/// The monotonic 64-bit offset whose low 32 bits are `low` and which is
/// closest to the offset `reference`, for a 32-bit sequence number taken
/// relative to its initial sequence number (a DSS's subflow sequence
/// number, or `seq - isn`).
///
/// Offsets do not wrap: `None` when the closest value would be before
/// offset 0 (the 32-bit number lies before the initial sequence number) or
/// past `u64::MAX`.
pub const fn expand_offset(reference: u64, low: u32) -> Option<u64> {
    let delta = low.wrapping_sub(reference as u32) as i32;
    reference.checked_add_signed(delta as i64)
}

/// The monotonic offset of the 32-bit sequence number `seq` of a subflow
/// whose initial sequence number is `isn`, closest to the offset
/// `reference`. See [`expand_offset`].
pub const fn subflow_offset(reference: u64, isn: u32, seq: u32) -> Option<u64> {
    expand_offset(reference, seq.wrapping_sub(isn))
}

/// The 32-bit sequence number at `offset` from the initial sequence number
/// `isn`: the inverse of [`subflow_offset`].
pub const fn offset_to_seq32(isn: u32, offset: u64) -> u32 {
    isn.wrapping_add(offset as u32)
}

/// The offset of `dsn` from the initial data sequence number `idsn`, taken
/// forward in the wrapping DSN space.
pub const fn dsn_offset(idsn: u64, dsn: u64) -> u64 {
    dsn.wrapping_sub(idsn)
}

/// The DSN at `offset` from the initial data sequence number `idsn`.
pub const fn offset_to_dsn(idsn: u64, offset: u64) -> u64 {
    idsn.wrapping_add(offset)
}

/// Test vectors, run on the host and as KUnit cases.
#[cfg(any(test, CONFIG_KUNIT))]
pub fn selftest(c: &mut dyn super::check::Check) {
    // Comparisons, including across the wrap.
    check!(c, before64(1, 2));
    check!(c, !before64(2, 2));
    check!(c, !before64(3, 2));
    check!(c, before64(u64::MAX, 0));
    check!(c, after64(0, u64::MAX));
    check!(c, before64(u64::MAX - 5, 10));
    check!(c, after64(10, u64::MAX - 5));
    // Exactly half the space apart, each is before the other (as with
    // TCP's before()): callers never let two live values get that far.
    check!(c, before64(0, 1 << 63));
    check!(c, before64(1 << 63, 0));
    check!(c, between64(5, 5, 5));
    check!(c, between64(u64::MAX, u64::MAX - 1, 1));
    check!(c, between64(0, u64::MAX - 1, 1));
    check!(c, between64(1, u64::MAX - 1, 1));
    check!(c, !between64(2, u64::MAX - 1, 1));
    check!(c, !between64(u64::MAX - 2, u64::MAX - 1, 1));
    check!(c, before32(0xffff_fff0, 0x10));
    check!(c, after32(0x10, 0xffff_fff0));
    check!(c, !before32(7, 7));
    check!(c, !after32(7, 7));
    check!(c, before32(0, 0x8000_0000));
    check!(c, between32(0, 0xffff_ffff, 1));
    check!(c, !between32(0x8000_0000, 0xffff_ffff, 1));

    // Expanding a 4-octet DSN: same epoch, forward and backward.
    check_eq!(
        c,
        expand_dsn(0x1234_5678_0000_1000, 0x0000_2000),
        0x1234_5678_0000_2000
    );
    check_eq!(
        c,
        expand_dsn(0x1234_5678_0000_2000, 0x0000_1000),
        0x1234_5678_0000_1000
    );
    // Forward across a 32-bit boundary.
    check_eq!(
        c,
        expand_dsn(0x1234_5678_ffff_ff00, 0x0000_0010),
        0x1234_5679_0000_0010
    );
    // Backward across a 32-bit boundary.
    check_eq!(
        c,
        expand_dsn(0x1234_5679_0000_0010, 0xffff_ff00),
        0x1234_5678_ffff_ff00
    );
    // Across the 64-bit wrap, in both directions.
    check_eq!(
        c,
        expand_dsn(0xffff_ffff_ffff_fff0, 0x0000_0005),
        0x0000_0000_0000_0005
    );
    check_eq!(
        c,
        expand_dsn(0x0000_0000_0000_0005, 0xffff_fff0),
        0xffff_ffff_ffff_fff0
    );
    // The tie, 2^31 away, goes backward; one less goes forward.
    check_eq!(c, expand_dsn(0x5_0000_0000, 0x8000_0000), 0x4_8000_0000);
    check_eq!(c, expand_dsn(0x5_0000_0000, 0x7fff_ffff), 0x5_7fff_ffff);
    check_eq!(c, expand_dsn(0x5_0000_0001, 0x8000_0000), 0x5_8000_0000);
    // Identity on the reference's own low bits.
    check_eq!(
        c,
        expand_dsn(0xdead_beef_cafe_f00d, 0xcafe_f00d),
        0xdead_beef_cafe_f00d
    );

    // Subflow offsets: relative sequence numbers widened, never negative.
    check_eq!(c, expand_offset(0, 1), Some(1));
    check_eq!(c, expand_offset(100, 50), Some(50));
    check_eq!(c, expand_offset(0xffff_fff0, 0x10), Some(0x1_0000_0010));
    check_eq!(
        c,
        expand_offset(0x1_0000_0010, 0xffff_fff0),
        Some(0xffff_fff0)
    );
    check_eq!(c, expand_offset(10, 0xffff_fff0), None);
    check_eq!(
        c,
        expand_offset(u64::MAX - 5, ((u64::MAX - 5) as u32).wrapping_add(10)),
        None
    );
    check_eq!(
        c,
        expand_offset(u64::MAX - 5, ((u64::MAX - 5) as u32).wrapping_add(5)),
        Some(u64::MAX)
    );
    // From absolute sequence numbers with an ISN near the 32-bit wrap.
    let isn = 0xffff_fffe;
    check_eq!(c, subflow_offset(0, isn, 0xffff_ffff), Some(1));
    check_eq!(c, subflow_offset(1, isn, 0x0000_0005), Some(7));
    check_eq!(
        c,
        subflow_offset(0x1_0000_0000, isn, isn.wrapping_add(3)),
        Some(0x1_0000_0003)
    );
    check_eq!(c, offset_to_seq32(isn, 7), 5);
    check_eq!(c, offset_to_seq32(isn, 0x1_0000_0003), 1);
    check_eq!(c, dsn_offset(u64::MAX, 4), 5);
    check_eq!(c, offset_to_dsn(u64::MAX, 5), 4);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vectors() {
        selftest(&mut crate::check::PanicCheck);
    }

    proptest! {
        #[test]
        fn expand_dsn_is_closest(reference: u64, delta in -(1i64 << 31) + 1..(1i64 << 31)) {
            // Any value within 2^31 of the reference is recovered from its
            // low 32 bits.
            let dsn = reference.wrapping_add(delta as u64);
            prop_assert_eq!(expand_dsn(reference, dsn as u32), dsn);
        }

        #[test]
        fn expand_dsn_keeps_low_bits(reference: u64, low: u32) {
            let dsn = expand_dsn(reference, low);
            prop_assert_eq!(dsn as u32, low);
            let distance = dsn.wrapping_sub(reference) as i64;
            prop_assert!((-(1i64 << 31)..(1i64 << 31)).contains(&distance));
        }

        #[test]
        fn expand_offset_is_closest(reference: u64, delta in -(1i64 << 31) + 1..(1i64 << 31)) {
            let expected = reference.checked_add_signed(delta);
            let low = reference.wrapping_add(delta as u64) as u32;
            prop_assert_eq!(expand_offset(reference, low), expected);
        }

        #[test]
        fn subflow_offset_roundtrip(isn: u32, offset in 0u64..(1 << 40), jitter in -(1i64 << 30)..(1i64 << 30)) {
            let seq = offset_to_seq32(isn, offset);
            let reference = offset.saturating_add_signed(jitter);
            prop_assert_eq!(subflow_offset(reference, isn, seq), Some(offset));
        }

        #[test]
        fn comparisons_agree(a: u64, d in 1u64..(1 << 63)) {
            let b = a.wrapping_add(d);
            prop_assert!(before64(a, b));
            prop_assert!(after64(b, a));
            prop_assert!(!after64(a, b));
            prop_assert!(between64(a, a, b) && between64(b, a, b));
            prop_assert!(before32(a as u32, (a as u32).wrapping_add((d % (1 << 31)).max(1) as u32)));
        }

        #[test]
        fn between_matches_offsets(low: u64, span: u64, at: u64) {
            let high = low.wrapping_add(span);
            let seq = low.wrapping_add(at);
            prop_assert_eq!(between64(seq, low, high), at <= span);
            prop_assert_eq!(between32(seq as u32, low as u32, high as u32), (at as u32) <= (span as u32));
        }

        #[test]
        fn dsn_offsets_roundtrip(idsn: u64, offset: u64) {
            prop_assert_eq!(dsn_offset(idsn, offset_to_dsn(idsn, offset)), offset);
        }
    }
}

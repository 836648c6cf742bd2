// SPDX-License-Identifier: GPL-2.0

//! Fitting MPTCP options into a segment that TCP already built.
//!
//! The module writes its options after TCP has written the header (see
//! `net-mptcp/options.rs`). A TCP options area holds 40 bytes at most:
//! timestamps (10, padded to 12) and a full DSS (up to 28) fill it, so SACK
//! blocks must sometimes go. SACK is advisory (RFC 2018): dropping blocks
//! costs recovery speed, never correctness. Everything else TCP wrote is
//! kept as it is, in its order.

/// The largest TCP options area.
pub const MAX_TCP_OPTIONS: usize = 40;

const EOL: u8 = 0;
const NOP: u8 = 1;
const SACK: u8 = 5;
const SACK_BLOCK: usize = 8;

/// Why the options cannot be combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeError {
    /// TCP's own options are malformed (a length byte runs off the area).
    Malformed,
    /// Ours do not fit even with every SACK block dropped.
    NoRoom,
}

/// Writes into `out` the options area of a segment whose TCP options were
/// `existing`, with `ours` (MPTCP options, already encoded) added at the end;
/// returns the new length, a multiple of 4.
///
/// Without SACK blocks, TCP's options stay exactly as TCP laid them out
/// (on a SYN: MSS, SACK-permitted, timestamps, NOP, window scale), ours
/// follow, NOPs pad. With SACK blocks, they are dropped, last first, as far
/// as needed to make room (a SACK option left with no block is removed),
/// and the area is laid out again, with as few NOPs as alignment needs.
/// The final padding is NOPs, as Linux writes it after its MPTCP options
/// (an EOL would do as well, RFC 9293, 3.2, but tools that compare the
/// bytes with Linux's, packetdrill's MPTCP scripts among them, expect
/// NOPs); never four in a row, which is what a middlebox blanking options
/// leaves behind, and what tools such as Wireshark flag.
pub fn merge(
    existing: &[u8],
    ours: &[u8],
    out: &mut [u8; MAX_TCP_OPTIONS],
) -> Result<usize, MergeError> {
    // First pass: the bytes of everything but SACK and padding, and the SACK
    // blocks there are.
    let mut kept = 0usize;
    let mut sack: Option<(usize, usize)> = None; // (offset of first block, blocks)
    let mut i = 0usize;
    // Where TCP's options end: at an EOL (at an option boundary), or the end.
    let mut body = existing.len();
    while i < existing.len() {
        let kind = existing[i];
        match kind {
            EOL => {
                body = i;
                break;
            }
            NOP => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let len = *existing.get(i + 1).ok_or(MergeError::Malformed)? as usize;
        if len < 2 || i + len > existing.len() {
            return Err(MergeError::Malformed);
        }
        if kind == SACK && sack.is_none() && (len - 2) % SACK_BLOCK == 0 {
            sack = Some((i + 2, (len - 2) / SACK_BLOCK));
        } else {
            kept += len;
        }
        i += len;
    }

    let padded = |n: usize| n.div_ceil(4) * 4;
    if sack.is_none() {
        // TCP's own layout, as it is (up to an EOL), then ours.
        let at = padded(body);
        if at + padded(ours.len()) > MAX_TCP_OPTIONS {
            return Err(MergeError::NoRoom);
        }
        out[..body].copy_from_slice(&existing[..body]);
        out[body..at].fill(NOP);
        out[at..at + ours.len()].copy_from_slice(ours);
        let end = padded(at + ours.len());
        out[at + ours.len()..end].fill(NOP);
        return Ok(end);
    }

    // The layout below: TCP's options; the SACK option starting 2 bytes
    // past a 4-byte boundary, so that it ends on one (TCP puts two NOPs
    // before it; after timestamps no NOP is needed at all); otherwise TCP's
    // options padded to 4 bytes; then ours, padded to 4 bytes with NOPs.
    let sack_at = |n: usize| padded(n + 2) - 2;
    let need = |blocks: usize| {
        (if blocks > 0 {
            sack_at(kept) + 2 + blocks * SACK_BLOCK
        } else {
            padded(kept)
        }) + padded(ours.len())
    };
    let mut blocks = sack.map_or(0, |(_, n)| n);
    while blocks > 0 && need(blocks) > MAX_TCP_OPTIONS {
        blocks -= 1;
    }
    if need(blocks) > MAX_TCP_OPTIONS {
        return Err(MergeError::NoRoom);
    }

    // Second pass: copy what is kept, in order, then the SACK blocks (NOP,
    // NOP, SACK: the 4-byte alignment TCP itself uses), then ours.
    let mut o = 0usize;
    let mut i = 0usize;
    while i < existing.len() {
        let kind = existing[i];
        if kind == EOL {
            break;
        }
        if kind == NOP {
            i += 1;
            continue;
        }
        let len = existing[i + 1] as usize; // validated in the first pass
        if !(kind == SACK && sack.is_some_and(|(first, _)| first == i + 2)) {
            out[o..o + len].copy_from_slice(&existing[i..i + len]);
            o += len;
        }
        i += len;
    }
    // Align what follows on 4 bytes, as TCP lays out its options.
    let aligned = match sack {
        Some(_) if blocks > 0 => sack_at(o),
        _ => padded(o),
    };
    out[o..aligned].fill(NOP);
    o = aligned;
    if let (Some((first, _)), true) = (sack, blocks > 0) {
        let bytes = blocks * SACK_BLOCK;
        out[o] = SACK;
        out[o + 1] = (2 + bytes) as u8;
        out[o + 2..o + 2 + bytes].copy_from_slice(&existing[first..first + bytes]);
        o += 2 + bytes;
    }
    out[o..o + ours.len()].copy_from_slice(ours);
    o += ours.len();
    let end = padded(o);
    out[o..end].fill(NOP);
    Ok(end)
}

/// Test vectors, run on the host and as KUnit cases.
#[cfg(any(test, CONFIG_KUNIT))]
pub fn selftest(c: &mut dyn super::check::Check) {
    let mut out = [0u8; MAX_TCP_OPTIONS];
    // Timestamps as Linux writes them (NOP NOP TS) and a 20-byte DSS: 32.
    let ts = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2];
    let dss = [30u8; 20];
    // Without SACK, TCP's layout stays as it is.
    let n = merge(&ts, &dss, &mut out);
    check_eq!(c, n, Ok(32));
    check_eq!(c, &out[..12], &ts[..]);
    check_eq!(c, &out[12..32], &dss[..]);

    // Timestamps, 3 SACK blocks (40 bytes in all) and a 12-byte DATA_ACK
    // option.
    let mut tcp = [0u8; 40];
    tcp[..12].copy_from_slice(&ts);
    tcp[12..16].copy_from_slice(&[NOP, NOP, SACK, 26]);
    for (k, b) in tcp[16..].iter_mut().enumerate() {
        *b = 100 + k as u8;
    }
    let ack = [30u8, 12, 0x20, 0x03, 1, 2, 3, 4, 5, 6, 7, 8];
    // Right after timestamps, SACK needs no NOP, so 2 blocks fit:
    // 10 + 18 + 12 = 40.
    let n = merge(&tcp, &ack, &mut out);
    check_eq!(c, n, Ok(40));
    check_eq!(c, &out[10..12], &[SACK, 18]);
    check_eq!(c, &out[12..28], &tcp[16..32]);
    check_eq!(c, &out[28..40], &ack[..]);

    // Timestamps and a 26-byte DSS (8-byte DATA_ACK and DSN, no checksum):
    // 2 NOPs + 10 + 26 + 2 NOPs, as Linux lays it out.
    let dss26 = [30u8; 26];
    check_eq!(c, merge(&ts, &dss26, &mut out), Ok(40));
    check_eq!(c, &out[..2], &[NOP, NOP]);
    check_eq!(c, &out[38..40], &[NOP, NOP]);

    // With a 28-byte DSS no SACK block fits next to timestamps.
    let full = [30u8; 28];
    let n = merge(&tcp, &full, &mut out);
    check_eq!(c, n, Ok(40));
    check!(c, !out[..n.unwrap_or(0)].contains(&SACK) || out[10] != SACK);

    // MSS, SACK-permitted, timestamps, NOP, window scale (a SYN, as Linux
    // lays it out) plus a 4-byte MP_CAPABLE: 24 bytes, TCP's layout kept.
    let syn = [
        2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
    ];
    let mpc = [30, 4, 0x01, 0x01];
    check_eq!(c, merge(&syn, &mpc, &mut out), Ok(24));
    check_eq!(c, &out[..20], &syn[..]);
    check_eq!(c, &out[20..24], &mpc[..]);

    // Nothing fits in a full area without SACK to drop.
    let big = [30u8; 32];
    check_eq!(c, merge(&ts, &big, &mut out), Err(MergeError::NoRoom));
    // Malformed input is refused, not read past.
    check_eq!(
        c,
        merge(&[8, 10, 0], &mpc, &mut out),
        Err(MergeError::Malformed)
    );
    check_eq!(c, merge(&[8], &mpc, &mut out), Err(MergeError::Malformed));
    check_eq!(
        c,
        merge(&[8, 1], &mpc, &mut out),
        Err(MergeError::Malformed)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::option::{options, MptcpOption};
    use proptest::prelude::*;

    #[test]
    fn vectors() {
        selftest(&mut crate::check::PanicCheck);
    }

    /// Walks an options area: (kind, bytes) of each option but NOP/EOL.
    fn walk(area: &[u8]) -> std::vec::Vec<(u8, std::vec::Vec<u8>)> {
        let mut v = std::vec::Vec::new();
        let mut i = 0;
        while i < area.len() {
            match area[i] {
                EOL => break,
                NOP => i += 1,
                k => {
                    let l = area[i + 1] as usize;
                    v.push((k, area[i..i + l].to_vec()));
                    i += l;
                }
            }
        }
        v
    }

    proptest! {
        /// Whatever TCP wrote (timestamps, SACK with 0..4 blocks, MSS,
        /// window scale) and whatever MPTCP option we add, the result fits,
        /// has no four NOPs in a row,
        /// keeps TCP's non-SACK options intact, keeps a prefix of the SACK
        /// blocks, and carries our option unchanged.
        #[test]
        fn merge_keeps_what_matters(ts in any::<bool>(), blocks in 0usize..=4, ours_len in 4usize..=28) {
            let mut area = std::vec::Vec::new();
            if ts { area.extend_from_slice(&[NOP, NOP, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8]); }
            if blocks > 0 {
                area.extend_from_slice(&[NOP, NOP, SACK, (2 + 8 * blocks) as u8]);
                for k in 0..8 * blocks { area.push(k as u8); }
            }
            prop_assume!(area.len() <= 40);
            let mut ours = std::vec![30u8; ours_len];
            ours[1] = ours_len as u8;
            let mut out = [0u8; MAX_TCP_OPTIONS];
            match merge(&area, &ours, &mut out) {
                Ok(n) => {
                    prop_assert!(n <= 40 && n % 4 == 0);
                    // Never four NOPs in a row (what blanked options look like).
                    prop_assert!(!out[..n].windows(4).any(|w| w == [NOP; 4]));
                    let got = walk(&out[..n]);
                    let want = walk(&area);
                    for (k, bytes) in &want {
                        if *k != SACK { prop_assert!(got.contains(&(*k, bytes.clone()))); }
                    }
                    if let Some((_, s)) = got.iter().find(|(k, _)| *k == SACK) {
                        let orig = &want.iter().find(|(k, _)| *k == SACK).unwrap().1;
                        prop_assert_eq!(&s[2..], &orig[2..s.len()]);
                    }
                    prop_assert!(got.contains(&(30, ours.clone())));
                }
                Err(e) => {
                    prop_assert_eq!(e, MergeError::NoRoom);
                    let base = if ts { 12 } else { 0 };
                    prop_assert!(base + ours_len.div_ceil(4) * 4 > 40);
                }
            }
        }

        /// Arbitrary bytes never make merge panic or read past the area.
        #[test]
        fn merge_never_panics(area in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut out = [0u8; MAX_TCP_OPTIONS];
            let _ = merge(&area, &[30, 4, 0x01, 0x01], &mut out);
        }
    }

    #[test]
    fn merged_mptcp_option_parses() {
        let dss = [30u8, 8, 0x20, 0x01, 0, 0, 0, 7];
        let mut out = [0u8; MAX_TCP_OPTIONS];
        let n = merge(&[NOP, NOP, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8], &dss, &mut out).unwrap();
        let opts: std::vec::Vec<_> = options(&out[..n]).collect();
        prop_assert_eq_dss(&opts);
    }

    fn prop_assert_eq_dss(opts: &[Result<MptcpOption, crate::option::OptionError>]) {
        assert_eq!(opts.len(), 1);
        assert!(matches!(opts[0], Ok(MptcpOption::Dss(_))));
    }
}

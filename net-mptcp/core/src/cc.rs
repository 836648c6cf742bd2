// SPDX-License-Identifier: GPL-2.0

//! Coupled congestion control in integer arithmetic: LIA (RFC 6356),
//! OLIA (Khalili et al., "MPTCP is not Pareto-optimal", CoNEXT 2012;
//! draft-khalili-mptcp-congestion-control) and BALIA (Peng et al., IEEE/ACM
//! ToN 2016; [`balia_threshold`], [`balia_ssthresh`]).
//!
//! LIA and OLIA keep Reno's slow start and its halving on loss on every
//! subflow, and replace only the increase of congestion avoidance with one
//! that looks at all the subflows of the connection; BALIA also couples
//! the decrease. This module computes
//! that increase from a snapshot of the subflows ([`Path`]) and applies it
//! in the form that a Linux `tcp_congestion_ops::cong_avoid` needs: the
//! window `snd_cwnd` in segments and the counter `snd_cwnd_cnt` of ACKed
//! segments ([`cong_avoid_ai`], [`lia_cong_avoid`], [`olia_cong_avoid`]).
//!
//! # Units
//!
//! Windows are in segments (`cwnd`) and are weighted by each subflow's MSS
//! where the specifications reason in bytes: `w_i = cwnd_i * mss_i`. RTTs
//! are smoothed RTTs in microseconds (`srtt_us`; Linux keeps `srtt_us << 3`,
//! the caller shifts it). A subflow takes part in the coupling when its
//! `cwnd`, `srtt_us` and `mss` are all non-zero (an RTT of 0 means "no
//! sample yet").
//!
//! # LIA, reorganised
//!
//! RFC 6356 increases `cwnd_i` (bytes) for each ACK of `bytes_acked` on
//! subflow `i` by
//!
//! ```text
//!     min(alpha * bytes_acked * mss_i / W, bytes_acked * mss_i / w_i)
//!     alpha = W * max_i(w_i / rtt_i^2) / (sum_i(w_i / rtt_i))^2,   W = sum_i w_i
//! ```
//!
//! Like equation 1 of the UCLouvain paper, we let `k` be the subflow that
//! attains `max_i(w_i / rtt_i^2)` (found exactly by cross-multiplication,
//! without division) and multiply numerator and denominator by `rtt_k^2`:
//!
//! ```text
//!     alpha = W * w_k / S^2,   S = sum_i w_i * rtt_k / rtt_i    (bytes)
//! ```
//!
//! which needs one division per subflow (each term of `S`) instead of two,
//! and whose inputs all stay integers. It also gives `alpha / W = w_k / S^2`,
//! so that the per-ACK increase, counted in segments for one ACKed segment,
//! is
//!
//! ```text
//!     min(mss_i * w_k / S^2, 1 / cwnd_i)
//! ```
//!
//! and the number of ACKed segments that makes `cwnd_i` grow by one (the
//! threshold that `snd_cwnd_cnt` is compared with) is
//!
//! ```text
//!     T_i = max(S^2 / (w_k * mss_i), cwnd_i)
//! ```
//!
//! With one subflow, `S = w_k = W`: `alpha = 1` and `T_i = cwnd_i`, Reno.
//!
//! # OLIA
//!
//! OLIA increases `w_r` (in segments) for each ACKed segment on path `r` by
//!
//! ```text
//!     (w_r / rtt_r^2) / (sum_p w_p / rtt_p)^2 + alpha_r / w_r
//! ```
//!
//! which, reorganised the same way around `rtt_r` and weighted by MSS, is
//! `mss_r * w_r / S_r^2 + alpha_r / cwnd_r` with `S_r = sum_p w_p * rtt_r /
//! rtt_p`. `alpha_r` moves window from the paths with the largest window
//! (`M`) to the best paths that do not have it (`B \ M`, "collected
//! paths"); the best paths `B` are those with the largest `l_p / rtt_p^2`,
//! `l_p` being the smoothed number of bytes between losses ([`LossIntervals`]):
//!
//! ```text
//!     alpha_r =  1 / (|R| * |B \ M|)   if r in B \ M
//!     alpha_r = -1 / (|R| * |M|)       if r in M and B \ M is not empty
//!     alpha_r =  0                     otherwise
//! ```
//!
//! The increase may be negative: the window of a max-window path then
//! shrinks slowly ([`OliaStep::Decrease`]).
//!
//! # Fixed point, and how precise it is
//!
//! No floating point is used, nor any 128-bit division (the kernel has no
//! `__udivti3`). Products are formed exactly in `u128` (or 256 bits, by
//! `wide_mul`, for exact comparisons); quotients come from one helper,
//! `div_fx`, that divides a `u128` by a divisor reduced to its 32 most
//! significant bits, using only `u64` divisions: each quotient carries a
//! relative error below 2^-31 besides its final truncation. The scalings:
//!
//! - `S` is kept in bytes with 16 fractional bits: each term is truncated
//!   by less than 2^-16 byte while `S >= w_k >= 500` bytes, so at most 8
//!   terms cost less than 2.5e-7 relative;
//! - `alpha` is returned with [`ALPHA_SHIFT`] = 32 fractional bits,
//!   computed as `(W / S) * (w_k / S)` with 32 and 48 fractional bits for
//!   the factors (`W / S >= 1/n` and `w_k / S >= 2^-21` in the tested
//!   range, so both keep at least 27 significant bits);
//! - thresholds `T` are returned with [`ACK_THRESHOLD_SHIFT`] = 24
//!   fractional bits, computed as `(S / w_k) * (S / mss_i)`, two factors of
//!   32 fractional bits that are at least 1/18 (truncating `T` makes the
//!   rate `1 / T` at most 2^-24 too large, relative);
//! - OLIA's terms are formed with 92 fractional bits; the first, which can
//!   be as small as 2^-94 for a slow path beside a fast one with a large
//!   window, as one quotient `mss_r w_r / S_r^2` with `S_r` reduced to 63
//!   significant bits so that its square fits a `u128`.
//!
//! Stated bounds, asserted by the proptests below against a floating-point
//! reference (and measured over 100 000 random connections, see the test
//! `measured_error_bounds`) for 1 to 8 subflows with `cwnd` in 1..=2^20,
//! RTT in 1 us..=10 s and MSS in 500..=9000:
//!
//! - `alpha` ([`lia_alpha`]): relative error at most 1e-6 (measured
//!   5.6e-8); exactly [`ALPHA_ONE`] when the true value is 1;
//! - LIA's rate `1 / T_i` ([`lia_threshold`]): relative error at most 1e-6
//!   (measured 7.8e-8), never above Reno's `1 / cwnd_i`, and `T_i =
//!   cwnd_i` exactly (Reno) whenever the coupled increase is not smaller
//!   than Reno's, in particular with a single subflow;
//! - the rate actually applied by [`cong_avoid_ai`] over many ACKs: after
//!   `N` ACKs the number of increments is within one of `N / T` (the
//!   fractional part of `T` is dithered over successive increments, not
//!   rounded away), so the error vanishes as `N` grows: at most 0.1% (+
//!   1e-6) once `N >= 1000 T` (asserted: 0.2% against the reference);
//! - OLIA's rate `1 / T` ([`olia_step`]): within `1e-8 * (|first term| +
//!   |alpha_r / cwnd_r|) + 2^-22 * |delta|` of the exact change `delta`
//!   (measured 1e-10 of the terms), with the right sign; when `alpha_r = 0`
//!   the first term alone is computed as LIA's threshold, within LIA's 1e-6
//!   relative (a proptest found 2.7e-7 with seven paths of RTTs from 1 us
//!   to 1 s, beyond the 2^-22 above); changes below one
//!   segment per 2^32 ACKs are not applied ([`AckThreshold::NEVER`]-like
//!   thresholds never fire), and at most one segment per ACK is.
//!
//! Outside that range every operation saturates instead of overflowing
//! (checked with arbitrary `u32`/`u64` inputs); results stay safe but lose
//! the stated precision.

use core::cmp::{max, min};

/// One subflow, as coupled congestion control sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Path {
    /// Congestion window, in segments (`snd_cwnd`).
    pub cwnd: u32,
    /// Smoothed RTT in microseconds; 0 when there is no sample yet.
    pub srtt_us: u32,
    /// The subflow's MSS in bytes (`mss_cache`).
    pub mss: u32,
    /// OLIA only: the smoothed number of bytes between losses, `l_r`
    /// ([`LossIntervals::smoothed`]). LIA ignores it.
    pub loss_interval: u64,
}

impl Path {
    /// Whether the subflow takes part in the coupling: non-zero window,
    /// RTT sample and MSS.
    pub const fn is_coupled(&self) -> bool {
        self.cwnd > 0 && self.srtt_us > 0 && self.mss > 0
    }

    /// The window in bytes, `w = cwnd * mss` (at most (2^32 - 1)^2: never
    /// overflows a `u64`).
    pub const fn bytes(&self) -> u64 {
        self.cwnd as u64 * self.mss as u64
    }
}

/// Fractional bits of [`lia_alpha`]'s result.
pub const ALPHA_SHIFT: u32 = 32;
/// `alpha = 1` in the fixed point of [`lia_alpha`].
pub const ALPHA_ONE: u64 = 1 << ALPHA_SHIFT;

/// Fractional bits of an [`AckThreshold`].
pub const ACK_THRESHOLD_SHIFT: u32 = 24;

/// The number of ACKed segments after which a window grows (or, for OLIA,
/// shrinks) by one segment: the inverse of the per-ACK change. Fixed point
/// with [`ACK_THRESHOLD_SHIFT`] fractional bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AckThreshold(pub u64);

impl AckThreshold {
    /// A threshold so large that the window never changes.
    pub const NEVER: AckThreshold = AckThreshold(u64::MAX);
    /// At most one segment per ACKed segment (the pace of slow start): the
    /// smallest threshold that [`cong_avoid_ai`] applies.
    pub const MIN: AckThreshold = AckThreshold(1 << ACK_THRESHOLD_SHIFT);

    /// Reno's threshold: `cwnd` ACKs per segment of growth (at least 1).
    pub const fn reno(cwnd: u32) -> AckThreshold {
        let cwnd = if cwnd == 0 { 1 } else { cwnd };
        AckThreshold((cwnd as u64) << ACK_THRESHOLD_SHIFT)
    }

    /// The threshold rounded up to whole ACKs, as Linux's
    /// `tcp_cong_avoid_ai()` would take it (saturated to `u32`).
    pub const fn whole_acks(self) -> u32 {
        let up = self.0.saturating_add((1 << ACK_THRESHOLD_SHIFT) - 1) >> ACK_THRESHOLD_SHIFT;
        if up > u32::MAX as u64 {
            u32::MAX
        } else {
            up as u32
        }
    }
}

/// A window and its ACK counter, as `snd_cwnd` and `snd_cwnd_cnt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CwndUpdate {
    /// The new `snd_cwnd`, in segments.
    pub cwnd: u32,
    /// The new `snd_cwnd_cnt`.
    pub cwnd_cnt: u32,
}

// ---------------------------------------------------------------------
// Fixed-point helpers: no float, no 128-bit division.
// ---------------------------------------------------------------------

/// `n / d` for `d` in `1..2^32`, exactly, by long division in base 2^32
/// with `u64` divisions only.
fn div_u128_by_u32(n: u128, d: u64) -> u128 {
    let d = if d == 0 { 1 } else { d };
    let mut q: u128 = 0;
    let mut rem: u64 = 0;
    let mut i = 4;
    while i > 0 {
        i -= 1;
        let digit = (n >> (32 * i)) as u64 & 0xffff_ffff;
        // rem < d < 2^32, so cur < 2^64 and cur / d < 2^32.
        let cur = (rem << 32) | digit;
        q |= ((cur / d) as u128) << (32 * i);
        rem = cur % d;
    }
    q
}

/// About `a * 2^shift / b`, never more than the exact quotient times
/// `(1 + 2^-31)` and never less than it minus `1 + 2^-31 * quotient`.
///
/// `b` is reduced to its 32 most significant bits (and `a` shifted to
/// match), then divided exactly. Saturates to `u128::MAX` when the quotient
/// does not fit or `b` is 0 (with `a` non-zero).
pub(crate) fn div_fx(a: u128, b: u128, shift: u32) -> u128 {
    if a == 0 {
        return 0;
    }
    if b == 0 {
        return u128::MAX;
    }
    let drop = (128 - b.leading_zeros()).saturating_sub(32);
    let d = (b >> drop) as u64;
    let n = if shift >= drop {
        let up = shift - drop;
        if up >= 128 || a.leading_zeros() < up {
            return u128::MAX;
        }
        a << up
    } else {
        let down = drop - shift;
        if down >= 128 {
            0
        } else {
            a >> down
        }
    };
    div_u128_by_u32(n, d)
}

/// The exact 256-bit product of two `u128`s, as (high, low) halves.
pub(crate) fn wide_mul(a: u128, b: u128) -> (u128, u128) {
    const LO: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & LO);
    let (b1, b0) = (b >> 64, b & LO);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // At most 3 * (2^64 - 1): no overflow.
    let mid = (p00 >> 64) + (p01 & LO) + (p10 & LO);
    let low = (p00 & LO) | (mid << 64);
    // The high half of a product of two u128 fits a u128, and so does each
    // partial sum of it.
    let high = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (high, low)
}

/// Saturating conversion to `u64`.
fn sat64(x: u128) -> u64 {
    u64::try_from(x).unwrap_or(u64::MAX)
}

/// `S_j * 2^16` in bytes: `sum_i w_i * rtt_j / rtt_i` over coupled paths,
/// each term truncated to 2^-16 byte.
fn rtt_weighted_sum(paths: &[Path], j: usize) -> u128 {
    let Some(pj) = paths.get(j) else {
        return 0;
    };
    let rj = pj.srtt_us as u128;
    let mut s: u128 = 0;
    for p in paths.iter().filter(|p| p.is_coupled()) {
        // w_i * rtt_j * 2^16 < 2^64 * 2^32 * 2^16: fits.
        let num = ((p.bytes() as u128) * rj) << 16;
        s = s.saturating_add(div_u128_by_u32(num, p.srtt_us as u64));
    }
    s
}

/// The coupled path `k` with the largest `w_k / rtt_k^2` (the first one on
/// ties), by exact cross-multiplication.
fn max_window_over_rtt2(paths: &[Path]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, p) in paths.iter().enumerate() {
        if !p.is_coupled() {
            continue;
        }
        match best {
            None => best = Some(i),
            Some(b) => {
                let q = &paths[b];
                let (rb, ri) = (q.srtt_us as u128, p.srtt_us as u128);
                // w_i / r_i^2 > w_b / r_b^2  <=>  w_i * r_b^2 > w_b * r_i^2,
                // each side below 2^64 * 2^64.
                if p.bytes() as u128 * (rb * rb) > q.bytes() as u128 * (ri * ri) {
                    best = Some(i);
                }
            }
        }
    }
    best
}

/// The sum of the coupled windows, `W`, in bytes.
fn total_bytes(paths: &[Path]) -> u128 {
    paths
        .iter()
        .filter(|p| p.is_coupled())
        .fold(0u128, |s, p| s.saturating_add(p.bytes() as u128))
}

// ---------------------------------------------------------------------
// LIA (RFC 6356)
// ---------------------------------------------------------------------

/// LIA's `alpha`, with [`ALPHA_SHIFT`] fractional bits, over the coupled
/// paths; `None` when no path is coupled.
///
/// `alpha = W * w_k / S^2` (see the module documentation), computed as
/// `(W / S) * (w_k / S)`. Relative error at most 1e-6 in the documented
/// range; exactly [`ALPHA_ONE`] when `S^2 = W * w_k` (one subflow).
/// Saturates at `u64::MAX`.
pub fn lia_alpha(paths: &[Path]) -> Option<u64> {
    let k = max_window_over_rtt2(paths)?;
    let s = rtt_weighted_sum(paths, k); // S * 2^16
    let w_total = total_bytes(paths);
    let w_k = paths[k].bytes() as u128;
    // alpha == 1 exactly  <=>  (S * 2^16)^2 == W * w_k * 2^32.
    if wide_mul(s, s) == wide_mul(w_total, w_k << 32) {
        return Some(ALPHA_ONE);
    }
    let x = div_fx(w_total, s, 48); // W / S, 32 fractional bits
    let y = div_fx(w_k, s, 64); // w_k / S, 48 fractional bits
    Some(x.checked_mul(y).map_or(u64::MAX, |p| sat64(p >> 48)))
}

/// LIA's threshold for subflow `i`: the number of ACKed segments per
/// segment of growth, `T_i = max(S^2 / (w_k * mss_i), cwnd_i)`.
///
/// This is `1 / min(alpha * mss_i / W, 1 / cwnd_i)`, RFC 6356's per-ACK
/// increase in segments. It is Reno's `cwnd_i` exactly when the coupled
/// increase is at least Reno's (always with one subflow), and Reno's too
/// when subflow `i` is not coupled (no RTT sample yet). Relative error of
/// `1 / T_i` at most 1e-6 in the documented range.
pub fn lia_threshold(paths: &[Path], i: usize) -> AckThreshold {
    let Some(p) = paths.get(i) else {
        return AckThreshold::reno(1);
    };
    let reno = AckThreshold::reno(p.cwnd);
    if !p.is_coupled() {
        return reno;
    }
    match max_window_over_rtt2(paths) {
        Some(k) => coupled_threshold(paths, k, i),
        None => reno,
    }
}

/// `max(S_k^2 / (w_k * mss_i), cwnd_i)` for coupled paths `k` and `i`,
/// with `S_k = sum_j w_j * rtt_k / rtt_j`; exactly `cwnd_i` when `S_k^2 <=
/// w_k * w_i`.
fn coupled_threshold(paths: &[Path], k: usize, i: usize) -> AckThreshold {
    let (pk, p) = (&paths[k], &paths[i]);
    let reno = AckThreshold::reno(p.cwnd);
    let s = rtt_weighted_sum(paths, k);
    let w_k = pk.bytes() as u128;
    let w_i = p.bytes() as u128;
    // Reno's increase is the smaller one (or they are equal) when
    // S^2 <= w_k * w_i, that is (S * 2^16)^2 <= w_k * w_i * 2^32.
    if wide_mul(s, s) <= wide_mul(w_k, w_i << 32) {
        return reno;
    }
    let z1 = div_fx(s, w_k, 16); // S / w_k, 32 fractional bits
    let z2 = div_fx(s, p.mss as u128, 16); // S / mss_i, 32 fractional bits
    let t = z1
        .checked_mul(z2)
        .map_or(u64::MAX, |v| sat64(v >> (64 - ACK_THRESHOLD_SHIFT)));
    max(AckThreshold(t), reno)
}

/// LIA's threshold for a subflow from a cached `alpha` (as [`lia_alpha`]
/// returns it) and the total window `total_bytes = sum_i cwnd_i * mss_i`:
/// `max(W / (alpha * mss_i), cwnd_i)`.
///
/// For callers that recompute `alpha` once per connection event rather
/// than on every ACK; [`lia_threshold`] computes the same from scratch
/// without the intermediate rounding of `alpha`.
pub fn lia_threshold_from_alpha(alpha: u64, total_bytes: u64, cwnd: u32, mss: u32) -> AckThreshold {
    let reno = AckThreshold::reno(cwnd);
    let den = alpha as u128 * mss as u128;
    if den == 0 {
        return reno;
    }
    // W * 2^(24 + 32) / (alpha * 2^32 * mss).
    let t = div_fx(total_bytes as u128, den, ACK_THRESHOLD_SHIFT + ALPHA_SHIFT);
    max(AckThreshold(sat64(t)), reno)
}

/// Reno's slow-start threshold after a loss: half the window, at least 2
/// segments. LIA and OLIA decrease like Reno.
pub const fn reno_ssthresh(cwnd: u32) -> u32 {
    let half = cwnd / 2;
    if half < 2 {
        2
    } else {
        half
    }
}

/// Reno's slow start: `cwnd` grows by one segment per ACKed segment up to
/// `ssthresh`. Returns the new window and the ACKed segments left over for
/// congestion avoidance (all of them when not in slow start).
pub const fn slow_start(cwnd: u32, ssthresh: u32, acked: u32) -> (u32, u32) {
    if cwnd >= ssthresh {
        return (cwnd, acked);
    }
    let room = ssthresh - cwnd;
    if acked <= room {
        (cwnd + acked, 0)
    } else {
        (ssthresh, acked - room)
    }
}

/// Limit on thresholds that [`cong_avoid_ai`] can reach: 2^32 ACKs.
const T_MAX_UNSIGNED: u64 = (1 << (32 + ACK_THRESHOLD_SHIFT)) - 1;
/// Limit on thresholds that the signed counter of [`cong_avoid_signed`]
/// can reach: 2^31 ACKs.
const T_MAX_SIGNED: u64 = (1 << (31 + ACK_THRESHOLD_SHIFT)) - 1;

/// How many window steps `credit` ACKs pay for, starting at window `c` and
/// going up (or down), with threshold `t` (24 fractional bits, at least
/// 1.0): the largest `m` with `cost(m) <= credit`, and `cost(m)`.
///
/// Step `c -> c + 1` costs `A(c + 1) - A(c)` ACKs, `A(x) = floor(x * t /
/// 2^24)`: successive steps cost `floor(t)` or `floor(t) + 1` ACKs and any
/// run of them costs within one ACK of `t` per step. This dithers the
/// fractional part of `t` over successive steps instead of rounding it away.
/// Going down, step `c -> c - 1` costs `A(c) - A(c - 1)`, for `m <= limit`.
fn steps(c: u64, credit: u64, t: u64, down: bool, limit: u64) -> (u64, u64) {
    // x <= 2^33 and t < 2^56: x * t < 2^89.
    let a = |x: u64| -> u128 { (x as u128 * t as u128) >> ACK_THRESHOLD_SHIFT };
    let base = a(c);
    // Saturating and checked arithmetic, though the bounds above hold: no
    // panic path in code that runs on every ACK (objtool cannot follow
    // Rust's panic calls either).
    let cost = |m: u64| -> u128 {
        if down {
            base.saturating_sub(a(c.saturating_sub(m)))
        } else {
            a(c.saturating_add(m)).saturating_sub(base)
        }
    };
    let credit128 = credit as u128;
    // With t >= 2^24 each step costs at least one ACK and a run of m steps
    // costs within one ACK of m * t / 2^24: the answer is m0 or m0 + 1.
    // credit < 2^34: the shift fits.
    let mut m = min(
        (credit << ACK_THRESHOLD_SHIFT)
            .checked_div(t)
            .unwrap_or(limit),
        limit,
    );
    while m > 0 && cost(m) > credit128 {
        m -= 1;
    }
    while m < limit && cost(m + 1) <= credit128 {
        m += 1;
    }
    // cost(m) <= credit: fits a u64.
    (m, cost(m) as u64)
}

/// Congestion avoidance with a fractional threshold: adds `acked` to the
/// counter `cwnd_cnt` and grows `cwnd` by one segment each time the counter
/// pays for a step of about `t` ACKs (see [`AckThreshold`]).
///
/// Like Linux's `tcp_cong_avoid_ai(tp, w, acked)` with `w = t`, but `t`
/// need not be whole: the fractional part is dithered over successive
/// increments (the step from `cwnd = c` costs `floor((c + 1) t) - floor(c
/// t)` ACKs), so that the long-run rate is `1 / t` per ACK within one ACK
/// in total. The counter stays below one step (at most 2^32 ACKs);
/// thresholds of 2^32 ACKs or more never fire. `t` below one ACK counts as
/// one (at most one segment per ACKed segment). Saturates at `u32::MAX`.
pub fn cong_avoid_ai(cwnd: u32, cwnd_cnt: u32, acked: u32, t: AckThreshold) -> CwndUpdate {
    let credit = cwnd_cnt as u64 + acked as u64;
    let t = max(t.0, AckThreshold::MIN.0);
    if t > T_MAX_UNSIGNED {
        let cwnd_cnt = min(credit, u32::MAX as u64) as u32;
        return CwndUpdate { cwnd, cwnd_cnt };
    }
    let limit = (u32::MAX - cwnd) as u64;
    let (m, used) = steps(cwnd as u64, credit, t, false, limit);
    // One step costs at most floor(t) + 1 <= 2^32 ACKs and the rest is
    // below a step; at the window limit the counter stops.
    let rest = credit - used;
    let cwnd_cnt = if m == limit {
        0
    } else {
        min(rest, u32::MAX as u64) as u32
    };
    // m <= limit = u32::MAX - cwnd.
    CwndUpdate {
        cwnd: cwnd + m as u32,
        cwnd_cnt,
    }
}

/// Whether the window grows or shrinks, and how many ACKed segments make
/// one segment of change. OLIA's increase may be negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OliaStep {
    /// Grow by one segment every so many ACKed segments.
    Increase(AckThreshold),
    /// Shrink by one segment every so many ACKed segments.
    Decrease(AckThreshold),
}

/// Congestion avoidance with a signed step (OLIA): `cwnd_cnt` holds a
/// signed credit (its bits are an `i32`), positive toward growth and
/// negative toward shrinking. ACKs move it in the direction of `step`; a
/// credit of the other sign is used up first. The window never falls below
/// one segment (the credit is then cleared). Thresholds of 2^31 ACKs or
/// more never fire; otherwise as [`cong_avoid_ai`], with the same
/// dithering.
pub fn cong_avoid_signed(cwnd: u32, cwnd_cnt: u32, acked: u32, step: OliaStep) -> CwndUpdate {
    let old = cwnd_cnt as i32 as i64;
    let (down, t) = match step {
        OliaStep::Increase(t) => (false, t),
        OliaStep::Decrease(t) => (true, t),
    };
    let toward = if down { -old } else { old } + acked as i64;
    let t = max(t.0, AckThreshold::MIN.0);
    let store = |credit: i64| -> u32 {
        let signed = if down { -credit } else { credit };
        signed.clamp(i32::MIN as i64 + 1, i32::MAX as i64) as i32 as u32
    };
    if toward <= 0 || t > T_MAX_SIGNED {
        return CwndUpdate {
            cwnd,
            cwnd_cnt: store(toward),
        };
    }
    // 0 < toward < 2^31 + 2^32.
    let credit = toward as u64;
    let cwnd = max(cwnd, 1);
    let limit = if down {
        cwnd as u64 - 1
    } else {
        (u32::MAX - cwnd) as u64
    };
    let (m, used) = steps(cwnd as u64, credit, t, down, limit);
    // Below one step, itself at most floor(t) + 1 <= 2^31 ACKs.
    let rest = (credit - used) as i64;
    let at_limit = m == limit;
    let new_cwnd = if down {
        cwnd - m as u32
    } else {
        cwnd + m as u32
    };
    CwndUpdate {
        cwnd: new_cwnd,
        cwnd_cnt: if at_limit { 0 } else { store(rest) },
    }
}

/// A full LIA `cong_avoid` for subflow `i` of `paths` (its `cwnd` is
/// `paths[i].cwnd`): Reno's slow start below `ssthresh`, then congestion
/// avoidance with [`lia_threshold`] for the ACKs left over.
///
/// `cwnd_cnt` is `snd_cwnd_cnt`, `acked` the number of newly ACKed
/// segments. The caller applies its own `snd_cwnd_clamp`.
pub fn lia_cong_avoid(
    paths: &[Path],
    i: usize,
    ssthresh: u32,
    cwnd_cnt: u32,
    acked: u32,
) -> CwndUpdate {
    coupled_cong_avoid(paths, i, ssthresh, cwnd_cnt, acked, lia_threshold)
}

/// Reno's slow start below `ssthresh`, then congestion avoidance at the
/// pace of `threshold(paths, i)` (LIA's or BALIA's), never faster than
/// Reno.
fn coupled_cong_avoid(
    paths: &[Path],
    i: usize,
    ssthresh: u32,
    cwnd_cnt: u32,
    acked: u32,
    threshold: fn(&[Path], usize) -> AckThreshold,
) -> CwndUpdate {
    let cwnd = paths.get(i).map_or(1, |p| p.cwnd);
    let (cwnd, acked) = slow_start(cwnd, ssthresh, acked);
    if acked == 0 {
        return CwndUpdate { cwnd, cwnd_cnt };
    }
    // If slow start just ended within this ACK, the coupled threshold was
    // computed with the smaller window; Reno's cap uses the window reached,
    // so the result is never more aggressive than Reno.
    let t = max(threshold(paths, i), AckThreshold::reno(cwnd));
    cong_avoid_ai(cwnd, cwnd_cnt, acked, t)
}

// ---------------------------------------------------------------------
// OLIA
// ---------------------------------------------------------------------

/// Per-subflow record of bytes between losses, for OLIA's `l_r`.
///
/// OLIA estimates a path's quality by the number of bytes delivered
/// between losses: `l_r = max(bytes between the last two losses, bytes
/// since the last loss)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LossIntervals {
    /// Bytes ACKed between the last two losses (`l1r`).
    pub between_last_two: u64,
    /// Bytes ACKed since the last loss (`l2r`).
    pub since_last: u64,
}

impl LossIntervals {
    /// Counts `bytes` newly ACKed.
    pub fn on_acked(&mut self, bytes: u64) {
        self.since_last = self.since_last.saturating_add(bytes);
    }

    /// Records a loss: the current interval becomes the last complete one.
    pub fn on_loss(&mut self) {
        self.between_last_two = self.since_last;
        self.since_last = 0;
    }

    /// OLIA's `l_r`: the larger of the two intervals.
    pub const fn smoothed(&self) -> u64 {
        if self.between_last_two > self.since_last {
            self.between_last_two
        } else {
            self.since_last
        }
    }
}

/// OLIA's `alpha_r = sign / den` for one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OliaAlpha {
    /// -1, 0 or 1.
    pub sign: i8,
    /// `|R| * |B \ M|` or `|R| * |M|`; 1 when `sign` is 0.
    pub den: u32,
}

/// OLIA's `alpha_r` for path `r` (0 when `r` is not coupled).
///
/// `M` is the set of coupled paths with the largest window in bytes, `B`
/// the set of those with the largest `l_p / rtt_p^2` (both by exact
/// integer comparison); `R` is the set of coupled paths.
pub fn olia_alpha(paths: &[Path], r: usize) -> OliaAlpha {
    const ZERO: OliaAlpha = OliaAlpha { sign: 0, den: 1 };
    let Some(pr) = paths.get(r) else {
        return ZERO;
    };
    if !pr.is_coupled() {
        return ZERO;
    }
    let coupled = || paths.iter().filter(|p| p.is_coupled());
    let max_w = coupled().map(|p| p.bytes()).max().unwrap_or(0);
    // The best path by l / rtt^2, by cross-multiplication (each side below
    // 2^64 * 2^64).
    let better = |a: &Path, b: &Path| {
        let (ra, rb) = (a.srtt_us as u128, b.srtt_us as u128);
        (a.loss_interval as u128 * (rb * rb)).cmp(&(b.loss_interval as u128 * (ra * ra)))
    };
    let Some(best) = coupled().max_by(|a, b| better(a, b)) else {
        return ZERO;
    };
    let in_m = |p: &Path| p.bytes() == max_w;
    let in_b = |p: &Path| better(p, best).is_eq();
    let n_r = coupled().count();
    let n_m = coupled().filter(|p| in_m(p)).count();
    let n_c = coupled().filter(|p| in_b(p) && !in_m(p)).count();
    if n_c == 0 {
        return ZERO;
    }
    let den = |set: usize| u32::try_from(n_r.saturating_mul(set)).unwrap_or(u32::MAX);
    if in_b(pr) && !in_m(pr) {
        OliaAlpha {
            sign: 1,
            den: den(n_c),
        }
    } else if in_m(pr) {
        OliaAlpha {
            sign: -1,
            den: den(n_m),
        }
    } else {
        ZERO
    }
}

/// Fractional bits of OLIA's per-ACK change as computed internally.
const OLIA_SHIFT: u32 = 92;

/// OLIA's per-ACK change on path `r`, in segments per ACKed segment, as
/// (negative, magnitude), with its two terms `mss_r * w_r / S_r^2` and
/// `|alpha_r| / cwnd_r`; all with [`OLIA_SHIFT`] fractional bits.
///
/// The first term can be tiny (a slow path next to a fast one with a large
/// window: down to 2^-94 in the documented range), so it is not formed from
/// two ratios but as one quotient, with `S_r` first reduced to 63
/// significant bits so that its square fits: relative error about 2^-30,
/// absolute error 2^-92. Both terms are at most 1 (`S_r >= w_r >= mss_r`),
/// which leaves the long division of [`div_fx`] 4 bits of headroom.
fn olia_delta(paths: &[Path], r: usize) -> Option<(bool, u128, u128, u128)> {
    let p = paths.get(r)?;
    if !p.is_coupled() {
        return None;
    }
    let s = rtt_weighted_sum(paths, r); // S_r * 2^16
    let sh = (128 - s.leading_zeros()).saturating_sub(63);
    let s_red = s >> sh;
    // mss_r * w_r * 2^92 / S_r^2 = mss_r * w_r * 2^(92 + 32 - 2 sh) / s_red^2.
    let t1 = match (OLIA_SHIFT + 32).checked_sub(2 * sh) {
        Some(shift) => div_fx(p.mss as u128 * p.bytes() as u128, s_red * s_red, shift),
        None => 0,
    };
    let alpha = olia_alpha(paths, r);
    let t2 = if alpha.sign == 0 {
        0
    } else {
        div_fx(1, alpha.den as u128 * p.cwnd as u128, OLIA_SHIFT)
    };
    Some(if alpha.sign < 0 {
        if t2 > t1 {
            (true, t2 - t1, t1, t2)
        } else {
            (false, t1 - t2, t1, t2)
        }
    } else {
        (false, t1.saturating_add(t2), t1, t2)
    })
}

/// OLIA's step for path `r`: the direction and the number of ACKed
/// segments per segment of change, `1 / |mss_r * w_r / S_r^2 + alpha_r /
/// cwnd_r|` (at least one ACK). Reno's increase when `r` is not coupled.
pub fn olia_step(paths: &[Path], r: usize) -> OliaStep {
    let Some(p) = paths.get(r) else {
        return OliaStep::Increase(AckThreshold::reno(1));
    };
    let Some((negative, mag, _, t2)) = olia_delta(paths, r) else {
        return OliaStep::Increase(AckThreshold::reno(p.cwnd));
    };
    if t2 == 0 {
        // alpha_r = 0: the first term alone, 1 / T with T = S_r^2 / (w_r *
        // mss_r) >= cwnd_r, computed like LIA's (Reno exactly when S_r =
        // w_r, as with a single path).
        return OliaStep::Increase(coupled_threshold(paths, r, r));
    }
    if mag == 0 {
        return OliaStep::Increase(AckThreshold::NEVER);
    }
    // 2^(92 + 24) / |delta|.
    let t = max(
        sat64(div_fx(1, mag, OLIA_SHIFT + ACK_THRESHOLD_SHIFT)),
        AckThreshold::MIN.0,
    );
    if negative {
        OliaStep::Decrease(AckThreshold(t))
    } else {
        OliaStep::Increase(AckThreshold(t))
    }
}

/// A full OLIA `cong_avoid` for path `r` (its `cwnd` is `paths[r].cwnd`):
/// Reno's slow start below `ssthresh`, then [`cong_avoid_signed`] with
/// [`olia_step`]. `cwnd_cnt` is `snd_cwnd_cnt` holding a signed credit.
pub fn olia_cong_avoid(
    paths: &[Path],
    r: usize,
    ssthresh: u32,
    cwnd_cnt: u32,
    acked: u32,
) -> CwndUpdate {
    let cwnd = paths.get(r).map_or(1, |p| p.cwnd);
    let (cwnd, acked) = slow_start(cwnd, ssthresh, acked);
    if acked == 0 {
        return CwndUpdate { cwnd, cwnd_cnt };
    }
    let step = olia_step(paths, r);
    cong_avoid_signed(cwnd, cwnd_cnt, acked, step)
}

// ---------------------------------------------------------------------
// BALIA
// ---------------------------------------------------------------------

/// `m_r * 2^16` in bytes: `max_k w_k * rtt_r / rtt_k` over the coupled
/// paths (the largest term of `S_r`; at least `w_r`, its own term).
fn max_rtt_weighted(paths: &[Path], r: usize) -> u128 {
    let Some(pr) = paths.get(r) else {
        return 0;
    };
    let rr = pr.srtt_us as u128;
    paths
        .iter()
        .filter(|p| p.is_coupled())
        .map(|p| div_u128_by_u32(((p.bytes() as u128) * rr) << 16, p.srtt_us as u64))
        .max()
        .unwrap_or(0)
}

/// BALIA's threshold for path `r` (Peng, Walid, Hwang, Low, "Multipath TCP:
/// analysis, design and implementation", IEEE/ACM ToN 2016): the number of
/// ACKed segments per segment of growth.
///
/// BALIA increases `w_r` for each ACKed segment by
///
/// ```text
///     (x_r / rtt_r) / (sum_k x_k)^2 * (1 + a_r) / 2 * (4 + a_r) / 5,
///     x_k = w_k / rtt_k,   a_r = max_k x_k / x_r
/// ```
///
/// Reorganised around `rtt_r` as LIA's is (`S_r = sum_k w_k rtt_r /
/// rtt_k`, `m_r = max_k w_k rtt_r / rtt_k`, so `a_r = m_r / w_r`), the
/// increase in segments is `mss_r (w_r + m_r) (4 w_r + m_r) / (10 w_r
/// S_r^2)`, and its inverse
///
/// ```text
///     T_r = 10 * cwnd_r * (S_r / (w_r + m_r)) * (S_r / (4 w_r + m_r))
/// ```
///
/// two factors between 1/5 and 8 with no `a_r` to bound. It is never below
/// `cwnd_r` (the increase is at most Reno's: `sum_k x_k >= a_r x_r` and
/// `(1 + a)(4 + a) <= 10 a^2` for `a >= 1`), and it is exactly `cwnd_r`
/// with one subflow or when `r` is not coupled. Relative error of `1 / T_r`
/// at most 1e-6 in the documented range.
pub fn balia_threshold(paths: &[Path], r: usize) -> AckThreshold {
    let Some(p) = paths.get(r) else {
        return AckThreshold::reno(1);
    };
    let reno = AckThreshold::reno(p.cwnd);
    if !p.is_coupled() || paths.iter().filter(|q| q.is_coupled()).count() < 2 {
        return reno;
    }
    let s = rtt_weighted_sum(paths, r); // S_r * 2^16
    let m = max_rtt_weighted(paths, r); // m_r * 2^16
    let w = (p.bytes() as u128) << 16;
    let z1 = div_fx(s, w.saturating_add(m), 32); // 32 fractional bits, < 2^36
    let z2 = div_fx(s, w.saturating_mul(4).saturating_add(m), 32);
    let t = z1
        .checked_mul(z2)
        .and_then(|z| z.checked_mul(10 * u128::from(p.cwnd)))
        .map_or(u64::MAX, |v| sat64(v >> (64 - ACK_THRESHOLD_SHIFT)));
    max(AckThreshold(t), reno)
}

/// BALIA's slow-start threshold (and window) for path `r` after a loss:
/// `cwnd_r - cwnd_r / 2 * min(a_r, 3/2)`, at least 2 segments: Reno's
/// halving with one subflow, down to a quarter for a path much slower
/// than the best one (`a_r >= 3/2`). Reno's when `r` is not coupled.
pub fn balia_ssthresh(paths: &[Path], r: usize) -> u32 {
    let Some(p) = paths.get(r) else {
        return 2;
    };
    if !p.is_coupled() {
        return reno_ssthresh(p.cwnd);
    }
    let m = max_rtt_weighted(paths, r);
    let w = (p.bytes() as u128) << 16;
    let cwnd = u64::from(p.cwnd);
    // cwnd * min(a, 3/2) / 2, with a = m / w (32 fractional bits).
    let decrease = if m.saturating_mul(2) >= w.saturating_mul(3) {
        cwnd * 3 / 4
    } else {
        let a = sat64(div_fx(m, w, 32));
        sat64((u128::from(cwnd) * u128::from(a)) >> 33)
    };
    let left = cwnd.saturating_sub(decrease);
    max(left, 2).min(u64::from(u32::MAX)) as u32
}

/// A full BALIA `cong_avoid` for path `r` (its `cwnd` is `paths[r].cwnd`):
/// Reno's slow start below `ssthresh`, then congestion avoidance with
/// [`balia_threshold`] for the ACKs left over, never faster than Reno.
pub fn balia_cong_avoid(
    paths: &[Path],
    r: usize,
    ssthresh: u32,
    cwnd_cnt: u32,
    acked: u32,
) -> CwndUpdate {
    coupled_cong_avoid(paths, r, ssthresh, cwnd_cnt, acked, balia_threshold)
}

/// Hand vectors, run on the host and as KUnit cases (no float).
#[cfg(any(test, CONFIG_KUNIT))]
pub fn selftest(c: &mut dyn super::check::Check) {
    let p = |cwnd, srtt_us, mss, loss_interval| Path {
        cwnd,
        srtt_us,
        mss,
        loss_interval,
    };

    // One subflow: LIA is Reno, alpha = 1 exactly.
    let one = [p(10, 10_000, 1460, 0)];
    check_eq!(c, lia_alpha(&one), Some(ALPHA_ONE));
    check_eq!(c, lia_threshold(&one, 0), AckThreshold::reno(10));
    check_eq!(
        c,
        lia_threshold_from_alpha(ALPHA_ONE, 14_600, 10, 1460),
        AckThreshold::reno(10)
    );
    // A huge window, whose S has more than 32 significant bits: still exact.
    let big = [p(1 << 20, 10_000_000, 9000, 0)];
    check_eq!(c, lia_alpha(&big), Some(ALPHA_ONE));
    check_eq!(c, lia_threshold(&big, 0), AckThreshold::reno(1 << 20));

    // Two identical subflows: alpha = max w / W = 1/2; T = S^2 / (w_k mss)
    // = 4 cwnd = 40 ACKs; together they grow by 2 * 10 / 40 = 1/2 segment
    // per RTT.
    let two = [p(10, 10_000, 1460, 0), p(10, 10_000, 1460, 0)];
    check_eq!(c, lia_alpha(&two), Some(ALPHA_ONE / 2));
    check_eq!(c, lia_threshold(&two, 1), AckThreshold::reno(40));
    check_eq!(
        c,
        lia_threshold_from_alpha(ALPHA_ONE / 2, 29_200, 10, 1460),
        AckThreshold::reno(40)
    );

    // 10 segments at 10 ms and 20 at 100 ms, MSS 1000: k = 0, S = 10000 +
    // 20000 * 0.1 = 12000 bytes, alpha = 30000 * 10000 / 12000^2 = 2.0833..,
    // T_0 = 12000^2 / (10000 * 1000) = 14.4 ACKs, T_1 = max(14.4, 20) = 20.
    let het = [p(10, 10_000, 1000, 100_000), p(20, 100_000, 1000, 50_000)];
    check_eq!(c, lia_alpha(&het), Some(8_947_848_533)); // floor(2.08333.. * 2^32)
    check_eq!(c, lia_threshold(&het, 0), AckThreshold(241_591_910)); // floor(14.4 * 2^24)
    check_eq!(c, lia_threshold(&het, 1), AckThreshold::reno(20));
    // Without an RTT sample, a subflow is Reno and is left out of the sums.
    let fresh = [p(10, 10_000, 1000, 0), p(7, 0, 1000, 0)];
    check_eq!(c, lia_threshold(&fresh, 1), AckThreshold::reno(7));
    check_eq!(c, lia_alpha(&fresh), Some(ALPHA_ONE));
    check_eq!(c, lia_alpha(&[]), None);

    // OLIA on the same paths. l / rtt^2: 1e-3 and 5e-6, so B = {0}; the
    // largest window is path 1: M = {1}; collected B \ M = {0}.
    check_eq!(c, olia_alpha(&het, 0), OliaAlpha { sign: 1, den: 2 });
    check_eq!(c, olia_alpha(&het, 1), OliaAlpha { sign: -1, den: 2 });
    // Path 0: 1000 * 10000 / 12000^2 + 0.5 / 10 = 0.119444..: one segment
    // per 8.3721 ACKs. Path 1: S_1 = 120000, 1000 * 20000 / 120000^2 -
    // 0.5 / 20 = -0.023611..: shrinks by one per 42.353 ACKs.
    check_eq!(
        c,
        olia_step(&het, 0),
        OliaStep::Increase(AckThreshold(140_460_413))
    );
    check_eq!(
        c,
        olia_step(&het, 1),
        OliaStep::Decrease(AckThreshold(710_564_442))
    );
    // When the best path also has the largest window, no alpha.
    let same = [p(20, 10_000, 1000, 100_000), p(10, 100_000, 1000, 50_000)];
    check_eq!(c, olia_alpha(&same, 0), OliaAlpha { sign: 0, den: 1 });
    check_eq!(c, olia_alpha(&same, 1), OliaAlpha { sign: 0, den: 1 });
    // One path: OLIA is Reno (1 / cwnd).
    check_eq!(
        c,
        olia_step(&one, 0),
        OliaStep::Increase(AckThreshold::reno(10))
    );

    // Congestion avoidance with a whole threshold is Reno's counting.
    let t10 = AckThreshold::reno(10);
    check_eq!(
        c,
        cong_avoid_ai(10, 0, 9, t10),
        CwndUpdate {
            cwnd: 10,
            cwnd_cnt: 9
        }
    );
    check_eq!(
        c,
        cong_avoid_ai(10, 9, 1, t10),
        CwndUpdate {
            cwnd: 11,
            cwnd_cnt: 0
        }
    );
    check_eq!(
        c,
        cong_avoid_ai(10, 0, 25, t10),
        CwndUpdate {
            cwnd: 12,
            cwnd_cnt: 5
        }
    );
    // T = 2.5: steps from 10 cost floor(2.5 (c + 1)) - floor(2.5 c) = 2, 3,
    // 2, 3 ACKs: 10 ACKs make exactly 4 segments.
    let t25 = AckThreshold(5 << (ACK_THRESHOLD_SHIFT - 1));
    check_eq!(
        c,
        cong_avoid_ai(10, 0, 2, t25),
        CwndUpdate {
            cwnd: 11,
            cwnd_cnt: 0
        }
    );
    check_eq!(
        c,
        cong_avoid_ai(11, 0, 2, t25),
        CwndUpdate {
            cwnd: 11,
            cwnd_cnt: 2
        }
    );
    check_eq!(
        c,
        cong_avoid_ai(11, 2, 1, t25),
        CwndUpdate {
            cwnd: 12,
            cwnd_cnt: 0
        }
    );
    check_eq!(
        c,
        cong_avoid_ai(10, 0, 10, t25),
        CwndUpdate {
            cwnd: 14,
            cwnd_cnt: 0
        }
    );
    check_eq!(c, t25.whole_acks(), 3);
    // Thresholds never reached; the window's limit.
    check_eq!(
        c,
        cong_avoid_ai(10, 5, 7, AckThreshold::NEVER),
        CwndUpdate {
            cwnd: 10,
            cwnd_cnt: 12
        }
    );
    check_eq!(
        c,
        cong_avoid_ai(u32::MAX, 0, 100, AckThreshold::MIN),
        CwndUpdate {
            cwnd: u32::MAX,
            cwnd_cnt: 0
        }
    );
    check_eq!(
        c,
        cong_avoid_ai(u32::MAX - 1, 0, 100, AckThreshold::MIN),
        CwndUpdate {
            cwnd: u32::MAX,
            cwnd_cnt: 0
        }
    );

    // The signed counter: shrink by one per 4 ACKs, credit carried across
    // directions, never below one segment.
    let t4 = AckThreshold::reno(4);
    check_eq!(
        c,
        cong_avoid_signed(10, 0, 4, OliaStep::Decrease(t4)),
        CwndUpdate {
            cwnd: 9,
            cwnd_cnt: 0
        }
    );
    check_eq!(
        c,
        cong_avoid_signed(10, 0, 3, OliaStep::Decrease(t4)),
        CwndUpdate {
            cwnd: 10,
            cwnd_cnt: -3i32 as u32
        }
    );
    check_eq!(
        c,
        cong_avoid_signed(10, -3i32 as u32, 5, OliaStep::Increase(t4)),
        CwndUpdate {
            cwnd: 10,
            cwnd_cnt: 2
        }
    );
    check_eq!(
        c,
        cong_avoid_signed(10, 2, 8, OliaStep::Increase(t4)),
        CwndUpdate {
            cwnd: 12,
            cwnd_cnt: 2
        }
    );
    check_eq!(
        c,
        cong_avoid_signed(2, 0, 10, OliaStep::Decrease(AckThreshold::MIN)),
        CwndUpdate {
            cwnd: 1,
            cwnd_cnt: 0
        }
    );

    // Reno's slow start and decrease.
    check_eq!(c, slow_start(5, 10, 3), (8, 0));
    check_eq!(c, slow_start(8, 10, 5), (10, 3));
    check_eq!(c, slow_start(12, 10, 4), (12, 4));
    check_eq!(c, reno_ssthresh(10), 5);
    check_eq!(c, reno_ssthresh(3), 2);
    check_eq!(c, reno_ssthresh(0), 2);
    // Full cong_avoid: congestion avoidance, and slow start ending within
    // the ACK (then Reno's threshold of the window reached, 5).
    check_eq!(
        c,
        lia_cong_avoid(&one, 0, 5, 9, 1),
        CwndUpdate {
            cwnd: 11,
            cwnd_cnt: 0
        }
    );
    check_eq!(
        c,
        lia_cong_avoid(&[p(4, 10_000, 1460, 0)], 0, 5, 0, 3),
        CwndUpdate {
            cwnd: 5,
            cwnd_cnt: 2
        }
    );
    // OLIA shrinking path 1 (T = 42.353): the step from 20 to 19 costs
    // floor(20 T) - floor(19 T) = 847 - 804 = 43 ACKs.
    check_eq!(
        c,
        olia_cong_avoid(&het, 1, 5, 0, 43),
        CwndUpdate {
            cwnd: 19,
            cwnd_cnt: 0
        }
    );
    check_eq!(
        c,
        olia_cong_avoid(&het, 1, 5, 0, 42),
        CwndUpdate {
            cwnd: 20,
            cwnd_cnt: -42i32 as u32
        }
    );

    // OLIA's loss intervals.
    let mut l = LossIntervals::default();
    l.on_acked(1000);
    l.on_acked(1000);
    check_eq!(c, l.smoothed(), 2000);
    l.on_loss();
    l.on_acked(500);
    check_eq!(
        c,
        l,
        LossIntervals {
            between_last_two: 2000,
            since_last: 500
        }
    );
    check_eq!(c, l.smoothed(), 2000);
    l.on_acked(3000);
    check_eq!(c, l.smoothed(), 3500);

    // The arithmetic helpers.
    check_eq!(c, div_fx(10, 4, 0), 2);
    check_eq!(c, div_fx(1, 3, 32), 1_431_655_765);
    check_eq!(c, div_fx(1 << 100, 1 << 80, 0), 1 << 20);
    check_eq!(c, div_fx(5, 0, 0), u128::MAX);
    check_eq!(c, div_fx(0, 0, 0), 0);
    check_eq!(c, div_fx(1, 1, 128), u128::MAX);
    check_eq!(c, wide_mul(u128::MAX, u128::MAX), (u128::MAX - 1, 1));
    check_eq!(c, wide_mul(1 << 64, 1 << 64), (1, 0));
    check_eq!(c, wide_mul(3, 5), (0, 15));

    // BALIA: Reno with one subflow; two equal paths grow at a quarter of
    // Reno's pace (a = 1: T = 10 cwnd * (2w / 2w) * (2w / 5w) = 4 cwnd),
    // and halve on a loss; a path much slower than the best one (a >= 3/2)
    // keeps a quarter of its window.
    let one = [p(40, 20_000, 1400, 0)];
    check_eq!(c, balia_threshold(&one, 0), AckThreshold::reno(40));
    check_eq!(c, balia_ssthresh(&one, 0), 20);
    let two = [p(40, 20_000, 1400, 0), p(40, 20_000, 1400, 0)];
    check!(c, balia_threshold(&two, 0).whole_acks() == 160);
    check_eq!(c, balia_ssthresh(&two, 1), 20);
    let unlike = [p(40, 20_000, 1400, 0), p(40, 200_000, 1400, 0)];
    check_eq!(c, balia_ssthresh(&unlike, 1), 10);
    check_eq!(c, balia_ssthresh(&unlike, 0), 20);
    check!(c, balia_threshold(&unlike, 1) >= AckThreshold::reno(40));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn balia_with_one_subflow_is_reno_and_two_equal_paths_take_a_quarter() {
        let p = Path {
            cwnd: 40,
            srtt_us: 20_000,
            mss: 1_400,
            loss_interval: 0,
        };
        assert_eq!(balia_threshold(&[p], 0), AckThreshold::reno(40));
        assert_eq!(balia_ssthresh(&[p], 0), 20);
        // Two equal paths: a = 1, the increase 1 / (4 cwnd), halving on loss.
        let t = balia_threshold(&[p, p], 1);
        assert!((rate(t) - 1.0 / 160.0).abs() < 1e-9, "rate {}", rate(t));
        assert_eq!(balia_ssthresh(&[p, p], 1), 20);
        // A path much slower than the other (a >= 3/2): down to a quarter.
        let slow = Path {
            srtt_us: 200_000,
            ..p
        };
        assert_eq!(balia_ssthresh(&[p, slow], 1), 10);
        assert_eq!(balia_ssthresh(&[p, slow], 0), 20);
        // Slow start below ssthresh, then BALIA's pace.
        let u = balia_cong_avoid(&[p, p], 0, 100, 0, 10);
        assert_eq!((u.cwnd, u.cwnd_cnt), (50, 0));
    }

    #[test]
    fn vectors() {
        selftest(&mut crate::check::PanicCheck);
    }

    // ---- Floating-point reference (test only) ----

    fn coupled(paths: &[Path]) -> impl Iterator<Item = &Path> {
        paths
            .iter()
            .filter(|p| p.cwnd > 0 && p.srtt_us > 0 && p.mss > 0)
    }

    fn w(p: &Path) -> f64 {
        p.cwnd as f64 * p.mss as f64
    }

    fn r(p: &Path) -> f64 {
        p.srtt_us as f64
    }

    /// RFC 6356: alpha = W * max(w / rtt^2) / (sum w / rtt)^2.
    fn ref_alpha(paths: &[Path]) -> f64 {
        let total: f64 = coupled(paths).map(w).sum();
        let best = coupled(paths)
            .map(|p| w(p) / (r(p) * r(p)))
            .fold(0.0, f64::max);
        let sum: f64 = coupled(paths).map(|p| w(p) / r(p)).sum();
        total * best / (sum * sum)
    }

    /// RFC 6356's increase in segments per ACKed segment:
    /// min(alpha * mss_i / W, 1 / cwnd_i).
    fn ref_lia_inc(paths: &[Path], i: usize) -> f64 {
        let total: f64 = coupled(paths).map(w).sum();
        let p = &paths[i];
        (ref_alpha(paths) * p.mss as f64 / total).min(1.0 / p.cwnd as f64)
    }

    /// OLIA's increase in segments per ACKed segment, straight from the
    /// paper's formula (windows in bytes, weighted by MSS), and its two
    /// terms' magnitudes. The sets are computed naively and exactly.
    fn ref_olia(paths: &[Path], i: usize) -> (f64, f64, f64) {
        let c: Vec<&Path> = coupled(paths).collect();
        let max_w = c.iter().map(|p| p.bytes()).max().unwrap();
        let key = |p: &Path| {
            (
                p.loss_interval as u128,
                p.srtt_us as u128 * p.srtt_us as u128,
            )
        };
        let is_best = |p: &Path| {
            c.iter().all(|q| {
                let ((lp, rp), (lq, rq)) = (key(p), key(q));
                lp * rq >= lq * rp
            })
        };
        let n_r = c.len() as f64;
        let n_m = c.iter().filter(|p| p.bytes() == max_w).count() as f64;
        let n_c = c
            .iter()
            .filter(|p| is_best(p) && p.bytes() != max_w)
            .count() as f64;
        let p = &paths[i];
        let alpha = if n_c == 0.0 {
            0.0
        } else if is_best(p) && p.bytes() != max_w {
            1.0 / (n_r * n_c)
        } else if p.bytes() == max_w {
            -1.0 / (n_r * n_m)
        } else {
            0.0
        };
        // Packets-of-mss form: (w_r / rtt_r^2) / (sum w_p / rtt_p)^2 * mss_r
        let sum: f64 = c.iter().map(|q| w(q) / r(q)).sum();
        let t1 = (w(p) / (r(p) * r(p))) / (sum * sum) * p.mss as f64;
        let t2 = alpha / p.cwnd as f64;
        (t1 + t2, t1, t2.abs())
    }

    /// BALIA's increase in segments per ACKed segment, straight from the
    /// paper's formula (windows in bytes, weighted by MSS), and its window
    /// after a loss.
    fn ref_balia(paths: &[Path], i: usize) -> (f64, f64) {
        let c: Vec<&Path> = coupled(paths).collect();
        let p = &paths[i];
        let x = |q: &Path| w(q) / r(q);
        let sum: f64 = c.iter().map(|q| x(q)).sum();
        let best = c.iter().map(|q| x(q)).fold(0.0, f64::max);
        let a = best / x(p);
        let inc = x(p) / r(p) / (sum * sum) * p.mss as f64 * (1.0 + a) / 2.0 * (4.0 + a) / 5.0;
        let after_loss = p.cwnd as f64 * (1.0 - a.min(1.5) / 2.0);
        (inc, after_loss)
    }

    fn rate(t: AckThreshold) -> f64 {
        (1u64 << ACK_THRESHOLD_SHIFT) as f64 / t.0 as f64
    }

    // ---- Strategies ----

    /// Log-uniform in 1..=max, so that small and large values both occur.
    fn log_uniform(max: u64) -> impl Strategy<Value = u64> {
        let bits = 64 - max.leading_zeros();
        (0..bits, any::<u64>()).prop_map(move |(e, x)| {
            let lo = 1u64 << e;
            let hi = ((1u64 << e) * 2 - 1).min(max);
            lo + x % (hi - lo + 1)
        })
    }

    fn path() -> impl Strategy<Value = Path> {
        (
            log_uniform(1 << 20),
            log_uniform(10_000_000),
            500u32..=9000,
            log_uniform(1 << 40),
        )
            .prop_map(|(cwnd, rtt, mss, l)| Path {
                cwnd: cwnd as u32,
                srtt_us: rtt as u32,
                mss,
                loss_interval: l,
            })
    }

    fn paths() -> impl Strategy<Value = Vec<Path>> {
        proptest::collection::vec(path(), 1..=8)
    }

    /// Like `paths`, with one MSS for all and some RTTs or windows equal.
    fn paths_common_mss() -> impl Strategy<Value = Vec<Path>> {
        (paths(), 500u32..=9000).prop_map(|(mut v, mss)| {
            for p in &mut v {
                p.mss = mss;
            }
            v
        })
    }

    fn any_path() -> impl Strategy<Value = Path> {
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<u64>()).prop_map(
            |(cwnd, srtt_us, mss, loss_interval)| Path {
                cwnd,
                srtt_us,
                mss,
                loss_interval,
            },
        )
    }

    /// The error bounds stated in the module documentation.
    const ALPHA_REL: f64 = 1e-6;
    const LIA_RATE_REL: f64 = 1e-6;
    const OLIA_TERMS_REL: f64 = 1e-8;
    const OLIA_SELF_REL: f64 = 1.0 / (1 << 22) as f64;
    /// Changes below one segment per 2^32 ACKs are not applied.
    const NEVER_RATE: f64 = 1.0 / (1u64 << 32) as f64;

    fn check_olia(v: &[Path], i: usize) -> Result<(), TestCaseError> {
        let (delta, t1, t2) = ref_olia(v, i);
        let mut bound = OLIA_TERMS_REL * (t1 + t2) + OLIA_SELF_REL * delta.abs();
        if t2 == 0.0 {
            // alpha_r = 0: the first term alone, computed as LIA's threshold.
            bound = bound.max(LIA_RATE_REL * delta.abs());
        }
        let (sign, t) = match olia_step(v, i) {
            OliaStep::Increase(t) => (1.0, t),
            OliaStep::Decrease(t) => (-1.0, t),
        };
        // At most one segment per ACK.
        let expect = delta.clamp(-1.0, 1.0);
        if t.0 > T_MAX_UNSIGNED {
            prop_assert!(
                expect.abs() <= NEVER_RATE + bound,
                "delta {delta} never applied"
            );
        } else {
            let got = sign * rate(t);
            prop_assert!(
                (got - expect).abs() <= bound,
                "delta {delta} got {got} t1 {t1} t2 {t2}"
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn alpha_matches_reference(v in paths()) {
            let got = lia_alpha(&v).unwrap() as f64 / ALPHA_ONE as f64;
            let want = ref_alpha(&v);
            prop_assert!((got - want).abs() <= ALPHA_REL * want, "alpha {got} want {want}");
            // alpha >= 1/n (Cauchy-Schwarz).
            prop_assert!(want * v.len() as f64 >= 1.0 - 1e-9);
        }

        #[test]
        fn lia_threshold_matches_reference(v in paths(), i in 0usize..8) {
            let i = i % v.len();
            let t = lia_threshold(&v, i);
            let want = ref_lia_inc(&v, i);
            let got = rate(t);
            prop_assert!((got - want).abs() <= LIA_RATE_REL * want, "rate {got} want {want}");
            // Never more aggressive than Reno on the subflow: T_i >= cwnd_i.
            prop_assert!(t >= AckThreshold::reno(v[i].cwnd));
            // From a cached alpha: the same within the same bounds.
            let total: u64 = v.iter().map(|p| p.bytes()).sum();
            let t2 = lia_threshold_from_alpha(lia_alpha(&v).unwrap(), total, v[i].cwnd, v[i].mss);
            prop_assert!((rate(t2) - want).abs() <= 2.0 * LIA_RATE_REL * want);
        }

        #[test]
        fn balia_matches_reference(v in paths(), i in 0usize..8) {
            let i = i % v.len();
            let (inc, after_loss) = ref_balia(&v, i);
            let t = balia_threshold(&v, i);
            let got = rate(t);
            // Never more aggressive than Reno: the formula's own bound.
            prop_assert!(inc <= (1.0 + 1e-9) / v[i].cwnd as f64, "increase {inc} above Reno");
            prop_assert!(t >= AckThreshold::reno(v[i].cwnd));
            prop_assert!((got - inc).abs() <= LIA_RATE_REL * inc, "rate {got} want {inc}");
            let ss = balia_ssthresh(&v, i) as f64;
            let want = after_loss.max(2.0);
            prop_assert!((ss - want).abs() <= 1.0 + 1e-6 * want, "after a loss {ss}, want {want}");
        }

        #[test]
        fn lia_rate_over_many_acks(
            v in paths(),
            i in 0usize..8,
            chunks in proptest::collection::vec(1u64..=4, 1..64),
        ) {
            // N ACKs, about 1000 T, in chunks of random sizes: the number
            // of increments is within one of N / T, and within 0.2% of the
            // reference N * increase.
            let i = i % v.len();
            let t = lia_threshold(&v, i);
            let n_acks = ((1000 * t.0 as u128) >> ACK_THRESHOLD_SHIFT) as u64 + 1;
            let (mut cwnd, mut cnt, mut left) = (v[i].cwnd, 0u32, n_acks);
            let mut k = 0;
            while left > 0 {
                let whole = (t.0 >> ACK_THRESHOLD_SHIFT).max(1);
                let chunk = (chunks[k % chunks.len()] * whole).min(left).min(u32::MAX as u64);
                let u = cong_avoid_ai(cwnd, cnt, chunk as u32, t);
                (cwnd, cnt) = (u.cwnd, u.cwnd_cnt);
                left -= chunk;
                k += 1;
            }
            let incs = (cwnd - v[i].cwnd) as f64;
            let exact = n_acks as f64 * rate(t);
            prop_assert!((incs - exact).abs() <= 1.0 + 1e-9 * exact, "incs {incs} exact {exact}");
            let want = n_acks as f64 * ref_lia_inc(&v, i);
            prop_assert!((incs - want).abs() <= 0.002 * want, "incs {incs} want {want}");
        }

        #[test]
        fn single_subflow_is_reno(
            p in path(),
            acks in proptest::collection::vec(1u32..=64, 1..200),
        ) {
            // alpha = 1 and the increase is exactly 1/cwnd: the same window
            // as Reno's counting (tcp_cong_avoid_ai with w = cwnd) after any
            // sequence of ACKs.
            let v = [p];
            prop_assert_eq!(lia_alpha(&v), Some(ALPHA_ONE));
            prop_assert_eq!(lia_threshold(&v, 0), AckThreshold::reno(p.cwnd));
            prop_assert_eq!(olia_step(&v, 0), OliaStep::Increase(AckThreshold::reno(p.cwnd)));
            let (mut cwnd, mut cnt) = (p.cwnd, 0u32);
            let (mut reno_cwnd, mut reno_cnt) = (p.cwnd, 0u32);
            for a in acks {
                let u = lia_cong_avoid(&[Path { cwnd, ..p }], 0, 0, cnt, a);
                (cwnd, cnt) = (u.cwnd, u.cwnd_cnt);
                reno_cnt += a;
                let delta = reno_cnt / reno_cwnd;
                reno_cnt -= delta * reno_cwnd;
                reno_cwnd += delta;
                prop_assert_eq!((cwnd, cnt), (reno_cwnd, reno_cnt));
            }
        }

        #[test]
        fn never_more_aggressive_than_tcp_on_best_path(v in paths_common_mss()) {
            // RFC 6356 goal 2: the throughput of all subflows together
            // grows no faster than one TCP's on the best (lowest-RTT) path.
            // Subflow i's throughput x_i = w_i / rtt_i grows by x_i * inc_i
            // / rtt_i per unit of time; TCP's by mss / rtt^2.
            let mss = v[0].mss as f64;
            let total: f64 = (0..v.len())
                .map(|i| w(&v[i]) / r(&v[i]) * rate(lia_threshold(&v, i)) / r(&v[i]))
                .sum();
            let r_min = v.iter().map(r).fold(f64::INFINITY, f64::min);
            let tcp = mss / (r_min * r_min);
            prop_assert!(total <= tcp * (1.0 + LIA_RATE_REL), "total {total} tcp {tcp}");
            // With equal RTTs, the windows together grow by alpha = max w /
            // W <= 1 segment per RTT.
            let same: Vec<Path> = v.iter().map(|p| Path { srtt_us: v[0].srtt_us, ..*p }).collect();
            let per_rtt: f64 = (0..same.len())
                .map(|i| same[i].cwnd as f64 * rate(lia_threshold(&same, i)))
                .sum();
            let max_w = same.iter().map(|p| p.cwnd).max().unwrap() as f64;
            let tot_w: f64 = same.iter().map(|p| p.cwnd as f64).sum();
            prop_assert!(per_rtt <= 1.0 + LIA_RATE_REL);
            prop_assert!((per_rtt - max_w / tot_w).abs() <= LIA_RATE_REL * max_w / tot_w);
        }

        #[test]
        fn olia_matches_reference(v in paths(), i in 0usize..8) {
            check_olia(&v, i % v.len())?;
        }

        #[test]
        fn olia_matches_reference_with_ties(
            v in paths_common_mss(),
            i in 0usize..8,
            tie in any::<bool>(),
        ) {
            // Equal windows or equal loss intervals make several paths
            // share M or B.
            let mut v = v;
            let n = v.len();
            for k in 1..n {
                if tie {
                    v[k].cwnd = v[0].cwnd;
                } else {
                    v[k].loss_interval = v[0].loss_interval;
                    v[k].srtt_us = v[0].srtt_us;
                }
            }
            check_olia(&v, i % n)?;
        }

        #[test]
        fn olia_alpha_sums_to_zero(v in paths(), tie in any::<bool>()) {
            // The alpha_r move window between paths: they sum to 0.
            let mut v = v;
            if tie {
                let l = v[0].loss_interval;
                for p in &mut v { p.loss_interval = l; }
            }
            let sum: f64 = (0..v.len()).map(|i| {
                let a = olia_alpha(&v, i);
                a.sign as f64 / a.den as f64
            }).sum();
            prop_assert!(sum.abs() < 1e-12);
        }

        #[test]
        fn cong_avoid_ai_invariants(
            cwnd in 1u32..=u32::MAX,
            cnt in any::<u32>(),
            acked in any::<u32>(),
            t in 1u64..(1 << 58),
        ) {
            let t = AckThreshold(t);
            let u = cong_avoid_ai(cwnd, cnt, acked, t);
            prop_assert!(u.cwnd >= cwnd);
            let tt = t.0.max(AckThreshold::MIN.0);
            if tt <= T_MAX_UNSIGNED && u.cwnd < u32::MAX {
                // The counter pays exactly for the steps taken, and what is
                // left is less than the next step.
                let a = |x: u64| (x as u128 * tt as u128) >> ACK_THRESHOLD_SHIFT;
                let used = a(u.cwnd as u64) - a(cwnd as u64);
                prop_assert_eq!(used + u.cwnd_cnt as u128, cnt as u128 + acked as u128);
                prop_assert!((u.cwnd_cnt as u128) < a(u.cwnd as u64 + 1) - a(u.cwnd as u64));
            }
        }

        #[test]
        fn cong_avoid_signed_matches_unsigned(
            cwnd in 1u32..1 << 30,
            cnt in 0u32..1 << 30,
            acked in any::<u32>(),
            t in 1u64..(1 << 55),
        ) {
            let t = AckThreshold(t);
            let u = cong_avoid_ai(cwnd, cnt, acked, t);
            prop_assert_eq!(cong_avoid_signed(cwnd, cnt, acked, OliaStep::Increase(t)), u);
        }

        #[test]
        fn cong_avoid_signed_down_mirrors_up(
            cwnd in 2u32..1 << 30,
            acked in 0u32..1 << 20,
            t in (1u64 << 24)..(1 << 48),
        ) {
            // Going down from c costs the same ACKs as going up to c.
            let t = AckThreshold(t);
            let d = cong_avoid_signed(cwnd, 0, acked, OliaStep::Decrease(t));
            prop_assert!(d.cwnd <= cwnd && d.cwnd >= 1);
            if d.cwnd > 1 {
                let back = acked - (d.cwnd_cnt as i32).unsigned_abs();
                let u = cong_avoid_signed(d.cwnd, 0, back, OliaStep::Increase(t));
                prop_assert_eq!(u.cwnd, cwnd);
                prop_assert_eq!(u.cwnd_cnt, 0);
            }
        }

        #[test]
        fn no_panic_on_any_input(
            v in proptest::collection::vec(any_path(), 0..=10),
            i in 0usize..12,
            ss in any::<u32>(),
            cnt in any::<u32>(),
            acked in any::<u32>(),
            alpha in any::<u64>(),
            total in any::<u64>(),
        ) {
            let _ = lia_alpha(&v);
            let t = lia_threshold(&v, i);
            let _ = cong_avoid_ai(v.get(i).map_or(1, |p| p.cwnd), cnt, acked, t);
            let _ = olia_alpha(&v, i);
            let s = olia_step(&v, i);
            let _ = cong_avoid_signed(v.get(i).map_or(1, |p| p.cwnd), cnt, acked, s);
            let _ = lia_cong_avoid(&v, i, ss, cnt, acked);
            let _ = olia_cong_avoid(&v, i, ss, cnt, acked);
            let _ = lia_threshold_from_alpha(alpha, total, cnt, acked);
            let _ = t.whole_acks();
        }

        #[test]
        fn div_fx_bounds(a in any::<u64>(), b in 1u64..=u64::MAX, shift in 0u32..=64) {
            // Host reference with 128-bit division (test only).
            let exact = ((a as u128) << shift) / b as u128;
            let got = div_fx(a as u128, b as u128, shift);
            let fexact = (a as f64) * 2f64.powi(shift as i32) / b as f64;
            prop_assert!(got as f64 <= fexact * (1.0 + 2f64.powi(-31)) + 1.0);
            let low = fexact * (1.0 - 2f64.powi(-52)) - 1.0 - fexact * 2f64.powi(-31);
            prop_assert!(got as f64 >= low);
            if b <= u32::MAX as u64 {
                prop_assert_eq!(got, exact);
            }
        }

        #[test]
        fn wide_mul_is_exact(a in any::<u128>(), b in any::<u128>()) {
            let (hi, lo) = wide_mul(a, b);
            prop_assert_eq!(lo, a.wrapping_mul(b));
            // Schoolbook in 32-bit limbs.
            let limbs = |x: u128| [x as u32, (x >> 32) as u32, (x >> 64) as u32, (x >> 96) as u32];
            let (la, lb) = (limbs(a), limbs(b));
            let mut out = [0u64; 8];
            for i in 0..4 {
                let mut carry = 0u64;
                for j in 0..4 {
                    let cur = out[i + j] + la[i] as u64 * lb[j] as u64 + carry;
                    out[i + j] = cur & 0xffff_ffff;
                    carry = cur >> 32;
                }
                out[i + 4] += carry;
            }
            let want_hi = out[4] as u128
                | (out[5] as u128) << 32
                | (out[6] as u128) << 64
                | (out[7] as u128) << 96;
            prop_assert_eq!(hi, want_hi);
        }
    }

    /// Measures the largest errors against the reference over many random
    /// inputs (run with --nocapture to see them); asserts the stated bounds.
    #[test]
    fn measured_error_bounds() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut e_alpha, mut e_lia, mut e_olia) = (0f64, 0f64, 0f64);
        let mut min_exp = 0f64;
        let (mut never, mut e_olia_self) = (0u32, 0f64);
        for _ in 0..100_000 {
            let v = proptest::strategy::ValueTree::current(&paths().new_tree(&mut runner).unwrap());
            let a = lia_alpha(&v).unwrap() as f64 / ALPHA_ONE as f64;
            let ra = ref_alpha(&v);
            e_alpha = e_alpha.max((a - ra).abs() / ra);
            for i in 0..v.len() {
                let want = ref_lia_inc(&v, i);
                e_lia = e_lia.max((rate(lia_threshold(&v, i)) - want).abs() / want);
                min_exp = min_exp.min(want.log2());
                let (delta, t1, t2) = ref_olia(&v, i);
                let (got, t) = match olia_step(&v, i) {
                    OliaStep::Increase(t) => (rate(t), t),
                    OliaStep::Decrease(t) => (-rate(t), t),
                };
                if t.0 > T_MAX_UNSIGNED {
                    never += 1;
                    assert!(delta.abs() <= NEVER_RATE * (1.0 + OLIA_TERMS_REL));
                    continue;
                }
                let err = (got - delta.clamp(-1.0, 1.0)).abs();
                e_olia = e_olia.max((err - OLIA_SELF_REL * delta.abs()) / (t1 + t2));
                e_olia_self = e_olia_self.max(err / delta.abs());
            }
        }
        std::println!(
            "max relative error: alpha {e_alpha:.3e}, LIA rate {e_lia:.3e} \
             (smallest LIA increase 2^{min_exp:.1}); OLIA: {e_olia:.3e} of |t1|+|t2| \
             beyond 2^-22 |delta|, {e_olia_self:.3e} of |delta|; \
             {never} OLIA changes below 2^-32"
        );
        assert!(e_alpha <= ALPHA_REL && e_lia <= LIA_RATE_REL && e_olia <= OLIA_TERMS_REL);
    }
}

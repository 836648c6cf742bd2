// SPDX-License-Identifier: GPL-2.0

//! Receive-buffer tuning for a connection over several paths (seed 004,
//! section 4.2): the connection-level buffer must hold what every subflow
//! delivers while the slowest one's data is outstanding, so it is sized to
//! `2 x sum(bandwidth_i) x max(RTT_i)`, bounded by `tcp_rmem[2]`, and only
//! grows (as TCP's own receive-buffer autotuning, `tcp_rcv_space_adjust`).
//! An application that set SO_RCVBUF keeps its size: the caller does not
//! ask then.
//!
//! Bandwidths are measured at the receiver, as TCP's autotuning does: the
//! octets each subflow delivered in order during one measuring interval,
//! over the interval. The interval is the largest RTT among the subflows
//! (each subflow's receive-side RTT estimate, `rcv_rtt_est`), so that the
//! slowest path has delivered a full window in it.
//!
//! That size is the window, in octets of data; the buffer is charged the
//! memory the data takes ([`MEMORY_PER_OCTET`]).

use super::conn::MAX_SUBFLOWS;

/// The smallest measuring interval (µs): RTTs below it (a local link)
/// would make the estimate noisy.
pub const MIN_INTERVAL_US: u64 = 10_000;

/// Memory per octet of data in a receive buffer: an skb's truesize (its
/// `struct sk_buff`, headers, page slack) is about twice the data it
/// carries, which TCP assumes too where it has not measured it
/// (`tcp_adv_win_scale` = 1). A buffer of only `2 x sum(bandwidth) x max
/// RTT` leaves a window of about one bandwidth-delay product, which then
/// caps the rate it is measured from: it never grows. (Seen with 3
/// subflows through a shared bottleneck: OLIA's and BALIA's subflows were
/// short of window, not of congestion window, 11 to 44% of the time; with
/// this factor LIA's and BALIA's 0 to 1%, OLIA's still up to 47%.)
pub const MEMORY_PER_OCTET: u64 = 2;

/// Per subflow: what it delivered since the interval started, and its RTT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Path {
    delivered: u64,
    rtt_us: u32,
}

/// The tuner of one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RcvBufTuner {
    paths: [Option<Path>; MAX_SUBFLOWS],
    /// When the current interval started (µs).
    since_us: u64,
    /// The buffer size last chosen.
    current: u32,
}

impl RcvBufTuner {
    /// A tuner starting from a buffer of `initial` octets at `now_us`.
    pub const fn new(initial: u32, now_us: u64) -> Self {
        Self {
            paths: [None; MAX_SUBFLOWS],
            since_us: now_us,
            current: initial,
        }
    }

    /// The buffer size last chosen.
    pub fn current(&self) -> u32 {
        self.current
    }

    /// Subflow `id` delivered `octets` in order; its receive-side RTT
    /// estimate is `rtt_us` (0: none yet).
    pub fn delivered(&mut self, id: usize, octets: u32, rtt_us: u32) {
        let Some(slot) = self.paths.get_mut(id) else {
            return;
        };
        let path = slot.get_or_insert_with(Path::default);
        path.delivered = path.delivered.saturating_add(u64::from(octets));
        if rtt_us > 0 {
            path.rtt_us = rtt_us;
        }
    }

    /// Subflow `id` is gone: it counts no more.
    pub fn remove(&mut self, id: usize) {
        if let Some(slot) = self.paths.get_mut(id) {
            *slot = None;
        }
    }

    /// At `now_us`: once a measuring interval (the largest RTT) has passed,
    /// the new size if it is larger than the current one, at most
    /// `rmem_max`; a new interval starts.
    pub fn sample(&mut self, now_us: u64, rmem_max: u32) -> Option<u32> {
        let max_rtt = self
            .paths
            .iter()
            .flatten()
            .map(|p| u64::from(p.rtt_us))
            .max()?;
        if max_rtt == 0 {
            return None;
        }
        let elapsed = now_us.saturating_sub(self.since_us);
        if elapsed < max_rtt.max(MIN_INTERVAL_US) {
            return None;
        }
        // sum(bandwidth) x max RTT = (delivered in `elapsed`) x max_rtt /
        // elapsed; twice that, in memory.
        let delivered: u64 = self.paths.iter().flatten().map(|p| p.delivered).sum();
        let want = delivered
            .saturating_mul(2 * MEMORY_PER_OCTET)
            .saturating_mul(max_rtt)
            .checked_div(elapsed)
            .unwrap_or(0)
            .min(u64::from(rmem_max)) as u32;
        for p in self.paths.iter_mut().flatten() {
            p.delivered = 0;
        }
        self.since_us = now_us;
        if want > self.current {
            self.current = want;
            Some(want)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1_000_000;

    /// Feeds `seconds` of steady delivery at `rates` (octets/s) with RTTs
    /// `rtts` (µs), in 1 ms steps; returns the last size chosen.
    fn run(t: &mut RcvBufTuner, rates: &[u64], rtts: &[u32], seconds: u64, rmem_max: u32) -> u32 {
        let mut now = 0;
        for _ in 0..seconds * 1000 {
            now += 1000;
            for (id, (&rate, &rtt)) in rates.iter().zip(rtts).enumerate() {
                t.delivered(id, (rate / 1000) as u32, rtt);
            }
            t.sample(now, rmem_max);
        }
        t.current()
    }

    #[test]
    fn two_paths_get_twice_the_sum_of_their_rates_times_the_largest_rtt() {
        // 8 Mbit/s at 20 ms (WiFi) and 2 Mbit/s at 150 ms (3G), seed 001.
        let mut t = RcvBufTuner::new(64 * 1024, 0);
        let got = run(&mut t, &[MB, MB / 4], &[20_000, 150_000], 3, 16 << 20);
        let want = MEMORY_PER_OCTET * 2 * (MB + MB / 4) * 150_000 / 1_000_000;
        assert!(
            (u64::from(got) as i64 - want as i64).unsigned_abs() <= want / 50,
            "{got} against {want}"
        );
    }

    #[test]
    fn the_size_is_bounded_and_never_shrinks() {
        let mut t = RcvBufTuner::new(64 * 1024, 0);
        assert_eq!(run(&mut t, &[100 * MB], &[100_000], 1, 4 << 20), 4 << 20);
        // Slower now: the buffer stays.
        assert_eq!(run(&mut t, &[MB], &[100_000], 1, 4 << 20), 4 << 20);
        // Below the initial size, nothing changes.
        let mut t = RcvBufTuner::new(1 << 20, 0);
        assert_eq!(run(&mut t, &[10_000], &[10_000], 1, 4 << 20), 1 << 20);
    }

    #[test]
    fn nothing_is_chosen_before_an_rtt_is_known_or_an_interval_passed() {
        let mut t = RcvBufTuner::new(1024, 0);
        t.delivered(0, 100_000, 0);
        assert_eq!(t.sample(1_000_000, 4 << 20), None);
        t.delivered(0, 100_000, 50_000);
        assert_eq!(
            t.sample(1_000_010, 4 << 20),
            Some((MEMORY_PER_OCTET * 2 * 200_000 * 50_000u64 / 1_000_010) as u32)
        );
        t.delivered(0, 100_000, 50_000);
        assert_eq!(t.sample(1_020_000, 4 << 20), None);
        // A subflow gone no longer counts towards the interval.
        let mut t = RcvBufTuner::new(1024, 0);
        t.delivered(0, 10_000, 10_000);
        t.delivered(1, 10_000, 900_000);
        t.remove(1);
        assert_eq!(t.sample(20_000, 4 << 20), Some(20_000));
    }
}

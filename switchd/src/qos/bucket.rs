//! The token bucket behind port policing and meter bands (SPEC §12).
//!
//! One algorithm for both so that a policer and a meter at the same rate
//! behave the same. The bucket is kept, as Linux's `act_police` keeps it, in
//! nanoseconds of *transmission time at the rate*: a full bucket of 8000 kbit
//! at 20 000 kbit/s holds 400 000 000 ns, and a 1514-byte frame costs the
//! 605 600 ns it takes to send at 20 Mbit/s. Refilling is then adding the
//! elapsed time, with no multiplication or division by the rate, and the
//! only per-frame arithmetic is one fixed-point multiply.
//!
//! Everything is integer: the per-unit cost is a fixed-point number of
//! nanoseconds (2^-24 ns resolution, relative error below 10^-4 even at the
//! highest rate a `u32` can express), computed once at construction; the
//! multiply is done in `u128` so that a 64 KiB super-frame at 1 kbit/s (or
//! any `u64` count) cannot overflow.
//!
//! Admission: a frame passes when the bucket holds at least its cost, or is
//! full when the cost exceeds the whole bucket; it then pays its full cost,
//! which may leave the bucket in debt (negative). A GSO super-frame bigger
//! than the burst thus still passes (never starved) and the frames after it
//! wait until it is paid for, so the long-run rate stays exact. A frame that
//! does not pass takes nothing.
use std::time::Instant;

/// Fractional bits of the per-unit cost.
const FRAC_BITS: u32 = 24;

/// A token bucket counting bytes (a kbit/s rate) or packets (a packet/s
/// rate), in nanoseconds of transmission time at the rate.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    /// Credit, ns at the rate. At most `cap`; below 0 while a frame larger
    /// than what was available is being paid for.
    tokens: i64,
    /// The burst, ns at the rate (at least 1, so a full bucket always lets
    /// a frame through).
    cap: i64,
    /// Cost of one unit (byte or packet), ns × 2^[`FRAC_BITS`].
    ns_per_unit: u64,
    /// When the bucket was last refilled: never goes backwards.
    last: Instant,
}

impl TokenBucket {
    /// A bucket of `burst_kbit` kbit filling at `rate_kbps` kbit/s, full at
    /// `now`; [`TokenBucket::admit`] takes bytes.
    ///
    /// A rate of 0 is a caller's bug (0 means "no policer/band" and is
    /// refused before reaching here); it is treated as 1 so that nothing
    /// divides by zero in a release build.
    pub fn kbps(rate_kbps: u32, burst_kbit: u32, now: Instant) -> TokenBucket {
        // 1 kbit = 1000 bits: a byte takes 8 000 000 / rate ns, and the
        // burst is burst_kbit × 125 bytes.
        TokenBucket::new(8_000_000, rate_kbps, u64::from(burst_kbit) * 125, now)
    }

    /// A bucket of `burst_packets` filling at `rate_pps`, full at `now`;
    /// [`TokenBucket::admit`] takes packets. A rate of 0 is treated as 1
    /// (see [`TokenBucket::kbps`]).
    pub fn pktps(rate_pps: u32, burst_packets: u32, now: Instant) -> TokenBucket {
        TokenBucket::new(1_000_000_000, rate_pps, u64::from(burst_packets), now)
    }

    /// A bucket where one unit takes `ns_per_second_of_rate / rate` ns and
    /// which holds `burst_units` units.
    fn new(ns_numerator: u64, rate: u32, burst_units: u64, now: Instant) -> TokenBucket {
        debug_assert!(rate > 0, "a token bucket needs a nonzero rate");
        let rate = u128::from(rate.max(1));
        // Rounded to nearest: the long-run rate error is then at most half
        // a unit of the last fixed-point place.
        let fixed = ((u128::from(ns_numerator) << FRAC_BITS) + rate / 2) / rate;
        // ns_numerator << 24 fits u64 (1e9 × 2^24 ≈ 1.7e16), so does fixed.
        let ns_per_unit = u64::try_from(fixed).unwrap_or(u64::MAX).max(1);
        // The exact capacity (burst × numerator / rate), not burst × the
        // rounded per-unit cost: at most u32::MAX × 1e9 ≈ 4.3e18 < i64::MAX.
        let cap = (u128::from(burst_units) * u128::from(ns_numerator) / rate).max(1);
        let cap = i64::try_from(cap).unwrap_or(i64::MAX);
        TokenBucket {
            tokens: cap,
            cap,
            ns_per_unit,
            last: now,
        }
    }

    /// What `units` cost, ns at the rate (saturating: only an absurd count
    /// reaches `i64::MAX`, and it is then simply never paid off).
    #[inline]
    fn cost(&self, units: u64) -> i64 {
        let ns = (u128::from(units) * u128::from(self.ns_per_unit)) >> FRAC_BITS;
        i64::try_from(ns).unwrap_or(i64::MAX)
    }

    /// Credits the time since the last refill, capped at the burst. A `now`
    /// before the last refill (a clock read out of order) credits nothing
    /// and leaves `last` alone, so that no interval is ever credited twice.
    #[cold]
    fn refill(&mut self, now: Instant) {
        if now < self.last {
            return;
        }
        let elapsed = now.saturating_duration_since(self.last).as_nanos();
        // A gap longer than i64::MAX ns (292 years) is a full bucket anyway.
        let elapsed = i64::try_from(elapsed).unwrap_or(i64::MAX);
        self.tokens = self.tokens.saturating_add(elapsed).min(self.cap);
        self.last = now;
    }

    /// Whether `units` (bytes or packets) may pass at `now`; if so they are
    /// taken from the bucket.
    ///
    /// The engine gives every frame of a batch the same `now`, so the refill
    /// runs once per batch and the other frames only pay a comparison of
    /// instants, a multiply, a comparison and a subtraction.
    #[inline]
    pub fn admit(&mut self, units: u64, now: Instant) -> bool {
        // Equality is cheaper to test than order (two words, no
        // lexicographic compare); `refill` ignores an earlier `now`.
        if now != self.last {
            self.refill(now);
        }
        let cost = self.cost(units);
        if self.tokens >= cost {
            // tokens >= cost >= 0: no overflow.
            self.tokens -= cost;
            return true;
        }
        self.admit_whole_bucket(cost)
    }

    /// The rest of the admission rule, out of the common path: a frame
    /// bigger than the whole bucket passes when the bucket is full and
    /// leaves it in debt (`tokens >= min(cost, cap)`); anything else that
    /// the tokens do not cover is refused and takes nothing.
    #[cold]
    #[inline(never)]
    fn admit_whole_bucket(&mut self, cost: i64) -> bool {
        if self.tokens >= self.cap {
            self.tokens = self.tokens.saturating_sub(cost);
            return true;
        }
        false
    }

    /// The credit as of the last refill, ns at the rate (negative: debt).
    pub fn tokens_ns(&self) -> i64 {
        self.tokens
    }

    /// The burst, ns at the rate.
    pub fn capacity_ns(&self) -> i64 {
        self.cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(t0: Instant, ns: u64) -> Instant {
        t0 + Duration::from_nanos(ns)
    }

    #[test]
    fn capacity_and_cost_are_transmission_times() {
        let t0 = Instant::now();
        // 8000 kbit at 20 000 kbit/s: 0.4 s.
        let b = TokenBucket::kbps(20_000, 8_000, t0);
        assert_eq!(b.capacity_ns(), 400_000_000);
        assert_eq!(b.tokens_ns(), b.capacity_ns(), "starts full");
        // 1514 bytes at 20 Mbit/s: 605.6 µs.
        assert_eq!(b.cost(1514), 605_600);
        // 10 packets at 1000 pps: 10 ms.
        let p = TokenBucket::pktps(1_000, 10, t0);
        assert_eq!(p.capacity_ns(), 10_000_000);
        assert_eq!(p.cost(1), 1_000_000);
    }

    #[test]
    fn huge_frames_at_the_lowest_rate_do_not_overflow() {
        let t0 = Instant::now();
        let b = TokenBucket::kbps(1, 1, t0);
        // 64 KiB at 1 kbit/s: 524.288 s.
        assert_eq!(b.cost(65_536), 524_288_000_000);
        assert_eq!(b.cost(u64::MAX), i64::MAX);
        let p = TokenBucket::pktps(1, u32::MAX, t0);
        assert_eq!(p.capacity_ns(), i64::from(u32::MAX) * 1_000_000_000);
        let fast = TokenBucket::kbps(u32::MAX, u32::MAX, t0);
        // 4.3 Tbit/s: 64 bytes cost under a nanosecond, a megabyte 1862 ns.
        assert_eq!((fast.cost(64), fast.cost(1_000_000)), (0, 1862));
        assert!(fast.capacity_ns() > 0);
    }

    /// A zero rate is a caller's bug: caught in debug builds, harmless
    /// (treated as 1) in release builds.
    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "nonzero rate"))]
    fn zero_rate_is_a_bug_but_never_divides_by_zero() {
        let t0 = Instant::now();
        let b = TokenBucket::kbps(0, 8, t0);
        assert_eq!(b.capacity_ns(), TokenBucket::kbps(1, 8, t0).capacity_ns());
    }

    #[test]
    fn super_frame_passes_only_when_full_then_leaves_debt() {
        let t0 = Instant::now();
        // 100 kbit bucket at 1000 kbit/s: 12 500 bytes, 100 ms.
        let mut b = TokenBucket::kbps(1_000, 100, t0);
        // Not full (one small frame taken): the super-frame is refused and
        // takes nothing.
        assert!(b.admit(100, t0));
        let before = b.tokens_ns();
        assert!(!b.admit(65_000, t0));
        assert_eq!(b.tokens_ns(), before);
        // Full again after 1 ms (more than the 0.8 ms the 100 bytes cost):
        // the super-frame passes and the bucket owes 520 ms - 100 ms.
        let t1 = at(t0, 1_000_000);
        assert!(b.admit(65_000, t1));
        assert_eq!(b.tokens_ns(), 100_000_000 - 520_000_000);
        // Small frames are refused until the debt is repaid: 420 ms, plus
        // their own cost.
        assert!(!b.admit(64, at(t0, 1_000_000 + 100_000_000)));
        assert!(!b.admit(64, at(t0, 1_000_000 + 420_000_000)));
        assert!(b.admit(64, at(t0, 1_000_000 + 420_000_000 + 512_000)));
        assert!(!b.admit(64, at(t0, 1_000_000 + 420_000_000 + 512_000)));
    }

    #[test]
    fn refill_is_capped_at_the_burst_after_a_long_idle() {
        let t0 = Instant::now();
        let mut b = TokenBucket::pktps(10, 5, t0);
        // An hour idle, then a burst: only 5 pass at once.
        let t1 = t0 + Duration::from_secs(3600);
        let passed = (0..20).filter(|_| b.admit(1, t1)).count();
        assert_eq!(passed, 5);
        // A gap beyond any i64 count of nanoseconds is still just "full".
        let t2 = t1 + Duration::from_secs(1 << 40);
        assert!(b.admit(1, t2));
        assert_eq!(b.tokens_ns(), b.capacity_ns() - 100_000_000);
    }

    #[test]
    fn clock_going_backwards_is_harmless() {
        let t0 = Instant::now();
        let t1 = at(t0, 1_000_000_000);
        let mut b = TokenBucket::pktps(1_000, 1, t1);
        assert!(b.admit(1, t1));
        // Earlier instants: no credit, no panic, last refill kept.
        assert!(!b.admit(1, t0));
        assert!(!b.admit(1, at(t0, 999_999_999)));
        // 1 ms after t1 earns exactly one packet, not the time between t0
        // and t1 again.
        let t2 = at(t1, 1_000_000);
        assert!(b.admit(1, t2));
        assert!(!b.admit(1, t2));
    }

    #[test]
    fn same_instant_refills_once() {
        let t0 = Instant::now();
        let mut b = TokenBucket::pktps(1_000, 32, t0);
        let t1 = at(t0, 1_000_000_000);
        // A batch of 64 at one instant: the bucket was full (32) and gets
        // nothing more for the other frames of the batch.
        assert_eq!((0..64).filter(|_| b.admit(1, t1)).count(), 32);
    }

    /// Offered `offered_bps` of `frame`-byte frames for `secs` into `b`:
    /// bytes delivered from second 1 on.
    fn run_stream(b: &mut TokenBucket, t0: Instant, frame: u64, offered_bps: u64, secs: u64) -> u64 {
        let gap_ns = frame * 8 * 1_000_000_000 / offered_bps;
        let end = secs * 1_000_000_000;
        let mut delivered = 0;
        let mut t = 0;
        while t < end {
            if b.admit(frame, at(t0, t)) && t >= 1_000_000_000 {
                delivered += frame;
            }
            t += gap_ns;
        }
        delivered
    }

    #[test]
    fn kbps_rate_is_exact_over_time() {
        let t0 = Instant::now();
        for rate in [1_000u32, 20_000, 77_777, 95_000] {
            let mut b = TokenBucket::kbps(rate, 8_000, t0);
            let got = run_stream(&mut b, t0, 1514, 100_000_000, 10) as f64;
            let want = f64::from(rate) * 1000.0 / 8.0 * 9.0;
            assert!((got / want - 1.0).abs() < 0.01, "rate {rate}: {got} vs {want}");
        }
    }
}

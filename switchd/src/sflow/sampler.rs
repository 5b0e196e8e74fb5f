//! The 1-in-N ingress packet sampler of sFlow v5 (sflow_version_5.txt,
//! "Packet Flow Sampling"): a countdown of frames to skip, re-armed after
//! each sample with a random skip uniform in `[1, 2N-1]` (mean N), as Open
//! vSwitch's `lib/sflow_sampler.c` (`nextRandomSkip`) does. The randomness
//! keeps the sampler from locking onto periodic traffic.
//!
//! The hot path is [`Sampler::tick`]: one decrement and one branch per
//! frame; the random draw happens once per sample, out of line. The
//! pseudo-random source is a xorshift64 generator seeded by the caller, so
//! tests are deterministic and no clock or OS entropy is read here.
//!
//! One `Sampler` is meant per sampled port (the sFlow "data source", the
//! port's ifIndex): `sample_pool` and `drops` are per data source in the
//! flow sample, and a collector checks them against the per-source
//! sequence numbers. A single sampler shared by a bridge would report one
//! port's samples with every port's pool.

use super::config::{SAMPLING_MAX, SAMPLING_MIN};

/// A 1-in-N sampler with the counters a flow sample reports.
#[derive(Debug, Clone)]
pub struct Sampler {
    /// Frames still to see until the next sample, counting that one: >= 1.
    skip: u32,
    /// `sample_pool + skip` (wrapping): the pool is derived instead of
    /// counted so that [`tick`](Self::tick) only decrements.
    armed: u32,
    /// N.
    rate: u32,
    /// Samples the caller could not export (see [`record_drop`](Self::record_drop)).
    drops: u32,
    rng: XorShift64,
}

impl Sampler {
    /// A sampler of one frame in `rate` (clamped to
    /// [`SAMPLING_MIN`]–[`SAMPLING_MAX`]), its random skips drawn from a
    /// generator seeded with `seed` (any value; give each port its own).
    pub fn new(rate: u32, seed: u64) -> Self {
        let mut s = Sampler {
            skip: 1,
            armed: 1,
            rate: clamp_rate(rate),
            drops: 0,
            rng: XorShift64::new(seed),
        };
        s.skip = s.next_skip();
        s.armed = s.skip;
        s
    }

    /// Counts one frame seen; true if it is to be sampled.
    #[inline]
    pub fn tick(&mut self) -> bool {
        self.skip -= 1;
        if self.skip == 0 {
            self.rearm();
            true
        } else {
            false
        }
    }

    #[cold]
    fn rearm(&mut self) {
        self.skip = self.next_skip();
        self.armed = self.armed.wrapping_add(self.skip);
    }

    /// A skip uniform in `[1, 2N-1]`; 1 when N is 1. The modulo bias of a
    /// 64-bit draw reduced to at most 2^31 values is below 2^-32.
    fn next_skip(&mut self) -> u32 {
        if self.rate <= 1 {
            return 1;
        }
        let span = 2 * u64::from(self.rate) - 1;
        // Lossless: span <= 2 * SAMPLING_MAX - 1 < 2^32.
        (1 + self.rng.next() % span) as u32
    }

    /// N, the configured sampling rate (the flow sample's `sampling_rate`).
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Changes N (clamped as in [`new`](Self::new)), re-arming at once; the
    /// pool carries on.
    pub fn set_rate(&mut self, rate: u32) {
        let pool = self.sample_pool();
        self.rate = clamp_rate(rate);
        self.skip = self.next_skip();
        self.armed = pool.wrapping_add(self.skip);
    }

    /// Frames seen, sampled or not (the flow sample's `sample_pool`; 32
    /// bits, wrapping, as on the wire).
    pub fn sample_pool(&self) -> u32 {
        self.armed.wrapping_sub(self.skip)
    }

    /// Samples taken that the caller then dropped for lack of resources
    /// (the flow sample's `drops`).
    pub fn drops(&self) -> u32 {
        self.drops
    }

    /// Counts one sample the caller could not export (say its queue to the
    /// exporter was full).
    pub fn record_drop(&mut self) {
        self.drops = self.drops.wrapping_add(1);
    }
}

fn clamp_rate(rate: u32) -> u32 {
    rate.clamp(SAMPLING_MIN, SAMPLING_MAX)
}

/// Marsaglia's xorshift64 (shifts 13, 7, 17): period 2^64-1, plenty for
/// spreading sample skips, and a handful of instructions per draw.
#[derive(Debug, Clone)]
struct XorShift64(u64);

impl XorShift64 {
    /// The seed goes through SplitMix64 so that close seeds (port numbers)
    /// give unrelated sequences; a zero state (xorshift's fixed point) is
    /// replaced.
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        XorShift64(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(s: &mut Sampler, ticks: u32) -> u32 {
        (0..ticks).filter(|_| s.tick()).count() as u32
    }

    #[test]
    fn one_in_400_over_400k_frames_is_within_3_percent() {
        let mut s = Sampler::new(400, 1);
        let n = count(&mut s, 400_000);
        assert!((970..=1030).contains(&n), "{n} samples");
        assert_eq!(s.sample_pool(), 400_000);
        // Deterministic: the same seed, the same samples.
        let mut a = Sampler::new(400, 1);
        let mut b = Sampler::new(400, 1);
        assert!((0..100_000).all(|_| a.tick() == b.tick()));
        // Other seeds: within 10 % (about 5 standard deviations: the
        // count's deviation is sqrt(T·var/N³) ≈ 18 here).
        for seed in 2..20 {
            let n = count(&mut Sampler::new(400, seed), 400_000);
            assert!((900..=1100).contains(&n), "seed {seed}: {n} samples");
        }
    }

    #[test]
    fn skips_are_within_1_to_2n_minus_1_with_mean_n() {
        let mut s = Sampler::new(10, 7);
        let (mut last, mut min, mut max, mut samples) = (0u32, u32::MAX, 0, 0u32);
        for i in 1..=200_000u32 {
            if s.tick() {
                let gap = i - last;
                (min, max, last) = (min.min(gap), max.max(gap), i);
                samples += 1;
            }
        }
        assert_eq!((min, max), (1, 19));
        let mean = f64::from(last) / f64::from(samples);
        assert!((9.8..10.2).contains(&mean), "mean skip {mean}");
    }

    #[test]
    fn rate_1_samples_everything() {
        let mut s = Sampler::new(1, 0);
        assert!((0..1000).all(|_| s.tick()));
        assert_eq!(s.sample_pool(), 1000);
        // 0 is clamped to 1.
        let mut z = Sampler::new(0, 0);
        assert_eq!(z.rate(), 1);
        assert!(z.tick());
    }

    #[test]
    fn pool_counts_every_frame_and_survives_rate_changes() {
        let mut s = Sampler::new(50, 3);
        assert_eq!(s.sample_pool(), 0);
        count(&mut s, 1234);
        assert_eq!(s.sample_pool(), 1234);
        s.set_rate(1);
        assert_eq!(s.sample_pool(), 1234);
        assert!(s.tick());
        assert_eq!(s.sample_pool(), 1235);
        s.set_rate(u32::MAX);
        assert_eq!(s.rate(), SAMPLING_MAX);
        count(&mut s, 10);
        assert_eq!(s.sample_pool(), 1245);
        s.record_drop();
        s.record_drop();
        assert_eq!(s.drops(), 2);
    }

    #[test]
    fn pool_wraps_at_32_bits() {
        let mut s = Sampler::new(1, 0);
        s.armed = u32::MAX;
        assert_eq!(s.sample_pool(), u32::MAX - 1);
        s.tick();
        s.tick();
        assert_eq!(s.sample_pool(), 0);
    }
}

//! The 1-in-N packet sampler of `ipfix_sampling`.
//!
//! Random, not every Nth packet: a deterministic counter locks onto
//! periodic traffic (a flow that sends every Nth packet of the bridge is
//! always or never seen). Like sFlow agents, the sampler draws the number
//! of packets to skip before the next sample uniformly from 1..=2N−1 (mean
//! N), so the per-packet cost is one decrement and a compare; the random
//! draw happens once per sample. OVS's bridge exporter takes each packet
//! with probability 1/N instead; both sample 1/N of the packets on
//! average.
//!
//! The generator is xorshift64* (Marsaglia / Vigna): fast, good enough to
//! decorrelate sampling from traffic, not for secrets. Seeded by the
//! caller, so tests are deterministic and nothing here reads the clock or
//! the OS.

/// Decides which packets are sampled (see the module documentation).
#[derive(Debug, Clone)]
pub struct Sampler {
    rate: u32,
    /// Packets until (and including) the next sampled one; ≥ 1.
    skip: u64,
    state: u64,
}

impl Sampler {
    /// A sampler of 1 packet in `rate` (0 is taken as 1), its generator
    /// seeded with `seed` (any value; e.g. from a `RandomState`).
    pub fn new(rate: u32, seed: u64) -> Sampler {
        let mut s = Sampler {
            rate: rate.max(1),
            skip: 1,
            // xorshift must not start at 0.
            state: seed | 1,
        };
        s.skip = s.draw();
        s
    }

    /// N of "1 in N".
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Changes N (0 is taken as 1), keeping the generator's state; the
    /// next sample is drawn anew.
    pub fn set_rate(&mut self, rate: u32) {
        self.rate = rate.max(1);
        self.skip = self.draw();
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A skip count uniform in 1..=2N−1 (1 when N is 1). The modulo's
    /// bias is below 2^-31 for any N: irrelevant here.
    fn draw(&mut self) -> u64 {
        let span = 2 * u64::from(self.rate) - 1;
        if span == 1 {
            return 1;
        }
        1 + self.next_u64() % span
    }

    /// Whether this packet is sampled. Call once per packet.
    #[inline]
    pub fn take(&mut self) -> bool {
        self.skip -= 1;
        if self.skip == 0 {
            self.skip = self.draw();
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_one_takes_every_packet() {
        let mut s = Sampler::new(1, 42);
        assert!((0..1000).all(|_| s.take()));
        assert_eq!(Sampler::new(0, 0).rate(), 1);
    }

    #[test]
    fn rate_n_takes_about_one_in_n_with_varied_gaps() {
        for (rate, seed) in [(10u32, 1u64), (400, 7), (3, 99)] {
            let mut s = Sampler::new(rate, seed);
            let n = 2_000_000u64;
            let taken = (0..n).filter(|_| s.take()).count() as f64;
            let expect = n as f64 / f64::from(rate);
            assert!(
                (taken - expect).abs() < expect * 0.05,
                "rate {rate}: {taken} of {n}"
            );
        }
        // Gaps vary (not every Nth packet).
        let mut s = Sampler::new(10, 5);
        let mut gaps = Vec::new();
        let mut last = 0;
        for i in 1..=10_000 {
            if s.take() {
                gaps.push(i - last);
                last = i;
            }
        }
        assert!(gaps.iter().any(|g| *g != gaps[0]));
        assert!(gaps.iter().all(|g| (1..=19).contains(g)), "{gaps:?}");
    }

    #[test]
    fn same_seed_same_choices() {
        let mut a = Sampler::new(50, 123);
        let mut b = Sampler::new(50, 123);
        assert!((0..10_000).all(|_| a.take() == b.take()));
        a.set_rate(1);
        assert!((0..100).all(|_| a.take()));
    }

    #[test]
    fn huge_rate_does_not_overflow() {
        let mut s = Sampler::new(u32::MAX, 3);
        for _ in 0..1000 {
            s.take();
            assert!((1..=2 * u64::from(u32::MAX) - 1).contains(&s.skip));
        }
    }
}

//! Port policing: TODO (helper).
use std::time::Instant;

use super::TokenBucket;

/// TODO
#[derive(Debug, Clone)]
pub struct Policer {
    bucket: TokenBucket,
    rate: u32,
    burst: u32,
}

impl Policer {
    /// Open vSwitch's default burst, kbit.
    pub const DEFAULT_BURST_KBIT: u32 = 8000;

    /// The burst in force for a configured `burst` (kbit; `None` or 0 = the
    /// default) on a port with `mtu`: never below the port's largest frame.
    pub fn burst_in_effect(burst: Option<u32>, mtu: u32) -> u32 {
        let _ = mtu;
        burst.filter(|b| *b > 0).unwrap_or(Self::DEFAULT_BURST_KBIT)
    }

    /// A policer at `rate_kbps`, or `None` when the rate is 0 (off).
    pub fn new(rate_kbps: u32, burst: Option<u32>, mtu: u32, now: Instant) -> Option<Policer> {
        (rate_kbps > 0).then(|| {
            let burst = Self::burst_in_effect(burst, mtu);
            Policer {
                bucket: TokenBucket::kbps(rate_kbps, burst, now),
                rate: rate_kbps,
                burst,
            }
        })
    }

    /// Whether a frame of `bytes` may pass at `now`.
    #[inline]
    pub fn admit(&mut self, bytes: u64, now: Instant) -> bool {
        self.bucket.admit(bytes, now)
    }

    /// kbit/s.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// kbit, as in force.
    pub fn burst(&self) -> u32 {
        self.burst
    }
}

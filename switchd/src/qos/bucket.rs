//! A token bucket: TODO (helper).
use std::time::Instant;

/// TODO
#[derive(Debug, Clone)]
pub struct TokenBucket {
    _last: Instant,
}

impl TokenBucket {
    /// A bucket of `burst_kbit` kbit filling at `rate_kbps` kbit/s, full at
    /// `now`; [`TokenBucket::admit`] takes bytes.
    pub fn kbps(rate_kbps: u32, burst_kbit: u32, now: Instant) -> TokenBucket {
        let _ = (rate_kbps, burst_kbit);
        TokenBucket { _last: now }
    }
    /// A bucket of `burst_packets` filling at `rate_pps`, full at `now`;
    /// [`TokenBucket::admit`] takes packets.
    pub fn pktps(rate_pps: u32, burst_packets: u32, now: Instant) -> TokenBucket {
        let _ = (rate_pps, burst_packets);
        TokenBucket { _last: now }
    }
    /// Whether `units` (bytes or packets) may pass at `now`; if so they are
    /// taken from the bucket.
    pub fn admit(&mut self, units: u64, now: Instant) -> bool {
        let _ = (units, now);
        true
    }
}

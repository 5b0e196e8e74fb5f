//! Port policing (SPEC §12): Open vSwitch's `ingress_policing_rate` and
//! `ingress_policing_burst`, and the same policer on egress.
//!
//! Units are OVS's: the rate in kbit/s and the burst in kbit, with
//! 1 kbit = 1000 bits; a rate of 0 turns policing off. Frames over the rate
//! are dropped (a policer, not a shaper: nothing is queued). The bytes
//! charged are Ethernet frame bytes, as the engine passes them; for a GSO
//! super-frame that is the bytes of all the segments it stands for.
//!
//! The burst in force is:
//! - the configured burst, or OVS's default of 8000 kbit when it is unset
//!   or 0;
//! - but never less than the port's largest frame,
//!   `ceil((mtu + 18) × 8 / 1000)` kbit, where `mtu` is the payload size
//!   (the 14-byte Ethernet header excluded) and 18 is that header plus one
//!   VLAN tag. A smaller bucket could never hold a full-sized frame: with
//!   [`TokenBucket`]'s debt rule such a frame would still pass from a full
//!   bucket, but the effective burst would not be what was asked for, so
//!   the configured value is rounded up to where it means what it says.
//!
//! The token bucket itself is [`TokenBucket`]; this file only holds the
//! units and defaults.
use std::time::Instant;

use proto::MacAddr;

use super::bucket::TokenBucket;
use crate::offload;
use crate::wire::{self, vnet::VnetHdr};

/// A port policer: drops frames over `rate` kbit/s, allowing `burst` kbit
/// at once.
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
        let burst = burst.filter(|b| *b > 0).unwrap_or(Self::DEFAULT_BURST_KBIT);
        burst.max(Self::largest_frame_kbit(mtu))
    }

    /// The largest frame on a port with `mtu` (Ethernet header and one VLAN
    /// tag on top of the payload), kbit rounded up.
    fn largest_frame_kbit(mtu: u32) -> u32 {
        let bits = (u64::from(mtu) + 18) * 8;
        u32::try_from(bits.div_ceil(1000)).unwrap_or(u32::MAX)
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

    /// Whether a frame may pass at `now`, charged as SPEC §12 says: its
    /// Ethernet bytes as it leaves (`tag_delta` is what the port's VLAN
    /// edit adds or removes: -4, 0 or 4), a GSO super-frame the bytes of
    /// all the segments it becomes. Spanning tree, LACP and the other
    /// link-local frames (01:80:c2:00:00:0x) always pass, uncharged: a
    /// policer must not break the topology it carries.
    #[inline]
    pub fn admit_frame(&mut self, frame: &[u8], hdr: &VnetHdr, tag_delta: isize, now: Instant) -> bool {
        if frame
            .first_chunk::<6>()
            .is_some_and(|d| wire::is_reserved(&MacAddr(*d)))
        {
            return true;
        }
        let (n, bytes) = if hdr.is_gso() {
            offload::segments(frame, hdr)
        } else {
            (1, frame.len())
        };
        let bytes = bytes.saturating_add_signed(n as isize * tag_delta);
        self.admit(bytes as u64, now)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_defaults_and_rounding() {
        // Unset or 0: OVS's 8000 kbit.
        assert_eq!(Policer::burst_in_effect(None, 1500), 8000);
        assert_eq!(Policer::burst_in_effect(Some(0), 1500), 8000);
        assert_eq!(Policer::burst_in_effect(Some(100), 1500), 100);
        // 1500 + 18 bytes = 12 144 bits: 13 kbit.
        assert_eq!(Policer::burst_in_effect(Some(1), 1500), 13);
        assert_eq!(Policer::burst_in_effect(Some(12), 1500), 13);
        assert_eq!(Policer::burst_in_effect(Some(13), 1500), 13);
        // 9000 + 18 bytes = 72 144 bits: 73 kbit.
        assert_eq!(Policer::burst_in_effect(Some(50), 9000), 73);
        // 107 bytes = 856 bits: one kbit.
        assert_eq!(Policer::burst_in_effect(Some(1), 89), 1);
        assert_eq!(Policer::burst_in_effect(Some(1), 107), 1);
        assert_eq!(Policer::burst_in_effect(Some(1), 108), 2);
        // Absurd MTUs do not overflow.
        assert_eq!(Policer::burst_in_effect(Some(1), u32::MAX), 34_359_739);
    }

    #[test]
    fn rate_zero_is_off() {
        let t0 = Instant::now();
        assert!(Policer::new(0, Some(100), 1500, t0).is_none());
        let p = Policer::new(1000, None, 1500, t0).expect("on");
        assert_eq!((p.rate(), p.burst()), (1000, 8000));
    }

    /// SPEC §12: a 100 Mbit/s stream of 1514-byte frames into a 20 Mbit/s
    /// policer with the default burst delivers 20 Mbit/s (±1 %) once the
    /// initial burst has drained.
    #[test]
    fn udp_stream_over_the_rate_gets_the_rate() {
        let t0 = Instant::now();
        let mut p = Policer::new(20_000, None, 1500, t0).expect("on");
        let gap_ns = 1514 * 8 * 1_000_000_000 / 100_000_000u64; // 121.12 µs
        let (mut t, mut first_second, mut after) = (0u64, 0u64, 0u64);
        while t < 10_000_000_000 {
            if p.admit(1514, t0 + Duration::from_nanos(t)) {
                if t < 1_000_000_000 {
                    first_second += 1514;
                } else {
                    after += 1514;
                }
            }
            t += gap_ns;
        }
        let want = 20_000_000 / 8 * 9;
        let err = (after as f64 / want as f64 - 1.0).abs();
        assert!(err < 0.01, "delivered {after} bytes after 1 s, want {want}");
        // The first second got the rate plus the 8000 kbit burst.
        let first_want = (20_000_000 + 8_000_000) / 8;
        assert!(
            (first_second as f64 / first_want as f64 - 1.0).abs() < 0.01,
            "{first_second}"
        );
    }

    /// Super-frames are charged all their bytes: a stream of 64 KB GSO
    /// frames gets the same byte rate as one of 1514-byte frames.
    #[test]
    fn gso_stream_gets_the_rate_too() {
        let t0 = Instant::now();
        let mut p = Policer::new(50_000, None, 1500, t0).expect("on");
        // Offered 520 Mbit/s of 65 000-byte super-frames: one each ms.
        let (mut t, mut after) = (0u64, 0u64);
        while t < 10_000_000_000 {
            if p.admit(65_000, t0 + Duration::from_nanos(t)) && t >= 1_000_000_000 {
                after += 65_000;
            }
            t += 1_000_000;
        }
        let want = 50_000_000 / 8 * 9;
        let err = (after as f64 / want as f64 - 1.0).abs();
        assert!(err < 0.01, "delivered {after} bytes after 1 s, want {want}");
    }

    /// What a frame is charged: its bytes as it leaves, tag edit included;
    /// link-local control frames pass free.
    #[test]
    fn frames_are_charged_as_they_leave_and_bpdus_pass_free() {
        let t0 = Instant::now();
        // 1 kbit/s, the smallest burst for MTU 1500 (13 kbit = 1625 bytes).
        let mut p = Policer::new(1, Some(1), 1500, t0).expect("on");
        let mut frame = vec![0u8; 800];
        frame[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 1]);
        let none = VnetHdr::default();
        // 800 + 4 (a pushed tag) twice: 1608 of 1625 bytes.
        assert!(p.admit_frame(&frame, &none, 4, t0));
        assert!(p.admit_frame(&frame, &none, 4, t0));
        // 17 bytes left: a 20-byte frame is refused, a BPDU is not.
        assert!(!p.admit_frame(&frame[..20], &none, 0, t0));
        let mut bpdu = frame.clone();
        bpdu[..6].copy_from_slice(&[0x01, 0x80, 0xc2, 0, 0, 0]);
        for _ in 0..100 {
            assert!(p.admit_frame(&bpdu, &none, 0, t0));
        }
        // 16 bytes (20 with a tag popped) still fit.
        assert!(p.admit_frame(&frame[..20], &none, -4, t0));
    }
}

//! The VXLAN header (RFC 7348 §5) and the UDP header switchd writes in
//! front of it: fixed offsets, no I/O, no allocation.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |R|R|R|R|I|R|R|R|            Reserved                           |
//! |                VXLAN Network Identifier (VNI) |   Reserved    |
//! ```
//!
//! Receive is as strict as Open vSwitch's userspace datapath
//! (`netdev-native-tnl.c`): the first word must be exactly `0x08000000`
//! (the I bit, every reserved bit zero) and the byte after the VNI zero.
//! A packet that sets a bit switchd does not understand (GBP, GPE) is
//! dropped, never half-understood.
//!
//! The UDP source port is the inner flow's hash scaled into 32768–61000
//! ([`source_port`], the range OVS uses), so an ECMP underlay that hashes on
//! the outer 5-tuple spreads flows over its paths (RFC 7348 §5, "Source
//! Port").

use crate::stats::DropReason;

/// Length of the VXLAN header.
pub const HEADER_LEN: usize = 8;
/// Length of the UDP header.
pub const UDP_HEADER_LEN: usize = 8;
/// The I flag: the VNI is valid. It is the only flag RFC 7348 defines.
pub const FLAG_I: u8 = 0x08;
/// Largest VNI (24 bits).
pub const MAX_VNI: u32 = 0x00ff_ffff;
/// Lowest UDP source port used for encapsulated packets.
pub const SOURCE_PORT_MIN: u16 = 32_768;
/// One past the highest UDP source port used (as OVS: `[32768, 61000)`).
pub const SOURCE_PORT_END: u16 = 61_000;

/// The VXLAN header for `vni` (masked to 24 bits).
#[inline]
pub fn header(vni: u32) -> [u8; HEADER_LEN] {
    let [_, v0, v1, v2] = (vni & MAX_VNI).to_be_bytes();
    [FLAG_I, 0, 0, 0, v0, v1, v2, 0]
}

/// Reads the VXLAN header at the start of a UDP payload and returns the VNI;
/// the inner Ethernet frame starts at [`HEADER_LEN`].
///
/// # Errors
/// [`DropReason::TunnelTruncated`] when fewer than 8 bytes are there;
/// [`DropReason::TunnelBadFlags`] unless the flags word is exactly the I
/// bit and the reserved byte after the VNI is zero.
#[inline]
pub fn decode(payload: &[u8]) -> Result<u32, DropReason> {
    let Some(h) = payload.first_chunk::<HEADER_LEN>() else {
        return Err(DropReason::TunnelTruncated);
    };
    if h[..4] != [FLAG_I, 0, 0, 0] || h[7] != 0 {
        return Err(DropReason::TunnelBadFlags);
    }
    Ok(u32::from_be_bytes([0, h[4], h[5], h[6]]))
}

/// The UDP header for a datagram of `payload_len` bytes after it. The
/// checksum is left 0: "transmitted as zero" is what RFC 7348 recommends
/// for IPv4, and over IPv6 the kernel fills it in (`IPV6_CHECKSUM` on the
/// sending socket).
#[inline]
pub fn udp_header(src_port: u16, dst_port: u16, payload_len: usize) -> [u8; UDP_HEADER_LEN] {
    // Callers stay far below 64 KiB (the underlay MTU bounds the frame).
    let len = (UDP_HEADER_LEN + payload_len).min(usize::from(u16::MAX)) as u16;
    let [s0, s1] = src_port.to_be_bytes();
    let [d0, d1] = dst_port.to_be_bytes();
    let [l0, l1] = len.to_be_bytes();
    [s0, s1, d0, d1, l0, l1, 0, 0]
}

/// Scales a 32-bit flow hash into `[SOURCE_PORT_MIN, SOURCE_PORT_END)`
/// without a division (multiply-shift, as OVS does).
#[inline]
pub fn source_port(hash: u32) -> u16 {
    let span = u64::from(SOURCE_PORT_END - SOURCE_PORT_MIN);
    SOURCE_PORT_MIN + ((u64::from(hash) * span) >> 32) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7348 header for VNI 42 (0x00002a), as Wireshark shows it:
    /// flags 0x08000000, VNI 42.
    const VNI42: [u8; 8] = [0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00];

    #[test]
    fn header_bytes() {
        assert_eq!(header(42), VNI42);
        assert_eq!(header(0), [0x08, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(header(0x12_3456), [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]);
        assert_eq!(header(MAX_VNI), [0x08, 0, 0, 0, 0xff, 0xff, 0xff, 0]);
        // out of range: masked, never spilled into the reserved byte
        assert_eq!(header(0x0100_0001)[4..], [0, 0, 1, 0]);
    }

    #[test]
    fn decode_accepts_exactly_the_i_bit() {
        let mut p = VNI42.to_vec();
        p.extend_from_slice(&[0xff; 14]);
        assert_eq!(decode(&p), Ok(42));
        assert_eq!(decode(&header(0x12_3456)), Ok(0x12_3456));
        for vni in [0, 1, 4095, 4096, MAX_VNI] {
            assert_eq!(decode(&header(vni)), Ok(vni));
        }
    }

    #[test]
    fn decode_rejects_truncated_and_bad_flags() {
        for n in 0..HEADER_LEN {
            assert_eq!(decode(&VNI42[..n]), Err(DropReason::TunnelTruncated), "len {n}");
        }
        let bad = [
            [0x00, 0, 0, 0, 0, 0, 0x2a, 0],    // I bit missing
            [0x0c, 0, 0, 0, 0, 0, 0x2a, 0],    // GPE P bit
            [0x88, 0, 0, 0, 0, 0, 0x2a, 0],    // GBP G bit
            [0x08, 0x40, 0, 0, 0, 0, 0x2a, 0], // GBP D bit / reserved
            [0x08, 0, 0, 0x01, 0, 0, 0x2a, 0], // reserved low byte of word 0
            [0x08, 0, 0, 0, 0, 0, 0x2a, 0x01], // reserved byte after the VNI
        ];
        for h in bad {
            assert_eq!(decode(&h), Err(DropReason::TunnelBadFlags), "{h:02x?}");
        }
    }

    #[test]
    fn udp_header_bytes() {
        // 1234 -> 4789, 8 + 8 + 60 bytes
        assert_eq!(
            udp_header(0x04d2, 4789, 68),
            [0x04, 0xd2, 0x12, 0xb5, 0x00, 0x4c, 0x00, 0x00]
        );
    }

    #[test]
    fn source_port_range() {
        assert_eq!(source_port(0), SOURCE_PORT_MIN);
        assert_eq!(source_port(u32::MAX), SOURCE_PORT_END - 1);
        assert_eq!(
            source_port(1 << 31),
            SOURCE_PORT_MIN + (SOURCE_PORT_END - SOURCE_PORT_MIN) / 2
        );
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..1000u32 {
            let p = source_port(i.wrapping_mul(0x9e37_79b9));
            assert!((SOURCE_PORT_MIN..SOURCE_PORT_END).contains(&p));
            seen.insert(p);
        }
        assert!(seen.len() > 900, "{} distinct ports", seen.len());
    }
}

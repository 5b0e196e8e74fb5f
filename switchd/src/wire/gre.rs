//! The GRE header (RFC 2784 with the key and sequence number of RFC 2890)
//! for Ethernet over GRE: fixed offsets, no I/O, no allocation.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |C| |K|S| Reserved0       | Ver |         Protocol Type         |
//! |      Checksum (optional)      |       Reserved1 (Optional)    |
//! |                         Key (optional)                        |
//! |                 Sequence Number (Optional)                    |
//! ```
//!
//! switchd sends protocol 0x6558 (Transparent Ethernet Bridging) with the K
//! bit only when the port has a key, no checksum and no sequence number (the
//! defaults of Open vSwitch and of Linux `gretap`). Receive follows OVS's
//! `netdev-native-tnl.c`: only the C, K and S flags may be set (so routing,
//! strict source route and recursion are refused), the version must be 0,
//! the protocol 0x6558; a checksum, when present, is verified; a sequence
//! number is skipped.

use crate::stats::DropReason;

/// GRE protocol type of Transparent Ethernet Bridging (an Ethernet frame).
pub const PROTO_TEB: u16 = 0x6558;
/// Checksum present.
pub const FLAG_C: u16 = 0x8000;
/// Key present.
pub const FLAG_K: u16 = 0x2000;
/// Sequence number present.
pub const FLAG_S: u16 = 0x1000;
/// The version field (low 3 bits of the first 16-bit word).
const VERSION_MASK: u16 = 0x0007;
/// Length of the base header (flags, version, protocol).
pub const BASE_LEN: usize = 4;
/// Longest header switchd writes: base plus key.
pub const MAX_TX_LEN: usize = 8;

/// The header switchd sends for a port with `key` (none: no K bit); returns
/// the buffer and how many of its bytes are the header (4 or 8).
#[inline]
pub fn header(key: Option<u32>) -> ([u8; MAX_TX_LEN], usize) {
    let [p0, p1] = PROTO_TEB.to_be_bytes();
    match key {
        None => ([0, 0, p0, p1, 0, 0, 0, 0], BASE_LEN),
        Some(k) => {
            let [f0, f1] = FLAG_K.to_be_bytes();
            let [k0, k1, k2, k3] = k.to_be_bytes();
            ([f0, f1, p0, p1, k0, k1, k2, k3], BASE_LEN + 4)
        }
    }
}

/// What [`decode`] found in a valid header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// The key, when the K bit was set.
    pub key: Option<u32>,
    /// Header length: the inner Ethernet frame starts here.
    pub len: usize,
}

/// Reads the GRE header at the start of `packet` (the GRE header and
/// everything after it).
///
/// # Errors
/// [`DropReason::TunnelTruncated`] when the header, with its optional
/// fields, is not all there; [`DropReason::TunnelBadVersion`] for a version
/// other than 0; [`DropReason::TunnelBadFlags`] for any flag but C, K, S;
/// [`DropReason::TunnelNotEthernet`] for a protocol other than 0x6558;
/// [`DropReason::TunnelBadChecksum`] when C is set and the checksum is wrong.
#[inline]
pub fn decode(packet: &[u8]) -> Result<Decoded, DropReason> {
    let Some(base) = packet.first_chunk::<BASE_LEN>() else {
        return Err(DropReason::TunnelTruncated);
    };
    let flags = u16::from_be_bytes([base[0], base[1]]);
    if flags & VERSION_MASK != 0 {
        return Err(DropReason::TunnelBadVersion);
    }
    if flags & !(FLAG_C | FLAG_K | FLAG_S) != 0 {
        return Err(DropReason::TunnelBadFlags);
    }
    let has = |f: u16| usize::from(flags & f != 0);
    let len = BASE_LEN + 4 * (has(FLAG_C) + has(FLAG_K) + has(FLAG_S));
    if packet.len() < len {
        return Err(DropReason::TunnelTruncated);
    }
    if u16::from_be_bytes([base[2], base[3]]) != PROTO_TEB {
        return Err(DropReason::TunnelNotEthernet);
    }
    // RFC 2784 §2.5: the checksum covers the GRE header and the payload;
    // summed with the checksum field in place, a valid packet gives 0.
    if flags & FLAG_C != 0 && internet_checksum(packet) != 0 {
        return Err(DropReason::TunnelBadChecksum);
    }
    let key = (flags & FLAG_K != 0).then(|| {
        let at = BASE_LEN + 4 * has(FLAG_C);
        u32::from_be_bytes([packet[at], packet[at + 1], packet[at + 2], packet[at + 3]])
    });
    Ok(Decoded { key, len })
}

/// The length of the IPv4 header at the start of `packet`: an IPv4 raw
/// socket hands over the IP header with the payload (an IPv6 one does not).
///
/// # Errors
/// [`DropReason::TunnelTruncated`] if it is not a whole IPv4 header.
#[inline]
pub fn ipv4_header_len(packet: &[u8]) -> Result<usize, DropReason> {
    let Some(&b0) = packet.first() else {
        return Err(DropReason::TunnelTruncated);
    };
    let len = usize::from(b0 & 0x0f) * 4;
    if b0 >> 4 != 4 || len < 20 || packet.len() < len {
        return Err(DropReason::TunnelTruncated);
    }
    Ok(len)
}

/// The Internet checksum (RFC 1071) of `data`: the ones' complement of the
/// ones' complement sum of its 16-bit words (an odd last byte is padded with
/// zero).
pub fn internet_checksum(data: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut words = data.chunks_exact(2);
    for w in words.by_ref() {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Key 42, TEB, as tcpdump prints it: "GREv0, Flags [key present],
    /// key=0x2a, proto TEB (0x6558)".
    const KEYED: [u8; 8] = [0x20, 0x00, 0x65, 0x58, 0x00, 0x00, 0x00, 0x2a];
    const PLAIN: [u8; 4] = [0x00, 0x00, 0x65, 0x58];

    #[test]
    fn header_bytes() {
        assert_eq!(header(None), ([0, 0, 0x65, 0x58, 0, 0, 0, 0], 4));
        assert_eq!(header(Some(42)), (KEYED, 8));
        // key 0 is a key: the K bit is set
        assert_eq!(header(Some(0)).0[..2], [0x20, 0x00]);
        assert_eq!(header(Some(u32::MAX)).0[4..], [0xff; 4]);
    }

    #[test]
    fn decode_plain_and_keyed() {
        let mut p = PLAIN.to_vec();
        p.extend_from_slice(&[0xaa; 14]);
        assert_eq!(decode(&p), Ok(Decoded { key: None, len: 4 }));
        assert_eq!(
            decode(&KEYED),
            Ok(Decoded {
                key: Some(42),
                len: 8
            })
        );
        // sequence number: skipped
        let seq = [0x30, 0x00, 0x65, 0x58, 0, 0, 0, 7, 0, 0, 0, 1];
        assert_eq!(
            decode(&seq),
            Ok(Decoded {
                key: Some(7),
                len: 12
            })
        );
    }

    #[test]
    fn decode_checksum() {
        // C and K: checksum, reserved1, key, then a payload.
        let mut p = vec![0xa0, 0x00, 0x65, 0x58, 0, 0, 0, 0, 0, 0, 0, 5];
        p.extend_from_slice(b"an odd-length payload");
        let c = internet_checksum(&p);
        p[4..6].copy_from_slice(&c.to_be_bytes());
        assert_eq!(
            decode(&p),
            Ok(Decoded {
                key: Some(5),
                len: 12
            })
        );
        let last = p.len() - 1;
        p[last] ^= 1;
        assert_eq!(decode(&p), Err(DropReason::TunnelBadChecksum));
    }

    #[test]
    fn decode_rejects() {
        for n in 0..4 {
            assert_eq!(decode(&KEYED[..n]), Err(DropReason::TunnelTruncated));
        }
        for n in 4..8 {
            assert_eq!(decode(&KEYED[..n]), Err(DropReason::TunnelTruncated), "len {n}");
        }
        // version 1 (PPTP's enhanced GRE)
        assert_eq!(
            decode(&[0x20, 0x01, 0x88, 0x0b, 0, 0, 0, 0]),
            Err(DropReason::TunnelBadVersion)
        );
        for flags in [0x4000u16, 0x0800, 0x0080, 0x0400, 0x0008] {
            let [f0, f1] = flags.to_be_bytes();
            assert_eq!(
                decode(&[f0, f1, 0x65, 0x58, 0, 0, 0, 0, 0, 0, 0, 0]),
                Err(DropReason::TunnelBadFlags),
                "{flags:#06x}"
            );
        }
        // IPv4 over GRE
        assert_eq!(decode(&[0, 0, 0x08, 0x00]), Err(DropReason::TunnelNotEthernet));
    }

    #[test]
    fn ipv4_header_length() {
        let mut ip = [0u8; 24];
        ip[0] = 0x45;
        assert_eq!(ipv4_header_len(&ip), Ok(20));
        ip[0] = 0x46; // one word of options
        assert_eq!(ipv4_header_len(&ip), Ok(24));
        ip[0] = 0x47;
        assert_eq!(ipv4_header_len(&ip), Err(DropReason::TunnelTruncated));
        ip[0] = 0x44;
        assert_eq!(ipv4_header_len(&ip), Err(DropReason::TunnelTruncated));
        ip[0] = 0x65;
        assert_eq!(ipv4_header_len(&ip), Err(DropReason::TunnelTruncated));
        assert_eq!(ipv4_header_len(&[]), Err(DropReason::TunnelTruncated));
    }

    #[test]
    fn checksum_known_value() {
        // RFC 1071 §3 example: sum 0xddf2, checksum 0x220d
        assert_eq!(
            internet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
    }
}

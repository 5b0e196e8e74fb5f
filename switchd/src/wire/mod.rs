//! Byte-level view of the Ethernet and 802.1Q headers: fixed offsets, no
//! I/O, no state, no allocation.
//!
//! The forwarding pipeline needs only the two MAC addresses and the outer
//! VLAN tag, so [`parse`] reads exactly those (smoltcp style: offsets in a
//! private `mod field`, no general-purpose packet parser on the hot path)
//! and returns them as a small `Copy` summary, [`FrameMeta`]. Everything
//! after the parse reads the summary, not the bytes.
//!
//! Contract: [`parse`] accepts any byte slice. It rejects a frame shorter
//! than an Ethernet header ([`DropReason::Runt`]) and a frame whose
//! ethertype announces a VLAN tag that is not all there
//! ([`DropReason::TruncatedTag`]); every other frame parses, whatever its
//! payload. When `parse` succeeded the frame is at least 14 bytes long, and
//! at least 18 when it carries a tag, which is what
//! [`Edit::pieces`](crate::batch::Edit::pieces) relies on.
//!
//! The tunnel headers live in [`vxlan`] and [`gre`], the virtio-net header
//! of offloaded frames in [`vnet`]; [`flow_hash`] gives the per-flow
//! entropy a VXLAN sender puts in its UDP source port.

pub mod bpdu;
pub mod gre;
pub mod lacp;
pub mod rarp;
pub mod vnet;
pub mod vxlan;

use proto::MacAddr;

use crate::stats::DropReason;

mod field {
    use std::ops::Range;

    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    /// The TCI of an 802.1Q/802.1ad tag, right after its TPID (which sits
    /// where the ethertype of an untagged frame is).
    pub const TCI: Range<usize> = 14..16;
}

/// Length of an untagged Ethernet header (no FCS: AF_PACKET, TAP and the
/// socket ports never hand us one).
pub const ETH_HEADER_LEN: usize = field::ETHERTYPE.end;
/// Length of one VLAN tag (TPID + TCI).
pub const VLAN_TAG_LEN: usize = 4;
/// IEEE 802.1Q customer tag TPID; the only one switchd emits.
pub const TPID_8021Q: u16 = 0x8100;
/// IEEE 802.1ad service tag TPID; accepted on ingress like 0x8100.
pub const TPID_8021AD: u16 = 0x88a8;

/// One 802.1Q tag: TPID plus the three fields of the TCI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlanTag {
    /// Tag protocol identifier ([`TPID_8021Q`] or [`TPID_8021AD`]).
    pub tpid: u16,
    /// Priority code point, 0–7.
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN id, 0–4095 (0 = priority tag only).
    pub vid: u16,
}

impl VlanTag {
    /// The tag as it appears on the wire (TPID then TCI, big endian).
    #[inline]
    pub fn to_bytes(self) -> [u8; 4] {
        let [t0, t1] = self.tpid.to_be_bytes();
        let [c0, c1] = self.tci().to_be_bytes();
        [t0, t1, c0, c1]
    }

    /// Splits a TCI into PCP, DEI and VID.
    #[inline]
    pub fn from_tci(tpid: u16, tci: u16) -> Self {
        VlanTag {
            tpid,
            pcp: (tci >> 13) as u8,
            dei: tci & 0x1000 != 0,
            vid: tci & 0x0fff,
        }
    }

    /// The TCI: PCP (3 bits), DEI (1 bit), VID (12 bits). Out-of-range PCP
    /// and VID values are masked, never spilled into the neighbouring field.
    #[inline]
    pub fn tci(self) -> u16 {
        (u16::from(self.pcp & 0x7) << 13) | (u16::from(self.dei) << 12) | (self.vid & 0x0fff)
    }
}

/// What the pipeline needs to know about a received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameMeta {
    /// Destination MAC.
    pub dst: MacAddr,
    /// Source MAC.
    pub src: MacAddr,
    /// The outer VLAN tag, if the frame has one (an inner tag of a QinQ
    /// frame is payload).
    pub tag: Option<VlanTag>,
}

fn mac_at(frame: &[u8], range: std::ops::Range<usize>) -> MacAddr {
    let mut m = [0u8; 6];
    m.copy_from_slice(&frame[range]);
    MacAddr(m)
}

fn u16_at(frame: &[u8], range: std::ops::Range<usize>) -> u16 {
    u16::from_be_bytes([frame[range.start], frame[range.start + 1]])
}

/// Whether `ethertype` announces an 802.1Q or 802.1ad tag.
#[inline]
pub fn is_tpid(ethertype: u16) -> bool {
    ethertype == TPID_8021Q || ethertype == TPID_8021AD
}

/// Where the network (L3) header of `frame` starts, after the Ethernet
/// header and one VLAN tag if there is one, and the ethertype that names
/// it. `None` if the frame is too short to tell.
#[inline]
pub fn network_header(frame: &[u8]) -> Option<(usize, u16)> {
    let at = |i: usize| frame.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    match at(field::ETHERTYPE.start)? {
        tpid if is_tpid(tpid) => Some((ETH_HEADER_LEN + VLAN_TAG_LEN, at(field::TCI.end)?)),
        ethertype => Some((ETH_HEADER_LEN, ethertype)),
    }
}

/// Reads the MAC addresses and the outer VLAN tag of `frame`.
///
/// # Errors
/// [`DropReason::Runt`] if `frame` is shorter than [`ETH_HEADER_LEN`];
/// [`DropReason::TruncatedTag`] if its ethertype is [`TPID_8021Q`] or
/// [`TPID_8021AD`] but the TCI is missing.
#[inline]
pub fn parse(frame: &[u8]) -> Result<FrameMeta, DropReason> {
    if frame.len() < ETH_HEADER_LEN {
        return Err(DropReason::Runt);
    }
    let dst = mac_at(frame, field::DESTINATION);
    let src = mac_at(frame, field::SOURCE);
    let ethertype = u16_at(frame, field::ETHERTYPE);
    let tag = if is_tpid(ethertype) {
        if frame.len() < ETH_HEADER_LEN + VLAN_TAG_LEN {
            return Err(DropReason::TruncatedTag);
        }
        Some(VlanTag::from_tci(ethertype, u16_at(frame, field::TCI)))
    } else {
        None
    };
    Ok(FrameMeta { dst, src, tag })
}

/// Whether `mac` is one of the IEEE 802.1D reserved group addresses
/// 01:80:c2:00:00:00–0f (STP, pause, LACP, 802.1X, LLDP, ...), which a
/// bridge must never forward.
#[inline]
pub fn is_reserved(mac: &MacAddr) -> bool {
    let m = mac.0;
    m[..5] == [0x01, 0x80, 0xc2, 0x00, 0x00] && m[5] & 0xf0 == 0
}

/// One round of the hash: mixes a 32-bit word into the state.
#[inline]
fn mix(h: u32, w: u32) -> u32 {
    (h ^ w).wrapping_mul(0x9e37_79b1).rotate_left(13)
}

/// A 32-bit hash of the flow a frame belongs to: its MAC addresses and
/// ethertype, and for IPv4/IPv6 the addresses and protocol, plus the port
/// pair of TCP, UDP, SCTP and UDP-Lite (not of IPv4 fragments, so that every
/// fragment of a datagram hashes alike). The outer 802.1Q tag is skipped.
///
/// No allocation; reads at most the first 58 bytes; any byte slice is
/// accepted (a short frame hashes what it has).
#[inline]
pub fn flow_hash(frame: &[u8]) -> u32 {
    let word = |at: usize| -> Option<u32> {
        frame
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut h = 0x1234_5678u32;
    for at in [0, 4, 8] {
        h = mix(h, word(at).unwrap_or(0));
    }
    // Too short to name its network protocol: hash the addresses only.
    let (l3, ethertype) = network_header(frame).unwrap_or((ETH_HEADER_LEN, 0));
    h = mix(h, u32::from(ethertype));
    let is_l4 = |proto: u8| matches!(proto, 6 | 17 | 132 | 136);
    match ethertype {
        0x0800 => {
            if let (Some(ihl), Some(proto), Some(frag)) = (
                frame.get(l3).map(|b| usize::from(b & 0x0f) * 4),
                frame.get(l3 + 9).copied(),
                frame.get(l3 + 6..l3 + 8),
            ) {
                h = mix(h, word(l3 + 12).unwrap_or(0));
                h = mix(h, word(l3 + 16).unwrap_or(0));
                h = mix(h, u32::from(proto));
                // MF set or a fragment offset: not the only fragment.
                let fragment = frag[0] & 0x3f != 0 || frag[1] != 0;
                if is_l4(proto) && !fragment && ihl >= 20 {
                    h = mix(h, word(l3 + ihl).unwrap_or(0));
                }
            }
        }
        0x86dd => {
            for at in (8..40).step_by(4) {
                h = mix(h, word(l3 + at).unwrap_or(0));
            }
            if let Some(&next) = frame.get(l3 + 6) {
                h = mix(h, u32::from(next));
                if is_l4(next) {
                    h = mix(h, word(l3 + 40).unwrap_or(0));
                }
            }
        }
        _ => {}
    }
    // murmur3's finaliser: every input bit affects every output bit.
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An untagged IPv4 frame header: dst 02:00:00:00:00:02, src
    /// 02:00:00:00:00:01, ethertype 0x0800, then 4 payload bytes.
    static UNTAGGED: [u8; 18] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0xde, 0xad, 0xbe,
        0xef,
    ];

    /// The same frame with an 802.1Q tag PCP 5, DEI 1, VID 100 (TCI 0xb064).
    static TAGGED: [u8; 22] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x81, 0x00, 0xb0, 0x64, 0x08,
        0x00, 0xde, 0xad, 0xbe, 0xef,
    ];

    #[test]
    fn parse_untagged() {
        let m = parse(&UNTAGGED).unwrap();
        assert_eq!(m.dst, MacAddr([2, 0, 0, 0, 0, 2]));
        assert_eq!(m.src, MacAddr([2, 0, 0, 0, 0, 1]));
        assert_eq!(m.tag, None);
        // exactly a header, no payload, is fine
        assert_eq!(parse(&UNTAGGED[..14]).unwrap().tag, None);
    }

    #[test]
    fn parse_tagged() {
        let m = parse(&TAGGED).unwrap();
        assert_eq!(
            m.tag,
            Some(VlanTag {
                tpid: TPID_8021Q,
                pcp: 5,
                dei: true,
                vid: 100
            })
        );
        let mut ad = TAGGED;
        ad[12..14].copy_from_slice(&TPID_8021AD.to_be_bytes());
        assert_eq!(parse(&ad).unwrap().tag.unwrap().tpid, TPID_8021AD);
        assert_eq!(parse(&TAGGED[..18]).unwrap().tag.unwrap().vid, 100);
    }

    #[test]
    fn only_the_outer_tag_is_parsed() {
        let mut qinq = Vec::from(&TAGGED[..16]);
        qinq.extend_from_slice(&[0x81, 0x00, 0x00, 0x07, 0x08, 0x00]);
        let m = parse(&qinq).unwrap();
        assert_eq!(m.tag.unwrap().vid, 100);
    }

    #[test]
    fn runt_and_truncated_tag() {
        for n in 0..14 {
            assert_eq!(parse(&UNTAGGED[..n]), Err(DropReason::Runt), "len {n}");
        }
        for n in 14..18 {
            assert_eq!(parse(&TAGGED[..n]), Err(DropReason::TruncatedTag), "len {n}");
        }
    }

    #[test]
    fn tag_bytes_round_trip() {
        let t = VlanTag {
            tpid: TPID_8021Q,
            pcp: 5,
            dei: true,
            vid: 100,
        };
        assert_eq!(t.to_bytes(), [0x81, 0x00, 0xb0, 0x64]);
        assert_eq!(VlanTag::from_tci(TPID_8021Q, t.tci()), t);
        for tci in [0u16, 1, 0x0fff, 0x1000, 0xe000, 0xffff, 0x2abc] {
            assert_eq!(VlanTag::from_tci(TPID_8021AD, tci).tci(), tci);
        }
        // out-of-range fields are masked, not spilled
        let wild = VlanTag {
            tpid: TPID_8021Q,
            pcp: 9,
            dei: false,
            vid: 0x1fff,
        };
        assert_eq!(wild.tci(), (1 << 13) | 0x0fff);
    }

    #[test]
    fn reserved_range() {
        for last in 0x00..=0x0f {
            assert!(is_reserved(&MacAddr([0x01, 0x80, 0xc2, 0, 0, last])), "{last:#x}");
        }
        for mac in [
            [0x01, 0x80, 0xc2, 0, 0, 0x10],
            [0x01, 0x80, 0xc2, 0, 0, 0x20],
            [0x01, 0x80, 0xc2, 0, 1, 0x00],
            [0x01, 0x00, 0x5e, 0, 0, 0x01],
            [0xff; 6],
            [0x02, 0, 0, 0, 0, 1],
        ] {
            assert!(!is_reserved(&MacAddr(mac)), "{mac:x?}");
        }
    }

    /// An Ethernet + IPv4 + UDP frame (optionally tagged) from port `sport`.
    fn udp4(tag: bool, sport: u16, frag: [u8; 2]) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        if tag {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a]);
        }
        f.extend_from_slice(&[0x08, 0x00]);
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[6..8].copy_from_slice(&frag);
        ip[9] = 17;
        ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
        ip[16..20].copy_from_slice(&[10, 0, 0, 2]);
        f.extend_from_slice(&ip);
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&[0x00, 0x35, 0x00, 0x08, 0x00, 0x00]);
        f
    }

    #[test]
    fn flow_hash_separates_flows_and_ignores_the_tag() {
        let a = flow_hash(&udp4(false, 1000, [0, 0]));
        assert_eq!(a, flow_hash(&udp4(false, 1000, [0, 0])));
        assert_ne!(a, flow_hash(&udp4(false, 1001, [0, 0])));
        // the same flow tagged hashes alike: the tag is skipped
        assert_eq!(a, flow_hash(&udp4(true, 1000, [0, 0])));
        // DF alone is not a fragment
        assert_eq!(a, flow_hash(&udp4(false, 1000, [0x40, 0])));
        // fragments: ports are not read, so both pieces hash alike
        let first = flow_hash(&udp4(false, 1000, [0x20, 0]));
        let later = flow_hash(&udp4(false, 2000, [0x00, 0x10]));
        assert_eq!(first, later);
        // many source ports spread over many hashes
        let hashes: std::collections::BTreeSet<u32> =
            (0..256).map(|p| flow_hash(&udp4(false, p, [0, 0]))).collect();
        assert_eq!(hashes.len(), 256);
        // never panics on short or odd input
        for n in 0..60 {
            let f = udp4(true, 7, [0, 0]);
            let _ = flow_hash(&f[..n.min(f.len())]);
        }
        let _ = flow_hash(&[0x86; 20]);
    }
}

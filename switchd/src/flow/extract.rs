//! A frame's header fields into a [`FlowKey`]: what OVS's `flow_extract()`
//! (`lib/flow.c`, `miniflow_extract`) does for an Ethernet frame, field for
//! field, so that a flow table written for OVS matches the same frames here.
//!
//! What is read, in order:
//! - `dl_dst`, `dl_src`; one 802.1Q/802.1ad outer tag into `vlan_tci` with
//!   [`VLAN_CFI`] forced on (so the wire's DEI bit is not kept, as OVS; `0`
//!   means untagged); a second tag is not parsed: its TPID becomes `dl_type`
//!   (OVS with its default `vlan-limit=1`);
//! - `dl_type`: the ethertype after the tag; an 802.3 length (< 0x600) gives
//!   0x05ff (OVS's `FLOW_DL_TYPE_NONE`), unless an LLC/SNAP header with OUI
//!   0 follows, whose ethertype is then used (OVS's `parse_ethertype`);
//! - IPv4 (header checked: IHL ≥ 5, total length within the frame; Ethernet
//!   padding after the datagram is ignored), IPv6 (payload length within the
//!   frame; hop-by-hop, routing, destination-options and AH headers skipped;
//!   a fragment header gives the protocol of the first fragment, and
//!   `nw_proto=44` with no L4 fields for a later one, as OVS);
//! - TCP (ports, 12 flag bits), UDP, SCTP ports; ICMP / IGMP / ICMPv6 type
//!   and code in `tp_src`/`tp_dst`; for an ICMPv6 neighbour solicitation or
//!   advertisement (code 0) the ND target, and the source/target link-layer
//!   address options into `arp_sha`/`arp_tha` (OVS's `nd_sll`/`nd_tll`
//!   overlay them);
//! - ARP and RARP for Ethernet/IPv4 only: `arp_op` in `nw_proto`'s place (if
//!   it fits 8 bits), `arp_spa`/`arp_tpa` in `nw_src`/`nw_dst`, `arp_sha`,
//!   `arp_tha`.
//!
//! A header that is cut short or inconsistent stops the parse where OVS's
//! does: the fields found before it are kept and the deeper ones stay 0.
//!
//! Encoding in the key (the contract of [`super::key`]): a MAC address is
//! the 48-bit big-endian number of its six bytes, an IPv4 address the
//! 32-bit big-endian number, an IPv6 address the 128-bit big-endian number.
//!
//! Cost: no allocation, no state; every read goes through a bounds-checked
//! `get`, so any byte slice is accepted (fuzzed below with random bytes).

use super::key::{Field, FlowKey, VLAN_CFI};
use crate::wire::{is_tpid, ETH_HEADER_LEN, VLAN_TAG_LEN};

/// Smallest ethertype; smaller values are 802.3 lengths.
const ETH_TYPE_MIN: u16 = 0x0600;
/// `dl_type` of a frame without an ethertype (OVS's `FLOW_DL_TYPE_NONE`).
pub const DL_TYPE_NONE: u16 = 0x05ff;

/// Ethertypes read beyond L2.
const ETH_TYPE_IPV4: u16 = 0x0800;
const ETH_TYPE_IPV6: u16 = 0x86dd;
const ETH_TYPE_ARP: u16 = 0x0806;
const ETH_TYPE_RARP: u16 = 0x8035;

/// IP protocol numbers.
const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_ICMP: u8 = 1;
const IPPROTO_IGMP: u8 = 2;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ROUTING: u8 = 43;
const IPPROTO_FRAGMENT: u8 = 44;
const IPPROTO_AH: u8 = 51;
const IPPROTO_ICMPV6: u8 = 58;
const IPPROTO_DSTOPTS: u8 = 60;
const IPPROTO_SCTP: u8 = 132;

/// ICMPv6 neighbour solicitation / advertisement.
const ND_NEIGHBOR_SOLICIT: u8 = 135;
const ND_NEIGHBOR_ADVERT: u8 = 136;
/// ND options carrying a link-layer address.
const ND_OPT_SOURCE_LINKADDR: u8 = 1;
const ND_OPT_TARGET_LINKADDR: u8 = 2;

/// The key of `frame` received on OpenFlow port `in_port` (with tunnel id
/// `tun_id`, 0 when not from a tunnel). Metadata and registers are 0.
#[inline]
pub fn extract(frame: &[u8], in_port: u16, tun_id: u64) -> FlowKey {
    let mut key = FlowKey::ZERO;
    extract_into(&mut key, frame, in_port, tun_id);
    key
}

/// [`extract`] into an existing key (overwritten entirely), for a caller
/// that keeps one key per frame slot (no 152-byte copy on return).
#[inline]
pub fn extract_into(key: &mut FlowKey, frame: &[u8], in_port: u16, tun_id: u64) {
    *key = FlowKey::ZERO;
    put(key, Field::InPort, u64::from(in_port));
    put(key, Field::TunId, tun_id);
    // `None` only means "stopped early"; what was found so far is kept.
    let _ = ethernet(key, frame);
}

// How the hot path stays short (a TCP/IPv4 frame is ~100 instructions):
// each header is taken as a fixed-size array (`first_chunk`), so one
// length check covers all its fields and the reads need no more checks;
// fields are ORed into the zeroed key at constant places (one
// read-modify-write instruction each); Ethernet, IPv4 and L4 inline into
// `extract_into`, the rarer IPv6, ARP and ND stay out of line.

/// ORs `value` into `field` of a key where the field is still 0. `field`
/// is a constant at every call, so this inlines to one shift and OR.
#[inline(always)]
fn put(key: &mut FlowKey, field: Field, value: u64) {
    let p = field.place();
    debug_assert!(p.bits <= 64);
    key.0[p.word as usize] |= value << p.shift;
}

/// Writes a 128-bit field (IPv6 addresses, ND target).
#[inline(always)]
fn put128(key: &mut FlowKey, field: Field, bytes: &[u8; 16]) {
    let p = field.place();
    debug_assert_eq!(p.bits, 128);
    let v = u128::from_be_bytes(*bytes);
    key.0[p.word as usize] = (v >> 64) as u64;
    key.0[p.word as usize + 1] = v as u64;
}

/// Big-endian reads at fixed offsets of a header already known to be
/// long enough (`N` is the header's length; the offsets are constants).
#[inline(always)]
fn be16<const N: usize>(h: &[u8; N], at: usize) -> u16 {
    u16::from_be_bytes([h[at], h[at + 1]])
}

#[inline(always)]
fn be32<const N: usize>(h: &[u8; N], at: usize) -> u32 {
    u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]])
}

/// The MAC address at `at` as a 48-bit number.
#[inline(always)]
fn mac48<const N: usize>(h: &[u8; N], at: usize) -> u64 {
    u64::from_be_bytes([0, 0, h[at], h[at + 1], h[at + 2], h[at + 3], h[at + 4], h[at + 5]])
}

/// The 16 bytes at `at` (an IPv6 address), within a checked header.
#[inline(always)]
fn addr16<const N: usize>(h: &[u8; N], at: usize) -> &[u8; 16] {
    h[at..at + 16].try_into().expect("16 bytes")
}

#[inline(always)]
fn ethernet(key: &mut FlowKey, frame: &[u8]) -> Option<()> {
    // OVS: no field at all (but the metadata) without a whole header.
    let eth = frame.first_chunk::<ETH_HEADER_LEN>()?;
    put(key, Field::DlDst, mac48(eth, 0));
    put(key, Field::DlSrc, mac48(eth, 6));

    let mut at = 12;
    let mut ethertype = be16(eth, 12);
    // A tag counts only with the ethertype behind it (OVS's `parse_vlan`
    // wants 6 bytes); a cut tag leaves its TPID as `dl_type`.
    if is_tpid(ethertype) {
        if let Some(tag) = frame.get(at + 2..).and_then(|d| d.first_chunk::<VLAN_TAG_LEN>()) {
            put(key, Field::VlanTci, u64::from(be16(tag, 0) | VLAN_CFI));
            at += VLAN_TAG_LEN;
            ethertype = be16(tag, 2);
        }
    }
    at += 2;

    let dl_type = if ethertype >= ETH_TYPE_MIN {
        ethertype
    } else {
        // 802.3 frame: LLC (DSAP, SSAP, control) + SNAP (OUI, type).
        match frame.get(at..at + 8) {
            Some([0xaa, 0xaa, 0x03, 0, 0, 0, t0, t1]) => {
                let t = u16::from_be_bytes([*t0, *t1]);
                if t >= ETH_TYPE_MIN {
                    at += 8;
                    t
                } else {
                    DL_TYPE_NONE
                }
            }
            _ => DL_TYPE_NONE,
        }
    };
    put(key, Field::DlType, u64::from(dl_type));

    let l3 = frame.get(at..)?;
    match dl_type {
        ETH_TYPE_IPV4 => ipv4(key, l3),
        ETH_TYPE_IPV6 => ipv6(key, l3),
        ETH_TYPE_ARP | ETH_TYPE_RARP => arp(key, l3),
        _ => None,
    }
}

#[inline(always)]
fn ipv4(key: &mut FlowKey, d: &[u8]) -> Option<()> {
    // OVS's checks: a 20-byte header, IHL ≥ 5, the header and the total
    // length within the frame; otherwise no L3 field at all.
    const MIN: usize = 20;
    let h = d.first_chunk::<MIN>()?;
    let ihl = usize::from(h[0] & 0x0f) * 4;
    let tot_len = usize::from(be16(h, 2));
    if ihl < MIN || d.len() < ihl || tot_len > d.len() || ihl > tot_len || d.len() - tot_len > 0xffff {
        return None;
    }

    // nw_src and nw_dst share a word: one OR.
    debug_assert_eq!(Field::NwDst.place().shift, Field::NwSrc.place().shift + 32);
    put(
        key,
        Field::NwSrc,
        u64::from(be32(h, 12)) | u64::from(be32(h, 16)) << 32,
    );
    put(key, Field::NwTos, u64::from(h[1]));
    put(key, Field::NwTtl, u64::from(h[8]));
    let proto = h[9];
    put(key, Field::NwProto, u64::from(proto));
    // A fragment offset means a later fragment: no L4 header in it.
    if be16(h, 6) & 0x1fff != 0 {
        return None;
    }
    // Never read the Ethernet padding after the datagram.
    l4(key, proto, &d[ihl..tot_len])
}

#[inline(never)]
fn ipv6(key: &mut FlowKey, d: &[u8]) -> Option<()> {
    const HDR: usize = 40;
    let h = d.first_chunk::<HDR>()?;
    let plen = usize::from(be16(h, 4));
    let rest = &d[HDR..];
    if plen > rest.len() || rest.len() - plen > 0xffff {
        return None;
    }
    let rest = &rest[..plen];

    put128(key, Field::Ipv6Src, addr16(h, 8));
    put128(key, Field::Ipv6Dst, addr16(h, 24));
    let tc_flow = be32(h, 0);
    put(key, Field::Ipv6Label, u64::from(tc_flow & 0x000f_ffff));

    // As OVS, a cut extension header leaves the addresses and label only.
    let (proto, rest, later) = ipv6_ext_headers(h[6], rest)?;
    put(key, Field::NwTos, u64::from((tc_flow >> 20) as u8));
    put(key, Field::NwTtl, u64::from(h[7]));
    put(key, Field::NwProto, u64::from(proto));
    if later {
        return None;
    }
    l4(key, proto, rest)
}

/// Skips IPv6 extension headers from `proto` on: returns the upper-layer
/// protocol, its bytes, and whether this is a later fragment (then the
/// protocol is [`IPPROTO_FRAGMENT`], as OVS reports it). `None` when a
/// header is cut. Each round consumes at least 8 bytes, so this ends.
fn ipv6_ext_headers(mut proto: u8, mut rest: &[u8]) -> Option<(u8, &[u8], bool)> {
    loop {
        if !matches!(
            proto,
            IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS | IPPROTO_AH | IPPROTO_FRAGMENT
        ) {
            return Some((proto, rest, false));
        }
        // Every extension header is at least 8 bytes (OVS checks that first).
        let h = rest.first_chunk::<8>()?;
        let (len, offlg) = match proto {
            IPPROTO_AH => ((usize::from(h[1]) + 2) * 4, 0),
            IPPROTO_FRAGMENT => (8, be16(h, 2)),
            _ => ((usize::from(h[1]) + 1) * 8, 0),
        };
        proto = h[0];
        rest = rest.get(len..)?;
        // Offset bits (the top 13) set: a later fragment.
        if offlg & 0xfff8 != 0 {
            return Some((IPPROTO_FRAGMENT, rest, true));
        }
    }
}

/// The transport fields of `d`, whose protocol is `proto` (IPv4 or IPv6:
/// OVS shares this step between the two).
#[inline(always)]
fn l4(key: &mut FlowKey, proto: u8, d: &[u8]) -> Option<()> {
    // tp_src and tp_dst share a word: one OR of both.
    debug_assert_eq!(Field::TpDst.place().shift, Field::TpSrc.place().shift + 16);
    let ports = match proto {
        IPPROTO_TCP => {
            let h = d.first_chunk::<20>()?;
            put(key, Field::TcpFlags, u64::from(be16(h, 12) & 0x0fff));
            u64::from(be16(h, 0)) | u64::from(be16(h, 2)) << 16
        }
        IPPROTO_UDP => {
            let h = d.first_chunk::<8>()?;
            u64::from(be16(h, 0)) | u64::from(be16(h, 2)) << 16
        }
        IPPROTO_SCTP => {
            let h = d.first_chunk::<12>()?;
            u64::from(be16(h, 0)) | u64::from(be16(h, 2)) << 16
        }
        IPPROTO_ICMP | IPPROTO_IGMP => {
            let h = d.first_chunk::<8>()?;
            u64::from(h[0]) | u64::from(h[1]) << 16
        }
        IPPROTO_ICMPV6 => icmpv6(key, d)?,
        _ => return None,
    };
    put(key, Field::TpSrc, ports);
    Some(())
}

/// ICMPv6 type and code (as `tp_src`/`tp_dst` bits), and ND's fields for
/// a neighbour solicitation or advertisement.
#[inline(never)]
fn icmpv6(key: &mut FlowKey, d: &[u8]) -> Option<u64> {
    let h = d.first_chunk::<8>()?;
    let (ty, code) = (h[0], h[1]);
    if code == 0 && (ty == ND_NEIGHBOR_SOLICIT || ty == ND_NEIGHBOR_ADVERT) {
        nd(key, &d[8..]);
    }
    Some(u64::from(ty) | u64::from(code) << 16)
}

/// The body of a neighbour solicitation/advertisement after its 8-byte
/// ICMPv6 header: the target address, then options. As OVS: a cut or
/// zero-length option ends the walk keeping what was found; a repeated
/// link-layer address option voids the target and both addresses.
fn nd(key: &mut FlowKey, d: &[u8]) {
    let Some(target) = d.first_chunk::<16>() else {
        return;
    };
    let (mut sll, mut tll) = (0u64, 0u64);
    let mut opts = &d[16..];
    while let Some(opt) = opts.first_chunk::<8>() {
        let opt_len = usize::from(opt[1]) * 8;
        if opt_len == 0 || opt_len > opts.len() {
            break;
        }
        let slot = match (opt[0], opt_len) {
            (ND_OPT_SOURCE_LINKADDR, 8) => Some(&mut sll),
            (ND_OPT_TARGET_LINKADDR, 8) => Some(&mut tll),
            _ => None,
        };
        if let Some(slot) = slot {
            if *slot != 0 {
                return;
            }
            *slot = mac48(opt, 2);
        }
        opts = &opts[opt_len..];
    }
    put128(key, Field::NdTarget, target);
    put(key, Field::ArpSha, sll);
    put(key, Field::ArpTha, tll);
}

#[inline(never)]
fn arp(key: &mut FlowKey, d: &[u8]) -> Option<()> {
    // Ethernet (1) / IPv4, 6-byte hardware and 4-byte protocol addresses.
    let h = d.first_chunk::<28>()?;
    if be16(h, 0) != 1 || be16(h, 2) != ETH_TYPE_IPV4 || h[4] != 6 || h[5] != 4 {
        return None;
    }
    let op = be16(h, 6);
    put(key, Field::ArpSpa, u64::from(be32(h, 14)));
    put(key, Field::ArpTpa, u64::from(be32(h, 24)));
    // Only the lower 8 bits are matchable; a larger opcode is left out.
    if op <= 0xff {
        put(key, Field::ArpOp, u64::from(op));
    }
    put(key, Field::ArpSha, mac48(h, 8));
    put(key, Field::ArpTha, mac48(h, 18));
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{
        ArpHardwareId, ArpOperation, ArpPacket, EtherType, IpHeaders, IpNumber, Ipv6FlowLabel,
        Ipv6FragmentHeader, Ipv6Header, Ipv6RawExtHeader, PacketBuilder, SingleVlanHeader, VlanHeader,
        VlanId, VlanPcp,
    };
    use proptest::prelude::*;

    const SRC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
    const DST: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
    const SRC6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const DST6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    fn get(k: &FlowKey, f: Field) -> u128 {
        k.get(f)
    }

    fn tcp4() -> Vec<u8> {
        let b = PacketBuilder::ethernet2(SRC, DST)
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(1234, 80, 1, 1000)
            .syn()
            .ack(5);
        let mut v = Vec::new();
        b.write(&mut v, b"hello").unwrap();
        v
    }

    fn ipv6_hdr(next: u8) -> Ipv6Header {
        Ipv6Header {
            traffic_class: 0xb8,
            flow_label: Ipv6FlowLabel::try_new(0x12345).unwrap(),
            payload_length: 0,
            next_header: IpNumber(next),
            hop_limit: 33,
            source: SRC6,
            destination: DST6,
        }
    }

    #[test]
    fn tcp_ipv4() {
        let f = tcp4();
        let k = extract(&f, 7, 0x55);
        assert_eq!(get(&k, Field::InPort), 7);
        assert_eq!(get(&k, Field::TunId), 0x55);
        assert_eq!(get(&k, Field::DlSrc), 0x0200_0000_0001);
        assert_eq!(get(&k, Field::DlDst), 0x0200_0000_0002);
        assert_eq!(get(&k, Field::VlanTci), 0);
        assert_eq!(k.dl_type(), 0x0800);
        assert_eq!(get(&k, Field::NwSrc), 0x0a00_0001);
        assert_eq!(get(&k, Field::NwDst), 0x0a00_0002);
        assert_eq!(k.nw_proto(), 6);
        assert_eq!(get(&k, Field::NwTtl), 64);
        assert_eq!(get(&k, Field::TpSrc), 1234);
        assert_eq!(get(&k, Field::TpDst), 80);
        assert_eq!(get(&k, Field::TcpFlags), 0x012); // SYN | ACK
                                                     // Nothing else is set.
        let mut rest = k;
        for f in [
            Field::InPort,
            Field::TunId,
            Field::DlSrc,
            Field::DlDst,
            Field::DlType,
            Field::NwSrc,
            Field::NwDst,
            Field::NwProto,
            Field::NwTtl,
            Field::TpSrc,
            Field::TpDst,
            Field::TcpFlags,
        ] {
            rest.set(f, 0);
        }
        assert!(rest.is_zero(), "{rest:?}");
        // extract_into overwrites everything.
        let mut k2 = FlowKey([u64::MAX; super::super::key::KEY_WORDS]);
        extract_into(&mut k2, &f, 7, 0x55);
        assert_eq!(k2, k);
    }

    #[test]
    fn tos_and_ecn() {
        let mut f = tcp4();
        f[14 + 1] = 0xb9;
        let k = extract(&f, 1, 0);
        assert_eq!(get(&k, Field::NwTos), 0xb9);
        assert_eq!(get(&k, Field::IpDscp), 0xb9 >> 2);
        assert_eq!(get(&k, Field::NwEcn), 1);
    }

    #[test]
    fn vlan_tag_sets_cfi_and_inner_type() {
        let b = PacketBuilder::ethernet2(SRC, DST)
            .vlan(VlanHeader::Single(SingleVlanHeader {
                pcp: VlanPcp::try_new(5).unwrap(),
                drop_eligible_indicator: false,
                vlan_id: VlanId::try_new(100).unwrap(),
                ether_type: EtherType(0),
            }))
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(53, 5353);
        let mut f = Vec::new();
        b.write(&mut f, &[0; 4]).unwrap();
        let k = extract(&f, 1, 0);
        assert_eq!(k.vlan_tci(), 0x1000 | (5 << 13) | 100);
        assert_eq!(get(&k, Field::VlanVid), 100);
        assert_eq!(get(&k, Field::VlanPcp), 5);
        assert_eq!(k.dl_type(), 0x0800);
        assert_eq!(k.nw_proto(), 17);
        assert_eq!((get(&k, Field::TpSrc), get(&k, Field::TpDst)), (53, 5353));

        // 802.1ad outer tag; the wire's DEI bit is replaced by the CFI meaning.
        f[12..14].copy_from_slice(&0x88a8u16.to_be_bytes());
        f[14] |= 0x10;
        assert_eq!(extract(&f, 1, 0).vlan_tci(), 0x1000 | (5 << 13) | 100);

        // QinQ: only the outer tag; the inner TPID is dl_type.
        let mut q = f[..16].to_vec();
        q.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
        q.extend_from_slice(&f[16..]);
        let k = extract(&q, 1, 0);
        assert_eq!(k.vlan_tci(), 0x1000 | (5 << 13) | 100);
        assert_eq!(k.dl_type(), 0x8100);
        assert_eq!(k.nw_proto(), 0);

        // A tag without the ethertype behind it: the TPID is dl_type.
        let k = extract(&f[..17], 1, 0);
        assert_eq!((k.vlan_tci(), k.dl_type()), (0, 0x88a8));
        let k = extract(&f[..18], 1, 0);
        assert_eq!((k.vlan_tci() & 0xfff, k.dl_type()), (100, 0x0800));
    }

    #[test]
    fn short_frames_and_8023() {
        let f = tcp4();
        let k = extract(&f[..13], 3, 9);
        let mut want = FlowKey::ZERO;
        want.set(Field::InPort, 3);
        want.set(Field::TunId, 9);
        assert_eq!(k, want);

        let mut llc = f[..14].to_vec();
        llc[12..14].copy_from_slice(&46u16.to_be_bytes());
        llc.extend_from_slice(&[0x42, 0x42, 0x03, 0, 0, 0, 0, 0]);
        let k = extract(&llc, 1, 0);
        assert_eq!(k.dl_type(), DL_TYPE_NONE);
        assert_eq!(get(&k, Field::DlSrc), 0x0200_0000_0001);

        // LLC/SNAP with OUI 0 carries an ethertype, and L3 follows it.
        let mut snap = f[..14].to_vec();
        snap[12..14].copy_from_slice(&100u16.to_be_bytes());
        snap.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        snap.extend_from_slice(&f[14..]);
        let k = extract(&snap, 1, 0);
        assert_eq!(k.dl_type(), 0x0800);
        assert_eq!(get(&k, Field::TpDst), 80);
        // ... but a SNAP ethertype < 0x600 is none.
        snap[20..22].copy_from_slice(&0x0500u16.to_be_bytes());
        assert_eq!(extract(&snap, 1, 0).dl_type(), DL_TYPE_NONE);
        // A truncated LLC/SNAP header too.
        assert_eq!(extract(&snap[..21], 1, 0).dl_type(), DL_TYPE_NONE);
    }

    #[test]
    fn ipv4_sanity_checks() {
        let f = tcp4();
        let only_l2 = |k: &FlowKey| {
            let mut l2 = extract(&f[..14], 1, 0);
            l2.set(Field::DlType, 0x0800);
            assert_eq!(*k, l2);
        };
        // Truncated IP header, bad IHL, total length beyond the frame, IHL
        // beyond total length.
        only_l2(&extract(&f[..14 + 19], 1, 0));
        let mut bad = f.clone();
        bad[14] = 0x44;
        only_l2(&extract(&bad, 1, 0));
        let mut bad = f.clone();
        bad[16..18].copy_from_slice(&((f.len() - 14 + 1) as u16).to_be_bytes());
        only_l2(&extract(&bad, 1, 0));
        let mut bad = f.clone();
        bad[16..18].copy_from_slice(&19u16.to_be_bytes());
        only_l2(&extract(&bad, 1, 0));

        // Ethernet padding after the datagram is ignored...
        let mut padded = f.clone();
        padded.extend_from_slice(&[0xff; 20]);
        assert_eq!(extract(&padded, 1, 0), extract(&f, 1, 0));
        // ... and a total length that cuts the TCP header leaves L4 empty.
        let mut short = f.clone();
        short[16..18].copy_from_slice(&(20u16 + 19).to_be_bytes());
        let k = extract(&short, 1, 0);
        assert_eq!(k.nw_proto(), 6);
        assert_eq!(get(&k, Field::NwDst), 0x0a00_0002);
        assert_eq!((get(&k, Field::TpDst), get(&k, Field::TcpFlags)), (0, 0));
    }

    #[test]
    fn ipv4_options_and_fragments() {
        // IHL 6: one option word between the header and TCP.
        let f = tcp4();
        let mut o = f[..14 + 20].to_vec();
        o.extend_from_slice(&[1, 1, 1, 0]);
        o.extend_from_slice(&f[14 + 20..]);
        o[14] = 0x46;
        let tot = (o.len() - 14) as u16;
        o[16..18].copy_from_slice(&tot.to_be_bytes());
        let k = extract(&o, 1, 0);
        assert_eq!((get(&k, Field::TpSrc), get(&k, Field::TpDst)), (1234, 80));

        // First fragment (MF set, offset 0): ports. Later fragment: none.
        let mut first = f.clone();
        first[20] = 0x20;
        assert_eq!(get(&extract(&first, 1, 0), Field::TpDst), 80);
        let mut later = f.clone();
        later[21] = 0x10;
        let k = extract(&later, 1, 0);
        assert_eq!(k.nw_proto(), 6);
        assert_eq!(
            (
                get(&k, Field::TpSrc),
                get(&k, Field::TpDst),
                get(&k, Field::TcpFlags)
            ),
            (0, 0, 0)
        );
    }

    #[test]
    fn udp_sctp_icmp_igmp() {
        let mut v = Vec::new();
        PacketBuilder::ethernet2(SRC, DST)
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .icmpv4_echo_request(1, 2)
            .write(&mut v, &[])
            .unwrap();
        let k = extract(&v, 1, 0);
        assert_eq!(k.nw_proto(), 1);
        assert_eq!((get(&k, Field::IcmpType), get(&k, Field::IcmpCode)), (8, 0));
        assert_eq!((get(&k, Field::TpSrc), get(&k, Field::TpDst)), (8, 0));

        let mut v = Vec::new();
        PacketBuilder::ethernet2(SRC, DST)
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .icmpv4_raw(3, 4, [0; 4])
            .write(&mut v, &[])
            .unwrap();
        let k = extract(&v, 1, 0);
        assert_eq!((get(&k, Field::IcmpType), get(&k, Field::IcmpCode)), (3, 4));
        // A cut ICMP header: no type/code.
        assert_eq!(get(&extract(&v[..v.len() - 1], 1, 0), Field::IcmpType), 0);

        // SCTP: no builder in etherparse; take a UDP frame and relabel it.
        let mut v = Vec::new();
        PacketBuilder::ethernet2(SRC, DST)
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5000, 6000)
            .write(&mut v, &[0; 4])
            .unwrap();
        let k = extract(&v, 1, 0);
        assert_eq!(
            (k.nw_proto(), get(&k, Field::TpSrc), get(&k, Field::TpDst)),
            (17, 5000, 6000)
        );
        v[14 + 9] = 132;
        let k = extract(&v, 1, 0);
        assert_eq!(
            (k.nw_proto(), get(&k, Field::TpSrc), get(&k, Field::TpDst)),
            (132, 5000, 6000)
        );
        // 12 bytes needed for SCTP: cut to 11.
        let mut cut = v[..14 + 20 + 11].to_vec();
        cut[16..18].copy_from_slice(&31u16.to_be_bytes());
        assert_eq!(get(&extract(&cut, 1, 0), Field::TpSrc), 0);
        // IGMP (OVS reads its type and code like ICMP's).
        v[14 + 9] = 2;
        v[14 + 20] = 0x16;
        v[14 + 21] = 0;
        let k = extract(&v, 1, 0);
        assert_eq!((get(&k, Field::TpSrc), get(&k, Field::TpDst)), (0x16, 0));
    }

    #[test]
    fn tcp6_fields() {
        let mut v = Vec::new();
        PacketBuilder::ethernet2(SRC, DST)
            .ip(IpHeaders::Ipv6(ipv6_hdr(6), Default::default()))
            .tcp(40000, 443, 7, 100)
            .fin()
            .write(&mut v, b"x")
            .unwrap();
        let k = extract(&v, 2, 0);
        assert_eq!(k.dl_type(), 0x86dd);
        assert_eq!(get(&k, Field::Ipv6Src), u128::from_be_bytes(SRC6));
        assert_eq!(get(&k, Field::Ipv6Dst), u128::from_be_bytes(DST6));
        assert_eq!(get(&k, Field::Ipv6Label), 0x12345);
        assert_eq!(get(&k, Field::NwTos), 0xb8);
        assert_eq!(get(&k, Field::NwTtl), 33);
        assert_eq!(k.nw_proto(), 6);
        assert_eq!((get(&k, Field::TpSrc), get(&k, Field::TpDst)), (40000, 443));
        assert_eq!(get(&k, Field::TcpFlags), 0x001);
        // IPv4 fields stay empty.
        assert_eq!(get(&k, Field::NwSrc), 0);

        // Payload length beyond the frame: nothing from L3.
        let mut bad = v.clone();
        bad[18..20].copy_from_slice(&1000u16.to_be_bytes());
        let k = extract(&bad, 2, 0);
        assert_eq!((get(&k, Field::Ipv6Src), k.nw_proto()), (0, 0));
        // Padding after the payload is ignored.
        let mut padded = v.clone();
        padded.extend_from_slice(&[0xee; 10]);
        assert_eq!(extract(&padded, 2, 0), extract(&v, 2, 0));
    }

    #[test]
    fn ipv6_extension_headers_are_skipped() {
        let exts = etherparse::Ipv6Extensions {
            hop_by_hop_options: Some(Ipv6RawExtHeader::new_raw(IpNumber(0), &[0; 14]).unwrap()),
            destination_options: Some(Ipv6RawExtHeader::new_raw(IpNumber(0), &[1, 4, 0, 0, 0, 0]).unwrap()),
            ..Default::default()
        };
        let mut v = Vec::new();
        PacketBuilder::ethernet2(SRC, DST)
            .ip(IpHeaders::Ipv6(ipv6_hdr(0), exts))
            .udp(1, 2)
            .write(&mut v, &[0; 3])
            .unwrap();
        assert_eq!(v[14 + 6], 0, "hop-by-hop first");
        let k = extract(&v, 1, 0);
        assert_eq!(k.nw_proto(), 17);
        assert_eq!((get(&k, Field::TpSrc), get(&k, Field::TpDst)), (1, 2));

        // Cut inside the extension headers: addresses and label only.
        let mut cut = v[..14 + 40 + 20].to_vec();
        cut[18..20].copy_from_slice(&20u16.to_be_bytes());
        let k = extract(&cut, 1, 0);
        assert_eq!(get(&k, Field::Ipv6Src), u128::from_be_bytes(SRC6));
        assert_eq!(get(&k, Field::Ipv6Label), 0x12345);
        assert_eq!(
            (k.nw_proto(), get(&k, Field::NwTtl), get(&k, Field::NwTos)),
            (0, 0, 0)
        );
    }

    #[test]
    fn ipv6_fragments() {
        let build = |offset: u16, more: bool| {
            let exts = etherparse::Ipv6Extensions {
                fragment: Some(Ipv6FragmentHeader::new(
                    IpNumber(0),
                    etherparse::IpFragOffset::try_new(offset).unwrap(),
                    more,
                    77,
                )),
                ..Default::default()
            };
            let mut v = Vec::new();
            PacketBuilder::ethernet2(SRC, DST)
                .ip(IpHeaders::Ipv6(ipv6_hdr(44), exts))
                .udp(7, 9)
                .write(&mut v, &[0; 8])
                .unwrap();
            v
        };
        // First fragment: the protocol inside, with ports.
        let k = extract(&build(0, true), 1, 0);
        assert_eq!(
            (k.nw_proto(), get(&k, Field::TpSrc), get(&k, Field::TpDst)),
            (17, 7, 9)
        );
        // Atomic fragment (offset 0, no MF): the same.
        assert_eq!(extract(&build(0, false), 1, 0).nw_proto(), 17);
        // Later fragment: nw_proto is 44 (OVS), no ports, but L3 is there.
        let k = extract(&build(100, false), 1, 0);
        assert_eq!((k.nw_proto(), get(&k, Field::TpSrc)), (44, 0));
        assert_eq!(get(&k, Field::NwTtl), 33);
    }

    #[test]
    fn icmpv6_and_nd() {
        let mut v = Vec::new();
        PacketBuilder::ethernet2(SRC, DST)
            .ip(IpHeaders::Ipv6(ipv6_hdr(58), Default::default()))
            .icmpv6_echo_request(1, 1)
            .write(&mut v, &[])
            .unwrap();
        let k = extract(&v, 1, 0);
        assert_eq!(k.nw_proto(), 58);
        assert_eq!((get(&k, Field::Icmpv6Type), get(&k, Field::Icmpv6Code)), (128, 0));
        assert_eq!(get(&k, Field::NdTarget), 0);

        let target: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
        let nd = |ty: u8, code: u8, opts: &[u8]| {
            let mut body = target.to_vec();
            body.extend_from_slice(opts);
            let mut v = Vec::new();
            PacketBuilder::ethernet2(SRC, DST)
                .ip(IpHeaders::Ipv6(ipv6_hdr(58), Default::default()))
                .icmpv6_raw(ty, code, [0; 4])
                .write(&mut v, &body)
                .unwrap();
            extract(&v, 1, 0)
        };
        let sll = [1, 1, 0x02, 0, 0, 0, 0, 0x0a];
        let tll = [2, 1, 0x02, 0, 0, 0, 0, 0x0b];
        let k = nd(135, 0, &sll);
        assert_eq!(get(&k, Field::Icmpv6Type), 135);
        assert_eq!(get(&k, Field::NdTarget), u128::from_be_bytes(target));
        assert_eq!(
            (get(&k, Field::ArpSha), get(&k, Field::ArpTha)),
            (0x0200_0000_000a, 0)
        );
        let k = nd(136, 0, &[&tll[..], &[9, 1, 0, 0, 0, 0, 0, 0][..]].concat());
        assert_eq!(
            (get(&k, Field::ArpSha), get(&k, Field::ArpTha)),
            (0, 0x0200_0000_000b)
        );
        assert_eq!(get(&k, Field::NdTarget), u128::from_be_bytes(target));
        // Repeated option: target and addresses voided, type kept.
        let k = nd(135, 0, &[sll, sll].concat());
        assert_eq!(
            (
                get(&k, Field::NdTarget),
                get(&k, Field::ArpSha),
                get(&k, Field::Icmpv6Type)
            ),
            (0, 0, 135)
        );
        // A zero-length option stops the walk, keeping the target.
        let k = nd(135, 0, &[0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(get(&k, Field::NdTarget), u128::from_be_bytes(target));
        // Code != 0: not ND.
        let k = nd(135, 1, &sll);
        assert_eq!((get(&k, Field::NdTarget), get(&k, Field::Icmpv6Code)), (0, 1));
    }

    #[test]
    fn arp_and_rarp() {
        let pkt = ArpPacket::new(
            ArpHardwareId::ETHERNET,
            EtherType::IPV4,
            ArpOperation::REQUEST,
            &SRC,
            &[10, 0, 0, 1],
            &[0; 6],
            &[10, 0, 0, 2],
        )
        .unwrap();
        let mut v = Vec::new();
        PacketBuilder::ethernet2(SRC, [0xff; 6])
            .arp(pkt)
            .write(&mut v)
            .unwrap();
        let k = extract(&v, 4, 0);
        assert_eq!(k.dl_type(), 0x0806);
        assert_eq!(get(&k, Field::ArpOp), 1);
        assert_eq!(get(&k, Field::ArpSpa), 0x0a00_0001);
        assert_eq!(get(&k, Field::ArpTpa), 0x0a00_0002);
        assert_eq!(get(&k, Field::ArpSha), 0x0200_0000_0001);
        assert_eq!(get(&k, Field::ArpTha), 0);
        assert_eq!(get(&k, Field::DlDst), 0xffff_ffff_ffff);

        let mut rarp = v.clone();
        rarp[12..14].copy_from_slice(&0x8035u16.to_be_bytes());
        rarp[14 + 7] = 3;
        let k = extract(&rarp, 4, 0);
        assert_eq!((k.dl_type(), get(&k, Field::ArpOp)), (0x8035, 3));

        // An opcode over 255 is not recorded; the addresses are.
        let mut big = v.clone();
        big[14 + 6] = 1;
        let k = extract(&big, 4, 0);
        assert_eq!((get(&k, Field::ArpOp), get(&k, Field::ArpSpa)), (0, 0x0a00_0001));
        // Not Ethernet/IPv4, or cut: nothing past dl_type.
        for (at, val) in [(14 + 1, 6u8), (14 + 3, 0xdd), (14 + 4, 8), (14 + 5, 16)] {
            let mut odd = v.clone();
            odd[at] = val;
            let k = extract(&odd, 4, 0);
            assert_eq!(
                (get(&k, Field::ArpSpa), get(&k, Field::ArpSha)),
                (0, 0),
                "byte {at}"
            );
        }
        assert_eq!(get(&extract(&v[..14 + 27], 4, 0), Field::ArpSpa), 0);
    }

    /// Frames to mutate in the fuzz test: one of each kind above.
    fn seeds() -> Vec<Vec<u8>> {
        let mut out = vec![tcp4()];
        let mut v = Vec::new();
        let exts = etherparse::Ipv6Extensions {
            hop_by_hop_options: Some(Ipv6RawExtHeader::new_raw(IpNumber(0), &[0; 6]).unwrap()),
            ..Default::default()
        };
        PacketBuilder::ethernet2(SRC, DST)
            .ip(IpHeaders::Ipv6(ipv6_hdr(0), exts))
            .icmpv6_raw(135, 0, [0; 4])
            .write(&mut v, &[0x11; 40])
            .unwrap();
        out.push(v);
        let mut v = Vec::new();
        PacketBuilder::ethernet2(SRC, DST)
            .single_vlan(VlanId::try_new(5).unwrap())
            .ipv4([1, 2, 3, 4], [5, 6, 7, 8], 1)
            .udp(1, 2)
            .write(&mut v, &[0; 8])
            .unwrap();
        out.push(v);
        out
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(frame in proptest::collection::vec(any::<u8>(), 0..200),
                                    port: u16, tun: u64) {
            let k = extract(&frame, port, tun);
            prop_assert_eq!(k.in_port(), port);
            prop_assert_eq!(get(&k, Field::TunId), u128::from(tun));
        }

        #[test]
        fn mutated_frames_never_panic(seed in 0usize..3,
                                      edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
                                      cut in any::<usize>()) {
            let mut f = seeds()[seed].clone();
            for (at, b) in edits {
                let n = f.len();
                f[at % n] = b;
            }
            let n = cut % (f.len() + 1);
            let k = extract(&f[..n], 1, 0);
            // Every header-derived field stays within the frame's length's
            // reach: an empty frame gives only the metadata.
            if n < 14 {
                prop_assert_eq!(get(&k, Field::DlType), 0);
            }
        }
    }
}

//! OpenFlow 1.0 matches: the fixed 40-byte `ofp_match` with its wildcard
//! bits (OpenFlow 1.0.0 §5.2.3) ⇄ [`Match`].
//!
//! As OVS (`lib/ofp-match.c`: `ofputil_match_from_ofp10_match`, then
//! `ofputil_normalize_match`, which OVS applies to every 1.0 flow, and
//! `ofputil_match_to_ofp10_match`):
//!
//! - `dl_vlan` 0xffff (OFP_VLAN_NONE) is "untagged", `vlan_tci=0/0xffff`
//!   (a matched PCP then adds nothing); otherwise the VID and PCP are
//!   matched together with the CFI ("tagged") bit, as `dl_vlan=`/
//!   `dl_vlan_pcp=` do in the text syntax;
//! - `nw_tos` is the DSCP bits of the TOS byte; its ECN bits are ignored;
//! - `nw_src`/`nw_dst` take CIDR masks as a count of wildcarded low bits
//!   (32 or more: all);
//! - protocol fields are ignored, not refused, when the match does not pin
//!   their protocol (OpenFlow 1.0.0 §5.2.3: "Protocol-specific fields
//!   within ofp_match will be ignored ... when the corresponding protocol
//!   is not specified"): a 1.0 controller that copies every header field
//!   of a frame into its match gets the fields that apply. For ARP,
//!   `nw_proto` is the opcode and `nw_src`/`nw_dst` the protocol
//!   addresses; for ICMP, `tp_src`/`tp_dst` are the type and code.
//!
//! Where switchd is stricter than OVS, which masks silently: a matched
//! `dl_vlan` above 0xfff (other than 0xffff), a matched PCP above 7, and an
//! ICMP type or code above 255 are refused with BAD_VALUE, since they would
//! match something else than asked (or nothing); so is an `in_port` of
//! 0xff00-0xfff7, which names no port ([`super::oxm::port_from_of10`]).

use super::error::OfError;
use crate::flow::key::{Field, VLAN_CFI};
use crate::flow::types::Match;

/// Size of `ofp_match`.
pub const MATCH_LEN: usize = 40;

/// OFPFW_IN_PORT.
pub const OFPFW_IN_PORT: u32 = 1 << 0;
/// OFPFW_DL_VLAN.
pub const OFPFW_DL_VLAN: u32 = 1 << 1;
/// OFPFW_DL_SRC.
pub const OFPFW_DL_SRC: u32 = 1 << 2;
/// OFPFW_DL_DST.
pub const OFPFW_DL_DST: u32 = 1 << 3;
/// OFPFW_DL_TYPE.
pub const OFPFW_DL_TYPE: u32 = 1 << 4;
/// OFPFW_NW_PROTO.
pub const OFPFW_NW_PROTO: u32 = 1 << 5;
/// OFPFW_TP_SRC.
pub const OFPFW_TP_SRC: u32 = 1 << 6;
/// OFPFW_TP_DST.
pub const OFPFW_TP_DST: u32 = 1 << 7;
/// Shift of the 6-bit count of wildcarded low bits of `nw_src`.
pub const OFPFW_NW_SRC_SHIFT: u32 = 8;
/// Shift of the same for `nw_dst`.
pub const OFPFW_NW_DST_SHIFT: u32 = 14;
/// OFPFW_DL_VLAN_PCP.
pub const OFPFW_DL_VLAN_PCP: u32 = 1 << 20;
/// OFPFW_NW_TOS.
pub const OFPFW_NW_TOS: u32 = 1 << 21;
/// Every wildcard bit (OFPFW_ALL).
pub const OFPFW_ALL: u32 = (1 << 22) - 1;
/// `dl_vlan` meaning "no tag" (OFP_VLAN_NONE).
pub const OFP_VLAN_NONE: u16 = 0xffff;

fn be16(b: &[u8; MATCH_LEN], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8; MATCH_LEN], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The netmask of a count of wildcarded low bits (OVS's
/// `ofputil_wcbits_to_netmask`).
fn netmask(wcbits: u32) -> u32 {
    let wcbits = wcbits & 0x3f;
    if wcbits < 32 {
        !((1u32 << wcbits) - 1)
    } else {
        0
    }
}

/// The count of wildcarded low bits of a netmask (OVS's
/// `ofputil_netmask_to_wcbits`: the trailing zeros, so a mask that is not
/// a prefix is narrowed to the prefix ending at its lowest one).
fn wcbits(mask: u32) -> u32 {
    mask.trailing_zeros()
}

/// Decodes an `ofp_match`.
///
/// # Errors
/// Values the key cannot hold (BadValue): see the module doc.
pub fn decode(buf: &[u8; MATCH_LEN]) -> Result<Match, OfError> {
    let wc = be32(buf, 0) & OFPFW_ALL;
    let matched = |bit: u32| wc & bit == 0;
    let mut m = Match::ANY;
    if matched(OFPFW_IN_PORT) {
        let port = super::oxm::port_from_of10(be16(buf, 4)).ok_or(OfError::BadValue)?;
        m.set_exact(Field::InPort, u128::from(port));
    }
    let mac = |at: usize| {
        buf[at..at + 6]
            .iter()
            .fold(0u128, |v, b| (v << 8) | u128::from(*b))
    };
    if matched(OFPFW_DL_SRC) {
        m.set_exact(Field::DlSrc, mac(6));
    }
    if matched(OFPFW_DL_DST) {
        m.set_exact(Field::DlDst, mac(12));
    }

    let cfi = u128::from(VLAN_CFI);
    let dl_vlan = be16(buf, 18);
    let pcp = u128::from(buf[20]);
    if matched(OFPFW_DL_VLAN) && dl_vlan == OFP_VLAN_NONE {
        m.set(Field::VlanTci, 0, 0xffff);
    } else {
        let (mut value, mut mask) = (0u128, 0u128);
        if matched(OFPFW_DL_VLAN) {
            if dl_vlan > 0xfff {
                return Err(OfError::BadValue);
            }
            value |= cfi | u128::from(dl_vlan);
            mask |= cfi | 0xfff;
        }
        if matched(OFPFW_DL_VLAN_PCP) {
            if pcp > 7 {
                return Err(OfError::BadValue);
            }
            value |= cfi | (pcp << 13);
            mask |= cfi | 0xe000;
        }
        if mask != 0 {
            m.set(Field::VlanTci, value, mask);
        }
    }

    if !matched(OFPFW_DL_TYPE) {
        return Ok(m);
    }
    let dl_type = be16(buf, 22);
    m.set_exact(Field::DlType, u128::from(dl_type));
    let proto = matched(OFPFW_NW_PROTO).then_some(buf[25]);
    let (ip, arp) = (
        matches!(dl_type, 0x0800 | 0x86dd),
        matches!(dl_type, 0x0806 | 0x8035),
    );
    if !ip && !arp {
        return Ok(m);
    }
    // nw_proto is the IP protocol, or the ARP opcode's low byte (the same
    // bits in the key).
    if let Some(p) = proto {
        m.set_exact(Field::NwProto, u128::from(p));
    }
    if dl_type != 0x86dd {
        // IPv4 addresses, or ARP's protocol addresses (the same bits).
        let src = netmask(wc >> OFPFW_NW_SRC_SHIFT);
        let dst = netmask(wc >> OFPFW_NW_DST_SHIFT);
        if src != 0 {
            m.set(Field::NwSrc, u128::from(be32(buf, 28)), u128::from(src));
        }
        if dst != 0 {
            m.set(Field::NwDst, u128::from(be32(buf, 32)), u128::from(dst));
        }
    }
    if arp {
        return Ok(m);
    }
    if matched(OFPFW_NW_TOS) {
        m.set(Field::NwTos, u128::from(buf[24]), 0xfc);
    }
    let (tp_src, tp_dst) = (u128::from(be16(buf, 36)), u128::from(be16(buf, 38)));
    let (src, dst) = match (dl_type, proto) {
        (_, Some(6 | 17 | 132)) => (Field::TpSrc, Field::TpDst),
        (0x0800, Some(1)) => (Field::IcmpType, Field::IcmpCode),
        (0x86dd, Some(58)) => (Field::Icmpv6Type, Field::Icmpv6Code),
        _ => return Ok(m),
    };
    for (bit, f, v) in [(OFPFW_TP_SRC, src, tp_src), (OFPFW_TP_DST, dst, tp_dst)] {
        if matched(bit) {
            if v > f.max() {
                return Err(OfError::BadValue);
            }
            m.set_exact(f, v);
        }
    }
    Ok(m)
}

/// Appends `m` as an `ofp_match` (fields 1.0 lacks are left out: wildcarded).
///
/// Masks 1.0 cannot carry are narrowed as OVS does: a matched part of
/// `in_port`, `dl_src`, `dl_dst`, `dl_type`, `nw_proto`, `tp_src` or
/// `tp_dst` makes the whole field exact, and an IPv4 mask becomes the
/// prefix ending at its lowest one bit.
pub fn encode(m: &Match, out: &mut Vec<u8>) {
    let mut b = [0u8; MATCH_LEN];
    let mut wc = 0u32;
    let mut put = |at: usize, bytes: &[u8]| b[at..at + bytes.len()].copy_from_slice(bytes);
    let val = |f: Field| m.value_of(f);
    let has = |f: Field| m.mask_of(f) != 0;

    if has(Field::InPort) {
        put(4, &(val(Field::InPort) as u16).to_be_bytes());
    } else {
        wc |= OFPFW_IN_PORT;
    }
    for (f, at, bit) in [(Field::DlSrc, 6, OFPFW_DL_SRC), (Field::DlDst, 12, OFPFW_DL_DST)] {
        if has(f) {
            put(at, &val(f).to_be_bytes()[10..]);
        } else {
            wc |= bit;
        }
    }

    // VLAN, as ofputil_match_to_ofp10_match.
    let cfi = u128::from(VLAN_CFI);
    let (tci, tci_mask) = (val(Field::VlanTci), m.mask_of(Field::VlanTci));
    if tci_mask == 0 {
        wc |= OFPFW_DL_VLAN | OFPFW_DL_VLAN_PCP;
    } else if tci_mask & cfi != 0 && tci & cfi == 0 {
        put(18, &OFP_VLAN_NONE.to_be_bytes());
    } else {
        if tci_mask & 0xfff == 0 {
            wc |= OFPFW_DL_VLAN;
        } else {
            put(18, &((tci & 0xfff) as u16).to_be_bytes());
        }
        if tci_mask & 0xe000 == 0 {
            wc |= OFPFW_DL_VLAN_PCP;
        } else {
            put(20, &[(tci >> 13) as u8]);
        }
    }

    if has(Field::DlType) {
        put(22, &(val(Field::DlType) as u16).to_be_bytes());
    } else {
        wc |= OFPFW_DL_TYPE;
    }
    if m.mask_of(Field::NwTos) & 0xfc != 0 {
        put(24, &[(val(Field::NwTos) & 0xfc) as u8]);
    } else {
        wc |= OFPFW_NW_TOS;
    }
    if has(Field::NwProto) {
        put(25, &[val(Field::NwProto) as u8]);
    } else {
        wc |= OFPFW_NW_PROTO;
    }
    let (src_mask, dst_mask) = (m.mask_of(Field::NwSrc) as u32, m.mask_of(Field::NwDst) as u32);
    wc |= wcbits(src_mask) << OFPFW_NW_SRC_SHIFT;
    wc |= wcbits(dst_mask) << OFPFW_NW_DST_SHIFT;
    put(
        28,
        &(val(Field::NwSrc) as u32 & netmask(wcbits(src_mask))).to_be_bytes(),
    );
    put(
        32,
        &(val(Field::NwDst) as u32 & netmask(wcbits(dst_mask))).to_be_bytes(),
    );
    for (f, at, bit) in [(Field::TpSrc, 36, OFPFW_TP_SRC), (Field::TpDst, 38, OFPFW_TP_DST)] {
        if has(f) {
            put(at, &(val(f) as u16).to_be_bytes());
        } else {
            wc |= bit;
        }
    }
    put(0, &wc.to_be_bytes());
    out.extend_from_slice(&b);
}

#[cfg(test)]
mod tests;

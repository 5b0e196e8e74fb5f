//! OpenFlow 1.3 matches: `ofp_match` of type OXM, a list of OXM TLVs
//! (OpenFlow 1.3.5 §7.2.3), ⇄ [`Match`]; and single OXM fields for
//! set-field actions.
//!
//! One table, [`WIRE`], lists every wire field switchd understands and
//! where its bits go in the key ([`Map`]): the OpenFlow basic class
//! (0x8000), the Nicira classes OVS also accepts inside OXM matches
//! (NXM_0 0x0000 for `vlan_tci` and `ip_tos`, NXM_1 0x0001 for registers,
//! `tun_id`, `nw_ttl` and friends), and ONF's experimenter `tcp_flags`
//! that OVS uses in OpenFlow 1.3. The match decoder, the set-field
//! decoder and the NX register loads of [`super::action`] all read it, so
//! a field means the same everywhere.
//!
//! Decoding follows OVS's `nx_pull_raw` (`lib/nx-match.c`), the reference
//! a controller tests against:
//!
//! - each TLV is checked in order: its length (OFPBMC_BAD_LEN), whether
//!   the field is known (BAD_FIELD), value bits outside the mask
//!   (BAD_WILDCARDS, as OpenFlow 1.3.5 §7.2.3.5 says), a mask on a field
//!   that takes none (BAD_MASK; all-ones and all-zero masks are accepted,
//!   as OVS), a value the field cannot hold (BAD_VALUE), then its
//!   prerequisite (BAD_PREREQ) and a second match on the same bits
//!   (DUP_FIELD);
//! - prerequisites are those of the match *so far* (OpenFlow 1.3.5
//!   §7.2.3.6: a field's prerequisites come before it, and OVS checks them
//!   that way), tested with [`Prereq::holds`] on the exact `dl_type`,
//!   `nw_proto` and ICMPv6 type, as the `ovs-ofctl` text parser does;
//!   `tcp_src`/`udp_src`/`sctp_src` also need their own `nw_proto`, and
//!   `vlan_pcp` needs `vlan_vid` with OFPVID_PRESENT (OVS's MFP_VLAN_VID);
//! - OXM `vlan_vid` is 13 bits, OFPVID_PRESENT (0x1000) plus the VID,
//!   which is exactly `vlan_tci`'s VID and CFI bits ([`VLAN_CFI`] is set
//!   exactly when tagged): `0x1000|vid` is a tag with that VID, `0` exact
//!   is "untagged" (`vlan_tci=0/0x1fff`), `0x1000/0x1000` "any tag".
//!
//! Encoding writes the fields in OVS's order (`nx_put_raw`), so that a
//! flow switchd reports is byte for byte what OVS would send. Where OVS's
//! OpenFlow 1.3 encoding drops bits (a `vlan_tci` mask that is neither
//! VID/present nor an exact PCP), switchd sends NXM_OF_VLAN_TCI instead,
//! which OVS also decodes; nothing a [`Match`] holds is left out.

use super::error::OfError;
use crate::flow::key::{Field, FlowKey, Prereq, VLAN_CFI};
use crate::flow::types::{ofport, Match};

/// `ofp_match.type` of an OXM match (OFPMT_OXM).
pub const OFPMT_OXM: u16 = 1;
/// OXM class of Nicira's original fields (NXM_OF_*).
pub const OFPXMC_NXM_0: u16 = 0x0000;
/// OXM class of Nicira's extension fields (NXM_NX_*).
pub const OFPXMC_NXM_1: u16 = 0x0001;
/// OXM class of OpenFlow's own fields (OXM_OF_*).
pub const OFPXMC_OPENFLOW_BASIC: u16 = 0x8000;
/// OXM class of experimenter fields (a 32-bit experimenter id follows the header).
pub const OFPXMC_EXPERIMENTER: u16 = 0xffff;
/// ONF's experimenter id (ONFOXM_ET_TCP_FLAGS).
pub const ONF_EXPERIMENTER: u32 = 0x4f4e_4600;
/// The `vlan_vid` bit meaning "a tag is present" (OFPVID_PRESENT).
pub const OFPVID_PRESENT: u16 = 0x1000;

/// An OpenFlow 1.3 port number (32 bits) as the 16-bit number switchd
/// keeps (OVS's `ofputil_port_from_ofp11`): real ports 0–0xfeff as they
/// are, the reserved ports 0xfffffff8–0xffffffff as 0xfff8–0xffff; `None`
/// for the numbers between, which name nothing.
pub fn port_from_of13(port: u32) -> Option<u16> {
    match port {
        0..=0xfeff => Some(port as u16),
        0xffff_fff8..=0xffff_ffff => Some((port - 0xffff_0000) as u16),
        _ => None,
    }
}

/// A 16-bit port number (OpenFlow 1.0's, NXM_OF_IN_PORT's) that names a
/// port: a real one, 0–0xfeff, or a reserved one, 0xfff8–0xffff; `None` for
/// the numbers between, as [`port_from_of13`] for their 32-bit forms (a
/// match on one could not be sent to an OpenFlow 1.3 controller).
pub fn port_from_of10(port: u16) -> Option<u16> {
    (port <= ofport::MAX || port >= 0xfff8).then_some(port)
}

/// A 16-bit port number as OpenFlow 1.3 sends it (OVS's
/// `ofputil_port_to_ofp11`): above [`ofport::MAX`], 0xffff0000 is added.
pub fn port_to_of13(port: u16) -> u32 {
    if port <= ofport::MAX {
        u32::from(port)
    } else {
        u32::from(port) + 0xffff_0000
    }
}

/// Where a wire field's value goes in the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Map {
    /// The value is the field's value, right-aligned (wider wire fields,
    /// like the 16-bit ARP_OP for 8-bit `arp_op`, must not exceed it).
    Plain(Field),
    /// OXM IN_PORT: a 32-bit port ([`port_from_of13`]).
    InPort32,
    /// OXM VLAN_VID: OFPVID_PRESENT and the VID, `vlan_tci`'s low 13 bits.
    VlanVid,
    /// OXM VLAN_PCP: `vlan_tci`'s top 3 bits.
    VlanPcp,
    /// NXM_OF_IP_TOS: the DSCP bits of `nw_tos` in place (low 2 bits 0).
    IpTos,
}

/// One OXM/NXM field on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireField {
    /// OVS's name for it (`OXM_OF_TCP_SRC`).
    pub name: &'static str,
    /// OXM class.
    pub class: u16,
    /// Field number within the class (7 bits).
    pub field: u8,
    /// Experimenter id, for class [`OFPXMC_EXPERIMENTER`] (else 0).
    pub experimenter: u32,
    /// Bytes of the value.
    pub len: u8,
    /// Where the value goes.
    pub map: Map,
    /// Whether a match may give it an arbitrary mask (OVS's "Maskable").
    pub maskable: bool,
    /// The `nw_proto` it needs besides its field's prerequisite
    /// (TCP_SRC: 6), since switchd's `tp_src` serves TCP, UDP and SCTP.
    pub proto: Option<u8>,
}

impl WireField {
    /// The 32-bit header (class, field, hasmask, payload length).
    pub fn header(&self, masked: bool) -> u32 {
        let exp = if self.class == OFPXMC_EXPERIMENTER { 4 } else { 0 };
        let payload = u32::from(self.len) * if masked { 2 } else { 1 } + exp;
        (u32::from(self.class) << 16) | (u32::from(self.field) << 9) | (u32::from(masked) << 8) | payload
    }

    /// All ones over the value's bytes.
    fn ones(&self) -> u128 {
        ones(usize::from(self.len))
    }
}

const fn wf(
    name: &'static str,
    class: u16,
    field: u8,
    len: u8,
    map: Map,
    maskable: bool,
    proto: Option<u8>,
) -> WireField {
    WireField {
        name,
        class,
        field,
        experimenter: if class == OFPXMC_EXPERIMENTER {
            ONF_EXPERIMENTER
        } else {
            0
        },
        len,
        map,
        maskable,
        proto,
    }
}

use Field as F;
use Map::Plain as P;

const B: u16 = OFPXMC_OPENFLOW_BASIC;
const N0: u16 = OFPXMC_NXM_0;
const N1: u16 = OFPXMC_NXM_1;

/// OXM_OF_IN_PORT.
pub const OXM_IN_PORT: WireField = wf("OXM_OF_IN_PORT", B, 0, 4, Map::InPort32, false, None);
/// OXM_OF_METADATA.
pub const OXM_METADATA: WireField = wf("OXM_OF_METADATA", B, 2, 8, P(F::Metadata), true, None);
/// OXM_OF_ETH_DST.
pub const OXM_ETH_DST: WireField = wf("OXM_OF_ETH_DST", B, 3, 6, P(F::DlDst), true, None);
/// OXM_OF_ETH_SRC.
pub const OXM_ETH_SRC: WireField = wf("OXM_OF_ETH_SRC", B, 4, 6, P(F::DlSrc), true, None);
/// OXM_OF_ETH_TYPE.
pub const OXM_ETH_TYPE: WireField = wf("OXM_OF_ETH_TYPE", B, 5, 2, P(F::DlType), false, None);
/// OXM_OF_VLAN_VID.
pub const OXM_VLAN_VID: WireField = wf("OXM_OF_VLAN_VID", B, 6, 2, Map::VlanVid, true, None);
/// OXM_OF_VLAN_PCP.
pub const OXM_VLAN_PCP: WireField = wf("OXM_OF_VLAN_PCP", B, 7, 1, Map::VlanPcp, false, None);
/// OXM_OF_IP_DSCP (the six DSCP bits, right-aligned).
pub const OXM_IP_DSCP: WireField = wf("OXM_OF_IP_DSCP", B, 8, 1, P(F::IpDscp), false, None);
/// OXM_OF_IP_ECN.
pub const OXM_IP_ECN: WireField = wf("OXM_OF_IP_ECN", B, 9, 1, P(F::NwEcn), false, None);
/// OXM_OF_IP_PROTO.
pub const OXM_IP_PROTO: WireField = wf("OXM_OF_IP_PROTO", B, 10, 1, P(F::NwProto), false, None);
/// OXM_OF_IPV4_SRC.
pub const OXM_IPV4_SRC: WireField = wf("OXM_OF_IPV4_SRC", B, 11, 4, P(F::NwSrc), true, None);
/// OXM_OF_IPV4_DST.
pub const OXM_IPV4_DST: WireField = wf("OXM_OF_IPV4_DST", B, 12, 4, P(F::NwDst), true, None);
/// OXM_OF_TCP_SRC.
pub const OXM_TCP_SRC: WireField = wf("OXM_OF_TCP_SRC", B, 13, 2, P(F::TpSrc), true, Some(6));
/// OXM_OF_TCP_DST.
pub const OXM_TCP_DST: WireField = wf("OXM_OF_TCP_DST", B, 14, 2, P(F::TpDst), true, Some(6));
/// OXM_OF_UDP_SRC.
pub const OXM_UDP_SRC: WireField = wf("OXM_OF_UDP_SRC", B, 15, 2, P(F::TpSrc), true, Some(17));
/// OXM_OF_UDP_DST.
pub const OXM_UDP_DST: WireField = wf("OXM_OF_UDP_DST", B, 16, 2, P(F::TpDst), true, Some(17));
/// OXM_OF_SCTP_SRC.
pub const OXM_SCTP_SRC: WireField = wf("OXM_OF_SCTP_SRC", B, 17, 2, P(F::TpSrc), true, Some(132));
/// OXM_OF_SCTP_DST.
pub const OXM_SCTP_DST: WireField = wf("OXM_OF_SCTP_DST", B, 18, 2, P(F::TpDst), true, Some(132));
/// OXM_OF_ICMPV4_TYPE.
pub const OXM_ICMPV4_TYPE: WireField = wf("OXM_OF_ICMPV4_TYPE", B, 19, 1, P(F::IcmpType), false, None);
/// OXM_OF_ICMPV4_CODE.
pub const OXM_ICMPV4_CODE: WireField = wf("OXM_OF_ICMPV4_CODE", B, 20, 1, P(F::IcmpCode), false, None);
/// OXM_OF_ARP_OP (16 bits on the wire; OVS and switchd keep the low 8).
pub const OXM_ARP_OP: WireField = wf("OXM_OF_ARP_OP", B, 21, 2, P(F::ArpOp), false, None);
/// OXM_OF_ARP_SPA.
pub const OXM_ARP_SPA: WireField = wf("OXM_OF_ARP_SPA", B, 22, 4, P(F::ArpSpa), true, None);
/// OXM_OF_ARP_TPA.
pub const OXM_ARP_TPA: WireField = wf("OXM_OF_ARP_TPA", B, 23, 4, P(F::ArpTpa), true, None);
/// OXM_OF_ARP_SHA.
pub const OXM_ARP_SHA: WireField = wf("OXM_OF_ARP_SHA", B, 24, 6, P(F::ArpSha), true, None);
/// OXM_OF_ARP_THA.
pub const OXM_ARP_THA: WireField = wf("OXM_OF_ARP_THA", B, 25, 6, P(F::ArpTha), true, None);
/// OXM_OF_IPV6_SRC.
pub const OXM_IPV6_SRC: WireField = wf("OXM_OF_IPV6_SRC", B, 26, 16, P(F::Ipv6Src), true, None);
/// OXM_OF_IPV6_DST.
pub const OXM_IPV6_DST: WireField = wf("OXM_OF_IPV6_DST", B, 27, 16, P(F::Ipv6Dst), true, None);
/// OXM_OF_IPV6_FLABEL.
pub const OXM_IPV6_FLABEL: WireField = wf("OXM_OF_IPV6_FLABEL", B, 28, 4, P(F::Ipv6Label), true, None);
/// OXM_OF_ICMPV6_TYPE.
pub const OXM_ICMPV6_TYPE: WireField = wf("OXM_OF_ICMPV6_TYPE", B, 29, 1, P(F::Icmpv6Type), false, None);
/// OXM_OF_ICMPV6_CODE.
pub const OXM_ICMPV6_CODE: WireField = wf("OXM_OF_ICMPV6_CODE", B, 30, 1, P(F::Icmpv6Code), false, None);
/// OXM_OF_IPV6_ND_TARGET.
pub const OXM_IPV6_ND_TARGET: WireField = wf("OXM_OF_IPV6_ND_TARGET", B, 31, 16, P(F::NdTarget), true, None);
/// OXM_OF_TUNNEL_ID.
pub const OXM_TUNNEL_ID: WireField = wf("OXM_OF_TUNNEL_ID", B, 38, 8, P(F::TunId), true, None);
/// ONFOXM_ET_TCP_FLAGS: what OVS sends for `tcp_flags` in OpenFlow 1.3.
pub const ONF_TCP_FLAGS: WireField = wf(
    "ONFOXM_ET_TCP_FLAGS",
    OFPXMC_EXPERIMENTER,
    42,
    2,
    P(F::TcpFlags),
    true,
    None,
);

/// NXM_OF_IN_PORT (16-bit port).
pub const NXM_IN_PORT: WireField = wf("NXM_OF_IN_PORT", N0, 0, 2, P(F::InPort), false, None);
/// NXM_OF_VLAN_TCI: the whole TCI under any mask.
pub const NXM_VLAN_TCI: WireField = wf("NXM_OF_VLAN_TCI", N0, 4, 2, P(F::VlanTci), true, None);
/// NXM_OF_IP_TOS.
pub const NXM_IP_TOS: WireField = wf("NXM_OF_IP_TOS", N0, 5, 1, Map::IpTos, false, None);
/// NXM_NX_IP_TTL (OpenFlow 1.3 has no TTL match field).
pub const NXM_IP_TTL: WireField = wf("NXM_NX_IP_TTL", N1, 29, 1, P(F::NwTtl), false, None);
/// NXM_NX_IP_ECN.
pub const NXM_IP_ECN: WireField = wf("NXM_NX_IP_ECN", N1, 28, 1, P(F::NwEcn), false, None);
/// NXM_NX_TUN_ID.
pub const NXM_TUN_ID: WireField = wf("NXM_NX_TUN_ID", N1, 16, 8, P(F::TunId), true, None);

/// NXM_NX_REG0..7.
pub const NXM_REGS: [WireField; 8] = [
    wf("NXM_NX_REG0", N1, 0, 4, P(F::Reg0), true, None),
    wf("NXM_NX_REG1", N1, 1, 4, P(F::Reg1), true, None),
    wf("NXM_NX_REG2", N1, 2, 4, P(F::Reg2), true, None),
    wf("NXM_NX_REG3", N1, 3, 4, P(F::Reg3), true, None),
    wf("NXM_NX_REG4", N1, 4, 4, P(F::Reg4), true, None),
    wf("NXM_NX_REG5", N1, 5, 4, P(F::Reg5), true, None),
    wf("NXM_NX_REG6", N1, 6, 4, P(F::Reg6), true, None),
    wf("NXM_NX_REG7", N1, 7, 4, P(F::Reg7), true, None),
];

/// Every wire field switchd decodes: the OpenFlow 1.3 basic fields it has
/// a key field for, and the Nicira (NXM) spellings of the same and of the
/// fields OXM lacks, as OVS accepts them in an OXM match.
pub const WIRE: &[WireField] = &[
    OXM_IN_PORT,
    OXM_METADATA,
    OXM_ETH_DST,
    OXM_ETH_SRC,
    OXM_ETH_TYPE,
    OXM_VLAN_VID,
    OXM_VLAN_PCP,
    OXM_IP_DSCP,
    OXM_IP_ECN,
    OXM_IP_PROTO,
    OXM_IPV4_SRC,
    OXM_IPV4_DST,
    OXM_TCP_SRC,
    OXM_TCP_DST,
    OXM_UDP_SRC,
    OXM_UDP_DST,
    OXM_SCTP_SRC,
    OXM_SCTP_DST,
    OXM_ICMPV4_TYPE,
    OXM_ICMPV4_CODE,
    OXM_ARP_OP,
    OXM_ARP_SPA,
    OXM_ARP_TPA,
    OXM_ARP_SHA,
    OXM_ARP_THA,
    OXM_IPV6_SRC,
    OXM_IPV6_DST,
    OXM_IPV6_FLABEL,
    OXM_ICMPV6_TYPE,
    OXM_ICMPV6_CODE,
    OXM_IPV6_ND_TARGET,
    OXM_TUNNEL_ID,
    ONF_TCP_FLAGS,
    NXM_IN_PORT,
    wf("NXM_OF_ETH_DST", N0, 1, 6, P(F::DlDst), true, None),
    wf("NXM_OF_ETH_SRC", N0, 2, 6, P(F::DlSrc), true, None),
    wf("NXM_OF_ETH_TYPE", N0, 3, 2, P(F::DlType), false, None),
    NXM_VLAN_TCI,
    NXM_IP_TOS,
    wf("NXM_OF_IP_PROTO", N0, 6, 1, P(F::NwProto), false, None),
    wf("NXM_OF_IP_SRC", N0, 7, 4, P(F::NwSrc), true, None),
    wf("NXM_OF_IP_DST", N0, 8, 4, P(F::NwDst), true, None),
    wf("NXM_OF_TCP_SRC", N0, 9, 2, P(F::TpSrc), true, Some(6)),
    wf("NXM_OF_TCP_DST", N0, 10, 2, P(F::TpDst), true, Some(6)),
    wf("NXM_OF_UDP_SRC", N0, 11, 2, P(F::TpSrc), true, Some(17)),
    wf("NXM_OF_UDP_DST", N0, 12, 2, P(F::TpDst), true, Some(17)),
    wf("NXM_OF_ICMP_TYPE", N0, 13, 1, P(F::IcmpType), false, None),
    wf("NXM_OF_ICMP_CODE", N0, 14, 1, P(F::IcmpCode), false, None),
    wf("NXM_OF_ARP_OP", N0, 15, 2, P(F::ArpOp), false, None),
    wf("NXM_OF_ARP_SPA", N0, 16, 4, P(F::ArpSpa), true, None),
    wf("NXM_OF_ARP_TPA", N0, 17, 4, P(F::ArpTpa), true, None),
    NXM_REGS[0],
    NXM_REGS[1],
    NXM_REGS[2],
    NXM_REGS[3],
    NXM_REGS[4],
    NXM_REGS[5],
    NXM_REGS[6],
    NXM_REGS[7],
    NXM_TUN_ID,
    wf("NXM_NX_ARP_SHA", N1, 17, 6, P(F::ArpSha), true, None),
    wf("NXM_NX_ARP_THA", N1, 18, 6, P(F::ArpTha), true, None),
    wf("NXM_NX_IPV6_SRC", N1, 19, 16, P(F::Ipv6Src), true, None),
    wf("NXM_NX_IPV6_DST", N1, 20, 16, P(F::Ipv6Dst), true, None),
    wf("NXM_NX_ICMPV6_TYPE", N1, 21, 1, P(F::Icmpv6Type), false, None),
    wf("NXM_NX_ICMPV6_CODE", N1, 22, 1, P(F::Icmpv6Code), false, None),
    wf("NXM_NX_ND_TARGET", N1, 23, 16, P(F::NdTarget), true, None),
    wf("NXM_NX_IPV6_LABEL", N1, 27, 4, P(F::Ipv6Label), true, None),
    NXM_IP_ECN,
    NXM_IP_TTL,
    wf("NXM_NX_TCP_FLAGS", N1, 34, 2, P(F::TcpFlags), true, None),
];

/// The wire field OpenFlow 1.3 uses for `field` in a match or set-field
/// (OXM where there is one, as OVS; NXM for the fields OXM lacks).
/// `nw_proto` picks TCP/UDP/SCTP for `tp_src`/`tp_dst` (TCP when unknown).
///
/// `dl_vlan`/`dl_vlan_pcp` map to OXM VLAN_VID/VLAN_PCP and `nw_tos` to
/// IP_DSCP (its DSCP bits), whose values need converting: see
/// [`encode_set_field`].
pub fn wire_for(field: Field, nw_proto: Option<u8>) -> &'static WireField {
    match field {
        F::InPort => &OXM_IN_PORT,
        F::DlType => &OXM_ETH_TYPE,
        F::VlanTci => &NXM_VLAN_TCI,
        F::VlanVid => &OXM_VLAN_VID,
        F::VlanPcp => &OXM_VLAN_PCP,
        F::NwProto => &OXM_IP_PROTO,
        F::ArpOp => &OXM_ARP_OP,
        F::NwTos | F::IpDscp => &OXM_IP_DSCP,
        F::NwEcn => &OXM_IP_ECN,
        F::DlDst => &OXM_ETH_DST,
        F::NwTtl => &NXM_IP_TTL,
        F::DlSrc => &OXM_ETH_SRC,
        F::TcpFlags => &ONF_TCP_FLAGS,
        F::NwSrc => &OXM_IPV4_SRC,
        F::NwDst => &OXM_IPV4_DST,
        F::ArpSpa => &OXM_ARP_SPA,
        F::ArpTpa => &OXM_ARP_TPA,
        F::TpSrc => match nw_proto {
            Some(17) => &OXM_UDP_SRC,
            Some(132) => &OXM_SCTP_SRC,
            _ => &OXM_TCP_SRC,
        },
        F::TpDst => match nw_proto {
            Some(17) => &OXM_UDP_DST,
            Some(132) => &OXM_SCTP_DST,
            _ => &OXM_TCP_DST,
        },
        F::IcmpType => &OXM_ICMPV4_TYPE,
        F::IcmpCode => &OXM_ICMPV4_CODE,
        F::Icmpv6Type => &OXM_ICMPV6_TYPE,
        F::Icmpv6Code => &OXM_ICMPV6_CODE,
        F::Ipv6Label => &OXM_IPV6_FLABEL,
        F::TunId => &OXM_TUNNEL_ID,
        F::Metadata => &OXM_METADATA,
        F::Reg0 => &NXM_REGS[0],
        F::Reg1 => &NXM_REGS[1],
        F::Reg2 => &NXM_REGS[2],
        F::Reg3 => &NXM_REGS[3],
        F::Reg4 => &NXM_REGS[4],
        F::Reg5 => &NXM_REGS[5],
        F::Reg6 => &NXM_REGS[6],
        F::Reg7 => &NXM_REGS[7],
        F::Ipv6Src => &OXM_IPV6_SRC,
        F::Ipv6Dst => &OXM_IPV6_DST,
        F::NdTarget => &OXM_IPV6_ND_TARGET,
        F::ArpSha => &OXM_ARP_SHA,
        F::ArpTha => &OXM_ARP_THA,
    }
}

/// The wire field with this class, number and experimenter id (any length).
pub fn lookup(class: u16, field: u8, experimenter: u32) -> Option<&'static WireField> {
    WIRE.iter()
        .find(|w| w.class == class && w.field == field && w.experimenter == experimenter)
}

/// The wire field a 32-bit NXM/OXM header names exactly (no mask bit,
/// the field's own length): the destination of an NXAST_REG_LOAD.
pub fn lookup_header(header: u32) -> Option<&'static WireField> {
    let w = lookup((header >> 16) as u16, ((header >> 9) & 0x7f) as u8, 0)?;
    (w.header(false) == header).then_some(w)
}

/// All ones over `n` bytes.
pub(super) fn ones(n: usize) -> u128 {
    if n >= 16 {
        u128::MAX
    } else {
        (1u128 << (8 * n)) - 1
    }
}

/// A big-endian number.
pub(super) fn be(bytes: &[u8]) -> u128 {
    bytes.iter().fold(0u128, |v, b| (v << 8) | u128::from(*b))
}

/// Appends the low `n` bytes of `v`, big-endian.
pub(super) fn put_be(out: &mut Vec<u8>, v: u128, n: usize) {
    out.extend_from_slice(&v.to_be_bytes()[16 - n..]);
}

/// Appends zeros up to a multiple of 8 bytes counted from `start`.
pub(super) fn pad8(out: &mut Vec<u8>, start: usize) {
    let len = out.len() - start;
    out.resize(out.len() + (len.div_ceil(8) * 8 - len), 0);
}

/// One TLV as it sits on the wire, before the field is looked up.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawTlv<'a> {
    /// OXM class.
    pub class: u16,
    /// Field number.
    pub field: u8,
    /// The hasmask bit.
    pub masked: bool,
    /// Experimenter id (class 0xffff), else 0.
    pub experimenter: u32,
    /// Value and mask bytes (after any experimenter id).
    pub payload: &'a [u8],
    /// Bytes the TLV takes, header included.
    pub total: usize,
}

/// The TLV at the front of `buf`; `None` if it is cut short (or an
/// experimenter TLV too short for its id).
pub(super) fn raw_tlv(buf: &[u8]) -> Option<RawTlv<'_>> {
    let h = u32::from_be_bytes(*buf.first_chunk::<4>()?);
    let class = (h >> 16) as u16;
    let total = 4 + (h & 0xff) as usize;
    if buf.len() < total {
        return None;
    }
    let (experimenter, payload) = if class == OFPXMC_EXPERIMENTER {
        if total < 8 {
            return None;
        }
        (u32::from_be_bytes(buf[4..8].try_into().ok()?), &buf[8..total])
    } else {
        (0, &buf[4..total])
    };
    Some(RawTlv {
        class,
        field: ((h >> 9) & 0x7f) as u8,
        masked: h & 0x100 != 0,
        experimenter,
        payload,
        total,
    })
}

/// Appends one TLV of `w` with `value` (and `mask`, if any), both already
/// in wire form.
pub(super) fn put_tlv(out: &mut Vec<u8>, w: &WireField, value: u128, mask: Option<u128>) {
    out.extend_from_slice(&w.header(mask.is_some()).to_be_bytes());
    if w.class == OFPXMC_EXPERIMENTER {
        out.extend_from_slice(&w.experimenter.to_be_bytes());
    }
    put_be(out, value, usize::from(w.len));
    if let Some(m) = mask {
        put_be(out, m, usize::from(w.len));
    }
}

/// The exact value of `f` in `m`, if `m` matches all of it.
pub fn exact(m: &Match, f: Field) -> Option<u128> {
    (m.mask_of(f) == f.max()).then(|| m.value_of(f))
}

/// Whether a match on `m` guarantees prerequisite `p`: [`Prereq::holds`]
/// on the match's exact `dl_type`, `nw_proto` and ICMPv6 type, as the
/// `ovs-ofctl` parser asks it (`flow::syntax`'s `satisfied`).
pub fn satisfied(m: &Match, p: Prereq) -> bool {
    p.holds(
        exact(m, Field::DlType).map(|v| v as u16),
        exact(m, Field::NwProto).map(|v| v as u8),
        exact(m, Field::Icmpv6Type).map(|v| v as u8),
    )
}

/// Whether `m` pins a VLAN tag (the CFI/OFPVID_PRESENT bit matched as 1).
pub fn tagged(m: &Match) -> bool {
    let cfi = u128::from(VLAN_CFI);
    m.mask_of(Field::VlanTci) & m.value_of(Field::VlanTci) & cfi != 0
}

/// What a wire field's value and mask mean for the key: the key field,
/// the bits of it the wire field owns (for DUP_FIELD), and the value and
/// mask to add. `None` for an invalid value (OFPBMC_BAD_VALUE).
fn to_key(w: &WireField, value: u128, mask: u128) -> Option<(Field, u128, u128, u128)> {
    let cfi = u128::from(VLAN_CFI);
    Some(match w.map {
        Map::Plain(f) => {
            if value > f.max() {
                return None;
            }
            // NXM_OF_IN_PORT: a 16-bit port number.
            if f == Field::InPort {
                port_from_of10(value as u16)?;
            }
            (f, f.max(), value, mask & f.max())
        }
        Map::InPort32 => {
            let p = port_from_of13(value as u32)?;
            let mask = if mask == 0 { 0 } else { Field::InPort.max() };
            (Field::InPort, Field::InPort.max(), u128::from(p), mask)
        }
        Map::VlanVid => {
            if value > 0x1fff {
                return None;
            }
            (Field::VlanTci, 0x1fff, value, mask & 0x1fff)
        }
        Map::VlanPcp => {
            if value > 7 {
                return None;
            }
            // As OVS's match_set_dl_vlan_pcp: the PCP and "tagged" (which
            // the prerequisite already matched).
            let mask = if mask & 7 == 0 {
                0
            } else {
                ((mask & 7) << 13) | cfi
            };
            (Field::VlanTci, 0xe000, (value << 13) | cfi, mask)
        }
        Map::IpTos => {
            if value & 3 != 0 {
                return None;
            }
            (Field::NwTos, 0xfc, value, mask & 0xfc)
        }
    })
}

/// Whether `m` (the match so far) meets `w`'s prerequisite.
fn prereq_ok(m: &Match, w: &WireField) -> bool {
    let ok = match w.map {
        Map::Plain(f) => satisfied(m, f.prereq()),
        Map::InPort32 | Map::VlanVid => true,
        // OVS's MFP_VLAN_VID: a tag must be matched (OpenFlow 1.3.5
        // Table 12: VLAN_PCP needs VLAN_VID != NONE).
        Map::VlanPcp => tagged(m),
        Map::IpTos => satisfied(m, Prereq::Ip),
    };
    ok && w
        .proto
        .is_none_or(|p| exact(m, Field::NwProto) == Some(u128::from(p)))
}

/// Decodes the `ofp_match` at the front of `buf`; returns it and the bytes
/// it takes, padding included.
///
/// # Errors
/// A malformed, unknown, duplicated, badly masked or prerequisite-less field.
pub fn decode_match(buf: &[u8]) -> Result<(Match, usize), OfError> {
    // The order of checks is OVS's oxm_pull_match__.
    let Some(head) = buf.first_chunk::<4>() else {
        return Err(OfError::BadMatchLen);
    };
    let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
    if len < 4 {
        return Err(OfError::BadMatchLen);
    }
    if u16::from_be_bytes([head[0], head[1]]) != OFPMT_OXM {
        return Err(OfError::BadMatchType);
    }
    let padded = len.div_ceil(8) * 8;
    if buf.len() < padded {
        return Err(OfError::BadMatchLen);
    }
    let mut m = Match::ANY;
    let mut rest = &buf[4..len];
    while !rest.is_empty() {
        let raw = raw_tlv(rest).ok_or(OfError::BadMatchLen)?;
        rest = &rest[raw.total..];
        let w = lookup(raw.class, raw.field, raw.experimenter).ok_or(OfError::BadField)?;
        // OVS answers BAD_FIELD for a known field with the wrong length
        // (its lookup includes the length); OFPBMC_BAD_LEN says more.
        let n = usize::from(w.len);
        if raw.payload.len() != n * if raw.masked { 2 } else { 1 } {
            return Err(OfError::BadMatchLen);
        }
        let value = be(&raw.payload[..n]);
        let mask = if raw.masked {
            be(&raw.payload[n..])
        } else {
            w.ones()
        };
        if value & !mask != 0 {
            return Err(OfError::BadWildcards);
        }
        if !w.maskable && mask != 0 && mask != w.ones() {
            return Err(OfError::BadMask);
        }
        let (field, region, v, mk) = to_key(w, value, mask).ok_or(OfError::BadValue)?;
        if !prereq_ok(&m, w) {
            return Err(OfError::BadPrereq);
        }
        let mut bits = FlowKey::ZERO;
        bits.set(field, region);
        if !bits.masked(&m.mask).is_zero() {
            return Err(OfError::DupField);
        }
        // A zero mask matches nothing more (OVS keeps it a wildcard).
        m.mask.set_masked(field, mk, mk);
        m.value.set_masked(field, v, mk);
    }
    Ok((m, padded))
}

/// The match encoder: `left` holds the bits of the mask not yet written.
struct Enc<'a> {
    m: &'a Match,
    left: FlowKey,
    out: &'a mut Vec<u8>,
}

impl Enc<'_> {
    /// Writes the still-unwritten matched bits of `f` as `w` (a
    /// [`Map::Plain`] field): exact when they are all of `f`.
    fn plain(&mut self, w: &WireField, f: Field) {
        let mk = self.m.mask_of(f) & self.left.get(f);
        if mk == 0 {
            return;
        }
        let v = self.m.value_of(f) & mk;
        put_tlv(self.out, w, v, (mk != f.max()).then_some(mk));
        self.left.set_masked(f, 0, mk);
    }

    /// `vlan_tci` as OXM VLAN_VID (+ VLAN_PCP), as OVS's nx_put_raw, or
    /// as NXM_OF_VLAN_TCI when that would lose bits.
    fn vlan(&mut self) {
        let (v, mk) = (self.m.value_of(Field::VlanTci), self.m.mask_of(Field::VlanTci));
        if self.left.get(Field::VlanTci) == 0 {
            return;
        }
        let cfi = u128::from(VLAN_CFI);
        let (vid, vid_mask, pcp_mask) = (v & 0x1fff, mk & 0x1fff, mk & 0xe000);
        // "Untagged" means a TCI of 0, so matched PCP bits that are 0 add
        // nothing: OVS writes `dl_vlan=0xffff` as `vlan_vid=0` too.
        let untagged = mk & cfi != 0 && v & cfi == 0 && v & pcp_mask == 0;
        if pcp_mask == 0 || untagged {
            put_tlv(
                self.out,
                &OXM_VLAN_VID,
                vid,
                (vid_mask != 0x1fff).then_some(vid_mask),
            );
        } else if pcp_mask == 0xe000 && mk & v & cfi != 0 {
            put_tlv(
                self.out,
                &OXM_VLAN_VID,
                vid,
                (vid_mask != 0x1fff).then_some(vid_mask),
            );
            put_tlv(self.out, &OXM_VLAN_PCP, v >> 13, None);
        } else {
            put_tlv(self.out, &NXM_VLAN_TCI, v, (mk != 0xffff).then_some(mk));
        }
        self.left.set(Field::VlanTci, 0);
    }
}

/// Appends `m` as an `ofp_match` of type OXM, padded to 8 bytes.
pub fn encode_match(m: &Match, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&OFPMT_OXM.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    encode_fields(m, out);
    let len = (out.len() - start) as u16;
    out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
    pad8(out, start);
}

/// The OXM TLVs of `m`, in OVS's order (`nx_put_raw`), then any bits that
/// order did not reach (a match whose fields lack their prerequisites,
/// which the decoder and the parser refuse, still loses nothing).
pub fn encode_fields(m: &Match, out: &mut Vec<u8>) {
    let mut e = Enc { m, left: m.mask, out };
    if m.mask_of(Field::InPort) != 0 {
        let port = port_to_of13(m.value_of(Field::InPort) as u16);
        put_tlv(e.out, &OXM_IN_PORT, u128::from(port), None);
        e.left.set(Field::InPort, 0);
    }
    e.plain(&OXM_ETH_SRC, F::DlSrc);
    e.plain(&OXM_ETH_DST, F::DlDst);
    e.plain(&OXM_ETH_TYPE, F::DlType);
    e.vlan();
    let dl_type = exact(m, Field::DlType);
    let proto = exact(m, Field::NwProto).map(|p| p as u8);
    match dl_type {
        Some(0x0800) | Some(0x86dd) => {
            let v4 = dl_type == Some(0x0800);
            if v4 {
                e.plain(&OXM_IPV4_SRC, F::NwSrc);
                e.plain(&OXM_IPV4_DST, F::NwDst);
            } else {
                e.plain(&OXM_IPV6_SRC, F::Ipv6Src);
                e.plain(&OXM_IPV6_DST, F::Ipv6Dst);
            }
            e.plain(&OXM_IP_DSCP, F::IpDscp);
            e.plain(&OXM_IP_ECN, F::NwEcn);
            e.plain(&NXM_IP_TTL, F::NwTtl);
            e.plain(&OXM_IPV6_FLABEL, F::Ipv6Label);
            e.plain(&OXM_IP_PROTO, F::NwProto);
            match proto {
                Some(6) => {
                    e.plain(&OXM_TCP_SRC, F::TpSrc);
                    e.plain(&OXM_TCP_DST, F::TpDst);
                    e.plain(&ONF_TCP_FLAGS, F::TcpFlags);
                }
                Some(17) => {
                    e.plain(&OXM_UDP_SRC, F::TpSrc);
                    e.plain(&OXM_UDP_DST, F::TpDst);
                }
                Some(132) => {
                    e.plain(&OXM_SCTP_SRC, F::TpSrc);
                    e.plain(&OXM_SCTP_DST, F::TpDst);
                }
                Some(1) if v4 => {
                    e.plain(&OXM_ICMPV4_TYPE, F::IcmpType);
                    e.plain(&OXM_ICMPV4_CODE, F::IcmpCode);
                }
                Some(58) if !v4 => {
                    e.plain(&OXM_ICMPV6_TYPE, F::Icmpv6Type);
                    e.plain(&OXM_ICMPV6_CODE, F::Icmpv6Code);
                    if matches!(exact(m, Field::Icmpv6Type), Some(135) | Some(136)) {
                        e.plain(&OXM_IPV6_ND_TARGET, F::NdTarget);
                    }
                }
                _ => {}
            }
        }
        Some(0x0806) | Some(0x8035) => {
            e.plain(&OXM_ARP_OP, F::ArpOp);
            e.plain(&OXM_ARP_SPA, F::ArpSpa);
            e.plain(&OXM_ARP_TPA, F::ArpTpa);
            e.plain(&OXM_ARP_SHA, F::ArpSha);
            e.plain(&OXM_ARP_THA, F::ArpTha);
        }
        _ => {}
    }
    e.plain(&OXM_TUNNEL_ID, F::TunId);
    for (i, w) in NXM_REGS.iter().enumerate() {
        e.plain(w, Field::reg(i).expect("8 registers"));
    }
    e.plain(&OXM_METADATA, F::Metadata);
    // Leftovers, by the registry's order. Skipped: fields whose bits
    // another one covers entirely and comes first or later in that order
    // (dl_vlan and dl_vlan_pcp: vlan_tci; nw_tos: ip_dscp + nw_ecn; the ARP
    // and ICMP overlays: nw_proto, nw_src/nw_dst, tp_src/tp_dst).
    for f in Field::ALL {
        match f {
            F::VlanVid
            | F::VlanPcp
            | F::NwTos
            | F::ArpOp
            | F::ArpSpa
            | F::ArpTpa
            | F::IcmpType
            | F::IcmpCode
            | F::Icmpv6Type
            | F::Icmpv6Code => {}
            F::VlanTci => e.vlan(),
            F::InPort => e.plain(&NXM_IN_PORT, F::InPort),
            _ => e.plain(wire_for(*f, proto), *f),
        }
    }
}

/// Decodes one OXM TLV of a set-field action: the field and its value.
///
/// `buf` is the TLV, optionally followed by the action's padding, which
/// must be zero (OVS). The value comes out as the field holds it:
/// `vlan_vid` must carry OFPVID_PRESENT (OVS, and OpenFlow 1.5 says so)
/// and gives [`Field::VlanVid`]'s 12 bits; NXM_OF_IP_TOS gives
/// [`Field::IpDscp`] (as the `ovs-ofctl` parser normalizes `nw_tos`).
///
/// # Errors
/// Unknown or unwritable field (BadSetType), wrong length (BadSetLen), a
/// mask, a value the field cannot take or non-zero padding
/// (BadSetArgument; OpenFlow 1.3 has no code for a mask, OVS's
/// OFPBAC_BAD_SET_MASK being 1.5's).
pub fn decode_set_field(buf: &[u8]) -> Result<(Field, u128), OfError> {
    let raw = raw_tlv(buf).ok_or(OfError::BadSetLen)?;
    let w = lookup(raw.class, raw.field, raw.experimenter).ok_or(OfError::BadSetType)?;
    if raw.masked {
        return Err(OfError::BadSetArgument);
    }
    if raw.payload.len() != usize::from(w.len) {
        return Err(OfError::BadSetLen);
    }
    if buf[raw.total..].iter().any(|b| *b != 0) {
        return Err(OfError::BadSetArgument);
    }
    let v = be(raw.payload);
    let present = u128::from(OFPVID_PRESENT);
    match w.map {
        Map::InPort32 => Err(OfError::BadSetType),
        Map::Plain(f) if !f.writable() => Err(OfError::BadSetType),
        Map::Plain(f) if v > f.max() => Err(OfError::BadSetArgument),
        Map::Plain(f) => Ok((f, v)),
        Map::VlanVid if v & present == 0 || v > 0x1fff => Err(OfError::BadSetArgument),
        Map::VlanVid => Ok((Field::VlanVid, v & 0xfff)),
        Map::VlanPcp if v > 7 => Err(OfError::BadSetArgument),
        Map::VlanPcp => Ok((Field::VlanPcp, v)),
        Map::IpTos if v & 3 != 0 => Err(OfError::BadSetArgument),
        Map::IpTos => Ok((Field::IpDscp, v >> 2)),
    }
}

/// Appends the OXM TLV (no mask) that sets `field` to `value`: the TLV of
/// a set-field action, without the action's header and padding. The
/// inverse of [`decode_set_field`]: `dl_vlan` goes out as OXM VLAN_VID
/// with OFPVID_PRESENT, `tp_src`/`tp_dst` as the `nw_proto`'s protocol
/// (TCP when `None`), `in_port` as a 32-bit port. `nw_tos` goes out as
/// IP_DSCP, its DSCP bits only: a write of its ECN bits needs a second
/// TLV, of [`Field::NwEcn`].
pub fn encode_set_field(field: Field, value: u128, nw_proto: Option<u8>, out: &mut Vec<u8>) {
    let w = wire_for(field, nw_proto);
    let v = match field {
        F::VlanVid => (value & 0xfff) | u128::from(OFPVID_PRESENT),
        F::InPort => u128::from(port_to_of13(value as u16)),
        F::NwTos => (value >> 2) & 0x3f,
        _ => value & field.max(),
    };
    put_tlv(out, w, v, None);
}

#[cfg(test)]
mod tests;

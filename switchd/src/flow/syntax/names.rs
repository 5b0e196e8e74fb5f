//! What the syntax needs to know about each [`Field`] beyond the registry
//! in [`crate::flow::key`]: the kind of value it takes, whether a match or
//! `set_field` may mask it (as OVS's `ovs-fields(7)` "Maskable"), how OVS
//! prints it, the extra names `ovs-ofctl` accepts for it (`ip_src`, the
//! NXM/OXM names of `load:` destinations), and the words for its
//! prerequisite in error messages.
//!
//! Kept apart from the key registry because only the text form cares, and
//! apart from the parser because the printer needs the same tables.

use crate::flow::key::{Field, Prereq};

/// The kind of value a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// An OpenFlow port (name or number).
    Port,
    /// A MAC address.
    Mac,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// TCP flags (`+syn-ack`, `syn|ack`, or numbers).
    TcpFlags,
    /// A number printed in decimal.
    Dec,
    /// A number printed in hex (OVS's "Formatting: hexadecimal").
    Hex,
}

/// The value kind of `f`.
pub(super) fn kind(f: Field) -> Kind {
    use Field::*;
    match f {
        InPort => Kind::Port,
        DlSrc | DlDst | ArpSha | ArpTha => Kind::Mac,
        NwSrc | NwDst | ArpSpa | ArpTpa => Kind::Ipv4,
        Ipv6Src | Ipv6Dst | NdTarget => Kind::Ipv6,
        TcpFlags => Kind::TcpFlags,
        DlType | VlanTci | Ipv6Label | TunId | Metadata | Reg0 | Reg1 | Reg2 | Reg3 | Reg4 | Reg5 | Reg6
        | Reg7 => Kind::Hex,
        VlanVid | VlanPcp | NwProto | ArpOp | NwTos | IpDscp | NwEcn | NwTtl | TpSrc | TpDst | IcmpType
        | IcmpCode | Icmpv6Type | Icmpv6Code => Kind::Dec,
    }
}

/// Whether `f` takes an arbitrary bit mask (OVS "Maskable: bitwise"). The
/// others take only an all-ones mask (which is the same as none).
pub(super) fn maskable(f: Field) -> bool {
    use Field::*;
    matches!(
        f,
        DlSrc
            | DlDst
            | VlanTci
            | NwSrc
            | NwDst
            | ArpSpa
            | ArpTpa
            | ArpSha
            | ArpTha
            | Ipv6Src
            | Ipv6Dst
            | Ipv6Label
            | NdTarget
            | TpSrc
            | TpDst
            | TcpFlags
            | TunId
            | Metadata
            | Reg0
            | Reg1
            | Reg2
            | Reg3
            | Reg4
            | Reg5
            | Reg6
            | Reg7
    )
}

/// The name `load:` prints for `f`: OVS's first NXM/OXM name for it (what
/// `ovs-ofctl` prints, e.g. `NXM_NX_REG0`), or the field's own name where
/// OVS has no protocol-neutral one (`tp_src` is TCP, UDP or SCTP here,
/// while OVS's `NXM_OF_TCP_SRC` would require TCP; `dl_vlan` has none).
pub(super) fn load_name(f: Field) -> &'static str {
    use Field::*;
    match f {
        InPort => "NXM_OF_IN_PORT",
        DlType => "NXM_OF_ETH_TYPE",
        VlanTci => "NXM_OF_VLAN_TCI",
        VlanPcp => "OXM_OF_VLAN_PCP",
        NwProto => "NXM_OF_IP_PROTO",
        ArpOp => "NXM_OF_ARP_OP",
        NwTos => "NXM_OF_IP_TOS",
        IpDscp => "OXM_OF_IP_DSCP",
        NwEcn => "NXM_NX_IP_ECN",
        DlDst => "NXM_OF_ETH_DST",
        NwTtl => "NXM_NX_IP_TTL",
        DlSrc => "NXM_OF_ETH_SRC",
        TcpFlags => "NXM_NX_TCP_FLAGS",
        NwSrc => "NXM_OF_IP_SRC",
        NwDst => "NXM_OF_IP_DST",
        ArpSpa => "NXM_OF_ARP_SPA",
        ArpTpa => "NXM_OF_ARP_TPA",
        IcmpType => "NXM_OF_ICMP_TYPE",
        IcmpCode => "NXM_OF_ICMP_CODE",
        Icmpv6Type => "NXM_NX_ICMPV6_TYPE",
        Icmpv6Code => "NXM_NX_ICMPV6_CODE",
        Ipv6Label => "NXM_NX_IPV6_LABEL",
        TunId => "NXM_NX_TUN_ID",
        Metadata => "OXM_OF_METADATA",
        Reg0 => "NXM_NX_REG0",
        Reg1 => "NXM_NX_REG1",
        Reg2 => "NXM_NX_REG2",
        Reg3 => "NXM_NX_REG3",
        Reg4 => "NXM_NX_REG4",
        Reg5 => "NXM_NX_REG5",
        Reg6 => "NXM_NX_REG6",
        Reg7 => "NXM_NX_REG7",
        Ipv6Src => "NXM_NX_IPV6_SRC",
        Ipv6Dst => "NXM_NX_IPV6_DST",
        NdTarget => "NXM_NX_ND_TARGET",
        ArpSha => "NXM_NX_ARP_SHA",
        ArpTha => "NXM_NX_ARP_THA",
        TpSrc | TpDst | VlanVid => f.name(),
    }
}

/// The name `set_field` prints for `f`: the field's own name, except
/// `vlan_pcp` for `dl_vlan_pcp` (same bits and meaning; OVS can encode only
/// the OXM one in an OpenFlow 1.2+ set_field) and, when the match pins the
/// transport protocol (`proto`), `tcp_src`/`udp_dst`/... for `tp_src`/
/// `tp_dst` (OVS's `tp_src` is an alias of `tcp_src`, which a UDP flow
/// cannot write).
pub(super) fn set_field_name(f: Field, proto: Option<u8>) -> &'static str {
    match (f, proto) {
        (Field::VlanPcp, _) => "vlan_pcp",
        (Field::TpSrc, Some(6)) => "tcp_src",
        (Field::TpDst, Some(6)) => "tcp_dst",
        (Field::TpSrc, Some(17)) => "udp_src",
        (Field::TpDst, Some(17)) => "udp_dst",
        (Field::TpSrc, Some(132)) => "sctp_src",
        (Field::TpDst, Some(132)) => "sctp_dst",
        _ => f.name(),
    }
}

/// The name `load` prints for `f`, as [`load_name`] but with the
/// protocol-specific NXM/OXM name of `tp_src`/`tp_dst` when the match pins
/// the transport protocol (what `ovs-ofctl` prints).
pub(super) fn load_name_in(f: Field, proto: Option<u8>) -> &'static str {
    match (f, proto) {
        (Field::TpSrc, Some(6)) => "NXM_OF_TCP_SRC",
        (Field::TpDst, Some(6)) => "NXM_OF_TCP_DST",
        (Field::TpSrc, Some(17)) => "NXM_OF_UDP_SRC",
        (Field::TpDst, Some(17)) => "NXM_OF_UDP_DST",
        (Field::TpSrc, Some(132)) => "OXM_OF_SCTP_SRC",
        (Field::TpDst, Some(132)) => "OXM_OF_SCTP_DST",
        _ => load_name(f),
    }
}

/// Names `ovs-ofctl` accepts that [`Field::from_name`] does not know, and
/// the protocol-specific port names (`tcp_dst` requires TCP in OVS, while
/// switchd's `tp_dst` is any of TCP/UDP/SCTP). `Some(proto)`: the name
/// also requires `nw_proto=proto`.
const ALIASES: &[(&str, Field, Option<u8>)] = &[
    ("ip_src", Field::NwSrc, None),
    ("ip_dst", Field::NwDst, None),
    ("tcp_src", Field::TpSrc, Some(6)),
    ("tcp_dst", Field::TpDst, Some(6)),
    ("udp_src", Field::TpSrc, Some(17)),
    ("udp_dst", Field::TpDst, Some(17)),
    ("sctp_src", Field::TpSrc, Some(132)),
    ("sctp_dst", Field::TpDst, Some(132)),
    ("NXM_OF_TCP_SRC", Field::TpSrc, Some(6)),
    ("NXM_OF_TCP_DST", Field::TpDst, Some(6)),
    ("NXM_OF_UDP_SRC", Field::TpSrc, Some(17)),
    ("NXM_OF_UDP_DST", Field::TpDst, Some(17)),
    ("OXM_OF_TCP_SRC", Field::TpSrc, Some(6)),
    ("OXM_OF_TCP_DST", Field::TpDst, Some(6)),
    ("OXM_OF_UDP_SRC", Field::TpSrc, Some(17)),
    ("OXM_OF_UDP_DST", Field::TpDst, Some(17)),
    ("OXM_OF_SCTP_SRC", Field::TpSrc, Some(132)),
    ("OXM_OF_SCTP_DST", Field::TpDst, Some(132)),
    ("OXM_OF_ETH_SRC", Field::DlSrc, None),
    ("OXM_OF_ETH_DST", Field::DlDst, None),
    ("OXM_OF_ETH_TYPE", Field::DlType, None),
    ("OXM_OF_IP_PROTO", Field::NwProto, None),
    ("OXM_OF_IP_ECN", Field::NwEcn, None),
    ("OXM_OF_IPV4_SRC", Field::NwSrc, None),
    ("OXM_OF_IPV4_DST", Field::NwDst, None),
    ("OXM_OF_ARP_OP", Field::ArpOp, None),
    ("OXM_OF_ARP_SPA", Field::ArpSpa, None),
    ("OXM_OF_ARP_TPA", Field::ArpTpa, None),
    ("OXM_OF_ARP_SHA", Field::ArpSha, None),
    ("OXM_OF_ARP_THA", Field::ArpTha, None),
    ("OXM_OF_ICMPV4_TYPE", Field::IcmpType, None),
    ("OXM_OF_ICMPV4_CODE", Field::IcmpCode, None),
    ("OXM_OF_ICMPV6_TYPE", Field::Icmpv6Type, None),
    ("OXM_OF_ICMPV6_CODE", Field::Icmpv6Code, None),
    ("OXM_OF_IPV6_SRC", Field::Ipv6Src, None),
    ("OXM_OF_IPV6_DST", Field::Ipv6Dst, None),
    ("OXM_OF_IPV6_FLABEL", Field::Ipv6Label, None),
    ("OXM_OF_IPV6_ND_TARGET", Field::NdTarget, None),
    ("OXM_OF_TUNNEL_ID", Field::TunId, None),
];

/// A field as named in the text: the field and any extra `nw_proto` the
/// name itself requires (see [`ALIASES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Named {
    pub field: Field,
    pub proto: Option<u8>,
}

/// The field called `name`: the registry's names and aliases, the
/// protocol-specific port names, and every name [`load_name`] prints.
pub(super) fn lookup(name: &str) -> Option<Named> {
    if let Some((_, field, proto)) = ALIASES.iter().find(|(n, _, _)| *n == name) {
        return Some(Named {
            field: *field,
            proto: *proto,
        });
    }
    let field =
        Field::from_name(name).or_else(|| Field::ALL.iter().copied().find(|f| load_name(*f) == name))?;
    Some(Named { field, proto: None })
}

/// What a prerequisite asks for and how to add it, for messages:
/// `("tcp, udp or sctp", "add \"tcp,\" or \"udp,\"")`.
pub(super) fn prereq_words(p: Prereq) -> (&'static str, &'static str) {
    match p {
        Prereq::None => ("nothing", ""),
        Prereq::Ipv4 => ("IPv4", "add \"ip,\""),
        Prereq::Ipv6 => ("IPv6", "add \"ipv6,\""),
        Prereq::Ip => ("IPv4 or IPv6", "add \"ip,\" or \"ipv6,\""),
        Prereq::Arp => ("ARP", "add \"arp,\""),
        Prereq::L4 => ("tcp, udp or sctp", "add \"tcp,\" or \"udp,\""),
        Prereq::Tcp => ("tcp", "add \"tcp,\""),
        Prereq::Icmp => ("icmp", "add \"icmp,\""),
        Prereq::Icmpv6 => ("icmp6", "add \"icmp6,\""),
        Prereq::Nd => (
            "icmp6 with icmp_type 135 or 136",
            "add \"icmp6,icmp_type=135,\" or \"icmp6,icmp_type=136,\"",
        ),
    }
}

/// The same for the `nw_proto` a protocol-specific name requires.
pub(super) fn proto_words(proto: u8) -> (&'static str, &'static str) {
    match proto {
        6 => ("tcp", "add \"tcp,\""),
        17 => ("udp", "add \"udp,\""),
        _ => ("sctp", "add \"sctp,\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_printed_name_looks_up_to_its_field() {
        for f in Field::ALL {
            assert_eq!(lookup(f.name()).map(|n| n.field), Some(*f), "{f:?}");
            assert_eq!(lookup(load_name(*f)).map(|n| n.field), Some(*f), "{f:?}");
        }
        assert_eq!(
            lookup("udp_dst"),
            Some(Named {
                field: Field::TpDst,
                proto: Some(17)
            })
        );
    }
}

//! The canonical printer: matches in the order and spelling of OVS's
//! `match_format` (lib/match.c), actions as OVS's `format_*` functions
//! (lib/ofp-actions.c) print them, and whole flows as `add-flow` lines.
//!
//! Canonical means: what [`super::parse_flow`] reads back to the same
//! value. Where OVS's spelling depends on something switchd does not keep
//! (OpenFlow version, `raw` action encodings), the printer uses the
//! spelling that round-trips: a whole-field write prints as `set_field`
//! (OVS prints register writes as `load:...[]`), `load` prints only for bit
//! ranges; `tp_src`/`tp_dst` keep their protocol-neutral names.

use super::lex::{self, fmt_hex, fmt_ipv4_masked, fmt_ipv6_masked, fmt_mac, fmt_port};
use super::names::{self, Kind};
use super::values::{exact, satisfied, TCP_FLAGS};
use crate::flow::key::{Field, Prereq, VLAN_CFI};
use crate::flow::types::{ofport, Action, FlowSpec, Match, PortNames, DEFAULT_PRIORITY};

/// The match in `ovs-ofctl`'s canonical form, without the priority:
/// the protocol shorthand (`tcp`, `arp`, ...), registers, `tun_id`,
/// `metadata`, `in_port`, VLAN, MACs, a `dl_type` no shorthand covers,
/// addresses, `nw_proto`, TOS/ECN/TTL, ports (or ICMP type/code) and TCP
/// flags. The empty match prints as "".
pub fn format_match(m: &Match, names: &dyn PortNames) -> String {
    let mut out: Vec<String> = Vec::new();
    let get = |f: Field| (m.value_of(f), m.mask_of(f));
    let (dl_type, dl_mask) = get(Field::DlType);
    let (proto, proto_mask) = get(Field::NwProto);
    let ip4 = dl_mask != 0 && dl_type == 0x0800;
    let ip6 = dl_mask != 0 && dl_type == 0x86dd;
    let arp = dl_mask != 0 && (dl_type == 0x0806 || dl_type == 0x8035);

    // The shorthand, and whether it says the dl_type / nw_proto already.
    let mut skip_type = false;
    let mut skip_proto = false;
    if dl_mask != 0 {
        skip_type = true;
        let by_proto = |v4: bool| -> &'static str {
            match (proto_mask != 0, proto, v4) {
                (true, 1, true) => "icmp",
                (true, 58, false) => "icmp6",
                (true, 6, true) => "tcp",
                (true, 6, false) => "tcp6",
                (true, 17, true) => "udp",
                (true, 17, false) => "udp6",
                (true, 132, true) => "sctp",
                (true, 132, false) => "sctp6",
                (_, _, true) => "ip",
                (_, _, false) => "ipv6",
            }
        };
        let word = match dl_type {
            0x0800 => by_proto(true),
            0x86dd => by_proto(false),
            0x0806 => "arp",
            0x8035 => "rarp",
            _ => {
                skip_type = false;
                ""
            }
        };
        if skip_type {
            skip_proto = !matches!(word, "ip" | "ipv6" | "arp" | "rarp");
            out.push(word.to_string());
        }
    }

    for i in 0..8 {
        let f = Field::reg(i).expect("8 registers");
        hex_masked(&mut out, f.name(), get(f), f.max());
    }
    hex_masked(&mut out, "tun_id", get(Field::TunId), Field::TunId.max());
    hex_masked(&mut out, "metadata", get(Field::Metadata), Field::Metadata.max());

    let (port, port_mask) = get(Field::InPort);
    if port_mask != 0 {
        out.push(format!("in_port={}", fmt_port(port as u16, names)));
    }

    let (tci, tci_mask) = get(Field::VlanTci);
    if tci_mask != 0 {
        let (tci, tci_mask) = (tci as u16, tci_mask as u16);
        let vid_mask = tci_mask & 0x0fff;
        let pcp_mask = tci_mask & 0xe000;
        if tci_mask & VLAN_CFI != 0
            && tci & VLAN_CFI != 0
            && (vid_mask == 0 || vid_mask == 0x0fff)
            && (pcp_mask == 0 || pcp_mask == 0xe000)
            && (vid_mask != 0 || pcp_mask != 0)
        {
            if vid_mask != 0 {
                out.push(format!("dl_vlan={}", tci & 0x0fff));
            }
            if pcp_mask != 0 {
                out.push(format!("dl_vlan_pcp={}", tci >> 13));
            }
        } else if tci_mask == 0xffff {
            out.push(format!("vlan_tci=0x{tci:04x}"));
        } else {
            out.push(format!("vlan_tci=0x{tci:04x}/0x{tci_mask:04x}"));
        }
    }

    mac_masked(&mut out, "dl_src", get(Field::DlSrc));
    mac_masked(&mut out, "dl_dst", get(Field::DlDst));

    if !skip_type && dl_mask != 0 {
        out.push(format!("dl_type=0x{dl_type:04x}"));
    }
    if ip6 {
        ipv6_masked(&mut out, "ipv6_src", get(Field::Ipv6Src));
        ipv6_masked(&mut out, "ipv6_dst", get(Field::Ipv6Dst));
        let (label, label_mask) = get(Field::Ipv6Label);
        if label_mask == Field::Ipv6Label.max() {
            out.push(format!("ipv6_label=0x{label:05x}"));
        } else if label_mask != 0 {
            out.push(format!("ipv6_label=0x{label:05x}/0x{label_mask:05x}"));
        }
    } else if arp {
        ipv4_masked(&mut out, "arp_spa", get(Field::ArpSpa));
        ipv4_masked(&mut out, "arp_tpa", get(Field::ArpTpa));
    } else {
        ipv4_masked(&mut out, "nw_src", get(Field::NwSrc));
        ipv4_masked(&mut out, "nw_dst", get(Field::NwDst));
    }
    if !skip_proto && proto_mask != 0 {
        out.push(format!("{}={proto}", if arp { "arp_op" } else { "nw_proto" }));
    }
    if arp {
        mac_masked(&mut out, "arp_sha", get(Field::ArpSha));
        mac_masked(&mut out, "arp_tha", get(Field::ArpTha));
    }
    let (tos, tos_mask) = get(Field::NwTos);
    if tos_mask & 0xfc != 0 {
        out.push(format!("nw_tos={}", tos & 0xfc));
    }
    if tos_mask & 0x03 != 0 {
        out.push(format!("nw_ecn={}", tos & 0x03));
    }
    let (ttl, ttl_mask) = get(Field::NwTtl);
    if ttl_mask != 0 {
        out.push(format!("nw_ttl={ttl}"));
    }
    // OVS prints ICMPv6 type and code as icmp_type/icmp_code too.
    if (ip4 && proto == 1) || (ip6 && proto == 58) {
        let (t, c) = if ip4 {
            (Field::IcmpType, Field::IcmpCode)
        } else {
            (Field::Icmpv6Type, Field::Icmpv6Code)
        };
        dec_masked(&mut out, "icmp_type", get(t), t.max());
        dec_masked(&mut out, "icmp_code", get(c), c.max());
        if ip6 {
            ipv6_masked(&mut out, "nd_target", get(Field::NdTarget));
        }
    } else {
        dec_masked(&mut out, "tp_src", get(Field::TpSrc), Field::TpSrc.max());
        dec_masked(&mut out, "tp_dst", get(Field::TpDst), Field::TpDst.max());
    }
    let (flags, flags_mask) = get(Field::TcpFlags);
    if (ip4 || ip6) && proto == 6 && flags_mask != 0 {
        out.push(format!("tcp_flags={}", fmt_tcp_flags(flags, flags_mask)));
    }
    out.join(",")
}

/// `tcp_flags` as OVS's `format_flags_masked`: `syn|ack` (or `0`) when
/// every flag is matched, else `+syn-ack` over the matched flags.
fn fmt_tcp_flags(value: u128, mask: u128) -> String {
    if mask == Field::TcpFlags.max() {
        let set: Vec<&str> = (0..12)
            .filter(|b| value & (1 << b) != 0)
            .map(|b| TCP_FLAGS[b])
            .collect();
        return if set.is_empty() {
            "0".to_string()
        } else {
            set.join("|")
        };
    }
    (0..12)
        .filter(|b| mask & (1 << b) != 0)
        .map(|b| {
            format!(
                "{}{}",
                if value & (1 << b) != 0 { '+' } else { '-' },
                TCP_FLAGS[b]
            )
        })
        .collect()
}

/// OVS's `format_uint32_masked`/`format_be64_masked`: `0x5`, `0`,
/// `0x5/0xf`.
fn hex_masked(out: &mut Vec<String>, name: &str, (v, m): (u128, u128), max: u128) {
    if m == 0 {
        return;
    }
    if m == max {
        out.push(format!("{name}={}", fmt_hex(v)));
    } else {
        out.push(format!("{name}={}/{}", fmt_hex(v), fmt_hex(m)));
    }
}

/// OVS's `format_be16_masked`: decimal when exact, hex with a mask.
fn dec_masked(out: &mut Vec<String>, name: &str, (v, m): (u128, u128), max: u128) {
    if m == 0 {
        return;
    }
    if m == max {
        out.push(format!("{name}={v}"));
    } else {
        out.push(format!("{name}={v:#x}/{m:#x}"));
    }
}

fn mac_masked(out: &mut Vec<String>, name: &str, (v, m): (u128, u128)) {
    if m == 0 {
        return;
    }
    let mut s = format!("{name}={}", fmt_mac(lex::u128_to_mac(v)));
    if m != (1 << 48) - 1 {
        s.push('/');
        s.push_str(&fmt_mac(lex::u128_to_mac(m)));
    }
    out.push(s);
}

fn ipv4_masked(out: &mut Vec<String>, name: &str, (v, m): (u128, u128)) {
    if m != 0 {
        out.push(format!("{name}={}", fmt_ipv4_masked(v as u32, m as u32)));
    }
}

fn ipv6_masked(out: &mut Vec<String>, name: &str, (v, m): (u128, u128)) {
    if m != 0 {
        out.push(format!("{name}={}", fmt_ipv6_masked(v, m)));
    }
}

/// A value of `f` (under `mask`) as `set_field` takes it.
fn fmt_value(f: Field, value: u128, mask: u128, names: &dyn PortNames) -> String {
    let full = mask == f.max();
    match names::kind(f) {
        Kind::Mac => {
            let mut s = fmt_mac(lex::u128_to_mac(value));
            if !full {
                s.push('/');
                s.push_str(&fmt_mac(lex::u128_to_mac(mask)));
            }
            s
        }
        Kind::Ipv4 => fmt_ipv4_masked(value as u32, mask as u32),
        Kind::Ipv6 => fmt_ipv6_masked(value, mask),
        Kind::Port if full => fmt_port(value as u16, names),
        Kind::Dec if full => value.to_string(),
        // OVS's mf_format_integer_string: the value as the field prints,
        // the mask in hex.
        Kind::Dec => format!("{value}/{}", fmt_hex(mask)),
        Kind::Port | Kind::Hex | Kind::TcpFlags => {
            if full {
                fmt_hex(value)
            } else {
                format!("{}/{}", fmt_hex(value), fmt_hex(mask))
            }
        }
    }
}

/// One action as `ovs-ofctl` prints it; `proto` is the transport protocol
/// the flow's match pins, if any (for the names of port writes).
fn fmt_action(a: &Action, names: &dyn PortNames, proto: Option<u8>) -> String {
    match a {
        Action::Output(p) if *p <= ofport::MAX => format!("output:{}", fmt_port(*p, names)),
        Action::Output(p) => lex::RESERVED_PORTS
            .iter()
            .find(|(_, v)| v == p)
            .map_or_else(|| format!("output:{p}"), |(n, _)| n.to_string()),
        Action::Normal => "NORMAL".into(),
        Action::Flood => "FLOOD".into(),
        Action::All => "ALL".into(),
        Action::InPort => "IN_PORT".into(),
        Action::Controller { max_len } => format!("CONTROLLER:{max_len}"),
        Action::ModVlanVid(v) => format!("mod_vlan_vid:{v}"),
        Action::ModVlanPcp(p) => format!("mod_vlan_pcp:{p}"),
        Action::StripVlan => "strip_vlan".into(),
        Action::PushVlan(t) => format!("push_vlan:{t:#x}"),
        Action::PopVlan => "pop_vlan".into(),
        Action::ModDlSrc(m) => format!("mod_dl_src:{}", fmt_mac(*m)),
        Action::ModDlDst(m) => format!("mod_dl_dst:{}", fmt_mac(*m)),
        Action::ModNwSrc(ip) => format!("mod_nw_src:{}", std::net::Ipv4Addr::from(*ip)),
        Action::ModNwDst(ip) => format!("mod_nw_dst:{}", std::net::Ipv4Addr::from(*ip)),
        Action::ModNwTos(t) => format!("mod_nw_tos:{t}"),
        Action::ModTpSrc(p) => format!("mod_tp_src:{p}"),
        Action::ModTpDst(p) => format!("mod_tp_dst:{p}"),
        Action::DecTtl => "dec_ttl".into(),
        Action::SetField { field, value, mask } => format!(
            "set_field:{}->{}",
            fmt_value(*field, *value, *mask, names),
            names::set_field_name(*field, proto)
        ),
        Action::Load {
            field,
            start,
            n_bits,
            value,
        } => {
            let name = names::load_name_in(*field, proto);
            let range = if u32::from(*start) == 0 && *n_bits == field.place().bits {
                String::new()
            } else if *n_bits == 1 {
                start.to_string()
            } else {
                format!("{start}..{}", u32::from(*start) + u32::from(*n_bits) - 1)
            };
            format!("load:{}->{name}[{range}]", fmt_hex(*value))
        }
        Action::Resubmit { port, table } => {
            let p = port.map_or(String::new(), |p| fmt_port(p, names));
            match table {
                None if port.is_some() => format!("resubmit:{p}"),
                None => "resubmit(,)".into(),
                Some(t) => format!("resubmit({p},{t})"),
            }
        }
        Action::GotoTable(t) => format!("goto_table:{t}"),
        Action::SetTunnel(v) if *v > u64::from(u32::MAX) => format!("set_tunnel64:{v:#x}"),
        Action::SetTunnel(v) => format!("set_tunnel:{}", fmt_hex(u128::from(*v))),
        Action::Meter(n) => format!("meter:{n}"),
        Action::Group(n) => format!("group:{n}"),
        Action::Note(bytes) => {
            let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
            format!("note:{}", hex.join("."))
        }
    }
}

/// The actions as `ovs-ofctl` prints them, comma-separated; `drop` when
/// there are none. Writes of `tp_src`/`tp_dst` print under those
/// protocol-neutral names; [`format_actions_in`] knows the match and prints
/// `tcp_src`, `udp_dst`, ... as `ovs-ofctl` (which would read `tp_src` as
/// `tcp_src`) needs.
pub fn format_actions(a: &[Action], names: &dyn PortNames) -> String {
    fmt_actions(a, names, None)
}

/// [`format_actions`] for the actions of a flow matching `m`: the form to
/// show next to the match (`dump-flows`), which `ovs-ofctl` also accepts.
pub fn format_actions_in(a: &[Action], m: &Match, names: &dyn PortNames) -> String {
    let proto = if satisfied(m, Prereq::L4) {
        exact(m, Field::NwProto).map(|p| p as u8)
    } else {
        None
    };
    fmt_actions(a, names, proto)
}

fn fmt_actions(a: &[Action], names: &dyn PortNames, proto: Option<u8>) -> String {
    if a.is_empty() {
        return "drop".to_string();
    }
    a.iter()
        .map(|a| fmt_action(a, names, proto))
        .collect::<Vec<_>>()
        .join(",")
}

/// The `add-flow` line for `f`: `table` (if not 0), `priority` (if not
/// 32768), `cookie`, timeouts (if not 0), `send_flow_rem`, the match, then
/// ` actions=...`. [`super::parse_flow`] reads it back to an equal spec.
pub fn format_flow(f: &FlowSpec, names: &dyn PortNames) -> String {
    let mut head: Vec<String> = Vec::new();
    if f.table != 0 {
        head.push(format!("table={}", f.table));
    }
    if f.priority != DEFAULT_PRIORITY {
        head.push(format!("priority={}", f.priority));
    }
    if f.cookie != 0 {
        head.push(format!("cookie={:#x}", f.cookie));
    }
    if f.idle_timeout != 0 {
        head.push(format!("idle_timeout={}", f.idle_timeout));
    }
    if f.hard_timeout != 0 {
        head.push(format!("hard_timeout={}", f.hard_timeout));
    }
    if f.send_flow_rem {
        head.push("send_flow_rem".into());
    }
    let m = format_match(&f.matching, names);
    if !m.is_empty() {
        head.push(m);
    }
    let actions = format_actions_in(&f.actions, &f.matching, names);
    if head.is_empty() {
        format!("actions={actions}")
    } else {
        format!("{} actions={actions}", head.join(","))
    }
}

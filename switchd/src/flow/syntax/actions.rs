//! Parsing the action list of `actions=` and checking it against the match,
//! as OVS's `ofpacts_parse` and `ofpacts_check` do.
//!
//! Normalization (so that one meaning has one [`Action`] and the printer's
//! output parses back to the same list):
//!
//! - a write of a whole field, `set_field:V->F` or `load:V->F[]`, is
//!   `SetField { mask: F.max() }` (and prints as `set_field`);
//! - a write of a contiguous run of bits, `load:V->F[a..b]` or
//!   `set_field:V/MASK->F` with such a mask, is `Load` (and prints as
//!   `load`, as `ovs-ofctl` does);
//! - a write under another mask stays `SetField { mask }`;
//! - `set_field:V->nw_tos` is `SetField(ip_dscp, V >> 2)`: OVS's `nw_tos`
//!   field is the DSCP bits written in place (multiples of 4), exactly
//!   `ip_dscp` shifted.
//!
//! The `mod_*` spellings stay as written (types.rs: a flow prints back as
//! it was given).
//!
//! Checks against the match (OVS's `ofpacts_check`, which OVS applies to
//! OpenFlow 1.1+ only, and switchd to every flow): `mod_nw_src/dst` need
//! IPv4, `mod_nw_tos` and `dec_ttl` IP, `mod_tp_src/dst` TCP/UDP/SCTP, a
//! `set_field`/`load` the destination field's prerequisite, and a write of
//! `dl_vlan`/`dl_vlan_pcp` a VLAN tag (matched, or pushed by an earlier
//! action). `strip_vlan`/`pop_vlan` on a match that does not pin a tag are
//! accepted: that is the common OpenFlow 1.0 idiom, and stripping an
//! untagged frame does nothing. `goto_table` must be last and go to a later
//! table, `meter` must be first, `drop` must be alone.

use super::error::{invalid, SyntaxError};
use super::lex::{self, Token, Tokens};
use super::names;
use super::values::{exact, satisfied, value_masked};
use crate::flow::group::MAX_GROUP_ID;
use crate::flow::key::{Field, Prereq, VLAN_CFI};
use crate::flow::types::{ofport, Action, Match, PortNames, N_TABLES};

/// Largest meter id (OpenFlow 1.3's `OFPM_MAX`).
const METER_MAX: u128 = 0xffff_0000;

/// Parses the text after `actions=` for a flow in `table` matching `m`.
pub(super) fn parse(
    s: &str,
    names: &dyn PortNames,
    m: &Match,
    table: u8,
) -> Result<Vec<Action>, SyntaxError> {
    let mut out: Vec<Action> = Vec::new();
    let mut drop = false;
    // Whether the frame has a VLAN tag at this point of the list.
    let tci = m.value_of(Field::VlanTci) & m.mask_of(Field::VlanTci);
    let mut tagged = tci & u128::from(VLAN_CFI) != 0;
    for t in Tokens::new(s) {
        let key = t.key.to_ascii_lowercase();
        if key == "drop" {
            no_arg(&t)?;
            drop = true;
            continue;
        }
        let a = one(&key, &t, names, table)?;
        check(&a, &key, &t, m, &mut tagged)?;
        out.push(a);
    }
    if drop && !out.is_empty() {
        return Err(invalid("drop", "must be the only action"));
    }
    for (i, a) in out.iter().enumerate() {
        match a {
            Action::GotoTable(_) if i + 1 != out.len() => {
                return Err(invalid("goto_table", "must be the last action"))
            }
            Action::Meter(_) if i != 0 => {
                return Err(invalid(
                    "meter",
                    "must be the first action (OpenFlow meters a packet before its actions)",
                ))
            }
            _ => {}
        }
    }
    Ok(out)
}

fn no_arg(t: &Token) -> Result<(), SyntaxError> {
    if t.delim.is_some() {
        return Err(invalid(t.key, "takes no argument"));
    }
    Ok(())
}

/// The argument of `key:ARG`.
fn arg<'a>(t: &Token<'a>) -> Result<&'a str, SyntaxError> {
    match t.delim {
        Some(':') | Some('=') if !t.value.is_empty() => Ok(t.value),
        _ => Err(invalid(t.key, format!("missing argument ({}:VALUE)", t.key))),
    }
}

/// An output to `s`: a reserved port word or a real port.
fn output_to(what: &str, s: &str, names: &dyn PortNames) -> Result<Action, SyntaxError> {
    Ok(match lex::reserved_port(s) {
        Some(ofport::IN_PORT) => Action::InPort,
        Some(ofport::NORMAL) => Action::Normal,
        Some(ofport::FLOOD) => Action::Flood,
        Some(ofport::ALL) => Action::All,
        Some(ofport::CONTROLLER) => Action::Controller { max_len: u16::MAX },
        Some(_) => return Err(invalid(what, format!("{s} is not a port switchd can output to"))),
        None => Action::Output(lex::port(what, s, names)?),
    })
}

fn num(what: &str, s: &str, max: u128) -> Result<u128, SyntaxError> {
    lex::number_in(what, s, 0, max)
}

/// `drop`-less single action.
fn one(key: &str, t: &Token, names: &dyn PortNames, table: u8) -> Result<Action, SyntaxError> {
    Ok(match key {
        "output" => output_to("output", arg(t)?, names)?,
        "normal" | "flood" | "all" | "in_port" | "local" | "table" | "any" | "none" => {
            no_arg(t)?;
            output_to("output", t.key, names)?
        }
        "controller" => controller(t)?,
        "mod_vlan_vid" => Action::ModVlanVid(num(t.key, arg(t)?, 0xfff)? as u16),
        "mod_vlan_pcp" => Action::ModVlanPcp(num(t.key, arg(t)?, 7)? as u8),
        "strip_vlan" => {
            no_arg(t)?;
            Action::StripVlan
        }
        "pop_vlan" => {
            no_arg(t)?;
            Action::PopVlan
        }
        "push_vlan" => {
            let s = arg(t)?;
            let v = num(t.key, s, 0xffff)?;
            if v != 0x8100 {
                return Err(invalid(t.key, format!("{s} is not supported (only 0x8100)")));
            }
            Action::PushVlan(0x8100)
        }
        "mod_dl_src" | "mod_dl_dst" => {
            let s = arg(t)?;
            let m = lex::mac(s).ok_or_else(|| invalid(t.key, format!("\"{s}\" is not a MAC address")))?;
            if key == "mod_dl_src" {
                Action::ModDlSrc(m)
            } else {
                Action::ModDlDst(m)
            }
        }
        "mod_nw_src" | "mod_nw_dst" => {
            let s = arg(t)?;
            let ip: std::net::Ipv4Addr = s
                .parse()
                .map_err(|_| invalid(t.key, format!("\"{s}\" is not an IPv4 address")))?;
            if key == "mod_nw_src" {
                Action::ModNwSrc(ip.into())
            } else {
                Action::ModNwDst(ip.into())
            }
        }
        "mod_nw_tos" => {
            let s = arg(t)?;
            let v = num(t.key, s, 255)?;
            if v & 3 != 0 {
                return Err(invalid(
                    t.key,
                    format!("{s} is not a multiple of 4 (the low two bits are ECN)"),
                ));
            }
            Action::ModNwTos(v as u8)
        }
        "mod_tp_src" => Action::ModTpSrc(num(t.key, arg(t)?, 0xffff)? as u16),
        "mod_tp_dst" => Action::ModTpDst(num(t.key, arg(t)?, 0xffff)? as u16),
        "dec_ttl" => {
            no_arg(t)?;
            Action::DecTtl
        }
        "set_field" => set_field(arg(t)?, names)?,
        "load" => load(arg(t)?)?,
        "resubmit" => resubmit(t, names)?,
        "goto_table" => {
            let s = arg(t)?;
            let n = num(t.key, s, u128::from(N_TABLES - 1))? as u8;
            if n <= table {
                return Err(invalid(
                    t.key,
                    format!("{n} is not after this flow's table {table} (OpenFlow tables only go forward)"),
                ));
            }
            Action::GotoTable(n)
        }
        "set_tunnel" | "set_tunnel64" => Action::SetTunnel(num(t.key, arg(t)?, u128::from(u64::MAX))? as u64),
        "meter" => Action::Meter(lex::number_in(t.key, arg(t)?, 1, METER_MAX)? as u32),
        // Any id a group can have; ovs-ofctl takes every 32-bit value, but
        // those above OFPG_MAX name no group.
        "group" => Action::Group(num(t.key, arg(t)?, u128::from(MAX_GROUP_ID))? as u32),
        "note" => note(t)?,
        _ => {
            // A bare port: a number or a port name.
            if t.delim.is_none() && (lex::number(t.key).is_some() || names.ofport(t.key).is_some()) {
                return output_to("output", t.key, names);
            }
            return Err(SyntaxError::UnknownAction(t.key.to_string()));
        }
    })
}

/// `controller`, `controller:MAX_LEN`, `controller(max_len=N)`.
fn controller(t: &Token) -> Result<Action, SyntaxError> {
    let max_len = match t.delim {
        None => u16::MAX,
        Some('(') => {
            let mut max_len = None;
            for kv in Tokens::new(t.value) {
                if kv.key != "max_len" {
                    return Err(invalid(
                        t.key,
                        format!("\"{}\" is not supported (only max_len)", kv.key),
                    ));
                }
                if max_len.is_some() {
                    return Err(invalid(t.key, "max_len given twice"));
                }
                max_len = Some(num("controller max_len", kv.value, 0xffff)? as u16);
            }
            max_len.unwrap_or(u16::MAX)
        }
        _ => num(t.key, arg(t)?, 0xffff)? as u16,
    };
    Ok(Action::Controller { max_len })
}

/// `note:HEX.HEX...`: bytes as pairs of hex digits, dots optional.
fn note(t: &Token) -> Result<Action, SyntaxError> {
    if t.delim.is_none() {
        return Ok(Action::Note(Vec::new()));
    }
    let mut bytes = Vec::new();
    let mut rest = t.value.as_bytes();
    while !rest.is_empty() {
        if rest[0] == b'.' {
            rest = &rest[1..];
            continue;
        }
        let pair = rest
            .get(..2)
            .and_then(|p| std::str::from_utf8(p).ok())
            .filter(|p| p.bytes().all(|c| c.is_ascii_hexdigit()))
            .ok_or_else(|| invalid(t.key, format!("\"{}\" is not hex bytes (like 01.ab.ff)", t.value)))?;
        bytes.push(u8::from_str_radix(pair, 16).expect("two hex digits"));
        rest = &rest[2..];
    }
    Ok(Action::Note(bytes))
}

/// `resubmit:PORT`, `resubmit(PORT,TABLE)`, `resubmit(,TABLE)`.
fn resubmit(t: &Token, names: &dyn PortNames) -> Result<Action, SyntaxError> {
    let port_of = |s: &str| -> Result<Option<u16>, SyntaxError> {
        if s.is_empty() || s.eq_ignore_ascii_case("in_port") {
            Ok(None)
        } else {
            lex::port("resubmit", s, names).map(Some)
        }
    };
    let (port, table) = match t.delim {
        Some(':') => (port_of(t.value)?, None),
        Some('(') => {
            let (p, tb) = t
                .value
                .split_once(',')
                .ok_or_else(|| invalid(t.key, "expected resubmit(PORT,TABLE), e.g. resubmit(,1)"))?;
            let table = if tb.is_empty() {
                None
            } else {
                Some(num("resubmit", tb, u128::from(N_TABLES - 1))? as u8)
            };
            (port_of(p)?, table)
        }
        _ => return Err(invalid(t.key, "expected resubmit:PORT or resubmit(PORT,TABLE)")),
    };
    if port.is_none() && table.is_none() {
        return Err(invalid(
            t.key,
            "needs a port or a table, e.g. resubmit(,1) or resubmit:2",
        ));
    }
    Ok(Action::Resubmit { port, table })
}

/// Splits `VALUE->DST`.
fn arrow<'a>(what: &str, s: &'a str) -> Result<(&'a str, &'a str), SyntaxError> {
    match s.split_once("->") {
        Some((v, d)) if !d.is_empty() => Ok((v, d)),
        _ => Err(invalid(what, format!("\"{s}\" is missing \"->FIELD\""))),
    }
}

/// The writable field `name` names, for `what` (`set_field`, `load`).
fn writable(what: &str, name: &str) -> Result<names::Named, SyntaxError> {
    let named = names::lookup(name).ok_or_else(|| invalid(what, format!("unknown field \"{name}\"")))?;
    if !named.field.writable() {
        return Err(invalid(what, format!("{name} is read-only")));
    }
    Ok(named)
}

/// `set_field:VALUE[/MASK]->FIELD`.
fn set_field(s: &str, names: &dyn PortNames) -> Result<Action, SyntaxError> {
    let (v, name) = arrow("set_field", s)?;
    let f = writable("set_field", name)?.field;
    let what = format!("set_field->{name}");
    let no_mask = |max: u128| -> Result<u128, SyntaxError> {
        if v.contains('/') {
            return Err(invalid(what.as_str(), "takes no mask"));
        }
        num(&what, v, max)
    };
    match f {
        Field::VlanVid => return Ok(write(f, no_mask(0xfff)?, f.max())),
        Field::VlanPcp => return Ok(write(f, no_mask(7)?, f.max())),
        Field::NwTos => {
            let tos = no_mask(255)?;
            if tos & 3 != 0 {
                return Err(invalid(
                    what,
                    format!("{v} is not a multiple of 4 (the low two bits are ECN: use nw_ecn)"),
                ));
            }
            return Ok(write(Field::IpDscp, tos >> 2, Field::IpDscp.max()));
        }
        _ => {}
    }
    let (value, mask) = value_masked(&what, f, v, names)?;
    if mask == 0 {
        return Err(invalid(what, "a zero mask writes nothing"));
    }
    Ok(write(f, value, mask))
}

/// `load:VALUE->DST[START..END]` (or `DST[BIT]`, `DST[]`, `DST`).
fn load(s: &str) -> Result<Action, SyntaxError> {
    let (v, dst) = arrow("load", s)?;
    let (name, range) = match dst.split_once('[') {
        None => (dst, None),
        Some((n, r)) => {
            let r = r.strip_suffix(']').ok_or_else(|| {
                invalid(
                    "load",
                    format!("\"{dst}\": expected FIELD[], FIELD[BIT] or FIELD[START..END]"),
                )
            })?;
            (n, Some(r))
        }
    };
    let f = writable("load", name)?.field;
    let width = u32::from(f.place().bits);
    let (start, end) = match range {
        None | Some("") => (0, width - 1),
        Some(r) => {
            let bit = |b: &str| -> Result<u32, SyntaxError> {
                b.parse::<u32>().map_err(|_| {
                    invalid(
                        "load",
                        format!("\"{dst}\": expected FIELD[], FIELD[BIT] or FIELD[START..END]"),
                    )
                })
            };
            match r.split_once("..") {
                Some((a, b)) => (bit(a)?, bit(b)?),
                None => (bit(r)?, bit(r)?),
            }
        }
    };
    if start > end || end >= width {
        return Err(invalid(
            "load",
            format!("\"{dst}\": bits {start}..{end} are not within {name} ({width} bits)"),
        ));
    }
    let n_bits = end - start + 1;
    let value = lex::number(v).ok_or_else(|| lex::not_a_number("load", v))?;
    let run = u128::MAX >> (128 - n_bits);
    if value & !run != 0 {
        return Err(invalid(
            "load",
            format!("{v} does not fit in {dst} ({n_bits} bits)"),
        ));
    }
    if f == Field::NwTos {
        // See set_field: nw_tos is written as DSCP only.
        if n_bits != width || value & 3 != 0 {
            return Err(invalid(
                "load",
                format!("{dst}: write ip_dscp (OXM_OF_IP_DSCP) or nw_ecn (NXM_NX_IP_ECN) instead"),
            ));
        }
        return Ok(write(Field::IpDscp, value >> 2, Field::IpDscp.max()));
    }
    Ok(write(f, value << start, run << start))
}

/// The canonical action writing `value` under `mask` into `field` (see
/// the module doc).
fn write(field: Field, value: u128, mask: u128) -> Action {
    let mask = mask & field.max();
    let value = value & mask;
    if mask == field.max() {
        return Action::SetField { field, value, mask };
    }
    let start = mask.trailing_zeros();
    let run = mask >> start;
    if run & run.wrapping_add(1) == 0 {
        return Action::Load {
            field,
            start: start as u8,
            n_bits: run.count_ones() as u8,
            value: value >> start,
        };
    }
    Action::SetField { field, value, mask }
}

/// Refuses `a` where the match (and the actions before it) lack what it
/// needs; tracks whether a VLAN tag is present.
fn check(a: &Action, key: &str, t: &Token, m: &Match, tagged: &mut bool) -> Result<(), SyntaxError> {
    let need = |p: Prereq| -> Result<(), SyntaxError> {
        if satisfied(m, p) {
            return Ok(());
        }
        let (req, hint) = names::prereq_words(p);
        Err(invalid(key, format!("requires {req} in the match ({hint})")))
    };
    match a {
        Action::ModVlanVid(_) | Action::ModVlanPcp(_) | Action::PushVlan(_) => *tagged = true,
        Action::StripVlan | Action::PopVlan => *tagged = false,
        Action::ModNwSrc(_) | Action::ModNwDst(_) => need(Prereq::Ipv4)?,
        Action::ModNwTos(_) | Action::DecTtl => need(Prereq::Ip)?,
        Action::ModTpSrc(_) | Action::ModTpDst(_) => need(Prereq::L4)?,
        Action::SetField { field, .. } | Action::Load { field, .. } => {
            // The name as written, for messages and for its own protocol.
            let name = t.value.rsplit_once("->").map_or("", |(_, n)| n);
            let name = name.split('[').next().unwrap_or(name);
            let p = field.prereq();
            if !satisfied(m, p) {
                let (req, hint) = names::prereq_words(p);
                return Err(invalid(
                    key,
                    format!("{name} requires {req} in the match ({hint})"),
                ));
            }
            if let Some(proto) = names::lookup(name).and_then(|n| n.proto) {
                if exact(m, Field::NwProto) != Some(u128::from(proto)) {
                    let (req, hint) = names::proto_words(proto);
                    return Err(invalid(
                        key,
                        format!("{name} requires {req} in the match ({hint})"),
                    ));
                }
            }
            match (field, a) {
                (Field::VlanVid | Field::VlanPcp, _) if !*tagged => {
                    return Err(invalid(
                        key,
                        format!(
                            "{name} requires a VLAN tag (match one, e.g. dl_vlan=10, or push one first: mod_vlan_vid or push_vlan)"
                        ),
                    ));
                }
                (Field::VlanTci, Action::SetField { value, mask, .. })
                    if mask & u128::from(VLAN_CFI) != 0 =>
                {
                    *tagged = value & u128::from(VLAN_CFI) != 0;
                }
                (
                    Field::VlanTci,
                    Action::Load {
                        start, n_bits, value, ..
                    },
                ) if *start <= 12 && u32::from(*start) + u32::from(*n_bits) > 12 => {
                    *tagged = (value << start) & u128::from(VLAN_CFI) != 0;
                }
                _ => {}
            }
        }
        _ => {}
    }
    Ok(())
}

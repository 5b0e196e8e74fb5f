//! Parsing `add-flow` lines ([`parse_flow`]) and the matches of
//! `del-flows`/`dump-flows`/`mod-flows` ([`parse_filter`]).
//!
//! Both share [`MatchBuilder`]: every match token becomes a [`Part`] (what
//! was written, and which bits of the key it sets), so that duplicates,
//! conflicts (`tcp,udp`) and missing prerequisites can be reported naming
//! the token, and so that prerequisites are checked only once the whole
//! match is known (`tp_dst=22,tcp` is as good as `tcp,tp_dst=22`).

use super::actions;
use super::error::{invalid, SyntaxError};
use super::lex::{self, Token, Tokens};
use super::names::{self, Named};
use super::values::{exact, satisfied, value_masked};
use crate::flow::key::{Field, FlowKey, Prereq, VLAN_CFI};
use crate::flow::types::{ofport, FlowFilter, FlowSpec, Match, PortNames, ALL_TABLES, N_TABLES};

/// The statistics fields of `dump-flows` lines, ignored so that a dump can
/// be fed back (as `ovs-ofctl` does).
const STATS: &[&str] = &["duration", "n_packets", "n_bytes", "idle_age", "hard_age"];

/// Protocol shorthands: name, `dl_type`, `nw_proto`.
const SHORTHANDS: &[(&str, u16, Option<u8>)] = &[
    ("ip", 0x0800, None),
    ("ipv4", 0x0800, None),
    ("ipv6", 0x86dd, None),
    ("icmp", 0x0800, Some(1)),
    ("icmp6", 0x86dd, Some(58)),
    ("tcp", 0x0800, Some(6)),
    ("tcp6", 0x86dd, Some(6)),
    ("udp", 0x0800, Some(17)),
    ("udp6", 0x86dd, Some(17)),
    ("sctp", 0x0800, Some(132)),
    ("sctp6", 0x86dd, Some(132)),
    ("arp", 0x0806, None),
    ("rarp", 0x8035, None),
];

/// Parses an `add-flow` line (SPEC §9):
/// `[table=N,][priority=N,][cookie=V,][idle_timeout=N,][hard_timeout=N,][send_flow_rem,]MATCH... actions=ACTIONS`,
/// fields in any order, separated by commas or white space. The statistics
/// fields of a `dump-flows` line are ignored, so a dump line parses too.
pub fn parse_flow(s: &str, names: &dyn PortNames) -> Result<FlowSpec, SyntaxError> {
    let mut spec = FlowSpec::default();
    let mut mb = MatchBuilder::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut actions_text = None;
    for t in Tokens::new(s) {
        // `actions=` takes the rest of the line, whatever it contains
        // (OVS's ofp_extract_actions).
        if (t.key == "actions" || t.key == "action") && t.delim == Some('=') {
            actions_text = Some(&s[t.value_start..]);
            break;
        }
        if mb.token(&t, names)? {
            continue;
        }
        if STATS.contains(&t.key) {
            continue;
        }
        if seen.contains(&t.key) {
            return Err(SyntaxError::Duplicate(t.key.to_string()));
        }
        match t.key {
            "table" => {
                let n = table(t.value, false)?;
                spec.table = n;
            }
            "priority" => spec.priority = u16_value("priority", t.value)?,
            "cookie" => {
                if t.value.contains('/') {
                    return Err(invalid(
                        "cookie",
                        "a mask only selects flows (del-flows, dump-flows, mod-flows); add-flow sets the cookie",
                    ));
                }
                spec.cookie = u64_value("cookie", t.value)?;
                // All ones is OpenFlow's "no cookie" (OVS: keep the old one
                // on modify), so a flow cannot have it.
                if spec.cookie == u64::MAX {
                    return Err(invalid(
                        "cookie",
                        format!("{} is reserved (OpenFlow's \"no cookie\")", t.value),
                    ));
                }
            }
            "idle_timeout" => spec.idle_timeout = u16_value("idle_timeout", t.value)?,
            "hard_timeout" => spec.hard_timeout = u16_value("hard_timeout", t.value)?,
            "send_flow_rem" => {
                no_value(&t)?;
                spec.send_flow_rem = true;
            }
            "out_port" => {
                return Err(invalid(
                    "out_port",
                    "only selects flows (del-flows, dump-flows, mod-flows)",
                ))
            }
            _ => return Err(unknown(&t)),
        }
        seen.push(t.key);
    }
    let text = actions_text.ok_or(SyntaxError::MissingActions)?;
    spec.matching = mb.finish()?;
    spec.actions = actions::parse(text, names, &spec.matching, spec.table)?;
    Ok(spec)
}

/// Parses the MATCH of `del-flows`/`dump-flows`/`mod-flows`: match fields,
/// `table=N` (255 = all tables, the default), `priority=N` (used with
/// `--strict`), `cookie=V/MASK` and `out_port=P`. Actions are refused.
pub fn parse_filter(s: &str, names: &dyn PortNames) -> Result<FlowFilter, SyntaxError> {
    let mut filter = FlowFilter::default();
    let mut mb = MatchBuilder::default();
    let mut seen: Vec<&str> = Vec::new();
    for t in Tokens::new(s) {
        if mb.token(&t, names)? || STATS.contains(&t.key) {
            continue;
        }
        if seen.contains(&t.key) {
            return Err(SyntaxError::Duplicate(t.key.to_string()));
        }
        match t.key {
            "table" => filter.table = table(t.value, true)?,
            "priority" => filter.priority = u16_value("priority", t.value)?,
            "cookie" => {
                let Some((v, m)) = t.value.split_once('/') else {
                    return Err(invalid(
                        "cookie",
                        format!(
                            "selecting flows by cookie needs a mask, e.g. \"cookie={}/-1\"",
                            t.value
                        ),
                    ));
                };
                filter.cookie = u64_value("cookie", v)?;
                // "-1" is all ones, as ovs-ofctl's strtoull reads it (and as
                // its own error message suggests).
                filter.cookie_mask = if m == "-1" {
                    u64::MAX
                } else {
                    u64_value("cookie", m)?
                };
            }
            "out_port" => filter.out_port = out_port(t.value, names)?,
            "actions" | "action" => {
                return Err(invalid(
                    "actions",
                    "not allowed here (a match of del-flows, dump-flows or mod-flows has no actions)",
                ))
            }
            "idle_timeout" | "hard_timeout" | "send_flow_rem" => {
                return Err(invalid(
                    t.key,
                    "not allowed here (only add-flow and mod-flows set it)",
                ))
            }
            _ => return Err(unknown(&t)),
        }
        seen.push(t.key);
    }
    filter.matching = mb.finish()?;
    Ok(filter)
}

/// The error for a key nobody knows.
fn unknown(t: &Token) -> SyntaxError {
    if t.key.is_empty() {
        SyntaxError::UnknownField(format!("{}{}", t.delim.unwrap_or(' '), t.value))
    } else {
        SyntaxError::UnknownField(t.key.to_string())
    }
}

/// A key that takes no value.
fn no_value(t: &Token) -> Result<(), SyntaxError> {
    if t.delim.is_some() {
        return Err(invalid(t.key, "takes no value"));
    }
    Ok(())
}

fn u16_value(what: &str, s: &str) -> Result<u16, SyntaxError> {
    lex::number_in(what, s, 0, u128::from(u16::MAX)).map(|v| v as u16)
}

fn u64_value(what: &str, s: &str) -> Result<u64, SyntaxError> {
    lex::number_in(what, s, 0, u128::from(u64::MAX)).map(|v| v as u64)
}

/// `table=N`: 0–253, or also 255 (all tables) in a filter.
fn table(s: &str, filter: bool) -> Result<u8, SyntaxError> {
    let n = lex::number(s).ok_or_else(|| lex::not_a_number("table", s))?;
    if n == u128::from(ALL_TABLES) {
        if filter {
            return Ok(ALL_TABLES);
        }
        return Err(invalid(
            "table",
            "255 means all tables, only in dump-flows/del-flows",
        ));
    }
    if n >= u128::from(N_TABLES) {
        let also = if filter { " (or 255 for all tables)" } else { "" };
        return Err(invalid(
            "table",
            format!("{s} is out of range 0-{}{also}", N_TABLES - 1),
        ));
    }
    Ok(n as u8)
}

/// `out_port=P`: a port, or a reserved port a flow can output to
/// (`in_port`, `normal`, ...); `any`/`none` mean no restriction.
fn out_port(s: &str, names: &dyn PortNames) -> Result<Option<u16>, SyntaxError> {
    match lex::reserved_port(s) {
        Some(ofport::NONE) => Ok(None),
        Some(ofport::LOCAL) | Some(ofport::TABLE) => Err(invalid(
            "out_port",
            format!("{s} is not a port switchd outputs to"),
        )),
        Some(p) => Ok(Some(p)),
        None => lex::port("out_port", s, names).map(Some),
    }
}

/// One token's contribution to the match.
#[derive(Debug)]
struct Part {
    /// The key as written (`tcp`, `tp_dst`), for messages.
    name: String,
    /// `key=value` as written, for conflict messages.
    text: String,
    /// The field the key names (None for shorthands).
    named: Option<Named>,
    /// The bits it sets: (field, value, mask).
    writes: Vec<(Field, u128, u128)>,
}

/// A match being parsed.
#[derive(Debug, Default)]
pub(super) struct MatchBuilder {
    m: Match,
    parts: Vec<Part>,
}

/// The bits of the key that `mask` covers in `field`.
fn key_bits(field: Field, mask: u128) -> FlowKey {
    let mut k = FlowKey::ZERO;
    k.set(field, mask);
    k
}

/// A number in 0..=max that takes no mask.
fn unmasked(what: &str, s: &str, max: u128) -> Result<u128, SyntaxError> {
    if s.contains('/') {
        return Err(invalid(what, "takes no mask"));
    }
    lex::number_in(what, s, 0, max)
}

impl MatchBuilder {
    /// Takes `t` if it is a match token (a shorthand or a match field);
    /// Ok(false) if it is something else.
    pub fn token(&mut self, t: &Token, names: &dyn PortNames) -> Result<bool, SyntaxError> {
        let key = t.key;
        if key == "eth" {
            no_value(t)?;
            return Ok(true);
        }
        if let Some((_, dl_type, proto)) = SHORTHANDS.iter().find(|(n, _, _)| *n == key) {
            no_value(t)?;
            if self.parts.iter().any(|p| p.name == key) {
                return Err(SyntaxError::Duplicate(key.to_string()));
            }
            let mut writes = vec![(Field::DlType, u128::from(*dl_type), 0xffff)];
            if let Some(p) = proto {
                writes.push((Field::NwProto, u128::from(*p), 0xff));
            }
            self.add(Part {
                name: key.to_string(),
                text: key.to_string(),
                named: None,
                writes,
            })?;
            return Ok(true);
        }
        let Some(named) = names::lookup(key) else {
            return Ok(false);
        };
        let f = named.field;
        if self
            .parts
            .iter()
            .any(|p| p.named.is_some_and(|n| n.field.place() == f.place()))
        {
            return Err(SyntaxError::Duplicate(key.to_string()));
        }
        let writes = Self::field(key, f, t.value, names)?;
        self.add(Part {
            name: key.to_string(),
            text: format!("{key}={}", t.value),
            named: Some(named),
            writes,
        })?;
        Ok(true)
    }

    /// The bits `key=s` sets. Empty for a wildcard (`*` or a zero mask).
    fn field(
        key: &str,
        f: Field,
        s: &str,
        names: &dyn PortNames,
    ) -> Result<Vec<(Field, u128, u128)>, SyntaxError> {
        if s == "*" {
            return Ok(Vec::new());
        }
        if s.is_empty() {
            return Err(invalid(key, "missing value"));
        }
        let cfi = u128::from(VLAN_CFI);
        let (field, value, mask) = match f {
            // OVS's match_set_dl_vlan: the VID and "tagged" exactly;
            // 0xffff means untagged (the whole TCI is 0).
            Field::VlanVid => {
                let what = key;
                if s.contains('/') {
                    return Err(invalid(what, "takes no mask"));
                }
                let v = lex::number(s).ok_or_else(|| lex::not_a_number(what, s))?;
                match v {
                    0xffff => (Field::VlanTci, 0, 0xffff),
                    0..=0xfff => (Field::VlanTci, cfi | v, cfi | 0xfff),
                    _ => {
                        return Err(invalid(
                            what,
                            format!("{s} is out of range 0-4095 (or 0xffff for untagged)"),
                        ))
                    }
                }
            }
            // match_set_dl_vlan_pcp: the PCP and "tagged" exactly.
            Field::VlanPcp => {
                let v = unmasked(key, s, 7)?;
                (Field::VlanTci, cfi | (v << 13), cfi | 0xe000)
            }
            // OVS's nw_tos is the DSCP part of the TOS byte, written in
            // place (multiples of 4); the ECN bits are nw_ecn. ovs-ofctl
            // silently drops ECN bits given here; switchd refuses them.
            Field::NwTos => {
                let v = unmasked(key, s, 255)?;
                if v & 3 != 0 {
                    return Err(invalid(
                        key,
                        format!("{s} is not a multiple of 4 (the low two bits are ECN: use nw_ecn)"),
                    ));
                }
                (Field::NwTos, v, 0xfc)
            }
            _ => {
                let (v, m) = value_masked(key, f, s, names)?;
                (f, v, m)
            }
        };
        if mask == 0 {
            return Ok(Vec::new());
        }
        Ok(vec![(field, value, mask)])
    }

    /// Adds `part`'s bits, refusing bits an earlier part set differently.
    fn add(&mut self, part: Part) -> Result<(), SyntaxError> {
        for &(f, v, mask) in &part.writes {
            let old_mask = self.m.mask_of(f);
            let old_value = self.m.value_of(f);
            let diff = (old_value ^ v) & old_mask & mask;
            if diff != 0 {
                let bits = key_bits(f, diff);
                let other = self
                    .parts
                    .iter()
                    .find(|p| {
                        p.writes
                            .iter()
                            .any(|&(g, _, gm)| !key_bits(g, gm).masked(&bits).is_zero())
                    })
                    .map_or(String::new(), |p| p.text.clone());
                return Err(invalid(part.text.clone(), format!("conflicts with \"{other}\"")));
            }
            self.m.set(f, (old_value & !mask) | (v & mask), old_mask | mask);
        }
        self.parts.push(part);
        Ok(())
    }

    /// The match, once every field's prerequisite is checked.
    pub fn finish(self) -> Result<Match, SyntaxError> {
        let m = &self.m;
        // "Untagged" (CFI matched as 0) with VID/PCP bits matched non-zero
        // matches no frame: an untagged frame's TCI is 0. ovs-ofctl keeps
        // it over NXM and zeroes it over OpenFlow 1.0; refuse it instead.
        let (tci, tci_mask) = (m.value_of(Field::VlanTci), m.mask_of(Field::VlanTci));
        let cfi = u128::from(VLAN_CFI);
        if tci_mask & cfi != 0 && tci & cfi == 0 && tci & tci_mask != 0 {
            let what = self
                .parts
                .iter()
                .rev()
                .find(|p| p.writes.iter().any(|w| w.0 == Field::VlanTci))
                .map_or("vlan_tci".to_string(), |p| p.text.clone());
            return Err(invalid(
                what,
                format!(
                    "matches no frame: without the tag bit 0x1000 (untagged) the rest of the TCI is 0, but this asks for 0x{:04x}/0x{:04x}",
                    tci, tci_mask
                ),
            ));
        }
        let icmp6 = satisfied(m, Prereq::Icmpv6);
        let arp = satisfied(m, Prereq::Arp);
        for part in &self.parts {
            let Some(named) = part.named else { continue };
            if part.writes.is_empty() {
                continue;
            }
            // ovs-ofctl prints ICMPv6 type/code as icmp_type/icmp_code and
            // ARP addresses given as nw_src/nw_dst as arp_spa/arp_tpa; they
            // are the same bits, so read them as such.
            let f = match named.field {
                Field::IcmpType if icmp6 => Field::Icmpv6Type,
                Field::IcmpCode if icmp6 => Field::Icmpv6Code,
                Field::NwSrc if arp => Field::ArpSpa,
                Field::NwDst if arp => Field::ArpTpa,
                f => f,
            };
            if !satisfied(m, f.prereq()) {
                let (req, hint) = names::prereq_words(f.prereq());
                return Err(invalid(part.name.clone(), format!("requires {req} ({hint})")));
            }
            if let Some(proto) = named.proto {
                if exact(m, Field::NwProto) != Some(u128::from(proto)) {
                    let (req, hint) = names::proto_words(proto);
                    return Err(invalid(part.name.clone(), format!("requires {req} ({hint})")));
                }
            }
        }
        Ok(self.m)
    }
}

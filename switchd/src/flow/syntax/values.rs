//! What a match already says and how plain field values are read: the
//! exact value of a field in a match, whether a match guarantees a
//! prerequisite, the TCP flag names, and `value[/mask]` by field kind.
//! Shared by the match parser, the action checks and the printer, so it
//! sits below all three.

use super::error::{invalid, SyntaxError};
use super::lex;
use super::names::{self, Kind};
use crate::flow::key::{Field, Prereq};
use crate::flow::types::{Match, PortNames};

/// The exact value of `f` in `m`, if `m` matches all of it.
pub(super) fn exact(m: &Match, f: Field) -> Option<u128> {
    (m.mask_of(f) == f.max()).then(|| m.value_of(f))
}

/// Whether a match on `m` guarantees prerequisite `p`.
pub(super) fn satisfied(m: &Match, p: Prereq) -> bool {
    p.holds(
        exact(m, Field::DlType).map(|v| v as u16),
        exact(m, Field::NwProto).map(|v| v as u8),
        exact(m, Field::Icmpv6Type).map(|v| v as u8),
    )
}

/// TCP flag names by bit, as OVS's `packet_tcp_flag_to_string`.
pub(super) const TCP_FLAGS: [&str; 12] = [
    "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns", "[200]", "[400]", "[800]",
];

/// `tcp_flags` values: `+syn-ack` (the named bits set or clear, others
/// wildcarded), `syn|ack` (exactly these set), or numbers `V[/MASK]`.
fn tcp_flags(what: &str, s: &str) -> Result<(u128, u128), SyntaxError> {
    const ALL: u128 = 0xfff;
    if s.starts_with('+') || s.starts_with('-') {
        let (mut value, mut mask) = (0u128, 0u128);
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            let set = c == '+';
            rest = &rest[1..];
            let end = rest.find(['+', '-']).unwrap_or(rest.len());
            let name = &rest[..end];
            let bit = TCP_FLAGS
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| invalid(what, format!("unknown TCP flag \"{name}\"")))?;
            if mask & (1 << bit) != 0 {
                return Err(invalid(what, format!("flag \"{name}\" given twice")));
            }
            mask |= 1 << bit;
            if set {
                value |= 1 << bit;
            }
            rest = &rest[end..];
        }
        return Ok((value, mask));
    }
    if let Some((v, m)) = s.split_once('/') {
        return Ok((lex::number_in(what, v, 0, ALL)?, lex::number_in(what, m, 0, ALL)?));
    }
    let mut value = 0;
    for word in s.split('|') {
        if let Some(bit) = TCP_FLAGS.iter().position(|n| *n == word) {
            value |= 1 << bit;
        } else if lex::number(word).is_some() {
            value |= lex::number_in(what, word, 0, ALL)?;
        } else {
            return Err(invalid(what, format!("unknown TCP flag \"{word}\"")));
        }
    }
    Ok((value, ALL))
}

/// `value[/mask]` of a numeric field.
fn int_masked(what: &str, f: Field, s: &str) -> Result<(u128, u128), SyntaxError> {
    match s.split_once('/') {
        None => Ok((lex::number_in(what, s, 0, f.max())?, f.max())),
        Some((v, m)) => Ok((
            lex::number_in(what, v, 0, f.max())?,
            lex::number_in(what, m, 0, f.max())?,
        )),
    }
}

/// A plain value and mask for `f` from `s`, by the field's kind (not the
/// fields with their own rules: in_port, dl_vlan, dl_vlan_pcp, nw_tos).
pub(super) fn value_masked(
    what: &str,
    f: Field,
    s: &str,
    names: &dyn PortNames,
) -> Result<(u128, u128), SyntaxError> {
    let (v, m) = match names::kind(f) {
        Kind::Port => (u128::from(lex::port(what, s, names)?), f.max()),
        Kind::Mac => lex::mac_masked(what, s)?,
        Kind::Ipv4 => lex::ipv4_masked(what, s)?,
        Kind::Ipv6 => lex::ipv6_masked(what, s)?,
        Kind::TcpFlags => tcp_flags(what, s)?,
        Kind::Dec | Kind::Hex => int_masked(what, f, s)?,
    };
    if m != f.max() && m != 0 && !names::maskable(f) {
        return Err(invalid(what, "takes no mask"));
    }
    Ok((v & m, m))
}

//! The lexical layer: splitting a line into `key[=:(]value` tokens exactly
//! as `ovs-ofctl` does (so `table:1`, `cookie:0x5` from its FLOW_MOD print
//! and `resubmit(,2)` split the same way), and parsing the values: numbers,
//! MAC and IP addresses with their masks, ports.
//!
//! Value parsers return `Option`/plain errors without a field name; the
//! callers know which token they were parsing and build the message.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::error::{invalid, SyntaxError};
use crate::flow::types::{ofport, PortNames};

/// One `key`, `key=value`, `key:value` or `key(value)` token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Token<'a> {
    /// The key (may be empty for a stray delimiter).
    pub key: &'a str,
    /// The character after the key: `=`, `:`, `(`, or None (a bare key).
    pub delim: Option<char>,
    /// The value (empty for a bare key).
    pub value: &'a str,
    /// Byte offset of the value in the tokenized string (just after the
    /// delimiter): `actions=` takes the rest of the line from here.
    pub value_start: usize,
}

/// Iterator over the tokens of a string: OVS's `ofputil_parse_key_value`.
///
/// Tokens are separated by commas and white space. A key ends at one of
/// `:=(`, a separator, or the end. After `=` or `:` the value runs to the
/// next separator; after `(` to the matching `)` (and on through a
/// following `->x`, for `f(x)->y` forms). Parentheses nest inside values,
/// so `controller(max_len=5)` and `resubmit(,2)` stay whole.
#[derive(Debug, Clone)]
pub(super) struct Tokens<'a> {
    s: &'a str,
    pos: usize,
}

const SEPARATORS: &[u8] = b", \t\r\n";

impl<'a> Tokens<'a> {
    pub fn new(s: &'a str) -> Tokens<'a> {
        Tokens { s, pos: 0 }
    }
}

/// Length of the value at the start of `s` up to one of `delims` (or the
/// end), skipping over balanced parentheses.
fn value_len(s: &[u8], delims: &[u8]) -> usize {
    let mut n = 0;
    while n < s.len() && !delims.contains(&s[n]) {
        if s[n] == b'(' {
            let mut level = 0usize;
            loop {
                match s.get(n) {
                    None => return n,
                    Some(b'(') => level += 1,
                    Some(b')') => level -= 1,
                    Some(_) => {}
                }
                n += 1;
                if level == 0 {
                    break;
                }
            }
        } else {
            n += 1;
        }
    }
    n
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let b = self.s.as_bytes();
        while self.pos < b.len() && SEPARATORS.contains(&b[self.pos]) {
            self.pos += 1;
        }
        if self.pos >= b.len() {
            return None;
        }
        let start = self.pos;
        let key_len = b[start..]
            .iter()
            .position(|c| b":=(, \t\r\n".contains(c))
            .unwrap_or(b.len() - start);
        let key = &self.s[start..start + key_len];
        let delim = b.get(start + key_len).copied();
        self.pos = start + key_len + usize::from(delim.is_some());
        let delims: &[u8] = match delim {
            Some(b':') | Some(b'=') => SEPARATORS,
            Some(b'(') => b")",
            _ => {
                return Some(Token {
                    key,
                    delim: None,
                    value: "",
                    value_start: self.pos,
                })
            }
        };
        let vstart = self.pos;
        let mut n = value_len(&b[vstart..], delims);
        if delim == Some(b'(') && b.get(vstart + n) == Some(&b')') && b[vstart + n + 1..].starts_with(b"->") {
            n += value_len(&b[vstart + n..], SEPARATORS);
        }
        let end = vstart + n;
        self.pos = (end + 1).min(b.len());
        Some(Token {
            key,
            delim: delim.map(char::from),
            value: &self.s[vstart..end],
            value_start: vstart,
        })
    }
}

/// A number: decimal or `0x` hexadecimal. Decimal numbers with a leading
/// zero are refused (None): `ovs-ofctl` reads them as octal, which nobody
/// means, and silently reading them as decimal would disagree with it.
pub(crate) fn number(s: &str) -> Option<u128> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let digits = hex.trim_start_matches('0');
        if digits.len() > 32 {
            return None;
        }
        return u128::from_str_radix(if digits.is_empty() { "0" } else { digits }, 16).ok();
    }
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

/// Why `s` is not a number (for messages).
pub(crate) fn not_a_number(what: &str, s: &str) -> SyntaxError {
    if s.len() > 1 && s.starts_with('0') && s.bytes().all(|c| c.is_ascii_digit()) {
        invalid(
            what,
            format!(
                "\"{s}\" has a leading zero (ovs-ofctl would read it as octal); write it without, or in hex"
            ),
        )
    } else if s.is_empty() {
        invalid(what, "missing value")
    } else {
        invalid(what, format!("\"{s}\" is not a number"))
    }
}

/// Prints `max` the way a range message shows it: decimal up to 32 bits,
/// hex beyond (nobody reads 18446744073709551615).
fn show_max(max: u128) -> String {
    if max > u128::from(u32::MAX) {
        format!("{max:#x}")
    } else {
        max.to_string()
    }
}

/// A number in `min..=max`, with the message naming `what` otherwise.
pub(super) fn number_in(what: &str, s: &str, min: u128, max: u128) -> Result<u128, SyntaxError> {
    let v = number(s).ok_or_else(|| not_a_number(what, s))?;
    if v < min || v > max {
        return Err(invalid(
            what,
            format!("{s} is out of range {}-{}", show_max(min), show_max(max)),
        ));
    }
    Ok(v)
}

/// A MAC address `xx:xx:xx:xx:xx:xx` (one or two hex digits per byte, as
/// OVS's `%hhx` scan accepts).
pub(super) fn mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for o in &mut out {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        *o = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// A MAC as the 48-bit number the flow key holds.
pub(super) fn mac_to_u128(m: [u8; 6]) -> u128 {
    m.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
}

/// The bytes of a 48-bit MAC number.
pub(super) fn u128_to_mac(v: u128) -> [u8; 6] {
    let mut out = [0u8; 6];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (v >> (8 * (5 - i))) as u8;
    }
    out
}

/// `xx:xx:xx:xx:xx:xx`.
pub(super) fn fmt_mac(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// `MAC` or `MAC/MAC` → (value, mask).
pub(super) fn mac_masked(what: &str, s: &str) -> Result<(u128, u128), SyntaxError> {
    let bad = || {
        invalid(
            what,
            format!("\"{s}\" is not a MAC address (xx:xx:xx:xx:xx:xx[/mask])"),
        )
    };
    match s.split_once('/') {
        None => Ok((mac_to_u128(mac(s).ok_or_else(bad)?), (1u128 << 48) - 1)),
        Some((v, m)) => Ok((
            mac_to_u128(mac(v).ok_or_else(bad)?),
            mac_to_u128(mac(m).ok_or_else(bad)?),
        )),
    }
}

/// `a.b.c.d`, `a.b.c.d/N` or `a.b.c.d/m.m.m.m` → (value, mask).
pub(super) fn ipv4_masked(what: &str, s: &str) -> Result<(u128, u128), SyntaxError> {
    let bad = || {
        invalid(
            what,
            format!("\"{s}\" is not an IPv4 address (a.b.c.d[/prefix or /mask])"),
        )
    };
    let (a, m) = match s.split_once('/') {
        None => (s, None),
        Some((a, m)) => (a, Some(m)),
    };
    let addr: Ipv4Addr = a.parse().map_err(|_| bad())?;
    let mask = match m {
        None => u32::MAX,
        Some(m) if m.contains('.') => u32::from(m.parse::<Ipv4Addr>().map_err(|_| bad())?),
        Some(m) => {
            let n: u32 = m.parse().map_err(|_| bad())?;
            if n > 32 {
                return Err(invalid(
                    what,
                    format!("\"{s}\": prefix length {n} is out of range 0-32"),
                ));
            }
            u32::MAX.checked_shl(32 - n).unwrap_or(0)
        }
    };
    Ok((u128::from(u32::from(addr)), u128::from(mask)))
}

/// `addr`, `addr/N` or `addr/mask` (IPv6) → (value, mask).
pub(super) fn ipv6_masked(what: &str, s: &str) -> Result<(u128, u128), SyntaxError> {
    let bad = || {
        invalid(
            what,
            format!("\"{s}\" is not an IPv6 address (addr[/prefix or /mask])"),
        )
    };
    let (a, m) = match s.split_once('/') {
        None => (s, None),
        Some((a, m)) => (a, Some(m)),
    };
    let addr: Ipv6Addr = a.parse().map_err(|_| bad())?;
    let mask = match m {
        None => u128::MAX,
        Some(m) if m.contains(':') => u128::from(m.parse::<Ipv6Addr>().map_err(|_| bad())?),
        Some(m) => {
            let n: u32 = m.parse().map_err(|_| bad())?;
            if n > 128 {
                return Err(invalid(
                    what,
                    format!("\"{s}\": prefix length {n} is out of range 0-128"),
                ));
            }
            u128::MAX.checked_shl(128 - n).unwrap_or(0)
        }
    };
    Ok((u128::from(addr), mask))
}

/// IPv4 `value` under `mask` as OVS prints it: the address, then `/N` for
/// a prefix mask or `/m.m.m.m` for another, nothing for all ones.
pub(super) fn fmt_ipv4_masked(value: u32, mask: u32) -> String {
    let a = Ipv4Addr::from(value);
    if mask == u32::MAX {
        a.to_string()
    } else if mask.leading_ones() + mask.trailing_zeros() == 32 {
        format!("{a}/{}", mask.leading_ones())
    } else {
        format!("{a}/{}", Ipv4Addr::from(mask))
    }
}

/// IPv6 likewise.
pub(super) fn fmt_ipv6_masked(value: u128, mask: u128) -> String {
    let a = Ipv6Addr::from(value);
    if mask == u128::MAX {
        a.to_string()
    } else if mask.leading_ones() + mask.trailing_zeros() == 128 {
        format!("{a}/{}", mask.leading_ones())
    } else {
        format!("{a}/{}", Ipv6Addr::from(mask))
    }
}

/// A number as OVS's `ds_put_hex` prints it: `0x` and the digits, or `0`.
pub(super) fn fmt_hex(v: u128) -> String {
    if v == 0 {
        "0".to_string()
    } else {
        format!("{v:#x}")
    }
}

/// The reserved port words `ovs-ofctl` knows (matched case-insensitively,
/// before port names, as `ofputil_port_from_string` does).
pub(super) const RESERVED_PORTS: &[(&str, u16)] = &[
    ("IN_PORT", ofport::IN_PORT),
    ("TABLE", ofport::TABLE),
    ("NORMAL", ofport::NORMAL),
    ("FLOOD", ofport::FLOOD),
    ("ALL", ofport::ALL),
    ("CONTROLLER", ofport::CONTROLLER),
    ("LOCAL", ofport::LOCAL),
    ("ANY", ofport::NONE),
    ("NONE", ofport::NONE),
];

/// The reserved port `s` names, if any.
pub(super) fn reserved_port(s: &str) -> Option<u16> {
    RESERVED_PORTS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
        .map(|(_, p)| *p)
}

/// A real port: a number 1–65279 or a port name (optionally in double
/// quotes, as `ovs-ofctl` prints names that need them). Numbers are tried
/// first, as `ovs-ofctl` does, so a port named "5" is port 5.
pub(super) fn port(what: &str, s: &str, names: &dyn PortNames) -> Result<u16, SyntaxError> {
    if s.is_empty() {
        return Err(invalid(what, "missing port"));
    }
    if s.bytes().all(|c| c.is_ascii_digit()) || s.starts_with("0x") {
        return number_in(what, s, 1, u128::from(ofport::MAX)).map(|v| v as u16);
    }
    let name = s.strip_prefix('"').and_then(|n| n.strip_suffix('"')).unwrap_or(s);
    names
        .ofport(name)
        .ok_or_else(|| invalid(what, format!("no port named \"{name}\"")))
}

/// The name to print for port `p`: its name when that name reads back as
/// the same port in every place a port is parsed (not a number, not a
/// reserved word, no delimiter characters), else the number.
pub(super) fn fmt_port(p: u16, names: &dyn PortNames) -> String {
    if let Some(n) = names.name(p) {
        let plain = !n.is_empty()
            && !n.bytes().any(|c| b",= \t\r\n:()\"/[]".contains(&c))
            && !n.bytes().next().is_some_and(|c| c.is_ascii_digit())
            && reserved_port(n).is_none()
            && names.ofport(n) == Some(p);
        if plain {
            return n.to_string();
        }
    }
    p.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<(String, Option<char>, String)> {
        Tokens::new(s)
            .map(|t| (t.key.to_string(), t.delim, t.value.to_string()))
            .collect()
    }

    #[test]
    fn tokens_split_as_ovs() {
        assert_eq!(
            toks(" table:1 priority=7,tcp cookie:0x5  resubmit(,2),controller(max_len=5) a->b"),
            vec![
                ("table".into(), Some(':'), "1".into()),
                ("priority".into(), Some('='), "7".into()),
                ("tcp".into(), None, "".into()),
                ("cookie".into(), Some(':'), "0x5".into()),
                ("resubmit".into(), Some('('), ",2".into()),
                ("controller".into(), Some('('), "max_len=5".into()),
                ("a->b".into(), None, "".into()),
            ]
        );
        assert_eq!(
            toks("set_field:00:11:22:33:44:55->eth_src,load:1->NXM_NX_REG0[0..3]"),
            vec![
                ("set_field".into(), Some(':'), "00:11:22:33:44:55->eth_src".into()),
                ("load".into(), Some(':'), "1->NXM_NX_REG0[0..3]".into()),
            ]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(number("0"), Some(0));
        assert_eq!(number("0x0800"), Some(0x800));
        assert_eq!(number("0X00000000000000000000000000000000001"), Some(1));
        assert_eq!(number("010"), None);
        assert_eq!(number("-1"), None);
        assert_eq!(number("0x"), None);
        assert_eq!(number("1e3"), None);
    }

    #[test]
    fn addresses() {
        assert_eq!(mac("0:1:22:33:44:5"), Some([0, 1, 0x22, 0x33, 0x44, 5]));
        assert_eq!(mac("00:11:22:33:44"), None);
        assert_eq!(mac("00:11:22:33:44:55:66"), None);
        assert_eq!(
            ipv4_masked("x", "10.1.2.3/8").unwrap(),
            (0x0a01_0203, 0xff00_0000)
        );
        assert_eq!(ipv4_masked("x", "10.1.2.3/0").unwrap(), (0x0a01_0203, 0));
        assert_eq!(fmt_ipv4_masked(0x0a00_0000, 0xff00_0000), "10.0.0.0/8");
        assert_eq!(fmt_ipv4_masked(0x0a00_0000, 0xff00_ff00), "10.0.0.0/255.0.255.0");
        assert_eq!(fmt_ipv6_masked(1, u128::MAX), "::1");
        assert_eq!(ipv6_masked("x", "fe80::/10").unwrap().1, 0xffc0u128 << 112);
    }
}

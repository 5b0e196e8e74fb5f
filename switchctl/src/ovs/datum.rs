//! OVSDB values the way `ovs-vsctl` reads and prints them: atoms
//! (integers, booleans, strings, UUIDs), data (a scalar, an optional value,
//! a set or a map) with their column type, the argument syntax
//! (`ovsdb_token_parse`, `ovsdb_atom_from_string`, `ovsdb_datum_from_string`
//! of OVS's `lib/ovsdb-data.c`) and the three output forms (`--data=string`,
//! `bare` and `json`).
//!
//! A leaf module: the rest of the face builds on it, it imports nothing of
//! the face. The messages are OVS's own, so a value refused here reads as
//! `ovs-vsctl` would refuse it; values that reach switchd's settings are then
//! checked again by proto's parsers (see `columns`).

use std::fmt::Write as _;

/// The type of one atom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtomType {
    /// A 64-bit signed integer.
    Int,
    /// `true` or `false`.
    Bool,
    /// A UTF-8 string.
    Str,
    /// A row reference, written as a UUID.
    Uuid,
}

impl AtomType {
    fn english(self) -> &'static str {
        match self {
            AtomType::Int => "integer",
            AtomType::Bool => "boolean",
            AtomType::Str => "string",
            AtomType::Uuid => "uuid",
        }
    }
}

/// "No maximum" for [`ColumnType::max`].
pub const UNLIMITED: u32 = u32::MAX;

/// A column's type: atoms of `key` (and `value` for a map), between `min`
/// and `max` of them. `min == max == 1` is a plain value, `0..=1` an
/// optional one, anything more a set or map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnType {
    /// Type of the keys (the elements of a set).
    pub key: AtomType,
    /// Type of the values of a map; `None` for anything else.
    pub value: Option<AtomType>,
    /// Fewest elements.
    pub min: u32,
    /// Most elements ([`UNLIMITED`] for no limit).
    pub max: u32,
}

impl ColumnType {
    /// Exactly one atom.
    pub const fn scalar(key: AtomType) -> ColumnType {
        ColumnType {
            key,
            value: None,
            min: 1,
            max: 1,
        }
    }

    /// Zero or one atom.
    pub const fn optional(key: AtomType) -> ColumnType {
        ColumnType {
            key,
            value: None,
            min: 0,
            max: 1,
        }
    }

    /// A set of at least `min` and at most `max` atoms.
    pub const fn set(key: AtomType, min: u32, max: u32) -> ColumnType {
        ColumnType {
            key,
            value: None,
            min,
            max,
        }
    }

    /// A map of any size.
    pub const fn map(key: AtomType, value: AtomType) -> ColumnType {
        ColumnType {
            key,
            value: Some(value),
            min: 0,
            max: UNLIMITED,
        }
    }

    /// Whether this is a map.
    pub fn is_map(&self) -> bool {
        self.value.is_some()
    }

    /// The same shape with string atoms: how values meant for switchd's own
    /// parsers are read, so that a bad number gets proto's message.
    pub fn as_strings(&self) -> ColumnType {
        ColumnType {
            key: AtomType::Str,
            value: self.value.map(|_| AtomType::Str),
            ..*self
        }
    }

    /// The type of one value of a map (or one element of a set) as a set
    /// of any size: what a `find` condition on `COLUMN:KEY` is read as.
    pub fn values_as_set(&self) -> ColumnType {
        ColumnType::set(self.value.unwrap_or(self.key), 0, UNLIMITED)
    }

    /// As OVS's `ovsdb_type_to_english`, for error messages.
    fn english(&self) -> String {
        match self.value {
            Some(v) => format!("map of {}-{} pairs", self.key.english(), v.english()),
            None if self.min == 1 && self.max == 1 => self.key.english().to_owned(),
            None if self.max == 1 => format!("optional {}", self.key.english()),
            None if self.max == UNLIMITED => format!("set of {}s", self.key.english()),
            None => format!("set of up to {} {}s", self.max, self.key.english()),
        }
    }
}

/// One value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Atom {
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(String),
    /// A UUID, lowercase.
    Uuid(String),
}

impl Atom {
    /// A string atom.
    pub fn str(s: impl Into<String>) -> Atom {
        Atom::Str(s.into())
    }

    /// The text of a string atom, the decimal digits of an integer, ...:
    /// what switchd's parsers are given.
    pub fn text(&self) -> String {
        match self {
            Atom::Int(n) => n.to_string(),
            Atom::Bool(b) => b.to_string(),
            Atom::Str(s) | Atom::Uuid(s) => s.clone(),
        }
    }

    /// `--data=string`: strings in double quotes when they are not
    /// bare-safe (OVS's `ovsdb_atom_to_string`).
    pub fn to_text(&self) -> String {
        match self {
            Atom::Str(s) if needs_quotes(s) => json_string(s),
            other => other.text(),
        }
    }

    /// `--data=json`.
    pub fn to_json(&self) -> String {
        match self {
            Atom::Int(n) => n.to_string(),
            Atom::Bool(b) => b.to_string(),
            Atom::Str(s) => json_string(s),
            Atom::Uuid(u) => format!("[\"uuid\",\"{u}\"]"),
        }
    }
}

/// A column's value: keys (set elements, map keys) and, for a map, the
/// values in the same order. Kept sorted by key without duplicates, as
/// OVSDB keeps them, so that two data compare equal when they hold the
/// same things.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Datum {
    /// The elements or map keys, ascending.
    pub keys: Vec<Atom>,
    /// The map values (empty for a set).
    pub values: Vec<Atom>,
}

impl Datum {
    /// The empty set or map.
    pub fn empty() -> Datum {
        Datum::default()
    }

    /// One atom.
    pub fn one(a: Atom) -> Datum {
        Datum {
            keys: vec![a],
            values: Vec::new(),
        }
    }

    /// Zero or one atom.
    pub fn optional(a: Option<Atom>) -> Datum {
        a.map_or_else(Datum::empty, Datum::one)
    }

    /// A set: sorted, duplicates dropped.
    pub fn set(atoms: impl IntoIterator<Item = Atom>) -> Datum {
        let mut keys: Vec<Atom> = atoms.into_iter().collect();
        keys.sort();
        keys.dedup();
        Datum {
            keys,
            values: Vec::new(),
        }
    }

    /// A map: sorted by key, the last of duplicate keys kept.
    pub fn map(pairs: impl IntoIterator<Item = (Atom, Atom)>) -> Datum {
        let sorted: std::collections::BTreeMap<Atom, Atom> = pairs.into_iter().collect();
        let (keys, values) = sorted.into_iter().unzip();
        Datum { keys, values }
    }

    /// A string-to-string map.
    pub fn string_map<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> Datum {
        Datum::map(pairs.into_iter().map(|(k, v)| (Atom::str(k), Atom::str(v))))
    }

    /// Number of elements (pairs).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is nothing.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The value of a map's `key`.
    pub fn get(&self, key: &Atom) -> Option<&Atom> {
        self.keys.iter().position(|k| k == key).map(|i| &self.values[i])
    }

    /// The pairs of a map.
    pub fn pairs(&self) -> impl Iterator<Item = (&Atom, &Atom)> {
        self.keys.iter().zip(&self.values)
    }

    /// `--data=string` (OVS's `ovsdb_datum_to_string`): a set or map in
    /// brackets or braces, `[]`/`{}` when empty, a single optional value
    /// bare.
    pub fn to_text(&self, ty: &ColumnType) -> String {
        let brackets = ty.max > 1 || self.is_empty();
        let (open, close) = if ty.is_map() { ('{', '}') } else { ('[', ']') };
        let mut out = String::new();
        if brackets {
            out.push(open);
        }
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&k.to_text());
            if let Some(v) = self.values.get(i) {
                out.push('=');
                out.push_str(&v.to_text());
            }
        }
        if brackets {
            out.push(close);
        }
        out
    }

    /// `--data=bare` (OVS's `ovsdb_datum_to_bare`): elements separated by
    /// spaces, strings never quoted, no brackets.
    pub fn to_bare(&self) -> String {
        let mut out = String::new();
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&k.text());
            if let Some(v) = self.values.get(i) {
                out.push('=');
                out.push_str(&v.text());
            }
        }
        out
    }

    /// `--data=json` (OVSDB's wire form): `["map",[[k,v],...]]` for a map,
    /// the atom itself for exactly one element of a set, else
    /// `["set",[...]]`.
    pub fn to_json(&self, ty: &ColumnType) -> String {
        if ty.is_map() {
            let pairs: Vec<String> = self
                .pairs()
                .map(|(k, v)| format!("[{},{}]", k.to_json(), v.to_json()))
                .collect();
            return format!("[\"map\",[{}]]", pairs.join(","));
        }
        if self.len() == 1 {
            return self.keys[0].to_json();
        }
        let atoms: Vec<String> = self.keys.iter().map(Atom::to_json).collect();
        format!("[\"set\",[{}]]", atoms.join(","))
    }
}

/// Whether a string must be printed in double quotes (OVS's
/// `string_needs_quotes`): it must start with an ASCII letter or `_` and
/// go on with letters, digits, `_`, `-` and `.`, and not read as `true`,
/// `false` or a UUID.
pub fn needs_quotes(s: &str) -> bool {
    let mut bytes = s.bytes();
    match bytes.next() {
        Some(c) if c.is_ascii_alphabetic() || c == b'_' => {}
        _ => return true,
    }
    if !bytes.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')) {
        return true;
    }
    s == "true" || s == "false" || is_uuid(s)
}

/// A JSON string literal the way OVS writes one: `"` and `\` escaped,
/// control characters as `\b`, `\t`, `\n`, `\f`, `\r` or `\u00XX`,
/// everything else (also non-ASCII) as it is.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `s` is a whole UUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`,
/// hex digits of either case).
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36 && uuid_prefix_len(s) == 36
}

/// How long `s` is if it is the beginning of a UUID (hex digits, dashes
/// where a UUID has them), else 0 (OVS's `uuid_is_partial_string`).
pub fn uuid_prefix_len(s: &str) -> usize {
    if s.len() > 36 {
        return 0;
    }
    let ok = s.bytes().enumerate().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => c == b'-',
        _ => c.is_ascii_hexdigit(),
    });
    if ok {
        s.len()
    } else {
        0
    }
}

/// The characters that end a token (OVS's `ovsdb_token_is_delim`).
pub fn is_delim(c: char) -> bool {
    ":=, []{}!<>".contains(c)
}

/// Reads one token from the start of `s` (OVS's `ovsdb_token_parse`): up to
/// the first delimiter outside double quotes. A backslash outside quotes
/// escapes the next character and is dropped; quotes and what is inside
/// them are kept as they are. Returns the token and the rest of `s`.
pub fn parse_token(s: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut in_quotes = false;
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            if in_quotes {
                out.push('\\');
            }
            match chars.next() {
                Some((_, next)) => out.push(next),
                None => return Err(format!("{s}: backslash at end of argument")),
            }
        } else if !in_quotes && is_delim(c) {
            return Ok((out, &s[i..]));
        } else {
            out.push(c);
            if c == '"' {
                in_quotes = !in_quotes;
            }
        }
    }
    if in_quotes {
        return Err(format!("{s}: quoted string extends past end of argument"));
    }
    Ok((out, ""))
}

/// Reads a string atom (OVS's rule): a JSON string literal if it starts
/// with a double quote (so `"52:54:00:12:34:56"` is the address without
/// quotes), else the text as it is. The empty string must be typed `""`.
pub fn parse_string(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("An empty string is not valid as input; use \"\" to represent the empty string".into());
    }
    let Some(rest) = s.strip_prefix('"') else {
        return Ok(s.to_owned());
    };
    let Some(inner) = rest.strip_suffix('"') else {
        return Err(format!("{s}: missing quote at end of quoted string"));
    };
    json_unescape(inner).map_err(|e| format!("{s}: {e}"))
}

/// The inside of a JSON string literal, unescaped.
fn json_unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Err("quoted string may not include unescaped \"".into()),
            '\\' => {}
            c => {
                out.push(c);
                continue;
            }
        }
        match chars.next() {
            None => return Err("quoted string may not end with backslash".into()),
            Some(c @ ('"' | '\\' | '/')) => out.push(c),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let first = hex4(&mut chars)?;
                let code = if (0xd800..0xdc00).contains(&first) {
                    // A surrogate pair: the second half must follow.
                    if chars.next() != Some('\\') || chars.next() != Some('u') {
                        return Err("malformed escaped surrogate pair".into());
                    }
                    let second = hex4(&mut chars)?;
                    if !(0xdc00..0xe000).contains(&second) {
                        return Err("second half of escaped surrogate pair is not trailing surrogate".into());
                    }
                    0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
                } else {
                    first
                };
                match char::from_u32(code) {
                    Some('\0') | None => return Err(format!("invalid \\u escape (code point {code:#x})")),
                    Some(c) => out.push(c),
                }
            }
            Some(other) => return Err(format!("bad escape \\{other}")),
        }
    }
    Ok(out)
}

/// The four hex digits of a `\\u` escape.
fn hex4(chars: &mut std::str::Chars<'_>) -> Result<u32, String> {
    let hex: String = chars.take(4).collect();
    if hex.len() != 4 {
        return Err("quoted string ends within \\u escape".into());
    }
    u32::from_str_radix(&hex, 16).map_err(|_| format!("malformed \\u escape \\u{hex}"))
}

/// A decimal integer with an optional sign, as C's `strtoll` base 10 takes
/// the whole string.
fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.strip_prefix('+').unwrap_or(t).parse().ok()
}

/// Longest integer range a set element may be written as (`10-20`).
const RANGE_MAX: i64 = 4096;

/// Reads one atom of type `t` (OVS's `ovsdb_atom_from_string`); with
/// `range`, an integer may be a range `A-B`, returned as every integer in
/// it.
pub fn parse_atom(s: &str, t: AtomType, range: bool) -> Result<Vec<Atom>, String> {
    match t {
        AtomType::Int => {
            if let Some(n) = parse_int(s) {
                return Ok(vec![Atom::Int(n)]);
            }
            if range {
                // The dash that separates the ends (a sign is not one).
                for (i, _) in s.match_indices('-').filter(|(i, _)| *i > 0) {
                    if let (Some(a), Some(b)) = (parse_int(&s[..i]), parse_int(&s[i + 1..])) {
                        if b < a {
                            return Err(format!(
                                "\"{s}\" is not a valid range. Range end cannot be before start."
                            ));
                        }
                        if b - a >= RANGE_MAX {
                            return Err(format!(
                                "Range {a}-{b} is too big: at most {RANGE_MAX} values are allowed"
                            ));
                        }
                        return Ok((a..=b).map(Atom::Int).collect());
                    }
                }
            }
            Err(format!("\"{s}\" is not a valid integer or range"))
        }
        AtomType::Bool => match s {
            "true" | "yes" | "on" | "1" => Ok(vec![Atom::Bool(true)]),
            "false" | "no" | "off" | "0" => Ok(vec![Atom::Bool(false)]),
            _ => Err(format!(
                "\"{s}\" is not a valid boolean (use \"true\" or \"false\")"
            )),
        },
        AtomType::Str => parse_string(s).map(|s| vec![Atom::Str(s)]),
        AtomType::Uuid => {
            if is_uuid(s) {
                Ok(vec![Atom::Uuid(s.to_ascii_lowercase())])
            } else if s.starts_with('@') {
                Err(format!(
                    "\"{s}\": row names (@name) are not supported by switchd's ovs-vsctl"
                ))
            } else {
                Err(format!("\"{s}\" is not a valid UUID"))
            }
        }
    }
}

fn skip_spaces(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_ascii_whitespace())
}

/// Reads a whole datum of type `ty` (OVS's `ovsdb_datum_from_string`):
/// atoms (or `KEY=VALUE` pairs) separated by spaces or commas, optionally
/// in `[...]` (`{...}` for a map), which the empty set (map) needs. The
/// count is checked against the type; duplicates are refused.
pub fn parse_datum(s: &str, ty: &ColumnType) -> Result<Datum, String> {
    let is_map = ty.is_map();
    let (open, close) = if is_map { ('{', '}') } else { ('[', ']') };
    let mut p = skip_spaces(s);
    let end = if let Some(rest) = p.strip_prefix(open) {
        p = skip_spaces(rest);
        Some(close)
    } else if p.is_empty() {
        return Err(if is_map {
            "use \"{}\" to specify the empty map".into()
        } else {
            "use \"[]\" to specify the empty set".into()
        });
    } else {
        None
    };
    let mut keys = Vec::new();
    let mut values = Vec::new();
    while let Some(c) = p.chars().next().filter(|c| Some(*c) != end) {
        if is_delim(c) {
            return Err(format!("{s}: unexpected \"{c}\" parsing {}", ty.english()));
        }
        let start = p;
        let (token, rest) = parse_token(p)?;
        let atoms = parse_atom(&token, ty.key, !is_map)?;
        p = rest;
        if let Some(vt) = ty.value {
            p = skip_spaces(p);
            match p.strip_prefix('=') {
                Some(rest) => {
                    let (token, rest) = parse_token(skip_spaces(rest))?;
                    let mut v = parse_atom(&token, vt, false)?;
                    keys.extend(atoms);
                    values.append(&mut v);
                    p = rest;
                }
                None => {
                    let at = p.chars().next().map(String::from).unwrap_or_default();
                    return Err(format!("{start}: syntax error at \"{at}\" expecting \"=\""));
                }
            }
        } else {
            keys.extend(atoms);
        }
        p = skip_spaces(p);
        if let Some(rest) = p.strip_prefix(',') {
            p = skip_spaces(rest);
        }
    }
    // Without brackets the loop stops only at the end of the text.
    if let Some(close) = end {
        match p.strip_prefix(close) {
            Some(rest) if skip_spaces(rest).is_empty() => {}
            Some(_) => return Err(format!("{s}: trailing garbage after \"{close}\"")),
            None => return Err(format!("{s}: missing \"{close}\" at end of data")),
        }
    }
    let n = keys.len() as u64;
    let what = if is_map { "pair(s)" } else { "value(s)" };
    if n < u64::from(ty.min) {
        return Err(format!(
            "{s}: {n} {what} specified but the minimum number is {}",
            ty.min
        ));
    }
    if n > u64::from(ty.max) {
        return Err(format!(
            "{s}: {n} {what} specified but the maximum number is {}",
            ty.max
        ));
    }
    let mut pairs: Vec<(Atom, Option<Atom>)> = if is_map {
        keys.into_iter().zip(values.into_iter().map(Some)).collect()
    } else {
        keys.into_iter().map(|k| (k, None)).collect()
    };
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(if is_map {
            format!("{s}: map contains duplicate key")
        } else {
            format!("{s}: set contains duplicate value")
        });
    }
    let (keys, values): (Vec<Atom>, Vec<Option<Atom>>) = pairs.into_iter().unzip();
    Ok(Datum {
        keys,
        values: values.into_iter().flatten().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTS: ColumnType = ColumnType::set(AtomType::Int, 0, 4096);
    const SMAP: ColumnType = ColumnType::map(AtomType::Str, AtomType::Str);

    fn s(x: &str) -> Atom {
        Atom::str(x)
    }

    #[test]
    fn quoting_follows_ovs() {
        for bare in ["gre0", "vif0.0", "br-in", "_x", "native-untagged", "OpenFlow13"] {
            assert!(!needs_quotes(bare), "{bare}");
        }
        for quoted in [
            "",
            "0abc",
            "192.168.20.2",
            "52:54:00:12:34:56",
            "true",
            "false",
            "a b",
            "tcp:1.2.3.4",
            "é",
            "5f2c9ac4-0000-4000-8000-000000000001",
        ] {
            assert!(needs_quotes(quoted), "{quoted}");
        }
        assert_eq!(s("a\"b\\c\n\u{1}").to_text(), r#""a\"b\\c\n\u0001""#);
        assert_eq!(s("é").to_json(), "\"é\"");
    }

    #[test]
    fn datum_text_bare_and_json() {
        let opt = ColumnType::optional(AtomType::Int);
        assert_eq!(Datum::empty().to_text(&opt), "[]");
        assert_eq!(Datum::one(Atom::Int(10)).to_text(&opt), "10");
        assert_eq!(Datum::one(Atom::Int(10)).to_json(&opt), "10");
        assert_eq!(Datum::empty().to_json(&opt), r#"["set",[]]"#);
        let trunks = Datum::set([Atom::Int(20), Atom::Int(10)]);
        assert_eq!(trunks.to_text(&INTS), "[10, 20]");
        assert_eq!(trunks.to_bare(), "10 20");
        assert_eq!(trunks.to_json(&INTS), r#"["set",[10,20]]"#);
        assert_eq!(Datum::set([Atom::Int(10)]).to_text(&INTS), "[10]");
        assert_eq!(Datum::set([Atom::Int(10)]).to_json(&INTS), "10");
        let m = Datum::map([
            (s("iface-status"), s("active")),
            (s("attached-mac"), s("52:54:00:12:34:56")),
        ]);
        assert_eq!(
            m.to_text(&SMAP),
            r#"{attached-mac="52:54:00:12:34:56", iface-status=active}"#
        );
        assert_eq!(m.to_bare(), "attached-mac=52:54:00:12:34:56 iface-status=active");
        assert_eq!(
            m.to_json(&SMAP),
            r#"["map",[["attached-mac","52:54:00:12:34:56"],["iface-status","active"]]]"#
        );
        assert_eq!(Datum::empty().to_text(&SMAP), "{}");
        assert_eq!(Datum::empty().to_json(&SMAP), r#"["map",[]]"#);
        let u = ColumnType::set(AtomType::Uuid, 1, UNLIMITED);
        let one = Datum::set([Atom::Uuid("b293c648-c2f6-4e76-b0ec-322984b6eca3".into())]);
        assert_eq!(one.to_text(&u), "[b293c648-c2f6-4e76-b0ec-322984b6eca3]");
        assert_eq!(
            one.to_json(&u),
            r#"["uuid","b293c648-c2f6-4e76-b0ec-322984b6eca3"]"#
        );
    }

    #[test]
    fn tokens_keep_quotes_and_drop_escapes() {
        assert_eq!(
            parse_token("external-ids:x=1").unwrap(),
            ("external-ids".into(), ":x=1")
        );
        assert_eq!(parse_token(r#""a:b"=c"#).unwrap(), (r#""a:b""#.into(), "=c"));
        assert_eq!(parse_token(r"a\:b=c").unwrap(), ("a:b".into(), "=c"));
        assert_eq!(
            parse_token(r#""x"#).unwrap_err(),
            r#""x: quoted string extends past end of argument"#
        );
        assert_eq!(
            parse_token("x\\").unwrap_err(),
            "x\\: backslash at end of argument"
        );
    }

    #[test]
    fn strings_lose_their_quotes() {
        assert_eq!(
            parse_string(r#""52:54:00:12:34:56""#).unwrap(),
            "52:54:00:12:34:56"
        );
        assert_eq!(parse_string("plain").unwrap(), "plain");
        assert_eq!(parse_string(r#""""#).unwrap(), "");
        assert_eq!(parse_string(r#""a\"b\u00e9\ud83d\ude00""#).unwrap(), "a\"bé😀");
        assert_eq!(
            parse_string("").unwrap_err(),
            r#"An empty string is not valid as input; use "" to represent the empty string"#
        );
        assert_eq!(
            parse_string(r#""abc"#).unwrap_err(),
            r#""abc: missing quote at end of quoted string"#
        );
        assert_eq!(parse_string(r#""a\qb""#).unwrap_err(), r#""a\qb": bad escape \q"#);
    }

    #[test]
    fn data_parse_as_ovs() {
        let d = |x: &str| parse_datum(x, &INTS);
        assert_eq!(d("10,20").unwrap(), Datum::set([Atom::Int(10), Atom::Int(20)]));
        assert_eq!(d("[10, 20]").unwrap(), d("20 10").unwrap());
        assert_eq!(d("[]").unwrap(), Datum::empty());
        assert_eq!(d("1-3").unwrap(), Datum::set((1..=3).map(Atom::Int)));
        assert_eq!(d("").unwrap_err(), r#"use "[]" to specify the empty set"#);
        assert_eq!(d("[10,20").unwrap_err(), r#"[10,20: missing "]" at end of data"#);
        assert_eq!(d("10,10").unwrap_err(), "10,10: set contains duplicate value");
        assert_eq!(d("[1]x").unwrap_err(), r#"[1]x: trailing garbage after "]""#);
        assert_eq!(d("abc").unwrap_err(), r#""abc" is not a valid integer or range"#);
        assert_eq!(
            parse_datum("10,20", &ColumnType::optional(AtomType::Int)).unwrap_err(),
            "10,20: 2 value(s) specified but the maximum number is 1"
        );
        let m = parse_datum(r#"{a=1, "b c"="x=y"}"#, &SMAP).unwrap();
        assert_eq!(m, Datum::map([(s("a"), s("1")), (s("b c"), s("x=y"))]));
        assert_eq!(
            parse_datum("{a}", &SMAP).unwrap_err(),
            r#"a}: syntax error at "}" expecting "=""#
        );
        assert_eq!(
            parse_datum("", &SMAP).unwrap_err(),
            r#"use "{}" to specify the empty map"#
        );
        assert_eq!(
            parse_datum("maybe", &ColumnType::scalar(AtomType::Bool)).unwrap_err(),
            r#""maybe" is not a valid boolean (use "true" or "false")"#
        );
        assert_eq!(
            parse_datum("on", &ColumnType::scalar(AtomType::Bool)).unwrap(),
            Datum::one(Atom::Bool(true))
        );
    }

    #[test]
    fn uuid_prefixes() {
        let u = "47a8d675-863c-4531-b291-ee5d402f2eda";
        assert!(is_uuid(u));
        assert!(is_uuid(&u.to_uppercase()));
        assert_eq!(uuid_prefix_len("47a8d675-86"), 11);
        assert_eq!(uuid_prefix_len("47a8x"), 0);
        assert!(!is_uuid("47a8d675"));
    }
}

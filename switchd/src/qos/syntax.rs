//! The `ovs-ofctl` meter syntax (SPEC §12): what `add-meter`, `mod-meter`,
//! `del-meter` and `dump-meters` read, and the canonical text they print.
//!
//! ```text
//! meter=N,(kbps|pktps)[,burst][,stats],bands=type=drop,rate=R[,burst_size=B][,type=drop,...]
//! ```
//!
//! The reading follows OVS's `parse_ofp_meter_mod_str__`
//! (`lib/ofp-meter.c`) so that what works with `ovs-ofctl` works here:
//! - keywords are separated by commas and/or white space, and a keyword's
//!   value follows `=` (or, as OVS's tokenizer allows, a separator);
//! - the word `band` or `bands` starts the bands part; everything after it
//!   is bands;
//! - each band starts with `type=`, and later `rate=`/`burst_size=` apply to
//!   the band last started.
//!
//! It is stricter where OVS lets a mistake through: `kbps` and `pktps`
//! together, or neither (OVS only needs "some flag"), are refused; only
//! drop bands exist here, so `dscp_remark` is refused with a message saying
//! so; numbers are decimal or `0x` hex, and a decimal with a leading zero is
//! refused (OVS would read it as octal) as in the flow syntax. Every error
//! is one sentence naming what is wrong. The rules that are not syntax
//! (ranges, band count, burst sizes with the `burst` flag) are
//! [`validate`]'s, run last, so one call answers for everything.
use super::meter::validate;
use crate::flow;

use super::types::{BandConfig, MeterConfig, Unit, METER_ID_MAX};

/// Separators between keywords (OVS's tokenizer's, without `=`).
fn is_sep(c: char) -> bool {
    matches!(c, ',' | ' ' | '\t' | '\r' | '\n')
}

/// Splits a meter description into keywords and values.
struct Lexer<'a> {
    rest: &'a str,
    /// The last keyword ended at a `=`: its value follows right away.
    after_eq: bool,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Lexer<'a> {
        Lexer {
            rest: s,
            after_eq: false,
        }
    }

    /// The next keyword, ending at a separator or `=`.
    fn keyword(&mut self) -> Option<&'a str> {
        let s = self.rest.trim_start_matches(|c| is_sep(c) || c == '=');
        if s.is_empty() {
            self.rest = s;
            return None;
        }
        let end = s.find(|c| is_sep(c) || c == '=').unwrap_or(s.len());
        let (word, rest) = s.split_at(end);
        self.after_eq = rest.starts_with('=');
        self.rest = if self.after_eq { &rest[1..] } else { rest };
        Some(word)
    }

    /// The value of the keyword just read: right after its `=`, or after
    /// separators (and one `=`) as in `meter 1` or `rate = 10`. `None` when
    /// there is none (`rate=` at the end or before a comma).
    fn value(&mut self) -> Option<&'a str> {
        let mut s = self.rest;
        if !self.after_eq {
            s = s.trim_start_matches(is_sep);
            if let Some(t) = s.strip_prefix('=') {
                s = t.trim_start_matches(is_sep);
            }
        }
        self.after_eq = false;
        let end = s.find(is_sep).unwrap_or(s.len());
        let (value, rest) = s.split_at(end);
        self.rest = rest;
        (!value.is_empty()).then_some(value)
    }

    /// The value of `key`, or the error saying it has none.
    fn value_of(&mut self, key: &str) -> Result<&'a str, String> {
        self.value().ok_or_else(|| format!("field {key} missing value"))
    }
}

/// A `u32` written as the flow syntax writes numbers (decimal without a
/// leading zero, or hexadecimal after `0x`), with its messages. `what`
/// names the field in them.
fn number(what: &str, s: &str) -> Result<u32, String> {
    let v = flow::syntax::number(s).ok_or_else(|| flow::syntax::not_a_number(what, s).to_string())?;
    u32::try_from(v).map_err(|_| format!("{what}: {s} is out of range 0-{}", u32::MAX))
}

/// What a `meter=` value names: a meter id, or every meter (`None`).
fn meter_value(v: &str) -> Result<Option<u32>, String> {
    match v {
        "all" => Ok(None),
        "controller" | "slowpath" => Err(format!(
            "meter={v} is a reserved meter this switch does not have; meters are numbered 1-{METER_ID_MAX}"
        )),
        _ => {
            let id = number("meter", v)?;
            if id == 0 || id > METER_ID_MAX {
                return Err(format!(
                    "invalid value for meter: {id} is out of range 1-{METER_ID_MAX}"
                ));
            }
            Ok(Some(id))
        }
    }
}

/// Parses `meter=N,(kbps|pktps)[,burst][,stats],bands=type=drop,rate=R[,burst_size=B][,type=drop,...]`.
pub fn parse_meter(s: &str) -> Result<MeterConfig, String> {
    let mut lx = Lexer::new(s);
    let (mut id, mut kbps, mut pktps, mut burst, mut stats) = (None, false, false, false, false);
    let mut has_bands = false;
    while let Some(word) = lx.keyword() {
        match word {
            "kbps" => kbps = true,
            "pktps" => pktps = true,
            "burst" => burst = true,
            "stats" => stats = true,
            "band" | "bands" => {
                has_bands = true;
                break;
            }
            "meter" => {
                let v = lx.value_of("meter")?;
                id = Some(meter_value(v)?.ok_or_else(|| {
                    format!(
                        "meter=all names every meter: adding or changing a meter needs its number (1-{METER_ID_MAX})"
                    )
                })?);
            }
            _ => return Err(format!("unknown keyword {word}")),
        }
    }
    let id = id.ok_or("must specify 'meter'")?;
    let unit = match (kbps, pktps) {
        (true, false) => Unit::Kbps,
        (false, true) => Unit::Pktps,
        (false, false) => return Err("meter must specify either 'kbps' or 'pktps'".into()),
        (true, true) => return Err("meter may specify only one of 'kbps' and 'pktps'".into()),
    };
    if !has_bands {
        return Err("must specify bands".into());
    }

    // Each band with whether its rate was given (a missing rate and
    // `rate=0` deserve different messages).
    let mut bands: Vec<(BandConfig, bool)> = Vec::new();
    while let Some(word) = lx.keyword() {
        if !matches!(word, "type" | "rate" | "burst_size" | "prec_level") {
            return Err(format!("unknown keyword {word}"));
        }
        let v = lx.value_of(word)?;
        if word == "type" {
            match v {
                "drop" => bands.push((
                    BandConfig {
                        rate: 0,
                        burst_size: 0,
                    },
                    false,
                )),
                "dscp_remark" => return Err("only drop bands are supported (dscp_remark is not)".into()),
                _ => return Err(format!("unknown band type {v} (only drop bands are supported)")),
            }
            continue;
        }
        let Some((band, has_rate)) = bands.last_mut() else {
            return Err("band must start with the 'type' keyword".into());
        };
        match word {
            "rate" => {
                band.rate = number("rate", v)?;
                *has_rate = true;
            }
            "burst_size" => band.burst_size = number("burst_size", v)?,
            _ => return Err("prec_level goes only with dscp_remark bands, which are not supported".into()),
        }
    }
    if bands.is_empty() {
        return Err("meter must have bands".into());
    }
    if let Some(n) = bands.iter().position(|(_, has_rate)| !has_rate) {
        return Err(format!("band must have 'rate' (band {} has none)", n + 1));
    }
    let config = MeterConfig {
        id,
        unit,
        burst,
        stats,
        bands: bands.into_iter().map(|(b, _)| b).collect(),
    };
    validate(&config).map_err(|e| e.to_string())?;
    Ok(config)
}

/// Parses the meter selection of `del-meter`/`dump-meters`: `meter=N`,
/// `meter=all` or the empty string (all); `None` means every meter.
/// A bare `N` or `all` is accepted too.
pub fn parse_meter_id(s: &str) -> Result<Option<u32>, String> {
    let mut lx = Lexer::new(s);
    let Some(word) = lx.keyword() else {
        return Ok(None);
    };
    let selection = if word == "meter" {
        meter_value(lx.value_of("meter")?)?
    } else if lx.after_eq {
        return Err(format!("unknown keyword {word}"));
    } else {
        meter_value(word)?
    };
    match lx.keyword() {
        None => Ok(selection),
        Some(extra) => Err(format!(
            "unexpected {extra} after the meter (give one meter, or all)"
        )),
    }
}

/// The canonical text of a meter, which [`parse_meter`] reads back:
/// `meter=1,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100`.
/// Burst sizes are written only with the `burst` flag (without it they
/// must be 0, the default).
pub fn to_text(c: &MeterConfig) -> String {
    use std::fmt::Write;
    let mut s = format!("meter={},{}", c.id, c.unit.as_str());
    if c.burst {
        s.push_str(",burst");
    }
    if c.stats {
        s.push_str(",stats");
    }
    s.push_str(",bands=");
    for (i, b) in c.bands.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(s, "type=drop,rate={}", b.rate);
        if c.burst {
            let _ = write!(s, ",burst_size={}", b.burst_size);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qos::types::MAX_BANDS;
    use proptest::prelude::*;

    fn band(rate: u32, burst_size: u32) -> BandConfig {
        BandConfig { rate, burst_size }
    }

    #[test]
    fn parses_ovs_examples() {
        let c = parse_meter("meter=1,kbps,bands=type=drop,rate=1000").expect("parse");
        assert_eq!(
            c,
            MeterConfig {
                id: 1,
                unit: Unit::Kbps,
                burst: false,
                stats: false,
                bands: vec![band(1000, 0)]
            }
        );
        let c = parse_meter(
            "meter=2,pktps,burst,stats,bands=type=drop,rate=10,burst_size=5,type=drop,rate=100,burst_size=50",
        )
        .expect("parse");
        assert_eq!(
            c,
            MeterConfig {
                id: 2,
                unit: Unit::Pktps,
                burst: true,
                stats: true,
                bands: vec![band(10, 5), band(100, 50)]
            }
        );
        // Spaces, tabs, mixed separators, `band` for `bands`, hex, and a
        // value after a separator as OVS's tokenizer allows.
        for s in [
            "meter=2 pktps burst stats bands=type=drop rate=10 burst_size=5 type=drop rate=100 burst_size=50",
            "  meter=2,\tpktps, burst ,stats band=type=drop,rate=10,burst_size=5, type=drop,rate=0x64,burst_size=50\n",
            "stats,burst,pktps,meter 2,bands type drop rate 10 burst_size 5 type=drop,rate = 100,burst_size=50",
        ] {
            assert_eq!(parse_meter(s).as_ref(), Ok(&c), "{s}");
        }
        assert_eq!(
            parse_meter(&format!(
                "meter={METER_ID_MAX},kbps,bands=type=drop,rate=4294967295"
            ))
            .map(|c| (c.id, c.bands[0].rate)),
            Ok((METER_ID_MAX, u32::MAX))
        );
    }

    #[test]
    fn errors_are_specific() {
        let max_bands = "type=drop,rate=1,".repeat(MAX_BANDS + 1);
        let too_many = format!("meter=1,kbps,bands={max_bands}");
        let cases: &[(&str, &str)] = &[
            ("", "must specify 'meter'"),
            ("kbps,bands=type=drop,rate=1", "must specify 'meter'"),
            ("meter=1,bands=type=drop,rate=1", "meter must specify either 'kbps' or 'pktps'"),
            ("meter=1,kbps,pktps,bands=type=drop,rate=1", "meter may specify only one of 'kbps' and 'pktps'"),
            ("meter=1,kbps", "must specify bands"),
            ("meter=1,kbps,bands=", "meter must have bands"),
            ("meter=1,kbps,bands=rate=1", "band must start with the 'type' keyword"),
            ("meter=1,kbps,bands=type=dscp_remark,rate=1,prec_level=1", "only drop bands are supported (dscp_remark is not)"),
            ("meter=1,kbps,bands=type=mark,rate=1", "unknown band type mark (only drop bands are supported)"),
            ("meter=1,kbps,bands=type=drop,rate=1,prec_level=1", "prec_level goes only with dscp_remark bands, which are not supported"),
            ("meter=1,kbps,foo=2,bands=type=drop,rate=1", "unknown keyword foo"),
            ("meter=1,kbps,bands=type=drop,rate=1,foo=2", "unknown keyword foo"),
            ("meter=1,kbps,bands=type=drop,rate=1,stats", "unknown keyword stats"),
            ("meter=1,kbps,bands=type=drop,rate", "field rate missing value"),
            ("meter=1,kbps,bands=type=drop,rate=", "field rate missing value"),
            ("meter=,kbps,bands=type=drop,rate=1", "field meter missing value"),
            ("meter=1,kbps,bands=type=drop,rate=x", "rate: \"x\" is not a number"),
            ("meter=1,kbps,bands=type=drop,rate=-1", "rate: \"-1\" is not a number"),
            ("meter=1,kbps,bands=type=drop,rate=0xg", "rate: \"0xg\" is not a number"),
            ("meter=1,kbps,bands=type=drop,rate=4294967296", "rate: 4294967296 is out of range 0-4294967295"),
            ("meter=1,kbps,bands=type=drop,rate=0x100000000", "rate: 0x100000000 is out of range 0-4294967295"),
            ("meter=1,kbps,bands=type=drop,rate=010", "rate: \"010\" has a leading zero (ovs-ofctl would read it as octal); write it without, or in hex"),
            ("meter=1,kbps,bands=type=drop,burst_size=1", "band must have 'rate' (band 1 has none)"),
            ("meter=x,kbps,bands=type=drop,rate=1", "meter: \"x\" is not a number"),
            ("meter=0,kbps,bands=type=drop,rate=1", "invalid value for meter: 0 is out of range 1-4294901760"),
            ("meter=4294901761,kbps,bands=type=drop,rate=1", "invalid value for meter: 4294901761 is out of range 1-4294901760"),
            ("meter=all,kbps,bands=type=drop,rate=1", "meter=all names every meter: adding or changing a meter needs its number (1-4294901760)"),
            ("meter=controller,kbps,bands=type=drop,rate=1", "meter=controller is a reserved meter this switch does not have; meters are numbered 1-4294901760"),
            ("meter=slowpath,kbps,bands=type=drop,rate=1", "meter=slowpath is a reserved meter this switch does not have; meters are numbered 1-4294901760"),
            // validate()'s rules, through the same call.
            ("meter=1,kbps,bands=type=drop,rate=0", "band 1 has rate 0: a band's rate must be at least 1 kbps"),
            ("meter=1,kbps,bands=type=drop,rate=1,burst_size=5", "band may have 'burst_size' only when 'burst' flag is set (band 1 has burst_size=5)"),
            ("meter=1,kbps,burst,bands=type=drop,rate=1", "band must have 'burst_size' when 'burst' flag is set (band 1 has none)"),
            (&too_many, "9 bands: a meter has at most 8"),
        ];
        for (s, e) in cases {
            assert_eq!(parse_meter(s), Err(e.to_string()), "{s}");
        }
    }

    #[test]
    fn meter_ids() {
        for (s, want) in [
            ("", None),
            ("  ", None),
            ("meter=all", None),
            ("all", None),
            ("meter=7", Some(7)),
            ("meter 7", Some(7)),
            ("7", Some(7)),
            (" meter=0x10 ", Some(16)),
            ("4294901760", Some(METER_ID_MAX)),
        ] {
            assert_eq!(parse_meter_id(s), Ok(want), "{s:?}");
        }
        for (s, e) in [
            ("meter=0", "invalid value for meter: 0 is out of range 1-4294901760"),
            ("4294901761", "invalid value for meter: 4294901761 is out of range 1-4294901760"),
            ("meter=", "field meter missing value"),
            ("meter=x", "meter: \"x\" is not a number"),
            ("x", "meter: \"x\" is not a number"),
            ("table=1", "unknown keyword table"),
            ("meter=1,meter=2", "unexpected meter after the meter (give one meter, or all)"),
            (
                "meter=controller",
                "meter=controller is a reserved meter this switch does not have; meters are numbered 1-4294901760",
            ),
        ] {
            assert_eq!(parse_meter_id(s), Err(e.to_string()), "{s:?}");
        }
    }

    #[test]
    fn canonical_text() {
        let c = MeterConfig {
            id: 1,
            unit: Unit::Kbps,
            burst: true,
            stats: true,
            bands: vec![band(1000, 100), band(2000, 200)],
        };
        let t = to_text(&c);
        assert_eq!(
            t,
            "meter=1,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100,type=drop,rate=2000,burst_size=200"
        );
        assert_eq!(parse_meter(&t), Ok(c));
        let c = MeterConfig {
            id: 9,
            unit: Unit::Pktps,
            burst: false,
            stats: false,
            bands: vec![band(5, 0)],
        };
        assert_eq!(to_text(&c), "meter=9,pktps,bands=type=drop,rate=5");
    }

    /// A valid configuration, as `validate` wants it.
    fn config() -> impl Strategy<Value = MeterConfig> {
        (
            1..=METER_ID_MAX,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec((1..=u32::MAX, 1..=u32::MAX), 1..=MAX_BANDS),
        )
            .prop_map(|(id, kbps, burst, stats, bands)| MeterConfig {
                id,
                unit: if kbps { Unit::Kbps } else { Unit::Pktps },
                burst,
                stats,
                bands: bands
                    .into_iter()
                    .map(|(rate, b)| band(rate, if burst { b } else { 0 }))
                    .collect(),
            })
    }

    /// Text that looks like a meter: its words and numbers in any order,
    /// with any separators, so that parsing goes deep, not only "unknown
    /// keyword" at the first character.
    fn meterish() -> impl Strategy<Value = String> {
        let word = prop_oneof![
            Just("meter"),
            Just("kbps"),
            Just("pktps"),
            Just("burst"),
            Just("stats"),
            Just("band"),
            Just("bands"),
            Just("type"),
            Just("drop"),
            Just("dscp_remark"),
            Just("rate"),
            Just("burst_size"),
            Just("prec_level"),
            Just("all"),
            Just("0"),
            Just("1"),
            Just("0x"),
            Just("4294967296"),
            Just("="),
            Just(","),
            Just(" "),
            Just("\t"),
            Just("é"),
        ];
        proptest::collection::vec(word, 0..30).prop_map(|w| w.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn text_round_trips(c in config()) {
            let t = to_text(&c);
            let back = parse_meter(&t).expect("canonical text parses");
            prop_assert_eq!(&back, &c);
            prop_assert_eq!(to_text(&back), t);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,60}", m in meterish()) {
            let _ = parse_meter(&s);
            let _ = parse_meter_id(&s);
            if let Ok(c) = parse_meter(&m) {
                prop_assert_eq!(parse_meter(&to_text(&c)), Ok(c));
            }
            let _ = parse_meter_id(&m);
        }
    }
}

//! The sFlow settings of a bridge (SPEC §11): `sflow_targets`,
//! `sflow_sampling`, `sflow_polling`, `sflow_header` and `sflow_agent`,
//! their defaults (those of Open vSwitch's `sFlow` table, `lib/sflow.h`),
//! the ranges this switch accepts, and their parsing from `KEY=VALUE`
//! strings with errors that say what is wrong.
//!
//! It imports nothing else of `sflow/`: the engine and the control side
//! can check a setting without an [`Agent`](super::Agent) existing.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The UDP port a target given without one gets (sFlow's registered port).
pub const DEFAULT_PORT: u16 = 6343;
/// Default `sflow_sampling`: one frame in 400 (OVS `SFL_DEFAULT_SAMPLING_RATE`).
pub const DEFAULT_SAMPLING: u32 = 400;
/// Default `sflow_polling` in seconds (OVS `SFL_DEFAULT_POLLING_INTERVAL`).
pub const DEFAULT_POLLING: u32 = 30;
/// Default `sflow_header` in bytes (OVS `SFL_DEFAULT_HEADER_SIZE`).
pub const DEFAULT_HEADER: u32 = 128;

/// Smallest `sflow_sampling`: 1 samples every frame.
pub const SAMPLING_MIN: u32 = 1;
/// Largest `sflow_sampling`. OVS sets no bound; this one keeps the
/// sampler's random skip (at most 2N-1) within 32 bits and is far beyond
/// any useful rate.
pub const SAMPLING_MAX: u32 = 1_000_000_000;
/// `sflow_polling=0` turns counter samples off (the sFlow MIB's meaning of
/// a zero `sFlowCpInterval`).
pub const POLLING_MIN: u32 = 0;
/// Largest `sflow_polling`: a day.
pub const POLLING_MAX: u32 = 86_400;
/// Smallest `sflow_header`: one XDR word. Smaller than an Ethernet
/// header (14) is allowed but lets a collector see little.
pub const HEADER_MIN: u32 = 4;
/// Largest `sflow_header`, the usual agents' cap (Host sFlow's
/// `headerBytes`); it keeps a flow sample under a quarter of a datagram.
pub const HEADER_MAX: u32 = 256;

/// `sflow_targets` key.
pub const KEY_TARGETS: &str = "sflow_targets";
/// `sflow_sampling` key.
pub const KEY_SAMPLING: &str = "sflow_sampling";
/// `sflow_polling` key.
pub const KEY_POLLING: &str = "sflow_polling";
/// `sflow_header` key.
pub const KEY_HEADER: &str = "sflow_header";
/// `sflow_agent` key.
pub const KEY_AGENT: &str = "sflow_agent";
/// Every key, in the order [`SflowConfig::pairs`] gives them.
pub const KEYS: [&str; 5] = [KEY_TARGETS, KEY_SAMPLING, KEY_POLLING, KEY_HEADER, KEY_AGENT];

/// A bridge's sFlow settings. sFlow is on while there is a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SflowConfig {
    /// `sflow_targets=IP[:PORT][,...]`: the collectors each datagram goes
    /// to (port [`DEFAULT_PORT`] when not given; IPv6 as `[ADDR]:PORT`).
    /// Empty: sFlow off (the default).
    pub targets: Vec<SocketAddr>,
    /// `sflow_sampling=N`: one ingress frame in N on average is sampled,
    /// [`SAMPLING_MIN`]–[`SAMPLING_MAX`], default [`DEFAULT_SAMPLING`].
    pub sampling: u32,
    /// `sflow_polling=S`: seconds between counter samples of every port,
    /// [`POLLING_MIN`]–[`POLLING_MAX`] (0: none), default [`DEFAULT_POLLING`].
    pub polling: u32,
    /// `sflow_header=BYTES`: at most this many leading bytes of a sampled
    /// frame are exported, [`HEADER_MIN`]–[`HEADER_MAX`], default
    /// [`DEFAULT_HEADER`].
    pub header: u32,
    /// `sflow_agent=IP`: the agent address in each datagram; `None` (empty
    /// value, the default): the source address the kernel picks for the
    /// first target, which the engine finds out.
    pub agent: Option<IpAddr>,
}

impl Default for SflowConfig {
    fn default() -> Self {
        SflowConfig {
            targets: Vec::new(),
            sampling: DEFAULT_SAMPLING,
            polling: DEFAULT_POLLING,
            header: DEFAULT_HEADER,
            agent: None,
        }
    }
}

impl SflowConfig {
    /// Whether sFlow runs (there is at least one target).
    pub fn is_enabled(&self) -> bool {
        !self.targets.is_empty()
    }

    /// Whether `key` is one of [`KEYS`].
    pub fn is_key(key: &str) -> bool {
        KEYS.contains(&key)
    }

    /// Sets one key from its text value; on error nothing changes. An
    /// empty value of `sflow_targets` or `sflow_agent` restores the default.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            KEY_TARGETS => self.targets = parse_targets(value)?,
            KEY_SAMPLING => self.sampling = parse_num(key, value, SAMPLING_MIN, SAMPLING_MAX)?,
            KEY_POLLING => self.polling = parse_num(key, value, POLLING_MIN, POLLING_MAX)?,
            KEY_HEADER => self.header = parse_num(key, value, HEADER_MIN, HEADER_MAX)?,
            KEY_AGENT => self.agent = parse_agent(value)?,
            _ => return Err(format!("unknown sflow key {key:?} (known: {})", KEYS.join(", "))),
        }
        Ok(())
    }

    /// Sets one `KEY=VALUE` string (as `set bridge` takes it).
    pub fn set_pair(&mut self, pair: &str) -> Result<(), String> {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?} is not of the form KEY=VALUE"))?;
        self.set(k, v)
    }

    /// Checks a configuration built in code or read back from storage
    /// against the same rules [`set`](Self::set) applies.
    pub fn validate(&self) -> Result<(), String> {
        check_num(KEY_SAMPLING, self.sampling, SAMPLING_MIN, SAMPLING_MAX)?;
        check_num(KEY_POLLING, self.polling, POLLING_MIN, POLLING_MAX)?;
        check_num(KEY_HEADER, self.header, HEADER_MIN, HEADER_MAX)?;
        for (i, t) in self.targets.iter().enumerate() {
            check_target(*t)?;
            if self.targets[..i].contains(t) {
                return Err(format!("{KEY_TARGETS}: {t} is listed twice"));
            }
        }
        if let Some(a) = self.agent {
            check_agent(a)?;
        }
        Ok(())
    }

    /// Every setting as `(key, value)`, values in the syntax
    /// [`set`](Self::set) reads back (an empty string for no targets or the
    /// default agent).
    pub fn pairs(&self) -> [(&'static str, String); 5] {
        [
            (KEY_TARGETS, Targets(&self.targets).to_string()),
            (KEY_SAMPLING, self.sampling.to_string()),
            (KEY_POLLING, self.polling.to_string()),
            (KEY_HEADER, self.header.to_string()),
            (KEY_AGENT, self.agent.map(|a| a.to_string()).unwrap_or_default()),
        ]
    }
}

/// Displays a target list as `sflow_targets` takes it: `IP:PORT` comma
/// separated, IPv6 in brackets.
#[derive(Debug, Clone, Copy)]
pub struct Targets<'a>(pub &'a [SocketAddr]);

impl fmt::Display for Targets<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

/// Parses `IP[:PORT][,...]` (spaces around items allowed; empty: none).
pub fn parse_targets(value: &str) -> Result<Vec<SocketAddr>, String> {
    let mut out: Vec<SocketAddr> = Vec::new();
    if value.trim().is_empty() {
        return Ok(out);
    }
    for item in value.split(',') {
        let t = parse_target(item.trim())?;
        if out.contains(&t) {
            return Err(format!("{KEY_TARGETS}: {t} is listed twice"));
        }
        out.push(t);
    }
    Ok(out)
}

/// One target: `1.2.3.4:6343`, `1.2.3.4`, `[2001:db8::1]:6343`,
/// `[2001:db8::1]` or `2001:db8::1`.
fn parse_target(s: &str) -> Result<SocketAddr, String> {
    let bare = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(s);
    let t = if let Ok(sa) = s.parse::<SocketAddr>() {
        sa
    } else if let Ok(ip) = bare.parse::<IpAddr>() {
        SocketAddr::new(ip, DEFAULT_PORT)
    } else {
        return Err(format!(
            "{KEY_TARGETS}: {s:?} is not IP[:PORT] (IPv6 as [ADDR]:PORT)"
        ));
    };
    check_target(t)?;
    Ok(t)
}

fn check_target(t: SocketAddr) -> Result<(), String> {
    if t.ip().is_unspecified() {
        return Err(format!("{KEY_TARGETS}: {t}: the address is unspecified"));
    }
    if t.port() == 0 {
        return Err(format!("{KEY_TARGETS}: {t}: port 0"));
    }
    Ok(())
}

fn parse_agent(value: &str) -> Result<Option<IpAddr>, String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let ip: IpAddr = v
        .parse()
        .map_err(|_| format!("{KEY_AGENT}: {v:?} is not an IP address"))?;
    check_agent(ip)?;
    Ok(Some(ip))
}

/// An agent address identifies this switch to collectors: it must be a
/// unicast address (an empty value asks for the default).
fn check_agent(ip: IpAddr) -> Result<(), String> {
    if ip.is_unspecified() || ip.is_multicast() {
        return Err(format!(
            "{KEY_AGENT}: {ip} is not a unicast address (leave it empty for the default)"
        ));
    }
    if let IpAddr::V4(v4) = ip {
        if v4.is_broadcast() {
            return Err(format!(
                "{KEY_AGENT}: {ip} is not a unicast address (leave it empty for the default)"
            ));
        }
    }
    Ok(())
}

fn parse_num(key: &str, v: &str, lo: u32, hi: u32) -> Result<u32, String> {
    let n: u32 = v
        .trim()
        .parse()
        .map_err(|_| format!("{key}: {v:?} is not a number"))?;
    check_num(key, n, lo, hi)?;
    Ok(n)
}

fn check_num(key: &str, n: u32, lo: u32, hi: u32) -> Result<(), String> {
    if n < lo || n > hi {
        return Err(format!("{key}: {n} is out of range {lo}-{hi}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_ovs_defaults_and_off() {
        let c = SflowConfig::default();
        assert_eq!((c.sampling, c.polling, c.header), (400, 30, 128));
        assert!(!c.is_enabled());
        assert_eq!(c.agent, None);
        c.validate().unwrap();
    }

    #[test]
    fn targets_parse_with_and_without_port() {
        let t =
            parse_targets("192.0.2.1:6400, 192.0.2.2,[2001:db8::1]:9999,[2001:db8::2],2001:db8::3").unwrap();
        let s: Vec<String> = t.iter().map(|a| a.to_string()).collect();
        assert_eq!(
            s,
            [
                "192.0.2.1:6400",
                "192.0.2.2:6343",
                "[2001:db8::1]:9999",
                "[2001:db8::2]:6343",
                "[2001:db8::3]:6343"
            ]
        );
        assert_eq!(
            Targets(&t).to_string(),
            "192.0.2.1:6400,192.0.2.2:6343,[2001:db8::1]:9999,[2001:db8::2]:6343,[2001:db8::3]:6343"
        );
        assert_eq!(parse_targets(&Targets(&t).to_string()).unwrap(), t);
        assert_eq!(parse_targets("").unwrap(), []);
    }

    #[test]
    fn bad_targets_say_why() {
        let e = |s| parse_targets(s).unwrap_err();
        assert_eq!(
            e("host:6343"),
            "sflow_targets: \"host:6343\" is not IP[:PORT] (IPv6 as [ADDR]:PORT)"
        );
        assert_eq!(e("192.0.2.1:0"), "sflow_targets: 192.0.2.1:0: port 0");
        assert_eq!(
            e("0.0.0.0:6343"),
            "sflow_targets: 0.0.0.0:6343: the address is unspecified"
        );
        assert_eq!(
            e("192.0.2.1,192.0.2.1:6343"),
            "sflow_targets: 192.0.2.1:6343 is listed twice"
        );
        assert!(e("192.0.2.1,,192.0.2.2").contains("\"\" is not IP"));
        assert!(e("192.0.2.1:70000").contains("is not IP"));
    }

    #[test]
    fn set_checks_ranges_and_keeps_old_value_on_error() {
        let mut c = SflowConfig::default();
        c.set_pair("sflow_targets=192.0.2.9").unwrap();
        c.set("sflow_sampling", "1").unwrap();
        c.set("sflow_polling", "0").unwrap();
        c.set("sflow_header", "256").unwrap();
        c.set("sflow_agent", "10.0.0.1").unwrap();
        assert!(c.is_enabled());
        assert_eq!((c.sampling, c.polling, c.header), (1, 0, 256));
        assert_eq!(c.agent, Some("10.0.0.1".parse().unwrap()));
        let before = c.clone();
        assert_eq!(
            c.set("sflow_sampling", "0").unwrap_err(),
            "sflow_sampling: 0 is out of range 1-1000000000"
        );
        assert_eq!(
            c.set("sflow_sampling", "x").unwrap_err(),
            "sflow_sampling: \"x\" is not a number"
        );
        assert_eq!(
            c.set("sflow_polling", "86401").unwrap_err(),
            "sflow_polling: 86401 is out of range 0-86400"
        );
        assert_eq!(
            c.set("sflow_header", "3").unwrap_err(),
            "sflow_header: 3 is out of range 4-256"
        );
        assert_eq!(
            c.set("sflow_header", "257").unwrap_err(),
            "sflow_header: 257 is out of range 4-256"
        );
        assert_eq!(
            c.set("sflow_agent", "eth0").unwrap_err(),
            "sflow_agent: \"eth0\" is not an IP address"
        );
        assert!(c
            .set("sflow_agent", "224.0.0.1")
            .unwrap_err()
            .contains("not a unicast"));
        assert!(c.set("sflow_agent", "::").unwrap_err().contains("not a unicast"));
        assert!(c
            .set("sflow_rate", "1")
            .unwrap_err()
            .starts_with("unknown sflow key \"sflow_rate\""));
        assert!(c.set_pair("sflow_header").unwrap_err().contains("KEY=VALUE"));
        assert_eq!(c, before);
        // Empty values restore the defaults.
        c.set("sflow_agent", "").unwrap();
        c.set("sflow_targets", "").unwrap();
        assert_eq!(c.agent, None);
        assert!(!c.is_enabled());
    }

    #[test]
    fn pairs_read_back() {
        let mut c = SflowConfig::default();
        c.set("sflow_targets", "[2001:db8::1]:6343,192.0.2.1:1").unwrap();
        c.set("sflow_agent", "2001:db8::5").unwrap();
        c.set("sflow_header", "64").unwrap();
        let mut d = SflowConfig::default();
        for (k, v) in c.pairs() {
            assert!(SflowConfig::is_key(k));
            d.set(k, &v).unwrap();
        }
        assert_eq!(c, d);
        assert_eq!(SflowConfig::default().pairs()[0], (KEY_TARGETS, String::new()));
    }

    #[test]
    fn validate_catches_what_set_refuses() {
        let mut c = SflowConfig {
            sampling: 0,
            ..SflowConfig::default()
        };
        assert!(c.validate().unwrap_err().contains("sflow_sampling"));
        c.sampling = 400;
        let t: SocketAddr = "192.0.2.1:6343".parse().unwrap();
        c.targets = vec![t, t];
        assert!(c.validate().unwrap_err().contains("listed twice"));
        c.targets = vec![t];
        c.agent = Some("255.255.255.255".parse().unwrap());
        assert!(c.validate().unwrap_err().contains("not a unicast"));
        c.agent = None;
        c.validate().unwrap();
    }
}

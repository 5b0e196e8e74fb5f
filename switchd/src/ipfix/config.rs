//! A bridge's IPFIX settings (SPEC §11): the `ipfix_*` keys of `switchctl
//! set bridge`, their defaults, ranges and parsing, with error messages in
//! the form the rest of the settings use (`KEY: VALUE is ...`).
//!
//! IPFIX is on for a bridge when it has at least one target; `clear bridge
//! BR ipfix` is [`IpfixConfig::default`] (no target).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The IANA port for IPFIX (RFC 7011 §10.1), used for a target given
/// without a port.
pub const IPFIX_PORT: u16 = 4739;

/// Default of `ipfix_sampling`: every packet.
pub const SAMPLING_DEFAULT: u32 = 1;
/// Default of `ipfix_active_timeout`, seconds.
pub const ACTIVE_TIMEOUT_DEFAULT: u32 = 60;
/// Largest `ipfix_active_timeout`, seconds (one day).
pub const ACTIVE_TIMEOUT_MAX: u32 = 86_400;
/// Default of `ipfix_cache_max_flows` (OVS's default too).
pub const CACHE_MAX_FLOWS_DEFAULT: u32 = 1024;
/// Largest `ipfix_cache_max_flows` (the largest `mac_table_size` too).
pub const CACHE_MAX_FLOWS_MAX: u32 = 1_000_000;
/// Most targets one bridge exports to.
pub const TARGETS_MAX: usize = 16;

/// The keys [`IpfixConfig::set`] accepts.
pub const KEYS: [&str; 5] = [
    "ipfix_targets",
    "ipfix_sampling",
    "ipfix_obs_domain_id",
    "ipfix_active_timeout",
    "ipfix_cache_max_flows",
];

/// A bridge's IPFIX settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpfixConfig {
    /// Collectors every message goes to (`ipfix_targets=IP:PORT[,...]`);
    /// none means IPFIX is off.
    pub targets: Vec<SocketAddr>,
    /// Sample 1 packet in this many, at random (`ipfix_sampling`, ≥ 1;
    /// default 1: every packet).
    pub sampling: u32,
    /// Observation Domain ID of every message (`ipfix_obs_domain_id`,
    /// default 0).
    pub obs_domain_id: u32,
    /// Seconds after its first packet that a flow still in the cache is
    /// exported, later packets starting a new record
    /// (`ipfix_active_timeout`, default 60). 0 turns aggregation off, as
    /// OVS's `cache_active_timeout=0`: whatever was counted is exported at
    /// the next [`run`](super::Ipfix::run).
    pub active_timeout: u32,
    /// Flows the cache holds; a new flow in a full cache exports the oldest
    /// first (`ipfix_cache_max_flows`, default 1024).
    pub cache_max_flows: u32,
}

impl Default for IpfixConfig {
    fn default() -> Self {
        IpfixConfig {
            targets: Vec::new(),
            sampling: SAMPLING_DEFAULT,
            obs_domain_id: 0,
            active_timeout: ACTIVE_TIMEOUT_DEFAULT,
            cache_max_flows: CACHE_MAX_FLOWS_DEFAULT,
        }
    }
}

fn parse_u32(key: &str, v: &str, lo: u32, hi: u32) -> Result<u32, String> {
    let n: u32 = v.parse().map_err(|_| format!("{key}: {v:?} is not a number"))?;
    check(key, n, lo, hi)?;
    Ok(n)
}

fn check(key: &str, n: u32, lo: u32, hi: u32) -> Result<(), String> {
    if n < lo || n > hi {
        return Err(format!("{key}: {n} is out of range {lo}-{hi}"));
    }
    Ok(())
}

/// One target: `IP:PORT`, `[IPv6]:PORT`, or an address alone for port
/// [`IPFIX_PORT`] (as OVS's `targets`).
fn parse_target(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    let addr = match s.parse::<SocketAddr>() {
        Ok(a) => a,
        Err(_) => match s.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, IPFIX_PORT),
            Err(_) => return Err(format!("ipfix_targets: {s:?} is not IP:PORT")),
        },
    };
    check_target(&addr)?;
    Ok(addr)
}

fn check_target(a: &SocketAddr) -> Result<(), String> {
    if a.port() == 0 {
        return Err(format!("ipfix_targets: {a}: port 0 is out of range 1-65535"));
    }
    if a.ip().is_unspecified() {
        return Err(format!(
            "ipfix_targets: {a}: an unspecified address is not a collector"
        ));
    }
    Ok(())
}

/// `ipfix_targets`' value: a comma-separated list of targets.
///
/// # Errors
/// An empty list, a target that is not an address (with an optional port),
/// port 0, an unspecified address (`0.0.0.0`, `::`), a target listed
/// twice, or more than [`TARGETS_MAX`] targets.
pub fn parse_targets(v: &str) -> Result<Vec<SocketAddr>, String> {
    if v.trim().is_empty() {
        return Err(
            "ipfix_targets: needs at least one IP:PORT (clear bridge BR ipfix turns IPFIX off)".into(),
        );
    }
    let targets = v.split(',').map(parse_target).collect::<Result<Vec<_>, _>>()?;
    check_targets(&targets)?;
    Ok(targets)
}

fn check_targets(targets: &[SocketAddr]) -> Result<(), String> {
    if targets.len() > TARGETS_MAX {
        return Err(format!(
            "ipfix_targets: {} targets, at most {TARGETS_MAX}",
            targets.len()
        ));
    }
    for (i, t) in targets.iter().enumerate() {
        check_target(t)?;
        if targets[..i].contains(t) {
            return Err(format!("ipfix_targets: {t} is listed twice"));
        }
    }
    Ok(())
}

impl IpfixConfig {
    /// Applies one `key=value` (as the db stores them); nothing changes on error.
    pub fn set_pair(&mut self, pair: &str) -> Result<(), String> {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?} is not KEY=VALUE"))?;
        self.set(k, v)
    }

    /// Every setting as (key, value), values as `set` takes them back.
    pub fn pairs(&self) -> [(&'static str, String); 5] {
        [
            ("ipfix_targets", self.targets_string()),
            ("ipfix_sampling", self.sampling.to_string()),
            ("ipfix_obs_domain_id", self.obs_domain_id.to_string()),
            ("ipfix_active_timeout", self.active_timeout.to_string()),
            ("ipfix_cache_max_flows", self.cache_max_flows.to_string()),
        ]
    }

    /// Whether IPFIX is on (at least one target).
    pub fn enabled(&self) -> bool {
        !self.targets.is_empty()
    }

    /// Sets `key` (one of [`KEYS`]) from its command-line `value`.
    ///
    /// # Errors
    /// An unknown key, or a value that does not parse or is out of range;
    /// `self` is unchanged then. Ranges: `ipfix_sampling` 1–1000000000 (sFlow's range: the same sampler),
    /// `ipfix_obs_domain_id` 0–4294967295, `ipfix_active_timeout`
    /// 0–[`ACTIVE_TIMEOUT_MAX`], `ipfix_cache_max_flows`
    /// 1–[`CACHE_MAX_FLOWS_MAX`]; targets as [`parse_targets`].
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "ipfix_targets" => self.targets = parse_targets(value)?,
            "ipfix_sampling" => self.sampling = parse_u32(key, value, 1, crate::sflow::SAMPLING_MAX)?,
            "ipfix_obs_domain_id" => self.obs_domain_id = parse_u32(key, value, 0, u32::MAX)?,
            "ipfix_active_timeout" => self.active_timeout = parse_u32(key, value, 0, ACTIVE_TIMEOUT_MAX)?,
            "ipfix_cache_max_flows" => self.cache_max_flows = parse_u32(key, value, 1, CACHE_MAX_FLOWS_MAX)?,
            _ => {
                return Err(format!(
                    "unknown IPFIX setting {key:?} (known: {})",
                    KEYS.join(", ")
                ))
            }
        }
        Ok(())
    }

    /// Checks every field (for settings read back from the db or built in
    /// code), with the messages of [`IpfixConfig::set`].
    ///
    /// # Errors
    /// The first field out of range.
    pub fn validate(&self) -> Result<(), String> {
        check_targets(&self.targets)?;
        check("ipfix_sampling", self.sampling, 1, crate::sflow::SAMPLING_MAX)?;
        check("ipfix_active_timeout", self.active_timeout, 0, ACTIVE_TIMEOUT_MAX)?;
        check(
            "ipfix_cache_max_flows",
            self.cache_max_flows,
            1,
            CACHE_MAX_FLOWS_MAX,
        )
    }

    /// The targets as `set` takes them (`IP:PORT,[IPv6]:PORT`).
    pub fn targets_string(&self) -> String {
        self.targets
            .iter()
            .map(SocketAddr::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// [`IpfixConfig::active_timeout`] as a duration.
    pub fn active_timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.active_timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_spec_ones() {
        let c = IpfixConfig::default();
        assert_eq!(
            (c.sampling, c.obs_domain_id, c.active_timeout, c.cache_max_flows),
            (1, 0, 60, 1024)
        );
        assert!(!c.enabled());
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn set_parses_and_checks() {
        let mut c = IpfixConfig::default();
        c.set("ipfix_targets", "192.0.2.1:4739, [2001:db8::1]:9995,192.0.2.2")
            .unwrap();
        assert_eq!(
            c.targets,
            vec![
                "192.0.2.1:4739".parse().unwrap(),
                "[2001:db8::1]:9995".parse().unwrap(),
                "192.0.2.2:4739".parse().unwrap()
            ]
        );
        assert_eq!(
            c.targets_string(),
            "192.0.2.1:4739,[2001:db8::1]:9995,192.0.2.2:4739"
        );
        assert!(c.enabled());
        c.set("ipfix_sampling", "100").unwrap();
        c.set("ipfix_obs_domain_id", "4294967295").unwrap();
        c.set("ipfix_active_timeout", "0").unwrap();
        c.set("ipfix_cache_max_flows", "5").unwrap();
        assert_eq!(
            (c.sampling, c.obs_domain_id, c.active_timeout, c.cache_max_flows),
            (100, u32::MAX, 0, 5)
        );
        assert_eq!(c.validate(), Ok(()));

        let before = c.clone();
        for (k, v, msg) in [
            (
                "ipfix_sampling",
                "0",
                "ipfix_sampling: 0 is out of range 1-1000000000",
            ),
            ("ipfix_sampling", "x", "ipfix_sampling: \"x\" is not a number"),
            (
                "ipfix_active_timeout",
                "86401",
                "ipfix_active_timeout: 86401 is out of range 0-86400",
            ),
            (
                "ipfix_cache_max_flows",
                "0",
                "ipfix_cache_max_flows: 0 is out of range 1-1000000",
            ),
            ("ipfix_targets", "", "ipfix_targets: needs at least one IP:PORT"),
            (
                "ipfix_targets",
                "host:1",
                "ipfix_targets: \"host:1\" is not IP:PORT",
            ),
            ("ipfix_targets", "10.0.0.1:0", "ipfix_targets: 10.0.0.1:0: port 0"),
            ("ipfix_targets", "0.0.0.0:4739", "unspecified address"),
            (
                "ipfix_targets",
                "10.0.0.1,10.0.0.1:4739",
                "ipfix_targets: 10.0.0.1:4739 is listed twice",
            ),
            ("ipfix_sflow", "1", "unknown IPFIX setting \"ipfix_sflow\""),
        ] {
            let e = c.set(k, v).unwrap_err();
            assert!(e.contains(msg), "{k}={v}: {e}");
            assert_eq!(c, before);
        }
        let many = (1..=17)
            .map(|i| format!("10.0.0.{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(c.set("ipfix_targets", &many).unwrap_err().contains("at most 16"));
    }

    #[test]
    fn validate_catches_what_set_refuses() {
        let c = IpfixConfig {
            sampling: 0,
            ..IpfixConfig::default()
        };
        assert!(c.validate().unwrap_err().starts_with("ipfix_sampling"));
        let c = IpfixConfig {
            targets: vec!["10.0.0.1:0".parse().unwrap()],
            ..IpfixConfig::default()
        };
        assert!(c.validate().unwrap_err().contains("port 0"));
    }
}

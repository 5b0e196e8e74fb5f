//! Validated values shared by `switchd` and `switchctl`.
//!
//! Every value a user can type (names, VLAN ids, trunk lists, port and bridge
//! settings) is parsed here, once, with `FromStr`. The CLI parses before it
//! sends and the daemon re-validates on decode (serde goes through the same
//! `FromStr`/`TryFrom`), so both reject exactly the same inputs with the same
//! message. Messages are lowercase without trailing punctuation and name the
//! offending value.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A value that failed validation; the message says what and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

fn invalid(msg: impl Into<String>) -> InvalidValue {
    InvalidValue(msg.into())
}

/// Longest interface name Linux accepts (`IFNAMSIZ - 1`).
pub const IFNAME_MAX: usize = 15;

/// A bridge or port name, valid as a Linux interface name: 1–15 bytes, no
/// `/`, `:`, whitespace or control characters, not `.` or `..` (the kernel's
/// `dev_valid_name` plus `:` which `ip` reserves for aliases).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IfName(String);

impl IfName {
    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for IfName {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(invalid("name must not be empty"));
        }
        if s.len() > IFNAME_MAX {
            return Err(invalid(format!(
                "name {s:?} is {} bytes long, the limit is {IFNAME_MAX}",
                s.len()
            )));
        }
        if s == "." || s == ".." {
            return Err(invalid(format!("name {s:?} is not allowed")));
        }
        if let Some(c) = s
            .chars()
            .find(|c| *c == '/' || *c == ':' || c.is_whitespace() || c.is_control())
        {
            return Err(invalid(format!(
                "name {s:?} contains {c:?}, which is not allowed"
            )));
        }
        Ok(IfName(s.to_owned()))
    }
}

impl TryFrom<String> for IfName {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<IfName> for String {
    fn from(n: IfName) -> String {
        n.0
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An 802.1Q VLAN id, 0–4095. VLAN 0 means "untagged" inside the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct VlanId(u16);

impl VlanId {
    /// Highest VLAN id.
    pub const MAX: u16 = 4095;
    /// VLAN 0: untagged traffic.
    pub const UNTAGGED: VlanId = VlanId(0);

    /// Builds a VLAN id, refusing values above 4095.
    pub fn new(v: u16) -> Result<Self, InvalidValue> {
        if v > Self::MAX {
            Err(invalid(format!("VLAN id {v} is out of range 0-4095")))
        } else {
            Ok(VlanId(v))
        }
    }

    /// The numeric id.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for VlanId {
    type Error = InvalidValue;
    fn try_from(v: u16) -> Result<Self, Self::Error> {
        VlanId::new(v)
    }
}

impl From<VlanId> for u16 {
    fn from(v: VlanId) -> u16 {
        v.0
    }
}

impl FromStr for VlanId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v: u32 = s
            .trim()
            .parse()
            .map_err(|_| invalid(format!("VLAN id {s:?} is not a number")))?;
        if v > u32::from(Self::MAX) {
            return Err(invalid(format!("VLAN id {v} is out of range 0-4095")));
        }
        Ok(VlanId(v as u16))
    }
}

impl fmt::Display for VlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A set of VLAN ids carried by a trunk, written like `10,20,100-110`.
/// An empty set (no `trunks` configured) means "all VLANs"; an explicit
/// empty list cannot be typed (use `clear port P trunks`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Trunks(BTreeSet<u16>);

impl Trunks {
    /// Whether `vid` is in the set.
    pub fn contains(&self, vid: u16) -> bool {
        self.0.contains(&vid)
    }

    /// The ids in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.0.iter().copied()
    }

    /// Number of ids in the set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<u16> for Trunks {
    fn from_iter<I: IntoIterator<Item = u16>>(iter: I) -> Self {
        Trunks(iter.into_iter().filter(|v| *v <= VlanId::MAX).collect())
    }
}

impl FromStr for Trunks {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err(invalid(
                "trunks list is empty (use 'clear port PORT trunks' to carry all VLANs)",
            ));
        }
        let mut set = BTreeSet::new();
        for item in s.split(',') {
            let item = item.trim();
            let bad = || {
                invalid(format!(
                    "trunks: {item:?} is not a VLAN id or a range like 100-110"
                ))
            };
            if item.is_empty() {
                return Err(invalid(format!("trunks: empty item in {s:?}")));
            }
            match item.split_once('-') {
                Some((lo, hi)) => {
                    let lo: VlanId = lo.parse().map_err(|e: InvalidValue| {
                        if lo.trim().parse::<u32>().is_ok() {
                            e
                        } else {
                            bad()
                        }
                    })?;
                    let hi: VlanId = hi.parse().map_err(|e: InvalidValue| {
                        if hi.trim().parse::<u32>().is_ok() {
                            e
                        } else {
                            bad()
                        }
                    })?;
                    if lo > hi {
                        return Err(invalid(format!("trunks: range {item:?} is backwards")));
                    }
                    set.extend(lo.get()..=hi.get());
                }
                None => {
                    let v: VlanId =
                        item.parse().map_err(
                            |e: InvalidValue| {
                                if item.parse::<u32>().is_ok() {
                                    e
                                } else {
                                    bad()
                                }
                            },
                        )?;
                    set.insert(v.get());
                }
            }
        }
        Ok(Trunks(set))
    }
}

impl TryFrom<String> for Trunks {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.is_empty() {
            return Ok(Trunks::default());
        }
        s.parse()
    }
}

impl From<Trunks> for String {
    fn from(t: Trunks) -> String {
        t.to_string()
    }
}

impl fmt::Display for Trunks {
    /// Compact form: consecutive ids become ranges (`10,20,100-110`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut iter = self.0.iter().copied().peekable();
        let mut first = true;
        while let Some(lo) = iter.next() {
            let mut hi = lo;
            while iter.peek() == Some(&(hi + 1)) {
                hi = iter.next().unwrap_or(hi);
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

/// The command-line keywords of a plain enum, from one list: `ALL`,
/// `as_str`, `FromStr` (any other word is refused with `$err`, which sees
/// the word as `$w`) and `Display`.
macro_rules! keywords {
    ($t:ident { $($v:ident => $s:literal),+ $(,)? }, |$w:ident| $err:expr) => {
        impl $t {
            /// Every value, in declaration order.
            pub const ALL: &'static [$t] = &[$($t::$v),+];

            /// The name used on the command line and in output.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($t::$v => $s),+
                }
            }
        }

        impl FromStr for $t {
            type Err = InvalidValue;
            fn from_str($w: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == $w)
                    .ok_or_else(|| invalid($err))
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// 802.1Q port mode, as Open vSwitch's `vlan_mode` (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VlanMode {
    /// One VLAN (`tag`), untagged on the wire; tagged ingress is dropped.
    Access,
    /// The VLANs in `trunks` (all if empty), tagged on the wire; untagged is VLAN 0.
    Trunk,
    /// Untagged ingress joins `tag`; everything leaves tagged.
    NativeTagged,
    /// Untagged ingress joins `tag`; `tag` leaves untagged, others tagged.
    NativeUntagged,
}

keywords!(VlanMode {
    Access => "access",
    Trunk => "trunk",
    NativeTagged => "native-tagged",
    NativeUntagged => "native-untagged",
}, |s| format!("vlan_mode {s:?} is not one of access, trunk, native-tagged, native-untagged"));

/// How a port moves frames (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortType {
    /// An existing network device, through an AF_PACKET raw socket.
    #[default]
    System,
    /// A TAP device that switchd creates or attaches to and owns.
    Tap,
    /// VXLAN tunnel (RFC 7348).
    Vxlan,
    /// Ethernet over GRE (RFC 2784/2890).
    Gre,
    /// Unix stream socket with 4-byte length prefixes (qemu `-netdev stream`).
    Stream,
    /// Unix datagram socket, one frame per datagram (qemu `-netdev dgram`).
    Dgram,
    /// A bond of two or more `system` members (SPEC §8), made by `add-bond`;
    /// its members are [`PortConfig::members`].
    Bond,
}

keywords!(PortType {
    System => "system",
    Tap => "tap",
    Vxlan => "vxlan",
    Gre => "gre",
    Stream => "stream",
    Dgram => "dgram",
    Bond => "bond",
}, |s| format!("type {s:?} is not one of system, tap, vxlan, gre, stream, dgram, bond"));

impl PortType {
    /// Whether this is a tunnel port (split horizon applies, SPEC §3).
    pub fn is_tunnel(self) -> bool {
        matches!(self, PortType::Vxlan | PortType::Gre)
    }

    /// Whether this is a bond (SPEC §8).
    pub fn is_bond(self) -> bool {
        self == PortType::Bond
    }
}

/// An Ethernet MAC address, written `02:00:00:00:00:01`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// Group bit set (multicast or broadcast).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// 00:00:00:00:00:00
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }
}

impl FromStr for MacAddr {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || invalid(format!("MAC address {s:?} is not of the form 02:00:00:00:00:01"));
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in &mut out {
            let p = parts.next().ok_or_else(bad)?;
            if p.len() != 2 {
                return Err(bad());
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(MacAddr(out))
    }
}

impl TryFrom<String> for MacAddr {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<MacAddr> for String {
    fn from(m: MacAddr) -> String {
        m.to_string()
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// MAC ageing: default, minimum and maximum seconds (SPEC §3).
pub const MAC_AGING_DEFAULT: u32 = 300;
/// Shortest allowed `mac_aging`.
pub const MAC_AGING_MIN: u32 = 1;
/// Longest allowed `mac_aging`.
pub const MAC_AGING_MAX: u32 = 86_400;
/// Default `mac_table_size` (entries per bridge).
pub const MAC_TABLE_SIZE_DEFAULT: u32 = 8192;
/// Smallest allowed `mac_table_size`.
pub const MAC_TABLE_SIZE_MIN: u32 = 16;
/// Largest allowed `mac_table_size`.
pub const MAC_TABLE_SIZE_MAX: u32 = 1_000_000;
/// Smallest port `mtu` (IPv4 minimum).
pub const MTU_MIN: u32 = 68;
/// Largest port `mtu`.
pub const MTU_MAX: u32 = 65_535;
/// Default VXLAN UDP port (IANA).
pub const VXLAN_DEFAULT_PORT: u16 = 4789;
/// Smallest OpenFlow port number of a port (`ofport`, `ofport_request`; SPEC §9).
pub const OFPORT_MIN: u16 = 1;
/// Largest OpenFlow port number of a port: OpenFlow's `OFPP_MAX` (0xfeff);
/// the numbers above it name reserved ports (`IN_PORT`, `NORMAL`, `LOCAL`...).
pub const OFPORT_MAX: u16 = 0xfeff;
/// Highest flow table a user can fill (SPEC §9, as OVS: 254 is internal).
pub const FLOW_TABLE_MAX: u8 = 253;
/// `table=255`: all tables, in `dump-flows` and `del-flows` (OpenFlow's `OFPTT_ALL`).
pub const FLOW_TABLE_ALL: u8 = 255;
/// A flow's priority when it gives none (OpenFlow's `OFP_DEFAULT_PRIORITY`);
/// `dump-flows` leaves it out of the text.
pub const FLOW_PRIORITY_DEFAULT: u16 = 32_768;
/// Longest flow text of one request (a flow, a match, or a whole
/// `add-flows`/`replace-flows` file): 4 MiB, some 40 000 flows.
pub const FLOW_TEXT_MAX: usize = 4 * 1024 * 1024;

/// Default `rstp_priority` of a bridge (SPEC §7).
pub const RSTP_PRIORITY_DEFAULT: u32 = 32_768;
/// Largest `rstp_priority`.
pub const RSTP_PRIORITY_MAX: u32 = 61_440;
/// `rstp_priority` must be a multiple of this (802.1D-2004 §17.13.7).
pub const RSTP_PRIORITY_STEP: u32 = 4096;
/// Default `rstp_max_age`, seconds.
pub const RSTP_MAX_AGE_DEFAULT: u32 = 20;
/// Smallest `rstp_max_age`.
pub const RSTP_MAX_AGE_MIN: u32 = 6;
/// Largest `rstp_max_age`.
pub const RSTP_MAX_AGE_MAX: u32 = 40;
/// Default `rstp_forward_delay`, seconds.
pub const RSTP_FORWARD_DELAY_DEFAULT: u32 = 15;
/// Smallest `rstp_forward_delay`.
pub const RSTP_FORWARD_DELAY_MIN: u32 = 4;
/// Largest `rstp_forward_delay`.
pub const RSTP_FORWARD_DELAY_MAX: u32 = 30;
/// Default `rstp_transmit_hold_count` (BPDUs per hello time).
pub const RSTP_TRANSMIT_HOLD_COUNT_DEFAULT: u32 = 6;
/// Smallest `rstp_transmit_hold_count`.
pub const RSTP_TRANSMIT_HOLD_COUNT_MIN: u32 = 1;
/// Largest `rstp_transmit_hold_count`.
pub const RSTP_TRANSMIT_HOLD_COUNT_MAX: u32 = 10;
/// `rstp_force_protocol_version=0`: send 802.1D STP BPDUs only.
pub const RSTP_FORCE_VERSION_STP: u32 = 0;
/// `rstp_force_protocol_version=2`: RSTP, the default.
pub const RSTP_FORCE_VERSION_RSTP: u32 = 2;
/// Hello time in seconds; fixed by 802.1D-2004, not configurable.
pub const RSTP_HELLO_TIME: u32 = 2;
/// Default `rstp_port_priority`.
pub const RSTP_PORT_PRIORITY_DEFAULT: u32 = 128;
/// Largest `rstp_port_priority`.
pub const RSTP_PORT_PRIORITY_MAX: u32 = 240;
/// `rstp_port_priority` must be a multiple of this (802.1D-2004 §17.13.10).
pub const RSTP_PORT_PRIORITY_STEP: u32 = 16;
/// Default `rstp_path_cost` (802.1D-2004 Table 17-3 for 1 Gbit/s).
pub const RSTP_PATH_COST_DEFAULT: u32 = 20_000;
/// Smallest `rstp_path_cost`.
pub const RSTP_PATH_COST_MIN: u32 = 1;
/// Largest `rstp_path_cost`.
pub const RSTP_PATH_COST_MAX: u32 = 200_000_000;

/// Fewest members a bond has (SPEC §8).
pub const BOND_MEMBERS_MIN: usize = 2;
/// Most members a bond has.
pub const BOND_MEMBERS_MAX: usize = 32;
/// Largest `bond_updelay` and `bond_downdelay`, milliseconds (default 0).
pub const BOND_DELAY_MAX: u32 = 60_000;
/// Default `bond_rebalance_interval`, milliseconds (Open vSwitch's).
pub const BOND_REBALANCE_INTERVAL_DEFAULT: u32 = 10_000;
/// Shortest `bond_rebalance_interval` other than 0 (off).
pub const BOND_REBALANCE_INTERVAL_MIN: u32 = 1000;
/// Longest `bond_rebalance_interval`.
pub const BOND_REBALANCE_INTERVAL_MAX: u32 = 10_000;
/// Hash buckets a balanced bond spreads its traffic over (indexes 0–255).
pub const BOND_BUCKETS: usize = 256;
/// LACP actor system priority, as Open vSwitch sends it.
pub const LACP_SYSTEM_PRIORITY: u16 = 65_534;

/// How a bond spreads traffic over its members (`bond_mode`, SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BondMode {
    /// One member carries everything; the next usable one takes over.
    #[default]
    ActiveBackup,
    /// Spread by source MAC and VLAN over 256 hash buckets.
    BalanceSlb,
    /// Spread by L2–L4 fields; needs LACP.
    BalanceTcp,
}

keywords!(BondMode {
    ActiveBackup => "active-backup",
    BalanceSlb => "balance-slb",
    BalanceTcp => "balance-tcp",
}, |s| format!("bond_mode: {s:?} is not active-backup, balance-slb or balance-tcp"));

impl BondMode {
    /// Whether traffic is spread over hash buckets (OVS's
    /// `bond_is_balanced`): every mode but active-backup.
    pub fn is_balanced(self) -> bool {
        self != BondMode::ActiveBackup
    }
}

/// Whether a bond runs LACP, and how (`lacp`, SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LacpMode {
    /// No LACP: members are used on carrier alone.
    #[default]
    Off,
    /// Send LACPDUs whether or not the partner does.
    Active,
    /// Send LACPDUs only once the partner does.
    Passive,
}

keywords!(LacpMode {
    Off => "off",
    Active => "active",
    Passive => "passive",
}, |s| format!("lacp: {s:?} is not off, active or passive"));

impl LacpMode {
    /// Whether LACP runs (`active` or `passive`).
    pub fn is_on(self) -> bool {
        self != LacpMode::Off
    }
}

/// The LACP timeout a bond asks of its partner (`lacp_time`, SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LacpTime {
    /// LACPDUs every 30 s, partner timeout 90 s.
    #[default]
    Slow,
    /// LACPDUs every 1 s, partner timeout 3 s.
    Fast,
}

keywords!(LacpTime {
    Slow => "slow",
    Fast => "fast",
}, |s| format!("lacp_time: {s:?} is not slow or fast"));

fn parse_kv(s: &str) -> Result<(&str, &str), InvalidValue> {
    s.split_once('=')
        .ok_or_else(|| invalid(format!("{s:?} is not of the form KEY=VALUE")))
}

fn parse_num<T>(key: &str, v: &str, lo: T, hi: T) -> Result<T, InvalidValue>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
{
    let n: T = v
        .parse()
        .map_err(|_| invalid(format!("{key}: {v:?} is not a number")))?;
    if n < lo || n > hi {
        return Err(invalid(format!("{key}: {n} is out of range {lo}-{hi}")));
    }
    Ok(n)
}

/// The range check of [`parse_num`] for a value that is already a number
/// (decoded from the wire or the db), with the same message.
fn check_num(key: &str, n: u32, lo: u32, hi: u32) -> Result<(), InvalidValue> {
    if n < lo || n > hi {
        return Err(invalid(format!("{key}: {n} is out of range {lo}-{hi}")));
    }
    Ok(())
}

/// A number in `lo..=hi` that is a multiple of `step` (RSTP priorities).
fn check_step(key: &str, n: u32, lo: u32, hi: u32, step: u32) -> Result<(), InvalidValue> {
    check_num(key, n, lo, hi)?;
    if n % step != 0 {
        return Err(invalid(format!("{key}: {n} is not a multiple of {step}")));
    }
    Ok(())
}

fn parse_step(key: &str, v: &str, lo: u32, hi: u32, step: u32) -> Result<u32, InvalidValue> {
    let n = parse_num(key, v, lo, hi)?;
    check_step(key, n, lo, hi, step)?;
    Ok(n)
}

fn parse_bool(key: &str, v: &str) -> Result<bool, InvalidValue> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(format!("{key}: {v:?} is not true or false"))),
    }
}

fn check_force_version(v: u32) -> Result<(), InvalidValue> {
    match v {
        RSTP_FORCE_VERSION_STP | RSTP_FORCE_VERSION_RSTP => Ok(()),
        _ => Err(invalid(format!(
            "rstp_force_protocol_version: {v} is not 0 (STP only) or 2 (RSTP)"
        ))),
    }
}

fn parse_force_version(v: &str) -> Result<u32, InvalidValue> {
    let n: u32 = v.parse().map_err(|_| {
        invalid(format!(
            "rstp_force_protocol_version: {v:?} is not 0 (STP only) or 2 (RSTP)"
        ))
    })?;
    check_force_version(n)?;
    Ok(n)
}

/// `bond_rebalance_interval`: 0 (off) or 1000–10000 ms.
fn check_rebalance(n: u32) -> Result<(), InvalidValue> {
    if n == 0 || (BOND_REBALANCE_INTERVAL_MIN..=BOND_REBALANCE_INTERVAL_MAX).contains(&n) {
        return Ok(());
    }
    Err(invalid(format!(
        "bond_rebalance_interval: {n} is neither 0 (off) nor in \
         {BOND_REBALANCE_INTERVAL_MIN}-{BOND_REBALANCE_INTERVAL_MAX}"
    )))
}

fn parse_rebalance(v: &str) -> Result<u32, InvalidValue> {
    let n: u32 = v
        .parse()
        .map_err(|_| invalid(format!("bond_rebalance_interval: {v:?} is not a number")))?;
    check_rebalance(n)?;
    Ok(n)
}

/// `ofport_request`: 1–65279 (0 is not a port, 65280 and up are OpenFlow's
/// reserved ports), with the message of [`parse_num`].
fn check_ofport(n: u16) -> Result<(), InvalidValue> {
    check_num("ofport_request", n.into(), OFPORT_MIN.into(), OFPORT_MAX.into())
}

fn parse_ip(key: &str, v: &str) -> Result<IpAddr, InvalidValue> {
    v.parse()
        .map_err(|_| invalid(format!("{key}: {v:?} is not an IPv4 or IPv6 address")))
}

/// Largest socket file `mode`: permission bits only (setuid, setgid and
/// sticky mean nothing on a socket).
pub const MODE_MAX: u32 = 0o777;
/// Socket file `mode` when none is set: owner only.
pub const MODE_DEFAULT: u32 = 0o600;

/// Parses an octal file mode such as `0660` or `660`.
fn parse_mode(v: &str) -> Result<u32, InvalidValue> {
    let bad = || invalid(format!("mode: {v:?} is not an octal mode like 0660"));
    if v.is_empty() || !v.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(bad());
    }
    let m = u32::from_str_radix(v, 8).map_err(|_| bad())?;
    check_mode(m)?;
    Ok(m)
}

fn check_mode(m: u32) -> Result<(), InvalidValue> {
    if m > MODE_MAX {
        return Err(invalid(format!("mode: {m:04o} is out of range 0000-0777")));
    }
    Ok(())
}

/// Serde form of a file mode: the octal string `"0660"`, which is what a
/// person reading the db or `show --json` expects; a plain number (the
/// mode's value) is accepted too.
mod octal_mode {
    use serde::de::{self, Deserializer, Visitor};
    use serde::Serializer;
    use std::fmt;

    pub fn serialize<S: Serializer>(m: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{m:04o}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        struct ModeVisitor;
        impl Visitor<'_> for ModeVisitor {
            type Value = u32;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an octal file mode such as \"0660\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<u32, E> {
                super::parse_mode(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
                let m = u32::try_from(v).unwrap_or(u32::MAX);
                super::check_mode(m).map_err(E::custom)?;
                Ok(m)
            }
        }
        d.deserialize_any(ModeVisitor)
    }

    /// The same for `Option<u32>` fields.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(m: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
            match m {
                Some(m) => super::serialize(m, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
            #[derive(Deserialize)]
            struct Wrap(#[serde(with = "super")] u32);
            Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(m)| m))
        }
    }
}

// OpenFlow controllers (SPEC §10): where a bridge finds its controllers,
// what it does without them, which versions it speaks and what it calls
// itself. Parsed here like every other value a user types, so `switchctl`
// and the daemon refuse the same targets with the same words.

/// The OpenFlow port (IANA) of a `tcp:` or `ptcp:` target that gives none.
pub const OPENFLOW_PORT: u16 = 6653;
/// Most controller targets one bridge has (`set-controller BR TARGET...`).
pub const CONTROLLER_TARGETS_MAX: usize = 8;
/// Longest socket path of a `unix:` or `punix:` target, in bytes: a Unix
/// socket address holds 108 bytes, the terminating NUL included.
pub const UNIX_PATH_MAX: usize = 107;
/// The forms of a controller target, for messages and `--help`.
pub const CONTROLLER_TARGET_FORMS: &str = "tcp:IP[:PORT], unix:PATH, ptcp:[PORT][:IP], punix:PATH";

/// Where a bridge finds an OpenFlow controller, written as `ovs-vsctl
/// set-controller` writes it (SPEC §10).
///
/// Active targets (`tcp:`, `unix:`) are connected to, passive ones
/// (`ptcp:`, `punix:`) listen for controllers to connect. Parsing fills in
/// the defaults (port 6653; a passive TCP target listens on 127.0.0.1
/// only, where OVS would listen on every address: a switch should not
/// accept controllers from the network unless told to), so two spellings
/// of one target are equal and [`fmt::Display`] gives the one canonical
/// form: `tcp:127.0.0.1:6653`, `tcp:[::1]:6653`, `ptcp:6653:127.0.0.1`,
/// `unix:/run/ctl.sock`. Host names are not resolved: an address is
/// needed, IPv6 in brackets as OVS has it. Serialized as that string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ControllerTarget {
    /// `tcp:IP[:PORT]`: connect to a controller over TCP.
    Tcp {
        /// The controller's address (unicast).
        ip: IpAddr,
        /// Its port, 1–65535 (default 6653).
        port: u16,
    },
    /// `unix:PATH`: connect to a controller's Unix stream socket.
    Unix(PathBuf),
    /// `ptcp:[PORT][:IP]`: accept controllers on a TCP port.
    Ptcp {
        /// The port to listen on, 1–65535 (default 6653).
        port: u16,
        /// The address to listen on (default 127.0.0.1).
        ip: IpAddr,
    },
    /// `punix:PATH`: accept controllers on a Unix stream socket, which is
    /// created with mode 0600.
    Punix(PathBuf),
}

impl ControllerTarget {
    /// Whether the target listens (`ptcp:`, `punix:`) rather than connects.
    pub fn is_passive(&self) -> bool {
        matches!(self, ControllerTarget::Ptcp { .. } | ControllerTarget::Punix(_))
    }

    /// Checks a bridge's set of targets, as `set-controller` gives it or the
    /// db stores it: at most [`CONTROLLER_TARGETS_MAX`], none twice (after
    /// the defaults are filled in, so `tcp:127.0.0.1` and
    /// `tcp:127.0.0.1:6653` are the same target). An empty set is fine
    /// here: it is a bridge without controllers.
    pub fn check_set(targets: &[ControllerTarget]) -> Result<(), InvalidValue> {
        if targets.len() > CONTROLLER_TARGETS_MAX {
            return Err(invalid(format!(
                "a bridge has at most {CONTROLLER_TARGETS_MAX} controller targets, got {}",
                targets.len()
            )));
        }
        let mut seen = BTreeSet::new();
        if let Some(dup) = targets.iter().find(|t| !seen.insert(*t)) {
            return Err(invalid(format!("controller target \"{dup}\" is given twice")));
        }
        Ok(())
    }
}

/// `[PORT]` of a target: empty for the default, else 1–65535.
fn parse_target_port(p: &str) -> Result<u16, String> {
    if p.is_empty() {
        return Ok(OPENFLOW_PORT);
    }
    match p.parse::<u16>() {
        Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!("port {p:?} is not a number in 1-65535")),
    }
}

/// An address of a target, IPv6 possibly in brackets (taken off here);
/// `example` shows where IPv6 goes in this kind of target.
fn parse_target_ip(s: &str, example: &str) -> Result<IpAddr, String> {
    let inner = match s.strip_prefix('[') {
        Some(rest) => rest
            .strip_suffix(']')
            .ok_or_else(|| format!("{s:?} lacks its closing ']'"))?,
        None => s,
    };
    inner.parse().map_err(|_| {
        format!(
            "{inner:?} is not an IPv4 or IPv6 address (host names are not resolved; \
             IPv6 goes in brackets: {example})"
        )
    })
}

/// `IP[:PORT]` of a `tcp:` target.
fn parse_tcp_target(rest: &str) -> Result<ControllerTarget, String> {
    let (host, port) = if rest.starts_with('[') {
        let end = rest
            .find(']')
            .ok_or_else(|| format!("{rest:?} lacks its closing ']'"))?;
        let (host, after) = rest.split_at(end + 1);
        match after {
            "" => (host, ""),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, port),
                None => return Err(format!("{after:?} after the address is not :PORT")),
            },
        }
    } else if rest.matches(':').count() > 1 {
        return Err(format!(
            "an IPv6 address goes in brackets, as in tcp:[::1]:{OPENFLOW_PORT}"
        ));
    } else {
        rest.split_once(':').unwrap_or((rest, ""))
    };
    if host.is_empty() {
        return Err("tcp needs the controller's address (tcp:IP[:PORT])".into());
    }
    let ip = parse_target_ip(host, "tcp:[::1]:6653")?;
    if ip.is_unspecified() || ip.is_multicast() {
        return Err(format!("cannot connect to {ip}, which is not a unicast address"));
    }
    let port = parse_target_port(port)?;
    Ok(ControllerTarget::Tcp { ip, port })
}

/// `[PORT][:IP]` of a `ptcp:` target.
fn parse_ptcp_target(rest: &str) -> Result<ControllerTarget, String> {
    if rest.starts_with('[') {
        return Err(format!(
            "the port comes first: ptcp:[PORT][:IP], as in ptcp:{OPENFLOW_PORT}:[::1]"
        ));
    }
    let (port, host) = rest.split_once(':').unwrap_or((rest, ""));
    let port = parse_target_port(port)?;
    let ip = if host.is_empty() {
        IpAddr::from([127, 0, 0, 1])
    } else {
        parse_target_ip(host, "ptcp:6653:[::1]")?
    };
    if ip.is_multicast() {
        return Err(format!("cannot listen on {ip}, which is a multicast address"));
    }
    Ok(ControllerTarget::Ptcp { port, ip })
}

/// `PATH` of a `unix:` or `punix:` target: absolute (the daemon's working
/// directory is not the user's), short enough for a socket address.
fn parse_target_path(method: &str, rest: &str) -> Result<PathBuf, String> {
    if rest.is_empty() {
        return Err(format!("{method} needs a socket path ({method}:PATH)"));
    }
    if rest.contains('\0') {
        return Err("the socket path contains a NUL byte".into());
    }
    if !rest.starts_with('/') {
        return Err(format!(
            "socket path {rest:?} is not absolute (switchd does not run in this directory)"
        ));
    }
    if rest.len() > UNIX_PATH_MAX {
        return Err(format!(
            "socket path is {} bytes long, the limit is {UNIX_PATH_MAX}",
            rest.len()
        ));
    }
    Ok(PathBuf::from(rest))
}

impl FromStr for ControllerTarget {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: String| invalid(format!("invalid controller target {s:?}: {why}"));
        let Some((method, rest)) = s.split_once(':') else {
            return Err(bad(format!("not of the form {CONTROLLER_TARGET_FORMS}")));
        };
        match method {
            "tcp" => parse_tcp_target(rest),
            "ptcp" => parse_ptcp_target(rest),
            "unix" => parse_target_path(method, rest).map(ControllerTarget::Unix),
            "punix" => parse_target_path(method, rest).map(ControllerTarget::Punix),
            "ssl" | "pssl" => Err(format!(
                "{method} is not supported (known: tcp, unix, ptcp, punix)"
            )),
            _ => Err(format!(
                "unknown connection method {method:?} (known: tcp, unix, ptcp, punix)"
            )),
        }
        .map_err(bad)
    }
}

impl TryFrom<String> for ControllerTarget {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ControllerTarget> for String {
    fn from(t: ControllerTarget) -> String {
        t.to_string()
    }
}

impl fmt::Display for ControllerTarget {
    /// The canonical form, every default written out; `FromStr` reads it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControllerTarget::Tcp {
                ip: IpAddr::V6(ip),
                port,
            } => write!(f, "tcp:[{ip}]:{port}"),
            ControllerTarget::Tcp { ip, port } => write!(f, "tcp:{ip}:{port}"),
            ControllerTarget::Ptcp {
                port,
                ip: IpAddr::V6(ip),
            } => write!(f, "ptcp:{port}:[{ip}]"),
            ControllerTarget::Ptcp { port, ip } => write!(f, "ptcp:{port}:{ip}"),
            ControllerTarget::Unix(p) => write!(f, "unix:{}", p.display()),
            ControllerTarget::Punix(p) => write!(f, "punix:{}", p.display()),
        }
    }
}

/// What a bridge with controllers does when it hears from none of them
/// (`fail_mode`, SPEC §10; OVS's `fail_mode` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    /// After 15 s without a message from any controller, a hidden flow of
    /// the highest priority sends everything to NORMAL, until a controller
    /// is heard from again (the flow table is kept meanwhile).
    #[default]
    Standalone,
    /// The flow table stays in charge whatever happens to the controllers.
    Secure,
}

keywords!(FailMode {
    Standalone => "standalone",
    Secure => "secure",
}, |s| format!("fail_mode: {s:?} is not standalone or secure"));

/// An OpenFlow version switchd speaks, named as OVS's `protocols` column
/// names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OfVersion {
    /// OpenFlow 1.3 (wire version 0x04).
    OpenFlow13,
    /// OpenFlow 1.0 (wire version 0x01).
    OpenFlow10,
}

// Listed newest first: the order of preference, and of `protocols=` output.
keywords!(OfVersion {
    OpenFlow13 => "OpenFlow13",
    OpenFlow10 => "OpenFlow10",
}, |s| format!("protocols: {s:?} is not supported (supported: OpenFlow10, OpenFlow13)"));

impl OfVersion {
    /// The version number in an OpenFlow header (`ofp_header.version`).
    pub fn wire(self) -> u8 {
        match self {
            OfVersion::OpenFlow10 => 0x01,
            OfVersion::OpenFlow13 => 0x04,
        }
    }

    /// The version of a header's version number, if switchd speaks it.
    pub fn from_wire(v: u8) -> Option<OfVersion> {
        OfVersion::ALL.iter().copied().find(|o| o.wire() == v)
    }
}

/// The OpenFlow versions a bridge offers its controllers (`protocols=`,
/// SPEC §10): a non-empty set, by default both. Typed as a comma list in
/// any order (`OpenFlow10,OpenFlow13`), written newest first
/// (`OpenFlow13,OpenFlow10`); in JSON an array of the names in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct OfVersions(u32);

impl OfVersions {
    /// Every version switchd speaks: the default.
    pub const ALL: OfVersions = OfVersions((1 << 0x01) | (1 << 0x04));

    /// The set as a HELLO version bitmap (OpenFlow 1.3.5 §7.5.1.1: bit n
    /// set = wire version n accepted).
    pub fn bitmap(self) -> u32 {
        self.0
    }

    /// Whether `v` is in the set.
    pub fn contains(self, v: OfVersion) -> bool {
        self.0 & (1 << v.wire()) != 0
    }

    /// The versions in the set, newest first.
    pub fn iter(self) -> impl Iterator<Item = OfVersion> {
        OfVersion::ALL.iter().copied().filter(move |v| self.contains(*v))
    }

    /// The set of `versions`; `None` if that is empty.
    pub fn new(versions: impl IntoIterator<Item = OfVersion>) -> Option<OfVersions> {
        let bits = versions.into_iter().fold(0, |bits, v| bits | (1 << v.wire()));
        (bits != 0).then_some(OfVersions(bits))
    }
}

impl Default for OfVersions {
    fn default() -> Self {
        OfVersions::ALL
    }
}

/// What `protocols=` with no version says.
const PROTOCOLS_EMPTY: &str = "protocols: at least one version is needed (supported: OpenFlow10, OpenFlow13)";

impl FromStr for OfVersions {
    type Err = InvalidValue;
    /// A comma list of version names in any order; a name given twice
    /// counts once (a set, as OVS's column).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err(invalid(PROTOCOLS_EMPTY));
        }
        let versions = s
            .split(',')
            .map(|item| match item.trim() {
                "" => Err(invalid(format!("protocols: empty item in {s:?}"))),
                name => name.parse::<OfVersion>(),
            })
            .collect::<Result<Vec<_>, _>>()?;
        OfVersions::new(versions).ok_or_else(|| invalid(PROTOCOLS_EMPTY))
    }
}

impl TryFrom<Vec<String>> for OfVersions {
    type Error = InvalidValue;
    fn try_from(names: Vec<String>) -> Result<Self, Self::Error> {
        let versions = names
            .iter()
            .map(|n| n.parse::<OfVersion>())
            .collect::<Result<Vec<_>, _>>()?;
        OfVersions::new(versions).ok_or_else(|| invalid(PROTOCOLS_EMPTY))
    }
}

impl From<OfVersions> for Vec<String> {
    fn from(v: OfVersions) -> Vec<String> {
        v.iter().map(|v| v.as_str().to_owned()).collect()
    }
}

impl fmt::Display for OfVersions {
    /// `OpenFlow13,OpenFlow10`: newest first, as `FromStr` reads it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(v.as_str())?;
        }
        Ok(())
    }
}

/// A bridge's OpenFlow datapath id (`datapath_id=`, SPEC §10): 64 bits,
/// written as exactly 16 hex digits without `0x` (`0000020000000001`), as
/// OVS's `other-config:datapath-id` takes it and `ovs-ofctl show` prints
/// it. Zero is refused, as OVS ignores it (it means "none" there). A
/// bridge without one uses [`DatapathId::from_mac`] of its MAC address.
/// Serialized as the 16-digit string, which a JSON number could not carry
/// exactly for every reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DatapathId(u64);

impl DatapathId {
    /// The id, refusing 0.
    pub fn new(id: u64) -> Result<DatapathId, InvalidValue> {
        if id == 0 {
            return Err(invalid(
                "datapath_id: 0000000000000000 is not allowed (zero means no datapath id)",
            ));
        }
        Ok(DatapathId(id))
    }

    /// The default id of a bridge: its MAC address in the low 48 bits, as
    /// OVS derives it (`eth_addr_to_uint64`). Zero only for an all-zero MAC,
    /// which a bridge does not have.
    pub fn from_mac(mac: MacAddr) -> DatapathId {
        DatapathId(mac.0.iter().fold(0u64, |id, b| (id << 8) | u64::from(*b)))
    }

    /// The 64-bit value.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl FromStr for DatapathId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let example = "like 0000020000000001";
        if s.starts_with("0x") || s.starts_with("0X") {
            return Err(invalid(format!(
                "datapath_id: {s:?} must be 16 hex digits without 0x, {example}"
            )));
        }
        if let Some(c) = s.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(invalid(format!(
                "datapath_id: {s:?} contains {c:?}, which is not a hex digit"
            )));
        }
        if s.len() != 16 {
            return Err(invalid(format!(
                "datapath_id: {s:?} has {} hex digits, it needs exactly 16, {example}",
                s.len()
            )));
        }
        let id = u64::from_str_radix(s, 16)
            .map_err(|_| invalid(format!("datapath_id: {s:?} is not 16 hex digits, {example}")))?;
        DatapathId::new(id)
    }
}

impl TryFrom<String> for DatapathId {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<DatapathId> for String {
    fn from(d: DatapathId) -> String {
        d.to_string()
    }
}

impl fmt::Display for DatapathId {
    /// 16 lowercase hex digits, leading zeros kept.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// One `KEY=VALUE` setting of a bridge (`set bridge BR ...`).
///
/// The `rstp*` settings are applied to a bridge's [`RstpBridgeConfig`] with
/// [`RstpBridgeConfig::apply`]; the timers are checked together by
/// [`RstpBridgeConfig::check`] once all settings of one `set` are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BridgeSetting {
    /// `mac_aging=SECS`, 1–86400.
    MacAging(u32),
    /// `mac_table_size=N`, 16–1,000,000.
    MacTableSize(u32),
    /// `rstp=true|false`: run the spanning tree (default false).
    Rstp(bool),
    /// `rstp_priority=N`, 0–61440, a multiple of 4096 (default 32768).
    RstpPriority(u32),
    /// `rstp_max_age=SECS`, 6–40 (default 20).
    RstpMaxAge(u32),
    /// `rstp_forward_delay=SECS`, 4–30 (default 15).
    RstpForwardDelay(u32),
    /// `rstp_transmit_hold_count=N`, 1–10 (default 6).
    RstpTransmitHoldCount(u32),
    /// `rstp_force_protocol_version=0|2`: 0 sends 802.1D STP BPDUs only (default 2).
    RstpForceProtocolVersion(u32),
    /// `fail_mode=standalone|secure`: what the bridge does when it hears
    /// from no controller (default standalone; SPEC §10).
    FailMode(FailMode),
    /// `protocols=OpenFlow13[,OpenFlow10]`: the OpenFlow versions offered
    /// to controllers (default both).
    Protocols(OfVersions),
    /// `datapath_id=HEX16`: the bridge's OpenFlow datapath id (default:
    /// from the bridge MAC, [`DatapathId::from_mac`]).
    DatapathId(DatapathId),
}

/// Keys `set bridge` accepts, for error messages and `--help`.
pub const BRIDGE_KEYS: &str = "mac_aging, mac_table_size, rstp, rstp_priority, rstp_max_age, \
     rstp_forward_delay, rstp_transmit_hold_count, rstp_force_protocol_version, fail_mode, protocols, \
     datapath_id";

impl BridgeSetting {
    /// Checks the range (also used after decoding from the wire). How
    /// `rstp_max_age` and `rstp_forward_delay` fit together is
    /// [`RstpBridgeConfig::check`]'s to say.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let k = self.key();
        match *self {
            BridgeSetting::MacAging(v) => check_num(k, v, MAC_AGING_MIN, MAC_AGING_MAX),
            BridgeSetting::MacTableSize(v) => check_num(k, v, MAC_TABLE_SIZE_MIN, MAC_TABLE_SIZE_MAX),
            BridgeSetting::Rstp(_) => Ok(()),
            BridgeSetting::RstpPriority(v) => check_step(k, v, 0, RSTP_PRIORITY_MAX, RSTP_PRIORITY_STEP),
            BridgeSetting::RstpMaxAge(v) => check_num(k, v, RSTP_MAX_AGE_MIN, RSTP_MAX_AGE_MAX),
            BridgeSetting::RstpForwardDelay(v) => {
                check_num(k, v, RSTP_FORWARD_DELAY_MIN, RSTP_FORWARD_DELAY_MAX)
            }
            BridgeSetting::RstpTransmitHoldCount(v) => {
                check_num(k, v, RSTP_TRANSMIT_HOLD_COUNT_MIN, RSTP_TRANSMIT_HOLD_COUNT_MAX)
            }
            BridgeSetting::RstpForceProtocolVersion(v) => check_force_version(v),
            // Their types refuse bad values while decoding.
            BridgeSetting::FailMode(_) | BridgeSetting::Protocols(_) => Ok(()),
            BridgeSetting::DatapathId(d) => DatapathId::new(d.get()).map(drop),
        }
    }

    /// The key as typed on the command line.
    pub fn key(&self) -> &'static str {
        match self {
            BridgeSetting::MacAging(_) => "mac_aging",
            BridgeSetting::MacTableSize(_) => "mac_table_size",
            BridgeSetting::Rstp(_) => "rstp",
            BridgeSetting::RstpPriority(_) => "rstp_priority",
            BridgeSetting::RstpMaxAge(_) => "rstp_max_age",
            BridgeSetting::RstpForwardDelay(_) => "rstp_forward_delay",
            BridgeSetting::RstpTransmitHoldCount(_) => "rstp_transmit_hold_count",
            BridgeSetting::RstpForceProtocolVersion(_) => "rstp_force_protocol_version",
            BridgeSetting::FailMode(_) => "fail_mode",
            BridgeSetting::Protocols(_) => "protocols",
            BridgeSetting::DatapathId(_) => "datapath_id",
        }
    }

    /// Whether this is one of the OpenFlow settings (`fail_mode`,
    /// `protocols`, `datapath_id`; SPEC §10).
    pub fn is_openflow(&self) -> bool {
        matches!(
            self,
            BridgeSetting::FailMode(_) | BridgeSetting::Protocols(_) | BridgeSetting::DatapathId(_)
        )
    }

    /// Whether this is one of the spanning tree settings (`rstp*`), which
    /// [`RstpBridgeConfig::apply`] takes.
    pub fn is_rstp(&self) -> bool {
        // Listed, not "all but mac_*": keys that later sections add to the
        // bridge are not spanning tree keys.
        matches!(
            self,
            BridgeSetting::Rstp(_)
                | BridgeSetting::RstpPriority(_)
                | BridgeSetting::RstpMaxAge(_)
                | BridgeSetting::RstpForwardDelay(_)
                | BridgeSetting::RstpTransmitHoldCount(_)
                | BridgeSetting::RstpForceProtocolVersion(_)
        )
    }
}

impl FromStr for BridgeSetting {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, v) = parse_kv(s)?;
        Ok(match k {
            "mac_aging" => BridgeSetting::MacAging(parse_num(k, v, MAC_AGING_MIN, MAC_AGING_MAX)?),
            "mac_table_size" => {
                BridgeSetting::MacTableSize(parse_num(k, v, MAC_TABLE_SIZE_MIN, MAC_TABLE_SIZE_MAX)?)
            }
            "rstp" => BridgeSetting::Rstp(parse_bool(k, v)?),
            "rstp_priority" => {
                BridgeSetting::RstpPriority(parse_step(k, v, 0, RSTP_PRIORITY_MAX, RSTP_PRIORITY_STEP)?)
            }
            "rstp_max_age" => BridgeSetting::RstpMaxAge(parse_num(k, v, RSTP_MAX_AGE_MIN, RSTP_MAX_AGE_MAX)?),
            "rstp_forward_delay" => BridgeSetting::RstpForwardDelay(parse_num(
                k,
                v,
                RSTP_FORWARD_DELAY_MIN,
                RSTP_FORWARD_DELAY_MAX,
            )?),
            "rstp_transmit_hold_count" => BridgeSetting::RstpTransmitHoldCount(parse_num(
                k,
                v,
                RSTP_TRANSMIT_HOLD_COUNT_MIN,
                RSTP_TRANSMIT_HOLD_COUNT_MAX,
            )?),
            "rstp_force_protocol_version" => BridgeSetting::RstpForceProtocolVersion(parse_force_version(v)?),
            "fail_mode" => BridgeSetting::FailMode(v.parse()?),
            "protocols" => BridgeSetting::Protocols(v.parse()?),
            "datapath_id" => BridgeSetting::DatapathId(v.parse()?),
            // Open vSwitch spells the bridge's switch `rstp_enable`; here
            // that is the port key, so say which one is meant.
            "rstp_enable" | "stp_enable" => {
                return Err(invalid(format!(
                    "unknown bridge key {k:?} (spanning tree is rstp=true|false on a bridge; \
                     rstp_enable is a port key)"
                )))
            }
            _ => {
                return Err(invalid(format!(
                    "unknown bridge key {k:?} (known: {BRIDGE_KEYS})"
                )))
            }
        })
    }
}

impl fmt::Display for BridgeSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = self.key();
        match *self {
            BridgeSetting::Rstp(b) => write!(f, "{k}={b}"),
            BridgeSetting::MacAging(v)
            | BridgeSetting::MacTableSize(v)
            | BridgeSetting::RstpPriority(v)
            | BridgeSetting::RstpMaxAge(v)
            | BridgeSetting::RstpForwardDelay(v)
            | BridgeSetting::RstpTransmitHoldCount(v)
            | BridgeSetting::RstpForceProtocolVersion(v) => write!(f, "{k}={v}"),
            BridgeSetting::FailMode(m) => write!(f, "{k}={m}"),
            BridgeSetting::Protocols(p) => write!(f, "{k}={p}"),
            BridgeSetting::DatapathId(d) => write!(f, "{k}={d}"),
        }
    }
}

/// The spanning tree settings of a bridge (SPEC §7), with their defaults:
/// what the db stores, what `show` reports, and what the daemon runs.
///
/// Serialized with the `set bridge` key names (`rstp`, `rstp_priority`,
/// ...) so it can be `#[serde(flatten)]`ed next to `mac_aging`; absent keys
/// take their defaults, so a db written before RSTP existed still loads.
///
/// A `set bridge` applies each of its settings to a copy with
/// [`RstpBridgeConfig::apply`] and calls [`RstpBridgeConfig::check`] once, so
/// timers given together are validated together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct RstpBridgeConfig {
    /// `rstp`: run RSTP on this bridge.
    #[serde(rename = "rstp")]
    pub enabled: bool,
    /// `rstp_priority`: bridge priority, 0–61440 in steps of 4096.
    #[serde(rename = "rstp_priority")]
    pub priority: u32,
    /// `rstp_max_age`: seconds, 6–40.
    #[serde(rename = "rstp_max_age")]
    pub max_age: u32,
    /// `rstp_forward_delay`: seconds, 4–30.
    #[serde(rename = "rstp_forward_delay")]
    pub forward_delay: u32,
    /// `rstp_transmit_hold_count`: BPDUs a port may send per hello time, 1–10.
    #[serde(rename = "rstp_transmit_hold_count")]
    pub transmit_hold_count: u32,
    /// `rstp_force_protocol_version`: 0 (STP BPDUs only) or 2 (RSTP).
    #[serde(rename = "rstp_force_protocol_version")]
    pub force_protocol_version: u32,
}

impl Default for RstpBridgeConfig {
    fn default() -> Self {
        RstpBridgeConfig {
            enabled: false,
            priority: RSTP_PRIORITY_DEFAULT,
            max_age: RSTP_MAX_AGE_DEFAULT,
            forward_delay: RSTP_FORWARD_DELAY_DEFAULT,
            transmit_hold_count: RSTP_TRANSMIT_HOLD_COUNT_DEFAULT,
            force_protocol_version: RSTP_FORCE_VERSION_RSTP,
        }
    }
}

impl RstpBridgeConfig {
    /// Applies one setting without validating the result; settings that are
    /// not `rstp*` ([`BridgeSetting::is_rstp`]) are ignored.
    pub fn apply(&mut self, s: &BridgeSetting) {
        match *s {
            BridgeSetting::Rstp(b) => self.enabled = b,
            BridgeSetting::RstpPriority(v) => self.priority = v,
            BridgeSetting::RstpMaxAge(v) => self.max_age = v,
            BridgeSetting::RstpForwardDelay(v) => self.forward_delay = v,
            BridgeSetting::RstpTransmitHoldCount(v) => self.transmit_hold_count = v,
            BridgeSetting::RstpForceProtocolVersion(v) => self.force_protocol_version = v,
            // Not a spanning tree setting (is_rstp() is false).
            _ => {}
        }
    }

    /// The settings that reproduce this configuration, in `--help` order.
    pub fn settings(&self) -> [BridgeSetting; 6] {
        [
            BridgeSetting::Rstp(self.enabled),
            BridgeSetting::RstpPriority(self.priority),
            BridgeSetting::RstpMaxAge(self.max_age),
            BridgeSetting::RstpForwardDelay(self.forward_delay),
            BridgeSetting::RstpTransmitHoldCount(self.transmit_hold_count),
            BridgeSetting::RstpForceProtocolVersion(self.force_protocol_version),
        ]
    }

    /// Checks every range and how the timers fit together (802.1D-2004
    /// §17.14): `2 * (forward_delay - 1) >= max_age >= 2 * (hello_time + 1)`,
    /// hello time being fixed at 2 s. Checked whether or not RSTP is on, so
    /// turning it on never meets a stored inconsistency.
    pub fn check(&self) -> Result<(), InvalidValue> {
        self.settings().iter().try_for_each(BridgeSetting::validate)?;
        let (max_age, fd) = (self.max_age, self.forward_delay);
        let hello = RSTP_HELLO_TIME;
        if 2 * (fd - 1) < max_age || max_age < 2 * (hello + 1) {
            // The smallest forward delay for this max age, the largest max
            // age for this forward delay.
            let min_fd = max_age.div_ceil(2) + 1;
            let max_ma = 2 * (fd - 1);
            return Err(invalid(format!(
                "rstp_max_age={max_age} and rstp_forward_delay={fd} do not satisfy \
                 2*(forward_delay-1) >= max_age >= 2*(hello_time+1), hello_time being {hello} s: \
                 raise rstp_forward_delay to at least {min_fd} or lower rstp_max_age to at most {max_ma}"
            )));
        }
        Ok(())
    }

    /// The bridge identifier for a bridge with this priority and `mac`.
    pub fn bridge_id(&self, mac: MacAddr) -> BridgeId {
        BridgeId {
            priority: u16::try_from(self.priority).unwrap_or(u16::MAX),
            mac,
        }
    }
}

/// An 802.1D bridge identifier: priority and MAC address, written
/// `PPPP.MMMMMMMMMMMM` in hex (`8000.020000000001`) as Open vSwitch does.
/// Ordered as 802.1D compares them: lower priority first, then lower MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BridgeId {
    /// Bridge priority (a multiple of 4096 when it comes from `rstp_priority`).
    pub priority: u16,
    /// The bridge's MAC address.
    pub mac: MacAddr,
}

impl FromStr for BridgeId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || invalid(format!("bridge id {s:?} is not of the form 8000.020000000001"));
        let (p, m) = s.split_once('.').ok_or_else(bad)?;
        let hex = |t: &str, len| t.len() == len && t.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex(p, 4) || !hex(m, 12) {
            return Err(bad());
        }
        let priority = u16::from_str_radix(p, 16).map_err(|_| bad())?;
        let mut mac = [0u8; 6];
        for (i, byte) in mac.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&m[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(BridgeId {
            priority,
            mac: MacAddr(mac),
        })
    }
}

impl TryFrom<String> for BridgeId {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<BridgeId> for String {
    fn from(b: BridgeId) -> String {
        b.to_string()
    }
}

impl fmt::Display for BridgeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}.", self.priority)?;
        self.mac.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// An 802.1D-2004 port identifier: the port priority's top four bits and a
/// 12-bit port number, written as four hex digits (`8001` is priority 128,
/// port 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RstpPortId(pub u16);

impl RstpPortId {
    /// Builds the identifier of port `number` (1–4095; only the low 12 bits
    /// are used) with port priority `priority` (0–240, a multiple of 16;
    /// only its top four bits are used, as 802.1D-2004 §9.2.7 says).
    pub fn new(priority: u32, number: u16) -> Self {
        let p = ((priority >> 4) & 0xf) as u16;
        RstpPortId((p << 12) | (number & 0x0fff))
    }

    /// The port priority, 0–240.
    pub fn priority(self) -> u32 {
        u32::from(self.0 >> 12) * RSTP_PORT_PRIORITY_STEP
    }

    /// The port number, 0–4095.
    pub fn number(self) -> u16 {
        self.0 & 0x0fff
    }
}

impl FromStr for RstpPortId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || invalid(format!("port id {s:?} is not four hex digits like 8001"));
        if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        u16::from_str_radix(s, 16).map(RstpPortId).map_err(|_| bad())
    }
}

impl TryFrom<String> for RstpPortId {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RstpPortId> for String {
    fn from(p: RstpPortId) -> String {
        p.to_string()
    }
}

impl fmt::Display for RstpPortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}", self.0)
    }
}

/// One `KEY=VALUE` setting of a port (`add-port ... KEY=VALUE`, `set port`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortSetting {
    /// `type=system|tap|vxlan|gre|stream|dgram` (only at `add-port`).
    Type(PortType),
    /// `tag=VID`
    Tag(VlanId),
    /// `trunks=10,20,100-110`
    Trunks(Trunks),
    /// `vlan_mode=access|trunk|native-tagged|native-untagged`
    VlanMode(VlanMode),
    /// `mtu=N`: the largest frame payload (without Ethernet header) sent out of the port.
    Mtu(u32),
    /// `ofport_request=N`, 1–65279: the OpenFlow port number the port asks
    /// for (SPEC §9); without it the daemon picks a free one.
    OfportRequest(u16),
    /// `remote_ip=A` (tunnels)
    RemoteIp(IpAddr),
    /// `local_ip=A` (tunnels)
    LocalIp(IpAddr),
    /// `key=N`: VXLAN VNI (24 bit) or GRE key (32 bit)
    Key(u32),
    /// `dst_port=N` (VXLAN)
    DstPort(u16),
    /// `path=FILE` (stream/dgram socket ports)
    Path(PathBuf),
    /// `mode=0660` (stream/dgram): permissions of the socket file, octal,
    /// 0-0777; default 0600. Written as an octal string on the wire.
    Mode(#[serde(with = "octal_mode")] u32),
    /// `persist=true|false` (tap): keep the TAP device when the port is removed or switchd stops.
    Persist(bool),
    /// `rstp_enable=true|false`: take part in the bridge's spanning tree
    /// (default true); false = always forwarding, BPDUs dropped.
    RstpEnable(bool),
    /// `rstp_port_priority=N`, 0–240, a multiple of 16 (default 128).
    RstpPortPriority(u32),
    /// `rstp_path_cost=N`, 1–200000000 (default 20000).
    RstpPathCost(u32),
    /// `rstp_admin_edge=true|false`: an edge port from the start (default false).
    RstpAdminEdge(bool),
    /// `rstp_auto_edge=true|false`: detect edge ports (default true).
    RstpAutoEdge(bool),
    /// `bond_mode=active-backup|balance-slb|balance-tcp` (bonds; default active-backup).
    BondMode(BondMode),
    /// `lacp=off|active|passive` (bonds; default off).
    Lacp(LacpMode),
    /// `lacp_time=slow|fast`: the LACP timeout asked of the partner (bonds; default slow).
    LacpTime(LacpTime),
    /// `lacp_fallback_ab=true|false`: without an LACP partner, work as
    /// active-backup (bonds; default false).
    LacpFallbackAb(bool),
    /// `bond_updelay=MS`, 0–60000: carrier up this long before a member is used (default 0).
    BondUpdelay(u32),
    /// `bond_downdelay=MS`, 0–60000: carrier down this long before a member is dropped (default 0).
    BondDowndelay(u32),
    /// `bond_rebalance_interval=MS`: 0 (off) or 1000–10000 (default 10000).
    BondRebalanceInterval(u32),
    /// `ingress_policing_rate=KBPS` (SPEC §12): kbit/s, 0 = off.
    IngressPolicingRate(u32),
    /// `ingress_policing_burst=KBITS`: kbit, 0 = the default (8000).
    IngressPolicingBurst(u32),
    /// `egress_policing_rate=KBPS`: kbit/s, 0 = off.
    EgressPolicingRate(u32),
    /// `egress_policing_burst=KBITS`: kbit, 0 = the default (8000).
    EgressPolicingBurst(u32),
}

/// Keys `set port` and `add-port` accept, for error messages and `--help`.
pub const PORT_KEYS: &str =
    "type, tag, trunks, vlan_mode, mtu, ofport_request, remote_ip, local_ip, key, dst_port, \
     path, mode, persist, rstp_enable, rstp_port_priority, rstp_path_cost, rstp_admin_edge, rstp_auto_edge, \
     bond_mode, lacp, lacp_time, lacp_fallback_ab, bond_updelay, bond_downdelay, bond_rebalance_interval, \
     ingress_policing_rate, ingress_policing_burst, egress_policing_rate, egress_policing_burst";

impl PortSetting {
    /// Checks ranges for a setting that did not come through `FromStr`
    /// (decoded from the wire or the db).
    pub fn validate(&self) -> Result<(), InvalidValue> {
        match self {
            PortSetting::Mtu(m) => parse_num("mtu", &m.to_string(), MTU_MIN, MTU_MAX).map(drop),
            PortSetting::OfportRequest(n) => check_ofport(*n),
            PortSetting::DstPort(0) => Err(invalid("dst_port: 0 is out of range 1-65535")),
            PortSetting::Path(p) if p.as_os_str().is_empty() => Err(invalid("path: must not be empty")),
            PortSetting::Mode(m) => check_mode(*m),
            PortSetting::RstpPortPriority(p) => {
                check_step(self.key(), *p, 0, RSTP_PORT_PRIORITY_MAX, RSTP_PORT_PRIORITY_STEP)
            }
            PortSetting::RstpPathCost(c) => check_num(self.key(), *c, RSTP_PATH_COST_MIN, RSTP_PATH_COST_MAX),
            PortSetting::BondUpdelay(d) | PortSetting::BondDowndelay(d) => {
                check_num(self.key(), *d, 0, BOND_DELAY_MAX)
            }
            PortSetting::BondRebalanceInterval(i) => check_rebalance(*i),
            _ => Ok(()),
        }
    }

    /// The key as typed on the command line.
    pub fn key(&self) -> &'static str {
        match self {
            PortSetting::Type(_) => "type",
            PortSetting::Tag(_) => "tag",
            PortSetting::Trunks(_) => "trunks",
            PortSetting::VlanMode(_) => "vlan_mode",
            PortSetting::Mtu(_) => "mtu",
            PortSetting::OfportRequest(_) => "ofport_request",
            PortSetting::RemoteIp(_) => "remote_ip",
            PortSetting::LocalIp(_) => "local_ip",
            PortSetting::Key(_) => "key",
            PortSetting::DstPort(_) => "dst_port",
            PortSetting::Path(_) => "path",
            PortSetting::Mode(_) => "mode",
            PortSetting::Persist(_) => "persist",
            PortSetting::RstpEnable(_) => "rstp_enable",
            PortSetting::RstpPortPriority(_) => "rstp_port_priority",
            PortSetting::RstpPathCost(_) => "rstp_path_cost",
            PortSetting::RstpAdminEdge(_) => "rstp_admin_edge",
            PortSetting::RstpAutoEdge(_) => "rstp_auto_edge",
            PortSetting::BondMode(_) => "bond_mode",
            PortSetting::Lacp(_) => "lacp",
            PortSetting::LacpTime(_) => "lacp_time",
            PortSetting::LacpFallbackAb(_) => "lacp_fallback_ab",
            PortSetting::BondUpdelay(_) => "bond_updelay",
            PortSetting::BondDowndelay(_) => "bond_downdelay",
            PortSetting::BondRebalanceInterval(_) => "bond_rebalance_interval",
            PortSetting::IngressPolicingRate(_) => "ingress_policing_rate",
            PortSetting::IngressPolicingBurst(_) => "ingress_policing_burst",
            PortSetting::EgressPolicingRate(_) => "egress_policing_rate",
            PortSetting::EgressPolicingBurst(_) => "egress_policing_burst",
        }
    }

    /// Whether this is one of the bond keys (SPEC §8), valid only on a bond.
    pub fn is_bond(&self) -> bool {
        matches!(
            self,
            PortSetting::BondMode(_)
                | PortSetting::Lacp(_)
                | PortSetting::LacpTime(_)
                | PortSetting::LacpFallbackAb(_)
                | PortSetting::BondUpdelay(_)
                | PortSetting::BondDowndelay(_)
                | PortSetting::BondRebalanceInterval(_)
        )
    }
}

impl FromStr for PortSetting {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, v) = parse_kv(s)?;
        Ok(match k {
            "type" => PortSetting::Type(v.parse()?),
            "tag" => PortSetting::Tag(
                v.parse()
                    .map_err(|e: InvalidValue| invalid(format!("tag: {e}")))?,
            ),
            "trunks" => PortSetting::Trunks(v.parse()?),
            "vlan_mode" => PortSetting::VlanMode(v.parse()?),
            "mtu" => PortSetting::Mtu(parse_num(k, v, MTU_MIN, MTU_MAX)?),
            "ofport_request" => PortSetting::OfportRequest(parse_num(k, v, OFPORT_MIN, OFPORT_MAX)?),
            "remote_ip" => PortSetting::RemoteIp(parse_ip(k, v)?),
            "local_ip" => PortSetting::LocalIp(parse_ip(k, v)?),
            "key" => PortSetting::Key(parse_num(k, v, 0, u32::MAX)?),
            "dst_port" => PortSetting::DstPort(parse_num(k, v, 1, u16::MAX)?),
            "path" => {
                if v.is_empty() {
                    return Err(invalid("path: must not be empty"));
                }
                PortSetting::Path(PathBuf::from(v))
            }
            "mode" => PortSetting::Mode(parse_mode(v)?),
            "persist" => PortSetting::Persist(parse_bool(k, v)?),
            "rstp_enable" => PortSetting::RstpEnable(parse_bool(k, v)?),
            "rstp_port_priority" => PortSetting::RstpPortPriority(parse_step(
                k,
                v,
                0,
                RSTP_PORT_PRIORITY_MAX,
                RSTP_PORT_PRIORITY_STEP,
            )?),
            "rstp_path_cost" => {
                PortSetting::RstpPathCost(parse_num(k, v, RSTP_PATH_COST_MIN, RSTP_PATH_COST_MAX)?)
            }
            "rstp_admin_edge" => PortSetting::RstpAdminEdge(parse_bool(k, v)?),
            "rstp_auto_edge" => PortSetting::RstpAutoEdge(parse_bool(k, v)?),
            "bond_mode" => PortSetting::BondMode(v.parse()?),
            "lacp" => PortSetting::Lacp(v.parse()?),
            "lacp_time" => PortSetting::LacpTime(v.parse()?),
            "lacp_fallback_ab" => PortSetting::LacpFallbackAb(parse_bool(k, v)?),
            "bond_updelay" => PortSetting::BondUpdelay(parse_num(k, v, 0, BOND_DELAY_MAX)?),
            "bond_downdelay" => PortSetting::BondDowndelay(parse_num(k, v, 0, BOND_DELAY_MAX)?),
            "bond_rebalance_interval" => PortSetting::BondRebalanceInterval(parse_rebalance(v)?),
            "ingress_policing_rate" => PortSetting::IngressPolicingRate(parse_num(k, v, 0, u32::MAX)?),
            "ingress_policing_burst" => PortSetting::IngressPolicingBurst(parse_num(k, v, 0, u32::MAX)?),
            "egress_policing_rate" => PortSetting::EgressPolicingRate(parse_num(k, v, 0, u32::MAX)?),
            "egress_policing_burst" => PortSetting::EgressPolicingBurst(parse_num(k, v, 0, u32::MAX)?),
            _ => return Err(invalid(format!("unknown port key {k:?} (known: {PORT_KEYS})"))),
        })
    }
}

impl fmt::Display for PortSetting {
    /// `KEY=VALUE` as typed on the command line (and accepted by `FromStr`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = self.key();
        match self {
            PortSetting::Type(t) => write!(f, "{k}={t}"),
            PortSetting::Tag(v) => write!(f, "{k}={v}"),
            PortSetting::Trunks(t) => write!(f, "{k}={t}"),
            PortSetting::VlanMode(m) => write!(f, "{k}={m}"),
            PortSetting::RemoteIp(a) | PortSetting::LocalIp(a) => write!(f, "{k}={a}"),
            PortSetting::DstPort(p) | PortSetting::OfportRequest(p) => write!(f, "{k}={p}"),
            PortSetting::Path(p) => write!(f, "{k}={}", p.display()),
            PortSetting::Mode(m) => write!(f, "{k}={m:04o}"),
            PortSetting::Mtu(n)
            | PortSetting::Key(n)
            | PortSetting::RstpPortPriority(n)
            | PortSetting::RstpPathCost(n)
            | PortSetting::BondUpdelay(n)
            | PortSetting::BondDowndelay(n)
            | PortSetting::BondRebalanceInterval(n)
            | PortSetting::IngressPolicingRate(n)
            | PortSetting::IngressPolicingBurst(n)
            | PortSetting::EgressPolicingRate(n)
            | PortSetting::EgressPolicingBurst(n) => write!(f, "{k}={n}"),
            PortSetting::Persist(b)
            | PortSetting::RstpEnable(b)
            | PortSetting::RstpAdminEdge(b)
            | PortSetting::RstpAutoEdge(b)
            | PortSetting::LacpFallbackAb(b) => write!(f, "{k}={b}"),
            PortSetting::BondMode(m) => write!(f, "{k}={m}"),
            PortSetting::Lacp(m) => write!(f, "{k}={m}"),
            PortSetting::LacpTime(t) => write!(f, "{k}={t}"),
        }
    }
}

/// Which record `external_ids` belong to, as Open vSwitch's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExternalIdsTable {
    /// A bridge (`Bridge` table).
    Bridge,
    /// A port (`Port` table).
    Port,
    /// A port's interface (`Interface` table): what libvirt writes.
    Interface,
}

impl ExternalIdsTable {
    /// The table's name as `ovs-vsctl` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExternalIdsTable::Bridge => "Bridge",
            ExternalIdsTable::Port => "Port",
            ExternalIdsTable::Interface => "Interface",
        }
    }
}

/// A port setting `clear port PORT KEY` can remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClearKey {
    /// Remove `tag`.
    Tag,
    /// Remove `trunks` (carry all VLANs).
    Trunks,
    /// Remove `vlan_mode` (back to the default: access if tagged, else trunk).
    VlanMode,
}

impl FromStr for ClearKey {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tag" => Ok(ClearKey::Tag),
            "trunks" => Ok(ClearKey::Trunks),
            "vlan_mode" => Ok(ClearKey::VlanMode),
            _ => Err(invalid(format!(
                "cannot clear {s:?} (known: tag, trunks, vlan_mode)"
            ))),
        }
    }
}

/// The complete configuration of a port: what `add-port` and `set port`
/// produce, what the db stores and what `show` reports. Absent fields take
/// their defaults. [`PortConfig::validate`] rejects contradictory
/// combinations instead of ignoring part of them (unlike OVS, which warns).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PortConfig {
    /// Port type.
    #[serde(rename = "type")]
    pub port_type: PortType,
    /// A bond's member devices (2–32 distinct `system` devices), in the
    /// order given to `add-bond`; `None` for any other port type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<IfName>>,
    /// Access VLAN or native VLAN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<VlanId>,
    /// VLANs a trunk carries; `None` means all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trunks: Option<Trunks>,
    /// Explicit VLAN mode; `None` means the default (access if `tag`, else trunk).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan_mode: Option<VlanMode>,
    /// Egress MTU override; `None` means the device's MTU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// The OpenFlow port number asked for (`ofport_request`); `None` lets
    /// the daemon pick one. Skipped when unset, so dbs written before flow
    /// tables load unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ofport_request: Option<u16>,
    /// Tunnel peer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<IpAddr>,
    /// Tunnel local address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_ip: Option<IpAddr>,
    /// VXLAN VNI or GRE key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<u32>,
    /// VXLAN UDP destination port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<u16>,
    /// Socket path of stream/dgram ports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// Permissions of the socket file of stream/dgram ports; `None` means
    /// [`MODE_DEFAULT`] (0600). Stored as an octal string (`"0660"`).
    #[serde(skip_serializing_if = "Option::is_none", with = "octal_mode::option")]
    pub mode: Option<u32>,
    /// Keep a TAP device after the port is gone.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub persist: bool,
    /// `rstp_enable`; `None` means true. See [`PortConfig::rstp`] for the
    /// values in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rstp_enable: Option<bool>,
    /// `rstp_port_priority`; `None` means [`RSTP_PORT_PRIORITY_DEFAULT`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rstp_port_priority: Option<u32>,
    /// `rstp_path_cost`; `None` means [`RSTP_PATH_COST_DEFAULT`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rstp_path_cost: Option<u32>,
    /// `rstp_admin_edge`; `None` means false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rstp_admin_edge: Option<bool>,
    /// `rstp_auto_edge`; `None` means true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rstp_auto_edge: Option<bool>,
    /// `bond_mode` (bonds); `None` means active-backup. See
    /// [`PortConfig::bond`] for the values in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bond_mode: Option<BondMode>,
    /// `lacp` (bonds); `None` means off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lacp: Option<LacpMode>,
    /// `lacp_time` (bonds); `None` means slow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lacp_time: Option<LacpTime>,
    /// `lacp_fallback_ab` (bonds); `None` means false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lacp_fallback_ab: Option<bool>,
    /// `bond_updelay`, ms (bonds); `None` means 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bond_updelay: Option<u32>,
    /// `bond_downdelay`, ms (bonds); `None` means 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bond_downdelay: Option<u32>,
    /// `bond_rebalance_interval`, ms (bonds); `None` means
    /// [`BOND_REBALANCE_INTERVAL_DEFAULT`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bond_rebalance_interval: Option<u32>,
    /// The `external_ids` of the port's interface (`Interface` table):
    /// kept for other tools (libvirt's `iface-id`, `attached-mac`, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub external_ids: BTreeMap<String, String>,
    /// The `external_ids` of the port itself (`Port` table).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub port_external_ids: BTreeMap<String, String>,
    /// `ingress_policing_rate`, kbit/s (SPEC §12); `None` (stored for 0)
    /// means no policing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress_policing_rate: Option<u32>,
    /// `ingress_policing_burst`, kbit; `None` (stored for 0) means the
    /// default, 8000. In `show` the value in effect while a rate is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress_policing_burst: Option<u32>,
    /// `egress_policing_rate`, kbit/s; `None` means no policing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress_policing_rate: Option<u32>,
    /// `egress_policing_burst`, kbit; `None` means the default, 8000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress_policing_burst: Option<u32>,
}

/// The bond settings of a port as they are in force: the configured values
/// of a [`PortConfig`] with Open vSwitch's defaults filled in
/// ([`PortConfig::bond`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BondConfig {
    /// `bond_mode`.
    pub mode: BondMode,
    /// `lacp`.
    pub lacp: LacpMode,
    /// `lacp_time`.
    pub lacp_time: LacpTime,
    /// `lacp_fallback_ab`: without a partner, work as active-backup.
    pub lacp_fallback_ab: bool,
    /// `bond_updelay`, ms.
    pub updelay: u32,
    /// `bond_downdelay`, ms.
    pub downdelay: u32,
    /// `bond_rebalance_interval`, ms; 0 = never rebalance.
    pub rebalance_interval: u32,
}

impl Default for BondConfig {
    fn default() -> Self {
        BondConfig {
            mode: BondMode::ActiveBackup,
            lacp: LacpMode::Off,
            lacp_time: LacpTime::Slow,
            lacp_fallback_ab: false,
            updelay: 0,
            downdelay: 0,
            rebalance_interval: BOND_REBALANCE_INTERVAL_DEFAULT,
        }
    }
}

/// The spanning tree settings of a port as they are in force: the
/// configured values of a [`PortConfig`] with defaults filled in
/// ([`PortConfig::rstp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RstpPortConfig {
    /// Takes part in the spanning tree; if false the port always forwards
    /// and drops BPDUs.
    pub enable: bool,
    /// Port priority, 0–240 in steps of 16.
    pub port_priority: u32,
    /// Path cost, 1–200000000.
    pub path_cost: u32,
    /// Administratively an edge port.
    pub admin_edge: bool,
    /// Edge detection by the bridge detection state machine.
    pub auto_edge: bool,
}

impl Default for RstpPortConfig {
    fn default() -> Self {
        RstpPortConfig {
            enable: true,
            port_priority: RSTP_PORT_PRIORITY_DEFAULT,
            path_cost: RSTP_PATH_COST_DEFAULT,
            admin_edge: false,
            auto_edge: true,
        }
    }
}

impl PortConfig {
    /// Builds a configuration from `add-port` settings and validates it.
    pub fn from_settings(settings: &[PortSetting]) -> Result<Self, InvalidValue> {
        let mut cfg = PortConfig::default();
        for s in settings {
            cfg.set(s.clone());
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Builds the configuration of bond `bond` from `add-bond`'s members and
    /// settings and validates it ([`PortConfig::validate_port`]). A `type=`
    /// setting is refused: a bond's type is `bond`.
    pub fn for_bond(
        bond: &IfName,
        members: &[IfName],
        settings: &[PortSetting],
    ) -> Result<Self, InvalidValue> {
        if settings.iter().any(|s| matches!(s, PortSetting::Type(_))) {
            return Err(invalid(
                "type cannot be given to add-bond (a bond's type is bond)",
            ));
        }
        let mut cfg = PortConfig {
            port_type: PortType::Bond,
            members: Some(members.to_vec()),
            ..PortConfig::default()
        };
        for s in settings {
            cfg.set(s.clone());
        }
        cfg.validate_port(bond)?;
        Ok(cfg)
    }

    /// Applies one setting without validating the result.
    pub fn set(&mut self, s: PortSetting) {
        match s {
            PortSetting::Type(t) => self.port_type = t,
            PortSetting::Tag(v) => self.tag = Some(v),
            PortSetting::Trunks(t) => self.trunks = Some(t),
            PortSetting::VlanMode(m) => self.vlan_mode = Some(m),
            PortSetting::Mtu(m) => self.mtu = Some(m),
            PortSetting::OfportRequest(n) => self.ofport_request = Some(n),
            PortSetting::RemoteIp(a) => self.remote_ip = Some(a),
            PortSetting::LocalIp(a) => self.local_ip = Some(a),
            PortSetting::Key(k) => self.key = Some(k),
            PortSetting::DstPort(p) => self.dst_port = Some(p),
            PortSetting::Path(p) => self.path = Some(p),
            PortSetting::Mode(m) => self.mode = Some(m),
            PortSetting::Persist(p) => self.persist = p,
            PortSetting::RstpEnable(b) => self.rstp_enable = Some(b),
            PortSetting::RstpPortPriority(p) => self.rstp_port_priority = Some(p),
            PortSetting::RstpPathCost(c) => self.rstp_path_cost = Some(c),
            PortSetting::RstpAdminEdge(b) => self.rstp_admin_edge = Some(b),
            PortSetting::RstpAutoEdge(b) => self.rstp_auto_edge = Some(b),
            PortSetting::BondMode(m) => self.bond_mode = Some(m),
            PortSetting::Lacp(l) => self.lacp = Some(l),
            PortSetting::LacpTime(t) => self.lacp_time = Some(t),
            PortSetting::LacpFallbackAb(b) => self.lacp_fallback_ab = Some(b),
            PortSetting::BondUpdelay(d) => self.bond_updelay = Some(d),
            PortSetting::BondDowndelay(d) => self.bond_downdelay = Some(d),
            PortSetting::BondRebalanceInterval(i) => self.bond_rebalance_interval = Some(i),
            // 0 is "off" / "the default" (as OVS): stored as absent, so that
            // `show` and the db list only what is set.
            PortSetting::IngressPolicingRate(r) => self.ingress_policing_rate = (r > 0).then_some(r),
            PortSetting::IngressPolicingBurst(b) => self.ingress_policing_burst = (b > 0).then_some(b),
            PortSetting::EgressPolicingRate(r) => self.egress_policing_rate = (r > 0).then_some(r),
            PortSetting::EgressPolicingBurst(b) => self.egress_policing_burst = (b > 0).then_some(b),
        }
    }

    /// Removes one setting without validating the result.
    pub fn clear(&mut self, k: ClearKey) {
        match k {
            ClearKey::Tag => self.tag = None,
            ClearKey::Trunks => self.trunks = None,
            ClearKey::VlanMode => self.vlan_mode = None,
        }
    }

    /// The mode in force: the explicit one, else access if tagged, else trunk.
    pub fn effective_vlan_mode(&self) -> VlanMode {
        match (self.vlan_mode, self.tag) {
            (Some(m), _) => m,
            (None, Some(_)) => VlanMode::Access,
            (None, None) => VlanMode::Trunk,
        }
    }

    /// The spanning tree settings in force: the configured ones, defaults
    /// for the rest.
    pub fn rstp(&self) -> RstpPortConfig {
        let d = RstpPortConfig::default();
        RstpPortConfig {
            enable: self.rstp_enable.unwrap_or(d.enable),
            port_priority: self.rstp_port_priority.unwrap_or(d.port_priority),
            path_cost: self.rstp_path_cost.unwrap_or(d.path_cost),
            admin_edge: self.rstp_admin_edge.unwrap_or(d.admin_edge),
            auto_edge: self.rstp_auto_edge.unwrap_or(d.auto_edge),
        }
    }

    /// The `rstp_*` settings that are configured (not left to their
    /// default), in `--help` order; what `show` lists.
    pub fn rstp_settings(&self) -> Vec<PortSetting> {
        [
            self.rstp_enable.map(PortSetting::RstpEnable),
            self.rstp_port_priority.map(PortSetting::RstpPortPriority),
            self.rstp_path_cost.map(PortSetting::RstpPathCost),
            self.rstp_admin_edge.map(PortSetting::RstpAdminEdge),
            self.rstp_auto_edge.map(PortSetting::RstpAutoEdge),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The policing settings (SPEC §12) as `KEY=VALUE` settings, in the
    /// order `set port` takes them.
    pub fn policing_settings(&self) -> Vec<PortSetting> {
        [
            self.ingress_policing_rate.map(PortSetting::IngressPolicingRate),
            self.ingress_policing_burst.map(PortSetting::IngressPolicingBurst),
            self.egress_policing_rate.map(PortSetting::EgressPolicingRate),
            self.egress_policing_burst.map(PortSetting::EgressPolicingBurst),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The member devices of a bond, in configured order; empty for any
    /// other port.
    pub fn members(&self) -> &[IfName] {
        self.members.as_deref().unwrap_or_default()
    }

    /// The bond settings in force: the configured ones, Open vSwitch's
    /// defaults for the rest. Meaningful for a bond only.
    pub fn bond(&self) -> BondConfig {
        let d = BondConfig::default();
        BondConfig {
            mode: self.bond_mode.unwrap_or(d.mode),
            lacp: self.lacp.unwrap_or(d.lacp),
            lacp_time: self.lacp_time.unwrap_or(d.lacp_time),
            lacp_fallback_ab: self.lacp_fallback_ab.unwrap_or(d.lacp_fallback_ab),
            updelay: self.bond_updelay.unwrap_or(d.updelay),
            downdelay: self.bond_downdelay.unwrap_or(d.downdelay),
            rebalance_interval: self.bond_rebalance_interval.unwrap_or(d.rebalance_interval),
        }
    }

    /// The bond settings that are configured (not left to their default),
    /// in `--help` order; what `show` lists.
    pub fn bond_settings(&self) -> Vec<PortSetting> {
        [
            self.bond_mode.map(PortSetting::BondMode),
            self.lacp.map(PortSetting::Lacp),
            self.lacp_time.map(PortSetting::LacpTime),
            self.lacp_fallback_ab.map(PortSetting::LacpFallbackAb),
            self.bond_updelay.map(PortSetting::BondUpdelay),
            self.bond_downdelay.map(PortSetting::BondDowndelay),
            self.bond_rebalance_interval
                .map(PortSetting::BondRebalanceInterval),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// [`PortConfig::validate`], plus what depends on the port's name: no
    /// member of bond `name` is called `name`. What `add-bond` and a
    /// restored db should check.
    pub fn validate_port(&self, name: &IfName) -> Result<(), InvalidValue> {
        self.validate()?;
        if self.members().contains(name) {
            return Err(invalid(format!(
                "member {:?} has the name of the bond itself",
                name.as_str()
            )));
        }
        Ok(())
    }

    /// Rejects contradictory or incomplete combinations with a specific message.
    /// A member named like the bond needs the bond's name:
    /// [`PortConfig::validate_port`] checks that too.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        // Ranges of values that may come from the db rather than `FromStr`.
        if let Some(n) = self.ofport_request {
            check_ofport(n)?;
        }
        self.rstp_settings().iter().try_for_each(PortSetting::validate)?;
        self.bond_settings().iter().try_for_each(PortSetting::validate)?;
        let has_trunks = self.trunks.as_ref().is_some_and(|t| !t.is_empty());
        match (self.vlan_mode, self.tag, has_trunks) {
            (Some(VlanMode::Access), None, _) => {
                return Err(invalid("vlan_mode=access needs a tag"));
            }
            (Some(VlanMode::Access), Some(_), true) | (None, Some(_), true) => {
                return Err(invalid(
                    "an access port cannot have trunks (use vlan_mode=native-tagged or native-untagged to combine tag and trunks)",
                ));
            }
            (Some(VlanMode::Trunk), Some(_), _) => {
                return Err(invalid(
                    "vlan_mode=trunk cannot have a tag (use native-tagged or native-untagged for a native VLAN)",
                ));
            }
            (Some(m @ (VlanMode::NativeTagged | VlanMode::NativeUntagged)), None, _) => {
                return Err(invalid(format!("vlan_mode={m} needs a tag (the native VLAN)")));
            }
            _ => {}
        }
        let t = self.port_type;
        let tunnel = t.is_tunnel();
        let only = |present: bool, key: &str, allowed: &str| {
            if present {
                Err(invalid(format!(
                    "{key} is not valid for a {t} port (only {allowed})"
                )))
            } else {
                Ok(())
            }
        };
        only(!tunnel && self.remote_ip.is_some(), "remote_ip", "vxlan, gre")?;
        only(!tunnel && self.local_ip.is_some(), "local_ip", "vxlan, gre")?;
        only(!tunnel && self.key.is_some(), "key", "vxlan, gre")?;
        only(
            t != PortType::Vxlan && self.dst_port.is_some(),
            "dst_port",
            "vxlan",
        )?;
        let socket = matches!(t, PortType::Stream | PortType::Dgram);
        only(!socket && self.path.is_some(), "path", "stream, dgram")?;
        only(!socket && self.mode.is_some(), "mode", "stream, dgram")?;
        if let Some(m) = self.mode {
            check_mode(m)?;
        }
        only(t != PortType::Tap && self.persist, "persist", "tap")?;
        let bond = t.is_bond();
        only(!bond && self.members.is_some(), "members", "bond")?;
        if bond {
            self.validate_bond()?;
        } else if let Some(s) = self.bond_settings().first() {
            only(true, s.key(), "bond")?;
        }
        if tunnel {
            let remote = self
                .remote_ip
                .ok_or_else(|| invalid(format!("a {t} port needs remote_ip")))?;
            if remote.is_unspecified() || remote.is_multicast() {
                return Err(invalid(format!("remote_ip {remote} must be a unicast address")));
            }
            if let Some(local) = self.local_ip {
                if local.is_ipv4() != remote.is_ipv4() {
                    return Err(invalid(
                        "local_ip and remote_ip must be of the same address family",
                    ));
                }
            }
            if t == PortType::Vxlan && self.key.is_some_and(|k| k > 0x00ff_ffff) {
                return Err(invalid(format!(
                    "key {} is too large for a VXLAN VNI (24 bit, at most 16777215)",
                    self.key.unwrap_or_default()
                )));
            }
        }
        if socket && self.path.is_none() {
            return Err(invalid(format!("a {t} port needs path=FILE")));
        }
        Ok(())
    }

    /// The members and keys of a bond (SPEC §8).
    fn validate_bond(&self) -> Result<(), InvalidValue> {
        let members = self.members.as_deref().ok_or_else(|| {
            invalid("a bond port needs members (create it with add-bond BR BOND IFACE IFACE...)")
        })?;
        let n = members.len();
        if n < BOND_MEMBERS_MIN {
            return Err(invalid(format!(
                "a bond needs at least {BOND_MEMBERS_MIN} members, got {n}"
            )));
        }
        if n > BOND_MEMBERS_MAX {
            return Err(invalid(format!(
                "a bond has at most {BOND_MEMBERS_MAX} members, got {n}"
            )));
        }
        let mut seen = BTreeSet::new();
        if let Some(dup) = members.iter().find(|m| !seen.insert(*m)) {
            return Err(invalid(format!("member {:?} is listed twice", dup.as_str())));
        }
        let b = self.bond();
        if b.mode == BondMode::BalanceTcp && !b.lacp.is_on() {
            return Err(invalid("bond_mode=balance-tcp needs lacp=active or passive"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_parse_print_and_serialize_alike() {
        fn check<T>(all: &[T])
        where
            T: Copy + PartialEq + fmt::Debug + FromStr + fmt::Display + Serialize,
            <T as FromStr>::Err: fmt::Debug,
        {
            for &v in all {
                let word = v.to_string();
                assert_eq!(word.parse::<T>().unwrap(), v);
                assert_eq!(
                    serde_json::to_value(v).unwrap(),
                    word.as_str(),
                    "serde name of {v:?}"
                );
            }
        }
        check(VlanMode::ALL);
        check(PortType::ALL);
        check(BondMode::ALL);
        check(LacpMode::ALL);
        check(LacpTime::ALL);
        check(FailMode::ALL);
        check(OfVersion::ALL);
    }

    #[test]
    fn ifname_accepts_and_rejects() {
        assert!("vnet0".parse::<IfName>().is_ok());
        assert!("a23456789012345".parse::<IfName>().is_ok());
        for bad in [
            "",
            "a234567890123456",
            "a/b",
            "a b",
            "a:1",
            ".",
            "..",
            "a\tb",
            "x\u{0}",
        ] {
            assert!(bad.parse::<IfName>().is_err(), "{bad:?} accepted");
        }
        let e = "a234567890123456".parse::<IfName>().unwrap_err();
        assert!(e.0.contains("16 bytes"), "{e}");
        // serde goes through the same validation
        assert!(serde_json::from_str::<IfName>("\"a/b\"").is_err());
        assert_eq!(serde_json::from_str::<IfName>("\"br0\"").unwrap().as_str(), "br0");
    }

    #[test]
    fn vlan_id_range() {
        assert_eq!("0".parse::<VlanId>().unwrap().get(), 0);
        assert_eq!("4095".parse::<VlanId>().unwrap().get(), 4095);
        assert!("4096".parse::<VlanId>().is_err());
        assert!("-1".parse::<VlanId>().is_err());
        assert!("ten".parse::<VlanId>().is_err());
        assert!(serde_json::from_str::<VlanId>("4096").is_err());
    }

    #[test]
    fn trunks_parse_and_display() {
        let t: Trunks = "10,20,100-110".parse().unwrap();
        assert_eq!(t.len(), 13);
        assert!(t.contains(105) && !t.contains(111));
        assert_eq!(t.to_string(), "10,20,100-110");
        let t: Trunks = "3,1,2,2".parse().unwrap();
        assert_eq!(t.to_string(), "1-3");
        for bad in [
            "", "10,", ",10", "10-", "5-1", "4096", "1-4096", "a", "10;20", "1--2",
        ] {
            assert!(bad.parse::<Trunks>().is_err(), "{bad:?} accepted");
        }
        let json = serde_json::to_string(&"0-4095".parse::<Trunks>().unwrap()).unwrap();
        assert_eq!(json, "\"0-4095\"");
        assert_eq!(serde_json::from_str::<Trunks>(&json).unwrap().len(), 4096);
    }

    #[test]
    fn mac_parse_and_display() {
        let m: MacAddr = "02:00:0a:ff:00:01".parse().unwrap();
        assert_eq!(m.to_string(), "02:00:0a:ff:00:01");
        assert!(!m.is_multicast());
        assert!(MacAddr::BROADCAST.is_multicast());
        for bad in [
            "",
            "02:00:0a:ff:00",
            "02:00:0a:ff:00:01:02",
            "2:00:0a:ff:00:01",
            "zz:00:00:00:00:00",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn port_settings_parse() {
        assert_eq!(
            "tag=10".parse::<PortSetting>().unwrap(),
            PortSetting::Tag(VlanId::new(10).unwrap())
        );
        assert_eq!(
            "type=tap".parse::<PortSetting>().unwrap(),
            PortSetting::Type(PortType::Tap)
        );
        assert_eq!("mtu=9000".parse::<PortSetting>().unwrap(), PortSetting::Mtu(9000));
        assert!("persist=true".parse::<PortSetting>().is_ok());
        for bad in [
            "tag",
            "tag=4096",
            "tag=x",
            "color=red",
            "type=bogus",
            "vlan_mode=hybrid",
            "mtu=10",
            "mtu=70000",
            "remote_ip=1.2.3",
            "dst_port=0",
            "key=-1",
            "persist=yes",
            "path=",
        ] {
            assert!(bad.parse::<PortSetting>().is_err(), "{bad:?} accepted");
        }
        let e = "color=red".parse::<PortSetting>().unwrap_err();
        assert!(e.0.contains("unknown port key \"color\""), "{e}");
    }

    #[test]
    fn bridge_settings_parse() {
        assert_eq!(
            "mac_aging=1".parse::<BridgeSetting>().unwrap(),
            BridgeSetting::MacAging(1)
        );
        assert!("mac_aging=0".parse::<BridgeSetting>().is_err());
        assert!("mac_aging=86401".parse::<BridgeSetting>().is_err());
        assert!("mac_table_size=15".parse::<BridgeSetting>().is_err());
        assert!("mac_table_size=1000001".parse::<BridgeSetting>().is_err());
        assert!("stp=true".parse::<BridgeSetting>().is_err());
        assert!(BridgeSetting::MacAging(0).validate().is_err());
    }

    #[test]
    fn rstp_bridge_settings_parse() {
        let ok = |s: &str| s.parse::<BridgeSetting>().unwrap();
        assert_eq!(ok("rstp=true"), BridgeSetting::Rstp(true));
        assert_eq!(ok("rstp=false"), BridgeSetting::Rstp(false));
        assert_eq!(ok("rstp_priority=0"), BridgeSetting::RstpPriority(0));
        assert_eq!(ok("rstp_priority=4096"), BridgeSetting::RstpPriority(4096));
        assert_eq!(ok("rstp_priority=61440"), BridgeSetting::RstpPriority(61440));
        assert_eq!(ok("rstp_max_age=6"), BridgeSetting::RstpMaxAge(6));
        assert_eq!(ok("rstp_max_age=40"), BridgeSetting::RstpMaxAge(40));
        assert_eq!(ok("rstp_forward_delay=4"), BridgeSetting::RstpForwardDelay(4));
        assert_eq!(ok("rstp_forward_delay=30"), BridgeSetting::RstpForwardDelay(30));
        assert_eq!(
            ok("rstp_transmit_hold_count=1"),
            BridgeSetting::RstpTransmitHoldCount(1)
        );
        assert_eq!(
            ok("rstp_transmit_hold_count=10"),
            BridgeSetting::RstpTransmitHoldCount(10)
        );
        assert_eq!(
            ok("rstp_force_protocol_version=0"),
            BridgeSetting::RstpForceProtocolVersion(0)
        );
        assert_eq!(
            ok("rstp_force_protocol_version=2"),
            BridgeSetting::RstpForceProtocolVersion(2)
        );
        let err = |s: &str| s.parse::<BridgeSetting>().unwrap_err().0;
        assert_eq!(err("rstp=yes"), "rstp: \"yes\" is not true or false");
        assert_eq!(err("rstp=1"), "rstp: \"1\" is not true or false");
        assert_eq!(
            err("rstp_priority=1000"),
            "rstp_priority: 1000 is not a multiple of 4096"
        );
        assert_eq!(
            err("rstp_priority=65536"),
            "rstp_priority: 65536 is out of range 0-61440"
        );
        assert_eq!(err("rstp_priority=-1"), "rstp_priority: \"-1\" is not a number");
        assert_eq!(
            err("rstp_priority=high"),
            "rstp_priority: \"high\" is not a number"
        );
        assert_eq!(err("rstp_max_age=5"), "rstp_max_age: 5 is out of range 6-40");
        assert_eq!(err("rstp_max_age=41"), "rstp_max_age: 41 is out of range 6-40");
        assert_eq!(
            err("rstp_forward_delay=3"),
            "rstp_forward_delay: 3 is out of range 4-30"
        );
        assert_eq!(
            err("rstp_forward_delay=31"),
            "rstp_forward_delay: 31 is out of range 4-30"
        );
        assert_eq!(
            err("rstp_transmit_hold_count=0"),
            "rstp_transmit_hold_count: 0 is out of range 1-10"
        );
        assert_eq!(
            err("rstp_transmit_hold_count=11"),
            "rstp_transmit_hold_count: 11 is out of range 1-10"
        );
        for v in ["1", "3", "-1", "x", ""] {
            assert!(
                err(&format!("rstp_force_protocol_version={v}")).starts_with("rstp_force_protocol_version: ")
                    && err(&format!("rstp_force_protocol_version={v}"))
                        .ends_with("is not 0 (STP only) or 2 (RSTP)"),
                "{v}"
            );
        }
        assert_eq!(
            err("rstp_force_protocol_version=1"),
            "rstp_force_protocol_version: 1 is not 0 (STP only) or 2 (RSTP)"
        );
        // the known keys are listed, and OVS's spelling gets a pointer
        assert_eq!(
            err("stp=true"),
            format!("unknown bridge key \"stp\" (known: {BRIDGE_KEYS})")
        );
        for k in BRIDGE_KEYS.split(", ") {
            assert!(err("color=red").contains(k), "{k}");
        }
        assert!(
            err("rstp_enable=true").contains("rstp=true|false on a bridge; rstp_enable is a port key"),
            "{}",
            err("rstp_enable=true")
        );
    }

    #[test]
    fn bridge_settings_validate_display_and_serde() {
        let all = [
            "mac_aging=60",
            "mac_table_size=16",
            "rstp=true",
            "rstp_priority=8192",
            "rstp_max_age=30",
            "rstp_forward_delay=20",
            "rstp_transmit_hold_count=3",
            "rstp_force_protocol_version=0",
            "fail_mode=secure",
            "protocols=OpenFlow13",
            "datapath_id=00000a0b0c0d0e0f",
        ];
        let keys: Vec<&str> = BRIDGE_KEYS.split(", ").collect();
        assert_eq!(keys.len(), all.len());
        for (text, key) in all.iter().zip(keys) {
            let s: BridgeSetting = text.parse().unwrap();
            assert_eq!(s.to_string(), *text);
            assert_eq!(s.key(), key);
            assert_eq!(s.is_rstp(), key.starts_with("rstp"));
            assert_eq!(
                s.is_openflow(),
                ["fail_mode", "protocols", "datapath_id"].contains(&key)
            );
            s.validate().unwrap();
            let j = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<BridgeSetting>(&j).unwrap(), s);
        }
        assert_eq!(
            serde_json::to_string(&BridgeSetting::RstpPriority(4096)).unwrap(),
            r#"{"rstp_priority":4096}"#
        );
        assert_eq!(
            serde_json::to_string(&BridgeSetting::Rstp(true)).unwrap(),
            r#"{"rstp":true}"#
        );
        // decoded from the wire without FromStr: validate() has the same words
        let bad = |s: BridgeSetting| s.validate().unwrap_err().0;
        assert_eq!(
            bad(BridgeSetting::RstpPriority(1000)),
            "rstp_priority: 1000 is not a multiple of 4096"
        );
        assert_eq!(
            bad(BridgeSetting::RstpPriority(65536)),
            "rstp_priority: 65536 is out of range 0-61440"
        );
        assert_eq!(
            bad(BridgeSetting::RstpMaxAge(41)),
            "rstp_max_age: 41 is out of range 6-40"
        );
        assert_eq!(
            bad(BridgeSetting::RstpForwardDelay(0)),
            "rstp_forward_delay: 0 is out of range 4-30"
        );
        assert_eq!(
            bad(BridgeSetting::RstpTransmitHoldCount(11)),
            "rstp_transmit_hold_count: 11 is out of range 1-10"
        );
        assert_eq!(
            bad(BridgeSetting::RstpForceProtocolVersion(3)),
            "rstp_force_protocol_version: 3 is not 0 (STP only) or 2 (RSTP)"
        );
        assert_eq!(
            bad(BridgeSetting::MacAging(0)),
            "mac_aging: 0 is out of range 1-86400"
        );
    }

    #[test]
    fn controller_targets_parse_with_defaults_and_print_canonically() {
        for (text, canonical) in [
            ("tcp:127.0.0.1", "tcp:127.0.0.1:6653"),
            ("tcp:127.0.0.1:6653", "tcp:127.0.0.1:6653"),
            ("tcp:192.0.2.1:6633", "tcp:192.0.2.1:6633"),
            ("tcp:192.0.2.1:", "tcp:192.0.2.1:6653"),
            ("tcp:[::1]", "tcp:[::1]:6653"),
            ("tcp:[::1]:6653", "tcp:[::1]:6653"),
            ("tcp:[2001:db8::0001]:1", "tcp:[2001:db8::1]:1"),
            ("tcp:[192.0.2.1]:65535", "tcp:192.0.2.1:65535"),
            ("unix:/run/ctl.sock", "unix:/run/ctl.sock"),
            ("ptcp:", "ptcp:6653:127.0.0.1"),
            ("ptcp:6653", "ptcp:6653:127.0.0.1"),
            ("ptcp:6633:0.0.0.0", "ptcp:6633:0.0.0.0"),
            ("ptcp::192.0.2.1", "ptcp:6653:192.0.2.1"),
            ("ptcp:6653:[::]", "ptcp:6653:[::]"),
            ("ptcp:6653:::1", "ptcp:6653:[::1]"),
            ("punix:/run/switchd/br0.ctl", "punix:/run/switchd/br0.ctl"),
        ] {
            let t: ControllerTarget = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(t.to_string(), canonical, "{text}");
            // the canonical form reads back as the same target
            assert_eq!(canonical.parse::<ControllerTarget>().unwrap(), t);
            // serde is the canonical string, through the same FromStr
            let j = serde_json::to_string(&t).unwrap();
            assert_eq!(j, format!("\"{canonical}\""));
            assert_eq!(serde_json::from_str::<ControllerTarget>(&j).unwrap(), t);
            assert_eq!(t.is_passive(), text.starts_with('p'), "{text}");
        }
        let t: ControllerTarget = "tcp:10.0.0.1".parse().unwrap();
        assert_eq!(
            t,
            ControllerTarget::Tcp {
                ip: "10.0.0.1".parse().unwrap(),
                port: OPENFLOW_PORT
            }
        );
        assert_eq!(
            "ptcp:".parse::<ControllerTarget>().unwrap(),
            ControllerTarget::Ptcp {
                port: 6653,
                ip: IpAddr::from([127, 0, 0, 1])
            }
        );
        assert_eq!(
            "punix:/a".parse::<ControllerTarget>().unwrap(),
            ControllerTarget::Punix("/a".into())
        );
        let longest = format!("unix:/{}", "a".repeat(UNIX_PATH_MAX - 1));
        assert!(longest.parse::<ControllerTarget>().is_ok());
    }

    #[test]
    fn controller_targets_refused_with_reason() {
        let long = format!("punix:/{}", "a".repeat(UNIX_PATH_MAX));
        let cases: &[(&str, &str)] = &[
            (
                "",
                "not of the form tcp:IP[:PORT], unix:PATH, ptcp:[PORT][:IP], punix:PATH",
            ),
            (
                "127.0.0.1",
                "not of the form tcp:IP[:PORT], unix:PATH, ptcp:[PORT][:IP], punix:PATH",
            ),
            (
                "udp:1.2.3.4",
                "unknown connection method \"udp\" (known: tcp, unix, ptcp, punix)",
            ),
            (
                "TCP:1.2.3.4",
                "unknown connection method \"TCP\" (known: tcp, unix, ptcp, punix)",
            ),
            (
                "ssl:1.2.3.4",
                "ssl is not supported (known: tcp, unix, ptcp, punix)",
            ),
            ("pssl:", "pssl is not supported (known: tcp, unix, ptcp, punix)"),
            ("tcp:", "tcp needs the controller's address (tcp:IP[:PORT])"),
            ("tcp::6653", "tcp needs the controller's address (tcp:IP[:PORT])"),
            (
                "tcp:ctl.example.com",
                "\"ctl.example.com\" is not an IPv4 or IPv6 address (host names are not resolved; \
                 IPv6 goes in brackets: tcp:[::1]:6653)",
            ),
            ("tcp:1.2.3", "\"1.2.3\" is not an IPv4 or IPv6 address"),
            (
                "tcp:::1",
                "an IPv6 address goes in brackets, as in tcp:[::1]:6653",
            ),
            (
                "tcp:::1:6653",
                "an IPv6 address goes in brackets, as in tcp:[::1]:6653",
            ),
            ("tcp:[::1", "\"[::1\" lacks its closing ']'"),
            ("tcp:[::1]6653", "\"6653\" after the address is not :PORT"),
            ("tcp:[]:1", "\"\" is not an IPv4 or IPv6 address"),
            ("tcp:1.2.3.4:0", "port \"0\" is not a number in 1-65535"),
            ("tcp:1.2.3.4:65536", "port \"65536\" is not a number in 1-65535"),
            ("tcp:1.2.3.4:+1", "port \"+1\" is not a number in 1-65535"),
            ("tcp:1.2.3.4:x", "port \"x\" is not a number in 1-65535"),
            (
                "tcp:0.0.0.0",
                "cannot connect to 0.0.0.0, which is not a unicast address",
            ),
            (
                "tcp:[::]:1",
                "cannot connect to ::, which is not a unicast address",
            ),
            (
                "tcp:224.0.0.1",
                "cannot connect to 224.0.0.1, which is not a unicast address",
            ),
            ("ptcp:0", "port \"0\" is not a number in 1-65535"),
            ("ptcp:x:1.2.3.4", "port \"x\" is not a number in 1-65535"),
            (
                "ptcp:[::1]",
                "the port comes first: ptcp:[PORT][:IP], as in ptcp:6653:[::1]",
            ),
            (
                "ptcp:6653:localhost",
                "\"localhost\" is not an IPv4 or IPv6 address (host names are not resolved; \
                 IPv6 goes in brackets: ptcp:6653:[::1])",
            ),
            ("ptcp:6653:[::1", "\"[::1\" lacks its closing ']'"),
            (
                "ptcp:6653:239.1.1.1",
                "cannot listen on 239.1.1.1, which is a multicast address",
            ),
            ("unix:", "unix needs a socket path (unix:PATH)"),
            ("punix:", "punix needs a socket path (punix:PATH)"),
            (
                "unix:ctl.sock",
                "socket path \"ctl.sock\" is not absolute (switchd does not run in this directory)",
            ),
            ("punix:/a\0b", "the socket path contains a NUL byte"),
            (&long, "socket path is 108 bytes long, the limit is 107"),
        ];
        for (text, reason) in cases {
            let e = text.parse::<ControllerTarget>().unwrap_err().0;
            let expected = format!("invalid controller target {text:?}: ");
            assert!(e.starts_with(&expected), "{text:?}: {e}");
            assert!(e.contains(reason), "{text:?}: {e:?} lacks {reason:?}");
            // serde refuses the same with the same words
            let j = serde_json::to_string(text).unwrap();
            let se = serde_json::from_str::<ControllerTarget>(&j)
                .unwrap_err()
                .to_string();
            assert!(se.contains(reason), "{se}");
        }
        // the whole message of one
        assert_eq!(
            "tcp:1.2.3.4:0".parse::<ControllerTarget>().unwrap_err().0,
            "invalid controller target \"tcp:1.2.3.4:0\": port \"0\" is not a number in 1-65535"
        );
    }

    #[test]
    fn controller_target_sets() {
        let t = |s: &str| s.parse::<ControllerTarget>().unwrap();
        ControllerTarget::check_set(&[]).unwrap();
        ControllerTarget::check_set(&[t("tcp:1.2.3.4"), t("ptcp:"), t("unix:/a"), t("punix:/a")]).unwrap();
        // two spellings of one target are one target
        assert_eq!(
            ControllerTarget::check_set(&[t("tcp:1.2.3.4"), t("ptcp:"), t("tcp:1.2.3.4:6653")])
                .unwrap_err()
                .0,
            "controller target \"tcp:1.2.3.4:6653\" is given twice"
        );
        assert_eq!(
            ControllerTarget::check_set(&[t("ptcp:6653"), t("ptcp::127.0.0.1")])
                .unwrap_err()
                .0,
            "controller target \"ptcp:6653:127.0.0.1\" is given twice"
        );
        let eight: Vec<ControllerTarget> = (1..=8).map(|p| t(&format!("tcp:10.0.0.1:{p}"))).collect();
        ControllerTarget::check_set(&eight).unwrap();
        let nine: Vec<ControllerTarget> = (1..=9).map(|p| t(&format!("tcp:10.0.0.1:{p}"))).collect();
        assert_eq!(
            ControllerTarget::check_set(&nine).unwrap_err().0,
            "a bridge has at most 8 controller targets, got 9"
        );
    }

    #[test]
    fn fail_mode_words() {
        assert_eq!(FailMode::default(), FailMode::Standalone);
        assert_eq!("secure".parse::<FailMode>().unwrap(), FailMode::Secure);
        assert_eq!(
            "open".parse::<FailMode>().unwrap_err().0,
            "fail_mode: \"open\" is not standalone or secure"
        );
        assert_eq!(
            "fail_mode=Secure".parse::<BridgeSetting>().unwrap_err().0,
            "fail_mode: \"Secure\" is not standalone or secure"
        );
        assert_eq!(
            serde_json::to_string(&BridgeSetting::FailMode(FailMode::Secure)).unwrap(),
            r#"{"fail_mode":"secure"}"#
        );
        assert!(serde_json::from_str::<BridgeSetting>(r#"{"fail_mode":"open"}"#).is_err());
    }

    #[test]
    fn of_versions_parse_in_any_order_and_print_newest_first() {
        let both = OfVersions::ALL;
        assert_eq!(OfVersions::default(), both);
        assert_eq!(both.to_string(), "OpenFlow13,OpenFlow10");
        assert_eq!(both.bitmap(), 0b1_0010);
        for text in [
            "OpenFlow13,OpenFlow10",
            "OpenFlow10,OpenFlow13",
            " OpenFlow10 , OpenFlow13 ",
            "OpenFlow13,OpenFlow10,OpenFlow13",
        ] {
            assert_eq!(text.parse::<OfVersions>().unwrap(), both, "{text}");
        }
        let v13: OfVersions = "OpenFlow13".parse().unwrap();
        assert_eq!(v13.to_string(), "OpenFlow13");
        assert_eq!(v13.bitmap(), 1 << 4);
        assert!(v13.contains(OfVersion::OpenFlow13) && !v13.contains(OfVersion::OpenFlow10));
        let v10: OfVersions = "OpenFlow10".parse().unwrap();
        assert_eq!(v10.bitmap(), 1 << 1);
        assert_eq!(v10.iter().collect::<Vec<_>>(), [OfVersion::OpenFlow10]);
        assert_eq!(
            both.iter().collect::<Vec<_>>(),
            [OfVersion::OpenFlow13, OfVersion::OpenFlow10]
        );
        assert_eq!(OfVersions::new([]), None);
        assert_eq!(OfVersion::OpenFlow13.wire(), 4);
        assert_eq!(OfVersion::OpenFlow10.wire(), 1);
        assert_eq!(OfVersion::from_wire(4), Some(OfVersion::OpenFlow13));
        assert_eq!(OfVersion::from_wire(1), Some(OfVersion::OpenFlow10));
        assert_eq!(OfVersion::from_wire(5), None);
        for (text, reason) in [
            (
                "",
                "protocols: at least one version is needed (supported: OpenFlow10, OpenFlow13)",
            ),
            (
                " ",
                "protocols: at least one version is needed (supported: OpenFlow10, OpenFlow13)",
            ),
            ("OpenFlow13,", "protocols: empty item in \"OpenFlow13,\""),
            (
                "OpenFlow12",
                "protocols: \"OpenFlow12\" is not supported (supported: OpenFlow10, OpenFlow13)",
            ),
            (
                "OpenFlow13,OF10",
                "protocols: \"OF10\" is not supported (supported: OpenFlow10, OpenFlow13)",
            ),
            (
                "openflow13",
                "protocols: \"openflow13\" is not supported (supported: OpenFlow10, OpenFlow13)",
            ),
        ] {
            assert_eq!(text.parse::<OfVersions>().unwrap_err().0, reason, "{text:?}");
            let setting = format!("protocols={text}");
            assert_eq!(setting.parse::<BridgeSetting>().unwrap_err().0, reason);
        }
        // JSON: an array of the names, newest first; decoded in any order
        assert_eq!(
            serde_json::to_string(&both).unwrap(),
            r#"["OpenFlow13","OpenFlow10"]"#
        );
        assert_eq!(
            serde_json::from_str::<OfVersions>(r#"["OpenFlow10","OpenFlow13"]"#).unwrap(),
            both
        );
        assert_eq!(
            serde_json::to_string(&BridgeSetting::Protocols(v13)).unwrap(),
            r#"{"protocols":["OpenFlow13"]}"#
        );
        for bad in [r#"[]"#, r#"["OpenFlow11"]"#, r#""OpenFlow13""#] {
            assert!(serde_json::from_str::<OfVersions>(bad).is_err(), "{bad}");
        }
        let e = serde_json::from_str::<OfVersions>("[]").unwrap_err().to_string();
        assert!(e.contains("at least one version is needed"), "{e}");
    }

    #[test]
    fn datapath_ids() {
        let d: DatapathId = "00000a0b0c0d0e0f".parse().unwrap();
        assert_eq!(d.get(), 0x0a0b_0c0d_0e0f);
        assert_eq!(d.to_string(), "00000a0b0c0d0e0f");
        let d: DatapathId = "FFFFFFFFFFFFFFFF".parse().unwrap();
        assert_eq!(d.get(), u64::MAX);
        assert_eq!(d.to_string(), "ffffffffffffffff");
        assert_eq!(
            DatapathId::from_mac(MacAddr([0x02, 0x5c, 0x8e, 0x11, 0x22, 0x33])).to_string(),
            "0000025c8e112233"
        );
        assert_eq!(DatapathId::new(7).unwrap().get(), 7);
        for (text, reason) in [
            (
                "0x0000000000000001",
                "datapath_id: \"0x0000000000000001\" must be 16 hex digits without 0x, like 0000020000000001",
            ),
            (
                "1",
                "datapath_id: \"1\" has 1 hex digits, it needs exactly 16, like 0000020000000001",
            ),
            (
                "00000000000000001",
                "datapath_id: \"00000000000000001\" has 17 hex digits, it needs exactly 16, like 0000020000000001",
            ),
            (
                "",
                "datapath_id: \"\" has 0 hex digits, it needs exactly 16, like 0000020000000001",
            ),
            (
                "000000000000000g",
                "datapath_id: \"000000000000000g\" contains 'g', which is not a hex digit",
            ),
            (
                "0000:0000:0000:01",
                "datapath_id: \"0000:0000:0000:01\" contains ':', which is not a hex digit",
            ),
            (
                "0000000000000000",
                "datapath_id: 0000000000000000 is not allowed (zero means no datapath id)",
            ),
        ] {
            assert_eq!(text.parse::<DatapathId>().unwrap_err().0, reason, "{text:?}");
            let setting = format!("datapath_id={text}");
            assert_eq!(setting.parse::<BridgeSetting>().unwrap_err().0, reason);
            let j = serde_json::to_string(text).unwrap();
            let e = serde_json::from_str::<DatapathId>(&j).unwrap_err().to_string();
            assert!(e.contains(reason), "{e}");
        }
        assert!(DatapathId::new(0).is_err());
        // JSON: the 16-digit string, not a number
        assert_eq!(
            serde_json::to_string(&BridgeSetting::DatapathId("0000020000000001".parse().unwrap())).unwrap(),
            r#"{"datapath_id":"0000020000000001"}"#
        );
        assert!(serde_json::from_str::<DatapathId>("1").is_err());
    }

    #[test]
    fn rstp_bridge_config_defaults_apply_and_check() {
        let d = RstpBridgeConfig::default();
        assert_eq!(
            d,
            RstpBridgeConfig {
                enabled: false,
                priority: 32768,
                max_age: 20,
                forward_delay: 15,
                transmit_hold_count: 6,
                force_protocol_version: 2,
            }
        );
        d.check().unwrap();

        let apply = |settings: &[&str]| {
            let mut c = RstpBridgeConfig::default();
            for s in settings {
                c.apply(&s.parse().unwrap());
            }
            c
        };
        let c = apply(&[
            "rstp=true",
            "mac_aging=60",
            "rstp_priority=4096",
            "rstp_max_age=6",
            "rstp_forward_delay=4",
            "rstp_transmit_hold_count=10",
            "rstp_force_protocol_version=0",
        ]);
        assert_eq!(
            c,
            RstpBridgeConfig {
                enabled: true,
                priority: 4096,
                max_age: 6,
                forward_delay: 4,
                transmit_hold_count: 10,
                force_protocol_version: 0,
            }
        );
        c.check().unwrap();
        // settings() reproduces the configuration
        let mut again = RstpBridgeConfig::default();
        c.settings().iter().for_each(|s| again.apply(s));
        assert_eq!(again, c);

        // the timers: 2*(fd-1) >= max_age >= 2*(2+1)
        apply(&["rstp_max_age=40", "rstp_forward_delay=21"])
            .check()
            .unwrap();
        apply(&["rstp_max_age=28", "rstp_forward_delay=15"])
            .check()
            .unwrap();
        let e = apply(&["rstp_max_age=40", "rstp_forward_delay=20"])
            .check()
            .unwrap_err();
        assert_eq!(
            e.0,
            "rstp_max_age=40 and rstp_forward_delay=20 do not satisfy \
             2*(forward_delay-1) >= max_age >= 2*(hello_time+1), hello_time being 2 s: \
             raise rstp_forward_delay to at least 21 or lower rstp_max_age to at most 38"
        );
        // with the default max age of 20, forward delay 10 is too short
        let e = apply(&["rstp_forward_delay=10"]).check().unwrap_err();
        assert!(
            e.0.starts_with("rstp_max_age=20 and rstp_forward_delay=10 do not satisfy"),
            "{e}"
        );
        assert!(
            e.0.ends_with("at least 11 or lower rstp_max_age to at most 18"),
            "{e}"
        );
        // an odd max age rounds the forward delay up
        let e = apply(&["rstp_max_age=21", "rstp_forward_delay=11"])
            .check()
            .unwrap_err();
        assert!(e.0.contains("at least 12"), "{e}");
        apply(&["rstp_max_age=21", "rstp_forward_delay=12"])
            .check()
            .unwrap();
        // the last value given wins, as in the daemon
        apply(&["rstp_forward_delay=4", "rstp_forward_delay=15"])
            .check()
            .unwrap();
        // ranges are checked too (a hand-edited db)
        let c = RstpBridgeConfig {
            priority: 100,
            ..RstpBridgeConfig::default()
        };
        assert_eq!(
            c.check().unwrap_err().0,
            "rstp_priority: 100 is not a multiple of 4096"
        );
        let c = RstpBridgeConfig {
            forward_delay: 0,
            ..RstpBridgeConfig::default()
        };
        assert_eq!(
            c.check().unwrap_err().0,
            "rstp_forward_delay: 0 is out of range 4-30"
        );
    }

    #[test]
    fn rstp_bridge_config_serde() {
        let c = RstpBridgeConfig {
            enabled: true,
            priority: 4096,
            ..RstpBridgeConfig::default()
        };
        let v = serde_json::to_value(c).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "rstp": true,
                "rstp_priority": 4096,
                "rstp_max_age": 20,
                "rstp_forward_delay": 15,
                "rstp_transmit_hold_count": 6,
                "rstp_force_protocol_version": 2,
            })
        );
        assert_eq!(serde_json::from_value::<RstpBridgeConfig>(v).unwrap(), c);
        // absent keys take their defaults (a db from before RSTP)
        assert_eq!(
            serde_json::from_str::<RstpBridgeConfig>("{}").unwrap(),
            RstpBridgeConfig::default()
        );
        assert_eq!(
            serde_json::from_str::<RstpBridgeConfig>(r#"{"rstp_max_age":30}"#)
                .unwrap()
                .max_age,
            30
        );

        // flattened next to other fields, as the daemon's db and `show` do
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Bridge {
            name: String,
            mac_aging: u32,
            #[serde(flatten)]
            rstp: RstpBridgeConfig,
        }
        let old: Bridge = serde_json::from_str(r#"{"name":"br0","mac_aging":300}"#).unwrap();
        assert_eq!(old.rstp, RstpBridgeConfig::default());
        let b = Bridge {
            name: "br0".into(),
            mac_aging: 300,
            rstp: c,
        };
        let j = serde_json::to_string(&b).unwrap();
        assert!(
            j.contains(r#""mac_aging":300,"rstp":true,"rstp_priority":4096"#),
            "{j}"
        );
        assert_eq!(serde_json::from_str::<Bridge>(&j).unwrap(), b);
    }

    #[test]
    fn bridge_id_format_order_and_serde() {
        let mac: MacAddr = "02:00:00:00:00:01".parse().unwrap();
        let id = RstpBridgeConfig::default().bridge_id(mac);
        assert_eq!(id.to_string(), "8000.020000000001");
        assert_eq!(id.priority, 0x8000);
        assert_eq!("8000.020000000001".parse::<BridgeId>().unwrap(), id);
        assert_eq!("8000.0200000000AB".parse::<BridgeId>().unwrap().mac.0[5], 0xab);
        let root = BridgeId {
            priority: 0x1000,
            mac: "02:ff:ff:ff:ff:ff".parse().unwrap(),
        };
        assert_eq!(root.to_string(), "1000.02ffffffffff");
        // lower priority wins, then lower MAC (802.1D)
        assert!(root < id);
        let other = BridgeId {
            priority: 0x8000,
            mac: "02:00:00:00:00:02".parse().unwrap(),
        };
        assert!(id < other);
        for bad in [
            "",
            "8000",
            "8000.",
            "8000:020000000001",
            "800.020000000001",
            "8000.02000000001",
            "8000.0200000000011",
            "800g.020000000001",
            "+800.020000000001",
            "8000.02000000000x",
        ] {
            let e = bad.parse::<BridgeId>().unwrap_err();
            assert_eq!(
                e.0,
                format!("bridge id {bad:?} is not of the form 8000.020000000001")
            );
        }
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"8000.020000000001\"");
        assert_eq!(
            serde_json::from_str::<BridgeId>("\"8000.020000000001\"").unwrap(),
            id
        );
        assert!(serde_json::from_str::<BridgeId>("\"8000\"").is_err());
    }

    #[test]
    fn rstp_port_id() {
        let p = RstpPortId::new(128, 1);
        assert_eq!(p.to_string(), "8001");
        assert_eq!((p.priority(), p.number()), (128, 1));
        let p = RstpPortId::new(240, 4095);
        assert_eq!(p.to_string(), "ffff");
        assert_eq!((p.priority(), p.number()), (240, 4095));
        let p = RstpPortId::new(0, 0x12);
        assert_eq!(p.to_string(), "0012");
        assert_eq!("8001".parse::<RstpPortId>().unwrap(), RstpPortId::new(128, 1));
        assert_eq!("A00F".parse::<RstpPortId>().unwrap(), RstpPortId::new(160, 15));
        for bad in ["", "801", "80011", "800g", "+801"] {
            assert_eq!(
                bad.parse::<RstpPortId>().unwrap_err().0,
                format!("port id {bad:?} is not four hex digits like 8001")
            );
        }
        assert_eq!(serde_json::to_string(&RstpPortId(0x8003)).unwrap(), "\"8003\"");
        assert_eq!(
            serde_json::from_str::<RstpPortId>("\"8003\"").unwrap(),
            RstpPortId(0x8003)
        );
    }

    #[test]
    fn rstp_port_settings_parse() {
        let ok = |s: &str| s.parse::<PortSetting>().unwrap();
        assert_eq!(ok("rstp_enable=false"), PortSetting::RstpEnable(false));
        assert_eq!(ok("rstp_port_priority=0"), PortSetting::RstpPortPriority(0));
        assert_eq!(ok("rstp_port_priority=240"), PortSetting::RstpPortPriority(240));
        assert_eq!(ok("rstp_port_priority=16"), PortSetting::RstpPortPriority(16));
        assert_eq!(ok("rstp_path_cost=1"), PortSetting::RstpPathCost(1));
        assert_eq!(
            ok("rstp_path_cost=200000000"),
            PortSetting::RstpPathCost(200_000_000)
        );
        assert_eq!(ok("rstp_admin_edge=true"), PortSetting::RstpAdminEdge(true));
        assert_eq!(ok("rstp_auto_edge=false"), PortSetting::RstpAutoEdge(false));
        let err = |s: &str| s.parse::<PortSetting>().unwrap_err().0;
        assert_eq!(err("rstp_enable=on"), "rstp_enable: \"on\" is not true or false");
        assert_eq!(
            err("rstp_admin_edge=1"),
            "rstp_admin_edge: \"1\" is not true or false"
        );
        assert_eq!(
            err("rstp_auto_edge="),
            "rstp_auto_edge: \"\" is not true or false"
        );
        assert_eq!(
            err("rstp_port_priority=100"),
            "rstp_port_priority: 100 is not a multiple of 16"
        );
        assert_eq!(
            err("rstp_port_priority=256"),
            "rstp_port_priority: 256 is out of range 0-240"
        );
        assert_eq!(
            err("rstp_path_cost=0"),
            "rstp_path_cost: 0 is out of range 1-200000000"
        );
        assert_eq!(
            err("rstp_path_cost=200000001"),
            "rstp_path_cost: 200000001 is out of range 1-200000000"
        );
        assert_eq!(
            err("rstp_path_cost=fast"),
            "rstp_path_cost: \"fast\" is not a number"
        );
        assert!(err("rstp_priority=4096").starts_with("unknown port key \"rstp_priority\""));
        assert_eq!(
            err("color=red"),
            format!("unknown port key \"color\" (known: {PORT_KEYS})")
        );
        // wire-decoded settings are range-checked with the same words
        assert_eq!(
            PortSetting::RstpPortPriority(8).validate().unwrap_err().0,
            "rstp_port_priority: 8 is not a multiple of 16"
        );
        assert_eq!(
            PortSetting::RstpPathCost(0).validate().unwrap_err().0,
            "rstp_path_cost: 0 is out of range 1-200000000"
        );
        assert!(PortSetting::RstpPathCost(2000).validate().is_ok());
        assert_eq!(
            serde_json::to_string(&PortSetting::RstpPathCost(2000)).unwrap(),
            r#"{"rstp_path_cost":2000}"#
        );
        assert_eq!(
            serde_json::to_string(&PortSetting::RstpEnable(false)).unwrap(),
            r#"{"rstp_enable":false}"#
        );
    }

    #[test]
    fn port_setting_display_round_trips() {
        for text in [
            "type=vxlan",
            "tag=10",
            "trunks=10,20,100-110",
            "vlan_mode=native-untagged",
            "mtu=1400",
            "ofport_request=65279",
            "remote_ip=192.0.2.1",
            "local_ip=2001:db8::1",
            "key=5000",
            "dst_port=8472",
            "path=/run/vm.sock",
            "mode=0660",
            "persist=true",
            "rstp_enable=false",
            "rstp_port_priority=64",
            "rstp_path_cost=2000",
            "rstp_admin_edge=true",
            "rstp_auto_edge=false",
            "bond_mode=balance-slb",
            "lacp=passive",
            "lacp_time=fast",
            "lacp_fallback_ab=true",
            "bond_updelay=200",
            "bond_downdelay=60000",
            "bond_rebalance_interval=0",
            "ingress_policing_rate=20000",
            "ingress_policing_burst=0",
            "egress_policing_rate=4294967295",
            "egress_policing_burst=100",
        ] {
            let s: PortSetting = text.parse().unwrap();
            assert_eq!(s.to_string(), text);
            assert!(PORT_KEYS.split(", ").any(|k| k == s.key()), "{text}");
            assert_eq!(
                s.is_bond(),
                PORT_KEYS.split(", ").skip(18).take(7).any(|k| k == s.key()),
                "{text}"
            );
            let j = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<PortSetting>(&j).unwrap(), s, "{j}");
        }
        assert_eq!(PORT_KEYS.split(", ").count(), 29);
        // 0 means off / the default, so it is not stored (as OVS shows it).
        let cfg = PortConfig::from_settings(&[
            PortSetting::IngressPolicingRate(0),
            PortSetting::IngressPolicingBurst(0),
            PortSetting::EgressPolicingRate(1000),
        ])
        .unwrap();
        assert_eq!(
            cfg.policing_settings(),
            vec![PortSetting::EgressPolicingRate(1000)]
        );
        assert_eq!(
            "ingress_policing_rate=-1".parse::<PortSetting>().unwrap_err().0,
            "ingress_policing_rate: \"-1\" is not a number"
        );
    }

    #[test]
    fn ofport_request_range_everywhere() {
        // typed
        assert_eq!(
            "ofport_request=1".parse::<PortSetting>().unwrap(),
            PortSetting::OfportRequest(OFPORT_MIN)
        );
        assert_eq!(
            "ofport_request=65279".parse::<PortSetting>().unwrap(),
            PortSetting::OfportRequest(OFPORT_MAX)
        );
        for (bad, message) in [
            ("ofport_request=0", "ofport_request: 0 is out of range 1-65279"),
            // OFPP_IN_PORT and up are OpenFlow's reserved ports
            (
                "ofport_request=65280",
                "ofport_request: 65280 is out of range 1-65279",
            ),
            (
                "ofport_request=65535",
                "ofport_request: 65535 is out of range 1-65279",
            ),
            (
                "ofport_request=65536",
                "ofport_request: \"65536\" is not a number",
            ),
            ("ofport_request=-1", "ofport_request: \"-1\" is not a number"),
            ("ofport_request=", "ofport_request: \"\" is not a number"),
        ] {
            assert_eq!(bad.parse::<PortSetting>().unwrap_err().0, message, "{bad}");
        }
        // decoded from the wire: the same range, the same message
        for (n, ok) in [
            (0u16, false),
            (1, true),
            (65279, true),
            (65280, false),
            (u16::MAX, false),
        ] {
            let s: PortSetting = serde_json::from_str(&format!(r#"{{"ofport_request":{n}}}"#)).unwrap();
            assert_eq!(s, PortSetting::OfportRequest(n));
            assert_eq!(s.validate().is_ok(), ok, "{n}");
        }
        assert_eq!(
            PortSetting::OfportRequest(0).validate().unwrap_err().0,
            "ofport_request: 0 is out of range 1-65279"
        );
        // any port type may ask for a number
        for t in [
            "type=system",
            "type=tap",
            "type=vxlan,remote_ip=192.0.2.1",
            "type=stream,path=/s",
        ] {
            let mut s: Vec<&str> = t.split(',').collect();
            s.push("ofport_request=7");
            assert_eq!(cfg(&s).unwrap().ofport_request, Some(7), "{t}");
        }
        // stored in the config, written only when set, checked when loaded
        let c = cfg(&["ofport_request=5"]).unwrap();
        assert_eq!(c.ofport_request, Some(5));
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(j, serde_json::json!({"type": "system", "ofport_request": 5}));
        assert_eq!(serde_json::from_value::<PortConfig>(j).unwrap(), c);
        // a db written before flow tables has no such key
        let old: PortConfig = serde_json::from_str(r#"{"type":"tap","tag":10}"#).unwrap();
        assert_eq!(old.ofport_request, None);
        assert!(old.validate().is_ok());
        let bad: PortConfig = serde_json::from_str(r#"{"ofport_request":65280}"#).unwrap();
        assert_eq!(
            bad.validate().unwrap_err().0,
            "ofport_request: 65280 is out of range 1-65279"
        );
    }

    #[test]
    fn bond_enums() {
        for (m, s, balanced) in [
            (BondMode::ActiveBackup, "active-backup", false),
            (BondMode::BalanceSlb, "balance-slb", true),
            (BondMode::BalanceTcp, "balance-tcp", true),
        ] {
            assert_eq!(m.as_str(), s);
            assert_eq!(m.to_string(), s);
            assert_eq!(s.parse::<BondMode>().unwrap(), m);
            assert_eq!(serde_json::to_value(m).unwrap(), s);
            assert_eq!(m.is_balanced(), balanced);
        }
        assert_eq!(BondMode::default(), BondMode::ActiveBackup);
        for (l, s, on) in [
            (LacpMode::Off, "off", false),
            (LacpMode::Active, "active", true),
            (LacpMode::Passive, "passive", true),
        ] {
            assert_eq!(l.as_str(), s);
            assert_eq!(s.parse::<LacpMode>().unwrap(), l);
            assert_eq!(serde_json::to_value(l).unwrap(), s);
            assert_eq!(l.is_on(), on);
        }
        assert_eq!(LacpMode::default(), LacpMode::Off);
        for (t, s) in [(LacpTime::Slow, "slow"), (LacpTime::Fast, "fast")] {
            assert_eq!(t.as_str(), s);
            assert_eq!(s.parse::<LacpTime>().unwrap(), t);
            assert_eq!(serde_json::to_value(t).unwrap(), s);
        }
        assert_eq!(LacpTime::default(), LacpTime::Slow);
        assert_eq!("bond".parse::<PortType>().unwrap(), PortType::Bond);
        assert_eq!(PortType::Bond.as_str(), "bond");
        assert!(PortType::Bond.is_bond() && !PortType::Bond.is_tunnel());
        assert!(!PortType::System.is_bond());
        assert_eq!(serde_json::to_value(PortType::Bond).unwrap(), "bond");
        assert_eq!(
            "lag".parse::<PortType>().unwrap_err().0,
            "type \"lag\" is not one of system, tap, vxlan, gre, stream, dgram, bond"
        );
        // names from the wire that are not ours are refused
        assert!(serde_json::from_str::<BondMode>("\"balance_slb\"").is_err());
        assert!(serde_json::from_str::<LacpMode>("\"on\"").is_err());
    }

    #[test]
    fn bond_port_settings_parse() {
        let ok = |s: &str| s.parse::<PortSetting>().unwrap();
        assert_eq!(
            ok("bond_mode=active-backup"),
            PortSetting::BondMode(BondMode::ActiveBackup)
        );
        assert_eq!(
            ok("bond_mode=balance-tcp"),
            PortSetting::BondMode(BondMode::BalanceTcp)
        );
        assert_eq!(ok("lacp=off"), PortSetting::Lacp(LacpMode::Off));
        assert_eq!(ok("lacp=active"), PortSetting::Lacp(LacpMode::Active));
        assert_eq!(ok("lacp_time=slow"), PortSetting::LacpTime(LacpTime::Slow));
        assert_eq!(ok("lacp_fallback_ab=false"), PortSetting::LacpFallbackAb(false));
        assert_eq!(ok("bond_updelay=0"), PortSetting::BondUpdelay(0));
        assert_eq!(ok("bond_updelay=60000"), PortSetting::BondUpdelay(60000));
        assert_eq!(ok("bond_downdelay=100"), PortSetting::BondDowndelay(100));
        assert_eq!(
            ok("bond_rebalance_interval=0"),
            PortSetting::BondRebalanceInterval(0)
        );
        assert_eq!(
            ok("bond_rebalance_interval=1000"),
            PortSetting::BondRebalanceInterval(1000)
        );
        assert_eq!(
            ok("bond_rebalance_interval=10000"),
            PortSetting::BondRebalanceInterval(10000)
        );
        let err = |s: &str| s.parse::<PortSetting>().unwrap_err().0;
        assert_eq!(
            err("bond_mode=lacp"),
            "bond_mode: \"lacp\" is not active-backup, balance-slb or balance-tcp"
        );
        assert_eq!(
            err("bond_mode=Active-Backup"),
            "bond_mode: \"Active-Backup\" is not active-backup, balance-slb or balance-tcp"
        );
        assert_eq!(err("lacp=on"), "lacp: \"on\" is not off, active or passive");
        assert_eq!(err("lacp="), "lacp: \"\" is not off, active or passive");
        assert_eq!(err("lacp_time=1"), "lacp_time: \"1\" is not slow or fast");
        assert_eq!(
            err("lacp_fallback_ab=yes"),
            "lacp_fallback_ab: \"yes\" is not true or false"
        );
        assert_eq!(
            err("bond_updelay=60001"),
            "bond_updelay: 60001 is out of range 0-60000"
        );
        assert_eq!(err("bond_updelay=-1"), "bond_updelay: \"-1\" is not a number");
        assert_eq!(err("bond_downdelay=1s"), "bond_downdelay: \"1s\" is not a number");
        assert_eq!(
            err("bond_downdelay=100000"),
            "bond_downdelay: 100000 is out of range 0-60000"
        );
        for bad in ["1", "500", "999", "10001", "60000"] {
            assert_eq!(
                err(&format!("bond_rebalance_interval={bad}")),
                format!("bond_rebalance_interval: {bad} is neither 0 (off) nor in 1000-10000")
            );
        }
        assert_eq!(
            err("bond_rebalance_interval=off"),
            "bond_rebalance_interval: \"off\" is not a number"
        );
        // OVS spells some of these on other tables; ours are port keys
        assert!(err("bond-mode=balance-slb").starts_with("unknown port key \"bond-mode\""));
        assert!(err("members=eth1,eth2").starts_with("unknown port key \"members\""));
        // wire-decoded settings are range-checked with the same words
        assert_eq!(
            PortSetting::BondRebalanceInterval(500).validate().unwrap_err().0,
            "bond_rebalance_interval: 500 is neither 0 (off) nor in 1000-10000"
        );
        assert_eq!(
            PortSetting::BondUpdelay(60001).validate().unwrap_err().0,
            "bond_updelay: 60001 is out of range 0-60000"
        );
        assert_eq!(
            PortSetting::BondDowndelay(u32::MAX).validate().unwrap_err().0,
            "bond_downdelay: 4294967295 is out of range 0-60000"
        );
        assert!(PortSetting::BondRebalanceInterval(0).validate().is_ok());
        assert!(PortSetting::BondDowndelay(60000).validate().is_ok());
        assert_eq!(
            serde_json::to_string(&PortSetting::BondMode(BondMode::BalanceSlb)).unwrap(),
            r#"{"bond_mode":"balance-slb"}"#
        );
        assert_eq!(
            serde_json::to_string(&PortSetting::Lacp(LacpMode::Active)).unwrap(),
            r#"{"lacp":"active"}"#
        );
        assert_eq!(
            serde_json::to_string(&PortSetting::LacpTime(LacpTime::Fast)).unwrap(),
            r#"{"lacp_time":"fast"}"#
        );
        assert_eq!(
            serde_json::to_string(&PortSetting::LacpFallbackAb(true)).unwrap(),
            r#"{"lacp_fallback_ab":true}"#
        );
        assert_eq!(
            serde_json::to_string(&PortSetting::BondRebalanceInterval(0)).unwrap(),
            r#"{"bond_rebalance_interval":0}"#
        );
    }

    fn names(s: &[&str]) -> Vec<IfName> {
        s.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn bond_cfg(members: &[&str], s: &[&str]) -> Result<PortConfig, InvalidValue> {
        let settings: Vec<PortSetting> = s.iter().map(|s| s.parse().unwrap()).collect();
        PortConfig::for_bond(&"bond0".parse().unwrap(), &names(members), &settings)
    }

    #[test]
    fn bond_config_defaults_and_settings() {
        let d = bond_cfg(&["eth1", "eth2"], &[]).unwrap();
        assert_eq!(d.port_type, PortType::Bond);
        assert_eq!(d.members(), names(&["eth1", "eth2"]).as_slice());
        assert_eq!(d.bond(), BondConfig::default());
        assert_eq!(
            d.bond(),
            BondConfig {
                mode: BondMode::ActiveBackup,
                lacp: LacpMode::Off,
                lacp_time: LacpTime::Slow,
                lacp_fallback_ab: false,
                updelay: 0,
                downdelay: 0,
                rebalance_interval: 10000,
            }
        );
        assert!(d.bond_settings().is_empty());
        assert_eq!(d.effective_vlan_mode(), VlanMode::Trunk);
        let c = bond_cfg(
            &["eth3", "eth1", "eth2"],
            &[
                "bond_rebalance_interval=0",
                "tag=10",
                "bond_downdelay=50",
                "bond_updelay=100",
                "lacp_fallback_ab=true",
                "lacp_time=fast",
                "lacp=active",
                "bond_mode=balance-tcp",
                "rstp_path_cost=10000",
                "mtu=9000",
            ],
        )
        .unwrap();
        // members keep the order given
        assert_eq!(c.members(), names(&["eth3", "eth1", "eth2"]).as_slice());
        assert_eq!(
            c.bond(),
            BondConfig {
                mode: BondMode::BalanceTcp,
                lacp: LacpMode::Active,
                lacp_time: LacpTime::Fast,
                lacp_fallback_ab: true,
                updelay: 100,
                downdelay: 50,
                rebalance_interval: 0,
            }
        );
        assert_eq!(c.effective_vlan_mode(), VlanMode::Access);
        assert_eq!(c.rstp().path_cost, 10000);
        // --help order, whatever the order given
        let listed: Vec<String> = c.bond_settings().iter().map(ToString::to_string).collect();
        assert_eq!(
            listed,
            [
                "bond_mode=balance-tcp",
                "lacp=active",
                "lacp_time=fast",
                "lacp_fallback_ab=true",
                "bond_updelay=100",
                "bond_downdelay=50",
                "bond_rebalance_interval=0",
            ]
        );
        // set port on a bond: the keys change, validated as a whole
        let mut s = d.clone();
        s.set("bond_mode=balance-slb".parse().unwrap());
        s.set("lacp=passive".parse().unwrap());
        s.validate().unwrap();
        assert_eq!(s.bond().mode, BondMode::BalanceSlb);
        assert_eq!(s.bond().lacp, LacpMode::Passive);
        // a value equal to the default is still what was set
        let e = bond_cfg(&["a", "b"], &["bond_rebalance_interval=10000"]).unwrap();
        assert_eq!(e.bond_rebalance_interval, Some(10000));
        assert_eq!(e.bond(), BondConfig::default());
        // 32 members is fine
        let many: Vec<String> = (0..32).map(|i| format!("eth{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        bond_cfg(&many, &[]).unwrap();
    }

    #[test]
    fn bond_config_refuses_contradictions() {
        let err = |m: &[&str], s: &[&str]| bond_cfg(m, s).unwrap_err().0;
        let two = &["eth1", "eth2"][..];
        assert_eq!(
            err(two, &["bond_mode=balance-tcp"]),
            "bond_mode=balance-tcp needs lacp=active or passive"
        );
        assert_eq!(
            err(two, &["bond_mode=balance-tcp", "lacp=off"]),
            "bond_mode=balance-tcp needs lacp=active or passive"
        );
        bond_cfg(two, &["bond_mode=balance-tcp", "lacp=passive"]).unwrap();
        bond_cfg(two, &["bond_mode=balance-slb"]).unwrap();
        // LACP keys without LACP are moot, not contradictory (as OVS)
        bond_cfg(two, &["lacp_time=fast", "lacp_fallback_ab=true"]).unwrap();
        assert_eq!(err(&["eth1"], &[]), "a bond needs at least 2 members, got 1");
        assert_eq!(err(&[], &[]), "a bond needs at least 2 members, got 0");
        let many: Vec<String> = (0..33).map(|i| format!("eth{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(err(&many, &[]), "a bond has at most 32 members, got 33");
        assert_eq!(
            err(&["eth1", "eth2", "eth1"], &[]),
            "member \"eth1\" is listed twice"
        );
        assert_eq!(
            err(&["eth1", "bond0"], &[]),
            "member \"bond0\" has the name of the bond itself"
        );
        assert_eq!(
            err(two, &["type=system"]),
            "type cannot be given to add-bond (a bond's type is bond)"
        );
        assert_eq!(
            err(two, &["type=bond"]),
            "type cannot be given to add-bond (a bond's type is bond)"
        );
        // the port keys of other types, and the VLAN rules, still apply
        assert_eq!(
            err(two, &["persist=true"]),
            "persist is not valid for a bond port (only tap)"
        );
        assert_eq!(
            err(two, &["remote_ip=10.0.0.1"]),
            "remote_ip is not valid for a bond port (only vxlan, gre)"
        );
        assert_eq!(
            err(two, &["path=/x"]),
            "path is not valid for a bond port (only stream, dgram)"
        );
        assert_eq!(err(two, &["vlan_mode=access"]), "vlan_mode=access needs a tag");
        // an out-of-range value that did not come through FromStr
        let mut c = bond_cfg(two, &[]).unwrap();
        c.bond_rebalance_interval = Some(999);
        assert_eq!(
            c.validate().unwrap_err().0,
            "bond_rebalance_interval: 999 is neither 0 (off) nor in 1000-10000"
        );

        // bond keys and members belong to bonds only
        for (s, key) in [
            ("bond_mode=balance-slb", "bond_mode"),
            ("lacp=active", "lacp"),
            ("lacp_time=fast", "lacp_time"),
            ("lacp_fallback_ab=true", "lacp_fallback_ab"),
            ("bond_updelay=10", "bond_updelay"),
            ("bond_downdelay=10", "bond_downdelay"),
            ("bond_rebalance_interval=0", "bond_rebalance_interval"),
        ] {
            assert_eq!(
                cfg(&[s]).unwrap_err().0,
                format!("{key} is not valid for a system port (only bond)")
            );
            assert_eq!(
                cfg(&["type=tap", s]).unwrap_err().0,
                format!("{key} is not valid for a tap port (only bond)")
            );
        }
        let with_members = PortConfig {
            members: Some(names(&["eth1", "eth2"])),
            ..PortConfig::default()
        };
        assert_eq!(
            with_members.validate().unwrap_err().0,
            "members is not valid for a system port (only bond)"
        );
        // add-port type=bond has no members: pointed to add-bond
        assert_eq!(
            cfg(&["type=bond"]).unwrap_err().0,
            "a bond port needs members (create it with add-bond BR BOND IFACE IFACE...)"
        );
        // validate() alone cannot know the bond's name; validate_port can
        let c = PortConfig {
            port_type: PortType::Bond,
            members: Some(names(&["bond0", "eth1"])),
            ..PortConfig::default()
        };
        c.validate().unwrap();
        assert_eq!(
            c.validate_port(&"bond0".parse().unwrap()).unwrap_err().0,
            "member \"bond0\" has the name of the bond itself"
        );
        c.validate_port(&"bond1".parse().unwrap()).unwrap();
        // and validate_port does everything validate does
        assert!(cfg(&["type=vxlan"]).is_err());
        let v = PortConfig {
            port_type: PortType::Vxlan,
            ..PortConfig::default()
        };
        assert_eq!(
            v.validate_port(&"vx0".parse().unwrap()).unwrap_err().0,
            "a vxlan port needs remote_ip"
        );
    }

    #[test]
    fn bond_config_serde() {
        let c = bond_cfg(
            &["eth1", "eth2"],
            &[
                "bond_mode=balance-slb",
                "lacp=active",
                "bond_updelay=100",
                "tag=10",
            ],
        )
        .unwrap();
        // set keys are written with their CLI names, unset ones not at all
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(
            j,
            serde_json::json!({
                "type": "bond",
                "members": ["eth1", "eth2"],
                "tag": 10,
                "bond_mode": "balance-slb",
                "lacp": "active",
                "bond_updelay": 100,
            })
        );
        assert_eq!(serde_json::from_value::<PortConfig>(j).unwrap(), c);
        let all = bond_cfg(
            &["a", "b"],
            &[
                "bond_mode=balance-tcp",
                "lacp=passive",
                "lacp_time=fast",
                "lacp_fallback_ab=false",
                "bond_updelay=0",
                "bond_downdelay=60000",
                "bond_rebalance_interval=1000",
            ],
        )
        .unwrap();
        let j = serde_json::to_value(&all).unwrap();
        assert_eq!(
            j,
            serde_json::json!({
                "type": "bond",
                "members": ["a", "b"],
                "bond_mode": "balance-tcp",
                "lacp": "passive",
                "lacp_time": "fast",
                "lacp_fallback_ab": false,
                "bond_updelay": 0,
                "bond_downdelay": 60000,
                "bond_rebalance_interval": 1000,
            })
        );
        assert_eq!(serde_json::from_value::<PortConfig>(j).unwrap(), all);
        // a port of any other type writes none of it (a db from before bonds)
        assert_eq!(
            serde_json::to_string(&PortConfig::default()).unwrap(),
            "{\"type\":\"system\"}"
        );
        // a member name that is not an interface name does not even decode
        assert!(serde_json::from_str::<PortConfig>(r#"{"type":"bond","members":["a/b","c"]}"#).is_err());
        // a stored contradiction is refused at load
        let bad: PortConfig =
            serde_json::from_str(r#"{"type":"bond","members":["a","b"],"bond_mode":"balance-tcp"}"#).unwrap();
        assert_eq!(
            bad.validate().unwrap_err().0,
            "bond_mode=balance-tcp needs lacp=active or passive"
        );
        let bad: PortConfig = serde_json::from_str(r#"{"type":"bond","members":["a"]}"#).unwrap();
        assert_eq!(
            bad.validate().unwrap_err().0,
            "a bond needs at least 2 members, got 1"
        );
        let bad: PortConfig =
            serde_json::from_str(r#"{"type":"bond","members":["a","b"],"bond_updelay":70000}"#).unwrap();
        assert_eq!(
            bad.validate().unwrap_err().0,
            "bond_updelay: 70000 is out of range 0-60000"
        );
    }

    #[test]
    fn port_config_rstp_fields() {
        let d = cfg(&[]).unwrap();
        assert_eq!(d.rstp(), RstpPortConfig::default());
        assert_eq!(
            d.rstp(),
            RstpPortConfig {
                enable: true,
                port_priority: 128,
                path_cost: 20000,
                admin_edge: false,
                auto_edge: true,
            }
        );
        assert!(d.rstp_settings().is_empty());
        let c = cfg(&[
            "type=tap",
            "rstp_auto_edge=false",
            "rstp_enable=false",
            "rstp_port_priority=32",
            "rstp_path_cost=2000",
            "rstp_admin_edge=true",
        ])
        .unwrap();
        assert_eq!(
            c.rstp(),
            RstpPortConfig {
                enable: false,
                port_priority: 32,
                path_cost: 2000,
                admin_edge: true,
                auto_edge: false,
            }
        );
        // --help order, whatever the order given
        let listed: Vec<String> = c.rstp_settings().iter().map(ToString::to_string).collect();
        assert_eq!(
            listed,
            [
                "rstp_enable=false",
                "rstp_port_priority=32",
                "rstp_path_cost=2000",
                "rstp_admin_edge=true",
                "rstp_auto_edge=false"
            ]
        );
        // a value equal to the default is still what was set
        let c2 = cfg(&["rstp_path_cost=20000"]).unwrap();
        assert_eq!(c2.rstp_path_cost, Some(20000));
        assert_eq!(c2.rstp(), RstpPortConfig::default());
        // any port type takes part (tunnels and sockets are one port each)
        for t in [
            &["type=vxlan", "remote_ip=10.0.0.1", "rstp_admin_edge=true"][..],
            &["type=stream", "path=/x", "rstp_admin_edge=true"],
            &["type=gre", "remote_ip=10.0.0.1", "rstp_enable=false"],
        ] {
            cfg(t).unwrap();
        }

        // serde: set keys are written with their CLI names, unset ones not at all
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(
            j,
            serde_json::json!({
                "type": "tap",
                "rstp_enable": false,
                "rstp_port_priority": 32,
                "rstp_path_cost": 2000,
                "rstp_admin_edge": true,
                "rstp_auto_edge": false,
            })
        );
        assert_eq!(serde_json::from_value::<PortConfig>(j).unwrap(), c);
        assert_eq!(
            serde_json::to_string(&cfg(&["tag=10"]).unwrap()).unwrap(),
            r#"{"type":"system","tag":10}"#
        );
        // a stored value out of range is refused at load
        let bad: PortConfig = serde_json::from_str(r#"{"type":"system","rstp_port_priority":100}"#).unwrap();
        assert_eq!(
            bad.validate().unwrap_err().0,
            "rstp_port_priority: 100 is not a multiple of 16"
        );
        let bad: PortConfig = serde_json::from_str(r#"{"rstp_path_cost":0}"#).unwrap();
        assert_eq!(
            bad.validate().unwrap_err().0,
            "rstp_path_cost: 0 is out of range 1-200000000"
        );
    }

    fn cfg(s: &[&str]) -> Result<PortConfig, InvalidValue> {
        let settings: Vec<PortSetting> = s.iter().map(|s| s.parse().unwrap()).collect();
        PortConfig::from_settings(&settings)
    }

    #[test]
    fn vlan_combinations() {
        assert_eq!(cfg(&[]).unwrap().effective_vlan_mode(), VlanMode::Trunk);
        assert_eq!(cfg(&["tag=10"]).unwrap().effective_vlan_mode(), VlanMode::Access);
        assert_eq!(
            cfg(&["trunks=10,20"]).unwrap().effective_vlan_mode(),
            VlanMode::Trunk
        );
        assert!(cfg(&["vlan_mode=native-untagged", "tag=10", "trunks=20"]).is_ok());
        assert!(cfg(&["vlan_mode=access"]).is_err());
        assert!(cfg(&["vlan_mode=access", "tag=10", "trunks=20"]).is_err());
        assert!(cfg(&["tag=10", "trunks=20"]).is_err());
        assert!(cfg(&["vlan_mode=trunk", "tag=10"]).is_err());
        assert!(cfg(&["vlan_mode=native-tagged"]).is_err());
        assert!(cfg(&["vlan_mode=native-untagged", "trunks=5"]).is_err());
    }

    #[test]
    fn type_specific_keys() {
        assert!(cfg(&["remote_ip=10.0.0.1"]).is_err());
        assert!(cfg(&["type=vxlan"]).is_err());
        assert!(cfg(&["type=vxlan", "remote_ip=10.0.0.1", "key=16777215"]).is_ok());
        assert!(cfg(&["type=vxlan", "remote_ip=10.0.0.1", "key=16777216"]).is_err());
        assert!(cfg(&["type=gre", "remote_ip=10.0.0.1", "key=4294967295"]).is_ok());
        assert!(cfg(&["type=gre", "remote_ip=10.0.0.1", "dst_port=4789"]).is_err());
        assert!(cfg(&["type=vxlan", "remote_ip=224.0.0.1"]).is_err());
        assert!(cfg(&["type=vxlan", "remote_ip=10.0.0.1", "local_ip=::1"]).is_err());
        assert!(cfg(&["type=stream"]).is_err());
        assert!(cfg(&["type=stream", "path=/tmp/x.sock"]).is_ok());
        assert!(cfg(&["path=/tmp/x.sock"]).is_err());
        assert!(cfg(&["persist=true"]).is_err());
        assert!(cfg(&["type=tap", "persist=true"]).is_ok());
    }

    #[test]
    fn socket_mode_key() {
        assert_eq!(
            "mode=0660".parse::<PortSetting>().unwrap(),
            PortSetting::Mode(0o660)
        );
        assert_eq!(
            "mode=660".parse::<PortSetting>().unwrap(),
            PortSetting::Mode(0o660)
        );
        assert_eq!("mode=0".parse::<PortSetting>().unwrap(), PortSetting::Mode(0));
        assert_eq!(
            "mode=0777".parse::<PortSetting>().unwrap(),
            PortSetting::Mode(MODE_MAX)
        );
        assert_eq!(PortSetting::Mode(0o600).key(), "mode");
        for bad in [
            "mode=",
            "mode=0999",
            "mode=8",
            "mode=0o660",
            "mode=-1",
            "mode=rw",
            "mode= 660",
        ] {
            let e = bad.parse::<PortSetting>().unwrap_err();
            assert!(e.0.contains("is not an octal mode like 0660"), "{bad}: {e}");
        }
        let e = "mode=1777".parse::<PortSetting>().unwrap_err();
        assert_eq!(e.0, "mode: 1777 is out of range 0000-0777");
        assert!(PortSetting::Mode(0o1000).validate().is_err());
        assert!(PortSetting::Mode(0o640).validate().is_ok());

        // Only socket ports have a socket file.
        let c = cfg(&["type=stream", "path=/run/vm.sock", "mode=0660"]).unwrap();
        assert_eq!(c.mode, Some(0o660));
        assert!(cfg(&["type=dgram", "path=/run/vm.sock", "mode=0"]).is_ok());
        let e = cfg(&["type=tap", "mode=0660"]).unwrap_err();
        assert_eq!(e.0, "mode is not valid for a tap port (only stream, dgram)");
        assert!(cfg(&["mode=0600"]).is_err());
        let mut c = c;
        c.mode = Some(0o4755);
        assert!(c.validate().is_err());

        // The db and the wire carry it as an octal string; a number is read too.
        let c = cfg(&["type=stream", "path=/run/vm.sock", "mode=0660"]).unwrap();
        let j = serde_json::to_string(&c).unwrap();
        assert!(j.contains("\"mode\":\"0660\""), "{j}");
        assert_eq!(serde_json::from_str::<PortConfig>(&j).unwrap(), c);
        let n = serde_json::from_str::<PortConfig>(r#"{"type":"stream","path":"/x","mode":432}"#).unwrap();
        assert_eq!(n.mode, Some(0o660));
        assert!(
            serde_json::from_str::<PortConfig>(r#"{"type":"stream","path":"/x","mode":"0999"}"#).is_err()
        );
        assert!(serde_json::from_str::<PortConfig>(r#"{"type":"stream","path":"/x","mode":512}"#).is_err());
        assert_eq!(
            serde_json::from_str::<PortConfig>(r#"{"type":"stream","path":"/x"}"#)
                .unwrap()
                .mode,
            None
        );
        let s = serde_json::to_string(&PortSetting::Mode(0o640)).unwrap();
        assert_eq!(s, r#"{"mode":"0640"}"#);
        assert_eq!(
            serde_json::from_str::<PortSetting>(&s).unwrap(),
            PortSetting::Mode(0o640)
        );
    }

    #[test]
    fn port_config_json_round_trip() {
        let c = cfg(&[
            "type=tap",
            "tag=10",
            "vlan_mode=native-untagged",
            "trunks=20-22",
            "mtu=1400",
        ])
        .unwrap();
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<PortConfig>(&j).unwrap(), c);
        // defaults are not written out
        assert_eq!(
            serde_json::to_string(&PortConfig::default()).unwrap(),
            "{\"type\":\"system\"}"
        );
    }
}

/// Most mirrors a bridge has (as Open vSwitch's `MAX_MIRRORS`).
pub const MIRRORS_MAX: usize = 32;

/// A mirror's configuration (SPEC §11, as Open vSwitch's Mirror table):
/// which frames (`select_*`, a union, narrowed by `select_vlan`) and where
/// their copies go (`output_port` or, RSPAN, `output_vlan`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MirrorConfig {
    /// Every frame of the bridge.
    #[serde(default)]
    pub select_all: bool,
    /// Frames received on these ports.
    #[serde(default)]
    pub select_src_port: Vec<IfName>,
    /// Frames sent on these ports.
    #[serde(default)]
    pub select_dst_port: Vec<IfName>,
    /// Only frames of these VLANs (alone: every frame of them).
    #[serde(default)]
    pub select_vlan: Vec<u16>,
    /// SPAN: the port the copies go to (it then carries only mirror traffic).
    #[serde(default)]
    pub output_port: Option<IfName>,
    /// RSPAN: the VLAN the copies go to, tagged with it.
    #[serde(default)]
    pub output_vlan: Option<u16>,
}

impl MirrorConfig {
    /// Builds a mirror from `KEY=VALUE` words: `select_all=true|false`,
    /// `select_src_port=P,...`, `select_dst_port=P,...`,
    /// `select_vlan=V,...`, `output_port=P`, `output_vlan=V`.
    ///
    /// # Errors
    /// An unknown key, a bad value, or a mirror that [`MirrorConfig::check`] refuses.
    pub fn from_words<S: AsRef<str>>(words: &[S]) -> Result<MirrorConfig, InvalidValue> {
        let mut m = MirrorConfig::default();
        for w in words {
            let w = w.as_ref();
            let (k, v) = w
                .split_once('=')
                .ok_or_else(|| invalid(format!("{w:?} is not KEY=VALUE")))?;
            let ports = |v: &str| -> Result<Vec<IfName>, InvalidValue> {
                v.split(',').filter(|s| !s.is_empty()).map(str::parse).collect()
            };
            match k {
                "select_all" => {
                    m.select_all = match v {
                        "true" => true,
                        "false" => false,
                        _ => return Err(invalid(format!("select_all={v}: expected true or false"))),
                    }
                }
                "select_src_port" => m.select_src_port = ports(v)?,
                "select_dst_port" => m.select_dst_port = ports(v)?,
                "select_vlan" => {
                    m.select_vlan =
                        v.split(',')
                            .filter(|s| !s.is_empty())
                            .map(|s| {
                                s.parse::<u16>().ok().filter(|n| *n <= 4095).ok_or_else(|| {
                                    invalid(format!("select_vlan: {s:?} is not a VLAN (0-4095)"))
                                })
                            })
                            .collect::<Result<_, _>>()?
                }
                "output_port" => m.output_port = Some(v.parse()?),
                "output_vlan" => {
                    m.output_vlan = Some(
                        v.parse::<u16>()
                            .ok()
                            .filter(|n| (1..=4094).contains(n))
                            .ok_or_else(|| invalid(format!("output_vlan={v}: expected a VLAN 1-4094")))?,
                    )
                }
                _ => {
                    return Err(invalid(format!(
                        "unknown mirror key {k:?} (keys: select_all, select_src_port, select_dst_port, \
                         select_vlan, output_port, output_vlan)"
                    )))
                }
            }
        }
        m.check()?;
        Ok(m)
    }

    /// What the types cannot say: exactly one output, something selected,
    /// the output port not among the selected ones.
    ///
    /// # Errors
    /// Which rule is broken.
    pub fn check(&self) -> Result<(), InvalidValue> {
        match (&self.output_port, self.output_vlan) {
            (Some(_), Some(_)) => return Err(invalid("a mirror has output_port or output_vlan, not both")),
            (None, None) => return Err(invalid("a mirror needs output_port=P or output_vlan=V")),
            _ => {}
        }
        if let Some(v) = self.output_vlan {
            if !(1..=4094).contains(&v) {
                return Err(invalid(format!("output_vlan={v}: expected a VLAN 1-4094")));
            }
        }
        if !self.select_all
            && self.select_src_port.is_empty()
            && self.select_dst_port.is_empty()
            && self.select_vlan.is_empty()
        {
            return Err(invalid(
                "a mirror selects nothing: give select_all=true, select_src_port, select_dst_port or select_vlan",
            ));
        }
        if let Some(out) = &self.output_port {
            if self.select_src_port.contains(out) || self.select_dst_port.contains(out) {
                return Err(invalid(format!(
                    "output_port {:?} cannot also be selected: it carries only mirror traffic",
                    out.as_str()
                )));
            }
        }
        if self.select_vlan.iter().any(|v| *v > 4095) {
            return Err(invalid("select_vlan: VLANs are 0-4095"));
        }
        Ok(())
    }
}

/// The sFlow keys of `set bridge` (SPEC §11).
pub const SFLOW_KEYS: [&str; 5] = [
    "sflow_targets",
    "sflow_sampling",
    "sflow_polling",
    "sflow_header",
    "sflow_agent",
];
/// The IPFIX keys of `set bridge` (SPEC §11).
pub const IPFIX_KEYS: [&str; 5] = [
    "ipfix_targets",
    "ipfix_sampling",
    "ipfix_obs_domain_id",
    "ipfix_active_timeout",
    "ipfix_cache_max_flows",
];

/// One sFlow or IPFIX setting of `set bridge` (SPEC §11): the key is
/// checked here, the value by the daemon, which owns those exporters'
/// rules (ranges, target lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSetting {
    /// One of [`SFLOW_KEYS`] or [`IPFIX_KEYS`].
    pub key: String,
    /// Its value, as given.
    pub value: String,
}

impl ExportSetting {
    /// Whether `key` is an sFlow or IPFIX key.
    pub fn is_key(key: &str) -> bool {
        SFLOW_KEYS.contains(&key) || IPFIX_KEYS.contains(&key)
    }

    /// Whether it is an sFlow setting (else IPFIX).
    pub fn is_sflow(&self) -> bool {
        self.key.starts_with("sflow_")
    }
}

impl FromStr for ExportSetting {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| invalid(format!("{s:?} is not KEY=VALUE")))?;
        if !ExportSetting::is_key(k) {
            return Err(invalid(format!(
                "unknown key {k:?} (sFlow: {}; IPFIX: {})",
                SFLOW_KEYS.join(", "),
                IPFIX_KEYS.join(", ")
            )));
        }
        Ok(ExportSetting {
            key: k.to_string(),
            value: v.to_string(),
        })
    }
}

impl fmt::Display for ExportSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// What `clear bridge BR ...` removes (SPEC §11): an exporter's whole
/// configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BridgeClearKey {
    /// sFlow export.
    Sflow,
    /// IPFIX export.
    Ipfix,
}

impl FromStr for BridgeClearKey {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sflow" => Ok(BridgeClearKey::Sflow),
            "ipfix" => Ok(BridgeClearKey::Ipfix),
            _ => Err(invalid(format!("cannot clear {s:?} on a bridge (sflow, ipfix)"))),
        }
    }
}

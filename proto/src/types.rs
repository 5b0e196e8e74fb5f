//! Validated values shared by `switchd` and `switchctl`.
//!
//! Every value a user can type (names, VLAN ids, trunk lists, port and bridge
//! settings) is parsed here, once, with `FromStr`. The CLI parses before it
//! sends and the daemon re-validates on decode (serde goes through the same
//! `FromStr`/`TryFrom`), so both reject exactly the same inputs with the same
//! message. Messages are lowercase without trailing punctuation and name the
//! offending value.

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

impl VlanMode {
    /// The name used on the command line and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            VlanMode::Access => "access",
            VlanMode::Trunk => "trunk",
            VlanMode::NativeTagged => "native-tagged",
            VlanMode::NativeUntagged => "native-untagged",
        }
    }
}

impl FromStr for VlanMode {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "access" => Ok(VlanMode::Access),
            "trunk" => Ok(VlanMode::Trunk),
            "native-tagged" => Ok(VlanMode::NativeTagged),
            "native-untagged" => Ok(VlanMode::NativeUntagged),
            _ => Err(invalid(format!(
                "vlan_mode {s:?} is not one of access, trunk, native-tagged, native-untagged"
            ))),
        }
    }
}

impl fmt::Display for VlanMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
}

impl PortType {
    /// The name used on the command line and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            PortType::System => "system",
            PortType::Tap => "tap",
            PortType::Vxlan => "vxlan",
            PortType::Gre => "gre",
            PortType::Stream => "stream",
            PortType::Dgram => "dgram",
        }
    }

    /// Whether this is a tunnel port (split horizon applies, SPEC §3).
    pub fn is_tunnel(self) -> bool {
        matches!(self, PortType::Vxlan | PortType::Gre)
    }
}

impl FromStr for PortType {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "system" => Ok(PortType::System),
            "tap" => Ok(PortType::Tap),
            "vxlan" => Ok(PortType::Vxlan),
            "gre" => Ok(PortType::Gre),
            "stream" => Ok(PortType::Stream),
            "dgram" => Ok(PortType::Dgram),
            _ => Err(invalid(format!(
                "type {s:?} is not one of system, tap, vxlan, gre, stream, dgram"
            ))),
        }
    }
}

impl fmt::Display for PortType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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

/// One `KEY=VALUE` setting of a bridge (`set bridge BR ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BridgeSetting {
    /// `mac_aging=SECS`, 1–86400.
    MacAging(u32),
    /// `mac_table_size=N`, 16–1,000,000.
    MacTableSize(u32),
}

impl BridgeSetting {
    /// Checks the range (also used after decoding from the wire).
    pub fn validate(&self) -> Result<(), InvalidValue> {
        match *self {
            BridgeSetting::MacAging(v) => {
                parse_num("mac_aging", &v.to_string(), MAC_AGING_MIN, MAC_AGING_MAX).map(drop)
            }
            BridgeSetting::MacTableSize(v) => parse_num(
                "mac_table_size",
                &v.to_string(),
                MAC_TABLE_SIZE_MIN,
                MAC_TABLE_SIZE_MAX,
            )
            .map(drop),
        }
    }
}

impl FromStr for BridgeSetting {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, v) = parse_kv(s)?;
        match k {
            "mac_aging" => Ok(BridgeSetting::MacAging(parse_num(
                k,
                v,
                MAC_AGING_MIN,
                MAC_AGING_MAX,
            )?)),
            "mac_table_size" => Ok(BridgeSetting::MacTableSize(parse_num(
                k,
                v,
                MAC_TABLE_SIZE_MIN,
                MAC_TABLE_SIZE_MAX,
            )?)),
            _ => Err(invalid(format!(
                "unknown bridge key {k:?} (known: mac_aging, mac_table_size)"
            ))),
        }
    }
}

impl fmt::Display for BridgeSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BridgeSetting::MacAging(v) => write!(f, "mac_aging={v}"),
            BridgeSetting::MacTableSize(v) => write!(f, "mac_table_size={v}"),
        }
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
}

/// Keys `set port` and `add-port` accept, for error messages and `--help`.
pub const PORT_KEYS: &str =
    "type, tag, trunks, vlan_mode, mtu, remote_ip, local_ip, key, dst_port, path, mode, persist";

impl PortSetting {
    /// Checks ranges for a setting that did not come through `FromStr`
    /// (decoded from the wire or the db).
    pub fn validate(&self) -> Result<(), InvalidValue> {
        match self {
            PortSetting::Mtu(m) => parse_num("mtu", &m.to_string(), MTU_MIN, MTU_MAX).map(drop),
            PortSetting::DstPort(0) => Err(invalid("dst_port: 0 is out of range 1-65535")),
            PortSetting::Path(p) if p.as_os_str().is_empty() => Err(invalid("path: must not be empty")),
            PortSetting::Mode(m) => check_mode(*m),
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
            PortSetting::RemoteIp(_) => "remote_ip",
            PortSetting::LocalIp(_) => "local_ip",
            PortSetting::Key(_) => "key",
            PortSetting::DstPort(_) => "dst_port",
            PortSetting::Path(_) => "path",
            PortSetting::Mode(_) => "mode",
            PortSetting::Persist(_) => "persist",
        }
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
            "persist" => PortSetting::Persist(match v {
                "true" => true,
                "false" => false,
                _ => return Err(invalid(format!("persist: {v:?} is not true or false"))),
            }),
            _ => return Err(invalid(format!("unknown port key {k:?} (known: {PORT_KEYS})"))),
        })
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

    /// Applies one setting without validating the result.
    pub fn set(&mut self, s: PortSetting) {
        match s {
            PortSetting::Type(t) => self.port_type = t,
            PortSetting::Tag(v) => self.tag = Some(v),
            PortSetting::Trunks(t) => self.trunks = Some(t),
            PortSetting::VlanMode(m) => self.vlan_mode = Some(m),
            PortSetting::Mtu(m) => self.mtu = Some(m),
            PortSetting::RemoteIp(a) => self.remote_ip = Some(a),
            PortSetting::LocalIp(a) => self.local_ip = Some(a),
            PortSetting::Key(k) => self.key = Some(k),
            PortSetting::DstPort(p) => self.dst_port = Some(p),
            PortSetting::Path(p) => self.path = Some(p),
            PortSetting::Mode(m) => self.mode = Some(m),
            PortSetting::Persist(p) => self.persist = p,
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

    /// Rejects contradictory or incomplete combinations with a specific message.
    pub fn validate(&self) -> Result<(), InvalidValue> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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

//! switchd's state seen as the rows of OVS's `Open_vSwitch`, `Bridge`,
//! `Port` and `Interface` tables, built from a `show` reply (and
//! `port-stats` for the `statistics` column).
//!
//! Only the columns switchd has are filled ([`Table::columns`]), with what
//! switchd reports: the configured values where OVS stores configuration
//! (`tag`, `vlan_mode`, `other_config`, ... are empty when not set), the
//! state where OVS stores state (`ofport`, `mtu`, `error`, `link_state`).
//! A few choices, also in the module doc of `ovs`:
//!
//! - UUIDs are made up but stable: a hash of the table and the row's name
//!   (the root row: of the first bridge's datapath id), shaped as a
//!   version 4 UUID. The same name gives the same UUID across runs.
//! - `fail_mode` is the mode in force (switchd has no "unset").
//! - `datapath_type` is `netdev`: switchd forwards in userspace, as OVS's
//!   userspace datapath does.
//! - `Bridge:other_config` lists the keys whose value is not the default
//!   (`datapath-id` when it is not the one derived from the bridge MAC);
//!   `get ... other_config:KEY` of a key switchd has prints the value in
//!   force even when it is the default.
//! - A bond is one `Port` whose `interfaces` are its members; switchd keeps
//!   no per-member state, so their `Interface` rows have only a name.
//! - A port that is down has its reason in `error`; `admin_state` and
//!   `link_state` are `up` for a port that is up, empty for one whose
//!   device does not exist, and `link_state` is `down` for other reasons.
//! - `mac_in_use` is always empty: switchd does not report port MACs.
//! - `ingress_policing_burst` is the burst in force while a rate is set
//!   (switchd fills in its default, 8000, where OVS shows 0).

use proto::types::{MAC_AGING_DEFAULT, MAC_TABLE_SIZE_DEFAULT};
use proto::{BridgeInfo, DatapathId, PortInfo, PortState, PortStats, PortType, RstpBridgeConfig};

use crate::ovs::datum::{uuid_prefix_len, Atom, Datum};
use crate::ovs::schema::Table;

/// What the rows are made from: the bridges of a `show` and, when a
/// command needs the `statistics` column, the counters of `port-stats`.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every bridge, in the daemon's order.
    pub bridges: Vec<BridgeInfo>,
    /// Per-port counters (empty when not asked for).
    pub stats: Vec<PortStats>,
}

/// One row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Its (made-up, stable) UUID.
    pub uuid: String,
    /// Its name (empty for the root row).
    pub name: String,
    /// The bridge of a port, the port of an interface (a bond member's
    /// bond); empty otherwise.
    pub parent: String,
    /// An interface that is a member of a bond.
    pub member: bool,
    /// The values of the table's columns, in [`Table::columns`] order.
    pub values: Vec<Datum>,
    /// `other_config` with every key switchd has at its value in force
    /// (bridges and ports; empty otherwise).
    pub in_force: Datum,
}

impl Row {
    /// The value of column `name` of `table`.
    pub fn get(&self, table: Table, name: &str) -> &Datum {
        static EMPTY: Datum = Datum {
            keys: Vec::new(),
            values: Vec::new(),
        };
        table
            .index(name)
            .and_then(|i| self.values.get(i))
            .unwrap_or(&EMPTY)
    }
}

/// Every row of the four tables.
#[derive(Debug, Clone)]
pub struct Db {
    root: Vec<Row>,
    bridges: Vec<Row>,
    ports: Vec<Row>,
    ifaces: Vec<Row>,
}

/// `Bridge:datapath_type`: switchd forwards in userspace, as OVS's
/// `netdev` datapath.
pub const DATAPATH_TYPE: &str = "netdev";

/// `ovs_version` of the root row and in `show`.
pub fn version() -> String {
    format!("switchd {}", env!("CARGO_PKG_VERSION"))
}

/// A stable UUID for row `name` of `table`: two 64-bit FNV-1a hashes of
/// both (with different offsets), each through a SplitMix64 finalizer so
/// that similar names give unrelated UUIDs, shaped as version 4.
pub fn uuid(table: &str, name: &str) -> String {
    let fnv = |offset: u64| {
        let mut h = offset;
        for b in table.bytes().chain([0]).chain(name.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // SplitMix64's finalizer.
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^ (h >> 31)
    };
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_be_bytes());
    b[8..].copy_from_slice(&fnv(0x6c62_272e_07bb_0142).to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The root row's UUID: from the first bridge's datapath id, so it stays
/// the same while that bridge exists (and is the same for every switchd
/// whose first bridge has that id).
pub fn root_uuid(bridges: &[BridgeInfo]) -> String {
    let first = bridges
        .first()
        .map(|b| b.datapath_id.map_or_else(|| b.name.clone(), |d| d.to_string()))
        .unwrap_or_default();
    uuid("Open_vSwitch", &first)
}

/// The names of a port's interfaces: a bond's members, else the port.
pub fn iface_names(p: &PortInfo) -> Vec<String> {
    if p.config.port_type.is_bond() {
        p.config.members().iter().map(ToString::to_string).collect()
    } else {
        vec![p.name.clone()]
    }
}

/// `Interface:type` of a port type: empty for `system`, as OVS, and
/// `internal` for a TAP port (what OVS calls a port whose device the switch
/// makes for the host).
pub fn type_name(t: PortType) -> &'static str {
    match t {
        PortType::System | PortType::Bond => "",
        PortType::Tap => "internal",
        other => other.as_str(),
    }
}

fn s(x: impl Into<String>) -> Atom {
    Atom::Str(x.into())
}

fn int(n: impl Into<i64>) -> Atom {
    Atom::Int(n.into())
}

fn uuids<'a>(table: &str, names: impl IntoIterator<Item = &'a String>) -> Datum {
    Datum::set(names.into_iter().map(|n| Atom::Uuid(uuid(table, n))))
}

fn str_map(pairs: Vec<(&str, String)>) -> Datum {
    Datum::map(pairs.into_iter().map(|(k, v)| (s(k), s(v))))
}

/// `Bridge:other_config` in force: every key switchd has.
fn bridge_other_config(b: &BridgeInfo) -> Vec<(&'static str, String, bool)> {
    let d = RstpBridgeConfig::default();
    let r = &b.rstp;
    let derived = DatapathId::from_mac(b.mac);
    let mut v = vec![
        (
            "mac-aging-time",
            b.mac_aging.to_string(),
            b.mac_aging != MAC_AGING_DEFAULT,
        ),
        (
            "mac-table-size",
            b.mac_table_size.to_string(),
            b.mac_table_size != MAC_TABLE_SIZE_DEFAULT,
        ),
        (
            "rstp-force-protocol-version",
            r.force_protocol_version.to_string(),
            r.force_protocol_version != d.force_protocol_version,
        ),
        (
            "rstp-forward-delay",
            r.forward_delay.to_string(),
            r.forward_delay != d.forward_delay,
        ),
        ("rstp-max-age", r.max_age.to_string(), r.max_age != d.max_age),
        ("rstp-priority", r.priority.to_string(), r.priority != d.priority),
        (
            "rstp-transmit-hold-count",
            r.transmit_hold_count.to_string(),
            r.transmit_hold_count != d.transmit_hold_count,
        ),
    ];
    if let Some(id) = b.datapath_id {
        v.push(("datapath-id", id.to_string(), id != derived));
    }
    v
}

/// `Port:other_config` in force: the spanning tree keys, and the bond keys
/// of a bond; with whether each is configured.
fn port_other_config(p: &PortInfo) -> Vec<(&'static str, String, bool)> {
    let c = &p.config;
    let rstp = c.rstp();
    let mut v = vec![
        ("rstp-enable", rstp.enable.to_string(), c.rstp_enable.is_some()),
        (
            "rstp-path-cost",
            rstp.path_cost.to_string(),
            c.rstp_path_cost.is_some(),
        ),
        (
            "rstp-port-admin-edge",
            rstp.admin_edge.to_string(),
            c.rstp_admin_edge.is_some(),
        ),
        (
            "rstp-port-auto-edge",
            rstp.auto_edge.to_string(),
            c.rstp_auto_edge.is_some(),
        ),
        (
            "rstp-port-priority",
            rstp.port_priority.to_string(),
            c.rstp_port_priority.is_some(),
        ),
    ];
    if c.port_type.is_bond() {
        let bond = c.bond();
        v.extend([
            (
                "bond-rebalance-interval",
                bond.rebalance_interval.to_string(),
                c.bond_rebalance_interval.is_some(),
            ),
            (
                "lacp-fallback-ab",
                bond.lacp_fallback_ab.to_string(),
                c.lacp_fallback_ab.is_some(),
            ),
            ("lacp-time", bond.lacp_time.to_string(), c.lacp_time.is_some()),
        ]);
    } else if let Some(i) = c.bond_rebalance_interval {
        // Not valid on other ports; shown if a daemon ever reports it.
        v.push(("bond-rebalance-interval", i.to_string(), true));
    }
    v
}

fn configured(v: &[(&str, String, bool)]) -> Datum {
    str_map(
        v.iter()
            .filter(|(_, _, set)| *set)
            .map(|(k, v, _)| (*k, v.clone()))
            .collect(),
    )
}

fn in_force(v: &[(&str, String, bool)]) -> Datum {
    str_map(v.iter().map(|(k, v, _)| (*k, v.clone())).collect())
}

fn bridge_row(b: &BridgeInfo) -> Row {
    let other = bridge_other_config(b);
    let port_names: Vec<String> = b.ports.iter().map(|p| p.name.clone()).collect();
    let values = vec![
        Datum::optional(b.datapath_id.map(|d| s(d.to_string()))),
        Datum::one(s(DATAPATH_TYPE)),
        Datum::string_map(&b.external_ids),
        Datum::one(s(b.fail_mode.as_str())),
        Datum::one(s(&b.name)),
        configured(&other),
        uuids("Port", &port_names),
        Datum::set(b.protocols.iter().map(|v| s(v.as_str()))),
        Datum::one(Atom::Bool(b.rstp.enabled)),
        Datum::one(Atom::Bool(false)),
    ];
    Row {
        uuid: uuid("Bridge", &b.name),
        name: b.name.clone(),
        parent: String::new(),
        member: false,
        values,
        in_force: in_force(&other),
    }
}

fn port_row(b: &BridgeInfo, p: &PortInfo) -> Row {
    let c = &p.config;
    let other = port_other_config(p);
    let values = vec![
        Datum::one(int(c.bond_downdelay.unwrap_or(0))),
        Datum::optional(c.bond_mode.map(|m| s(m.as_str()))),
        Datum::one(int(c.bond_updelay.unwrap_or(0))),
        Datum::string_map(&c.port_external_ids),
        uuids("Interface", &iface_names(p)),
        Datum::optional(c.lacp.map(|m| s(m.as_str()))),
        Datum::one(s(&p.name)),
        configured(&other),
        Datum::optional(c.tag.map(|t| int(t.get()))),
        Datum::set(c.trunks.iter().flat_map(|t| t.iter()).map(int)),
        Datum::optional(c.vlan_mode.map(|m| s(m.as_str()))),
    ];
    Row {
        uuid: uuid("Port", &p.name),
        name: p.name.clone(),
        parent: b.name.clone(),
        member: false,
        values,
        in_force: in_force(&other),
    }
}

/// The `options` of a port's interface, as `show` and the `Interface` rows
/// have them: the tunnel keys, and the socket path and mode of `stream` and
/// `dgram` ports.
pub fn options(p: &PortInfo) -> Datum {
    let c = &p.config;
    let mut v: Vec<(&str, String)> = Vec::new();
    if let Some(a) = c.remote_ip {
        v.push(("remote_ip", a.to_string()));
    }
    if let Some(a) = c.local_ip {
        v.push(("local_ip", a.to_string()));
    }
    if let Some(k) = c.key {
        v.push(("key", k.to_string()));
    }
    if let Some(d) = c.dst_port {
        v.push(("dst_port", d.to_string()));
    }
    if let Some(path) = &c.path {
        v.push(("path", path.display().to_string()));
    }
    if let Some(m) = c.mode {
        v.push(("mode", format!("{m:04o}")));
    }
    str_map(v)
}

/// The eight counters OVS's `statistics` has that switchd keeps.
fn statistics(st: &PortStats) -> Datum {
    Datum::map(
        [
            ("rx_packets", st.rx_packets),
            ("rx_bytes", st.rx_bytes),
            ("rx_dropped", st.rx_dropped),
            ("rx_errors", st.rx_errors),
            ("tx_packets", st.tx_packets),
            ("tx_bytes", st.tx_bytes),
            ("tx_dropped", st.tx_dropped),
            ("tx_errors", st.tx_errors),
        ]
        .into_iter()
        .map(|(k, n)| (s(k), int(i64::try_from(n).unwrap_or(i64::MAX)))),
    )
}

fn iface_row(b: &BridgeInfo, p: &PortInfo, stats: &[PortStats]) -> Row {
    let c = &p.config;
    let (admin, link, error) = match &p.state {
        PortState::Up => (Some("up"), Some("up"), None),
        PortState::Down { reason } if reason.starts_with("no such device") => (None, None, Some(reason)),
        PortState::Down { reason } => (None, Some("down"), Some(reason)),
    };
    let stats = stats
        .iter()
        .find(|st| st.bridge == b.name && st.port == p.name)
        .map_or_else(Datum::empty, statistics);
    let values = vec![
        Datum::optional(admin.map(s)),
        Datum::optional(error.map(s)),
        Datum::string_map(&c.external_ids),
        Datum::one(int(c.ingress_policing_burst.unwrap_or(0))),
        Datum::one(int(c.ingress_policing_rate.unwrap_or(0))),
        Datum::optional(link.map(s)),
        Datum::empty(),
        Datum::optional(p.mtu.map(int)),
        Datum::optional(c.mtu.map(int)),
        Datum::one(s(&p.name)),
        Datum::optional(p.ofport.map(int)),
        Datum::optional(c.ofport_request.map(int)),
        options(p),
        stats,
        Datum::one(s(type_name(c.port_type))),
    ];
    Row {
        uuid: uuid("Interface", &p.name),
        name: p.name.clone(),
        parent: p.name.clone(),
        member: false,
        values,
        in_force: Datum::empty(),
    }
}

/// A bond member: a name and nothing switchd keeps per member.
fn member_row(bond: &PortInfo, member: &str) -> Row {
    let mut values: Vec<Datum> = Table::Interface
        .columns()
        .iter()
        .map(|_| Datum::empty())
        .collect();
    let set = |values: &mut Vec<Datum>, col: &str, d: Datum| {
        if let Some(i) = Table::Interface.index(col) {
            values[i] = d;
        }
    };
    set(&mut values, "ingress_policing_burst", Datum::one(int(0)));
    set(&mut values, "ingress_policing_rate", Datum::one(int(0)));
    set(&mut values, "name", Datum::one(s(member)));
    set(&mut values, "type", Datum::one(s("")));
    Row {
        uuid: uuid("Interface", member),
        name: member.to_owned(),
        parent: bond.name.clone(),
        member: true,
        values,
        in_force: Datum::empty(),
    }
}

impl Db {
    /// The rows of `snap`.
    pub fn new(snap: &Snapshot) -> Db {
        let mut db = Db {
            root: Vec::new(),
            bridges: Vec::new(),
            ports: Vec::new(),
            ifaces: Vec::new(),
        };
        let names: Vec<String> = snap.bridges.iter().map(|b| b.name.clone()).collect();
        db.root.push(Row {
            uuid: root_uuid(&snap.bridges),
            name: String::new(),
            parent: String::new(),
            member: false,
            values: vec![uuids("Bridge", &names), Datum::one(s(version()))],
            in_force: Datum::empty(),
        });
        for b in &snap.bridges {
            db.bridges.push(bridge_row(b));
            for p in &b.ports {
                db.ports.push(port_row(b, p));
                if p.config.port_type.is_bond() {
                    db.ifaces
                        .extend(p.config.members().iter().map(|m| member_row(p, m.as_str())));
                } else {
                    db.ifaces.push(iface_row(b, p, &snap.stats));
                }
            }
        }
        db
    }

    /// Every row of `table`, bridges and ports in the daemon's order.
    pub fn rows(&self, table: Table) -> &[Row] {
        match table {
            Table::OpenVswitch => &self.root,
            Table::Bridge => &self.bridges,
            Table::Port => &self.ports,
            Table::Interface => &self.ifaces,
        }
    }

    /// The row `id` names (OVS's `ctl_get_row`): a UUID, `.` for a table
    /// of one row, a name, or at least 4 characters that begin exactly one
    /// row's UUID. `Ok(None)` when there is none.
    pub fn row(&self, table: Table, id: &str) -> Result<Option<&Row>, String> {
        let rows = self.rows(table);
        let lower = id.to_ascii_lowercase();
        if let Some(r) = rows.iter().find(|r| r.uuid == lower) {
            return Ok(Some(r));
        }
        if id == "." && rows.len() == 1 {
            return Ok(rows.first());
        }
        if let Some(r) = rows.iter().find(|r| !r.name.is_empty() && r.name == id) {
            return Ok(Some(r));
        }
        if uuid_prefix_len(id) >= 4 {
            let mut found = rows.iter().filter(|r| r.uuid.starts_with(&lower));
            if let Some(first) = found.next() {
                if let Some(second) = found.next() {
                    return Err(format!(
                        "{} contains 2 or more rows whose UUIDs begin with {id}: at least {} and {}",
                        table.name(),
                        first.uuid,
                        second.uuid
                    ));
                }
                return Ok(Some(first));
            }
        }
        Ok(None)
    }

    /// [`Db::row`], with OVS's message when there is no such row.
    pub fn must_row(&self, table: Table, id: &str) -> Result<&Row, String> {
        self.row(table, id)?
            .ok_or_else(|| format!("no row \"{id}\" in table {}", table.name()))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proto::{FailMode, MacAddr, OfVersions, PortConfig, PortSetting};

    /// A bridge as `show` reports it, with `ports`.
    pub(crate) fn bridge(name: &str, mac_last: u8, ports: Vec<PortInfo>) -> BridgeInfo {
        let mac = MacAddr([2, 0, 0, 0, 0, mac_last]);
        BridgeInfo {
            name: name.into(),
            mac,
            mac_aging: MAC_AGING_DEFAULT,
            mac_table_size: MAC_TABLE_SIZE_DEFAULT,
            mac_entries: 0,
            rstp: RstpBridgeConfig::default(),
            fail_mode: FailMode::Standalone,
            protocols: OfVersions::default(),
            datapath_id: Some(DatapathId::from_mac(mac)),
            controllers: Vec::new(),
            sflow: Vec::new(),
            ipfix: Vec::new(),
            external_ids: Default::default(),
            ports,
        }
    }

    /// A port with `settings`, up, with OpenFlow number `ofport`.
    pub(crate) fn port(name: &str, ofport: u16, settings: &[&str]) -> PortInfo {
        let settings: Vec<PortSetting> = settings.iter().map(|s| s.parse().unwrap()).collect();
        let config = PortConfig::from_settings(&settings).unwrap();
        PortInfo {
            name: name.into(),
            ofport: Some(ofport),
            port_type: config.port_type,
            vlan_mode: config.effective_vlan_mode(),
            config,
            state: PortState::Up,
            mtu: Some(1500),
        }
    }

    #[test]
    fn uuids_are_stable_distinct_and_v4() {
        let a = uuid("Port", "vnet0");
        assert_eq!(a, uuid("Port", "vnet0"));
        assert_ne!(a, uuid("Interface", "vnet0"));
        assert_ne!(a, uuid("Port", "vnet1"));
        assert!(crate::ovs::datum::is_uuid(&a), "{a}");
        assert_eq!(&a[14..15], "4");
        assert!("89ab".contains(&a[19..20]), "{a}");
    }

    #[test]
    fn rows_from_show() {
        let mut gre = port("gre0", 2, &["type=gre", "remote_ip=192.168.20.2"]);
        gre.state = PortState::Down {
            reason: "no such device".into(),
        };
        let mut vnet = port("vnet0", 1, &["tag=10"]);
        vnet.config.external_ids.insert("iface-id".into(), "abc".into());
        let snap = Snapshot {
            bridges: vec![bridge("br0", 1, vec![vnet, gre])],
            stats: vec![PortStats {
                bridge: "br0".into(),
                port: "vnet0".into(),
                rx_packets: 3,
                rx_bytes: 180,
                ..PortStats::default()
            }],
        };
        let db = Db::new(&snap);
        let p = db.must_row(Table::Port, "vnet0").unwrap();
        assert_eq!(p.get(Table::Port, "tag"), &Datum::one(Atom::Int(10)));
        assert_eq!(p.get(Table::Port, "vlan_mode"), &Datum::empty());
        assert_eq!(
            p.get(Table::Port, "interfaces"),
            &Datum::set([Atom::Uuid(uuid("Interface", "vnet0"))])
        );
        let i = db.must_row(Table::Interface, "vnet0").unwrap();
        assert_eq!(i.get(Table::Interface, "ofport"), &Datum::one(Atom::Int(1)));
        assert_eq!(i.get(Table::Interface, "type"), &Datum::one(s("")));
        assert_eq!(i.get(Table::Interface, "admin_state"), &Datum::one(s("up")));
        let st = i.get(Table::Interface, "statistics");
        assert_eq!(st.len(), 8);
        assert_eq!(st.get(&s("rx_bytes")), Some(&Atom::Int(180)));
        let g = db.must_row(Table::Interface, "gre0").unwrap();
        assert_eq!(g.get(Table::Interface, "type"), &Datum::one(s("gre")));
        assert_eq!(
            g.get(Table::Interface, "options"),
            &Datum::map([(s("remote_ip"), s("192.168.20.2"))])
        );
        assert_eq!(g.get(Table::Interface, "error"), &Datum::one(s("no such device")));
        assert_eq!(g.get(Table::Interface, "link_state"), &Datum::empty());
        assert_eq!(g.get(Table::Interface, "statistics"), &Datum::empty());
        let b = db.must_row(Table::Bridge, "br0").unwrap();
        assert_eq!(b.get(Table::Bridge, "other_config"), &Datum::empty());
        assert_eq!(b.in_force.get(&s("mac-aging-time")), Some(&s("300")));
        assert_eq!(b.in_force.get(&s("datapath-id")), Some(&s("0000020000000001")));
        assert_eq!(b.get(Table::Bridge, "ports").len(), 2);
        assert_eq!(
            b.get(Table::Bridge, "protocols"),
            &Datum::set([s("OpenFlow10"), s("OpenFlow13")])
        );
        let root = db.must_row(Table::OpenVswitch, ".").unwrap();
        assert_eq!(root.uuid, root_uuid(&snap.bridges));
        assert_eq!(
            root.get(Table::OpenVswitch, "ovs_version"),
            &Datum::one(s(version()))
        );
    }

    #[test]
    fn rows_are_found_as_ovs_finds_them() {
        let snap = Snapshot {
            bridges: vec![bridge("br0", 1, vec![port("p1", 1, &[]), port("p2", 2, &[])])],
            stats: Vec::new(),
        };
        let db = Db::new(&snap);
        let u = uuid("Port", "p2");
        assert_eq!(db.row(Table::Port, &u).unwrap().unwrap().name, "p2");
        assert_eq!(
            db.row(Table::Port, &u.to_uppercase()).unwrap().unwrap().name,
            "p2"
        );
        assert_eq!(db.row(Table::Port, &u[..6]).unwrap().unwrap().name, "p2");
        assert_eq!(db.row(Table::Port, "nosuch").unwrap(), None);
        assert_eq!(
            db.must_row(Table::Port, "nosuch").unwrap_err(),
            "no row \"nosuch\" in table Port"
        );
        assert!(
            db.row(Table::Port, ".").unwrap().is_none(),
            "two ports: . is no row"
        );
        assert!(db.row(Table::Bridge, ".").unwrap().is_some(), "one bridge");
    }

    #[test]
    fn bond_members_are_interfaces() {
        let mut bond = port("p1", 1, &[]);
        bond.config = PortConfig::for_bond(
            &"bond0".parse().unwrap(),
            &["eth0".parse().unwrap(), "eth1".parse().unwrap()],
            &["lacp=active".parse().unwrap()],
        )
        .unwrap();
        bond.name = "bond0".into();
        let db = Db::new(&Snapshot {
            bridges: vec![bridge("br0", 1, vec![bond])],
            stats: Vec::new(),
        });
        assert_eq!(db.rows(Table::Interface).len(), 2);
        let m = db.must_row(Table::Interface, "eth1").unwrap();
        assert!(m.member);
        assert_eq!(m.parent, "bond0");
        let p = db.must_row(Table::Port, "bond0").unwrap();
        assert_eq!(p.get(Table::Port, "lacp"), &Datum::one(s("active")));
        assert_eq!(p.in_force.get(&s("lacp-time")), Some(&s("slow")));
        assert!(db.row(Table::Interface, "bond0").unwrap().is_none());
    }
}

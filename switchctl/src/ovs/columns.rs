//! What writing a column means for switchd: the value a command wants a
//! column to hold, compared with the value it holds, becomes switchd port
//! or bridge settings, cleared port keys, or `external_ids` edits.
//!
//! Every value goes through proto's parsers (`PortSetting`,
//! `BridgeSetting`), so a bad value is refused with the message the native
//! `switchctl` gives. The mapping, column by column:
//!
//! | ovs-vsctl | switchd |
//! |---|---|
//! | `Bridge:rstp_enable` | `rstp` |
//! | `Bridge:datapath_type` | `netdev` accepted (what switchd is); anything else refused |
//! | `Bridge:stp_enable` | `false` accepted (nothing to do); `true` refused: switchd runs RSTP |
//! | `Bridge:fail_mode`, `protocols` | `fail_mode`, `protocols` (empty: the defaults) |
//! | `Bridge:other_config:mac-aging-time`, `mac-table-size` | `mac_aging`, `mac_table_size` |
//! | `Bridge:other_config:rstp-priority`, `-max-age`, `-forward-delay`, `-transmit-hold-count`, `-force-protocol-version` | `rstp_priority`, ... |
//! | `Bridge:other_config:datapath-id` | `datapath_id` |
//! | `Port:tag`, `trunks`, `vlan_mode` | the same; empty: `clear port` of the key |
//! | `Port:bond_mode`, `lacp`, `bond_updelay`, `bond_downdelay` | the same |
//! | `Port:other_config:lacp-time`, `lacp-fallback-ab`, `bond-rebalance-interval` | `lacp_time`, ... |
//! | `Port:other_config:rstp-enable`, `rstp-port-priority`, `rstp-path-cost`, `rstp-port-admin-edge`, `rstp-port-auto-edge` | `rstp_enable`, `rstp_port_priority`, `rstp_path_cost`, `rstp_admin_edge`, `rstp_auto_edge` |
//! | `Interface:type` | `""`/`system`: system, `internal` and `tap`: tap, `vxlan`, `gre` |
//! | `Interface:options:remote_ip`, `local_ip`, `key`, `dst_port` | the same |
//! | `Interface:mtu_request` | `mtu` |
//! | `Interface:ofport_request`, `ingress_policing_rate`, `ingress_policing_burst` | the same |
//! | `external_ids` of the three tables | the record's `external_ids` |
//!
//! switchd cannot "unset" every key: removing a key of `other_config` puts
//! back its default; `mtu_request`, `ofport_request`, `options` keys and
//! `other_config:datapath-id` cannot be removed once set (refused, saying
//! so).

use std::collections::BTreeMap;

use proto::{BridgeSetting, ClearKey, InvalidValue, OfVersions, PortSetting, PortType};

use crate::ovs::datum::{Atom, Datum};
use crate::ovs::schema::{check_key, Column, Table};

/// A change of one port's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortOp {
    /// Set a key.
    Set(PortSetting),
    /// Remove a key (`clear port`).
    Clear(ClearKey),
}

/// One change a column write asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Of the record's port configuration.
    Port(PortOp),
    /// Of the record's `external_ids`.
    ExtIds {
        /// Keys to remove.
        remove: Vec<String>,
        /// Keys to set.
        set: BTreeMap<String, String>,
    },
    /// Of the record's bridge settings.
    Bridge(BridgeSetting),
}

/// `Bridge:other_config` keys with switchd's key and default.
const BRIDGE_KEYS: &[(&str, &str, Option<&str>)] = &[
    ("datapath-id", "datapath_id", None),
    ("mac-aging-time", "mac_aging", Some("300")),
    ("mac-table-size", "mac_table_size", Some("8192")),
    (
        "rstp-force-protocol-version",
        "rstp_force_protocol_version",
        Some("2"),
    ),
    ("rstp-forward-delay", "rstp_forward_delay", Some("15")),
    ("rstp-max-age", "rstp_max_age", Some("20")),
    ("rstp-priority", "rstp_priority", Some("32768")),
    ("rstp-transmit-hold-count", "rstp_transmit_hold_count", Some("6")),
];

/// `Port:other_config` keys with switchd's key and default.
const PORT_KEYS: &[(&str, &str, Option<&str>)] = &[
    (
        "bond-rebalance-interval",
        "bond_rebalance_interval",
        Some("10000"),
    ),
    ("lacp-fallback-ab", "lacp_fallback_ab", Some("false")),
    ("lacp-time", "lacp_time", Some("slow")),
    ("rstp-enable", "rstp_enable", Some("true")),
    ("rstp-path-cost", "rstp_path_cost", Some("20000")),
    ("rstp-port-admin-edge", "rstp_admin_edge", Some("false")),
    ("rstp-port-auto-edge", "rstp_auto_edge", Some("true")),
    ("rstp-port-priority", "rstp_port_priority", Some("128")),
];

/// `Interface:options` keys: switchd's keys, none of which can be unset.
const OPTION_KEYS: &[(&str, &str, Option<&str>)] = &[
    ("dst_port", "dst_port", None),
    ("key", "key", None),
    ("local_ip", "local_ip", None),
    ("remote_ip", "remote_ip", None),
];

fn port_setting(text: String) -> Result<PortSetting, String> {
    text.parse().map_err(|e: InvalidValue| e.0)
}

fn bridge_setting(text: String) -> Result<BridgeSetting, String> {
    text.parse().map_err(|e: InvalidValue| e.0)
}

/// OVS's spellings of a boolean (`yes`, `on`, `1`, ...) as switchd's
/// `true`/`false`; anything else as it is, for proto to refuse.
fn boolean(v: &str) -> &str {
    match v {
        "true" | "yes" | "on" | "1" => "true",
        "false" | "no" | "off" | "0" => "false",
        other => other,
    }
}

/// A datum with every atom as its text (sorted again), so that a value
/// read from switchd and one typed on the command line compare alike.
pub fn as_strings(d: &Datum) -> Datum {
    if d.values.is_empty() {
        Datum::set(d.keys.iter().map(|a| Atom::Str(a.text())))
    } else {
        Datum::map(d.pairs().map(|(k, v)| (Atom::Str(k.text()), Atom::Str(v.text()))))
    }
}

/// The first (only) atom's text of a scalar.
fn first(d: &Datum) -> String {
    d.keys.first().map(Atom::text).unwrap_or_default()
}

/// The atoms' texts joined by commas (a set for switchd's list syntax).
fn joined(d: &Datum) -> String {
    let v: Vec<String> = d.keys.iter().map(Atom::text).collect();
    v.join(",")
}

/// What switchd's `type` is for an `Interface:type` value.
pub fn port_type(v: &str) -> Result<PortType, String> {
    match v {
        "" | "system" => Ok(PortType::System),
        "internal" | "tap" => Ok(PortType::Tap),
        "vxlan" => Ok(PortType::Vxlan),
        "gre" => Ok(PortType::Gre),
        other => Err(format!(
            "Interface type \"{other}\" is not supported by switchd (supported: \"\" or system, \
             internal (a switchd tap port), tap, vxlan, gre)"
        )),
    }
}

/// The changes that make column `col` of a row of `table` hold `new`
/// (read with string atoms) instead of `cur`. Nothing when they are equal.
pub fn assign(table: Table, col: &Column, cur: &Datum, new: &Datum) -> Result<Vec<Op>, String> {
    let cur = as_strings(cur);
    if col.ty.is_map() {
        for k in &new.keys {
            check_key(table, col, &k.text())?;
        }
    }
    if cur == *new {
        return Ok(Vec::new());
    }
    let port = |s: String| port_setting(s).map(|s| vec![Op::Port(PortOp::Set(s))]);
    let bridge = |s: String| bridge_setting(s).map(|s| vec![Op::Bridge(s)]);
    let v = first(new);
    match (table, col.name) {
        (_, "external_ids") => Ok(external_ids(&cur, new)),
        (Table::Bridge, "fail_mode") if new.is_empty() => bridge("fail_mode=standalone".into()),
        (Table::Bridge, "fail_mode") => bridge(format!("fail_mode={v}")),
        (Table::Bridge, "protocols") if new.is_empty() => {
            Ok(vec![Op::Bridge(BridgeSetting::Protocols(OfVersions::default()))])
        }
        (Table::Bridge, "protocols") => bridge(format!("protocols={}", joined(new))),
        (Table::Bridge, "rstp_enable") => bridge(format!("rstp={}", boolean(&v))),
        // Already netdev (equal values return above).
        (Table::Bridge, "datapath_type") => Err(format!(
            "datapath_type \"{v}\" is not supported: switchd is a userspace switch, its datapath_type is \
             netdev"
        )),
        (Table::Bridge, "stp_enable") => match boolean(&v) {
            "false" => Ok(Vec::new()),
            "true" => Err(
                "stp_enable=true is not supported: switchd runs RSTP (802.1D-2004), which also \
                           speaks STP with STP bridges; set rstp_enable=true instead"
                    .into(),
            ),
            other => Err(format!(
                "\"{other}\" is not a valid boolean (use \"true\" or \"false\")"
            )),
        },
        (Table::Bridge, "other_config") => {
            let set = |k: &str, v: &str| bridge_setting(format!("{k}={v}")).map(Op::Bridge);
            other_config(table, &cur, new, BRIDGE_KEYS, set)
        }
        (Table::Port, "tag") if new.is_empty() => Ok(vec![Op::Port(PortOp::Clear(ClearKey::Tag))]),
        (Table::Port, "trunks") if new.is_empty() => Ok(vec![Op::Port(PortOp::Clear(ClearKey::Trunks))]),
        (Table::Port, "vlan_mode") if new.is_empty() => Ok(vec![Op::Port(PortOp::Clear(ClearKey::VlanMode))]),
        (Table::Port, "tag" | "vlan_mode") => port(format!("{}={v}", col.name)),
        (Table::Port, "trunks") => port(format!("trunks={}", joined(new))),
        // No key to clear: the default is the same as unset.
        (Table::Port, "bond_mode") if new.is_empty() => port("bond_mode=active-backup".into()),
        (Table::Port, "lacp") if new.is_empty() => port("lacp=off".into()),
        // Unset is the default: setting the default changes nothing (and
        // is then also fine on a port that is not a bond, as in OVS).
        (Table::Port, "bond_mode") if cur.is_empty() && v == "active-backup" => Ok(Vec::new()),
        (Table::Port, "lacp") if cur.is_empty() && v == "off" => Ok(Vec::new()),
        (Table::Port, "bond_mode" | "lacp" | "bond_updelay" | "bond_downdelay") => {
            port(format!("{}={v}", col.name))
        }
        (Table::Port, "other_config") => {
            let set = |k: &str, v: &str| {
                port_setting(format!("{k}={}", boolean(v))).map(|s| Op::Port(PortOp::Set(s)))
            };
            other_config(table, &cur, new, PORT_KEYS, set)
        }
        (Table::Interface, "type") => {
            let t = port_type(&v)?;
            if port_type(&first(&cur)).ok() == Some(t) {
                return Ok(Vec::new());
            }
            Ok(vec![Op::Port(PortOp::Set(PortSetting::Type(t)))])
        }
        (Table::Interface, "options") => {
            let set = |k: &str, v: &str| port_setting(format!("{k}={v}")).map(|s| Op::Port(PortOp::Set(s)));
            other_config(table, &cur, new, OPTION_KEYS, set).map_err(|e| {
                if e.contains("cannot unset") {
                    format!("{e} (del-port and add-port again to drop it)")
                } else {
                    e
                }
            })
        }
        (Table::Interface, "mtu_request" | "ofport_request") if new.is_empty() => Err(format!(
            "switchd cannot unset {} of an interface once it is set (set another value instead)",
            col.name
        )),
        (Table::Interface, "mtu_request") => port(format!("mtu={v}")),
        (Table::Interface, "ofport_request" | "ingress_policing_rate" | "ingress_policing_burst") => {
            port(format!("{}={v}", col.name))
        }
        (t, c) => Err(format!(
            "cannot modify read-only column {c} in table {}",
            t.name()
        )),
    }
}

/// `external_ids`: the keys to remove and to set to go from `cur` to `new`.
fn external_ids(cur: &Datum, new: &Datum) -> Vec<Op> {
    let remove = cur
        .keys
        .iter()
        .filter(|k| new.get(k).is_none())
        .map(Atom::text)
        .collect();
    let set = new
        .pairs()
        .filter(|(k, v)| cur.get(k) != Some(*v))
        .map(|(k, v)| (k.text(), v.text()))
        .collect();
    vec![Op::ExtIds { remove, set }]
}

/// A map of keys switchd has: each changed key through `set`, each removed
/// one back to its default (refused for a key without one).
fn other_config(
    table: Table,
    cur: &Datum,
    new: &Datum,
    keys: &[(&str, &str, Option<&str>)],
    set: impl Fn(&str, &str) -> Result<Op, String>,
) -> Result<Vec<Op>, String> {
    let find = |k: &str| keys.iter().find(|(ovs, _, _)| *ovs == k);
    let mut ops = Vec::new();
    for k in &cur.keys {
        if new.get(k).is_some() {
            continue;
        }
        let k = k.text();
        match find(&k) {
            Some((_, ours, Some(default))) => ops.push(set(ours, default)?),
            _ => {
                return Err(format!(
                    "switchd cannot unset {k} in table {} once it is set",
                    table.name()
                ))
            }
        }
    }
    for (k, v) in new.pairs() {
        if cur.get(k) == Some(v) {
            continue;
        }
        // `assign` checked the key against the column's list.
        if let Some((_, ours, _)) = find(&k.text()) {
            ops.push(set(ours, &v.text())?);
        }
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovs::datum::parse_datum;
    use crate::ovs::schema::column;

    fn s(x: &str) -> Atom {
        Atom::str(x)
    }

    /// The ops for `COLUMN=VALUE` on a row whose column holds `cur`.
    fn ops(table: Table, arg: &str, cur: Datum) -> Result<Vec<Op>, String> {
        let (name, value) = arg.split_once('=').unwrap();
        let col = column(table, name).unwrap();
        let new = parse_datum(value, &col.ty.as_strings())?;
        assign(table, col, &cur, &new)
    }

    fn set(s: &str) -> Op {
        Op::Port(PortOp::Set(s.parse().unwrap()))
    }

    #[test]
    fn port_columns() {
        assert_eq!(
            ops(Table::Port, "tag=10", Datum::empty()),
            Ok(vec![set("tag=10")])
        );
        assert_eq!(ops(Table::Port, "tag=10", Datum::one(Atom::Int(10))), Ok(vec![]));
        assert_eq!(
            ops(Table::Port, "tag=[]", Datum::one(Atom::Int(10))),
            Ok(vec![Op::Port(PortOp::Clear(ClearKey::Tag))])
        );
        assert_eq!(
            ops(Table::Port, "tag=5000", Datum::empty()).unwrap_err(),
            "tag: VLAN id 5000 is out of range 0-4095"
        );
        assert_eq!(
            ops(Table::Port, "tag=abc", Datum::empty()).unwrap_err(),
            "tag: VLAN id \"abc\" is not a number"
        );
        assert_eq!(
            ops(Table::Port, "trunks=10,20", Datum::empty()),
            Ok(vec![set("trunks=10,20")])
        );
        assert_eq!(
            ops(Table::Port, "trunks=[10,20]", Datum::empty()),
            Ok(vec![set("trunks=10,20")])
        );
        assert_eq!(
            ops(
                Table::Port,
                "trunks=[10, 20]",
                Datum::set([Atom::Int(20), Atom::Int(10)])
            ),
            Ok(vec![])
        );
        assert_eq!(
            ops(Table::Port, "vlan_mode=native-untagged", Datum::empty()),
            Ok(vec![set("vlan_mode=native-untagged")])
        );
        assert!(ops(Table::Port, "vlan_mode=dot1q-tunnel", Datum::empty())
            .unwrap_err()
            .contains("dot1q-tunnel"));
        assert_eq!(
            ops(
                Table::Port,
                "other_config={rstp-enable=false, lacp-time=fast}",
                Datum::empty()
            ),
            Ok(vec![set("lacp_time=fast"), set("rstp_enable=false")])
        );
        assert_eq!(
            ops(
                Table::Port,
                "other_config={}",
                Datum::map([(s("rstp-path-cost"), s("100"))])
            ),
            Ok(vec![set("rstp_path_cost=20000")])
        );
        let e = ops(Table::Port, "other_config={bond-hash-basis=1}", Datum::empty()).unwrap_err();
        assert!(
            e.starts_with("other_config:bond-hash-basis of table Port is not supported"),
            "{e}"
        );
        assert_eq!(ops(Table::Port, "bond_mode=[]", Datum::empty()), Ok(vec![]));
        assert_eq!(ops(Table::Port, "lacp=off", Datum::empty()), Ok(vec![]));
        assert_eq!(
            ops(Table::Port, "bond_mode=active-backup", Datum::empty()),
            Ok(vec![])
        );
        assert_eq!(
            ops(Table::Port, "lacp=[]", Datum::one(s("active"))),
            Ok(vec![set("lacp=off")])
        );
        assert_eq!(
            ops(Table::Port, "bond_updelay=200", Datum::one(Atom::Int(0))),
            Ok(vec![set("bond_updelay=200")])
        );
    }

    #[test]
    fn interface_columns() {
        let sys = Datum::one(s(""));
        assert_eq!(
            ops(Table::Interface, "type=gre", sys.clone()),
            Ok(vec![Op::Port(PortOp::Set(PortSetting::Type(PortType::Gre)))])
        );
        assert_eq!(
            ops(Table::Interface, "type=internal", sys.clone()),
            Ok(vec![Op::Port(PortOp::Set(PortSetting::Type(PortType::Tap)))])
        );
        assert_eq!(
            ops(Table::Interface, "type=internal", Datum::one(s("tap"))),
            Ok(vec![])
        );
        assert_eq!(ops(Table::Interface, "type=system", sys.clone()), Ok(vec![]));
        assert_eq!(
            ops(Table::Interface, "type=\"\"", Datum::one(s("gre"))),
            Ok(vec![Op::Port(PortOp::Set(PortSetting::Type(PortType::System)))])
        );
        let e = ops(Table::Interface, "type=patch", sys).unwrap_err();
        assert!(
            e.starts_with("Interface type \"patch\" is not supported by switchd"),
            "{e}"
        );
        assert_eq!(
            ops(
                Table::Interface,
                "options={remote_ip=\"192.168.20.2\", key=5}",
                Datum::empty()
            ),
            Ok(vec![set("key=5"), set("remote_ip=192.168.20.2")])
        );
        let e = ops(Table::Interface, "options={}", Datum::map([(s("key"), s("5"))])).unwrap_err();
        assert!(
            e.starts_with("switchd cannot unset key in table Interface"),
            "{e}"
        );
        assert_eq!(
            ops(Table::Interface, "mtu_request=9000", Datum::empty()),
            Ok(vec![set("mtu=9000")])
        );
        assert!(
            ops(Table::Interface, "mtu_request=[]", Datum::one(Atom::Int(9000)))
                .unwrap_err()
                .contains("cannot unset mtu_request")
        );
        assert_eq!(
            ops(
                Table::Interface,
                "ingress_policing_rate=8000",
                Datum::one(Atom::Int(0))
            ),
            Ok(vec![set("ingress_policing_rate=8000")])
        );
        assert_eq!(
            ops(
                Table::Interface,
                "external_ids={iface-id=abc}",
                Datum::map([(s("old"), s("x")), (s("iface-id"), s("abc"))])
            ),
            Ok(vec![Op::ExtIds {
                remove: vec!["old".into()],
                set: BTreeMap::new()
            }])
        );
    }

    #[test]
    fn bridge_columns() {
        let b = |s: &str| Op::Bridge(s.parse().unwrap());
        assert_eq!(
            ops(Table::Bridge, "rstp_enable=true", Datum::one(Atom::Bool(false))),
            Ok(vec![b("rstp=true")])
        );
        assert_eq!(
            ops(Table::Bridge, "rstp_enable=yes", Datum::one(Atom::Bool(false))),
            Ok(vec![b("rstp=true")])
        );
        assert_eq!(
            ops(Table::Bridge, "stp_enable=false", Datum::one(Atom::Bool(false))),
            Ok(vec![])
        );
        assert_eq!(
            ops(Table::Bridge, "datapath_type=netdev", Datum::one(s("netdev"))),
            Ok(vec![])
        );
        assert!(
            ops(Table::Bridge, "datapath_type=system", Datum::one(s("netdev")))
                .unwrap_err()
                .contains("its datapath_type is netdev")
        );
        assert!(
            ops(Table::Bridge, "stp_enable=true", Datum::one(Atom::Bool(false)))
                .unwrap_err()
                .contains("switchd runs RSTP")
        );
        assert_eq!(
            ops(Table::Bridge, "fail_mode=secure", Datum::one(s("standalone"))),
            Ok(vec![b("fail_mode=secure")])
        );
        assert_eq!(
            ops(Table::Bridge, "fail_mode=[]", Datum::one(s("secure"))),
            Ok(vec![b("fail_mode=standalone")])
        );
        assert_eq!(
            ops(
                Table::Bridge,
                "protocols=[OpenFlow13]",
                Datum::set([s("OpenFlow10"), s("OpenFlow13")])
            ),
            Ok(vec![b("protocols=OpenFlow13")])
        );
        assert!(ops(Table::Bridge, "protocols=OpenFlow14", Datum::empty())
            .unwrap_err()
            .contains("OpenFlow14"));
        assert_eq!(
            ops(
                Table::Bridge,
                "other_config={rstp-priority=4096, mac-aging-time=60}",
                Datum::map([(s("mac-table-size"), s("100"))])
            ),
            Ok(vec![
                b("mac_table_size=8192"),
                b("mac_aging=60"),
                b("rstp_priority=4096")
            ])
        );
        assert!(ops(
            Table::Bridge,
            "other_config={}",
            Datum::map([(s("datapath-id"), s("0000020000000001"))])
        )
        .unwrap_err()
        .contains("cannot unset datapath-id"));
        assert_eq!(
            ops(
                Table::Bridge,
                "other_config={datapath-id=0000020000000009}",
                Datum::empty()
            ),
            Ok(vec![b("datapath_id=0000020000000009")])
        );
    }
}

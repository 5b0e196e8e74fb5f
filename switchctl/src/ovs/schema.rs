//! Which OVSDB tables and columns the face knows, and how names typed on
//! the command line find them.
//!
//! Names are matched the way `ovs-vsctl` matches them (OVS's
//! `score_partial_match` in `lib/db-ctl-base.c`): case-insensitively, `-`
//! and `_` alike, an exact match first, else a unique prefix. That is why
//! libvirt's `clear Port vnet0 trunk` means `trunks` and `external-ids`
//! means `external_ids`. The matching runs over every table and column of
//! the Open vSwitch 3.1 schema, so that an ambiguous or unknown name gets
//! OVS's own message; only then is a name that switchd has no notion of
//! refused, with a message naming it and listing what is supported.

use crate::ovs::datum::{parse_token, AtomType, ColumnType, UNLIMITED};

/// The tables switchd has rows for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// The one root row: its bridges and `ovs_version`.
    OpenVswitch,
    /// One row per bridge.
    Bridge,
    /// One row per port (a bond is one port).
    Port,
    /// One row per port that is not a bond, one per bond member.
    Interface,
}

impl Table {
    /// The name as OVS spells it.
    pub fn name(self) -> &'static str {
        match self {
            Table::OpenVswitch => "Open_vSwitch",
            Table::Bridge => "Bridge",
            Table::Port => "Port",
            Table::Interface => "Interface",
        }
    }

    /// Every column OVS 3.1 has in the table, in the schema's (alphabetical)
    /// order: what names are matched against.
    fn ovs_columns(self) -> &'static [&'static str] {
        match self {
            Table::OpenVswitch => &[
                "bridges",
                "cur_cfg",
                "datapath_types",
                "datapaths",
                "db_version",
                "dpdk_initialized",
                "dpdk_version",
                "external_ids",
                "iface_types",
                "manager_options",
                "next_cfg",
                "other_config",
                "ovs_version",
                "ssl",
                "statistics",
                "system_type",
                "system_version",
            ],
            Table::Bridge => &[
                "auto_attach",
                "controller",
                "datapath_id",
                "datapath_type",
                "datapath_version",
                "external_ids",
                "fail_mode",
                "flood_vlans",
                "flow_tables",
                "ipfix",
                "mcast_snooping_enable",
                "mirrors",
                "name",
                "netflow",
                "other_config",
                "ports",
                "protocols",
                "rstp_enable",
                "rstp_status",
                "sflow",
                "status",
                "stp_enable",
            ],
            Table::Port => &[
                "bond_active_slave",
                "bond_downdelay",
                "bond_fake_iface",
                "bond_mode",
                "bond_updelay",
                "cvlans",
                "external_ids",
                "fake_bridge",
                "interfaces",
                "lacp",
                "mac",
                "name",
                "other_config",
                "protected",
                "qos",
                "rstp_statistics",
                "rstp_status",
                "statistics",
                "status",
                "tag",
                "trunks",
                "vlan_mode",
            ],
            Table::Interface => &[
                "admin_state",
                "bfd",
                "bfd_status",
                "cfm_fault",
                "cfm_fault_status",
                "cfm_flap_count",
                "cfm_health",
                "cfm_mpid",
                "cfm_remote_mpids",
                "cfm_remote_opstate",
                "duplex",
                "error",
                "external_ids",
                "ifindex",
                "ingress_policing_burst",
                "ingress_policing_kpkts_burst",
                "ingress_policing_kpkts_rate",
                "ingress_policing_rate",
                "lacp_current",
                "link_resets",
                "link_speed",
                "link_state",
                "lldp",
                "mac",
                "mac_in_use",
                "mtu",
                "mtu_request",
                "name",
                "ofport",
                "ofport_request",
                "options",
                "other_config",
                "statistics",
                "status",
                "type",
            ],
        }
    }

    /// The columns switchd has, in OVS's order: what `list` prints and
    /// what every other command accepts.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::OpenVswitch => OPEN_VSWITCH,
            Table::Bridge => BRIDGE,
            Table::Port => PORT,
            Table::Interface => INTERFACE,
        }
    }

    /// The position of a supported column in [`Table::columns`].
    pub fn index(self, name: &str) -> Option<usize> {
        self.columns().iter().position(|c| c.name == name)
    }
}

/// Every table of the Open vSwitch 3.1 schema, for name matching.
const OVS_TABLES: &[&str] = &[
    "AutoAttach",
    "Bridge",
    "CT_Timeout_Policy",
    "CT_Zone",
    "Controller",
    "Datapath",
    "Flow_Sample_Collector_Set",
    "Flow_Table",
    "IPFIX",
    "Interface",
    "Manager",
    "Mirror",
    "NetFlow",
    "Open_vSwitch",
    "Port",
    "QoS",
    "Queue",
    "SSL",
    "sFlow",
];

/// Whether and how a column can be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `set`, `clear`, `add`, `remove` work.
    Write,
    /// Read-only; the text says what to do instead (may be empty).
    Read(&'static str),
}

/// A column switchd has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// OVS's name.
    pub name: &'static str,
    /// OVS's type.
    pub ty: ColumnType,
    /// Writable or not.
    pub access: Access,
    /// For a writable map other than `external_ids`: the keys switchd
    /// has (any key for `external_ids`, which is kept as given).
    pub keys: &'static [&'static str],
}

const fn col(name: &'static str, ty: ColumnType, access: Access) -> Column {
    Column {
        name,
        ty,
        access,
        keys: &[],
    }
}

const fn map_col(name: &'static str, keys: &'static [&'static str]) -> Column {
    Column {
        name,
        ty: ColumnType::map(AtomType::Str, AtomType::Str),
        access: Access::Write,
        keys,
    }
}

const W: Access = Access::Write;
const RO: Access = Access::Read("");
const INT: ColumnType = ColumnType::scalar(AtomType::Int);
const OPT_INT: ColumnType = ColumnType::optional(AtomType::Int);
const OPT_STR: ColumnType = ColumnType::optional(AtomType::Str);
const BOOL: ColumnType = ColumnType::scalar(AtomType::Bool);
const STR: ColumnType = ColumnType::scalar(AtomType::Str);
const UUIDS: ColumnType = ColumnType::set(AtomType::Uuid, 0, UNLIMITED);

/// `Bridge:other_config` keys switchd has, and `Port:other_config` keys.
pub const BRIDGE_OTHER_CONFIG: &[&str] = &[
    "datapath-id",
    "mac-aging-time",
    "mac-table-size",
    "rstp-force-protocol-version",
    "rstp-forward-delay",
    "rstp-max-age",
    "rstp-priority",
    "rstp-transmit-hold-count",
];
/// `Port:other_config` keys switchd has.
pub const PORT_OTHER_CONFIG: &[&str] = &[
    "bond-rebalance-interval",
    "lacp-fallback-ab",
    "lacp-time",
    "rstp-enable",
    "rstp-path-cost",
    "rstp-port-admin-edge",
    "rstp-port-auto-edge",
    "rstp-port-priority",
];
/// `Interface:options` keys switchd has (tunnels).
pub const INTERFACE_OPTIONS: &[&str] = &["dst_port", "key", "local_ip", "remote_ip"];

const OPEN_VSWITCH: &[Column] = &[
    col(
        "bridges",
        UUIDS,
        Access::Read("add-br and del-br change the bridges"),
    ),
    col("ovs_version", OPT_STR, RO),
];

const BRIDGE: &[Column] = &[
    col(
        "datapath_id",
        ColumnType::optional(AtomType::Str),
        Access::Read("set other_config:datapath-id instead"),
    ),
    col("datapath_type", STR, W),
    map_col("external_ids", &[]),
    col("fail_mode", OPT_STR, W),
    col("name", STR, RO),
    map_col("other_config", BRIDGE_OTHER_CONFIG),
    col(
        "ports",
        UUIDS,
        Access::Read("add-port and del-port change the ports"),
    ),
    col("protocols", ColumnType::set(AtomType::Str, 0, UNLIMITED), W),
    col("rstp_enable", BOOL, W),
    col("stp_enable", BOOL, W),
];

const PORT: &[Column] = &[
    col("bond_downdelay", INT, W),
    col("bond_mode", OPT_STR, W),
    col("bond_updelay", INT, W),
    map_col("external_ids", &[]),
    col(
        "interfaces",
        ColumnType::set(AtomType::Uuid, 1, UNLIMITED),
        Access::Read("add-port and add-bond choose the interfaces"),
    ),
    col("lacp", OPT_STR, W),
    col("name", STR, RO),
    map_col("other_config", PORT_OTHER_CONFIG),
    col("tag", OPT_INT, W),
    col("trunks", ColumnType::set(AtomType::Int, 0, 4096), W),
    col("vlan_mode", OPT_STR, W),
];

const INTERFACE: &[Column] = &[
    col("admin_state", OPT_STR, RO),
    col("error", OPT_STR, RO),
    map_col("external_ids", &[]),
    col("ingress_policing_burst", INT, W),
    col("ingress_policing_rate", INT, W),
    col("link_state", OPT_STR, RO),
    col("mac_in_use", OPT_STR, RO),
    col("mtu", OPT_INT, Access::Read("set mtu_request instead")),
    col("mtu_request", OPT_INT, W),
    col("name", STR, RO),
    col(
        "ofport",
        OPT_INT,
        Access::Read("set ofport_request when adding the port instead"),
    ),
    col("ofport_request", OPT_INT, W),
    map_col("options", INTERFACE_OPTIONS),
    col(
        "statistics",
        ColumnType::map(AtomType::Str, AtomType::Int),
        Access::Read("switchd counts them"),
    ),
    col("type", STR, W),
];

/// How well a typed name matches a name (OVS's `score_partial_match`):
/// `u32::MAX` for an exact match, one less for a match but for case and
/// `-`/`_`, the length of `typed` when it is a prefix, 0 for no match.
fn score(name: &str, typed: &str) -> u32 {
    if name == typed {
        return u32::MAX;
    }
    let fold = |c: u8| if c == b'-' { b'_' } else { c.to_ascii_lowercase() };
    let (n, t) = (name.as_bytes(), typed.as_bytes());
    let common = n
        .iter()
        .zip(t)
        .take_while(|(a, b)| fold(**a) == fold(**b))
        .count();
    if common == n.len() && common == t.len() {
        u32::MAX - 1
    } else if common == t.len() {
        u32::try_from(common).unwrap_or(u32::MAX - 2)
    } else {
        0
    }
}

/// The names of `names` that match `typed` best: none, one, or several
/// (ambiguous), sorted.
fn best_matches<'a>(names: &[&'a str], typed: &str) -> Vec<&'a str> {
    let mut best = 0;
    let mut found = Vec::new();
    for name in names {
        let s = score(name, typed);
        if s == 0 || s < best {
            continue;
        }
        if s > best {
            found.clear();
            best = s;
        }
        found.push(*name);
    }
    found.sort_unstable();
    found
}

/// The table `typed` names. Tables switchd has no rows for are refused.
pub fn table(typed: &str) -> Result<Table, String> {
    match best_matches(OVS_TABLES, typed)[..] {
        [] => Err(format!("unknown table \"{typed}\"")),
        ["Open_vSwitch"] => Ok(Table::OpenVswitch),
        ["Bridge"] => Ok(Table::Bridge),
        ["Port"] => Ok(Table::Port),
        ["Interface"] => Ok(Table::Interface),
        [other] => Err(format!(
            "table {other} is not supported by switchd (supported tables: Bridge, Port, Interface, \
             Open_vSwitch)"
        )),
        ref many => Err(format!(
            "\"{typed}\" matches multiple table names: {}",
            many.join(", ")
        )),
    }
}

/// Why a column name does not give a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnError {
    /// No column of the table matches (OVS's message).
    NoMatch(String),
    /// Several do, or the one that does is not one switchd has.
    Other(String),
}

impl ColumnError {
    /// The message.
    pub fn message(self) -> String {
        match self {
            ColumnError::NoMatch(m) | ColumnError::Other(m) => m,
        }
    }
}

/// The column of `table` that `typed` names.
pub fn column(table: Table, typed: &str) -> Result<&'static Column, ColumnError> {
    let t = table.name();
    match best_matches(table.ovs_columns(), typed)[..] {
        [] => Err(ColumnError::NoMatch(format!(
            "{t} does not contain a column whose name matches \"{typed}\""
        ))),
        [name] => table.columns().iter().find(|c| c.name == name).ok_or_else(|| {
            let have: Vec<&str> = table.columns().iter().map(|c| c.name).collect();
            ColumnError::Other(format!(
                "column {name} of table {t} is not supported by switchd (supported: {})",
                have.join(", ")
            ))
        }),
        ref many => Err(ColumnError::Other(format!(
            "{t} contains more than one column whose name matches \"{typed}\": {}",
            many.join(", ")
        ))),
    }
}

/// A `COLUMN[:KEY][OPERATOR VALUE]` argument, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnArg {
    /// The column.
    pub column: &'static Column,
    /// The key as typed (a token: quotes kept, to be read as a string atom).
    pub key: Option<String>,
    /// The index of the operator in the list given.
    pub op: usize,
    /// What follows the operator.
    pub value: Option<String>,
}

/// Splits `arg` as OVS's `parse_column_key_value` does: a column name (a
/// token, matched with [`column`]), optionally `:` and a key (a token),
/// then, when `operators` are given, the longest of them that `arg` goes on
/// with, followed by a non-empty value.
pub fn column_arg(table: Table, arg: &str, operators: &[&str]) -> Result<ColumnArg, ColumnError> {
    let other = ColumnError::Other;
    let (name, mut rest) = parse_token(arg).map_err(other)?;
    if name.is_empty() {
        return Err(ColumnError::Other(format!("{arg}: missing column name")));
    }
    let column = column(table, &name)?;
    let mut key = None;
    if let Some(after) = rest.strip_prefix(':') {
        let (k, r) = parse_token(after).map_err(other)?;
        key = Some(k);
        rest = r;
    }
    if operators.is_empty() {
        if !rest.is_empty() {
            return Err(ColumnError::Other(format!(
                "{arg}: trailing garbage \"{rest}\" in argument"
            )));
        }
        return Ok(ColumnArg {
            column,
            key,
            op: 0,
            value: None,
        });
    }
    let best = operators
        .iter()
        .enumerate()
        .filter(|(_, op)| rest.starts_with(**op) && rest.len() > op.len())
        .max_by_key(|(_, op)| op.len());
    let Some((op, text)) = best else {
        let quoted: Vec<String> = operators.iter().map(|o| format!("\"{o}\"")).collect();
        let list = match &quoted[..] {
            [one] => one.clone(),
            [a, b] => format!("{a} or {b}"),
            [init @ .., last] => format!("{}, or {last}", init.join(", ")),
            [] => String::new(),
        };
        return Err(ColumnError::Other(format!(
            "{arg}: argument does not end in {list} followed by a value."
        )));
    };
    Ok(ColumnArg {
        column,
        key,
        op,
        value: Some(rest[text.len()..].to_owned()),
    })
}

/// Refuses a key of a writable map that switchd does not have.
pub fn check_key(table: Table, column: &Column, key: &str) -> Result<(), String> {
    if column.keys.is_empty() || column.keys.contains(&key) {
        return Ok(());
    }
    Err(format!(
        "{}:{key} of table {} is not supported by switchd (supported keys: {})",
        column.name,
        table.name(),
        column.keys.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_as_ovs_matches_them() {
        assert_eq!(table("Interface"), Ok(Table::Interface));
        assert_eq!(table("interface"), Ok(Table::Interface));
        assert_eq!(table("port"), Ok(Table::Port));
        assert_eq!(table("br"), Ok(Table::Bridge));
        assert_eq!(table("open-vswitch"), Ok(Table::OpenVswitch));
        assert_eq!(table("o"), Ok(Table::OpenVswitch));
        assert_eq!(table("foo"), Err("unknown table \"foo\"".into()));
        assert_eq!(
            table("i"),
            Err("\"i\" matches multiple table names: IPFIX, Interface".into())
        );
        let e = table("qos").unwrap_err();
        assert!(e.starts_with("table QoS is not supported by switchd"), "{e}");
        assert!(table("Controller").unwrap_err().contains("Controller"));
    }

    #[test]
    fn columns_match_as_ovs_matches_them() {
        let name = |t, c| column(t, c).map(|c| c.name).map_err(ColumnError::message);
        assert_eq!(name(Table::Port, "trunk"), Ok("trunks"));
        assert_eq!(name(Table::Port, "TAG"), Ok("tag"));
        assert_eq!(name(Table::Interface, "external-ids"), Ok("external_ids"));
        assert_eq!(name(Table::Interface, "mtu"), Ok("mtu"));
        assert_eq!(
            name(Table::Port, "t"),
            Err("Port contains more than one column whose name matches \"t\": tag, trunks".into())
        );
        assert_eq!(
            column(Table::Port, "nosuch"),
            Err(ColumnError::NoMatch(
                "Port does not contain a column whose name matches \"nosuch\"".into()
            ))
        );
        // "mac" is exact in Interface, even though mac_in_use starts with it.
        let e = name(Table::Interface, "mac").unwrap_err();
        assert!(
            e.starts_with("column mac of table Interface is not supported by switchd"),
            "{e}"
        );
        assert!(name(Table::Interface, "bfd").unwrap_err().contains("column bfd"));
    }

    #[test]
    fn supported_columns_are_ovs_columns_in_ovs_order() {
        for t in [Table::OpenVswitch, Table::Bridge, Table::Port, Table::Interface] {
            let names: Vec<&str> = t.columns().iter().map(|c| c.name).collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            assert_eq!(names, sorted, "{t:?}");
            for n in names {
                assert!(t.ovs_columns().contains(&n), "{t:?}.{n}");
            }
        }
    }

    #[test]
    fn column_arguments_split_as_ovs() {
        let a = column_arg(
            Table::Interface,
            "external-ids:attached-mac=\"52:54:00:12:34:56\"",
            &["="],
        )
        .unwrap();
        assert_eq!(a.column.name, "external_ids");
        assert_eq!(a.key.as_deref(), Some("attached-mac"));
        assert_eq!(a.value.as_deref(), Some("\"52:54:00:12:34:56\""));
        let a = column_arg(Table::Port, "trunks=[10,20]", &["="]).unwrap();
        assert_eq!(
            (a.column.name, a.key, a.value.as_deref()),
            ("trunks", None, Some("[10,20]"))
        );
        let a = column_arg(Table::Port, "tag!=10", &["=", "!=", "<", "<="]).unwrap();
        assert_eq!((a.op, a.value.as_deref()), (1, Some("10")));
        let a = column_arg(Table::Port, "tag<=10", &["=", "!=", "<", "<="]).unwrap();
        assert_eq!(a.op, 3);
        let msg = |t, arg, ops: &[&str]| column_arg(t, arg, ops).unwrap_err().message();
        assert_eq!(
            msg(Table::Port, "tag", &["="]),
            "tag: argument does not end in \"=\" followed by a value."
        );
        assert_eq!(
            msg(Table::Port, "tag=", &["="]),
            "tag=: argument does not end in \"=\" followed by a value."
        );
        assert_eq!(
            msg(Table::Port, "tag", &["=", "!=", "<"]),
            "tag: argument does not end in \"=\", \"!=\", or \"<\" followed by a value."
        );
        assert_eq!(msg(Table::Port, "=1", &["="]), "=1: missing column name");
        assert_eq!(
            msg(Table::Port, "tag=1", &[]),
            "tag=1: trailing garbage \"=1\" in argument"
        );
        let a = column_arg(Table::Interface, "external_ids:PortData", &[]).unwrap();
        assert_eq!(a.key.as_deref(), Some("PortData"));
    }

    #[test]
    fn map_keys_are_checked() {
        let options = column(Table::Interface, "options").unwrap();
        assert!(check_key(Table::Interface, options, "remote_ip").is_ok());
        assert_eq!(
            check_key(Table::Interface, options, "csum").unwrap_err(),
            "options:csum of table Interface is not supported by switchd (supported keys: dst_port, key, \
             local_ip, remote_ip)"
        );
        let ext = column(Table::Interface, "external_ids").unwrap();
        assert!(check_key(Table::Interface, ext, "anything").is_ok());
    }
}

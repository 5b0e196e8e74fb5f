//! The commands that only read: what they print, from a [`Snapshot`].
//!
//! A read is run twice: while the command line is checked, against the
//! state as the earlier commands of the line will leave it (so that a read
//! that would fail stops the line before anything changes), and then for
//! real, against the state switchd reports once the earlier commands are
//! done. Name lists are sorted as OVS sorts them (byte order).

use proto::BridgeInfo;

use crate::ovs::datum::{parse_atom, parse_datum, Atom, AtomType, ColumnType, Datum};
use crate::ovs::db::{iface_names, root_uuid, version, Db, Snapshot};
use crate::ovs::format::{self, Cell, Table as OutTable};
use crate::ovs::schema::{column, column_arg, Column, ColumnError, Table};

/// One item of `get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetItem {
    /// `_uuid`.
    Uuid,
    /// `COLUMN` or `COLUMN:KEY` (the key read as a string, and as typed).
    Column(&'static Column, Option<(Atom, String)>),
}

/// A condition of `find`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    column: &'static Column,
    key: Option<Atom>,
    equal: bool,
    value: Datum,
}

/// A command that prints something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// `show`.
    Show,
    /// `list-br`; `false` for `--fake` alone (switchd has no fake bridges).
    ListBr(bool),
    /// `list-ports BR`.
    ListPorts(String),
    /// `list-ifaces BR`.
    ListIfaces(String),
    /// `port-to-br PORT`.
    PortToBr(String),
    /// `iface-to-br IFACE`.
    IfaceToBr(String),
    /// `br-to-vlan BR`: 0.
    BrToVlan(String),
    /// `br-to-parent BR`: the bridge itself.
    BrToParent(String),
    /// `br-get-external-id BR [KEY]`.
    BrExternalId(String, Option<String>),
    /// `get-controller BR`.
    GetController(String),
    /// `get-fail-mode BR`.
    GetFailMode(String),
    /// `get TABLE RECORD ITEM...`.
    Get {
        /// The table.
        table: Table,
        /// The record as typed.
        record: String,
        /// What to print.
        items: Vec<GetItem>,
        /// Not `--if-exists`.
        must_exist: bool,
    },
    /// `list TABLE [RECORD]...`.
    List {
        /// The table.
        table: Table,
        /// The records; all if empty.
        records: Vec<String>,
        /// `--columns` (`None` for `_uuid`).
        columns: Vec<Option<&'static Column>>,
        /// Not `--if-exists`.
        must_exist: bool,
    },
    /// `find TABLE CONDITION...`.
    Find {
        /// The table.
        table: Table,
        /// All must hold.
        conditions: Vec<Condition>,
        /// `--columns`.
        columns: Vec<Option<&'static Column>>,
    },
}

/// What a read prints: text, or a table that the output style formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Printed as it is (or on one line with `--oneline`).
    Text(String),
    /// `list` and `find`.
    Table(OutTable),
}

/// `--columns=a,b` (OVS's `parse_column_names`): names separated by commas
/// or spaces, `_uuid` allowed; every column of the table without it.
pub fn columns(table: Table, spec: Option<&str>) -> Result<Vec<Option<&'static Column>>, String> {
    let Some(spec) = spec else {
        return Ok(std::iter::once(None)
            .chain(table.columns().iter().map(Some))
            .collect());
    };
    let mut out = Vec::new();
    for name in spec.split([',', ' ']).filter(|n| !n.is_empty()) {
        if name.eq_ignore_ascii_case("_uuid") {
            out.push(None);
        } else {
            out.push(Some(column(table, name).map_err(ColumnError::message)?));
        }
    }
    if out.is_empty() {
        return Err("must specify at least one column name".into());
    }
    Ok(out)
}

/// One item of `get`: `_uuid`, `COLUMN` or `COLUMN:KEY`.
pub fn get_item(table: Table, arg: &str) -> Result<GetItem, String> {
    if arg.eq_ignore_ascii_case("_uuid") || arg.eq_ignore_ascii_case("-uuid") {
        return Ok(GetItem::Uuid);
    }
    let a = column_arg(table, arg, &[]).map_err(ColumnError::message)?;
    let key = match a.key {
        None => None,
        Some(_) if !a.column.ty.is_map() => {
            return Err(format!(
                "cannot specify key to get for non-map column {}",
                a.column.name
            ))
        }
        Some(k) => {
            let atom = parse_atom(&k, a.column.ty.key, false)?.remove(0);
            Some((atom, k))
        }
    };
    Ok(GetItem::Column(a.column, key))
}

/// Every operator of `find` (OVS's relops), longest match wins.
const RELOPS: &[&str] = &[
    "=", "!=", "<", ">", "<=", ">=", "{=}", "{!=}", "{<}", "{>}", "{<=}", "{>=}", "{in}", "{not-in}",
];

/// A condition of `find`: `COLUMN[:KEY]=VALUE` or `!=`.
pub fn condition(table: Table, arg: &str) -> Result<Condition, String> {
    let a = column_arg(table, arg, RELOPS).map_err(ColumnError::message)?;
    let equal = match RELOPS[a.op] {
        "=" => true,
        "!=" => false,
        other => {
            return Err(format!(
                "{arg}: operator \"{other}\" is not supported by switchd's find (only = and !=)"
            ))
        }
    };
    let text = a.value.unwrap_or_default();
    let (key, value) = match a.key {
        Some(_) if !a.column.ty.is_map() => {
            return Err(format!(
                "cannot specify key to check for non-map column {}",
                a.column.name
            ))
        }
        Some(k) => {
            let key = parse_atom(&k, a.column.ty.key, false)?.remove(0);
            (Some(key), parse_datum(&text, &a.column.ty.values_as_set())?)
        }
        None => (None, parse_datum(&text, &a.column.ty)?),
    };
    Ok(Condition {
        column: a.column,
        key,
        equal,
        value,
    })
}

impl Condition {
    /// Whether `row`'s value satisfies it (OVS's `check_condition` for `=`
    /// and `!=`: a missing key satisfies neither).
    fn holds(&self, table: Table, row: &crate::ovs::db::Row) -> bool {
        let have = row.get(table, self.column.name);
        let same = match &self.key {
            None => *have == self.value,
            Some(k) => match have.get(k) {
                None => return false,
                Some(v) => Datum::one(v.clone()) == self.value,
            },
        };
        same == self.equal
    }
}

fn bridge<'a>(bridges: &'a [BridgeInfo], name: &str) -> Result<&'a BridgeInfo, String> {
    bridges
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| format!("no bridge named {name}"))
}

/// Names one per line, sorted.
fn lines(mut names: Vec<String>) -> String {
    names.sort();
    names.iter().map(|n| format!("{n}\n")).collect()
}

fn uses_statistics(columns: &[Option<&Column>]) -> bool {
    columns.iter().flatten().any(|c| c.name == "statistics")
}

fn row_cells(db_table: Table, row: &crate::ovs::db::Row, columns: &[Option<&Column>]) -> Vec<Cell> {
    columns
        .iter()
        .map(|c| match c {
            None => Cell {
                datum: Datum::one(Atom::Uuid(row.uuid.clone())),
                ty: ColumnType::scalar(AtomType::Uuid),
            },
            Some(c) => Cell {
                datum: row.get(db_table, c.name).clone(),
                ty: c.ty,
            },
        })
        .collect()
}

fn headings(columns: &[Option<&Column>]) -> Vec<String> {
    columns
        .iter()
        .map(|c| c.map_or("_uuid", |c| c.name).to_owned())
        .collect()
}

impl Read {
    /// Whether it needs the `statistics` column (so `port-stats`).
    pub fn needs_stats(&self) -> bool {
        match self {
            Read::Get {
                table: Table::Interface,
                items,
                ..
            } => items
                .iter()
                .any(|i| matches!(i, GetItem::Column(c, _) if c.name == "statistics")),
            Read::List {
                table: Table::Interface,
                columns,
                ..
            } => uses_statistics(columns),
            Read::Find {
                table: Table::Interface,
                columns,
                conditions,
            } => uses_statistics(columns) || conditions.iter().any(|c| c.column.name == "statistics"),
            _ => false,
        }
    }

    /// What it prints from `snap`, or why it fails.
    pub fn run(&self, snap: &Snapshot) -> Result<Output, String> {
        let bridges = &snap.bridges;
        let text = match self {
            Read::Show => format::show(&root_uuid(bridges), bridges, &version()),
            Read::ListBr(real) => {
                if *real {
                    lines(bridges.iter().map(|b| b.name.clone()).collect())
                } else {
                    String::new()
                }
            }
            // As OVS, without the bridge's local port (the port named after it).
            Read::ListPorts(b) => lines(
                bridge(bridges, b)?
                    .ports
                    .iter()
                    .filter(|p| p.name != *b)
                    .map(|p| p.name.clone())
                    .collect(),
            ),
            Read::ListIfaces(b) => lines(
                bridge(bridges, b)?
                    .ports
                    .iter()
                    .filter(|p| p.name != *b)
                    .flat_map(iface_names)
                    .collect(),
            ),
            Read::PortToBr(p) => bridges
                .iter()
                .find(|b| b.ports.iter().any(|q| q.name == *p))
                .map(|b| format!("{}\n", b.name))
                .ok_or_else(|| format!("no port named {p}"))?,
            Read::IfaceToBr(i) => bridges
                .iter()
                .find(|b| b.ports.iter().any(|q| iface_names(q).contains(i)))
                .map(|b| format!("{}\n", b.name))
                .ok_or_else(|| format!("no interface named {i}"))?,
            Read::BrToVlan(b) => {
                bridge(bridges, b)?;
                "0\n".into()
            }
            Read::BrToParent(b) => format!("{}\n", bridge(bridges, b)?.name),
            Read::BrExternalId(b, key) => {
                let ids = &bridge(bridges, b)?.external_ids;
                match key {
                    Some(k) => ids.get(k).map(|v| format!("{v}\n")).unwrap_or_default(),
                    None => ids.iter().map(|(k, v)| format!("{k}={v}\n")).collect(),
                }
            }
            Read::GetController(b) => lines(
                bridge(bridges, b)?
                    .controllers
                    .iter()
                    .map(|c| c.target.clone())
                    .collect(),
            ),
            Read::GetFailMode(b) => format!("{}\n", bridge(bridges, b)?.fail_mode),
            Read::Get {
                table,
                record,
                items,
                must_exist,
            } => return get(&Db::new(snap), *table, record, items, *must_exist).map(Output::Text),
            Read::List {
                table,
                records,
                columns,
                must_exist,
            } => {
                let db = Db::new(snap);
                let mut rows = Vec::new();
                if records.is_empty() {
                    rows.extend(db.rows(*table));
                }
                for r in records {
                    let row = if *must_exist {
                        Some(db.must_row(*table, r)?)
                    } else {
                        db.row(*table, r)?
                    };
                    rows.extend(row);
                }
                return Ok(Output::Table(OutTable {
                    headings: headings(columns),
                    rows: rows.iter().map(|r| row_cells(*table, r, columns)).collect(),
                }));
            }
            Read::Find {
                table,
                conditions,
                columns,
            } => {
                let db = Db::new(snap);
                let rows = db
                    .rows(*table)
                    .iter()
                    .filter(|r| conditions.iter().all(|c| c.holds(*table, r)))
                    .map(|r| row_cells(*table, r, columns))
                    .collect();
                return Ok(Output::Table(OutTable {
                    headings: headings(columns),
                    rows,
                }));
            }
        };
        Ok(Output::Text(text))
    }
}

/// `get`: one line per item (OVS's `cmd_get`). A key missing from a map is
/// an error unless `--if-exists`, which prints an empty line for it. A key
/// of `other_config` that switchd has prints its value in force even when
/// not set.
fn get(db: &Db, table: Table, record: &str, items: &[GetItem], must_exist: bool) -> Result<String, String> {
    let row = if must_exist {
        db.must_row(table, record)?
    } else {
        match db.row(table, record)? {
            Some(r) => r,
            None => return Ok(String::new()),
        }
    };
    let mut out = String::new();
    for item in items {
        match item {
            GetItem::Uuid => out.push_str(&row.uuid),
            GetItem::Column(c, None) => out.push_str(&row.get(table, c.name).to_text(&c.ty)),
            GetItem::Column(c, Some((key, typed))) => {
                let datum = row.get(table, c.name);
                let found = datum.get(key).or_else(|| {
                    (c.name == "other_config")
                        .then(|| row.in_force.get(key))
                        .flatten()
                });
                match found {
                    Some(v) => out.push_str(&v.to_text()),
                    None if must_exist => {
                        return Err(format!(
                            "no key \"{typed}\" in {} record \"{record}\" column {}",
                            table.name(),
                            c.name
                        ))
                    }
                    None => {}
                }
            }
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovs::db::tests::{bridge as br, port};
    use crate::ovs::db::uuid;

    fn snap() -> Snapshot {
        let mut vnet = port("vnet0", 1, &["tag=10"]);
        vnet.config
            .external_ids
            .insert("attached-mac".into(), "52:54:00:12:34:56".into());
        vnet.config
            .external_ids
            .insert("iface-status".into(), "active".into());
        Snapshot {
            bridges: vec![
                br(
                    "br0",
                    1,
                    vec![vnet, port("gre0", 2, &["type=gre", "remote_ip=192.168.20.2"])],
                ),
                br("br-in", 2, vec![port("vif0.0", 3, &[])]),
            ],
            stats: vec![proto::PortStats {
                bridge: "br0".into(),
                port: "vnet0".into(),
                rx_packets: 2,
                rx_bytes: 120,
                ..proto::PortStats::default()
            }],
        }
    }

    fn text(r: Read) -> String {
        match r.run(&snap()) {
            Ok(Output::Text(t)) => t,
            other => panic!("{r:?}: {other:?}"),
        }
    }

    fn get_line(table: Table, record: &str, items: &[&str], must_exist: bool) -> Result<String, String> {
        let items = items
            .iter()
            .map(|i| get_item(table, i))
            .collect::<Result<Vec<_>, _>>()?;
        match (Read::Get {
            table,
            record: record.into(),
            items,
            must_exist,
        })
        .run(&snap())?
        {
            Output::Text(t) => Ok(t),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn name_commands() {
        assert_eq!(text(Read::ListBr(true)), "br-in\nbr0\n");
        assert_eq!(text(Read::ListBr(false)), "");
        assert_eq!(text(Read::ListPorts("br0".into())), "gre0\nvnet0\n");
        assert_eq!(text(Read::ListIfaces("br0".into())), "gre0\nvnet0\n");
        assert_eq!(text(Read::PortToBr("vif0.0".into())), "br-in\n");
        assert_eq!(text(Read::IfaceToBr("vnet0".into())), "br0\n");
        assert_eq!(text(Read::BrToVlan("br0".into())), "0\n");
        assert_eq!(text(Read::BrToParent("br0".into())), "br0\n");
        assert_eq!(text(Read::GetFailMode("br0".into())), "standalone\n");
        assert_eq!(
            Read::PortToBr("nosuch".into()).run(&snap()),
            Err("no port named nosuch".into())
        );
        assert_eq!(
            Read::IfaceToBr("nosuch".into()).run(&snap()),
            Err("no interface named nosuch".into())
        );
        assert_eq!(
            Read::ListPorts("nosuch".into()).run(&snap()),
            Err("no bridge named nosuch".into())
        );
    }

    #[test]
    fn get_as_ovs_prints_it() {
        assert_eq!(
            get_line(
                Table::Interface,
                "vnet0",
                &[
                    "external_ids:attached-mac",
                    "external_ids:iface-status",
                    "name",
                    "type",
                    "ofport"
                ],
                true
            ),
            Ok("\"52:54:00:12:34:56\"\nactive\nvnet0\n\"\"\n1\n".into())
        );
        assert_eq!(
            get_line(Table::Interface, "gre0", &["options", "external_ids"], true),
            Ok("{remote_ip=\"192.168.20.2\"}\n{}\n".into())
        );
        assert_eq!(
            get_line(Table::Interface, "vnet0", &["external_ids:PortData"], true),
            Err("no key \"PortData\" in Interface record \"vnet0\" column external_ids".into())
        );
        assert_eq!(
            get_line(Table::Interface, "vnet0", &["external_ids:PortData"], false),
            Ok("\n".into())
        );
        assert_eq!(
            get_line(Table::Interface, "nosuch", &["name"], false),
            Ok("".into())
        );
        assert_eq!(
            get_line(Table::Interface, "nosuch", &["name"], true),
            Err("no row \"nosuch\" in table Interface".into())
        );
        assert_eq!(
            get_line(
                Table::Port,
                "vnet0",
                &["tag", "trunks", "vlan_mode", "_uuid"],
                true
            ),
            Ok(format!("10\n[]\n[]\n{}\n", uuid("Port", "vnet0")))
        );
        assert_eq!(
            get_line(Table::Port, "vnet0", &["tag:x"], true),
            Err("cannot specify key to get for non-map column tag".into())
        );
        assert_eq!(
            get_line(
                Table::Bridge,
                "br0",
                &["other_config:mac-aging-time", "other_config"],
                true
            ),
            Ok("\"300\"\n{}\n".into())
        );
        assert_eq!(
            get_line(Table::OpenVswitch, ".", &["ovs_version"], true),
            Ok(format!("\"{}\"\n", version()))
        );
        assert_eq!(
            get_line(Table::Interface, "vnet0", &["statistics:rx_bytes"], true),
            Ok("120\n".into())
        );
    }

    /// `list interface gre0` of the KVM recipe, as Open vSwitch 3.1 printed
    /// it, reduced to the columns switchd has and with switchd's values
    /// (the port is down: its error, no state, no counters yet).
    #[test]
    fn list_interface_record_like_ovs() {
        let mut gre = port("gre0", 2, &["type=gre", "remote_ip=192.168.20.2"]);
        gre.state = proto::PortState::Down {
            reason: "no such device".into(),
        };
        gre.mtu = Some(1462);
        let snap = Snapshot {
            bridges: vec![br("br-in", 1, vec![gre])],
            stats: Vec::new(),
        };
        let r = Read::List {
            table: Table::Interface,
            records: vec!["gre0".into()],
            columns: columns(Table::Interface, None).unwrap(),
            must_exist: true,
        };
        let Ok(Output::Table(t)) = r.run(&snap) else {
            panic!()
        };
        let text = format::table(&t, &crate::ovs::args::Style::default(), &mut true);
        assert_eq!(
            text,
            format!(
                "_uuid               : {}
admin_state         : []
error               : \"no such device\"
external_ids        : {{}}
ingress_policing_burst: 0
ingress_policing_rate: 0
link_state          : []
mac_in_use          : []
mtu                 : 1462
mtu_request         : []
name                : gre0
ofport              : 2
ofport_request      : []
options             : {{remote_ip=\"192.168.20.2\"}}
statistics          : {{}}
type                : gre
",
                uuid("Interface", "gre0")
            )
        );
    }

    #[test]
    fn list_and_find() {
        let list = Read::List {
            table: Table::Interface,
            records: vec!["vnet0".into(), "nosuch".into()],
            columns: columns(Table::Interface, Some("statistics")).unwrap(),
            must_exist: false,
        };
        assert!(list.needs_stats());
        let Ok(Output::Table(t)) = list.run(&snap()) else {
            panic!()
        };
        assert_eq!(t.headings, ["statistics"]);
        assert_eq!(t.rows.len(), 1);
        let strict = Read::List {
            table: Table::Interface,
            records: vec!["nosuch".into()],
            columns: columns(Table::Interface, None).unwrap(),
            must_exist: true,
        };
        assert_eq!(
            strict.run(&snap()),
            Err("no row \"nosuch\" in table Interface".into())
        );
        let all = columns(Table::Port, None).unwrap();
        assert_eq!(all[0], None);
        assert_eq!(all.len(), Table::Port.columns().len() + 1);
        assert_eq!(
            columns(Table::Port, Some("name, tag")).unwrap(),
            vec![column(Table::Port, "name").ok(), column(Table::Port, "tag").ok()]
        );
        assert_eq!(
            columns(Table::Port, Some(",")),
            Err("must specify at least one column name".into())
        );

        let find = |conds: &[&str]| {
            let conditions = conds
                .iter()
                .map(|c| condition(Table::Interface, c))
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let r = Read::Find {
                table: Table::Interface,
                conditions,
                columns: columns(Table::Interface, Some("name")).unwrap(),
            };
            match r.run(&snap()).unwrap() {
                Output::Table(t) => t.rows.iter().map(|r| r[0].datum.to_bare()).collect::<Vec<_>>(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(find(&["type=gre"]), ["gre0"]);
        assert_eq!(find(&["name=vnet0"]), ["vnet0"]);
        assert_eq!(find(&["external_ids:iface-status=active"]), ["vnet0"]);
        assert_eq!(find(&["external_ids:iface-status!=active"]), Vec::<String>::new());
        assert_eq!(find(&["type!=gre"]), ["vnet0", "vif0.0"]);
        assert_eq!(find(&["ofport=3"]), ["vif0.0"]);
        assert_eq!(find(&[]).len(), 3);
        assert_eq!(
            condition(Table::Interface, "ofport<3").unwrap_err(),
            "ofport<3: operator \"<\" is not supported by switchd's find (only = and !=)"
        );
        assert_eq!(
            condition(Table::Interface, "ofport=x").unwrap_err(),
            "\"x\" is not a valid integer or range"
        );
    }
}

//! Output in the shapes `ovs-vsctl` prints: the tables of `list` and `find`
//! in each `--format` (OVS's `lib/table.c`), and the `show` tree (OVS's
//! `cmd_show` with `ovs-vsctl`'s table of what it shows).
//!
//! Pure functions from values to the exact text, unit-tested against
//! samples captured from Open vSwitch 3.1 (with switchd's values).

use std::fmt::Write as _;

use proto::{BridgeInfo, ControllerState, PortState};

use crate::ovs::args::{Data, Format, Style};
use crate::ovs::datum::{Atom, ColumnType, Datum};

/// One cell: a value and its column's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The value.
    pub datum: Datum,
    /// Its type (for brackets and JSON).
    pub ty: ColumnType,
}

impl Cell {
    fn text(&self, data: Data) -> String {
        match data {
            Data::String => self.datum.to_text(&self.ty),
            Data::Bare => self.datum.to_bare(),
            Data::Json => self.datum.to_json(&self.ty),
        }
    }
}

/// The result of `list` or `find`: a heading per column, a row per record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Column names.
    pub headings: Vec<String>,
    /// Records.
    pub rows: Vec<Vec<Cell>>,
}

/// Prints `table` in `style`. Every table but the first of a command line
/// starts with an empty line (except in JSON), as OVS prints them;
/// `first` says whether one was printed before and is updated.
pub fn table(t: &Table, style: &Style, first: &mut bool) -> String {
    let mut out = String::new();
    if style.format != Format::Json {
        if !*first {
            out.push('\n');
        }
        *first = false;
    }
    match style.format {
        Format::List => {
            for (y, row) in t.rows.iter().enumerate() {
                if y > 0 {
                    out.push('\n');
                }
                for (heading, cell) in t.headings.iter().zip(row) {
                    if style.headings {
                        let _ = write!(out, "{heading:<20}: ");
                    }
                    out.push_str(&cell.text(style.data));
                    out.push('\n');
                }
            }
        }
        Format::Table => {
            let texts: Vec<Vec<String>> = t
                .rows
                .iter()
                .map(|r| r.iter().map(|c| c.text(style.data)).collect())
                .collect();
            let widths: Vec<usize> = t
                .headings
                .iter()
                .enumerate()
                .map(|(x, h)| {
                    let mut w = texts.iter().map(|r| r[x].chars().count()).max().unwrap_or(0);
                    if style.max_width > 0 {
                        w = w.min(style.max_width);
                    }
                    if style.headings {
                        w = w.max(h.chars().count());
                    }
                    w
                })
                .collect();
            let mut line = |cells: Vec<String>| {
                let l: Vec<String> = cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| {
                        let cut: String = c.chars().take(*w).collect();
                        format!("{cut:<w$}")
                    })
                    .collect();
                out.push_str(l.join(" ").trim_end_matches(' '));
                out.push('\n');
            };
            if style.headings {
                line(t.headings.clone());
                line(widths.iter().map(|w| "-".repeat(*w)).collect());
            }
            for r in texts {
                line(r);
            }
        }
        Format::Csv => {
            let csv = |s: &str| {
                if s.contains(['\n', '"', ',']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_owned()
                }
            };
            if style.headings {
                let h: Vec<String> = t.headings.iter().map(|h| csv(h)).collect();
                out.push_str(&h.join(","));
                out.push('\n');
            }
            for r in &t.rows {
                let cells: Vec<String> = r.iter().map(|c| csv(&c.text(style.data))).collect();
                out.push_str(&cells.join(","));
                out.push('\n');
            }
        }
        Format::Json => {
            let rows: Vec<String> = t
                .rows
                .iter()
                .map(|r| {
                    let cells: Vec<String> = r.iter().map(|c| c.datum.to_json(&c.ty)).collect();
                    format!("[{}]", cells.join(","))
                })
                .collect();
            let headings: Vec<String> = t
                .headings
                .iter()
                .map(|h| crate::ovs::datum::json_string(h))
                .collect();
            let _ = writeln!(
                out,
                "{{\"data\":[{}],\"headings\":[{}]}}",
                rows.join(","),
                headings.join(",")
            );
        }
    }
    out
}

/// `--oneline`: a command's output on one line, its newlines written `\n`
/// and its backslashes doubled; a command without output prints an empty
/// line.
pub fn oneline(text: &str) -> String {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut out = body.replace('\\', "\\\\").replace('\n', "\\n");
    out.push('\n');
    out
}

/// A name as `show` prints it (quoted when it is not bare-safe).
fn name(s: &str) -> String {
    Atom::str(s).to_text()
}

/// `show`: the tree `ovs-vsctl show` prints, from the root row's UUID down
/// to each interface, then `ovs_version`. Per bridge its controllers (with
/// `is_connected: true` when connected), `fail_mode` when it is not the
/// default and `datapath_type` (always `netdev`); per port `tag` and `trunks` when set; per interface `type`
/// (nothing for a system port), `options` and `error` when it has them.
pub fn show(root_uuid: &str, bridges: &[BridgeInfo], version: &str) -> String {
    let mut out = format!("{root_uuid}\n");
    for b in bridges {
        let _ = writeln!(out, "    Bridge {}", name(&b.name));
        for c in &b.controllers {
            let _ = writeln!(out, "        Controller {}", name(&c.target));
            if c.state == ControllerState::Connected {
                out.push_str("            is_connected: true\n");
            }
        }
        if b.fail_mode != proto::FailMode::default() {
            let _ = writeln!(out, "        fail_mode: {}", b.fail_mode);
        }
        let _ = writeln!(out, "        datapath_type: {}", crate::ovs::db::DATAPATH_TYPE);
        for p in &b.ports {
            let _ = writeln!(out, "        Port {}", name(&p.name));
            if let Some(tag) = p.config.tag {
                let _ = writeln!(out, "            tag: {tag}");
            }
            if let Some(trunks) = p.config.trunks.as_ref().filter(|t| !t.is_empty()) {
                let list: Vec<String> = trunks.iter().map(|v| v.to_string()).collect();
                let _ = writeln!(out, "            trunks: [{}]", list.join(", "));
            }
            if p.config.port_type.is_bond() {
                for m in p.config.members() {
                    let _ = writeln!(out, "            Interface {}", name(m.as_str()));
                }
                continue;
            }
            let _ = writeln!(out, "            Interface {}", name(&p.name));
            let ty = crate::ovs::db::type_name(p.config.port_type);
            if !ty.is_empty() {
                let _ = writeln!(out, "                type: {}", name(ty));
            }
            let options = crate::ovs::db::options(p);
            if !options.is_empty() {
                let ty = ColumnType::map(crate::ovs::datum::AtomType::Str, crate::ovs::datum::AtomType::Str);
                let _ = writeln!(out, "                options: {}", options.to_text(&ty));
            }
            if let PortState::Down { reason } = &p.state {
                let _ = writeln!(
                    out,
                    "                error: {}",
                    crate::ovs::datum::json_string(reason)
                );
            }
        }
    }
    let _ = writeln!(out, "    ovs_version: {}", name(version));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovs::datum::AtomType;
    use crate::ovs::db::tests::{bridge, port};
    use proto::{ControllerInfo, ControllerRole, FailMode};

    fn sample_table() -> Table {
        let int = ColumnType::optional(AtomType::Int);
        let trunks = ColumnType::set(AtomType::Int, 0, 4096);
        let name = ColumnType::scalar(AtomType::Str);
        let ext = ColumnType::map(AtomType::Str, AtomType::Str);
        let row = |n: &str, tag: Option<i64>, tr: &[i64]| {
            vec![
                Cell {
                    datum: Datum::one(Atom::str(n)),
                    ty: name,
                },
                Cell {
                    datum: Datum::optional(tag.map(Atom::Int)),
                    ty: int,
                },
                Cell {
                    datum: Datum::set(tr.iter().copied().map(Atom::Int)),
                    ty: trunks,
                },
                Cell {
                    datum: Datum::empty(),
                    ty: ext,
                },
            ]
        };
        Table {
            headings: ["name", "tag", "trunks", "external_ids"]
                .map(String::from)
                .to_vec(),
            rows: vec![row("br-in", None, &[]), row("vif0.0", Some(10), &[10, 20])],
        }
    }

    fn style(format: Format, data: Data, headings: bool) -> Style {
        Style {
            format,
            data,
            headings,
            max_width: 0,
        }
    }

    // The expected texts below are what Open vSwitch 3.1 printed for the
    // same rows (`--columns=name,tag,trunks,external_ids list port`).
    #[test]
    fn list_format() {
        let mut first = true;
        let t = table(&sample_table(), &Style::default(), &mut first);
        assert_eq!(
            t,
            "name                : br-in\ntag                 : []\ntrunks              : []\n\
             external_ids        : {}\n\nname                : vif0.0\ntag                 : 10\n\
             trunks              : [10, 20]\nexternal_ids        : {}\n"
        );
        assert!(!first);
        // A second table of the same command line starts with an empty line.
        let again = table(&sample_table(), &Style::default(), &mut first);
        assert!(again.starts_with("\nname"), "{again}");
        let long = Table {
            headings: vec!["mcast_snooping_enable".into()],
            rows: vec![vec![Cell {
                datum: Datum::one(Atom::Bool(false)),
                ty: ColumnType::scalar(AtomType::Bool),
            }]],
        };
        assert_eq!(
            table(&long, &Style::default(), &mut true),
            "mcast_snooping_enable: false\n"
        );
    }

    #[test]
    fn table_csv_json_formats() {
        assert_eq!(
            table(
                &sample_table(),
                &style(Format::Table, Data::String, true),
                &mut true
            ),
            "name   tag trunks   external_ids\n------ --- -------- ------------\nbr-in  []  []       {}\n\
             vif0.0 10  [10, 20] {}\n"
        );
        assert_eq!(
            table(
                &sample_table(),
                &style(Format::Table, Data::Json, true),
                &mut true
            ),
            "name     tag        trunks          external_ids\n-------- ---------- --------------- \
             ------------\n\"br-in\"  [\"set\",[]] [\"set\",[]]      [\"map\",[]]\n\"vif0.0\" 10         \
             [\"set\",[10,20]] [\"map\",[]]\n"
        );
        assert_eq!(
            table(
                &sample_table(),
                &style(Format::Csv, Data::String, true),
                &mut true
            ),
            "name,tag,trunks,external_ids\nbr-in,[],[],{}\nvif0.0,10,\"[10, 20]\",{}\n"
        );
        assert_eq!(
            table(
                &sample_table(),
                &style(Format::Json, Data::String, true),
                &mut true
            ),
            "{\"data\":[[\"br-in\",[\"set\",[]],[\"set\",[]],[\"map\",[]]],[\"vif0.0\",10,[\"set\",[10,20]],\
             [\"map\",[]]]],\"headings\":[\"name\",\"tag\",\"trunks\",\"external_ids\"]}\n"
        );
        assert_eq!(
            table(
                &sample_table(),
                &style(Format::List, Data::Bare, false),
                &mut true
            ),
            "br-in\n\n\n\n\nvif0.0\n10\n10 20\n\n"
        );
        // As OVS 3.1 with --max-column-width=3 --no-headings.
        let mut narrow = style(Format::Table, Data::String, false);
        narrow.max_width = 3;
        assert_eq!(
            table(&sample_table(), &narrow, &mut true),
            "br- [] []  {}\nvif 10 [10 {}\n"
        );
    }

    #[test]
    fn libvirt_statistics_line() {
        let stats = Table {
            headings: vec!["statistics".into()],
            rows: vec![vec![Cell {
                datum: Datum::map([
                    (Atom::str("rx_bytes"), Atom::Int(0)),
                    (Atom::str("tx_packets"), Atom::Int(3)),
                ]),
                ty: ColumnType::map(AtomType::Str, AtomType::Int),
            }]],
        };
        let st = style(Format::List, Data::Json, false);
        assert_eq!(
            table(&stats, &st, &mut true),
            "[\"map\",[[\"rx_bytes\",0],[\"tx_packets\",3]]]\n"
        );
        assert_eq!(table(&Table::default(), &st, &mut true), "");
    }

    #[test]
    fn oneline_escapes() {
        assert_eq!(oneline("br-in\nx\n"), "br-in\\nx\n");
        assert_eq!(oneline(""), "\n");
        assert_eq!(oneline("a\\b\n"), "a\\\\b\n");
    }

    // What Open vSwitch 3.1 printed for the KVM recipe (add-br br-in,
    // add-port vif0.0 with tag 10, add-port gre0 set to gre), controllers
    // and fail_mode added, with switchd's values where they differ: no
    // local port named like the bridge, switchd's version, the error of a
    // port whose device is missing.
    #[test]
    fn show_tree_like_ovs() {
        let mut gre = port("gre0", 2, &["type=gre", "remote_ip=192.168.20.2"]);
        gre.state = PortState::Down {
            reason: "no such device".into(),
        };
        let mut b = bridge(
            "br-in",
            1,
            vec![
                port(
                    "vif0.0",
                    1,
                    &["tag=10", "vlan_mode=native-untagged", "trunks=10,20"],
                ),
                gre,
                port("tap0", 3, &["type=tap"]),
            ],
        );
        b.fail_mode = FailMode::Secure;
        let c = |target: &str, state| ControllerInfo {
            target: target.into(),
            state,
            role: ControllerRole::Equal,
            version: None,
            last_error: None,
            packet_ins_dropped: 0,
        };
        b.controllers = vec![
            c("tcp:127.0.0.1:6653", ControllerState::Connected),
            c("ptcp:6654", ControllerState::Listening),
        ];
        let text = show("08c04e88-b0e0-4616-8165-91833fe73019", &[b], "switchd 0.1.0");
        assert_eq!(
            text,
            "08c04e88-b0e0-4616-8165-91833fe73019
    Bridge br-in
        Controller \"tcp:127.0.0.1:6653\"
            is_connected: true
        Controller \"ptcp:6654\"
        fail_mode: secure
        datapath_type: netdev
        Port vif0.0
            tag: 10
            trunks: [10, 20]
            Interface vif0.0
        Port gre0
            Interface gre0
                type: gre
                options: {remote_ip=\"192.168.20.2\"}
                error: \"no such device\"
        Port tap0
            Interface tap0
                type: internal
    ovs_version: \"switchd 0.1.0\"
"
        );
    }
}

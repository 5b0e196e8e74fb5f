//! How replies are printed: aligned human tables, or `--json`.
//!
//! Everything here is a pure function from a [`Reply`] (or part of one) to
//! the exact text printed, so layout is unit-tested. JSON output is the
//! reply's data in proto's own serde form (its field names are part of the
//! contract, see `proto::reply`); a change prints `{}` so scripts can always
//! parse stdout.

use std::fmt::Write as _;

use proto::{BridgeInfo, FdbEntry, PortInfo, PortState, PortStats, Reply, VlanMode};

/// Human output for a reply; empty for a change (like `ovs-vsctl`) and for
/// `fdb-flush`.
pub fn human(reply: &Reply) -> String {
    match reply {
        Reply::Done | Reply::Flushed { .. } => String::new(),
        Reply::Names(names) => names_list(names),
        Reply::Show(bridges) => show(bridges),
        Reply::Fdb(entries) => fdb(entries),
        Reply::Stats(stats) => port_stats(stats),
    }
}

/// `--json` output for a reply: pretty JSON plus a newline. Changes give
/// `{}`, lists an array, `fdb-flush` `{"removed": N}`.
///
/// # Errors
///
/// Only if serialisation fails, which proto's types do not do.
pub fn json(reply: &Reply) -> Result<String, serde_json::Error> {
    let value = match reply {
        Reply::Done => serde_json::json!({}),
        Reply::Names(names) => serde_json::to_value(names)?,
        Reply::Show(bridges) => serde_json::to_value(bridges)?,
        Reply::Fdb(entries) => serde_json::to_value(entries)?,
        Reply::Flushed { removed } => serde_json::json!({ "removed": removed }),
        Reply::Stats(stats) => serde_json::to_value(stats)?,
    };
    let mut out = serde_json::to_string_pretty(&value)?;
    out.push('\n');
    Ok(out)
}

/// One name per line (`list-br`, `list-ports`).
pub fn names_list(names: &[String]) -> String {
    names.iter().map(|n| format!("{n}\n")).collect()
}

/// `show`: per bridge a header line, then an indented table of its ports.
/// Bridges are separated by an empty line; no bridges print nothing.
pub fn show(bridges: &[BridgeInfo]) -> String {
    let mut out = String::new();
    for (i, b) in bridges.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "bridge {}: mac_aging={} mac_table_size={} mac_entries={}",
            b.name, b.mac_aging, b.mac_table_size, b.mac_entries
        );
        if b.ports.is_empty() {
            out.push_str("  (no ports)\n");
            continue;
        }
        let rows: Vec<Vec<String>> = b
            .ports
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.port_type.to_string(),
                    vlan_summary(p),
                    p.mtu.map_or_else(|| "-".to_owned(), |m| m.to_string()),
                    state_summary(&p.state),
                    options_summary(p),
                ]
            })
            .collect();
        use Align::Left as L;
        out.push_str(&table(
            "  ",
            &[
                ("PORT", L),
                ("TYPE", L),
                ("VLAN", L),
                ("MTU", Align::Right),
                ("STATE", L),
                ("OPTIONS", L),
            ],
            &rows,
        ));
    }
    out
}

/// The VLAN column of `show`: the effective mode with what it uses, e.g.
/// `access tag=10`, `trunk all`, `trunk 10,20`, `native-untagged tag=10
/// trunks=20-30`.
pub fn vlan_summary(p: &PortInfo) -> String {
    let tag = p.config.tag.map(|t| format!(" tag={t}")).unwrap_or_default();
    // proto: no trunks (or an empty set) means every VLAN
    let trunks = match &p.config.trunks {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => "all".to_owned(),
    };
    match p.vlan_mode {
        VlanMode::Access => format!("access{tag}"),
        VlanMode::Trunk => format!("trunk {trunks}"),
        m @ (VlanMode::NativeTagged | VlanMode::NativeUntagged) => format!("{m}{tag} trunks={trunks}"),
    }
}

/// `up`, or `down (reason)`.
pub fn state_summary(s: &PortState) -> String {
    match s {
        PortState::Up => "up".to_owned(),
        PortState::Down { reason } if reason.is_empty() => "down".to_owned(),
        PortState::Down { reason } => format!("down ({reason})"),
    }
}

/// The type-specific settings of a port as `KEY=VALUE`s, in `--help` order.
fn options_summary(p: &PortInfo) -> String {
    let c = &p.config;
    let mut opts = Vec::new();
    if let Some(a) = c.remote_ip {
        opts.push(format!("remote_ip={a}"));
    }
    if let Some(a) = c.local_ip {
        opts.push(format!("local_ip={a}"));
    }
    if let Some(k) = c.key {
        opts.push(format!("key={k}"));
    }
    if let Some(d) = c.dst_port {
        opts.push(format!("dst_port={d}"));
    }
    if let Some(path) = &c.path {
        opts.push(format!("path={}", path.display()));
    }
    if let Some(m) = c.mode {
        opts.push(format!("mode={m:04o}"));
    }
    if c.persist {
        opts.push("persist=true".to_owned());
    }
    opts.join(" ")
}

/// `fdb-show`: `PORT VLAN MAC AGE` (OVS `fdb/show` order, port names),
/// rows in the order received (oldest first), numbers right-aligned.
pub fn fdb(entries: &[FdbEntry]) -> String {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.port.clone(),
                e.vlan.to_string(),
                e.mac.to_string(),
                e.age.to_string(),
            ]
        })
        .collect();
    table(
        "",
        &[
            ("PORT", Align::Left),
            ("VLAN", Align::Right),
            ("MAC", Align::Left),
            ("AGE", Align::Right),
        ],
        &rows,
    )
}

/// `port-stats`: one row of counters per port, then one line per port that
/// dropped frames, naming each reason, most frequent first.
pub fn port_stats(stats: &[PortStats]) -> String {
    let rows: Vec<Vec<String>> = stats
        .iter()
        .map(|s| {
            let mut row = vec![s.bridge.clone(), s.port.clone()];
            row.extend(
                [
                    s.rx_packets,
                    s.rx_bytes,
                    s.rx_dropped,
                    s.rx_errors,
                    s.tx_packets,
                    s.tx_bytes,
                    s.tx_dropped,
                    s.tx_errors,
                ]
                .iter()
                .map(u64::to_string),
            );
            row
        })
        .collect();
    let r = Align::Right;
    let mut out = table(
        "",
        &[
            ("BRIDGE", Align::Left),
            ("PORT", Align::Left),
            ("RX_PKTS", r),
            ("RX_BYTES", r),
            ("RX_DROP", r),
            ("RX_ERR", r),
            ("TX_PKTS", r),
            ("TX_BYTES", r),
            ("TX_DROP", r),
            ("TX_ERR", r),
        ],
        &rows,
    );
    let mut first = true;
    for s in stats {
        let mut reasons: Vec<(&String, u64)> = s
            .drops
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k, *n))
            .collect();
        if reasons.is_empty() {
            continue;
        }
        if first {
            out.push_str("\ndrops by reason:\n");
            first = false;
        }
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let list: Vec<String> = reasons.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(
            out,
            "  port {} ({}): dropped {}",
            s.port,
            s.bridge,
            list.join(", ")
        );
    }
    out
}

/// Column alignment in [`table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// A header plus rows, columns separated by two spaces and padded to the
/// widest cell; trailing blanks are trimmed so an empty last column leaves
/// nothing behind. Width counts characters, not bytes.
fn table(indent: &str, columns: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = columns.iter().map(|(h, _)| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = columns.iter().map(|(h, _)| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::from(indent);
        for (i, ((cell, w), (_, align))) in row.iter().zip(&widths).zip(columns).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = w - cell.chars().count();
            match align {
                Align::Left => {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                Align::Right => {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use proto::{MacAddr, PortConfig, PortSetting, PortType};

    fn port(name: &str, settings: &[&str], state: PortState, mtu: Option<u32>) -> PortInfo {
        let settings: Vec<PortSetting> = settings.iter().map(|s| s.parse().unwrap()).collect();
        let config = PortConfig::from_settings(&settings).unwrap();
        PortInfo {
            name: name.into(),
            port_type: config.port_type,
            vlan_mode: config.effective_vlan_mode(),
            config,
            state,
            mtu,
        }
    }

    fn down(reason: &str) -> PortState {
        PortState::Down {
            reason: reason.into(),
        }
    }

    #[test]
    fn vlan_column() {
        let v = |s: &[&str]| vlan_summary(&port("p", s, PortState::Up, None));
        assert_eq!(v(&[]), "trunk all");
        assert_eq!(v(&["tag=10"]), "access tag=10");
        assert_eq!(v(&["trunks=10,20"]), "trunk 10,20");
        assert_eq!(v(&["vlan_mode=trunk", "trunks=1-3,7"]), "trunk 1-3,7");
        assert_eq!(
            v(&["vlan_mode=native-untagged", "tag=10", "trunks=20-30"]),
            "native-untagged tag=10 trunks=20-30"
        );
        assert_eq!(
            v(&["vlan_mode=native-tagged", "tag=5"]),
            "native-tagged tag=5 trunks=all"
        );
    }

    #[test]
    fn show_aligns_columns_and_gives_down_reason() {
        let bridges = vec![
            BridgeInfo {
                name: "br0".into(),
                mac_aging: 300,
                mac_table_size: 8192,
                mac_entries: 3,
                ports: vec![
                    port("eth1", &[], PortState::Up, Some(1500)),
                    port(
                        "vnet0",
                        &["type=tap", "tag=10", "persist=true"],
                        down("no such device"),
                        None,
                    ),
                    port(
                        "vx0",
                        &["type=vxlan", "remote_ip=192.0.2.7", "key=42"],
                        PortState::Up,
                        Some(1450),
                    ),
                ],
            },
            BridgeInfo {
                name: "br1".into(),
                mac_aging: 60,
                mac_table_size: 16,
                mac_entries: 0,
                ports: vec![],
            },
        ];
        let expected = "\
bridge br0: mac_aging=300 mac_table_size=8192 mac_entries=3
  PORT   TYPE    VLAN            MTU  STATE                  OPTIONS
  eth1   system  trunk all      1500  up
  vnet0  tap     access tag=10     -  down (no such device)  persist=true
  vx0    vxlan   trunk all      1450  up                     remote_ip=192.0.2.7 key=42

bridge br1: mac_aging=60 mac_table_size=16 mac_entries=0
  (no ports)
";
        assert_eq!(show(&bridges), expected);
        assert_eq!(human(&Reply::Show(bridges)), expected);
        assert_eq!(show(&[]), "");
    }

    #[test]
    fn fdb_columns_keep_order() {
        let e = |port: &str, vlan, last, age| FdbEntry {
            port: port.into(),
            vlan,
            mac: MacAddr([2, 0, 0, 0, 0, last]),
            age,
        };
        let out = fdb(&[e("vnet12", 10, 1, 120), e("p1", 4095, 0xab, 3)]);
        assert_eq!(
            out,
            "\
PORT    VLAN  MAC                AGE
vnet12    10  02:00:00:00:00:01  120
p1      4095  02:00:00:00:00:ab    3
"
        );
        assert_eq!(fdb(&[]), "PORT  VLAN  MAC  AGE\n");
    }

    #[test]
    fn stats_table_and_drop_reasons() {
        let mut drops = BTreeMap::new();
        drops.insert("runt".to_owned(), 1);
        drops.insert("vlan-not-allowed".to_owned(), 3);
        drops.insert("zero".to_owned(), 0);
        let stats = vec![
            PortStats {
                bridge: "br0".into(),
                port: "p1".into(),
                rx_packets: 10,
                rx_bytes: 1200,
                rx_dropped: 4,
                tx_packets: 7,
                tx_bytes: 900,
                drops,
                ..Default::default()
            },
            PortStats {
                bridge: "br0".into(),
                port: "vnet0".into(),
                rx_packets: 123456,
                rx_bytes: 98765432,
                ..Default::default()
            },
        ];
        let expected = "\
BRIDGE  PORT   RX_PKTS  RX_BYTES  RX_DROP  RX_ERR  TX_PKTS  TX_BYTES  TX_DROP  TX_ERR
br0     p1          10      1200        4       0        7       900        0       0
br0     vnet0   123456  98765432        0       0        0         0        0       0

drops by reason:
  port p1 (br0): dropped 3 vlan-not-allowed, 1 runt
";
        assert_eq!(port_stats(&stats), expected);
    }

    #[test]
    fn human_for_changes_and_names() {
        assert_eq!(human(&Reply::Done), "");
        assert_eq!(human(&Reply::Flushed { removed: 9 }), "");
        assert_eq!(
            human(&Reply::Names(vec!["br0".into(), "br1".into()])),
            "br0\nbr1\n"
        );
        assert_eq!(human(&Reply::Names(vec![])), "");
    }

    #[test]
    fn json_shapes() {
        let parse = |r: &Reply| -> serde_json::Value { serde_json::from_str(&json(r).unwrap()).unwrap() };
        assert_eq!(json(&Reply::Done).unwrap(), "{}\n");
        assert_eq!(parse(&Reply::Names(vec!["a".into()])), serde_json::json!(["a"]));
        assert_eq!(parse(&Reply::Names(vec![])), serde_json::json!([]));
        assert_eq!(
            parse(&Reply::Flushed { removed: 5 }),
            serde_json::json!({"removed": 5})
        );
        let v = parse(&Reply::Fdb(vec![FdbEntry {
            port: "p1".into(),
            vlan: 10,
            mac: MacAddr([2, 0, 0, 0, 0, 1]),
            age: 7,
        }]));
        assert_eq!(
            v,
            serde_json::json!([{"port": "p1", "vlan": 10, "mac": "02:00:00:00:00:01", "age": 7}])
        );
        let v = parse(&Reply::Show(vec![BridgeInfo {
            name: "br0".into(),
            mac_aging: 300,
            mac_table_size: 8192,
            mac_entries: 0,
            ports: vec![port("vnet0", &["tag=10"], down("no such device"), None)],
        }]));
        assert_eq!(v[0]["name"], "br0");
        assert_eq!(v[0]["ports"][0]["type"], "system");
        assert_eq!(v[0]["ports"][0]["vlan_mode"], "access");
        assert_eq!(v[0]["ports"][0]["config"]["tag"], 10);
        assert_eq!(v[0]["ports"][0]["state"]["state"], "down");
        assert_eq!(v[0]["ports"][0]["state"]["reason"], "no such device");
        let v = parse(&Reply::Stats(vec![PortStats {
            bridge: "b".into(),
            port: "p".into(),
            rx_packets: 2,
            ..Default::default()
        }]));
        assert_eq!(v[0]["rx_packets"], 2);
        assert_eq!(v[0]["drops"], serde_json::json!({}));
        assert_eq!(PortType::default().as_str(), "system");
    }
}

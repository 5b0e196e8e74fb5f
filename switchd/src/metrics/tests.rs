//! Unit tests of the metrics endpoint, without root or an engine: the text
//! format (escaping, HELP/TYPE, empty families), the rendering of fixed
//! snapshots (one compared as exact text, one rich one run through the
//! naming rules `promtool check metrics` applies), the snapshot requests
//! against a fake engine, the reuse of a recent snapshot, the request
//! parser, and the HTTP server on a loopback socket (statuses, limits,
//! timeouts, a stuck client).

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use proto::{
    BondInfo, BondMemberInfo, BondMode, BridgeInfo, ControllerInfo, ControllerRole, ControllerState, Error,
    ErrorKind, FailMode, FlowInfo, FlowsInfo, LacpBondInfo, LacpMemberInfo, LacpMode, LacpState, LacpStatus,
    LacpSystem, MacAddr, OfVersions, PortConfig, PortInfo, PortState, PortStats, PortType, Reply, Request,
    RstpBridgeConfig, RstpBridgeInfo, RstpPortId, RstpPortInfo, RstpProtocol, RstpRole, RstpState, VlanMode,
};

use super::exposition::{Exposition, Kind};
use super::http::{self, parse_request, Limits, RequestLine, Status};
use super::render::render;
use super::snapshot::{collect, Snapshot};
use super::Exporter;
use crate::stats::DropReason;

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

fn bridge(name: &str, ports: &[(&str, bool)]) -> BridgeInfo {
    BridgeInfo {
        sflow: vec![],
        ipfix: vec![],
        external_ids: Default::default(),
        name: name.into(),
        mac: MacAddr([2, 0, 0, 0, 0, 1]),
        mac_aging: 300,
        mac_table_size: 8192,
        mac_entries: 2,
        rstp: RstpBridgeConfig::default(),
        fail_mode: FailMode::Standalone,
        protocols: OfVersions::default(),
        datapath_id: None,
        controllers: Vec::new(),
        ports: ports
            .iter()
            .map(|&(port, up)| PortInfo {
                name: port.into(),
                ofport: Some(1),
                port_type: PortType::Tap,
                config: PortConfig::default(),
                vlan_mode: VlanMode::Access,
                state: if up {
                    PortState::Up
                } else {
                    PortState::Down {
                        reason: "no such device".into(),
                    }
                },
                mtu: None,
            })
            .collect(),
    }
}

fn stats(bridge: &str, port: &str, base: u64, drops: &[(&str, u64)]) -> PortStats {
    PortStats {
        bridge: bridge.into(),
        port: port.into(),
        rx_packets: base + 1,
        rx_bytes: base + 2,
        rx_dropped: base + 3,
        rx_errors: base + 4,
        tx_packets: base + 5,
        tx_bytes: base + 6,
        tx_dropped: base + 7,
        tx_errors: base + 8,
        drops: drops.iter().map(|&(r, n)| (r.to_string(), n)).collect(),
    }
}

fn flow(table: u8, n_packets: u64, n_bytes: u64) -> FlowInfo {
    FlowInfo {
        table,
        priority: 100,
        cookie: 0,
        flow_match: String::new(),
        actions: "normal".into(),
        n_packets,
        n_bytes,
        duration: Duration::from_secs(1),
        idle_age_s: 0,
        idle_timeout: 0,
        hard_timeout: 0,
    }
}

fn bridge_id() -> proto::BridgeId {
    proto::BridgeId {
        priority: 32768,
        mac: MacAddr([2, 0, 0, 0, 0, 1]),
    }
}

/// Something of every kind, with names that need escaping.
fn rich_snapshot() -> Snapshot {
    let mut br0 = bridge("br0", &[("p1", true), ("p\"2\\", false)]);
    br0.controllers = vec![ControllerInfo {
        target: "tcp:127.0.0.1:6653".into(),
        state: ControllerState::Backoff,
        role: ControllerRole::Equal,
        version: None,
        last_error: Some("Connection refused".into()),
        packet_ins_dropped: 3,
    }];
    let br1 = bridge("br1", &[("bond0", true)]);
    Snapshot {
        bridges: vec![br0, br1],
        ports: vec![
            stats("br0", "p1", 0, &[("runt", 1), ("too-big", 2)]),
            stats("br0", "p\"2\\", 10, &[]),
            stats("br1", "bond0", 20, &[("bond-inactive-member", 5)]),
            stats("-", "vxlan:0.0.0.0:4789", 30, &[("tunnel-unknown-peer", 4)]),
        ],
        rstp: proto::RstpInfo {
            bridges: vec![RstpBridgeInfo {
                bridge: "br1".into(),
                bridge_id: bridge_id(),
                root_id: bridge_id(),
                root_port: None,
                root_path_cost: 0,
                topology_changes: 7,
                ports: vec![RstpPortInfo {
                    port: "bond0".into(),
                    role: RstpRole::Designated,
                    state: RstpState::Forwarding,
                    path_cost: 20000,
                    port_id: RstpPortId(0x8001),
                    designated_bridge: bridge_id(),
                    edge: true,
                    rx_bpdus: 0,
                    tx_bpdus: 12,
                    protocol: RstpProtocol::Rstp,
                }],
                fdb_flushes: 2,
            }],
        },
        bonds: proto::BondShowInfo {
            bonds: vec![BondInfo {
                bond: "bond0".into(),
                bridge: "br1".into(),
                bond_mode: BondMode::BalanceSlb,
                lacp: LacpMode::Active,
                lacp_status: LacpStatus::Negotiated,
                active_member: Some("m1".into()),
                next_rebalance_ms: 0,
                members: ["m1", "m2"]
                    .iter()
                    .map(|m| BondMemberInfo {
                        member: (*m).into(),
                        enabled: *m == "m1",
                        carrier: true,
                        may_enable: true,
                        tx_bytes: 1000,
                        buckets: Vec::new(),
                    })
                    .collect(),
            }],
        },
        lacp: proto::LacpShowInfo {
            bonds: vec![LacpBondInfo {
                bond: "bond0".into(),
                status: LacpStatus::Negotiated,
                actor: LacpSystem {
                    system_id: MacAddr([2, 0, 0, 0, 0, 1]),
                    system_priority: 65534,
                    key: 1,
                },
                partner: None,
                members: vec![LacpMemberInfo {
                    member: "m1".into(),
                    actor_state: LacpState(0x3d),
                    partner_state: LacpState(0x3d),
                    rx_lacpdus: 9,
                    tx_lacpdus: 10,
                }],
            }],
        },
        flows: vec![
            (
                "br0".into(),
                FlowsInfo {
                    flows: vec![flow(0, 5, 500), flow(0, 1, 60), flow(3, 2, 128)],
                },
            ),
            ("br1".into(), FlowsInfo::default()),
        ],
        counters: proto::CountersInfo {
            engine_loops: 1000,
            batches: 40,
            batch_frames: 300,
            bridges: vec![proto::BridgeCounters {
                bridge: "br0".into(),
                mac_learned: 4,
                mac_moved: 1,
                mac_evicted: 0,
                mac_aged: 2,
                floods: 9,
                tables: vec![proto::TableCounters {
                    table: 0,
                    flows: 2,
                    lookups: 300,
                    matched: 290,
                }],
            }],
        },
    }
}

/// One parsed sample line: name, labels, value.
type Sample = (String, BTreeMap<String, String>, u64);

/// Parses the samples of an exposition (comments skipped), undoing the
/// label value escapes; panics on anything that is not a sample line.
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(parse_sample)
        .collect()
}

fn parse_sample(line: &str) -> Sample {
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("no value: {line:?}"));
    let name = line[..name_end].to_string();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        loop {
            let (start, _) = *chars.peek().expect("label name");
            if inner[start..].starts_with('}') {
                rest = &inner[start + 1..];
                break;
            }
            let eq = inner[start..].find("=\"").expect("label =\"") + start;
            let key = inner[start..eq].to_string();
            for _ in start..eq + 2 {
                chars.next();
            }
            let mut value = String::new();
            loop {
                match chars.next().expect("closing quote") {
                    (_, '\\') => match chars.next().expect("escape").1 {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        c => panic!("bad escape \\{c} in {line:?}"),
                    },
                    (_, '"') => break,
                    (_, c) => value.push(c),
                }
            }
            assert!(labels.insert(key, value).is_none(), "duplicate label in {line:?}");
            if let Some(&(_, ',')) = chars.peek() {
                chars.next();
            }
        }
    }
    let value = rest
        .strip_prefix(' ')
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("bad value in {line:?}"));
    (name, labels, value)
}

/// The value of the one sample of `name` with exactly `labels`.
fn value_of(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<u64> {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let found: Vec<u64> = samples(text)
        .into_iter()
        .filter(|(n, l, _)| n == name && *l == want)
        .map(|(_, _, v)| v)
        .collect();
    assert!(found.len() <= 1, "{name}{labels:?} appears {} times", found.len());
    found.first().copied()
}

// ---------------------------------------------------------------------------
// The text format
// ---------------------------------------------------------------------------

#[test]
fn exposition_escapes_label_values_and_help() {
    let mut e = Exposition::new();
    e.family(
        "switchd_x",
        "Back\\slash and\nnewline, \"quotes\" kept.",
        Kind::Gauge,
        |f| {
            f.add(&[("port", "a\\b\"c\nd"), ("bridge", "br0")], 7);
            f.add(&[], 0);
        },
    );
    assert_eq!(
        e.finish(),
        "# HELP switchd_x Back\\\\slash and\\nnewline, \"quotes\" kept.\n\
         # TYPE switchd_x gauge\n\
         switchd_x{port=\"a\\\\b\\\"c\\nd\",bridge=\"br0\"} 7\n\
         switchd_x 0\n"
    );
}

#[test]
fn exposition_leaves_out_a_family_without_samples() {
    let mut e = Exposition::new();
    e.family("switchd_none_total", "Nothing.", Kind::Counter, |_| {});
    e.family("switchd_one_total", "One.", Kind::Counter, |f| {
        f.add(&[], u64::MAX)
    });
    assert_eq!(
        e.finish(),
        "# HELP switchd_one_total One.\n# TYPE switchd_one_total counter\nswitchd_one_total 18446744073709551615\n"
    );
}

#[test]
fn state_set_marks_only_the_current_value() {
    let mut e = Exposition::new();
    e.family("switchd_s", "S.", Kind::Gauge, |f| {
        f.state_set(&[("port", "p")], "state", &["a", "b", "c"], "b")
    });
    assert_eq!(
        e.finish(),
        "# HELP switchd_s S.\n# TYPE switchd_s gauge\n\
         switchd_s{port=\"p\",state=\"a\"} 0\n\
         switchd_s{port=\"p\",state=\"b\"} 1\n\
         switchd_s{port=\"p\",state=\"c\"} 0\n"
    );
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

#[test]
fn metrics_of_a_fixed_snapshot_are_exactly_this_text() {
    let snap = Snapshot {
        bridges: vec![bridge("br0", &[("p1", true)])],
        ports: vec![stats("br0", "p1", 100, &[("vlan-not-allowed", 3)])],
        flows: vec![("br0".into(), FlowsInfo::default())],
        ..Snapshot::default()
    };
    // Every reason is listed, at 0 unless it happened.
    let drops: String = DropReason::ALL
        .iter()
        .map(|r| {
            let n = if r.name() == "vlan-not-allowed" { 3 } else { 0 };
            format!(
                "switchd_port_drops_total{{bridge=\"br0\",port=\"p1\",reason=\"{}\"}} {n}\n",
                r.name()
            )
        })
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    let expect = format!(
        "\
# HELP switchd_up 1 while switchd answers scrapes (a scrape that fails gets no metrics at all).
# TYPE switchd_up gauge
switchd_up 1
# HELP switchd_build_info Always 1; the version of the running switchd in the label.
# TYPE switchd_build_info gauge
switchd_build_info{{version=\"{version}\"}} 1
# HELP switchd_mac_table_entries MAC addresses in the bridge's learning table now.
# TYPE switchd_mac_table_entries gauge
switchd_mac_table_entries{{bridge=\"br0\"}} 2
# HELP switchd_mac_table_max_entries Most MAC addresses the bridge's table holds (mac_table_size).
# TYPE switchd_mac_table_max_entries gauge
switchd_mac_table_max_entries{{bridge=\"br0\"}} 8192
# HELP switchd_mac_table_aging_seconds Seconds a MAC entry lives without traffic (mac_aging).
# TYPE switchd_mac_table_aging_seconds gauge
switchd_mac_table_aging_seconds{{bridge=\"br0\"}} 300
# HELP switchd_port_up 1 if the port is attached to its device and forwarding, 0 if it is down (show gives the reason).
# TYPE switchd_port_up gauge
switchd_port_up{{bridge=\"br0\",port=\"p1\"}} 1
# HELP switchd_port_info Always 1; the port's type in the label.
# TYPE switchd_port_info gauge
switchd_port_info{{bridge=\"br0\",port=\"p1\",type=\"tap\"}} 1
# HELP switchd_port_rx_packets_total Frames received on the port (port-stats rx_packets).
# TYPE switchd_port_rx_packets_total counter
switchd_port_rx_packets_total{{bridge=\"br0\",port=\"p1\"}} 101
# HELP switchd_port_rx_bytes_total Bytes received on the port (port-stats rx_bytes).
# TYPE switchd_port_rx_bytes_total counter
switchd_port_rx_bytes_total{{bridge=\"br0\",port=\"p1\"}} 102
# HELP switchd_port_rx_errors_total Receive errors reported by the port's device (port-stats rx_errors).
# TYPE switchd_port_rx_errors_total counter
switchd_port_rx_errors_total{{bridge=\"br0\",port=\"p1\"}} 104
# HELP switchd_port_rx_dropped_total Received frames dropped, all ingress reasons together (port-stats rx_dropped).
# TYPE switchd_port_rx_dropped_total counter
switchd_port_rx_dropped_total{{bridge=\"br0\",port=\"p1\"}} 103
# HELP switchd_port_tx_packets_total Frames sent out of the port (port-stats tx_packets).
# TYPE switchd_port_tx_packets_total counter
switchd_port_tx_packets_total{{bridge=\"br0\",port=\"p1\"}} 105
# HELP switchd_port_tx_bytes_total Bytes sent out of the port (port-stats tx_bytes).
# TYPE switchd_port_tx_bytes_total counter
switchd_port_tx_bytes_total{{bridge=\"br0\",port=\"p1\"}} 106
# HELP switchd_port_tx_errors_total Send errors reported by the port's device (port-stats tx_errors).
# TYPE switchd_port_tx_errors_total counter
switchd_port_tx_errors_total{{bridge=\"br0\",port=\"p1\"}} 108
# HELP switchd_port_tx_dropped_total Frames not sent out of the port, all egress reasons together (port-stats tx_dropped).
# TYPE switchd_port_tx_dropped_total counter
switchd_port_tx_dropped_total{{bridge=\"br0\",port=\"p1\"}} 107
# HELP switchd_port_drops_total Frames dropped, by reason: ingress reasons on the port they came in on, egress reasons on the port they were to leave by (port-stats drops).
# TYPE switchd_port_drops_total counter
{drops}\
# HELP switchd_flows Flows in the flow table (dump-flows).
# TYPE switchd_flows gauge
switchd_flows{{bridge=\"br0\",table=\"0\"}} 0
# HELP switchd_flow_matched_packets_total Packets matched by the flows now in the table (sum of dump-flows n_packets; falls when a flow is deleted or replaced, which Prometheus takes for a counter reset).
# TYPE switchd_flow_matched_packets_total counter
switchd_flow_matched_packets_total{{bridge=\"br0\",table=\"0\"}} 0
# HELP switchd_flow_matched_bytes_total Bytes of the packets matched by the flows now in the table (sum of dump-flows n_bytes).
# TYPE switchd_flow_matched_bytes_total counter
switchd_flow_matched_bytes_total{{bridge=\"br0\",table=\"0\"}} 0
# HELP switchd_engine_loops_total Rounds of the engine's poll loop.
# TYPE switchd_engine_loops_total counter
switchd_engine_loops_total 0
# HELP switchd_engine_batches_total Batches of received frames (one receive call that brought frames).
# TYPE switchd_engine_batches_total counter
switchd_engine_batches_total 0
# HELP switchd_engine_batch_frames_total Frames in those batches (mean batch size: this over switchd_engine_batches_total).
# TYPE switchd_engine_batch_frames_total counter
switchd_engine_batch_frames_total 0
"
    );
    let got = render(&snap);
    if got != expect {
        for (i, (g, e)) in got.lines().zip(expect.lines()).enumerate() {
            assert_eq!(g, e, "line {}", i + 1);
        }
        assert_eq!(got, expect);
    }
}

/// The checks of `promtool check metrics` (client_golang's promlint) and of
/// the text parser, on everything `render` can write.
#[test]
fn every_family_follows_the_prometheus_naming_rules() {
    let text = render(&rich_snapshot());
    let mut families: HashSet<String> = HashSet::new();
    let mut series: HashSet<String> = HashSet::new();
    let mut current: Option<(String, String)> = None; // (name, type)
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(help) = line.strip_prefix("# HELP ") {
            let (name, text) = help.split_once(' ').expect("HELP name text");
            assert!(!text.is_empty(), "{name}: empty help");
            assert!(families.insert(name.into()), "{name}: family written twice");
            let ty = lines
                .next()
                .and_then(|l| l.strip_prefix("# TYPE "))
                .expect("TYPE after HELP");
            let (ty_name, kind) = ty.split_once(' ').expect("TYPE name kind");
            assert_eq!(ty_name, name);
            assert!(kind == "counter" || kind == "gauge", "{name}: type {kind}");
            check_name(name, kind);
            current = Some((name.into(), kind.into()));
            // A family written has samples.
            assert!(
                lines.peek().is_some_and(|l| !l.starts_with('#')),
                "{name} has no samples"
            );
            continue;
        }
        assert!(!line.starts_with('#'), "stray comment {line:?}");
        let (name, labels, _) = parse_sample(line);
        let (family, _) = current.as_ref().expect("sample before any HELP");
        assert_eq!(&name, family, "sample outside its family block");
        for key in labels.keys() {
            assert!(
                key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    && !key.starts_with("__")
                    && key != "le"
                    && key != "quantile",
                "{name}: label name {key:?}"
            );
        }
        assert!(
            series.insert(format!("{name}{labels:?}")),
            "duplicate series {line:?}"
        );
    }
    // Each kind of object shows up.
    for f in [
        "switchd_port_drops_total",
        "switchd_tunnel_endpoint_drops_total",
        "switchd_flows",
        "switchd_rstp_port_role",
        "switchd_bond_member_enabled",
        "switchd_lacp_member_rx_lacpdus_total",
        "switchd_controller_connected",
    ] {
        assert!(families.contains(f), "{f} missing");
    }
}

fn check_name(name: &str, kind: &str) {
    assert!(name.starts_with("switchd_"), "{name}");
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "{name}: not snake_case ASCII"
    );
    assert_eq!(
        kind == "counter",
        name.ends_with("_total"),
        "{name}: _total iff counter"
    );
    for suffix in ["_count", "_sum", "_bucket"] {
        assert!(!name.ends_with(suffix), "{name}: reserved suffix");
    }
    let words: Vec<&str> = name.split('_').collect();
    for w in &words {
        // Types, abbreviated units and non-base units promlint refuses.
        let banned = [
            "counter",
            "gauge",
            "histogram",
            "summary",
            "s",
            "ms",
            "us",
            "ns",
            "sec",
            "b",
            "kb",
            "mb",
            "gb",
            "tb",
            "pb",
            "m",
            "h",
            "d",
            "minutes",
            "hours",
            "days",
            "bits",
            "milliseconds",
            "microseconds",
            "nanoseconds",
            "kilobytes",
            "megabytes",
        ];
        assert!(!banned.contains(w), "{name}: word {w:?}");
    }
}

#[test]
fn port_counters_equal_port_stats_and_every_reason_is_listed() {
    let snap = rich_snapshot();
    let text = render(&snap);
    for row in snap.ports.iter().filter(|r| r.bridge != "-") {
        let l = [("bridge", row.bridge.as_str()), ("port", row.port.as_str())];
        for (name, want) in [
            ("switchd_port_rx_packets_total", row.rx_packets),
            ("switchd_port_rx_bytes_total", row.rx_bytes),
            ("switchd_port_rx_errors_total", row.rx_errors),
            ("switchd_port_rx_dropped_total", row.rx_dropped),
            ("switchd_port_tx_packets_total", row.tx_packets),
            ("switchd_port_tx_bytes_total", row.tx_bytes),
            ("switchd_port_tx_errors_total", row.tx_errors),
            ("switchd_port_tx_dropped_total", row.tx_dropped),
        ] {
            assert_eq!(value_of(&text, name, &l), Some(want), "{name} {l:?}");
        }
        for r in DropReason::ALL {
            let want = row.drops.get(r.name()).copied().unwrap_or(0);
            let l = [l[0], l[1], ("reason", r.name())];
            assert_eq!(
                value_of(&text, "switchd_port_drops_total", &l),
                Some(want),
                "{l:?}"
            );
        }
    }
}

#[test]
fn tunnel_endpoints_have_families_of_their_own() {
    let text = render(&rich_snapshot());
    assert!(
        !text.contains("bridge=\"-\""),
        "endpoint rows leaked into the port families"
    );
    let ep = ("endpoint", "vxlan:0.0.0.0:4789");
    assert_eq!(
        value_of(&text, "switchd_tunnel_endpoint_rx_packets_total", &[ep]),
        Some(31)
    );
    assert_eq!(
        value_of(&text, "switchd_tunnel_endpoint_rx_bytes_total", &[ep]),
        Some(32)
    );
    let reasons: Vec<String> = samples(&text)
        .into_iter()
        .filter(|(n, _, _)| n == "switchd_tunnel_endpoint_drops_total")
        .map(|(_, l, _)| l["reason"].clone())
        .collect();
    assert!(reasons.iter().all(|r| r.starts_with("tunnel-")), "{reasons:?}");
    let peer = [ep, ("reason", "tunnel-unknown-peer")];
    assert_eq!(
        value_of(&text, "switchd_tunnel_endpoint_drops_total", &peer),
        Some(4)
    );
}

#[test]
fn flows_and_their_matches_are_counted_per_table() {
    let text = render(&rich_snapshot());
    let t = |bridge, table| [("bridge", bridge), ("table", table)];
    assert_eq!(value_of(&text, "switchd_flows", &t("br0", "0")), Some(2));
    assert_eq!(value_of(&text, "switchd_flows", &t("br0", "3")), Some(1));
    assert_eq!(value_of(&text, "switchd_flows", &t("br1", "0")), Some(0));
    assert_eq!(value_of(&text, "switchd_flows", &t("br0", "1")), None);
    assert_eq!(
        value_of(&text, "switchd_flow_matched_packets_total", &t("br0", "0")),
        Some(6)
    );
    assert_eq!(
        value_of(&text, "switchd_flow_matched_bytes_total", &t("br0", "0")),
        Some(560)
    );
    assert_eq!(
        value_of(&text, "switchd_flow_matched_packets_total", &t("br0", "3")),
        Some(2)
    );
}

#[test]
fn states_rstp_bonds_and_controllers_are_rendered() {
    let text = render(&rich_snapshot());
    let port = [("bridge", "br1"), ("port", "bond0")];
    for (role, want) in [("designated", 1), ("root", 0), ("disabled", 0)] {
        let l = [port[0], port[1], ("role", role)];
        assert_eq!(
            value_of(&text, "switchd_rstp_port_role", &l),
            Some(want),
            "{role}"
        );
    }
    let l = [port[0], port[1], ("state", "forwarding")];
    assert_eq!(value_of(&text, "switchd_rstp_port_state", &l), Some(1));
    assert_eq!(
        value_of(&text, "switchd_rstp_topology_changes_total", &[port[0]]),
        Some(7)
    );
    assert_eq!(value_of(&text, "switchd_rstp_root_bridge", &[port[0]]), Some(1));
    assert_eq!(
        value_of(&text, "switchd_rstp_port_tx_bpdus_total", &port),
        Some(12)
    );

    let m = |member| [("bridge", "br1"), ("bond", "bond0"), ("member", member)];
    assert_eq!(value_of(&text, "switchd_bond_member_enabled", &m("m1")), Some(1));
    assert_eq!(value_of(&text, "switchd_bond_member_enabled", &m("m2")), Some(0));
    assert_eq!(value_of(&text, "switchd_bond_member_active", &m("m1")), Some(1));
    assert_eq!(value_of(&text, "switchd_bond_member_active", &m("m2")), Some(0));
    assert_eq!(
        value_of(&text, "switchd_bond_member_tx_bytes_total", &m("m2")),
        Some(1000)
    );
    assert_eq!(
        value_of(&text, "switchd_lacp_member_rx_lacpdus_total", &m("m1")),
        Some(9)
    );
    let status = [("bridge", "br1"), ("bond", "bond0"), ("status", "negotiated")];
    assert_eq!(value_of(&text, "switchd_bond_lacp_status", &status), Some(1));

    let c = [("bridge", "br0"), ("target", "tcp:127.0.0.1:6653")];
    assert_eq!(value_of(&text, "switchd_controller_connected", &c), Some(0));
    let backoff = [c[0], c[1], ("state", "backoff")];
    assert_eq!(value_of(&text, "switchd_controller_state", &backoff), Some(1));
    assert_eq!(
        value_of(&text, "switchd_controller_packet_ins_dropped_total", &c),
        Some(3)
    );

    // The port whose name needs escaping comes back intact.
    let odd = [("bridge", "br0"), ("port", "p\"2\\")];
    assert_eq!(value_of(&text, "switchd_port_up", &odd), Some(0));
}

#[test]
fn lacp_of_a_bond_that_bond_show_did_not_list_is_left_out() {
    let mut snap = rich_snapshot();
    snap.bonds.bonds.clear();
    let text = render(&snap);
    assert!(!text.contains("switchd_lacp_member_rx_lacpdus_total"));
}

// ---------------------------------------------------------------------------
// Snapshots from a fake engine
// ---------------------------------------------------------------------------

/// A fake engine: answers with `rich_snapshot`'s parts, says bridge `gone`
/// does not exist, and records what it was asked.
fn fake_engine(asked: &std::sync::Mutex<Vec<Request>>, req: Request) -> Result<Reply, Error> {
    asked.lock().unwrap().push(req.clone());
    let snap = rich_snapshot();
    match req {
        Request::Show => {
            let mut bridges = snap.bridges;
            bridges.push(bridge("gone", &[]));
            Ok(Reply::Show(bridges))
        }
        Request::PortStats { bridge: None } => Ok(Reply::Stats(snap.ports)),
        Request::RstpShow { bridge: None } => Ok(Reply::Rstp(snap.rstp)),
        Request::BondShow { bond: None } => Ok(Reply::Bonds(snap.bonds)),
        Request::LacpShow { bond: None } => Ok(Reply::Lacp(snap.lacp)),
        Request::Counters => Ok(Reply::Counters(snap.counters)),
        Request::DumpFlows {
            bridge,
            filter: None,
            table: None,
        } => match snap.flows.into_iter().find(|(b, _)| b == bridge.as_str()) {
            Some((_, f)) => Ok(Reply::Flows(f)),
            None => Err(Error::new(ErrorKind::NoSuchBridge, "no bridge")),
        },
        other => panic!("the metrics asked the engine for {other:?}"),
    }
}

#[test]
fn a_snapshot_asks_only_read_requests_and_skips_a_bridge_deleted_meanwhile() {
    let asked = std::sync::Mutex::new(Vec::new());
    let snap = collect(|req| fake_engine(&asked, req)).expect("snapshot");
    let mut want = rich_snapshot();
    want.bridges.push(bridge("gone", &[]));
    assert_eq!(snap, want);
    let asked = asked.into_inner().unwrap();
    assert!(asked.iter().all(|r| !r.is_change()), "{asked:?}");
    assert_eq!(asked.len(), 6 + 3, "{asked:?}");
}

#[test]
fn a_snapshot_fails_as_a_whole_when_the_engine_does() {
    let mut n = 0;
    let err = collect(|req| {
        n += 1;
        match req {
            Request::RstpShow { .. } => Err(Error::new(ErrorKind::Internal, "switchd is shutting down")),
            Request::Show => Ok(Reply::Show(Vec::new())),
            _ => Ok(Reply::Stats(Vec::new())),
        }
    })
    .unwrap_err();
    assert_eq!(err.message, "switchd is shutting down");
    assert_eq!(n, 3);
    let err = collect(|_| Ok(Reply::Done)).unwrap_err();
    assert!(err.message.contains("show"), "{err}");
}

#[test]
fn metrics_exporter_reuses_a_recent_snapshot_but_not_an_error() {
    let calls = AtomicUsize::new(0);
    let fail = std::sync::atomic::AtomicBool::new(true);
    let asked = std::sync::Mutex::new(Vec::new());
    let exporter = Exporter::new(|req| {
        calls.fetch_add(1, Ordering::SeqCst);
        if fail.load(Ordering::SeqCst) {
            return Err(Error::new(ErrorKind::Internal, "switchd is shutting down"));
        }
        fake_engine(&asked, req)
    });
    assert_eq!(exporter.body().unwrap_err(), "switchd is shutting down");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    fail.store(false, Ordering::SeqCst);
    let first = exporter.body().expect("body");
    let after_first = calls.load(Ordering::SeqCst);
    assert!(after_first > 1);
    let second = exporter.body().expect("body");
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        after_first,
        "the engine was asked again"
    );
    assert!(first.contains("switchd_up 1\n"));
}

// ---------------------------------------------------------------------------
// Request parsing
// ---------------------------------------------------------------------------

fn parsed(head: &str) -> Result<RequestLine, Status> {
    parse_request(head.as_bytes())
}

fn line(method: &str, path: &str) -> Result<RequestLine, Status> {
    Ok(RequestLine {
        method: method.into(),
        path: path.into(),
    })
}

#[test]
fn metrics_requests_that_parse() {
    let scrape = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9477\r\nUser-Agent: Prometheus/2.53.0\r\n\
                  Accept: application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4\r\n\
                  X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n";
    assert_eq!(parsed(scrape), line("GET", "/metrics"));
    assert_eq!(
        parsed("GET /metrics?x=1#f HTTP/1.0\r\n\r\n"),
        line("GET", "/metrics")
    );
    assert_eq!(parsed("\r\nHEAD /metrics HTTP/1.1\n\n"), line("HEAD", "/metrics"));
    assert_eq!(
        parsed("GET http://h:9477/metrics HTTP/1.1\r\n\r\n"),
        line("GET", "/metrics")
    );
    assert_eq!(parsed("GET HTTP://h HTTP/1.1\r\n\r\n"), line("GET", "/"));
    assert_eq!(parsed("OPTIONS * HTTP/1.1\r\n\r\n"), line("OPTIONS", "*"));
    assert_eq!(
        parsed("POST /other HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
        line("POST", "/other")
    );
}

#[test]
fn metrics_requests_that_do_not_parse() {
    for bad in [
        "",
        "\r\n\r\n",
        "GET /metrics\r\n\r\n",
        "GET  /metrics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/1.1 extra\r\n\r\n",
        "GET /metrics FTP/1.1\r\n\r\n",
        "GET /metrics http/1.1\r\n\r\n",
        "G(T /metrics HTTP/1.1\r\n\r\n",
        "GET metrics HTTP/1.1\r\n\r\n",
        "GET http:// HTTP/1.1\r\n\r\n",
        "GET /met\x7frics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET /metrics HTTP/1.1\r\n folded: x\r\n\r\n",
        "GET /metrics HTTP/1.1\r\n: x\r\n\r\n",
    ] {
        assert_eq!(parsed(bad), Err(Status::BadRequest), "{bad:?}");
    }
    assert_eq!(
        parse_request(b"GET /\xff HTTP/1.1\r\n\r\n"),
        Err(Status::BadRequest)
    );
    assert_eq!(
        parsed("GET /metrics HTTP/2.0\r\n\r\n"),
        Err(Status::VersionNotSupported)
    );
    assert_eq!(
        parsed("GET /metrics HTTP/0.9\r\n\r\n"),
        Err(Status::VersionNotSupported)
    );
}

// ---------------------------------------------------------------------------
// The server, on a loopback socket
// ---------------------------------------------------------------------------

const BODY: &str = "# HELP switchd_up Up.\n# TYPE switchd_up gauge\nswitchd_up 1\n";

/// Starts a server with `limits` whose handler returns `BODY` (or fails
/// with `fail`); returns its address and how many times it was called.
fn server(limits: Limits, fail: Option<&'static str>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    http::serve(
        listener,
        limits,
        Arc::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            match fail {
                Some(why) => Err(why.to_string()),
                None => Ok(Arc::from(BODY)),
            }
        }),
    )
    .expect("serve");
    (addr, calls)
}

fn short_limits() -> Limits {
    Limits {
        workers: 2,
        max_head: 1024,
        read_timeout: Duration::from_millis(400),
        write_timeout: Duration::from_secs(2),
    }
}

/// A response: status code, headers (names lowercased), body.
#[derive(Debug)]
struct Answer {
    code: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

/// Sends `request` as it is and reads the response until the server closes.
fn exchange(addr: SocketAddr, request: &[u8]) -> Answer {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request).expect("send");
    read_answer(&mut s)
}

fn read_answer(s: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read until the server closes");
    let text = String::from_utf8(raw).expect("UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a blank line after the head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap();
    let code = status
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("status line {status:?}"));
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(": ").expect("header line");
            (k.to_ascii_lowercase(), v.to_string())
        })
        .collect();
    Answer {
        code,
        headers,
        body: body.into(),
    }
}

#[test]
fn metrics_server_answers_get_and_head_and_refuses_the_rest() {
    let (addr, calls) = server(short_limits(), None);
    let get = exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(get.code, 200);
    assert_eq!(get.body, BODY);
    assert_eq!(
        get.headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(get.headers["content-length"], BODY.len().to_string());
    assert_eq!(get.headers["connection"], "close");

    let head = exchange(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n");
    assert_eq!((head.code, head.body.as_str()), (200, ""));
    assert_eq!(head.headers["content-length"], BODY.len().to_string());
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    let other = exchange(addr, b"GET /other HTTP/1.1\r\n\r\n");
    assert_eq!(other.code, 404);
    assert!(other.body.contains("/metrics"), "{other:?}");
    assert_eq!(exchange(addr, b"GET / HTTP/1.0\r\n\r\n").code, 404);

    // A body sent with a refused method is not read, and still the client
    // gets the answer rather than a reset.
    let post = exchange(
        addr,
        b"POST /metrics HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world",
    );
    assert_eq!(post.code, 405);
    assert_eq!(post.headers["allow"], "GET, HEAD");
    for method in ["PUT", "DELETE", "OPTIONS", "get"] {
        let req = format!("{method} /metrics HTTP/1.1\r\n\r\n");
        assert_eq!(exchange(addr, req.as_bytes()).code, 405, "{method}");
    }
    assert_eq!(exchange(addr, b"hello\r\n\r\n").code, 400);
    assert_eq!(exchange(addr, b"GET /metrics HTTP/2.0\r\n\r\n").code, 505);
    // The client closed its sending side mid-head.
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost:").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(read_answer(&mut s).code, 400);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "only GET and HEAD /metrics reach the handler"
    );
}

#[test]
fn metrics_server_refuses_an_oversized_head_and_keeps_serving() {
    let (addr, _) = server(short_limits(), None);
    let mut big = b"GET /metrics HTTP/1.1\r\n".to_vec();
    big.extend(std::iter::repeat_n(b"X-Filler: 0123456789abcdef\r\n", 100).flatten());
    big.extend_from_slice(b"\r\n");
    assert!(big.len() > short_limits().max_head);
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The server may stop reading (and answer) before it has it all.
    let _ = s.write_all(&big);
    assert_eq!(read_answer(&mut s).code, 431);
    assert_eq!(exchange(addr, b"GET /metrics HTTP/1.1\r\n\r\n").code, 200);
}

#[test]
fn metrics_server_gives_a_slow_client_a_deadline_not_a_thread() {
    let limits = short_limits();
    let (addr, _) = server(limits, None);
    // One byte every 100 ms: each read is quick, the whole head is not.
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let start = Instant::now();
    for b in b"GET /metrics HTTP/1.1\r\nHost: x".iter() {
        if s.write_all(&[*b]).is_err() {
            break; // the server has answered and closed
        }
        std::thread::sleep(Duration::from_millis(100));
        if start.elapsed() > limits.read_timeout * 3 {
            break;
        }
    }
    assert_eq!(read_answer(&mut s).code, 408);
    assert!(start.elapsed() < limits.read_timeout * 4, "{:?}", start.elapsed());
}

#[test]
fn metrics_server_outlasts_clients_that_hold_every_worker() {
    let limits = short_limits();
    let (addr, _) = server(limits, None);
    // As many silent clients as workers: both workers are taken...
    let silent: Vec<TcpStream> = (0..limits.workers)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    // ...so a scrape waits in the backlog until they time out, then is served.
    let start = Instant::now();
    let answer = exchange(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
    assert_eq!(answer.code, 200);
    assert!(start.elapsed() < limits.read_timeout * 3, "{:?}", start.elapsed());
    drop(silent);
}

#[test]
fn metrics_server_answers_503_when_the_engine_cannot() {
    let (addr, _) = server(short_limits(), Some("switchd is shutting down"));
    let answer = exchange(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
    assert_eq!(answer.code, 503);
    assert!(answer.body.contains("switchd is shutting down"), "{answer:?}");
}

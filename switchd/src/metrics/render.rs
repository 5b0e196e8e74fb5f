//! A [`Snapshot`] as Prometheus metrics: which families exist, their names,
//! help texts, types and labels (SPEC §11). The format itself is
//! [`super::exposition`]'s.
//!
//! Naming follows the Prometheus rules that `promtool check metrics`
//! enforces: every name starts with `switchd_`, counters end in `_total`
//! and nothing else does, units are spelled out in base units (`_bytes`,
//! `_seconds`), and enums are state sets (one series per possible value,
//! 1 for the current one) so that every series exists from the start and
//! a change is visible as a step.
//!
//! Counters are exactly the numbers `port-stats`, `rstp-show`, `bond-show`,
//! `lacp-show` and `dump-flows` print, so a dashboard and `switchctl` never
//! disagree. Counters the engine does not keep (MAC learn/move/evict/age
//! events, flood counts, per-table lookups, engine loops and batch sizes)
//! are not made up here.

use std::collections::BTreeMap;

use proto::{ControllerState, LacpStatus, PortState, RstpRole, RstpState};

use super::exposition::{Exposition, Kind, Label, Samples};
use super::snapshot::Snapshot;
use crate::stats::DropReason;

/// The `bridge` that `port-stats` gives the rows of tunnel endpoints (the
/// shared VXLAN/GRE sockets): they are not ports of any bridge, so they get
/// families of their own rather than a `bridge="-"` that every per-bridge
/// sum would have to exclude.
const ENDPOINT_BRIDGE: &str = "-";

/// Every RSTP role, in the order the state set lists them.
const RSTP_ROLES: [RstpRole; 5] = [
    RstpRole::Root,
    RstpRole::Designated,
    RstpRole::Alternate,
    RstpRole::Backup,
    RstpRole::Disabled,
];
/// Every RSTP port state.
const RSTP_STATES: [RstpState; 3] = [RstpState::Discarding, RstpState::Learning, RstpState::Forwarding];
/// Every controller connection state.
const CONTROLLER_STATES: [ControllerState; 4] = [
    ControllerState::Connected,
    ControllerState::Connecting,
    ControllerState::Listening,
    ControllerState::Backoff,
];
/// Every LACP status of a bond.
const LACP_STATUSES: [LacpStatus; 4] = [
    LacpStatus::Off,
    LacpStatus::Negotiated,
    LacpStatus::Configured,
    LacpStatus::Fallback,
];

/// Fails to compile when proto gains an enum value the lists above lack,
/// so that a new state cannot silently go unexported.
#[allow(dead_code)]
fn lists_are_complete(r: RstpRole, s: RstpState, c: ControllerState, l: LacpStatus) {
    match r {
        RstpRole::Root
        | RstpRole::Designated
        | RstpRole::Alternate
        | RstpRole::Backup
        | RstpRole::Disabled => {}
    }
    match s {
        RstpState::Discarding | RstpState::Learning | RstpState::Forwarding => {}
    }
    match c {
        ControllerState::Connected
        | ControllerState::Connecting
        | ControllerState::Listening
        | ControllerState::Backoff => {}
    }
    match l {
        LacpStatus::Off | LacpStatus::Negotiated | LacpStatus::Configured | LacpStatus::Fallback => {}
    }
}

/// The whole exposition of one scrape.
pub fn render(s: &Snapshot) -> String {
    let mut e = Exposition::new();
    daemon(&mut e);
    bridges(&mut e, s);
    ports(&mut e, s);
    endpoints(&mut e, s);
    flows(&mut e, s);
    rstp(&mut e, s);
    bonds(&mut e, s);
    controllers(&mut e, s);
    counters(&mut e, s);
    e.finish()
}

/// The engine's own counters: its loop and batches, MAC table events,
/// floods, flow table lookups.
fn counters(e: &mut Exposition, s: &Snapshot) {
    let c = &s.counters;
    e.family(
        "switchd_engine_loops_total",
        "Rounds of the engine's poll loop.",
        Kind::Counter,
        |f| f.add(&[], c.engine_loops),
    );
    e.family(
        "switchd_engine_batches_total",
        "Batches of received frames (one receive call that brought frames).",
        Kind::Counter,
        |f| f.add(&[], c.batches),
    );
    e.family(
        "switchd_engine_batch_frames_total",
        "Frames in those batches (mean batch size: this over switchd_engine_batches_total).",
        Kind::Counter,
        |f| f.add(&[], c.batch_frames),
    );
    let each = |f: &mut Samples, value: &dyn Fn(&proto::BridgeCounters) -> u64| {
        for b in &c.bridges {
            f.add(&[("bridge", &b.bridge)], value(b));
        }
    };
    e.family(
        "switchd_mac_learned_total",
        "MAC entries learned.",
        Kind::Counter,
        |f| each(f, &|b| b.mac_learned),
    );
    e.family(
        "switchd_mac_moves_total",
        "MAC moves between ports.",
        Kind::Counter,
        |f| each(f, &|b| b.mac_moved),
    );
    e.family(
        "switchd_mac_evictions_total",
        "MAC entries evicted because the table was full.",
        Kind::Counter,
        |f| each(f, &|b| b.mac_evicted),
    );
    e.family(
        "switchd_mac_aged_total",
        "MAC entries that aged out.",
        Kind::Counter,
        |f| each(f, &|b| b.mac_aged),
    );
    e.family(
        "switchd_floods_total",
        "Frames the learning switch (NORMAL) flooded.",
        Kind::Counter,
        |f| each(f, &|b| b.floods),
    );
    let tables = |f: &mut Samples, value: &dyn Fn(&proto::TableCounters) -> u64| {
        for b in &c.bridges {
            for t in &b.tables {
                let table = t.table.to_string();
                f.add(&[("bridge", &b.bridge), ("table", &table)], value(t));
            }
        }
    };
    e.family(
        "switchd_flow_table_lookups_total",
        "Frames looked up in a flow table.",
        Kind::Counter,
        |f| tables(f, &|t| t.lookups),
    );
    e.family(
        "switchd_flow_table_matches_total",
        "Frames a flow of the table matched.",
        Kind::Counter,
        |f| tables(f, &|t| t.matched),
    );
}

fn daemon(e: &mut Exposition) {
    e.family(
        "switchd_up",
        "1 while switchd answers scrapes (a scrape that fails gets no metrics at all).",
        Kind::Gauge,
        |f| f.add(&[], 1),
    );
    e.family(
        "switchd_build_info",
        "Always 1; the version of the running switchd in the label.",
        Kind::Gauge,
        |f| f.add(&[("version", env!("CARGO_PKG_VERSION"))], 1),
    );
}

fn bridges(e: &mut Exposition, s: &Snapshot) {
    let each = |f: &mut Samples, value: &dyn Fn(&proto::BridgeInfo) -> u64| {
        for b in &s.bridges {
            f.add(&[("bridge", &b.name)], value(b));
        }
    };
    e.family(
        "switchd_mac_table_entries",
        "MAC addresses in the bridge's learning table now.",
        Kind::Gauge,
        |f| each(f, &|b| b.mac_entries),
    );
    e.family(
        "switchd_mac_table_max_entries",
        "Most MAC addresses the bridge's table holds (mac_table_size).",
        Kind::Gauge,
        |f| each(f, &|b| u64::from(b.mac_table_size)),
    );
    e.family(
        "switchd_mac_table_aging_seconds",
        "Seconds a MAC entry lives without traffic (mac_aging).",
        Kind::Gauge,
        |f| each(f, &|b| u64::from(b.mac_aging)),
    );
}

fn ports(e: &mut Exposition, s: &Snapshot) {
    let show_ports = || s.bridges.iter().flat_map(|b| b.ports.iter().map(move |p| (b, p)));
    e.family(
        "switchd_port_up",
        "1 if the port is attached to its device and forwarding, 0 if it is down (show gives the reason).",
        Kind::Gauge,
        |f| {
            for (b, p) in show_ports() {
                let up = matches!(p.state, PortState::Up);
                f.add(&[("bridge", &b.name), ("port", &p.name)], u64::from(up));
            }
        },
    );
    e.family(
        "switchd_port_info",
        "Always 1; the port's type in the label.",
        Kind::Gauge,
        |f| {
            for (b, p) in show_ports() {
                let labels = [
                    ("bridge", b.name.as_str()),
                    ("port", &p.name),
                    ("type", p.port_type.as_str()),
                ];
                f.add(&labels, 1);
            }
        },
    );

    let rows = || s.ports.iter().filter(|r| r.bridge != ENDPOINT_BRIDGE);
    let counter = |e: &mut Exposition, name, help, value: fn(&proto::PortStats) -> u64| {
        e.family(name, help, Kind::Counter, |f| {
            for r in rows() {
                f.add(&[("bridge", &r.bridge), ("port", &r.port)], value(r));
            }
        });
    };
    counter(
        e,
        "switchd_port_rx_packets_total",
        "Frames received on the port (port-stats rx_packets).",
        |r| r.rx_packets,
    );
    counter(
        e,
        "switchd_port_rx_bytes_total",
        "Bytes received on the port (port-stats rx_bytes).",
        |r| r.rx_bytes,
    );
    counter(
        e,
        "switchd_port_rx_errors_total",
        "Receive errors reported by the port's device (port-stats rx_errors).",
        |r| r.rx_errors,
    );
    counter(
        e,
        "switchd_port_rx_dropped_total",
        "Received frames dropped, all ingress reasons together (port-stats rx_dropped).",
        |r| r.rx_dropped,
    );
    counter(
        e,
        "switchd_port_tx_packets_total",
        "Frames sent out of the port (port-stats tx_packets).",
        |r| r.tx_packets,
    );
    counter(
        e,
        "switchd_port_tx_bytes_total",
        "Bytes sent out of the port (port-stats tx_bytes).",
        |r| r.tx_bytes,
    );
    counter(
        e,
        "switchd_port_tx_errors_total",
        "Send errors reported by the port's device (port-stats tx_errors).",
        |r| r.tx_errors,
    );
    counter(
        e,
        "switchd_port_tx_dropped_total",
        "Frames not sent out of the port, all egress reasons together (port-stats tx_dropped).",
        |r| r.tx_dropped,
    );
    e.family(
        "switchd_port_drops_total",
        "Frames dropped, by reason: ingress reasons on the port they came in on, egress reasons \
         on the port they were to leave by (port-stats drops).",
        Kind::Counter,
        |f| {
            for r in rows() {
                drops(f, &[("bridge", &r.bridge), ("port", &r.port)], r, |_| true);
            }
        },
    );
}

/// One sample per drop reason of `row`: every reason `wanted` selects, at 0
/// if it never happened (`port-stats` lists only the reasons that did), so
/// that `rate()` sees the first drop; then any other reason with a count.
fn drops(f: &mut Samples, labels: &[Label<'_>], row: &proto::PortStats, wanted: fn(DropReason) -> bool) {
    let mut with_reason: Vec<Label<'_>> = labels.to_vec();
    with_reason.push(("reason", ""));
    let last = with_reason.len() - 1;
    for r in DropReason::ALL.into_iter().filter(|&r| wanted(r)) {
        with_reason[last].1 = r.name();
        f.add(&with_reason, row.drops.get(r.name()).copied().unwrap_or(0));
    }
    for (name, &n) in &row.drops {
        let known = DropReason::ALL
            .iter()
            .any(|&r| wanted(r) && r.name() == name.as_str());
        if !known {
            with_reason[last].1 = name;
            f.add(&with_reason, n);
        }
    }
}

fn endpoints(e: &mut Exposition, s: &Snapshot) {
    let rows = || s.ports.iter().filter(|r| r.bridge == ENDPOINT_BRIDGE);
    let counter = |e: &mut Exposition, name, help, value: fn(&proto::PortStats) -> u64| {
        e.family(name, help, Kind::Counter, |f| {
            for r in rows() {
                f.add(&[("endpoint", &r.port)], value(r));
            }
        });
    };
    counter(
        e,
        "switchd_tunnel_endpoint_rx_packets_total",
        "Packets a VXLAN or GRE socket received, before they are given to a tunnel port \
         (port-stats row of the endpoint).",
        |r| r.rx_packets,
    );
    counter(
        e,
        "switchd_tunnel_endpoint_rx_bytes_total",
        "Bytes a VXLAN or GRE socket received.",
        |r| r.rx_bytes,
    );
    counter(
        e,
        "switchd_tunnel_endpoint_rx_errors_total",
        "Receive errors of a VXLAN or GRE socket.",
        |r| r.rx_errors,
    );
    e.family(
        "switchd_tunnel_endpoint_drops_total",
        "Tunnel packets no tunnel port could take (bad outer header, unknown peer, VNI or key), by reason.",
        Kind::Counter,
        |f| {
            for r in rows() {
                drops(f, &[("endpoint", &r.port)], r, |d| {
                    d.name().starts_with("tunnel-")
                });
            }
        },
    );
}

/// What one flow table holds, summed over its flows.
#[derive(Debug, Default, Clone, Copy)]
struct TableSums {
    flows: u64,
    packets: u64,
    bytes: u64,
}

fn flows(e: &mut Exposition, s: &Snapshot) {
    // Per bridge, per table. Table 0 is listed even when empty, since it
    // is the table every packet starts in.
    let tables: Vec<(&str, BTreeMap<u8, TableSums>)> = s
        .flows
        .iter()
        .map(|(bridge, info)| {
            let mut per_table = BTreeMap::from([(0, TableSums::default())]);
            for flow in &info.flows {
                let t = per_table.entry(flow.table).or_default();
                t.flows += 1;
                t.packets = t.packets.saturating_add(flow.n_packets);
                t.bytes = t.bytes.saturating_add(flow.n_bytes);
            }
            (bridge.as_str(), per_table)
        })
        .collect();
    let family = |e: &mut Exposition, name, help, kind, value: fn(&TableSums) -> u64| {
        e.family(name, help, kind, |f| {
            for (bridge, per_table) in &tables {
                for (table, sums) in per_table {
                    f.add(&[("bridge", bridge), ("table", &table.to_string())], value(sums));
                }
            }
        });
    };
    family(
        e,
        "switchd_flows",
        "Flows in the flow table (dump-flows).",
        Kind::Gauge,
        |t| t.flows,
    );
    family(
        e,
        "switchd_flow_matched_packets_total",
        "Packets matched by the flows now in the table (sum of dump-flows n_packets; falls when a \
         flow is deleted or replaced, which Prometheus takes for a counter reset).",
        Kind::Counter,
        |t| t.packets,
    );
    family(
        e,
        "switchd_flow_matched_bytes_total",
        "Bytes of the packets matched by the flows now in the table (sum of dump-flows n_bytes).",
        Kind::Counter,
        |t| t.bytes,
    );
}

fn rstp(e: &mut Exposition, s: &Snapshot) {
    let bridges = &s.rstp.bridges;
    let ports = || bridges.iter().flat_map(|b| b.ports.iter().map(move |p| (b, p)));
    e.family(
        "switchd_rstp_root_bridge",
        "1 if the bridge is the root of its spanning tree.",
        Kind::Gauge,
        |f| {
            for b in bridges {
                f.add(&[("bridge", &b.bridge)], u64::from(b.is_root()));
            }
        },
    );
    e.family(
        "switchd_rstp_root_path_cost",
        "Cost of the bridge's path to the root (0 on the root).",
        Kind::Gauge,
        |f| {
            for b in bridges {
                f.add(&[("bridge", &b.bridge)], u64::from(b.root_path_cost));
            }
        },
    );
    e.family(
        "switchd_rstp_topology_changes_total",
        "Topology changes the bridge detected or was told of.",
        Kind::Counter,
        |f| {
            for b in bridges {
                f.add(&[("bridge", &b.bridge)], b.topology_changes);
            }
        },
    );
    e.family(
        "switchd_rstp_fdb_flushes_total",
        "MAC table flushes caused by topology changes.",
        Kind::Counter,
        |f| {
            for b in bridges {
                f.add(&[("bridge", &b.bridge)], b.fdb_flushes);
            }
        },
    );
    let roles = RSTP_ROLES.map(RstpRole::as_str);
    e.family(
        "switchd_rstp_port_role",
        "The port's spanning tree role: 1 for the current role, 0 for the others.",
        Kind::Gauge,
        |f| {
            for (b, p) in ports() {
                let labels = [("bridge", b.bridge.as_str()), ("port", &p.port)];
                f.state_set(&labels, "role", &roles, p.role.as_str());
            }
        },
    );
    let states = RSTP_STATES.map(RstpState::as_str);
    e.family(
        "switchd_rstp_port_state",
        "The port's spanning tree state: 1 for the current state, 0 for the others.",
        Kind::Gauge,
        |f| {
            for (b, p) in ports() {
                let labels = [("bridge", b.bridge.as_str()), ("port", &p.port)];
                f.state_set(&labels, "state", &states, p.state.as_str());
            }
        },
    );
    e.family(
        "switchd_rstp_port_edge",
        "1 if the port operates as an edge port.",
        Kind::Gauge,
        |f| {
            for (b, p) in ports() {
                f.add(&[("bridge", &b.bridge), ("port", &p.port)], u64::from(p.edge));
            }
        },
    );
    e.family(
        "switchd_rstp_port_rx_bpdus_total",
        "BPDUs received on the port.",
        Kind::Counter,
        |f| {
            for (b, p) in ports() {
                f.add(&[("bridge", &b.bridge), ("port", &p.port)], p.rx_bpdus);
            }
        },
    );
    e.family(
        "switchd_rstp_port_tx_bpdus_total",
        "BPDUs sent out of the port.",
        Kind::Counter,
        |f| {
            for (b, p) in ports() {
                f.add(&[("bridge", &b.bridge), ("port", &p.port)], p.tx_bpdus);
            }
        },
    );
}

fn bonds(e: &mut Exposition, s: &Snapshot) {
    let bonds = &s.bonds.bonds;
    let members = || bonds.iter().flat_map(|b| b.members.iter().map(move |m| (b, m)));
    type MemberValue = dyn Fn(&proto::BondInfo, &proto::BondMemberInfo) -> u64;
    let member_family = |e: &mut Exposition, name, help, kind, value: &MemberValue| {
        e.family(name, help, kind, |f| {
            for (b, m) in members() {
                let labels = [
                    ("bridge", b.bridge.as_str()),
                    ("bond", &b.bond),
                    ("member", &m.member),
                ];
                f.add(&labels, value(b, m));
            }
        });
    };
    let statuses = LACP_STATUSES.map(LacpStatus::as_str);
    e.family(
        "switchd_bond_lacp_status",
        "Where LACP stands on the bond: 1 for the current status, 0 for the others.",
        Kind::Gauge,
        |f| {
            for b in bonds {
                let labels = [("bridge", b.bridge.as_str()), ("bond", &b.bond)];
                f.state_set(&labels, "status", &statuses, b.lacp_status.as_str());
            }
        },
    );
    member_family(
        e,
        "switchd_bond_member_enabled",
        "1 if the member carries traffic now (after bond_updelay and bond_downdelay).",
        Kind::Gauge,
        &|_, m| u64::from(m.enabled),
    );
    member_family(
        e,
        "switchd_bond_member_carrier",
        "1 if the member's device has carrier.",
        Kind::Gauge,
        &|_, m| u64::from(m.carrier),
    );
    member_family(
        e,
        "switchd_bond_member_active",
        "1 for the member that carries flooded traffic (and in active-backup, all traffic).",
        Kind::Gauge,
        &|b, m| u64::from(b.active_member.as_deref() == Some(m.member.as_str())),
    );
    member_family(
        e,
        "switchd_bond_member_tx_bytes_total",
        "Bytes sent through the member.",
        Kind::Counter,
        &|_, m| m.tx_bytes,
    );

    // lacp-show does not name the bridge; bond-show does (bond names are
    // unique daemon-wide). A bond added between the two requests is left
    // out of this scrape rather than given a wrong label.
    let bridge_of = |bond: &str| bonds.iter().find(|b| b.bond == bond).map(|b| b.bridge.as_str());
    let lacp_members = || {
        s.lacp.bonds.iter().flat_map(move |b| {
            bridge_of(&b.bond)
                .into_iter()
                .flat_map(move |bridge| b.members.iter().map(move |m| (bridge, b, m)))
        })
    };
    e.family(
        "switchd_lacp_member_rx_lacpdus_total",
        "LACPDUs received on the bond member.",
        Kind::Counter,
        |f| {
            for (bridge, b, m) in lacp_members() {
                f.add(
                    &[("bridge", bridge), ("bond", &b.bond), ("member", &m.member)],
                    m.rx_lacpdus,
                );
            }
        },
    );
    e.family(
        "switchd_lacp_member_tx_lacpdus_total",
        "LACPDUs sent out of the bond member.",
        Kind::Counter,
        |f| {
            for (bridge, b, m) in lacp_members() {
                f.add(
                    &[("bridge", bridge), ("bond", &b.bond), ("member", &m.member)],
                    m.tx_lacpdus,
                );
            }
        },
    );
}

fn controllers(e: &mut Exposition, s: &Snapshot) {
    let all = || {
        s.bridges
            .iter()
            .flat_map(|b| b.controllers.iter().map(move |c| (b, c)))
    };
    e.family(
        "switchd_controller_connected",
        "1 if an OpenFlow connection to the controller target is up.",
        Kind::Gauge,
        |f| {
            for (b, c) in all() {
                let up = c.state == ControllerState::Connected;
                f.add(&[("bridge", &b.name), ("target", &c.target)], u64::from(up));
            }
        },
    );
    let states = CONTROLLER_STATES.map(ControllerState::as_str);
    e.family(
        "switchd_controller_state",
        "Where the connection to the controller target stands: 1 for the current state, 0 for the others.",
        Kind::Gauge,
        |f| {
            for (b, c) in all() {
                let labels = [("bridge", b.name.as_str()), ("target", &c.target)];
                f.state_set(&labels, "state", &states, c.state.as_str());
            }
        },
    );
    e.family(
        "switchd_controller_packet_ins_dropped_total",
        "PACKET_INs the controller did not get because it did not read fast enough.",
        Kind::Counter,
        |f| {
            for (b, c) in all() {
                f.add(
                    &[("bridge", &b.name), ("target", &c.target)],
                    c.packet_ins_dropped,
                );
            }
        },
    );
}

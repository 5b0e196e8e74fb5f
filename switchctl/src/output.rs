//! How replies are printed: aligned human tables, or `--json`.
//!
//! Everything here is a pure function from a [`Reply`] (or part of one) to
//! the exact text printed, so layout is unit-tested. JSON output is the
//! reply's data in proto's own serde form (its field names are part of the
//! contract, see `proto::reply`); a change prints `{}` so scripts can always
//! parse stdout.

use std::fmt::Write as _;

use proto::types::FLOW_PRIORITY_DEFAULT;
use proto::{
    BondInfo, BondShowInfo, BridgeId, BridgeInfo, ControllerInfo, ControllerState, ControllersInfo, FdbEntry,
    FlowInfo, FlowsInfo, LacpBondInfo, LacpShowInfo, LacpState, LacpSystem, MetersInfo, PortInfo,
    PortSetting, PortState, PortStats, Reply, Request, RstpBridgeInfo, RstpInfo, RstpProtocol, RstpRole,
    RstpState, VlanMode,
};

/// Human output for a reply; empty for a change (like `ovs-vsctl`) and for
/// `fdb-flush`.
pub fn human(reply: &Reply) -> String {
    match reply {
        Reply::Done | Reply::Flushed { .. } => String::new(),
        Reply::Names(names) => names_list(names),
        Reply::Show(bridges) => show(bridges),
        Reply::Fdb(entries) => fdb(entries),
        Reply::Stats(stats) => port_stats(stats),
        Reply::Rstp(info) => rstp(info),
        Reply::Bonds(info) => bonds(info),
        Reply::Lacp(info) => lacp(info),
        Reply::Flows(info) => flows(info),
        Reply::Controllers(info) => controllers(info),
        Reply::Trace(info) => trace(info),
        Reply::Mirrors(info) => mirrors(info),
        Reply::Counters(info) => serde_json::to_string_pretty(info).unwrap_or_default() + "\n",
        Reply::Meters(info) => meters(info),
        Reply::Restarted(info) => restarted(info),
    }
}

/// `dump-meters`: each meter as `ovs-ofctl dump-meters` prints it (OVS's
/// `ofputil_format_meter_config`), without the reply header line:
/// `meter=1 kbps burst stats bands=` and one `type=drop rate=R` line per
/// band, with ` burst_size=B` when the meter has the burst flag.
pub fn meters(info: &MetersInfo) -> String {
    let mut out = String::new();
    for m in &info.meters {
        let _ = write!(out, "meter={} {} ", m.meter, m.unit);
        if m.burst {
            out.push_str("burst ");
        }
        if m.stats {
            out.push_str("stats ");
        }
        out.push_str("bands=\n");
        for b in &m.bands {
            let _ = write!(out, "type={} rate={}", b.band_type, b.rate);
            if m.burst {
                let _ = write!(out, " burst_size={}", b.burst_size);
            }
            out.push('\n');
        }
    }
    out
}

/// `meter-stats`: each meter's counters as `ovs-ofctl meter-stats` prints
/// them (OVS's `ofputil_format_meter_stats`), without the header line.
pub fn meter_stats(info: &MetersInfo) -> String {
    let mut out = String::new();
    for m in &info.meters {
        let _ = writeln!(
            out,
            "meter:{} flow_count:{} packet_in_count:{} byte_in_count:{} duration:{}.{:03}s bands:",
            m.meter,
            m.flows,
            m.packets,
            m.bytes,
            m.duration_ms / 1000,
            m.duration_ms % 1000
        );
        for (i, b) in m.bands.iter().enumerate() {
            let _ = writeln!(out, "{i}: packet_count:{} byte_count:{}", b.packets, b.bytes);
        }
    }
    out
}

/// `list-mirrors`: one line per mirror.
/// `restart`: one line saying what the new image took over.
fn restarted(info: &proto::RestartInfo) -> String {
    let plural = |n: u32, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    format!(
        "switchd {} restarted in place (pid {}): {} handed over, {} re-opened, {} handed over; \
         forwarding paused {} ms\n",
        info.version,
        info.pid,
        plural(info.ports_handed_over, "port"),
        plural(info.ports_reopened, "port"),
        plural(info.endpoints_handed_over, "tunnel endpoint"),
        info.pause_ms
    )
}

fn mirrors(info: &proto::MirrorsInfo) -> String {
    let mut out = String::new();
    for m in &info.mirrors {
        let mut sel = Vec::new();
        if m.select_all {
            sel.push("select_all=true".to_string());
        }
        if !m.select_src_port.is_empty() {
            sel.push(format!("select_src_port={}", m.select_src_port.join(",")));
        }
        if !m.select_dst_port.is_empty() {
            sel.push(format!("select_dst_port={}", m.select_dst_port.join(",")));
        }
        if !m.select_vlan.is_empty() {
            let v: Vec<String> = m.select_vlan.iter().map(u16::to_string).collect();
            sel.push(format!("select_vlan={}", v.join(",")));
        }
        let output = match (&m.output_port, m.output_vlan) {
            (Some(p), _) => format!("output_port={p}"),
            (None, Some(v)) => format!("output_vlan={v}"),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            "{} {}: {} {} tx_packets={} tx_bytes={}",
            m.bridge,
            m.mirror,
            sel.join(" "),
            output,
            m.tx_packets,
            m.tx_bytes
        );
    }
    out
}

/// `trace`: one line per step (`stage: detail`), then the result, as
/// `ovs-appctl ofproto/trace` ends with its datapath actions.
fn trace(info: &proto::TraceInfo) -> String {
    let mut out = String::new();
    for s in &info.steps {
        let _ = writeln!(out, "{:<7} {}", format!("{}:", s.stage.as_str()), s.detail);
    }
    let r = &info.result;
    let _ = write!(out, "result: {}", r.action.as_str());
    if !r.ports.is_empty() {
        let _ = write!(out, " {}", r.ports.join(","));
    }
    if let Some(reason) = &r.reason {
        let _ = write!(out, " ({reason})");
    }
    out.push('\n');
    out
}

/// Human output for the reply to `request`: [`human`], except that
/// `get-controller` without a bridge groups the targets under a line per
/// bridge ([`controllers_by_bridge`]); with a bridge it prints just that
/// bridge's targets, as `ovs-vsctl get-controller BR` does.
pub fn human_for(request: &Request, reply: &Reply) -> String {
    match (request, reply) {
        (Request::GetController { bridge: None }, Reply::Controllers(info)) => controllers_by_bridge(info),
        _ => human(reply),
    }
}

/// `--json` output for a reply: pretty JSON plus a newline. Changes give
/// `{}`, lists an array, `fdb-flush` `{"removed": N}`, `rstp-show`
/// `{"bridges": [...]}` (SPEC §7), `bond-show` and `lacp-show`
/// `{"bonds": [...]}` (SPEC §8), `dump-flows` `{"flows": [...]}` (SPEC §9),
/// `get-controller` `{"bridges": [...]}` (SPEC §10).
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
        Reply::Rstp(info) => serde_json::to_value(info)?,
        Reply::Bonds(info) => serde_json::to_value(info)?,
        Reply::Lacp(info) => serde_json::to_value(info)?,
        // Written straight from the struct: a `Value` map sorts its keys
        // (serde_json without `preserve_order`), and a flow reads best in the
        // SPEC's order, table and priority first, as dump-flows' text.
        Reply::Flows(info) => {
            let mut out = serde_json::to_string_pretty(info)?;
            out.push('\n');
            return Ok(out);
        }
        Reply::Counters(info) => serde_json::to_value(info)?,
        // In the SPEC's field order.
        Reply::Restarted(info) => serde_json::to_value(info)?,
        Reply::Meters(info) => {
            let mut out = serde_json::to_string_pretty(info)?;
            out.push('\n');
            return Ok(out);
        }
        // In the SPEC's field order.
        Reply::Mirrors(info) => {
            let mut out = serde_json::to_string_pretty(info)?;
            out.push('\n');
            return Ok(out);
        }
        // In the SPEC's order: steps, then result.
        Reply::Trace(info) => {
            let mut out = serde_json::to_string_pretty(info)?;
            out.push('\n');
            return Ok(out);
        }
        // Likewise in the SPEC's order: target, state, role, version,
        // last_error.
        Reply::Controllers(info) => {
            let mut out = serde_json::to_string_pretty(info)?;
            out.push('\n');
            return Ok(out);
        }
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
/// Bridges are separated by an empty line; no bridges print nothing. The
/// OFPORT column, next to the name, is the port's OpenFlow number (what
/// `ovs-ofctl show` lists as `3(vm1)`), `-` from a daemon without flow
/// tables.
pub fn show(bridges: &[BridgeInfo]) -> String {
    let mut out = String::new();
    for (i, b) in bridges.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // A daemon that predates bridge MACs sends none (all zero).
        let mac = if b.mac.is_zero() {
            String::new()
        } else {
            format!(" mac={}", b.mac)
        };
        let _ = writeln!(
            out,
            "bridge {}:{mac} mac_aging={} mac_table_size={} mac_entries={}",
            b.name, b.mac_aging, b.mac_table_size, b.mac_entries
        );
        if b.rstp.enabled {
            let settings: Vec<String> = b.rstp.settings().iter().map(ToString::to_string).collect();
            let _ = writeln!(out, "  {}", settings.join(" "));
        }
        // A daemon that predates OpenFlow controllers sends no datapath id.
        if let Some(dpid) = b.datapath_id {
            let _ = writeln!(
                out,
                "  datapath_id={dpid} fail_mode={} protocols={}",
                b.fail_mode, b.protocols
            );
        }
        for c in &b.controllers {
            show_controller(&mut out, c);
        }
        if !b.sflow.is_empty() {
            let _ = writeln!(out, "  sflow: {}", b.sflow.join(" "));
        }
        if !b.ipfix.is_empty() {
            let _ = writeln!(out, "  ipfix: {}", b.ipfix.join(" "));
        }
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
                    p.ofport.map_or_else(|| "-".to_owned(), |n| n.to_string()),
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
                ("OFPORT", Align::Right),
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

/// A controller in `show`, as `ovs-vsctl show` has it: `Controller
/// "TARGET"`, then `is_connected: true` when it is, else the state, and
/// the last error if there is one.
fn show_controller(out: &mut String, c: &ControllerInfo) {
    let _ = writeln!(out, "  Controller \"{}\"", c.target);
    match c.state {
        ControllerState::Connected => out.push_str("    is_connected: true\n"),
        state => {
            let _ = writeln!(out, "    state: {}", state.as_str());
        }
    }
    if let Some(e) = &c.last_error {
        let _ = writeln!(out, "    last_error: {}", one_line(e));
    }
}

/// `get-controller BR`: one line per target, `TARGET STATE role=ROLE` and
/// `version=V` once a version was negotiated, with `  last_error: REASON`
/// under it when a connection failed. The target comes first, as the
/// whole line of `ovs-vsctl get-controller`. The targets of every bridge
/// in the reply, in order; nothing without targets.
pub fn controllers(info: &ControllersInfo) -> String {
    let mut out = String::new();
    for b in &info.bridges {
        for c in &b.controllers {
            controller_lines(&mut out, "", c);
        }
    }
    out
}

/// `get-controller` without a bridge: per bridge `bridge BR:
/// fail_mode=MODE` and its targets indented as [`controllers`] prints them
/// (`(no controllers)` if none); bridges separated by an empty line, as in
/// `show`.
pub fn controllers_by_bridge(info: &ControllersInfo) -> String {
    let mut out = String::new();
    for (i, b) in info.bridges.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "bridge {}: fail_mode={}", b.bridge, b.fail_mode);
        if b.controllers.is_empty() {
            out.push_str("  (no controllers)\n");
        }
        for c in &b.controllers {
            controller_lines(&mut out, "  ", c);
        }
    }
    out
}

fn controller_lines(out: &mut String, indent: &str, c: &ControllerInfo) {
    let _ = write!(
        out,
        "{indent}{} {} role={}",
        c.target,
        c.state.as_str(),
        c.role.as_str()
    );
    if let Some(v) = c.version {
        let _ = write!(out, " version={v}");
    }
    if c.packet_ins_dropped > 0 {
        let _ = write!(out, " packet_ins_dropped={}", c.packet_ins_dropped);
    }
    out.push('\n');
    if let Some(e) = &c.last_error {
        let _ = writeln!(out, "{indent}  last_error: {}", one_line(e));
    }
}

/// A message from the daemon on one line, whatever it contains.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
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

/// The type-specific settings of a port as `KEY=VALUE`s, in `--help` order:
/// a bond's members and its mode in force first, then the other bond keys
/// that are set, `ofport_request`, the tunnel and socket keys, and the
/// spanning tree keys.
fn options_summary(p: &PortInfo) -> String {
    let c = &p.config;
    let mut opts = Vec::new();
    if c.port_type.is_bond() {
        let members: Vec<&str> = c.members().iter().map(|m| m.as_str()).collect();
        opts.push(format!("members={}", members.join(",")));
        opts.push(PortSetting::BondMode(c.bond().mode).to_string());
        opts.extend(
            c.bond_settings()
                .iter()
                .filter(|s| !matches!(s, PortSetting::BondMode(_)))
                .map(ToString::to_string),
        );
    }
    if let Some(n) = c.ofport_request {
        opts.push(PortSetting::OfportRequest(n).to_string());
    }
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
    opts.extend(c.rstp_settings().iter().map(ToString::to_string));
    opts.extend(c.policing_settings().iter().map(ToString::to_string));
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

/// `rstp-show`, laid out as `ovs-appctl rstp/show`: per bridge a
/// `---- BR ----` banner, the root's and the bridge's identifiers
/// (OVS's `stp-priority` and `stp-system-id`, plus the id in the form the
/// designated bridge column and the JSON use), then one row per port with
/// OVS's role and state names and `Pri.Nbr` port id. Bridges are separated
/// by an empty line; none prints nothing.
pub fn rstp(info: &RstpInfo) -> String {
    let mut out = String::new();
    for (i, b) in info.bridges.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        rstp_bridge(&mut out, b);
    }
    out
}

fn rstp_bridge(out: &mut String, b: &RstpBridgeInfo) {
    let line = |out: &mut String, key: &str, value: &dyn std::fmt::Display| {
        let _ = writeln!(out, "  {key:<17} {value}");
    };
    let id = |out: &mut String, key: &str, id: &BridgeId| {
        line(out, key, id);
        line(out, "stp-priority", &id.priority);
        line(out, "stp-system-id", &id.mac);
    };
    let _ = writeln!(out, "---- {} ----", b.bridge);
    out.push_str("Root ID:\n");
    id(out, "root-id", &b.root_id);
    if b.is_root() {
        out.push_str("  This bridge is the root\n");
    } else {
        line(out, "root-port", &b.root_port.as_deref().unwrap_or("(none)"));
        line(out, "root-path-cost", &b.root_path_cost);
    }
    out.push_str("\nBridge ID:\n");
    id(out, "bridge-id", &b.bridge_id);
    line(out, "topology-changes", &b.topology_changes);
    line(out, "fdb-flushes", &b.fdb_flushes);
    out.push('\n');
    let rows: Vec<Vec<String>> = b
        .ports
        .iter()
        .map(|p| {
            vec![
                p.port.clone(),
                role_name(p.role).to_owned(),
                state_name(p.state).to_owned(),
                p.path_cost.to_string(),
                format!("{}.{}", p.port_id.priority(), p.port_id.number()),
                p.designated_bridge.to_string(),
                if p.edge { "yes" } else { "no" }.to_owned(),
                p.rx_bpdus.to_string(),
                p.tx_bpdus.to_string(),
                match p.protocol {
                    RstpProtocol::Rstp => "RSTP",
                    RstpProtocol::Stp => "STP",
                }
                .to_owned(),
            ]
        })
        .collect();
    use Align::{Left as L, Right as R};
    out.push_str(&render_table(
        "  ",
        &[
            ("Interface", L),
            ("Role", L),
            ("State", L),
            ("Cost", R),
            ("Pri.Nbr", L),
            ("Designated-Bridge", L),
            ("Edge", L),
            ("Rx-BPDUs", R),
            ("Tx-BPDUs", R),
            ("Protocol", L),
        ],
        &rows,
        true,
    ));
}

/// OVS's name of a port role (`rstp_port_role_name`).
fn role_name(r: RstpRole) -> &'static str {
    match r {
        RstpRole::Root => "Root",
        RstpRole::Designated => "Designated",
        RstpRole::Alternate => "Alternate",
        RstpRole::Backup => "Backup",
        RstpRole::Disabled => "Disabled",
    }
}

/// OVS's name of a port state (`rstp_state_name`).
fn state_name(s: RstpState) -> &'static str {
    match s {
        RstpState::Discarding => "Discarding",
        RstpState::Learning => "Learning",
        RstpState::Forwarding => "Forwarding",
    }
}

/// `bond-show`, laid out as `ovs-appctl bond/show` (`bond_print_details`):
/// per bond a `---- BOND ----` banner, `key: value` lines for the bond, then
/// per member a `member NAME: enabled|disabled` paragraph. Balanced bonds
/// also say when they next rebalance and which hash buckets each member
/// has. Bonds are separated by an empty line; none prints nothing.
pub fn bonds(info: &BondShowInfo) -> String {
    let mut out = String::new();
    for (i, b) in info.bonds.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        bond(&mut out, b);
    }
    out
}

fn bond(out: &mut String, b: &BondInfo) {
    let balanced = b.bond_mode.is_balanced();
    let _ = writeln!(out, "---- {} ----", b.bond);
    let _ = writeln!(out, "bridge: {}", b.bridge);
    let _ = writeln!(out, "bond_mode: {}", b.bond_mode);
    let _ = writeln!(out, "lacp: {}", b.lacp);
    let _ = writeln!(out, "lacp_status: {}", b.lacp_status.as_str());
    if balanced {
        let _ = writeln!(out, "next rebalance: {} ms", b.next_rebalance_ms);
    }
    let _ = writeln!(
        out,
        "active member: {}",
        b.active_member.as_deref().unwrap_or("none")
    );
    for m in &b.members {
        let _ = writeln!(
            out,
            "\nmember {}: {}",
            m.member,
            if m.enabled { "enabled" } else { "disabled" }
        );
        if b.active_member.as_deref() == Some(m.member.as_str()) {
            out.push_str("  active member\n");
        }
        let _ = writeln!(out, "  may_enable: {}", m.may_enable);
        let _ = writeln!(out, "  carrier: {}", if m.carrier { "up" } else { "down" });
        let _ = writeln!(out, "  tx_bytes: {}", m.tx_bytes);
        if balanced {
            let _ = writeln!(out, "  buckets: {}", bucket_ranges(&m.buckets));
        }
    }
}

/// Bucket indexes in ascending order with runs as ranges (`0,5-7,255`),
/// or `none`.
fn bucket_ranges(buckets: &[u8]) -> String {
    let mut sorted = buckets.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut iter = sorted.into_iter().peekable();
    while let Some(lo) = iter.next() {
        let mut hi = lo;
        while iter.peek().is_some_and(|&n| Some(n) == hi.checked_add(1)) {
            hi = iter.next().unwrap_or(hi);
        }
        parts.push(if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        });
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(",")
    }
}

/// `lacp-show`, laid out as `ovs-appctl lacp/show` (`lacp_print_details`):
/// per bond a banner, the status and this side's system id, priority and
/// aggregation key, the partner's (or `partner: none`), then per member a
/// `member: NAME: current|expired|defaulted attached|detached` paragraph
/// with both state octets in OVS's words and, as `lacp/show-stats`, the
/// LACPDUs counted. Bonds are separated by an empty line.
pub fn lacp(info: &LacpShowInfo) -> String {
    let mut out = String::new();
    for (i, b) in info.bonds.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        lacp_bond(&mut out, b);
    }
    out
}

fn lacp_bond(out: &mut String, b: &LacpBondInfo) {
    let system = |out: &mut String, prefix: &str, s: &LacpSystem| {
        let _ = writeln!(out, "  {prefix}sys_id: {}", s.system_id);
        let _ = writeln!(out, "  {prefix}sys_priority: {}", s.system_priority);
    };
    let _ = writeln!(out, "---- {} ----", b.bond);
    let _ = writeln!(out, "  status: {}", b.status.as_str());
    system(out, "", &b.actor);
    let _ = writeln!(out, "  aggregation key: {}", b.actor.key);
    match &b.partner {
        Some(p) => {
            system(out, "partner ", p);
            let _ = writeln!(out, "  partner key: {}", p.key);
        }
        None => out.push_str("  partner: none\n"),
    }
    for m in &b.members {
        // OVS's member status, which it also writes into the actor state
        // (member_get_actor): expired, defaulted or current; attached is
        // the actor's synchronization bit.
        let status = if m.actor_state.contains(LacpState::EXPIRED) {
            "expired"
        } else if m.actor_state.contains(LacpState::DEFAULTED) {
            "defaulted"
        } else {
            "current"
        };
        let attached = if m.actor_state.contains(LacpState::SYNCHRONIZATION) {
            "attached"
        } else {
            "detached"
        };
        let _ = writeln!(out, "\nmember: {}: {status} {attached}", m.member);
        let _ = writeln!(out, "  actor state:{}", state_words(m.actor_state));
        let _ = writeln!(out, "  partner state:{}", state_words(m.partner_state));
        let _ = writeln!(out, "  RX PDUs: {}", m.rx_lacpdus);
        let _ = writeln!(out, "  TX PDUs: {}", m.tx_lacpdus);
    }
}

/// The set bits of an LACP state as `ds_put_lacp_state` prints them: each
/// preceded by a space, `synchronized` where the JSON says `synchronization`.
fn state_words(s: LacpState) -> String {
    s.names()
        .map(|n| match n {
            "synchronization" => " synchronized".to_owned(),
            other => format!(" {other}"),
        })
        .collect()
}

/// `dump-flows`: one line per flow, exactly as `ovs-ofctl dump-flows`
/// prints them (each line starts with a space); no flows print nothing.
pub fn flows(info: &FlowsInfo) -> String {
    info.flows.iter().map(|f| format!("{}\n", flow_line(f))).collect()
}

/// One flow as OVS's `ofputil_flow_stats_format` writes it with statistics
/// (lib/ofp-flow.c), after `ovs-ofctl`'s leading space:
///
/// ```text
///  cookie=0x0, duration=3.412s, table=0, n_packets=10, n_bytes=980, idle_age=1, priority=100,tcp,in_port=vm1,tp_dst=22 actions=drop
/// ```
///
/// - `cookie`, `duration`, `table`, `n_packets`, `n_bytes` always, each
///   followed by `", "`;
/// - `idle_timeout=N, ` and `hard_timeout=N, ` only when not 0 (permanent),
///   before `idle_age=N, `, which is always there;
/// - then `match_format`: `priority=N` unless it is the default 32768, and
///   the match fields, joined by commas; a space after them unless both are
///   empty (a catch-all flow at priority 32768 reads `idle_age=5, actions=...`);
/// - `actions=` and the actions, `drop` for none.
///
/// The duration is `ofp_print_duration`'s: whole seconds, then `.` and three
/// digits unless the milliseconds are 0 (`duration=5s`). OVS's `hard_age`,
/// flags and importance are not in the reply (SPEC §9's JSON has no such
/// fields), so they are never printed.
pub fn flow_line(f: &FlowInfo) -> String {
    let mut out = format!(
        " cookie={:#x}, duration={}, table={}, n_packets={}, n_bytes={}, ",
        f.cookie,
        duration(f.duration),
        f.table,
        f.n_packets,
        f.n_bytes
    );
    if f.idle_timeout != 0 {
        let _ = write!(out, "idle_timeout={}, ", f.idle_timeout);
    }
    if f.hard_timeout != 0 {
        let _ = write!(out, "hard_timeout={}, ", f.hard_timeout);
    }
    let _ = write!(out, "idle_age={}, ", f.idle_age_s);
    let mut fields = Vec::with_capacity(2);
    let priority = format!("priority={}", f.priority);
    if f.priority != FLOW_PRIORITY_DEFAULT {
        fields.push(priority.as_str());
    }
    // match_format() ends every field with ',' and chomps the last one; a
    // canonical match from the daemon has none to chomp, but a stray one
    // must not become ",," or ", actions".
    let flow_match = f.flow_match.trim_end_matches(',');
    if !flow_match.is_empty() {
        fields.push(flow_match);
    }
    if !fields.is_empty() {
        out.push_str(&fields.join(","));
        out.push(' ');
    }
    out.push_str("actions=");
    out.push_str(if f.actions.is_empty() { "drop" } else { &f.actions });
    out
}

/// A flow's age as `ofp_print_duration` writes it from milliseconds:
/// `3.412s`, `0.050s`, but `5s` for a whole number of seconds.
fn duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    match (ms / 1000, ms % 1000) {
        (s, 0) => format!("{s}s"),
        (s, frac) => format!("{s}.{frac:03}s"),
    }
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
    render_table(indent, columns, rows, false)
}

/// [`table`], with a line of dashes under the header if `rule` (as OVS's
/// `rstp/show` has).
fn render_table(indent: &str, columns: &[(&str, Align)], rows: &[Vec<String>], rule: bool) -> String {
    let mut widths: Vec<usize> = columns.iter().map(|(h, _)| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = columns.iter().map(|(h, _)| (*h).to_owned()).collect();
    let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    let rule = rule.then_some(&dashes);
    for row in std::iter::once(&header).chain(rule).chain(rows) {
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
    use proto::{
        BridgeControllers, ControllerRole, DatapathId, FailMode, MacAddr, OfVersion, OfVersions, PortConfig,
        PortSetting, PortType, RstpBridgeConfig,
    };

    /// br0 (standalone) with a connected controller and a listener, br1
    /// (secure) with one it cannot reach, br2 without controllers.
    fn sample_controllers() -> ControllersInfo {
        let c = |target: &str, state, role, version, last_error: Option<&str>| ControllerInfo {
            target: target.into(),
            state,
            role,
            version,
            last_error: last_error.map(Into::into),
            packet_ins_dropped: 0,
        };
        ControllersInfo {
            bridges: vec![
                BridgeControllers {
                    bridge: "br0".into(),
                    fail_mode: FailMode::Standalone,
                    controllers: vec![
                        c(
                            "tcp:127.0.0.1:6653",
                            ControllerState::Connected,
                            ControllerRole::Equal,
                            Some(OfVersion::OpenFlow13),
                            None,
                        ),
                        c(
                            "ptcp:6633:127.0.0.1",
                            ControllerState::Listening,
                            ControllerRole::Equal,
                            None,
                            None,
                        ),
                        c(
                            "tcp:[2001:db8::1]:6653",
                            ControllerState::Backoff,
                            ControllerRole::Equal,
                            None,
                            Some("Connection refused"),
                        ),
                    ],
                },
                BridgeControllers {
                    bridge: "br1".into(),
                    fail_mode: FailMode::Secure,
                    controllers: vec![c(
                        "tcp:[2001:db8::1]:6653",
                        ControllerState::Backoff,
                        ControllerRole::Master,
                        Some(OfVersion::OpenFlow10),
                        Some("Connection refused"),
                    )],
                },
                BridgeControllers {
                    bridge: "br2".into(),
                    fail_mode: FailMode::Standalone,
                    controllers: vec![],
                },
            ],
        }
    }

    #[test]
    fn get_controller_lines_target_first() {
        let info = sample_controllers();
        let one = ControllersInfo {
            bridges: vec![info.bridges[0].clone()],
        };
        let expected = "\
tcp:127.0.0.1:6653 connected role=equal version=OpenFlow13
ptcp:6633:127.0.0.1 listening role=equal
tcp:[2001:db8::1]:6653 backoff role=equal
  last_error: Connection refused
";
        assert_eq!(controllers(&one), expected);
        let by_bridge = Request::GetController {
            bridge: Some("br0".parse().unwrap()),
        };
        assert_eq!(human_for(&by_bridge, &Reply::Controllers(one.clone())), expected);
        assert_eq!(human(&Reply::Controllers(one)), expected);
        // a bridge without controllers prints nothing, as ovs-vsctl
        let none = ControllersInfo {
            bridges: vec![info.bridges[2].clone()],
        };
        assert_eq!(controllers(&none), "");
        // without BR: grouped per bridge
        let expected = "\
bridge br0: fail_mode=standalone
  tcp:127.0.0.1:6653 connected role=equal version=OpenFlow13
  ptcp:6633:127.0.0.1 listening role=equal
  tcp:[2001:db8::1]:6653 backoff role=equal
    last_error: Connection refused

bridge br1: fail_mode=secure
  tcp:[2001:db8::1]:6653 backoff role=master version=OpenFlow10
    last_error: Connection refused

bridge br2: fail_mode=standalone
  (no controllers)
";
        assert_eq!(controllers_by_bridge(&info), expected);
        let all = Request::GetController { bridge: None };
        assert_eq!(human_for(&all, &Reply::Controllers(info.clone())), expected);
        assert_eq!(controllers_by_bridge(&ControllersInfo::default()), "");
        // other replies print as human() prints them
        assert_eq!(human_for(&all, &Reply::Done), "");
        assert_eq!(
            human_for(&Request::ListBr, &Reply::Names(vec!["br0".into()])),
            "br0\n"
        );
        // a message from the daemon stays on its line
        let mut odd = info.bridges[1].clone();
        odd.controllers[0].last_error = Some("a\nb".into());
        assert_eq!(
            controllers(&ControllersInfo { bridges: vec![odd] }),
            "tcp:[2001:db8::1]:6653 backoff role=master version=OpenFlow10\n  last_error: a b\n"
        );
    }

    #[test]
    fn get_controller_json_is_the_spec_text() {
        let info = ControllersInfo {
            bridges: vec![BridgeControllers {
                controllers: vec![sample_controllers().bridges[0].controllers[0].clone()],
                ..sample_controllers().bridges[0].clone()
            }],
        };
        let out = json(&Reply::Controllers(info.clone())).unwrap();
        // pretty, in the SPEC's field order
        assert_eq!(
            out,
            r#"{
  "bridges": [
    {
      "bridge": "br0",
      "fail_mode": "standalone",
      "controllers": [
        {
          "target": "tcp:127.0.0.1:6653",
          "state": "connected",
          "role": "equal",
          "version": "OpenFlow13",
          "last_error": null
        }
      ]
    }
  ]
}
"#
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            serde_json::to_string(&serde_json::json!({"bridges": [{"bridge": "br0", "controllers": [
                {"last_error": null, "role": "equal", "state": "connected",
                 "target": "tcp:127.0.0.1:6653", "version": "OpenFlow13"}], "fail_mode": "standalone"}]}))
            .unwrap()
        );
        assert_eq!(
            serde_json::from_str::<ControllersInfo>(
                &json(&Reply::Controllers(sample_controllers())).unwrap()
            )
            .unwrap(),
            sample_controllers()
        );
        assert_eq!(
            json(&Reply::Controllers(ControllersInfo::default())).unwrap(),
            "{\n  \"bridges\": []\n}\n"
        );
    }

    fn port(name: &str, settings: &[&str], state: PortState, mtu: Option<u32>) -> PortInfo {
        let settings: Vec<PortSetting> = settings.iter().map(|s| s.parse().unwrap()).collect();
        let config = PortConfig::from_settings(&settings).unwrap();
        PortInfo {
            name: name.into(),
            ofport: None,
            port_type: config.port_type,
            vlan_mode: config.effective_vlan_mode(),
            config,
            state,
            mtu,
        }
    }

    /// `p` as a daemon with flow tables reports it: with an OpenFlow number.
    fn numbered(p: PortInfo, ofport: u16) -> PortInfo {
        PortInfo {
            ofport: Some(ofport),
            ..p
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
                sflow: vec![],
                ipfix: vec![],
                external_ids: Default::default(),
                name: "br0".into(),
                mac: MacAddr([2, 0x5c, 0x8e, 0x11, 0x22, 0x33]),
                mac_aging: 300,
                mac_table_size: 8192,
                mac_entries: 3,
                rstp: RstpBridgeConfig {
                    enabled: true,
                    priority: 4096,
                    ..Default::default()
                },
                fail_mode: FailMode::Secure,
                protocols: "OpenFlow13".parse().unwrap(),
                datapath_id: Some(DatapathId::from_mac(MacAddr([2, 0x5c, 0x8e, 0x11, 0x22, 0x33]))),
                controllers: sample_controllers().bridges[0].controllers.clone(),
                ports: vec![
                    numbered(port("eth1", &[], PortState::Up, Some(1500)), 1),
                    numbered(
                        port(
                            "vnet0",
                            &[
                                "type=tap",
                                "tag=10",
                                "persist=true",
                                "rstp_admin_edge=true",
                                "ofport_request=65279",
                            ],
                            down("no such device"),
                            None,
                        ),
                        65279,
                    ),
                    // from a daemon without OpenFlow numbers
                    port(
                        "vx0",
                        &[
                            "type=vxlan",
                            "remote_ip=192.0.2.7",
                            "key=42",
                            "rstp_path_cost=200000",
                            "rstp_enable=false",
                        ],
                        PortState::Up,
                        Some(1450),
                    ),
                ],
            },
            // as a daemon sends it that has no bridge MAC, RSTP off, no OpenFlow
            BridgeInfo {
                sflow: vec![],
                ipfix: vec![],
                external_ids: Default::default(),
                name: "br1".into(),
                mac: MacAddr::default(),
                mac_aging: 60,
                mac_table_size: 16,
                mac_entries: 0,
                rstp: RstpBridgeConfig::default(),
                fail_mode: FailMode::default(),
                protocols: OfVersions::default(),
                datapath_id: None,
                controllers: vec![],
                ports: vec![],
            },
            BridgeInfo {
                sflow: vec![],
                ipfix: vec![],
                external_ids: Default::default(),
                name: "br2".into(),
                mac: MacAddr([2, 0, 0, 0, 0, 2]),
                mac_aging: 300,
                mac_table_size: 8192,
                mac_entries: 0,
                rstp: RstpBridgeConfig::default(),
                fail_mode: FailMode::default(),
                protocols: OfVersions::default(),
                datapath_id: Some("0000000000000abc".parse().unwrap()),
                controllers: vec![],
                ports: vec![],
            },
        ];
        let expected = "\
bridge br0: mac=02:5c:8e:11:22:33 mac_aging=300 mac_table_size=8192 mac_entries=3
  rstp=true rstp_priority=4096 rstp_max_age=20 rstp_forward_delay=15 rstp_transmit_hold_count=6 rstp_force_protocol_version=2
  datapath_id=0000025c8e112233 fail_mode=secure protocols=OpenFlow13
  Controller \"tcp:127.0.0.1:6653\"
    is_connected: true
  Controller \"ptcp:6633:127.0.0.1\"
    state: listening
  Controller \"tcp:[2001:db8::1]:6653\"
    state: backoff
    last_error: Connection refused
  PORT   OFPORT  TYPE    VLAN            MTU  STATE                  OPTIONS
  eth1        1  system  trunk all      1500  up
  vnet0   65279  tap     access tag=10     -  down (no such device)  ofport_request=65279 persist=true rstp_admin_edge=true
  vx0         -  vxlan   trunk all      1450  up                     remote_ip=192.0.2.7 key=42 rstp_enable=false rstp_path_cost=200000

bridge br1: mac_aging=60 mac_table_size=16 mac_entries=0
  (no ports)

bridge br2: mac=02:00:00:00:00:02 mac_aging=300 mac_table_size=8192 mac_entries=0
  datapath_id=0000000000000abc fail_mode=standalone protocols=OpenFlow13,OpenFlow10
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
            sflow: vec![],
            ipfix: vec![],
            external_ids: Default::default(),
            name: "br0".into(),
            mac: MacAddr([2, 0, 0, 0, 0, 1]),
            mac_aging: 300,
            mac_table_size: 8192,
            mac_entries: 0,
            rstp: RstpBridgeConfig {
                enabled: true,
                ..Default::default()
            },
            fail_mode: FailMode::Standalone,
            protocols: OfVersions::default(),
            datapath_id: Some(DatapathId::from_mac(MacAddr([2, 0, 0, 0, 0, 1]))),
            controllers: sample_controllers().bridges[1].controllers.clone(),
            ports: vec![
                numbered(
                    port(
                        "vnet0",
                        &["tag=10", "rstp_path_cost=2000", "ofport_request=5"],
                        down("no such device"),
                        None,
                    ),
                    5,
                ),
                port("old", &[], PortState::Up, None),
            ],
        }]));
        // the number in force next to the name, the number asked for in the config
        assert_eq!(v[0]["ports"][0]["ofport"], 5);
        assert_eq!(v[0]["ports"][0]["config"]["ofport_request"], 5);
        // neither is written when unknown or not asked for
        assert!(v[0]["ports"][1].get("ofport").is_none());
        assert!(v[0]["ports"][1]["config"].get("ofport_request").is_none());
        assert_eq!(v[0]["mac"], "02:00:00:00:00:01");
        assert_eq!(v[0]["fail_mode"], "standalone");
        assert_eq!(v[0]["protocols"], serde_json::json!(["OpenFlow13", "OpenFlow10"]));
        assert_eq!(v[0]["datapath_id"], "0000020000000001");
        assert_eq!(
            v[0]["controllers"],
            serde_json::json!([{"target": "tcp:[2001:db8::1]:6653", "state": "backoff", "role": "master",
                                "version": "OpenFlow10", "last_error": "Connection refused"}])
        );
        assert_eq!(v[0]["rstp"], true);
        assert_eq!(v[0]["rstp_priority"], 32768);
        assert_eq!(v[0]["rstp_max_age"], 20);
        assert_eq!(v[0]["rstp_forward_delay"], 15);
        assert_eq!(v[0]["rstp_transmit_hold_count"], 6);
        assert_eq!(v[0]["rstp_force_protocol_version"], 2);
        assert_eq!(v[0]["ports"][0]["config"]["rstp_path_cost"], 2000);
        assert!(v[0]["ports"][0]["config"].get("rstp_enable").is_none());
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

#[cfg(test)]
mod rstp_tests {
    use super::*;
    use proto::{RstpPortId, RstpPortInfo};

    fn id(s: &str) -> BridgeId {
        s.parse().unwrap()
    }

    #[allow(clippy::too_many_arguments)]
    fn port(
        name: &str,
        role: RstpRole,
        state: RstpState,
        path_cost: u32,
        port_id: RstpPortId,
        designated: &str,
        edge: bool,
        (rx_bpdus, tx_bpdus): (u64, u64),
        protocol: RstpProtocol,
    ) -> RstpPortInfo {
        RstpPortInfo {
            port: name.into(),
            role,
            state,
            path_cost,
            port_id,
            designated_bridge: id(designated),
            edge,
            rx_bpdus,
            tx_bpdus,
            protocol,
        }
    }

    fn sample() -> RstpInfo {
        use RstpProtocol::{Rstp, Stp};
        use RstpRole::*;
        use RstpState::*;
        RstpInfo {
            bridges: vec![
                RstpBridgeInfo {
                    bridge: "br0".into(),
                    bridge_id: id("8000.020000000001"),
                    root_id: id("8000.020000000001"),
                    root_port: None,
                    root_path_cost: 0,
                    topology_changes: 2,
                    ports: vec![
                        port(
                            "vnet0",
                            Designated,
                            Forwarding,
                            20000,
                            RstpPortId::new(128, 1),
                            "8000.020000000001",
                            true,
                            (0, 31),
                            Rstp,
                        ),
                        port(
                            "eth1",
                            Designated,
                            Learning,
                            2000,
                            RstpPortId::new(64, 2),
                            "8000.020000000001",
                            false,
                            (4, 12),
                            Stp,
                        ),
                    ],
                    fdb_flushes: 1,
                },
                RstpBridgeInfo {
                    bridge: "br1".into(),
                    bridge_id: id("9000.02000000000a"),
                    root_id: id("8000.020000000001"),
                    root_port: Some("p1".into()),
                    root_path_cost: 20000,
                    topology_changes: 0,
                    ports: vec![
                        port(
                            "p1",
                            Root,
                            Forwarding,
                            20000,
                            RstpPortId::new(128, 1),
                            "8000.020000000001",
                            false,
                            (120, 3),
                            Rstp,
                        ),
                        port(
                            "p2",
                            Alternate,
                            Discarding,
                            20000,
                            RstpPortId::new(128, 2),
                            "8000.020000000002",
                            false,
                            (118, 2),
                            Rstp,
                        ),
                        port(
                            "vx0",
                            Backup,
                            Discarding,
                            200000000,
                            RstpPortId::new(240, 3),
                            "9000.02000000000a",
                            false,
                            (7, 7),
                            Rstp,
                        ),
                        port(
                            "tap9",
                            Disabled,
                            Forwarding,
                            20000,
                            RstpPortId::new(128, 4),
                            "9000.02000000000a",
                            false,
                            (0, 0),
                            Rstp,
                        ),
                    ],
                    fdb_flushes: 0,
                },
            ],
        }
    }

    const SAMPLE_TEXT: &str = "\
---- br0 ----
Root ID:
  root-id           8000.020000000001
  stp-priority      32768
  stp-system-id     02:00:00:00:00:01
  This bridge is the root

Bridge ID:
  bridge-id         8000.020000000001
  stp-priority      32768
  stp-system-id     02:00:00:00:00:01
  topology-changes  2
  fdb-flushes       1

  Interface  Role        State        Cost  Pri.Nbr  Designated-Bridge  Edge  Rx-BPDUs  Tx-BPDUs  Protocol
  ---------  ----------  ----------  -----  -------  -----------------  ----  --------  --------  --------
  vnet0      Designated  Forwarding  20000  128.1    8000.020000000001  yes          0        31  RSTP
  eth1       Designated  Learning     2000  64.2     8000.020000000001  no           4        12  STP

---- br1 ----
Root ID:
  root-id           8000.020000000001
  stp-priority      32768
  stp-system-id     02:00:00:00:00:01
  root-port         p1
  root-path-cost    20000

Bridge ID:
  bridge-id         9000.02000000000a
  stp-priority      36864
  stp-system-id     02:00:00:00:00:0a
  topology-changes  0
  fdb-flushes       0

  Interface  Role       State            Cost  Pri.Nbr  Designated-Bridge  Edge  Rx-BPDUs  Tx-BPDUs  Protocol
  ---------  ---------  ----------  ---------  -------  -----------------  ----  --------  --------  --------
  p1         Root       Forwarding      20000  128.1    8000.020000000001  no         120         3  RSTP
  p2         Alternate  Discarding      20000  128.2    8000.020000000002  no         118         2  RSTP
  vx0        Backup     Discarding  200000000  240.3    9000.02000000000a  no           7         7  RSTP
  tap9       Disabled   Forwarding      20000  128.4    9000.02000000000a  no           0         0  RSTP
";

    #[test]
    fn rstp_text_like_ovs() {
        assert_eq!(rstp(&sample()), SAMPLE_TEXT);
        assert_eq!(human(&Reply::Rstp(sample())), SAMPLE_TEXT);
        // nothing runs RSTP: nothing to print, as OVS
        assert_eq!(rstp(&RstpInfo::default()), "");
        // a bridge without ports still has the table header
        let mut lone = sample();
        lone.bridges.truncate(1);
        lone.bridges[0].ports.clear();
        assert!(rstp(&lone).ends_with(
            "\n  Interface  Role  State  Cost  Pri.Nbr  Designated-Bridge  Edge  Rx-BPDUs  Tx-BPDUs  Protocol\n  ---------  ----  -----  ----  -------  -----------------  ----  --------  --------  --------\n"
        ));
        // not the root, but no root port known (yet): said so, not hidden
        let mut odd = sample();
        odd.bridges[1].root_port = None;
        assert!(rstp(&odd).contains("  root-port         (none)\n"));
    }

    #[test]
    fn rstp_json_is_the_spec_object() {
        let text = json(&Reply::Rstp(sample())).unwrap();
        assert!(text.ends_with("}\n"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v, serde_json::to_value(sample()).unwrap());
        assert_eq!(v["bridges"][0]["bridge"], "br0");
        assert_eq!(v["bridges"][0]["bridge_id"], "8000.020000000001");
        assert_eq!(v["bridges"][0]["root_port"], serde_json::Value::Null);
        assert_eq!(v["bridges"][1]["root_port"], "p1");
        assert_eq!(v["bridges"][1]["ports"][1]["role"], "alternate");
        assert_eq!(v["bridges"][1]["ports"][1]["state"], "discarding");
        assert_eq!(v["bridges"][1]["ports"][0]["port_id"], "8001");
        assert_eq!(v["bridges"][0]["ports"][1]["protocol"], "stp");
        assert_eq!(v["bridges"][0]["ports"][0]["edge"], true);
        assert_eq!(v["bridges"][0]["fdb_flushes"], 1);
        assert_eq!(
            json(&Reply::Rstp(RstpInfo::default())).unwrap(),
            "{\n  \"bridges\": []\n}\n"
        );
    }
}

#[cfg(test)]
mod bond_tests {
    use super::*;
    use proto::{
        BondMemberInfo, BondMode, LacpMemberInfo, LacpMode, LacpStatus, MacAddr, PortConfig, RstpBridgeConfig,
    };

    fn member(name: &str, enabled: bool, carrier: bool, tx_bytes: u64, buckets: &[u8]) -> BondMemberInfo {
        BondMemberInfo {
            member: name.into(),
            enabled,
            carrier,
            may_enable: carrier,
            tx_bytes,
            buckets: buckets.to_vec(),
        }
    }

    /// bond0: balance-slb with LACP negotiated; bond1: active-backup, one
    /// member down; bond2: no member usable.
    fn sample_bonds() -> BondShowInfo {
        let mut low: Vec<u8> = (0..=127).collect();
        low.push(200);
        let high: Vec<u8> = (128..=199).chain(201..=255).collect();
        BondShowInfo {
            bonds: vec![
                BondInfo {
                    bond: "bond0".into(),
                    bridge: "br0".into(),
                    bond_mode: BondMode::BalanceSlb,
                    lacp: LacpMode::Active,
                    lacp_status: LacpStatus::Negotiated,
                    active_member: Some("eth2".into()),
                    next_rebalance_ms: 6543,
                    members: vec![
                        member("eth1", true, true, 1_234_567, &low),
                        member("eth2", true, true, 89, &high),
                        member("eth3", false, false, 0, &[]),
                    ],
                },
                BondInfo {
                    bond: "bond1".into(),
                    bridge: "br1".into(),
                    bond_mode: BondMode::ActiveBackup,
                    lacp: LacpMode::Off,
                    lacp_status: LacpStatus::Off,
                    active_member: Some("eth4".into()),
                    next_rebalance_ms: 0,
                    members: vec![
                        member("eth4", true, true, 5000, &[]),
                        member("eth5", false, false, 0, &[]),
                    ],
                },
                BondInfo {
                    bond: "bond2".into(),
                    bridge: "br1".into(),
                    bond_mode: BondMode::ActiveBackup,
                    lacp: LacpMode::Passive,
                    lacp_status: LacpStatus::Configured,
                    active_member: None,
                    next_rebalance_ms: 0,
                    members: vec![
                        BondMemberInfo {
                            may_enable: false,
                            ..member("eth6", false, true, 0, &[])
                        },
                        BondMemberInfo {
                            may_enable: false,
                            ..member("eth7", false, true, 0, &[])
                        },
                    ],
                },
            ],
        }
    }

    const BONDS_TEXT: &str = "\
---- bond0 ----
bridge: br0
bond_mode: balance-slb
lacp: active
lacp_status: negotiated
next rebalance: 6543 ms
active member: eth2

member eth1: enabled
  may_enable: true
  carrier: up
  tx_bytes: 1234567
  buckets: 0-127,200

member eth2: enabled
  active member
  may_enable: true
  carrier: up
  tx_bytes: 89
  buckets: 128-199,201-255

member eth3: disabled
  may_enable: false
  carrier: down
  tx_bytes: 0
  buckets: none

---- bond1 ----
bridge: br1
bond_mode: active-backup
lacp: off
lacp_status: off
active member: eth4

member eth4: enabled
  active member
  may_enable: true
  carrier: up
  tx_bytes: 5000

member eth5: disabled
  may_enable: false
  carrier: down
  tx_bytes: 0

---- bond2 ----
bridge: br1
bond_mode: active-backup
lacp: passive
lacp_status: configured
active member: none

member eth6: disabled
  may_enable: false
  carrier: up
  tx_bytes: 0

member eth7: disabled
  may_enable: false
  carrier: up
  tx_bytes: 0
";

    #[test]
    fn bond_text_like_ovs() {
        assert_eq!(bonds(&sample_bonds()), BONDS_TEXT);
        assert_eq!(human(&Reply::Bonds(sample_bonds())), BONDS_TEXT);
        assert_eq!(bonds(&BondShowInfo::default()), "");
    }

    #[test]
    fn bucket_ranges_compact_runs() {
        assert_eq!(bucket_ranges(&[]), "none");
        assert_eq!(bucket_ranges(&[7]), "7");
        assert_eq!(bucket_ranges(&[0, 1]), "0-1");
        assert_eq!(bucket_ranges(&[255, 0, 5, 6, 7, 254]), "0,5-7,254-255");
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(bucket_ranges(&all), "0-255");
        assert_eq!(bucket_ranges(&[3, 3, 4]), "3-4");
    }

    fn sample_lacp() -> LacpShowInfo {
        let all = LacpState(0x3f);
        LacpShowInfo {
            bonds: vec![
                LacpBondInfo {
                    bond: "bond0".into(),
                    status: LacpStatus::Negotiated,
                    actor: LacpSystem {
                        system_id: MacAddr([2, 0x5c, 0, 0, 0, 1]),
                        system_priority: 65534,
                        key: 1,
                    },
                    partner: Some(LacpSystem {
                        system_id: MacAddr([0x52, 0x54, 0, 0xab, 0xcd, 0xef]),
                        system_priority: 32768,
                        key: 17,
                    }),
                    members: vec![
                        LacpMemberInfo {
                            member: "eth1".into(),
                            actor_state: all,
                            partner_state: LacpState(0x3d),
                            rx_lacpdus: 10,
                            tx_lacpdus: 12,
                        },
                        LacpMemberInfo {
                            member: "eth2".into(),
                            actor_state: LacpState(0x87),
                            partner_state: LacpState(0x05),
                            rx_lacpdus: 3,
                            tx_lacpdus: 4,
                        },
                    ],
                },
                LacpBondInfo {
                    bond: "bond2".into(),
                    status: LacpStatus::Fallback,
                    actor: LacpSystem {
                        system_id: MacAddr([2, 0x5c, 0, 0, 0, 2]),
                        system_priority: 65534,
                        key: 3,
                    },
                    partner: None,
                    members: vec![LacpMemberInfo {
                        member: "eth5".into(),
                        actor_state: LacpState(0x46),
                        partner_state: LacpState(0),
                        rx_lacpdus: 0,
                        tx_lacpdus: 7,
                    }],
                },
            ],
        }
    }

    const LACP_TEXT: &str = "\
---- bond0 ----
  status: negotiated
  sys_id: 02:5c:00:00:00:01
  sys_priority: 65534
  aggregation key: 1
  partner sys_id: 52:54:00:ab:cd:ef
  partner sys_priority: 32768
  partner key: 17

member: eth1: current attached
  actor state: activity timeout aggregation synchronized collecting distributing
  partner state: activity aggregation synchronized collecting distributing
  RX PDUs: 10
  TX PDUs: 12

member: eth2: expired detached
  actor state: activity timeout aggregation expired
  partner state: activity aggregation
  RX PDUs: 3
  TX PDUs: 4

---- bond2 ----
  status: fallback
  sys_id: 02:5c:00:00:00:02
  sys_priority: 65534
  aggregation key: 3
  partner: none

member: eth5: defaulted detached
  actor state: timeout aggregation defaulted
  partner state:
  RX PDUs: 0
  TX PDUs: 7
";

    #[test]
    fn lacp_text_like_ovs() {
        assert_eq!(lacp(&sample_lacp()), LACP_TEXT);
        assert_eq!(human(&Reply::Lacp(sample_lacp())), LACP_TEXT);
        assert_eq!(lacp(&LacpShowInfo::default()), "");
        assert_eq!(
            state_words(LacpState(0xff)),
            " activity timeout aggregation synchronized collecting distributing defaulted expired"
        );
        assert_eq!(state_words(LacpState(0)), "");
    }

    #[test]
    fn bond_and_lacp_json_are_the_spec_objects() {
        let text = json(&Reply::Bonds(sample_bonds())).unwrap();
        assert!(text.ends_with("}\n"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v, serde_json::to_value(sample_bonds()).unwrap());
        let b = &v["bonds"][0];
        assert_eq!(b["bond"], "bond0");
        assert_eq!(b["bridge"], "br0");
        assert_eq!(b["bond_mode"], "balance-slb");
        assert_eq!(b["lacp"], "active");
        assert_eq!(b["lacp_status"], "negotiated");
        assert_eq!(b["active_member"], "eth2");
        assert_eq!(b["next_rebalance_ms"], 6543);
        assert_eq!(
            b["members"][2],
            serde_json::json!({"member": "eth3", "enabled": false, "carrier": false,
                               "may_enable": false, "tx_bytes": 0, "buckets": []})
        );
        assert_eq!(b["members"][0]["buckets"][128], 200);
        assert_eq!(v["bonds"][2]["active_member"], serde_json::Value::Null);
        assert_eq!(
            json(&Reply::Bonds(BondShowInfo::default())).unwrap(),
            "{\n  \"bonds\": []\n}\n"
        );

        let v: serde_json::Value = serde_json::from_str(&json(&Reply::Lacp(sample_lacp())).unwrap()).unwrap();
        assert_eq!(v, serde_json::to_value(sample_lacp()).unwrap());
        let b = &v["bonds"][0];
        assert_eq!(b["status"], "negotiated");
        assert_eq!(
            b["actor"],
            serde_json::json!({"system_id": "02:5c:00:00:00:01", "system_priority": 65534, "key": 1})
        );
        assert_eq!(b["partner"]["system_id"], "52:54:00:ab:cd:ef");
        assert_eq!(
            b["members"][0]["actor_state"],
            serde_json::json!([
                "activity",
                "timeout",
                "aggregation",
                "synchronization",
                "collecting",
                "distributing"
            ])
        );
        assert_eq!(
            b["members"][1]["actor_state"],
            serde_json::json!(["activity", "timeout", "aggregation", "expired"])
        );
        assert_eq!(b["members"][1]["rx_lacpdus"], 3);
        assert_eq!(b["members"][1]["tx_lacpdus"], 4);
        assert_eq!(v["bonds"][1]["partner"], serde_json::Value::Null);
        assert_eq!(
            v["bonds"][1]["members"][0]["partner_state"],
            serde_json::json!([])
        );
        assert_eq!(
            json(&Reply::Lacp(LacpShowInfo::default())).unwrap(),
            "{\n  \"bonds\": []\n}\n"
        );
    }

    #[test]
    fn show_prints_bond_members_mode_and_keys() {
        let bond = |name: &str, ofport: u16, members: &[&str], settings: &[&str]| {
            let members: Vec<proto::IfName> = members.iter().map(|m| m.parse().unwrap()).collect();
            let settings: Vec<PortSetting> = settings.iter().map(|s| s.parse().unwrap()).collect();
            let config = PortConfig::for_bond(&name.parse().unwrap(), &members, &settings).unwrap();
            PortInfo {
                name: name.into(),
                ofport: Some(ofport),
                port_type: config.port_type,
                vlan_mode: config.effective_vlan_mode(),
                config,
                state: PortState::Up,
                mtu: Some(1500),
            }
        };
        let bridges = vec![BridgeInfo {
            sflow: vec![],
            ipfix: vec![],
            external_ids: Default::default(),
            name: "br0".into(),
            mac: MacAddr([2, 0, 0, 0, 0, 1]),
            mac_aging: 300,
            mac_table_size: 8192,
            mac_entries: 0,
            rstp: RstpBridgeConfig::default(),
            fail_mode: Default::default(),
            protocols: Default::default(),
            datapath_id: None,
            controllers: vec![],
            ports: vec![
                bond("bond0", 1, &["eth1", "eth2"], &[]),
                bond(
                    "bond1",
                    2,
                    &["eth3", "eth4", "eth5"],
                    &[
                        "tag=10",
                        "bond_mode=balance-tcp",
                        "lacp=active",
                        "lacp_time=fast",
                        "bond_updelay=100",
                        "bond_rebalance_interval=0",
                        "rstp_path_cost=10000",
                    ],
                ),
                bond(
                    "bond2",
                    3,
                    &["eth6", "eth7"],
                    &["bond_mode=active-backup", "lacp_fallback_ab=true"],
                ),
            ],
        }];
        let expected = "\
bridge br0: mac=02:00:00:00:00:01 mac_aging=300 mac_table_size=8192 mac_entries=0
  PORT   OFPORT  TYPE  VLAN            MTU  STATE  OPTIONS
  bond0       1  bond  trunk all      1500  up     members=eth1,eth2 bond_mode=active-backup
  bond1       2  bond  access tag=10  1500  up     members=eth3,eth4,eth5 bond_mode=balance-tcp lacp=active lacp_time=fast bond_updelay=100 bond_rebalance_interval=0 rstp_path_cost=10000
  bond2       3  bond  trunk all      1500  up     members=eth6,eth7 bond_mode=active-backup lacp_fallback_ab=true
";
        assert_eq!(show(&bridges), expected);
        // --json: the config as stored, members and set keys by their names
        let v: serde_json::Value = serde_json::from_str(&json(&Reply::Show(bridges)).unwrap()).unwrap();
        let p = &v[0]["ports"][1];
        assert_eq!(p["type"], "bond");
        assert_eq!(
            p["config"]["members"],
            serde_json::json!(["eth3", "eth4", "eth5"])
        );
        assert_eq!(p["config"]["bond_mode"], "balance-tcp");
        assert_eq!(p["config"]["lacp"], "active");
        assert_eq!(p["config"]["bond_rebalance_interval"], 0);
        assert!(v[0]["ports"][0]["config"].get("bond_mode").is_none());
        assert_eq!(
            v[0]["ports"][0]["config"]["members"],
            serde_json::json!(["eth1", "eth2"])
        );
    }
}

#[cfg(test)]
mod flow_tests {
    use std::time::Duration;

    use super::*;

    /// The SPEC §9 example flow.
    fn spec_flow() -> FlowInfo {
        FlowInfo {
            table: 0,
            priority: 100,
            cookie: 0,
            flow_match: "tcp,in_port=vm1,tp_dst=22".into(),
            actions: "drop".into(),
            n_packets: 10,
            n_bytes: 980,
            duration: Duration::from_millis(3412),
            idle_age_s: 1,
            idle_timeout: 0,
            hard_timeout: 0,
        }
    }

    #[test]
    fn dump_line_of_the_spec_example() {
        assert_eq!(
            flow_line(&spec_flow()),
            " cookie=0x0, duration=3.412s, table=0, n_packets=10, n_bytes=980, idle_age=1, \
             priority=100,tcp,in_port=vm1,tp_dst=22 actions=drop"
        );
    }

    #[test]
    fn dump_line_of_the_default_flow_has_priority_but_no_match() {
        let f = FlowInfo {
            priority: 0,
            flow_match: String::new(),
            actions: "NORMAL".into(),
            n_packets: 0,
            n_bytes: 0,
            duration: Duration::from_millis(5250),
            idle_age_s: 5,
            ..spec_flow()
        };
        assert_eq!(
            flow_line(&f),
            " cookie=0x0, duration=5.250s, table=0, n_packets=0, n_bytes=0, idle_age=5, priority=0 actions=NORMAL"
        );
    }

    #[test]
    fn dump_line_leaves_out_the_default_priority() {
        // OFP_DEFAULT_PRIORITY is not printed: the match comes first...
        let f = FlowInfo {
            priority: 32768,
            flow_match: "in_port=vm1".into(),
            actions: "output:vm2".into(),
            ..spec_flow()
        };
        assert_eq!(
            flow_line(&f),
            " cookie=0x0, duration=3.412s, table=0, n_packets=10, n_bytes=980, idle_age=1, in_port=vm1 actions=output:vm2"
        );
        // ...and with no match either, actions follow the last ", " directly
        let f = FlowInfo {
            flow_match: String::new(),
            ..f
        };
        assert_eq!(
            flow_line(&f),
            " cookie=0x0, duration=3.412s, table=0, n_packets=10, n_bytes=980, idle_age=1, actions=output:vm2"
        );
        // one off the default is printed
        let f = FlowInfo { priority: 32767, ..f };
        assert!(flow_line(&f).ends_with(", idle_age=1, priority=32767 actions=output:vm2"));
    }

    #[test]
    fn dump_line_with_timeouts_cookie_and_table() {
        let f = FlowInfo {
            table: 3,
            priority: 200,
            cookie: 0x1f,
            flow_match: "ip,nw_dst=10.0.0.0/8".into(),
            actions: "dec_ttl,resubmit(,4)".into(),
            n_packets: 2,
            n_bytes: 120,
            duration: Duration::from_millis(50),
            idle_age_s: 0,
            idle_timeout: 10,
            hard_timeout: 60,
        };
        assert_eq!(
            flow_line(&f),
            " cookie=0x1f, duration=0.050s, table=3, n_packets=2, n_bytes=120, idle_timeout=10, \
             hard_timeout=60, idle_age=0, priority=200,ip,nw_dst=10.0.0.0/8 actions=dec_ttl,resubmit(,4)"
        );
        // each timeout only when set, always before idle_age
        let hard = FlowInfo {
            idle_timeout: 0,
            ..f.clone()
        };
        assert!(
            flow_line(&hard).contains(", n_bytes=120, hard_timeout=60, idle_age=0, priority=200,"),
            "{}",
            flow_line(&hard)
        );
        let idle = FlowInfo { hard_timeout: 0, ..f };
        assert!(
            flow_line(&idle).contains(", n_bytes=120, idle_timeout=10, idle_age=0, priority=200,"),
            "{}",
            flow_line(&idle)
        );
        let max = FlowInfo {
            cookie: u64::MAX,
            table: 253,
            priority: 65535,
            idle_timeout: 65535,
            hard_timeout: 0,
            ..idle
        };
        assert!(
            flow_line(&max).starts_with(" cookie=0xffffffffffffffff, duration=0.050s, table=253, "),
            "{}",
            flow_line(&max)
        );
        assert!(flow_line(&max).contains(", idle_timeout=65535, idle_age=0, priority=65535,ip,"));
    }

    #[test]
    fn dump_line_duration_as_ofp_print_duration() {
        for (ms, text) in [
            (0, "0s"),
            (1, "0.001s"),
            (50, "0.050s"),
            (999, "0.999s"),
            (1000, "1s"),
            (3412, "3.412s"),
            (61_000, "61s"),
            (86_400_001, "86400.001s"),
        ] {
            let f = FlowInfo {
                duration: Duration::from_millis(ms),
                ..spec_flow()
            };
            assert!(
                flow_line(&f).contains(&format!(", duration={text}, table=")),
                "{ms} ms: {}",
                flow_line(&f)
            );
        }
        // below a millisecond is not shown (nor sent)
        assert_eq!(duration(Duration::from_micros(1_000_900)), "1s");
        assert_eq!(duration(Duration::from_micros(2_345_678)), "2.345s");
    }

    #[test]
    fn dump_line_says_drop_for_no_actions() {
        let f = FlowInfo {
            actions: String::new(),
            ..spec_flow()
        };
        assert!(
            flow_line(&f).ends_with(",tp_dst=22 actions=drop"),
            "{}",
            flow_line(&f)
        );
    }

    #[test]
    fn dump_flows_text_and_json() {
        let second = FlowInfo {
            table: 1,
            priority: 0,
            flow_match: String::new(),
            actions: "NORMAL".into(),
            ..spec_flow()
        };
        let info = FlowsInfo {
            flows: vec![spec_flow(), second],
        };
        let text = human(&Reply::Flows(info.clone()));
        assert_eq!(
            text,
            " cookie=0x0, duration=3.412s, table=0, n_packets=10, n_bytes=980, idle_age=1, priority=100,tcp,in_port=vm1,tp_dst=22 actions=drop\n \
             cookie=0x0, duration=3.412s, table=1, n_packets=10, n_bytes=980, idle_age=1, priority=0 actions=NORMAL\n"
        );
        assert_eq!(human(&Reply::Flows(FlowsInfo::default())), "");
        // --json: the SPEC object, with the SPEC's field order
        let out = json(&Reply::Flows(FlowsInfo {
            flows: vec![spec_flow()],
        }))
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"flows": [{"table": 0, "priority": 100, "cookie": "0x0",
                "match": "tcp,in_port=vm1,tp_dst=22", "actions": "drop", "n_packets": 10,
                "n_bytes": 980, "duration_s": 3.412, "idle_age_s": 1, "idle_timeout": 0,
                "hard_timeout": 0}]})
        );
        let keys: Vec<&str> = out
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"')?.split('"').next())
            .collect();
        assert_eq!(
            keys,
            [
                "flows",
                "table",
                "priority",
                "cookie",
                "match",
                "actions",
                "n_packets",
                "n_bytes",
                "duration_s",
                "idle_age_s",
                "idle_timeout",
                "hard_timeout"
            ]
        );
        assert_eq!(
            json(&Reply::Flows(FlowsInfo::default())).unwrap(),
            "{\n  \"flows\": []\n}\n"
        );
    }
}

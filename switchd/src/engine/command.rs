//! Control requests applied to the engine's state, between two batches.
//!
//! Every request is checked completely before anything changes, so a
//! refused request changes nothing (SPEC §6). Names are unique per kind
//! across the daemon: no two bridges and no two ports share a name, which
//! is what lets `set port PORT` and `del-port PORT` omit the bridge.

use std::time::Instant;

use proto::{
    BridgeInfo, BridgeSetting, ClearKey, Error, ErrorKind, ExternalIdsTable, FdbEntry, IfName, PortConfig,
    PortInfo, PortSetting, PortState, PortType, Reply, Request,
};

use super::ports::{BridgeKey, DownReason};
use super::Engine;
use crate::port::tunnel::TunnelId;
use crate::port::PortIo;
use crate::vlan::PortVlan;
use crate::PortId;

fn err(kind: ErrorKind, msg: String) -> Error {
    Error::new(kind, msg)
}

impl Engine {
    /// Applies one request.
    pub(super) fn apply(&mut self, req: Request) -> Result<Reply, Error> {
        match req {
            Request::AddBr { bridge, may_exist } => self.cmd_add_br(bridge, may_exist),
            Request::DelBr { bridge, if_exists } => self.cmd_del_br(&bridge, if_exists),
            Request::ListBr => Ok(Reply::Names(
                self.bridges
                    .keys()
                    .map(|b| self.bridges[b].name.to_string())
                    .collect(),
            )),
            Request::AddPort {
                bridge,
                port,
                settings,
                may_exist,
                missing_ok,
            } => self.cmd_add_port(&bridge, port, &settings, may_exist, missing_ok),
            Request::SetExternalIds {
                table,
                record,
                clear,
                remove,
                set,
            } => self.cmd_set_external_ids(table, &record, clear, &remove, set),
            Request::DelPort {
                bridge,
                port,
                if_exists,
            } => self.cmd_del_port(bridge.as_ref(), &port, if_exists),
            Request::ListPorts { bridge } => {
                let b = self.find_bridge(&bridge)?;
                Ok(Reply::Names(self.port_names(b)))
            }
            Request::SetPort { port, settings } => self.cmd_set_port(&port, |cfg| {
                for s in settings {
                    check_changeable(&s)?;
                    cfg.set(s);
                }
                Ok(())
            }),
            Request::ClearPort { port, keys } => self.cmd_set_port(&port, |cfg| {
                keys.into_iter().for_each(|k: ClearKey| cfg.clear(k));
                Ok(())
            }),
            Request::SetBridge { bridge, settings } => self.cmd_set_bridge(&bridge, &settings),
            Request::Show => Ok(Reply::Show(
                self.bridges.keys().map(|b| self.bridge_info(b)).collect(),
            )),
            Request::FdbShow { bridge } => {
                let b = self.find_bridge(&bridge)?;
                Ok(Reply::Fdb(self.fdb_rows(b)))
            }
            Request::FdbFlush { bridge } => {
                let targets = self.bridge_selection(bridge.as_ref())?;
                let removed = targets
                    .into_iter()
                    .map(|b| self.bridges[b].fdb.flush() as u64)
                    .sum();
                Ok(Reply::Flushed { removed })
            }
            Request::RstpShow { bridge } => self.rstp_show(bridge.as_ref()).map(Reply::Rstp),
            Request::AddBond {
                bridge,
                bond,
                members,
                settings,
                may_exist,
            } => self.cmd_add_bond(&bridge, bond, &members, &settings, may_exist),
            Request::BondShow { bond } => self.bond_show(bond.as_ref()).map(Reply::Bonds),
            Request::LacpShow { bond } => self.lacp_show(bond.as_ref()).map(Reply::Lacp),
            Request::AddFlow { bridge, flow } => self.cmd_add_flow(&bridge, &flow),
            Request::AddFlows { bridge, text } => self.cmd_add_flows(&bridge, &text),
            Request::ModFlows { bridge, flow, strict } => self.cmd_mod_flows(&bridge, &flow, strict),
            Request::DelFlows {
                bridge,
                filter,
                strict,
            } => self.cmd_del_flows(&bridge, filter.as_deref(), strict),
            Request::ReplaceFlows { bridge, text } => self.cmd_replace_flows(&bridge, &text),
            Request::DumpFlows {
                bridge,
                filter,
                table,
            } => self.cmd_dump_flows(&bridge, filter.as_deref(), table),
            Request::PortStats { bridge } => {
                let targets = self.bridge_selection(bridge.as_ref())?;
                self.collect_queue_drops();
                let mut rows = Vec::new();
                for &b in &targets {
                    let bname = self.bridges[b].name.as_str();
                    for (_, p) in self.ports.of_bridge(b) {
                        let mut row = p.counters.to_proto(bname, p.name.as_str());
                        row.rx_errors += p.io().map_or(0, PortIo::framing_errors);
                        rows.push(row);
                    }
                }
                rows.extend(self.endpoint_rows(&targets));
                Ok(Reply::Stats(rows))
            }
            Request::Trace { bridge, packet } => self.cmd_trace(&bridge, &packet),
            Request::AddMeter { bridge, meter } => self.cmd_add_meter(&bridge, &meter),
            Request::ModMeter { bridge, meter } => self.cmd_mod_meter(&bridge, &meter),
            Request::DelMeter { bridge, meter } => self.cmd_del_meter(&bridge, meter.as_deref()),
            Request::DumpMeters { bridge, meter } => self.cmd_dump_meters(&bridge, meter.as_deref()),
            Request::Counters => Ok(Reply::Counters(self.counters())),
            Request::SetExport { bridge, settings } => self.cmd_set_export(&bridge, &settings),
            Request::ClearBridge { bridge, keys } => self.cmd_clear_bridge(&bridge, &keys),
            Request::AddMirror {
                bridge,
                mirror,
                config,
            } => self.cmd_add_mirror(&bridge, mirror, config),
            Request::DelMirror { bridge, mirror } => self.cmd_del_mirror(&bridge, &mirror),
            Request::ListMirrors { bridge } => self.cmd_list_mirrors(bridge.as_ref()),
            Request::SetController { bridge, targets } => {
                let b = self.find_bridge(&bridge)?;
                // A passive target is one socket: two bridges cannot listen on it.
                for t in targets.iter().filter(|t| t.is_passive()) {
                    if let Some(other) = self
                        .bridges
                        .keys()
                        .filter(|&o| o != b)
                        .find(|&o| self.bridges[o].of.controllers.iter().any(|c| c.target == *t))
                    {
                        return Err(err(
                            ErrorKind::AlreadyExists,
                            format!(
                                "{t} is already a controller target of bridge {:?}",
                                self.bridges[other].name.as_str()
                            ),
                        ));
                    }
                }
                self.of_set_controllers(b, targets);
                Ok(Reply::Done)
            }
            Request::DelController { bridge } => {
                let b = self.find_bridge(&bridge)?;
                self.of_set_controllers(b, Vec::new());
                Ok(Reply::Done)
            }
            Request::GetController { bridge } => {
                let targets = self.bridge_selection(bridge.as_ref())?;
                Ok(Reply::Controllers(proto::ControllersInfo {
                    bridges: targets
                        .into_iter()
                        .map(|b| proto::BridgeControllers {
                            bridge: self.bridges[b].name.to_string(),
                            fail_mode: self.bridges[b].of.fail_mode,
                            controllers: self.of_controller_info(b),
                        })
                        .collect(),
                }))
            }
            // A capture streams on its connection: the control thread
            // serves it and hands the engine only a tap (Msg::AttachTap).
            Request::Capture { .. } => Err(err(
                ErrorKind::Internal,
                "a capture is served by the control thread, not as a request".into(),
            )),
            // The control thread checks the new binary, then hands the engine
            // a `Msg::HandOver`.
            Request::Restart => Err(err(
                ErrorKind::Internal,
                "a restart is carried out by the control thread, not as a request".into(),
            )),
        }
    }

    /// `port-stats` pseudo-rows of the tunnel endpoints that ports of the
    /// `targets` bridges use: bridge `-`, port `vxlan:0.0.0.0:4789` and the
    /// like, with what the socket received and the `tunnel-*` drops of
    /// packets no port could take (unknown peer or VNI/key, bad headers).
    fn endpoint_rows(&self, targets: &[BridgeKey]) -> Vec<proto::PortStats> {
        let mut rows = Vec::new();
        for (e, ep) in self.endpoints.iter().enumerate() {
            let Some(ep) = ep else { continue };
            let used = self
                .ports
                .iter()
                .any(|(_, p)| targets.contains(&p.bridge) && p.tunnel().is_some_and(|l| l.endpoint == e));
            if used {
                rows.push(ep.counters.to_proto("-", &ep.key().to_string()));
            }
        }
        rows
    }

    fn bridge_selection(&self, bridge: Option<&IfName>) -> Result<Vec<BridgeKey>, Error> {
        match bridge {
            Some(name) => Ok(vec![self.find_bridge(name)?]),
            None => Ok(self.bridges.keys().collect()),
        }
    }

    fn port_names(&self, b: BridgeKey) -> Vec<String> {
        self.ports.of_bridge(b).map(|(_, p)| p.name.to_string()).collect()
    }

    fn cmd_add_br(&mut self, name: IfName, may_exist: bool) -> Result<Reply, Error> {
        if self.find_bridge(&name).is_ok() {
            if may_exist {
                return Ok(Reply::Done);
            }
            return Err(err(
                ErrorKind::AlreadyExists,
                format!("bridge {:?} already exists", name.as_str()),
            ));
        }
        tracing::info!(bridge = %name, "bridge added");
        self.add_bridge(name, None);
        Ok(Reply::Done)
    }

    fn cmd_del_br(&mut self, name: &IfName, if_exists: bool) -> Result<Reply, Error> {
        let b = match self.find_bridge(name) {
            Ok(b) => b,
            Err(_) if if_exists => return Ok(Reply::Done),
            Err(e) => return Err(e),
        };
        self.remove_bridge(b);
        tracing::info!(bridge = %name, "bridge deleted");
        Ok(Reply::Done)
    }

    fn cmd_add_port(
        &mut self,
        bridge: &IfName,
        name: IfName,
        settings: &[PortSetting],
        may_exist: bool,
        missing_ok: bool,
    ) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        if let Ok(existing) = self.find_port(&name) {
            let on = self.ports.get(existing).map(|p| p.bridge);
            if may_exist && on == Some(b) {
                return Ok(Reply::Done);
            }
            let on_name = on.map_or("?", |on| self.bridges[on].name.as_str());
            return Err(err(
                ErrorKind::AlreadyExists,
                format!("port {:?} already exists on bridge {on_name:?}", name.as_str()),
            ));
        }
        if let Some(bond) = self.bond_of_member(&name) {
            return Err(err(
                ErrorKind::AlreadyExists,
                format!("{:?} is a member of bond {:?}", name.as_str(), bond.as_str()),
            ));
        }
        let config = PortConfig::from_settings(settings)?;
        self.check_unique_attachment(&config, None)?;
        let ofport = self.ports.pick_ofport(b, config.ofport_request).map_err(|e| {
            err(
                ErrorKind::InvalidArgument,
                format!("cannot add port {:?}: {e}", name.as_str()),
            )
        })?;
        if let Err(reason) = self.add_port(b, name.clone(), config, ofport, missing_ok) {
            let why = match reason {
                DownReason::NoSuchDevice => format!("no such device {:?}", name.as_str()),
                other => other.to_string(),
            };
            return Err(err(
                ErrorKind::Device,
                format!("cannot add port {:?}: {why}", name.as_str()),
            ));
        }
        tracing::info!(bridge = %bridge, port = %name, "port added");
        Ok(Reply::Done)
    }

    /// Refuses a port configuration whose attachment another port (other
    /// than `except`) already has: the same socket path, or the same tunnel
    /// endpoint and key.
    fn check_unique_attachment(&self, config: &PortConfig, except: Option<PortId>) -> Result<(), Error> {
        // Two socket ports on one path would each remove the other's file.
        if let Some(path) = &config.path {
            if let Some((_, other)) = self
                .ports
                .iter()
                .find(|(id, p)| Some(*id) != except && p.config().path.as_ref() == Some(path))
            {
                return Err(err(
                    ErrorKind::AlreadyExists,
                    format!(
                        "port {:?} already uses path {:?}",
                        other.name.as_str(),
                        path.display().to_string()
                    ),
                ));
            }
        }
        if let Some(tid) = TunnelId::from_config(config) {
            let same = self
                .ports
                .iter()
                .find(|(id, p)| Some(*id) != except && TunnelId::from_config(p.config()) == Some(tid));
            if let Some((_, other)) = same {
                return Err(err(
                    ErrorKind::AlreadyExists,
                    format!(
                        "port {:?} already has {} on {}",
                        other.name.as_str(),
                        tid.demux,
                        tid.endpoint
                    ),
                ));
            }
        }
        Ok(())
    }

    fn cmd_del_port(
        &mut self,
        bridge: Option<&IfName>,
        name: &IfName,
        if_exists: bool,
    ) -> Result<Reply, Error> {
        if let Some(bn) = bridge {
            self.find_bridge(bn)?;
        }
        let id = match self.find_port(name) {
            Ok(id) => id,
            Err(_) if if_exists => return Ok(Reply::Done),
            Err(e) => return Err(e),
        };
        if let Some(bn) = bridge {
            let on = self.ports.get(id).map(|p| &self.bridges[p.bridge].name);
            if let Some(on) = on.filter(|on| *on != bn) {
                return Err(err(
                    ErrorKind::NoSuchPort,
                    format!(
                        "port {:?} is on bridge {:?}, not {:?}",
                        name.as_str(),
                        on.as_str(),
                        bn.as_str()
                    ),
                ));
            }
        }
        self.remove_port(id);
        tracing::info!(port = %name, "port deleted");
        Ok(Reply::Done)
    }

    /// Edits a port's configuration all-or-nothing: `edit` works on a copy,
    /// the result is validated, and only then installed.
    fn cmd_set_port(
        &mut self,
        name: &IfName,
        edit: impl FnOnce(&mut PortConfig) -> Result<(), Error>,
    ) -> Result<Reply, Error> {
        let id = self.find_port(name)?;
        let Some(p) = self.ports.get(id) else {
            return Err(err(ErrorKind::Internal, "port vanished".into()));
        };
        let mut config = p.config().clone();
        edit(&mut config)?;
        config.validate().map_err(|e| {
            err(
                ErrorKind::InvalidArgument,
                format!("port {:?}: {e}", name.as_str()),
            )
        })?;
        if &config == p.config() {
            return Ok(Reply::Done);
        }
        let b = p.bridge;
        // A new type or tunnel/socket address re-opens the port, as
        // `ovs-vsctl set interface P type=gre options:remote_ip=...` does;
        // a bond's members are its attachment, so a bond stays a bond.
        let reattach = attachment_changed(p.config(), &config);
        if reattach {
            if (config.port_type == PortType::Bond) != (p.config().port_type == PortType::Bond) {
                return Err(err(
                    ErrorKind::InvalidArgument,
                    format!(
                        "port {:?}: a bond cannot change its type, nor a port become a bond (add-bond)",
                        name.as_str()
                    ),
                ));
            }
            self.check_unique_attachment(&config, Some(id))?;
        }
        let rstp_changed = config.rstp() != p.config().rstp();
        let bond_changed = config.port_type == PortType::Bond && config.bond() != p.config().bond();
        let vlan = PortVlan::from_config(&config);
        self.ports.set_config(id, config);
        // Entries learned on a VLAN the port no longer carries would send
        // frames where they may not go; forget them now.
        self.bridges[b].fdb.retain_port_vlans(id, |v| vlan.carries(v));
        if rstp_changed {
            self.stp_port_config_changed(id);
        }
        if bond_changed {
            self.reopen_bond(id);
        }
        if reattach {
            // Down, its old device or endpoint released, then opened as it
            // now is; if that fails it stays down with the reason, as OVS
            // shows an interface whose new type cannot be set up.
            self.set_link_down(id);
            self.bridges[b].fdb.flush_port(id);
            if !self.attach(id) {
                let why = self
                    .ports
                    .get(id)
                    .and_then(|p| p.down_reason())
                    .map(ToString::to_string);
                tracing::warn!(port = %name, reason = ?why, "port re-opened down");
            }
        }
        tracing::info!(port = %name, "port reconfigured");
        Ok(Reply::Done)
    }

    /// Applies bridge settings all-or-nothing: each is range-checked, the
    /// spanning-tree settings are applied to a copy and their timers checked
    /// together (SPEC §7), and only then is anything changed.
    fn cmd_set_bridge(&mut self, name: &IfName, settings: &[BridgeSetting]) -> Result<Reply, Error> {
        let b = self.find_bridge(name)?;
        let mut rstp = self.bridges[b].rstp_config;
        for s in settings {
            s.validate()?;
            rstp.apply(s);
        }
        rstp.check().map_err(|e| {
            err(
                ErrorKind::InvalidArgument,
                format!("bridge {:?}: {e}", name.as_str()),
            )
        })?;
        let bridge = &mut self.bridges[b];
        for s in settings {
            match *s {
                BridgeSetting::MacAging(secs) => bridge.set_mac_aging(secs),
                BridgeSetting::MacTableSize(n) => bridge.set_mac_table_size(n),
                BridgeSetting::FailMode(m) => bridge.of.fail_mode = m,
                BridgeSetting::Protocols(v) => bridge.of.protocols = v,
                BridgeSetting::DatapathId(d) => bridge.of.datapath_id = Some(d),
                _ => {}
            }
        }
        if bridge.rstp_config != rstp {
            bridge.rstp_config = rstp;
            self.stp_configure(b);
        }
        if settings.iter().any(BridgeSetting::is_openflow) {
            self.of_reconfigure(b);
        }
        Ok(Reply::Done)
    }

    /// Engine and table counters (metrics).
    fn counters(&self) -> proto::CountersInfo {
        let bridges = self
            .bridges
            .keys()
            .map(|b| {
                let br = &self.bridges[b];
                let mut flows = [0u64; crate::flow::types::N_TABLES as usize];
                for (_, e) in br.flows.iter() {
                    flows[usize::from(e.spec.table)] += 1;
                }
                let tables = (0..crate::flow::types::N_TABLES)
                    .filter_map(|t| {
                        let (lookups, matched) = br.flows.table_stats(t);
                        let n = flows[usize::from(t)];
                        (n > 0 || lookups > 0 || t == 0).then_some(proto::TableCounters {
                            table: t,
                            flows: n,
                            lookups,
                            matched,
                        })
                    })
                    .collect();
                proto::BridgeCounters {
                    bridge: br.name.to_string(),
                    mac_learned: br.fdb.learned(),
                    mac_moved: br.fdb.moved(),
                    mac_evicted: br.fdb.evicted(),
                    mac_aged: br.fdb.aged(),
                    floods: br.fdb.floods(),
                    tables,
                }
            })
            .collect();
        proto::CountersInfo {
            engine_loops: self.loops,
            batches: self.batches,
            batch_frames: self.batch_frames,
            bridges,
        }
    }

    fn bridge_info(&self, b: BridgeKey) -> BridgeInfo {
        let bridge = &self.bridges[b];
        let (sflow, ipfix) = self.export_settings(b);
        BridgeInfo {
            name: bridge.name.to_string(),
            mac_aging: bridge.mac_aging,
            mac_table_size: bridge.mac_table_size,
            mac_entries: bridge.fdb.len() as u64,
            mac: bridge.mac,
            rstp: bridge.rstp_config,
            fail_mode: bridge.of.fail_mode,
            protocols: bridge.of.protocols,
            datapath_id: Some(
                bridge
                    .of
                    .datapath_id
                    .unwrap_or_else(|| proto::DatapathId::from_mac(bridge.mac)),
            ),
            controllers: self.of_controller_info(b),
            sflow,
            ipfix,
            external_ids: bridge.external_ids.clone(),
            ports: self
                .ports
                .of_bridge(b)
                .map(|(_, p)| PortInfo {
                    name: p.name.to_string(),
                    ofport: Some(p.ofport),
                    port_type: p.config().port_type,
                    config: shown_config(p),
                    vlan_mode: p.config().effective_vlan_mode(),
                    state: match p.down_reason() {
                        None => PortState::Up,
                        Some(reason) => PortState::Down {
                            reason: reason.to_string(),
                        },
                    },
                    mtu: Some(p.mtu()),
                })
                .collect(),
        }
    }

    fn fdb_rows(&self, b: BridgeKey) -> Vec<FdbEntry> {
        let now = Instant::now();
        self.bridges[b]
            .fdb
            .entries(now)
            .into_iter()
            .map(|row| FdbEntry {
                port: self
                    .ports
                    .get(row.port)
                    .map(|p| p.name.to_string())
                    .unwrap_or_else(|| format!("#{}", row.port.0)),
                vlan: row.vlan,
                mac: row.mac,
                age: row.age.as_secs(),
            })
            .collect()
    }
}

/// `set port` changes VLAN, MTU and spanning-tree settings; what decides
/// which device or peer the port is attached to is fixed at `add-port`.
/// Whether two configurations of a port open it differently.
fn attachment_changed(a: &PortConfig, b: &PortConfig) -> bool {
    a.port_type != b.port_type
        || a.remote_ip != b.remote_ip
        || a.local_ip != b.local_ip
        || a.key != b.key
        || a.dst_port != b.dst_port
        || a.path != b.path
        || a.mode != b.mode
}

fn check_changeable(s: &PortSetting) -> Result<(), Error> {
    match s {
        // The attachment: the port is re-opened (see `cmd_set_port`).
        PortSetting::Type(_)
        | PortSetting::RemoteIp(_)
        | PortSetting::LocalIp(_)
        | PortSetting::Key(_)
        | PortSetting::DstPort(_)
        | PortSetting::Path(_)
        | PortSetting::Mode(_)
        | PortSetting::Tag(_)
        | PortSetting::Trunks(_)
        | PortSetting::VlanMode(_)
        | PortSetting::Mtu(_)
        | PortSetting::RstpEnable(_)
        | PortSetting::RstpPortPriority(_)
        | PortSetting::RstpPathCost(_)
        | PortSetting::RstpAdminEdge(_)
        | PortSetting::RstpAutoEdge(_)
        | PortSetting::BondMode(_)
        | PortSetting::Lacp(_)
        | PortSetting::LacpTime(_)
        | PortSetting::LacpFallbackAb(_)
        | PortSetting::BondUpdelay(_)
        | PortSetting::BondDowndelay(_)
        | PortSetting::BondRebalanceInterval(_)
        | PortSetting::IngressPolicingRate(_)
        | PortSetting::IngressPolicingBurst(_)
        | PortSetting::EgressPolicingRate(_)
        | PortSetting::EgressPolicingBurst(_) => Ok(()),
        other => Err(err(
            ErrorKind::InvalidArgument,
            format!(
                "{} cannot be changed on an existing port (del-port, then add-port with the new value)",
                other.key()
            ),
        )),
    }
}

/// A port's configuration as `show` reports it: as stored, except that a
/// policing burst is the one in force while its rate is set (the default
/// filled in, rounded up to the port's largest frame: SPEC §12).
fn shown_config(p: &super::ports::Port) -> PortConfig {
    let mut c = p.config().clone();
    if let Some(pol) = &p.ingress {
        c.ingress_policing_burst = Some(pol.burst());
    }
    if let Some(pol) = &p.egress {
        c.egress_policing_burst = Some(pol.burst());
    }
    c
}

impl Engine {
    /// `external_ids` of a bridge, port or interface: `clear`, then
    /// `remove`, then `set`; all or nothing.
    fn cmd_set_external_ids(
        &mut self,
        table: ExternalIdsTable,
        record: &IfName,
        clear: bool,
        remove: &[String],
        set: std::collections::BTreeMap<String, String>,
    ) -> Result<Reply, Error> {
        let apply = |map: &mut std::collections::BTreeMap<String, String>| -> Result<(), Error> {
            let mut m = if clear { Default::default() } else { map.clone() };
            for k in remove {
                m.remove(k);
            }
            m.extend(set);
            if m.len() > proto::request::EXTERNAL_IDS_MAX {
                return Err(err(
                    ErrorKind::InvalidArgument,
                    format!(
                        "{} {:?}: at most {} external_ids",
                        table.as_str(),
                        record.as_str(),
                        proto::request::EXTERNAL_IDS_MAX
                    ),
                ));
            }
            *map = m;
            Ok(())
        };
        match table {
            ExternalIdsTable::Bridge => {
                let b = self.find_bridge(record)?;
                apply(&mut self.bridges[b].external_ids)?;
                Ok(Reply::Done)
            }
            ExternalIdsTable::Port => self.cmd_set_port(record, |c| apply(&mut c.port_external_ids)),
            ExternalIdsTable::Interface => self.cmd_set_port(record, |c| apply(&mut c.external_ids)),
        }
    }
}

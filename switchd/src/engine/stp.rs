//! Spanning tree in the engine (SPEC §7): one [`Rstp`] per bridge that
//! runs it, fed with the BPDUs its ports receive, their links and a
//! one-second tick; its events become BPDUs sent, port states in the
//! pipeline's view and MAC-table flushes.
//!
//! The protocol itself is the pure state machine in [`crate::rstp`]; this
//! file only wires it to ports. A bridge without RSTP has no [`BridgeStp`]
//! and its ports are forwarding: the feature costs nothing when off. BPDUs
//! reach this code through the pipeline's "reserved destination" refusal,
//! so the per-frame path has no extra test for them.

use proto::{
    BridgeId as WireBridgeId, Error, ErrorKind, IfName, MacAddr, RstpBridgeConfig, RstpBridgeInfo, RstpInfo,
    RstpPortId, RstpPortInfo, RstpProtocol, RstpRole, RstpState,
};

use super::bridge::BridgeStp;
use super::ports::BridgeKey;
use super::{Engine, CONTROL_FRAME_LEN};
use crate::batch::{Edit, TxEntry};
use crate::pipeline::Gate;
use crate::rstp::{self, BridgeParams, Event, PortParams, PortRole, PortState, Protocol, Rstp};
use crate::PortId;

fn bridge_params(c: &RstpBridgeConfig) -> BridgeParams {
    // The control plane validated the ranges (proto's RstpBridgeConfig::check).
    BridgeParams {
        priority: c.priority as u16,
        max_age: c.max_age as u8,
        forward_delay: c.forward_delay as u8,
        transmit_hold_count: c.transmit_hold_count as u8,
        force_protocol_version: c.force_protocol_version as u8,
    }
}

fn port_params(c: &proto::RstpPortConfig) -> PortParams {
    PortParams {
        priority: c.port_priority as u8,
        path_cost: c.path_cost,
        admin_edge: c.admin_edge,
        auto_edge: c.auto_edge,
    }
}

fn gate(s: PortState) -> Gate {
    match s {
        PortState::Discarding => Gate::Discarding,
        PortState::Learning => Gate::Learning,
        PortState::Forwarding => Gate::Forwarding,
    }
}

fn wire_id(id: rstp::BridgeId) -> WireBridgeId {
    WireBridgeId {
        priority: id.priority(),
        mac: MacAddr(id.mac()),
    }
}

impl Engine {
    /// Starts or stops RSTP on bridge `b`, or passes it new parameters, to
    /// match the bridge's configuration.
    pub(super) fn stp_configure(&mut self, b: BridgeKey) {
        let bridge = &mut self.bridges[b];
        let config = bridge.rstp_config;
        match (bridge.stp.as_mut(), config.enabled) {
            (Some(stp), true) => {
                stp.rstp.set_params(bridge_params(&config));
                self.stp_apply(b);
            }
            (Some(_), false) => {
                bridge.stp = None;
                tracing::info!(bridge = %bridge.name, "RSTP stopped");
                let ids: Vec<PortId> = self.ports.members(b).iter().map(|s| s.id).collect();
                for id in ids {
                    self.ports.set_stp(id, Gate::Forwarding);
                }
            }
            (None, true) => {
                bridge.stp = Some(BridgeStp {
                    rstp: Rstp::new(bridge.mac.0, bridge_params(&config)),
                    numbers: vec![None],
                    outside: Vec::new(),
                    fdb_flushes: 0,
                    events: Vec::new(),
                    muted: false,
                });
                tracing::info!(bridge = %bridge.name, "RSTP started");
                let ids: Vec<PortId> = self.ports.members(b).iter().map(|s| s.id).collect();
                for id in ids {
                    self.stp_add_port(id);
                }
            }
            (None, false) => {}
        }
    }

    /// Puts a port of an RSTP bridge into the tree (discarding until the
    /// protocol says otherwise), or numbers it as outside the tree when it
    /// has `rstp_enable=false`. Nothing for a bridge without RSTP.
    pub(super) fn stp_add_port(&mut self, id: PortId) {
        let Some(p) = self.ports.get(id) else { return };
        let b = p.bridge;
        let cfg = p.config().rstp();
        let Some(stp) = self.bridges[b].stp.as_mut() else {
            return;
        };
        let Some(no) = stp.number_of(id).or_else(|| stp.allocate(id)) else {
            tracing::warn!(port = %p.name, "more than 4095 ports: this one stays outside the spanning tree");
            return;
        };
        if !cfg.enable {
            if !stp.outside.contains(&id) {
                stp.outside.push(id);
            }
            self.ports.set_stp(id, Gate::Forwarding);
            return;
        }
        stp.outside.retain(|o| *o != id);
        stp.rstp.add_port(no, port_params(&cfg));
        self.ports.set_stp(id, Gate::Discarding);
        self.stp_link(id);
    }

    /// Takes a port out of its bridge's tree (it was removed, or its
    /// `rstp_enable` was turned off).
    pub(super) fn stp_remove_port(&mut self, id: PortId) {
        let Some(b) = self.ports.get(id).map(|p| p.bridge) else {
            return;
        };
        let Some(stp) = self.bridges[b].stp.as_mut() else {
            return;
        };
        if let Some(no) = stp.number_of(id) {
            stp.rstp.remove_port(no);
            stp.numbers[usize::from(no)] = None;
        }
        stp.outside.retain(|o| *o != id);
        self.ports.set_stp(id, Gate::Forwarding);
        self.stp_apply(b);
    }

    /// A port's `rstp_*` settings changed.
    pub(super) fn stp_port_config_changed(&mut self, id: PortId) {
        let Some(p) = self.ports.get(id) else { return };
        let (b, cfg) = (p.bridge, p.config().rstp());
        let Some(stp) = self.bridges[b].stp.as_mut() else {
            return;
        };
        let inside = !stp.outside.contains(&id) && stp.number_of(id).is_some();
        match (inside, cfg.enable) {
            (true, true) => {
                if let Some(no) = stp.number_of(id) {
                    stp.rstp.set_port_params(no, port_params(&cfg));
                }
                self.stp_apply(b);
            }
            (true, false) => {
                self.stp_remove_port(id);
                self.stp_add_port(id);
            }
            (false, _) => self.stp_add_port(id),
        }
    }

    /// Tells the protocol whether a port can carry BPDUs: attached, and (for
    /// a device that reports it) with carrier. A port that loses its link
    /// leaves the active topology at once (SPEC §7).
    pub(super) fn stp_link(&mut self, id: PortId) {
        let Some(p) = self.ports.get(id) else { return };
        let b = p.bridge;
        let up = p.is_up() && p.carrier;
        let p2p = p.point_to_point;
        let Some(stp) = self.bridges[b].stp.as_mut() else {
            return;
        };
        if stp.outside.contains(&id) {
            return;
        }
        if let Some(no) = stp.number_of(id) {
            stp.rstp.set_link(no, up, p2p);
            self.stp_apply(b);
        }
    }

    /// Applies what the BPDUs of the last batch made the protocol do.
    pub(super) fn stp_apply_pending(&mut self) {
        while let Some(b) = self.stp_pending.pop() {
            self.stp_apply(b);
        }
    }

    /// The one-second tick of every bridge's timers.
    pub(super) fn stp_tick(&mut self) {
        let keys: Vec<BridgeKey> = self.bridges.keys().collect();
        for b in keys {
            if let Some(stp) = self.bridges[b].stp.as_mut() {
                stp.rstp.tick();
                self.stp_apply(b);
            }
        }
    }

    /// Whether any bridge runs RSTP (the loop then wakes once a second).
    pub(super) fn stp_running(&self) -> bool {
        self.bridges.iter().any(|b| b.stp.is_some())
    }

    /// Carries out the protocol's events of bridge `b`: BPDUs sent, port
    /// states into the pipeline's view, MAC entries flushed.
    fn stp_apply(&mut self, b: BridgeKey) {
        let Some(stp) = self.bridges[b].stp.as_mut() else {
            return;
        };
        let mut events = std::mem::take(&mut stp.events);
        stp.rstp.drain_events(&mut events);
        if stp.muted {
            events.clear();
        }
        for ev in events.drain(..) {
            let Some(stp) = self.bridges[b].stp.as_mut() else {
                break;
            };
            let Some(id) = stp.numbers.get(usize::from(ev.port())).copied().flatten() else {
                continue;
            };
            match ev {
                Event::Transmit { frame, .. } => self.send_control(id, frame.as_bytes()),
                Event::State { state, .. } => self.ports.set_stp(id, gate(state)),
                Event::Flush { .. } => {
                    stp.fdb_flushes += 1;
                    self.bridges[b].fdb.flush_port(id);
                }
            }
        }
        if let Some(stp) = self.bridges[b].stp.as_mut() {
            stp.events = events;
        }
    }

    /// Sends one frame the switch itself makes (a BPDU) out of port `id`,
    /// counted on the port like any other.
    fn send_control(&mut self, id: PortId, frame: &[u8]) {
        let Engine {
            ports,
            endpoints,
            control,
            ..
        } = self;
        let Some(p) = ports.get_mut(id) else { return };
        if !p.is_up() || frame.len() > CONTROL_FRAME_LEN {
            return;
        }
        control.slot_mut(0)[..frame.len()].copy_from_slice(frame);
        control.set_frame(0, 0, frame.len());
        control.set_count(1);
        let o = super::datapath::send_to(p, endpoints, control, &[TxEntry::new(0, Edit::KEEP)]);
        p.count_sent(o);
    }

    /// `rstp-show [BR]`: the bridges that run RSTP (a named bridge that does
    /// not is an error, as OVS's `rstp/show BR`).
    pub(super) fn rstp_show(&self, bridge: Option<&IfName>) -> Result<RstpInfo, Error> {
        let keys: Vec<BridgeKey> = match bridge {
            Some(name) => {
                let b = self.find_bridge(name)?;
                if self.bridges[b].stp.is_none() {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "bridge {:?} does not run RSTP (switchctl set bridge {} rstp=true)",
                            name.as_str(),
                            name.as_str()
                        ),
                    ));
                }
                vec![b]
            }
            None => self
                .bridges
                .keys()
                .filter(|&b| self.bridges[b].stp.is_some())
                .collect(),
        };
        let bridges = keys
            .into_iter()
            .filter_map(|b| self.rstp_bridge_info(b))
            .collect();
        Ok(RstpInfo { bridges })
    }

    fn rstp_bridge_info(&self, b: BridgeKey) -> Option<RstpBridgeInfo> {
        let bridge = &self.bridges[b];
        let stp = bridge.stp.as_ref()?;
        let status = stp.rstp.status();
        let name_of = |no: u16| {
            stp.numbers
                .get(usize::from(no))
                .copied()
                .flatten()
                .and_then(|id| self.ports.get(id))
                .map(|p| p.name.to_string())
        };
        let mut ports = Vec::new();
        for (id, p) in self.ports.of_bridge(b) {
            let Some(no) = stp.number_of(id) else { continue };
            let cfg = p.config().rstp();
            let row = match status.ports.iter().find(|s| s.port_no == no) {
                Some(s) if !stp.outside.contains(&id) => RstpPortInfo {
                    port: p.name.to_string(),
                    role: match s.role {
                        PortRole::Root => RstpRole::Root,
                        PortRole::Designated => RstpRole::Designated,
                        PortRole::Alternate => RstpRole::Alternate,
                        PortRole::Backup => RstpRole::Backup,
                        PortRole::Disabled => RstpRole::Disabled,
                    },
                    state: match s.state {
                        PortState::Discarding => RstpState::Discarding,
                        PortState::Learning => RstpState::Learning,
                        PortState::Forwarding => RstpState::Forwarding,
                    },
                    path_cost: s.path_cost,
                    port_id: RstpPortId(s.port_id),
                    designated_bridge: wire_id(s.designated_bridge),
                    edge: s.edge,
                    rx_bpdus: s.rx_bpdus,
                    tx_bpdus: s.tx_bpdus,
                    protocol: match s.protocol {
                        Protocol::Rstp => RstpProtocol::Rstp,
                        Protocol::Stp => RstpProtocol::Stp,
                    },
                },
                // Outside the tree: always forwarding, sends no BPDU.
                _ => RstpPortInfo {
                    port: p.name.to_string(),
                    role: RstpRole::Disabled,
                    state: RstpState::Forwarding,
                    path_cost: cfg.path_cost,
                    port_id: RstpPortId::new(cfg.port_priority, no),
                    designated_bridge: wire_id(status.bridge_id),
                    edge: false,
                    rx_bpdus: 0,
                    tx_bpdus: 0,
                    protocol: RstpProtocol::Rstp,
                },
            };
            ports.push(row);
        }
        Some(RstpBridgeInfo {
            bridge: bridge.name.to_string(),
            bridge_id: wire_id(status.bridge_id),
            root_id: wire_id(status.root_id),
            root_port: status.root_port.and_then(name_of),
            root_path_cost: status.root_path_cost,
            topology_changes: status.topology_changes,
            ports,
            fdb_flushes: stp.fdb_flushes,
        })
    }
}

impl Engine {
    /// The tree of bridge `b` as the next image takes it over on an
    /// in-place restart: the protocol's whole state, and the names of the
    /// ports behind its port numbers.
    pub(super) fn stp_hand_over(&self, b: BridgeKey) -> Option<(serde_json::Value, Vec<(String, u16)>)> {
        let stp = self.bridges[b].stp.as_ref()?;
        let state = serde_json::to_value(&stp.rstp).ok()?;
        Some((state, self.stp_numbered(stp)))
    }

    /// The names of the ports behind the tree's port numbers.
    fn stp_numbered(&self, stp: &BridgeStp) -> Vec<(String, u16)> {
        stp.numbers
            .iter()
            .enumerate()
            .filter_map(|(no, id)| Some((self.ports.get((*id)?)?.name.to_string(), no as u16)))
            .collect()
    }

    /// While bridge `b` is restored with a tree handed over: its fresh
    /// tree says and sends nothing.
    pub(super) fn stp_mute(&mut self, b: BridgeKey) {
        if let Some(stp) = self.bridges[b].stp.as_mut() {
            stp.muted = true;
        }
    }

    /// Replaces the fresh tree of bridge `b` with the one the previous image
    /// handed over, if it is the same tree (same parameters, same port
    /// numbers for the same ports), and puts every port in the state it had:
    /// forwarding ports never stop (SPEC §13). Otherwise the fresh tree goes
    /// on and converges as after a plain start.
    ///
    /// # Errors
    /// Why the handed-over tree was not used.
    pub(super) fn stp_take_over(
        &mut self,
        b: BridgeKey,
        state: serde_json::Value,
        numbers: &[(String, u16)],
    ) -> Result<(), String> {
        let result = self.stp_replace(b, state, numbers);
        let Some(stp) = self.bridges[b].stp.as_mut() else {
            return result;
        };
        stp.muted = false;
        if result.is_err() {
            // The fresh tree starts over: its ports are discarding, and what
            // it said while muted is said again on its timers.
            self.stp_apply(b);
        }
        result
    }

    fn stp_replace(
        &mut self,
        b: BridgeKey,
        state: serde_json::Value,
        numbers: &[(String, u16)],
    ) -> Result<(), String> {
        let handed: Rstp =
            serde_json::from_value(state).map_err(|e| format!("not a tree this image reads: {e}"))?;
        let config = self.bridges[b].rstp_config;
        let Some(stp) = self.bridges[b].stp.as_ref() else {
            return Err("RSTP is off on this bridge now".into());
        };
        if handed.params() != bridge_params(&config).sanitized() {
            return Err("the bridge's RSTP settings differ".into());
        }
        if self.stp_numbered(stp) != numbers {
            return Err("the ports are numbered differently".into());
        }
        let states: Vec<(PortId, PortState)> = stp
            .numbers
            .iter()
            .enumerate()
            .filter_map(|(no, id)| Some(((*id)?, no as u16)))
            .filter(|(id, _)| !stp.outside.contains(id))
            .map(|(id, no)| (id, handed.port_state(no)))
            .collect();
        let Some(stp) = self.bridges[b].stp.as_mut() else {
            return Err("RSTP is off on this bridge now".into());
        };
        stp.rstp = handed;
        stp.events.clear();
        for (id, state) in states {
            self.ports.set_stp(id, gate(state));
        }
        Ok(())
    }
}

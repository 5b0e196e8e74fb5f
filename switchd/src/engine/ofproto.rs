//! What OpenFlow messages do to a bridge (SPEC §10): the handshake and
//! configuration messages, FLOW_MOD / GROUP_MOD on the flow tables,
//! PACKET_OUT through the data path, the statistics a controller asks for,
//! and the asynchronous messages the switch sends (PORT_STATUS,
//! FLOW_REMOVED). The sockets are `openflow.rs`'s; bytes ⇄ messages is
//! [`crate::openflow::codec`]'s.
//!
//! Every request is answered: with its reply, or with an OFPT_ERROR that
//! carries the start of the offending message, and the connection goes on.
//! Only a failed HELLO (no common version) closes it, as the spec says.
//! Requests are handled in the order they arrive and each completely before
//! the next, so a BARRIER_REQUEST is answered at once.

use std::time::{Duration, Instant};

use proto::DatapathId;

use super::ports::BridgeKey;
use super::Engine;
use crate::flow::table::{Entry, Origin, RemovedReason, TableError};
use crate::flow::types::{ofport, Action, FlowFilter, ALL_TABLES, N_TABLES};
use crate::flow::Match;
use crate::openflow::codec;
use crate::openflow::error::OfError;
use crate::openflow::msg::{
    Desc, FeaturesReply, FlowMod, FlowModCommand, FlowModFlags, FlowRemoved, FlowRemovedReason, FlowStats,
    FlowStatsRequest, GroupDesc, GroupMod, GroupModCommand, GroupStats, Incoming, MultipartReply,
    MultipartRequest, Outgoing, PacketOut, PortDesc, PortReason, PortStats, Role, TableStats, GROUP_ALL,
    NO_BUFFER, OFP10,
};
use crate::openflow::{action, OfError as E};
use crate::pipeline::Gate;

/// OFPC_FLOW_STATS | TABLE_STATS | PORT_STATS | GROUP_STATS.
const CAPABILITIES: u32 = 0x1 | 0x2 | 0x4 | 0x8;
/// OFPPC_PORT_DOWN, reported for a port whose device is missing.
const OFPPS_LINK_DOWN: u32 = 1;
/// OFPPS_BLOCKED (spanning tree).
const OFPPS_BLOCKED: u32 = 2;
/// OFPPS_LIVE.
const OFPPS_LIVE: u32 = 4;
/// OFPPF_10GB_FD | OFPPF_COPPER (1.3 numbering): what a virtual port says
/// it is, as OVS says of a tap.
const PORT_FEATURES: u32 = (1 << 6) | (1 << 11);
/// 10 Gbit/s in kbit/s.
const PORT_SPEED: u32 = 10_000_000;
/// Most groups per bridge.
pub(super) const MAX_GROUPS: u32 = 65_536;

impl Engine {
    /// Handles one complete message of connection `c`.
    pub(super) fn of_message(&mut self, c: usize, msg: &[u8]) {
        let Some(conn) = self.of.conns[c].as_ref() else {
            return;
        };
        let Some(h) = codec::header(msg) else { return };
        let negotiated = conn.session.version();
        let decoded = codec::decode(msg, negotiated.unwrap_or(h.version));
        let result = match decoded {
            Err(e) => Err(e),
            Ok(Incoming::Hello { versions }) => {
                let conn = self.of.conns[c].as_mut().expect("checked above");
                match conn.session.on_hello(versions) {
                    Ok(_) => {
                        self.of_became_live(c);
                        Ok(())
                    }
                    Err(e) => {
                        let conn = self.of.conns[c].as_mut().expect("checked above");
                        conn.send(h.xid, &Outgoing::Error { error: e, data: msg });
                        conn.closing = Some(format!(
                            "no common OpenFlow version (peer offers bitmap {versions:#x})"
                        ));
                        return;
                    }
                }
            }
            Ok(_) if negotiated.is_none() => Err(E::BadType),
            Ok(m) => self.of_request(c, h.xid, m),
        };
        if let Err(error) = result {
            tracing::debug!(?error, msg_type = h.msg_type, "OpenFlow request refused");
            if let Some(conn) = self.of.conns[c].as_mut() {
                conn.send(h.xid, &Outgoing::Error { error, data: msg });
            }
        }
    }

    fn of_reply(&mut self, c: usize, xid: u32, msg: &Outgoing<'_>) {
        if let Some(conn) = self.of.conns[c].as_mut() {
            conn.send(xid, msg);
        }
    }

    fn of_version(&self, c: usize) -> u8 {
        self.of.conns[c]
            .as_ref()
            .and_then(|x| x.session.version())
            .unwrap_or(crate::openflow::msg::OFP13)
    }

    /// A change from a slave is refused (OpenFlow 1.3 §6.3.5).
    fn of_writable(&self, c: usize) -> Result<(), OfError> {
        match self.of.conns[c].as_ref().map(|x| x.session.role()) {
            Some(Role::Slave) => Err(E::IsSlave),
            _ => Ok(()),
        }
    }

    fn of_request(&mut self, c: usize, xid: u32, m: Incoming) -> Result<(), OfError> {
        let Some(conn) = self.of.conns[c].as_mut() else {
            return Ok(());
        };
        let b = conn.bridge;
        match m {
            Incoming::Hello { .. } => Ok(()),
            Incoming::Error { etype, code } => {
                tracing::info!(bridge = %self.bridges[b].name, etype, code, "controller sent an error");
                Ok(())
            }
            Incoming::EchoRequest(data) => {
                conn.send(xid, &Outgoing::EchoReply(&data));
                Ok(())
            }
            Incoming::EchoReply => Ok(()),
            Incoming::Experimenter { .. } => Err(E::BadExperimenter),
            Incoming::FeaturesRequest => {
                let version = self.of_version(c);
                let reply = FeaturesReply {
                    datapath_id: self.of_datapath_id(b),
                    n_buffers: 0,
                    n_tables: N_TABLES,
                    capabilities: if version == OFP10 { 0x7 } else { CAPABILITIES },
                    ports: if version == OFP10 {
                        self.of_port_descs(b)
                    } else {
                        Vec::new()
                    },
                };
                self.of_reply(c, xid, &Outgoing::FeaturesReply(reply));
                Ok(())
            }
            Incoming::GetConfigRequest => {
                let miss_send_len = conn.session.miss_send_len();
                conn.send(
                    xid,
                    &Outgoing::GetConfigReply {
                        flags: 0,
                        miss_send_len,
                    },
                );
                Ok(())
            }
            Incoming::SetConfig { flags, miss_send_len } => {
                // OFPC_FRAG_NORMAL only: fragments are switched as any frame.
                if flags & 0x3 != 0 {
                    return Err(E::SwitchConfigBadFlags);
                }
                conn.session.set_miss_send_len(miss_send_len);
                Ok(())
            }
            Incoming::PacketOut(po) => {
                self.of_writable(c)?;
                self.of_packet_out(b, po)
            }
            Incoming::FlowMod(fm) => {
                self.of_writable(c)?;
                let version = self.of_version(c);
                self.of_flow_mod(b, fm, version)
            }
            Incoming::GroupMod(gm) => {
                self.of_writable(c)?;
                self.of_group_mod(b, gm)
            }
            Incoming::PortMod(pm) => {
                self.of_writable(c)?;
                if !self.ports.of_bridge(b).any(|(_, p)| p.ofport == pm.port_no) {
                    return Err(E::PortModBadPort);
                }
                // Port flags (no-flood, no-forward, down) are not kept by
                // switchd: only a PORT_MOD that changes nothing is accepted.
                if pm.mask != 0 {
                    return Err(E::PortModBadConfig);
                }
                Ok(())
            }
            Incoming::TableMod { .. } => {
                self.of_writable(c)?;
                Ok(())
            }
            Incoming::Multipart(req) => {
                let reply = self.of_multipart(b, req)?;
                self.of_reply(c, xid, &Outgoing::Multipart(reply));
                Ok(())
            }
            Incoming::BarrierRequest => {
                conn.send(xid, &Outgoing::BarrierReply);
                Ok(())
            }
            Incoming::RoleRequest { role, generation_id } => self.of_role(c, b, xid, role, generation_id),
            Incoming::GetAsyncRequest => {
                let cfg = *conn.session.async_config();
                conn.send(xid, &Outgoing::GetAsyncReply(cfg));
                Ok(())
            }
            Incoming::SetAsync(cfg) => {
                conn.session.set_async(cfg);
                Ok(())
            }
            Incoming::MeterMod(mm) => {
                self.of_writable(c)?;
                self.of_meter_mod(b, &mm).map_err(|e| {
                    tracing::debug!(error = %e, "METER_MOD refused");
                    meter_of_error(&e)
                })
            }
        }
    }

    fn of_role(
        &mut self,
        c: usize,
        b: BridgeKey,
        xid: u32,
        role: Role,
        generation_id: u64,
    ) -> Result<(), OfError> {
        if self.of_version(c) == OFP10 {
            return Err(E::BadType);
        }
        if role != Role::NoChange {
            if matches!(role, Role::Master | Role::Slave) {
                self.bridges[b].of.election.check(role, generation_id)?;
            }
            if role == Role::Master {
                // One master: the others become slaves.
                for &l in &self.bridges[b].of.live {
                    if l != c {
                        if let Some(other) = self.of.conns[l].as_mut() {
                            if other.session.role() == Role::Master {
                                other.session.set_role(Role::Slave);
                            }
                        }
                    }
                }
            }
            if let Some(conn) = self.of.conns[c].as_mut() {
                conn.session.set_role(role);
            }
        }
        let now_role = self.of.conns[c]
            .as_ref()
            .map_or(Role::Equal, |x| x.session.role());
        let _ = generation_id;
        let generation_id = self.bridges[b].of.election.reply_generation_id();
        self.of_reply(
            c,
            xid,
            &Outgoing::RoleReply {
                role: now_role,
                generation_id,
            },
        );
        Ok(())
    }

    pub(super) fn of_datapath_id(&self, b: BridgeKey) -> u64 {
        let bridge = &self.bridges[b];
        // As OVS: by default the bridge's MAC in the low 48 bits.
        bridge
            .of
            .datapath_id
            .unwrap_or_else(|| DatapathId::from_mac(bridge.mac))
            .get()
    }

    /// Bridge `b`'s ports as OpenFlow describes them.
    pub(super) fn of_port_descs(&self, b: BridgeKey) -> Vec<PortDesc> {
        let specs = self.ports.members(b);
        let mac = self.bridges[b].mac.0;
        let mut v: Vec<PortDesc> = self
            .ports
            .of_bridge(b)
            .map(|(id, p)| {
                let gate = specs.index_of(id).map_or(Gate::Down, |i| specs[i].gate);
                let state = match gate {
                    Gate::Down => OFPPS_LINK_DOWN,
                    Gate::Forwarding | Gate::MirrorOutput => OFPPS_LIVE,
                    Gate::Learning | Gate::Discarding => OFPPS_BLOCKED | OFPPS_LIVE,
                };
                let mut name = p.name.to_string();
                name.truncate(15);
                PortDesc {
                    port_no: p.ofport,
                    hw_addr: port_mac(mac, p.ofport),
                    name,
                    config: 0,
                    state,
                    curr: PORT_FEATURES,
                    curr_speed: PORT_SPEED,
                    max_speed: PORT_SPEED,
                }
            })
            .collect();
        v.sort_by_key(|d| d.port_no);
        v
    }

    /// Sends PORT_STATUS for every port of every bridge with a controller
    /// that was added, removed or changed since the last call.
    pub(super) fn of_port_sync(&mut self) {
        let keys: Vec<BridgeKey> = self.bridges.keys().collect();
        for b in keys {
            if self.bridges[b].of.live.is_empty() {
                self.bridges[b].of.ports_seen.clear();
                continue;
            }
            let now = self.of_port_descs(b);
            let before = std::mem::take(&mut self.bridges[b].of.ports_seen);
            if now == before {
                self.bridges[b].of.ports_seen = before;
                continue;
            }
            let mut changes = Vec::new();
            for d in &before {
                if !now.iter().any(|n| n.port_no == d.port_no) {
                    changes.push((PortReason::Delete, d.clone()));
                }
            }
            for d in &now {
                match before.iter().find(|o| o.port_no == d.port_no) {
                    None => changes.push((PortReason::Add, d.clone())),
                    Some(o) if o != d => changes.push((PortReason::Modify, d.clone())),
                    Some(_) => {}
                }
            }
            for (reason, desc) in changes {
                self.of_broadcast(
                    b,
                    |s| s.wants_port_status(reason),
                    &Outgoing::PortStatus { reason, desc },
                );
            }
            self.bridges[b].of.ports_seen = now;
        }
    }

    /// Sends `msg` to every live connection of bridge `b` that `wants` it.
    fn of_broadcast(
        &mut self,
        b: BridgeKey,
        wants: impl Fn(&crate::openflow::conn::Session) -> bool,
        msg: &Outgoing<'_>,
    ) {
        for &l in &self.bridges[b].of.live {
            if let Some(conn) = self.of.conns[l].as_mut() {
                if conn.live() && wants(&conn.session) {
                    conn.send(0, msg);
                }
            }
        }
    }

    /// FLOW_REMOVED for the flows of bridge `b` that went away and asked
    /// for it.
    pub(super) fn of_flows_removed<'a>(
        &mut self,
        b: BridgeKey,
        gone: impl IntoIterator<Item = (&'a Entry, RemovedReason)>,
        now: Instant,
    ) {
        if self.bridges[b].of.live.is_empty() {
            return;
        }
        for (e, why) in gone {
            if !e.spec.send_flow_rem {
                continue;
            }
            let reason = match why {
                RemovedReason::IdleTimeout => FlowRemovedReason::IdleTimeout,
                RemovedReason::HardTimeout => FlowRemovedReason::HardTimeout,
                RemovedReason::Delete => FlowRemovedReason::Delete,
            };
            let msg = Outgoing::FlowRemoved(FlowRemoved {
                cookie: e.spec.cookie,
                priority: e.spec.priority,
                reason,
                table_id: e.spec.table,
                duration: now.saturating_duration_since(e.created),
                idle_timeout: e.spec.idle_timeout,
                hard_timeout: e.spec.hard_timeout,
                packet_count: e.n_packets(),
                byte_count: e.n_bytes(),
                matching: e.spec.matching,
            });
            self.of_broadcast(b, |s| s.wants_flow_removed(reason), &msg);
        }
    }

    fn of_flow_mod(&mut self, b: BridgeKey, fm: FlowMod, version: u8) -> Result<(), OfError> {
        let now = Instant::now();
        match fm.command {
            FlowModCommand::Add => self.of_flow_add(b, &fm, version, now)?,
            FlowModCommand::Modify | FlowModCommand::ModifyStrict => {
                let strict = fm.command == FlowModCommand::ModifyStrict;
                if fm.table_id != ALL_TABLES {
                    action::validate(&fm.matching, &fm.actions, fm.table_id)?;
                }
                self.of_check_groups(b, &fm.actions)?;
                self.check_meters(b, &fm.actions).map_err(|_| E::UnknownMeter)?;
                let filter = FlowFilter {
                    table: fm.table_id,
                    matching: fm.matching,
                    priority: fm.priority,
                    cookie: fm.cookie,
                    cookie_mask: fm.cookie_mask,
                    out_port: None,
                    out_group: None,
                };
                let bridge = &mut self.bridges[b];
                let n = bridge
                    .flows
                    .modify(&filter, strict, &fm.actions, fm.flags.reset_counts, now);
                bridge.flows_changed();
                // OpenFlow 1.0: a modification that selects nothing adds.
                if n == 0 && version == OFP10 {
                    self.of_flow_add(b, &fm, version, now)?;
                }
            }
            FlowModCommand::Delete | FlowModCommand::DeleteStrict => {
                let strict = fm.command == FlowModCommand::DeleteStrict;
                let filter = FlowFilter {
                    table: fm.table_id,
                    matching: fm.matching,
                    priority: fm.priority,
                    cookie: fm.cookie,
                    cookie_mask: fm.cookie_mask,
                    out_port: fm.out_port,
                    out_group: fm.out_group,
                };
                let gone = self.bridges[b].flows.delete(&filter, strict);
                self.bridges[b].flows_changed();
                self.of_flows_removed(b, gone.iter().map(|e| (e, RemovedReason::Delete)), now);
            }
        }
        let adds = matches!(
            fm.command,
            FlowModCommand::Add | FlowModCommand::Modify | FlowModCommand::ModifyStrict
        );
        if adds && fm.buffer_id != NO_BUFFER {
            // Applied, but the buffer does not exist: as OVS.
            return Err(E::BufferUnknown);
        }
        Ok(())
    }

    fn of_flow_add(&mut self, b: BridgeKey, fm: &FlowMod, version: u8, now: Instant) -> Result<(), OfError> {
        if fm.table_id >= N_TABLES {
            return Err(E::FlowModBadTableId);
        }
        action::validate(&fm.matching, &fm.actions, fm.table_id)?;
        self.of_check_groups(b, &fm.actions)?;
        self.check_meters(b, &fm.actions).map_err(|_| E::UnknownMeter)?;
        let bridge = &mut self.bridges[b];
        if fm.flags.check_overlap
            && bridge.flows.iter().any(|(_, e)| {
                e.spec.table == fm.table_id
                    && e.spec.priority == fm.priority
                    && e.spec.matching != fm.matching
                    && overlaps(&e.spec.matching, &fm.matching)
            })
        {
            return Err(E::Overlap);
        }
        let spec = fm.to_spec();
        // OpenFlow 1.0 always resets the counters of a replaced flow.
        let reset = version == OFP10 || fm.flags.reset_counts;
        let r = bridge.flows.add(spec, reset, Origin::Controller, now);
        bridge.flows_changed();
        r.map(|_| ()).map_err(|e| match e {
            TableError::Full => E::TableFull,
            TableError::BadTable(_) => E::FlowModBadTableId,
        })
    }

    /// Every `group:N` must name an existing group (OFPBAC_BAD_OUT_GROUP).
    fn of_check_groups(&self, b: BridgeKey, actions: &[Action]) -> Result<(), OfError> {
        let groups = &self.bridges[b].groups;
        for a in actions {
            if let Action::Group(g) = a {
                if groups.get(*g).is_none() {
                    return Err(E::BadOutGroup);
                }
            }
        }
        Ok(())
    }

    fn of_group_mod(&mut self, b: BridgeKey, gm: GroupMod) -> Result<(), OfError> {
        let now = Instant::now();
        for bucket in &gm.buckets {
            action::validate(&Match::ANY, &bucket.actions, 0).map_err(|_| E::BadBucket)?;
            self.of_check_groups(b, &bucket.actions)?;
        }
        let bridge = &mut self.bridges[b];
        match gm.command {
            GroupModCommand::Add => {
                if gm.group_id > crate::openflow::msg::GROUP_MAX {
                    return Err(E::InvalidGroup);
                }
                bridge
                    .groups
                    .add(gm.group_id, gm.group_type, gm.buckets, now)
                    .map_err(group_error)?;
            }
            GroupModCommand::Modify => {
                bridge
                    .groups
                    .modify(gm.group_id, gm.group_type, gm.buckets)
                    .map_err(group_error)?;
            }
            GroupModCommand::Delete => {
                let deleted = bridge
                    .groups
                    .delete((gm.group_id != GROUP_ALL).then_some(gm.group_id));
                // Flows that used a deleted group go with it (1.3 §6.5).
                let mut gone = Vec::new();
                for g in deleted {
                    let filter = FlowFilter {
                        out_group: Some(g),
                        ..FlowFilter::default()
                    };
                    gone.extend(self.bridges[b].flows.delete(&filter, false));
                }
                self.bridges[b].flows_changed();
                self.of_flows_removed(b, gone.iter().map(|e| (e, RemovedReason::Delete)), now);
            }
        }
        Ok(())
    }

    fn of_packet_out(&mut self, b: BridgeKey, po: PacketOut) -> Result<(), OfError> {
        if po.buffer_id != NO_BUFFER {
            return Err(E::BufferUnknown);
        }
        if po.data.len() < crate::wire::ETH_HEADER_LEN || po.data.len() > crate::batch::MAX_FRAME {
            return Err(E::BadLen);
        }
        let in_idx = match po.in_port {
            ofport::CONTROLLER | ofport::NONE | ofport::LOCAL => None,
            p if p <= ofport::MAX => match self.ports.members(b).index_of_ofport(p) {
                Some(i) => Some(i),
                None => return Err(E::BadPort),
            },
            _ => return Err(E::BadPort),
        };
        for a in &po.actions {
            if let Action::Output(p) = a {
                if *p <= ofport::MAX && self.ports.members(b).index_of_ofport(*p).is_none() {
                    // As OVS: an output to a port that does not exist is
                    // refused (a flow's is not: the port may come later).
                    return Err(E::BadOutPort);
                }
            }
        }
        self.of_check_groups(b, &po.actions)?;
        self.packet_out(b, in_idx, po.in_port, &po.actions, &po.data);
        Ok(())
    }

    fn of_multipart(&mut self, b: BridgeKey, req: MultipartRequest) -> Result<MultipartReply, OfError> {
        let now = Instant::now();
        Ok(match req {
            MultipartRequest::Desc => MultipartReply::Desc(Desc {
                mfr_desc: "switchd".into(),
                hw_desc: "switchd userspace switch".into(),
                sw_desc: concat!("switchd ", env!("CARGO_PKG_VERSION")).into(),
                serial_num: "None".into(),
                dp_desc: self.bridges[b].name.to_string(),
            }),
            MultipartRequest::Flow(r) => {
                let filter = stats_filter(&r);
                let flows = self.bridges[b]
                    .flows
                    .dump(&filter)
                    .into_iter()
                    .map(|e| FlowStats {
                        table_id: e.spec.table,
                        duration: now.saturating_duration_since(e.created),
                        priority: e.spec.priority,
                        idle_timeout: e.spec.idle_timeout,
                        hard_timeout: e.spec.hard_timeout,
                        flags: FlowModFlags {
                            send_flow_rem: e.spec.send_flow_rem,
                            ..FlowModFlags::default()
                        },
                        cookie: e.spec.cookie,
                        packet_count: e.n_packets(),
                        byte_count: e.n_bytes(),
                        matching: e.spec.matching,
                        actions: e.spec.actions.clone(),
                    })
                    .collect();
                MultipartReply::Flow(flows)
            }
            MultipartRequest::Aggregate(r) => {
                let filter = stats_filter(&r);
                let flows = self.bridges[b].flows.dump(&filter);
                MultipartReply::Aggregate {
                    packet_count: flows.iter().map(|e| e.n_packets()).sum(),
                    byte_count: flows.iter().map(|e| e.n_bytes()).sum(),
                    flow_count: flows.len() as u32,
                }
            }
            MultipartRequest::Table => {
                let mut tables: Vec<TableStats> = (0..N_TABLES)
                    .map(|t| TableStats {
                        table_id: t,
                        active_count: 0,
                        lookup_count: 0,
                        matched_count: 0,
                    })
                    .collect();
                let flows = &self.bridges[b].flows;
                for (_, e) in flows.iter() {
                    tables[usize::from(e.spec.table)].active_count += 1;
                }
                for t in tables.iter_mut() {
                    (t.lookup_count, t.matched_count) = flows.table_stats(t.table_id);
                }
                MultipartReply::Table(tables)
            }
            MultipartRequest::TableFeatures => MultipartReply::TableFeatures { n_tables: N_TABLES },
            MultipartRequest::PortStats(port) => {
                if let Some(p) = port {
                    if !self.ports.of_bridge(b).any(|(_, x)| x.ofport == p) {
                        return Err(E::BadPort);
                    }
                }
                let mut stats: Vec<PortStats> = self
                    .ports
                    .of_bridge(b)
                    .filter(|(_, x)| port.is_none_or(|p| p == x.ofport))
                    .map(|(_, x)| {
                        let k = &x.counters;
                        PortStats {
                            port_no: x.ofport,
                            rx_packets: k.rx_packets,
                            tx_packets: k.tx_packets,
                            rx_bytes: k.rx_bytes,
                            tx_bytes: k.tx_bytes,
                            rx_dropped: k.rx_dropped(),
                            tx_dropped: k.tx_dropped(),
                            rx_errors: k.rx_errors,
                            tx_errors: k.tx_errors,
                            duration: Duration::ZERO,
                        }
                    })
                    .collect();
                stats.sort_by_key(|s| s.port_no);
                MultipartReply::PortStats(stats)
            }
            MultipartRequest::PortDesc => MultipartReply::PortDesc(self.of_port_descs(b)),
            MultipartRequest::GroupDesc => MultipartReply::GroupDesc(
                self.bridges[b]
                    .groups
                    .iter()
                    .map(|g| GroupDesc {
                        group_type: g.group_type,
                        group_id: g.id,
                        buckets: g.buckets.clone(),
                    })
                    .collect(),
            ),
            MultipartRequest::GroupStats(id) => {
                let bridge = &self.bridges[b];
                if id != GROUP_ALL && bridge.groups.get(id).is_none() {
                    return Err(E::UnknownGroup);
                }
                MultipartReply::GroupStats(
                    bridge
                        .groups
                        .iter()
                        .filter(|g| id == GROUP_ALL || g.id == id)
                        .map(|g| GroupStats {
                            group_id: g.id,
                            ref_count: bridge.groups.ref_count(&bridge.flows, g.id),
                            packet_count: g.n_packets(),
                            byte_count: g.n_bytes(),
                            duration: now.saturating_duration_since(g.created),
                            buckets: g.bucket_counts().collect(),
                        })
                        .collect(),
                )
            }
            MultipartRequest::GroupFeatures => MultipartReply::GroupFeatures {
                max_groups: MAX_GROUPS,
            },
            MultipartRequest::MeterStats(id) => MultipartReply::MeterStats(self.of_meter_stats(b, id)),
            MultipartRequest::MeterConfig(id) => MultipartReply::MeterConfig(self.of_meter_configs(b, id)),
            MultipartRequest::MeterFeatures => MultipartReply::MeterFeatures(super::meters::of_features()),
        })
    }
}

fn group_error(e: crate::flow::group::GroupError) -> OfError {
    use crate::flow::group::GroupError as G;
    tracing::debug!("group refused: {e}");
    match e {
        G::GroupExists(_) => E::GroupExists,
        G::UnknownGroup(_) => E::UnknownGroup,
        G::BadGroupType(_) => E::BadGroupType,
        G::BadBucket(..) => E::BadBucket,
        G::GroupLoop(_) => E::GroupLoop,
        G::OutOfGroups => E::OutOfGroups,
        G::InvalidGroup(..) => E::InvalidGroup,
    }
}

/// The flow selection of a flow or aggregate stats request.
fn stats_filter(r: &FlowStatsRequest) -> FlowFilter {
    FlowFilter {
        table: r.table_id,
        matching: r.matching,
        cookie: r.cookie,
        cookie_mask: r.cookie_mask,
        out_port: r.out_port,
        out_group: r.out_group,
        ..FlowFilter::default()
    }
}

/// Whether some packet matches both `a` and `b`: on every bit both care
/// about, they want the same value.
fn overlaps(a: &Match, b: &Match) -> bool {
    a.mask
        .0
        .iter()
        .zip(b.mask.0.iter())
        .zip(a.value.0.iter().zip(b.value.0.iter()))
        .all(|((ma, mb), (va, vb))| (va ^ vb) & ma & mb == 0)
}

/// A port's address in PORT_DESC: the bridge's with the port number in the
/// last two bytes (stable, unique on the bridge, locally administered).
fn port_mac(bridge: [u8; 6], ofport: u16) -> [u8; 6] {
    let [hi, lo] = ofport.to_be_bytes();
    [
        bridge[0] | 0x02,
        bridge[1],
        bridge[2],
        bridge[3],
        hi ^ bridge[4],
        lo ^ bridge[5],
    ]
}

/// The OpenFlow error for a refused METER_MOD.
fn meter_of_error(e: &crate::qos::MeterError) -> OfError {
    use crate::qos::MeterError as M;
    match e {
        M::InvalidMeter(_) => E::InvalidMeter,
        M::Exists(_) => E::MeterExists,
        M::Unknown(_) => E::UnknownMeter,
        M::BadFlags(_) => E::BadMeterFlags,
        M::BadRate(_) => E::BadMeterRate,
        M::BadBurst(_) => E::BadMeterBurst,
        M::BadBand(_) => E::BadMeterBand,
        M::OutOfBands(_) => E::OutOfBands,
        M::OutOfMeters => E::OutOfMeters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Field;

    #[test]
    fn overlap_is_agreement_on_common_bits() {
        let mut a = Match::ANY;
        a.set_exact(Field::DlType, 0x0800);
        let mut b = Match::ANY;
        b.set_exact(Field::NwProto, 6);
        assert!(overlaps(&a, &b));
        let mut c = Match::ANY;
        c.set_exact(Field::DlType, 0x86dd);
        assert!(!overlaps(&a, &c));
        assert!(overlaps(&Match::ANY, &c));
    }
}

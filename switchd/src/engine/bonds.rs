//! Bonds in the engine (SPEC §8): opening a bond's member devices,
//! receiving from each member (LACPDUs to LACP, other frames through the
//! bond's admission rules into the pipeline as frames of the bond port),
//! the 100 ms tick that drives LACP timers, up/down delays and rebalancing,
//! gratuitous learning packets after a failover, and `bond-show` /
//! `lacp-show`.
//!
//! A bond is one port of the port table (`Link::Bond`); its members have
//! mio tokens of their own (`MEMBER_TOKEN_BASE` + port slot × 32 + member).
//! Sending goes through `BondPort::send_batch`, which asks the bond which
//! member each frame leaves by.

use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Interest, Token};
use proto::{BondConfig, Error, ErrorKind, IfName, PortConfig};

use super::ports::Link;
use super::{member_token, Engine};
use crate::batch::{Edit, TxEntry};
use crate::bond::{self, Admit, Bond, BondParams};
use crate::lacp::{self, ActorConfig, Lacp};
use crate::port::bond::{BondPort, Member};
use crate::port::sys::OpenError;
use crate::port::BATCH;
use crate::stats::DropReason;
use crate::wire;
use crate::PortId;

/// The LACP slow-protocols destination and ethertype (802.1AX).
const LACP_DST: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x02];
const SLOW_PROTOCOLS: u16 = 0x8809;

/// Whether a member may carry traffic before the up/down delays: its own
/// state (open, carrier, LACP), or, with `lacp_fallback_ab=true` and no
/// partner in sync, carrier alone (the bond works as active-backup).
fn may_enable(b: &BondConfig, lacp: Option<&Lacp>, member: &Member) -> bool {
    member.may_enable()
        || (b.lacp_fallback_ab
            && lacp.is_some_and(|l| !l.negotiated())
            && member.io.is_some()
            && member.carrier)
}

/// What the bond is now: `lacp_status` of SPEC §8.
pub(super) fn lacp_status(b: &BondConfig, lacp: Option<&Lacp>) -> proto::LacpStatus {
    match lacp {
        None => proto::LacpStatus::Off,
        Some(l) if l.negotiated() => proto::LacpStatus::Negotiated,
        Some(_) if b.lacp_fallback_ab => proto::LacpStatus::Fallback,
        Some(_) => proto::LacpStatus::Configured,
    }
}

/// The bond's parameters: as configured, except that a bond falling back
/// for want of an LACP partner works as active-backup.
fn bond_params(b: &BondConfig, lacp: Option<&Lacp>) -> BondParams {
    let status = lacp_status(b, lacp);
    BondParams {
        mode: match b.mode {
            _ if status == proto::LacpStatus::Fallback => bond::BondMode::ActiveBackup,
            proto::BondMode::ActiveBackup => bond::BondMode::ActiveBackup,
            proto::BondMode::BalanceSlb => bond::BondMode::BalanceSlb,
            proto::BondMode::BalanceTcp => bond::BondMode::BalanceTcp,
        },
        updelay_ms: b.updelay,
        downdelay_ms: b.downdelay,
        rebalance_interval_ms: b.rebalance_interval,
        lacp_negotiated: status == proto::LacpStatus::Negotiated,
    }
}

impl Engine {
    /// Milliseconds on the engine's monotonic clock (what the pure bond and
    /// LACP code are given as time).
    pub(super) fn now_ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_millis() as u64
    }

    /// Opens the members of bond port `id` that exist and registers them.
    /// A member that is missing is left closed (the probe retries it;
    /// `add-bond` checks that every member exists first).
    pub(super) fn open_bond(&mut self, id: PortId) -> Result<Link, OpenError> {
        let Some(p) = self.ports.get(id) else {
            return Err(OpenError::NotADevice(proto::PortType::Bond));
        };
        let names: Vec<IfName> = p.config().members().to_vec();
        let b = p.config().bond();
        let bridge_mac = self.bridges[p.bridge].mac;
        let mut members: Vec<Member> = names.into_iter().map(Member::new).collect();
        for (m, member) in members.iter_mut().enumerate() {
            match self.open_device(&member.name, &PortConfig::default()) {
                Ok(io) => {
                    self.poll
                        .registry()
                        .register(
                            &mut SourceFd(&io.raw_fd()),
                            Token(member_token(id, m)),
                            Interest::READABLE,
                        )
                        .map_err(OpenError::io("register", member.name.as_str()))?;
                    member.carrier = self.devices.carrier(&member.name).0;
                    member.io = Some(io);
                }
                Err(e) => tracing::warn!(member = %member.name, "bond member not opened: {e}"),
            }
        }
        let active = match b.lacp {
            proto::LacpMode::Off => None,
            proto::LacpMode::Active => Some(true),
            proto::LacpMode::Passive => Some(false),
        };
        let lacp = active.map(|active| {
            let mut l = Lacp::new(ActorConfig {
                system: bridge_mac.0,
                system_priority: lacp::DEFAULT_SYSTEM_PRIORITY,
                key: (id.0 as u16).wrapping_add(1),
                active,
                fast: b.lacp_time == proto::LacpTime::Fast,
            });
            for m in 0..members.len() {
                l.add_member(m as u16 + 1, 0xff);
            }
            l
        });
        let now = self.now_ms(Instant::now());
        let bond = Bond::new(bond_params(&b, lacp.as_ref()), members.len());
        for m in &mut members {
            m.lacp_usable = lacp.is_none();
        }
        let mut port = BondPort { members, bond, lacp };
        if let Some(l) = port.lacp.as_mut() {
            for (m, member) in port.members.iter().enumerate() {
                l.set_carrier(m as u16 + 1, member.io.is_some() && member.carrier);
            }
        }
        for (m, member) in port.members.iter().enumerate() {
            port.bond
                .set_may_enable(m, may_enable(&b, port.lacp.as_ref(), member), now);
        }
        Ok(Link::Bond(Box::new(port)))
    }

    /// Deregisters a bond's member fds (the devices close as the bond drops).
    pub(super) fn release_bond(&mut self, port: &BondPort) {
        for m in &port.members {
            if let Some(io) = &m.io {
                let _ = self.poll.registry().deregister(&mut SourceFd(&io.raw_fd()));
            }
        }
    }

    /// Receives one batch on member `m` of bond `id` and forwards what the
    /// bond admits as frames of the bond port. Returns whether the member
    /// may have more frames queued.
    pub(super) fn service_member(&mut self, id: PortId, m: usize) -> bool {
        let received = {
            let Some(port) = self.ports.get_mut(id).and_then(|p| p.bond_mut()) else {
                return false;
            };
            let Some(io) = port.members.get_mut(m).and_then(|mm| mm.io.as_mut()) else {
                return false;
            };
            io.recv_batch(&mut self.batch)
        };
        let n = match received {
            Ok(n) => n,
            Err(e) => {
                self.member_down(id, m, &e);
                return false;
            }
        };
        if n == 0 {
            return false;
        }
        let now = Instant::now();
        let now_ms = self.now_ms(now);
        let mut lacp_events = false;
        for slot in 0..n {
            match self.admit(id, m, slot, now, now_ms) {
                Some(true) => self.forward_frame(id, slot, now),
                Some(false) => {}
                None => lacp_events = true,
            }
        }
        self.flush_tx();
        if lacp_events {
            self.bond_apply_lacp(id, now_ms);
        }
        n == BATCH
    }

    /// Decides over frame `slot`, received on member `m` of bond `id`:
    /// `Some(true)` forward it, `Some(false)` it was dropped (counted),
    /// `None` it was an LACPDU given to LACP.
    fn admit(&mut self, id: PortId, m: usize, slot: usize, now: Instant, now_ms: u64) -> Option<bool> {
        let frame = self.batch.frame(slot);
        let Some(p) = self.ports.get_mut(id) else {
            return Some(false);
        };
        let b = p.bridge;
        let Some(port) = p.bond_mut() else {
            return Some(false);
        };
        if frame.len() >= 14 && frame[..6] == LACP_DST && frame[12..14] == SLOW_PROTOCOLS.to_be_bytes() {
            if let Some(l) = port.lacp.as_mut() {
                if l.receive(m as u16 + 1, &frame[14..], now_ms).is_err() {
                    p.counters.count_drop(DropReason::BadLacpdu);
                }
                return None;
            }
            // LACP off: slow protocols frames are never forwarded.
            p.counters.count_drop(DropReason::ReservedDestination);
            return Some(false);
        }
        let dst_multicast = frame.first().is_some_and(|b| b & 1 == 1);
        let ok = match port.bond.admit_rx(m, dst_multicast) {
            Admit::Yes => true,
            Admit::No => false,
            Admit::IfNotLearnedElsewhere => {
                // SLB's reverse-path check: a frame from a MAC this bridge
                // learned on another port came back from the upstream switch.
                let specs = self.ports.members(b);
                let meta = wire::parse(frame).ok();
                let vlan = specs
                    .index_of(id)
                    .zip(meta)
                    .and_then(|(i, meta)| specs[i].vlan.classify(meta.tag).ok().map(|v| (v, meta.src)));
                match vlan {
                    Some((v, src)) => self.bridges[b].fdb.lookup(v, src, now).is_none_or(|at| at == id),
                    None => true,
                }
            }
        };
        if !ok {
            if let Some(p) = self.ports.get_mut(id) {
                p.counters.count_drop(DropReason::BondInactiveMember);
            }
        }
        Some(ok)
    }

    /// A member's device failed: close it; the probe re-opens it when it
    /// returns.
    fn member_down(&mut self, id: PortId, m: usize, e: &std::io::Error) {
        let now_ms = self.now_ms(Instant::now());
        let Some(port) = self.ports.get_mut(id).and_then(|p| p.bond_mut()) else {
            return;
        };
        let Some(member) = port.members.get_mut(m) else {
            return;
        };
        tracing::warn!(member = %member.name, "bond member down: {e}");
        if let Some(io) = member.io.take() {
            let _ = self.poll.registry().deregister(&mut SourceFd(&io.raw_fd()));
        }
        self.bond_member_changed(id, m, now_ms);
    }

    /// Re-derives member `m`'s usability after its device, carrier or LACP
    /// state changed.
    pub(super) fn bond_member_changed(&mut self, id: PortId, m: usize, now_ms: u64) {
        let Some(p) = self.ports.get_mut(id) else { return };
        let b = p.config().bond();
        let Some(port) = p.bond_mut() else { return };
        let Some(member) = port.members.get(m) else { return };
        let up = member.io.is_some() && member.carrier;
        if let Some(l) = port.lacp.as_mut() {
            l.set_carrier(m as u16 + 1, up);
        }
        let may = may_enable(&b, port.lacp.as_ref(), member);
        port.bond.set_may_enable(m, may, now_ms);
        self.bond_apply_lacp(id, now_ms);
    }

    /// Carries out LACP's events of bond `id`: LACPDUs sent on their
    /// member, usability into the bond.
    pub(super) fn bond_apply_lacp(&mut self, id: PortId, now_ms: u64) {
        let mut events = std::mem::take(&mut self.lacp_events);
        loop {
            events.clear();
            let Some(p) = self.ports.get_mut(id) else { break };
            let b = p.config().bond();
            let Some(port) = p.bond_mut() else { break };
            let Some(l) = port.lacp.as_mut() else { break };
            l.drain_events(&mut events);
            if events.is_empty() {
                break;
            }
            let params = bond_params(&b, Some(l));
            if params != port.bond.params() {
                port.bond.set_params(params, now_ms);
            }
            for ev in &events {
                match ev {
                    lacp::Event::Transmit { member, frame } => {
                        let m = usize::from(*member).saturating_sub(1);
                        self.send_member_control(id, m, frame.as_bytes());
                    }
                    lacp::Event::Usable { member, usable } => {
                        let m = usize::from(*member).saturating_sub(1);
                        if let Some(port) = self.ports.get_mut(id).and_then(|p| p.bond_mut()) {
                            if let Some(mm) = port.members.get_mut(m) {
                                mm.lacp_usable = *usable;
                            }
                        }
                    }
                }
            }
            // Usability (and fallback) may have changed for every member.
            if let Some(port) = self.ports.get_mut(id).and_then(|p| p.bond_mut()) {
                for m in 0..port.members.len() {
                    let member = &port.members[m];
                    let may = may_enable(&b, port.lacp.as_ref(), member);
                    port.bond.set_may_enable(m, may, now_ms);
                }
            }
        }
        self.lacp_events = events;
    }

    /// Sends one frame the switch makes (an LACPDU, a learning packet) out
    /// of member `m` of bond `id`, counted on the bond port.
    fn send_member_control(&mut self, id: PortId, m: usize, frame: &[u8]) {
        let Engine { ports, control, .. } = self;
        let Some(p) = ports.get_mut(id) else { return };
        if frame.len() > super::CONTROL_FRAME_LEN {
            return;
        }
        let Some(io) = p
            .bond_mut()
            .and_then(|b| b.members.get_mut(m))
            .and_then(|mm| mm.io.as_mut())
        else {
            return;
        };
        control.slot_mut(0)[..frame.len()].copy_from_slice(frame);
        control.set_frame(0, 0, frame.len());
        control.set_count(1);
        let o = io.send_batch(control, &[TxEntry::new(0, Edit::KEEP)]);
        p.count_sent(o);
    }

    /// The 100 ms tick of every bond: LACP timers, up/down delays,
    /// rebalancing, and learning packets when the active member changed.
    pub(super) fn bonds_tick(&mut self, now: Instant) {
        if !self.ports.has_bonds() {
            return;
        }
        let now_ms = self.now_ms(now);
        let ids: Vec<PortId> = self
            .ports
            .iter()
            .filter(|(_, p)| p.bond().is_some())
            .map(|(id, _)| id)
            .collect();
        for id in ids {
            if let Some(l) = self
                .ports
                .get_mut(id)
                .and_then(|p| p.bond_mut())
                .and_then(|b| b.lacp.as_mut())
            {
                l.tick(now_ms);
            }
            self.bond_apply_lacp(id, now_ms);
            let due = self
                .ports
                .get_mut(id)
                .and_then(|p| p.bond_mut())
                .is_some_and(|b| {
                    b.bond.tick(now_ms);
                    b.bond.should_send_learning_packets()
                });
            if due {
                self.send_learning_packets(id, now);
            }
        }
    }

    /// After a failover (active-backup, or SLB without LACP): one RARP per
    /// MAC learned on the bridge's other ports, out of the member that MAC's
    /// traffic now leaves by, so the switch upstream learns where it is (as
    /// OVS's `bond_compose_learning_packet`).
    fn send_learning_packets(&mut self, id: PortId, now: Instant) {
        let Some(p) = self.ports.get(id) else { return };
        let b = p.bridge;
        tracing::info!(port = %p.name, active = ?p.bond().and_then(|port| port.bond.active()), "bond failover: sending learning packets");
        let rows = self.bridges[b].fdb.entries(now);
        for row in rows.iter().filter(|r| r.port != id) {
            let member = self
                .ports
                .get(id)
                .and_then(|p| p.bond())
                .and_then(|port| port.bond.learning_member(row.mac.0, row.vlan));
            if let Some(m) = member {
                let (frame, len) = bond::learning_packet(row.mac.0, row.vlan);
                self.send_member_control(id, m, &frame[..len]);
            }
        }
    }

    /// Once a second and on link notifications: re-opens members whose
    /// device came back, closes those whose device went away, reads
    /// carrier.
    pub(super) fn probe_bond(&mut self, id: PortId) {
        let now_ms = self.now_ms(Instant::now());
        let n = self
            .ports
            .get_mut(id)
            .and_then(|p| p.bond_mut())
            .map_or(0, |b| b.members.len());
        for m in 0..n {
            let Some(port) = self.ports.get_mut(id).and_then(|p| p.bond_mut()) else {
                return;
            };
            let member = &mut port.members[m];
            let current = self.devices.if_index(&member.name);
            let bound = member.io.as_ref().and_then(|io| io.ifindex());
            let mut changed = false;
            if bound.is_some() && current != bound {
                if let Some(io) = member.io.take() {
                    let _ = self.poll.registry().deregister(&mut SourceFd(&io.raw_fd()));
                }
                changed = true;
            }
            if member.io.is_none() && current.is_some() {
                if let Ok(io) = self.devices.open(&member.name, &PortConfig::default()) {
                    if self
                        .poll
                        .registry()
                        .register(
                            &mut SourceFd(&io.raw_fd()),
                            Token(member_token(id, m)),
                            Interest::READABLE,
                        )
                        .is_ok()
                    {
                        member.io = Some(io);
                        changed = true;
                    }
                }
            }
            let carrier = member.io.is_some() && self.devices.carrier(&member.name).0;
            if carrier != member.carrier {
                member.carrier = carrier;
                changed = true;
            }
            if changed {
                self.mark_ready(member_token(id, m));
                self.bond_member_changed(id, m, now_ms);
            }
        }
    }

    /// Whether any port is a bond (the loop then ticks every 100 ms).
    pub(super) fn bonds_running(&self) -> bool {
        self.ports.has_bonds()
    }

    /// The bond that has device `name` as a member, if any.
    pub(super) fn bond_of_member(&self, name: &IfName) -> Option<IfName> {
        self.ports
            .iter()
            .find(|(_, p)| p.config().members().contains(name))
            .map(|(_, p)| p.name.clone())
    }

    /// `add-bond`: all checks first (SPEC §6), then one port.
    pub(super) fn cmd_add_bond(
        &mut self,
        bridge: &IfName,
        name: IfName,
        members: &[IfName],
        settings: &[proto::PortSetting],
        may_exist: bool,
    ) -> Result<proto::Reply, Error> {
        let b = self.find_bridge(bridge)?;
        if let Ok(existing) = self.find_port(&name) {
            let on = self.ports.get(existing).map(|p| p.bridge);
            if may_exist && on == Some(b) {
                return Ok(proto::Reply::Done);
            }
            let on_name = on.map_or("?", |on| self.bridges[on].name.as_str());
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("port {:?} already exists on bridge {on_name:?}", name.as_str()),
            ));
        }
        let config = PortConfig::for_bond(&name, members, settings).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("bond {:?}: {e}", name.as_str()),
            )
        })?;
        for m in members {
            if let Some(p) = self.ports.find(m).and_then(|id| self.ports.get(id)) {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!(
                        "{:?} is already a port of bridge {:?}",
                        m.as_str(),
                        self.bridges[p.bridge].name.as_str()
                    ),
                ));
            }
            if let Some(other) = self.bond_of_member(m) {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!(
                        "{:?} is already a member of bond {:?}",
                        m.as_str(),
                        other.as_str()
                    ),
                ));
            }
            if self.devices.if_index(m).is_none() {
                return Err(Error::new(
                    ErrorKind::Device,
                    format!(
                        "cannot add bond {:?}: no such device {:?}",
                        name.as_str(),
                        m.as_str()
                    ),
                ));
            }
        }
        let ofport = self.ports.pick_ofport(b, config.ofport_request).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("cannot add bond {:?}: {e}", name.as_str()),
            )
        })?;
        if let Err(reason) = self.add_port(b, name.clone(), config, ofport, false) {
            return Err(Error::new(
                ErrorKind::Device,
                format!("cannot add bond {:?}: {reason}", name.as_str()),
            ));
        }
        tracing::info!(bridge = %bridge, bond = %name, "bond added");
        Ok(proto::Reply::Done)
    }

    /// A bond's settings changed: its members are closed and opened again
    /// with the new bond and LACP state (as OVS reconfigures a bond).
    pub(super) fn reopen_bond(&mut self, id: PortId) {
        self.set_link_down(id);
        self.attach(id);
    }

    /// The bonds `bond-show`/`lacp-show` report: one, or all in bridge order.
    fn bonds_selected(&self, bond: Option<&IfName>) -> Result<Vec<PortId>, Error> {
        match bond {
            Some(name) => {
                let id = self.find_port(name)?;
                if self.ports.get(id).is_some_and(|p| p.bond().is_some()) {
                    Ok(vec![id])
                } else {
                    Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!("port {:?} is not a bond", name.as_str()),
                    ))
                }
            }
            None => Ok(self
                .bridges
                .keys()
                .flat_map(|b| {
                    self.ports
                        .of_bridge(b)
                        .filter(|(_, p)| p.bond().is_some())
                        .map(|(id, _)| id)
                })
                .collect()),
        }
    }

    /// `bond-show [BOND]`.
    pub(super) fn bond_show(&self, bond: Option<&IfName>) -> Result<proto::BondShowInfo, Error> {
        let now_ms = self.now_ms(Instant::now());
        let mut bonds = Vec::new();
        for id in self.bonds_selected(bond)? {
            let Some(p) = self.ports.get(id) else { continue };
            let Some(port) = p.bond() else { continue };
            let status = port.bond.status(now_ms);
            let b = p.config().bond();
            bonds.push(proto::BondInfo {
                bond: p.name.to_string(),
                bridge: self.bridges[p.bridge].name.to_string(),
                bond_mode: b.mode,
                lacp: b.lacp,
                lacp_status: lacp_status(&p.config().bond(), port.lacp.as_ref()),
                active_member: status.active.map(|m| port.members[m].name.to_string()),
                next_rebalance_ms: status.next_rebalance_ms.unwrap_or(0),
                members: port
                    .members
                    .iter()
                    .zip(&status.members)
                    .map(|(m, s)| proto::BondMemberInfo {
                        member: m.name.to_string(),
                        enabled: s.enabled,
                        carrier: m.carrier && m.io.is_some(),
                        may_enable: s.may_enable,
                        tx_bytes: s.tx_bytes,
                        buckets: s.buckets.clone(),
                    })
                    .collect(),
            });
        }
        Ok(proto::BondShowInfo { bonds })
    }

    /// `lacp-show [BOND]`: bonds with LACP on.
    pub(super) fn lacp_show(&self, bond: Option<&IfName>) -> Result<proto::LacpShowInfo, Error> {
        let mut bonds = Vec::new();
        for id in self.bonds_selected(bond)? {
            let Some(p) = self.ports.get(id) else { continue };
            let Some(port) = p.bond() else { continue };
            let Some(l) = port.lacp.as_ref() else {
                if bond.is_some() {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!("bond {:?} does not run LACP (lacp=off)", p.name.as_str()),
                    ));
                }
                continue;
            };
            let st = l.status();
            let sys = |s: &lacp::SystemInfo| proto::LacpSystem {
                system_id: proto::MacAddr(s.system),
                system_priority: s.priority,
                key: s.key,
            };
            bonds.push(proto::LacpBondInfo {
                bond: p.name.to_string(),
                status: lacp_status(&p.config().bond(), Some(l)),
                actor: sys(&st.actor),
                partner: st.partner.as_ref().map(sys),
                members: st
                    .members
                    .iter()
                    .filter_map(|m| {
                        let member = port.members.get(usize::from(m.member).checked_sub(1)?)?;
                        Some(proto::LacpMemberInfo {
                            member: member.name.to_string(),
                            actor_state: proto::LacpState(m.actor_state.0),
                            partner_state: proto::LacpState(m.partner_state.0),
                            rx_lacpdus: m.rx_lacpdus,
                            tx_lacpdus: m.tx_lacpdus,
                        })
                    })
                    .collect(),
            });
        }
        Ok(proto::LacpShowInfo { bonds })
    }
}

//! Port and bridge lifecycle: attaching a port to its device or tunnel
//! endpoint, taking it down, removing it, noticing devices that come and go,
//! and the db snapshot and restore.
//!
//! Every path that changes a port's link goes through [`Engine::set_link`],
//! which hands the old link to [`Engine::release`]: the one place that
//! deregisters an fd or leaves a tunnel endpoint.

use std::thread;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Interest, Token};
use proto::{IfName, MacAddr, PortConfig, PortType};

use super::ports::{BridgeKey, DownReason, Link};
use super::{Bridge, Engine, ENDPOINT_TOKEN_BASE};
use crate::config::{BridgeConfig, Db, PortEntry, DB_VERSION};
use crate::flow::types::ofport;
use crate::port::sys::OpenError;
use crate::port::tunnel::{self, Endpoint, EndpointKey, TunnelId, TunnelLink};
use crate::PortId;

/// How long start-up waits, in all, for TAP devices that are still held
/// before it restores their ports down. A switchd that was killed leaves its
/// TAPs held by its io_uring rings (registered files, see `port::sys::uring`)
/// until the kernel's asynchronous teardown of the rings runs, milliseconds
/// later; a restart must not find its own devices "held by another process".
/// A TAP that qemu holds costs one start-up this wait.
const RESTORE_HELD_WAIT: Duration = Duration::from_secs(2);

impl Engine {
    /// Takes port `id` down (not attached) and releases what it held.
    pub(super) fn set_link_down(&mut self, id: PortId) {
        self.set_link(id, Link::Down(DownReason::NotAttached));
    }

    /// Gives port `id` a new link and releases the old one.
    fn set_link(&mut self, id: PortId, link: Link) {
        if let Some(old) = self.ports.set_link(id, link) {
            self.release(old);
        }
        self.read_carrier(id);
        self.stp_link(id);
    }

    /// For a port of a bridge that runs RSTP, reads whether its device has
    /// carrier and is full duplex (point-to-point); returns whether the
    /// carrier changed. Other ports are taken as having carrier.
    fn read_carrier(&mut self, id: PortId) -> bool {
        let Some(p) = self.ports.get(id) else { return false };
        let (carrier, p2p) = match p.io().and_then(|io| io.ifindex()) {
            Some(_) if self.bridges[p.bridge].stp.is_some() => self.devices.carrier(&p.name),
            _ => (true, true),
        };
        let Some(p) = self.ports.get_mut(id) else {
            return false;
        };
        let changed = p.carrier != carrier;
        p.carrier = carrier;
        p.point_to_point = p2p;
        changed
    }

    /// Releases what a link held: the device's poller registration (the
    /// device closes when `io` drops), or the port's place on its tunnel
    /// endpoint, closing the endpoint when it was the last port on it.
    fn release(&mut self, link: Link) {
        match link {
            Link::Down(_) => {}
            Link::Bond(b) => self.release_bond(&b),
            // The port's token may stay on the ready list: servicing a port
            // without a device finds nothing and takes it off. (This runs
            // inside the servicing loop when a receive fails, so it must not
            // reorder that list.)
            Link::Device(io) => {
                let _ = self.poll.registry().deregister(&mut SourceFd(&io.raw_fd()));
            }
            Link::Tunnel(t) => {
                let Some(Some(ep)) = self.endpoints.get_mut(t.endpoint) else {
                    return;
                };
                ep.demux.remove(&t.id.demux);
                if ep.demux.is_empty() {
                    if let Some(ep) = self.endpoints[t.endpoint].take() {
                        let _ = self.poll.registry().deregister(&mut SourceFd(&ep.raw_fd()));
                        let token = ENDPOINT_TOKEN_BASE + t.endpoint;
                        self.ready.retain(|r| *r != token);
                        tracing::info!(endpoint = %ep.key(), "tunnel endpoint closed");
                    }
                }
            }
        }
    }

    /// Takes a port down after a failure; it stays configured and shows
    /// `reason`, and the MAC entries learned on it are forgotten.
    pub(super) fn take_down(&mut self, id: PortId, reason: DownReason) {
        let Some(p) = self.ports.get(id) else { return };
        tracing::warn!(port = %p.name, "port down: {reason}");
        let b = p.bridge;
        self.set_link(id, Link::Down(reason));
        self.bridges[b].fdb.flush_port(id);
    }

    /// Opens the device (or joins the tunnel endpoint) of a port and brings
    /// it up; returns whether it is up. On failure the port is left down
    /// with the reason.
    pub(super) fn attach(&mut self, id: PortId) -> bool {
        match self.open_link(id) {
            Ok(link) => {
                // Frames may already be queued; an edge may not come for them.
                let tokens = match &link {
                    Link::Device(_) => vec![id.0 as usize],
                    Link::Bond(b) => (0..b.members.len()).map(|m| super::member_token(id, m)).collect(),
                    _ => Vec::new(),
                };
                self.set_link(id, link);
                for t in tokens {
                    self.mark_ready(t);
                }
                true
            }
            Err(e) => {
                self.set_link(id, Link::Down(e.into()));
                false
            }
        }
    }

    /// Opens what port `id` needs to move frames.
    fn open_link(&mut self, id: PortId) -> Result<Link, OpenError> {
        let Some(p) = self.ports.get(id) else {
            return Err(OpenError::NotADevice(PortType::System));
        };
        if p.config().port_type.is_tunnel() {
            return self.join_endpoint(id).map(Link::Tunnel);
        }
        if p.config().port_type == PortType::Bond {
            return self.open_bond(id);
        }
        let (name, config) = (p.name.clone(), p.config().clone());
        // At start-up, a persistent TAP that is not here was moved away (or
        // deleted): creating a new one would leave the port up but reaching
        // nobody (SPEC §13).
        if self.restoring
            && config.port_type == PortType::Tap
            && config.persist
            && !self.has_handed(&name, PortType::Tap)
            && self.devices.if_index(&name).is_none()
        {
            return Err(OpenError::PersistentTapGone(name.to_string()));
        }
        let io = self.open_device(&name, &config)?;
        let Some(p) = self.ports.get(id) else {
            return Err(OpenError::NotADevice(PortType::System));
        };
        self.poll
            .registry()
            .register(
                &mut SourceFd(&io.raw_fd()),
                Token(id.0 as usize),
                Interest::READABLE,
            )
            .map_err(OpenError::io("register", p.name.as_str()))?;
        Ok(Link::Device(io))
    }

    /// Puts a tunnel port on its endpoint, opening the endpoint if it is the
    /// first port on it. The port is up from then on: it has no device, and
    /// the kernel routes each packet when it is sent.
    fn join_endpoint(&mut self, id: PortId) -> Result<TunnelLink, OpenError> {
        let Some(p) = self.ports.get(id) else {
            return Err(OpenError::NotADevice(PortType::Vxlan));
        };
        let tid = TunnelId::from_config(p.config()).ok_or(OpenError::NeedsRemoteIp(p.config().port_type))?;
        let e = match self
            .endpoints
            .iter()
            .position(|ep| ep.as_ref().is_some_and(|ep| ep.key() == tid.endpoint))
        {
            Some(e) => e,
            None => self.open_endpoint(tid.endpoint)?,
        };
        let Some(Some(ep)) = self.endpoints.get_mut(e) else {
            return Err(OpenError::NotADevice(PortType::Vxlan));
        };
        if let Err(other) = ep.demux.insert(tid.demux, id.0) {
            let other = self
                .ports
                .get(PortId(other))
                .map_or_else(|| format!("#{other}"), |o| o.name.to_string());
            return Err(OpenError::TunnelTaken {
                demux: tid.demux.to_string(),
                endpoint: tid.endpoint.to_string(),
                port: other,
            });
        }
        // No route yet is not fatal: sends fail (counted) until there is one,
        // and the probe picks up the MTU then.
        let underlay = tunnel::underlay_mtu(&tid).unwrap_or(tunnel::DEFAULT_UNDERLAY_MTU);
        Ok(TunnelLink::new(e, tid, underlay))
    }

    /// Opens and registers the endpoint `key`; returns its slot.
    fn open_endpoint(&mut self, key: EndpointKey) -> Result<usize, OpenError> {
        // Say so when the socket that holds the UDP port is our own.
        if let Some(other) = self
            .endpoints
            .iter()
            .flatten()
            .map(Endpoint::key)
            .find(|k| k.conflicts_with(&key))
        {
            return Err(OpenError::EndpointConflict {
                port: key.port,
                other: other.to_string(),
            });
        }
        let (ep, how) = match self.take_endpoint(&key.to_string()) {
            Some((rx, tx)) => (Endpoint::adopt(key, rx, tx)?, "taken over"),
            None => (Endpoint::open(key)?, "opened"),
        };
        let e = match self.endpoints.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                self.endpoints.push(None);
                self.endpoints.len() - 1
            }
        };
        let token = ENDPOINT_TOKEN_BASE + e;
        self.poll
            .registry()
            .register(&mut SourceFd(&ep.raw_fd()), Token(token), Interest::READABLE)
            .map_err(OpenError::io("register", &key.to_string()))?;
        self.endpoints[e] = Some(ep);
        self.mark_ready(token);
        tracing::info!(endpoint = %key, "tunnel endpoint {how}");
        Ok(e)
    }

    /// Once a second (and on every link notification), checks every port
    /// that is not up as it should be:
    /// - a system port is compared with its device by name: a down port
    ///   whose device has appeared is attached; an up port whose device is
    ///   gone, or was replaced by a new device of the same name (a VM
    ///   restarted), is taken down and re-attached as needed. The kernel
    ///   tells an AF_PACKET socket that its device went down, but not that it
    ///   was deleted, so this probe is what notices a deleted device (one
    ///   `if_nametoindex` per port per second);
    /// - a socket port restored down (its directory was missing, say) is
    ///   retried until its socket can be created;
    /// - a tunnel port that is down is retried (its UDP port was taken, say);
    ///   an up one re-reads its underlay MTU (routes and path MTUs change).
    pub(super) fn probe_ports(&mut self) {
        for id in self.ports.ids() {
            let Some(p) = self.ports.get(id) else { continue };
            let port_type = p.config().port_type;
            let up = p.is_up();
            match port_type {
                PortType::Vxlan | PortType::Gre if up => self.probe_underlay(id),
                PortType::Bond => self.probe_bond(id),
                PortType::Vxlan | PortType::Gre | PortType::Stream | PortType::Dgram if !up => {
                    self.retry(id);
                }
                PortType::System => {
                    if up && self.read_carrier(id) {
                        self.stp_link(id);
                    }
                    let Some(p) = self.ports.get(id) else { continue };
                    let current = self.devices.if_index(&p.name);
                    let bound = p.io().and_then(|io| io.ifindex());
                    if bound.is_some() && current != bound {
                        self.take_down(id, DownReason::DeviceRemoved);
                    }
                    if current.is_some() && self.ports.get(id).is_some_and(|p| !p.is_up()) {
                        self.retry(id);
                    }
                }
                _ => {}
            }
        }
    }

    /// Attaches a port that is down, logging when it comes up.
    fn retry(&mut self, id: PortId) {
        if self.attach(id) {
            if let Some(p) = self.ports.get(id) {
                tracing::info!(port = %p.name, "port up");
            }
        }
    }

    /// Re-reads a tunnel port's underlay MTU.
    fn probe_underlay(&mut self, id: PortId) {
        let Some(link) = self.ports.get(id).and_then(|p| p.tunnel()) else {
            return;
        };
        let Ok(underlay) = tunnel::underlay_mtu(&link.id) else {
            return;
        };
        if underlay != link.underlay_mtu() {
            if let Some(p) = self.ports.get(id) {
                tracing::info!(port = %p.name, underlay, "tunnel underlay MTU changed");
            }
            self.ports.set_underlay_mtu(id, underlay);
        }
    }

    /// Logs (at debug, at most once a second per endpoint) the tunnel
    /// packets that no port could take since the last time: their counters
    /// are on `port-stats`, the log says when they happened.
    pub(super) fn log_endpoint_drops(&mut self) {
        for ep in self.endpoints.iter_mut().flatten() {
            let total = ep.counters.rx_dropped();
            if total == ep.logged_drops {
                continue;
            }
            let by_reason = ep.counters.to_proto("", "").drops;
            tracing::debug!(
                endpoint = %ep.key(),
                new = total - ep.logged_drops,
                "tunnel packets dropped (totals: {by_reason:?})"
            );
            ep.logged_drops = total;
        }
    }

    /// The configuration as the db stores it.
    pub(super) fn to_db(&self) -> Db {
        Db {
            version: DB_VERSION,
            system_id: Some(self.system_id),
            bridges: self
                .bridges
                .keys()
                .map(|b| {
                    let (sflow, ipfix) = self.export_settings(b);
                    BridgeConfig {
                        name: self.bridges[b].name.clone(),
                        mac_aging: self.bridges[b].mac_aging,
                        mac_table_size: self.bridges[b].mac_table_size,
                        mac: Some(self.bridges[b].mac),
                        rstp: self.bridges[b].rstp_config,
                        flows: self.flows_to_db(b),
                        controllers: self.bridges[b]
                            .of
                            .controllers
                            .iter()
                            .map(|c| c.target.clone())
                            .collect(),
                        fail_mode: self.bridges[b].of.fail_mode,
                        protocols: self.bridges[b].of.protocols,
                        datapath_id: self.bridges[b].of.datapath_id,
                        mirrors: self.mirrors_to_db(b),
                        sflow,
                        ipfix,
                        meters: self.meters_to_db(b),
                        external_ids: self.bridges[b].external_ids.clone(),
                        ports: self
                            .ports
                            .of_bridge(b)
                            .map(|(_, p)| PortEntry {
                                name: p.name.clone(),
                                ofport: Some(p.ofport),
                                config: p.config().clone(),
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }

    /// Builds the bridges and ports of `db`; ports that cannot be opened
    /// are restored down, with the reason.
    pub(super) fn restore(&mut self, db: &Db) {
        self.restoring = true;
        self.restore_bridges(db);
        self.restoring = false;
    }

    fn restore_bridges(&mut self, db: &Db) {
        let held_deadline = Instant::now() + RESTORE_HELD_WAIT;
        if let Some(id) = db.system_id {
            self.system_id = id;
        }
        for b in &db.bridges {
            let key = self.add_bridge(b.name.clone(), b.mac);
            let bridge = &mut self.bridges[key];
            bridge.set_mac_aging(b.mac_aging);
            bridge.set_mac_table_size(b.mac_table_size);
            bridge.rstp_config = b.rstp;
            // The tree starts before the ports attach, so each starts
            // discarding (SPEC §7); after an in-place restart the tree
            // handed over replaces it once the ports are in.
            self.stp_configure(key);
            self.stp_expect_takeover(key);
            for p in &b.ports {
                // The stored number; a db written before ports had one, or
                // one that clashes (only by hand-editing), gets the lowest
                // free number.
                let ofport = match p.ofport.map(|n| self.ports.pick_ofport(key, Some(n))) {
                    Some(Ok(n)) => n,
                    _ => self.ports.pick_ofport(key, None).unwrap_or(ofport::MAX),
                };
                let id = self.ports.insert(key, p.name.clone(), p.config.clone(), ofport);
                self.stp_add_port(id);
                while !self.attach(id) {
                    let reason = self.ports.get(id).and_then(|p| p.down_reason());
                    if matches!(reason, Some(DownReason::Open(OpenError::Held(_))))
                        && Instant::now() < held_deadline
                    {
                        thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                    if let Some(reason) = reason {
                        tracing::warn!(port = %p.name, "restored down: {reason}");
                    }
                    break;
                }
            }
            self.stp_finish_takeover(key);
            self.bridges[key].external_ids = b.external_ids.clone();
            // Validated with the db; an error here would be a bug.
            if let Err(e) = self.meters_from_db(key, &b.meters) {
                tracing::error!(bridge = %b.name, "meters not restored: {e}");
            }
            if let Err(e) = self.flows_from_db(key, b.flows.as_deref()) {
                tracing::error!(bridge = %b.name, "flows not restored: {e}");
            }
            self.flows_finish_takeover(key);
            if !b.mirrors.is_empty() {
                let bridge = &mut self.bridges[key];
                for m in &b.mirrors {
                    bridge
                        .mirrors
                        .list
                        .push(super::bridge::Mirror::new(m.name.clone(), m.config.clone()));
                }
                self.mirrors_resolve(key);
            }
            if let Err(e) = self.export_from_db(key, b) {
                tracing::error!(bridge = %b.name, "sFlow/IPFIX not restored: {e}");
            }
            let of = &mut self.bridges[key].of;
            of.fail_mode = b.fail_mode;
            of.protocols = b.protocols;
            of.datapath_id = b.datapath_id;
            if !b.controllers.is_empty() {
                self.of_set_controllers(key, b.controllers.clone());
            }
        }
    }

    /// Adds a bridge; its MAC is `mac` as stored, else derived.
    pub(super) fn add_bridge(&mut self, name: IfName, mac: Option<MacAddr>) -> BridgeKey {
        let mac = mac.unwrap_or_else(|| super::bridge::bridge_mac(self.system_id, &name));
        let key = self.bridges.add(Bridge::new(name, mac));
        self.ports.add_bridge(key);
        key
    }

    /// Adds a port to bridge `b` and opens it.
    ///
    /// # Errors
    /// Why it could not be opened; the port is then not added.
    pub(super) fn add_port(
        &mut self,
        b: BridgeKey,
        name: IfName,
        config: PortConfig,
        ofport: u16,
        missing_ok: bool,
    ) -> Result<PortId, DownReason> {
        let system = config.port_type == PortType::System;
        let id = self.ports.insert(b, name, config, ofport);
        // Into the spanning tree first: a new port starts discarding, so a
        // new loop never forwards a frame (SPEC §7).
        self.stp_add_port(id);
        if self.attach(id) {
            return Ok(id);
        }
        // `ovs-vsctl add-port` of a device that is not there yet: the port
        // stays, down, and the probe attaches it when the device appears.
        let missing = matches!(
            self.ports.get(id).and_then(|p| p.down_reason()),
            Some(DownReason::NoSuchDevice)
        );
        if missing_ok && system && missing {
            return Ok(id);
        }
        self.stp_remove_port(id);
        match self.ports.remove(id).map(|p| p.into_link()) {
            Some(Link::Down(reason)) => Err(reason),
            _ => Err(DownReason::NotAttached),
        }
    }

    /// Removes a port: closes its device, forgets its MAC entries.
    pub(super) fn remove_port(&mut self, id: PortId) {
        self.stp_remove_port(id);
        if let Some(p) = self.ports.remove(id) {
            self.bridges[p.bridge].fdb.flush_port(id);
            self.release(p.into_link());
            // A new port may take the slot, and with it the token.
            self.ready.retain(|t| *t != id.0 as usize);
        }
    }

    /// Removes a bridge and all its ports.
    pub(super) fn remove_bridge(&mut self, b: BridgeKey) {
        // Controllers first: they would be told of every port going.
        self.of_close_bridge(b);
        let ids: Vec<PortId> = self.ports.members(b).iter().map(|s| s.id).collect();
        for id in ids {
            self.remove_port(id);
        }
        self.bridges.remove(b);
    }

    /// Closes every port and endpoint (at shutdown). TAP devices switchd
    /// created without `persist=true` disappear with their fds.
    pub(super) fn close_all(&mut self) {
        for b in self.bridges.keys().collect::<Vec<_>>() {
            self.remove_bridge(b);
        }
    }
}

//! The port table: every port of every bridge in slots whose index is the
//! port's [`PortId`] (and its mio token), and for each bridge the compact
//! [`Ports`] list the pipeline reads for every frame.
//!
//! This file alone keeps the two in step. A port's attachment is one
//! [`Link`] (down with a typed reason, up on a device, or up through a
//! tunnel endpoint); whether the pipeline sees the port as up, and the MTU it
//! enforces, are derived from the link and the configuration whenever either
//! changes, never stored twice by hand. A port finds its place in its
//! bridge's list through the list's own id → position map, so removing a
//! port or a bridge re-indexes nothing here.
//!
//! Releasing what a link holds (deregistering an fd, leaving a tunnel
//! endpoint) is the engine's job: every call that replaces or removes a
//! link hands the old one back.

use std::fmt;
use std::io;
use std::time::Instant;

use proto::{IfName, PortConfig};

use crate::pipeline::{Gate, PortSpec, Ports};
use crate::port::bond::BondPort;
use crate::port::sys::OpenError;
use crate::port::tunnel::TunnelLink;
use crate::port::{PortIo, SendOutcome, TxEntry, BATCH};
use crate::qos::Policer;
use crate::stats::{DropReason, PortCounters};
use crate::vlan::PortVlan;
use crate::PortId;

/// A bridge's stable index in the engine's bridge slots.
pub(super) type BridgeKey = usize;

/// MTU assumed for a port whose device has not been opened.
const DEFAULT_MTU: u32 = 1500;

/// Why a port is not moving frames; rendered for `show` at the protocol
/// boundary.
#[derive(Debug)]
pub(crate) enum DownReason {
    /// Configured, not yet attached (only seen inside one request).
    NotAttached,
    /// The device does not exist.
    NoSuchDevice,
    /// The device disappeared while the port was up.
    DeviceRemoved,
    /// The device failed while the port was up.
    DeviceError(io::Error),
    /// The device or endpoint could not be opened.
    Open(OpenError),
}

impl DownReason {
    /// The reason for a device that failed while running: a vanished
    /// device is "removed", anything else a device error.
    pub(crate) fn from_device_error(e: io::Error) -> DownReason {
        match e.raw_os_error() {
            Some(libc::ENODEV) | Some(libc::ENXIO) | Some(libc::EBADFD) => DownReason::DeviceRemoved,
            _ => DownReason::DeviceError(e),
        }
    }
}

impl From<OpenError> for DownReason {
    fn from(e: OpenError) -> DownReason {
        match e {
            OpenError::NoSuchDevice(_) => DownReason::NoSuchDevice,
            other => DownReason::Open(other),
        }
    }
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::NotAttached => f.write_str("not attached"),
            DownReason::NoSuchDevice => f.write_str("no such device"),
            DownReason::DeviceRemoved => f.write_str("no such device (device removed)"),
            DownReason::DeviceError(e) => write!(f, "device error: {e}"),
            DownReason::Open(e) => e.fmt(f),
        }
    }
}

/// What a port is attached to.
///
/// The device variant is large and kept inline on purpose: there is one
/// `Link` per port, in the table, and boxing it would add a pointer chase to
/// every receive and send.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(super) enum Link {
    /// Not moving frames.
    Down(DownReason),
    /// Up on its own device.
    Device(PortIo),
    /// Up through a shared tunnel endpoint (VXLAN, GRE).
    Tunnel(TunnelLink),
    /// A bond: its member devices and the state that decides over them.
    Bond(Box<BondPort>),
}

/// One port.
#[derive(Debug)]
pub(super) struct Port {
    pub name: IfName,
    pub bridge: BridgeKey,
    /// OpenFlow port number, unique on the bridge, fixed while the port
    /// exists and stored in the db (SPEC §9).
    pub ofport: u16,
    /// Private: changed only through [`PortTable::set_config`], which keeps
    /// the pipeline's VLAN rules and MTU in step.
    config: PortConfig,
    /// Private: changed only through [`PortTable::set_link`].
    link: Link,
    /// Spanning-tree state (never `Down`: that comes from the link);
    /// [`PortTable::set_stp`].
    stp: Gate,
    /// A mirror's output port (SPEC §11); [`PortTable::set_mirror_output`].
    mirror_output: bool,
    pub counters: PortCounters,
    /// Frames of the current batch queued for this port.
    pub tx: Vec<TxEntry>,
    /// On the engine's ready list.
    pub ready: bool,
    /// The device reports carrier (a veth whose peer is down has none);
    /// read for ports of a bridge that runs RSTP, true otherwise.
    pub carrier: bool,
    /// The link is point-to-point for RSTP's rapid transitions: all but a
    /// system port on a half-duplex device.
    pub point_to_point: bool,
    /// Captures of this port's frames (`switchctl capture`); usually empty,
    /// which is all the data path checks. Dropped with the port, which
    /// ends their readers' streams.
    pub taps: Vec<crate::capture::Tap>,
    /// `ingress_policing_rate` in force (SPEC §12); derived from the
    /// configuration and the MTU by [`PortTable`], `None` = not policed.
    pub ingress: Option<Policer>,
    /// `egress_policing_rate` in force, likewise.
    pub egress: Option<Policer>,
}

impl Port {
    pub fn config(&self) -> &PortConfig {
        &self.config
    }

    /// What the port held, once it is removed from the table.
    pub fn into_link(self) -> Link {
        self.link
    }

    /// The port's device, if it is up on one (to receive and send; the
    /// link itself cannot be replaced through this).
    pub fn io_mut(&mut self) -> Option<&mut PortIo> {
        match &mut self.link {
            Link::Device(io) => Some(io),
            _ => None,
        }
    }

    pub fn io(&self) -> Option<&PortIo> {
        match &self.link {
            Link::Device(io) => Some(io),
            _ => None,
        }
    }

    pub fn bond(&self) -> Option<&BondPort> {
        match &self.link {
            Link::Bond(b) => Some(b),
            _ => None,
        }
    }

    /// The bond's members and state (the link itself cannot be replaced
    /// through this).
    pub fn bond_mut(&mut self) -> Option<&mut BondPort> {
        match &mut self.link {
            Link::Bond(b) => Some(b),
            _ => None,
        }
    }

    pub fn tunnel(&self) -> Option<&TunnelLink> {
        match &self.link {
            Link::Tunnel(t) => Some(t),
            _ => None,
        }
    }

    pub fn down_reason(&self) -> Option<&DownReason> {
        match &self.link {
            Link::Down(r) => Some(r),
            _ => None,
        }
    }

    pub fn is_up(&self) -> bool {
        !matches!(self.link, Link::Down(_))
    }

    /// Whether frames may be sent to this port with a virtio-net header
    /// (GSO super-frames, partial checksums) as they are.
    pub fn offloads(&self) -> bool {
        self.io().is_some_and(PortIo::offloads)
    }

    /// The MTU enforced on egress: the configured one, else the device's.
    /// A tunnel port's is what fits its underlay (see
    /// [`TunnelLink::inner_mtu`]); a configured one may only lower it.
    pub fn mtu(&self) -> u32 {
        match &self.link {
            Link::Tunnel(t) => {
                let inner = t.inner_mtu();
                self.config.mtu.map_or(inner, |m| m.min(inner))
            }
            Link::Device(io) => self.config.mtu.unwrap_or_else(|| io.mtu()),
            Link::Bond(b) => self.config.mtu.unwrap_or_else(|| b.mtu()),
            Link::Down(_) => self.config.mtu.unwrap_or(DEFAULT_MTU),
        }
    }

    /// Counts what one send call did: sent frames and bytes, and the
    /// frames it could not send under their drop reasons.
    pub fn count_sent(&mut self, o: SendOutcome) {
        let c = &mut self.counters;
        c.tx_packets += o.sent;
        c.tx_bytes += o.bytes;
        c.tx_errors += o.errors;
        c.drops[DropReason::TxQueueFull.index()] += o.dropped;
        c.drops[DropReason::TxError.index()] += o.errors;
        c.drops[DropReason::LinkDown.index()] += o.link_down;
    }

    /// Makes the policers what the configuration and the MTU ask for. A
    /// policer whose rate and burst in force are unchanged keeps its
    /// bucket, so an unrelated `set port` does not refill it.
    fn sync_policers(&mut self) {
        let mtu = self.mtu();
        let c = &self.config;
        resync(
            &mut self.ingress,
            c.ingress_policing_rate,
            c.ingress_policing_burst,
            mtu,
        );
        resync(
            &mut self.egress,
            c.egress_policing_rate,
            c.egress_policing_burst,
            mtu,
        );
    }

    fn spec(&self, id: PortId) -> PortSpec {
        PortSpec {
            id,
            vlan: PortVlan::from_config(&self.config),
            tunnel: self.config.port_type.is_tunnel(),
            gate: if !self.is_up() {
                Gate::Down
            } else if self.mirror_output {
                Gate::MirrorOutput
            } else {
                self.stp
            },
            mtu: self.mtu(),
            ofport: self.ofport,
            tun_id: if self.config.port_type.is_tunnel() {
                self.config.key.map_or(0, u64::from)
            } else {
                0
            },
        }
    }
}

/// Replaces `p` with a policer of `rate` (`None` = off) and `burst` on a
/// port of `mtu`, unless it already is one.
fn resync(p: &mut Option<Policer>, rate: Option<u32>, burst: Option<u32>, mtu: u32) {
    let rate = rate.unwrap_or(0);
    let same = p
        .as_ref()
        .is_some_and(|x| x.rate() == rate && x.burst() == Policer::burst_in_effect(burst, mtu));
    if !same {
        *p = Policer::new(rate, burst, mtu, Instant::now());
    }
}

/// Every port, and each bridge's pipeline view of its ports.
#[derive(Debug, Default)]
pub(super) struct PortTable {
    slots: Vec<Option<Port>>,
    /// Indexed by [`BridgeKey`]: the bridge's ports in the order they were
    /// added.
    members: Vec<Ports>,
    /// Ports whose link is a bond: the engine ticks bonds only when there
    /// are some, without a scan of every port per wake-up.
    bonds: usize,
}

impl PortTable {
    /// Starts an empty port list for bridge `b`.
    pub fn add_bridge(&mut self, b: BridgeKey) {
        if self.members.len() <= b {
            self.members.resize_with(b + 1, Ports::default);
        }
        self.members[b] = Ports::default();
    }

    /// The ports of bridge `b` as the pipeline reads them.
    pub fn members(&self, b: BridgeKey) -> &Ports {
        &self.members[b]
    }

    /// The OpenFlow port number a new port of bridge `b` gets: `request`
    /// if given (an error naming the holder if another port of the bridge
    /// has it), else the lowest free one (as OVS).
    pub fn pick_ofport(&self, b: BridgeKey, request: Option<u16>) -> Result<u16, String> {
        let used = |n: u16| self.of_bridge(b).find(|(_, p)| p.ofport == n);
        match request {
            Some(n) => match used(n) {
                Some((_, p)) => Err(format!("ofport {n} is already used by port {}", p.name)),
                None => Ok(n),
            },
            None => (1..=crate::flow::types::ofport::MAX)
                .find(|n| used(*n).is_none())
                .ok_or_else(|| "no free OpenFlow port number on the bridge".to_string()),
        }
    }

    /// Adds a port, down ([`DownReason::NotAttached`]), to bridge `b`,
    /// with OpenFlow port number `ofport` ([`PortTable::pick_ofport`]).
    pub fn insert(&mut self, b: BridgeKey, name: IfName, config: PortConfig, ofport: u16) -> PortId {
        let slot = match self.slots.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let id = PortId(slot as u32);
        let mut port = Port {
            name,
            bridge: b,
            ofport,
            config,
            link: Link::Down(DownReason::NotAttached),
            stp: Gate::Forwarding,
            mirror_output: false,
            counters: PortCounters::default(),
            tx: Vec::with_capacity(BATCH),
            ready: false,
            carrier: true,
            point_to_point: true,
            taps: Vec::new(),
            ingress: None,
            egress: None,
        };
        port.sync_policers();
        self.members[b].push(port.spec(id));
        self.slots[slot] = Some(port);
        id
    }

    /// Removes a port; the caller releases what its link holds.
    pub fn remove(&mut self, id: PortId) -> Option<Port> {
        let port = self.slots.get_mut(id.0 as usize)?.take()?;
        if matches!(port.link, Link::Bond(_)) {
            self.bonds -= 1;
        }
        let members = &mut self.members[port.bridge];
        if let Some(idx) = members.index_of(id) {
            members.remove(idx);
        }
        Some(port)
    }

    /// Replaces a port's link; returns the old one for the caller to
    /// release.
    pub fn set_link(&mut self, id: PortId, link: Link) -> Option<Link> {
        let port = self.slots.get_mut(id.0 as usize)?.as_mut()?;
        self.bonds += usize::from(matches!(link, Link::Bond(_)));
        let old = std::mem::replace(&mut port.link, link);
        self.bonds -= usize::from(matches!(old, Link::Bond(_)));
        Self::sync(&mut self.members, id, port);
        Some(old)
    }

    /// Replaces a port's configuration (VLAN rules, MTU).
    pub fn set_config(&mut self, id: PortId, config: PortConfig) {
        if let Some(Some(port)) = self.slots.get_mut(id.0 as usize) {
            port.config = config;
            Self::sync(&mut self.members, id, port);
        }
    }

    /// Makes a port a mirror's output port (it then carries only mirror
    /// traffic) or a normal one again.
    pub fn set_mirror_output(&mut self, id: PortId, on: bool) {
        if let Some(Some(port)) = self.slots.get_mut(id.0 as usize) {
            if port.mirror_output != on {
                port.mirror_output = on;
                Self::sync(&mut self.members, id, port);
            }
        }
    }

    /// Sets a port's spanning-tree state.
    pub fn set_stp(&mut self, id: PortId, stp: Gate) {
        if let Some(Some(port)) = self.slots.get_mut(id.0 as usize) {
            port.stp = stp;
            Self::sync(&mut self.members, id, port);
        }
    }

    /// Records a tunnel port's new underlay MTU.
    pub fn set_underlay_mtu(&mut self, id: PortId, mtu: u32) {
        if let Some(Some(port)) = self.slots.get_mut(id.0 as usize) {
            if let Link::Tunnel(t) = &mut port.link {
                t.set_underlay_mtu(mtu);
                Self::sync(&mut self.members, id, port);
            }
        }
    }

    /// Re-derives the pipeline's view of one port and its policers.
    fn sync(members: &mut [Ports], id: PortId, port: &mut Port) {
        port.sync_policers();
        let list = &mut members[port.bridge];
        if let Some(idx) = list.index_of(id) {
            list[idx] = port.spec(id);
        }
    }

    pub fn get(&self, id: PortId) -> Option<&Port> {
        self.slots.get(id.0 as usize)?.as_ref()
    }

    pub fn get_mut(&mut self, id: PortId) -> Option<&mut Port> {
        self.slots.get_mut(id.0 as usize)?.as_mut()
    }

    /// Whether any port is a bond.
    pub fn has_bonds(&self) -> bool {
        self.bonds > 0
    }

    /// The port named `name`, on any bridge.
    pub fn find(&self, name: &IfName) -> Option<PortId> {
        self.iter().find(|(_, p)| &p.name == name).map(|(id, _)| id)
    }

    /// Every port, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (PortId, &Port)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((PortId(i as u32), p.as_ref()?)))
    }

    /// Every port, in slot order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (PortId, &mut Port)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, p)| Some((PortId(i as u32), p.as_mut()?)))
    }

    /// The ports of bridge `b`, in the order they were added.
    pub fn of_bridge(&self, b: BridgeKey) -> impl Iterator<Item = (PortId, &Port)> {
        self.members[b]
            .iter()
            .filter_map(|s| Some((s.id, self.get(s.id)?)))
    }

    /// The ids of every slot (occupied or not) up to the highest one, for
    /// loops that change the table as they go.
    pub fn ids(&self) -> impl Iterator<Item = PortId> {
        (0..self.slots.len() as u32).map(PortId)
    }

    /// For the data path: bridge `b`'s pipeline view, and every port
    /// (to queue frames and count) at once.
    pub fn split(&mut self, b: BridgeKey) -> (&Ports, Slots<'_>) {
        (&self.members[b], Slots(&mut self.slots))
    }
}

/// The ports, mutable for queueing and counting, while a bridge's pipeline
/// view is borrowed (see [`PortTable::split`]). A port's link cannot be
/// replaced through it.
#[derive(Debug)]
pub(super) struct Slots<'a>(&'a mut [Option<Port>]);

impl Slots<'_> {
    #[inline]
    pub fn get_mut(&mut self, id: PortId) -> Option<&mut Port> {
        self.0.get_mut(id.0 as usize)?.as_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::PortSetting;

    fn name(s: &str) -> IfName {
        s.parse().unwrap()
    }

    fn table_with(ports: &[(&str, BridgeKey)]) -> (PortTable, Vec<PortId>) {
        let mut t = PortTable::default();
        t.add_bridge(0);
        t.add_bridge(1);
        let ids = ports
            .iter()
            .map(|(n, b)| {
                let of = t.pick_ofport(*b, None).unwrap();
                t.insert(*b, name(n), PortConfig::default(), of)
            })
            .collect();
        (t, ids)
    }

    #[test]
    fn inserted_ports_are_down_and_listed_in_order() {
        let (t, ids) = table_with(&[("a", 0), ("b", 1), ("c", 0)]);
        assert_eq!(ids, [PortId(0), PortId(1), PortId(2)]);
        let on0: Vec<_> = t.of_bridge(0).map(|(_, p)| p.name.to_string()).collect();
        assert_eq!(on0, ["a", "c"]);
        assert!(t.members(0).iter().all(|s| s.gate == Gate::Down));
        assert!(matches!(
            t.get(ids[0]).unwrap().down_reason(),
            Some(DownReason::NotAttached)
        ));
    }

    #[test]
    fn removal_keeps_positions_and_reuses_the_slot() {
        let (mut t, ids) = table_with(&[("a", 0), ("b", 0), ("c", 0)]);
        t.remove(ids[0]).unwrap();
        assert_eq!(t.members(0).index_of(ids[1]), Some(0));
        assert_eq!(t.members(0).index_of(ids[2]), Some(1));
        assert_eq!(t.members(0).index_of(ids[0]), None);
        let d = t.insert(0, name("d"), PortConfig::default(), 9);
        assert_eq!(d, ids[0], "the free slot is reused");
        assert_eq!(t.members(0).index_of(d), Some(2));
        assert!(t.remove(PortId(99)).is_none());
    }

    #[test]
    fn link_and_config_changes_reach_the_pipeline_view() {
        let (mut t, ids) = table_with(&[("a", 1)]);
        let old = t.set_link(ids[0], Link::Down(DownReason::NoSuchDevice)).unwrap();
        assert!(matches!(old, Link::Down(DownReason::NotAttached)));
        let mut cfg = PortConfig::default();
        cfg.set(PortSetting::Mtu(1400));
        cfg.set(PortSetting::Tag("10".parse().unwrap()));
        t.set_config(ids[0], cfg);
        let spec = &t.members(1)[0];
        assert_eq!(spec.mtu, 1400);
        assert!(spec.vlan.carries(10) && !spec.vlan.carries(0));
        assert_eq!(
            t.get(ids[0]).unwrap().down_reason().unwrap().to_string(),
            "no such device"
        );
    }

    #[test]
    fn down_reasons_render_once() {
        let removed = DownReason::from_device_error(io::Error::from_raw_os_error(libc::ENODEV));
        assert_eq!(removed.to_string(), "no such device (device removed)");
        let other = DownReason::from_device_error(io::Error::from_raw_os_error(libc::EIO));
        assert!(other.to_string().starts_with("device error: "), "{other}");
        assert_eq!(
            DownReason::from(OpenError::NoSuchDevice("x".into())).to_string(),
            "no such device"
        );
    }
}

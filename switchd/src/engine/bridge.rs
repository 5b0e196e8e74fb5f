//! A bridge's own state (name, MAC, MAC table, settings, its spanning
//! tree) and the table of bridges in stable slots. A leaf of the engine:
//! it knows nothing of ports' I/O or of the engine loop.

use std::time::{Duration, Instant};

use proto::{IfName, MacAddr, RstpBridgeConfig};

use super::ofstate::BridgeOf;
use super::ports::BridgeKey;
use crate::fdb::Fdb;
use crate::flow::classifier::FlowId;
use crate::flow::group::GroupTable;
use crate::flow::table::FlowTable;
use crate::rstp::{self, Event, Rstp};
use crate::stats::{DropReason, PortCounters};
use crate::wire::bpdu;
use crate::PortId;

pub(super) struct Bridge {
    pub name: IfName,
    /// The bridge's own address: its bridge id and the source of its BPDUs.
    pub mac: MacAddr,
    pub mac_aging: u32,
    pub mac_table_size: u32,
    pub fdb: Fdb,
    /// Spanning-tree settings as configured (stored even while off).
    pub rstp_config: RstpBridgeConfig,
    /// The running spanning tree, if `rstp_config.enabled`.
    pub stp: Option<BridgeStp>,
    /// Flow tables 0-253 (SPEC §9).
    pub flows: FlowTable,
    /// The default flow's id while it is the only flow: the data path then
    /// switches with NORMAL directly. Kept by [`Bridge::flows_changed`].
    pub default_flow: Option<FlowId>,
    /// Groups (SPEC §10).
    pub groups: GroupTable,
    /// `external_ids` (kept for other tools: `ovs-vsctl`'s face).
    pub external_ids: std::collections::BTreeMap<String, String>,
    /// Meters (SPEC §12).
    pub meters: crate::qos::MeterTable,
    /// OpenFlow settings and controllers (SPEC §10).
    pub of: BridgeOf,
    /// Mirrors (SPEC §11).
    pub mirrors: Mirrors,
    /// sFlow settings (SPEC §11), kept while off too.
    pub sflow_cfg: crate::sflow::SflowConfig,
    /// The running sFlow agent, while `sflow_cfg` has targets.
    pub sflow: Option<Box<SflowRun>>,
    /// IPFIX settings (SPEC §11), kept while off too.
    pub ipfix_cfg: crate::ipfix::IpfixConfig,
    /// The running IPFIX exporter, while `ipfix_cfg` has targets.
    pub ipfix: Option<Box<IpfixRun>>,
}

/// A bridge's running sFlow export: the agent, one sampler per port (by
/// `PortId.0`, made when the port first receives), each port's ifIndex,
/// and the socket datagrams leave by.
#[derive(Debug)]
pub(super) struct SflowRun {
    pub agent: crate::sflow::Agent,
    pub samplers: Vec<Option<crate::sflow::Sampler>>,
    pub ifindex: Vec<u32>,
    pub sock: std::net::UdpSocket,
    pub targets: Vec<std::net::SocketAddr>,
    pub rate: u32,
    /// Datagrams the socket refused.
    pub send_errors: u64,
}

/// A bridge's running IPFIX export and its socket.
#[derive(Debug)]
pub(super) struct IpfixRun {
    pub ipfix: crate::ipfix::Ipfix,
    pub sock: std::net::UdpSocket,
    /// Messages the socket refused.
    pub send_errors: u64,
    /// When it started, on the monotonic clock and in wall-clock
    /// milliseconds: records' times are derived from these.
    pub origin: std::time::Instant,
    pub wall_origin: u64,
}

/// One mirror with what it sent and its selection resolved to ports.
#[derive(Debug)]
pub(super) struct Mirror {
    pub name: IfName,
    pub config: proto::MirrorConfig,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// The output port, if it exists on the bridge.
    pub out: Option<PortId>,
    /// `select_vlan` as a bitmap (`None`: every VLAN).
    pub vlans: Option<Box<[u64; 64]>>,
}

impl Mirror {
    /// A mirror as configured, before `mirrors_resolve` fills in its ports.
    pub fn new(name: IfName, config: proto::MirrorConfig) -> Mirror {
        Mirror {
            name,
            config,
            tx_packets: 0,
            tx_bytes: 0,
            out: None,
            vlans: None,
        }
    }

    pub fn selects_vlan(&self, vlan: u16) -> bool {
        self.vlans
            .as_ref()
            .is_none_or(|b| b[usize::from(vlan & 0xfff) / 64] & (1 << (vlan % 64)) != 0)
    }
}

/// A bridge's mirrors and, per port, which of them select its frames:
/// bit `i` of a mask is `list[i]` (at most 32 mirrors, as OVS). Empty
/// `list`: the data path does nothing more than test that.
#[derive(Debug, Default)]
pub(super) struct Mirrors {
    pub list: Vec<Mirror>,
    /// Mirrors that select every frame (`select_all`, or `select_vlan` alone).
    pub all: u32,
    /// Per port (by `PortId.0`): mirrors that select what it receives.
    pub src: Vec<u32>,
    /// Per port (by `PortId.0`): mirrors that select what it sends.
    pub dst: Vec<u32>,
    /// Ports some mirror selects by what they send, with each one's send
    /// queue length before the current frame (scratch).
    pub dst_ports: Vec<(PortId, usize)>,
}

impl Bridge {
    pub fn new(name: IfName, mac: MacAddr) -> Bridge {
        let mut bridge = Bridge {
            mac,
            name,
            mac_aging: proto::types::MAC_AGING_DEFAULT,
            mac_table_size: proto::types::MAC_TABLE_SIZE_DEFAULT,
            fdb: Fdb::new(
                proto::types::MAC_TABLE_SIZE_DEFAULT as usize,
                Duration::from_secs(proto::types::MAC_AGING_DEFAULT.into()),
            ),
            rstp_config: RstpBridgeConfig::default(),
            stp: None,
            flows: FlowTable::with_default(Instant::now()),
            default_flow: None,
            groups: GroupTable::default(),
            meters: crate::qos::MeterTable::new(),
            external_ids: Default::default(),
            of: BridgeOf::new(Instant::now()),
            mirrors: Mirrors::default(),
            sflow_cfg: crate::sflow::SflowConfig::default(),
            sflow: None,
            ipfix_cfg: crate::ipfix::IpfixConfig::default(),
            ipfix: None,
        };
        bridge.flows_changed();
        bridge
    }

    /// To call after every change of `flows`.
    pub fn flows_changed(&mut self) {
        self.default_flow = self.flows.default_only();
    }

    pub fn set_mac_aging(&mut self, secs: u32) {
        self.mac_aging = secs;
        self.fdb.set_aging(Duration::from_secs(secs.into()));
    }

    pub fn set_mac_table_size(&mut self, n: u32) {
        self.mac_table_size = n;
        self.fdb.set_max_entries(n as usize);
    }
}

/// A bridge's MAC address derived from its name (SPEC §7) and this
/// switchd's `system_id`: locally administered, unicast, the same for the
/// same name on the same switch (a bridge deleted and added again keeps its
/// address), different on another switch, where a `br0` is just as likely
/// (two switches with one bridge MAC could not run RSTP between them). It is
/// 64-bit FNV-1a of the system id and the name, its low 48 bits, with the
/// locally-administered bit set and the multicast bit cleared. It is stored
/// in the db, so a later change of this function moves no bridge.
pub(super) fn bridge_mac(system_id: u64, name: &IfName) -> MacAddr {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in system_id.to_be_bytes().into_iter().chain(name.as_str().bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    MacAddr([(b[2] & 0xfc) | 0x02, b[3], b[4], b[5], b[6], b[7]])
}

/// A new switch's identity: 8 random bytes from the kernel (a clock-based
/// value if `/dev/urandom` cannot be read), stored in the db from then on.
pub(super) fn new_system_id() -> u64 {
    use std::io::Read;
    let mut b = [0u8; 8];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)) {
        Ok(()) => u64::from_ne_bytes(b),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64 ^ u64::from(std::process::id())),
    }
}

/// The bridges, in stable slots (a bridge's [`BridgeKey`] never changes
/// while it exists, so ports need no re-indexing when another bridge goes),
/// listed in the order they were added.
#[derive(Default)]
pub(super) struct Bridges {
    slots: Vec<Option<Bridge>>,
    order: Vec<BridgeKey>,
}

impl Bridges {
    pub fn add(&mut self, bridge: Bridge) -> BridgeKey {
        let key = match self.slots.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[key] = Some(bridge);
        self.order.push(key);
        key
    }

    pub fn remove(&mut self, key: BridgeKey) {
        self.slots[key] = None;
        self.order.retain(|k| *k != key);
    }

    pub fn find(&self, name: &IfName) -> Option<BridgeKey> {
        self.order.iter().copied().find(|&k| &self[k].name == name)
    }

    /// Keys in the order the bridges were added.
    pub fn keys(&self) -> impl Iterator<Item = BridgeKey> + '_ {
        self.order.iter().copied()
    }

    pub fn get(&self, key: BridgeKey) -> Option<&Bridge> {
        self.slots.get(key)?.as_ref()
    }

    pub fn get_mut(&mut self, key: BridgeKey) -> Option<&mut Bridge> {
        self.slots.get_mut(key)?.as_mut()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Bridge> {
        self.slots.iter().flatten()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Bridge> {
        self.slots.iter_mut().flatten()
    }
}

impl std::ops::Index<BridgeKey> for Bridges {
    type Output = Bridge;
    fn index(&self, key: BridgeKey) -> &Bridge {
        self.slots[key].as_ref().expect("a port's bridge exists")
    }
}

impl std::ops::IndexMut<BridgeKey> for Bridges {
    fn index_mut(&mut self, key: BridgeKey) -> &mut Bridge {
        self.slots[key].as_mut().expect("a port's bridge exists")
    }
}

/// One bridge's spanning tree.
#[derive(Debug)]
pub(super) struct BridgeStp {
    pub rstp: Rstp,
    /// Port numbers (the low 12 bits of a port id) → ports; index 0 unused.
    /// Every port of the bridge has a number, whether it takes part or not.
    pub numbers: Vec<Option<PortId>>,
    /// Ports with `rstp_enable=false`: numbered, not in the tree.
    pub outside: Vec<PortId>,
    /// MAC-table flushes the protocol asked for.
    pub fdb_flushes: u64,
    /// Events drained from `rstp`, kept to reuse the allocation.
    pub events: Vec<Event>,
    /// While the db is restored after an in-place restart with this
    /// bridge's tree handed over: the fresh tree's events (BPDUs claiming a
    /// new topology, ports discarding) are dropped, the handed-over tree
    /// replaces it once every port is in.
    pub muted: bool,
}

impl BridgeStp {
    /// A frame to a reserved address arrived on port `id`: if it is for the
    /// bridge group address and the port takes part, the protocol consumes
    /// it (a valid BPDU is counted by the protocol, a malformed one as
    /// `bad-bpdu` in `counters`) and `true` is returned; otherwise the
    /// caller counts the reserved destination as usual. The protocol's
    /// reaction (BPDUs to send, states) is applied after the batch, by
    /// [`Engine::stp_apply_pending`].
    pub fn receive(&mut self, id: PortId, frame: &[u8], counters: &mut PortCounters) -> bool {
        if frame.get(..6) != Some(&bpdu::BRIDGE_GROUP_ADDRESS[..]) || self.outside.contains(&id) {
            return false;
        }
        let Some(no) = self.number_of(id) else {
            return false;
        };
        if bpdu::llc_payload(frame)
            .and_then(|llc| self.rstp.receive(no, llc))
            .is_err()
        {
            counters.count_drop(DropReason::BadBpdu);
        }
        true
    }

    pub fn number_of(&self, id: PortId) -> Option<u16> {
        self.numbers.iter().position(|n| *n == Some(id)).map(|n| n as u16)
    }

    /// The lowest free port number (1..=4095), if any.
    pub fn allocate(&mut self, id: PortId) -> Option<u16> {
        let free = (1..self.numbers.len()).find(|&n| self.numbers[n].is_none());
        let n = match free {
            Some(n) => n,
            None if self.numbers.len() <= usize::from(rstp::MAX_PORT_NO) => {
                self.numbers.push(None);
                self.numbers.len() - 1
            }
            None => return None,
        };
        self.numbers[n] = Some(id);
        Some(n as u16)
    }
}

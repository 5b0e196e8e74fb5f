//! Replies `switchd` sends back: one per request, either a [`Reply`] or an
//! [`crate::Error`]. The structures here are also what `switchctl --json`
//! prints, so field names are part of the user-facing contract.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::types::{
    BondMode, BridgeId, DatapathId, FailMode, InvalidValue, LacpMode, MacAddr, OfVersion, OfVersions,
    PortConfig, PortType, RstpBridgeConfig, RstpPortId, VlanMode,
};

/// A successful reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "kebab-case")]
pub enum Reply {
    /// The change was applied (and saved).
    Done,
    /// Names (bridges or ports).
    Names(Vec<String>),
    /// `show`: every bridge.
    Show(Vec<BridgeInfo>),
    /// `fdb-show`: entries oldest first.
    Fdb(Vec<FdbEntry>),
    /// `fdb-flush`: how many entries were removed.
    Flushed {
        /// Entries removed.
        removed: u64,
    },
    /// `port-stats`: counters per port.
    Stats(Vec<PortStats>),
    /// `rstp-show`: spanning tree state per bridge.
    Rstp(RstpInfo),
    /// `bond-show`: state per bond.
    Bonds(BondShowInfo),
    /// `lacp-show`: LACP state per bond.
    Lacp(LacpShowInfo),
    /// `dump-flows`: the flows that matched, with their counters.
    Flows(FlowsInfo),
    /// `trace`: the steps a described packet takes, and where it ends.
    Trace(TraceInfo),
    /// `list-mirrors`.
    Mirrors(MirrorsInfo),
    /// Engine and table counters (for metrics).
    Counters(CountersInfo),
    /// `get-controller`: the controller targets of bridges, with their state.
    Controllers(ControllersInfo),
    /// `dump-meters`: the meters of a bridge with their counters.
    Meters(MetersInfo),
    /// `restart`: sent by the new image once it serves.
    Restarted(RestartInfo),
}

/// `restart`: what the new image took over, and how long forwarding stood
/// still (SPEC §13).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RestartInfo {
    /// The process id, the same before and after.
    pub pid: u32,
    /// The version of the image now running.
    pub version: String,
    /// Milliseconds from the old image's last forwarded batch to the new
    /// image's first poll (frames that arrived meanwhile waited in the
    /// kernel's queues).
    pub pause_ms: u64,
    /// Ports whose devices or sockets were handed over as they were.
    pub ports_handed_over: u32,
    /// Ports that had to be opened anew (nothing was handed over for them,
    /// or what was no longer matched their device).
    pub ports_reopened: u32,
    /// Tunnel endpoints (shared UDP / GRE sockets) handed over.
    pub endpoints_handed_over: u32,
}

/// `dump-meters BR`: the JSON of SPEC §12, `{"meters":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MetersInfo {
    /// The meters, by id.
    pub meters: Vec<MeterInfo>,
}

/// One meter: its configuration and counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterInfo {
    /// Meter id.
    pub meter: u32,
    /// `kbps` or `pktps`.
    pub unit: String,
    /// The `burst` flag.
    pub burst: bool,
    /// The `stats` flag (counts are kept either way).
    pub stats: bool,
    /// Flows whose actions use the meter.
    pub flows: u64,
    /// Frames that reached the meter.
    pub packets: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Milliseconds since the meter was added.
    pub duration_ms: u64,
    /// Its bands, in configuration order.
    pub bands: Vec<MeterBandInfo>,
}

/// One band of a meter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterBandInfo {
    /// `drop` (the only type).
    #[serde(rename = "type")]
    pub band_type: String,
    /// kbit/s or packets/s.
    pub rate: u32,
    /// kbit or packets, as in force (the rate when none was given).
    pub burst_size: u32,
    /// Frames the band dropped.
    pub packets: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// A bridge as `show` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeInfo {
    /// Bridge name.
    pub name: String,
    /// The bridge's own MAC address (locally administered, derived from
    /// its name; used in the bridge id). All zero from a daemon that
    /// predates it.
    #[serde(default)]
    pub mac: MacAddr,
    /// Seconds a MAC entry lives without traffic.
    pub mac_aging: u32,
    /// Maximum MAC entries.
    pub mac_table_size: u32,
    /// MAC entries now.
    pub mac_entries: u64,
    /// Spanning tree settings, as the keys `rstp`, `rstp_priority`, ...
    /// next to `mac_aging` (defaults when absent).
    #[serde(flatten)]
    pub rstp: RstpBridgeConfig,
    /// `fail_mode` (SPEC §10); the default from a daemon that predates
    /// OpenFlow controllers.
    #[serde(default)]
    pub fail_mode: FailMode,
    /// `protocols`: the OpenFlow versions offered to controllers; the
    /// default (both) from a daemon that predates them.
    #[serde(default)]
    pub protocols: OfVersions,
    /// The datapath id in force: `datapath_id` if set, else the one derived
    /// from the bridge MAC. `None` from a daemon that predates OpenFlow
    /// controllers (then not written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapath_id: Option<DatapathId>,
    /// The controller targets with their state, as `get-controller` reports
    /// them; empty without controllers (and from an older daemon).
    #[serde(default)]
    pub controllers: Vec<ControllerInfo>,
    /// sFlow settings in force (`key=value`, non-default ones; SPEC §11).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sflow: Vec<String>,
    /// IPFIX settings in force (`key=value`, non-default ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipfix: Vec<String>,
    /// `external_ids` of the bridge (kept for other tools, never interpreted).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub external_ids: std::collections::BTreeMap<String, String>,
    /// Ports in the order they were added.
    pub ports: Vec<PortInfo>,
}

/// A port as `show` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortInfo {
    /// Port name.
    pub name: String,
    /// OpenFlow port number (SPEC §9), 1–65279, stable across restarts.
    /// `None` from a daemon that predates flow tables (then not written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ofport: Option<u16>,
    /// Port type.
    #[serde(rename = "type")]
    pub port_type: PortType,
    /// The configuration as stored.
    pub config: PortConfig,
    /// The VLAN mode in force.
    pub vlan_mode: VlanMode,
    /// Up or down, and why.
    pub state: PortState,
    /// Largest frame payload sent out of the port, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

/// Whether a port moves frames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum PortState {
    /// Attached to its device and forwarding.
    Up,
    /// Configured but not forwarding.
    Down {
        /// Why, e.g. "no such device".
        reason: String,
    },
}

/// One learned MAC entry (OVS `fdb/show` columns, with the port's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FdbEntry {
    /// Port name.
    pub port: String,
    /// VLAN id.
    pub vlan: u16,
    /// MAC address.
    pub mac: MacAddr,
    /// Seconds since the MAC was last seen.
    pub age: u64,
}

/// Counters of one port.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PortStats {
    /// Bridge name.
    pub bridge: String,
    /// Port name.
    pub port: String,
    /// Frames received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Received frames dropped (the sum of `drops`).
    pub rx_dropped: u64,
    /// Receive errors from the device.
    pub rx_errors: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Frames not sent (queue full, too big for the port).
    pub tx_dropped: u64,
    /// Send errors from the device.
    pub tx_errors: u64,
    /// Drops by reason name (received frames attributed to the ingress
    /// port, egress drops to the egress port); only non-zero reasons.
    #[serde(default)]
    pub drops: BTreeMap<String, u64>,
}

/// `rstp-show`: the spanning tree state of bridges that run RSTP. Its JSON
/// is the contract of SPEC §7: `{"bridges":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RstpInfo {
    /// One entry per bridge, in creation order.
    pub bridges: Vec<RstpBridgeInfo>,
}

/// The spanning tree state of one bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RstpBridgeInfo {
    /// Bridge name.
    pub bridge: String,
    /// This bridge's identifier (`8000.020000000001`).
    pub bridge_id: BridgeId,
    /// The root bridge's identifier; equal to `bridge_id` on the root.
    pub root_id: BridgeId,
    /// The port towards the root; `None` on the root bridge.
    pub root_port: Option<String>,
    /// Cost of the path to the root (0 on the root).
    pub root_path_cost: u32,
    /// Topology changes detected or received.
    pub topology_changes: u64,
    /// Ports of the bridge, in the order they were added.
    pub ports: Vec<RstpPortInfo>,
    /// MAC table flushes caused by topology changes.
    pub fdb_flushes: u64,
}

impl RstpBridgeInfo {
    /// Whether this bridge is the root of its tree.
    pub fn is_root(&self) -> bool {
        self.root_id == self.bridge_id
    }
}

/// The spanning tree state of one port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RstpPortInfo {
    /// Port name.
    pub port: String,
    /// Port role.
    pub role: RstpRole,
    /// Port state.
    pub state: RstpState,
    /// Path cost in force.
    pub path_cost: u32,
    /// Port identifier (`8001`: priority 128, port number 1).
    pub port_id: RstpPortId,
    /// The designated bridge of the port's segment.
    pub designated_bridge: BridgeId,
    /// Operating as an edge port.
    pub edge: bool,
    /// BPDUs received.
    pub rx_bpdus: u64,
    /// BPDUs sent.
    pub tx_bpdus: u64,
    /// Which BPDUs the port sends: RSTP, or 802.1D STP after it heard an
    /// STP bridge (or with `rstp_force_protocol_version=0`).
    pub protocol: RstpProtocol,
}

/// An RSTP port role (802.1D-2004 §17.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RstpRole {
    /// The port towards the root bridge.
    Root,
    /// The port that forwards for its segment.
    Designated,
    /// A blocked alternative path to the root.
    Alternate,
    /// A blocked backup of a designated port on the same segment.
    Backup,
    /// Not in the tree (`rstp_enable=false`, or link down).
    Disabled,
}

impl RstpRole {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RstpRole::Root => "root",
            RstpRole::Designated => "designated",
            RstpRole::Alternate => "alternate",
            RstpRole::Backup => "backup",
            RstpRole::Disabled => "disabled",
        }
    }
}

/// An RSTP port state (802.1D-2004 §17.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RstpState {
    /// Neither forwards nor learns.
    Discarding,
    /// Learns but does not forward.
    Learning,
    /// Forwards and learns.
    Forwarding,
}

impl RstpState {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RstpState::Discarding => "discarding",
            RstpState::Learning => "learning",
            RstpState::Forwarding => "forwarding",
        }
    }
}

/// The BPDU format a port sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RstpProtocol {
    /// RSTP BPDUs (802.1D-2004).
    Rstp,
    /// 802.1D configuration and TCN BPDUs.
    Stp,
}

impl RstpProtocol {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RstpProtocol::Rstp => "rstp",
            RstpProtocol::Stp => "stp",
        }
    }
}

/// `bond-show`: the state of bonds (SPEC §8, like `ovs-appctl bond/show`).
/// Its JSON is the contract: `{"bonds":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BondShowInfo {
    /// One entry per bond, in creation order.
    pub bonds: Vec<BondInfo>,
}

/// The state of one bond.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BondInfo {
    /// Bond (port) name.
    pub bond: String,
    /// The bridge it is a port of.
    pub bridge: String,
    /// `bond_mode` in force.
    pub bond_mode: BondMode,
    /// `lacp` in force.
    pub lacp: LacpMode,
    /// Where LACP stands.
    pub lacp_status: LacpStatus,
    /// The member that carries flooded traffic (and, in active-backup,
    /// everything); `None` when no member is enabled.
    pub active_member: Option<String>,
    /// Milliseconds until buckets are next rebalanced; 0 when the bond
    /// does not rebalance (active-backup, or `bond_rebalance_interval=0`).
    pub next_rebalance_ms: u64,
    /// Members in configured order.
    pub members: Vec<BondMemberInfo>,
}

/// The state of one member of a bond.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BondMemberInfo {
    /// Member device name.
    pub member: String,
    /// Carries traffic now (usable, after `bond_updelay`/`bond_downdelay`).
    pub enabled: bool,
    /// The device has carrier.
    pub carrier: bool,
    /// Usable as far as carrier and LACP go, before the up/down delays.
    pub may_enable: bool,
    /// Bytes sent through this member.
    pub tx_bytes: u64,
    /// Hash buckets (0–255) assigned to this member, ascending; empty for
    /// an active-backup bond.
    pub buckets: Vec<u8>,
}

/// Where LACP stands on a bond (`lacp_status`, `lacp-show`'s `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LacpStatus {
    /// `lacp=off`.
    Off,
    /// A partner is in sync.
    Negotiated,
    /// LACP on, no partner in sync yet.
    Configured,
    /// No partner, and `lacp_fallback_ab=true` is in effect: the bond works
    /// as active-backup.
    Fallback,
}

impl LacpStatus {
    /// The name used in JSON and text.
    pub fn as_str(self) -> &'static str {
        match self {
            LacpStatus::Off => "off",
            LacpStatus::Negotiated => "negotiated",
            LacpStatus::Configured => "configured",
            LacpStatus::Fallback => "fallback",
        }
    }
}

/// `lacp-show`: the LACP state of bonds (SPEC §8, like `ovs-appctl
/// lacp/show`). Its JSON is the contract: `{"bonds":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LacpShowInfo {
    /// One entry per bond, in creation order.
    pub bonds: Vec<LacpBondInfo>,
}

/// The LACP state of one bond (one aggregator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LacpBondInfo {
    /// Bond name.
    pub bond: String,
    /// Where LACP stands.
    pub status: LacpStatus,
    /// This side: the bridge MAC as system id, priority 65534, the bond's key.
    pub actor: LacpSystem,
    /// The other side, once a LACPDU was received; `None` before.
    pub partner: Option<LacpSystem>,
    /// Members in configured order.
    pub members: Vec<LacpMemberInfo>,
}

/// An LACP system as LACPDUs carry it: system id, priority, key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LacpSystem {
    /// System id (a MAC address, `xx:xx:xx:xx:xx:xx`).
    pub system_id: MacAddr,
    /// System priority (lower wins).
    pub system_priority: u16,
    /// Aggregation key.
    pub key: u16,
}

/// The LACP state of one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LacpMemberInfo {
    /// Member device name.
    pub member: String,
    /// The state this side sends.
    pub actor_state: LacpState,
    /// The state the partner last sent (all clear before it sent any).
    pub partner_state: LacpState,
    /// LACPDUs received.
    pub rx_lacpdus: u64,
    /// LACPDUs sent.
    pub tx_lacpdus: u64,
}

/// The actor or partner state octet of a LACPDU (802.1AX §6.4.2.3),
/// written in JSON as the names of the bits that are set, in bit order:
/// `["activity","timeout","aggregation","synchronization","collecting",
/// "distributing","defaulted","expired"]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct LacpState(pub u8);

impl LacpState {
    /// LACP_Activity: active LACP (else passive).
    pub const ACTIVITY: u8 = 0x01;
    /// LACP_Timeout: short (fast) timeout asked of the partner.
    pub const TIMEOUT: u8 = 0x02;
    /// Aggregation: the link may be aggregated.
    pub const AGGREGATION: u8 = 0x04;
    /// Synchronization: attached to the right aggregator.
    pub const SYNCHRONIZATION: u8 = 0x08;
    /// Collecting: frames received on the link are accepted.
    pub const COLLECTING: u8 = 0x10;
    /// Distributing: frames are sent on the link.
    pub const DISTRIBUTING: u8 = 0x20;
    /// Defaulted: partner information is the default, not received.
    pub const DEFAULTED: u8 = 0x40;
    /// Expired: the receive machine is in the expired state.
    pub const EXPIRED: u8 = 0x80;

    /// Every bit with its JSON name, in bit order.
    pub const NAMES: [(u8, &'static str); 8] = [
        (Self::ACTIVITY, "activity"),
        (Self::TIMEOUT, "timeout"),
        (Self::AGGREGATION, "aggregation"),
        (Self::SYNCHRONIZATION, "synchronization"),
        (Self::COLLECTING, "collecting"),
        (Self::DISTRIBUTING, "distributing"),
        (Self::DEFAULTED, "defaulted"),
        (Self::EXPIRED, "expired"),
    ];

    /// Whether every bit of `bits` is set.
    pub fn contains(self, bits: u8) -> bool {
        self.0 & bits == bits
    }

    /// The names of the bits that are set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(bit, _)| self.0 & bit != 0)
            .map(|(_, name)| name)
    }
}

impl TryFrom<Vec<String>> for LacpState {
    type Error = InvalidValue;
    fn try_from(names: Vec<String>) -> Result<Self, Self::Error> {
        names.iter().try_fold(LacpState(0), |state, name| {
            let (bit, _) = Self::NAMES.iter().find(|(_, n)| n == name).ok_or_else(|| {
                InvalidValue(format!(
                    "LACP state bit {name:?} is not one of activity, timeout, aggregation, \
                     synchronization, collecting, distributing, defaulted, expired"
                ))
            })?;
            Ok(LacpState(state.0 | bit))
        })
    }
}

impl From<LacpState> for Vec<String> {
    fn from(s: LacpState) -> Vec<String> {
        s.names().map(str::to_owned).collect()
    }
}

/// Engine and table counters since the daemon started (SPEC §11 metrics).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CountersInfo {
    /// Rounds of the engine's poll loop.
    pub engine_loops: u64,
    /// Batches of frames received (one receive call that brought frames).
    pub batches: u64,
    /// Frames in those batches (their mean size is `batch_frames / batches`).
    pub batch_frames: u64,
    /// Per bridge.
    pub bridges: Vec<BridgeCounters>,
}

/// One bridge's counters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BridgeCounters {
    /// Bridge name.
    pub bridge: String,
    /// MAC entries learned (new).
    pub mac_learned: u64,
    /// MAC moves between ports.
    pub mac_moved: u64,
    /// Entries evicted because the table was full.
    pub mac_evicted: u64,
    /// Entries that aged out.
    pub mac_aged: u64,
    /// Frames NORMAL flooded.
    pub floods: u64,
    /// Per flow table that has flows or was looked up.
    pub tables: Vec<TableCounters>,
}

/// One flow table's counters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TableCounters {
    /// Table number.
    pub table: u8,
    /// Flows in it now.
    pub flows: u64,
    /// Frames looked up in it.
    pub lookups: u64,
    /// Frames a flow of it matched.
    pub matched: u64,
}

/// `list-mirrors` (SPEC §11). Its JSON is the contract: `{"mirrors":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MirrorsInfo {
    /// Every mirror asked about, by bridge then name.
    pub mirrors: Vec<MirrorInfo>,
}

/// One mirror as `list-mirrors` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorInfo {
    /// Its name.
    pub mirror: String,
    /// Its bridge.
    pub bridge: String,
    /// `select_all`.
    pub select_all: bool,
    /// `select_src_port`.
    pub select_src_port: Vec<String>,
    /// `select_dst_port`.
    pub select_dst_port: Vec<String>,
    /// `select_vlan`.
    pub select_vlan: Vec<u16>,
    /// `output_port`, or null.
    pub output_port: Option<String>,
    /// `output_vlan`, or null.
    pub output_vlan: Option<u16>,
    /// Copies sent.
    pub tx_packets: u64,
    /// Bytes of those.
    pub tx_bytes: u64,
}

/// `trace` (SPEC §11). Its JSON is the contract:
/// `{"steps":[{"stage":"vlan","detail":"..."}],"result":{"action":"output","ports":["p2"],"reason":null}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TraceInfo {
    /// Each step, in the order the packet takes them.
    pub steps: Vec<TraceStep>,
    /// Where the packet ends.
    pub result: TraceResult,
}

/// One step of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStep {
    /// What looked at the packet.
    pub stage: TraceStage,
    /// What it decided, in words.
    pub detail: String,
}

/// The stages of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceStage {
    /// VLAN classification at the ingress port.
    Vlan,
    /// The ingress port's spanning-tree state.
    Rstp,
    /// A flow-table lookup: the flow that matched, or none.
    Table,
    /// The learning switch's decision (learned port or flood).
    Normal,
    /// One egress port with its tag edit.
    Egress,
    /// Why the packet (or one copy of it) is dropped.
    Drop,
}

impl TraceStage {
    /// The name used in JSON and text.
    pub fn as_str(self) -> &'static str {
        match self {
            TraceStage::Vlan => "vlan",
            TraceStage::Rstp => "rstp",
            TraceStage::Table => "table",
            TraceStage::Normal => "normal",
            TraceStage::Egress => "egress",
            TraceStage::Drop => "drop",
        }
    }
}

/// Where a traced packet ends.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TraceResult {
    /// `output` (to the ports listed), `flood` (NORMAL's flood, to the
    /// ports listed) or `drop`.
    pub action: TraceAction,
    /// The ports it leaves by, in bridge order.
    pub ports: Vec<String>,
    /// For a drop: the drop reason, as `port-stats` names it.
    pub reason: Option<String>,
}

/// The result's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceAction {
    /// Sent to the listed ports.
    Output,
    /// Flooded by NORMAL to the listed ports.
    Flood,
    /// Sent nowhere.
    #[default]
    Drop,
}

impl TraceAction {
    /// The name used in JSON and text.
    pub fn as_str(self) -> &'static str {
        match self {
            TraceAction::Output => "output",
            TraceAction::Flood => "flood",
            TraceAction::Drop => "drop",
        }
    }
}

/// `dump-flows` (SPEC §9, like `ovs-ofctl dump-flows`). Its JSON is the
/// contract: `{"flows":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FlowsInfo {
    /// The flows, in the order the daemon lists them.
    pub flows: Vec<FlowInfo>,
}

/// One flow with its counters. The fields are in the SPEC's order, which is
/// the order they are written in:
/// `{"table":0,"priority":100,"cookie":"0x0","match":"tcp,in_port=vm1,tp_dst=22",
/// "actions":"drop","n_packets":10,"n_bytes":980,"duration_s":3.412,
/// "idle_age_s":1,"idle_timeout":0,"hard_timeout":0}`.
///
/// `match` and `actions` are the daemon's canonical text (it alone parses
/// flows), in a form `add-flow` accepts again; `match` never contains the
/// priority, which has its own field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowInfo {
    /// Table, 0–253.
    pub table: u8,
    /// Priority, 0–65535 (default 32768).
    pub priority: u16,
    /// The flow's cookie, written as a hex string (`"0x0"`, `"0x1f"`) as
    /// `ovs-ofctl` prints it: a JSON number cannot carry all 64 bits
    /// exactly for every reader.
    #[serde(with = "hex_u64")]
    pub cookie: u64,
    /// The match in canonical form, without the priority; empty when the
    /// flow matches every packet.
    #[serde(rename = "match")]
    pub flow_match: String,
    /// The actions in canonical form (`drop` when there are none).
    pub actions: String,
    /// Packets that matched.
    pub n_packets: u64,
    /// Bytes of the packets that matched.
    pub n_bytes: u64,
    /// Time since the flow was added, written as `duration_s`: seconds
    /// with millisecond precision (`3.412`). A `Duration` rather than a
    /// float so that replies compare exactly and print without rounding
    /// surprises; what is below a millisecond is not sent.
    #[serde(rename = "duration_s", with = "secs_ms")]
    pub duration: Duration,
    /// Whole seconds since a packet last matched (since it was added if
    /// none did).
    pub idle_age_s: u64,
    /// `idle_timeout` in seconds; 0 = none.
    pub idle_timeout: u16,
    /// `hard_timeout` in seconds; 0 = none.
    pub hard_timeout: u16,
}

/// `get-controller` (SPEC §10). Its JSON is the contract:
/// `{"bridges":[{"bridge":"br0","fail_mode":"standalone","controllers":[{"target":"tcp:127.0.0.1:6653",
/// "state":"connected","role":"equal","version":"OpenFlow13","last_error":null}]}]}`,
/// fields in that order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ControllersInfo {
    /// One entry per bridge asked about, in creation order.
    pub bridges: Vec<BridgeControllers>,
}

/// The controllers of one bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeControllers {
    /// Bridge name.
    pub bridge: String,
    /// `fail_mode` in force.
    pub fail_mode: FailMode,
    /// One entry per target, in the order `set-controller` gave them; empty
    /// for a bridge without controllers.
    pub controllers: Vec<ControllerInfo>,
}

/// One controller target and where its connection stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerInfo {
    /// The target in canonical form (`tcp:127.0.0.1:6653`,
    /// `ptcp:6653:127.0.0.1`; see `ControllerTarget`).
    pub target: String,
    /// Where the connection stands.
    pub state: ControllerState,
    /// The role the controller took (`equal` until it asks for another).
    pub role: ControllerRole,
    /// The OpenFlow version negotiated with the controller; `null` before
    /// (or without) a connection.
    pub version: Option<OfVersion>,
    /// Why the last connection attempt failed or the last connection
    /// ended, e.g. `"Connection refused"`; `null` if nothing failed yet.
    pub last_error: Option<String>,
    /// PACKET_INs this controller did not get because it did not read
    /// fast enough (not written while 0, so the SPEC's shape is kept).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub packet_ins_dropped: u64,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// Where a controller target's connection stands (SPEC §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ControllerState {
    /// A connection is up (for a passive target: one was accepted).
    Connected,
    /// An active target's connection attempt is under way (TCP handshake
    /// or OpenFlow HELLO).
    Connecting,
    /// A passive target waits for controllers to connect.
    Listening,
    /// An active target waits before trying again (1 s, doubling to 8 s).
    Backoff,
}

impl ControllerState {
    /// The name used in JSON and text.
    pub fn as_str(self) -> &'static str {
        match self {
            ControllerState::Connected => "connected",
            ControllerState::Connecting => "connecting",
            ControllerState::Listening => "listening",
            ControllerState::Backoff => "backoff",
        }
    }
}

/// A controller's role (OpenFlow 1.3.5 §6.3.5), as `get-controller`
/// reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ControllerRole {
    /// Full access and every asynchronous message: every controller's role
    /// until it asks for another.
    #[default]
    Equal,
    /// Full access; the other controllers of the bridge are slaves.
    Master,
    /// Read-only; no packet-ins.
    Slave,
}

impl ControllerRole {
    /// The name used in JSON and text.
    pub fn as_str(self) -> &'static str {
        match self {
            ControllerRole::Equal => "equal",
            ControllerRole::Master => "master",
            ControllerRole::Slave => "slave",
        }
    }
}

/// Serde form of a cookie: `"0x"` and lowercase hex digits, as OVS prints
/// cookies (`%#"PRIx64`, but `0x0` for zero).
mod hex_u64 {
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:#x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        text.strip_prefix("0x")
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .ok_or_else(|| de::Error::custom(format!("cookie {text:?} is not a 64-bit hex number like 0x1f")))
    }
}

/// Serde form of a [`Duration`] as seconds with millisecond precision
/// (`3.412`); any non-negative JSON number is accepted and rounded to the
/// millisecond.
mod secs_ms {
    use std::time::Duration;

    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        // Milliseconds as f64 are exact up to 2^53 ms (285,000 years), and
        // dividing by 1000 gives the double closest to the decimal, so
        // serde_json prints exactly three decimals or fewer.
        s.serialize_f64(d.as_millis() as f64 / 1000.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        let ms = (secs * 1000.0).round();
        // `u64::MAX as f64` rounds up to 2^64, so `<` keeps the cast exact.
        if !(0.0..(u64::MAX as f64)).contains(&ms) {
            return Err(de::Error::custom(format!(
                "duration_s {secs} is not a number of seconds (0 or more)"
            )));
        }
        Ok(Duration::from_millis(ms as u64))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    fn id(s: &str) -> BridgeId {
        s.parse().unwrap()
    }

    /// Two bridges: br0 the root with an edge port and a port running STP,
    /// br1 reaching it through p1 with an alternate port.
    pub(crate) fn sample_rstp() -> RstpInfo {
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
                        RstpPortInfo {
                            port: "vnet0".into(),
                            role: RstpRole::Designated,
                            state: RstpState::Forwarding,
                            path_cost: 20000,
                            port_id: RstpPortId::new(128, 1),
                            designated_bridge: id("8000.020000000001"),
                            edge: true,
                            rx_bpdus: 0,
                            tx_bpdus: 31,
                            protocol: RstpProtocol::Rstp,
                        },
                        RstpPortInfo {
                            port: "eth1".into(),
                            role: RstpRole::Designated,
                            state: RstpState::Learning,
                            path_cost: 2000,
                            port_id: RstpPortId::new(64, 2),
                            designated_bridge: id("8000.020000000001"),
                            edge: false,
                            rx_bpdus: 4,
                            tx_bpdus: 12,
                            protocol: RstpProtocol::Stp,
                        },
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
                        RstpPortInfo {
                            port: "p1".into(),
                            role: RstpRole::Root,
                            state: RstpState::Forwarding,
                            path_cost: 20000,
                            port_id: RstpPortId::new(128, 1),
                            designated_bridge: id("8000.020000000001"),
                            edge: false,
                            rx_bpdus: 120,
                            tx_bpdus: 3,
                            protocol: RstpProtocol::Rstp,
                        },
                        RstpPortInfo {
                            port: "p2".into(),
                            role: RstpRole::Alternate,
                            state: RstpState::Discarding,
                            path_cost: 20000,
                            port_id: RstpPortId::new(128, 2),
                            designated_bridge: id("8000.020000000002"),
                            edge: false,
                            rx_bpdus: 118,
                            tx_bpdus: 2,
                            protocol: RstpProtocol::Rstp,
                        },
                        RstpPortInfo {
                            port: "vx0".into(),
                            role: RstpRole::Backup,
                            state: RstpState::Discarding,
                            path_cost: 200000000,
                            port_id: RstpPortId::new(240, 3),
                            designated_bridge: id("9000.02000000000a"),
                            edge: false,
                            rx_bpdus: 7,
                            tx_bpdus: 7,
                            protocol: RstpProtocol::Rstp,
                        },
                        RstpPortInfo {
                            port: "tap9".into(),
                            role: RstpRole::Disabled,
                            state: RstpState::Forwarding,
                            path_cost: 20000,
                            port_id: RstpPortId::new(128, 4),
                            designated_bridge: id("9000.02000000000a"),
                            edge: false,
                            rx_bpdus: 0,
                            tx_bpdus: 0,
                            protocol: RstpProtocol::Rstp,
                        },
                    ],
                    fdb_flushes: 0,
                },
            ],
        }
    }

    /// The `rstp-show` JSON of SPEC §7, field for field.
    #[test]
    fn rstp_json_is_the_spec_shape() {
        let v = serde_json::to_value(sample_rstp()).unwrap();
        let port = |port: &str,
                    role: &str,
                    state: &str,
                    cost: u32,
                    pid: &str,
                    dbr: &str,
                    edge: bool,
                    rx: u64,
                    tx: u64,
                    proto: &str| {
            json!({
                "port": port, "role": role, "state": state, "path_cost": cost, "port_id": pid,
                "designated_bridge": dbr, "edge": edge, "rx_bpdus": rx, "tx_bpdus": tx, "protocol": proto,
            })
        };
        let expected = json!({"bridges": [
            {
                "bridge": "br0",
                "bridge_id": "8000.020000000001",
                "root_id": "8000.020000000001",
                "root_port": null,
                "root_path_cost": 0,
                "topology_changes": 2,
                "ports": [
                    port("vnet0", "designated", "forwarding", 20000, "8001", "8000.020000000001", true, 0, 31, "rstp"),
                    port("eth1", "designated", "learning", 2000, "4002", "8000.020000000001", false, 4, 12, "stp"),
                ],
                "fdb_flushes": 1,
            },
            {
                "bridge": "br1",
                "bridge_id": "9000.02000000000a",
                "root_id": "8000.020000000001",
                "root_port": "p1",
                "root_path_cost": 20000,
                "topology_changes": 0,
                "ports": [
                    port("p1", "root", "forwarding", 20000, "8001", "8000.020000000001", false, 120, 3, "rstp"),
                    port("p2", "alternate", "discarding", 20000, "8002", "8000.020000000002", false, 118, 2, "rstp"),
                    port("vx0", "backup", "discarding", 200000000, "f003", "9000.02000000000a", false, 7, 7, "rstp"),
                    port("tap9", "disabled", "forwarding", 20000, "8004", "9000.02000000000a", false, 0, 0, "rstp"),
                ],
                "fdb_flushes": 0,
            },
        ]});
        assert_eq!(v, expected);
        // exactly these keys, no more (the Value comparison above already
        // says so; spelled out for whoever edits the structs)
        let keys = |o: &serde_json::Value| -> Vec<String> {
            let mut k: Vec<String> = o.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&v), ["bridges"]);
        assert_eq!(
            keys(&v["bridges"][0]),
            [
                "bridge",
                "bridge_id",
                "fdb_flushes",
                "ports",
                "root_id",
                "root_path_cost",
                "root_port",
                "topology_changes"
            ]
        );
        assert_eq!(
            keys(&v["bridges"][0]["ports"][0]),
            [
                "designated_bridge",
                "edge",
                "path_cost",
                "port",
                "port_id",
                "protocol",
                "role",
                "rx_bpdus",
                "state",
                "tx_bpdus"
            ]
        );
        // and it decodes back
        assert_eq!(serde_json::from_value::<RstpInfo>(v).unwrap(), sample_rstp());
        assert_eq!(
            serde_json::to_value(RstpInfo::default()).unwrap(),
            json!({"bridges": []})
        );
    }

    #[test]
    fn rstp_reply_on_the_wire_and_root() {
        let info = sample_rstp();
        assert!(info.bridges[0].is_root());
        assert!(!info.bridges[1].is_root());
        let v = serde_json::to_value(Reply::Rstp(info.clone())).unwrap();
        assert_eq!(v["kind"], "rstp");
        assert_eq!(v["data"], serde_json::to_value(&info).unwrap());
        assert_eq!(serde_json::from_value::<Reply>(v).unwrap(), Reply::Rstp(info));
        for (r, s) in [
            (RstpRole::Root, "root"),
            (RstpRole::Designated, "designated"),
            (RstpRole::Alternate, "alternate"),
            (RstpRole::Backup, "backup"),
            (RstpRole::Disabled, "disabled"),
        ] {
            assert_eq!(r.as_str(), s);
            assert_eq!(serde_json::to_value(r).unwrap(), s);
        }
        for (st, s) in [
            (RstpState::Discarding, "discarding"),
            (RstpState::Learning, "learning"),
            (RstpState::Forwarding, "forwarding"),
        ] {
            assert_eq!(st.as_str(), s);
            assert_eq!(serde_json::to_value(st).unwrap(), s);
        }
        for (p, s) in [(RstpProtocol::Rstp, "rstp"), (RstpProtocol::Stp, "stp")] {
            assert_eq!(p.as_str(), s);
            assert_eq!(serde_json::to_value(p).unwrap(), s);
        }
        // a bad id or role from a daemon is a decode error, not a guess
        let mut bad = serde_json::to_value(sample_rstp()).unwrap();
        bad["bridges"][0]["ports"][0]["role"] = json!("Root");
        assert!(serde_json::from_value::<RstpInfo>(bad).is_err());
        let mut bad = serde_json::to_value(sample_rstp()).unwrap();
        bad["bridges"][0]["root_id"] = json!("32768.020000000001");
        assert!(serde_json::from_value::<RstpInfo>(bad).is_err());
    }

    /// Two bonds: bond0 balance-tcp with LACP negotiated, bond1
    /// active-backup without LACP and one member down.
    pub(crate) fn sample_bonds() -> BondShowInfo {
        BondShowInfo {
            bonds: vec![
                BondInfo {
                    bond: "bond0".into(),
                    bridge: "br0".into(),
                    bond_mode: BondMode::BalanceTcp,
                    lacp: LacpMode::Active,
                    lacp_status: LacpStatus::Negotiated,
                    active_member: Some("eth1".into()),
                    next_rebalance_ms: 6543,
                    members: vec![
                        BondMemberInfo {
                            member: "eth1".into(),
                            enabled: true,
                            carrier: true,
                            may_enable: true,
                            tx_bytes: 1_234_567,
                            buckets: vec![0, 5, 6, 7, 255],
                        },
                        BondMemberInfo {
                            member: "eth2".into(),
                            enabled: true,
                            carrier: true,
                            may_enable: true,
                            tx_bytes: 42,
                            buckets: vec![1, 2],
                        },
                    ],
                },
                BondInfo {
                    bond: "bond1".into(),
                    bridge: "br1".into(),
                    bond_mode: BondMode::ActiveBackup,
                    lacp: LacpMode::Off,
                    lacp_status: LacpStatus::Off,
                    active_member: None,
                    next_rebalance_ms: 0,
                    members: vec![BondMemberInfo {
                        member: "eth3".into(),
                        enabled: false,
                        carrier: false,
                        may_enable: false,
                        tx_bytes: 0,
                        buckets: vec![],
                    }],
                },
            ],
        }
    }

    /// bond0 negotiated with a partner, bond2 passive without one.
    pub(crate) fn sample_lacp() -> LacpShowInfo {
        let all = LacpState(0x3f);
        LacpShowInfo {
            bonds: vec![
                LacpBondInfo {
                    bond: "bond0".into(),
                    status: LacpStatus::Negotiated,
                    actor: LacpSystem {
                        system_id: MacAddr([2, 0, 0, 0, 0, 1]),
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
                            actor_state: LacpState(0x07),
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
                        system_id: MacAddr([2, 0, 0, 0, 0, 2]),
                        system_priority: 65534,
                        key: 3,
                    },
                    partner: None,
                    members: vec![LacpMemberInfo {
                        member: "eth5".into(),
                        actor_state: LacpState(0x46),
                        partner_state: LacpState(0x82),
                        rx_lacpdus: 0,
                        tx_lacpdus: 0,
                    }],
                },
            ],
        }
    }

    /// The `bond-show` JSON of SPEC §8, field for field.
    #[test]
    fn bond_json_is_the_spec_shape() {
        let v = serde_json::to_value(sample_bonds()).unwrap();
        let expected = json!({"bonds": [
            {
                "bond": "bond0",
                "bridge": "br0",
                "bond_mode": "balance-tcp",
                "lacp": "active",
                "lacp_status": "negotiated",
                "active_member": "eth1",
                "next_rebalance_ms": 6543,
                "members": [
                    {"member": "eth1", "enabled": true, "carrier": true, "may_enable": true,
                     "tx_bytes": 1234567, "buckets": [0, 5, 6, 7, 255]},
                    {"member": "eth2", "enabled": true, "carrier": true, "may_enable": true,
                     "tx_bytes": 42, "buckets": [1, 2]},
                ],
            },
            {
                "bond": "bond1",
                "bridge": "br1",
                "bond_mode": "active-backup",
                "lacp": "off",
                "lacp_status": "off",
                "active_member": null,
                "next_rebalance_ms": 0,
                "members": [
                    {"member": "eth3", "enabled": false, "carrier": false, "may_enable": false,
                     "tx_bytes": 0, "buckets": []},
                ],
            },
        ]});
        assert_eq!(v, expected);
        assert_eq!(serde_json::from_value::<BondShowInfo>(v).unwrap(), sample_bonds());
        assert_eq!(
            serde_json::to_value(BondShowInfo::default()).unwrap(),
            json!({"bonds": []})
        );
        // a bucket index that is not 0-255, or a status not in the SPEC, is
        // a decode error, not a guess
        let mut bad = serde_json::to_value(sample_bonds()).unwrap();
        bad["bonds"][0]["members"][0]["buckets"] = json!([256]);
        assert!(serde_json::from_value::<BondShowInfo>(bad).is_err());
        let mut bad = serde_json::to_value(sample_bonds()).unwrap();
        bad["bonds"][0]["lacp_status"] = json!("up");
        assert!(serde_json::from_value::<BondShowInfo>(bad).is_err());
        for (s, name) in [
            (LacpStatus::Off, "off"),
            (LacpStatus::Negotiated, "negotiated"),
            (LacpStatus::Configured, "configured"),
            (LacpStatus::Fallback, "fallback"),
        ] {
            assert_eq!(s.as_str(), name);
            assert_eq!(serde_json::to_value(s).unwrap(), name);
        }
    }

    /// The `lacp-show` JSON of SPEC §8, field for field.
    #[test]
    fn lacp_json_is_the_spec_shape() {
        let v = serde_json::to_value(sample_lacp()).unwrap();
        let all = json!([
            "activity",
            "timeout",
            "aggregation",
            "synchronization",
            "collecting",
            "distributing"
        ]);
        let expected = json!({"bonds": [
            {
                "bond": "bond0",
                "status": "negotiated",
                "actor": {"system_id": "02:00:00:00:00:01", "system_priority": 65534, "key": 1},
                "partner": {"system_id": "52:54:00:ab:cd:ef", "system_priority": 32768, "key": 17},
                "members": [
                    {"member": "eth1", "actor_state": all,
                     "partner_state": ["activity", "aggregation", "synchronization", "collecting", "distributing"],
                     "rx_lacpdus": 10, "tx_lacpdus": 12},
                    {"member": "eth2", "actor_state": ["activity", "timeout", "aggregation"],
                     "partner_state": ["activity", "aggregation"],
                     "rx_lacpdus": 3, "tx_lacpdus": 4},
                ],
            },
            {
                "bond": "bond2",
                "status": "fallback",
                "actor": {"system_id": "02:00:00:00:00:02", "system_priority": 65534, "key": 3},
                "partner": null,
                "members": [
                    {"member": "eth5", "actor_state": ["timeout", "aggregation", "defaulted"],
                     "partner_state": ["timeout", "expired"],
                     "rx_lacpdus": 0, "tx_lacpdus": 0},
                ],
            },
        ]});
        assert_eq!(v, expected);
        assert_eq!(serde_json::from_value::<LacpShowInfo>(v).unwrap(), sample_lacp());
        assert_eq!(
            serde_json::to_value(LacpShowInfo::default()).unwrap(),
            json!({"bonds": []})
        );
        let mut bad = serde_json::to_value(sample_lacp()).unwrap();
        bad["bonds"][0]["actor"]["system_id"] = json!("8000.020000000001");
        assert!(serde_json::from_value::<LacpShowInfo>(bad).is_err());
    }

    #[test]
    fn lacp_state_bits_and_names() {
        // 802.1AX bit order, the order the SPEC lists them in
        let every = LacpState(0xff);
        assert_eq!(
            every.names().collect::<Vec<_>>(),
            [
                "activity",
                "timeout",
                "aggregation",
                "synchronization",
                "collecting",
                "distributing",
                "defaulted",
                "expired"
            ]
        );
        assert_eq!(LacpState(0).names().count(), 0);
        assert_eq!(serde_json::to_value(LacpState(0)).unwrap(), json!([]));
        for (i, (bit, name)) in LacpState::NAMES.iter().enumerate() {
            assert_eq!(*bit, 1 << i);
            assert_eq!(serde_json::to_value(LacpState(*bit)).unwrap(), json!([name]));
        }
        let s = LacpState(LacpState::ACTIVITY | LacpState::SYNCHRONIZATION);
        assert!(s.contains(LacpState::ACTIVITY));
        assert!(s.contains(LacpState::ACTIVITY | LacpState::SYNCHRONIZATION));
        assert!(!s.contains(LacpState::ACTIVITY | LacpState::COLLECTING));
        // decoded in any order, encoded in bit order
        let d: LacpState = serde_json::from_value(json!(["expired", "activity", "activity"])).unwrap();
        assert_eq!(d, LacpState(0x81));
        assert_eq!(serde_json::to_value(d).unwrap(), json!(["activity", "expired"]));
        // OVS's text word is not the JSON name
        let e = serde_json::from_value::<LacpState>(json!(["synchronized"])).unwrap_err();
        assert!(
            e.to_string().contains("\"synchronized\" is not one of activity"),
            "{e}"
        );
        assert!(serde_json::from_value::<LacpState>(json!(8)).is_err());
    }

    #[test]
    fn bond_and_lacp_replies_on_the_wire() {
        let v = serde_json::to_value(Reply::Bonds(sample_bonds())).unwrap();
        assert_eq!(v["kind"], "bonds");
        assert_eq!(v["data"], serde_json::to_value(sample_bonds()).unwrap());
        assert_eq!(
            serde_json::from_value::<Reply>(v).unwrap(),
            Reply::Bonds(sample_bonds())
        );
        let v = serde_json::to_value(Reply::Lacp(sample_lacp())).unwrap();
        assert_eq!(v["kind"], "lacp");
        assert_eq!(v["data"], serde_json::to_value(sample_lacp()).unwrap());
        assert_eq!(
            serde_json::from_value::<Reply>(v).unwrap(),
            Reply::Lacp(sample_lacp())
        );
    }

    /// The SPEC §9 example flow, and a second one with every field set.
    pub(crate) fn sample_flows() -> FlowsInfo {
        FlowsInfo {
            flows: vec![
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
                },
                FlowInfo {
                    table: 253,
                    priority: 32768,
                    cookie: u64::MAX,
                    flow_match: String::new(),
                    actions: "NORMAL".into(),
                    n_packets: u64::MAX,
                    n_bytes: 0,
                    duration: Duration::from_millis(86_400_000),
                    idle_age_s: 86_400,
                    idle_timeout: 65535,
                    hard_timeout: 30,
                },
            ],
        }
    }

    /// SPEC §9's JSON, byte for byte: field names, order, the cookie as a
    /// hex string, the duration in seconds.
    #[test]
    fn flow_json_is_the_spec_text() {
        let info = sample_flows();
        let one = FlowsInfo {
            flows: vec![info.flows[0].clone()],
        };
        assert_eq!(
            serde_json::to_string(&one).unwrap(),
            r#"{"flows":[{"table":0,"priority":100,"cookie":"0x0","match":"tcp,in_port=vm1,tp_dst=22","actions":"drop","n_packets":10,"n_bytes":980,"duration_s":3.412,"idle_age_s":1,"idle_timeout":0,"hard_timeout":0}]}"#
        );
        assert_eq!(
            serde_json::to_value(&info.flows[1]).unwrap(),
            json!({"table": 253, "priority": 32768, "cookie": "0xffffffffffffffff", "match": "",
                   "actions": "NORMAL", "n_packets": u64::MAX, "n_bytes": 0, "duration_s": 86400.0,
                   "idle_age_s": 86400, "idle_timeout": 65535, "hard_timeout": 30})
        );
        let text = serde_json::to_string(&info).unwrap();
        assert_eq!(serde_json::from_str::<FlowsInfo>(&text).unwrap(), info);
        assert_eq!(
            serde_json::to_string(&FlowsInfo::default()).unwrap(),
            r#"{"flows":[]}"#
        );
        let v = serde_json::to_value(Reply::Flows(info.clone())).unwrap();
        assert_eq!(v["kind"], "flows");
        assert_eq!(v["data"], serde_json::to_value(&info).unwrap());
        assert_eq!(serde_json::from_value::<Reply>(v).unwrap(), Reply::Flows(info));
    }

    #[test]
    fn flow_cookie_and_duration_forms() {
        let with = |key: &str, value: serde_json::Value| {
            let mut v = serde_json::to_value(&sample_flows().flows[0]).unwrap();
            v[key] = value;
            serde_json::from_value::<FlowInfo>(v)
        };
        for (text, cookie) in [
            ("0x0", 0),
            ("0x1f", 0x1f),
            ("0xABCdef", 0xabcdef),
            ("0x00ff", 0xff),
        ] {
            assert_eq!(with("cookie", json!(text)).unwrap().cookie, cookie, "{text}");
        }
        assert_eq!(
            serde_json::to_value(FlowInfo {
                cookie: 0xabcdef,
                ..sample_flows().flows[0].clone()
            })
            .unwrap()["cookie"],
            "0xabcdef"
        );
        // a number, decimal text, no digits, 65 bits, a sign: decode errors
        for bad in [
            json!(0),
            json!("0"),
            json!("31"),
            json!("0x"),
            json!("0x1_0"),
            json!("0x10000000000000000"),
            json!("-0x1"),
            json!("0x-1"),
        ] {
            let e = with("cookie", bad.clone()).unwrap_err();
            assert!(
                bad.is_number() || e.to_string().contains("is not a 64-bit hex number like 0x1f"),
                "{bad}: {e}"
            );
        }
        // any JSON number of seconds, to the millisecond
        for (secs, ms) in [
            (json!(3), 3000),
            (json!(3.412), 3412),
            (json!(0.0004), 0),
            (json!(0.0005), 1),
            (json!(0), 0),
        ] {
            assert_eq!(
                with("duration_s", secs.clone()).unwrap().duration,
                Duration::from_millis(ms),
                "{secs}"
            );
        }
        for bad in [json!(-1), json!(-0.5), json!(1e300), json!("3.4")] {
            assert!(with("duration_s", bad.clone()).is_err(), "{bad}");
        }
        // whole seconds are still written as a float, sub-milliseconds are not sent
        let v = serde_json::to_value(FlowInfo {
            duration: Duration::from_micros(2_000_999),
            ..sample_flows().flows[0].clone()
        })
        .unwrap();
        assert_eq!(v["duration_s"], json!(2.0));
        // unknown fields are ignored, as in every reply, so a newer daemon
        // may add some (OVS's hard_age, say)
        let mut v = serde_json::to_value(&sample_flows().flows[0]).unwrap();
        v["hard_age_s"] = json!(2);
        assert!(serde_json::from_value::<FlowInfo>(v).is_ok());
        // but a missing one is an error, not a guess
        let mut v = serde_json::to_value(&sample_flows().flows[0]).unwrap();
        v.as_object_mut().unwrap().remove("match");
        assert!(serde_json::from_value::<FlowInfo>(v).is_err());
    }

    #[test]
    fn port_info_carries_its_ofport() {
        let p = PortInfo {
            name: "vm1".into(),
            ofport: Some(3),
            port_type: PortType::Tap,
            config: PortConfig {
                port_type: PortType::Tap,
                ofport_request: Some(3),
                ..Default::default()
            },
            vlan_mode: VlanMode::Trunk,
            state: PortState::Up,
            mtu: Some(1500),
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            json!({
                "name": "vm1",
                "ofport": 3,
                "type": "tap",
                "config": {"type": "tap", "ofport_request": 3},
                "vlan_mode": "trunk",
                "state": {"state": "up"},
                "mtu": 1500,
            })
        );
        assert_eq!(serde_json::from_value::<PortInfo>(v).unwrap(), p);
        // a reply from a daemon that predates flow tables still decodes
        let old: PortInfo = serde_json::from_value(json!({
            "name": "vm1", "type": "system", "config": {"type": "system"},
            "vlan_mode": "trunk", "state": {"state": "up"}
        }))
        .unwrap();
        assert_eq!(old.ofport, None);
        assert_eq!(old.config.ofport_request, None);
        let unknown = PortInfo { ofport: None, ..p };
        assert!(serde_json::to_value(&unknown).unwrap().get("ofport").is_none());
    }

    #[test]
    fn bridge_info_carries_mac_and_rstp_keys() {
        let b = BridgeInfo {
            sflow: vec![],
            ipfix: vec![],
            external_ids: Default::default(),
            name: "br0".into(),
            mac: MacAddr([2, 0x5c, 0, 0, 0, 1]),
            mac_aging: 300,
            mac_table_size: 8192,
            mac_entries: 0,
            rstp: RstpBridgeConfig {
                enabled: true,
                priority: 4096,
                ..Default::default()
            },
            fail_mode: FailMode::Standalone,
            protocols: OfVersions::default(),
            datapath_id: Some(DatapathId::from_mac(MacAddr([2, 0x5c, 0, 0, 0, 1]))),
            controllers: vec![],
            ports: vec![],
        };
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(
            v,
            json!({
                "name": "br0",
                "mac": "02:5c:00:00:00:01",
                "mac_aging": 300,
                "mac_table_size": 8192,
                "mac_entries": 0,
                "rstp": true,
                "rstp_priority": 4096,
                "rstp_max_age": 20,
                "rstp_forward_delay": 15,
                "rstp_transmit_hold_count": 6,
                "rstp_force_protocol_version": 2,
                "fail_mode": "standalone",
                "protocols": ["OpenFlow13", "OpenFlow10"],
                "datapath_id": "0000025c00000001",
                "controllers": [],
                "ports": [],
            })
        );
        assert_eq!(serde_json::from_value::<BridgeInfo>(v).unwrap(), b);
        // a reply from a daemon that predates RSTP and OpenFlow still decodes
        let old: BridgeInfo = serde_json::from_value(json!({
            "name": "br0", "mac_aging": 300, "mac_table_size": 8192, "mac_entries": 0, "ports": []
        }))
        .unwrap();
        assert!(old.mac.is_zero());
        assert_eq!(old.rstp, RstpBridgeConfig::default());
        assert_eq!(old.fail_mode, FailMode::Standalone);
        assert_eq!(old.protocols, OfVersions::ALL);
        assert_eq!(old.datapath_id, None);
        assert!(old.controllers.is_empty());
        let unknown = BridgeInfo {
            sflow: vec![],
            ipfix: vec![],
            external_ids: Default::default(),
            datapath_id: None,
            ..b
        };
        assert!(serde_json::to_value(&unknown)
            .unwrap()
            .get("datapath_id")
            .is_none());
    }

    /// Two bridges: br0 with a connected controller and a listener, br1
    /// (secure) with one that cannot be reached.
    pub(crate) fn sample_controllers() -> ControllersInfo {
        ControllersInfo {
            bridges: vec![
                BridgeControllers {
                    bridge: "br0".into(),
                    fail_mode: FailMode::Standalone,
                    controllers: vec![
                        ControllerInfo {
                            target: "tcp:127.0.0.1:6653".into(),
                            state: ControllerState::Connected,
                            role: ControllerRole::Equal,
                            version: Some(OfVersion::OpenFlow13),
                            last_error: None,
                            packet_ins_dropped: 0,
                        },
                        ControllerInfo {
                            target: "ptcp:6633:127.0.0.1".into(),
                            state: ControllerState::Listening,
                            role: ControllerRole::Equal,
                            version: None,
                            last_error: None,
                            packet_ins_dropped: 0,
                        },
                    ],
                },
                BridgeControllers {
                    bridge: "br1".into(),
                    fail_mode: FailMode::Secure,
                    controllers: vec![ControllerInfo {
                        target: "tcp:[2001:db8::1]:6653".into(),
                        state: ControllerState::Backoff,
                        role: ControllerRole::Master,
                        version: Some(OfVersion::OpenFlow10),
                        last_error: Some("Connection refused".into()),
                        packet_ins_dropped: 0,
                    }],
                },
            ],
        }
    }

    /// SPEC §10's `get-controller` JSON, byte for byte: its example, then
    /// every state, role and version.
    #[test]
    fn controllers_json_is_the_spec_text() {
        let one = ControllersInfo {
            bridges: vec![BridgeControllers {
                controllers: vec![sample_controllers().bridges[0].controllers[0].clone()],
                ..sample_controllers().bridges[0].clone()
            }],
        };
        assert_eq!(
            serde_json::to_string(&one).unwrap(),
            r#"{"bridges":[{"bridge":"br0","fail_mode":"standalone","controllers":[{"target":"tcp:127.0.0.1:6653","state":"connected","role":"equal","version":"OpenFlow13","last_error":null}]}]}"#
        );
        assert_eq!(
            serde_json::to_string(&sample_controllers()).unwrap(),
            concat!(
                r#"{"bridges":[{"bridge":"br0","fail_mode":"standalone","controllers":["#,
                r#"{"target":"tcp:127.0.0.1:6653","state":"connected","role":"equal","version":"OpenFlow13","last_error":null},"#,
                r#"{"target":"ptcp:6633:127.0.0.1","state":"listening","role":"equal","version":null,"last_error":null}]},"#,
                r#"{"bridge":"br1","fail_mode":"secure","controllers":["#,
                r#"{"target":"tcp:[2001:db8::1]:6653","state":"backoff","role":"master","version":"OpenFlow10","last_error":"Connection refused"}]}]}"#,
            )
        );
        let text = serde_json::to_string(&sample_controllers()).unwrap();
        assert_eq!(
            serde_json::from_str::<ControllersInfo>(&text).unwrap(),
            sample_controllers()
        );
        assert_eq!(
            serde_json::to_string(&ControllersInfo::default()).unwrap(),
            r#"{"bridges":[]}"#
        );
        for (s, name) in [
            (ControllerState::Connected, "connected"),
            (ControllerState::Connecting, "connecting"),
            (ControllerState::Listening, "listening"),
            (ControllerState::Backoff, "backoff"),
        ] {
            assert_eq!(s.as_str(), name);
            assert_eq!(serde_json::to_value(s).unwrap(), name);
        }
        for (r, name) in [
            (ControllerRole::Equal, "equal"),
            (ControllerRole::Master, "master"),
            (ControllerRole::Slave, "slave"),
        ] {
            assert_eq!(r.as_str(), name);
            assert_eq!(serde_json::to_value(r).unwrap(), name);
        }
        assert_eq!(ControllerRole::default(), ControllerRole::Equal);
        // a state, role or version not in the SPEC is a decode error
        for (field, value) in [
            ("state", json!("up")),
            ("role", json!("primary")),
            ("version", json!("OpenFlow12")),
            ("version", json!(4)),
        ] {
            let mut bad = serde_json::to_value(sample_controllers()).unwrap();
            bad["bridges"][0]["controllers"][0][field] = value.clone();
            assert!(
                serde_json::from_value::<ControllersInfo>(bad).is_err(),
                "{field}: {value}"
            );
        }
        let v = serde_json::to_value(Reply::Controllers(sample_controllers())).unwrap();
        assert_eq!(v["kind"], "controllers");
        assert_eq!(v["data"], serde_json::to_value(sample_controllers()).unwrap());
        assert_eq!(
            serde_json::from_value::<Reply>(v).unwrap(),
            Reply::Controllers(sample_controllers())
        );
    }
}

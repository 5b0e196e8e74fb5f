//! OpenFlow messages as typed values, the same for 1.3 and 1.0: what a
//! controller sends ([`Incoming`]) and what the switch sends
//! ([`Outgoing`]). The codec turns bytes of either version into these and
//! back; the engine works only with these.
//!
//! Port numbers are kept as OVS keeps them internally, 16 bits with the
//! OpenFlow 1.0 values of the special ports ([`crate::flow::types::ofport`]):
//! the 1.3 codec maps 0xfffffff8.. to 0xfff8.. and refuses real port
//! numbers above 0xfeff. Matches and actions are the flow tables' own
//! [`Match`] and [`Action`], so a controller's flow and a switchctl flow are
//! the same thing.

use std::time::Duration;

use super::error::OfError;
pub use crate::flow::group::{Bucket, GroupType};
use crate::flow::{Action, FlowSpec, Match};

/// OpenFlow 1.0's version number on the wire.
pub const OFP10: u8 = 0x01;
/// OpenFlow 1.3's version number on the wire.
pub const OFP13: u8 = 0x04;
/// The versions switchd speaks, as a HELLO version bitmap (bit n = version n).
pub const SUPPORTED_VERSIONS: u32 = (1 << OFP10) | (1 << OFP13);

/// "No buffer": the frame travels in the message (switchd buffers nothing).
pub const NO_BUFFER: u32 = 0xffff_ffff;
/// Every group (GROUP_MOD delete, group stats request).
pub const GROUP_ALL: u32 = 0xffff_fffc;
/// No group / any group (`out_group` wildcard).
pub const GROUP_ANY: u32 = 0xffff_ffff;
/// Largest real group id.
pub const GROUP_MAX: u32 = 0xffff_ff00;
/// Every meter.
pub const METER_ALL: u32 = 0xffff_ffff;

/// The fixed header of every message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Wire version (`OFP10`, `OFP13`, or whatever the peer sent).
    pub version: u8,
    /// Message type number of that version.
    pub msg_type: u8,
    /// Length of the whole message, header included.
    pub length: u16,
    /// Transaction id, copied into the reply.
    pub xid: u32,
}

/// A controller's role (OpenFlow 1.3 §6.3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// OFPCR_ROLE_NOCHANGE: only asks for the current role.
    NoChange,
    /// OFPCR_ROLE_EQUAL (the default): full access, gets asynchronous messages.
    #[default]
    Equal,
    /// OFPCR_ROLE_MASTER: full access; other masters become slaves.
    Master,
    /// OFPCR_ROLE_SLAVE: read-only, no PACKET_IN / FLOW_REMOVED.
    Slave,
}

/// What a controller sends, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// OFPT_HELLO: the versions the peer accepts (from the version bitmap
    /// element, or every version up to the header's when there is none).
    Hello {
        /// Bit n set = version n accepted.
        versions: u32,
    },
    /// OFPT_ERROR from the controller (logged).
    Error {
        /// Type number.
        etype: u16,
        /// Code number.
        code: u16,
    },
    /// OFPT_ECHO_REQUEST with its payload.
    EchoRequest(Vec<u8>),
    /// OFPT_ECHO_REPLY.
    EchoReply,
    /// OFPT_EXPERIMENTER / OFPT_VENDOR, and experimenter multipart (Nicira
    /// extension requests `ovs-ofctl` tries first): answered with
    /// BadExperimenter.
    Experimenter {
        /// The experimenter (vendor) id.
        experimenter: u32,
    },
    /// OFPT_FEATURES_REQUEST.
    FeaturesRequest,
    /// OFPT_GET_CONFIG_REQUEST.
    GetConfigRequest,
    /// OFPT_SET_CONFIG.
    SetConfig {
        /// OFPC_FRAG_* (only NORMAL, 0, is supported).
        flags: u16,
        /// Bytes of a table-miss frame sent in PACKET_IN.
        miss_send_len: u16,
    },
    /// OFPT_PACKET_OUT.
    PacketOut(PacketOut),
    /// OFPT_FLOW_MOD.
    FlowMod(FlowMod),
    /// OFPT_GROUP_MOD (1.3).
    GroupMod(GroupMod),
    /// OFPT_PORT_MOD.
    PortMod(PortMod),
    /// OFPT_TABLE_MOD (1.3; deprecated config, accepted and ignored as OVS).
    TableMod {
        /// The table (0xff = all).
        table_id: u8,
    },
    /// OFPT_MULTIPART_REQUEST / OFPT_STATS_REQUEST.
    Multipart(MultipartRequest),
    /// OFPT_BARRIER_REQUEST.
    BarrierRequest,
    /// OFPT_ROLE_REQUEST (1.3).
    RoleRequest {
        /// The role asked for.
        role: Role,
        /// Master election generation id (only for master/slave).
        generation_id: u64,
    },
    /// OFPT_GET_ASYNC_REQUEST (1.3).
    GetAsyncRequest,
    /// OFPT_SET_ASYNC (1.3).
    SetAsync(AsyncConfig),
    /// OFPT_METER_MOD (1.3).
    MeterMod(MeterMod),
}

/// OFPT_PACKET_OUT.
#[derive(Debug, Clone, PartialEq)]
pub struct PacketOut {
    /// Must be [`NO_BUFFER`] (anything else: BufferUnknown).
    pub buffer_id: u32,
    /// The frame's ingress port for the actions (`in_port`, and the port
    /// NORMAL/FLOOD/IN_PORT leave out); `ofport::NONE` ("controller") if none.
    pub in_port: u16,
    /// What to do with it (`Output(ofport::TABLE)` runs it through table 0).
    pub actions: Vec<Action>,
    /// The frame.
    pub data: Vec<u8>,
}

/// FLOW_MOD commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowModCommand {
    /// OFPFC_ADD.
    Add,
    /// OFPFC_MODIFY.
    Modify,
    /// OFPFC_MODIFY_STRICT.
    ModifyStrict,
    /// OFPFC_DELETE.
    Delete,
    /// OFPFC_DELETE_STRICT.
    DeleteStrict,
}

/// OFPFF_* flags of a FLOW_MOD (and of flow stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlowModFlags {
    /// OFPFF_SEND_FLOW_REM.
    pub send_flow_rem: bool,
    /// OFPFF_CHECK_OVERLAP.
    pub check_overlap: bool,
    /// OFPFF_RESET_COUNTS (1.3; always for 1.0 adds, as the spec says).
    pub reset_counts: bool,
    /// OFPFF_NO_PKT_COUNTS (1.3; counted anyway).
    pub no_pkt_counts: bool,
    /// OFPFF_NO_BYT_COUNTS (1.3; counted anyway).
    pub no_byt_counts: bool,
}

/// OFPT_FLOW_MOD.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowMod {
    /// What to do.
    pub command: FlowModCommand,
    /// Table (1.0: always 0; 1.3: 0xff = all, for deletes).
    pub table_id: u8,
    /// Cookie of an added flow; with `cookie_mask`, the selection of
    /// modify/delete.
    pub cookie: u64,
    /// 1.3 only (0 in 1.0: no cookie selection).
    pub cookie_mask: u64,
    /// Seconds.
    pub idle_timeout: u16,
    /// Seconds.
    pub hard_timeout: u16,
    /// Priority.
    pub priority: u16,
    /// Must be NO_BUFFER (or the add is refused with BufferUnknown after
    /// being applied, as OVS).
    pub buffer_id: u32,
    /// Delete selection: flows that output to this port (None = any).
    pub out_port: Option<u16>,
    /// Delete selection: flows that output to this group (None = any).
    pub out_group: Option<u32>,
    /// Flags.
    pub flags: FlowModFlags,
    /// The match.
    pub matching: Match,
    /// The instructions, as one action list (apply-actions, with
    /// `Meter` first and `GotoTable` last).
    pub actions: Vec<Action>,
}

impl FlowMod {
    /// The flow an add (or a modify that adds) puts into a table.
    pub fn to_spec(&self) -> FlowSpec {
        FlowSpec {
            table: self.table_id,
            priority: self.priority,
            cookie: self.cookie,
            idle_timeout: self.idle_timeout,
            hard_timeout: self.hard_timeout,
            send_flow_rem: self.flags.send_flow_rem,
            matching: self.matching,
            actions: self.actions.clone(),
        }
    }
}

/// GROUP_MOD commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupModCommand {
    /// OFPGC_ADD.
    Add,
    /// OFPGC_MODIFY.
    Modify,
    /// OFPGC_DELETE.
    Delete,
}

/// OFPT_GROUP_MOD.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupMod {
    /// What to do.
    pub command: GroupModCommand,
    /// The type of an added or modified group.
    pub group_type: GroupType,
    /// The group (GROUP_ALL for delete-all).
    pub group_id: u32,
    /// Its buckets.
    pub buckets: Vec<Bucket>,
}

/// OFPT_PORT_MOD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMod {
    /// The port.
    pub port_no: u16,
    /// Its address (must match the port's).
    pub hw_addr: [u8; 6],
    /// OFPPC_* bits to set.
    pub config: u32,
    /// Which OFPPC_* bits to change.
    pub mask: u32,
}

/// Asynchronous message masks (1.3 §7.3.10): index 0 for master/equal,
/// 1 for slave; bit n = reason n.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncConfig {
    /// PACKET_IN reasons.
    pub packet_in: [u32; 2],
    /// PORT_STATUS reasons.
    pub port_status: [u32; 2],
    /// FLOW_REMOVED reasons.
    pub flow_removed: [u32; 2],
}

impl Default for AsyncConfig {
    /// The spec's defaults: master/equal get every PACKET_IN reason but
    /// invalid-TTL, every PORT_STATUS and FLOW_REMOVED; slaves get only
    /// PORT_STATUS.
    fn default() -> AsyncConfig {
        AsyncConfig {
            packet_in: [0b011, 0],
            port_status: [0b111, 0b111],
            flow_removed: [0b1111, 0],
        }
    }
}

/// METER_MOD commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterModCommand {
    /// OFPMC_ADD.
    Add,
    /// OFPMC_MODIFY.
    Modify,
    /// OFPMC_DELETE.
    Delete,
}

/// One band of a meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeterBand {
    /// OFPMBT_DROP = 1, OFPMBT_DSCP_REMARK = 2 (only drop is supported).
    pub band_type: u16,
    /// kbit/s or packets/s (per the meter's flags).
    pub rate: u32,
    /// kbit or packets.
    pub burst_size: u32,
}

/// OFPT_METER_MOD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterMod {
    /// What to do.
    pub command: MeterModCommand,
    /// OFPMF_KBPS = 1, PKTPS = 2, BURST = 4, STATS = 8.
    pub flags: u16,
    /// The meter (METER_ALL for delete-all).
    pub meter_id: u32,
    /// Its bands.
    pub bands: Vec<MeterBand>,
}

/// The flow selection of flow and aggregate stats requests.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowStatsRequest {
    /// 0xff = all tables.
    pub table_id: u8,
    /// Flows that output to this port (None = any).
    pub out_port: Option<u16>,
    /// Flows that output to this group (None = any).
    pub out_group: Option<u32>,
    /// Cookie selection (1.3).
    pub cookie: u64,
    /// Cookie mask (0 = any).
    pub cookie_mask: u64,
    /// Flows within this match (non-strict selection).
    pub matching: Match,
}

/// OFPT_MULTIPART_REQUEST (1.3) / OFPT_STATS_REQUEST (1.0) bodies.
#[derive(Debug, Clone, PartialEq)]
pub enum MultipartRequest {
    /// OFPMP_DESC.
    Desc,
    /// OFPMP_FLOW.
    Flow(FlowStatsRequest),
    /// OFPMP_AGGREGATE.
    Aggregate(FlowStatsRequest),
    /// OFPMP_TABLE.
    Table,
    /// OFPMP_TABLE_FEATURES (a request with a body, which would set the
    /// features, is refused with TableFeaturesEperm).
    TableFeatures,
    /// OFPMP_PORT_STATS (None = OFPP_ANY: every port).
    PortStats(Option<u16>),
    /// OFPMP_PORT_DESC.
    PortDesc,
    /// OFPMP_GROUP (GROUP_ALL = every group).
    GroupStats(u32),
    /// OFPMP_GROUP_DESC.
    GroupDesc,
    /// OFPMP_GROUP_FEATURES.
    GroupFeatures,
    /// OFPMP_METER (METER_ALL = every meter).
    MeterStats(u32),
    /// OFPMP_METER_CONFIG.
    MeterConfig(u32),
    /// OFPMP_METER_FEATURES.
    MeterFeatures,
}

/// One port as FEATURES_REPLY (1.0), PORT_DESC and PORT_STATUS describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortDesc {
    /// OpenFlow port number.
    pub port_no: u16,
    /// Its MAC (the device's, or all zero).
    pub hw_addr: [u8; 6],
    /// Its name (at most 15 bytes on the wire).
    pub name: String,
    /// OFPPC_* (PORT_DOWN = 1, NO_RECV = 4, NO_FWD = 0x20, NO_PACKET_IN = 0x40).
    pub config: u32,
    /// OFPPS_* (LINK_DOWN = 1, BLOCKED = 2, LIVE = 4; 1.0: STP state bits).
    pub state: u32,
    /// OFPPF_* current features.
    pub curr: u32,
    /// Current speed in kbit/s (1.3).
    pub curr_speed: u32,
    /// Maximum speed in kbit/s (1.3).
    pub max_speed: u32,
}

/// OFPT_FEATURES_REPLY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeaturesReply {
    /// The datapath id.
    pub datapath_id: u64,
    /// Buffers (0: switchd buffers nothing).
    pub n_buffers: u32,
    /// Tables (254).
    pub n_tables: u8,
    /// OFPC_* capabilities (flow, table, port, group stats).
    pub capabilities: u32,
    /// The ports (sent only in 1.0; 1.3 has PORT_DESC).
    pub ports: Vec<PortDesc>,
}

/// PACKET_IN reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketInReason {
    /// OFPR_NO_MATCH (1.3: the table-miss flow's `controller` action is
    /// also this reason).
    NoMatch = 0,
    /// OFPR_ACTION.
    Action = 1,
    /// OFPR_INVALID_TTL.
    InvalidTtl = 2,
}

/// OFPT_PACKET_IN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacketIn<'a> {
    /// Always NO_BUFFER.
    pub buffer_id: u32,
    /// The frame's full length.
    pub total_len: u16,
    /// Why.
    pub reason: PacketInReason,
    /// The table of the flow that sent it (1.3).
    pub table_id: u8,
    /// That flow's cookie (1.3; all ones for a miss).
    pub cookie: u64,
    /// The ingress port.
    pub in_port: u16,
    /// The frame's tunnel id, if it came from a tunnel (1.3 match).
    pub tun_id: Option<u64>,
    /// Its metadata, if not zero (1.3 match).
    pub metadata: Option<u64>,
    /// The frame, or its first `max_len` bytes.
    pub data: &'a [u8],
}

/// FLOW_REMOVED reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowRemovedReason {
    /// OFPRR_IDLE_TIMEOUT.
    IdleTimeout = 0,
    /// OFPRR_HARD_TIMEOUT.
    HardTimeout = 1,
    /// OFPRR_DELETE.
    Delete = 2,
    /// OFPRR_GROUP_DELETE.
    GroupDelete = 3,
}

/// OFPT_FLOW_REMOVED.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRemoved {
    /// The flow's cookie.
    pub cookie: u64,
    /// Its priority.
    pub priority: u16,
    /// Why.
    pub reason: FlowRemovedReason,
    /// Its table.
    pub table_id: u8,
    /// How long it existed.
    pub duration: Duration,
    /// Its idle timeout.
    pub idle_timeout: u16,
    /// Its hard timeout.
    pub hard_timeout: u16,
    /// Frames it matched.
    pub packet_count: u64,
    /// Bytes of those.
    pub byte_count: u64,
    /// Its match.
    pub matching: Match,
}

/// PORT_STATUS reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortReason {
    /// OFPPR_ADD.
    Add = 0,
    /// OFPPR_DELETE.
    Delete = 1,
    /// OFPPR_MODIFY.
    Modify = 2,
}

/// One flow of a flow stats reply.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowStats {
    /// Its table.
    pub table_id: u8,
    /// Its age.
    pub duration: Duration,
    /// Priority.
    pub priority: u16,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// Flags (send_flow_rem).
    pub flags: FlowModFlags,
    /// Cookie.
    pub cookie: u64,
    /// Frames.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Match.
    pub matching: Match,
    /// Actions.
    pub actions: Vec<Action>,
}

/// One table of a table stats reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableStats {
    /// The table.
    pub table_id: u8,
    /// Flows in it.
    pub active_count: u32,
    /// Frames looked up in it.
    pub lookup_count: u64,
    /// Frames that matched a flow in it.
    pub matched_count: u64,
}

/// One port of a port stats reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortStats {
    /// The port.
    pub port_no: u16,
    /// Frames received.
    pub rx_packets: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Received frames dropped.
    pub rx_dropped: u64,
    /// Frames not sent.
    pub tx_dropped: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Send errors.
    pub tx_errors: u64,
    /// How long the port has existed (1.3).
    pub duration: Duration,
}

/// One group of a group description reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDesc {
    /// Its type.
    pub group_type: GroupType,
    /// Its id.
    pub group_id: u32,
    /// Its buckets.
    pub buckets: Vec<Bucket>,
}

/// One group of a group stats reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStats {
    /// Its id.
    pub group_id: u32,
    /// Flows that use it.
    pub ref_count: u32,
    /// Frames through it.
    pub packet_count: u64,
    /// Bytes through it.
    pub byte_count: u64,
    /// Its age.
    pub duration: Duration,
    /// Per bucket: (frames, bytes).
    pub buckets: Vec<(u64, u64)>,
}

/// OFPMP_DESC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desc {
    /// Manufacturer.
    pub mfr_desc: String,
    /// Hardware.
    pub hw_desc: String,
    /// Software (with the version).
    pub sw_desc: String,
    /// Serial number.
    pub serial_num: String,
    /// Which datapath (the bridge name).
    pub dp_desc: String,
}

/// One meter's configuration (1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterConfig {
    /// Its flags.
    pub flags: u16,
    /// Its id.
    pub meter_id: u32,
    /// Its bands.
    pub bands: Vec<MeterBand>,
}

/// One meter's statistics (1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterStats {
    /// Its id.
    pub meter_id: u32,
    /// Flows that use it.
    pub flow_count: u32,
    /// Frames it saw.
    pub packet_in_count: u64,
    /// Bytes it saw.
    pub byte_in_count: u64,
    /// Its age.
    pub duration: Duration,
    /// Per band: (frames, bytes) the band applied to.
    pub bands: Vec<(u64, u64)>,
}

/// OFPMP_METER_FEATURES.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeterFeatures {
    /// Most meters.
    pub max_meter: u32,
    /// Bit per band type supported.
    pub band_types: u32,
    /// OFPMF_* supported.
    pub capabilities: u32,
    /// Most bands per meter.
    pub max_bands: u8,
    /// Most colours.
    pub max_color: u8,
}

/// Multipart reply bodies; the encoder splits long ones into several
/// messages chained with OFPMPF_REPLY_MORE.
#[derive(Debug, Clone, PartialEq)]
pub enum MultipartReply {
    /// OFPMP_DESC.
    Desc(Desc),
    /// OFPMP_FLOW.
    Flow(Vec<FlowStats>),
    /// OFPMP_AGGREGATE.
    Aggregate {
        /// Frames.
        packet_count: u64,
        /// Bytes.
        byte_count: u64,
        /// Flows.
        flow_count: u32,
    },
    /// OFPMP_TABLE: one entry per table (1.0: only table 0 is reported
    /// with its name and wildcards, as OVS).
    Table(Vec<TableStats>),
    /// OFPMP_TABLE_FEATURES: `n_tables` identical tables, each able to do
    /// every match field and action switchd has.
    TableFeatures {
        /// How many tables (254).
        n_tables: u8,
    },
    /// OFPMP_PORT_STATS.
    PortStats(Vec<PortStats>),
    /// OFPMP_PORT_DESC.
    PortDesc(Vec<PortDesc>),
    /// OFPMP_GROUP.
    GroupStats(Vec<GroupStats>),
    /// OFPMP_GROUP_DESC.
    GroupDesc(Vec<GroupDesc>),
    /// OFPMP_GROUP_FEATURES: types all/select/indirect, actions supported.
    GroupFeatures {
        /// Most groups of each type.
        max_groups: u32,
    },
    /// OFPMP_METER.
    MeterStats(Vec<MeterStats>),
    /// OFPMP_METER_CONFIG.
    MeterConfig(Vec<MeterConfig>),
    /// OFPMP_METER_FEATURES.
    MeterFeatures(MeterFeatures),
}

/// What the switch sends. Built one at a time and encoded at once, never
/// stored, so the size of the larger variants (a FLOW_REMOVED holds a
/// 304-byte match) costs nothing worth a box.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Outgoing<'a> {
    /// OFPT_HELLO with the version bitmap of `versions`.
    Hello {
        /// Bit n = version n offered.
        versions: u32,
    },
    /// OFPT_ERROR, with (the first 64 bytes of) the offending message.
    Error {
        /// Why.
        error: OfError,
        /// The offending message.
        data: &'a [u8],
    },
    /// OFPT_ECHO_REQUEST (inactivity probe).
    EchoRequest,
    /// OFPT_ECHO_REPLY with the request's payload.
    EchoReply(&'a [u8]),
    /// OFPT_FEATURES_REPLY.
    FeaturesReply(FeaturesReply),
    /// OFPT_GET_CONFIG_REPLY.
    GetConfigReply {
        /// OFPC_FRAG_* flags.
        flags: u16,
        /// Bytes of a table-miss frame sent in PACKET_IN.
        miss_send_len: u16,
    },
    /// OFPT_PACKET_IN.
    PacketIn(PacketIn<'a>),
    /// OFPT_FLOW_REMOVED.
    FlowRemoved(FlowRemoved),
    /// OFPT_PORT_STATUS.
    PortStatus {
        /// Why.
        reason: PortReason,
        /// The port as it is now.
        desc: PortDesc,
    },
    /// OFPT_BARRIER_REPLY.
    BarrierReply,
    /// OFPT_ROLE_REPLY.
    RoleReply {
        /// The role now.
        role: Role,
        /// The generation id now.
        generation_id: u64,
    },
    /// OFPT_GET_ASYNC_REPLY.
    GetAsyncReply(AsyncConfig),
    /// OFPT_MULTIPART_REPLY / OFPT_STATS_REPLY.
    Multipart(MultipartReply),
}

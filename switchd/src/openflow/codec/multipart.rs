//! Multipart (1.3) / stats (1.0) replies: each body's entries in the
//! layout of the version, spread over as many messages as they need so
//! that none exceeds 65535 bytes, all but the last flagged
//! OFPMPF_REPLY_MORE. Replies 1.0 does not have (groups, meters, table
//! features) encode to nothing there.

use super::buf::{put_str, put_u16, put_u32, put_u64, put_u8, put_zeros, set_len, set_u16, Msg};
use super::common::{
    flow_mod_flags_to_wire, group_type_to_wire, port_to13, put_band, put_bucket13, put_duration,
    put_phy_port10, put_port13, table_name, MAX_ENTRIES,
};
use crate::openflow::msg::{
    Desc, FlowStats, GroupDesc, GroupStats, MeterConfig, MeterFeatures, MeterStats, MultipartReply,
    PortStats, TableStats, OFP10,
};
use crate::openflow::wire::{group, mp, t10, t13, MAX_MSG_LEN};
use crate::openflow::{action, match10, oxm};

/// OFPFW10_ALL: every 1.0 wildcard (the table can wildcard any field).
const WILDCARDS10_ALL: u32 = (1 << 22) - 1;

/// A multipart reply being written: the current message, and the entry
/// being built before it is known whether it fits there.
struct Replies<'o> {
    out: &'o mut Vec<u8>,
    version: u8,
    xid: u32,
    mp_type: u16,
    msg: Msg,
    entry: Vec<u8>,
}

impl<'o> Replies<'o> {
    /// Starts the first message of a reply of `mp_type`.
    fn new(version: u8, xid: u32, mp_type: u16, out: &'o mut Vec<u8>) -> Replies<'o> {
        let msg = Self::start(version, xid, mp_type, out);
        Replies {
            out,
            version,
            xid,
            mp_type,
            msg,
            entry: Vec::new(),
        }
    }

    /// Appends one message's header: `ofp_header`, type, flags (0 for
    /// now), and in 1.3 4 bytes of padding.
    fn start(version: u8, xid: u32, mp_type: u16, out: &mut Vec<u8>) -> Msg {
        let (t, pad) = if version == OFP10 {
            (t10::STATS_REPLY, 0)
        } else {
            (t13::MULTIPART_REPLY, 4)
        };
        let msg = Msg::start(out, version, t, xid);
        put_u16(out, mp_type);
        put_u16(out, 0);
        put_zeros(out, pad);
        msg
    }

    /// Adds the entry `f` writes, in a new message if the current one has
    /// no room for it. An entry too big for any message (a flow with
    /// tens of thousands of actions) cannot be sent and is left out.
    fn entry(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        self.entry.clear();
        f(&mut self.entry);
        let header = if self.version == OFP10 {
            mp::HEADER_LEN10
        } else {
            mp::HEADER_LEN13
        };
        if self.entry.len() > MAX_MSG_LEN - header {
            return;
        }
        if self.msg.room(self.out) < self.entry.len() {
            set_u16(self.out, self.msg.start + 10, mp::REPLY_MORE);
            self.msg.finish(self.out);
            self.msg = Self::start(self.version, self.xid, self.mp_type, self.out);
        }
        self.out.extend_from_slice(&self.entry);
    }

    /// Ends the last message (REPLY_MORE clear).
    fn finish(self) {
        self.msg.finish(self.out);
    }
}

/// Appends `reply` as message(s) of `version`.
pub(super) fn encode_reply(version: u8, xid: u32, reply: &MultipartReply, out: &mut Vec<u8>) {
    let v10 = version == OFP10;
    // (type, 1.0 has it)
    let (mp_type, in10) = match reply {
        MultipartReply::Desc(_) => (mp::DESC, true),
        MultipartReply::Flow(_) => (mp::FLOW, true),
        MultipartReply::Aggregate { .. } => (mp::AGGREGATE, true),
        MultipartReply::Table(_) => (mp::TABLE, true),
        MultipartReply::TableFeatures { .. } => (mp::TABLE_FEATURES, false),
        MultipartReply::PortStats(_) => (mp::PORT_STATS, true),
        MultipartReply::PortDesc(_) => (mp::PORT_DESC, true),
        MultipartReply::GroupStats(_) => (mp::GROUP, false),
        MultipartReply::GroupDesc(_) => (mp::GROUP_DESC, false),
        MultipartReply::GroupFeatures { .. } => (mp::GROUP_FEATURES, false),
        MultipartReply::MeterStats(_) => (mp::METER, false),
        MultipartReply::MeterConfig(_) => (mp::METER_CONFIG, false),
        MultipartReply::MeterFeatures(_) => (mp::METER_FEATURES, false),
    };
    if v10 && !in10 {
        return;
    }
    let mut w = Replies::new(version, xid, mp_type, out);
    match reply {
        MultipartReply::Desc(d) => w.entry(|e| desc(e, d)),
        MultipartReply::Flow(flows) => {
            for f in flows {
                w.entry(|e| {
                    if v10 {
                        flow_stats10(e, f)
                    } else {
                        flow_stats13(e, f)
                    }
                });
            }
        }
        MultipartReply::Aggregate {
            packet_count,
            byte_count,
            flow_count,
        } => w.entry(|e| {
            put_u64(e, *packet_count);
            put_u64(e, *byte_count);
            put_u32(e, *flow_count);
            put_zeros(e, 4);
        }),
        MultipartReply::Table(tables) => {
            for t in tables {
                w.entry(|e| {
                    if v10 {
                        table_stats10(e, t)
                    } else {
                        table_stats13(e, t)
                    }
                });
            }
        }
        MultipartReply::TableFeatures { n_tables } => {
            for table_id in 0..*n_tables {
                w.entry(|e| super::features::put_table_features(e, table_id, *n_tables));
            }
        }
        MultipartReply::PortStats(ports) => {
            for p in ports {
                w.entry(|e| port_stats(e, p, v10));
            }
        }
        MultipartReply::PortDesc(ports) => {
            for p in ports {
                w.entry(|e| {
                    if v10 {
                        put_phy_port10(e, p)
                    } else {
                        put_port13(e, p)
                    }
                });
            }
        }
        MultipartReply::GroupStats(groups) => {
            for g in groups {
                w.entry(|e| group_stats(e, g));
            }
        }
        MultipartReply::GroupDesc(groups) => {
            for g in groups {
                w.entry(|e| group_desc(e, g));
            }
        }
        MultipartReply::GroupFeatures { max_groups } => w.entry(|e| group_features(e, *max_groups)),
        MultipartReply::MeterStats(meters) => {
            for m in meters {
                w.entry(|e| meter_stats(e, m));
            }
        }
        MultipartReply::MeterConfig(meters) => {
            for m in meters {
                w.entry(|e| meter_config(e, m));
            }
        }
        MultipartReply::MeterFeatures(f) => w.entry(|e| meter_features(e, f)),
    }
    w.finish();
}

/// `ofp_desc`: five fixed, NUL-padded strings.
fn desc(e: &mut Vec<u8>, d: &Desc) {
    put_str(e, &d.mfr_desc, 256);
    put_str(e, &d.hw_desc, 256);
    put_str(e, &d.sw_desc, 256);
    put_str(e, &d.serial_num, 32);
    put_str(e, &d.dp_desc, 256);
}

/// `ofp_flow_stats` (1.3): 48 bytes, the OXM match, the instructions.
fn flow_stats13(e: &mut Vec<u8>, f: &FlowStats) {
    put_u16(e, 0); // length, below
    put_u8(e, f.table_id);
    put_u8(e, 0);
    put_duration(e, f.duration);
    put_u16(e, f.priority);
    put_u16(e, f.idle_timeout);
    put_u16(e, f.hard_timeout);
    put_u16(e, flow_mod_flags_to_wire(f.flags));
    put_zeros(e, 4);
    put_u64(e, f.cookie);
    put_u64(e, f.packet_count);
    put_u64(e, f.byte_count);
    oxm::encode_match(&f.matching, e);
    // The encoding of some actions depends on what the match guarantees
    // (a push_vlan before mod_vlan_vid only if the frame may be untagged).
    action::encode_instructions13_for(&f.matching, &f.actions, e);
    set_len(e, 0, 0);
}

/// `ofp10_flow_stats`: 88 bytes with the 40-byte match, the actions.
fn flow_stats10(e: &mut Vec<u8>, f: &FlowStats) {
    put_u16(e, 0); // length, below
    put_u8(e, f.table_id);
    put_u8(e, 0);
    match10::encode(&f.matching, e);
    put_duration(e, f.duration);
    put_u16(e, f.priority);
    put_u16(e, f.idle_timeout);
    put_u16(e, f.hard_timeout);
    put_zeros(e, 6);
    put_u64(e, f.cookie);
    put_u64(e, f.packet_count);
    put_u64(e, f.byte_count);
    action::encode_actions10(&f.actions, e);
    set_len(e, 0, 0);
}

/// `ofp_table_stats` (1.3, 24 bytes).
fn table_stats13(e: &mut Vec<u8>, t: &TableStats) {
    put_u8(e, t.table_id);
    put_zeros(e, 3);
    put_u32(e, t.active_count);
    put_u64(e, t.lookup_count);
    put_u64(e, t.matched_count);
}

/// `ofp10_table_stats` (64 bytes): with a name, wildcards, max entries.
fn table_stats10(e: &mut Vec<u8>, t: &TableStats) {
    put_u8(e, t.table_id);
    put_zeros(e, 3);
    put_str(e, &table_name(t.table_id), 32);
    put_u32(e, WILDCARDS10_ALL);
    put_u32(e, MAX_ENTRIES);
    put_u32(e, t.active_count);
    put_u64(e, t.lookup_count);
    put_u64(e, t.matched_count);
}

/// `ofp_port_stats` (1.3, 112 bytes) / `ofp10_port_stats` (104 bytes,
/// 16-bit port, no duration). Frame, overrun, CRC errors and collisions
/// are not counted: all ones, as the spec says for unsupported counters.
fn port_stats(e: &mut Vec<u8>, p: &PortStats, v10: bool) {
    if v10 {
        put_u16(e, p.port_no);
        put_zeros(e, 6);
    } else {
        put_u32(e, port_to13(p.port_no));
        put_zeros(e, 4);
    }
    for c in [
        p.rx_packets,
        p.tx_packets,
        p.rx_bytes,
        p.tx_bytes,
        p.rx_dropped,
        p.tx_dropped,
        p.rx_errors,
        p.tx_errors,
        u64::MAX,
        u64::MAX,
        u64::MAX,
        u64::MAX,
    ] {
        put_u64(e, c);
    }
    if !v10 {
        put_duration(e, p.duration);
    }
}

/// `ofp_group_stats` (40 bytes) and its bucket counters.
fn group_stats(e: &mut Vec<u8>, g: &GroupStats) {
    put_u16(e, 0); // length, below
    put_zeros(e, 2);
    put_u32(e, g.group_id);
    put_u32(e, g.ref_count);
    put_zeros(e, 4);
    put_u64(e, g.packet_count);
    put_u64(e, g.byte_count);
    put_duration(e, g.duration);
    for (packets, bytes) in &g.buckets {
        put_u64(e, *packets);
        put_u64(e, *bytes);
    }
    set_len(e, 0, 0);
}

/// `ofp_group_desc` (8 bytes) and its buckets.
fn group_desc(e: &mut Vec<u8>, g: &GroupDesc) {
    put_u16(e, 0); // length, below
    put_u8(e, group_type_to_wire(g.group_type));
    put_u8(e, 0);
    put_u32(e, g.group_id);
    for b in &g.buckets {
        put_bucket13(e, b);
    }
    set_len(e, 0, 0);
}

/// `ofp_group_features`: all, select (weighted) and indirect groups,
/// chaining allowed (a bucket's `group` action), fast failover not
/// supported; every group type applies the same actions.
fn group_features(e: &mut Vec<u8>, max_groups: u32) {
    let types = [group::TYPE_ALL, group::TYPE_SELECT, group::TYPE_INDIRECT];
    put_u32(e, types.iter().fold(0, |b, t| b | 1 << t));
    put_u32(e, group::CAP_SELECT_WEIGHT | group::CAP_CHAINING);
    for t in 0..4u8 {
        put_u32(e, if types.contains(&t) { max_groups } else { 0 });
    }
    let actions = crate::openflow::wire::at::SUPPORTED
        .iter()
        .fold(0u32, |b, a| b | 1 << a);
    for t in 0..4u8 {
        put_u32(e, if types.contains(&t) { actions } else { 0 });
    }
}

/// `ofp_meter_stats` (40 bytes) and its band counters.
fn meter_stats(e: &mut Vec<u8>, m: &MeterStats) {
    put_u32(e, m.meter_id);
    put_u16(e, 0); // len, below
    put_zeros(e, 6);
    put_u32(e, m.flow_count);
    put_u64(e, m.packet_in_count);
    put_u64(e, m.byte_in_count);
    put_duration(e, m.duration);
    for (packets, bytes) in &m.bands {
        put_u64(e, *packets);
        put_u64(e, *bytes);
    }
    set_len(e, 0, 4);
}

/// `ofp_meter_config` (8 bytes) and its bands.
fn meter_config(e: &mut Vec<u8>, m: &MeterConfig) {
    put_u16(e, 0); // length, below
    put_u16(e, m.flags);
    put_u32(e, m.meter_id);
    for b in &m.bands {
        put_band(e, b);
    }
    set_len(e, 0, 0);
}

/// `ofp_meter_features` (16 bytes).
fn meter_features(e: &mut Vec<u8>, f: &MeterFeatures) {
    put_u32(e, f.max_meter);
    put_u32(e, f.band_types);
    put_u32(e, f.capabilities);
    put_u8(e, f.max_bands);
    put_u8(e, f.max_color);
    put_zeros(e, 2);
}

//! What both versions or both directions share, kept in this leaf file
//! so that the decoders, the encoder and the multipart replies can use it
//! without importing each other: port numbers of 1.3, port descriptions
//! (`ofp_port`, `ofp10_phy_port`), group buckets, meter bands, durations,
//! group types, and the parts of FLOW_MOD, SET_CONFIG and multipart
//! requests that are the same in 1.3 and 1.0.

use std::time::Duration;

use super::buf::{put_u16, put_u32, put_u8, put_zeros, set_len, Reader};
use crate::flow::types::ofport;
use crate::openflow::action;
use crate::openflow::error::OfError;
use crate::openflow::msg::{
    Bucket, FlowModCommand, FlowModFlags, GroupType, Incoming, MeterBand, MultipartRequest, PortDesc,
    GROUP_ANY,
};
use crate::openflow::wire::{fc, ff, group, port13};

/// `max_entries` reported per table: the classifier has no fixed size;
/// this is OVS's default flow limit.
pub(super) const MAX_ENTRIES: u32 = 1_000_000;

/// A table's name, as OVS names tables without a configured name.
pub(super) fn table_name(table_id: u8) -> String {
    format!("table{table_id}")
}

/// A 16-bit port number as OpenFlow 1.3's 32-bit one: real ports keep
/// their number, reserved ports 0xff00.. become 0xffffff00..
pub(super) fn port_to13(port: u16) -> u32 {
    if port > ofport::MAX {
        u32::from(port) + port13::OFFSET
    } else {
        u32::from(port)
    }
}

/// A 1.3 port number as a 16-bit one: real ports up to 0xfeff keep
/// their number and the reserved ports IN_PORT..ANY (0xfffffff8..) map to
/// 0xfff8..; anything else (ports 1.0 cannot number) is `None`.
pub(super) fn port_from13(port: u32) -> Option<u16> {
    if port <= u32::from(ofport::MAX) {
        u16::try_from(port).ok()
    } else if port >= port13::IN_PORT {
        u16::try_from(port - port13::OFFSET).ok()
    } else {
        None
    }
}

/// Whether a 16-bit port number is one OpenFlow 1.0 defines: a real port
/// or a reserved one (0xfff8..); 0xff00..0xfff7 are neither.
pub(super) fn port10_valid(port: u16) -> bool {
    port <= ofport::MAX || port >= ofport::IN_PORT
}

/// Appends seconds and nanoseconds (`duration_sec`, `duration_nsec`).
pub(super) fn put_duration(out: &mut Vec<u8>, d: Duration) {
    put_u32(out, u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
    put_u32(out, d.subsec_nanos());
}

/// A group type's number.
pub(super) fn group_type_to_wire(t: GroupType) -> u8 {
    match t {
        GroupType::All => group::TYPE_ALL,
        GroupType::Select => group::TYPE_SELECT,
        GroupType::Indirect => group::TYPE_INDIRECT,
        GroupType::FastFailover => group::TYPE_FF,
    }
}

/// The group type of a number (fast failover is decoded, and refused by
/// the engine with BadGroupType).
pub(super) fn group_type_from_wire(t: u8) -> Result<GroupType, OfError> {
    Ok(match t {
        group::TYPE_ALL => GroupType::All,
        group::TYPE_SELECT => GroupType::Select,
        group::TYPE_INDIRECT => GroupType::Indirect,
        group::TYPE_FF => GroupType::FastFailover,
        _ => return Err(OfError::BadGroupType),
    })
}

/// Appends an `ofp_port` (1.3, 64 bytes). Only the 1.3 state bits
/// (LINK_DOWN, BLOCKED, LIVE) are kept.
pub(super) fn put_port13(out: &mut Vec<u8>, p: &PortDesc) {
    put_u32(out, port_to13(p.port_no));
    put_zeros(out, 4);
    out.extend_from_slice(&p.hw_addr);
    put_zeros(out, 2);
    super::buf::put_str(out, &p.name, 16);
    put_u32(out, p.config);
    put_u32(out, p.state & 0x7);
    put_u32(out, p.curr);
    put_zeros(out, 12); // advertised, supported, peer: unknown
    put_u32(out, p.curr_speed);
    put_u32(out, p.max_speed);
}

/// 1.3 `OFPPF_*` feature bits as 1.0's: the speeds up to 10 Gb keep their
/// bits (0–6), medium/autoneg/pause move from bits 11–15 to 7–11, and the
/// 40 Gb/100 Gb/1 Tb/other speeds, which 1.0 lacks, are dropped.
pub(super) fn features13_to_10(f: u32) -> u32 {
    (f & 0x7f) | ((f >> 11) & 0x1f) << 7
}

/// Appends an `ofp10_phy_port` (1.0, 48 bytes). Config bits are the same
/// in both versions; of the state only LINK_DOWN and the STP bits (8–9)
/// exist in 1.0.
pub(super) fn put_phy_port10(out: &mut Vec<u8>, p: &PortDesc) {
    put_u16(out, p.port_no);
    out.extend_from_slice(&p.hw_addr);
    super::buf::put_str(out, &p.name, 16);
    put_u32(out, p.config);
    put_u32(out, p.state & 0x301);
    put_u32(out, features13_to_10(p.curr));
    put_zeros(out, 12); // advertised, supported, peer: unknown
}

/// Appends an `ofp_bucket` with its actions (1.3).
pub(super) fn put_bucket13(out: &mut Vec<u8>, b: &Bucket) {
    let start = out.len();
    put_u16(out, 0); // length, below
    put_u16(out, b.weight);
    put_u32(out, b.watch_port.map_or(port13::ANY, port_to13));
    put_u32(out, b.watch_group.unwrap_or(GROUP_ANY));
    put_zeros(out, 4);
    action::encode_actions13(&b.actions, out);
    set_len(out, start, 0);
}

/// Decodes the `ofp_bucket`s that fill `r` (GROUP_MOD).
pub(super) fn buckets13(r: &mut Reader<'_>) -> Result<Vec<Bucket>, OfError> {
    let mut buckets = Vec::new();
    while r.remaining() > 0 {
        let mut head = r.clone();
        let len = usize::from(head.u16()?);
        if len < group::BUCKET_LEN {
            return Err(OfError::BadLen);
        }
        let mut b = Reader::new(r.bytes(len)?);
        b.skip(2)?;
        let weight = b.u16()?;
        let watch_port = match b.u32()? {
            port13::ANY => None,
            p => Some(port_from13(p).ok_or(OfError::BadWatch)?),
        };
        let watch_group = match b.u32()? {
            GROUP_ANY => None,
            g => Some(g),
        };
        b.skip(4)?;
        let actions = action::decode_actions13(b.rest())?;
        buckets.push(Bucket {
            weight,
            watch_port,
            watch_group,
            actions,
        });
    }
    Ok(buckets)
}

/// Appends an `ofp_meter_band_drop` / `_dscp_remark` (16 bytes; switchd
/// keeps no precedence level, so a DSCP band's is 0).
pub(super) fn put_band(out: &mut Vec<u8>, b: &MeterBand) {
    put_u16(out, b.band_type);
    put_u16(out, group::BAND_LEN as u16);
    put_u32(out, b.rate);
    put_u32(out, b.burst_size);
    put_zeros(out, 4);
}

/// Decodes the meter bands that fill `r` (METER_MOD).
pub(super) fn bands(r: &mut Reader<'_>) -> Result<Vec<MeterBand>, OfError> {
    let mut bands = Vec::new();
    while r.remaining() > 0 {
        let mut head = r.clone();
        let band_type = head.u16()?;
        let len = usize::from(head.u16()?);
        if len < group::BAND_LEN {
            return Err(OfError::BadLen);
        }
        let mut b = Reader::new(r.bytes(len)?);
        b.skip(4)?;
        let rate = b.u32()?;
        let burst_size = b.u32()?;
        bands.push(MeterBand {
            band_type,
            rate,
            burst_size,
        });
    }
    Ok(bands)
}

/// Appends a PORT_STATUS reason and its 7 bytes of padding.
pub(super) fn put_port_reason(out: &mut Vec<u8>, reason: u8) {
    put_u8(out, reason);
    put_zeros(out, 7);
}

/// OFPT_SET_CONFIG (the same in both versions).
pub(super) fn set_config(mut r: Reader<'_>) -> Result<Incoming, OfError> {
    let flags = r.u16()?;
    let miss_send_len = r.u16()?;
    empty(&r, Incoming::SetConfig { flags, miss_send_len })
}

/// A FLOW_MOD command number (both versions).
pub(super) fn flow_mod_command(c: u16) -> Result<FlowModCommand, OfError> {
    Ok(match u8::try_from(c).map_err(|_| OfError::BadCommand)? {
        fc::ADD => FlowModCommand::Add,
        fc::MODIFY => FlowModCommand::Modify,
        fc::MODIFY_STRICT => FlowModCommand::ModifyStrict,
        fc::DELETE => FlowModCommand::Delete,
        fc::DELETE_STRICT => FlowModCommand::DeleteStrict,
        _ => return Err(OfError::BadCommand),
    })
}

/// `OFPFF_*` bits common to both versions.
pub(super) fn flow_mod_flags(flags: u16) -> FlowModFlags {
    FlowModFlags {
        send_flow_rem: flags & ff::SEND_FLOW_REM != 0,
        check_overlap: flags & ff::CHECK_OVERLAP != 0,
        reset_counts: flags & ff::RESET_COUNTS != 0,
        no_pkt_counts: flags & ff::NO_PKT_COUNTS != 0,
        no_byt_counts: flags & ff::NO_BYT_COUNTS != 0,
    }
}

/// Checks that a multipart body is empty and returns `req`.
pub(super) fn empty_mp(r: &Reader<'_>, req: MultipartRequest) -> Result<MultipartRequest, OfError> {
    r.end()?;
    Ok(req)
}

/// Checks that the body is empty and returns `msg`.
pub(super) fn empty(r: &Reader<'_>, msg: Incoming) -> Result<Incoming, OfError> {
    r.end()?;
    Ok(msg)
}

/// `OFPFF_*` bits of `flags` (1.3 flow stats).
pub(super) fn flow_mod_flags_to_wire(f: FlowModFlags) -> u16 {
    let bit = |set: bool, b: u16| if set { b } else { 0 };
    bit(f.send_flow_rem, ff::SEND_FLOW_REM)
        | bit(f.check_overlap, ff::CHECK_OVERLAP)
        | bit(f.reset_counts, ff::RESET_COUNTS)
        | bit(f.no_pkt_counts, ff::NO_PKT_COUNTS)
        | bit(f.no_byt_counts, ff::NO_BYT_COUNTS)
}

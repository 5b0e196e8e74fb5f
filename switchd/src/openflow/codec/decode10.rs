//! Decoding OpenFlow 1.0 messages (after the checks of `decode.rs`):
//! the fixed 40-byte match, 16-bit ports, FLOW_MOD without tables or
//! cookie masks, and STATS_REQUEST.

use super::buf::Reader;
use super::common::{empty, empty_mp, flow_mod_command, flow_mod_flags, port10_valid, set_config};
use crate::flow::types::ofport;
use crate::openflow::error::OfError;
use crate::openflow::msg::{
    FlowMod, FlowModCommand, FlowStatsRequest, Incoming, MultipartRequest, PacketOut, PortMod,
};
use crate::openflow::wire::{ff, mp, t10, t13};
use crate::openflow::{action, match10};

/// An OpenFlow 1.0 message other than HELLO/ERROR/ECHO, after the header.
pub(super) fn decode10(msg_type: u8, mut r: Reader<'_>) -> Result<Incoming, OfError> {
    match msg_type {
        t10::VENDOR => Ok(Incoming::Experimenter {
            experimenter: r.u32()?,
        }),
        t13::FEATURES_REQUEST => empty(&r, Incoming::FeaturesRequest),
        t13::GET_CONFIG_REQUEST => empty(&r, Incoming::GetConfigRequest),
        t13::SET_CONFIG => set_config(r),
        t13::PACKET_OUT => packet_out10(r),
        t13::FLOW_MOD => flow_mod10(r),
        t10::PORT_MOD => {
            let port_no = r.u16()?;
            if !port10_valid(port_no) {
                return Err(OfError::PortModBadPort);
            }
            let hw_addr = r.array()?;
            let config = r.u32()?;
            let mask = r.u32()?;
            r.skip(4 + 4)?; // advertise, pad
            empty(
                &r,
                Incoming::PortMod(PortMod {
                    port_no,
                    hw_addr,
                    config,
                    mask,
                }),
            )
        }
        t10::STATS_REQUEST => stats10(r),
        t10::BARRIER_REQUEST => empty(&r, Incoming::BarrierRequest),
        _ => Err(OfError::BadType),
    }
}

/// A 1.0 port number in a request: OFPP_NONE is none; numbers 1.0 does
/// not define are BadPort.
fn port10(p: u16) -> Result<Option<u16>, OfError> {
    match p {
        ofport::NONE => Ok(None),
        p if port10_valid(p) => Ok(Some(p)),
        _ => Err(OfError::BadPort),
    }
}

/// The 40-byte `ofp10_match` at the front of `r`.
fn match10(r: &mut Reader<'_>) -> Result<crate::flow::Match, OfError> {
    match10::decode(&r.array::<{ match10::MATCH_LEN }>()?)
}

/// OFPT_PACKET_OUT (1.0). OFPP_CONTROLLER and OFPP_NONE both mean "no
/// ingress port": `ofport::NONE`.
fn packet_out10(mut r: Reader<'_>) -> Result<Incoming, OfError> {
    let buffer_id = r.u32()?;
    let in_port = match r.u16()? {
        ofport::CONTROLLER | ofport::NONE => ofport::NONE,
        p if port10_valid(p) => p,
        _ => return Err(OfError::BadPort),
    };
    let actions_len = usize::from(r.u16()?);
    let actions = action::decode_actions10(r.bytes(actions_len)?)?;
    let data = r.rest().to_vec();
    Ok(Incoming::PacketOut(PacketOut {
        buffer_id,
        in_port,
        actions,
        data,
    }))
}

/// OFPT_FLOW_MOD (1.0): adds go to table 0; the other commands act on
/// every table (0xff), as OVS does for 1.0 controllers. No cookie mask
/// (0: no selection), no out_group; RESET_COUNTS is implied for adds
/// (1.0 has no way to keep a replaced flow's counters).
fn flow_mod10(mut r: Reader<'_>) -> Result<Incoming, OfError> {
    let matching = match10(&mut r)?;
    let cookie = r.u64()?;
    let command = flow_mod_command(r.u16()?)?;
    let idle_timeout = r.u16()?;
    let hard_timeout = r.u16()?;
    let priority = r.u16()?;
    let buffer_id = r.u32()?;
    let out_port = port10(r.u16()?)?;
    let raw_flags = r.u16()?;
    // Emergency flows are refused as OVS does (table full); other bits
    // are unknown to 1.0.
    if raw_flags & ff::EMERG10 != 0 {
        return Err(OfError::TableFull);
    }
    if raw_flags & !(ff::SEND_FLOW_REM | ff::CHECK_OVERLAP) != 0 {
        return Err(OfError::BadFlags);
    }
    let actions = action::decode_actions10(r.rest())?;
    let mut flags = flow_mod_flags(raw_flags);
    flags.reset_counts = command == FlowModCommand::Add;
    Ok(Incoming::FlowMod(FlowMod {
        command,
        table_id: if command == FlowModCommand::Add { 0 } else { 0xff },
        cookie,
        cookie_mask: 0,
        idle_timeout,
        hard_timeout,
        priority,
        buffer_id,
        out_port,
        out_group: None,
        flags,
        matching,
        actions,
    }))
}

/// OFPT_STATS_REQUEST (1.0).
fn stats10(mut r: Reader<'_>) -> Result<Incoming, OfError> {
    let st_type = r.u16()?;
    r.skip(2)?; // flags: none defined for requests
    let req = match st_type {
        mp::DESC => empty_mp(&r, MultipartRequest::Desc)?,
        mp::FLOW => MultipartRequest::Flow(flow_stats10(r)?),
        mp::AGGREGATE => MultipartRequest::Aggregate(flow_stats10(r)?),
        mp::TABLE => empty_mp(&r, MultipartRequest::Table)?,
        mp::PORT_STATS => {
            let port = port10(r.u16()?)?;
            r.skip(6)?;
            empty_mp(&r, MultipartRequest::PortStats(port))?
        }
        // OVS's extension, which ovs-ofctl uses for 1.0 too.
        mp::PORT_DESC => empty_mp(&r, MultipartRequest::PortDesc)?,
        mp::EXPERIMENTER => {
            return Ok(Incoming::Experimenter {
                experimenter: r.u32()?,
            })
        }
        _ => return Err(OfError::BadMultipart),
    };
    Ok(Incoming::Multipart(req))
}

/// `ofp10_flow_stats_request` (also the aggregate request).
fn flow_stats10(mut r: Reader<'_>) -> Result<FlowStatsRequest, OfError> {
    let matching = match10(&mut r)?;
    let table_id = r.u8()?;
    r.skip(1)?;
    let out_port = port10(r.u16()?)?;
    r.end()?;
    Ok(FlowStatsRequest {
        table_id,
        out_port,
        out_group: None,
        cookie: 0,
        cookie_mask: 0,
        matching,
    })
}

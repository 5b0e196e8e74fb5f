//! Decoding a controller's message: the checks every message gets
//! (length, version), the messages of any version (HELLO, ERROR, ECHO),
//! and OpenFlow 1.3's messages. OpenFlow 1.0's are in `decode10.rs`.
//!
//! Fixed-size messages must be exactly their size, variable ones must
//! hold what their length fields say (BadLen otherwise), as OVS checks.

use super::buf::Reader;
use super::common::{
    bands, buckets13, empty, empty_mp, flow_mod_command, flow_mod_flags, group_type_from_wire, port_from13,
    set_config,
};
use super::frame::header;
use crate::flow::types::ofport;
use crate::openflow::error::OfError;
use crate::openflow::msg::{
    AsyncConfig, FlowMod, FlowStatsRequest, GroupMod, GroupModCommand, GroupType, Incoming, MeterMod,
    MeterModCommand, MultipartRequest, PacketOut, PortMod, Role, GROUP_ANY, OFP10, OFP13,
};
use crate::openflow::wire::{mp, port13, role, t13, HEADER_LEN};
use crate::openflow::{action, oxm};

/// OFPHET_VERSIONBITMAP.
const HELLO_ELEM_VERSIONBITMAP: u16 = 1;

/// Decodes one complete message `msg` received on a connection that
/// negotiated `version` (HELLO, ERROR and ECHO are accepted in any version).
///
/// # Errors
/// Why the message is refused, for the OFPT_ERROR reply.
pub fn decode(msg: &[u8], version: u8) -> Result<Incoming, OfError> {
    let h = header(msg).ok_or(OfError::BadLen)?;
    if usize::from(h.length) != msg.len() {
        return Err(OfError::BadLen);
    }
    let mut r = Reader::new(msg);
    r.skip(HEADER_LEN)?;
    // Types 0–3 have the same numbers and bodies in every version.
    match h.msg_type {
        t13::HELLO => return hello(h.version, r),
        t13::ERROR => {
            let etype = r.u16()?;
            let code = r.u16()?;
            return Ok(Incoming::Error { etype, code });
        }
        t13::ECHO_REQUEST => return Ok(Incoming::EchoRequest(r.rest().to_vec())),
        t13::ECHO_REPLY => return Ok(Incoming::EchoReply),
        _ => {}
    }
    if h.version != version {
        return Err(OfError::BadVersion);
    }
    match version {
        OFP13 => decode13(h.msg_type, r),
        OFP10 => super::decode10::decode10(h.msg_type, r),
        _ => Err(OfError::BadVersion),
    }
}

/// OFPT_HELLO: the version bitmap element if there is one, else every
/// version from 1 to the header's.
fn hello(version: u8, mut r: Reader<'_>) -> Result<Incoming, OfError> {
    while r.remaining() > 0 {
        let mut head = r.clone();
        let etype = head.u16()?;
        let len = usize::from(head.u16()?);
        if len < 4 {
            return Err(OfError::BadLen);
        }
        let mut elem = Reader::new(r.bytes(len)?);
        // Elements are padded to 8 bytes; the last one's padding may be
        // missing in the wild, so it is skipped only as far as it goes.
        let pad = len.next_multiple_of(8) - len;
        r.skip(pad.min(r.remaining()))?;
        if etype == HELLO_ELEM_VERSIONBITMAP {
            elem.skip(4)?;
            // Versions 0–31; later bitmap words name versions that do not exist.
            return Ok(Incoming::Hello {
                versions: elem.u32()?,
            });
        }
    }
    let versions = match version {
        0 => 0,
        v if v >= 31 => !1,
        v => ((1u32 << (v + 1)) - 1) & !1,
    };
    Ok(Incoming::Hello { versions })
}

/// An OpenFlow 1.3 message other than HELLO/ERROR/ECHO, after the header.
fn decode13(msg_type: u8, mut r: Reader<'_>) -> Result<Incoming, OfError> {
    match msg_type {
        t13::EXPERIMENTER => {
            let experimenter = r.u32()?;
            r.skip(4)?; // exp_type
            Ok(Incoming::Experimenter { experimenter })
        }
        t13::FEATURES_REQUEST => empty(&r, Incoming::FeaturesRequest),
        t13::GET_CONFIG_REQUEST => empty(&r, Incoming::GetConfigRequest),
        t13::SET_CONFIG => set_config(r),
        t13::PACKET_OUT => packet_out13(r),
        t13::FLOW_MOD => flow_mod13(r),
        t13::GROUP_MOD => group_mod(r),
        t13::PORT_MOD => port_mod13(r),
        t13::TABLE_MOD => {
            let table_id = r.u8()?;
            r.skip(3 + 4)?; // pad, config (deprecated, ignored as OVS)
            empty(&r, Incoming::TableMod { table_id })
        }
        t13::MULTIPART_REQUEST => multipart13(r),
        t13::BARRIER_REQUEST => empty(&r, Incoming::BarrierRequest),
        t13::ROLE_REQUEST => {
            let role = match r.u32()? {
                role::NOCHANGE => Role::NoChange,
                role::EQUAL => Role::Equal,
                role::MASTER => Role::Master,
                role::SLAVE => Role::Slave,
                _ => return Err(OfError::BadRole),
            };
            r.skip(4)?;
            let generation_id = r.u64()?;
            empty(&r, Incoming::RoleRequest { role, generation_id })
        }
        t13::GET_ASYNC_REQUEST => empty(&r, Incoming::GetAsyncRequest),
        t13::SET_ASYNC => {
            let mut pair = || -> Result<[u32; 2], OfError> { Ok([r.u32()?, r.u32()?]) };
            let packet_in = pair()?;
            let port_status = pair()?;
            let flow_removed = pair()?;
            empty(
                &r,
                Incoming::SetAsync(AsyncConfig {
                    packet_in,
                    port_status,
                    flow_removed,
                }),
            )
        }
        t13::METER_MOD => meter_mod(r),
        _ => Err(OfError::BadType),
    }
}

/// OFPT_PACKET_OUT (1.3). The in_port OFPP_CONTROLLER ("no port") is
/// given to the engine as `ofport::NONE`, as msg.rs says.
fn packet_out13(mut r: Reader<'_>) -> Result<Incoming, OfError> {
    let buffer_id = r.u32()?;
    let in_port = match r.u32()? {
        port13::CONTROLLER | port13::ANY => ofport::NONE,
        p => port_from13(p).ok_or(OfError::BadPort)?,
    };
    let actions_len = usize::from(r.u16()?);
    r.skip(6)?;
    let actions = action::decode_actions13(r.bytes(actions_len)?)?;
    let data = r.rest().to_vec();
    Ok(Incoming::PacketOut(PacketOut {
        buffer_id,
        in_port,
        actions,
        data,
    }))
}

/// A 1.3 `out_port` selection: OFPP_ANY is none.
fn out_port13(p: u32) -> Result<Option<u16>, OfError> {
    match p {
        port13::ANY => Ok(None),
        p => port_from13(p).map(Some).ok_or(OfError::BadPort),
    }
}

/// A 1.3 `out_group` selection: OFPG_ANY is none.
fn out_group13(g: u32) -> Option<u32> {
    (g != GROUP_ANY).then_some(g)
}

/// The `ofp_match` at the front of `r`, consumed with its padding.
fn match13(r: &mut Reader<'_>) -> Result<crate::flow::Match, OfError> {
    let mut peek = r.clone();
    let (m, used) = oxm::decode_match(peek.rest())?;
    r.skip(used)?;
    Ok(m)
}

/// OFPT_FLOW_MOD (1.3).
fn flow_mod13(mut r: Reader<'_>) -> Result<Incoming, OfError> {
    let cookie = r.u64()?;
    let cookie_mask = r.u64()?;
    let table_id = r.u8()?;
    let command = flow_mod_command(u16::from(r.u8()?))?;
    let idle_timeout = r.u16()?;
    let hard_timeout = r.u16()?;
    let priority = r.u16()?;
    let buffer_id = r.u32()?;
    let out_port = out_port13(r.u32()?)?;
    let out_group = out_group13(r.u32()?);
    let raw_flags = r.u16()?;
    // SEND_FLOW_REM through NO_BYT_COUNTS; anything else is unknown to 1.3.
    if raw_flags & !0x1f != 0 {
        return Err(OfError::BadFlags);
    }
    r.skip(2)?;
    let matching = match13(&mut r)?;
    let actions = action::decode_instructions13(r.rest())?;
    Ok(Incoming::FlowMod(FlowMod {
        command,
        table_id,
        cookie,
        cookie_mask,
        idle_timeout,
        hard_timeout,
        priority,
        buffer_id,
        out_port,
        out_group,
        flags: flow_mod_flags(raw_flags),
        matching,
        actions,
    }))
}

/// OFPT_GROUP_MOD.
fn group_mod(mut r: Reader<'_>) -> Result<Incoming, OfError> {
    let command = match r.u16()? {
        0 => GroupModCommand::Add,
        1 => GroupModCommand::Modify,
        2 => GroupModCommand::Delete,
        _ => return Err(OfError::BadGroupCommand),
    };
    let group_type = r.u8()?;
    r.skip(1)?;
    let group_id = r.u32()?;
    let buckets = buckets13(&mut r)?;
    // A delete's type is meaningless (ovs-ofctl sends 0); only check it
    // where it is used.
    let group_type = match (command, group_type_from_wire(group_type)) {
        (GroupModCommand::Delete, Err(_)) => GroupType::All,
        (_, t) => t?,
    };
    Ok(Incoming::GroupMod(GroupMod {
        command,
        group_type,
        group_id,
        buckets,
    }))
}

/// OFPT_PORT_MOD (1.3).
fn port_mod13(mut r: Reader<'_>) -> Result<Incoming, OfError> {
    let port_no = port_from13(r.u32()?).ok_or(OfError::PortModBadPort)?;
    r.skip(4)?;
    let hw_addr = r.array()?;
    r.skip(2)?;
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

/// OFPT_METER_MOD.
fn meter_mod(mut r: Reader<'_>) -> Result<Incoming, OfError> {
    let command = match r.u16()? {
        0 => MeterModCommand::Add,
        1 => MeterModCommand::Modify,
        2 => MeterModCommand::Delete,
        _ => return Err(OfError::BadMeterCommand),
    };
    let flags = r.u16()?;
    let meter_id = r.u32()?;
    let bands = bands(&mut r)?;
    Ok(Incoming::MeterMod(MeterMod {
        command,
        flags,
        meter_id,
        bands,
    }))
}

/// OFPT_MULTIPART_REQUEST (1.3).
fn multipart13(mut r: Reader<'_>) -> Result<Incoming, OfError> {
    let mp_type = r.u16()?;
    r.skip(2 + 4)?; // flags (REQ_MORE only matters for table features, refused), pad
    let req = match mp_type {
        mp::DESC => empty_mp(&r, MultipartRequest::Desc)?,
        mp::FLOW => MultipartRequest::Flow(flow_stats13(r)?),
        mp::AGGREGATE => MultipartRequest::Aggregate(flow_stats13(r)?),
        mp::TABLE => empty_mp(&r, MultipartRequest::Table)?,
        mp::PORT_STATS => {
            let port = out_port13(r.u32()?)?;
            r.skip(4)?;
            empty_mp(&r, MultipartRequest::PortStats(port))?
        }
        mp::GROUP => {
            let group = r.u32()?;
            r.skip(4)?;
            empty_mp(&r, MultipartRequest::GroupStats(group))?
        }
        mp::GROUP_DESC => empty_mp(&r, MultipartRequest::GroupDesc)?,
        mp::GROUP_FEATURES => empty_mp(&r, MultipartRequest::GroupFeatures)?,
        mp::METER | mp::METER_CONFIG => {
            let meter = r.u32()?;
            r.skip(4)?;
            r.end()?;
            if mp_type == mp::METER {
                MultipartRequest::MeterStats(meter)
            } else {
                MultipartRequest::MeterConfig(meter)
            }
        }
        mp::METER_FEATURES => empty_mp(&r, MultipartRequest::MeterFeatures)?,
        // A body would set the tables' features, which switchd refuses.
        mp::TABLE_FEATURES if r.remaining() > 0 => return Err(OfError::TableFeaturesEperm),
        mp::TABLE_FEATURES => MultipartRequest::TableFeatures,
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

/// `ofp_flow_stats_request` / `ofp_aggregate_stats_request` (1.3).
fn flow_stats13(mut r: Reader<'_>) -> Result<FlowStatsRequest, OfError> {
    let table_id = r.u8()?;
    r.skip(3)?;
    let out_port = out_port13(r.u32()?)?;
    let out_group = out_group13(r.u32()?);
    r.skip(4)?;
    let cookie = r.u64()?;
    let cookie_mask = r.u64()?;
    let matching = match13(&mut r)?;
    r.end()?;
    Ok(FlowStatsRequest {
        table_id,
        out_port,
        out_group,
        cookie,
        cookie_mask,
        matching,
    })
}

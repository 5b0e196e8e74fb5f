//! Encoding what the switch sends, in OpenFlow 1.3 or 1.0: every
//! [`Outgoing`] but the multipart replies, which `multipart.rs` builds.
//! Messages that exist only in 1.3 (role and async replies) encode to
//! nothing in 1.0.

use super::buf::{put_u16, put_u32, put_u64, put_u8, put_zeros, Msg};
use super::common::{port_to13, put_duration, put_phy_port10, put_port13, put_port_reason};
use crate::openflow::msg::{
    FeaturesReply, FlowRemoved, FlowRemovedReason, Outgoing, PacketIn, Role, OFP10, OFP13,
};
use crate::openflow::wire::{at, oxm, role, t10, t13, MAX_MSG_LEN};
use crate::openflow::{match10, oxm as oxm_codec};

/// Bytes of the offending message an OFPT_ERROR carries (the spec's minimum).
const ERROR_DATA_LEN: usize = 64;
/// OFPHET_VERSIONBITMAP.
const HELLO_ELEM_VERSIONBITMAP: u16 = 1;
/// 1.0's OFPC_* capability bits (flow, table, port stats; IP reassembly,
/// queue stats, ARP match): bit 3 is STP and bit 4 reserved in 1.0, where
/// 1.3 has group stats and nothing.
const CAPABILITIES10: u32 = 0xe7;

/// Appends `msg` as message(s) of `version` with transaction id `xid`.
/// Nothing is appended for a message `version` does not have, or for a
/// version other than 1.3 and 1.0.
pub fn encode(version: u8, xid: u32, msg: &Outgoing<'_>, out: &mut Vec<u8>) {
    if version != OFP13 && version != OFP10 {
        return;
    }
    let v10 = version == OFP10;
    match msg {
        Outgoing::Hello { versions } => {
            let m = Msg::start(out, version, t13::HELLO, xid);
            if !v10 {
                // As OVS: one version bitmap element, 8 bytes, no padding needed.
                put_u16(out, HELLO_ELEM_VERSIONBITMAP);
                put_u16(out, 8);
                put_u32(out, *versions);
            }
            m.finish(out);
        }
        Outgoing::Error { error, data } => {
            let (etype, code) = error.to_wire(version);
            let m = Msg::start(out, version, t13::ERROR, xid);
            put_u16(out, etype);
            put_u16(out, code);
            out.extend_from_slice(&data[..data.len().min(ERROR_DATA_LEN)]);
            m.finish(out);
        }
        Outgoing::EchoRequest => Msg::start(out, version, t13::ECHO_REQUEST, xid).finish(out),
        Outgoing::EchoReply(data) => {
            let m = Msg::start(out, version, t13::ECHO_REPLY, xid);
            let n = data.len().min(m.room(out));
            out.extend_from_slice(&data[..n]);
            m.finish(out);
        }
        Outgoing::FeaturesReply(f) => features_reply(version, xid, f, out),
        Outgoing::GetConfigReply { flags, miss_send_len } => {
            let m = Msg::start(out, version, t13::GET_CONFIG_REPLY, xid);
            put_u16(out, *flags);
            put_u16(out, *miss_send_len);
            m.finish(out);
        }
        Outgoing::PacketIn(p) => packet_in(version, xid, p, out),
        Outgoing::FlowRemoved(f) => flow_removed(version, xid, f, out),
        Outgoing::PortStatus { reason, desc } => {
            let m = Msg::start(out, version, t13::PORT_STATUS, xid);
            put_port_reason(out, *reason as u8);
            if v10 {
                put_phy_port10(out, desc);
            } else {
                put_port13(out, desc);
            }
            m.finish(out);
        }
        Outgoing::BarrierReply => {
            let t = if v10 {
                t10::BARRIER_REPLY
            } else {
                t13::BARRIER_REPLY
            };
            Msg::start(out, version, t, xid).finish(out);
        }
        Outgoing::RoleReply {
            role: r,
            generation_id,
        } if !v10 => {
            let m = Msg::start(out, version, t13::ROLE_REPLY, xid);
            put_u32(
                out,
                match r {
                    Role::NoChange => role::NOCHANGE,
                    Role::Equal => role::EQUAL,
                    Role::Master => role::MASTER,
                    Role::Slave => role::SLAVE,
                },
            );
            put_zeros(out, 4);
            put_u64(out, *generation_id);
            m.finish(out);
        }
        Outgoing::GetAsyncReply(a) if !v10 => {
            let m = Msg::start(out, version, t13::GET_ASYNC_REPLY, xid);
            for w in a.packet_in.iter().chain(&a.port_status).chain(&a.flow_removed) {
                put_u32(out, *w);
            }
            m.finish(out);
        }
        Outgoing::RoleReply { .. } | Outgoing::GetAsyncReply(_) => {}
        Outgoing::Multipart(reply) => super::multipart::encode_reply(version, xid, reply, out),
    }
}

/// OFPT_FEATURES_REPLY: 1.3 has the auxiliary id and no ports; 1.0 has
/// the actions bitmap and the ports, as many as fit in one message.
fn features_reply(version: u8, xid: u32, f: &FeaturesReply, out: &mut Vec<u8>) {
    let m = Msg::start(out, version, t13::FEATURES_REPLY, xid);
    put_u64(out, f.datapath_id);
    put_u32(out, f.n_buffers);
    put_u8(out, f.n_tables);
    put_u8(out, 0); // auxiliary_id (1.3), pad (1.0)
    put_zeros(out, 2);
    if version == OFP10 {
        put_u32(out, f.capabilities & CAPABILITIES10);
        put_u32(out, at::BITMAP10);
        // ofp10_phy_port is 48 bytes; a bridge with more than 1364 ports
        // lists the first ones (PORT_DESC has them all).
        for p in &f.ports {
            if m.room(out) < 48 {
                break;
            }
            put_phy_port10(out, p);
        }
    } else {
        put_u32(out, f.capabilities);
        put_u32(out, 0); // reserved
    }
    m.finish(out);
}

/// Appends an OXM TLV `header` with `value`'s last `header & 0xff` bytes.
fn put_oxm(out: &mut Vec<u8>, header: u32, value: u64) {
    put_u32(out, header);
    let len = (header & 0xff) as usize;
    out.extend_from_slice(&value.to_be_bytes()[8 - len..]);
}

/// OFPT_PACKET_IN. The 1.3 match holds what OpenFlow says it must (the
/// ingress port) and the pipeline fields set for this frame (tunnel id,
/// metadata), written here rather than through `oxm::encode_match` since
/// it is only these three fields. The frame is cut to fit in 64 KiB.
fn packet_in(version: u8, xid: u32, p: &PacketIn<'_>, out: &mut Vec<u8>) {
    let m = Msg::start(out, version, t13::PACKET_IN, xid);
    put_u32(out, p.buffer_id);
    put_u16(out, p.total_len);
    if version == OFP10 {
        put_u16(out, p.in_port);
        put_u8(out, p.reason as u8);
        put_u8(out, 0);
    } else {
        put_u8(out, p.reason as u8);
        put_u8(out, p.table_id);
        put_u64(out, p.cookie);
        let start = out.len();
        put_u16(out, 1); // OFPMT_OXM
        put_u16(out, 0); // length (without padding), below
        put_oxm(out, oxm::IN_PORT, u64::from(port_to13(p.in_port)));
        if let Some(md) = p.metadata {
            put_oxm(out, oxm::METADATA, md);
        }
        if let Some(tun) = p.tun_id {
            put_oxm(out, oxm::TUNNEL_ID, tun);
        }
        super::buf::set_len(out, start, 2);
        super::buf::pad8(out, start);
        put_zeros(out, 2);
    }
    let n = p.data.len().min(MAX_MSG_LEN - m.len(out));
    out.extend_from_slice(&p.data[..n]);
    m.finish(out);
}

/// OFPT_FLOW_REMOVED. 1.0 has no group-delete reason: such removals are
/// reported as deletes.
fn flow_removed(version: u8, xid: u32, f: &FlowRemoved, out: &mut Vec<u8>) {
    let m = Msg::start(out, version, t13::FLOW_REMOVED, xid);
    if version == OFP10 {
        let reason = match f.reason {
            FlowRemovedReason::GroupDelete => FlowRemovedReason::Delete,
            r => r,
        };
        match10::encode(&f.matching, out);
        put_u64(out, f.cookie);
        put_u16(out, f.priority);
        put_u8(out, reason as u8);
        put_u8(out, 0);
        put_duration(out, f.duration);
        put_u16(out, f.idle_timeout);
        put_zeros(out, 2);
        put_u64(out, f.packet_count);
        put_u64(out, f.byte_count);
    } else {
        put_u64(out, f.cookie);
        put_u16(out, f.priority);
        put_u8(out, f.reason as u8);
        put_u8(out, f.table_id);
        put_duration(out, f.duration);
        put_u16(out, f.idle_timeout);
        put_u16(out, f.hard_timeout);
        put_u64(out, f.packet_count);
        put_u64(out, f.byte_count);
        oxm_codec::encode_match(&f.matching, out);
    }
    m.finish(out);
}

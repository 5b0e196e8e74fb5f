//! OpenFlow actions and instructions ⇄ the flow tables' [`Action`] lists:
//! 1.3 instructions (apply-actions, goto-table, write-metadata, meter) and
//! actions (OpenFlow 1.3.5 §7.2.4–§7.2.5), 1.0 actions (1.0.0 §5.2.4),
//! the Nicira extension actions OVS uses for what OpenFlow lacks, and the
//! consistency check of a flow's actions against its match ([`validate`]).
//!
//! The reference is OVS's `lib/ofp-actions.c`, so that a controller that
//! works with OVS works with switchd:
//!
//! - decoding: 1.3 OUTPUT, PUSH_VLAN, POP_VLAN, SET_FIELD, SET_NW_TTL,
//!   DEC_NW_TTL; 1.0 OUTPUT, SET_VLAN_VID/PCP, STRIP_VLAN, SET_DL_*,
//!   SET_NW_*, SET_TP_*; Nicira RESUBMIT, RESUBMIT_TABLE, NOTE, REG_LOAD,
//!   REG_LOAD2, SET_TUNNEL(64) and DEC_TTL. Queues, MPLS, PBB and TTL
//!   copies are BAD_TYPE (switchd has none of them). Register loads come
//!   out in the `ovs-ofctl` parser's canonical form ([`write`]): a whole
//!   field is a `SetField`, a run of bits a `Load`;
//! - encoding: each [`Action`] the way OVS encodes it for that version:
//!   the 1.0 `mod_*` actions as 1.3 set-fields (with a `push_vlan` first
//!   for `mod_vlan_vid`/`mod_vlan_pcp` when the frame may be untagged),
//!   partial writes as NXAST_REG_LOAD, what 1.0 cannot set as
//!   NXAST_REG_LOAD too. Where the encoding depends on the flow's match (is
//!   the frame tagged? is `tp_src` TCP's, UDP's or SCTP's?), the `_for`
//!   encoders take it; the plain ones assume nothing is known, as OVS does
//!   for a match that does not say.
//!

use super::error::OfError;
use super::oxm::{self, lookup_header, Map, WireField, NXM_VLAN_TCI};
use crate::flow::key::{Field, Prereq, VLAN_CFI};
use crate::flow::types::{ofport, Action, Match, N_TABLES};

/// Nicira's vendor / experimenter id.
pub const NX_VENDOR_ID: u32 = 0x0000_2320;
/// Largest meter id (OFPM_MAX).
pub const METER_MAX: u32 = 0xffff_0000;
/// OpenFlow 1.3's OFPCML_NO_BUFFER: send the whole frame to the controller.
pub const NO_BUFFER: u16 = 0xffff;

/// OpenFlow 1.3 action types (OFPAT_*).
pub mod at13 {
    /// OFPAT_OUTPUT.
    pub const OUTPUT: u16 = 0;
    /// OFPAT_COPY_TTL_OUT.
    pub const COPY_TTL_OUT: u16 = 11;
    /// OFPAT_COPY_TTL_IN.
    pub const COPY_TTL_IN: u16 = 12;
    /// OFPAT_SET_MPLS_TTL.
    pub const SET_MPLS_TTL: u16 = 15;
    /// OFPAT_DEC_MPLS_TTL.
    pub const DEC_MPLS_TTL: u16 = 16;
    /// OFPAT_PUSH_VLAN.
    pub const PUSH_VLAN: u16 = 17;
    /// OFPAT_POP_VLAN.
    pub const POP_VLAN: u16 = 18;
    /// OFPAT_PUSH_MPLS.
    pub const PUSH_MPLS: u16 = 19;
    /// OFPAT_POP_MPLS.
    pub const POP_MPLS: u16 = 20;
    /// OFPAT_SET_QUEUE.
    pub const SET_QUEUE: u16 = 21;
    /// OFPAT_GROUP.
    pub const GROUP: u16 = 22;
    /// OFPAT_SET_NW_TTL.
    pub const SET_NW_TTL: u16 = 23;
    /// OFPAT_DEC_NW_TTL.
    pub const DEC_NW_TTL: u16 = 24;
    /// OFPAT_SET_FIELD.
    pub const SET_FIELD: u16 = 25;
    /// OFPAT_PUSH_PBB.
    pub const PUSH_PBB: u16 = 26;
    /// OFPAT_POP_PBB.
    pub const POP_PBB: u16 = 27;
    /// OFPAT_EXPERIMENTER.
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// OpenFlow 1.0 action types (OFPAT_*).
pub mod at10 {
    /// OFPAT_OUTPUT.
    pub const OUTPUT: u16 = 0;
    /// OFPAT_SET_VLAN_VID.
    pub const SET_VLAN_VID: u16 = 1;
    /// OFPAT_SET_VLAN_PCP.
    pub const SET_VLAN_PCP: u16 = 2;
    /// OFPAT_STRIP_VLAN.
    pub const STRIP_VLAN: u16 = 3;
    /// OFPAT_SET_DL_SRC.
    pub const SET_DL_SRC: u16 = 4;
    /// OFPAT_SET_DL_DST.
    pub const SET_DL_DST: u16 = 5;
    /// OFPAT_SET_NW_SRC.
    pub const SET_NW_SRC: u16 = 6;
    /// OFPAT_SET_NW_DST.
    pub const SET_NW_DST: u16 = 7;
    /// OFPAT_SET_NW_TOS.
    pub const SET_NW_TOS: u16 = 8;
    /// OFPAT_SET_TP_SRC.
    pub const SET_TP_SRC: u16 = 9;
    /// OFPAT_SET_TP_DST.
    pub const SET_TP_DST: u16 = 10;
    /// OFPAT_ENQUEUE.
    pub const ENQUEUE: u16 = 11;
    /// OFPAT_VENDOR.
    pub const VENDOR: u16 = 0xffff;
}

/// Nicira extension action subtypes (NXAST_*).
pub mod nxast {
    /// NXAST_RESUBMIT: `resubmit:PORT`.
    pub const RESUBMIT: u16 = 1;
    /// NXAST_SET_TUNNEL: 32-bit `set_tunnel`.
    pub const SET_TUNNEL: u16 = 2;
    /// NXAST_REG_LOAD: `load:V->F[a..b]`.
    pub const REG_LOAD: u16 = 7;
    /// NXAST_NOTE.
    pub const NOTE: u16 = 8;
    /// NXAST_SET_TUNNEL64.
    pub const SET_TUNNEL64: u16 = 9;
    /// NXAST_RESUBMIT_TABLE: `resubmit(PORT,TABLE)`.
    pub const RESUBMIT_TABLE: u16 = 14;
    /// NXAST_DEC_TTL.
    pub const DEC_TTL: u16 = 18;
    /// NXAST_REG_LOAD2: a set-field under a mask.
    pub const REG_LOAD2: u16 = 33;
}

/// OpenFlow 1.3 instruction types (OFPIT_*).
pub mod it {
    /// OFPIT_GOTO_TABLE.
    pub const GOTO_TABLE: u16 = 1;
    /// OFPIT_WRITE_METADATA.
    pub const WRITE_METADATA: u16 = 2;
    /// OFPIT_WRITE_ACTIONS.
    pub const WRITE_ACTIONS: u16 = 3;
    /// OFPIT_APPLY_ACTIONS.
    pub const APPLY_ACTIONS: u16 = 4;
    /// OFPIT_CLEAR_ACTIONS.
    pub const CLEAR_ACTIONS: u16 = 5;
    /// OFPIT_METER.
    pub const METER: u16 = 6;
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn mac(b: &[u8]) -> [u8; 6] {
    b[..6].try_into().expect("6 bytes")
}

/// The canonical action that writes `value` under `mask` into `field`,
/// as the `ovs-ofctl` parser makes it (`flow::syntax`'s `write`, which a
/// test checks this against): the whole field is a `SetField`, a
/// contiguous run of bits a `Load`, anything else a masked `SetField`.
/// `None` for a zero mask (nothing written).
pub fn write(field: Field, value: u128, mask: u128) -> Option<Action> {
    let mask = mask & field.max();
    let value = value & mask;
    if mask == 0 {
        return None;
    }
    if mask == field.max() {
        return Some(Action::SetField { field, value, mask });
    }
    let start = mask.trailing_zeros();
    let run = mask >> start;
    if run & run.wrapping_add(1) == 0 {
        return Some(Action::Load {
            field,
            start: start as u8,
            n_bits: run.count_ones() as u8,
            value: value >> start,
        });
    }
    Some(Action::SetField { field, value, mask })
}

/// The action an output to `port` (16-bit, specials as OpenFlow 1.0) is.
///
/// # Errors
/// BadOutPort for port 0, `none`/`any`, and the numbers between
/// [`ofport::MAX`] and the specials.
fn output(port: u16, max_len: u16) -> Result<Action, OfError> {
    Ok(match port {
        ofport::CONTROLLER => Action::Controller { max_len },
        ofport::NORMAL => Action::Normal,
        ofport::FLOOD => Action::Flood,
        ofport::ALL => Action::All,
        ofport::IN_PORT => Action::InPort,
        ofport::TABLE | ofport::LOCAL => Action::Output(port),
        p if valid_port(p) => Action::Output(p),
        _ => return Err(OfError::BadOutPort),
    })
}

/// A real port number: 1 to [`ofport::MAX`]. Port 0 is no port (OpenFlow
/// numbers ports from 1; OVS accepts it, switchd's text syntax does not).
fn valid_port(p: u16) -> bool {
    (1..=ofport::MAX).contains(&p)
}

/// Walks an action list: `(type, whole action)` per action, checking the
/// common header (OVS's `ofpact_pull_raw`: at least 8 bytes, a multiple
/// of 8, within the list).
fn each_action(buf: &[u8], mut f: impl FnMut(u16, &[u8]) -> Result<(), OfError>) -> Result<(), OfError> {
    let mut rest = buf;
    while !rest.is_empty() {
        if rest.len() < 8 {
            return Err(OfError::BadActionLen);
        }
        let len = usize::from(be16(rest, 2));
        if len < 8 || len % 8 != 0 || len > rest.len() {
            return Err(OfError::BadActionLen);
        }
        f(be16(rest, 0), &rest[..len])?;
        rest = &rest[len..];
    }
    Ok(())
}

/// Refuses an action whose length is not `n`.
fn fixed(a: &[u8], n: usize) -> Result<(), OfError> {
    if a.len() == n {
        Ok(())
    } else {
        Err(OfError::BadActionLen)
    }
}

/// Decodes a Nicira extension action (`a` is the whole action).
fn decode_nx(a: &[u8], out: &mut Vec<Action>) -> Result<(), OfError> {
    if be32(a, 4) != NX_VENDOR_ID {
        return Err(OfError::BadActionExperimenter);
    }
    if a.len() < 16 {
        return Err(OfError::BadActionLen);
    }
    match be16(a, 8) {
        nxast::RESUBMIT => {
            fixed(a, 16)?;
            out.push(resubmit(be16(a, 10), 0xff)?);
        }
        nxast::RESUBMIT_TABLE => {
            fixed(a, 16)?;
            if a[13..16] != [0, 0, 0] {
                return Err(OfError::BadArgument);
            }
            out.push(resubmit(be16(a, 10), a[12])?);
        }
        nxast::NOTE => out.push(Action::Note(a[10..].to_vec())),
        nxast::SET_TUNNEL => {
            fixed(a, 16)?;
            out.push(Action::SetTunnel(u64::from(be32(a, 12))));
        }
        nxast::SET_TUNNEL64 => {
            fixed(a, 24)?;
            out.push(Action::SetTunnel(be64(a, 16)));
        }
        nxast::DEC_TTL => {
            fixed(a, 16)?;
            out.push(Action::DecTtl);
        }
        nxast::REG_LOAD => {
            fixed(a, 24)?;
            out.extend(reg_load(be16(a, 10), be32(a, 12), be64(a, 16))?);
        }
        nxast::REG_LOAD2 => out.extend(reg_load2(&a[10..])?),
        _ => return Err(OfError::BadActionExpType),
    }
    Ok(())
}

/// `resubmit(PORT,TABLE)` from NXAST_RESUBMIT(_TABLE): port IN_PORT and
/// table 0xff mean "unchanged".
///
/// # Errors
/// BadArgument for a resubmit to the same table with the same port (a
/// loop, which the text syntax refuses too), a reserved port, or table
/// 254 (OVS's internal table).
fn resubmit(port: u16, table: u8) -> Result<Action, OfError> {
    let port = match port {
        ofport::IN_PORT => None,
        p if valid_port(p) => Some(p),
        _ => return Err(OfError::BadArgument),
    };
    let table = match table {
        0xff => None,
        t if t < N_TABLES => Some(t),
        _ => return Err(OfError::BadArgument),
    };
    if port.is_none() && table.is_none() {
        return Err(OfError::BadArgument);
    }
    Ok(Action::Resubmit { port, table })
}

/// What a write of `value` under `mask` (in `w`'s wire bits) writes in
/// the key: the key field and the value and mask in its bits.
fn wire_to_key(w: &WireField, value: u128, mask: u128) -> Option<(Field, u128, u128)> {
    match w.map {
        Map::Plain(f) => (mask & !f.max() == 0).then_some((f, value, mask)),
        Map::InPort32 => None,
        Map::VlanVid => (mask & !0x1fff == 0).then_some((Field::VlanTci, value, mask)),
        Map::VlanPcp => (mask & !7 == 0).then_some((Field::VlanTci, value << 13, mask << 13)),
        // NXM_OF_IP_TOS is the DSCP bits in place; its ECN bits are not
        // part of it (OVS's MFF_IP_DSCP).
        Map::IpTos => (mask & 3 == 0).then_some((Field::IpDscp, value >> 2, mask >> 2)),
    }
}

/// NXAST_REG_LOAD: `n_bits` bits at `ofs` of the field `dst` names.
///
/// # Errors
/// BadArgument for an unknown or read-only destination, bits beyond the
/// field, or a value wider than `n_bits` (OVS).
fn reg_load(ofs_nbits: u16, dst: u32, value: u64) -> Result<Option<Action>, OfError> {
    let (ofs, n_bits) = (u32::from(ofs_nbits >> 6), u32::from(ofs_nbits & 0x3f) + 1);
    if n_bits < 64 && value >> n_bits != 0 {
        return Err(OfError::BadArgument);
    }
    let w = lookup_header(dst).ok_or(OfError::BadArgument)?;
    if ofs + n_bits > u32::from(w.len) * 8 {
        return Err(OfError::BadArgument);
    }
    let run = (u128::MAX >> (128 - n_bits)) << ofs;
    let (field, v, mask) = wire_to_key(w, u128::from(value) << ofs, run).ok_or(OfError::BadArgument)?;
    if !field.writable() {
        return Err(OfError::BadArgument);
    }
    Ok(write(field, v, mask))
}

/// NXAST_REG_LOAD2: an OXM TLV with a mask, then zero padding.
fn reg_load2(tlv: &[u8]) -> Result<Option<Action>, OfError> {
    let raw = oxm::raw_tlv(tlv).ok_or(OfError::BadActionLen)?;
    let w = oxm::lookup(raw.class, raw.field, raw.experimenter).ok_or(OfError::BadSetType)?;
    let n = usize::from(w.len);
    let want = if raw.masked { 2 * n } else { n };
    if raw.payload.len() != want {
        return Err(OfError::BadSetLen);
    }
    if tlv[raw.total..].iter().any(|b| *b != 0) {
        return Err(OfError::BadSetArgument);
    }
    let value = oxm::be(&raw.payload[..n]);
    let mask = if raw.masked {
        oxm::be(&raw.payload[n..])
    } else {
        oxm::ones(n)
    };
    let (field, v, mask) = wire_to_key(w, value, mask).ok_or(OfError::BadSetArgument)?;
    if !field.writable() {
        return Err(OfError::BadSetType);
    }
    Ok(write(field, v, mask))
}

/// Decodes a 1.3 instruction list into one action list (meter first,
/// apply-actions, write-metadata as a masked metadata write, goto-table last).
///
/// # Errors
/// Unknown or unsupported instructions or actions, bad lengths or arguments.
/// An instruction given twice is UnknownInst: OpenFlow 1.3 has no code for
/// it (OVS sends OFPBIC_DUP_INST, 1.4's, as an ONF experimenter error in
/// 1.3), and an instruction set holds each type once (§7.2.4), so a second
/// one is no instruction the set knows.
pub fn decode_instructions13(buf: &[u8]) -> Result<Vec<Action>, OfError> {
    if buf.len() % 8 != 0 {
        return Err(OfError::BadInstLen);
    }
    let mut seen = [false; 7];
    let (mut meter, mut apply, mut metadata, mut goto) = (None, None, None, None);
    let mut rest = buf;
    while !rest.is_empty() {
        let len = usize::from(be16(rest, 2));
        if len < 8 || len % 8 != 0 || len > rest.len() {
            return Err(OfError::BadInstLen);
        }
        let (ty, inst) = (be16(rest, 0), &rest[..len]);
        rest = &rest[len..];
        let want = match ty {
            it::GOTO_TABLE | it::CLEAR_ACTIONS | it::METER => Some(8),
            it::WRITE_METADATA => Some(24),
            it::APPLY_ACTIONS | it::WRITE_ACTIONS => None,
            _ => return Err(OfError::UnknownInst),
        };
        if want.is_some_and(|n| n != len) {
            return Err(OfError::BadInstLen);
        }
        let slot = &mut seen[usize::from(ty)];
        if *slot {
            return Err(OfError::UnknownInst);
        }
        *slot = true;
        match ty {
            it::GOTO_TABLE => goto = Some(inst[4]),
            it::WRITE_METADATA => metadata = Some((be64(inst, 8), be64(inst, 16))),
            it::APPLY_ACTIONS => apply = Some(&inst[8..]),
            it::METER => meter = Some(be32(inst, 4)),
            // switchd keeps no action set: write-actions and
            // clear-actions are known but unsupported.
            _ => return Err(OfError::UnsupInst),
        }
    }
    let mut out = Vec::new();
    out.extend(meter.map(Action::Meter));
    if let Some(a) = apply {
        out.extend(decode_actions13(a)?);
    }
    if let Some((v, m)) = metadata {
        out.extend(write(Field::Metadata, u128::from(v), u128::from(m)));
    }
    out.extend(goto.map(Action::GotoTable));
    Ok(out)
}

/// Decodes a 1.3 action list (PACKET_OUT, group buckets).
///
/// # Errors
/// Unknown or unsupported actions, bad lengths or arguments.
pub fn decode_actions13(buf: &[u8]) -> Result<Vec<Action>, OfError> {
    let mut out = Vec::new();
    each_action(buf, |ty, a| {
        match ty {
            at13::OUTPUT => {
                fixed(a, 16)?;
                let port = oxm::port_from_of13(be32(a, 4)).ok_or(OfError::BadOutPort)?;
                out.push(output(port, be16(a, 8))?);
            }
            at13::PUSH_VLAN => {
                fixed(a, 8)?;
                match be16(a, 4) {
                    t @ (0x8100 | 0x88a8) => out.push(Action::PushVlan(t)),
                    _ => return Err(OfError::BadArgument),
                }
            }
            at13::POP_VLAN => {
                fixed(a, 8)?;
                out.push(Action::PopVlan);
            }
            at13::SET_NW_TTL => {
                fixed(a, 8)?;
                out.push(Action::SetField {
                    field: Field::NwTtl,
                    value: u128::from(a[4]),
                    mask: Field::NwTtl.max(),
                });
            }
            at13::DEC_NW_TTL => {
                fixed(a, 8)?;
                out.push(Action::DecTtl);
            }
            at13::SET_FIELD => {
                let (field, value) = oxm::decode_set_field(&a[4..])?;
                out.push(Action::SetField {
                    field,
                    value,
                    mask: field.max(),
                });
            }
            at13::GROUP => {
                fixed(a, 8)?;
                out.push(Action::Group(be32(a, 4)));
            }
            at13::EXPERIMENTER => decode_nx(a, &mut out)?,
            // COPY_TTL_*, MPLS, SET_QUEUE, PBB: switchd has none of them.
            at13::COPY_TTL_OUT
            | at13::COPY_TTL_IN
            | at13::SET_MPLS_TTL
            | at13::DEC_MPLS_TTL
            | at13::PUSH_MPLS
            | at13::POP_MPLS
            | at13::SET_QUEUE
            | at13::PUSH_PBB
            | at13::POP_PBB => return Err(OfError::BadActionType),
            _ => return Err(OfError::BadActionType),
        }
        Ok(())
    })?;
    Ok(out)
}

/// Decodes a 1.0 action list.
///
/// # Errors
/// Unknown or unsupported actions, bad lengths or arguments.
pub fn decode_actions10(buf: &[u8]) -> Result<Vec<Action>, OfError> {
    let mut out = Vec::new();
    each_action(buf, |ty, a| {
        let act = match ty {
            at10::OUTPUT => {
                fixed(a, 8)?;
                output(be16(a, 4), be16(a, 6))?
            }
            at10::SET_VLAN_VID => {
                fixed(a, 8)?;
                match be16(a, 4) {
                    v @ 0..=0xfff => Action::ModVlanVid(v),
                    _ => return Err(OfError::BadArgument),
                }
            }
            at10::SET_VLAN_PCP => {
                fixed(a, 8)?;
                match a[4] {
                    p @ 0..=7 => Action::ModVlanPcp(p),
                    _ => return Err(OfError::BadArgument),
                }
            }
            at10::STRIP_VLAN => {
                fixed(a, 8)?;
                Action::StripVlan
            }
            at10::SET_DL_SRC => {
                fixed(a, 16)?;
                Action::ModDlSrc(mac(&a[4..]))
            }
            at10::SET_DL_DST => {
                fixed(a, 16)?;
                Action::ModDlDst(mac(&a[4..]))
            }
            at10::SET_NW_SRC => {
                fixed(a, 8)?;
                Action::ModNwSrc(be32(a, 4))
            }
            at10::SET_NW_DST => {
                fixed(a, 8)?;
                Action::ModNwDst(be32(a, 4))
            }
            at10::SET_NW_TOS => {
                fixed(a, 8)?;
                // The DSCP bits in place; ECN bits are BAD_ARGUMENT (OVS).
                match a[4] {
                    t if t & 3 == 0 => Action::ModNwTos(t),
                    _ => return Err(OfError::BadArgument),
                }
            }
            at10::SET_TP_SRC => {
                fixed(a, 8)?;
                Action::ModTpSrc(be16(a, 4))
            }
            at10::SET_TP_DST => {
                fixed(a, 8)?;
                Action::ModTpDst(be16(a, 4))
            }
            at10::VENDOR => return decode_nx(a, &mut out),
            // ENQUEUE: switchd has no queues.
            _ => return Err(OfError::BadActionType),
        };
        out.push(act);
        Ok(())
    })?;
    Ok(out)
}

/// What the encoder knows of the frame at a point of the list: whether it
/// has a tag (from the match, then the actions so far) and its `nw_proto`.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    tagged: bool,
    proto: Option<u8>,
}

impl Ctx {
    fn of(m: &Match) -> Ctx {
        Ctx {
            tagged: oxm::tagged(m),
            proto: oxm::exact(m, Field::NwProto).map(|p| p as u8),
        }
    }

    /// Tracks the tag across `a` (as OVS's `check_SET_VLAN_VID` etc.).
    fn after(&mut self, a: &Action) {
        let cfi = u128::from(VLAN_CFI);
        match a {
            Action::ModVlanVid(_) | Action::ModVlanPcp(_) | Action::PushVlan(_) => self.tagged = true,
            Action::StripVlan | Action::PopVlan => self.tagged = false,
            Action::SetField {
                field: Field::VlanTci,
                value,
                mask,
            } if mask & cfi != 0 => self.tagged = value & cfi != 0,
            Action::Load {
                field: Field::VlanTci,
                start,
                n_bits,
                value,
            } if *start <= 12 && u32::from(*start) + u32::from(*n_bits) > 12 => {
                self.tagged = (value << start) & cfi != 0;
            }
            _ => {}
        }
    }
}

/// Appends an action header of type `ty` and returns where it starts (the
/// length is filled in by [`finish`]).
fn begin(out: &mut Vec<u8>, ty: u16) -> usize {
    let start = out.len();
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    start
}

/// Pads the action that starts at `start` to 8 bytes and sets its length.
fn finish(out: &mut Vec<u8>, start: usize) {
    oxm::pad8(out, start);
    let len = (out.len() - start) as u16;
    out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Appends a Nicira action header (type, length, vendor, subtype).
fn begin_nx(out: &mut Vec<u8>, subtype: u16) -> usize {
    let start = begin(out, at13::EXPERIMENTER);
    out.extend_from_slice(&NX_VENDOR_ID.to_be_bytes());
    out.extend_from_slice(&subtype.to_be_bytes());
    start
}

/// NXAST_RESUBMIT_TABLE (table 0xff: the current one), which OVS sends
/// for every `resubmit` it did not receive as NXAST_RESUBMIT.
fn put_resubmit(out: &mut Vec<u8>, port: Option<u16>, table: Option<u8>) {
    let s = begin_nx(out, nxast::RESUBMIT_TABLE);
    out.extend_from_slice(&port.unwrap_or(ofport::IN_PORT).to_be_bytes());
    out.push(table.unwrap_or(0xff));
    out.resize(s + 16, 0);
    finish(out, s);
}

/// NXAST_NOTE: the bytes, zero-padded to 8 (at least 16 bytes in all).
fn put_note(out: &mut Vec<u8>, note: &[u8]) {
    let s = begin_nx(out, nxast::NOTE);
    out.extend_from_slice(note);
    if out.len() - s < 16 {
        out.resize(s + 16, 0);
    }
    finish(out, s);
}

/// NXAST_REG_LOAD of `n_bits` (≤ 64) bits at `ofs` of wire field `w`.
fn put_reg_load(out: &mut Vec<u8>, w: &WireField, ofs: u32, n_bits: u32, value: u64) {
    let s = begin_nx(out, nxast::REG_LOAD);
    let ofs_nbits = ((ofs << 6) | (n_bits - 1)) as u16;
    out.extend_from_slice(&ofs_nbits.to_be_bytes());
    out.extend_from_slice(&w.header(false).to_be_bytes());
    out.extend_from_slice(&value.to_be_bytes());
    finish(out, s);
}

/// The wire fields a write of `field`'s bits under `mask` goes to, with
/// value and mask in their bits: the NXM header where there is one (as
/// OVS's `mf_nxm_header` for register loads), OXM otherwise.
fn load_targets(
    field: Field,
    value: u128,
    mask: u128,
    proto: Option<u8>,
) -> Vec<(&'static WireField, u128, u128)> {
    let nxm = |f: Field| -> &'static WireField {
        let oxm = oxm::wire_for(f, proto);
        oxm::WIRE
            .iter()
            .find(|w| {
                w.map == Map::Plain(f)
                    && matches!(w.class, oxm::OFPXMC_NXM_0 | oxm::OFPXMC_NXM_1)
                    && w.proto == oxm.proto
            })
            .unwrap_or(oxm)
    };
    match field {
        // dl_vlan / dl_vlan_pcp are bits of NXM_OF_VLAN_TCI.
        Field::VlanVid => vec![(&NXM_VLAN_TCI, value, mask)],
        Field::VlanPcp => vec![(&NXM_VLAN_TCI, value << 13, mask << 13)],
        // nw_tos: its DSCP bits (OXM_OF_IP_DSCP) and ECN bits apart.
        Field::NwTos => [
            (&oxm::OXM_IP_DSCP, value >> 2, (mask >> 2) & 0x3f),
            (nxm(Field::NwEcn), value & 3, mask & 3),
        ]
        .into_iter()
        .filter(|t| t.2 != 0)
        .collect(),
        f => vec![(nxm(f), value, mask)],
    }
}

/// A write under `mask` as NXAST_REG_LOADs, one per run of ones of the
/// mask, at most 64 bits each (OVS's `set_field_to_nxast`).
fn put_loads(out: &mut Vec<u8>, field: Field, value: u128, mask: u128, proto: Option<u8>) {
    for (w, v, m) in load_targets(field, value, mask, proto) {
        let mut rest = m;
        while rest != 0 {
            let ofs = rest.trailing_zeros();
            let run = (rest >> ofs).trailing_ones().min(64);
            let bits = (u128::MAX >> (128 - run)) << ofs;
            put_reg_load(out, w, ofs, run, ((v & bits) >> ofs) as u64);
            rest &= !bits;
        }
    }
}

/// OFPAT_SET_FIELD of `field` = `value`.
fn put_set_field(out: &mut Vec<u8>, field: Field, value: u128, proto: Option<u8>) {
    let s = begin(out, at13::SET_FIELD);
    oxm::encode_set_field(field, value, proto, out);
    finish(out, s);
}

/// An 8-byte action whose argument is `arg` (1.0's SET_VLAN_VID etc.,
/// 1.3's PUSH_VLAN, SET_NW_TTL, GROUP).
fn put8(out: &mut Vec<u8>, ty: u16, arg: &[u8]) {
    let s = begin(out, ty);
    out.extend_from_slice(arg);
    finish(out, s);
}

/// A 1.3 OFPAT_OUTPUT.
fn put_output13(out: &mut Vec<u8>, port: u16, max_len: u16) {
    let s = begin(out, at13::OUTPUT);
    out.extend_from_slice(&oxm::port_to_of13(port).to_be_bytes());
    out.extend_from_slice(&max_len.to_be_bytes());
    out.resize(s + 16, 0);
    finish(out, s);
}

/// The port and `max_len` of an output action, if `a` is one.
fn output_port(a: &Action) -> Option<(u16, u16)> {
    Some(match a {
        Action::Output(p) => (*p, 0),
        Action::Normal => (ofport::NORMAL, 0),
        Action::Flood => (ofport::FLOOD, 0),
        Action::All => (ofport::ALL, 0),
        Action::InPort => (ofport::IN_PORT, 0),
        Action::Controller { max_len } => (ofport::CONTROLLER, *max_len),
        _ => return None,
    })
}

fn mac_value(m: &[u8; 6]) -> u128 {
    oxm::be(m)
}

/// Appends `actions` as 1.3 instructions.
pub fn encode_instructions13(actions: &[Action], out: &mut Vec<u8>) {
    encode_instructions13_for(&Match::ANY, actions, out);
}

/// Appends `actions` of a flow that matches `m` as 1.3 instructions: a
/// leading `meter` as METER, a trailing `goto_table` as GOTO_TABLE, a
/// partial `metadata` write just before it (or last) as WRITE_METADATA,
/// the rest as one APPLY_ACTIONS (left out when empty).
pub fn encode_instructions13_for(m: &Match, actions: &[Action], out: &mut Vec<u8>) {
    let mut rest = actions;
    if let [Action::Meter(id), tail @ ..] = rest {
        let s = begin(out, it::METER);
        out.extend_from_slice(&id.to_be_bytes());
        finish(out, s);
        rest = tail;
    }
    let mut goto = None;
    if let [head @ .., Action::GotoTable(t)] = rest {
        goto = Some(*t);
        rest = head;
    }
    // A partial metadata write at the end is WRITE_METADATA: OpenFlow's
    // own instruction, where apply-actions would need NXAST_REG_LOAD. (A
    // whole write stays a set-field, as OVS sends it.)
    let mut metadata = None;
    if let [head @ .., last] = rest {
        let w = match last {
            Action::SetField {
                field: Field::Metadata,
                value,
                mask,
            } if *mask != Field::Metadata.max() => Some((*value, *mask)),
            Action::Load {
                field: Field::Metadata,
                start,
                n_bits,
                value,
            } => Some((value << start, (u128::MAX >> (128 - u32::from(*n_bits))) << start)),
            _ => None,
        };
        if w.is_some() {
            metadata = w;
            rest = head;
        }
    }
    let s = begin(out, it::APPLY_ACTIONS);
    out.extend_from_slice(&[0; 4]);
    encode_actions13_for(m, rest, out);
    if out.len() == s + 8 {
        out.truncate(s);
    } else {
        finish(out, s);
    }
    if let Some((v, mk)) = metadata {
        let s = begin(out, it::WRITE_METADATA);
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(v as u64).to_be_bytes());
        out.extend_from_slice(&(mk as u64).to_be_bytes());
        finish(out, s);
    }
    if let Some(t) = goto {
        put8(out, it::GOTO_TABLE, &[t]);
    }
}

/// Appends `actions` as a 1.3 action list.
pub fn encode_actions13(actions: &[Action], out: &mut Vec<u8>) {
    encode_actions13_for(&Match::ANY, actions, out);
}

/// Appends `actions` of a flow that matches `m` as a 1.3 action list.
/// `meter` and `goto_table`, instructions in 1.3, are left out (see
/// [`encode_instructions13_for`]).
pub fn encode_actions13_for(m: &Match, actions: &[Action], out: &mut Vec<u8>) {
    let mut ctx = Ctx::of(m);
    for a in actions {
        encode13(a, ctx, out);
        ctx.after(a);
    }
}

/// One action in 1.3.
fn encode13(a: &Action, ctx: Ctx, out: &mut Vec<u8>) {
    let set = |out: &mut Vec<u8>, f: Field, v: u128| put_set_field(out, f, v, ctx.proto);
    match a {
        Action::Output(_)
        | Action::Normal
        | Action::Flood
        | Action::All
        | Action::InPort
        | Action::Controller { .. } => {
            if let Some((port, max_len)) = output_port(a) {
                put_output13(out, port, max_len);
            }
        }
        Action::ModVlanVid(vid) => {
            // mod_vlan_vid pushes a tag if there is none (OVS's
            // push_vlan_if_needed; OpenFlow 1.3's set-field does not).
            if !ctx.tagged {
                put8(out, at13::PUSH_VLAN, &0x8100u16.to_be_bytes());
            }
            set(out, Field::VlanVid, u128::from(*vid));
        }
        Action::ModVlanPcp(pcp) => {
            if !ctx.tagged {
                put8(out, at13::PUSH_VLAN, &0x8100u16.to_be_bytes());
            }
            set(out, Field::VlanPcp, u128::from(*pcp));
        }
        Action::StripVlan | Action::PopVlan => put8(out, at13::POP_VLAN, &[]),
        Action::PushVlan(tpid) => put8(out, at13::PUSH_VLAN, &tpid.to_be_bytes()),
        Action::ModDlSrc(mac) => set(out, Field::DlSrc, mac_value(mac)),
        Action::ModDlDst(mac) => set(out, Field::DlDst, mac_value(mac)),
        Action::ModNwSrc(ip) => set(out, Field::NwSrc, u128::from(*ip)),
        Action::ModNwDst(ip) => set(out, Field::NwDst, u128::from(*ip)),
        Action::ModNwTos(tos) => set(out, Field::IpDscp, u128::from(tos >> 2)),
        Action::ModTpSrc(p) => set(out, Field::TpSrc, u128::from(*p)),
        Action::ModTpDst(p) => set(out, Field::TpDst, u128::from(*p)),
        Action::DecTtl => put8(out, at13::DEC_NW_TTL, &[]),
        Action::SetField { field, value, mask } if *mask == field.max() => match field {
            Field::NwTtl => put8(out, at13::SET_NW_TTL, &[*value as u8]),
            // The whole TOS byte: DSCP and ECN, one set-field each.
            Field::NwTos => {
                set(out, Field::IpDscp, value >> 2);
                set(out, Field::NwEcn, value & 3);
            }
            f => set(out, *f, *value),
        },
        Action::SetField { field, value, mask } => put_loads(out, *field, *value, *mask, ctx.proto),
        Action::Load {
            field,
            start,
            n_bits,
            value,
        } => {
            let run = u128::MAX >> (128 - u32::from(*n_bits));
            put_loads(out, *field, value << start, run << start, ctx.proto);
        }
        Action::Resubmit { port, table } => put_resubmit(out, *port, *table),
        Action::SetTunnel(v) => set(out, Field::TunId, u128::from(*v)),
        Action::Note(bytes) => put_note(out, bytes),
        Action::Group(id) => put8(out, at13::GROUP, &id.to_be_bytes()),
        // Instructions, not actions, in 1.3: encode_instructions13_for
        // puts them around the apply-actions.
        Action::GotoTable(_) | Action::Meter(_) => {}
    }
}

/// Appends `actions` as a 1.0 action list.
///
/// As OVS: `push_vlan` has no 1.0 action (the SET_VLAN_VID/PCP that
/// follows pushes a tag if needed), `goto_table:N` is
/// `resubmit(,N)` (NXAST_RESUBMIT_TABLE), `meter` is left out, and writes
/// 1.0 has no action for go out as NXAST_REG_LOAD.
pub fn encode_actions10(actions: &[Action], out: &mut Vec<u8>) {
    for a in actions {
        encode10(a, out);
    }
}

/// One action in 1.0.
fn encode10(a: &Action, out: &mut Vec<u8>) {
    let dl = |out: &mut Vec<u8>, ty: u16, mac: &[u8]| {
        let s = begin(out, ty);
        out.extend_from_slice(mac);
        out.resize(s + 16, 0);
        finish(out, s);
    };
    match a {
        Action::Output(_)
        | Action::Normal
        | Action::Flood
        | Action::All
        | Action::InPort
        | Action::Controller { .. } => {
            if let Some((port, max_len)) = output_port(a) {
                let mut arg = port.to_be_bytes().to_vec();
                arg.extend_from_slice(&max_len.to_be_bytes());
                put8(out, at10::OUTPUT, &arg);
            }
        }
        Action::ModVlanVid(vid) => put8(out, at10::SET_VLAN_VID, &vid.to_be_bytes()),
        Action::ModVlanPcp(pcp) => put8(out, at10::SET_VLAN_PCP, &[*pcp]),
        Action::StripVlan | Action::PopVlan => put8(out, at10::STRIP_VLAN, &[]),
        Action::PushVlan(_) => {}
        Action::ModDlSrc(mac) => dl(out, at10::SET_DL_SRC, mac),
        Action::ModDlDst(mac) => dl(out, at10::SET_DL_DST, mac),
        Action::ModNwSrc(ip) => put8(out, at10::SET_NW_SRC, &ip.to_be_bytes()),
        Action::ModNwDst(ip) => put8(out, at10::SET_NW_DST, &ip.to_be_bytes()),
        Action::ModNwTos(tos) => put8(out, at10::SET_NW_TOS, &[*tos]),
        Action::ModTpSrc(p) => put8(out, at10::SET_TP_SRC, &p.to_be_bytes()),
        Action::ModTpDst(p) => put8(out, at10::SET_TP_DST, &p.to_be_bytes()),
        Action::DecTtl => {
            let s = begin_nx(out, nxast::DEC_TTL);
            out.resize(s + 16, 0);
            finish(out, s);
        }
        // Whole-field writes 1.0 has an action for (OVS's
        // set_field_to_legacy_openflow); the rest are register loads.
        Action::SetField { field, value, mask } if *mask == field.max() => {
            let v = *value;
            match field {
                Field::VlanVid => put8(out, at10::SET_VLAN_VID, &(v as u16).to_be_bytes()),
                Field::VlanPcp => put8(out, at10::SET_VLAN_PCP, &[v as u8]),
                Field::VlanTci if v & u128::from(VLAN_CFI) != 0 => {
                    put8(out, at10::SET_VLAN_VID, &((v & 0xfff) as u16).to_be_bytes());
                    put8(out, at10::SET_VLAN_PCP, &[(v >> 13) as u8]);
                }
                Field::VlanTci => put8(out, at10::STRIP_VLAN, &[]),
                Field::DlSrc => dl(out, at10::SET_DL_SRC, &v.to_be_bytes()[10..]),
                Field::DlDst => dl(out, at10::SET_DL_DST, &v.to_be_bytes()[10..]),
                Field::NwSrc => put8(out, at10::SET_NW_SRC, &(v as u32).to_be_bytes()),
                Field::NwDst => put8(out, at10::SET_NW_DST, &(v as u32).to_be_bytes()),
                Field::IpDscp => put8(out, at10::SET_NW_TOS, &[(v << 2) as u8]),
                Field::NwTos => {
                    put8(out, at10::SET_NW_TOS, &[(v & 0xfc) as u8]);
                    put_loads(out, Field::NwEcn, v & 3, 3, None);
                }
                Field::TpSrc => put8(out, at10::SET_TP_SRC, &(v as u16).to_be_bytes()),
                Field::TpDst => put8(out, at10::SET_TP_DST, &(v as u16).to_be_bytes()),
                f => put_loads(out, *f, v, *mask, None),
            }
        }
        Action::SetField { field, value, mask } => put_loads(out, *field, *value, *mask, None),
        Action::Load {
            field,
            start,
            n_bits,
            value,
        } => {
            let run = u128::MAX >> (128 - u32::from(*n_bits));
            put_loads(out, *field, value << start, run << start, None);
        }
        Action::Resubmit { port, table } => put_resubmit(out, *port, *table),
        Action::GotoTable(t) => put_resubmit(out, None, Some(*t)),
        Action::SetTunnel(v) => match u32::try_from(*v) {
            Ok(v32) => {
                let s = begin_nx(out, nxast::SET_TUNNEL);
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&v32.to_be_bytes());
                finish(out, s);
            }
            Err(_) => {
                let s = begin_nx(out, nxast::SET_TUNNEL64);
                out.extend_from_slice(&[0; 6]);
                out.extend_from_slice(&v.to_be_bytes());
                finish(out, s);
            }
        },
        Action::Note(bytes) => put_note(out, bytes),
        // 1.0 has no groups (OVS sends nothing for them) nor meters.
        Action::Meter(_) | Action::Group(_) => {}
    }
}

/// Checks a flow's actions against its match as OpenFlow does: a field
/// written must be one the match guarantees (prerequisites), outputs must
/// name real or special ports.
///
/// As OVS's `ofpacts_check` (and switchd's text parser, whose checks these
/// are): `mod_nw_src/dst` need IPv4, `mod_nw_tos` and `dec_ttl` IP,
/// `mod_tp_*` TCP/UDP/SCTP, a set-field or load its field's prerequisite,
/// a write of `dl_vlan`/`dl_vlan_pcp` a tag (matched, or pushed by an
/// earlier action). Also: outputs to port 0, `none`, or numbers between
/// the real ports and the specials; `goto_table` backwards or past the
/// last table (and not last); `meter` not first or out of range; a write
/// of a read-only field; `push_vlan` of another TPID; a resubmit that
/// loops on itself. `output:table` passes (PACKET_OUT's; in a flow the
/// engine does nothing with it).
///
/// The match cannot tell `tcp_src` from `udp_src`, so a set-field of
/// OXM_OF_TCP_SRC on a UDP flow writes its UDP port where OVS would answer
/// MatchInconsistent.
///
/// # Errors
/// MatchInconsistent, BadOutPort, BadInstTableId (goto-table backwards),
/// UnsupportedOrder, InvalidMeter, BadSetType, BadArgument.
pub fn validate(matching: &Match, actions: &[Action], table: u8) -> Result<(), OfError> {
    let mut ctx = Ctx::of(matching);
    let need = |p: Prereq| -> Result<(), OfError> {
        if oxm::satisfied(matching, p) {
            Ok(())
        } else {
            Err(OfError::MatchInconsistent)
        }
    };
    let last = actions.len().saturating_sub(1);
    for (i, a) in actions.iter().enumerate() {
        match a {
            Action::Output(p) if !valid_port(*p) && !matches!(*p, ofport::IN_PORT..=ofport::LOCAL) => {
                return Err(OfError::BadOutPort)
            }
            Action::PushVlan(t) if !matches!(t, 0x8100 | 0x88a8) => return Err(OfError::BadArgument),
            Action::ModNwSrc(_) | Action::ModNwDst(_) => need(Prereq::Ipv4)?,
            Action::ModNwTos(_) | Action::DecTtl => need(Prereq::Ip)?,
            Action::ModTpSrc(_) | Action::ModTpDst(_) => need(Prereq::L4)?,
            Action::SetField { field, .. } | Action::Load { field, .. } => {
                if !field.writable() {
                    return Err(OfError::BadSetType);
                }
                need(field.prereq())?;
                if matches!(field, Field::VlanVid | Field::VlanPcp) && !ctx.tagged {
                    return Err(OfError::MatchInconsistent);
                }
            }
            Action::GotoTable(t) => {
                if *t <= table || *t >= N_TABLES {
                    return Err(OfError::BadInstTableId);
                }
                if i != last {
                    return Err(OfError::UnsupportedOrder);
                }
            }
            Action::Meter(id) => {
                if *id == 0 || *id > METER_MAX {
                    return Err(OfError::InvalidMeter);
                }
                if i != 0 {
                    return Err(OfError::UnsupportedOrder);
                }
            }
            Action::Resubmit { port, table: t }
                if port.is_none() && t.is_none()
                    || port.is_some_and(|p| !valid_port(p))
                    || t.is_some_and(|t| t >= N_TABLES) =>
            {
                return Err(OfError::BadArgument)
            }
            // Whether the group exists is the engine's to check, with
            // OFPBAC_BAD_OUT_GROUP too.
            Action::Group(id) if *id > super::msg::GROUP_MAX => return Err(OfError::BadOutGroup),
            _ => {}
        }
        ctx.after(a);
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! Running a frame through the flow tables: look it up in table 0, count
//! the hit, apply the flow's actions in order to the frame's [`FlowKey`],
//! follow `resubmit` and `goto_table`, and hand every output to a
//! [`Datapath`] with the key as it is at that moment (so each output leaves
//! with the edits made before it, as OpenFlow's action lists).
//!
//! The frame's bytes are not touched here: header rewrites are edits of the
//! key, and the engine turns the difference between the key as received
//! and the key at an output into bytes ([`super::commit`]), as Open
//! vSwitch commits datapath actions from the flow and its base flow. Pure
//! and allocation-free: the flow's action list is read in place.

use std::time::Instant;

use super::classifier::Classifier;
use super::key::{Field, FlowKey, VLAN_CFI};
use super::table::{FlowTable, Flows};
use super::types::{ofport, Action};
use crate::stats::DropReason;

/// Deepest nesting of `resubmit` / `goto_table` (SPEC §9, as OVS's 64).
pub const MAX_DEPTH: usize = 64;

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;

/// Why a frame goes to a controller (OpenFlow's PACKET_IN reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToController {
    /// No flow matched (a table-miss flow with `controller` is `Action`).
    NoMatch,
    /// A `controller` action.
    Action,
    /// `dec_ttl` on a TTL of 0 or 1.
    InvalidTtl,
}

/// What the flow tables' outputs do; implemented by the engine (and by
/// tests, which record the calls).
pub trait Datapath {
    /// Send the frame, as `key` now describes it, to OpenFlow port `port`
    /// (never the ingress port: see [`Datapath::in_port`]).
    fn output(&mut self, port: u16, key: &FlowKey);
    /// Send it back out of the port it came in on.
    fn in_port(&mut self, key: &FlowKey);
    /// The learning switch (SPEC §3–§4) on the frame as `key` describes it.
    fn normal(&mut self, key: &FlowKey);
    /// To every port but the ingress; `all` also to ports spanning tree
    /// blocks.
    fn flood(&mut self, key: &FlowKey, all: bool);
    /// To the bridge's controllers, the first `max_len` bytes.
    fn controller(&mut self, key: &FlowKey, max_len: u16, reason: ToController);
    /// Meter `id` (SPEC §12): whether the frame may go on.
    fn meter(&mut self, id: u32) -> bool;
}

/// Runs the frame with key `key` (updated in place by the actions) and
/// `len` bytes through the tables from table 0.
///
/// # Errors
/// Why the frame was dropped as a whole: no flow in table 0
/// ([`DropReason::NoFlowMatch`]), nesting deeper than [`MAX_DEPTH`],
/// `dec_ttl` at 0 or 1, or an edit the frame cannot take. Outputs made
/// before the error have been handed to `dp` already.
pub fn execute(
    table: &mut FlowTable,
    key: &mut FlowKey,
    len: usize,
    now: Instant,
    dp: &mut impl Datapath,
) -> Result<(), DropReason> {
    let (cls, flows) = table.split();
    let id = cls.lookup(0, key).ok_or(DropReason::NoFlowMatch)?;
    run(cls, flows, id, 0, key, len, now, dp, 0)
}

/// Runs flow `id` (found in table `current`) at nesting `depth`.
#[allow(clippy::too_many_arguments)]
fn run(
    cls: &mut Classifier,
    flows: Flows<'_>,
    id: u32,
    current: u8,
    key: &mut FlowKey,
    len: usize,
    now: Instant,
    dp: &mut impl Datapath,
    depth: usize,
) -> Result<(), DropReason> {
    if depth >= MAX_DEPTH {
        return Err(DropReason::FlowRecursion);
    }
    // The list stays borrowed from the flows while the classifier (its
    // cache) is used mutably for a resubmit: they are separate fields.
    let Some(actions) = flows.hit(id, len, now) else {
        return Ok(());
    };
    for action in actions {
        match *action {
            Action::Output(port) => match port {
                ofport::IN_PORT => dp.in_port(key),
                ofport::NORMAL => dp.normal(key),
                ofport::FLOOD => dp.flood(key, false),
                ofport::ALL => dp.flood(key, true),
                ofport::CONTROLLER => dp.controller(key, u16::MAX, ToController::Action),
                // No local port, no table outside PACKET_OUT: nothing.
                ofport::LOCAL | ofport::NONE | ofport::TABLE => {}
                p if p == key.in_port() => {} // OpenFlow: only IN_PORT sends back
                p => dp.output(p, key),
            },
            Action::Normal => dp.normal(key),
            Action::Flood => dp.flood(key, false),
            Action::All => dp.flood(key, true),
            Action::InPort => dp.in_port(key),
            Action::Controller { max_len } => dp.controller(key, max_len, ToController::Action),
            Action::ModVlanVid(vid) => {
                let tci = key.vlan_tci();
                let tci = if tci & VLAN_CFI == 0 {
                    VLAN_CFI | vid
                } else {
                    (tci & !0x0fff) | vid
                };
                key.set(Field::VlanTci, tci.into());
            }
            Action::ModVlanPcp(pcp) => {
                let tci = key.vlan_tci();
                let tci = (if tci & VLAN_CFI == 0 {
                    VLAN_CFI
                } else {
                    tci & !0xe000
                }) | (u16::from(pcp) << 13);
                key.set(Field::VlanTci, tci.into());
            }
            Action::StripVlan | Action::PopVlan => key.set(Field::VlanTci, 0),
            Action::PushVlan(_) => {
                // One tag is what switchd carries (SPEC §4); a second one
                // would be QinQ.
                if key.vlan_tci() & VLAN_CFI != 0 {
                    return Err(DropReason::FlowUnsupported);
                }
                key.set(Field::VlanTci, VLAN_CFI.into());
            }
            Action::ModDlSrc(mac) => key.set(Field::DlSrc, mac_value(mac)),
            Action::ModDlDst(mac) => key.set(Field::DlDst, mac_value(mac)),
            Action::ModNwSrc(ip) => set_if(key, Field::NwSrc, ip.into(), Field::NwSrc.max()),
            Action::ModNwDst(ip) => set_if(key, Field::NwDst, ip.into(), Field::NwDst.max()),
            Action::ModNwTos(tos) => set_if(key, Field::IpDscp, (tos >> 2).into(), Field::IpDscp.max()),
            Action::ModTpSrc(p) => set_if(key, Field::TpSrc, p.into(), Field::TpSrc.max()),
            Action::ModTpDst(p) => set_if(key, Field::TpDst, p.into(), Field::TpDst.max()),
            Action::DecTtl => {
                if is_ip(key) {
                    let ttl = key.get(Field::NwTtl);
                    if ttl <= 1 {
                        dp.controller(key, u16::MAX, ToController::InvalidTtl);
                        return Err(DropReason::TtlExceeded);
                    }
                    key.set(Field::NwTtl, ttl - 1);
                }
            }
            Action::SetField { field, value, mask } => set_if(key, field, value, mask),
            Action::Load {
                field,
                start,
                n_bits,
                value,
            } => {
                let ones = if n_bits >= 128 {
                    u128::MAX
                } else {
                    (1u128 << n_bits) - 1
                };
                set_if(key, field, value << start, ones << start);
            }
            Action::Resubmit { port, table: t } => {
                let saved = key.get(Field::InPort);
                if let Some(p) = port {
                    key.set(Field::InPort, p.into());
                }
                let t = t.unwrap_or(current);
                let r = match cls.lookup(t, key) {
                    Some(next) => run(cls, flows, next, t, key, len, now, dp, depth + 1),
                    None => Ok(()),
                };
                key.set(Field::InPort, saved);
                r?;
            }
            Action::GotoTable(t) => {
                // The last instruction of the list: the frame continues in
                // table `t` and this flow's actions are done.
                return match cls.lookup(t, key) {
                    Some(next) => run(cls, flows, next, t, key, len, now, dp, depth + 1),
                    None => Ok(()),
                };
            }
            Action::SetTunnel(v) => key.set(Field::TunId, v.into()),
            Action::Meter(m) => {
                if !dp.meter(m) {
                    return Ok(());
                }
            }
            Action::Note(_) => {}
        }
    }
    Ok(())
}

fn mac_value(mac: [u8; 6]) -> u128 {
    mac.iter().fold(0u128, |v, b| (v << 8) | u128::from(*b))
}

fn is_ip(key: &FlowKey) -> bool {
    matches!(key.dl_type(), ETH_IPV4 | ETH_IPV6)
}

/// Writes `field` only if the frame has it (OVS: "set the field only if
/// the packet actually has it"): a flow's prerequisites were checked when
/// it was added, but a resubmit or an earlier edit can lead elsewhere.
fn set_if(key: &mut FlowKey, field: Field, value: u128, mask: u128) {
    let tag_ok = !matches!(field, Field::VlanVid | Field::VlanPcp) || key.vlan_tci() & VLAN_CFI != 0;
    let ok = field.prereq().holds(
        Some(key.dl_type()),
        Some(key.nw_proto()),
        Some(key.get(Field::Icmpv6Type) as u8),
    );
    if tag_ok && ok {
        key.set_masked(field, value, mask);
    }
}

#[cfg(test)]
mod tests;

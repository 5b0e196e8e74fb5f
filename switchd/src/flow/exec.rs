//! Running a frame through the flow tables: look it up in table 0, count
//! the hit, apply the flow's actions in order to the frame's [`FlowKey`],
//! follow `resubmit`, `goto_table` and groups' buckets ([`super::group`]),
//! and hand every output to a [`Datapath`] with the key as it is at that
//! moment (so each output leaves with the edits made before it, as
//! OpenFlow's action lists; a bucket edits its own copy of the key).
//!
//! The frame's bytes are not touched here: header rewrites are edits of the
//! key, and the engine turns the difference between the key as received
//! and the key at an output into bytes ([`super::commit`]), as Open
//! vSwitch commits datapath actions from the flow and its base flow. Pure
//! and allocation-free: the action lists of flows and buckets are read in
//! place, a bucket's copy of the key is on the stack.

use std::time::Instant;

use super::classifier::Classifier;
use super::group::{Group, GroupTable, GroupType};
use super::key::{Field, FlowKey, VLAN_CFI};
use super::table::{FlowTable, Flows};
use super::types::{ofport, Action, FlowSpec, Match};
use crate::stats::DropReason;

/// Deepest nesting of `resubmit` / `goto_table` / `group` (SPEC §9, as
/// OVS's 64).
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
    /// To the bridge's controllers, the first `max_len` bytes; `table` and
    /// `cookie` are those of the flow whose action sent it (for a group's
    /// bucket, of the flow that used the group), for the PACKET_IN.
    fn controller(&mut self, key: &FlowKey, max_len: u16, reason: ToController, table: u8, cookie: u64);
    /// Meter `id` (SPEC §12): whether the frame may go on.
    fn meter(&mut self, id: u32) -> bool;

    /// Tracing (`switchctl trace`, SPEC §11): lookups bypass the cache,
    /// hits are not counted, and every lookup is reported to
    /// [`Datapath::traced`]. A constant, so the forwarding path compiles
    /// without any of it.
    const TRACE: bool = false;

    /// With [`Datapath::TRACE`]: table `table` was looked up and `flow`
    /// matched (`None`: nothing did).
    fn traced(&mut self, _table: u8, _flow: Option<&FlowSpec>) {}
}

/// Runs the frame with key `key` (updated in place by the actions) and
/// `len` bytes through the tables from table 0, with the bridge's groups
/// `groups` for `group:N` actions.
///
/// # Errors
/// Why the frame was dropped as a whole: no flow in table 0
/// ([`DropReason::NoFlowMatch`]), nesting (of `resubmit`, `goto_table`
/// and groups) deeper than [`MAX_DEPTH`], `dec_ttl` at 0 or 1, or an edit
/// the frame cannot take. Outputs made before the error have been handed
/// to `dp` already. An error in a group's bucket ends the frame's run as
/// one in the flow would (the buckets after it do not run either).
pub fn execute(
    table: &mut FlowTable,
    groups: &GroupTable,
    key: &mut FlowKey,
    len: usize,
    now: Instant,
    dp: &mut impl Datapath,
) -> Result<(), DropReason> {
    let (cls, flows) = table.split();
    let mut run = Run {
        cls,
        flows,
        groups,
        len,
        now,
        dp,
        packet_out: false,
    };
    let id = run.lookup(0, key).ok_or(DropReason::NoFlowMatch)?;
    run.flow(id, 0, key, 0)
}

/// Runs `actions` (a PACKET_OUT's) on the frame with key `key`: as a
/// flow's actions, and `output:TABLE` runs the frame through the tables
/// from table 0 (OpenFlow's OFPP_TABLE, meaningful only here).
///
/// # Errors
/// As [`execute`]; a frame that `output:TABLE` finds no flow for is
/// [`DropReason::NoFlowMatch`].
pub fn execute_actions(
    table: &mut FlowTable,
    groups: &GroupTable,
    actions: &[Action],
    key: &mut FlowKey,
    len: usize,
    now: Instant,
    dp: &mut impl Datapath,
) -> Result<(), DropReason> {
    let (cls, flows) = table.split();
    let at = At { table: 0, flow: None };
    Run {
        cls,
        flows,
        groups,
        len,
        now,
        dp,
        packet_out: true,
    }
    .actions(actions, at, key, 0)
}

/// The flow whose actions are running (for a group's bucket: the flow that
/// used the group): its table, where `resubmit` without a table looks, and
/// the flow itself (`None` for a PACKET_OUT's actions), whose cookie and
/// kind a PACKET_IN reports. Kept as a reference so that a frame that goes
/// nowhere near a controller pays nothing for those.
#[derive(Debug, Clone, Copy)]
struct At<'a> {
    table: u8,
    flow: Option<&'a FlowSpec>,
}

impl At<'_> {
    /// Why a `controller` action of this flow sends: a table-miss flow's
    /// (priority 0, matching everything) is "no match", as OVS reports it
    /// in OpenFlow 1.3.
    fn to_controller(self) -> ToController {
        match self.flow {
            Some(f) if f.priority == 0 && f.matching == Match::ANY => ToController::NoMatch,
            _ => ToController::Action,
        }
    }

    /// The flow's cookie (all ones for a PACKET_OUT, as OVS).
    fn cookie(self) -> u64 {
        self.flow.map_or(u64::MAX, |f| f.cookie)
    }
}

/// One frame's run: what stays the same from flow to flow and bucket to
/// bucket. The action lists stay borrowed from the flows and the groups
/// (`'a`) while the classifier (its cache) is used mutably for a resubmit:
/// they are separate fields.
struct Run<'a, D> {
    cls: &'a mut Classifier,
    flows: Flows<'a>,
    groups: &'a GroupTable,
    len: usize,
    now: Instant,
    dp: &'a mut D,
    /// Running a PACKET_OUT's actions: `output:TABLE` means table 0.
    packet_out: bool,
}

impl<'a, D: Datapath> Run<'a, D> {
    /// The flow of `table` that `key` matches: through the cache, or, when
    /// tracing, without touching it and reporting what matched.
    #[inline(always)]
    fn lookup(&mut self, table: u8, key: &FlowKey) -> Option<u32> {
        if D::TRACE {
            let id = self.cls.lookup_uncached(table, key);
            let flows = self.flows;
            self.dp.traced(table, id.and_then(|i| flows.get(i)));
            id
        } else {
            self.cls.lookup(table, key)
        }
    }

    /// Runs flow `id` (found in table `table`) at nesting `depth`.
    fn flow(&mut self, id: u32, table: u8, key: &mut FlowKey, depth: usize) -> Result<(), DropReason> {
        if depth >= MAX_DEPTH {
            return Err(DropReason::FlowRecursion);
        }
        let found = if D::TRACE {
            self.flows.get(id)
        } else {
            self.flows.hit(id, self.len, self.now)
        };
        let Some(spec) = found else {
            return Ok(());
        };
        let at = At {
            table,
            flow: Some(spec),
        };
        self.actions(&spec.actions, at, key, depth)
    }

    /// Runs group `id` at nesting `depth` on the frame as `key` describes
    /// it. Each bucket runs on its own copy of the key: its edits reach
    /// neither the next bucket nor the actions after `group:N` (OpenFlow:
    /// each bucket works on a clone of the packet). A group that does not
    /// exist (deleted since the flow was added) does nothing.
    fn group(&mut self, id: u32, at: At<'a>, key: &FlowKey, depth: usize) -> Result<(), DropReason> {
        if depth >= MAX_DEPTH {
            return Err(DropReason::FlowRecursion);
        }
        let groups = self.groups;
        let Some(g) = groups.get(id) else {
            return Ok(());
        };
        g.hit(self.len);
        match g.group_type {
            GroupType::All => {
                for i in 0..g.buckets.len() {
                    self.bucket(g, i, at, key, depth)?;
                }
                Ok(())
            }
            GroupType::Indirect => self.bucket(g, 0, at, key, depth),
            GroupType::Select => match g.select(key) {
                Some(i) => self.bucket(g, i, at, key, depth),
                None => Ok(()),
            },
            // Refused by the group table: never there.
            GroupType::FastFailover => Ok(()),
        }
    }

    /// Runs bucket `i` of `g` on a copy of `key` (on the stack).
    fn bucket(
        &mut self,
        g: &'a Group,
        i: usize,
        at: At<'a>,
        key: &FlowKey,
        depth: usize,
    ) -> Result<(), DropReason> {
        let Some(b) = g.buckets.get(i) else {
            return Ok(());
        };
        g.bucket_hit(i, self.len);
        let mut copy = *key;
        self.actions(&b.actions, at, &mut copy, depth)
    }

    /// Runs `actions` in order on `key`, at nesting `depth`. Inlined into
    /// its callers: one call level less on every frame (measured: 14
    /// instructions of an established flow).
    #[inline(always)]
    fn actions(
        &mut self,
        actions: &'a [Action],
        at: At<'a>,
        key: &mut FlowKey,
        depth: usize,
    ) -> Result<(), DropReason> {
        for action in actions {
            match *action {
                Action::Output(port) => match port {
                    ofport::IN_PORT => self.dp.in_port(key),
                    ofport::NORMAL => self.dp.normal(key),
                    ofport::FLOOD => self.dp.flood(key, false),
                    ofport::ALL => self.dp.flood(key, true),
                    ofport::CONTROLLER => {
                        self.dp
                            .controller(key, u16::MAX, at.to_controller(), at.table, at.cookie())
                    }
                    // No local port, no table outside PACKET_OUT: nothing.
                    ofport::TABLE if self.packet_out => {
                        let id = self.lookup(0, key).ok_or(DropReason::NoFlowMatch)?;
                        let mut copy = *key;
                        self.flow(id, 0, &mut copy, depth + 1)?;
                    }
                    ofport::LOCAL | ofport::NONE | ofport::TABLE => {}
                    p if p == key.in_port() => {} // OpenFlow: only IN_PORT sends back
                    p => self.dp.output(p, key),
                },
                Action::Normal => self.dp.normal(key),
                Action::Flood => self.dp.flood(key, false),
                Action::All => self.dp.flood(key, true),
                Action::InPort => self.dp.in_port(key),
                Action::Controller { max_len } => {
                    self.dp
                        .controller(key, max_len, at.to_controller(), at.table, at.cookie())
                }
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
                            self.dp.controller(
                                key,
                                u16::MAX,
                                ToController::InvalidTtl,
                                at.table,
                                at.cookie(),
                            );
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
                    let t = t.unwrap_or(at.table);
                    let r = match self.lookup(t, key) {
                        Some(next) => self.flow(next, t, key, depth + 1),
                        None => Ok(()),
                    };
                    key.set(Field::InPort, saved);
                    r?;
                }
                Action::GotoTable(t) => {
                    // The last instruction of the list: the frame continues in
                    // table `t` and this flow's actions are done. (The group
                    // table refuses it in buckets.)
                    return match self.lookup(t, key) {
                        Some(next) => self.flow(next, t, key, depth + 1),
                        None => Ok(()),
                    };
                }
                Action::SetTunnel(v) => key.set(Field::TunId, v.into()),
                Action::Meter(m) => {
                    if !self.dp.meter(m) {
                        return Ok(());
                    }
                }
                Action::Group(g) => self.group(g, at, key, depth + 1)?,
                Action::Note(_) => {}
            }
        }
        Ok(())
    }
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

//! `switchctl trace` (SPEC §11, like `ovs-appctl ofproto/trace`): a packet
//! described as fields is made into a frame ([`crate::flow::synth`]) and
//! walked through the bridge as the data path would take it — the ingress
//! port's spanning-tree state, the flow tables (each lookup and the flow
//! that matched, through [`exec`] in its tracing mode, which bypasses the
//! cache and counts nothing), NORMAL's VLAN classification and decision,
//! and every egress port with its tag edit — or the reason it is dropped.
//!
//! Nothing is learned, counted or sent: the MAC table is only looked up,
//! flows are not hit, and NORMAL's steps are taken here with the
//! pipeline's own pieces (`classify`, the MAC table's lookup,
//! [`pipeline::egress`]) rather than through [`pipeline::ingress`], which
//! learns.

use std::time::Instant;

use proto::{Error, ErrorKind, IfName, Reply, TraceAction, TraceInfo, TraceResult, TraceStage, TraceStep};

use super::flows::Names;
use super::Engine;
use crate::batch::Edit;
use crate::fdb::Fdb;
use crate::flow::exec::{self, Datapath, ToController};
use crate::flow::key::{Field, FlowKey};
use crate::flow::syntax::{self, format_actions_in, format_match};
use crate::flow::types::{FlowSpec, Match, PortNames};
use crate::flow::{extract, synth};
use crate::pipeline::{self, Decision, Gate, Ports, Verdict};
use crate::stats::DropReason;
use crate::wire;

/// What a trace collects while the packet is walked.
struct Tracer<'a> {
    specs: &'a Ports,
    fdb: &'a Fdb,
    names: &'a Names,
    in_idx: usize,
    now: Instant,
    /// The key as received (to describe a flow's edits at an output).
    base: FlowKey,
    steps: Vec<TraceStep>,
    /// Ports the packet leaves by (indexes into `specs`), in order, once each.
    out: Vec<usize>,
    /// Whether NORMAL flooded it.
    flooded: bool,
    /// Whether a copy went to the controllers.
    controller: bool,
    /// The first reason a copy was refused.
    refused: Option<DropReason>,
    /// A step already says why the packet goes nowhere.
    explained: bool,
}

fn step(stage: TraceStage, detail: String) -> TraceStep {
    TraceStep { stage, detail }
}

fn edit_text(edit: &Edit) -> String {
    match (edit.strip, edit.insert) {
        (false, None) => "as received".into(),
        (true, None) => "untagged (tag removed)".into(),
        (false, Some(t)) => format!("tagged VLAN {}", u16::from_be_bytes([t[2], t[3]]) & 0x0fff),
        (true, Some(t)) => format!("retagged VLAN {}", u16::from_be_bytes([t[2], t[3]]) & 0x0fff),
    }
}

impl Tracer<'_> {
    fn name(&self, idx: usize) -> String {
        let of = self.specs[idx].ofport;
        self.names.name(of).map_or_else(|| of.to_string(), str::to_string)
    }

    fn push(&mut self, stage: TraceStage, detail: String) {
        self.steps.push(step(stage, detail));
    }

    fn leave(&mut self, idx: usize) {
        if !self.out.contains(&idx) {
            self.out.push(idx);
        }
    }

    /// The fields a flow's actions changed, as `field=value` (empty: none).
    fn edits(&self, key: &FlowKey) -> String {
        let mut changed = Match::ANY;
        for f in [
            Field::VlanTci,
            Field::DlSrc,
            Field::DlDst,
            Field::NwSrc,
            Field::NwDst,
            Field::Ipv6Src,
            Field::Ipv6Dst,
            Field::NwTos,
            Field::NwTtl,
            Field::TpSrc,
            Field::TpDst,
            Field::TunId,
        ] {
            if key.get(f) != self.base.get(f) {
                changed.set_exact(f, key.get(f));
            }
        }
        if changed == Match::ANY {
            String::new()
        } else {
            format!(", rewritten: {}", format_match(&changed, self.names))
        }
    }

    /// An output of the (edited) packet to `specs[idx]`, as a flow sends it.
    fn output_to(&mut self, idx: usize, key: &FlowKey, blocked_too: bool) {
        let name = self.name(idx);
        let gate = self.specs[idx].gate;
        if gate == Gate::Down || (!blocked_too && gate != Gate::Forwarding) {
            self.push(
                TraceStage::Egress,
                format!("{name}: skipped, the port is not forwarding"),
            );
            return;
        }
        let edits = self.edits(key);
        self.push(TraceStage::Egress, format!("{name}: sent{edits}"));
        self.leave(idx);
    }

    /// NORMAL on the frame `key` describes, without learning.
    fn normal_of(&mut self, key: &FlowKey) {
        let frame = synth::frame_for(key);
        let in_port = &self.specs[self.in_idx];
        let meta = match wire::parse(&frame) {
            Ok(m) => m,
            Err(r) => return self.refuse(r),
        };
        if meta.src.is_multicast() || meta.src.is_zero() {
            return self.refuse(DropReason::BadSource);
        }
        let mode = match in_port.vlan.mode() {
            proto::VlanMode::Access => format!("access VLAN {}", in_port.vlan.tag()),
            m => m.as_str().to_string(),
        };
        let tagged = meta.tag.map_or("an untagged frame".to_string(), |t| {
            format!("a frame tagged {}", t.vid)
        });
        let vlan = match in_port.vlan.classify(meta.tag) {
            Ok(v) => v,
            Err(r) => {
                let name = self.name(self.in_idx);
                self.push(
                    TraceStage::Vlan,
                    format!("{name} ({mode}) does not admit {tagged}"),
                );
                return self.refuse(r);
            }
        };
        let name = self.name(self.in_idx);
        self.push(
            TraceStage::Vlan,
            format!("{name} ({mode}): {tagged} is in VLAN {vlan}"),
        );
        let decision = if meta.dst.is_multicast() {
            self.push(
                TraceStage::Normal,
                format!("{} is a group address: flood in VLAN {vlan}", meta.dst),
            );
            Decision::Flood
        } else {
            match self
                .fdb
                .lookup(vlan, meta.dst, self.now)
                .and_then(|id| self.specs.index_of(id))
            {
                Some(i) if i == self.in_idx => {
                    self.push(
                        TraceStage::Normal,
                        format!("{} was learned on the ingress port", meta.dst),
                    );
                    return self.refuse(DropReason::LearnedOnIngress);
                }
                Some(i) => {
                    let out = self.name(i);
                    self.push(
                        TraceStage::Normal,
                        format!("{} learned on {out} in VLAN {vlan}", meta.dst),
                    );
                    Decision::Output(i)
                }
                None => {
                    self.push(
                        TraceStage::Normal,
                        format!("{} unknown in VLAN {vlan}: flood", meta.dst),
                    );
                    Decision::Flood
                }
            }
        };
        let v = Verdict { meta, vlan, decision };
        let targets: Vec<usize> = match decision {
            Decision::Output(i) => vec![i],
            Decision::Flood => {
                self.flooded = true;
                (0..self.specs.len()).collect()
            }
        };
        let before = self.out.len();
        let mut refused = false;
        for i in targets {
            match pipeline::egress(self.specs, self.in_idx, i, frame.len(), &v) {
                None => {}
                Some(Ok(edit)) => {
                    let n = self.name(i);
                    self.push(TraceStage::Egress, format!("{n}: {}", edit_text(&edit)));
                    self.leave(i);
                }
                Some(Err(r)) => {
                    let n = self.name(i);
                    self.push(TraceStage::Drop, format!("{n}: {}", r.name()));
                    self.refused.get_or_insert(r);
                    refused = true;
                }
            }
        }
        if self.out.len() == before && !refused {
            self.push(
                TraceStage::Drop,
                format!("no other forwarding port carries VLAN {vlan}"),
            );
            self.explained = true;
        }
    }

    fn refuse(&mut self, r: DropReason) {
        self.push(TraceStage::Drop, r.name().to_string());
        self.refused.get_or_insert(r);
    }
}

impl Datapath for Tracer<'_> {
    const TRACE: bool = true;

    fn traced(&mut self, table: u8, flow: Option<&FlowSpec>) {
        let detail = match flow {
            Some(f) => {
                let m = format_match(&f.matching, self.names);
                let sep = if m.is_empty() { "" } else { "," };
                format!(
                    "table {table}: priority={}{sep}{m} actions={}",
                    f.priority,
                    format_actions_in(&f.actions, &f.matching, self.names)
                )
            }
            None => format!("table {table}: no flow matches"),
        };
        self.push(TraceStage::Table, detail);
    }

    fn output(&mut self, port: u16, key: &FlowKey) {
        match self.specs.index_of_ofport(port) {
            Some(i) if i != self.in_idx => self.output_to(i, key, false),
            Some(_) => {}
            None => self.push(
                TraceStage::Egress,
                format!("port {port}: no such port, nothing sent"),
            ),
        }
    }

    fn in_port(&mut self, key: &FlowKey) {
        self.output_to(self.in_idx, key, false);
    }

    fn normal(&mut self, key: &FlowKey) {
        self.normal_of(key);
    }

    fn flood(&mut self, key: &FlowKey, all: bool) {
        for i in 0..self.specs.len() {
            if i != self.in_idx {
                self.output_to(i, key, all);
            }
        }
    }

    fn controller(&mut self, _key: &FlowKey, max_len: u16, reason: ToController, table: u8, _cookie: u64) {
        self.controller = true;
        self.push(
            TraceStage::Egress,
            format!("controller: PACKET_IN ({reason:?}, table {table}, max_len {max_len})"),
        );
    }

    fn meter(&mut self, _id: u32) -> bool {
        true
    }
}

impl Engine {
    /// `trace BR PACKET`.
    pub(super) fn cmd_trace(&mut self, bridge: &IfName, packet: &str) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        let names = self.flow_names(b);
        let invalid = |m: String| Error::new(ErrorKind::InvalidArgument, m);
        let filter = syntax::parse_filter(packet, &names).map_err(|e| invalid(format!("packet: {e}")))?;
        let m = filter.matching;
        if m.mask_of(Field::InPort) == 0 {
            return Err(invalid(
                "packet: in_port=PORT is required (the port the packet arrives on)".into(),
            ));
        }
        let in_port = m.value_of(Field::InPort) as u16;
        let specs = self.ports.members(b);
        let in_idx = specs.index_of_ofport(in_port).ok_or_else(|| {
            invalid(format!(
                "packet: in_port={in_port}: no such port on bridge {:?}",
                bridge.as_str()
            ))
        })?;
        let frame = synth::frame_for(&m.value);
        let bridge = &mut self.bridges[b];
        let mut t = Tracer {
            specs,
            fdb: &bridge.fdb,
            names: &names,
            in_idx,
            now: Instant::now(),
            base: extract(&frame, in_port, specs[in_idx].tun_id),
            steps: Vec::new(),
            out: Vec::new(),
            flooded: false,
            controller: false,
            refused: None,
            explained: false,
        };
        let dst = m.value.get(Field::DlDst) as u64;
        let in_name = t.name(in_idx);
        let verdict = match specs[in_idx].gate {
            Gate::Down => {
                t.push(
                    TraceStage::Rstp,
                    format!("{in_name} is down: nothing is received on it"),
                );
                Err(None)
            }
            _ if wire::is_reserved(&proto::MacAddr(
                dst.to_be_bytes()[2..].try_into().expect("6 bytes"),
            )) =>
            {
                Err(Some(DropReason::ReservedDestination))
            }
            Gate::Discarding => {
                t.push(TraceStage::Rstp, format!("{in_name} is discarding"));
                Err(Some(DropReason::StpDiscarding))
            }
            Gate::Learning => {
                t.push(TraceStage::Rstp, format!("{in_name} is learning"));
                Err(Some(DropReason::StpLearning))
            }
            Gate::MirrorOutput => {
                t.push(TraceStage::Rstp, format!("{in_name} is a mirror's output port"));
                Err(Some(DropReason::MirrorOutputPort))
            }
            Gate::Forwarding => {
                t.push(TraceStage::Rstp, format!("{in_name} is forwarding"));
                if bridge.of.fail_open_active {
                    t.push(
                        TraceStage::Table,
                        "fail-open: no controller heard from, everything goes to NORMAL".into(),
                    );
                    t.normal(&m.value);
                    Ok(())
                } else {
                    let mut key = t.base;
                    exec::execute(
                        &mut bridge.flows,
                        &bridge.groups,
                        &mut key,
                        frame.len(),
                        t.now,
                        &mut t,
                    )
                    .map_err(Some)
                }
            }
        };
        let reason = match verdict {
            Err(Some(r)) => {
                t.push(TraceStage::Drop, r.name().to_string());
                Some(r.name().to_string())
            }
            Err(None) => Some("port-down".to_string()),
            Ok(()) if t.out.is_empty() && !t.controller => {
                let r = t.refused.map(|r| r.name().to_string());
                if r.is_none() && !t.explained {
                    t.push(TraceStage::Drop, "the actions send it nowhere".into());
                }
                r
            }
            Ok(()) => None,
        };
        let action = if t.out.is_empty() {
            TraceAction::Drop
        } else if t.flooded {
            TraceAction::Flood
        } else {
            TraceAction::Output
        };
        let ports = t.out.iter().map(|&i| t.name(i)).collect();
        Ok(Reply::Trace(TraceInfo {
            steps: t.steps,
            result: TraceResult {
                action,
                ports,
                reason: if action == TraceAction::Drop { reason } else { None },
            },
        }))
    }
}

//! The per-frame path of a bridge whose flow tables hold more than the
//! default `priority=0,actions=NORMAL` (SPEC §9), and the queueing of a
//! frame on an egress port that it shares with the plain NORMAL path.
//!
//! A frame is parsed, BPDUs go to spanning tree as before, the ingress
//! port's spanning-tree state is checked, the frame's key is extracted and
//! run through the tables ([`flow::exec`]); each output is turned into a
//! [`TxEntry`] here ([`FlowPath`] is the [`Datapath`] the interpreter
//! drives). An output of an unedited frame, or of one whose only edit is
//! its VLAN tag, sends the received slot with an [`Edit`], as NORMAL does;
//! any other edit is written once into a copy slot of the batch
//! ([`flow::commit::rewrite`]), checksums included, and sent from there.
//! `normal` runs the learning switch on the frame as edited so far.

use std::time::Instant;

use proto::MacAddr;

use super::ofstate::PacketIns;
use super::ports::{BridgeKey, Slots};
use crate::batch::{Edit, RxBatch};
use crate::fdb::Fdb;
use crate::flow::commit::{self, Plan};
use crate::flow::exec::{self, Datapath, ToController};
use crate::flow::extract::extract_into;
use crate::flow::group::GroupTable;
use crate::flow::table::FlowTable;
use crate::flow::{FlowKey, VLAN_CFI};
use crate::offload;
use crate::pipeline::{self, Gate, Ports};
use crate::port::TxEntry;
use crate::qos::MeterTable;
use crate::stats::DropReason;
use crate::wire::vnet::VnetHdr;
use crate::wire::{self, ETH_HEADER_LEN};
use crate::PortId;

/// Queues slot `slot` of the batch (with virtio-net header `vnet`) on the
/// port with id `out`, edited by `res`, or counts why it cannot go there.
#[inline]
#[allow(clippy::too_many_arguments)]
pub(super) fn queue(
    slots: &mut Slots<'_>,
    dirty: &mut Vec<PortId>,
    csum_slots: &mut u64,
    out: PortId,
    slot: usize,
    vnet: &VnetHdr,
    res: Result<Edit, DropReason>,
) {
    let Some(p) = slots.get_mut(out) else { return };
    match res {
        Ok(edit) => {
            if p.tx.is_empty() {
                dirty.push(out);
            }
            // A partial checksum is finished once, in place, before
            // anything is sent; GSO frames are segmented per port.
            if vnet.needs_csum() && !vnet.is_gso() && !p.offloads() {
                *csum_slots |= 1 << slot;
            }
            p.tx.push(TxEntry::new(slot as u8, edit));
        }
        Err(reason) => p.counters.count_drop(reason),
    }
}

/// `in_idx` of a frame that came from a controller (PACKET_OUT with no
/// ingress port).
pub(super) const NO_PORT: usize = usize::MAX;

/// What one frame's run through the flow tables works with.
pub(super) struct FlowPath<'a, 'b> {
    pub bridge: BridgeKey,
    pub specs: &'a Ports,
    pub slots: &'a mut Slots<'b>,
    pub fdb: &'a mut Fdb,
    /// The bridge's meters (SPEC §12), for `meter:N`.
    pub meters: &'a mut MeterTable,
    pub batch: &'a mut RxBatch,
    pub dirty: &'a mut Vec<PortId>,
    pub csum_slots: &'a mut u64,
    /// Copy slots used in the current batch.
    pub copies: &'a mut usize,
    pub in_idx: usize,
    /// The received frame's slot.
    pub slot: usize,
    pub now: Instant,
    /// The key as received.
    pub base: FlowKey,
    /// The last copy written, for the key it was written for: several
    /// outputs after the same edits share it.
    pub last_copy: Option<(FlowKey, usize)>,
    /// The first reason NORMAL refused the frame (counted on the ingress
    /// port, as without flows).
    pub refused: Option<DropReason>,
    /// Where frames for the controllers go; `None` when the bridge has no
    /// connected controller (they are then dropped, as OVS does).
    pub packet_ins: Option<&'a mut PacketIns>,
}

/// Runs frame `slot`, received on `specs[in_idx]`, through `flows`.
///
/// # Errors
/// Why the frame was dropped as a whole; `ReservedDestination` means a
/// BPDU or other link-local frame, which the caller hands to spanning tree.
pub(super) fn run(
    flows: &mut FlowTable,
    groups: &GroupTable,
    miss_to_controller: bool,
    fp: &mut FlowPath<'_, '_>,
) -> Result<(), DropReason> {
    let frame = fp.batch.frame(fp.slot);
    // NORMAL parses the frame itself; here only the length and the
    // destination matter (a truncated tag is extract's to leave unparsed).
    let Some(dst) = frame.first_chunk::<6>().filter(|_| frame.len() >= ETH_HEADER_LEN) else {
        return Err(DropReason::Runt);
    };
    if wire::is_reserved(&MacAddr(*dst)) {
        return Err(DropReason::ReservedDestination);
    }
    let in_port = &fp.specs[fp.in_idx];
    match in_port.gate {
        Gate::Forwarding => {}
        Gate::Learning => return Err(DropReason::StpLearning),
        Gate::MirrorOutput => return Err(DropReason::MirrorOutputPort),
        _ => return Err(DropReason::StpDiscarding),
    }
    let len = frame.len();
    extract_into(&mut fp.base, frame, in_port.ofport, in_port.tun_id);
    let mut key = fp.base;
    match exec::execute(flows, groups, &mut key, len, fp.now, fp) {
        Err(DropReason::NoFlowMatch) if miss_to_controller => {
            // An OpenFlow 1.0 controller gets table misses.
            if let Some(pins) = fp.packet_ins.as_deref_mut() {
                let frame = fp.batch.frame(fp.slot);
                pins.push(
                    fp.bridge,
                    &key,
                    frame,
                    u16::MAX,
                    ToController::NoMatch,
                    true,
                    0,
                    u64::MAX,
                );
            }
            Err(DropReason::NoFlowMatch)
        }
        Err(e) => Err(e),
        Ok(()) => fp.refused.map_or(Ok(()), Err),
    }
}

impl FlowPath<'_, '_> {
    /// The slot and edit that send the frame as `key` describes it, or
    /// `None` (counted) if it cannot be built.
    fn materialize(&mut self, key: &FlowKey) -> Option<(usize, Edit)> {
        match commit::plan(self.batch.frame(self.slot), &self.base, key) {
            Plan::Same => Some((self.slot, Edit::KEEP)),
            Plan::Vlan(edit) => Some((self.slot, edit)),
            Plan::Rewrite => self.copy(key).map(|s| (s, Edit::KEEP)),
        }
    }

    /// A copy slot holding the frame as `key` describes it (every edit,
    /// the VLAN tag included).
    fn copy(&mut self, key: &FlowKey) -> Option<usize> {
        if let Some((k, s)) = self.last_copy {
            if k == *key {
                return Some(s);
            }
        }
        let range = self.batch.copy_slots();
        let dst = range.start + *self.copies;
        if dst >= range.end {
            self.refuse(DropReason::FlowUnsupported);
            return None;
        }
        let vnet = self.batch.vnet(self.slot);
        let (frame, out) = self.batch.frame_and_slot_mut(self.slot, dst);
        match commit::rewrite(frame, &vnet, &self.base, key, out) {
            Ok((start, len, hdr)) => {
                self.batch.set_frame(dst, start, len);
                self.batch.set_vnet(dst, hdr);
                *self.copies += 1;
                self.last_copy = Some((*key, dst));
                Some(dst)
            }
            Err(_) => {
                self.refuse(DropReason::FlowUnsupported);
                None
            }
        }
    }

    fn refuse(&mut self, reason: DropReason) {
        self.refused.get_or_insert(reason);
    }

    /// Sends the frame as `key` describes it to `specs[out_idx]`, if the
    /// port is up and (unless `blocked_too`) forwarding, and the frame fits
    /// its MTU.
    fn send(&mut self, out_idx: usize, key: &FlowKey, blocked_too: bool) {
        let out = &self.specs[out_idx];
        if out.gate == Gate::Down || (!blocked_too && out.gate != Gate::Forwarding) {
            return;
        }
        let Some((slot, edit)) = self.materialize(key) else {
            return;
        };
        let frame = self.batch.frame(slot);
        let vnet = self.batch.vnet(slot);
        let tagged = key.vlan_tci() & VLAN_CFI != 0;
        let res = if out.fits(&edit, tagged, offload::wire_len(frame, &vnet)) {
            Ok(edit)
        } else {
            Err(DropReason::TooBig)
        };
        queue(self.slots, self.dirty, self.csum_slots, out.id, slot, &vnet, res);
    }
}

impl Datapath for FlowPath<'_, '_> {
    fn output(&mut self, port: u16, key: &FlowKey) {
        if let Some(i) = self.specs.index_of_ofport(port) {
            if i != self.in_idx {
                self.send(i, key, false);
            }
        }
    }

    fn in_port(&mut self, key: &FlowKey) {
        if self.in_idx != NO_PORT {
            self.send(self.in_idx, key, false);
        }
    }

    fn normal(&mut self, key: &FlowKey) {
        if self.in_idx == NO_PORT {
            // A controller's frame has no ingress port to learn on or to
            // classify a VLAN from: NORMAL floods it (as OVS does for a
            // PACKET_OUT from the controller port).
            self.flood(key, false);
            return;
        }
        let slot = if matches!(
            commit::plan(self.batch.frame(self.slot), &self.base, key),
            Plan::Same
        ) {
            self.slot
        } else {
            match self.copy(key) {
                Some(s) => s,
                None => return,
            }
        };
        let vnet = self.batch.vnet(slot);
        let frame = self.batch.frame(slot);
        let wire_len = offload::wire_len(frame, &vnet);
        let FlowPath {
            specs,
            slots,
            fdb,
            dirty,
            csum_slots,
            ..
        } = self;
        let r = pipeline::forward_sized(
            fdb,
            specs,
            self.in_idx,
            frame,
            wire_len,
            self.now,
            |out_idx, res| {
                queue(slots, dirty, csum_slots, specs[out_idx].id, slot, &vnet, res);
            },
        );
        if let Err(reason) = r {
            self.refuse(reason);
        }
    }

    fn flood(&mut self, key: &FlowKey, all: bool) {
        for i in 0..self.specs.len() {
            if i != self.in_idx {
                self.send(i, key, all);
            }
        }
    }

    fn controller(&mut self, key: &FlowKey, max_len: u16, reason: ToController, table: u8, cookie: u64) {
        // Without a connected controller the frame goes nowhere (as OVS).
        if self.packet_ins.is_none() {
            return;
        }
        let Some((slot, edit)) = self.materialize(key) else {
            return;
        };
        // A VLAN-only edit is applied by the send path; a controller gets
        // the bytes, so make the copy.
        let slot = if edit == Edit::KEEP {
            slot
        } else {
            match self.copy(key) {
                Some(s) => s,
                None => return,
            }
        };
        let frame = self.batch.frame(slot);
        if let Some(pins) = self.packet_ins.as_deref_mut() {
            pins.push(self.bridge, key, frame, max_len, reason, false, table, cookie);
        }
    }

    fn meter(&mut self, id: u32) -> bool {
        // Charged as the policers are: the bytes of the segments a GSO
        // super-frame becomes (SPEC §12).
        let (_, bytes) = offload::segments(self.batch.frame(self.slot), &self.batch.vnet(self.slot));
        if self.meters.apply(id, bytes as u64, self.now) {
            return true;
        }
        self.refuse(DropReason::Metered);
        false
    }
}

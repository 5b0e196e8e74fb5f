//! The data path: receive one batch from a port or a tunnel endpoint, run
//! each frame through its bridge's pipeline, queue it on the egress ports,
//! then send what each port got in one call, finishing checksums and
//! segmenting GSO super-frames for ports that cannot take them.
//!
//! Nothing here allocates, locks or logs per frame: the batch, the segment
//! buffer and the per-port queues are preallocated.

use std::time::Instant;

use super::export;
use super::flowpath::{self, FlowPath};
use super::mirror;
use super::ports::{DownReason, Port};
use super::Engine;
use crate::batch::{Edit, COPY_SLOTS};
use crate::capture::Tap;
use crate::flow::FlowKey;
use crate::offload;
use crate::pipeline;
use crate::port::tunnel::Endpoint;
use crate::port::{RxBatch, SendOutcome, TxEntry, BATCH};
use crate::qos::Policer;
use crate::stats::DropReason;
use crate::PortId;

impl Engine {
    /// Receives one batch on port `id` and forwards it. Returns whether the
    /// port may have more frames queued.
    pub(super) fn service_port(&mut self, id: PortId) -> bool {
        let received = match self.ports.get_mut(id).and_then(Port::io_mut) {
            Some(io) => io.recv_batch(&mut self.batch),
            None => return false,
        };
        match received {
            Ok(0) => false,
            Ok(n) => {
                self.forward_batch(id, n);
                n == BATCH
            }
            Err(e) => {
                self.take_down(id, DownReason::from_device_error(e));
                false
            }
        }
    }

    /// Receives one batch on tunnel endpoint `e`, decodes it and forwards
    /// each inner frame from the port it belongs to. Returns whether the
    /// endpoint may have more packets queued.
    pub(super) fn service_endpoint(&mut self, e: usize) -> bool {
        let mut ingress = [None; BATCH];
        let (n, more) = match self.endpoints.get_mut(e) {
            Some(Some(ep)) => ep.recv_batch(&mut self.batch, &mut ingress),
            _ => return false,
        };
        if n > 0 {
            self.batches += 1;
            self.batch_frames += n as u64;
            let now = Instant::now();
            for (slot, port) in ingress.iter().enumerate().take(n) {
                if let Some(id) = *port {
                    self.forward_frame(PortId(id), slot, now);
                }
            }
            self.flush_tx();
        }
        more
    }

    /// Runs the `n` frames of the batch received on port `id` through the
    /// pipeline, then sends what was queued, one call per egress port.
    fn forward_batch(&mut self, id: PortId, n: usize) {
        self.batches += 1;
        self.batch_frames += n as u64;
        let now = Instant::now();
        for slot in 0..n {
            self.forward_frame(id, slot, now);
        }
        self.flush_tx();
    }

    /// Runs frame `slot` of the batch, received on port `id`, through the
    /// pipeline of the port's bridge and queues it on its egress ports:
    /// straight through NORMAL when the bridge's flow tables hold only the
    /// default flow (whose counters it keeps), else through the tables
    /// ([`flowpath::run`]).
    #[inline]
    pub(super) fn forward_frame(&mut self, id: PortId, slot: usize, now: Instant) {
        if self.copies_used > COPY_SLOTS / 2 || self.packet_ins.nearly_full() {
            // Leave every frame of the batch at least half the copy slots
            // and the PACKET_IN entries.
            self.flush_tx();
        }
        let Engine {
            ports,
            bridges,
            batch,
            dirty,
            csum_slots,
            stp_pending,
            copies_used,
            packet_ins,
            epoch,
            ..
        } = self;
        let Some(port) = ports.get_mut(id) else {
            return;
        };
        let len = batch.frame(slot).len();
        port.counters.rx_packets += 1;
        port.counters.rx_bytes += len as u64;
        if !port.taps.is_empty() {
            offer_all(&mut port.taps, batch.frame(slot), false);
        }
        // Ingress policing (SPEC §12): in front of the pipeline, so a
        // policed frame is neither learned from, sampled nor forwarded.
        if let Some(pol) = port.ingress.as_mut() {
            if !police(pol, batch, slot, &Edit::KEEP, now) {
                port.counters.count_drop(DropReason::Policed);
                return;
            }
        }
        let b = port.bridge;
        let (specs, mut slots) = ports.split(b);
        let Some(in_idx) = specs.index_of(id) else {
            return;
        };
        let bridge = &mut bridges[b];
        // sFlow and IPFIX look at every frame as received (SPEC §11).
        if let Some(sf) = bridge.sflow.as_deref_mut() {
            export::sflow_ingress(sf, id, batch.frame(slot), now, *epoch);
        }
        let mirrored = !bridge.mirrors.list.is_empty();
        if mirrored {
            // Where the send queues of the ports mirrored by what they send
            // stand before this frame, to see after it whether it went there.
            for (pid, before) in bridge.mirrors.dst_ports.iter_mut() {
                *before = slots.get_mut(*pid).map_or(0, |p| p.tx.len());
            }
        }
        // Fail-open (SPEC §10): no controller heard from in standalone
        // mode, so the hidden highest-priority flow sends all to NORMAL.
        let normal_only = bridge.default_flow.is_some() || bridge.of.fail_open_active;
        let verdict = if normal_only {
            if let Some(default) = bridge.default_flow {
                bridge.flows.hit(default, len, now);
            }
            let frame = batch.frame(slot);
            let vnet = batch.vnet(slot);
            // A GSO super-frame leaves as segments: MTUs are checked against those.
            let wire_len = offload::wire_len(frame, &vnet);
            pipeline::forward_sized(
                &mut bridge.fdb,
                specs,
                in_idx,
                frame,
                wire_len,
                now,
                |out_idx, res| {
                    flowpath::queue(&mut slots, dirty, csum_slots, specs[out_idx].id, slot, &vnet, res);
                },
            )
        } else {
            let live = !bridge.of.live.is_empty();
            let mut fp = FlowPath {
                bridge: b,
                specs,
                slots: &mut slots,
                fdb: &mut bridge.fdb,
                meters: &mut bridge.meters,
                batch,
                dirty,
                csum_slots,
                copies: copies_used,
                in_idx,
                slot,
                now,
                base: FlowKey::ZERO,
                last_copy: None,
                refused: None,
                packet_ins: live.then_some(packet_ins),
            };
            flowpath::run(
                &mut bridge.flows,
                &bridge.groups,
                bridge.of.miss_to_controller,
                &mut fp,
            )
        };
        if let Some(ix) = bridge.ipfix.as_deref_mut() {
            // After the decision, so that the record can name the egress port.
            let normal = normal_only.then_some(&bridge.fdb);
            export::ipfix_ingress(ix, specs, in_idx, normal, batch.frame(slot), now);
        }
        if mirrored && verdict != Err(DropReason::ReservedDestination) {
            mirror::mirror_frame(
                &mut bridge.mirrors,
                specs,
                &mut slots,
                dirty,
                csum_slots,
                batch,
                in_idx,
                slot,
            );
        }
        if let Err(reason) = verdict {
            let Some(p) = slots.get_mut(id) else { return };
            // BPDUs are refused by the pipeline as reserved; a bridge that
            // runs RSTP takes them from here.
            if reason == DropReason::ReservedDestination {
                if let Some(stp) = bridge.stp.as_mut() {
                    if stp.receive(id, batch.frame(slot), &mut p.counters) {
                        if !stp_pending.contains(&b) {
                            stp_pending.push(b);
                        }
                        return;
                    }
                }
            }
            p.counters.count_drop(reason);
        }
    }

    /// Sends what the frames of the current batch queued, one call per
    /// egress port: on its device, or through its tunnel endpoint.
    ///
    /// Ports without offloads never see a partial checksum or a GSO
    /// super-frame: checksums are finished in place first (the header of
    /// the slot then says "nothing to do", which is just as right for the
    /// ports with offloads that get the same frame), and super-frames are
    /// segmented into `segments` and sent segment by segment, in order.
    pub(super) fn flush_tx(&mut self) {
        if !self.packet_ins.is_empty() {
            // Before the copy slots they may point into are reused.
            self.of_deliver_packet_ins();
        }
        self.finish_checksums();
        self.copies_used = 0;
        // Read only if a port that sends has an egress policer.
        let mut now = None;
        let Engine {
            ports,
            endpoints,
            batch,
            segments,
            scratch,
            dirty,
            ..
        } = self;
        for out in dirty.drain(..) {
            let Some(p) = ports.get_mut(out) else {
                continue;
            };
            if p.egress.is_some() {
                police_egress(p, batch, *now.get_or_insert_with(Instant::now));
                if p.tx.is_empty() {
                    continue;
                }
            }
            if !p.taps.is_empty() {
                offer_sent(p, batch);
            }
            let mut o = SendOutcome::default();
            if p.offloads() || p.tx.iter().all(|e| batch.vnet(usize::from(e.slot)).is_plain()) {
                let entries = std::mem::take(&mut p.tx);
                o = send_to(p, endpoints, batch, &entries);
                p.tx = entries;
            } else {
                // Keep the frames in order: plain runs go out as they are,
                // each super-frame as its segments.
                let entries = std::mem::take(&mut p.tx);
                let mut rest = &entries[..];
                while !rest.is_empty() {
                    let plain = rest
                        .iter()
                        .take_while(|e| batch.vnet(usize::from(e.slot)).is_plain())
                        .count();
                    if plain > 0 {
                        add(&mut o, send_to(p, endpoints, batch, &rest[..plain]));
                        rest = &rest[plain..];
                        continue;
                    }
                    let e = rest[0];
                    rest = &rest[1..];
                    let slot = usize::from(e.slot);
                    let hdr = batch.vnet(slot);
                    if !hdr.is_gso() {
                        // A partial checksum that could not be finished.
                        p.counters.count_drop(DropReason::BadOffload);
                        continue;
                    }
                    let mut from = 0;
                    loop {
                        match offload::segment(batch.frame(slot), &hdr, from, segments) {
                            Ok((n, next)) => {
                                scratch.clear();
                                scratch.extend((0..n).map(|i| TxEntry::new(i as u8, e.edit)));
                                add(&mut o, send_to(p, endpoints, segments, scratch));
                                match next {
                                    Some(n) => from = n,
                                    None => break,
                                }
                            }
                            Err(reason) => {
                                p.counters.count_drop(reason);
                                break;
                            }
                        }
                    }
                }
                p.tx = entries;
            }
            p.count_sent(o);
            p.tx.clear();
        }
        if !self.stp_pending.is_empty() {
            self.stp_apply_pending();
        }
    }

    /// Finishes, in place, the partial checksums of the frames that a port
    /// without offloads will send ([`offload::complete_checksum`]), copy
    /// slots included.
    fn finish_checksums(&mut self) {
        let mut slots = std::mem::take(&mut self.csum_slots);
        while slots != 0 {
            let slot = slots.trailing_zeros() as usize;
            slots &= slots - 1;
            let mut hdr = self.batch.vnet(slot);
            if offload::complete_checksum(self.batch.frame_mut(slot), &hdr).is_ok() {
                hdr.flags &= !crate::wire::vnet::F_NEEDS_CSUM;
                self.batch.set_vnet(slot, hdr);
            }
        }
    }
}

/// Sends `entries` of `batch` to port `p`: on its device, or through its
/// tunnel endpoint. A port that is down sends nothing (the pipeline does not
/// pick it; a port taken down within the batch gets here at most once).
pub(super) fn send_to(
    p: &mut Port,
    endpoints: &mut [Option<Endpoint>],
    batch: &RxBatch,
    tx: &[TxEntry],
) -> SendOutcome {
    if let Some(io) = p.io_mut() {
        return io.send_batch(batch, tx);
    }
    if let Some(bond) = p.bond_mut() {
        return bond.send_batch(batch, tx);
    }
    match p.tunnel() {
        Some(link) => match endpoints.get_mut(link.endpoint) {
            Some(Some(ep)) => ep.send_batch(batch, tx, link),
            _ => SendOutcome {
                errors: tx.len() as u64,
                ..SendOutcome::default()
            },
        },
        None => SendOutcome::default(),
    }
}

/// Offers a frame a port received to its captures, dropping those whose
/// reader is gone. Out of line: the data path only pays the `is_empty`
/// test of a port without captures.
#[cold]
#[inline(never)]
fn offer_all(taps: &mut Vec<Tap>, frame: &[u8], outgoing: bool) {
    taps.retain_mut(|t| t.offer(frame, outgoing));
}

/// Offers the frames queued on port `p` to its captures, each as it leaves
/// the port (its tag edit applied; a GSO super-frame as one frame, before
/// any software segmentation), dropping the captures whose reader is gone.
#[cold]
#[inline(never)]
fn offer_sent(p: &mut Port, batch: &RxBatch) {
    let Port { taps, tx, .. } = p;
    taps.retain_mut(|t| {
        tx.iter()
            .all(|e| t.offer_edited(batch.frame(usize::from(e.slot)), &e.edit, true))
    });
}

/// Whether the frame in `slot`, sent with `edit`, passes policer `pol` at
/// `now` ([`Policer::admit_frame`]).
#[inline]
fn police(pol: &mut Policer, batch: &RxBatch, slot: usize, edit: &Edit, now: Instant) -> bool {
    let frame = batch.frame(slot);
    let delta = edit.out_len(frame.len()) as isize - frame.len() as isize;
    pol.admit_frame(frame, &batch.vnet(slot), delta, now)
}

/// Drops from port `p`'s send queue what its egress policer refuses,
/// counted as `tx-policed`, keeping the order of the rest.
fn police_egress(p: &mut Port, batch: &RxBatch, now: Instant) {
    let Port {
        egress, tx, counters, ..
    } = p;
    let Some(pol) = egress.as_mut() else { return };
    tx.retain(|e| {
        let pass = police(pol, batch, usize::from(e.slot), &e.edit, now);
        if !pass {
            counters.count_drop(DropReason::TxPoliced);
        }
        pass
    });
}

fn add(total: &mut SendOutcome, o: SendOutcome) {
    total.sent += o.sent;
    total.bytes += o.bytes;
    total.dropped += o.dropped;
    total.errors += o.errors;
    total.link_down += o.link_down;
}

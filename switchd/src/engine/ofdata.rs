//! The OpenFlow side of the data path (SPEC §10): frames to controllers
//! (PACKET_IN) and frames from them (PACKET_OUT).
//!
//! A frame a flow sends to the controller is copied, as the actions have
//! edited it so far and cut to the action's `max_len`, into one of
//! [`MAX_PENDING`] preallocated entries of [`PacketIns`] while the batch
//! is forwarded; after the batch every entry is encoded into the output
//! buffer of each connection of its bridge that wants it. Entries keep
//! their buffers, so a steady stream of PACKET_INs allocates nothing. When
//! the entries are used up within one batch, or a controller has more
//! than [`PACKET_IN_TX_LIMIT`] bytes unread, the
//! PACKET_IN is dropped and counted: a slow controller costs the data path
//! nothing but those copies. A bridge with no connected controller skips
//! all of this (the flow path gets no queue).
//!
//! PACKET_OUT puts the controller's frame into slot 0 of the engine's
//! batch (free between batches) and runs the message's actions on it with
//! the same [`FlowPath`] as received frames, then sends.

use std::time::Instant;

use super::flowpath::{self, FlowPath};
use super::ofstate::PACKET_IN_TX_LIMIT;
use super::ports::BridgeKey;
use super::Engine;
use crate::batch::HEADROOM;
use crate::flow::exec::{self, ToController};
use crate::flow::types::Action;
use crate::flow::FlowKey;
use crate::openflow::msg::{Outgoing, PacketIn, PacketInReason, NO_BUFFER, OFP10};
use crate::wire::vnet::VnetHdr;
fn reason_of(r: ToController) -> PacketInReason {
    match r {
        ToController::NoMatch => PacketInReason::NoMatch,
        ToController::Action => PacketInReason::Action,
        ToController::InvalidTtl => PacketInReason::InvalidTtl,
    }
}

impl Engine {
    /// Encodes the batch's PACKET_INs into their controllers' buffers and
    /// starts writing them.
    pub(super) fn of_deliver_packet_ins(&mut self) {
        let pins = &mut self.packet_ins;
        for e in &pins.entries[..pins.used] {
            let Some(bridge) = self.bridges.get(e.bridge) else {
                continue;
            };
            let Some(r) = e.reason else { continue };
            let reason = reason_of(r);
            for &c in &bridge.of.live {
                let Some(conn) = self.of.conns[c].as_mut() else {
                    continue;
                };
                let v10 = conn.session.version() == Some(OFP10);
                if (e.miss && !v10) || !conn.live() || !conn.session.wants_packet_in(reason) {
                    continue;
                }
                if conn.pending() > PACKET_IN_TX_LIMIT {
                    conn.packet_ins_dropped += 1;
                    continue;
                }
                let data = if e.miss {
                    &e.data[..e.data.len().min(usize::from(conn.session.miss_send_len()))]
                } else {
                    &e.data[..]
                };
                let msg = PacketIn {
                    buffer_id: NO_BUFFER,
                    total_len: e.total_len,
                    reason,
                    table_id: e.table,
                    cookie: e.cookie,
                    in_port: e.in_port,
                    tun_id: (e.tun_id != 0).then_some(e.tun_id),
                    metadata: (e.metadata != 0).then_some(e.metadata),
                    data,
                };
                conn.send(0, &Outgoing::PacketIn(msg));
            }
        }
        pins.used = 0;
        self.of_flush_all();
    }

    /// Runs `actions` on `frame` as if received on `specs[in_idx]` of bridge
    /// `b` (`None`: from the controller), and sends the result.
    pub(super) fn packet_out(
        &mut self,
        b: BridgeKey,
        in_idx: Option<usize>,
        in_port: u16,
        actions: &[Action],
        frame: &[u8],
    ) {
        let now = Instant::now();
        // Slot 0 of the batch: nothing else uses it between batches.
        let slot = 0;
        self.batch.slot_mut(slot)[HEADROOM..HEADROOM + frame.len()].copy_from_slice(frame);
        self.batch.set_frame(slot, HEADROOM, frame.len());
        self.batch.set_vnet(slot, VnetHdr::default());
        let Engine {
            ports,
            bridges,
            batch,
            dirty,
            csum_slots,
            copies_used,
            packet_ins,
            ..
        } = self;
        let (specs, mut slots) = ports.split(b);
        let bridge = &mut bridges[b];
        let live = !bridge.of.live.is_empty();
        let (tun_id, ofport) = in_idx.map_or((0, in_port), |i| (specs[i].tun_id, specs[i].ofport));
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
            in_idx: in_idx.unwrap_or(flowpath::NO_PORT),
            slot,
            now,
            base: FlowKey::ZERO,
            last_copy: None,
            refused: None,
            packet_ins: live.then_some(packet_ins),
        };
        crate::flow::extract_into(&mut fp.base, fp.batch.frame(slot), ofport, tun_id);
        let mut key = fp.base;
        let _ = exec::execute_actions(
            &mut bridge.flows,
            &bridge.groups,
            actions,
            &mut key,
            frame.len(),
            now,
            &mut fp,
        );
        self.flush_tx();
    }
}

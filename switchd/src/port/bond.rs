//! Bond ports (SPEC §8): two or more system devices that are one port of
//! their bridge (one MAC-table port, one RSTP port, one VLAN config). This
//! file holds their I/O: the member devices, each with its own fd, ready
//! flag and send queue. Which member a frame leaves by, and which received
//! frames may enter, are decided by the pure [`crate::bond::Bond`]; LACP is
//! the pure [`crate::lacp::Lacp`]. Both live here, next to the members they
//! speak for, and the engine (`engine/bonds.rs`) drives them.

use proto::IfName;

use super::outcome::SendOutcome;
use super::PortIo;
use crate::batch::{RxBatch, TxEntry};
use crate::bond::Bond;
use crate::lacp::Lacp;
use crate::wire;

/// Most members a bond may have (SPEC §8); also the stride of member
/// tokens in the engine's poller.
pub const MAX_MEMBERS: usize = 32;

/// Entries one send call may hand a member: a batch of received frames or
/// the segments of one super-frame, whichever is more.
const MEMBER_QUEUE: usize = 64;

/// One member device of a bond.
#[derive(Debug)]
pub struct Member {
    /// Device name.
    pub name: IfName,
    /// The open device; `None` while it is missing.
    pub io: Option<PortIo>,
    /// The device reports carrier.
    pub carrier: bool,
    /// LACP lets it collect and distribute (true when LACP is off).
    pub lacp_usable: bool,
    /// On the engine's ready list.
    pub ready: bool,
    /// Frames of the current send call for this member.
    tx: Vec<TxEntry>,
}

impl Member {
    /// A member not yet opened.
    pub fn new(name: IfName) -> Member {
        Member {
            name,
            io: None,
            carrier: false,
            lacp_usable: true,
            ready: false,
            tx: Vec::with_capacity(MEMBER_QUEUE),
        }
    }

    /// Whether the member may carry traffic as far as its own state goes
    /// (the bond then applies up/down delays).
    pub fn may_enable(&self) -> bool {
        self.io.is_some() && self.carrier && self.lacp_usable
    }
}

/// A bond port's members and the state that decides over them.
#[derive(Debug)]
pub struct BondPort {
    /// The members, in configuration order (index = member number - 1 for
    /// LACP, bucket owner for the bond).
    pub members: Vec<Member>,
    /// Load balancing, active member, admission.
    pub bond: Bond,
    /// LACP, when `lacp=active|passive`.
    pub lacp: Option<Lacp>,
}

impl BondPort {
    /// The MTU: the smallest of the open members', 1500 if none is open.
    pub fn mtu(&self) -> u32 {
        self.members
            .iter()
            .filter_map(|m| m.io.as_ref().map(PortIo::mtu))
            .min()
            .unwrap_or(1500)
    }

    /// Sends `tx` of `batch`, each frame out of the member the bond picks
    /// for it: one call per member. Frames no member can take (none is
    /// enabled) are counted as `link_down`.
    pub fn send_batch(&mut self, batch: &RxBatch, tx: &[TxEntry]) -> SendOutcome {
        let mut out = SendOutcome::default();
        for e in tx {
            let frame = batch.frame(usize::from(e.slot));
            let vlan = wire::parse(frame).ok().and_then(|m| m.tag).map_or(0, |t| t.vid);
            match self.bond.choose_tx(frame, vlan) {
                Some(m) if m < self.members.len() => self.members[m].tx.push(*e),
                _ => out.link_down += 1,
            }
        }
        for m in &mut self.members {
            if m.tx.is_empty() {
                continue;
            }
            match m.io.as_mut() {
                Some(io) => {
                    let o = io.send_batch(batch, &m.tx);
                    out.sent += o.sent;
                    out.bytes += o.bytes;
                    out.dropped += o.dropped;
                    out.errors += o.errors;
                    out.link_down += o.link_down;
                }
                None => out.link_down += m.tx.len() as u64,
            }
            m.tx.clear();
        }
        out
    }
}

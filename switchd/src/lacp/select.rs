//! Selection Logic (802.1AX-2014 6.4.14) for a bond with one aggregator,
//! as Open vSwitch simplifies it (`lacp_update_attached` in `lib/lacp.c`):
//! every member whose partner is the aggregator's partner is attached,
//! every other member is not.
//!
//! The standard would give each distinct (partner system, partner key) an
//! aggregator of its own and pick one to carry traffic; a bond is one port
//! of the bridge, so, like Open vSwitch, we only ever have the one, and a
//! member cabled to some other system just stays out of it (it is still
//! told so: its LACPDUs say "not in sync").
//!
//! Which partner: as long as some member attached last time is CURRENT,
//! its partner stays the aggregator's (so a working aggregation is not
//! torn down because a better-priority system appears on another member).
//! Otherwise the lead is the candidate whose partner says it is in sync,
//! then the one with the best link priority (`Member::priority`). Open
//! vSwitch means to prefer an enabled member there too, but asks after
//! clearing `attached`, so in effect compares priority only.
//!
//! Imports only `member.rs` and `types.rs`.

use super::member::Member;
use super::types::{ActorConfig, RxState, State};

/// Whether `m` may join any aggregator at all: it has a partner (not
/// defaulted, and not an expired member that never heard one: Open vSwitch
/// attaches those too, and so calls a bond that has heard nobody
/// "negotiated" for its first 3 s), and that partner is not this very
/// system (a member cabled to another member of the same bond: Open
/// vSwitch's loopback check).
fn eligible(cfg: &ActorConfig, m: &Member) -> bool {
    m.rx != RxState::Defaulted && m.partner.system != [0; 6] && m.partner.system != cfg.system
}

/// Recomputes `attached` for every member and returns the index of the
/// lead member, whose partner is the aggregator's partner, if there is one.
pub(super) fn update_attached(cfg: &ActorConfig, members: &mut [Member]) -> Option<usize> {
    // The working member (Open vSwitch's lead_current).
    let working = members
        .iter()
        .enumerate()
        .filter(|(_, m)| m.attached && m.rx == RxState::Current && eligible(cfg, m))
        .min_by_key(|(_, m)| m.priority(cfg))
        .map(|(i, _)| i);
    let lead = working.or_else(|| {
        members
            .iter()
            .enumerate()
            .filter(|(_, m)| eligible(cfg, m))
            .min_by_key(|(_, m)| {
                let in_sync = m.partner.state.contains(State::SYNCHRONIZATION);
                (!in_sync, m.priority(cfg))
            })
            .map(|(i, _)| i)
    });
    let chosen = lead.map(|i| (members[i].partner.system, members[i].partner.key));
    for m in members.iter_mut() {
        m.attached = eligible(cfg, m) && chosen == Some((m.partner.system, m.partner.key));
    }
    lead
}

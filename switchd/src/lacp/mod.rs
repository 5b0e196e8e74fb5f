//! The Link Aggregation Control Protocol (IEEE 802.1AX-2014 clause 6; 5 in
//! 802.1AX-2008, 43 in 802.3-2005) for one bond: a pure state machine
//! driven by time ([`Lacp::tick`], about every 100 ms, with a monotonic
//! millisecond clock) and LACPDUs ([`Lacp::receive`]). No sockets, clocks,
//! threads or logging: the engine feeds it and executes the [`Event`]s it
//! returns, which also makes it deterministic and testable by simulation
//! (`sim.rs`).
//!
//! It follows Open vSwitch's `lib/lacp.c`, the peer SPEC §8 must
//! interoperate with, in its simplifications of the standard's machines:
//! one aggregator per bond; the Receive machine kept as three states
//! (CURRENT, EXPIRED, DEFAULTED); Selection as in `select.rs`; no Mux
//! machine of its own (a member is attached or not, and usable when
//! attached and its partner is in sync); the Periodic and Transmit
//! machines as one per-member timer plus a need-to-transmit test. Where it
//! departs from `lib/lacp.c` it does so toward the standard, each time
//! commented where it happens: the partner is in sync only if its view of
//! us is right (recordPDU); Collecting and Distributing are set only on a
//! usable member (OVS also sets them while no partner is known at all);
//! Aggregation is always set (OVS clears it on a one-member bond); a
//! change of Collecting/Distributing is sent at once; a partner that newly
//! asks for fast LACPDUs gets one at once; at most three LACPDUs per
//! member per second (6.4.16); the clock is the caller's. One departure
//! is a fix: a member that has never heard a partner is not attached (OVS
//! attaches it, and so reports a bond "negotiated" for its first 3 s).
//!
//! Not here: `lacp_fallback_ab` (SPEC §8) is the engine's, which runs the
//! bond as active-backup while [`LacpStatus::partner`] is `None`; updelay
//! and downdelay likewise apply to the [`Event::Usable`] values.
//!
//! What it does, in the order of one run (every public method that changes
//! something ends with one):
//! 1. Receive machine timers (6.4.12): partner information not refreshed
//!    within the timeout we asked for (3 s fast, 90 s slow) expires: the
//!    member is out of sync and unusable at once, and we ask for fast
//!    LACPDUs; 3 s later it defaults (no partner).
//! 2. Selection (6.4.14, `select.rs`): which members are attached.
//! 3. Usability: an [`Event::Usable`] for each member whose usability
//!    changed.
//! 4. Transmission (6.4.13, 6.4.16): a member that may transmit (carrier
//!    up; an active actor, or a partner heard) sends when its periodic
//!    timer runs out — every second if the partner's Timeout bit asks for
//!    the short timeout (which is also so while its information is
//!    expired, so an active actor starts with fast LACPDUs), every 30 s
//!    otherwise — or at once when the partner's view of us is out of date
//!    (our state changed, or its last LACPDU showed stale information).
//!
//! Layout, imports going one way up this list: `types.rs` (public values,
//! re-exported here), `member.rs` (per-member variables and actions),
//! `select.rs` (selection), `mod.rs` (this file: the API and the run);
//! tests only: `sim.rs` (two or more bonds joined by cables, a fake
//! clock), `tests.rs`, `proptests.rs`.

mod member;
#[cfg(test)]
mod proptests;
mod select;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;
mod types;

use crate::wire::lacp;
pub use types::*;

use member::Member;

/// One bond's LACP entity. See the module doc.
#[derive(Debug, Clone)]
pub struct Lacp {
    actor: ActorConfig,
    /// Sorted by port number.
    members: Vec<Member>,
    /// Index of the member whose partner is the aggregator's partner.
    lead: Option<usize>,
    /// The latest time any call gave (the clock never goes back here).
    now: u64,
    events: Vec<Event>,
}

impl Lacp {
    /// A bond with no members.
    pub fn new(actor: ActorConfig) -> Self {
        Lacp {
            actor,
            members: Vec::new(),
            lead: None,
            now: 0,
            events: Vec::new(),
        }
    }

    /// The configuration in force.
    pub fn actor(&self) -> ActorConfig {
        self.actor
    }

    /// Changes the configuration. A new system, system priority or key
    /// makes what every partner knows of us wrong: partner information
    /// expires (as Open vSwitch does when a member's identity changes), so
    /// members leave the aggregation until their partners answer, which the
    /// LACPDU sent at once for the change makes them do. A new activity or
    /// timeout is sent at once too.
    pub fn set_actor(&mut self, actor: ActorConfig) {
        let old = std::mem::replace(&mut self.actor, actor);
        let identity = |a: &ActorConfig| (a.system, a.system_priority, a.key);
        if identity(&old) != identity(&actor) {
            self.expire_all_if_active_or_negotiated();
        }
        self.run();
    }

    /// Adds member `member` (its port number, 1 and up; 0 is ignored) with
    /// `port_priority`. It starts with carrier down (call
    /// [`Lacp::set_carrier`]) and without partner, and unusable (no event
    /// says so). An active actor, or a bond that already has a partner,
    /// starts it EXPIRED so that it asks for fast LACPDUs (Open vSwitch
    /// `lacp_member_register`). Adding a member that exists changes its
    /// port priority, which expires its partner information likewise.
    pub fn add_member(&mut self, member: u16, port_priority: u16) {
        if member == 0 {
            return;
        }
        let expire = self.actor.active || self.lead.is_some();
        let now = self.now;
        match self.members.binary_search_by_key(&member, |m| m.no) {
            Ok(i) => {
                let m = &mut self.members[i];
                if m.port_priority == port_priority {
                    return;
                }
                m.port_priority = port_priority;
                if expire {
                    m.set_expired(now);
                }
            }
            Err(i) => {
                let mut m = Member::new(member, port_priority);
                if expire {
                    m.set_expired(now);
                }
                self.members.insert(i, m);
                self.lead = None;
            }
        }
        self.run();
    }

    /// Removes a member; its queued events are dropped, the others reselect.
    pub fn remove_member(&mut self, member: u16) {
        let Some(i) = self.index(member) else { return };
        self.members.remove(i);
        self.events.retain(|e| e.member() != member);
        self.lead = None;
        self.run();
    }

    /// The member's carrier. Down: the member is unusable at once and its
    /// partner information expires (then defaults 3 s later); nothing is
    /// sent on it and LACPDUs received on it are ignored. Up: it expires
    /// likewise (we ask for fast LACPDUs) and, if it may transmit, sends
    /// one at once. As Open vSwitch, a passive actor's member whose partner
    /// was not current keeps its state.
    pub fn set_carrier(&mut self, member: u16, up: bool) {
        let (active, now) = (self.actor.active, self.now);
        let Some(i) = self.index(member) else { return };
        let m = &mut self.members[i];
        if m.carrier == up {
            return;
        }
        if m.rx == RxState::Current || active {
            m.set_expired(now);
        }
        m.carrier = up;
        if up {
            m.tx_at = now;
        }
        self.run();
    }

    /// Processes an LACPDU received on `member` at `now_ms`:
    /// `slow_protocols_payload` is the frame after its Ethernet header
    /// (see [`crate::wire::lacp::slow_protocols_payload`]). A valid LACPDU
    /// on a member whose carrier is up refreshes its partner information
    /// and is counted in `rx_lacpdus`; one on an unknown member or a member
    /// whose carrier is down is ignored (`Ok`), as Open vSwitch does.
    ///
    /// # Errors
    /// The [`LacpduError`] of [`crate::wire::lacp::parse`]; then nothing
    /// changes, not even the clock.
    pub fn receive(
        &mut self,
        member: u16,
        slow_protocols_payload: &[u8],
        now_ms: u64,
    ) -> Result<(), LacpduError> {
        let pdu = lacp::parse(slow_protocols_payload)?;
        self.now = self.now.max(now_ms);
        let (actor, now) = (self.actor, self.now);
        if let Some(m) = self.index(member).map(|i| &mut self.members[i]) {
            if m.carrier {
                let ours = m.actor_info(&actor);
                m.record(pdu.actor, pdu.partner, &ours, actor.fast, now);
            }
        }
        self.run();
        Ok(())
    }

    /// Time has passed: runs the timers and periodic transmission. Call it
    /// about every 100 ms with a monotonic clock; a time earlier than one
    /// already seen counts as that one.
    pub fn tick(&mut self, now_ms: u64) {
        self.now = self.now.max(now_ms);
        self.run();
    }

    /// Moves the events produced since the last call into `out`.
    pub fn drain_events(&mut self, out: &mut Vec<Event>) {
        out.append(&mut self.events);
    }

    /// Whether some member is usable: a partner in sync on an attached
    /// member (SPEC §8 `negotiated`).
    pub fn negotiated(&self) -> bool {
        self.members.iter().any(Member::usable)
    }

    /// Whether `member` is usable now (the value the last
    /// [`Event::Usable`] for it said); false for an unknown member.
    pub fn usable(&self, member: u16) -> bool {
        self.index(member).is_some_and(|i| self.members[i].usable())
    }

    /// The bond's status for `lacp-show`.
    pub fn status(&self) -> LacpStatus {
        let a = &self.actor;
        LacpStatus {
            actor: SystemInfo {
                system: a.system,
                priority: a.system_priority,
                key: a.key,
            },
            partner: self.lead.map(|i| {
                let p = &self.members[i].partner;
                SystemInfo {
                    system: p.system,
                    priority: p.system_priority,
                    key: p.key,
                }
            }),
            active: a.active,
            fast: a.fast,
            negotiated: self.negotiated(),
            members: self
                .members
                .iter()
                .map(|m| MemberStatus {
                    member: m.no,
                    port_priority: m.port_priority,
                    carrier: m.carrier,
                    rx_state: m.rx,
                    attached: m.attached,
                    actor_state: m.actor_info(a).state,
                    partner_state: m.partner.state,
                    partner_port: m.partner.port,
                    rx_lacpdus: m.rx_lacpdus,
                    tx_lacpdus: m.tx_lacpdus,
                    usable: m.usable(),
                })
                .collect(),
        }
    }

    fn index(&self, member: u16) -> Option<usize> {
        self.members.binary_search_by_key(&member, |m| m.no).ok()
    }

    /// Expires every member's partner information, if the actor is active
    /// or the bond has a partner (`lacp_member_register`'s condition).
    fn expire_all_if_active_or_negotiated(&mut self) {
        if self.actor.active || self.lead.is_some() {
            for m in &mut self.members {
                m.set_expired(self.now);
            }
        }
    }

    /// One run: timers, selection, usability events, transmissions (see
    /// the module doc).
    fn run(&mut self) {
        let Lacp {
            actor,
            members,
            lead,
            now,
            events,
        } = self;
        let now = *now;
        for m in members.iter_mut() {
            m.run_timer(now);
        }
        *lead = select::update_attached(actor, members);
        for m in members.iter_mut() {
            let usable = m.usable();
            if usable != m.reported_usable {
                m.reported_usable = usable;
                events.push(Event::Usable { member: m.no, usable });
            }
        }
        for m in members.iter_mut() {
            if !m.may_tx(actor.active) {
                continue;
            }
            let info = m.actor_info(actor);
            let due = now >= m.tx_at || member::needs_transmit(&info, &m.ntt_actor);
            if due && m.may_send_now(now) {
                let pdu = Lacpdu {
                    actor: info,
                    partner: m.partner,
                    collector_max_delay: 0,
                };
                events.push(Event::Transmit {
                    member: m.no,
                    frame: LacpduFrame::new(&pdu, actor.system),
                });
                m.sent(info, now);
            }
        }
    }
}

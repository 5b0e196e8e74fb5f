//! A simulator (tests only) of several [`Lacp`] bonds in one process,
//! joined member to member by cables. A frame a bond transmits on a member
//! is delivered at once to the `receive` of the member at the cable's other
//! end, in FIFO order, until nobody has anything left to say; [`Sim::tick`]
//! advances a fake millisecond clock by 100 ms and ticks every bond, as
//! the engine will. Everything is deterministic, so a failing case replays
//! exactly.
//!
//! It checks, after every delivery round, that the `Usable` events each
//! bond sent agree with its status, and it keeps a log of every frame
//! sent so that tests can count rates.

use std::collections::{HashMap, HashSet, VecDeque};

use super::{ActorConfig, Event, Lacp, DEFAULT_SYSTEM_PRIORITY};

/// One end of a cable: a member of a bond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct End {
    pub bond: usize,
    pub member: u16,
}

/// Shorthand for an [`End`].
pub(super) fn end(bond: usize, member: u16) -> End {
    End { bond, member }
}

/// The port priority the simulator gives members (Open vSwitch's default).
pub(super) const PORT_PRIORITY: u16 = 65535;

/// A configuration with system MAC 02:00:00:00:00:`n`, priority 65534, key 1.
pub(super) fn config(n: u8, active: bool, fast: bool) -> ActorConfig {
    ActorConfig {
        system: [0x02, 0, 0, 0, 0, n],
        system_priority: DEFAULT_SYSTEM_PRIORITY,
        key: 1,
        active,
        fast,
    }
}

/// Bound on the frames one delivery round may carry: the Transmit rate
/// limit makes a storm impossible, and this says so loudly if not.
const MAX_DELIVERIES: usize = 10_000;

#[derive(Debug, Default)]
pub(super) struct Sim {
    pub bonds: Vec<Lacp>,
    cables: Vec<(End, End)>,
    /// Simulated milliseconds.
    pub now: u64,
    /// Ends whose frames are lost (the far side stops hearing them while
    /// both carriers stay up: a peer that stops sending).
    pub muted: HashSet<End>,
    /// Usability as the events told it.
    pub usable: HashMap<End, bool>,
    /// Every frame sent: (time, end).
    pub sent: Vec<(u64, End)>,
    /// Every usability change: (time, end, usable).
    pub changes: Vec<(u64, End, bool)>,
}

impl Sim {
    /// A simulator with one bond per configuration and no cables.
    pub fn new(configs: &[ActorConfig]) -> Self {
        Sim {
            bonds: configs.iter().map(|c| Lacp::new(*c)).collect(),
            ..Sim::default()
        }
    }

    /// Joins `a` and `b` (adding the members if needed) and brings both
    /// carriers up.
    pub fn cable(&mut self, a: End, b: End) {
        self.cables.push((a, b));
        for e in [a, b] {
            self.bonds[e.bond].add_member(e.member, PORT_PRIORITY);
            self.bonds[e.bond].set_carrier(e.member, true);
        }
        self.pump();
    }

    /// `n` cables between members 1..=n of bonds `a` and `b`.
    pub fn cables(&mut self, a: usize, b: usize, n: u16) {
        for m in 1..=n {
            self.cable(end(a, m), end(b, m));
        }
    }

    /// The end at the other side of `e`'s cable.
    pub fn peer(&self, e: End) -> Option<End> {
        self.cables.iter().find_map(|&(a, b)| match e {
            _ if e == a => Some(b),
            _ if e == b => Some(a),
            _ => None,
        })
    }

    /// Sets the carrier of one end only (the other end keeps its own).
    pub fn set_carrier(&mut self, e: End, up: bool) {
        self.bonds[e.bond].set_carrier(e.member, up);
        self.pump();
    }

    /// Changes a bond's configuration.
    pub fn set_actor(&mut self, bond: usize, cfg: ActorConfig) {
        self.bonds[bond].set_actor(cfg);
        self.pump();
    }

    /// 100 ms pass.
    pub fn tick(&mut self) {
        self.now += 100;
        let now = self.now;
        for b in &mut self.bonds {
            b.tick(now);
        }
        self.pump();
    }

    /// Ticks for `ms` milliseconds.
    pub fn run_for(&mut self, ms: u64) {
        let until = self.now + ms;
        while self.now < until {
            self.tick();
        }
    }

    /// Ticks until `done` holds (checked before each tick), at most `ms`
    /// milliseconds; the time it took, if it did.
    pub fn run_until(&mut self, ms: u64, mut done: impl FnMut(&Sim) -> bool) -> Option<u64> {
        let start = self.now;
        loop {
            if done(self) {
                return Some(self.now - start);
            }
            if self.now - start >= ms {
                return None;
            }
            self.tick();
        }
    }

    /// Whether `e` is usable (by the events).
    pub fn is_usable(&self, e: End) -> bool {
        self.usable.get(&e).copied().unwrap_or(false)
    }

    /// Whether every member of `bond` is usable.
    pub fn all_usable(&self, bond: usize) -> bool {
        let s = self.bonds[bond].status();
        !s.members.is_empty() && s.members.iter().all(|m| self.is_usable(end(bond, m.member)))
    }

    /// Frames `e` sent in [from, to).
    pub fn frames_from(&self, e: End, from: u64, to: u64) -> usize {
        self.sent
            .iter()
            .filter(|&&(t, s)| s == e && t >= from && t < to)
            .count()
    }

    /// Drains every bond's events and delivers frames until all is quiet.
    pub fn pump(&mut self) {
        let mut queue = VecDeque::new();
        let mut delivered = 0;
        let mut events = Vec::new();
        loop {
            for bond in 0..self.bonds.len() {
                self.bonds[bond].drain_events(&mut events);
                for ev in events.drain(..) {
                    let e = end(bond, ev.member());
                    match ev {
                        Event::Usable { usable, .. } => {
                            let was = self.usable.insert(e, usable).unwrap_or(false);
                            assert_ne!(was, usable, "{e:?}: a Usable event that changes nothing");
                            self.changes.push((self.now, e, usable));
                        }
                        Event::Transmit { frame, .. } => {
                            self.sent.push((self.now, e));
                            if let Some(p) = self.peer(e).filter(|_| !self.muted.contains(&e)) {
                                queue.push_back((p, frame));
                            }
                        }
                    }
                }
            }
            let Some((to, frame)) = queue.pop_front() else {
                break;
            };
            delivered += 1;
            assert!(delivered < MAX_DELIVERIES, "LACPDU storm at {} ms", self.now);
            let now = self.now;
            self.bonds[to.bond]
                .receive(to.member, frame.payload(), now)
                .expect("the simulator only carries valid LACPDUs");
        }
        self.check_usable();
    }

    /// The events told the same as the status.
    fn check_usable(&self) {
        for (bond, b) in self.bonds.iter().enumerate() {
            let s = b.status();
            for m in &s.members {
                let e = end(bond, m.member);
                assert_eq!(
                    m.usable,
                    self.is_usable(e),
                    "{e:?} at {} ms: status vs events",
                    self.now
                );
                assert_eq!(m.usable, b.usable(m.member));
            }
            assert_eq!(s.negotiated, s.members.iter().any(|m| m.usable));
        }
    }
}

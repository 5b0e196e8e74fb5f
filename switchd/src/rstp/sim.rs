//! A simulator (tests only) of several [`Rstp`] bridges in one process,
//! wired by point-to-point links. Each link joins two (bridge, port) ends;
//! a BPDU a bridge transmits on a port is delivered at once to the other
//! end's `receive`, in FIFO order, until nobody has anything left to say;
//! [`Sim::tick`] is one second for every bridge. Everything is
//! deterministic, so a failing case replays exactly.
//!
//! It also judges the outcome: [`Sim::check_tree`] wants every bridge to
//! agree on the lowest bridge id of its connected component as root, and
//! the links forwarding at both ends to form a spanning tree of each
//! component; [`Sim::converge`] wants that to last; [`Sim::check_loop_free`]
//! (after every delivery when `check_loops` is set) only wants no cycle
//! among the forwarding links.

use std::collections::{HashMap, VecDeque};

use super::{BridgeId, BridgeParams, Event, PortParams, PortState, Rstp};

/// One end of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct End {
    pub bridge: usize,
    pub port: u16,
}

#[derive(Debug, Clone)]
pub(super) struct Link {
    pub a: End,
    pub b: End,
    pub up: bool,
    /// operPointToPointMAC of both ends (false: a shared LAN).
    pub p2p: bool,
}

/// Seconds a tree must stay valid to count as converged.
pub(super) const STABLE: u64 = 10;

#[derive(Debug, Default)]
pub(super) struct Sim {
    pub bridges: Vec<Rstp>,
    pub links: Vec<Link>,
    /// Simulated seconds so far.
    pub now: u64,
    /// Every event: (second, bridge, event).
    pub log: Vec<(u64, usize, Event)>,
    /// Check after every delivery that no forwarding loop exists.
    pub check_loops: bool,
    /// Port states as the State events told them.
    states: HashMap<End, PortState>,
    next_port: Vec<u16>,
}

/// Union-find over bridge indexes.
struct Sets(Vec<usize>);

impl Sets {
    fn new(n: usize) -> Self {
        Sets((0..n).collect())
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }

    /// Joins the sets of `a` and `b`; false if they were one already.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        self.0[ra] = rb;
        ra != rb
    }
}

/// A locally administered MAC whose last bytes are `n`.
pub(super) fn mac(n: u32) -> [u8; 6] {
    let [a, b, c, d] = n.to_be_bytes();
    [0x02, 0, a, b, c, d]
}

impl Sim {
    pub fn new() -> Self {
        Sim::default()
    }

    pub fn add_bridge(&mut self, mac: [u8; 6], params: BridgeParams) -> usize {
        self.bridges.push(Rstp::new(mac, params));
        self.next_port.push(1);
        self.bridges.len() - 1
    }

    /// Links `a` and `b` (possibly the same bridge) through a new port on
    /// each, with default port parameters; returns the link's index.
    pub fn link(&mut self, a: usize, b: usize) -> usize {
        self.link_with(a, b, PortParams::default())
    }

    pub fn link_with(&mut self, a: usize, b: usize, params: PortParams) -> usize {
        self.connect(a, b, params, true)
    }

    /// Like [`Sim::link_with`], but the ports see a shared (not
    /// point-to-point) LAN, where RSTP makes no rapid transitions.
    pub fn link_shared(&mut self, a: usize, b: usize, params: PortParams) -> usize {
        self.connect(a, b, params, false)
    }

    fn connect(&mut self, a: usize, b: usize, params: PortParams, p2p: bool) -> usize {
        let l = self.add_link(a, b, params, p2p);
        self.restore(l);
        l
    }

    /// A new link whose carrier is still down (see [`Sim::power_on`]).
    pub fn add_link(&mut self, a: usize, b: usize, params: PortParams, p2p: bool) -> usize {
        let ends = [a, b].map(|bridge| {
            let port = self.next_port[bridge];
            self.next_port[bridge] += 1;
            self.bridges[bridge].add_port(port, params);
            End { bridge, port }
        });
        self.links.push(Link {
            a: ends[0],
            b: ends[1],
            up: false,
            p2p,
        });
        self.links.len() - 1
    }

    /// Carrier comes up on every link at the same instant, before any BPDU
    /// is exchanged: a cold start of the whole network.
    pub fn power_on(&mut self) {
        for l in 0..self.links.len() {
            let Link { a, b, p2p, .. } = self.links[l];
            self.links[l].up = true;
            self.bridges[a.bridge].set_link(a.port, true, p2p);
            self.bridges[b.bridge].set_link(b.port, true, p2p);
        }
        self.pump();
    }

    /// A new admin edge port on `bridge`, up, with no bridge behind it.
    pub fn edge_port(&mut self, bridge: usize) -> u16 {
        let port = self.next_port[bridge];
        self.next_port[bridge] += 1;
        let edge = PortParams {
            admin_edge: true,
            ..PortParams::default()
        };
        self.bridges[bridge].add_port(port, edge);
        self.bridges[bridge].set_link(port, true, true);
        self.pump();
        port
    }

    /// Carrier goes down on both ends.
    pub fn cut(&mut self, l: usize) {
        self.set_link(l, false);
    }

    /// Carrier comes back on both ends.
    pub fn restore(&mut self, l: usize) {
        self.set_link(l, true);
    }

    fn set_link(&mut self, l: usize, up: bool) {
        let Link { a, b, p2p, .. } = self.links[l];
        self.links[l].up = up;
        self.bridges[a.bridge].set_link(a.port, up, p2p);
        self.bridges[b.bridge].set_link(b.port, up, p2p);
        self.pump();
    }

    /// One second passes on every bridge.
    pub fn tick(&mut self) {
        self.now += 1;
        for b in &mut self.bridges {
            b.tick();
        }
        self.pump();
    }

    pub fn run(&mut self, secs: u64) {
        for _ in 0..secs {
            self.tick();
        }
    }

    pub fn set_params(&mut self, bridge: usize, params: BridgeParams) {
        self.bridges[bridge].set_params(params);
        self.pump();
    }

    fn peer(&self, end: End) -> Option<End> {
        self.links.iter().filter(|l| l.up).find_map(|l| {
            if l.a == end {
                Some(l.b)
            } else if l.b == end {
                Some(l.a)
            } else {
                None
            }
        })
    }

    /// Delivers BPDUs until every bridge is quiet.
    pub fn pump(&mut self) {
        let mut queue = VecDeque::new();
        let mut delivered = 0u32;
        loop {
            for bridge in 0..self.bridges.len() {
                let mut events = Vec::new();
                self.bridges[bridge].drain_events(&mut events);
                for e in events {
                    match &e {
                        Event::Transmit { port, frame } => {
                            if let Some(to) = self.peer(End { bridge, port: *port }) {
                                queue.push_back((to, *frame));
                            }
                        }
                        Event::State { port, state } => {
                            self.states.insert(End { bridge, port: *port }, *state);
                        }
                        Event::Flush { .. } => {}
                    }
                    self.log.push((self.now, bridge, e));
                }
            }
            if self.check_loops {
                if let Err(e) = self.check_loop_free() {
                    panic!("at {} s: {e}", self.now);
                }
            }
            let Some((to, frame)) = queue.pop_front() else {
                break;
            };
            let result = self.bridges[to.bridge].receive(to.port, frame.llc_payload());
            assert_eq!(
                result,
                Ok(()),
                "bridge {} port {} refused {frame:?}",
                to.bridge,
                to.port
            );
            delivered += 1;
            assert!(delivered < 100_000, "BPDU storm at {} s", self.now);
        }
        // The State events told the same story as port_state().
        for (bridge, b) in self.bridges.iter().enumerate() {
            for p in b.status().ports {
                let told = self.states.get(&End {
                    bridge,
                    port: p.port_no,
                });
                assert_eq!(
                    told.copied().unwrap_or(PortState::Discarding),
                    p.state,
                    "bridge {bridge} port {}",
                    p.port_no
                );
            }
        }
    }

    pub fn state(&self, end: End) -> PortState {
        self.bridges[end.bridge].port_state(end.port)
    }

    fn forwarding(&self, l: &Link) -> bool {
        l.up && self.state(l.a) == PortState::Forwarding && self.state(l.b) == PortState::Forwarding
    }

    /// No cycle among the links that forward at both ends.
    pub fn check_loop_free(&self) -> Result<(), String> {
        let mut sets = Sets::new(self.bridges.len());
        for (i, l) in self.links.iter().enumerate() {
            if self.forwarding(l) && !sets.union(l.a.bridge, l.b.bridge) {
                return Err(format!("link {i} {l:?} closes a forwarding loop"));
            }
        }
        Ok(())
    }

    /// Every bridge has the lowest bridge id of its component as root, and
    /// the links forwarding at both ends are a spanning tree of each
    /// component.
    pub fn check_tree(&self) -> Result<(), String> {
        let n = self.bridges.len();
        let mut components = Sets::new(n);
        for l in self.links.iter().filter(|l| l.up) {
            components.union(l.a.bridge, l.b.bridge);
        }
        let mut lowest: HashMap<usize, BridgeId> = HashMap::new();
        for (i, b) in self.bridges.iter().enumerate() {
            let c = components.find(i);
            let id = b.bridge_id();
            lowest
                .entry(c)
                .and_modify(|low| *low = (*low).min(id))
                .or_insert(id);
        }
        for (i, b) in self.bridges.iter().enumerate() {
            let want = lowest[&components.find(i)];
            let root = b.status().root_id;
            if root != want {
                return Err(format!(
                    "bridge {i} has root {root}, its component's lowest id is {want}"
                ));
            }
        }
        self.check_loop_free()?;
        let mut tree = Sets::new(n);
        for l in self.links.iter().filter(|l| self.forwarding(l)) {
            tree.union(l.a.bridge, l.b.bridge);
        }
        for i in 0..n {
            for j in i + 1..n {
                if components.find(i) == components.find(j) && tree.find(i) != tree.find(j) {
                    return Err(format!(
                        "bridges {i} and {j} are not connected by forwarding links"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Ticks until [`Sim::check_tree`] has held for [`STABLE`] seconds in
    /// a row, and returns the second (from now) when that began, which
    /// must be at most `max_secs`. A valid tree is not enough: after a
    /// change, stale information can still be circulating (see the
    /// property test) and undo it.
    pub fn converge(&mut self, max_secs: u64) -> Result<u64, String> {
        let start = self.now;
        let mut since = None;
        loop {
            match self.check_tree() {
                Ok(()) => {
                    let s = *since.get_or_insert(self.now);
                    if self.now - s >= STABLE {
                        return Ok(s - start);
                    }
                }
                Err(e) => {
                    since = None;
                    if self.now - start >= max_secs {
                        return Err(format!("no stable tree within {max_secs} s: {e}"));
                    }
                }
            }
            self.tick();
        }
    }

    /// The events of `bridge` logged since `since` (an index into `log`).
    pub fn events_of(&self, bridge: usize, since: usize) -> Vec<Event> {
        self.log[since..]
            .iter()
            .filter(|(_, b, _)| *b == bridge)
            .map(|(_, _, e)| e.clone())
            .collect()
    }
}

//! The Rapid Spanning Tree Protocol (IEEE 802.1D-2004 clause 17, with the
//! STP compatibility of 17.4) for one bridge: a pure state machine driven by
//! time ([`Rstp::tick`], one call per second) and messages
//! ([`Rstp::receive`]). No sockets, clocks, threads or logging: the engine
//! feeds it and executes the [`Event`]s it returns, which also makes it
//! deterministic and testable by simulation (`sim.rs`).
//!
//! Layout, so that a reviewer can hold each file against its clause:
//! - `mod.rs` (this file): the public API ([`Rstp`]), BEGIN (17.18.1) for
//!   a port, and the driver that runs every machine to a fixed point;
//! - `types.rs`: the values the API takes and returns (parameters, port
//!   states and roles, events, status) and the times of Table 17-1,
//!   re-exported here;
//! - `priority.rs`: priority vectors, port identifiers, timer sets, and
//!   the comparisons of 17.6;
//! - `bridge.rs`: the per-bridge variables (17.18);
//! - `port.rs`: the per-port variables (17.17 timers, 17.19) and the
//!   state each per-port machine stores;
//! - `machines.rs`: Port Timers (17.22), Port Receive (17.23), Port
//!   Protocol Migration (17.24), Bridge Detection (17.25), Port Transmit
//!   (17.26), Port State Transition (17.30), Topology Change (17.31);
//! - `info.rs`: Port Information (17.27) with rcvInfo and the record*
//!   procedures (17.21);
//! - `roles.rs`: Port Role Selection (17.28, updtRolesTree) and Port Role
//!   Transitions (17.29);
//! - `sim.rs`, `tests.rs`, `proptests.rs` (tests only): a simulator of
//!   bridges wired by links, directed tests, property tests.
//!
//! Imports go one way, up this list: `types.rs` and `priority.rs` import
//! no other file of `rstp/`; `bridge.rs` imports only them, `port.rs`
//! those three; the machine files import those and never each other;
//! `mod.rs` imports them all; the test files import `mod.rs` and each
//! other one way (`proptests.rs` uses `tests.rs`, both use `sim.rs`). No
//! file imports one that imports it back (`scripts/import-cycles.py
//! --strict`).
//!
//! How it runs: each public method changes some inputs (portEnabled, a
//! received BPDU, the timers, management parameters) and then calls `run`,
//! which steps every machine, each at most one transition per step, until
//! none moves. The standard's machines are concurrent and any interleaving
//! is allowed; this one is fixed (Role Selection, then per port: Receive,
//! Migration, Bridge Detection, Information, Role Transitions, State
//! Transition, Topology Change) so the output is deterministic. Port
//! Transmit runs once the others are still: its outputs (newInfo, txCount,
//! tcAck, helloWhen) are read by no other machine, so this is one of the
//! allowed interleavings, and the one that sends the fewest BPDUs, each
//! carrying the settled state.
//!
//! What the engine gets ([`Rstp::drain_events`]), per call, in this order:
//! port states that changed (net, so a port that went discarding and back
//! within one call reports nothing), MAC table flushes (`fdbFlush`, at most
//! one per port, and none for a port that has not learned since its last
//! flush), then BPDUs to send. Apply them in that order and before the next
//! call: the states are what makes an agreement sent in the same batch true.
//!
//! What the protocol promises, and what it does not (seen in `proptests.rs`
//! over thousands of random meshes): ports start discarding, so a new link
//! or a cold start never forwards around a loop, and a valid tree forms
//! within a second on point-to-point links. After a link loss or a priority
//! change, stale root information held in alternate ports can circulate
//! (RSTP's "count to infinity", ended by newer BPDUs or by Max Age, paced by
//! the Transmit Hold Count) and 802.1D-2004 allows brief forwarding loops
//! meanwhile; the tree settles within Max Age plus a few seconds.
//!
//! Simplifications, each commented where it applies: timers are whole
//! seconds; a flush is immediate in STP compatibility mode too (17.19.7
//! would age entries out in Forward Delay instead); the standard's known
//! slips are resolved as 802.1Q-2005 resolves them (recordDispute, TCN
//! handling in rcvInfo, forwardDelay in ALTERNATE_PORT, no updtInfo in
//! allSynced).

mod bridge;
mod info;
mod machines;
mod port;
mod priority;
#[cfg(test)]
mod proptests;
mod roles;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;
mod types;

use crate::wire::bpdu::{self, Bpdu, WireRole};
pub use types::*;

use bridge::Bridge;
use port::Port;

/// Bound on the rounds of one fixed-point run. One round steps every
/// machine of every port; a change settles in a few dozen rounds.
const MAX_ROUNDS: usize = 10_000;

/// BEGIN (17.18.1) for one port: its variables initialized (`Port::new`),
/// then every machine enters its initial state and runs its actions, in
/// the order of the clauses.
fn begin_port(no: u16, params: PortParams, b: &Bridge) -> Port {
    let mut p = Port::new(no, params, b);
    machines::begin_receive(&mut p);
    machines::begin_migration(b, &mut p);
    machines::begin_detection(&mut p);
    machines::begin_transmit(&mut p);
    info::begin(&mut p);
    roles::begin(&mut p);
    machines::begin_state(&mut p);
    machines::begin_tc(&mut p);
    p
}

/// One bridge's spanning tree protocol entity. See the module doc.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Rstp {
    bridge: Bridge,
    /// Sorted by port number.
    ports: Vec<Port>,
    /// Drained by the engine after every call; never handed over.
    #[serde(skip)]
    events: Vec<Event>,
}

impl Rstp {
    /// A bridge with address `bridge_mac` and no ports.
    pub fn new(bridge_mac: [u8; 6], params: BridgeParams) -> Self {
        Rstp {
            bridge: Bridge::new(bridge_mac, params.sanitized()),
            ports: Vec::new(),
            events: Vec::new(),
        }
    }

    /// The parameters in force (after clamping).
    pub fn params(&self) -> BridgeParams {
        self.bridge.params
    }

    /// This bridge's identifier.
    #[cfg(test)]
    pub fn bridge_id(&self) -> BridgeId {
        self.bridge.id
    }

    /// Changes the bridge parameters. A new priority or new timers make
    /// every port reselect its role (17.13); a new Force Protocol Version
    /// re-initializes the protocol entity, as BEGIN does (17.13).
    pub fn set_params(&mut self, params: BridgeParams) {
        let params = params.sanitized();
        let old = self.bridge.params;
        self.bridge.apply(params);
        if params.force_protocol_version != old.force_protocol_version {
            self.bridge.reset_root();
            for p in &mut self.ports {
                let fresh = begin_port(p.no, p.params, &self.bridge);
                p.reinitialize(fresh);
            }
        } else {
            for p in &mut self.ports {
                p.reselect = true;
                p.selected = false;
            }
            if self.ports.is_empty() {
                self.bridge.reset_root();
            }
        }
        self.run();
    }

    /// Adds port `port_no` (1-4095; it is the port number in the port
    /// identifier). The port starts disabled (link down) and discarding,
    /// without a [`Event::State`] for that. Adding a port that exists
    /// changes its parameters; port number 0 or above 4095 is ignored.
    pub fn add_port(&mut self, port_no: u16, params: PortParams) {
        if port_no == 0 || port_no > MAX_PORT_NO {
            return;
        }
        match self.ports.binary_search_by_key(&port_no, |p| p.no) {
            Ok(_) => self.set_port_params(port_no, params),
            Err(at) => {
                let port = begin_port(port_no, params.sanitized(), &self.bridge);
                self.ports.insert(at, port);
                self.run();
            }
        }
    }

    /// Removes a port; its queued events are dropped and the other ports
    /// reselect their roles.
    pub fn remove_port(&mut self, port_no: u16) {
        let Some(i) = self.index(port_no) else { return };
        self.ports.remove(i);
        self.events.retain(|e| e.port() != port_no);
        for p in &mut self.ports {
            p.reselect = true;
        }
        if self.ports.is_empty() {
            self.bridge.reset_root();
        }
        self.run();
    }

    /// Changes a port's parameters. A new priority or path cost makes the
    /// port reselect (17.13); a new AdminEdge takes effect at once (the
    /// standard's Bridge Detection machine would wait for the link to go
    /// down, which surprises a user who just set it).
    pub fn set_port_params(&mut self, port_no: u16, params: PortParams) {
        let Some(i) = self.index(port_no) else { return };
        let p = &mut self.ports[i];
        let (old, new) = (p.params, params.sanitized());
        p.params = new;
        if new.priority != old.priority || new.path_cost != old.path_cost {
            p.port_id = priority::port_id(new.priority, port_no);
            p.reselect = true;
            p.selected = false;
        }
        if new.admin_edge != old.admin_edge {
            machines::begin_detection(p);
        }
        self.run();
    }

    /// The port's carrier: `up` is MAC_Operational (portEnabled, 17.19.18),
    /// `point_to_point` operPointToPointMAC (6.4.3; rapid transitions need
    /// it). A port that goes down leaves the active topology at once.
    pub fn set_link(&mut self, port_no: u16, up: bool, point_to_point: bool) {
        let Some(i) = self.index(port_no) else { return };
        let p = &mut self.ports[i];
        p.port_enabled = up;
        p.oper_p2p = point_to_point;
        self.run();
    }

    /// Sets mcheck (17.19.13): the port sends RST BPDUs again for Migrate
    /// Time, to find out whether the STP bridges on its LAN are gone.
    /// Ignored when the bridge is forced to STP.
    #[cfg(test)]
    pub fn mcheck(&mut self, port_no: u16) {
        let rstp = self.bridge.rstp_version();
        let Some(i) = self.index(port_no) else { return };
        if rstp {
            self.ports[i].mcheck = true;
            self.run();
        }
    }

    /// Processes a BPDU received on `port_no`: `llc_payload` is what the
    /// 802.3 length field covers (see [`bpdu::llc_payload`]). A valid BPDU
    /// is counted in `rx_bpdus`; it is acted on if the port is up.
    ///
    /// # Errors
    /// The [`BpduError`] of [`bpdu::parse`], or [`BpduError::OwnBpdu`] for a
    /// configuration BPDU with this port's own identifiers (9.3.4 a); then
    /// nothing changes. A BPDU for an unknown port is ignored (`Ok`).
    pub fn receive(&mut self, port_no: u16, llc_payload: &[u8]) -> Result<(), BpduError> {
        let parsed = bpdu::parse(llc_payload)?;
        let own_id = self.bridge.id;
        let Some(i) = self.index(port_no) else {
            return Ok(());
        };
        let p = &mut self.ports[i];
        let parsed = match parsed {
            Bpdu::Config(m) if m.bridge == own_id && m.port == p.port_id => return Err(BpduError::OwnBpdu),
            // 9.2.9: an RST BPDU whose role is Unknown is treated as a
            // configuration BPDU.
            Bpdu::Rst { msg, .. } if msg.flags.role() == WireRole::Unknown => Bpdu::Config(msg),
            other => other,
        };
        p.rx_bpdus += 1;
        // rcvdBpdu (17.19.26) is consumed before any method returns, so it
        // is only still set if the port is down (Port Receive discards it).
        if p.port_enabled && !p.rcvd_bpdu {
            p.bpdu = parsed;
            p.rcvd_bpdu = true;
            self.run();
        }
        Ok(())
    }

    /// One second has passed (the Port Timers machine's tick, 17.22).
    pub fn tick(&mut self) {
        for p in &mut self.ports {
            machines::port_timers(p);
        }
        self.run();
    }

    /// Moves the events produced since the last call into `out`.
    pub fn drain_events(&mut self, out: &mut Vec<Event>) {
        out.append(&mut self.events);
    }

    /// The port's state. A port RSTP does not know is not under its
    /// control and reads as forwarding (SPEC §7: such ports forward).
    pub fn port_state(&self, port_no: u16) -> PortState {
        self.index(port_no)
            .map_or(PortState::Forwarding, |i| self.ports[i].state())
    }

    /// One port's status, if it exists.
    #[cfg(test)]
    pub fn port_status(&self, port_no: u16) -> Option<PortStatus> {
        self.index(port_no).map(|i| self.ports[i].status())
    }

    /// The whole bridge's status.
    pub fn status(&self) -> BridgeStatus {
        let b = &self.bridge;
        BridgeStatus {
            bridge_id: b.id,
            root_id: b.root_priority.root,
            root_port: self
                .ports
                .iter()
                .find(|p| b.root_port_id != 0 && p.port_id == b.root_port_id)
                .map(|p| p.no),
            root_path_cost: b.root_priority.root_path_cost,
            topology_changes: b.topology_changes,
            ports: self.ports.iter().map(Port::status).collect(),
        }
    }

    fn index(&self, port_no: u16) -> Option<usize> {
        self.ports.binary_search_by_key(&port_no, |p| p.no).ok()
    }

    /// Runs every state machine until none changes state, then Port
    /// Transmit, then reports what changed as events.
    fn run(&mut self) {
        let Rstp {
            bridge: b,
            ports,
            events,
        } = self;
        let mut rounds = 0;
        loop {
            let mut changed = roles::role_selection(b, ports);
            for i in 0..ports.len() {
                changed |= machines::port_receive(&mut ports[i]);
                changed |= machines::protocol_migration(b, &mut ports[i]);
                changed |= machines::bridge_detection(&mut ports[i]);
                changed |= info::port_information(b, &mut ports[i]);
                changed |= roles::role_transitions(b, ports, i);
                changed |= machines::port_state_transition(&mut ports[i]);
                changed |= machines::topology_change(b, ports, i);
            }
            if !changed {
                break;
            }
            rounds += 1;
            debug_assert!(
                rounds < MAX_ROUNDS,
                "RSTP machines did not settle in {MAX_ROUNDS} rounds"
            );
            if rounds >= MAX_ROUNDS {
                break;
            }
        }
        let mut transmits = Vec::new();
        for p in ports.iter_mut() {
            // Each step returns to IDLE; at most a periodic step and a send.
            for _ in 0..4 {
                if !machines::port_transmit(b, p, &mut transmits) {
                    break;
                }
            }
        }
        for p in ports.iter_mut() {
            let state = p.state();
            if state != p.reported {
                p.reported = state;
                p.dirty |= state != PortState::Discarding;
                events.push(Event::State { port: p.no, state });
            }
        }
        for p in ports.iter_mut() {
            if std::mem::take(&mut p.flush_pending) {
                if p.dirty {
                    events.push(Event::Flush { port: p.no });
                }
                // A port that still learns is dirty again at once.
                p.dirty = p.reported != PortState::Discarding;
            }
        }
        events.append(&mut transmits);
    }
}

//! The Rapid Spanning Tree Protocol (IEEE 802.1D-2004 clause 17, with the
//! STP compatibility of 17.4) for one bridge: a pure state machine driven by
//! time ([`Rstp::tick`], one call per second) and messages
//! ([`Rstp::receive`]). No sockets, clocks, threads or logging: the engine
//! feeds it and executes the [`Event`]s it returns, which also makes it
//! deterministic and testable by simulation (`sim.rs`).
//!
//! Layout, so that a reviewer can hold each file against its clause:
//! - `mod.rs` (this file): the public API, the per-bridge variables
//!   (17.18) and the driver that runs every machine to a fixed point;
//! - `priority.rs`: priority vectors, port identifiers, timer sets, and
//!   the comparisons of 17.6;
//! - `port.rs`: the per-port variables (17.17 timers, 17.19) and BEGIN;
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

use std::fmt;

use crate::wire::bpdu::{self, Bpdu, WireRole};
pub use crate::wire::bpdu::{BpduError, BpduFrame, BridgeId};

use port::Port;
use priority::{PriorityVector, Times};

/// Hello Time: 2 s, fixed by 802.1D-2004 (17.13, Table 17-1).
pub const HELLO_TIME: u8 = 2;
/// Migrate Time: 3 s (Table 17-1), how long a port keeps its BPDU version
/// after a change, and the edge delay of a point-to-point port.
pub const MIGRATE_TIME: u8 = 3;
/// Highest port number a port identifier can carry (12 bits).
pub const MAX_PORT_NO: u16 = 4095;
/// Bound on the rounds of one fixed-point run. One round steps every
/// machine of every port; a change settles in a few dozen rounds.
const MAX_ROUNDS: usize = 10_000;

/// Management parameters of the bridge (17.13). Out-of-range values are
/// clamped (the control plane validates them first, SPEC §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgeParams {
    /// Bridge priority, 0-61440 in steps of 4096 (low 12 bits dropped).
    pub priority: u16,
    /// Max Age, 6-40 s.
    pub max_age: u8,
    /// Forward Delay, 4-30 s.
    pub forward_delay: u8,
    /// Transmit Hold Count: BPDUs a port may send in a burst, 1-10.
    pub transmit_hold_count: u8,
    /// Force Protocol Version: 0 sends only STP BPDUs and makes no rapid
    /// transitions (17.4); 2 (or more) is RSTP.
    pub force_protocol_version: u8,
}

impl Default for BridgeParams {
    fn default() -> Self {
        BridgeParams {
            priority: 32768,
            max_age: 20,
            forward_delay: 15,
            transmit_hold_count: 6,
            force_protocol_version: 2,
        }
    }
}

impl BridgeParams {
    fn sanitized(self) -> Self {
        BridgeParams {
            priority: self.priority & 0xf000,
            max_age: self.max_age.clamp(6, 40),
            forward_delay: self.forward_delay.clamp(4, 30),
            transmit_hold_count: self.transmit_hold_count.clamp(1, 10),
            force_protocol_version: if self.force_protocol_version >= 2 { 2 } else { 0 },
        }
    }
}

/// Management parameters of one port (17.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortParams {
    /// Port priority, 0-240 in steps of 16 (low 4 bits dropped).
    pub priority: u8,
    /// Port Path Cost, 1-200000000 (0 is read as 1).
    pub path_cost: u32,
    /// AdminEdge: the port starts as an edge port (17.13.1).
    pub admin_edge: bool,
    /// AutoEdge: a designated port that hears no BPDU becomes edge (17.13.3).
    pub auto_edge: bool,
}

impl Default for PortParams {
    fn default() -> Self {
        PortParams {
            priority: 128,
            path_cost: 20000,
            admin_edge: false,
            auto_edge: true,
        }
    }
}

impl PortParams {
    fn sanitized(self) -> Self {
        PortParams {
            priority: self.priority & 0xf0,
            path_cost: self.path_cost.clamp(1, 200_000_000),
            ..self
        }
    }
}

/// What the forwarding plane may do with a port's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortState {
    /// Neither forward nor learn.
    Discarding,
    /// Learn source addresses, do not forward.
    Learning,
    /// Forward and learn.
    Forwarding,
}

impl PortState {
    /// Lower-case name, as `rstp-show` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            PortState::Discarding => "discarding",
            PortState::Learning => "learning",
            PortState::Forwarding => "forwarding",
        }
    }
}

impl fmt::Display for PortState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A port's role in the active topology (17.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortRole {
    /// Towards the root bridge.
    Root,
    /// Away from the root, for its LAN.
    Designated,
    /// An alternative path to the root, blocked.
    Alternate,
    /// A second attachment to a LAN this bridge is designated for, blocked.
    Backup,
    /// Not part of the active topology (link down).
    Disabled,
}

impl PortRole {
    /// Lower-case name, as `rstp-show` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            PortRole::Root => "root",
            PortRole::Designated => "designated",
            PortRole::Alternate => "alternate",
            PortRole::Backup => "backup",
            PortRole::Disabled => "disabled",
        }
    }

    /// The Port Role field of an RST BPDU (9.2.9).
    fn wire(self) -> WireRole {
        match self {
            PortRole::Root => WireRole::Root,
            PortRole::Designated => WireRole::Designated,
            PortRole::Alternate | PortRole::Backup => WireRole::AlternateOrBackup,
            PortRole::Disabled => WireRole::Unknown,
        }
    }
}

impl fmt::Display for PortRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which BPDUs a port sends (sendRSTP, 17.19.38).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// RST BPDUs.
    Rstp,
    /// Configuration and TCN BPDUs (an STP bridge is attached, or the
    /// bridge is forced to protocol version 0).
    Stp,
}

impl Protocol {
    /// Lower-case name, as `rstp-show` prints it.
    #[cfg(test)]
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Rstp => "rstp",
            Protocol::Stp => "stp",
        }
    }
}

/// Something the engine must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Send this BPDU frame on the port. The source MAC is the bridge's;
    /// [`BpduFrame::set_source`] puts the port's own in if it has one.
    Transmit {
        /// Port number.
        port: u16,
        /// The whole Ethernet frame.
        frame: BpduFrame,
    },
    /// The port's state changed.
    State {
        /// Port number.
        port: u16,
        /// New state.
        state: PortState,
    },
    /// Forget the MAC entries learned on this port (fdbFlush, 17.19.7).
    Flush {
        /// Port number.
        port: u16,
    },
}

impl Event {
    /// The port the event is about.
    pub fn port(&self) -> u16 {
        match self {
            Event::Transmit { port, .. } | Event::State { port, .. } | Event::Flush { port } => *port,
        }
    }
}

/// The bridge as `rstp-show` presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeStatus {
    /// This bridge's identifier.
    pub bridge_id: BridgeId,
    /// The root bridge's identifier.
    pub root_id: BridgeId,
    /// The root port's number; `None` on the root bridge.
    pub root_port: Option<u16>,
    /// Cost of the path to the root.
    pub root_path_cost: u32,
    /// Topology changes detected or received, all ports (see
    /// [`PortStatus::topology_changes`]).
    pub topology_changes: u64,
    /// Every port, by port number.
    pub ports: Vec<PortStatus>,
}

/// One port as `rstp-show` presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortStatus {
    /// Port number.
    pub port_no: u16,
    /// Role.
    pub role: PortRole,
    /// State.
    pub state: PortState,
    /// Port Path Cost.
    pub path_cost: u32,
    /// Port identifier (priority and number).
    pub port_id: u16,
    /// The designated bridge of the port's LAN (this bridge when the port
    /// is designated).
    pub designated_bridge: BridgeId,
    /// operEdge.
    pub edge: bool,
    /// Valid BPDUs received.
    pub rx_bpdus: u64,
    /// BPDUs sent.
    pub tx_bpdus: u64,
    /// BPDU version in use.
    pub protocol: Protocol,
    /// Topology changes detected on this port (it became forwarding) or
    /// received on it: one per TCN, and one per BPDU with the TC flag that
    /// the port acts on (a neighbour repeats the flag while its tcWhile
    /// runs: HelloTime + 1 s from RSTP, Max Age + Forward Delay from an STP
    /// root).
    pub topology_changes: u64,
}

/// The per-bridge variables of 17.18 plus the management parameters.
#[derive(Debug, Clone)]
struct Bridge {
    /// The bridge address (MAC), also the source of its BPDUs.
    mac: [u8; 6],
    params: BridgeParams,
    /// BridgeIdentifier (17.18.2).
    id: BridgeId,
    /// BridgePriority (17.18.3): itself as root.
    priority: PriorityVector,
    /// BridgeTimes (17.18.4).
    times: Times,
    /// rootPortId (17.18.5); 0 when this bridge is the root.
    root_port_id: u16,
    /// rootPriority (17.18.6).
    root_priority: PriorityVector,
    /// rootTimes (17.18.7).
    root_times: Times,
    /// Topology changes detected or received.
    topology_changes: u64,
}

impl Bridge {
    fn new(mac: [u8; 6], params: BridgeParams) -> Self {
        let mut b = Bridge {
            mac,
            params,
            id: BridgeId::default(),
            priority: PriorityVector::default(),
            times: Times::default(),
            root_port_id: 0,
            root_priority: PriorityVector::default(),
            root_times: Times::default(),
            topology_changes: 0,
        };
        b.apply(params);
        b.reset_root();
        b
    }

    /// Takes new (sanitized) parameters into BridgeIdentifier,
    /// BridgePriority and BridgeTimes.
    fn apply(&mut self, params: BridgeParams) {
        self.params = params;
        self.id = BridgeId::new(params.priority, self.mac);
        self.priority = PriorityVector::of_bridge(self.id);
        self.times = Times {
            message_age: 0,
            max_age: params.max_age,
            hello_time: HELLO_TIME,
            forward_delay: params.forward_delay,
        };
    }

    /// The root information of a bridge that has heard nobody.
    fn reset_root(&mut self) {
        self.root_port_id = 0;
        self.root_priority = self.priority;
        self.root_times = self.times;
    }

    /// rstpVersion (17.20.11): Force Protocol Version is 2 or more.
    fn rstp_version(&self) -> bool {
        self.params.force_protocol_version >= 2
    }
}

/// One bridge's spanning tree protocol entity. See the module doc.
#[derive(Debug, Clone)]
pub struct Rstp {
    bridge: Bridge,
    /// Sorted by port number.
    ports: Vec<Port>,
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
    #[cfg(test)]
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
                p.reinitialize(&self.bridge);
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
                let port = Port::new(port_no, params.sanitized(), &self.bridge);
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
    #[cfg(test)]
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

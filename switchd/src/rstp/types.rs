//! The public values of the RSTP core: management parameters, port
//! states, roles and protocol versions, the events the engine executes,
//! the status `rstp-show` prints, the fixed times of 802.1D-2004
//! (Table 17-1), and the wire types the API speaks in (bridge
//! identifiers, BPDU frames and errors, from `wire::bpdu`). `mod.rs`
//! re-exports them all; the engine names them as `crate::rstp::X`.
//!
//! They live in a file of their own, importing nothing else of `rstp/`,
//! because every other file of the module uses them: the machines read
//! the parameters and roles, `Port` stores them, `Rstp` returns them.

use std::fmt;

use crate::wire::bpdu::WireRole;
pub use crate::wire::bpdu::{BpduError, BpduFrame, BridgeId};

/// Hello Time: 2 s, fixed by 802.1D-2004 (17.13, Table 17-1).
pub const HELLO_TIME: u8 = 2;
/// Migrate Time: 3 s (Table 17-1), how long a port keeps its BPDU version
/// after a change, and the edge delay of a point-to-point port.
pub const MIGRATE_TIME: u8 = 3;
/// Highest port number a port identifier can carry (12 bits).
pub const MAX_PORT_NO: u16 = 4095;

/// Management parameters of the bridge (17.13). Out-of-range values are
/// clamped (the control plane validates them first, SPEC §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    pub fn sanitized(self) -> Self {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    pub(super) fn sanitized(self) -> Self {
        PortParams {
            priority: self.priority & 0xf0,
            path_cost: self.path_cost.clamp(1, 200_000_000),
            ..self
        }
    }
}

/// What the forwarding plane may do with a port's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
    pub(super) fn wire(self) -> WireRole {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

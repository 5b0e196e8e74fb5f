//! The per-bridge variables of 17.18 (BridgeIdentifier, BridgePriority,
//! BridgeTimes, rootPortId, rootPriority, rootTimes) with the management
//! parameters they derive from, and rstpVersion (17.20.11).
//!
//! A file of its own, below the machines that read and write it (Role
//! Selection, Topology Change, ...) and `Rstp` that owns it, so that none
//! of them imports a file that imports it back.

use super::priority::{PriorityVector, Times};
use super::types::{BridgeId, BridgeParams, HELLO_TIME};

/// The per-bridge variables of 17.18 plus the management parameters.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Bridge {
    /// The bridge address (MAC), also the source of its BPDUs.
    pub mac: [u8; 6],
    pub params: BridgeParams,
    /// BridgeIdentifier (17.18.2).
    pub id: BridgeId,
    /// BridgePriority (17.18.3): itself as root.
    pub priority: PriorityVector,
    /// BridgeTimes (17.18.4).
    pub times: Times,
    /// rootPortId (17.18.5); 0 when this bridge is the root.
    pub root_port_id: u16,
    /// rootPriority (17.18.6).
    pub root_priority: PriorityVector,
    /// rootTimes (17.18.7).
    pub root_times: Times,
    /// Topology changes detected or received.
    pub topology_changes: u64,
}

impl Bridge {
    pub fn new(mac: [u8; 6], params: BridgeParams) -> Self {
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
    pub fn apply(&mut self, params: BridgeParams) {
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
    pub fn reset_root(&mut self) {
        self.root_port_id = 0;
        self.root_priority = self.priority;
        self.root_times = self.times;
    }

    /// rstpVersion (17.20.11): Force Protocol Version is 2 or more.
    pub fn rstp_version(&self) -> bool {
        self.params.force_protocol_version >= 2
    }
}

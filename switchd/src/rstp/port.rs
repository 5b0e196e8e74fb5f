//! One bridge port's protocol variables: the timers of 17.17, the
//! variables of 17.19, and the state each per-port machine stores (the
//! enums of those states are defined here too). The names are the
//! standard's in snake case (`rcvdInfoWhile` is `rcvd_info_while`), so the
//! machines read like the figures of clause 17.
//!
//! This file imports no machine: the machines (`info.rs`, `machines.rs`,
//! `roles.rs`) import it. So `Port::new` only initializes the variables;
//! BEGIN's actions (17.18.1), which call into every machine, are run by
//! `begin_port` in `mod.rs`.

use super::bridge::Bridge;
use super::priority::{port_id, PriorityVector, Times};
use super::types::{PortParams, PortRole, PortState, PortStatus, Protocol, MIGRATE_TIME};
use crate::wire::bpdu::Bpdu;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Port {
    /// Port number (1-4095).
    pub no: u16,
    pub params: PortParams,
    /// portId (17.19.19).
    pub port_id: u16,
    /// portEnabled (17.19.18): the MAC is operational.
    pub port_enabled: bool,
    /// operPointToPointMAC (6.4.3).
    pub oper_p2p: bool,

    // Timers (17.17), whole seconds, decremented by Port Timers (17.22).
    pub edge_delay_while: u16,
    pub fd_while: u16,
    pub hello_when: u16,
    pub mdelay_while: u16,
    pub rb_while: u16,
    pub rcvd_info_while: u16,
    pub rr_while: u16,
    pub tc_while: u16,
    /// txCount (17.19.44), also decremented once a second.
    pub tx_count: u16,

    // Variables (17.19).
    pub agree: bool,
    pub agreed: bool,
    pub designated_priority: PriorityVector,
    pub designated_times: Times,
    pub disputed: bool,
    pub forward: bool,
    pub forwarding: bool,
    pub info_is: InfoIs,
    pub learn: bool,
    pub learning: bool,
    pub mcheck: bool,
    pub msg_priority: PriorityVector,
    pub msg_times: Times,
    pub new_info: bool,
    pub oper_edge: bool,
    pub port_priority: PriorityVector,
    pub port_times: Times,
    pub proposed: bool,
    pub proposing: bool,
    pub rcvd_bpdu: bool,
    pub rcvd_info: RcvdInfo,
    pub rcvd_msg: bool,
    pub rcvd_rstp: bool,
    pub rcvd_stp: bool,
    pub rcvd_tc: bool,
    pub rcvd_tc_ack: bool,
    pub rcvd_tcn: bool,
    pub re_root: bool,
    pub reselect: bool,
    pub role: PortRole,
    pub selected: bool,
    pub selected_role: PortRole,
    pub send_rstp: bool,
    pub sync: bool,
    pub synced: bool,
    pub tc_ack: bool,
    pub tc_prop: bool,
    pub updt_info: bool,
    /// The BPDU behind rcvdBpdu/rcvdMsg, read by rcvInfo (17.21.8).
    pub bpdu: Bpdu,

    // The state of each per-port machine.
    pub rx: RxState,
    pub migration: MigrationState,
    pub detection: DetectionState,
    pub info: InfoState,
    pub role_tr: RoleTrState,
    pub pst: PstState,
    pub tc: TcState,

    // Bookkeeping, outside the standard.
    pub rx_bpdus: u64,
    pub tx_bpdus: u64,
    pub topology_changes: u64,
    /// The state last reported to the engine.
    pub reported: PortState,
    /// The engine may have learned addresses on the port since its last
    /// flush, so a flush is worth an event.
    pub dirty: bool,
    /// fdbFlush (17.19.7) was set during this run. The filtering database
    /// flushes at once, so fdbFlush itself reads FALSE again immediately.
    pub flush_pending: bool,
}

// ---------------------------------------------------------------------
// What the per-port machines store: infoIs and rcvdInfo (17.19), and the
// state of each machine. A state whose only exit is unconditional is not
// stored (see each machine's file). Defined here, with the variables, so
// that this file needs no machine's.

/// infoIs (17.19.10): where the port priority vector came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum InfoIs {
    /// The port is disabled.
    Disabled,
    /// Received information has aged out (or never came).
    Aged,
    /// Derived from the bridge's own root information (the port is designated).
    Mine,
    /// Received from the designated bridge of the port's LAN.
    Received,
}

/// rcvdInfo (17.19.30), the verdict of rcvInfo (17.21.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum RcvdInfo {
    SuperiorDesignated,
    RepeatedDesignated,
    InferiorDesignated,
    InferiorRootAlternate,
    Other,
}

/// Port Receive (17.23): DISCARD, RECEIVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum RxState {
    Discard,
    Receive,
}

/// Port Protocol Migration (17.24): CHECKING_RSTP, SELECTING_STP, SENSING.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum MigrationState {
    CheckingRstp,
    SelectingStp,
    Sensing,
}

/// Bridge Detection (17.25): EDGE, NOT_EDGE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum DetectionState {
    Edge,
    NotEdge,
}

/// Port Information (17.27): DISABLED, AGED, CURRENT; UPDATE, RECEIVE and
/// the states RECEIVE leads to return to CURRENT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum InfoState {
    Disabled,
    Aged,
    Current,
}

/// The stored states of Port Role Transitions (17.29): DISABLE_PORT,
/// DISABLED_PORT, ROOT_PORT, DESIGNATED_PORT, BLOCK_PORT, ALTERNATE_PORT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum RoleTrState {
    Disable,
    Disabled,
    Root,
    Designated,
    Block,
    Alternate,
}

/// Port State Transition (17.30): DISCARDING, LEARNING, FORWARDING.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum PstState {
    Discarding,
    Learning,
    Forwarding,
}

/// Topology Change (17.31): INACTIVE, LEARNING, ACTIVE; the others return
/// to ACTIVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum TcState {
    Inactive,
    Learning,
    Active,
}

impl Port {
    /// A port's variables as BEGIN initializes them, every machine in its
    /// initial state; `begin_port` (mod.rs) then runs BEGIN's actions.
    pub fn new(no: u16, params: PortParams, b: &Bridge) -> Self {
        let id = port_id(params.priority, no);
        let mine = PriorityVector {
            designated_bridge: b.id,
            designated_port: id,
            ..b.root_priority
        };
        let times = Times {
            hello_time: b.times.hello_time,
            ..b.root_times
        };
        Port {
            no,
            params,
            port_id: id,
            port_enabled: false,
            oper_p2p: true,
            edge_delay_while: 0,
            fd_while: 0,
            hello_when: 0,
            mdelay_while: 0,
            rb_while: 0,
            rcvd_info_while: 0,
            rr_while: 0,
            tc_while: 0,
            tx_count: 0,
            agree: false,
            agreed: false,
            designated_priority: mine,
            designated_times: times,
            disputed: false,
            forward: false,
            forwarding: false,
            info_is: InfoIs::Disabled,
            learn: false,
            learning: false,
            mcheck: false,
            msg_priority: PriorityVector::default(),
            msg_times: Times::default(),
            new_info: false,
            oper_edge: false,
            port_priority: mine,
            port_times: times,
            proposed: false,
            proposing: false,
            rcvd_bpdu: false,
            rcvd_info: RcvdInfo::Other,
            rcvd_msg: false,
            rcvd_rstp: false,
            rcvd_stp: false,
            rcvd_tc: false,
            rcvd_tc_ack: false,
            rcvd_tcn: false,
            re_root: false,
            reselect: false,
            role: PortRole::Disabled,
            selected: false,
            // updtRoleDisabledTree (17.21.24), Port Role Selection's INIT_BRIDGE.
            selected_role: PortRole::Disabled,
            send_rstp: false,
            sync: false,
            synced: false,
            tc_ack: false,
            tc_prop: false,
            updt_info: false,
            bpdu: Bpdu::Tcn,
            rx: RxState::Discard,
            migration: MigrationState::CheckingRstp,
            detection: DetectionState::NotEdge,
            info: InfoState::Disabled,
            role_tr: RoleTrState::Disable,
            pst: PstState::Discarding,
            tc: TcState::Inactive,
            rx_bpdus: 0,
            tx_bpdus: 0,
            topology_changes: 0,
            reported: PortState::Discarding,
            dirty: false,
            flush_pending: false,
        }
    }

    /// BEGIN again for a running port (a new Force Protocol Version,
    /// 17.13): `fresh` is this port as BEGIN leaves it (`begin_port` in
    /// mod.rs); configuration, carrier, counters and what the engine was
    /// told are kept; the protocol starts over.
    pub fn reinitialize(&mut self, mut fresh: Port) {
        fresh.port_enabled = self.port_enabled;
        fresh.oper_p2p = self.oper_p2p;
        fresh.rx_bpdus = self.rx_bpdus;
        fresh.tx_bpdus = self.tx_bpdus;
        fresh.topology_changes = self.topology_changes;
        fresh.reported = self.reported;
        fresh.dirty = self.dirty;
        // BEGIN put Topology Change in INACTIVE, which flushes the port.
        *self = fresh;
    }

    /// FwdDelay (17.20.6): Forward Delay of designatedTimes.
    pub fn fwd_delay(&self) -> u16 {
        u16::from(self.designated_times.forward_delay)
    }

    /// HelloTime (17.20.7): Hello Time of designatedTimes.
    pub fn hello_time(&self) -> u16 {
        u16::from(self.designated_times.hello_time)
    }

    /// MaxAge (17.20.8): Max Age of designatedTimes.
    pub fn max_age(&self) -> u16 {
        u16::from(self.designated_times.max_age)
    }

    /// forwardDelay (17.20.5): HelloTime towards an RSTP neighbour (which
    /// answers a proposal within a hello), FwdDelay towards STP.
    pub fn forward_delay(&self) -> u16 {
        if self.send_rstp {
            self.hello_time()
        } else {
            self.fwd_delay()
        }
    }

    /// EdgeDelay (17.20.4): MigrateTime on a point-to-point link, MaxAge
    /// on a shared one.
    pub fn edge_delay(&self) -> u16 {
        if self.oper_p2p {
            u16::from(MIGRATE_TIME)
        } else {
            self.max_age()
        }
    }

    /// The state the Port State Transition machine has put the port in.
    pub fn state(&self) -> PortState {
        if self.forwarding {
            PortState::Forwarding
        } else if self.learning {
            PortState::Learning
        } else {
            PortState::Discarding
        }
    }

    pub fn status(&self) -> PortStatus {
        PortStatus {
            port_no: self.no,
            role: self.role,
            state: self.state(),
            path_cost: self.params.path_cost,
            port_id: self.port_id,
            designated_bridge: self.port_priority.designated_bridge,
            edge: self.oper_edge,
            rx_bpdus: self.rx_bpdus,
            tx_bpdus: self.tx_bpdus,
            protocol: if self.send_rstp {
                Protocol::Rstp
            } else {
                Protocol::Stp
            },
            topology_changes: self.topology_changes,
        }
    }
}

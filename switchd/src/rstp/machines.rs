//! The smaller per-port state machines: Port Timers (17.22), Port Receive
//! (17.23), Port Protocol Migration (17.24), Bridge Detection (17.25), Port
//! Transmit (17.26) with txConfig/txRstp/txTcn (17.21.19-21), Port State
//! Transition (17.30) and Topology Change (17.31).
//!
//! Each machine is a function that takes at most one transition and
//! returns whether it did; `Rstp::run` calls them until none does. A state
//! whose only exit is unconditional (UCT in the figures) is not stored:
//! entering it runs its actions and then enters the state it leads to.
//! The stored states are enums of port.rs (`RxState`, `MigrationState`,
//! ...), since `Port` holds them.
//! Entering a state runs its actions even when it is re-entered (a self
//! transition), as the figures' semantics say.

use super::bridge::Bridge;
use super::port::{DetectionState, MigrationState, Port, PstState, RxState, TcState};
use super::types::{Event, PortRole, MIGRATE_TIME};
use crate::wire::bpdu::{Bpdu, BpduFrame, ConfigMessage, Flags};

// ---------------------------------------------------------------------
// 17.22 Port Timers: once a second every running timer goes down by one.

pub(super) fn port_timers(p: &mut Port) {
    for timer in [
        &mut p.hello_when,
        &mut p.tc_while,
        &mut p.fd_while,
        &mut p.rcvd_info_while,
        &mut p.rr_while,
        &mut p.rb_while,
        &mut p.mdelay_while,
        &mut p.edge_delay_while,
        &mut p.tx_count,
    ] {
        *timer = timer.saturating_sub(1);
    }
}

// ---------------------------------------------------------------------
// 17.23 Port Receive: hands a received BPDU to Port Information (rcvdMsg)
// once that machine has finished with the previous one.

pub(super) fn begin_receive(p: &mut Port) {
    enter_receive(p, RxState::Discard);
}

pub(super) fn port_receive(p: &mut Port) -> bool {
    let migrate = u16::from(MIGRATE_TIME);
    let next = if (p.rcvd_bpdu || p.edge_delay_while != migrate) && !p.port_enabled {
        RxState::Discard
    } else {
        match p.rx {
            RxState::Discard if p.rcvd_bpdu && p.port_enabled => RxState::Receive,
            RxState::Receive if p.rcvd_bpdu && p.port_enabled && !p.rcvd_msg => RxState::Receive,
            _ => return false,
        }
    };
    enter_receive(p, next);
    true
}

fn enter_receive(p: &mut Port, s: RxState) {
    p.rx = s;
    match s {
        RxState::Discard => {
            p.rcvd_bpdu = false;
            p.rcvd_rstp = false;
            p.rcvd_stp = false;
            p.rcvd_msg = false;
            p.edge_delay_while = u16::from(MIGRATE_TIME);
        }
        RxState::Receive => {
            // updtBPDUVersion (17.21.22)
            match p.bpdu {
                Bpdu::Rst { .. } => p.rcvd_rstp = true,
                Bpdu::Config(_) | Bpdu::Tcn => p.rcvd_stp = true,
            }
            // Whoever sent a BPDU is a bridge: the port is not an edge.
            p.oper_edge = false;
            p.rcvd_bpdu = false;
            p.rcvd_msg = true;
            p.edge_delay_while = u16::from(MIGRATE_TIME);
        }
    }
}

// ---------------------------------------------------------------------
// 17.24 Port Protocol Migration: sendRSTP goes FALSE when an STP BPDU is
// heard (after the port has sent RST BPDUs for MigrateTime), and TRUE
// again on mcheck or when an RST BPDU is heard.

pub(super) fn begin_migration(b: &Bridge, p: &mut Port) {
    enter_migration(b, p, MigrationState::CheckingRstp);
}

pub(super) fn protocol_migration(b: &Bridge, p: &mut Port) -> bool {
    use MigrationState as S;
    let migrate = u16::from(MIGRATE_TIME);
    let next = match p.migration {
        S::CheckingRstp if p.mdelay_while == 0 => S::Sensing,
        S::CheckingRstp if p.mdelay_while != migrate && !p.port_enabled => S::CheckingRstp,
        S::SelectingStp if p.mdelay_while == 0 || !p.port_enabled || p.mcheck => S::Sensing,
        S::Sensing if !p.port_enabled || p.mcheck || (b.rstp_version() && !p.send_rstp && p.rcvd_rstp) => {
            S::CheckingRstp
        }
        S::Sensing if p.send_rstp && p.rcvd_stp => S::SelectingStp,
        _ => return false,
    };
    enter_migration(b, p, next);
    true
}

fn enter_migration(b: &Bridge, p: &mut Port, s: MigrationState) {
    p.migration = s;
    match s {
        MigrationState::CheckingRstp => {
            p.mcheck = false;
            p.send_rstp = b.rstp_version();
            p.mdelay_while = u16::from(MIGRATE_TIME);
        }
        MigrationState::SelectingStp => {
            p.send_rstp = false;
            p.mdelay_while = u16::from(MIGRATE_TIME);
        }
        MigrationState::Sensing => {
            p.rcvd_rstp = false;
            p.rcvd_stp = false;
        }
    }
}

// ---------------------------------------------------------------------
// 17.25 Bridge Detection: operEdge. AdminEdge sets it at BEGIN; AutoEdge
// sets it when a designated port has proposed for EdgeDelay and heard no
// BPDU (Port Receive clears it on every BPDU).

/// BEGIN for this machine; also run when AdminEdge changes.
pub(super) fn begin_detection(p: &mut Port) {
    let s = if p.params.admin_edge {
        DetectionState::Edge
    } else {
        DetectionState::NotEdge
    };
    enter_detection(p, s);
}

pub(super) fn bridge_detection(p: &mut Port) -> bool {
    let (admin, auto) = (p.params.admin_edge, p.params.auto_edge);
    let next = match p.detection {
        DetectionState::Edge if (!p.port_enabled && !admin) || !p.oper_edge => DetectionState::NotEdge,
        DetectionState::NotEdge
            if (!p.port_enabled && admin)
                || (p.edge_delay_while == 0 && auto && p.send_rstp && p.proposing) =>
        {
            DetectionState::Edge
        }
        _ => return false,
    };
    enter_detection(p, next);
    true
}

fn enter_detection(p: &mut Port, s: DetectionState) {
    p.detection = s;
    p.oper_edge = s == DetectionState::Edge;
}

// ---------------------------------------------------------------------
// 17.26 Port Transmit. Only IDLE is stored; TRANSMIT_PERIODIC/CONFIG/
// TCN/RSTP return to it unconditionally.

pub(super) fn begin_transmit(p: &mut Port) {
    // TRANSMIT_INIT, then IDLE.
    p.new_info = true;
    p.tx_count = 0;
    p.hello_when = p.hello_time();
}

/// One step of Port Transmit; a BPDU sent is pushed onto `out`.
pub(super) fn port_transmit(b: &Bridge, p: &mut Port, out: &mut Vec<Event>) -> bool {
    // allTransmitReady: every exit of IDLE needs selected && !updtInfo.
    // Beyond the standard: nothing is sent on a port that is down or has
    // no role yet (an RST BPDU cannot even encode the Disabled role).
    if !p.selected || p.updt_info || !p.port_enabled || p.role == PortRole::Disabled {
        return false;
    }
    let may_send = p.new_info && p.tx_count < u16::from(b.params.transmit_hold_count);
    if p.hello_when == 0 {
        // TRANSMIT_PERIODIC
        p.new_info =
            p.new_info || p.role == PortRole::Designated || (p.role == PortRole::Root && p.tc_while != 0);
    } else if p.send_rstp && may_send {
        // TRANSMIT_RSTP
        p.new_info = false;
        tx_rstp(b, p, out);
        p.tx_count += 1;
        p.tc_ack = false;
    } else if !p.send_rstp && may_send && p.role == PortRole::Root {
        // TRANSMIT_TCN
        p.new_info = false;
        send(b, p, &Bpdu::Tcn, out);
        p.tx_count += 1;
    } else if !p.send_rstp && may_send && p.role == PortRole::Designated {
        // TRANSMIT_CONFIG
        p.new_info = false;
        tx_config(b, p, out);
        p.tx_count += 1;
        p.tc_ack = false;
    } else {
        return false;
    }
    // IDLE
    p.hello_when = p.hello_time();
    true
}

/// The message every configuration and RST BPDU of this port carries:
/// designatedPriority and designatedTimes.
fn message(p: &Port) -> ConfigMessage {
    let mut m = ConfigMessage {
        root: p.designated_priority.root,
        root_path_cost: p.designated_priority.root_path_cost,
        bridge: p.designated_priority.designated_bridge,
        port: p.designated_priority.designated_port,
        ..ConfigMessage::default()
    };
    p.designated_times.write(&mut m);
    m
}

/// txConfig (17.21.19): only the TC and TC Ack flags.
fn tx_config(b: &Bridge, p: &mut Port, out: &mut Vec<Event>) {
    let mut m = message(p);
    // Root information whose Message Age has reached its Max Age (a root
    // that announced a Max Age below the allowed 6 s, one hop away) makes
    // a configuration BPDU that every receiver discards as expired
    // (9.3.4): 802.1D-1998's transmit procedure (8.6.1.3) and Linux's
    // br_transmit_config do not send it, nor does this. Found by fuzzing.
    if m.message_age >= m.max_age {
        return;
    }
    m.flags = Flags::default()
        .with(Flags::TC, p.tc_while != 0)
        .with(Flags::TC_ACK, p.tc_ack);
    send(b, p, &Bpdu::Config(m), out);
}

/// txRstp (17.21.20): role, agreement, proposal, TC, learning, forwarding;
/// TC Ack is always 0 in an RST BPDU.
fn tx_rstp(b: &Bridge, p: &mut Port, out: &mut Vec<Event>) {
    let mut m = message(p);
    m.flags = Flags::default()
        .with_role(p.role.wire())
        .with(Flags::AGREEMENT, p.agree)
        .with(Flags::PROPOSAL, p.proposing)
        .with(Flags::TC, p.tc_while != 0)
        .with(Flags::LEARNING, p.learning)
        .with(Flags::FORWARDING, p.forwarding);
    send(b, p, &Bpdu::Rst { version: 2, msg: m }, out);
}

fn send(b: &Bridge, p: &mut Port, bpdu: &Bpdu, out: &mut Vec<Event>) {
    p.tx_bpdus += 1;
    out.push(Event::Transmit {
        port: p.no,
        frame: BpduFrame::new(bpdu, b.mac),
    });
}

// ---------------------------------------------------------------------
// 17.30 Port State Transition: learning/forwarding follow learn/forward
// (disableLearning() etc. of 17.21.3-6 are the engine acting on the State
// events `Rstp::run` derives from these two flags).

pub(super) fn begin_state(p: &mut Port) {
    enter_state(p, PstState::Discarding);
}

pub(super) fn port_state_transition(p: &mut Port) -> bool {
    use PstState as S;
    let next = match p.pst {
        S::Discarding if p.learn => S::Learning,
        S::Learning if !p.learn => S::Discarding,
        S::Learning if p.forward => S::Forwarding,
        S::Forwarding if !p.forward => S::Discarding,
        _ => return false,
    };
    enter_state(p, next);
    true
}

fn enter_state(p: &mut Port, s: PstState) {
    p.pst = s;
    match s {
        PstState::Discarding => {
            p.learning = false;
            p.forwarding = false;
        }
        PstState::Learning => p.learning = true,
        PstState::Forwarding => p.forwarding = true,
    }
}

// ---------------------------------------------------------------------
// 17.31 Topology Change. Stored states: INACTIVE, LEARNING, ACTIVE; the
// others return to ACTIVE unconditionally. A non-edge root or designated
// port that becomes forwarding detects a change (DETECTED); a TC or TCN
// received on an ACTIVE port is propagated (NOTIFIED_TC); either sets
// tcProp on every other port, and each ACTIVE one flushes (PROPAGATING).
// Edge ports never reach ACTIVE, so they neither cause nor take flushes.

enum TcGo {
    Inactive,
    Learning,
    Detected,
    NotifiedTcn,
    NotifiedTc,
    Propagating,
    Acknowledged,
}

pub(super) fn begin_tc(p: &mut Port) {
    enter_inactive(p);
}

pub(super) fn topology_change(b: &mut Bridge, ports: &mut [Port], i: usize) -> bool {
    let p = &ports[i];
    let root_or_designated = matches!(p.role, PortRole::Root | PortRole::Designated);
    let notified = p.rcvd_tc || p.rcvd_tcn || p.rcvd_tc_ack || p.tc_prop;
    let go = match p.tc {
        // INACTIVE waits for learn && !fdbFlush; fdbFlush is never
        // pending here (the flush is immediate).
        TcState::Inactive if p.learn => TcGo::Learning,
        TcState::Inactive => return false,
        TcState::Learning => {
            // (role != RootPort) && (role != DesignatedPort) && !(learn ||
            // learning) && !(rcvdTc || rcvdTcn || rcvdTcAck || tcProp)
            if !(root_or_designated || p.learn || p.learning || notified) {
                TcGo::Inactive
            } else if notified {
                TcGo::Learning
            } else if root_or_designated && p.forward && !p.oper_edge {
                TcGo::Detected
            } else {
                return false;
            }
        }
        TcState::Active => {
            if !root_or_designated || p.oper_edge {
                TcGo::Learning
            } else if p.rcvd_tcn {
                TcGo::NotifiedTcn
            } else if p.rcvd_tc {
                TcGo::NotifiedTc
            } else if p.tc_prop && !p.oper_edge {
                TcGo::Propagating
            } else if p.rcvd_tc_ack {
                TcGo::Acknowledged
            } else {
                return false;
            }
        }
    };
    match go {
        TcGo::Inactive => enter_inactive(&mut ports[i]),
        TcGo::Learning => {
            let p = &mut ports[i];
            p.tc = TcState::Learning;
            p.rcvd_tc = false;
            p.rcvd_tcn = false;
            p.rcvd_tc_ack = false;
            p.tc_prop = false;
        }
        TcGo::Detected => {
            new_tc_while(b, &mut ports[i]);
            set_tc_prop_tree(ports, i);
            let p = &mut ports[i];
            p.new_info = true;
            p.topology_changes += 1;
            b.topology_changes += 1;
            p.tc = TcState::Active;
        }
        TcGo::NotifiedTcn | TcGo::NotifiedTc => {
            if let TcGo::NotifiedTcn = go {
                new_tc_while(b, &mut ports[i]);
            }
            let p = &mut ports[i];
            p.rcvd_tcn = false;
            p.rcvd_tc = false;
            if p.role == PortRole::Designated {
                p.tc_ack = true;
            }
            p.topology_changes += 1;
            b.topology_changes += 1;
            p.tc = TcState::Active;
            set_tc_prop_tree(ports, i);
        }
        TcGo::Propagating => {
            new_tc_while(b, &mut ports[i]);
            let p = &mut ports[i];
            p.flush_pending = true;
            p.tc_prop = false;
            p.tc = TcState::Active;
        }
        TcGo::Acknowledged => {
            let p = &mut ports[i];
            p.tc_while = 0;
            p.rcvd_tc_ack = false;
            p.tc = TcState::Active;
        }
    }
    true
}

fn enter_inactive(p: &mut Port) {
    p.tc = TcState::Inactive;
    p.flush_pending = true; // fdbFlush = TRUE
    p.tc_while = 0;
    p.tc_ack = false;
}

/// newTcWhile (17.21.7): start tcWhile if it is not running. Towards an
/// RSTP neighbour it runs HelloTime + 1 s and the change is announced at
/// once (newInfo); towards STP, for the Max Age + Forward Delay of
/// rootTimes, in the TCNs or TC flags of the regular BPDUs.
fn new_tc_while(b: &Bridge, p: &mut Port) {
    if p.tc_while != 0 {
        return;
    }
    if p.send_rstp {
        p.tc_while = p.hello_time() + 1;
        p.new_info = true;
    } else {
        p.tc_while = u16::from(b.root_times.max_age) + u16::from(b.root_times.forward_delay);
    }
}

/// setTcPropTree (17.21.18): tcProp on every port but the caller.
fn set_tc_prop_tree(ports: &mut [Port], caller: usize) {
    for (j, q) in ports.iter_mut().enumerate() {
        if j != caller {
            q.tc_prop = true;
        }
    }
}

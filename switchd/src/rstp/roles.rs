//! Port Role Selection (17.28) with updtRolesTree (17.21.25), the one
//! per-bridge machine, and Port Role Transitions (17.29), which moves each
//! port towards its selected role: the proposal/agreement handshake (sync,
//! synced, agree), the root port's reRoot protection of a recent root port,
//! and the rrWhile/rbWhile/fdWhile timers.
//!
//! Role Transitions stores (`RoleTrState`, defined in port.rs)
//! DISABLE_PORT, DISABLED_PORT, ROOT_PORT, DESIGNATED_PORT, BLOCK_PORT and
//! ALTERNATE_PORT; every other state returns to one of them
//! unconditionally. Every transition except those UCTs is qualified by
//! `selected && !updtInfo` (Figure 17-20), and the role-change transitions
//! are global within the machine.

use super::bridge::Bridge;
use super::port::{InfoIs, Port, RoleTrState};
use super::priority::{PriorityVector, Times};
use super::types::PortRole;

/// Runs ROLE_SELECTION when any port asks for it (reselect); INIT_BRIDGE's
/// updtRoleDisabledTree is done by `Port::new`.
pub(super) fn role_selection(b: &mut Bridge, ports: &mut [Port]) -> bool {
    if !ports.iter().any(|p| p.reselect) {
        return false;
    }
    // clearReselectTree (17.21.2)
    for p in ports.iter_mut() {
        p.reselect = false;
    }
    updt_roles_tree(b, ports);
    // setSelectedTree (17.21.16): no port has reselect set now.
    for p in ports.iter_mut() {
        p.selected = true;
    }
    true
}

/// updtRolesTree (17.21.25), letters as in the clause.
fn updt_roles_tree(b: &mut Bridge, ports: &mut [Port]) {
    let own = b.id.mac();
    // a), b): the best of the bridge priority vector and each port's root
    // path priority vector, the fifth component being the receiving port's
    // id. A vector whose designated bridge is this bridge (its own BPDU,
    // looped back through the network) is not a path to the root.
    let mut best = (b.priority, 0u16);
    let mut root = None;
    for (i, p) in ports.iter().enumerate() {
        if p.info_is != InfoIs::Received || p.port_priority.designated_bridge.mac() == own {
            continue;
        }
        let root_path = PriorityVector {
            root_path_cost: p.port_priority.root_path_cost.saturating_add(p.params.path_cost),
            ..p.port_priority
        };
        if (root_path, p.port_id) < best {
            best = (root_path, p.port_id);
            root = Some(i);
        }
    }
    // c): rootTimes, the root port's times one second older.
    let root_times = match root {
        Some(i) => Times {
            message_age: ports[i].port_times.message_age.saturating_add(1),
            ..ports[i].port_times
        },
        None => b.times,
    };
    (b.root_priority, b.root_port_id, b.root_times) = (best.0, best.1, root_times);
    for (i, p) in ports.iter_mut().enumerate() {
        // d), e): what this port would send as designated port.
        p.designated_priority = PriorityVector {
            root: b.root_priority.root,
            root_path_cost: b.root_priority.root_path_cost,
            designated_bridge: b.id,
            designated_port: p.port_id,
        };
        p.designated_times = Times {
            hello_time: b.times.hello_time,
            ..root_times
        };
        // f) - l)
        match p.info_is {
            InfoIs::Disabled => p.selected_role = PortRole::Disabled,
            InfoIs::Aged => {
                p.updt_info = true;
                p.selected_role = PortRole::Designated;
            }
            InfoIs::Mine => {
                p.selected_role = PortRole::Designated;
                if p.port_priority != p.designated_priority || p.port_times != p.designated_times {
                    p.updt_info = true;
                }
            }
            InfoIs::Received if root == Some(i) => {
                p.selected_role = PortRole::Root;
                p.updt_info = false;
            }
            // Not better than what the LAN's designated bridge offers:
            // blocked, as Backup if that bridge is this one (j, k).
            InfoIs::Received if p.designated_priority >= p.port_priority => {
                p.selected_role = if p.port_priority.designated_bridge.mac() == own {
                    PortRole::Backup
                } else {
                    PortRole::Alternate
                };
                p.updt_info = false;
            }
            InfoIs::Received => {
                p.selected_role = PortRole::Designated;
                p.updt_info = true;
            }
        }
    }
}

/// Every state of Figures 17-20 to 17-22 that a step can enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Go {
    DisablePort,
    DisabledPort,
    RootPort,
    RootProposed,
    RootAgreed,
    Reroot,
    RootForward,
    RootLearn,
    Rerooted,
    DesignatedPort,
    DesignatedRetired,
    DesignatedSynced,
    DesignatedPropose,
    DesignatedForward,
    DesignatedLearn,
    DesignatedDiscard,
    BlockPort,
    AlternatePort,
    AlternateProposed,
    AlternateAgreed,
    BackupPort,
}

/// BEGIN: INIT_PORT, then DISABLE_PORT.
pub(super) fn begin(p: &mut Port) {
    p.role = PortRole::Disabled;
    p.learn = false;
    p.forward = false;
    p.synced = false;
    p.sync = true;
    p.re_root = true;
    p.rr_while = p.fwd_delay();
    p.fd_while = p.max_age();
    p.rb_while = 0;
    enter_single(p, Go::DisablePort);
}

/// allSynced (17.20.3): every port has its selected role and is synced,
/// or is the root port. Also required, as 802.1Q-2005 does: no port has
/// updtInfo set. Without it a root port agrees in the instant between Role
/// Selection giving a forwarding designated port worse information and
/// that port's UPDATE clearing its synced flag, and the port keeps
/// forwarding (the agreement is a lie).
fn all_synced(ports: &[Port]) -> bool {
    ports.iter().all(|p| {
        p.selected && !p.updt_info && p.role == p.selected_role && (p.synced || p.role == PortRole::Root)
    })
}

pub(super) fn role_transitions(b: &Bridge, ports: &mut [Port], i: usize) -> bool {
    let p = &ports[i];
    if !p.selected || p.updt_info {
        return false;
    }
    let go = if p.role != p.selected_role {
        match p.selected_role {
            PortRole::Disabled => Go::DisablePort,
            PortRole::Root => Go::RootPort,
            PortRole::Designated => Go::DesignatedPort,
            PortRole::Alternate | PortRole::Backup => Go::BlockPort,
        }
    } else {
        let Some(go) = next(b, ports, i) else { return false };
        go
    };
    match go {
        Go::RootProposed | Go::AlternateProposed => set_sync_tree(ports),
        Go::Reroot => set_re_root_tree(ports),
        _ => {}
    }
    enter_single(&mut ports[i], go);
    true
}

/// The transition out of the port's current state, if one is enabled
/// (the role is the selected one). Safety first where several are.
fn next(b: &Bridge, ports: &[Port], i: usize) -> Option<Go> {
    let p = &ports[i];
    let synced = || all_synced(ports);
    let go = match p.role_tr {
        RoleTrState::Disable => (!p.learning && !p.forwarding).then_some(Go::DisabledPort)?,
        RoleTrState::Disabled => {
            (p.fd_while != p.max_age() || p.sync || p.re_root || !p.synced).then_some(Go::DisabledPort)?
        }
        RoleTrState::Root => {
            // reRooted (17.20.10): no other port is a recent root port.
            let re_rooted = ports.iter().enumerate().all(|(j, q)| j == i || q.rr_while == 0);
            let may_learn = p.fd_while == 0 || (re_rooted && p.rb_while == 0 && b.rstp_version());
            if p.rr_while != p.fwd_delay() {
                Go::RootPort
            } else if p.proposed && !p.agree {
                Go::RootProposed
            } else if (!p.agree && synced()) || (p.proposed && p.agree) {
                Go::RootAgreed
            } else if !p.forward && !p.re_root {
                Go::Reroot
            } else if p.re_root && p.forward {
                Go::Rerooted
            } else if may_learn && !p.learn {
                Go::RootLearn
            } else if may_learn && p.learn && !p.forward {
                Go::RootForward
            } else {
                return None;
            }
        }
        RoleTrState::Designated => {
            let may_learn =
                (p.fd_while == 0 || p.agreed || p.oper_edge) && (p.rr_while == 0 || !p.re_root) && !p.sync;
            if ((p.sync && !p.synced) || (p.re_root && p.rr_while != 0) || p.disputed)
                && !p.oper_edge
                && (p.learn || p.forward)
            {
                Go::DesignatedDiscard
            } else if (!p.learning && !p.forwarding && !p.synced)
                || (p.agreed && !p.synced)
                || (p.oper_edge && !p.synced)
                || (p.sync && p.synced)
            {
                Go::DesignatedSynced
            } else if p.rr_while == 0 && p.re_root {
                Go::DesignatedRetired
            } else if !p.forward && !p.agreed && !p.proposing && !p.oper_edge {
                Go::DesignatedPropose
            } else if may_learn && !p.learn {
                Go::DesignatedLearn
            } else if may_learn && p.learn && !p.forward {
                Go::DesignatedForward
            } else {
                return None;
            }
        }
        RoleTrState::Block => (!p.learning && !p.forwarding).then_some(Go::AlternatePort)?,
        RoleTrState::Alternate => {
            if p.role == PortRole::Backup && p.rb_while != 2 * p.hello_time() {
                Go::BackupPort
            } else if p.fd_while != p.forward_delay() || p.sync || p.re_root || !p.synced {
                Go::AlternatePort
            } else if p.proposed && !p.agree {
                Go::AlternateProposed
            } else if (!p.agree && synced()) || (p.proposed && p.agree) {
                Go::AlternateAgreed
            } else {
                return None;
            }
        }
    };
    Some(go)
}

/// setSyncTree (17.21.14).
fn set_sync_tree(ports: &mut [Port]) {
    for q in ports.iter_mut() {
        q.sync = true;
    }
}

/// setReRootTree (17.21.15).
fn set_re_root_tree(ports: &mut [Port]) {
    for q in ports.iter_mut() {
        q.re_root = true;
    }
}

/// Enters `go` and runs its actions (the tree-wide ones were done by the
/// caller), then, for a state with an unconditional exit, its successor's.
fn enter_single(p: &mut Port, go: Go) {
    match go {
        Go::DisablePort => {
            p.role_tr = RoleTrState::Disable;
            p.role = p.selected_role;
            p.learn = false;
            p.forward = false;
        }
        Go::DisabledPort => {
            p.role_tr = RoleTrState::Disabled;
            p.fd_while = p.max_age();
            p.synced = true;
            p.rr_while = 0;
            p.sync = false;
            p.re_root = false;
        }
        Go::RootPort => {
            p.role_tr = RoleTrState::Root;
            p.role = PortRole::Root;
            p.rr_while = p.fwd_delay();
        }
        Go::RootProposed => {
            p.proposed = false;
            enter_single(p, Go::RootPort);
        }
        Go::RootAgreed => {
            p.proposed = false;
            p.sync = false;
            p.agree = true;
            p.new_info = true;
            enter_single(p, Go::RootPort);
        }
        Go::Reroot => enter_single(p, Go::RootPort),
        Go::RootForward => {
            p.fd_while = 0;
            p.forward = true;
            enter_single(p, Go::RootPort);
        }
        Go::RootLearn => {
            p.fd_while = p.forward_delay();
            p.learn = true;
            enter_single(p, Go::RootPort);
        }
        Go::Rerooted => {
            p.re_root = false;
            enter_single(p, Go::RootPort);
        }
        Go::DesignatedPort => {
            p.role_tr = RoleTrState::Designated;
            p.role = PortRole::Designated;
        }
        Go::DesignatedRetired => {
            p.re_root = false;
            enter_single(p, Go::DesignatedPort);
        }
        Go::DesignatedSynced => {
            p.rr_while = 0;
            p.synced = true;
            p.sync = false;
            enter_single(p, Go::DesignatedPort);
        }
        Go::DesignatedPropose => {
            p.proposing = true;
            p.edge_delay_while = p.edge_delay();
            p.new_info = true;
            enter_single(p, Go::DesignatedPort);
        }
        Go::DesignatedForward => {
            p.forward = true;
            p.fd_while = 0;
            p.agreed = p.send_rstp;
            enter_single(p, Go::DesignatedPort);
        }
        Go::DesignatedLearn => {
            p.learn = true;
            p.fd_while = p.forward_delay();
            enter_single(p, Go::DesignatedPort);
        }
        Go::DesignatedDiscard => {
            p.learn = false;
            p.forward = false;
            p.disputed = false;
            p.fd_while = p.forward_delay();
            enter_single(p, Go::DesignatedPort);
        }
        Go::BlockPort => {
            p.role_tr = RoleTrState::Block;
            p.role = p.selected_role;
            p.learn = false;
            p.forward = false;
        }
        Go::AlternatePort => {
            p.role_tr = RoleTrState::Alternate;
            // 802.1D-2004 Figure 17-22 loads fdWhile with FwdDelay here but
            // re-enters the state while fdWhile != forwardDelay, which never
            // settles towards an RSTP neighbour; 802.1Q uses forwardDelay
            // for both, and so do we.
            p.fd_while = p.forward_delay();
            p.synced = true;
            p.rr_while = 0;
            p.sync = false;
            p.re_root = false;
        }
        Go::AlternateProposed => {
            p.proposed = false;
            enter_single(p, Go::AlternatePort);
        }
        Go::AlternateAgreed => {
            p.proposed = false;
            p.agree = true;
            p.new_info = true;
            enter_single(p, Go::AlternatePort);
        }
        Go::BackupPort => {
            p.rb_while = 2 * p.hello_time();
            enter_single(p, Go::AlternatePort);
        }
    }
}

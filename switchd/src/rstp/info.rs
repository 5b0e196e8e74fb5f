//! The Port Information machine (17.27) and the procedures it calls
//! (17.21): rcvInfo sorts a received message into superior, repeated or
//! inferior designated information, or a root/alternate port's answer;
//! the record* procedures take what each case needs from it.
//!
//! Stored states (`InfoState`, defined in port.rs with infoIs and
//! rcvdInfo) are DISABLED, AGED and CURRENT; UPDATE, RECEIVE and the five
//! states RECEIVE dispatches to return to CURRENT unconditionally.
//! Where 802.1D-2004 is known to be wrong, the fix of 802.1Q-2005 (which
//! Open vSwitch also applies) is taken and says so below.

use super::bridge::Bridge;
use super::port::{InfoIs, InfoState, Port, RcvdInfo};
use super::priority::{PriorityVector, Times};
use crate::wire::bpdu::{Bpdu, Flags, WireRole};

enum Go {
    Disabled,
    Aged,
    Update,
    Receive,
}

pub(super) fn begin(p: &mut Port) {
    enter_disabled(p);
}

pub(super) fn port_information(b: &Bridge, p: &mut Port) -> bool {
    let go = if !p.port_enabled && p.info_is != InfoIs::Disabled {
        Go::Disabled
    } else {
        match p.info {
            InfoState::Disabled if p.port_enabled => Go::Aged,
            InfoState::Disabled if p.rcvd_msg => Go::Disabled,
            InfoState::Aged if p.selected && p.updt_info => Go::Update,
            InfoState::Current if p.selected && p.updt_info => Go::Update,
            InfoState::Current
                if p.info_is == InfoIs::Received && p.rcvd_info_while == 0 && !p.updt_info && !p.rcvd_msg =>
            {
                Go::Aged
            }
            InfoState::Current if p.rcvd_msg && !p.updt_info => Go::Receive,
            _ => return false,
        }
    };
    match go {
        Go::Disabled => enter_disabled(p),
        Go::Aged => {
            p.info = InfoState::Aged;
            p.info_is = InfoIs::Aged;
            p.reselect = true;
            p.selected = false;
        }
        Go::Update => {
            p.proposing = false;
            p.proposed = false;
            p.agreed = p.agreed && better_or_same_info(p, InfoIs::Mine);
            p.synced = p.synced && p.agreed;
            p.port_priority = p.designated_priority;
            p.port_times = p.designated_times;
            p.updt_info = false;
            p.info_is = InfoIs::Mine;
            p.new_info = true;
            p.info = InfoState::Current;
        }
        Go::Receive => {
            p.rcvd_info = rcv_info(p);
            receive(b, p);
            p.info = InfoState::Current;
        }
    }
    true
}

fn enter_disabled(p: &mut Port) {
    p.info = InfoState::Disabled;
    p.rcvd_msg = false;
    p.proposing = false;
    p.proposed = false;
    p.agree = false;
    p.agreed = false;
    p.rcvd_info_while = 0;
    p.info_is = InfoIs::Disabled;
    p.reselect = true;
    p.selected = false;
}

/// The states RECEIVE leads to, by rcvdInfo.
fn receive(b: &Bridge, p: &mut Port) {
    match p.rcvd_info {
        RcvdInfo::SuperiorDesignated => {
            p.agreed = false;
            p.proposing = false;
            record_proposal(p);
            set_tc_flags(p);
            p.agree = p.agree && better_or_same_info(p, InfoIs::Received);
            p.port_priority = p.msg_priority; // recordPriority (17.21.12)
            p.port_times = p.msg_times; // recordTimes (17.21.13)
            updt_rcvd_info_while(p);
            p.info_is = InfoIs::Received;
            p.reselect = true;
            p.selected = false;
        }
        RcvdInfo::RepeatedDesignated => {
            record_proposal(p);
            set_tc_flags(p);
            updt_rcvd_info_while(p);
        }
        RcvdInfo::InferiorDesignated => record_dispute(p),
        // NOT_DESIGNATED: the answer of the port's root or alternate peer.
        RcvdInfo::InferiorRootAlternate => {
            record_agreement(b, p);
            set_tc_flags(p);
        }
        RcvdInfo::Other => {}
    }
    p.rcvd_msg = false;
}

/// The flags of the received BPDU that mean something for its type: a
/// configuration BPDU only has TC and TC Ack (9.3.1), a TCN none.
fn flags(bpdu: &Bpdu) -> Flags {
    match bpdu {
        Bpdu::Config(m) => Flags(m.flags.0 & (Flags::TC | Flags::TC_ACK)),
        Bpdu::Rst { msg, .. } => msg.flags,
        Bpdu::Tcn => Flags::default(),
    }
}

/// rcvInfo (17.21.8): records msgPriority and msgTimes and classifies the
/// message against the port priority vector and portTimes.
fn rcv_info(p: &mut Port) -> RcvdInfo {
    let (msg, role) = match &p.bpdu {
        // A TCN carries no priority vector. 802.1D-2004 gives no verdict
        // for it; 802.1Q-2005 (and Open vSwitch) set rcvdTcn here.
        Bpdu::Tcn => {
            p.rcvd_tcn = true;
            return RcvdInfo::Other;
        }
        // A configuration BPDU conveys a Designated Port Role (17.21.8 NOTE);
        // so does an RST BPDU with the Unknown role (`Rstp::receive`
        // turned it into one, 9.2.9).
        Bpdu::Config(m) => (*m, WireRole::Designated),
        Bpdu::Rst { msg, .. } => (*msg, msg.flags.role()),
    };
    p.msg_priority = PriorityVector::of_message(&msg);
    p.msg_times = Times::of_message(&msg);
    let (m, port) = (p.msg_priority, p.port_priority);
    match role {
        WireRole::Designated | WireRole::Unknown => {
            if m == port {
                if p.msg_times == p.port_times {
                    RcvdInfo::RepeatedDesignated
                } else {
                    // Same vector, new timers: superior (17.21.8 a 2).
                    RcvdInfo::SuperiorDesignated
                }
            } else if m.is_superior_to(&port) {
                RcvdInfo::SuperiorDesignated
            } else {
                RcvdInfo::InferiorDesignated
            }
        }
        // The same as or worse than the port priority vector.
        WireRole::Root | WireRole::AlternateOrBackup if m >= port => RcvdInfo::InferiorRootAlternate,
        WireRole::Root | WireRole::AlternateOrBackup => RcvdInfo::Other,
    }
}

/// betterorsameInfo (17.21.1): whether the information about to replace
/// the port's (`newInfoIs`) is better than or the same as what it holds,
/// and of the same origin.
fn better_or_same_info(p: &Port, new_info_is: InfoIs) -> bool {
    match new_info_is {
        InfoIs::Received => p.info_is == InfoIs::Received && p.msg_priority <= p.port_priority,
        InfoIs::Mine => p.info_is == InfoIs::Mine && p.designated_priority <= p.port_priority,
        InfoIs::Disabled | InfoIs::Aged => false,
    }
}

/// recordAgreement (17.21.9): an agreement counts only on a point-to-point
/// link of an RSTP bridge; anything else withdraws it.
fn record_agreement(b: &Bridge, p: &mut Port) {
    if b.rstp_version() && p.oper_p2p && flags(&p.bpdu).has(Flags::AGREEMENT) {
        p.agreed = true;
        p.proposing = false;
    } else {
        p.agreed = false;
    }
}

/// recordDispute (17.21.10). 802.1D-2004 sets agreed here, which would let
/// the port forward on the strength of a disputing (inferior yet learning,
/// so probably one-way) neighbour; 802.1Q-2005 sets disputed and clears
/// agreed, which makes the designated port discard (DESIGNATED_DISCARD).
fn record_dispute(p: &mut Port) {
    if flags(&p.bpdu).has(Flags::LEARNING) {
        p.disputed = true;
        p.agreed = false;
    }
}

/// recordProposal (17.21.11): a designated neighbour proposes.
fn record_proposal(p: &mut Port) {
    if let Bpdu::Rst { msg, .. } = &p.bpdu {
        if msg.flags.role() == WireRole::Designated && msg.flags.has(Flags::PROPOSAL) {
            p.proposed = true;
        }
    }
}

/// setTcFlags (17.21.17).
fn set_tc_flags(p: &mut Port) {
    let f = flags(&p.bpdu);
    if f.has(Flags::TC) {
        p.rcvd_tc = true;
    }
    if f.has(Flags::TC_ACK) {
        p.rcvd_tc_ack = true;
    }
    if let Bpdu::Tcn = p.bpdu {
        p.rcvd_tcn = true;
    }
}

/// updtRcvdInfoWhile (17.21.23): three hellos, unless the information is
/// too old already (Message Age + 1 s beyond Max Age): then 0, and it ages
/// out at once. This is what bounds the diameter of the tree.
fn updt_rcvd_info_while(p: &mut Port) {
    let t = p.port_times;
    p.rcvd_info_while = if t.message_age < t.max_age {
        3 * u16::from(t.hello_time)
    } else {
        0
    };
}

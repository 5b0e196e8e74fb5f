//! One member (Aggregation Port) of a bond: the per-port variables of
//! 802.1AX-2014 6.4.7 that this implementation keeps, the Receive machine's
//! record/expire/default actions (6.4.12, 6.4.9), the actor information it
//! sends (6.4.2.3, with the state bits set as the Mux machine would,
//! 6.4.15), the transmit rate limit (6.4.16), and the link priority used
//! by selection (6.4.14 as `lib/lacp.c` simplifies it).
//!
//! A file of its own because both selection (`select.rs`) and the driver
//! (`mod.rs`) work on members; it imports only `types.rs`.

use super::types::{
    ActorConfig, PortInfo, RxState, State, FAST_PERIODIC_MS, LONG_TIMEOUT_MS, MAX_TX_PER_FAST_PERIOD,
    SHORT_TIMEOUT_MS, SLOW_PERIODIC_MS,
};

/// What a member's link priority is compared by (lower is better): the
/// information of whichever of the two systems has the better system
/// priority (priority, then MAC), without key and state, as Open vSwitch's
/// `member_get_priority` compares its `lacp_info` with memcmp.
pub(super) type LinkPriority = (u16, [u8; 6], u16, u16);

#[derive(Debug, Clone)]
pub(super) struct Member {
    /// Port number (Actor_Port).
    pub no: u16,
    /// Actor_Port_Priority.
    pub port_priority: u16,
    /// Carrier (port_enabled).
    pub carrier: bool,
    /// The Receive machine's state.
    pub rx: RxState,
    /// Partner_Oper information (all zero when defaulted).
    pub partner: PortInfo,
    /// Selected and attached to the bond's one aggregator (Open vSwitch's
    /// `attached`; the standard's Selected == SELECTED plus the Mux machine
    /// past ATTACHED).
    pub attached: bool,
    /// What the partner last heard from us: the partner information of its
    /// last LACPDU, or what we last sent. A difference from the current
    /// actor information is a need to transmit (NTT, 6.4.9 update_NTT).
    pub ntt_actor: PortInfo,
    /// When the next periodic LACPDU is due (the periodic_timer, 6.4.13).
    pub tx_at: u64,
    /// When the partner information times out (current_while_timer); none
    /// when defaulted.
    pub rx_until: Option<u64>,
    /// Times of the last [`MAX_TX_PER_FAST_PERIOD`] LACPDUs sent.
    recent_tx: [Option<u64>; MAX_TX_PER_FAST_PERIOD],
    pub rx_lacpdus: u64,
    pub tx_lacpdus: u64,
    /// Usability as last reported in an event.
    pub reported_usable: bool,
}

impl Member {
    /// A new member: carrier down, no partner (DEFAULTED), a periodic
    /// LACPDU due at once (it is sent when the member may transmit).
    pub fn new(no: u16, port_priority: u16) -> Self {
        Member {
            no,
            port_priority,
            carrier: false,
            rx: RxState::Defaulted,
            partner: PortInfo::default(),
            attached: false,
            ntt_actor: PortInfo::default(),
            tx_at: 0,
            rx_until: None,
            recent_tx: [None; MAX_TX_PER_FAST_PERIOD],
            rx_lacpdus: 0,
            tx_lacpdus: 0,
            reported_usable: false,
        }
    }

    /// EXPIRED (6.4.12): the partner's information is kept but out of
    /// sync, we ask for its fast LACPDUs (Partner_Oper_Port_State.
    /// LACP_Timeout = Short, which also makes us send fast) and wait one
    /// short timeout before defaulting.
    ///
    /// Asking for the short timeout also makes a slow periodic LACPDU due
    /// at once (6.4.13: SLOW_PERIODIC leaves when the partner's timeout
    /// becomes short); Open vSwitch would wait out its slow timer.
    pub fn set_expired(&mut self, now: u64) {
        if !self.partner.state.contains(State::TIMEOUT) {
            self.tx_at = self.tx_at.min(now);
        }
        self.rx = RxState::Expired;
        self.partner.state = self
            .partner
            .state
            .with(State::TIMEOUT, true)
            .with(State::SYNCHRONIZATION, false);
        self.rx_until = Some(now.saturating_add(SHORT_TIMEOUT_MS));
    }

    /// DEFAULTED (6.4.12, recordDefault): no partner. Open vSwitch's
    /// default partner is all zeros (no administrative partner values).
    pub fn set_defaulted(&mut self) {
        self.rx = RxState::Defaulted;
        self.partner = PortInfo::default();
        self.rx_until = None;
    }

    /// The Receive machine's timer (6.4.12): CURRENT expires, EXPIRED
    /// defaults. True if something changed.
    pub fn run_timer(&mut self, now: u64) -> bool {
        match self.rx_until {
            Some(until) if now >= until => {
                match self.rx {
                    RxState::Current => self.set_expired(now),
                    RxState::Expired | RxState::Defaulted => self.set_defaulted(),
                }
                true
            }
            _ => false,
        }
    }

    /// CURRENT (6.4.12) on a valid LACPDU from `actor` (its sender), which
    /// believes us to be `their_partner`; `ours` is our actor information.
    ///
    /// recordPDU (6.4.9): the partner is in sync only if it says so and its
    /// view of us is ours (port, port priority, system, system priority,
    /// key and aggregation bit), which Open vSwitch does not check. The
    /// current_while_timer is the timeout we ask for (3 s fast, 90 s slow).
    /// A partner that newly asks for the short timeout gets an LACPDU at
    /// once (6.4.13: SLOW_PERIODIC leaves on that change; Open vSwitch
    /// would wait out its slow timer).
    pub fn record(
        &mut self,
        actor: PortInfo,
        their_partner: PortInfo,
        ours: &PortInfo,
        fast: bool,
        now: u64,
    ) {
        let matches = their_partner.port == ours.port
            && their_partner.port_priority == ours.port_priority
            && their_partner.system == ours.system
            && their_partner.system_priority == ours.system_priority
            && their_partner.key == ours.key
            && their_partner.state.contains(State::AGGREGATION) == ours.state.contains(State::AGGREGATION);
        let asks_fast = actor.state.contains(State::TIMEOUT);
        if asks_fast && !self.partner.state.contains(State::TIMEOUT) {
            self.tx_at = self.tx_at.min(now);
        }
        self.partner = actor;
        if !matches {
            self.partner.state = self.partner.state.with(State::SYNCHRONIZATION, false);
        }
        self.ntt_actor = their_partner;
        self.rx = RxState::Current;
        self.rx_lacpdus += 1;
        let timeout = if fast { SHORT_TIMEOUT_MS } else { LONG_TIMEOUT_MS };
        self.rx_until = Some(now.saturating_add(timeout));
    }

    /// Whether the member may send (Open vSwitch `member_may_tx`): carrier
    /// up, and an active actor or a partner heard (6.4.13 NO_PERIODIC when
    /// both would be passive, and a defaulted partner counts as passive).
    pub fn may_tx(&self, active: bool) -> bool {
        self.carrier && (active || self.rx != RxState::Defaulted)
    }

    /// Whether the member may collect and distribute: carrier up, attached,
    /// the partner in sync (Open vSwitch `member_may_enable__`).
    pub fn usable(&self) -> bool {
        self.carrier && self.attached && self.partner.state.contains(State::SYNCHRONIZATION)
    }

    /// Our information on this member (Actor_Oper values). The state bits:
    /// Activity and Timeout from the configuration; Aggregation always (a
    /// bond member is aggregatable); Synchronization when attached;
    /// Collecting and Distributing when usable, as the Mux machine's
    /// COLLECTING_DISTRIBUTING state (6.4.15, coupled control); Defaulted
    /// and Expired from the Receive machine.
    pub fn actor_info(&self, cfg: &ActorConfig) -> PortInfo {
        let usable = self.usable();
        let state = State::AGGREGATION
            .with(State::ACTIVITY, cfg.active)
            .with(State::TIMEOUT, cfg.fast)
            .with(State::SYNCHRONIZATION, self.attached)
            .with(State::COLLECTING | State::DISTRIBUTING, usable)
            .with(State::DEFAULTED, self.rx == RxState::Defaulted)
            .with(State::EXPIRED, self.rx == RxState::Expired);
        PortInfo {
            system_priority: cfg.system_priority,
            system: cfg.system,
            key: cfg.key,
            port_priority: self.port_priority,
            port: self.no,
            state,
        }
    }

    /// This link's priority (see [`LinkPriority`]).
    pub fn priority(&self, cfg: &ActorConfig) -> LinkPriority {
        let ours = (cfg.system_priority, cfg.system);
        let theirs = (self.partner.system_priority, self.partner.system);
        if ours <= theirs {
            (cfg.system_priority, cfg.system, self.port_priority, self.no)
        } else {
            let p = &self.partner;
            (p.system_priority, p.system, p.port_priority, p.port)
        }
    }

    /// Whether the Transmit machine may send now: fewer than three
    /// LACPDUs in the last Fast_Periodic_Time (6.4.16).
    pub fn may_send_now(&self, now: u64) -> bool {
        self.recent_tx
            .iter()
            .any(|t| t.is_none_or(|t| now.saturating_sub(t) >= FAST_PERIODIC_MS))
    }

    /// Books an LACPDU sent now: counts it, remembers what the partner
    /// will hear, and sets the periodic timer by the timeout the partner
    /// asks for (6.4.13: fast 1 s, slow 30 s).
    pub fn sent(&mut self, actor: PortInfo, now: u64) {
        self.ntt_actor = actor;
        self.tx_lacpdus += 1;
        let period = if self.partner.state.contains(State::TIMEOUT) {
            FAST_PERIODIC_MS
        } else {
            SLOW_PERIODIC_MS
        };
        self.tx_at = now.saturating_add(period);
        // Fill an empty slot, or else replace the oldest.
        if let Some(slot) = self
            .recent_tx
            .iter_mut()
            .min_by_key(|t| (t.is_some(), t.unwrap_or(0)))
        {
            *slot = Some(now);
        }
    }
}

/// Whether two actor informations differ in a way the partner must hear
/// about: port, port priority, system, system priority, key, and the
/// Activity, Timeout, Synchronization and Aggregation bits (6.4.9
/// update_NTT, as `info_tx_equal` in `lib/lacp.c`), and also Collecting
/// and Distributing, which the standard's Mux machine announces at once
/// (NTT on entering COLLECTING_DISTRIBUTING, 6.4.15) and Open vSwitch
/// leaves to the next periodic LACPDU.
pub(super) fn needs_transmit(now: &PortInfo, heard: &PortInfo) -> bool {
    let bits = State::ACTIVITY
        | State::TIMEOUT
        | State::SYNCHRONIZATION
        | State::AGGREGATION
        | State::COLLECTING
        | State::DISTRIBUTING;
    (now.state.0 ^ heard.state.0) & bits.0 != 0
        || now.port != heard.port
        || now.port_priority != heard.port_priority
        || now.key != heard.key
        || now.system_priority != heard.system_priority
        || now.system != heard.system
}

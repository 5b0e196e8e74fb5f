//! The public values of the LACP core: the actor's configuration, the
//! events the engine executes, the status `lacp-show` prints, the timer
//! constants of 802.1AX-2014 6.4.4, and the wire types the API speaks in
//! (from `wire::lacp`). `mod.rs` re-exports them all; the engine names
//! them as `crate::lacp::X`.
//!
//! They live in a file of their own, importing nothing else of `lacp/`,
//! because every other file of the module uses them.

pub use crate::wire::lacp::{Lacpdu, LacpduError, LacpduFrame, PortInfo, State};

/// Fast_Periodic_Time (6.4.4): the LACPDU interval a partner that asks for
/// the short timeout gets.
pub const FAST_PERIODIC_MS: u64 = 1_000;
/// Slow_Periodic_Time (6.4.4): the interval for a partner with the long
/// timeout (Open vSwitch's default, `lacp-time=slow`).
pub const SLOW_PERIODIC_MS: u64 = 30_000;
/// Short_Timeout_Time (6.4.4): partner information received while we ask
/// for fast LACPDUs expires after three missed intervals.
pub const SHORT_TIMEOUT_MS: u64 = 3 * FAST_PERIODIC_MS;
/// Long_Timeout_Time (6.4.4): the same with slow LACPDUs.
pub const LONG_TIMEOUT_MS: u64 = 3 * SLOW_PERIODIC_MS;
/// The Transmit machine (6.4.16) sends at most this many LACPDUs on a
/// port in any Fast_Periodic_Time; a need to transmit beyond that waits.
pub const MAX_TX_PER_FAST_PERIOD: usize = 3;
/// The system priority Open vSwitch gives a bond of two or more members
/// (vswitchd/bridge.c, port_configure_lacp), and SPEC §8 gives ours.
pub const DEFAULT_SYSTEM_PRIORITY: u16 = 65534;

/// What this system says about itself (the Actor, 6.4.7) for one bond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActorConfig {
    /// System identifier: the bridge MAC (SPEC §8 `system_id`).
    pub system: [u8; 6],
    /// System priority; [`DEFAULT_SYSTEM_PRIORITY`] as Open vSwitch.
    pub system_priority: u16,
    /// The operational key every member of the bond carries.
    pub key: u16,
    /// `lacp=active` (true) or `lacp=passive`: a passive actor transmits
    /// only once it has heard a partner.
    pub active: bool,
    /// `lacp_time=fast`: ask the partner for LACPDUs every second (and
    /// time its information out after 3 s instead of 90 s).
    pub fast: bool,
}

/// What the engine must do, in the order [`crate::lacp::Lacp::drain_events`]
/// returns them (within one call: usability changes, then transmissions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Send `frame` on `member`. The source MAC is the actor's system
    /// MAC; the engine may put the member's own MAC there with
    /// [`LacpduFrame::set_source`].
    Transmit {
        /// The member (port number).
        member: u16,
        /// The complete Ethernet frame.
        frame: LacpduFrame,
    },
    /// Whether `member` may now collect and distribute: its carrier is up,
    /// it is attached to the bond's one aggregator (its partner is the
    /// aggregator's partner) and that partner says it is in sync. Sent only
    /// when the value changes; every member starts unusable.
    Usable {
        /// The member (port number).
        member: u16,
        /// The new value.
        usable: bool,
    },
}

impl Event {
    /// The member the event is about.
    pub fn member(&self) -> u16 {
        match self {
            Event::Transmit { member, .. } | Event::Usable { member, .. } => *member,
        }
    }
}

/// Where a member's Receive machine (6.4.12) is, as Open vSwitch keeps it
/// (`enum member_status`): the standard's CURRENT, EXPIRED and DEFAULTED
/// states; its INITIALIZE, PORT_DISABLED and LACP_DISABLED are folded into
/// them (a member whose carrier is down is EXPIRED, then DEFAULTED).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxState {
    /// The partner's information is up to date.
    Current,
    /// No LACPDU within the timeout: the partner's information is kept but
    /// it is no longer in sync; we ask for fast LACPDUs for one short timeout.
    Expired,
    /// No partner: its information is cleared.
    Defaulted,
}

/// A system as one side of an aggregation sees it: identifier, priority,
/// key (the `actor` and `partner` objects of `lacp-show`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemInfo {
    /// System MAC address.
    pub system: [u8; 6],
    /// System priority.
    pub priority: u16,
    /// Operational key.
    pub key: u16,
}

/// One member in `lacp-show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberStatus {
    /// The member's port number.
    pub member: u16,
    /// Its port priority.
    pub port_priority: u16,
    /// Carrier as the engine last set it.
    pub carrier: bool,
    /// The Receive machine's state.
    pub rx_state: RxState,
    /// Attached to the bond's aggregator (selected, same partner as it).
    pub attached: bool,
    /// The state octet we send (or would send) on it.
    pub actor_state: State,
    /// The partner's state octet as recorded (zero when defaulted).
    pub partner_state: State,
    /// The partner's port number (0 when defaulted).
    pub partner_port: u16,
    /// Valid LACPDUs received and acted on.
    pub rx_lacpdus: u64,
    /// LACPDUs sent.
    pub tx_lacpdus: u64,
    /// See [`Event::Usable`].
    pub usable: bool,
}

/// The whole bond's LACP status, for `lacp-show` and `bond-show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LacpStatus {
    /// This system.
    pub actor: SystemInfo,
    /// The aggregator's partner, once some member has heard one.
    pub partner: Option<SystemInfo>,
    /// `lacp=active`.
    pub active: bool,
    /// `lacp_time=fast`.
    pub fast: bool,
    /// Some member is usable (SPEC §8 `negotiated`; otherwise `configured`).
    pub negotiated: bool,
    /// Members, by port number.
    pub members: Vec<MemberStatus>,
}

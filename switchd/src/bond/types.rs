//! The values the bond API takes and returns: the mode and parameters a
//! bond is configured with, the receive verdict, and the status snapshot
//! `bond-show` prints. Plain data; no file of `bond/` is imported here.

/// Number of hash buckets of a balanced bond (OVS's `BOND_BUCKETS`): a
/// bucket is the unit of load the rebalancer moves between members.
pub const BUCKETS: usize = 256;

/// Most members a bond may have (SPEC §8).
pub const MAX_MEMBERS: usize = 32;

/// How a bond spreads its traffic (SPEC §8, OVS's `bond_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BondMode {
    /// One member (the active one) carries everything.
    #[default]
    ActiveBackup,
    /// Unicast spread by source MAC and VLAN over the buckets.
    BalanceSlb,
    /// Unicast spread by L2–L4 fields over the buckets; needs LACP
    /// negotiated (without it nothing is sent or admitted, as OVS).
    BalanceTcp,
}

impl BondMode {
    /// Whether the mode spreads unicast over hash buckets.
    #[inline]
    pub fn is_balanced(self) -> bool {
        self != BondMode::ActiveBackup
    }
}

/// A bond's configuration, plus the one input the engine derives from LACP.
///
/// LACP fallback (`lacp_fallback_ab=true` with no partner) is the engine's
/// to express: it passes `mode: ActiveBackup` while the fallback is in
/// effect, as OVS's `choose_output_member` treats a bond in fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BondParams {
    /// Balancing mode.
    pub mode: BondMode,
    /// How long a member must stay usable before it is enabled, in ms.
    pub updelay_ms: u32,
    /// How long a member must stay unusable before it is disabled, in ms.
    pub downdelay_ms: u32,
    /// Time between rebalancing runs, in ms; 0 turns rebalancing off.
    pub rebalance_interval_ms: u32,
    /// Whether LACP is negotiated with a partner (set by the engine).
    pub lacp_negotiated: bool,
}

impl Default for BondParams {
    /// The defaults of SPEC §8 (those of OVS).
    fn default() -> Self {
        BondParams {
            mode: BondMode::ActiveBackup,
            updelay_ms: 0,
            downdelay_ms: 0,
            rebalance_interval_ms: 10_000,
            lacp_negotiated: false,
        }
    }
}

/// Whether a frame received on a member may enter the bridge (OVS's
/// `bond_verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Admit it.
    Yes,
    /// Drop it.
    No,
    /// Admit it unless its source MAC (in its VLAN) is learned on another
    /// port of the bridge; then drop it and do not learn from it (the
    /// reverse-path check of SLB bonding, OVS's `BV_DROP_IF_MOVED`).
    IfNotLearnedElsewhere,
}

/// A snapshot of a bond for `bond-show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BondStatus {
    /// The active member, if any member is enabled.
    pub active: Option<usize>,
    /// Milliseconds until the next rebalancing run; `None` when the bond
    /// does not rebalance (active-backup, or interval 0).
    pub next_rebalance_ms: Option<u64>,
    /// One entry per member, by index.
    pub members: Vec<MemberStatus>,
}

/// One member in a [`BondStatus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberStatus {
    /// Whether the member carries traffic.
    pub enabled: bool,
    /// What the engine last reported (carrier, and LACP usable).
    pub may_enable: bool,
    /// Milliseconds until a pending updelay (when disabled) or downdelay
    /// (when enabled) expires.
    pub delay_ms: Option<u64>,
    /// Bytes [`Bond::choose_tx`](super::Bond::choose_tx) sent this way
    /// since the bond was created.
    pub tx_bytes: u64,
    /// The hash buckets assigned to the member, ascending; empty in
    /// active-backup mode (as OVS, which lists hashes of balanced bonds only).
    pub buckets: Vec<u8>,
}

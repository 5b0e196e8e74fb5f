//! Group tables (OpenFlow 1.3 §5.6; SPEC §10): `all`, `select` and
//! `indirect` groups of buckets, each bucket a list of actions, that flows
//! reach with the `group:N` action.

use super::types::Action;

/// Group types (1.3 §5.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupType {
    /// OFPGT_ALL: every bucket.
    All,
    /// OFPGT_SELECT: one bucket by hash, weighted.
    Select,
    /// OFPGT_INDIRECT: its single bucket.
    Indirect,
    /// OFPGT_FF: refused with BadGroupType.
    FastFailover,
}

/// One bucket of a group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bucket {
    /// Relative weight (select groups).
    pub weight: u16,
    /// Port whose liveness decides (fast failover; kept and reported).
    pub watch_port: Option<u16>,
    /// Group whose liveness decides (kept and reported).
    pub watch_group: Option<u32>,
    /// Its actions.
    pub actions: Vec<Action>,
}


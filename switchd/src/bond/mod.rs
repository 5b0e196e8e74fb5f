//! Bonds (SPEC §8): which member of a bond a frame leaves by, whether a
//! frame received on a member may enter the bridge, when a member is
//! enabled, which member is active, and how the hash buckets of the
//! balanced modes are spread and rebalanced — Open vSwitch's
//! `ofproto/bond.c`, without its flow-table and datapath parts.
//!
//! Pure: no sockets, no clock (the engine passes the time in milliseconds),
//! no logging; no allocation on the per-frame path ([`Bond::choose_tx`],
//! [`Bond::admit_rx`], the hashes). Members are indexes `0..n` (at most
//! [`MAX_MEMBERS`]); the engine maps them to devices, and feeds each
//! member's usability (carrier, and with LACP the partner's flags) to
//! [`Bond::set_may_enable`].
//!
//! Layout (imports go one way, up this list):
//! - `types.rs`: modes, parameters, verdicts, status (imports nothing of
//!   `bond/`);
//! - `hash.rs`: [`hash_slb`], [`hash_tcp`] (imports nothing of `bond/`);
//! - `rebalance.rs`: one rebalancing run on plain arrays (imports
//!   `types.rs`);
//! - `mod.rs` (this file): [`Bond`];
//! - `tests.rs`, `proptests.rs` (tests only): directed tests; hash
//!   distribution and property tests (`proptests.rs` uses `tests.rs`).
//!
//! The learning packet a failover sends is built by
//! [`wire::rarp::learning_packet`](crate::wire::rarp::learning_packet),
//! re-exported here.
//!
//! # Where OVS and the SPEC left room
//! - Active member: kept while it is enabled (no preemption: a member that
//!   comes back does not take over). Otherwise the enabled member with the
//!   lowest index, which is deterministic where OVS takes the first of a
//!   hash map, and among them one that is not waiting out a downdelay (one
//!   that is would fail over again soon) if there is one. With no member enabled, the usable member whose updelay
//!   ends first is enabled at once, skipping the rest of its updelay (as
//!   OVS's `bond_choose_member`; ties to the lower index).
//! - A member's first report ([`Bond::set_may_enable`]) takes effect at
//!   once, as OVS's `bond_member_register` enables a member by its carrier
//!   without delay; later changes wait for updelay/downdelay.
//! - Buckets start round-robin (bucket `b` on member `b % n`, its "home").
//!   A disabled member's buckets move at once, round-robin, to the enabled
//!   members (OVS does it lazily, on the next frame of the bucket). When a
//!   member is enabled it takes back its home buckets, which OVS leaves to
//!   the rebalancer: so a member that comes back carries traffic even with
//!   rebalancing off or little traffic.
//! - Flooded (multicast/broadcast) frames leave by the active member in
//!   every mode (SPEC §8; OVS hashes them like unicast) and are not counted
//!   on a bucket.
//! - balance-tcp without LACP negotiated sends and admits nothing (as OVS;
//!   a bond in LACP fallback is passed as active-backup by the engine).
//! - With LACP negotiated a frame is admitted from every *enabled* member
//!   (SPEC §8); OVS also admits a member that may enable but waits out
//!   its updelay.

mod hash;
#[cfg(test)]
mod proptests;
mod rebalance;
#[cfg(test)]
mod tests;
mod types;

pub use hash::{hash_slb, hash_tcp};
pub use types::{Admit, BondMode, BondParams, BondStatus, MemberStatus, BUCKETS, MAX_MEMBERS};

pub use crate::wire::rarp::learning_packet;

/// One member's link state and counter.
#[derive(Debug, Clone, Copy, Default)]
struct Member {
    /// Whether the engine has reported the member's usability yet.
    reported: bool,
    /// What the engine last reported.
    may_enable: bool,
    /// Whether the member carries traffic.
    enabled: bool,
    /// When a pending change of `enabled` to `may_enable` takes effect.
    delay_expires: Option<u64>,
    /// Bytes sent by this member, since creation.
    tx_bytes: u64,
}

/// One bond: its members' state, its active member, its buckets.
#[derive(Debug, Clone)]
pub struct Bond {
    params: BondParams,
    members: Vec<Member>,
    active: Option<usize>,
    /// Bucket → member. Whenever a member is enabled, every bucket is on an
    /// enabled member.
    owner: [u8; BUCKETS],
    /// Bucket → bytes sent since the last rebalancing (halved at each run);
    /// counted only while the bond rebalances.
    bytes: [u64; BUCKETS],
    /// When the next rebalancing run is due (scheduled by the first call
    /// that knows the time); `None` while the bond does not rebalance.
    next_rebalance_ms: Option<u64>,
    /// Where the next round-robin bucket assignment starts.
    next_rr: usize,
    /// The active member changed since the last [`Bond::tick`].
    active_changed: bool,
    /// OVS's `send_learning_packets`: a member was disabled or an active
    /// member chosen since the last [`Bond::should_send_learning_packets`].
    learning_due: bool,
}

impl Bond {
    /// A bond of `members` members, all disabled until reported usable.
    ///
    /// # Panics
    /// If `members` is 0 or more than [`MAX_MEMBERS`].
    pub fn new(params: BondParams, members: usize) -> Self {
        assert!(
            (1..=MAX_MEMBERS).contains(&members),
            "a bond has 1 to {MAX_MEMBERS} members, not {members}"
        );
        Bond {
            params,
            members: vec![Member::default(); members],
            active: None,
            owner: std::array::from_fn(|b| (b % members) as u8),
            bytes: [0; BUCKETS],
            next_rebalance_ms: None,
            next_rr: 0,
            active_changed: false,
            learning_due: false,
        }
    }

    /// The parameters in effect.
    pub fn params(&self) -> BondParams {
        self.params
    }

    /// Number of members.
    pub fn members(&self) -> usize {
        self.members.len()
    }

    /// Whether `member` carries traffic (false for an unknown index).
    pub fn is_enabled(&self, member: usize) -> bool {
        self.members.get(member).is_some_and(|m| m.enabled)
    }

    /// The active member: the one that carries everything in active-backup
    /// mode, floods in every mode, and admits multicast without LACP.
    /// `None` exactly when no member is enabled.
    pub fn active(&self) -> Option<usize> {
        self.active
    }

    /// Whether the bond moves buckets by load.
    fn rebalances(&self) -> bool {
        self.params.mode.is_balanced() && self.params.rebalance_interval_ms != 0
    }

    /// Changes the parameters. A change of mode resets the buckets to their
    /// home members and clears their counters (OVS's `bond_entry_reset`);
    /// a change of interval moves the next run to the old start plus the
    /// new interval (as `bond_reconfigure`). New delays apply to changes
    /// reported from now on; a pending delay keeps its expiry.
    pub fn set_params(&mut self, params: BondParams, now_ms: u64) {
        let old = self.params;
        let was_rebalancing = self.rebalances();
        self.params = params;
        if old.mode != params.mode {
            let n = self.members.len();
            self.owner = std::array::from_fn(|b| (b % n) as u8);
            self.bytes = [0; BUCKETS];
            self.next_rebalance_ms = None;
            self.fix_orphans();
        }
        let interval = u64::from(params.rebalance_interval_ms);
        self.next_rebalance_ms = match self.next_rebalance_ms {
            _ if !self.rebalances() => None,
            Some(next) if was_rebalancing => {
                Some((next + interval).saturating_sub(u64::from(old.rebalance_interval_ms)))
            }
            _ => Some(now_ms.saturating_add(interval)),
        };
        if !self.rebalances() {
            self.bytes = [0; BUCKETS];
        }
    }

    /// Reports whether `member` is usable (carrier up and, with LACP, the
    /// partner in sync/collecting/distributing). The member's first report
    /// takes effect at once; after that, `enabled` follows `may` once it
    /// has held for updelay (up) or downdelay (down) — at once with a
    /// delay of 0, else at the [`Bond::tick`] that finds it due. Going
    /// back before the delay ends cancels the change. An unknown member
    /// index is ignored.
    pub fn set_may_enable(&mut self, member: usize, may: bool, now_ms: u64) {
        let Some(m) = self.members.get_mut(member) else {
            return;
        };
        m.may_enable = may;
        if m.reported {
            self.update_link(member, now_ms);
        } else {
            m.reported = true;
            self.set_enabled(member, may);
        }
        self.ensure_active();
    }

    /// Applies the up/down delays that are due and runs the rebalancer when
    /// its interval has passed. Returns whether the active member changed
    /// since the previous call (then the engine sends learning packets).
    pub fn tick(&mut self, now_ms: u64) -> bool {
        for member in 0..self.members.len() {
            self.update_link(member, now_ms);
        }
        self.ensure_active();
        if self.rebalances() {
            let interval = u64::from(self.params.rebalance_interval_ms);
            match self.next_rebalance_ms {
                Some(due) if now_ms < due => {}
                Some(_) => {
                    self.rebalance();
                    self.next_rebalance_ms = Some(now_ms.saturating_add(interval));
                }
                None => self.next_rebalance_ms = Some(now_ms.saturating_add(interval)),
            }
        }
        std::mem::take(&mut self.active_changed)
    }

    /// The member a frame of VLAN `vlan` leaves by; `None` when no member
    /// is enabled (or in balance-tcp without LACP). Multicast and broadcast
    /// leave by the active member, so a flood leaves through one member
    /// only; unicast by its bucket's member ([`hash_slb`] or [`hash_tcp`]),
    /// in active-backup by the active member. Counts the frame's length on
    /// the member and, while the bond rebalances, on the bucket.
    #[inline]
    pub fn choose_tx(&mut self, frame: &[u8], vlan: u16) -> Option<usize> {
        let dst_multicast = frame.first().is_some_and(|b| b & 1 != 0);
        let active = self.active?;
        let (member, bucket) = match self.params.mode {
            BondMode::BalanceTcp if !self.params.lacp_negotiated => return None,
            BondMode::ActiveBackup => (active, None),
            _ if dst_multicast => (active, None),
            BondMode::BalanceSlb => {
                let mut src = [0u8; 6];
                if let Some(s) = frame.get(6..12) {
                    src.copy_from_slice(s);
                }
                let b = usize::from(hash_slb(src, vlan));
                (usize::from(self.owner[b]), Some(b))
            }
            BondMode::BalanceTcp => {
                let b = usize::from(hash_tcp(frame, vlan));
                (usize::from(self.owner[b]), Some(b))
            }
        };
        let m = self.members.get_mut(member).filter(|m| m.enabled)?;
        let len = frame.len() as u64;
        m.tx_bytes = m.tx_bytes.saturating_add(len);
        if let Some(b) = bucket.filter(|_| self.rebalances()) {
            self.bytes[b] = self.bytes[b].saturating_add(len);
        }
        Some(member)
    }

    /// The member the learning packet of `mac` in VLAN `vlan` leaves by (as
    /// OVS's `bond_compose_learning_packet`): in balance-slb the member of
    /// the MAC's bucket, so the upstream switch learns the MAC where its
    /// traffic will come from; otherwise the active member.
    pub fn learning_member(&self, mac: [u8; 6], vlan: u16) -> Option<usize> {
        self.active?;
        match self.params.mode {
            BondMode::BalanceSlb => Some(usize::from(self.owner[usize::from(hash_slb(mac, vlan))])),
            _ => self.active,
        }
    }

    /// Whether learning packets are due, and clears that (OVS's
    /// `bond_should_send_learning_packets`): a member was disabled or an
    /// active member chosen since the last call, the bond is active-backup
    /// or balance-slb, LACP is not negotiated, and a member is active. The
    /// engine then sends [`learning_packet`] for each MAC learned on the
    /// bridge's other ports, by [`Bond::learning_member`].
    pub fn should_send_learning_packets(&mut self) -> bool {
        let due = std::mem::take(&mut self.learning_due);
        due && !self.params.lacp_negotiated
            && self.params.mode != BondMode::BalanceTcp
            && self.active.is_some()
    }

    /// Whether a frame received on `member` may enter the bridge (SPEC §8,
    /// OVS's `bond_check_admissibility`): never from a disabled (or
    /// unknown) member; with LACP negotiated, from every enabled member;
    /// otherwise active-backup admits only the active member, balance-tcp
    /// nothing, and balance-slb multicast/broadcast only on the active
    /// member and every frame subject to the reverse-path check.
    #[inline]
    pub fn admit_rx(&self, member: usize, dst_multicast: bool) -> Admit {
        if !self.is_enabled(member) {
            return Admit::No;
        }
        if self.params.lacp_negotiated {
            return Admit::Yes;
        }
        let is_active = self.active == Some(member);
        match self.params.mode {
            BondMode::ActiveBackup if is_active => Admit::Yes,
            BondMode::ActiveBackup | BondMode::BalanceTcp => Admit::No,
            BondMode::BalanceSlb if dst_multicast && !is_active => Admit::No,
            BondMode::BalanceSlb => Admit::IfNotLearnedElsewhere,
        }
    }

    /// A snapshot for `bond-show`.
    pub fn status(&self, now_ms: u64) -> BondStatus {
        let interval = u64::from(self.params.rebalance_interval_ms);
        let next_rebalance_ms = self.rebalances().then(|| {
            self.next_rebalance_ms
                .map_or(interval, |t| t.saturating_sub(now_ms))
        });
        let members = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| MemberStatus {
                enabled: m.enabled,
                may_enable: m.may_enable,
                delay_ms: m.delay_expires.map(|t| t.saturating_sub(now_ms)),
                tx_bytes: m.tx_bytes,
                buckets: if self.params.mode.is_balanced() {
                    (0..BUCKETS)
                        .filter(|&b| usize::from(self.owner[b]) == i)
                        .map(|b| b as u8)
                        .collect()
                } else {
                    Vec::new()
                },
            })
            .collect();
        BondStatus {
            active: self.active,
            next_rebalance_ms,
            members,
        }
    }

    /// OVS's `bond_link_status_update`: starts, cancels or completes the
    /// delay between a change of `may_enable` and `enabled`.
    fn update_link(&mut self, member: usize, now_ms: u64) {
        let (updelay, downdelay) = (self.params.updelay_ms, self.params.downdelay_ms);
        let m = &mut self.members[member];
        let up = m.may_enable;
        if up == m.enabled {
            m.delay_expires = None;
        } else if m.delay_expires.is_none() {
            let delay = if up { updelay } else { downdelay };
            m.delay_expires = Some(now_ms.saturating_add(u64::from(delay)));
        }
        if m.delay_expires.is_some_and(|t| now_ms >= t) {
            self.set_enabled(member, up);
        }
    }

    /// OVS's `bond_enable_member`, plus the bucket moves: a disabled
    /// member's buckets go to the enabled ones, an enabled member takes
    /// back its home buckets.
    fn set_enabled(&mut self, member: usize, enable: bool) {
        let m = &mut self.members[member];
        m.delay_expires = None;
        if m.enabled == enable {
            return;
        }
        m.enabled = enable;
        if enable {
            for b in (member..BUCKETS).step_by(self.members.len()) {
                self.owner[b] = member as u8;
            }
        } else {
            self.learning_due = true;
        }
        self.fix_orphans();
        if (!enable && self.active == Some(member)) || (enable && self.active.is_none()) {
            self.choose_active();
        }
    }

    /// Moves every bucket of a disabled member to the enabled members,
    /// round-robin (OVS's `get_enabled_member`); nothing when none is.
    fn fix_orphans(&mut self) {
        let n = self.members.len();
        if !self.members.iter().any(|m| m.enabled) {
            return;
        }
        for b in 0..BUCKETS {
            if self.members[usize::from(self.owner[b])].enabled {
                continue;
            }
            let mut next = self.next_rr % n;
            while !self.members[next].enabled {
                next = (next + 1) % n;
            }
            self.owner[b] = next as u8;
            self.next_rr = next + 1;
        }
    }

    /// Chooses an active member if there is none or it is disabled.
    fn ensure_active(&mut self) {
        if self.active.is_none_or(|a| !self.members[a].enabled) {
            self.choose_active();
        }
    }

    /// OVS's `bond_choose_active_member`: the enabled member with the
    /// lowest index, preferring one not waiting out a downdelay; with none
    /// enabled, the usable member whose updelay ends first, enabled at once.
    fn choose_active(&mut self) {
        let old = self.active;
        let staying = |m: &Member| m.enabled && m.delay_expires.is_none();
        let enabled =
            (self.members.iter().position(staying)).or_else(|| self.members.iter().position(|m| m.enabled));
        let pick = enabled.or_else(|| {
            (self.members.iter().enumerate())
                .filter(|(_, m)| m.may_enable && m.delay_expires.is_some())
                .min_by_key(|&(i, m)| (m.delay_expires, i))
                .map(|(i, _)| i)
        });
        self.active = pick;
        if let Some(a) = pick {
            if !self.members[a].enabled {
                // Skips the rest of its updelay; `set_enabled` sees an
                // active member and does not come back here. (Only then: an
                // enabled member may be waiting out its downdelay.)
                self.set_enabled(a, true);
            }
            self.learning_due = true;
        }
        if pick != old {
            self.active_changed = true;
        }
    }

    /// One rebalancing run, then the counters decay by half (OVS: history
    /// fades to under 1 % in 7 runs).
    fn rebalance(&mut self) {
        let mut enabled = [false; MAX_MEMBERS];
        for (e, m) in enabled.iter_mut().zip(&self.members) {
            *e = m.enabled;
        }
        rebalance::rebalance(&mut self.owner, &self.bytes, &enabled[..self.members.len()]);
        for b in &mut self.bytes {
            *b /= 2;
        }
    }
}

//! Group tables (OpenFlow 1.3 §5.6; SPEC §10): `all`, `select` and
//! `indirect` groups of buckets, each bucket a list of actions, that flows
//! reach with the `group:N` action.
//!
//! One [`GroupTable`] per bridge, next to its [`FlowTable`]: GROUP_MOD's
//! add, modify and delete, the checks OpenFlow asks of them, the groups'
//! and buckets' counters, and the choice of a `select` group's bucket.
//! Running a bucket's actions is [`super::exec`]'s. Errors are
//! [`GroupError`], one variant per OpenFlow error the engine replies with
//! (this module does not know the OpenFlow codec: the engine maps).
//!
//! Choices:
//!
//! - Chaining (a bucket's `group:N`) is allowed, as OVS allows it; a
//!   change that would close a loop of groups is refused
//!   ([`GroupError::GroupLoop`]). A bucket may name a group that does not exist
//!   (yet, or any more): it does nothing until that group exists, as a
//!   flow's `group:N` does. Deleting a group that others chain to is
//!   allowed (OpenFlow's CHAINED_GROUP refusal is optional; OVS does not
//!   refuse either).
//! - Weights: only `select` groups have them (1.3: "only defined for select
//!   groups"); another type's bucket with a weight is refused, as OVS does.
//!   A `select` bucket of weight 0 is kept and never chosen.
//! - Liveness: switchd has no fast-failover (refused with
//!   [`GroupError::BadGroupType`]) and `select` ignores `watch_port` /
//!   `watch_group`: the action interpreter knows no port state. Both are
//!   kept and reported as given.
//! - `goto_table` and `meter` are instructions, not actions: a bucket
//!   holding one is refused ([`GroupError::BadBucket`]). `resubmit` (an OVS
//!   extension) is allowed and counts against the interpreter's depth
//!   limit, as a chain of groups does.
//! - Modify replaces type and buckets; the group keeps its creation time
//!   and its own counters, the buckets' counters start again (the buckets
//!   are new ones).
//!
//! `select`'s bucket: weighted rendezvous hashing over a symmetric hash of
//! the frame's connection (see [`connection_hash`] and [`Group::select`]):
//! deterministic, exactly proportional to the weights, and a change of one
//! bucket moves only the connections that bucket gains or loses.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::Instant;

use super::key::{Field, FlowKey};
use super::table::FlowTable;
use super::types::Action;

/// Largest id a group can have (OpenFlow's `OFPG_MAX`; the ids above are
/// reserved: `OFPG_ALL`, `OFPG_ANY`).
pub const MAX_GROUP_ID: u32 = 0xffff_ff00;

/// Most groups a bridge holds ([`GroupError::OutOfGroups`] beyond).
pub const MAX_GROUPS: usize = 65536;

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

/// A GROUP_MOD refused; each variant is the OpenFlow error of the same
/// name (`OFPGMFC_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    /// Add of a group that exists (OFPGMFC_GROUP_EXISTS).
    #[error("group {0} already exists")]
    GroupExists(u32),
    /// Modify of a group that does not exist (OFPGMFC_UNKNOWN_GROUP).
    #[error("group {0} does not exist")]
    UnknownGroup(u32),
    /// A reserved id, an `indirect` group without exactly one bucket, or a
    /// weight on a bucket of a group other than `select`
    /// (OFPGMFC_INVALID_GROUP).
    #[error("group {0} is invalid: {1}")]
    InvalidGroup(u32, &'static str),
    /// A bucket whose actions a bucket cannot hold (OFPGMFC_BAD_BUCKET).
    #[error("group {0}: bucket {1} is invalid: {2}")]
    BadBucket(u32, usize, &'static str),
    /// Fast failover (OFPGMFC_BAD_TYPE).
    #[error("group {0}: fast-failover groups are not supported (only all, select and indirect)")]
    BadGroupType(u32),
    /// The change would make groups chain to themselves (OFPGMFC_LOOP).
    #[error("group {0} would chain back to itself (a loop of groups)")]
    GroupLoop(u32),
    /// The bridge holds [`MAX_GROUPS`] already (OFPGMFC_OUT_OF_GROUPS).
    #[error("group table full: a bridge holds at most {MAX_GROUPS} groups")]
    OutOfGroups,
}

/// A frame and byte counter, counted through a shared borrow (as the
/// flows' counters: see [`super::table::Entry`]).
#[derive(Debug, Clone, Default)]
struct Counter {
    packets: Cell<u64>,
    bytes: Cell<u64>,
}

impl Counter {
    #[inline]
    fn hit(&self, len: usize) {
        self.packets.set(self.packets.get() + 1);
        self.bytes.set(self.bytes.get() + len as u64);
    }

    fn get(&self) -> (u64, u64) {
        (self.packets.get(), self.bytes.get())
    }
}

/// A group with its counters.
#[derive(Debug, Clone)]
pub struct Group {
    /// Its id.
    pub id: u32,
    /// Its type (never [`GroupType::FastFailover`]).
    pub group_type: GroupType,
    /// Its buckets, in the order given.
    pub buckets: Vec<Bucket>,
    /// When it was added (a modification keeps it).
    pub created: Instant,
    counter: Counter,
    /// One per bucket, in the same order.
    bucket_counters: Vec<Counter>,
}

impl Group {
    /// Frames that went through it.
    pub fn n_packets(&self) -> u64 {
        self.counter.packets.get()
    }

    /// Bytes of those frames.
    pub fn n_bytes(&self) -> u64 {
        self.counter.bytes.get()
    }

    /// Per bucket, in order: (frames, bytes) that went through it.
    pub fn bucket_counts(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.bucket_counters.iter().map(Counter::get)
    }

    /// Counts a frame of `len` bytes through the group.
    #[inline]
    pub(super) fn hit(&self, len: usize) {
        self.counter.hit(len);
    }

    /// Counts a frame of `len` bytes through bucket `i`.
    #[inline]
    pub(super) fn bucket_hit(&self, i: usize, len: usize) {
        if let Some(c) = self.bucket_counters.get(i) {
            c.hit(len);
        }
    }

    /// The bucket a `select` group sends the frame with key `key` to
    /// (`None`: no bucket has a weight). Weighted rendezvous hashing:
    /// every bucket of weight `w` draws `u` in (0, 1) from a hash of the
    /// connection ([`connection_hash`]), the group id and the bucket's
    /// index, and scores `-ln(u) / w`; the lowest score wins. The scores
    /// are exponential variables of rate `w`, so bucket `i` wins with
    /// probability `w_i / Σw` exactly; the same connection always draws the
    /// same numbers, so it stays on its bucket, and adding, removing or
    /// reweighting one bucket moves only connections to or from that one.
    /// (OVS's legacy default scores `hash * weight`, which favours heavy
    /// buckets more than their weight says.)
    pub fn select(&self, key: &FlowKey) -> Option<usize> {
        let base = mix(connection_hash(key) ^ u64::from(self.id).wrapping_mul(K1));
        let mut best: Option<(f64, usize)> = None;
        for (i, b) in self.buckets.iter().enumerate() {
            if b.weight == 0 {
                continue;
            }
            let h = mix(base ^ (i as u64 + 1).wrapping_mul(K2));
            // 53 random bits, centred in their interval: 0 < u < 1.
            let u = ((h >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
            let score = -u.ln() / f64::from(b.weight);
            if best.is_none_or(|(s, _)| score < s) {
                best = Some((score, i));
            }
        }
        best.map(|(_, i)| i)
    }

    /// The groups its buckets chain to.
    fn chained(&self) -> impl Iterator<Item = u32> + '_ {
        chained(&self.buckets)
    }
}

const K1: u64 = 0x9e37_79b9_7f4a_7c15;
const K2: u64 = 0xc2b2_ae3d_27d4_eb4f;

/// MurmurHash3's 64-bit finalizer: every input bit affects every output
/// bit.
#[inline]
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A hash of the fields that name the frame's connection: Ethernet
/// addresses and type, VLAN id, IP addresses (v4 and v6) and protocol, and
/// L4 ports (ICMP type and code, ARP's opcode and addresses, where those
/// share the places). Symmetric, as OVS's `flow_hash_symmetric_l4` that its
/// `select` groups used by default: each source/destination pair goes in
/// as (smaller, larger), so both directions of a connection hash alike.
/// Not the ingress port, TTL, ToS, registers or metadata: they do not name
/// the connection. Deterministic (fixed constants, no per-process seed).
#[inline]
pub fn connection_hash(key: &FlowKey) -> u64 {
    let pair = |a: Field, b: Field| {
        let (x, y) = (key.get(a), key.get(b));
        (x.min(y), x.max(y))
    };
    let mut h = 0u64;
    let mut add = |v: u128| {
        h = mix(h ^ (v as u64))
            .wrapping_add((v >> 64) as u64)
            .wrapping_mul(K1);
    };
    let (lo, hi) = pair(Field::DlSrc, Field::DlDst);
    add(lo);
    add(hi);
    add(u128::from(key.dl_type()) << 16 | u128::from(key.vlan_tci() & 0x1fff));
    add(u128::from(key.nw_proto()));
    let (lo, hi) = pair(Field::NwSrc, Field::NwDst);
    add(lo << 32 | hi);
    let (lo, hi) = pair(Field::Ipv6Src, Field::Ipv6Dst);
    add(lo);
    add(hi);
    let (lo, hi) = pair(Field::TpSrc, Field::TpDst);
    add(lo << 16 | hi);
    mix(h)
}

/// The groups named by `group:N` actions of `buckets`.
fn chained(buckets: &[Bucket]) -> impl Iterator<Item = u32> + '_ {
    buckets.iter().flat_map(|b| {
        b.actions.iter().filter_map(|a| match a {
            Action::Group(g) => Some(*g),
            _ => None,
        })
    })
}

/// One bridge's groups, by id.
#[derive(Debug, Default)]
pub struct GroupTable {
    groups: BTreeMap<u32, Group>,
}

impl GroupTable {
    /// No groups (allocates nothing).
    pub const fn new() -> GroupTable {
        GroupTable {
            groups: BTreeMap::new(),
        }
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Group `id`.
    #[inline]
    pub fn get(&self, id: u32) -> Option<&Group> {
        self.groups.get(&id)
    }

    /// Every group, by ascending id.
    pub fn iter(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// OFPGC_ADD: a new group `id` of `group_type` with `buckets`, its
    /// counters at zero from `now`.
    ///
    /// # Errors
    /// [`GroupError::GroupExists`], [`GroupError::OutOfGroups`], or why
    /// the group is invalid (see [`GroupTable::modify`]).
    pub fn add(
        &mut self,
        id: u32,
        group_type: GroupType,
        buckets: Vec<Bucket>,
        now: Instant,
    ) -> Result<(), GroupError> {
        if self.groups.contains_key(&id) {
            return Err(GroupError::GroupExists(id));
        }
        self.check(id, group_type, &buckets)?;
        if self.groups.len() >= MAX_GROUPS {
            return Err(GroupError::OutOfGroups);
        }
        let bucket_counters = vec![Counter::default(); buckets.len()];
        self.groups.insert(
            id,
            Group {
                id,
                group_type,
                buckets,
                created: now,
                counter: Counter::default(),
                bucket_counters,
            },
        );
        Ok(())
    }

    /// OFPGC_MODIFY: group `id` becomes `group_type` (a change of type is
    /// allowed) with `buckets`; it keeps its creation time and counters,
    /// its buckets' counters start at zero.
    ///
    /// # Errors
    /// [`GroupError::UnknownGroup`]; [`GroupError::InvalidGroup`] for a
    /// reserved id, an `indirect` group without exactly one bucket or a
    /// weight outside `select`; [`GroupError::BadGroupType`] for fast failover;
    /// [`GroupError::BadBucket`] for `goto_table`, `meter` or a reserved
    /// group in a bucket; [`GroupError::GroupLoop`] if the buckets would chain
    /// back to `id`.
    pub fn modify(&mut self, id: u32, group_type: GroupType, buckets: Vec<Bucket>) -> Result<(), GroupError> {
        if !self.groups.contains_key(&id) {
            return Err(GroupError::UnknownGroup(id));
        }
        self.check(id, group_type, &buckets)?;
        let g = self.groups.get_mut(&id).expect("checked above");
        g.group_type = group_type;
        g.bucket_counters = vec![Counter::default(); buckets.len()];
        g.buckets = buckets;
        Ok(())
    }

    /// OFPGC_DELETE: removes group `id` (`None`: every group) and returns
    /// the ids removed, ascending (none if it did not exist, which OpenFlow
    /// does not count as an error). The flows that use them are the
    /// caller's to remove ([`crate::flow::FlowFilter::out_group`]).
    pub fn delete(&mut self, id: Option<u32>) -> Vec<u32> {
        match id {
            None => std::mem::take(&mut self.groups).into_keys().collect(),
            Some(id) => self.groups.remove(&id).map(|g| g.id).into_iter().collect(),
        }
    }

    /// OpenFlow's `ref_count` of group `id`: the flows of `flows` and the
    /// groups of this table whose actions name it directly.
    pub fn ref_count(&self, flows: &FlowTable, id: u32) -> u32 {
        let by_flows = flows.iter().filter(|(_, e)| e.outputs_to_group(id)).count();
        let by_groups = self
            .groups
            .values()
            .filter(|g| g.chained().any(|c| c == id))
            .count();
        (by_flows + by_groups) as u32
    }

    /// Whether group `id` may be `group_type` with `buckets`.
    fn check(&self, id: u32, group_type: GroupType, buckets: &[Bucket]) -> Result<(), GroupError> {
        if id > MAX_GROUP_ID {
            return Err(GroupError::InvalidGroup(
                id,
                "the id is reserved (ids are 0-4294967040)",
            ));
        }
        match group_type {
            GroupType::FastFailover => return Err(GroupError::BadGroupType(id)),
            GroupType::Indirect if buckets.len() != 1 => {
                return Err(GroupError::InvalidGroup(
                    id,
                    "an indirect group has exactly one bucket",
                ))
            }
            _ => {}
        }
        for (i, b) in buckets.iter().enumerate() {
            if b.weight != 0 && group_type != GroupType::Select {
                return Err(GroupError::InvalidGroup(
                    id,
                    "only the buckets of select groups have weights",
                ));
            }
            for a in &b.actions {
                let why = match a {
                    Action::GotoTable(_) => "goto_table is an instruction, not an action of a bucket",
                    Action::Meter(_) => "meter is an instruction, not an action of a bucket",
                    Action::Group(g) if *g > MAX_GROUP_ID => "group: the id is reserved",
                    _ => continue,
                };
                return Err(GroupError::BadBucket(id, i, why));
            }
        }
        if self.reaches(id, buckets) {
            return Err(GroupError::GroupLoop(id));
        }
        Ok(())
    }

    /// Whether `buckets`, as group `id`'s, would chain back to `id`. The
    /// existing groups chain without loops (every change is checked), so
    /// a loop would have to pass through `id`: a walk from its new buckets
    /// through the other groups looks for it.
    fn reaches(&self, id: u32, buckets: &[Bucket]) -> bool {
        let mut seen = std::collections::BTreeSet::new();
        let mut todo: Vec<u32> = chained(buckets).collect();
        while let Some(g) = todo.pop() {
            if g == id {
                return true;
            }
            if !seen.insert(g) {
                continue;
            }
            if let Some(group) = self.groups.get(&g) {
                todo.extend(group.chained());
            }
        }
        false
    }
}

#[cfg(test)]
mod tests;

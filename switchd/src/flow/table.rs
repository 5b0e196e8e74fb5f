//! One bridge's flow tables as OpenFlow defines their changes: the flows
//! with their counters and ages, indexed by the [`Classifier`], and the
//! add / modify / delete / expire operations of `ovs-ofctl` and OpenFlow's
//! FLOW_MOD (strict and non-strict selection, cookies, `out_port`,
//! `out_group`).
//!
//! Pure: times come in as arguments. The engine owns one per bridge and
//! calls [`FlowTable::lookup`] and [`FlowTable::hit`] per frame; everything
//! else runs on commands and on the one-second timer.

use std::cell::Cell;
use std::time::{Duration, Instant};

use super::classifier::{Classifier, FlowId};
use super::key::FlowKey;
use super::types::{Action, FlowFilter, FlowSpec, Match, ALL_TABLES, N_TABLES};

/// Most flows a bridge holds (OpenFlow's "table full" beyond).
pub const MAX_FLOWS: usize = 1_000_000;

/// Who added a flow: flows from switchctl are stored in the db, a
/// controller's are not (SPEC §9, §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `switchctl add-flow` and friends, or the bridge's default flow.
    Local,
    /// An OpenFlow controller.
    Controller,
}

/// A flow with its statistics.
///
/// The per-frame statistics are `Cell`s so that a frame's run through the
/// actions can count a hit while it holds the flow's action list borrowed
/// (see [`FlowTable::split`]): no copy of the list, no second lookup per
/// action. The engine's thread alone owns the tables, so nothing here
/// needs to be shared.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The flow.
    pub spec: FlowSpec,
    n_packets: Cell<u64>,
    n_bytes: Cell<u64>,
    /// When it was added (or replaced with counters reset).
    pub created: Instant,
    used: Cell<Instant>,
    /// When its timeouts count from (a modification restarts them, as OVS).
    pub modified: Instant,
    /// Who added it.
    pub origin: Origin,
}

impl Entry {
    fn new(spec: FlowSpec, origin: Origin, now: Instant) -> Entry {
        Entry {
            spec,
            n_packets: Cell::new(0),
            n_bytes: Cell::new(0),
            created: now,
            used: Cell::new(now),
            modified: now,
            origin,
        }
    }

    /// Frames that matched it.
    pub fn n_packets(&self) -> u64 {
        self.n_packets.get()
    }

    /// Bytes of those frames.
    pub fn n_bytes(&self) -> u64 {
        self.n_bytes.get()
    }

    /// When it last matched a frame (or was added or changed).
    pub fn used(&self) -> Instant {
        self.used.get()
    }

    /// Counts a frame of `bytes` at `now`.
    #[inline]
    pub fn hit(&self, bytes: usize, now: Instant) {
        self.n_packets.set(self.n_packets.get() + 1);
        self.n_bytes.set(self.n_bytes.get() + bytes as u64);
        self.used.set(now);
    }

    fn reset_counts(&self) {
        self.n_packets.set(0);
        self.n_bytes.set(0);
    }

    /// Whether one of its timeouts has passed at `now`.
    pub fn expired(&self, now: Instant) -> Option<RemovedReason> {
        let s = &self.spec;
        if s.hard_timeout != 0 && now >= self.modified + Duration::from_secs(s.hard_timeout.into()) {
            return Some(RemovedReason::HardTimeout);
        }
        if s.idle_timeout != 0 && now >= self.used.get() + Duration::from_secs(s.idle_timeout.into()) {
            return Some(RemovedReason::IdleTimeout);
        }
        None
    }

    /// Whether any action outputs to OpenFlow port `port` (for `out_port`).
    pub fn outputs_to(&self, port: u16) -> bool {
        self.spec
            .actions
            .iter()
            .any(|a| matches!(a, Action::Output(p) if *p == port))
    }

    /// Whether any action is `group:G` (for `out_group`, and a group's
    /// `ref_count`).
    pub fn outputs_to_group(&self, group: u32) -> bool {
        self.spec
            .actions
            .iter()
            .any(|a| matches!(a, Action::Group(g) if *g == group))
    }
}

/// Why a flow went away (OpenFlow's FLOW_REMOVED reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovedReason {
    /// `idle_timeout` passed without a matching frame.
    IdleTimeout,
    /// `hard_timeout` passed.
    HardTimeout,
    /// Deleted by a command.
    Delete,
}

/// A change refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// Too many flows.
    #[error("table full: a bridge holds at most {MAX_FLOWS} flows")]
    Full,
    /// A table number beyond 253.
    #[error("table {0} does not exist (tables are 0-253)")]
    BadTable(u8),
}

/// Every flow table of one bridge.
#[derive(Debug)]
pub struct FlowTable {
    entries: Vec<Option<Entry>>,
    free: Vec<FlowId>,
    cls: Classifier,
    len: usize,
    /// Frames the data path matched to the default flow without a lookup
    /// ([`FlowTable::hit`]): table 0 lookups and matches all the same.
    shortcut: Cell<u64>,
}

impl Default for FlowTable {
    fn default() -> Self {
        Self::new()
    }
}

impl FlowTable {
    /// Empty tables: every frame misses.
    pub fn new() -> FlowTable {
        FlowTable {
            entries: Vec::new(),
            free: Vec::new(),
            cls: Classifier::new(),
            len: 0,
            shortcut: Cell::new(0),
        }
    }

    /// A new bridge's tables: only `priority=0,actions=NORMAL` in table 0.
    pub fn with_default(now: Instant) -> FlowTable {
        let mut t = FlowTable::new();
        let _ = t.add(default_flow(), true, Origin::Local, now);
        t
    }

    /// Number of flows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no flows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// If the tables hold exactly the default flow, its id: the engine then
    /// switches with NORMAL directly and only counts the flow's hits.
    pub fn default_only(&self) -> Option<FlowId> {
        if self.len != 1 {
            return None;
        }
        let (id, e) = self.iter().next()?;
        (e.spec == default_flow()).then_some(id)
    }

    /// Adds `spec`, or replaces the actions (and timeouts, cookie) of the
    /// flow with the same table, priority and match; `reset_counts` zeroes
    /// the replaced flow's counters (switchctl always, OpenFlow 1.3 with
    /// OFPFF_RESET_COUNTS).
    pub fn add(
        &mut self,
        spec: FlowSpec,
        reset_counts: bool,
        origin: Origin,
        now: Instant,
    ) -> Result<FlowId, TableError> {
        if spec.table >= N_TABLES {
            return Err(TableError::BadTable(spec.table));
        }
        if let Some(id) = self.cls.find_exact(spec.table, spec.priority, &spec.matching) {
            let e = self.entries[id as usize]
                .as_mut()
                .expect("classifier and entries agree");
            e.spec = spec;
            e.modified = now;
            e.used.set(now);
            e.origin = origin;
            if reset_counts {
                e.reset_counts();
                e.created = now;
            }
            return Ok(id);
        }
        if self.len >= MAX_FLOWS {
            return Err(TableError::Full);
        }
        let entry = Entry::new(spec, origin, now);
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.entries.push(None);
                (self.entries.len() - 1) as FlowId
            }
        };
        self.cls
            .insert(entry.spec.table, entry.spec.priority, &entry.spec.matching, id);
        self.entries[id as usize] = Some(entry);
        self.len += 1;
        Ok(id)
    }

    /// The flows `filter` selects: with `strict`, the one flow with exactly
    /// its match and priority (in its table, or in every table); without,
    /// every flow whose match is within the filter's (OpenFlow's non-strict
    /// rule); both narrowed by cookie, `out_port` and `out_group`.
    pub fn select(&self, filter: &FlowFilter, strict: bool) -> Vec<FlowId> {
        let mut ids: Vec<FlowId> = self
            .iter()
            .filter(|(_, e)| {
                let s = &e.spec;
                (filter.table == ALL_TABLES || s.table == filter.table)
                    && (s.cookie & filter.cookie_mask) == (filter.cookie & filter.cookie_mask)
                    && filter.out_port.is_none_or(|p| e.outputs_to(p))
                    && filter.out_group.is_none_or(|g| e.outputs_to_group(g))
                    && if strict {
                        s.priority == filter.priority && s.matching == filter.matching
                    } else {
                        s.matching.is_subset_of(&filter.matching)
                    }
            })
            .map(|(id, _)| id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// `mod-flows`: gives every selected flow `actions` (and keeps its
    /// counters, as `ovs-ofctl mod-flows`); returns how many changed. As
    /// OpenFlow 1.1+, a modification that selects nothing adds nothing.
    pub fn modify(
        &mut self,
        filter: &FlowFilter,
        strict: bool,
        actions: &[Action],
        reset_counts: bool,
        now: Instant,
    ) -> usize {
        let ids = self.select(filter, strict);
        for id in &ids {
            if let Some(e) = self.entries[*id as usize].as_mut() {
                e.spec.actions = actions.to_vec();
                e.modified = now;
                if reset_counts {
                    e.reset_counts();
                }
            }
        }
        ids.len()
    }

    /// `del-flows`: removes the selected flows and returns them.
    pub fn delete(&mut self, filter: &FlowFilter, strict: bool) -> Vec<Entry> {
        let ids = self.select(filter, strict);
        ids.into_iter().filter_map(|id| self.remove(id)).collect()
    }

    /// Removes flow `id`.
    pub fn remove(&mut self, id: FlowId) -> Option<Entry> {
        let e = self.entries.get_mut(id as usize)?.take()?;
        self.cls
            .remove(e.spec.table, e.spec.priority, &e.spec.matching, id);
        self.free.push(id);
        self.len -= 1;
        Some(e)
    }

    /// Removes the flows whose timeouts have passed at `now`, with why.
    pub fn expire(&mut self, now: Instant) -> Vec<(Entry, RemovedReason)> {
        let due: Vec<(FlowId, RemovedReason)> = self
            .iter()
            .filter_map(|(id, e)| e.expired(now).map(|r| (id, r)))
            .collect();
        due.into_iter()
            .filter_map(|(id, r)| self.remove(id).map(|e| (e, r)))
            .collect()
    }

    /// Whether any flow has a timeout (so the engine need not scan the
    /// flows every second when none does).
    pub fn has_timeouts(&self) -> bool {
        self.iter()
            .any(|(_, e)| e.spec.idle_timeout != 0 || e.spec.hard_timeout != 0)
    }

    /// The highest-priority flow of `table` matching `key` (through the
    /// classifier's exact-match cache).
    #[inline]
    pub fn lookup(&mut self, table: u8, key: &FlowKey) -> Option<FlowId> {
        self.cls.lookup(table, key)
    }

    /// The same, without touching the cache (for `trace`).
    pub fn lookup_uncached(&self, table: u8, key: &FlowKey) -> Option<FlowId> {
        self.cls.lookup_uncached(table, key)
    }

    /// Counts a frame of `bytes` on flow `id`, which the data path found
    /// without looking table 0 up (the default-flow shortcut).
    #[inline]
    pub fn hit(&self, id: FlowId, bytes: usize, now: Instant) {
        if let Some(Some(e)) = self.entries.get(id as usize) {
            e.hit(bytes, now);
        }
        self.shortcut.set(self.shortcut.get() + 1);
    }

    /// Frames looked up in `table` and those a flow of it matched.
    pub fn table_stats(&self, table: u8) -> (u64, u64) {
        let (lookups, matched) = self.cls.table_stats(table);
        let s = if table == 0 { self.shortcut.get() } else { 0 };
        (lookups + s, matched + s)
    }

    /// The classifier, to look frames up, and the flows, to count hits and
    /// read actions, at once (a frame's run through the actions needs both).
    #[inline]
    pub fn split(&mut self) -> (&mut Classifier, Flows<'_>) {
        (&mut self.cls, Flows(&self.entries))
    }

    /// Flow `id`.
    pub fn get(&self, id: FlowId) -> Option<&Entry> {
        self.entries.get(id as usize)?.as_ref()
    }

    /// Every flow with its id, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (FlowId, &Entry)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i as FlowId, e)))
    }

    /// The flows `filter` selects, in `dump-flows` order: by table, then
    /// highest priority first, then oldest first.
    pub fn dump(&self, filter: &FlowFilter) -> Vec<&Entry> {
        let mut v: Vec<(FlowId, &Entry)> = self
            .select(filter, false)
            .into_iter()
            .filter_map(|id| self.get(id).map(|e| (id, e)))
            .collect();
        v.sort_by(|(ia, a), (ib, b)| {
            (a.spec.table, std::cmp::Reverse(a.spec.priority), a.created, ia).cmp(&(
                b.spec.table,
                std::cmp::Reverse(b.spec.priority),
                b.created,
                ib,
            ))
        });
        v.into_iter().map(|(_, e)| e).collect()
    }

    /// The flow with exactly `spec` (table, priority, match and the rest).
    pub fn find(&self, spec: &FlowSpec) -> Option<FlowId> {
        let id = self.cls.find_exact(spec.table, spec.priority, &spec.matching)?;
        (self.get(id)?.spec == *spec).then_some(id)
    }
}

/// The flows of a [`FlowTable`], read-only but for their statistics
/// ([`FlowTable::split`]).
#[derive(Debug, Clone, Copy)]
pub struct Flows<'a>(&'a [Option<Entry>]);

impl<'a> Flows<'a> {
    /// Counts a frame of `bytes` on flow `id` and returns the flow (its
    /// actions, and its table and cookie for a PACKET_IN).
    #[inline]
    pub fn hit(self, id: FlowId, bytes: usize, now: Instant) -> Option<&'a FlowSpec> {
        let e = self.0.get(id as usize)?.as_ref()?;
        e.hit(bytes, now);
        Some(&e.spec)
    }

    /// Flow `id`, not counted (for `trace`).
    pub fn get(self, id: FlowId) -> Option<&'a FlowSpec> {
        Some(&self.0.get(id as usize)?.as_ref()?.spec)
    }
}

/// `priority=0,actions=NORMAL`: what a new bridge starts with (SPEC §9).
pub fn default_flow() -> FlowSpec {
    FlowSpec {
        priority: 0,
        matching: Match::ANY,
        actions: vec![Action::Normal],
        ..FlowSpec::default()
    }
}

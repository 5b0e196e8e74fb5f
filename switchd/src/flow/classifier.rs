//! The flow tables' index: which flow of a table a packet's key hits, by
//! tuple-space search as OVS's classifier (`lib/classifier.c`), behind the
//! exact-match cache of [`super::cache`].
//!
//! The classifier only indexes: it maps (table, priority, match) to a
//! [`FlowId`] that the caller gives, and a key to the id of the flow that
//! wins. The flows themselves (actions, counters, timeouts) live with the
//! caller, which keeps this module free of everything but the search.
//!
//! Structure, per table:
//! - one *subtable* per distinct mask. A subtable is a hash map from the
//!   key's words under that mask (only the words the mask touches, so a
//!   subtable on `in_port` hashes one word, not nineteen) to the flows with
//!   that masked value, sorted by priority (highest first) then id
//!   (smallest first): the head of the list is the subtable's answer;
//! - the subtables sorted by the highest priority they hold, so a lookup
//!   walks them in that order and stops at the first subtable whose best
//!   priority is below the best match found so far (at equal priority it
//!   goes on: the smaller id may still be further down). With rules of
//!   few shapes (the usual case) that is a handful of hash probes;
//! - the union of the subtables' masks, as the cache's `Layout`: a key
//!   reduced by that union gets the same answer as the full key, since no
//!   rule looks anywhere else;
//! - a generation, renewed on every change of the table, that kills the
//!   table's cache entries at once.
//!
//! [`Classifier::lookup`] probes the cache with the key under the union,
//! and on a miss searches the subtables and fills the cache. A table whose rules look at
//! nothing (the bridge's default `priority=0,actions=NORMAL` alone) has one
//! answer for every packet, kept aside: that lookup reads two fields and
//! hashes nothing, so the default flow does not slow NORMAL switching.
//!
//! Changes (insert, remove) are control-plane work: they cost a hash
//! insert plus O(number of subtables) to keep the order and the union.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use super::cache::{ExactCache, Layout};
use super::key::{FlowKey, Words, KEY_WORDS};
use super::types::Match;

pub use super::types::FlowId;

/// One flow in a subtable's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rule {
    priority: u16,
    id: FlowId,
}

impl Rule {
    /// The order of a list and of the search: higher priority first, then
    /// the smaller id (the older flow, when ids are handed out in order).
    #[inline]
    fn beats(self, other: Rule) -> bool {
        self.priority > other.priority || (self.priority == other.priority && self.id < other.id)
    }
}

/// All flows of one table with one mask.
#[derive(Debug)]
struct Subtable {
    mask: FlowKey,
    words: Words,
    /// Reduced value → flows, best first. Keys are boxed slices so that a
    /// lookup can probe with a borrowed `&[u64]` from the stack.
    map: HashMap<Box<[u64]>, Vec<Rule>, foldhash::fast::RandomState>,
    /// How many flows have each priority, to know the maximum after a
    /// removal without a walk.
    priorities: BTreeMap<u16, u32>,
    /// The highest priority of the subtable's flows.
    max_priority: u16,
}

impl Subtable {
    fn new(mask: FlowKey) -> Subtable {
        Subtable {
            mask,
            words: Words::of(&mask),
            map: HashMap::default(),
            priorities: BTreeMap::new(),
            max_priority: 0,
        }
    }

    /// The best flow whose masked value equals `key`'s (`buf` is scratch
    /// space, so that a search zeroes one buffer, not one per subtable).
    #[inline]
    fn find(&self, key: &FlowKey, buf: &mut [u64; KEY_WORDS]) -> Option<Rule> {
        let words = self.words.reduce(key, buf);
        self.map.get(words).and_then(|list| list.first().copied())
    }

    fn list(&self, value: &FlowKey) -> Option<&Vec<Rule>> {
        let mut buf = [0u64; KEY_WORDS];
        self.map.get(self.words.reduce(value, &mut buf))
    }

    fn insert(&mut self, value: &FlowKey, rule: Rule) {
        let mut buf = [0u64; KEY_WORDS];
        let words = self.words.reduce(value, &mut buf);
        let list = match self.map.get_mut(words) {
            Some(list) => list,
            None => self.map.entry(words.into()).or_default(),
        };
        let at = list.partition_point(|r| r.beats(rule));
        list.insert(at, rule);
        *self.priorities.entry(rule.priority).or_default() += 1;
        self.max_priority = self.max_priority.max(rule.priority);
    }

    /// Removes `rule`; whether it was there.
    fn remove(&mut self, value: &FlowKey, rule: Rule) -> bool {
        let mut buf = [0u64; KEY_WORDS];
        let words = self.words.reduce(value, &mut buf);
        let Some(list) = self.map.get_mut(words) else {
            return false;
        };
        let Some(at) = list.iter().position(|r| *r == rule) else {
            return false;
        };
        list.remove(at);
        if list.is_empty() {
            self.map.remove(words);
        }
        if let Some(n) = self.priorities.get_mut(&rule.priority) {
            *n -= 1;
            if *n == 0 {
                self.priorities.remove(&rule.priority);
            }
        }
        self.max_priority = self.priorities.keys().next_back().copied().unwrap_or(0);
        true
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// One table.
#[derive(Debug)]
struct Table {
    /// Sorted by `max_priority`, highest first.
    subtables: Vec<Subtable>,
    n_flows: usize,
    /// What the cache reads of a key: the union of the masks.
    layout: Layout,
    /// Whether some rule looks at some bit (the union is not zero).
    reads_key: bool,
    /// When no rule looks at anything: the answer for every packet.
    fixed: Option<FlowId>,
    /// This version of the table, for the cache (unique per classifier).
    gen: u64,
    /// Frames looked up in this table, and those a flow matched (OpenFlow
    /// table statistics, metrics).
    lookups: u64,
    matched: u64,
}

impl Table {
    fn new(gen: u64) -> Table {
        Table {
            subtables: Vec::new(),
            n_flows: 0,
            layout: Layout::of(&FlowKey::ZERO),
            reads_key: false,
            lookups: 0,
            matched: 0,
            fixed: None,
            gen,
        }
    }

    /// After a change: the subtables' order, the union of the masks, the
    /// fixed answer, and a new generation.
    fn refresh(&mut self, gen: u64) {
        // Stable sort of an almost sorted vector: linear in practice.
        self.subtables.sort_by_key(|s| Reverse(s.max_priority));
        let union = self.subtables.iter().fold(FlowKey::ZERO, |u, s| u.union(&s.mask));
        self.layout = Layout::of(&union);
        self.reads_key = !union.is_zero();
        self.fixed = if !self.reads_key {
            // Only the all-wildcard subtable can exist.
            let mut buf = [0u64; KEY_WORDS];
            self.subtables
                .first()
                .and_then(|s| s.find(&FlowKey::ZERO, &mut buf))
                .map(|r| r.id)
        } else {
            None
        };
        self.gen = gen;
    }

    fn subtable(&self, mask: &FlowKey) -> Option<usize> {
        self.subtables.iter().position(|s| s.mask == *mask)
    }

    /// The search without the cache.
    #[inline]
    fn lookup(&self, key: &FlowKey) -> Option<FlowId> {
        let mut best: Option<Rule> = None;
        let mut buf = [0u64; KEY_WORDS];
        for s in &self.subtables {
            if let Some(b) = best {
                // Sorted by max priority: nothing further can win.
                if s.max_priority < b.priority {
                    break;
                }
            }
            if let Some(r) = s.find(key, &mut buf) {
                if best.is_none_or(|b| r.beats(b)) {
                    best = Some(r);
                }
            }
        }
        best.map(|r| r.id)
    }
}

/// Tables 0–253 (any `u8` works; the caller refuses 254 and 255) of
/// prioritized flows, and their lookup.
#[derive(Debug, Default)]
pub struct Classifier {
    /// Indexed by table number; grown up to the highest table used.
    tables: Vec<Table>,
    n_flows: usize,
    /// The last generation handed out (0 is never one: an empty cache
    /// slot has generation 0).
    last_gen: u64,
    cache: ExactCache,
}

impl Classifier {
    /// No flows; allocates nothing.
    pub fn new() -> Self {
        Self::default()
    }

    fn next_gen(&mut self) -> u64 {
        self.last_gen += 1;
        self.last_gen
    }

    /// Adds flow `id` to `table` with `priority` and match `m`; the caller
    /// guarantees no other flow has the same (table, priority, match).
    pub fn insert(&mut self, table: u8, priority: u16, m: &Match, id: FlowId) {
        let gen = self.next_gen();
        let ti = usize::from(table);
        if self.tables.len() <= ti {
            let first = self.last_gen;
            self.tables.resize_with(ti + 1, || Table::new(first));
        }
        let t = &mut self.tables[ti];
        let si = match t.subtable(&m.mask) {
            Some(si) => si,
            None => {
                t.subtables.push(Subtable::new(m.mask));
                t.subtables.len() - 1
            }
        };
        t.subtables[si].insert(&m.value, Rule { priority, id });
        t.n_flows += 1;
        t.refresh(gen);
        self.n_flows += 1;
    }

    /// Removes flow `id` with this table, priority and match; whether it
    /// was there.
    pub fn remove(&mut self, table: u8, priority: u16, m: &Match, id: FlowId) -> bool {
        let Some(t) = self.tables.get_mut(usize::from(table)) else {
            return false;
        };
        let Some(si) = t.subtable(&m.mask) else {
            return false;
        };
        if !t.subtables[si].remove(&m.value, Rule { priority, id }) {
            return false;
        }
        if t.subtables[si].is_empty() {
            t.subtables.remove(si);
        }
        t.n_flows -= 1;
        self.n_flows -= 1;
        let gen = self.next_gen();
        self.tables[usize::from(table)].refresh(gen);
        true
    }

    /// The flow with exactly this table, priority and match (OpenFlow's
    /// strict identity), if any.
    pub fn find_exact(&self, table: u8, priority: u16, m: &Match) -> Option<FlowId> {
        let t = self.tables.get(usize::from(table))?;
        let s = &t.subtables[t.subtable(&m.mask)?];
        s.list(&m.value)?
            .iter()
            .find(|r| r.priority == priority)
            .map(|r| r.id)
    }

    /// The highest-priority flow of `table` that matches `key` (ties go to
    /// the smallest id), through the exact-match cache.
    ///
    /// The hit path is kept small (it runs once per frame and table): the
    /// cache hashes and compares the key's words in place under the table's
    /// union of masks, and the search and fill of a miss are out of line.
    #[inline]
    pub fn lookup(&mut self, table: u8, key: &FlowKey) -> Option<FlowId> {
        let t = self.tables.get_mut(usize::from(table))?;
        t.lookups += 1;
        let answer = if !t.reads_key {
            t.fixed
        } else {
            let t = &self.tables[usize::from(table)];
            let hash = self.cache.hash(table, &t.layout, key);
            match self.cache.get(hash, t.gen, &t.layout, key) {
                Some(answer) => answer,
                None => self.lookup_miss(table, hash, key),
            }
        };
        if answer.is_some() {
            self.tables[usize::from(table)].matched += 1;
        }
        answer
    }

    /// Frames looked up in `table` and those a flow matched, since the
    /// table was created.
    pub fn table_stats(&self, table: u8) -> (u64, u64) {
        self.tables
            .get(usize::from(table))
            .map_or((0, 0), |t| (t.lookups, t.matched))
    }

    /// The search after a cache miss, and the cache's fill.
    #[inline(never)]
    fn lookup_miss(&mut self, table: u8, hash: u64, key: &FlowKey) -> Option<FlowId> {
        let t = &self.tables[usize::from(table)];
        let answer = t.lookup(key);
        self.cache.put(hash, t.gen, &t.layout, key, answer);
        answer
    }

    /// [`Classifier::lookup`] without the cache (for tests, traces, and
    /// measuring a miss); it neither reads nor fills the cache.
    pub fn lookup_uncached(&self, table: u8, key: &FlowKey) -> Option<FlowId> {
        self.tables.get(usize::from(table))?.lookup(key)
    }

    /// Number of flows in all tables.
    pub fn len(&self) -> usize {
        self.n_flows
    }

    /// Whether there are no flows.
    pub fn is_empty(&self) -> bool {
        self.n_flows == 0
    }

    /// Removes every flow of every table.
    pub fn clear(&mut self) {
        // New tables take new generations, so the cache's entries of the
        // old ones can never be hit again.
        self.tables.clear();
        self.n_flows = 0;
    }

    /// Lookups answered by the cache (hits) and not (misses). Lookups in a
    /// table whose rules look at nothing, or in an empty or unknown table,
    /// use no cache and are in neither count.
    pub fn cache_stats(&self) -> (u64, u64) {
        self.cache.stats()
    }

    /// Number of subtables (distinct masks) of `table`: how many probes a
    /// miss can cost.
    pub fn n_subtables(&self, table: u8) -> usize {
        self.tables
            .get(usize::from(table))
            .map_or(0, |t| t.subtables.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::key::Field;
    use proptest::prelude::*;

    fn m(fields: &[(Field, u128, u128)]) -> Match {
        let mut m = Match::ANY;
        for (f, v, mask) in fields {
            m.set(*f, *v, *mask);
        }
        m
    }

    fn exact(fields: &[(Field, u128)]) -> Match {
        m(&fields.iter().map(|(f, v)| (*f, *v, f.max())).collect::<Vec<_>>())
    }

    fn key(fields: &[(Field, u128)]) -> FlowKey {
        let mut k = FlowKey::ZERO;
        for (f, v) in fields {
            k.set(*f, *v);
        }
        k
    }

    /// Both lookups, which must agree.
    fn look(c: &mut Classifier, table: u8, k: &FlowKey) -> Option<FlowId> {
        let cached = c.lookup(table, k);
        assert_eq!(
            cached,
            c.lookup_uncached(table, k),
            "cache and search disagree for {k:?}"
        );
        cached
    }

    const TCP80: &[(Field, u128)] = &[
        (Field::InPort, 1),
        (Field::DlType, 0x0800),
        (Field::NwProto, 6),
        (Field::NwDst, 0x0a00_0105),
        (Field::TpDst, 80),
    ];

    #[test]
    fn highest_priority_wins() {
        let mut c = Classifier::new();
        c.insert(0, 0, &Match::ANY, 1);
        c.insert(0, 100, &exact(&[(Field::InPort, 1)]), 2);
        c.insert(
            0,
            200,
            &m(&[
                (Field::DlType, 0x0800, 0xffff),
                (Field::NwDst, 0x0a00_0100, 0xffff_ff00),
            ]),
            3,
        );
        c.insert(
            0,
            150,
            &exact(&[(Field::DlType, 0x0800), (Field::NwProto, 6), (Field::TpDst, 80)]),
            4,
        );
        assert_eq!(c.len(), 4);
        assert_eq!(c.n_subtables(0), 4);
        let k = key(TCP80);
        assert_eq!(look(&mut c, 0, &k), Some(3));
        let k2 = key(&[
            (Field::InPort, 1),
            (Field::DlType, 0x0800),
            (Field::NwProto, 6),
            (Field::TpDst, 80),
        ]);
        assert_eq!(look(&mut c, 0, &k2), Some(4));
        let k3 = key(&[(Field::InPort, 1)]);
        assert_eq!(look(&mut c, 0, &k3), Some(2));
        assert_eq!(look(&mut c, 0, &FlowKey::ZERO), Some(1));
        // Other tables are empty.
        assert_eq!(look(&mut c, 1, &k), None);
        assert_eq!(look(&mut c, 253, &k), None);
    }

    #[test]
    fn ties_go_to_the_smallest_id() {
        let mut c = Classifier::new();
        // Two masks, one priority, both match: the smaller id, whichever
        // subtable it is in and whatever the insertion order.
        c.insert(0, 10, &exact(&[(Field::InPort, 1)]), 9);
        c.insert(0, 10, &exact(&[(Field::TpDst, 80)]), 4);
        c.insert(0, 5, &Match::ANY, 1);
        let k = key(TCP80);
        assert_eq!(look(&mut c, 0, &k), Some(4));
        c.remove(0, 10, &exact(&[(Field::TpDst, 80)]), 4);
        assert_eq!(look(&mut c, 0, &k), Some(9));
        c.insert(0, 10, &exact(&[(Field::TpDst, 80)]), 12);
        assert_eq!(look(&mut c, 0, &k), Some(9));
        // One mask, one value, two priorities: the list's head.
        let mut c = Classifier::new();
        c.insert(0, 1, &exact(&[(Field::InPort, 1)]), 1);
        c.insert(0, 3, &exact(&[(Field::InPort, 1)]), 3);
        c.insert(0, 2, &exact(&[(Field::InPort, 1)]), 2);
        assert_eq!(look(&mut c, 0, &k), Some(3));
        c.remove(0, 3, &exact(&[(Field::InPort, 1)]), 3);
        assert_eq!(look(&mut c, 0, &k), Some(2));
    }

    #[test]
    fn remove_and_find_exact() {
        let mut c = Classifier::new();
        let a = exact(&[(Field::InPort, 1)]);
        let b = m(&[
            (Field::DlType, 0x0800, 0xffff),
            (Field::NwSrc, 0x0a00_0000, 0xffff_0000),
        ]);
        c.insert(3, 100, &a, 1);
        c.insert(3, 200, &b, 2);
        c.insert(3, 50, &a, 3);
        assert_eq!(c.find_exact(3, 100, &a), Some(1));
        assert_eq!(c.find_exact(3, 50, &a), Some(3));
        assert_eq!(c.find_exact(3, 200, &b), Some(2));
        assert_eq!(c.find_exact(3, 201, &b), None);
        assert_eq!(c.find_exact(2, 100, &a), None);
        assert_eq!(c.find_exact(3, 100, &exact(&[(Field::InPort, 2)])), None);
        assert_eq!(c.find_exact(3, 100, &Match::ANY), None);

        // Wrong id, priority, table or match: nothing removed.
        assert!(!c.remove(3, 100, &a, 2));
        assert!(!c.remove(3, 101, &a, 1));
        assert!(!c.remove(4, 100, &a, 1));
        assert!(!c.remove(200, 100, &a, 1));
        assert!(!c.remove(3, 100, &exact(&[(Field::InPort, 2)]), 1));
        assert_eq!(c.len(), 3);

        let k = key(&[
            (Field::InPort, 1),
            (Field::DlType, 0x0800),
            (Field::NwSrc, 0x0a00_0203),
        ]);
        assert_eq!(look(&mut c, 3, &k), Some(2));
        assert!(c.remove(3, 200, &b, 2));
        assert_eq!(c.n_subtables(3), 1);
        assert_eq!(look(&mut c, 3, &k), Some(1));
        assert!(c.remove(3, 100, &a, 1));
        assert_eq!(look(&mut c, 3, &k), Some(3));
        assert!(!c.remove(3, 100, &a, 1));
        assert!(c.remove(3, 50, &a, 3));
        assert_eq!(look(&mut c, 3, &k), None);
        assert!(c.is_empty());
        assert_eq!(c.n_subtables(3), 0);
    }

    #[test]
    fn changes_win_over_cached_answers() {
        let mut c = Classifier::new();
        c.insert(0, 10, &exact(&[(Field::InPort, 1)]), 1);
        c.insert(0, 20, &exact(&[(Field::InPort, 2)]), 2);
        let k = key(TCP80);
        assert_eq!(c.lookup(0, &k), Some(1));
        assert_eq!(c.lookup(0, &k), Some(1));
        assert_eq!(c.cache_stats(), (1, 1));

        // A higher-priority flow in the same subtable's shape, another
        // shape, then removals: each visible at the next lookup.
        c.insert(0, 30, &exact(&[(Field::TpDst, 80)]), 3);
        assert_eq!(c.lookup(0, &k), Some(3));
        c.insert(0, 40, &exact(&[(Field::InPort, 1), (Field::TpDst, 80)]), 4);
        assert_eq!(c.lookup(0, &k), Some(4));
        assert!(c.remove(0, 40, &exact(&[(Field::InPort, 1), (Field::TpDst, 80)]), 4));
        assert_eq!(c.lookup(0, &k), Some(3));
        assert!(c.remove(0, 30, &exact(&[(Field::TpDst, 80)]), 3));
        assert_eq!(c.lookup(0, &k), Some(1));
        // A cached "no match" is dropped as well.
        let other = key(&[(Field::InPort, 7)]);
        assert_eq!(c.lookup(0, &other), None);
        assert_eq!(c.lookup(0, &other), None);
        c.insert(0, 1, &exact(&[(Field::InPort, 7)]), 5);
        assert_eq!(c.lookup(0, &other), Some(5));
        // A change in another table does not matter, and clear empties.
        c.insert(1, 1, &Match::ANY, 6);
        assert_eq!(c.lookup(0, &other), Some(5));
        c.clear();
        assert_eq!(c.lookup(0, &other), None);
        assert_eq!(c.lookup(1, &other), None);
        c.insert(0, 1, &exact(&[(Field::InPort, 8)]), 6);
        c.insert(0, 1, &exact(&[(Field::TpDst, 8)]), 7);
        assert_eq!(c.lookup(0, &other), None);
        assert!(c.len() == 2);
    }

    #[test]
    fn unused_fields_do_not_split_the_cache() {
        let mut c = Classifier::new();
        c.insert(0, 10, &exact(&[(Field::InPort, 1)]), 1);
        c.insert(
            0,
            20,
            &exact(&[(Field::DlType, 0x0800), (Field::NwProto, 6), (Field::TpDst, 80)]),
            2,
        );
        let mut k = key(TCP80);
        assert_eq!(c.lookup(0, &k), Some(2));
        for flags in [0x02, 0x10, 0x18, 0x11] {
            k.set(Field::TcpFlags, flags);
            k.set(Field::TpSrc, 1000 + flags);
            k.set(Field::NwSrc, flags);
            assert_eq!(c.lookup(0, &k), Some(2));
        }
        assert_eq!(c.cache_stats(), (4, 1));
    }

    #[test]
    fn default_flow_alone_skips_the_cache() {
        let mut c = Classifier::new();
        c.insert(0, 0, &Match::ANY, 0);
        for p in 0..10 {
            assert_eq!(c.lookup(0, &key(&[(Field::InPort, p)])), Some(0));
        }
        assert_eq!(c.cache_stats(), (0, 0));
        // Two all-wildcard flows: the better one.
        c.insert(0, 0, &Match::ANY, 1);
        c.insert(0, 5, &Match::ANY, 2);
        assert_eq!(c.lookup(0, &FlowKey::ZERO), Some(2));
        assert!(c.remove(0, 5, &Match::ANY, 2));
        assert_eq!(c.lookup(0, &FlowKey::ZERO), Some(0));
        // A first real rule turns the cache on.
        c.insert(0, 9, &exact(&[(Field::InPort, 3)]), 3);
        assert_eq!(c.lookup(0, &key(&[(Field::InPort, 3)])), Some(3));
        assert_eq!(c.lookup(0, &key(&[(Field::InPort, 4)])), Some(0));
        assert_eq!(c.cache_stats(), (0, 2));
    }

    #[test]
    fn partial_masks() {
        let mut c = Classifier::new();
        // nw_dst 10.0.1.0/24, ip_dscp only (upper 6 bits of nw_tos), one
        // bit of a register.
        c.insert(
            0,
            10,
            &m(&[
                (Field::DlType, 0x0800, 0xffff),
                (Field::NwDst, 0x0a00_0100, 0xffff_ff00),
            ]),
            1,
        );
        c.insert(0, 20, &m(&[(Field::NwTos, 0xb8, 0xfc)]), 2);
        c.insert(0, 30, &m(&[(Field::Reg3, 0x10, 0x10)]), 3);
        let mut k = key(TCP80);
        assert_eq!(look(&mut c, 0, &k), Some(1));
        k.set(Field::NwDst, 0x0a00_0205);
        assert_eq!(look(&mut c, 0, &k), None);
        k.set(Field::NwTos, 0xb9);
        assert_eq!(look(&mut c, 0, &k), Some(2));
        k.set(Field::Reg3, 0xff);
        assert_eq!(look(&mut c, 0, &k), Some(3));
        k.set(Field::Reg3, 0xef);
        assert_eq!(look(&mut c, 0, &k), Some(2));
    }

    // ---- Against a naive reference ----

    /// The reference: every flow in a list; the best is a linear scan.
    #[derive(Default)]
    struct Naive {
        flows: Vec<(u8, u16, Match, FlowId)>,
    }

    impl Naive {
        fn lookup(&self, table: u8, key: &FlowKey) -> Option<FlowId> {
            self.flows
                .iter()
                .filter(|(t, _, m, _)| *t == table && m.matches(key))
                .max_by_key(|(_, p, _, id)| (*p, Reverse(*id)))
                .map(|f| f.3)
        }

        fn find_exact(&self, table: u8, priority: u16, m: &Match) -> Option<FlowId> {
            self.flows
                .iter()
                .find(|(t, p, mm, _)| *t == table && *p == priority && mm == m)
                .map(|f| f.3)
        }
    }

    /// splitmix64: the test's own deterministic randomness, from a seed
    /// that proptest draws (and can shrink).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A packet key with every field drawn from a small domain, so that
    /// rules drawn from the same domains match some of them.
    fn small_key(r: &mut Rng) -> FlowKey {
        let mut k = FlowKey::ZERO;
        k.set(Field::InPort, 1 + r.below(4) as u128);
        k.set(Field::DlType, [0x0800, 0x86dd, 0x0806][r.below(3) as usize]);
        k.set(Field::VlanTci, [0, 0x1000 | 10, 0x1000 | 20][r.below(3) as usize]);
        k.set(Field::NwProto, [6, 17, 1][r.below(3) as usize]);
        k.set(Field::NwTos, r.below(4) as u128 * 4);
        k.set(Field::DlDst, 0x0200_0000_0000 + r.below(3) as u128);
        k.set(Field::DlSrc, 0x0200_0000_0100 + r.below(3) as u128);
        k.set(
            Field::NwSrc,
            0x0a00_0000 | (r.below(3) as u128) << 16 | r.below(3) as u128,
        );
        k.set(
            Field::NwDst,
            0x0a00_0000 | (r.below(3) as u128) << 8 | r.below(3) as u128,
        );
        k.set(Field::TpSrc, 1000 + r.below(3) as u128);
        k.set(Field::TpDst, [22, 80, 443][r.below(3) as usize]);
        k.set(Field::TcpFlags, r.below(0x1000) as u128);
        k.set(Field::TunId, r.below(2) as u128);
        k.set(Field::Reg0, r.below(3) as u128);
        k
    }

    /// A rule's match: one of the realistic shapes, or a random mask over
    /// one to three words, with values taken from a small key.
    fn rule_match(r: &mut Rng) -> Match {
        let k = small_key(r);
        let fields: &[(Field, u128)] = match r.below(10) {
            0 => &[(Field::InPort, 0xffff)],
            1 => &[(Field::DlDst, Field::DlDst.max())],
            2 => &[(Field::DlType, 0xffff), (Field::NwDst, 0xffff_ff00)],
            3 => &[
                (Field::DlType, 0xffff),
                (Field::NwProto, 0xff),
                (Field::TpDst, 0xffff),
            ],
            4 => &[(Field::DlType, 0xffff), (Field::NwSrc, 0xffff_0000)],
            5 => &[(Field::InPort, 0xffff), (Field::VlanTci, 0x1fff)],
            6 => &[],
            7 => &[
                (Field::InPort, 0xffff),
                (Field::DlSrc, Field::DlSrc.max()),
                (Field::TunId, 1),
            ],
            _ => {
                // Random bits of random words, values from the small key
                // (so that they can match) or random (so that most do not).
                let mut mm = Match::ANY;
                for _ in 0..1 + r.below(3) {
                    let w = r.below(KEY_WORDS as u64) as usize;
                    let bits = r.next() & r.next();
                    mm.mask.0[w] |= bits;
                }
                let src = if r.below(2) == 0 {
                    k
                } else {
                    FlowKey(std::array::from_fn(|_| r.next()))
                };
                mm.value = src.masked(&mm.mask);
                return mm;
            }
        };
        let mut mm = Match::ANY;
        for (f, mask) in fields {
            mm.set(*f, k.get(*f), *mask);
        }
        mm
    }

    fn check_against_reference(seed: u64, n_ops: usize) -> Result<(), TestCaseError> {
        let mut r = Rng(seed);
        let mut c = Classifier::new();
        let mut naive = Naive::default();
        let mut next_id: FlowId = 0;
        for _ in 0..n_ops {
            match r.below(10) {
                // Insert (unless the identity is taken: the caller's rule).
                0..=3 => {
                    let table = r.below(3) as u8;
                    let prio = [0u16, 1, 2, 100, 100, 32768, 65535][r.below(7) as usize];
                    let mm = rule_match(&mut r);
                    if naive.find_exact(table, prio, &mm).is_none() {
                        // Ids not always increasing: ties must not rely on age.
                        let id = if r.below(4) == 0 {
                            1_000_000 - next_id
                        } else {
                            next_id
                        };
                        next_id += 1;
                        c.insert(table, prio, &mm, id);
                        naive.flows.push((table, prio, mm, id));
                    }
                }
                // Remove an existing flow, or try one that is not there.
                4..=5 => {
                    if !naive.flows.is_empty() && r.below(5) != 0 {
                        let i = r.below(naive.flows.len() as u64) as usize;
                        let (t, p, mm, id) = naive.flows.swap_remove(i);
                        prop_assert!(c.remove(t, p, &mm, id));
                    } else {
                        let mm = rule_match(&mut r);
                        let gone = naive.find_exact(0, 7, &mm).is_none();
                        prop_assert!(!gone || !c.remove(0, 7, &mm, 424_242));
                    }
                }
                // Look up: random packets, and packets built to hit a rule.
                _ => {
                    for _ in 0..4 {
                        let table = r.below(3) as u8;
                        let mut k = small_key(&mut r);
                        if !naive.flows.is_empty() && r.below(2) == 0 {
                            let (t, _, mm, _) = &naive.flows[r.below(naive.flows.len() as u64) as usize];
                            let fill = FlowKey(std::array::from_fn(|i| k.0[i] & !mm.mask.0[i]));
                            k = mm.value.union(&fill);
                            prop_assert!(mm.matches(&k));
                            let want = naive.lookup(*t, &k);
                            prop_assert!(want.is_some());
                            prop_assert_eq!(c.lookup(*t, &k), want);
                        }
                        let want = naive.lookup(table, &k);
                        prop_assert_eq!(c.lookup_uncached(table, &k), want, "uncached, key {:?}", k);
                        prop_assert_eq!(c.lookup(table, &k), want, "cached, key {:?}", k);
                        // Twice: the second one is answered by the cache.
                        prop_assert_eq!(c.lookup(table, &k), want, "cached again, key {:?}", k);
                    }
                }
            }
            prop_assert_eq!(c.len(), naive.flows.len());
        }
        for (t, p, mm, id) in &naive.flows {
            prop_assert_eq!(c.find_exact(*t, *p, mm), Some(*id));
        }
        // Remove everything: every table ends empty.
        for (t, p, mm, id) in naive.flows.drain(..) {
            prop_assert!(c.remove(t, p, &mm, id));
        }
        prop_assert!(c.is_empty());
        for t in 0..3 {
            prop_assert_eq!(c.n_subtables(t), 0);
            prop_assert_eq!(c.lookup(t, &small_key(&mut r)), None);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn matches_the_naive_reference(seed: u64, n_ops in 1usize..300) {
            check_against_reference(seed, n_ops)?;
        }
    }
}

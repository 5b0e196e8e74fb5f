//! The MAC learning table ("forwarding database") of one bridge, designed
//! the way Open vSwitch's `lib/mac-learning.h` is.
//!
//! # What it maps
//!
//! (VLAN, MAC) → port: the port on which a source MAC was last seen in that
//! VLAN. Keying by VLAN too ("independent VLAN learning", OVS and Linux do
//! the same) lets one MAC live on different ports in different VLANs, as
//! happens with a host that owns sub-interfaces in several VLANs behind
//! different uplinks. A MAC seen on a new port moves there at once: a VM
//! that migrated, or a cable that moved, must not be unreachable until its
//! old entry ages out.
//!
//! # Why LRU
//!
//! Every entry is on a doubly linked list ordered by the time it was last
//! seen, oldest first. Ageing then never scans the table: the entries that
//! expire next are at the head, so [`Fdb::expire`] pops from the head until it
//! finds a live entry, and [`Fdb::next_expiry`] is the head's deadline (the
//! engine sleeps until then: OVS's `mac_learning_run`/`mac_learning_wait`).
//! The same order answers "which entry is least useful" when the table is
//! full, and gives `fdb-show` its oldest-first order for free.
//!
//! # Why fairness eviction
//!
//! Learning never fails and no frame is ever dropped because the table is
//! full (SPEC §3): a full table evicts. Evicting the globally oldest entry
//! would let one port that sends frames from random source MACs (a MAC
//! flooding attack, or a broken VM) push every other port's entries out,
//! turning the whole bridge into a hub. So, like OVS
//! (`evict_mac_entry_fairly`), a full table evicts the least recently seen
//! entry *of the port that holds the most entries*: the flooding port soon
//! holds the most and then only evicts its own entries, while quiet ports
//! keep theirs. Each port therefore has its own LRU list too. Finding the
//! biggest port scans the per-port counters; that only happens when the
//! table is full, and a bridge has few ports. Before evicting at all, an
//! expired entry at the global head is reclaimed instead (not counted as an
//! eviction).
//!
//! # Costs
//!
//! `learn` and `lookup` are O(1) whatever the table size: one hash lookup
//! plus a few index writes. Entries live in a slab (`Vec`) and the lists link
//! them by `u32` index, so there is no allocation per entry once the slab
//! has grown and no pointer chasing through the allocator. The hash map uses
//! a randomly keyed hasher (foldhash, seeded per table), so nobody can pick
//! source MACs that collide and turn lookups linear.
//!
//! A refresh (the same source seen again on the same port) is the common
//! case: every frame refreshes its source. It always stores the new
//! last-seen time (the entry's own cache line was just read), so ages and
//! expiry decisions for lookups are exact, but it moves the entry to the
//! tail of its lists at most once per [`REFRESH_GRANULARITY`] (OVS also
//! refreshes at most once per second), which keeps the neighbours' cache
//! lines out of the per-frame path. The lists are thus ordered by the time
//! of the last move, which is never more than one granularity older than
//! the last-seen time: `fdb-show` order and the expiry walk are exact to
//! within a second (an entry may be removed by [`Fdb::expire`] up to a second
//! late; [`Fdb::lookup`] already treats it as a miss on time).
//!
//! Time is always a parameter (`now`); nothing here reads the clock, so
//! tests use a fake one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use proto::MacAddr;

use crate::PortId;

/// How often, at most, a refresh moves an entry to the tail of its LRU
/// lists.
pub const REFRESH_GRANULARITY: Duration = Duration::from_secs(1);

/// Slab entries reserved up front (more are allocated as the table grows
/// towards its maximum, so a bridge configured for a million entries does
/// not pay for them until it learns them).
const INITIAL_CAPACITY: usize = 8192;

const NIL: u32 = u32::MAX;

/// What [`Fdb::learn`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learned {
    /// The (VLAN, MAC) was not in the table (or only as an expired entry).
    New,
    /// The MAC was known on another port and moved to this one.
    Moved {
        /// The port it was on.
        from: PortId,
    },
    /// The MAC was already known on this port; its age restarts.
    Refreshed,
}

/// One row of `fdb-show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdbRow {
    /// VLAN.
    pub vlan: u16,
    /// MAC address.
    pub mac: MacAddr,
    /// Port the MAC was last seen on.
    pub port: PortId,
    /// Time since the MAC was last seen.
    pub age: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
}

const UNLINKED: Link = Link { prev: NIL, next: NIL };

#[derive(Debug, Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
    len: u32,
}

const EMPTY: List = List {
    head: NIL,
    tail: NIL,
    len: 0,
};

/// Which of an entry's two list memberships a list operation is about.
#[derive(Debug, Clone, Copy)]
enum Which {
    /// The bridge-wide LRU list.
    Global,
    /// The LRU list of the entry's port.
    Port,
}

#[derive(Debug, Clone)]
struct Entry {
    /// When the source was last seen: ages and expiry use this.
    seen: Instant,
    /// When the entry was last moved to the tail of its lists: the lists are
    /// ordered by this. `linked <= seen < linked + REFRESH_GRANULARITY`.
    linked: Instant,
    mac: MacAddr,
    vlan: u16,
    port: PortId,
    global: Link,
    by_port: Link,
}

impl Entry {
    fn link(&mut self, w: Which) -> &mut Link {
        match w {
            Which::Global => &mut self.global,
            Which::Port => &mut self.by_port,
        }
    }
}

fn key(vlan: u16, mac: MacAddr) -> u64 {
    let m = mac.0;
    (u64::from(vlan & 0x0fff) << 48) | u64::from_be_bytes([0, 0, m[0], m[1], m[2], m[3], m[4], m[5]])
}

fn unlink(slab: &mut [Entry], list: &mut List, idx: u32, w: Which) {
    let Link { prev, next } = *slab[idx as usize].link(w);
    if prev == NIL {
        list.head = next;
    } else {
        slab[prev as usize].link(w).next = next;
    }
    if next == NIL {
        list.tail = prev;
    } else {
        slab[next as usize].link(w).prev = prev;
    }
    *slab[idx as usize].link(w) = UNLINKED;
    list.len -= 1;
}

fn push_back(slab: &mut [Entry], list: &mut List, idx: u32, w: Which) {
    *slab[idx as usize].link(w) = Link {
        prev: list.tail,
        next: NIL,
    };
    if list.tail == NIL {
        list.head = idx;
    } else {
        slab[list.tail as usize].link(w).next = idx;
    }
    list.tail = idx;
    list.len += 1;
}

/// The MAC table of one bridge (see the module documentation).
pub struct Fdb {
    map: HashMap<u64, u32, foldhash::fast::RandomState>,
    slab: Vec<Entry>,
    /// Slab slots not in use.
    free: Vec<u32>,
    /// Every entry, least recently seen first.
    lru: List,
    /// Per-port lists, indexed by `PortId.0` (a dense engine slot index).
    ports: Vec<List>,
    max_entries: usize,
    aging: Duration,
    evicted: u64,
    moved: u64,
}

impl std::fmt::Debug for Fdb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fdb")
            .field("len", &self.len())
            .field("max_entries", &self.max_entries)
            .field("aging", &self.aging)
            .field("evicted", &self.evicted)
            .field("moved", &self.moved)
            .finish()
    }
}

impl Fdb {
    /// An empty table that holds at most `max_entries` (at least 1) and
    /// forgets a MAC `aging` after it was last seen.
    pub fn new(max_entries: usize, aging: Duration) -> Self {
        let max_entries = max_entries.clamp(1, NIL as usize - 1);
        let cap = max_entries.min(INITIAL_CAPACITY);
        Fdb {
            map: HashMap::with_capacity_and_hasher(cap, foldhash::fast::RandomState::default()),
            slab: Vec::with_capacity(cap),
            free: Vec::new(),
            lru: EMPTY,
            ports: Vec::new(),
            max_entries,
            aging,
            evicted: 0,
            moved: 0,
        }
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(e.seen) >= self.aging
    }

    /// Makes sure `port` has a list; returns its index in `ports`.
    fn port_slot(&mut self, port: PortId) -> usize {
        let p = port.0 as usize;
        if self.ports.len() <= p {
            self.ports.resize(p + 1, EMPTY);
        }
        p
    }

    /// Moves `idx` to the tail of both of its lists.
    fn touch(&mut self, idx: u32, now: Instant) {
        let port = self.slab[idx as usize].port.0 as usize;
        unlink(&mut self.slab, &mut self.lru, idx, Which::Global);
        push_back(&mut self.slab, &mut self.lru, idx, Which::Global);
        unlink(&mut self.slab, &mut self.ports[port], idx, Which::Port);
        push_back(&mut self.slab, &mut self.ports[port], idx, Which::Port);
        self.slab[idx as usize].linked = now;
    }

    fn remove(&mut self, idx: u32) {
        let e = &self.slab[idx as usize];
        let (k, port) = (key(e.vlan, e.mac), e.port.0 as usize);
        unlink(&mut self.slab, &mut self.lru, idx, Which::Global);
        unlink(&mut self.slab, &mut self.ports[port], idx, Which::Port);
        self.map.remove(&k);
        self.free.push(idx);
    }

    /// Frees one entry of a full table: an expired entry at the head if
    /// there is one, else the oldest entry of the biggest port.
    fn make_room(&mut self, now: Option<Instant>) {
        if let (Some(now), Some(head)) = (now, self.head()) {
            if self.expired(head, now) {
                self.remove(self.lru.head);
                return;
            }
        }
        // Scanning the ports is fine: this only runs when the table is full,
        // and a bridge has few ports. Ties go to the lowest port id.
        let biggest = self
            .ports
            .iter()
            .enumerate()
            .max_by(|(ia, a), (ib, b)| a.len.cmp(&b.len).then(ib.cmp(ia)))
            .filter(|(_, l)| l.len > 0)
            .map(|(_, l)| l.head);
        if let Some(idx) = biggest {
            self.remove(idx);
            self.evicted += 1;
        }
    }

    fn head(&self) -> Option<&Entry> {
        (self.lru.head != NIL).then(|| &self.slab[self.lru.head as usize])
    }

    /// Records that `mac` was seen as a source on `port` in `vlan` at `now`.
    /// Never fails: a full table makes room first (see the module
    /// documentation).
    pub fn learn(&mut self, vlan: u16, mac: MacAddr, port: PortId, now: Instant) -> Learned {
        let k = key(vlan, mac);
        if let Some(&idx) = self.map.get(&k) {
            let expired = self.expired(&self.slab[idx as usize], now);
            let e = &mut self.slab[idx as usize];
            e.seen = now;
            if e.port == port {
                if expired || now.saturating_duration_since(e.linked) >= REFRESH_GRANULARITY {
                    self.touch(idx, now);
                }
                return if expired { Learned::New } else { Learned::Refreshed };
            }
            // A move: off the old port's list, onto the tail of the new one's.
            let from = e.port;
            e.port = port;
            unlink(&mut self.slab, &mut self.ports[from.0 as usize], idx, Which::Port);
            let p = self.port_slot(port);
            push_back(&mut self.slab, &mut self.ports[p], idx, Which::Port);
            unlink(&mut self.slab, &mut self.lru, idx, Which::Global);
            push_back(&mut self.slab, &mut self.lru, idx, Which::Global);
            self.slab[idx as usize].linked = now;
            if expired {
                return Learned::New;
            }
            self.moved += 1;
            return Learned::Moved { from };
        }
        if self.map.len() >= self.max_entries {
            self.make_room(Some(now));
        }
        let entry = Entry {
            seen: now,
            linked: now,
            mac,
            vlan,
            port,
            global: UNLINKED,
            by_port: UNLINKED,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = entry;
                i
            }
            None => {
                self.slab.push(entry);
                (self.slab.len() - 1) as u32
            }
        };
        push_back(&mut self.slab, &mut self.lru, idx, Which::Global);
        let p = self.port_slot(port);
        push_back(&mut self.slab, &mut self.ports[p], idx, Which::Port);
        self.map.insert(k, idx);
        Learned::New
    }

    /// The port `mac` was last seen on in `vlan`, unless that was `aging`
    /// or longer before `now` (expired entries are misses even before
    /// [`Fdb::expire`] removes them).
    #[inline]
    pub fn lookup(&self, vlan: u16, mac: MacAddr, now: Instant) -> Option<PortId> {
        let &idx = self.map.get(&key(vlan, mac))?;
        let e = &self.slab[idx as usize];
        (!self.expired(e, now)).then_some(e.port)
    }

    /// Removes the expired entries from the head of the LRU list; returns
    /// how many. Call it at [`Fdb::next_expiry`].
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut n = 0;
        while let Some(head) = self.head() {
            if !self.expired(head, now) {
                break;
            }
            self.remove(self.lru.head);
            n += 1;
        }
        n
    }

    /// When the oldest entry expires (`None` for an empty table): the
    /// deadline for the engine's next [`Fdb::expire`] call. Always in the
    /// future right after `expire(now)`.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.head().and_then(|e| e.seen.checked_add(self.aging))
    }

    /// Removes every entry; returns how many there were.
    pub fn flush(&mut self) -> usize {
        let n = self.map.len();
        self.map.clear();
        self.slab.clear();
        self.free.clear();
        self.lru = EMPTY;
        self.ports.iter_mut().for_each(|l| *l = EMPTY);
        n
    }

    /// Removes the entries of `port` (the port was deleted or went down);
    /// returns how many.
    pub fn flush_port(&mut self, port: PortId) -> usize {
        self.retain_port_vlans(port, |_| false)
    }

    /// Removes the entries of `port` whose VLAN fails `keep` (the port's
    /// VLAN configuration changed); returns how many.
    pub fn retain_port_vlans(&mut self, port: PortId, keep: impl Fn(u16) -> bool) -> usize {
        let Some(list) = self.ports.get(port.0 as usize) else {
            return 0;
        };
        let mut idx = list.head;
        let mut n = 0;
        while idx != NIL {
            let e = &self.slab[idx as usize];
            let next = e.by_port.next;
            if !keep(e.vlan) {
                self.remove(idx);
                n += 1;
            }
            idx = next;
        }
        n
    }

    /// Changes the ageing time; it applies to existing entries too.
    pub fn set_aging(&mut self, aging: Duration) {
        self.aging = aging;
    }

    /// The ageing time.
    pub fn aging(&self) -> Duration {
        self.aging
    }

    /// Changes the maximum (at least 1), evicting fairly down to it.
    pub fn set_max_entries(&mut self, n: usize) {
        self.max_entries = n.clamp(1, NIL as usize - 1);
        while self.map.len() > self.max_entries {
            self.make_room(None);
        }
    }

    /// The maximum number of entries.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// Entries in the table, expired ones not yet removed included.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Entries held by `port`.
    pub fn port_len(&self, port: PortId) -> usize {
        self.ports.get(port.0 as usize).map_or(0, |l| l.len as usize)
    }

    /// The live entries, least recently seen first (the control path's
    /// `fdb-show`; allocates).
    pub fn entries(&self, now: Instant) -> Vec<FdbRow> {
        let mut rows = Vec::with_capacity(self.map.len());
        let mut idx = self.lru.head;
        while idx != NIL {
            let e = &self.slab[idx as usize];
            if !self.expired(e, now) {
                let age = now.saturating_duration_since(e.seen);
                rows.push(FdbRow {
                    vlan: e.vlan,
                    mac: e.mac,
                    port: e.port,
                    age,
                });
            }
            idx = e.global.next;
        }
        rows
    }

    /// Entries evicted because the table was full, since creation.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// MAC moves between ports, since creation.
    pub fn moved(&self) -> u64 {
        self.moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AGING: Duration = Duration::from_secs(300);

    fn mac(n: u32) -> MacAddr {
        let b = n.to_be_bytes();
        MacAddr([0x02, 0x00, b[0], b[1], b[2], b[3]])
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Checks the lists against the map: every entry is on both lists
    /// exactly once, the lists agree on lengths, and the global list is
    /// ordered by `linked`.
    fn check_invariants(f: &Fdb) {
        let mut n = 0;
        let mut idx = f.lru.head;
        let mut prev = NIL;
        let mut last: Option<Instant> = None;
        while idx != NIL {
            let e = &f.slab[idx as usize];
            assert_eq!(e.global.prev, prev);
            assert_eq!(f.map.get(&key(e.vlan, e.mac)), Some(&idx));
            assert!(e.linked <= e.seen && e.seen < e.linked + REFRESH_GRANULARITY);
            if let Some(l) = last {
                assert!(l <= e.linked, "global list out of order");
            }
            last = Some(e.linked);
            prev = idx;
            idx = e.global.next;
            n += 1;
        }
        assert_eq!(f.lru.tail, prev);
        assert_eq!(n, f.map.len());
        assert_eq!(f.lru.len as usize, n);
        let mut per_port = 0;
        for (p, l) in f.ports.iter().enumerate() {
            let mut idx = l.head;
            let mut k = 0;
            while idx != NIL {
                assert_eq!(f.slab[idx as usize].port.0 as usize, p);
                idx = f.slab[idx as usize].by_port.next;
                k += 1;
            }
            assert_eq!(k, l.len);
            per_port += k as usize;
        }
        assert_eq!(per_port, n);
    }

    #[test]
    fn learn_then_lookup() {
        let t0 = Instant::now();
        let mut f = Fdb::new(100, AGING);
        assert!(f.is_empty());
        assert_eq!(f.lookup(1, mac(1), t0), None);
        assert_eq!(f.learn(1, mac(1), PortId(3), t0), Learned::New);
        assert_eq!(f.lookup(1, mac(1), t0), Some(PortId(3)));
        assert_eq!(f.learn(1, mac(1), PortId(3), t0 + secs(2)), Learned::Refreshed);
        assert_eq!(f.len(), 1);
        assert_eq!(f.lookup(1, mac(2), t0), None);
        check_invariants(&f);
    }

    #[test]
    fn vlans_are_independent() {
        let t0 = Instant::now();
        let mut f = Fdb::new(100, AGING);
        f.learn(10, mac(1), PortId(1), t0);
        assert_eq!(f.learn(20, mac(1), PortId(2), t0), Learned::New);
        assert_eq!(f.lookup(10, mac(1), t0), Some(PortId(1)));
        assert_eq!(f.lookup(20, mac(1), t0), Some(PortId(2)));
        assert_eq!(f.lookup(30, mac(1), t0), None);
        assert_eq!(f.len(), 2);
        assert_eq!(f.moved(), 0);
        // VLAN ids above 4095 cannot alias into another VLAN's key space
        assert_ne!(key(4095, mac(1)), key(0, mac(1)));
    }

    #[test]
    fn mac_moves_at_once() {
        let t0 = Instant::now();
        let mut f = Fdb::new(100, AGING);
        f.learn(0, mac(1), PortId(1), t0);
        f.learn(0, mac(2), PortId(1), t0);
        let t1 = t0 + Duration::from_millis(10); // within the refresh granularity
        assert_eq!(
            f.learn(0, mac(1), PortId(2), t1),
            Learned::Moved { from: PortId(1) }
        );
        assert_eq!(f.lookup(0, mac(1), t1), Some(PortId(2)));
        assert_eq!((f.port_len(PortId(1)), f.port_len(PortId(2))), (1, 1));
        assert_eq!(f.moved(), 1);
        assert_eq!(
            f.learn(0, mac(1), PortId(1), t1),
            Learned::Moved { from: PortId(2) }
        );
        assert_eq!(f.moved(), 2);
        check_invariants(&f);
    }

    #[test]
    fn ageing_with_a_fake_clock() {
        let t0 = Instant::now();
        let mut f = Fdb::new(100, secs(10));
        assert_eq!(f.next_expiry(), None);
        f.learn(0, mac(1), PortId(1), t0);
        f.learn(0, mac(2), PortId(1), t0 + secs(4));
        assert_eq!(f.next_expiry(), Some(t0 + secs(10)));
        let just_before = t0 + secs(10) - Duration::from_millis(1);
        assert_eq!(f.lookup(0, mac(1), just_before), Some(PortId(1)));
        assert_eq!(f.expire(just_before), 0);
        // expired entries are misses before expire() removes them
        assert_eq!(f.lookup(0, mac(1), t0 + secs(10)), None);
        assert!(f.entries(t0 + secs(10)).iter().all(|r| r.mac != mac(1)));
        assert_eq!(f.expire(t0 + secs(10)), 1);
        assert_eq!(f.next_expiry(), Some(t0 + secs(14)));
        assert_eq!(f.lookup(0, mac(2), t0 + secs(10)), Some(PortId(1)));
        assert_eq!(f.expire(t0 + secs(100)), 1);
        assert!(f.is_empty());
        assert_eq!(f.next_expiry(), None);
        check_invariants(&f);
    }

    #[test]
    fn refresh_restarts_the_age_and_moves_the_deadline() {
        let t0 = Instant::now();
        let mut f = Fdb::new(100, secs(10));
        f.learn(0, mac(1), PortId(1), t0);
        f.learn(0, mac(2), PortId(1), t0 + secs(1));
        // mac(1) seen again 5 s later: mac(2) is now the oldest
        assert_eq!(f.learn(0, mac(1), PortId(1), t0 + secs(5)), Learned::Refreshed);
        assert_eq!(f.next_expiry(), Some(t0 + secs(11)));
        let rows = f.entries(t0 + secs(6));
        assert_eq!(rows.iter().map(|r| r.mac).collect::<Vec<_>>(), [mac(2), mac(1)]);
        assert_eq!(rows[1].age, secs(1));
        check_invariants(&f);
    }

    #[test]
    fn refresh_within_granularity_keeps_age_exact() {
        let t0 = Instant::now();
        let mut f = Fdb::new(100, secs(10));
        f.learn(0, mac(1), PortId(1), t0);
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(f.learn(0, mac(1), PortId(1), t1), Learned::Refreshed);
        // not re-linked, but the last-seen time is exact
        assert_eq!(f.slab[0].linked, t0);
        assert_eq!(
            f.entries(t0 + secs(3))[0].age,
            secs(3) - Duration::from_millis(500)
        );
        assert_eq!(f.lookup(0, mac(1), t0 + secs(10)), Some(PortId(1)));
        assert_eq!(f.next_expiry(), Some(t1 + secs(10)));
        assert_eq!(f.expire(t0 + secs(10)), 0);
        assert_eq!(f.expire(t1 + secs(10)), 1);
    }

    #[test]
    fn learning_an_expired_entry_is_new_not_a_move() {
        let t0 = Instant::now();
        let mut f = Fdb::new(100, secs(10));
        f.learn(0, mac(1), PortId(1), t0);
        assert_eq!(f.learn(0, mac(1), PortId(2), t0 + secs(20)), Learned::New);
        assert_eq!(f.moved(), 0);
        assert_eq!(f.learn(0, mac(1), PortId(2), t0 + secs(40)), Learned::New);
        assert_eq!(f.lookup(0, mac(1), t0 + secs(40)), Some(PortId(2)));
        check_invariants(&f);
    }

    #[test]
    fn full_table_never_refuses() {
        let t0 = Instant::now();
        let mut f = Fdb::new(16, AGING);
        for i in 0..1000u32 {
            let now = t0 + Duration::from_millis(u64::from(i));
            assert_eq!(f.learn(0, mac(i), PortId(i % 3), now), Learned::New);
            assert_eq!(f.lookup(0, mac(i), now), Some(PortId(i % 3)), "just learned {i}");
            assert!(f.len() <= 16);
        }
        assert_eq!(f.len(), 16);
        assert_eq!(f.evicted(), 1000 - 16);
        check_invariants(&f);
    }

    #[test]
    fn full_table_reclaims_expired_before_evicting() {
        let t0 = Instant::now();
        let mut f = Fdb::new(2, secs(10));
        f.learn(0, mac(1), PortId(1), t0);
        f.learn(0, mac(2), PortId(2), t0 + secs(5));
        f.learn(0, mac(3), PortId(2), t0 + secs(11)); // mac(1) has expired
        assert_eq!(f.evicted(), 0);
        assert_eq!(f.lookup(0, mac(2), t0 + secs(11)), Some(PortId(2)));
        f.learn(0, mac(4), PortId(1), t0 + secs(12)); // nothing expired: port 2 is biggest
        assert_eq!(f.evicted(), 1);
        assert_eq!(f.lookup(0, mac(2), t0 + secs(12)), None);
        assert_eq!(f.lookup(0, mac(3), t0 + secs(12)), Some(PortId(2)));
    }

    /// Port of OVS's "ofproto-dpif - MAC table overflow fairness": a
    /// 10-entry table filled by ports 1–5 with 2 MACs each, then port 6
    /// sends 16 new MACs. Each eviction takes the LRU entry of a port with
    /// the most entries, so port 6 ends with its 3 newest MACs, three old
    /// ports with 1 and two with 2. (Which old ports keep 2 depends on the
    /// tie-break: OVS's heap order there, the lowest port id here.)
    #[test]
    fn eviction_is_fair_ovs_overflow_fairness() {
        let mut now = Instant::now();
        let mut f = Fdb::new(10, AGING);
        for i in 0..10 {
            f.learn(0, mac(i), PortId(i / 2 + 1), now);
            now += secs(1);
        }
        for i in 0..16 {
            f.learn(0, mac(0x100 + i), PortId(6), now);
            now += secs(1);
        }
        let mut got: Vec<(u32, MacAddr)> = f.entries(now).iter().map(|r| (r.port.0, r.mac)).collect();
        got.sort();
        let want = vec![
            (1, mac(1)),
            (2, mac(3)),
            (3, mac(5)),
            (4, mac(6)),
            (4, mac(7)),
            (5, mac(8)),
            (5, mac(9)),
            (6, mac(0x10d)),
            (6, mac(0x10e)),
            (6, mac(0x10f)),
        ];
        assert_eq!(got, want);
        assert_eq!(f.evicted(), 16);
        check_invariants(&f);
    }

    #[test]
    fn flooding_port_only_evicts_its_own_entries() {
        let mut now = Instant::now();
        let mut f = Fdb::new(100, AGING);
        for p in 1..=4 {
            for i in 0..10 {
                f.learn(0, mac(p * 1000 + i), PortId(p), now);
            }
        }
        // port 9 sends from 10,000 pseudo-random source MACs
        let mut x: u32 = 0x1234_5678;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            now += Duration::from_millis(1);
            assert_eq!(f.learn(7, mac(x), PortId(9), now), Learned::New);
        }
        for p in 1..=4 {
            assert_eq!(f.port_len(PortId(p)), 10, "port {p}");
            for i in 0..10 {
                assert_eq!(f.lookup(0, mac(p * 1000 + i), now), Some(PortId(p)));
            }
        }
        assert_eq!(f.port_len(PortId(9)), 60);
        assert_eq!(f.len(), 100);
        check_invariants(&f);
    }

    #[test]
    fn set_max_entries_shrinks_fairly() {
        let mut now = Instant::now();
        let mut f = Fdb::new(100, AGING);
        for (p, n) in [(1u32, 10u32), (2, 5), (3, 1)] {
            for i in 0..n {
                f.learn(0, mac(p * 100 + i), PortId(p), now);
                now += secs(1);
            }
        }
        f.set_max_entries(8);
        assert_eq!(f.max_entries(), 8);
        // 10,5,1 -> evict from the biggest each time (ties: lowest id) -> 3,4,1
        assert_eq!(
            (
                f.port_len(PortId(1)),
                f.port_len(PortId(2)),
                f.port_len(PortId(3))
            ),
            (3, 4, 1)
        );
        assert_eq!(f.evicted(), 8);
        // the survivors are each port's most recent entries
        for i in 7..10 {
            assert_eq!(f.lookup(0, mac(100 + i), now), Some(PortId(1)));
        }
        for i in 1..5 {
            assert_eq!(f.lookup(0, mac(200 + i), now), Some(PortId(2)));
        }
        check_invariants(&f);
    }

    #[test]
    fn retain_port_vlans_and_flush() {
        let t0 = Instant::now();
        let mut f = Fdb::new(100, AGING);
        for (v, m) in [(10, 1), (20, 2), (30, 3), (10, 4)] {
            f.learn(v, mac(m), PortId(1), t0);
        }
        f.learn(20, mac(5), PortId(2), t0);
        assert_eq!(f.retain_port_vlans(PortId(1), |v| v == 10), 2);
        assert_eq!(f.lookup(10, mac(1), t0), Some(PortId(1)));
        assert_eq!(f.lookup(10, mac(4), t0), Some(PortId(1)));
        assert_eq!(f.lookup(20, mac(2), t0), None);
        assert_eq!(f.lookup(20, mac(5), t0), Some(PortId(2)));
        assert_eq!(f.retain_port_vlans(PortId(42), |_| false), 0);
        check_invariants(&f);
        assert_eq!(f.flush_port(PortId(1)), 2);
        assert_eq!(f.len(), 1);
        check_invariants(&f);
        assert_eq!(f.flush(), 1);
        assert!(f.is_empty() && f.entries(t0).is_empty());
        // the table works after a flush
        assert_eq!(f.learn(10, mac(1), PortId(1), t0), Learned::New);
        check_invariants(&f);
    }

    #[test]
    fn entries_oldest_first_with_ages() {
        let t0 = Instant::now();
        let mut f = Fdb::new(100, AGING);
        f.learn(1, mac(1), PortId(1), t0);
        f.learn(1, mac(2), PortId(2), t0 + secs(1));
        f.learn(2, mac(3), PortId(1), t0 + secs(2));
        f.learn(1, mac(1), PortId(1), t0 + secs(3)); // refresh: now the newest
        let rows = f.entries(t0 + secs(5));
        let got: Vec<(u16, MacAddr, u32, u64)> = rows
            .iter()
            .map(|r| (r.vlan, r.mac, r.port.0, r.age.as_secs()))
            .collect();
        assert_eq!(got, [(1, mac(2), 2, 4), (2, mac(3), 1, 3), (1, mac(1), 1, 2)]);
    }

    #[test]
    fn set_aging_applies_to_existing_entries() {
        let t0 = Instant::now();
        let mut f = Fdb::new(100, AGING);
        f.learn(0, mac(1), PortId(1), t0);
        f.set_aging(secs(5));
        assert_eq!(f.aging(), secs(5));
        assert_eq!(f.lookup(0, mac(1), t0 + secs(5)), None);
        assert_eq!(f.next_expiry(), Some(t0 + secs(5)));
        assert_eq!(f.expire(t0 + secs(5)), 1);
    }

    #[test]
    fn debug_is_a_summary() {
        let f = Fdb::new(16, secs(300));
        assert_eq!(
            format!("{f:?}"),
            "Fdb { len: 0, max_entries: 16, aging: 300s, evicted: 0, moved: 0 }"
        );
    }

    /// A slow, obviously correct model: a vector ordered by last-seen time.
    /// Only valid when time advances by at least REFRESH_GRANULARITY between
    /// operations (then every refresh re-links and the order is exact).
    #[derive(Default)]
    struct Model {
        /// (vlan, mac, port, seen), oldest first.
        v: Vec<(u16, MacAddr, PortId, Instant)>,
        max: usize,
        aging: Duration,
        evicted: u64,
        moved: u64,
    }

    impl Model {
        fn expired(&self, seen: Instant, now: Instant) -> bool {
            now.saturating_duration_since(seen) >= self.aging
        }

        fn learn(&mut self, vlan: u16, m: MacAddr, port: PortId, now: Instant) -> Learned {
            if let Some(i) = self.v.iter().position(|e| e.0 == vlan && e.1 == m) {
                let e = self.v.remove(i);
                self.v.push((vlan, m, port, now));
                return if self.expired(e.3, now) {
                    Learned::New
                } else if e.2 == port {
                    Learned::Refreshed
                } else {
                    self.moved += 1;
                    Learned::Moved { from: e.2 }
                };
            }
            if self.v.len() >= self.max {
                if self.expired(self.v[0].3, now) {
                    self.v.remove(0);
                } else {
                    let count = |p: PortId| self.v.iter().filter(|e| e.2 == p).count();
                    let max = self.v.iter().map(|e| count(e.2)).max().unwrap_or(0);
                    let port = self
                        .v
                        .iter()
                        .map(|e| e.2)
                        .filter(|p| count(*p) == max)
                        .min()
                        .unwrap();
                    let i = self.v.iter().position(|e| e.2 == port).unwrap();
                    self.v.remove(i);
                    self.evicted += 1;
                }
            }
            self.v.push((vlan, m, port, now));
            Learned::New
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Learn { vlan: u16, mac: u32, port: u32 },
        Lookup { vlan: u16, mac: u32 },
        Expire,
        FlushPort(u32),
        SetMax(usize),
    }

    fn op() -> impl Strategy<Value = (Op, u64)> {
        let op = prop_oneof![
            6 => (0u16..3, 0u32..6, 0u32..4).prop_map(|(vlan, mac, port)| Op::Learn { vlan, mac, port }),
            3 => (0u16..3, 0u32..6).prop_map(|(vlan, mac)| Op::Lookup { vlan, mac }),
            1 => Just(Op::Expire),
            1 => (0u32..4).prop_map(Op::FlushPort),
            1 => (1usize..10).prop_map(Op::SetMax),
        ];
        (op, 1000u64..4000)
    }

    proptest! {
        #[test]
        fn behaves_like_the_model(ops in proptest::collection::vec(op(), 1..200)) {
            let aging = secs(6);
            let mut now = Instant::now();
            let mut f = Fdb::new(6, aging);
            let mut m = Model { max: 6, aging, ..Model::default() };
            for (op, dt_ms) in ops {
                now += Duration::from_millis(dt_ms);
                match op {
                    Op::Learn { vlan, mac: n, port } => {
                        let (a, b) = (f.learn(vlan, mac(n), PortId(port), now), m.learn(vlan, mac(n), PortId(port), now));
                        prop_assert_eq!(a, b);
                    }
                    Op::Lookup { vlan, mac: n } => {
                        let want = m.v.iter().find(|e| e.0 == vlan && e.1 == mac(n) && !m.expired(e.3, now)).map(|e| e.2);
                        prop_assert_eq!(f.lookup(vlan, mac(n), now), want);
                    }
                    Op::Expire => {
                        let before = m.v.len();
                        m.v.retain(|e| now.saturating_duration_since(e.3) < aging);
                        prop_assert_eq!(f.expire(now), before - m.v.len());
                        if let Some(t) = f.next_expiry() {
                            prop_assert!(t > now);
                        }
                    }
                    Op::FlushPort(p) => {
                        let before = m.v.len();
                        m.v.retain(|e| e.2 != PortId(p));
                        prop_assert_eq!(f.flush_port(PortId(p)), before - m.v.len());
                    }
                    Op::SetMax(n) => {
                        f.set_max_entries(n);
                        m.max = n;
                        while m.v.len() > n {
                            let count = |p: PortId| m.v.iter().filter(|e| e.2 == p).count();
                            let max = m.v.iter().map(|e| count(e.2)).max().unwrap();
                            let port = m.v.iter().map(|e| e.2).filter(|p| count(*p) == max).min().unwrap();
                            let i = m.v.iter().position(|e| e.2 == port).unwrap();
                            m.v.remove(i);
                            m.evicted += 1;
                        }
                    }
                }
                let got: Vec<_> = f.entries(now).into_iter().map(|r| (r.vlan, r.mac, r.port, r.age)).collect();
                let want: Vec<_> = m.v.iter().filter(|e| !m.expired(e.3, now)).map(|e| (e.0, e.1, e.2, now - e.3)).collect();
                prop_assert_eq!(got, want);
                prop_assert_eq!(f.len(), m.v.len());
                prop_assert_eq!((f.evicted(), f.moved()), (m.evicted, m.moved));
                check_invariants(&f);
            }
        }
    }
}

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
    /// Not learned: the VLAN is one nothing is learned in (an RSPAN VLAN,
    /// SPEC §11).
    Ignored,
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
    /// New entries learned, since creation.
    learned: u64,
    /// Entries that aged out, since creation.
    aged: u64,
    /// Frames NORMAL flooded (group address or unknown destination).
    floods: u64,
    /// VLANs nothing is learned in (RSPAN VLANs), one bit per VLAN; `None`
    /// (the usual case) costs one test per learn.
    no_learn: Option<Box<[u64; 64]>>,
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
    /// Sets the VLANs nothing is learned in (RSPAN output VLANs, SPEC §11);
    /// entries already in them are forgotten.
    pub fn set_no_learn(&mut self, vlans: &[u16]) {
        if vlans.is_empty() {
            self.no_learn = None;
            return;
        }
        let mut bits = Box::new([0u64; 64]);
        for v in vlans {
            bits[usize::from(v & 0xfff) / 64] |= 1 << (v % 64);
        }
        for p in 0..self.ports.len() {
            let bits = &bits;
            self.retain_port_vlans(PortId(p as u32), |v| {
                bits[usize::from(v) / 64] & (1 << (v % 64)) == 0
            });
        }
        self.no_learn = Some(bits);
    }

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
            learned: 0,
            aged: 0,
            floods: 0,
            no_learn: None,
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
        if let Some(bits) = &self.no_learn {
            if bits[usize::from(vlan & 0xfff) / 64] & (1 << (vlan % 64)) != 0 {
                return Learned::Ignored;
            }
        }
        let k = key(vlan, mac);
        if let Some(&idx) = self.map.get(&k) {
            let expired = self.expired(&self.slab[idx as usize], now);
            let e = &mut self.slab[idx as usize];
            e.seen = now;
            if e.port == port {
                if expired || now.saturating_duration_since(e.linked) >= REFRESH_GRANULARITY {
                    self.touch(idx, now);
                }
                if expired {
                    self.aged += 1;
                    self.learned += 1;
                    return Learned::New;
                }
                return Learned::Refreshed;
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
                self.aged += 1;
                self.learned += 1;
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
        self.learned += 1;
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
        self.aged += n as u64;
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

    /// New entries learned, since creation.
    pub fn learned(&self) -> u64 {
        self.learned
    }

    /// Entries that aged out, since creation.
    pub fn aged(&self) -> u64 {
        self.aged
    }

    /// Frames NORMAL flooded, since creation.
    pub fn floods(&self) -> u64 {
        self.floods
    }

    /// Counts a flooded frame (the pipeline's decision).
    #[inline]
    pub fn count_flood(&mut self) {
        self.floods += 1;
    }
}

#[cfg(test)]
mod tests;

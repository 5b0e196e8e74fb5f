//! The IPFIX flow cache of one bridge (RFC 7011's Metering Process): one
//! entry per unidirectional flow seen, counting its packets and bytes until
//! the flow is exported as a [`FlowRecord`].
//!
//! # When a flow is exported
//!
//! - **Idle**: no packet for [`IDLE_TIMEOUT`] (15 s, SPEC §11):
//!   [`EndReason::IdleTimeout`].
//! - **Active**: the active timeout after the entry's first packet, even if
//!   packets keep coming: [`EndReason::ActiveTimeout`]. The entry is
//!   removed, as OVS does, and the flow's next packet starts a new entry,
//!   so a long flow becomes a series of records whose deltas add up to its
//!   totals, each covering at most one active timeout. An active timeout of
//!   0 exports every entry at the next [`FlowCache::expire`] (no
//!   aggregation beyond the packets counted in between).
//! - **Full**: a new flow in a cache holding its maximum exports the entry
//!   with the oldest first packet first, as OVS: [`EndReason::LackOfResources`].
//!   The new flow is always counted; no packet is ever lost to a full cache.
//! - **Flush**: [`FlowCache::flush`] (at `clear bridge BR ipfix`, a
//!   reconfiguration, the bridge's removal) exports everything:
//!   [`EndReason::ForcedEnd`].
//!
//! An export removes the entry: no record is ever exported twice, and no
//! record has zero packets.
//!
//! # Costs
//!
//! Entries live in a slab (`Vec`) linked into two lists by `u32` index:
//! one in order of first packet (for the active timeout and for eviction)
//! and one in order of last packet (for the idle timeout), as the MAC table
//! ([`crate::fdb`]) does. Expiry pops list heads and never scans; the next
//! deadline ([`FlowCache::next_expiry`]) is the earlier of the two heads'.
//! Counting a packet of a known flow is one hash lookup and a few stores: no
//! allocation. A packet moves its entry to the tail of the idle list at most
//! once per [`RELINK_GRANULARITY`] (as the MAC table), so the idle list is
//! ordered to within a second and an idle flow may be exported up to a
//! second late. A new flow may allocate while the slab and map grow
//! towards the maximum (they start at [`INITIAL_CAPACITY`] so a large
//! maximum costs nothing until used); once grown, a new flow reuses a freed
//! slot. The map is keyed with a random seed (foldhash), so a sender cannot
//! pick keys that collide.
//!
//! Time is a parameter: a monotonic `now` for the timeouts and the wall
//! clock (`wall_ms`, milliseconds since the Unix epoch) for the records'
//! start and end times, which IPFIX carries as absolute times. Nothing here
//! reads a clock.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::record::{Counts, EndReason, FlowRecord, FlowRecordKey};

/// How long a flow may go without a packet before it is exported.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15);

/// How often, at most, a packet moves its entry to the tail of the idle
/// list.
pub const RELINK_GRANULARITY: Duration = Duration::from_secs(1);

/// Slab and map slots reserved up front.
pub const INITIAL_CAPACITY: usize = 1024;

const NIL: u32 = u32::MAX;

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
}

const EMPTY: List = List { head: NIL, tail: NIL };

/// Which of an entry's two lists an operation is about.
#[derive(Debug, Clone, Copy)]
enum Which {
    /// By first packet.
    Start,
    /// By last packet (to within [`RELINK_GRANULARITY`]).
    Idle,
}

#[derive(Debug, Clone)]
struct Entry {
    key: FlowRecordKey,
    /// First packet: the active timeout runs from here.
    first: Instant,
    /// Last packet: the idle timeout runs from here.
    last: Instant,
    /// When the entry last moved to the idle list's tail.
    linked: Instant,
    start_ms: u64,
    end_ms: u64,
    counts: Counts,
    by_start: Link,
    by_idle: Link,
}

impl Entry {
    fn link(&mut self, w: Which) -> &mut Link {
        match w {
            Which::Start => &mut self.by_start,
            Which::Idle => &mut self.by_idle,
        }
    }
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
}

/// The flow cache of one bridge (see the module documentation).
pub struct FlowCache {
    map: HashMap<FlowRecordKey, u32, foldhash::quality::RandomState>,
    slab: Vec<Entry>,
    /// Slab slots not in use.
    free: Vec<u32>,
    by_start: List,
    by_idle: List,
    max_flows: usize,
    active_timeout: Duration,
    evicted: u64,
}

impl std::fmt::Debug for FlowCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowCache")
            .field("len", &self.len())
            .field("max_flows", &self.max_flows)
            .field("active_timeout", &self.active_timeout)
            .field("evicted", &self.evicted)
            .finish()
    }
}

impl FlowCache {
    /// An empty cache of at most `max_flows` flows (at least 1) that
    /// exports a flow `active_timeout` after its first packet.
    pub fn new(max_flows: usize, active_timeout: Duration) -> FlowCache {
        let max_flows = max_flows.clamp(1, NIL as usize - 1);
        let cap = max_flows.min(INITIAL_CAPACITY);
        FlowCache {
            map: HashMap::with_capacity_and_hasher(cap, foldhash::quality::RandomState::default()),
            slab: Vec::with_capacity(cap),
            free: Vec::with_capacity(cap),
            by_start: EMPTY,
            by_idle: EMPTY,
            max_flows,
            active_timeout,
            evicted: 0,
        }
    }

    /// Removes entry `idx` and returns its record.
    fn take(&mut self, idx: u32, end_reason: EndReason) -> FlowRecord {
        unlink(&mut self.slab, &mut self.by_start, idx, Which::Start);
        unlink(&mut self.slab, &mut self.by_idle, idx, Which::Idle);
        let e = &self.slab[idx as usize];
        self.map.remove(&e.key);
        self.free.push(idx);
        FlowRecord {
            key: e.key,
            start_ms: e.start_ms,
            end_ms: e.end_ms,
            counts: e.counts,
            end_reason,
        }
    }

    /// Counts `counts` (one packet, or the packets one sample stands for)
    /// of flow `key` at `now` (monotonic) and `wall_ms` (milliseconds since
    /// the Unix epoch). Returns the record of the flow evicted to make room
    /// when `key` is new and the cache is full; the caller exports it.
    pub fn observe(
        &mut self,
        key: &FlowRecordKey,
        counts: Counts,
        now: Instant,
        wall_ms: u64,
    ) -> Option<FlowRecord> {
        if let Some(&idx) = self.map.get(key) {
            let e = &mut self.slab[idx as usize];
            e.counts.add(counts);
            e.last = now;
            // A wall clock stepped backwards must not end a flow before it
            // started.
            e.end_ms = e.end_ms.max(wall_ms);
            if now.saturating_duration_since(e.linked) >= RELINK_GRANULARITY {
                e.linked = now;
                unlink(&mut self.slab, &mut self.by_idle, idx, Which::Idle);
                push_back(&mut self.slab, &mut self.by_idle, idx, Which::Idle);
            }
            return None;
        }
        let evicted = (self.map.len() >= self.max_flows).then(|| {
            self.evicted += 1;
            self.take(self.by_start.head, EndReason::LackOfResources)
        });
        let entry = Entry {
            key: *key,
            first: now,
            last: now,
            linked: now,
            start_ms: wall_ms,
            end_ms: wall_ms,
            counts,
            by_start: UNLINKED,
            by_idle: UNLINKED,
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
        push_back(&mut self.slab, &mut self.by_start, idx, Which::Start);
        push_back(&mut self.slab, &mut self.by_idle, idx, Which::Idle);
        self.map.insert(*key, idx);
        evicted
    }

    /// Removes the flows idle for [`IDLE_TIMEOUT`] or cached for the active
    /// timeout at `now`, appending their records to `out` (idle ones
    /// first, each group oldest first); returns how many. Call it at
    /// [`FlowCache::next_expiry`].
    pub fn expire(&mut self, now: Instant, out: &mut Vec<FlowRecord>) -> usize {
        let before = out.len();
        // Idle first: a flow both idle and old has ended, which is the
        // more telling reason.
        while self.by_idle.head != NIL {
            let head = &self.slab[self.by_idle.head as usize];
            if now.saturating_duration_since(head.last) < IDLE_TIMEOUT {
                break;
            }
            out.push(self.take(self.by_idle.head, EndReason::IdleTimeout));
        }
        while self.by_start.head != NIL {
            let head = &self.slab[self.by_start.head as usize];
            if now.saturating_duration_since(head.first) < self.active_timeout {
                break;
            }
            out.push(self.take(self.by_start.head, EndReason::ActiveTimeout));
        }
        out.len() - before
    }

    /// Removes every flow, appending their records to `out` oldest first
    /// ([`EndReason::ForcedEnd`]); returns how many.
    pub fn flush(&mut self, out: &mut Vec<FlowRecord>) -> usize {
        let before = out.len();
        while self.by_start.head != NIL {
            out.push(self.take(self.by_start.head, EndReason::ForcedEnd));
        }
        out.len() - before
    }

    /// When the next flow times out (`None` when empty): the deadline of
    /// the next [`FlowCache::expire`] call.
    pub fn next_expiry(&self) -> Option<Instant> {
        let idle = (self.by_idle.head != NIL)
            .then(|| {
                self.slab[self.by_idle.head as usize]
                    .last
                    .checked_add(IDLE_TIMEOUT)
            })
            .flatten();
        let active = (self.by_start.head != NIL)
            .then(|| {
                self.slab[self.by_start.head as usize]
                    .first
                    .checked_add(self.active_timeout)
            })
            .flatten();
        match (idle, active) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Changes the active timeout; it applies to the cached flows too.
    pub fn set_active_timeout(&mut self, t: Duration) {
        self.active_timeout = t;
    }

    /// The active timeout.
    pub fn active_timeout(&self) -> Duration {
        self.active_timeout
    }

    /// Changes the maximum (at least 1), exporting the oldest flows into
    /// `out` ([`EndReason::LackOfResources`]) down to it; returns how many.
    pub fn set_max_flows(&mut self, n: usize, out: &mut Vec<FlowRecord>) -> usize {
        self.max_flows = n.clamp(1, NIL as usize - 1);
        let before = out.len();
        while self.map.len() > self.max_flows {
            out.push(self.take(self.by_start.head, EndReason::LackOfResources));
        }
        out.len() - before
    }

    /// The maximum number of flows.
    pub fn max_flows(&self) -> usize {
        self.max_flows
    }

    /// Flows in the cache.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Flows exported early to make room for a new one, since creation.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfix::record::{IpAddrs, IpKey, L4Key};
    use std::net::Ipv4Addr;

    const T0_MS: u64 = 1_700_000_000_000;

    fn key(n: u16) -> FlowRecordKey {
        FlowRecordKey {
            in_port: 1,
            out_port: 2,
            src_mac: [2, 0, 0, 0, 0, 1],
            dst_mac: [2, 0, 0, 0, 0, 2],
            eth_type: 0x0800,
            vlan: 0,
            ip: Some(IpKey {
                addrs: IpAddrs::V4 {
                    src: Ipv4Addr::new(10, 0, 0, 1),
                    dst: Ipv4Addr::new(10, 0, 0, 2),
                },
                proto: 17,
                l4: L4Key::Ports { src: n, dst: 53 },
            }),
        }
    }

    fn pkt(bytes: u64) -> Counts {
        Counts {
            packets: 1,
            octets: bytes - 14,
            l2_octets: bytes,
        }
    }

    /// A fake clock: `at(s)` is `s` seconds after a fixed start, with the
    /// matching wall-clock milliseconds.
    struct Clock(Instant);
    impl Clock {
        fn at(&self, ms: u64) -> (Instant, u64) {
            (self.0 + Duration::from_millis(ms), T0_MS + ms)
        }
    }

    #[test]
    fn same_key_aggregates_and_times_are_first_and_last() {
        let c = Clock(Instant::now());
        let mut fc = FlowCache::new(16, Duration::from_secs(60));
        for (i, ms) in [0u64, 100, 2500].into_iter().enumerate() {
            let (now, wall) = c.at(ms);
            assert_eq!(fc.observe(&key(1), pkt(100 + i as u64), now, wall), None);
        }
        fc.observe(&key(2), pkt(60), c.at(3000).0, c.at(3000).1);
        assert_eq!(fc.len(), 2);
        let mut out = Vec::new();
        assert_eq!(fc.flush(&mut out), 2);
        assert!(fc.is_empty());
        assert_eq!(
            out[0],
            FlowRecord {
                key: key(1),
                start_ms: T0_MS,
                end_ms: T0_MS + 2500,
                counts: Counts {
                    packets: 3,
                    octets: 303 - 42,
                    l2_octets: 303
                },
                end_reason: EndReason::ForcedEnd,
            }
        );
        assert_eq!((out[1].key, out[1].counts.packets), (key(2), 1));
        assert_eq!(fc.next_expiry(), None);
    }

    #[test]
    fn idle_flows_expire_after_15_s_and_not_before() {
        let c = Clock(Instant::now());
        let mut fc = FlowCache::new(16, Duration::from_secs(60));
        let (t0, w0) = c.at(0);
        fc.observe(&key(1), pkt(100), t0, w0);
        let (t5, w5) = c.at(5000);
        fc.observe(&key(2), pkt(100), t5, w5);
        // key(1) again at 10 s: now idle until 25 s.
        let (t10, w10) = c.at(10_000);
        fc.observe(&key(1), pkt(100), t10, w10);
        let mut out = Vec::new();
        assert_eq!(fc.expire(c.at(19_999).0, &mut out), 0);
        // key(2)'s deadline is 20 s, key(1)'s 25 s (its relink made it
        // the idle list's tail).
        assert_eq!(fc.next_expiry(), Some(c.at(20_000).0));
        assert_eq!(fc.expire(c.at(20_000).0, &mut out), 1);
        assert_eq!((out[0].key, out[0].end_reason), (key(2), EndReason::IdleTimeout));
        assert_eq!(fc.next_expiry(), Some(c.at(25_000).0));
        assert_eq!(fc.expire(c.at(24_999).0, &mut out), 0);
        assert_eq!(fc.expire(c.at(25_000).0, &mut out), 1);
        assert_eq!(
            (out[1].key, out[1].counts.packets, out[1].start_ms, out[1].end_ms),
            (key(1), 2, T0_MS, T0_MS + 10_000)
        );
        assert!(fc.is_empty());
    }

    #[test]
    fn active_timeout_splits_a_long_flow_into_records_that_add_up() {
        let c = Clock(Instant::now());
        let mut fc = FlowCache::new(16, Duration::from_secs(60));
        let mut out = Vec::new();
        let mut sent = Counts::default();
        // One packet of 100 + (i % 7) bytes every 200 ms for 200 s; expiry
        // runs at the cache's deadlines, as the engine's timer does.
        for i in 0..1000u64 {
            let (now, wall) = c.at(i * 200);
            if fc.next_expiry().is_some_and(|d| now >= d) {
                fc.expire(now, &mut out);
            }
            let p = pkt(100 + i % 7);
            sent.add(p);
            assert_eq!(fc.observe(&key(1), p, now, wall), None);
        }
        fc.flush(&mut out);
        // 200 s of traffic with a 60 s active timeout: 3 full records and
        // the rest at the flush.
        let reasons: Vec<_> = out.iter().map(|r| r.end_reason).collect();
        assert_eq!(
            reasons,
            [
                EndReason::ActiveTimeout,
                EndReason::ActiveTimeout,
                EndReason::ActiveTimeout,
                EndReason::ForcedEnd
            ]
        );
        let mut total = Counts::default();
        for r in &out {
            total.add(r.counts);
            assert!(r.end_ms - r.start_ms < 60_000, "{r:?}");
        }
        assert_eq!(total, sent);
        // Records follow each other without overlapping.
        for w in out.windows(2) {
            assert!(w[0].end_ms < w[1].start_ms);
        }
        assert_eq!(out[0].start_ms, T0_MS);
    }

    #[test]
    fn active_timeout_zero_exports_at_every_expire() {
        let c = Clock(Instant::now());
        let mut fc = FlowCache::new(16, Duration::ZERO);
        let (t, w) = c.at(0);
        fc.observe(&key(1), pkt(100), t, w);
        fc.observe(&key(1), pkt(100), t, w);
        assert_eq!(fc.next_expiry(), Some(t));
        let mut out = Vec::new();
        assert_eq!(fc.expire(t, &mut out), 1);
        assert_eq!(
            (out[0].counts.packets, out[0].end_reason),
            (2, EndReason::ActiveTimeout)
        );
    }

    #[test]
    fn a_full_cache_exports_the_oldest_flow_first() {
        let c = Clock(Instant::now());
        let mut fc = FlowCache::new(3, Duration::from_secs(60));
        for n in 1..=3 {
            let (t, w) = c.at(u64::from(n) * 1000);
            assert_eq!(fc.observe(&key(n), pkt(100), t, w), None);
        }
        // key(1) is the most recently seen but the oldest by first packet:
        // it goes first (as OVS).
        let (t, w) = c.at(4000);
        fc.observe(&key(1), pkt(100), t, w);
        let (t, w) = c.at(5000);
        let ev = fc.observe(&key(4), pkt(100), t, w).unwrap();
        assert_eq!(
            (ev.key, ev.counts.packets, ev.end_reason),
            (key(1), 2, EndReason::LackOfResources)
        );
        assert_eq!((fc.len(), fc.evicted()), (3, 1));
        let ev = fc.observe(&key(5), pkt(100), t, w).unwrap();
        assert_eq!(ev.key, key(2));
        // The new flows were counted.
        let mut out = Vec::new();
        fc.flush(&mut out);
        let keys: Vec<_> = out.iter().map(|r| r.key).collect();
        assert_eq!(keys, [key(3), key(4), key(5)]);

        // Lowering the maximum exports down to it.
        let mut fc = FlowCache::new(8, Duration::from_secs(60));
        for n in 1..=5 {
            fc.observe(&key(n), pkt(100), t, w);
        }
        let mut out = Vec::new();
        assert_eq!(fc.set_max_flows(2, &mut out), 3);
        assert_eq!(
            out.iter().map(|r| r.key).collect::<Vec<_>>(),
            [key(1), key(2), key(3)]
        );
        assert_eq!(fc.len(), 2);
    }

    #[test]
    fn slots_are_reused_and_lists_stay_consistent_under_churn() {
        let c = Clock(Instant::now());
        let mut fc = FlowCache::new(64, Duration::from_secs(60));
        let mut out = Vec::new();
        let mut sent = 0u64;
        // Pseudo-random flows over 10 minutes; every packet is in exactly
        // one record at the end.
        let mut x = 12345u64;
        for i in 0..100_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (t, w) = c.at(i * 6);
            if let Some(r) = fc.observe(&key((x % 200) as u16), pkt(64), t, w) {
                out.push(r);
            }
            sent += 1;
            if i % 100 == 0 {
                fc.expire(t, &mut out);
            }
            assert!(fc.len() <= 64);
        }
        fc.flush(&mut out);
        assert_eq!(out.iter().map(|r| r.counts.packets).sum::<u64>(), sent);
        assert!(fc.slab.len() <= 64, "slab grew to {}", fc.slab.len());
        assert!(out.iter().all(|r| r.counts.packets > 0 && r.end_ms >= r.start_ms));
    }

    #[test]
    fn wall_clock_stepping_back_never_ends_a_flow_before_it_started() {
        let c = Clock(Instant::now());
        let mut fc = FlowCache::new(4, Duration::from_secs(60));
        let (t, w) = c.at(1000);
        fc.observe(&key(1), pkt(100), t, w);
        fc.observe(&key(1), pkt(100), t, w - 500);
        let mut out = Vec::new();
        fc.flush(&mut out);
        assert_eq!((out[0].start_ms, out[0].end_ms), (w, w));
    }
}

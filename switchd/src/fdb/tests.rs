//! Tests of the MAC table ([`super::Fdb`]): examples, and a property test
//! that runs random operations on the table and on a slow, obviously
//! correct model, checking that they agree and that the table's lists
//! match its map after every step.
//!
//! In their own file so that `fdb.rs` (the table) stays short enough to
//! read in one go; they are the same tests, in the same module
//! (`fdb::tests`).

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

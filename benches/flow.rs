//! Micro-benchmarks of the flow-table data path (SPEC §9), to hold against
//! `forward/known_unicast_64B` of `benches/pipeline.rs` (the whole NORMAL
//! decision): with 1 000 flows of mixed wildcards a frame of an
//! established flow may cost at most 1.5× that.
//!
//! - `extract/tcp4_64B`: a 64-byte TCP/IPv4 frame into a `FlowKey`
//!   (`extract_into` a key reused from frame to frame, as a data path
//!   keeps one per frame slot);
//! - `lookup/default_only`: the cached lookup in a table holding only the
//!   bridge's default flow (`priority=0`, matches everything): what every
//!   NORMAL frame pays for the flow tables;
//! - `lookup/cached_hit_1k_flows`: the cached lookup of an established
//!   key in a table of 1 000 flows of five shapes (`in_port`, `dl_dst`,
//!   `ip,nw_dst=/24`, `tcp,tp_dst`, `ip,nw_src=/16`) with varied
//!   priorities plus the default flow;
//! - `lookup/cached_hit_1k_flows_1k_keys`: the same over 1 024 established
//!   keys (1 024 cache entries, ~180 KB) taken in turn;
//! - `lookup/uncached_1k_flows`: the same key through the subtables
//!   (`lookup_uncached`): what a cache miss costs;
//! - `extract_lookup/tcp4_1k_flows`: extract then cached lookup, the whole
//!   per-frame cost of the classifier.
//!
//! Instruction counts (callgrind, more stable than time on a shared VM):
//! extract ~130, cached hit ~105, uncached search of the six subtables
//! ~450-700 (depending on the hash maps' random seeds), against ~610 for
//! `pipeline::forward` of a known unicast frame.
//!
//! Run with `cargo bench --bench flow` (add `-- --quick` for a fast pass).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use switchd::flow::{extract, extract_into, Classifier, Field, FlowKey, Match};

const SRC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const DST: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

/// A 64-byte TCP/IPv4 frame 10.0.`a`.`b`:`sport` → 10.1.`a`.`b`:80.
fn tcp_frame(a: u8, b: u8, sport: u16) -> Vec<u8> {
    let mut f = Vec::new();
    etherparse::PacketBuilder::ethernet2(SRC, DST)
        .ipv4([10, 0, a, b], [10, 1, a, b], 64)
        .tcp(sport, 80, 1, 1000)
        .ack(1)
        .write(&mut f, &[0; 10])
        .expect("frame");
    f
}

fn exact(m: &mut Match, f: Field, v: u128) {
    m.set_exact(f, v);
}

/// 1 000 flows in five shapes of 200, priorities spread over 1–1000 so
/// that the subtables interleave, plus `priority=0` matching everything.
/// None of them matches the benchmark's key except the `tcp,tp_dst=80`
/// flow and the default one, so the uncached search cannot stop early.
fn table_1k() -> Classifier {
    let mut c = Classifier::new();
    let mut id = 0u32;
    let mut add = |c: &mut Classifier, m: Match, prio: u16| {
        c.insert(0, prio, &m, id);
        id += 1;
    };
    for i in 0..200u32 {
        let prio = |shape: u32| (1 + (i * 5 + shape) * 7 % 1000) as u16;
        let mut m = Match::ANY;
        exact(&mut m, Field::InPort, u128::from(100 + i));
        add(&mut c, m, prio(0));

        let mut m = Match::ANY;
        exact(&mut m, Field::DlDst, 0x0200_0000_1000 + u128::from(i));
        add(&mut c, m, prio(1));

        let mut m = Match::ANY;
        exact(&mut m, Field::DlType, 0x0800);
        m.set(Field::NwDst, u128::from(0x0a02_0000 | (i << 8)), 0xffff_ff00);
        add(&mut c, m, prio(2));

        let mut m = Match::ANY;
        exact(&mut m, Field::DlType, 0x0800);
        exact(&mut m, Field::NwProto, 6);
        exact(
            &mut m,
            Field::TpDst,
            u128::from(if i == 0 { 80 } else { 1000 + i }),
        );
        add(&mut c, m, prio(3));

        let mut m = Match::ANY;
        exact(&mut m, Field::DlType, 0x0800);
        m.set(Field::NwSrc, u128::from(0x0b00_0000 | (i << 16)), 0xffff_0000);
        add(&mut c, m, prio(4));
    }
    add(&mut c, Match::ANY, 0);
    assert_eq!(c.len(), 1001);
    c
}

fn key_of(f: &[u8]) -> FlowKey {
    extract(f, 1, 0)
}

fn bench_extract(c: &mut Criterion) {
    let mut g = c.benchmark_group("extract");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(1));
    let f = tcp_frame(0, 1, 1234);
    assert_eq!(f.len(), 64);
    let mut key = FlowKey::ZERO;
    g.bench_function("tcp4_64B", |b| {
        b.iter(|| {
            extract_into(&mut key, black_box(&f), 1, 0);
            black_box(&key);
        })
    });
    g.finish();
}

fn bench_lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(1));
    let f = tcp_frame(0, 1, 1234);
    let key = key_of(&f);

    let mut default_only = Classifier::new();
    default_only.insert(0, 0, &Match::ANY, 0);
    g.bench_function("default_only", |b| {
        b.iter(|| default_only.lookup(0, black_box(&key)))
    });

    let mut cls = table_1k();
    let hit = cls.lookup(0, &key);
    assert!(
        hit.is_some_and(|id| id != 1000),
        "the tp_dst=80 flow, not the default"
    );
    assert_eq!(cls.lookup_uncached(0, &key), hit);
    g.bench_function("cached_hit_1k_flows", |b| {
        b.iter(|| cls.lookup(0, black_box(&key)))
    });

    // Distinct under the fields the rules read (in_port, and nw_dst's /24),
    // so each key has its own cache entry.
    let keys: Vec<FlowKey> = (0..1024u32)
        .map(|i| extract(&tcp_frame(i as u8, 1, 1000), 2 + (i >> 8) as u16, 0))
        .collect();
    let before = cls.cache_stats().1;
    for k in &keys {
        cls.lookup(0, k);
    }
    assert_eq!(cls.cache_stats().1 - before, 1024, "one cache entry per key");
    let mut i = 0usize;
    g.bench_function("cached_hit_1k_flows_1k_keys", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            cls.lookup(0, black_box(&keys[i]))
        })
    });
    let (hits, misses) = cls.cache_stats();
    eprintln!("flow bench: cache hits {hits}, misses {misses}");

    g.bench_function("uncached_1k_flows", |b| {
        b.iter(|| cls.lookup_uncached(0, black_box(&key)))
    });
    g.finish();

    let mut g = c.benchmark_group("extract_lookup");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(1));
    let mut k = FlowKey::ZERO;
    g.bench_function("tcp4_1k_flows", |b| {
        b.iter(|| {
            extract_into(&mut k, black_box(&f), 1, 0);
            cls.lookup(0, &k)
        })
    });
    g.finish();
}

criterion_group!(benches, bench_extract, bench_lookup);
criterion_main!(benches);

//! Micro-benchmarks of the pure forwarding core (no sockets, no root):
//!
//! - `forward/known_unicast_64B`: the whole per-frame decision
//!   (`pipeline::forward`) for a 64-byte frame to a learned MAC, on a
//!   4-port bridge and on a 256-port bridge whose port ids start at 1000;
//!   `forward/known_unicast_64B_policed` is the 4-port case behind an
//!   ingress policer (`Policer::admit_frame` first, as the engine runs a
//!   policed port; SPEC §12 wants under 5 % more);
//! - `forward/flood/{8,32}`: a broadcast fanned out to 8 and 32 ports
//!   (the cost of computing every egress edit, not of sending);
//! - `fdb/learn_lookup/{1k,1M}` and `fdb/learn_new_full/{1k,1M}`: MAC table
//!   cost per operation at 1k and 1M entries, random keys (at 1M this is
//!   dominated by cache misses: the table is ~80 MB); and
//!   `fdb/learn_lookup_hot1k/1M`: a 1M-entry table with traffic from 1k of
//!   its MACs, which must cost the same as the 1k table (O(1) in the size);
//! - `vlan/*`: `egress_edit` plus `Edit::pieces` for push, pop, replace
//!   and keep;
//! - `offload/segment_tcp4_64KB`: software segmentation of a 64 KB TCP/IPv4
//!   GSO super-frame into 45 MSS-sized frames with their IP and TCP
//!   checksums (what a tunnel port or a port without offloads costs), and
//!   `offload/complete_checksum_1500B`: finishing one partial checksum.
//!
//! - `flows/*` (SPEC §9): what a frame costs through the flow tables, to
//!   compare with `forward/known_unicast_64B` (NORMAL as it was before flow
//!   tables): `normal_only_64B` is the engine's path with only the default
//!   flow (count the flow's hit, then NORMAL); `1000_flows_normal_64B` and
//!   `1000_flows_output_64B` run a 64-byte TCP frame of an established flow
//!   (a hit in the exact-match cache) through 1 000 flows of mixed wildcards
//!   (key extraction, lookup, counters, actions) to NORMAL or to a fixed
//!   port; `1000_flows_cache_miss_64B` is extraction plus a full classifier
//!   lookup, what the first frame of a new flow pays.
//!
//! - `qos/*` (SPEC §12): what policing and metering add per frame, to
//!   compare with `forward/known_unicast_64B`: `policer_admit_64B` is a
//!   port policer's admission of a 64-byte frame at a rate every frame
//!   passes, and `meter_apply_64B` one frame through one meter of a
//!   4-meter table (lookup, counters, two bands). Both give a 32-frame
//!   batch the same instant, as the engine does, so the refill runs once
//!   per 32 frames.
//!
//! Run with `cargo bench --bench pipeline` (add `-- --quick` for a fast
//! pass). Each benchmark measures for about 2 s.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use proto::{MacAddr, PortConfig, Trunks, VlanId, VlanMode};
use switchd::batch::{Edit, RxBatch};
use switchd::fdb::Fdb;
use switchd::flow::exec::{self, Datapath, ToController};
use switchd::flow::extract::{extract, extract_into};
use switchd::flow::group::GroupTable;
use switchd::flow::table::{FlowTable, Origin};
use switchd::flow::{Action, Field, FlowKey, FlowSpec, Match};
use switchd::offload;
use switchd::pipeline::{self, Gate, PortSpec, Ports};
use switchd::qos::{BandConfig, MeterConfig, MeterTable, Policer, Unit};
use switchd::vlan::PortVlan;
use switchd::wire::vnet::{self, VnetHdr};
use switchd::wire::{VlanTag, TPID_8021AD, TPID_8021Q};
use switchd::PortId;

const AGING: Duration = Duration::from_secs(86_400);

fn vlan(mode: Option<VlanMode>, tag: Option<u16>, trunks: Option<&str>) -> PortVlan {
    let cfg = PortConfig {
        vlan_mode: mode,
        tag: tag.map(|t| VlanId::new(t).expect("valid VLAN")),
        trunks: trunks.map(|t| t.parse::<Trunks>().expect("valid trunks")),
        ..PortConfig::default()
    };
    PortVlan::from_config(&cfg)
}

/// `n` plain ports with ids `first..first + n` (ids are engine slots, so a
/// bridge created after another one starts above 0).
fn ports(first: u32, n: u32) -> Ports {
    Ports::from(
        (first..first + n)
            .map(|i| PortSpec {
                id: PortId(i),
                vlan: vlan(None, None, None),
                tunnel: false,
                gate: Gate::Forwarding,
                mtu: 1500,
                ofport: (i - first + 1) as u16,
                tun_id: 0,
            })
            .collect::<Vec<_>>(),
    )
}

fn mac(n: u32) -> MacAddr {
    let b = n.to_be_bytes();
    MacAddr([0x02, 0x00, b[0], b[1], b[2], b[3]])
}

fn frame(dst: MacAddr, src: MacAddr, len: usize) -> Vec<u8> {
    let mut f = Vec::from(dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&[0x08, 0x00]);
    f.resize(len, 0);
    f
}

/// xorshift32: cheap, deterministic key order for the table benchmarks.
fn next(x: &mut u32) -> u32 {
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    *x
}

fn bench_forward(c: &mut Criterion) {
    let mut g = c.benchmark_group("forward");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(1));

    let (a, b) = (mac(1), mac(2));
    let t0 = Instant::now();
    // A frame from port 0 to `b`, learned on the bridge's last port.
    let mut known_unicast = |name: &str, p: Ports| {
        let mut fdb = Fdb::new(8192, AGING);
        fdb.learn(0, b, p[p.len() - 1].id, t0);
        let f = frame(b, a, 64);
        g.bench_function(name, |bench| {
            bench.iter(|| {
                let mut sent = 0usize;
                let r = pipeline::forward(&mut fdb, &p, 0, black_box(&f), t0, |i, e| {
                    sent += i;
                    let _ = black_box(e);
                });
                black_box((r, sent))
            })
        });
    };
    known_unicast("known_unicast_64B", ports(0, 4));
    // The same on a 256-port bridge whose port ids start at 1000 (bridges
    // created after others): the learned port's id must map to its position
    // in O(1), not by a scan of the ports.
    known_unicast("known_unicast_64B/256_ports_ids_from_1000", ports(1000, 256));
    // The same frame through an ingress policer first, as the engine runs
    // a policed port (SPEC §12: under 5 % more per frame). The rate is high
    // enough that every frame passes; the clock moves once per 32 frames,
    // as the engine reads it once per batch.
    {
        let p = ports(0, 4);
        let mut fdb = Fdb::new(8192, AGING);
        fdb.learn(0, b, p[p.len() - 1].id, t0);
        let f = frame(b, a, 64);
        let mut policer = Policer::new(100_000_000, None, 1500, t0).expect("rate > 0");
        let hdr = VnetHdr::default();
        let (mut now, mut n) = (t0, 0u32);
        g.bench_function("known_unicast_64B_policed", |bench| {
            bench.iter(|| {
                n += 1;
                if n == 32 {
                    n = 0;
                    now += Duration::from_micros(1);
                }
                let mut sent = 0usize;
                if !policer.admit_frame(black_box(&f), &hdr, 0, now) {
                    return black_box((Ok(()), sent));
                }
                // t0 as in known_unicast_64B, so that only the policer differs.
                let r = pipeline::forward(&mut fdb, &p, 0, black_box(&f), t0, |i, e| {
                    sent += i;
                    let _ = black_box(e);
                });
                black_box((r, sent))
            })
        });
    }

    for n in [8u32, 32] {
        let p = ports(0, n);
        let mut fdb = Fdb::new(8192, AGING);
        let f = frame(MacAddr::BROADCAST, a, 64);
        g.bench_with_input(BenchmarkId::new("flood", n), &n, |bench, _| {
            bench.iter(|| {
                let mut copies = 0usize;
                let r = pipeline::forward(&mut fdb, &p, 0, black_box(&f), t0, |_, e| {
                    copies += 1;
                    let _ = black_box(e);
                });
                black_box((r, copies))
            })
        });
    }
    g.finish();
}

fn bench_fdb(c: &mut Criterion) {
    let mut g = c.benchmark_group("fdb");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(1));
    for (name, n) in [("1k", 1_000u32), ("1M", 1_000_000)] {
        let t0 = Instant::now();
        let mut fdb = Fdb::new(n as usize, AGING);
        for i in 0..n {
            fdb.learn(1, mac(i), PortId(i % 4), t0);
        }
        // One learn of a known source (a refresh, re-linked when its last
        // move is a second old) plus one lookup of another known MAC, random
        // keys, the fake clock advancing 1 µs per operation.
        let (mut x, mut now) = (0x9e37_79b9u32, t0);
        g.bench_function(BenchmarkId::new("learn_lookup", name), |bench| {
            bench.iter(|| {
                now += Duration::from_micros(1);
                let k = next(&mut x) % n;
                let l = fdb.learn(1, mac(k), PortId(k % 4), now);
                let p = fdb.lookup(1, mac(next(&mut x) % n), now);
                black_box((l, p))
            })
        });
        // The same operations on a 1M-entry table with traffic from only 1k
        // of its MACs (spread over the whole table): the table's size alone,
        // without the cache misses of a random walk over ~80 MB, must not
        // change the cost.
        if n > 1_000 {
            let stride = n / 1_000;
            g.bench_function(BenchmarkId::new("learn_lookup_hot1k", name), |bench| {
                bench.iter(|| {
                    now += Duration::from_micros(1);
                    let k = (next(&mut x) % 1_000) * stride;
                    let l = fdb.learn(1, mac(k), PortId(k % 4), now);
                    let p = fdb.lookup(1, mac((next(&mut x) % 1_000) * stride), now);
                    black_box((l, p))
                })
            });
        }
        // A new source into a full table: every learn evicts fairly.
        let mut fresh = n;
        g.bench_function(BenchmarkId::new("learn_new_full", name), |bench| {
            bench.iter(|| {
                now += Duration::from_micros(1);
                fresh = fresh.wrapping_add(1);
                black_box(fdb.learn(2, mac(fresh), PortId(fresh % 4), now))
            })
        });
        assert_eq!(fdb.len(), n as usize);
    }
    g.finish();
}

fn bench_vlan(c: &mut Criterion) {
    let mut g = c.benchmark_group("vlan");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(1));
    let trunk = vlan(None, None, None);
    let access = vlan(None, Some(10), None);
    let untagged = frame(mac(1), mac(2), 64);
    let mut tagged = untagged.clone();
    tagged.splice(
        12..12,
        VlanTag {
            tpid: TPID_8021Q,
            pcp: 3,
            dei: false,
            vid: 10,
        }
        .to_bytes(),
    );
    let mut ad = untagged.clone();
    ad.splice(
        12..12,
        VlanTag {
            tpid: TPID_8021AD,
            pcp: 3,
            dei: false,
            vid: 10,
        }
        .to_bytes(),
    );
    let tag_of = |f: &[u8]| {
        (f[12..14] == [0x81, 0x00] || f[12..14] == [0x88, 0xa8]).then(|| {
            VlanTag::from_tci(
                u16::from_be_bytes([f[12], f[13]]),
                u16::from_be_bytes([f[14], f[15]]),
            )
        })
    };
    let cases: [(&str, &PortVlan, &[u8]); 4] = [
        ("push", &trunk, &untagged),
        ("pop", &access, &tagged),
        ("replace_88a8", &trunk, &ad),
        ("keep", &trunk, &tagged),
    ];
    for (name, port, f) in cases {
        let tag = tag_of(f);
        let expect_keep = name == "keep";
        assert_eq!(
            port.egress_edit(10, tag).map(|e| e == Edit::KEEP),
            Some(expect_keep),
            "{name}"
        );
        g.bench_function(name, |bench| {
            bench.iter(|| {
                let e = port
                    .egress_edit(black_box(10), black_box(tag))
                    .unwrap_or_default();
                let (head, t, rest) = e.pieces(black_box(f));
                black_box((head.len(), t.map(|t| t[3]), rest.len()))
            })
        });
    }
    g.finish();
}

/// A 64 KB TCP/IPv4 GSO super-frame as a TAP hands it over: headers, a
/// partial checksum (pseudo-header sum only) and 65 160 bytes of payload.
fn gso_frame() -> (Vec<u8>, VnetHdr) {
    let payload: Vec<u8> = (0..65_160u32).map(|i| (i * 7) as u8).collect();
    let builder = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40_000, 5201, 1, 65_535);
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut frame, &payload).expect("build frame");
    let hdr = VnetHdr {
        flags: vnet::F_NEEDS_CSUM,
        gso_type: vnet::GSO_TCPV4,
        hdr_len: 54,
        gso_size: 1448,
        csum_start: 34,
        csum_offset: 16,
    };
    (frame, hdr)
}

fn bench_offload(c: &mut Criterion) {
    let mut g = c.benchmark_group("offload");
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    let (frame, hdr) = gso_frame();
    // 45 segments of 1448 bytes (the last shorter): one output batch holds them all.
    let mut out = RxBatch::with_layout(64, 1600);
    g.throughput(Throughput::Bytes(frame.len() as u64));
    g.bench_function("segment_tcp4_64KB", |bench| {
        bench.iter(|| {
            let (n, next) = offload::segment(black_box(&frame), &hdr, 0, &mut out).expect("segment");
            assert_eq!((n, next), (45, None));
            black_box(out.frame(n - 1).len())
        })
    });
    let mut one = frame[..1514].to_vec();
    g.throughput(Throughput::Bytes(one.len() as u64));
    g.bench_function("complete_checksum_1500B", |bench| {
        bench.iter(|| offload::complete_checksum(black_box(&mut one), &hdr).expect("checksum"))
    });
    g.finish();
}

/// A 64-byte TCP/IPv4 frame from `src` 10.1.2.3:40000 to `dst` 10.2.3.4:443.
fn tcp_frame(dst: MacAddr, src: MacAddr) -> Vec<u8> {
    let mut f = frame(dst, src, 64);
    let ip = [
        0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 1, 2, 3, 10, 2, 3, 4,
    ];
    f[14..34].copy_from_slice(&ip);
    f[34..36].copy_from_slice(&40000u16.to_be_bytes());
    f[36..38].copy_from_slice(&443u16.to_be_bytes());
    f[46] = 0x50;
    f[47] = 0x10; // ACK
    f
}

/// 1 000 flows of five shapes (the kinds an ACL, a steering policy and a
/// VLAN policy mix), plus the established flow the benchmark frame hits
/// with `actions`.
fn thousand_flows(actions: Vec<Action>) -> FlowTable {
    let now = Instant::now();
    let mut t = FlowTable::new();
    let mut add = |priority: u16, m: Match, actions: Vec<Action>| {
        let spec = FlowSpec {
            priority,
            matching: m,
            actions,
            ..FlowSpec::default()
        };
        t.add(spec, true, Origin::Local, now).expect("room for the flow");
    };
    let ip = |m: &mut Match| m.set_exact(Field::DlType, 0x0800);
    for i in 0..999u32 {
        let mut m = Match::ANY;
        match i % 5 {
            0 => {
                ip(&mut m);
                m.set_exact(Field::NwProto, 6);
                m.set(Field::NwDst, u128::from(0x0a00_0000 | (i << 8)), 0xffff_ff00);
                m.set_exact(Field::TpDst, u128::from(1000 + i));
            }
            1 => {
                ip(&mut m);
                m.set(Field::NwSrc, u128::from(0x0b00_0000 | (i << 16)), 0xffff_0000);
            }
            2 => m.set_exact(Field::DlDst, u128::from(0x0200_0000_0000u64 | u64::from(i))),
            3 => {
                m.set_exact(Field::InPort, u128::from(100 + i % 50));
                m.set_exact(Field::VlanTci, u128::from(0x1000 | (i % 4000)));
            }
            _ => {
                ip(&mut m);
                m.set_exact(Field::NwProto, 17);
                m.set_exact(Field::TpDst, u128::from(i));
            }
        }
        add(100 + (i % 7) as u16 * 10, m, vec![Action::Output(3)]);
    }
    let mut m = Match::ANY;
    ip(&mut m);
    m.set_exact(Field::NwProto, 6);
    m.set(Field::NwDst, 0x0a02_0300, 0xffff_ff00);
    m.set_exact(Field::TpDst, 443);
    add(500, m, actions);
    t
}

/// NORMAL as both `flows/` paths run it: the same out-of-line call, so
/// that what they differ by is the flow machinery alone.
#[inline(never)]
fn switch_normal(fdb: &mut Fdb, ports: &Ports, frame: &[u8], now: Instant) -> usize {
    let mut sent = 0usize;
    let r = pipeline::forward(fdb, ports, 0, frame, now, |i, e| {
        sent += i;
        let _ = black_box(e);
    });
    black_box(r.is_ok());
    sent
}

/// The engine's flow datapath reduced to what costs CPU without sockets:
/// NORMAL runs the pipeline, an output records the port.
struct BenchPath<'a> {
    fdb: &'a mut Fdb,
    ports: &'a Ports,
    frame: &'a [u8],
    now: Instant,
    sent: usize,
}

impl Datapath for BenchPath<'_> {
    fn output(&mut self, port: u16, _: &FlowKey) {
        self.sent += usize::from(port);
    }
    fn in_port(&mut self, _: &FlowKey) {}
    fn normal(&mut self, _: &FlowKey) {
        self.sent += switch_normal(self.fdb, self.ports, self.frame, self.now);
    }
    fn flood(&mut self, _: &FlowKey, _: bool) {}
    fn controller(&mut self, _: &FlowKey, _: u16, _: ToController, _: u8, _: u64) {}
    fn meter(&mut self, _: u32) -> bool {
        true
    }
}

fn bench_flows(c: &mut Criterion) {
    let mut g = c.benchmark_group("flows");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(1));
    let (a, b) = (mac(1), mac(2));
    let t0 = Instant::now();
    let p = ports(0, 4);
    let f = tcp_frame(b, a);

    // Only the default flow: count its hit, then NORMAL.
    {
        let mut fdb = Fdb::new(8192, AGING);
        fdb.learn(0, b, p[p.len() - 1].id, t0);
        let table = FlowTable::with_default(t0);
        let default = table
            .default_only()
            .expect("a new table has only the default flow");
        g.bench_function("normal_only_64B", |bench| {
            bench.iter(|| {
                table.hit(default, f.len(), t0);
                black_box(switch_normal(&mut fdb, &p, black_box(&f), t0))
            })
        });
    }

    for (name, actions) in [
        ("1000_flows_normal_64B", vec![Action::Normal]),
        ("1000_flows_output_64B", vec![Action::Output(4)]),
    ] {
        let mut fdb = Fdb::new(8192, AGING);
        fdb.learn(0, b, p[p.len() - 1].id, t0);
        let mut table = thousand_flows(actions);
        let groups = GroupTable::new();
        let mut key = FlowKey::ZERO;
        g.bench_function(name, |bench| {
            bench.iter(|| {
                let frame = black_box(&f[..]);
                extract_into(&mut key, frame, 1, 0);
                let mut dp = BenchPath {
                    fdb: &mut fdb,
                    ports: &p,
                    frame,
                    now: t0,
                    sent: 0,
                };
                let r = exec::execute(&mut table, &groups, &mut key, frame.len(), t0, &mut dp);
                black_box((r, dp.sent))
            })
        });
    }

    let table = thousand_flows(vec![Action::Normal]);
    g.bench_function("1000_flows_cache_miss_64B", |bench| {
        bench.iter(|| {
            let key = extract(black_box(&f[..]), 1, 0);
            black_box(table.lookup_uncached(0, &key))
        })
    });
    g.finish();
}

fn bench_qos(c: &mut Criterion) {
    let mut g = c.benchmark_group("qos");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(1));
    let t0 = Instant::now();
    // The clock advances 1 µs per 32-frame batch: the refill path runs
    // once a batch, as in the engine, and never finds the bucket short.
    const BATCH: u32 = 32;

    // 100 Gbit/s with the default burst: every frame passes.
    let mut policer = Policer::new(100_000_000, None, 1500, t0).expect("rate > 0");
    let (mut now, mut n) = (t0, 0u32);
    g.bench_function("policer_admit_64B", |bench| {
        bench.iter(|| {
            n += 1;
            if n == BATCH {
                n = 0;
                now += Duration::from_micros(1);
            }
            let ok = policer.admit(black_box(64), now);
            assert!(ok);
            black_box(ok)
        })
    });

    // Four meters, each with a low and a high kbps band that every frame
    // passes; frames go to the third.
    let mut meters = MeterTable::new();
    for id in [1, 10, 100, 1000] {
        let config = MeterConfig {
            id,
            unit: Unit::Kbps,
            burst: false,
            stats: true,
            bands: vec![
                BandConfig {
                    rate: 50_000_000,
                    burst_size: 0,
                },
                BandConfig {
                    rate: 100_000_000,
                    burst_size: 0,
                },
            ],
        };
        meters.add(config, t0).expect("valid meter");
    }
    let (mut now, mut n) = (t0, 0u32);
    g.bench_function("meter_apply_64B", |bench| {
        bench.iter(|| {
            n += 1;
            if n == BATCH {
                n = 0;
                now += Duration::from_micros(1);
            }
            let ok = meters.apply(black_box(100), black_box(64), now);
            assert!(ok);
            black_box(ok)
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_forward,
    bench_flows,
    bench_fdb,
    bench_vlan,
    bench_offload,
    bench_qos
);
criterion_main!(benches);

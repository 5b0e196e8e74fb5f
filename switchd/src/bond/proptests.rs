//! Hash distribution and property tests of the bond: the bucket hashes
//! spread random and structured flows evenly (a chi-square bound) and read
//! every field they claim to; no byte slice makes them or the bond panic;
//! and random sequences of reports, ticks, frames and reconfigurations keep
//! the bond's invariants. Uses the frame builders of `tests.rs`.

use proptest::prelude::*;

use super::tests::{mac, params, udp4, up_bond};
use super::*;

/// xorshift64*: a small deterministic generator, so the distribution
/// tests are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.next() as u8)
    }
}

/// Pearson's chi-square of `buckets` against the uniform distribution over
/// the 256 buckets. With 255 degrees of freedom its mean is 255 and its
/// standard deviation about 22.6, so a good hash stays well under
/// [`CHI2_BOUND`] (six deviations above the mean).
fn chi2(buckets: impl Iterator<Item = u8>) -> f64 {
    let mut counts = [0u32; BUCKETS];
    let mut n = 0u32;
    for b in buckets {
        counts[usize::from(b)] += 1;
        n += 1;
    }
    let expected = f64::from(n) / BUCKETS as f64;
    counts
        .iter()
        .map(|&c| (f64::from(c) - expected).powi(2) / expected)
        .sum()
}

const CHI2_BOUND: f64 = 390.0;
const FLOWS: usize = 1000;

/// An Ethernet + IPv6 + `proto` frame with the given addresses and ports.
fn ip6(src: [u8; 6], addrs: [[u8; 16]; 2], proto: u8, ports: [u16; 2]) -> Vec<u8> {
    let mut f = vec![0x02, 0xee, 0, 0, 0, 1];
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0, 0, 8, proto, 64]);
    f.extend_from_slice(&addrs[0]);
    f.extend_from_slice(&addrs[1]);
    f.extend_from_slice(&ports[0].to_be_bytes());
    f.extend_from_slice(&ports[1].to_be_bytes());
    f.extend_from_slice(&[0; 16]);
    f
}

/// `udp4` with both ports and the protocol set (6 = TCP, 17 = UDP).
fn ip4(src: [u8; 6], dst: [u8; 6], ips: [[u8; 4]; 2], proto: u8, ports: [u16; 2]) -> Vec<u8> {
    let mut f = udp4(src, dst, ips, ports[0], 16);
    f[23] = proto;
    f[36..38].copy_from_slice(&ports[1].to_be_bytes());
    f
}

#[test]
fn slb_hash_spreads_random_and_sequential_macs() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let random = chi2((0..FLOWS).map(|_| hash_slb(rng.bytes(), rng.next() as u16 & 0xfff)));
    let sequential = chi2((0..FLOWS as u32).map(|i| hash_slb(mac(i), 0)));
    let vlans = chi2((1..=FLOWS as u16).map(|v| hash_slb(mac(7), v)));
    for (what, x) in [
        ("random", random),
        ("sequential MACs", sequential),
        ("VLANs", vlans),
    ] {
        assert!(x < CHI2_BOUND, "{what}: chi2 {x}");
    }
}

#[test]
fn tcp_hash_spreads_random_and_structured_flows() {
    let mut rng = Rng(0xfeed_f00d_dead_beef);
    let tcp4 = chi2((0..FLOWS).map(|_| {
        let f = ip4(
            rng.bytes(),
            rng.bytes(),
            [rng.bytes(), rng.bytes()],
            6,
            [rng.next() as u16, 80],
        );
        hash_tcp(&f, 1)
    }));
    let ports = chi2(
        (0..FLOWS as u16).map(|p| hash_tcp(&ip4(mac(1), mac(2), [[10, 0, 0, 1]; 2], 6, [32768 + p, 443]), 0)),
    );
    let udp6 = chi2((0..FLOWS).map(|_| {
        let f = ip6(
            rng.bytes(),
            [rng.bytes(), rng.bytes()],
            17,
            [rng.next() as u16, 53],
        );
        hash_tcp(&f, 0)
    }));
    // not IP: the MACs decide
    let arp = chi2((0..FLOWS as u32).map(|i| {
        let mut f = udp4(mac(i), [0xff; 6], [[0; 4]; 2], 0, 0);
        f[12..14].copy_from_slice(&[0x08, 0x06]);
        hash_tcp(&f, 0)
    }));
    let vlans =
        chi2((0..FLOWS as u16).map(|v| hash_tcp(&ip4(mac(1), mac(2), [[10, 0, 0, 1]; 2], 6, [1, 2]), v)));
    for (what, x) in [
        ("tcp4", tcp4),
        ("ports", ports),
        ("udp6", udp6),
        ("arp", arp),
        ("vlans", vlans),
    ] {
        assert!(x < CHI2_BOUND, "{what}: chi2 {x}");
    }
}

#[test]
fn tcp_hash_reads_every_l2_to_l4_field() {
    let base = |v: u8| -> [Vec<u8>; 7] {
        let w = u16::from(v);
        [
            ip4(
                mac(u32::from(v)),
                mac(0),
                [[10, 0, 0, 1], [10, 0, 0, 2]],
                6,
                [1000, 80],
            ),
            ip4(
                mac(0),
                mac(u32::from(v)),
                [[10, 0, 0, 1], [10, 0, 0, 2]],
                6,
                [1000, 80],
            ),
            ip4(mac(0), mac(0), [[10, 0, 0, v], [10, 0, 0, 2]], 6, [1000, 80]),
            ip4(mac(0), mac(0), [[10, 0, 0, 1], [10, 0, v, 2]], 6, [1000, 80]),
            ip4(mac(0), mac(0), [[10, 0, 0, 1], [10, 0, 0, 2]], 17, [1000 + w, 80]),
            ip4(mac(0), mac(0), [[10, 0, 0, 1], [10, 0, 0, 2]], 17, [1000, 80 + w]),
            ip6(mac(0), [[v; 16], [1; 16]], 6, [1000, 80]),
        ]
    };
    for field in 0..7 {
        let buckets: std::collections::BTreeSet<u8> = (0..64).map(|v| hash_tcp(&base(v)[field], 0)).collect();
        assert!(buckets.len() > 40, "field {field}: {} buckets", buckets.len());
    }
    let vlans: std::collections::BTreeSet<u8> = (0..64).map(|v| hash_tcp(&base(0)[0], v)).collect();
    assert!(vlans.len() > 40);
    // the frame's own tag is not read: a tagged copy of a flow hashes alike
    let plain = ip4(mac(1), mac(2), [[10, 0, 0, 1], [10, 0, 0, 2]], 6, [1, 2]);
    let mut tagged = plain[..12].to_vec();
    tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
    tagged.extend_from_slice(&plain[12..]);
    assert_eq!(hash_tcp(&plain, 5), hash_tcp(&tagged, 5));
}

/// One step of a random bond history.
#[derive(Debug, Clone)]
enum Op {
    /// Report member usability after `dt` ms.
    May(usize, bool, u64),
    /// Tick after `dt` ms.
    Tick(u64),
    /// Send a unicast or multicast frame from MAC `i` with `pad` bytes.
    Tx(u32, bool, usize),
    /// Reconfigure: mode, updelay, downdelay, interval, LACP.
    Params(u8, u32, u32, u32, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..5usize, any::<bool>(), 0..300u64).prop_map(|(m, b, dt)| Op::May(m, b, dt)),
        4 => (0..800u64).prop_map(Op::Tick),
        4 => (0..40u32, any::<bool>(), 0..1500usize).prop_map(|(i, mc, pad)| Op::Tx(i, mc, pad)),
        1 => (0..3u8, 0..500u32, 0..500u32, prop_oneof![Just(0u32), 1000..3000u32], any::<bool>())
            .prop_map(|(m, u, d, i, l)| Op::Params(m, u, d, i, l)),
    ]
}

fn mode(m: u8) -> BondMode {
    [BondMode::ActiveBackup, BondMode::BalanceSlb, BondMode::BalanceTcp][usize::from(m % 3)]
}

/// The invariants that hold after every public call.
fn check(bond: &Bond, now: u64) -> Result<(), TestCaseError> {
    let st = bond.status(now);
    let any_enabled = st.members.iter().any(|m| m.enabled);
    prop_assert_eq!(st.active.is_some(), any_enabled, "active iff a member is enabled");
    if let Some(a) = st.active {
        prop_assert!(st.members[a].enabled);
    }
    for (i, m) in st.members.iter().enumerate() {
        // enabled differs from what was reported only while a delay runs
        prop_assert!(
            m.enabled == m.may_enable || m.delay_ms.is_some(),
            "member {}: {:?}",
            i,
            m
        );
        if !m.enabled {
            prop_assert_eq!(bond.admit_rx(i, false), Admit::No);
            prop_assert_eq!(bond.admit_rx(i, true), Admit::No);
        }
    }
    if any_enabled {
        prop_assert!(
            bond.owner.iter().all(|&o| bond.is_enabled(usize::from(o))),
            "an orphan bucket"
        );
    }
    if bond.params().mode.is_balanced() {
        let listed: usize = st.members.iter().map(|m| m.buckets.len()).sum();
        prop_assert_eq!(listed, BUCKETS);
    }
    Ok(())
}

proptest! {
    #[test]
    fn any_bytes_hash_and_choose_without_panic(
        frame in proptest::collection::vec(any::<u8>(), 0..160),
        vlan in any::<u16>(),
        m in 0..3u8,
    ) {
        let _ = hash_tcp(&frame, vlan);
        let mut bond = up_bond(params(mode(m)), 3);
        bond.set_may_enable(1, false, 0);
        if let Some(member) = bond.choose_tx(&frame, vlan) {
            prop_assert!(bond.is_enabled(member));
        }
    }

    #[test]
    fn damaged_ip_frames_hash_without_panic(
        which in 0..3usize,
        cut in 0..80usize,
        flips in proptest::collection::vec((0..80usize, any::<u8>()), 0..8),
        vlan in any::<u16>(),
    ) {
        let mut f = match which {
            0 => ip4(mac(1), mac(2), [[10, 0, 0, 1], [10, 0, 0, 2]], 6, [1, 2]),
            1 => ip6(mac(1), [[1; 16], [2; 16]], 17, [1, 2]),
            _ => {
                let plain = ip4(mac(1), mac(2), [[10, 0, 0, 1], [10, 0, 0, 2]], 17, [1, 2]);
                let mut t = plain[..12].to_vec();
                t.extend_from_slice(&[0x88, 0xa8, 0x00, 0x05]);
                t.extend_from_slice(&plain[12..]);
                t
            }
        };
        for (at, byte) in flips {
            if let Some(b) = f.get_mut(at) {
                *b = byte;
            }
        }
        f.truncate(cut);
        let _ = hash_tcp(&f, vlan);
        let mut bond = up_bond(params(BondMode::BalanceTcp), 2);
        prop_assert!(bond.choose_tx(&f, vlan).is_some());
    }

    #[test]
    fn random_histories_keep_the_invariants(
        n in 2..6usize,
        start in (0..3u8, 0..500u32, 0..500u32, prop_oneof![Just(0u32), 1000..3000u32], any::<bool>()),
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let p = |(m, up, down, interval, lacp): (u8, u32, u32, u32, bool)| BondParams {
            mode: mode(m),
            updelay_ms: up,
            downdelay_ms: down,
            rebalance_interval_ms: interval,
            lacp_negotiated: lacp,
        };
        let mut bond = Bond::new(p(start), n);
        let mut now = 0u64;
        check(&bond, now)?;
        for op in ops {
            match op {
                Op::May(m, may, dt) => {
                    now += dt;
                    bond.set_may_enable(m, may, now);
                }
                Op::Tick(dt) => {
                    now += dt;
                    let before = bond.active();
                    let changed = bond.tick(now);
                    // a change since the last tick may have come and gone,
                    // but a difference since just before is always reported
                    if before != bond.active() {
                        prop_assert!(changed);
                    }
                }
                Op::Tx(i, multicast, pad) => {
                    let dst = if multicast { [0x01, 0, 0x5e, 0, 0, 1] } else { [0x02, 0xee, 0, 0, 0, 1] };
                    let f = udp4(mac(i), dst, [[10, 0, 0, 1], [10, 0, 0, 2]], i as u16, pad);
                    let params = bond.params();
                    let got = bond.choose_tx(&f, 1);
                    if params.mode == BondMode::BalanceTcp && !params.lacp_negotiated {
                        prop_assert_eq!(got, None);
                    } else if multicast || params.mode == BondMode::ActiveBackup {
                        prop_assert_eq!(got, bond.active());
                    } else {
                        prop_assert_eq!(got.is_some(), bond.active().is_some());
                    }
                    if let Some(m) = got {
                        prop_assert!(bond.is_enabled(m));
                    }
                }
                Op::Params(m, up, down, interval, lacp) => {
                    now += 1;
                    bond.set_params(p((m, up, down, interval, lacp)), now);
                }
            }
            check(&bond, now)?;
        }
    }
}

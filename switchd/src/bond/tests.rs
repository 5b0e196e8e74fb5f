//! Directed tests of the bond: spreading, floods, failover with and without
//! delays, the active member, rebalancing, the receive rules, learning
//! packets. Property tests and hash distribution are in `proptests.rs`,
//! which uses the frame builders here.

use super::rebalance::rebalance;
use super::*;

/// Parameters with no delays and no rebalancing; LACP negotiated for
/// balance-tcp (which needs it).
pub(super) fn params(mode: BondMode) -> BondParams {
    BondParams {
        mode,
        updelay_ms: 0,
        downdelay_ms: 0,
        rebalance_interval_ms: 0,
        lacp_negotiated: mode == BondMode::BalanceTcp,
    }
}

/// A bond of `n` members, all reported usable at time 0.
pub(super) fn up_bond(p: BondParams, n: usize) -> Bond {
    let mut bond = Bond::new(p, n);
    for m in 0..n {
        bond.set_may_enable(m, true, 0);
    }
    bond
}

/// A locally administered unicast MAC numbered `i`.
pub(super) fn mac(i: u32) -> [u8; 6] {
    let [a, b, c, d] = i.to_be_bytes();
    [0x02, 0x00, a, b, c, d]
}

/// An Ethernet + IPv4 + UDP frame from `src` to `dst`, ports `sport` → 53,
/// padded with `pad` payload bytes.
pub(super) fn udp4(src: [u8; 6], dst: [u8; 6], ips: [[u8; 4]; 2], sport: u16, pad: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(42 + pad);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&ips[0]);
    ip[16..20].copy_from_slice(&ips[1]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&[0x00, 0x35, 0x00, 0x08, 0x00, 0x00]);
    f.resize(f.len() + pad, 0);
    f
}

const DST: [u8; 6] = [0x02, 0xee, 0, 0, 0, 1];
const IPS: [[u8; 4]; 2] = [[10, 0, 0, 1], [10, 0, 0, 2]];

/// Which member each of `frames` leaves by.
fn members_of(bond: &mut Bond, frames: &[Vec<u8>], vlan: u16) -> Vec<usize> {
    frames.iter().map(|f| bond.choose_tx(f, vlan).unwrap()).collect()
}

#[test]
fn balanced_modes_spread_flows_over_both_members_active_backup_does_not() {
    let by_mac: Vec<_> = (0..16).map(|i| udp4(mac(i), DST, IPS, 1000, 0)).collect();
    let by_port: Vec<_> = (0..16).map(|p| udp4(mac(1), DST, IPS, 1000 + p, 0)).collect();

    let mut slb = up_bond(params(BondMode::BalanceSlb), 2);
    let chosen = members_of(&mut slb, &by_mac, 10);
    assert!(chosen.contains(&0) && chosen.contains(&1), "{chosen:?}");
    // a flow stays where it is
    assert_eq!(members_of(&mut slb, &by_mac, 10), chosen);
    // balance-slb hashes the source MAC only: one MAC, one member
    let one_mac = members_of(&mut slb, &by_port, 10);
    assert!(one_mac.iter().all(|&m| m == one_mac[0]), "{one_mac:?}");

    let mut tcp = up_bond(params(BondMode::BalanceTcp), 2);
    for frames in [&by_mac, &by_port] {
        let chosen = members_of(&mut tcp, frames, 10);
        assert!(chosen.contains(&0) && chosen.contains(&1), "{chosen:?}");
        assert_eq!(members_of(&mut tcp, frames, 10), chosen);
    }

    let mut ab = up_bond(params(BondMode::ActiveBackup), 2);
    let active = ab.active().unwrap();
    for frames in [&by_mac, &by_port] {
        assert!(members_of(&mut ab, frames, 10).iter().all(|&m| m == active));
    }

    // per-member byte counts add up to what was sent
    let st = slb.status(0);
    let sent: u64 = by_mac
        .iter()
        .chain(&by_mac)
        .chain(&by_port)
        .map(|f| f.len() as u64)
        .sum();
    assert_eq!(st.members.iter().map(|m| m.tx_bytes).sum::<u64>(), sent);
    assert!(st.members.iter().all(|m| m.tx_bytes > 0));
}

#[test]
fn a_flood_leaves_by_the_active_member_only() {
    let floods: Vec<Vec<u8>> = (0..32)
        .flat_map(|i| {
            [
                udp4(mac(i), [0xff; 6], IPS, 68, 0),
                udp4(mac(i), [0x01, 0x00, 0x5e, 0, 0, 0xfb], IPS, 5353, 0),
                udp4(mac(i), [0x33, 0x33, 0, 0, 0, 1], IPS, 547, 0),
            ]
        })
        .collect();
    for mode in [BondMode::ActiveBackup, BondMode::BalanceSlb, BondMode::BalanceTcp] {
        for n in [2, 3] {
            let mut bond = up_bond(params(mode), n);
            // make a member other than 0 the active one
            bond.set_may_enable(0, false, 1);
            bond.set_may_enable(0, true, 2);
            let active = bond.active().unwrap();
            assert_eq!(active, 1, "{mode:?}");
            for f in &floods {
                assert_eq!(bond.choose_tx(f, 0), Some(active), "{mode:?} {n}");
            }
        }
    }
}

#[test]
fn nothing_leaves_without_an_enabled_member_nor_balance_tcp_without_lacp() {
    let f = udp4(mac(1), DST, IPS, 1, 0);
    let mut bond = Bond::new(params(BondMode::BalanceSlb), 2);
    assert_eq!(bond.choose_tx(&f, 0), None);
    assert_eq!(bond.active(), None);
    let mut p = params(BondMode::BalanceTcp);
    p.lacp_negotiated = false;
    let mut tcp = up_bond(p, 2);
    assert_eq!(tcp.choose_tx(&f, 0), None);
    assert_eq!(tcp.choose_tx(&udp4(mac(1), [0xff; 6], IPS, 1, 0), 0), None);
    assert_eq!(tcp.admit_rx(0, false), Admit::No);
}

#[test]
fn failover_without_downdelay_is_immediate() {
    let frames: Vec<_> = (0..64).map(|i| udp4(mac(i), DST, IPS, 1, 0)).collect();
    let mut bond = up_bond(params(BondMode::BalanceSlb), 2);
    assert!(bond.tick(0), "the first active member is a change");
    assert!(!bond.tick(1));
    assert_eq!(bond.active(), Some(0));
    let _ = bond.should_send_learning_packets();

    bond.set_may_enable(0, false, 10);
    assert!(!bond.is_enabled(0));
    assert_eq!(bond.active(), Some(1));
    let st = bond.status(10);
    assert!(st.members[0].buckets.is_empty());
    assert_eq!(st.members[1].buckets.len(), BUCKETS);
    assert!(members_of(&mut bond, &frames, 0).iter().all(|&m| m == 1));
    assert!(bond.tick(10), "the active member changed");
    assert!(!bond.tick(11));
    assert!(bond.should_send_learning_packets());
    assert!(!bond.should_send_learning_packets(), "cleared by the call");

    // losing a backup member moves its buckets but not the active one
    let mut bond = up_bond(params(BondMode::BalanceSlb), 3);
    bond.tick(0);
    let _ = bond.should_send_learning_packets();
    bond.set_may_enable(2, false, 5);
    assert_eq!(bond.active(), Some(0));
    assert!(!bond.tick(5));
    let st = bond.status(5);
    assert!(st.members[2].buckets.is_empty());
    // spread round-robin over the two left (86 and 85 of their own, plus
    // 43 and 42 or 42 and 43)
    let (b0, b1) = (st.members[0].buckets.len(), st.members[1].buckets.len());
    assert_eq!(b0 + b1, BUCKETS);
    assert!(
        (127..=129).contains(&b0) && (127..=129).contains(&b1),
        "{b0} {b1}"
    );
    assert!(
        bond.should_send_learning_packets(),
        "OVS: a disabled member asks for learning packets"
    );

    // losing every member
    bond.set_may_enable(0, false, 6);
    bond.set_may_enable(1, false, 6);
    assert_eq!(bond.active(), None);
    assert!(bond.tick(6));
    assert_eq!(bond.choose_tx(&frames[0], 0), None);
    assert!(
        !bond.should_send_learning_packets(),
        "no active member to send them"
    );
}

#[test]
fn downdelay_defers_the_failover_and_a_quick_return_cancels_it() {
    let mut p = params(BondMode::ActiveBackup);
    p.downdelay_ms = 500;
    let mut bond = up_bond(p, 2);
    bond.tick(0);
    bond.set_may_enable(0, false, 100);
    assert!(bond.is_enabled(0));
    assert_eq!(bond.status(100).members[0].delay_ms, Some(500));
    assert!(!bond.tick(599));
    assert_eq!(bond.active(), Some(0));
    assert_eq!(bond.choose_tx(&udp4(mac(1), DST, IPS, 1, 0), 0), Some(0));
    assert!(bond.tick(600));
    assert!(!bond.is_enabled(0));
    assert_eq!(bond.active(), Some(1));

    // down then up again within the downdelay: nothing happens
    bond.set_may_enable(1, false, 1000);
    bond.set_may_enable(1, true, 1300);
    assert_eq!(bond.status(1300).members[1].delay_ms, None);
    assert!(!bond.tick(2000));
    assert!(bond.is_enabled(1));
    assert_eq!(bond.active(), Some(1));
}

#[test]
fn updelay_is_respected_and_a_returning_member_takes_back_its_buckets() {
    let mut p = params(BondMode::BalanceSlb);
    p.updelay_ms = 1000;
    let mut bond = up_bond(p, 2);
    // the first report is taken at once, as OVS's bond_member_register
    assert!(bond.is_enabled(0) && bond.is_enabled(1));
    bond.tick(0);
    bond.set_may_enable(1, false, 0);
    assert!(!bond.is_enabled(1));

    bond.set_may_enable(1, true, 100);
    // a flap restarts the wait
    bond.set_may_enable(1, false, 500);
    bond.set_may_enable(1, true, 600);
    assert!(!bond.tick(1100));
    assert!(!bond.is_enabled(1));
    assert_eq!(bond.status(1100).members[1].delay_ms, Some(500));
    assert!(!bond.tick(1599));
    assert!(!bond.is_enabled(1));
    assert!(!bond.tick(1600), "the active member stays");
    assert!(bond.is_enabled(1));
    assert_eq!(bond.active(), Some(0));
    let home: Vec<u8> = (0..BUCKETS).filter(|b| b % 2 == 1).map(|b| b as u8).collect();
    assert_eq!(bond.status(1600).members[1].buckets, home);
}

#[test]
fn with_no_member_enabled_the_updelay_is_skipped_as_ovs() {
    let mut p = params(BondMode::ActiveBackup);
    p.updelay_ms = 1000;
    let mut bond = Bond::new(p, 3);
    for m in 0..3 {
        bond.set_may_enable(m, false, 0);
    }
    assert_eq!(bond.active(), None);
    bond.set_may_enable(2, true, 50);
    assert!(bond.is_enabled(2));
    assert_eq!(bond.active(), Some(2));
    assert!(bond.tick(50));
    // now one is enabled: the next waits
    bond.set_may_enable(0, true, 60);
    assert!(!bond.is_enabled(0));
    bond.tick(1059);
    assert!(!bond.is_enabled(0));
    bond.tick(1060);
    assert!(bond.is_enabled(0));
    assert_eq!(bond.active(), Some(2), "no preemption");
}

#[test]
fn the_active_member_is_kept_else_the_lowest_enabled_index() {
    let mut bond = up_bond(params(BondMode::ActiveBackup), 3);
    assert_eq!(bond.active(), Some(0));
    bond.set_may_enable(0, false, 1);
    assert_eq!(bond.active(), Some(1));
    bond.set_may_enable(0, true, 2);
    assert_eq!(bond.active(), Some(1), "a returning member does not take over");
    bond.set_may_enable(1, false, 3);
    assert_eq!(bond.active(), Some(0));
    bond.set_may_enable(2, false, 4);
    assert_eq!(bond.active(), Some(0));
    // a member waiting out its downdelay is chosen only if no other is
    let mut p = params(BondMode::ActiveBackup);
    p.downdelay_ms = 100;
    let mut bond = up_bond(p, 3);
    bond.set_may_enable(0, false, 200);
    bond.set_may_enable(1, false, 210);
    assert!(bond.tick(300));
    assert!(bond.is_enabled(1));
    assert_eq!(bond.active(), Some(2), "1 is going down too");
    bond.set_may_enable(2, false, 300);
    assert!(!bond.tick(310));
    assert!(!bond.is_enabled(1));
    assert!(bond.tick(400));
    assert_eq!(bond.active(), None);
    // unknown members are ignored
    bond.set_may_enable(9, false, 5);
    assert_eq!(bond.admit_rx(9, false), Admit::No);
    assert!(!bond.is_enabled(9));
}

/// The loads (sum of counters) of each member.
fn loads(owner: &[u8; BUCKETS], bytes: &[u64; BUCKETS], n: usize) -> Vec<u64> {
    let mut l = vec![0; n];
    for b in 0..BUCKETS {
        l[usize::from(owner[b])] += bytes[b];
    }
    l
}

#[test]
fn rebalance_moves_load_as_ovs() {
    // member 0: 500k, 300k, 200k, 100k; member 1: nothing. The 500k bucket
    // moves (ideal move 550k, within 10 %); then 600k vs 500k differ by
    // 100k, and only a 100k bucket could move, which would not help.
    let mut owner: [u8; BUCKETS] = std::array::from_fn(|b| (b % 2) as u8);
    let mut bytes = [0u64; BUCKETS];
    for (b, v) in [(0, 500_000), (2, 300_000), (4, 200_000), (6, 100_000)] {
        bytes[b] = v;
    }
    assert!(rebalance(&mut owner, &bytes, &[true, true]));
    assert_eq!(owner[0], 1);
    assert_eq!([owner[2], owner[4], owner[6]], [0, 0, 0]);
    assert_eq!(loads(&owner, &bytes, 2), [600_000, 500_000]);

    // three members, nine equal buckets on member 0: four go to the last of
    // the lightest (2), two to member 1; member 2's moved buckets are not
    // moved again in the same run.
    let mut owner = [0u8; BUCKETS];
    let mut bytes = [0u64; BUCKETS];
    bytes[..9].fill(100_000);
    assert!(rebalance(&mut owner, &bytes, &[true, true, true]));
    assert_eq!(loads(&owner, &bytes, 3), [300_000, 200_000, 400_000]);

    // a disabled member receives nothing
    let mut owner = [0u8; BUCKETS];
    assert!(rebalance(&mut owner, &bytes, &[true, false, true]));
    assert_eq!(loads(&owner, &bytes, 3)[1], 0);
    assert_eq!(loads(&owner, &bytes, 3), [500_000, 0, 400_000]);
}

#[test]
fn rebalance_leaves_a_balanced_or_light_or_single_bucket_load_alone() {
    let home: [u8; BUCKETS] = std::array::from_fn(|b| (b % 2) as u8);
    // balanced
    let bytes: [u64; BUCKETS] = std::array::from_fn(|b| 10_000 + (b as u64 % 2));
    let mut owner = home;
    assert!(!rebalance(&mut owner, &bytes, &[true, true]));
    assert_eq!(owner, home);
    // skewed but under 100 000 bytes of overload
    let mut bytes = [0u64; BUCKETS];
    bytes[0] = 60_000;
    bytes[2] = 39_999;
    assert!(!rebalance(&mut owner, &bytes, &[true, true]));
    assert_eq!(owner, home);
    // heavily skewed, but one bucket carries it all: moving it moves the skew
    let mut bytes = [0u64; BUCKETS];
    bytes[0] = 10_000_000;
    assert!(!rebalance(&mut owner, &bytes, &[true, true]));
    assert_eq!(owner, home);
}

#[test]
fn tick_rebalances_a_skewed_bond_every_interval() {
    let mut p = params(BondMode::BalanceSlb);
    p.rebalance_interval_ms = 1000;
    let mut bond = up_bond(p, 2);
    bond.tick(0);
    assert_eq!(bond.status(0).next_rebalance_ms, Some(1000));
    // eight MACs in eight buckets, all on member 0, 200 kB each
    let mut seen = std::collections::BTreeSet::new();
    let frames: Vec<_> = (0..)
        .map(|i| udp4(mac(i), DST, IPS, 1, 958))
        .filter(|f| {
            let b = hash_slb(f[6..12].try_into().unwrap(), 0);
            b % 2 == 0 && seen.insert(b)
        })
        .take(8)
        .collect();
    assert_eq!(frames[0].len(), 1000);
    for f in &frames {
        for _ in 0..200 {
            assert_eq!(bond.choose_tx(f, 0), Some(0));
        }
    }
    assert!(!bond.tick(999));
    assert!(
        members_of(&mut bond, &frames, 0).iter().all(|&m| m == 0),
        "not yet"
    );
    assert!(!bond.tick(1000), "rebalancing does not change the active member");
    let after = members_of(&mut bond, &frames, 0);
    assert_eq!(after.iter().filter(|&&m| m == 1).count(), 4, "{after:?}");
    assert_eq!(bond.status(1000).next_rebalance_ms, Some(1000));
    // the counters decayed by half (200 frames, and the one sent to check
    // "not yet"), then counted the frame just sent
    let b = usize::from(hash_slb(frames[0][6..12].try_into().unwrap(), 0));
    assert_eq!(bond.bytes[b], 201_000 / 2 + 1000);
    // the next run finds the bond balanced
    let owner = bond.owner;
    bond.tick(2000);
    assert_eq!(bond.owner, owner);
}

#[test]
fn interval_zero_and_active_backup_never_rebalance() {
    for (mode, interval) in [(BondMode::BalanceSlb, 0), (BondMode::ActiveBackup, 1000)] {
        let mut p = params(mode);
        p.rebalance_interval_ms = interval;
        let mut bond = up_bond(p, 2);
        let home = bond.owner;
        let f = udp4(mac(1), DST, IPS, 1, 1000);
        for _ in 0..10_000 {
            bond.choose_tx(&f, 0);
        }
        for t in (0..100_000).step_by(500) {
            bond.tick(t);
        }
        assert_eq!(bond.owner, home);
        assert!(bond.bytes.iter().all(|&b| b == 0), "not counted");
        assert_eq!(bond.status(0).next_rebalance_ms, None);
    }
}

#[test]
fn set_params_reschedules_and_resets_as_ovs() {
    let mut p = params(BondMode::BalanceSlb);
    p.rebalance_interval_ms = 5000;
    let mut bond = up_bond(p, 2);
    bond.tick(1000);
    assert_eq!(bond.status(1000).next_rebalance_ms, Some(5000));
    // a new interval counts from the old start
    p.rebalance_interval_ms = 2000;
    bond.set_params(p, 1500);
    assert_eq!(bond.status(1500).next_rebalance_ms, Some(1500));
    // off, then on: from now
    p.rebalance_interval_ms = 0;
    bond.set_params(p, 1600);
    assert_eq!(bond.status(1600).next_rebalance_ms, None);
    p.rebalance_interval_ms = 1000;
    bond.set_params(p, 1700);
    assert_eq!(bond.status(1700).next_rebalance_ms, Some(1000));
    // a change of mode puts the buckets back home (those of enabled members)
    bond.owner = [1; BUCKETS];
    bond.bytes[3] = 7;
    p.mode = BondMode::BalanceTcp;
    bond.set_params(p, 1800);
    assert_eq!(bond.owner, std::array::from_fn(|b| (b % 2) as u8));
    assert_eq!(bond.bytes[3], 0);
    bond.set_may_enable(0, false, 1900);
    p.mode = BondMode::BalanceSlb;
    bond.set_params(p, 2000);
    assert_eq!(bond.owner, [1; BUCKETS]);
    // active-backup lists no buckets
    p.mode = BondMode::ActiveBackup;
    bond.set_params(p, 2100);
    assert!(bond.status(2100).members.iter().all(|m| m.buckets.is_empty()));
}

#[test]
fn admit_rx_truth_table() {
    use Admit::{IfNotLearnedElsewhere as Rpf, No, Yes};
    use BondMode::*;
    // per (mode, LACP negotiated): unicast received on the active member
    // (0), an enabled backup (1), a disabled member (2), then multicast
    // received on the same.
    #[rustfmt::skip]
    let table = [
        (ActiveBackup, false, [Yes, No, No, Yes, No, No]),
        (ActiveBackup, true,  [Yes, Yes, No, Yes, Yes, No]),
        (BalanceSlb, false,   [Rpf, Rpf, No, Rpf, No, No]),
        (BalanceSlb, true,    [Yes, Yes, No, Yes, Yes, No]),
        (BalanceTcp, false,   [No, No, No, No, No, No]),
        (BalanceTcp, true,    [Yes, Yes, No, Yes, Yes, No]),
    ];
    for (mode, lacp, want) in table {
        let mut p = params(mode);
        p.lacp_negotiated = lacp;
        let mut bond = up_bond(p, 3);
        bond.set_may_enable(2, false, 0);
        assert_eq!(bond.active(), Some(0));
        let mut got = Vec::new();
        for multicast in [false, true] {
            for member in 0..3 {
                got.push(bond.admit_rx(member, multicast));
            }
        }
        assert_eq!(got, want, "{mode:?} lacp={lacp}");
    }
}

#[test]
fn learning_packets_follow_ovs() {
    // balance-slb: the learning packet of a MAC leaves where its traffic does
    let mut slb = up_bond(params(BondMode::BalanceSlb), 2);
    for i in 0..32 {
        let f = udp4(mac(i), DST, IPS, 1, 0);
        assert_eq!(slb.learning_member(mac(i), 7), slb.choose_tx(&f, 7));
    }
    let mut ab = up_bond(params(BondMode::ActiveBackup), 2);
    ab.set_may_enable(0, false, 1);
    assert_eq!(ab.learning_member(mac(3), 0), Some(1));
    assert!(ab.should_send_learning_packets());
    // not with LACP negotiated, nor in balance-tcp
    let mut p = params(BondMode::ActiveBackup);
    p.lacp_negotiated = true;
    let mut lacp = up_bond(p, 2);
    lacp.set_may_enable(0, false, 1);
    assert!(!lacp.should_send_learning_packets());
    let mut tcp = up_bond(params(BondMode::BalanceTcp), 2);
    tcp.set_may_enable(0, false, 1);
    assert!(!tcp.should_send_learning_packets());
    // the frame itself
    let (f, len) = learning_packet(mac(3), 5);
    assert_eq!(&f[6..12], &mac(3));
    assert_eq!(&f[12..18], &[0x81, 0x00, 0x00, 0x05, 0x80, 0x35]);
    assert_eq!(len, 60);
}

#[test]
#[should_panic(expected = "a bond has 1 to 32 members")]
fn too_many_members_panics() {
    let _ = Bond::new(BondParams::default(), MAX_MEMBERS + 1);
}

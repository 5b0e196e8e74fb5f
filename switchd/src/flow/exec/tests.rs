//! The action interpreter on a recording datapath: outputs see the edits
//! made before them, resubmit and goto_table, the depth limit, dec_ttl,
//! the counters of every flow a frame passes through, and groups (each
//! bucket on its own copy of the key, select's weighted choice, chains).

use std::time::Instant;

use super::*;
use crate::flow::group::Bucket;
use crate::flow::table::Origin;
use crate::flow::types::{FlowFilter, FlowSpec, Match};

#[derive(Debug, PartialEq, Eq)]
enum Call {
    Output(u16, u16),
    InPort,
    Normal(u16),
    Flood(bool),
    Controller(ToController, u8, u64),
}

/// Records each call with the VLAN TCI the key had then.
#[derive(Default)]
struct Rec(Vec<Call>);

impl Datapath for Rec {
    fn output(&mut self, port: u16, key: &FlowKey) {
        self.0.push(Call::Output(port, key.vlan_tci()));
    }
    fn in_port(&mut self, _: &FlowKey) {
        self.0.push(Call::InPort);
    }
    fn normal(&mut self, key: &FlowKey) {
        self.0.push(Call::Normal(key.vlan_tci()));
    }
    fn flood(&mut self, _: &FlowKey, all: bool) {
        self.0.push(Call::Flood(all));
    }
    fn controller(&mut self, _: &FlowKey, _: u16, reason: ToController, table: u8, cookie: u64) {
        self.0.push(Call::Controller(reason, table, cookie));
    }
    fn meter(&mut self, _: u32) -> bool {
        true
    }
}

fn flow(table: u8, priority: u16, m: Match, actions: Vec<Action>) -> FlowSpec {
    FlowSpec {
        table,
        priority,
        matching: m,
        actions,
        ..FlowSpec::default()
    }
}

fn in_port(p: u16) -> Match {
    let mut m = Match::ANY;
    m.set_exact(Field::InPort, p.into());
    m
}

fn key(port: u16) -> FlowKey {
    let mut k = FlowKey::ZERO;
    k.set(Field::InPort, port.into());
    k.set(Field::DlType, 0x0800);
    k.set(Field::NwProto, 17);
    k.set(Field::NwTtl, 64);
    k
}

fn run_with(flows: Vec<FlowSpec>, k: FlowKey) -> (Result<(), DropReason>, Rec, FlowKey, FlowTable) {
    let (r, rec, k, t, _) = run_groups(flows, GroupTable::new(), k);
    (r, rec, k, t)
}

fn table_of(flows: Vec<FlowSpec>) -> FlowTable {
    let mut t = FlowTable::new();
    for f in flows {
        t.add(f, true, Origin::Local, Instant::now()).unwrap();
    }
    t
}

fn run_groups(
    flows: Vec<FlowSpec>,
    groups: GroupTable,
    mut k: FlowKey,
) -> (Result<(), DropReason>, Rec, FlowKey, FlowTable, GroupTable) {
    let mut t = table_of(flows);
    let mut rec = Rec::default();
    let r = execute(&mut t, &groups, &mut k, 100, Instant::now(), &mut rec);
    (r, rec, k, t, groups)
}

#[test]
fn each_output_sees_the_edits_made_before_it() {
    let (r, rec, k, _) = run_with(
        vec![flow(
            0,
            1,
            Match::ANY,
            vec![
                Action::Output(2),
                Action::ModVlanVid(10),
                Action::Output(3),
                Action::ModVlanPcp(5),
                Action::Normal,
                Action::StripVlan,
                Action::Flood,
                Action::All,
            ],
        )],
        key(1),
    );
    assert_eq!(r, Ok(()));
    assert_eq!(
        rec.0,
        [
            Call::Output(2, 0),
            Call::Output(3, VLAN_CFI | 10),
            Call::Normal(VLAN_CFI | 10 | (5 << 13)),
            Call::Flood(false),
            Call::Flood(true),
        ]
    );
    assert_eq!(k.vlan_tci(), 0);
}

#[test]
fn output_to_the_ingress_port_needs_in_port() {
    let (_, rec, _, _) = run_with(
        vec![flow(0, 1, Match::ANY, vec![Action::Output(4), Action::InPort])],
        key(4),
    );
    assert_eq!(rec.0, [Call::InPort]);
}

#[test]
fn no_match_in_table_0_is_a_drop_and_empty_actions_drop_silently() {
    let (r, rec, _, _) = run_with(vec![flow(0, 1, in_port(9), vec![Action::Normal])], key(1));
    assert_eq!(r, Err(DropReason::NoFlowMatch));
    assert!(rec.0.is_empty());
    let (r, rec, _, _) = run_with(vec![flow(0, 1, Match::ANY, vec![])], key(1));
    assert_eq!(r, Ok(()));
    assert!(rec.0.is_empty());
}

#[test]
fn resubmit_continues_with_a_replaced_in_port_then_restores_it() {
    let (r, rec, k, t) = run_with(
        vec![
            flow(
                0,
                1,
                in_port(1),
                vec![
                    Action::Resubmit {
                        port: Some(7),
                        table: Some(1),
                    },
                    Action::Output(2),
                ],
            ),
            flow(1, 1, in_port(7), vec![Action::ModVlanVid(3), Action::Output(5)]),
            flow(1, 1, in_port(1), vec![Action::Output(6)]),
        ],
        key(1),
    );
    assert_eq!(r, Ok(()));
    // Table 1 saw in_port 7; the edit made there stays for the output after.
    assert_eq!(
        rec.0,
        [Call::Output(5, VLAN_CFI | 3), Call::Output(2, VLAN_CFI | 3)]
    );
    assert_eq!(k.in_port(), 1);
    let hits: Vec<u64> = t
        .dump(&FlowFilter::default())
        .iter()
        .map(|e| e.n_packets())
        .collect();
    assert_eq!(hits, [1, 1, 0], "both flows passed through are counted");
}

#[test]
fn goto_table_ends_the_list_and_a_miss_there_ends_quietly() {
    let (r, rec, _, _) = run_with(
        vec![
            flow(0, 1, Match::ANY, vec![Action::Output(2), Action::GotoTable(4)]),
            flow(4, 1, Match::ANY, vec![Action::Output(3)]),
        ],
        key(1),
    );
    assert_eq!(r, Ok(()));
    assert_eq!(rec.0, [Call::Output(2, 0), Call::Output(3, 0)]);
    let (r, rec, _, _) = run_with(
        vec![flow(
            0,
            1,
            Match::ANY,
            vec![Action::Output(2), Action::GotoTable(4)],
        )],
        key(1),
    );
    assert_eq!(r, Ok(()));
    assert_eq!(rec.0, [Call::Output(2, 0)]);
}

#[test]
fn a_resubmit_loop_stops_at_the_depth_limit() {
    let (r, _, _, t) = run_with(
        vec![flow(
            0,
            1,
            Match::ANY,
            vec![Action::Resubmit {
                port: None,
                table: Some(0),
            }],
        )],
        key(1),
    );
    assert_eq!(r, Err(DropReason::FlowRecursion));
    assert_eq!(t.dump(&FlowFilter::default())[0].n_packets(), MAX_DEPTH as u64);
}

#[test]
fn dec_ttl_decrements_and_drops_at_one() {
    let flows = || vec![flow(0, 1, Match::ANY, vec![Action::DecTtl, Action::Output(2)])];
    let (r, _, k, _) = run_with(flows(), key(1));
    assert_eq!(r, Ok(()));
    assert_eq!(k.get(Field::NwTtl), 63);
    let mut one = key(1);
    one.set(Field::NwTtl, 1);
    let (r, rec, _, _) = run_with(flows(), one);
    assert_eq!(r, Err(DropReason::TtlExceeded));
    assert_eq!(rec.0, [Call::Controller(ToController::InvalidTtl, 0, 0)]);
    // Not IP: nothing to decrement.
    let mut arp = key(1);
    arp.set(Field::DlType, 0x0806);
    arp.set(Field::NwTtl, 0);
    assert_eq!(run_with(flows(), arp).0, Ok(()));
}

#[test]
fn field_writes_only_touch_fields_the_frame_has() {
    let (_, _, k, _) = run_with(
        vec![flow(
            0,
            1,
            Match::ANY,
            vec![
                Action::ModNwDst(0x0a00_0002),
                Action::ModTpDst(80),
                Action::SetField {
                    field: Field::ArpOp,
                    value: 2,
                    mask: 0xff,
                },
                Action::Load {
                    field: Field::Reg3,
                    start: 4,
                    n_bits: 8,
                    value: 0xab,
                },
                Action::ModNwTos(0xb8),
            ],
        )],
        key(1),
    );
    assert_eq!(k.get(Field::NwDst), 0x0a00_0002);
    assert_eq!(k.get(Field::TpDst), 80);
    assert_eq!(k.nw_proto(), 17, "arp_op is not written on an IP frame");
    assert_eq!(k.get(Field::Reg3), 0xab0);
    assert_eq!(k.get(Field::NwTos), 0xb8);
}

#[test]
fn push_vlan_on_a_tagged_frame_is_refused() {
    let mut k = key(1);
    k.set(Field::VlanTci, u128::from(VLAN_CFI | 5));
    let (r, rec, _, _) = run_with(
        vec![flow(
            0,
            1,
            Match::ANY,
            vec![Action::PushVlan(0x8100), Action::Output(2)],
        )],
        k,
    );
    assert_eq!(r, Err(DropReason::FlowUnsupported));
    assert!(rec.0.is_empty());
    let (r, rec, _, _) = run_with(
        vec![flow(
            0,
            1,
            Match::ANY,
            vec![Action::PushVlan(0x8100), Action::Output(2)],
        )],
        key(1),
    );
    assert_eq!(r, Ok(()));
    assert_eq!(rec.0, [Call::Output(2, VLAN_CFI)]);
}

fn bucket(weight: u16, actions: Vec<Action>) -> Bucket {
    Bucket {
        weight,
        watch_port: None,
        watch_group: None,
        actions,
    }
}

fn groups_of(list: Vec<(u32, GroupType, Vec<Bucket>)>) -> GroupTable {
    let mut g = GroupTable::new();
    for (id, t, buckets) in list {
        g.add(id, t, buckets, Instant::now()).unwrap();
    }
    g
}

#[test]
fn an_all_group_runs_every_bucket_on_its_own_copy_of_the_key() {
    let groups = groups_of(vec![(
        1,
        GroupType::All,
        vec![
            bucket(0, vec![Action::ModVlanVid(10), Action::Output(2)]),
            bucket(0, vec![Action::Output(3)]),
            bucket(0, vec![Action::StripVlan, Action::Output(4)]),
        ],
    )]);
    let (r, rec, k, _, groups) = run_groups(
        vec![flow(
            0,
            1,
            Match::ANY,
            vec![Action::ModVlanVid(5), Action::Group(1), Action::Output(9)],
        )],
        groups,
        key(1),
    );
    assert_eq!(r, Ok(()));
    // Bucket 1's tag 10 reaches neither bucket 2 nor the flow's own output
    // after the group; bucket 3's strip does not either.
    assert_eq!(
        rec.0,
        [
            Call::Output(2, VLAN_CFI | 10),
            Call::Output(3, VLAN_CFI | 5),
            Call::Output(4, 0),
            Call::Output(9, VLAN_CFI | 5),
        ]
    );
    assert_eq!(k.vlan_tci(), VLAN_CFI | 5);
    let g = groups.get(1).unwrap();
    assert_eq!((g.n_packets(), g.n_bytes()), (1, 100));
    assert_eq!(g.bucket_counts().collect::<Vec<_>>(), [(1, 100); 3]);
}

#[test]
fn an_indirect_group_runs_its_bucket_on_a_copy() {
    let groups = groups_of(vec![(
        7,
        GroupType::Indirect,
        vec![bucket(
            0,
            vec![Action::ModDlDst([2, 0, 0, 0, 0, 1]), Action::Output(2)],
        )],
    )]);
    let (r, rec, k, _, groups) = run_groups(
        vec![flow(0, 1, Match::ANY, vec![Action::Group(7), Action::Output(3)])],
        groups,
        key(1),
    );
    assert_eq!(r, Ok(()));
    assert_eq!(rec.0, [Call::Output(2, 0), Call::Output(3, 0)]);
    assert_eq!(k.get(Field::DlDst), 0, "the bucket's edit stays in the bucket");
    assert_eq!(groups.get(7).unwrap().bucket_counts().next(), Some((1, 100)));
}

/// A UDP key of connection number `i` (addresses and ports vary).
fn conn(i: u32) -> FlowKey {
    let mut k = key(1);
    k.set(Field::NwSrc, u128::from(0x0a00_0000 | i));
    k.set(Field::NwDst, 0x0a01_0001);
    k.set(Field::TpSrc, u128::from(1024 + i % 50_000));
    k.set(Field::TpDst, 53);
    k
}

#[test]
fn a_select_group_spreads_connections_by_weight_and_keeps_each_on_its_bucket() {
    let groups = groups_of(vec![(
        1,
        GroupType::Select,
        vec![
            bucket(1, vec![Action::Output(2)]),
            bucket(3, vec![Action::Output(3)]),
            bucket(0, vec![Action::Output(4)]),
        ],
    )]);
    let mut t = table_of(vec![flow(0, 1, Match::ANY, vec![Action::Group(1)])]);
    let now = Instant::now();
    let out = |t: &mut FlowTable, k: FlowKey| {
        let mut rec = Rec::default();
        let mut k = k;
        execute(t, &groups, &mut k, 100, now, &mut rec).unwrap();
        assert_eq!(rec.0.len(), 1, "exactly one bucket");
        match rec.0[0] {
            Call::Output(p, _) => p,
            ref c => panic!("{c:?}"),
        }
    };
    let mut n = [0u32; 5];
    for i in 0..1000 {
        n[usize::from(out(&mut t, conn(i)))] += 1;
    }
    // 250 / 750 expected; the hash is fixed, so the counts are too (the
    // bounds only leave room for a change of hash).
    assert!((200..=300).contains(&n[2]) && n[2] + n[3] == 1000, "{n:?}");
    assert_eq!(n[4], 0, "weight 0 is never chosen");
    let counts: Vec<(u64, u64)> = groups.get(1).unwrap().bucket_counts().collect();
    assert_eq!(counts[0].0, u64::from(n[2]));
    assert_eq!(counts[1].0, u64::from(n[3]));
    assert_eq!(counts[2], (0, 0));
    // Same connection, same bucket: again, and in the other direction.
    for i in 0..50 {
        let k = conn(i);
        let first = out(&mut t, k);
        assert_eq!(out(&mut t, k), first);
        let mut back = k;
        back.set(Field::NwSrc, k.get(Field::NwDst));
        back.set(Field::NwDst, k.get(Field::NwSrc));
        back.set(Field::TpSrc, k.get(Field::TpDst));
        back.set(Field::TpDst, k.get(Field::TpSrc));
        back.set(Field::InPort, 7);
        assert_eq!(out(&mut t, back), first, "connection {i} reversed");
    }
}

#[test]
fn a_select_group_with_no_weight_and_a_deleted_group_do_nothing() {
    let mut groups = groups_of(vec![
        (1, GroupType::Select, vec![bucket(0, vec![Action::Output(2)])]),
        (2, GroupType::All, vec![bucket(0, vec![Action::Output(3)])]),
    ]);
    groups.delete(Some(2));
    let (r, rec, _, _, groups) = run_groups(
        vec![flow(
            0,
            1,
            Match::ANY,
            vec![Action::Group(1), Action::Group(2), Action::Output(5)],
        )],
        groups,
        key(1),
    );
    assert_eq!(r, Ok(()));
    assert_eq!(rec.0, [Call::Output(5, 0)]);
    assert_eq!(
        groups.get(1).unwrap().n_packets(),
        1,
        "the group counts the frame"
    );
}

#[test]
fn a_bucket_sends_to_the_controller_with_the_table_and_cookie_of_the_flow() {
    let groups = groups_of(vec![(
        1,
        GroupType::Indirect,
        vec![bucket(0, vec![Action::Controller { max_len: 128 }])],
    )]);
    let mut used = flow(3, 1, Match::ANY, vec![Action::Group(1)]);
    used.cookie = 0xab;
    let (r, rec, _, _, _) = run_groups(
        vec![
            flow(
                0,
                1,
                Match::ANY,
                vec![Action::Resubmit {
                    port: None,
                    table: Some(3),
                }],
            ),
            used,
        ],
        groups,
        key(1),
    );
    assert_eq!(r, Ok(()));
    assert_eq!(rec.0, [Call::Controller(ToController::Action, 3, 0xab)]);
}

#[test]
fn chains_of_groups_run_and_stop_at_the_depth_limit() {
    // group:i -> group:i+1 ... -> output:2.
    let chain = |n: u32| {
        let mut g = GroupTable::new();
        for i in (0..n).rev() {
            let a = if i + 1 == n {
                Action::Output(2)
            } else {
                Action::Group(i + 1)
            };
            g.add(i, GroupType::All, vec![bucket(0, vec![a])], Instant::now())
                .unwrap();
        }
        g
    };
    let flows = || vec![flow(0, 1, Match::ANY, vec![Action::Group(0)])];
    let (r, rec, _, _, _) = run_groups(flows(), chain(10), key(1));
    assert_eq!(r, Ok(()));
    assert_eq!(rec.0, [Call::Output(2, 0)]);
    let (r, rec, _, _, _) = run_groups(flows(), chain(MAX_DEPTH as u32), key(1));
    assert_eq!(r, Err(DropReason::FlowRecursion));
    assert!(rec.0.is_empty());
    // A loop the group table cannot see: a bucket resubmits to the table
    // whose flow uses the group.
    let groups = groups_of(vec![(
        1,
        GroupType::All,
        vec![bucket(
            0,
            vec![Action::Resubmit {
                port: None,
                table: Some(0),
            }],
        )],
    )]);
    let (r, _, _, t, groups) = run_groups(flows_with_group(1), groups, key(1));
    assert_eq!(r, Err(DropReason::FlowRecursion));
    // Flows at depths 0, 2, ..., 62; the group at 1, 3, ..., 63.
    assert_eq!(
        t.dump(&FlowFilter::default())[0].n_packets(),
        MAX_DEPTH as u64 / 2
    );
    assert_eq!(groups.get(1).unwrap().n_packets(), MAX_DEPTH as u64 / 2);
}

fn flows_with_group(g: u32) -> Vec<FlowSpec> {
    vec![flow(0, 1, Match::ANY, vec![Action::Group(g)])]
}

//! The group table's operations and checks (add, modify, delete, the
//! refusals of GROUP_MOD), `ref_count` and `out_group`, and the select
//! hash's determinism and symmetry. Running buckets is tested with the
//! interpreter (`exec/tests.rs`).

use std::time::{Duration, Instant};

use super::*;
use crate::flow::table::Origin;
use crate::flow::types::{FlowFilter, FlowSpec, Match};

fn bucket(weight: u16, actions: Vec<Action>) -> Bucket {
    Bucket {
        weight,
        watch_port: None,
        watch_group: None,
        actions,
    }
}

fn out(p: u16) -> Vec<Bucket> {
    vec![bucket(0, vec![Action::Output(p)])]
}

fn to_group(g: u32) -> Vec<Bucket> {
    vec![bucket(0, vec![Action::Group(g)])]
}

#[test]
fn add_get_iterate_by_id_and_refuse_a_second_add() {
    let now = Instant::now();
    let mut t = GroupTable::new();
    assert!(t.is_empty());
    t.add(5, GroupType::All, out(1), now).unwrap();
    t.add(2, GroupType::Indirect, out(2), now).unwrap();
    t.add(
        9,
        GroupType::Select,
        vec![bucket(1, vec![]), bucket(2, vec![])],
        now,
    )
    .unwrap();
    assert_eq!(
        t.add(5, GroupType::All, out(3), now),
        Err(GroupError::GroupExists(5))
    );
    assert_eq!(t.len(), 3);
    assert_eq!(t.iter().map(|g| g.id).collect::<Vec<_>>(), [2, 5, 9]);
    let g = t.get(5).unwrap();
    assert_eq!(
        (g.group_type, g.buckets.clone(), g.created),
        (GroupType::All, out(1), now)
    );
    assert_eq!((g.n_packets(), g.n_bytes()), (0, 0));
    assert_eq!(t.get(9).unwrap().bucket_counts().collect::<Vec<_>>(), [(0, 0); 2]);
    assert!(t.get(3).is_none());
}

#[test]
fn modify_replaces_type_and_buckets_and_keeps_the_groups_counters() {
    let now = Instant::now();
    let mut t = GroupTable::new();
    assert_eq!(
        t.modify(1, GroupType::All, out(1)),
        Err(GroupError::UnknownGroup(1))
    );
    t.add(1, GroupType::All, out(1), now).unwrap();
    let g = t.get(1).unwrap();
    g.hit(60);
    g.bucket_hit(0, 60);
    t.modify(1, GroupType::Select, vec![bucket(1, vec![]), bucket(1, vec![])])
        .unwrap();
    let g = t.get(1).unwrap();
    assert_eq!(g.group_type, GroupType::Select);
    assert_eq!(g.buckets.len(), 2);
    assert_eq!((g.n_packets(), g.n_bytes(), g.created), (1, 60, now));
    assert_eq!(g.bucket_counts().collect::<Vec<_>>(), [(0, 0); 2]);
    // A refused modification changes nothing.
    assert!(t.modify(1, GroupType::Indirect, vec![]).is_err());
    assert_eq!(t.get(1).unwrap().group_type, GroupType::Select);
}

#[test]
fn delete_one_or_all_returns_the_ids_removed() {
    let now = Instant::now();
    let mut t = GroupTable::new();
    for id in [3, 1, 2] {
        t.add(id, GroupType::All, out(1), now).unwrap();
    }
    assert_eq!(t.delete(Some(2)), [2]);
    assert_eq!(t.delete(Some(2)), Vec::<u32>::new(), "absent: nothing, no error");
    assert_eq!(t.delete(None), [1, 3]);
    assert!(t.is_empty());
    assert_eq!(t.delete(None), Vec::<u32>::new());
}

#[test]
fn invalid_groups_are_refused_with_the_openflow_reason() {
    let now = Instant::now();
    let mut t = GroupTable::new();
    let two = || vec![bucket(0, vec![]), bucket(0, vec![])];
    type Case = (u32, GroupType, Vec<Bucket>, fn(&GroupError) -> bool);
    let cases: Vec<Case> = vec![
        (1, GroupType::Indirect, vec![], |e| {
            matches!(e, GroupError::InvalidGroup(1, _))
        }),
        (1, GroupType::Indirect, two(), |e| {
            matches!(e, GroupError::InvalidGroup(1, _))
        }),
        (1, GroupType::All, vec![bucket(1, vec![])], |e| {
            matches!(e, GroupError::InvalidGroup(1, _))
        }),
        (1, GroupType::Indirect, vec![bucket(2, vec![])], |e| {
            matches!(e, GroupError::InvalidGroup(1, _))
        }),
        (
            MAX_GROUP_ID + 1,
            GroupType::All,
            vec![],
            |e| matches!(e, GroupError::InvalidGroup(id, _) if *id == MAX_GROUP_ID + 1),
        ),
        (1, GroupType::FastFailover, out(1), |e| {
            *e == GroupError::BadGroupType(1)
        }),
        (
            1,
            GroupType::All,
            vec![bucket(0, vec![]), bucket(0, vec![Action::GotoTable(2)])],
            |e| matches!(e, GroupError::BadBucket(1, 1, _)),
        ),
        (
            1,
            GroupType::Select,
            vec![bucket(1, vec![Action::Meter(1)])],
            |e| matches!(e, GroupError::BadBucket(1, 0, _)),
        ),
        (1, GroupType::All, to_group(0xffff_fffc), |e| {
            matches!(e, GroupError::BadBucket(1, 0, _))
        }),
        (1, GroupType::All, to_group(1), |e| *e == GroupError::GroupLoop(1)),
    ];
    for (id, ty, buckets, want) in cases {
        let e = t.add(id, ty, buckets.clone(), now).unwrap_err();
        assert!(want(&e), "{ty:?} {buckets:?}: {e}");
    }
    assert!(t.is_empty());
    // What is allowed: no buckets in all/select, weight 0 in select,
    // watches kept as given, a chain to a group that does not exist.
    t.add(1, GroupType::All, vec![], now).unwrap();
    t.add(2, GroupType::Select, vec![bucket(0, vec![])], now).unwrap();
    let watched = Bucket {
        watch_port: Some(3),
        watch_group: Some(4),
        ..bucket(0, vec![Action::Output(3)])
    };
    t.add(3, GroupType::Indirect, vec![watched.clone()], now).unwrap();
    assert_eq!(t.get(3).unwrap().buckets, [watched]);
    t.add(4, GroupType::All, to_group(77), now).unwrap();
}

#[test]
fn chains_are_allowed_and_loops_refused_however_they_would_close() {
    let now = Instant::now();
    let mut t = GroupTable::new();
    // 1 -> 2 -> 3, and 1 -> 3.
    t.add(3, GroupType::All, out(1), now).unwrap();
    t.add(2, GroupType::Indirect, to_group(3), now).unwrap();
    t.add(
        1,
        GroupType::All,
        vec![
            bucket(0, vec![Action::Group(2)]),
            bucket(0, vec![Action::Group(3)]),
        ],
        now,
    )
    .unwrap();
    // 3 -> 1 closes 1 -> 2 -> 3 -> 1.
    assert_eq!(
        t.modify(3, GroupType::All, to_group(1)),
        Err(GroupError::GroupLoop(3))
    );
    // A group added later, named before: 4 -> 5 (absent), then 5 -> 4.
    t.add(4, GroupType::All, to_group(5), now).unwrap();
    assert_eq!(
        t.add(5, GroupType::All, to_group(4), now),
        Err(GroupError::GroupLoop(5))
    );
    // Through a select group's weighted bucket too.
    assert_eq!(
        t.modify(
            3,
            GroupType::Select,
            vec![bucket(1, vec![]), bucket(2, to_group(2)[0].actions.clone())]
        ),
        Err(GroupError::GroupLoop(3))
    );
    // Deleting a group others chain to is allowed.
    assert_eq!(t.delete(Some(3)), [3]);
    t.add(3, GroupType::All, out(2), now).unwrap();
}

#[test]
fn the_table_holds_at_most_max_groups() {
    let now = Instant::now();
    let mut t = GroupTable::new();
    for id in 0..MAX_GROUPS as u32 {
        t.add(id, GroupType::All, vec![], now).unwrap();
    }
    assert_eq!(
        t.add(MAX_GROUPS as u32, GroupType::All, vec![], now),
        Err(GroupError::OutOfGroups)
    );
    // Still an existing id is GroupExists, and modify works when full.
    assert_eq!(
        t.add(0, GroupType::All, vec![], now),
        Err(GroupError::GroupExists(0))
    );
    t.modify(0, GroupType::Select, vec![]).unwrap();
}

fn flow(table: u8, actions: Vec<Action>) -> FlowSpec {
    let mut m = Match::ANY;
    m.set_exact(crate::flow::Field::InPort, u128::from(table) + 1);
    FlowSpec {
        table,
        matching: m,
        actions,
        ..FlowSpec::default()
    }
}

#[test]
fn ref_count_counts_flows_and_groups_and_out_group_selects_flows() {
    let now = Instant::now();
    let mut flows = FlowTable::new();
    flows
        .add(
            flow(0, vec![Action::Group(1), Action::Group(1)]),
            true,
            Origin::Local,
            now,
        )
        .unwrap();
    flows
        .add(
            flow(1, vec![Action::Output(2), Action::Group(1)]),
            true,
            Origin::Local,
            now,
        )
        .unwrap();
    flows
        .add(flow(2, vec![Action::Group(2)]), true, Origin::Local, now)
        .unwrap();
    flows
        .add(flow(3, vec![Action::Output(1)]), true, Origin::Local, now)
        .unwrap();
    let mut t = GroupTable::new();
    t.add(1, GroupType::All, out(1), now).unwrap();
    t.add(2, GroupType::All, to_group(1), now).unwrap();
    assert_eq!(t.ref_count(&flows, 1), 3, "two flows, one group");
    assert_eq!(t.ref_count(&flows, 2), 1);
    assert_eq!(t.ref_count(&flows, 3), 0);

    let by_group = |g: u32| FlowFilter {
        out_group: Some(g),
        ..FlowFilter::default()
    };
    let tables = |v: Vec<&crate::flow::table::Entry>| v.iter().map(|e| e.spec.table).collect::<Vec<_>>();
    assert_eq!(tables(flows.dump(&by_group(1))), [0, 1]);
    assert_eq!(flows.select(&by_group(2), false).len(), 1);
    let both = FlowFilter {
        out_port: Some(2),
        ..by_group(1)
    };
    assert_eq!(tables(flows.dump(&both)), [1]);
    // As OpenFlow on a group's deletion: its flows go with it.
    for id in t.delete(Some(1)) {
        assert_eq!(flows.delete(&by_group(id), false).len(), 2);
    }
    assert_eq!(tables(flows.dump(&FlowFilter::default())), [2, 3]);
}

#[test]
fn the_connection_hash_is_fixed_and_symmetric() {
    use crate::flow::Field;
    let mut k = FlowKey::ZERO;
    k.set(Field::DlType, 0x0800);
    k.set(Field::NwProto, 6);
    k.set(Field::DlSrc, 0x0200_0000_0001);
    k.set(Field::DlDst, 0x0200_0000_0002);
    k.set(Field::NwSrc, 0x0a00_0001);
    k.set(Field::NwDst, 0x0a00_0002);
    k.set(Field::TpSrc, 40000);
    k.set(Field::TpDst, 443);
    let h = connection_hash(&k);
    let mut back = k;
    for (a, b) in [
        (Field::DlSrc, Field::DlDst),
        (Field::NwSrc, Field::NwDst),
        (Field::TpSrc, Field::TpDst),
    ] {
        back.set(a, k.get(b));
        back.set(b, k.get(a));
    }
    back.set(Field::InPort, 9);
    back.set(Field::NwTtl, 3);
    assert_eq!(connection_hash(&back), h);
    let mut other = k;
    other.set(Field::TpSrc, 40001);
    assert_ne!(connection_hash(&other), h);
    // Fixed across runs and builds: no per-process seed.
    assert_eq!(h, connection_hash(&k));
    let g = Group {
        id: 1,
        group_type: GroupType::Select,
        buckets: vec![bucket(1, vec![]), bucket(1, vec![])],
        created: Instant::now() - Duration::from_secs(1),
        counter: Counter::default(),
        bucket_counters: vec![Counter::default(); 2],
    };
    assert_eq!(g.select(&k), g.select(&back));
}

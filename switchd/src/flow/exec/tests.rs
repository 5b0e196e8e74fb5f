//! The action interpreter on a recording datapath: outputs see the edits
//! made before them, resubmit and goto_table, the depth limit, dec_ttl,
//! and the counters of every flow a frame passes through.

use std::time::Instant;

use super::*;
use crate::flow::table::Origin;
use crate::flow::types::{FlowFilter, FlowSpec, Match};

#[derive(Debug, PartialEq, Eq)]
enum Call {
    Output(u16, u16),
    InPort,
    Normal(u16),
    Flood(bool),
    Controller(ToController),
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
    fn controller(&mut self, _: &FlowKey, _: u16, reason: ToController) {
        self.0.push(Call::Controller(reason));
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

fn run_with(flows: Vec<FlowSpec>, mut k: FlowKey) -> (Result<(), DropReason>, Rec, FlowKey, FlowTable) {
    let now = Instant::now();
    let mut t = FlowTable::new();
    for f in flows {
        t.add(f, true, Origin::Local, now).unwrap();
    }
    let mut rec = Rec::default();
    let r = execute(&mut t, &mut k, 100, now, &mut rec);
    (r, rec, k, t)
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
    assert_eq!(rec.0, [Call::Controller(ToController::InvalidTtl)]);
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

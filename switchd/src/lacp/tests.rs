//! Directed tests of the LACP core, mostly by simulation (`sim.rs`): two
//! bonds cabled member to member negotiate, keep the rates the partner's
//! timeout bit asks for, and notice carrier loss, silence, a foreign
//! partner, a loop and configuration changes as 802.1AX (and Open
//! vSwitch's `lib/lacp.c`) would; a hand-built Open vSwitch LACPDU is
//! answered as Open vSwitch expects; malformed LACPDUs change nothing.

use super::sim::{config, end, Sim, PORT_PRIORITY};
use super::{
    Event, Lacp, LacpStatus, Lacpdu, LacpduError, LacpduFrame, PortInfo, RxState, State, SystemInfo,
    DEFAULT_SYSTEM_PRIORITY,
};

/// The state a member shows on both sides once negotiated with `fast`.
fn negotiated_state(fast: bool) -> State {
    (State::ACTIVITY | State::AGGREGATION | State::SYNCHRONIZATION | State::COLLECTING | State::DISTRIBUTING)
        .with(State::TIMEOUT, fast)
}

/// Two bonds (systems 02:..:01 and 02:..:02) joined by `n` cables, run
/// until every member of both is usable (at most 5 s, which it asserts).
pub(super) fn negotiated_pair(a: (bool, bool), b: (bool, bool), n: u16) -> Sim {
    let mut sim = Sim::new(&[config(1, a.0, a.1), config(2, b.0, b.1)]);
    sim.cables(0, 1, n);
    let took = sim.run_until(5_000, |s| s.all_usable(0) && s.all_usable(1));
    assert!(took.is_some(), "no negotiation in 5 s");
    sim
}

#[test]
fn two_fast_bonds_negotiate_at_once_and_stay() {
    let mut sim = Sim::new(&[config(1, true, true), config(2, true, true)]);
    sim.cables(0, 1, 3);
    // Each new member sends at once and the answer comes back at once:
    // nothing waits for a timer.
    let took = sim.run_until(3_000, |s| s.all_usable(0) && s.all_usable(1));
    assert_eq!(took, Some(0));
    for (me, other) in [(0usize, 2u8), (1, 1)] {
        let s = sim.bonds[me].status();
        assert!(s.negotiated && s.active && s.fast);
        assert_eq!(s.actor.priority, DEFAULT_SYSTEM_PRIORITY);
        assert_eq!(
            s.partner,
            Some(SystemInfo {
                system: [2, 0, 0, 0, 0, other],
                priority: DEFAULT_SYSTEM_PRIORITY,
                key: 1
            })
        );
        assert_eq!(s.members.len(), 3);
        for m in &s.members {
            assert_eq!(m.actor_state, negotiated_state(true), "{m:?}");
            assert_eq!(m.partner_state, negotiated_state(true), "{m:?}");
            assert_eq!(m.partner_port, m.member);
            assert!(m.usable && m.attached && m.carrier && m.rx_state == RxState::Current);
            assert!(m.rx_lacpdus > 0 && m.tx_lacpdus > 0);
        }
        let names: Vec<_> = s.members[0].actor_state.names().collect();
        assert_eq!(
            names,
            [
                "activity",
                "timeout",
                "aggregation",
                "synchronization",
                "collecting",
                "distributing"
            ]
        );
    }
    let changes = sim.changes.len();
    sim.run_for(120_000);
    assert_eq!(sim.changes.len(), changes, "usability flapped");
}

/// Frames per minute each side sends on member 1, measured over 5 minutes
/// after a minute of settling.
fn rates(a_fast: bool, b_fast: bool) -> (usize, usize) {
    let mut sim = negotiated_pair((true, a_fast), (true, b_fast), 2);
    sim.run_for(60_000);
    let from = sim.now;
    sim.run_for(300_000);
    let per_min = |e| sim.frames_from(e, from, sim.now) / 5;
    (per_min(end(0, 1)), per_min(end(1, 1)))
}

#[test]
fn periodic_rate_is_what_the_partner_asks_for() {
    // (A's rate, B's rate): each sends at the rate the OTHER asks for.
    assert_eq!(rates(true, true), (60, 60));
    assert_eq!(rates(false, false), (2, 2));
    assert_eq!(rates(true, false), (2, 60));
    assert_eq!(rates(false, true), (60, 2));
}

#[test]
fn before_a_partner_is_known_an_active_actor_asks_fast_then_goes_slow() {
    // As Open vSwitch: a new member of an active bond starts EXPIRED, which
    // asks for (and sends at) the fast rate; after a short timeout without
    // answer it is DEFAULTED and sends every 30 s.
    let mut sim = Sim::new(&[config(1, true, false), config(2, false, false)]);
    for b in 0..2 {
        sim.bonds[b].add_member(1, PORT_PRIORITY);
        sim.bonds[b].set_carrier(1, true);
    }
    sim.pump();
    let s = sim.bonds[0].status();
    assert_eq!(s.members[0].rx_state, RxState::Expired);
    assert!(s.members[0].actor_state.contains(State::EXPIRED));
    sim.run_for(70_000);
    let times: Vec<u64> = sim.sent.iter().map(|&(t, _)| t).collect();
    assert_eq!(times, [0, 1_000, 2_000, 3_000, 33_000, 63_000]);
    assert!(
        sim.sent.iter().all(|&(_, e)| e == end(0, 1)),
        "the passive bond spoke"
    );
    let s = sim.bonds[0].status();
    assert_eq!(s.members[0].rx_state, RxState::Defaulted);
    assert!(s.members[0].actor_state.contains(State::DEFAULTED));
    assert_eq!(s.partner, None);
    assert!(!s.negotiated);
}

#[test]
fn active_passive_negotiates_passive_passive_does_not() {
    let sim = negotiated_pair((true, true), (false, true), 2);
    let s = sim.bonds[1].status();
    assert!(!s.active && s.negotiated);
    assert!(!s.members[0].actor_state.contains(State::ACTIVITY));
    assert!(s.members[0].partner_state.contains(State::ACTIVITY));

    let mut sim = Sim::new(&[config(1, false, true), config(2, false, true)]);
    sim.cables(0, 1, 2);
    sim.run_for(120_000);
    assert!(sim.sent.is_empty(), "a passive actor spoke first");
    for b in 0..2 {
        let s = sim.bonds[b].status();
        assert!(!s.negotiated && s.partner.is_none());
        assert!(s
            .members
            .iter()
            .all(|m| m.rx_state == RxState::Defaulted && !m.usable));
    }
}

/// Cuts the carrier of bond 0's member 2 only; returns how long bond 1's
/// member 2 took to become unusable. Checks that bond 0's side was
/// unusable at once and that the other members never changed.
fn cut_and_measure(fast: bool, limit: u64) -> u64 {
    let mut sim = negotiated_pair((true, fast), (true, fast), 3);
    sim.run_for(10_450);
    let before = sim.changes.len();
    sim.set_carrier(end(0, 2), false);
    assert!(!sim.is_usable(end(0, 2)), "usable with its carrier down");
    assert_eq!(sim.changes[before..], [(sim.now, end(0, 2), false)]);
    assert!(sim.is_usable(end(1, 2)), "the far side cannot know yet");
    let took = sim
        .run_until(limit, |s| !s.is_usable(end(1, 2)))
        .expect("far side never noticed");
    for m in [1, 3] {
        assert!(sim.is_usable(end(0, m)) && sim.is_usable(end(1, m)));
    }
    let s = sim.bonds[1].status();
    assert_eq!(s.members[1].rx_state, RxState::Expired);
    assert!(s.members[1].actor_state.contains(State::EXPIRED));
    // Carrier back: both sides usable again within a second.
    sim.set_carrier(end(0, 2), true);
    let back = sim.run_until(1_000, |s| s.is_usable(end(0, 2)) && s.is_usable(end(1, 2)));
    assert!(back.is_some(), "did not recover");
    took
}

#[test]
fn carrier_loss_is_immediate_here_and_a_partner_timeout_there() {
    // The far side last heard the member at most one interval before the
    // cut, and gives up three intervals after that.
    let fast = cut_and_measure(true, 4_000);
    assert!((2_000..=3_000).contains(&fast), "fast: {fast} ms");
    let slow = cut_and_measure(false, 100_000);
    assert!((60_000..=90_000).contains(&slow), "slow: {slow} ms");
}

#[test]
fn a_partner_that_stops_sending_expires_after_3_s_then_defaults() {
    let mut sim = negotiated_pair((true, true), (true, true), 2);
    sim.run_for(5_000);
    sim.muted.insert(end(1, 1));
    let took = sim.run_until(5_000, |s| !s.is_usable(end(0, 1))).unwrap();
    assert!((2_000..=3_000).contains(&took), "{took} ms");
    let m = &sim.bonds[0].status().members[0];
    assert_eq!(m.rx_state, RxState::Expired);
    assert!(m.actor_state.contains(State::EXPIRED | State::SYNCHRONIZATION));
    assert!(!m.actor_state.contains(State::COLLECTING));
    assert!(!m.partner_state.contains(State::SYNCHRONIZATION));
    sim.run_for(3_000);
    let m = &sim.bonds[0].status().members[0];
    assert_eq!(m.rx_state, RxState::Defaulted);
    assert!(m.actor_state.contains(State::DEFAULTED) && !m.actor_state.contains(State::EXPIRED));
    // The silent side learns from our LACPDUs that we no longer count it
    // in (not in sync): it stops distributing too.
    assert!(!sim.is_usable(end(1, 1)));
    assert!(sim.is_usable(end(0, 2)) && sim.is_usable(end(1, 2)));
    assert!(sim.bonds[0].negotiated());
    sim.muted.clear();
    let back = sim.run_until(2_000, |s| s.all_usable(0) && s.all_usable(1));
    assert!(back.is_some(), "no recovery after the partner spoke again");
}

#[test]
fn a_member_cabled_to_another_system_stays_out() {
    // A (02:..:01) has members 1 and 2 to B, member 3 to C. A's own
    // system id is the best, so link priority is by A's port numbers and
    // member 1's partner, B, becomes the aggregator's partner.
    let mut sim = Sim::new(&[
        config(1, true, true),
        config(2, true, true),
        config(3, true, true),
    ]);
    sim.cables(0, 1, 2);
    sim.cable(end(0, 3), end(2, 1));
    sim.run_for(5_000);
    let s = sim.bonds[0].status();
    assert_eq!(s.partner.map(|p| p.system), Some([2, 0, 0, 0, 0, 2]));
    assert!(sim.is_usable(end(0, 1)) && sim.is_usable(end(0, 2)));
    assert!(!sim.is_usable(end(0, 3)));
    assert!(!s.members[2].attached && !s.members[2].actor_state.contains(State::SYNCHRONIZATION));
    assert!(sim.all_usable(1));
    // C hears that A keeps its link out of sync, so it does not use it.
    assert!(!sim.is_usable(end(2, 1)));
    assert!(!sim.bonds[2].negotiated());
}

#[test]
fn the_first_partner_keeps_the_aggregator_while_it_is_current() {
    let mut sim = Sim::new(&[
        config(1, true, true),
        config(2, true, true),
        config(3, true, true),
    ]);
    sim.cable(end(0, 3), end(2, 1));
    sim.run_for(2_000);
    sim.cables(0, 1, 2);
    sim.run_for(5_000);
    assert!(sim.is_usable(end(0, 3)) && sim.is_usable(end(2, 1)));
    for m in [1, 2] {
        assert!(!sim.is_usable(end(0, m)) && !sim.is_usable(end(1, m)));
    }
    assert_eq!(
        sim.bonds[0].status().partner.map(|p| p.system),
        Some([2, 0, 0, 0, 0, 3])
    );
    // C's link fails: A moves to B at once.
    sim.set_carrier(end(0, 3), false);
    let took = sim.run_until(1_000, |s| {
        s.all_usable(1) && s.is_usable(end(0, 1)) && s.is_usable(end(0, 2))
    });
    assert_eq!(took, Some(0));
    assert_eq!(
        sim.bonds[0].status().partner.map(|p| p.system),
        Some([2, 0, 0, 0, 0, 2])
    );
}

#[test]
fn members_of_one_bond_cabled_together_are_not_usable() {
    let mut sim = Sim::new(&[config(1, true, true)]);
    sim.cable(end(0, 1), end(0, 2));
    sim.run_for(10_000);
    let s = sim.bonds[0].status();
    assert!(s.partner.is_none() && !s.negotiated);
    assert!(s
        .members
        .iter()
        .all(|m| !m.attached && m.rx_state == RxState::Current));
}

#[test]
fn fast_to_slow_and_back_takes_effect() {
    let mut sim = negotiated_pair((true, true), (true, true), 2);
    sim.run_for(5_000);
    let changes = sim.changes.len();
    sim.set_actor(0, config(1, true, false));
    let m = &sim.bonds[0].status().members[0];
    assert!(!m.actor_state.contains(State::TIMEOUT));
    // B hears it at once (the change is sent at once) and slows down
    // after its next LACPDU; A keeps sending fast, as B asks.
    sim.run_for(2_000);
    assert!(!sim.bonds[1].status().members[0]
        .partner_state
        .contains(State::TIMEOUT));
    let from = sim.now;
    sim.run_for(120_000);
    assert_eq!(sim.frames_from(end(1, 1), from, sim.now), 4);
    assert_eq!(sim.frames_from(end(0, 1), from, sim.now), 120);
    assert_eq!(sim.changes.len(), changes, "usability changed with the rate");
    // Back to fast: B answers the new request at once, not in 30 s.
    sim.set_actor(0, config(1, true, true));
    let asked = sim.now;
    sim.run_for(1_000);
    assert!(sim.sent.iter().any(|&(t, e)| e == end(1, 1) && t == asked));
    assert_eq!(sim.frames_from(end(1, 1), asked, sim.now), 1);
    sim.run_for(10_000);
    assert_eq!(sim.frames_from(end(1, 1), asked, sim.now), 11);
}

#[test]
fn a_new_key_takes_members_out_until_the_partner_answers() {
    let mut sim = negotiated_pair((true, true), (true, true), 2);
    let mut cfg = config(1, true, true);
    cfg.key = 9;
    sim.set_actor(0, cfg);
    // A's members expire at once, and are back as soon as the transmit
    // limit lets the exchange finish.
    let took = sim.run_until(2_000, |s| s.all_usable(0) && s.all_usable(1));
    assert!(took.is_some_and(|t| t <= 1_000), "{took:?}");
    assert_eq!(sim.bonds[1].status().partner.map(|p| p.key), Some(9));
    for m in [1, 2] {
        assert!(
            sim.changes.iter().any(|c| c.1 == end(0, m) && !c.2),
            "member {m} stayed in"
        );
    }
}

#[test]
fn members_come_and_go() {
    let mut sim = negotiated_pair((true, true), (true, true), 3);
    let before = sim.changes.len();
    sim.bonds[0].remove_member(2);
    sim.pump();
    assert_eq!(sim.bonds[0].status().members.len(), 2);
    assert_eq!(sim.changes.len(), before, "a removed member reports nothing");
    let took = sim.run_until(4_000, |s| !s.is_usable(end(1, 2))).unwrap();
    assert!(took <= 3_000);
    sim.usable.remove(&end(0, 2));
    sim.bonds[0].add_member(2, PORT_PRIORITY);
    sim.bonds[0].set_carrier(2, true);
    sim.pump();
    assert!(sim.is_usable(end(0, 2)) && sim.is_usable(end(1, 2)));
    // Member 0 does not exist; unknown members are ignored.
    let mut lacp = Lacp::new(config(1, true, true));
    lacp.add_member(0, 1);
    lacp.set_carrier(7, true);
    lacp.remove_member(7);
    assert!(lacp.status().members.is_empty());
    assert_eq!(lacp.receive(7, sim_frame().payload(), 0), Ok(()));
}

/// A valid LACPDU from system 02:..:09 port 1, in sync.
fn sim_frame() -> LacpduFrame {
    let actor = PortInfo {
        system_priority: 1,
        system: [2, 0, 0, 0, 0, 9],
        key: 1,
        port_priority: 1,
        port: 1,
        state: negotiated_state(true),
    };
    LacpduFrame::new(
        &Lacpdu {
            actor,
            ..Lacpdu::default()
        },
        actor.system,
    )
}

#[test]
fn malformed_lacpdus_are_rejected_and_change_nothing() {
    let mut sim = negotiated_pair((true, true), (true, true), 1);
    let good = *sim_frame().payload().first_chunk::<110>().unwrap();
    let bad = |at: usize, v: u8| {
        let mut b = good;
        b[at] = v;
        b
    };
    let cases: [(&[u8], LacpduError); 8] = [
        (&good[..60], LacpduError::Truncated { len: 60 }),
        (&bad(0, 2), LacpduError::Marker),
        (&bad(0, 7), LacpduError::Subtype(7)),
        (&bad(1, 0), LacpduError::Version(0)),
        (
            &bad(3, 21),
            LacpduError::ActorTlv {
                tlv_type: 1,
                length: 21,
            },
        ),
        (
            &bad(22, 3),
            LacpduError::PartnerTlv {
                tlv_type: 3,
                length: 20,
            },
        ),
        (
            &bad(42, 9),
            LacpduError::CollectorTlv {
                tlv_type: 9,
                length: 16,
            },
        ),
        (
            &bad(59, 2),
            LacpduError::Terminator {
                tlv_type: 0,
                length: 2,
            },
        ),
    ];
    let before: LacpStatus = sim.bonds[0].status();
    let mut events = Vec::new();
    for (bytes, err) in cases {
        assert_eq!(sim.bonds[0].receive(1, bytes, sim.now + 50_000), Err(err));
        sim.bonds[0].drain_events(&mut events);
        assert!(events.is_empty(), "{err:?} produced {events:?}");
        assert_eq!(sim.bonds[0].status(), before, "{err:?} changed the status");
    }
    // Not even the clock moved: the next tick at the simulated time
    // changes nothing either.
    sim.tick();
    assert!(sim.all_usable(0));
}

/// What Open vSwitch (system aa:bb:cc:dd:ee:01, priority 65534, member
/// port 1, port priority 65535, key 1, lacp-time slow) sends: first
/// before it knows us, then echoing `us`, in sync.
fn ovs_pdu(us: Option<PortInfo>) -> Lacpdu {
    let agg = State::ACTIVITY | State::AGGREGATION;
    let state = match us {
        // lib/lacp.c attaches an expired member that heard nobody, and
        // sets Collecting and Distributing while not negotiated.
        None => agg | State::SYNCHRONIZATION | State::COLLECTING | State::DISTRIBUTING | State::EXPIRED,
        Some(_) => negotiated_state(false),
    };
    Lacpdu {
        actor: PortInfo {
            system_priority: 65534,
            system: [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01],
            key: 1,
            port_priority: 65535,
            port: 1,
            state,
        },
        partner: us.unwrap_or_default(),
        collector_max_delay: 0,
    }
}

fn take_transmits(lacp: &mut Lacp) -> (Vec<Lacpdu>, Vec<(u16, bool)>) {
    let mut events = Vec::new();
    lacp.drain_events(&mut events);
    let mut pdus = Vec::new();
    let mut usable = Vec::new();
    for e in events {
        match e {
            Event::Transmit { member, frame } => {
                assert_eq!(member, 5);
                assert_eq!(&frame.as_bytes()[..6], &crate::wire::lacp::SLOW_PROTOCOLS_ADDRESS);
                pdus.push(frame.lacpdu().unwrap());
            }
            Event::Usable { member, usable: u } => usable.push((member, u)),
        }
    }
    (pdus, usable)
}

#[test]
fn answers_an_open_vswitch_peer_as_it_expects() {
    let mut us = Lacp::new(config(0x0a, true, false));
    us.add_member(5, 255);
    us.set_carrier(5, true);
    let (first, _) = take_transmits(&mut us);
    assert_eq!(first.len(), 1, "an active actor speaks first");
    let send =
        |us: &mut Lacp, pdu: Lacpdu, now| us.receive(5, LacpduFrame::new(&pdu, [0xaa; 6]).payload(), now);
    send(&mut us, ovs_pdu(None), 100).unwrap();
    let (pdus, usable) = take_transmits(&mut us);
    // It says "in sync", but with nobody: not in sync with us (recordPDU).
    assert!(usable.is_empty(), "OVS is not in sync yet");
    let [reply] = pdus[..] else { panic!("{pdus:?}") };
    // We echo what OVS said, as we record it: not in sync.
    let heard = ovs_pdu(None).actor;
    assert_eq!(
        reply.partner.state,
        heard.state.with(State::SYNCHRONIZATION, false)
    );
    assert_eq!(
        PortInfo {
            state: heard.state,
            ..reply.partner
        },
        heard
    );
    let mine = reply.actor;
    assert_eq!((mine.port, mine.port_priority, mine.key), (5, 255, 1));
    assert_eq!(
        mine.state,
        State::ACTIVITY | State::AGGREGATION | State::SYNCHRONIZATION
    );
    // OVS echoes us, in sync: usable, and we say so at once.
    send(&mut us, ovs_pdu(Some(mine)), 200).unwrap();
    let (pdus, usable) = take_transmits(&mut us);
    assert_eq!(usable, [(5, true)]);
    assert_eq!(pdus.len(), 1);
    assert_eq!(pdus[0].actor.state, negotiated_state(false));
    // OVS is slow: our next LACPDU is due in 30 s, not 1 s.
    us.tick(29_900);
    assert!(take_transmits(&mut us).0.is_empty());
    us.tick(30_200);
    assert_eq!(take_transmits(&mut us).0.len(), 1);
    // An OVS that says "in sync" with a wrong idea of us (an old key) is
    // not in sync with us (recordPDU, 802.1AX 6.4.9).
    let mut stale = mine;
    stale.key = 2;
    send(&mut us, ovs_pdu(Some(stale)), 30_300).unwrap();
    assert_eq!(take_transmits(&mut us).1, [(5, false)]);
    assert!(!us.status().members[0]
        .partner_state
        .contains(State::SYNCHRONIZATION));
}

#[test]
fn transmissions_are_limited_to_three_per_second() {
    let mut lacp = Lacp::new(config(1, true, true));
    lacp.add_member(1, 1);
    lacp.set_carrier(1, true);
    let mut events = Vec::new();
    for i in 0..10 {
        lacp.set_actor(config(1, true, i % 2 == 0));
    }
    lacp.drain_events(&mut events);
    assert_eq!(events.len(), 3);
    // The last change (slow) still goes out once the second is over.
    lacp.tick(900);
    lacp.drain_events(&mut events);
    assert_eq!(events.len(), 3);
    lacp.tick(1_000);
    lacp.drain_events(&mut events);
    assert_eq!(events.len(), 4);
    let Some(Event::Transmit { frame, .. }) = events.last() else {
        panic!()
    };
    assert!(!frame.lacpdu().unwrap().actor.state.contains(State::TIMEOUT));
}

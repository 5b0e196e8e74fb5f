//! Property tests (tests only): random sequences of API calls never panic
//! and keep the core's promises after every call; two bonds put through
//! random carrier cuts, silences and configuration changes always
//! renegotiate once the cables are whole again.

use std::collections::HashMap;

use proptest::prelude::*;

use super::sim::{config, end, Sim};
use super::{ActorConfig, Event, Lacp, Lacpdu, LacpduFrame, PortInfo, RxState, State};

#[derive(Debug, Clone)]
enum Op {
    Add(u16, u16),
    Remove(u16),
    Carrier(u16, bool),
    Actor {
        active: bool,
        fast: bool,
        key: u16,
    },
    /// A valid LACPDU; `echo`: its partner fields are our member's
    /// identity (so that it may bring the member into sync).
    Receive {
        member: u16,
        actor: PortInfo,
        echo: bool,
        their_view: State,
    },
    Garbage(u16, Vec<u8>),
    /// Milliseconds to move the clock by (negative: a clock that goes back).
    Tick(i64),
}

fn arb_info() -> impl Strategy<Value = PortInfo> {
    (
        prop::sample::select(vec![
            [2, 0, 0, 0, 0, 1],
            [2, 0, 0, 0, 0, 2],
            [2, 0, 0, 0, 0, 3],
            [0; 6],
        ]),
        prop::sample::select(vec![1u16, 65534, 65535]),
        0u16..3,
        0u16..5,
        any::<u8>(),
    )
        .prop_map(|(system, system_priority, key, port, state)| PortInfo {
            system_priority,
            system,
            key,
            port_priority: 65535,
            port,
            state: State(state),
        })
}

fn arb_op() -> impl Strategy<Value = Op> {
    let member = 0u16..5;
    prop_oneof![
        1 => (member.clone(), prop::sample::select(vec![1u16, 255, 65535])).prop_map(|(m, p)| Op::Add(m, p)),
        1 => member.clone().prop_map(Op::Remove),
        2 => (member.clone(), any::<bool>()).prop_map(|(m, up)| Op::Carrier(m, up)),
        1 => (any::<bool>(), any::<bool>(), 0u16..3).prop_map(|(active, fast, key)| Op::Actor { active, fast, key }),
        // Mostly a partner whose view of us is right but for its state
        // bits, which keep the Aggregation bit (recordPDU wants it).
        4 => (member.clone(), arb_info(), prop::bool::weighted(0.8), any::<u8>(), prop::bool::weighted(0.8))
            .prop_map(|(member, actor, echo, s, agg)| {
                let their_view = State(s).with(State::AGGREGATION, agg);
                Op::Receive { member, actor, echo, their_view }
            }),
        1 => (member, proptest::collection::vec(any::<u8>(), 0..120)).prop_map(|(m, b)| Op::Garbage(m, b)),
        3 => prop_oneof![-500i64..0, 0i64..4_000, Just(100), Just(30_000)].prop_map(Op::Tick),
    ]
}

/// What the property test remembers between calls.
#[derive(Default)]
struct Seen {
    /// The time the next call passes (it may go back).
    now: u64,
    /// The latest time passed: the core's clock, which never goes back.
    clock: u64,
    usable: HashMap<u16, bool>,
    tx_times: HashMap<u16, Vec<u64>>,
}

/// Applies `op` to `lacp`, then checks every promise.
fn step(lacp: &mut Lacp, seen: &mut Seen, op: &Op) -> Result<(), TestCaseError> {
    let cfg = lacp.actor();
    match op {
        &Op::Add(m, p) => lacp.add_member(m, p),
        &Op::Remove(m) => {
            lacp.remove_member(m);
            // A member added again is a new port, with its own limit.
            seen.usable.remove(&m);
            seen.tx_times.remove(&m);
        }
        &Op::Carrier(m, up) => lacp.set_carrier(m, up),
        &Op::Actor { active, fast, key } => lacp.set_actor(ActorConfig {
            active,
            fast,
            key,
            ..cfg
        }),
        &Op::Receive {
            member,
            actor,
            echo,
            their_view,
        } => {
            let port_priority = lacp
                .status()
                .members
                .iter()
                .find(|s| s.member == member)
                .map_or(0, |s| s.port_priority);
            let partner = if echo {
                PortInfo {
                    system_priority: cfg.system_priority,
                    system: cfg.system,
                    key: cfg.key,
                    port_priority,
                    port: member,
                    state: their_view,
                }
            } else {
                PortInfo::default()
            };
            let frame = LacpduFrame::new(
                &Lacpdu {
                    actor,
                    partner,
                    collector_max_delay: 0,
                },
                actor.system,
            );
            prop_assert_eq!(lacp.receive(member, frame.payload(), seen.now), Ok(()));
            seen.clock = seen.clock.max(seen.now);
        }
        Op::Garbage(m, bytes) => {
            let before = lacp.status();
            if lacp.receive(*m, bytes, seen.now + 1_000_000).is_err() {
                prop_assert_eq!(lacp.status(), before);
            } else {
                // Random bytes that parse: the clock moved with them.
                seen.clock = seen.clock.max(seen.now + 1_000_000);
            }
        }
        &Op::Tick(dt) => {
            seen.now = seen.now.saturating_add_signed(dt);
            lacp.tick(seen.now);
            seen.clock = seen.clock.max(seen.now);
        }
    }
    check(lacp, seen)
}

fn check(lacp: &mut Lacp, seen: &mut Seen) -> Result<(), TestCaseError> {
    let cfg = lacp.actor();
    let status = lacp.status();
    let mut events = Vec::new();
    lacp.drain_events(&mut events);
    let now = seen.clock;
    for e in events {
        let s = status.members.iter().find(|s| s.member == e.member());
        prop_assert!(s.is_some(), "event for an absent member: {:?}", e);
        let s = s.unwrap();
        match e {
            Event::Usable { member, usable } => {
                let was = seen.usable.insert(member, usable).unwrap_or(false);
                prop_assert_ne!(was, usable, "Usable event that changes nothing");
            }
            Event::Transmit { member, frame } => {
                let pdu = frame.lacpdu();
                prop_assert!(pdu.is_ok());
                let pdu = pdu.unwrap();
                prop_assert_eq!(pdu.actor.system, cfg.system);
                prop_assert_eq!(pdu.actor.port, member);
                prop_assert!(s.carrier, "sent with carrier down");
                prop_assert!(
                    cfg.active || s.rx_state != RxState::Defaulted,
                    "passive spoke first"
                );
                let times = seen.tx_times.entry(member).or_default();
                times.push(now);
                if times.len() > 3 {
                    let fourth_last = times[times.len() - 4];
                    prop_assert!(now - fourth_last >= 1_000, "4 LACPDUs within a second");
                }
            }
        }
    }
    prop_assert!(status.members.windows(2).all(|w| w[0].member < w[1].member));
    for m in &status.members {
        prop_assert_eq!(m.usable, seen.usable.get(&m.member).copied().unwrap_or(false));
        if m.usable {
            prop_assert!(m.carrier && m.attached && m.partner_state.contains(State::SYNCHRONIZATION));
        }
        let a = m.actor_state;
        prop_assert!(a.contains(State::AGGREGATION));
        prop_assert_eq!(a.contains(State::ACTIVITY), cfg.active);
        prop_assert_eq!(a.contains(State::TIMEOUT), cfg.fast);
        prop_assert_eq!(a.contains(State::SYNCHRONIZATION), m.attached);
        prop_assert_eq!(a.contains(State::COLLECTING | State::DISTRIBUTING), m.usable);
        prop_assert!(!m.attached || status.partner.is_some());
    }
    prop_assert_eq!(status.negotiated, status.members.iter().any(|m| m.usable));
    prop_assert_eq!(lacp.negotiated(), status.negotiated);
    Ok(())
}

/// A fault the two-bond simulation goes through.
#[derive(Debug, Clone)]
enum Fault {
    Carrier(usize, u16, bool),
    Mute(usize, u16, bool),
    Config(usize, bool, bool),
    Wait(u64),
}

fn arb_fault(n: u16) -> impl Strategy<Value = Fault> {
    prop_oneof![
        1 => (0usize..2, 1..=n, any::<bool>()).prop_map(|(b, m, up)| Fault::Carrier(b, m, up)),
        1 => (0usize..2, 1..=n, any::<bool>()).prop_map(|(b, m, on)| Fault::Mute(b, m, on)),
        1 => (0usize..2, any::<bool>(), any::<bool>()).prop_map(|(b, a, f)| Fault::Config(b, a, f)),
        2 => prop_oneof![0u64..5_000, 25_000u64..100_000].prop_map(Fault::Wait),
    ]
}

fn arb_scenario() -> impl Strategy<Value = (u16, [(bool, bool); 2], Vec<Fault>)> {
    (1u16..=4).prop_flat_map(|n| {
        (
            Just(n),
            any::<[(bool, bool); 2]>(),
            proptest::collection::vec(arb_fault(n), 0..12),
        )
    })
}

proptest! {
    #[test]
    fn random_calls_keep_the_promises(
        active in any::<bool>(),
        fast in any::<bool>(),
        ops in proptest::collection::vec(arb_op(), 0..60),
    ) {
        let mut lacp = Lacp::new(config(1, active, fast));
        let mut seen = Seen::default();
        // Start with members 1-3 up; the ops add, remove and cut more.
        for m in 1..=3 {
            step(&mut lacp, &mut seen, &Op::Add(m, 255))?;
            step(&mut lacp, &mut seen, &Op::Carrier(m, true))?;
        }
        for op in &ops {
            step(&mut lacp, &mut seen, op)?;
        }
    }

    #[test]
    fn two_bonds_always_renegotiate((n, cfgs, faults) in arb_scenario()) {
        let mut sim = Sim::new(&[config(1, cfgs[0].0, cfgs[0].1), config(2, cfgs[1].0, cfgs[1].1)]);
        sim.cables(0, 1, n);
        for f in &faults {
            match *f {
                Fault::Carrier(b, m, up) => sim.set_carrier(end(b, m), up),
                Fault::Mute(b, m, true) => { sim.muted.insert(end(b, m)); }
                Fault::Mute(b, m, false) => { sim.muted.remove(&end(b, m)); }
                Fault::Config(b, active, fast) => sim.set_actor(b, config(b as u8 + 1, active, fast)),
                Fault::Wait(ms) => sim.run_for(ms),
            }
        }
        // Whole again, with at least one active side.
        sim.muted.clear();
        for b in 0..2 {
            for m in 1..=n {
                sim.set_carrier(end(b, m), true);
            }
        }
        if !sim.bonds[0].actor().active && !sim.bonds[1].actor().active {
            let fast = sim.bonds[0].actor().fast;
            sim.set_actor(0, config(1, true, fast));
        }
        let took = sim.run_until(100_000, |s| s.all_usable(0) && s.all_usable(1));
        prop_assert!(took.is_some(), "not renegotiated: {:?} {:?}", sim.bonds[0].status(), sim.bonds[1].status());
        for (b, other) in [(0, 2u8), (1, 1)] {
            let partner = sim.bonds[b].status().partner.map(|p| p.system);
            prop_assert_eq!(partner, Some([2, 0, 0, 0, 0, other]));
        }
    }
}

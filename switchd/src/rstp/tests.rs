//! Directed tests of the RSTP core, each a scenario from clause 17 or
//! SPEC §7 on the simulator (`sim.rs`) or on one bridge fed hand-made
//! BPDUs. The property tests are in `proptests.rs`; the helpers here are
//! shared with them.

use super::sim::{mac, Sim};
use super::*;
use crate::wire::bpdu::{ConfigMessage, Flags, Time};

pub(super) fn params(priority: u16) -> BridgeParams {
    BridgeParams {
        priority,
        ..BridgeParams::default()
    }
}

pub(super) fn stp(priority: u16) -> BridgeParams {
    BridgeParams {
        priority,
        force_protocol_version: 0,
        ..BridgeParams::default()
    }
}

fn port(sim: &Sim, bridge: usize, port: u16) -> PortStatus {
    sim.bridges[bridge].port_status(port).expect("port exists")
}

fn role_state(sim: &Sim, bridge: usize, p: u16) -> (PortRole, PortState) {
    let s = port(sim, bridge, p);
    (s.role, s.state)
}

/// A designated RST BPDU from bridge `from` (port 0x8001) claiming `root`
/// at `cost`.
pub(super) fn rst_from(from: BridgeId, root: BridgeId, cost: u32, flags: Flags) -> BpduFrame {
    let msg = ConfigMessage {
        flags: flags.with_role(WireRole::Designated),
        root,
        root_path_cost: cost,
        bridge: from,
        port: 0x8001,
        message_age: Time::from_secs(0),
        max_age: Time::from_secs(20),
        hello_time: Time::from_secs(2),
        forward_delay: Time::from_secs(15),
    };
    BpduFrame::new(&Bpdu::Rst { version: 2, msg }, from.mac())
}

pub(super) fn drain(b: &mut Rstp) -> Vec<Event> {
    let mut out = Vec::new();
    b.drain_events(&mut out);
    out
}

fn transmits_on(events: &[Event], port: u16) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Transmit { port: p, .. } if *p == port))
        .count()
}

#[test]
fn two_links_give_an_alternate_that_takes_over_without_a_tick() {
    let mut sim = Sim::new();
    sim.check_loops = true;
    let r = sim.add_bridge(mac(1), params(4096));
    let n = sim.add_bridge(mac(2), params(32768));
    let l1 = sim.link(r, n);
    sim.link(r, n);
    // Proposal/agreement: a valid tree before the first second is over.
    assert_eq!(sim.converge(0), Ok(0));
    let st = sim.bridges[n].status();
    assert_eq!(st.root_id, sim.bridges[r].bridge_id());
    assert_eq!(st.root_port, Some(1));
    assert_eq!(st.root_path_cost, 20000);
    assert_eq!(role_state(&sim, n, 1), (PortRole::Root, PortState::Forwarding));
    assert_eq!(
        role_state(&sim, n, 2),
        (PortRole::Alternate, PortState::Discarding)
    );
    for p in [1, 2] {
        assert_eq!(
            role_state(&sim, r, p),
            (PortRole::Designated, PortState::Forwarding)
        );
    }
    assert_eq!(sim.bridges[r].status().root_port, None);
    // Stable for a while.
    sim.run(30);
    sim.check_tree().unwrap();
    assert_eq!(
        role_state(&sim, n, 2),
        (PortRole::Alternate, PortState::Discarding)
    );

    // Carrier loss on the root port: out of the tree at once, and the
    // alternate is root and forwarding in the same instant (no tick).
    let before = sim.now;
    sim.cut(l1);
    assert_eq!(sim.now, before);
    assert_eq!(
        role_state(&sim, n, 1),
        (PortRole::Disabled, PortState::Discarding)
    );
    assert_eq!(role_state(&sim, n, 2), (PortRole::Root, PortState::Forwarding));
    assert_eq!(sim.bridges[n].status().root_port, Some(2));
    sim.check_tree().unwrap();
    // And back: port 1 is root again, port 2 alternate.
    sim.restore(l1);
    sim.converge(5).unwrap();
    assert_eq!(role_state(&sim, n, 1), (PortRole::Root, PortState::Forwarding));
    assert_eq!(
        role_state(&sim, n, 2),
        (PortRole::Alternate, PortState::Discarding)
    );
}

#[test]
fn a_cable_between_two_ports_makes_one_backup() {
    let mut sim = Sim::new();
    sim.check_loops = true;
    let b = sim.add_bridge(mac(7), params(32768));
    sim.link(b, b);
    sim.converge(5).unwrap();
    assert_eq!(
        role_state(&sim, b, 1),
        (PortRole::Designated, PortState::Forwarding)
    );
    assert_eq!(role_state(&sim, b, 2), (PortRole::Backup, PortState::Discarding));
    // It hears itself, so it stays its own root.
    assert_eq!(sim.bridges[b].status().root_id, sim.bridges[b].bridge_id());
    sim.run(30);
    assert_eq!(role_state(&sim, b, 2), (PortRole::Backup, PortState::Discarding));
    // The same inside a network: a loop cable on a non-root bridge.
    let r = sim.add_bridge(mac(1), params(4096));
    sim.link(r, b);
    sim.converge(5).unwrap();
    assert_eq!(role_state(&sim, b, 3), (PortRole::Root, PortState::Forwarding));
    assert_eq!(
        role_state(&sim, b, 1),
        (PortRole::Designated, PortState::Forwarding)
    );
    assert_eq!(role_state(&sim, b, 2), (PortRole::Backup, PortState::Discarding));
    // Cut off from the root, it hears only its own (stale) BPDU on the
    // backup port, which is no path to any root (17.21.25 b): it is its
    // own root at once.
    sim.cut(1);
    assert_eq!(sim.bridges[b].status().root_id, sim.bridges[b].bridge_id());
    assert_eq!(role_state(&sim, b, 2), (PortRole::Backup, PortState::Discarding));
    sim.check_tree().unwrap();
}

/// The proposal/agreement handshake (17.29): a proposal on the root port,
/// or on an alternate port, makes every designated port that is not synced
/// discard (setSyncTree) before the agreement goes out.
#[test]
fn a_proposal_syncs_the_bridge_before_it_agrees() {
    let mut x = Rstp::new(mac(10), BridgeParams::default());
    let quiet = PortParams {
        auto_edge: false,
        ..PortParams::default()
    };
    for p in 1..=3 {
        x.add_port(p, quiet);
        x.set_link(p, true, true);
    }
    // Port 1 hears the root R; port 3 hears Q, which is designated for its
    // LAN at the cost X would offer, with a better id: port 3 is alternate.
    // Port 2 hears nobody.
    let (r, q) = (BridgeId::new(4096, mac(1)), BridgeId::new(8192, mac(2)));
    let feed = |x: &mut Rstp, cost: u32, on1: Flags, on3: Flags| {
        x.receive(1, rst_from(r, r, cost, on1).llc_payload()).unwrap();
        x.receive(3, rst_from(q, r, cost + 20000, on3).llc_payload())
            .unwrap();
    };
    let none = Flags::default();
    let proposal = Flags::default().with(Flags::PROPOSAL, true);
    let agreement_on = |events: &[Event], port: u16, role: WireRole| {
        events.iter().any(|e| match e {
            Event::Transmit { port: p, frame } if *p == port => matches!(frame.bpdu(),
                Ok(Bpdu::Rst { msg, .. }) if msg.flags.has(Flags::AGREEMENT) && msg.flags.role() == role),
            _ => false,
        })
    };
    feed(&mut x, 0, none, none);
    for t in 0..25 {
        x.tick();
        if t % 2 == 0 {
            feed(&mut x, 0, none, none);
        }
    }
    assert_eq!(x.port_status(1).unwrap().role, PortRole::Root);
    assert_eq!(x.port_status(3).unwrap().role, PortRole::Alternate);
    // Port 2 forwards on its timers (nobody answered its proposals).
    assert_eq!(x.port_state(2), PortState::Forwarding);

    // Worse news from the root's side: port 2's earlier agreement no longer
    // counts (17.27 UPDATE), yet nothing asks it to discard.
    feed(&mut x, 100, none, none);
    assert_eq!(x.port_state(2), PortState::Forwarding);
    drain(&mut x);
    // A proposal on the root port: port 2 discards, then port 1 agrees.
    feed(&mut x, 100, proposal, none);
    assert_eq!(x.port_state(2), PortState::Discarding);
    assert!(agreement_on(&drain(&mut x), 1, WireRole::Root));
    // Port 2 proposes, is not answered, and forwards again on its timers.
    for _ in 0..4 {
        x.tick();
        feed(&mut x, 100, none, none);
    }
    assert_eq!(x.port_state(2), PortState::Forwarding);

    // The same through a proposal on the alternate port.
    feed(&mut x, 200, none, none);
    assert_eq!(x.port_state(2), PortState::Forwarding);
    drain(&mut x);
    feed(&mut x, 200, none, proposal);
    assert_eq!(x.port_state(2), PortState::Discarding);
    assert!(agreement_on(&drain(&mut x), 3, WireRole::AlternateOrBackup));
    assert_eq!(x.port_status(3).unwrap().state, PortState::Discarding);
}

/// On a shared LAN (not point-to-point) an agreement means nothing
/// (recordAgreement, 17.21.9): the designated port waits for its timers.
#[test]
fn a_shared_lan_gets_no_rapid_transitions() {
    let mut sim = Sim::new();
    sim.check_loops = true;
    let r = sim.add_bridge(mac(1), params(4096));
    let n = sim.add_bridge(mac(2), params(32768));
    let quiet = PortParams {
        auto_edge: false,
        ..PortParams::default()
    };
    sim.link_shared(r, n, quiet);
    // The root port needs no handshake (reRooted, 17.29).
    assert_eq!(role_state(&sim, n, 1), (PortRole::Root, PortState::Forwarding));
    assert_eq!(
        role_state(&sim, r, 1),
        (PortRole::Designated, PortState::Discarding)
    );
    let mut forwarding_at = None;
    for t in 1..=30 {
        sim.tick();
        if forwarding_at.is_none() && sim.state(sim.links[0].a) == PortState::Forwarding {
            forwarding_at = Some(t);
        }
    }
    // fdWhile from DISABLED_PORT (Max Age), then learning for forwardDelay.
    assert_eq!(forwarding_at, Some(22));
    sim.check_tree().unwrap();
}

#[test]
fn admin_edge_port_forwards_at_once_and_causes_no_topology_change() {
    let mut b = Rstp::new(mac(1), BridgeParams::default());
    let edge = PortParams {
        admin_edge: true,
        ..PortParams::default()
    };
    b.add_port(1, edge);
    assert_eq!(b.port_state(1), PortState::Discarding);
    assert!(drain(&mut b).iter().all(|e| !matches!(e, Event::State { .. })));
    b.set_link(1, true, true);
    assert_eq!(b.port_state(1), PortState::Forwarding);
    let events = drain(&mut b);
    assert!(events.contains(&Event::State {
        port: 1,
        state: PortState::Forwarding
    }));
    assert!(!events.iter().any(|e| matches!(e, Event::Flush { .. })));
    let s = b.port_status(1).unwrap();
    assert!(s.edge);
    assert_eq!(s.role, PortRole::Designated);
    for _ in 0..10 {
        b.tick();
    }
    assert_eq!(b.status().topology_changes, 0);
    assert!(!drain(&mut b).iter().any(|e| matches!(e, Event::Flush { .. })));
}

#[test]
fn auto_edge_after_the_edge_delay_and_one_bpdu_ends_it() {
    let mut b = Rstp::new(mac(5), BridgeParams::default());
    b.add_port(1, PortParams::default());
    b.set_link(1, true, true);
    // The port proposes; nobody answers.
    for _ in 0..2 {
        b.tick();
        assert_eq!(b.port_state(1), PortState::Discarding);
        assert!(!b.port_status(1).unwrap().edge);
    }
    b.tick(); // 3 s: edge delay (MigrateTime on a point-to-point link)
    let s = b.port_status(1).unwrap();
    assert!(s.edge);
    assert_eq!((s.role, s.state), (PortRole::Designated, PortState::Forwarding));
    assert_eq!(b.status().topology_changes, 0, "an edge port causes no TC");
    // One BPDU from a (worse) bridge: not an edge any more.
    let other = BridgeId::new(32768, mac(9));
    let frame = rst_from(other, other, 0, Flags::default());
    b.receive(1, frame.llc_payload()).unwrap();
    let s = b.port_status(1).unwrap();
    assert!(!s.edge);
    assert_eq!(s.rx_bpdus, 1);
    assert_eq!(s.role, PortRole::Designated);
}

#[test]
fn without_auto_edge_a_silent_peer_means_forward_delay_timers() {
    let mut b = Rstp::new(mac(5), BridgeParams::default());
    let p = PortParams {
        auto_edge: false,
        ..PortParams::default()
    };
    b.add_port(1, p);
    b.set_link(1, true, true);
    let mut learning_at = None;
    let mut forwarding_at = None;
    for t in 1..=30 {
        b.tick();
        match b.port_state(1) {
            PortState::Learning if learning_at.is_none() => learning_at = Some(t),
            PortState::Forwarding if forwarding_at.is_none() => forwarding_at = Some(t),
            _ => {}
        }
    }
    // fdWhile starts at MaxAge (20 s, DISABLED_PORT), then forwardDelay,
    // which is HelloTime while the port still sends RST BPDUs.
    assert_eq!((learning_at, forwarding_at), (Some(20), Some(22)));
    assert!(!b.port_status(1).unwrap().edge);
}

#[test]
fn an_stp_peer_makes_the_port_speak_stp_and_timers_do_the_rest() {
    let mut sim = Sim::new();
    sim.check_loops = true;
    let old = sim.add_bridge(mac(1), stp(4096));
    let new = sim.add_bridge(mac(2), params(32768));
    sim.link(new, old);
    let secs = sim.converge(60).unwrap();
    // No rapid transitions at the STP bridge: forward delay timers.
    assert!(secs >= 30, "converged in {secs} s");
    assert_eq!(port(&sim, new, 1).protocol, Protocol::Stp);
    assert_eq!(port(&sim, old, 1).protocol, Protocol::Stp);
    assert_eq!(role_state(&sim, new, 1), (PortRole::Root, PortState::Forwarding));
    assert_eq!(
        role_state(&sim, old, 1),
        (PortRole::Designated, PortState::Forwarding)
    );
    // The STP bridge sent configuration and TCN BPDUs only; the RSTP bridge
    // did too once it had heard one.
    let mut learning_at = None;
    for (t, b, e) in &sim.log {
        match e {
            Event::Transmit { frame, .. } => {
                let bpdu = frame.bpdu().unwrap();
                if *b == old || *t >= 6 {
                    assert!(
                        matches!(bpdu, Bpdu::Config(_) | Bpdu::Tcn),
                        "bridge {b} at {t} s: {bpdu:?}"
                    );
                }
            }
            Event::State {
                state: PortState::Learning,
                ..
            } if *b == old => learning_at = Some(*t),
            Event::State {
                state: PortState::Forwarding,
                ..
            } if *b == old => {
                // Learning lasts Forward Delay (15 s).
                assert_eq!(learning_at.map(|l| t - l), Some(15));
            }
            _ => {}
        }
    }
    // A ring with the STP bridge in it converges too, loop-free throughout.
    let third = sim.add_bridge(mac(3), params(36864));
    sim.link(new, third);
    sim.link(third, old);
    sim.converge(60).unwrap();
    sim.run(20);
    sim.check_tree().unwrap();

    // The STP bridge is upgraded: the port goes back to RST BPDUs.
    sim.set_params(old, params(4096));
    sim.converge(60).unwrap();
    sim.run(10);
    assert_eq!(port(&sim, new, 1).protocol, Protocol::Rstp);
    sim.check_tree().unwrap();
}

#[test]
fn mcheck_tries_rstp_for_migrate_time() {
    let mut sim = Sim::new();
    let old = sim.add_bridge(mac(1), stp(4096));
    let new = sim.add_bridge(mac(2), params(32768));
    sim.link(new, old);
    sim.converge(60).unwrap();
    assert_eq!(port(&sim, new, 1).protocol, Protocol::Stp);
    sim.bridges[new].mcheck(1);
    assert_eq!(port(&sim, new, 1).protocol, Protocol::Rstp);
    // The STP bridge still speaks STP: back after MigrateTime and a hello.
    sim.run(6);
    assert_eq!(port(&sim, new, 1).protocol, Protocol::Stp);
    sim.check_tree().unwrap();
}

/// B0 (root) - B1 - B2, and B1 has an edge port. A topology change that
/// reaches B1 on its root port flushes B1's other non-edge port only.
#[test]
fn a_received_tc_flushes_the_other_non_edge_ports() {
    let mut sim = Sim::new();
    let b0 = sim.add_bridge(mac(1), params(4096));
    let b1 = sim.add_bridge(mac(2), params(32768));
    let b2 = sim.add_bridge(mac(3), params(36864));
    sim.link(b0, b1); // b1 port 1
    assert_eq!(sim.edge_port(b1), 2);
    sim.link(b1, b2); // b1 port 3
    sim.converge(5).unwrap();
    sim.run(10);
    assert_eq!(
        role_state(&sim, b1, 2),
        (PortRole::Designated, PortState::Forwarding)
    );
    assert_eq!(
        role_state(&sim, b1, 3),
        (PortRole::Designated, PortState::Forwarding)
    );
    let tcs = sim.bridges[b1].status().topology_changes;
    let mark = sim.log.len();

    // A new bridge behind B0: B0's new port goes forwarding, a TC.
    let b3 = sim.add_bridge(mac(4), params(40960));
    sim.link(b0, b3);
    sim.converge(5).unwrap();
    sim.run(10);
    let flushed: Vec<u16> = sim
        .events_of(b1, mark)
        .iter()
        .filter_map(|e| match e {
            Event::Flush { port } => Some(*port),
            _ => None,
        })
        .collect();
    assert!(!flushed.is_empty());
    assert!(flushed.iter().all(|&p| p == 3), "B1 flushed {flushed:?}");
    assert!(sim.bridges[b1].status().topology_changes > tcs);
    assert!(port(&sim, b1, 1).topology_changes > 0);
    // B2 heard it on its root port and has no other port to flush.
    assert!(!sim
        .events_of(b2, mark)
        .iter()
        .any(|e| matches!(e, Event::Flush { .. })));
    // B0 flushed its port towards B1 (the TC came from its new port).
    assert!(sim.events_of(b0, mark).contains(&Event::Flush { port: 1 }));
}

#[test]
fn transmit_hold_count_limits_bpdus_per_second() {
    let mut b = Rstp::new(
        mac(10),
        BridgeParams {
            transmit_hold_count: 3,
            ..BridgeParams::default()
        },
    );
    for p in [1, 2] {
        b.add_port(p, PortParams::default());
        b.set_link(p, true, true);
    }
    let root = BridgeId::new(4096, mac(1));
    b.receive(1, rst_from(root, root, 0, Flags::default()).llc_payload())
        .unwrap();
    // Let the periodic hellos settle until port 2 has credit for a burst.
    for _ in 0..10 {
        b.tick();
        if b.ports[1].tx_count == 0 {
            break;
        }
    }
    assert_eq!(b.ports[1].tx_count, 0);
    drain(&mut b);
    // Ten changes of root path cost from the same neighbour within one
    // second: each one is news for port 2, but only 3 BPDUs go out.
    for i in 0..10 {
        let frame = rst_from(root, root, if i % 2 == 0 { 100 } else { 0 }, Flags::default());
        b.receive(1, frame.llc_payload()).unwrap();
    }
    assert_eq!(transmits_on(&drain(&mut b), 2), 3);
    // A second later the credit is 1: the pending news goes out, once.
    b.tick();
    assert_eq!(transmits_on(&drain(&mut b), 2), 1);
    assert_eq!(b.port_status(2).unwrap().role, PortRole::Designated);
}

#[test]
fn malformed_bpdus_are_refused_and_change_nothing() {
    let mut b = Rstp::new(mac(3), BridgeParams::default());
    b.add_port(1, PortParams::default());
    b.set_link(1, true, true);
    b.tick();
    drain(&mut b);
    let before = b.status();
    let good = rst_from(
        BridgeId::new(4096, mac(1)),
        BridgeId::new(4096, mac(1)),
        0,
        Flags::default(),
    );
    let rst = good.llc_payload().to_vec();
    let with = |at: usize, v: u8| {
        let mut x = rst.clone();
        x[at] = v;
        x
    };
    // Our own configuration BPDU, looped back to the port that sent it.
    let mut own = ConfigMessage {
        bridge: b.bridge_id(),
        port: 0x8001,
        max_age: Time::from_secs(20),
        ..ConfigMessage::default()
    };
    own.root = own.bridge;
    let own = BpduFrame::new(&Bpdu::Config(own), mac(3));
    let cases: Vec<(Vec<u8>, BpduError)> = vec![
        (vec![], BpduError::Truncated { len: 0 }),
        (rst[..6].to_vec(), BpduError::Truncated { len: 6 }),
        (with(0, 0xaa), BpduError::NotStpLlc([0xaa, 0x42, 0x03])),
        (with(4, 7), BpduError::ProtocolId(7)),
        (rst[..38].to_vec(), BpduError::ShortRst { len: 35 }),
        (
            with(5, 1),
            BpduError::UnknownType {
                version: 1,
                bpdu_type: 2,
            },
        ),
        (
            with(6, 0x81),
            BpduError::UnknownType {
                version: 2,
                bpdu_type: 0x81,
            },
        ),
        (
            {
                let mut x = with(6, 0); // config BPDU ...
                x[30..32].copy_from_slice(&[0x14, 0]); // ... with message age 20 s = max age
                x
            },
            BpduError::Expired {
                message_age: 0x1400,
                max_age: 0x1400,
            },
        ),
        (with(6, 0)[..36].to_vec(), BpduError::ShortConfig { len: 33 }),
        (own.llc_payload().to_vec(), BpduError::OwnBpdu),
    ];
    for (bytes, err) in cases {
        assert_eq!(b.receive(1, &bytes), Err(err), "{bytes:02x?}");
    }
    assert_eq!(b.status(), before);
    assert!(drain(&mut b).is_empty());
    // The untouched BPDU is fine.
    assert_eq!(b.receive(1, &rst), Ok(()));
    assert_eq!(b.port_status(1).unwrap().rx_bpdus, 1);
}

#[test]
fn status_reports_the_tree() {
    let mut sim = Sim::new();
    let r = sim.add_bridge([0x02, 0, 0, 0, 0, 1], params(4096));
    let a = sim.add_bridge([0x02, 0, 0, 0, 0, 2], params(32768));
    let b = sim.add_bridge([0x02, 0, 0, 0, 0, 3], params(32768));
    let cheap = PortParams {
        path_cost: 2000,
        priority: 64,
        ..PortParams::default()
    };
    sim.link(r, a);
    sim.link_with(a, b, cheap);
    sim.converge(5).unwrap();
    let (sr, sa, sb) = (
        sim.bridges[r].status(),
        sim.bridges[a].status(),
        sim.bridges[b].status(),
    );
    assert_eq!(sr.bridge_id.to_string(), "1000.020000000001");
    assert_eq!(sa.bridge_id.to_string(), "8000.020000000002");
    assert_eq!(sb.root_id.to_string(), "1000.020000000001");
    assert_eq!((sr.root_port, sr.root_path_cost), (None, 0));
    assert_eq!((sa.root_port, sa.root_path_cost), (Some(1), 20000));
    assert_eq!((sb.root_port, sb.root_path_cost), (Some(1), 22000));
    let a2 = port(&sim, a, 2);
    assert_eq!(
        (a2.role, a2.port_id, a2.path_cost),
        (PortRole::Designated, 0x4002, 2000)
    );
    assert_eq!(a2.designated_bridge, sa.bridge_id);
    let b1 = port(&sim, b, 1);
    assert_eq!(
        (b1.role, b1.port_id, b1.designated_bridge),
        (PortRole::Root, 0x4001, sa.bridge_id)
    );
    assert_eq!(b1.protocol, Protocol::Rstp);
    assert!(b1.rx_bpdus > 0 && a2.tx_bpdus > 0);
    assert_eq!(
        [
            PortRole::Root,
            PortRole::Designated,
            PortRole::Alternate,
            PortRole::Backup,
            PortRole::Disabled
        ]
        .map(|r| r.to_string()),
        ["root", "designated", "alternate", "backup", "disabled"]
    );
    assert_eq!(PortState::Learning.to_string(), "learning");
    assert_eq!(Protocol::Stp.as_str(), "stp");
}

#[test]
fn a_new_priority_moves_the_root() {
    let mut sim = Sim::new();
    let bs: Vec<usize> = (1..=4).map(|i| sim.add_bridge(mac(i), params(32768))).collect();
    for (x, y) in [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)] {
        sim.link(bs[x], bs[y]);
    }
    sim.converge(10).unwrap();
    assert_eq!(sim.bridges[3].status().root_id, sim.bridges[0].bridge_id());
    sim.set_params(bs[3], params(0));
    sim.converge(30).unwrap();
    assert_eq!(sim.bridges[0].status().root_id, sim.bridges[3].bridge_id());
    assert_eq!(sim.bridges[3].bridge_id().to_string(), "0000.020000000004");
    // And a worse one gives it back.
    sim.set_params(bs[3], params(61440));
    sim.converge(30).unwrap();
    assert_eq!(sim.bridges[2].status().root_id, sim.bridges[0].bridge_id());
}

#[test]
fn unknown_ports_and_wild_parameters_are_harmless() {
    let mut b = Rstp::new(
        mac(1),
        BridgeParams {
            priority: 4097,
            max_age: 200,
            forward_delay: 0,
            transmit_hold_count: 0,
            force_protocol_version: 7,
        },
    );
    assert_eq!(
        b.params(),
        BridgeParams {
            priority: 4096,
            max_age: 40,
            forward_delay: 4,
            transmit_hold_count: 1,
            force_protocol_version: 2,
        }
    );
    let frame = rst_from(
        BridgeId::new(0, mac(2)),
        BridgeId::new(0, mac(2)),
        0,
        Flags::default(),
    );
    assert_eq!(b.receive(9, frame.llc_payload()), Ok(()));
    b.set_link(9, true, true);
    b.remove_port(9);
    b.set_port_params(9, PortParams::default());
    b.mcheck(9);
    b.add_port(0, PortParams::default());
    b.add_port(4096, PortParams::default());
    assert_eq!(b.port_state(9), PortState::Forwarding);
    assert!(b.status().ports.is_empty());
    b.add_port(
        4095,
        PortParams {
            priority: 255,
            path_cost: 0,
            ..PortParams::default()
        },
    );
    let s = b.port_status(4095).unwrap();
    assert_eq!((s.port_id, s.path_cost), (0xffff, 1));
    // Adding it again changes its parameters.
    b.add_port(4095, PortParams::default());
    assert_eq!(b.port_status(4095).unwrap().port_id, 0x8fff);
    b.remove_port(4095);
    assert!(b.status().ports.is_empty());
    assert_eq!(b.status().root_id, b.bridge_id());
}

#[test]
fn force_version_0_restarts_and_sends_only_stp() {
    let mut b = Rstp::new(mac(1), BridgeParams::default());
    let edge = PortParams {
        admin_edge: true,
        ..PortParams::default()
    };
    b.add_port(1, edge);
    b.set_link(1, true, true);
    assert_eq!(b.port_state(1), PortState::Forwarding);
    drain(&mut b);
    b.set_params(stp(32768));
    // BEGIN: every port starts over, as a discarding port whose entries
    // go; an admin edge port is forwarding again at once.
    let s = b.port_status(1).unwrap();
    assert_eq!((s.protocol, s.state), (Protocol::Stp, PortState::Forwarding));
    for _ in 0..10 {
        b.tick();
    }
    for e in drain(&mut b) {
        if let Event::Transmit { frame, .. } = e {
            assert!(matches!(frame.bpdu(), Ok(Bpdu::Config(_))), "{frame:?}");
        }
    }
}

/// Found by the `bpdu` fuzz target: an STP bridge whose root port heard a
/// root announcing Max Age 1 s (below the allowed 6) sent configuration
/// BPDUs on its designated ports with Message Age 1 s = Max Age, which
/// every receiver, switchd included, discards as expired. None is sent.
#[test]
fn no_expired_configuration_bpdu_is_sent() {
    let mut b = Rstp::new(mac(0xa), stp(32768));
    for no in 1..=2 {
        b.add_port(no, PortParams::default());
        b.set_link(no, true, true);
    }
    let root = BridgeId::new(4096, mac(0x1));
    let msg = ConfigMessage {
        root,
        bridge: root,
        port: 0x8001,
        message_age: Time::from_secs(0),
        max_age: Time::from_secs(1),
        hello_time: Time::from_secs(2),
        forward_delay: Time::from_secs(15),
        ..ConfigMessage::default()
    };
    let frame = BpduFrame::new(&Bpdu::Config(msg), mac(0x1));
    assert_eq!(b.receive(1, frame.llc_payload()), Ok(()));
    let mut events = drain(&mut b);
    for _ in 0..3 {
        b.tick();
        events.extend(drain(&mut b));
    }
    for e in &events {
        if let Event::Transmit { frame, .. } = e {
            assert!(frame.bpdu().is_ok(), "sent {frame:?}");
        }
    }
}

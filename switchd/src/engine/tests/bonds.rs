//! Bonds through the engine, on fake devices joined by fake cables: two
//! bridges of one engine, each with a bond over the two ends of the same
//! two cables and a host port. No root needed.

use std::time::{Duration, Instant};

use proto::{BondInfo, IfName, LacpStatus, Reply, Request};

use super::{frame, mac, set_port, Sw, BCAST};

fn names(v: &[&str]) -> Vec<IfName> {
    v.iter().map(|s| s.parse().unwrap()).collect()
}

impl Sw {
    /// The bond and member index of member device `name`.
    pub(super) fn member(&self, name: &IfName) -> Option<(crate::PortId, usize)> {
        self.engine.ports.iter().find_map(|(id, p)| {
            let m = p.bond()?.members.iter().position(|m| &m.name == name)?;
            Some((id, m))
        })
    }

    fn add_bond(
        &mut self,
        br: &str,
        bond: &str,
        members: &[&str],
        settings: &[&str],
    ) -> Result<Reply, proto::Error> {
        self.call(Request::AddBond {
            bridge: br.parse().unwrap(),
            bond: bond.parse().unwrap(),
            members: names(members),
            settings: settings.iter().map(|s| s.parse().unwrap()).collect(),
            may_exist: false,
        })
    }

    fn bond(&mut self, bond: &str) -> BondInfo {
        match self.ok(Request::BondShow {
            bond: Some(bond.parse().unwrap()),
        }) {
            Reply::Bonds(mut b) => b.bonds.remove(0),
            other => panic!("{other:?}"),
        }
    }

    /// `ms` milliseconds of bond ticks (100 ms each), delivering frames.
    fn run_ms(&mut self, start: Instant, ms: u64) -> Instant {
        let mut now = start;
        for _ in 0..ms / 100 {
            now += Duration::from_millis(100);
            self.engine.bonds_tick(now);
            self.pump(50);
        }
        now
    }

    /// Broadcasts sent to `port` since the last call.
    fn bcasts(&self, port: &str) -> usize {
        self.net
            .take_sent(port)
            .iter()
            .filter(|f| f[..6] == BCAST)
            .count()
    }
}

/// br0 (host h0, bond b0 over a1 a2) and br1 (host h1, bond b1 over c1 c2),
/// cables a1–c1 and a2–c2.
fn two_bonded_bridges(settings: &[&str]) -> Sw {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_br("br1");
    sw.add_ports("br0", &["h0"]);
    sw.add_ports("br1", &["h1"]);
    sw.net.add_pair("a1", "c1");
    sw.net.add_pair("a2", "c2");
    sw.add_bond("br0", "b0", &["a1", "a2"], settings).unwrap();
    sw.add_bond("br1", "b1", &["c1", "c2"], settings).unwrap();
    sw
}

#[test]
fn an_active_backup_bond_carries_a_flood_once_and_uses_one_member() {
    let mut sw = two_bonded_bridges(&[]);
    let b = sw.bond("b0");
    assert_eq!(b.lacp_status, LacpStatus::Off);
    let active = b.active_member.clone().expect("an active member");
    sw.send("h0", &[frame(BCAST, mac(1), 60)]);
    sw.pump(50);
    assert_eq!(sw.bcasts("h1"), 1, "one copy crosses the two cables");
    for m in 2..10 {
        sw.send("h0", &[frame(mac(200), mac(m), 60)]);
    }
    sw.pump(50);
    let b = sw.bond("b0");
    let idle: Vec<_> = b
        .members
        .iter()
        .filter(|m| m.tx_bytes == 0)
        .map(|m| m.member.clone())
        .collect();
    assert_eq!(idle.len(), 1, "{b:?}");
    assert_ne!(idle[0], active);
}

#[test]
fn a_balance_slb_bond_spreads_macs_and_sends_no_duplicates() {
    let mut sw = two_bonded_bridges(&["bond_mode=balance-slb"]);
    // h1's MAC is learned on br0's bond.
    sw.send("h1", &[frame(BCAST, mac(100), 60)]);
    sw.pump(50);
    assert_eq!(sw.bcasts("h0"), 1);
    for m in 1..=16 {
        sw.send("h0", &[frame(mac(100), mac(m), 60)]);
    }
    sw.pump(50);
    assert_eq!(sw.net.take_sent("h1").len(), 16, "each frame arrives once");
    let b = sw.bond("b0");
    assert!(b.members.iter().all(|m| m.tx_bytes > 0), "{b:?}");
}

#[test]
fn losing_the_active_member_fails_over_at_once() {
    let mut sw = two_bonded_bridges(&[]);
    let active = sw.bond("b0").active_member.unwrap();
    let peer = if active == "a1" { "c1" } else { "c2" };
    sw.net.set_carrier(&active, false);
    sw.net.set_carrier(peer, false);
    sw.engine.probe_ports();
    let b = sw.bond("b0");
    assert_ne!(b.active_member.as_deref(), Some(active.as_str()));
    assert!(b.active_member.is_some());
    sw.send("h0", &[frame(BCAST, mac(1), 60)]);
    sw.pump(50);
    assert_eq!(sw.bcasts("h1"), 1);
}

#[test]
fn lacp_negotiates_between_two_bonds_and_a_silent_partner_expires() {
    let mut sw = two_bonded_bridges(&["lacp=active", "lacp_time=fast", "bond_mode=balance-tcp"]);
    let t0 = Instant::now();
    let now = sw.run_ms(t0, 3000);
    let b = sw.bond("b0");
    assert_eq!(b.lacp_status, LacpStatus::Negotiated, "{b:?}");
    assert!(b.members.iter().all(|m| m.enabled), "{b:?}");
    sw.send("h0", &[frame(BCAST, mac(1), 60)]);
    sw.pump(50);
    assert_eq!(sw.bcasts("h1"), 1);
    // Cut one cable's far side only: c1 stops hearing and sending.
    sw.net.set_carrier("c1", false);
    sw.engine.probe_ports();
    sw.run_ms(now, 4000);
    let a1 = sw
        .bond("b0")
        .members
        .into_iter()
        .find(|m| m.member == "a1")
        .unwrap();
    assert!(
        !a1.enabled,
        "the member whose partner fell silent is disabled: {a1:?}"
    );
}

#[test]
fn lacp_without_a_partner_disables_members_unless_fallback() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["h0", "x1", "x2"]);
    sw.ok(Request::DelPort {
        bridge: None,
        port: "x1".parse().unwrap(),
        if_exists: false,
    });
    sw.ok(Request::DelPort {
        bridge: None,
        port: "x2".parse().unwrap(),
        if_exists: false,
    });
    sw.add_bond("br0", "b0", &["x1", "x2"], &["lacp=active", "lacp_time=fast"])
        .unwrap();
    sw.run_ms(Instant::now(), 4000);
    let b = sw.bond("b0");
    assert_eq!(b.lacp_status, LacpStatus::Configured);
    assert!(b.members.iter().all(|m| !m.enabled), "{b:?}");
    sw.ok(set_port("b0", &["lacp_fallback_ab=true"]));
    sw.run_ms(Instant::now(), 500);
    let b = sw.bond("b0");
    assert_eq!(b.lacp_status, LacpStatus::Fallback);
    assert!(b.active_member.is_some(), "{b:?}");
}

#[test]
fn bad_bonds_change_nothing() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1"]);
    sw.net.add_device("m1");
    sw.net.add_device("m2");
    let db = sw.db();
    for (members, settings, want) in [
        (&["m1"][..], &[][..], "at least 2"),
        (&["m1", "m2"][..], &["bond_mode=balance-tcp"][..], "lacp"),
        (&["m1", "p1"][..], &[][..], "already a port"),
        (&["m1", "nope"][..], &[][..], "no such device"),
    ] {
        let e = sw.add_bond("br0", "b0", members, settings).unwrap_err();
        assert!(e.message.contains(want), "{members:?} {settings:?}: {e}");
        assert_eq!(sw.db(), db);
    }
    assert!(!sw.engine.ports.has_bonds(), "failed adds leave no bond behind");
    sw.add_bond("br0", "b0", &["m1", "m2"], &[]).unwrap();
    assert!(sw.engine.ports.has_bonds());
    let e = sw.add_bond("br0", "b1", &["m2", "p1"], &[]).unwrap_err();
    assert!(e.message.contains("member of bond"), "{e}");
    let e = sw.call(super::add_port("br0", "m1", &[])).unwrap_err();
    assert!(e.message.contains("member of bond"), "{e}");
    // Restored from the db: the same bond.
    let db = sw.db();
    let mut again = Sw::with_net(sw.net.clone());
    drop(sw);
    again.engine.restore(&db);
    assert_eq!(again.bond("b0").members.len(), 2);
    // A key change re-creates the bond; deleting it leaves no bond ticking.
    again.ok(set_port("b0", &["bond_updelay=100"]));
    assert!(again.engine.ports.has_bonds());
    again.ok(Request::DelPort {
        bridge: None,
        port: "b0".parse().unwrap(),
        if_exists: false,
    });
    assert!(!again.engine.ports.has_bonds());
}

#[test]
fn after_a_failover_learning_packets_announce_the_other_ports_macs() {
    let mut sw = two_bonded_bridges(&[]);
    // br0 learns h0's MAC (on h0), and floods it across the bond.
    sw.send("h0", &[frame(BCAST, mac(7), 60)]);
    sw.pump(50);
    sw.net.take_sent("h1");
    let active = sw.bond("b0").active_member.unwrap();
    let peer = if active == "a1" { "c1" } else { "c2" };
    sw.net.set_carrier(&active, false);
    sw.net.set_carrier(peer, false);
    sw.engine.probe_ports();
    sw.run_ms(Instant::now(), 200);
    // The RARP crossed the other cable and br1 flooded it to h1.
    let rarps: Vec<_> = sw
        .net
        .take_sent("h1")
        .into_iter()
        .filter(|f| f[12..14] == [0x80, 0x35])
        .collect();
    assert_eq!(rarps.len(), 1, "one learning packet for h0's MAC");
    assert_eq!(rarps[0][6..12], mac(7), "sent with h0's MAC as source");
}

#[test]
fn a_bond_is_one_spanning_tree_port() {
    // Two bonded bridges plus a third, plain cable between them: a loop
    // that RSTP must break, with the bond taking part as one port.
    let mut sw = two_bonded_bridges(&[]);
    sw.net.add_pair("p0", "p1");
    sw.ok(super::add_port("br0", "p0", &[]));
    sw.ok(super::add_port("br1", "p1", &[]));
    for (br, extra) in [("br0", "rstp_priority=4096"), ("br1", "rstp_priority=32768")] {
        sw.ok(Request::SetBridge {
            bridge: br.parse().unwrap(),
            settings: vec!["rstp=true".parse().unwrap(), extra.parse().unwrap()],
        });
    }
    for _ in 0..10 {
        sw.engine.stp_tick();
        sw.pump(50);
    }
    let info = match sw.ok(Request::RstpShow {
        bridge: Some("br1".parse().unwrap()),
    }) {
        Reply::Rstp(mut i) => i.bridges.remove(0),
        other => panic!("{other:?}"),
    };
    let role = |p: &str| {
        info.ports
            .iter()
            .find(|x| x.port == p)
            .map(|x| (x.role, x.state))
            .unwrap()
    };
    let mut roles = [role("b1"), role("p1")];
    roles.sort_by_key(|r| r.0 as u8);
    assert_eq!(
        roles,
        [
            (proto::RstpRole::Root, proto::RstpState::Forwarding),
            (proto::RstpRole::Alternate, proto::RstpState::Discarding)
        ],
        "{info:?}"
    );
    sw.net.take_sent("h1");
    sw.send("h0", &[frame(BCAST, mac(1), 60)]);
    assert!(sw.pump(100) < 100, "the broadcast still circulates");
    assert_eq!(sw.bcasts("h1"), 1);
}

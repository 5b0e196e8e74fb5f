//! Spanning tree through the engine, on fake ports joined by fake cables:
//! loops are broken, the configured root wins, a failed link fails over
//! without waiting for a timer, settings are all-or-nothing.

use proto::{Reply, Request, RstpBridgeInfo, RstpRole, RstpState};

use super::{add_port, frame, mac, set_port, Sw, BCAST};

impl Sw {
    /// Creates a cable `a`–`b` and adds its ends to bridges `br_a`, `br_b`.
    fn cable(&mut self, br_a: &str, a: &str, br_b: &str, b: &str) {
        self.net.add_pair(a, b);
        self.ok(add_port(br_a, a, &[]));
        self.ok(add_port(br_b, b, &[]));
    }

    /// `secs` one-second ticks, with every frame delivered after each.
    fn run_secs(&mut self, secs: u32) {
        for _ in 0..secs {
            self.engine.stp_tick();
            self.pump(50);
        }
    }

    fn rstp(&mut self, br: &str) -> RstpBridgeInfo {
        match self.ok(Request::RstpShow {
            bridge: Some(br.parse().unwrap()),
        }) {
            Reply::Rstp(mut info) => info.bridges.remove(0),
            other => panic!("{other:?}"),
        }
    }

    /// Broadcast frames sent to `port` since the last call (BPDUs are not
    /// broadcasts).
    fn broadcasts(&self, port: &str) -> usize {
        self.net
            .take_sent(port)
            .iter()
            .filter(|f| f[..6] == BCAST)
            .count()
    }

    fn role_state(&mut self, br: &str, port: &str) -> (RstpRole, RstpState) {
        let info = self.rstp(br);
        let p = info.ports.iter().find(|p| p.port == port).unwrap();
        (p.role, p.state)
    }
}

#[test]
fn a_cable_between_two_ports_of_one_bridge_does_not_loop() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["h1", "h2"]);
    sw.ok(set_port("h1", &["rstp_admin_edge=true"]));
    sw.ok(set_port("h2", &["rstp_admin_edge=true"]));
    sw.set_bridge("br0", &["rstp=true"]).unwrap();
    sw.cable("br0", "la", "br0", "lb");
    sw.run_secs(10);
    let mut roles = [sw.role_state("br0", "la"), sw.role_state("br0", "lb")];
    roles.sort_by_key(|r| r.0 as u8);
    assert_eq!(
        roles,
        [
            (RstpRole::Designated, RstpState::Forwarding),
            (RstpRole::Backup, RstpState::Discarding)
        ]
    );
    sw.got(&["h1", "h2"]);
    sw.send("h1", &[frame(BCAST, mac(1), 60)]);
    assert!(sw.pump(100) < 100, "the broadcast still circulates");
    assert_eq!(sw.got(&["h2"]), [1], "h2 gets the broadcast once");
}

#[test]
fn without_rstp_the_same_cable_loops() {
    // The control for the test above: the fake cable does make a loop.
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["h1", "h2"]);
    sw.cable("br0", "la", "br0", "lb");
    sw.send("h1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(sw.pump(100), 100, "a loop never settles");
    assert!(sw.got(&["h2"])[0] > 50);
}

/// br0 (priority 4096, the root) and br1 joined by two cables, a host on
/// each.
fn two_bridges_two_cables() -> Sw {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_br("br1");
    sw.add_ports("br0", &["h0"]);
    sw.add_ports("br1", &["h1"]);
    sw.set_bridge("br0", &["rstp=true", "rstp_priority=4096"])
        .unwrap();
    sw.set_bridge("br1", &["rstp=true"]).unwrap();
    sw.cable("br0", "a1", "br1", "b1");
    sw.cable("br0", "a2", "br1", "b2");
    sw.run_secs(10);
    sw
}

#[test]
fn two_links_between_two_bridges_one_is_blocked_and_the_root_wins() {
    let mut sw = two_bridges_two_cables();
    let (b0, b1) = (sw.rstp("br0"), sw.rstp("br1"));
    assert!(b0.bridge_id.to_string().starts_with("1000."), "{}", b0.bridge_id);
    assert_eq!(b0.root_id, b0.bridge_id, "br0 is the root");
    assert_eq!(b1.root_id, b0.bridge_id, "br1 agrees");
    assert_eq!(b1.root_port.as_deref(), Some("b1"), "the lower port id wins");
    assert_eq!(b1.root_path_cost, 20000);
    assert_eq!(
        sw.role_state("br1", "b1"),
        (RstpRole::Root, RstpState::Forwarding)
    );
    assert_eq!(
        sw.role_state("br1", "b2"),
        (RstpRole::Alternate, RstpState::Discarding)
    );
    assert_eq!(
        sw.role_state("br0", "a2"),
        (RstpRole::Designated, RstpState::Forwarding)
    );
    sw.got(&["h0", "h1"]);
    sw.send("h0", &[frame(BCAST, mac(1), 60)]);
    assert!(sw.pump(100) < 100);
    assert_eq!(sw.got(&["h1"]), [1]);
    // The blocked port took part: it received BPDUs and counted nothing else.
    assert!(b1.ports.iter().find(|p| p.port == "b2").unwrap().rx_bpdus > 0);
}

#[test]
fn losing_the_root_port_fails_over_without_a_timer() {
    let mut sw = two_bridges_two_cables();
    sw.send("h1", &[frame(BCAST, mac(2), 60)]);
    sw.pump(100);
    sw.got(&["h0", "h1"]);
    // The cable of the root port loses carrier at both ends.
    sw.net.set_carrier("a1", false);
    sw.net.set_carrier("b1", false);
    sw.engine.probe_ports();
    sw.pump(50);
    assert_eq!(
        sw.role_state("br1", "b2"),
        (RstpRole::Root, RstpState::Forwarding)
    );
    assert_eq!(sw.role_state("br1", "b1").0, RstpRole::Disabled);
    sw.send("h0", &[frame(mac(2), mac(1), 60)]);
    sw.pump(100);
    assert_eq!(sw.got(&["h1"]), [1], "h0 reaches h1 over the other cable at once");
    assert!(sw.rstp("br1").topology_changes > 0);
}

#[test]
fn a_port_outside_the_tree_forwards_and_sends_no_bpdu() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2"]);
    sw.ok(set_port("p2", &["rstp_enable=false"]));
    sw.set_bridge("br0", &["rstp=true"]).unwrap();
    sw.run_secs(3);
    let sent = sw.net.take_sent("p2");
    assert!(sent.is_empty(), "{} frames sent to p2", sent.len());
    assert!(!sw.net.take_sent("p1").is_empty(), "p1 sends BPDUs");
    let info = sw.rstp("br0");
    let p2 = info.ports.iter().find(|p| p.port == "p2").unwrap();
    assert_eq!((p2.role, p2.state), (RstpRole::Disabled, RstpState::Forwarding));
    // A BPDU arriving on it is dropped and counted, not consumed.
    let mut bpdu = frame([0x01, 0x80, 0xc2, 0, 0, 0], mac(9), 60);
    bpdu[12..14].copy_from_slice(&39u16.to_be_bytes());
    sw.send("p2", &[bpdu]);
    assert_eq!(sw.drops("p2", "reserved-destination"), 1);
}

#[test]
fn malformed_bpdus_are_counted_and_change_nothing() {
    let mut sw = two_bridges_two_cables();
    let before = sw.rstp("br1");
    let mut junk = frame([0x01, 0x80, 0xc2, 0, 0, 0], mac(9), 60);
    junk[12..14].copy_from_slice(&39u16.to_be_bytes());
    junk[14..17].copy_from_slice(&[0x42, 0x42, 0x03]);
    junk[17..19].copy_from_slice(&[0x12, 0x34]); // protocol id not 0
    let mut short = junk.clone();
    short[12..14].copy_from_slice(&3u16.to_be_bytes());
    sw.send("h1", &[junk, short]);
    assert_eq!(sw.drops("h1", "bad-bpdu"), 2);
    let after = sw.rstp("br1");
    assert_eq!(
        (after.root_id, after.root_port, after.topology_changes),
        (before.root_id, before.root_port, before.topology_changes)
    );
}

#[test]
fn rstp_settings_are_all_or_nothing_and_stored() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    let db = sw.db();
    // Each valid alone; together max_age 40 needs forward_delay >= 21.
    let e = sw
        .set_bridge("br0", &["rstp=true", "rstp_max_age=40", "rstp_forward_delay=15"])
        .unwrap_err();
    assert!(e.message.contains("rstp_max_age=40"), "{e}");
    assert_eq!(sw.db(), db);
    assert!(sw.call(Request::RstpShow { bridge: None }).is_ok());
    let e = sw
        .call(Request::RstpShow {
            bridge: Some("br0".parse().unwrap()),
        })
        .unwrap_err();
    assert!(e.message.contains("does not run RSTP"), "{e}");
    sw.set_bridge("br0", &["rstp=true", "rstp_max_age=40", "rstp_forward_delay=21"])
        .unwrap();
    let stored = &sw.db().bridges[0];
    assert!(stored.rstp.enabled);
    assert_eq!((stored.rstp.max_age, stored.rstp.forward_delay), (40, 21));
    assert_eq!(stored.mac, Some(sw.show()[0].mac));
    // Restored from the db, the bridge runs RSTP again with the same id.
    let id = sw.rstp("br0").bridge_id;
    let mut again = Sw::with_net(sw.net.clone());
    again.engine.restore(&sw.db());
    assert_eq!(again.rstp("br0").bridge_id, id);
}

#[test]
fn bridge_macs_are_stable_local_unicast_and_distinct() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_br("br1");
    let show = sw.show();
    let (m0, m1) = (show[0].mac, show[1].mac);
    assert_ne!(m0, m1);
    for m in [m0, m1] {
        assert_eq!(m.0[0] & 0x03, 0x02, "locally administered unicast: {m}");
    }
    // Deleted and added again on the same switch: the same address.
    sw.ok(Request::DelBr {
        bridge: "br0".parse().unwrap(),
        if_exists: false,
    });
    sw.add_br("br0");
    assert_eq!(sw.show()[1].mac, m0);
    // Another switch's br0 differs (RSTP between them needs that).
    let mut other = Sw::new();
    other.add_br("br0");
    assert_ne!(other.show()[0].mac, m0);
}

#[test]
fn new_ports_of_an_rstp_bridge_start_discarding() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.set_bridge("br0", &["rstp=true"]).unwrap();
    sw.add_ports("br0", &["p1", "p2"]);
    sw.send("p1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(
        sw.broadcasts("p2"),
        0,
        "nothing forwarded before the tree decides"
    );
    assert_eq!(sw.drops("p1", "stp-discarding"), 1);
    // Ports facing no bridge become forwarding once they are designated
    // and the forward delay has passed (or at once as edge ports).
    sw.run_secs(35);
    sw.send("p1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(sw.broadcasts("p2"), 1);
    // Turning RSTP off makes every port forward at once.
    sw.set_bridge("br0", &["rstp=false"]).unwrap();
    sw.add_ports("br0", &["p3"]);
    sw.send("p1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(sw.broadcasts("p3"), 1);
}

//! Engine unit tests on fake ports: requests go through the same
//! [`Engine::respond`] the control thread uses, frames through the same
//! data path, devices are a [`FakeNet`]. No root, no namespaces.

use std::sync::mpsc;
use std::time::Instant;

use mio::Poll;
use proto::{BridgeInfo, BridgeSetting, Error, ErrorKind, PortState, Reply, Request};

mod bonds;
mod flows;
mod mirror;
mod openflow;
mod stp;
mod trace;

use super::Engine;
use crate::config::Db;
use crate::port::fake::FakeNet;
use crate::port::Devices;
use crate::PortId;

const BCAST: [u8; 6] = [0xff; 6];

fn mac(n: u8) -> [u8; 6] {
    [0x02, 0, 0, 0, 0, n]
}

/// An untagged Ethernet frame of `len` bytes from `src` to `dst`.
fn frame(dst: [u8; 6], src: [u8; 6], len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len.max(60)];
    f[..6].copy_from_slice(&dst);
    f[6..12].copy_from_slice(&src);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    f
}

/// `frame` with an 802.1Q tag of VLAN `vid`.
fn tagged(dst: [u8; 6], src: [u8; 6], vid: u16) -> Vec<u8> {
    let mut f = frame(dst, src, 60);
    f.splice(12..12, [0x81, 0x00, (vid >> 8) as u8, vid as u8]);
    f
}

struct Sw {
    engine: Engine,
    net: FakeNet,
}

impl Sw {
    fn new() -> Sw {
        Self::with_net(FakeNet::default())
    }

    fn with_net(net: FakeNet) -> Sw {
        let (_tx, rx) = mpsc::channel();
        let engine = Engine::new(Poll::new().unwrap(), rx, Devices::Fake(net.clone()));
        Sw { engine, net }
    }

    fn call(&mut self, req: Request) -> Result<Reply, Error> {
        let resp = self.engine.respond(req.clone());
        assert_eq!(
            resp.db.is_some(),
            req.is_change() && resp.result.is_ok(),
            "a db snapshot comes with exactly the successful changes"
        );
        resp.result
    }

    fn ok(&mut self, req: Request) -> Reply {
        self.call(req.clone()).unwrap_or_else(|e| panic!("{req:?}: {e}"))
    }

    fn add_br(&mut self, br: &str) {
        self.ok(Request::AddBr {
            bridge: br.parse().unwrap(),
            may_exist: false,
        });
    }

    /// Creates fake devices and adds them as ports of `br`.
    fn add_ports(&mut self, br: &str, ports: &[&str]) {
        for p in ports {
            self.net.add_device(p);
            self.ok(add_port(br, p, &[]));
        }
    }

    fn id(&self, port: &str) -> PortId {
        self.engine.ports.find(&port.parse().unwrap()).unwrap()
    }

    /// Services every port whose device has frames, until none has (frames
    /// crossing fake cables included), at most `rounds` times; returns how
    /// many rounds had frames.
    fn pump(&mut self, rounds: usize) -> usize {
        for round in 0..rounds {
            let pending = self.net.with_pending();
            if pending.is_empty() {
                return round;
            }
            for dev in pending {
                let name = dev.parse().unwrap();
                if let Some(id) = self.engine.ports.find(&name) {
                    self.engine.service_port(id);
                } else if let Some((id, m)) = self.member(&name) {
                    self.engine.service_member(id, m);
                }
            }
        }
        rounds
    }

    /// Frames arrive on device `port`; the engine services it until drained.
    fn send(&mut self, port: &str, frames: &[Vec<u8>]) {
        for f in frames {
            self.net.inject(port, f);
        }
        let id = self.id(port);
        while self.net.pending(port) {
            self.engine.service_port(id);
        }
    }

    /// Who received what since the last call, for each of `ports`.
    fn got(&self, ports: &[&str]) -> Vec<usize> {
        ports.iter().map(|p| self.net.take_sent(p).len()).collect()
    }

    fn set_bridge(&mut self, br: &str, settings: &[&str]) -> Result<Reply, Error> {
        self.call(Request::SetBridge {
            bridge: br.parse().unwrap(),
            settings: settings.iter().map(|s| s.parse().unwrap()).collect(),
        })
    }

    fn show(&mut self) -> Vec<BridgeInfo> {
        match self.ok(Request::Show) {
            Reply::Show(b) => b,
            other => panic!("{other:?}"),
        }
    }

    fn state(&mut self, port: &str) -> PortState {
        self.show()
            .into_iter()
            .flat_map(|b| b.ports)
            .find(|p| p.name == port)
            .unwrap()
            .state
    }

    fn fdb_ports(&mut self, br: &str) -> Vec<String> {
        match self.ok(Request::FdbShow {
            bridge: br.parse().unwrap(),
        }) {
            Reply::Fdb(rows) => rows.into_iter().map(|r| r.port).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn drops(&mut self, port: &str, reason: &str) -> u64 {
        match self.ok(Request::PortStats { bridge: None }) {
            Reply::Stats(rows) => rows
                .into_iter()
                .find(|r| r.port == port)
                .and_then(|r| r.drops.get(reason).copied())
                .unwrap_or(0),
            other => panic!("{other:?}"),
        }
    }

    fn db(&self) -> Db {
        self.engine.to_db()
    }
}

fn add_port(br: &str, port: &str, settings: &[&str]) -> Request {
    Request::AddPort {
        bridge: br.parse().unwrap(),
        port: port.parse().unwrap(),
        settings: settings.iter().map(|s| s.parse().unwrap()).collect(),
        may_exist: false,
        missing_ok: false,
    }
}

fn set_port(port: &str, settings: &[&str]) -> Request {
    Request::SetPort {
        port: port.parse().unwrap(),
        settings: settings.iter().map(|s| s.parse().unwrap()).collect(),
    }
}

#[test]
fn floods_until_learned_then_forwards_to_the_learned_port_only() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2", "p3"]);
    sw.send("p1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(sw.got(&["p1", "p2", "p3"]), [0, 1, 1]);
    sw.send("p2", &[frame(mac(1), mac(2), 60)]);
    assert_eq!(sw.got(&["p1", "p2", "p3"]), [1, 0, 0]);
    sw.send("p1", &[frame(mac(2), mac(1), 60)]);
    assert_eq!(sw.got(&["p1", "p2", "p3"]), [0, 1, 0]);
}

#[test]
fn bridges_are_isolated() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_br("br1");
    sw.add_ports("br0", &["a1", "a2"]);
    sw.add_ports("br1", &["b1", "b2"]);
    sw.send("a1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(sw.got(&["a2", "b1", "b2"]), [1, 0, 0]);
    sw.send("b2", &[frame(mac(1), mac(2), 60)]);
    assert_eq!(
        sw.got(&["a1", "a2", "b1"]),
        [0, 0, 1],
        "br1 has not learned mac 1"
    );
}

#[test]
fn add_port_of_a_missing_device_changes_nothing() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1"]);
    let (show, db) = (sw.show(), sw.db());
    let e = sw.call(add_port("br0", "nope", &[])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Device);
    assert_eq!(e.message, "cannot add port \"nope\": no such device \"nope\"");
    assert_eq!((sw.show(), sw.db()), (show, db));
    // The slot the failed port had is free again.
    sw.add_ports("br0", &["p2"]);
    assert_eq!(sw.id("p2"), PortId(1));
}

/// `ovs-vsctl add-port` of a device that is not there yet (missing_ok):
/// the port stays, down, until the device appears.
#[test]
fn add_port_missing_ok_keeps_the_port_down_until_its_device_appears() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1"]);
    let mut req = add_port("br0", "later", &["tag=10"]);
    if let Request::AddPort { missing_ok, .. } = &mut req {
        *missing_ok = true;
    }
    sw.ok(req);
    assert_eq!(
        sw.state("later"),
        PortState::Down {
            reason: "no such device".into()
        }
    );
    sw.net.add_device("later");
    sw.engine.probe_ports();
    assert_eq!(sw.state("later"), PortState::Up);
    // A TAP, which switchd creates, never needs it; a bad setting still fails.
    let mut req = add_port("br0", "bad", &["vlan_mode=access"]);
    if let Request::AddPort { missing_ok, .. } = &mut req {
        *missing_ok = true;
    }
    assert!(sw.call(req).is_err());
}

#[test]
fn contradictory_or_unchangeable_port_settings_change_nothing() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2"]);
    sw.net.add_device("p3");
    let e = sw
        .call(add_port("br0", "p3", &["vlan_mode=access", "trunks=10"]))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e}");
    sw.ok(set_port("p1", &["tag=10"]));
    let (show, db) = (sw.show(), sw.db());
    // Valid on its own, contradictory together: nothing of it applies.
    let e = sw
        .call(set_port("p1", &["tag=20", "vlan_mode=trunk", "trunks=30"]))
        .unwrap_err();
    assert!(e.message.contains("p1"), "{e}");
    // A new type needs what that type needs; nothing of it applies.
    let e = sw.call(set_port("p1", &["tag=20", "type=gre"])).unwrap_err();
    assert!(e.message.contains("remote_ip"), "{e}");
    let e = sw.call(set_port("p1", &["ofport_request=9"])).unwrap_err();
    assert!(e.message.contains("ofport_request cannot be changed"), "{e}");
    assert_eq!((sw.show(), sw.db()), (show, db));
    // p1 is still in VLAN 10 only.
    sw.send("p2", &[frame(BCAST, mac(2), 60)]);
    assert_eq!(sw.got(&["p1"]), [0]);
}

#[test]
fn set_bridge_is_all_or_nothing() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    let db = sw.db();
    let e = sw
        .call(Request::SetBridge {
            bridge: "br0".parse().unwrap(),
            settings: vec![BridgeSetting::MacAging(10), BridgeSetting::MacTableSize(1)],
        })
        .unwrap_err();
    assert!(e.message.contains("mac_table_size"), "{e}");
    assert_eq!(sw.db(), db);
    sw.ok(Request::SetBridge {
        bridge: "br0".parse().unwrap(),
        settings: vec![BridgeSetting::MacAging(10), BridgeSetting::MacTableSize(16)],
    });
    assert_eq!((sw.show()[0].mac_aging, sw.show()[0].mac_table_size), (10, 16));
}

#[test]
fn duplicate_names_and_may_exist() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_br("br1");
    sw.add_ports("br0", &["p1"]);
    let db = sw.db();
    let e = sw.call(add_port("br1", "p1", &[])).unwrap_err();
    assert_eq!(e.message, "port \"p1\" already exists on bridge \"br0\"");
    let mut again = add_port("br0", "p1", &[]);
    if let Request::AddPort { may_exist, .. } = &mut again {
        *may_exist = true;
    }
    sw.ok(again);
    let e = sw
        .call(Request::AddBr {
            bridge: "br1".parse().unwrap(),
            may_exist: false,
        })
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AlreadyExists);
    assert_eq!(sw.db(), db);
}

#[test]
fn del_port_keeps_the_other_ports_working_and_forgets_its_macs() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2", "p3"]);
    for (p, m) in [("p1", 1), ("p2", 2), ("p3", 3)] {
        sw.send(p, &[frame(BCAST, mac(m), 60)]);
    }
    sw.got(&["p1", "p2", "p3"]);
    sw.ok(Request::DelPort {
        bridge: None,
        port: "p1".parse().unwrap(),
        if_exists: false,
    });
    assert_eq!(sw.fdb_ports("br0"), ["p2", "p3"]);
    sw.send("p2", &[frame(mac(3), mac(2), 60)]);
    assert_eq!(sw.got(&["p2", "p3"]), [0, 1]);
    sw.send("p3", &[frame(mac(2), mac(3), 60)]);
    assert_eq!(sw.got(&["p2", "p3"]), [1, 0]);
    // A frame to the deleted port's MAC floods again.
    sw.send("p3", &[frame(mac(1), mac(3), 60)]);
    assert_eq!(sw.got(&["p2", "p3"]), [1, 0]);
    // A new port takes the free slot and is last in the bridge's order.
    sw.add_ports("br0", &["p4"]);
    assert_eq!(sw.id("p4"), PortId(0));
    let names: Vec<_> = sw.show()[0].ports.iter().map(|p| p.name.clone()).collect();
    assert_eq!(names, ["p2", "p3", "p4"]);
    sw.send("p2", &[frame(BCAST, mac(2), 60)]);
    assert_eq!(sw.got(&["p3", "p4"]), [1, 1]);
}

#[test]
fn del_br_keeps_the_other_bridges_working() {
    let mut sw = Sw::new();
    for (br, ports) in [
        ("br0", ["a1", "a2"]),
        ("br1", ["b1", "b2"]),
        ("br2", ["c1", "c2"]),
    ] {
        sw.add_br(br);
        sw.add_ports(br, &ports);
    }
    sw.send("c1", &[frame(BCAST, mac(1), 60)]);
    sw.got(&["c2"]);
    sw.ok(Request::DelBr {
        bridge: "br0".parse().unwrap(),
        if_exists: false,
    });
    // br2's table survived and still points at c1.
    sw.send("c2", &[frame(mac(1), mac(2), 60)]);
    assert_eq!(sw.got(&["c1", "b1", "b2"]), [1, 0, 0]);
    sw.send("b1", &[frame(BCAST, mac(3), 60)]);
    assert_eq!(sw.got(&["b2", "c1", "c2"]), [1, 0, 0]);
    // A new bridge is listed last even though it reuses the first slot.
    sw.add_br("br3");
    sw.add_ports("br3", &["d1", "d2"]);
    let names: Vec<_> = sw.show().into_iter().map(|b| b.name).collect();
    assert_eq!(names, ["br1", "br2", "br3"]);
    assert_eq!(
        sw.db()
            .bridges
            .iter()
            .map(|b| b.name.to_string())
            .collect::<Vec<_>>(),
        ["br1", "br2", "br3"]
    );
    sw.send("d1", &[frame(BCAST, mac(4), 60)]);
    assert_eq!(sw.got(&["d2", "b1", "c1"]), [1, 0, 0]);
}

#[test]
fn a_vlan_change_forgets_the_macs_the_port_no_longer_carries() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2"]);
    sw.send(
        "p1",
        &[
            frame(BCAST, mac(1), 60),
            tagged(BCAST, mac(1), 10),
            tagged(BCAST, mac(1), 20),
        ],
    );
    sw.send("p2", &[frame(BCAST, mac(2), 60)]);
    assert_eq!(sw.fdb_ports("br0").len(), 4);
    sw.ok(set_port("p1", &["vlan_mode=trunk", "trunks=10"]));
    let mut left = sw.fdb_ports("br0");
    left.sort();
    assert_eq!(left, ["p1", "p2"], "p1 keeps only VLAN 10, p2 its VLAN 0 entry");
    // A frame in VLAN 0 to mac 1 no longer goes to p1.
    sw.got(&["p1"]);
    sw.send("p2", &[frame(mac(1), mac(2), 60)]);
    assert_eq!(sw.got(&["p1"]), [0]);
}

#[test]
fn a_vanished_device_takes_the_port_down_and_its_return_brings_it_back() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2", "p3"]);
    sw.send("p2", &[frame(BCAST, mac(2), 60)]);
    sw.net.remove_device("p2");
    // The next receive on the port fails as a kernel device's would.
    assert!(!sw.engine.service_port(sw.id("p2")));
    assert_eq!(
        sw.state("p2"),
        PortState::Down {
            reason: "no such device (device removed)".into()
        }
    );
    assert!(!sw.fdb_ports("br0").contains(&"p2".to_string()));
    sw.got(&["p1", "p3"]);
    sw.send("p1", &[frame(mac(2), mac(1), 60)]);
    assert_eq!(sw.got(&["p3"]), [1]);
    assert_eq!(
        sw.drops("p2", "tx-error"),
        0,
        "a down port is skipped, not failed"
    );
    sw.net.add_device("p2");
    sw.engine.probe_ports();
    assert_eq!(sw.state("p2"), PortState::Up);
    sw.send("p1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(sw.net.take_sent("p2").len(), 1);
}

#[test]
fn a_replaced_device_is_noticed_by_the_probe() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2"]);
    sw.send("p2", &[frame(BCAST, mac(2), 60)]);
    sw.got(&["p1"]);
    // Same name, new device (a VM restarted) between two probes.
    sw.net.remove_device("p2");
    sw.net.add_device("p2");
    sw.engine.probe_ports();
    assert_eq!(sw.state("p2"), PortState::Up);
    assert!(
        !sw.fdb_ports("br0").contains(&"p2".to_string()),
        "entries of the old device are gone"
    );
    sw.send("p2", &[frame(BCAST, mac(2), 60)]);
    assert_eq!(sw.got(&["p1"]), [1], "the new device is the one read");
}

#[test]
fn restore_brings_up_what_exists_and_the_rest_down_with_the_reason() {
    let net = FakeNet::default();
    let mut first = Sw::with_net(net.clone());
    first.add_br("br0");
    first.add_ports("br0", &["p1", "p2"]);
    first.ok(set_port("p2", &["tag=10", "mtu=1400"]));
    first.ok(Request::SetBridge {
        bridge: "br0".parse().unwrap(),
        settings: vec![BridgeSetting::MacAging(42)],
    });
    let db = first.db();
    drop(first);
    net.remove_device("p2");
    let mut sw = Sw::with_net(net.clone());
    sw.engine.restore(&db);
    assert_eq!(sw.db(), db, "a missing device keeps its port configured");
    assert_eq!(sw.state("p1"), PortState::Up);
    assert_eq!(
        sw.state("p2"),
        PortState::Down {
            reason: "no such device".into()
        }
    );
    assert_eq!(sw.show()[0].mac_aging, 42);
    net.add_device("p2");
    sw.engine.probe_ports();
    assert_eq!(sw.state("p2"), PortState::Up);
    let p2 = sw.show()[0].ports[1].clone();
    assert_eq!((p2.mtu, p2.config.tag.map(|t| t.get())), (Some(1400), Some(10)));
}

#[test]
fn frames_over_a_ports_mtu_are_dropped_and_counted_there() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2", "p3"]);
    sw.ok(set_port("p2", &["mtu=100"]));
    sw.send("p1", &[frame(BCAST, mac(1), 200)]);
    assert_eq!(sw.got(&["p2", "p3"]), [0, 1]);
    assert_eq!(sw.drops("p2", "too-big"), 1);
    sw.ok(Request::ClearPort {
        port: "p2".parse().unwrap(),
        keys: vec![],
    });
    sw.ok(set_port("p2", &["mtu=1500"]));
    sw.send("p1", &[frame(BCAST, mac(1), 200)]);
    assert_eq!(sw.got(&["p2", "p3"]), [1, 1]);
}

#[test]
fn reserved_destinations_and_bad_sources_are_counted_drops() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2"]);
    sw.send(
        "p1",
        &[
            frame([0x01, 0x80, 0xc2, 0, 0, 0], mac(1), 60),
            frame(BCAST, [0x01, 0, 0, 0, 0, 1], 60),
            vec![0; 10],
        ],
    );
    assert_eq!(sw.got(&["p2"]), [0]);
    assert_eq!(sw.drops("p1", "reserved-destination"), 1);
    assert_eq!(sw.drops("p1", "bad-source-mac"), 1);
    assert_eq!(sw.drops("p1", "runt"), 1);
    assert!(sw.fdb_ports("br0").is_empty());
}

#[test]
fn fdb_flush_and_ageing() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2"]);
    sw.send("p1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(sw.fdb_ports("br0"), ["p1"]);
    assert_eq!(
        sw.ok(Request::FdbFlush { bridge: None }),
        Reply::Flushed { removed: 1 }
    );
    sw.send("p1", &[frame(BCAST, mac(1), 60)]);
    sw.ok(Request::SetBridge {
        bridge: "br0".parse().unwrap(),
        settings: vec![BridgeSetting::MacAging(1)],
    });
    sw.engine
        .timers(Instant::now() + std::time::Duration::from_secs(2));
    assert!(sw.fdb_ports("br0").is_empty());
}

#[test]
fn every_error_names_its_cause_once() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    let e = sw.call(set_port("nope", &["tag=1"])).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::NoSuchPort, "no port named \"nope\"")
    );
    let e = sw.call(add_port("br9", "x", &[])).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::NoSuchBridge, "no bridge named \"br9\"")
    );
}

#[test]
fn a_port_that_went_down_while_ready_is_serviced_again_when_it_returns() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2"]);
    let mut scratch = Vec::new();
    // Attaching put both ports on the ready list; a round drains them.
    sw.engine.service_ready(&mut scratch);
    assert!(sw.engine.ready.is_empty());
    // One poll reports the socket readable and a link notification: the
    // port is put on the ready list, then the probe finds its device gone.
    sw.engine.mark_ready(sw.id("p2").0 as usize);
    sw.net.remove_device("p2");
    sw.engine.probe_ports();
    assert!(matches!(sw.state("p2"), PortState::Down { .. }));
    sw.engine.service_ready(&mut scratch);
    sw.net.add_device("p2");
    sw.engine.probe_ports();
    sw.net.inject("p2", &frame(BCAST, mac(2), 60));
    sw.engine.service_ready(&mut scratch);
    assert_eq!(sw.got(&["p1"]), [1], "the re-attached port is read");
}

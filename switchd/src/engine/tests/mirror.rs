//! Mirrors on fake ports: SPAN by source and destination port, VLAN
//! selection, copies tagged with the frame's VLAN, RSPAN to every port of
//! a VLAN, the output port carrying only mirror traffic, counts, bad input
//! refused, and the mirrors in the db.

use proto::{MirrorConfig, MirrorInfo};

use super::*;

fn add_mirror(sw: &mut Sw, name: &str, words: &[&str]) -> Result<Reply, Error> {
    let config = MirrorConfig::from_words(words).map_err(|e| Error::new(ErrorKind::InvalidArgument, e.0))?;
    sw.call(Request::AddMirror {
        bridge: "br0".parse().unwrap(),
        mirror: name.parse().unwrap(),
        config,
    })
}

fn list(sw: &mut Sw) -> Vec<MirrorInfo> {
    match sw.ok(Request::ListMirrors { bridge: None }) {
        Reply::Mirrors(m) => m.mirrors,
        other => panic!("{other:?}"),
    }
}

fn vlan_of(f: &[u8]) -> Option<u16> {
    (f[12..14] == [0x81, 0x00]).then(|| u16::from_be_bytes([f[14], f[15]]) & 0x0fff)
}

#[test]
fn span_by_source_and_destination_port() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2", "p3", "p9"]);
    add_mirror(
        &mut sw,
        "m1",
        &["select_src_port=p1", "select_dst_port=p2", "output_port=p9"],
    )
    .unwrap();

    // From p1 (selected as source): flooded to p2, p3, and one copy to p9.
    sw.send("p1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(sw.got(&["p1", "p2", "p3", "p9"]), [0, 1, 1, 1]);
    // From p3 to p1 (learned): neither selector, no copy.
    sw.send("p3", &[frame(mac(1), mac(3), 60)]);
    assert_eq!(sw.got(&["p1", "p2", "p3", "p9"]), [1, 0, 0, 0]);
    // From p3 flooded: reaches p2 (selected as destination): one copy, not two.
    sw.send("p3", &[frame(mac(7), mac(3), 80)]);
    assert_eq!(sw.got(&["p1", "p2", "p3", "p9"]), [1, 1, 0, 1]);
    // The output port is not flooded to or learned from: what it sends in is dropped.
    sw.send("p9", &[frame(BCAST, mac(9), 60)]);
    assert_eq!(sw.got(&["p1", "p2", "p3", "p9"]), [0, 0, 0, 0]);
    assert_eq!(sw.drops("p9", "mirror-output-port"), 1);
    assert!(!sw.fdb_ports("br0").contains(&"p9".to_string()));

    let m = &list(&mut sw)[0];
    assert_eq!((m.tx_packets, m.tx_bytes), (2, 140));
    assert_eq!(m.output_port.as_deref(), Some("p9"));

    // Deleted: p9 is a normal port again.
    sw.ok(Request::DelMirror {
        bridge: "br0".parse().unwrap(),
        mirror: "m1".parse().unwrap(),
    });
    sw.send("p1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(sw.got(&["p1", "p2", "p3", "p9"]), [0, 1, 1, 1]);
}

#[test]
fn copies_carry_the_frames_vlan_and_select_vlan_narrows() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2", "p9"]);
    sw.ok(set_port("p2", &["tag=10"]));
    add_mirror(
        &mut sw,
        "m1",
        &["select_all=true", "select_vlan=10", "output_port=p9"],
    )
    .unwrap();
    // An untagged frame into the access port p2 is VLAN 10: the copy is tagged 10.
    sw.send("p2", &[frame(BCAST, mac(2), 60)]);
    let copies = sw.net.take_sent("p9");
    assert_eq!(copies.len(), 1);
    assert_eq!(vlan_of(&copies[0]), Some(10));
    assert_eq!(
        vlan_of(&sw.net.take_sent("p1")[0]),
        Some(10),
        "the trunk gets it tagged"
    );
    // VLAN 0 traffic on the trunk: not selected.
    sw.send("p1", &[frame(BCAST, mac(1), 60)]);
    assert!(sw.net.take_sent("p9").is_empty());
    // Tagged 10 from the trunk: selected, copy as received (tagged 10).
    sw.send("p1", &[tagged(BCAST, mac(1), 10)]);
    let copies = sw.net.take_sent("p9");
    assert_eq!((copies.len(), vlan_of(&copies[0])), (1, Some(10)));
}

#[test]
fn rspan_to_every_port_of_the_vlan_which_learns_nothing() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2", "p3", "p4"]);
    sw.ok(set_port("p3", &["tag=999"]));
    sw.ok(set_port("p4", &["tag=20"]));
    add_mirror(&mut sw, "r", &["select_src_port=p1", "output_vlan=999"]).unwrap();
    sw.send("p1", &[frame(mac(5), mac(1), 60)]);
    // p2 (trunk): the flood (untagged, VLAN 0) and the copy tagged 999;
    // p3 (access 999): the copy, untagged; p4 (VLAN 20): nothing.
    let p2 = sw.net.take_sent("p2");
    assert_eq!(
        p2.iter().map(|f| vlan_of(f)).collect::<Vec<_>>(),
        [None, Some(999)]
    );
    let p3 = sw.net.take_sent("p3");
    assert_eq!((p3.len(), vlan_of(&p3[0])), (1, None));
    assert!(sw.net.take_sent("p4").is_empty());
    // A frame received in VLAN 999 is not learned.
    sw.send("p3", &[frame(BCAST, mac(3), 60)]);
    assert!(
        !sw.fdb_ports("br0").contains(&"p3".to_string()),
        "{:?}",
        sw.fdb_ports("br0")
    );
}

#[test]
fn bad_mirrors_change_nothing_and_mirrors_are_stored() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p9"]);
    let db = sw.db();
    for (words, want) in [
        (vec!["select_all=true"], "output_port=P or output_vlan=V"),
        (
            vec!["select_all=true", "output_port=p9", "output_vlan=5"],
            "not both",
        ),
        (vec!["output_port=p9"], "selects nothing"),
        (vec!["select_src_port=p1", "output_port=nope"], "no port \"nope\""),
        (
            vec!["select_src_port=p9", "output_port=p9"],
            "cannot also be selected",
        ),
        (vec!["select_vlan=5000", "output_port=p9"], "not a VLAN"),
        (vec!["bogus=1", "output_port=p9"], "unknown mirror key"),
    ] {
        let e = add_mirror(&mut sw, "m", &words).unwrap_err();
        assert!(e.message.contains(want), "{words:?}: {e}");
        assert_eq!(sw.db(), db);
    }
    add_mirror(&mut sw, "m", &["select_src_port=p1", "output_port=p9"]).unwrap();
    let e = add_mirror(&mut sw, "m", &["select_src_port=p1", "output_port=p9"]).unwrap_err();
    assert!(e.message.contains("already exists"), "{e}");
    let stored = sw.db();
    assert_eq!(stored.bridges[0].mirrors.len(), 1);
    assert_eq!(stored.bridges[0].mirrors[0].name.as_str(), "m");
    // Restored from the db: the mirror works again.
    let mut again = Sw::with_net(sw.net.clone());
    again.engine.restore(&stored);
    again.send("p1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(again.got(&["p9"]), [1]);
}

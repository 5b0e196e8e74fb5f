//! The flow path on fake ports: each output of a frame leaves with the
//! edits made before it (zero-copy for the received frame and a tag edit, a
//! copy slot for other rewrites), a batch that needs more copies than there
//! are slots still sends every frame in order, the default flow counts what
//! NORMAL switches, and switchctl's flows come back from the db.

use super::*;

fn add_flow(sw: &mut Sw, flow: &str) {
    sw.ok(Request::AddFlow {
        bridge: "br0".parse().unwrap(),
        flow: flow.into(),
    });
}

fn dump(sw: &mut Sw) -> Vec<proto::FlowInfo> {
    match sw.ok(Request::DumpFlows {
        bridge: "br0".parse().unwrap(),
        filter: None,
        table: None,
    }) {
        Reply::Flows(f) => f.flows,
        other => panic!("{other:?}"),
    }
}

#[test]
fn each_output_leaves_with_the_edits_made_before_it() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2", "p3", "p4"]);
    add_flow(
        &mut sw,
        "in_port=p1,actions=output:p2,mod_dl_dst:02:00:00:00:00:99,output:p3,mod_vlan_vid:7,output:p4",
    );
    // A full batch: two rewritten copies per frame, 64 in all, twice the
    // copy slots, so the batch is sent in parts and must stay in order.
    let frames: Vec<Vec<u8>> = (0..32u8)
        .map(|i| {
            let mut f = frame(mac(2), mac(1), 60);
            f[20] = i;
            f
        })
        .collect();
    sw.send("p1", &frames);
    let p2 = sw.net.take_sent("p2");
    let p3 = sw.net.take_sent("p3");
    let p4 = sw.net.take_sent("p4");
    assert_eq!((p2.len(), p3.len(), p4.len()), (32, 32, 32));
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(&p2[i], f, "p2 gets the frame as received");
        let mut want = f.clone();
        want[..6].copy_from_slice(&[2, 0, 0, 0, 0, 0x99]);
        assert_eq!(p3[i], want, "p3: destination rewritten, frame {i}");
        want.splice(12..12, [0x81, 0x00, 0x00, 0x07]);
        assert_eq!(p4[i], want, "p4: rewritten and tagged, frame {i}");
    }
    assert!(sw.net.take_sent("p1").is_empty());
    assert_eq!(dump(&mut sw).iter().map(|f| f.n_packets).sum::<u64>(), 32);
}

#[test]
fn default_flow_counts_normal_and_an_empty_table_drops() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2", "p3"]);
    sw.send("p1", &[frame(BCAST, mac(1), 60), frame(BCAST, mac(1), 100)]);
    assert_eq!(sw.got(&["p1", "p2", "p3"]), [0, 2, 2]);
    let flows = dump(&mut sw);
    assert_eq!(flows.len(), 1);
    assert_eq!((flows[0].n_packets, flows[0].n_bytes), (2, 160));
    sw.ok(Request::DelFlows {
        bridge: "br0".parse().unwrap(),
        filter: None,
        strict: false,
    });
    sw.send("p1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(sw.got(&["p1", "p2", "p3"]), [0, 0, 0]);
    assert_eq!(sw.drops("p1", "no-flow-match"), 1);
    // FLOOD from a flow: every other port.
    add_flow(&mut sw, "actions=flood");
    sw.send("p2", &[frame(mac(1), mac(2), 60)]);
    assert_eq!(sw.got(&["p1", "p2", "p3"]), [1, 0, 1]);
}

#[test]
fn flows_and_ofports_come_back_from_the_db() {
    let net = FakeNet::default();
    let mut first = Sw::with_net(net.clone());
    first.add_br("br0");
    first.add_ports("br0", &["p1"]);
    net.add_device("p2");
    first.ok(add_port("br0", "p2", &["ofport_request=9"]));
    add_flow(&mut first, "priority=10,in_port=p1,actions=output:p2");
    add_flow(&mut first, "hard_timeout=60,priority=5,actions=drop");
    let db = first.db();
    let stored = db.bridges[0].flows.clone().unwrap();
    assert_eq!(stored.len(), 2, "the timed flow is not stored: {stored:?}");
    assert!(
        stored.contains(&"priority=10,in_port=1 actions=output:9".to_string()),
        "{stored:?}"
    );
    drop(first);
    let mut sw = Sw::with_net(net);
    sw.engine.restore(&db);
    assert_eq!(sw.db(), db);
    let ports: Vec<Option<u16>> = sw.show()[0].ports.iter().map(|p| p.ofport).collect();
    assert_eq!(ports, [Some(1), Some(9)]);
    sw.send("p1", &[frame(BCAST, mac(1), 60)]);
    assert_eq!(sw.got(&["p1", "p2"]), [0, 1]);
    // A taken ofport_request is refused, naming the holder.
    sw.net.add_device("p3");
    let e = sw.call(add_port("br0", "p3", &["ofport_request=9"])).unwrap_err();
    assert!(e.message.contains("ofport 9 is already used by port p2"), "{e}");
}

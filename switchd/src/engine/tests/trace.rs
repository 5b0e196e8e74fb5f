//! `trace` on fake ports: a learned destination, a flood, a VLAN the
//! ingress port does not admit, a flow that drops and a table miss, each
//! with its steps, and the MAC table and counters untouched by tracing.

use proto::{TraceAction, TraceInfo, TraceStage};

use super::*;

fn trace(sw: &mut Sw, packet: &str) -> TraceInfo {
    match sw.ok(Request::Trace {
        bridge: "br0".parse().unwrap(),
        packet: packet.into(),
    }) {
        Reply::Trace(t) => t,
        other => panic!("{other:?}"),
    }
}

fn stats(sw: &mut Sw) -> Vec<proto::PortStats> {
    match sw.ok(Request::PortStats { bridge: None }) {
        Reply::Stats(s) => s,
        other => panic!("{other:?}"),
    }
}

fn has(t: &TraceInfo, stage: TraceStage, text: &str) -> bool {
    t.steps
        .iter()
        .any(|s| s.stage == stage && s.detail.contains(text))
}

#[test]
fn learned_flooded_vlan_dropped_and_flow_dropped_packets() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2", "p3"]);
    sw.ok(set_port("p3", &["tag=10"]));
    // p2's MAC is learned by a real frame.
    sw.send("p2", &[frame(BCAST, mac(2), 60)]);
    sw.net.take_sent("p1");
    sw.net.take_sent("p3");
    let fdb = sw.fdb_ports("br0");
    let counters = stats(&mut sw);

    // Learned: out of p2 only, as received.
    let t = trace(
        &mut sw,
        "in_port=p1,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02",
    );
    assert_eq!(t.result.action, TraceAction::Output, "{t:?}");
    assert_eq!(t.result.ports, ["p2"]);
    assert!(has(&t, TraceStage::Rstp, "p1 is forwarding"), "{t:?}");
    assert!(
        has(&t, TraceStage::Table, "table 0: priority=0 actions=NORMAL"),
        "{t:?}"
    );
    assert!(
        has(&t, TraceStage::Vlan, "p1 (trunk): an untagged frame is in VLAN 0"),
        "{t:?}"
    );
    assert!(has(&t, TraceStage::Normal, "learned on p2"), "{t:?}");
    assert!(has(&t, TraceStage::Egress, "p2: as received"), "{t:?}");

    // Unknown destination: flood to p2 only (p3 is an access port of VLAN 10).
    let t = trace(
        &mut sw,
        "in_port=p1,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:77",
    );
    assert_eq!(
        (t.result.action, t.result.ports.clone()),
        (TraceAction::Flood, vec!["p2".to_string()])
    );
    assert!(has(&t, TraceStage::Normal, "unknown in VLAN 0: flood"), "{t:?}");

    // A tagged frame into the access port p3: refused with the reason.
    let t = trace(
        &mut sw,
        "in_port=p3,dl_vlan=20,dl_src=02:00:00:00:00:03,dl_dst=ff:ff:ff:ff:ff:ff",
    );
    assert_eq!(t.result.action, TraceAction::Drop);
    assert_eq!(t.result.reason.as_deref(), Some("vlan-not-allowed"), "{t:?}");
    assert!(
        has(
            &t,
            TraceStage::Vlan,
            "p3 (access VLAN 10) does not admit a frame tagged 20"
        ),
        "{t:?}"
    );
    // Untagged into p3: VLAN 10, to a trunk (p1, p2) tagged 10.
    let t = trace(
        &mut sw,
        "in_port=p3,dl_src=02:00:00:00:00:03,dl_dst=ff:ff:ff:ff:ff:ff",
    );
    assert_eq!(t.result.ports, ["p1", "p2"], "{t:?}");
    assert!(has(&t, TraceStage::Egress, "p1: tagged VLAN 10"), "{t:?}");

    // A flow that drops SSH; the flow is shown with its priority.
    sw.ok(Request::AddFlow {
        bridge: "br0".parse().unwrap(),
        flow: "priority=100,tcp,tp_dst=22,actions=drop".into(),
    });
    let t = trace(
        &mut sw,
        "in_port=p1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=22",
    );
    assert_eq!(t.result.action, TraceAction::Drop);
    assert!(
        has(&t, TraceStage::Table, "priority=100,tcp,tp_dst=22 actions=drop"),
        "{t:?}"
    );
    assert!(has(&t, TraceStage::Drop, "nowhere"), "{t:?}");
    // A flow that rewrites and outputs.
    sw.ok(Request::AddFlow {
        bridge: "br0".parse().unwrap(),
        flow: "priority=100,udp,actions=mod_nw_dst:10.9.9.9,output:p3".into(),
    });
    let t = trace(&mut sw, "in_port=p1,udp,nw_dst=10.0.0.2");
    assert_eq!(t.result.ports, ["p3"], "{t:?}");
    assert!(has(&t, TraceStage::Egress, "nw_dst=10.9.9.9"), "{t:?}");

    // No flow at all: no-flow-match.
    sw.ok(Request::DelFlows {
        bridge: "br0".parse().unwrap(),
        filter: None,
        strict: false,
    });
    let t = trace(&mut sw, "in_port=p1,dl_dst=02:00:00:00:00:02");
    assert_eq!(t.result.reason.as_deref(), Some("no-flow-match"), "{t:?}");
    assert!(has(&t, TraceStage::Table, "table 0: no flow matches"), "{t:?}");

    // Tracing learned nothing, sent nothing and counted nothing.
    assert_eq!(sw.fdb_ports("br0"), fdb);
    assert_eq!(stats(&mut sw), counters);
    assert_eq!(sw.got(&["p1", "p2", "p3"]), [0, 0, 0]);
}

#[test]
fn bad_packets_are_refused_with_the_reason() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1"]);
    for (packet, want) in [
        ("dl_dst=02:00:00:00:00:02", "in_port=PORT is required"),
        ("in_port=9", "in_port=9: no such port"),
        ("in_port=p1,tp_dst=22", "tp_dst"),
        ("in_port=p1,bogus=1", "bogus"),
    ] {
        let e = sw
            .call(Request::Trace {
                bridge: "br0".parse().unwrap(),
                packet: packet.into(),
            })
            .unwrap_err();
        assert!(e.message.contains(want), "{packet}: {e}");
    }
}

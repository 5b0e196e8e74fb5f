//! `switchctl trace` on the real daemon (SPEC §11): a learned destination,
//! a flood, a VLAN drop and a flow drop, with the MAC table and the
//! counters unchanged by tracing. Needs root; see tests/common/mod.rs.

mod common;

use common::*;

#[test]
fn trace_shows_the_path_and_changes_nothing() {
    if !require_root("trace_shows_the_path_and_changes_nothing") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_tap(&sw, "br0", "10.0.24.1");
    let b = host_on_tap(&sw, "br0", "10.0.24.2");
    let c = host_on_tap_with(&sw, "br0", "10.0.24.3", &["tag=10"]);
    assert_pings(&a, &b);
    let fdb = sw.ctl_ok(&["fdb-show", "br0"]);
    let stats = sw.ctl_json(&["port-stats", "br0"]);

    let t = sw.ctl_json(&[
        "trace",
        "br0",
        &format!("in_port={}", a.port),
        &format!("dl_src={}", a.mac),
        &format!("dl_dst={}", b.mac),
    ]);
    assert_eq!(t["result"]["action"], "output", "{t}");
    assert_eq!(t["result"]["ports"], serde_json::json!([b.port]), "{t}");
    let text = sw.ctl_ok(&[
        "trace",
        "br0",
        &format!("in_port={},dl_src={},dl_dst={}", a.port, a.mac, b.mac),
    ]);
    assert!(text.contains(&format!("learned on {}", b.port)), "{text}");

    let t = sw.ctl_json(&[
        "trace",
        "br0",
        &format!("in_port={}", a.port),
        "dl_src=02:00:00:00:00:aa",
        "dl_dst=02:00:00:00:00:bb",
    ]);
    assert_eq!(t["result"]["action"], "flood", "{t}");
    assert_eq!(
        t["result"]["ports"],
        serde_json::json!([b.port]),
        "the access port of VLAN 10 is not flooded: {t}"
    );

    let t = sw.ctl_json(&[
        "trace",
        "br0",
        &format!("in_port={}", c.port),
        "dl_vlan=20",
        "dl_src=02:00:00:00:00:cc",
    ]);
    assert_eq!(t["result"]["action"], "drop", "{t}");
    assert_eq!(t["result"]["reason"], "vlan-not-allowed", "{t}");

    sw.ctl_ok(&["add-flow", "br0", "priority=100,icmp,actions=drop"]);
    let t = sw.ctl_json(&[
        "trace",
        "br0",
        &format!("in_port={}", a.port),
        "icmp",
        &format!("nw_dst={}", b.ip),
    ]);
    assert_eq!(t["result"]["action"], "drop", "{t}");
    assert!(
        t["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["stage"] == "table"
                && s["detail"]
                    .as_str()
                    .unwrap()
                    .contains("priority=100,icmp actions=drop")),
        "{t}"
    );

    // Nothing learned or counted.
    assert_eq!(
        sw.ctl_ok(&["fdb-show", "br0"]).lines().count(),
        fdb.lines().count()
    );
    assert_eq!(sw.ctl_json(&["port-stats", "br0"]), stats);
    // A bad packet: the reason.
    let e = sw.ctl_err(&["trace", "br0", "dl_dst=02:00:00:00:00:02"]);
    assert!(e.contains("in_port=PORT is required"), "{e}");
}

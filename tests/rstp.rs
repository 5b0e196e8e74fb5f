//! Spanning tree end to end (SPEC §7), against real peers: a cable between
//! two ports of one switchd, two switchd joined by two cables, the Linux
//! kernel bridge with 802.1D STP, and Open vSwitch with RSTP. Each test
//! checks what a user relies on: no storm, the configured root on both
//! sides, one port blocking, pings crossing, and failover when the
//! forwarding cable is cut; the failover gap is printed.

mod common;

use std::time::Duration;

use common::peers::{KernelBridge, Ovs};
use common::*;
use serde_json::Value;

/// Timers short enough for tests; valid for RSTP and for the kernel's STP
/// (2*(fd-1) >= max_age >= 2*(hello+1)).
const FWD_DELAY: u32 = 4;
const MAX_AGE: u32 = 6;

/// A switchd with bridge `br0` running RSTP with the test timers and
/// `extra` bridge settings.
fn rstp_switch(extra: &[&str]) -> Switchd {
    let sw = Switchd::with_bridge("br0");
    let fd = format!("rstp_forward_delay={FWD_DELAY}");
    let ma = format!("rstp_max_age={MAX_AGE}");
    let mut args = vec!["set", "bridge", "br0", "rstp=true", &fd, &ma];
    args.extend_from_slice(extra);
    sw.ctl_ok(&args);
    sw
}

fn rstp_bridge(sw: &Switchd) -> Value {
    let v = sw.ctl_json(&["rstp-show", "br0"]);
    v["bridges"][0].clone()
}

fn rstp_port(sw: &Switchd, port: &str) -> Value {
    rstp_bridge(sw)["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["port"] == port)
        .unwrap_or_else(|| panic!("no port {port} in rstp-show"))
        .clone()
}

fn role_state(sw: &Switchd, port: &str) -> (String, String) {
    let p = rstp_port(sw, port);
    (
        p["role"].as_str().unwrap().to_string(),
        p["state"].as_str().unwrap().to_string(),
    )
}

/// Waits until ports `p1` and `p2` of `sw` (its two cables to one other
/// bridge) are one root/forwarding and one alternate/discarding, and `also`
/// holds.
fn wait_root_and_alternate(sw: &Switchd, p1: &str, p2: &str, what: &str, also: impl Fn() -> bool) {
    converge(20, what, || {
        let mut roles = [role_state(sw, p1), role_state(sw, p2)];
        roles.sort();
        roles
            == [
                ("alternate".into(), "discarding".into()),
                ("root".into(), "forwarding".into()),
            ]
            && also()
    });
}

/// Deletes the cable of `sw`'s root port while `host` pings `ip`; returns
/// the longest gap between replies.
fn cut_root_port(sw: &Switchd, host: &Host, ip: &str) -> Duration {
    let root_port = rstp_bridge(sw)["root_port"].as_str().unwrap().to_string();
    let series = ping_series(&host.ns, ip, 10, 4, || {
        sw.ns.ip_ok(&["link", "del", "dev", &root_port]);
    });
    assert!(series.replies > 10, "{series:?}");
    series.longest_gap
}

#[test]
fn a_cable_between_two_ports_of_one_bridge_causes_no_storm() {
    if !require_root("a_cable_between_two_ports_of_one_bridge_causes_no_storm") {
        return;
    }
    let sw = rstp_switch(&[]);
    let h1 = host_on_veth(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    // The miscabling: both ends of one veth pair in the same bridge.
    let (la, lb) = (unique("la"), unique("lb"));
    sw.ns
        .ip_ok(&["link", "add", "dev", &la, "type", "veth", "peer", "name", &lb]);
    for l in [&la, &lb] {
        sw.ns.ip_ok(&["link", "set", "dev", l, "up"]);
        sw.ctl_ok(&["add-port", "br0", l]);
    }
    converge(15, "one end of the loop is backup/discarding", || {
        let mut roles = [role_state(&sw, &la), role_state(&sw, &lb)];
        roles.sort();
        roles
            == [
                ("backup".into(), "discarding".into()),
                ("designated".into(), "forwarding".into()),
            ]
    });
    converge(10, "hosts ping across the bridge", || h1.ping_once(&h2.ip));
    // One broadcast (an ARP from a fresh neighbour table), then count what
    // crosses the loop for 3 s.
    h1.ns.exec_ok(&["ip", "neigh", "flush", "all"]);
    let before = sw.ns.stat(&la, "rx", "packets") + sw.ns.stat(&lb, "rx", "packets");
    assert!(h1.ping(&h2.ip));
    std::thread::sleep(Duration::from_secs(3));
    let after = sw.ns.stat(&la, "rx", "packets") + sw.ns.stat(&lb, "rx", "packets");
    let rate = (after - before) as f64 / 3.0;
    eprintln!("frames on the loop: {rate:.1}/s");
    assert!(rate < 100.0, "{rate} frames/s cross the loop");
    assert_pings(&h1, &h2);
}

#[test]
fn two_switches_two_cables_the_root_wins_and_failover_is_fast() {
    if !require_root("two_switches_two_cables_the_root_wins_and_failover_is_fast") {
        return;
    }
    let a = rstp_switch(&["rstp_priority=4096"]);
    let b = rstp_switch(&[]);
    let (a1, b1) = cable(&a.ns, &b.ns);
    let (a2, b2) = cable(&a.ns, &b.ns);
    for (sw, p) in [(&a, &a1), (&a, &a2), (&b, &b1), (&b, &b2)] {
        sw.ctl_ok(&["add-port", "br0", p]);
    }
    let ha = host_on_veth(&a, "br0", "10.0.1.1");
    let hb = host_on_veth(&b, "br0", "10.0.1.2");
    let root = rstp_bridge(&a)["bridge_id"].clone();
    assert!(root.as_str().unwrap().starts_with("1000."), "{root}");
    wait_root_and_alternate(&b, &b1, &b2, "b has a root port and an alternate", || true);
    assert_eq!(
        rstp_bridge(&b)["root_id"],
        root,
        "both agree on the configured root"
    );
    assert_eq!(rstp_bridge(&a)["root_id"], root);
    assert_eq!(rstp_bridge(&a)["root_port"], Value::Null);
    converge(10, "hosts ping", || ha.ping_once(&hb.ip));
    // Cut the cable of b's root port: the alternate takes over.
    let other = if rstp_bridge(&b)["root_port"] == b1.as_str() {
        &b2
    } else {
        &b1
    };
    let gap = cut_root_port(&b, &ha, &hb.ip);
    eprintln!("RSTP failover, switchd-switchd: longest ping gap {gap:?}");
    assert!(gap < Duration::from_secs(1), "failover took {gap:?}");
    assert_eq!(role_state(&b, other), ("root".into(), "forwarding".into()));
}

#[test]
fn interoperates_with_the_kernel_bridge_running_stp() {
    if !require_root("interoperates_with_the_kernel_bridge_running_stp") {
        return;
    }
    let sw = rstp_switch(&[]);
    let k = Netns::new();
    let kb = KernelBridge::new(&k, "kbr", 4096, FWD_DELAY, MAX_AGE);
    let (s1, k1) = cable(&sw.ns, &k);
    let (s2, k2) = cable(&sw.ns, &k);
    kb.add_port(&k1);
    kb.add_port(&k2);
    sw.ctl_ok(&["add-port", "br0", &s1]);
    sw.ctl_ok(&["add-port", "br0", &s2]);
    let hs = host_on_veth(&sw, "br0", "10.0.2.1");
    let hk = Netns::new();
    let (kh, hk_if) = cable(&k, &hk);
    kb.add_port(&kh);
    hk.ip_ok(&["addr", "add", "10.0.2.2/24", "dev", &hk_if]);
    // The kernel bridge is the root (priority 4096): same root on both sides.
    // A port falls back to 802.1D BPDUs at the first configuration BPDU
    // after its migration delay (3 s).
    wait_root_and_alternate(
        &sw,
        &s1,
        &s2,
        "switchd has an STP root port and an alternate",
        || [&s1, &s2].iter().all(|p| rstp_port(&sw, p)["protocol"] == "stp"),
    );
    let info = rstp_bridge(&sw);
    let kroot = kb.root_id();
    let ours = info["root_id"].as_str().unwrap().to_string();
    assert_eq!(
        ours.replace('.', ""),
        kroot.replace('.', ""),
        "kernel root {kroot} vs {ours}"
    );
    // The kernel's designated ports go listening, learning, forwarding.
    converge(20, "the kernel bridge's ports to switchd forward", || {
        kb.port_state(&k1) == 3 && kb.port_state(&k2) == 3
    });
    converge(20, "hosts ping across switchd and the kernel bridge", || {
        hs.ping_once("10.0.2.2")
    });
    // Cut switchd's root port: the alternate takes over.
    let gap = cut_root_port(&sw, &hs, "10.0.2.2");
    eprintln!("STP failover, switchd-kernel bridge: longest ping gap {gap:?}");
    assert!(gap < Duration::from_secs(2), "failover took {gap:?}");
}

#[test]
fn interoperates_with_open_vswitch_running_rstp() {
    if !require_root("interoperates_with_open_vswitch_running_rstp") {
        return;
    }
    let ovs = Ovs::start();
    ovs.add_br("ob", &["rstp_enable=true", "other_config:rstp-priority=4096"]);
    let sw = rstp_switch(&[]);
    let (s1, o1) = cable(&sw.ns, &ovs.ns);
    let (s2, o2) = cable(&sw.ns, &ovs.ns);
    for o in [&o1, &o2] {
        ovs.vsctl(&["add-port", "ob", o]);
    }
    sw.ctl_ok(&["add-port", "br0", &s1]);
    sw.ctl_ok(&["add-port", "br0", &s2]);
    let hs = host_on_veth(&sw, "br0", "10.0.3.1");
    let (_ho, _ho_if) = ovs.host("ob", "10.0.3.2");
    wait_root_and_alternate(
        &sw,
        &s1,
        &s2,
        "switchd has an RSTP root port and an alternate",
        || true,
    );
    let info = rstp_bridge(&sw);
    assert!(info["root_id"].as_str().unwrap().starts_with("1000."), "{info}");
    assert_eq!(rstp_port(&sw, &s1)["protocol"], "rstp");
    let ovs_root = ovs.vsctl(&["get", "bridge", "ob", "rstp_status:rstp_root_id"]);
    let ovs_self = ovs.vsctl(&["get", "bridge", "ob", "rstp_status:rstp_bridge_id"]);
    assert_eq!(ovs_root, ovs_self, "OVS sees itself as root");
    for o in [&o1, &o2] {
        let role = ovs.vsctl(&["get", "port", o, "rstp_status:rstp_port_role"]);
        assert_eq!(role.trim().trim_matches('"'), "Designated", "OVS port {o}");
    }
    converge(20, "hosts ping across switchd and OVS", || {
        hs.ping_once("10.0.3.2")
    });
    let gap = cut_root_port(&sw, &hs, "10.0.3.2");
    eprintln!("RSTP failover, switchd-OVS: longest ping gap {gap:?}");
    assert!(gap < Duration::from_secs(1), "failover took {gap:?}");
}

//! Persistence and lifecycle of the real daemon: a clean stop (SIGTERM) exits
//! 0 and removes the socket and the TAP devices it created; a restart with the
//! same db restores bridges, ports and settings and forwards again; a port
//! whose device is missing at start is down with the reason while the rest
//! forwards; the db is valid JSON after every change and a change survives a
//! crash right after its reply. Needs root; see tests/common/mod.rs.

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use serde_json::Value;

use common::*;

/// Applies a change, then checks that the db is valid JSON.
fn change(sw: &Switchd, args: &[&str]) {
    sw.ctl_ok(args);
    sw.db_json();
}

/// `show --json` without the MAC table sizes, which are not persisted.
fn config_view(sw: &Switchd) -> Value {
    let mut show = sw.show();
    for b in show.as_array_mut().expect("show is an array") {
        b.as_object_mut()
            .expect("bridge is an object")
            .remove("mac_entries");
    }
    show
}

fn port_state(sw: &Switchd, port: &str) -> Value {
    sw.port_info(port)
        .unwrap_or_else(|| panic!("show lacks port {port}"))["state"]
        .clone()
}

#[test]
fn restart_restores_configuration_and_forwarding() {
    if !require_root("restart_restores_configuration_and_forwarding") {
        return;
    }
    let mut sw = Switchd::start();
    let mode = std::fs::metadata(&sw.socket).expect("socket exists");
    assert!(mode.file_type().is_socket());
    assert_eq!(mode.permissions().mode() & 0o777, 0o600, "control socket mode");

    change(&sw, &["add-br", "bra"]);
    change(&sw, &["add-br", "brb"]);
    change(
        &sw,
        &["set", "bridge", "bra", "mac_aging=42", "mac_table_size=1000"],
    );
    let a1 = host_on_veth(&sw, "bra", "10.0.0.1");
    sw.db_json();
    let a2 = host_on_veth(&sw, "bra", "10.0.0.2");
    let b1 = host_on_veth_with(&sw, "brb", "10.0.0.3", &["tag=10"]);
    let b2 = host_on_veth(&sw, "brb", "10.0.0.4");
    change(&sw, &["set", "port", &b2.port, "tag=10"]);
    // A trunk-ish port without a host, and a TAP port left in the switch's namespace.
    let spare_ns = Netns::new();
    let (trunk, _) = veth_into(&sw, &spare_ns);
    change(
        &sw,
        &[
            "add-port",
            "brb",
            &trunk,
            "vlan_mode=native-untagged",
            "tag=20",
            "trunks=10,30-40",
        ],
    );
    let tap = unique("tp");
    change(&sw, &["add-port", "bra", &tap, "type=tap"]);

    assert!(a1.ping(&a2.ip), "bra hosts cannot ping before restart");
    assert!(b1.ping(&b2.ip), "brb (VLAN 10) hosts cannot ping before restart");
    let before = config_view(&sw);
    assert_eq!(before.as_array().map(Vec::len), Some(2), "{before}");

    let status = sw.stop();
    assert_eq!(
        status.code(),
        Some(0),
        "switchd did not exit 0 on SIGTERM: {status}; log:\n{}",
        sw.log()
    );
    assert!(!sw.socket.exists(), "socket file left behind after a clean stop");
    sw.db_json();

    sw.spawn();
    let after = config_view(&sw);
    assert_eq!(after, before, "configuration differs after restart");
    assert!(
        sw.ns.has_link(&tap),
        "TAP port {tap} was not recreated on restart"
    );
    assert!(a1.ping(&a2.ip), "bra hosts cannot ping after restart");
    assert!(b1.ping(&b2.ip), "brb (VLAN 10) hosts cannot ping after restart");
    // VLAN 10 and bridge separation survived too.
    assert!(!a1.ping_once(&b2.ip), "bra host reached a brb host after restart");
}

#[test]
fn missing_device_at_start_is_down_and_others_forward() {
    if !require_root("missing_device_at_start_is_down_and_others_forward") {
        return;
    }
    let mut sw = Switchd::start();
    change(&sw, &["add-br", "br0"]);
    let h1 = host_on_veth(&sw, "br0", "10.0.0.1");
    let h2 = host_on_tap(&sw, "br0", "10.0.0.2");
    let h3 = host_on_veth(&sw, "br0", "10.0.0.3");
    assert!(h1.ping(&h3.ip));
    let status = sw.stop();
    assert!(status.success(), "{status}");

    // h3's device vanishes while the daemon is down.
    sw.ns.ip_ok(&["link", "del", "dev", &h3.port]);
    sw.spawn();
    let state = port_state(&sw, &h3.port);
    assert_eq!(state["state"], "down", "{state}");
    let reason = state["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("no such device"), "down reason {reason:?}");
    assert_eq!(port_state(&sw, &h1.port)["state"], "up");

    // The TAP port was recreated (its old device died with the daemon); put
    // the new one into h2's namespace again.
    sw.ns
        .ip_ok(&["link", "set", "dev", &h2.port, "netns", &h2.ns.name]);
    h2.ns
        .ip_ok(&["addr", "add", &format!("{}/24", h2.ip), "dev", &h2.ifname]);
    h2.ns.ip_ok(&["link", "set", "dev", &h2.ifname, "up"]);
    assert!(h1.ping(&h2.ip), "other ports do not forward while one is down");
    assert!(!h1.ping_once(&h3.ip));
    // The down port stays configured.
    assert!(sw
        .ctl_json(&["list-ports", "br0"])
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == h3.port.as_str()));
}

#[test]
fn stop_removes_non_persistent_taps() {
    if !require_root("stop_removes_non_persistent_taps") {
        return;
    }
    let mut sw = Switchd::start();
    change(&sw, &["add-br", "br0"]);
    let (t1, t2) = (unique("tp"), unique("tk"));
    change(&sw, &["add-port", "br0", &t1, "type=tap"]);
    change(&sw, &["add-port", "br0", &t2, "type=tap", "persist=true"]);
    let _t2_guard = Link {
        name: t2.clone(),
        ns: Some(sw.ns.name.clone()),
    };
    let h = host_on_tap(&sw, "br0", "10.0.0.1");
    assert!(sw.ns.has_link(&t1) && sw.ns.has_link(&t2));
    assert!(h.ns.has_link(&h.ifname));

    let status = sw.stop();
    assert!(status.success(), "{status}");
    assert!(!sw.ns.has_link(&t1), "TAP {t1} (no persist) survived switchd");
    assert!(
        !h.ns.has_link(&h.ifname),
        "TAP {} moved into a host namespace survived switchd",
        h.ifname
    );
    assert!(sw.ns.has_link(&t2), "TAP {t2} with persist=true was removed");

    // The next daemon recreates t1 and reopens the persistent t2.
    sw.spawn();
    assert!(sw.ns.has_link(&t1), "TAP {t1} not recreated");
    assert_eq!(port_state(&sw, &t1)["state"], "up");
    assert_eq!(port_state(&sw, &t2)["state"], "up");
}

#[test]
fn db_is_valid_json_after_every_change_and_survives_a_crash() {
    if !require_root("db_is_valid_json_after_every_change_and_survives_a_crash") {
        return;
    }
    let mut sw = Switchd::start();
    let tap = unique("tp");
    let steps: &[&[&str]] = &[
        &["add-br", "br0"],
        &["add-br", "br1"],
        &["add-port", "br0", &tap, "type=tap"],
        &["set", "port", &tap, "tag=7"],
        &["set", "port", &tap, "vlan_mode=native-tagged", "trunks=1-3"],
        &["clear", "port", &tap, "trunks"],
        &["set", "bridge", "br1", "mac_aging=5"],
        &["del-br", "br1"],
        &["add-br", "br2"],
    ];
    for step in steps {
        change(&sw, step);
    }
    let before = config_view(&sw);

    // A crash right after the last reply: the db must already hold everything.
    sw.kill();
    sw.db_json();
    let _ = std::fs::remove_file(&sw.socket); // see starts_over_a_stale_socket
    sw.spawn();
    assert_eq!(
        config_view(&sw),
        before,
        "configuration lost by a crash after the reply"
    );

    change(&sw, &["del-port", &tap]);
    change(&sw, &["del-br", "br0"]);
    assert_eq!(sw.ctl_json(&["list-br"]), serde_json::json!(["br2"]));
}

#[test]
fn starts_over_a_stale_socket() {
    if !require_root("starts_over_a_stale_socket") {
        return;
    }
    let mut sw = Switchd::start();
    change(&sw, &["add-br", "br0"]);
    sw.kill();
    assert!(
        sw.socket.exists(),
        "test premise: a killed daemon leaves its socket file"
    );
    sw.spawn();
    assert_eq!(sw.ctl_json(&["list-br"]), serde_json::json!(["br0"]));
}

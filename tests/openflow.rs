//! OpenFlow end to end (SPEC §10) through the real daemon, with real
//! OpenFlow peers: `ovs-ofctl` (Open vSwitch's client, 1.3 and 1.0) against
//! a passive `punix:` target, and the os-ken controller running its
//! bundled `simple_switch_13` against an active `tcp:` target, with
//! traffic between namespaces proving that the flows they install act;
//! fail modes (secure: installed flows go on, new pairs do not; standalone:
//! NORMAL after the controller has been silent for 15 s); reconnection
//! within the backoff; an unsupported request answered with an error on a
//! connection that keeps working; and random and truncated messages that
//! get errors, never a crash. Needs root; see tests/common/mod.rs.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// `ovs-ofctl -O VERSION ARGS...` against `target`, whose output must be a success.
fn ofctl(version: &str, cmd: &str, target: &str, rest: &[&str]) -> String {
    let out = ofctl_raw(version, cmd, target, rest);
    assert!(
        out.status.success(),
        "ovs-ofctl -O {version} {cmd} {target} {rest:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ofctl_raw(version: &str, cmd: &str, target: &str, rest: &[&str]) -> std::process::Output {
    let mut c = Command::new("ovs-ofctl");
    // --names: ovs-ofctl prints port names only to a terminal by default.
    c.args(["-O", version, "--timeout=10", "--names", cmd, target])
        .args(rest);
    c.output().expect("run ovs-ofctl")
}

fn controllers(sw: &Switchd, bridge: &str) -> Vec<Value> {
    sw.ctl_json(&["get-controller", bridge])["bridges"][0]["controllers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until every controller target of `bridge` is in `state`.
fn wait_state(sw: &Switchd, bridge: &str, state: &str, limit: Duration) -> bool {
    poll_until(limit, || {
        let c = controllers(sw, bridge);
        !c.is_empty() && c.iter().all(|c| c["state"] == state)
    })
}

/// A bridge with a `punix:` target in the test's directory.
fn passive(sw: &Switchd, bridge: &str) -> String {
    let path = std::env::temp_dir().join(format!("{}.{bridge}.of", sw.ns.name));
    let target = format!("punix:{}", path.display());
    sw.ctl_ok(&["set-controller", bridge, &target]);
    assert!(
        wait_state(sw, bridge, "listening", Duration::from_secs(5)),
        "target never listening: {:?}",
        controllers(sw, bridge)
    );
    format!("unix:{}", path.display())
}

#[test]
fn ovs_ofctl_13_programs_the_tables_and_sees_the_switch() {
    if !require_root("ovs_ofctl_13_programs_the_tables_and_sees_the_switch")
        || !have_tool("ofctl13", "ovs-ofctl", "openvswitch-common")
    {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_tap(&sw, "br0", "10.0.13.1");
    let b = host_on_tap(&sw, "br0", "10.0.13.2");
    let t = passive(&sw, "br0");
    let o = "OpenFlow13";

    // show: the datapath and both ports by name.
    let show = ofctl(o, "show", &t, &[]);
    assert!(show.contains("n_tables:254"), "{show}");
    assert!(
        show.contains(&format!("({})", a.port)) && show.contains(&format!("({})", b.port)),
        "{show}"
    );

    // The default flow is visible and can be deleted: traffic stops.
    let flows = ofctl(o, "dump-flows", &t, &[]);
    assert!(flows.contains("priority=0 actions=NORMAL"), "{flows}");
    ofctl(o, "del-flows", &t, &[]);
    assert!(!a.ping_once(&b.ip), "pings without any flow");
    assert_eq!(
        sw.ctl_json(&["dump-flows", "br0"])["flows"],
        serde_json::json!([])
    );

    // Flows by port name: traffic crosses, counted.
    ofctl(
        o,
        "add-flow",
        &t,
        &[&format!(
            "priority=10,in_port={},actions=output:{}",
            a.port, b.port
        )],
    );
    ofctl(
        o,
        "add-flow",
        &t,
        &[&format!(
            "priority=10,in_port={},actions=output:{}",
            b.port, a.port
        )],
    );
    assert_pings(&a, &b);
    let flows = ofctl(o, "dump-flows", &t, &[]);
    assert!(
        flows.contains(&format!("priority=10,in_port={}", a.port)),
        "{flows}"
    );
    assert!(!flows.contains("n_packets=0,"), "a flow did not count: {flows}");
    // switchctl sees the controller's flows.
    let ours = sw.ctl_ok(&["dump-flows", "br0"]);
    assert!(ours.contains(&format!("in_port={}", a.port)), "{ours}");

    // Port and table statistics.
    let ports = ofctl(o, "dump-ports", &t, &[]);
    assert!(
        ports.contains("rx pkts=") && !ports.contains("rx pkts=0,"),
        "{ports}"
    );
    let tables = ofctl(o, "dump-tables", &t, &[]);
    assert!(
        tables.contains("table 0") || tables.contains("table 0:"),
        "{tables}"
    );
    assert!(tables.contains("active=2"), "{tables}");

    // A group of type all to the other port.
    ofctl(
        o,
        "add-group",
        &t,
        &[&format!("group_id=7,type=all,bucket=output:{}", b.port)],
    );
    ofctl(
        o,
        "add-flow",
        &t,
        &[&format!("priority=20,in_port={},actions=group:7", a.port)],
    );
    let groups = ofctl(o, "dump-groups", &t, &[]);
    assert!(groups.contains("group_id=7,type=all"), "{groups}");
    assert_pings(&a, &b);
    let stats = ofctl(o, "dump-group-stats", &t, &[]);
    assert!(
        stats.contains("group_id=7") && !stats.contains("packet_count=0,"),
        "{stats}"
    );

    // packet-out from the controller to port b.
    let sniff = b.sniffer();
    let f = marker(a.mac_bytes(), "pktout13");
    let hex: String = f.iter().map(|x| format!("{x:02x}")).collect();
    ofctl(
        o,
        "packet-out",
        &t,
        &["CONTROLLER", &format!("output:{}", b.port), &hex],
    );
    assert!(
        sniff.wait_for(Duration::from_secs(3), |x| is_marker(x, "pktout13")),
        "packet-out not delivered"
    );

    // del-flows by match: only a's flows go.
    ofctl(o, "del-flows", &t, &[&format!("in_port={}", a.port)]);
    let flows = ofctl(o, "dump-flows", &t, &[]);
    assert!(
        !flows.contains(&format!("in_port={},", a.port)) && flows.contains(&format!("in_port={}", b.port)),
        "{flows}"
    );
    assert!(!a.ping_once(&b.ip));
}

#[test]
fn ovs_ofctl_10_programs_the_tables() {
    if !require_root("ovs_ofctl_10_programs_the_tables")
        || !have_tool("ofctl10", "ovs-ofctl", "openvswitch-common")
    {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_tap(&sw, "br0", "10.0.10.1");
    let b = host_on_tap(&sw, "br0", "10.0.10.2");
    let t = passive(&sw, "br0");
    let o = "OpenFlow10";
    let show = ofctl(o, "show", &t, &[]);
    assert!(
        show.contains(&format!("({})", a.port)) && show.contains(&format!("({})", b.port)),
        "{show}"
    );
    ofctl(o, "del-flows", &t, &[]);
    assert!(!a.ping_once(&b.ip));
    ofctl(
        o,
        "add-flow",
        &t,
        &[&format!("in_port={},actions=output:{}", a.port, b.port)],
    );
    ofctl(
        o,
        "add-flow",
        &t,
        &[&format!("in_port={},actions=output:{}", b.port, a.port)],
    );
    assert_pings(&a, &b);
    let flows = ofctl(o, "dump-flows", &t, &[]);
    assert!(
        flows.contains(&format!("in_port={}", a.port)) && !flows.contains("n_packets=0,"),
        "{flows}"
    );
    let ports = ofctl(o, "dump-ports", &t, &[]);
    assert!(ports.contains("rx pkts="), "{ports}");
    ofctl(o, "dump-tables", &t, &[]);
    let sniff = b.sniffer();
    let f = marker(a.mac_bytes(), "pktout10");
    let hex: String = f.iter().map(|x| format!("{x:02x}")).collect();
    ofctl(
        o,
        "packet-out",
        &t,
        &["none", &format!("output:{}", b.port), &hex],
    );
    assert!(sniff.wait_for(Duration::from_secs(3), |x| is_marker(x, "pktout10")));
    // A passive TCP target too (in the switch's own namespace, so the port
    // is the test's alone), next to the punix one.
    let punix = controllers(&sw, "br0")[0]["target"].as_str().unwrap().to_string();
    sw.ctl_ok(&["set-controller", "br0", &punix, "ptcp:6653"]);
    assert!(wait_state(&sw, "br0", "listening", Duration::from_secs(5)));
    assert_eq!(controllers(&sw, "br0")[1]["target"], "ptcp:6653:127.0.0.1");
    let out = sw.ns.exec_ok(&[
        "ovs-ofctl",
        "-O",
        "OpenFlow10",
        "--names",
        "show",
        "tcp:127.0.0.1:6653",
    ]);
    assert!(out.contains(&format!("({})", a.port)), "{out}");
    let out = sw.ns.exec_ok(&[
        "ovs-ofctl",
        "-O",
        "OpenFlow13",
        "--names",
        "dump-flows",
        "tcp:127.0.0.1:6653",
    ]);
    assert!(out.contains(&format!("in_port={}", b.port)), "{out}");
}

#[test]
fn controller_settings_persist_and_bad_input_changes_nothing() {
    let test = "controller_settings_persist_and_bad_input_changes_nothing";
    if !require_root(test) || !have_tool(test, "ovs-ofctl", "openvswitch-common") {
        return;
    }
    let mut sw = Switchd::with_bridge("br0");
    let path = std::env::temp_dir().join(format!("{}.br0.of", sw.ns.name));
    let target = format!("punix:{}", path.display());
    sw.ctl_ok(&["set-controller", "br0", &target, "tcp:127.0.0.1:6999"]);
    sw.ctl_ok(&[
        "set",
        "bridge",
        "br0",
        "fail_mode=secure",
        "protocols=OpenFlow13",
        "datapath_id=00000000000000ab",
    ]);

    // Refused with the reason, and nothing changed (state and db).
    let before = sw.snapshot();
    for (args, reason) in [
        (
            vec!["set-controller", "br0", "tcp:no.such.host"],
            "tcp:no.such.host",
        ),
        (
            vec!["set-controller", "br0", "ssl:127.0.0.1:6653"],
            "ssl:127.0.0.1:6653",
        ),
        (vec!["set-controller", "br0", "ptcp:0"], "ptcp:0"),
        (
            vec!["set-controller", "br0", "punix:relative.sock"],
            "punix:relative.sock",
        ),
        (vec!["set-controller", "nobr", "ptcp:6653"], "nobr"),
        (vec!["set", "bridge", "br0", "fail_mode=open"], "fail_mode"),
        (vec!["set", "bridge", "br0", "protocols=OpenFlow12"], "OpenFlow12"),
        (vec!["set", "bridge", "br0", "datapath_id=abc"], "datapath_id"),
    ] {
        let e = sw.ctl_err(&args);
        assert!(e.contains(reason), "{args:?}: {e}");
        assert_eq!(sw.snapshot(), before, "{args:?} changed something");
    }
    // 1.0 is not allowed any more: a 1.0-only client is refused.
    let o = ofctl_raw("OpenFlow10", "show", &format!("unix:{}", path.display()), &[]);
    assert!(
        !o.status.success(),
        "OpenFlow10 accepted with protocols=OpenFlow13"
    );
    let show = ofctl("OpenFlow13", "show", &format!("unix:{}", path.display()), &[]);
    assert!(show.contains("dpid:00000000000000ab"), "{show}");

    // Across a restart.
    sw.restart();
    let info = sw.ctl_json(&["get-controller", "br0"]);
    let b = &info["bridges"][0];
    assert_eq!(b["fail_mode"], "secure", "{info}");
    assert_eq!(b["controllers"][0]["target"], target.as_str(), "{info}");
    assert_eq!(b["controllers"][1]["target"], "tcp:127.0.0.1:6999", "{info}");
    let br = &sw.show()[0];
    assert_eq!(br["datapath_id"], "00000000000000ab", "{br}");
    assert_eq!(br["protocols"], serde_json::json!(["OpenFlow13"]), "{br}");
    assert!(
        wait_state(&sw, "br0", "listening", Duration::from_secs(5))
            || controllers(&sw, "br0")[0]["state"] == "listening"
    );
    let show = ofctl("OpenFlow13", "show", &format!("unix:{}", path.display()), &[]);
    assert!(show.contains("dpid:00000000000000ab"), "{show}");
    // del-controller removes them, and the punix socket.
    sw.ctl_ok(&["del-controller", "br0"]);
    assert!(controllers(&sw, "br0").is_empty());
    assert!(!path.exists(), "punix socket left behind");
}

// ---------------------------------------------------------------------------
// A raw OpenFlow connection, for what no tool sends on purpose
// ---------------------------------------------------------------------------

struct Raw(UnixStream);

impl Raw {
    fn connect(target: &str) -> Raw {
        let path = target.strip_prefix("unix:").expect("unix target");
        let s = UnixStream::connect(path).expect("connect to punix target");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut r = Raw(s);
        // HELLO 1.3 with a version bitmap (1.0 and 1.3).
        r.send(&[4, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x12]);
        let hello = r.recv().expect("HELLO from the switch");
        assert_eq!(hello[1], 0, "first message is HELLO: {hello:?}");
        r
    }

    fn send(&mut self, b: &[u8]) {
        self.0.write_all(b).expect("write");
    }

    /// The next message, or `None` on timeout or close. The switch's echo
    /// requests (its inactivity probes) are answered on the way.
    fn recv(&mut self) -> Option<Vec<u8>> {
        loop {
            let mut h = [0u8; 8];
            self.0.read_exact(&mut h).ok()?;
            let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
            let mut body = vec![0u8; len.saturating_sub(8)];
            self.0.read_exact(&mut body).ok()?;
            let mut m = h.to_vec();
            m.extend(body);
            if m[1] == 2 {
                let mut reply = m.clone();
                reply[1] = 3;
                self.send(&reply);
                continue;
            }
            return Some(m);
        }
    }

    /// Sends an ECHO_REQUEST with `xid` and waits for its reply, skipping
    /// whatever comes before it (errors, asynchronous messages).
    fn echo(&mut self, xid: u32) -> bool {
        let mut m = vec![4, 2, 0, 8];
        m.extend(xid.to_be_bytes());
        self.send(&m);
        while let Some(r) = self.recv() {
            if r[1] == 3 && r[4..8] == xid.to_be_bytes() {
                return true;
            }
        }
        false
    }
}

#[test]
fn unsupported_and_malformed_requests_get_errors_and_the_connection_survives() {
    if !require_root("unsupported_and_malformed_requests_get_errors_and_the_connection_survives") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_tap(&sw, "br0", "10.0.14.1");
    let b = host_on_tap(&sw, "br0", "10.0.14.2");
    let t = passive(&sw, "br0");
    let mut c = Raw::connect(&t);
    assert!(c.echo(100));
    // QUEUE_GET_CONFIG_REQUEST (1.3 type 22): not supported.
    c.send(&[4, 22, 0, 16, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0]);
    let e = c.recv().expect("a reply");
    assert_eq!(
        (e[1], &e[4..8]),
        (1, &7u32.to_be_bytes()[..]),
        "OFPT_ERROR with the xid: {e:?}"
    );
    assert_eq!(u16::from_be_bytes([e[8], e[9]]), 1, "OFPET_BAD_REQUEST");
    assert_eq!(u16::from_be_bytes([e[10], e[11]]), 1, "OFPBRC_BAD_TYPE");
    assert_eq!(
        &e[12..],
        &[4, 22, 0, 16, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0],
        "the offending message"
    );
    // A Nicira extension request (what ovs-ofctl tries first): bad experimenter.
    c.send(&[4, 4, 0, 16, 0, 0, 0, 8, 0, 0, 0x23, 0x20, 0, 0, 0, 11]);
    let e = c.recv().expect("a reply");
    assert_eq!(
        (
            e[1],
            u16::from_be_bytes([e[8], e[9]]),
            u16::from_be_bytes([e[10], e[11]])
        ),
        (1, 1, 3)
    );
    // A FLOW_MOD whose length field lies: bad length.
    c.send(&[4, 14, 0, 12, 0, 0, 0, 9, 1, 2, 3, 4]);
    let e = c.recv().expect("a reply");
    assert_eq!(e[1], 1, "error: {e:?}");
    // Still answering, and the switch still forwards.
    assert!(c.echo(101));
    assert_pings(&a, &b);
    // get-controller shows the held 1.3 session.
    let ctl = &controllers(&sw, "br0")[0];
    assert_eq!(ctl["state"], "connected", "{ctl}");
    assert_eq!(ctl["version"], "OpenFlow13", "{ctl}");
    assert_eq!(ctl["role"], "equal", "{ctl}");
}

impl Raw {
    /// The next message of type `kind` within `limit`, skipping others.
    fn wait_for(&mut self, kind: u8, limit: Duration) -> Option<Vec<u8>> {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            match self.recv() {
                Some(m) if m[1] == kind => return Some(m),
                Some(_) => {}
                None => return None,
            }
        }
        None
    }
}

#[test]
fn port_status_flow_removed_and_roles_reach_a_controller() {
    let test = "port_status_flow_removed_and_roles_reach_a_controller";
    if !require_root(test) || !have_tool(test, "ovs-ofctl", "openvswitch-common") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_tap(&sw, "br0", "10.0.18.1");
    let t = passive(&sw, "br0");
    let mut c = Raw::connect(&t);
    assert!(c.echo(1));

    // A port added: PORT_STATUS add (reason 0) with its name.
    let h = host_on_veth(&sw, "br0", "10.0.18.2");
    let m = c
        .wait_for(12, Duration::from_secs(5))
        .expect("PORT_STATUS on add-port");
    assert_eq!(m[8], 0, "reason add: {m:?}");
    assert!(String::from_utf8_lossy(&m[16..]).contains(&h.port), "{m:?}");
    // Its device vanishing: PORT_STATUS modify (2) with state LINK_DOWN (1).
    sw.ns.ip_ok(&["link", "del", "dev", &h.port]);
    let m = c
        .wait_for(12, Duration::from_secs(5))
        .expect("PORT_STATUS on link down");
    assert_eq!(m[8], 2, "reason modify: {m:?}");
    assert_eq!(
        u32::from_be_bytes([m[16 + 36], m[16 + 37], m[16 + 38], m[16 + 39]]) & 1,
        1,
        "LINK_DOWN: {m:?}"
    );
    // Deleted: PORT_STATUS delete (1).
    sw.ctl_ok(&["del-port", &h.port]);
    let m = c
        .wait_for(12, Duration::from_secs(5))
        .expect("PORT_STATUS on del-port");
    assert_eq!(m[8], 1, "reason delete: {m:?}");

    // A flow with send_flow_rem and a hard timeout of 1 s, added by another
    // controller: FLOW_REMOVED (type 11) reason hard timeout (1) here.
    ofctl(
        "OpenFlow13",
        "add-flow",
        &t,
        &[&format!(
            "priority=5,hard_timeout=1,send_flow_rem,in_port={},actions=drop",
            a.port
        )],
    );
    let m = c.wait_for(11, Duration::from_secs(5)).expect("FLOW_REMOVED");
    assert_eq!(m[8 + 10], 1, "reason hard timeout: {m:?}");
    // Deleted by switchctl: reason delete (2).
    ofctl(
        "OpenFlow13",
        "add-flow",
        &t,
        &["priority=6,send_flow_rem,cookie=0x77,actions=drop"],
    );
    sw.ctl_ok(&["del-flows", "br0", "--strict", "priority=6"]);
    let m = c
        .wait_for(11, Duration::from_secs(5))
        .expect("FLOW_REMOVED on delete");
    assert_eq!(&m[8..16], &0x77u64.to_be_bytes(), "cookie: {m:?}");
    assert_eq!(m[8 + 10], 2, "reason delete: {m:?}");

    // Roles: master with generation 5, then a stale generation is refused,
    // and the role shows in get-controller.
    let role = |c: &mut Raw, role: u32, generation: u64, xid: u32| {
        let mut m = vec![4, 24, 0, 24];
        m.extend(xid.to_be_bytes());
        m.extend(role.to_be_bytes());
        m.extend([0; 4]);
        m.extend(generation.to_be_bytes());
        c.send(&m);
        loop {
            let r = c.recv().expect("a reply");
            if r[4..8] == xid.to_be_bytes() {
                return r;
            }
        }
    };
    let r = role(&mut c, 2, 5, 40);
    assert_eq!(
        (r[1], &r[8..12]),
        (25, &2u32.to_be_bytes()[..]),
        "ROLE_REPLY master: {r:?}"
    );
    let r = role(&mut c, 2, 4, 41);
    assert_eq!(
        (r[1], u16::from_be_bytes([r[8], r[9]])),
        (1, 11),
        "stale generation: {r:?}"
    );
    assert_eq!(controllers(&sw, "br0")[0]["role"], "master");
    // A slave may not change the tables.
    let r = role(&mut c, 3, 6, 42);
    assert_eq!(&r[8..12], &3u32.to_be_bytes(), "slave: {r:?}");
    let mut fm = vec![4, 14, 0, 56, 0, 0, 0, 43];
    fm.extend([0; 40]); // cookie, mask, table 0, ADD, timeouts, priority 0, buffer 0...
    fm[8 + 25] = 0; // command add
    fm[8 + 28..8 + 32].copy_from_slice(&0xffff_ffffu32.to_be_bytes()); // NO_BUFFER
    fm.extend([0, 1, 0, 4, 0, 0, 0, 0]); // empty OXM match
    c.send(&fm);
    let r = c.wait_for(1, Duration::from_secs(5)).expect("an error");
    assert_eq!(
        (
            u16::from_be_bytes([r[8], r[9]]),
            u16::from_be_bytes([r[10], r[11]])
        ),
        (1, 10),
        "is-slave: {r:?}"
    );
}

#[test]
fn a_controller_that_never_reads_loses_packet_ins_and_holds_nothing_up() {
    let test = "a_controller_that_never_reads_loses_packet_ins_and_holds_nothing_up";
    if !require_root(test) || !have_tool(test, "ovs-ofctl", "openvswitch-common") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_tap(&sw, "br0", "10.0.19.1");
    let b = host_on_tap(&sw, "br0", "10.0.19.2");
    let c = host_on_veth(&sw, "br0", "10.0.19.3");
    let t = passive(&sw, "br0");
    // a and b switch normally; everything else goes to the controllers.
    sw.ctl_ok(&["del-flows", "br0"]);
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        &format!("priority=10,in_port={},actions=normal", a.port),
    ]);
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        &format!("priority=10,in_port={},actions=normal", b.port),
    ]);
    sw.ctl_ok(&["add-flow", "br0", "priority=0,actions=controller"]);
    // A controller that completes the handshake, then never reads again.
    let stuck = Raw::connect(&t);
    assert_eq!(controllers(&sw, "br0")[0]["state"], "connected");
    // 40 000 frames to the controller: far more than its socket and the
    // switch's 256 KiB allowance for it hold.
    let f = marker(parse_mac(&c.mac), &"x".repeat(1000));
    inject_many(&c.ns, &c.ifname, &f, 40_000);
    let dropped = |sw: &Switchd| {
        controllers(sw, "br0")[0]["packet_ins_dropped"]
            .as_u64()
            .unwrap_or(0)
    };
    assert!(
        poll_until(Duration::from_secs(5), || dropped(&sw) > 0),
        "no PACKET_IN counted as dropped: {:?}",
        controllers(&sw, "br0")
    );
    // The switch goes on: forwarding, and the control socket answers at once.
    assert_pings(&a, &b);
    let t0 = Instant::now();
    sw.ctl_ok(&["show"]);
    assert!(
        t0.elapsed() < Duration::from_millis(500),
        "show took {:?}",
        t0.elapsed()
    );
    eprintln!("packet_ins_dropped={}", dropped(&sw));
    // It does not answer the switch's echo probes either: dropped within
    // two probe intervals, with the reason.
    assert!(
        poll_until(Duration::from_secs(15), || controllers(&sw, "br0")[0]["state"]
            == "listening"),
        "the silent controller was not disconnected: {:?}",
        controllers(&sw, "br0")
    );
    drop(stuck);
}

#[test]
fn random_and_truncated_messages_never_crash_the_channel() {
    if !require_root("random_and_truncated_messages_never_crash_the_channel") {
        return;
    }
    let mut sw = Switchd::with_bridge("br0");
    let a = host_on_tap(&sw, "br0", "10.0.15.1");
    let b = host_on_tap(&sw, "br0", "10.0.15.2");
    let t = passive(&sw, "br0");
    let mut rng = Rng::seeded(0x5eed_0f0f_1234_5678);
    // Valid headers (1.3, every message type) over random bodies, each
    // also cut short inside a correct header, on one connection.
    let mut c = Raw::connect(&t);
    for round in 0..3000u32 {
        let kind = (rng.next() % 32) as u8;
        let body_len = (rng.next() % 200) as usize;
        let mut m = vec![4, kind, 0, 0];
        m.extend(round.to_be_bytes());
        m.extend((0..body_len).map(|_| rng.next() as u8));
        // Multipart requests of every type, and FLOW_MODs with a real-looking prefix.
        if kind == 18 && m.len() >= 10 {
            m[8] = 0;
            m[9] = (rng.next() % 20) as u8;
        }
        let len = m.len() as u16;
        m[2..4].copy_from_slice(&len.to_be_bytes());
        if kind == 0 || kind == 1 {
            continue; // HELLO and ERROR are not requests
        }
        c.send(&m);
        if round % 200 == 0 {
            assert!(c.echo(1_000_000 + round), "no echo reply after round {round}");
        }
    }
    assert!(c.echo(2_000_000));
    // Fully random bytes, and a message cut in the middle, on fresh connections.
    for i in 0..50 {
        let mut c = Raw::connect(&t);
        let junk: Vec<u8> = (0..(rng.next() % 300) as usize)
            .map(|_| rng.next() as u8)
            .collect();
        let _ = c.0.write_all(&junk);
        if i % 2 == 0 {
            let _ = c.0.write_all(&[4, 14, 0, 200, 0, 0, 0, 1, 0, 0]); // truncated, then closed
        }
        drop(c);
    }
    assert!(sw.is_running(), "switchd died; log:\n{}", sw.log());
    let mut c = Raw::connect(&t);
    assert!(c.echo(3));
    assert_pings(&a, &b);
}

// ---------------------------------------------------------------------------
// os-ken as the controller
// ---------------------------------------------------------------------------

/// os-ken (`osken-manager`) running `simple_switch_13`, listening on
/// 127.0.0.1:6653 inside the switch's namespace. Killed (by PID) on drop.
struct OsKen {
    child: Option<Child>,
    ns: String,
    log: std::path::PathBuf,
}

impl OsKen {
    fn manager() -> Option<String> {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/osken-venv.sh");
        let out = Command::new(script).stderr(Stdio::inherit()).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn start(sw: &Switchd, manager: &str) -> OsKen {
        let log = std::env::temp_dir().join(format!("{}.osken.log", sw.ns.name));
        let f = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &sw.ns.name, manager])
            .args(["--ofp-listen-host", "127.0.0.1", "--ofp-tcp-listen-port", "6653"])
            .arg("os_ken.app.simple_switch_13")
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .expect("start osken-manager");
        OsKen {
            child: Some(child),
            ns: sw.ns.name.clone(),
            log,
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for OsKen {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "os-ken log ({}):\n{}",
                self.ns,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

fn osken(test: &str) -> Option<String> {
    let m = OsKen::manager();
    if m.is_none() {
        assert!(
            std::env::var_os("SWITCHD_REQUIRE_ROOT").is_none(),
            "{test}: os-ken could not be set up (scripts/osken-venv.sh)"
        );
        eprintln!("SKIP {test}: os-ken unavailable");
    }
    m
}

#[test]
fn osken_simple_switch_13_runs_a_secure_bridge() {
    let test = "osken_simple_switch_13_runs_a_secure_bridge";
    if !require_root(test) {
        return;
    }
    let Some(manager) = osken(test) else { return };
    let sw = Switchd::with_bridge("br0");
    sw.ctl_ok(&["set", "bridge", "br0", "fail_mode=secure"]);
    sw.ctl_ok(&["del-flows", "br0"]);
    let a = host_on_tap(&sw, "br0", "10.0.16.1");
    let b = host_on_tap(&sw, "br0", "10.0.16.2");
    let c = host_on_tap(&sw, "br0", "10.0.16.3");
    let mut ken = OsKen::start(&sw, &manager);
    sw.ctl_ok(&["set-controller", "br0", "tcp:127.0.0.1:6653"]);
    assert!(
        wait_state(&sw, "br0", "connected", Duration::from_secs(20)),
        "os-ken never connected: {:?}",
        controllers(&sw, "br0")
    );
    // simple_switch_13 installs its table-miss flow, then learns.
    assert!(
        poll_until(Duration::from_secs(10), || a.ping_once(&b.ip)),
        "a cannot ping b through os-ken"
    );
    assert_pings(&a, &b);
    let flows = sw.ctl_ok(&["dump-flows", "br0"]);
    assert!(flows.contains("priority=0 actions=CONTROLLER:65535"), "{flows}");
    assert!(
        flows.contains(&format!("priority=1,in_port={}", a.port)),
        "{flows}"
    );
    assert!(flows.contains(&format!("dl_dst={}", b.mac)), "{flows}");

    // Controller gone: the installed pair goes on, a new pair does not.
    ken.stop();
    assert!(
        wait_state(&sw, "br0", "backoff", Duration::from_secs(15))
            || wait_state(&sw, "br0", "connecting", Duration::from_secs(1)),
        "{:?}",
        controllers(&sw, "br0")
    );
    assert!(
        a.ping_once(&b.ip),
        "installed flows stopped working without the controller"
    );
    assert!(
        !c.ping_once(&a.ip) && !c.ping_once(&a.ip),
        "a new pair got through a secure bridge without its controller"
    );
    // Back: reconnected within the backoff (8 s at most, plus the handshake).
    let back = Instant::now();
    let _ken = OsKen::start(&sw, &manager);
    assert!(
        wait_state(&sw, "br0", "connected", Duration::from_secs(20)),
        "not reconnected: {:?}",
        controllers(&sw, "br0")
    );
    let took = back.elapsed();
    eprintln!("reconnected after {took:?}");
    assert!(took < Duration::from_secs(12), "reconnection took {took:?}");
    assert!(
        poll_until(Duration::from_secs(10), || c.ping_once(&a.ip)),
        "new pair after reconnection"
    );
}

#[test]
fn osken_standalone_bridge_falls_back_to_normal() {
    let test = "osken_standalone_bridge_falls_back_to_normal";
    if !require_root(test) {
        return;
    }
    let Some(manager) = osken(test) else { return };
    let sw = Switchd::with_bridge("br0");
    sw.ctl_ok(&["del-flows", "br0"]);
    let a = host_on_tap(&sw, "br0", "10.0.17.1");
    let b = host_on_tap(&sw, "br0", "10.0.17.2");
    let mut ken = OsKen::start(&sw, &manager);
    sw.ctl_ok(&["set-controller", "br0", "tcp:127.0.0.1:6653"]);
    assert!(wait_state(&sw, "br0", "connected", Duration::from_secs(20)));
    assert!(poll_until(Duration::from_secs(10), || a.ping_once(&b.ip)));
    // Take the controller away and remove what it installed: only fail-open
    // can carry traffic now.
    ken.stop();
    sw.ctl_ok(&["del-flows", "br0"]);
    let gone = Instant::now();
    assert!(
        !a.ping_once(&b.ip),
        "traffic without flows right after the controller left"
    );
    assert!(
        poll_until(Duration::from_secs(25), || a.ping_once(&b.ip)),
        "no fail-open NORMAL within 25 s"
    );
    let took = gone.elapsed();
    eprintln!("fail-open after {took:?}");
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(20),
        "fail-open after {took:?}"
    );
    // The flow table is kept (fail-open's flow is hidden).
    assert_eq!(
        sw.ctl_json(&["dump-flows", "br0"])["flows"],
        serde_json::json!([])
    );
}

//! Restarts users do not notice (SPEC §13, issue 19 part 1).
//!
//! - **In place** (`switchctl restart`, SIGUSR2): hosts on TAP ports (moved
//!   into their own namespaces, as qemu's or a container's are) and on a veth
//!   `system` port ping each other every 10 ms while the daemon replaces its
//!   image with the binary on disk. The process id stays, the TAPs keep their
//!   ifindex (they were never closed), a VXLAN endpoint and the control
//!   socket are handed over, a stream client half-way through a frame sees
//!   no disconnect and the frame arrives whole, the longest gap between two replies is at most
//!   1 s (target 100 ms, the figure is printed), and the daemon holds as many
//!   fds after three restarts as before.
//! - **With a spanning tree**: a bridge running RSTP with Open vSwitch as
//!   root over two cables keeps its roles and states across the restart
//!   (the tree is handed over), so its edge port to a host does not sit
//!   discarding for 3 s as a fresh tree's would, and the alternate never
//!   forwards.
//! - **With an LACP bond** to Open vSwitch: the members' sockets are handed
//!   over and LACP negotiates again at once (the partner answers a changed
//!   LACPDU immediately, 802.1AX 6.4.9), well within the bound.
//! - **Refused**: the binary on disk is replaced by one that fails its check;
//!   `switchctl restart` fails with the new binary's own reason, the old image
//!   goes on forwarding, nothing changes; with the good binary back the
//!   restart goes through.
//! - **Plain stop and start**: `persist=true` TAPs still in switchd's
//!   namespace are re-opened (same ifindex), one moved into another namespace
//!   shows down with the reason, `system` ports re-attach, and forwarding is
//!   back within 1 s of the new process starting.
//!
//! The daemon runs a copy of the switchd binary in its private directory, so
//! that the test can replace "the binary on disk" as a package upgrade does
//! (write a new file, rename it over the old one). Needs root; see
//! tests/common/mod.rs.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::peers::Ovs;
use common::*;

/// Copies the build's switchd into `dir/bin/` and returns the copy's path.
fn private_binary(dir: &Path) -> PathBuf {
    let bin_dir = dir.join("bin");
    std::fs::create_dir_all(&bin_dir).expect("create bin dir");
    let exe = bin_dir.join("switchd");
    install(&exe, &std::fs::read(bin("switchd")).expect("read switchd"));
    exe
}

/// Puts `content` at `exe` the way a package upgrade does: a new file,
/// renamed over the old one (the running image keeps its own inode).
fn install(exe: &Path, content: &[u8]) {
    let tmp = exe.with_extension("new");
    std::fs::write(&tmp, content).expect("write new binary");
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).expect("chmod new binary");
    std::fs::rename(&tmp, exe).expect("rename new binary into place");
}

/// `switchctl --timeout 30 ARGS` against `sw`.
fn switchctl(sw: &Switchd, args: &[&str]) -> Output {
    Command::new(bin("switchctl"))
        .arg("--socket")
        .arg(&sw.socket)
        .args(["--timeout", "30"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run switchctl")
}

/// `switchctl --json restart`, which must succeed; its reply.
fn restart_ok(sw: &Switchd) -> Value {
    let out = switchctl(sw, &["--json", "restart"]);
    assert!(
        out.status.success(),
        "switchctl restart failed ({}): {}\nlog:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        sw.log()
    );
    serde_json::from_slice(&out.stdout).expect("restart --json is JSON")
}

/// The fds the daemon holds.
fn fds(pid: u32) -> Vec<String> {
    let mut list: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read /proc/<pid>/fd")
        .filter_map(|e| e.ok())
        .map(|e| {
            std::fs::read_link(e.path())
                .map(|t| t.display().to_string())
                .unwrap_or_default()
        })
        .collect();
    list.sort();
    list
}

/// `show --json` without the MAC table's fill, which is relearned.
fn config_of(mut show: Value) -> Value {
    for b in show.as_array_mut().into_iter().flatten() {
        b.as_object_mut().map(|o| o.remove("mac_entries"));
    }
    show
}

/// The ifindex of `dev` in `ns`.
fn ifindex(ns: &Netns, dev: &str) -> u32 {
    let out = ns.ip_ok(&["-o", "link", "show", "dev", dev]);
    out.split(':')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no ifindex in {out:?}"))
}

/// Asserts what a user pinging across an in-place restart relies on: no
/// gap over 1 s (SPEC §13), and replies going on after it (a 4 s series
/// with the restart after 1 s: one second before it gives ~60-100 replies).
/// Prints the figure.
fn assert_unnoticed(test: &str, what: &str, series: &PingSeries) {
    eprintln!(
        "{test}: {what}: longest ping gap {} ms ({} replies)",
        series.longest_gap.as_millis(),
        series.replies
    );
    assert!(
        series.longest_gap <= Duration::from_secs(1),
        "{what}: forwarding stopped for {:?} (SPEC §13: at most 1 s)",
        series.longest_gap
    );
    assert!(series.replies >= 150, "{what}: replies did not go on: {series:?}");
}

/// A switchd running its own copy of the binary, with bridge `br0`;
/// `None` (the test skips) without root.
fn switch(test: &str) -> Option<Switchd> {
    if !require_root(test) {
        return None;
    }
    let sw = Switchd::start_with(private_binary);
    sw.ctl_ok(&["add-br", "br0"]);
    Some(sw)
}

/// Waits until the daemon's log holds `n` lines containing `what`.
fn wait_log(sw: &Switchd, what: &str, n: usize) {
    assert!(
        poll_until(Duration::from_secs(15), || sw.log().matches(what).count() >= n),
        "the log never said {what:?} {n} times:\n{}",
        sw.log()
    );
}

#[test]
fn restart_in_place_keeps_every_port_and_forwarding() {
    let test = "restart_in_place_keeps_every_port_and_forwarding";
    let Some(sw) = switch(test) else { return };
    let a = host_on_tap(&sw, "br0", "10.19.1.1");
    let b = host_on_tap(&sw, "br0", "10.19.1.2");
    let c = host_on_veth(&sw, "br0", "10.19.1.3");
    // A tunnel endpoint (no peer needed: only its socket is handed over).
    let vx = unique("vx");
    sw.ctl_ok(&[
        "add-port",
        "br0",
        &vx,
        "type=vxlan",
        "remote_ip=192.0.2.9",
        "key=19",
    ]);
    // A stream port with a client (qemu -netdev stream speaks the same: a
    // 4-byte length, then the frame), which never sees a disconnect.
    let stream_path = sw.socket.with_file_name("vm.sock");
    let st = unique("st");
    sw.ctl_ok(&[
        "add-port",
        "br0",
        &st,
        "type=stream",
        &format!("path={}", stream_path.display()),
    ]);
    let mut client = in_netns(&sw.ns.name, {
        let p = stream_path.clone();
        move || UnixStream::connect(p).expect("connect to the stream port")
    });
    client
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    assert_pings(&a, &b);
    assert_pings(&a, &c);
    // Half of a frame now, the rest after the restart: the bytes in between
    // are handed over with the connection, so the stream stays in step.
    let from_vm = frame(
        [0xff; 6],
        [0x02, 0x19, 0, 0, 0, 0x01],
        0x88b5,
        b"sent across a restart",
    );
    let mut wire = (from_vm.len() as u32).to_be_bytes().to_vec();
    wire.extend_from_slice(&from_vm);
    client.write_all(&wire[..10]).expect("write half a frame");
    let pid = sw.pid();
    let tap_index = ifindex(&a.ns, &a.ifname);
    let show_before = sw.show();
    let fds_before = fds(pid);

    // 1. switchctl restart while a pings b every 10 ms.
    let mut reply = Value::Null;
    let series = ping_series(&a.ns, &b.ip, 10, 4, || reply = restart_ok(&sw));
    eprintln!("{test}: switchctl restart: {reply}");
    assert_unnoticed(test, "switchctl restart", &series);
    assert_eq!(reply["pid"], pid, "the pid changed: {reply}");
    assert_eq!(reply["ports_handed_over"], 4, "{reply}");
    assert_eq!(reply["ports_reopened"], 0, "{reply}");
    assert_eq!(reply["endpoints_handed_over"], 1, "{reply}");
    assert_eq!(sw.pid(), pid);
    assert_eq!(ifindex(&a.ns, &a.ifname), tap_index, "the TAP was re-created");
    assert_eq!(
        config_of(sw.show()),
        config_of(show_before),
        "the configuration changed across the restart"
    );
    assert_pings(&a, &c);
    assert_pings(&b, &c);
    let sniff = a.sniffer();
    client
        .write_all(&wire[10..])
        .expect("write the rest of the frame");
    assert!(
        sniff
            .find(Duration::from_secs(3), |f| f == from_vm.as_slice())
            .is_some(),
        "the frame split across the restart did not arrive whole"
    );
    // And the client still receives: a's broadcast reaches it.
    let to_vm = frame([0xff; 6], a.mac_bytes(), 0x88b5, b"to the vm after a restart");
    a.inject(&to_vm);
    let got = read_stream_frames(&mut client, |f| f == to_vm.as_slice());
    assert!(got, "the stream client got nothing after the restart");

    // 2. SIGUSR2 does the same (its outcome is in the log).
    let series = ping_series(&c.ns, &a.ip, 10, 4, || {
        let _ = Command::new("kill").args(["-USR2", &pid.to_string()]).status();
        wait_log(&sw, "forwarding again", 2);
    });
    assert_unnoticed(test, "SIGUSR2", &series);
    assert_eq!(sw.pid(), pid);

    // 3. A third restart: the fds are the same set as before the first
    // (no fd leaks across images; the handed-over ones are the same).
    restart_ok(&sw);
    assert!(
        poll_until(Duration::from_secs(5), || fds(pid).len() == fds_before.len()),
        "fds before the restarts:\n{fds_before:#?}\nafter three:\n{:#?}",
        fds(pid)
    );
    assert_eq!(ifindex(&a.ns, &a.ifname), tap_index);
    assert_pings(&a, &b);
    // MAC tables are relearned, not carried over: the hosts are learned again.
    assert!(
        poll_until(Duration::from_secs(5), || sw.fdb("br0").len() >= 2),
        "MAC table not relearned: {:?}",
        sw.fdb("br0")
    );
}

#[test]
fn restart_refused_when_the_new_binary_fails_its_check() {
    let test = "restart_refused_when_the_new_binary_fails_its_check";
    let Some(sw) = switch(test) else { return };
    let a = host_on_tap(&sw, "br0", "10.19.2.1");
    let b = host_on_veth(&sw, "br0", "10.19.2.2");
    assert_pings(&a, &b);
    let pid = sw.pid();
    let exe = sw_exe(&sw);
    let good = std::fs::read(&exe).expect("read the good binary");
    let snapshot = sw.snapshot();

    // A binary that cannot start (as a broken build or a missing library).
    install(
        &exe,
        b"#!/bin/sh\necho 'switchd: error while loading shared libraries: libfoo.so.1' >&2\nexit 127\n",
    );
    let series = ping_series(&a.ns, &b.ip, 10, 3, || {
        let out = switchctl(&sw, &["restart"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        eprintln!("{test}: refused: {}", stderr.trim());
        assert!(!out.status.success(), "restart with a broken binary succeeded");
        assert!(
            stderr.contains("libfoo.so.1") && stderr.contains("failed its check"),
            "the reason is not the new binary's: {stderr}"
        );
    });
    assert!(
        series.longest_gap <= Duration::from_millis(200),
        "a refused restart cut forwarding: {series:?}"
    );
    assert_eq!(sw.pid(), pid);
    assert_eq!(sw.snapshot(), snapshot, "a refused restart changed something");

    // A binary of another handover format says so.
    install(
        &exe,
        b"#!/bin/sh\necho 'switchd 9.0: this switchd speaks handover format 2, the running one writes 1' >&2\nexit 1\n",
    );
    let reason = sw.ctl_err(&["restart"]);
    assert!(reason.contains("handover format 2"), "{reason}");

    // SIGUSR2 with the broken binary: logged, nothing else.
    let _ = Command::new("kill").args(["-USR2", &pid.to_string()]).status();
    wait_log(&sw, "restart (SIGUSR2) refused", 1);
    assert_pings(&a, &b);

    // The good binary back: the restart goes through.
    install(&exe, &good);
    let reply = restart_ok(&sw);
    assert_eq!(reply["pid"], pid);
    assert_pings(&a, &b);
}

/// Reads length-prefixed frames from a stream port's client until one
/// matches (true) or the read times out (false).
fn read_stream_frames(client: &mut UnixStream, want: impl Fn(&[u8]) -> bool) -> bool {
    loop {
        let mut len = [0u8; 4];
        if client.read_exact(&mut len).is_err() {
            return false;
        }
        let mut f = vec![0u8; u32::from_be_bytes(len) as usize];
        if client.read_exact(&mut f).is_err() {
            return false;
        }
        if want(&f) {
            return true;
        }
    }
}

/// `ovs-ofctl -O OpenFlow13 CMD TARGET REST...`, which must succeed.
fn ofctl(cmd: &str, target: &str, rest: &[&str]) -> String {
    let out = Command::new("ovs-ofctl")
        .args(["-O", "OpenFlow13", "--timeout=10", cmd, target])
        .args(rest)
        .output()
        .expect("run ovs-ofctl");
    assert!(
        out.status.success(),
        "ovs-ofctl {cmd} {rest:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The binary `sw` runs (its private copy).
fn sw_exe(sw: &Switchd) -> PathBuf {
    std::fs::read_link(format!("/proc/{}/exe", sw.pid())).expect("read /proc/<pid>/exe")
}

#[test]
fn plain_restart_reopens_persistent_taps_and_system_ports() {
    let test = "plain_restart_reopens_persistent_taps_and_system_ports";
    if !require_root(test) {
        return;
    }
    let mut sw = Switchd::with_bridge("br0");
    // A persistent TAP that stays in switchd's namespace, used by the switch
    // namespace itself as a host.
    let kept = unique("tk");
    sw.ctl_ok(&["add-port", "br0", &kept, "type=tap", "persist=true"]);
    sw.ns.ip_ok(&["addr", "add", "10.19.3.1/24", "dev", &kept]);
    // A persistent TAP moved into another namespace.
    let moved = host_on_tap_with(&sw, "br0", "10.19.3.9", &["persist=true"]);
    let c = host_on_veth(&sw, "br0", "10.19.3.3");
    assert!(c.ping("10.19.3.1"), "no forwarding before the restart");
    let kept_index = ifindex(&sw.ns, &kept);

    let status = sw.stop();
    assert!(status.success(), "switchd exited with {status}");
    assert!(
        sw.ns.has_link(&kept),
        "persistent TAP {kept} went away with switchd"
    );
    let started = Instant::now();
    sw.spawn();
    // Forwarding back within 1 s of the process starting.
    let mut back = None;
    while started.elapsed() < Duration::from_secs(3) {
        if c.ns
            .exec(&["ping", "-c", "1", "-W", "0.05", "-q", "10.19.3.1"])
            .status
            .success()
        {
            back = Some(started.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let back = back.expect("forwarding did not come back within 3 s");
    eprintln!(
        "{test}: forwarding back {} ms after the new process started",
        back.as_millis()
    );
    assert!(
        back <= Duration::from_secs(1),
        "forwarding back only after {back:?}"
    );
    assert_eq!(
        ifindex(&sw.ns, &kept),
        kept_index,
        "the persistent TAP was re-created"
    );
    let kept_info = sw.port_info(&kept).expect("kept port");
    assert_eq!(kept_info["state"]["state"], "up", "{kept_info}");
    let c_info = sw.port_info(&c.port).expect("system port");
    assert_eq!(c_info["state"]["state"], "up", "{c_info}");
    // The moved TAP cannot be found by name: down, saying why, and no new
    // device of its name appeared in switchd's namespace.
    let moved_info = sw.port_info(&moved.port).expect("moved port");
    assert_eq!(moved_info["state"]["state"], "down", "{moved_info}");
    let reason = moved_info["state"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.contains("not in switchd's network namespace"),
        "{moved_info}"
    );
    assert!(
        !sw.ns.has_link(&moved.port),
        "a new {} was created in switchd's namespace",
        moved.port
    );
    // Clean up the persistent devices (they outlive switchd by design).
    sw.ctl_ok(&["del-port", "br0", &kept]);
    let _ = sw.ns.ip(&["link", "del", &kept]);
    let _ = moved.ns.ip(&["link", "del", &moved.ifname]);
}

#[test]
fn restart_in_place_keeps_the_spanning_tree() {
    let test = "restart_in_place_keeps_the_spanning_tree";
    let Some(sw) = switch(test) else { return };
    // Open vSwitch as the root, two cables to switchd (one root port, one
    // alternate), a host on a TAP port of switchd (an edge port, which a
    // fresh tree would hold discarding for 3 s) and one behind OVS.
    let ovs = Ovs::start();
    ovs.add_br("ob", &["rstp_enable=true", "other_config:rstp-priority=4096"]);
    sw.ctl_ok(&["set", "bridge", "br0", "rstp=true"]);
    let (s1, o1) = cable(&sw.ns, &ovs.ns);
    let (s2, o2) = cable(&sw.ns, &ovs.ns);
    for o in [&o1, &o2] {
        ovs.vsctl(&["add-port", "ob", o]);
    }
    sw.ctl_ok(&["add-port", "br0", &s1]);
    sw.ctl_ok(&["add-port", "br0", &s2]);
    let h = host_on_tap(&sw, "br0", "10.19.4.1");
    let (_ho, _) = ovs.host("ob", "10.19.4.2");
    let roles = || {
        let v = sw.ctl_json(&["rstp-show", "br0"]);
        let mut r: Vec<(String, String, String)> = v["bridges"][0]["ports"]
            .as_array()
            .expect("rstp-show ports")
            .iter()
            .map(|p| {
                let f = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
                (f("port"), f("role"), f("state"))
            })
            .collect();
        r.sort();
        r
    };
    converge(
        40,
        "switchd has a root port, an alternate and a forwarding edge port",
        || {
            let r = roles();
            r.iter().filter(|p| p.1 == "root" && p.2 == "forwarding").count() == 1
                && r.iter()
                    .filter(|p| p.1 == "alternate" && p.2 == "discarding")
                    .count()
                    == 1
                && r.iter().any(|p| p.0 == h.port && p.2 == "forwarding")
                && h.ping_once("10.19.4.2")
        },
    );
    let before = roles();
    let series = ping_series(&h.ns, "10.19.4.2", 10, 4, || {
        restart_ok(&sw);
        // Right after the restart: the same roles and states, the alternate
        // still discarding (no loop, not even for a moment of re-convergence).
        assert_eq!(roles(), before, "the tree changed across the restart");
    });
    assert_unnoticed(test, "switchctl restart", &series);
    assert!(sw.log().contains("spanning tree taken over"), "{}", sw.log());
    assert_eq!(roles(), before);
}

#[test]
fn restart_in_place_keeps_an_lacp_bond() {
    let test = "restart_in_place_keeps_an_lacp_bond";
    let Some(sw) = switch(test) else { return };
    // An LACP bond of two cables to Open vSwitch (the default slow rate:
    // a partner that waited for its periodic LACPDU would take 30 s), a host
    // on a TAP port of switchd and one behind OVS.
    let ovs = Ovs::start();
    ovs.add_br("ob", &[]);
    let (s1, o1) = cable(&sw.ns, &ovs.ns);
    let (s2, o2) = cable(&sw.ns, &ovs.ns);
    ovs.vsctl(&[
        "add-bond",
        "ob",
        "ovsbond",
        &o1,
        &o2,
        "lacp=active",
        "bond_mode=balance-tcp",
    ]);
    sw.ctl_ok(&[
        "add-bond",
        "br0",
        "bond0",
        &s1,
        &s2,
        "lacp=active",
        "bond_mode=balance-tcp",
    ]);
    let h = host_on_tap(&sw, "br0", "10.19.5.1");
    let (_ho, _) = ovs.host("ob", "10.19.5.2");
    let negotiated = || sw.ctl_json(&["lacp-show", "bond0"])["bonds"][0]["status"] == "negotiated";
    converge(60, "LACP negotiated and hosts ping across the bond", || {
        negotiated() && h.ping_once("10.19.5.2")
    });
    let series = ping_series(&h.ns, "10.19.5.2", 10, 4, || {
        let reply = restart_ok(&sw);
        // Both members' sockets are handed over, as any system port's.
        assert_eq!(reply["ports_handed_over"], 3, "{reply}");
    });
    assert_unnoticed(test, "switchctl restart", &series);
    assert!(negotiated(), "{}", sw.ctl_ok(&["lacp-show"]));
}

#[test]
fn restart_in_place_keeps_the_flows_a_controller_installed() {
    let test = "restart_in_place_keeps_the_flows_a_controller_installed";
    // A secure bridge forwards only what its controller installed (here
    // ovs-ofctl on a punix: target): without those flows after the restart,
    // nothing would cross until the controller came back.
    let Some(sw) = switch(test) else { return };
    sw.ctl_ok(&["set", "bridge", "br0", "fail_mode=secure"]);
    sw.ctl_ok(&["del-flows", "br0"]);
    let a = host_on_tap(&sw, "br0", "10.19.6.1");
    let b = host_on_tap(&sw, "br0", "10.19.6.2");
    let of = sw.socket.with_file_name("br0.of");
    sw.ctl_ok(&["set-controller", "br0", &format!("punix:{}", of.display())]);
    let target = format!("unix:{}", of.display());
    assert!(
        poll_until(Duration::from_secs(5), || of.exists()),
        "the punix: target never listened"
    );
    ofctl("add-flow", &target, &["priority=10,in_port=1,actions=output:2"]);
    ofctl(
        "add-flow",
        &target,
        &["priority=10,idle_timeout=600,in_port=2,actions=output:1"],
    );
    assert_pings(&a, &b);
    let series = ping_series(&a.ns, &b.ip, 10, 4, || {
        restart_ok(&sw);
    });
    assert_unnoticed(test, "switchctl restart", &series);
    let flows = ofctl("dump-flows", &target, &[]);
    assert!(flows.contains("in_port=1 actions=output:2"), "{flows}");
    assert!(flows.contains("idle_timeout=600"), "{flows}");
    // They are still the controller's: not written to the db.
    assert!(!std::fs::read_to_string(&sw.db)
        .unwrap_or_default()
        .contains("output:2"));
}

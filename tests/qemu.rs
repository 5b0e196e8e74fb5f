//! Real guests: small Linux VMs under qemu (TCG: no KVM needed) whose
//! `-netdev tap` NICs join switchd through the shipped `contrib/qemu-ifup`,
//! as a user would attach them. The guest is a stock Debian kernel with a
//! busybox initramfs (tests/vm/build-guest.sh, cached in target/vm-cache)
//! whose init (tests/vm/init.sh) takes its address, VLAN and checks from the
//! kernel command line and then runs commands the test sends it.
//!
//! Each test starts its own switchd in its own namespace and runs qemu in
//! that namespace, so the taps are created there and the ifup script reaches
//! that daemon (SWITCHD_SOCKET). Guests are killed by pid and everything is
//! removed on drop, also when a test fails.
//!
//! Not here yet: guests on `stream` / `dgram` socket ports (those port types
//! do not exist yet).

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// The bridge every test uses: the ifup script's default.
const BR: &str = "br0";

/// A guest MAC per test and guest: 52:54:00:5d:TT:NN.
fn mac(test: u8, n: u8) -> String {
    format!("52:54:00:5d:{test:02x}:{n:02x}")
}

/// A progress line for the log of the run (timings), past libtest's capture.
fn note(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "qemu: {msg}");
}

fn port_state(sw: &Switchd, port: &str) -> Option<Value> {
    sw.port_info(port).map(|p| p["state"].clone())
}

fn fdb_entry(sw: &Switchd, mac: &str) -> Option<Value> {
    sw.fdb(BR).into_iter().find(|e| e["mac"] == mac)
}

/// Runs a contrib script in the switch's namespace, as qemu would.
fn contrib(sw: &Switchd, script: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> (bool, String) {
    let mut cmd = std::process::Command::new("ip");
    cmd.args(["netns", "exec", &sw.ns.name]).arg(script).args(args);
    contrib_env(&mut cmd, sw, env.iter().copied());
    let out = cmd.output().expect("run contrib script");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn repo() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The ifup/ifdown scripts on their own (a veth end stands in for qemu's
/// tap): bridge choice, VLAN settings, idempotence, and one clear line per error.
#[test]
fn ifup_and_ifdown_scripts() {
    if !require_root("ifup_and_ifdown_scripts") {
        return;
    }
    let sw = Switchd::with_bridge(BR);
    sw.ctl_ok(&["add-br", "br1"]);
    let ifup = repo().join("contrib/qemu-ifup");
    let ifdown = repo().join("contrib/qemu-ifdown");
    let dev = unique("sv");
    let peer = unique("hv");
    sw.ns
        .ip_ok(&["link", "add", "dev", &dev, "type", "veth", "peer", "name", &peer]);

    let fails = |env: &[(&str, &str)], args: &[&str], want: &str| {
        let (ok, err) = contrib(&sw, &ifup, env, args);
        assert!(!ok, "qemu-ifup {args:?} {env:?} succeeded");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "qemu-ifup should print one line, got {err:?}");
        assert!(
            lines[0].starts_with("qemu-ifup: ") && lines[0].contains(want),
            "qemu-ifup {args:?} {env:?}: {err:?} lacks {want:?}"
        );
    };
    fails(&[], &[], "usage: qemu-ifup TAP");
    fails(&[], &["nosuchdev0"], "no such device nosuchdev0");
    fails(&[("SWITCHD_BRIDGE", "br7")], &[&dev], "cannot add");
    fails(&[("SWITCHD_BRIDGE", "br7")], &[&dev], "br7");
    fails(&[("SWITCHD_TAG", "10 trunks=20")], &[&dev], "bad SWITCHD_TAG");
    fails(&[("SWITCHD_TAG", "5000")], &[&dev], "5000");
    fails(&[("SWITCHCTL", "/nonexistent/switchctl")], &[&dev], "not found");
    fails(
        &[("SWITCHD_SOCKET", "/nonexistent/sock")],
        &[&dev],
        "cannot connect",
    );
    assert!(sw.port_info(&dev).is_none(), "a failed ifup left a port behind");

    // Default bridge br0, a plain system port, brought up.
    let (ok, err) = contrib(&sw, &ifup, &[], &[&dev]);
    assert!(ok, "qemu-ifup {dev}: {err}");
    let info = sw.port_info(&dev).expect("port added");
    assert_eq!(info["type"], "system", "{info}");
    assert_eq!(info["state"]["state"], "up", "{info}");
    assert_eq!(sw.ctl_ok(&["list-ports", BR]).trim(), dev);
    // Again (a guest restarted with downscript=no): fine, nothing changes;
    // with a tag, the tag is applied to the existing port.
    let (ok, err) = contrib(&sw, &ifup, &[], &[&dev]);
    assert!(ok, "second qemu-ifup {dev}: {err}");
    let (ok, err) = contrib(&sw, &ifup, &[("SWITCHD_TAG", "10")], &[&dev]);
    assert!(ok, "qemu-ifup {dev} with SWITCHD_TAG=10: {err}");
    let info = sw.port_info(&dev).expect("port still there");
    assert_eq!(info["config"]["tag"], 10, "{info}");
    assert_eq!(info["vlan_mode"], "access", "{info}");
    // The same port on another bridge is an error.
    fails(&[("SWITCHD_BRIDGE", "br1")], &[&dev], "cannot add");

    // qemu-ifdown removes it, and is harmless when it is gone.
    for _ in 0..2 {
        let (ok, err) = contrib(&sw, &ifdown, &[], &[&dev]);
        assert!(ok, "qemu-ifdown {dev}: {err}");
        assert!(sw.port_info(&dev).is_none(), "qemu-ifdown left port {dev}");
    }

    // A link named qemu-ifup-br1 picks br1; a contradicting SWITCHD_BRIDGE is refused.
    let dir = std::env::temp_dir().join(format!("switchd-ifup-{}", sw.ns.name));
    std::fs::create_dir_all(&dir).expect("create dir");
    let link = dir.join("qemu-ifup-br1");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&ifup, &link).expect("symlink");
    let (ok, err) = contrib(&sw, &link, &[("SWITCHD_BRIDGE", "br0")], &[&dev]);
    assert!(
        !ok && err.contains("conflicts with SWITCHD_BRIDGE=br0"),
        "{err:?}"
    );
    let (ok, err) = contrib(&sw, &link, &[("SWITCHD_TRUNKS", "10,20")], &[&dev]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok, "qemu-ifup-br1 {dev}: {err}");
    assert_eq!(sw.ctl_ok(&["list-ports", "br1"]).trim(), dev);
    let info = sw.port_info(&dev).expect("port on br1");
    assert_eq!(info["vlan_mode"], "trunk", "{info}");
    assert_eq!(info["config"]["trunks"], "10,20", "{info}");
}

/// Case (a): two guests whose taps are attached by the shipped ifup script
/// ping each other; the one that powers off is removed by qemu-ifdown.
#[test]
fn guests_ping_through_the_ifup_script() {
    if !require_root("guests_ping_through_the_ifup_script") {
        return;
    }
    guest_image();
    let t0 = Instant::now();
    let sw = Switchd::with_bridge(BR);
    let mut b = Guest::boot(&sw, &GuestSpec::new(&unique("qb"), &mac(1, 2)).ip("10.0.1.2/24"));
    let mut a = Guest::boot(
        &sw,
        &GuestSpec::new(&unique("qa"), &mac(1, 1))
            .ip("10.0.1.1/24")
            .peer("10.0.1.2")
            .test_mode()
            .ifdown(),
    );
    let result = a.wait_line("VM: RESULT ", GUEST_BOOT_LIMIT);
    let a_done = a.started.elapsed();
    assert!(
        result.starts_with("VM: RESULT PASS"),
        "{result}\n{}",
        a.diagnostics()
    );
    assert!(a.lines().iter().any(|l| l == "VM: PING 10.0.1.2 OK"));

    // The script made B's tap a system port of br0, and it forwards.
    let info = sw.port_info(&b.ifname).expect("ifup added the port");
    assert_eq!(info["type"], "system", "{info}");
    assert_eq!(info["state"]["state"], "up", "{info}");
    let e = fdb_entry(&sw, &b.mac).expect("B's MAC learned");
    assert_eq!(e["port"], b.ifname.as_str(), "{e}");
    assert_eq!(e["vlan"], 0, "{e}");

    // A powered itself off: qemu exits and its downscript removes the port.
    let status = a.wait_exit(Duration::from_secs(30)).expect("guest A powered off");
    assert!(status.success(), "qemu of A: {status}\n{}", a.diagnostics());
    assert!(
        sw.port_info(&a.ifname).is_none(),
        "qemu-ifdown did not remove {}: {}",
        a.ifname,
        sw.show()
    );
    b.wait_ready();
    assert_eq!(port_state(&sw, &b.ifname).expect("B's port")["state"], "up");
    note(&format!(
        "(a) ping through ifup: A checked and powered off after {:.1}s, total {:.1}s",
        a_done.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    ));
}

/// Case (b): access ports of VLAN 10 reach each other, VLAN 20 is apart, and
/// a guest on a trunk port reaches VLAN 10 with its own tagged frames (eth0.10).
#[test]
fn vlans_separate_guests_and_a_trunk_guest_tags_its_own_frames() {
    if !require_root("vlans_separate_guests_and_a_trunk_guest_tags_its_own_frames") {
        return;
    }
    guest_image();
    let t0 = Instant::now();
    let sw = Switchd::with_bridge(BR);
    // One subnet for all, so that only the switch keeps VLAN 20 apart.
    let spec = |name: &str, n: u8| GuestSpec::new(&unique(name), &mac(2, n));
    let mut a = Guest::boot(&sw, &spec("qa", 1).ip("10.0.2.1/24").env("SWITCHD_TAG", "10"));
    let mut b = Guest::boot(&sw, &spec("qb", 2).ip("10.0.2.2/24").env("SWITCHD_TAG", "10"));
    let mut c = Guest::boot(&sw, &spec("qc", 3).ip("10.0.2.3/24").env("SWITCHD_TAG", "20"));
    let mut d = Guest::boot(
        &sw,
        &spec("qd", 4)
            .vlan(10, "10.0.2.4/24")
            .env("SWITCHD_TRUNKS", "10,20"),
    );
    for g in [&mut a, &mut b, &mut c, &mut d] {
        g.wait_ready();
    }
    let booted = t0.elapsed();
    let info = sw.port_info(&d.ifname).expect("trunk port");
    assert_eq!(info["vlan_mode"], "trunk", "{info}");
    let info = sw.port_info(&c.ifname).expect("access port");
    assert_eq!(
        (&info["vlan_mode"], &info["config"]["tag"]),
        (&"access".into(), &20.into())
    );

    // Same VLAN, access to access.
    assert!(a.pings("10.0.2.2", 30), "A (tag 10) cannot reach B (tag 10)");
    // The trunk guest's eth0.10 frames arrive tagged 10 and go out untagged
    // to the access ports; the replies come back tagged.
    assert!(
        d.pings("10.0.2.1", 30),
        "D (trunk, eth0.10) cannot reach A (tag 10)"
    );
    assert!(
        d.pings("10.0.2.2", 30),
        "D (trunk, eth0.10) cannot reach B (tag 10)"
    );
    // Across VLANs: nothing, either way.
    assert!(a.pings_fail("10.0.2.3"), "A (tag 10) reached C (tag 20)");
    assert!(c.pings_fail("10.0.2.1"), "C (tag 20) reached A (tag 10)");
    assert!(d.pings_fail("10.0.2.3"), "D's VLAN 10 reached C (tag 20)");

    // The switch saw C, on VLAN 20 only, and never sent it a frame: no VLAN 10
    // broadcast (ARP) leaked to it, and nobody else is in VLAN 20.
    let fdb = sw.fdb(BR);
    let find = |g: &Guest| -> Vec<(String, u64)> {
        fdb.iter()
            .filter(|e| e["mac"] == g.mac.as_str())
            .map(|e| {
                (
                    e["port"].as_str().unwrap_or("").to_string(),
                    e["vlan"].as_u64().unwrap_or(9999),
                )
            })
            .collect()
    };
    assert_eq!(find(&c), vec![(c.ifname.clone(), 20)], "C in the fdb: {fdb:?}");
    assert_eq!(find(&d), vec![(d.ifname.clone(), 10)], "D in the fdb: {fdb:?}");
    assert_eq!(find(&a), vec![(a.ifname.clone(), 10)], "A in the fdb: {fdb:?}");
    let c_stats = sw.port_stats(BR, &c.ifname);
    assert!(
        c_stats["rx_packets"].as_u64() > Some(0),
        "C sent nothing: {c_stats}"
    );
    assert_eq!(
        c_stats["tx_packets"], 0,
        "frames reached C's VLAN 20 port: {c_stats}"
    );
    note(&format!(
        "(b) VLANs: 4 guests ready after {:.1}s, total {:.1}s",
        booted.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    ));
}

/// Case (c): a guest shut down and started again with the same tap name and
/// MAC: its port goes down, comes back by itself (no switchctl command, and
/// qemu runs no script the second time) and traffic resumes.
#[test]
fn restarted_guest_is_reattached_without_switchctl() {
    if !require_root("restarted_guest_is_reattached_without_switchctl") {
        return;
    }
    guest_image();
    let t0 = Instant::now();
    let sw = Switchd::with_bridge(BR);
    let spec_b = GuestSpec::new(&unique("qb"), &mac(3, 2)).ip("10.0.3.2/24");
    let mut a = Guest::boot(&sw, &GuestSpec::new(&unique("qa"), &mac(3, 1)).ip("10.0.3.1/24"));
    let mut b = Guest::boot(&sw, &spec_b);
    a.wait_ready();
    b.wait_ready();
    assert!(a.pings("10.0.3.2", 30), "A cannot reach B");

    // B shuts down: qemu exits and deletes the tap.
    let status = b.poweroff();
    assert!(status.success(), "qemu of B: {status}");
    drop(b);
    let t_down = Instant::now();
    let down = poll_until(Duration::from_secs(10), || {
        port_state(&sw, &spec_b.ifname).is_some_and(|s| s["state"] == "down")
    });
    let state = port_state(&sw, &spec_b.ifname);
    assert!(
        down,
        "port of the stopped guest is not down (or was removed): {state:?}"
    );
    let reason = state.as_ref().and_then(|s| s["reason"].as_str()).unwrap_or("");
    assert!(reason.contains("no such device"), "down reason {reason:?}");
    let went_down = t_down.elapsed();
    assert!(a.pings_fail("10.0.3.2"), "B answers while stopped");

    // Same tap name and MAC, no script: only qemu creates the tap.
    let t_up = Instant::now();
    let mut b = Guest::boot(&sw, &spec_b.clone().no_ifup());
    let up = poll_until(GUEST_BOOT_LIMIT, || {
        port_state(&sw, &spec_b.ifname).is_some_and(|s| s["state"] == "up")
    });
    assert!(up, "port not re-attached: {:?}", port_state(&sw, &spec_b.ifname));
    let came_up = t_up.elapsed();
    b.wait_ready();
    assert!(
        a.pings("10.0.3.2", 30),
        "traffic to the restarted B does not resume"
    );
    let e = fdb_entry(&sw, &b.mac).expect("B's MAC learned again");
    assert_eq!(e["port"], b.ifname.as_str(), "{e}");
    note(&format!(
        "(c) restart: port down {:.1}s after poweroff, up {:.1}s after qemu restart, total {:.1}s",
        went_down.as_secs_f64(),
        came_up.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    ));
}

/// Bytes sent in the bulk TCP cases.
const BULK_MB: u32 = 16;

/// Sends BULK_MB MiB of random data from guest A to guest B with busybox nc
/// and checks size and md5 on B. `nic` holds extra virtio-net-pci properties.
fn bulk_tcp(case: &str, test: u8, nic: &str) {
    guest_image();
    let t0 = Instant::now();
    let sw = Switchd::with_bridge(BR);
    let spec = |name: &str, n: u8| {
        GuestSpec::new(&unique(name), &mac(test, n))
            .ip(&format!("10.0.{test}.{n}/24"))
            .nic(nic)
    };
    let mut a = Guest::boot(&sw, &spec("qa", 1));
    let mut b = Guest::boot(&sw, &spec("qb", 2));
    a.wait_ready();
    b.wait_ready();
    let b_ip = format!("10.0.{test}.2");
    assert!(a.pings(&b_ip, 30), "A cannot reach B");

    // B listens in the background; stdin is a FIFO it holds open itself, so
    // nc never sees EOF there (which would make it close the connection).
    b.exec_ok(
        "mkfifo /tmp/f
         (timeout 150 nc -l -p 5001 <>/tmp/f >/tmp/r; echo $? >/tmp/r.rc) >/dev/null 2>&1 &
         i=0
         until netstat -ltn | grep -q ':5001 '; do
             i=$((i + 1)); [ $i -ge 200 ] && exit 1; usleep 50000
         done",
        Duration::from_secs(30),
    );
    let sent = a.exec_ok(
        &format!(
            "dd if=/dev/urandom of=/tmp/d bs=1M count={BULK_MB} 2>/dev/null
             echo md5 $(md5sum </tmp/d | cut -d' ' -f1)"
        ),
        Duration::from_secs(60),
    );
    let md5_sent = sent
        .lines()
        .find_map(|l| l.strip_prefix("md5 "))
        .expect("md5 of the data")
        .to_string();
    let t_send = Instant::now();
    let (status, out) = a.exec(
        &format!(
            "t0=$(cut -d' ' -f1 /proc/uptime)
             timeout 120 nc -w 10 {b_ip} 5001 </tmp/d || exit 1
             echo secs $(awk \"BEGIN {{ print $(cut -d' ' -f1 /proc/uptime) - $t0 }}\")"
        ),
        Duration::from_secs(150),
    );
    let wall = t_send.elapsed();
    let (_, received) = b.exec(
        "i=0
         until [ -e /tmp/r.rc ]; do i=$((i + 1)); [ $i -ge 100 ] && break; usleep 100000; done
         echo rc $(cat /tmp/r.rc 2>/dev/null) bytes $(wc -c </tmp/r) md5 $(md5sum </tmp/r | cut -d' ' -f1)
         grep Tcp: /proc/net/snmp",
        Duration::from_secs(30),
    );
    let stats = sw.ctl_json(&["port-stats", BR]);
    let want = format!("bytes {} md5 {md5_sent}", u64::from(BULK_MB) << 20);
    assert!(
        status == 0 && received.contains(&want),
        "{case}: transfer failed: sender exit {status}, output {out:?}; receiver: {received}\n\
         expected {want:?}; port-stats: {stats}"
    );
    let guest_secs = out
        .lines()
        .find_map(|l| l.strip_prefix("secs "))
        .unwrap_or("?")
        .to_string();
    note(&format!(
        "{case}: {BULK_MB} MiB A->B in {:.2}s wall ({guest_secs}s guest clock), md5 ok, total {:.1}s",
        wall.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    ));
}

/// Case (d): bulk TCP between guests with virtio-net's default offloads
/// (checksum offload, TSO/GSO). Fails today, before any super-frame: the
/// guest's SYN reaches the host tap with a partial checksum, switchd forwards
/// it unchanged and uncounted (port-stats shows no drop), and the receiving
/// guest discards it (its /proc/net/snmp InCsumErrors grows), so `nc` times
/// out connecting. Once checksums are completed, TSO super-frames would meet
/// the `too-big` drop.
#[test]
fn bulk_tcp_between_guests_with_default_offloads() {
    if !require_root("bulk_tcp_between_guests_with_default_offloads") {
        return;
    }
    bulk_tcp("(d) bulk TCP, default offloads", 4, "");
}

/// Case (d'): the same transfer with the guests' checksum offload, hence
/// TSO/GSO, off on the virtio NIC (`csum=off`, the workaround the README
/// documents), which works without offload support.
#[test]
fn bulk_tcp_between_guests_with_offloads_off() {
    if !require_root("bulk_tcp_between_guests_with_offloads_off") {
        return;
    }
    bulk_tcp("(d') bulk TCP, csum=off", 5, ",csum=off");
}

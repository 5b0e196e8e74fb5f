//! Forwarding through the real daemon: hosts in network namespaces on TAP and
//! veth (system) ports ping each other; MAC learning, ageing, flushing,
//! flooding versus known unicast, port removal, bridge isolation and the
//! named drops of reserved-destination and bad-source frames are observed
//! from the hosts (ping, AF_PACKET sniffers, raw frame injection) and through
//! `switchctl`. Needs root; see tests/common/mod.rs.

mod common;

use std::time::Duration;

use common::*;

/// The harness itself, without switchd: two namespaces joined by a plain veth
/// pair ping each other, a sniffer sees the echo and an injected frame.
#[test]
fn harness_veth_ping_without_switchd() {
    if !require_root("harness_veth_ping_without_switchd") {
        return;
    }
    let a = Netns::new();
    let b = Netns::new();
    let (ia, ib) = (unique("va"), unique("vb"));
    a.ip_ok(&[
        "link", "add", "dev", &ia, "type", "veth", "peer", "name", &ib, "netns", &b.name,
    ]);
    a.ip_ok(&["addr", "add", "10.9.0.1/24", "dev", &ia]);
    b.ip_ok(&["addr", "add", "10.9.0.2/24", "dev", &ib]);
    a.ip_ok(&["link", "set", "dev", &ia, "up"]);
    b.ip_ok(&["link", "set", "dev", &ib, "up"]);

    let sniff = Sniffer::open(&b, &ib);
    assert!(ping(&a, "10.9.0.2"), "ping over a plain veth pair failed");
    assert!(
        sniff.wait_for(Duration::from_secs(1), is_icmp_echo),
        "sniffer saw no echo request"
    );

    let mac_a = parse_mac(&a.mac(&ia));
    let f = frame(BROADCAST, mac_a, 0x88b5, b"harness");
    let before = b.stat(&ib, "rx", "packets");
    inject(&a, &ia, &f);
    assert!(
        sniff.wait_for(Duration::from_secs(1), |g| g == f.as_slice()),
        "injected frame not seen"
    );
    assert!(b.stat(&ib, "rx", "packets") > before, "rx_packets did not move");

    // Cleanup: deleting a namespace removes the pair.
    let name = a.name.clone();
    drop(a);
    assert!(!std::path::Path::new(&format!("/run/netns/{name}")).exists());
    // Namespace teardown is asynchronous in the kernel.
    assert!(
        poll_until(Duration::from_secs(3), || !b.has_link(&ib)),
        "veth peer survived its namespace"
    );
}

fn assert_up(sw: &Switchd, port: &str) {
    let info = sw
        .port_info(port)
        .unwrap_or_else(|| panic!("show lacks port {port}"));
    assert_eq!(info["state"]["state"], "up", "port {port} is not up: {info}");
}

#[test]
fn tap_hosts_ping() {
    if !require_root("tap_hosts_ping") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let h2 = host_on_tap(&sw, "br0", "10.0.0.2");
    assert_up(&sw, &h1.port);
    assert_up(&sw, &h2.port);
    assert_eq!(sw.port_info(&h1.port).unwrap()["type"], "tap");
    assert_pings(&h1, &h2);
}

#[test]
fn veth_hosts_ping() {
    if !require_root("veth_hosts_ping") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_veth(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_up(&sw, &h1.port);
    assert_up(&sw, &h2.port);
    assert_eq!(sw.port_info(&h1.port).unwrap()["type"], "system");
    assert_pings(&h1, &h2);
}

#[test]
fn tap_and_veth_hosts_ping() {
    if !require_root("tap_and_veth_hosts_ping") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_pings(&h1, &h2);
    // A bigger payload too (1400 bytes of ICMP data, still under the MTU).
    let out = h1.ns.exec(&[
        "ping", "-c", "3", "-i", "0.2", "-W", "1", "-s", "1400", "-q", &h2.ip,
    ]);
    assert!(
        out.status.success(),
        "1400-byte pings failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn fdb_shows_learned_macs_on_their_ports() {
    if !require_root("fdb_shows_learned_macs_on_their_ports") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_pings(&h1, &h2);

    let fdb = sw.fdb("br0");
    for h in [&h1, &h2] {
        let e = fdb
            .iter()
            .find(|e| e["mac"] == h.mac.as_str())
            .unwrap_or_else(|| panic!("fdb lacks {} of {}: {fdb:?}", h.mac, h.port));
        assert_eq!(
            e["port"],
            h.port.as_str(),
            "{} learned on the wrong port: {e}",
            h.mac
        );
        assert_eq!(e["vlan"], 0, "{e}");
        assert!(e["age"].as_u64().is_some_and(|a| a < 10), "implausible age: {e}");
    }
    // The hosts are the only talkers (IPv6 off), so nothing else is learned.
    assert_eq!(fdb.len(), 2, "unexpected entries: {fdb:?}");
    let show = sw.show();
    assert_eq!(show[0]["mac_entries"], 2, "{show}");

    // The text form names the ports too.
    let text = sw.ctl_ok(&["fdb-show", "br0"]);
    for h in [&h1, &h2] {
        let line = text
            .lines()
            .find(|l| l.contains(&h.mac))
            .unwrap_or_else(|| panic!("fdb-show text lacks {}: {text}", h.mac));
        assert!(
            line.contains(&h.port),
            "fdb-show line {line:?} does not name port {}",
            h.port
        );
    }
}

#[test]
fn flood_until_learned_then_unicast_only() {
    if !require_root("flood_until_learned_then_unicast_only") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    let h3 = host_on_veth(&sw, "br0", "10.0.0.3");

    // h1's ARP request (broadcast) reaches the bystander h3.
    let sniff = h3.sniffer();
    assert!(h1.ping(&h2.ip), "h1 cannot ping h2");
    let h1_mac = h1.mac_bytes();
    assert!(
        sniff.wait_for(Duration::from_secs(1), |f| is_arp(f) && from_mac(f, h1_mac)),
        "h1's ARP broadcast did not reach h3"
    );

    // Unknown unicast is flooded as well.
    let sniff = h3.sniffer();
    let unknown = frame(
        [0x02, 0x99, 0, 0, 0, 0x01],
        h1_mac,
        MARKER_ETHERTYPE,
        b"unknown-unicast",
    );
    h1.inject(&unknown);
    assert!(
        sniff.wait_for(Duration::from_secs(2), |f| f == unknown.as_slice()),
        "unknown unicast from h1 was not flooded to h3"
    );

    // Now h1 and h2 are learned: their unicast pings must not reach h3.
    let sniff = h3.sniffer();
    let out = h1
        .ns
        .exec(&["ping", "-c", "5", "-i", "0.2", "-W", "1", "-q", &h2.ip]);
    assert!(out.status.success(), "pings h1 -> h2 failed");
    h1.inject(&marker(h1_mac, "after-unicast"));
    let seen = sniff.until_marker(Duration::from_secs(2), "after-unicast");
    let leaked: Vec<_> = seen.iter().filter(|f| is_icmp_echo(f)).collect();
    assert!(
        leaked.is_empty(),
        "{} known-unicast echo frames leaked to h3: {leaked:02x?}",
        leaked.len()
    );
}

#[test]
fn mac_aging_expires_entries() {
    if !require_root("mac_aging_expires_entries") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    sw.ctl_ok(&["set", "bridge", "br0", "mac_aging=1"]);
    assert_eq!(sw.show()[0]["mac_aging"], 1);
    let h1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_pings(&h1, &h2);
    assert!(!sw.fdb("br0").is_empty(), "nothing learned right after a ping");
    // No traffic from here on: entries must go within ~1 s plus sweep slack.
    let gone = poll_until(Duration::from_secs(4), || sw.fdb("br0").is_empty());
    assert!(
        gone,
        "entries still there 4 s after the last frame with mac_aging=1: {:?}",
        sw.fdb("br0")
    );
    assert_eq!(sw.show()[0]["mac_entries"], 0);
    // Forwarding relearns.
    assert_pings(&h1, &h2);
}

#[test]
fn fdb_flush_empties_the_table() {
    if !require_root("fdb_flush_empties_the_table") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    sw.ctl_ok(&["add-br", "br1"]);
    let h1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    let h3 = host_on_veth(&sw, "br1", "10.0.1.3");
    let h4 = host_on_veth(&sw, "br1", "10.0.1.4");
    assert_pings(&h1, &h2);
    assert_pings(&h3, &h4);
    assert_eq!(sw.fdb("br0").len(), 2);
    assert_eq!(sw.fdb("br1").len(), 2);

    // Flushing one bridge leaves the other alone.
    sw.ctl_ok(&["fdb-flush", "br0"]);
    assert_eq!(sw.fdb("br0"), Vec::<serde_json::Value>::new());
    assert_eq!(sw.fdb("br1").len(), 2, "fdb-flush br0 touched br1");

    // Without a bridge, every table is flushed.
    sw.ctl_ok(&["fdb-flush"]);
    assert!(sw.fdb("br1").is_empty(), "fdb-flush left entries in br1");
    let show = sw.show();
    for b in show.as_array().unwrap() {
        assert_eq!(b["mac_entries"], 0, "{b}");
    }
    // And traffic is learned again.
    assert_pings(&h1, &h2);
    assert_eq!(sw.fdb("br0").len(), 2);
}

#[test]
fn del_port_stops_traffic() {
    if !require_root("del_port_stops_traffic") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_pings(&h1, &h2);

    sw.ctl_ok(&["del-port", "br0", &h2.port]);
    assert!(
        sw.port_info(&h2.port).is_none(),
        "deleted port still in show: {}",
        sw.show()
    );
    let ports = sw.ctl_json(&["list-ports", "br0"]);
    assert_eq!(ports, serde_json::json!([h1.port]), "list-ports after del-port");
    assert!(
        !sw.fdb("br0").iter().any(|e| e["port"] == h2.port.as_str()),
        "fdb still points at the deleted port"
    );
    // The veth itself is still there, so only the switch can be the reason.
    assert!(h2.ns.has_link(&h2.ifname));
    assert!(!h1.ping(&h2.ip), "ping still works after del-port");

    // Adding it back restores forwarding.
    sw.ctl_ok(&["add-port", "br0", &h2.port]);
    assert_pings(&h1, &h2);
}

#[test]
fn bridges_are_isolated() {
    if !require_root("bridges_are_isolated") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    sw.ctl_ok(&["add-br", "br1"]);
    let a1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let a2 = host_on_veth(&sw, "br0", "10.0.0.2");
    let b1 = host_on_veth(&sw, "br1", "10.0.0.3");
    let b2 = host_on_tap(&sw, "br1", "10.0.0.4");
    assert_pings(&a1, &a2);
    assert_pings(&b1, &b2);

    let sniff = b1.sniffer();
    assert!(!a1.ping_once(&b1.ip), "a host on br0 reached a host on br1");
    assert!(!b2.ping_once(&a2.ip), "a host on br1 reached a host on br0");
    let a1_mac = a1.mac_bytes();
    a1.inject(&marker(a1_mac, "isolation"));
    b2.inject(&marker(b2.mac_bytes(), "isolation-b"));
    // a1's marker must not arrive: only b2's (same bridge) does.
    let seen = sniff.until_marker(Duration::from_secs(2), "isolation-b");
    let leaked: Vec<_> = seen.iter().filter(|f| from_mac(f, a1_mac)).collect();
    assert!(leaked.is_empty(), "frames from br0 reached br1: {leaked:02x?}");
    assert!(!sw.fdb("br1").iter().any(|e| e["mac"] == a1.mac.as_str()));
}

#[test]
fn reserved_destinations_are_not_forwarded() {
    if !require_root("reserved_destinations_are_not_forwarded") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_veth(&sw, "br0", "10.0.0.1");
    let h2 = host_on_tap(&sw, "br0", "10.0.0.2");
    assert_pings(&h1, &h2);

    let src = h1.mac_bytes();
    let sniff = h2.sniffer();
    // STP BPDU (802.3 length + LLC 42 42 03), LLDP, and the top of the range.
    let stp = frame(
        [0x01, 0x80, 0xc2, 0, 0, 0x00],
        src,
        0x0026,
        &[0x42, 0x42, 0x03, 0, 0, 0],
    );
    let lldp = frame([0x01, 0x80, 0xc2, 0, 0, 0x0e], src, 0x88cc, b"lldp");
    let top = frame([0x01, 0x80, 0xc2, 0, 0, 0x0f], src, 0x88b6, b"reserved");
    for f in [&stp, &lldp, &top] {
        h1.inject(f);
    }
    h1.inject(&marker(src, "after-reserved"));
    let seen = sniff.until_marker(Duration::from_secs(2), "after-reserved");
    let leaked: Vec<_> = seen
        .iter()
        .filter(|f| f[..5] == [0x01, 0x80, 0xc2, 0, 0])
        .collect();
    assert!(
        leaked.is_empty(),
        "reserved-destination frames were forwarded: {leaked:02x?}"
    );

    let counted = poll_until(Duration::from_secs(2), || {
        sw.drops("br0", &h1.port, "reserved-destination") >= 3
    });
    let stats = sw.port_stats("br0", &h1.port);
    assert!(
        counted,
        "reserved-destination not counted 3 times on {}: {stats}",
        h1.port
    );
    assert_eq!(stats["drops"]["reserved-destination"], 3, "{stats}");
    assert!(stats["rx_dropped"].as_u64().unwrap() >= 3, "{stats}");
}

#[test]
fn bad_source_macs_are_dropped_and_counted() {
    if !require_root("bad_source_macs_are_dropped_and_counted") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_pings(&h1, &h2);

    let sniff = h2.sniffer();
    let multicast_src = [0x03, 0, 0, 0, 0, 0x01];
    let zero_src = [0; 6];
    h1.inject(&frame(BROADCAST, multicast_src, MARKER_ETHERTYPE, b"mcast-src"));
    h1.inject(&frame(BROADCAST, zero_src, MARKER_ETHERTYPE, b"zero-src"));
    h1.inject(&marker(h1.mac_bytes(), "after-bad-src"));
    let seen = sniff.until_marker(Duration::from_secs(2), "after-bad-src");
    let leaked: Vec<_> = seen
        .iter()
        .filter(|f| from_mac(f, multicast_src) || from_mac(f, zero_src))
        .collect();
    assert!(
        leaked.is_empty(),
        "frames with a bad source MAC were forwarded: {leaked:02x?}"
    );

    let counted = poll_until(Duration::from_secs(2), || {
        sw.drops("br0", &h1.port, "bad-source-mac") >= 2
    });
    let stats = sw.port_stats("br0", &h1.port);
    assert!(
        counted,
        "bad-source-mac not counted twice on {}: {stats}",
        h1.port
    );
    assert_eq!(stats["drops"]["bad-source-mac"], 2, "{stats}");
    let fdb = sw.fdb("br0");
    assert!(
        !fdb.iter()
            .any(|e| e["mac"] == "03:00:00:00:00:01" || e["mac"] == "00:00:00:00:00:00"),
        "a bad source MAC was learned: {fdb:?}"
    );
}

#[test]
fn malformed_frames_are_dropped_and_forwarding_continues() {
    if !require_root("malformed_frames_are_dropped_and_forwarding_continues") {
        return;
    }
    let mut sw = Switchd::with_bridge("br0");
    let h1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_pings(&h1, &h2);

    let src = h1.mac_bytes();
    // A TAP hands the frame to switchd exactly as written: an 802.1Q
    // ethertype with no room for the tag.
    let mut truncated = Vec::new();
    truncated.extend_from_slice(&BROADCAST);
    truncated.extend_from_slice(&src);
    truncated.extend_from_slice(&[0x81, 0x00, 0x00]);
    h1.inject(&truncated);
    // Garbage of assorted sizes from a valid source.
    let mut seed = 0x1234_5678u32;
    for len in [14usize, 15, 59, 60, 61, 200, 1000, 1514] {
        let mut f = vec![0u8; len];
        for b in f.iter_mut() {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *b = (seed >> 24) as u8;
        }
        f[6..12].copy_from_slice(&src);
        h1.inject(&f);
    }
    let counted = poll_until(Duration::from_secs(2), || {
        sw.drops("br0", &h1.port, "truncated-vlan-tag") >= 1
    });
    let stats = sw.port_stats("br0", &h1.port);
    assert!(
        counted,
        "truncated 802.1Q frame not counted as truncated-vlan-tag: {stats}"
    );
    assert!(sw.is_running(), "switchd died on garbage frames");
    assert_pings(&h1, &h2);
}

#[test]
fn vanished_device_goes_down_and_is_reattached() {
    if !require_root("vanished_device_goes_down_and_is_reattached") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_veth(&sw, "br0", "10.0.0.1");
    let h2 = host_on_tap(&sw, "br0", "10.0.0.2");
    let h3 = host_on_veth(&sw, "br0", "10.0.0.3");
    assert!(h1.ping(&h3.ip), "h1 cannot ping h3");

    // The switch-side end goes away (as when a VM's tap is deleted).
    sw.ns.ip_ok(&["link", "del", "dev", &h3.port]);
    let down = poll_until(Duration::from_secs(3), || {
        sw.port_info(&h3.port)
            .is_some_and(|p| p["state"]["state"] == "down")
    });
    let info = sw.port_info(&h3.port);
    assert!(
        down,
        "port of a deleted device is not down (or was removed): {info:?}"
    );
    let reason = info
        .as_ref()
        .and_then(|p| p["state"]["reason"].as_str())
        .unwrap_or_default();
    assert!(reason.contains("no such device"), "down reason {reason:?}");
    assert_eq!(sw.port_info(&h1.port).unwrap()["state"]["state"], "up");
    assert_pings(&h1, &h2);

    // A device of the same name appears again (a VM restarting keeps its
    // MAC, so h1's ARP entry stays right): re-attached, forwarding resumes.
    sw.ns.ip_ok(&[
        "link",
        "add",
        "dev",
        &h3.port,
        "type",
        "veth",
        "peer",
        "name",
        &h3.ifname,
        "address",
        &h3.mac,
        "netns",
        &h3.ns.name,
    ]);
    sw.ns.ip_ok(&["link", "set", "dev", &h3.port, "up"]);
    h3.ns
        .ip_ok(&["addr", "add", &format!("{}/24", h3.ip), "dev", &h3.ifname]);
    h3.ns.ip_ok(&["link", "set", "dev", &h3.ifname, "up"]);
    let up = poll_until(Duration::from_secs(5), || {
        sw.port_info(&h3.port)
            .is_some_and(|p| p["state"]["state"] == "up")
    });
    assert!(up, "port not re-attached: {:?}", sw.port_info(&h3.port));
    assert!(h1.ping(&h3.ip), "no forwarding to the re-attached port");
}

/// Frames the kernel drops in front of switchd (its AF_PACKET receive queue
/// is full because switchd did not read in time) are not lost silently:
/// with switchd frozen (SIGSTOP) a burst overflows the queue, and after it
/// resumes, what it forwarded plus `rx-queue-full` plus what the veth
/// itself dropped accounts for every frame sent.
#[test]
fn frames_dropped_before_switchd_reads_them_are_counted() {
    if !require_root("frames_dropped_before_switchd_reads_them_are_counted") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_veth(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert!(h1.ping(&h2.ip));
    let burst = 30_000;
    let f = frame(h2.mac_bytes(), h1.mac_bytes(), 0x88b5, &[0x5a; 46]);
    let pid = sw.pid() as libc::pid_t;
    let before = sw.port_stats("br0", &h1.port)["rx_packets"].as_u64().unwrap();
    let veth_dropped_before = sw.ns.stat(&h1.port, "rx", "dropped");
    // SAFETY: plain signal to the daemon this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    inject_many(&h1.ns, &h1.ifname, &f, burst);
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    let accounted = || {
        let s = sw.port_stats("br0", &h1.port);
        let got = s["rx_packets"].as_u64().unwrap() - before;
        let queue = s["drops"]["rx-queue-full"].as_u64().unwrap_or(0);
        let veth = sw.ns.stat(&h1.port, "rx", "dropped") - veth_dropped_before;
        (got, queue, veth)
    };
    let done = poll_until(Duration::from_secs(10), || {
        let (got, queue, veth) = accounted();
        got + queue + veth >= burst as u64
    });
    let (got, queue, veth) = accounted();
    assert!(
        done,
        "only {got} received + {queue} rx-queue-full + {veth} veth drops of {burst}"
    );
    assert_eq!(
        got + queue + veth,
        burst as u64,
        "received {got}, rx-queue-full {queue}, veth {veth}"
    );
    assert!(
        queue > 0,
        "the burst did not overflow the queue (received {got}): the test proves nothing"
    );
}

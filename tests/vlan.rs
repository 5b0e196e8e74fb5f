//! 802.1Q VLANs end to end (SPEC §4) through the real daemon: hosts on access
//! ports in the same subnet reach their own VLAN only; `set port` moves a port
//! between VLANs on the next frame and forgets what it learned on VLANs it
//! left; two switches joined by a veth trunk carry several VLANs and obey
//! `trunks`; tagged frames written by the tests themselves (raw AF_PACKET, the
//! kernel here has no 802.1Q devices) check the tagging of every mode, PCP/DEI
//! preservation, 802.1ad ingress, per-VLAN learning and the MTU check with a
//! pushed tag. What the hosts receive is read with the harness's sniffer,
//! which restores the tag the kernel strips (PACKET_AUXDATA). Needs root; see
//! tests/common/mod.rs.

mod common;

use std::time::Duration;

use common::*;

/// How long a frame that must arrive may take.
const WAIT: Duration = Duration::from_secs(2);
/// After every expected copy of a frame arrived, how long a copy that must
/// not arrive is given to show up anyway. The engine sends all copies of a
/// frame in the same wake-up, so this only covers the kernel's delivery.
const SETTLE: Duration = Duration::from_millis(300);

/// What one watched host must receive of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rx {
    /// Exactly one copy, without a VLAN tag.
    Untagged,
    /// Exactly one copy, with exactly this tag (TPID, PCP, DEI, VID).
    Tagged(VlanTag),
    /// No copy at all.
    Nothing,
}

use Rx::{Nothing, Tagged, Untagged};

/// Short for an 802.1Q tag with VID `vid`, PCP 0.
fn q(vid: u16) -> VlanTag {
    VlanTag::vid(vid)
}

/// Checks where the frame `sent` (as injected, tagged or not) went: each
/// watched sniffer must see it as `want` says. Copies are recognised by their
/// untagged content, so unrelated traffic does not interfere. Every problem
/// is reported at once.
fn expect_delivery(what: &str, sent: &[u8], watch: &[(&str, &Sniffer, Rx)]) {
    let base = untagged(sent);
    let is_copy = |f: &[u8]| untagged(f) == base;
    let mut problems = Vec::new();
    for &(name, sniff, want) in watch {
        let expected = match want {
            Untagged => base.clone(),
            Tagged(t) => tagged(&base, t),
            Nothing => continue,
        };
        match sniff.find(WAIT, is_copy) {
            None => problems.push(format!("{name}: expected {want:?}, got nothing")),
            Some(f) if f != expected => problems.push(format!(
                "{name}: expected {want:?}, got a copy with tag {:?} ({} bytes instead of {})",
                outer_tag(&f),
                f.len(),
                expected.len()
            )),
            Some(_) => {}
        }
    }
    std::thread::sleep(SETTLE);
    for &(name, sniff, want) in watch {
        let extra: Vec<_> = sniff
            .collect(Duration::ZERO)
            .into_iter()
            .filter(|f| is_copy(f))
            .collect();
        if !extra.is_empty() {
            let tags: Vec<_> = extra.iter().map(|f| outer_tag(f)).collect();
            problems.push(match want {
                Nothing => format!("{name}: expected nothing, got copies with tags {tags:?}"),
                _ => format!("{name}: duplicate copies with tags {tags:?}"),
            });
        }
    }
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

/// A broadcast test frame from `src` whose payload names it.
fn bcast(src: [u8; 6], name: &str) -> Vec<u8> {
    frame(BROADCAST, src, MARKER_ETHERTYPE, name.as_bytes())
}

/// The (port, VLAN) pairs `fdb-show` lists for `mac`, sorted.
fn fdb_of(sw: &Switchd, mac: &str) -> Vec<(String, u64)> {
    let mut v: Vec<_> = sw
        .fdb("br0")
        .iter()
        .filter(|e| e["mac"] == mac)
        .map(|e| {
            (
                e["port"].as_str().unwrap_or_default().to_string(),
                e["vlan"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn entry(port: &str, vlan: u64) -> (String, u64) {
    (port.to_string(), vlan)
}

/// Polls `fdb-show` until `mac` has exactly `want` (sorted) entries.
fn assert_fdb_of(sw: &Switchd, mac: &str, want: &[(String, u64)]) {
    let mut want = want.to_vec();
    want.sort();
    let ok = poll_until(WAIT, || fdb_of(sw, mac) == want);
    assert!(
        ok,
        "fdb entries of {mac}: want {want:?}, have {:?}; whole table: {:?}",
        fdb_of(sw, mac),
        sw.fdb("br0")
    );
}

fn mac_str(m: [u8; 6]) -> String {
    m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// Polls a drop counter of a `br0` port until it reaches `n`, then checks it
/// is exactly `n`.
fn assert_drops(sw: &Switchd, port: &str, reason: &str, n: u64) {
    poll_until(WAIT, || sw.drops("br0", port, reason) >= n);
    let stats = sw.port_stats("br0", port);
    assert_eq!(
        stats["drops"][reason].as_u64().unwrap_or(0),
        n,
        "{reason} drops on {port}: {stats}"
    );
}

#[test]
fn access_vlans_isolate_hosts_in_one_subnet() {
    if !require_root("access_vlans_isolate_hosts_in_one_subnet") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    // Same subnet, two VLANs, TAP and veth hosts in both.
    let a10 = host_on_tap_with(&sw, "br0", "10.0.0.1", &["tag=10"]);
    let b10 = host_on_veth_with(&sw, "br0", "10.0.0.2", &["tag=10"]);
    let a20 = host_on_veth_with(&sw, "br0", "10.0.0.3", &["tag=20"]);
    let b20 = host_on_tap_with(&sw, "br0", "10.0.0.4", &["tag=20"]);
    assert_pings(&a10, &b10);
    assert_pings(&a20, &b20);

    for (from, to, same, others) in [(&a10, &a20, &b10, [&a20, &b20]), (&b20, &b10, &a20, [&a10, &b10])] {
        let same_sniff = same.sniffer();
        let other_sniffs: Vec<_> = others.iter().map(|h| h.sniffer()).collect();
        assert!(
            !from.ping_once(&to.ip),
            "{} (port {}) reached {} (port {}) in another VLAN",
            from.ip,
            from.port,
            to.ip,
            to.port
        );
        let mac = from.mac_bytes();
        // The ARP broadcast was flooded in the sender's VLAN...
        assert!(
            same_sniff.wait_for(WAIT, |f| is_arp(f) && from_mac(f, mac)),
            "{}'s ARP request did not reach {} in its own VLAN",
            from.ip,
            same.ip
        );
        // ...and by then it has been written everywhere it was going to be.
        std::thread::sleep(SETTLE);
        for (h, s) in others.iter().zip(&other_sniffs) {
            let leaked: Vec<_> = s
                .collect(Duration::ZERO)
                .into_iter()
                .filter(|f| from_mac(f, mac))
                .collect();
            assert!(
                leaked.is_empty(),
                "{} in the other VLAN received {}'s frames: {leaked:02x?}",
                h.ip,
                from.ip
            );
        }
    }

    // Each MAC is learned once, in its port's VLAN.
    for (h, vlan) in [(&a10, 10), (&b10, 10), (&a20, 20), (&b20, 20)] {
        assert_eq!(fdb_of(&sw, &h.mac), vec![entry(&h.port, vlan)], "{}", h.ip);
    }
    assert_eq!(sw.fdb("br0").len(), 4, "{:?}", sw.fdb("br0"));
}

#[test]
fn set_port_moves_a_port_on_the_next_frame_and_forgets_old_vlans() {
    if !require_root("set_port_moves_a_port_on_the_next_frame_and_forgets_old_vlans") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a10 = host_on_tap_with(&sw, "br0", "10.0.0.1", &["tag=10"]);
    let b10 = host_on_veth_with(&sw, "br0", "10.0.0.2", &["tag=10"]);
    let c = host_on_veth_with(&sw, "br0", "10.0.0.3", &["tag=20"]);
    let d20 = host_on_tap_with(&sw, "br0", "10.0.0.4", &["tag=20"]);
    // A trunk of all VLANs: sees every flood, with its VLAN as the tag.
    let mon = host_on_veth(&sw, "br0", "10.0.9.1");
    assert_pings(&a10, &b10);
    assert_pings(&c, &d20);
    assert!(!c.ping_once(&a10.ip), "c in VLAN 20 reached a10 in VLAN 10");
    assert_fdb_of(&sw, &c.mac, &[entry(&c.port, 20)]);

    let cm = c.mac_bytes();
    let (s_a10, s_b10, s_d20, s_mon) = (a10.sniffer(), b10.sniffer(), d20.sniffer(), mon.sniffer());
    let before = bcast(cm, "c-before-retag");
    c.inject(&before);
    expect_delivery(
        "c's frame while tag=20",
        &before,
        &[
            ("a10", &s_a10, Nothing),
            ("b10", &s_b10, Nothing),
            ("d20", &s_d20, Untagged),
            ("trunk", &s_mon, Tagged(q(20))),
        ],
    );

    sw.ctl_ok(&["set", "port", &c.port, "tag=10"]);
    let info = sw.port_info(&c.port).unwrap();
    assert_eq!(info["vlan_mode"], "access", "{info}");
    assert_eq!(info["config"]["tag"], 10, "{info}");
    // c's VLAN-20 entry is gone at once; the other ports' entries stay.
    assert_eq!(fdb_of(&sw, &c.mac), vec![], "{:?}", sw.fdb("br0"));
    assert_eq!(fdb_of(&sw, &d20.mac), vec![entry(&d20.port, 20)]);
    assert_eq!(fdb_of(&sw, &a10.mac), vec![entry(&a10.port, 10)]);
    assert_eq!(fdb_of(&sw, &b10.mac), vec![entry(&b10.port, 10)]);

    // The very first frame after the reply is in VLAN 10.
    let after = bcast(cm, "c-after-retag");
    c.inject(&after);
    expect_delivery(
        "c's first frame after set port tag=10",
        &after,
        &[
            ("a10", &s_a10, Untagged),
            ("b10", &s_b10, Untagged),
            ("d20", &s_d20, Nothing),
            ("trunk", &s_mon, Tagged(q(10))),
        ],
    );
    assert_fdb_of(&sw, &c.mac, &[entry(&c.port, 10)]);
    assert_pings(&c, &a10);
    assert!(!c.ping_once(&d20.ip), "c still reaches d20 after leaving VLAN 20");
    assert!(!d20.ping_once(&c.ip), "d20 still reaches c after it left VLAN 20");

    // A trunk that stops carrying a VLAN forgets only that VLAN's entries.
    let x = [0x02, 0, 0x5e, 0, 0x77, 0x01];
    for vid in [10, 20, 30] {
        mon.inject(&tagged(&bcast(x, "x-behind-trunk"), q(vid)));
    }
    assert_fdb_of(
        &sw,
        &mac_str(x),
        &[entry(&mon.port, 10), entry(&mon.port, 20), entry(&mon.port, 30)],
    );
    sw.ctl_ok(&["set", "port", &mon.port, "trunks=10,30"]);
    assert_eq!(
        fdb_of(&sw, &mac_str(x)),
        vec![entry(&mon.port, 10), entry(&mon.port, 30)]
    );
    sw.ctl_ok(&[
        "set",
        "port",
        &mon.port,
        "vlan_mode=native-untagged",
        "tag=20",
        "trunks=30",
    ]);
    assert_eq!(fdb_of(&sw, &mac_str(x)), vec![entry(&mon.port, 30)]);
    assert_eq!(fdb_of(&sw, &d20.mac), vec![entry(&d20.port, 20)]);
}

#[test]
fn trunk_link_between_two_switches_carries_vlans() {
    if !require_root("trunk_link_between_two_switches_carries_vlans") {
        return;
    }
    let sw1 = Switchd::with_bridge("br0");
    let sw2 = Switchd::with_bridge("br0");
    // One veth pair between the two switches' namespaces, a plain system
    // port on both sides: a trunk of all VLANs by default.
    let (l1, l2) = veth_into(&sw1, &sw2.ns);
    sw1.ctl_ok(&["add-port", "br0", &l1]);
    sw2.ctl_ok(&["add-port", "br0", &l2]);
    let a10 = host_on_tap_with(&sw1, "br0", "10.0.0.1", &["tag=10"]);
    let a20 = host_on_veth_with(&sw1, "br0", "10.0.0.2", &["tag=20"]);
    let b10 = host_on_veth_with(&sw2, "br0", "10.0.0.3", &["tag=10"]);
    let b20 = host_on_tap_with(&sw2, "br0", "10.0.0.4", &["tag=20"]);
    for (sw, l) in [(&sw1, &l1), (&sw2, &l2)] {
        let info = sw.port_info(l).unwrap();
        assert_eq!(info["vlan_mode"], "trunk", "{info}");
        assert_eq!(info["state"]["state"], "up", "{info}");
    }

    // What sw1 sends over the link, seen from sw2's end.
    let link = Sniffer::open(&sw2.ns, &l2);
    assert_pings(&a10, &b10);
    assert_pings(&a20, &b20);
    let crossed = link.collect(Duration::ZERO);
    let echo_tag = |mac: [u8; 6]| {
        crossed
            .iter()
            .find(|f| is_icmp_echo(f) && from_mac(f, mac))
            .map(|f| outer_tag(f))
    };
    assert_eq!(
        echo_tag(a10.mac_bytes()),
        Some(Some(q(10))),
        "a10's echo on the link"
    );
    assert_eq!(
        echo_tag(a20.mac_bytes()),
        Some(Some(q(20))),
        "a20's echo on the link"
    );
    let untagged_frames: Vec<_> = crossed.iter().filter(|f| outer_tag(f).is_none()).collect();
    assert!(
        untagged_frames.is_empty(),
        "untagged frames crossed the trunk: {untagged_frames:02x?}"
    );

    // Isolation across the link, both ways.
    for (from, to, same, other) in [(&a10, &b20, &b10, &b20), (&b20, &a10, &a20, &a10)] {
        let (s_same, s_other) = (same.sniffer(), other.sniffer());
        assert!(
            !from.ping_once(&to.ip),
            "{} reached {} across VLANs",
            from.ip,
            to.ip
        );
        let mac = from.mac_bytes();
        assert!(
            s_same.wait_for(WAIT, |f| is_arp(f) && from_mac(f, mac)),
            "{}'s ARP did not cross the link to {}",
            from.ip,
            same.ip
        );
        std::thread::sleep(SETTLE);
        let leaked: Vec<_> = s_other
            .collect(Duration::ZERO)
            .into_iter()
            .filter(|f| from_mac(f, mac))
            .collect();
        assert!(
            leaked.is_empty(),
            "{} got {}'s frames: {leaked:02x?}",
            other.ip,
            from.ip
        );
    }

    // Only VLAN 10 on sw1's side of the link.
    sw1.ctl_ok(&["set", "port", &l1, "trunks=10"]);
    let info = sw1.port_info(&l1).unwrap();
    assert_eq!(info["vlan_mode"], "trunk", "{info}");
    assert_eq!(info["config"]["trunks"], "10", "{info}");
    assert_pings(&a10, &b10);
    let link = Sniffer::open(&sw2.ns, &l2);
    let dropped_before = sw1.drops("br0", &l1, "vlan-not-allowed");
    assert!(
        !a20.ping_once(&b20.ip),
        "VLAN 20 crossed a link with trunks=10 (a20 -> b20)"
    );
    assert!(
        !b20.ping_once(&a20.ip),
        "VLAN 20 crossed a link with trunks=10 (b20 -> a20)"
    );
    // b20's frames reached sw1 tagged 20 and were refused there, counted.
    assert!(
        poll_until(WAIT, || sw1.drops("br0", &l1, "vlan-not-allowed")
            > dropped_before),
        "VLAN-20 frames from sw2 not counted as vlan-not-allowed on {l1}: {}",
        sw1.port_stats("br0", &l1)
    );
    // And sw1 sent nothing but VLAN 10 over the link while a20 tried: a10's
    // marker, sent after both failed pings, closes the window looked at.
    a10.inject(&marker(a10.mac_bytes(), "after-vlan20"));
    let seen = link.until_marker(WAIT, "after-vlan20");
    let v20: Vec<_> = seen
        .iter()
        .filter(|f| outer_tag(f).map(|t| t.vid) != Some(10))
        .collect();
    assert!(
        v20.is_empty(),
        "sw1 sent frames outside VLAN 10 over the link: {v20:02x?}"
    );

    // Now only VLAN 20.
    sw1.ctl_ok(&["set", "port", &l1, "trunks=20"]);
    assert_pings(&a20, &b20);
    assert!(!a10.ping_once(&b10.ip), "VLAN 10 crossed a link with trunks=20");
    assert!(!b10.ping_once(&a10.ip), "VLAN 10 crossed a link with trunks=20");

    // All VLANs again.
    sw1.ctl_ok(&["clear", "port", &l1, "trunks"]);
    assert_pings(&a10, &b10);
    assert_pings(&a20, &b20);
}

#[test]
fn tagged_frames_reach_their_access_ports_untagged_and_access_ports_drop_tags() {
    if !require_root("tagged_frames_reach_their_access_ports_untagged_and_access_ports_drop_tags") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let t = host_on_veth(&sw, "br0", "10.0.9.1"); // trunk, all VLANs
    let a10 = host_on_tap_with(&sw, "br0", "10.0.0.1", &["tag=10"]);
    let b10 = host_on_veth_with(&sw, "br0", "10.0.0.2", &["tag=10"]);
    let a20 = host_on_veth_with(&sw, "br0", "10.0.0.3", &["tag=20"]);
    let (st, sa10, sb10, sa20) = (t.sniffer(), a10.sniffer(), b10.sniffer(), a20.sniffer());
    // A station behind the trunk.
    let y = [0x02, 0, 0x5e, 0, 0x10, 0x01];

    let f = tagged(&bcast(y, "trunk-vid10"), q(10));
    t.inject(&f);
    expect_delivery(
        "broadcast tagged 10 from the trunk",
        &f,
        &[
            ("a10", &sa10, Untagged),
            ("b10", &sb10, Untagged),
            ("a20", &sa20, Nothing),
            ("trunk", &st, Nothing),
        ],
    );
    let f = tagged(&bcast(y, "trunk-vid20"), q(20));
    t.inject(&f);
    expect_delivery(
        "broadcast tagged 20 from the trunk",
        &f,
        &[
            ("a10", &sa10, Nothing),
            ("b10", &sb10, Nothing),
            ("a20", &sa20, Untagged),
        ],
    );
    // VLAN 30 is admitted by the trunk (and learned) but no other port has it.
    let f = tagged(&bcast(y, "trunk-vid30"), q(30));
    t.inject(&f);
    assert_fdb_of(
        &sw,
        &mac_str(y),
        &[entry(&t.port, 10), entry(&t.port, 20), entry(&t.port, 30)],
    );
    expect_delivery(
        "broadcast tagged 30 from the trunk",
        &f,
        &[
            ("a10", &sa10, Nothing),
            ("b10", &sb10, Nothing),
            ("a20", &sa20, Nothing),
        ],
    );

    // Known unicast is looked up in the frame's VLAN: a10's MAC is known in
    // VLAN 10 only, so in VLAN 20 the same destination is unknown and floods
    // there (to a20), never to a10.
    let am = a10.mac_bytes();
    a10.inject(&bcast(am, "a10-hello"));
    assert_fdb_of(&sw, &a10.mac, &[entry(&a10.port, 10)]);
    let f = tagged(&frame(am, y, MARKER_ETHERTYPE, b"unicast-to-a10-vid10"), q(10));
    t.inject(&f);
    expect_delivery(
        "unicast to a10 tagged 10",
        &f,
        &[
            ("a10", &sa10, Untagged),
            ("b10", &sb10, Nothing),
            ("a20", &sa20, Nothing),
        ],
    );
    let f = tagged(&frame(am, y, MARKER_ETHERTYPE, b"unicast-to-a10-vid20"), q(20));
    t.inject(&f);
    expect_delivery(
        "unicast to a10's MAC tagged 20",
        &f,
        &[
            ("a10", &sa10, Nothing),
            ("b10", &sb10, Nothing),
            ("a20", &sa20, Untagged),
        ],
    );

    // Access ports (TAP and veth) refuse tagged frames, even of their own VLAN.
    let bm = b10.mac_bytes();
    let refused = [
        (&a10, tagged(&bcast(am, "a10-tagged-10"), q(10))),
        (&a10, tagged(&bcast(am, "a10-tagged-20"), q(20))),
        (&b10, tagged(&bcast(bm, "b10-tagged-10"), q(10))),
        (&b10, tagged(&bcast(bm, "b10-tagged-20"), q(20).pcp(3))),
    ];
    for (h, f) in &refused {
        h.inject(f);
    }
    assert_drops(&sw, &a10.port, "vlan-not-allowed", 2);
    assert_drops(&sw, &b10.port, "vlan-not-allowed", 2);
    for (h, f) in &refused {
        expect_delivery(
            &format!("tagged frame {:?} from access port {}", outer_tag(f), h.port),
            f,
            &[
                ("trunk", &st, Nothing),
                ("a10", &sa10, Nothing),
                ("b10", &sb10, Nothing),
                ("a20", &sa20, Nothing),
            ],
        );
    }
    // A VID-0 priority tag counts as untagged: VLAN 10, and the PCP goes on.
    let f = tagged(&bcast(am, "a10-priority-tag"), q(0).pcp(6));
    a10.inject(&f);
    expect_delivery(
        "priority-tagged frame from access port a10",
        &f,
        &[
            ("trunk", &st, Tagged(q(10).pcp(6))),
            ("b10", &sb10, Untagged),
            ("a20", &sa20, Nothing),
        ],
    );
    assert_eq!(sw.drops("br0", &a10.port, "vlan-not-allowed"), 2);
}

#[test]
fn native_ports_emit_the_tagging_spec_says() {
    if !require_root("native_ports_emit_the_tagging_spec_says") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a10 = host_on_veth_with(&sw, "br0", "10.0.0.1", &["tag=10"]);
    let a20 = host_on_tap_with(&sw, "br0", "10.0.0.2", &["tag=20"]);
    let nt = host_on_veth_with(
        &sw,
        "br0",
        "10.0.1.1",
        &["vlan_mode=native-tagged", "tag=10", "trunks=20"],
    );
    let nu = host_on_tap_with(
        &sw,
        "br0",
        "10.0.1.2",
        &["vlan_mode=native-untagged", "tag=10", "trunks=20"],
    );
    let t = host_on_veth(&sw, "br0", "10.0.9.1"); // trunk, all VLANs
    let r = host_on_veth_with(&sw, "br0", "10.0.9.2", &["trunks=20"]); // trunk of VLAN 20 only
    let sn = |h: &Host| h.sniffer();
    let (sa10, sa20, snt, snu, st, sr) = (sn(&a10), sn(&a20), sn(&nt), sn(&nu), sn(&t), sn(&r));

    // Per sender and tag (None: untagged), what each port's host receives:
    // N nothing, U untagged, tg(v) tagged with VLAN v (PCP 0), p4(v) the same
    // with PCP 4.
    const N: Rx = Nothing;
    const U: Rx = Untagged;
    let tg = |v: u16| Tagged(q(v));
    let p4 = |v: u16| Tagged(q(v).pcp(4));
    #[rustfmt::skip]
    let cases: [(&Host, Option<VlanTag>, [Rx; 6]); 11] = [
        //                          a10  a20  n-tagged n-untagged trunk   trunk-20
        // VLAN 10 from an access port: native-tagged tags it, native-untagged does not.
        (&a10, None,              [N,   N,   tg(10),  U,         tg(10), N]),
        // VLAN 20, a trunk VLAN of both native ports: tagged on both.
        (&a20, None,              [N,   N,   tg(20),  tg(20),    tg(20), tg(20)]),
        // Untagged into a native port: its native VLAN.
        (&nt,  None,              [U,   N,   N,       U,         tg(10), N]),
        (&nu,  None,              [U,   N,   tg(10),  N,         tg(10), N]),
        // Tagged with the native VLAN or a trunk VLAN: admitted.
        (&nt,  Some(q(10)),       [U,   N,   N,       U,         tg(10), N]),
        (&nu,  Some(q(20)),       [N,   U,   tg(20),  N,         tg(20), tg(20)]),
        // A priority tag into a native port: native VLAN, PCP kept where tagged.
        (&nu,  Some(q(0).pcp(4)), [U,   N,   p4(10),  N,         p4(10), N]),
        // From a plain trunk.
        (&t,   Some(q(10)),       [U,   N,   tg(10),  U,         N,      N]),
        (&t,   Some(q(20)),       [N,   U,   tg(20),  tg(20),    N,      tg(20)]),
        // Untagged on a plain trunk is VLAN 0, which no other port carries.
        (&t,   None,              [N,   N,   N,       N,         N,      N]),
        // A restricted trunk admits its VLAN.
        (&r,   Some(q(20)),       [N,   U,   tg(20),  tg(20),    tg(20), N]),
    ];
    let names = [
        "a10",
        "a20",
        "native-tagged",
        "native-untagged",
        "trunk",
        "trunk-20",
    ];
    let sniffers = [&sa10, &sa20, &snt, &snu, &st, &sr];
    for (i, (h, tag, want)) in cases.iter().enumerate() {
        let base = bcast(h.mac_bytes(), &format!("native-case-{i}"));
        let f = tag.map_or_else(|| base.clone(), |t| tagged(&base, t));
        h.inject(&f);
        if want.iter().all(|w| *w == Nothing) {
            // Nothing to wait for: the proof that the frame was processed is
            // its source learned in VLAN 0.
            let learned = poll_until(WAIT, || fdb_of(&sw, &h.mac).contains(&entry(&h.port, 0)));
            assert!(
                learned,
                "case {i}: {} not learned in VLAN 0: {:?}",
                h.mac,
                sw.fdb("br0")
            );
        }
        let watch: Vec<_> = names
            .iter()
            .zip(sniffers)
            .zip(want)
            .map(|((n, s), w)| (*n, s, *w))
            .collect();
        expect_delivery(&format!("case {i}: from {} with tag {tag:?}", h.port), &f, &watch);
    }

    // Refused at ingress: a VLAN outside S ∪ {T} on a native port, untagged
    // (VLAN 0) or another VLAN on a restricted trunk.
    let refused = [
        (&nu, Some(q(30))),
        (&nt, Some(q(30))),
        (&r, None),
        (&r, Some(q(10))),
    ];
    let mut sent = Vec::new();
    for (h, tag) in refused {
        let base = bcast(h.mac_bytes(), &format!("refused-{}-{tag:?}", h.port));
        let f = tag.map_or_else(|| base.clone(), |t| tagged(&base, t));
        h.inject(&f);
        sent.push(f);
    }
    assert_drops(&sw, &nu.port, "vlan-not-allowed", 1);
    assert_drops(&sw, &nt.port, "vlan-not-allowed", 1);
    assert_drops(&sw, &r.port, "vlan-not-allowed", 2);
    for f in &sent {
        let watch: Vec<_> = names
            .iter()
            .zip(sniffers)
            .map(|(n, s)| (*n, s, Nothing))
            .collect();
        expect_delivery(&format!("refused frame tagged {:?}", outer_tag(f)), f, &watch);
    }
}

#[test]
fn learning_is_per_vlan() {
    if !require_root("learning_is_per_vlan") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a10 = host_on_tap_with(&sw, "br0", "10.0.0.1", &["tag=10"]);
    let a20 = host_on_veth_with(&sw, "br0", "10.0.0.2", &["tag=20"]);
    let t = host_on_veth(&sw, "br0", "10.0.9.1"); // trunk, all VLANs
    let (sa10, sa20) = (a10.sniffer(), a20.sniffer());

    // One MAC, behind two ports, in two VLANs.
    let x = [0x02, 0, 0x5e, 0, 0x20, 0x01];
    let xs = mac_str(x);
    a10.inject(&bcast(x, "x-in-vlan10"));
    a20.inject(&bcast(x, "x-in-vlan20"));
    assert_fdb_of(&sw, &xs, &[entry(&a10.port, 10), entry(&a20.port, 20)]);
    let text = sw.ctl_ok(&["fdb-show", "br0"]);
    for (port, vlan) in [(&a10.port, "10"), (&a20.port, "20")] {
        assert!(
            text.lines().any(|l| {
                let w: Vec<_> = l.split_whitespace().collect();
                w.len() >= 3 && w[0] == port && w[1] == vlan && w[2] == xs
            }),
            "fdb-show lacks `{port} {vlan} {xs}`:\n{text}"
        );
    }

    // Each entry answers for its own VLAN.
    let y = [0x02, 0, 0x5e, 0, 0x20, 0x02];
    for (vid, want10, want20) in [(10, Untagged, Nothing), (20, Nothing, Untagged)] {
        let f = tagged(
            &frame(x, y, MARKER_ETHERTYPE, format!("to-x-{vid}").as_bytes()),
            q(vid),
        );
        t.inject(&f);
        expect_delivery(
            &format!("unicast to x tagged {vid}"),
            &f,
            &[("a10", &sa10, want10), ("a20", &sa20, want20)],
        );
    }

    // x moving to the trunk in VLAN 10 moves the VLAN-10 entry only.
    t.inject(&tagged(&bcast(x, "x-moves-in-10"), q(10)));
    assert_fdb_of(&sw, &xs, &[entry(&t.port, 10), entry(&a20.port, 20)]);
    // And a third VLAN adds a third entry.
    t.inject(&tagged(&bcast(x, "x-in-30"), q(30)));
    assert_fdb_of(
        &sw,
        &xs,
        &[entry(&t.port, 10), entry(&a20.port, 20), entry(&t.port, 30)],
    );
}

#[test]
fn pcp_and_dei_are_kept_and_8021ad_leaves_as_8021q() {
    if !require_root("pcp_and_dei_are_kept_and_8021ad_leaves_as_8021q") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let t1 = host_on_veth(&sw, "br0", "10.0.9.1"); // trunk
    let t2 = host_on_tap(&sw, "br0", "10.0.9.2"); // trunk
    let a10 = host_on_veth_with(&sw, "br0", "10.0.0.1", &["tag=10"]);
    let a20 = host_on_tap_with(&sw, "br0", "10.0.0.2", &["tag=20"]);
    let (st1, st2, sa10, sa20) = (t1.sniffer(), t2.sniffer(), a10.sniffer(), a20.sniffer());
    let src = [0x02, 0, 0x5e, 0, 0x30, 0x01];

    let ad = TPID_8021AD;
    let cases = [
        // Kept as it is: VID, PCP, DEI.
        (q(10).pcp(5), Tagged(q(10).pcp(5)), Untagged, Nothing),
        (q(20).pcp(5).dei(), Tagged(q(20).pcp(5).dei()), Nothing, Untagged),
        // 802.1ad in, 802.1Q out, same TCI.
        (q(20).pcp(3).tpid(ad), Tagged(q(20).pcp(3)), Nothing, Untagged),
        (
            q(10).pcp(7).dei().tpid(ad),
            Tagged(q(10).pcp(7).dei()),
            Untagged,
            Nothing,
        ),
        // A priority tag on a trunk is VLAN 0, which leaves untagged (no VID-0 tags).
        (q(0).pcp(4), Untagged, Nothing, Nothing),
    ];
    for (i, (tag, at_t2, at_a10, at_a20)) in cases.into_iter().enumerate() {
        let f = tagged(&bcast(src, &format!("pcp-case-{i}")), tag);
        t1.inject(&f);
        expect_delivery(
            &format!("from trunk t1 with tag {tag:?}"),
            &f,
            &[
                ("t2", &st2, at_t2),
                ("a10", &sa10, at_a10),
                ("a20", &sa20, at_a20),
            ],
        );
    }

    // A priority tag on an access port moves into a real tag with its PCP.
    let f = tagged(&bcast(a10.mac_bytes(), "a10-prio"), q(0).pcp(5).dei());
    a10.inject(&f);
    expect_delivery(
        "priority-tagged from access port a10",
        &f,
        &[
            ("t1", &st1, Tagged(q(10).pcp(5).dei())),
            ("t2", &st2, Tagged(q(10).pcp(5).dei())),
            ("a20", &sa20, Nothing),
        ],
    );
    // From a TAP trunk as well (the tag reaches switchd as frame data there).
    let f = tagged(&bcast(t2.mac_bytes(), "t2-ad"), q(10).pcp(2).tpid(ad));
    t2.inject(&f);
    expect_delivery(
        "802.1ad from TAP trunk t2",
        &f,
        &[
            ("t1", &st1, Tagged(q(10).pcp(2))),
            ("a10", &sa10, Untagged),
            ("a20", &sa20, Nothing),
        ],
    );
}

#[test]
fn egress_mtu_check_accounts_for_the_tag() {
    if !require_root("egress_mtu_check_accounts_for_the_tag") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    // veth devices with the default MTU 1500.
    let a10 = host_on_veth_with(&sw, "br0", "10.0.0.1", &["tag=10"]);
    let b10 = host_on_veth_with(&sw, "br0", "10.0.0.2", &["tag=10"]);
    let t = host_on_veth(&sw, "br0", "10.0.9.1"); // trunk
    for h in [&a10, &b10, &t] {
        assert_eq!(sw.port_info(&h.port).unwrap()["mtu"], 1500);
    }
    let (sa10, sb10, st) = (a10.sniffer(), b10.sniffer(), t.sniffer());
    let am = a10.mac_bytes();
    // An untagged frame with `payload` bytes after the Ethernet header.
    let sized = |src: [u8; 6], payload: usize, name: &str| {
        let mut p = name.as_bytes().to_vec();
        p.resize(payload, 0xa5);
        frame(BROADCAST, src, MARKER_ETHERTYPE, &p)
    };

    // An MTU-sized frame (1514 bytes) from an access port leaves the trunk
    // tagged (1518 bytes): as on Linux, the tag is not payload.
    let f = sized(am, 1500, "mtu-sized-1");
    assert_eq!(f.len(), 1514);
    a10.inject(&f);
    expect_delivery(
        "1500-byte payload, access -> trunk with mtu 1500",
        &f,
        &[("trunk", &st, Tagged(q(10))), ("b10", &sb10, Untagged)],
    );
    assert_eq!(sw.drops("br0", &t.port, "too-big"), 0);

    // A trunk mtu that leaves no room for it: dropped there, counted
    // `too-big` on the trunk; the access port still gets its copy.
    sw.ctl_ok(&["set", "port", &t.port, "mtu=1499"]);
    assert_eq!(sw.port_info(&t.port).unwrap()["mtu"], 1499);
    let f = sized(am, 1500, "mtu-sized-2");
    a10.inject(&f);
    expect_delivery(
        "1500-byte payload, access -> trunk with mtu 1499",
        &f,
        &[("trunk", &st, Nothing), ("b10", &sb10, Untagged)],
    );
    assert_drops(&sw, &t.port, "too-big", 1);
    let stats = sw.port_stats("br0", &t.port);
    assert!(stats["tx_dropped"].as_u64().unwrap() >= 1, "{stats}");
    assert_eq!(sw.drops("br0", &b10.port, "too-big"), 0);
    // One byte less fits exactly, tag included (1517 bytes on the wire).
    let f = sized(am, 1499, "fits-1499");
    a10.inject(&f);
    expect_delivery(
        "1499-byte payload, access -> trunk with mtu 1499",
        &f,
        &[("trunk", &st, Tagged(q(10))), ("b10", &sb10, Untagged)],
    );
    assert_eq!(sw.drops("br0", &t.port, "too-big"), 1);

    // The other way: a tagged 1518-byte frame loses its tag and fits an
    // access port with mtu 1500, not one with mtu 1499.
    let y = [0x02, 0, 0x5e, 0, 0x40, 0x01];
    let f = tagged(&sized(y, 1500, "tagged-1500-a"), q(10));
    assert_eq!(f.len(), 1518);
    t.inject(&f);
    expect_delivery(
        "tagged 1500-byte payload, trunk -> access with mtu 1500",
        &f,
        &[("a10", &sa10, Untagged), ("b10", &sb10, Untagged)],
    );
    sw.ctl_ok(&["set", "port", &a10.port, "mtu=1499"]);
    let f = tagged(&sized(y, 1500, "tagged-1500-b"), q(10));
    t.inject(&f);
    expect_delivery(
        "tagged 1500-byte payload, trunk -> access with mtu 1499",
        &f,
        &[("a10", &sa10, Nothing), ("b10", &sb10, Untagged)],
    );
    assert_drops(&sw, &a10.port, "too-big", 1);
    assert_eq!(sw.drops("br0", &b10.port, "too-big"), 0);
}

/// The line of the text `show` that describes `port`.
fn show_line(sw: &Switchd, port: &str) -> String {
    let text = sw.ctl_ok(&["show"]);
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(port))
        .unwrap_or_else(|| panic!("show has no line for {port}:\n{text}"))
        .to_string()
}

#[test]
fn show_prints_the_effective_vlan_mode() {
    if !require_root("show_prints_the_effective_vlan_mode") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let ports: Vec<(String, Vec<&str>, &str, &str)> = vec![
        (unique("p"), vec![], "trunk", "trunk all"),
        (unique("p"), vec!["tag=10"], "access", "access tag=10"),
        (
            unique("p"),
            vec!["vlan_mode=access", "tag=7"],
            "access",
            "access tag=7",
        ),
        (
            unique("p"),
            vec!["trunks=10,20,100-110"],
            "trunk",
            "trunk 10,20,100-110",
        ),
        (
            unique("p"),
            vec!["vlan_mode=native-tagged", "tag=10", "trunks=20"],
            "native-tagged",
            "native-tagged tag=10 trunks=20",
        ),
        (
            unique("p"),
            vec!["vlan_mode=native-untagged", "tag=5"],
            "native-untagged",
            "native-untagged tag=5 trunks=all",
        ),
    ];
    for (name, settings, _, _) in &ports {
        let mut args = vec!["add-port", "br0", name.as_str(), "type=tap"];
        args.extend_from_slice(settings);
        sw.ctl_ok(&args);
    }
    let check = |name: &str, mode: &str, column: &str| {
        let info = sw.port_info(name).unwrap();
        assert_eq!(info["vlan_mode"], mode, "{info}");
        let line = show_line(&sw, name);
        assert!(
            line.contains(&format!(" {column} ")),
            "show line of {name} lacks {column:?}: {line:?}"
        );
    };
    for (name, _, mode, column) in &ports {
        check(name, mode, column);
    }

    // Changes show up as the mode they result in.
    let p = |i: usize| ports[i].0.as_str();
    sw.ctl_ok(&["set", "port", p(0), "tag=30"]);
    check(p(0), "access", "access tag=30");
    sw.ctl_ok(&["clear", "port", p(1), "tag"]);
    check(p(1), "trunk", "trunk all");
    sw.ctl_ok(&["clear", "port", p(2), "vlan_mode"]);
    check(p(2), "access", "access tag=7");
    sw.ctl_ok(&["set", "port", p(4), "vlan_mode=native-untagged"]);
    check(p(4), "native-untagged", "native-untagged tag=10 trunks=20");
    // Without an explicit mode, tag alone means access.
    sw.ctl_ok(&["clear", "port", p(5), "vlan_mode"]);
    check(p(5), "access", "access tag=5");
    let info = sw.port_info(p(5)).unwrap();
    assert!(info["config"]["vlan_mode"].is_null(), "{info}");
}

#[test]
fn contradictory_vlan_settings_are_refused_and_change_nothing() {
    if !require_root("contradictory_vlan_settings_are_refused_and_change_nothing") {
        return;
    }
    // tests/control.rs covers `set port` of trunks on an access port, access
    // or native modes without a tag; here: add-port, clear, the remaining
    // set combinations, and that forwarding does not change either.
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_veth_with(&sw, "br0", "10.0.0.1", &["tag=10"]);
    let h2 = host_on_tap_with(&sw, "br0", "10.0.0.2", &["vlan_mode=access", "tag=10"]);
    let nu = unique("p");
    sw.ctl_ok(&[
        "add-port",
        "br0",
        &nu,
        "type=tap",
        "vlan_mode=native-untagged",
        "tag=10",
        "trunks=20",
    ]);
    let tr = unique("p");
    sw.ctl_ok(&["add-port", "br0", &tr, "type=tap", "trunks=10"]);
    assert_pings(&h1, &h2);
    let before = sw.snapshot();
    let x = unique("x");

    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "add-port",
                "br0",
                &x,
                "type=tap",
                "vlan_mode=access",
                "tag=3",
                "trunks=1,2",
            ],
            "trunks",
        ),
        (
            &["add-port", "br0", &x, "type=tap", "tag=3", "trunks=1,2"],
            "trunks",
        ),
        (
            &["add-port", "br0", &x, "type=tap", "vlan_mode=trunk", "tag=3"],
            "tag",
        ),
        (
            &[
                "add-port",
                "br0",
                &x,
                "type=tap",
                "vlan_mode=native-tagged",
                "trunks=5",
            ],
            "tag",
        ),
        (
            &["add-port", "br0", &x, "type=tap", "vlan_mode=native-untagged"],
            "tag",
        ),
        (&["add-port", "br0", &x, "type=tap", "vlan_mode=access"], "tag"),
        // clear leaving a contradiction behind
        (&["clear", "port", &nu, "tag"], "tag"),
        (&["clear", "port", &h2.port, "tag"], "tag"),
        // set
        (&["set", "port", &tr, "tag=5"], "trunks"),
        (&["set", "port", &tr, "vlan_mode=access"], "tag"),
        (&["set", "port", &h2.port, "vlan_mode=trunk"], "tag"),
        (&["set", "port", &nu, "vlan_mode=trunk"], "tag"),
        (&["set", "port", &nu, "vlan_mode=access"], "trunks"),
        (&["set", "port", &h1.port, "vlan_mode=trunk"], "tag"),
        // all or nothing: tag=20 alone would be valid
        (&["set", "port", &h1.port, "tag=20", "vlan_mode=trunk"], "tag"),
        (&["set", "port", &h1.port, "tag=20", "trunks=30"], "trunks"),
    ];
    let mut problems = Vec::new();
    for (args, needle) in cases {
        let out = sw.ctl(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.success() {
            problems.push(format!("{args:?} succeeded but must fail"));
            continue;
        }
        match stderr.lines().collect::<Vec<_>>().as_slice() {
            [line] if line.starts_with("switchctl: ") => {
                if !line.to_lowercase().contains(needle) {
                    problems.push(format!("{args:?}: error {line:?} does not mention {needle:?}"));
                }
            }
            _ => problems.push(format!(
                "{args:?}: stderr is not one `switchctl:` line: {stderr:?}"
            )),
        }
        let after = sw.snapshot();
        if after.0 != before.0 {
            problems.push(format!("{args:?} was refused but changed `show`: {}", after.0));
        }
        if after.1 != before.1 {
            problems.push(format!("{args:?} was refused but rewrote the db"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} contradictory commands misbehaved:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
    assert!(!sw.ns.has_link(&x), "a refused add-port left device {x} behind");

    // The engine did not change either: h1 is still an access port of VLAN 10.
    let s2 = h2.sniffer();
    let f = bcast(h1.mac_bytes(), "still-access-10");
    h1.inject(&f);
    expect_delivery("h1's frame after refused changes", &f, &[("h2", &s2, Untagged)]);
    let f = tagged(&bcast(h1.mac_bytes(), "still-refuses-tags"), q(20));
    h1.inject(&f);
    assert_drops(&sw, &h1.port, "vlan-not-allowed", 1);
    expect_delivery("h1's tagged frame", &f, &[("h2", &s2, Nothing)]);
    assert_pings(&h1, &h2);
}

//! Bonds and LACP end to end (SPEC §8), against Open vSwitch: this kernel
//! has no bonding or team driver, so the peer is a private OVS instance with
//! a bond over the other ends of two veth pairs. Checks what users rely on:
//! LACP negotiates, hosts behind each side ping without duplicates in every
//! mode, the balance modes use both members, failover is quick, a silent
//! partner is noticed, a bond without a partner is safe, bad input changes
//! nothing, and bonds survive a restart.

mod common;

use std::time::{Duration, Instant};

use common::peers::Ovs;
use common::*;
use serde_json::Value;

/// switchd (bridge br0, bond `bond0` over two cables) facing an OVS bridge
/// `ob` with a bond `ovsbond` over the other ends, one host behind each.
struct Rig {
    sw: Switchd,
    ovs: Ovs,
    members: [String; 2],
    ovs_members: [String; 2],
    hs: Host,
    ho_ns: Netns,
    /// The OVS-side host's interface.
    ho_if: String,
}

const HS_IP: &str = "10.0.5.1";
const HO_IP: &str = "10.0.5.2";

/// `theirs`: the OVS bond's settings, or `None` for two plain ports of the
/// OVS bridge (an upstream switch that does not bond: what active-backup and
/// SLB without LACP are for, since two active-backup ends would each pick
/// their own active member and drop what the other sends).
fn rig(ours: &[&str], theirs: Option<&[&str]>) -> Rig {
    let ovs = Ovs::start();
    ovs.add_br("ob", &[]);
    let sw = Switchd::with_bridge("br0");
    let (s1, o1) = cable(&sw.ns, &ovs.ns);
    let (s2, o2) = cable(&sw.ns, &ovs.ns);
    match theirs {
        Some(theirs) => {
            let mut args = vec!["add-bond", "ob", "ovsbond", &o1, &o2];
            args.extend_from_slice(theirs);
            ovs.vsctl(&args);
        }
        None => {
            ovs.vsctl(&["add-port", "ob", &o1]);
            ovs.vsctl(&["add-port", "ob", &o2]);
        }
    }
    let mut args = vec!["add-bond", "br0", "bond0", &s1, &s2];
    args.extend_from_slice(ours);
    sw.ctl_ok(&args);
    let hs = host_on_veth(&sw, "br0", HS_IP);
    let (ho_ns, ho_if) = ovs.host("ob", HO_IP);
    Rig {
        sw,
        ovs,
        members: [s1, s2],
        ovs_members: [o1, o2],
        hs,
        ho_ns,
        ho_if,
    }
}

fn bond_show(sw: &Switchd) -> Value {
    sw.ctl_json(&["bond-show", "bond0"])["bonds"][0].clone()
}

fn lacp_show(sw: &Switchd) -> Value {
    sw.ctl_json(&["lacp-show", "bond0"])["bonds"][0].clone()
}

fn member<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["member"] == name)
        .unwrap_or_else(|| panic!("no member {name} in {v}"))
}

fn negotiated(sw: &Switchd) -> bool {
    let l = lacp_show(sw);
    l["status"] == "negotiated"
        && l["members"].as_array().is_some_and(|ms| {
            ms.iter().all(|m| {
                let has = |k: &str, f: &str| m[k].as_array().unwrap().iter().any(|x| x == f);
                has("actor_state", "collecting")
                    && has("actor_state", "distributing")
                    && has("partner_state", "collecting")
                    && has("partner_state", "distributing")
            })
        })
}

/// Hosts on several MACs of `ns` (macvlan-free: extra IPs on one interface
/// share a MAC, so flows differ by IP), each pinging the other side once.
fn flows(r: &Rig, n: u8) {
    for i in 0..n {
        let ip = format!("10.0.5.{}", 100 + i);
        r.hs.ns
            .ip_ok(&["addr", "add", &format!("{ip}/24"), "dev", &r.hs.ifname]);
        r.hs.ns
            .exec(&["ping", "-c", "3", "-i", "0.2", "-W", "1", "-q", "-I", &ip, HO_IP]);
    }
}

fn tx_bytes(sw: &Switchd, m: &str) -> u64 {
    member(&bond_show(sw), m)["tx_bytes"].as_u64().unwrap()
}

#[test]
fn lacp_negotiates_with_open_vswitch_and_traffic_uses_both_members() {
    if !require_root("lacp_negotiates_with_open_vswitch_and_traffic_uses_both_members") {
        return;
    }
    let r = rig(
        &["lacp=active", "lacp_time=fast", "bond_mode=balance-tcp"],
        Some(&[
            "lacp=active",
            "bond_mode=balance-tcp",
            "other_config:lacp-time=fast",
        ]),
    );
    converge(
        15,
        "LACP negotiated, both members collecting and distributing",
        || negotiated(&r.sw),
    );
    let l = lacp_show(&r.sw);
    let ovs_lacp = r.ovs.appctl(&["lacp/show", "ovsbond"]);
    let our_id = l["actor"]["system_id"].as_str().unwrap().to_string();
    assert!(
        ovs_lacp.contains(&our_id),
        "OVS does not show {our_id} as partner:\n{ovs_lacp}"
    );
    let their_id = l["partner"]["system_id"].as_str().unwrap().to_string();
    assert!(
        ovs_lacp.contains(&their_id),
        "{their_id} is not OVS's system id:\n{ovs_lacp}"
    );
    assert_eq!(l["partner"]["system_priority"], 65534);
    converge(10, "hosts ping", || r.hs.ping_once(HO_IP));
    let PingSeries {
        replies,
        duplicates: dups,
        ..
    } = ping_series(&r.hs.ns, HO_IP, 20, 3, || {});
    assert!(replies > 50, "{replies} replies");
    assert_eq!(dups, 0, "duplicate replies");
    let before = [tx_bytes(&r.sw, &r.members[0]), tx_bytes(&r.sw, &r.members[1])];
    flows(&r, 12);
    let after = [tx_bytes(&r.sw, &r.members[0]), tx_bytes(&r.sw, &r.members[1])];
    eprintln!("member tx bytes: {before:?} -> {after:?}");
    assert!(
        after[0] > before[0] && after[1] > before[1],
        "both members carry: {before:?} -> {after:?}"
    );
}

#[test]
fn active_backup_uses_one_member_and_fails_over_quickly() {
    if !require_root("active_backup_uses_one_member_and_fails_over_quickly") {
        return;
    }
    let r = rig(&["bond_mode=active-backup"], None);
    converge(15, "hosts ping over the active-backup bond", || {
        r.hs.ping_once(HO_IP)
    });
    let b = bond_show(&r.sw);
    assert_eq!(b["lacp_status"], "off");
    let active = b["active_member"].as_str().unwrap().to_string();
    let backup = r.members.iter().find(|m| **m != active).unwrap().clone();
    let idle_before = tx_bytes(&r.sw, &backup);
    flows(&r, 8);
    assert_eq!(
        tx_bytes(&r.sw, &backup),
        idle_before,
        "the backup member sent nothing"
    );
    let PingSeries {
        replies,
        duplicates: dups,
        longest_gap: gap,
    } = ping_series(&r.hs.ns, HO_IP, 20, 4, || {
        r.sw.ns.ip_ok(&["link", "del", "dev", &active]);
    });
    eprintln!("active-backup failover: longest ping gap {gap:?} ({replies} replies)");
    assert_eq!(dups, 0);
    assert!(gap < Duration::from_secs(1), "failover took {gap:?}");
    assert_eq!(bond_show(&r.sw)["active_member"], backup.as_str());
}

#[test]
fn balance_slb_without_lacp_pings_without_duplicates() {
    if !require_root("balance_slb_without_lacp_pings_without_duplicates") {
        return;
    }
    let r = rig(&["bond_mode=balance-slb"], None);
    converge(15, "hosts ping over the SLB bond", || r.hs.ping_once(HO_IP));
    let PingSeries {
        replies,
        duplicates: dups,
        ..
    } = ping_series(&r.hs.ns, HO_IP, 20, 3, || {});
    assert!(replies > 50);
    assert_eq!(dups, 0, "duplicate replies");
    // No ARP storm: the hosts' interfaces saw a bounded number of frames.
    let rx = r.ho_ns.ip_ok(&["-s", "-j", "link"]);
    let v: Value = serde_json::from_str(&rx).unwrap();
    let total: u64 = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["stats64"]["rx"]["packets"].as_u64())
        .sum();
    assert!(total < 2000, "{total} frames reached the OVS-side host");
    // Sixteen source MACs towards the OVS-side host: SLB hashes them over
    // both members.
    let ho_mac = parse_mac(&r.ho_ns.mac(&r.ho_if));
    let before = [tx_bytes(&r.sw, &r.members[0]), tx_bytes(&r.sw, &r.members[1])];
    for i in 0..16u8 {
        let f = frame(ho_mac, [0x02, 0x5b, 0, 0, 1, i], 0x88b5, b"slb spread");
        r.hs.inject(&f);
    }
    converge(5, "both SLB members carry traffic", || {
        let after = [tx_bytes(&r.sw, &r.members[0]), tx_bytes(&r.sw, &r.members[1])];
        after[0] > before[0] && after[1] > before[1]
    });
}

#[test]
fn a_partner_that_falls_silent_is_disabled_after_three_seconds() {
    if !require_root("a_partner_that_falls_silent_is_disabled_after_three_seconds") {
        return;
    }
    let r = rig(
        &["lacp=active", "lacp_time=fast", "bond_mode=active-backup"],
        Some(&["lacp=active", "other_config:lacp-time=fast"]),
    );
    converge(15, "LACP negotiated", || negotiated(&r.sw));
    // OVS stops sending LACPDUs on its first member; carrier stays up.
    r.ovs.ofctl(&["mod-port", "ob", &r.ovs_members[0], "no-forward"]);
    let start = Instant::now();
    converge(10, "the silent member is disabled", || {
        member(&bond_show(&r.sw), &r.members[0])["enabled"] == false
    });
    let took = start.elapsed();
    eprintln!("partner timeout detected after {took:?}");
    assert!(took > Duration::from_millis(2000), "disabled too early: {took:?}");
    assert_eq!(member(&bond_show(&r.sw), &r.members[0])["carrier"], true);
    converge(10, "traffic goes on over the other member", || {
        r.hs.ping_once(HO_IP)
    });
}

#[test]
fn without_a_partner_members_stay_disabled_unless_fallback() {
    if !require_root("without_a_partner_members_stay_disabled_unless_fallback") {
        return;
    }
    // Plain OVS ports send no LACPDUs.
    let r = rig(&["lacp=active", "lacp_time=fast"], None);
    std::thread::sleep(Duration::from_secs(4));
    let b = bond_show(&r.sw);
    assert_eq!(b["lacp_status"], "configured");
    for m in &r.members {
        assert_eq!(member(&b, m)["enabled"], false, "{b}");
    }
    assert!(!r.hs.ping_once(HO_IP));
    r.sw.ctl_ok(&["set", "port", "bond0", "lacp_fallback_ab=true"]);
    converge(10, "fallback to active-backup carries traffic", || {
        bond_show(&r.sw)["lacp_status"] == "fallback" && r.hs.ping_once(HO_IP)
    });
}

#[test]
fn bad_bonds_are_refused_and_bonds_survive_a_restart() {
    if !require_root("bad_bonds_are_refused_and_bonds_survive_a_restart") {
        return;
    }
    let mut sw = Switchd::with_bridge("br0");
    let devs: Vec<String> = (0..3)
        .map(|_| {
            let (a, _b) = (unique("m"), ());
            let peer = unique("mp");
            sw.ns
                .ip_ok(&["link", "add", "dev", &a, "type", "veth", "peer", "name", &peer]);
            sw.ns.ip_ok(&["link", "set", "dev", &a, "up"]);
            sw.ns.ip_ok(&["link", "set", "dev", &peer, "up"]);
            a
        })
        .collect();
    sw.ctl_ok(&["add-port", "br0", &devs[2]]);
    let before = sw.snapshot();
    for (args, want) in [
        (
            vec!["add-bond", "br0", "bond0", &devs[0], "bond_mode=balance-tcp"],
            "at least 2",
        ),
        (
            vec![
                "add-bond",
                "br0",
                "bond0",
                &devs[0],
                &devs[1],
                "bond_mode=balance-tcp",
            ],
            "balance-tcp needs lacp",
        ),
        (vec!["add-bond", "br0", "bond0", &devs[0], &devs[2]], "already"),
        (
            vec!["add-bond", "br0", "bond0", &devs[0], "nosuchdev"],
            "no such device",
        ),
        (
            vec![
                "add-bond",
                "br0",
                "bond0",
                &devs[0],
                &devs[1],
                "bond_updelay=70000",
            ],
            "bond_updelay",
        ),
    ] {
        let e = sw.ctl_err(&args);
        assert!(e.contains(want), "{args:?}: {e}");
        assert_eq!(sw.snapshot(), before, "{args:?} changed something");
    }
    sw.ctl_ok(&[
        "add-bond",
        "br0",
        "bond0",
        &devs[0],
        &devs[1],
        "bond_mode=balance-slb",
    ]);
    let e = sw.ctl_err(&["add-port", "br0", &devs[0]]);
    assert!(e.contains("bond0"), "a member cannot be added as a port: {e}");
    sw.restart();
    let b = bond_show(&sw);
    assert_eq!(b["bond_mode"], "balance-slb");
    let names: Vec<&str> = b["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["member"].as_str().unwrap())
        .collect();
    assert_eq!(names, [devs[0].as_str(), devs[1].as_str()]);
    sw.ctl_ok(&["del-port", "bond0"]);
    assert!(
        sw.ns.has_link(&devs[0]),
        "del-port leaves the member devices alone"
    );
    sw.ctl_ok(&["add-port", "br0", &devs[0]]);
}

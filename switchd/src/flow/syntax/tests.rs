//! Tests of the flow syntax: what each construct parses to, how it prints
//! (compared with what `ovs-ofctl` 3.1 prints for the same flow), every
//! error with its exact message, and a property test that printing a
//! random valid flow and parsing it back gives the same flow.
//!
//! The differential test against the real `ovs-ofctl` is in the
//! repository's `tests/flow_syntax.rs`.

use proptest::prelude::*;

use super::*;
use crate::flow::key::{Field, VLAN_CFI};
use crate::flow::types::{ofport, Action, FlowFilter, FlowSpec, Match, NoNames, PortNames, ALL_TABLES};

/// Ports `vm1` = 1, `vm2` = 2, `uplink` = 10, plus names the printer
/// must not print (they would not read back as the same port).
struct Names;

const PORTS: &[(&str, u16)] = &[
    ("vm1", 1),
    ("vm2", 2),
    ("uplink", 10),
    ("5", 20),
    ("flood", 21),
    ("a,b", 22),
];

impl PortNames for Names {
    fn ofport(&self, name: &str) -> Option<u16> {
        PORTS.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }
    fn name(&self, ofport: u16) -> Option<&str> {
        PORTS.iter().find(|(_, p)| *p == ofport).map(|(n, _)| *n)
    }
}

fn flow(s: &str) -> FlowSpec {
    parse_flow(s, &Names).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn err(s: &str) -> String {
    match parse_flow(s, &Names) {
        Ok(f) => panic!("{s:?} was accepted: {f:?}"),
        Err(e) => e.to_string(),
    }
}

fn filter(s: &str) -> FlowFilter {
    parse_filter(s, &Names).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn filter_err(s: &str) -> String {
    match parse_filter(s, &Names) {
        Ok(f) => panic!("{s:?} was accepted: {f:?}"),
        Err(e) => e.to_string(),
    }
}

/// Parses `s`, checks it prints as `canonical` and that the canonical form
/// parses back to the same flow.
fn canon(s: &str, canonical: &str) {
    let f = flow(s);
    let printed = format_flow(&f, &Names);
    assert_eq!(printed, canonical, "printing {s:?}");
    assert_eq!(flow(&printed), f, "re-parsing {printed:?}");
}

fn m(pairs: &[(Field, u128, u128)]) -> Match {
    let mut m = Match::ANY;
    for &(f, v, mask) in pairs {
        m.set(f, v, mask);
    }
    m
}

#[test]
fn the_spec_example() {
    let f = flow("priority=100,in_port=vm1,tcp,tp_dst=22,actions=drop");
    assert_eq!(f.priority, 100);
    assert_eq!(f.table, 0);
    assert!(f.actions.is_empty());
    assert_eq!(
        f.matching,
        m(&[
            (Field::InPort, 1, 0xffff),
            (Field::DlType, 0x0800, 0xffff),
            (Field::NwProto, 6, 0xff),
            (Field::TpDst, 22, 0xffff),
        ])
    );
    // OVS's order: shorthand, in_port, ..., ports.
    assert_eq!(
        format_flow(&f, &Names),
        "priority=100,tcp,in_port=vm1,tp_dst=22 actions=drop"
    );
    assert_eq!(format_match(&f.matching, &NoNames), "tcp,in_port=1,tp_dst=22");
}

#[test]
fn flow_fields_in_any_order_and_whitespace() {
    let f = flow("  tcp  tp_dst=22 send_flow_rem,hard_timeout=20 idle_timeout=10, cookie=0x1F table=3 priority=0 actions=output:2,NORMAL");
    assert_eq!(
        (
            f.table,
            f.priority,
            f.cookie,
            f.idle_timeout,
            f.hard_timeout,
            f.send_flow_rem
        ),
        (3, 0, 0x1f, 10, 20, true)
    );
    assert_eq!(f.actions, vec![Action::Output(2), Action::Normal]);
    assert_eq!(
        format_flow(&f, &NoNames),
        "table=3,priority=0,cookie=0x1f,idle_timeout=10,hard_timeout=20,send_flow_rem,tcp,tp_dst=22 actions=output:2,NORMAL"
    );
    assert_eq!(
        flow("cookie=18446744073709551614,actions=drop").cookie,
        u64::MAX - 1
    );
    assert_eq!(flow("actions=").actions, vec![]);
    assert_eq!(format_flow(&flow("actions=drop"), &Names), "actions=drop");
}

#[test]
fn dump_flows_lines_parse_back() {
    let line = " cookie=0x0, duration=3.412s, table=0, n_packets=10, n_bytes=980, idle_age=1, priority=100,tcp,in_port=vm1,tp_dst=22 actions=drop";
    assert_eq!(
        flow(line),
        flow("priority=100,tcp,in_port=vm1,tp_dst=22,actions=drop")
    );
    // ovs-ofctl's FLOW_MOD print uses "table:1" and "cookie:0x5": its
    // tokenizer (and ours) takes ':' like '='.
    let f = flow("table:1 priority=7,tcp cookie:0x1234 send_flow_rem actions=drop");
    assert_eq!((f.table, f.cookie, f.send_flow_rem), (1, 0x1234, true));
}

#[test]
fn shorthands() {
    for (s, dl, proto) in [
        ("ip", 0x0800, None),
        ("ipv4", 0x0800, None),
        ("ipv6", 0x86dd, None),
        ("icmp", 0x0800, Some(1)),
        ("icmp6", 0x86dd, Some(58)),
        ("tcp", 0x0800, Some(6)),
        ("tcp6", 0x86dd, Some(6)),
        ("udp", 0x0800, Some(17)),
        ("udp6", 0x86dd, Some(17)),
        ("sctp", 0x0800, Some(132)),
        ("sctp6", 0x86dd, Some(132)),
        ("arp", 0x0806, None),
        ("rarp", 0x8035, None),
    ] {
        let mut want = m(&[(Field::DlType, dl, 0xffff)]);
        if let Some(p) = proto {
            want.set_exact(Field::NwProto, p);
        }
        let f = flow(&format!("{s},actions=drop"));
        assert_eq!(f.matching, want, "{s}");
        let printed = format_match(&f.matching, &NoNames);
        assert_eq!(printed, if s == "ipv4" { "ip" } else { s });
    }
    assert_eq!(flow("eth,actions=drop").matching, Match::ANY);
    // A shorthand and a consistent field, or a narrower shorthand: fine.
    canon("ip,tcp,actions=drop", "tcp actions=drop");
    canon("ip,nw_proto=6,actions=drop", "tcp actions=drop");
    canon("dl_type=0x0800,actions=drop", "ip actions=drop");
    canon("ip,nw_proto=47,actions=drop", "ip,nw_proto=47 actions=drop");
    canon("ipv6,nw_proto=47,actions=drop", "ipv6,nw_proto=47 actions=drop");
    canon("dl_type=0x88cc,actions=drop", "dl_type=0x88cc actions=drop");
}

#[test]
fn ovs_order_of_a_big_match() {
    // The same line as ovs-ofctl 3.1 parse-flow prints it.
    canon(
        "in_port=1,metadata=2,tun_id=1,reg1=7,reg0=0,tcp,dl_vlan=4,dl_src=00:00:00:00:00:01,tp_dst=4,nw_src=1.2.3.4,nw_ttl=4,nw_tos=4,nw_ecn=1,tcp_flags=+syn,actions=drop",
        "tcp,reg0=0,reg1=0x7,tun_id=0x1,metadata=0x2,in_port=vm1,dl_vlan=4,dl_src=00:00:00:00:00:01,nw_src=1.2.3.4,nw_tos=4,nw_ecn=1,nw_ttl=4,tp_dst=4,tcp_flags=+syn actions=drop",
    );
    canon(
        "arp,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:02/ff:ff:ff:00:00:00,arp_op=1,arp_tpa=1.2.3.4,actions=drop",
        "arp,arp_tpa=1.2.3.4,arp_op=1,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:00/ff:ff:ff:00:00:00 actions=drop",
    );
    canon(
        "ipv6,nw_proto=47,ipv6_label=5,actions=drop",
        "ipv6,ipv6_label=0x00005,nw_proto=47 actions=drop",
    );
    canon(
        "ipv6,ipv6_label=5/0xf,actions=drop",
        "ipv6,ipv6_label=0x00005/0x0000f actions=drop",
    );
    canon(
        "icmp,icmp_type=3,icmp_code=1,actions=drop",
        "icmp,icmp_type=3,icmp_code=1 actions=drop",
    );
    canon(
        "tun_id=0,reg0=0,metadata=0,actions=drop",
        "reg0=0,tun_id=0,metadata=0 actions=drop",
    );
}

#[test]
fn vlans() {
    let tci = |v: u128, mask: u128| m(&[(Field::VlanTci, v, mask)]);
    let cfi = u128::from(VLAN_CFI);
    assert_eq!(flow("dl_vlan=10,actions=drop").matching, tci(cfi | 10, 0x1fff));
    // 0xffff: no tag, the whole TCI is zero.
    assert_eq!(flow("dl_vlan=0xffff,actions=drop").matching, tci(0, 0xffff));
    assert_eq!(
        flow("dl_vlan_pcp=3,actions=drop").matching,
        tci(cfi | 3 << 13, 0xf000)
    );
    assert_eq!(
        flow("vlan_pcp=3,actions=drop").matching,
        tci(cfi | 3 << 13, 0xf000)
    );
    canon("dl_vlan=0xffff,actions=drop", "vlan_tci=0x0000 actions=drop");
    canon("dl_vlan=10,actions=drop", "dl_vlan=10 actions=drop");
    canon(
        "dl_vlan_pcp=3,dl_vlan=5,actions=drop",
        "dl_vlan=5,dl_vlan_pcp=3 actions=drop",
    );
    canon("vlan_tci=0x1005/0x1fff,actions=drop", "dl_vlan=5 actions=drop");
    canon(
        "vlan_tci=0x3005,actions=drop",
        "dl_vlan=5,dl_vlan_pcp=1 actions=drop",
    );
    canon(
        "vlan_tci=0x1000/0x1000,actions=drop",
        "vlan_tci=0x1000/0x1000 actions=drop",
    );
    canon(
        "vlan_tci=0/0x1000,actions=drop",
        "vlan_tci=0x0000/0x1000 actions=drop",
    );
    canon(
        "vlan_tci=0x2000/0xe000,actions=drop",
        "vlan_tci=0x2000/0xe000 actions=drop",
    );
    // dl_vlan and a consistent vlan_tci may be combined.
    canon(
        "dl_vlan=5,vlan_tci=0x1005/0x1fff,actions=drop",
        "dl_vlan=5 actions=drop",
    );
}

#[test]
fn masks_and_cidr() {
    canon(
        "ip,nw_src=1.2.3.4/8,actions=drop",
        "ip,nw_src=1.0.0.0/8 actions=drop",
    );
    canon(
        "ip,nw_src=1.2.3.4/255.255.0.0,actions=drop",
        "ip,nw_src=1.2.0.0/16 actions=drop",
    );
    canon(
        "ip,nw_dst=1.2.3.4/255.0.255.0,actions=drop",
        "ip,nw_dst=1.0.3.0/255.0.255.0 actions=drop",
    );
    canon(
        "ip,nw_src=1.2.3.4/32,actions=drop",
        "ip,nw_src=1.2.3.4 actions=drop",
    );
    // A zero mask is no match at all (as ovs-ofctl).
    canon("ip,nw_src=1.2.3.4/0,actions=drop", "ip actions=drop");
    canon("tcp,tp_dst=*,actions=drop", "tcp actions=drop");
    canon(
        "ipv6,ipv6_src=fe80::1/10,actions=drop",
        "ipv6,ipv6_src=fe80::/10 actions=drop",
    );
    canon(
        "ipv6,ipv6_src=::1/ffff::,actions=drop",
        "ipv6,ipv6_src=::/16 actions=drop",
    );
    canon(
        "ipv6,ipv6_dst=::1/ffff::1,actions=drop",
        "ipv6,ipv6_dst=::1/ffff::1 actions=drop",
    );
    canon(
        "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,dl_src=00:11:22:33:44:55/ff:ff:ff:ff:ff:ff,actions=drop",
        "dl_src=00:11:22:33:44:55,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=drop",
    );
    canon(
        "tcp,tp_src=0x10/0xfff0,actions=drop",
        "tcp,tp_src=0x10/0xfff0 actions=drop",
    );
    canon("reg3=5/0xf,actions=drop", "reg3=0x5/0xf actions=drop");
    canon("tun_id=0x1/0x1,actions=drop", "tun_id=0x1/0x1 actions=drop");
    canon("metadata=5,actions=drop", "metadata=0x5 actions=drop");
    canon(
        "metadata=0xffffffffffffffff/0xf0,actions=drop",
        "metadata=0xf0/0xf0 actions=drop",
    );
    canon(
        "icmp6,icmp_type=135,nd_target=fe80::1/64,actions=drop",
        "icmp6,icmp_type=135,nd_target=fe80::/64 actions=drop",
    );
    // Non-maskable fields take an all-ones mask (as ovs-ofctl).
    canon("dl_type=0x0800/0xffff,actions=drop", "ip actions=drop");
}

#[test]
fn tcp_flags_forms() {
    canon(
        "tcp,tcp_flags=+syn-ack,actions=drop",
        "tcp,tcp_flags=+syn-ack actions=drop",
    );
    canon(
        "tcp,tcp_flags=0x12/0x1ff,actions=drop",
        "tcp,tcp_flags=-fin+syn-rst-psh+ack-urg-ece-cwr-ns actions=drop",
    );
    canon(
        "tcp,tcp_flags=syn|ack,actions=drop",
        "tcp,tcp_flags=syn|ack actions=drop",
    );
    canon("tcp,tcp_flags=0,actions=drop", "tcp,tcp_flags=0 actions=drop");
    canon(
        "tcp,tcp_flags=0x2|ack,actions=drop",
        "tcp,tcp_flags=syn|ack actions=drop",
    );
    canon(
        "tcp,tcp_flags=+[200],actions=drop",
        "tcp,tcp_flags=+[200] actions=drop",
    );
    canon(
        "tcp6,tcp_flags=0xfff/0xfff,actions=drop",
        "tcp6,tcp_flags=fin|syn|rst|psh|ack|urg|ece|cwr|ns|[200]|[400]|[800] actions=drop",
    );
    canon("tcp,tcp_flags=0/0,actions=drop", "tcp actions=drop");
}

#[test]
fn aliases_and_overlays() {
    // OXM names.
    assert_eq!(
        flow("eth_type=0x0800,ip_proto=6,tcp_dst=80,eth_src=00:00:00:00:00:01,actions=drop"),
        flow("tcp,tp_dst=80,dl_src=00:00:00:00:00:01,actions=drop")
    );
    assert_eq!(
        flow("ip,ipv4_src=1.2.3.4,ip_dst=5.6.7.8,ip_dscp=10,ip_ecn=1,actions=drop"),
        flow("ip,nw_src=1.2.3.4,nw_dst=5.6.7.8,nw_tos=40,nw_ecn=1,actions=drop")
    );
    assert_eq!(
        flow("udp6,udp_src=53,actions=drop"),
        flow("udp6,tp_src=53,actions=drop")
    );
    assert_eq!(
        flow("NXM_NX_REG2=5,tunnel_id=7,actions=drop"),
        flow("reg2=5,tun_id=7,actions=drop")
    );
    // OVS prints ICMPv6 type/code as icmp_type/icmp_code: read them so.
    assert_eq!(
        flow("icmp6,icmp_type=135,icmp_code=0,actions=drop"),
        flow("icmp6,icmpv6_type=135,icmpv6_code=0,actions=drop")
    );
    // And ARP addresses given as nw_src/nw_dst (printed as arp_spa/tpa).
    canon(
        "arp,nw_src=10.0.0.0/8,arp_op=2,actions=drop",
        "arp,arp_spa=10.0.0.0/8,arp_op=2 actions=drop",
    );
    canon(
        "rarp,arp_tpa=10.0.0.1,actions=drop",
        "rarp,arp_tpa=10.0.0.1 actions=drop",
    );
    // ip_dscp is nw_tos shifted; OVS prints it as nw_tos.
    canon(
        "ip,ip_dscp=10,nw_ecn=2,actions=drop",
        "ip,nw_tos=40,nw_ecn=2 actions=drop",
    );
}

#[test]
fn ports_by_name_and_number() {
    assert_eq!(
        flow("in_port=vm2,actions=drop").matching.value_of(Field::InPort),
        2
    );
    assert_eq!(
        flow("in_port=\"vm2\",actions=drop")
            .matching
            .value_of(Field::InPort),
        2
    );
    // Numbers first, as ovs-ofctl: "5" is port 5, not the port named "5".
    assert_eq!(flow("in_port=5,actions=drop").matching.value_of(Field::InPort), 5);
    // Names that would not read back print as numbers.
    canon(
        "in_port=20,actions=output:21,output:22",
        "in_port=20 actions=output:21,output:22",
    );
    canon(
        "in_port=uplink,actions=vm1,2,output:uplink",
        "in_port=uplink actions=output:vm1,output:vm2,output:uplink",
    );
    // A port named "flood" is shadowed by the keyword in actions.
    assert_eq!(flow("actions=flood").actions, vec![Action::Flood]);
    canon("actions=output:65279", "actions=output:65279");
}

#[test]
fn actions_print_as_ovs() {
    for (a, printed) in [
        ("normal", "NORMAL"),
        ("NORMAL", "NORMAL"),
        ("flood", "FLOOD"),
        ("all", "ALL"),
        ("in_port", "IN_PORT"),
        ("output:in_port", "IN_PORT"),
        ("output:normal", "NORMAL"),
        ("3", "output:3"),
        ("output:3", "output:3"),
        ("controller", "CONTROLLER:65535"),
        ("CONTROLLER", "CONTROLLER:65535"),
        ("controller:100", "CONTROLLER:100"),
        ("controller(max_len=200)", "CONTROLLER:200"),
        ("controller()", "CONTROLLER:65535"),
        ("mod_vlan_vid:10", "mod_vlan_vid:10"),
        ("mod_vlan_pcp:3", "mod_vlan_pcp:3"),
        ("strip_vlan", "strip_vlan"),
        ("pop_vlan", "pop_vlan"),
        ("push_vlan:0x8100", "push_vlan:0x8100"),
        ("push_vlan:33024", "push_vlan:0x8100"),
        ("mod_dl_src:00:11:22:33:44:55", "mod_dl_src:00:11:22:33:44:55"),
        ("mod_dl_dst:0:1:2:3:4:5", "mod_dl_dst:00:01:02:03:04:05"),
        ("resubmit(,2)", "resubmit(,2)"),
        ("resubmit:3", "resubmit:3"),
        ("resubmit(4,5)", "resubmit(4,5)"),
        ("resubmit(in_port,5)", "resubmit(,5)"),
        ("resubmit(vm1,)", "resubmit:vm1"),
        ("goto_table:2", "goto_table:2"),
        ("set_tunnel:5", "set_tunnel:0x5"),
        ("set_tunnel64:5", "set_tunnel:0x5"),
        ("set_tunnel:0x100000000", "set_tunnel64:0x100000000"),
        ("set_tunnel:0", "set_tunnel:0"),
        ("meter:3", "meter:3"),
        ("group:5", "group:5"),
        ("group:0x10", "group:16"),
        ("group:4294967040", "group:4294967040"),
        ("note:01.02", "note:01.02"),
        ("note:0102ab", "note:01.02.ab"),
        ("note:", "note:"),
        ("load:5->NXM_NX_REG0[]", "set_field:0x5->reg0"),
        ("load:0x5->reg0", "set_field:0x5->reg0"),
        ("load:5->NXM_NX_REG0[0..7]", "load:0x5->NXM_NX_REG0[0..7]"),
        ("load:1->NXM_NX_REG0[3]", "load:0x1->NXM_NX_REG0[3]"),
        ("load:0->reg7[31]", "load:0->NXM_NX_REG7[31]"),
        ("set_field:5->reg3", "set_field:0x5->reg3"),
        ("set_field:5/0xf->reg3", "load:0x5->NXM_NX_REG3[0..3]"),
        ("set_field:5/0x5->reg3", "set_field:0x5/0x5->reg3"),
        ("set_field:7->tun_id", "set_field:0x7->tun_id"),
        ("set_field:0x100a->vlan_tci", "set_field:0x100a->vlan_tci"),
        (
            "set_field:00:11:22:33:44:55->eth_dst",
            "set_field:00:11:22:33:44:55->dl_dst",
        ),
        ("set_field:0x1/0x1->metadata", "load:0x1->OXM_OF_METADATA[0]"),
    ] {
        let f = flow(&format!("actions={a}"));
        assert_eq!(format_actions(&f.actions, &Names), printed, "{a}");
        assert_eq!(flow(&format_flow(&f, &Names)), f, "{a}");
    }
    for (a, printed) in [
        ("mod_nw_src:1.2.3.4", "mod_nw_src:1.2.3.4"),
        ("mod_nw_dst:1.2.3.4", "mod_nw_dst:1.2.3.4"),
        ("mod_nw_tos:8", "mod_nw_tos:8"),
        ("dec_ttl", "dec_ttl"),
        ("mod_tp_src:4", "mod_tp_src:4"),
        ("mod_tp_dst:65535", "mod_tp_dst:65535"),
        ("set_field:1.2.3.4->ip_dst", "set_field:1.2.3.4->nw_dst"),
        ("set_field:40->nw_tos", "set_field:10->ip_dscp"),
        ("set_field:10->ip_dscp", "set_field:10->ip_dscp"),
        ("set_field:1->nw_ecn", "set_field:1->nw_ecn"),
        ("set_field:64->nw_ttl", "set_field:64->nw_ttl"),
        ("set_field:80->tcp_dst", "set_field:80->tp_dst"),
        ("set_field:80/0xff00->tp_dst", "load:0->tp_dst[8..15]"),
        (
            "set_field:0.0.0.0/255.0.0.0->nw_src",
            "load:0->NXM_OF_IP_SRC[24..31]",
        ),
        (
            "set_field:1.0.3.0/255.0.255.0->nw_src",
            "set_field:1.0.3.0/255.0.255.0->nw_src",
        ),
        ("load:40->NXM_OF_IP_TOS[]", "set_field:10->ip_dscp"),
        ("load:0x50->NXM_OF_TCP_DST[]", "set_field:80->tp_dst"),
    ] {
        let f = flow(&format!("tcp,actions={a}"));
        assert_eq!(format_actions(&f.actions, &Names), printed, "{a}");
        assert_eq!(flow(&format_flow(&f, &Names)), f, "{a}");
    }
    canon(
        "ipv6,actions=set_field:fe80::1->ipv6_src,set_field:5->ipv6_label",
        "ipv6 actions=set_field:fe80::1->ipv6_src,set_field:0x5->ipv6_label",
    );
    canon(
        "arp,actions=set_field:2->arp_op,set_field:1.2.3.4->arp_tpa,set_field:00:00:00:00:00:01->arp_sha",
        "arp actions=set_field:2->arp_op,set_field:1.2.3.4->arp_tpa,set_field:00:00:00:00:00:01->arp_sha",
    );
    canon(
        "dl_vlan=3,actions=set_field:10->dl_vlan,set_field:5->dl_vlan_pcp,strip_vlan",
        "dl_vlan=3 actions=set_field:10->dl_vlan,set_field:5->vlan_pcp,strip_vlan",
    );
    // A tag pushed by an earlier action counts.
    canon(
        "actions=push_vlan:0x8100,set_field:10->dl_vlan",
        "actions=push_vlan:0x8100,set_field:10->dl_vlan",
    );
    canon(
        "actions=set_field:0x1005->vlan_tci,set_field:6->vlan_pcp",
        "actions=set_field:0x1005->vlan_tci,set_field:6->vlan_pcp",
    );
    canon(
        "actions=meter:1,output:1,goto_table:1",
        "actions=meter:1,output:vm1,goto_table:1",
    );
}

#[test]
fn port_writes_print_the_protocol_of_the_match() {
    // format_flow knows the match: ovs-ofctl reads tp_src as tcp_src, so a
    // UDP flow's write must say udp_src.
    canon(
        "udp,actions=set_field:53->tp_src,load:1->tp_dst[0..3]",
        "udp actions=set_field:53->udp_src,load:0x1->NXM_OF_UDP_DST[0..3]",
    );
    canon(
        "sctp6,actions=set_field:1->tp_dst",
        "sctp6 actions=set_field:1->sctp_dst",
    );
    let f = flow("tcp,actions=mod_tp_dst:1,set_field:2->tp_src");
    assert_eq!(
        format_actions(&f.actions, &Names),
        "mod_tp_dst:1,set_field:2->tp_src"
    );
    assert_eq!(
        format_actions_in(&f.actions, &f.matching, &Names),
        "mod_tp_dst:1,set_field:2->tcp_src"
    );
}

#[test]
fn whole_and_partial_writes_normalize() {
    assert_eq!(
        flow("actions=load:5->NXM_NX_REG0[]").actions,
        vec![Action::SetField {
            field: Field::Reg0,
            value: 5,
            mask: 0xffff_ffff
        }]
    );
    assert_eq!(
        flow("actions=set_field:0x50/0xf0->reg1").actions,
        flow("actions=load:5->NXM_NX_REG1[4..7]").actions
    );
    assert_eq!(
        flow("actions=load:5->NXM_NX_REG1[4..7]").actions,
        vec![Action::Load {
            field: Field::Reg1,
            start: 4,
            n_bits: 4,
            value: 5
        }]
    );
    assert_eq!(
        flow("ip,actions=set_field:40->nw_tos").actions,
        flow("ip,actions=set_field:10->ip_dscp").actions
    );
}

#[test]
fn filters() {
    assert_eq!(filter(""), FlowFilter::default());
    let f = filter("table=255,priority=5,cookie=0x10/0xf0,out_port=vm2,tcp,tp_dst=22");
    assert_eq!(
        (f.table, f.priority, f.cookie, f.cookie_mask, f.out_port),
        (ALL_TABLES, 5, 0x10, 0xf0, Some(2))
    );
    assert_eq!(f.matching, flow("tcp,tp_dst=22,actions=drop").matching);
    assert_eq!(filter("table=3").table, 3);
    assert_eq!(filter("cookie=1/-1").cookie_mask, u64::MAX);
    assert_eq!(filter("out_port=normal").out_port, Some(ofport::NORMAL));
    assert_eq!(filter("out_port=any").out_port, None);
    // A dump line's statistics are ignored here too.
    assert_eq!(
        filter("duration=1s,n_packets=3,ip").matching,
        flow("ip,actions=drop").matching
    );
    assert_eq!(
        filter_err("ip,actions=drop"),
        "actions: not allowed here (a match of del-flows, dump-flows or mod-flows has no actions)"
    );
    assert_eq!(
        filter_err("table=256"),
        "table: 256 is out of range 0-253 (or 255 for all tables)"
    );
    assert_eq!(
        filter_err("cookie=0x1"),
        "cookie: selecting flows by cookie needs a mask, e.g. \"cookie=0x1/-1\""
    );
    assert_eq!(
        filter_err("idle_timeout=5"),
        "idle_timeout: not allowed here (only add-flow and mod-flows set it)"
    );
    assert_eq!(
        filter_err("out_port=LOCAL"),
        "out_port: LOCAL is not a port switchd outputs to"
    );
    assert_eq!(
        filter_err("tp_dst=22"),
        "tp_dst: requires tcp, udp or sctp (add \"tcp,\" or \"udp,\")"
    );
    assert_eq!(filter_err("out_port=vm9"), "out_port: no port named \"vm9\"");
}

#[test]
fn errors_name_the_token_and_the_reason() {
    for (line, msg) in [
        // From the brief.
        ("tp_dst=22,actions=drop", "tp_dst: requires tcp, udp or sctp (add \"tcp,\" or \"udp,\")"),
        ("foo=1,actions=drop", "unknown field \"foo\""),
        ("in_port=vm9,actions=drop", "in_port: no port named \"vm9\""),
        ("priority=70000,actions=drop", "priority: 70000 is out of range 0-65535"),
        ("tcp,tp_dst=22,tp_dst=23,actions=drop", "duplicate field \"tp_dst\""),
        ("actions=mod_vlan_vid:4096", "mod_vlan_vid: 4096 is out of range 0-4095"),
        // Flow fields.
        ("table=255,actions=drop", "table: 255 means all tables, only in dump-flows/del-flows"),
        ("table=254,actions=drop", "table: 254 is out of range 0-253"),
        ("table=x,actions=drop", "table: \"x\" is not a number"),
        ("ip", "missing \"actions=\" (every flow needs actions; \"actions=drop\" drops)"),
        ("priority=5,priority=6,actions=drop", "duplicate field \"priority\""),
        ("idle_timeout=70000,actions=drop", "idle_timeout: 70000 is out of range 0-65535"),
        ("cookie=0x1/0x1,actions=drop", "cookie: a mask only selects flows (del-flows, dump-flows, mod-flows); add-flow sets the cookie"),
        ("cookie=0x10000000000000000,actions=drop", "cookie: 0x10000000000000000 is out of range 0-0xffffffffffffffff"),
        ("send_flow_rem=1,actions=drop", "send_flow_rem: takes no value"),
        ("cookie=0xffffffffffffffff,actions=drop", "cookie: 0xffffffffffffffff is reserved (OpenFlow's \"no cookie\")"),
        ("out_port=1,actions=drop", "out_port: only selects flows (del-flows, dump-flows, mod-flows)"),
        // Match values.
        ("tcp,tp_dst=70000,actions=drop", "tp_dst: 70000 is out of range 0-65535"),
        ("tcp,tp_dst=010,actions=drop", "tp_dst: \"010\" has a leading zero (ovs-ofctl would read it as octal); write it without, or in hex"),
        ("tcp,tp_dst=,actions=drop", "tp_dst: missing value"),
        ("tcp,tp_dst=http,actions=drop", "tp_dst: \"http\" is not a number"),
        ("dl_vlan=4096,actions=drop", "dl_vlan: 4096 is out of range 0-4095 (or 0xffff for untagged)"),
        ("dl_vlan=5/0xfff,actions=drop", "dl_vlan: takes no mask"),
        ("dl_vlan_pcp=8,actions=drop", "dl_vlan_pcp: 8 is out of range 0-7"),
        ("ip,nw_tos=41,actions=drop", "nw_tos: 41 is not a multiple of 4 (the low two bits are ECN: use nw_ecn)"),
        ("ip,nw_ecn=4,actions=drop", "nw_ecn: 4 is out of range 0-3"),
        ("ip,ip_dscp=64,actions=drop", "ip_dscp: 64 is out of range 0-63"),
        ("ip,nw_ttl=300,actions=drop", "nw_ttl: 300 is out of range 0-255"),
        ("arp,arp_op=256,actions=drop", "arp_op: 256 is out of range 0-255"),
        ("ipv6,ipv6_label=0x100000,actions=drop", "ipv6_label: 0x100000 is out of range 0-1048575"),
        ("reg0=0x100000000,actions=drop", "reg0: 0x100000000 is out of range 0-4294967295"),
        ("ip,nw_proto=6/0xf,actions=drop", "nw_proto: takes no mask"),
        ("in_port=0,actions=drop", "in_port: 0 is out of range 1-65279"),
        ("in_port=65280,actions=drop", "in_port: 65280 is out of range 1-65279"),
        ("dl_src=00:11:22:33:44,actions=drop", "dl_src: \"00:11:22:33:44\" is not a MAC address (xx:xx:xx:xx:xx:xx[/mask])"),
        ("ip,nw_src=1.2.3,actions=drop", "nw_src: \"1.2.3\" is not an IPv4 address (a.b.c.d[/prefix or /mask])"),
        ("ip,nw_src=1.2.3.4/33,actions=drop", "nw_src: \"1.2.3.4/33\": prefix length 33 is out of range 0-32"),
        ("ipv6,ipv6_src=::1/129,actions=drop", "ipv6_src: \"::1/129\": prefix length 129 is out of range 0-128"),
        ("ipv6,ipv6_src=1.2.3.4,actions=drop", "ipv6_src: \"1.2.3.4\" is not an IPv6 address (addr[/prefix or /mask])"),
        ("tcp,tcp_flags=+syn+syn,actions=drop", "tcp_flags: flag \"syn\" given twice"),
        ("tcp,tcp_flags=+foo,actions=drop", "tcp_flags: unknown TCP flag \"foo\""),
        ("tcp,tcp_flags=syn|foo,actions=drop", "tcp_flags: unknown TCP flag \"foo\""),
        ("tcp,tcp_flags=0x1000,actions=drop", "tcp_flags: 0x1000 is out of range 0-4095"),
        ("tcp=1,actions=drop", "tcp: takes no value"),
        ("tcp,tcp,actions=drop", "duplicate field \"tcp\""),
        // Duplicates under another name, and conflicts.
        ("tcp,tp_dst=22,tcp_dst=23,actions=drop", "duplicate field \"tcp_dst\""),
        ("arp,nw_src=1.2.3.4,arp_spa=1.2.3.4,actions=drop", "duplicate field \"arp_spa\""),
        ("tcp,udp,actions=drop", "udp: conflicts with \"tcp\""),
        ("tcp,nw_proto=17,actions=drop", "nw_proto=17: conflicts with \"tcp\""),
        ("ip,dl_type=0x0806,actions=drop", "dl_type=0x0806: conflicts with \"ip\""),
        ("dl_vlan=0xffff,dl_vlan_pcp=3,actions=drop", "dl_vlan_pcp=3: conflicts with \"dl_vlan=0xffff\""),
        ("dl_vlan=5,vlan_tci=0x1006/0x1fff,actions=drop", "vlan_tci=0x1006/0x1fff: conflicts with \"dl_vlan=5\""),
        ("vlan_tci=0x6092,actions=drop", "vlan_tci=0x6092: matches no frame: without the tag bit 0x1000 (untagged) the rest of the TCI is 0, but this asks for 0x6092/0xffff"),
        ("vlan_tci=0/0x1000,dl_vlan_pcp=0,actions=drop", "dl_vlan_pcp=0: conflicts with \"vlan_tci=0/0x1000\""),
        // Prerequisites (stricter than ovs-ofctl, which drops the field).
        ("nw_src=1.2.3.4,actions=drop", "nw_src: requires IPv4 (add \"ip,\")"),
        ("ipv6,nw_src=1.2.3.4,actions=drop", "nw_src: requires IPv4 (add \"ip,\")"),
        ("ipv6_src=::1,actions=drop", "ipv6_src: requires IPv6 (add \"ipv6,\")"),
        ("nw_proto=6,actions=drop", "nw_proto: requires IPv4 or IPv6 (add \"ip,\" or \"ipv6,\")"),
        ("nw_ttl=6,actions=drop", "nw_ttl: requires IPv4 or IPv6 (add \"ip,\" or \"ipv6,\")"),
        ("ip,arp_op=1,actions=drop", "arp_op: requires ARP (add \"arp,\")"),
        ("arp_sha=00:00:00:00:00:01,actions=drop", "arp_sha: requires ARP (add \"arp,\")"),
        ("ip,tp_src=1,actions=drop", "tp_src: requires tcp, udp or sctp (add \"tcp,\" or \"udp,\")"),
        ("udp,tcp_flags=+syn,actions=drop", "tcp_flags: requires tcp (add \"tcp,\")"),
        ("udp,tcp_dst=22,actions=drop", "tcp_dst: requires tcp (add \"tcp,\")"),
        ("tcp,udp_dst=22,actions=drop", "udp_dst: requires udp (add \"udp,\")"),
        ("tcp,icmp_type=3,actions=drop", "icmp_type: requires icmp (add \"icmp,\")"),
        ("icmp,icmpv6_type=3,actions=drop", "icmpv6_type: requires icmp6 (add \"icmp6,\")"),
        ("icmp6,nd_target=::1,actions=drop", "nd_target: requires icmp6 with icmp_type 135 or 136 (add \"icmp6,icmp_type=135,\" or \"icmp6,icmp_type=136,\")"),
        ("icmp6,icmp_type=128,nd_target=::1,actions=drop", "nd_target: requires icmp6 with icmp_type 135 or 136 (add \"icmp6,icmp_type=135,\" or \"icmp6,icmp_type=136,\")"),
        ("ip,ipv6_label=1,actions=drop", "ipv6_label: requires IPv6 (add \"ipv6,\")"),
        // Actions.
        ("actions=drop,output:1", "drop: must be the only action"),
        ("actions=output:1,drop", "drop: must be the only action"),
        ("actions=foo", "unknown action \"foo\""),
        ("actions=output:0", "output: 0 is out of range 1-65279"),
        ("actions=output:65280", "output: 65280 is out of range 1-65279"),
        ("actions=output:vm9", "output: no port named \"vm9\""),
        ("actions=output", "output: missing argument (output:VALUE)"),
        ("actions=LOCAL", "output: LOCAL is not a port switchd can output to"),
        ("actions=output:local", "output: local is not a port switchd can output to"),
        ("actions=normal:1", "normal: takes no argument"),
        ("actions=controller(reason=no_match)", "controller: \"reason\" is not supported (only max_len)"),
        ("actions=controller:70000", "controller: 70000 is out of range 0-65535"),
        ("actions=mod_vlan_pcp:8", "mod_vlan_pcp: 8 is out of range 0-7"),
        ("actions=push_vlan:0x88a8", "push_vlan: 0x88a8 is not supported (only 0x8100)"),
        ("actions=mod_dl_src:00:11", "mod_dl_src: \"00:11\" is not a MAC address"),
        ("ip,actions=mod_nw_src:1.2.3", "mod_nw_src: \"1.2.3\" is not an IPv4 address"),
        ("ip,actions=mod_nw_tos:9", "mod_nw_tos: 9 is not a multiple of 4 (the low two bits are ECN)"),
        ("ip,actions=mod_nw_tos:256", "mod_nw_tos: 256 is out of range 0-255"),
        ("tcp,actions=mod_tp_dst:70000", "mod_tp_dst: 70000 is out of range 0-65535"),
        ("actions=dec_ttl(1,2)", "dec_ttl: takes no argument"),
        ("actions=resubmit(,)", "resubmit: needs a port or a table, e.g. resubmit(,1) or resubmit:2"),
        ("actions=resubmit:in_port", "resubmit: needs a port or a table, e.g. resubmit(,1) or resubmit:2"),
        ("actions=resubmit(,254)", "resubmit: 254 is out of range 0-253"),
        ("actions=resubmit(1)", "resubmit: expected resubmit(PORT,TABLE), e.g. resubmit(,1)"),
        ("actions=goto_table:0", "goto_table: 0 is not after this flow's table 0 (OpenFlow tables only go forward)"),
        ("table=3,actions=goto_table:2", "goto_table: 2 is not after this flow's table 3 (OpenFlow tables only go forward)"),
        ("actions=goto_table:254", "goto_table: 254 is out of range 0-253"),
        ("actions=goto_table:2,output:1", "goto_table: must be the last action"),
        ("actions=output:1,meter:1", "meter: must be the first action (OpenFlow meters a packet before its actions)"),
        ("actions=meter:0", "meter: 0 is out of range 1-4294901760"),
        ("actions=group", "group: missing argument (group:VALUE)"),
        ("actions=group:4294967041", "group: 4294967041 is out of range 0-4294967040"),
        ("actions=note:1", "note: \"1\" is not hex bytes (like 01.ab.ff)"),
        ("actions=note:0g", "note: \"0g\" is not hex bytes (like 01.ab.ff)"),
        ("actions=set_tunnel:0x10000000000000000", "set_tunnel: 0x10000000000000000 is out of range 0-0xffffffffffffffff"),
        // Action prerequisites (OVS refuses these for OpenFlow 1.1+).
        ("actions=mod_nw_src:1.2.3.4", "mod_nw_src: requires IPv4 in the match (add \"ip,\")"),
        ("ipv6,actions=mod_nw_dst:1.2.3.4", "mod_nw_dst: requires IPv4 in the match (add \"ip,\")"),
        ("actions=dec_ttl", "dec_ttl: requires IPv4 or IPv6 in the match (add \"ip,\" or \"ipv6,\")"),
        ("actions=mod_nw_tos:8", "mod_nw_tos: requires IPv4 or IPv6 in the match (add \"ip,\" or \"ipv6,\")"),
        ("ip,actions=mod_tp_dst:80", "mod_tp_dst: requires tcp, udp or sctp in the match (add \"tcp,\" or \"udp,\")"),
        ("actions=set_field:1.2.3.4->ip_dst", "set_field: ip_dst requires IPv4 in the match (add \"ip,\")"),
        ("udp,actions=set_field:80->tcp_dst", "set_field: tcp_dst requires tcp in the match (add \"tcp,\")"),
        ("ip,actions=load:1->NXM_OF_TCP_DST[0..3]", "load: NXM_OF_TCP_DST requires tcp, udp or sctp in the match (add \"tcp,\" or \"udp,\")"),
        ("actions=set_field:10->dl_vlan", "set_field: dl_vlan requires a VLAN tag (match one, e.g. dl_vlan=10, or push one first: mod_vlan_vid or push_vlan)"),
        ("dl_vlan=3,actions=strip_vlan,set_field:10->dl_vlan", "set_field: dl_vlan requires a VLAN tag (match one, e.g. dl_vlan=10, or push one first: mod_vlan_vid or push_vlan)"),
        ("actions=set_field:0->vlan_tci,load:1->OXM_OF_VLAN_PCP[]", "load: OXM_OF_VLAN_PCP requires a VLAN tag (match one, e.g. dl_vlan=10, or push one first: mod_vlan_vid or push_vlan)"),
        // set_field and load.
        ("actions=set_field:5->foo", "set_field: unknown field \"foo\""),
        ("ip,actions=set_field:5->nw_proto", "set_field: nw_proto is read-only"),
        ("actions=set_field:5->in_port", "set_field: in_port is read-only"),
        ("actions=set_field:5", "set_field: \"5\" is missing \"->FIELD\""),
        ("actions=set_field:5->", "set_field: \"5->\" is missing \"->FIELD\""),
        ("dl_vlan=1,actions=set_field:4096->dl_vlan", "set_field->dl_vlan: 4096 is out of range 0-4095"),
        ("ip,actions=set_field:41->nw_tos", "set_field->nw_tos: 41 is not a multiple of 4 (the low two bits are ECN: use nw_ecn)"),
        ("ip,actions=set_field:0x1/0x1->ip_dscp", "set_field->ip_dscp: takes no mask"),
        ("actions=set_field:5/0->reg0", "set_field->reg0: a zero mask writes nothing"),
        ("actions=set_field:0x100000000->reg0", "set_field->reg0: 0x100000000 is out of range 0-4294967295"),
        ("actions=load:5->NXM_NX_REG0[40]", "load: \"NXM_NX_REG0[40]\": bits 40..40 are not within NXM_NX_REG0 (32 bits)"),
        ("actions=load:5->NXM_NX_REG0[7..0]", "load: \"NXM_NX_REG0[7..0]\": bits 7..0 are not within NXM_NX_REG0 (32 bits)"),
        ("actions=load:0x100->NXM_NX_REG0[0..7]", "load: 0x100 does not fit in NXM_NX_REG0[0..7] (8 bits)"),
        ("actions=load:5->NXM_NX_REG0[x]", "load: \"NXM_NX_REG0[x]\": expected FIELD[], FIELD[BIT] or FIELD[START..END]"),
        ("actions=load:x->reg0", "load: \"x\" is not a number"),
        ("actions=load:1->NXM_NX_FOO[]", "load: unknown field \"NXM_NX_FOO\""),
        ("ip,actions=load:1->NXM_OF_IP_TOS[0..1]", "load: NXM_OF_IP_TOS[0..1]: write ip_dscp (OXM_OF_IP_DSCP) or nw_ecn (NXM_NX_IP_ECN) instead"),
    ] {
        assert_eq!(err(line), msg, "{line}");
    }
}

// ---------------------------------------------------------------------------
// Property test: random valid flows print and parse back to themselves.
// ---------------------------------------------------------------------------

/// Protocol classes the generator builds matches for: (dl_type, nw_proto).
/// `None` dl_type: no dl_type; dl_type 0x1234: some other Ethertype.
const CLASSES: &[(Option<u16>, Option<u8>)] = &[
    (None, None),
    (Some(0x1234), None),
    (Some(0x0800), None),
    (Some(0x0800), Some(47)),
    (Some(0x0800), Some(6)),
    (Some(0x0800), Some(17)),
    (Some(0x0800), Some(132)),
    (Some(0x0800), Some(1)),
    (Some(0x86dd), None),
    (Some(0x86dd), Some(47)),
    (Some(0x86dd), Some(6)),
    (Some(0x86dd), Some(17)),
    (Some(0x86dd), Some(132)),
    (Some(0x86dd), Some(58)),
    (Some(0x0806), None),
    (Some(0x8035), None),
];

/// Random raw material for one match field or action: which one, and
/// two random words for its value and mask.
type Raw = (usize, u128, u128);

/// A mask for a maskable field of `f`: exact, a prefix, or random bits.
fn some_mask(f: Field, sel: u128, bits: u128) -> u128 {
    let max = f.max();
    match sel % 3 {
        0 => max,
        1 => {
            let width = u32::from(f.place().bits);
            let n = (bits % u128::from(width + 1)) as u32;
            if n == 0 {
                0
            } else {
                (max >> (width - n)) << (width - n)
            }
        }
        _ => bits & max,
    }
}

fn build_match(class: usize, raws: &[Raw]) -> Match {
    let (dl, proto) = CLASSES[class % CLASSES.len()];
    let mut m = Match::ANY;
    if let Some(dl) = dl {
        m.set_exact(Field::DlType, u128::from(dl));
    }
    if let Some(p) = proto {
        m.set_exact(Field::NwProto, u128::from(p));
    }
    let ip4 = dl == Some(0x0800);
    let ip6 = dl == Some(0x86dd);
    let l4 = (ip4 || ip6) && matches!(proto, Some(6 | 17 | 132));
    let icmp6 = ip6 && proto == Some(58);
    let mut fields = vec![
        Field::InPort,
        Field::DlSrc,
        Field::DlDst,
        Field::VlanTci,
        Field::TunId,
        Field::Metadata,
        Field::Reg0,
        Field::Reg5,
        Field::Reg7,
    ];
    if ip4 || ip6 {
        fields.extend([Field::NwTos, Field::NwEcn, Field::NwTtl]);
    }
    if ip4 {
        fields.extend([Field::NwSrc, Field::NwDst]);
    }
    if ip6 {
        fields.extend([Field::Ipv6Src, Field::Ipv6Dst, Field::Ipv6Label]);
    }
    if matches!(dl, Some(0x0806 | 0x8035)) {
        fields.extend([
            Field::ArpOp,
            Field::ArpSpa,
            Field::ArpTpa,
            Field::ArpSha,
            Field::ArpTha,
        ]);
    }
    if l4 {
        fields.extend([Field::TpSrc, Field::TpDst]);
    }
    if l4 && proto == Some(6) {
        fields.push(Field::TcpFlags);
    }
    if ip4 && proto == Some(1) {
        fields.extend([Field::IcmpType, Field::IcmpCode]);
    }
    if icmp6 {
        fields.extend([Field::Icmpv6Type, Field::Icmpv6Code]);
    }
    let mut nd = false;
    for &(i, v, r) in raws {
        let f = fields[i % fields.len()];
        match f {
            // Small numbers half the time, so named ports show up.
            Field::InPort if r % 2 == 0 => m.set_exact(f, 1 + v % 25),
            Field::InPort => m.set_exact(f, 1 + v % u128::from(ofport::MAX)),
            Field::VlanTci => match r % 4 {
                // dl_vlan=N, dl_vlan_pcp=P, both, or any vlan_tci/mask.
                0 => m.set(f, 0x1000 | (v & 0xfff), 0x1fff),
                1 => m.set(f, 0x1000 | (v & 0xe000), 0xf000),
                2 => m.set(f, 0x1000 | (v & 0xefff), 0xffff),
                // Untagged (CFI matched 0) must have the rest 0.
                _ if (r >> 2) & 0x1000 != 0 && v & 0x1000 == 0 => m.set(f, 0, r >> 2),
                _ => m.set(f, v, r >> 2),
            },
            Field::NwTos => m.set(f, v, 0xfc),
            // Once the type is ND's, it stays (nd_target needs it).
            Field::Icmpv6Type if nd => {}
            Field::Icmpv6Type if r % 2 == 0 => {
                m.set_exact(f, if v % 2 == 0 { 135 } else { 136 });
                nd = true;
            }
            f if super::names::maskable(f) => m.set(f, v, some_mask(f, r, r >> 2)),
            f => m.set_exact(f, v),
        }
    }
    // nd_target once the type allows it.
    if nd && icmp6 {
        if let Some(&(_, v, r)) = raws.first() {
            m.set(Field::NdTarget, v, some_mask(Field::NdTarget, r, r >> 3));
        }
    }
    m
}

/// A canonical write: whole field, contiguous run (Load), or another mask
/// (only for fields that take masks; `load` may write part of any field).
fn gen_write(f: Field, v: u128, r: u128) -> Action {
    let max = f.max();
    let width = u32::from(f.place().bits);
    let kinds = if super::names::maskable(f) { 3 } else { 2 };
    match r % kinds {
        0 => Action::SetField {
            field: f,
            value: v & max,
            mask: max,
        },
        1 => {
            let start = (r >> 2) % u128::from(width);
            let n_bits = 1 + (r >> 10) % (u128::from(width) - start);
            if n_bits == u128::from(width) {
                return Action::SetField {
                    field: f,
                    value: v & max,
                    mask: max,
                };
            }
            Action::Load {
                field: f,
                start: start as u8,
                n_bits: n_bits as u8,
                value: v & (max >> (u128::from(width) - n_bits)),
            }
        }
        _ => {
            let mask = (r >> 2) & max;
            let run = mask >> mask.trailing_zeros().min(127);
            if mask == 0 || mask == max || run & run.wrapping_add(1) == 0 {
                Action::SetField {
                    field: f,
                    value: v & max,
                    mask: max,
                }
            } else {
                Action::SetField {
                    field: f,
                    value: v & mask,
                    mask,
                }
            }
        }
    }
}

fn build_actions(m: &Match, table: u8, raws: &[Raw]) -> Vec<Action> {
    use super::values::satisfied;
    use crate::flow::key::Prereq;
    let mut tagged = m.mask_of(Field::VlanTci) & m.value_of(Field::VlanTci) & 0x1000 != 0;
    let mut out = Vec::new();
    let mut meter = None;
    let mut goto = None;
    for &(i, v, r) in raws {
        let a = match i % 30 {
            0 => Action::Output(1 + (v % u128::from(ofport::MAX)) as u16),
            1 => Action::Normal,
            2 => Action::Flood,
            3 => Action::All,
            4 => Action::InPort,
            5 => Action::Controller { max_len: v as u16 },
            6 => Action::ModVlanVid((v & 0xfff) as u16),
            7 => Action::ModVlanPcp((v & 7) as u8),
            8 => Action::StripVlan,
            9 => Action::PopVlan,
            10 => Action::PushVlan(0x8100),
            11 => Action::ModDlSrc(super::lex::u128_to_mac(v)),
            12 => Action::ModDlDst(super::lex::u128_to_mac(v)),
            13 if satisfied(m, Prereq::Ipv4) => Action::ModNwSrc(v as u32),
            14 if satisfied(m, Prereq::Ipv4) => Action::ModNwDst(v as u32),
            15 if satisfied(m, Prereq::Ip) => Action::ModNwTos((v as u8) & 0xfc),
            16 if satisfied(m, Prereq::Ip) => Action::DecTtl,
            17 if satisfied(m, Prereq::L4) => Action::ModTpSrc(v as u16),
            18 if satisfied(m, Prereq::L4) => Action::ModTpDst(v as u16),
            19..=23 => {
                let writable: Vec<Field> = Field::ALL
                    .iter()
                    .copied()
                    .filter(|f| f.writable() && *f != Field::NwTos && satisfied(m, f.prereq()))
                    .filter(|f| tagged || !matches!(f, Field::VlanVid | Field::VlanPcp))
                    .collect();
                let f = writable[(r as usize) % writable.len()];
                if f == Field::VlanTci {
                    // Whole TCI writes only, which set the tag state.
                    tagged = v & 0x1000 != 0;
                    Action::SetField {
                        field: f,
                        value: v & 0xffff,
                        mask: 0xffff,
                    }
                } else {
                    gen_write(f, v, r >> 8)
                }
            }
            24 => Action::Resubmit {
                port: (r % 3 != 1).then_some(1 + (v % u128::from(ofport::MAX)) as u16),
                table: (r % 3 != 0).then_some(((v >> 16) % 254) as u8),
            },
            25 => Action::SetTunnel(v as u64 >> (r % 64)),
            26 => {
                meter = Some(Action::Meter(1 + (v % 0xffff_0000) as u32));
                continue;
            }
            27 if table < 253 => {
                goto = Some(Action::GotoTable(table + 1 + (v % u128::from(253 - table)) as u8));
                continue;
            }
            28 => Action::Note(v.to_be_bytes()[..(r % 17) as usize].to_vec()),
            29 => Action::Group((v % (u128::from(crate::flow::group::MAX_GROUP_ID) + 1)) as u32),
            _ => continue,
        };
        match a {
            Action::ModVlanVid(_) | Action::ModVlanPcp(_) | Action::PushVlan(_) => tagged = true,
            Action::StripVlan | Action::PopVlan => tagged = false,
            _ => {}
        }
        out.push(a);
    }
    if let Some(a) = meter {
        out.insert(0, a);
    }
    out.extend(goto);
    out
}

fn arb_flow() -> impl Strategy<Value = FlowSpec> {
    let raw = || (any::<usize>(), any::<u128>(), any::<u128>());
    (
        (
            any::<u8>(),
            any::<u16>(),
            any::<u64>(),
            any::<u16>(),
            any::<u16>(),
            any::<u8>(),
        ),
        any::<usize>(),
        proptest::collection::vec(raw(), 0..10),
        proptest::collection::vec(raw(), 0..8),
    )
        .prop_map(|((t, priority, cookie, idle, hard, flags), class, mraw, araw)| {
            let table = if t % 2 == 0 { 0 } else { t % 254 };
            let matching = build_match(class, &mraw);
            let actions = build_actions(&matching, table, &araw);
            FlowSpec {
                table,
                priority: if flags & 1 == 0 { 32768 } else { priority },
                cookie: if flags & 2 == 0 {
                    0
                } else {
                    cookie.min(u64::MAX - 1)
                },
                idle_timeout: if flags & 4 == 0 { 0 } else { idle },
                hard_timeout: if flags & 8 == 0 { 0 } else { hard },
                send_flow_rem: flags & 16 != 0,
                matching,
                actions,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn print_then_parse_is_identity(spec in arb_flow()) {
        let text = format_flow(&spec, &Names);
        let back = parse_flow(&text, &Names);
        prop_assert_eq!(back.as_ref(), Ok(&spec), "{}", text);
        // Printing is a fixed point too.
        prop_assert_eq!(format_flow(&back.unwrap(), &Names), text);
        // The match alone reads back as a filter.
        let f = parse_filter(&format_match(&spec.matching, &NoNames), &NoNames);
        prop_assert_eq!(f.map(|f| f.matching), Ok(spec.matching));
    }

    #[test]
    fn parser_never_panics(s in "[a-z_0-9=:,./()>\\-\\[\\] ]{0,60}") {
        let _ = parse_flow(&s, &Names);
        let _ = parse_filter(&s, &Names);
    }
}

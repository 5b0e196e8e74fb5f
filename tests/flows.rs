//! Flow tables end to end (SPEC §9) through the real daemon, between
//! network namespaces: an ACL that drops TCP/22 while ICMP and TCP/80 pass,
//! output to a fixed port, VLAN and address rewrites seen on the wire with
//! valid checksums (also for TCP from a TAP host with offloads, whose
//! frames arrive partially checksummed or as GSO super-frames), resubmit
//! and goto_table across tables, idle and hard timeouts, counters that
//! equal the frames sent, persistence, and bad input refused with the
//! reason and nothing changed. Needs root; see tests/common/mod.rs.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;

/// A TCP server in a namespace (python3): on each of `ports` it accepts
/// connections, reads to EOF and answers with the number of bytes read.
/// Killed (by PID) when dropped.
struct TcpServer(Child);

const SERVER: &str = r#"
import selectors, socket, sys, threading
sel = selectors.DefaultSelector()
for p in sys.argv[1:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(p))); s.listen(16); sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
def serve(c):
    n = 0
    with c:
        c.settimeout(10)
        while True:
            b = c.recv(65536)
            if not b: break
            n += len(b)
        c.sendall(str(n).encode())
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

const CLIENT: &str = r#"
import socket, sys
ip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
try:
    c = socket.create_connection((ip, port), timeout=2)
    c.settimeout(10)
    data = bytes(range(256)) * (n // 256) + bytes(n % 256)
    c.sendall(data); c.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = c.recv(100)
        if not b: break
        got += b
    sys.exit(0 if got == str(n).encode() else 3)
except OSError as e:
    print(e, file=sys.stderr); sys.exit(1)
"#;

impl TcpServer {
    fn start(ns: &Netns, ports: &[u16]) -> TcpServer {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &ns.name, "python3", "-u", "-c", SERVER]);
        for p in ports {
            cmd.arg(p.to_string());
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 server");
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "server did not start");
        TcpServer(child)
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `n` bytes over TCP from `ns` to `ip:port`; whether the server
/// confirmed every byte.
fn tcp_transfer(ns: &Netns, ip: &str, port: u16, n: usize) -> bool {
    ns.exec(&["python3", "-c", CLIENT, ip, &port.to_string(), &n.to_string()])
        .status
        .success()
}

fn flows(sw: &Switchd, bridge: &str) -> Vec<Value> {
    sw.ctl_json(&["dump-flows", bridge])["flows"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The dumped flow with this match and priority.
fn flow(sw: &Switchd, bridge: &str, priority: u64, matching: &str) -> Option<Value> {
    flows(sw, bridge)
        .into_iter()
        .find(|f| f["priority"] == priority && f["match"] == matching)
}

#[test]
fn new_bridge_has_the_default_normal_flow_and_counts_it() {
    if !require_root("new_bridge_has_the_default_normal_flow_and_counts_it") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_veth(&sw, "br0", "10.0.0.1");
    let b = host_on_veth(&sw, "br0", "10.0.0.2");
    let f = flows(&sw, "br0");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["priority"], 0);
    assert_eq!(f[0]["match"], "");
    assert_eq!(f[0]["actions"], "NORMAL");
    assert_eq!(f[0]["table"], 0);
    assert_pings(&a, &b);
    let f = flows(&sw, "br0");
    assert!(f[0]["n_packets"].as_u64().unwrap() >= 4, "{f:?}");
    let text = sw.ctl_ok(&["dump-flows", "br0"]);
    assert!(
        text.starts_with(" cookie=0x0, duration=") && text.trim_end().ends_with("priority=0 actions=NORMAL"),
        "{text:?}"
    );
    // Ports have OpenFlow numbers from 1.
    assert_eq!(sw.port_info(&a.port).unwrap()["ofport"], 1);
    assert_eq!(sw.port_info(&b.port).unwrap()["ofport"], 2);
}

#[test]
fn acl_drops_ssh_while_icmp_and_http_pass() {
    if !require_root("acl_drops_ssh_while_icmp_and_http_pass") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_veth(&sw, "br0", "10.0.0.1");
    let b = host_on_veth(&sw, "br0", "10.0.0.2");
    let _server = TcpServer::start(&b.ns, &[22, 80]);
    assert!(tcp_transfer(&a.ns, &b.ip, 22, 1000), "TCP/22 before the ACL");
    let rule = format!("priority=100,tcp,in_port={},tp_dst=22,actions=drop", a.port);
    sw.ctl_ok(&["add-flow", "br0", &rule]);
    assert_pings(&a, &b);
    assert!(tcp_transfer(&a.ns, &b.ip, 80, 100_000), "TCP/80 must pass");
    assert!(!tcp_transfer(&a.ns, &b.ip, 22, 1000), "TCP/22 must be dropped");
    let f = flow(&sw, "br0", 100, &format!("tcp,in_port={},tp_dst=22", a.port)).expect("the ACL flow");
    assert_eq!(f["actions"], "drop");
    // The client's SYN and its retransmissions within the 2 s connect
    // timeout: at least one, never a frame of the TCP/80 transfer.
    let dropped = f["n_packets"].as_u64().unwrap();
    assert!((1..=4).contains(&dropped), "{f}");
    // The reverse direction is not covered by the rule.
    let _server_a = TcpServer::start(&a.ns, &[22]);
    assert!(tcp_transfer(&b.ns, &a.ip, 22, 1000), "B to A on 22 is allowed");
    // Deleting the rule opens the port again.
    sw.ctl_ok(&["del-flows", "br0", &format!("tcp,in_port={},tp_dst=22", a.port)]);
    assert!(tcp_transfer(&a.ns, &b.ip, 22, 1000), "TCP/22 after del-flows");
}

#[test]
fn counters_equal_the_frames_sent() {
    if !require_root("counters_equal_the_frames_sent") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_veth(&sw, "br0", "10.0.0.1");
    let b = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_pings(&a, &b);
    let rule = format!("priority=200,icmp,in_port={},icmp_type=8,actions=NORMAL", a.port);
    sw.ctl_ok(&["add-flow", "br0", &rule]);
    a.ns.exec_ok(&["ping", "-c", "7", "-i", "0.2", "-q", &b.ip]);
    let f = flow(&sw, "br0", 200, &format!("icmp,in_port={},icmp_type=8", a.port)).unwrap();
    // 7 echo requests of 98 bytes (14 Ethernet + 20 IP + 8 ICMP + 56 data).
    assert_eq!(f["n_packets"], 7, "{f}");
    assert_eq!(f["n_bytes"], 7 * 98, "{f}");
    // add-flow of the same match and priority resets the counters.
    sw.ctl_ok(&["add-flow", "br0", &rule]);
    let f = flow(&sw, "br0", 200, &format!("icmp,in_port={},icmp_type=8", a.port)).unwrap();
    assert_eq!(f["n_packets"], 0, "{f}");
    // mod-flows keeps them.
    a.ns.exec_ok(&["ping", "-c", "3", "-i", "0.2", "-q", &b.ip]);
    sw.ctl_ok(&[
        "mod-flows",
        "br0",
        &format!("icmp,in_port={},icmp_type=8,actions=normal", a.port),
    ]);
    let f = flow(&sw, "br0", 200, &format!("icmp,in_port={},icmp_type=8", a.port)).unwrap();
    assert_eq!(f["n_packets"], 3, "{f}");
}

#[test]
fn output_to_a_fixed_port_steers_every_frame() {
    if !require_root("output_to_a_fixed_port_steers_every_frame") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_veth(&sw, "br0", "10.0.0.1");
    let b = host_on_veth(&sw, "br0", "10.0.0.2");
    let c = host_on_veth(&sw, "br0", "10.0.0.3");
    assert_pings(&a, &b);
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        &format!("priority=100,in_port={},actions=output:{}", a.port, c.port),
    ]);
    let sniff_b = b.sniffer();
    let sniff_c = c.sniffer();
    let probe = frame(parse_mac(&b.mac), a.mac_bytes(), 0x88b5, b"steered");
    a.inject(&probe);
    assert!(
        sniff_c
            .find(Duration::from_secs(2), |f| f == probe.as_slice())
            .is_some(),
        "C gets A's frame"
    );
    a.inject(&marker(a.mac_bytes(), "m1"));
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        &format!("priority=100,in_port={},actions=output:{}", c.port, b.port),
    ]);
    let c_mark = marker(c.mac_bytes(), "m2");
    c.inject(&c_mark);
    let before = sniff_b.until_marker(Duration::from_secs(2), "m2");
    assert!(
        !before.iter().any(|f| f == &probe),
        "B must not get the frame A sent to its MAC"
    );
    // The bare-number form and the flow's counters.
    let n = flow(&sw, "br0", 100, &format!("in_port={}", a.port)).unwrap();
    assert_eq!(n["actions"], format!("output:{}", c.port));
    assert!(n["n_packets"].as_u64().unwrap() >= 2, "{n}");
}

/// IPv4 header checksum and, for TCP/UDP, the L4 checksum of `f` (an
/// untagged Ethernet frame) are valid.
fn checksums_valid(f: &[u8]) -> bool {
    fn sum(data: &[u8], mut acc: u32) -> u32 {
        for c in data.chunks(2) {
            acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        acc
    }
    fn fold(mut s: u32) -> u16 {
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }
    let ip = &f[14..];
    let ihl = usize::from(ip[0] & 0xf) * 4;
    if fold(sum(&ip[..ihl], 0)) != 0xffff {
        return false;
    }
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let l4 = &ip[ihl..total];
    let proto = ip[9];
    if proto == 17 && l4[6..8] == [0, 0] {
        return true;
    }
    let mut pseudo = sum(&ip[12..20], 0);
    pseudo += u32::from(proto) + l4.len() as u32;
    fold(sum(l4, pseudo)) == 0xffff
}

#[test]
fn address_and_vlan_rewrites_reach_the_wire_with_valid_checksums() {
    if !require_root("address_and_vlan_rewrites_reach_the_wire_with_valid_checksums") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_veth(&sw, "br0", "10.0.0.1");
    let b = host_on_veth(&sw, "br0", "10.0.0.2");
    let c = host_on_veth(&sw, "br0", "10.0.0.3");
    // A sends UDP to 10.0.0.100 (B's MAC, statically): the flow turns it
    // into B's address and port 7777, one hop less, and B gets it. A's
    // checksum offload is off, so the datagram arrives fully checksummed
    // and the incremental update is checked exactly (partially
    // checksummed frames are covered by the TCP test below).
    a.ns.exec_ok(&["ethtool", "-K", &a.ifname, "tx", "off"]);
    a.ns.ip_ok(&["neigh", "add", "10.0.0.100", "lladdr", &b.mac, "dev", &a.ifname]);
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        &format!(
            "priority=100,udp,in_port={},nw_dst=10.0.0.100,actions=mod_nw_dst:10.0.0.2,mod_tp_dst:7777,dec_ttl,mod_dl_src:02:00:00:00:00:99,output:{}",
            a.port, b.port
        ),
    ]);
    let sniff = b.sniffer();
    a.ns.exec_ok(&[
        "python3",
        "-c",
        "import socket; s=socket.socket(2,2); s.sendto(b'rewritten payload', ('10.0.0.100', 5000))",
    ]);
    let got = sniff
        .find(Duration::from_secs(2), |f| {
            f.len() > 42 && f[12..14] == [8, 0] && f[23] == 17
        })
        .expect("B gets the rewritten datagram");
    assert_eq!(&got[6..12], &[2, 0, 0, 0, 0, 0x99], "source MAC rewritten");
    assert_eq!(&got[30..34], &[10, 0, 0, 2], "destination address rewritten");
    assert_eq!(u16::from_be_bytes([got[36], got[37]]), 7777, "port rewritten");
    assert_eq!(got[22], 63, "TTL decremented");
    assert!(checksums_valid(&got), "checksums after the rewrite: {got:02x?}");

    // A VLAN rewrite: C's frames leave tagged 10 towards B, and a tagged
    // frame from B has its tag stripped towards C.
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        &format!(
            "priority=100,in_port={},actions=mod_vlan_vid:10,output:{}",
            c.port, b.port
        ),
    ]);
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        &format!(
            "priority=100,in_port={},dl_vlan=20,actions=strip_vlan,output:{}",
            b.port, c.port
        ),
    ]);
    let probe = frame(parse_mac(&b.mac), c.mac_bytes(), 0x88b5, b"to be tagged");
    c.inject(&probe);
    let seen = sniff
        .find(Duration::from_secs(2), |f| untagged(f) == probe)
        .expect("B gets C's frame");
    assert_eq!(
        outer_tag(&seen).map(|t| t.vid),
        Some(10),
        "tagged with VLAN 10: {seen:02x?}"
    );
    let sniff_c = c.sniffer();
    let back = frame(parse_mac(&c.mac), b.mac_bytes(), 0x88b5, b"to be stripped");
    b.inject(&tagged(&back, VlanTag::vid(20)));
    let seen = sniff_c
        .find(Duration::from_secs(2), |f| untagged(f) == back)
        .expect("C gets B's frame");
    assert_eq!(outer_tag(&seen), None, "the tag is stripped");
}

#[test]
fn tcp_through_address_rewrites_from_an_offloading_tap_host() {
    if !require_root("tcp_through_address_rewrites_from_an_offloading_tap_host") {
        return;
    }
    // A is on a TAP with offloads (partial checksums, TSO super-frames);
    // it talks to a virtual 10.0.0.100 that the flows map to B and back,
    // so every segment is rewritten in both directions. A transfer only
    // completes if every TCP checksum stayed right.
    let sw = Switchd::with_bridge("br0");
    let a = host_on_tap(&sw, "br0", "10.0.0.1");
    let b = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_pings(&a, &b);
    a.ns.ip_ok(&["neigh", "add", "10.0.0.100", "lladdr", &b.mac, "dev", &a.ifname]);
    let flows = format!(
        "priority=100,ip,in_port={a},nw_dst=10.0.0.100,actions=mod_nw_dst:10.0.0.2,output:{b}\n\
         priority=100,ip,in_port={b},nw_src=10.0.0.2,nw_dst=10.0.0.1,actions=mod_nw_src:10.0.0.100,output:{a}\n",
        a = a.port,
        b = b.port
    );
    let file = std::env::temp_dir().join(format!("{}.flows", unique("f")));
    std::fs::write(&file, flows).unwrap();
    sw.ctl_ok(&["add-flows", "br0", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    let _server = TcpServer::start(&b.ns, &[80]);
    assert!(
        tcp_transfer(&a.ns, "10.0.0.100", 80, 4_000_000),
        "4 MB through the rewrites"
    );
    let f = flow(
        &sw,
        "br0",
        100,
        &format!("ip,in_port={},nw_dst=10.0.0.100", a.port),
    )
    .unwrap();
    assert!(f["n_packets"].as_u64().unwrap() > 10, "{f}");
}

#[test]
fn resubmit_and_goto_table_continue_in_other_tables() {
    if !require_root("resubmit_and_goto_table_continue_in_other_tables") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_veth(&sw, "br0", "10.0.0.1");
    let b = host_on_veth(&sw, "br0", "10.0.0.2");
    let _server = TcpServer::start(&b.ns, &[80]);
    let text = format!(
        "# table 0 classifies, table 1 allows ICMP and ARP, table 2 TCP/80\n\
         priority=10,in_port={a},actions=resubmit(,1)\n\
         priority=10,in_port={b},actions=goto_table:1\n\
         table=1,priority=20,icmp,actions=NORMAL\n\
         table=1,priority=20,arp,actions=NORMAL\n\
         table=1,priority=10,tcp,actions=resubmit(,2)\n\
         table=2,priority=5,tcp,tp_dst=80,actions=NORMAL\n\
         table=2,priority=5,tcp,tp_src=80,actions=NORMAL\n",
        a = a.port,
        b = b.port
    );
    let out = Command::new(bin("switchctl"))
        .args([
            "--socket",
            sw.socket().to_str().unwrap(),
            "replace-flows",
            "br0",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(text.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        flows(&sw, "br0").len(),
        7,
        "replace-flows removed the default flow"
    );
    assert_pings(&a, &b);
    assert!(tcp_transfer(&a.ns, &b.ip, 80, 10_000));
    let _server22 = TcpServer::start(&b.ns, &[22]);
    assert!(
        !tcp_transfer(&a.ns, &b.ip, 22, 10),
        "TCP/22 has no flow in table 2"
    );
    assert!(
        sw.drops("br0", &a.port, "no-flow-match") == 0,
        "table 0 matched everything"
    );
    let t2 = flow(&sw, "br0", 5, "tcp,tp_dst=80").unwrap();
    assert_eq!(t2["table"], 2);
    assert!(t2["n_packets"].as_u64().unwrap() > 0);
    // A frame no flow of table 0 takes is counted as no-flow-match.
    sw.ctl_ok(&["del-flows", "br0", &format!("in_port={}", a.port)]);
    assert!(!a.ping_once(&b.ip));
    assert!(sw.drops("br0", &a.port, "no-flow-match") >= 1);
    // A resubmit loop ends at depth 64, counted.
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        &format!("table=3,in_port={},actions=resubmit(,3)", a.port),
    ]);
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        &format!("in_port={},actions=resubmit(,3)", a.port),
    ]);
    assert!(!a.ping_once(&b.ip));
    assert!(sw.drops("br0", &a.port, "flow-recursion") >= 1);
}

#[test]
fn idle_and_hard_timeouts_remove_flows() {
    if !require_root("idle_and_hard_timeouts_remove_flows") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_veth(&sw, "br0", "10.0.0.1");
    let b = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_pings(&a, &b);
    sw.ctl_ok(&["add-flow", "br0", "hard_timeout=2,priority=100,icmp,actions=drop"]);
    assert!(!a.ping_once(&b.ip), "the flow drops ICMP");
    let f = flow(&sw, "br0", 100, "icmp").unwrap();
    assert_eq!(f["hard_timeout"], 2);
    assert!(
        poll_until(Duration::from_secs(5), || flow(&sw, "br0", 100, "icmp").is_none()),
        "hard timeout"
    );
    assert!(a.ping(&b.ip), "ICMP passes once the flow is gone");
    // An idle flow stays while it is used and goes 2 s after the last hit.
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        "idle_timeout=2,priority=100,icmp,actions=NORMAL",
    ]);
    a.ns.exec_ok(&["ping", "-c", "8", "-i", "0.5", "-q", &b.ip]);
    assert!(
        flow(&sw, "br0", 100, "icmp").is_some(),
        "in use for 4 s, still there"
    );
    assert!(
        poll_until(Duration::from_secs(5), || flow(&sw, "br0", 100, "icmp").is_none()),
        "idle timeout"
    );
}

#[test]
fn flows_and_ofports_persist_across_a_restart() {
    if !require_root("flows_and_ofports_persist_across_a_restart") {
        return;
    }
    let mut sw = Switchd::with_bridge("br0");
    let a = host_on_veth(&sw, "br0", "10.0.0.1");
    let b = host_on_veth(&sw, "br0", "10.0.0.2");
    sw.ctl_ok(&["del-port", &a.port]);
    sw.ctl_ok(&["add-port", "br0", &a.port, "ofport_request=7"]);
    assert_eq!(sw.port_info(&a.port).unwrap()["ofport"], 7);
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        &format!("priority=100,tcp,in_port={},tp_dst=22,actions=drop", a.port),
    ]);
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        "table=3,cookie=0x2a,priority=7,arp,actions=NORMAL",
    ]);
    sw.ctl_ok(&[
        "add-flow",
        "br0",
        "hard_timeout=300,priority=9,icmp,actions=NORMAL",
    ]);
    let before: Vec<(Value, Value)> = flows(&sw, "br0")
        .iter()
        .filter(|f| f["hard_timeout"] == 0)
        .map(|f| (f["match"].clone(), f["actions"].clone()))
        .collect();
    assert_eq!(before.len(), 3);
    sw.restart();
    let after: Vec<(Value, Value)> = flows(&sw, "br0")
        .iter()
        .map(|f| (f["match"].clone(), f["actions"].clone()))
        .collect();
    assert_eq!(
        before, after,
        "flows without timeouts come back; the timed one does not"
    );
    assert!(flows(&sw, "br0").iter().any(|f| f["cookie"] == "0x2a"));
    assert_eq!(sw.port_info(&a.port).unwrap()["ofport"], 7);
    assert_eq!(sw.port_info(&b.port).unwrap()["ofport"], 2);
    assert_pings(&a, &b);
    // A bridge back to only its default flow stores nothing and still has it.
    sw.ctl_ok(&["replace-flows", "br0", "/dev/null"]);
    assert!(flows(&sw, "br0").is_empty());
    assert!(!a.ping_once(&b.ip), "no flows: everything is dropped");
    sw.ctl_ok(&["add-flow", "br0", "priority=0,actions=NORMAL"]);
    assert!(
        sw.db_json()["bridges"][0].get("flows").is_none(),
        "{}",
        sw.db_json()
    );
}

#[test]
fn bad_flows_are_refused_with_the_reason_and_change_nothing() {
    if !require_root("bad_flows_are_refused_with_the_reason_and_change_nothing") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_veth(&sw, "br0", "10.0.0.1");
    sw.ctl_ok(&["add-flow", "br0", "priority=5,arp,actions=NORMAL"]);
    let snap = sw.snapshot();
    let dump = sw.ctl_ok(&["dump-flows", "br0"]);
    let cases: &[(&[&str], &str)] = &[
        (&["add-flow", "br0", "tp_dst=22,actions=drop"], "tp_dst"),
        (&["add-flow", "br0", "priority=70000,actions=drop"], "priority"),
        (
            &["add-flow", "br0", "in_port=nosuchport,actions=drop"],
            "nosuchport",
        ),
        (&["add-flow", "br0", "table=255,actions=drop"], "255"),
        (&["add-flow", "br0", "priority=5,arp"], "actions"),
        (&["add-flow", "br0", "ip,actions=mod_vlan_vid:5000"], "4095"),
        (&["add-flow", "br0", "ip,actions=meter:1"], "meter"),
        (&["add-flow", "nobr", "actions=drop"], "nobr"),
        (&["del-flows", "br0", "foo=1"], "foo"),
        (&["dump-flows", "br0", "tcp,tp_dst=99999"], "tp_dst"),
    ];
    for (args, needle) in cases {
        let reason = sw.ctl_err(args);
        assert!(
            reason.contains(needle),
            "{args:?}: {reason:?} does not name {needle:?}"
        );
    }
    // add-flows is all or nothing, and names the bad line.
    let file = std::env::temp_dir().join(format!("{}.flows", unique("f")));
    std::fs::write(
        &file,
        "priority=1,icmp,actions=drop\n\n# comment\nicmp,tp_dst=1,actions=drop\n",
    )
    .unwrap();
    let reason = sw.ctl_err(&["add-flows", "br0", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    assert!(reason.contains("line 4"), "{reason}");
    let reason = sw.ctl_err(&["add-flows", "br0", "/nonexistent/flows"]);
    assert!(reason.contains("/nonexistent/flows"), "{reason}");
    assert_eq!(sw.snapshot(), snap, "refused commands changed state or db");
    assert_eq!(
        sw.ctl_ok(&["dump-flows", "br0"]).lines().count(),
        dump.lines().count()
    );
    assert!(!a.port.is_empty());
}

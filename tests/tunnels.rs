//! VXLAN and GRE tunnel ports through the real daemon. Each test builds an
//! underlay of its own: a veth pair between namespaces with 10.0.0.0/24
//! addresses (namespaces are separate networks, so tests can reuse them).
//!
//! Independent peers and observers: the Linux kernel's own `vxlan` device
//! is the far end of the VXLAN interoperability test, `tcpdump -v` decodes
//! what crosses the underlay, and malformed packets are written byte by
//! byte with plain UDP and raw GRE sockets from the underlay namespace.
//! Needs root and `tcpdump`; see tests/common/mod.rs.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// Switch side of every underlay.
const SW_IP: &str = "10.0.0.1";
/// Peer side of every underlay.
const PEER_IP: &str = "10.0.0.2";
/// A second address on the peer side, which no tunnel port knows.
const STRANGER_IP: &str = "10.0.0.3";

/// A switch with bridge `br0` and one host on a TAP port with `host_ip`.
fn switch_and_host(host_ip: &str) -> (Switchd, Host) {
    let sw = Switchd::with_bridge("br0");
    let host = host_on_tap(&sw, "br0", host_ip);
    (sw, host)
}

/// The `port-stats` row of a tunnel endpoint (e.g. `vxlan:0.0.0.0:4789`).
fn endpoint_row(sw: &Switchd, name: &str) -> Value {
    let stats = sw.ctl_json(&["port-stats"]);
    stats
        .as_array()
        .and_then(|a| a.iter().find(|s| s["port"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("port-stats has no row {name}: {stats}"))
}

/// A drop counter of a tunnel endpoint's row (0 if absent).
fn endpoint_drops(sw: &Switchd, name: &str, reason: &str) -> u64 {
    endpoint_row(sw, name)["drops"][reason].as_u64().unwrap_or(0)
}

fn assert_reaches(a: &Host, b_ip: &str) {
    assert!(a.ping(b_ip), "{} cannot ping {b_ip}", a.ip);
}

fn assert_no_ping(a: &Host, b_ip: &str) {
    assert!(!a.ping_once(b_ip), "{} can ping {b_ip} but should not", a.ip);
}

// ---------------------------------------------------------------------------
// tcpdump on the underlay
// ---------------------------------------------------------------------------

/// A running `tcpdump -n -v -l` inside a namespace. Killed (by its own pid:
/// `ip netns exec` execs tcpdump in place) if still running when dropped.
struct Capture {
    child: Child,
    stdout: Option<std::process::ChildStdout>,
}

impl Capture {
    /// Starts capturing `count` packets matching `filter` on `dev`, and
    /// returns once tcpdump says it is listening.
    fn start(ns: &Netns, dev: &str, count: usize, filter: &[&str]) -> Capture {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &ns.name, "tcpdump", "-n", "-v", "-e", "-l"])
            .args(["-i", dev, "-c", &count.to_string()])
            .args(filter)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run tcpdump (is it installed? scripts/test.sh installs it)");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut said = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains("listening on") => break,
                Ok(line) => said.push(line),
                Err(_) => {
                    let _ = child.kill();
                    panic!("tcpdump did not start listening: {said:?}");
                }
            }
        }
        let stdout = child.stdout.take();
        Capture { child, stdout }
    }

    /// Waits up to `limit` for tcpdump to see its packets and exit (else
    /// stops it) and returns what it printed.
    fn finish(mut self, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.child.try_wait().expect("waitpid").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut out = String::new();
        if let Some(mut s) = self.stdout.take() {
            let _ = s.read_to_string(&mut out);
        }
        out
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// Hand-made tunnel packets
// ---------------------------------------------------------------------------

/// Sends `payload` in a UDP datagram from `from` to `SW_IP:4789`, from a
/// socket inside `ns`.
fn send_udp(ns: &Netns, from: &str, payload: &[u8]) {
    let from: Ipv4Addr = from.parse().expect("IPv4 address");
    let payload = payload.to_vec();
    in_netns(&ns.name, move || {
        let s = UdpSocket::bind(SocketAddrV4::new(from, 0)).expect("bind UDP");
        s.send_to(&payload, (SW_IP, 4789)).expect("send UDP");
    });
}

/// Sends `payload` (GRE header and what follows) in an IPv4 packet of
/// protocol 47 from `from` to `SW_IP`, from a raw socket inside `ns`.
fn send_gre(ns: &Netns, from: &str, payload: &[u8]) {
    let from: Ipv4Addr = from.parse().expect("IPv4 address");
    let payload = payload.to_vec();
    in_netns(&ns.name, move || {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_GRE) };
        assert!(fd >= 0, "raw GRE socket: {}", std::io::Error::last_os_error());
        // SAFETY: `fd` was just returned by socket(2) and nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let sin = |ip: Ipv4Addr| libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from(ip).to_be(),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let local = sin(from);
        // SAFETY: `local` is a valid sockaddr_in of length `len`.
        let rc = unsafe { libc::bind(fd.as_raw_fd(), (&local as *const libc::sockaddr_in).cast(), len) };
        assert_eq!(rc, 0, "bind raw GRE socket: {}", std::io::Error::last_os_error());
        let to = sin(SW_IP.parse().expect("IPv4 address"));
        // SAFETY: `payload` and `to` are valid for reads of the lengths passed.
        let n = unsafe {
            libc::sendto(
                fd.as_raw_fd(),
                payload.as_ptr().cast(),
                payload.len(),
                0,
                (&to as *const libc::sockaddr_in).cast(),
                len,
            )
        };
        assert_eq!(
            n,
            payload.len() as isize,
            "send GRE: {}",
            std::io::Error::last_os_error()
        );
    });
}

/// RFC 7348 header with VNI `vni` (flags exactly the I bit).
fn vxlan_header(vni: u32) -> Vec<u8> {
    let v = vni.to_be_bytes();
    vec![0x08, 0, 0, 0, v[1], v[2], v[3], 0]
}

/// Ethernet-over-GRE header with key `key` (RFC 2890 K bit).
fn gre_header(key: u32) -> Vec<u8> {
    let mut h = vec![0x20, 0x00, 0x65, 0x58];
    h.extend_from_slice(&key.to_be_bytes());
    h
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// switchd against the kernel's own VXLAN implementation: a `vxlan` device
/// with VNI 42 in another namespace, reached over a veth underlay. Pings go
/// both ways, the device's MAC is learned on the vxlan port, the UDP source
/// port varies per flow within 32768–61000, the MTU shown is the underlay's
/// minus 50 and a bigger frame is dropped as too-big, and a VNI mismatch
/// does not pass (counted as an unknown key).
#[test]
fn vxlan_interop_with_kernel_vxlan_device() {
    if !require_root("vxlan_interop_with_kernel_vxlan_device") {
        return;
    }
    let (sw, host) = switch_and_host("192.168.50.1");
    let peer = Netns::new();
    let (sw_dev, peer_dev) = underlay(&sw.ns, &peer, SW_IP, PEER_IP);
    let kvx = unique("kx");
    peer.ip_ok(&[
        "link", "add", &kvx, "type", "vxlan", "id", "42", "dstport", "4789", "remote", SW_IP, "local",
        PEER_IP,
    ]);
    peer.ip_ok(&["addr", "add", "192.168.50.2/24", "dev", &kvx]);
    peer.ip_ok(&["link", "set", "dev", &kvx, "up"]);
    let kvx_mac = peer.mac(&kvx);

    sw.ctl_ok(&[
        "add-port",
        "br0",
        "vx0",
        "type=vxlan",
        &format!("remote_ip={PEER_IP}"),
        "key=42",
    ]);
    let info = sw.port_info("vx0").expect("vx0 in show");
    assert_eq!(info["state"]["state"], "up", "{info}");
    assert_eq!(info["mtu"], 1450, "VXLAN over a 1500 underlay: {info}");

    assert_reaches(&host, "192.168.50.2");
    assert!(
        ping(&peer, "192.168.50.1"),
        "the kernel vxlan side cannot ping the host behind switchd"
    );
    let fdb = sw.fdb("br0");
    assert!(
        fdb.iter()
            .any(|e| e["port"] == "vx0" && e["mac"] == kvx_mac.as_str()),
        "kernel vxlan MAC {kvx_mac} not learned on vx0: {fdb:?}"
    );
    assert!(
        fdb.iter()
            .any(|e| e["port"] == host.port && e["mac"] == host.mac.as_str()),
        "host MAC not learned on its port: {fdb:?}"
    );

    // Per-flow UDP source ports: 8 UDP flows from the host, seen on the wire.
    let cap = Capture::start(
        &peer,
        &peer_dev,
        8,
        &["udp", "dst", "port", "4789", "and", "src", "host", SW_IP],
    );
    for port in 0..8u16 {
        host.ns.exec_ok(&[
            "bash",
            "-c",
            &format!("echo flow > /dev/udp/192.168.50.2/{}", 7000 + port),
        ]);
    }
    let text = cap.finish(Duration::from_secs(5));
    eprintln!("tcpdump on the VXLAN underlay:\n{text}");
    let ports: std::collections::BTreeSet<u16> = text
        .lines()
        .filter_map(|l| l.split(&format!("{SW_IP}.")).nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect();
    assert!(!ports.is_empty(), "no VXLAN packets captured:\n{text}");
    assert!(
        ports.iter().all(|p| (32768..61000).contains(p)),
        "source ports outside 32768-61000: {ports:?}\n{text}"
    );
    assert!(
        ports.len() >= 2,
        "8 flows used one source port: {ports:?}\n{text}"
    );
    assert!(text.contains("VXLAN, flags [I] (0x08), vni 42"), "{text}");

    // MTU: 1422 bytes of ICMP payload make a 1450-byte IP packet, the most
    // that fits; one more byte is dropped by the switch as too-big.
    let ok = host.ns.exec(&[
        "ping",
        "-c",
        "1",
        "-W",
        "1",
        "-M",
        "do",
        "-s",
        "1422",
        "192.168.50.2",
    ]);
    assert!(ok.status.success(), "a 1450-byte packet did not pass");
    let before = sw.drops("br0", "vx0", "too-big");
    let big = host.ns.exec(&[
        "ping",
        "-c",
        "1",
        "-W",
        "1",
        "-M",
        "do",
        "-s",
        "1423",
        "192.168.50.2",
    ]);
    assert!(!big.status.success(), "a 1451-byte packet passed a 1450 MTU");
    assert_eq!(sw.drops("br0", "vx0", "too-big"), before + 1);

    // A smaller underlay MTU is picked up (the route is re-read each second).
    sw.ns.ip_ok(&["link", "set", "dev", &sw_dev, "mtu", "1400"]);
    assert!(
        poll_until(Duration::from_secs(5), || sw.port_info("vx0").unwrap()["mtu"]
            == 1350),
        "MTU not updated: {}",
        sw.port_info("vx0").unwrap()
    );
    sw.ns.ip_ok(&["link", "set", "dev", &sw_dev, "mtu", "1500"]);
    assert!(poll_until(Duration::from_secs(5), || sw
        .port_info("vx0")
        .unwrap()["mtu"]
        == 1450));

    // VNI mismatch: the switch now speaks VNI 43, the kernel 42.
    sw.ctl_ok(&["del-port", "vx0"]);
    sw.ctl_ok(&[
        "add-port",
        "br0",
        "vx0",
        "type=vxlan",
        &format!("remote_ip={PEER_IP}"),
        "key=43",
    ]);
    sw.ctl_ok(&["fdb-flush"]);
    peer.ip_ok(&["neigh", "flush", "dev", &kvx]);
    host.ns.ip_ok(&["neigh", "flush", "dev", &host.ifname]);
    assert_no_ping(&host, "192.168.50.2");
    assert!(!ping(&peer, "192.168.50.1"), "VNI 42 reached a VNI 43 port");
    assert!(
        endpoint_drops(&sw, "vxlan:0.0.0.0:4789", "tunnel-unknown-key") > 0,
        "{}",
        endpoint_row(&sw, "vxlan:0.0.0.0:4789")
    );
    assert_eq!(sw.port_stats("br0", "vx0")["rx_packets"], 0);
}

/// A kernel vxlan device already holding UDP 4789 in the switch's namespace:
/// `add-port` of a vxlan port fails with a clear reason and leaves nothing;
/// a stored port restored in that situation is down with the reason and
/// comes up by itself once the UDP port is free. Also: a duplicate peer/VNI
/// is refused, and a port with `local_ip` cannot share a UDP port with one
/// without.
#[test]
fn vxlan_port_on_a_taken_udp_port_is_refused() {
    if !require_root("vxlan_port_on_a_taken_udp_port_is_refused") {
        return;
    }
    let mut sw = Switchd::with_bridge("br0");
    let peer = Netns::new();
    underlay(&sw.ns, &peer, SW_IP, PEER_IP);
    sw.ctl_ok(&[
        "add-port",
        "br0",
        "vx9",
        "type=vxlan",
        "remote_ip=10.0.0.9",
        "key=9",
    ]);
    sw.stop();
    let kvx = unique("kx");
    let kernel_vxlan = |sw: &Switchd| {
        sw.ns.ip_ok(&[
            "link", "add", &kvx, "type", "vxlan", "id", "1", "dstport", "4789", "remote", PEER_IP,
        ]);
        sw.ns.ip_ok(&["link", "set", "dev", &kvx, "up"]);
    };
    kernel_vxlan(&sw);
    sw.spawn();
    let info = sw.port_info("vx9").expect("vx9 restored");
    assert_eq!(info["state"]["state"], "down", "{info}");
    assert!(
        info["state"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("UDP port 4789 on 0.0.0.0 is already in use")),
        "{info}"
    );

    let e = sw.ctl_err(&["add-port", "br0", "vx0", "type=vxlan", "remote_ip=10.0.0.8"]);
    assert!(
        e.contains("cannot add port \"vx0\"") && e.contains("UDP port 4789 on 0.0.0.0 is already in use"),
        "{e}"
    );
    assert!(sw.port_info("vx0").is_none(), "refused port stayed configured");

    // The UDP port is freed: the restored port comes up by itself.
    sw.ns.ip_ok(&["link", "del", "dev", &kvx]);
    assert!(
        poll_until(Duration::from_secs(5), || sw.port_info("vx9").unwrap()["state"]
            ["state"]
            == "up"),
        "{}",
        sw.port_info("vx9").unwrap()
    );

    // A duplicate peer and VNI is refused.
    let e = sw.ctl_err(&[
        "add-port",
        "br0",
        "vx1",
        "type=vxlan",
        "remote_ip=10.0.0.9",
        "key=9",
    ]);
    assert!(
        e.contains("port \"vx9\" already has remote_ip=10.0.0.9 key=9 on vxlan:0.0.0.0:4789"),
        "{e}"
    );
    // The same peer with another VNI is fine, on the same socket.
    sw.ctl_ok(&[
        "add-port",
        "br0",
        "vx1",
        "type=vxlan",
        "remote_ip=10.0.0.9",
        "key=10",
    ]);
    // A specific local address cannot share UDP 4789 with the wildcard socket.
    let e = sw.ctl_err(&[
        "add-port",
        "br0",
        "vx2",
        "type=vxlan",
        "remote_ip=10.0.0.2",
        &format!("local_ip={SW_IP}"),
    ]);
    assert!(
        e.contains("UDP port 4789 is already used by endpoint vxlan:0.0.0.0:4789 of this switchd"),
        "{e}"
    );
    // ... but another dst_port is another socket.
    sw.ctl_ok(&[
        "add-port",
        "br0",
        "vx2",
        "type=vxlan",
        "remote_ip=10.0.0.2",
        &format!("local_ip={SW_IP}"),
        "dst_port=4790",
    ]);
    let rows = sw.ctl_json(&["port-stats", "br0"]);
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["port"].as_str())
        .collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("vxlan:"))
            .collect::<Vec<_>>(),
        [&"vxlan:0.0.0.0:4789", &"vxlan:10.0.0.1:4790"],
        "{rows}"
    );
    // The endpoint closes with its last port.
    for p in ["vx9", "vx1"] {
        sw.ctl_ok(&["del-port", p]);
    }
    let rows = sw.ctl_json(&["port-stats"]).to_string();
    assert!(!rows.contains("vxlan:0.0.0.0:4789"), "{rows}");
    assert!(sw
        .log()
        .contains("tunnel endpoint closed endpoint=vxlan:0.0.0.0:4789"));
}

/// Ethernet over GRE between two switchd instances, each in its own
/// namespace with a host behind it: pings both ways; tcpdump decodes the
/// underlay packets as GRE version 0, key 0x2a, protocol TEB (0x6558); a
/// key mismatch does not pass; ports without a key work too; a restarted
/// switchd re-opens its tunnel.
#[test]
fn gre_between_two_switchd_instances() {
    if !require_root("gre_between_two_switchd_instances") {
        return;
    }
    // A veth host on `a`: a TAP host would lose its device when `a` stops.
    let mut a = Switchd::with_bridge("br0");
    let ha = host_on_veth(&a, "br0", "192.168.60.1");
    let (b, hb) = switch_and_host("192.168.60.2");
    let (_, b_dev) = underlay(&a.ns, &b.ns, SW_IP, PEER_IP);
    a.ctl_ok(&[
        "add-port",
        "br0",
        "gre0",
        "type=gre",
        &format!("remote_ip={PEER_IP}"),
        "key=42",
    ]);
    b.ctl_ok(&[
        "add-port",
        "br0",
        "gre0",
        "type=gre",
        &format!("remote_ip={SW_IP}"),
        "key=42",
    ]);
    let info = a.port_info("gre0").expect("gre0 in show");
    assert_eq!(info["state"]["state"], "up", "{info}");
    // 1500 - 20 (IPv4) - 8 (GRE with key) - 14 (inner Ethernet)
    assert_eq!(info["mtu"], 1458, "{info}");

    let cap = Capture::start(
        &b.ns,
        &b_dev,
        2,
        &["ip", "proto", "47", "and", "src", "host", SW_IP],
    );
    assert_reaches(&ha, &hb.ip);
    let text = cap.finish(Duration::from_secs(5));
    eprintln!("tcpdump on the GRE underlay:\n{text}");
    assert!(
        text.contains("GREv0, Flags [key present], key=0x2a, proto TEB (0x6558)"),
        "GRE not decoded as expected:\n{text}"
    );
    assert_reaches(&hb, &ha.ip);
    let fdb = a.fdb("br0");
    assert!(
        fdb.iter()
            .any(|e| e["port"] == "gre0" && e["mac"] == hb.mac.as_str()),
        "far host not learned on gre0: {fdb:?}"
    );

    // Key mismatch.
    b.ctl_ok(&["del-port", "gre0"]);
    b.ctl_ok(&[
        "add-port",
        "br0",
        "gre0",
        "type=gre",
        &format!("remote_ip={SW_IP}"),
        "key=43",
    ]);
    for sw in [&a, &b] {
        sw.ctl_ok(&["fdb-flush"]);
    }
    for h in [&ha, &hb] {
        h.ns.ip_ok(&["neigh", "flush", "dev", &h.ifname]);
    }
    assert_no_ping(&ha, &hb.ip);
    assert_no_ping(&hb, &ha.ip);
    assert!(endpoint_drops(&a, "gre:0.0.0.0", "tunnel-unknown-key") > 0);
    assert!(endpoint_drops(&b, "gre:0.0.0.0", "tunnel-unknown-key") > 0);

    // Keyed on one side, no key on the other: still no.
    b.ctl_ok(&["del-port", "gre0"]);
    b.ctl_ok(&[
        "add-port",
        "br0",
        "gre0",
        "type=gre",
        &format!("remote_ip={SW_IP}"),
    ]);
    assert_no_ping(&hb, &ha.ip);

    // No key on either side.
    a.ctl_ok(&["del-port", "gre0"]);
    a.ctl_ok(&[
        "add-port",
        "br0",
        "gre0",
        "type=gre",
        &format!("remote_ip={PEER_IP}"),
    ]);
    assert_eq!(a.port_info("gre0").unwrap()["mtu"], 1462);
    assert_reaches(&ha, &hb.ip);

    // Restored from the db after a restart.
    a.restart();
    assert_eq!(a.port_info("gre0").unwrap()["state"]["state"], "up");
    assert_reaches(&hb, &ha.ip);
}

/// 802.1Q travels inside the encapsulation: two switchd joined by VXLAN,
/// each with a host in VLAN 10 and one in VLAN 20, all in one IP subnet.
/// Same-VLAN hosts reach each other, different VLANs do not, and the
/// underlay carries the inner frames tagged.
#[test]
fn vlans_over_a_vxlan_tunnel() {
    if !require_root("vlans_over_a_vxlan_tunnel") {
        return;
    }
    let a = Switchd::with_bridge("br0");
    let b = Switchd::with_bridge("br0");
    let (_, b_dev) = underlay(&a.ns, &b.ns, SW_IP, PEER_IP);
    a.ctl_ok(&[
        "add-port",
        "br0",
        "vx0",
        "type=vxlan",
        &format!("remote_ip={PEER_IP}"),
        "key=5000",
    ]);
    b.ctl_ok(&[
        "add-port",
        "br0",
        "vx0",
        "type=vxlan",
        &format!("remote_ip={SW_IP}"),
        "key=5000",
    ]);
    let a10 = host_on_tap_with(&a, "br0", "192.168.80.1", &["tag=10"]);
    let a20 = host_on_tap_with(&a, "br0", "192.168.80.3", &["tag=20"]);
    let b10 = host_on_tap_with(&b, "br0", "192.168.80.2", &["tag=10"]);
    let b20 = host_on_tap_with(&b, "br0", "192.168.80.4", &["tag=20"]);

    let cap = Capture::start(
        &b.ns,
        &b_dev,
        1,
        &["udp", "port", "4789", "and", "src", "host", SW_IP],
    );
    assert_reaches(&a10, &b10.ip);
    let text = cap.finish(Duration::from_secs(5));
    eprintln!("tcpdump on the VXLAN underlay:\n{text}");
    assert!(
        text.contains("vni 5000") && text.contains("vlan 10"),
        "inner frame not tagged 10 in VNI 5000:\n{text}"
    );
    assert_reaches(&a20, &b20.ip);
    assert_reaches(&b10, &a10.ip);
    assert_no_ping(&a10, &b20.ip);
    assert_no_ping(&a20, &b10.ip);
    assert_no_ping(&b20, &a10.ip);
    let fdb = a.fdb("br0");
    assert!(
        fdb.iter()
            .any(|e| e["port"] == "vx0" && e["vlan"] == 10 && e["mac"] == b10.mac.as_str()),
        "{fdb:?}"
    );
    assert!(
        fdb.iter()
            .any(|e| e["port"] == "vx0" && e["vlan"] == 20 && e["mac"] == b20.mac.as_str()),
        "{fdb:?}"
    );
}

/// Malformed and unwanted tunnel packets written by hand from the underlay:
/// each is dropped and counted under its reason, on the endpoint (bad outer
/// header, unknown peer or VNI/key) or on the port (a runt inner frame),
/// and the switch goes on forwarding on both tunnels.
#[test]
fn malformed_tunnel_packets_are_counted_and_forwarding_goes_on() {
    if !require_root("malformed_tunnel_packets_are_counted_and_forwarding_goes_on") {
        return;
    }
    let (sw, host) = switch_and_host("192.168.70.1");
    let peer = Netns::new();
    let (_, peer_dev) = underlay(&sw.ns, &peer, SW_IP, PEER_IP);
    peer.ip_ok(&["addr", "add", &format!("{STRANGER_IP}/24"), "dev", &peer_dev]);
    let kvx = unique("kx");
    peer.ip_ok(&[
        "link", "add", &kvx, "type", "vxlan", "id", "42", "dstport", "4789", "remote", SW_IP, "local",
        PEER_IP,
    ]);
    peer.ip_ok(&["addr", "add", "192.168.70.2/24", "dev", &kvx]);
    peer.ip_ok(&["link", "set", "dev", &kvx, "up"]);
    sw.ctl_ok(&[
        "add-port",
        "br0",
        "vx0",
        "type=vxlan",
        &format!("remote_ip={PEER_IP}"),
        "key=42",
    ]);
    sw.ctl_ok(&[
        "add-port",
        "br0",
        "gre0",
        "type=gre",
        &format!("remote_ip={PEER_IP}"),
        "key=7",
    ]);
    assert_reaches(&host, "192.168.70.2");

    let sniff = host.sniffer();
    let src = [0x02, 0, 0, 0, 0x70, 0x01];
    let good_inner = marker(src, "garbage");
    let with = |h: Vec<u8>, inner: &[u8]| [h, inner.to_vec()].concat();
    // VXLAN
    send_udp(&peer, PEER_IP, &[0x08, 0, 0, 0]); // truncated header
    send_udp(
        &peer,
        PEER_IP,
        &with(vec![0x0c, 0, 0, 0, 0, 0, 42, 0], &good_inner),
    ); // GPE P bit
    send_udp(
        &peer,
        PEER_IP,
        &with(vec![0x08, 0, 0, 0, 0, 0, 42, 1], &good_inner),
    ); // reserved byte
    send_udp(&peer, PEER_IP, &with(vxlan_header(99), &good_inner)); // unknown VNI
    send_udp(&peer, STRANGER_IP, &with(vxlan_header(42), &good_inner)); // unknown peer
    send_udp(&peer, PEER_IP, &with(vxlan_header(42), &good_inner[..10])); // runt inner frame
                                                                          // GRE
    send_gre(&peer, PEER_IP, &[0x20, 0x00]); // truncated
    send_gre(&peer, PEER_IP, &[0x20, 0x00, 0x65, 0x58, 0, 0]); // key announced, not there
    send_gre(
        &peer,
        PEER_IP,
        &with(vec![0x20, 0x01, 0x88, 0x0b, 0, 0, 0, 7], &good_inner),
    ); // version 1
    send_gre(
        &peer,
        PEER_IP,
        &with(vec![0x60, 0x00, 0x65, 0x58, 0, 0, 0, 7], &good_inner),
    ); // routing bit
    send_gre(
        &peer,
        PEER_IP,
        &with(vec![0x20, 0x00, 0x08, 0x00, 0, 0, 0, 7], &good_inner),
    ); // IPv4, not Ethernet
    send_gre(&peer, PEER_IP, &with(gre_header(8), &good_inner)); // unknown key
    send_gre(&peer, STRANGER_IP, &with(gre_header(7), &good_inner)); // unknown peer

    let vx = "vxlan:0.0.0.0:4789";
    let expect_vx = [
        ("tunnel-truncated", 1),
        ("tunnel-bad-flags", 2),
        ("tunnel-unknown-key", 1),
        ("tunnel-unknown-peer", 1),
    ];
    let expect_gre = [
        ("tunnel-truncated", 2),
        ("tunnel-bad-version", 1),
        ("tunnel-bad-flags", 1),
        ("tunnel-not-ethernet", 1),
        ("tunnel-unknown-key", 1),
        ("tunnel-unknown-peer", 1),
    ];
    let counted = || {
        let (v, g) = (endpoint_row(&sw, vx), endpoint_row(&sw, "gre:0.0.0.0"));
        expect_vx.iter().all(|(r, n)| v["drops"][*r] == *n)
            && expect_gre.iter().all(|(r, n)| g["drops"][*r] == *n)
            && sw.drops("br0", "vx0", "runt") == 1
    };
    assert!(
        poll_until(Duration::from_secs(5), counted),
        "drops not as expected:\n{}\n{}\nvx0: {}",
        endpoint_row(&sw, vx),
        endpoint_row(&sw, "gre:0.0.0.0"),
        sw.port_stats("br0", "vx0")
    );
    assert_eq!(endpoint_row(&sw, vx)["rx_dropped"], 5);
    assert_eq!(endpoint_row(&sw, "gre:0.0.0.0")["rx_dropped"], 7);
    // None of it reached the host; a good GRE packet does.
    send_gre(&peer, PEER_IP, &with(gre_header(7), &marker(src, "good")));
    let before = sniff.until_marker(Duration::from_secs(3), "good");
    assert!(before.iter().all(|f| !from_mac(f, src)), "{before:02x?}");
    assert_eq!(sw.port_stats("br0", "gre0")["rx_packets"], 1);
    // And VXLAN still forwards both ways.
    assert_reaches(&host, "192.168.70.2");
    assert!(ping(&peer, "192.168.70.1"));
    let mut sw = sw;
    assert!(sw.is_running(), "switchd died");
}

/// Like [`underlay`], over IPv6: `a_ip`/64 and `b_ip`/64 (no duplicate
/// address detection, so they are usable at once). IPv6 is turned on for
/// these two devices only; the rest of each namespace stays IPv4-only.
fn underlay6(a: &Netns, b: &Netns, a_ip: &str, b_ip: &str) -> (String, String) {
    let (da, db) = (unique("ua"), unique("ub"));
    a.ip_ok(&[
        "link", "add", "dev", &da, "type", "veth", "peer", "name", &db, "netns", &b.name,
    ]);
    for (ns, dev, ip) in [(a, &da, a_ip), (b, &db, b_ip)] {
        ns.exec_ok(&[
            "sysctl",
            "-q",
            "-w",
            &format!("net.ipv6.conf.{dev}.disable_ipv6=0"),
        ]);
        ns.ip_ok(&["-6", "addr", "add", &format!("{ip}/64"), "dev", dev, "nodad"]);
        ns.ip_ok(&["link", "set", "dev", dev, "up"]);
    }
    (da, db)
}

/// VXLAN over IPv6 against the kernel's vxlan device, which by default
/// sends and requires UDP checksums over IPv6 (switchd's are computed by
/// the kernel through `IPV6_CHECKSUM`): pings both ways, MTU 1500 - 70.
#[test]
fn vxlan_over_ipv6_with_kernel_vxlan_device() {
    if !require_root("vxlan_over_ipv6_with_kernel_vxlan_device") {
        return;
    }
    let (sw, host) = switch_and_host("192.168.90.1");
    let peer = Netns::new();
    let (_, peer_dev) = underlay6(&sw.ns, &peer, "fd00::1", "fd00::2");
    let kvx = unique("kx");
    peer.ip_ok(&[
        "link", "add", &kvx, "type", "vxlan", "id", "7", "dstport", "4789", "remote", "fd00::1", "local",
        "fd00::2",
    ]);
    let details = peer.ip_ok(&["-d", "link", "show", "dev", &kvx]);
    assert!(details.contains("noudp6zerocsumrx"), "{details}");
    peer.ip_ok(&["addr", "add", "192.168.90.2/24", "dev", &kvx]);
    peer.ip_ok(&["link", "set", "dev", &kvx, "up"]);
    sw.ctl_ok(&[
        "add-port",
        "br0",
        "vx6",
        "type=vxlan",
        "remote_ip=fd00::2",
        "key=7",
    ]);
    assert_eq!(sw.port_info("vx6").unwrap()["mtu"], 1430);

    let cap = Capture::start(
        &peer,
        &peer_dev,
        1,
        &["ip6", "and", "udp", "and", "src", "host", "fd00::1"],
    );
    assert_reaches(&host, "192.168.90.2");
    let text = cap.finish(Duration::from_secs(5));
    assert!(text.contains("VXLAN, flags [I] (0x08), vni 7"), "{text}");
    assert!(ping(&peer, "192.168.90.1"), "kernel side cannot ping over IPv6");
    assert!(
        endpoint_row(&sw, "vxlan:[::]:4789")["rx_packets"]
            .as_u64()
            .unwrap()
            > 0
    );
}

/// GRE over IPv6 between two switchd, with `local_ip` set on one side.
#[test]
fn gre_over_ipv6_between_two_switchd_instances() {
    if !require_root("gre_over_ipv6_between_two_switchd_instances") {
        return;
    }
    let (a, ha) = switch_and_host("192.168.91.1");
    let (b, hb) = switch_and_host("192.168.91.2");
    underlay6(&a.ns, &b.ns, "fd00::1", "fd00::2");
    a.ctl_ok(&[
        "add-port",
        "br0",
        "g6",
        "type=gre",
        "remote_ip=fd00::2",
        "local_ip=fd00::1",
        "key=9",
    ]);
    b.ctl_ok(&["add-port", "br0", "g6", "type=gre", "remote_ip=fd00::1", "key=9"]);
    // 1500 - 40 (IPv6) - 8 (GRE with key) - 14
    assert_eq!(a.port_info("g6").unwrap()["mtu"], 1438);
    assert_reaches(&ha, &hb.ip);
    assert_reaches(&hb, &ha.ip);
    assert!(endpoint_row(&a, "gre:[fd00::1]")["rx_packets"].as_u64().unwrap() > 0);
    assert!(endpoint_row(&b, "gre:[::]")["rx_packets"].as_u64().unwrap() > 0);
    // A local_ip that is not an address of the host is refused, clearly.
    let e = a.ctl_err(&[
        "add-port",
        "br0",
        "g7",
        "type=gre",
        "remote_ip=fd00::2",
        "local_ip=fd00::99",
    ]);
    assert!(
        e.contains("local_ip fd00::99 is not an address of this host"),
        "{e}"
    );
}

/// One switch, two VXLAN peers (kernel vxlan devices in two namespaces on
/// two underlay links) and a local host: a broadcast from the host is
/// copied to both tunnels (head-end replication), a broadcast from one
/// tunnel reaches the host but not the other tunnel (split horizon).
#[test]
fn head_end_replication_and_split_horizon() {
    if !require_root("head_end_replication_and_split_horizon") {
        return;
    }
    let (sw, host) = switch_and_host("192.168.95.1");
    let mut peers = Vec::new();
    for (i, vni) in [(1u8, "101"), (2, "102")] {
        let ns = Netns::new();
        let (sw_ip, peer_ip) = (format!("10.0.{i}.1"), format!("10.0.{i}.2"));
        underlay(&sw.ns, &ns, &sw_ip, &peer_ip);
        let kvx = unique("kx");
        ns.ip_ok(&[
            "link", "add", &kvx, "type", "vxlan", "id", vni, "dstport", "4789", "remote", &sw_ip, "local",
            &peer_ip,
        ]);
        ns.ip_ok(&["addr", "add", &format!("192.168.95.{}/24", 10 + i), "dev", &kvx]);
        ns.ip_ok(&["link", "set", "dev", &kvx, "up"]);
        sw.ctl_ok(&[
            "add-port",
            "br0",
            &format!("vx{i}"),
            "type=vxlan",
            &format!("remote_ip={peer_ip}"),
            &format!("key={vni}"),
        ]);
        peers.push((ns, kvx));
    }
    let sniff: Vec<Sniffer> = peers.iter().map(|(ns, dev)| Sniffer::open(ns, dev)).collect();
    let host_sniff = host.sniffer();

    // From the host: to both tunnels.
    host.inject(&marker(host.mac_bytes(), "from-host"));
    for s in &sniff {
        assert!(
            s.wait_for(Duration::from_secs(3), |f| is_marker(f, "from-host")),
            "a tunnel peer missed the host's broadcast"
        );
    }
    // From tunnel 1: to the host only.
    let (ns1, dev1) = &peers[0];
    let mac1 = parse_mac(&ns1.mac(dev1));
    inject(ns1, dev1, &marker(mac1, "from-peer1"));
    assert!(host_sniff.wait_for(Duration::from_secs(3), |f| is_marker(f, "from-peer1")));
    // Then a marker from the host, which peer 2 does get: whatever the
    // switch had sent it of peer 1's broadcast would have arrived first.
    host.inject(&marker(host.mac_bytes(), "after"));
    let before = sniff[1].until_marker(Duration::from_secs(3), "after");
    assert!(
        before.iter().all(|f| !is_marker(f, "from-peer1")),
        "a tunnel's broadcast was flooded to another tunnel"
    );
    // Known unicast from one tunnel to another is not a flood: it passes.
    let (ns2, dev2) = &peers[1];
    let mac2 = parse_mac(&ns2.mac(dev2));
    inject(ns2, dev2, &marker(mac2, "peer2-here"));
    assert!(host_sniff.wait_for(Duration::from_secs(3), |f| is_marker(f, "peer2-here")));
    let unicast = frame(mac2, mac1, MARKER_ETHERTYPE, b"p1-to-p2");
    inject(ns1, dev1, &unicast);
    assert!(
        sniff[1].wait_for(Duration::from_secs(3), |f| f.len() >= 22
            && &f[14..22] == b"p1-to-p2"),
        "known unicast from tunnel 1 did not reach tunnel 2"
    );
}

/// Two VXLAN ports on two bridges, same peer, VNIs 1 and 2, share one
/// socket: each VNI's traffic reaches its own bridge only.
#[test]
fn one_endpoint_serves_ports_on_two_bridges() {
    if !require_root("one_endpoint_serves_ports_on_two_bridges") {
        return;
    }
    let sw = Switchd::start();
    let peer = Netns::new();
    underlay(&sw.ns, &peer, SW_IP, PEER_IP);
    let mut hosts = Vec::new();
    let mut kernel_macs = Vec::new();
    for (vni, br) in [(1u8, "br0"), (2, "br1")] {
        sw.ctl_ok(&["add-br", br]);
        hosts.push(host_on_tap(&sw, br, &format!("192.168.{}.1", 100 + vni)));
        let kvx = unique("kx");
        peer.ip_ok(&[
            "link",
            "add",
            &kvx,
            "type",
            "vxlan",
            "id",
            &vni.to_string(),
            "dstport",
            "4789",
            "remote",
            SW_IP,
            "local",
            PEER_IP,
        ]);
        peer.ip_ok(&["addr", "add", &format!("192.168.{}.2/24", 100 + vni), "dev", &kvx]);
        peer.ip_ok(&["link", "set", "dev", &kvx, "up"]);
        kernel_macs.push(peer.mac(&kvx));
        sw.ctl_ok(&[
            "add-port",
            br,
            &format!("vx{vni}"),
            "type=vxlan",
            &format!("remote_ip={PEER_IP}"),
            &format!("key={vni}"),
        ]);
    }
    assert_reaches(&hosts[0], "192.168.101.2");
    assert_reaches(&hosts[1], "192.168.102.2");
    assert!(ping(&peer, "192.168.101.1") && ping(&peer, "192.168.102.1"));
    for (i, br) in ["br0", "br1"].into_iter().enumerate() {
        let fdb = sw.fdb(br);
        let port = format!("vx{}", i + 1);
        assert!(
            fdb.iter()
                .any(|e| e["port"] == port.as_str() && e["mac"] == kernel_macs[i].as_str()),
            "{br}: {fdb:?}"
        );
        assert!(
            fdb.iter().all(|e| e["mac"] != kernel_macs[1 - i].as_str()),
            "{br} learned the other VNI's MAC: {fdb:?}"
        );
        // each bridge's port-stats shows the shared endpoint
        let rows = sw.ctl_json(&["port-stats", br]).to_string();
        assert!(rows.contains("vxlan:0.0.0.0:4789"), "{rows}");
    }
    let all = sw.ctl_json(&["port-stats"]);
    let endpoints = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["bridge"] == "-")
        .count();
    assert_eq!(endpoints, 1, "{all}");
    assert_eq!(endpoint_row(&sw, "vxlan:0.0.0.0:4789")["rx_dropped"], 0);
}

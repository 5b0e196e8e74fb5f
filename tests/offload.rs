//! Offloads end to end (SPEC §3 "Offloads"): TCP between hosts that keep
//! their default offloads — a veth host sends 64 KiB GSO super-frames with
//! partial checksums, and so does a host behind a TAP port (switchd enables
//! TSO and checksum offload on its TAPs) — must cross the switch with every
//! byte intact. Between ports that take a virtio-net header the
//! super-frames cross whole (checked through the average frame size the
//! ingress port counted); towards a VXLAN tunnel, which cannot take them,
//! switchd segments them and finishes their checksums in software.
//!
//! Each transfer writes a deterministic pseudo-random stream and the
//! receiver compares every byte.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// Bytes `i` of the test stream: deterministic, not compressible by eye.
fn stream_byte(i: usize) -> u8 {
    let x = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (x >> 29) as u8 ^ (i >> 13) as u8
}

/// Sends `len` bytes over TCP from namespace `from` to `to_ip:port`, where
/// a listener runs in namespace `to`; returns how long it took. Panics if a
/// single byte differs or the transfer does not finish within 60 s.
fn transfer(from: &Netns, to: &Netns, to_ip: &str, len: usize) -> Duration {
    let addr = format!("{to_ip}:5201");
    let listener: TcpListener = {
        let addr = addr.clone();
        in_netns(&to.name, move || {
            TcpListener::bind(&addr).expect("bind test listener")
        })
    };
    let receiver = thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut got = 0usize;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = s.read(&mut buf).expect("read (stalled transfer?)");
            if n == 0 {
                break;
            }
            for (k, b) in buf[..n].iter().enumerate() {
                assert_eq!(*b, stream_byte(got + k), "byte {} differs", got + k);
            }
            got += n;
        }
        got
    });
    let start = Instant::now();
    in_netns(&from.name, move || {
        let mut s =
            TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(10)).expect("connect");
        s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
        let chunk: Vec<u8> = (0..len).map(stream_byte).collect();
        s.write_all(&chunk).expect("write (stalled transfer?)");
        s.shutdown(Shutdown::Write).unwrap();
        // Wait for the receiver to close, so the time covers delivery.
        let mut rest = [0u8; 1];
        let _ = s.read(&mut rest);
    });
    let took = start.elapsed();
    assert_eq!(receiver.join().expect("receiver"), len, "bytes received");
    took
}

/// Average size of the frames port `port` received: above the 1514-byte
/// Ethernet maximum only if GSO super-frames came in whole.
fn average_rx_frame(sw: &Switchd, port: &str) -> u64 {
    let s = sw.port_stats("br0", port);
    s["rx_bytes"].as_u64().unwrap() / s["rx_packets"].as_u64().unwrap().max(1)
}

fn assert_no_drops(sw: &Switchd, ports: &[&str]) {
    for p in ports {
        let s = sw.port_stats("br0", p);
        assert_eq!(s["drops"], serde_json::json!({}), "drops on {p}: {s}");
    }
}

const MIB: usize = 1 << 20;

#[test]
fn tcp_between_veth_hosts_with_default_offloads_crosses_as_super_frames() {
    if !require_root("tcp_between_veth_hosts_with_default_offloads_crosses_as_super_frames") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_veth(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert!(h1.ping(&h2.ip));
    let took = transfer(&h1.ns, &h2.ns, &h2.ip, 64 * MIB);
    eprintln!("veth -> veth: 64 MiB in {took:?}");
    let avg = average_rx_frame(&sw, &h1.port);
    assert!(
        avg > 3000,
        "average frame from h1 was {avg} bytes: super-frames were not carried"
    );
    assert_no_drops(&sw, &[&h1.port, &h2.port]);
}

#[test]
fn tcp_between_tap_and_veth_hosts_with_default_offloads() {
    if !require_root("tcp_between_tap_and_veth_hosts_with_default_offloads") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let t = host_on_tap(&sw, "br0", "10.0.0.1");
    let v = host_on_veth(&sw, "br0", "10.0.0.2");
    let t2 = host_on_tap(&sw, "br0", "10.0.0.3");
    assert!(t.ping(&v.ip) && t.ping(&t2.ip));
    let took = transfer(&t.ns, &v.ns, &v.ip, 32 * MIB);
    eprintln!("tap -> veth: 32 MiB in {took:?}");
    let took = transfer(&v.ns, &t.ns, &t.ip, 32 * MIB);
    eprintln!("veth -> tap: 32 MiB in {took:?}");
    let took = transfer(&t.ns, &t2.ns, &t2.ip, 32 * MIB);
    eprintln!("tap -> tap: 32 MiB in {took:?}");
    let avg = average_rx_frame(&sw, &t.port);
    assert!(
        avg > 3000,
        "average frame from the TAP host was {avg} bytes: super-frames were not carried"
    );
    assert_no_drops(&sw, &[&t.port, &v.port, &t2.port]);
}

/// A tagged path: the VLAN tag pushed on a trunk and popped again moves
/// every offset of the virtio-net header by 4 bytes.
#[test]
fn tcp_with_offloads_across_a_vlan_trunk_between_two_switches() {
    if !require_root("tcp_with_offloads_across_a_vlan_trunk_between_two_switches") {
        return;
    }
    let a = Switchd::with_bridge("br0");
    let b = Switchd::with_bridge("br0");
    let h1 = host_on_veth_with(&a, "br0", "10.0.0.1", &["tag=10"]);
    let h2 = host_on_tap_with(&b, "br0", "10.0.0.2", &["tag=10"]);
    // The trunk: a veth pair from a's namespace to b's.
    let (ta, tb) = (unique("ka"), unique("kb"));
    a.ns.ip_ok(&[
        "link", "add", "dev", &ta, "type", "veth", "peer", "name", &tb, "netns", &b.ns.name,
    ]);
    a.ns.ip_ok(&["link", "set", "dev", &ta, "up"]);
    b.ns.ip_ok(&["link", "set", "dev", &tb, "up"]);
    a.ctl_ok(&["add-port", "br0", &ta]);
    b.ctl_ok(&["add-port", "br0", &tb]);
    assert!(h1.ping(&h2.ip));
    let took = transfer(&h1.ns, &h2.ns, &h2.ip, 32 * MIB);
    eprintln!("veth -> trunk -> tap: 32 MiB in {took:?}");
    let took = transfer(&h2.ns, &h1.ns, &h1.ip, 32 * MIB);
    eprintln!("tap -> trunk -> veth: 32 MiB in {took:?}");
    assert!(
        average_rx_frame(&b, &tb) > 3000,
        "tagged super-frames were not carried over the trunk"
    );
    assert_no_drops(&a, &[&h1.port, &ta]);
    assert_no_drops(&b, &[&h2.port, &tb]);
}

/// Towards a VXLAN tunnel the super-frames of a veth host (offloads on) are
/// segmented and their checksums finished by switchd; the independent
/// receiver is the Linux kernel's own vxlan device.
#[test]
fn tcp_from_an_offloading_host_into_a_vxlan_tunnel_is_segmented_in_software() {
    if !require_root("tcp_from_an_offloading_host_into_a_vxlan_tunnel_is_segmented_in_software") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_veth(&sw, "br0", "192.168.60.1");
    let peer = Netns::new();
    underlay(&sw.ns, &peer, "10.0.0.1", "10.0.0.2");
    let kvx = unique("kx");
    peer.ip_ok(&[
        "link", "add", &kvx, "type", "vxlan", "id", "42", "dstport", "4789", "remote", "10.0.0.1", "local",
        "10.0.0.2",
    ]);
    // The kernel vxlan device leaves its inner checksums to the NIC; over a
    // veth underlay no NIC ever computes them, so let it compute them itself.
    peer.exec_ok(&["ethtool", "-K", &kvx, "tx", "off"]);
    // As the README advises: hosts on a VXLAN overlay over a 1500-byte
    // underlay use MTU 1450 (the kernel device defaults to 1500).
    peer.ip_ok(&["link", "set", "dev", &kvx, "mtu", "1450"]);
    h1.ns.ip_ok(&["link", "set", "dev", &h1.ifname, "mtu", "1450"]);
    peer.ip_ok(&["addr", "add", "192.168.60.2/24", "dev", &kvx]);
    peer.ip_ok(&["link", "set", "dev", &kvx, "up"]);
    sw.ctl_ok(&[
        "add-port",
        "br0",
        "vx0",
        "type=vxlan",
        "remote_ip=10.0.0.2",
        "key=42",
    ]);
    assert!(h1.ping("192.168.60.2"));

    let took = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        transfer(&h1.ns, &peer, "192.168.60.2", 16 * MIB)
    }))
    .unwrap_or_else(|e| {
        eprintln!(
            "port-stats after the failed transfer:\n{}",
            sw.ctl_ok(&["port-stats"])
        );
        std::panic::resume_unwind(e)
    });
    eprintln!("veth -> vxlan (software segmentation): 16 MiB in {took:?}");
    let avg = average_rx_frame(&sw, &h1.port);
    assert!(
        avg > 3000,
        "h1 sent no super-frames (average {avg}); the test proves nothing"
    );
    let vx = sw.port_stats("br0", "vx0");
    assert!(
        vx["tx_packets"].as_u64().unwrap() > (16 * MIB / 1500) as u64,
        "vx0 did not send segments: {vx}"
    );
    assert_no_drops(&sw, &[&h1.port, "vx0"]);
}

//! The real decoder as the judge: messages from [`Ipfix`](super::Ipfix)
//! written to a pcap (Ethernet/IPv4/UDP to port 4739) and decoded by
//! `tshark -d udp.port==4739,cflow -V`, which must show the templates and
//! every record's values and report nothing malformed. Skipped (with a
//! SKIP line) where tshark is not installed.

use std::net::{Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::bridge::Ipfix;
use super::config::IpfixConfig;
use crate::flow::{extract, Field, FlowKey};

const TSHARK: &str = "/usr/bin/tshark";
const WALL: u64 = 1_700_000_000_000;

/// A pcap file (LINKTYPE_ETHERNET) of UDP datagrams 192.0.2.10:50000 →
/// 192.0.2.1:4739, one per message.
fn pcap(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // magic, µs
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]); // thiszone, sigfigs
    f.extend_from_slice(&65_535u32.to_le_bytes()); // snaplen
    f.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    for (i, m) in messages.iter().enumerate() {
        let mut p = vec![0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x10, 0x08, 0x00];
        let ip_len = 20 + 8 + m.len();
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&(ip_len as u16).to_be_bytes());
        ip.extend_from_slice(&[0, i as u8, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 10, 192, 0, 2, 1]);
        let sum = ip
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .sum::<u32>();
        let sum = (sum & 0xffff) + (sum >> 16);
        ip[10..12].copy_from_slice(&(!((sum & 0xffff) + (sum >> 16)) as u16).to_be_bytes());
        p.extend_from_slice(&ip);
        p.extend_from_slice(&50_000u16.to_be_bytes());
        p.extend_from_slice(&4739u16.to_be_bytes());
        p.extend_from_slice(&((8 + m.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0]); // no UDP checksum (IPv4 allows it)
        p.extend_from_slice(m);
        f.extend_from_slice(&(1_700_000_000 + i as u32).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&p);
    }
    f
}

/// tshark's verbose decode of `messages`, or `None` (SKIP) without tshark.
fn tshark(name: &str, messages: &[Vec<u8>]) -> Option<String> {
    if !Path::new(TSHARK).exists() {
        eprintln!("SKIP: {TSHARK} not installed");
        return None;
    }
    let path: PathBuf =
        std::env::temp_dir().join(format!("switchd-ipfix-{name}-{}.pcap", std::process::id()));
    std::fs::write(&path, pcap(messages)).unwrap();
    // tshark prints flow times in local time: pin it.
    let out = Command::new(TSHARK)
        .env("TZ", "UTC")
        .args(["-n", "-r"])
        .arg(&path)
        .args(["-d", "udp.port==4739,cflow", "-V"])
        .output()
        .expect("run tshark");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for bad in ["Malformed", "Expert Info (Error", "Expert Info (Warning"] {
        assert!(!text.contains(bad), "tshark says {bad}:\n{text}");
    }
    Some(text)
}

fn collect(f: impl FnOnce(&mut dyn FnMut(&[SocketAddr], &[u8]))) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    f(&mut |_: &[SocketAddr], m: &[u8]| out.push(m.to_vec()));
    out
}

/// The data records of a decode, each as its trimmed lines
/// (`InputInt: 1`, `SrcAddr: 10.0.0.1`, ...).
fn flows(text: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut open = false;
    for line in text.lines().map(str::trim) {
        let is_flow = line
            .strip_prefix("Flow ")
            .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()));
        if is_flow {
            out.push(Vec::new());
            open = true;
        } else if line.starts_with("Set ") || line.starts_with("Frame ") || line.is_empty() {
            open = false;
        } else if open {
            out.last_mut().unwrap().push(line);
        }
    }
    out
}

/// The one record that has every line of `want`; panics with the decode
/// otherwise.
fn find<'a>(all: &'a [Vec<&'a str>], want: &[&str], text: &str) -> &'a [&'a str] {
    let hits: Vec<_> = all
        .iter()
        .filter(|f| want.iter().all(|w| f.contains(w)))
        .collect();
    assert_eq!(hits.len(), 1, "records with {want:?}: {}\n{text}", hits.len());
    hits[0]
}

/// A flow key with the fields the record reads.
struct K(FlowKey);

impl K {
    fn new(in_port: u16, eth_type: u16) -> K {
        let mut k = FlowKey::ZERO;
        k.set(Field::InPort, u128::from(in_port));
        k.set(Field::DlType, u128::from(eth_type));
        k.set(Field::DlSrc, 0x0200_0000_0001);
        k.set(Field::DlDst, 0x0200_0000_0002);
        K(k)
    }

    fn with(mut self, f: Field, v: u128) -> K {
        self.0.set(f, v);
        self
    }
}

fn config() -> IpfixConfig {
    IpfixConfig {
        targets: vec!["192.0.2.1:4739".parse().unwrap()],
        obs_domain_id: 42,
        ..IpfixConfig::default()
    }
}

/// Tagged (VLAN 10) Ethernet/IPv4/UDP 10.0.0.1:1234 → 10.0.0.2:53 with
/// `payload` bytes of UDP payload.
fn udp4_frame(payload: usize) -> Vec<u8> {
    let ip_len = 20 + 8 + payload;
    let mut f = vec![
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0, 0, 10, 0x08, 0x00, 0x45, 0,
    ];
    f.extend_from_slice(&(ip_len as u16).to_be_bytes());
    f.extend_from_slice(&[
        0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0xd2, 0, 53,
    ]);
    f.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.resize(18 + ip_len, 0xab);
    f
}

#[test]
fn tshark_decodes_templates_and_every_kind_of_record() {
    let mut ip = Ipfix::new(config(), 1);
    let t0 = Instant::now();
    let at = |ms: u64| (t0 + Duration::from_millis(ms), WALL + ms);

    // IPv4/UDP on VLAN 10 from real frames (extract → record key), three
    // packets over 2.5 s, port 1 → 2.
    for (ms, payload) in [(0, 100), (1000, 200), (2500, 300)] {
        let f = udp4_frame(payload);
        let (now, wall) = at(ms);
        ip.record(&extract(&f, 1, 0), 2, f.len(), now, wall);
    }
    // Every other template once, flooded (egress 0), 100-byte frames.
    let v6a: u128 = "2001:db8::1".parse::<Ipv6Addr>().unwrap().into();
    let v6b: u128 = "2001:db8::2".parse::<Ipv6Addr>().unwrap().into();
    let v4 = |k: K| k.with(Field::NwSrc, 0x0a00_0001).with(Field::NwDst, 0x0a00_0002);
    let v6 = |k: K| k.with(Field::Ipv6Src, v6a).with(Field::Ipv6Dst, v6b);
    let keys = [
        v4(K::new(3, 0x0800).with(Field::NwProto, 1))
            .with(Field::IcmpType, 8)
            .with(Field::IcmpCode, 0),
        v6(K::new(3, 0x86dd).with(Field::NwProto, 6))
            .with(Field::TpSrc, 443)
            .with(Field::TpDst, 50000),
        v6(K::new(3, 0x86dd).with(Field::NwProto, 58)).with(Field::Icmpv6Type, 128),
        K::new(4, 0x0806).with(Field::VlanTci, 0x1000 | 20),
        v4(K::new(4, 0x0800).with(Field::NwProto, 47)),
        v6(K::new(4, 0x86dd).with(Field::NwProto, 50)),
    ];
    let (now, wall) = at(3000);
    for k in &keys {
        ip.record(&k.0, 0, 100, now, wall);
    }

    // The UDP flow goes idle at 17.5 s (the others at 18 s): an idle
    // export, then the clear exports the rest.
    let mut msgs = collect(|s| {
        let (now, wall) = at(17_500);
        ip.run(now, wall, s);
    });
    assert_eq!(msgs.len(), 1);
    msgs.extend(collect(|s| {
        let (now, wall) = at(17_600);
        ip.flush(now, wall, s);
    }));
    assert_eq!(msgs.len(), 2);
    let Some(text) = tshark("kinds", &msgs) else {
        return;
    };

    // Headers: version, domain, sequence counts records before.
    assert_eq!(text.matches("Version: 10").count(), 2, "{text}");
    assert_eq!(text.matches("Observation Domain Id: 42").count(), 2, "{text}");
    assert!(
        text.contains("FlowSequence: 0") && text.contains("FlowSequence: 1"),
        "{text}"
    );
    assert!(text.contains("ExportTime: 1700000017"), "{text}");
    // Templates: all seven, in the first message only.
    assert!(
        text.contains("(Data Template): 256,257,258,259,260,261,262"),
        "{text}"
    );
    assert_eq!(text.matches("FlowSet Id: Data Template").count(), 1, "{text}");

    let all = flows(&text);
    assert_eq!(all.len(), 7, "{text}");
    // 18-byte header + 20 IP + 8 UDP + payload, three times.
    let l2: usize = [100, 200, 300].iter().map(|p| 46 + p).sum();
    let udp = find(&all, &["SrcPort: 1234 (1234)"], &text);
    for want in [
        "InputInt: 1",
        "OutputInt: 2",
        "Source Mac Address: 02:00:00:00:00:01",
        "Destination Mac Address: 02:00:00:00:00:02",
        "Ethernet Type: 2048",
        "Vlan Id: 10",
        "IPVersion: 4",
        "Protocol: UDP (17)",
        "SrcAddr: 10.0.0.1",
        "DstAddr: 10.0.0.2",
        "DstPort: 53 (53)",
        "StartTime: Nov 14, 2023 22:13:20.000000000 UTC",
        "EndTime: Nov 14, 2023 22:13:22.500000000 UTC",
        "Packets: 3",
        &format!("Octets: {}", l2 - 3 * 18),
        &format!("Layer2 Octet Delta Count: {l2}"),
        "Flow End Reason: Idle timeout (1)",
    ] {
        assert!(udp.contains(&want), "{want} not in {udp:#?}");
    }
    find(
        &all,
        &[
            "Protocol: ICMP (1)",
            "ICMP Type: 0x0800",
            "OutputInt: 0",
            "Octets: 86",
        ],
        &text,
    );
    find(
        &all,
        &[
            "Protocol: TCP (6)",
            "SrcAddr: 2001:db8::1",
            "DstAddr: 2001:db8::2",
            "SrcPort: 443 (443)",
            "DstPort: 50000 (50000)",
        ],
        &text,
    );
    find(
        &all,
        &[
            "Protocol: ICMPv6 (58)",
            "IPv6 ICMP Type: 128",
            "IPv6 ICMP Code: 0",
        ],
        &text,
    );
    find(
        &all,
        &[
            "Ethernet Type: 2054",
            "Vlan Id: 20",
            "InputInt: 4",
            "Octets: 100",
            "Packets: 1",
        ],
        &text,
    );
    find(
        &all,
        &["Protocol: Generic Routing Encapsulation (47)", "IPVersion: 4"],
        &text,
    );
    find(
        &all,
        &["Protocol: Encap Security Payload (50)", "IPVersion: 6"],
        &text,
    );
    assert_eq!(
        text.matches("Flow End Reason: Forced end (4)").count(),
        6,
        "{text}"
    );
}

#[test]
fn tshark_decodes_records_split_across_messages() {
    let mut ip = Ipfix::new(config(), 1);
    let t0 = Instant::now();
    let v6a: u128 = "2001:db8::1".parse::<Ipv6Addr>().unwrap().into();
    // 60 IPv6/TCP flows (the longest records): more than one message.
    for port in 0..60u16 {
        let k = K::new(1, 0x86dd)
            .with(Field::NwProto, 6)
            .with(Field::Ipv6Src, v6a)
            .with(Field::Ipv6Dst, v6a + 1)
            .with(Field::TpSrc, u128::from(10_000 + port))
            .with(Field::TpDst, 80);
        for _ in 0..=port % 3 {
            ip.record(&k.0, 2, 1000, t0, WALL);
        }
    }
    let msgs = collect(|s| {
        ip.flush(t0, WALL, s);
    });
    assert!(msgs.len() >= 5, "{} messages", msgs.len());
    assert!(msgs.iter().all(|m| m.len() <= super::message::MAX_MESSAGE_LEN));
    let Some(text) = tshark("split", &msgs) else {
        return;
    };
    let all = flows(&text);
    assert_eq!(all.len(), 60, "{text}");
    for port in 0..60u16 {
        let f = find(&all, &[&format!("SrcPort: {0} ({0})", 10_000 + port)], &text);
        assert!(
            f.contains(&format!("Packets: {}", 1 + port % 3).as_str()),
            "{f:#?}"
        );
    }
    // Templates once, every data set decoded with them, sequence numbers
    // counting the records of the messages before.
    assert_eq!(text.matches("FlowSet Id: Data Template").count(), 1, "{text}");
    assert_eq!(text.matches("[Template Frame: 1]").count(), msgs.len(), "{text}");
    let mut seq = 0;
    for m in &msgs {
        assert!(
            text.contains(&format!("FlowSequence: {seq}\n")),
            "no sequence {seq}:\n{text}"
        );
        seq += (m.len() - 16 - if seq == 0 { 488 } else { 0 } - 4) / 103;
    }
    assert_eq!(seq, 60);
}

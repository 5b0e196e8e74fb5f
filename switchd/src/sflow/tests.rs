//! Tests of the whole exporter: byte-exact datagrams against hand-computed
//! words, datagram splitting and numbering, the polling schedule, and
//! decoding by a real collector (tshark, and sflowtool when installed)
//! from a pcap file of the datagrams.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

/// Flattens big-endian words into bytes (the hand-written expectations
/// are XDR words).
fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_be_bytes()).collect()
}

const AGENT_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));

fn config(header: u32, polling: u32) -> SflowConfig {
    SflowConfig {
        targets: vec!["192.0.2.99:6343".parse().unwrap()],
        header,
        polling,
        ..SflowConfig::default()
    }
}

/// 18 bytes: broadcast from 02:00:00:00:00:01, ARP ethertype, 4 bytes of
/// payload: the header record pads it to 20.
const SHORT_FRAME: [u8; 18] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x01, 0x08,
    0x00,
];

fn counters_7() -> IfCounters {
    IfCounters {
        if_index: 7,
        if_speed: 10_000_000_000,
        if_direction: Duplex::Full,
        admin_up: true,
        oper_up: true,
        promiscuous: true,
        in_octets: 0x1_0000_0001,
        in_ucast_pkts: 100,
        in_multicast_pkts: 2,
        in_broadcast_pkts: 3,
        in_discards: 4,
        in_errors: 5,
        in_unknown_protos: 6,
        out_octets: 7000,
        // Counter32 on the wire: only the low 32 bits go.
        out_ucast_pkts: 0x1_0000_0008,
        out_multicast_pkts: 9,
        out_broadcast_pkts: 10,
        out_discards: 11,
        out_errors: 12,
    }
}

#[test]
fn datagram_with_one_flow_and_one_counters_sample_is_byte_exact() {
    let mut a = Agent::new(&config(128, 30), AGENT_V4, 3, 1000);
    let s = FlowSample {
        input: 7,
        output: Output::Port(9),
        sampling_rate: 400,
        sample_pool: 1234,
        drops: 2,
        frame: &SHORT_FRAME,
    };
    a.add_flow_sample(&s, 2000);
    a.add_counters_sample(&counters_7(), 3000);
    assert_eq!(a.pending_samples(), 2);
    a.flush(6000);
    let got: Vec<Vec<u8>> = a.drain().collect();
    #[rustfmt::skip]
    let want = words(&[
        // sample_datagram_v5
        5,                      // version
        1, 0xc000_020a,         // agent address: IPv4 192.0.2.10
        3,                      // sub_agent_id
        1,                      // sequence_number
        5000,                   // uptime: 6000 - 1000 ms
        2,                      // samples
        // flow_sample (0,1), 84 bytes
        1, 76,                  // data_format, length
        1,                      // sequence_number
        7,                      // source_id: class 0 (ifIndex) << 24 | 7
        400, 1234, 2,           // sampling_rate, sample_pool, drops
        7, 9,                   // input, output
        1,                      // records
        1, 36,                  // raw packet header (0,1), length 16 + 20
        1,                      // header_protocol: Ethernet
        22,                     // frame_length: 18 + 4 (FCS)
        4,                      // stripped
        18,                     // header length
        0xffff_ffff, 0xffff_0200, 0x0000_0001, 0x0806_0001, 0x0800_0000, // header, padded
        // counters_sample (0,2), 176 bytes
        2, 168,                 // data_format, length
        1,                      // sequence_number
        7,                      // source_id
        2,                      // records
        1, 88,                  // generic interface counters (0,1)
        7, 6,                   // ifIndex, ifType ethernetCsmacd
        2, 0x540b_e400,         // ifSpeed 10 Gb/s (hyper)
        1,                      // ifDirection: full duplex
        3,                      // ifStatus: admin up | oper up
        1, 1,                   // ifInOctets 2^32 + 1
        100, 2, 3, 4, 5, 6,     // in ucast, mcast, bcast, discards, errors, unknown protos
        0, 7000,                // ifOutOctets
        8, 9, 10, 11, 12,       // out ucast (low 32 bits), mcast, bcast, discards, errors
        1,                      // ifPromiscuousMode
        2, 52,                  // Ethernet interface counters (0,2)
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    assert_eq!(got, [want]);
    assert_eq!(got[0].len(), 28 + 84 + 176);
    // Nothing pending: a flush with no samples makes no datagram.
    a.flush(7000);
    assert_eq!(a.drain().count(), 0);
}

#[test]
fn ipv6_agent_and_expanded_samples_are_byte_exact() {
    let agent = IpAddr::V6("2001:db8::a".parse().unwrap());
    let mut a = Agent::new(&config(16, 30), agent, 0, 0);
    // An ifIndex of 2^24 does not fit the compact source id; an output
    // of 2^30 not the compact interface.
    let frame = [0xaau8; 64];
    let s = FlowSample {
        input: 1 << 24,
        output: Output::Port(1 << 30),
        sampling_rate: 1,
        sample_pool: 1,
        drops: 0,
        frame: &frame,
    };
    a.add_flow_sample(&s, 0);
    let c = IfCounters {
        if_index: 1 << 24,
        ..IfCounters::default()
    };
    a.add_counters_sample(&c, 0);
    a.flush(1);
    let d = a.drain().next().unwrap();
    #[rustfmt::skip]
    let head = words(&[
        5, 2, 0x2001_0db8, 0, 0, 0x0000_000a, 0, 1, 1, 2,
        3, 84,                  // expanded flow sample: 8 + 44 + 8 + 16 + 16 bytes
        1, 0, 1 << 24,          // sequence, source class, source index
        1, 1, 0,
        0, 1 << 24, 0, 1 << 30, // input format/value, output format/value
        1, 1, 32, 1, 68, 4, 16,
        0xaaaa_aaaa, 0xaaaa_aaaa, 0xaaaa_aaaa, 0xaaaa_aaaa,
        4, 172,                 // expanded counters sample
        1, 0, 1 << 24, 2,
        1, 88, 1 << 24, 6, 0, 0, 0, 0, // ifIndex, ifType, ifSpeed, direction unknown, status down
    ]);
    assert_eq!(d[..head.len()], head[..]);
    assert_eq!(d.len(), 40 + 92 + 180);
}

#[test]
fn outputs_encode_as_the_spec_says() {
    let enc = |output| {
        let s = FlowSample {
            input: 1,
            output,
            sampling_rate: 1,
            sample_pool: 1,
            drops: 0,
            frame: &[],
        };
        let mut v = Vec::new();
        encode_flow_sample(&mut v, 1, &s, 128);
        u32::from_be_bytes(v[32..36].try_into().unwrap())
    };
    assert_eq!(enc(Output::Unknown), 0);
    assert_eq!(enc(Output::Port(5)), 5);
    assert_eq!(enc(Output::Internal), 0x3fff_ffff);
    assert_eq!(enc(Output::Multiple(0)), 0x8000_0000);
    assert_eq!(enc(Output::Multiple(7)), 0x8000_0007);
    assert_eq!(enc(Output::Discarded(DISCARD_ACL)), 0x4000_0102);
}

/// The samples of a datagram with an IPv4 agent: (format, sequence
/// number, source id) each, after checking the header's count and that the
/// lengths add up to the datagram.
fn walk(d: &[u8]) -> (u32, Vec<(u32, u32, u32)>) {
    let w = |o: usize| u32::from_be_bytes(d[o..o + 4].try_into().unwrap());
    assert_eq!((w(0), w(4)), (5, 1));
    let (seq, n) = (w(16), w(24));
    let mut off = 28;
    let mut out = Vec::new();
    while off < d.len() {
        out.push((w(off), w(off + 8), w(off + 12)));
        off += 8 + w(off + 4) as usize;
    }
    assert_eq!(off, d.len());
    assert_eq!(out.len(), n as usize);
    (seq, out)
}

#[test]
fn datagrams_split_before_1400_bytes_and_number_everything() {
    let mut a = Agent::new(&config(128, 30), AGENT_V4, 0, 0);
    let frame = [0u8; 200];
    let mut sampler = Sampler::new(1, 0);
    // 20 flow samples of 192 bytes (64 + 128) from two ports, then 3
    // counters samples (176 bytes).
    for i in 0..20u32 {
        assert!(sampler.tick());
        let s = FlowSample::from_sampler(&sampler, 1 + i % 2, Output::Unknown, &frame);
        a.add_flow_sample(&s, 10);
    }
    for port in 1..=3 {
        a.add_counters_sample(
            &IfCounters {
                if_index: port,
                ..IfCounters::default()
            },
            20,
        );
    }
    a.flush(30);
    let ds: Vec<Vec<u8>> = a.drain().collect();
    let sizes: Vec<usize> = ds.iter().map(Vec::len).collect();
    // 28 + 7 × 192 = 1372; an eighth would make 1564.
    // Then six flow samples and a counters sample (1356); the other two
    // counters samples would make 1708.
    assert_eq!(sizes, [1372, 1372, 28 + 6 * 192 + 176, 28 + 2 * 176]);
    assert!(sizes.iter().all(|&n| n <= MAX_DATAGRAM));
    let mut flow_seq = [0u32; 3];
    let mut counter_seq = [0u32; 4];
    for (i, d) in ds.iter().enumerate() {
        let (seq, samples) = walk(d);
        assert_eq!(seq, i as u32 + 1);
        for (format, sample_seq, source) in samples {
            // Per data source, each kind counts from 1 without a gap.
            let counter = match format {
                1 => &mut flow_seq[source as usize],
                2 => &mut counter_seq[source as usize],
                _ => panic!("format {format}"),
            };
            *counter += 1;
            assert_eq!(sample_seq, *counter, "source {source} format {format}");
        }
    }
    assert_eq!(flow_seq, [0, 10, 10]);
    assert_eq!(counter_seq, [0, 1, 1, 1]);

    // A smaller limit (raised to MIN_DATAGRAM, 512) splits sooner: two
    // samples fit (28 + 384), the third finishes them, stamped with its
    // time.
    let mut a = Agent::new(&config(128, 30), AGENT_V4, 0, 0).with_max_datagram(100);
    let sample = FlowSample::from_sampler(&sampler, 1, Output::Unknown, &frame);
    a.add_flow_sample(&sample, 1000);
    a.add_flow_sample(&sample, 2000);
    assert_eq!((a.drain().count(), a.pending_samples()), (0, 2));
    a.add_flow_sample(&sample, 5000);
    assert_eq!(a.pending_samples(), 1);
    let ds: Vec<Vec<u8>> = a.drain().collect();
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].len(), 28 + 2 * 192);
    assert_eq!(ds[0][20..24], 5000u32.to_be_bytes());
    assert_eq!(walk(&ds[0]), (1, vec![(1, 1, 1), (1, 2, 1)]));
    a.flush(6000);
    assert_eq!(walk(&a.drain().next().unwrap()), (2, vec![(1, 3, 1)]));

    // Forgetting a source restarts its numbering.
    a.forget_source(1);
    a.add_flow_sample(&sample, 7000);
    a.flush(7000);
    assert_eq!(walk(&a.drain().next().unwrap()), (3, vec![(1, 1, 1)]));
}

#[test]
fn header_len_bounds_the_exported_bytes() {
    let frame: Vec<u8> = (0..=255u8).collect();
    for (header, want) in [(4u32, 4usize), (14, 16), (128, 128), (256, 256)] {
        let mut a = Agent::new(&config(header, 30), AGENT_V4, 0, 0);
        a.add_flow_sample(
            &FlowSample::from_sampler(&Sampler::new(1, 0), 1, Output::Unknown, &frame[..]),
            0,
        );
        a.flush(0);
        let d = a.drain().next().unwrap();
        assert_eq!(d.len(), 28 + 64 + want);
        let w = |o: usize| u32::from_be_bytes(d[o..o + 4].try_into().unwrap());
        // frame_length, stripped, header length
        assert_eq!((w(28 + 52), w(28 + 56), w(28 + 60)), (260, 4, header));
        assert_eq!(d[28 + 64..28 + 64 + header as usize], frame[..header as usize]);
    }
}

#[test]
fn polling_schedule_keeps_its_cadence() {
    let mut a = Agent::new(&config(128, 30), AGENT_V4, 0, 5_000);
    assert_eq!(a.next_poll(), Some(35_000));
    assert!(!a.due(34_999));
    assert!(a.due(35_000));
    // Polled a bit late: the next one stays on the 30 s grid.
    a.polled(35_400);
    assert_eq!(a.next_poll(), Some(65_000));
    // More than an interval late: one interval from now.
    a.polled(200_000);
    assert_eq!(a.next_poll(), Some(230_000));
    let off = Agent::new(&config(128, 0), AGENT_V4, 0, 0);
    assert_eq!(off.next_poll(), None);
    assert!(!off.due(u64::MAX));
}

#[test]
fn synthetic_ifindex_is_100000_plus_ofport() {
    assert_eq!(synthetic_ifindex(1), 100_001);
    assert_eq!(synthetic_ifindex(0xfeff), 100_000 + 0xfeff);
}

// ---- real decoders -------------------------------------------------------

/// Internet checksum of an IPv4 header.
fn ip_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Writes `datagrams` to a pcap file (LINKTYPE_ETHERNET), each in an
/// Ethernet/IPv4/UDP frame from 192.0.2.10:50000 to 192.0.2.99:6343.
fn write_pcap(path: &Path, datagrams: &[Vec<u8>]) {
    let mut f = Vec::new();
    // Global header: magic, version 2.4, thiszone, sigfigs, snaplen, linktype 1.
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    for (i, d) in datagrams.iter().enumerate() {
        let mut p = Vec::new();
        p.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x99, 0x02, 0, 0, 0, 0, 0x0a, 0x08, 0x00]);
        let ip_len = (20 + 8 + d.len()) as u16;
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&ip_len.to_be_bytes());
        ip.extend_from_slice(&[0, i as u8, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 10, 192, 0, 2, 99]);
        let sum = ip_checksum(&ip);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        p.extend_from_slice(&ip);
        p.extend_from_slice(&50000u16.to_be_bytes());
        p.extend_from_slice(&6343u16.to_be_bytes());
        p.extend_from_slice(&((8 + d.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0]); // no UDP checksum
        p.extend_from_slice(d);
        f.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&p);
    }
    std::fs::write(path, f).unwrap();
}

fn pcap_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("switchd-sflow-{}-{name}.pcap", std::process::id()))
}

/// An IPv4/UDP frame to sample: 02:00:00:00:00:01 → 02:00:00:00:00:02,
/// 10.0.0.1:1234 → 10.0.0.2:5678, `len` bytes in all.
fn udp_frame(len: usize) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let ip_len = (len - 14) as u16;
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&ip_len.to_be_bytes());
    ip.extend_from_slice(&[0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    let sum = ip_checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&1234u16.to_be_bytes());
    f.extend_from_slice(&5678u16.to_be_bytes());
    f.extend_from_slice(&(ip_len - 20).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.resize(len, 0x5a);
    f
}

/// Three datagrams: an IPv4 agent's flow and counters samples (compact),
/// a second one of the same sub-agent, and an IPv6 agent's expanded
/// samples.
fn decoder_datagrams() -> Vec<Vec<u8>> {
    let frame = udp_frame(1000);
    let mut a = Agent::new(&config(128, 30), AGENT_V4, 2, 0);
    let s = FlowSample {
        input: 100_003,
        output: Output::Port(100_004),
        sampling_rate: 400,
        sample_pool: 123_456,
        drops: 7,
        frame: &frame,
    };
    a.add_flow_sample(&s, 0);
    a.add_counters_sample(&counters_7(), 0);
    a.flush(61_000);
    a.add_flow_sample(
        &FlowSample {
            output: Output::Multiple(3),
            sample_pool: 123_856,
            ..s
        },
        0,
    );
    a.flush(62_000);
    let mut b = Agent::new(
        &config(64, 30),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa)),
        1,
        0,
    );
    b.add_flow_sample(
        &FlowSample {
            input: 1 << 24,
            output: Output::Port(1 << 30),
            ..s
        },
        0,
    );
    b.add_counters_sample(
        &IfCounters {
            if_index: 1 << 24,
            ..counters_7()
        },
        0,
    );
    b.flush(1);
    a.drain().chain(b.drain()).collect()
}

#[test]
fn tshark_decodes_every_field() {
    if !Path::new("/usr/bin/tshark").exists() {
        eprintln!("SKIP: /usr/bin/tshark is not installed");
        return;
    }
    let path = pcap_path("tshark");
    write_pcap(&path, &decoder_datagrams());
    let out = Command::new("/usr/bin/tshark")
        .args(["-n", "-r"])
        .arg(&path)
        .args(["-d", "udp.port==6343,sflow", "-V"])
        .output()
        .expect("run tshark");
    std::fs::remove_file(&path).ok();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for bad in [
        "Malformed",
        "Expert Info (Error",
        "Expert Info (Warning",
        "[Unknown",
    ] {
        assert!(!text.contains(bad), "tshark says {bad:?}:\n{text}");
    }
    let want = [
        // Datagram headers.
        "Datagram version: 5",
        "Agent address type: IPv4 (1)",
        "Agent address: 192.0.2.10",
        "Sub-agent ID: 2",
        "Sequence number: 1",
        "Sequence number: 2",
        "Flow sample, seq 2",
        "Counters sample, seq 1",
        "SysUptime: 1 minute, 1 second (61000ms)",
        "NumSamples: 2",
        "Agent address type: IPv6 (2)",
        "Agent address: 2001:db8::a",
        "Sub-agent ID: 1",
        // Flow samples.
        "Enterprise: standard sFlow (0)",
        "sFlow sample type: Flow sample (1)",
        "Index: 100003",
        "Sampling rate: 1 out of 400 packets",
        "Sample pool: 123456 total packets",
        "Sample pool: 123856 total packets",
        "Dropped packets: 7",
        "Input interface (ifIndex): 100003",
        "Output interface format: ifindex (0)",
        "Output interface value: 100004",
        "Output interface format: multiple interfaces (2)",
        "Output interface value: 3",
        "Header protocol: Ethernet (1)",
        "Frame Length: 1004",
        "Payload stripped: 4",
        "Sampled header length: 128",
        "Header of sampled packet: 0200000000020200000000010800450003da",
        "Internet Protocol Version 4, Src: 10.0.0.1, Dst: 10.0.0.2",
        "User Datagram Protocol, Src Port: 1234, Dst Port: 5678",
        "sFlow sample type: Expanded flow sample (3)",
        "Source ID index: 16777216",
        "Input interface value: 16777216",
        "Output interface value: 1073741824",
        "Sampled header length: 64",
        // Counters samples.
        "sFlow sample type: Counters sample (2)",
        "Source ID index: 7",
        "Counters records: 2",
        "sFlow sample type: Expanded counters sample (4)",
        "Interface index: 7",
        "Interface Type: 6",
        "Interface Speed: 10000000000",
        "Interface Direction: Full-Duplex (1)",
        "IfAdminStatus: Up",
        "IfOperStatus: Up",
        "Input Octets: 4294967297",
        "Input Packets: 100",
        "Input Multicast Packets: 2",
        "Input Broadcast Packets: 3",
        "Input Discarded Packets: 4",
        "Input Errors: 5",
        "Input Unknown Protocol Packets: 6",
        "Output Octets: 7000",
        "Output Packets: 8",
        "Output Multicast Packets: 9",
        "Output Broadcast Packets: 10",
        "Output Discarded Packets: 11",
        "Output Errors: 12",
        "Promiscuous Mode: 1",
        "Ethernet interface counters",
        "Symbol Errors: 0",
        "Interface index: 16777216",
    ];
    let missing: Vec<&str> = want.into_iter().filter(|w| !text.contains(w)).collect();
    assert!(missing.is_empty(), "tshark output lacks {missing:?}:\n{text}");
}

#[test]
fn sflowtool_decodes_every_datagram() {
    let Ok(out) = Command::new("sflowtool").arg("-h").output() else {
        eprintln!("SKIP: sflowtool is not installed");
        return;
    };
    drop(out);
    let path = pcap_path("sflowtool");
    write_pcap(&path, &decoder_datagrams());
    let out = Command::new("sflowtool")
        .arg("-r")
        .arg(&path)
        .output()
        .expect("run sflowtool");
    std::fs::remove_file(&path).ok();
    let text = String::from_utf8_lossy(&out.stdout);
    let errors = String::from_utf8_lossy(&out.stderr);
    // sflowtool reports a decoding error on stderr as "... (source IP = ...)".
    assert!(
        !errors.contains("source IP =") && !errors.contains("unexpected"),
        "{errors}"
    );
    for w in [
        "datagramVersion 5",
        "datagramSize 396",
        "agent 192.0.2.10",
        "agent 2001:0db8:0000:0000:0000:0000:0000:000a",
        "agentSubId 2",
        "packetSequenceNo 2",
        "sysUpTime 61000",
        "sampleType FLOWSAMPLE",
        "sourceId 0:100003",
        "meanSkipCount 400",
        "samplePool 123456",
        "dropEvents 7",
        "inputPort 100003",
        "outputPort 100004",
        "outputPort multiple 3",
        "sampledPacketSize 1004",
        "strippedBytes 4",
        "headerLen 128",
        "srcIP 10.0.0.1",
        "sampleType COUNTERSSAMPLE",
        "sourceId 0:7",
        "ifIndex 7",
        "ifSpeed 10000000000",
        "ifInOctets 4294967297",
        "ifOutErrors 12",
        "sampleType_tag 0:3",
        "sourceId 0:16777216",
        "inputPort 16777216",
        "outputPort 1073741824",
        "headerLen 64",
        "sampleType_tag 0:4",
        "ifIndex 16777216",
        "ifDirection 1",
        "ifStatus 3",
        "ifOutUcastPkts 8",
    ] {
        assert!(text.contains(w), "sflowtool output lacks {w:?}:\n{text}");
    }
}

//! sFlow and IPFIX export end to end (SPEC §11), decoded by an independent
//! tool: the daemon exports to a collector address on the loopback of its
//! namespace, `tshark` captures there and decodes the datagrams. sFlow: the
//! sampling rate, samples about packets/N with the test hosts' headers, and
//! counter samples; IPFIX: templates and data records whose packet counts
//! equal what was sent. Also mirrors copied exactly, counted with tcpdump on
//! the output port. Needs root; see tests/common/mod.rs.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// `tshark` capturing UDP port `port` on the loopback of `ns` into a file;
/// stopped (SIGINT, by PID) by [`Capture::finish`] or on drop.
struct Capture {
    child: Option<Child>,
    file: std::path::PathBuf,
}

impl Capture {
    fn start(ns: &Netns, port: u16) -> Capture {
        let file = std::env::temp_dir().join(format!("{}.{port}.pcap", ns.name));
        let _ = std::fs::remove_file(&file);
        let mut child = Command::new("ip")
            .args(["netns", "exec", &ns.name, "tshark", "-q", "-i", "lo", "-f"])
            .arg(format!("udp port {port}"))
            .arg("-w")
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tshark");
        // tshark says "Capturing on 'Loopback...'" once it listens.
        let mut err = child.stderr.take().unwrap();
        let mut seen = String::new();
        let ok = poll_until(Duration::from_secs(15), || {
            use std::io::Read;
            let mut b = [0u8; 256];
            if let Ok(n) = err.read(&mut b) {
                seen.push_str(&String::from_utf8_lossy(&b[..n]));
            }
            seen.contains("Capturing on")
        });
        assert!(ok, "tshark did not start: {seen}");
        std::thread::spawn(move || {
            use std::io::Read;
            let _ = err.read_to_end(&mut Vec::new());
        });
        // "Capturing on" comes a moment before the filter is in place: the
        // first IPFIX message (its templates) must not fall in that gap.
        std::thread::sleep(Duration::from_millis(1000));
        Capture {
            child: Some(child),
            file,
        }
    }

    /// Stops the capture and returns tshark's verbose decoding of it with
    /// `decode_as` (e.g. `udp.port==6343,sflow`).
    fn finish(mut self, decode_as: &str) -> String {
        self.stop();
        let out = Command::new("tshark")
            .env("TZ", "UTC")
            .args(["-n", "-V", "-d", decode_as, "-r"])
            .arg(&self.file)
            .output()
            .expect("run tshark -r");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGINT lets tshark finish the file.
            unsafe_free_kill(c.id());
            let _ = c.wait();
        }
    }
}

/// SIGINT by PID through the `kill` tool (the tests keep `unsafe` out).
fn unsafe_free_kill(pid: u32) {
    let _ = Command::new("kill").args(["-INT", &pid.to_string()]).status();
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.file);
    }
}

#[test]
fn sflow_samples_one_in_n_with_headers_and_polls_counters() {
    let test = "sflow_samples_one_in_n_with_headers_and_polls_counters";
    if !require_root(test) || !have_tool(test, "tshark", "tshark") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_veth(&sw, "br0", "10.0.21.1");
    let b = host_on_tap(&sw, "br0", "10.0.21.2");
    assert_pings(&a, &b);
    let cap = Capture::start(&sw.ns, 6343);
    sw.ctl_ok(&[
        "set",
        "bridge",
        "br0",
        "sflow_targets=127.0.0.1:6343",
        "sflow_sampling=20",
        "sflow_polling=1",
        "sflow_header=64",
    ]);
    let show = sw.ctl_ok(&["show"]);
    assert!(show.contains("sflow: sflow_targets=127.0.0.1:6343"), "{show}");
    // 4 000 frames from a: about 200 samples.
    let f = marker(a.mac_bytes(), "sflow");
    inject_many(&a.ns, &a.ifname, &f, 4000);
    std::thread::sleep(Duration::from_millis(2500));
    let text = cap.finish("udp.port==6343,sflow");
    assert!(
        !text.contains("Malformed"),
        "tshark: malformed sFlow:\n{}",
        &text[..text.len().min(4000)]
    );
    assert!(text.contains("Datagram version: 5"), "no sFlow datagram decoded");
    assert!(
        text.contains("Sampling rate: 1 out of 20 packets"),
        "sampling rate"
    );
    let samples = text.matches("sFlow sample type: Flow sample (1)").count();
    let mac = a.mac.replace(':', "");
    let ours = text
        .matches(&format!("Header of sampled packet: ffffffffffff{mac}"))
        .count();
    eprintln!("flow samples {samples}, of host a's frames {ours}");
    assert!(
        (140..=260).contains(&ours),
        "{ours} samples of 4000 frames at 1-in-20"
    );
    assert!(
        text.contains("sFlow sample type: Counters sample (2)"),
        "no counter samples"
    );
    assert!(text.contains("Interface Type: 6"), "generic interface counters");

    // Cleared: nothing more is exported.
    sw.ctl_ok(&["clear", "bridge", "br0", "sflow"]);
    let cap = Capture::start(&sw.ns, 6343);
    inject_many(&a.ns, &a.ifname, &f, 1000);
    std::thread::sleep(Duration::from_millis(1500));
    let text = cap.finish("udp.port==6343,sflow");
    assert!(!text.contains("Datagram version: 5"), "sFlow after clear");
}

#[test]
fn ipfix_records_count_what_was_sent() {
    let test = "ipfix_records_count_what_was_sent";
    if !require_root(test) || !have_tool(test, "tshark", "tshark") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_tap(&sw, "br0", "10.0.22.1");
    let b = host_on_tap(&sw, "br0", "10.0.22.2");
    assert_pings(&a, &b);
    let b_ofport = sw.port_info(&b.port).unwrap()["ofport"].as_u64().unwrap();
    let cap = Capture::start(&sw.ns, 4739);
    sw.ctl_ok(&[
        "set",
        "bridge",
        "br0",
        "ipfix_targets=127.0.0.1:4739",
        "ipfix_obs_domain_id=7",
    ]);
    // 12 echo requests a -> b, then the cache goes out at clear.
    a.ns.exec_ok(&["ping", "-c", "12", "-i", "0.05", "-q", &b.ip]);
    sw.ctl_ok(&["clear", "bridge", "br0", "ipfix"]);
    std::thread::sleep(Duration::from_millis(500));
    let text = cap.finish("udp.port==4739,cflow");
    if let Some(i) = text.find("Malformed") {
        panic!(
            "tshark: malformed IPFIX:\n{}",
            &text[i.saturating_sub(3000)..(i + 500).min(text.len())]
        );
    }
    assert!(
        text.contains("(Data Template)"),
        "no template:\n{}",
        &text[..text.len().min(3000)]
    );
    assert!(text.contains("Observation Domain Id: 7"), "domain id");
    // The ICMP flow a -> b: its records' packet counts add up to 12.
    let mut packets = 0u64;
    for flow in text.split("Flow ").skip(1) {
        if flow.contains(&format!("SrcAddr: {}", a.ip))
            && flow.contains(&format!("DstAddr: {}", b.ip))
            && flow.contains("Protocol: ICMP (1)")
        {
            let n = flow
                .lines()
                .find_map(|l| l.trim().strip_prefix("Packets: "))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0);
            packets += n;
            // NORMAL had learned b: the record names its port.
            assert!(
                flow.contains(&format!("OutputInt: {b_ofport}")),
                "egress port {b_ofport}:\n{flow}"
            );
        }
    }
    assert_eq!(
        packets,
        12,
        "ICMP packets a->b in IPFIX records:\n{}",
        &text[..text.len().min(6000)]
    );
}

#[test]
fn mirror_copies_counted_exactly_on_the_output_port() {
    let test = "mirror_copies_counted_exactly_on_the_output_port";
    if !require_root(test) {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_tap(&sw, "br0", "10.0.23.1");
    let b = host_on_tap(&sw, "br0", "10.0.23.2");
    let m = host_on_tap(&sw, "br0", "10.0.23.9");
    assert_pings(&a, &b);
    sw.ctl_ok(&[
        "add-mirror",
        "br0",
        "m1",
        &format!("select_src_port={}", a.port),
        &format!("output_port={}", m.port),
    ]);
    // tcpdump on the output port's host counts the echo requests it sees.
    let dump = Command::new("ip")
        .args([
            "netns", "exec", &m.ns.name, "timeout", "4", "tcpdump", "-n", "-i", &m.ifname,
        ])
        .args(["icmp[icmptype] == icmp-echo"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tcpdump");
    std::thread::sleep(Duration::from_millis(1000));
    a.ns.exec_ok(&["ping", "-c", "7", "-i", "0.05", "-q", &b.ip]);
    let out = dump.wait_with_output().expect("tcpdump ends");
    let err = String::from_utf8_lossy(&out.stderr);
    let seen: u64 = err
        .lines()
        .find_map(|l| l.strip_suffix(" packets captured"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("tcpdump said: {err}"));
    // Requests come from a (selected); replies come from b (not selected).
    assert_eq!(seen, 7, "mirrored echo requests seen by tcpdump: {err}");
    let info = sw.ctl_json(&["list-mirrors", "br0"]);
    let mm = &info["mirrors"][0];
    assert_eq!(mm["mirror"], "m1");
    assert!(mm["tx_packets"].as_u64().unwrap() >= 7, "{info}");
    // The output port carries only mirror traffic: m cannot reach a.
    assert!(!m.ping_once(&a.ip), "the mirror output port forwarded traffic");
    // Stored: kept across a restart.
    let db = sw.db_json();
    assert_eq!(db["bridges"][0]["mirrors"][0]["name"], "m1", "{db}");
}

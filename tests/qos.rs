//! QoS end to end (SPEC §12): port policing and OpenFlow meters, measured
//! with iperf3 between namespaces and read back through Open vSwitch's own
//! client.
//!
//! Rates are read where a user would look: the receiving host's interface
//! counters (Ethernet bytes, what the policer charges) over a window that
//! leaves out the first 1.5 s, while the initial burst drains (the SPEC's
//! accuracy is "after the initial burst"), and iperf3's own report for TCP.
//! The policer under test is 20 000 kbit/s; UDP is offered at 100 Mbit/s.

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const RATE_KBPS: u64 = 20_000;
const IPERF_PORT: &str = "5201";

/// An iperf3 server for one test in `ns` (`-1`: one client, then exit);
/// killed when dropped.
struct Iperf3Server(Child);

impl Iperf3Server {
    fn start(ns: &Netns) -> Iperf3Server {
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name, "iperf3", "-s", "-p", IPERF_PORT])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start iperf3 -s");
        let listening = poll_until(Duration::from_secs(5), || {
            let out = ns.exec(&["ss", "-Hltn", &format!("sport = :{IPERF_PORT}")]);
            !String::from_utf8_lossy(&out.stdout).trim().is_empty()
        });
        assert!(listening, "iperf3 server never listened");
        Iperf3Server(child)
    }
}

impl Drop for Iperf3Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What one iperf3 run delivered.
struct Run {
    /// Ethernet bytes per second the receiver's interface took in the
    /// measuring window, in kbit/s.
    window_kbps: f64,
    /// iperf3's JSON report.
    report: Value,
}

/// Runs an iperf3 client in `from` towards `to` for `secs` seconds with
/// `args` (e.g. `-u -b 100M`), and measures what `to`'s interface
/// received between 1.5 s and `secs - 0.5` s.
fn iperf3(from: &Host, to: &Host, secs: u64, args: &[&str]) -> Run {
    let _server = Iperf3Server::start(&to.ns);
    let mut cmd = vec![
        "iperf3".to_string(),
        "-c".into(),
        to.ip.clone(),
        "-p".into(),
        IPERF_PORT.into(),
        "-t".into(),
        secs.to_string(),
        "--json".into(),
    ];
    cmd.extend(args.iter().map(|a| a.to_string()));
    let ns = from.ns.name.clone();
    let start = Instant::now();
    let client = thread::spawn(move || -> Output {
        Command::new("ip")
            .args(["netns", "exec", &ns])
            .args(&cmd)
            .output()
            .expect("run iperf3 -c")
    });
    // Each reading is stamped with the middle of the time it took.
    let read = || {
        let t0 = Instant::now();
        let bytes = to.ns.stat(&to.ifname, "rx", "bytes");
        (t0 + (Instant::now() - t0) / 2, bytes)
    };
    thread::sleep(Duration::from_millis(1500).saturating_sub(start.elapsed()));
    let (t1, b1) = read();
    thread::sleep(Duration::from_millis(secs * 1000 - 500).saturating_sub(start.elapsed()));
    let (t2, b2) = read();
    let out = client.join().expect("iperf3 client thread");
    assert!(
        out.status.success(),
        "iperf3 failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("iperf3 --json output");
    let window_kbps = (b2 - b1) as f64 * 8.0 / 1000.0 / (t2 - t1).as_secs_f64();
    Run { window_kbps, report }
}

/// iperf3's receiver-side goodput of a TCP run, kbit/s.
fn tcp_goodput_kbps(run: &Run) -> f64 {
    run.report["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .expect("sum_received in the iperf3 report")
        / 1000.0
}

fn within(got: f64, want: f64, tolerance: f64) -> bool {
    (got - want).abs() <= want * tolerance
}

fn drops(stats: &Value, reason: &str) -> u64 {
    stats["drops"][reason].as_u64().unwrap_or(0)
}

fn n(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("no {k} in {v}"))
}

/// Two veth hosts on one bridge, for a test named `test`; `None` when the
/// test must skip.
fn two_hosts(test: &str) -> Option<(Switchd, Host, Host)> {
    if !require_root(test) || !have_tool(test, "iperf3", "iperf3") {
        return None;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_veth(&sw, "br0", "10.0.12.1");
    let b = host_on_veth(&sw, "br0", "10.0.12.2");
    assert_pings(&a, &b);
    Some((sw, a, b))
}

/// The checks every policer must pass: UDP offered at 100 Mbit/s is held
/// to the rate within ±5 %, every frame not delivered is counted under
/// `reason`, a TCP stream reaches at least 85 % of the rate with the
/// default burst, and rate 0 turns the policer off.
fn policer_holds_its_rate(sw: &Switchd, a: &Host, b: &Host, policed: &str, key: &str, reason: &str) {
    sw.ctl_ok(&["set", "port", policed, &format!("{key}={RATE_KBPS}")]);
    let port = sw
        .show()
        .pointer("/0/ports")
        .and_then(Value::as_array)
        .and_then(|ps| ps.iter().find(|p| p["name"] == policed).cloned())
        .expect("the policed port in show");
    let burst_key = key.replace("rate", "burst");
    assert_eq!(port["config"][key], RATE_KBPS, "{port}");
    assert_eq!(port["config"][&burst_key], 8000, "default burst in force: {port}");

    let before_a = sw.port_stats("br0", &a.port);
    let before_b = sw.port_stats("br0", &b.port);
    let udp = iperf3(a, b, 7, &["-u", "-b", "100M", "-l", "1400"]);
    eprintln!(
        "{key}: UDP 100 Mbit/s offered, {:.0} kbit/s delivered",
        udp.window_kbps
    );
    assert!(
        within(udp.window_kbps, RATE_KBPS as f64, 0.05),
        "{key}={RATE_KBPS}: UDP delivered {:.0} kbit/s",
        udp.window_kbps
    );
    // Every frame the sender's port took in either reached the receiver's
    // port or is counted as dropped, the excess as `reason`.
    let sa = sw.port_stats("br0", &a.port);
    let sb = sw.port_stats("br0", &b.port);
    let rx = n(&sa, "rx_packets") - n(&before_a, "rx_packets");
    let sent = n(&sb, "tx_packets") - n(&before_b, "tx_packets");
    let dropped = (n(&sa, "rx_dropped") - n(&before_a, "rx_dropped"))
        + (n(&sb, "tx_dropped") - n(&before_b, "tx_dropped"));
    let policed_n =
        drops(&sa, reason) + drops(&sb, reason) - drops(&before_a, reason) - drops(&before_b, reason);
    assert_eq!(rx, sent + dropped, "frames unaccounted for: {sa} {sb}");
    assert!(
        policed_n > rx / 2,
        "about 4 in 5 frames are over the rate, but only {policed_n} of {rx} were counted as {reason}"
    );
    let lost = udp.report["end"]["sum"]["lost_packets"].as_u64().unwrap_or(0);
    assert!(lost > 0, "iperf3 saw no loss: {}", udp.report["end"]["sum"]);

    let tcp = iperf3(a, b, 7, &[]);
    let goodput = tcp_goodput_kbps(&tcp);
    eprintln!(
        "{key}: TCP goodput {goodput:.0} kbit/s ({:.0} kbit/s on the wire in the window)",
        tcp.window_kbps
    );
    assert!(
        goodput >= 0.85 * RATE_KBPS as f64,
        "{key}={RATE_KBPS}: TCP reached {goodput:.0} kbit/s, under 85 %"
    );
    assert!(
        tcp.window_kbps <= 1.05 * RATE_KBPS as f64,
        "TCP went over the rate: {:.0} kbit/s",
        tcp.window_kbps
    );

    // Rate 0: off, and gone from show.
    sw.ctl_ok(&["set", "port", policed, &format!("{key}=0")]);
    let free = iperf3(a, b, 3, &["-u", "-b", "100M", "-l", "1400"]);
    eprintln!("{key}=0: UDP {:.0} kbit/s", free.window_kbps);
    assert!(
        free.window_kbps > 2.0 * RATE_KBPS as f64,
        "still policed after {key}=0: {:.0} kbit/s",
        free.window_kbps
    );
    let port = sw.show()[0]["ports"].clone();
    assert!(!port.to_string().contains(key), "{port}");
}

#[test]
fn ingress_policing_holds_udp_to_the_rate_and_lets_tcp_reach_it() {
    let Some((sw, a, b)) = two_hosts("ingress_policing_holds_udp_to_the_rate_and_lets_tcp_reach_it") else {
        return;
    };
    policer_holds_its_rate(&sw, &a, &b, &a.port, "ingress_policing_rate", "policed");
}

#[test]
fn egress_policing_holds_udp_to_the_rate_and_lets_tcp_reach_it() {
    let Some((sw, a, b)) = two_hosts("egress_policing_holds_udp_to_the_rate_and_lets_tcp_reach_it") else {
        return;
    };
    policer_holds_its_rate(&sw, &a, &b, &b.port, "egress_policing_rate", "tx-policed");
}

/// A meter on a UDP-only flow limits UDP and leaves ICMP and TCP alone.
#[test]
fn a_meter_on_a_udp_flow_limits_udp_only() {
    let Some((sw, a, b)) = two_hosts("a_meter_on_a_udp_flow_limits_udp_only") else {
        return;
    };
    sw.ctl_ok(&[
        "add-meter",
        "br0",
        "meter=1,kbps,stats,bands=type=drop,rate=10000",
    ]);
    sw.ctl_ok(&["add-flow", "br0", "priority=100,udp,actions=meter:1,normal"]);
    let udp = iperf3(&a, &b, 7, &["-u", "-b", "50M", "-l", "1400"]);
    eprintln!(
        "meter 10000 kbps: UDP 50 Mbit/s offered, {:.0} kbit/s delivered",
        udp.window_kbps
    );
    assert!(
        within(udp.window_kbps, 10_000.0, 0.05),
        "UDP through the meter: {:.0} kbit/s",
        udp.window_kbps
    );

    let tcp = iperf3(&a, &b, 3, &[]);
    let goodput = tcp_goodput_kbps(&tcp);
    eprintln!("TCP beside the metered UDP flow: {goodput:.0} kbit/s");
    assert!(goodput > 30_000.0, "TCP was held back: {goodput:.0} kbit/s");
    let ping =
        a.ns.exec(&["ping", "-c", "20", "-i", "0.05", "-W", "1", "-q", &b.ip]);
    assert!(
        String::from_utf8_lossy(&ping.stdout).contains(" 0% packet loss"),
        "ICMP lost: {}",
        String::from_utf8_lossy(&ping.stdout)
    );

    let m = &sw.ctl_json(&["dump-meters", "br0"])["meters"][0];
    assert_eq!(
        (m["meter"].as_u64(), m["unit"].as_str(), m["flows"].as_u64()),
        (Some(1), Some("kbps"), Some(1)),
        "{m}"
    );
    let band = &m["bands"][0];
    assert_eq!(band["burst_size"], 10_000, "default burst is the rate: {m}");
    assert!(
        n(band, "packets") > 0 && n(m, "packets") > n(band, "packets"),
        "{m}"
    );
    let sa = sw.port_stats("br0", &a.port);
    assert_eq!(drops(&sa, "metered"), n(band, "packets"), "{sa} {m}");
    let text = sw.ctl_ok(&["dump-meters", "br0"]);
    assert_eq!(text, "meter=1 kbps stats bands=\ntype=drop rate=10000\n");
    let stats = sw.ctl_ok(&["meter-stats", "br0"]);
    assert!(
        stats.starts_with("meter:1 flow_count:1 packet_in_count:"),
        "{stats}"
    );
    assert!(
        stats.ends_with(&format!(
            " bands:\n0: packet_count:{} byte_count:{}\n",
            n(band, "packets"),
            n(band, "bytes")
        )),
        "{stats}"
    );

    // Deleting the meter deletes the flow that used it (as OVS): UDP is free.
    sw.ctl_ok(&["del-meter", "br0", "meter=1"]);
    assert_eq!(
        sw.ctl_json(&["dump-meters", "br0"])["meters"],
        serde_json::json!([])
    );
    let flows = sw.ctl_ok(&["dump-flows", "br0"]);
    assert!(!flows.contains("meter:1"), "{flows}");
}

/// Policing and meters survive a restart; bad input is refused with the
/// reason and changes nothing.
#[test]
fn qos_settings_persist_and_bad_input_changes_nothing() {
    if !require_root("qos_settings_persist_and_bad_input_changes_nothing") {
        return;
    }
    let mut sw = Switchd::with_bridge("br0");
    let h = host_on_veth(&sw, "br0", "10.0.12.1");
    sw.ctl_ok(&[
        "set",
        "port",
        &h.port,
        "ingress_policing_rate=100000",
        "ingress_policing_burst=5",
        "egress_policing_rate=50000",
    ]);
    sw.ctl_ok(&[
        "add-meter",
        "br0",
        "meter=7,pktps,burst,bands=type=drop,rate=1000,burst_size=100",
    ]);
    sw.ctl_ok(&["add-flow", "br0", "priority=10,icmp,actions=meter:7,normal"]);
    let before = sw.snapshot();

    for (args, reason) in [
        (
            vec!["set", "port", &h.port, "ingress_policing_rate=fast"],
            "ingress_policing_rate: \"fast\" is not a number",
        ),
        (
            vec!["add-meter", "br0", "meter=8,bands=type=drop,rate=1"],
            "meter must specify either 'kbps' or 'pktps'",
        ),
        (
            vec!["add-meter", "br0", "meter=7,kbps,bands=type=drop,rate=1"],
            "meter 7 already exists",
        ),
        (
            vec!["add-meter", "br0", "meter=9,kbps,bands=type=dscp_remark,rate=1"],
            "drop",
        ),
        (
            vec![
                "add-meter",
                "br0",
                "meter=9,kbps,bands=type=drop,rate=1,burst_size=5",
            ],
            "burst",
        ),
        (
            vec!["add-meter", "br0", "meter=0,kbps,bands=type=drop,rate=1"],
            "meter",
        ),
        (
            vec!["mod-meter", "br0", "meter=3,kbps,bands=type=drop,rate=1"],
            "meter 3 does not exist",
        ),
        (vec!["del-meter", "br0", "meter=3"], "meter 3 does not exist"),
        (
            vec!["add-flow", "br0", "priority=10,udp,actions=meter:9,normal"],
            "meter 9 does not exist",
        ),
    ] {
        let err = sw.ctl_err(&args);
        assert!(err.contains(reason), "{args:?}: {err:?} does not say {reason:?}");
        assert_eq!(sw.snapshot(), before, "{args:?} changed something");
    }

    sw.restart();
    let port = sw.show()[0]["ports"][0]["config"].clone();
    assert_eq!(port["ingress_policing_rate"], 100_000, "{port}");
    // 5 kbit is below a 1514-byte frame: rounded up to MTU + 18 bytes (13 kbit).
    assert_eq!(port["ingress_policing_burst"], 13, "{port}");
    assert_eq!(port["egress_policing_rate"], 50_000, "{port}");
    assert_eq!(port["egress_policing_burst"], 8000, "{port}");
    assert_eq!(
        sw.ctl_ok(&["dump-meters", "br0"]),
        "meter=7 pktps burst bands=\ntype=drop rate=1000 burst_size=100\n"
    );
    let flows = sw.ctl_ok(&["dump-flows", "br0"]);
    assert!(flows.contains("actions=meter:7,NORMAL"), "{flows}");
    let show = sw.ctl_ok(&["show"]);
    assert!(show.contains("ingress_policing_rate=100000"), "{show}");
}

/// Open vSwitch's own client manages the meters over OpenFlow 1.3 and
/// prints them exactly as `switchctl dump-meters` / `meter-stats` do.
#[test]
fn ovs_ofctl_manages_meters_over_openflow() {
    if !require_root("ovs_ofctl_manages_meters_over_openflow")
        || !have_tool("ofctl-meters", "ovs-ofctl", "openvswitch-common")
    {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let a = host_on_veth(&sw, "br0", "10.0.12.1");
    let b = host_on_veth(&sw, "br0", "10.0.12.2");
    let path = std::env::temp_dir().join(format!("{}.br0.of", sw.ns.name));
    sw.ctl_ok(&["set-controller", "br0", &format!("punix:{}", path.display())]);
    let target = format!("unix:{}", path.display());
    assert!(poll_until(Duration::from_secs(5), || path.exists()));
    let ofctl = |args: &[&str]| -> String {
        let out = Command::new("ovs-ofctl")
            .args(["-O", "OpenFlow13", "--timeout=10"])
            .args(args)
            .output()
            .expect("run ovs-ofctl");
        assert!(
            out.status.success(),
            "ovs-ofctl {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let features = ofctl(&["meter-features", &target]);
    assert!(
        features.contains("max_meter:65536") && features.contains("drop"),
        "{features}"
    );
    ofctl(&[
        "add-meter",
        &target,
        "meter=2,kbps,burst,stats,bands=type=drop,rate=5000,burst_size=300",
    ]);
    ofctl(&[
        "add-meter",
        &target,
        "meter=3,pktps,bands=type=drop,rate=100,type=drop,rate=200",
    ]);
    ofctl(&[
        "add-flow",
        &target,
        &format!(
            "priority=50,in_port={},icmp,actions=meter:3,output:{}",
            a.port, b.port
        ),
    ]);
    let mine = sw.ctl_ok(&["dump-meters", "br0"]);
    let theirs = ofctl(&["dump-meters", &target]);
    // ovs-ofctl adds its reply header line; the rest is identical.
    let body: String = theirs
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(mine, body, "switchctl:\n{mine}\novs-ofctl:\n{theirs}");

    assert!(a.ping(&b.ip) || a.ping(&b.ip));
    let mine = sw.ctl_ok(&["meter-stats", "br0", "meter=3"]);
    let theirs = ofctl(&["meter-stats", &target, "meter=3"]);
    let strip_duration = |s: &str| -> String {
        s.lines()
            .filter(|l| l.starts_with("meter") || l.starts_with('0') || l.starts_with('1'))
            .map(|l| l.split(" duration:").next().unwrap_or(l).to_string() + "\n")
            .collect()
    };
    assert_eq!(
        strip_duration(&mine),
        strip_duration(&theirs),
        "switchctl:\n{mine}\novs-ofctl:\n{theirs}"
    );
    assert!(mine.contains("flow_count:1 packet_in_count:"), "{mine}");

    // A flow naming a meter that does not exist is refused over OpenFlow too.
    let out = Command::new("ovs-ofctl")
        .args([
            "-O",
            "OpenFlow13",
            "--timeout=10",
            "add-flow",
            &target,
            "priority=5,actions=meter:9,normal",
        ])
        .output()
        .expect("run ovs-ofctl");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("OFPMMFC_UNKNOWN_METER"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An existing id: METER_EXISTS.
    let out = Command::new("ovs-ofctl")
        .args([
            "-O",
            "OpenFlow13",
            "--timeout=10",
            "add-meter",
            &target,
            "meter=2,kbps,bands=type=drop,rate=1",
        ])
        .output()
        .expect("run ovs-ofctl");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("OFPMMFC_METER_EXISTS"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    ofctl(&["del-meter", &target, "meter=3"]);
    let flows = sw.ctl_ok(&["dump-flows", "br0"]);
    assert!(
        !flows.contains("meter:3"),
        "the flow went with its meter: {flows}"
    );
    assert_eq!(
        sw.ctl_json(&["dump-meters", "br0"])["meters"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

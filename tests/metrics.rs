//! `switchd --metrics` against the real daemon (SPEC §11): after two hosts
//! ping through a bridge, every per-port counter of `GET /metrics` equals
//! `switchctl --json port-stats`, and the MAC table size equals `show`;
//! the spanning tree, bond, LACP, flow and controller families equal what
//! `rstp-show`, `bond-show`, `dump-flows` and `get-controller` say; other
//! paths get 404, other methods 405, garbage 400, and nothing changes; the
//! whole body passes `promtool check metrics`; an address that cannot be
//! bound stops switchd at start with a message that names it. Needs root;
//! see tests/common/mod.rs.
//!
//! The daemon runs in its own network namespace, so the metrics port can
//! be fixed; the test's HTTP client connects from inside that namespace
//! (a socket made by a thread that joined it stays there).
//!
//! `promtool` comes with the Debian package `prometheus`. Without it the
//! promtool checks print SKIP, unless `SWITCHD_REQUIRE_ROOT=1` (CI), where
//! its absence fails the test instead of letting the check go unrun.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::ops::Deref;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::*;

/// Where the daemon serves metrics, inside its private namespace.
const METRICS: &str = "127.0.0.1:9477";

/// A [`Switchd`] started with `--metrics METRICS`. The harness starts
/// daemons without extra arguments, so this one stops the daemon
/// `Switchd::start` made and starts its own on the same namespace, socket
/// and db (keeping tests/common/mod.rs as it is). Drop stops it and, when
/// the test fails, prints its log.
struct MetricsSwitchd {
    sw: Switchd,
    child: Option<Child>,
    log: PathBuf,
}

impl MetricsSwitchd {
    fn start() -> MetricsSwitchd {
        let mut sw = Switchd::start();
        let status = sw.stop();
        assert!(status.success(), "the plain switchd exited with {status}");
        let log = sw.db.with_file_name("switchd-metrics.log");
        let level = std::env::var("SWITCHD_TEST_LOG").unwrap_or_else(|_| "debug".into());
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &sw.ns.name])
            .arg(bin("switchd"))
            .args(["--metrics", METRICS]);
        let child = start_daemon(cmd, &sw.socket, &sw.db, &level, &log);
        MetricsSwitchd {
            sw,
            child: Some(child),
            log,
        }
    }

    /// `request` sent as it is to the metrics port, from inside the
    /// daemon's namespace; the response once the server closes.
    fn http(&self, request: &str) -> Answer {
        let mut s = in_netns(&self.sw.ns.name, || {
            TcpStream::connect(METRICS).unwrap_or_else(|e| panic!("connect to {METRICS}: {e}"))
        });
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request.as_bytes()).expect("send the request");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read the response");
        Answer::parse(&raw)
    }

    /// `GET /metrics`, which must succeed; the body.
    fn scrape(&self) -> String {
        let a = self.http("GET /metrics HTTP/1.1\r\nHost: switchd\r\n\r\n");
        assert_eq!(a.code, 200, "GET /metrics: {a:?}");
        assert_eq!(
            a.headers.get("content-type").map(String::as_str),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        assert_eq!(a.headers.get("content-length"), Some(&a.body.len().to_string()));
        a.body
    }
}

impl Deref for MetricsSwitchd {
    type Target = Switchd;
    fn deref(&self) -> &Switchd {
        &self.sw
    }
}

impl Drop for MetricsSwitchd {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            let status = stop_daemon(child);
            if std::thread::panicking() || !status.success() {
                eprintln!("switchd --metrics exit: {status}");
            }
        }
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("---- switchd --metrics log ----\n{log}---- end ----");
        }
    }
}

/// An HTTP response: status code, headers (names lowercased), body.
#[derive(Debug)]
struct Answer {
    code: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

impl Answer {
    fn parse(raw: &[u8]) -> Answer {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no blank line after the head: {text:?}"));
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap_or_default();
        let code = status
            .strip_prefix("HTTP/1.1 ")
            .and_then(|s| s.get(..3))
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status:?}"));
        let headers = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        Answer {
            code,
            headers,
            body: body.to_string(),
        }
    }
}

/// The samples of an exposition: `(name, labels) → value`. Label values
/// are unescaped; a series that appears twice fails the test.
fn samples(text: &str) -> BTreeMap<(String, BTreeMap<String, String>), u64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line:?}"));
        let value: u64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not an integer: {line:?}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => (name.to_string(), parse_labels(rest.strip_suffix('}').expect("}"))),
        };
        assert!(
            out.insert((name, labels), value).is_none(),
            "duplicate series: {line:?}"
        );
    }
    out
}

/// `a="x",b="y\"z"` → {a: x, b: y"z}.
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert_eq!(
            chars.next(),
            Some('"'),
            "label {key} has no quoted value in {text:?}"
        );
        let mut value = String::new();
        loop {
            match chars.next().expect("closing quote") {
                '\\' => match chars.next().expect("escaped character") {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(key, value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels
}

type Samples = BTreeMap<(String, BTreeMap<String, String>), u64>;

/// The value of one series, if present.
fn get(s: &Samples, name: &str, labels: &[(&str, &str)]) -> Option<u64> {
    let labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    s.get(&(name.to_string(), labels)).copied()
}

/// Like [`get`], but the series must exist.
fn value(s: &Samples, name: &str, labels: &[(&str, &str)]) -> u64 {
    get(s, name, labels).unwrap_or_else(|| panic!("no series {name}{labels:?}"))
}

/// Runs `promtool check metrics` on `body`: must report nothing. Without
/// promtool: SKIP, or a failure under SWITCHD_REQUIRE_ROOT=1.
fn promtool_check(test: &str, body: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var("SWITCHD_REQUIRE_ROOT").is_ok_and(|v| v == "1") {
                panic!(
                    "{test}: promtool is not installed (Debian package `prometheus`), and \
                     SWITCHD_REQUIRE_ROOT=1 forbids skipping the `promtool check metrics` check"
                );
            }
            let _ = writeln!(
                std::io::stderr(),
                "SKIP {test}: promtool check metrics (install the Debian package `prometheus`)"
            );
            return;
        }
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("wait for promtool");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && report.trim().is_empty(),
        "promtool check metrics: {}: {report}\nbody:\n{body}",
        out.status
    );
}

/// `port-stats --json` of every bridge.
fn port_stats(sw: &Switchd) -> Value {
    sw.ctl_json(&["port-stats"])
}

#[test]
fn metrics_equal_port_stats_after_traffic() {
    const TEST: &str = "metrics_equal_port_stats_after_traffic";
    if !require_root(TEST) {
        return;
    }
    let sw = MetricsSwitchd::start();
    sw.ctl_ok(&["add-br", "br0"]);
    let h1 = host_on_veth(&sw, "br0", "10.0.41.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.41.2");
    // Before any traffic: the ports are there, up, at zero or near it.
    let before = samples(&sw.scrape());
    assert_eq!(value(&before, "switchd_up", &[]), 1);
    for h in [&h1, &h2] {
        let port = [("bridge", "br0"), ("port", h.port.as_str())];
        assert_eq!(value(&before, "switchd_port_up", &port), 1, "{}", h.port);
    }

    assert_pings(&h1, &h2);
    // A named drop too: a multicast source MAC is never forwarded.
    let bad = frame(BROADCAST, [0x01, 0, 0x5e, 0, 0, 1], 0x88b5, b"bad source");
    h1.inject(&bad);

    // Compare once the counters stand still (two port-stats around the
    // scrape agree); wait longer than the daemon reuses a snapshot (1 s)
    // before each scrape, so the scrape is newer than the first port-stats.
    let mut settled = None;
    for _ in 0..10 {
        let first = port_stats(&sw);
        std::thread::sleep(Duration::from_millis(1200));
        let body = sw.scrape();
        let show = sw.show();
        if port_stats(&sw) == first {
            settled = Some((first, body, show));
            break;
        }
    }
    let (stats, body, show) = settled.expect("port-stats kept changing for 10 tries");
    let m = samples(&body);
    // The engine's own counters: the two hosts were learned, ARP flooded,
    // every frame looked up in table 0 (the default flow's shortcut).
    let br = [("bridge", "br0")];
    assert!(value(&m, "switchd_mac_learned_total", &br) >= 2, "learned");
    assert!(value(&m, "switchd_floods_total", &br) >= 1, "floods");
    let t0 = [("bridge", "br0"), ("table", "0")];
    assert!(value(&m, "switchd_flow_table_lookups_total", &t0) >= 3, "lookups");
    assert_eq!(
        value(&m, "switchd_flow_table_lookups_total", &t0),
        value(&m, "switchd_flow_table_matches_total", &t0),
        "the default flow matches every frame"
    );
    assert!(value(&m, "switchd_engine_batches_total", &[]) >= 1, "batches");
    let rows = stats.as_array().expect("port-stats is an array");
    assert_eq!(rows.len(), 2, "{stats}");
    for row in rows {
        let (bridge, port) = (row["bridge"].as_str().unwrap(), row["port"].as_str().unwrap());
        let l = [("bridge", bridge), ("port", port)];
        for key in [
            "rx_packets",
            "rx_bytes",
            "rx_errors",
            "rx_dropped",
            "tx_packets",
            "tx_bytes",
            "tx_errors",
            "tx_dropped",
        ] {
            let name = format!("switchd_port_{key}_total");
            assert_eq!(
                Some(value(&m, &name, &l)),
                row[key].as_u64(),
                "{name} of {port} differs from port-stats"
            );
        }
        assert!(row["rx_packets"].as_u64().unwrap() >= 3, "{row}");
        // Every reason: the non-zero ones as port-stats lists them, the
        // others at 0.
        let listed = row["drops"].as_object().expect("drops");
        let mut seen = 0;
        for ((name, labels), v) in &m {
            if name == "switchd_port_drops_total" && labels["port"] == port {
                assert_eq!(labels["bridge"], bridge);
                let want = listed.get(&labels["reason"]).and_then(Value::as_u64).unwrap_or(0);
                assert_eq!(*v, want, "drops of {port} for {}", labels["reason"]);
                seen += 1;
            }
        }
        assert!(seen >= 29, "only {seen} drop reasons for {port}");
        for reason in listed.keys() {
            assert!(
                get(&m, "switchd_port_drops_total", &[l[0], l[1], ("reason", reason)]).is_some(),
                "no series for {port}'s {reason} drops"
            );
        }
    }
    let drops = [
        ("bridge", "br0"),
        ("port", h1.port.as_str()),
        ("reason", "bad-source-mac"),
    ];
    assert_eq!(value(&m, "switchd_port_drops_total", &drops), 1);
    assert_eq!(
        Some(value(&m, "switchd_mac_table_entries", &[("bridge", "br0")])),
        show[0]["mac_entries"].as_u64()
    );
    assert_eq!(value(&m, "switchd_mac_table_entries", &[("bridge", "br0")]), 2);
    promtool_check(TEST, &body);
}

#[test]
fn metrics_answer_only_get_and_head_on_metrics() {
    if !require_root("metrics_answer_only_get_and_head_on_metrics") {
        return;
    }
    let sw = MetricsSwitchd::start();
    sw.ctl_ok(&["add-br", "br0"]);
    let before = sw.snapshot();

    let other = sw.http("GET /other HTTP/1.1\r\nHost: switchd\r\n\r\n");
    assert_eq!(other.code, 404, "{other:?}");
    assert_eq!(sw.http("GET / HTTP/1.1\r\n\r\n").code, 404);
    for method in ["POST", "PUT", "DELETE"] {
        let req = format!("{method} /metrics HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody");
        let a = sw.http(&req);
        assert_eq!(a.code, 405, "{method}: {a:?}");
        assert_eq!(a.headers.get("allow").map(String::as_str), Some("GET, HEAD"));
    }
    assert_eq!(sw.http("not http at all\r\n\r\n").code, 400);

    let head = sw.http("HEAD /metrics HTTP/1.1\r\n\r\n");
    assert_eq!(head.code, 200);
    assert!(head.body.is_empty(), "HEAD has a body: {head:?}");
    let len: usize = head.headers["content-length"].parse().unwrap();
    assert!(len > 0);

    // Read-only: nothing the requests above did changed anything.
    assert_eq!(sw.snapshot(), before);
    assert!(sw
        .scrape()
        .contains("switchd_mac_table_entries{bridge=\"br0\"} 0\n"));
}

#[test]
fn metrics_of_rstp_bonds_flows_and_controllers_equal_switchctl() {
    const TEST: &str = "metrics_of_rstp_bonds_flows_and_controllers_equal_switchctl";
    if !require_root(TEST) {
        return;
    }
    let sw = MetricsSwitchd::start();
    sw.ctl_ok(&["add-br", "br1"]);
    sw.ctl_ok(&["set", "bridge", "br1", "rstp=true"]);
    // A bond over two cables whose other ends nobody answers LACP on.
    let peer = Netns::new();
    let (m1, _) = cable(&sw.ns, &peer);
    let (m2, _) = cable(&sw.ns, &peer);
    sw.ctl_ok(&["add-bond", "br1", "bond0", &m1, &m2, "lacp=active"]);
    sw.ctl_ok(&["add-flow", "br1", "table=0,priority=10,actions=resubmit(,3)"]);
    sw.ctl_ok(&["add-flow", "br1", "table=3,priority=0,actions=normal"]);
    // A controller nobody listens on: it backs off.
    sw.ctl_ok(&["set-controller", "br1", "tcp:127.0.0.1:6653"]);

    // Roles settle once the bond's ports are up: compare a scrape with
    // the rstp-show before and after it when both give the same roles
    // (after waiting out the 1 s for which the daemon reuses a snapshot).
    let roles = |r: &Value| -> Vec<(Value, Value)> {
        let ports = r["bridges"][0]["ports"].as_array().cloned().unwrap_or_default();
        ports
            .iter()
            .map(|p| (p["port"].clone(), p["role"].clone()))
            .collect()
    };
    let mut settled = None;
    for _ in 0..10 {
        let first = sw.ctl_json(&["rstp-show"]);
        std::thread::sleep(Duration::from_millis(1200));
        let body = sw.scrape();
        if roles(&sw.ctl_json(&["rstp-show"])) == roles(&first) {
            settled = Some((first, body));
            break;
        }
    }
    let (rstp, body) = settled.expect("RSTP roles kept changing for 10 tries");
    let m = samples(&body);

    let b = &rstp["bridges"][0];
    assert_eq!(b["bridge"], "br1");
    let br = [("bridge", "br1")];
    assert_eq!(
        value(&m, "switchd_rstp_root_bridge", &br),
        1,
        "a lone bridge is its own root"
    );
    assert!(value(&m, "switchd_rstp_topology_changes_total", &br) >= b["topology_changes"].as_u64().unwrap());
    for p in b["ports"].as_array().unwrap() {
        let port = p["port"].as_str().unwrap();
        for role in ["root", "designated", "alternate", "backup", "disabled"] {
            let l = [("bridge", "br1"), ("port", port), ("role", role)];
            let want = u64::from(p["role"] == role);
            assert_eq!(value(&m, "switchd_rstp_port_role", &l), want, "{port} {role}");
        }
    }

    let bonds = sw.ctl_json(&["bond-show"]);
    let bond = &bonds["bonds"][0];
    for member in bond["members"].as_array().unwrap() {
        let name = member["member"].as_str().unwrap();
        let l = [("bridge", "br1"), ("bond", "bond0"), ("member", name)];
        assert_eq!(
            value(&m, "switchd_bond_member_carrier", &l),
            u64::from(member["carrier"] == true),
            "{name}"
        );
        assert!(get(&m, "switchd_bond_member_enabled", &l).is_some());
        assert!(get(&m, "switchd_lacp_member_tx_lacpdus_total", &l).is_some());
    }
    let status = bond["lacp_status"].as_str().unwrap();
    let l = [("bridge", "br1"), ("bond", "bond0"), ("status", status)];
    assert_eq!(value(&m, "switchd_bond_lacp_status", &l), 1, "{status}");

    // Per table: as many flows as dump-flows lists, and the sum of their
    // counters (nothing crosses the bridge, so they stand still).
    let flows = sw.ctl_json(&["dump-flows", "br1"]);
    let mut per_table: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for f in flows["flows"].as_array().expect("flows") {
        let t = per_table.entry(f["table"].to_string()).or_default();
        t[0] += 1;
        t[1] += f["n_packets"].as_u64().unwrap();
        t[2] += f["n_bytes"].as_u64().unwrap();
    }
    assert!(per_table.contains_key("3"), "{flows}");
    for (table, [n, packets, bytes]) in &per_table {
        let t = [("bridge", "br1"), ("table", table.as_str())];
        assert_eq!(value(&m, "switchd_flows", &t), *n, "table {table}: {flows}");
        assert_eq!(
            value(&m, "switchd_flow_matched_packets_total", &t),
            *packets,
            "table {table}"
        );
        assert_eq!(
            value(&m, "switchd_flow_matched_bytes_total", &t),
            *bytes,
            "table {table}"
        );
    }

    let ctl = sw.ctl_json(&["get-controller", "br1"]);
    let c = &ctl["bridges"][0]["controllers"][0];
    let target = c["target"].as_str().unwrap();
    let l = [("bridge", "br1"), ("target", target)];
    assert_eq!(value(&m, "switchd_controller_connected", &l), 0);
    let states = ["connected", "connecting", "listening", "backoff"];
    let on: Vec<&str> = states
        .iter()
        .copied()
        .filter(|s| value(&m, "switchd_controller_state", &[l[0], l[1], ("state", s)]) == 1)
        .collect();
    assert_eq!(on.len(), 1, "{on:?}");
    assert_ne!(on[0], "connected");

    promtool_check(TEST, &body);
}

#[test]
fn metrics_address_that_cannot_be_bound_stops_switchd_at_start() {
    if !require_root("metrics_address_that_cannot_be_bound_stops_switchd_at_start") {
        return;
    }
    let ns = Netns::new();
    let dir = std::env::temp_dir().join(format!("switchd-test-{}", ns.name));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("switchd.sock");
    // Someone already listens on the port.
    let _taken = in_netns(&ns.name, || std::net::TcpListener::bind(METRICS).expect("bind"));

    let run = |metrics: &str| {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .arg(bin("switchd"))
            .arg("--socket")
            .arg(&socket)
            .arg("--db")
            .arg(dir.join("config.json"))
            .args(["--metrics", metrics])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn switchd");
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().expect("waitpid").is_none() {
            if Instant::now() > deadline {
                kill_daemon(child);
                panic!("switchd --metrics {metrics} kept running");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().expect("output");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (code, stderr) = run(METRICS);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen for --metrics on {METRICS}"))
            && stderr.contains("Address already in use"),
        "{stderr}"
    );
    assert!(!socket.exists(), "the control socket was created");

    let (code, stderr) = run("192.0.2.1:9477");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot listen for --metrics on 192.0.2.1:9477"),
        "{stderr}"
    );

    let (code, stderr) = run("localhost:9477");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("ADDR:PORT"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

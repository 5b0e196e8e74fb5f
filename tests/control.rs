//! The control plane against the real daemon: every bad command of SPEC §6
//! fails with one `switchctl:` line and changes nothing (neither `show` nor the
//! db); `--may-exist`/`--if-exists` make repeats succeed; malformed, oversized,
//! truncated and idle protocol clients get error replies where a reply is
//! possible and leave the daemon answering and forwarding; many concurrent
//! clients are all served. Needs root; see tests/common/mod.rs.

mod common;

use std::io::Write;
use std::net::Shutdown;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::*;

/// Runs a command that must fail; checks the one-line error, that it names
/// `needle`, and that nothing changed. Problems are collected, not raised, so
/// that one run reports every misbehaving command.
fn refused(sw: &Switchd, before: &(Value, Vec<u8>), args: &[&str], needle: &str) -> Option<String> {
    let out = sw.ctl(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        return Some(format!("{args:?} succeeded but must fail"));
    }
    let lines: Vec<&str> = stderr.lines().collect();
    let reason = match lines.as_slice() {
        [line] => match line.strip_prefix("switchctl: ") {
            Some(r) => r,
            None => {
                return Some(format!(
                    "{args:?}: stderr {stderr:?} lacks the `switchctl: ` prefix"
                ))
            }
        },
        _ => return Some(format!("{args:?}: stderr is not exactly one line: {stderr:?}")),
    };
    if !reason.to_lowercase().contains(&needle.to_lowercase()) {
        return Some(format!("{args:?}: error {reason:?} does not mention {needle:?}"));
    }
    let after = sw.snapshot();
    if after.0 != before.0 {
        return Some(format!(
            "{args:?} failed ({reason}) but changed `show`: {}",
            after.0
        ));
    }
    if after.1 != before.1 {
        return Some(format!("{args:?} failed ({reason}) but rewrote the db"));
    }
    None
}

#[test]
fn bad_commands_fail_cleanly_and_change_nothing() {
    if !require_root("bad_commands_fail_cleanly_and_change_nothing") {
        return;
    }
    let sw = Switchd::start();
    let (p0, p1) = (unique("p"), unique("p"));
    sw.ctl_ok(&["add-br", "br0"]);
    sw.ctl_ok(&["add-br", "br1"]);
    sw.ctl_ok(&["add-port", "br0", &p0, "type=tap", "tag=10"]);
    sw.ctl_ok(&["add-port", "br1", &p1, "type=tap"]);
    sw.ctl_ok(&["set", "bridge", "br0", "mac_aging=100"]);
    let before = sw.snapshot();
    let missing_dev = unique("md");
    let long = "a23456789012345x"; // 16 bytes
    assert_eq!(long.len(), 16);
    let x = unique("x");

    let cases: &[(&[&str], &str)] = &[
        // Unknown bridge.
        (&["add-port", "nobr", &x, "type=tap"], "nobr"),
        (&["del-br", "nobr"], "nobr"),
        (&["list-ports", "nobr"], "nobr"),
        (&["set", "bridge", "nobr", "mac_aging=10"], "nobr"),
        (&["fdb-show", "nobr"], "nobr"),
        (&["fdb-flush", "nobr"], "nobr"),
        (&["port-stats", "nobr"], "nobr"),
        (&["del-port", "nobr", &p0], "nobr"),
        // Unknown port.
        (&["del-port", "noport"], "noport"),
        (&["del-port", "br0", "noport"], "noport"),
        (&["del-port", "br1", &p0], &p0), // exists, but on br0
        (&["set", "port", "noport", "tag=1"], "noport"),
        (&["clear", "port", "noport", "tag"], "noport"),
        // Duplicates.
        (&["add-br", "br0"], "br0"),
        (&["add-port", "br0", &p0, "type=tap"], &p0),
        (&["add-port", "br0", &p1, "type=tap"], &p1), // already on br1
        (&["add-port", "br0", &p1, "type=tap", "--may-exist"], &p1), // --may-exist is per bridge
        // Bad names.
        (&["add-br", long], long),
        (&["add-port", "br0", long, "type=tap"], long),
        (&["add-br", "a/b"], "a/b"),
        (&["add-port", "br0", "a/b", "type=tap"], "a/b"),
        // VLAN ids and trunk lists.
        (&["set", "port", &p0, "tag=4096"], "4096"),
        (&["add-port", "br0", &x, "type=tap", "tag=4096"], "4096"),
        (&["set", "port", &p1, "trunks=1-5000"], "5000"),
        (&["set", "port", &p1, "trunks=abc"], "abc"),
        (&["add-port", "br0", &x, "type=tap", "trunks=10,abc"], "abc"),
        // Unknown keys.
        (&["set", "port", &p0, "color=red"], "color"),
        (&["add-port", "br0", &x, "type=tap", "color=red"], "color"),
        (&["set", "bridge", "br0", "color=1"], "color"),
        (&["clear", "port", &p0, "color"], "color"),
        // Out-of-range bridge settings.
        (&["set", "bridge", "br0", "mac_aging=0"], "mac_aging"),
        (&["set", "bridge", "br0", "mac_table_size=15"], "mac_table_size"),
        // Bad IPs.
        (
            &["add-port", "br0", &x, "type=vxlan", "remote_ip=1.2.3.999"],
            "1.2.3.999",
        ),
        (&["add-port", "br0", &x, "type=vxlan", "remote_ip=bogus"], "bogus"),
        // Contradictory VLAN settings (p0 is an access port with tag 10).
        (&["set", "port", &p0, "trunks=1,2"], "trunks"),
        (
            &["set", "port", &p1, "vlan_mode=access", "tag=5", "trunks=1,2"],
            "trunks",
        ),
        (&["set", "port", &p1, "vlan_mode=native-tagged"], "tag"),
        (&["set", "port", &p1, "vlan_mode=access"], "tag"),
        // All or nothing: the valid tag=20 must not stick.
        (&["set", "port", &p0, "tag=20", "trunks=abc"], "abc"),
        (&["set", "port", &p0, "tag=20", "color=red"], "color"),
        // A system port needs an existing device.
        (&["add-port", "br0", &missing_dev], "no such device"),
    ];
    let problems: Vec<String> = cases
        .iter()
        .filter_map(|(args, needle)| refused(&sw, &before, args, needle))
        .collect();
    assert!(
        problems.is_empty(),
        "{} of {} bad commands misbehaved:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
    assert!(!sw.ns.has_link(&x), "a refused add-port left device {x} behind");

    // --may-exist / --if-exists make repeats succeed without changes.
    for args in [
        &["add-br", "br0", "--may-exist"][..],
        &["add-port", "br0", &p0, "type=tap", "--may-exist"],
        &["del-br", "nobr", "--if-exists"],
        &["del-port", "noport", "--if-exists"],
        &["del-port", "br0", "noport", "--if-exists"],
    ] {
        sw.ctl_ok(args);
        assert_eq!(
            sw.show(),
            before.0,
            "switchctl {args:?} changed the configuration"
        );
    }

    // And the real thing works after all that.
    sw.ctl_ok(&["del-br", "br1"]);
    assert_eq!(sw.ctl_json(&["list-br"]), serde_json::json!(["br0"]));
    sw.ctl_ok(&["del-br", "br1", "--if-exists"]);
    sw.ctl_ok(&["del-port", &p0]);
    sw.ctl_ok(&["del-port", &p0, "--if-exists"]);
    assert_eq!(sw.ctl_json(&["list-ports", "br0"]), serde_json::json!([]));
}

/// Two hosts on a fresh daemon that can ping each other.
fn forwarding_pair() -> (Switchd, Host, Host) {
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert!(h1.ping(&h2.ip), "ping failed before any abuse");
    (sw, h1, h2)
}

fn error_kind(reply: &Value) -> &str {
    reply["error"]["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error reply, got {reply}"))
}

#[test]
fn malformed_protocol_input_gets_errors_and_daemon_keeps_forwarding() {
    if !require_root("malformed_protocol_input_gets_errors_and_daemon_keeps_forwarding") {
        return;
    }
    let (mut sw, h1, h2) = forwarding_pair();

    // The raw protocol works at all.
    let ok = sw.raw_request(r#"{"version":1,"request":{"op":"list-br"}}"#);
    assert_eq!(ok["version"], 1, "{ok}");
    assert!(ok.get("ok").is_some(), "list-br over the raw protocol: {ok}");

    // Garbage, wrong version, unknown op, invalid name: error replies.
    for (line, kind) in [
        ("this is not json", "bad-request"),
        ("{}", "bad-request"),
        (r#"{"version":2,"request":{"op":"list-br"}}"#, "version-mismatch"),
        (r#"{"version":1,"request":{"op":"fly"}}"#, "bad-request"),
        (
            r#"{"version":1,"request":{"op":"add-br","bridge":"a/b"}}"#,
            "bad-request",
        ),
        ("\u{1}\u{2}\u{3}\u{ff}", "bad-request"),
    ] {
        let reply = sw.raw_request(line);
        assert_eq!(error_kind(&reply), kind, "reply to {line:?}: {reply}");
    }

    // A connection stays usable after a bad line (or is closed after the error).
    {
        let mut s = sw.connect();
        s.write_all(b"garbage\n{\"version\":1,\"request\":{\"op\":\"list-br\"}}\n")
            .expect("write");
        let mut r = std::io::BufReader::new(&s);
        let mut line = String::new();
        std::io::BufRead::read_line(&mut r, &mut line).expect("reply to a garbage line");
        let first: Value = serde_json::from_str(&line).expect("reply is JSON");
        assert_eq!(error_kind(&first), "bad-request");
        line.clear();
        if std::io::BufRead::read_line(&mut r, &mut line).is_ok_and(|n| n > 0) {
            let second: Value = serde_json::from_str(&line).expect("reply is JSON");
            assert!(
                second.get("ok").is_some(),
                "second request on the same connection: {second}"
            );
        }
    }

    // An oversized line: a too-large error, then the daemon hangs up.
    {
        let mut s = sw.connect();
        let mut big = vec![b'a'; proto::codec::MAX_REQUEST_LEN + 100];
        big.push(b'\n');
        // The daemon may hang up before reading all of it.
        let _ = s.write_all(&big);
        let (lines, closed) = read_until_close(&s);
        assert_eq!(
            lines.len(),
            1,
            "expected one error reply to an oversized line, got {lines:?}"
        );
        let reply: Value = serde_json::from_str(&lines[0]).expect("reply is JSON");
        assert_eq!(error_kind(&reply), "too-large", "{reply}");
        assert!(closed, "connection not closed after an oversized line");
    }
    // An endless line without newline is cut off at the limit, not buffered forever.
    {
        let mut s = sw.connect();
        let chunk = vec![b'{'; 16 * 1024];
        let mut sent = 0;
        while sent < proto::codec::MAX_REQUEST_LEN + 1024 * 1024 {
            if s.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len();
        }
        let (lines, closed) = read_until_close(&s);
        assert!(closed, "connection not closed while sending an endless line");
        assert!(lines.len() <= 1, "{lines:?}");
        if let Some(l) = lines.first() {
            let reply: Value = serde_json::from_str(l).expect("reply is JSON");
            assert_eq!(error_kind(&reply), "too-large", "{reply}");
        }
    }

    let mut truncated_problem = None;
    // A truncated line, then the client stops writing: the daemon can still
    // answer with an error, and must not act on the fragment.
    {
        let mut s = sw.connect();
        s.write_all(br#"{"version":1,"request":{"op":"add-br","bridge":"trunc"#)
            .expect("write");
        s.shutdown(Shutdown::Write).expect("shutdown");
        let (lines, closed) = read_until_close(&s);
        let error_reply = lines.len() == 1
            && serde_json::from_str::<Value>(&lines[0]).is_ok_and(|r| r["error"]["kind"].is_string());
        if !closed || !error_reply {
            // Checked last, so that the checks below still run.
            truncated_problem = Some(format!(
                "truncated line then EOF: expected one error reply and a close, got {lines:?} (closed: {closed})"
            ));
        }
    }
    // The same, but the client vanishes entirely.
    {
        let mut s = sw.connect();
        s.write_all(br#"{"version":1,"request":{"op":"add-br","bridge":"trunc2"#)
            .expect("write");
        drop(s);
    }
    // Connect and disconnect without a byte, a few times.
    for _ in 0..5 {
        drop(sw.connect());
    }
    // A whole request, then hang up without reading the reply.
    {
        let mut s = sw.connect();
        s.write_all(b"{\"version\":1,\"request\":{\"op\":\"show\"}}\n")
            .expect("write");
        drop(s);
    }

    assert!(sw.is_running(), "switchd exited; log:\n{}", sw.log());
    let brs = sw.ctl_json(&["list-br"]);
    assert_eq!(brs, serde_json::json!(["br0"]), "a fragment created a bridge");
    assert!(
        h1.ping(&h2.ip),
        "forwarding stopped after malformed control input"
    );
    assert!(
        h2.ping(&h1.ip),
        "forwarding stopped after malformed control input"
    );
    if let Some(p) = truncated_problem {
        panic!("{p}");
    }
}

#[test]
fn idle_and_slow_clients_do_not_block_others() {
    if !require_root("idle_and_slow_clients_do_not_block_others") {
        return;
    }
    let (sw, h1, h2) = forwarding_pair();
    // One client connected and silent, one stuck in the middle of a line.
    let _idle = sw.connect();
    let mut slow = sw.connect();
    slow.write_all(br#"{"version":1,"req"#).expect("write");

    let t = Instant::now();
    let out = sw.ctl(&["--json", "list-br"]);
    assert!(
        out.status.success(),
        "list-br failed while other clients are idle: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "list-br took {:?}",
        t.elapsed()
    );
    assert!(h1.ping(&h2.ip), "forwarding stopped while a client is idle");

    // The slow client can still finish its request.
    slow.write_all(b"uest\":{\"op\":\"list-br\"}}\n").expect("write");
    let reply = read_reply(&slow).expect("reply to the completed slow request");
    assert!(reply.get("ok").is_some(), "{reply}");
}

#[test]
fn many_concurrent_clients_all_get_answers() {
    if !require_root("many_concurrent_clients_all_get_answers") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    sw.ctl_ok(&["add-br", "br1"]);
    let expect = serde_json::json!(["br0", "br1"]);

    // 20 switchctl processes at once.
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|_| scope.spawn(|| sw.ctl(&["--json", "list-br"])))
            .collect();
        for h in handles {
            let out = h.join().expect("thread");
            assert!(
                out.status.success(),
                "concurrent list-br failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
            assert_eq!(v, expect);
        }
    });

    // 20 raw connections open at the same time, answered in reverse order.
    let mut conns: Vec<_> = (0..20).map(|_| sw.connect()).collect();
    for s in conns.iter_mut().rev() {
        s.write_all(b"{\"version\":1,\"request\":{\"op\":\"list-br\"}}\n")
            .expect("write");
    }
    for s in conns.iter().rev() {
        let reply = read_reply(s).expect("a reply on every connection");
        assert!(reply.get("ok").is_some(), "{reply}");
    }

    // Concurrent changes are all applied (and each is one whole db write).
    std::thread::scope(|scope| {
        let sw = &sw;
        let handles: Vec<_> = (0..10)
            .map(|i| scope.spawn(move || sw.ctl(&["add-br", &format!("c{i}")])))
            .collect();
        for h in handles {
            let out = h.join().expect("thread");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    });
    let brs = sw.ctl_json(&["list-br"]);
    assert_eq!(brs.as_array().map(Vec::len), Some(12), "{brs}");
    sw.db_json();
}

/// The control socket under abuse (issue 19): 400 idle connections, a
/// 64 MiB request without end, random garbage and a client that never
/// reads its replies, all at once. Idle clients make room for new ones
/// (the longest-waiting goes), so the operator is never locked out: a
/// `show` answers quickly throughout, and forwarding goes on.
#[test]
fn control_socket_abuse_never_locks_the_operator_out() {
    if !require_root("control_socket_abuse_never_locks_the_operator_out") {
        return;
    }
    let (sw, h1, h2) = forwarding_pair();
    let socket = sw.socket.clone();
    let show = r#"{"version":1,"request":{"op":"show"}}"#;
    let mut latencies = Vec::new();
    let series = ping_series(&h1.ns, &h2.ip, 20, 6, || {
        // 400 connections that send nothing.
        let idle: Vec<std::os::unix::net::UnixStream> = (0..400)
            .map(|_| std::os::unix::net::UnixStream::connect(&socket).expect("connect idle client"))
            .collect();
        // 64 MiB without a newline, as fast as the daemon takes it.
        let s = socket.clone();
        let big = std::thread::spawn(move || {
            let mut c = std::os::unix::net::UnixStream::connect(&s).expect("connect");
            let chunk = vec![b'x'; 1 << 20];
            for _ in 0..64 {
                if c.write_all(&chunk).is_err() {
                    break;
                }
            }
        });
        // Random bytes, newlines among them.
        let s = socket.clone();
        let garbage = std::thread::spawn(move || {
            let mut c = std::os::unix::net::UnixStream::connect(&s).expect("connect");
            let mut x: u32 = 0x9e37_79b9;
            let mut buf = vec![0u8; 64 * 1024];
            for _ in 0..32 {
                for b in buf.iter_mut() {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    *b = x as u8;
                }
                if c.write_all(&buf).is_err() {
                    break;
                }
            }
        });
        // Requests whose replies are never read, until the daemon stops
        // taking them (its writes to this client block, then time out).
        let s = socket.clone();
        let deaf = std::thread::spawn(move || {
            let mut c = std::os::unix::net::UnixStream::connect(&s).expect("connect");
            c.set_write_timeout(Some(Duration::from_secs(3))).unwrap();
            let line = format!("{show}\n").repeat(64);
            for _ in 0..2000 {
                if c.write_all(line.as_bytes()).is_err() {
                    break;
                }
            }
            c
        });
        // Meanwhile the operator's requests.
        for _ in 0..20 {
            let t = Instant::now();
            let reply = sw.raw_request(show);
            latencies.push(t.elapsed());
            assert!(
                reply.get("ok").is_some(),
                "show refused during the abuse: {reply}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        big.join().unwrap();
        garbage.join().unwrap();
        drop(deaf.join().unwrap());
        drop(idle);
    });
    latencies.sort();
    let (median, max) = (latencies[latencies.len() / 2], latencies[latencies.len() - 1]);
    eprintln!(
        "show during the abuse: median {median:?}, max {max:?}; pings {} replies, longest gap {:?}",
        series.replies, series.longest_gap
    );
    assert!(
        median < Duration::from_millis(100),
        "show took {median:?} (median), {max:?} (max)"
    );
    assert!(max < Duration::from_secs(1), "show took {max:?}");
    // Forwarding went on: 20 ms pings for 6 s, no gap longer than 0.5 s.
    assert!(series.replies > 200, "{series:?}");
    assert!(series.longest_gap < Duration::from_millis(500), "{series:?}");
    assert!(h1.ping(&h2.ip));
    // And the daemon is still whole: a change goes through.
    sw.ctl_ok(&["set", "bridge", "br0", "mac_aging=100"]);
}

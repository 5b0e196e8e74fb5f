//! `switchctl capture` against the real daemon (SPEC §11): pcap files that
//! `tcpdump -r` and `tshark -r` read with the expected frames, tags as the
//! frames leave a trunk and an access port, a capture piped into
//! `tcpdump -r -`, Ctrl-C, the port's removal, refusals, and a client that
//! does not read: it loses captured frames (counted) while every frame is
//! forwarded. Needs root; see tests/common/mod.rs.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use common::*;

/// `switchctl --socket S capture ARGS...`, stdout and stderr piped.
fn capture(sw: &Switchd, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin("switchctl"));
    cmd.arg("--socket")
        .arg(&sw.socket)
        .arg("capture")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A pcap file path in the temporary directory; the file is removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> TempFile {
        TempFile(std::env::temp_dir().join(format!("{}.pcap", unique(tag))))
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
    /// Whether switchctl has written the pcap header: it does once switchd
    /// accepted the capture, so the tap is on the port from then on.
    fn started(&self) -> bool {
        fs::metadata(&self.0).is_ok_and(|m| m.len() >= 24)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Waits up to `limit` for `child` to exit, calling `meanwhile` between
/// checks (e.g. to make traffic); kills it and panics if it does not.
fn wait_for(child: &mut Child, limit: Duration, mut meanwhile: impl FnMut()) -> ExitStatus {
    let mut status = None;
    poll_until(limit, || {
        status = child.try_wait().expect("waitpid");
        if status.is_none() {
            meanwhile();
        }
        status.is_some()
    });
    match status {
        Some(s) => s,
        None => panic!("capture did not end within {limit:?}; stderr: {}", killed(child)),
    }
}

/// Kills `child` and returns its stderr, for a panic message.
fn killed(child: &mut Child) -> String {
    let _ = child.kill();
    let _ = child.wait();
    stderr_of(child)
}

/// The whole stderr of a child that has exited.
fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    if let Some(e) = child.stderr.as_mut() {
        std::io::Read::read_to_string(e, &mut s).expect("read stderr");
    }
    s
}

fn text(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `tcpdump -n -e -r FILE`: one line per frame (the hex dump tcpdump adds
/// for an unknown ethertype left out).
fn tcpdump_lines(file: &str) -> Vec<String> {
    text(&run(&["tcpdump", "-n", "-e", "-r", file]))
        .lines()
        .filter(|l| !l.starts_with(char::is_whitespace))
        .map(String::from)
        .collect()
}

/// `tshark -n -r FILE`: one line per frame.
fn tshark_lines(file: &str) -> Vec<String> {
    let out = Command::new("tshark")
        .args(["-n", "-r", file])
        .stdin(Stdio::null())
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("run tshark");
    text(&out).lines().map(String::from).collect()
}

#[test]
fn icmp_capture_is_read_by_tcpdump_and_tshark() {
    if !require_root("icmp_capture_is_read_by_tcpdump_and_tshark") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_pings(&h1, &h2);
    let file = TempFile::new("cap");
    let mut to_file = capture(&sw, &[&h1.port, "-c", "4", "-w", file.path(), "icmp"])
        .spawn()
        .expect("run switchctl");
    // A second capture of the same port at once, piped into tcpdump -r -.
    let mut piped = capture(&sw, &[&h1.port, "-c", "2", "-w", "-", "icmp"])
        .spawn()
        .expect("run switchctl");
    let reader = Command::new("tcpdump")
        .args(["-n", "-r", "-"])
        .stdin(piped.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run tcpdump");
    // Pings until both captures have their frames (they may start late).
    let status = wait_for(&mut to_file, Duration::from_secs(30), || {
        h1.ping_once(&h2.ip);
    });
    let stderr = stderr_of(&mut to_file);
    assert!(status.success(), "capture failed: {stderr}");
    assert_eq!(stderr, "4 frames captured, 0 lost (count reached)\n");
    let status = wait_for(&mut piped, Duration::from_secs(30), || {
        h1.ping_once(&h2.ip);
    });
    assert!(
        status.success(),
        "piped capture failed: {}",
        stderr_of(&mut piped)
    );
    let piped_lines = text(&reader.wait_with_output().unwrap());
    assert_eq!(piped_lines.lines().count(), 2, "tcpdump -r - read {piped_lines}");
    assert!(
        piped_lines.lines().all(|l| l.contains("ICMP echo")),
        "{piped_lines}"
    );

    let lines = tcpdump_lines(file.path());
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let h1_mac = &h1.mac;
    for l in &lines {
        assert!(l.contains("ethertype IPv4") && l.contains("ICMP echo"), "{l}");
        assert!(!l.contains("vlan"), "{l}");
    }
    // Both directions: the requests come in from h1, the replies go to it.
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("{h1_mac} > "))
                && l.contains("10.0.0.1 > 10.0.0.2: ICMP echo request"))
    );
    assert!(lines
        .iter()
        .any(|l| l.contains(&format!("> {h1_mac}")) && l.contains("10.0.0.2 > 10.0.0.1: ICMP echo reply")));
    let tshark = tshark_lines(file.path());
    assert_eq!(tshark.len(), 4, "{tshark:#?}");
    assert!(
        tshark
            .iter()
            .all(|l| l.contains("ICMP") && l.contains("Echo (ping)")),
        "{tshark:#?}"
    );
}

#[test]
fn frames_are_captured_with_their_tags_as_they_leave() {
    if !require_root("frames_are_captured_with_their_tags_as_they_leave") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let access = host_on_veth_with(&sw, "br0", "10.0.10.1", &["tag=10"]);
    let trunk = host_on_veth_with(&sw, "br0", "10.0.10.2", &["trunks=10"]);
    // Frames written by hand (no VLAN devices needed): untagged from the
    // access host, tagged 10 from the trunk host.
    let to_trunk = marker(access.mac_bytes(), "to-trunk");
    let to_access = tagged(&marker(trunk.mac_bytes(), "to-access"), VlanTag::vid(10));

    let out_trunk = TempFile::new("tr");
    let out_access = TempFile::new("ac");
    let in_trunk = TempFile::new("ti");
    let mut captures = [
        capture(
            &sw,
            &[
                &trunk.port,
                "--direction",
                "out",
                "-c",
                "2",
                "-w",
                out_trunk.path(),
                "vlan",
                "10",
            ],
        )
        .spawn()
        .unwrap(),
        capture(
            &sw,
            &[&access.port, "-Q", "out", "-c", "2", "-w", out_access.path()],
        )
        .spawn()
        .unwrap(),
        capture(
            &sw,
            &[
                &trunk.port,
                "-Q",
                "in",
                "-c",
                "2",
                "-w",
                in_trunk.path(),
                "vlan 10",
            ],
        )
        .spawn()
        .unwrap(),
    ];
    for child in &mut captures {
        let status = wait_for(child, Duration::from_secs(30), || {
            access.inject(&to_trunk);
            trunk.inject(&to_access);
        });
        let stderr = stderr_of(child);
        assert!(status.success(), "{stderr}");
        assert_eq!(stderr, "2 frames captured, 0 lost (count reached)\n");
    }
    // Out of the trunk: the access host's frames, tagged 10 by the switch.
    let lines = tcpdump_lines(out_trunk.path());
    assert_eq!(lines.len(), 2, "{lines:#?}");
    for l in &lines {
        assert!(
            l.contains(&format!(
                "{} > ff:ff:ff:ff:ff:ff, ethertype 802.1Q (0x8100), length 64: vlan 10, p 0, \
                 ethertype Unknown (0x88b5)",
                access.mac
            )),
            "{l}"
        );
    }
    let tshark = tshark_lines(out_trunk.path());
    assert_eq!(tshark.len(), 2, "{tshark:#?}");
    // Out of the access port: the trunk host's frames, their tag taken off.
    let lines = tcpdump_lines(out_access.path());
    assert_eq!(lines.len(), 2, "{lines:#?}");
    for l in &lines {
        assert!(
            l.contains(&format!(
                "{} > ff:ff:ff:ff:ff:ff, ethertype Unknown (0x88b5), length 60",
                trunk.mac
            )) && !l.contains("vlan"),
            "{l}"
        );
    }
    // Into the trunk: as they came, tag included.
    let lines = tcpdump_lines(in_trunk.path());
    assert_eq!(lines.len(), 2, "{lines:#?}");
    for l in &lines {
        assert!(
            l.contains(&format!(
                "{} > ff:ff:ff:ff:ff:ff, ethertype 802.1Q (0x8100), length 64: vlan 10,",
                trunk.mac
            )),
            "{l}"
        );
    }
}

#[test]
fn ctrl_c_ends_a_capture_with_its_summary() {
    if !require_root("ctrl_c_ends_a_capture_with_its_summary") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_veth(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_pings(&h1, &h2);
    let file = TempFile::new("int");
    let mut child = capture(&sw, &[&h1.port, "-w", file.path(), "icmp"])
        .spawn()
        .unwrap();
    assert!(
        poll_until(Duration::from_secs(10), || file.started()),
        "no pcap header: {}",
        killed(&mut child)
    );
    for _ in 0..3 {
        assert!(h1.ping_once(&h2.ip));
    }
    // SAFETY: a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    let status = wait_for(&mut child, Duration::from_secs(10), || {});
    let stderr = stderr_of(&mut child);
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(stderr, "6 frames captured, 0 lost\n");
    assert_eq!(tcpdump_lines(file.path()).len(), 6);
    // The capture is gone from the daemon: forwarding and the socket go on.
    assert_pings(&h1, &h2);
    sw.ctl_ok(&["show"]);
}

#[test]
fn removing_the_port_ends_the_capture_with_the_reason() {
    if !require_root("removing_the_port_ends_the_capture_with_the_reason") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_tap(&sw, "br0", "10.0.0.1");
    let file = TempFile::new("rm");
    let mut child = capture(&sw, &[&h1.port, "-w", file.path()]).spawn().unwrap();
    assert!(
        poll_until(Duration::from_secs(10), || file.started()),
        "no pcap header: {}",
        killed(&mut child)
    );
    sw.ctl_ok(&["del-port", &h1.port]);
    let status = wait_for(&mut child, Duration::from_secs(10), || {});
    let stderr = stderr_of(&mut child);
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.ends_with(&format!(" lost (port {} removed)\n", h1.port)),
        "{stderr}"
    );
    tcpdump_lines(file.path());
}

#[test]
fn refused_captures_say_why() {
    if !require_root("refused_captures_say_why") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_veth(&sw, "br0", "10.0.0.1");
    let file = TempFile::new("no");
    let e = sw.ctl_err(&["capture", "nope", "-w", file.path()]);
    assert_eq!(e, "no port named \"nope\"");
    assert!(!file.0.exists(), "a refused capture leaves no file");
    let e = sw.ctl_err(&[
        "capture",
        &h1.port,
        "-w",
        file.path(),
        "tcp",
        "port",
        "ssh",
        "and",
    ]);
    assert!(
        e.starts_with("invalid capture filter \"tcp port ssh and\": "),
        "{e}"
    );
    // A program tcpdump would not make is checked by the daemon too.
    let mut s = sw.connect();
    writeln!(
        s,
        r#"{{"version":1,"request":{{"op":"capture","port":"{}","filter":[{{"code":6,"jt":0,"jf":0,"k":0}},{{"code":21,"jt":5,"jf":0,"k":0}}]}}}}"#,
        h1.port
    )
    .unwrap();
    let reply = read_reply(&s).expect("a reply");
    assert_eq!(reply["error"]["kind"], "invalid-argument", "{reply}");
    assert_eq!(
        reply["error"]["message"],
        "invalid capture filter: instruction 1: jump to 7 is past the end of the program (2 instructions)"
    );
}

#[test]
fn a_reader_that_does_not_read_loses_captured_frames_not_forwarded_ones() {
    if !require_root("a_reader_that_does_not_read_loses_captured_frames_not_forwarded_ones") {
        return;
    }
    const BURST: usize = 20_000;
    let sw = Switchd::with_bridge("br0");
    let h1 = host_on_veth(&sw, "br0", "10.0.0.1");
    let h2 = host_on_veth(&sw, "br0", "10.0.0.2");
    assert_pings(&h1, &h2);
    // A client that attaches and then reads nothing while the burst runs.
    let conn = sw.connect();
    writeln!(
        &conn,
        r#"{{"version":1,"request":{{"op":"capture","port":"{}","direction":"in"}}}}"#,
        h1.port
    )
    .unwrap();
    let mut stream = BufReader::new(&conn);
    let mut line = String::new();
    stream.read_line(&mut line).unwrap();
    assert!(line.contains(r#""ok":{"kind":"done"}"#), "{line}");

    let stats = |port: &str| sw.port_stats("br0", port);
    let count = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap();
    // Frames out of h2's port: sent, or dropped by its device's full queue
    // (which has nothing to do with the capture).
    let out = || count(&stats(&h2.port), "tx_packets") + sw.drops("br0", &h2.port, "tx-queue-full");
    let (rx0, out0) = (count(&stats(&h1.port), "rx_packets"), out());
    let queue0 = sw.drops("br0", &h1.port, "rx-queue-full");
    let veth0 = sw.ns.stat(&h1.port, "rx", "dropped");
    // Known unicast to h2, 1000 bytes: the capture's socket buffer and
    // queue hold a small part of it.
    let f = frame(h2.mac_bytes(), h1.mac_bytes(), MARKER_ETHERTYPE, &[0x5a; 986]);
    inject_many(&h1.ns, &h1.ifname, &f, BURST);
    let accounted = || {
        let rx = count(&stats(&h1.port), "rx_packets") - rx0;
        let queue = sw.drops("br0", &h1.port, "rx-queue-full") - queue0;
        let veth = sw.ns.stat(&h1.port, "rx", "dropped") - veth0;
        (rx, queue + veth)
    };
    assert!(
        poll_until(Duration::from_secs(20), || {
            let (rx, dropped) = accounted();
            rx + dropped >= BURST as u64
        }),
        "burst not accounted for: {:?}",
        accounted()
    );
    let (rx, dropped) = accounted();
    assert_eq!(rx + dropped, BURST as u64);
    // Every frame the switch received was forwarded to h2.
    assert!(
        poll_until(Duration::from_secs(5), || out() - out0 >= rx),
        "received {rx}, forwarded {}",
        out() - out0
    );
    assert_eq!(out() - out0, rx);

    // Now stop and read: the frames that fitted in the socket and the
    // queue, then the end record.
    (&conn).write_all(b"\n").unwrap();
    let mut buf = Vec::new();
    let mut frames = 0u64;
    let (lost, sent, reason) = loop {
        match proto::capture::read_record(&mut stream, &mut buf).expect("a record") {
            Some(proto::capture::Record::Frame { data, outgoing, .. }) => {
                assert!(!outgoing);
                assert_eq!(data, &f[..]);
                frames += 1;
            }
            Some(proto::capture::Record::End { lost, frames, reason }) => break (lost, frames, reason),
            None => panic!("stream ended without its end record"),
        }
    };
    eprintln!("received {rx} (dropped before the switch {dropped}), captured {frames}, lost {lost}");
    assert_eq!(reason, proto::capture::END_STOPPED);
    assert_eq!(sent, frames);
    assert!(lost > 0, "nothing lost by a reader that did not read");
    // Every frame received was taken by the capture (no filter): sent to
    // this client (those queued when it stopped included) or lost.
    assert_eq!(frames + lost, rx);
    // The switch goes on forwarding and answering.
    assert_pings(&h1, &h2);
    sw.ctl_ok(&["show"]);
}

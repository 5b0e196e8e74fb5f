//! Stream and dgram socket ports through the real daemon, with test clients
//! that speak qemu's protocols: `-netdev stream` (a 4-byte big-endian
//! length before each frame on a Unix stream connection) and `-netdev
//! dgram` (one frame per Unix datagram, sent from a bound local path).
//!
//! Socket ports need no privilege, and these tests show it: except the
//! last one (a TAP host), they run a switchd of their own outside any
//! network namespace, as user `nobody` (uid 65534, through `setpriv`) when
//! the tests run as root, or as the calling user otherwise. So they run,
//! and must pass, without root too.

mod common;

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// The user an unprivileged switchd runs as when the tests run as root.
const NOBODY: u32 = 65534;
const MAC_A: [u8; 6] = [0x02, 0x50, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0x50, 0, 0, 0, 0x0b];
const MAC_C: [u8; 6] = [0x02, 0x50, 0, 0, 0, 0x0c];
const MAC_D: [u8; 6] = [0x02, 0x50, 0, 0, 0, 0x0d];
/// How long a frame that should arrive may take.
const ARRIVE: Duration = Duration::from_secs(3);

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

// ---------------------------------------------------------------------------
// A switchd without privileges and without a network namespace
// ---------------------------------------------------------------------------

/// A switchd with only socket ports: no namespace, and not root (uid 65534
/// when the tests run as root). Its control socket, db, log and the socket
/// files of its ports live in a private directory that it owns. Drop stops
/// it, prints its log if the test is failing, and removes the directory.
#[derive(Debug)]
struct UserSwitchd {
    child: Option<Child>,
    dir: PathBuf,
    socket: PathBuf,
    db: PathBuf,
    log: PathBuf,
    /// The uid the daemon runs as.
    uid: u32,
}

impl Control for UserSwitchd {
    fn socket(&self) -> &Path {
        &self.socket
    }
}

impl UserSwitchd {
    fn start() -> UserSwitchd {
        let dir = std::env::temp_dir().join(format!("switchd-sock-{}", unique("")));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create test dir");
        let uid = if euid() == 0 { NOBODY } else { euid() };
        std::os::unix::fs::chown(&dir, Some(uid), Some(uid)).expect("chown test dir");
        let mut sw = UserSwitchd {
            child: None,
            socket: dir.join("ctl.sock"),
            db: dir.join("config.json"),
            log: dir.join("switchd.log"),
            dir,
            uid,
        };
        sw.spawn();
        sw
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "switchd is already running");
        let cmd = if euid() == 0 {
            let mut c = Command::new("setpriv");
            let id = NOBODY.to_string();
            // setpriv execs switchd in place: the child's pid is the daemon's.
            c.args(["--reuid", &id, "--regid", &id, "--clear-groups"])
                .arg(bin("switchd"));
            c
        } else {
            Command::new(bin("switchd"))
        };
        self.child = Some(start_daemon(cmd, &self.socket, &self.db, "debug", &self.log));
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("switchd is running").id()
    }

    /// SIGTERM, then SIGKILL after 5 s; returns the exit status.
    fn stop(&mut self) -> ExitStatus {
        stop_daemon(self.child.take().expect("switchd is running"))
    }

    /// SIGKILL: a crash, which leaves every socket file behind.
    fn kill(&mut self) {
        kill_daemon(self.child.take().expect("switchd is running"));
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Lines of the log that contain `text` and the field `port=PORT`.
    fn log_count(&self, text: &str, port: &str) -> usize {
        let field = format!("port={port}");
        self.log()
            .lines()
            .filter(|l| l.contains(text) && l.split_whitespace().any(|w| w == field))
            .count()
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    fn stat(&self, bridge: &str, port: &str, key: &str) -> u64 {
        self.port_stats(bridge, port)[key].as_u64().unwrap_or(0)
    }

    /// Adds a stream port on a socket file in the test directory.
    fn add_stream(&self, bridge: &str, port: &str, extra: &[&str]) -> PathBuf {
        let path = self.path(&format!("{port}.sock"));
        let p = format!("path={}", path.display());
        let mut args = vec!["add-port", bridge, port, "type=stream", &p];
        args.extend_from_slice(extra);
        self.ctl_ok(&args);
        path
    }

    /// Adds a dgram port on a socket file in the test directory.
    fn add_dgram(&self, bridge: &str, port: &str) -> PathBuf {
        let path = self.path(&format!("{port}.sock"));
        let p = format!("path={}", path.display());
        self.ctl_ok(&["add-port", bridge, port, "type=dgram", &p]);
        path
    }

    /// Connects a stream client to `port` and waits until switchd has
    /// accepted it (frames sent to the port before that are dropped).
    fn client(&self, port: &str) -> StreamClient {
        let before = self.log_count("stream client connected", port);
        let c = StreamClient::connect(&self.path(&format!("{port}.sock")));
        assert!(
            poll_until(ARRIVE, || self.log_count("stream client connected", port)
                > before),
            "switchd did not accept the client of {port}; log:\n{}",
            self.log()
        );
        c
    }

    /// A dgram client bound at `file` in the test directory, which switchd
    /// may send to.
    fn dgram_client(&self, file: &str, port: &str) -> DgramClient {
        DgramClient::bind(&self.path(file), &self.path(&format!("{port}.sock")), self.uid)
    }
}

impl Drop for UserSwitchd {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        if std::thread::panicking() {
            eprintln!(
                "---- switchd log ({}) ----\n{}---- end ----",
                self.dir.display(),
                self.log()
            );
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------
// Clients speaking qemu's protocols
// ---------------------------------------------------------------------------

/// How a receive ended without a frame.
#[derive(Debug, PartialEq, Eq)]
enum NoFrame {
    Timeout,
    Closed,
}

/// A client of a stream port, as qemu's `-netdev stream,server=off`.
#[derive(Debug)]
struct StreamClient {
    s: UnixStream,
}

impl StreamClient {
    fn connect(path: &Path) -> StreamClient {
        let s = UnixStream::connect(path).unwrap_or_else(|e| panic!("connect {}: {e}", path.display()));
        StreamClient { s }
    }

    /// Sends one frame with its length prefix.
    fn send(&mut self, frame: &[u8]) {
        let mut buf = (frame.len() as u32).to_be_bytes().to_vec();
        buf.extend_from_slice(frame);
        self.s.write_all(&buf).expect("send frame");
    }

    /// Sends raw bytes (a garbage prefix, a frame in pieces).
    fn send_raw(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).expect("send bytes");
    }

    /// The next frame, waiting up to `limit` for it to start.
    fn recv(&mut self, limit: Duration) -> Result<Vec<u8>, NoFrame> {
        let mut prefix = [0u8; 4];
        self.s.set_read_timeout(Some(limit)).expect("set timeout");
        match self.s.read_exact(&mut prefix) {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(NoFrame::Timeout)
            }
            Err(e) if matches!(e.kind(), ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset) => {
                return Err(NoFrame::Closed)
            }
            Err(e) => panic!("read length prefix: {e}"),
        }
        let len = u32::from_be_bytes(prefix) as usize;
        assert!((1..=65535).contains(&len), "switchd sent a frame length of {len}");
        let mut frame = vec![0; len];
        self.s
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("set timeout");
        self.s
            .read_exact(&mut frame)
            .expect("read a whole frame after its prefix");
        Ok(frame)
    }

    /// The next frame; panics if none comes within [`ARRIVE`].
    fn expect(&mut self, what: &str) -> Vec<u8> {
        self.recv(ARRIVE)
            .unwrap_or_else(|e| panic!("{what}: no frame ({e:?})"))
    }

    /// Whether switchd closes the connection within `limit`.
    fn closed(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            match self.recv(Duration::from_millis(100)) {
                Err(NoFrame::Closed) => return true,
                Err(NoFrame::Timeout) | Ok(_) => {}
            }
        }
        false
    }
}

/// A client of a dgram port, as qemu's `-netdev dgram` with `local.path`
/// (bound here) and `remote.path` (the port's socket).
#[derive(Debug)]
struct DgramClient {
    s: UnixDatagram,
    remote: PathBuf,
}

impl DgramClient {
    /// Binds `local` (readable and writable by `daemon_uid`, so switchd can
    /// send to it) and sends to `remote`.
    fn bind(local: &Path, remote: &Path, daemon_uid: u32) -> DgramClient {
        let _ = fs::remove_file(local);
        let s = UnixDatagram::bind(local).expect("bind dgram client");
        if euid() == 0 {
            std::os::unix::fs::chown(local, Some(daemon_uid), None).expect("chown client socket");
        }
        DgramClient {
            s,
            remote: remote.to_owned(),
        }
    }

    fn send(&self, frame: &[u8]) {
        self.s.send_to(frame, &self.remote).expect("send datagram");
    }

    fn recv(&self, limit: Duration) -> Option<Vec<u8>> {
        self.s.set_read_timeout(Some(limit)).expect("set timeout");
        let mut buf = vec![0; 70_000];
        match self.s.recv(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                Some(buf)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
            Err(e) => panic!("recv datagram: {e}"),
        }
    }

    fn expect(&self, what: &str) -> Vec<u8> {
        self.recv(ARRIVE).unwrap_or_else(|| panic!("{what}: no datagram"))
    }
}

/// A frame carrying `seq` and filled up to `len` bytes with a pattern
/// derived from it, so any shift or cut shows.
fn numbered(src: [u8; 6], seq: u32, len: usize) -> Vec<u8> {
    let mut payload = seq.to_be_bytes().to_vec();
    payload.extend((0..len.saturating_sub(18)).map(|i| (i as u32).wrapping_mul(31).wrapping_add(seq) as u8));
    let mut f = frame(BROADCAST, src, MARKER_ETHERTYPE, &payload);
    f.truncate(len);
    f
}

fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .mode()
        & 0o7777
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// Two stream clients and a dgram client on one bridge, switched by a
/// daemon that is not root: broadcast floods, unicast goes to the learned
/// port only, and the MAC table and counters say so.
#[test]
fn socket_ports_switch_frames_without_root() {
    let mut sw = UserSwitchd::start();
    let status = fs::read_to_string(format!("/proc/{}/status", sw.pid())).expect("read status");
    let field = |k: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.split_whitespace().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert!(
        field("Uid:").iter().all(|u| *u == sw.uid.to_string()),
        "switchd runs as {:?}",
        field("Uid:")
    );
    if sw.uid != 0 {
        assert_eq!(field("CapEff:"), ["0000000000000000"], "switchd has capabilities");
    }

    sw.ctl_ok(&["add-br", "br0"]);
    let pa = sw.add_stream("br0", "sa", &[]);
    let pb = sw.add_stream("br0", "sb", &[]);
    let pd = sw.add_dgram("br0", "dd");
    let mut a = sw.client("sa");
    let mut b = sw.client("sb");
    let d = sw.dgram_client("dc.sock", "dd");

    // Broadcast from a stream client: the other stream client gets it; the
    // dgram port has no peer yet, so its copy counts as dropped.
    let f1 = frame(BROADCAST, MAC_A, MARKER_ETHERTYPE, b"broadcast from a");
    a.send(&f1);
    assert_eq!(b.expect("broadcast a -> b"), f1);
    assert!(
        poll_until(ARRIVE, || sw.stat("br0", "dd", "tx_dropped") >= 1),
        "a frame for a dgram port without peer was not counted as dropped: {}",
        sw.port_stats("br0", "dd")
    );

    // The dgram client's first datagram makes it the port's peer.
    let f2 = frame(BROADCAST, MAC_D, MARKER_ETHERTYPE, b"broadcast from d");
    d.send(&f2);
    assert_eq!(a.expect("broadcast d -> a"), f2);
    assert_eq!(b.expect("broadcast d -> b"), f2);

    // Known unicast: only the learned port.
    let f3 = frame(MAC_D, MAC_A, MARKER_ETHERTYPE, b"a to d");
    a.send(&f3);
    assert_eq!(d.expect("unicast a -> d"), f3);
    let f4 = frame(MAC_A, MAC_B, MARKER_ETHERTYPE, b"b to a");
    b.send(&f4);
    assert_eq!(a.expect("unicast b -> a"), f4);
    // The next thing b and d see is this broadcast: no stray copy of the
    // unicasts came before it.
    let f5 = marker(MAC_A, "end");
    a.send(&f5);
    assert_eq!(b.expect("marker -> b"), f5, "b got a frame it should not have");
    assert_eq!(d.expect("marker -> d"), f5, "d got a frame it should not have");

    let fdb = sw.ctl_json(&["fdb-show", "br0"]);
    for (mac, port) in [(MAC_A, "sa"), (MAC_B, "sb"), (MAC_D, "dd")] {
        let mac = mac
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        assert!(
            fdb.as_array()
                .unwrap()
                .iter()
                .any(|e| e["mac"] == mac.as_str() && e["port"] == port),
            "{mac} not learned on {port}: {fdb}"
        );
    }
    assert_eq!(sw.stat("br0", "sa", "rx_packets"), 3);
    assert_eq!(sw.stat("br0", "sa", "tx_packets"), 2);
    assert_eq!(sw.stat("br0", "dd", "rx_packets"), 1);
    assert_eq!(sw.stat("br0", "dd", "tx_packets"), 2);
    for port in ["sa", "sb", "dd"] {
        assert_eq!(sw.port_info(port).unwrap()["state"]["state"], "up", "{port}");
    }

    // Stopping switchd removes the socket files.
    assert!(
        sw.stop().success(),
        "switchd did not exit cleanly; log:\n{}",
        sw.log()
    );
    for p in [&pa, &pb, &pd] {
        assert!(!p.exists(), "{} survived switchd", p.display());
    }
}

/// One client at a time: a second connection is closed at once, the first
/// keeps working; a client that leaves leaves the port up, and the next
/// one is switched as before.
#[test]
fn stream_client_reconnects_and_a_second_is_refused() {
    let sw = UserSwitchd::start();
    sw.ctl_ok(&["add-br", "br0"]);
    let p1 = sw.add_stream("br0", "r1", &[]);
    sw.add_stream("br0", "r2", &[]);
    let mut a = sw.client("r1");
    let mut c = sw.client("r2");
    a.send(&marker(MAC_A, "hello"));
    assert!(is_marker(&c.expect("a -> c"), "hello"));

    let mut extra = StreamClient::connect(&p1);
    assert!(extra.closed(ARRIVE), "a second client of r1 was not closed");
    assert!(sw.log().contains("closed a second connection"), "{}", sw.log());
    a.send(&marker(MAC_A, "still here"));
    assert!(is_marker(&c.expect("a -> c after refusal"), "still here"));
    c.send(&frame(MAC_A, MAC_C, MARKER_ETHERTYPE, b"c to a"));
    assert!(from_mac(&a.expect("c -> a"), MAC_C));

    // The client goes: the port stays up, frames for it count as dropped.
    let gone = sw.log_count("stream client gone", "r1");
    drop(a);
    assert!(poll_until(ARRIVE, || sw.log_count("stream client gone", "r1") > gone));
    assert_eq!(sw.port_info("r1").unwrap()["state"]["state"], "up");
    let dropped = sw.stat("br0", "r1", "tx_dropped");
    c.send(&marker(MAC_C, "nobody on r1"));
    assert!(
        poll_until(ARRIVE, || sw.stat("br0", "r1", "tx_dropped") > dropped),
        "frames for a port without client are not counted: {}",
        sw.port_stats("br0", "r1")
    );

    // The next client (a restarted VM, same MAC) is switched as before.
    let mut a2 = sw.client("r1");
    a2.send(&marker(MAC_A, "back"));
    assert!(is_marker(&c.expect("a2 -> c"), "back"));
    c.send(&frame(MAC_A, MAC_C, MARKER_ETHERTYPE, b"c to a again"));
    let f = a2.expect("c -> a2");
    assert!(from_mac(&f, MAC_C) && f[14..].starts_with(b"c to a again"));
    drop(extra);
}

/// A length prefix of 0 or above 65535 cannot be resynchronised: the
/// connection is dropped and counted, and everything else goes on.
#[test]
fn bad_length_prefix_drops_the_connection() {
    let sw = UserSwitchd::start();
    sw.ctl_ok(&["add-br", "br0"]);
    sw.add_stream("br0", "g1", &[]);
    sw.add_stream("br0", "g2", &[]);
    let mut c = sw.client("g2");
    for (round, bad) in [(1, 65_536u32), (2, 0)] {
        let mut a = sw.client("g1");
        a.send(&marker(MAC_A, "before"));
        assert!(is_marker(&c.expect("frame before the garbage"), "before"));
        let mut garbage = bad.to_be_bytes().to_vec();
        garbage.extend_from_slice(&[0xee; 64]);
        a.send_raw(&garbage);
        assert!(
            a.closed(ARRIVE),
            "switchd kept a connection that sent length {bad}"
        );
        let log = sw.log();
        let line = log
            .lines()
            .filter(|l| l.contains("stream protocol error"))
            .nth(round - 1)
            .unwrap_or_else(|| panic!("no protocol error logged for length {bad}:\n{log}"));
        assert!(
            line.contains(&format!("frame length {bad} is outside 1-65535"))
                && line.contains(&format!("total={round}")),
            "{line}"
        );
        // Nothing of the garbage was forwarded; the port is still up and
        // takes the next client (next round, and below).
        assert_eq!(c.recv(Duration::from_millis(300)), Err(NoFrame::Timeout));
        assert_eq!(sw.port_info("g1").unwrap()["state"]["state"], "up");
    }
    let mut a = sw.client("g1");
    c.send(&marker(MAC_C, "after"));
    assert!(is_marker(&a.expect("c -> new client after errors"), "after"));
    assert_eq!(sw.stat("br0", "g1", "rx_packets"), 2);
}

/// Frames cut anywhere by the stream (prefix split, one byte per write,
/// many frames per write) come out whole, up to 65535 bytes.
#[test]
fn stream_frames_are_reassembled_up_to_the_largest() {
    let sw = UserSwitchd::start();
    sw.ctl_ok(&["add-br", "br0"]);
    sw.add_stream("br0", "j1", &["mtu=65535"]);
    sw.add_stream("br0", "j2", &["mtu=65535"]);
    let mut a = sw.client("j1");
    let mut c = sw.client("j2");

    let frames: Vec<Vec<u8>> = [60usize, 1514, 9018, 65_535, 61, 65_535, 100]
        .iter()
        .enumerate()
        .map(|(i, len)| numbered(MAC_A, i as u32, *len))
        .collect();
    let mut stream = Vec::new();
    for f in &frames {
        stream.extend_from_slice(&(f.len() as u32).to_be_bytes());
        stream.extend_from_slice(f);
    }
    // Several frames in one write, then the rest in uneven pieces: a prefix
    // split in two, single bytes, and large chunks.
    let (first, rest) = stream.split_at(4 + 60 + 4 + 1514 + 2);
    a.send_raw(first);
    let mut off = 0;
    for (i, size) in [1usize, 1, 3, 7, 4096, 1, 65_536, 2].iter().cycle().enumerate() {
        if off >= rest.len() {
            break;
        }
        let end = (off + size).min(rest.len());
        a.send_raw(&rest[off..end]);
        off = end;
        if i % 5 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    // One more, a byte per write.
    let slow = numbered(MAC_A, 7, 200);
    let mut bytes = (slow.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(&slow);
    for (i, byte) in bytes.iter().enumerate() {
        a.send_raw(&[*byte]);
        if i % 16 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    for (i, f) in frames.iter().chain([&slow]).enumerate() {
        let got = c.expect(&format!("frame {i} ({} bytes)", f.len()));
        assert!(got == *f, "frame {i}: got {} bytes, sent {}", got.len(), f.len());
    }
    // And the largest frame the other way.
    let big = numbered(MAC_C, 99, 65_535);
    c.send(&big);
    assert!(a.expect("65535-byte frame c -> a") == big);
    assert_eq!(sw.stat("br0", "j1", "rx_dropped"), 0);
}

/// A client that does not read while frames pour in: what the socket does
/// not take waits in switchd's buffer or is dropped whole, so every frame
/// the client reads afterwards is intact and in order, and every frame
/// counted as sent arrives.
#[test]
fn slow_reader_gets_whole_frames_only() {
    const N: u32 = 2000;
    // Sizes that fit one socket buffer segment and sizes that do not, so
    // the socket takes some frames only in part.
    let len = |seq: u32| [1400, 65_535, 60, 9018, 40_001][seq as usize % 5];
    let sw = UserSwitchd::start();
    sw.ctl_ok(&["add-br", "br0"]);
    sw.add_stream("br0", "w1", &["mtu=65535"]);
    sw.add_stream("br0", "w2", &["mtu=65535"]);
    let mut a = sw.client("w1");
    let mut b = sw.client("w2");
    for seq in 0..N {
        a.send(&numbered(MAC_A, seq, len(seq)));
    }
    assert!(
        poll_until(Duration::from_secs(30), || sw.stat("br0", "w1", "rx_packets")
            == u64::from(N)),
        "switchd did not take all frames: {}",
        sw.port_stats("br0", "w1")
    );
    let stats = sw.port_stats("br0", "w2");
    let sent = stats["tx_packets"].as_u64().unwrap();
    let dropped = stats["tx_dropped"].as_u64().unwrap();
    assert_eq!(sent + dropped, u64::from(N), "{stats}");
    assert!(
        dropped > 0,
        "the reader's socket never filled up, nothing was tested: {stats}"
    );
    assert_eq!(stats["drops"]["tx-queue-full"].as_u64(), Some(dropped), "{stats}");

    let mut got = 0u64;
    let mut last = None;
    while let Ok(f) = b.recv(Duration::from_secs(3)) {
        let seq = u32::from_be_bytes(f[14..18].try_into().unwrap());
        assert!(f == numbered(MAC_A, seq, len(seq)), "frame {seq} is damaged");
        assert!(last.is_none_or(|l| seq > l), "frame {seq} after {last:?}");
        last = Some(seq);
        got += 1;
    }
    assert_eq!(got, sent, "frames counted as sent did not all arrive");
    // The buffer is empty again and the port switches as before.
    a.send(&marker(MAC_A, "after the flood"));
    assert!(is_marker(&b.expect("marker after the flood"), "after the flood"));
}

/// The socket file: mode 0600 by default or as set by `mode=`, owned by
/// the daemon; a stale one is replaced (also when a killed switchd
/// restarts); a live socket, a plain file, a missing directory, a relative
/// or too long path and a path another port uses are refused clearly and
/// change nothing; del-port and stopping remove the file.
#[test]
fn socket_file_mode_stale_files_and_removal() {
    let mut sw = UserSwitchd::start();
    sw.ctl_ok(&["add-br", "br0"]);
    let p1 = sw.add_stream("br0", "f1", &[]);
    assert!(fs::symlink_metadata(&p1).unwrap().file_type().is_socket());
    assert_eq!(mode_of(&p1), 0o600);
    assert_eq!(fs::metadata(&p1).unwrap().uid(), sw.uid);
    let p2 = sw.path("f2.sock");
    sw.ctl_ok(&[
        "add-port",
        "br0",
        "f2",
        "type=dgram",
        &format!("path={}", p2.display()),
        "mode=0660",
    ]);
    assert_eq!(mode_of(&p2), 0o660);
    let p3 = sw.add_stream("br0", "f3", &["mode=0"]);
    assert_eq!(mode_of(&p3), 0);
    let p9 = sw.add_stream("br0", "f9", &["mode=666"]);
    assert_eq!(mode_of(&p9), 0o666, "the umask must not cut the mode asked for");
    assert_eq!(sw.port_info("f2").unwrap()["config"]["mode"], "0660");
    assert_eq!(sw.port_info("f1").unwrap()["config"].get("mode"), None);

    // A stale socket file (left by a switchd that was killed) is replaced.
    let p4 = sw.path("f4.sock");
    drop(UnixListener::bind(&p4).unwrap());
    std::os::unix::fs::chown(&p4, Some(sw.uid), None).unwrap();
    fs::set_permissions(&p4, fs::Permissions::from_mode(0o644)).unwrap();
    assert!(UnixStream::connect(&p4).is_err());
    sw.ctl_ok(&[
        "add-port",
        "br0",
        "f4",
        "type=stream",
        &format!("path={}", p4.display()),
    ]);
    assert_eq!(mode_of(&p4), 0o600, "the stale file was not replaced");
    assert!(sw.log().contains("replaced a stale socket file"));
    sw.client("f4");

    // Refusals that leave everything as it was.
    let live_path = sw.path("live.sock");
    let live = UnixListener::bind(&live_path).unwrap();
    std::os::unix::fs::chown(&live_path, Some(sw.uid), None).unwrap();
    let plain = sw.path("plain.sock");
    fs::write(&plain, "keep me").unwrap();
    let missing = sw.path("missing/x.sock");
    let long = format!("/tmp/{}.sock", "l".repeat(110));
    let cases: Vec<(String, String)> = vec![
        (
            format!("path={}", live_path.display()),
            format!(
                "{:?} is in use: another process listens on it",
                live_path.display().to_string()
            ),
        ),
        (
            format!("path={}", plain.display()),
            format!("{:?} exists and is not a socket", plain.display().to_string()),
        ),
        (
            format!("path={}", missing.display()),
            format!(
                "directory {:?} does not exist (path {:?})",
                sw.path("missing").display().to_string(),
                missing.display().to_string()
            ),
        ),
        ("path=rel.sock".into(), "path \"rel.sock\" is not absolute".into()),
        (
            format!("path={long}"),
            format!(
                "path {long:?} is {} bytes long, the limit for a unix socket is 107",
                long.len()
            ),
        ),
        (
            format!("path={}", p1.display()),
            format!("port \"f1\" already uses path {:?}", p1.display().to_string()),
        ),
    ];
    for (setting, want) in &cases {
        let e = sw.ctl_err(&["add-port", "br0", "bad", "type=stream", setting]);
        assert!(
            e.ends_with(want.as_str()),
            "add-port {setting}: {e:?} does not end with {want:?}"
        );
        assert!(sw.port_info("bad").is_none(), "a refused port was added");
    }
    let e = sw.ctl_err(&["add-port", "br0", "bad", "type=tap", "mode=0660"]);
    assert!(
        e.contains("mode is not valid for a tap port (only stream, dgram)"),
        "{e}"
    );
    assert_eq!(fs::read_to_string(&plain).unwrap(), "keep me");
    assert!(
        UnixStream::connect(&live_path).is_ok(),
        "the live socket was disturbed"
    );
    assert!(!missing.parent().unwrap().exists());

    // del-port removes the file.
    sw.ctl_ok(&["del-port", "f1"]);
    assert!(!p1.exists(), "del-port left {}", p1.display());

    // A crash leaves the files; the restarted switchd restores the ports
    // on them (same modes) and takes clients again.
    sw.kill();
    assert!(
        p2.exists() && p4.exists(),
        "socket files vanished with a killed switchd"
    );
    sw.spawn();
    assert_eq!(mode_of(&p2), 0o660);
    assert_eq!(mode_of(&p4), 0o600);
    for port in ["f2", "f3", "f4", "f9"] {
        assert_eq!(
            sw.port_info(port).unwrap()["state"]["state"],
            "up",
            "{port} after restart"
        );
    }
    let mut c = sw.client("f4");
    let d = sw.dgram_client("fc.sock", "f2");
    d.send(&marker(MAC_D, "after restart"));
    assert!(is_marker(
        &c.expect("dgram -> stream after restart"),
        "after restart"
    ));

    // Stopping removes every socket file of switchd, and only those.
    assert!(sw.stop().success());
    for p in [&p2, &p3, &p4, &p9] {
        assert!(!p.exists(), "{} survived switchd", p.display());
    }
    assert!(live_path.exists() && plain.exists());
    drop(live);
}

/// Socket clients and a host on a TAP port share a bridge: the host sees
/// what the clients send, and its frames reach them (root: the TAP device
/// and the namespaces need it).
#[test]
fn socket_clients_reach_a_tap_host() {
    if !require_root("socket_clients_reach_a_tap_host") {
        return;
    }
    let sw = Switchd::with_bridge("br0");
    let host = host_on_tap(&sw, "br0", "10.77.0.1");
    let dir = sw.socket.parent().unwrap().to_owned();
    let (ps, pd) = (dir.join("ss.sock"), dir.join("sd.sock"));
    sw.ctl_ok(&[
        "add-port",
        "br0",
        "ss",
        "type=stream",
        &format!("path={}", ps.display()),
    ]);
    sw.ctl_ok(&[
        "add-port",
        "br0",
        "sd",
        "type=dgram",
        &format!("path={}", pd.display()),
    ]);
    let mut s = StreamClient::connect(&ps);
    let d = DgramClient::bind(&dir.join("dc.sock"), &pd, 0);
    assert!(poll_until(ARRIVE, || sw
        .log()
        .contains("stream client connected")));
    let sniff = host.sniffer();

    d.send(&marker(MAC_D, "from dgram"));
    assert!(
        sniff.wait_for(ARRIVE, |f| is_marker(f, "from dgram")),
        "tap host missed the dgram client"
    );
    assert!(is_marker(&s.expect("dgram -> stream"), "from dgram"));
    s.send(&marker(MAC_A, "from stream"));
    assert!(
        sniff.wait_for(ARRIVE, |f| is_marker(f, "from stream")),
        "tap host missed the stream client"
    );
    assert!(is_marker(&d.expect("stream -> dgram"), "from stream"));

    // Known unicast from the host reaches the dgram client only.
    let to_d = frame(MAC_D, host.mac_bytes(), MARKER_ETHERTYPE, b"host to d");
    host.inject(&to_d);
    assert_eq!(d.expect("host -> dgram"), to_d);
    host.inject(&marker(host.mac_bytes(), "host end"));
    assert!(
        is_marker(&s.expect("host marker -> stream"), "host end"),
        "the stream client got a unicast for d"
    );
    assert!(is_marker(&d.expect("host marker -> dgram"), "host end"));

    // The host's own stack: its ARP requests reach the socket clients.
    let _ = host.ping_once("10.77.0.9");
    let arp = s.expect("ARP from the host");
    assert!(is_arp(&arp) && from_mac(&arp, host.mac_bytes()), "{arp:02x?}");
}

/// A qemu guest (TCG) whose NIC is a `-netdev stream` or `-netdev dgram`
/// socket of a [`UserSwitchd`], run as the same unprivileged user. Test
/// mode only: it pings its peers, prints `VM: RESULT PASS|FAIL` and powers
/// off (tests/vm/init.sh). Drop kills it by pid.
#[derive(Debug)]
struct SocketGuest {
    child: Child,
    console: PathBuf,
}

impl SocketGuest {
    /// Boots a guest with `netdev` (qemu's `-netdev` value, `id=n0`), MAC
    /// `mac` and init.sh parameters `params`.
    fn boot(sw: &UserSwitchd, name: &str, netdev: &str, mac: &str, params: &str) -> SocketGuest {
        let image = guest_image();
        let console = sw.path(&format!("{name}.console"));
        let log = fs::File::create(sw.path(&format!("{name}.qemu.log"))).expect("create qemu log");
        let mut cmd = if euid() == 0 {
            let mut c = Command::new("setpriv");
            let id = NOBODY.to_string();
            c.args([
                "--reuid",
                &id,
                "--regid",
                &id,
                "--clear-groups",
                "qemu-system-x86_64",
            ]);
            c
        } else {
            Command::new("qemu-system-x86_64")
        };
        let append =
            format!("console=ttyS0 quiet panic=-1 no_timer_check ipv6.disable=1 vmmode=test {params}");
        let child = cmd
            .args(["-accel", "tcg", "-smp", "1", "-m", "128"])
            .args(["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"])
            .arg("-serial")
            .arg(format!("file:{}", console.display()))
            .arg("-kernel")
            .arg(&image.kernel)
            .arg("-initrd")
            .arg(&image.initrd)
            .args(["-append", &append, "-netdev", netdev])
            .args(["-device", &format!("virtio-net-pci,netdev=n0,mac={mac},romfile=")])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("spawn qemu");
        SocketGuest { child, console }
    }

    /// The guest's `VM: RESULT` line, waiting up to [`GUEST_BOOT_LIMIT`].
    fn result(&mut self) -> String {
        let mut line = None;
        let done = poll_until(GUEST_BOOT_LIMIT, || {
            let text = fs::read_to_string(&self.console).unwrap_or_default();
            line = text
                .lines()
                .find(|l| l.starts_with("VM: RESULT"))
                .map(str::to_owned);
            line.is_some() || matches!(self.child.try_wait(), Ok(Some(_)))
        });
        let console = fs::read_to_string(&self.console).unwrap_or_default();
        assert!(
            done && line.is_some(),
            "no result from the guest; console:\n{console}"
        );
        line.unwrap_or_default()
    }
}

impl Drop for SocketGuest {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if std::thread::panicking() {
            let console = fs::read_to_string(&self.console).unwrap_or_default();
            eprintln!(
                "---- guest console {} ----\n{console}---- end ----",
                self.console.display()
            );
        }
    }
}

/// Real guests: one on `-netdev stream`, one on `-netdev dgram`, qemu and
/// switchd both unprivileged, ping each other through the bridge. (Gated
/// like tests/qemu.rs: it belongs to the full run, where qemu is
/// installed; it needs no privilege itself.)
#[test]
fn qemu_guests_on_stream_and_dgram_ports() {
    if !require_root("qemu_guests_on_stream_and_dgram_ports") {
        return;
    }
    let sw = UserSwitchd::start();
    sw.ctl_ok(&["add-br", "br0"]);
    let ps = sw.add_stream("br0", "vm1", &[]);
    let pd = sw.add_dgram("br0", "vm2");
    let local = sw.path("guest2.sock");
    let mut g1 = SocketGuest::boot(
        &sw,
        "g1",
        &format!(
            "stream,id=n0,server=off,addr.type=unix,addr.path={}",
            ps.display()
        ),
        "52:54:00:5e:00:01",
        "vmip=10.0.0.1/24 vmpeer=10.0.0.2",
    );
    let mut g2 = SocketGuest::boot(
        &sw,
        "g2",
        &format!(
            "dgram,id=n0,local.type=unix,local.path={},remote.type=unix,remote.path={}",
            local.display(),
            pd.display()
        ),
        "52:54:00:5e:00:02",
        "vmip=10.0.0.2/24 vmpeer=10.0.0.1",
    );
    assert_eq!(
        g1.result().split_whitespace().nth(2),
        Some("PASS"),
        "stream guest"
    );
    assert_eq!(g2.result().split_whitespace().nth(2), Some("PASS"), "dgram guest");
    let fdb = sw.ctl_json(&["fdb-show", "br0"]);
    for (mac, port) in [("52:54:00:5e:00:01", "vm1"), ("52:54:00:5e:00:02", "vm2")] {
        assert!(
            fdb.as_array()
                .unwrap()
                .iter()
                .any(|e| e["mac"] == mac && e["port"] == port),
            "{mac} not learned on {port}: {fdb}"
        );
    }
}

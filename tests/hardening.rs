//! Hardening regression tests (issue 19, part 4): properties that already hold
//! under abuse, pinned down so that they keep holding.
//!
//! - **MAC flooding from one port**: 60,000 frames with random source MACs from
//!   one host fill a 1000-entry MAC table and no more; fair eviction keeps the
//!   entries of the other ports, which still reach each other; the daemon's
//!   memory barely moves and it leaks no file descriptor.
//! - **Port churn**: hundreds of add-port/del-port rounds of a `system` (veth)
//!   and a `tap` port, and rounds where a configured port's device vanishes and
//!   comes back, leave no file descriptor, thread or memory behind, and an idle
//!   daemon afterwards uses no CPU; hosts added at the end forward.
//! - **SIGKILL during a stream of changes**: the daemon killed at random moments
//!   while a client changes the configuration as fast as it can always starts
//!   again on its db, that db parses, `show` agrees with it, and no change the
//!   daemon acknowledged is lost (the crash-after-one-reply case is in
//!   tests/persistence.rs; this is the crash-in-the-middle-of-anything case).
//!
//! Leak checks read the daemon's `/proc/<pid>` (VmRSS, `fd/`, `task/`, the CPU
//! times in `stat`); the bounds and the figures they were chosen from are next
//! to each check. Changes that must be many and fast go over one control
//! connection (the `proto` codec, as switchctl speaks it) instead of one
//! switchctl process each, which would take ~20 ms per change. Needs root; see
//! tests/common/mod.rs.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use proto::Request;
use serde_json::Value;

use common::*;

// ---------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------

/// The daemon's resident memory in KiB (`VmRSS` of `/proc/<pid>/status`).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/<pid>/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

/// Number of entries of a `/proc/<pid>/` directory (`fd`, `task`).
fn count_dir(pid: u32, dir: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/{dir}"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/{dir}: {e}"))
        .count()
}

/// Open file descriptors of the daemon.
fn fds(pid: u32) -> usize {
    count_dir(pid, "fd")
}

/// Threads of the daemon.
fn threads(pid: u32) -> usize {
    count_dir(pid, "task")
}

/// The daemon's descriptors once they stop moving: a control connection
/// switchctl just closed is closed by the daemon a moment later, so a single
/// reading right after a command can be one too high.
fn settled_fds(pid: u32) -> usize {
    let mut last = fds(pid);
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(100));
        let now = fds(pid);
        if now == last {
            return now;
        }
        last = now;
    }
    last
}

/// Waits up to 3 s for the daemon's descriptor count to come back to `want`
/// or below; panics with the list of descriptors otherwise. Below is not a
/// leak: the baseline can hold descriptors that were on their way out (the
/// test's own control connection, one a switchctl just closed), which a CI
/// run once saw as 14 before and 11 after.
fn assert_fds_back(pid: u32, want: usize, what: &str) {
    if poll_until(Duration::from_secs(3), || fds(pid) <= want) {
        return;
    }
    let list: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| {
                    let target = std::fs::read_link(e.path()).unwrap_or_default();
                    format!("{} -> {}", e.file_name().to_string_lossy(), target.display())
                })
                .collect()
        })
        .unwrap_or_default();
    panic!(
        "{what}: the daemon holds {} descriptors, {want} before:\n{}",
        fds(pid),
        list.join("\n")
    );
}

/// User + system CPU time of the whole daemon (all threads), in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/<pid>/stat");
    // The command name (field 2) may contain spaces; fields after it are
    // plain. utime and stime are fields 14 and 15, i.e. the 12th and 13th
    // after the ")".
    let rest = &stat[stat.rfind(')').expect("comm in stat") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f[11].parse().expect("utime");
    let stime: u64 = f[12].parse().expect("stime");
    utime + stime
}

/// One persistent control connection speaking the protocol directly, for
/// changes that must be many and fast.
struct Conn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Conn {
    fn open(socket: &Path) -> Conn {
        let s = UnixStream::connect(socket).expect("connect to control socket");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("set timeout");
        Conn {
            writer: s.try_clone().expect("dup socket"),
            reader: BufReader::new(s),
        }
    }

    /// Sends a request; `Some(reply)` (`ok` or `error`), `None` if the
    /// connection broke (the daemon died).
    fn try_call(&mut self, req: &Request) -> Option<Value> {
        let line = proto::codec::encode_request(req).expect("encode request");
        self.writer.write_all(&line).ok()?;
        let mut reply = String::new();
        match self.reader.read_line(&mut reply) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(serde_json::from_str(&reply).expect("reply is JSON")),
        }
    }

    /// Sends a request that must succeed.
    fn ok(&mut self, req: &Request) {
        let reply = self
            .try_call(req)
            .unwrap_or_else(|| panic!("no reply to {req:?}"));
        assert!(reply.get("ok").is_some(), "{req:?} failed: {reply}");
    }
}

fn name(s: &str) -> proto::types::IfName {
    s.parse().expect("valid interface name")
}

fn add_port(bridge: &str, port: &str, settings: &[&str]) -> Request {
    Request::AddPort {
        bridge: name(bridge),
        port: name(port),
        settings: settings
            .iter()
            .map(|s| s.parse().expect("valid setting"))
            .collect(),
        may_exist: false,
        missing_ok: false,
    }
}

fn del_port(port: &str) -> Request {
    Request::DelPort {
        bridge: None,
        port: name(port),
        if_exists: false,
    }
}

fn set_aging(bridge: &str, secs: u32) -> Request {
    Request::SetBridge {
        bridge: name(bridge),
        settings: vec![format!("mac_aging={secs}").parse().expect("valid setting")],
    }
}

/// Sends `count` frames to `dst` from random unicast, locally administered
/// source MACs out of `ifname` in `ns`, through one AF_PACKET socket. A full
/// queue (ENOBUFS) is waited out, not counted as a failure.
fn flood_random_sources(ns: &Netns, ifname: &str, dst: [u8; 6], count: usize, rng: &mut Rng) {
    let ifname = ifname.to_string();
    let seed = rng.next();
    in_netns(&ns.name, move || {
        let mut rng = Rng::seeded(seed);
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        assert!(raw >= 0, "AF_PACKET socket: {}", std::io::Error::last_os_error());
        // SAFETY: `raw` was just returned by socket(2) and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let c = std::ffi::CString::new(ifname.clone()).expect("name without NUL");
        // SAFETY: `c` is a valid NUL-terminated string for the call.
        let ifindex = unsafe { libc::if_nametoindex(c.as_ptr()) };
        assert!(ifindex != 0, "no interface {ifname}");
        // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
        let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sa.sll_family = libc::AF_PACKET as u16;
        sa.sll_ifindex = ifindex as i32;
        sa.sll_halen = 6;
        let mut f = frame(dst, [0; 6], MARKER_ETHERTYPE, b"mac flood");
        for i in 0..count {
            // Paced (about 200 frames a millisecond at most), so that most
            // of the flood reaches the MAC table rather than overflowing
            // the daemon's receive queue, which a burst of 60,000 does.
            if i % 200 == 199 {
                std::thread::sleep(Duration::from_millis(1));
            }
            let r = rng.next().to_le_bytes();
            f[6..12].copy_from_slice(&r[..6]);
            f[6] = (f[6] & 0xfc) | 0x02; // unicast, locally administered
            loop {
                // SAFETY: `f` and `sa` are valid for reads of the lengths passed.
                let n = unsafe {
                    libc::sendto(
                        fd.as_raw_fd(),
                        f.as_ptr().cast(),
                        f.len(),
                        0,
                        (&sa as *const libc::sockaddr_ll).cast(),
                        std::mem::size_of::<libc::sockaddr_ll>() as u32,
                    )
                };
                if n == f.len() as isize {
                    break;
                }
                let e = std::io::Error::last_os_error();
                assert_eq!(e.raw_os_error(), Some(libc::ENOBUFS), "flood on {ifname}: {e}");
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    })
}

/// The ports of bridge `br` as `show` lists them, sorted.
fn show_ports(show: &Value, br: &str) -> Vec<String> {
    let bridge = show
        .as_array()
        .and_then(|a| a.iter().find(|b| b["name"] == br))
        .unwrap_or_else(|| panic!("show lacks bridge {br}: {show}"));
    let mut ports: Vec<String> = bridge["ports"]
        .as_array()
        .expect("ports array")
        .iter()
        .map(|p| p["name"].as_str().expect("port name").to_string())
        .collect();
    ports.sort();
    ports
}

/// The ports of bridge `br` in the db file, sorted.
fn db_ports(db: &Value, br: &str) -> Vec<String> {
    let bridge = db["bridges"]
        .as_array()
        .and_then(|a| a.iter().find(|b| b["name"] == br))
        .unwrap_or_else(|| panic!("db lacks bridge {br}: {db}"));
    let mut ports: Vec<String> = bridge["ports"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["name"].as_str().expect("port name").to_string())
                .collect()
        })
        .unwrap_or_default();
    ports.sort();
    ports
}

// ---------------------------------------------------------------------------
// 1. MAC flooding from one port
// ---------------------------------------------------------------------------

#[test]
fn mac_flood_from_one_port_is_bounded_and_fair() {
    if !require_root("mac_flood_from_one_port_is_bounded_and_fair") {
        return;
    }
    const FRAMES: usize = 60_000;
    const TABLE: usize = 1000;
    let mut rng = Rng::from_clock("mac_flood_from_one_port_is_bounded_and_fair");
    let sw = Switchd::with_bridge("br0");
    sw.ctl_ok(&["set", "bridge", "br0", &format!("mac_table_size={TABLE}")]);
    let a = host_on_veth(&sw, "br0", "10.0.0.1");
    let b = host_on_veth(&sw, "br0", "10.0.0.2");
    let c = host_on_veth(&sw, "br0", "10.0.0.3");
    assert_pings(&a, &b);
    assert_eq!(sw.fdb("br0").len(), 2, "only a and b have talked");

    let pid = sw.pid();
    let fds_before = settled_fds(pid);
    let threads_before = threads(pid);
    let rss_before = rss_kib(pid);

    // To a unicast MAC nobody has: every frame is also flooded to a and b.
    let start = Instant::now();
    flood_random_sources(&c.ns, &c.ifname, [0x02, 0, 0, 0, 0, 0x99], FRAMES, &mut rng);
    let sent = start.elapsed();
    // Wait until the daemon has taken everything it is going to take.
    let mut last = u64::MAX;
    let drained = poll_until(Duration::from_secs(10), || {
        std::thread::sleep(Duration::from_millis(250));
        let rx = sw.port_stats("br0", &c.port)["rx_packets"]
            .as_u64()
            .expect("rx_packets");
        let done = rx == last;
        last = rx;
        done
    });
    assert!(drained, "rx of {} still moving after 10 s", c.port);
    let stats = sw.port_stats("br0", &c.port);
    eprintln!(
        "flood: {FRAMES} frames sent in {:.2} s, drained after {:.2} s; {} stats: {stats}",
        sent.as_secs_f64(),
        start.elapsed().as_secs_f64(),
        c.port
    );
    // The kernel drops what the daemon does not read in time (counted as
    // rx-queue-full); what matters is that far more sources than the table
    // holds went through learning.
    assert!(
        last >= 10 * TABLE as u64,
        "test premise: the daemon received at least {} flood frames, got {last}: {stats}",
        10 * TABLE
    );

    let fdb = sw.fdb("br0");
    let on_c = fdb.iter().filter(|e| e["port"] == c.port.as_str()).count();
    assert!(
        fdb.len() <= TABLE,
        "{} MAC entries, table size {TABLE}",
        fdb.len()
    );
    assert!(
        on_c >= TABLE - 10,
        "the flood should have filled the table from {}: {on_c} of {} entries",
        c.port,
        fdb.len()
    );
    // Fair eviction: the flooding port holds the most entries, so only its own
    // are evicted; a and b stay where they were learned.
    for h in [&a, &b] {
        let e = fdb
            .iter()
            .find(|e| e["mac"] == h.mac.as_str())
            .unwrap_or_else(|| panic!("{} ({}) was evicted by the flood from {}", h.mac, h.port, c.port));
        assert_eq!(e["port"], h.port.as_str(), "{} moved: {e}", h.mac);
    }
    assert_pings(&a, &b);

    // Memory: measured on a debug build (2 CPUs, 5 runs, one beside
    // tests/forwarding.rs), VmRSS was 11.4–11.7 MiB before the flood and grew
    // by 588–652 KiB (the 1000-entry table, its LRU lists, the fdb-show
    // reply's buffers). 16 MiB is far above that noise, and a per-source
    // leak of a few hundred bytes over the 50,000–60,000 sources that get
    // through crosses it.
    let rss_after = rss_kib(pid);
    eprintln!(
        "flood: VmRSS {rss_before} KiB before, {rss_after} KiB after (+{} KiB); fds {fds_before}, threads {threads_before}",
        rss_after.saturating_sub(rss_before)
    );
    assert!(
        rss_after < rss_before + 16 * 1024,
        "VmRSS grew from {rss_before} KiB to {rss_after} KiB during a {FRAMES}-frame MAC flood"
    );
    assert_fds_back(pid, fds_before, "after the MAC flood");
    assert_eq!(
        threads(pid),
        threads_before,
        "thread count changed during the flood"
    );
}

// ---------------------------------------------------------------------------
// 2. Port churn
// ---------------------------------------------------------------------------

#[test]
fn port_churn_leaks_nothing_and_leaves_the_daemon_idle() {
    if !require_root("port_churn_leaks_nothing_and_leaves_the_daemon_idle") {
        return;
    }
    const ROUNDS: usize = 200;
    const VANISH_ROUNDS: usize = 4;
    let sw = Switchd::with_bridge("br0");
    let pid = sw.pid();
    // A veth pair with both ends in the switch's namespace: `sv` is the port,
    // `sp` its peer (up, so that the port's link is up).
    let (sv, sp, tap) = (unique("sv"), unique("sp"), unique("tp"));
    let make_veth = || {
        sw.ns
            .ip_ok(&["link", "add", "dev", &sv, "type", "veth", "peer", "name", &sp]);
        sw.ns.ip_ok(&["link", "set", "dev", &sp, "up"]);
        sw.ns.ip_ok(&["link", "set", "dev", &sv, "up"]);
    };
    make_veth();

    // Warm-up: one round of each, so that lazily created state (the first
    // port's ring, buffers) is in the baseline rather than counted as a leak.
    let mut conn = Conn::open(&sw.socket);
    conn.ok(&add_port("br0", &sv, &[]));
    conn.ok(&add_port("br0", &tap, &["type=tap"]));
    conn.ok(&del_port(&sv));
    conn.ok(&del_port(&tap));
    let fds_before = settled_fds(pid);
    let threads_before = threads(pid);
    let rss_before = rss_kib(pid);

    let start = Instant::now();
    for _ in 0..ROUNDS {
        conn.ok(&add_port("br0", &sv, &[]));
        conn.ok(&add_port("br0", &tap, &["type=tap"]));
        conn.ok(&del_port(&sv));
        conn.ok(&del_port(&tap));
    }
    let churn = start.elapsed();
    assert!(!sw.ns.has_link(&tap), "the TAP switchd created survived del-port");

    // The device of a configured system port vanishes and comes back: the
    // port goes down, then is re-attached by itself (README: within a second).
    let state = |sw: &Switchd| sw.port_info(&sv).map(|p| p["state"]["state"].clone());
    let start = Instant::now();
    for round in 0..VANISH_ROUNDS {
        conn.ok(&add_port("br0", &sv, &[]));
        assert_eq!(state(&sw), Some(Value::from("up")), "round {round}");
        sw.ns.ip_ok(&["link", "del", "dev", &sv]);
        assert!(
            poll_until(Duration::from_secs(5), || state(&sw) != Some(Value::from("up"))),
            "round {round}: port {sv} still up after its device was deleted"
        );
        make_veth();
        assert!(
            poll_until(Duration::from_secs(5), || state(&sw) == Some(Value::from("up"))),
            "round {round}: port {sv} not re-attached after its device came back: {:?}",
            sw.port_info(&sv)
        );
        conn.ok(&del_port(&sv));
    }
    let vanish = start.elapsed();
    drop(conn);

    let rss_after = rss_kib(pid);
    eprintln!(
        "churn: {ROUNDS} rounds (4 changes each) in {:.2} s, {VANISH_ROUNDS} vanish rounds in {:.2} s; \
         VmRSS {rss_before} -> {rss_after} KiB; fds {fds_before}; threads {threads_before}",
        churn.as_secs_f64(),
        vanish.as_secs_f64()
    );
    // Each round opens and closes an AF_PACKET socket (and its ring) and a
    // TAP fd: one leaked descriptor per round would show as +200.
    assert_fds_back(pid, fds_before, "after port churn");
    assert_eq!(threads(pid), threads_before, "thread count changed by port churn");
    // Measured (debug build, 5 runs): +88–116 KiB over the ~810 changes.
    // 4 MiB is ~40 times that, and catches anything from ~10 KiB kept per
    // added port (400 adds): a ring, a frame buffer, a stats block.
    assert!(
        rss_after < rss_before + 4 * 1024,
        "VmRSS grew from {rss_before} KiB to {rss_after} KiB over {ROUNDS} rounds of port churn"
    );

    // Idle: no port, no traffic, no client. switchd's periodic work (the
    // once-a-second PACKET_STATISTICS read, ageing timers) costs well under a
    // tick per second; a busy loop, a timer left armed at 0 or a poll on a
    // closed fd would cost the full 200 ticks of 2 s (USER_HZ = 100).
    // Measured: 0 or 1 tick in 5 runs. 5 ticks (25 ms of CPU in 2 s,
    // 1.25 %) allows for a tick charged at the wrong moment on a loaded
    // machine and still catches a 1 %-duty spin.
    let t0 = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let idle = cpu_ticks(pid) - t0;
    eprintln!("churn: {idle} CPU ticks in 2 s idle");
    assert!(idle < 5, "the idle daemon used {idle} clock ticks of CPU in 2 s");

    // And it still forwards.
    let h1 = host_on_veth(&sw, "br0", "10.0.0.1");
    let h2 = host_on_tap(&sw, "br0", "10.0.0.2");
    assert_pings(&h1, &h2);
}

// ---------------------------------------------------------------------------
// 3. SIGKILL during a stream of changes
// ---------------------------------------------------------------------------

/// The configuration the changer has built: `mac_aging` and the TAP ports.
#[derive(Debug, Clone, PartialEq)]
struct Model {
    aging: u64,
    ports: Vec<String>,
}

impl Model {
    /// The model after `op` is applied.
    fn apply(&self, op: &Op) -> Model {
        let mut m = self.clone();
        match op {
            Op::Aging(n) => m.aging = u64::from(*n),
            Op::Add(p) => {
                m.ports.push(p.clone());
                m.ports.sort();
            }
            Op::Del(p) => m.ports.retain(|q| q != p),
        }
        m
    }
}

#[derive(Debug, Clone)]
enum Op {
    Aging(u32),
    Add(String),
    Del(String),
}

/// Applies changes over one connection as fast as the daemon answers until
/// `stop` is set or a change gets no reply (the daemon was killed). Returns
/// the model after the last acknowledged change, the change that got no
/// reply (it may or may not have been applied), and how many were acknowledged.
fn changer(
    socket: &Path,
    start: Model,
    names: &[String],
    stop: &std::sync::atomic::AtomicBool,
) -> (Model, Option<Op>, usize) {
    let mut conn = Conn::open(socket);
    let mut model = start;
    let mut acked = 0;
    let mut i = 0usize;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        i += 1;
        let op = if i % 2 == 0 {
            Op::Aging(10 + (i % 1000) as u32)
        } else {
            let p = &names[(i / 2) % names.len()];
            if model.ports.contains(p) {
                Op::Del(p.clone())
            } else {
                Op::Add(p.clone())
            }
        };
        let req = match &op {
            Op::Aging(n) => set_aging("br0", *n),
            Op::Add(p) => add_port("br0", p, &["type=tap"]),
            Op::Del(p) => del_port(p),
        };
        match conn.try_call(&req) {
            Some(reply) => {
                assert!(reply.get("ok").is_some(), "{op:?} refused: {reply}");
                model = model.apply(&op);
                acked += 1;
            }
            None => return (model, Some(op), acked),
        }
    }
    (model, None, acked)
}

/// The configuration as `show` reports it.
fn shown_model(sw: &Switchd) -> Model {
    let show = sw.show();
    let br = show
        .as_array()
        .and_then(|a| a.iter().find(|b| b["name"] == "br0"))
        .unwrap_or_else(|| panic!("show lacks br0: {show}"));
    Model {
        aging: br["mac_aging"].as_u64().expect("mac_aging"),
        ports: show_ports(&show, "br0"),
    }
}

#[test]
fn sigkill_during_a_stream_of_changes_loses_nothing_acknowledged() {
    if !require_root("sigkill_during_a_stream_of_changes_loses_nothing_acknowledged") {
        return;
    }
    const KILLS: usize = 5;
    let mut rng = Rng::from_clock("sigkill_during_a_stream_of_changes_loses_nothing_acknowledged");
    let mut sw = Switchd::with_bridge("br0");
    let names: Vec<String> = (0..4).map(|_| unique("tk")).collect();
    let mut model = shown_model(&sw);
    let test_start = Instant::now();
    for round in 0..KILLS {
        let stop = std::sync::atomic::AtomicBool::new(false);
        let socket = sw.socket.clone();
        let delay = Duration::from_millis(rng.range(50, 600));
        let (acked_model, in_flight, acked) = std::thread::scope(|s| {
            let start = model.clone();
            let (names, stop_ref) = (&names, &stop);
            let worker = s.spawn(move || changer(&socket, start, names, stop_ref));
            std::thread::sleep(delay);
            sw.kill();
            worker.join().expect("changer panicked")
        });
        assert!(
            acked > 0,
            "round {round}: no change acknowledged in {delay:?}: the test did nothing"
        );

        // The daemon starting on the db is the proof that the db loads.
        sw.spawn();
        let db = sw.db_json();
        let shown = shown_model(&sw);
        // Every port stored shows, and nothing else does.
        assert_eq!(
            db_ports(&db, "br0"),
            shown.ports,
            "round {round}: db and show disagree on br0's ports"
        );
        let stored_aging = db["bridges"][0]["mac_aging"].as_u64();
        assert_eq!(stored_aging, Some(shown.aging), "round {round}: db {db}");
        // Nothing acknowledged is lost; the change in flight at the kill
        // either happened or not, nothing else.
        let with_in_flight = in_flight.as_ref().map(|op| acked_model.apply(op));
        assert!(
            shown == acked_model || Some(&shown) == with_in_flight.as_ref(),
            "round {round}: after SIGKILL, {shown:?}; acknowledged: {acked_model:?}; \
             in flight: {in_flight:?}"
        );
        // Every port restored is a working TAP (a killed switchd's TAPs may
        // be held for a moment: up to 2 s of retries at start).
        for p in &shown.ports {
            assert!(
                poll_until(Duration::from_secs(5), || sw
                    .port_info(p)
                    .is_some_and(|i| i["state"]["state"] == "up")),
                "round {round}: restored port {p} is not up: {:?}",
                sw.port_info(p)
            );
        }
        eprintln!(
            "sigkill round {round}: killed after {delay:?}, {acked} changes acknowledged, \
             in flight {in_flight:?}, restored {shown:?}"
        );
        model = shown;
    }
    eprintln!(
        "sigkill: {KILLS} rounds in {:.2} s",
        test_start.elapsed().as_secs_f64()
    );
}

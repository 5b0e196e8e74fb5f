//! Harness of the top-level integration tests: starts the real `switchd` and
//! `switchctl` binaries and wires hosts to them with network namespaces, veth
//! pairs and TAP devices, then watches what the hosts receive.
//!
//! Each [`Switchd`] runs inside a network namespace of its own (through
//! `ip netns exec`), so its system ports and the TAP devices it creates never
//! show up in the machine's root namespace, where a network manager could
//! touch them. Each [`Host`] is another namespace with one interface: the peer
//! of a veth pair whose switch-side end is a `system` port, or the kernel side
//! of a `tap` port moved over from the switch's namespace. IPv6 is disabled in
//! every namespace, so hosts only send what a test makes them send and receive
//! counters can be compared before and after.
//!
//! Tests run in parallel (threads of one process and several test binaries at
//! once): every namespace and device gets a short name derived from the pid and
//! a counter, and a Drop guard removes it also when the test fails.
//!
//! Packet-level observation uses AF_PACKET sockets opened inside a host's
//! namespace from a short-lived thread that `setns()`es into it; a socket stays
//! bound to the namespace it was created in, so the test thread can use it
//! afterwards.
//!
//! VLAN tags: the kernel strips the outer 802.1Q/802.1ad tag of every frame a
//! device receives before AF_PACKET sees it, and reports it only in
//! `PACKET_AUXDATA`. [`Sniffer`] reads that and puts the tag back, so tests see
//! frames as they were on the wire. Injection needs nothing special: a tag
//! written by [`inject`] is frame data on the sending side.

// Each test binary uses a different subset of the harness.
#![allow(dead_code)]

pub mod peers;

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Broadcast MAC.
pub const BROADCAST: [u8; 6] = [0xff; 6];

// ---------------------------------------------------------------------------
// Preconditions, names, commands
// ---------------------------------------------------------------------------

/// Whether the test may run: true as root. Otherwise prints a visible SKIP
/// line and returns false, or panics when `SWITCHD_REQUIRE_ROOT=1` (CI), so
/// that a missing privilege cannot turn the suite green by skipping.
pub fn require_root(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 {
        return true;
    }
    if std::env::var("SWITCHD_REQUIRE_ROOT").is_ok_and(|v| v == "1") {
        panic!("{test}: needs root, and SWITCHD_REQUIRE_ROOT=1 forbids skipping");
    }
    // Straight to the stderr handle: libtest captures eprintln! of passing
    // tests, and a skip must be visible.
    let _ = writeln!(
        std::io::stderr(),
        "SKIP {test}: needs root (run as root, e.g. sudo)"
    );
    false
}

/// Whether `tool --version` runs. A missing tool skips the test visibly,
/// unless SWITCHD_REQUIRE_ROOT is set (CI), where it fails naming the
/// Debian `package` that scripts/test.sh installs.
pub fn have_tool(test: &str, tool: &str, package: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("SWITCHD_REQUIRE_ROOT").is_none(),
            "{test}: {tool} is missing (scripts/test.sh installs {package})"
        );
        let _ = writeln!(std::io::stderr(), "SKIP {test}: {tool} not installed");
    }
    ok
}

/// Path of a workspace binary next to the test executable
/// (`target/debug/deps/x` → `target/debug/NAME`).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} not found: run `cargo build --workspace --bins` before these tests",
        path.display()
    );
    path
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A short name unique among concurrently running tests: `t<pid hex><n><tag>`,
/// at most 15 bytes so that it is a valid interface name.
pub fn unique(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = format!("t{:x}{n}{tag}", std::process::id() & 0xffff);
    assert!(
        name.len() <= 15,
        "interface name {name:?} is longer than 15 bytes"
    );
    name
}

/// Runs a command and returns its output (never panics on failure).
pub fn run(args: &[&str]) -> Output {
    Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"))
}

/// Runs a command, panics with its stderr unless it succeeds, returns stdout.
pub fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Calls `f` every 50 ms until it returns true or `limit` has passed; returns
/// whether it did. Used instead of fixed sleeps wherever a state can be polled.
pub fn poll_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------
// Guards: namespaces and links
// ---------------------------------------------------------------------------

/// A network namespace (`ip netns add`), deleted on drop; deleting it also
/// deletes every virtual device inside (and the peers of its veth ends).
#[derive(Debug)]
pub struct Netns {
    /// Name under /run/netns.
    pub name: String,
}

impl Netns {
    /// Creates a namespace with `lo` up and IPv6 disabled.
    pub fn new() -> Netns {
        let name = unique("n");
        run_ok(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        ns.ip_ok(&["link", "set", "lo", "up"]);
        ns.exec_ok(&[
            "sysctl",
            "-q",
            "-w",
            "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1",
        ]);
        ns
    }

    /// `ip netns exec NS ARGS...`
    pub fn exec(&self, args: &[&str]) -> Output {
        let mut full = vec!["ip", "netns", "exec", &self.name];
        full.extend_from_slice(args);
        run(&full)
    }

    /// Like [`Netns::exec`], panicking unless the command succeeds; returns stdout.
    pub fn exec_ok(&self, args: &[&str]) -> String {
        let mut full = vec!["ip", "netns", "exec", &self.name];
        full.extend_from_slice(args);
        run_ok(&full)
    }

    /// `ip -n NS ARGS...`
    pub fn ip(&self, args: &[&str]) -> Output {
        let mut full = vec!["ip", "-n", &self.name];
        full.extend_from_slice(args);
        run(&full)
    }

    /// Like [`Netns::ip`], panicking unless the command succeeds; returns stdout.
    pub fn ip_ok(&self, args: &[&str]) -> String {
        let mut full = vec!["ip", "-n", &self.name];
        full.extend_from_slice(args);
        run_ok(&full)
    }

    /// Whether a device of that name exists in the namespace.
    pub fn has_link(&self, dev: &str) -> bool {
        self.ip(&["link", "show", "dev", dev]).status.success()
    }

    /// A kernel counter of a device: `dir` is "rx" or "tx", `counter` a key of
    /// `ip -s -j link` (packets, bytes, dropped, ...). (sysfs cannot be used
    /// from a thread: it shows the namespace of whoever mounted it.)
    pub fn stat(&self, dev: &str, dir: &str, counter: &str) -> u64 {
        let out = self.ip_ok(&["-s", "-j", "link", "show", "dev", dev]);
        let v: Value = serde_json::from_str(&out).expect("ip -j prints JSON");
        v[0]["stats64"][dir][counter]
            .as_u64()
            .unwrap_or_else(|| panic!("no {dir} {counter} counter for {dev}: {out}"))
    }

    /// The MAC address of a device, as `ip` prints it (lowercase hex).
    pub fn mac(&self, dev: &str) -> String {
        let out = self.ip_ok(&["-j", "link", "show", "dev", dev]);
        let v: Value = serde_json::from_str(&out).expect("ip -j prints JSON");
        v[0]["address"]
            .as_str()
            .expect("device has an address")
            .to_string()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let out = run(&["ip", "netns", "del", &self.name]);
        if !out.status.success() {
            eprintln!(
                "cleanup: ip netns del {}: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
}

/// A network device deleted on drop (if it still exists).
#[derive(Debug)]
pub struct Link {
    /// Device name.
    pub name: String,
    /// Namespace it lives in; `None` for the root namespace.
    pub ns: Option<String>,
}

impl Link {
    /// Deletes the device now; true if it existed.
    pub fn delete(&self) -> bool {
        let out = match &self.ns {
            Some(ns) => run(&["ip", "-n", ns, "link", "del", "dev", &self.name]),
            None => run(&["ip", "link", "del", "dev", &self.name]),
        };
        out.status.success()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.delete();
    }
}

/// Runs `f` on a fresh thread that has joined the network namespace `ns`;
/// only that thread changes namespace, the caller is unaffected. Sockets
/// created inside stay in the namespace after the thread ends.
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = File::open(&path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
        // SAFETY: the fd is a valid namespace file open for the whole call;
        // setns with CLONE_NEWNET changes the namespace of this thread only,
        // and the thread ends right after `f`.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .expect("thread in namespace panicked")
}

// ---------------------------------------------------------------------------
// The daemon
// ---------------------------------------------------------------------------

/// A running `switchd` in its own namespace, with its own socket, db and log
/// in a private directory. Drop stops it (SIGTERM, then SIGKILL after 5 s),
/// prints its log if the test is failing, and removes the directory and the
/// namespace.
#[derive(Debug)]
pub struct Switchd {
    child: Option<Child>,
    dir: PathBuf,
    /// Control socket.
    pub socket: PathBuf,
    /// Configuration db.
    pub db: PathBuf,
    log: PathBuf,
    /// Namespace the daemon, its system ports and its TAP devices live in.
    pub ns: Netns,
    /// The switchd binary it runs (the build's, unless a test gives a copy).
    exe: PathBuf,
}

impl Switchd {
    /// Starts a daemon with an empty db and waits until it answers.
    pub fn start() -> Switchd {
        Switchd::start_with(|_| bin("switchd"))
    }

    /// [`Switchd::start`] of the binary `exe(dir)` returns, given the
    /// daemon's private directory (a test that replaces the binary under a
    /// running daemon copies it there first).
    pub fn start_with(exe: impl FnOnce(&Path) -> PathBuf) -> Switchd {
        let ns = Netns::new();
        let dir = std::env::temp_dir().join(format!("switchd-test-{}", ns.name));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create test dir");
        let exe = exe(&dir);
        let mut sw = Switchd {
            child: None,
            socket: dir.join("switchd.sock"),
            db: dir.join("config.json"),
            log: dir.join("switchd.log"),
            dir,
            ns,
            exe,
        };
        sw.spawn();
        sw
    }

    /// Starts a daemon on the same namespace, socket and db (after [`Switchd::stop`])
    /// and waits until it answers.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "switchd is already running");
        let level = std::env::var("SWITCHD_TEST_LOG").unwrap_or_else(|_| "debug".into());
        let mut cmd = Command::new("ip");
        // `ip netns exec` execs switchd in place, so the child's pid is the daemon's.
        cmd.args(["netns", "exec", &self.ns.name]).arg(&self.exe);
        self.child = Some(start_daemon(cmd, &self.socket, &self.db, &level, &self.log));
    }

    /// The daemon's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("switchd is running").id()
    }

    /// The exit status if the daemon has exited (it is then reaped).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        match child.try_wait().expect("waitpid") {
            Some(status) => {
                self.child = None;
                Some(status)
            }
            None => None,
        }
    }

    /// Whether the daemon is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.is_some() && self.try_wait().is_none()
    }

    /// Sends SIGTERM, waits up to 5 s (then SIGKILL) and returns the exit status.
    pub fn stop(&mut self) -> ExitStatus {
        stop_daemon(self.child.take().expect("switchd is running"))
    }

    /// Kills the daemon with SIGKILL (a crash: no cleanup at all) and reaps it.
    pub fn kill(&mut self) {
        kill_daemon(self.child.take().expect("switchd is running"));
    }

    /// Stops the daemon (asserting a clean exit) and starts a new one with the same db.
    pub fn restart(&mut self) {
        let status = self.stop();
        assert!(
            status.success(),
            "switchd exited with {status}; log:\n{}",
            self.log()
        );
        self.spawn();
    }

    /// [`Switchd::start`], then `add-br bridge`.
    pub fn with_bridge(bridge: &str) -> Switchd {
        let sw = Switchd::start();
        sw.ctl_ok(&["add-br", bridge]);
        sw
    }

    /// What a refused command must not change: `show --json` and the db file.
    pub fn snapshot(&self) -> (Value, Vec<u8>) {
        (self.show(), std::fs::read(&self.db).expect("read db"))
    }

    /// Everything the daemon (all its incarnations) wrote to stdout/stderr.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A raw connection to the control socket.
    pub fn connect(&self) -> UnixStream {
        let s = UnixStream::connect(&self.socket).expect("connect to control socket");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("set timeout");
        s
    }

    /// Sends one raw request line over a fresh connection and returns the reply line.
    pub fn raw_request(&self, line: &str) -> Value {
        let mut s = self.connect();
        s.write_all(line.as_bytes()).expect("write request");
        s.write_all(b"\n").expect("write newline");
        read_reply(&s).expect("a reply line")
    }

    /// The db file parsed as JSON (panics if it is not valid JSON).
    pub fn db_json(&self) -> Value {
        let text = fs::read_to_string(&self.db)
            .unwrap_or_else(|e| panic!("cannot read db {}: {e}", self.db.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("db is not valid JSON: {e}: {text:?}"))
    }
}

/// The environment the contrib/qemu-ifup and qemu-ifdown scripts see, as
/// qemu passes it on: `sw`'s socket and switchctl, the `SWITCHD_*` settings
/// in `env`, and none inherited from the test's own environment.
pub fn contrib_env<'a>(cmd: &mut Command, sw: &Switchd, env: impl IntoIterator<Item = (&'a str, &'a str)>) {
    cmd.env("SWITCHD_SOCKET", &sw.socket)
        .env("SWITCHCTL", bin("switchctl"));
    for key in [
        "SWITCHD_BRIDGE",
        "SWITCHD_TAG",
        "SWITCHD_TRUNKS",
        "SWITCHD_VLAN_MODE",
    ] {
        cmd.env_remove(key);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
}

/// Runs `cmd` (switchd, or a launcher that execs it in place such as `ip
/// netns exec` or `setpriv`) with `--socket`, `--db` and `--log-level`, its
/// output appended to `log`, and waits up to 10 s until the socket accepts
/// connections. Panics with the log if the daemon exits or does not answer
/// (after killing it).
pub fn start_daemon(mut cmd: Command, socket: &Path, db: &Path, level: &str, log: &Path) -> Child {
    let out = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open log");
    let mut child = cmd
        .arg("--socket")
        .arg(socket)
        .arg("--db")
        .arg(db)
        .args(["--log-level", level])
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("dup log"))
        .stderr(out)
        .spawn()
        .expect("spawn switchd");
    let read_log = || fs::read_to_string(log).unwrap_or_default();
    let ready = poll_until(Duration::from_secs(10), || {
        if let Some(status) = child.try_wait().expect("waitpid") {
            panic!("switchd exited at start ({status}); log:\n{}", read_log());
        }
        UnixStream::connect(socket).is_ok()
    });
    if !ready {
        kill_daemon(child);
        panic!(
            "switchd did not accept connections within 10 s; log:\n{}",
            read_log()
        );
    }
    child
}

/// Sends a daemon we started SIGTERM, waits up to 5 s (then SIGKILL) and
/// returns its exit status.
pub fn stop_daemon(mut child: Child) -> ExitStatus {
    if let Some(status) = child.try_wait().expect("waitpid") {
        return status;
    }
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on the pid of our own unreaped child, which therefore
    // cannot have been recycled for another process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("waitpid") {
            return status;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("switchd (pid {pid}) ignored SIGTERM for 5 s; sending SIGKILL");
    let _ = child.kill();
    child.wait().expect("waitpid")
}

/// SIGKILL to a daemon we started (a crash: no cleanup at all), and reaps it.
pub fn kill_daemon(mut child: Child) {
    let _ = child.kill();
    child.wait().expect("waitpid");
}

/// The switchctl client of a running daemon: what every test asks a
/// switchd through `switchctl`, whichever way the daemon was started (as
/// root in a namespace, [`Switchd`]; unprivileged, in `tests/socket_ports.rs`).
pub trait Control {
    /// The daemon's control socket.
    fn socket(&self) -> &Path;

    /// Runs `switchctl --socket S --timeout 10 ARGS...`.
    fn ctl(&self, args: &[&str]) -> Output {
        Command::new(bin("switchctl"))
            .arg("--socket")
            .arg(self.socket())
            .args(["--timeout", "10"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run switchctl")
    }

    /// Runs switchctl and panics (with its stderr) unless it succeeds; returns stdout.
    fn ctl_ok(&self, args: &[&str]) -> String {
        let out = self.ctl(args);
        assert!(
            out.status.success(),
            "switchctl {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `switchctl --json ARGS...`, which must succeed, and parses stdout.
    fn ctl_json(&self, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let out = self.ctl_ok(&full);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("switchctl --json {args:?}: {e}: {out:?}"))
    }

    /// Runs switchctl expecting failure: non-zero exit and exactly one stderr
    /// line `switchctl: <reason>`. Returns the reason.
    fn ctl_err(&self, args: &[&str]) -> String {
        let out = self.ctl(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "switchctl {args:?} succeeded but should fail; stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "switchctl {args:?} should print exactly one line on stderr, got {stderr:?}"
        );
        lines[0]
            .strip_prefix("switchctl: ")
            .unwrap_or_else(|| panic!("switchctl {args:?}: stderr {stderr:?} lacks the `switchctl: ` prefix"))
            .to_string()
    }

    /// `show --json`.
    fn show(&self) -> Value {
        self.ctl_json(&["show"])
    }

    /// The `show --json` object of one port.
    fn port_info(&self, port: &str) -> Option<Value> {
        let show = self.show();
        show.as_array()?
            .iter()
            .flat_map(|b| b["ports"].as_array().into_iter().flatten())
            .find(|p| p["name"] == port)
            .cloned()
    }

    /// `fdb-show --json BR`.
    fn fdb(&self, bridge: &str) -> Vec<Value> {
        match self.ctl_json(&["fdb-show", bridge]) {
            Value::Array(v) => v,
            other => panic!("fdb-show --json is not an array: {other}"),
        }
    }

    /// `port-stats --json BR` entry of one port.
    fn port_stats(&self, bridge: &str, port: &str) -> Value {
        let stats = self.ctl_json(&["port-stats", bridge]);
        stats
            .as_array()
            .and_then(|a| a.iter().find(|s| s["port"] == port))
            .cloned()
            .unwrap_or_else(|| panic!("port-stats {bridge} has no entry for {port}: {stats}"))
    }

    /// The named drop counter of a port (0 if absent).
    fn drops(&self, bridge: &str, port: &str, reason: &str) -> u64 {
        self.port_stats(bridge, port)["drops"][reason]
            .as_u64()
            .unwrap_or(0)
    }
}

impl Control for Switchd {
    fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for Switchd {
    fn drop(&mut self) {
        if self.child.is_some() {
            let status = self.stop();
            if std::thread::panicking() || !status.success() {
                eprintln!(
                    "switchd exit: {status} (signal {:?})",
                    status.signal().or(status.stopped_signal())
                );
            }
        }
        if std::thread::panicking() {
            eprintln!(
                "---- switchd log ({}) ----\n{}---- end ----",
                self.ns.name,
                self.log()
            );
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Reads everything the daemon sends on `s` until it closes the connection.
/// Returns the lines and whether the connection was closed (EOF, or a reset
/// because the daemon dropped unread input) rather than the read timing out.
pub fn read_until_close(s: &UnixStream) -> (Vec<String>, bool) {
    let mut r = BufReader::new(s);
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) => return (lines, true),
            Ok(_) => lines.push(line),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (lines, true),
            Err(_) => return (lines, false),
        }
    }
}

/// Reads one reply line from a control connection; `None` on EOF or timeout.
pub fn read_reply(s: &UnixStream) -> Option<Value> {
    let mut line = String::new();
    match BufReader::new(s).read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("reply is not JSON: {e}: {line:?}")))
        }
    }
}

// ---------------------------------------------------------------------------
// Hosts
// ---------------------------------------------------------------------------

/// A host: a namespace with one interface attached to a switch port.
#[derive(Debug)]
pub struct Host {
    /// Interface inside the host namespace.
    pub ifname: String,
    /// Switch port name (the TAP itself, or the switch-side veth end).
    pub port: String,
    /// IPv4 address (a /24).
    pub ip: String,
    /// MAC of `ifname`, lowercase.
    pub mac: String,
    /// The host's namespace.
    pub ns: Netns,
}

impl Host {
    fn configure(ns: Netns, ifname: String, port: String, ip: &str) -> Host {
        ns.ip_ok(&["addr", "add", &format!("{ip}/24"), "dev", &ifname]);
        ns.ip_ok(&["link", "set", "dev", &ifname, "up"]);
        let mac = ns.mac(&ifname);
        Host {
            ifname,
            port,
            ip: ip.to_string(),
            mac,
            ns,
        }
    }

    /// Pings `ip` from this host: up to 3 attempts of 1 s (the first may wait for ARP).
    pub fn ping(&self, ip: &str) -> bool {
        ping(&self.ns, ip)
    }

    /// One ping with a 1 s wait.
    pub fn ping_once(&self, ip: &str) -> bool {
        self.ns
            .exec(&["ping", "-c", "1", "-W", "1", "-q", ip])
            .status
            .success()
    }

    /// Frames the interface received so far (kernel counter).
    pub fn rx_packets(&self) -> u64 {
        self.ns.stat(&self.ifname, "rx", "packets")
    }

    /// A sniffer on the host's interface (incoming frames only).
    pub fn sniffer(&self) -> Sniffer {
        Sniffer::open(&self.ns, &self.ifname)
    }

    /// Sends a raw Ethernet frame out of the host's interface.
    pub fn inject(&self, frame: &[u8]) {
        inject(&self.ns, &self.ifname, frame)
    }

    /// The host's MAC as bytes.
    pub fn mac_bytes(&self) -> [u8; 6] {
        parse_mac(&self.mac)
    }
}

/// `ip netns exec NS ping -c 1 -W 1 IP`, up to 3 attempts (the first may wait for ARP).
pub fn ping(ns: &Netns, ip: &str) -> bool {
    (0..3).any(|_| {
        ns.exec(&["ping", "-c", "1", "-W", "1", "-q", ip])
            .status
            .success()
    })
}

/// Adds a `tap` port (switchd creates the device), moves the device into a new
/// host namespace and gives it `ip`/24. `settings` are extra `KEY=VALUE`s.
pub fn host_on_tap_with(sw: &Switchd, bridge: &str, ip: &str, settings: &[&str]) -> Host {
    let tap = unique("tp");
    let mut args = vec!["add-port", bridge, &tap, "type=tap"];
    args.extend_from_slice(settings);
    sw.ctl_ok(&args);
    let ns = Netns::new();
    sw.ns.ip_ok(&["link", "set", "dev", &tap, "netns", &ns.name]);
    Host::configure(ns, tap.clone(), tap, ip)
}

/// [`host_on_tap_with`] without extra settings.
pub fn host_on_tap(sw: &Switchd, bridge: &str, ip: &str) -> Host {
    host_on_tap_with(sw, bridge, ip, &[])
}

/// Creates a veth pair between the switch namespace and a new host namespace,
/// adds the switch-side end as a `system` port and gives the host end `ip`/24.
pub fn host_on_veth_with(sw: &Switchd, bridge: &str, ip: &str, settings: &[&str]) -> Host {
    let ns = Netns::new();
    let (port, ifname) = veth_into(sw, &ns);
    let mut args = vec!["add-port", bridge, &port];
    args.extend_from_slice(settings);
    sw.ctl_ok(&args);
    Host::configure(ns, ifname, port, ip)
}

/// [`host_on_veth_with`] without extra settings.
pub fn host_on_veth(sw: &Switchd, bridge: &str, ip: &str) -> Host {
    host_on_veth_with(sw, bridge, ip, &[])
}

/// Creates a veth pair: one end (returned first, up) in the switch namespace,
/// the other (down, unconfigured) in `ns`. Deleting either namespace deletes both.
pub fn veth_into(sw: &Switchd, ns: &Netns) -> (String, String) {
    let port = unique("sv");
    let ifname = unique("hv");
    sw.ns.ip_ok(&[
        "link", "add", "dev", &port, "type", "veth", "peer", "name", &ifname, "netns", &ns.name,
    ]);
    sw.ns.ip_ok(&["link", "set", "dev", &port, "up"]);
    (port, ifname)
}

// ---------------------------------------------------------------------------
// Raw frames
// ---------------------------------------------------------------------------

/// Both hosts reach each other with ping.
pub fn assert_pings(a: &Host, b: &Host) {
    assert!(
        a.ping(&b.ip),
        "{} ({}) cannot ping {} ({})",
        a.ip,
        a.port,
        b.ip,
        b.port
    );
    assert!(
        b.ping(&a.ip),
        "{} ({}) cannot ping {} ({})",
        b.ip,
        b.port,
        a.ip,
        a.port
    );
}

/// A veth pair between `a` and `b` with `a_ip`/24 and `b_ip`/24, both up.
/// Returns the device names (in `a`, in `b`); deleting either namespace
/// deletes the pair.
pub fn underlay(a: &Netns, b: &Netns, a_ip: &str, b_ip: &str) -> (String, String) {
    let (da, db) = (unique("ua"), unique("ub"));
    a.ip_ok(&[
        "link", "add", "dev", &da, "type", "veth", "peer", "name", &db, "netns", &b.name,
    ]);
    a.ip_ok(&["addr", "add", &format!("{a_ip}/24"), "dev", &da]);
    b.ip_ok(&["addr", "add", &format!("{b_ip}/24"), "dev", &db]);
    a.ip_ok(&["link", "set", "dev", &da, "up"]);
    b.ip_ok(&["link", "set", "dev", &db, "up"]);
    (da, db)
}

/// A veth pair between namespaces `a` and `b`, both ends up; returns the
/// names (in `a`, in `b`). Deleting either end (or namespace) cuts it.
pub fn cable(a: &Netns, b: &Netns) -> (String, String) {
    let (da, db) = (unique("ca"), unique("cb"));
    a.ip_ok(&[
        "link", "add", "dev", &da, "type", "veth", "peer", "name", &db, "netns", &b.name,
    ]);
    a.ip_ok(&["link", "set", "dev", &da, "up"]);
    b.ip_ok(&["link", "set", "dev", &db, "up"]);
    (da, db)
}

/// Waits until `f` holds, up to `secs`; panics with `what` otherwise, and
/// prints how long it took (the figures the READMEs quote).
pub fn converge(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    assert!(
        poll_until(Duration::from_secs(secs), &mut f),
        "{what} after {secs} s"
    );
    eprintln!("{what}: after {:.1} s", start.elapsed().as_secs_f64());
}

/// What [`ping_series`] saw.
#[derive(Debug)]
pub struct PingSeries {
    /// Replies (duplicates not counted).
    pub replies: usize,
    /// Replies `ping` marked `DUP!`.
    pub duplicates: usize,
    /// The longest time between two replies: the outage a user saw.
    pub longest_gap: Duration,
}

/// Pings `ip` from `ns` every `interval_ms` for `secs` seconds (with `-D`
/// timestamps), running `during` after the first second; the failover
/// meter of the RSTP and bond tests.
pub fn ping_series(ns: &Netns, ip: &str, interval_ms: u32, secs: u32, during: impl FnOnce()) -> PingSeries {
    let interval = format!("{:.3}", f64::from(interval_ms) / 1000.0);
    let mut child = Command::new("ip")
        .args([
            "netns", "exec", &ns.name, "ping", "-D", "-n", "-i", &interval, "-W", "1",
        ])
        .args(["-w", &secs.to_string(), ip])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ping");
    let stdout = child.stdout.take().expect("ping's stdout");
    let reader = std::thread::spawn(move || {
        let (mut times, mut duplicates) = (Vec::new(), 0);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // [1733212345.123456] 64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.1 ms
            if line.contains("DUP!") {
                duplicates += 1;
            } else if line.contains("bytes from") {
                if let Some(ts) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
                    times.push(ts.parse::<f64>().expect("ping -D timestamp"));
                }
            }
        }
        (times, duplicates)
    });
    std::thread::sleep(Duration::from_secs(1));
    during();
    let _ = child.wait();
    let (times, duplicates) = reader.join().expect("ping reader");
    let gap = times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    PingSeries {
        replies: times.len(),
        duplicates,
        longest_gap: Duration::from_secs_f64(gap),
    }
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> [u8; 6] {
    let mut out = [0u8; 6];
    let parts: Vec<&str> = s.split(':').collect();
    assert_eq!(parts.len(), 6, "bad MAC {s:?}");
    for (o, p) in out.iter_mut().zip(parts) {
        *o = u8::from_str_radix(p, 16).unwrap_or_else(|_| panic!("bad MAC {s:?}"));
    }
    out
}

/// An Ethernet II frame, padded to the 60-byte minimum.
pub fn frame(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(60.max(14 + payload.len()));
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f.resize(f.len().max(60), 0);
    f
}

/// TPID of an 802.1Q (customer) tag.
pub const TPID_8021Q: u16 = 0x8100;
/// TPID of an 802.1ad (service) tag.
pub const TPID_8021AD: u16 = 0x88a8;

/// One VLAN tag: TPID and the three fields of the TCI.
///
/// The harness builds and reads frames with its own code, not with
/// `switchd::wire`, so that an encoding mistake in switchd cannot hide from
/// the tests by being made twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlanTag {
    /// [`TPID_8021Q`] or [`TPID_8021AD`].
    pub tpid: u16,
    /// Priority code point, 0–7.
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN id (0: priority tag only).
    pub vid: u16,
}

impl VlanTag {
    /// An 802.1Q tag with PCP 0 and DEI clear.
    pub const fn vid(vid: u16) -> VlanTag {
        VlanTag {
            tpid: TPID_8021Q,
            pcp: 0,
            dei: false,
            vid,
        }
    }

    /// The same tag with priority `pcp`.
    pub const fn pcp(self, pcp: u8) -> VlanTag {
        VlanTag { pcp, ..self }
    }

    /// The same tag with the DEI bit set.
    pub const fn dei(self) -> VlanTag {
        VlanTag { dei: true, ..self }
    }

    /// The same tag with another TPID.
    pub const fn tpid(self, tpid: u16) -> VlanTag {
        VlanTag { tpid, ..self }
    }

    /// Splits a TCI.
    pub fn from_tci(tpid: u16, tci: u16) -> VlanTag {
        VlanTag {
            tpid,
            pcp: (tci >> 13) as u8,
            dei: tci & 0x1000 != 0,
            vid: tci & 0x0fff,
        }
    }

    /// PCP, DEI and VID packed into 16 bits.
    pub fn tci(self) -> u16 {
        (u16::from(self.pcp & 7) << 13) | (u16::from(self.dei) << 12) | (self.vid & 0x0fff)
    }

    /// TPID then TCI, big endian, as on the wire.
    pub fn bytes(self) -> [u8; 4] {
        let [a, b] = self.tpid.to_be_bytes();
        let [c, d] = self.tci().to_be_bytes();
        [a, b, c, d]
    }
}

fn is_tpid(t: u16) -> bool {
    t == TPID_8021Q || t == TPID_8021AD
}

/// `f` with `tag` inserted after the MAC addresses (nothing else changes:
/// the frame grows by 4 bytes).
pub fn tagged(f: &[u8], tag: VlanTag) -> Vec<u8> {
    assert!(f.len() >= 14, "frame of {} bytes has no Ethernet header", f.len());
    let mut out = Vec::with_capacity(f.len() + 4);
    out.extend_from_slice(&f[..12]);
    out.extend_from_slice(&tag.bytes());
    out.extend_from_slice(&f[12..]);
    out
}

/// The outer VLAN tag of `f` (TPID 0x8100 or 0x88a8), if it has one.
pub fn outer_tag(f: &[u8]) -> Option<VlanTag> {
    if f.len() < 18 {
        return None;
    }
    let tpid = u16::from_be_bytes([f[12], f[13]]);
    is_tpid(tpid).then(|| VlanTag::from_tci(tpid, u16::from_be_bytes([f[14], f[15]])))
}

/// `f` without its outer VLAN tag (a copy of `f` if it has none).
pub fn untagged(f: &[u8]) -> Vec<u8> {
    match outer_tag(f) {
        Some(_) => [&f[..12], &f[16..]].concat(),
        None => f.to_vec(),
    }
}

/// The ethertype after the outer VLAN tag if there is one, and the offset
/// of the payload.
fn inner_ethertype(f: &[u8]) -> Option<(u16, usize)> {
    let off = if outer_tag(f).is_some() { 16 } else { 12 };
    (f.len() >= off + 2).then(|| (u16::from_be_bytes([f[off], f[off + 1]]), off + 2))
}

/// An AF_PACKET socket bound to one interface of a namespace, for watching
/// what a host receives. Frames queue in the socket from `open` on, so open it
/// before the traffic under test.
///
/// Frames are returned as they were on the wire: the socket asks for
/// `PACKET_AUXDATA`, and a VLAN tag the kernel stripped (`TP_STATUS_VLAN_VALID`,
/// `tp_vlan_tci`, `tp_vlan_tpid`) is put back in front of the ethertype.
#[derive(Debug)]
pub struct Sniffer {
    fd: OwnedFd,
}

fn packet_socket(protocol: u16) -> OwnedFd {
    // SAFETY: plain socket(2) call; the result is checked before use.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            i32::from(protocol.to_be()),
        )
    };
    assert!(fd >= 0, "AF_PACKET socket: {}", std::io::Error::last_os_error());
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn ifindex(ifname: &str) -> i32 {
    let c = std::ffi::CString::new(ifname).expect("name without NUL");
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    assert!(
        idx != 0,
        "no interface {ifname}: {}",
        std::io::Error::last_os_error()
    );
    idx as i32
}

fn sockaddr_ll(ifindex: i32, protocol: u16) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = protocol.to_be();
    sa.sll_ifindex = ifindex;
    sa.sll_halen = 6;
    sa
}

impl Sniffer {
    /// Opens a sniffer on `ifname` inside `ns`.
    pub fn open(ns: &Netns, ifname: &str) -> Sniffer {
        let ifname = ifname.to_string();
        let fd = in_netns(&ns.name, move || {
            // Protocol 0 receives nothing until bound, so no frame of another
            // interface slips in between socket() and bind().
            let fd = packet_socket(0);
            let sa = sockaddr_ll(ifindex(&ifname), libc::ETH_P_ALL as u16);
            // SAFETY: `sa` is a valid sockaddr_ll and the length matches it.
            let rc = unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    (&sa as *const libc::sockaddr_ll).cast(),
                    std::mem::size_of::<libc::sockaddr_ll>() as u32,
                )
            };
            assert_eq!(
                rc,
                0,
                "bind AF_PACKET to {ifname}: {}",
                std::io::Error::last_os_error()
            );
            let one: libc::c_int = 1;
            // SAFETY: `one` is a valid c_int for the length passed.
            let rc = unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_PACKET,
                    libc::PACKET_AUXDATA,
                    (&one as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as u32,
                )
            };
            assert_eq!(
                rc,
                0,
                "PACKET_AUXDATA on {ifname}: {}",
                std::io::Error::last_os_error()
            );
            fd
        });
        Sniffer { fd }
    }

    /// Receives one queued message without waiting: its length, whether the
    /// host sent it itself, and the VLAN tag the kernel stripped from it.
    /// `None` when nothing is queued.
    fn recv_one(&self, buf: &mut [u8]) -> Option<(usize, bool, Option<VlanTag>)> {
        // SAFETY: sockaddr_ll and msghdr are plain old data; all-zero is valid.
        let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // u64 elements: cmsg headers need their natural alignment.
        let mut control = [0u64; 16];
        // SAFETY: as above.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&mut sa as *mut libc::sockaddr_ll).cast();
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control);
        // SAFETY: `msg` points at `sa`, `iov` (over `buf`) and `control`, all
        // alive and writable for the lengths given.
        let len = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
        if len < 0 {
            return None;
        }
        let mut tag = None;
        // SAFETY: after recvmsg, `msg_control`/`msg_controllen` describe the
        // cmsgs the kernel wrote into `control`; CMSG_FIRSTHDR/CMSG_NXTHDR
        // stay inside it, and the auxdata payload is read unaligned, only when
        // the cmsg is long enough to hold it.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let h = &*c;
                if h.cmsg_level == libc::SOL_PACKET
                    && h.cmsg_type == libc::PACKET_AUXDATA
                    && h.cmsg_len
                        >= libc::CMSG_LEN(std::mem::size_of::<libc::tpacket_auxdata>() as u32) as usize
                {
                    let aux: libc::tpacket_auxdata =
                        std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::tpacket_auxdata>());
                    // VLAN_VALID tells a VID-0/PCP-0 tag apart from no tag.
                    if aux.tp_status & libc::TP_STATUS_VLAN_VALID != 0 || aux.tp_vlan_tci != 0 {
                        let tpid = if aux.tp_status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                            aux.tp_vlan_tpid
                        } else {
                            TPID_8021Q
                        };
                        tag = Some(VlanTag::from_tci(tpid, aux.tp_vlan_tci));
                    }
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        Some((len as usize, sa.sll_pkttype == libc::PACKET_OUTGOING, tag))
    }

    /// Next incoming frame within `timeout`, or `None`; as it was on the
    /// wire (with the VLAN tag the kernel stripped put back).
    pub fn next(&self, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 65536];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, count 1.
            let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(i32::MAX as u128) as i32) };
            if n <= 0 {
                return None;
            }
            let Some((len, outgoing, tag)) = self.recv_one(&mut buf) else {
                continue;
            };
            // A packet socket also sees what the host itself sends.
            if outgoing {
                continue;
            }
            let f = &buf[..len];
            return Some(match tag {
                Some(t) if len >= 12 => tagged(f, t),
                _ => f.to_vec(),
            });
        }
    }

    /// Waits up to `limit` for an incoming frame matching `pred` and returns it.
    pub fn find(&self, limit: Duration, pred: impl Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
        let deadline = Instant::now() + limit;
        while let Some(f) = self.next(deadline.saturating_duration_since(Instant::now())) {
            if pred(&f) {
                return Some(f);
            }
        }
        None
    }

    /// Every incoming frame that arrives within `wait` (always waits the full time).
    pub fn collect(&self, wait: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + wait;
        let mut frames = Vec::new();
        while let Some(f) = self.next(deadline.saturating_duration_since(Instant::now())) {
            frames.push(f);
        }
        frames
    }

    /// The frames received before the marker frame (see [`marker`]) that the
    /// test sent after the frames under test; panics if the marker does not
    /// arrive within `limit`. Frames of one ingress port are forwarded in
    /// order, so whatever the switch forwarded of the earlier frames has
    /// arrived by then: no fixed sleep is needed to prove an absence.
    pub fn until_marker(&self, limit: Duration, tag: &str) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + limit;
        let mut frames = Vec::new();
        while let Some(f) = self.next(deadline.saturating_duration_since(Instant::now())) {
            if is_marker(&f, tag) {
                return frames;
            }
            frames.push(f);
        }
        panic!("marker frame {tag:?} did not arrive within {limit:?}; frames seen: {frames:02x?}");
    }

    /// Waits up to `limit` for an incoming frame matching `pred`.
    pub fn wait_for(&self, limit: Duration, pred: impl Fn(&[u8]) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while let Some(f) = self.next(deadline.saturating_duration_since(Instant::now())) {
            if pred(&f) {
                return true;
            }
        }
        false
    }
}

/// Sends `frame` `count` times out of `ifname` in namespace `ns` through one
/// raw socket (a burst).
pub fn inject_many(ns: &Netns, ifname: &str, frame: &[u8], count: usize) {
    let ifname = ifname.to_string();
    let frame = frame.to_vec();
    in_netns(&ns.name, move || {
        let fd = packet_socket(0);
        let sa = sockaddr_ll(ifindex(&ifname), 0);
        for _ in 0..count {
            // SAFETY: `frame` and `sa` are valid for reads of the lengths passed.
            let n = unsafe {
                libc::sendto(
                    fd.as_raw_fd(),
                    frame.as_ptr().cast(),
                    frame.len(),
                    0,
                    (&sa as *const libc::sockaddr_ll).cast(),
                    std::mem::size_of::<libc::sockaddr_ll>() as u32,
                )
            };
            assert_eq!(
                n,
                frame.len() as isize,
                "inject on {ifname}: {}",
                std::io::Error::last_os_error()
            );
        }
    })
}

/// Sends a raw frame out of `ifname` inside `ns` through an AF_PACKET socket.
pub fn inject(ns: &Netns, ifname: &str, frame: &[u8]) {
    inject_many(ns, ifname, frame, 1)
}

/// Ethertype of marker frames (IEEE 802 local experimental).
pub const MARKER_ETHERTYPE: u16 = 0x88b5;

/// A broadcast marker frame from `src` carrying `tag`.
pub fn marker(src: [u8; 6], tag: &str) -> Vec<u8> {
    frame(BROADCAST, src, MARKER_ETHERTYPE, tag.as_bytes())
}

/// Whether `f` is the marker frame carrying `tag` (with or without a VLAN tag).
pub fn is_marker(f: &[u8], tag: &str) -> bool {
    match inner_ethertype(f) {
        Some((MARKER_ETHERTYPE, off)) => {
            f.len() >= off + tag.len() && &f[off..off + tag.len()] == tag.as_bytes()
        }
        _ => false,
    }
}

/// Whether a frame is an ICMP echo (request or reply) over IPv4 (with or
/// without a VLAN tag).
pub fn is_icmp_echo(f: &[u8]) -> bool {
    match inner_ethertype(f) {
        Some((0x0800, off)) => f.len() >= off + 20 && f[off + 9] == 1,
        _ => false,
    }
}

/// Whether a frame is ARP (with or without a VLAN tag).
pub fn is_arp(f: &[u8]) -> bool {
    matches!(inner_ethertype(f), Some((0x0806, _)))
}

/// Whether a frame has this source MAC.
pub fn from_mac(f: &[u8], mac: [u8; 6]) -> bool {
    f.len() >= 12 && f[6..12] == mac
}

// ===========================================================================
// qemu guests (used by tests/qemu.rs). Appended section: the guest image,
// booting guests into a Switchd's namespace, their console and commands.
// ===========================================================================

/// How long a guest may take from qemu's start to `VM: READY` (or to its
/// result in test mode). Idle it is 2–5 s under TCG; several guests booting
/// at once on two cores that also run other tests take far longer.
pub const GUEST_BOOT_LIMIT: Duration = Duration::from_secs(90);

/// Kernel and initramfs of the test guests.
#[derive(Debug)]
pub struct GuestImage {
    /// The kernel qemu boots (`-kernel`).
    pub kernel: PathBuf,
    /// The busybox initramfs with tests/vm/init.sh as /init (`-initrd`).
    pub initrd: PathBuf,
}

/// The guest image, built by `tests/vm/build-guest.sh` on first use in this
/// process, into `target/vm-cache` (or `$SWITCHD_VM_CACHE`), where it stays
/// for later runs. The script serializes concurrent builders with a lock file.
/// Also checks that qemu is installed: the guest tests are root-only tests,
/// and a missing qemu must fail them, not skip them.
pub fn guest_image() -> &'static GuestImage {
    static IMAGE: std::sync::OnceLock<GuestImage> = std::sync::OnceLock::new();
    IMAGE.get_or_init(|| {
        let qemu = Command::new("qemu-system-x86_64")
            .arg("--version")
            .stdin(Stdio::null())
            .output();
        assert!(
            qemu.is_ok_and(|o| o.status.success()),
            "qemu-system-x86_64 does not run: install qemu-system-x86 (scripts/test.sh does)"
        );
        let cache = match std::env::var_os("SWITCHD_VM_CACHE") {
            Some(dir) => PathBuf::from(dir),
            None => {
                // target/<profile>/deps/<test> → target/vm-cache
                let exe = std::env::current_exe().expect("current_exe");
                let target = exe
                    .ancestors()
                    .nth(3)
                    .expect("test executable lives in target/<profile>/deps");
                target.join("vm-cache")
            }
        };
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vm/build-guest.sh");
        let out = Command::new(&script)
            .arg(&cache)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{} {} failed ({}): {}{}",
            script.display(),
            cache.display(),
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
        let field = |key: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(PathBuf::from)
                .unwrap_or_else(|| panic!("build-guest.sh printed no {key}: {stdout}"))
        };
        GuestImage {
            kernel: field("kernel="),
            initrd: field("initrd="),
        }
    })
}

/// Standard base64 (RFC 4648, padded): scripts travel to the guest on its
/// kernel command line and on its command port as one word each.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// How to boot one guest: its NIC, what tests/vm/init.sh does (kernel
/// command-line parameters), and how its tap joins the switch.
#[derive(Debug, Clone)]
pub struct GuestSpec {
    /// Tap device name (qemu's `ifname=`, and the switch port's name).
    pub ifname: String,
    /// MAC of the guest's NIC (fixed, so that a restarted guest keeps it).
    pub mac: String,
    /// `vm*=` parameters for init.sh.
    pub params: Vec<String>,
    /// Environment of qemu, hence of the ifup script (`SWITCHD_TAG`, ...).
    pub env: Vec<(String, String)>,
    /// `script=contrib/qemu-ifup` (else `script=no`: qemu only creates the tap).
    pub ifup: bool,
    /// `downscript=contrib/qemu-ifdown` (else `downscript=no`).
    pub ifdown: bool,
    /// Extra `virtio-net-pci` properties, e.g. `,csum=off,guest_csum=off`.
    pub nic: String,
    /// Guest memory in MiB.
    pub mem_mb: u32,
}

impl GuestSpec {
    /// A guest in hold mode (it stays up and takes commands) whose tap joins
    /// the switch through contrib/qemu-ifup, with no address yet.
    pub fn new(ifname: &str, mac: &str) -> GuestSpec {
        GuestSpec {
            ifname: ifname.to_string(),
            mac: mac.to_string(),
            params: vec!["vmmode=hold".into()],
            env: Vec::new(),
            ifup: true,
            ifdown: false,
            nic: String::new(),
            mem_mb: 128,
        }
    }

    /// A raw `vmKEY=VALUE` parameter for init.sh.
    pub fn param(mut self, p: &str) -> GuestSpec {
        self.params.push(p.to_string());
        self
    }

    /// The address of eth0, e.g. `10.0.0.1/24`.
    pub fn ip(self, cidr: &str) -> GuestSpec {
        self.param(&format!("vmip={cidr}"))
    }

    /// An 802.1Q interface `eth0.VID` with this address.
    pub fn vlan(self, vid: u16, cidr: &str) -> GuestSpec {
        self.param(&format!("vmvlan={vid}"))
            .param(&format!("vmvlanip={cidr}"))
    }

    /// At boot, ping `ip` until it answers (all pings must come back).
    pub fn peer(self, ip: &str) -> GuestSpec {
        self.param(&format!("vmpeer={ip}"))
    }

    /// A shell script to run at boot, after the pings.
    pub fn run(self, script: &str) -> GuestSpec {
        self.param(&format!("vmrun={}", base64(script.as_bytes())))
    }

    /// Test mode: the guest powers off after its checks instead of holding.
    pub fn test_mode(self) -> GuestSpec {
        self.param("vmmode=test")
    }

    /// An environment variable for qemu and its ifup/ifdown scripts.
    pub fn env(mut self, key: &str, value: &str) -> GuestSpec {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// No ifup script: qemu creates the tap and nothing else happens.
    pub fn no_ifup(mut self) -> GuestSpec {
        self.ifup = false;
        self
    }

    /// Run contrib/qemu-ifdown when qemu exits.
    pub fn ifdown(mut self) -> GuestSpec {
        self.ifdown = true;
        self
    }

    /// Extra virtio-net-pci properties (starting with a comma).
    pub fn nic(mut self, props: &str) -> GuestSpec {
        self.nic = props.to_string();
        self
    }
}

/// A qemu guest (TCG) whose NIC is a tap in a [`Switchd`]'s namespace. Drop
/// kills that qemu (by its pid) if it still runs, prints the console if the
/// test is failing, and removes the guest's directory. Console lines are the
/// `VM: ...` lines of tests/vm/init.sh.
#[derive(Debug)]
pub struct Guest {
    /// Tap device and switch port name.
    pub ifname: String,
    /// The NIC's MAC, lowercase.
    pub mac: String,
    child: Option<Child>,
    exit: Option<ExitStatus>,
    dir: PathBuf,
    console: PathBuf,
    qemu_log: PathBuf,
    ctl_path: PathBuf,
    ctl: Option<UnixStream>,
    next_cmd: u32,
    /// When qemu was started.
    pub started: Instant,
}

impl Guest {
    /// Starts qemu inside the switch's namespace (`ip netns exec`), so that
    /// the tap is created there and the ifup script reaches this switchd
    /// (`SWITCHD_SOCKET`, `SWITCHCTL` point at it and at the built switchctl).
    /// Returns at once; wait for lines with [`Guest::wait_line`] / [`Guest::wait_ready`].
    pub fn boot(sw: &Switchd, spec: &GuestSpec) -> Guest {
        let image = guest_image();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        // A directory per boot: a guest restarted with the same tap name must
        // not share (or delete) the files of its previous run.
        let dir = std::env::temp_dir().join(format!(
            "switchd-vm-{}-{}",
            spec.ifname,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create guest dir");
        let console = dir.join("console.log");
        let qemu_log = dir.join("qemu.log");
        let ctl_path = dir.join("ctl.sock");
        // no_timer_check: under TCG on a loaded host the kernel's IO-APIC
        // timer check can miss its ticks and panic ("IO-APIC + timer doesn't
        // work!"). ipv6.disable: guests send only what a test makes them send.
        let append = format!(
            "console=ttyS0 quiet panic=-1 no_timer_check ipv6.disable=1 {}",
            spec.params.join(" ")
        );
        // x86's COMMAND_LINE_SIZE; longer is silently cut.
        assert!(append.len() < 2048, "kernel command line too long: {append}");
        let script = |on: bool, name: &str| {
            if on {
                root.join("contrib").join(name).display().to_string()
            } else {
                "no".to_string()
            }
        };
        let netdev = format!(
            "tap,id=n0,ifname={},script={},downscript={}",
            spec.ifname,
            script(spec.ifup, "qemu-ifup"),
            script(spec.ifdown, "qemu-ifdown")
        );
        // romfile= skips the iPXE option ROM (about 1 s per boot).
        let device = format!("virtio-net-pci,netdev=n0,mac={},romfile={}", spec.mac, spec.nic);
        let log = File::create(&qemu_log).expect("create qemu log");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &sw.ns.name, "qemu-system-x86_64"])
            // KVM does not work on every host (it fails or hangs in nested
            // setups); TCG always does.
            .args(["-accel", "tcg", "-smp", "1", "-m", &spec.mem_mb.to_string()])
            .args(["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"])
            .arg("-serial")
            .arg(format!("file:{}", console.display()))
            .arg("-chardev")
            .arg(format!(
                "socket,id=ctl,path={},server=on,wait=off",
                ctl_path.display()
            ))
            .args(["-serial", "chardev:ctl"])
            .arg("-kernel")
            .arg(&image.kernel)
            .arg("-initrd")
            .arg(&image.initrd)
            .args(["-append", &append, "-netdev", &netdev, "-device", &device]);
        contrib_env(
            &mut cmd,
            sw,
            spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("spawn qemu");
        // `ip netns exec` execs qemu in place: this pid is qemu's.
        Guest {
            ifname: spec.ifname.clone(),
            mac: spec.mac.to_lowercase(),
            child: Some(child),
            exit: None,
            dir,
            console,
            qemu_log,
            ctl_path,
            ctl: None,
            next_cmd: 0,
            started: Instant::now(),
        }
    }

    /// qemu's pid, if it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Complete console lines so far (without `\r`).
    pub fn lines(&self) -> Vec<String> {
        let bytes = fs::read(&self.console).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        // The last line may still be being written.
        let complete = text.rfind('\n').map_or("", |i| &text[..i]);
        complete
            .lines()
            .map(|l| l.trim_end_matches('\r').to_string())
            .collect()
    }

    /// The console and qemu's own output, for failure messages.
    pub fn diagnostics(&self) -> String {
        let console = String::from_utf8_lossy(&fs::read(&self.console).unwrap_or_default()).into_owned();
        let qemu = fs::read_to_string(&self.qemu_log).unwrap_or_default();
        format!(
            "---- guest {} console ----\n{console}\n---- qemu output ----\n{qemu}---- end ----",
            self.ifname
        )
    }

    /// qemu's exit status once it has exited (it is then reaped).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if let Some(child) = self.child.as_mut() {
            if let Some(status) = child.try_wait().expect("waitpid") {
                self.child = None;
                self.exit = Some(status);
            }
        }
        self.exit
    }

    /// Waits up to `limit` for a console line starting with `prefix` and
    /// returns it; panics with the console if it does not come, or if qemu
    /// exits first.
    pub fn wait_line(&mut self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            // Checked before the console: a guest may print the line and exit.
            let exited = self.child.is_none() || self.try_wait().is_some();
            if let Some(l) = self.lines().into_iter().find(|l| l.starts_with(prefix)) {
                return l;
            }
            if exited {
                panic!(
                    "guest {}: qemu exited ({:?}) without printing {prefix:?}\n{}",
                    self.ifname,
                    self.exit,
                    self.diagnostics()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "guest {}: no {prefix:?} within {limit:?}\n{}",
                    self.ifname,
                    self.diagnostics()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the guest's network is up and it takes commands (hold mode);
    /// returns the time since qemu started.
    pub fn wait_ready(&mut self) -> Duration {
        self.wait_line("VM: READY", GUEST_BOOT_LIMIT);
        let result = self.wait_line("VM: RESULT ", Duration::ZERO);
        assert!(
            result.starts_with("VM: RESULT PASS"),
            "guest {} failed its boot checks: {result}\n{}",
            self.ifname,
            self.diagnostics()
        );
        self.started.elapsed()
    }

    /// Runs a shell script in the guest (hold mode) and returns its exit
    /// status and output. The script is sourced by init.sh in a subshell, so
    /// `vm_ping IP [WAIT]` and `vm_noping IP` are available. Panics if it does
    /// not finish within `limit`.
    pub fn exec(&mut self, script: &str, limit: Duration) -> (i32, String) {
        self.wait_line("VM: READY", GUEST_BOOT_LIMIT);
        if self.ctl.is_none() {
            let s = UnixStream::connect(&self.ctl_path).unwrap_or_else(|e| {
                panic!(
                    "guest {}: cannot connect to {}: {e}",
                    self.ifname,
                    self.ctl_path.display()
                )
            });
            self.ctl = Some(s);
        }
        let id = self.next_cmd;
        self.next_cmd += 1;
        let line = format!("{id} {}\n", base64(script.as_bytes()));
        self.ctl
            .as_mut()
            .expect("connected")
            .write_all(line.as_bytes())
            .expect("write to the guest's command port");
        let exit = self.wait_line(&format!("VM: EXIT {id} "), limit);
        let status = exit
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad exit line {exit:?}"));
        let out_prefix = format!("VM: OUT {id} ");
        let output = self
            .lines()
            .iter()
            .filter_map(|l| l.strip_prefix(&out_prefix))
            .map(|l| format!("{l}\n"))
            .collect();
        (status, output)
    }

    /// [`Guest::exec`] that panics unless the script exits 0; returns its output.
    pub fn exec_ok(&mut self, script: &str, limit: Duration) -> String {
        let (status, output) = self.exec(script, limit);
        assert_eq!(
            status, 0,
            "guest {}: script failed ({status}):\n{script}\noutput:\n{output}",
            self.ifname
        );
        output
    }

    /// Whether `ip` answers pings from the guest: it may take up to `wait`
    /// seconds to answer a first one, then 3 of 3 must come back.
    pub fn pings(&mut self, ip: &str, wait: u32) -> bool {
        let limit = Duration::from_secs(u64::from(wait) + 30);
        self.exec(&format!("vm_ping {ip} {wait}"), limit).0 == 0
    }

    /// Whether none of 3 pings to `ip` comes back.
    pub fn pings_fail(&mut self, ip: &str) -> bool {
        self.exec(&format!("vm_noping {ip}"), Duration::from_secs(30)).0 == 0
    }

    /// Waits up to `limit` for qemu to exit and returns its status.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while self.try_wait().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.exit
    }

    /// Shuts the guest down from inside (`poweroff -f`): qemu exits, runs
    /// its downscript if any, and deletes the tap. Returns qemu's status.
    pub fn poweroff(&mut self) -> ExitStatus {
        self.wait_line("VM: READY", GUEST_BOOT_LIMIT);
        let ctl = match self.ctl.take() {
            Some(s) => s,
            None => UnixStream::connect(&self.ctl_path).expect("connect to the command port"),
        };
        let id = self.next_cmd;
        self.next_cmd += 1;
        (&ctl)
            .write_all(format!("{id} {}\n", base64(b"sync; poweroff -f")).as_bytes())
            .expect("write to the guest's command port");
        let status = self.wait_exit(Duration::from_secs(30));
        status.unwrap_or_else(|| panic!("guest {} did not power off\n{}", self.ifname, self.diagnostics()))
    }

    /// Kills qemu (SIGKILL, by pid: a crash, no downscript) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Child::kill signals this child's own pid, which cannot have
            // been reused: it is not reaped yet.
            let _ = child.kill();
            self.exit = child.wait().ok();
        }
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("{}", self.diagnostics());
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A small xorshift64* generator for tests: seeded with a constant where a
/// failure must repeat ([`Rng::seeded`]), or from the clock, printed, where
/// every run should try something new ([`Rng::from_clock`]).
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator that gives the same numbers on every run.
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// A generator seeded from the clock and the pid; the seed is printed
    /// (under `what`) so that a failure can be replayed with [`Rng::seeded`].
    pub fn from_clock(what: &str) -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos() as u64;
        let seed = (nanos ^ (u64::from(std::process::id()) << 32)) | 1;
        eprintln!("{what}: seed {seed:#x}");
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-enough in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// Uniform-enough in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

//! Independent implementations the tests run switchd against: a private
//! Open vSwitch (RSTP, LACP and OpenFlow peer) and the Linux kernel bridge
//! (802.1D STP peer).
//!
//! Each Open vSwitch instance lives in a network namespace of its own, with
//! its own db, run and log directory under a temporary directory: a second
//! userspace-datapath `ovs-vswitchd` in one namespace fails on its
//! `ovs-netdev` tap, and tests run in parallel. Its daemons are children of
//! the test (no `--detach`), so they are stopped by PID and reaped.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{poll_until, run, Netns};

/// A private Open vSwitch: `ovsdb-server` and `ovs-vswitchd` in namespace
/// `ns`, talked to with `ovs-vsctl`/`ovs-appctl`/`ovs-ofctl`. Bridges get
/// `datapath_type=netdev` (the userspace datapath: this kernel has no
/// openvswitch module to rely on).
#[derive(Debug)]
pub struct Ovs {
    /// The namespace the daemons and their ports live in.
    pub ns: Netns,
    dir: PathBuf,
    db: Option<Child>,
    vswitchd: Option<Child>,
}

impl Ovs {
    /// Whether Open vSwitch is installed (`scripts/test.sh` installs it).
    pub fn available() -> bool {
        run(&["sh", "-c", "command -v ovs-vswitchd && command -v ovsdb-tool"])
            .status
            .success()
    }

    /// Starts the two daemons and waits until `ovs-vswitchd` answers.
    pub fn start() -> Ovs {
        assert!(
            Ovs::available(),
            "Open vSwitch is not installed (scripts/test.sh installs openvswitch-switch)"
        );
        let ns = Netns::new();
        let dir = std::env::temp_dir().join(format!("switchd-ovs-{}", ns.name));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create ovs dir");
        let mut ovs = Ovs {
            ns,
            dir,
            db: None,
            vswitchd: None,
        };
        let conf = ovs.path("conf.db");
        let out = run(&[
            "ovsdb-tool",
            "create",
            &conf,
            "/usr/share/openvswitch/vswitch.ovsschema",
        ]);
        assert!(out.status.success(), "ovsdb-tool create: {out:?}");
        ovs.db = Some(ovs.spawn(&[
            "ovsdb-server",
            &conf,
            &format!("--remote=punix:{}", ovs.path("db.sock")),
            &format!("--unixctl={}", ovs.path("db.ctl")),
            &format!("--log-file={}", ovs.path("ovsdb-server.log")),
        ]));
        let sock = ovs.path("db.sock");
        assert!(
            poll_until(Duration::from_secs(10), || fs::metadata(&sock).is_ok()),
            "ovsdb-server did not create {sock}"
        );
        ovs.vsctl(&["--no-wait", "init"]);
        ovs.vswitchd = Some(ovs.spawn(&[
            "ovs-vswitchd",
            &format!("unix:{sock}"),
            &format!("--unixctl={}", ovs.path("vswitchd.ctl")),
            &format!("--log-file={}", ovs.path("ovs-vswitchd.log")),
        ]));
        assert!(
            poll_until(Duration::from_secs(10), || ovs
                .appctl_raw(&["version"])
                .status
                .success()),
            "ovs-vswitchd does not answer; log:\n{}",
            ovs.log()
        );
        ovs
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).to_string_lossy().into_owned()
    }

    fn env(&self, cmd: &mut Command) {
        for var in ["OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"] {
            cmd.env(var, &self.dir);
        }
    }

    fn spawn(&self, args: &[&str]) -> Child {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns.name])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.env(&mut cmd);
        cmd.spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", args[0]))
    }

    fn tool(&self, tool: &str, pre: &[String], args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(tool);
        cmd.args(pre).args(args).stdin(Stdio::null());
        self.env(&mut cmd);
        cmd.output().unwrap_or_else(|e| panic!("cannot run {tool}: {e}"))
    }

    /// `ovs-vsctl ARGS` against this instance; panics unless it succeeds.
    pub fn vsctl(&self, args: &[&str]) -> String {
        let out = self.tool(
            "ovs-vsctl",
            &[
                format!("--db=unix:{}", self.path("db.sock")),
                "--timeout=10".into(),
            ],
            args,
        );
        assert!(
            out.status.success(),
            "ovs-vsctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn appctl_raw(&self, args: &[&str]) -> std::process::Output {
        self.tool(
            "ovs-appctl",
            &["-t".into(), self.path("vswitchd.ctl"), "--timeout=10".into()],
            args,
        )
    }

    /// `ovs-appctl -t ovs-vswitchd ARGS`; panics unless it succeeds.
    pub fn appctl(&self, args: &[&str]) -> String {
        let out = self.appctl_raw(args);
        assert!(
            out.status.success(),
            "ovs-appctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ovs-ofctl ARGS` (run in the namespace, since bridge management
    /// sockets are in the run directory anyway); panics unless it succeeds.
    pub fn ofctl(&self, args: &[&str]) -> String {
        let out = self.tool("ovs-ofctl", &[], args);
        assert!(
            out.status.success(),
            "ovs-ofctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Adds a userspace bridge, with `extra` columns set on it
    /// (e.g. `rstp_enable=true`).
    pub fn add_br(&self, br: &str, extra: &[&str]) {
        let mut args = vec!["add-br", br, "--", "set", "bridge", br, "datapath_type=netdev"];
        args.extend_from_slice(extra);
        self.vsctl(&args);
    }

    /// A host behind OVS: a new namespace cabled to a port of `bridge`, its
    /// end up with `ip`/24. Returns the namespace and its interface.
    pub fn host(&self, bridge: &str, ip: &str) -> (Netns, String) {
        let ns = Netns::new();
        let (port, ifname) = super::cable(&self.ns, &ns);
        self.vsctl(&["add-port", bridge, &port]);
        ns.ip_ok(&["addr", "add", &format!("{ip}/24"), "dev", &ifname]);
        ns.ip_ok(&["link", "set", &ifname, "up"]);
        (ns, ifname)
    }

    /// A column of the Port table, e.g. `rstp_status`, as ovs-vsctl prints it.
    pub fn port_column(&self, port: &str, column: &str) -> String {
        self.vsctl(&["get", "port", port, column]).trim().to_string()
    }

    /// The daemon's log.
    pub fn log(&self) -> String {
        fs::read_to_string(self.path("ovs-vswitchd.log")).unwrap_or_default()
    }
}

impl Drop for Ovs {
    fn drop(&mut self) {
        if self.vswitchd.is_some() {
            let _ = self.appctl_raw(&["exit", "--cleanup"]);
        }
        for child in [self.vswitchd.take(), self.db.take()].into_iter().flatten() {
            stop(child);
        }
        if std::thread::panicking() {
            eprintln!("--- ovs-vswitchd log ---\n{}", self.log());
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Stops a child we started: SIGTERM, up to 5 s, then SIGKILL; reaped.
fn stop(mut child: Child) {
    // `ip netns exec` execs the daemon in place, so the pid is the daemon's.
    let _ = run(&["kill", "-TERM", &child.id().to_string()]);
    let ok = poll_until(Duration::from_secs(5), || matches!(child.try_wait(), Ok(Some(_))));
    if !ok {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A Linux kernel bridge with 802.1D STP (`stp_state 1`) in namespace `ns`.
#[derive(Debug)]
pub struct KernelBridge<'a> {
    /// Where it lives.
    pub ns: &'a Netns,
    /// Its name.
    pub name: String,
}

impl<'a> KernelBridge<'a> {
    /// Creates the bridge with STP on and short timers (`forward_delay` and
    /// `max_age` in seconds; hello 2 s), priority `priority`, and sets it up.
    pub fn new(
        ns: &'a Netns,
        name: &str,
        priority: u16,
        forward_delay: u32,
        max_age: u32,
    ) -> KernelBridge<'a> {
        ns.ip_ok(&[
            "link",
            "add",
            name,
            "type",
            "bridge",
            "stp_state",
            "1",
            "priority",
            &priority.to_string(),
            "forward_delay",
            &(forward_delay * 100).to_string(),
            "max_age",
            &(max_age * 100).to_string(),
            "hello_time",
            "200",
        ]);
        ns.ip_ok(&["link", "set", name, "up"]);
        KernelBridge {
            ns,
            name: name.to_owned(),
        }
    }

    /// Enslaves device `dev` (in the same namespace) and sets it up.
    pub fn add_port(&self, dev: &str) {
        self.ns.ip_ok(&["link", "set", dev, "master", &self.name]);
        self.ns.ip_ok(&["link", "set", dev, "up"]);
    }

    fn sysfs(&self, path: &str) -> String {
        self.ns
            .exec_ok(&["cat", &format!("/sys/class/net/{}/{path}", self.name)])
            .trim()
            .to_string()
    }

    /// The root bridge id as the kernel prints it, e.g. `1000.020000000001`.
    pub fn root_id(&self) -> String {
        self.sysfs("bridge/root_id")
    }

    /// The bridge's own id.
    pub fn bridge_id(&self) -> String {
        self.sysfs("bridge/bridge_id")
    }

    /// A port's STP state: 0 disabled, 1 listening, 2 learning, 3
    /// forwarding, 4 blocking.
    pub fn port_state(&self, port: &str) -> u8 {
        self.sysfs(&format!("brif/{port}/state")).parse().unwrap_or(255)
    }
}

//! In-place restart (SPEC §13): one image of switchd hands its open fds to
//! the next through `execve` in the same process, so that no TAP is
//! destroyed, qemu's taps stay attached, tunnel and control sockets never
//! close, and the frames that arrive meanwhile wait in the kernel's queues
//! instead of being lost.
//!
//! The old image writes a [`Manifest`] (JSON) into a memfd: for every port,
//! its fd numbers and the little the kernel cannot tell the new image (see
//! [`crate::port::handed`]); for every tunnel endpoint, its sockets; the
//! control socket's listener; the connection of the `switchctl restart`
//! that asked, which the new image answers. It clears close-on-exec on
//! exactly those fds and the memfd, and execs the binary on disk with its
//! own command line and `SWITCHD_HANDOVER_FD` naming the memfd. Everything
//! else (the poller, io_uring rings, OpenFlow and metrics connections, the
//! db) is close-on-exec and goes; the configuration comes back from the db
//! as at any start, and the ports take over their fds instead of opening
//! devices ([`Inherited`]). MAC tables are relearned.
//!
//! Before that, the new binary is run once as a child in check mode
//! (`--restart-check FORMAT`: it must start, read the db and speak this
//! manifest format); if it fails, the restart is refused with its reason
//! and nothing has changed.
//!
//! This is the same design as OVS's and nginx's binary upgrade (fds
//! inherited across exec), without a second process: the PID stays, so
//! systemd, pid files and qemu's `-netdev tap,fd=` users see nothing.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use proto::PortType;
use serde::{Deserialize, Serialize};

use crate::port::handed::{Handed, PortFds};
use crate::port::sys;

/// The manifest format this image writes and reads. A new binary must
/// speak it (checked before the old image replaces itself).
pub const FORMAT: u32 = 1;
/// The environment variable naming the manifest's memfd in the new image.
pub const ENV: &str = "SWITCHD_HANDOVER_FD";
/// How long the new binary's check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest manifest read back (a few hundred bytes per port).
const MAX_MANIFEST: u64 = 64 << 20;

/// What the old image hands to the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`] of the image that wrote it.
    pub format: u32,
    /// The version of the image that wrote it (for the log).
    pub version: String,
    /// When the old image stopped forwarding (ns since the Unix epoch).
    pub stopped_at_ns: u64,
    /// The control socket's listener.
    pub control: Option<RawFd>,
    /// The connection of the client that asked for the restart; the new
    /// image sends it the reply.
    pub client: Option<RawFd>,
    /// Ports (and bond members) with a device or socket.
    pub ports: Vec<PortEntry>,
    /// Tunnel endpoints.
    pub endpoints: Vec<EndpointEntry>,
    /// Spanning trees of the bridges that run RSTP, so that no port stops
    /// forwarding while the tree would converge again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rstp: Vec<RstpEntry>,
    /// Flows OpenFlow controllers installed, so that forwarding does not
    /// wait for the controllers to reconnect and install them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<FlowsEntry>,
}

/// One bridge's controller flows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowsEntry {
    /// The bridge's name.
    pub bridge: String,
    /// The flows, in the flow syntax (port numbers, not names).
    pub flows: Vec<String>,
}

/// One bridge's spanning tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RstpEntry {
    /// The bridge's name.
    pub bridge: String,
    /// The protocol's whole state (`crate::rstp::Rstp` as JSON; only the
    /// engine reads it).
    pub state: serde_json::Value,
    /// The ports behind the tree's port numbers.
    pub ports: Vec<(String, u16)>,
}

/// One port's (or bond member's) entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortEntry {
    /// The port's (or member's) name.
    pub name: String,
    /// Its kind (`system` for a bond member).
    #[serde(rename = "type")]
    pub port_type: PortType,
    /// Its fds and state.
    #[serde(flatten)]
    pub fds: PortFds,
}

/// One tunnel endpoint's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointEntry {
    /// The endpoint as `EndpointKey` prints it (`vxlan:0.0.0.0:4789`).
    pub key: String,
    /// The receive socket.
    pub rx: RawFd,
    /// VXLAN's send socket.
    pub tx: Option<RawFd>,
}

impl Manifest {
    /// Every fd the manifest names.
    pub fn fds(&self) -> Vec<RawFd> {
        let mut fds: Vec<RawFd> = self.control.into_iter().chain(self.client).collect();
        for p in &self.ports {
            fds.extend(&p.fds.fds);
        }
        for e in &self.endpoints {
            fds.push(e.rx);
            fds.extend(e.tx);
        }
        fds
    }

    /// Checks what the new image relies on before it takes any fd: this
    /// format, no stdio, no fd listed twice, no port listed twice.
    ///
    /// # Errors
    /// What is wrong, for the log.
    pub fn validate(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "handover format {} (this switchd speaks {FORMAT})",
                self.format
            ));
        }
        let mut fds = self.fds();
        if let Some(bad) = fds.iter().find(|&&fd| fd < 3) {
            return Err(format!(
                "fd {bad} listed (stdin/stdout/stderr are never handed over)"
            ));
        }
        fds.sort_unstable();
        if let Some(w) = fds.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("fd {} listed twice", w[0]));
        }
        let mut names: Vec<(&str, PortType)> = self
            .ports
            .iter()
            .map(|p| (p.name.as_str(), p.port_type))
            .collect();
        names.sort_unstable_by_key(|(n, t)| (*n, t.to_string()));
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("port {} listed twice", w[0].0));
        }
        Ok(())
    }
}

/// The fds the new image received, owned again, until the ports and the
/// control server take them. What nobody takes is closed when this drops.
#[derive(Debug, Default)]
pub struct Inherited {
    ports: HashMap<(String, PortType), Handed>,
    endpoints: HashMap<String, (OwnedFd, Option<OwnedFd>)>,
    rstp: HashMap<String, RstpEntry>,
    flows: HashMap<String, Vec<String>>,
    /// The control socket's listener.
    pub control: Option<OwnedFd>,
    /// The connection that waits for the restart's reply.
    pub client: Option<OwnedFd>,
    /// When the old image stopped forwarding (ns since the Unix epoch).
    pub stopped_at_ns: u64,
    /// The version of the old image.
    pub old_version: String,
}

impl Inherited {
    /// The fds a previous image handed over, if this process was started
    /// by an in-place restart (`$SWITCHD_HANDOVER_FD` is set). `Err` when
    /// the manifest cannot be read or is not one this image understands:
    /// the caller starts as after a plain restart (the fds it could not
    /// read stay open, unused).
    pub fn from_env() -> Option<Result<Inherited, String>> {
        let value = std::env::var_os(ENV)?;
        Some(Self::read(&value))
    }

    fn read(value: &std::ffi::OsStr) -> Result<Inherited, String> {
        let raw: RawFd = value
            .to_str()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("${ENV}={value:?} is not an fd number"))?;
        let memfd = sys::adopt(raw).map_err(|e| format!("manifest fd {raw}: {e}"))?;
        let mut text = Vec::new();
        std::fs::File::from(memfd)
            .take(MAX_MANIFEST)
            .read_to_end(&mut text)
            .map_err(|e| format!("cannot read the manifest: {e}"))?;
        let manifest: Manifest =
            serde_json::from_slice(&text).map_err(|e| format!("the manifest is not valid: {e}"))?;
        manifest.validate()?;
        Inherited::adopt(manifest)
    }

    /// Takes ownership of every fd of `manifest`.
    ///
    /// # Errors
    /// An fd that is not open (nothing else of the manifest is taken then:
    /// what was adopted so far is closed).
    pub fn adopt(manifest: Manifest) -> Result<Inherited, String> {
        let take = |fd: RawFd| sys::adopt(fd).map_err(|e| format!("fd {fd} handed over: {e}"));
        let mut out = Inherited {
            stopped_at_ns: manifest.stopped_at_ns,
            old_version: manifest.version.clone(),
            ..Inherited::default()
        };
        out.control = manifest.control.map(take).transpose()?;
        out.client = manifest.client.map(take).transpose()?;
        for p in manifest.ports {
            let fds = p
                .fds
                .fds
                .iter()
                .map(|&fd| take(fd))
                .collect::<Result<Vec<_>, _>>()?;
            out.ports
                .insert((p.name, p.port_type), Handed { fds, state: p.fds });
        }
        for e in manifest.endpoints {
            let rx = take(e.rx)?;
            let tx = e.tx.map(take).transpose()?;
            out.endpoints.insert(e.key, (rx, tx));
        }
        for r in manifest.rstp {
            out.rstp.insert(r.bridge.clone(), r);
        }
        for f in manifest.flows {
            out.flows.insert(f.bridge, f.flows);
        }
        Ok(out)
    }

    /// The fds handed over for port (or bond member) `name` of `port_type`.
    pub fn take_port(&mut self, name: &str, port_type: PortType) -> Option<Handed> {
        self.ports.remove(&(name.to_owned(), port_type))
    }

    /// Whether fds were handed over for port `name` of `port_type`.
    pub fn has_port(&self, name: &str, port_type: PortType) -> bool {
        self.ports.contains_key(&(name.to_owned(), port_type))
    }

    /// The sockets handed over for the tunnel endpoint printed as `key`.
    pub fn take_endpoint(&mut self, key: &str) -> Option<(OwnedFd, Option<OwnedFd>)> {
        self.endpoints.remove(key)
    }

    /// Whether bridge `bridge`'s spanning tree was handed over.
    pub fn has_rstp(&self, bridge: &str) -> bool {
        self.rstp.contains_key(bridge)
    }

    /// Bridge `bridge`'s spanning tree, if it was handed over.
    pub fn take_rstp(&mut self, bridge: &str) -> Option<RstpEntry> {
        self.rstp.remove(bridge)
    }

    /// The flows controllers had installed on bridge `bridge`.
    pub fn take_flows(&mut self, bridge: &str) -> Option<Vec<String>> {
        self.flows.remove(bridge)
    }

    /// Ports and endpoints handed over that no configured port took (the
    /// db changed between the images, which it cannot through switchd); they
    /// are closed when this drops.
    pub fn unclaimed(&self) -> usize {
        self.ports.len() + self.endpoints.len()
    }
}

/// Milliseconds since `ns` (ns since the Unix epoch, as [`now_ns`]).
pub fn ms_since(ns: u64) -> u64 {
    now_ns().saturating_sub(ns) / 1_000_000
}

/// Now, in ns since the Unix epoch (the one clock both images share:
/// `Instant`s do not cross an exec).
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// How to start the next image: the binary and the command line this
/// process was started with.
#[derive(Debug, Clone)]
pub struct Image {
    /// The binary's path when this process started; the restart runs the
    /// file at that path now (a package upgrade replaces it there).
    pub exe: PathBuf,
    /// The arguments after the program name.
    pub args: Vec<OsString>,
}

impl Image {
    /// This process's binary and arguments, read at start-up (before an
    /// upgrade can replace the file, after which `/proc/self/exe` would say
    /// "(deleted)").
    pub fn current() -> io::Result<Image> {
        Ok(Image {
            exe: std::env::current_exe()?,
            args: std::env::args_os().skip(1).collect(),
        })
    }

    /// Runs the binary on disk in check mode: it must start, parse this
    /// command line, read the db and speak [`FORMAT`].
    ///
    /// # Errors
    /// The binary's own reason (its standard error), or why it could not be
    /// run or did not finish within 10 s.
    pub fn check(&self) -> Result<(), String> {
        let exe = self.exe.display();
        let mut child = Command::new(&self.exe)
            .args(&self.args)
            .arg("--restart-check")
            .arg(FORMAT.to_string())
            .env_remove(ENV)
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {exe}: {e}"))?;
        // Read stderr on its own thread so that a chatty binary cannot
        // block on a full pipe while we wait for it.
        let mut stderr = child.stderr.take();
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(s) = stderr.as_mut() {
                let _ = s.take(64 * 1024).read_to_string(&mut text);
            }
            text
        });
        let deadline = Instant::now() + CHECK_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "{exe} --restart-check did not finish within {} s",
                        CHECK_TIMEOUT.as_secs()
                    ));
                }
                Err(e) => return Err(format!("cannot wait for {exe}: {e}")),
            }
        };
        let text = reader.join().unwrap_or_default();
        if status.success() {
            return Ok(());
        }
        let text = text.trim();
        let why = if text.is_empty() {
            format!("{status}")
        } else {
            format!("{text} ({status})")
        };
        Err(format!("the new binary {exe} failed its check: {why}"))
    }

    /// Replaces this process's image with the binary on disk, handing over
    /// the fds of `manifest`. Returns only if the exec failed; every fd is
    /// then close-on-exec again and this image goes on serving.
    pub fn exec(&self, manifest: &Manifest) -> io::Error {
        use std::os::unix::process::CommandExt;
        let memfd = match write_manifest(manifest) {
            Ok(fd) => fd,
            Err(e) => return e,
        };
        let mut fds = manifest.fds();
        fds.push(memfd.as_raw_fd());
        let mut cleared = Vec::with_capacity(fds.len());
        for &fd in &fds {
            // The fds are owned by this image's ports and endpoints, which
            // the engine thread (the caller) keeps until the exec.
            if let Err(e) = sys::set_cloexec(fd, false) {
                restore(&cleared);
                return e;
            }
            cleared.push(fd);
        }
        let err = Command::new(&self.exe)
            .args(&self.args)
            .env(ENV, memfd.as_raw_fd().to_string())
            .exec();
        restore(&cleared);
        err
    }
}

/// Sets close-on-exec again on fds whose flag was cleared for an exec that
/// failed.
fn restore(fds: &[RawFd]) {
    for &fd in fds {
        let _ = sys::set_cloexec(fd, true);
    }
}

/// The manifest as JSON in a memfd, rewound for the new image to read.
fn write_manifest(manifest: &Manifest) -> io::Result<OwnedFd> {
    let memfd = sys::memfd(c"switchd-handover")?;
    let mut file = std::fs::File::from(memfd);
    file.write_all(&serde_json::to_vec(manifest).map_err(io::Error::other)?)?;
    file.rewind()?;
    Ok(OwnedFd::from(file))
}

/// What the new image took over while restoring the db.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Takeover {
    /// Ports (and bond members) that took over their fds.
    pub ports_handed_over: u32,
    /// Ports (and bond members) opened anew.
    pub ports_reopened: u32,
    /// Tunnel endpoints that took over their sockets.
    pub endpoints_handed_over: u32,
}

/// A restart the control server (or SIGUSR2) asks the engine to carry out
/// once the new binary has passed its check.
#[derive(Debug)]
pub struct HandOver {
    /// The binary and command line to exec.
    pub image: Image,
    /// The control socket's listener (owned by the control thread, which
    /// never closes it).
    pub control: Option<RawFd>,
    /// The connection of the client that asked; the new image replies on
    /// it. Held here so that it stays open until the exec.
    pub client: Option<OwnedFd>,
}

/// `switchd --restart-check FORMAT`: what the old image runs before it
/// replaces itself with this binary.
///
/// # Errors
/// Why this binary cannot take over: another manifest format, or a db it
/// cannot read.
pub fn check_mode(db: &Path, format: u32) -> Result<(), String> {
    if format != FORMAT {
        return Err(format!(
            "this switchd speaks handover format {FORMAT}, the running one writes {format}"
        ));
    }
    crate::config::load(db).map_err(|e| format!("{e:#}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::IntoRawFd;

    fn port(name: &str, fds: Vec<RawFd>) -> PortEntry {
        PortEntry {
            name: name.into(),
            port_type: PortType::Tap,
            fds: PortFds {
                fds,
                mtu: 1500,
                ..PortFds::default()
            },
        }
    }

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT,
            version: "0.1.0".into(),
            stopped_at_ns: 1,
            control: Some(5),
            client: Some(6),
            ports: vec![port("tap0", vec![7]), port("tap1", vec![8])],
            rstp: Vec::new(),
            flows: Vec::new(),
            endpoints: vec![EndpointEntry {
                key: "vxlan:0.0.0.0:4789".into(),
                rx: 9,
                tx: Some(10),
            }],
        }
    }

    /// Whether fd `fd` of this process is close-on-exec (`O_CLOEXEC` is
    /// 02000000 in the octal `flags:` of /proc/self/fdinfo).
    fn cloexec(fd: RawFd) -> bool {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).expect("fdinfo");
        let flags = info
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .map(|f| u32::from_str_radix(f.trim(), 8).expect("octal flags"))
            .expect("flags line");
        flags & 0o2000000 != 0
    }

    #[test]
    fn manifest_round_trips_and_lists_every_fd() {
        let m = manifest();
        let text = serde_json::to_string(&m).unwrap();
        let back: Manifest = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
        let mut fds = m.fds();
        fds.sort_unstable();
        assert_eq!(fds, vec![5, 6, 7, 8, 9, 10]);
        assert_eq!(m.validate(), Ok(()));
    }

    #[test]
    fn validate_refuses_what_the_new_image_cannot_trust() {
        let mut m = manifest();
        m.format = FORMAT + 1;
        assert!(m.validate().unwrap_err().contains("handover format"));
        let mut m = manifest();
        m.ports[1].fds.fds = vec![7];
        assert_eq!(m.validate(), Err("fd 7 listed twice".into()));
        let mut m = manifest();
        m.client = Some(2);
        assert!(m.validate().unwrap_err().contains("fd 2"));
        let mut m = manifest();
        m.ports[1].name = "tap0".into();
        m.ports[1].fds.fds = vec![11];
        assert_eq!(m.validate(), Err("port tap0 listed twice".into()));
    }

    #[test]
    fn check_mode_wants_this_format_and_a_readable_db() {
        let dir = std::env::temp_dir().join(format!("switchd-handover-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("db.json");
        // A missing db is an empty configuration.
        assert_eq!(check_mode(&db, FORMAT), Ok(()));
        assert!(check_mode(&db, FORMAT + 1)
            .unwrap_err()
            .contains("handover format"));
        std::fs::write(&db, "{ not json").unwrap();
        assert!(check_mode(&db, FORMAT).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn adopt_takes_each_fd_and_makes_it_close_on_exec_again() {
        let a = std::fs::File::open("/dev/null").unwrap().into_raw_fd();
        let b = std::fs::File::open("/dev/null").unwrap().into_raw_fd();
        sys::set_cloexec(a, false).unwrap();
        assert!(!cloexec(a));
        let m = Manifest {
            format: FORMAT,
            ports: vec![port("tap0", vec![a])],
            control: Some(b),
            ..Manifest::default()
        };
        let mut got = Inherited::adopt(m).unwrap();
        assert!(cloexec(a));
        let handed = got.take_port("tap0", PortType::Tap).expect("tap0 handed over");
        assert_eq!(handed.fds[0].as_raw_fd(), a);
        assert!(got.take_port("tap0", PortType::Tap).is_none(), "taken twice");
        assert!(got.take_port("tap1", PortType::Tap).is_none());
        assert_eq!(got.control.as_ref().map(AsRawFd::as_raw_fd), Some(b));
        assert_eq!(got.unclaimed(), 0);
    }

    #[test]
    fn adopt_refuses_an_fd_that_is_not_open() {
        let m = Manifest {
            format: FORMAT,
            ports: vec![port("tap0", vec![1_000_000])],
            ..Manifest::default()
        };
        assert!(Inherited::adopt(m).unwrap_err().contains("fd 1000000"));
    }

    #[test]
    fn a_failed_exec_leaves_every_fd_close_on_exec() {
        let a = std::fs::File::open("/dev/null").unwrap();
        let m = Manifest {
            format: FORMAT,
            ports: vec![port("tap0", vec![a.as_raw_fd()])],
            ..Manifest::default()
        };
        let image = Image {
            exe: "/nonexistent/switchd".into(),
            args: Vec::new(),
        };
        let err = image.exec(&m);
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        assert!(
            cloexec(a.as_raw_fd()),
            "the fd was left to leak into the next exec"
        );
    }

    #[test]
    fn check_reports_the_new_binarys_own_words() {
        let image = Image {
            exe: "/bin/sh".into(),
            args: vec!["-c".into(), "echo 'cannot start: no libfoo' >&2; exit 3".into()],
        };
        let err = image.check().unwrap_err();
        assert!(
            err.contains("cannot start: no libfoo") && err.contains("exit status: 3"),
            "{err}"
        );
        let missing = Image {
            exe: "/nonexistent/switchd".into(),
            args: Vec::new(),
        };
        assert!(missing
            .check()
            .unwrap_err()
            .contains("cannot run /nonexistent/switchd"));
    }
}

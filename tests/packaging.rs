//! Packaging: `scripts/package-deb.sh` and `scripts/install.sh` on the
//! already-built debug binaries (a release build would be too slow for CI),
//! the two .deb files they make, installing them with dpkg into a private
//! root, the installed systemd unit (`systemd-analyze verify`), the
//! generated man pages and completions, and the installed switchd's
//! readiness notification (`READY=1` only once the control socket answers,
//! `STOPPING=1` after SIGTERM).
//!
//! Nothing touches the machine itself: dpkg works on `--root=DIR` with
//! `--force-script-chrootless`, so the maintainer scripts run with
//! `$DPKG_ROOT=DIR` and create the switchd user and the unit's enablement
//! links inside DIR; no unit is started. Each test builds its own packages
//! into its own temporary directory (about 2 s), so tests share nothing and
//! run in parallel.

mod common;
use common::*;

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The repository root (the suite's manifest directory).
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary directory removed on drop, also when the test fails.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("switchd-pkg-{}", unique(tag)));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Whether the tools of these tests are there (skips visibly, or fails in CI).
fn tools(test: &str) -> bool {
    require_root(test)
        && have_tool(test, "dpkg-deb", "dpkg")
        && have_tool(test, "systemd-analyze", "systemd")
        && have_tool(test, "groff", "groff-base")
}

/// Runs a command, panics with its output unless it succeeds, returns stdout.
fn ok(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The debug binaries' directory (`target/debug`).
fn bin_dir() -> PathBuf {
    bin("switchd").parent().expect("target/debug").to_path_buf()
}

/// `scripts/package-deb.sh` on the debug binaries into `out`: (switchd deb,
/// switchd-compat deb). gzip level 1: the tests need speed, not size.
fn build_debs(out: &Path) -> (PathBuf, PathBuf) {
    let printed = ok(Command::new(repo().join("scripts/package-deb.sh"))
        .arg("--bin-dir")
        .arg(bin_dir())
        .arg("--out")
        .arg(out)
        .args(["--compress", "gzip"]));
    let debs: Vec<PathBuf> = printed.lines().map(PathBuf::from).collect();
    assert_eq!(debs.len(), 2, "two packages expected, got {printed:?}");
    let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name(&debs[0]).starts_with("switchd_"), "{debs:?}");
    assert!(name(&debs[1]).starts_with("switchd-compat_"), "{debs:?}");
    (debs[0].clone(), debs[1].clone())
}

/// The commands `switchctl WORDS... --help` lists (without `help`) under
/// "Commands:" ("Tables:" for `set` and `clear`); none when it lists none.
fn commands_of(words: &[&str]) -> Vec<String> {
    let help = ok(Command::new(bin("switchctl")).args(words).arg("--help"));
    let mut lines = help
        .lines()
        .skip_while(|l| !matches!(*l, "Commands:" | "Tables:"))
        .skip(1);
    let mut commands = Vec::new();
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
        let word = line.split_whitespace().next().unwrap().to_owned();
        if word != "help" {
            commands.push(word);
        }
    }
    commands
}

/// The commands `switchctl --help` lists (without `help`).
fn switchctl_commands() -> Vec<String> {
    let commands = commands_of(&[]);
    assert!(
        commands.len() > 30,
        "cannot read the commands from switchctl --help: {commands:?}"
    );
    commands
}

/// The name of every man page of a switchctl command, nested ones too
/// (`set-port` for `switchctl set port`).
fn switchctl_pages() -> Vec<String> {
    let mut pages = Vec::new();
    for c in switchctl_commands() {
        for sub in commands_of(&[&c]) {
            pages.push(format!("{c}-{sub}"));
        }
        pages.push(c);
    }
    pages
}

/// Every file of the switchd package outside /usr/share/doc, with its mode:
/// what install.sh --prefix /usr lays out too.
fn expected_files() -> Vec<(String, u32)> {
    let mut files: Vec<(String, u32)> = [
        ("/usr/bin/switchd", 0o755),
        ("/usr/bin/switchctl", 0o755),
        ("/lib/systemd/system/switchd.service", 0o644),
        ("/usr/lib/sysusers.d/switchd.conf", 0o644),
        ("/etc/switchd/qemu-ifup", 0o755),
        ("/etc/switchd/qemu-ifdown", 0o755),
        ("/usr/share/bash-completion/completions/switchctl", 0o644),
        ("/usr/share/bash-completion/completions/switchd", 0o644),
        ("/usr/share/zsh/vendor-completions/_switchctl", 0o644),
        ("/usr/share/zsh/vendor-completions/_switchd", 0o644),
        ("/usr/share/fish/vendor_completions.d/switchctl.fish", 0o644),
        ("/usr/share/fish/vendor_completions.d/switchd.fish", 0o644),
        ("/usr/share/man/man8/switchd.8.gz", 0o644),
        ("/usr/share/man/man8/switchctl.8.gz", 0o644),
    ]
    .into_iter()
    .map(|(p, m)| (p.to_owned(), m))
    .collect();
    for c in switchctl_pages() {
        files.push((format!("/usr/share/man/man8/switchctl-{c}.8.gz"), 0o644));
    }
    files
}

/// One line of `dpkg-deb --contents`: mode string, path (without the
/// leading "."), link target.
fn contents(deb: &Path) -> Vec<(String, String, Option<String>)> {
    let text = ok(Command::new("dpkg-deb").arg("--contents").arg(deb));
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f[1], "root/root", "not root-owned: {l}");
            let path = f[5].trim_start_matches('.').to_owned();
            let target = (f.len() > 7 && f[6] == "->").then(|| f[7].to_owned());
            (f[0].to_owned(), path, target)
        })
        .collect()
}

/// `rwxr-xr-x`-style mode of a permission bits value (for comparing with
/// dpkg-deb's listing).
fn mode_string(mode: u32) -> String {
    let mut s = String::new();
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

/// An empty dpkg database under `root`, so `dpkg --root` can install there.
fn prepare_root(root: &Path) {
    let admin = root.join("var/lib/dpkg");
    for d in ["info", "updates", "triggers"] {
        fs::create_dir_all(admin.join(d)).unwrap();
    }
    fs::write(admin.join("status"), "").unwrap();
    fs::write(admin.join("available"), "").unwrap();
    fs::create_dir_all(root.join("var/log")).unwrap();
}

/// `dpkg --root=ROOT ARGS...`: the maintainer scripts run on the host's
/// tools with `$DPKG_ROOT=ROOT` (--force-script-chrootless: ROOT has no
/// shell to chroot into), the log goes into ROOT, and the packages' Depends
/// (libc6, ...), which ROOT's empty database lacks, are not checked.
fn dpkg_root(root: &Path, args: &[&str]) -> String {
    ok(Command::new("dpkg")
        .arg(format!("--root={}", root.display()))
        .arg(format!("--log={}", root.join("var/log/dpkg.log").display()))
        .args(["--force-script-chrootless", "--force-depends"])
        .args(args))
}

/// `systemd-analyze verify` of `unit` with ExecStart pointing at `switchd`
/// (verify checks that the binary exists; the unit names /usr/bin/switchd).
/// `man` pages are looked up in `manpath`. Returns what it printed.
fn verify_unit(unit: &Path, switchd: &Path, manpath: &Path, dir: &Path) -> String {
    let text = fs::read_to_string(unit).unwrap();
    let exec = text
        .lines()
        .find(|l| l.starts_with("ExecStart="))
        .expect("an ExecStart line");
    let binary = exec["ExecStart=".len()..].split_whitespace().next().unwrap();
    let copy = dir.join("switchd.service");
    fs::write(
        &copy,
        text.replace(
            &format!("ExecStart={binary}"),
            &format!("ExecStart={}", switchd.display()),
        ),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .env("MANPATH", manpath)
        .stdin(Stdio::null())
        .output()
        .expect("run systemd-analyze");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "systemd-analyze verify failed:\n{said}\nunit:\n{text}"
    );
    said
}

/// Checks a man page with groff: no warnings. `break` warnings ("cannot
/// adjust line": a long word in a filled line) are layout, not errors.
fn check_roff(page: &Path) {
    let roff = if page.extension().is_some_and(|e| e == "gz") {
        ok(Command::new("gzip").arg("-dc").arg(page))
    } else {
        fs::read_to_string(page).unwrap()
    };
    let mut child = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-Wbreak", "-z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run groff");
    child.stdin.take().unwrap().write_all(roff.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && warnings.is_empty(),
        "{}: groff says:\n{warnings}",
        page.display()
    );
}

#[test]
fn debs_hold_every_file_with_its_mode() {
    if !tools("debs_hold_every_file_with_its_mode") {
        return;
    }
    let dir = TempDir::new("deb");
    let (main, compat) = build_debs(&dir.0);

    let info = ok(Command::new("dpkg-deb").arg("--info").arg(&main));
    for want in [
        "Package: switchd\n",
        "Section: net\n",
        "Priority: optional\n",
        "Depends: libc6",
        "Description: ",
        "postinst",
        "prerm",
        "postrm",
        "conffiles",
    ] {
        assert!(info.contains(want), "{want:?} not in dpkg-deb --info:\n{info}");
    }
    let version = ok(Command::new(bin("switchctl")).arg("--version"));
    let version = version.split_whitespace().nth(1).unwrap();
    assert!(info.contains(&format!("Version: {version}\n")), "{info}");
    // The control files themselves: the qemu scripts are conffiles, the
    // maintainer scripts executable.
    let control = dir.0.join("control");
    ok(Command::new("dpkg-deb").arg("--control").arg(&main).arg(&control));
    assert_eq!(
        fs::read_to_string(control.join("conffiles")).unwrap(),
        "/etc/switchd/qemu-ifup\n/etc/switchd/qemu-ifdown\n"
    );
    for script in ["postinst", "prerm", "postrm"] {
        let mode = fs::metadata(control.join(script)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{script}");
    }

    let files = contents(&main);
    let by_path: std::collections::HashMap<_, _> =
        files.iter().map(|(m, p, _)| (p.clone(), m.clone())).collect();
    for (path, mode) in expected_files().into_iter().chain([
        ("/usr/share/doc/switchd/copyright".to_owned(), 0o644),
        ("/usr/share/doc/switchd/changelog.Debian.gz".to_owned(), 0o644),
    ]) {
        let got = by_path
            .get(&path)
            .unwrap_or_else(|| panic!("{path} is not in the package"));
        assert_eq!(&got[1..], mode_string(mode), "mode of {path}");
        assert!(got.starts_with('-'), "{path} is not a regular file: {got}");
    }
    // Only what is expected (no stray file from the staging area).
    let expected: BTreeSet<String> = expected_files().into_iter().map(|(p, _)| p).collect();
    for (mode, path, _) in &files {
        if mode.starts_with('-') && !path.starts_with("/usr/share/doc/") {
            assert!(expected.contains(path), "unexpected file {path} in the package");
        }
    }

    let info = ok(Command::new("dpkg-deb").arg("--info").arg(&compat));
    for want in [
        "Package: switchd-compat\n",
        &format!("Depends: switchd (= {version})\n"),
        "Conflicts: openvswitch-switch, bridge-utils\n",
        "Replaces: openvswitch-switch, bridge-utils\n",
    ] {
        assert!(info.contains(want), "{want:?} not in:\n{info}");
    }
    let links: Vec<_> = contents(&compat)
        .into_iter()
        .filter(|(m, _, _)| m.starts_with('l'))
        .collect();
    assert_eq!(
        links
            .iter()
            .map(|(_, p, t)| (p.as_str(), t.as_deref().unwrap()))
            .collect::<Vec<_>>(),
        [
            ("/usr/bin/ovs-vsctl", "switchctl"),
            ("/usr/sbin/brctl", "../bin/switchctl")
        ]
    );
}

#[test]
fn debs_install_into_a_private_root_and_work_there() {
    if !tools("debs_install_into_a_private_root_and_work_there") {
        return;
    }
    let dir = TempDir::new("root");
    let (main, compat) = build_debs(&dir.0);
    let root = dir.0.join("root");
    prepare_root(&root);
    // What the host has before, to show that installing into ROOT leaves it alone.
    let host_link = Path::new("/etc/systemd/system/multi-user.target.wants/switchd.service");
    let host_had_link = host_link.exists();

    dpkg_root(&root, &["-i", main.to_str().unwrap()]);
    dpkg_root(&root, &["-i", compat.to_str().unwrap()]);
    assert_eq!(
        host_link.exists(),
        host_had_link,
        "dpkg --root touched the host's units"
    );

    // The maintainer scripts ran inside ROOT: the unit is enabled there, and
    // the user exists there (when systemd-sysusers can make it).
    let wants = root.join("etc/systemd/system/multi-user.target.wants/switchd.service");
    assert_eq!(
        fs::read_link(&wants).expect("postinst enabled the unit in ROOT"),
        Path::new("/lib/systemd/system/switchd.service")
    );
    if Command::new("systemd-sysusers")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let passwd = fs::read_to_string(root.join("etc/passwd")).unwrap();
        assert!(passwd.lines().any(|l| l.starts_with("switchd:")), "{passwd}");
    }
    let status = dpkg_root(&root, &["-l", "switchd", "switchd-compat"]);
    assert_eq!(
        status.lines().filter(|l| l.starts_with("ii ")).count(),
        2,
        "{status}"
    );

    let usr_bin = root.join("usr/bin");
    let version = ok(Command::new(usr_bin.join("switchctl")).arg("--version"));
    assert!(version.starts_with("switchctl "), "{version}");
    let help = ok(Command::new(usr_bin.join("switchd")).arg("--help"));
    assert!(
        help.contains("--socket-group") && !help.contains("--generate-man"),
        "{help}"
    );
    // The compat links reach switchctl.
    for link in ["usr/bin/ovs-vsctl", "usr/sbin/brctl"] {
        let target = fs::canonicalize(root.join(link)).unwrap();
        assert_eq!(
            target,
            fs::canonicalize(usr_bin.join("switchctl")).unwrap(),
            "{link}"
        );
    }

    // The installed unit: what it says, and what systemd-analyze makes of it
    // (with the man pages of Documentation= looked up in ROOT).
    let unit = root.join("lib/systemd/system/switchd.service");
    let text = fs::read_to_string(&unit).unwrap();
    for want in [
        "Type=notify",
        "ExecStart=/usr/bin/switchd --socket /run/switchd/switchd.sock --db /var/lib/switchd/config.json",
        "RuntimeDirectory=switchd",
        "StateDirectory=switchd",
        "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW",
        "DeviceAllow=/dev/net/tun rw",
        "WantedBy=multi-user.target",
    ] {
        assert!(text.contains(want), "{want:?} not in the unit:\n{text}");
    }
    let said = verify_unit(
        &unit,
        &usr_bin.join("switchd"),
        &root.join("usr/share/man"),
        &dir.0,
    );
    assert!(said.trim().is_empty(), "systemd-analyze verify warned:\n{said}");

    // Man pages: valid roff, one per command, and the top page lists them.
    let man8 = root.join("usr/share/man/man8");
    for entry in fs::read_dir(&man8).unwrap() {
        check_roff(&entry.unwrap().path());
    }
    let top = ok(Command::new("gzip").arg("-dc").arg(man8.join("switchctl.8.gz")));
    let bash = fs::read_to_string(root.join("usr/share/bash-completion/completions/switchctl")).unwrap();
    for c in switchctl_commands() {
        assert!(
            top.contains(&c.replace('-', "\\-")),
            "switchctl.8 does not mention {c}"
        );
        assert!(
            man8.join(format!("switchctl-{c}.8.gz")).is_file(),
            "no page for {c}"
        );
        assert!(bash.contains(&c), "the bash completion does not know {c}");
    }
    assert!(bash.contains("add-meter") && bash.contains("dump-meters"));
    let daemon_page = ok(Command::new("gzip").arg("-dc").arg(man8.join("switchd.8.gz")));
    assert!(daemon_page.contains("socket\\-group") && daemon_page.contains("NOTIFY_SOCKET"));

    // Purge: everything of the packages goes, the host is still untouched.
    dpkg_root(&root, &["--purge", "switchd-compat", "switchd"]);
    for gone in [
        "usr/bin/switchd",
        "usr/bin/switchctl",
        "usr/sbin/brctl",
        "etc/switchd/qemu-ifup",
    ] {
        assert!(!root.join(gone).exists(), "{gone} is still there after purge");
    }
    assert!(!wants.exists(), "purge left the enablement link");
    assert_eq!(host_link.exists(), host_had_link);
}

/// A daemon started by a test, stopped (SIGTERM, then SIGKILL) on drop, so
/// that a failed check does not leave it running.
struct Running(Option<std::process::Child>);

impl Running {
    /// Stops it now and returns its exit status.
    fn stop(&mut self) -> std::process::ExitStatus {
        stop_daemon(self.0.take().expect("running"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            let _ = stop_daemon(child);
        }
    }
}

/// Receives one notification within `limit`, or `None`.
fn recv_notification(sock: &UnixDatagram, limit: Duration) -> Option<String> {
    sock.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Runs `switchd` with `NOTIFY_SOCKET=notify_env`, receiving on `sock`, and
/// checks that READY=1 arrives only once the control socket answers, and
/// STOPPING=1 after SIGTERM.
///
/// The daemon runs in the test's own network namespace, as under systemd:
/// an abstract socket name is reachable only within one namespace. That
/// touches nothing: its one bridge has no ports, and a bridge alone creates
/// no kernel device.
fn check_readiness(switchd: &Path, switchctl: &Path, dir: &Path, sock: &UnixDatagram, notify_env: &str) {
    let socket = dir.join("switchd.sock");
    let db = dir.join("config.json");
    // A stored bridge, so that READY=1 has something to have restored.
    fs::write(
        &db,
        r#"{"version":1,"bridges":[{"name":"br0","mac_aging":300,"mac_table_size":8192}]}"#,
    )
    .unwrap();
    let log = dir.join("switchd.log");
    let mut daemon = Running(Some(
        Command::new(switchd)
            .arg("--socket")
            .arg(&socket)
            .arg("--db")
            .arg(&db)
            .args(["--log-level", "debug"])
            .env("NOTIFY_SOCKET", notify_env)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::options().append(true).open(&log).unwrap())
            .spawn()
            .expect("spawn the installed switchd"),
    ));
    let ready = recv_notification(sock, Duration::from_secs(10));
    // At the moment READY=1 is read, the socket must answer already.
    let answered = UnixStream::connect(&socket).is_ok();
    let list = Command::new(switchctl)
        .arg("--socket")
        .arg(&socket)
        .arg("list-br")
        .output()
        .unwrap();
    let log_text = || fs::read_to_string(&log).unwrap_or_default();
    let Some(ready) = ready else {
        panic!("no READY=1 within 10 s; log:\n{}", log_text());
    };
    assert!(ready.starts_with("READY=1\n"), "{ready:?}");
    assert!(ready.contains("STATUS=1 bridge, 0 ports restored"), "{ready:?}");
    assert!(
        answered,
        "READY=1 came before the control socket accepted connections"
    );
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "br0\n",
        "list-br right after READY=1"
    );

    let status = daemon.stop();
    assert!(
        status.success(),
        "switchd exited with {status}; log:\n{}",
        log_text()
    );
    let stopping = recv_notification(sock, Duration::from_secs(5)).expect("STOPPING=1 after SIGTERM");
    assert!(stopping.starts_with("STOPPING=1\n"), "{stopping:?}");
    assert!(!socket.exists(), "the control socket outlived switchd");
}

#[test]
fn installed_switchd_notifies_systemd_when_ready_and_when_stopping() {
    if !tools("installed_switchd_notifies_systemd_when_ready_and_when_stopping") {
        return;
    }
    let dir = TempDir::new("ready");
    let (main, _) = build_debs(&dir.0);
    let root = dir.0.join("root");
    prepare_root(&root);
    dpkg_root(&root, &["-i", main.to_str().unwrap()]);
    let switchd = root.join("usr/bin/switchd");
    let switchctl = root.join("usr/bin/switchctl");

    // $NOTIFY_SOCKET as a path.
    let path = dir.0.join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    check_readiness(&switchd, &switchctl, &dir.0, &sock, path.to_str().unwrap());

    // $NOTIFY_SOCKET as an abstract name, as systemd gives it for some units.
    use std::os::linux::net::SocketAddrExt;
    let name = format!("switchd-test-notify-{}", unique("n"));
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let sock = UnixDatagram::bind_addr(&addr).unwrap();
    check_readiness(&switchd, &switchctl, &dir.0, &sock, &format!("@{name}"));
}

/// Every file and link under `root`, as "/path" (regular files with their
/// mode) — what install.sh laid out.
fn tree(root: &Path) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let meta = fs::symlink_metadata(e.path()).unwrap();
            let rel = format!("/{}", e.path().strip_prefix(root).unwrap().display());
            if meta.is_dir() {
                todo.push(e.path());
            } else if meta.file_type().is_symlink() {
                out.insert((rel, format!("-> {}", fs::read_link(e.path()).unwrap().display())));
            } else {
                out.insert((rel, mode_string(meta.permissions().mode() & 0o777)));
            }
        }
    }
    out
}

#[test]
fn install_sh_lays_out_what_the_packages_hold_and_uninstalls_it() {
    if !tools("install_sh_lays_out_what_the_packages_hold_and_uninstalls_it") {
        return;
    }
    let dir = TempDir::new("inst");
    let (main, compat) = build_debs(&dir.0.join("debs"));
    let dest = dir.0.join("dest");
    let install = |extra: &[&str]| {
        ok(Command::new(repo().join("scripts/install.sh"))
            .arg("--destdir")
            .arg(&dest)
            .arg("--bin-dir")
            .arg(bin_dir())
            .args(extra))
    };
    install(&["--prefix", "/usr", "--compat"]);

    // The packages' files (less their docs), with modes and link targets.
    let mut from_debs = BTreeSet::new();
    for deb in [&main, &compat] {
        for (mode, path, target) in contents(deb) {
            if path.starts_with("/usr/share/doc/") || mode.starts_with('d') {
                continue;
            }
            match target {
                Some(t) => from_debs.insert((path, format!("-> {t}"))),
                None => from_debs.insert((path, mode[1..].to_owned())),
            };
        }
    }
    assert_eq!(
        tree(&dest),
        from_debs,
        "install.sh --prefix /usr --compat and the packages differ"
    );
    for (path, mode) in expected_files() {
        assert!(from_debs.contains(&(path.clone(), mode_string(mode))), "{path}");
    }

    // An edited qemu script survives a reinstall, the new one goes beside it.
    let ifup = dest.join("etc/switchd/qemu-ifup");
    fs::write(&ifup, "#!/bin/sh\n# edited\n").unwrap();
    install(&["--prefix", "/usr", "--compat"]);
    assert_eq!(fs::read_to_string(&ifup).unwrap(), "#!/bin/sh\n# edited\n");
    assert!(dest.join("etc/switchd/qemu-ifup.dist").is_file());

    // --uninstall removes everything but the edited script.
    install(&["--prefix", "/usr", "--compat", "--uninstall"]);
    let left = tree(&dest);
    assert_eq!(
        left.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["/etc/switchd/qemu-ifup"],
        "left after --uninstall: {left:?}"
    );
    fs::remove_dir_all(&dest).unwrap();

    // The default prefix: everything under /usr/local, the unit where
    // systemd looks for local units, ExecStart pointing there; it verifies.
    install(&[]);
    let unit = dest.join("usr/local/lib/systemd/system/switchd.service");
    let text = fs::read_to_string(&unit).expect("unit under /usr/local/lib/systemd/system");
    assert!(
        text.contains("\nExecStart=/usr/local/bin/switchd --socket"),
        "{text}"
    );
    for f in [
        "usr/local/bin/switchd",
        "usr/local/bin/switchctl",
        "usr/local/lib/sysusers.d/switchd.conf",
        "usr/local/share/zsh/site-functions/_switchctl",
        "usr/local/share/man/man8/switchctl-add-meter.8.gz",
        "etc/switchd/qemu-ifup",
    ] {
        assert!(dest.join(f).is_file(), "{f} missing");
    }
    let said = verify_unit(
        &unit,
        &dest.join("usr/local/bin/switchd"),
        &dest.join("usr/local/share/man"),
        &dir.0,
    );
    assert!(said.trim().is_empty(), "systemd-analyze verify warned:\n{said}");
}

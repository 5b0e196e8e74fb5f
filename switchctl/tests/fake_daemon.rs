//! Runs the real `switchctl` binary against a fake `switchd`: a Unix listener
//! in a temporary directory that reads one request with `proto::codec` and
//! answers as each test scripts it (a reply, silence, or a hang-up). Checks
//! exit status, stdout and the one-line stderr contract of SPEC §5, timeouts,
//! `--json` and `SWITCHD_SOCKET`. No root, no daemon needed.

use std::io::{BufReader, ErrorKind};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use proto::codec;
use proto::{
    BridgeInfo, FdbEntry, IfName, MacAddr, PortConfig, PortInfo, PortState, PortType, Reply, Request,
    VlanMode,
};

const BIN: &str = env!("CARGO_BIN_EXE_switchctl");

/// What the fake daemon does with the one request it reads.
enum Behaviour {
    Answer(Result<Reply, proto::Error>),
    /// Read the request, never answer, keep the connection open.
    Silent,
    /// Read the request and hang up.
    HangUp,
}

struct Run {
    output: Output,
    /// The request the fake daemon decoded, if a client connected.
    request: Option<Request>,
    elapsed: Duration,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
    fn stdout(&self) -> String {
        String::from_utf8(self.output.stdout.clone()).unwrap()
    }
    fn stderr(&self) -> String {
        String::from_utf8(self.output.stderr.clone()).unwrap()
    }
}

fn switchctl(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove(proto::SOCKET_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `cmd` while serving one connection on `path` as `behaviour` says.
fn run_against(path: &Path, mut cmd: Command, behaviour: Behaviour) -> Run {
    let listener = UnixListener::bind(path).unwrap();
    listener.set_nonblocking(true).unwrap();
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut request = None;
    let mut held = None;
    loop {
        match listener.accept() {
            Ok((conn, _)) => {
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut line = Vec::new();
                assert!(codec::read_line(&mut r, &mut line, codec::MAX_REQUEST_LEN).unwrap());
                request = Some(codec::decode_request(&line).unwrap());
                match behaviour {
                    Behaviour::Answer(reply) => {
                        let mut w = conn;
                        codec::write_reply(&mut w, &reply).unwrap();
                    }
                    Behaviour::Silent => held = Some(conn),
                    Behaviour::HangUp => drop(conn),
                }
                break;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if start.elapsed() > Duration::from_secs(30) {
                    let _ = child.kill();
                    panic!("switchctl neither connected nor exited within 30 s");
                }
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
    let output = child.wait_with_output().unwrap();
    let elapsed = start.elapsed();
    drop(held);
    Run {
        output,
        request,
        elapsed,
    }
}

fn serve(args: &[&str], behaviour: Behaviour) -> (Run, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchd.sock");
    let mut full = vec!["--socket", path.to_str().unwrap()];
    full.extend_from_slice(args);
    let run = run_against(&path, switchctl(&full), behaviour);
    (run, path)
}

fn name(s: &str) -> IfName {
    s.parse().unwrap()
}

fn assert_one_error_line(run: &Run, expected: &str) {
    assert_eq!(run.code(), Some(1), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "", "nothing on stdout on failure");
    assert_eq!(run.stderr(), format!("switchctl: {expected}\n"));
}

#[test]
fn success_prints_reply_and_exits_0() {
    let (run, _) = serve(
        &["list-br"],
        Behaviour::Answer(Ok(Reply::Names(vec!["br0".into(), "br1".into()]))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "br0\nbr1\n");
    assert_eq!(run.stderr(), "");
    assert_eq!(run.request, Some(Request::ListBr));
}

#[test]
fn change_sends_parsed_request_and_prints_nothing() {
    let (run, _) = serve(
        &["add-port", "br0", "vnet0", "type=tap", "tag=10", "--may-exist"],
        Behaviour::Answer(Ok(Reply::Done)),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "");
    assert_eq!(run.stderr(), "");
    assert_eq!(
        run.request,
        Some(Request::AddPort {
            bridge: name("br0"),
            port: name("vnet0"),
            settings: vec!["type=tap".parse().unwrap(), "tag=10".parse().unwrap()],
            may_exist: true,
        })
    );
}

#[test]
fn fdb_show_prints_table() {
    let entry = |port: &str, vlan, age| FdbEntry {
        port: port.into(),
        vlan,
        mac: MacAddr([2, 0, 0, 0, 0, 1]),
        age,
    };
    let (run, _) = serve(
        &["fdb-show", "br0"],
        Behaviour::Answer(Ok(Reply::Fdb(vec![entry("vnet0", 10, 42), entry("eth1", 0, 3)]))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(
        run.stdout(),
        "PORT   VLAN  MAC                AGE\n\
         vnet0    10  02:00:00:00:00:01   42\n\
         eth1      0  02:00:00:00:00:01    3\n"
    );
    assert_eq!(run.request, Some(Request::FdbShow { bridge: name("br0") }));
}

#[test]
fn error_reply_is_one_stderr_line_and_exit_1() {
    let err = || proto::Error::new(proto::ErrorKind::NoSuchBridge, "no bridge named \"br9\"");
    let (run, _) = serve(&["del-br", "br9"], Behaviour::Answer(Err(err())));
    assert_one_error_line(&run, "no bridge named \"br9\"");
    // --json changes nothing on failure: stdout stays empty
    let (run, _) = serve(&["--json", "list-ports", "br9"], Behaviour::Answer(Err(err())));
    assert_one_error_line(&run, "no bridge named \"br9\"");
    // a daemon message spanning lines is still printed as one line
    let (run, _) = serve(
        &["show"],
        Behaviour::Answer(Err(proto::Error::new(
            proto::ErrorKind::Internal,
            "first\nsecond",
        ))),
    );
    assert_one_error_line(&run, "first second");
}

#[test]
fn missing_socket_names_path_and_hints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.sock");
    let out = switchctl(&["--socket", path.to_str().unwrap(), "list-br"])
        .output()
        .unwrap();
    let run = Run {
        output: out,
        request: None,
        elapsed: Duration::ZERO,
    };
    assert_one_error_line(
        &run,
        &format!(
            "cannot connect to switchd at {}: No such file or directory (is switchd running?)",
            path.display()
        ),
    );
}

#[test]
fn connection_refused_when_nobody_listens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stale.sock");
    // a socket file left behind by a daemon that is gone
    drop(UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let out = switchctl(&["--socket", path.to_str().unwrap(), "show"])
        .output()
        .unwrap();
    let run = Run {
        output: out,
        request: None,
        elapsed: Duration::ZERO,
    };
    assert_one_error_line(
        &run,
        &format!(
            "cannot connect to switchd at {}: Connection refused (is switchd running?)",
            path.display()
        ),
    );
}

#[test]
fn timeout_when_daemon_never_answers() {
    let (run, _) = serve(&["--timeout", "1", "show"], Behaviour::Silent);
    assert_one_error_line(&run, "no reply from switchd within 1 s");
    assert_eq!(run.request, Some(Request::Show), "the request was sent");
    assert!(
        run.elapsed >= Duration::from_millis(900) && run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn hang_up_without_reply_is_an_error() {
    let (run, _) = serve(&["list-br"], Behaviour::HangUp);
    assert_one_error_line(&run, "switchd closed the connection without replying");
}

#[test]
fn json_output_shapes() {
    let (run, _) = serve(&["--json", "add-br", "br0"], Behaviour::Answer(Ok(Reply::Done)));
    assert_eq!(run.code(), Some(0));
    assert_eq!(run.stdout(), "{}\n");

    let (run, _) = serve(
        &["list-br", "--json"],
        Behaviour::Answer(Ok(Reply::Names(vec!["br0".into()]))),
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(v, serde_json::json!(["br0"]));

    let (run, _) = serve(
        &["--json", "fdb-flush"],
        Behaviour::Answer(Ok(Reply::Flushed { removed: 3 })),
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(v, serde_json::json!({"removed": 3}));
    assert_eq!(run.request, Some(Request::FdbFlush { bridge: None }));

    let config = PortConfig {
        port_type: PortType::Tap,
        tag: Some("10".parse().unwrap()),
        ..Default::default()
    };
    let show = vec![BridgeInfo {
        name: "br0".into(),
        mac_aging: 300,
        mac_table_size: 8192,
        mac_entries: 1,
        ports: vec![PortInfo {
            name: "vnet0".into(),
            port_type: PortType::Tap,
            config,
            vlan_mode: VlanMode::Access,
            state: PortState::Down {
                reason: "no such device".into(),
            },
            mtu: None,
        }],
    }];
    let (run, _) = serve(
        &["show", "--json"],
        Behaviour::Answer(Ok(Reply::Show(show.clone()))),
    );
    assert_eq!(run.code(), Some(0));
    // exactly proto's structures, so they decode back
    let back: Vec<BridgeInfo> = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(back, show);
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(v[0]["ports"][0]["state"]["reason"], "no such device");
}

#[test]
fn switchd_socket_env_is_honoured_and_socket_flag_wins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env.sock");
    let mut cmd = switchctl(&["list-br"]);
    cmd.env(proto::SOCKET_ENV, &path);
    let run = run_against(&path, cmd, Behaviour::Answer(Ok(Reply::Names(vec!["x".into()]))));
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "x\n");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flag.sock");
    let mut cmd = switchctl(&["--socket", path.to_str().unwrap(), "list-br"]);
    cmd.env(proto::SOCKET_ENV, dir.path().join("elsewhere.sock"));
    let run = run_against(&path, cmd, Behaviour::Answer(Ok(Reply::Names(vec!["y".into()]))));
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "y\n");
}

#[test]
fn bad_input_is_refused_before_connecting() {
    for (args, reason) in [
        (
            &["set", "port", "p1", "tag=5000"][..],
            "tag: VLAN id 5000 is out of range 0-4095",
        ),
        (
            &["add-br", "a234567890123456"],
            "name \"a234567890123456\" is 16 bytes long, the limit is 15",
        ),
        (
            &["set", "interface", "p1", "tag=1"],
            "unknown table \"interface\" for 'set' (known: port, bridge)",
        ),
    ] {
        let (run, _) = serve(args, Behaviour::Answer(Ok(Reply::Done)));
        assert_eq!(run.code(), Some(2), "{args:?}: {}", run.stderr());
        assert!(run.stderr().contains(reason), "{args:?}: {}", run.stderr());
        assert_eq!(run.stdout(), "");
        assert_eq!(run.request, None, "{args:?} reached the daemon");
    }
}

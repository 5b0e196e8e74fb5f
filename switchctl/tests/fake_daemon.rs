//! Runs the real `switchctl` binary against a fake `switchd`: a Unix listener
//! in a temporary directory that reads one request with `proto::codec` and
//! answers as each test scripts it (a reply, silence, or a hang-up). Checks
//! exit status, stdout and the one-line stderr contract of SPEC §5, timeouts,
//! `--json` and `SWITCHD_SOCKET`. No root, no daemon needed.

use std::fs::File;
use std::io::{BufReader, ErrorKind};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use proto::codec;
use proto::{
    BondInfo, BondMemberInfo, BondMode, BondShowInfo, BridgeControllers, BridgeInfo, BridgeSetting,
    ControllerInfo, ControllerRole, ControllerState, ControllerTarget, ControllersInfo, DatapathId, FailMode,
    FdbEntry, FlowInfo, FlowsInfo, IfName, LacpBondInfo, LacpMemberInfo, LacpMode, LacpShowInfo, LacpState,
    LacpStatus, LacpSystem, LacpTime, MacAddr, OfVersion, OfVersions, PortConfig, PortInfo, PortSetting,
    PortState, PortType, Reply, Request, RstpBridgeConfig, RstpBridgeInfo, RstpInfo, RstpPortId,
    RstpPortInfo, RstpProtocol, RstpRole, RstpState, VlanMode,
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
            missing_ok: false,
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
        sflow: vec![],
        ipfix: vec![],
        external_ids: Default::default(),
        name: "br0".into(),
        mac: MacAddr([2, 0, 0, 0, 0, 1]),
        mac_aging: 300,
        mac_table_size: 8192,
        mac_entries: 1,
        rstp: RstpBridgeConfig {
            enabled: true,
            ..Default::default()
        },
        fail_mode: FailMode::Secure,
        protocols: OfVersions::default(),
        datapath_id: Some(DatapathId::from_mac(MacAddr([2, 0, 0, 0, 0, 1]))),
        controllers: controllers_sample().bridges[0].controllers.clone(),
        ports: vec![PortInfo {
            name: "vnet0".into(),
            ofport: Some(4),
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
    assert_eq!(v[0]["mac"], "02:00:00:00:00:01");
    assert_eq!(v[0]["rstp"], true);
    assert_eq!(v[0]["rstp_priority"], 32768);
    assert_eq!(v[0]["ports"][0]["ofport"], 4);
    assert_eq!(v[0]["fail_mode"], "secure");
    assert_eq!(v[0]["datapath_id"], "0000020000000001");
    assert_eq!(v[0]["protocols"], serde_json::json!(["OpenFlow13", "OpenFlow10"]));
    assert_eq!(v[0]["controllers"][0]["target"], "tcp:127.0.0.1:6653");
    assert_eq!(v[0]["controllers"][0]["state"], "connected");
    // and the text has it next to the name
    let (run, _) = serve(&["show"], Behaviour::Answer(Ok(Reply::Show(show))));
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert!(
        run.stdout()
            .contains("\n  PORT   OFPORT  TYPE  VLAN           MTU  STATE")
            && run
                .stdout()
                .contains("\n  vnet0       4  tap   access tag=10    -  down (no such device)\n"),
        "{}",
        run.stdout()
    );
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

/// One bridge, not the root, reaching it through p1; p2 blocked.
fn rstp_sample() -> RstpInfo {
    let id = |s: &str| s.parse().unwrap();
    let port = |name: &str, role, state, n, designated: &str, rx, tx| RstpPortInfo {
        port: name.into(),
        role,
        state,
        path_cost: 20000,
        port_id: RstpPortId::new(128, n),
        designated_bridge: id(designated),
        edge: false,
        rx_bpdus: rx,
        tx_bpdus: tx,
        protocol: RstpProtocol::Rstp,
    };
    RstpInfo {
        bridges: vec![RstpBridgeInfo {
            bridge: "br0".into(),
            bridge_id: id("8000.020000000002"),
            root_id: id("1000.020000000001"),
            root_port: Some("p1".into()),
            root_path_cost: 20000,
            topology_changes: 1,
            ports: vec![
                port(
                    "p1",
                    RstpRole::Root,
                    RstpState::Forwarding,
                    1,
                    "1000.020000000001",
                    50,
                    2,
                ),
                port(
                    "p2",
                    RstpRole::Alternate,
                    RstpState::Discarding,
                    2,
                    "1000.020000000001",
                    49,
                    1,
                ),
            ],
            fdb_flushes: 1,
        }],
    }
}

#[test]
fn rstp_show_prints_ovs_like_text() {
    let (run, _) = serve(
        &["rstp-show", "br0"],
        Behaviour::Answer(Ok(Reply::Rstp(rstp_sample()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stderr(), "");
    assert_eq!(
        run.request,
        Some(Request::RstpShow {
            bridge: Some(name("br0"))
        })
    );
    assert_eq!(
        run.stdout(),
        "\
---- br0 ----
Root ID:
  root-id           1000.020000000001
  stp-priority      4096
  stp-system-id     02:00:00:00:00:01
  root-port         p1
  root-path-cost    20000

Bridge ID:
  bridge-id         8000.020000000002
  stp-priority      32768
  stp-system-id     02:00:00:00:00:02
  topology-changes  1
  fdb-flushes       1

  Interface  Role       State        Cost  Pri.Nbr  Designated-Bridge  Edge  Rx-BPDUs  Tx-BPDUs  Protocol
  ---------  ---------  ----------  -----  -------  -----------------  ----  --------  --------  --------
  p1         Root       Forwarding  20000  128.1    1000.020000000001  no          50         2  RSTP
  p2         Alternate  Discarding  20000  128.2    1000.020000000001  no          49         1  RSTP
"
    );
}

#[test]
fn rstp_show_json_is_the_spec_object() {
    let (run, _) = serve(
        &["--json", "rstp-show"],
        Behaviour::Answer(Ok(Reply::Rstp(rstp_sample()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.request, Some(Request::RstpShow { bridge: None }));
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let port = |p: &str, role: &str, state: &str, pid: &str, rx: u64, tx: u64| {
        serde_json::json!({
            "port": p, "role": role, "state": state, "path_cost": 20000, "port_id": pid,
            "designated_bridge": "1000.020000000001", "edge": false,
            "rx_bpdus": rx, "tx_bpdus": tx, "protocol": "rstp",
        })
    };
    assert_eq!(
        v,
        serde_json::json!({"bridges": [{
            "bridge": "br0",
            "bridge_id": "8000.020000000002",
            "root_id": "1000.020000000001",
            "root_port": "p1",
            "root_path_cost": 20000,
            "topology_changes": 1,
            "ports": [
                port("p1", "root", "forwarding", "8001", 50, 2),
                port("p2", "alternate", "discarding", "8002", 49, 1),
            ],
            "fdb_flushes": 1,
        }]})
    );
    // no bridge runs RSTP: still the object, with an empty list
    let (run, _) = serve(
        &["rstp-show", "--json"],
        Behaviour::Answer(Ok(Reply::Rstp(RstpInfo::default()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(v, serde_json::json!({"bridges": []}));
    // and the text of that is empty, as `ovs-appctl rstp/show`
    let (run, _) = serve(
        &["rstp-show"],
        Behaviour::Answer(Ok(Reply::Rstp(RstpInfo::default()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "");
}

#[test]
fn rstp_show_refusal_is_one_line() {
    let (run, _) = serve(
        &["rstp-show", "br0"],
        Behaviour::Answer(Err(proto::Error::new(
            proto::ErrorKind::InvalidArgument,
            "bridge \"br0\" does not run RSTP (switchctl set bridge br0 rstp=true)",
        ))),
    );
    assert_one_error_line(
        &run,
        "bridge \"br0\" does not run RSTP (switchctl set bridge br0 rstp=true)",
    );
}

#[test]
fn rstp_keys_are_sent_parsed() {
    let (run, _) = serve(
        &[
            "set",
            "bridge",
            "br0",
            "rstp=true",
            "rstp_priority=4096",
            "rstp_max_age=10",
            "rstp_forward_delay=6",
        ],
        Behaviour::Answer(Ok(Reply::Done)),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "");
    assert_eq!(
        run.request,
        Some(Request::SetBridge {
            bridge: name("br0"),
            settings: vec![
                BridgeSetting::Rstp(true),
                BridgeSetting::RstpPriority(4096),
                BridgeSetting::RstpMaxAge(10),
                BridgeSetting::RstpForwardDelay(6),
            ],
        })
    );
    let (run, _) = serve(
        &[
            "add-port",
            "br0",
            "vnet0",
            "type=tap",
            "rstp_admin_edge=true",
            "rstp_port_priority=64",
        ],
        Behaviour::Answer(Ok(Reply::Done)),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(
        run.request,
        Some(Request::AddPort {
            bridge: name("br0"),
            port: name("vnet0"),
            settings: vec![
                PortSetting::Type(PortType::Tap),
                PortSetting::RstpAdminEdge(true),
                PortSetting::RstpPortPriority(64),
            ],
            may_exist: false,
            missing_ok: false,
        })
    );
    let (run, _) = serve(
        &["set", "port", "p1", "rstp_enable=false", "rstp_path_cost=2000"],
        Behaviour::Answer(Ok(Reply::Done)),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(
        run.request,
        Some(Request::SetPort {
            port: name("p1"),
            settings: vec![PortSetting::RstpEnable(false), PortSetting::RstpPathCost(2000)],
        })
    );
}

#[test]
fn bad_rstp_keys_are_refused_before_connecting() {
    for (args, reason) in [
        (
            &["set", "bridge", "br0", "rstp_priority=1000"][..],
            "rstp_priority: 1000 is not a multiple of 4096",
        ),
        (
            &["set", "bridge", "br0", "rstp_priority=65536"],
            "rstp_priority: 65536 is out of range 0-61440",
        ),
        (
            &["set", "bridge", "br0", "rstp=maybe"],
            "rstp: \"maybe\" is not true or false",
        ),
        (
            &["set", "bridge", "br0", "rstp_max_age=5"],
            "rstp_max_age: 5 is out of range 6-40",
        ),
        (
            &["set", "bridge", "br0", "rstp_forward_delay=31"],
            "rstp_forward_delay: 31 is out of range 4-30",
        ),
        (
            &["set", "bridge", "br0", "rstp_transmit_hold_count=11"],
            "rstp_transmit_hold_count: 11 is out of range 1-10",
        ),
        (
            &["set", "bridge", "br0", "rstp_force_protocol_version=3"],
            "rstp_force_protocol_version: 3 is not 0 (STP only) or 2 (RSTP)",
        ),
        (
            &["set", "bridge", "br0", "rstp_max_age=40", "rstp_forward_delay=15"],
            "set bridge br0: rstp_max_age=40 and rstp_forward_delay=15 do not satisfy 2*(forward_delay-1) >= max_age >= 2*(hello_time+1), hello_time being 2 s: raise rstp_forward_delay to at least 21 or lower rstp_max_age to at most 28",
        ),
        (
            &["set", "bridge", "br0", "rstp_enable=true"],
            "unknown bridge key \"rstp_enable\" (spanning tree is rstp=true|false on a bridge; rstp_enable is a port key)",
        ),
        (
            &["set", "port", "p1", "rstp_port_priority=100"],
            "rstp_port_priority: 100 is not a multiple of 16",
        ),
        (
            &["set", "port", "p1", "rstp_path_cost=0"],
            "rstp_path_cost: 0 is out of range 1-200000000",
        ),
        (
            &["add-port", "br0", "p1", "rstp_auto_edge=no"],
            "rstp_auto_edge: \"no\" is not true or false",
        ),
        (
            &["set", "port", "p1", "rstp_cost=1"],
            "unknown port key \"rstp_cost\" (known: type, tag, trunks, vlan_mode, mtu, ofport_request, remote_ip, local_ip, key, dst_port, path, mode, persist, rstp_enable, rstp_port_priority, rstp_path_cost, rstp_admin_edge, rstp_auto_edge, bond_mode, lacp, lacp_time, lacp_fallback_ab, bond_updelay, bond_downdelay, bond_rebalance_interval, ingress_policing_rate, ingress_policing_burst, egress_policing_rate, egress_policing_burst)",
        ),
        (&["rstp-show", "br0", "br1"], "unexpected argument 'br1'"),
    ] {
        let (run, _) = serve(args, Behaviour::Answer(Ok(Reply::Done)));
        assert_eq!(run.code(), Some(2), "{args:?}: {}", run.stderr());
        let err = run.stderr();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.starts_with("switchctl: "), "{args:?}: {err:?}");
        assert!(err.contains(reason), "{args:?}: {err:?} lacks {reason:?}");
        assert_eq!(run.stdout(), "");
        assert_eq!(run.request, None, "{args:?} reached the daemon");
    }
}

/// bond0: balance-slb negotiated, eth2 the active member.
fn bond_sample() -> BondShowInfo {
    let member = |name: &str, enabled: bool, tx_bytes: u64, buckets: Vec<u8>| BondMemberInfo {
        member: name.into(),
        enabled,
        carrier: enabled,
        may_enable: enabled,
        tx_bytes,
        buckets,
    };
    BondShowInfo {
        bonds: vec![BondInfo {
            bond: "bond0".into(),
            bridge: "br0".into(),
            bond_mode: BondMode::BalanceSlb,
            lacp: LacpMode::Active,
            lacp_status: LacpStatus::Negotiated,
            active_member: Some("eth2".into()),
            next_rebalance_ms: 1200,
            members: vec![
                member("eth1", true, 5000, (0..=127).collect()),
                member("eth2", true, 700, (128..=255).collect()),
            ],
        }],
    }
}

fn lacp_sample() -> LacpShowInfo {
    LacpShowInfo {
        bonds: vec![LacpBondInfo {
            bond: "bond0".into(),
            status: LacpStatus::Negotiated,
            actor: LacpSystem {
                system_id: MacAddr([2, 0, 0, 0, 0, 1]),
                system_priority: 65534,
                key: 1,
            },
            partner: Some(LacpSystem {
                system_id: MacAddr([2, 0, 0, 0, 0, 2]),
                system_priority: 65534,
                key: 5,
            }),
            members: vec![
                LacpMemberInfo {
                    member: "eth1".into(),
                    actor_state: LacpState(0x3d),
                    partner_state: LacpState(0x3d),
                    rx_lacpdus: 4,
                    tx_lacpdus: 5,
                },
                LacpMemberInfo {
                    member: "eth2".into(),
                    actor_state: LacpState(0x45),
                    partner_state: LacpState(0),
                    rx_lacpdus: 0,
                    tx_lacpdus: 5,
                },
            ],
        }],
    }
}

#[test]
fn bond_show_prints_ovs_like_text() {
    let (run, _) = serve(
        &["bond-show", "bond0"],
        Behaviour::Answer(Ok(Reply::Bonds(bond_sample()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stderr(), "");
    assert_eq!(
        run.request,
        Some(Request::BondShow {
            bond: Some(name("bond0"))
        })
    );
    assert_eq!(
        run.stdout(),
        "\
---- bond0 ----
bridge: br0
bond_mode: balance-slb
lacp: active
lacp_status: negotiated
next rebalance: 1200 ms
active member: eth2

member eth1: enabled
  may_enable: true
  carrier: up
  tx_bytes: 5000
  buckets: 0-127

member eth2: enabled
  active member
  may_enable: true
  carrier: up
  tx_bytes: 700
  buckets: 128-255
"
    );
}

#[test]
fn bond_show_json_is_the_spec_object() {
    let (run, _) = serve(
        &["--json", "bond-show"],
        Behaviour::Answer(Ok(Reply::Bonds(bond_sample()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.request, Some(Request::BondShow { bond: None }));
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let low: Vec<u8> = (0..=127).collect();
    let high: Vec<u8> = (128..=255).collect();
    assert_eq!(
        v,
        serde_json::json!({"bonds": [{
            "bond": "bond0",
            "bridge": "br0",
            "bond_mode": "balance-slb",
            "lacp": "active",
            "lacp_status": "negotiated",
            "active_member": "eth2",
            "next_rebalance_ms": 1200,
            "members": [
                {"member": "eth1", "enabled": true, "carrier": true, "may_enable": true,
                 "tx_bytes": 5000, "buckets": low},
                {"member": "eth2", "enabled": true, "carrier": true, "may_enable": true,
                 "tx_bytes": 700, "buckets": high},
            ],
        }]})
    );
    // no bonds: the object with an empty list, and no text
    let (run, _) = serve(
        &["bond-show", "--json"],
        Behaviour::Answer(Ok(Reply::Bonds(BondShowInfo::default()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(v, serde_json::json!({"bonds": []}));
    let (run, _) = serve(
        &["bond-show"],
        Behaviour::Answer(Ok(Reply::Bonds(BondShowInfo::default()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "");
}

#[test]
fn lacp_show_prints_ovs_like_text_and_spec_json() {
    let (run, _) = serve(&["lacp-show"], Behaviour::Answer(Ok(Reply::Lacp(lacp_sample()))));
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.request, Some(Request::LacpShow { bond: None }));
    assert_eq!(
        run.stdout(),
        "\
---- bond0 ----
  status: negotiated
  sys_id: 02:00:00:00:00:01
  sys_priority: 65534
  aggregation key: 1
  partner sys_id: 02:00:00:00:00:02
  partner sys_priority: 65534
  partner key: 5

member: eth1: current attached
  actor state: activity aggregation synchronized collecting distributing
  partner state: activity aggregation synchronized collecting distributing
  RX PDUs: 4
  TX PDUs: 5

member: eth2: defaulted detached
  actor state: activity aggregation defaulted
  partner state:
  RX PDUs: 0
  TX PDUs: 5
"
    );
    let (run, _) = serve(
        &["lacp-show", "bond0", "--json"],
        Behaviour::Answer(Ok(Reply::Lacp(lacp_sample()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(
        run.request,
        Some(Request::LacpShow {
            bond: Some(name("bond0"))
        })
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let synced = serde_json::json!([
        "activity",
        "aggregation",
        "synchronization",
        "collecting",
        "distributing"
    ]);
    assert_eq!(
        v,
        serde_json::json!({"bonds": [{
            "bond": "bond0",
            "status": "negotiated",
            "actor": {"system_id": "02:00:00:00:00:01", "system_priority": 65534, "key": 1},
            "partner": {"system_id": "02:00:00:00:00:02", "system_priority": 65534, "key": 5},
            "members": [
                {"member": "eth1", "actor_state": synced, "partner_state": synced,
                 "rx_lacpdus": 4, "tx_lacpdus": 5},
                {"member": "eth2", "actor_state": ["activity", "aggregation", "defaulted"],
                 "partner_state": [], "rx_lacpdus": 0, "tx_lacpdus": 5},
            ],
        }]})
    );
}

#[test]
fn add_bond_and_bond_keys_are_sent_parsed() {
    let (run, _) = serve(
        &[
            "add-bond",
            "br0",
            "bond0",
            "eth1",
            "eth2",
            "bond_mode=balance-tcp",
            "lacp=active",
            "lacp_time=fast",
            "bond_rebalance_interval=0",
            "tag=10",
            "--may-exist",
        ],
        Behaviour::Answer(Ok(Reply::Done)),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "");
    assert_eq!(run.stderr(), "");
    assert_eq!(
        run.request,
        Some(Request::AddBond {
            bridge: name("br0"),
            bond: name("bond0"),
            members: vec![name("eth1"), name("eth2")],
            settings: vec![
                PortSetting::BondMode(BondMode::BalanceTcp),
                PortSetting::Lacp(LacpMode::Active),
                PortSetting::LacpTime(LacpTime::Fast),
                PortSetting::BondRebalanceInterval(0),
                "tag=10".parse().unwrap(),
            ],
            may_exist: true,
        })
    );
    let (run, _) = serve(
        &["--json", "add-bond", "br0", "bond1", "eth3", "eth4"],
        Behaviour::Answer(Ok(Reply::Done)),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "{}\n");
    let (run, _) = serve(
        &[
            "set",
            "port",
            "bond0",
            "lacp_fallback_ab=true",
            "bond_updelay=100",
            "bond_downdelay=200",
        ],
        Behaviour::Answer(Ok(Reply::Done)),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(
        run.request,
        Some(Request::SetPort {
            port: name("bond0"),
            settings: vec![
                PortSetting::LacpFallbackAb(true),
                PortSetting::BondUpdelay(100),
                PortSetting::BondDowndelay(200),
            ],
        })
    );
}

#[test]
fn bond_refusals_from_the_daemon_are_one_line() {
    for (args, message) in [
        (
            &["add-bond", "br0", "bond0", "eth1", "eth9"][..],
            "cannot open eth9: no such device",
        ),
        (&["bond-show", "bond7"], "no bond named \"bond7\""),
        (
            &["--json", "lacp-show", "bond0"],
            "bond \"bond0\" does not run LACP",
        ),
    ] {
        let (run, _) = serve(
            args,
            Behaviour::Answer(Err(proto::Error::new(proto::ErrorKind::InvalidArgument, message))),
        );
        assert_one_error_line(&run, message);
        assert!(run.request.is_some(), "{args:?} was not sent");
    }
}

#[test]
fn bad_bonds_are_refused_before_connecting() {
    for (args, reason) in [
        (
            &["add-bond", "br0", "bond0", "eth1"][..],
            "add-bond bond0: a bond needs at least 2 member devices, got 1; usage: add-bond BR BOND IFACE IFACE... [KEY=VALUE...]",
        ),
        (
            &["add-bond", "br0", "bond0", "eth1", "lacp=active"],
            "add-bond bond0: a bond needs at least 2 member devices, got 1",
        ),
        (
            &["add-bond", "br0", "bond0", "--may-exist"],
            "add-bond bond0: a bond needs at least 2 member devices, got 0",
        ),
        (
            &["add-bond", "br0", "bond0", "eth1", "eth2", "tag=10", "eth3"],
            "add-bond bond0: \"eth3\" is not of the form KEY=VALUE (member devices come before the settings)",
        ),
        (
            &["add-bond", "br0", "bond0", "eth1", "eth2", "eth1"],
            "add-bond bond0: member \"eth1\" is listed twice",
        ),
        (
            &["add-bond", "br0", "bond0", "bond0", "eth2"],
            "add-bond bond0: member \"bond0\" has the name of the bond itself",
        ),
        (
            &["add-bond", "br0", "bond0", "eth1", "eth2", "bond_mode=balance-tcp"],
            "add-bond bond0: bond_mode=balance-tcp needs lacp=active or passive",
        ),
        (
            &["add-bond", "br0", "bond0", "eth1", "eth2", "bond_mode=lacp"],
            "bond_mode: \"lacp\" is not active-backup, balance-slb or balance-tcp",
        ),
        (
            &["add-bond", "br0", "bond0", "eth1", "eth2", "lacp=yes"],
            "lacp: \"yes\" is not off, active or passive",
        ),
        (
            &["add-bond", "br0", "bond0", "eth1", "eth2", "type=bond"],
            "add-bond bond0: type cannot be given to add-bond (a bond's type is bond)",
        ),
        (
            &["set", "port", "bond0", "bond_rebalance_interval=500"],
            "bond_rebalance_interval: 500 is neither 0 (off) nor in 1000-10000",
        ),
        (
            &["set", "port", "bond0", "bond_updelay=60001"],
            "bond_updelay: 60001 is out of range 0-60000",
        ),
        (
            &["set", "port", "bond0", "lacp_time=quick"],
            "lacp_time: \"quick\" is not slow or fast",
        ),
        (
            &["add-port", "br0", "eth1", "bond_mode=balance-slb"],
            "add-port eth1: bond_mode is not valid for a system port (only bond)",
        ),
        (
            &["add-port", "br0", "bond0", "type=bond"],
            "add-port bond0: a bond port needs members (create it with add-bond BR BOND IFACE IFACE...)",
        ),
        (&["bond-show", "bond0", "bond1"], "unexpected argument 'bond1'"),
        (&["lacp-show", "a/b"], "name \"a/b\" contains '/', which is not allowed"),
    ] {
        let (run, _) = serve(args, Behaviour::Answer(Ok(Reply::Done)));
        assert_eq!(run.code(), Some(2), "{args:?}: {}", run.stderr());
        let err = run.stderr();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.starts_with("switchctl: "), "{args:?}: {err:?}");
        assert!(err.contains(reason), "{args:?}: {err:?} lacks {reason:?}");
        assert_eq!(run.stdout(), "");
        assert_eq!(run.request, None, "{args:?} reached the daemon");
    }
}

/// The SPEC §9 example flow and the default one in table 1.
fn flows_sample() -> FlowsInfo {
    let spec = FlowInfo {
        table: 0,
        priority: 100,
        cookie: 0,
        flow_match: "tcp,in_port=vm1,tp_dst=22".into(),
        actions: "drop".into(),
        n_packets: 10,
        n_bytes: 980,
        duration: Duration::from_millis(3412),
        idle_age_s: 1,
        idle_timeout: 0,
        hard_timeout: 0,
    };
    let default = FlowInfo {
        table: 1,
        priority: 0,
        cookie: 0x2a,
        flow_match: String::new(),
        actions: "NORMAL".into(),
        n_packets: 0,
        n_bytes: 0,
        duration: Duration::from_secs(5),
        idle_age_s: 5,
        idle_timeout: 0,
        hard_timeout: 60,
    };
    FlowsInfo {
        flows: vec![spec, default],
    }
}

#[test]
fn dump_flows_prints_ovs_ofctl_lines() {
    let (run, _) = serve(
        &["dump-flows", "br0", "tcp", "--table", "0"],
        Behaviour::Answer(Ok(Reply::Flows(flows_sample()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(
        run.stdout(),
        " cookie=0x0, duration=3.412s, table=0, n_packets=10, n_bytes=980, idle_age=1, priority=100,tcp,in_port=vm1,tp_dst=22 actions=drop\n \
         cookie=0x2a, duration=5s, table=1, n_packets=0, n_bytes=0, hard_timeout=60, idle_age=5, priority=0 actions=NORMAL\n"
    );
    assert_eq!(run.stderr(), "");
    assert_eq!(
        run.request,
        Some(Request::DumpFlows {
            bridge: name("br0"),
            filter: Some("tcp".into()),
            table: Some(0),
        })
    );
    // no flows, no output (as ovs-ofctl)
    let (run, _) = serve(
        &["dump-flows", "br0"],
        Behaviour::Answer(Ok(Reply::Flows(FlowsInfo::default()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "");
}

#[test]
fn dump_flows_json_is_the_spec_object() {
    let (run, _) = serve(
        &["--json", "dump-flows", "br0"],
        Behaviour::Answer(Ok(Reply::Flows(flows_sample()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(
        v["flows"][0],
        serde_json::json!({"table":0,"priority":100,"cookie":"0x0","match":"tcp,in_port=vm1,tp_dst=22",
            "actions":"drop","n_packets":10,"n_bytes":980,"duration_s":3.412,"idle_age_s":1,
            "idle_timeout":0,"hard_timeout":0})
    );
    assert_eq!(v["flows"][1]["cookie"], "0x2a");
    assert_eq!(v["flows"][1]["duration_s"], 5.0);
    assert_eq!(v["flows"][1]["match"], "");
    // exactly proto's structure, so it decodes back
    let back: FlowsInfo = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(back, flows_sample());
}

#[test]
fn flow_changes_send_the_flow_and_print_nothing() {
    let spec = "priority=100,in_port=vm1,tcp,tp_dst=22,actions=drop";
    for (args, request) in [
        (
            &["add-flow", "br0", spec][..],
            Request::AddFlow {
                bridge: name("br0"),
                flow: spec.into(),
            },
        ),
        (
            &["mod-flows", "br0", "--strict", spec],
            Request::ModFlows {
                bridge: name("br0"),
                flow: spec.into(),
                strict: true,
            },
        ),
        (
            &["del-flows", "br0"],
            Request::DelFlows {
                bridge: name("br0"),
                filter: None,
                strict: false,
            },
        ),
        (
            &["del-flows", "br0", "in_port=vm1"],
            Request::DelFlows {
                bridge: name("br0"),
                filter: Some("in_port=vm1".into()),
                strict: false,
            },
        ),
    ] {
        let (run, _) = serve(args, Behaviour::Answer(Ok(Reply::Done)));
        assert_eq!(run.code(), Some(0), "{args:?}: {}", run.stderr());
        assert_eq!(run.stdout(), "", "{args:?}");
        assert_eq!(run.stderr(), "", "{args:?}");
        assert_eq!(run.request, Some(request), "{args:?}");
    }
    let (run, _) = serve(
        &["--json", "add-flow", "br0", spec],
        Behaviour::Answer(Ok(Reply::Done)),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "{}\n");
}

#[test]
fn add_flows_and_replace_flows_send_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flows.txt");
    // comments, blank lines and a dump line: switchd's to read, sent as they are
    let text = "# web\npriority=100,in_port=vm1,tcp,tp_dst=22,actions=drop\n\n \
                cookie=0x0, duration=3.412s, table=0, n_packets=10, n_bytes=980, idle_age=1, priority=0 actions=NORMAL\n";
    std::fs::write(&path, text).unwrap();
    let file = path.to_str().unwrap();
    let (run, _) = serve(&["add-flows", "br0", file], Behaviour::Answer(Ok(Reply::Done)));
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(run.stdout(), "");
    assert_eq!(
        run.request,
        Some(Request::AddFlows {
            bridge: name("br0"),
            text: text.into(),
        })
    );
    let (run, _) = serve(
        &["replace-flows", "br0", file],
        Behaviour::Answer(Ok(Reply::Done)),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(
        run.request,
        Some(Request::ReplaceFlows {
            bridge: name("br0"),
            text: text.into(),
        })
    );
    // '-' is standard input
    for op in ["add-flows", "replace-flows"] {
        let sock_dir = tempfile::tempdir().unwrap();
        let sock = sock_dir.path().join("switchd.sock");
        let mut cmd = switchctl(&["--socket", sock.to_str().unwrap(), op, "br1", "-"]);
        cmd.stdin(File::open(&path).unwrap());
        let run = run_against(&sock, cmd, Behaviour::Answer(Ok(Reply::Done)));
        assert_eq!(run.code(), Some(0), "{op}: {}", run.stderr());
        let sent = match run.request {
            Some(Request::AddFlows { bridge, text }) if op == "add-flows" => (bridge, text),
            Some(Request::ReplaceFlows { bridge, text }) if op == "replace-flows" => (bridge, text),
            other => panic!("{op} sent {other:?}"),
        };
        assert_eq!(sent, (name("br1"), text.to_owned()), "{op}");
    }
    // an empty file is an empty text (replace-flows: no flows at all)
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let (run, _) = serve(
        &["replace-flows", "br0", empty.to_str().unwrap()],
        Behaviour::Answer(Ok(Reply::Done)),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(
        run.request,
        Some(Request::ReplaceFlows {
            bridge: name("br0"),
            text: String::new(),
        })
    );
}

#[test]
fn flow_file_errors_name_the_path_without_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt");
    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, b"actions=drop\n# caf\xe9\n").unwrap();
    for (args, expected) in [
        (
            vec!["add-flows", "br0", missing.to_str().unwrap()],
            format!("cannot read {}: No such file or directory", missing.display()),
        ),
        (
            vec!["replace-flows", "br0", missing.to_str().unwrap()],
            format!("cannot read {}: No such file or directory", missing.display()),
        ),
        (
            vec!["add-flows", "br0", dir.path().to_str().unwrap()],
            format!("cannot read {}: Is a directory", dir.path().display()),
        ),
        (
            vec!["add-flows", "br0", latin1.to_str().unwrap()],
            format!("{}: line 2 is not UTF-8 text", latin1.display()),
        ),
    ] {
        let (run, _) = serve(&args, Behaviour::Answer(Ok(Reply::Done)));
        assert_one_error_line(&run, &expected);
        assert_eq!(run.request, None, "{args:?} reached the daemon");
    }
}

#[test]
fn flow_refusals_are_one_line() {
    // what switchd says about line 3 of a file, as it says it
    let (run, _) = serve(
        &["add-flows", "br0", "-"],
        Behaviour::Answer(Err(proto::Error::new(
            proto::ErrorKind::InvalidArgument,
            "line 3: tp_dst needs tcp, udp or sctp",
        ))),
    );
    assert_one_error_line(&run, "line 3: tp_dst needs tcp, udp or sctp");
    assert_eq!(
        run.request,
        Some(Request::AddFlows {
            bridge: name("br0"),
            text: String::new(),
        }),
        "stdin is /dev/null here"
    );
    // a daemon without flow tables yet
    let (run, _) = serve(
        &["--json", "dump-flows", "br0"],
        Behaviour::Answer(Err(proto::Error::new(
            proto::ErrorKind::Unsupported,
            "flow tables are not supported yet",
        ))),
    );
    assert_one_error_line(&run, "flow tables are not supported yet");
}

#[test]
fn bad_flow_command_lines_exit_2_without_connecting() {
    for (args, reason) in [
        (
            &["add-flow", "br0"][..],
            "the following required arguments were not provided",
        ),
        (
            &["add-flow", "br0", "priority=1", "actions=drop"],
            "unexpected argument 'actions=drop'",
        ),
        (
            &["add-flows", "br0"],
            "the following required arguments were not provided",
        ),
        (
            &["del-flows", "br0", "tcp", "--table", "1"],
            "unexpected argument '--table'",
        ),
        (
            &["dump-flows", "br0", "--table", "254"],
            "table 254 does not exist (tables are 0-253; 255 means all tables)",
        ),
        (
            &["add-flow", "br0", "actions=drop", "--strict"],
            "unexpected argument '--strict'",
        ),
    ] {
        let (run, _) = serve(args, Behaviour::Answer(Ok(Reply::Done)));
        assert_eq!(run.code(), Some(2), "{args:?}: {}", run.stderr());
        let err = run.stderr();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.starts_with("switchctl: "), "{args:?}: {err:?}");
        assert!(err.contains(reason), "{args:?}: {err:?} lacks {reason:?}");
        assert_eq!(run.stdout(), "");
        assert_eq!(run.request, None, "{args:?} reached the daemon");
    }
}

/// br0 with a connected controller, br1 with one it cannot reach.
fn controllers_sample() -> ControllersInfo {
    ControllersInfo {
        bridges: vec![
            BridgeControllers {
                bridge: "br0".into(),
                fail_mode: FailMode::Standalone,
                controllers: vec![ControllerInfo {
                    target: "tcp:127.0.0.1:6653".into(),
                    state: ControllerState::Connected,
                    role: ControllerRole::Equal,
                    version: Some(OfVersion::OpenFlow13),
                    last_error: None,
                    packet_ins_dropped: 0,
                }],
            },
            BridgeControllers {
                bridge: "br1".into(),
                fail_mode: FailMode::Secure,
                controllers: vec![ControllerInfo {
                    target: "unix:/run/ctl.sock".into(),
                    state: ControllerState::Backoff,
                    role: ControllerRole::Equal,
                    version: None,
                    last_error: Some("No such file or directory".into()),
                    packet_ins_dropped: 0,
                }],
            },
        ],
    }
}

#[test]
fn controller_changes_send_parsed_targets_and_print_nothing() {
    let target = |s: &str| s.parse::<ControllerTarget>().unwrap();
    for (args, request) in [
        (
            &["set-controller", "br0", "tcp:127.0.0.1", "ptcp:"][..],
            Request::SetController {
                bridge: name("br0"),
                targets: vec![target("tcp:127.0.0.1:6653"), target("ptcp:6653:127.0.0.1")],
            },
        ),
        (
            &["del-controller", "br0"],
            Request::DelController { bridge: name("br0") },
        ),
        (
            &[
                "set",
                "bridge",
                "br0",
                "fail_mode=secure",
                "protocols=OpenFlow13",
                "datapath_id=00000000000000aa",
            ],
            Request::SetBridge {
                bridge: name("br0"),
                settings: vec![
                    BridgeSetting::FailMode(FailMode::Secure),
                    BridgeSetting::Protocols("OpenFlow13".parse().unwrap()),
                    BridgeSetting::DatapathId("00000000000000aa".parse().unwrap()),
                ],
            },
        ),
    ] {
        let (run, _) = serve(args, Behaviour::Answer(Ok(Reply::Done)));
        assert_eq!(run.code(), Some(0), "{args:?}: {}", run.stderr());
        assert_eq!(run.stdout(), "");
        assert_eq!(run.request, Some(request));
    }
    // the daemon's refusal is one line
    let (run, _) = serve(
        &["set-controller", "br9", "tcp:127.0.0.1"],
        Behaviour::Answer(Err(proto::Error::new(
            proto::ErrorKind::NoSuchBridge,
            "no bridge named \"br9\"",
        ))),
    );
    assert_one_error_line(&run, "no bridge named \"br9\"");
}

#[test]
fn get_controller_prints_targets_and_spec_json() {
    let one = ControllersInfo {
        bridges: vec![controllers_sample().bridges[0].clone()],
    };
    let (run, _) = serve(
        &["get-controller", "br0"],
        Behaviour::Answer(Ok(Reply::Controllers(one.clone()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(
        run.stdout(),
        "tcp:127.0.0.1:6653 connected role=equal version=OpenFlow13\n"
    );
    assert_eq!(
        run.request,
        Some(Request::GetController {
            bridge: Some(name("br0"))
        })
    );
    let (run, _) = serve(
        &["get-controller"],
        Behaviour::Answer(Ok(Reply::Controllers(controllers_sample()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    assert_eq!(
        run.stdout(),
        "\
bridge br0: fail_mode=standalone
  tcp:127.0.0.1:6653 connected role=equal version=OpenFlow13

bridge br1: fail_mode=secure
  unix:/run/ctl.sock backoff role=equal
    last_error: No such file or directory
"
    );
    assert_eq!(run.request, Some(Request::GetController { bridge: None }));
    let (run, _) = serve(
        &["--json", "get-controller", "br0"],
        Behaviour::Answer(Ok(Reply::Controllers(one.clone()))),
    );
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr());
    // SPEC §10's text, once the pretty-printing is taken out
    let compact: String = run.stdout().split_whitespace().collect();
    assert_eq!(
        compact,
        r#"{"bridges":[{"bridge":"br0","fail_mode":"standalone","controllers":[{"target":"tcp:127.0.0.1:6653","state":"connected","role":"equal","version":"OpenFlow13","last_error":null}]}]}"#
    );
    let back: ControllersInfo = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(back, one);
}

#[test]
fn bad_controller_command_lines_exit_2_without_connecting() {
    for (args, reason) in [
        (
            &["set-controller", "br0"][..],
            "the following required arguments were not provided",
        ),
        (
            &["set-controller", "br0", "tcp:ctl.example.com"],
            "invalid controller target \"tcp:ctl.example.com\": \"ctl.example.com\" is not an IPv4 or IPv6 address",
        ),
        (
            &["set-controller", "br0", "ptcp:6653", "ptcp::127.0.0.1"],
            "set-controller br0: controller target \"ptcp:6653:127.0.0.1\" is given twice",
        ),
        (
            &["set", "bridge", "br0", "protocols=OpenFlow11"],
            "protocols: \"OpenFlow11\" is not supported (supported: OpenFlow10, OpenFlow13)",
        ),
        (
            &["set", "bridge", "br0", "datapath_id=1"],
            "datapath_id: \"1\" has 1 hex digits, it needs exactly 16",
        ),
        (
            &["set", "bridge", "br0", "fail_mode=closed"],
            "fail_mode: \"closed\" is not standalone or secure",
        ),
    ] {
        let (run, _) = serve(args, Behaviour::Answer(Ok(Reply::Done)));
        assert_eq!(run.code(), Some(2), "{args:?}: {}", run.stderr());
        let err = run.stderr();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.starts_with("switchctl: "), "{args:?}: {err:?}");
        assert!(err.contains(reason), "{args:?}: {err:?} lacks {reason:?}");
        assert_eq!(run.stdout(), "");
        assert_eq!(run.request, None, "{args:?} reached the daemon");
    }
}

//! The `ovs-vsctl` face of switchctl against the real daemon: the KVM
//! recipes and libvirt's command lines run verbatim (through a symlink named
//! `ovs-vsctl`, and as `switchctl ovs-vsctl ...`), and what they leave in
//! switchd's `show --json` is checked: tags, types, tunnel options,
//! `external_ids`, a port whose device does not exist yet (down, `no such
//! device`) coming up when the device appears. Hosts on ports added with
//! `ovs-vsctl add-port ... tag=10` ping each other. Output is checked in the
//! shapes `ovs-vsctl` prints (`show`, `list`, `get`, the table formats), and
//! every refusal is one line `ovs-vsctl: <reason>`, status 1, with nothing
//! changed (`show --json` and the db compared before and after). Needs
//! root; see tests/common/mod.rs.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;

/// A private directory holding a symlink `ovs-vsctl` to switchctl, removed
/// on drop.
struct Face {
    dir: PathBuf,
}

impl Face {
    fn new() -> Face {
        let dir = std::env::temp_dir().join(format!("ovs-vsctl-test-{}", unique("v")));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create face dir");
        std::os::unix::fs::symlink(bin("switchctl"), dir.join("ovs-vsctl")).expect("symlink ovs-vsctl");
        Face { dir }
    }

    fn program(&self) -> PathBuf {
        self.dir.join("ovs-vsctl")
    }
}

impl Drop for Face {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Runs `program args...` with switchd's socket in `SWITCHD_SOCKET`.
fn run_with(program: &Path, first: &[&str], socket: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(first)
        .args(args)
        .env(proto::SOCKET_ENV, socket)
        .stdin(Stdio::null())
        .output()
        .expect("run ovs-vsctl")
}

/// The ovs-vsctl face of one daemon.
struct Vsctl<'a> {
    sw: &'a Switchd,
    face: Face,
}

impl<'a> Vsctl<'a> {
    fn new(sw: &'a Switchd) -> Vsctl<'a> {
        Vsctl {
            sw,
            face: Face::new(),
        }
    }

    /// `ovs-vsctl ARGS...` through the symlink.
    fn run(&self, args: &[&str]) -> Output {
        run_with(&self.face.program(), &[], &self.sw.socket, args)
    }

    /// `switchctl ovs-vsctl ARGS...`.
    fn run_word(&self, args: &[&str]) -> Output {
        run_with(&bin("switchctl"), &["ovs-vsctl"], &self.sw.socket, args)
    }

    /// Must succeed with nothing on stderr; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "ovs-vsctl {args:?} failed ({}): {stderr}",
            out.status
        );
        assert!(stderr.is_empty(), "ovs-vsctl {args:?} wrote to stderr: {stderr}");
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// Must fail with status 1, exactly one stderr line `ovs-vsctl:
    /// REASON` and nothing on stdout; returns the reason.
    fn err(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "ovs-vsctl {args:?}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "ovs-vsctl {args:?} printed {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "ovs-vsctl {args:?}: one stderr line expected, got {stderr:?}"
        );
        lines[0]
            .strip_prefix("ovs-vsctl: ")
            .unwrap_or_else(|| panic!("{stderr:?} lacks the `ovs-vsctl: ` prefix"))
            .to_owned()
    }
}

/// The `show --json` object of a port.
fn port(sw: &Switchd, name: &str) -> Value {
    sw.port_info(name)
        .unwrap_or_else(|| panic!("no port {name} in {}", sw.show()))
}

/// Waits until port `name` is up (its device appeared).
fn wait_up(sw: &Switchd, name: &str) {
    let up = poll_until(Duration::from_secs(10), || {
        port(sw, name)["state"]["state"] == "up"
    });
    assert!(up, "port {name} did not come up: {}", port(sw, name));
}

/// The value of `column : value` in `list` output.
fn field<'t>(list: &'t str, column: &str) -> &'t str {
    list.lines()
        .find_map(|l| {
            let (c, v) = l.split_once(": ")?;
            (c.trim_end() == column).then_some(v)
        })
        .unwrap_or_else(|| panic!("no column {column} in {list}"))
}

/// A host on a veth whose switch end is added with `ovs-vsctl add-port BR
/// PORT SETTINGS...`.
fn host_on_vsctl_port(v: &Vsctl, bridge: &str, ip: &str, settings: &[&str]) -> Host {
    let ns = Netns::new();
    let (port, ifname) = veth_into(v.sw, &ns);
    let mut args = vec!["add-port", bridge, &port];
    args.extend_from_slice(settings);
    v.ok(&args);
    ns.ip_ok(&["addr", "add", &format!("{ip}/24"), "dev", &ifname]);
    ns.ip_ok(&["link", "set", "dev", &ifname, "up"]);
    let mac = ns.mac(&ifname);
    Host {
        ifname,
        port,
        ip: ip.into(),
        mac,
        ns,
    }
}

#[test]
fn kvm_recipes_run_verbatim() {
    if !require_root("kvm_recipes_run_verbatim") {
        return;
    }
    let sw = Switchd::start();
    let v = Vsctl::new(&sw);
    // Each line of the recipe, as written.
    assert_eq!(v.ok(&["add-br", "br-in"]), "");
    assert_eq!(v.ok(&["add-port", "br-in", "vif0.0"]), "");
    assert_eq!(v.ok(&["set", "port", "vif0.0", "tag=10"]), "");
    assert_eq!(v.ok(&["add-port", "br-in", "gre0"]), "");
    assert_eq!(
        v.ok(&[
            "set",
            "interface",
            "gre0",
            "type=gre",
            "options:remote_ip=192.168.20.2"
        ]),
        ""
    );
    let list = v.ok(&["list", "interface", "gre0"]);
    let show = v.ok(&["show"]);
    assert_eq!(v.ok(&["add-br", "br0"]), "");
    assert_eq!(
        v.ok(&[
            "add-port",
            "br0",
            "tap0",
            "--",
            "set",
            "interface",
            "tap0",
            "type=internal"
        ]),
        ""
    );

    // What switchd has now.
    let vif = port(&sw, "vif0.0");
    assert_eq!(vif["config"]["tag"], 10);
    assert_eq!(vif["type"], "system");
    assert_eq!(vif["state"]["state"], "down", "{vif}");
    assert_eq!(vif["state"]["reason"], "no such device");
    let gre = port(&sw, "gre0");
    assert_eq!(gre["type"], "gre");
    assert_eq!(gre["config"]["remote_ip"], "192.168.20.2");
    let tap = port(&sw, "tap0");
    assert_eq!(tap["type"], "tap");
    wait_up(&sw, "tap0");
    assert!(sw.ns.has_link("tap0"), "switchd created the tap device");

    // `list interface gre0` in OVS's record format: `_uuid` first, columns
    // in OVS's order, padded to 20.
    let first = list.lines().next().unwrap();
    assert!(first.starts_with("_uuid               : "), "{list}");
    assert_eq!(field(&list, "name"), "gre0");
    assert_eq!(field(&list, "type"), "gre");
    assert_eq!(field(&list, "options"), "{remote_ip=\"192.168.20.2\"}");
    assert_eq!(field(&list, "ofport"), gre["ofport"].to_string());
    assert_eq!(field(&list, "external_ids"), "{}");
    assert_eq!(field(&list, "ofport_request"), "[]");
    assert!(list.contains("\ningress_policing_burst: 0\n"), "{list}");
    let columns: Vec<&str> = list
        .lines()
        .map(|l| l.split(':').next().unwrap().trim_end())
        .collect();
    let mut sorted = columns[1..].to_vec();
    sorted.sort_unstable();
    assert_eq!(columns[1..], sorted[..], "OVS lists columns alphabetically");

    // `show` as ovs-vsctl prints it.
    let lines: Vec<&str> = show.lines().collect();
    assert_eq!(lines[0].len(), 36, "a UUID first: {show}");
    assert_eq!(
        &lines[1..],
        [
            "    Bridge br-in",
            "        datapath_type: netdev",
            // The bridge's local port, as OVS makes it with the bridge.
            "        Port br-in",
            "            Interface br-in",
            "                type: internal",
            "        Port vif0.0",
            "            tag: 10",
            "            Interface vif0.0",
            "                error: \"no such device\"",
            "        Port gre0",
            "            Interface gre0",
            "                type: gre",
            "                options: {remote_ip=\"192.168.20.2\"}",
            &format!("    ovs_version: \"switchd {}\"", env!("CARGO_PKG_VERSION")),
        ],
        "{show}"
    );
    assert_eq!(
        v.ok(&["show"]).lines().next(),
        Some(lines[0]),
        "the UUID is stable"
    );

    // The device appears: the port comes up with its tag.
    let ns = Netns::new();
    sw.ns.ip_ok(&[
        "link", "add", "dev", "vif0.0", "type", "veth", "peer", "name", "peer0", "netns", &ns.name,
    ]);
    sw.ns.ip_ok(&["link", "set", "dev", "vif0.0", "up"]);
    wait_up(&sw, "vif0.0");
    assert_eq!(port(&sw, "vif0.0")["config"]["tag"], 10);
    assert!(!v.ok(&["show"]).contains("error:"), "no port is down any more");
}

#[test]
fn libvirt_command_lines_run_verbatim() {
    if !require_root("libvirt_command_lines_run_verbatim") {
        return;
    }
    let sw = Switchd::start();
    let v = Vsctl::new(&sw);
    v.ok(&["add-br", "br0"]);
    // virNetDevOpenvswitchAddPort, before qemu created vnet0.
    v.ok(&[
        "--timeout=5",
        "--",
        "--may-exist",
        "add-port",
        "br0",
        "vnet0",
        "tag=10",
        "--",
        "set",
        "Interface",
        "vnet0",
        "external-ids:attached-mac=\"52:54:00:12:34:56\"",
        "--",
        "set",
        "Interface",
        "vnet0",
        "external-ids:iface-id=\"5f2c9ac4-3d2b-4c1e-9a55-000000000001\"",
        "--",
        "set",
        "Interface",
        "vnet0",
        "external-ids:vm-id=\"6a1b1d4c-0000-4000-8000-000000000002\"",
        "--",
        "set",
        "Interface",
        "vnet0",
        "external-ids:iface-status=active",
    ]);
    let p = port(&sw, "vnet0");
    assert_eq!(p["config"]["tag"], 10);
    assert_eq!(p["state"]["reason"], "no such device", "{p}");
    assert_eq!(
        p["config"]["external_ids"],
        serde_json::json!({
            "attached-mac": "52:54:00:12:34:56",
            "iface-id": "5f2c9ac4-3d2b-4c1e-9a55-000000000001",
            "vm-id": "6a1b1d4c-0000-4000-8000-000000000002",
            "iface-status": "active",
        })
    );
    // qemu creates the device.
    sw.ns.ip_ok(&["tuntap", "add", "dev", "vnet0", "mode", "tap"]);
    sw.ns.ip_ok(&["link", "set", "dev", "vnet0", "up"]);
    wait_up(&sw, "vnet0");

    // The same line again (libvirt restarts): nothing changes.
    let before = sw.show();
    v.ok(&[
        "--timeout=5",
        "--",
        "--may-exist",
        "add-port",
        "br0",
        "vnet0",
        "tag=10",
    ]);
    assert_eq!(sw.show(), before);

    // Migration data.
    let out = v.run(&[
        "--timeout=5",
        "--if-exists",
        "get",
        "Interface",
        "vnet0",
        "external_ids:PortData",
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "\n");
    v.ok(&[
        "--timeout=5",
        "set",
        "Interface",
        "vnet0",
        "external_ids:PortData=xyz",
    ]);
    assert_eq!(
        v.ok(&[
            "--timeout=5",
            "--if-exists",
            "get",
            "Interface",
            "vnet0",
            "external_ids:PortData"
        ]),
        "xyz\n"
    );
    assert_eq!(port(&sw, "vnet0")["config"]["external_ids"]["PortData"], "xyz");

    // Interface statistics, as virNetDevOpenvswitchInterfaceStats reads them.
    let stats_line = [
        "--timeout=5",
        "--if-exists",
        "--format=list",
        "--data=json",
        "--no-headings",
        "--columns=statistics",
        "list",
        "Interface",
    ];
    let stats = v.ok(&[&stats_line[..], &["vnet0"]].concat());
    let json: Value = serde_json::from_str(&stats).unwrap_or_else(|e| panic!("{e}: {stats}"));
    assert_eq!(json[0], "map");
    let keys: Vec<&str> = json[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "rx_bytes",
            "rx_dropped",
            "rx_errors",
            "rx_packets",
            "tx_bytes",
            "tx_dropped",
            "tx_errors",
            "tx_packets"
        ]
    );
    assert!(
        json[1].as_array().unwrap().iter().all(|p| p[1].is_u64()),
        "{stats}"
    );
    assert_eq!(
        v.ok(&[&stats_line[..], &["vnet9"]].concat()),
        "",
        "no such interface: no output"
    );

    assert_eq!(v.ok(&["--timeout=5", "iface-to-br", "vnet0"]), "br0\n");
    assert_eq!(
        v.ok(&["--timeout=5", "get", "Interface", "vnet0", "name"]),
        "vnet0\n"
    );

    // A VLAN change: libvirt clears everything, then sets the new tag.
    v.ok(&[
        "set",
        "port",
        "vnet0",
        "vlan_mode=native-untagged",
        "trunks=10,20",
    ]);
    assert_eq!(port(&sw, "vnet0")["vlan_mode"], "native-untagged");
    v.ok(&[
        "--timeout=5",
        "--",
        "--if-exists",
        "clear",
        "Port",
        "vnet0",
        "tag",
        "--",
        "--if-exists",
        "clear",
        "Port",
        "vnet0",
        "trunk",
        "--",
        "--if-exists",
        "clear",
        "Port",
        "vnet0",
        "vlan_mode",
        "--",
        "--if-exists",
        "set",
        "Port",
        "vnet0",
        "tag=20",
    ]);
    let c = &port(&sw, "vnet0")["config"];
    assert_eq!(c["tag"], 20);
    assert!(c.get("trunks").is_none() && c.get("vlan_mode").is_none(), "{c}");

    v.ok(&[
        "--timeout=5",
        "set",
        "Interface",
        "vnet0",
        "ingress_policing_rate=8000",
        "ingress_policing_burst=800",
    ]);
    let c = &port(&sw, "vnet0")["config"];
    assert_eq!(c["ingress_policing_rate"], 8000);
    assert_eq!(c["ingress_policing_burst"], 800);

    // libvirt's older trunk= spelling is OVS's prefix of trunks.
    v.ok(&[
        "--timeout=5",
        "--",
        "--may-exist",
        "add-port",
        "br0",
        "vnet1",
        "vlan_mode=native-untagged",
        "tag=10",
        "trunk=10,20",
    ]);
    let c = &port(&sw, "vnet1")["config"];
    assert_eq!(
        (c["vlan_mode"].as_str(), c["tag"].as_u64(), c["trunks"].as_str()),
        (Some("native-untagged"), Some(10), Some("10,20"))
    );

    // virNetDevOpenvswitchRemovePort, twice (the second finds nothing).
    v.ok(&["--timeout=5", "--", "--if-exists", "del-port", "vnet0"]);
    v.ok(&["--timeout=5", "--", "--if-exists", "del-port", "vnet0"]);
    assert!(sw.port_info("vnet0").is_none());
}

#[test]
fn hosts_on_tagged_ovs_vsctl_ports_ping() {
    if !require_root("hosts_on_tagged_ovs_vsctl_ports_ping") {
        return;
    }
    let sw = Switchd::start();
    let v = Vsctl::new(&sw);
    v.ok(&["add-br", "br0"]);
    let a = host_on_vsctl_port(&v, "br0", "10.77.0.1", &["tag=10"]);
    let b = host_on_vsctl_port(&v, "br0", "10.77.0.2", &["tag=10"]);
    let c = host_on_vsctl_port(&v, "br0", "10.77.0.3", &["tag=20"]);
    for h in [&a, &b, &c] {
        wait_up(&sw, &h.port);
    }
    assert_pings(&a, &b);
    assert!(!c.ping(&a.ip), "VLAN 20 reaches VLAN 10");
    // Moving c to VLAN 10 with ovs-vsctl lets it in.
    v.ok(&["set", "port", &c.port, "tag=10"]);
    assert_pings(&a, &c);
    assert_eq!(
        v.ok(&["--columns=tag", "--bare", "list", "port", &c.port]),
        "10\n"
    );
}

#[test]
fn output_in_ovs_vsctl_shapes() {
    if !require_root("output_in_ovs_vsctl_shapes") {
        return;
    }
    let sw = Switchd::start();
    let v = Vsctl::new(&sw);
    v.ok(&["add-br", "br1"]);
    v.ok(&["add-br", "br0"]);
    v.ok(&[
        "add-port",
        "br0",
        "p2",
        "tag=10",
        "trunks=[20,30]",
        "vlan_mode=native-untagged",
    ]);
    v.ok(&["add-port", "br0", "p1", "external_ids:owner=test"]);
    v.ok(&[
        "add-port",
        "br0",
        "vx0",
        "type=vxlan",
        "options:remote_ip=10.0.0.2",
        "options:key=5",
    ]);

    assert_eq!(v.ok(&["list-br"]), "br0\nbr1\n");
    assert_eq!(v.ok(&["list-ports", "br0"]), "p1\np2\nvx0\n");
    assert_eq!(v.ok(&["list-ifaces", "br0"]), "p1\np2\nvx0\n");
    assert_eq!(v.ok(&["port-to-br", "p2"]), "br0\n");
    assert_eq!(v.ok(&["br-to-vlan", "br0"]), "0\n");
    assert_eq!(v.ok(&["br-to-parent", "br0"]), "br0\n");
    assert_eq!(v.ok(&["br-exists", "br0"]), "");
    let out = v.run(&["br-exists", "nosuch"]);
    assert_eq!(
        (out.status.code(), out.stdout.len(), out.stderr.len()),
        (Some(2), 0, 0)
    );
    assert_eq!(v.err(&["port-to-br", "nosuch"]), "no port named nosuch");
    assert_eq!(v.err(&["iface-to-br", "nosuch"]), "no interface named nosuch");

    assert_eq!(
        v.ok(&["get", "port", "p2", "tag", "trunks", "vlan_mode", "name"]),
        "10\n[20, 30]\nnative-untagged\np2\n"
    );
    assert_eq!(
        v.ok(&["get", "interface", "vx0", "type", "options", "options:key"]),
        "vxlan\n{key=\"5\", remote_ip=\"10.0.0.2\"}\n\"5\"\n"
    );
    assert_eq!(v.ok(&["get", "port", "p1", "external_ids"]), "{owner=test}\n");
    assert_eq!(
        v.err(&["get", "port", "p1", "external_ids:nope"]),
        "no key \"nope\" in Port record \"p1\" column external_ids"
    );
    assert_eq!(
        v.ok(&["get", "bridge", "br0", "other_config:mac-aging-time"]),
        "\"300\"\n"
    );
    assert_eq!(
        v.ok(&["get", "Open_vSwitch", ".", "ovs_version"]),
        format!("\"switchd {}\"\n", env!("CARGO_PKG_VERSION"))
    );
    let uuid = v.ok(&["get", "port", "p1", "_uuid"]);
    assert_eq!(
        v.ok(&["get", "port", uuid.trim(), "name"]),
        "p1\n",
        "rows are found by UUID"
    );
    assert_eq!(
        v.ok(&["get", "port", &uuid[..8], "name"]),
        "p1\n",
        "and by a UUID prefix"
    );
    assert!(v.ok(&["get", "bridge", "br0", "ports"]).contains(uuid.trim()));

    assert_eq!(
        v.ok(&[
            "--format=table",
            "--columns=name,tag,trunks",
            "list",
            "port",
            "p1",
            "p2"
        ]),
        "name tag trunks\n---- --- --------\np1   []  []\np2   10  [20, 30]\n"
    );
    assert_eq!(
        v.ok(&["--format=csv", "--columns=name,trunks", "list", "port", "p2"]),
        "name,trunks\np2,\"[20, 30]\"\n"
    );
    assert_eq!(
        v.ok(&["--format=json", "--columns=name,tag,trunks", "list", "port", "p2"]),
        "{\"data\":[[\"p2\",10,[\"set\",[20,30]]]],\"headings\":[\"name\",\"tag\",\"trunks\"]}\n"
    );
    assert_eq!(
        v.ok(&["--bare", "--columns=name", "find", "interface", "type=vxlan"]),
        "vx0\n"
    );
    assert_eq!(
        v.ok(&["--columns=name", "find", "port", "external_ids:owner=test"]),
        "name                : p1\n"
    );
    assert_eq!(
        v.ok(&[
            "--oneline",
            "list-br",
            "--",
            "add-br",
            "br2",
            "--",
            "list-ports",
            "br0"
        ]),
        "br0\\nbr1\n\np1\\np2\\nvx0\n"
    );
    assert_eq!(
        v.ok(&[
            "--columns=name",
            "list",
            "bridge",
            "br0",
            "--",
            "--columns=name",
            "list",
            "bridge",
            "br1"
        ]),
        "name                : br0\n\nname                : br1\n"
    );
    // The same through `switchctl ovs-vsctl`.
    let word = v.run_word(&["list-ports", "br0"]);
    assert!(word.status.success());
    assert_eq!(String::from_utf8_lossy(&word.stdout), "p1\np2\nvx0\n");
    let word = v.run_word(&["show"]);
    assert_eq!(String::from_utf8_lossy(&word.stdout), v.ok(&["show"]));
    // The userspace recipe of OVS: switchd is that already.
    v.ok(&[
        "--may-exist",
        "add-br",
        "br0",
        "--",
        "set",
        "bridge",
        "br0",
        "datapath_type=netdev",
    ]);
    assert_eq!(v.ok(&["get", "bridge", "br0", "datapath_type"]), "netdev\n");
    // --db=unix:PATH names the socket, over $SWITCHD_SOCKET.
    let nowhere = v.face.dir.join("nowhere.sock");
    let db = format!("--db=unix:{}", sw.socket.display());
    let out = run_with(&v.face.program(), &[], &nowhere, &[&db, "list-br"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "br0\nbr1\nbr2\n");
    let out = run_with(&v.face.program(), &[], &nowhere, &["list-br"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("ovs-vsctl: cannot connect to switchd at "),
        "{stderr}"
    );
    // --retry waits for the socket, up to --timeout.
    let out = run_with(
        &v.face.program(),
        &[],
        &nowhere,
        &["--retry", "--timeout=1", "list-br"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ovs-vsctl: no reply from switchd within 1 s\n"
    );
    let version = v.ok(&["--version"]);
    assert!(version.starts_with("ovs-vsctl (switchd) "), "{version}");
    assert!(v.ok(&["--help"]).contains("add-port BRIDGE PORT"));
}

#[test]
fn bridge_port_and_controller_columns_reach_switchd() {
    if !require_root("bridge_port_and_controller_columns_reach_switchd") {
        return;
    }
    let sw = Switchd::start();
    let v = Vsctl::new(&sw);
    v.ok(&["add-br", "br0"]);
    v.ok(&[
        "set",
        "bridge",
        "br0",
        "rstp_enable=true",
        "other_config:rstp-priority=4096",
        "other_config:mac-aging-time=60",
        "other_config:datapath-id=0000020000000042",
        "protocols=OpenFlow13",
        "external_ids:owner=test",
    ]);
    let b = &sw.show()[0];
    assert_eq!(b["rstp"], true);
    assert_eq!(b["rstp_priority"], 4096);
    assert_eq!(b["mac_aging"], 60);
    assert_eq!(b["datapath_id"], "0000020000000042");
    assert_eq!(b["protocols"], serde_json::json!(["OpenFlow13"]));
    assert_eq!(b["external_ids"]["owner"], "test");
    assert_eq!(
        v.ok(&["get", "bridge", "br0", "other_config", "datapath_id", "rstp_enable"]),
        "{datapath-id=\"0000020000000042\", mac-aging-time=\"60\", rstp-priority=\"4096\"}\n\"0000020000000042\"\ntrue\n"
    );
    v.ok(&[
        "set-controller",
        "br0",
        "tcp:127.0.0.1:6653",
        "ptcp:16633:127.0.0.1",
    ]);
    assert_eq!(
        v.ok(&["get-controller", "br0"]),
        "ptcp:16633:127.0.0.1\ntcp:127.0.0.1:6653\n"
    );
    v.ok(&["set-fail-mode", "br0", "secure"]);
    assert_eq!(v.ok(&["get-fail-mode", "br0"]), "secure\n");
    let show = v.ok(&["show"]);
    assert!(
        show.contains("\n        Controller \"tcp:127.0.0.1:6653\"\n"),
        "{show}"
    );
    assert!(show.contains("\n        fail_mode: secure\n"), "{show}");
    v.ok(&["del-fail-mode", "br0", "--", "del-controller", "br0"]);
    assert_eq!(
        v.ok(&["get-fail-mode", "br0", "--", "get-controller", "br0"]),
        "standalone\n"
    );
    assert_eq!(sw.show()[0]["controllers"], serde_json::json!([]));

    // A bond, with OVS's bond columns.
    let ns = Netns::new();
    let (m1, _) = veth_into(&sw, &ns);
    let (m2, _) = veth_into(&sw, &ns);
    v.ok(&[
        "add-bond",
        "br0",
        "bond0",
        &m1,
        &m2,
        "lacp=active",
        "bond_mode=balance-tcp",
        "other_config:lacp-time=fast",
        "other_config:bond-rebalance-interval=5000",
        "bond_updelay=100",
        "tag=30",
    ]);
    let c = &port(&sw, "bond0")["config"];
    assert_eq!(c["members"], serde_json::json!([m1, m2]));
    assert_eq!(
        (
            c["lacp"].as_str(),
            c["bond_mode"].as_str(),
            c["lacp_time"].as_str()
        ),
        (Some("active"), Some("balance-tcp"), Some("fast"))
    );
    assert_eq!(
        (
            c["bond_rebalance_interval"].as_u64(),
            c["bond_updelay"].as_u64(),
            c["tag"].as_u64()
        ),
        (Some(5000), Some(100), Some(30))
    );
    let mut ifaces = [m1.clone(), m2.clone()];
    ifaces.sort();
    assert_eq!(
        v.ok(&["list-ifaces", "br0"]),
        format!("{}\n{}\n", ifaces[0], ifaces[1])
    );
    assert_eq!(v.ok(&["list-ports", "br0"]), "bond0\n");
    assert_eq!(v.ok(&["iface-to-br", &m2]), "br0\n");
    v.ok(&[
        "set",
        "port",
        "bond0",
        "other_config:rstp-port-priority=64",
        "bond_downdelay=50",
    ]);
    let c = &port(&sw, "bond0")["config"];
    assert_eq!(
        (c["rstp_port_priority"].as_u64(), c["bond_downdelay"].as_u64()),
        (Some(64), Some(50))
    );
    v.ok(&["--with-iface", "del-port", &m1]);
    assert!(
        sw.port_info("bond0").is_none(),
        "del-port --with-iface of a member removes its bond"
    );
}

#[test]
fn refusals_are_one_line_and_change_nothing() {
    if !require_root("refusals_are_one_line_and_change_nothing") {
        return;
    }
    let sw = Switchd::start();
    let v = Vsctl::new(&sw);
    v.ok(&["add-br", "br0", "--", "add-port", "br0", "p1", "tag=10"]);
    let before = sw.snapshot();
    let cases: &[(&[&str], &str)] = &[
        (
            &["list", "Controller"],
            "table Controller is not supported by switchd",
        ),
        (
            &["set", "interface", "p1", "bfd:enable=true"],
            "column bfd of table Interface is not supported",
        ),
        (
            &["set", "interface", "p1", "options:csum=true"],
            "options:csum of table Interface is not supported",
        ),
        (
            &["set", "interface", "p1", "type=patch"],
            "Interface type \"patch\" is not supported",
        ),
        (
            &["set", "port", "p1", "other_config:bond-hash-basis=1"],
            "other_config:bond-hash-basis of table Port is not supported",
        ),
        (
            &["set", "bridge", "br0", "stp_enable=true"],
            "stp_enable=true is not supported",
        ),
        (
            &["add-br", "br9", "br0", "5"],
            "fake (VLAN) bridges are not supported",
        ),
        (
            &["emer-reset"],
            "'emer-reset' command is not supported by switchd",
        ),
        (
            &["set-manager", "ptcp:6640"],
            "'set-manager' command is not supported",
        ),
        (&["--id=@p", "get", "port", "p1"], "--id is not supported"),
        (
            &["set", "Open_vSwitch", ".", "external_ids:system-id=x"],
            "table Open_vSwitch is read-only",
        ),
        (
            &["set", "port", "p1", "name=p2"],
            "cannot modify read-only column name in table Port",
        ),
        (
            &["set", "port", "p1", "tag=4096"],
            "tag: VLAN id 4096 is out of range 0-4095",
        ),
        (
            &["set", "port", "p1", "vlan_mode=trunk"],
            "vlan_mode=trunk cannot have a tag",
        ),
        (
            &["frobnicate"],
            "unknown command 'frobnicate'; use --help for help",
        ),
        (
            &["--db=tcp:127.0.0.1:6640", "show"],
            "only unix:PATH is supported",
        ),
        // A good command first, a bad one after: the first is not done.
        (
            &["add-br", "br9", "--", "set", "port", "nosuch", "tag=1"],
            "no row \"nosuch\" in table Port",
        ),
        (
            &["add-port", "br0", "p9", "--", "get", "port", "p1", "trunk:x"],
            "cannot specify key to get for non-map column trunks",
        ),
        (
            &["del-br", "br0", "--", "list", "qos"],
            "table QoS is not supported",
        ),
        (
            &[
                "del-br",
                "br0",
                "--",
                "set",
                "interface",
                "p1",
                "mtu_request=9000",
            ],
            "no row \"p1\" in table Interface",
        ),
        (
            &["set", "bridge", "br0", "datapath_type=system"],
            "its datapath_type is netdev",
        ),
    ];
    for (args, reason) in cases {
        let e = v.err(args);
        assert!(
            e.contains(reason),
            "ovs-vsctl {args:?}: {e:?} does not say {reason:?}"
        );
        assert_eq!(sw.snapshot(), before, "ovs-vsctl {args:?} changed something");
    }
    // The same refusal through `switchctl ovs-vsctl`.
    let out = v.run_word(&["list", "Controller"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("ovs-vsctl: table Controller"));
    // --dry-run checks and changes nothing.
    v.ok(&["--dry-run", "add-br", "br9", "--", "del-br", "br0"]);
    assert_eq!(sw.snapshot(), before);
}

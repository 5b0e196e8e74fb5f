//! libvirt attaches a guest to switchd as it would to Open vSwitch
//! (issue 18): a domain with `<interface type='bridge'>`, `<virtualport
//! type='openvswitch'/>` and a VLAN tag starts, and libvirt's own
//! `ovs-vsctl` command lines (run through switchctl's `ovs-vsctl` face) add
//! its tap to the bridge with the tag and libvirt's external ids; stopping
//! the domain removes the port.
//!
//! The libvirt daemon is a real one (Debian's libvirtd 9.0), private to the
//! test: it runs in the switch's network namespace (so the tap it makes is
//! a device switchd can open) and in its own mount namespace, where the
//! test's temp dir is bound over `/run/libvirt`, `/var/lib/libvirt`,
//! `/var/log/libvirt`, `/var/cache/libvirt` and `/etc/libvirt`; its `PATH`
//! starts with a directory whose `ovs-vsctl` runs `switchctl ovs-vsctl`
//! against this test's switchd. The guest is a TCG machine without a disk:
//! only its network device matters.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;

/// A private libvirtd, killed (by its pid file) and its files removed on drop.
struct Libvirtd {
    dir: PathBuf,
    child: Child,
}

impl Libvirtd {
    fn start(sw: &Switchd) -> Libvirtd {
        let dir = std::env::temp_dir().join(format!("{}-libvirt", sw.ns.name));
        let _ = fs::remove_dir_all(&dir);
        for d in ["run", "lib", "log", "cache", "etc", "bin"] {
            fs::create_dir_all(dir.join(d)).expect("libvirt dirs");
        }
        // What the Debian package's qemu.conf would say, for a root-run
        // guest without virtlogd (no systemd here) or a security driver.
        fs::write(
            dir.join("etc/qemu.conf"),
            "user = \"root\"\ngroup = \"root\"\ndynamic_ownership = 0\nremember_owner = 0\n\
             security_driver = \"none\"\nstdio_handler = \"file\"\n",
        )
        .unwrap();
        fs::write(dir.join("etc/libvirtd.conf"), "").unwrap();
        // libvirt runs `ovs-vsctl` from its PATH with a scrubbed
        // environment: the wrapper names the test's socket itself.
        let wrapper = dir.join("bin/ovs-vsctl");
        fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec env SWITCHD_SOCKET={} {} ovs-vsctl \"$@\"\n",
                sw.socket.display(),
                bin("switchctl").display()
            ),
        )
        .unwrap();
        Command::new("chmod").arg("+x").arg(&wrapper).status().unwrap();
        let d = dir.display();
        let script = format!(
            "set -e\n\
             for m in /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt; do mkdir -p $m; done\n\
             mount --bind {d}/run /run/libvirt\n\
             mount --bind {d}/lib /var/lib/libvirt\n\
             mount --bind {d}/log /var/log/libvirt\n\
             mount --bind {d}/cache /var/cache/libvirt\n\
             mount --bind {d}/etc /etc/libvirt\n\
             export PATH={d}/bin:$PATH\n\
             exec libvirtd -f /etc/libvirt/libvirtd.conf -p {d}/libvirtd.pid\n"
        );
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &sw.ns.name,
                "unshare",
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
            ])
            .arg(&script)
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.join("libvirtd.log")).unwrap())
            .spawn()
            .expect("start libvirtd");
        let lv = Libvirtd { dir, child };
        assert!(
            poll_until(Duration::from_secs(20), || lv
                .virsh(&["version"])
                .status
                .success()),
            "libvirtd never answered: {}",
            lv.log()
        );
        lv
    }

    fn uri(&self) -> String {
        format!(
            "qemu:///system?socket={}",
            self.dir.join("run/libvirt-sock").display()
        )
    }

    fn virsh(&self, args: &[&str]) -> std::process::Output {
        Command::new("virsh")
            .arg("-c")
            .arg(self.uri())
            .args(args)
            .output()
            .expect("run virsh")
    }

    fn virsh_ok(&self, args: &[&str]) -> String {
        let out = self.virsh(args);
        assert!(
            out.status.success(),
            "virsh {args:?}: {}{}\nlibvirtd log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("libvirtd.log")).unwrap_or_default()
    }
}

impl Drop for Libvirtd {
    fn drop(&mut self) {
        if let Ok(pid) = fs::read_to_string(self.dir.join("libvirtd.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn port<'a>(show: &'a Value, name: &str) -> Option<&'a Value> {
    show[0]["ports"].as_array()?.iter().find(|p| p["name"] == name)
}

fn domain_xml(name: &str, mac: &str) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <interface type='bridge'>
      <mac address='{mac}'/>
      <source bridge='br0'/>
      <virtualport type='openvswitch'/>
      <vlan><tag id='10'/></vlan>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
"
    )
}

#[test]
fn libvirt_attaches_a_guest_with_a_vlan_through_the_ovs_vsctl_face() {
    let test = "libvirt_attaches_a_guest_with_a_vlan_through_the_ovs_vsctl_face";
    if !require_root(test)
        || !have_tool(test, "libvirtd", "libvirt-daemon")
        || !have_tool(test, "virsh", "libvirt-clients")
        || !have_tool(test, "qemu-system-x86_64", "qemu-system-x86")
    {
        return;
    }
    let sw = Switchd::start();
    // As an OVS user would make the bridge: its local port `br0` comes
    // with it, and libvirt reads that device's MTU for the guest's tap.
    let vsctl = |args: &[&str]| {
        let out = Command::new(bin("switchctl"))
            .arg("ovs-vsctl")
            .args(args)
            .env("SWITCHD_SOCKET", &sw.socket)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ovs-vsctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    vsctl(&["add-br", "br0"]);
    let lv = Libvirtd::start(&sw);
    let name = unique("dom");
    let mac = "52:54:00:5c:71:0a";
    let xml = lv.dir.join("dom.xml");
    fs::write(&xml, domain_xml(&name, mac)).unwrap();
    lv.virsh_ok(&["define", &xml.display().to_string()]);
    lv.virsh_ok(&["start", &name]);
    let uuid = lv.virsh_ok(&["domuuid", &name]).trim().to_string();
    // The tap libvirt made is on the bridge, up, in VLAN 10, with libvirt's ids.
    let iflist = lv.virsh_ok(&["domiflist", &name]);
    let tap = iflist
        .lines()
        .find(|l| l.contains(mac))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no interface in {iflist}"))
        .to_string();
    let show = sw.show();
    let p = port(&show, &tap).unwrap_or_else(|| panic!("{tap} not on br0: {show}"));
    assert_eq!(p["config"]["tag"], 10, "{p}");
    assert_eq!(p["state"]["state"], "up", "{p}");
    let ids = &p["config"]["external_ids"];
    assert_eq!(ids["attached-mac"], mac, "{p}");
    assert_eq!(ids["vm-id"], uuid.as_str(), "{p}");
    assert_eq!(ids["iface-status"], "active", "{p}");
    assert!(ids["iface-id"].as_str().is_some_and(|s| s.len() == 36), "{p}");
    // What libvirt reads back (domifstat runs `list Interface` with --data=json).
    let stats = lv.virsh_ok(&["domifstat", &name, &tap]);
    assert!(
        stats.contains("rx_bytes") || stats.contains("tx_bytes"),
        "{stats}"
    );

    // Stopped: libvirt removes the port.
    lv.virsh_ok(&["destroy", &name]);
    assert!(
        poll_until(Duration::from_secs(10), || port(&sw.show(), &tap).is_none()),
        "{tap} still on br0 after destroy: {}",
        sw.show()
    );
    lv.virsh_ok(&["undefine", &name]);
    assert!(Path::new(&lv.dir).exists());
}

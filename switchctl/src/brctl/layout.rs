//! brctl 1.7's output layouts (`brctl/brctl_cmd.c` and `brctl_disp.c`),
//! filled from switchd's replies: `show`, `showmacs`, `showstp`. Pure
//! functions from proto values to the exact text, so the tabs are
//! unit-tested against brctl's.
//!
//! Where switchd has no such value the field prints what brctl prints for
//! zero (`   0.00` for a timer, `0000` for a port id), as the kernel
//! reports for a timer that is not running; the layout never loses a line,
//! so a script that reads fields by position keeps working. The choices:
//!
//! - Bridges and interfaces are listed by name, bytewise (brctl scans
//!   sysfs with `alphasort`); a bridge list named on the command line keeps
//!   its order.
//! - Port numbers (`showmacs`' first column, `showstp`'s `eth1 (N)` and
//!   `root port`) are the ports' OpenFlow numbers (`ofport`), the number
//!   switchd shows everywhere else; the port id's low 12 bits are RSTP's
//!   own port number, which may differ.
//! - `showmacs` lists the learned entries only: switchd does not own its
//!   ports' addresses, so it has no `is local? yes` rows. An address
//!   learned on several VLANs has one row per VLAN.
//! - `showstp` prints the bridge's configured max age, hello time (2 s,
//!   fixed) and forward delay both as the values in use and as the
//!   bridge's own (brctl's `max age` / `bridge max age`): switchd does not
//!   report the root's values separately. The running timers (hello, tcn,
//!   topology change, gc, message age, forward delay, hold) and the flags
//!   are not reported, so they print as zero and empty.
//! - Port states: RSTP's discarding prints as the kernel's `blocking`
//!   (what the kernel bridge shows for a discarding port under an RSTP
//!   daemon), or `disabled` for a port out of the tree and not forwarding;
//!   learning and forwarding as they are.

use std::fmt::Write as _;

use proto::types::RSTP_HELLO_TIME;
use proto::{
    BridgeId, BridgeInfo, FdbEntry, PortInfo, PortState, RstpBridgeInfo, RstpPortId, RstpRole, RstpState,
};

/// `show`'s header, printed before the first bridge (not at all when there
/// is none, as brctl).
pub const SHOW_HEADER: &str = "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n";

/// `showmacs`' header.
pub const SHOWMACS_HEADER: &str = "port no\tmac addr\t\tis local?\tageing timer\n";

/// A bridge's identifier as switchd computes it: `rstp_priority` and the
/// bridge MAC, printed `8000.0a1b2c3d4e5f` like `br_dump_bridge_id`.
pub fn bridge_id(b: &BridgeInfo) -> BridgeId {
    b.rstp.bridge_id(b.mac)
}

/// brctl's `br_show_timer`: `%4i.%.2i` of seconds and hundredths.
fn timer(secs: u64) -> String {
    format!("{secs:4}.00")
}

/// The names of a bridge's ports, bytewise (brctl's `alphasort`).
fn sorted_ports(b: &BridgeInfo) -> Vec<&PortInfo> {
    let mut ports: Vec<&PortInfo> = b.ports.iter().collect();
    ports.sort_by(|x, y| x.name.as_bytes().cmp(y.name.as_bytes()));
    ports
}

/// One bridge of `show` (`show_bridge`): name, id, STP, then the
/// interfaces, the first on the bridge's line, each further one on a line
/// of its own after seven tabs.
pub fn show_bridge(b: &BridgeInfo) -> String {
    let stp = if b.rstp.enabled { "yes" } else { "no" };
    let mut out = format!("{}\t\t{}\t{stp}\t\t", b.name, bridge_id(b));
    let names: Vec<&str> = sorted_ports(b).iter().map(|p| p.name.as_str()).collect();
    out.push_str(&names.join("\n\t\t\t\t\t\t\t"));
    out.push('\n');
    out
}

/// `show` of these bridges, in this order, with the header if there is any.
pub fn show(bridges: &[&BridgeInfo]) -> String {
    if bridges.is_empty() {
        return String::new();
    }
    let mut out = String::from(SHOW_HEADER);
    bridges.iter().for_each(|b| out.push_str(&show_bridge(b)));
    out
}

/// The OpenFlow number of port `name` of `b`, 0 if it has none.
fn port_no(b: &BridgeInfo, name: &str) -> u16 {
    b.ports
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.ofport)
        .unwrap_or(0)
}

/// `showmacs` of bridge `b` with its MAC table `fdb` (`br_cmd_showmacs`):
/// by address (then VLAN), the port number right-aligned in 3, never
/// local, the age as the timer.
pub fn showmacs(b: &BridgeInfo, fdb: &[FdbEntry]) -> String {
    let mut rows: Vec<&FdbEntry> = fdb.iter().collect();
    rows.sort_by(|x, y| (x.mac, x.vlan, &x.port).cmp(&(y.mac, y.vlan, &y.port)));
    let mut out = String::from(SHOWMACS_HEADER);
    for e in rows {
        let _ = writeln!(
            out,
            "{:3}\t{}\tno\t\t{}",
            port_no(b, &e.port),
            e.mac,
            timer(e.age)
        );
    }
    out
}

/// The kernel's name for a port's state (`br_get_state_name`).
fn state_name(role: RstpRole, state: RstpState) -> &'static str {
    match (role, state) {
        (_, RstpState::Forwarding) => "forwarding",
        (_, RstpState::Learning) => "learning",
        (RstpRole::Disabled, RstpState::Discarding) => "disabled",
        (_, RstpState::Discarding) => "blocking",
    }
}

/// One port of `showstp`, as `dump_port_info` has it.
struct StpPort<'a> {
    name: &'a str,
    no: u16,
    id: RstpPortId,
    state: &'static str,
    designated_root: BridgeId,
    path_cost: u32,
    designated_bridge: BridgeId,
    /// `None` prints `0000` (not known).
    designated_port: Option<RstpPortId>,
    designated_cost: u32,
}

impl StpPort<'_> {
    fn write(&self, out: &mut String) {
        let t0 = timer(0);
        let dport = self
            .designated_port
            .map_or_else(|| "0000".to_owned(), |p| p.to_string());
        let _ = write!(
            out,
            "{} ({})\n \
             port id\t\t{}\t\t\tstate\t\t{:>15}\n \
             designated root\t{}\tpath cost\t\t{:4}\n \
             designated bridge\t{}\tmessage age timer\t{t0}\n \
             designated port\t{dport}\t\t\tforward delay timer\t{t0}\n \
             designated cost\t{:4}\t\t\thold timer\t\t{t0}\n \
             flags\t\t\t\n\n",
            self.name,
            self.no,
            self.id,
            self.state,
            self.designated_root,
            self.path_cost,
            self.designated_bridge,
            self.designated_cost,
        );
    }
}

/// `showstp` of bridge `b` (`br_dump_info`, then `dump_port_info` per
/// port by name). `rstp` is its spanning tree state when it runs RSTP;
/// without it the bridge is its own root and its ports forward when up
/// (disabled when down), as the kernel shows a bridge with STP off.
pub fn showstp(b: &BridgeInfo, rstp: Option<&RstpBridgeInfo>) -> String {
    let own = bridge_id(b);
    let (root, root_port, root_cost) = match rstp {
        Some(r) => (
            r.root_id,
            r.root_port.as_deref().map_or(0, |p| port_no(b, p)),
            r.root_path_cost,
        ),
        None => (own, 0, 0),
    };
    let cfg = &b.rstp;
    let mut out = String::new();
    let t0 = timer(0);
    let (max_age, hello, fd) = (
        timer(cfg.max_age.into()),
        timer(RSTP_HELLO_TIME.into()),
        timer(cfg.forward_delay.into()),
    );
    let _ = write!(
        out,
        "{name}\n \
         bridge id\t\t{own}\n \
         designated root\t{root}\n \
         root port\t\t{root_port:4}\t\t\tpath cost\t\t{root_cost:4}\n \
         max age\t\t{max_age}\t\t\tbridge max age\t\t{max_age}\n \
         hello time\t\t{hello}\t\t\tbridge hello time\t{hello}\n \
         forward delay\t\t{fd}\t\t\tbridge forward delay\t{fd}\n \
         ageing time\t\t{aging}\n \
         hello timer\t\t{t0}\t\t\ttcn timer\t\t{t0}\n \
         topology change timer\t{t0}\t\t\tgc timer\t\t{t0}\n \
         flags\t\t\t\n\n\n",
        name = b.name,
        aging = timer(b.mac_aging.into()),
    );
    for p in sorted_ports(b) {
        let no = p.ofport.unwrap_or(0);
        let row = match rstp.and_then(|r| r.ports.iter().find(|rp| rp.port == p.name)) {
            Some(rp) => {
                // What this bridge knows of the port's segment: it is the
                // designated bridge on a designated port (and on one out of
                // the tree); a root port's designated cost is what the
                // upstream bridge advertises, the root path cost less the
                // port's own. An alternate or backup port's is not reported.
                let ours = matches!(rp.role, RstpRole::Designated | RstpRole::Disabled);
                StpPort {
                    name: &p.name,
                    no,
                    id: rp.port_id,
                    state: state_name(rp.role, rp.state),
                    designated_root: root,
                    path_cost: rp.path_cost,
                    designated_bridge: rp.designated_bridge,
                    designated_port: ours.then_some(rp.port_id),
                    designated_cost: match rp.role {
                        RstpRole::Designated | RstpRole::Disabled => root_cost,
                        RstpRole::Root => root_cost.saturating_sub(rp.path_cost),
                        RstpRole::Alternate | RstpRole::Backup => 0,
                    },
                }
            }
            // No RSTP (or a port it does not list): forwarding when up.
            None => {
                let pc = p.config.rstp();
                let id = RstpPortId::new(pc.port_priority, no);
                StpPort {
                    name: &p.name,
                    no,
                    id,
                    state: match p.state {
                        PortState::Up => "forwarding",
                        PortState::Down { .. } => "disabled",
                    },
                    designated_root: root,
                    path_cost: pc.path_cost,
                    designated_bridge: own,
                    designated_port: Some(id),
                    designated_cost: root_cost,
                }
            }
        };
        row.write(&mut out);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proto::types::MAC_AGING_DEFAULT;
    use proto::{
        FailMode, MacAddr, OfVersions, PortConfig, PortType, RstpBridgeConfig, RstpProtocol, VlanMode,
    };

    pub(crate) fn port(name: &str, ofport: u16, up: bool) -> PortInfo {
        PortInfo {
            name: name.into(),
            ofport: Some(ofport),
            port_type: PortType::System,
            config: PortConfig::default(),
            vlan_mode: VlanMode::Trunk,
            state: if up {
                PortState::Up
            } else {
                PortState::Down {
                    reason: "no such device".into(),
                }
            },
            mtu: Some(1500),
        }
    }

    /// A bridge with MAC 0a:1b:2c:3d:4e:5f, the default settings (RSTP off)
    /// and `ports`.
    pub(crate) fn bridge(name: &str, ports: Vec<PortInfo>) -> BridgeInfo {
        BridgeInfo {
            name: name.into(),
            mac: MacAddr([0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f]),
            mac_aging: MAC_AGING_DEFAULT,
            mac_table_size: 8192,
            mac_entries: 0,
            rstp: RstpBridgeConfig::default(),
            fail_mode: FailMode::Standalone,
            protocols: OfVersions::default(),
            datapath_id: None,
            controllers: vec![],
            sflow: vec![],
            ipfix: vec![],
            external_ids: Default::default(),
            ports,
        }
    }

    /// br0 with eth1 (1) and vnet0 (2) up, and a0 (3) down: added last,
    /// listed first.
    fn br0() -> BridgeInfo {
        bridge(
            "br0",
            vec![
                port("eth1", 1, true),
                port("vnet0", 2, true),
                port("a0", 3, false),
            ],
        )
    }

    #[test]
    fn show_is_brctls_layout() {
        let mut b = br0();
        let mut empty = bridge("br1", vec![]);
        empty.rstp.enabled = true;
        empty.rstp.priority = 4096;
        let one = bridge("br2", vec![port("eth9", 7, true)]);
        b.ports.sort_by(|x, y| y.name.cmp(&x.name));
        assert_eq!(
            show(&[&b, &empty, &one]),
            "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n\
             br0\t\t8000.0a1b2c3d4e5f\tno\t\ta0\n\
             \t\t\t\t\t\t\teth1\n\
             \t\t\t\t\t\t\tvnet0\n\
             br1\t\t1000.0a1b2c3d4e5f\tyes\t\t\n\
             br2\t\t8000.0a1b2c3d4e5f\tno\t\teth9\n"
        );
        // No bridge, no header (brctl prints it with the first bridge).
        assert_eq!(show(&[]), "");
        // Names sort bytewise: upper case first, as alphasort in C.
        let mixed = bridge(
            "b",
            vec![
                port("eth10", 1, true),
                port("Eth2", 2, true),
                port("eth2", 3, true),
            ],
        );
        assert_eq!(
            show_bridge(&mixed),
            "b\t\t8000.0a1b2c3d4e5f\tno\t\tEth2\n\t\t\t\t\t\t\teth10\n\t\t\t\t\t\t\teth2\n"
        );
    }

    #[test]
    fn showmacs_is_brctls_layout() {
        let b = br0();
        let e = |port: &str, vlan, mac: &str, age| FdbEntry {
            port: port.into(),
            vlan,
            mac: mac.parse().unwrap(),
            age,
        };
        let fdb = vec![
            e("vnet0", 0, "52:54:00:12:34:56", 2),
            e("eth1", 0, "02:00:00:00:00:01", 0),
            e("eth1", 20, "52:54:00:12:34:56", 1234),
            e("gone", 0, "00:00:5e:00:53:01", 17),
        ];
        assert_eq!(
            showmacs(&b, &fdb),
            "port no\tmac addr\t\tis local?\tageing timer\n\
             \x20 0\t00:00:5e:00:53:01\tno\t\t  17.00\n\
             \x20 1\t02:00:00:00:00:01\tno\t\t   0.00\n\
             \x20 2\t52:54:00:12:34:56\tno\t\t   2.00\n\
             \x20 1\t52:54:00:12:34:56\tno\t\t1234.00\n"
        );
        assert_eq!(showmacs(&b, &[]), SHOWMACS_HEADER);
        // A port number past 999 widens the column, as %3i does.
        let big = bridge("b", vec![port("p", 4242, true)]);
        assert!(showmacs(&big, &[e("p", 0, "02:00:00:00:00:02", 5)])
            .ends_with("\n4242\t02:00:00:00:00:02\tno\t\t   5.00\n"));
    }

    /// The bridge section with the defaults: as the kernel bridge prints
    /// it with STP off (timers aside).
    const BR0_SECTION: &str = "br0\n \
        bridge id\t\t8000.0a1b2c3d4e5f\n \
        designated root\t8000.0a1b2c3d4e5f\n \
        root port\t\t   0\t\t\tpath cost\t\t   0\n \
        max age\t\t  20.00\t\t\tbridge max age\t\t  20.00\n \
        hello time\t\t   2.00\t\t\tbridge hello time\t   2.00\n \
        forward delay\t\t  15.00\t\t\tbridge forward delay\t  15.00\n \
        ageing time\t\t 300.00\n \
        hello timer\t\t   0.00\t\t\ttcn timer\t\t   0.00\n \
        topology change timer\t   0.00\t\t\tgc timer\t\t   0.00\n \
        flags\t\t\t\n\n\n";

    #[test]
    fn showstp_without_rstp() {
        let mut b = br0();
        b.ports[1].config.rstp_port_priority = Some(64);
        b.ports[1].config.rstp_path_cost = Some(100);
        let want = format!(
            "{BR0_SECTION}\
             a0 (3)\n \
             port id\t\t8003\t\t\tstate\t\t       disabled\n \
             designated root\t8000.0a1b2c3d4e5f\tpath cost\t\t20000\n \
             designated bridge\t8000.0a1b2c3d4e5f\tmessage age timer\t   0.00\n \
             designated port\t8003\t\t\tforward delay timer\t   0.00\n \
             designated cost\t   0\t\t\thold timer\t\t   0.00\n \
             flags\t\t\t\n\n\
             eth1 (1)\n \
             port id\t\t8001\t\t\tstate\t\t     forwarding\n \
             designated root\t8000.0a1b2c3d4e5f\tpath cost\t\t20000\n \
             designated bridge\t8000.0a1b2c3d4e5f\tmessage age timer\t   0.00\n \
             designated port\t8001\t\t\tforward delay timer\t   0.00\n \
             designated cost\t   0\t\t\thold timer\t\t   0.00\n \
             flags\t\t\t\n\n\
             vnet0 (2)\n \
             port id\t\t4002\t\t\tstate\t\t     forwarding\n \
             designated root\t8000.0a1b2c3d4e5f\tpath cost\t\t 100\n \
             designated bridge\t8000.0a1b2c3d4e5f\tmessage age timer\t   0.00\n \
             designated port\t4002\t\t\tforward delay timer\t   0.00\n \
             designated cost\t   0\t\t\thold timer\t\t   0.00\n \
             flags\t\t\t\n\n"
        );
        assert_eq!(showstp(&b, None), want);
        assert_eq!(showstp(&bridge("br0", vec![]), None), BR0_SECTION);
    }

    #[test]
    fn showstp_with_rstp() {
        let mut b = br0();
        b.rstp.enabled = true;
        b.rstp.priority = 8192;
        b.rstp.max_age = 6;
        b.rstp.forward_delay = 4;
        b.mac_aging = 60;
        let own: BridgeId = "2000.0a1b2c3d4e5f".parse().unwrap();
        let root: BridgeId = "1000.020000000001".parse().unwrap();
        let rp = |port: &str, role, state, cost, id: &str, db: BridgeId| proto::RstpPortInfo {
            port: port.into(),
            role,
            state,
            path_cost: cost,
            port_id: id.parse().unwrap(),
            designated_bridge: db,
            edge: false,
            rx_bpdus: 0,
            tx_bpdus: 0,
            protocol: RstpProtocol::Rstp,
        };
        let info = RstpBridgeInfo {
            bridge: "br0".into(),
            bridge_id: own,
            root_id: root,
            root_port: Some("vnet0".into()),
            root_path_cost: 20100,
            topology_changes: 3,
            ports: vec![
                rp(
                    "eth1",
                    RstpRole::Alternate,
                    RstpState::Discarding,
                    20000,
                    "8001",
                    root,
                ),
                rp("vnet0", RstpRole::Root, RstpState::Forwarding, 100, "8002", root),
                rp(
                    "a0",
                    RstpRole::Designated,
                    RstpState::Learning,
                    20000,
                    "8003",
                    own,
                ),
            ],
            fdb_flushes: 1,
        };
        let want = "br0\n \
            bridge id\t\t2000.0a1b2c3d4e5f\n \
            designated root\t1000.020000000001\n \
            root port\t\t   2\t\t\tpath cost\t\t20100\n \
            max age\t\t   6.00\t\t\tbridge max age\t\t   6.00\n \
            hello time\t\t   2.00\t\t\tbridge hello time\t   2.00\n \
            forward delay\t\t   4.00\t\t\tbridge forward delay\t   4.00\n \
            ageing time\t\t  60.00\n \
            hello timer\t\t   0.00\t\t\ttcn timer\t\t   0.00\n \
            topology change timer\t   0.00\t\t\tgc timer\t\t   0.00\n \
            flags\t\t\t\n\n\n\
            a0 (3)\n \
            port id\t\t8003\t\t\tstate\t\t       learning\n \
            designated root\t1000.020000000001\tpath cost\t\t20000\n \
            designated bridge\t2000.0a1b2c3d4e5f\tmessage age timer\t   0.00\n \
            designated port\t8003\t\t\tforward delay timer\t   0.00\n \
            designated cost\t20100\t\t\thold timer\t\t   0.00\n \
            flags\t\t\t\n\n\
            eth1 (1)\n \
            port id\t\t8001\t\t\tstate\t\t       blocking\n \
            designated root\t1000.020000000001\tpath cost\t\t20000\n \
            designated bridge\t1000.020000000001\tmessage age timer\t   0.00\n \
            designated port\t0000\t\t\tforward delay timer\t   0.00\n \
            designated cost\t   0\t\t\thold timer\t\t   0.00\n \
            flags\t\t\t\n\n\
            vnet0 (2)\n \
            port id\t\t8002\t\t\tstate\t\t     forwarding\n \
            designated root\t1000.020000000001\tpath cost\t\t 100\n \
            designated bridge\t1000.020000000001\tmessage age timer\t   0.00\n \
            designated port\t0000\t\t\tforward delay timer\t   0.00\n \
            designated cost\t20000\t\t\thold timer\t\t   0.00\n \
            flags\t\t\t\n\n";
        assert_eq!(showstp(&b, Some(&info)), want);
    }

    #[test]
    fn kernel_state_names() {
        use RstpRole::*;
        use RstpState::*;
        assert_eq!(state_name(Designated, Forwarding), "forwarding");
        assert_eq!(state_name(Root, Learning), "learning");
        assert_eq!(state_name(Alternate, Discarding), "blocking");
        assert_eq!(state_name(Backup, Discarding), "blocking");
        assert_eq!(state_name(Designated, Discarding), "blocking");
        assert_eq!(state_name(Disabled, Discarding), "disabled");
        // Out of the tree (rstp_enable=false): always forwarding.
        assert_eq!(state_name(Disabled, Forwarding), "forwarding");
    }
}

//! Replies `switchd` sends back: one per request, either a [`Reply`] or an
//! [`crate::Error`]. The structures here are also what `switchctl --json`
//! prints, so field names are part of the user-facing contract.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::{BridgeId, MacAddr, PortConfig, PortType, RstpBridgeConfig, RstpPortId, VlanMode};

/// A successful reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "kebab-case")]
pub enum Reply {
    /// The change was applied (and saved).
    Done,
    /// Names (bridges or ports).
    Names(Vec<String>),
    /// `show`: every bridge.
    Show(Vec<BridgeInfo>),
    /// `fdb-show`: entries oldest first.
    Fdb(Vec<FdbEntry>),
    /// `fdb-flush`: how many entries were removed.
    Flushed {
        /// Entries removed.
        removed: u64,
    },
    /// `port-stats`: counters per port.
    Stats(Vec<PortStats>),
    /// `rstp-show`: spanning tree state per bridge.
    Rstp(RstpInfo),
}

/// A bridge as `show` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeInfo {
    /// Bridge name.
    pub name: String,
    /// The bridge's own MAC address (locally administered, derived from
    /// its name; used in the bridge id). All zero from a daemon that
    /// predates it.
    #[serde(default)]
    pub mac: MacAddr,
    /// Seconds a MAC entry lives without traffic.
    pub mac_aging: u32,
    /// Maximum MAC entries.
    pub mac_table_size: u32,
    /// MAC entries now.
    pub mac_entries: u64,
    /// Spanning tree settings, as the keys `rstp`, `rstp_priority`, ...
    /// next to `mac_aging` (defaults when absent).
    #[serde(flatten)]
    pub rstp: RstpBridgeConfig,
    /// Ports in the order they were added.
    pub ports: Vec<PortInfo>,
}

/// A port as `show` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortInfo {
    /// Port name.
    pub name: String,
    /// Port type.
    #[serde(rename = "type")]
    pub port_type: PortType,
    /// The configuration as stored.
    pub config: PortConfig,
    /// The VLAN mode in force.
    pub vlan_mode: VlanMode,
    /// Up or down, and why.
    pub state: PortState,
    /// Largest frame payload sent out of the port, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

/// Whether a port moves frames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum PortState {
    /// Attached to its device and forwarding.
    Up,
    /// Configured but not forwarding.
    Down {
        /// Why, e.g. "no such device".
        reason: String,
    },
}

/// One learned MAC entry (OVS `fdb/show` columns, with the port's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FdbEntry {
    /// Port name.
    pub port: String,
    /// VLAN id.
    pub vlan: u16,
    /// MAC address.
    pub mac: MacAddr,
    /// Seconds since the MAC was last seen.
    pub age: u64,
}

/// Counters of one port.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PortStats {
    /// Bridge name.
    pub bridge: String,
    /// Port name.
    pub port: String,
    /// Frames received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Received frames dropped (the sum of `drops`).
    pub rx_dropped: u64,
    /// Receive errors from the device.
    pub rx_errors: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Frames not sent (queue full, too big for the port).
    pub tx_dropped: u64,
    /// Send errors from the device.
    pub tx_errors: u64,
    /// Drops by reason name (received frames attributed to the ingress
    /// port, egress drops to the egress port); only non-zero reasons.
    #[serde(default)]
    pub drops: BTreeMap<String, u64>,
}

/// `rstp-show`: the spanning tree state of bridges that run RSTP. Its JSON
/// is the contract of SPEC §7: `{"bridges":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RstpInfo {
    /// One entry per bridge, in creation order.
    pub bridges: Vec<RstpBridgeInfo>,
}

/// The spanning tree state of one bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RstpBridgeInfo {
    /// Bridge name.
    pub bridge: String,
    /// This bridge's identifier (`8000.020000000001`).
    pub bridge_id: BridgeId,
    /// The root bridge's identifier; equal to `bridge_id` on the root.
    pub root_id: BridgeId,
    /// The port towards the root; `None` on the root bridge.
    pub root_port: Option<String>,
    /// Cost of the path to the root (0 on the root).
    pub root_path_cost: u32,
    /// Topology changes detected or received.
    pub topology_changes: u64,
    /// Ports of the bridge, in the order they were added.
    pub ports: Vec<RstpPortInfo>,
    /// MAC table flushes caused by topology changes.
    pub fdb_flushes: u64,
}

impl RstpBridgeInfo {
    /// Whether this bridge is the root of its tree.
    pub fn is_root(&self) -> bool {
        self.root_id == self.bridge_id
    }
}

/// The spanning tree state of one port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RstpPortInfo {
    /// Port name.
    pub port: String,
    /// Port role.
    pub role: RstpRole,
    /// Port state.
    pub state: RstpState,
    /// Path cost in force.
    pub path_cost: u32,
    /// Port identifier (`8001`: priority 128, port number 1).
    pub port_id: RstpPortId,
    /// The designated bridge of the port's segment.
    pub designated_bridge: BridgeId,
    /// Operating as an edge port.
    pub edge: bool,
    /// BPDUs received.
    pub rx_bpdus: u64,
    /// BPDUs sent.
    pub tx_bpdus: u64,
    /// Which BPDUs the port sends: RSTP, or 802.1D STP after it heard an
    /// STP bridge (or with `rstp_force_protocol_version=0`).
    pub protocol: RstpProtocol,
}

/// An RSTP port role (802.1D-2004 §17.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RstpRole {
    /// The port towards the root bridge.
    Root,
    /// The port that forwards for its segment.
    Designated,
    /// A blocked alternative path to the root.
    Alternate,
    /// A blocked backup of a designated port on the same segment.
    Backup,
    /// Not in the tree (`rstp_enable=false`, or link down).
    Disabled,
}

impl RstpRole {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RstpRole::Root => "root",
            RstpRole::Designated => "designated",
            RstpRole::Alternate => "alternate",
            RstpRole::Backup => "backup",
            RstpRole::Disabled => "disabled",
        }
    }
}

/// An RSTP port state (802.1D-2004 §17.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RstpState {
    /// Neither forwards nor learns.
    Discarding,
    /// Learns but does not forward.
    Learning,
    /// Forwards and learns.
    Forwarding,
}

impl RstpState {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RstpState::Discarding => "discarding",
            RstpState::Learning => "learning",
            RstpState::Forwarding => "forwarding",
        }
    }
}

/// The BPDU format a port sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RstpProtocol {
    /// RSTP BPDUs (802.1D-2004).
    Rstp,
    /// 802.1D configuration and TCN BPDUs.
    Stp,
}

impl RstpProtocol {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RstpProtocol::Rstp => "rstp",
            RstpProtocol::Stp => "stp",
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    fn id(s: &str) -> BridgeId {
        s.parse().unwrap()
    }

    /// Two bridges: br0 the root with an edge port and a port running STP,
    /// br1 reaching it through p1 with an alternate port.
    pub(crate) fn sample_rstp() -> RstpInfo {
        RstpInfo {
            bridges: vec![
                RstpBridgeInfo {
                    bridge: "br0".into(),
                    bridge_id: id("8000.020000000001"),
                    root_id: id("8000.020000000001"),
                    root_port: None,
                    root_path_cost: 0,
                    topology_changes: 2,
                    ports: vec![
                        RstpPortInfo {
                            port: "vnet0".into(),
                            role: RstpRole::Designated,
                            state: RstpState::Forwarding,
                            path_cost: 20000,
                            port_id: RstpPortId::new(128, 1),
                            designated_bridge: id("8000.020000000001"),
                            edge: true,
                            rx_bpdus: 0,
                            tx_bpdus: 31,
                            protocol: RstpProtocol::Rstp,
                        },
                        RstpPortInfo {
                            port: "eth1".into(),
                            role: RstpRole::Designated,
                            state: RstpState::Learning,
                            path_cost: 2000,
                            port_id: RstpPortId::new(64, 2),
                            designated_bridge: id("8000.020000000001"),
                            edge: false,
                            rx_bpdus: 4,
                            tx_bpdus: 12,
                            protocol: RstpProtocol::Stp,
                        },
                    ],
                    fdb_flushes: 1,
                },
                RstpBridgeInfo {
                    bridge: "br1".into(),
                    bridge_id: id("9000.02000000000a"),
                    root_id: id("8000.020000000001"),
                    root_port: Some("p1".into()),
                    root_path_cost: 20000,
                    topology_changes: 0,
                    ports: vec![
                        RstpPortInfo {
                            port: "p1".into(),
                            role: RstpRole::Root,
                            state: RstpState::Forwarding,
                            path_cost: 20000,
                            port_id: RstpPortId::new(128, 1),
                            designated_bridge: id("8000.020000000001"),
                            edge: false,
                            rx_bpdus: 120,
                            tx_bpdus: 3,
                            protocol: RstpProtocol::Rstp,
                        },
                        RstpPortInfo {
                            port: "p2".into(),
                            role: RstpRole::Alternate,
                            state: RstpState::Discarding,
                            path_cost: 20000,
                            port_id: RstpPortId::new(128, 2),
                            designated_bridge: id("8000.020000000002"),
                            edge: false,
                            rx_bpdus: 118,
                            tx_bpdus: 2,
                            protocol: RstpProtocol::Rstp,
                        },
                        RstpPortInfo {
                            port: "vx0".into(),
                            role: RstpRole::Backup,
                            state: RstpState::Discarding,
                            path_cost: 200000000,
                            port_id: RstpPortId::new(240, 3),
                            designated_bridge: id("9000.02000000000a"),
                            edge: false,
                            rx_bpdus: 7,
                            tx_bpdus: 7,
                            protocol: RstpProtocol::Rstp,
                        },
                        RstpPortInfo {
                            port: "tap9".into(),
                            role: RstpRole::Disabled,
                            state: RstpState::Forwarding,
                            path_cost: 20000,
                            port_id: RstpPortId::new(128, 4),
                            designated_bridge: id("9000.02000000000a"),
                            edge: false,
                            rx_bpdus: 0,
                            tx_bpdus: 0,
                            protocol: RstpProtocol::Rstp,
                        },
                    ],
                    fdb_flushes: 0,
                },
            ],
        }
    }

    /// The `rstp-show` JSON of SPEC §7, field for field.
    #[test]
    fn rstp_json_is_the_spec_shape() {
        let v = serde_json::to_value(sample_rstp()).unwrap();
        let port = |port: &str,
                    role: &str,
                    state: &str,
                    cost: u32,
                    pid: &str,
                    dbr: &str,
                    edge: bool,
                    rx: u64,
                    tx: u64,
                    proto: &str| {
            json!({
                "port": port, "role": role, "state": state, "path_cost": cost, "port_id": pid,
                "designated_bridge": dbr, "edge": edge, "rx_bpdus": rx, "tx_bpdus": tx, "protocol": proto,
            })
        };
        let expected = json!({"bridges": [
            {
                "bridge": "br0",
                "bridge_id": "8000.020000000001",
                "root_id": "8000.020000000001",
                "root_port": null,
                "root_path_cost": 0,
                "topology_changes": 2,
                "ports": [
                    port("vnet0", "designated", "forwarding", 20000, "8001", "8000.020000000001", true, 0, 31, "rstp"),
                    port("eth1", "designated", "learning", 2000, "4002", "8000.020000000001", false, 4, 12, "stp"),
                ],
                "fdb_flushes": 1,
            },
            {
                "bridge": "br1",
                "bridge_id": "9000.02000000000a",
                "root_id": "8000.020000000001",
                "root_port": "p1",
                "root_path_cost": 20000,
                "topology_changes": 0,
                "ports": [
                    port("p1", "root", "forwarding", 20000, "8001", "8000.020000000001", false, 120, 3, "rstp"),
                    port("p2", "alternate", "discarding", 20000, "8002", "8000.020000000002", false, 118, 2, "rstp"),
                    port("vx0", "backup", "discarding", 200000000, "f003", "9000.02000000000a", false, 7, 7, "rstp"),
                    port("tap9", "disabled", "forwarding", 20000, "8004", "9000.02000000000a", false, 0, 0, "rstp"),
                ],
                "fdb_flushes": 0,
            },
        ]});
        assert_eq!(v, expected);
        // exactly these keys, no more (the Value comparison above already
        // says so; spelled out for whoever edits the structs)
        let keys = |o: &serde_json::Value| -> Vec<String> {
            let mut k: Vec<String> = o.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&v), ["bridges"]);
        assert_eq!(
            keys(&v["bridges"][0]),
            [
                "bridge",
                "bridge_id",
                "fdb_flushes",
                "ports",
                "root_id",
                "root_path_cost",
                "root_port",
                "topology_changes"
            ]
        );
        assert_eq!(
            keys(&v["bridges"][0]["ports"][0]),
            [
                "designated_bridge",
                "edge",
                "path_cost",
                "port",
                "port_id",
                "protocol",
                "role",
                "rx_bpdus",
                "state",
                "tx_bpdus"
            ]
        );
        // and it decodes back
        assert_eq!(serde_json::from_value::<RstpInfo>(v).unwrap(), sample_rstp());
        assert_eq!(
            serde_json::to_value(RstpInfo::default()).unwrap(),
            json!({"bridges": []})
        );
    }

    #[test]
    fn rstp_reply_on_the_wire_and_root() {
        let info = sample_rstp();
        assert!(info.bridges[0].is_root());
        assert!(!info.bridges[1].is_root());
        let v = serde_json::to_value(Reply::Rstp(info.clone())).unwrap();
        assert_eq!(v["kind"], "rstp");
        assert_eq!(v["data"], serde_json::to_value(&info).unwrap());
        assert_eq!(serde_json::from_value::<Reply>(v).unwrap(), Reply::Rstp(info));
        for (r, s) in [
            (RstpRole::Root, "root"),
            (RstpRole::Designated, "designated"),
            (RstpRole::Alternate, "alternate"),
            (RstpRole::Backup, "backup"),
            (RstpRole::Disabled, "disabled"),
        ] {
            assert_eq!(r.as_str(), s);
            assert_eq!(serde_json::to_value(r).unwrap(), s);
        }
        for (st, s) in [
            (RstpState::Discarding, "discarding"),
            (RstpState::Learning, "learning"),
            (RstpState::Forwarding, "forwarding"),
        ] {
            assert_eq!(st.as_str(), s);
            assert_eq!(serde_json::to_value(st).unwrap(), s);
        }
        for (p, s) in [(RstpProtocol::Rstp, "rstp"), (RstpProtocol::Stp, "stp")] {
            assert_eq!(p.as_str(), s);
            assert_eq!(serde_json::to_value(p).unwrap(), s);
        }
        // a bad id or role from a daemon is a decode error, not a guess
        let mut bad = serde_json::to_value(sample_rstp()).unwrap();
        bad["bridges"][0]["ports"][0]["role"] = json!("Root");
        assert!(serde_json::from_value::<RstpInfo>(bad).is_err());
        let mut bad = serde_json::to_value(sample_rstp()).unwrap();
        bad["bridges"][0]["root_id"] = json!("32768.020000000001");
        assert!(serde_json::from_value::<RstpInfo>(bad).is_err());
    }

    #[test]
    fn bridge_info_carries_mac_and_rstp_keys() {
        let b = BridgeInfo {
            name: "br0".into(),
            mac: MacAddr([2, 0x5c, 0, 0, 0, 1]),
            mac_aging: 300,
            mac_table_size: 8192,
            mac_entries: 0,
            rstp: RstpBridgeConfig {
                enabled: true,
                priority: 4096,
                ..Default::default()
            },
            ports: vec![],
        };
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(
            v,
            json!({
                "name": "br0",
                "mac": "02:5c:00:00:00:01",
                "mac_aging": 300,
                "mac_table_size": 8192,
                "mac_entries": 0,
                "rstp": true,
                "rstp_priority": 4096,
                "rstp_max_age": 20,
                "rstp_forward_delay": 15,
                "rstp_transmit_hold_count": 6,
                "rstp_force_protocol_version": 2,
                "ports": [],
            })
        );
        assert_eq!(serde_json::from_value::<BridgeInfo>(v).unwrap(), b);
        // a reply from a daemon that predates RSTP still decodes
        let old: BridgeInfo = serde_json::from_value(json!({
            "name": "br0", "mac_aging": 300, "mac_table_size": 8192, "mac_entries": 0, "ports": []
        }))
        .unwrap();
        assert!(old.mac.is_zero());
        assert_eq!(old.rstp, RstpBridgeConfig::default());
    }
}

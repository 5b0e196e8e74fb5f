//! Replies `switchd` sends back: one per request, either a [`Reply`] or an
//! [`crate::Error`]. The structures here are also what `switchctl --json`
//! prints, so field names are part of the user-facing contract.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::{MacAddr, PortConfig, PortType, VlanMode};

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
}

/// A bridge as `show` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeInfo {
    /// Bridge name.
    pub name: String,
    /// Seconds a MAC entry lives without traffic.
    pub mac_aging: u32,
    /// Maximum MAC entries.
    pub mac_table_size: u32,
    /// MAC entries now.
    pub mac_entries: u64,
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

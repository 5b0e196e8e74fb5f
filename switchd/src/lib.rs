//! switchd: a userspace virtual L2 switch.
//!
//! Layout, from the wire up:
//! - [`wire`]: byte-level views of Ethernet/802.1Q, VXLAN, GRE and virtio-net headers (no I/O, no state);
//! - [`vlan`]: SPEC §4 port VLAN rules (ingress classification, egress encoding);
//! - [`batch`]: frame buffers and egress edits, what the core and the I/O layer hand each other;
//! - [`fdb`]: the MAC learning table with ageing and fair eviction;
//! - [`pipeline`]: the pure per-frame decision (parse → VLAN classify → learn → decide → egress);
//! - [`offload`]: checksum completion and software segmentation, for what a virtio-net header asks;
//! - [`stats`]: drop reasons and per-port counters;
//! - [`capture`]: the BPF filter and the engine → reader queue of `switchctl capture`;
//! - [`port`]: one file per port kind (tunnels in `port/tunnel/`), all `unsafe` in `port/sys/`;
//! - [`engine`]: owns every bridge, port and table; the mio poll loop;
//! - [`control`]: the Unix-socket server that talks to the engine over a channel;
//! - [`config`]: the persistent db;
//! - [`daemon`]: start-up and shutdown of the whole daemon (`switchd::daemon::run`).

pub mod batch;
pub mod bond;
pub mod capture;
pub mod config;
mod control;
pub mod daemon;
mod engine;
pub mod fdb;
pub mod flow;
pub mod lacp;
pub mod offload;
pub mod openflow;
pub mod pipeline;
mod port;
mod rstp;
pub mod stats;
pub mod vlan;
pub mod wire;

/// Index of a port inside the engine (its slot; also its mio token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortId(pub u32);

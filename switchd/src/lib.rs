//! switchd: a userspace virtual L2 switch.
//!
//! Layout, from the wire up:
//! - [`wire`]: byte-level views of Ethernet/802.1Q, VXLAN, GRE and virtio-net headers (no I/O, no state);
//! - [`vlan`]: SPEC §4 port VLAN rules (ingress classification, egress encoding);
//! - [`batch`]: frame buffers and egress edits, what the core and the I/O layer hand each other;
//! - [`fdb`]: the MAC learning table with ageing and fair eviction;
//! - [`pipeline`]: the pure per-frame decision (parse → VLAN classify → learn → decide → egress);
//! - [`qos`]: token buckets, port policers, OpenFlow meters and their syntax (SPEC §12);
//! - [`offload`]: checksum completion and software segmentation, for what a virtio-net header asks;
//! - [`stats`]: drop reasons and per-port counters;
//! - [`capture`]: the BPF filter and the engine → reader queue of `switchctl capture`;
//! - [`ipfix`]: IPFIX (RFC 7011) flow records: cache, templates and message encoding, no I/O;
//! - [`port`]: one file per port kind (tunnels in `port/tunnel/`), all `unsafe` in `port/sys/`;
//! - [`sflow`]: sFlow v5 export (SPEC §11): ingress sampler, sample encoding, datagram packing;
//! - [`engine`]: owns every bridge, port and table; the mio poll loop;
//! - [`control`]: the Unix-socket server that talks to the engine over a channel;
//! - [`metrics`]: the Prometheus endpoint of `switchd --metrics`, which asks the engine as `control` does;
//! - [`config`]: the persistent db;
//! - [`notify`]: systemd readiness (`READY=1` / `STOPPING=1` over `$NOTIFY_SOCKET`), for `Type=notify` units;
//! - [`handover`]: the in-place restart (SPEC §13): the manifest of fds one image hands the next, the
//!   new binary's check, the exec;
//! - `fuzz` (hidden): the fuzz targets, one function per surface that reads outside bytes (`fuzz/`,
//!   `scripts/fuzz.sh`, `tests/fuzz_corpus.rs`);
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
#[doc(hidden)]
pub mod fuzz;
pub mod handover;
pub mod ipfix;
pub mod lacp;
pub mod metrics;
mod notify;
pub mod offload;
pub mod openflow;
pub mod pipeline;
mod port;
pub mod qos;
mod rstp;
pub mod sflow;
pub mod stats;
pub mod vlan;
pub mod wire;

/// Index of a port inside the engine (its slot; also its mio token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortId(pub u32);

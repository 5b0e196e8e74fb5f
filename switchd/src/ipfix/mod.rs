//! IPFIX flow export (RFC 7011, SPEC §11), as a pure module: no socket,
//! no clock. The engine owns the UDP socket and passes the time in (a
//! monotonic `Instant` for timeouts, wall-clock milliseconds since the
//! epoch for the records' times and the export time); these types decide
//! what is counted, when it is exported and what the bytes are.
//!
//! # What lives where
//!
//! - [`config`]: the `ipfix_*` bridge settings, defaults, ranges, parsing;
//! - [`record`]: the flow key of a record ([`FlowRecordKey`], built from the
//!   engine's [`FlowKey`](crate::flow::FlowKey)), counters and end reasons;
//! - sampling: [`crate::sflow::Sampler`], the same 1-in-N random sampler as sFlow's;
//! - [`cache`]: the flow cache (Metering Process): aggregation, idle
//!   (15 s) and active timeouts, eviction of the oldest flow when full;
//! - [`template`]: the IANA Information Elements and the templates;
//! - [`message`]: message encoding (Exporting Process): header, template
//!   and data sets, sequence numbers, template refresh, size bound;
//! - [`bridge`]: [`Ipfix`], what the engine holds and calls per bridge.
//!
//! # Engine contract
//!
//! ```text
//! IPFIX turned on:     ipfix = Ipfix::new(cfg, seed); ipfix.start(now, wall_ms, send)
//! settings changed:    ipfix.reconfigure(cfg, now, wall_ms, send)
//! each received frame: if ipfix.sample() { ipfix.record(&key, out_ofport, frame.len(), now, wall_ms) }
//! at next_wakeup():    ipfix.run(now, wall_ms, |targets, msg| send msg to each target)
//! clear bridge ipfix:  ipfix.flush(now, wall_ms, send); drop it
//! ```
//!
//! One [`Ipfix`] per bridge and one `record` per received frame (after
//! the forwarding decision, which gives the egress port), so each
//! unidirectional flow has exactly one record per observation domain and
//! interval, never one per output port.
//!
//! # Choices (where the SPEC leaves room)
//!
//! - Record key: ingress and egress OpenFlow port, MACs, VLAN id (from the
//!   frame's tag as received, 0 when untagged), Ethertype, and for IP the
//!   version, addresses, protocol, and ports (TCP/UDP/SCTP) or ICMP type
//!   and code. `egressInterface` is 0 when the frame went to several ports
//!   or none (OVS also reports one egress port per record).
//! - Templates: seven, one per kind of key (non-IP, IPv4 and IPv6 each
//!   with ports, ICMP, or no L4), ids 256–262, all standard IANA elements
//!   (see [`template`]); sent in the first message and every 600 s.
//! - Counts: a sampled packet counts as N packets and N× its bytes (OVS
//!   does the same), so records estimate the real traffic.
//!   `octetDeltaCount` is IP bytes for IP flows (the IANA definition, as
//!   OVS) and frame bytes for non-IP flows (so collectors that only read
//!   that element do not see 0 bytes for ARP); `layer2OctetDeltaCount`
//!   always has the frame bytes.
//! - Messages are at most 1400 bytes; sequence numbers count data records
//!   (RFC 7011 §3.1).
//! - `ipfix_active_timeout=0` exports at every `run` (OVS's meaning of 0).

pub mod bridge;
pub mod cache;
pub mod config;
pub mod message;
pub mod record;
pub mod template;

#[cfg(test)]
mod tshark_tests;

pub use bridge::Ipfix;
pub use cache::FlowCache;
pub use config::IpfixConfig;
pub use message::Exporter;
pub use record::{Counts, EndReason, FlowRecord, FlowRecordKey};

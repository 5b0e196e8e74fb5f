//! sFlow v5 export (SPEC §11; sflow.org `sflow_version_5.txt`), as a pure
//! module: no sockets, no clock, no logging. The engine owns the UDP socket
//! and the time, and calls in:
//! - [`Sampler`] (`sampler.rs`): the per-port 1-in-N ingress sampler, one
//!   decrement per frame on the hot path;
//! - [`Agent`] (`agent.rs`): one per bridge (a sub-agent): sequence numbers,
//!   uptime, packing samples into datagrams of at most 1400 bytes, the
//!   counter polling schedule;
//! - `encode.rs`: the XDR encoding of the datagram header, flow samples
//!   (one raw packet header record) and counters samples (generic and
//!   Ethernet interface counters): only standard records, which tshark,
//!   sflowtool and sfacctd all decode;
//! - [`SflowConfig`] (`config.rs`): the `sflow_*` bridge keys, defaults and
//!   ranges.
//!
//! Data sources are ports, by ifIndex: the device's kernel ifindex where
//! there is a device, else [`synthetic_ifindex`] of its OpenFlow port
//! number (SPEC §11); which one applies is the engine's knowledge.
//!
//! The children import each other directly and never this file, which
//! only re-exports them.

mod agent;
mod config;
mod encode;
mod sampler;
#[cfg(test)]
mod tests;

pub use agent::{Agent, MAX_DATAGRAM, MIN_DATAGRAM};
pub use config::{
    parse_targets, SflowConfig, Targets, DEFAULT_HEADER, DEFAULT_POLLING, DEFAULT_PORT, DEFAULT_SAMPLING,
    HEADER_MAX, HEADER_MIN, KEYS, KEY_AGENT, KEY_HEADER, KEY_POLLING, KEY_SAMPLING, KEY_TARGETS, POLLING_MAX,
    POLLING_MIN, SAMPLING_MAX, SAMPLING_MIN,
};
pub use encode::{
    counters_sample_len, datagram_header_len, encode_counters_sample, encode_datagram_header,
    encode_flow_sample, flow_sample_len, Duplex, FlowSample, IfCounters, Output, DISCARD_ACL,
    DISCARD_NO_BUFFER, DISCARD_RATE_LIMIT, DISCARD_UNKNOWN,
};
pub use sampler::Sampler;

/// The ifIndex of a port without a kernel device (a tunnel, an internal
/// port of this userspace switch): 100000 + its OpenFlow port number, as
/// SPEC §11 says, above any ifindex a host is likely to have.
pub const fn synthetic_ifindex(ofport: u16) -> u32 {
    SYNTHETIC_IFINDEX_BASE + ofport as u32
}

/// See [`synthetic_ifindex`].
pub const SYNTHETIC_IFINDEX_BASE: u32 = 100_000;

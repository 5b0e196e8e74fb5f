//! The sFlow v5 wire format (sflow.org `sflow_version_5.txt`): XDR, so
//! every field is a big-endian 32-bit word (`hyper`s are two), opaque data
//! is padded to a multiple of 4 bytes, and every sample and record is
//! `data_format` (enterprise << 12 | format) then its length in bytes.
//!
//! Only standard (enterprise 0) structures, so that any collector
//! (Wireshark/tshark, sflowtool, sfacctd, sFlow-RT) decodes every datagram:
//! - the datagram header (`sample_datagram_v5`);
//! - the flow sample (format 1; expanded format 3 only when an index does
//!   not fit the compact one: a source index of 2^24 or more, an interface
//!   of 2^30 or more) with one record, the raw packet header (format 1);
//! - the counters sample (format 2; expanded 4 likewise) with two records,
//!   generic interface counters (format 1) and Ethernet interface counters
//!   (format 2).
//!
//! Pure functions over `Vec<u8>`; the [`Agent`](super::Agent) numbers the
//! samples and packs them into datagrams.

use std::net::IpAddr;

use super::sampler::Sampler;

/// `sample_datagram_v5.version`.
pub const VERSION: u32 = 5;
/// Sample type: flow sample (compact source id and interfaces).
pub const FLOW_SAMPLE: u32 = 1;
/// Sample type: counters sample (compact source id).
pub const COUNTERS_SAMPLE: u32 = 2;
/// Sample type: expanded flow sample.
pub const FLOW_SAMPLE_EXPANDED: u32 = 3;
/// Sample type: expanded counters sample.
pub const COUNTERS_SAMPLE_EXPANDED: u32 = 4;
/// Flow record: raw packet header.
pub const RECORD_RAW_HEADER: u32 = 1;
/// Counter record: generic interface counters.
pub const RECORD_GENERIC_COUNTERS: u32 = 1;
/// Counter record: Ethernet interface counters.
pub const RECORD_ETHERNET_COUNTERS: u32 = 2;
/// Raw packet header protocol: Ethernet (ISO 8802-3).
pub const HEADER_PROTOCOL_ETHERNET: u32 = 1;
/// Data source class of a port: ifIndex.
pub const SOURCE_IFINDEX: u32 = 0;
/// `ifType` of every port: ethernetCsmacd (IANAifType 6).
pub const IF_TYPE_ETHERNET: u32 = 6;
/// Bytes of Ethernet FCS a frame had on the wire and no longer has here:
/// added to `frame_length` and reported as `stripped` (as OVS does).
pub const FCS_LEN: u32 = 4;

/// Datagram header bytes with an IPv4 agent address.
pub const HEADER_LEN_V4: usize = 28;
/// Datagram header bytes with an IPv6 agent address.
pub const HEADER_LEN_V6: usize = 40;
/// Bytes of one counters sample (compact): tag, length, sequence, source,
/// record count; generic record (8 + 88); Ethernet record (8 + 52).
pub const COUNTERS_SAMPLE_LEN: usize = 20 + 8 + GENERIC_COUNTERS_LEN + 8 + ETHERNET_COUNTERS_LEN;
/// Bytes of an expanded counters sample (the source id takes two words).
pub const COUNTERS_SAMPLE_EXPANDED_LEN: usize = COUNTERS_SAMPLE_LEN + 4;
const GENERIC_COUNTERS_LEN: usize = 88;
const ETHERNET_COUNTERS_LEN: usize = 13 * 4;
/// Flow sample bytes before the header bytes (compact): tag, length and 8
/// words; record tag and length; 4 words of raw header fields.
const FLOW_SAMPLE_FIXED_LEN: usize = 8 + 32 + 8 + 16;
/// The expanded form's extra words: source id class, input and output
/// formats.
const EXPANDED_EXTRA: usize = 12;

/// Largest index a compact source id holds (24 bits).
const COMPACT_SOURCE_MAX: u32 = (1 << 24) - 1;
/// Largest value a compact interface holds (30 bits).
const COMPACT_IF_MAX: u32 = (1 << 30) - 1;
/// The interface value meaning "the device itself" (no such interface).
const IF_INTERNAL: u32 = 0x3FFF_FFFF;

/// Where a sampled frame went (the flow sample's `output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// Not known (not decided, or not told): value 0.
    #[default]
    Unknown,
    /// One port, by ifIndex.
    Port(u32),
    /// Several ports: how many (0: an unknown number above one), as a
    /// flood or a multicast.
    Multiple(u32),
    /// Dropped, with a reason code ([`DISCARD_UNKNOWN`], [`DISCARD_ACL`], ...).
    Discarded(u32),
    /// Delivered to the switch itself rather than out of a port
    /// (0x3FFFFFFF, the spec's "no output interface").
    Internal,
}

/// Discard reason: unknown.
pub const DISCARD_UNKNOWN: u32 = 256;
/// Discard reason: ACL (for the switch: a flow or VLAN rule).
pub const DISCARD_ACL: u32 = 258;
/// Discard reason: no buffer space.
pub const DISCARD_NO_BUFFER: u32 = 259;
/// Discard reason: rate limiting.
pub const DISCARD_RATE_LIMIT: u32 = 261;

impl Output {
    /// `(format, value)` of the expanded encoding (format 0 single, 1
    /// discarded, 2 multiple).
    fn expanded(self) -> (u32, u32) {
        match self {
            Output::Unknown => (0, 0),
            Output::Port(i) => (0, i),
            Output::Internal => (0, IF_INTERNAL),
            Output::Discarded(r) => (1, r),
            Output::Multiple(n) => (2, n),
        }
    }

    /// The compact encoding (format in the top 2 bits, value in the other
    /// 30), or `None` when the value does not fit.
    fn compact(self) -> Option<u32> {
        let (format, value) = self.expanded();
        (value <= COMPACT_IF_MAX).then_some(format << 30 | value)
    }
}

/// One sampled frame, what a flow sample says of it.
#[derive(Debug, Clone, Copy)]
pub struct FlowSample<'a> {
    /// ifIndex of the port the frame came in on: also the data source
    /// (sampling is on ingress).
    pub input: u32,
    /// Where it went.
    pub output: Output,
    /// The sampler's N.
    pub sampling_rate: u32,
    /// The sampler's frames seen, this one included.
    pub sample_pool: u32,
    /// The sampler's dropped samples.
    pub drops: u32,
    /// The frame as received, from the destination MAC, without FCS (its
    /// length is the `frame_length`; only the first `header_len` bytes are
    /// exported).
    pub frame: &'a [u8],
}

impl<'a> FlowSample<'a> {
    /// A sample of `frame` taken by `sampler` on the port `input`.
    pub fn from_sampler(sampler: &Sampler, input: u32, output: Output, frame: &'a [u8]) -> Self {
        FlowSample {
            input,
            output,
            sampling_rate: sampler.rate(),
            sample_pool: sampler.sample_pool(),
            drops: sampler.drops(),
            frame,
        }
    }

    fn is_compact(&self) -> bool {
        self.input <= COMPACT_SOURCE_MAX && self.output.compact().is_some()
    }
}

/// Bytes of the header of `frame` that a flow sample carries.
fn header_bytes(frame: &[u8], header_len: usize) -> usize {
    frame.len().min(header_len)
}

fn pad4(n: usize) -> usize {
    n.next_multiple_of(4)
}

/// Encoded length of a flow sample of `s` with at most `header_len` header
/// bytes.
pub fn flow_sample_len(s: &FlowSample<'_>, header_len: usize) -> usize {
    let extra = if s.is_compact() { 0 } else { EXPANDED_EXTRA };
    FLOW_SAMPLE_FIXED_LEN + extra + pad4(header_bytes(s.frame, header_len))
}

/// Encoded length of a counters sample of `c`.
pub fn counters_sample_len(c: &IfCounters) -> usize {
    if c.if_index <= COMPACT_SOURCE_MAX {
        COUNTERS_SAMPLE_LEN
    } else {
        COUNTERS_SAMPLE_EXPANDED_LEN
    }
}

/// Length of the datagram header for an agent `address`.
pub fn datagram_header_len(address: IpAddr) -> usize {
    match address {
        IpAddr::V4(_) => HEADER_LEN_V4,
        IpAddr::V6(_) => HEADER_LEN_V6,
    }
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Length fields: every length here is bounded by a datagram (or, for a
/// frame, by `header_len`); saturating keeps a wild value from wrapping.
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Appends the `sample_datagram_v5` header: version 5, agent address (type
/// 1 IPv4, 2 IPv6), sub-agent id, datagram sequence number, uptime in
/// milliseconds, number of samples that follow.
pub fn encode_datagram_header(
    out: &mut Vec<u8>,
    address: IpAddr,
    sub_agent_id: u32,
    sequence: u32,
    uptime_ms: u32,
    samples: u32,
) {
    put32(out, VERSION);
    match address {
        IpAddr::V4(a) => {
            put32(out, 1);
            out.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            put32(out, 2);
            out.extend_from_slice(&a.octets());
        }
    }
    put32(out, sub_agent_id);
    put32(out, sequence);
    put32(out, uptime_ms);
    put32(out, samples);
}

/// Appends a flow sample numbered `sequence` (per data source, i.e. per
/// input port) with one raw packet header record of at most `header_len`
/// bytes of the frame, zero-padded to a word.
pub fn encode_flow_sample(out: &mut Vec<u8>, sequence: u32, s: &FlowSample<'_>, header_len: usize) {
    let len = flow_sample_len(s, header_len);
    let start = out.len();
    let hdr = &s.frame[..header_bytes(s.frame, header_len)];
    let compact = s.is_compact();
    put32(
        out,
        if compact {
            FLOW_SAMPLE
        } else {
            FLOW_SAMPLE_EXPANDED
        },
    );
    put32(out, len32(len - 8));
    put32(out, sequence);
    if compact {
        put32(out, SOURCE_IFINDEX << 24 | s.input);
    } else {
        put32(out, SOURCE_IFINDEX);
        put32(out, s.input);
    }
    put32(out, s.sampling_rate);
    put32(out, s.sample_pool);
    put32(out, s.drops);
    match s.output.compact() {
        // The input is an ifIndex (format 0).
        Some(o) if compact => {
            put32(out, s.input);
            put32(out, o);
        }
        _ => {
            let (format, value) = s.output.expanded();
            put32(out, 0);
            put32(out, s.input);
            put32(out, format);
            put32(out, value);
        }
    }
    put32(out, 1); // one record
    put32(out, RECORD_RAW_HEADER);
    put32(out, len32(16 + pad4(hdr.len())));
    put32(out, HEADER_PROTOCOL_ETHERNET);
    put32(out, len32(s.frame.len()).saturating_add(FCS_LEN));
    put32(out, FCS_LEN);
    put32(out, len32(hdr.len()));
    out.extend_from_slice(hdr);
    out.resize(out.len() + pad4(hdr.len()) - hdr.len(), 0);
    debug_assert_eq!(out.len() - start, len);
}

/// Duplex of a port (`ifDirection`, from the MAU MIB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Duplex {
    /// 0.
    #[default]
    Unknown,
    /// 1: what a virtual link (tap, veth, tunnel) is.
    Full,
    /// 2.
    Half,
}

/// The counters of one port for a counters sample: RFC 2863 `ifTable`
/// names. Packet counts are 32 bits on the wire, so the low 32 bits of
/// these are sent: they wrap like an SNMP Counter32, which collectors
/// handle. A counter the caller does not keep is left 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IfCounters {
    /// The port's ifIndex: also the data source.
    pub if_index: u32,
    /// Bits per second (OVS reports 100 Mb/s when a device does not say).
    pub if_speed: u64,
    /// Duplex.
    pub if_direction: Duplex,
    /// ifAdminStatus up (`ifStatus` bit 0).
    pub admin_up: bool,
    /// ifOperStatus up (`ifStatus` bit 1).
    pub oper_up: bool,
    /// Promiscuous mode (true for a switch port that takes every frame).
    pub promiscuous: bool,
    /// Octets received.
    pub in_octets: u64,
    /// Unicast frames received (all frames when the caller does not split
    /// them, as OVS does).
    pub in_ucast_pkts: u64,
    /// Multicast frames received.
    pub in_multicast_pkts: u64,
    /// Broadcast frames received.
    pub in_broadcast_pkts: u64,
    /// Received frames dropped without an error.
    pub in_discards: u64,
    /// Received frames in error.
    pub in_errors: u64,
    /// Received frames of an unknown protocol.
    pub in_unknown_protos: u64,
    /// Octets sent.
    pub out_octets: u64,
    /// Unicast frames sent (all frames when not split).
    pub out_ucast_pkts: u64,
    /// Multicast frames sent.
    pub out_multicast_pkts: u64,
    /// Broadcast frames sent.
    pub out_broadcast_pkts: u64,
    /// Frames to send dropped without an error.
    pub out_discards: u64,
    /// Frames that could not be sent because of an error.
    pub out_errors: u64,
}

impl IfCounters {
    /// `ifStatus`: bit 0 admin up, bit 1 operationally up.
    pub fn if_status(&self) -> u32 {
        u32::from(self.admin_up) | u32::from(self.oper_up) << 1
    }
}

/// Appends a counters sample numbered `sequence` (per data source) with the
/// generic interface counters of `c` and Ethernet interface counters, all
/// 0: a virtual port has no alignment, FCS or collision errors to count.
pub fn encode_counters_sample(out: &mut Vec<u8>, sequence: u32, c: &IfCounters) {
    let len = counters_sample_len(c);
    let start = out.len();
    let compact = c.if_index <= COMPACT_SOURCE_MAX;
    put32(
        out,
        if compact {
            COUNTERS_SAMPLE
        } else {
            COUNTERS_SAMPLE_EXPANDED
        },
    );
    put32(out, len32(len - 8));
    put32(out, sequence);
    if compact {
        put32(out, SOURCE_IFINDEX << 24 | c.if_index);
    } else {
        put32(out, SOURCE_IFINDEX);
        put32(out, c.if_index);
    }
    put32(out, 2); // two records
    put32(out, RECORD_GENERIC_COUNTERS);
    put32(out, len32(GENERIC_COUNTERS_LEN));
    // Counter32 values: the low 32 bits, wrapping.
    let c32 = |v: u64| v as u32;
    put32(out, c.if_index);
    put32(out, IF_TYPE_ETHERNET);
    put64(out, c.if_speed);
    put32(
        out,
        match c.if_direction {
            Duplex::Unknown => 0,
            Duplex::Full => 1,
            Duplex::Half => 2,
        },
    );
    put32(out, c.if_status());
    put64(out, c.in_octets);
    for v in [
        c.in_ucast_pkts,
        c.in_multicast_pkts,
        c.in_broadcast_pkts,
        c.in_discards,
        c.in_errors,
        c.in_unknown_protos,
    ] {
        put32(out, c32(v));
    }
    put64(out, c.out_octets);
    for v in [
        c.out_ucast_pkts,
        c.out_multicast_pkts,
        c.out_broadcast_pkts,
        c.out_discards,
        c.out_errors,
    ] {
        put32(out, c32(v));
    }
    put32(out, u32::from(c.promiscuous));
    put32(out, RECORD_ETHERNET_COUNTERS);
    put32(out, len32(ETHERNET_COUNTERS_LEN));
    out.resize(out.len() + ETHERNET_COUNTERS_LEN, 0);
    debug_assert_eq!(out.len() - start, len);
}

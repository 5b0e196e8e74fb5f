//! The sFlow agent of one bridge (one sub-agent, in sFlow terms): the
//! numbering the spec asks for (a datagram sequence per sub-agent; flow
//! and counter sample sequences per data source), the uptime origin, the
//! packing of samples into datagrams of at most [`MAX_DATAGRAM`] bytes,
//! and the counter polling schedule.
//!
//! Pure: the caller gives the time (milliseconds of a monotonic clock) and
//! takes finished datagrams ([`Agent::drain`]) to send to every target
//! from its own UDP socket. Samples wait in the current datagram until it
//! is full or [`Agent::flush`] is called; the engine flushes about once a
//! second, as Open vSwitch's agent does on its one-second tick, so a sample
//! reaches the collector within a second.
//!
//! Typical use by the engine, per bridge:
//! - on each ingress frame of a port: `if sampler.tick() { agent.add_flow_sample(&FlowSample::from_sampler(..), now) }`;
//! - every second: `if agent.due(now) { for each port agent.add_counters_sample(..); agent.polled(now) }`,
//!   then `agent.flush(now)` and send everything [`Agent::drain`] gives.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::config::{SflowConfig, HEADER_MAX, HEADER_MIN};
use super::encode::{
    counters_sample_len, datagram_header_len, encode_counters_sample, encode_datagram_header,
    encode_flow_sample, flow_sample_len, FlowSample, IfCounters,
};

/// Largest datagram the agent builds (OVS `SFL_DEFAULT_DATAGRAM_SIZE`): a
/// UDP payload that fits an Ethernet MTU with IPv6 and a tunnel's headers.
pub const MAX_DATAGRAM: usize = 1400;
/// Smallest limit [`Agent::with_max_datagram`] accepts: room for the
/// largest header (IPv6 agent) and the largest sample (an expanded flow
/// sample of a 256-byte header, 332 bytes).
pub const MIN_DATAGRAM: usize = 512;

/// Sequence numbers of one data source (one port's ifIndex).
#[derive(Debug, Clone, Copy, Default)]
struct SourceSeq {
    flow: u32,
    counters: u32,
}

/// The exporter state of one bridge. See the module doc.
#[derive(Debug, Clone)]
pub struct Agent {
    address: IpAddr,
    sub_agent_id: u32,
    header_len: usize,
    max_datagram: usize,
    /// The time uptime counts from: when the agent was made.
    origin_ms: u64,
    /// Sequence number of the last datagram finished (the first is 1).
    datagram_seq: u32,
    /// Per data source: ports come and go rarely; ordered so that tests
    /// and debugging see them in ifIndex order.
    sources: BTreeMap<u32, SourceSeq>,
    /// The samples of the datagram being filled (its header is written
    /// when it is finished, with the sequence number and uptime of then).
    body: Vec<u8>,
    samples: u32,
    /// Finished datagrams not yet taken by [`drain`](Self::drain).
    ready: Vec<Vec<u8>>,
    /// Counter polling interval; 0: off.
    polling_ms: u64,
    next_poll_ms: u64,
}

impl Agent {
    /// An agent for `config` (its `header` and `polling`; the sampling rate
    /// is the samplers' and the targets the caller's) that puts `address`
    /// in its datagrams (`config.agent`, or the source address the kernel
    /// picks for the first target when that is `None`), with `sub_agent_id`
    /// telling apart the bridges of one switch (OVS numbers them 0, 1, ...
    /// in order). Uptime counts from `now_ms`; the first counter poll is
    /// due one interval after it.
    pub fn new(config: &SflowConfig, address: IpAddr, sub_agent_id: u32, now_ms: u64) -> Self {
        let polling_ms = u64::from(config.polling) * 1000;
        Agent {
            address,
            sub_agent_id,
            // Clamped so that an unchecked configuration cannot make a
            // sample too big for a datagram.
            header_len: config.header.clamp(HEADER_MIN, HEADER_MAX) as usize,
            max_datagram: MAX_DATAGRAM,
            origin_ms: now_ms,
            datagram_seq: 0,
            sources: BTreeMap::new(),
            body: Vec::with_capacity(MAX_DATAGRAM),
            samples: 0,
            ready: Vec::new(),
            polling_ms,
            next_poll_ms: now_ms.saturating_add(polling_ms),
        }
    }

    /// The same agent with datagrams of at most `max` bytes (at least
    /// [`MIN_DATAGRAM`]; the default is [`MAX_DATAGRAM`]).
    pub fn with_max_datagram(mut self, max: usize) -> Self {
        self.max_datagram = max.max(MIN_DATAGRAM);
        self
    }

    /// The agent address in the datagrams.
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// Changes the agent address (say the kernel's choice changed); the
    /// datagram being filled gets the new one.
    pub fn set_address(&mut self, address: IpAddr) {
        self.address = address;
    }

    /// The sub-agent id.
    pub fn sub_agent_id(&self) -> u32 {
        self.sub_agent_id
    }

    /// Adds a flow sample of the data source `sample.input`, finishing the
    /// current datagram first if the sample would not fit in it.
    pub fn add_flow_sample(&mut self, sample: &FlowSample<'_>, now_ms: u64) {
        let len = flow_sample_len(sample, self.header_len);
        self.make_room(len, now_ms);
        let seq = &mut self.sources.entry(sample.input).or_default().flow;
        *seq = seq.wrapping_add(1);
        encode_flow_sample(&mut self.body, *seq, sample, self.header_len);
        self.samples += 1;
    }

    /// Adds a counters sample of the data source `counters.if_index`,
    /// finishing the current datagram first if it would not fit.
    pub fn add_counters_sample(&mut self, counters: &IfCounters, now_ms: u64) {
        self.make_room(counters_sample_len(counters), now_ms);
        let seq = &mut self.sources.entry(counters.if_index).or_default().counters;
        *seq = seq.wrapping_add(1);
        encode_counters_sample(&mut self.body, *seq, counters);
        self.samples += 1;
    }

    fn make_room(&mut self, len: usize, now_ms: u64) {
        if self.samples > 0 && datagram_header_len(self.address) + self.body.len() + len > self.max_datagram {
            self.flush(now_ms);
        }
    }

    /// Finishes the current datagram, if it has samples, for
    /// [`drain`](Self::drain): numbers it and stamps it with the uptime at
    /// `now_ms`.
    pub fn flush(&mut self, now_ms: u64) {
        if self.samples == 0 {
            return;
        }
        self.datagram_seq = self.datagram_seq.wrapping_add(1);
        let mut d = Vec::with_capacity(datagram_header_len(self.address) + self.body.len());
        encode_datagram_header(
            &mut d,
            self.address,
            self.sub_agent_id,
            self.datagram_seq,
            self.uptime_ms(now_ms),
            self.samples,
        );
        d.extend_from_slice(&self.body);
        self.body.clear();
        self.samples = 0;
        self.ready.push(d);
    }

    /// Milliseconds since the agent was made, as the 32-bit datagram field
    /// (wrapping after 49.7 days, as sysUpTime-like counters do).
    pub fn uptime_ms(&self, now_ms: u64) -> u32 {
        now_ms.saturating_sub(self.origin_ms) as u32
    }

    /// Samples waiting in the current datagram.
    pub fn pending_samples(&self) -> u32 {
        self.samples
    }

    /// Takes the finished datagrams, oldest first: each one is sent as is
    /// to every target. The caller drains after each flush or sample so
    /// that they do not pile up.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Vec<u8>> {
        self.ready.drain(..)
    }

    /// Forgets a data source's sequence numbers (its port was removed; if
    /// it comes back, collectors see its numbering restart).
    pub fn forget_source(&mut self, if_index: u32) {
        self.sources.remove(&if_index);
    }

    /// Whether counter samples of every port are due at `now_ms`: never
    /// when `sflow_polling` is 0.
    pub fn due(&self, now_ms: u64) -> bool {
        self.polling_ms != 0 && now_ms >= self.next_poll_ms
    }

    /// When the next counter poll is due (for the engine's timer); `None`
    /// when polling is off.
    pub fn next_poll(&self) -> Option<u64> {
        (self.polling_ms != 0).then_some(self.next_poll_ms)
    }

    /// Records that the ports were polled at `now_ms`: the next poll is one
    /// interval after the one due, keeping the cadence, or one interval
    /// from now if the caller was a whole interval late.
    pub fn polled(&mut self, now_ms: u64) {
        if self.polling_ms == 0 {
            return;
        }
        self.next_poll_ms = self.next_poll_ms.saturating_add(self.polling_ms);
        if self.next_poll_ms <= now_ms {
            self.next_poll_ms = now_ms.saturating_add(self.polling_ms);
        }
    }
}

//! [`Ipfix`]: everything one bridge's IPFIX export needs, in the shape the
//! engine calls it: a sampler, the flow cache, the message encoder and the
//! records waiting to be sent, behind a few calls (`start` when export
//! starts, `sample` and `record` per packet, `run` at the deadline, `flush`
//! at `clear`, `reconfigure` for new settings).
//!
//! The engine owns the socket and the clocks; every call that may produce
//! messages takes a `send(targets, message)` callback, given the targets
//! in effect for that message (so a reconfiguration flushes the old
//! records to the old targets without the engine keeping track).

use std::net::SocketAddr;
use std::time::Instant;

use super::cache::FlowCache;
use super::config::IpfixConfig;
use super::message::Exporter;
use super::record::{eth_header_len, Counts, FlowRecord, FlowRecordKey};
// The same 1-in-N sampler as sFlow's (OVS's random skips of mean N).
use super::template::TemplateKind;
use crate::flow::FlowKey;
use crate::sflow::Sampler;

/// One bridge's IPFIX state (see the module documentation).
#[derive(Debug)]
pub struct Ipfix {
    cfg: IpfixConfig,
    sampler: Sampler,
    cache: FlowCache,
    exporter: Exporter,
    /// Records to send at the next `run`: flows evicted from a full cache
    /// (or cut by a smaller maximum) since the last one.
    pending: Vec<FlowRecord>,
    /// When the oldest pending record was queued.
    pending_since: Option<Instant>,
    sampled: u64,
}

impl Ipfix {
    /// IPFIX for a bridge with settings `cfg` (assumed valid: see
    /// [`IpfixConfig::validate`]); `seed` seeds the sampler (any value,
    /// e.g. from a `RandomState`).
    pub fn new(cfg: IpfixConfig, seed: u64) -> Ipfix {
        Ipfix {
            sampler: Sampler::new(cfg.sampling, seed),
            cache: FlowCache::new(cfg.cache_max_flows as usize, cfg.active_timeout()),
            exporter: Exporter::new(cfg.obs_domain_id),
            pending: Vec::new(),
            pending_since: None,
            sampled: 0,
            cfg,
        }
    }

    /// The settings in effect.
    pub fn config(&self) -> &IpfixConfig {
        &self.cfg
    }

    /// The collectors messages go to.
    pub fn targets(&self) -> &[SocketAddr] {
        &self.cfg.targets
    }

    /// Sends the templates in a message of their own (RFC 7011 §8.4's
    /// advice before the first data); call it when export starts (the
    /// bridge gets IPFIX targets). Returns the number of messages (1).
    pub fn start(&mut self, now: Instant, wall_ms: u64, mut send: impl FnMut(&[SocketAddr], &[u8])) -> usize {
        let targets = &self.cfg.targets;
        self.exporter.send_templates(now, wall_ms, |m| send(targets, m))
    }

    /// Whether this packet is sampled (1 in `ipfix_sampling`); call once
    /// per received packet, and [`Ipfix::record`] only when it says yes.
    /// Separate from `record` so that an unsampled packet costs a
    /// decrement and nothing else (no key is built for it).
    #[inline]
    pub fn sample(&mut self) -> bool {
        self.sampler.tick()
    }

    /// Counts a sampled frame of `frame_len` bytes (as received: tag
    /// included, no FCS) whose extracted key is `key`, sent to OpenFlow
    /// port `out_port` (0: flooded, several ports, dropped), at `now`
    /// (monotonic) and `wall_ms` (milliseconds since the Unix epoch).
    ///
    /// With sampling 1 in N the frame stands for N packets and N times its
    /// bytes (as OVS counts): records carry estimates of the real traffic,
    /// and collectors need no sampling options to scale them. Bytes are
    /// the frame's for `layer2OctetDeltaCount`; for `octetDeltaCount`, the
    /// frame's less its Ethernet header for an IP flow (IANA counts IP
    /// bytes; Ethernet padding of a short frame is counted, as in OVS) and
    /// the whole frame otherwise.
    ///
    /// Call it once per frame per bridge, so each flow has one record per
    /// observation domain. No allocation for a known flow; a new flow in a
    /// full cache queues the oldest flow's record for the next `run`.
    pub fn record(&mut self, key: &FlowKey, out_port: u32, frame_len: usize, now: Instant, wall_ms: u64) {
        let rkey = FlowRecordKey::from_flow_key(key, out_port);
        let n = u64::from(self.sampler.rate());
        let l2 = frame_len as u64;
        let l3 = if rkey.ip.is_some() {
            l2.saturating_sub(eth_header_len(key))
        } else {
            l2
        };
        let counts = Counts {
            packets: n,
            octets: n * l3,
            l2_octets: n * l2,
        };
        self.record_key(&rkey, counts, now, wall_ms);
    }

    /// [`Ipfix::record`] for a record key and counts the caller built.
    pub fn record_key(&mut self, key: &FlowRecordKey, counts: Counts, now: Instant, wall_ms: u64) {
        self.sampled += 1;
        if let Some(r) = self.cache.observe(key, counts, now, wall_ms) {
            self.queue(r, now);
        }
    }

    fn queue(&mut self, r: FlowRecord, now: Instant) {
        self.pending.push(r);
        self.pending_since.get_or_insert(now);
    }

    /// `sample()` then, if sampled, `record(...)`; returns whether it was.
    pub fn observe(
        &mut self,
        key: &FlowKey,
        out_port: u32,
        frame_len: usize,
        now: Instant,
        wall_ms: u64,
    ) -> bool {
        let s = self.sample();
        if s {
            self.record(key, out_port, frame_len, now, wall_ms);
        }
        s
    }

    /// When [`Ipfix::run`] has work: the earliest flow timeout, or the
    /// time a full cache queued a record. `None`: nothing to do until the
    /// next packet.
    pub fn next_wakeup(&self) -> Option<Instant> {
        match (self.pending_since, self.cache.next_expiry()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Exports the queued records and the flows that timed out by `now`,
    /// calling `send(targets, message)` for each message; returns how many
    /// messages. Cheap when nothing is due: call it at
    /// [`Ipfix::next_wakeup`] or every loop.
    pub fn run(&mut self, now: Instant, wall_ms: u64, send: impl FnMut(&[SocketAddr], &[u8])) -> usize {
        self.cache.expire(now, &mut self.pending);
        self.send_pending(now, wall_ms, send)
    }

    /// Exports every flow in the cache now (`clear bridge BR ipfix`, the
    /// bridge's removal); returns how many messages.
    pub fn flush(&mut self, now: Instant, wall_ms: u64, send: impl FnMut(&[SocketAddr], &[u8])) -> usize {
        self.cache.flush(&mut self.pending);
        self.send_pending(now, wall_ms, send)
    }

    fn send_pending(
        &mut self,
        now: Instant,
        wall_ms: u64,
        mut send: impl FnMut(&[SocketAddr], &[u8]),
    ) -> usize {
        if self.pending.is_empty() {
            return 0;
        }
        // Grouped by template so they share data sets; in place, without
        // allocating (an unstable sort), oldest first within a template.
        self.pending
            .sort_unstable_by_key(|r| (TemplateKind::of(&r.key), r.start_ms, r.key.in_port));
        let targets = &self.cfg.targets;
        let n = self
            .exporter
            .export(&self.pending, now, wall_ms, |m| send(targets, m));
        self.pending.clear();
        self.pending_since = None;
        n
    }

    /// Applies new settings, keeping the cached flows where it can: a new
    /// observation domain first exports every flow under the old one (to
    /// the old targets) and restarts the sequence; a smaller cache exports
    /// its oldest flows; a new target gets the templates with the next
    /// message. IPFIX turned off (no target) exports everything to the
    /// old targets; the engine then drops this. Returns the number of
    /// messages sent.
    pub fn reconfigure(
        &mut self,
        cfg: IpfixConfig,
        now: Instant,
        wall_ms: u64,
        mut send: impl FnMut(&[SocketAddr], &[u8]),
    ) -> usize {
        let mut n = 0;
        if cfg.obs_domain_id != self.cfg.obs_domain_id || !cfg.enabled() {
            n += self.flush(now, wall_ms, &mut send);
            self.exporter = Exporter::new(cfg.obs_domain_id);
        }
        if cfg.sampling != self.cfg.sampling {
            self.sampler.set_rate(cfg.sampling);
        }
        self.cache.set_active_timeout(cfg.active_timeout());
        let cut = self
            .cache
            .set_max_flows(cfg.cache_max_flows as usize, &mut self.pending);
        if cut > 0 {
            self.pending_since.get_or_insert(now);
        }
        // Records queued before the change (and those just cut) go to the
        // old targets.
        n += self.send_pending(now, wall_ms, &mut send);
        // After that send, which may have carried templates to the old
        // targets only.
        if cfg.targets.iter().any(|t| !self.cfg.targets.contains(t)) {
            self.exporter.resend_templates();
        }
        self.cfg = cfg;
        n
    }

    /// The flow cache.
    pub fn cache(&self) -> &FlowCache {
        &self.cache
    }

    /// The message encoder (sequence number, counts of messages and
    /// records sent).
    pub fn exporter(&self) -> &Exporter {
        &self.exporter
    }

    /// Packets sampled (and counted), since creation.
    pub fn sampled(&self) -> u64 {
        self.sampled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::extract;
    use crate::ipfix::record::EndReason;
    use std::time::Duration;

    const WALL: u64 = 1_700_000_000_000;

    /// Ethernet/IPv4/UDP `10.0.0.1:sport → 10.0.0.2:53`, 60 bytes (padded).
    fn frame(sport: u16) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        f.extend_from_slice(&[0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&[0, 53, 0, 8, 0, 0]);
        f.resize(60, 0);
        f
    }

    fn cfg() -> IpfixConfig {
        IpfixConfig {
            targets: vec!["192.0.2.1:4739".parse().unwrap()],
            ..IpfixConfig::default()
        }
    }

    /// Runs `f` with a `send` that collects (targets, message) pairs.
    fn sent(f: impl FnOnce(&mut dyn FnMut(&[SocketAddr], &[u8]))) -> Vec<(Vec<SocketAddr>, Vec<u8>)> {
        let mut out = Vec::new();
        f(&mut |t: &[SocketAddr], m: &[u8]| out.push((t.to_vec(), m.to_vec())));
        out
    }

    #[test]
    fn packets_become_one_record_per_flow_exported_when_idle() {
        let mut ip = Ipfix::new(cfg(), 1);
        let t0 = Instant::now();
        for i in 0..10u64 {
            let f = frame(1000 + (i % 2) as u16);
            assert!(ip.observe(&extract(&f, 1, 0), 2, f.len(), t0, WALL + i));
        }
        assert_eq!((ip.cache().len(), ip.sampled()), (2, 10));
        assert_eq!(ip.next_wakeup(), Some(t0 + Duration::from_secs(15)));
        let msgs = sent(|s| {
            ip.run(t0 + Duration::from_secs(14), WALL, s);
        });
        assert!(msgs.is_empty());
        let msgs = sent(|s| {
            ip.run(t0 + Duration::from_secs(15), WALL + 15_000, s);
        });
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].0, cfg().targets);
        assert_eq!((ip.exporter().records(), ip.cache().len()), (2, 0));
        assert_eq!(ip.next_wakeup(), None);
    }

    #[test]
    fn sampled_packets_stand_for_n_and_ip_octets_exclude_ethernet() {
        let mut ip = Ipfix::new(IpfixConfig { sampling: 4, ..cfg() }, 9);
        let t0 = Instant::now();
        let f = frame(1000);
        let key = extract(&f, 1, 0);
        let taken = (0..4000)
            .filter(|_| ip.observe(&key, 2, f.len(), t0, WALL))
            .count() as u64;
        assert!((800..1200).contains(&taken), "{taken}");
        let mut out = Vec::new();
        ip.cache.flush(&mut out);
        assert_eq!(
            out[0].counts,
            Counts {
                packets: 4 * taken,
                octets: 4 * taken * 46,
                l2_octets: 4 * taken * 60
            }
        );
    }

    #[test]
    fn a_full_cache_queues_the_evicted_record_for_the_next_run() {
        let mut ip = Ipfix::new(
            IpfixConfig {
                cache_max_flows: 1,
                ..cfg()
            },
            1,
        );
        let t0 = Instant::now();
        let (a, b) = (frame(1), frame(2));
        ip.record(&extract(&a, 1, 0), 2, a.len(), t0, WALL);
        let t1 = t0 + Duration::from_millis(5);
        ip.record(&extract(&b, 1, 0), 2, b.len(), t1, WALL + 5);
        assert_eq!(ip.next_wakeup(), Some(t1));
        let msgs = sent(|s| {
            ip.run(t1, WALL + 5, s);
        });
        assert_eq!((msgs.len(), ip.exporter().records(), ip.cache().len()), (1, 1, 1));
        // The record says why.
        let m = &msgs[0].1;
        assert_eq!(*m.last().unwrap(), EndReason::LackOfResources as u8);
    }

    #[test]
    fn flush_and_reconfigure() {
        let mut ip = Ipfix::new(cfg(), 1);
        let t0 = Instant::now();
        for p in 1..=3 {
            let f = frame(p);
            ip.record(&extract(&f, 1, 0), 2, f.len(), t0, WALL);
        }
        // A smaller cache and a new target: the cut records go to the old
        // target, the templates come again for the new one.
        let mut new = cfg();
        new.cache_max_flows = 2;
        new.targets.push("192.0.2.9:4739".parse().unwrap());
        let msgs = sent(|s| {
            ip.reconfigure(new.clone(), t0, WALL, s);
        });
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].0, cfg().targets);
        assert!(ip.exporter().templates_due(t0));
        assert_eq!(ip.targets(), &new.targets[..]);
        // Another observation domain: everything is exported first, and
        // the new exporter starts at sequence 0.
        let mut other = new.clone();
        other.obs_domain_id = 5;
        let msgs = sent(|s| {
            ip.reconfigure(other, t0, WALL, s);
        });
        assert_eq!(msgs.len(), 1);
        assert_eq!(&msgs[0].1[12..16], &[0, 0, 0, 0]);
        assert_eq!(
            (
                ip.cache().len(),
                ip.exporter().sequence(),
                ip.exporter().obs_domain_id()
            ),
            (0, 0, 5)
        );
        // Flush at clear.
        let f = frame(7);
        ip.record(&extract(&f, 1, 0), 2, f.len(), t0, WALL);
        let msgs = sent(|s| {
            ip.flush(t0, WALL, s);
        });
        assert_eq!(msgs.len(), 1);
        assert_eq!(*msgs[0].1.last().unwrap(), EndReason::ForcedEnd as u8);
        // Templates alone at start; the next data message does without.
        let msgs = sent(|s| {
            ip.start(t0, WALL, s);
        });
        assert_eq!((msgs.len(), msgs[0].1.len(), msgs[0].0.len()), (1, 16 + 488, 2));
        assert!(!ip.exporter().templates_due(t0));
        assert!(ip.cache().is_empty());
    }
}

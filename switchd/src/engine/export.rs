//! sFlow and IPFIX export (SPEC §11) as the engine runs them: the
//! settings (`set bridge BR sflow_*=...|ipfix_*=...`, `clear bridge BR
//! sflow|ipfix`), their place in the db and in `show`, the per-frame hooks
//! and the once-a-second tick that polls counters and sends what the
//! exporters have ready. The protocols themselves are [`crate::sflow`] and
//! [`crate::ipfix`], pure.
//!
//! Per frame, a bridge without either pays two tests of an empty option.
//! With sFlow, each port's sampler decides with one decrement; a sampled
//! frame's first `sflow_header` bytes are encoded into the agent's current
//! datagram. With IPFIX, a sampled frame's key is extracted and counted in
//! the flow cache (every frame at the default `ipfix_sampling=1`). Nothing
//! is sent from the data path: datagrams and messages go out on the tick,
//! on a non-blocking UDP socket, so a collector that is gone costs a
//! failed `sendto`, counted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use proto::{BridgeClearKey, Error, ErrorKind, ExportSetting, IfName, Reply};

use super::bridge::{IpfixRun, SflowRun};
use super::ports::BridgeKey;
use super::Engine;
use crate::fdb::Fdb;
use crate::flow::extract;
use crate::ipfix::{Ipfix, IpfixConfig};
use crate::pipeline::Ports;
use crate::sflow::{self, Agent, FlowSample, IfCounters, Output, Sampler, SflowConfig};
use crate::PortId;

fn invalid(msg: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, msg)
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A non-blocking UDP socket for sending to `targets` (IPv6 if any target is).
fn export_socket(targets: &[SocketAddr]) -> std::io::Result<UdpSocket> {
    let any: SocketAddr = if targets.iter().any(SocketAddr::is_ipv6) {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    };
    let s = UdpSocket::bind(any)?;
    s.set_nonblocking(true)?;
    Ok(s)
}

/// The source address the kernel picks for `target` (sFlow's default agent).
fn source_for(target: SocketAddr) -> IpAddr {
    let any: SocketAddr = if target.is_ipv6() {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    };
    UdpSocket::bind(any)
        .and_then(|s| s.connect(target).and_then(|()| s.local_addr()))
        .map_or(any.ip(), |a| a.ip())
}

/// Counts a frame received on `id` (ifIndex from `run`) and, when the
/// port's sampler says so, adds a flow sample of it. The agent's clock
/// (milliseconds since `epoch`) is read only for a sampled frame.
#[inline]
pub(super) fn sflow_ingress(run: &mut SflowRun, id: PortId, frame: &[u8], now: Instant, epoch: Instant) {
    let i = id.0 as usize;
    if i >= run.samplers.len() {
        run.samplers.resize_with(i + 1, || None);
    }
    let rate = run.rate;
    let sampler = run.samplers[i].get_or_insert_with(|| Sampler::new(rate, 0x5f10_0000 ^ i as u64));
    if !sampler.tick() {
        return;
    }
    let ifindex = run.ifindex.get(i).copied().unwrap_or(0);
    let sample = FlowSample::from_sampler(sampler, ifindex, Output::Unknown, frame);
    let now_ms = now.saturating_duration_since(epoch).as_millis() as u64;
    run.agent.add_flow_sample(&sample, now_ms);
}

/// Counts a frame received on `specs[in_idx]` in the IPFIX flow cache, if
/// sampled. With `normal` (the bridge switches with NORMAL alone), the
/// record's egress port is the one the MAC table sends the destination to;
/// otherwise, and for a flood, 0 (OVS: egressInterface 0 when not one port).
#[inline]
pub(super) fn ipfix_ingress(
    run: &mut IpfixRun,
    specs: &Ports,
    in_idx: usize,
    normal: Option<&Fdb>,
    frame: &[u8],
    now: Instant,
) {
    if !run.ipfix.sample() {
        return;
    }
    let port = &specs[in_idx];
    let key = extract(frame, port.ofport, port.tun_id);
    let out = normal.map_or(0, |fdb| egress_of(fdb, specs, in_idx, frame, now));
    // Wall-clock milliseconds from the run's origin and the monotonic `now`
    // the data path already has: no clock read per frame.
    let wall = run.wall_origin + now.saturating_duration_since(run.origin).as_millis() as u64;
    run.ipfix.record(&key, out, frame.len(), now, wall);
}

/// The OpenFlow port NORMAL sends `frame` to, if one (0 for a flood or a drop).
fn egress_of(fdb: &Fdb, specs: &Ports, in_idx: usize, frame: &[u8], now: Instant) -> u32 {
    let Ok(meta) = crate::wire::parse(frame) else {
        return 0;
    };
    if meta.dst.is_multicast() {
        return 0;
    }
    let Ok(vlan) = specs[in_idx].vlan.classify(meta.tag) else {
        return 0;
    };
    fdb.lookup(vlan, meta.dst, now)
        .and_then(|id| specs.index_of(id))
        .filter(|&i| i != in_idx)
        .map_or(0, |i| u32::from(specs[i].ofport))
}

fn non_default(pairs: &[(&'static str, String)], defaults: &[(&'static str, String)]) -> Vec<String> {
    pairs
        .iter()
        .zip(defaults)
        .filter(|(p, d)| p.1 != d.1)
        .map(|(p, _)| format!("{}={}", p.0, p.1))
        .collect()
}

impl Engine {
    /// `set bridge BR sflow_*=... ipfix_*=...`: all or nothing.
    pub(super) fn cmd_set_export(
        &mut self,
        bridge: &IfName,
        settings: &[ExportSetting],
    ) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        let mut sf = self.bridges[b].sflow_cfg.clone();
        let mut ix = self.bridges[b].ipfix_cfg.clone();
        for s in settings {
            let r = if s.is_sflow() {
                sf.set(&s.key, &s.value)
            } else {
                ix.set(&s.key, &s.value)
            };
            r.map_err(|e| invalid(format!("bridge {:?}: {e}", bridge.as_str())))?;
        }
        sf.validate()
            .and(ix.validate())
            .map_err(|e| invalid(format!("bridge {:?}: {e}", bridge.as_str())))?;
        // The sockets first: a failure changes nothing.
        let sflow_sock = if sf.is_enabled() && settings.iter().any(ExportSetting::is_sflow) {
            Some(export_socket(&sf.targets).map_err(|e| invalid(format!("sFlow socket: {e}")))?)
        } else {
            None
        };
        let ipfix_sock = if ix.enabled() && self.bridges[b].ipfix.is_none() {
            Some(export_socket(&ix.targets).map_err(|e| invalid(format!("IPFIX socket: {e}")))?)
        } else {
            None
        };
        if settings.iter().any(ExportSetting::is_sflow) {
            self.sflow_configure(b, sf, sflow_sock);
        }
        if settings.iter().any(|s| !s.is_sflow()) {
            self.ipfix_configure(b, ix, ipfix_sock);
        }
        Ok(Reply::Done)
    }

    /// `clear bridge BR sflow|ipfix`.
    pub(super) fn cmd_clear_bridge(
        &mut self,
        bridge: &IfName,
        keys: &[BridgeClearKey],
    ) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        for k in keys {
            match k {
                BridgeClearKey::Sflow => self.sflow_configure(b, SflowConfig::default(), None),
                BridgeClearKey::Ipfix => self.ipfix_configure(b, IpfixConfig::default(), None),
            }
        }
        Ok(Reply::Done)
    }

    /// Applies sFlow settings: a new agent (sequence numbers start again,
    /// as OVS does on reconfiguration) or none.
    fn sflow_configure(&mut self, b: BridgeKey, cfg: SflowConfig, sock: Option<UdpSocket>) {
        let now_ms = self.epoch.elapsed().as_millis() as u64;
        let bridge = &mut self.bridges[b];
        if let Some(old) = bridge.sflow.as_mut() {
            old.agent.flush(now_ms);
            let datagrams: Vec<Vec<u8>> = old.agent.drain().collect();
            for d in datagrams {
                for t in &old.targets {
                    let _ = old.sock.send_to(&d, t);
                }
            }
        }
        bridge.sflow = None;
        if cfg.is_enabled() {
            let sock = match sock.map_or_else(|| export_socket(&cfg.targets), Ok) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(bridge = %bridge.name, "sFlow off: no socket: {e}");
                    bridge.sflow_cfg = cfg;
                    return;
                }
            };
            let address = cfg.agent.unwrap_or_else(|| source_for(cfg.targets[0]));
            let sub_agent = self.bridges.keys().position(|k| k == b).unwrap_or(0) as u32;
            let bridge = &mut self.bridges[b];
            bridge.sflow = Some(Box::new(SflowRun {
                agent: Agent::new(&cfg, address, sub_agent, now_ms),
                samplers: Vec::new(),
                ifindex: Vec::new(),
                sock,
                targets: cfg.targets.clone(),
                rate: cfg.sampling,
                send_errors: 0,
            }));
        }
        self.bridges[b].sflow_cfg = cfg;
        self.export_ports(b);
    }

    /// Applies IPFIX settings: the running exporter is reconfigured (its
    /// cache exported where the spec says), started, or flushed and stopped.
    fn ipfix_configure(&mut self, b: BridgeKey, cfg: IpfixConfig, sock: Option<UdpSocket>) {
        let now = Instant::now();
        let wall = wall_ms();
        let bridge = &mut self.bridges[b];
        bridge.ipfix_cfg = cfg.clone();
        match bridge.ipfix.as_mut() {
            Some(run) => {
                let IpfixRun {
                    ipfix,
                    sock,
                    send_errors,
                    ..
                } = &mut **run;
                ipfix.reconfigure(cfg.clone(), now, wall, |targets, msg| {
                    send_all(sock, targets, msg, send_errors)
                });
                if !cfg.enabled() {
                    bridge.ipfix = None;
                }
            }
            None if cfg.enabled() => {
                let sock = match sock.map_or_else(|| export_socket(&cfg.targets), Ok) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(bridge = %bridge.name, "IPFIX off: no socket: {e}");
                        return;
                    }
                };
                let mut run = IpfixRun {
                    ipfix: Ipfix::new(cfg, 0x1f1f ^ b as u64),
                    sock,
                    send_errors: 0,
                    origin: now,
                    wall_origin: wall,
                };
                let IpfixRun {
                    ipfix,
                    sock,
                    send_errors,
                    ..
                } = &mut run;
                ipfix.start(now, wall, |targets, msg| {
                    send_all(sock, targets, msg, send_errors)
                });
                bridge.ipfix = Some(Box::new(run));
            }
            None => {}
        }
    }

    /// Refreshes the ifIndex of bridge `b`'s ports for sFlow (the device's,
    /// else 100000 + the OpenFlow port number).
    pub(super) fn export_ports(&mut self, b: BridgeKey) {
        if self.bridges[b].sflow.is_none() {
            return;
        }
        let mut ifindex = Vec::new();
        for (id, p) in self.ports.of_bridge(b) {
            let i = id.0 as usize;
            if ifindex.len() <= i {
                ifindex.resize(i + 1, 0);
            }
            ifindex[i] = p
                .io()
                .and_then(|io| io.ifindex())
                .unwrap_or_else(|| sflow::synthetic_ifindex(p.ofport));
        }
        if let Some(run) = self.bridges[b].sflow.as_mut() {
            run.ifindex = ifindex;
        }
    }

    /// Once a second: sFlow counter samples when due, then every finished
    /// datagram; IPFIX records that expired. Sent on the exporters' sockets.
    pub(super) fn export_tick(&mut self, now: Instant) {
        let now_ms = now.saturating_duration_since(self.epoch).as_millis() as u64;
        let keys: Vec<BridgeKey> = self.bridges.keys().collect();
        for b in keys {
            if self.bridges[b]
                .sflow
                .as_ref()
                .is_some_and(|r| r.agent.due(now_ms))
            {
                let counters: Vec<IfCounters> = self
                    .ports
                    .of_bridge(b)
                    .map(|(id, p)| {
                        let c = &p.counters;
                        let ifindex = self.bridges[b]
                            .sflow
                            .as_ref()
                            .and_then(|r| r.ifindex.get(id.0 as usize).copied())
                            .filter(|i| *i != 0)
                            .unwrap_or_else(|| sflow::synthetic_ifindex(p.ofport));
                        IfCounters {
                            if_index: ifindex,
                            if_speed: 10_000_000_000,
                            if_direction: sflow::Duplex::Full,
                            admin_up: true,
                            oper_up: p.is_up(),
                            promiscuous: true,
                            in_octets: c.rx_bytes,
                            in_ucast_pkts: c.rx_packets,
                            in_discards: c.rx_dropped(),
                            in_errors: c.rx_errors,
                            out_octets: c.tx_bytes,
                            out_ucast_pkts: c.tx_packets,
                            out_discards: c.tx_dropped(),
                            out_errors: c.tx_errors,
                            ..IfCounters::default()
                        }
                    })
                    .collect();
                if let Some(run) = self.bridges[b].sflow.as_mut() {
                    for c in &counters {
                        run.agent.add_counters_sample(c, now_ms);
                    }
                    run.agent.polled(now_ms);
                }
            }
            if let Some(run) = self.bridges[b].sflow.as_mut() {
                run.agent.flush(now_ms);
                let SflowRun {
                    agent,
                    sock,
                    targets,
                    send_errors,
                    ..
                } = &mut **run;
                for d in agent.drain() {
                    send_all(sock, targets, &d, send_errors);
                }
            }
            if let Some(run) = self.bridges[b].ipfix.as_mut() {
                let IpfixRun {
                    ipfix,
                    sock,
                    send_errors,
                    ..
                } = &mut **run;
                ipfix.run(now, wall_ms(), |targets, msg| {
                    send_all(sock, targets, msg, send_errors)
                });
            }
        }
    }

    /// Bridge `b`'s sFlow and IPFIX settings as `show` and the db give them
    /// (`key=value`, only those not at their default).
    pub(super) fn export_settings(&self, b: BridgeKey) -> (Vec<String>, Vec<String>) {
        let bridge = &self.bridges[b];
        (
            non_default(&bridge.sflow_cfg.pairs(), &SflowConfig::default().pairs()),
            non_default(&bridge.ipfix_cfg.pairs(), &IpfixConfig::default().pairs()),
        )
    }

    /// Restores bridge `b`'s exporters from its stored configuration.
    pub(super) fn export_from_db(
        &mut self,
        b: BridgeKey,
        stored: &crate::config::BridgeConfig,
    ) -> Result<(), String> {
        let (sf, ix) = stored.export_configs()?;
        if !stored.sflow.is_empty() {
            self.sflow_configure(b, sf, None);
        }
        if !stored.ipfix.is_empty() {
            self.ipfix_configure(b, ix, None);
        }
        Ok(())
    }
}

fn send_all(sock: &UdpSocket, targets: &[SocketAddr], msg: &[u8], errors: &mut u64) {
    for t in targets {
        if sock.send_to(msg, t).is_err() {
            *errors += 1;
        }
    }
}

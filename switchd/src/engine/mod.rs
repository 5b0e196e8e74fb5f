//! The engine: one thread that owns every bridge, port, MAC table and
//! counter, and runs the mio poll loop that moves frames.
//!
//! Nothing here is shared: the control thread sends a [`Request`] over a
//! channel and wakes the loop with a `mio::Waker`; the engine applies it
//! between two batches and answers on a one-shot channel with the reply
//! and, for a successful change, a snapshot of the configuration to store.
//! So there is no lock on the hot path and no half-applied change visible
//! to a frame.
//!
//! Data path per wake-up: every ready source receives one batch of at most
//! `BATCH` frames into the engine's single preallocated [`RxBatch`]; each
//! frame goes through [`pipeline::forward`], which queues `(slot, edit)`
//! entries on the egress ports; then every port with queued entries sends
//! them in one call. Registrations are edge-triggered, so a source that
//! returned a full batch stays on the `ready` list and the next poll does
//! not sleep (mio's "draining readiness" rule, with a per-source budget so
//! a busy one cannot starve the others).
//!
//! Sources are of two kinds, told apart by their mio token: a device port
//! (token = port slot) whose batch all came in on that port, and a tunnel
//! endpoint (token = `ENDPOINT_TOKEN_BASE` + endpoint slot), one socket
//! shared by every VXLAN or GRE port with the same local address and UDP
//! port, whose batch is demultiplexed frame by frame: each inner frame runs
//! through the pipeline with its own ingress port and bridge. Tunnel ports
//! have no fd; their egress goes out through their endpoint's socket.

mod command;

use std::io;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use proto::{Error, ErrorKind, IfName, PortConfig, PortType, Reply, Request};

use crate::config::Db;
use crate::fdb::Fdb;
use crate::offload;
use crate::pipeline::{self, PortSpec, Ports};
use crate::port::sys::{self, OpenError};
use crate::port::system::SystemPort;
use crate::port::tap::{TapIo, TapPort};
use crate::port::tunnel::{self, Endpoint, EndpointKey, TunnelId, TunnelLink};
use crate::port::{PortIo, RxBatch, SendOutcome, TxEntry, BATCH};
use crate::stats::{DropReason, PortCounters};
use crate::vlan::PortVlan;
use crate::wire::vnet::F_NEEDS_CSUM;
use crate::PortId;

const WAKER: Token = Token(usize::MAX);
/// The rtnetlink socket that reports device changes.
const LINK_WATCH: Token = Token(usize::MAX - 1);
/// Tokens from here on are tunnel endpoints (endpoint slot + base); below
/// it they are port slots.
const ENDPOINT_TOKEN_BASE: usize = 1 << 30;
/// How often ports whose device is missing are probed for its return.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// Segments produced per round when a GSO super-frame is segmented in
/// software (a 64 KiB frame at a 1448-byte MSS makes 46).
const SEGMENT_SLOTS: usize = 64;
/// Largest segment: a 9000-byte MTU plus Ethernet and tag headers.
const SEGMENT_LEN: usize = 9216;
/// Floor under the expiry timer, so a burst of entries expiring a few
/// microseconds apart does not spin the loop (Linux uses 10 ms too).
const MIN_TIMER: Duration = Duration::from_millis(10);

/// The engine's answer to one request.
#[derive(Debug)]
pub struct Response {
    /// The reply for the client.
    pub result: Result<Reply, Error>,
    /// After a successful change: the configuration to store before replying.
    pub db: Option<Db>,
}

enum Msg {
    Request(Request, mpsc::Sender<Response>),
    Shutdown,
}

/// The control side's handle on the engine thread.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<Msg>,
    waker: Arc<Waker>,
}

fn internal(msg: &str) -> Response {
    Response {
        result: Err(Error::new(ErrorKind::Internal, msg)),
        db: None,
    }
}

impl EngineHandle {
    /// Sends a request to the engine and waits for its answer.
    pub fn call(&self, req: Request) -> Response {
        let (tx, rx) = mpsc::channel();
        if self.tx.send(Msg::Request(req, tx)).is_err() || self.waker.wake().is_err() {
            return internal("switchd is shutting down");
        }
        rx.recv().unwrap_or_else(|_| internal("switchd is shutting down"))
    }

    /// Asks the engine to stop; it closes every port before its thread ends.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown);
        let _ = self.waker.wake();
    }
}

/// Builds the engine from the stored configuration and starts its thread.
/// Ports whose device cannot be opened are restored down, with the reason.
pub fn start(db: &Db, tap_io: TapIo) -> io::Result<(EngineHandle, thread::JoinHandle<()>)> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (tx, rx) = mpsc::channel();
    let mut engine = Engine::new(poll, rx, tap_io);
    engine.watch_links();
    engine.restore(db);
    let thread = thread::Builder::new()
        .name("engine".into())
        .spawn(move || engine.run())?;
    Ok((EngineHandle { tx, waker }, thread))
}

struct Bridge {
    name: IfName,
    mac_aging: u32,
    mac_table_size: u32,
    fdb: Fdb,
    /// The bridge's ports in the order they were added, in the compact form
    /// the pipeline reads for every frame.
    specs: Ports,
}

struct Port {
    name: IfName,
    /// Index into `Engine::bridges`.
    bridge: usize,
    /// Index into the bridge's `specs`.
    spec_idx: usize,
    config: PortConfig,
    io: Option<PortIo>,
    /// Why the port is down, if it is.
    down: Option<String>,
    counters: PortCounters,
    /// Frames of the current batch queued for this port.
    tx: Vec<TxEntry>,
    /// On the engine's ready list.
    ready: bool,
    /// A tunnel port's attachment to its endpoint (instead of `io`).
    tunnel: Option<TunnelLink>,
}

impl Port {
    /// Whether frames may be sent to this port with a virtio-net header
    /// (GSO super-frames, partial checksums) as they are.
    fn offloads(&self) -> bool {
        self.io.as_ref().is_some_and(PortIo::offloads)
    }

    /// The MTU enforced on egress: the configured one, else the device's.
    /// A tunnel port's is what fits its underlay (see
    /// [`TunnelLink::inner_mtu`]); a configured one may only lower it.
    fn mtu(&self) -> u32 {
        if let Some(t) = &self.tunnel {
            let inner = t.inner_mtu();
            return self.config.mtu.map_or(inner, |m| m.min(inner));
        }
        self.config
            .mtu
            .or(self.io.as_ref().map(PortIo::mtu))
            .unwrap_or(1500)
    }
}

struct Engine {
    poll: Poll,
    rx: mpsc::Receiver<Msg>,
    bridges: Vec<Bridge>,
    /// Port slots; the slot index is the `PortId` and the mio token.
    ports: Vec<Option<Port>>,
    /// Tunnel endpoint slots; token = `ENDPOINT_TOKEN_BASE` + index.
    endpoints: Vec<Option<Endpoint>>,
    batch: RxBatch,
    /// Segments of one GSO super-frame, for a port without offloads.
    segments: RxBatch,
    /// Slots of the batch with a partial checksum that a port without
    /// offloads will send: finished in place before anything is sent.
    csum_slots: u32,
    /// Scratch list of entries for one send call.
    scratch: Vec<TxEntry>,
    /// Ports with entries queued in the current batch.
    dirty: Vec<usize>,
    /// Tokens of the sources that returned a full batch and may have more.
    ready: Vec<usize>,
    next_probe: Instant,
    /// Link notifications (`None` if the socket could not be opened: the
    /// once-a-second probe still finds every change, only later).
    link_watch: Option<std::os::fd::OwnedFd>,
    /// How TAP ports are opened (`switchd --no-io-uring`).
    tap_io: TapIo,
    shutting_down: bool,
}

impl Engine {
    fn new(poll: Poll, rx: mpsc::Receiver<Msg>, tap_io: TapIo) -> Self {
        Engine {
            tap_io,
            poll,
            rx,
            bridges: Vec::new(),
            ports: Vec::new(),
            endpoints: Vec::new(),
            batch: RxBatch::new(),
            segments: RxBatch::with_layout(SEGMENT_SLOTS, SEGMENT_LEN),
            csum_slots: 0,
            scratch: Vec::with_capacity(SEGMENT_SLOTS),
            dirty: Vec::with_capacity(64),
            ready: Vec::with_capacity(64),
            next_probe: Instant::now() + PROBE_INTERVAL,
            link_watch: None,
            shutting_down: false,
        }
    }

    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        let mut still_ready = Vec::with_capacity(64);
        while !self.shutting_down {
            let timeout = if self.ready.is_empty() {
                Some(self.timeout(Instant::now()))
            } else {
                Some(Duration::ZERO)
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::error!("poll failed: {e}");
                    thread::sleep(Duration::from_millis(100));
                }
                continue;
            }
            let mut links_changed = false;
            for ev in events.iter() {
                match ev.token() {
                    WAKER => {}
                    LINK_WATCH => links_changed = true,
                    Token(t) => self.mark_ready(t),
                }
            }
            if links_changed {
                self.link_changes();
            }
            // One batch per ready source per round: fairness between them.
            still_ready.clear();
            for i in 0..self.ready.len() {
                let token = self.ready[i];
                let more = if token >= ENDPOINT_TOKEN_BASE {
                    self.service_endpoint(token - ENDPOINT_TOKEN_BASE)
                } else {
                    self.service_port(token)
                };
                if more {
                    still_ready.push(token);
                } else if let Some(flag) = self.ready_flag(token) {
                    *flag = false;
                }
            }
            std::mem::swap(&mut self.ready, &mut still_ready);
            self.handle_messages();
            self.timers(Instant::now());
        }
        // Dropping the ports closes their fds (TAP devices we created
        // without persist=true disappear with them).
        for slot in &mut self.ports {
            if let Some(mut p) = slot.take() {
                if let Some(io) = p.io.take() {
                    let _ = self.poll.registry().deregister(&mut SourceFd(&io.raw_fd()));
                }
            }
        }
        for ep in self.endpoints.iter_mut().filter_map(Option::take) {
            let _ = self.poll.registry().deregister(&mut SourceFd(&ep.raw_fd()));
        }
        tracing::info!("engine stopped");
    }

    /// Subscribes to rtnetlink link notifications, so that a port whose
    /// device appears (a VM restarted with the same tap name) is attached
    /// at once rather than at the next probe.
    fn watch_links(&mut self) {
        match sys::link_watch_socket() {
            Ok(fd) => {
                use std::os::fd::AsRawFd;
                let raw = fd.as_raw_fd();
                match self
                    .poll
                    .registry()
                    .register(&mut SourceFd(&raw), LINK_WATCH, Interest::READABLE)
                {
                    Ok(()) => self.link_watch = Some(fd),
                    Err(e) => tracing::warn!("link notifications unavailable, probing once a second: {e}"),
                }
            }
            Err(e) => tracing::warn!("link notifications unavailable, probing once a second: {e}"),
        }
    }

    /// Adds the frames the kernel dropped in front of each port (its receive
    /// queue was full) to the port's `rx-queue-full` count; once a second
    /// and before every `port-stats`, one `getsockopt` per port.
    fn collect_queue_drops(&mut self) {
        for p in self.ports.iter_mut().flatten() {
            if let Some(io) = p.io.as_mut() {
                p.counters.drops[DropReason::RxQueueFull.index()] += io.take_queue_drops();
            }
        }
    }

    /// A device appeared, vanished or changed: re-check every port by name.
    fn link_changes(&mut self) {
        use std::os::fd::AsFd;
        if let Some(fd) = &self.link_watch {
            if sys::drain_link_watch(fd.as_fd()) {
                self.probe_ports();
            }
        }
    }

    /// The "on the ready list" flag of the port or endpoint with `token`.
    fn ready_flag(&mut self, token: usize) -> Option<&mut bool> {
        if token >= ENDPOINT_TOKEN_BASE {
            let e = self.endpoints.get_mut(token - ENDPOINT_TOKEN_BASE)?.as_mut()?;
            Some(&mut e.ready)
        } else {
            Some(&mut self.ports.get_mut(token)?.as_mut()?.ready)
        }
    }

    /// Puts the source with `token` on the ready list (once).
    fn mark_ready(&mut self, token: usize) {
        if let Some(flag) = self.ready_flag(token) {
            if !*flag {
                *flag = true;
                self.ready.push(token);
            }
        }
    }

    /// Time until the next thing the loop must do without I/O: the oldest
    /// MAC entry's expiry or the next device probe.
    fn timeout(&self, now: Instant) -> Duration {
        let mut deadline = self.next_probe;
        for b in &self.bridges {
            if let Some(t) = b.fdb.next_expiry() {
                deadline = deadline.min(t);
            }
        }
        deadline.saturating_duration_since(now).max(MIN_TIMER)
    }

    fn timers(&mut self, now: Instant) {
        for b in &mut self.bridges {
            if b.fdb.next_expiry().is_some_and(|t| t <= now) {
                b.fdb.expire(now);
            }
        }
        if now >= self.next_probe {
            self.next_probe = now + PROBE_INTERVAL;
            self.collect_queue_drops();
            self.probe_ports();
            self.log_endpoint_drops();
        }
    }

    fn handle_messages(&mut self) {
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Msg::Shutdown => self.shutting_down = true,
                Msg::Request(req, reply) => {
                    let change = req.is_change();
                    let result = self.apply(req);
                    let db = (change && result.is_ok()).then(|| self.to_db());
                    let _ = reply.send(Response { result, db });
                }
            }
        }
    }

    /// Receives one batch on port `id` and forwards it. Returns whether the
    /// port may have more frames queued.
    fn service_port(&mut self, id: usize) -> bool {
        let received = match self.ports.get_mut(id) {
            Some(Some(Port { io: Some(io), .. })) => io.recv_batch(&mut self.batch),
            _ => return false,
        };
        match received {
            Ok(0) => false,
            Ok(n) => {
                self.forward_batch(id, n);
                n == BATCH
            }
            Err(e) => {
                self.take_down(id, device_error_reason(&e));
                false
            }
        }
    }

    /// Receives one batch on tunnel endpoint `e`, decodes it and forwards
    /// each inner frame from the port it belongs to. Returns whether the
    /// endpoint may have more packets queued.
    fn service_endpoint(&mut self, e: usize) -> bool {
        let mut ingress = [None; BATCH];
        let (n, more) = match self.endpoints.get_mut(e) {
            Some(Some(ep)) => ep.recv_batch(&mut self.batch, &mut ingress),
            _ => return false,
        };
        if n > 0 {
            let now = Instant::now();
            for (slot, port) in ingress.iter().enumerate().take(n) {
                if let Some(id) = *port {
                    self.forward_frame(id as usize, slot, now);
                }
            }
            self.flush_tx();
        }
        more
    }

    /// Runs the `n` frames of the batch received on port `id` through the
    /// pipeline, then sends what was queued, one call per egress port.
    fn forward_batch(&mut self, id: usize, n: usize) {
        let now = Instant::now();
        for slot in 0..n {
            self.forward_frame(id, slot, now);
        }
        self.flush_tx();
    }

    /// Runs frame `slot` of the batch, received on port `id`, through the
    /// pipeline of the port's bridge and queues it on its egress ports.
    #[inline]
    fn forward_frame(&mut self, id: usize, slot: usize, now: Instant) {
        let Engine {
            ports,
            bridges,
            batch,
            dirty,
            csum_slots,
            ..
        } = self;
        let frame = batch.frame(slot);
        let vnet = batch.vnet(slot);
        // A GSO super-frame leaves as segments: MTUs are checked against those.
        let wire_len = offload::wire_len(frame, &vnet);
        let Some(Some(port)) = ports.get_mut(id) else {
            return;
        };
        port.counters.rx_packets += 1;
        port.counters.rx_bytes += frame.len() as u64;
        let in_idx = port.spec_idx;
        let Bridge { fdb, specs, .. } = &mut bridges[port.bridge];
        let verdict = pipeline::forward_sized(fdb, specs, in_idx, frame, wire_len, now, |out_idx, res| {
            let out = specs[out_idx].id.0 as usize;
            let Some(Some(p)) = ports.get_mut(out) else { return };
            match res {
                Ok(edit) => {
                    if p.tx.is_empty() {
                        dirty.push(out);
                    }
                    // A partial checksum is finished once, in place, before
                    // anything is sent; GSO frames are segmented per port.
                    if vnet.needs_csum() && !vnet.is_gso() && !p.offloads() {
                        *csum_slots |= 1 << slot;
                    }
                    p.tx.push(TxEntry::new(slot as u8, edit));
                }
                Err(reason) => p.counters.count_drop(reason),
            }
        });
        if let Err(reason) = verdict {
            if let Some(Some(p)) = ports.get_mut(id) {
                p.counters.count_drop(reason);
            }
        }
    }

    /// Sends what the frames of the current batch queued, one call per
    /// egress port: on its device, or through its tunnel endpoint.
    ///
    /// Ports without offloads never see a partial checksum or a GSO
    /// super-frame: checksums are finished in place first (the header of
    /// the slot then says "nothing to do", which is just as right for the
    /// ports with offloads that get the same frame), and super-frames are
    /// segmented into `segments` and sent segment by segment, in order.
    fn flush_tx(&mut self) {
        self.finish_checksums();
        let Engine {
            ports,
            endpoints,
            batch,
            segments,
            scratch,
            dirty,
            ..
        } = self;
        for out in dirty.drain(..) {
            let Some(Some(p)) = ports.get_mut(out) else {
                continue;
            };
            let mut o = SendOutcome::default();
            if p.offloads() || p.tx.iter().all(|e| batch.vnet(usize::from(e.slot)).is_plain()) {
                o = send_to(p, endpoints, batch, None);
            } else {
                // Keep the frames in order: plain runs go out as they are,
                // each super-frame as its segments.
                let entries = std::mem::take(&mut p.tx);
                let mut rest = &entries[..];
                while !rest.is_empty() {
                    let plain = rest
                        .iter()
                        .take_while(|e| batch.vnet(usize::from(e.slot)).is_plain())
                        .count();
                    if plain > 0 {
                        scratch.clear();
                        scratch.extend_from_slice(&rest[..plain]);
                        add(&mut o, send_to(p, endpoints, batch, Some((batch, scratch))));
                        rest = &rest[plain..];
                        continue;
                    }
                    let e = rest[0];
                    rest = &rest[1..];
                    let slot = usize::from(e.slot);
                    let hdr = batch.vnet(slot);
                    if !hdr.is_gso() {
                        // A partial checksum that could not be finished.
                        p.counters.count_drop(DropReason::BadOffload);
                        continue;
                    }
                    let mut from = 0;
                    loop {
                        match offload::segment(batch.frame(slot), &hdr, from, segments) {
                            Ok((n, next)) => {
                                scratch.clear();
                                scratch.extend((0..n).map(|i| TxEntry::new(i as u8, e.edit)));
                                add(&mut o, send_to(p, endpoints, batch, Some((segments, scratch))));
                                match next {
                                    Some(n) => from = n,
                                    None => break,
                                }
                            }
                            Err(reason) => {
                                p.counters.count_drop(reason);
                                break;
                            }
                        }
                    }
                }
                p.tx = entries;
            }
            p.counters.tx_packets += o.sent;
            p.counters.tx_bytes += o.bytes;
            p.counters.tx_errors += o.errors;
            p.counters.drops[DropReason::TxQueueFull.index()] += o.dropped;
            p.counters.drops[DropReason::TxError.index()] += o.errors;
            p.counters.drops[DropReason::LinkDown.index()] += o.link_down;
            p.tx.clear();
        }
    }

    /// Finishes, in place, the partial checksums of the frames that a port
    /// without offloads will send ([`offload::complete_checksum`]).
    fn finish_checksums(&mut self) {
        let mut slots = std::mem::take(&mut self.csum_slots);
        while slots != 0 {
            let slot = slots.trailing_zeros() as usize;
            slots &= slots - 1;
            let mut hdr = self.batch.vnet(slot);
            if offload::complete_checksum(self.batch.frame_mut(slot), &hdr).is_ok() {
                hdr.flags &= !F_NEEDS_CSUM;
                self.batch.set_vnet(slot, hdr);
            }
        }
    }

    /// Detaches a port from its device after a fatal I/O error; the port
    /// stays configured and shows `reason`.
    fn take_down(&mut self, id: usize, reason: String) {
        let Some(Some(p)) = self.ports.get_mut(id) else {
            return;
        };
        if let Some(io) = p.io.take() {
            let _ = self.poll.registry().deregister(&mut SourceFd(&io.raw_fd()));
        }
        tracing::warn!(port = %p.name, "port down: {reason}");
        p.down = Some(reason);
        let b = &mut self.bridges[p.bridge];
        b.specs[p.spec_idx].up = false;
        b.fdb.flush_port(PortId(id as u32));
        self.detach_tunnel(id);
    }

    /// Opens the device of a port and registers it; on failure the port is
    /// left down with the reason.
    fn attach(&mut self, id: usize) -> Result<(), OpenError> {
        let Some(Some(p)) = self.ports.get_mut(id) else {
            return Ok(());
        };
        if p.config.port_type.is_tunnel() {
            return self.attach_tunnel(id);
        }
        let io = open_io(&p.name, &p.config, self.tap_io)?;
        let fd = io.raw_fd();
        if let Err(source) = self
            .poll
            .registry()
            .register(&mut SourceFd(&fd), Token(id), Interest::READABLE)
        {
            return Err(OpenError::Io {
                step: "register",
                name: p.name.to_string(),
                source,
            });
        }
        p.io = Some(io);
        p.down = None;
        let mtu = p.mtu();
        let spec = &mut self.bridges[p.bridge].specs[p.spec_idx];
        spec.up = true;
        spec.mtu = mtu;
        // Frames may already be queued; an edge may not come for them.
        self.mark_ready(id);
        Ok(())
    }

    /// Attaches a tunnel port to its endpoint, opening the endpoint if it
    /// is the first port on it. The port is up from then on: it has no
    /// device, and the kernel routes each packet when it is sent.
    fn attach_tunnel(&mut self, id: usize) -> Result<(), OpenError> {
        let Some(Some(p)) = self.ports.get(id) else {
            return Ok(());
        };
        let tid = TunnelId::from_config(&p.config)
            .ok_or_else(|| OpenError::Refused(format!("a {} port needs remote_ip", p.config.port_type)))?;
        let e = match self
            .endpoints
            .iter()
            .position(|ep| ep.as_ref().is_some_and(|ep| ep.key() == tid.endpoint))
        {
            Some(e) => e,
            None => self.open_endpoint(tid.endpoint)?,
        };
        let Some(Some(ep)) = self.endpoints.get_mut(e) else {
            return Err(OpenError::Refused("tunnel endpoint vanished".into()));
        };
        if let Err(other) = ep.demux.insert(tid.demux, id as u32) {
            let other = self.ports[other as usize]
                .as_ref()
                .map_or_else(|| format!("#{other}"), |o| o.name.to_string());
            return Err(OpenError::Refused(format!(
                "{} on {} is already used by port {other:?}",
                tid.demux, tid.endpoint
            )));
        }
        // No route yet is not fatal: sends fail (counted) until there is one,
        // and the probe picks up the MTU then.
        let underlay = tunnel::underlay_mtu(&tid).unwrap_or(tunnel::DEFAULT_UNDERLAY_MTU);
        let Some(Some(p)) = self.ports.get_mut(id) else {
            return Ok(());
        };
        p.tunnel = Some(TunnelLink::new(e, tid, underlay));
        p.down = None;
        let mtu = p.mtu();
        let spec = &mut self.bridges[p.bridge].specs[p.spec_idx];
        spec.up = true;
        spec.mtu = mtu;
        Ok(())
    }

    /// Opens and registers the endpoint `key`; returns its slot.
    fn open_endpoint(&mut self, key: EndpointKey) -> Result<usize, OpenError> {
        // Say so when the socket that holds the UDP port is our own.
        if let Some(other) = self
            .endpoints
            .iter()
            .flatten()
            .map(Endpoint::key)
            .find(|k| k.conflicts_with(&key))
        {
            return Err(OpenError::Refused(format!(
                "UDP port {} is already used by endpoint {other} of this switchd (tunnel ports with and without local_ip cannot share a dst_port)",
                key.port
            )));
        }
        let ep = Endpoint::open(key)?;
        let e = match self.endpoints.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                self.endpoints.push(None);
                self.endpoints.len() - 1
            }
        };
        let token = ENDPOINT_TOKEN_BASE + e;
        self.poll
            .registry()
            .register(&mut SourceFd(&ep.raw_fd()), Token(token), Interest::READABLE)
            .map_err(|source| OpenError::Io {
                step: "register",
                name: key.to_string(),
                source,
            })?;
        self.endpoints[e] = Some(ep);
        self.mark_ready(token);
        tracing::info!(endpoint = %key, "tunnel endpoint opened");
        Ok(e)
    }

    /// Detaches a tunnel port from its endpoint, closing the endpoint when
    /// it was the last port on it.
    fn detach_tunnel(&mut self, id: usize) {
        let Some(Some(p)) = self.ports.get_mut(id) else {
            return;
        };
        let Some(link) = p.tunnel.take() else {
            return;
        };
        let Some(Some(ep)) = self.endpoints.get_mut(link.endpoint) else {
            return;
        };
        ep.demux.remove(&link.id.demux);
        if ep.demux.is_empty() {
            if let Some(ep) = self.endpoints[link.endpoint].take() {
                let _ = self.poll.registry().deregister(&mut SourceFd(&ep.raw_fd()));
                let token = ENDPOINT_TOKEN_BASE + link.endpoint;
                self.ready.retain(|t| *t != token);
                tracing::info!(endpoint = %ep.key(), "tunnel endpoint closed");
            }
        }
    }

    /// Once a second, checks every system port against its device by name:
    /// a down port whose device has appeared is attached; an up port whose
    /// device is gone, or was replaced by a new device of the same name (a
    /// VM restarted), is taken down and re-attached as needed. The kernel
    /// tells an AF_PACKET socket that its device went down, but not that it
    /// was deleted, so this probe is what notices a deleted device (one
    /// `if_nametoindex` per port per second).
    fn probe_ports(&mut self) {
        for id in 0..self.ports.len() {
            let Some(Some(p)) = self.ports.get(id) else {
                continue;
            };
            if p.config.port_type.is_tunnel() {
                self.probe_tunnel(id);
                continue;
            }
            if matches!(p.config.port_type, PortType::Stream | PortType::Dgram) {
                // A socket port restored down (its directory was missing,
                // say) is retried until its socket can be created.
                if p.io.is_none() {
                    if let Err(e) = self.attach(id) {
                        if let Some(Some(p)) = self.ports.get_mut(id) {
                            p.down = Some(down_reason(&e));
                        }
                    }
                }
                continue;
            }
            if p.config.port_type != PortType::System {
                continue;
            }
            let current = sys::if_index(p.name.as_str()).ok();
            let bound = match &p.io {
                Some(PortIo::System(s)) => Some(s.ifindex()),
                _ => None,
            };
            if bound.is_some() && current != bound {
                self.take_down(id, "no such device (device removed)".into());
            }
            let Some(Some(p)) = self.ports.get(id) else {
                continue;
            };
            if p.io.is_some() || current.is_none() {
                continue;
            }
            let name = p.name.clone();
            match self.attach(id) {
                Ok(()) => tracing::info!(port = %name, "device appeared, port up"),
                Err(e) => {
                    if let Some(Some(p)) = self.ports.get_mut(id) {
                        p.down = Some(down_reason(&e));
                    }
                }
            }
        }
    }

    /// The once-a-second check of a tunnel port: retry attaching it if it
    /// is down (its endpoint could not be opened, e.g. the UDP port was
    /// taken), else re-read the underlay MTU (routes and path MTUs change).
    fn probe_tunnel(&mut self, id: usize) {
        let Some(Some(p)) = self.ports.get_mut(id) else {
            return;
        };
        let Some(link) = p.tunnel.as_mut() else {
            let name = p.name.clone();
            match self.attach_tunnel(id) {
                Ok(()) => tracing::info!(port = %name, "tunnel port up"),
                Err(e) => {
                    if let Some(Some(p)) = self.ports.get_mut(id) {
                        p.down = Some(down_reason(&e));
                    }
                }
            }
            return;
        };
        let Ok(underlay) = tunnel::underlay_mtu(&link.id) else {
            return;
        };
        if underlay == link.underlay_mtu() {
            return;
        }
        tracing::info!(port = %p.name, underlay, "tunnel underlay MTU changed");
        link.set_underlay_mtu(underlay);
        let mtu = p.mtu();
        self.bridges[p.bridge].specs[p.spec_idx].mtu = mtu;
    }

    /// Logs (at debug, at most once a second per endpoint) the tunnel
    /// packets that no port could take since the last time: their counters
    /// are on `port-stats`, the log says when they happened.
    fn log_endpoint_drops(&mut self) {
        for ep in self.endpoints.iter_mut().flatten() {
            let total = ep.counters.rx_dropped();
            if total == ep.logged_drops {
                continue;
            }
            let by_reason = ep.counters.to_proto("", "").drops;
            tracing::debug!(
                endpoint = %ep.key(),
                new = total - ep.logged_drops,
                "tunnel packets dropped (totals: {by_reason:?})"
            );
            ep.logged_drops = total;
        }
    }

    fn to_db(&self) -> Db {
        Db {
            version: crate::config::DB_VERSION,
            bridges: self
                .bridges
                .iter()
                .map(|b| crate::config::BridgeConfig {
                    name: b.name.clone(),
                    mac_aging: b.mac_aging,
                    mac_table_size: b.mac_table_size,
                    ports: b
                        .specs
                        .iter()
                        .filter_map(|s| self.ports[s.id.0 as usize].as_ref())
                        .map(|p| crate::config::PortEntry {
                            name: p.name.clone(),
                            config: p.config.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn restore(&mut self, db: &Db) {
        let held_deadline = Instant::now() + RESTORE_HELD_WAIT;
        for b in &db.bridges {
            let idx = self.add_bridge(b.name.clone());
            let bridge = &mut self.bridges[idx];
            bridge.mac_aging = b.mac_aging;
            bridge.mac_table_size = b.mac_table_size;
            bridge.fdb.set_aging(Duration::from_secs(b.mac_aging.into()));
            bridge.fdb.set_max_entries(b.mac_table_size as usize);
            for p in &b.ports {
                let id = self.insert_port(idx, p.name.clone(), p.config.clone());
                let mut attached = self.attach(id);
                while matches!(attached, Err(OpenError::Held(_))) && Instant::now() < held_deadline {
                    thread::sleep(Duration::from_millis(10));
                    attached = self.attach(id);
                }
                if let Err(e) = attached {
                    tracing::warn!(port = %p.name, "restored down: {e}");
                    if let Some(Some(port)) = self.ports.get_mut(id) {
                        port.down = Some(down_reason(&e));
                    }
                }
            }
        }
    }

    fn add_bridge(&mut self, name: IfName) -> usize {
        self.bridges.push(Bridge {
            name,
            mac_aging: proto::types::MAC_AGING_DEFAULT,
            mac_table_size: proto::types::MAC_TABLE_SIZE_DEFAULT,
            fdb: Fdb::new(
                proto::types::MAC_TABLE_SIZE_DEFAULT as usize,
                Duration::from_secs(proto::types::MAC_AGING_DEFAULT.into()),
            ),
            specs: Ports::default(),
        });
        self.bridges.len() - 1
    }

    /// Adds a port (down, without a device) to bridge `bridge`; returns its id.
    fn insert_port(&mut self, bridge: usize, name: IfName, config: PortConfig) -> usize {
        let id = match self.ports.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                self.ports.push(None);
                self.ports.len() - 1
            }
        };
        let b = &mut self.bridges[bridge];
        b.specs.push(PortSpec {
            id: PortId(id as u32),
            vlan: PortVlan::from_config(&config),
            tunnel: config.port_type.is_tunnel(),
            up: false,
            mtu: config.mtu.unwrap_or(1500),
        });
        self.ports[id] = Some(Port {
            name,
            bridge,
            spec_idx: b.specs.len() - 1,
            config,
            io: None,
            down: Some("not attached".into()),
            counters: PortCounters::default(),
            tx: Vec::with_capacity(BATCH),
            ready: false,
            tunnel: None,
        });
        id
    }

    /// Removes a port: closes its device, forgets its MAC entries.
    fn remove_port(&mut self, id: usize) {
        self.detach_tunnel(id);
        let Some(mut p) = self.ports[id].take() else {
            return;
        };
        if let Some(io) = p.io.take() {
            let _ = self.poll.registry().deregister(&mut SourceFd(&io.raw_fd()));
        }
        self.ready.retain(|r| *r != id);
        let b = &mut self.bridges[p.bridge];
        b.specs.remove(p.spec_idx);
        b.fdb.flush_port(PortId(id as u32));
        for spec in b.specs.iter().skip(p.spec_idx) {
            if let Some(Some(q)) = self.ports.get_mut(spec.id.0 as usize) {
                q.spec_idx -= 1;
            }
        }
    }

    fn find_bridge(&self, name: &IfName) -> Result<usize, Error> {
        self.bridges.iter().position(|b| &b.name == name).ok_or_else(|| {
            Error::new(
                ErrorKind::NoSuchBridge,
                format!("no bridge named {:?}", name.as_str()),
            )
        })
    }

    fn find_port(&self, name: &IfName) -> Result<usize, Error> {
        self.ports
            .iter()
            .position(|p| p.as_ref().is_some_and(|p| &p.name == name))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoSuchPort,
                    format!("no port named {:?}", name.as_str()),
                )
            })
    }
}

/// Opens the device of a port that has one (tunnel ports have none: see
/// `attach_tunnel`).
/// Sends frames to port `p`: its own queue when `entries` is `None`, else
/// the given entries of the given batch.
fn send_to(
    p: &mut Port,
    endpoints: &mut [Option<Endpoint>],
    batch: &RxBatch,
    entries: Option<(&RxBatch, &[TxEntry])>,
) -> SendOutcome {
    let (batch, tx) = match entries {
        Some((b, e)) => (b, e),
        None => (batch, &p.tx[..]),
    };
    if let Some(io) = p.io.as_mut() {
        io.send_batch(batch, tx)
    } else if let Some(link) = &p.tunnel {
        match endpoints.get_mut(link.endpoint) {
            Some(Some(ep)) => ep.send_batch(batch, tx, link),
            _ => SendOutcome {
                errors: tx.len() as u64,
                ..SendOutcome::default()
            },
        }
    } else {
        SendOutcome::default()
    }
}

fn add(total: &mut SendOutcome, o: SendOutcome) {
    total.sent += o.sent;
    total.bytes += o.bytes;
    total.dropped += o.dropped;
    total.errors += o.errors;
    total.link_down += o.link_down;
}

/// How long start-up waits, in all, for TAP devices that are still held
/// before it restores their ports down. A switchd that was killed leaves its
/// TAPs held by its io_uring rings (registered files, see `port::sys::uring`)
/// until the kernel's asynchronous teardown of the rings runs, milliseconds
/// later; a restart must not find its own devices "held by another process".
/// A TAP that qemu holds costs one start-up this wait.
const RESTORE_HELD_WAIT: Duration = Duration::from_secs(2);

fn open_io(name: &IfName, config: &PortConfig, tap_io: TapIo) -> Result<PortIo, OpenError> {
    match config.port_type {
        PortType::System => SystemPort::open(name).map(PortIo::System),
        PortType::Tap => TapPort::open(name, config.persist, tap_io).map(PortIo::Tap),
        PortType::Stream => crate::port::stream::StreamPort::open(name, config).map(PortIo::Stream),
        PortType::Dgram => crate::port::dgram::DgramPort::open(name, config).map(PortIo::Dgram),
        other => Err(OpenError::Refused(format!(
            "port type {other} is not supported by this switchd yet"
        ))),
    }
}

/// The text `show` prints for a port that could not be opened.
fn down_reason(e: &OpenError) -> String {
    match e {
        OpenError::NoSuchDevice(_) => "no such device".into(),
        other => other.to_string(),
    }
}

/// The text `show` prints for a port whose device failed while running.
fn device_error_reason(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ENODEV) | Some(libc::ENXIO) | Some(libc::EBADFD) => {
            "no such device (device removed)".into()
        }
        _ => format!("device error: {e}"),
    }
}

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

mod bonds;
mod bridge;
mod command;
mod datapath;
mod export;
mod flowpath;
mod flows;
mod handover;
mod lifecycle;
mod meters;
mod mirror;
mod ofdata;
mod ofproto;
mod ofstate;
mod openflow;
mod ports;
mod stp;
#[cfg(test)]
mod tests;
mod trace;

use std::io;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use proto::{Error, ErrorKind, IfName, Reply, Request};

use crate::capture::Tap;
use crate::config::Db;
use crate::handover::{HandOver, Inherited, Takeover};
use crate::port::sys;
use crate::port::tunnel::Endpoint;
use crate::port::{Devices, RxBatch, TxEntry};
use crate::stats::DropReason;
use crate::PortId;

use bridge::{Bridge, Bridges};
use ports::{BridgeKey, PortTable};

const WAKER: Token = Token(usize::MAX);
/// The rtnetlink socket that reports device changes.
const LINK_WATCH: Token = Token(usize::MAX - 1);
/// Tokens from here on are tunnel endpoints (endpoint slot + base); below
/// it they are port slots.
const ENDPOINT_TOKEN_BASE: usize = 1 << 30;
/// Tokens from here up to `ENDPOINT_TOKEN_BASE` are bond members (see
/// `bonds::member_token`).
const MEMBER_TOKEN_BASE: usize = 1 << 29;
/// The bonds' tick: LACP timers, up/down delays, rebalancing.
const BOND_TICK: Duration = Duration::from_millis(100);
/// How often ports whose device is missing are probed for its return.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// Segments produced per round when a GSO super-frame is segmented in
/// software (a 64 KiB frame at a 1448-byte MSS makes 46).
const SEGMENT_SLOTS: usize = 64;
/// Largest segment: a 9000-byte MTU plus Ethernet and tag headers.
const SEGMENT_LEN: usize = 9216;
/// Largest frame the switch sends of its own (a BPDU is 60 bytes).
const CONTROL_FRAME_LEN: usize = 128;
/// The spanning-tree timers' tick (802.1D-2004 §17.22: one second).
const STP_TICK: Duration = Duration::from_secs(1);
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
    /// Put a capture on a port (`switchctl capture`); the answer says
    /// whether the port exists.
    AttachTap(IfName, Tap, mpsc::Sender<Result<(), Error>>),
    /// Replace the process image (an in-place restart); the answer comes
    /// only if that failed.
    HandOver(HandOver, mpsc::Sender<String>),
    Shutdown,
}

/// The mio token of member `m` of the bond in slot `id`.
fn member_token(id: PortId, m: usize) -> usize {
    MEMBER_TOKEN_BASE + id.0 as usize * crate::port::bond::MAX_MEMBERS + m
}

/// The bond port and member a member token stands for.
fn token_member(token: usize) -> (PortId, usize) {
    let t = token - MEMBER_TOKEN_BASE;
    (
        PortId((t / crate::port::bond::MAX_MEMBERS) as u32),
        t % crate::port::bond::MAX_MEMBERS,
    )
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

    /// Puts a capture on port `port`: from the next batch on, the engine
    /// offers the tap every frame the port receives and sends, until the
    /// tap's reader is dropped or the port removed (its reader then sees
    /// the end). Fails if there is no such port.
    pub fn attach_tap(&self, port: IfName, tap: Tap) -> Result<(), Error> {
        let (tx, rx) = mpsc::channel();
        if self.tx.send(Msg::AttachTap(port, tap, tx)).is_err() || self.waker.wake().is_err() {
            return internal("switchd is shutting down").result.map(drop);
        }
        rx.recv()
            .unwrap_or_else(|_| internal("switchd is shutting down").result.map(drop))
    }

    /// Hands every port over to the binary of `plan` and executes it in
    /// this process (SPEC §13). Returns only if that failed, with why; the
    /// engine then goes on forwarding as before.
    pub fn hand_over(&self, plan: HandOver) -> String {
        let (tx, rx) = mpsc::channel();
        if self.tx.send(Msg::HandOver(plan, tx)).is_err() || self.waker.wake().is_err() {
            return "switchd is shutting down".into();
        }
        rx.recv().unwrap_or_else(|_| "switchd is shutting down".into())
    }

    /// Asks the engine to stop; it closes every port before its thread ends.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown);
        let _ = self.waker.wake();
    }
}

/// Builds the engine from the stored configuration and starts its thread.
/// Ports whose device cannot be opened are restored down, with the reason.
/// With `inherited` (an in-place restart), ports take over the fds a
/// previous image handed over instead of opening their devices; the third
/// value then says how that went.
pub fn start(
    db: &Db,
    devices: Devices,
    inherited: Option<Inherited>,
) -> io::Result<(EngineHandle, thread::JoinHandle<()>, Option<Takeover>)> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (tx, rx) = mpsc::channel();
    let mut engine = Engine::new(poll, rx, devices);
    engine.inherited = inherited;
    engine.watch_links();
    engine.restore(db);
    let takeover = engine.finish_takeover();
    let thread = thread::Builder::new()
        .name("engine".into())
        .spawn(move || engine.run())?;
    Ok((EngineHandle { tx, waker }, thread, takeover))
}

struct Engine {
    poll: Poll,
    rx: mpsc::Receiver<Msg>,
    bridges: Bridges,
    ports: PortTable,
    /// Tunnel endpoint slots; token = `ENDPOINT_TOKEN_BASE` + index.
    endpoints: Vec<Option<Endpoint>>,
    batch: RxBatch,
    /// Segments of one GSO super-frame, for a port without offloads.
    segments: RxBatch,
    /// Slots of the batch with a partial checksum that a port without
    /// offloads will send: finished in place before anything is sent (one
    /// bit per slot: `batch::BATCH` is tied to its width at compile time).
    csum_slots: u64,
    /// Copy slots of the batch used so far (frames rewritten by flows).
    copies_used: usize,
    /// Scratch list of entries for one send call.
    scratch: Vec<TxEntry>,
    /// Ports with entries queued in the current batch.
    dirty: Vec<PortId>,
    /// Tokens of the sources that returned a full batch and may have more.
    ready: Vec<usize>,
    next_probe: Instant,
    /// Link notifications (`None` if the socket could not be opened: the
    /// once-a-second probe still finds every change, only later).
    link_watch: Option<std::os::fd::OwnedFd>,
    /// Where ports find their devices.
    devices: Devices,
    /// This switch's identity, from which bridge MACs are derived; stored in
    /// the db.
    system_id: u64,
    /// Bridges whose spanning tree got BPDUs in the current batch.
    stp_pending: Vec<BridgeKey>,
    /// When the spanning-tree timers tick next.
    next_stp_tick: Instant,
    /// Buffer for frames the switch makes itself (BPDUs, LACPDUs).
    control: RxBatch,
    /// When the bonds tick next.
    next_bond_tick: Instant,
    /// The origin of the millisecond clock given to bonds and LACP.
    epoch: Instant,
    /// LACP events being carried out (kept to reuse the allocation).
    lacp_events: Vec<crate::lacp::Event>,
    /// OpenFlow listeners and connections (SPEC §10).
    of: ofstate::OfIo,
    /// Frames for controllers queued by the current batch.
    packet_ins: ofstate::PacketIns,
    /// Rounds of the poll loop, batches received and their frames (metrics).
    loops: u64,
    batches: u64,
    batch_frames: u64,
    shutting_down: bool,
    /// During restore after an in-place restart: the fds the previous image
    /// handed over, taken by the ports as they attach.
    inherited: Option<Inherited>,
    /// What the ports took over (or opened anew) during that restore.
    takeover: Takeover,
    /// The db is being restored (start-up), not changed by a client.
    restoring: bool,
}

impl Engine {
    fn new(poll: Poll, rx: mpsc::Receiver<Msg>, devices: Devices) -> Self {
        Engine {
            devices,
            system_id: bridge::new_system_id(),
            poll,
            rx,
            bridges: Bridges::default(),
            ports: PortTable::default(),
            endpoints: Vec::new(),
            batch: RxBatch::new(),
            segments: RxBatch::with_layout(SEGMENT_SLOTS, SEGMENT_LEN),
            csum_slots: 0,
            copies_used: 0,
            scratch: Vec::with_capacity(SEGMENT_SLOTS),
            dirty: Vec::with_capacity(64),
            ready: Vec::with_capacity(64),
            next_probe: Instant::now() + PROBE_INTERVAL,
            link_watch: None,
            stp_pending: Vec::with_capacity(4),
            next_stp_tick: Instant::now() + STP_TICK,
            control: RxBatch::with_layout(1, CONTROL_FRAME_LEN),
            // The first tick at once: the LACPDUs of restored bonds go out
            // without waiting (after an in-place restart, the partner's
            // answer is what puts the members back into the aggregate).
            next_bond_tick: Instant::now(),
            epoch: Instant::now(),
            lacp_events: Vec::new(),
            of: ofstate::OfIo::default(),
            packet_ins: ofstate::PacketIns::default(),
            loops: 0,
            batches: 0,
            batch_frames: 0,
            shutting_down: false,
            inherited: None,
            takeover: Takeover::default(),
            restoring: false,
        }
    }

    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        let mut still_ready = Vec::with_capacity(64);
        while !self.shutting_down {
            self.loops += 1;
            let timeout = if self.ready.is_empty() && !self.of.has_pending() {
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
                    Token(t) if (ofstate::OF_TOKEN_BASE..MEMBER_TOKEN_BASE).contains(&t) => self.of_event(t),
                    Token(t) => self.mark_ready(t),
                }
            }
            if links_changed {
                self.link_changes();
                self.of_port_sync();
            }
            self.service_ready(&mut still_ready);
            self.of_service_pending();
            self.handle_messages();
            self.timers(Instant::now());
        }
        self.close_all();
        tracing::info!("engine stopped");
    }

    /// One batch from each ready source (fairness between them); those
    /// that may have more stay on the list. `still_ready` is scratch space
    /// kept by the caller, so a round allocates nothing.
    fn service_ready(&mut self, still_ready: &mut Vec<usize>) {
        still_ready.clear();
        for i in 0..self.ready.len() {
            let token = self.ready[i];
            let more = if token >= ENDPOINT_TOKEN_BASE {
                self.service_endpoint(token - ENDPOINT_TOKEN_BASE)
            } else if token >= MEMBER_TOKEN_BASE {
                let (id, m) = token_member(token);
                self.service_member(id, m)
            } else {
                self.service_port(PortId(token as u32))
            };
            if more {
                still_ready.push(token);
            } else if let Some(flag) = self.ready_flag(token) {
                *flag = false;
            }
        }
        std::mem::swap(&mut self.ready, still_ready);
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
        for (_, p) in self.ports.iter_mut() {
            let dropped = p.io_mut().map_or(0, |io| io.take_queue_drops());
            p.counters.drops[DropReason::RxQueueFull.index()] += dropped;
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
        } else if token >= MEMBER_TOKEN_BASE {
            let (id, m) = token_member(token);
            Some(&mut self.ports.get_mut(id)?.bond_mut()?.members.get_mut(m)?.ready)
        } else {
            Some(&mut self.ports.get_mut(PortId(token as u32))?.ready)
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
    /// MAC entry's expiry, the next device probe or spanning-tree tick.
    fn timeout(&self, now: Instant) -> Duration {
        let mut deadline = self.next_probe;
        if self.stp_running() {
            deadline = deadline.min(self.next_stp_tick);
        }
        if self.bonds_running() {
            deadline = deadline.min(self.next_bond_tick);
        }
        for b in self.bridges.iter() {
            if let Some(t) = b.fdb.next_expiry() {
                deadline = deadline.min(t);
            }
        }
        if let Some(t) = self.of_deadline() {
            deadline = deadline.min(t);
        }
        deadline.saturating_duration_since(now).max(MIN_TIMER)
    }

    fn timers(&mut self, now: Instant) {
        for b in self.bridges.iter_mut() {
            if b.fdb.next_expiry().is_some_and(|t| t <= now) {
                b.fdb.expire(now);
            }
        }
        if now >= self.next_bond_tick {
            self.next_bond_tick = now + BOND_TICK;
            self.bonds_tick(now);
        }
        if now >= self.next_stp_tick {
            self.next_stp_tick = now + STP_TICK;
            self.stp_tick();
            self.of_port_sync();
        }
        if self.of_deadline().is_some_and(|t| t <= now) {
            self.of_timers(now);
            self.of_flush_all();
        }
        if now >= self.next_probe {
            self.next_probe = now + PROBE_INTERVAL;
            self.collect_queue_drops();
            self.expire_flows(now);
            self.export_tick(now);
            self.probe_ports();
            self.log_endpoint_drops();
        }
    }

    fn handle_messages(&mut self) {
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Msg::Shutdown => self.shutting_down = true,
                Msg::HandOver(plan, reply) => {
                    let _ = reply.send(self.hand_over(plan));
                }
                Msg::AttachTap(port, tap, reply) => {
                    let _ = reply.send(self.attach_tap(&port, tap));
                }
                Msg::Request(req, reply) => {
                    let _ = reply.send(self.respond(req));
                    // A port added, removed or changed: tell the controllers.
                    self.of_port_sync();
                    self.of_flush_all();
                }
            }
        }
    }

    /// Applies one request; a successful change comes with the
    /// configuration to store.
    fn respond(&mut self, req: Request) -> Response {
        let change = req.is_change();
        let result = self.apply(req);
        if change && result.is_ok() {
            // Ports came or went: mirrors name ports.
            let with_mirrors: Vec<_> = self
                .bridges
                .keys()
                .filter(|&b| !self.bridges[b].mirrors.list.is_empty())
                .collect();
            for b in with_mirrors {
                self.mirrors_resolve(b);
            }
            let with_sflow: Vec<_> = self
                .bridges
                .keys()
                .filter(|&b| self.bridges[b].sflow.is_some())
                .collect();
            for b in with_sflow {
                self.export_ports(b);
            }
        }
        let db = (change && result.is_ok()).then(|| self.to_db());
        Response { result, db }
    }

    /// Adds a capture to a port. Captures whose reader is gone are
    /// dropped from every port first: the data path drops them only when
    /// their port has a frame to offer.
    fn attach_tap(&mut self, port: &IfName, tap: Tap) -> Result<(), Error> {
        for (_, p) in self.ports.iter_mut() {
            p.taps.retain(Tap::is_open);
        }
        let id = self.find_port(port)?;
        if let Some(p) = self.ports.get_mut(id) {
            p.taps.push(tap);
        }
        Ok(())
    }

    fn find_bridge(&self, name: &IfName) -> Result<BridgeKey, Error> {
        self.bridges.find(name).ok_or_else(|| {
            Error::new(
                ErrorKind::NoSuchBridge,
                format!("no bridge named {:?}", name.as_str()),
            )
        })
    }

    fn find_port(&self, name: &IfName) -> Result<PortId, Error> {
        self.ports.find(name).ok_or_else(|| {
            Error::new(
                ErrorKind::NoSuchPort,
                format!("no port named {:?}", name.as_str()),
            )
        })
    }
}

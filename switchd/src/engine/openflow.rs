//! The OpenFlow channel's sockets (SPEC §10): each bridge's controller
//! targets, active (`tcp:`, `unix:`: connected to, reconnected with
//! backoff) and passive (`ptcp:`, `punix:`: listening, accepting any
//! number of controllers), and every open connection with its input and
//! output buffers. What the messages mean is `ofproto.rs`'s; the protocol
//! state of a connection (handshake, probes, role) is
//! [`crate::openflow::conn`]'s.
//!
//! The state itself (connections, listeners, targets) is `ofstate.rs`'s.
//!
//! Everything runs on the engine thread, as Open vSwitch runs its
//! connection manager in its main thread, because a controller's changes
//! are changes to tables the data path reads; but nothing a controller
//! does can hold the loop up: sockets are non-blocking, a connection's
//! messages are processed at most `MSG_BUDGET` per wake-up (the rest on
//! the next round), its output is bounded — above
//! `PACKET_IN_TX_LIMIT` bytes waiting, PACKET_INs for it are dropped and
//! counted; above `TX_LIMIT` its input is not read until it reads its
//! replies — and a connection that stops answering echo requests is closed.
//!
//! Tokens: listener `i` is `OF_TOKEN_BASE + i`, connection `j` is
//! `OF_TOKEN_BASE + LISTENER_TOKENS + j`.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Instant;

use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Token};
use proto::{ControllerInfo, ControllerRole, ControllerState, ControllerTarget, FailMode, OfVersion};

use super::ofstate::{
    free_slot, Controller, Listen, OfConn, OfIo, OfListener, Stream, CONNECT_TIMEOUT, LISTENER_TOKENS,
    MAX_ACCEPTED, MSG_BUDGET, OF_TOKEN_BASE, READ_CHUNK, TX_LIMIT,
};
use super::ports::BridgeKey;
use super::Engine;
use crate::openflow::codec;
use crate::openflow::conn::{Backoff, FailOpen, Probe, Session};
use crate::openflow::msg::{Outgoing, Role, OFP10};

impl Engine {
    /// Replaces bridge `b`'s controller targets (closing every connection
    /// and listener of the old ones).
    pub(super) fn of_set_controllers(&mut self, b: BridgeKey, targets: Vec<ControllerTarget>) {
        self.of_close_bridge(b);
        let now = Instant::now();
        let of = &mut self.bridges[b].of;
        of.controllers = targets
            .into_iter()
            .map(|target| Controller {
                target,
                listener: None,
                conn: None,
                backoff: Backoff::new(now),
                last_error: None,
                accepted: 0,
                packet_ins_dropped: 0,
            })
            .collect();
        of.fail_open = FailOpen::new(now);
        of.fail_open
            .configure(now, of.fail_mode, !of.controllers.is_empty());
        of.fail_open_active = false;
        self.of_timers(now);
    }

    /// After `fail_mode`, `protocols` or `datapath_id` changed: the fail-open
    /// timer follows the mode; connections whose version is no longer
    /// allowed, or that were told another datapath id, start again.
    pub(super) fn of_reconfigure(&mut self, b: BridgeKey) {
        let now = Instant::now();
        let of = &mut self.bridges[b].of;
        of.fail_open
            .configure(now, of.fail_mode, !of.controllers.is_empty());
        if of.fail_mode == FailMode::Secure {
            of.fail_open_active = false;
        }
        let targets: Vec<ControllerTarget> = of.controllers.iter().map(|c| c.target.clone()).collect();
        if !targets.is_empty() {
            // As OVS, which reconnects its controllers on such changes.
            self.of_set_controllers(b, targets);
        }
    }

    /// Closes every connection and listener of bridge `b` (its targets are kept).
    pub(super) fn of_close_bridge(&mut self, b: BridgeKey) {
        let conns: Vec<usize> = (0..self.of.conns.len())
            .filter(|&c| self.of.conns[c].as_ref().is_some_and(|x| x.bridge == b))
            .collect();
        for c in conns {
            self.of_close(c, None);
        }
        for i in 0..self.of.listeners.len() {
            if self.of.listeners[i].as_ref().is_some_and(|l| l.bridge == b) {
                if let Some(mut l) = self.of.listeners[i].take() {
                    self.deregister_listener(&mut l);
                }
            }
        }
        if let Some(bridge) = self.bridges.get_mut(b) {
            for c in &mut bridge.of.controllers {
                c.listener = None;
                c.conn = None;
                c.accepted = 0;
            }
        }
    }

    fn deregister_listener(&mut self, l: &mut OfListener) {
        let registry = self.poll.registry();
        match &mut l.sock {
            Listen::Tcp(s) => {
                let _ = registry.deregister(s);
            }
            Listen::Unix(s, path) => {
                let _ = registry.deregister(s);
                let _ = std::fs::remove_file(path);
            }
        }
    }

    /// Closes connection `c`; `error` becomes its target's last error.
    pub(super) fn of_close(&mut self, c: usize, error: Option<String>) {
        let Some(mut conn) = self.of.conns.get_mut(c).and_then(Option::take) else {
            return;
        };
        let _ = self.poll.registry().deregister(conn.stream.source());
        self.of.pending.retain(|&p| p != c);
        let now = Instant::now();
        if let Some(bridge) = self.bridges.get_mut(conn.bridge) {
            let of = &mut bridge.of;
            of.live.retain(|&l| l != c);
            if let Some(ctrl) = of.controllers.get_mut(conn.ctrl) {
                ctrl.packet_ins_dropped += conn.packet_ins_dropped;
                if ctrl.conn == Some(c) {
                    ctrl.conn = None;
                    ctrl.backoff.failed(now);
                }
                if ctrl.listener.is_some() || ctrl.accepted > 0 {
                    ctrl.accepted = ctrl.accepted.saturating_sub(1);
                }
                if let Some(e) = &error {
                    tracing::info!(bridge = %bridge.name, target = %ctrl.target, "controller connection closed: {e}");
                    ctrl.last_error = Some(e.clone());
                }
            }
            let any_10 = of
                .live
                .iter()
                .any(|&l| self.of.conns[l].as_ref().and_then(|x| x.session.version()) == Some(OFP10));
            of.miss_to_controller = any_10;
        }
        conn.rx.clear();
    }

    /// A readiness event on an OpenFlow socket.
    pub(super) fn of_event(&mut self, token: usize) {
        let i = token - OF_TOKEN_BASE;
        if i < LISTENER_TOKENS {
            self.of_accept(i);
        } else {
            self.of_service(i - LISTENER_TOKENS);
        }
    }

    /// Connections with input left over get another round.
    pub(super) fn of_service_pending(&mut self) {
        if self.of.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.of.pending);
        for c in pending {
            self.of_service(c);
        }
    }

    fn of_accept(&mut self, i: usize) {
        loop {
            let Some(l) = self.of.listeners.get_mut(i).and_then(Option::as_mut) else {
                return;
            };
            let (bridge, ctrl) = (l.bridge, l.ctrl);
            let accepted = match &l.sock {
                Listen::Tcp(s) => s.accept().map(|(s, _)| Stream::Tcp(s)),
                Listen::Unix(s, _) => s.accept().map(|(s, _)| Stream::Unix(s)),
            };
            match accepted {
                Ok(stream) => {
                    let too_many = self.bridges[bridge]
                        .of
                        .controllers
                        .get(ctrl)
                        .is_none_or(|c| c.accepted >= MAX_ACCEPTED);
                    if too_many {
                        continue; // dropped: closes the socket
                    }
                    if let Some(c) = self.of_open(bridge, ctrl, stream, false) {
                        if let Some(ctl) = self.bridges[bridge].of.controllers.get_mut(ctrl) {
                            ctl.accepted += 1;
                        }
                        self.of_service(c);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::warn!("OpenFlow accept failed: {e}");
                    return;
                }
            }
        }
    }

    /// Registers a new connection and sends HELLO; `None` if it cannot be
    /// registered.
    fn of_open(&mut self, b: BridgeKey, ctrl: usize, mut stream: Stream, connecting: bool) -> Option<usize> {
        let c = free_slot(&mut self.of.conns);
        let token = Token(OF_TOKEN_BASE + LISTENER_TOKENS + c);
        if let Err(e) =
            self.poll
                .registry()
                .register(stream.source(), token, Interest::READABLE | Interest::WRITABLE)
        {
            tracing::warn!("cannot register an OpenFlow connection: {e}");
            return None;
        }
        let now = Instant::now();
        let versions = self.bridges[b].of.protocols.bitmap();
        let mut conn = OfConn {
            bridge: b,
            ctrl,
            stream,
            session: Session::new(now, versions),
            rx: Vec::new(),
            tx: Vec::new(),
            tx_pos: 0,
            connecting: connecting.then_some(now),
            closing: None,
            packet_ins_dropped: 0,
        };
        conn.send(0, &Outgoing::Hello { versions });
        self.of.conns[c] = Some(conn);
        Some(c)
    }

    /// Writes what connection `c` has waiting, reads and handles what it
    /// sent (within the budget), and closes it on error or end of stream.
    fn of_service(&mut self, c: usize) {
        let Some(conn) = self.of.conns.get_mut(c).and_then(Option::as_mut) else {
            return;
        };
        if let Some(since) = conn.connecting {
            match conn.stream.check_connected() {
                Ok(true) => {
                    conn.connecting = None;
                    conn.session.received(Instant::now());
                    let (b, ctrl) = (conn.bridge, conn.ctrl);
                    if let Some(ctl) = self.bridges[b].of.controllers.get_mut(ctrl) {
                        ctl.backoff.connected(Instant::now());
                    }
                }
                Ok(false) => {
                    if since.elapsed() >= CONNECT_TIMEOUT {
                        self.of_close(c, Some("connection timed out".into()));
                    }
                    return;
                }
                Err(e) => {
                    self.of_close(c, Some(format!("connection failed: {e}")));
                    return;
                }
            }
        }
        if let Err(e) = self.of_flush(c) {
            self.of_close(c, Some(e));
            return;
        }
        if let Some(conn) = self.of.conns[c].as_ref() {
            if let Some(reason) = &conn.closing {
                if conn.pending() == 0 {
                    let r = reason.clone();
                    self.of_close(c, Some(r));
                }
                return;
            }
        }
        // Read while there is room for the replies. Readiness is
        // edge-triggered: input left in the socket because the buffer was
        // full must be read in a later round without a new event (`capped`);
        // input left because the replies are not being read waits for the
        // writable event that comes when they are.
        let mut eof = None;
        let mut capped = true;
        {
            let OfIo { conns, buf, .. } = &mut self.of;
            let Some(conn) = conns[c].as_mut() else { return };
            if buf.len() < READ_CHUNK {
                buf.resize(READ_CHUNK, 0);
            }
            while conn.pending() < TX_LIMIT && conn.rx.len() < 2 * READ_CHUNK {
                match conn.stream.read(buf) {
                    Ok(0) => {
                        eof = Some("connection closed by the controller".to_string());
                        capped = false;
                        break;
                    }
                    Ok(n) => conn.rx.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        capped = false;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        eof = Some(format!("read failed: {e}"));
                        capped = false;
                        break;
                    }
                }
            }
        }
        let more = self.of_handle_input(c);
        if let Err(e) = self.of_flush(c) {
            self.of_close(c, Some(e));
            return;
        }
        let Some(conn) = self.of.conns[c].as_ref() else {
            return;
        };
        if let Some(reason) = conn.closing.clone() {
            if conn.pending() == 0 {
                self.of_close(c, Some(reason));
            }
            return;
        }
        if let Some(e) = eof {
            if !more {
                // A controller of a passive target leaving (ovs-ofctl after
                // each command) is not an error worth reporting.
                let (b, ctrl) = (conn.bridge, conn.ctrl);
                let passive = self.bridges[b]
                    .of
                    .controllers
                    .get(ctrl)
                    .is_some_and(|x| x.listener.is_some());
                self.of_close(c, (!passive || !e.starts_with("connection closed")).then_some(e));
                return;
            }
        }
        // A partial message waits for its next bytes' event, not a round.
        let more = more || (capped && conn.rx.len() < 2 * READ_CHUNK);
        if more && conn.pending() < TX_LIMIT && !self.of.pending.contains(&c) {
            self.of.pending.push(c);
        }
    }

    /// Handles up to `MSG_BUDGET` complete messages of connection `c`'s
    /// input; returns whether complete messages remain.
    fn of_handle_input(&mut self, c: usize) -> bool {
        let Some(conn) = self.of.conns.get_mut(c).and_then(Option::as_mut) else {
            return false;
        };
        let mut rx = std::mem::take(&mut conn.rx);
        let mut used = 0;
        let mut handled = 0;
        let mut more = false;
        while handled < MSG_BUDGET {
            match codec::frame(&rx[used..]) {
                Ok(Some(len)) => {
                    let msg = &rx[used..used + len];
                    if let Some(conn) = self.of.conns[c].as_mut() {
                        conn.session.received(Instant::now());
                    }
                    let b = self.of.conns[c].as_ref().map(|x| x.bridge);
                    if let Some(b) = b {
                        self.bridges[b].of.fail_open.heard(Instant::now());
                    }
                    self.of_message(c, msg);
                    used += len;
                    handled += 1;
                    let gone = self.of.conns[c].as_ref().is_none_or(|x| x.closing.is_some());
                    if gone {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    if let Some(conn) = self.of.conns[c].as_mut() {
                        conn.closing = Some(e.to_string());
                    }
                    used = rx.len();
                    break;
                }
            }
        }
        if handled == MSG_BUDGET {
            more = matches!(codec::frame(&rx[used..]), Ok(Some(_)));
        }
        rx.drain(..used);
        if let Some(conn) = self.of.conns[c].as_mut() {
            // Keep what arrived meanwhile (nothing: reads happen above).
            rx.extend_from_slice(&conn.rx);
            conn.rx = rx;
        }
        more
    }

    /// Writes connection `c`'s waiting output until the socket is full.
    fn of_flush(&mut self, c: usize) -> Result<(), String> {
        let Some(conn) = self.of.conns.get_mut(c).and_then(Option::as_mut) else {
            return Ok(());
        };
        if conn.connecting.is_some() {
            return Ok(());
        }
        while conn.tx_pos < conn.tx.len() {
            match conn.stream.write(&conn.tx[conn.tx_pos..]) {
                Ok(0) => return Err("connection closed".into()),
                Ok(n) => conn.tx_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("write failed: {e}")),
            }
        }
        if conn.tx_pos == conn.tx.len() {
            conn.tx.clear();
            conn.tx_pos = 0;
            // Do not keep a huge buffer after a big dump.
            if conn.tx.capacity() > TX_LIMIT {
                conn.tx.shrink_to(READ_CHUNK);
            }
        }
        Ok(())
    }

    /// Flushes every connection with output waiting (after a batch queued
    /// PACKET_INs, or a change sent PORT_STATUS / FLOW_REMOVED).
    pub(super) fn of_flush_all(&mut self) {
        for c in 0..self.of.conns.len() {
            if self.of.conns[c].as_ref().is_some_and(|x| x.pending() > 0) {
                if let Err(e) = self.of_flush(c) {
                    self.of_close(c, Some(e));
                }
            }
        }
    }

    /// Connection `c` negotiated its version.
    pub(super) fn of_became_live(&mut self, c: usize) {
        let Some(conn) = self.of.conns[c].as_ref() else {
            return;
        };
        let (b, v) = (conn.bridge, conn.session.version());
        if self.bridges[b].of.live.is_empty() {
            // PORT_STATUS reports changes from here on, not the ports the
            // controller is about to ask for.
            self.bridges[b].of.ports_seen = self.of_port_descs(b);
        }
        let of = &mut self.bridges[b].of;
        if !of.live.contains(&c) {
            of.live.push(c);
        }
        if v == Some(OFP10) {
            of.miss_to_controller = true;
        }
        if let Some(ctl) = of.controllers.get_mut(conn.ctrl) {
            ctl.last_error = None;
        }
        if of.fail_open_active {
            of.fail_open_active = false;
            tracing::info!(bridge = %self.bridges[b].name, "controller connected: fail-open mode ends");
        }
    }

    /// Timers: probes, reconnects, re-binds, connect timeouts, fail-open.
    pub(super) fn of_timers(&mut self, now: Instant) {
        for c in 0..self.of.conns.len() {
            let Some(conn) = self.of.conns[c].as_mut() else {
                continue;
            };
            if let Some(since) = conn.connecting {
                if now.saturating_duration_since(since) >= CONNECT_TIMEOUT {
                    self.of_close(c, Some("connection timed out".into()));
                }
                continue;
            }
            match conn.session.poll(now) {
                Probe::Nothing => {}
                Probe::SendEcho => {
                    conn.send(0, &Outgoing::EchoRequest);
                    if let Err(e) = self.of_flush(c) {
                        self.of_close(c, Some(e));
                    }
                }
                Probe::Disconnect(reason) => self.of_close(c, Some(reason.to_string())),
            }
        }
        let keys: Vec<BridgeKey> = self.bridges.keys().collect();
        for b in keys {
            for i in 0..self.bridges[b].of.controllers.len() {
                self.of_target_timer(b, i, now);
            }
            let bridge = &mut self.bridges[b];
            let of = &mut bridge.of;
            // A live controller is heard from at least every 10 s (echo
            // probes), so only a bridge whose controllers are gone or silent
            // gets here.
            let should = of.fail_open.active(now);
            if should != of.fail_open_active {
                of.fail_open_active = should;
                if should {
                    tracing::warn!(bridge = %bridge.name, "no controller heard from: fail-open, switching with NORMAL");
                }
            }
        }
    }

    /// Connects an active target that is due, binds a passive one that is not listening.
    fn of_target_timer(&mut self, b: BridgeKey, i: usize, now: Instant) {
        let ctl = &self.bridges[b].of.controllers[i];
        if !ctl.backoff.due(now) {
            return;
        }
        let target = ctl.target.clone();
        match target {
            ControllerTarget::Tcp { .. } | ControllerTarget::Unix(_) => {
                if ctl.conn.is_some() {
                    return;
                }
                let stream = match &target {
                    ControllerTarget::Tcp { ip, port } => {
                        TcpStream::connect(std::net::SocketAddr::new(*ip, *port)).map(Stream::Tcp)
                    }
                    ControllerTarget::Unix(path) => UnixStream::connect(path).map(Stream::Unix),
                    _ => unreachable!("active targets only"),
                };
                match stream {
                    Ok(s) => match self.of_open(b, i, s, true) {
                        Some(c) => {
                            self.bridges[b].of.controllers[i].backoff.connecting(now);
                            self.bridges[b].of.controllers[i].conn = Some(c);
                            // A Unix connect completes at once; TCP reports
                            // through a writable event.
                            self.of_service(c);
                        }
                        None => self.bridges[b].of.controllers[i].backoff.failed(now),
                    },
                    Err(e) => {
                        let ctl = &mut self.bridges[b].of.controllers[i];
                        ctl.last_error = Some(format!("connection failed: {e}"));
                        ctl.backoff.failed(now);
                    }
                }
            }
            ControllerTarget::Ptcp { .. } | ControllerTarget::Punix(_) => {
                if ctl.listener.is_some() {
                    return;
                }
                match self.of_listen(b, i, &target) {
                    Ok(()) => {
                        let ctl = &mut self.bridges[b].of.controllers[i];
                        ctl.last_error = None;
                        ctl.backoff.connected(now);
                    }
                    Err(e) => {
                        let ctl = &mut self.bridges[b].of.controllers[i];
                        tracing::warn!(target = %ctl.target, "cannot listen: {e}");
                        ctl.last_error = Some(e);
                        ctl.backoff.failed(now);
                    }
                }
            }
        }
    }

    fn of_listen(&mut self, b: BridgeKey, i: usize, target: &ControllerTarget) -> Result<(), String> {
        let sock = match target {
            ControllerTarget::Ptcp { port, ip } => {
                let addr = std::net::SocketAddr::new(*ip, *port);
                Listen::Tcp(TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?)
            }
            ControllerTarget::Punix(path) => Listen::Unix(bind_unix(path)?, path.clone()),
            _ => return Err("not a passive target".into()),
        };
        let slot = free_slot(&mut self.of.listeners);
        let mut l = OfListener {
            sock,
            bridge: b,
            ctrl: i,
        };
        let token = Token(OF_TOKEN_BASE + slot);
        let registry = self.poll.registry();
        let r = match &mut l.sock {
            Listen::Tcp(s) => registry.register(s, token, Interest::READABLE),
            Listen::Unix(s, _) => registry.register(s, token, Interest::READABLE),
        };
        r.map_err(|e| format!("cannot register listener: {e}"))?;
        self.of.listeners[slot] = Some(l);
        self.bridges[b].of.controllers[i].listener = Some(slot);
        Ok(())
    }

    /// When the OpenFlow side next needs the loop (`None`: never).
    pub(super) fn of_deadline(&self) -> Option<Instant> {
        let mut d: Option<Instant> = None;
        let mut at = |t: Instant| d = Some(d.map_or(t, |x| x.min(t)));
        for conn in self.of.conns.iter().flatten() {
            match conn.connecting {
                Some(since) => at(since + CONNECT_TIMEOUT),
                None => at(conn.session.deadline()),
            }
        }
        for bridge in self.bridges.iter() {
            let of = &bridge.of;
            for ctl in &of.controllers {
                if ctl.conn.is_none() && ctl.listener.is_none() {
                    if let Some(t) = ctl.backoff.deadline() {
                        at(t);
                    }
                }
            }
            if !of.fail_open_active {
                // Asked as of the engine's start, so a deadline that has
                // just passed is still reported (and acted on by the timers).
                if let Some(t) = of.fail_open.deadline(self.epoch) {
                    at(t);
                }
            }
        }
        d
    }

    /// `get-controller` / `show`: each target's state.
    pub(super) fn of_controller_info(&self, b: BridgeKey) -> Vec<ControllerInfo> {
        let of = &self.bridges[b].of;
        of.controllers
            .iter()
            .enumerate()
            .map(|(i, ctl)| {
                let live = of
                    .live
                    .iter()
                    .filter_map(|&c| self.of.conns[c].as_ref())
                    .find(|c| c.ctrl == i);
                let state = if live.is_some() {
                    ControllerState::Connected
                } else if ctl.conn.is_some() {
                    ControllerState::Connecting
                } else if ctl.listener.is_some() {
                    ControllerState::Listening
                } else {
                    ControllerState::Backoff
                };
                let role = match live.map(|c| c.session.role()) {
                    Some(Role::Master) => ControllerRole::Master,
                    Some(Role::Slave) => ControllerRole::Slave,
                    _ => ControllerRole::Equal,
                };
                ControllerInfo {
                    target: ctl.target.to_string(),
                    state,
                    role,
                    version: live
                        .and_then(|c| c.session.version())
                        .and_then(OfVersion::from_wire),
                    last_error: ctl.last_error.clone(),
                    packet_ins_dropped: ctl.packet_ins_dropped
                        + of.live
                            .iter()
                            .filter_map(|&c| self.of.conns[c].as_ref())
                            .filter(|c| c.ctrl == i)
                            .map(|c| c.packet_ins_dropped)
                            .sum::<u64>(),
                }
            })
            .collect()
    }
}

/// Binds a `punix:` socket, mode 0600; a stale socket file is replaced, a
/// live one (another process answers) refused.
fn bind_unix(path: &Path) -> Result<UnixListener, String> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(format!("{} is in use by another process", path.display()));
        }
        std::fs::remove_file(path).map_err(|e| format!("cannot replace {}: {e}", path.display()))?;
    }
    let l = UnixListener::bind(path).map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()))?;
    Ok(l)
}

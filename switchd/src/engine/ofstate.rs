//! The OpenFlow channel's state as the engine holds it (SPEC §10): the
//! sockets and buffers of every controller connection and listener, each
//! bridge's controller targets and settings, and the PACKET_IN entries a
//! batch fills. Data only (and the small helpers that keep it): what the
//! engine does with it is in `openflow.rs` (sockets), `ofproto.rs`
//! (messages) and `ofdata.rs` (PACKET_IN / PACKET_OUT). A leaf of the
//! engine, so the loop, the bridges and the flow path can hold these
//! without importing the code that drives them.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use proto::{ControllerTarget, DatapathId, FailMode, OfVersions};

use super::ports::BridgeKey;
use crate::flow::exec::ToController;
use crate::flow::{Field, FlowKey};
use crate::openflow::codec;
use crate::openflow::conn::{Backoff, Election, FailOpen, Session};
use crate::openflow::msg::{Outgoing, OFP13};

/// First token of the OpenFlow sockets.
pub(super) const OF_TOKEN_BASE: usize = 1 << 28;
/// Tokens of listeners; connections' come after.
pub(super) const LISTENER_TOKENS: usize = 1 << 20;
/// Output waiting above which PACKET_INs for a connection are dropped.
pub(super) const PACKET_IN_TX_LIMIT: usize = 256 * 1024;
/// Output waiting above which a connection's input is left unread.
pub(super) const TX_LIMIT: usize = 4 * 1024 * 1024;
/// Messages handled per connection per wake-up.
pub(super) const MSG_BUDGET: usize = 64;
/// Bytes read per `read` call.
pub(super) const READ_CHUNK: usize = 64 * 1024;
/// How long an active connection may take to be established.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Most connections a passive target accepts at once.
pub(super) const MAX_ACCEPTED: usize = 64;

/// A connected socket of either family.
#[derive(Debug)]
pub(super) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }

    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    /// For a connection being established: `Ok(true)` once it is,
    /// `Ok(false)` while it is not yet, or why it failed.
    pub fn check_connected(&mut self) -> io::Result<bool> {
        match self {
            Stream::Tcp(s) => {
                if let Some(e) = s.take_error()? {
                    return Err(e);
                }
                match s.peer_addr() {
                    Ok(_) => Ok(true),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
                    Err(e) => Err(e),
                }
            }
            Stream::Unix(s) => {
                if let Some(e) = s.take_error()? {
                    return Err(e);
                }
                Ok(true)
            }
        }
    }
}

/// A listening socket of a passive target.
#[derive(Debug)]
pub(super) enum Listen {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

#[derive(Debug)]
pub(super) struct OfListener {
    pub sock: Listen,
    pub bridge: BridgeKey,
    pub ctrl: usize,
}

/// One open connection.
#[derive(Debug)]
pub(super) struct OfConn {
    pub bridge: BridgeKey,
    /// Index of its target in the bridge's controller list.
    pub ctrl: usize,
    pub stream: Stream,
    pub session: Session,
    /// Received bytes not yet handled.
    pub rx: Vec<u8>,
    /// Encoded messages not yet written, from `tx_pos`.
    pub tx: Vec<u8>,
    pub tx_pos: usize,
    /// An active connection still being established, since when.
    pub connecting: Option<Instant>,
    /// After a fatal error: closed once its output is written (or at once).
    pub closing: Option<String>,
    /// PACKET_INs dropped because the controller did not keep up.
    pub packet_ins_dropped: u64,
}

impl OfConn {
    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.tx.len() - self.tx_pos
    }

    /// Whether it has negotiated a version and takes messages.
    pub fn live(&self) -> bool {
        self.connecting.is_none() && self.closing.is_none() && self.session.version().is_some()
    }

    /// Appends `msg` (in the connection's version, or 1.3 before one is
    /// negotiated).
    pub fn send(&mut self, xid: u32, msg: &Outgoing<'_>) {
        let v = self.session.version().unwrap_or(OFP13);
        if self.tx_pos > 0 && self.tx_pos == self.tx.len() {
            self.tx.clear();
            self.tx_pos = 0;
        }
        codec::encode(v, xid, msg, &mut self.tx);
    }
}

/// One configured controller target of a bridge.
#[derive(Debug)]
pub(super) struct Controller {
    pub target: ControllerTarget,
    /// A passive target's listener slot.
    pub listener: Option<usize>,
    /// An active target's connection slot.
    pub conn: Option<usize>,
    /// An active target's reconnect schedule (a passive one's re-bind).
    pub backoff: Backoff,
    pub last_error: Option<String>,
    /// Connections accepted by a passive target.
    pub accepted: usize,
    /// PACKET_INs its closed connections did not get.
    pub packet_ins_dropped: u64,
}

/// A bridge's OpenFlow settings and controller state.
#[derive(Debug)]
pub(super) struct BridgeOf {
    pub controllers: Vec<Controller>,
    pub fail_mode: FailMode,
    /// Versions allowed (`protocols=`).
    pub protocols: OfVersions,
    /// `datapath_id=` (else derived from the bridge MAC).
    pub datapath_id: Option<DatapathId>,
    pub fail_open: FailOpen,
    /// Whether the hidden "everything to NORMAL" flow is on (standalone
    /// mode, no controller heard from for 15 s).
    pub fail_open_active: bool,
    pub election: Election,
    /// Connections with a negotiated version, for asynchronous messages
    /// (empty: the data path skips PACKET_IN work entirely).
    pub live: Vec<usize>,
    /// Whether a live connection speaks 1.0, whose table-miss is a
    /// PACKET_IN (1.3's is a drop, unless a table-miss flow says otherwise).
    pub miss_to_controller: bool,
    /// The ports as last reported in PORT_STATUS messages.
    pub ports_seen: Vec<crate::openflow::msg::PortDesc>,
}

impl BridgeOf {
    pub fn new(now: Instant) -> BridgeOf {
        BridgeOf {
            controllers: Vec::new(),
            fail_mode: FailMode::Standalone,
            protocols: OfVersions::default(),
            datapath_id: None,
            fail_open: FailOpen::new(now),
            fail_open_active: false,
            election: Election::new(),
            live: Vec::new(),
            miss_to_controller: false,
            ports_seen: Vec::new(),
        }
    }
}

/// The engine's OpenFlow sockets.
#[derive(Debug, Default)]
pub(super) struct OfIo {
    pub listeners: Vec<Option<OfListener>>,
    pub conns: Vec<Option<OfConn>>,
    /// Connections with input left over from the last round.
    pub pending: Vec<usize>,
    /// Scratch for reads.
    pub buf: Vec<u8>,
}

impl OfIo {
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

pub(super) fn free_slot<T>(v: &mut Vec<Option<T>>) -> usize {
    match v.iter().position(Option::is_none) {
        Some(i) => i,
        None => {
            v.push(None);
            v.len() - 1
        }
    }
}

/// PACKET_INs one batch can queue.
pub(super) const MAX_PENDING: usize = 64;
/// Largest frame part a PACKET_IN carries (the message must fit 64 KiB).
pub(super) const MAX_DATA: usize = 65_535 - 64;

/// One frame for the controllers.
#[derive(Debug, Default)]
pub(super) struct PendingIn {
    pub bridge: BridgeKey,
    pub reason: Option<ToController>,
    /// A table miss (no flow at all): only 1.0 controllers get those.
    pub miss: bool,
    pub table: u8,
    pub cookie: u64,
    pub in_port: u16,
    pub tun_id: u64,
    pub metadata: u64,
    pub total_len: u16,
    pub data: Vec<u8>,
}

/// The frames for controllers of the current batch.
#[derive(Debug)]
pub(super) struct PacketIns {
    pub entries: Vec<PendingIn>,
    pub used: usize,
    /// PACKET_INs dropped because the entries ran out within one frame's
    /// actions (more than half of [`MAX_PENDING`] `controller` outputs).
    pub dropped: u64,
}

impl Default for PacketIns {
    fn default() -> PacketIns {
        PacketIns {
            entries: (0..MAX_PENDING).map(|_| PendingIn::default()).collect(),
            used: 0,
            dropped: 0,
        }
    }
}

impl PacketIns {
    /// Queues `frame` (cut to `max_len`) for bridge `b`'s controllers.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        b: BridgeKey,
        key: &FlowKey,
        frame: &[u8],
        max_len: u16,
        reason: ToController,
        miss: bool,
        table: u8,
        cookie: u64,
    ) {
        let Some(e) = self.entries.get_mut(self.used) else {
            self.dropped += 1;
            return;
        };
        self.used += 1;
        e.bridge = b;
        e.reason = Some(reason);
        e.miss = miss;
        e.table = table;
        e.cookie = cookie;
        e.in_port = key.in_port();
        e.tun_id = key.get(Field::TunId) as u64;
        e.metadata = key.get(Field::Metadata) as u64;
        e.total_len = frame.len().min(usize::from(u16::MAX)) as u16;
        let n = frame.len().min(usize::from(max_len)).min(MAX_DATA);
        e.data.clear();
        e.data.extend_from_slice(&frame[..n]);
    }

    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// Whether one frame might not find an entry free.
    #[inline]
    pub fn nearly_full(&self) -> bool {
        self.used > MAX_PENDING / 2
    }
}

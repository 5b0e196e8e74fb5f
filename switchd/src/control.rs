//! The control server: a Unix stream socket speaking [`proto::codec`]
//! (one JSON request per line, one reply per request).
//!
//! Each client gets its own thread, so a slow or silent client cannot hold
//! up another. A client never touches the engine's state: requests travel
//! to the engine thread over its channel.
//!
//! Nobody with access to the socket can lock the operator out: the number
//! of clients is capped, but a new client is never turned away while some
//! client is only waiting (idle between requests, or half-way through
//! sending one): the one that has waited longest is disconnected to make
//! room. A client that is idle for [`IDLE_TIMEOUT`], that takes longer than
//! [`REQUEST_TIMEOUT`] to send a request once it has started, or that does
//! not read a reply within [`WRITE_TIMEOUT`] is disconnected; requests are
//! limited to [`MAX_REQUEST_LEN`] bytes.
//! Changes are serialised by one lock held across "apply in the engine" and
//! "write the db", so the db on disk always reflects the order in which
//! changes were applied, and the reply is sent only after the db is
//! written (SPEC §5).
//!
//! Bad input never harms the daemon: malformed lines get an error reply
//! and the connection stays usable; an over-long line gets an error reply
//! and the connection is closed (the stream is out of sync); a client that
//! disconnects mid-request is simply forgotten.
//!
//! `switchctl restart` (SPEC §13) runs the new binary's check here, holding
//! the change lock so that no change is half-applied, then asks the engine
//! to hand everything over and exec ([`Restarter`]); the new image answers
//! on the same connection. SIGUSR2 takes the same path without a client.
//!
//! A capture (`switchctl capture`, SPEC §11) is the other request that is
//! not an exchange: its client's thread puts a tap on the port through the
//! engine, replies `done`, then streams the frames the tap queues as
//! `proto::capture` records until the count is reached, the client stops
//! or goes, or the port is removed; then the end record, and the
//! connection closes. The engine only copies frames into the tap's queue:
//! a client that reads slowly blocks this thread, never the engine, and
//! the frames its queue cannot take are counted as lost.

use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use proto::capture::{BpfInsn, END_COUNT, END_PORT_REMOVED, END_STOPPED};
use proto::codec::{self, FrameError, MAX_REQUEST_LEN};
use proto::{CaptureDirection, Error, ErrorKind, IfName, Reply, Request};

use crate::capture::{self, Program, Recv};
use crate::config;
use crate::engine::EngineHandle;
use crate::handover::{HandOver, Image};

/// Most clients served at once. At the limit a new client takes the place
/// of the one that has been waiting longest; only when every client is busy
/// (a request in the engine, a reply being written, a capture) is it
/// refused.
pub const MAX_CLIENTS: usize = 128;
/// A client that sends nothing for this long is disconnected.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A request must be complete this long after its first byte.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A client that does not take a reply for this long is disconnected.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames queued between the engine and one capture's thread: about 12 ms
/// of a 1 Gbit/s port at full-size frames, on top of the socket's buffer.
const CAPTURE_QUEUE: usize = 1024;
/// How often a capture checks that its client has not stopped it.
const CAPTURE_POLL: Duration = Duration::from_millis(100);
/// Bytes of records gathered before they are written to the client (a
/// partial batch is written as soon as the queue runs empty).
const CAPTURE_WRITE_BUFFER: usize = 64 * 1024;

/// Why the control socket could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another daemon answers on the path.
    #[error("another switchd is already listening on {0}")]
    InUse(PathBuf),
    /// The named group does not exist.
    #[error("no group named {0:?} (from --socket-group)")]
    NoSuchGroup(String),
    /// A filesystem or socket call failed.
    #[error("cannot create control socket {path}: {cause}")]
    Io {
        /// The socket path.
        path: PathBuf,
        /// The cause (printed in the message, so not also a `source()`,
        /// which `{:#}` would print a second time).
        cause: io::Error,
    },
}

/// Creates the control socket: mode 0600 (owner only), or 0660 owned by
/// `group` so that members of that group can run `switchctl` without root.
/// A stale socket file left by a crashed daemon is replaced; a live one is
/// refused.
pub fn bind(path: &Path, group: Option<&str>) -> Result<UnixListener, BindError> {
    let io_err = |cause| BindError::Io {
        path: path.into(),
        cause,
    };
    let gid = group
        .map(|g| group_id(g).ok_or_else(|| BindError::NoSuchGroup(g.into())))
        .transpose()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io_err)?;
    }
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            return Err(BindError::InUse(path.into()));
        }
        fs::remove_file(path).map_err(io_err)?;
    }
    let listener = UnixListener::bind(path).map_err(io_err)?;
    let mode = if let Some(gid) = gid {
        std::os::unix::fs::chown(path, None, Some(gid)).map_err(io_err)?;
        0o660
    } else {
        0o600
    };
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io_err)?;
    Ok(listener)
}

/// The control socket a previous image handed over on an in-place restart
/// (SPEC §13), if it is still the listener at `path`: clients that connect
/// meanwhile wait in its backlog, none is refused. Otherwise (the
/// command line names another socket now) it is closed and `None` returned.
pub fn adopt(fd: std::os::fd::OwnedFd, path: &Path) -> Option<UnixListener> {
    let listener = UnixListener::from(fd);
    match listener.local_addr() {
        Ok(a) if a.as_pathname() == Some(path) => Some(listener),
        _ => {
            tracing::warn!(socket = %path.display(), "the control socket handed over is another one; binding anew");
            None
        }
    }
}

/// Looks a group up in /etc/group (numeric ids are accepted as they are).
fn group_id(name: &str) -> Option<u32> {
    if let Ok(gid) = name.parse() {
        return Some(gid);
    }
    let groups = fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|line| {
        let mut f = line.split(':');
        (f.next()? == name).then_some(())?;
        f.nth(1)?.parse().ok()
    })
}

struct Shared {
    engine: EngineHandle,
    db_path: PathBuf,
    change_lock: Arc<Mutex<()>>,
    clients: Clients,
    restarter: Arc<Restarter>,
}

/// Carries out in-place restarts (SPEC §13), from `switchctl restart` or
/// SIGUSR2: checks the new binary, then has the engine hand everything over
/// and exec it.
#[derive(Debug)]
pub struct Restarter {
    image: Image,
    engine: EngineHandle,
    /// The control socket's listener, owned by the control thread for the
    /// life of the process.
    control: std::os::fd::RawFd,
    /// The control server's change lock: no change is half-applied (or its
    /// db half-written) when the image is replaced.
    change_lock: Arc<Mutex<()>>,
}

impl Restarter {
    /// A restarter for this process (its binary and command line as read at
    /// start-up).
    pub fn new(image: Image, engine: EngineHandle, listener: &UnixListener) -> Restarter {
        use std::os::fd::AsRawFd;
        Restarter {
            image,
            engine,
            control: listener.as_raw_fd(),
            change_lock: Arc::new(Mutex::new(())),
        }
    }

    /// Restarts in place. Returns only if the restart was refused (the new
    /// binary failed its check) or the exec failed, with the reason; this
    /// image then goes on serving. `client`: the connection that asked,
    /// which the new image answers.
    pub fn run(&self, client: Option<std::os::fd::OwnedFd>) -> String {
        let _serialised = self
            .change_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tracing::info!(exe = %self.image.exe.display(), "restart asked; checking the new binary");
        if let Err(e) = self.image.check() {
            return e;
        }
        self.engine.hand_over(HandOver {
            image: self.image.clone(),
            control: Some(self.control),
            client,
        })
    }
}

/// The connected clients: each with a handle on its connection (to
/// disconnect it) and, while it is waiting for a request, since when.
#[derive(Default)]
struct Clients {
    list: Mutex<Vec<ClientEntry>>,
    next_id: AtomicU64,
}

struct ClientEntry {
    id: u64,
    conn: UnixStream,
    /// `Some` while the client's thread waits for (the rest of) a request.
    waiting_since: Option<Instant>,
}

impl Clients {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ClientEntry>> {
        self.list.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a new client; at the limit, disconnects the client that
    /// has waited longest to make room. `None` if every client is busy.
    fn admit(&self, conn: &UnixStream) -> Option<u64> {
        let handle = conn.try_clone().ok()?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let evicted = {
            let mut list = self.lock();
            let evicted = if list.len() >= MAX_CLIENTS {
                let oldest = list
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| c.waiting_since.map(|t| (t, i)))
                    .min()
                    .map(|(_, i)| i)?;
                Some(list.swap_remove(oldest))
            } else {
                None
            };
            list.push(ClientEntry {
                id,
                conn: handle,
                waiting_since: Some(Instant::now()),
            });
            evicted
        };
        if let Some(e) = evicted {
            tracing::debug!(
                client = e.id,
                "disconnected a waiting client to make room for a new one"
            );
            // Its thread's read fails and it ends; nothing is written to
            // it, which might block.
            let _ = e.conn.shutdown(std::net::Shutdown::Both);
        }
        Some(id)
    }

    /// Marks client `id` as waiting for a request (or not).
    fn set_waiting(&self, id: u64, waiting: bool) {
        if let Some(c) = self.lock().iter_mut().find(|c| c.id == id) {
            c.waiting_since = waiting.then(Instant::now);
        }
    }

    fn remove(&self, id: u64) {
        self.lock().retain(|c| c.id != id);
    }
}

/// A client's connection as its requests are read: an idle wait for the
/// first byte of a request, then a deadline for the rest of it, however
/// slowly it trickles in.
struct ClientConn {
    stream: UnixStream,
    deadline: Option<Instant>,
}

impl Read for ClientConn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(d) = self.deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "request not complete in time",
                ));
            }
            self.stream.set_read_timeout(Some(left))?;
        }
        self.stream.read(buf)
    }
}

/// Serves clients on `listener` from a background thread, forever.
pub fn serve(
    listener: UnixListener,
    engine: EngineHandle,
    db_path: PathBuf,
    restarter: Arc<Restarter>,
) -> io::Result<()> {
    let shared = Arc::new(Shared {
        engine,
        db_path,
        change_lock: Arc::clone(&restarter.change_lock),
        clients: Clients::default(),
        restarter,
    });
    thread::Builder::new().name("control".into()).spawn(move || {
        for conn in listener.incoming() {
            let stream = match conn {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            let Some(id) = shared.clients.admit(&stream) else {
                let mut s = stream;
                let _ = s.set_write_timeout(Some(WRITE_TIMEOUT));
                let busy = Error::new(
                    ErrorKind::Internal,
                    format!("too many busy clients (limit {MAX_CLIENTS}); try again"),
                );
                let _ = codec::write_reply(&mut s, &Err(busy));
                continue;
            };
            let client_shared = Arc::clone(&shared);
            let spawned = thread::Builder::new().name("client".into()).spawn(move || {
                serve_client(&client_shared, id, stream);
                client_shared.clients.remove(id);
            });
            if let Err(e) = spawned {
                shared.clients.remove(id);
                tracing::warn!("cannot start a client thread: {e}");
            }
        }
    })?;
    Ok(())
}

fn serve_client(shared: &Shared, id: u64, stream: UnixStream) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(ClientConn {
        stream: read_half,
        deadline: None,
    });
    let mut writer = stream;
    let mut line = Vec::new();
    loop {
        // Idle: wait for the first byte of a request; then the rest of it
        // must come by its deadline.
        shared.clients.set_waiting(id, true);
        reader.get_mut().deadline = None;
        if reader
            .get_ref()
            .stream
            .set_read_timeout(Some(IDLE_TIMEOUT))
            .is_err()
        {
            return;
        }
        match std::io::BufRead::fill_buf(&mut reader) {
            Ok([]) | Err(_) => return,
            Ok(_) => {}
        }
        reader.get_mut().deadline = Some(Instant::now() + REQUEST_TIMEOUT);
        let got = codec::read_line(&mut reader, &mut line, MAX_REQUEST_LEN);
        shared.clients.set_waiting(id, false);
        match got {
            Ok(true) => {}
            Ok(false) | Err(FrameError::Io(_)) => return,
            Err(FrameError::Truncated) => {
                // The client closed its side mid-line; it may still read.
                let e = Error::new(
                    ErrorKind::BadRequest,
                    "connection closed in the middle of a request",
                );
                let _ = codec::write_reply(&mut writer, &Err(e));
                return;
            }
            Err(FrameError::TooLarge { limit }) => {
                let e = Error::new(ErrorKind::TooLarge, format!("request exceeds {limit} bytes"));
                let _ = codec::write_reply(&mut writer, &Err(e));
                discard_input(reader.into_inner().stream);
                return;
            }
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let result = match codec::decode_request(&line) {
            Ok(Request::Capture {
                port,
                direction,
                snaplen,
                count,
                filter,
            }) => {
                let spec = CaptureSpec {
                    port,
                    direction,
                    snaplen,
                    count,
                    filter,
                };
                serve_capture(shared, reader, writer, spec);
                return;
            }
            Ok(Request::Restart) => {
                let client = writer.try_clone().ok().map(std::os::fd::OwnedFd::from);
                let why = shared.restarter.run(client);
                tracing::error!("restart refused: {why}");
                Err(Error::new(ErrorKind::RestartRefused, why))
            }
            Ok(req) => execute(shared, req),
            Err(e) => {
                tracing::debug!("refused a malformed request: {e}");
                Err(e)
            }
        };
        if codec::write_reply(&mut writer, &result).is_err() {
            return;
        }
    }
}

/// What a capture request asks for.
struct CaptureSpec {
    port: IfName,
    direction: CaptureDirection,
    snaplen: u32,
    count: Option<u64>,
    filter: Option<Vec<BpfInsn>>,
}

/// Serves a capture to its end (see the module doc); the connection is
/// closed after it.
fn serve_capture(
    shared: &Shared,
    mut reader: BufReader<ClientConn>,
    mut writer: UnixStream,
    spec: CaptureSpec,
) {
    // A capture streams for as long as it runs: no request deadline.
    reader.get_mut().deadline = None;
    let program = match spec.filter.as_deref().map(Program::new).transpose() {
        Ok(p) => p,
        Err(e) => {
            let e = Error::new(ErrorKind::InvalidArgument, format!("invalid capture filter: {e}"));
            let _ = codec::write_reply(&mut writer, &Err(e));
            return;
        }
    };
    let (tap, mut frames) = capture::tap(spec.direction, spec.snaplen, program, CAPTURE_QUEUE);
    if let Err(e) = shared.engine.attach_tap(spec.port.clone(), tap) {
        let _ = codec::write_reply(&mut writer, &Err(e));
        return;
    }
    if codec::write_reply(&mut writer, &Ok(Reply::Done)).is_err() {
        return;
    }
    tracing::info!(port = %spec.port, "capture started");
    // A client that stops reading holds this thread (and loses frames)
    // for at most this long before it is given up on.
    let _ = writer.set_write_timeout(Some(IDLE_TIMEOUT));
    let mut out = BufWriter::with_capacity(CAPTURE_WRITE_BUFFER, &writer);
    let mut sent: u64 = 0;
    let mut checked = Instant::now();
    let reason = loop {
        if spec.count.is_some_and(|c| sent >= c) {
            break END_COUNT;
        }
        if checked.elapsed() >= CAPTURE_POLL {
            checked = Instant::now();
            if client_stopped(&mut reader) {
                break END_STOPPED;
            }
        }
        // Records gathered and not written yet: take what is queued
        // without waiting, and write them out once the queue is empty.
        let wait = if out.buffer().is_empty() {
            CAPTURE_POLL
        } else {
            Duration::ZERO
        };
        let written = match frames.recv(wait) {
            Recv::Frame(c) => {
                sent += 1;
                write_captured(&mut out, c)
            }
            Recv::Timeout => out.flush(),
            Recv::Ended => break END_PORT_REMOVED,
        };
        if written.is_err() {
            // The client is gone: dropping the reader closes the tap.
            tracing::info!(port = %spec.port, sent, lost = frames.lost(), "capture client went away");
            return;
        }
    };
    if reason == END_STOPPED {
        // What was queued before the stop still goes out, so that every
        // frame the filter took is either sent or lost. At most a queue's
        // worth: more would be frames that came after.
        for _ in 0..CAPTURE_QUEUE {
            if spec.count.is_some_and(|c| sent >= c) {
                break;
            }
            let Recv::Frame(c) = frames.recv(Duration::ZERO) else {
                break;
            };
            sent += 1;
            if write_captured(&mut out, c).is_err() {
                return;
            }
        }
    }
    // Frames the filter takes from here on are not lost: the capture ended
    // before them.
    let lost = frames.lost();
    drop(frames);
    tracing::info!(port = %spec.port, sent, lost, reason, "capture ended");
    let _ = out
        .flush()
        .and_then(|()| proto::capture::write_end(&mut out, lost, sent, reason));
}

/// Writes one captured frame as a `proto::capture` frame record.
fn write_captured(out: &mut impl Write, c: &capture::Captured) -> io::Result<()> {
    let ts = c.ts.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    proto::capture::write_frame(
        out,
        ts.as_secs(),
        ts.subsec_micros(),
        c.orig_len,
        c.outgoing,
        &c.data,
    )
}

/// Whether the client of a capture stopped it: it shut down its sending
/// side or closed the connection (end of stream), or sent anything at all.
/// Checked without blocking.
fn client_stopped(reader: &mut BufReader<ClientConn>) -> bool {
    if !reader.buffer().is_empty() {
        return true;
    }
    let conn = &reader.get_ref().stream;
    if conn.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0u8; 1];
    let got = (&*conn).read(&mut byte);
    let restored = conn.set_nonblocking(false);
    match got {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => restored.is_err(),
        // Ok(0): end of stream; Ok(_): a byte; Err: the connection broke.
        _ => true,
    }
}

/// After an over-long line, read and drop what the client is still sending
/// (bounded in bytes and time) so that closing does not reset the
/// connection before the client has read the error reply.
fn discard_input(mut s: UnixStream) {
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 16 * 1024];
    let mut budget: usize = 16 * 1024 * 1024;
    while budget > 0 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => budget = budget.saturating_sub(n),
        }
    }
}

fn execute(shared: &Shared, req: Request) -> Result<Reply, Error> {
    if !req.is_change() {
        return shared.engine.call(req).result;
    }
    let _serialised = shared
        .change_lock
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    tracing::debug!(?req, "change requested");
    let response = shared.engine.call(req);
    if let Some(db) = response.db {
        if let Err(e) = config::save(&shared.db_path, &db) {
            tracing::error!("{e}");
            return Err(Error::new(
                ErrorKind::Persist,
                format!("change applied but not saved: {e}"),
            ));
        }
    }
    response.result
}

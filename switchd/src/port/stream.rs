//! Stream ports: switchd listens on a Unix stream socket at `path=` and one
//! client at a time connects to it, as qemu does with
//! `-netdev stream,server=off,addr.type=unix,addr.path=PATH`. Each frame on
//! the connection is preceded by its length, 4 bytes big endian (qemu's
//! `net/stream.c` framing). Also here: [`SocketFile`], the socket file
//! handling that dgram ports share (mode, stale files, removal).
//!
//! A VM attached this way needs no root and no TAP device, and neither does
//! switchd if all its ports are socket ports.
//!
//! Choices:
//! - **One fd for the engine.** A stream port has two fds (listener and
//!   connection) but the engine registers one per port. The port keeps an
//!   inner epoll instance (a [`mio::Poll`] that is never polled itself) with
//!   both registered edge-triggered; its fd, which the engine registers,
//!   turns readable whenever either of them has something. `recv_batch`
//!   then simply tries everything: flush, read, accept.
//! - **One client at a time.** A connection that arrives while one is
//!   active is accepted and closed at once (the client reads EOF), and
//!   counted. The active connection is read first, so a client that closed
//!   and reconnected is not refused because its EOF was still queued.
//!   When the client goes (EOF or error), the port stays up and waits for
//!   the next one; frames sent meanwhile count as dropped.
//! - **Receive.** Bytes go into a preallocated reassembly buffer; every
//!   complete frame is copied into a batch slot at `HEADROOM`. A length of
//!   0 or above 65535 is a protocol error: the connection is dropped (the
//!   stream cannot be resynchronised), logged and counted
//!   ([`StreamStats::protocol_errors`]).
//! - **Send.** Length prefix and [`Edit`](crate::batch::Edit) pieces go out in one
//!   `sendmsg` gather list. A non-blocking stream socket may take part of
//!   it; framing must survive that, so the rest of the frame goes into a
//!   preallocated transmit buffer, and so does every later frame while the
//!   buffer is not empty (whole frames only; a frame that does not fit is
//!   dropped and counted as `dropped`). The connection is then also
//!   registered for writability in the inner epoll, so the engine calls
//!   `recv_batch` when the client has read, which flushes the buffer; the
//!   writability interest is removed again once it is empty, so a client
//!   reading frames does not wake the engine.

use std::fs;
use std::io::{self, IoSlice, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use mio::unix::SourceFd;
use mio::{Interest, Poll, Token};

use super::handed::{refused, Handed, PortFds};
use super::outcome::SendOutcome;
use super::sys::{self, OpenError, UnixAddr};
use crate::batch::{RxBatch, TxEntry, BATCH, HEADROOM};

/// Largest frame a length prefix may announce.
pub const MAX_FRAME_LEN: usize = 65_535;
/// Socket file mode when the port has no `mode=`: owner only.
pub const DEFAULT_MODE: u32 = proto::types::MODE_DEFAULT;
/// MTU reported when the port has no `mtu=`: what qemu's guest NIC uses.
pub const DEFAULT_MTU: u32 = 1500;

/// Bytes of the length prefix.
const PREFIX: usize = 4;
/// Reassembly buffer: room for several frames per `read`, and always for
/// one whole maximal frame.
const RX_BUF: usize = 256 * 1024;
/// Transmit buffer for what the socket did not take; at least one whole
/// maximal frame.
const TX_BUF: usize = 256 * 1024;
/// Connections the kernel queues before switchd accepts them.
const BACKLOG: i32 = 8;
const LISTENER: Token = Token(0);
const CONN: Token = Token(1);

/// What happened on a stream port since it was opened.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StreamStats {
    /// Clients accepted.
    pub connections: u64,
    /// Connections closed at once because a client was already connected.
    pub refused: u64,
    /// Connections dropped because of a bad length prefix.
    pub protocol_errors: u64,
}

/// A listening stream port and its current client, if any.
pub struct StreamPort {
    port: String,
    /// Inner epoll: listener and connection; its fd is the port's fd.
    poll: Poll,
    listener: OwnedFd,
    conn: Option<UnixStream>,
    /// Whether the connection is registered for writability too.
    want_write: bool,
    /// A refusal was logged for the current connection (log once).
    refusal_logged: bool,
    file: SocketFile,
    rx: Box<[u8]>,
    rx_start: usize,
    rx_end: usize,
    tx: Box<[u8]>,
    tx_start: usize,
    tx_end: usize,
    stats: StreamStats,
}

impl std::fmt::Debug for StreamPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamPort")
            .field("path", &self.file.path)
            .field("connected", &self.conn.is_some())
            .field("rx_pending", &(self.rx_end - self.rx_start))
            .field("tx_pending", &(self.tx_end - self.tx_start))
            .field("stats", &self.stats)
            .finish()
    }
}

impl StreamPort {
    /// Creates the socket file at the port's `path` with its `mode`
    /// (default 0600) and listens on it. A stale socket file is replaced.
    ///
    /// # Errors
    /// [`OpenError::NeedsPath`] when `path` is missing; a variant that
    /// says why when it is not absolute ([`OpenError::PathNotAbsolute`]),
    /// too long ([`OpenError::PathTooLong`]), has a NUL byte
    /// ([`OpenError::PathHasNul`]), names no file
    /// ([`OpenError::PathNamesNoFile`]), is in a directory that is none or
    /// does not exist ([`OpenError::NotADirectory`],
    /// [`OpenError::NoSuchDirectory`]), or is taken by a file that is not a
    /// socket ([`OpenError::NotASocket`]) or by a socket that something
    /// listens on ([`OpenError::SocketInUse`]);
    /// [`OpenError::Io`] naming the failing step otherwise.
    pub fn open(name: &proto::IfName, config: &proto::PortConfig) -> Result<StreamPort, OpenError> {
        let path = config
            .path
            .as_deref()
            .ok_or(OpenError::NeedsPath(proto::PortType::Stream))?;
        let mode = config.mode.unwrap_or(DEFAULT_MODE);
        let (listener, file) = SocketFile::bind(path, libc::SOCK_STREAM, mode)?;
        let shown = file.shown();
        sys::listen(listener.as_fd(), BACKLOG).map_err(OpenError::io("listen on", &shown))?;
        let poll = Poll::new().map_err(OpenError::io("create epoll for", &shown))?;
        poll.registry()
            .register(&mut SourceFd(&listener.as_raw_fd()), LISTENER, Interest::READABLE)
            .map_err(OpenError::io("register listener of", &shown))?;
        tracing::info!(port = %name, path = %shown, mode = format_args!("{mode:04o}"), "stream port listening");
        Ok(StreamPort {
            port: name.to_string(),
            poll,
            listener,
            conn: None,
            want_write: false,
            refusal_logged: false,
            file,
            rx: vec![0; RX_BUF].into_boxed_slice(),
            rx_start: 0,
            rx_end: 0,
            tx: vec![0; TX_BUF].into_boxed_slice(),
            tx_start: 0,
            tx_end: 0,
            stats: StreamStats::default(),
        })
    }

    /// Takes over the listening socket, the client's connection and the
    /// bytes half-way through it that a previous image of switchd handed over
    /// on an in-place restart (SPEC §13): the client (qemu) sees no
    /// disconnect and the length-prefixed stream stays in step.
    ///
    /// # Errors
    /// As [`SocketFile::take_over`], or when a buffer handed over does not
    /// fit; the caller then opens the port anew.
    pub fn adopt(
        name: &proto::IfName,
        config: &proto::PortConfig,
        handed: Handed,
    ) -> Result<StreamPort, OpenError> {
        let path = config
            .path
            .as_deref()
            .ok_or(OpenError::NeedsPath(proto::PortType::Stream))?;
        let wrong = |why: &str| refused(name.as_str(), why.to_owned());
        let mut fds = handed.fds.into_iter();
        let listener = fds.next().ok_or_else(|| wrong("no fd handed over"))?;
        let conn = fds.next().map(UnixStream::from);
        let (rx_pending, tx_pending) = (&handed.state.rx_pending, &handed.state.tx_pending);
        if rx_pending.len() > RX_BUF || tx_pending.len() > TX_BUF {
            return Err(wrong("more bytes handed over than the buffers hold"));
        }
        let file = SocketFile::take_over(path, listener.as_fd())?;
        let shown = file.shown();
        let poll = Poll::new().map_err(OpenError::io("create epoll for", &shown))?;
        poll.registry()
            .register(&mut SourceFd(&listener.as_raw_fd()), LISTENER, Interest::READABLE)
            .map_err(OpenError::io("register listener of", &shown))?;
        if let Some(c) = &conn {
            poll.registry()
                .register(&mut SourceFd(&c.as_raw_fd()), CONN, Interest::READABLE)
                .map_err(OpenError::io("register the connection of", &shown))?;
        }
        let mut port = StreamPort {
            port: name.to_string(),
            poll,
            listener,
            conn,
            want_write: false,
            refusal_logged: false,
            file,
            rx: vec![0; RX_BUF].into_boxed_slice(),
            rx_start: 0,
            rx_end: rx_pending.len(),
            tx: vec![0; TX_BUF].into_boxed_slice(),
            tx_start: 0,
            tx_end: tx_pending.len(),
            stats: StreamStats::default(),
        };
        port.rx[..rx_pending.len()].copy_from_slice(rx_pending);
        port.tx[..tx_pending.len()].copy_from_slice(tx_pending);
        port.watch_writable();
        Ok(port)
    }

    /// What this port hands to the next image on an in-place restart.
    pub fn hand_over(&self) -> PortFds {
        let mut fds = vec![self.listener.as_raw_fd()];
        fds.extend(self.conn.as_ref().map(AsRawFd::as_raw_fd));
        PortFds {
            fds,
            mtu: DEFAULT_MTU,
            rx_pending: self.rx[self.rx_start..self.rx_end].to_vec(),
            tx_pending: self.tx[self.tx_start..self.tx_end].to_vec(),
            peer: None,
        }
    }

    /// The fd to register for readability: the inner epoll's.
    pub fn raw_fd(&self) -> RawFd {
        self.poll.as_raw_fd()
    }

    /// The MTU: qemu's default, since nothing on a socket has one.
    pub fn mtu(&self) -> u32 {
        DEFAULT_MTU
    }

    /// Whether a client is connected.
    #[cfg(test)]
    pub fn connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Connection counters.
    pub fn stats(&self) -> StreamStats {
        self.stats
    }

    /// Flushes the transmit buffer, then moves complete frames into slots
    /// `0..` (each at `HEADROOM`), reading the connection until it would
    /// block or `BATCH` frames are there, then accepts a waiting client
    /// (and reads it too). Fewer than `BATCH` means everything was drained.
    /// Never fails: connection errors close the connection, not the port.
    pub fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        batch.set_count(0);
        self.flush();
        let mut n = 0;
        loop {
            while n < BATCH {
                match self.next_frame() {
                    Ok(Some(len)) => {
                        let start = self.rx_start + PREFIX;
                        batch.slot_mut(n)[HEADROOM..HEADROOM + len]
                            .copy_from_slice(&self.rx[start..start + len]);
                        batch.set_frame(n, HEADROOM, len);
                        self.rx_start = start + len;
                        n += 1;
                    }
                    Ok(None) => break,
                    Err(len) => {
                        self.stats.protocol_errors += 1;
                        tracing::warn!(
                            port = %self.port,
                            total = self.stats.protocol_errors,
                            "stream protocol error: frame length {len} is outside 1-{MAX_FRAME_LEN}; \
                             dropping the connection"
                        );
                        self.disconnect("protocol error");
                        break;
                    }
                }
            }
            if n == BATCH {
                break;
            }
            if self.fill() || self.accept() {
                continue;
            }
            break;
        }
        batch.set_count(n);
        Ok(n)
    }

    /// Sends each queued frame with its length prefix and edit. Without a
    /// client every frame counts as dropped.
    pub fn send_batch(&mut self, batch: &RxBatch, tx: &[TxEntry]) -> SendOutcome {
        let mut out = SendOutcome::default();
        self.flush();
        for (i, entry) in tx.iter().enumerate() {
            let Some(conn) = self.conn.as_ref() else {
                out.dropped += (tx.len() - i) as u64;
                break;
            };
            let frame = batch.frame(usize::from(entry.slot));
            let len = entry.edit.out_len(frame.len());
            if len == 0 || len > MAX_FRAME_LEN {
                // The prefix cannot describe it (the engine never sends such).
                out.errors += 1;
                continue;
            }
            let prefix = (len as u32).to_be_bytes();
            let (head, tag, rest) = entry.edit.pieces(frame);
            let pieces = [&prefix[..], head, tag.map_or(&[][..], |t| &t[..]), rest];
            if self.tx_end > self.tx_start {
                // Bytes are waiting: this frame goes behind them, whole.
                if self.enqueue(&pieces, 0) {
                    out.sent += 1;
                    out.bytes += len as u64;
                } else {
                    out.dropped += 1;
                }
                continue;
            }
            let iov = pieces.map(IoSlice::new);
            match sys::send_vectored(conn.as_fd(), &iov) {
                Ok(written) => {
                    // The rest of a partly written frame always fits: the
                    // buffer is empty and holds a maximal frame.
                    let whole = written == PREFIX + len || self.enqueue(&pieces, written);
                    debug_assert!(whole, "transmit buffer smaller than a frame");
                    out.sent += 1;
                    out.bytes += len as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if self.enqueue(&pieces, 0) {
                        out.sent += 1;
                        out.bytes += len as u64;
                    } else {
                        out.dropped += 1;
                    }
                }
                Err(e) if is_gone(&e) => {
                    self.disconnect("client gone");
                    out.dropped += 1;
                }
                Err(_) => out.errors += 1,
            }
        }
        self.watch_writable();
        out
    }

    /// The length of the complete frame at the head of the reassembly
    /// buffer, `None` if it is not complete yet, or `Err(length)` for a
    /// length prefix outside 1-65535.
    fn next_frame(&self) -> Result<Option<usize>, u32> {
        let buffered = &self.rx[self.rx_start..self.rx_end];
        let Some(prefix) = buffered.first_chunk::<PREFIX>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*prefix);
        if len == 0 || len as usize > MAX_FRAME_LEN {
            return Err(len);
        }
        Ok((buffered.len() >= PREFIX + len as usize).then_some(len as usize))
    }

    /// Reads what the connection has into the reassembly buffer. Returns
    /// whether bytes came; false when it would block, or the connection
    /// ended (then it is closed).
    fn fill(&mut self) -> bool {
        let Some(conn) = self.conn.as_mut() else {
            return false;
        };
        if self.rx_start == self.rx_end {
            self.rx_start = 0;
            self.rx_end = 0;
        } else if self.rx_start + PREFIX + MAX_FRAME_LEN > RX_BUF {
            // The incomplete frame might not fit behind its start: move it
            // to the front (at most one frame's worth of bytes).
            self.rx.copy_within(self.rx_start..self.rx_end, 0);
            self.rx_end -= self.rx_start;
            self.rx_start = 0;
        }
        // Never an empty read buffer (which would read as EOF): an
        // incomplete frame always ends before `RX_BUF`, see above.
        loop {
            match conn.read(&mut self.rx[self.rx_end..]) {
                Ok(0) => {
                    self.disconnect("client disconnected");
                    return false;
                }
                Ok(k) => {
                    self.rx_end += k;
                    return true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) => {
                    self.disconnect(&format!("connection error: {e}"));
                    return false;
                }
            }
        }
    }

    /// Accepts waiting connections: the first becomes the client if there
    /// is none, the others are closed. Returns whether a new client came.
    fn accept(&mut self) -> bool {
        let mut new_client = false;
        loop {
            let fd = match sys::accept(self.listener.as_fd()) {
                Ok(fd) => fd,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return new_client,
                Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::ECONNABORTED)) => continue,
                Err(e) => {
                    // EMFILE and the like: the connection stays queued and
                    // is retried on the next wake-up of this port.
                    tracing::warn!(port = %self.port, "accept failed: {e}");
                    return new_client;
                }
            };
            if self.conn.is_some() {
                self.stats.refused += 1;
                if !self.refusal_logged {
                    self.refusal_logged = true;
                    tracing::warn!(
                        port = %self.port,
                        total = self.stats.refused,
                        "closed a second connection: a client is already connected"
                    );
                }
                continue;
            }
            let conn = UnixStream::from(fd);
            if let Err(e) =
                self.poll
                    .registry()
                    .register(&mut SourceFd(&conn.as_raw_fd()), CONN, Interest::READABLE)
            {
                tracing::warn!(port = %self.port, "cannot watch the new connection: {e}");
                continue;
            }
            self.conn = Some(conn);
            self.want_write = false;
            self.refusal_logged = false;
            self.rx_start = 0;
            self.rx_end = 0;
            self.tx_start = 0;
            self.tx_end = 0;
            self.stats.connections += 1;
            new_client = true;
            tracing::info!(port = %self.port, "stream client connected");
        }
    }

    /// Closes the connection; the port keeps listening.
    fn disconnect(&mut self, why: &str) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut SourceFd(&conn.as_raw_fd()));
        drop(conn);
        let partial = self.rx_end - self.rx_start;
        let unsent = self.tx_end - self.tx_start;
        self.rx_start = 0;
        self.rx_end = 0;
        self.tx_start = 0;
        self.tx_end = 0;
        self.want_write = false;
        tracing::info!(port = %self.port, partial, unsent, "stream client gone: {why}");
    }

    /// Appends `pieces` minus their first `skip` bytes to the transmit
    /// buffer if they fit (moving what is there to the front if needed).
    fn enqueue(&mut self, pieces: &[&[u8]; 4], skip: usize) -> bool {
        let total: usize = pieces.iter().map(|p| p.len()).sum::<usize>() - skip;
        if self.tx_end - self.tx_start + total > TX_BUF {
            return false;
        }
        if self.tx_end + total > TX_BUF {
            self.tx.copy_within(self.tx_start..self.tx_end, 0);
            self.tx_end -= self.tx_start;
            self.tx_start = 0;
        }
        let mut skip = skip;
        for piece in pieces {
            let cut = skip.min(piece.len());
            skip -= cut;
            let piece = &piece[cut..];
            self.tx[self.tx_end..self.tx_end + piece.len()].copy_from_slice(piece);
            self.tx_end += piece.len();
        }
        true
    }

    /// Writes as much of the transmit buffer as the socket takes.
    fn flush(&mut self) {
        while self.tx_end > self.tx_start {
            let Some(conn) = self.conn.as_ref() else {
                return;
            };
            match sys::send_vectored(
                conn.as_fd(),
                &[IoSlice::new(&self.tx[self.tx_start..self.tx_end])],
            ) {
                Ok(0) => return,
                Ok(k) => self.tx_start += k,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    let why = if is_gone(&e) {
                        "client gone".to_owned()
                    } else {
                        format!("send failed: {e}")
                    };
                    self.disconnect(&why);
                    return;
                }
            }
        }
        self.tx_start = 0;
        self.tx_end = 0;
        self.watch_writable();
    }

    /// Watches the connection for writability exactly while the transmit
    /// buffer holds bytes.
    fn watch_writable(&mut self) {
        let pending = self.tx_end > self.tx_start;
        let Some(conn) = self.conn.as_ref() else {
            return;
        };
        if pending == self.want_write {
            return;
        }
        let interest = if pending {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        match self
            .poll
            .registry()
            .reregister(&mut SourceFd(&conn.as_raw_fd()), CONN, interest)
        {
            Ok(()) => self.want_write = pending,
            Err(e) => tracing::warn!(port = %self.port, "cannot watch the connection: {e}"),
        }
    }
}

/// Whether a send error means the client went away.
fn is_gone(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EPIPE | libc::ECONNRESET | libc::ENOTCONN)
    )
}

/// The socket file of a stream or dgram port: created with the port's mode,
/// replacing a stale one, and removed when the port goes (only if it is
/// still the file this port created).
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl SocketFile {
    /// Creates a socket of `kind` bound at `path`, whose file has exactly
    /// `mode`, and returns it with the file's guard.
    ///
    /// # Errors
    /// As [`StreamPort::open`].
    pub fn bind(path: &Path, kind: libc::c_int, mode: u32) -> Result<(OwnedFd, SocketFile), OpenError> {
        let shown = path.display().to_string();
        if !path.is_absolute() {
            return Err(OpenError::PathNotAbsolute(path.to_owned()));
        }
        let addr = UnixAddr::from_path(path).map_err(|_| {
            if shown.len() > UnixAddr::MAX_PATH {
                OpenError::PathTooLong {
                    path: path.to_owned(),
                    limit: UnixAddr::MAX_PATH,
                }
            } else {
                OpenError::PathHasNul(path.to_owned())
            }
        })?;
        let Some(dir) = path.parent().filter(|_| path.file_name().is_some()) else {
            return Err(OpenError::PathNamesNoFile(path.to_owned()));
        };
        match fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(OpenError::NotADirectory {
                    dir: dir.to_owned(),
                    path: path.to_owned(),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(OpenError::NoSuchDirectory {
                    dir: dir.to_owned(),
                    path: path.to_owned(),
                })
            }
            Err(cause) => {
                return Err(OpenError::Io {
                    step: "look up the directory of",
                    name: shown,
                    cause,
                })
            }
        }
        remove_stale(path, &addr, &shown)?;
        let fd = sys::unix_socket_bound(kind, &addr, mode).map_err(OpenError::io("bind", &shown))?;
        let file = SocketFile::adopt(path, mode, &shown)?;
        Ok((fd, file))
    }

    /// Takes charge of the socket file just bound at `path`: records its
    /// identity (for removal) and sets its mode exactly (`bind` applied the
    /// umask). The file is opened `O_PATH | O_NOFOLLOW` and changed through
    /// `/proc/self/fd`, so a file swapped in meanwhile (say a symlink, in a
    /// world-writable directory) is never touched.
    fn adopt(path: &Path, mode: u32, shown: &str) -> Result<SocketFile, OpenError> {
        let (handle, meta) =
            own_socket(path, shown)?.ok_or_else(|| OpenError::SocketReplaced(path.to_owned()))?;
        let file = SocketFile {
            path: path.to_owned(),
            dev: meta.dev(),
            ino: meta.ino(),
        };
        if meta.mode() & 0o7777 != mode {
            // On failure `file` is dropped, which removes the socket file.
            set_mode(&handle, mode).map_err(OpenError::io("set the mode of", shown))?;
        }
        Ok(file)
    }

    /// Takes charge again of the socket file of a socket handed over on an
    /// in-place restart: `fd` must still be bound to `path` and the file
    /// there must be a socket (its identity is recorded for removal).
    ///
    /// # Errors
    /// [`OpenError::SocketReplaced`] when the file at `path` is gone or not
    /// the one `fd` is bound to.
    pub fn take_over(path: &Path, fd: std::os::fd::BorrowedFd<'_>) -> Result<SocketFile, OpenError> {
        use std::os::unix::ffi::OsStrExt;
        let replaced = || OpenError::SocketReplaced(path.to_owned());
        let bound = sys::unix_local_addr(fd).map_err(|_| replaced())?;
        if bound.path_bytes() != path.as_os_str().as_bytes() {
            return Err(replaced());
        }
        let meta = fs::symlink_metadata(path).map_err(|_| replaced())?;
        if !meta.file_type().is_socket() {
            return Err(replaced());
        }
        Ok(SocketFile {
            path: path.to_owned(),
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    /// The path for messages.
    pub fn shown(&self) -> String {
        self.path.display().to_string()
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        match fs::symlink_metadata(&self.path) {
            Ok(m) if m.dev() == self.dev && m.ino() == self.ino => {
                if let Err(e) = fs::remove_file(&self.path) {
                    tracing::warn!(path = %self.path.display(), "cannot remove socket file: {e}");
                }
            }
            // Gone already, or replaced by someone else's file: not ours.
            _ => {}
        }
    }
}

/// Removes a stale socket file at `path` (left by a switchd that was
/// killed); refuses a file that is not a socket and a socket that some
/// process still serves.
fn remove_stale(path: &Path, addr: &UnixAddr, shown: &str) -> Result<(), OpenError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(cause) => {
            return Err(OpenError::Io {
                step: "look up",
                name: shown.to_owned(),
                cause,
            })
        }
    };
    if !meta.file_type().is_socket() {
        return Err(OpenError::NotASocket(path.to_owned()));
    }
    // Connecting needs write permission. A socket file of our own without
    // it (`mode=0400`, say, which only root can use) is opened up for the
    // probe, and closed again if something serves it after all.
    let mut restore = None;
    if meta.mode() & 0o200 == 0 && meta.uid() == sys::euid() && sys::euid() != 0 {
        if let Some((handle, m)) = own_socket(path, shown)? {
            set_mode(&handle, 0o600).map_err(OpenError::io("set the mode of", shown))?;
            restore = Some((handle, m.mode() & 0o7777));
        }
    }
    for kind in [libc::SOCK_STREAM, libc::SOCK_DGRAM] {
        if sys::unix_bound(kind, addr).map_err(OpenError::io("probe socket", shown))? {
            if let Some((handle, mode)) = &restore {
                let _ = set_mode(handle, *mode);
            }
            return Err(OpenError::SocketInUse(path.to_owned()));
        }
    }
    fs::remove_file(path).map_err(OpenError::io("remove stale socket", shown))?;
    tracing::info!(path = %shown, "replaced a stale socket file");
    Ok(())
}

/// Opens the file at `path` without following a symlink (`O_PATH |
/// O_NOFOLLOW`), if it is a socket owned by the user switchd runs as.
/// Changing it through this handle ([`set_mode`]) changes exactly the file
/// that was checked, whatever happens to the path meanwhile.
fn own_socket(path: &Path, shown: &str) -> Result<Option<(fs::File, fs::Metadata)>, OpenError> {
    let handle = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_NOFOLLOW)
        .open(path)
        .map_err(OpenError::io("open socket file", shown))?;
    let meta = handle
        .metadata()
        .map_err(OpenError::io("stat socket file", shown))?;
    let ours = meta.file_type().is_socket() && meta.uid() == sys::euid();
    Ok(ours.then_some((handle, meta)))
}

/// Sets the mode of the file behind an `O_PATH` handle: `fchmod` does not
/// take such handles, a `chmod` through `/proc/self/fd` does.
fn set_mode(handle: &fs::File, mode: u32) -> io::Result<()> {
    let through = format!("/proc/self/fd/{}", handle.as_raw_fd());
    fs::set_permissions(through, fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests;

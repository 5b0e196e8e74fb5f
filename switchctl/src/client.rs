//! One request/reply exchange with `switchd` over its Unix control socket,
//! under a single deadline.
//!
//! `--timeout` bounds connect, send and reply *together*: every read and
//! write re-arms the socket timeout with the time left until the deadline, so
//! a daemon that dribbles bytes cannot stretch it. `connect(2)` on a Unix
//! stream socket blocks while the listener's backlog is full (a wedged daemon)
//! and has no timeout of its own, so it runs on a helper thread that is
//! abandoned when the deadline passes (the process exits right after).

use std::fmt;
use std::io::{self, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use proto::codec::{self, FrameError};
use proto::{Reply, Request};

/// Why no reply could be obtained. The daemon's own refusals are not here:
/// they are the inner `Err` of [`call`].
#[derive(Debug)]
pub enum ClientError {
    /// The socket could not be connected.
    Connect {
        /// Socket path.
        socket: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The deadline passed before the reply was complete.
    Timeout {
        /// The `--timeout` given.
        after: Duration,
    },
    /// The encoded request is longer than the daemon reads in one message
    /// (a big `add-flows` file); found before connecting.
    RequestTooLarge {
        /// The request line's length in bytes, newline excluded.
        len: usize,
        /// [`codec::MAX_REQUEST_LEN`].
        limit: usize,
    },
    /// Writing the request failed.
    Send(io::Error),
    /// Reading the reply failed.
    Receive(io::Error),
    /// The daemon closed the connection before sending anything.
    Closed,
    /// The daemon closed the connection in the middle of the reply.
    Truncated,
    /// The reply line exceeded the size limit.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The reply was not a valid protocol message (or another version).
    Protocol(proto::Error),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Connect { socket, source } => {
                write!(
                    f,
                    "cannot connect to switchd at {}: {}",
                    socket.display(),
                    io_reason(source)
                )?;
                if matches!(
                    source.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                ) {
                    f.write_str(" (is switchd running?)")?;
                }
                Ok(())
            }
            ClientError::Timeout { after } => {
                write!(f, "no reply from switchd within {} s", after.as_secs())
            }
            ClientError::RequestTooLarge { len, limit } => write!(
                f,
                "the request is {len} bytes long once encoded, more than the {limit} bytes switchd reads in one message"
            ),
            ClientError::Send(e) => write!(f, "cannot send the request to switchd: {}", io_reason(e)),
            ClientError::Receive(e) => write!(f, "cannot read the reply from switchd: {}", io_reason(e)),
            ClientError::Closed => f.write_str("switchd closed the connection without replying"),
            ClientError::Truncated => f.write_str("switchd closed the connection in the middle of its reply"),
            ClientError::TooLarge { limit } => write!(f, "reply from switchd exceeds {limit} bytes"),
            ClientError::Protocol(e) => write!(f, "bad reply from switchd: {}", e.message),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Connect { source, .. } => Some(source),
            ClientError::Send(e) | ClientError::Receive(e) => Some(e),
            _ => None,
        }
    }
}

/// An OS error's text without Rust's " (os error N)" suffix, which means
/// nothing to a user reading `switchctl: ...`.
pub fn io_reason(e: &io::Error) -> String {
    let s = e.to_string();
    match (e.raw_os_error(), s.rfind(" (os error ")) {
        (Some(_), Some(i)) => s[..i].to_owned(),
        _ => s,
    }
}

/// The control socket of the `ovs-vsctl` and `brctl` faces, which have no
/// `--socket`: `$SWITCHD_SOCKET` if set and not empty, else the default (as
/// switchctl's own `--socket` defaults).
pub fn env_socket() -> PathBuf {
    std::env::var_os(proto::SOCKET_ENV)
        .filter(|s| !s.is_empty())
        .map_or_else(|| PathBuf::from(proto::DEFAULT_SOCKET), PathBuf::from)
}

/// Sends `req` to the daemon listening on `socket` and waits for its reply.
/// `timeout` bounds the whole exchange; `None` waits forever.
///
/// # Errors
///
/// The outer `Err` means no valid reply arrived (see [`ClientError`]); the
/// inner `Err` is the daemon refusing the request.
pub fn call(
    socket: &Path,
    req: &Request,
    timeout: Option<Duration>,
) -> Result<Result<Reply, proto::Error>, ClientError> {
    exchange(socket, req, timeout).map(|(reply, _)| reply)
}

/// What follows the reply on a connection that goes on after it (a
/// capture's records): the bytes already read past the reply line, then
/// the socket, read with no timeout.
pub type Stream = BufReader<io::Chain<io::Cursor<Vec<u8>>, UnixStream>>;

/// [`call`] for a request whose reply is followed by a stream (`capture`):
/// the reply, the stream, and another handle on the same connection to
/// write to (to stop the stream). `timeout` bounds the exchange up to the
/// reply, not the stream.
///
/// # Errors
///
/// As [`call`].
pub fn open(
    socket: &Path,
    req: &Request,
    timeout: Option<Duration>,
) -> Result<(Result<Reply, proto::Error>, Stream, UnixStream), ClientError> {
    let (reply, reader) = exchange(socket, req, timeout)?;
    let pending = reader.buffer().to_vec();
    let conn = reader.into_inner().stream;
    let unset = |e| ClientError::Receive(e);
    conn.set_read_timeout(None).map_err(unset)?;
    conn.set_write_timeout(None).map_err(unset)?;
    let other = conn.try_clone().map_err(unset)?;
    Ok((reply, BufReader::new(io::Cursor::new(pending).chain(conn)), other))
}

/// Sends `req` and reads the reply line; returns the reply and the
/// connection with whatever was read past the line still buffered.
fn exchange(
    socket: &Path,
    req: &Request,
    timeout: Option<Duration>,
) -> Result<(Result<Reply, proto::Error>, BufReader<DeadlineStream>), ClientError> {
    // The daemon answers an over-long line with an error and hangs up,
    // possibly while this side is still writing (then all the user would
    // see is a broken pipe): say so before connecting instead.
    let line = codec::encode_request(req).map_err(ClientError::Send)?;
    let len = line.len() - 1;
    if len > codec::MAX_REQUEST_LEN {
        return Err(ClientError::RequestTooLarge {
            len,
            limit: codec::MAX_REQUEST_LEN,
        });
    }
    // An unrepresentable deadline (absurd --timeout) is the same as none.
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t).map(|d| (d, t)));
    let stream = connect(socket, deadline)?;
    let mut conn = DeadlineStream { stream, deadline };

    conn.write_all(&line)
        .and_then(|()| conn.flush())
        .map_err(|e| io_error(e, deadline, ClientError::Send))?;

    let mut reader = BufReader::new(conn);
    let mut line = Vec::new();
    match codec::read_line(&mut reader, &mut line, codec::MAX_REPLY_LEN) {
        Ok(true) => {}
        Ok(false) => return Err(ClientError::Closed),
        Err(FrameError::Truncated) => return Err(ClientError::Truncated),
        Err(FrameError::TooLarge { limit }) => return Err(ClientError::TooLarge { limit }),
        Err(FrameError::Io(e)) => return Err(io_error(e, deadline, ClientError::Receive)),
    }
    let reply = codec::decode_reply(&line).map_err(ClientError::Protocol)?;
    Ok((reply, reader))
}

fn connect(socket: &Path, deadline: Option<(Instant, Duration)>) -> Result<UnixStream, ClientError> {
    let connect_error = |source| ClientError::Connect {
        socket: socket.to_owned(),
        source,
    };
    let Some((at, after)) = deadline else {
        return UnixStream::connect(socket).map_err(connect_error);
    };
    let (tx, rx) = mpsc::channel();
    let path = socket.to_owned();
    thread::spawn(move || {
        // The receiver is gone only if the deadline passed; nothing to do then.
        let _ = tx.send(UnixStream::connect(path));
    });
    match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
        Ok(result) => result.map_err(connect_error),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(ClientError::Timeout { after }),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(connect_error(io::Error::other(
            "connecting thread ended without a result",
        ))),
    }
}

/// Maps an I/O error to [`ClientError::Timeout`] if it is the deadline
/// firing, else through `other`.
fn io_error(
    e: io::Error,
    deadline: Option<(Instant, Duration)>,
    other: fn(io::Error) -> ClientError,
) -> ClientError {
    match (e.kind(), deadline) {
        (io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, Some((_, after))) => {
            ClientError::Timeout { after }
        }
        _ => other(e),
    }
}

/// A stream whose every read and write may only take the time left until
/// the deadline.
struct DeadlineStream {
    stream: UnixStream,
    deadline: Option<(Instant, Duration)>,
}

impl DeadlineStream {
    /// Time left, or a `TimedOut` error once it is all used up (a zero
    /// socket timeout would mean "block forever" to the kernel, so it is
    /// never passed down).
    fn left(&self) -> io::Result<Option<Duration>> {
        match self.deadline {
            None => Ok(None),
            Some((at, _)) => {
                let left = at.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(io::ErrorKind::TimedOut.into())
                } else {
                    Ok(Some(left))
                }
            }
        }
    }
}

impl Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.stream.set_read_timeout(left)?;
        self.stream.read(buf)
    }
}

impl Write for DeadlineStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.stream.set_write_timeout(left)?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_name_the_socket() {
        let e = ClientError::Connect {
            socket: "/run/switchd/switchd.sock".into(),
            source: io::Error::from_raw_os_error(2),
        };
        assert_eq!(
            e.to_string(),
            "cannot connect to switchd at /run/switchd/switchd.sock: No such file or directory (is switchd running?)"
        );
        let e = ClientError::Connect {
            socket: "/s".into(),
            source: io::Error::from_raw_os_error(13),
        };
        assert_eq!(
            e.to_string(),
            "cannot connect to switchd at /s: Permission denied"
        );
        assert_eq!(
            ClientError::Timeout {
                after: Duration::from_secs(30)
            }
            .to_string(),
            "no reply from switchd within 30 s"
        );
    }

    #[test]
    fn oversized_request_is_refused_before_connecting() {
        // no socket at this path: the size check comes first
        let req = Request::AddFlows {
            bridge: "br0".parse().unwrap(),
            text: "x".repeat(codec::MAX_REQUEST_LEN),
        };
        let len = codec::encode_request(&req).unwrap().len() - 1;
        let e = call(Path::new("/nonexistent/switchd.sock"), &req, None).unwrap_err();
        assert!(
            matches!(e, ClientError::RequestTooLarge { len: l, limit } if l == len && limit == codec::MAX_REQUEST_LEN),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "the request is {len} bytes long once encoded, more than the {} bytes switchd reads in one message",
                codec::MAX_REQUEST_LEN
            )
        );
    }

    #[test]
    fn deadline_in_the_past_times_out_without_blocking() {
        let (a, _b) = UnixStream::pair().unwrap();
        let mut s = DeadlineStream {
            stream: a,
            deadline: Some((Instant::now(), Duration::from_secs(1))),
        };
        let e = s.read(&mut [0u8; 4]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(matches!(
            io_error(e, s.deadline, ClientError::Receive),
            ClientError::Timeout { .. }
        ));
    }

    #[test]
    fn round_trip_with_a_listener() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let server = thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let mut line = Vec::new();
            assert!(codec::read_line(&mut r, &mut line, codec::MAX_REQUEST_LEN).unwrap());
            let req = codec::decode_request(&line).unwrap();
            let mut w = conn;
            codec::write_reply(&mut w, &Ok(Reply::Names(vec!["br0".into()]))).unwrap();
            req
        });
        let reply = call(&path, &Request::ListBr, Some(Duration::from_secs(10))).unwrap();
        assert_eq!(reply, Ok(Reply::Names(vec!["br0".into()])));
        assert_eq!(server.join().unwrap(), Request::ListBr);
    }
}

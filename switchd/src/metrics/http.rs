//! The smallest HTTP/1.1 server that Prometheus can scrape, on std::net
//! alone (no new dependency for one read-only endpoint).
//!
//! It answers one request per connection (`Connection: close`): `GET` or
//! `HEAD /metrics` gets what the [`Handler`] produces, another path 404,
//! another method on `/metrics` 405 with `Allow`, anything that is not an
//! HTTP/1.x request head 400. Nothing a client sends can make it hold more
//! than a bounded amount of memory or threads, or hold a thread for long:
//! - a fixed pool of [`Limits::workers`] threads each accepts and serves
//!   one connection at a time (no thread per connection, no queue of our
//!   own: further connections wait in the kernel's listen backlog);
//! - the request head is read up to [`Limits::max_head`] bytes (431
//!   beyond) and within [`Limits::read_timeout`] in total, not per read, so
//!   a client sending one byte at a time gets 408 rather than a thread;
//! - the response is written within [`Limits::write_timeout`] in total;
//! - a request body is never read (no method that has one is allowed).
//!
//! The handler is the only way to the engine, and it only sends requests
//! over the engine's channel: the engine never waits on this side.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// What a scrape of `/metrics` returns: the body, or why there is none
/// (answered with 503).
pub type Handler = dyn Fn() -> Result<Arc<str>, String> + Send + Sync;

/// The path that serves metrics.
pub const METRICS_PATH: &str = "/metrics";

/// Bounds on what one client can cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Threads serving connections, so at most this many at once.
    pub workers: usize,
    /// Largest request head (request line and headers) accepted.
    pub max_head: usize,
    /// Time a client has to send its whole request head.
    pub read_timeout: Duration,
    /// Time a client has to take the whole response.
    pub write_timeout: Duration,
}

impl Default for Limits {
    /// Four workers (Prometheus scrapes one at a time; a few more let a
    /// person's `curl` through while a stuck client times out), an 8 KiB
    /// head (a scrape's is about 300 bytes), 5 s to send it, 10 s to read
    /// the response (a few hundred KiB with thousands of ports).
    fn default() -> Limits {
        Limits {
            workers: 4,
            max_head: 8 * 1024,
            read_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
        }
    }
}

/// Starts the worker threads, which serve `listener` forever.
pub fn serve(listener: TcpListener, limits: Limits, handler: Arc<Handler>) -> io::Result<()> {
    for _ in 0..limits.workers.max(1) {
        // Each worker accepts on its own handle of the one socket: the
        // kernel hands each connection to one waiting worker.
        let listener = listener.try_clone()?;
        let handler = Arc::clone(&handler);
        thread::Builder::new()
            .name("metrics".into())
            .spawn(move || loop {
                match listener.accept() {
                    Ok((stream, _)) => serve_connection(stream, &limits, &*handler),
                    Err(e) => {
                        // Typically EMFILE: wait rather than spin.
                        tracing::warn!("metrics: accept failed: {e}");
                        thread::sleep(Duration::from_millis(100));
                    }
                }
            })?;
    }
    Ok(())
}

/// Reads one request from `stream`, answers it and closes the connection.
pub fn serve_connection(mut stream: TcpStream, limits: &Limits, handler: &Handler) {
    let response = match read_head(&mut stream, limits.max_head, limits.read_timeout) {
        Ok(head) => match parse_request(&head) {
            Ok(req) => respond(&req, handler),
            Err(status) => Response::error(status, false),
        },
        Err(HeadError::TooLarge) => Response::error(Status::HeadTooLarge, false),
        Err(HeadError::Timeout) => Response::error(Status::Timeout, false),
        Err(HeadError::Truncated) => Response::error(Status::BadRequest, false),
        // Nothing was asked, or the connection broke: nobody to answer.
        Err(HeadError::Closed | HeadError::Io(_)) => return,
    };
    if response.status != Status::Ok {
        tracing::debug!(status = response.status.code(), "metrics: request refused");
    }
    if write_all_by(&mut stream, &response.to_bytes(), limits.write_timeout).is_err() {
        return;
    }
    linger(stream);
}

/// After the response: close our side, then read and drop what the client
/// still sends, briefly, so that closing with unread input (a refused
/// request's body, a pipelined request) does not reset the connection
/// before the client has read the response.
fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 4096];
    let mut budget: usize = 64 * 1024;
    while budget > 0 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => budget = budget.saturating_sub(n),
        }
    }
}

/// Why no request head could be read.
#[derive(Debug)]
pub enum HeadError {
    /// Longer than the limit without its blank line.
    TooLarge,
    /// Not complete within the time limit.
    Timeout,
    /// The client closed the connection before sending anything.
    Closed,
    /// The client closed the connection in the middle of the head.
    Truncated,
    /// The connection failed.
    Io(io::Error),
}

/// Reads up to and including the blank line that ends a request head
/// (CRLF CRLF, or LF LF from a lax client), within `timeout` in total.
/// What follows the blank line, if it came in the same read, is dropped.
pub fn read_head(stream: &mut TcpStream, max: usize, timeout: Duration) -> Result<Vec<u8>, HeadError> {
    let deadline = Instant::now() + timeout;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HeadError::Timeout);
        }
        stream.set_read_timeout(Some(left)).map_err(HeadError::Io)?;
        let n = match stream.read(&mut buf) {
            Ok(0) if head.is_empty() => return Err(HeadError::Closed),
            Ok(0) => return Err(HeadError::Truncated),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(HeadError::Timeout)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(HeadError::Io(e)),
        };
        // Only the new bytes (and the 3 before them) can complete the end.
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head_end(&head[from..]) {
            head.truncate(from + end);
            return Ok(head);
        }
        if head.len() > max {
            return Err(HeadError::TooLarge);
        }
    }
}

/// The length of the head in `buf` up to and including its blank line.
fn head_end(buf: &[u8]) -> Option<usize> {
    (0..buf.len()).find_map(|i| {
        let rest = &buf[i..];
        if rest.starts_with(b"\r\n\r\n") {
            Some(i + 4)
        } else if rest.starts_with(b"\n\n") {
            Some(i + 2)
        } else if rest.starts_with(b"\n\r\n") {
            Some(i + 3)
        } else {
            None
        }
    })
}

/// The parts of a request that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    /// The method, as sent (methods are case-sensitive).
    pub method: String,
    /// The path of the target, without query or fragment.
    pub path: String,
}

/// Parses a request head (RFC 9112 §2–§5, strictly enough to refuse what
/// is not HTTP, leniently enough for any real client): the request line
/// `METHOD SP TARGET SP HTTP/1.x`, then header lines `Name: value`.
/// Header values are not needed and not interpreted.
pub fn parse_request(head: &[u8]) -> Result<RequestLine, Status> {
    let text = std::str::from_utf8(head).map_err(|_| Status::BadRequest)?;
    // A server should ignore empty lines before the request line (§2.2).
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .skip_while(|l| l.is_empty());
    let request_line = lines.next().ok_or(Status::BadRequest)?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Status::BadRequest);
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(Status::BadRequest);
    }
    match version {
        "HTTP/1.1" | "HTTP/1.0" => {}
        v if is_http_version(v) => return Err(Status::VersionNotSupported),
        _ => return Err(Status::BadRequest),
    }
    let path = target_path(target).ok_or(Status::BadRequest)?;
    for line in lines.take_while(|l| !l.is_empty()) {
        // `name: value`, with a token for a name and no space before the
        // colon (§5.1); an obsolete folded line starts with a space and
        // has no name, so it is refused too (§5.2 allows that).
        let name = line.split_once(':').map(|(n, _)| n).ok_or(Status::BadRequest)?;
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(Status::BadRequest);
        }
    }
    Ok(RequestLine {
        method: method.to_owned(),
        path: path.to_owned(),
    })
}

/// `HTTP/<digit>.<digit>`.
fn is_http_version(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 8 && v.starts_with("HTTP/") && b[5].is_ascii_digit() && b[6] == b'.' && b[7].is_ascii_digit()
}

/// A token character (RFC 9110 §5.6.2): what methods and header names are made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The path of a request target: origin form (`/metrics?x=1`), absolute
/// form (`http://host:9477/metrics`, which servers must accept), or `*`.
fn target_path(target: &str) -> Option<&str> {
    if target == "*" {
        return Some(target);
    }
    let path = if target.starts_with('/') {
        target
    } else {
        let scheme_len = ["http://", "https://"]
            .iter()
            .find(|s| target.len() >= s.len() && target[..s.len()].eq_ignore_ascii_case(s))?
            .len();
        let rest = &target[scheme_len..];
        match rest.find('/') {
            Some(i) => &rest[i..],
            None if rest.is_empty() => return None,
            None => "/",
        }
    };
    if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return None;
    }
    Some(path.split(['?', '#']).next().unwrap_or(path))
}

/// The answer to a parsed request.
fn respond(req: &RequestLine, handler: &Handler) -> Response {
    let head_only = req.method == "HEAD";
    if req.path != METRICS_PATH {
        return Response::error(Status::NotFound, head_only);
    }
    if !matches!(req.method.as_str(), "GET" | "HEAD") {
        return Response::error(Status::MethodNotAllowed, false);
    }
    match handler() {
        Ok(body) => Response {
            status: Status::Ok,
            content_type: super::exposition::CONTENT_TYPE,
            body: body.as_bytes().to_vec(),
            head_only,
        },
        Err(why) => {
            tracing::warn!("metrics: cannot take a snapshot: {why}");
            Response {
                status: Status::Unavailable,
                content_type: TEXT,
                body: format!("switchd cannot report metrics now: {why}\n").into_bytes(),
                head_only,
            }
        }
    }
}

const TEXT: &str = "text/plain; charset=utf-8";

/// The status codes this server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 200: the metrics.
    Ok,
    /// 400: not an HTTP/1.x request.
    BadRequest,
    /// 404: a path other than `/metrics`.
    NotFound,
    /// 405: a method other than GET or HEAD on `/metrics`.
    MethodNotAllowed,
    /// 408: the head did not arrive in time.
    Timeout,
    /// 431: the head is too large.
    HeadTooLarge,
    /// 503: the engine could not be asked (it is shutting down).
    Unavailable,
    /// 505: HTTP/2.0 and the like, in an HTTP/1 request line.
    VersionNotSupported,
}

impl Status {
    /// The numeric code.
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::Timeout => 408,
            Status::HeadTooLarge => 431,
            Status::Unavailable => 503,
            Status::VersionNotSupported => 505,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadRequest => "Bad Request",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::Timeout => "Request Timeout",
            Status::HeadTooLarge => "Request Header Fields Too Large",
            Status::Unavailable => "Service Unavailable",
            Status::VersionNotSupported => "HTTP Version Not Supported",
        }
    }
}

/// A response, written in one piece.
#[derive(Debug)]
pub struct Response {
    /// Status.
    pub status: Status,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The body (its length is sent even when `head_only`).
    pub body: Vec<u8>,
    /// Answering HEAD: headers only.
    pub head_only: bool,
}

impl Response {
    /// A short text response for a refused request.
    fn error(status: Status, head_only: bool) -> Response {
        let body = match status {
            Status::NotFound => format!("404 Not Found: metrics are at {METRICS_PATH}\n"),
            Status::MethodNotAllowed => {
                format!("405 Method Not Allowed: {METRICS_PATH} answers GET and HEAD\n")
            }
            s => format!("{} {}\n", s.code(), s.reason()),
        };
        Response {
            status,
            content_type: TEXT,
            body: body.into_bytes(),
            head_only,
        }
    }

    /// Status line, headers, blank line, body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status.code(),
            self.status.reason(),
            self.content_type,
            self.body.len()
        );
        if self.status == Status::MethodNotAllowed {
            out.push_str("Allow: GET, HEAD\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if !self.head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

/// `write_all` that gives up once `timeout` has passed in total.
fn write_all_by(stream: &mut TcpStream, mut data: &[u8], timeout: Duration) -> io::Result<()> {
    let deadline = Instant::now() + timeout;
    while !data.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        stream.set_write_timeout(Some(left))?;
        match stream.write(data) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

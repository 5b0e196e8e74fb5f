//! `switchd --metrics ADDR:PORT` (SPEC §11): Prometheus metrics over HTTP.
//!
//! - [`snapshot`]: the engine's replies to the read-only requests that
//!   `switchctl` sends too (`show`, `port-stats`, `rstp-show`, ...);
//! - [`render`]: those replies as metric families (names, help, labels);
//! - [`exposition`]: the text format those families are written in;
//! - [`http`]: the HTTP/1.1 server that answers `GET /metrics`.
//!
//! The server runs on threads of its own and reaches the engine only
//! through [`EngineHandle::call`], like the control socket: the engine
//! answers between two batches and never waits for the HTTP side, so a
//! slow, stuck or hostile scraper costs a bounded number of metrics
//! threads and nothing on the data path. A snapshot is reused by scrapes
//! within [`REUSE_FOR`] of it, so that scraping in a loop cannot keep the
//! engine busy answering (one snapshot is a few requests per bridge, and
//! `dump-flows` walks every flow).

pub mod exposition;
pub mod http;
pub mod render;
pub mod snapshot;
#[cfg(test)]
mod tests;

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use proto::{Error, Reply, Request};

use crate::engine::EngineHandle;

/// How long a snapshot is reused for later scrapes (Prometheus scrapes
/// every 15 s or so; people with `curl` will not notice either).
pub const REUSE_FOR: Duration = Duration::from_secs(1);

/// Why the metrics address could not be listened on.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen for --metrics on {addr}: {cause}")]
pub struct BindError {
    /// The address asked for.
    pub addr: SocketAddr,
    /// The cause (in the message, so not also a `source()`, which `{:#}`
    /// would print a second time).
    pub cause: io::Error,
}

/// Binds the metrics address. Done at start-up, before the engine opens
/// any port, so that a taken or wrong address stops `switchd` with a clear
/// message instead of leaving it running without the metrics it was asked
/// for.
pub fn bind(addr: SocketAddr) -> Result<TcpListener, BindError> {
    TcpListener::bind(addr).map_err(|cause| BindError { addr, cause })
}

/// Serves `GET /metrics` on `listener` from background threads, forever.
pub fn serve(listener: TcpListener, engine: EngineHandle) -> io::Result<()> {
    let exporter = Exporter::new(move |req| engine.call(req).result);
    http::serve(
        listener,
        http::Limits::default(),
        Arc::new(move || exporter.body()),
    )
}

/// Takes snapshots through `call` and renders them, reusing one for
/// [`REUSE_FOR`].
#[derive(Debug)]
pub struct Exporter<F> {
    call: F,
    /// When the last snapshot was taken, and its text. The lock is held
    /// while a snapshot is taken, so concurrent scrapes wait for one
    /// snapshot rather than each asking the engine.
    last: Mutex<Option<(Instant, Arc<str>)>>,
}

impl<F: Fn(Request) -> Result<Reply, Error>> Exporter<F> {
    /// An exporter that asks the engine through `call`.
    pub fn new(call: F) -> Exporter<F> {
        Exporter {
            call,
            last: Mutex::new(None),
        }
    }

    /// The text of a scrape: the last snapshot if it is recent enough,
    /// else a new one. An error (the engine is shutting down) is not kept.
    pub fn body(&self) -> Result<Arc<str>, String> {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, text)) = &*last {
            if at.elapsed() < REUSE_FOR {
                return Ok(Arc::clone(text));
            }
        }
        let at = Instant::now();
        let snap = snapshot::collect(&self.call).map_err(|e| e.to_string())?;
        let text: Arc<str> = render::render(&snap).into();
        *last = Some((at, Arc::clone(&text)));
        Ok(text)
    }
}

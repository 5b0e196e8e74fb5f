//! The control server: a Unix stream socket speaking [`proto::codec`]
//! (one JSON request per line, one reply per request).
//!
//! Each client gets its own thread, so a slow or silent client cannot hold
//! up another; the number of clients is capped. A client never touches the
//! engine's state: requests travel to the engine thread over its channel.
//! Changes are serialised by one lock held across "apply in the engine" and
//! "write the db", so the db on disk always reflects the order in which
//! changes were applied, and the reply is sent only after the db is
//! written (SPEC §5).
//!
//! Bad input never harms the daemon: malformed lines get an error reply
//! and the connection stays usable; an over-long line gets an error reply
//! and the connection is closed (the stream is out of sync); a client that
//! disconnects mid-request is simply forgotten.

use std::fs;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use proto::codec::{self, FrameError, MAX_REQUEST_LEN};
use proto::{Error, ErrorKind, Reply, Request};

use crate::config;
use crate::engine::EngineHandle;

/// Most clients served at once; further connections get a "busy" error.
pub const MAX_CLIENTS: usize = 128;
/// A client that sends nothing for this long is disconnected.
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

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
    change_lock: Mutex<()>,
    clients: AtomicUsize,
}

/// Serves clients on `listener` from a background thread, forever.
pub fn serve(listener: UnixListener, engine: EngineHandle, db_path: PathBuf) -> io::Result<()> {
    let shared = Arc::new(Shared {
        engine,
        db_path,
        change_lock: Mutex::new(()),
        clients: AtomicUsize::new(0),
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
            if shared.clients.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
                shared.clients.fetch_sub(1, Ordering::SeqCst);
                let mut s = stream;
                let busy = Error::new(
                    ErrorKind::Internal,
                    format!("too many clients (limit {MAX_CLIENTS})"),
                );
                let _ = codec::write_reply(&mut s, &Err(busy));
                continue;
            }
            let client_shared = Arc::clone(&shared);
            let spawned = thread::Builder::new().name("client".into()).spawn(move || {
                serve_client(&client_shared, stream);
                client_shared.clients.fetch_sub(1, Ordering::SeqCst);
            });
            if let Err(e) = spawned {
                shared.clients.fetch_sub(1, Ordering::SeqCst);
                tracing::warn!("cannot start a client thread: {e}");
            }
        }
    })?;
    Ok(())
}

fn serve_client(shared: &Shared, stream: UnixStream) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    let mut line = Vec::new();
    loop {
        match codec::read_line(&mut reader, &mut line, MAX_REQUEST_LEN) {
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
                discard_input(reader.into_inner());
                return;
            }
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let result = match codec::decode_request(&line) {
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

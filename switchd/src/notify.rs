//! systemd readiness notification (`sd_notify(3)`), so that `Type=notify`
//! units order after a switch that is really up: `READY=1` once the db is
//! restored and the control socket answers, `STOPPING=1` on shutdown.
//!
//! The protocol is one datagram of `KEY=VALUE` lines to the Unix socket named
//! by `$NOTIFY_SOCKET`: a path, or an abstract name written with a leading
//! `@`. It is small enough that std does it all (`UnixDatagram` and
//! `SocketAddrExt::from_abstract_name`), without libsystemd or a crate, and
//! without `unsafe`.
//!
//! Notifying is best effort: without `$NOTIFY_SOCKET` (not started by
//! systemd, or a unit of another type) nothing is sent, and a send that fails
//! is logged as a warning; it never stops the daemon, whose work does not
//! depend on anyone listening.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The environment variable systemd sets for `Type=notify` services.
pub const NOTIFY_SOCKET_ENV: &str = "NOTIFY_SOCKET";

/// Where notifications go: the address from `$NOTIFY_SOCKET`, read once at
/// start-up (before any thread could change the environment).
#[derive(Debug)]
pub struct Notifier {
    addr: SocketAddr,
    /// As given, for log lines.
    shown: String,
}

impl Notifier {
    /// The notifier of `$NOTIFY_SOCKET`; `None` when it is unset or empty.
    /// A value that is not a usable address is logged and treated as unset.
    pub fn from_env() -> Option<Notifier> {
        Notifier::from_value(std::env::var_os(NOTIFY_SOCKET_ENV).as_deref())
    }

    /// [`Notifier::from_env`] for a given value of the variable (tests
    /// cannot set the environment of a multi-threaded process safely).
    fn from_value(value: Option<&std::ffi::OsStr>) -> Option<Notifier> {
        let value = value.filter(|v| !v.is_empty())?;
        // systemd's socket paths are ASCII; anything else is a mistake
        // worth a log line, not a guess.
        let Some(text) = value.to_str() else {
            tracing::warn!("${NOTIFY_SOCKET_ENV}={value:?} is not UTF-8; not notifying systemd");
            return None;
        };
        match Notifier::new(text) {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!("${NOTIFY_SOCKET_ENV}={text:?} is not a usable socket address ({e}); not notifying systemd");
                None
            }
        }
    }

    /// A notifier for `socket`: a filesystem path, or `@name` for the
    /// abstract socket `name` (as systemd writes it).
    ///
    /// # Errors
    /// The name is too long for a Unix socket address or contains a NUL byte.
    pub fn new(socket: &str) -> io::Result<Notifier> {
        let addr = match socket.strip_prefix('@') {
            Some(name) => SocketAddr::from_abstract_name(name.as_bytes())?,
            None => SocketAddr::from_pathname(socket)?,
        };
        Ok(Notifier {
            addr,
            shown: socket.to_owned(),
        })
    }

    /// Sends one notification: `state` is newline-separated `KEY=VALUE`
    /// lines such as `READY=1\nSTATUS=...`.
    ///
    /// # Errors
    /// The datagram could not be sent (no listener, permission denied).
    pub fn send(&self, state: &str) -> io::Result<()> {
        // An unbound socket per message: notifications are a handful per
        // run, and a fresh socket has no state to go stale across them.
        let sock = UnixDatagram::unbound()?;
        let n = sock.send_to_addr(state.as_bytes(), &self.addr)?;
        if n != state.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short datagram"));
        }
        Ok(())
    }

    /// [`Notifier::send`], with a failure logged instead of returned.
    pub fn notify(&self, state: &str) {
        match self.send(state) {
            Ok(()) => {
                tracing::debug!(socket = %self.shown, state = %state.replace('\n', " "), "notified systemd")
            }
            Err(e) => tracing::warn!(socket = %self.shown, "cannot notify systemd ({e}); going on"),
        }
    }
}

/// `STATUS=` text: one line (systemd shows it in `systemctl status`), so any
/// newline in `status` becomes a space.
pub fn status_line(status: &str) -> String {
    status.replace(['\n', '\r'], " ")
}

/// The message that says the daemon is ready, with a status line.
pub fn ready_message(status: &str) -> String {
    format!("READY=1\nSTATUS={}", status_line(status))
}

/// The message that says the daemon is stopping, with a status line.
pub fn stopping_message(status: &str) -> String {
    format!("STOPPING=1\nSTATUS={}", status_line(status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("switchd-notify-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn recv(sock: &UnixDatagram) -> String {
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 4096];
        let n = sock.recv(&mut buf).expect("a notification");
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn sends_to_a_path_socket() {
        let dir = temp_dir("path");
        let path = dir.join("notify.sock");
        let listener = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::new(path.to_str().unwrap()).unwrap();
        n.send(&ready_message("2 bridges\nrestored")).unwrap();
        assert_eq!(recv(&listener), "READY=1\nSTATUS=2 bridges restored");
        n.send(&stopping_message("shutting down")).unwrap();
        assert_eq!(recv(&listener), "STOPPING=1\nSTATUS=shutting down");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sends_to_an_abstract_socket() {
        let name = format!("switchd-notify-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&addr).unwrap();
        let n = Notifier::new(&format!("@{name}")).unwrap();
        n.send("READY=1").unwrap();
        assert_eq!(recv(&listener), "READY=1");
    }

    #[test]
    fn a_missing_listener_is_an_error_that_notify_only_logs() {
        let dir = temp_dir("missing");
        let n = Notifier::new(dir.join("nobody.sock").to_str().unwrap()).unwrap();
        assert!(n.send("READY=1").is_err());
        // Logged, not returned, and no panic.
        n.notify("READY=1");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unset_empty_and_unusable_values_mean_no_notifier() {
        use std::ffi::OsStr;
        assert!(Notifier::from_value(None).is_none());
        assert!(Notifier::from_value(Some(OsStr::new(""))).is_none());
        assert!(Notifier::from_value(Some(OsStr::new("/a\0b"))).is_none());
        assert!(Notifier::from_value(Some(OsStr::new("/run/systemd/notify"))).is_some());
        assert!(Notifier::from_value(Some(OsStr::new("@/org/freedesktop/systemd1/notify/1"))).is_some());
    }

    #[test]
    fn bad_addresses_are_refused() {
        assert!(Notifier::new(&format!("/{}", "x".repeat(200))).is_err());
        assert!(
            Notifier::new("@a\0b").is_ok(),
            "abstract names may hold NUL bytes"
        );
        assert!(Notifier::new("/a\0b").is_err());
    }
}

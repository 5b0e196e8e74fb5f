//! The daemon's top level: start the engine from the db, serve the control
//! socket, stop on a signal. Kept out of `lib.rs` so that the crate root
//! imports nothing and every module can use `crate::PortId` without a
//! cycle through the root.

use std::net::SocketAddr;
use std::path::PathBuf;

/// What `switchd` was started with (see `switchd --help`).
#[derive(Debug, Clone)]
pub struct Options {
    /// Control socket path.
    pub socket: PathBuf,
    /// Group allowed to use the control socket (mode 0660 instead of 0600).
    pub socket_group: Option<String>,
    /// Configuration db path.
    pub db: PathBuf,
    /// Move TAP frames with io_uring batches when the kernel allows it
    /// (`false`: one syscall per frame, `switchd --no-io-uring`).
    pub io_uring: bool,
    /// Where to serve Prometheus metrics (`switchd --metrics ADDR:PORT`);
    /// `None`: no metrics server.
    pub metrics: Option<SocketAddr>,
}

/// Runs the daemon until SIGTERM or SIGINT: restores the configuration,
/// opens every port, then serves the control socket (and the metrics
/// endpoint, with `--metrics`). On a signal it closes every port and
/// removes the socket file. SIGUSR2 (like `switchctl restart`) restarts in
/// place (SPEC §13); a process started that way takes over the fds its
/// previous image handed over.
pub fn run(opts: &Options) -> anyhow::Result<()> {
    use anyhow::Context;
    use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR2};

    // Registered first, so a signal that arrives during start-up is not lost.
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGUSR2])
        .context("cannot install signal handlers")?;
    // Read before any thread starts; `None` outside a Type=notify unit.
    let systemd = crate::notify::Notifier::from_env();
    // Before anything can replace the file (a package upgrade).
    let image = crate::handover::Image::current().context("cannot tell which binary this is")?;
    let mut inherited = match crate::handover::Inherited::from_env() {
        None => None,
        Some(Ok(i)) => {
            tracing::info!(from = %i.old_version, "restarted in place; taking over the ports");
            Some(i)
        }
        Some(Err(e)) => {
            tracing::error!(
                "restarted in place, but the handover cannot be used ({e}); opening every port anew"
            );
            None
        }
    };
    let inherited_control = inherited.as_mut().and_then(|i| i.control.take());
    let restart_client = inherited.as_mut().and_then(|i| i.client.take());
    let db = crate::config::load(&opts.db)?;
    // Bound before any port is opened: a taken or wrong address is a
    // start-up error, and nothing has to be undone for it.
    let metrics = opts.metrics.map(crate::metrics::bind).transpose()?;
    let tap_io = if opts.io_uring {
        crate::port::tap::TapIo::Auto
    } else {
        crate::port::tap::TapIo::Syscalls
    };
    let stopped_at = inherited.as_ref().map(|i| i.stopped_at_ns);
    let (engine, engine_thread, takeover) =
        crate::engine::start(&db, crate::port::Devices::Host(tap_io), inherited)
            .context("cannot start the forwarding engine")?;
    let paused_ms = stopped_at.map(crate::handover::ms_since);
    if let (Some(t), Some(ms)) = (takeover, paused_ms) {
        tracing::info!(
            ports_handed_over = t.ports_handed_over,
            ports_reopened = t.ports_reopened,
            endpoints = t.endpoints_handed_over,
            "forwarding again {ms} ms after the previous image stopped"
        );
    }
    // The socket appears only once every stored port has been re-opened, so
    // a client that sees it talks to a fully restored switch. After an
    // in-place restart it never went away: clients waited in its backlog.
    let adopted = inherited_control.and_then(|fd| crate::control::adopt(fd, &opts.socket));
    let listener = match adopted.map_or_else(
        || crate::control::bind(&opts.socket, opts.socket_group.as_deref()),
        Ok,
    ) {
        Ok(l) => l,
        Err(e) => {
            engine.shutdown();
            let _ = engine_thread.join();
            return Err(e.into());
        }
    };
    let restarter = std::sync::Arc::new(crate::control::Restarter::new(image, engine.clone(), &listener));
    crate::control::serve(
        listener,
        engine.clone(),
        opts.db.clone(),
        std::sync::Arc::clone(&restarter),
    )
    .context("cannot start the control thread")?;
    if let Some(client) = restart_client {
        let t = takeover.unwrap_or_default();
        let info = proto::RestartInfo {
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            pause_ms: paused_ms.unwrap_or(0),
            ports_handed_over: t.ports_handed_over,
            ports_reopened: t.ports_reopened,
            endpoints_handed_over: t.endpoints_handed_over,
        };
        let mut conn = std::os::unix::net::UnixStream::from(client);
        let _ = conn.set_write_timeout(Some(std::time::Duration::from_secs(10)));
        let _ = proto::codec::write_reply(&mut conn, &Ok(proto::Reply::Restarted(info)));
    }
    if let Some(listener) = metrics {
        // The address actually bound (it differs from the one asked for
        // with port 0).
        let addr = listener
            .local_addr()
            .map_or_else(|e| e.to_string(), |a| a.to_string());
        crate::metrics::serve(listener, engine.clone()).context("cannot start the metrics threads")?;
        tracing::info!(%addr, "serving Prometheus metrics at http://{addr}/metrics");
    }
    tracing::info!(socket = %opts.socket.display(), db = %opts.db.display(), "switchd ready");
    // Ready only now: the db is restored, every port re-opened, and the
    // control thread accepts on the socket, so a unit ordered after
    // switchd.service can run switchctl at once.
    if let Some(n) = &systemd {
        let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let ports = db.bridges.iter().map(|b| b.ports.len()).sum();
        let status = format!(
            "{}, {} restored; control socket {}",
            count(db.bridges.len(), "bridge"),
            count(ports, "port"),
            opts.socket.display()
        );
        n.notify(&crate::notify::ready_message(&status));
    }
    let mut signal = None;
    for s in signals.forever() {
        if s == SIGUSR2 {
            // Returns only when the restart was refused or failed.
            let why = restarter.run(None);
            tracing::error!("restart (SIGUSR2) refused: {why}");
            continue;
        }
        signal = Some(s);
        break;
    }
    tracing::info!(?signal, "shutting down");
    if let Some(n) = &systemd {
        n.notify(&crate::notify::stopping_message("closing ports"));
    }
    engine.shutdown();
    let _ = engine_thread.join();
    let _ = std::fs::remove_file(&opts.socket);
    Ok(())
}

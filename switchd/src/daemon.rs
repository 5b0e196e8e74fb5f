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
/// removes the socket file.
pub fn run(opts: &Options) -> anyhow::Result<()> {
    use anyhow::Context;
    use signal_hook::consts::{SIGINT, SIGTERM};

    // Registered first, so a signal that arrives during start-up is not lost.
    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM, SIGINT]).context("cannot install signal handlers")?;
    // Read before any thread starts; `None` outside a Type=notify unit.
    let systemd = crate::notify::Notifier::from_env();
    let db = crate::config::load(&opts.db)?;
    // Bound before any port is opened: a taken or wrong address is a
    // start-up error, and nothing has to be undone for it.
    let metrics = opts.metrics.map(crate::metrics::bind).transpose()?;
    let tap_io = if opts.io_uring {
        crate::port::tap::TapIo::Auto
    } else {
        crate::port::tap::TapIo::Syscalls
    };
    let (engine, engine_thread) = crate::engine::start(&db, crate::port::Devices::Host(tap_io))
        .context("cannot start the forwarding engine")?;
    // The socket appears only once every stored port has been re-opened, so
    // a client that sees it talks to a fully restored switch.
    let listener = match crate::control::bind(&opts.socket, opts.socket_group.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            engine.shutdown();
            let _ = engine_thread.join();
            return Err(e.into());
        }
    };
    crate::control::serve(listener, engine.clone(), opts.db.clone())
        .context("cannot start the control thread")?;
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
    let signal = signals.forever().next();
    tracing::info!(?signal, "shutting down");
    if let Some(n) = &systemd {
        n.notify(&crate::notify::stopping_message("closing ports"));
    }
    engine.shutdown();
    let _ = engine_thread.join();
    let _ = std::fs::remove_file(&opts.socket);
    Ok(())
}

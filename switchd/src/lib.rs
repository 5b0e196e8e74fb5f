//! switchd: a userspace virtual L2 switch.
//!
//! Layout, from the wire up:
//! - [`wire`]: byte-level views of Ethernet/802.1Q, VXLAN and GRE headers (no I/O, no state);
//! - [`vlan`]: SPEC §4 port VLAN rules (ingress classification, egress encoding);
//! - [`fdb`]: the MAC learning table with ageing and fair eviction;
//! - [`pipeline`]: the pure per-frame decision (parse → VLAN classify → learn → decide → egress);
//! - [`offload`]: virtio-net headers, checksum completion and software segmentation;
//! - [`stats`]: drop reasons and per-port counters;
//! - [`port`]: one file per port kind, all `unsafe` in `port/sys.rs`;
//! - [`engine`]: owns every bridge, port and table; the mio poll loop;
//! - [`control`]: the Unix-socket server that talks to the engine over a channel;
//! - [`config`]: the persistent db.

pub mod config;
pub mod control;
pub mod engine;
pub mod fdb;
pub mod offload;
pub mod pipeline;
pub mod port;
pub mod rstp;
pub mod stats;
pub mod vlan;
pub mod wire;

/// Index of a port inside the engine (its slot; also its mio token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortId(pub u32);

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
}

/// Runs the daemon until SIGTERM or SIGINT: restores the configuration,
/// opens every port, then serves the control socket. On a signal it closes
/// every port and removes the socket file.
pub fn run(opts: &Options) -> anyhow::Result<()> {
    use anyhow::Context;
    use signal_hook::consts::{SIGINT, SIGTERM};

    // Registered first, so a signal that arrives during start-up is not lost.
    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM, SIGINT]).context("cannot install signal handlers")?;
    let db = config::load(&opts.db)?;
    let tap_io = if opts.io_uring {
        port::tap::TapIo::Auto
    } else {
        port::tap::TapIo::Syscalls
    };
    let (engine, engine_thread) = engine::start(&db, tap_io).context("cannot start the forwarding engine")?;
    // The socket appears only once every stored port has been re-opened, so
    // a client that sees it talks to a fully restored switch.
    let listener = match control::bind(&opts.socket, opts.socket_group.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            engine.shutdown();
            let _ = engine_thread.join();
            return Err(e.into());
        }
    };
    control::serve(listener, engine.clone(), opts.db.clone()).context("cannot start the control thread")?;
    tracing::info!(socket = %opts.socket.display(), db = %opts.db.display(), "switchd ready");
    let signal = signals.forever().next();
    tracing::info!(?signal, "shutting down");
    engine.shutdown();
    let _ = engine_thread.join();
    let _ = std::fs::remove_file(&opts.socket);
    Ok(())
}

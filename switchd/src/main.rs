//! `switchd`: the daemon's command line; everything else lives in the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Userspace virtual L2 switch: bridges with MAC learning, 802.1Q VLANs,
/// TAP / AF_PACKET / VXLAN / GRE / Unix-socket ports, driven by `switchctl`
/// over a Unix socket.
#[derive(Debug, Parser)]
#[command(name = "switchd", version)]
struct Args {
    /// Control socket (created mode 0600, or 0660 with --socket-group).
    #[arg(long, value_name = "PATH", default_value = proto::DEFAULT_SOCKET)]
    socket: PathBuf,
    /// Group whose members may use the control socket (name or number).
    #[arg(long, value_name = "GROUP")]
    socket_group: Option<String>,
    /// Configuration db: every change is written here atomically before the reply, and restored at start.
    #[arg(long, value_name = "PATH", default_value = switchd::config::DEFAULT_DB)]
    db: PathBuf,
    /// Log verbosity (error, warn, info, debug, trace), or a tracing filter; logs go to stderr.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    log_level: String,
    /// Move TAP frames one read/writev syscall each instead of in io_uring batches
    /// (io_uring is used only where the kernel allows it; this turns it off).
    #[arg(long)]
    no_io_uring: bool,
    /// Serve Prometheus metrics at http://ADDR:PORT/metrics (e.g. 127.0.0.1:9477, [::1]:9477,
    /// 0.0.0.0:9477 for every address). Read-only; anyone who can connect can read them.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_metrics_addr)]
    metrics: Option<SocketAddr>,
}

/// `--metrics`: an IP address and a port (no host names: the daemon should
/// not depend on name resolution at start-up, and binding a name that
/// resolves to several addresses would be ambiguous).
fn parse_metrics_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not ADDR:PORT with an IP address, e.g. 127.0.0.1:9477 or [::1]:9477"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = match tracing_subscriber::EnvFilter::try_new(&args.log_level) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("switchd: --log-level {:?}: {e}", args.log_level);
            return ExitCode::from(2);
        }
    };
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
    let opts = switchd::daemon::Options {
        socket: args.socket,
        socket_group: args.socket_group,
        db: args.db,
        io_uring: !args.no_io_uring,
        metrics: args.metrics,
    };
    match switchd::daemon::run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

//! `switchd`: the daemon's command line; everything else lives in the library.
//!
//! Two hidden flags serve packaging: `--generate-man DIR` writes `switchd.8`
//! and `--generate-completion SHELL` prints a completion script, both from
//! the clap definition below, so the installed page never drifts from
//! `--help` (switchctl has the same as `switchctl man` / `completion`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use clap_mangen::roff::{bold, roman, Roff};

/// Userspace virtual L2 switch: bridges with MAC learning, 802.1Q VLANs,
/// TAP / AF_PACKET / VXLAN / GRE / Unix-socket ports, driven by `switchctl`
/// over a Unix socket.
#[derive(Debug, Parser)]
#[command(
    name = "switchd",
    version,
    after_help = "Signals: SIGTERM and SIGINT close every port and exit. SIGUSR2 restarts in place, as \
                  `switchctl restart` does: the switchd binary on disk now replaces this one in the same \
                  process and takes over every open port (if its check fails, this one goes on and logs why)."
)]
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
    /// Write the man page switchd.8 into DIR and exit (for packaging).
    #[arg(long, value_name = "DIR", hide = true)]
    generate_man: Option<PathBuf>,
    /// Print the completion script for SHELL (bash, zsh, fish, ...) and exit (for packaging).
    #[arg(long, value_name = "SHELL", hide = true)]
    generate_completion: Option<clap_complete::Shell>,
    /// Check that this binary can take over from a running switchd that
    /// writes handover FORMAT (it reads the db), then exit: what an
    /// in-place restart runs before it replaces the running image.
    #[arg(long, value_name = "FORMAT", hide = true)]
    restart_check: Option<u32>,
}

/// `--metrics`: an IP address and a port (no host names: the daemon should
/// not depend on name resolution at start-up, and binding a name that
/// resolves to several addresses would be ambiguous).
fn parse_metrics_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not ADDR:PORT with an IP address, e.g. 127.0.0.1:9477 or [::1]:9477"))
}

/// `--generate-man DIR`: clap_mangen's page plus the sections `--help` has
/// no room for (signals, environment, files).
fn generate_man(dir: &Path) -> std::io::Result<PathBuf> {
    let cmd = Args::command();
    let version = cmd.get_version().unwrap_or_default().to_owned();
    let man = clap_mangen::Man::new(cmd)
        .section("8")
        .source(format!("switchd {version}"))
        .manual("switchd");
    let mut page = Vec::new();
    man.render(&mut page)?;
    let mut extra = Roff::new();
    extra
        .control("SH", ["SIGNALS"])
        .text([roman(
            "SIGTERM and SIGINT close every port, remove the control socket and exit 0. \
             SIGUSR2 restarts in place, as switchctl restart does: the switchd binary on disk now \
             replaces the running one in the same process and takes over every open port; if its \
             check fails, the running one goes on and logs why.",
        )])
        .control("SH", ["ENVIRONMENT"])
        .control("TP", [])
        .text([bold("NOTIFY_SOCKET")])
        .text([roman(
            "Set by systemd for Type=notify units: switchd sends READY=1 once the db is restored \
             and the control socket answers, and STOPPING=1 when it shuts down.",
        )])
        .control("TP", [])
        .text([bold(switchd::handover::ENV)])
        .text([roman(
            "Set by switchd itself for the image that replaces it on an in-place restart; not for users.",
        )])
        .control("SH", ["FILES"])
        .control("TP", [])
        .text([bold(proto::DEFAULT_SOCKET)])
        .text([roman("The control socket (--socket).")])
        .control("TP", [])
        .text([bold(switchd::config::DEFAULT_DB)])
        .text([roman("The configuration db (--db).")])
        .control("SH", ["SEE ALSO"])
        .text([
            bold("switchctl"),
            roman("(8), "),
            bold("systemd.service"),
            roman("(5)"),
        ]);
    extra.to_writer(&mut page)?;
    std::fs::create_dir_all(dir)?;
    let path = dir.join("switchd.8");
    std::fs::write(&path, page)?;
    Ok(path)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(dir) = &args.generate_man {
        return match generate_man(dir) {
            Ok(path) => {
                println!("{}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("switchd: --generate-man {}: {e}", dir.display());
                ExitCode::FAILURE
            }
        };
    }
    if let Some(shell) = args.generate_completion {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Args::command(), "switchd", &mut script);
        let _ = std::io::stdout().lock().write_all(&script);
        return ExitCode::SUCCESS;
    }
    if let Some(format) = args.restart_check {
        return match switchd::handover::check_mode(&args.db, format) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("switchd {}: {e}", env!("CARGO_PKG_VERSION"));
                ExitCode::FAILURE
            }
        };
    }
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

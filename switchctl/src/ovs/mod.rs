//! The `ovs-vsctl` face of switchctl (issue 18): the subset of Open
//! vSwitch's `ovs-vsctl` that KVM recipes, qemu-ifup scripts and libvirt
//! use, translated into switchd's requests. Chosen when switchctl runs as
//! `ovs-vsctl` (a symlink) or as `switchctl ovs-vsctl ...`.
//!
//! # How a command line runs
//!
//! [`args`] reads the options and the `--`-separated commands as OVS does;
//! one `show` gives switchd's state; [`plan`] checks every command against
//! it (as the earlier commands of the line leave it) and turns the line
//! into requests and reads, folding consecutive changes of one port, bridge
//! or `external_ids` into one request; then the steps run in order, each
//! read against switchd's state at that point ([`read`], [`format`]).
//! Output is printed once everything succeeded. Any failure is one line
//! `ovs-vsctl: <reason>` on stderr and exit status 1; `br-exists` of a
//! missing bridge exits 2, sending nothing.
//!
//! OVS runs a line as one transaction. switchd has none, so: a bad word
//! anywhere (command, option, table, column, key, value, a configuration
//! switchd would refuse) changes nothing, because everything is checked
//! first; but if switchd refuses a request at run time (a device error, a
//! concurrent change), what the line changed before stays changed.
//!
//! # Commands
//!
//! `init`, `show`, `comment`; `add-br`, `del-br`, `list-br`, `br-exists`,
//! `br-to-vlan`, `br-to-parent`, `br-set-external-id`,
//! `br-get-external-id`; `add-port`, `add-bond`, `del-port`, `list-ports`,
//! `port-to-br`, `list-ifaces`, `iface-to-br`; `set-controller`,
//! `del-controller`, `get-controller`, `set-fail-mode`, `get-fail-mode`,
//! `del-fail-mode`; and the database commands `get`, `list`, `find` (`=`
//! and `!=` only), `set`, `add`, `remove`, `clear`. The other commands of
//! OVS 3.1 (managers, SSL, Auto Attach, conntrack zones, `emer-reset`,
//! `create`, `destroy`, `wait-until`, `add-bond-iface`, `del-bond-iface`)
//! are refused by name.
//!
//! # Choices (what the README should say)
//!
//! - Tables: `Bridge`, `Port`, `Interface`, and `Open_vSwitch` to read
//!   (`bridges`, `ovs_version`). Names and columns match as in OVS:
//!   case-insensitive, `-` = `_`, unique prefixes; so libvirt's `trunk`
//!   (in `trunk=10,20` and `clear Port vnet0 trunk`) means `trunks`, as it
//!   does for OVS. The columns are those of [`schema`]; the mapping to
//!   switchd's keys is in [`columns`]. Any other table, column, map key or
//!   command is refused naming it.
//! - `add-port` always adds the port even if its device does not exist yet
//!   (down, `no such device`, attached when it appears), as OVS does. Its
//!   `COLUMN=VALUE`s are Port columns as in OVS (so `external_ids` there is
//!   the Port's), and, beyond OVS, also the Interface columns of the port's
//!   interface (`type=`, `options:`, `ofport_request=`, `mtu_request=`,
//!   `ingress_policing_*`). `add-bond` takes Port columns only. An
//!   `add-port` whose device is missing succeeds silently (OVS, waiting
//!   for ovs-vswitchd, adds the port too but says "Error detected while
//!   setting up" and exits 65); `show` and the `error` column say why the
//!   port is down.
//! - `type=internal` makes a switchd `tap` port (a host endpoint switchd
//!   creates); a `tap` port reads back as `internal`. `add-br BR` also
//!   adds the bridge's local port, an internal port named BR, as OVS does
//!   (`list-ports` leaves it out, as OVS's does). `stream`/`dgram` ports show as
//!   their own types and cannot be made here.
//! - `stp_enable=false` is accepted (nothing to do); `stp_enable=true` is
//!   refused: switchd runs RSTP, which also speaks STP to STP bridges
//!   (`rstp_enable=true`).
//! - switchd has no fake (VLAN) bridges: `add-br BR PARENT VLAN` is
//!   refused, `br-to-vlan` prints 0 and `br-to-parent` the bridge, and no
//!   bridge has a local port named after it.
//! - `fail_mode` is always the mode in force (`get-fail-mode` prints
//!   `standalone` rather than nothing; `del-fail-mode` sets standalone).
//! - `show`: the first line is a UUID derived from the first bridge's
//!   datapath id; `error:` carries switchd's reason for a port that is
//!   down; `ovs_version` is `switchd <version>`. UUIDs in `list` and `get`
//!   are made up from table and name, stable across runs.
//! - Options: `--timeout`/`-t`, `--oneline`, `--dry-run` (checks, sends no
//!   change; reads then see switchd's unchanged state), `--retry` (waits
//!   for switchd's socket until `--timeout`), `--format=list|table|csv|json`,
//!   `--data=string|bare|json`, `--no-headings`, `--bare`,
//!   `--max-column-width` work; `--no-wait`, `-v`/`--verbose`,
//!   `--no-syslog`, `--log-file` and the cluster options are accepted and
//!   ignored (switchd applies a change before it replies, there is nothing
//!   to wait for); `--db=unix:PATH` names switchd's control socket (else
//!   `$SWITCHD_SOCKET`, else the default), other `--db` forms, SSL options,
//!   `--pretty`, `--format=html`, `--id=@name`, `--fake-iface` and
//!   `--inactivity-probe` are refused.

mod args;
mod columns;
mod datum;
mod db;
mod format;
mod plan;
mod read;
mod schema;

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use proto::{BridgeInfo, PortStats, Reply, Request};

use crate::client::{self, ClientError};
use crate::ovs::args::{Globals, Parsed};
use crate::ovs::db::Snapshot;
use crate::ovs::plan::{Outcome, Step};
use crate::ovs::read::Output;

/// Runs one `ovs-vsctl` command line (`args[0]` is the program name).
pub fn run(args: Vec<OsString>) -> ExitCode {
    let args: Vec<String> = match args.into_iter().map(OsString::into_string).collect() {
        Ok(a) => a,
        Err(bad) => return fail(&format!("argument {bad:?} is not valid UTF-8")),
    };
    match args::parse(&args) {
        Err(e) => fail(&e),
        Ok(Parsed::Help) => print(&args::usage("ovs-vsctl")),
        Ok(Parsed::Version) => print(&format!("ovs-vsctl (switchd) {}\n", env!("CARGO_PKG_VERSION"))),
        Ok(Parsed::Run(g, commands)) => match execute(&g, &commands) {
            Ok((text, code)) => match print(&text) {
                c if c == ExitCode::SUCCESS => code,
                c => c,
            },
            Err(e) => fail(&e),
        },
    }
}

/// One line on stderr, status 1.
fn fail(reason: &str) -> ExitCode {
    let reason = reason.replace(['\n', '\r'], " ");
    let _ = writeln!(io::stderr().lock(), "ovs-vsctl: {reason}");
    ExitCode::FAILURE
}

fn print(text: &str) -> ExitCode {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // `ovs-vsctl list-br | head`: the reader has what it wanted.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(&format!("cannot write output: {}", client::io_reason(&e))),
    }
}

/// The connection to switchd: its socket and the line's deadline.
struct Conn {
    socket: PathBuf,
    /// `--timeout`: when it ends, and the seconds given.
    deadline: Option<(Instant, u32)>,
    retry: bool,
}

impl Conn {
    fn new(g: &Globals) -> Conn {
        let socket = g.socket.clone().unwrap_or_else(client::env_socket);
        Conn {
            socket,
            deadline: g
                .timeout
                .map(|s| (Instant::now() + Duration::from_secs(u64::from(s)), s)),
            retry: g.retry,
        }
    }

    /// One exchange within what is left of the deadline. With `--retry`, a
    /// socket that is not there yet (or refuses) is tried again every
    /// 100 ms: the request was not sent, so that is safe.
    fn call(&self, req: &Request) -> Result<Reply, String> {
        let timeout = |secs: u32| format!("no reply from switchd within {secs} s");
        loop {
            let left = match self.deadline {
                Some((at, secs)) => {
                    let left = at.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(timeout(secs));
                    }
                    Some(left)
                }
                None => None,
            };
            match client::call(&self.socket, req, left) {
                Ok(reply) => return reply.map_err(|e| e.message),
                Err(ClientError::Connect { source, .. })
                    if self.retry
                        && matches!(
                            source.kind(),
                            io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                        ) =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(ClientError::Timeout { .. }) => {
                    return Err(timeout(self.deadline.map_or(0, |(_, s)| s)));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    fn show(&self) -> Result<Vec<BridgeInfo>, String> {
        match self.call(&Request::Show)? {
            Reply::Show(b) => Ok(b),
            other => Err(format!("unexpected reply from switchd to show: {other:?}")),
        }
    }

    fn stats(&self) -> Result<Vec<PortStats>, String> {
        match self.call(&Request::PortStats { bridge: None })? {
            Reply::Stats(s) => Ok(s),
            other => Err(format!("unexpected reply from switchd to port-stats: {other:?}")),
        }
    }
}

/// Plans and runs the commands; returns what to print and the status.
fn execute(g: &Globals, commands: &[args::Command]) -> Result<(String, ExitCode), String> {
    let conn = Conn::new(g);
    let bridges = conn.show()?;
    let plan = match plan::plan(commands, bridges.clone())? {
        Outcome::Exit(code) => return Ok((String::new(), ExitCode::from(code))),
        Outcome::Run(p) => p,
    };
    let mut snap = Snapshot {
        bridges,
        stats: Vec::new(),
    };
    let (mut changed, mut have_stats) = (false, false);
    let mut outputs = Vec::new();
    for step in plan.steps {
        match step {
            Step::Send(_) if g.dry_run => {}
            Step::Send(req) => {
                conn.call(&req)?;
                changed = true;
            }
            Step::Read(r) => {
                if changed {
                    snap.bridges = conn.show()?;
                    (changed, have_stats) = (false, false);
                }
                if r.needs_stats() && !have_stats {
                    snap.stats = conn.stats()?;
                    have_stats = true;
                }
                outputs.push(r.run(&snap)?);
            }
        }
    }
    let mut text = String::new();
    let mut first_table = true;
    let mut outputs = outputs.into_iter();
    for prints in plan.prints {
        match prints.then(|| outputs.next()).flatten() {
            Some(Output::Table(t)) => text.push_str(&format::table(&t, &g.style, &mut first_table)),
            Some(Output::Text(t)) if g.oneline => text.push_str(&format::oneline(&t)),
            Some(Output::Text(t)) => text.push_str(&t),
            None if g.oneline => text.push('\n'),
            None => {}
        }
    }
    Ok((text, ExitCode::SUCCESS))
}

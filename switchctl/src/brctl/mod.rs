//! The `brctl` face of switchctl (issue 18): bridge-utils 1.7's `brctl`
//! commands translated into switchd's requests, with brctl's messages and
//! output layouts. Chosen when switchctl runs as `brctl` (a symlink) or as
//! `switchctl brctl ...`. It talks to the daemon at `$SWITCHD_SOCKET`, else
//! `/run/switchd/switchd.sock`, with a 30 s timeout.
//!
//! | brctl                        | switchd                                          |
//! |------------------------------|--------------------------------------------------|
//! | `addbr BR`                   | `add-br BR`                                      |
//! | `delbr BR`                   | `del-br BR` (with its ports)                     |
//! | `addif BR IF...`             | `add-port BR IF type=system`, one by one         |
//! | `delif BR IF...`             | `del-port BR IF`, one by one                     |
//! | `show [BR...]`               | `show`                                           |
//! | `showmacs BR`                | `fdb-show BR`, port numbers from `show`          |
//! | `showstp BR`                 | `show`, and `rstp-show` when RSTP is on          |
//! | `stp BR on\|off`             | `set bridge BR rstp=true\|false`                 |
//! | `setageing BR SECS`          | `mac_aging=SECS` (rounded)                       |
//! | `setfd BR SECS`              | `rstp_forward_delay=SECS` (rounded)              |
//! | `setmaxage BR SECS`          | `rstp_max_age=SECS` (rounded)                    |
//! | `sethello BR 2`              | nothing: the hello time is fixed at 2 s          |
//! | `setbridgeprio BR PRIO`      | `rstp_priority=PRIO` (a multiple of 4096)        |
//! | `setpathcost BR PORT COST`   | `set port PORT rstp_path_cost=COST`              |
//! | `setportprio BR PORT PRIO`   | `set port PORT rstp_port_priority=PRIO*4`        |
//! | `hairpin BR PORT off`        | nothing: no port ever hairpins                   |
//!
//! Refused, changing nothing, with one line saying why: `sethello` to
//! anything but 2 s, `hairpin ... on`, priorities RSTP cannot take (the
//! line names the nearest valid values), values out of switchd's ranges
//! (in switchd's words, as switchctl says them), extra arguments (brctl
//! ignores them), and `setgcint` (not in brctl 1.7; MAC entries age on
//! their own).
//!
//! Choices, where switchd is not the kernel bridge:
//!
//! - **Spanning tree.** `stp BR on` runs RSTP (802.1D-2004), which falls
//!   back to 802.1D STP on a port whose neighbour speaks STP, so it agrees
//!   with kernel bridges running `stp on`; `showstp` prints RSTP's state in
//!   the kernel's words (discarding is `blocking`).
//! - **Whole seconds.** brctl takes fractional seconds; switchd's timers
//!   are whole seconds, so values are rounded to the nearest (and a
//!   refusal says what the value rounded to).
//! - **Port priority scale.** brctl's `setportprio` is the kernel's 802.1D
//!   port priority, 0-63 with 32 the default; RSTP's is 0-240 in steps of
//!   16 with 128 the default. brctl's value is taken on its own scale and
//!   multiplied by 4, so scripts keep their meaning (32 stays the
//!   default); it must then be a multiple of 4.
//! - **No up/down.** switchd's bridges have no administrative state, so
//!   `delbr` never says "is still up": it deletes the bridge and its ports,
//!   as the kernel does for a bridge that is down.
//! - **Order and numbers.** Bridges and interfaces are listed by name, as
//!   brctl does (it scans sysfs in `alphasort` order); port numbers are
//!   OpenFlow port numbers (see `layout`).
//! - **Errors.** Exit status 1 with one line on stderr and nothing on
//!   stdout, in brctl's words (`interface eth9 does not exist!`), or
//!   brctl's prefix with switchd's reason where brctl would print only an
//!   errno (`set ageing time failed: mac_aging: 0 is out of range
//!   1-86400`). No daemon is brctl's `can't setup bridge control: ...`.
//!   `show` of several bridges reports each missing one and shows the
//!   rest, as brctl. An empty command line prints the usage with status
//!   1, as brctl; `--help`, `-h` and `help` print it with status 0.
//!
//! Layout: [`cmdline`] reads the command line (pure), [`exec`] turns it
//! into requests and refusals into brctl's words, [`layout`] prints
//! brctl's tables (pure).

mod cmdline;
mod exec;
mod layout;

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use cmdline::Parsed;

/// How long one exchange with the daemon may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Runs one `brctl` command line (`args[0]` is the program name).
pub fn run(args: Vec<OsString>) -> ExitCode {
    let outcome = match utf8(args) {
        Err(line) => exec::Outcome::refused(line),
        Ok(args) => match cmdline::parse(&args) {
            Parsed::Usage { asked } => exec::Outcome {
                stdout: cmdline::usage(),
                stderr: Vec::new(),
                ok: asked,
            },
            Parsed::Version => exec::Outcome::printed(cmdline::version()),
            Parsed::Refused(line) => exec::Outcome::refused(line),
            Parsed::Run(cmd) => {
                let socket = crate::client::env_socket();
                exec::execute(&cmd, &mut |req: &proto::Request| {
                    crate::client::call(&socket, req, Some(TIMEOUT))
                })
            }
        },
    };
    print(&outcome)
}

/// The arguments as text: switchd's names and values are JSON strings, so
/// a word that is not UTF-8 cannot name anything.
fn utf8(args: Vec<OsString>) -> Result<Vec<String>, String> {
    args.into_iter()
        .map(|a| {
            a.into_string()
                .map_err(|a| format!("argument {:?} is not valid UTF-8", a.to_string_lossy()))
        })
        .collect()
}

fn print(outcome: &exec::Outcome) -> ExitCode {
    let mut stdout = io::stdout().lock();
    let written = stdout
        .write_all(outcome.stdout.as_bytes())
        .and_then(|()| stdout.flush());
    let mut ok = outcome.ok;
    let mut stderr = io::stderr().lock();
    match written {
        // `brctl showmacs br0 | head`: the reader has what it wanted.
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            let _ = writeln!(
                stderr,
                "brctl: cannot write output: {}",
                crate::client::io_reason(&e)
            );
            ok = false;
        }
    }
    for line in &outcome.stderr {
        let _ = writeln!(stderr, "{line}");
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

//! `switchctl`: the command-line client of `switchd` (SPEC §5).
//!
//! Thin on purpose: [`cli`] turns the command line into one request, [`client`]
//! exchanges it with the daemon, [`output`] prints the reply. `capture` is the
//! one command that goes on after the reply: [`capture`] streams the frames
//! into a pcap file ([`pcap`]). The hidden `completion` and `man` commands
//! ([`gen`]) print shell completions and man pages for packaging. Exit status 0 on
//! success; any failure is one line `switchctl: <reason>` on stderr and status
//! 1, or 2 for a command line that does not parse. Nothing goes to stdout on failure,
//! also with `--json`.

mod brctl;
mod capture;
mod cli;
mod client;
mod gen;
mod input;
mod output;
mod ovs;
mod pcap;

use std::io::{self, Write};
use std::process::ExitCode;

/// Which command set a command line is in: switchctl's own, or the
/// `ovs-vsctl` / `brctl` face, chosen by the name switchctl was run as (a
/// symlink named `ovs-vsctl` or `brctl`) or by a first word `ovs-vsctl` /
/// `brctl`. The face gets the command line with its own name first.
fn face(args: &[std::ffi::OsString]) -> Option<(&'static str, Vec<std::ffi::OsString>)> {
    let called = args
        .first()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    for name in ["ovs-vsctl", "brctl"] {
        if called == name {
            return Some((name, args.to_vec()));
        }
        if args.get(1).is_some_and(|a| a == name) {
            return Some((name, args[1..].to_vec()));
        }
    }
    None
}

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    match face(&args) {
        Some(("ovs-vsctl", args)) => return ovs::run(args),
        Some((_, args)) => return brctl::run(args),
        None => {}
    }
    // Hidden `completion` / `man`, for packaging (see gen.rs).
    if let Some(code) = gen::run(&args) {
        return code;
    }
    let invocation = match cli::parse_request(args) {
        Ok(i) => i,
        Err(e) => return usage_error(e),
    };
    match run(invocation) {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            // One line whatever the daemon put in its message.
            let reason = reason.replace(['\n', '\r'], " ");
            let _ = writeln!(io::stderr().lock(), "switchctl: {reason}");
            ExitCode::FAILURE
        }
    }
}

/// `--help` and `--version` print as clap does; every other command-line
/// error becomes the same single `switchctl: <reason>` line as any other
/// failure (SPEC §5), with status 2 so scripts can tell usage from refusal.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => e.exit(),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!("switchctl: incomplete command line (see 'switchctl --help')");
        }
        _ => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid command line");
            let reason = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("switchctl: {reason} (see 'switchctl --help')");
        }
    }
    ExitCode::from(2)
}

fn run(inv: cli::Invocation) -> Result<(), String> {
    if let Some(args) = inv.capture {
        return capture::run(&inv.socket, inv.timeout, inv.request, args);
    }
    // add-flows / replace-flows: the file is read before connecting, so a
    // missing file needs no daemon to be reported.
    let request = match &inv.text_source {
        Some(source) => {
            let text = input::read_text(source, io::stdin().lock())?;
            let request = input::with_text(inv.request, text);
            request.validate().map_err(|e| e.to_string())?;
            request
        }
        None => inv.request,
    };
    let reply = client::call(&inv.socket, &request, inv.timeout)
        .map_err(|e| e.to_string())?
        .map_err(|e| e.message)?;
    let text = if inv.json {
        output::json(&reply).map_err(|e| format!("cannot encode the reply as JSON: {e}"))?
    } else if let (true, proto::Reply::Meters(info)) = (inv.meter_stats, &reply) {
        output::meter_stats(info)
    } else {
        output::human_for(&request, &reply)
    };
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        // `switchctl fdb-show br0 | head`: the reader has what it wanted.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write output: {e}")),
    }
}

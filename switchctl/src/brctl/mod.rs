//! The `brctl` face of switchctl (issue 18): bridge-utils' `brctl`
//! commands translated into switchd's requests, with brctl's output
//! layout. Chosen when switchctl runs as `brctl` (a symlink) or as
//! `switchctl brctl ...`.

use std::ffi::OsString;
use std::process::ExitCode;

/// Runs one `brctl` command line (`args[0]` is the program name).
pub fn run(args: Vec<OsString>) -> ExitCode {
    let _ = args;
    eprintln!("brctl: not implemented yet");
    ExitCode::FAILURE
}

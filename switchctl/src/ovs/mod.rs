//! The `ovs-vsctl` face of switchctl (issue 18): the subset of Open
//! vSwitch's `ovs-vsctl` that KVM recipes, qemu-ifup scripts and libvirt
//! use, translated into switchd's requests. Chosen when switchctl runs as
//! `ovs-vsctl` (a symlink) or as `switchctl ovs-vsctl ...`.

use std::ffi::OsString;
use std::process::ExitCode;

/// Runs one `ovs-vsctl` command line (`args[0]` is the program name).
pub fn run(args: Vec<OsString>) -> ExitCode {
    let _ = args;
    eprintln!("ovs-vsctl: not implemented yet");
    ExitCode::FAILURE
}

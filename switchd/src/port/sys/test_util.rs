//! Helpers for the root-only port tests: root check, a private network
//! namespace per test thread, `ip` and cleanup guards, and batches of
//! frames to send.

use crate::batch::{Edit, RxBatch, TxEntry, HEADROOM};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::process::Command;

/// A batch holding `frames` in slots `0..`.
pub fn batch_of(frames: &[Vec<u8>]) -> RxBatch {
    let mut b = RxBatch::new();
    for (i, f) in frames.iter().enumerate() {
        b.slot_mut(i)[HEADROOM..HEADROOM + f.len()].copy_from_slice(f);
        b.set_frame(i, HEADROOM, f.len());
    }
    b.set_count(frames.len());
    b
}

/// Send entries for slots `0..n`, unchanged.
pub fn keep_all(n: usize) -> Vec<TxEntry> {
    (0..n).map(|i| TxEntry::new(i as u8, Edit::KEEP)).collect()
}

/// Whether the test may run: true as root. Otherwise prints a visible
/// SKIP and returns false, or panics when `SWITCHD_REQUIRE_ROOT=1`.
pub fn root_or_skip(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("SWITCHD_REQUIRE_ROOT").as_deref() == Ok("1") {
        panic!("{test}: needs root and SWITCHD_REQUIRE_ROOT=1 is set");
    }
    // Straight to the stderr handle: `eprintln!` is captured by the test
    // harness and would hide the skip.
    let _ = writeln!(std::io::stderr(), "SKIP {test}: needs root");
    false
}

/// Moves the calling thread (each test runs on its own thread) into a
/// new, empty network namespace with IPv6 off, so the kernel sends no
/// router solicitations or MLD reports on test links. `ip` commands run
/// from this thread inherit it.
pub fn enter_private_netns() {
    // SAFETY: unshare has no memory preconditions; CLONE_NEWNET only
    // changes the calling thread.
    let r = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    assert_eq!(r, 0, "unshare(CLONE_NEWNET): {}", std::io::Error::last_os_error());
    for key in ["all", "default"] {
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{key}/disable_ipv6"), "1");
    }
}

/// Gives the calling thread its own fd table, so that a child another
/// test thread forks meanwhile does not inherit (and hold open, until its
/// `exec`) the fds this thread opens from now on. For tests that check
/// the moment a file is released.
pub fn enter_private_fd_table() {
    // SAFETY: unshare has no memory preconditions; CLONE_FILES only
    // changes the calling thread.
    let r = unsafe { libc::unshare(libc::CLONE_FILES) };
    assert_eq!(r, 0, "unshare(CLONE_FILES): {}", std::io::Error::last_os_error());
}

/// Moves the calling thread into the named namespace `/run/netns/NAME`.
pub fn enter_netns(name: &str) {
    let f = File::open(format!("/run/netns/{name}")).expect("open netns");
    // SAFETY: `f` is an open namespace fd for the duration of the call.
    let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(r, 0, "setns {name}: {}", std::io::Error::last_os_error());
}

/// `fcntl(F_GETFL)` and `fcntl(F_GETFD)` of `fd`.
pub fn fd_flags(fd: std::os::fd::RawFd) -> (libc::c_int, libc::c_int) {
    // SAFETY: F_GETFL/F_GETFD take no argument and touch no memory.
    unsafe { (libc::fcntl(fd, libc::F_GETFL), libc::fcntl(fd, libc::F_GETFD)) }
}

/// A name no other test uses: `tt<pid><tag>` (keep `tag` ≤ 6 bytes).
pub fn uniq(tag: &str) -> String {
    let n = format!("tt{}{tag}", std::process::id());
    assert!(n.len() <= 15, "{n:?} too long");
    n
}

/// Runs `ip ARGS`; returns (success, stdout + stderr).
pub fn ip(args: &[&str]) -> (bool, String) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Runs `ip ARGS` and panics if it fails.
pub fn ip_ok(args: &[&str]) -> String {
    let (ok, text) = ip(args);
    assert!(ok, "ip {args:?}: {text}");
    text
}

/// Whether device `name` exists in the calling thread's namespace.
pub fn link_exists(name: &str) -> bool {
    ip(&["link", "show", "dev", name]).0
}

/// Waits up to 5 s for device `name` to disappear; returns whether it
/// did. Closing the last fd of a TAP removes it at once, but a child
/// that another test thread is spawning holds a copy of every fd until
/// its `exec`, which can delay the final close a little.
pub fn link_gone(name: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while link_exists(name) {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    true
}

/// Deletes link `name` when dropped (if it still exists).
#[derive(Debug)]
pub struct LinkGuard(pub String);

impl Drop for LinkGuard {
    fn drop(&mut self) {
        if link_exists(&self.0) {
            let _ = ip(&["link", "del", "dev", &self.0]);
        }
    }
}

/// Deletes named network namespace `name` when dropped.
#[derive(Debug)]
pub struct NetnsGuard(pub String);

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.0]);
    }
}

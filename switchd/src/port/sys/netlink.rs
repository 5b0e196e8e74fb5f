//! The netlink socket that tells the engine when network devices appear,
//! disappear or change (`RTMGRP_LINK`), so it can re-check its ports by
//! name.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::common::{cvt, own};

/// A netlink socket subscribed to link changes (`RTMGRP_LINK`): it turns
/// readable whenever a network device appears, disappears or changes, which
/// is all the engine needs to know to re-check its ports by name.
/// Non-blocking and close-on-exec.
pub fn link_watch_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall without pointers.
    let fd = own(unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    })?;
    // SAFETY: `sockaddr_nl` is integers; all-zero is valid.
    let mut addr: libc::sockaddr_nl = unsafe { zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    addr.nl_groups = libc::RTMGRP_LINK as u32;
    // SAFETY: `addr` is a valid `sockaddr_nl` of the length given, read by
    // the kernel during the call only.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_nl).cast(),
            size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    })?;
    Ok(fd)
}

/// Reads and discards everything queued on a link-watch socket. Returns
/// whether anything was (or may have been: the queue overflowed) there.
pub fn drain_link_watch(fd: BorrowedFd<'_>) -> bool {
    let mut buf = [0u8; 8192];
    let mut any = false;
    loop {
        // SAFETY: `buf` is a live, writable buffer of the length given.
        let r = unsafe {
            libc::recv(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if r > 0 {
            any = true;
            continue;
        }
        match io::Error::last_os_error().raw_os_error() {
            _ if r == 0 => return any,
            Some(libc::EINTR) => continue,
            // Events were lost: treat as "something changed".
            Some(libc::ENOBUFS) => any = true,
            _ => return any,
        }
    }
}

//! What every other file of `sys` uses: `-1`-on-error conversion
//! ([`cvt`]), taking ownership of a returned fd ([`own`]) and socket
//! options (`setsockopt`/`getsockopt` of plain values, buffer sizes).
//!
//! It imports no other file of `sys`, so the subsystem files can all build
//! on it without importing each other or `mod.rs`.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Converts a `-1`-on-error return value into `io::Result`.
pub(super) fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Takes ownership of an fd a syscall just returned (or its error).
pub(super) fn own(fd: libc::c_int) -> io::Result<OwnedFd> {
    let fd = cvt(fd)?;
    // SAFETY: `fd` was just returned by the kernel, is open, and nothing else
    // owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `setsockopt` of a plain value (an `int` or a C struct).
pub(super) fn setsockopt<T>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of `size_of::<T>()` bytes, which
    // the kernel only reads during the call. Callers pass the type each
    // option expects (`int`, `struct packet_mreq`, `struct sock_fprog`
    // whose filter pointer is live for the call).
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `setsockopt` of an `int` option.
pub fn setsockopt_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: i32,
) -> io::Result<()> {
    setsockopt(fd, level, name, &(value as libc::c_int))
}

/// Sets a socket buffer size: `SO_RCVBUFFORCE`/`SO_SNDBUFFORCE` (which pass
/// `net.core.*mem_max` but need CAP_NET_ADMIN), falling back to the capped
/// `SO_RCVBUF`/`SO_SNDBUF`.
pub fn set_buffer_size(fd: BorrowedFd<'_>, receive: bool, bytes: i32) -> io::Result<()> {
    let (force, plain) = if receive {
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF)
    } else {
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF)
    };
    setsockopt_int(fd, libc::SOL_SOCKET, force, bytes)
        .or_else(|_| setsockopt_int(fd, libc::SOL_SOCKET, plain, bytes))
}

/// `getsockopt` of an `int` option.
pub fn getsockopt_int(fd: BorrowedFd<'_>, level: libc::c_int, name: libc::c_int) -> io::Result<i32> {
    let mut value: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` is writable for `len` bytes and `len` is a valid
    // in/out length; the kernel writes at most `len` bytes.
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    })?;
    Ok(value)
}

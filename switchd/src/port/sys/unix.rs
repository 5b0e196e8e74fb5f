//! Unix sockets of stream and dgram ports: addresses ([`UnixAddr`]), the
//! bound socket whose file is never more open than asked for, `listen`,
//! `accept`, probing for a live socket at a path, and the gathered send of
//! a stream connection.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::common::{cvt, own};

/// A Unix socket address (`sockaddr_un`) and the length the kernel uses for
/// it: a filesystem path, or (as received from an unbound sender) no name.
#[derive(Clone, Copy)]
pub struct UnixAddr {
    pub(super) sun: libc::sockaddr_un,
    pub(super) len: libc::socklen_t,
}

/// Bytes of `sun_family` in front of `sun_path`.
const SUN_PATH_OFFSET: usize = size_of::<libc::sa_family_t>();

impl UnixAddr {
    /// Longest filesystem path a `sockaddr_un` holds (107 bytes plus NUL).
    pub const MAX_PATH: usize = 107;

    /// The address of the socket file `path`.
    ///
    /// # Errors
    /// `InvalidInput` for an empty path, one longer than
    /// [`MAX_PATH`](Self::MAX_PATH) bytes or one containing a NUL byte.
    pub fn from_path(path: &std::path::Path) -> io::Result<UnixAddr> {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        if bytes.is_empty() || bytes.len() > Self::MAX_PATH || bytes.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{path:?} is not a usable unix socket path (1-{} bytes, no NUL)",
                    Self::MAX_PATH
                ),
            ));
        }
        // SAFETY: `sockaddr_un` is an integer and a byte array; all-zero is
        // valid (and leaves the path NUL-terminated).
        let mut sun: libc::sockaddr_un = unsafe { zeroed() };
        sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (d, s) in sun.sun_path.iter_mut().zip(bytes) {
            *d = *s as libc::c_char;
        }
        Ok(UnixAddr {
            sun,
            len: (SUN_PATH_OFFSET + bytes.len() + 1) as libc::socklen_t,
        })
    }

    /// Whether the address names nothing (the sender never bound its
    /// socket), so nothing can be sent back to it.
    pub fn is_unnamed(&self) -> bool {
        self.len as usize <= SUN_PATH_OFFSET
    }

    /// The path bytes (without the trailing NUL; an abstract address starts
    /// with a NUL byte).
    pub fn path_bytes(&self) -> &[u8] {
        let n = (self.len as usize)
            .saturating_sub(SUN_PATH_OFFSET)
            .min(self.sun.sun_path.len());
        let path = &self.sun.sun_path[..n];
        // SAFETY: `c_char` and `u8` have the same size and alignment, and
        // `path` is a live, initialised slice of `n` of them.
        let path = unsafe { std::slice::from_raw_parts(path.as_ptr().cast::<u8>(), n) };
        if path.first() == Some(&0) {
            return path;
        }
        // A filesystem path ends at its first NUL (a sender may have bound
        // with the whole `sockaddr_un` as length).
        path.split(|b| *b == 0).next().unwrap_or(path)
    }

    /// Pointer and length for `bind`/`connect`/`msg_name`; valid while
    /// `self` is.
    pub(super) fn raw(&self) -> (*const libc::sockaddr, libc::socklen_t) {
        ((&self.sun as *const libc::sockaddr_un).cast(), self.len)
    }
}

impl PartialEq for UnixAddr {
    fn eq(&self, other: &Self) -> bool {
        self.is_unnamed() == other.is_unnamed() && self.path_bytes() == other.path_bytes()
    }
}

impl Eq for UnixAddr {}

impl std::fmt::Debug for UnixAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_unnamed() {
            f.write_str("(unnamed)")
        } else {
            write!(f, "{:?}", String::from_utf8_lossy(self.path_bytes()))
        }
    }
}

/// A non-blocking, close-on-exec Unix socket of `kind` (`SOCK_STREAM` or
/// `SOCK_DGRAM`) bound to `addr`, whose socket file is created with at most
/// the permissions `mode` (the process umask may remove more; the caller
/// sets the exact mode on the file afterwards). The mode is set on the
/// socket before `bind`, which creates the file with it, so the file is
/// never more open than asked for, not even for an instant.
///
/// # Errors
/// `EADDRINUSE` when a file exists at the path; `ENOENT` when its
/// directory does not exist; `EACCES` when it cannot be written.
pub fn unix_socket_bound(kind: libc::c_int, addr: &UnixAddr, mode: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall without pointers.
    let fd = own(unsafe { libc::socket(libc::AF_UNIX, kind | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` is an open socket; fchmod takes no pointer.
    cvt(unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) })?;
    let (ptr, len) = addr.raw();
    // SAFETY: `ptr`/`len` describe `addr`, alive across the call; the kernel
    // only reads it.
    cvt(unsafe { libc::bind(fd.as_raw_fd(), ptr, len) })?;
    Ok(fd)
}

/// The effective user id of the process.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// `listen(2)` with a backlog of `backlog` connections.
pub fn listen(fd: BorrowedFd<'_>, backlog: i32) -> io::Result<()> {
    // SAFETY: plain syscall without pointers.
    cvt(unsafe { libc::listen(fd.as_raw_fd(), backlog) })?;
    Ok(())
}

/// Accepts one connection, non-blocking and close-on-exec (`accept4`).
/// `EAGAIN` comes back as `WouldBlock`.
pub fn accept(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    // SAFETY: null address pointers are allowed (the peer address is not
    // wanted); no other pointers.
    own(unsafe {
        libc::accept4(
            fd.as_raw_fd(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    })
}

/// Whether a socket of `kind` is bound at `addr`: a non-blocking
/// `connect` from a throwaway socket. `Ok(true)`: something answers (or
/// its backlog is full); `Ok(false)`: nothing does (`ECONNREFUSED`, a
/// stale socket file) or it is a socket of the other kind (`EPROTOTYPE`).
/// A stream listener that answers sees a connection that closes at once.
pub fn unix_bound(kind: libc::c_int, addr: &UnixAddr) -> io::Result<bool> {
    // SAFETY: plain syscall without pointers.
    let fd = own(unsafe { libc::socket(libc::AF_UNIX, kind | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })?;
    let (ptr, len) = addr.raw();
    // SAFETY: as in `unix_socket_bound`.
    match cvt(unsafe { libc::connect(fd.as_raw_fd(), ptr, len) }) {
        Ok(_) => Ok(true),
        Err(e) => match e.raw_os_error() {
            Some(libc::EAGAIN | libc::EINPROGRESS) => Ok(true),
            Some(libc::ECONNREFUSED | libc::EPROTOTYPE) => Ok(false),
            _ => Err(e),
        },
    }
}

/// One `sendmsg(MSG_DONTWAIT | MSG_NOSIGNAL)` of the gathered `pieces` on
/// a connected stream socket: a peer that went away gives `EPIPE`, never
/// `SIGPIPE`. Returns the bytes the kernel took, which may be fewer than
/// offered; `EAGAIN` comes back as `WouldBlock`.
pub fn send_vectored(fd: BorrowedFd<'_>, pieces: &[io::IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: `msghdr` is integers and raw pointers; all-zero (null, 0) is
    // valid.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    // `IoSlice` is guaranteed ABI-compatible with `struct iovec` on Unix.
    msg.msg_iov = pieces.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = pieces.len();
    loop {
        // SAFETY: `msg` points to `pieces`, which are live slices borrowed
        // for the call, and carries no name and no control data. The kernel
        // only reads them.
        let r = unsafe { libc::sendmsg(fd.as_raw_fd(), &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The address a Unix socket is bound to (`getsockname`): on an in-place
/// restart, tells whether a socket handed over is still the one at its
/// port's path.
pub fn unix_local_addr(fd: BorrowedFd<'_>) -> io::Result<UnixAddr> {
    // SAFETY: all-zero is a valid `sockaddr_un` (see `from_path`).
    let mut sun: libc::sockaddr_un = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_un>() as libc::socklen_t;
    // SAFETY: `sun` is writable for `len` bytes and `len` is a valid in/out
    // length; the kernel writes at most `len` bytes.
    cvt(unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut sun as *mut libc::sockaddr_un).cast(),
            &mut len,
        )
    })?;
    Ok(UnixAddr { sun, len })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_addr_limits() {
        use std::path::Path;
        let a = UnixAddr::from_path(Path::new("/run/vm.sock")).unwrap();
        assert_eq!(a.path_bytes(), b"/run/vm.sock");
        assert!(!a.is_unnamed());
        assert_eq!(format!("{a:?}"), "\"/run/vm.sock\"");
        let longest = "a".repeat(UnixAddr::MAX_PATH);
        assert_eq!(
            UnixAddr::from_path(Path::new(&longest)).unwrap().path_bytes(),
            longest.as_bytes()
        );
        for bad in [&*"a".repeat(UnixAddr::MAX_PATH + 1), "", "a\0b"] {
            let e = UnixAddr::from_path(Path::new(bad)).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
    }
}

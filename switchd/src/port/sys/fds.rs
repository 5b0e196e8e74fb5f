//! File descriptors across an in-place restart (SPEC §13): the few calls
//! that let one image of switchd hand its open fds to the next through
//! `execve`: a memfd carrying the handover manifest, turning close-on-exec
//! off (and back on) for the fds that must survive, and taking ownership of
//! an fd number the previous image wrote down.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::common::{cvt, own};

/// A memory file (`memfd_create`), close-on-exec, for the manifest.
pub fn memfd(name: &std::ffi::CStr) -> io::Result<OwnedFd> {
    // SAFETY: `name` is a NUL-terminated string that the kernel only reads
    // during the call.
    own(unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) })
}

/// Sets or clears `FD_CLOEXEC` on `fd`: cleared on the fds handed to the
/// next image just before `execve`, set again if the exec fails.
/// Takes the number: the fds are owned by ports the caller holds, and a
/// number that is not open only gives `EBADF`.
pub fn set_cloexec(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: F_GETFD/F_SETFD take no pointer and touch nothing but the
    // flag of fd number `fd`.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
    let flags = if on {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFD, flags) })?;
    Ok(())
}

/// Takes ownership of fd number `raw`, inherited across `execve` from the
/// previous image, and makes it close-on-exec again.
///
/// # Errors
/// `EBADF` when no such fd is open. The manifest comes from the previous
/// image of this same process; the caller takes each number once (a number
/// listed twice is refused before this is called).
pub fn adopt(raw: RawFd) -> io::Result<OwnedFd> {
    if raw < 3 {
        // Never stdin/stdout/stderr, whatever the manifest says.
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: F_GETFD takes no pointer; it only tells whether `raw` is open.
    cvt(unsafe { libc::fcntl(raw, libc::F_GETFD) })?;
    // SAFETY: `raw` is open (checked above), was left open for this image by
    // the previous one, which owned it and no longer exists, and nothing in
    // this image has taken it: numbers are unique in the manifest and each
    // is adopted once.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    set_cloexec(fd.as_raw_fd(), true)?;
    Ok(fd)
}

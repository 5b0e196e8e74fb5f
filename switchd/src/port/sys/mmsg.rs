//! The batched `recvmmsg`/`sendmmsg` loops and the gather list of one
//! message, shared by AF_PACKET sockets (`packet.rs`) and IP and Unix
//! datagram sockets (`dgram.rs`): each of those fills its own preallocated
//! headers, then calls in here.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::common::cvt;
use crate::port::outcome::SendOutcome;

/// `recvmmsg(MSG_DONTWAIT)` into the messages `hdrs` describes, retrying
/// `EINTR`; `EAGAIN` comes back as `WouldBlock`. Returns how many arrived.
///
/// # Safety
/// Every header in `hdrs` must point to iovecs, a name buffer and a control
/// buffer (or null with length 0) that are valid for writes of the lengths
/// it states, for the duration of the call.
pub(super) unsafe fn recv_messages(fd: BorrowedFd<'_>, hdrs: &mut [libc::mmsghdr]) -> io::Result<usize> {
    loop {
        // SAFETY: `hdrs` is a live slice of `hdrs.len()` headers; what each
        // points to is the caller's guarantee. A null timeout is allowed.
        let r = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                hdrs.len() as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        match cvt(r) {
            Ok(n) => return Ok(n as usize),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Sends every message `hdrs` describes with `sendmmsg(MSG_DONTWAIT)` until
/// each one is sent or refused, and adds to `out`: a sent message counts
/// `counted(i, msg_len)` bytes; an errno for which `drops_rest` holds
/// (a full queue) drops the rest of the messages; any other error counts
/// that one message as an error and sending goes on with the next.
///
/// # Safety
/// Every header in `hdrs` must point to iovecs (and a name, if any) valid
/// for reads of the lengths it states, for the duration of the call.
pub(super) unsafe fn send_messages(
    fd: BorrowedFd<'_>,
    hdrs: &mut [libc::mmsghdr],
    out: &mut SendOutcome,
    drops_rest: impl Fn(i32) -> bool,
    counted: impl Fn(usize, u32) -> u64,
) {
    let n = hdrs.len();
    let mut start = 0;
    while start < n {
        // SAFETY: `hdrs[start..]` is a live slice of `n - start` headers;
        // what each points to is the caller's guarantee. The kernel only
        // reads them and writes `msg_len`.
        let r = unsafe {
            libc::sendmmsg(
                fd.as_raw_fd(),
                hdrs[start..].as_mut_ptr(),
                (n - start) as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        match cvt(r) {
            Ok(sent) => {
                for (i, h) in hdrs.iter().enumerate().skip(start).take(sent as usize) {
                    out.sent += 1;
                    out.bytes += counted(i, h.msg_len);
                }
                start += sent as usize;
            }
            Err(e) => match e.raw_os_error() {
                Some(libc::EINTR) => {}
                Some(errno) if drops_rest(errno) => {
                    out.dropped += (n - start) as u64;
                    start = n;
                }
                _ => {
                    out.errors += 1;
                    start += 1;
                }
            },
        }
    }
}

/// Sets up `h` for one message to `name` (null: the socket's own peer or
/// device) gathered from `pieces`, in order, through `iov`; no control data.
/// Only pointers are stored here: `sendmmsg` reads them, so the caller
/// keeps the pieces and the name alive until it has been called.
///
/// # Panics
/// If there are more pieces than `iov` has room for.
#[inline]
pub(super) fn gather<'p>(
    h: &mut libc::mmsghdr,
    iov: &mut [libc::iovec],
    (name, namelen): (*const libc::sockaddr, libc::socklen_t),
    pieces: impl IntoIterator<Item = &'p [u8]>,
) {
    let mut k = 0;
    for piece in pieces {
        iov[k] = libc::iovec {
            iov_base: piece.as_ptr() as *mut libc::c_void,
            iov_len: piece.len(),
        };
        k += 1;
    }
    h.msg_hdr.msg_name = name as *mut libc::c_void;
    h.msg_hdr.msg_namelen = namelen;
    h.msg_hdr.msg_iov = iov.as_mut_ptr();
    h.msg_hdr.msg_iovlen = k;
    h.msg_hdr.msg_control = std::ptr::null_mut();
    h.msg_hdr.msg_controllen = 0;
    h.msg_hdr.msg_flags = 0;
    h.msg_len = 0;
}

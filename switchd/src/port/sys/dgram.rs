//! Batched datagrams: `recvmmsg`/`sendmmsg` state for the UDP and raw IP
//! sockets of tunnel endpoints and the Unix datagram sockets of dgram
//! ports ([`DgramRx`], [`DgramTx`]), with the sender of each datagram
//! received.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::IpAddr;
use std::os::fd::BorrowedFd;

use super::inet::{storage_ip, SockAddr};
use super::mmsg::{gather, recv_messages, send_messages};
use super::unix::UnixAddr;
use crate::batch::{RxBatch, BATCH, HEADROOM, MAX_FRAME, SLOT_LEN};
use crate::port::outcome::SendOutcome;

/// What the kernel reported about one received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DgramMeta {
    /// Bytes written at `HEADROOM` in the slot.
    pub len: usize,
    /// The datagram did not fit in the slot and was cut.
    pub truncated: bool,
    /// The sender's address (the outer source IP).
    pub from: Option<IpAddr>,
}

/// The arrays `recvmmsg` works on for an IP socket.
struct DgramRxArrays {
    hdrs: [libc::mmsghdr; BATCH],
    iovs: [libc::iovec; BATCH],
    addrs: [libc::sockaddr_storage; BATCH],
}

// SAFETY: as for `RxArrays` in `packet.rs`: the pointers are rewritten
// before every `recvmmsg` in `DgramRx::recv` and never dereferenced
// elsewhere.
unsafe impl Send for DgramRxArrays {}

/// Preallocated `recvmmsg` state for one UDP or raw IP socket: headers,
/// iovecs and source addresses for `BATCH` datagrams.
pub struct DgramRx {
    arr: Box<DgramRxArrays>,
    received: usize,
}

impl std::fmt::Debug for DgramRx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DgramRx")
            .field("received", &self.received)
            .finish()
    }
}

impl Default for DgramRx {
    fn default() -> Self {
        Self::new()
    }
}

impl DgramRx {
    /// Allocates the arrays (once per socket).
    pub fn new() -> Self {
        // SAFETY: `mmsghdr`/`iovec` are integers and raw pointers (null is
        // valid), `sockaddr_storage` is integers and byte arrays.
        let arr: Box<DgramRxArrays> = Box::new(unsafe { zeroed() });
        DgramRx { arr, received: 0 }
    }

    /// One `recvmmsg(MSG_DONTWAIT)` of up to `BATCH` datagrams into slots
    /// `0..` of `batch`, each at offset `HEADROOM`. `EINTR` is retried;
    /// `EAGAIN` is returned as `WouldBlock`. On success
    /// [`meta`](Self::meta) describes datagram `i` (slot `i`).
    pub fn recv(&mut self, fd: BorrowedFd<'_>, batch: &mut RxBatch) -> io::Result<usize> {
        self.received = 0;
        let a = &mut *self.arr;
        for (i, slot) in batch.slots_mut().0.chunks_exact_mut(SLOT_LEN).enumerate() {
            a.iovs[i] = libc::iovec {
                iov_base: slot[HEADROOM..].as_mut_ptr().cast(),
                iov_len: MAX_FRAME,
            };
            let h = &mut a.hdrs[i];
            h.msg_hdr.msg_name = (&mut a.addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_iov = &mut a.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = std::ptr::null_mut();
            h.msg_hdr.msg_controllen = 0;
            h.msg_hdr.msg_flags = 0;
            h.msg_len = 0;
        }
        // SAFETY: `hdrs[..BATCH]` were filled above: each points to its
        // own iovec (covering `MAX_FRAME` bytes of a distinct slot of
        // `batch`, borrowed mutably for this whole call) and its own
        // `sockaddr_storage`, with matching lengths. The kernel writes
        // only within those bounds, during the call.
        let n = unsafe { recv_messages(fd, &mut a.hdrs[..BATCH]) }?;
        self.received = n;
        Ok(n)
    }

    /// What the kernel said about datagram `i` of the last
    /// [`recv`](Self::recv).
    ///
    /// # Panics
    /// If `i` is not below the count the last `recv` returned.
    pub fn meta(&self, i: usize) -> DgramMeta {
        assert!(i < self.received, "datagram {i} was not received");
        let h = &self.arr.hdrs[i];
        DgramMeta {
            len: h.msg_len as usize,
            truncated: h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
            from: storage_ip(&self.arr.addrs[i], h.msg_hdr.msg_namelen),
        }
    }

    /// The sender of datagram `i` of the last [`recv`](Self::recv) on a
    /// Unix datagram socket (unnamed if it never bound its socket).
    ///
    /// # Panics
    /// If `i` is not below the count the last `recv` returned.
    pub fn unix_source(&self, i: usize) -> UnixAddr {
        assert!(i < self.received, "datagram {i} was not received");
        let ss = &self.arr.addrs[i];
        let len = self.arr.hdrs[i].msg_hdr.msg_namelen;
        // SAFETY: `sockaddr_un` is an integer and a byte array; all-zero is
        // valid.
        let mut sun: libc::sockaddr_un = unsafe { zeroed() };
        if libc::c_int::from(ss.ss_family) == libc::AF_UNIX {
            // SAFETY: `sockaddr_storage` is at least as large as and aligned
            // for a `sockaddr_un`, and every byte of it is initialised (the
            // arrays start zeroed; the kernel wrote the first `len` bytes,
            // and only those count). Plain data.
            sun = unsafe { *(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_un>() };
        }
        let len = if libc::c_int::from(ss.ss_family) == libc::AF_UNIX {
            len.min(size_of::<libc::sockaddr_un>() as libc::socklen_t)
        } else {
            0
        };
        UnixAddr { sun, len }
    }
}

/// Most pieces one datagram is gathered from: tunnel header, MAC
/// addresses, VLAN tag, rest of the frame.
pub const DGRAM_PIECES: usize = 4;

/// The arrays `sendmmsg` works on for an IP socket.
struct DgramTxArrays {
    hdrs: [libc::mmsghdr; BATCH],
    iovs: [[libc::iovec; DGRAM_PIECES]; BATCH],
}

// SAFETY: as for `TxArrays` in `packet.rs`: the pointers are rewritten
// before every `sendmmsg` in `DgramTx::send_named` and never dereferenced
// elsewhere.
unsafe impl Send for DgramTxArrays {}

/// Preallocated `sendmmsg` state for one UDP or raw IP socket.
pub struct DgramTx {
    arr: Box<DgramTxArrays>,
}

impl std::fmt::Debug for DgramTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DgramTx").finish_non_exhaustive()
    }
}

impl Default for DgramTx {
    fn default() -> Self {
        Self::new()
    }
}

impl DgramTx {
    /// Allocates the arrays (once per socket).
    pub fn new() -> Self {
        // SAFETY: `mmsghdr` and `iovec` are integers and raw pointers; null
        // pointers and zero lengths are valid values.
        let arr: Box<DgramTxArrays> = Box::new(unsafe { zeroed() });
        DgramTx { arr }
    }

    /// Sends every datagram of `datagrams` (each gathered from up to
    /// [`DGRAM_PIECES`] slices; empty ones are left out) to `to` with
    /// `sendmmsg(MSG_DONTWAIT)`, `BATCH` per call, and adds to `out` as
    /// [`PacketTx::send`](super::PacketTx::send) does: `EAGAIN`/`ENOBUFS` drops the rest of the
    /// chunk, any other error (`EMSGSIZE`, `ENETUNREACH`, ...) counts that
    /// datagram as an error and sending goes on. `out.bytes` counts whole
    /// datagrams as the kernel reports them.
    pub fn send<'a, I>(&mut self, fd: BorrowedFd<'_>, to: &SockAddr, datagrams: I, out: &mut SendOutcome)
    where
        I: IntoIterator<Item = [&'a [u8]; DGRAM_PIECES]>,
    {
        let (name, namelen) = to.raw();
        self.send_named(fd, (name.cast(), namelen), datagrams, out, |e| {
            matches!(e, libc::EAGAIN | libc::ENOBUFS)
        });
    }

    /// Sends every datagram of `datagrams` (each gathered from up to
    /// [`DGRAM_PIECES`] slices; empty ones are left out) to the Unix
    /// datagram socket `to`, with `sendmmsg(MSG_DONTWAIT)`, `BATCH` per
    /// call, and adds to `out`. Unlike [`send`](Self::send), a peer that
    /// cannot take them is not an error of each datagram: `EAGAIN` (its
    /// queue is full, `net.unix.max_dgram_qlen`), `ECONNREFUSED` (its
    /// socket is closed) and `ENOENT` (its file is gone) drop the rest of
    /// the chunk. Other errors count one datagram and sending goes on.
    pub fn send_unix<'a, I>(&mut self, fd: BorrowedFd<'_>, to: &UnixAddr, datagrams: I, out: &mut SendOutcome)
    where
        I: IntoIterator<Item = [&'a [u8]; DGRAM_PIECES]>,
    {
        let (name, namelen) = to.raw();
        self.send_named(fd, (name.cast(), namelen), datagrams, out, |e| {
            matches!(
                e,
                libc::EAGAIN | libc::ENOBUFS | libc::ECONNREFUSED | libc::ENOENT
            )
        });
    }

    /// The `sendmmsg` loop of [`send`](Self::send) and
    /// [`send_unix`](Self::send_unix): every datagram to the address `to`
    /// (a pointer the caller keeps alive for the call, and its length); an
    /// errno for which `drops_rest` is true drops the rest of the chunk,
    /// any other counts one datagram as an error.
    fn send_named<'a, I>(
        &mut self,
        fd: BorrowedFd<'_>,
        to: (*const libc::sockaddr, libc::socklen_t),
        datagrams: I,
        out: &mut SendOutcome,
        drops_rest: impl Fn(i32) -> bool,
    ) where
        I: IntoIterator<Item = [&'a [u8]; DGRAM_PIECES]>,
    {
        let (name, namelen) = to;
        let mut datagrams = datagrams.into_iter().peekable();
        while datagrams.peek().is_some() {
            let a = &mut *self.arr;
            let mut n = 0;
            for pieces in datagrams.by_ref().take(BATCH) {
                gather(
                    &mut a.hdrs[n],
                    &mut a.iovs[n],
                    (name, namelen),
                    pieces.into_iter().filter(|p| !p.is_empty()),
                );
                n += 1;
            }
            // SAFETY: `hdrs[..n]` were filled above; each points to its own
            // iovec array of `msg_iovlen` entries, every iovec covers a live
            // slice borrowed for `'a`, and `msg_name` points to the caller's
            // address, alive for this whole call.
            unsafe { send_messages(fd, &mut a.hdrs[..n], out, &drops_rest, |_, len| u64::from(len)) };
        }
    }
}

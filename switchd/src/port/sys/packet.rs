//! AF_PACKET raw sockets of system ports: opening, binding to a device,
//! promiscuous membership, the kernel's queue-drop counter, and batched
//! receive ([`PacketRx`], with the `PACKET_AUXDATA` VLAN tag and the
//! virtio-net header) and send ([`PacketTx`]).

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::common::{cvt, own, setsockopt};
use super::mmsg::{gather, recv_messages, send_messages};
use crate::batch::{RxBatch, BATCH, HEADROOM, MAX_FRAME, SLOT_LEN};
use crate::port::outcome::SendOutcome;
use crate::wire::vnet::{VnetHdr, VNET_HDR_LEN};

/// An AF_PACKET raw socket with protocol 0, so that it queues nothing until
/// it is bound; non-blocking and close-on-exec.
pub fn packet_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall without pointers.
    own(unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    })
}

/// `PACKET_STATISTICS`: how many frames the kernel dropped because the
/// socket's receive queue was full, since the previous call (reading the
/// statistics resets them).
pub fn packet_queue_drops(fd: BorrowedFd<'_>) -> io::Result<u64> {
    // SAFETY: `tpacket_stats` is two integers; all-zero is valid.
    let mut st: libc::tpacket_stats = unsafe { zeroed() };
    let mut len = size_of::<libc::tpacket_stats>() as libc::socklen_t;
    // SAFETY: `st` is writable for `len` bytes and `len` is a valid in/out
    // length; the kernel writes at most `len` bytes during the call.
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            (&mut st as *mut libc::tpacket_stats).cast(),
            &mut len,
        )
    })?;
    Ok(u64::from(st.tp_drops))
}

/// Puts device `ifindex` in promiscuous mode for as long as the socket is
/// open (`PACKET_ADD_MEMBERSHIP`, `PACKET_MR_PROMISC`; the kernel counts
/// such memberships, so other users' promiscuity is not disturbed).
pub fn packet_add_promisc(fd: BorrowedFd<'_>, ifindex: u32) -> io::Result<()> {
    let mreq = libc::packet_mreq {
        mr_ifindex: ifindex as libc::c_int,
        mr_type: libc::PACKET_MR_PROMISC as libc::c_ushort,
        mr_alen: 0,
        mr_address: [0; 8],
    };
    setsockopt(fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq)
}

/// An all-zero `sockaddr_ll`.
fn sockaddr_ll() -> libc::sockaddr_ll {
    // SAFETY: `sockaddr_ll` is integers and a byte array; all-zero is valid.
    unsafe { zeroed() }
}

/// Binds the socket to every protocol (`ETH_P_ALL`) on device `ifindex`.
pub fn packet_bind(fd: BorrowedFd<'_>, ifindex: u32) -> io::Result<()> {
    let mut addr = sockaddr_ll();
    addr.sll_family = libc::AF_PACKET as libc::c_ushort;
    addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    addr.sll_ifindex = ifindex as libc::c_int;
    // SAFETY: `addr` is a valid `sockaddr_ll` and the length says so; the
    // kernel only reads it during the call.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// The ifindex a packet socket is bound to now: the bound one, or `-1`
/// once the device has been unregistered (deleted, or moved to another
/// network namespace).
pub fn packet_bound_ifindex(fd: BorrowedFd<'_>) -> io::Result<i32> {
    let mut addr = sockaddr_ll();
    let mut len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `addr` is writable for `len` bytes and `len` is a valid
    // in/out length; the kernel writes at most `len` bytes.
    cvt(unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut addr as *mut libc::sockaddr_ll).cast(),
            &mut len,
        )
    })?;
    Ok(addr.sll_ifindex)
}

/// Control buffer for one message: room for a `tpacket_auxdata` cmsg
/// (CMSG_SPACE(20) = 40 bytes on 64-bit) with margin, aligned for
/// `cmsghdr`.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct CmsgBuf([u8; 64]);

/// What the kernel reported about one received message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RxMeta {
    /// Bytes written at `HEADROOM` in the slot.
    pub len: usize,
    /// The frame did not fit in the slot and was cut.
    pub truncated: bool,
    /// `sll_pkttype == PACKET_OUTGOING`: a frame this host sent.
    pub outgoing: bool,
    /// The 802.1Q/802.1ad tag the kernel stripped (from `PACKET_AUXDATA`),
    /// as (TPID, TCI).
    pub vlan: Option<(u16, u16)>,
}

/// The arrays `recvmmsg` works on. They hold raw pointers, which are
/// written right before each call and not used after it returns.
struct RxArrays {
    hdrs: [libc::mmsghdr; BATCH],
    /// Per message: the virtio-net header (when enabled), then the slot.
    iovs: [[libc::iovec; 2]; BATCH],
    vnet: [[u8; VNET_HDR_LEN]; BATCH],
    addrs: [libc::sockaddr_ll; BATCH],
    cmsgs: [CmsgBuf; BATCH],
}

// SAFETY: the raw pointers inside `RxArrays` (into the arrays themselves and
// into the caller's `RxBatch`) are rewritten before every `recvmmsg` and
// never dereferenced by Rust code outside `PacketRx::recv`/`meta`, which
// hold `&mut`/`&` on the owner; moving the arrays to another thread
// therefore shares nothing.
unsafe impl Send for RxArrays {}

/// Preallocated `recvmmsg` state for one AF_PACKET socket: message headers,
/// iovecs, source addresses and control buffers for `BATCH` messages. No
/// allocation per call.
pub struct PacketRx {
    arr: Box<RxArrays>,
    /// The socket has `PACKET_VNET_HDR`: every frame comes after a header.
    vnet: bool,
    /// Messages filled by the last `recv`.
    received: usize,
}

impl std::fmt::Debug for PacketRx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketRx")
            .field("received", &self.received)
            .finish()
    }
}

impl Default for PacketRx {
    fn default() -> Self {
        Self::new(false)
    }
}

impl PacketRx {
    /// Allocates the arrays (once per port); `vnet` says whether the socket
    /// has `PACKET_VNET_HDR` set.
    pub fn new(vnet: bool) -> Self {
        // SAFETY: `mmsghdr`/`iovec` are integers and raw pointers (null is
        // valid), `sockaddr_ll`, `CmsgBuf` and the header arrays are
        // integers and byte arrays.
        let arr: Box<RxArrays> = Box::new(unsafe { zeroed() });
        PacketRx {
            arr,
            vnet,
            received: 0,
        }
    }

    /// The virtio-net header of message `i` of the last `recv` (all zero
    /// without `PACKET_VNET_HDR`).
    pub fn vnet(&self, i: usize) -> VnetHdr {
        assert!(i < self.received, "message {i} was not received");
        if self.vnet {
            VnetHdr::from_bytes(&self.arr.vnet[i])
        } else {
            VnetHdr::default()
        }
    }

    /// One `recvmmsg(MSG_DONTWAIT)` of up to `count` messages into slots
    /// `first..first + count` of `batch`, each at offset `HEADROOM`.
    /// `EINTR` is retried; `EAGAIN` is returned as `WouldBlock`. On success
    /// [`meta`](Self::meta) describes message `i` (slot `first + i`).
    ///
    /// # Panics
    /// If `first + count > BATCH`.
    pub fn recv(
        &mut self,
        fd: BorrowedFd<'_>,
        batch: &mut RxBatch,
        first: usize,
        count: usize,
    ) -> io::Result<usize> {
        assert!(first + count <= BATCH, "slots {first}+{count} outside the batch");
        self.received = 0;
        let a = &mut *self.arr;
        let slots = batch
            .slots_mut()
            .0
            .chunks_exact_mut(SLOT_LEN)
            .skip(first)
            .take(count);
        for (i, slot) in slots.enumerate() {
            let frame = libc::iovec {
                iov_base: slot[HEADROOM..].as_mut_ptr().cast(),
                iov_len: MAX_FRAME,
            };
            let iovlen = if self.vnet {
                a.iovs[i] = [
                    libc::iovec {
                        iov_base: a.vnet[i].as_mut_ptr().cast(),
                        iov_len: VNET_HDR_LEN,
                    },
                    frame,
                ];
                2
            } else {
                a.iovs[i][0] = frame;
                1
            };
            let h = &mut a.hdrs[i];
            h.msg_hdr.msg_name = (&mut a.addrs[i] as *mut libc::sockaddr_ll).cast();
            h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            h.msg_hdr.msg_iov = a.iovs[i].as_mut_ptr();
            h.msg_hdr.msg_iovlen = iovlen;
            h.msg_hdr.msg_control = a.cmsgs[i].0.as_mut_ptr().cast();
            h.msg_hdr.msg_controllen = size_of::<CmsgBuf>();
            h.msg_hdr.msg_flags = 0;
            h.msg_len = 0;
        }
        // SAFETY: `hdrs[..count]` were filled above: each points to its
        // own iovecs (its own header buffer in `vnet`, and `MAX_FRAME`
        // bytes of a distinct slot inside `batch`, which is borrowed
        // mutably for this whole call), its own `sockaddr_ll` and its own
        // control buffer, with lengths that match. The kernel writes only within those bounds, during the
        // call. A null timeout is allowed.
        let n = unsafe { recv_messages(fd, &mut a.hdrs[..count]) }?;
        self.received = n;
        Ok(n)
    }

    /// What the kernel said about message `i` of the last [`recv`](Self::recv).
    ///
    /// # Panics
    /// If `i` is not below the count the last `recv` returned.
    pub fn meta(&self, i: usize) -> RxMeta {
        assert!(i < self.received, "message {i} was not received");
        let h = &self.arr.hdrs[i];
        let header = if self.vnet { VNET_HDR_LEN } else { 0 };
        let mut meta = RxMeta {
            len: (h.msg_len as usize).saturating_sub(header),
            truncated: h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
            outgoing: self.arr.addrs[i].sll_pkttype == libc::PACKET_OUTGOING,
            vlan: None,
        };
        // SAFETY: after `recvmmsg`, `msg_control`/`msg_controllen` describe
        // the bytes of `cmsgs[i]` the kernel filled with well-formed cmsgs;
        // CMSG_FIRSTHDR/CMSG_NXTHDR stay within `msg_controllen`. The
        // auxdata payload is read unaligned, and only when the cmsg is as
        // long as a `tpacket_auxdata`.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&h.msg_hdr);
            while !c.is_null() {
                let hdr = &*c;
                if hdr.cmsg_level == libc::SOL_PACKET
                    && hdr.cmsg_type == libc::PACKET_AUXDATA
                    && hdr.cmsg_len >= libc::CMSG_LEN(size_of::<libc::tpacket_auxdata>() as u32) as usize
                {
                    let aux: libc::tpacket_auxdata =
                        std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::tpacket_auxdata>());
                    if aux.tp_status & libc::TP_STATUS_VLAN_VALID != 0 || aux.tp_vlan_tci != 0 {
                        let tpid = if aux.tp_status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                            aux.tp_vlan_tpid
                        } else {
                            0x8100
                        };
                        meta.vlan = Some((tpid, aux.tp_vlan_tci));
                    }
                }
                c = libc::CMSG_NXTHDR(&h.msg_hdr, c);
            }
        }
        meta
    }
}

/// The arrays `sendmmsg` works on: one header and up to three iovecs per
/// message. Pointers are written right before each call.
struct TxArrays {
    hdrs: [libc::mmsghdr; BATCH],
    iovs: [[libc::iovec; 4]; BATCH],
    /// The virtio-net header of each message, when the socket has one.
    vnet: [[u8; VNET_HDR_LEN]; BATCH],
    /// Bytes of `msg_len` that are header, not frame, per message.
    header_len: [u32; BATCH],
}

// SAFETY: as for `RxArrays`: the pointers are rewritten before every
// `sendmmsg` inside `PacketTx::send` and never dereferenced elsewhere.
unsafe impl Send for TxArrays {}

/// One frame for [`PacketTx::send`]: the virtio-net header (for a socket
/// with `PACKET_VNET_HDR`), then the pieces of [`crate::batch::Edit::pieces`].
pub type TxFrame<'a> = (
    Option<[u8; VNET_HDR_LEN]>,
    &'a [u8],
    Option<&'a [u8; 4]>,
    &'a [u8],
);

/// Preallocated `sendmmsg` state for one AF_PACKET socket.
pub struct PacketTx {
    arr: Box<TxArrays>,
}

impl std::fmt::Debug for PacketTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketTx").finish_non_exhaustive()
    }
}

impl Default for PacketTx {
    fn default() -> Self {
        Self::new()
    }
}

impl PacketTx {
    /// Allocates the arrays (once per port).
    pub fn new() -> Self {
        // SAFETY: `mmsghdr` and `iovec` are integers and raw pointers; null
        // pointers and zero lengths are valid values.
        let arr: Box<TxArrays> = Box::new(unsafe { zeroed() });
        PacketTx { arr }
    }

    /// Sends every frame of `frames` (each a gather list: the virtio-net
    /// header when the socket has `PACKET_VNET_HDR`, MAC addresses, an
    /// optional tag, the rest) with `sendmmsg(MSG_DONTWAIT)`, `BATCH` per
    /// call, and adds to `out`: a refusal with `EAGAIN`/`ENOBUFS` (queue
    /// full) counts that frame and the rest of its chunk as dropped; any
    /// other error (`EMSGSIZE`, `ENETDOWN`, ...) counts that one frame as an
    /// error and sending goes on with the next.
    pub fn send<'a, I>(&mut self, fd: BorrowedFd<'_>, frames: I, out: &mut SendOutcome)
    where
        I: IntoIterator<Item = TxFrame<'a>>,
    {
        let mut frames = frames.into_iter().peekable();
        while frames.peek().is_some() {
            let a = &mut *self.arr;
            let mut n = 0;
            for (vnet, head, tag, rest) in frames.by_ref().take(BATCH) {
                a.header_len[n] = if vnet.is_some() { VNET_HDR_LEN as u32 } else { 0 };
                let vnet = vnet.map(|h| {
                    a.vnet[n] = h;
                    &a.vnet[n][..]
                });
                let pieces = [vnet, Some(head), tag.map(|t| &t[..]), Some(rest)];
                gather(
                    &mut a.hdrs[n],
                    &mut a.iovs[n],
                    (std::ptr::null(), 0),
                    pieces.into_iter().flatten(),
                );
                n += 1;
            }
            let header_len = a.header_len;
            // SAFETY: `hdrs[..n]` were filled above; each points to its own
            // iovec array of `msg_iovlen` entries, and every iovec covers a
            // live slice: the caller's batch, borrowed for `'a`, which
            // outlives this call, or this message's header in `vnet`, not
            // touched until the next call. No name, no control data.
            unsafe {
                send_messages(
                    fd,
                    &mut a.hdrs[..n],
                    out,
                    |e| matches!(e, libc::EAGAIN | libc::ENOBUFS),
                    |i, len| u64::from(len.saturating_sub(header_len[i])),
                )
            };
        }
    }
}

//! Every `unsafe` call of the port layer: `ioctl`s on `struct ifreq`,
//! `/dev/net/tun`, AF_PACKET sockets (`sockaddr_ll`, `setsockopt`), the UDP
//! and raw IP sockets of tunnel endpoints (`sockaddr_in`/`sockaddr_in6`), the
//! Unix sockets of stream and dgram ports (`sockaddr_un`), the batched
//! `recvmmsg`/`sendmmsg`, and io_uring batches ([`uring`]).
//!
//! Each function here is a safe wrapper that owns its invariants: fds are
//! wrapped in [`OwnedFd`] the moment a syscall returns them, pointers handed
//! to the kernel live only for the duration of the call, and structures read
//! back are plain data. Policy (what to refuse, how to count) lives in
//! `tap.rs`, `system.rs`, `tunnel.rs`, `stream.rs` and `dgram.rs`.

use std::ffi::CStr;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

mod uring;
pub use uring::FdRing;

use super::SendOutcome;
use crate::batch::{RxBatch, BATCH, HEADROOM, MAX_FRAME, SLOT_LEN};
use crate::wire::vnet::{VnetHdr, VNET_HDR_LEN};

/// Why a port could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The device does not exist.
    #[error("no such device {0:?}")]
    NoSuchDevice(String),
    /// The device exists but cannot be used as asked; the message names it
    /// and says why (e.g. `"lo" is a loopback device`).
    #[error("{0}")]
    Refused(String),
    /// The device is a TAP that another fd holds (only one may, as switchd
    /// opens it): a VM's, or that of a switchd that was just killed.
    #[error("{0:?} is held by another process (qemu?); add it as type=system to attach through AF_PACKET")]
    Held(String),
    /// A system call failed.
    #[error("{step} {name:?}: {source}")]
    Io {
        /// What was being done, e.g. `open /dev/net/tun`.
        step: &'static str,
        /// The device name.
        name: String,
        /// The OS error.
        source: io::Error,
    },
}

impl OpenError {
    /// Builds an [`OpenError::Io`]; for `map_err`.
    pub(crate) fn io<'a>(step: &'static str, name: &'a str) -> impl FnOnce(io::Error) -> OpenError + 'a {
        move |source| OpenError::Io {
            step,
            name: name.to_owned(),
            source,
        }
    }
}

/// Converts a `-1`-on-error return value into `io::Result`.
fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Takes ownership of an fd a syscall just returned (or its error).
fn own(fd: libc::c_int) -> io::Result<OwnedFd> {
    let fd = cvt(fd)?;
    // SAFETY: `fd` was just returned by the kernel, is open, and nothing else
    // owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

// ---------------------------------------------------------------------------
// struct ifreq and device ioctls
// ---------------------------------------------------------------------------

/// An all-zero `ifreq` carrying `name`.
fn ifreq(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid interface name {name:?}"),
        ));
    }
    // SAFETY: `ifreq` is a C struct of byte arrays, integers and a union of
    // those and one raw pointer; all-zero bytes are a valid value of each.
    let mut req: libc::ifreq = unsafe { zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    Ok(req)
}

/// A throwaway socket for device ioctls. Any socket reaches the kernel's
/// `dev_ioctl` for `SIOC*IF*`; AF_UNIX needs no IP stack and no privilege.
/// It resolves names in the network namespace of the calling thread.
fn ctl_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall without pointers.
    own(unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })
}

/// Runs a device ioctl whose argument is one `struct ifreq`.
fn ifreq_ioctl(fd: BorrowedFd<'_>, request: libc::Ioctl, req: &mut libc::ifreq) -> io::Result<()> {
    // SAFETY: every request passed here (SIOCGIF*, SIOCSIFFLAGS, TUNSETIFF,
    // SIOCETHTOOL) reads and writes at most one `struct ifreq`, and `req`
    // points to one that is valid for reads and writes for the duration of
    // the call. SIOCETHTOOL also follows `ifru_data`, which `if_driver` sets
    // to a live `EthtoolDrvinfo` whose `cmd` tells the kernel its size.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), request, req as *mut libc::ifreq) })?;
    Ok(())
}

/// Ifindex of device `name` in the calling thread's network namespace.
///
/// # Errors
/// `ENODEV` (`raw_os_error() == Some(libc::ENODEV)`) when there is no such
/// device; `InvalidInput` for a name that cannot be an interface name.
pub fn if_index(name: &str) -> io::Result<u32> {
    let mut req = ifreq(name)?;
    ifreq_ioctl(ctl_socket()?.as_fd(), libc::SIOCGIFINDEX as libc::Ioctl, &mut req)?;
    // SAFETY: SIOCGIFINDEX filled `ifru_ifindex`; every member is plain data.
    Ok(unsafe { req.ifr_ifru.ifru_ifindex } as u32)
}

/// MTU of device `name` (payload bytes after the Ethernet header).
///
/// # Errors
/// `ENODEV` when there is no such device.
pub fn if_mtu(name: &str) -> io::Result<u32> {
    let mut req = ifreq(name)?;
    ifreq_ioctl(ctl_socket()?.as_fd(), libc::SIOCGIFMTU as libc::Ioctl, &mut req)?;
    // SAFETY: SIOCGIFMTU filled `ifru_mtu`; every member is plain data.
    Ok(unsafe { req.ifr_ifru.ifru_mtu } as u32)
}

/// `IFF_*` flags of device `name` (`IFF_UP`, `IFF_LOOPBACK`, ...).
pub fn if_flags(name: &str) -> io::Result<libc::c_int> {
    let mut req = ifreq(name)?;
    ifreq_ioctl(ctl_socket()?.as_fd(), libc::SIOCGIFFLAGS as libc::Ioctl, &mut req)?;
    // SAFETY: SIOCGIFFLAGS filled `ifru_flags`; every member is plain data.
    // The kernel's flags are 16 bits wide in this interface; widen without
    // sign extension.
    Ok(libc::c_int::from(unsafe { req.ifr_ifru.ifru_flags } as u16))
}

/// Sets `IFF_UP` on device `name` if it is not set. Returns whether it had
/// to (the device was admin-down).
pub fn if_set_up(name: &str) -> io::Result<bool> {
    let sock = ctl_socket()?;
    let mut req = ifreq(name)?;
    ifreq_ioctl(sock.as_fd(), libc::SIOCGIFFLAGS as libc::Ioctl, &mut req)?;
    // SAFETY: SIOCGIFFLAGS filled `ifru_flags`; every member is plain data.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    if flags & libc::IFF_UP as libc::c_short != 0 {
        return Ok(false);
    }
    req.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    ifreq_ioctl(sock.as_fd(), libc::SIOCSIFFLAGS as libc::Ioctl, &mut req)?;
    Ok(true)
}

/// Link-layer type (`ARPHRD_*`) of device `name`.
pub fn if_hw_type(name: &str) -> io::Result<u16> {
    let mut req = ifreq(name)?;
    ifreq_ioctl(
        ctl_socket()?.as_fd(),
        libc::SIOCGIFHWADDR as libc::Ioctl,
        &mut req,
    )?;
    // SAFETY: SIOCGIFHWADDR filled `ifru_hwaddr`, a plain `sockaddr` whose
    // family is the ARPHRD type.
    Ok(unsafe { req.ifr_ifru.ifru_hwaddr }.sa_family)
}

/// `struct ethtool_drvinfo` from `<linux/ethtool.h>` (libc does not have it).
#[repr(C)]
struct EthtoolDrvinfo {
    cmd: u32,
    driver: [u8; 32],
    version: [u8; 32],
    fw_version: [u8; 32],
    bus_info: [u8; 32],
    erom_version: [u8; 32],
    reserved2: [u8; 12],
    n_priv_flags: u32,
    n_stats: u32,
    testinfo_len: u32,
    eedump_len: u32,
    regdump_len: u32,
}

const ETHTOOL_GDRVINFO: u32 = 0x0000_0003;

/// Driver name and bus info of device `name` (`ethtool -i`). For TUN/TAP
/// devices the driver is `tun` and the bus info says `tun` or `tap`.
pub fn if_driver(name: &str) -> io::Result<(String, String)> {
    let mut info = EthtoolDrvinfo {
        cmd: ETHTOOL_GDRVINFO,
        driver: [0; 32],
        version: [0; 32],
        fw_version: [0; 32],
        bus_info: [0; 32],
        erom_version: [0; 32],
        reserved2: [0; 12],
        n_priv_flags: 0,
        n_stats: 0,
        testinfo_len: 0,
        eedump_len: 0,
        regdump_len: 0,
    };
    let mut req = ifreq(name)?;
    req.ifr_ifru.ifru_data = (&mut info as *mut EthtoolDrvinfo).cast();
    ifreq_ioctl(ctl_socket()?.as_fd(), libc::SIOCETHTOOL as libc::Ioctl, &mut req)?;
    let text = |b: &[u8]| {
        CStr::from_bytes_until_nul(b)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    Ok((text(&info.driver), text(&info.bus_info)))
}

// ---------------------------------------------------------------------------
// /dev/net/tun
// ---------------------------------------------------------------------------

/// Opens `/dev/net/tun` non-blocking and close-on-exec.
pub fn tun_open() -> io::Result<OwnedFd> {
    // SAFETY: the path is a NUL-terminated literal; no other pointers.
    own(unsafe {
        libc::open(
            c"/dev/net/tun".as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    })
}

/// `TUNSETIFF`: creates device `name` or attaches the fd to it, with `flags`
/// (`IFF_TAP | IFF_NO_PI`, optionally `IFF_TUN_EXCL` to refuse an existing
/// device with `EBUSY`).
pub fn tun_set_iff(fd: BorrowedFd<'_>, name: &str, flags: libc::c_int) -> io::Result<()> {
    let mut req = ifreq(name)?;
    req.ifr_ifru.ifru_flags = flags as libc::c_short;
    ifreq_ioctl(fd, libc::TUNSETIFF, &mut req)
}

/// Runs a TUN ioctl whose argument is an integer passed by value.
fn tun_ioctl_value(fd: BorrowedFd<'_>, request: libc::Ioctl, value: libc::c_ulong) -> io::Result<()> {
    // SAFETY: TUNSETOFFLOAD and TUNSETPERSIST take their argument by value,
    // not as a pointer; the kernel reads no memory of ours.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), request, value) })?;
    Ok(())
}

/// `TUNSETOFFLOAD`: which offloads (`TUN_F_*`) the device may hand us. The
/// mask belongs to the device and survives detach on persistent devices.
pub fn tun_set_offload(fd: BorrowedFd<'_>, mask: libc::c_uint) -> io::Result<()> {
    tun_ioctl_value(fd, libc::TUNSETOFFLOAD, mask.into())
}

/// `TUNSETVNETHDRSZ`: the size of the virtio-net header in front of every
/// frame read or written (10: `struct virtio_net_hdr`). Set explicitly:
/// it belongs to the device, and a persistent one may carry another value.
pub fn tun_set_vnet_hdr_size(fd: BorrowedFd<'_>, size: usize) -> io::Result<()> {
    let size = size as libc::c_int;
    // SAFETY: TUNSETVNETHDRSZ reads one `c_int` through the pointer, which
    // points to `size`, alive for the whole call.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETVNETHDRSZ, &size as *const libc::c_int) })?;
    Ok(())
}

/// `TUNSETPERSIST`: whether the device outlives the last fd.
pub fn tun_set_persist(fd: BorrowedFd<'_>, persist: bool) -> io::Result<()> {
    tun_ioctl_value(fd, libc::TUNSETPERSIST, persist.into())
}

// ---------------------------------------------------------------------------
// AF_PACKET sockets
// ---------------------------------------------------------------------------

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

/// `setsockopt` of a plain value (an `int` or a C struct).
fn setsockopt<T>(fd: BorrowedFd<'_>, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
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

/// `recvmmsg(MSG_DONTWAIT)` into the messages `hdrs` describes, retrying
/// `EINTR`; `EAGAIN` comes back as `WouldBlock`. Returns how many arrived.
///
/// # Safety
/// Every header in `hdrs` must point to iovecs, a name buffer and a control
/// buffer (or null with length 0) that are valid for writes of the lengths
/// it states, for the duration of the call.
unsafe fn recv_messages(fd: BorrowedFd<'_>, hdrs: &mut [libc::mmsghdr]) -> io::Result<usize> {
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
unsafe fn send_messages(
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

/// Sets up `h` for one message to `name` (null: the socket's own peer or
/// device) gathered from `pieces`, in order, through `iov`; no control data.
/// Only pointers are stored here: `sendmmsg` reads them, so the caller
/// keeps the pieces and the name alive until it has been called.
///
/// # Panics
/// If there are more pieces than `iov` has room for.
#[inline]
fn gather<'p>(
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

// ---------------------------------------------------------------------------
// IP sockets of the tunnel endpoints (UDP, raw IP) and batched datagrams
// ---------------------------------------------------------------------------

/// A socket address in the form the kernel takes (`sockaddr_in` or
/// `sockaddr_in6`), built once per tunnel port and reused for every send.
#[derive(Clone, Copy)]
pub enum SockAddr {
    /// IPv4.
    V4(libc::sockaddr_in),
    /// IPv6.
    V6(libc::sockaddr_in6),
}

impl std::fmt::Debug for SockAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SockAddr({})", self.to_socket_addr())
    }
}

impl SockAddr {
    /// The kernel form of `addr`.
    pub fn new(addr: SocketAddr) -> SockAddr {
        match addr {
            SocketAddr::V4(a) => {
                // SAFETY: `sockaddr_in` is integers and byte arrays; all-zero
                // is valid.
                let mut sin: libc::sockaddr_in = unsafe { zeroed() };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr.s_addr = u32::from(*a.ip()).to_be();
                SockAddr::V4(sin)
            }
            SocketAddr::V6(a) => {
                // SAFETY: as above, for `sockaddr_in6`.
                let mut sin6: libc::sockaddr_in6 = unsafe { zeroed() };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_addr.s6_addr = a.ip().octets();
                sin6.sin6_scope_id = a.scope_id();
                SockAddr::V6(sin6)
            }
        }
    }

    /// Back to the std form.
    pub fn to_socket_addr(&self) -> SocketAddr {
        match self {
            SockAddr::V4(s) => SocketAddr::from((
                Ipv4Addr::from(u32::from_be(s.sin_addr.s_addr)),
                u16::from_be(s.sin_port),
            )),
            SockAddr::V6(s) => SocketAddr::V6(std::net::SocketAddrV6::new(
                Ipv6Addr::from(s.sin6_addr.s6_addr),
                u16::from_be(s.sin6_port),
                0,
                s.sin6_scope_id,
            )),
        }
    }

    /// Pointer and length for `bind`/`connect`/`msg_name`; valid while
    /// `self` is.
    fn raw(&self) -> (*const libc::sockaddr, libc::socklen_t) {
        match self {
            SockAddr::V4(s) => (
                (s as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            ),
            SockAddr::V6(s) => (
                (s as *const libc::sockaddr_in6).cast(),
                size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            ),
        }
    }
}

fn domain(v6: bool) -> libc::c_int {
    if v6 {
        libc::AF_INET6
    } else {
        libc::AF_INET
    }
}

/// `bind(2)` to `addr`.
pub fn bind(fd: BorrowedFd<'_>, addr: SocketAddr) -> io::Result<()> {
    let sa = SockAddr::new(addr);
    let (ptr, len) = sa.raw();
    // SAFETY: `ptr`/`len` describe `sa`, which lives across the call; the
    // kernel only reads it.
    cvt(unsafe { libc::bind(fd.as_raw_fd(), ptr, len) })?;
    Ok(())
}

/// `connect(2)` to `addr` (for a UDP socket: no packet is sent, the route
/// is looked up and remembered).
pub fn connect(fd: BorrowedFd<'_>, addr: SocketAddr) -> io::Result<()> {
    let sa = SockAddr::new(addr);
    let (ptr, len) = sa.raw();
    // SAFETY: as in `bind`.
    cvt(unsafe { libc::connect(fd.as_raw_fd(), ptr, len) })?;
    Ok(())
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

/// A non-blocking, close-on-exec UDP socket bound to `addr`. An IPv6
/// socket is IPv6-only (an IPv4 endpoint on the same port is a socket of
/// its own) and accepts a zero UDP checksum (RFC 6935, as senders with
/// `udp6zerocsumtx` use).
pub fn udp_socket_bound(addr: SocketAddr) -> io::Result<OwnedFd> {
    let v6 = addr.is_ipv6();
    // SAFETY: plain syscall without pointers.
    let fd = own(unsafe {
        libc::socket(
            domain(v6),
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            libc::IPPROTO_UDP,
        )
    })?;
    if v6 {
        setsockopt_int(fd.as_fd(), libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
        setsockopt_int(fd.as_fd(), libc::IPPROTO_UDP, libc::UDP_NO_CHECK6_RX, 1)?;
    }
    bind(fd.as_fd(), addr)?;
    Ok(fd)
}

/// A non-blocking, close-on-exec raw IP socket for `protocol` (e.g.
/// `IPPROTO_GRE`, `IPPROTO_UDP`) without `IP_HDRINCL`: the kernel builds
/// the IP header (routing, source address, neighbour resolution), the
/// caller writes what follows it. Needs CAP_NET_RAW.
pub fn raw_ip_socket(v6: bool, protocol: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall without pointers.
    own(unsafe {
        libc::socket(
            domain(v6),
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            protocol,
        )
    })
}

/// Makes the socket receive nothing: a classic BPF filter of one
/// instruction, `ret #0`. A raw socket gets a copy of every packet of its
/// protocol; one used only to send must not queue them.
pub fn set_drop_all_filter(fd: BorrowedFd<'_>) -> io::Result<()> {
    let mut insn = [libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: 0,
    }];
    let prog = libc::sock_fprog {
        len: insn.len() as libc::c_ushort,
        filter: insn.as_mut_ptr(),
    };
    // `prog.filter` points to `insn`, alive for the call; the kernel copies
    // the program.
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)
}

/// Sets the Don't Fragment policy: the kernel never fragments what the
/// socket sends and refuses (`EMSGSIZE`) a packet larger than the path MTU.
pub fn set_pmtu_discovery_do(fd: BorrowedFd<'_>, v6: bool) -> io::Result<()> {
    if v6 {
        setsockopt_int(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU_DISCOVER,
            libc::IPV6_PMTUDISC_DO,
        )
    } else {
        setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, libc::IP_PMTUDISC_DO)
    }
}

/// The MTU of the route to `remote` (from `local`, if given): the largest
/// IP packet the kernel would send there now, path MTU included. Asks a
/// throwaway connected UDP socket (`IP_MTU`/`IPV6_MTU`); nothing is sent.
///
/// # Errors
/// `ENETUNREACH` and the like when there is no route; `EADDRNOTAVAIL` when
/// `local` is not an address of this host.
pub fn route_mtu(remote: IpAddr, local: Option<IpAddr>) -> io::Result<u32> {
    let v6 = remote.is_ipv6();
    // SAFETY: plain syscall without pointers.
    let fd = own(unsafe { libc::socket(domain(v6), libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    if let Some(l) = local {
        bind(fd.as_fd(), SocketAddr::new(l, 0))?;
    }
    // Port 9 (discard): any port works, connect(2) only routes.
    connect(fd.as_fd(), SocketAddr::new(remote, 9))?;
    let mtu = if v6 {
        getsockopt_int(fd.as_fd(), libc::IPPROTO_IPV6, libc::IPV6_MTU)?
    } else {
        getsockopt_int(fd.as_fd(), libc::IPPROTO_IP, libc::IP_MTU)?
    };
    Ok(mtu.max(0) as u32)
}

/// Reads the address out of a `sockaddr_storage` the kernel filled.
fn storage_ip(ss: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<IpAddr> {
    match libc::c_int::from(ss.ss_family) {
        libc::AF_INET if len as usize >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: `sockaddr_storage` is aligned for and larger than every
            // sockaddr type, the family says the kernel wrote a
            // `sockaddr_in`, and it is plain data.
            let sin = unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr))))
        }
        libc::AF_INET6 if len as usize >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for `sockaddr_in6`.
            let sin6 = unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
        }
        _ => None,
    }
}

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

// SAFETY: as for `RxArrays`: the pointers are rewritten before every
// `recvmmsg` in `DgramRx::recv` and never dereferenced elsewhere.
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
}

/// Most pieces one datagram is gathered from: tunnel header, MAC
/// addresses, VLAN tag, rest of the frame.
pub const DGRAM_PIECES: usize = 4;

/// The arrays `sendmmsg` works on for an IP socket.
struct DgramTxArrays {
    hdrs: [libc::mmsghdr; BATCH],
    iovs: [[libc::iovec; DGRAM_PIECES]; BATCH],
}

// SAFETY: as for `TxArrays`: the pointers are rewritten before every
// `sendmmsg` in `DgramTx::send` and never dereferenced elsewhere.
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
    /// [`PacketTx::send`] does: `EAGAIN`/`ENOBUFS` drops the rest of the
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

// ---------------------------------------------------------------------------
// Unix sockets of stream and dgram ports
// ---------------------------------------------------------------------------

/// A Unix socket address (`sockaddr_un`) and the length the kernel uses for
/// it: a filesystem path, or (as received from an unbound sender) no name.
#[derive(Clone, Copy)]
pub struct UnixAddr {
    sun: libc::sockaddr_un,
    len: libc::socklen_t,
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
    fn raw(&self) -> (*const libc::sockaddr, libc::socklen_t) {
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

impl DgramRx {
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

impl DgramTx {}

#[cfg(test)]
pub(crate) mod test_util {
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
}

#[cfg(test)]
mod tests {
    use super::test_util::*;
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

    #[test]
    fn ifreq_rejects_bad_names() {
        assert!(ifreq("").is_err());
        assert!(ifreq("0123456789abcdef").is_err());
        assert!(ifreq("a\0b").is_err());
        assert!(ifreq("0123456789abcde").is_ok());
    }

    #[test]
    fn device_queries() {
        if !root_or_skip("device_queries") {
            return;
        }
        enter_private_netns();
        assert_eq!(if_index("lo").unwrap(), 1);
        assert_eq!(if_mtu("lo").unwrap(), 65536);
        assert_eq!(if_hw_type("lo").unwrap(), libc::ARPHRD_LOOPBACK);
        assert!(if_flags("lo").unwrap() & libc::IFF_LOOPBACK != 0);
        let missing = uniq("nx");
        for e in [if_index(&missing).unwrap_err(), if_mtu(&missing).unwrap_err()] {
            assert_eq!(e.raw_os_error(), Some(libc::ENODEV), "{e}");
        }

        let name = uniq("q");
        let peer = uniq("qp");
        let _g = LinkGuard(name.clone());
        ip_ok(&[
            "link", "add", &name, "mtu", "1400", "type", "veth", "peer", "name", &peer,
        ]);
        assert_eq!(if_mtu(&name).unwrap(), 1400);
        assert_eq!(if_index(&name).unwrap().to_string(), {
            let t = ip_ok(&["-o", "link", "show", "dev", &name]);
            t.split(':').next().unwrap().to_owned()
        });
        assert_eq!(if_hw_type(&name).unwrap(), libc::ARPHRD_ETHER);
        assert_eq!(if_flags(&name).unwrap() & libc::IFF_UP, 0);
        assert!(if_set_up(&name).unwrap());
        assert!(!if_set_up(&name).unwrap());
        assert!(if_flags(&name).unwrap() & libc::IFF_UP != 0);
        assert_eq!(if_driver(&name).unwrap().0, "veth");
    }
}

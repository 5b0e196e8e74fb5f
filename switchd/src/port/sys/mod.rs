//! Every `unsafe` call of the port layer, one file per kernel interface:
//! `ioctl`s on `struct ifreq`, `/dev/net/tun`, AF_PACKET sockets
//! (`sockaddr_ll`, `setsockopt`), the UDP and raw IP sockets of tunnel
//! endpoints (`sockaddr_in`/`sockaddr_in6`), the Unix sockets of stream and
//! dgram ports (`sockaddr_un`), the batched `recvmmsg`/`sendmmsg`, and
//! io_uring batches. No other file of the crate has `unsafe`.
//!
//! Each function here is a safe wrapper that owns its invariants: fds are
//! wrapped in [`OwnedFd`](std::os::fd::OwnedFd) the moment a syscall
//! returns them, pointers handed to the kernel live only for the duration
//! of the call, and structures read back are plain data. Every `unsafe`
//! block says why it is sound in a `// SAFETY:` comment. Policy (what to
//! refuse, how to count) lives in `tap.rs`, `system.rs`, `tunnel/`,
//! `stream.rs` and `dgram.rs` one level up.
//!
//! Files (callers use the re-exports here: `sys::if_index`,
//! `sys::PacketRx`, ...):
//! - `common.rs`: `-1`-on-error conversion, fd ownership, socket options;
//! - `ifreq.rs`: device ioctls (ifindex, MTU, flags, link type, driver);
//! - `tun.rs`: `/dev/net/tun` and the `TUNSET*` ioctls;
//! - `packet.rs`: AF_PACKET sockets, [`PacketRx`], [`PacketTx`];
//! - `inet.rs`: IP and UDP sockets, [`SockAddr`], route MTU;
//! - `unix.rs`: Unix sockets, [`UnixAddr`], listen/accept;
//! - `dgram.rs`: batched datagrams on IP and Unix sockets, [`DgramRx`],
//!   [`DgramTx`];
//! - `mmsg.rs`: the `recvmmsg`/`sendmmsg` loops `packet.rs` and `dgram.rs`
//!   share;
//! - `netlink.rs`: the link-change watch socket;
//! - `fds.rs`: handing fds to the next image on an in-place restart
//!   (memfd, close-on-exec, adopting inherited fds);
//! - `uring.rs`: io_uring batches of TAP reads and writes ([`FdRing`]);
//! - `test_util.rs` (tests only): namespaces, `ip`, guards, test batches.
//!
//! No file imports this `mod.rs`; they import `common.rs` and, where one
//! interface builds on another, each other in one direction only
//! (`tun` → `ifreq`; `packet`, `dgram` → `mmsg`; `dgram` → `inet`, `unix`).

mod common;
mod dgram;
mod fds;
mod ifreq;
mod inet;
mod mmsg;
mod netlink;
mod packet;
#[cfg(test)]
pub(crate) mod test_util;
mod tun;
mod unix;
mod uring;

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub use common::{getsockopt_int, set_buffer_size, setsockopt_int};
pub use dgram::{DgramRx, DgramTx};
pub use fds::{adopt, memfd, set_cloexec};
pub use ifreq::{if_driver, if_flags, if_full_duplex, if_hw_type, if_index, if_mtu, if_set_up};
pub use inet::{
    bind, raw_ip_socket, route_mtu, set_drop_all_filter, set_pmtu_discovery_do, udp_socket_bound, SockAddr,
};
pub use netlink::{drain_link_watch, link_watch_socket};
pub use packet::{
    packet_add_promisc, packet_bind, packet_bound_ifindex, packet_queue_drops, packet_socket, PacketRx,
    PacketTx,
};
pub use tun::{tun_get_iff, tun_open, tun_set_iff, tun_set_offload, tun_set_persist, tun_set_vnet_hdr_size};
pub use unix::{
    accept, euid, listen, send_vectored, unix_bound, unix_local_addr, unix_socket_bound, UnixAddr,
};
pub use uring::FdRing;

/// Why a port could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The device does not exist.
    #[error("no such device {0:?}")]
    NoSuchDevice(String),
    /// A `system` port on a loopback device, which has no link to switch
    /// frames on.
    #[error("{name:?} is a loopback device")]
    IsLoopback {
        /// The device name.
        name: String,
    },
    /// A `system` port on a device whose link layer is not Ethernet.
    #[error("{name:?} is not an Ethernet device (link type {link_type})")]
    NotEthernet {
        /// The device name.
        name: String,
        /// Its `ARPHRD_*` link type (e.g. 65534, `ARPHRD_NONE`, for a TUN
        /// device).
        link_type: u16,
    },
    /// A `tap` port whose name has a `%`: the kernel would take it as a
    /// template and create, say, `tap0` instead.
    #[error("{name:?} contains '%', which the kernel treats as a name template")]
    NameIsTemplate {
        /// The port (device) name.
        name: String,
    },
    /// A `tap` port on an existing TUN (layer 3) device.
    #[error("{name:?} is a TUN (layer 3) device, not a TAP device")]
    IsTun {
        /// The device name.
        name: String,
    },
    /// A `tap` port on an existing multi-queue TAP device: switchd
    /// attaches single-queue, which the kernel refuses for it.
    #[error(
        "{name:?} is a multi-queue TAP device, which type=tap does not support; \
         add it as type=system to attach through AF_PACKET"
    )]
    MultiQueueTap {
        /// The device name.
        name: String,
    },
    /// A `tap` port on an existing device that is no tun/tap device at all.
    #[error("{name:?} exists and is not a TAP device")]
    NotATap {
        /// The device name.
        name: String,
    },
    /// A `stream` or `dgram` port without `path` (only from a hand-edited
    /// db).
    #[error("a {0} port needs path=FILE")]
    NeedsPath(proto::PortType),
    /// The socket file path of a `stream` or `dgram` port is relative.
    #[error("path {:?} is not absolute", shown(.0))]
    PathNotAbsolute(PathBuf),
    /// The socket file path is longer than a `sockaddr_un` holds.
    #[error(
        "path {:?} is {} bytes long, the limit for a unix socket is {limit}",
        shown(.path),
        shown(.path).len()
    )]
    PathTooLong {
        /// The path.
        path: PathBuf,
        /// The longest path a unix socket address holds, in bytes.
        limit: usize,
    },
    /// The socket file path is not too long yet no unix socket address:
    /// it has a NUL byte.
    #[error("path {:?} cannot be a unix socket path", shown(.0))]
    PathHasNul(PathBuf),
    /// The socket file path ends in `..` or is `/`.
    #[error("path {:?} names no file", shown(.0))]
    PathNamesNoFile(PathBuf),
    /// The directory part of the socket file path is not a directory.
    #[error("{:?} is not a directory (path {:?})", shown(.dir), shown(.path))]
    NotADirectory {
        /// The parent of the socket file.
        dir: PathBuf,
        /// The whole path.
        path: PathBuf,
    },
    /// The directory of the socket file does not exist.
    #[error("directory {:?} does not exist (path {:?})", shown(.dir), shown(.path))]
    NoSuchDirectory {
        /// The directory part.
        dir: PathBuf,
        /// The whole path.
        path: PathBuf,
    },
    /// A file other than a socket is where the socket file would go.
    #[error("{:?} exists and is not a socket", shown(.0))]
    NotASocket(PathBuf),
    /// The socket file is served by another process (say, another
    /// switchd).
    #[error("{:?} is in use: another process listens on it", shown(.0))]
    SocketInUse(PathBuf),
    /// The socket file just bound was swapped for another file before
    /// switchd could take charge of it.
    #[error("{:?} was replaced by another file while it was being created", shown(.0))]
    SocketReplaced(PathBuf),
    /// At start-up, a `persist=true` TAP is not in switchd's network
    /// namespace: it was moved into another one (a guest's, a
    /// container's), where it cannot be found by name, or deleted. A new
    /// device of that name here would not reach whoever had it (SPEC §13).
    #[error(
        "persistent TAP {0} is not in switchd's network namespace (moved into another one, or deleted); \
         switchctl restart keeps such TAPs attached, del-port and add-port make a new one"
    )]
    PersistentTapGone(String),
    /// A tunnel port without `remote_ip` (only from a hand-edited db).
    #[error("a {0} port needs remote_ip")]
    NeedsRemoteIp(proto::PortType),
    /// The UDP port of a VXLAN endpoint is bound by someone other than
    /// this switchd.
    #[error("UDP port {port} on {local} is already in use (by another program, or a kernel vxlan device)")]
    UdpPortTaken {
        /// The UDP port (`dst_port`).
        port: u16,
        /// The local address it was to be bound on.
        local: IpAddr,
    },
    /// A tunnel port's `local_ip` is not an address of this host.
    #[error("local_ip {0} is not an address of this host")]
    NotLocalAddress(IpAddr),
    /// Another tunnel port already receives this peer and key.
    #[error("{demux} on {endpoint} is already used by port {port:?}")]
    TunnelTaken {
        /// The peer address and key.
        demux: String,
        /// The endpoint (kind, local address, port).
        endpoint: String,
        /// The port that has it.
        port: String,
    },
    /// An endpoint of this switchd holds the UDP port in a way that
    /// conflicts (one bound to any address, one to a specific one).
    #[error("UDP port {port} is already used by endpoint {other} of this switchd (tunnel ports with and without local_ip cannot share a dst_port)")]
    EndpointConflict {
        /// The UDP port.
        port: u16,
        /// The endpoint holding it.
        other: String,
    },
    /// A tunnel port has no device of its own; it is served by its endpoint.
    #[error("a {0} port has no device to open")]
    NotADevice(proto::PortType),
    /// The device is a TAP that another fd holds (only one may, as switchd
    /// opens it): a VM's, or that of a switchd that was just killed.
    #[error("{0:?} is held by another process (qemu?); add it as type=system to attach through AF_PACKET")]
    Held(String),
    /// A system call failed.
    ///
    /// The OS error is part of the message, so it is a plain field
    /// (`cause`), not thiserror's `source`: were it both, `{:#}` (anyhow's
    /// chain, as switchd's main prints errors) would print it twice.
    #[error("{step} {name:?}: {cause}")]
    Io {
        /// What was being done, e.g. `open /dev/net/tun`.
        step: &'static str,
        /// The device name.
        name: String,
        /// The OS error.
        cause: io::Error,
    },
}

/// A path as messages show it: as text, quoted by the `{:?}` that prints
/// it.
fn shown(path: &Path) -> String {
    path.display().to_string()
}

impl OpenError {
    /// Builds an [`OpenError::Io`]; for `map_err`.
    pub(crate) fn io<'a>(step: &'static str, name: &'a str) -> impl FnOnce(io::Error) -> OpenError + 'a {
        move |cause| OpenError::Io {
            step,
            name: name.to_owned(),
            cause,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// anyhow's `{:#}` prints an error and then each of its sources; the
    /// OS error of [`OpenError::Io`] is in its message, so it must not be
    /// a source as well.
    #[test]
    fn io_error_prints_its_cause_once() {
        let os = io::Error::from_raw_os_error(libc::EPERM);
        let text = os.to_string();
        let e = OpenError::io("open /dev/net/tun", "tap0")(os);
        let shown = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(shown, format!("open /dev/net/tun \"tap0\": {text}"));
        assert_eq!(shown.matches(&text).count(), 1, "{shown}");
    }
}

//! IP sockets of the tunnel endpoints: socket addresses in kernel form
//! ([`SockAddr`]), `bind`/`connect`, the bound UDP socket and raw IP
//! sockets, their receive filter and Don't Fragment policy, and the MTU of
//! the route to a peer.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use super::common::{cvt, getsockopt_int, own, setsockopt, setsockopt_int};

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
    pub fn to_socket_addr(self) -> SocketAddr {
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
    pub(super) fn raw(&self) -> (*const libc::sockaddr, libc::socklen_t) {
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
pub(super) fn storage_ip(ss: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<IpAddr> {
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

//! GRE endpoint socket: one raw `IPPROTO_GRE` socket that sends and
//! receives Ethernet over GRE. The kernel needs no `ip_gre`/`gretap`
//! support for this: raw sockets get every packet of their protocol before
//! (and without) a kernel protocol handler, and no ICMP "protocol
//! unreachable" is sent for a packet a raw socket took.
//!
//! One file per tunnel kind keeps each protocol's socket set-up apart; the
//! endpoint code in `tunnel/mod.rs` calls in here, and this file takes the
//! endpoint's identity from `tunnel/key.rs`, never from its parent.

use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};

use super::key::{EndpointKey, RCVBUF, SNDBUF};
use crate::port::sys::{self, OpenError};
use crate::stats::DropReason;
use crate::wire;

/// Opens the socket of GRE endpoint `key`. Bound to `local_ip` when there
/// is one, so it receives only packets sent to that address (an unbound one
/// receives GRE sent to any address of the host).
pub(super) fn open(key: &EndpointKey) -> Result<OwnedFd, OpenError> {
    let name = key.to_string();
    let v6 = key.local.is_ipv6();
    let fd = sys::raw_ip_socket(v6, libc::IPPROTO_GRE)
        .map_err(OpenError::io("create raw GRE socket for", &name))?;
    sys::set_pmtu_discovery_do(fd.as_fd(), v6).map_err(OpenError::io("set don't-fragment on", &name))?;
    if !key.local.is_unspecified() {
        sys::bind(fd.as_fd(), SocketAddr::new(key.local, 0)).map_err(|e| match e.raw_os_error() {
            Some(libc::EADDRNOTAVAIL) => OpenError::NotLocalAddress(key.local),
            _ => OpenError::Io {
                step: "bind raw GRE socket for",
                name: name.clone(),
                cause: e,
            },
        })?;
    }
    sys::set_buffer_size(fd.as_fd(), true, RCVBUF).map_err(OpenError::io("set SO_RCVBUF on", &name))?;
    sys::set_buffer_size(fd.as_fd(), false, SNDBUF).map_err(OpenError::io("set SO_SNDBUF on", &name))?;
    Ok(fd)
}

/// Reads the outer headers of a packet from the raw socket (`v6`: no IP
/// header in front); returns the key and where the inner frame starts.
#[inline]
pub(super) fn decode(v6: bool, packet: &[u8]) -> Result<(Option<u32>, usize), DropReason> {
    let ip = if v6 {
        0
    } else {
        wire::gre::ipv4_header_len(packet)?
    };
    let gre = wire::gre::decode(&packet[ip..])?;
    Ok((gre.key, ip + gre.len))
}

//! VXLAN endpoint sockets: a UDP socket bound to `local:dst_port` that
//! receives, and a raw `IPPROTO_UDP` socket that sends with per-flow UDP
//! source ports (see [`super`] for why two).
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

/// Offset of the UDP checksum in the UDP header, for `IPV6_CHECKSUM`.
const UDP_CHECKSUM_OFFSET: i32 = 6;

/// Opens the receive and the send socket of VXLAN endpoint `key`.
pub(super) fn open(key: &EndpointKey) -> Result<(OwnedFd, OwnedFd), OpenError> {
    let name = key.to_string();
    let v6 = key.local.is_ipv6();
    let rx =
        sys::udp_socket_bound(SocketAddr::new(key.local, key.port)).map_err(|e| match e.raw_os_error() {
            Some(libc::EADDRINUSE) => OpenError::UdpPortTaken {
                port: key.port,
                local: key.local,
            },
            Some(libc::EADDRNOTAVAIL) => OpenError::NotLocalAddress(key.local),
            _ => OpenError::Io {
                step: "bind UDP socket for",
                name: name.clone(),
                cause: e,
            },
        })?;
    sys::set_buffer_size(rx.as_fd(), true, RCVBUF).map_err(OpenError::io("set SO_RCVBUF on", &name))?;

    let tx = sys::raw_ip_socket(v6, libc::IPPROTO_UDP)
        .map_err(OpenError::io("create raw UDP socket for", &name))?;
    sys::set_drop_all_filter(tx.as_fd()).map_err(OpenError::io("attach receive filter to", &name))?;
    sys::set_pmtu_discovery_do(tx.as_fd(), v6).map_err(OpenError::io("set don't-fragment on", &name))?;
    if v6 {
        sys::setsockopt_int(
            tx.as_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_CHECKSUM,
            UDP_CHECKSUM_OFFSET,
        )
        .map_err(OpenError::io("set IPV6_CHECKSUM on", &name))?;
    }
    if !key.local.is_unspecified() {
        sys::bind(tx.as_fd(), SocketAddr::new(key.local, 0))
            .map_err(OpenError::io("bind raw UDP socket for", &name))?;
    }
    sys::set_buffer_size(tx.as_fd(), false, SNDBUF).map_err(OpenError::io("set SO_SNDBUF on", &name))?;
    Ok((rx, tx))
}

/// Reads the VXLAN header of a received UDP payload; returns the VNI.
#[inline]
pub(super) fn decode(payload: &[u8]) -> Result<u32, DropReason> {
    wire::vxlan::decode(payload)
}

//! Port I/O: one module per port kind behind one small contract,
//! dispatched with a `match` (no vtable on the hot path).
//!
//! - [`tap`] (`tap.rs`, tests in `tap/tests.rs`): a TAP device opened
//!   through `/dev/net/tun`;
//! - [`system`] (`system.rs`, tests in `system/tests.rs`): an existing
//!   device through an AF_PACKET raw socket;
//! - [`stream`], [`dgram`]: Unix sockets that a VM (qemu `-netdev stream` /
//!   `-netdev dgram`) connects to, without TAP or root;
//! - [`tunnel`]: VXLAN and GRE ports, which share endpoint sockets (opened
//!   by its children `tunnel/vxlan.rs` and `tunnel/gre.rs`) and are served
//!   by the engine through [`tunnel::Endpoint`] rather than [`PortIo`] (they
//!   have no fd of their own: one socket receives for many ports);
//! - [`sys`]: every `unsafe` call (ioctls, sockets, `recvmmsg`/`sendmmsg`,
//!   io_uring), one file per kernel interface;
//! - `outcome.rs`: [`SendOutcome`], what a send did;
//! - [`handed`]: what a port hands to the next image on an in-place restart
//!   (SPEC §13); each kind has `hand_over` and `adopt` beside `open`.
//!
//! The frames moved and the edits applied on the way out are
//! [`crate::batch`]'s types: the I/O layer imports them from there, the
//! core (pipeline, VLAN rules, offloads) never imports `port`. The kinds
//! import `crate::batch`, `outcome.rs` and `sys`, never this file, which
//! only dispatches to them.
//!
//! Contract for every kind:
//! - the fd is non-blocking and close-on-exec; the engine registers it with
//!   mio (edge-triggered) for readability only;
//! - [`PortIo::recv_batch`] fills up to [`BATCH`](crate::batch::BATCH)
//!   frames and returns how many; fewer than `BATCH` means the fd was
//!   drained (readiness consumed), so the engine waits for the next edge;
//!   exactly `BATCH` means "maybe more";
//! - [`PortIo::send_batch`] never blocks: what the kernel does not take is
//!   counted as dropped, not retried.

pub mod bond;
pub mod dgram;
#[cfg(test)]
pub mod fake;
pub mod handed;
mod outcome;
pub mod stream;
pub mod sys;
pub mod system;
pub mod tap;
pub mod tunnel;

use std::io;
use std::os::fd::RawFd;

// Re-exported so that code naming them through the I/O layer (the engine)
// keeps its paths; files under `port/` import `crate::batch` directly.
pub use crate::batch::{RxBatch, TxEntry, BATCH};
pub use outcome::SendOutcome;

/// The open I/O object of a port.
#[derive(Debug)]
pub enum PortIo {
    /// TAP device.
    Tap(tap::TapPort),
    /// AF_PACKET socket on an existing device.
    System(system::SystemPort),
    /// Unix stream socket (length-prefixed frames) a client connects to.
    Stream(stream::StreamPort),
    /// Unix datagram socket (one frame per datagram).
    Dgram(dgram::DgramPort),
    /// An in-memory device (engine tests).
    #[cfg(test)]
    Fake(fake::FakePort),
}

impl PortIo {
    /// The fd to register with the poller.
    pub fn raw_fd(&self) -> RawFd {
        match self {
            PortIo::Tap(p) => p.raw_fd(),
            PortIo::System(p) => p.raw_fd(),
            PortIo::Stream(p) => p.raw_fd(),
            PortIo::Dgram(p) => p.raw_fd(),
            #[cfg(test)]
            PortIo::Fake(p) => p.raw_fd(),
        }
    }

    /// Receives up to `BATCH` frames into `batch` (see the module contract).
    /// `Err` is a device error (e.g. the device went away), never
    /// `WouldBlock`.
    pub fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        match self {
            PortIo::Tap(p) => p.recv_batch(batch),
            PortIo::System(p) => p.recv_batch(batch),
            PortIo::Stream(p) => p.recv_batch(batch),
            PortIo::Dgram(p) => p.recv_batch(batch),
            #[cfg(test)]
            PortIo::Fake(p) => p.recv_batch(batch),
        }
    }

    /// Sends the queued frames of `batch`, each with its edit.
    pub fn send_batch(&mut self, batch: &RxBatch, tx: &[TxEntry]) -> SendOutcome {
        match self {
            PortIo::Tap(p) => p.send_batch(batch, tx),
            PortIo::System(p) => p.send_batch(batch, tx),
            PortIo::Stream(p) => p.send_batch(batch, tx),
            PortIo::Dgram(p) => p.send_batch(batch, tx),
            #[cfg(test)]
            PortIo::Fake(p) => p.send_batch(batch, tx),
        }
    }

    /// Whether the port takes frames with a virtio-net header, so GSO
    /// super-frames and partial checksums can be sent to it as they are.
    /// Other ports get such frames checksummed and segmented by the engine.
    pub fn offloads(&self) -> bool {
        match self {
            PortIo::Tap(p) => p.offloads(),
            PortIo::System(p) => p.offloads(),
            // qemu's stream and dgram backends carry plain frames.
            PortIo::Stream(_) | PortIo::Dgram(_) => false,
            #[cfg(test)]
            PortIo::Fake(_) => false,
        }
    }

    /// Frames the kernel dropped since the last call because the port's
    /// receive queue was full; only AF_PACKET sockets can tell.
    pub fn take_queue_drops(&mut self) -> u64 {
        match self {
            PortIo::System(p) => p.take_queue_drops(),
            _ => 0,
        }
    }

    /// Receive errors the port found inside its own framing and that no
    /// frame carries (a stream client's bad length prefix), since it opened.
    pub fn framing_errors(&self) -> u64 {
        match self {
            PortIo::Stream(p) => p.stats().protocol_errors,
            _ => 0,
        }
    }

    /// The device MTU (payload bytes after the Ethernet header), read when
    /// the port was opened.
    pub fn mtu(&self) -> u32 {
        match self {
            PortIo::Tap(p) => p.mtu(),
            PortIo::System(p) => p.mtu(),
            PortIo::Stream(p) => p.mtu(),
            PortIo::Dgram(p) => p.mtu(),
            #[cfg(test)]
            PortIo::Fake(p) => p.mtu(),
        }
    }

    /// The fds and state this port hands to the next image on an in-place
    /// restart (SPEC §13); `None` for ports that hand nothing over.
    pub fn hand_over(&self) -> Option<handed::PortFds> {
        match self {
            PortIo::Tap(p) => Some(p.hand_over()),
            PortIo::System(p) => Some(p.hand_over()),
            PortIo::Stream(p) => Some(p.hand_over()),
            PortIo::Dgram(p) => Some(p.hand_over()),
            #[cfg(test)]
            PortIo::Fake(_) => None,
        }
    }

    /// The index of the device the port is bound to, for ports on a device
    /// that can vanish and come back under the same name.
    pub fn ifindex(&self) -> Option<u32> {
        match self {
            PortIo::System(p) => Some(p.ifindex()),
            #[cfg(test)]
            PortIo::Fake(p) => Some(p.ifindex()),
            _ => None,
        }
    }
}

/// Where ports find their devices: the host's, or in tests a [`fake::FakeNet`].
#[derive(Debug, Clone)]
pub enum Devices {
    /// The kernel's devices; TAPs opened with this I/O mode.
    Host(tap::TapIo),
    /// In-memory devices (engine tests).
    #[cfg(test)]
    Fake(fake::FakeNet),
}

impl Devices {
    /// Opens the device of a port that has one (tunnel ports have none).
    /// With `handed`, the fds a previous image handed over on an in-place
    /// restart, the port takes them over instead; if they no longer fit the
    /// port (its device was replaced meanwhile, say), they are closed, the
    /// port is opened anew and the second value says why.
    ///
    /// # Errors
    /// Why the device cannot be used.
    pub fn open_or_adopt(
        &self,
        name: &proto::IfName,
        config: &proto::PortConfig,
        handed: Option<handed::Handed>,
    ) -> (Result<PortIo, sys::OpenError>, Option<sys::OpenError>) {
        use proto::PortType;
        let Some(handed) = handed else {
            return (self.open(name, config), None);
        };
        let adopted = match (self, config.port_type) {
            (Devices::Host(tap_io), PortType::Tap) => {
                tap::TapPort::adopt(name, *tap_io, handed).map(PortIo::Tap)
            }
            (Devices::Host(_), PortType::System) => {
                system::SystemPort::adopt(name, handed).map(PortIo::System)
            }
            (Devices::Host(_), PortType::Stream) => {
                stream::StreamPort::adopt(name, config, handed).map(PortIo::Stream)
            }
            (Devices::Host(_), PortType::Dgram) => {
                dgram::DgramPort::adopt(name, config, handed).map(PortIo::Dgram)
            }
            _ => Err(sys::OpenError::NotADevice(config.port_type)),
        };
        match adopted {
            Ok(io) => (Ok(io), None),
            Err(why) => (self.open(name, config), Some(why)),
        }
    }

    /// Opens the device of a port that has one (tunnel ports have none).
    ///
    /// # Errors
    /// Why the device cannot be used.
    pub fn open(&self, name: &proto::IfName, config: &proto::PortConfig) -> Result<PortIo, sys::OpenError> {
        use proto::PortType;
        match self {
            Devices::Host(tap_io) => match config.port_type {
                PortType::System => system::SystemPort::open(name).map(PortIo::System),
                PortType::Tap => tap::TapPort::open(name, config.persist, *tap_io).map(PortIo::Tap),
                PortType::Stream => stream::StreamPort::open(name, config).map(PortIo::Stream),
                PortType::Dgram => dgram::DgramPort::open(name, config).map(PortIo::Dgram),
                PortType::Vxlan | PortType::Gre | PortType::Bond => {
                    Err(sys::OpenError::NotADevice(config.port_type))
                }
            },
            #[cfg(test)]
            Devices::Fake(net) => net.open(name.as_str()).map(PortIo::Fake),
        }
    }

    /// Whether device `name` has carrier, and whether it is point-to-point
    /// (full duplex, or a device that does not say) for RSTP.
    pub fn carrier(&self, name: &proto::IfName) -> (bool, bool) {
        match self {
            Devices::Host(_) => {
                // IFF_RUNNING is operstate up: carrier and not dormant.
                // (IFF_LOWER_UP does not fit the 16 flag bits SIOCGIFFLAGS
                // returns.)
                let carrier = sys::if_flags(name.as_str()).map_or(true, |f| f & libc::IFF_RUNNING != 0);
                let p2p = sys::if_full_duplex(name.as_str()).unwrap_or(true);
                (carrier, p2p)
            }
            #[cfg(test)]
            Devices::Fake(net) => (net.carrier(name.as_str()), true),
        }
    }

    /// The current index of device `name`, if there is one.
    pub fn if_index(&self, name: &proto::IfName) -> Option<u32> {
        match self {
            Devices::Host(_) => sys::if_index(name.as_str()).ok(),
            #[cfg(test)]
            Devices::Fake(net) => net.if_index(name.as_str()),
        }
    }
}

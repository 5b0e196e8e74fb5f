//! What one port hands to the next image on an in-place restart (SPEC §13),
//! and what the next image gets back: the port's fds by number, and the few
//! things besides the fds that the new image cannot read back from the
//! kernel (bytes half-way through a stream, a dgram peer's address, the MTU
//! of a TAP that was moved into another namespace).
//!
//! A leaf: the port kinds produce and consume it, `crate::handover` writes
//! it into the manifest; it imports neither.

use std::os::fd::{OwnedFd, RawFd};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A port's part of the manifest. Fd numbers stay valid across `execve`
/// (the fds are left open for the new image).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortFds {
    /// The fds, in the order the port kind defines (stream: the listener,
    /// then the connection if there is one).
    pub fds: Vec<RawFd>,
    /// The device MTU the port had.
    pub mtu: u32,
    /// Stream ports: received bytes not yet a whole frame.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rx_pending: Vec<u8>,
    /// Stream ports: bytes queued for the client and not yet sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tx_pending: Vec<u8>,
    /// Dgram ports: the path of the peer frames are sent to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<PathBuf>,
}

/// A port's fds as the new image received them: owned again, with what
/// else the old image wrote down.
#[derive(Debug)]
pub struct Handed {
    /// The fds, in the order of [`PortFds::fds`].
    pub fds: Vec<OwnedFd>,
    /// The rest of the manifest entry (its `fds` are the numbers).
    pub state: PortFds,
}

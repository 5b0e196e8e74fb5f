//! What one port hands to the next image on an in-place restart (SPEC §13),
//! and what the next image gets back: the port's fds by number, and the few
//! things besides the fds that the new image cannot read back from the
//! kernel (bytes half-way through a stream, a dgram peer's address, the MTU
//! of a TAP that was moved into another namespace).
//!
//! The port kinds produce and consume it, `crate::handover` writes it into
//! the manifest; it imports neither (only `sys`'s error type).

use std::io;
use std::os::fd::{OwnedFd, RawFd};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::sys::OpenError;

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

impl Handed {
    /// The first fd and the rest of the entry, for the kinds that hand over
    /// one fd.
    ///
    /// # Errors
    /// [`refused`] when no fd was handed over.
    pub fn into_first(self, name: &str) -> Result<(OwnedFd, PortFds), OpenError> {
        let Handed { fds, state } = self;
        let fd = fds
            .into_iter()
            .next()
            .ok_or_else(|| refused(name, "no fd handed over".into()))?;
        Ok((fd, state))
    }
}

/// Why what was handed over for port `name` cannot be taken over (the port
/// is then opened anew).
pub fn refused(name: &str, why: String) -> OpenError {
    OpenError::Io {
        step: "take over",
        name: name.to_owned(),
        cause: io::Error::other(why),
    }
}

//! [`SendOutcome`]: what one `send_batch` call of a port did, the result
//! type of the port contract (see [`crate::port`]).
//!
//! In a file of its own because every port kind, the tunnel endpoints and
//! the batched sends in `sys/` return it, while `port/mod.rs` calls into
//! those kinds: with the type here, which imports nothing, they need not
//! import `port/mod.rs` back.

/// What a `send_batch` call did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendOutcome {
    /// Frames the kernel accepted.
    pub sent: u64,
    /// Bytes of those frames (after the edit).
    pub bytes: u64,
    /// Frames not sent because the device queue was full (EAGAIN/ENOBUFS).
    pub dropped: u64,
    /// Frames not sent because of another error.
    pub errors: u64,
    /// Frames not sent because the device's link is down (a TAP whose
    /// host side is not up yet): not an error of the device.
    pub link_down: u64,
}

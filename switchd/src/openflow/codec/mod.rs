//! Bytes ⇄ typed messages ([`super::msg`]) for OpenFlow 1.3 and 1.0, and
//! the framing of a byte stream into messages.
//!
//! - [`frame`] / [`header`]: where a message ends in a stream (`frame.rs`);
//! - [`decode`]: a controller's message → [`Incoming`](super::msg::Incoming)
//!   (`decode.rs` for the entry point and 1.3, `decode10.rs` for 1.0);
//! - [`encode`]: an [`Outgoing`](super::msg::Outgoing) → bytes of either
//!   version (`encode.rs`); multipart replies, split over as many messages
//!   as they need, in `multipart.rs`, and the TABLE_FEATURES body in
//!   `features.rs`; port and bucket structures both use in `structs.rs`;
//! - `buf.rs`: bounds-checked reading and big-endian writing helpers.
//!
//! Matches and actions are not coded here: [`super::oxm`],
//! [`super::match10`] and [`super::action`] do them.
//!
//! Nothing here panics on any input: every read goes through `buf::Reader`,
//! which answers BadLen past the end.

mod buf;
mod common;
mod decode;
mod decode10;
mod encode;
mod features;
mod frame;
mod multipart;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_ofctl;

pub use decode::decode;
pub use encode::encode;
pub use frame::{frame, header, FrameError};

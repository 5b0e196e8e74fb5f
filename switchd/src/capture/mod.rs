//! Packet capture (`switchctl capture`, SPEC §11): what the engine and the
//! control thread need to copy a port's frames out as switchd sees them.
//!
//! - [`bpf`]: the checked classic BPF filter and its interpreter (the
//!   filter is compiled by the client, from a tcpdump expression);
//! - [`tap`](mod@tap): the engine's non-blocking [`Tap`] on a port and the
//!   streaming thread's [`Reader`], joined by bounded queues so that a slow
//!   reader loses captured frames and never slows forwarding.
//!
//! The engine only ever calls [`Tap::offer`] / [`Tap::offer_edited`]; the
//! wire format towards the client is `proto::capture`, and the pcap file is
//! written by `switchctl`. Everything here is pure (no I/O), so it is
//! unit-tested without root.

pub mod bpf;
pub mod tap;

pub use bpf::Program;
pub use tap::{tap, Captured, Reader, Recv, Tap};

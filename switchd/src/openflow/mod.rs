//! OpenFlow 1.3 and 1.0 (SPEC §10): the wire format and the per-connection
//! protocol logic, pure (no sockets, no clock: times come in as arguments).
//! The engine (`engine/openflow.rs`) owns the sockets and applies what the
//! messages ask to the bridge's flow tables.
//!
//! - [`msg`]: typed messages, version-independent (what a controller sends,
//!   what the switch answers);
//! - [`error`]: OFPT_ERROR types and codes, and their numbers per version;
//! - [`wire`]: numbers of the wire format (message types, ports, flags);
//! - [`codec`]: bytes ⇄ [`msg`] for both versions, with framing;
//! - [`oxm`]: OpenFlow 1.3 OXM matches ⇄ [`crate::flow::Match`];
//! - [`match10`]: OpenFlow 1.0 `ofp_match` ⇄ [`crate::flow::Match`];
//! - [`action`]: 1.3 instructions and actions, 1.0 actions ⇄
//!   [`crate::flow::Action`] lists;
//! - [`conn`]: one connection's state: handshake and version negotiation,
//!   echo / inactivity probes, role; an active target's reconnect backoff;
//!   a bridge's fail-open timer.

pub mod action;
pub mod codec;
pub mod conn;
pub mod error;
pub mod match10;
pub mod msg;
pub mod oxm;
pub mod wire;

pub use error::OfError;

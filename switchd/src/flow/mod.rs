//! Flow tables (SPEC §9): OpenFlow semantics with `ovs-ofctl` syntax.
//!
//! - [`key`]: the flow key and the field registry;
//! - [`types`]: matches, actions, flows;
//! - [`table`]: one bridge's tables: add, modify, delete, expire, counters;
//! - [`exec`]: running a frame's key through the tables' actions;
//! - [`syntax`]: parse and print `ovs-ofctl` flow syntax;
//! - [`classifier`]: tables of prioritized flows and their lookup, behind an
//!   exact-match cache;
//! - [`cache`]: that cache (recent keys, reduced to the fields the rules
//!   use, and their answers);
//! - [`mod@extract`]: a frame's header fields into a key;
//! - [`commit`]: turning an edited key back into the bytes that leave.
//!
//! All pure: no sockets, no clock (times come in as arguments).

pub mod cache;
pub mod classifier;
pub mod commit;
pub mod exec;
pub mod extract;
pub mod group;
pub mod key;
pub mod syntax;
pub mod synth;
pub mod table;
pub mod types;

pub use classifier::{Classifier, FlowId};
pub use extract::{extract, extract_into};
pub use key::{Field, FlowKey, Prereq, KEY_WORDS, VLAN_CFI};
pub use types::{Action, FlowFilter, FlowSpec, Match, NoNames, PortNames};

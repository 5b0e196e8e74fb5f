//! `ovs-ofctl` flow syntax (SPEC §9): parsing `add-flow` lines and the
//! matches of `del-flows`/`dump-flows`/`mod-flows`, and printing matches,
//! actions and flows back in the canonical form `ovs-ofctl` prints.
//!
//! The module is split by direction, with the vocabulary both directions
//! share kept here:
//!
//! - `lex`: the `key=value` tokenizer (OVS's `ofputil_parse_key_value`)
//!   and the value parsers (numbers, MACs, IPv4/IPv6 with masks, ports);
//! - `names`: what each field is for the syntax: its value kind, whether
//!   it takes a mask, its NXM/OXM aliases, and the prerequisite messages;
//! - `parse`: flows and filters, the match and its checks;
//! - `actions`: the action list and its checks against the match;
//! - `print`: the canonical printer.
//!
//! The contract is round-tripping: for every line `x` the parser accepts,
//! `parse_flow(format_flow(parse_flow(x)))` equals `parse_flow(x)`. To make
//! that hold with one [`Action`](super::Action) list per meaning, the parser
//! normalizes where two spellings mean the same write (see `actions`):
//! a whole-field `load` is a `set_field`, a `set_field` under a contiguous
//! partial mask is a `load` of that bit range, and `set_field:V->nw_tos`
//! (OVS's DSCP-only `nw_tos`) is `set_field:V/4->ip_dscp`.
//!
//! The printers are [`format_match`], [`format_actions`] (no match known:
//! writes of `tp_src`/`tp_dst` keep those names), [`format_actions_in`]
//! (the actions of a flow with that match: `udp_src` etc., as `ovs-ofctl`
//! needs them) and [`format_flow`].
//!
//! Where switchd is deliberately stricter than `ovs-ofctl` 3.1 (which
//! silently drops or truncates): a match field without its prerequisite,
//! a field given twice, values too wide for the field (`dl_vlan=4096`),
//! `nw_tos` values with ECN bits, conflicting shorthands (`tcp,udp`), a
//! `vlan_tci` no frame can have, actions that need a protocol the match
//! does not pin down (for every OpenFlow version, not just 1.1+), port 0,
//! the reserved all-ones cookie, and decimal numbers with a leading zero
//! (octal to `ovs-ofctl`). The differential test `tests/flow_syntax.rs`
//! lists each case with its message.

mod actions;
mod error;
mod lex;
mod names;
mod parse;
mod print;
#[cfg(test)]
mod tests;
mod values;

pub use error::SyntaxError;
// The number rules of the syntax, for the meter syntax (`qos::syntax`).
pub(crate) use lex::{not_a_number, number};
pub use parse::{parse_filter, parse_flow};
pub use print::{format_actions, format_actions_in, format_flow, format_match};

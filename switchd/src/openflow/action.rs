//! OpenFlow actions and instructions ⇄ the flow tables' [`Action`] lists:
//! 1.3 instructions (apply-actions, goto-table, write-metadata, meter) and
//! actions (OpenFlow 1.3.5 §7.2.4–§7.2.5), 1.0 actions (1.0.0 §5.2.4).

use super::error::OfError;
use crate::flow::{Action, Match};

/// Decodes a 1.3 instruction list into one action list (meter first,
/// apply-actions, write-metadata as a masked metadata write, goto-table last).
///
/// # Errors
/// Unknown or unsupported instructions or actions, bad lengths or arguments.
pub fn decode_instructions13(buf: &[u8]) -> Result<Vec<Action>, OfError> {
    let _ = buf;
    Err(OfError::UnknownInst)
}

/// Decodes a 1.3 action list (PACKET_OUT, group buckets).
///
/// # Errors
/// Unknown or unsupported actions, bad lengths or arguments.
pub fn decode_actions13(buf: &[u8]) -> Result<Vec<Action>, OfError> {
    let _ = buf;
    Err(OfError::BadActionType)
}

/// Appends `actions` as 1.3 instructions.
pub fn encode_instructions13(actions: &[Action], out: &mut Vec<u8>) {
    let _ = (actions, out);
}

/// Appends `actions` as a 1.3 action list.
pub fn encode_actions13(actions: &[Action], out: &mut Vec<u8>) {
    let _ = (actions, out);
}

/// Decodes a 1.0 action list.
///
/// # Errors
/// Unknown or unsupported actions, bad lengths or arguments.
pub fn decode_actions10(buf: &[u8]) -> Result<Vec<Action>, OfError> {
    let _ = buf;
    Err(OfError::BadActionType)
}

/// Appends `actions` as a 1.0 action list.
pub fn encode_actions10(actions: &[Action], out: &mut Vec<u8>) {
    let _ = (actions, out);
}

/// Checks a flow's actions against its match as OpenFlow does: a field
/// written must be one the match guarantees (prerequisites), outputs must
/// name real or special ports.
///
/// # Errors
/// MatchInconsistent, BadOutPort, BadInstTableId (goto-table backwards).
pub fn validate(matching: &Match, actions: &[Action], table: u8) -> Result<(), OfError> {
    let _ = (matching, actions, table);
    Ok(())
}

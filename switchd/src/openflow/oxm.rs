//! OpenFlow 1.3 matches: `ofp_match` of type OXM, a list of OXM TLVs
//! (OpenFlow 1.3.5 §7.2.3), ⇄ [`Match`]; and single OXM fields for
//! set-field actions.

use super::error::OfError;
use crate::flow::{Field, Match};

/// Decodes the `ofp_match` at the front of `buf`; returns it and the bytes
/// it takes, padding included.
///
/// # Errors
/// A malformed, unknown, duplicated, badly masked or prerequisite-less field.
pub fn decode_match(buf: &[u8]) -> Result<(Match, usize), OfError> {
    let _ = buf;
    Err(OfError::BadMatchType)
}

/// Appends `m` as an `ofp_match` of type OXM, padded to 8 bytes.
pub fn encode_match(m: &Match, out: &mut Vec<u8>) {
    let _ = (m, out);
}

/// Decodes one OXM TLV of a set-field action: the field and its value.
///
/// # Errors
/// Unknown or unwritable field, wrong length, or a mask (1.3 set-field has none).
pub fn decode_set_field(buf: &[u8]) -> Result<(Field, u128), OfError> {
    let _ = buf;
    Err(OfError::BadSetType)
}

//! OpenFlow 1.0 matches: the fixed 40-byte `ofp_match` with its wildcard
//! bits (OpenFlow 1.0.0 §5.2.3) ⇄ [`Match`].

use super::error::OfError;
use crate::flow::Match;

/// Size of `ofp_match`.
pub const MATCH_LEN: usize = 40;

/// Decodes an `ofp_match`.
///
/// # Errors
/// Values the key cannot hold.
pub fn decode(buf: &[u8; MATCH_LEN]) -> Result<Match, OfError> {
    let _ = buf;
    Err(OfError::BadMatchType)
}

/// Appends `m` as an `ofp_match` (fields 1.0 lacks are left out: wildcarded).
pub fn encode(m: &Match, out: &mut Vec<u8>) {
    let _ = (m, out);
}

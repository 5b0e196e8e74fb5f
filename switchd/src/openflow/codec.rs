//! Bytes ⇄ typed messages ([`super::msg`]) for OpenFlow 1.3 and 1.0, and
//! the framing of a byte stream into messages.

use super::error::OfError;
use super::msg::{Header, Incoming, Outgoing};

/// The stream is out of sync: a header whose length is below 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("OpenFlow message length {0} is below the 8-byte header")]
pub struct FrameError(pub u16);

/// The header at the front of `buf`, if 8 bytes are there.
pub fn header(buf: &[u8]) -> Option<Header> {
    let b: &[u8; 8] = buf.first_chunk()?;
    Some(Header {
        version: b[0],
        msg_type: b[1],
        length: u16::from_be_bytes([b[2], b[3]]),
        xid: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
    })
}

/// The length of the complete message at the front of `buf`, `None` if
/// more bytes are needed.
///
/// # Errors
/// A length field below the header's size (the stream cannot be resynchronised).
pub fn frame(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    let Some(h) = header(buf) else { return Ok(None) };
    if h.length < 8 {
        return Err(FrameError(h.length));
    }
    Ok((buf.len() >= usize::from(h.length)).then_some(usize::from(h.length)))
}

/// Decodes one complete message `msg` received on a connection that
/// negotiated `version` (HELLO, ERROR and ECHO are accepted in any version).
///
/// # Errors
/// Why the message is refused, for the OFPT_ERROR reply.
pub fn decode(msg: &[u8], version: u8) -> Result<Incoming, OfError> {
    let _ = (msg, version);
    Err(OfError::BadType)
}

/// Appends `msg` as message(s) of `version` with transaction id `xid`.
pub fn encode(version: u8, xid: u32, msg: &Outgoing<'_>, out: &mut Vec<u8>) {
    let _ = (version, xid, msg, out);
}

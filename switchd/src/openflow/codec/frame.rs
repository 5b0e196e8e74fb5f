//! Framing: the header at the front of a byte stream, and where the
//! message it starts ends.

use crate::openflow::msg::Header;

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

//! Bounds-checked reading ([`Reader`]) and big-endian writing (the `put_*`
//! functions and [`Msg`]) of wire structures.
//!
//! Every read past the end is [`OfError::BadLen`], so that decoders can
//! use `?` on each field and never index a slice themselves.

use crate::openflow::error::OfError;
use crate::openflow::wire::{HEADER_LEN, MAX_MSG_LEN};

/// A cursor over a byte slice; reads fail with BadLen past the end.
#[derive(Debug, Clone)]
pub(super) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads `buf` from its start.
    pub(super) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf }
    }

    /// Bytes left.
    pub(super) fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// The bytes left, consuming them.
    pub(super) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// The next `n` bytes.
    pub(super) fn bytes(&mut self, n: usize) -> Result<&'a [u8], OfError> {
        if n > self.buf.len() {
            return Err(OfError::BadLen);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], OfError> {
        let (head, tail) = self.buf.split_first_chunk::<N>().ok_or(OfError::BadLen)?;
        self.buf = tail;
        Ok(*head)
    }

    /// Skips `n` bytes (padding).
    pub(super) fn skip(&mut self, n: usize) -> Result<(), OfError> {
        self.bytes(n).map(drop)
    }

    /// A byte.
    pub(super) fn u8(&mut self) -> Result<u8, OfError> {
        self.array::<1>().map(|b| b[0])
    }

    /// A big-endian u16.
    pub(super) fn u16(&mut self) -> Result<u16, OfError> {
        self.array().map(u16::from_be_bytes)
    }

    /// A big-endian u32.
    pub(super) fn u32(&mut self) -> Result<u32, OfError> {
        self.array().map(u32::from_be_bytes)
    }

    /// A big-endian u64.
    pub(super) fn u64(&mut self) -> Result<u64, OfError> {
        self.array().map(u64::from_be_bytes)
    }

    /// Fails with BadLen unless everything was read (fixed-size bodies).
    pub(super) fn end(&self) -> Result<(), OfError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(OfError::BadLen)
        }
    }
}

/// Appends a byte.
pub(super) fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

/// Appends a big-endian u16.
pub(super) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian u32.
pub(super) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian u64.
pub(super) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends `n` zero bytes.
pub(super) fn put_zeros(out: &mut Vec<u8>, n: usize) {
    out.resize(out.len() + n, 0);
}

/// Appends zeros up to the next multiple of 8 bytes counted from `start`.
pub(super) fn pad8(out: &mut Vec<u8>, start: usize) {
    let len = out.len() - start;
    put_zeros(out, len.next_multiple_of(8) - len);
}

/// Appends `s` as a fixed `len`-byte NUL-terminated string (cut to
/// `len - 1` bytes so the NUL always fits).
pub(super) fn put_str(out: &mut Vec<u8>, s: &str, len: usize) {
    let b = s.as_bytes();
    let n = b.len().min(len.saturating_sub(1));
    out.extend_from_slice(&b[..n]);
    put_zeros(out, len - n);
}

/// Writes `v` as a big-endian u16 at `at` (a length field written before
/// its value was known).
pub(super) fn set_u16(out: &mut [u8], at: usize, v: u16) {
    if let Some(b) = out.get_mut(at..at + 2) {
        b.copy_from_slice(&v.to_be_bytes());
    }
}

/// Writes the length of the structure that starts at `start` and ends at
/// the end of `out` into its 16-bit length field at `start + field`.
pub(super) fn set_len(out: &mut [u8], start: usize, field: usize) {
    let len = out.len() - start;
    set_u16(out, start + field, u16::try_from(len).unwrap_or(u16::MAX));
}

/// A message being appended to an output buffer: its header is written
/// by [`Msg::start`], its length by [`Msg::finish`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Msg {
    /// Offset of the header in the buffer.
    pub(super) start: usize,
}

impl Msg {
    /// Appends the header of a message of `version`, `msg_type`, `xid`.
    pub(super) fn start(out: &mut Vec<u8>, version: u8, msg_type: u8, xid: u32) -> Msg {
        let start = out.len();
        out.extend_from_slice(&[version, msg_type, 0, 0]);
        put_u32(out, xid);
        Msg { start }
    }

    /// Bytes of the message so far, header included.
    pub(super) fn len(&self, out: &[u8]) -> usize {
        out.len() - self.start
    }

    /// Room left before the message reaches [`MAX_MSG_LEN`].
    pub(super) fn room(&self, out: &[u8]) -> usize {
        MAX_MSG_LEN.saturating_sub(self.len(out))
    }

    /// Writes the length. Callers keep messages within [`MAX_MSG_LEN`]
    /// (the body-size checks are where the bodies are built).
    pub(super) fn finish(self, out: &mut [u8]) {
        debug_assert!(self.len(out) >= HEADER_LEN && self.len(out) <= MAX_MSG_LEN);
        set_len(out, self.start, 2);
    }
}

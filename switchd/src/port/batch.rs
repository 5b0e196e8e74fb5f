//! Frame buffers shared by every port kind: a receive batch of preallocated
//! slots and the per-egress edit that describes how a received frame leaves a
//! port.
//!
//! Frames are never copied or rewritten for egress. An [`Edit`] says "drop
//! the 4 bytes at offset 12 and/or put these 4 bytes at offset 12"; port
//! code turns it into a gather list (`writev`/`sendmmsg` iovecs) of at most
//! three pieces, so a flood to ports that want the frame tagged and ports
//! that want it untagged sends from the same buffer.

/// Frames received per port per wake-up (the budget that keeps one busy
/// port from starving the others; OVS uses the same 32).
pub const BATCH: usize = 32;
/// Bytes free in front of each received frame, so a VLAN tag stripped by
/// the kernel (AF_PACKET) can be put back without moving the payload.
pub const HEADROOM: usize = 4;
/// Largest frame a slot holds: a 64 KiB GSO super-frame plus headers.
pub const MAX_FRAME: usize = 65_536 + 128;
/// Bytes per slot.
pub const SLOT_LEN: usize = HEADROOM + MAX_FRAME;

/// Where a received frame lies inside its slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameRef {
    /// Offset of the first byte inside the slot.
    pub start: usize,
    /// Frame length in bytes.
    pub len: usize,
}

/// `BATCH` receive slots allocated once per engine and reused for every
/// wake-up.
pub struct RxBatch {
    buf: Vec<u8>,
    frames: [FrameRef; BATCH],
    count: usize,
}

impl std::fmt::Debug for RxBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RxBatch").field("count", &self.count).finish()
    }
}

impl Default for RxBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl RxBatch {
    /// Allocates the slots (about 2 MiB).
    pub fn new() -> Self {
        RxBatch {
            buf: vec![0; BATCH * SLOT_LEN],
            frames: [FrameRef::default(); BATCH],
            count: 0,
        }
    }

    /// All slots, `SLOT_LEN` bytes each, for receive code to fill
    /// (use `chunks_exact_mut(SLOT_LEN)`).
    pub fn slots_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// Slot `i`, headroom included.
    pub fn slot_mut(&mut self, i: usize) -> &mut [u8] {
        &mut self.buf[i * SLOT_LEN..(i + 1) * SLOT_LEN]
    }

    /// Records where frame `i` lies in slot `i`.
    ///
    /// # Panics
    /// If the frame does not fit in the slot.
    pub fn set_frame(&mut self, i: usize, start: usize, len: usize) {
        assert!(start + len <= SLOT_LEN, "frame outside its slot");
        self.frames[i] = FrameRef { start, len };
    }

    /// Sets how many slots hold a frame.
    pub fn set_count(&mut self, n: usize) {
        assert!(n <= BATCH);
        self.count = n;
    }

    /// How many slots hold a frame.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The bytes of frame `i`.
    pub fn frame(&self, i: usize) -> &[u8] {
        let f = self.frames[i];
        &self.buf[i * SLOT_LEN + f.start..i * SLOT_LEN + f.start + f.len]
    }

    /// Where frame `i` lies in its slot.
    pub fn frame_ref(&self, i: usize) -> FrameRef {
        self.frames[i]
    }
}

/// How a frame is changed on its way out of one port: optionally remove the
/// 4 bytes at offset 12 (an 802.1Q tag), then optionally put 4 bytes there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Edit {
    /// Remove the tag at offset 12..16.
    pub strip: bool,
    /// Insert these bytes (TPID + TCI) at offset 12.
    pub insert: Option<[u8; 4]>,
}

impl Edit {
    /// Leave the frame as it is.
    pub const KEEP: Edit = Edit {
        strip: false,
        insert: None,
    };

    /// Length of the frame after the edit.
    pub fn out_len(&self, len: usize) -> usize {
        len - if self.strip { 4 } else { 0 } + if self.insert.is_some() { 4 } else { 0 }
    }

    /// The pieces to send, in order: MAC addresses, the inserted tag (if
    /// any), the rest. The caller guarantees `frame.len() >= 16` when
    /// `strip` is set and `>= 12` otherwise (the pipeline's parse does).
    pub fn pieces<'a>(&'a self, frame: &'a [u8]) -> (&'a [u8], Option<&'a [u8; 4]>, &'a [u8]) {
        let rest = if self.strip { 16 } else { 12 };
        (&frame[..12], self.insert.as_ref(), &frame[rest..])
    }
}

/// One frame queued for one egress port: which slot of the current
/// [`RxBatch`] and how to edit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxEntry {
    /// Slot index in the batch.
    pub slot: u8,
    /// Egress edit.
    pub edit: Edit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_pieces() {
        let frame: Vec<u8> = (0u8..20).collect();
        let join = |e: Edit| {
            let (a, t, b) = e.pieces(&frame);
            let mut v = a.to_vec();
            if let Some(t) = t {
                v.extend_from_slice(t);
            }
            v.extend_from_slice(b);
            assert_eq!(v.len(), e.out_len(frame.len()));
            v
        };
        assert_eq!(join(Edit::KEEP), frame);
        assert_eq!(
            join(Edit {
                strip: true,
                insert: None
            })[12..],
            frame[16..]
        );
        let tag = [0x81, 0, 0, 10];
        let pushed = join(Edit {
            strip: false,
            insert: Some(tag),
        });
        assert_eq!(&pushed[12..16], &tag);
        assert_eq!(&pushed[16..], &frame[12..]);
        let replaced = join(Edit {
            strip: true,
            insert: Some(tag),
        });
        assert_eq!(replaced.len(), frame.len());
        assert_eq!(&replaced[12..16], &tag);
    }

    #[test]
    fn batch_frames() {
        let mut b = RxBatch::new();
        b.slot_mut(3)[HEADROOM..HEADROOM + 3].copy_from_slice(b"abc");
        b.set_frame(3, HEADROOM, 3);
        assert_eq!(b.frame(3), b"abc");
    }
}

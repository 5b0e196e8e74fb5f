//! Frame buffers and egress actions: a receive batch of preallocated slots
//! ([`RxBatch`]) and the per-egress edit that describes how a received frame
//! leaves a port ([`Edit`], [`TxEntry`]).
//!
//! Why at the crate root: these are the currency between the pure core and
//! the I/O layer. The pipeline and [`crate::vlan`] decide [`Edit`]s,
//! [`crate::offload`] writes segments into an [`RxBatch`], the engine queues
//! [`TxEntry`]s, and every port kind in [`crate::port`] fills and sends
//! batches. So they depend on nothing but the virtio-net header format
//! ([`crate::wire::vnet`]); `port` imports this module, never the reverse.
//!
//! Frames are never copied or rewritten for egress. An [`Edit`] says "drop
//! the 4 bytes at offset 12 and/or put these 4 bytes at offset 12"; port
//! code turns it into a gather list (`writev`/`sendmmsg` iovecs) of at most
//! three pieces, so a flood to ports that want the frame tagged and ports
//! that want it untagged sends from the same buffer.

use crate::wire::vnet::{VnetHdr, VNET_HDR_LEN};

/// Frames received per port per wake-up (the budget that keeps one busy
/// port from starving the others; OVS uses the same 32).
pub const BATCH: usize = 32;
/// Slots after the received ones in which the engine builds frames that a
/// flow rewrote (SPEC §9: `mod_nw_dst`, `dec_ttl`, ...), so that each
/// output of a frame leaves with the edits made up to it while the
/// received frame stays as it came for the other outputs. When they run
/// out within one batch the engine sends what is queued and starts over.
/// Untouched pages of the allocation are never mapped: a bridge without
/// rewriting flows pays no memory for them.
pub const COPY_SLOTS: usize = 32;
// The engine's `csum_slots: u64` is a bitmask with one bit per slot of a
// batch, copies included (the frames whose checksum is still to be
// completed): more slots would overflow it.
const _: () = assert!(BATCH + COPY_SLOTS <= u64::BITS as usize);
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

/// Receive slots allocated once per engine and reused for every wake-up:
/// `BATCH` slots of `SLOT_LEN` bytes for received frames ([`RxBatch::new`]),
/// or another layout for frames the engine makes itself, such as the
/// segments of a GSO super-frame ([`RxBatch::with_layout`]).
///
/// Each slot also carries the virtio-net header its frame arrived with
/// (all zero for ports without offloads): whether the frame is a GSO
/// super-frame or still needs its checksum.
pub struct RxBatch {
    buf: Vec<u8>,
    slot_len: usize,
    /// Slots receive code fills (the rest are copy slots).
    rx_slots: usize,
    frames: Vec<FrameRef>,
    vnet: Vec<[u8; VNET_HDR_LEN]>,
    count: usize,
}

impl std::fmt::Debug for RxBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RxBatch")
            .field("count", &self.count)
            .field("capacity", &self.frames.len())
            .finish()
    }
}

impl Default for RxBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl RxBatch {
    /// `BATCH` slots of `SLOT_LEN` bytes (about 2 MiB) to receive into,
    /// then [`COPY_SLOTS`] more for rewritten copies: the receive batch.
    pub fn new() -> Self {
        let mut b = Self::with_layout(BATCH + COPY_SLOTS, SLOT_LEN);
        b.rx_slots = BATCH;
        b
    }

    /// The slots for rewritten copies (empty unless made by [`RxBatch::new`]).
    pub fn copy_slots(&self) -> std::ops::Range<usize> {
        self.rx_slots..self.frames.len()
    }

    /// `slots` slots of `slot_len` bytes each (at most 256 slots, since a
    /// [`TxEntry`] names its slot with a `u8`).
    pub fn with_layout(slots: usize, slot_len: usize) -> Self {
        assert!(slots <= 256, "a TxEntry cannot name more than 256 slots");
        RxBatch {
            buf: vec![0; slots * slot_len],
            slot_len,
            rx_slots: slots,
            frames: vec![FrameRef::default(); slots],
            vnet: vec![[0; VNET_HDR_LEN]; slots],
            count: 0,
        }
    }

    /// How many slots there are.
    pub fn capacity(&self) -> usize {
        self.frames.len()
    }

    /// The receive slots (not the copy slots), `SLOT_LEN` bytes each, for
    /// receive code to fill (use `chunks_exact_mut(SLOT_LEN)`), and their
    /// virtio-net headers. Only for the layout of [`RxBatch::new`].
    pub fn slots_mut(&mut self) -> (&mut [u8], &mut [[u8; VNET_HDR_LEN]]) {
        assert_eq!(self.slot_len, SLOT_LEN, "not a receive batch");
        let n = self.rx_slots;
        (&mut self.buf[..n * SLOT_LEN], &mut self.vnet[..n])
    }

    /// Slot `i`, headroom included.
    pub fn slot_mut(&mut self, i: usize) -> &mut [u8] {
        &mut self.buf[i * self.slot_len..(i + 1) * self.slot_len]
    }

    /// Records where frame `i` lies in slot `i`; its virtio-net header is
    /// reset to "nothing to do".
    ///
    /// # Panics
    /// If the frame does not fit in the slot.
    pub fn set_frame(&mut self, i: usize, start: usize, len: usize) {
        assert!(start + len <= self.slot_len, "frame outside its slot");
        self.frames[i] = FrameRef { start, len };
        self.vnet[i] = [0; VNET_HDR_LEN];
    }

    /// Moves frame `i` within its slot, keeping its virtio-net header (a
    /// tunnel header stripped, a VLAN tag put back in the headroom).
    ///
    /// # Panics
    /// If the frame does not fit in the slot.
    pub fn reframe(&mut self, i: usize, start: usize, len: usize) {
        assert!(start + len <= self.slot_len, "frame outside its slot");
        self.frames[i] = FrameRef { start, len };
    }

    /// Sets how many slots hold a frame.
    pub fn set_count(&mut self, n: usize) {
        assert!(n <= self.frames.len());
        self.count = n;
    }

    /// How many slots hold a frame.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The bytes of frame `i`.
    pub fn frame(&self, i: usize) -> &[u8] {
        let f = self.frames[i];
        let base = i * self.slot_len + f.start;
        &self.buf[base..base + f.len]
    }

    /// The bytes of frame `i`, to finish a checksum in place.
    pub fn frame_mut(&mut self, i: usize) -> &mut [u8] {
        let f = self.frames[i];
        let base = i * self.slot_len + f.start;
        &mut self.buf[base..base + f.len]
    }

    /// Frame `src` to read and the whole of slot `dst` to write a copy
    /// into (a flow's rewrite of the frame).
    ///
    /// # Panics
    /// Unless `src < dst`.
    pub fn frame_and_slot_mut(&mut self, src: usize, dst: usize) -> (&[u8], &mut [u8]) {
        assert!(src < dst, "a copy goes to a later slot");
        let f = self.frames[src];
        let (head, tail) = self.buf.split_at_mut(dst * self.slot_len);
        let base = src * self.slot_len + f.start;
        (&head[base..base + f.len], &mut tail[..self.slot_len])
    }

    /// Where frame `i` lies in its slot.
    pub fn frame_ref(&self, i: usize) -> FrameRef {
        self.frames[i]
    }

    /// The virtio-net header frame `i` arrived with.
    pub fn vnet(&self, i: usize) -> VnetHdr {
        VnetHdr::from_bytes(&self.vnet[i])
    }

    /// Replaces the virtio-net header of frame `i`.
    pub fn set_vnet(&mut self, i: usize, hdr: VnetHdr) {
        self.vnet[i] = hdr.to_bytes();
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
    /// Remove the tag.
    pub const POP: Edit = Edit {
        strip: true,
        insert: None,
    };

    /// Insert `tag` (TPID + TCI) after the MAC addresses.
    pub const fn push(tag: [u8; 4]) -> Edit {
        Edit {
            strip: false,
            insert: Some(tag),
        }
    }

    /// Replace the frame's tag with `tag`.
    pub const fn retag(tag: [u8; 4]) -> Edit {
        Edit {
            strip: true,
            insert: Some(tag),
        }
    }

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

// The header format lives in `wire::vnet`, which knows nothing of egress
// edits; how the header follows an edit of its frame is said here, next to
// `Edit`.
impl VnetHdr {
    /// The header for the frame after `edit` (a pushed or popped tag moves
    /// every offset by 4 bytes).
    pub fn for_edit(self, edit: &Edit) -> VnetHdr {
        let grow = edit.insert.is_some() as i32 * 4 - edit.strip as i32 * 4;
        if grow == 0 || self.is_plain() {
            return self;
        }
        let shift = |v: u16| (i32::from(v) + grow).max(0) as u16;
        VnetHdr {
            csum_start: if self.needs_csum() {
                shift(self.csum_start)
            } else {
                self.csum_start
            },
            hdr_len: if self.hdr_len != 0 { shift(self.hdr_len) } else { 0 },
            ..self
        }
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

impl TxEntry {
    /// Slot `slot` of the batch, edited by `edit`.
    pub const fn new(slot: u8, edit: Edit) -> TxEntry {
        TxEntry { slot, edit }
    }
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
        assert_eq!(join(Edit::POP)[12..], frame[16..]);
        let tag = [0x81, 0, 0, 10];
        let pushed = join(Edit::push(tag));
        assert_eq!(&pushed[12..16], &tag);
        assert_eq!(&pushed[16..], &frame[12..]);
        let replaced = join(Edit::retag(tag));
        assert_eq!(replaced.len(), frame.len());
        assert_eq!(&replaced[12..16], &tag);
    }

    #[test]
    fn vnet_header_follows_edits() {
        let h = VnetHdr {
            flags: 1,
            gso_type: crate::wire::vnet::GSO_TCPV4,
            hdr_len: 66,
            gso_size: 1448,
            csum_start: 34,
            csum_offset: 16,
        };
        let push = Edit::push([0x81, 0, 0, 10]);
        let pushed = h.for_edit(&push);
        assert_eq!((pushed.csum_start, pushed.hdr_len), (38, 70));
        let pop = Edit::POP;
        assert_eq!(pushed.for_edit(&pop), h);
        assert_eq!(h.for_edit(&Edit::retag([0x81, 0, 0, 5])), h);
        assert_eq!(VnetHdr::default().for_edit(&push), VnetHdr::default());
    }

    #[test]
    fn batch_frames() {
        let mut b = RxBatch::new();
        b.slot_mut(3)[HEADROOM..HEADROOM + 3].copy_from_slice(b"abc");
        b.set_frame(3, HEADROOM, 3);
        assert_eq!(b.frame(3), b"abc");
    }
}

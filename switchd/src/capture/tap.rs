//! The handoff of captured frames from the engine to the control thread
//! that streams them: a [`Tap`] the engine owns (one per capture, on the
//! port's list) and a [`Reader`] the capture's client thread owns.
//!
//! The engine must never wait for a reader, so everything on its side is
//! non-blocking and bounded: [`Tap::offer`] runs the filter, takes a free
//! buffer, copies the first `snaplen` bytes and `try_send`s them on a
//! bounded channel. When no buffer is free (the reader is behind) the frame
//! is counted as lost and forwarding goes on: a slow reader loses captured
//! frames, never forwarded ones, and the cost to forwarding is the copy.
//!
//! No allocation per frame in steady state: buffers travel engine → reader
//! on one bounded channel and come back on another, reader → engine, to be
//! reused. At most `capacity` buffers ever exist; each grows to the largest
//! frame it has held (from a 2 KiB start), all together within
//! [`BYTE_BUDGET`], past which a frame that needs a bigger buffer is
//! counted lost. Both channels are `std::sync::mpsc::sync_channel`s, whose
//! bounded flavour is a preallocated ring (no allocation per message).
//!
//! Ending: dropping the [`Reader`] marks the tap closed (an atomic flag
//! checked first by every offer, filtered or not), so the engine's next
//! offer returns false and the engine drops the tap. Dropping the [`Tap`]
//! (the port was deleted) disconnects the channel: the reader gets the
//! frames still queued, then [`Recv::Ended`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use proto::CaptureDirection;

use super::bpf::Program;
use crate::batch::Edit;

/// Most bytes the buffers of one capture may hold together (16 MiB: 256
/// full GSO super-frames, or 1024 queued frames of up to 16 KiB).
pub const BYTE_BUDGET: usize = 16 << 20;
/// What a new buffer is given, so that ordinary frames fit at once and a
/// buffer grows at most a few times.
const FIRST_BUFFER: usize = 2048;

/// One captured frame.
#[derive(Debug)]
pub struct Captured {
    /// When the engine saw it.
    pub ts: SystemTime,
    /// Its whole length (on the wire; a GSO super-frame's whole length).
    pub orig_len: u32,
    /// The port sent it (else it received it).
    pub outgoing: bool,
    /// Its first bytes: at most the snapshot length, or what the filter's
    /// accept value asked for if less.
    pub data: Vec<u8>,
}

/// What both ends see.
#[derive(Debug, Default)]
struct Shared {
    /// The reader is gone.
    closed: AtomicBool,
    /// Frames that passed the filter but found no free buffer.
    lost: AtomicU64,
}

/// The engine's end of a capture: offered every frame of its port (see
/// [`Tap::offer`]).
pub struct Tap {
    direction: CaptureDirection,
    snaplen: usize,
    filter: Option<Program>,
    queue: SyncSender<Captured>,
    free: Receiver<Vec<u8>>,
    /// A buffer taken but not sent (a full queue, or too small within the
    /// budget), used first next time.
    spare: Option<Vec<u8>>,
    /// Buffers made so far (at most `capacity`).
    buffers: usize,
    capacity: usize,
    /// Bytes of capacity of every buffer made so far.
    bytes: usize,
    /// Where a frame with an egress edit is put together (grows to the
    /// largest such frame once).
    scratch: Vec<u8>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap")
            .field("direction", &self.direction)
            .field("snaplen", &self.snaplen)
            .field("filtered", &self.filter.is_some())
            .field("buffers", &self.buffers)
            .field("open", &self.is_open())
            .finish()
    }
}

/// A new capture: the engine's [`Tap`] and the streaming thread's
/// [`Reader`]. `capacity` (at least 1) bounds the frames queued between
/// them; `snaplen` the bytes kept of each.
pub fn tap(
    direction: CaptureDirection,
    snaplen: u32,
    filter: Option<Program>,
    capacity: usize,
) -> (Tap, Reader) {
    let capacity = capacity.max(1);
    let (queue, frames) = mpsc::sync_channel(capacity);
    let (give_back, free) = mpsc::sync_channel(capacity);
    let shared = Arc::new(Shared::default());
    let tap = Tap {
        direction,
        snaplen: snaplen as usize,
        filter,
        queue,
        free,
        spare: None,
        buffers: 0,
        capacity,
        bytes: 0,
        scratch: Vec::new(),
        shared: Arc::clone(&shared),
    };
    let reader = Reader {
        frames,
        give_back,
        shared,
        current: None,
    };
    (tap, reader)
}

impl Tap {
    /// Offers a frame the port received (`outgoing` false) or sent. Takes
    /// it if the direction and the filter want it and a buffer is free;
    /// with none free, counts it lost. Never blocks. Returns false once the
    /// reader is gone: the caller then drops the tap.
    #[inline]
    pub fn offer(&mut self, frame: &[u8], outgoing: bool) -> bool {
        if self.shared.closed.load(Ordering::Relaxed) {
            return false;
        }
        if !self.direction.takes(outgoing) {
            return true;
        }
        self.take(frame, outgoing)
    }

    /// [`Tap::offer`] of `frame` as it leaves a port with `edit` applied
    /// (a tag pushed, popped or replaced): the edited frame is put together
    /// in a scratch buffer first, since the filter must see it as sent.
    pub fn offer_edited(&mut self, frame: &[u8], edit: &Edit, outgoing: bool) -> bool {
        // `Edit::pieces` needs the MAC addresses (and the tag it strips);
        // the pipeline never edits a shorter frame, this keeps a capture
        // from ever being the reason for a panic in the engine.
        let needed = if edit.strip { 16 } else { 12 };
        if *edit == Edit::KEEP || frame.len() < needed {
            return self.offer(frame, outgoing);
        }
        if self.shared.closed.load(Ordering::Relaxed) {
            return false;
        }
        if !self.direction.takes(outgoing) {
            return true;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let (macs, tag, rest) = edit.pieces(frame);
        scratch.extend_from_slice(macs);
        if let Some(tag) = tag {
            scratch.extend_from_slice(tag);
        }
        scratch.extend_from_slice(rest);
        let open = self.take(&scratch, outgoing);
        self.scratch = scratch;
        open
    }

    /// Whether the reader is still there.
    pub fn is_open(&self) -> bool {
        !self.shared.closed.load(Ordering::Relaxed)
    }

    /// Buffers made so far (never more than the capacity).
    pub fn buffers(&self) -> usize {
        self.buffers
    }

    /// Bytes of capacity of the buffers made so far (never more than
    /// [`BYTE_BUDGET`]).
    pub fn buffer_bytes(&self) -> usize {
        self.bytes
    }

    fn take(&mut self, frame: &[u8], outgoing: bool) -> bool {
        let orig_len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        // The accept value caps the bytes kept, as for a kernel socket
        // filter (tcpdump compiles `ret #snaplen`).
        let accept = match &self.filter {
            Some(p) => p.run(frame, orig_len),
            None => u32::MAX,
        };
        if accept == 0 {
            return true;
        }
        let n = frame.len().min(self.snaplen).min(accept as usize);
        let Some(mut data) = self.buffer(n) else {
            self.shared.lost.fetch_add(1, Ordering::Relaxed);
            return true;
        };
        data.clear();
        data.extend_from_slice(&frame[..n]);
        let item = Captured {
            ts: SystemTime::now(),
            orig_len,
            outgoing,
            data,
        };
        match self.queue.try_send(item) {
            Ok(()) => true,
            Err(TrySendError::Full(item)) => {
                // Not reached while buffers <= capacity = the queue's
                // bound, but a full queue is a loss, not a reason to block.
                self.spare = Some(item.data);
                self.shared.lost.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// A free buffer of at least `n` bytes of capacity: the spare, one the
    /// reader gave back, or a new one while fewer than `capacity` exist;
    /// `None` if none is free or growing it would pass the budget.
    fn buffer(&mut self, n: usize) -> Option<Vec<u8>> {
        let mut buf = match self.spare.take().or_else(|| self.free.try_recv().ok()) {
            Some(b) => b,
            None if self.buffers < self.capacity => {
                self.buffers += 1;
                Vec::new()
            }
            None => return None,
        };
        let have = buf.capacity();
        if have < n {
            let want = n.max(FIRST_BUFFER.min(self.snaplen));
            if self.bytes + (want - have) > BYTE_BUDGET {
                self.spare = Some(buf);
                return None;
            }
            buf.clear();
            buf.reserve_exact(want);
            self.bytes += buf.capacity() - have;
        }
        Some(buf)
    }
}

/// What [`Reader::recv`] got.
#[derive(Debug)]
pub enum Recv<'a> {
    /// A frame (valid until the next call).
    Frame(&'a Captured),
    /// Nothing within the timeout.
    Timeout,
    /// The tap is gone (its port was removed) and every frame was read.
    Ended,
}

/// The streaming thread's end of a capture. Dropping it ends the capture.
#[derive(Debug)]
pub struct Reader {
    frames: Receiver<Captured>,
    give_back: SyncSender<Vec<u8>>,
    shared: Arc<Shared>,
    /// The frame last returned, whose buffer goes back at the next call.
    current: Option<Captured>,
}

impl Reader {
    /// Waits up to `timeout` (zero: not at all) for the next frame.
    pub fn recv(&mut self, timeout: Duration) -> Recv<'_> {
        if let Some(done) = self.current.take() {
            // Never full (there are no more buffers than its bound); if
            // the tap is gone, the buffer is simply freed.
            let _ = self.give_back.try_send(done.data);
        }
        let got = if timeout.is_zero() {
            self.frames.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            })
        } else {
            self.frames.recv_timeout(timeout)
        };
        match got {
            Ok(c) => Recv::Frame(self.current.insert(c)),
            Err(RecvTimeoutError::Timeout) => Recv::Timeout,
            Err(RecvTimeoutError::Disconnected) => Recv::Ended,
        }
    }

    /// Frames lost so far: they passed the filter while the queue was full.
    pub fn lost(&self) -> u64 {
        self.shared.lost.load(Ordering::Relaxed)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::BpfInsn;
    use std::collections::HashSet;

    const NOW: Duration = Duration::ZERO;

    fn frame(ethertype: u16, len: usize) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.resize(len, 0xab);
        f
    }

    /// `ldh [12]; jeq #ethertype, accept, reject; ret #accept; ret #0`.
    fn only(ethertype: u16, accept: u32) -> Program {
        Program::new(&[
            BpfInsn::new(0x28, 0, 0, 12),
            BpfInsn::new(0x15, 0, 1, u32::from(ethertype)),
            BpfInsn::new(0x06, 0, 0, accept),
            BpfInsn::new(0x06, 0, 0, 0),
        ])
        .unwrap()
    }

    fn drain(r: &mut Reader) -> Vec<(Vec<u8>, u32, bool)> {
        let mut out = Vec::new();
        while let Recv::Frame(c) = r.recv(NOW) {
            out.push((c.data.clone(), c.orig_len, c.outgoing));
        }
        out
    }

    #[test]
    fn direction_and_filter_select_frames() {
        let (mut tap, mut r) = tap(CaptureDirection::In, 262_144, Some(only(0x0806, 262_144)), 16);
        assert!(tap.offer(&frame(0x0806, 60), false));
        assert!(tap.offer(&frame(0x0800, 60), false), "filtered out");
        assert!(tap.offer(&frame(0x0806, 60), true), "wrong direction");
        let got = drain(&mut r);
        assert_eq!(got, vec![(frame(0x0806, 60), 60, false)]);
        assert_eq!(r.lost(), 0);

        let (mut tap, mut r) = super::tap(CaptureDirection::Out, 262_144, None, 16);
        tap.offer(&frame(0x0800, 70), false);
        tap.offer(&frame(0x0800, 80), true);
        assert_eq!(drain(&mut r), vec![(frame(0x0800, 80), 80, true)]);
    }

    #[test]
    fn snaplen_and_the_accept_value_cap_the_copy() {
        let (mut tap, mut r) = tap(CaptureDirection::Both, 60, None, 4);
        let f = frame(0x0800, 1514);
        tap.offer(&f, false);
        let got = drain(&mut r);
        assert_eq!(got, vec![(f[..60].to_vec(), 1514, false)]);

        let (mut tap, mut r) = super::tap(CaptureDirection::Both, 100, Some(only(0x0800, 20)), 4);
        tap.offer(&f, true);
        assert_eq!(drain(&mut r), vec![(f[..20].to_vec(), 1514, true)]);
    }

    #[test]
    fn a_slow_reader_loses_frames_and_they_are_counted() {
        let (mut tap, mut r) = tap(CaptureDirection::Both, 262_144, None, 4);
        for i in 0..10u8 {
            let mut f = frame(0x0800, 64);
            f[20] = i;
            assert!(tap.offer(&f, false));
        }
        assert_eq!(r.lost(), 6);
        let got = drain(&mut r);
        assert_eq!(got.iter().map(|g| g.0[20]).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert!(matches!(r.recv(Duration::from_millis(1)), Recv::Timeout));
        // Buffers came back: the next frames are taken again.
        assert!(tap.offer(&frame(0x0800, 64), false));
        assert_eq!(drain(&mut r).len(), 1);
        assert_eq!(r.lost(), 6);
    }

    #[test]
    fn the_byte_budget_bounds_buffers() {
        // 300 buffers of 64 KiB would be 19 MiB: past the budget, frames
        // needing a new big buffer are lost.
        let big = frame(0x0800, 65_536);
        let (mut tap, r) = tap(CaptureDirection::Both, 262_144, None, 300);
        for _ in 0..300 {
            tap.offer(&big, false);
        }
        assert!(tap.buffer_bytes() <= BYTE_BUDGET, "{}", tap.buffer_bytes());
        assert_eq!(r.lost(), 300 - (BYTE_BUDGET / 65_536) as u64);
    }

    #[test]
    fn closing_either_end_is_seen_by_the_other() {
        let (mut tap, r) = tap(CaptureDirection::In, 262_144, Some(only(0x0806, 1)), 4);
        assert!(tap.is_open());
        drop(r);
        assert!(!tap.is_open());
        // Whatever the frame, direction or filter verdict.
        assert!(!tap.offer(&frame(0x0800, 60), true));
        assert!(!tap.offer(&frame(0x0806, 60), false));
        assert!(!tap.offer_edited(&frame(0x0806, 60), &Edit::POP, true));

        let (mut tap, mut r) = super::tap(CaptureDirection::Both, 262_144, None, 4);
        tap.offer(&frame(0x0800, 60), false);
        drop(tap);
        assert!(
            matches!(r.recv(NOW), Recv::Frame(_)),
            "queued frames are still read"
        );
        assert!(matches!(r.recv(Duration::from_secs(5)), Recv::Ended));
    }

    #[test]
    fn frames_leave_with_their_edit() {
        let (mut tap, mut r) = tap(CaptureDirection::Both, 262_144, None, 8);
        let f = frame(0x0800, 60);
        let tag = [0x81, 0x00, 0x00, 0x0a];
        tap.offer_edited(&f, &Edit::push(tag), true);
        let mut tagged = f[..12].to_vec();
        tagged.extend_from_slice(&tag);
        tagged.extend_from_slice(&f[12..]);
        tap.offer_edited(&tagged, &Edit::POP, true);
        tap.offer_edited(&tagged, &Edit::retag([0x81, 0, 0, 20]), true);
        tap.offer_edited(&f, &Edit::KEEP, true);
        let got = drain(&mut r);
        assert_eq!(got[0], (tagged.clone(), 64, true));
        assert_eq!(got[1], (f.clone(), 60, true));
        assert_eq!(&got[2].0[12..16], &[0x81, 0, 0, 20]);
        assert_eq!(got[2].0.len(), 64);
        assert_eq!(got[3], (f, 60, true));
    }

    #[test]
    fn steady_state_reuses_buffers() {
        let (mut tap, mut r) = tap(CaptureDirection::Both, 262_144, None, 8);
        let f = frame(0x0800, 1514);
        let mut seen = HashSet::new();
        let round = |tap: &mut Tap, r: &mut Reader, seen: &mut HashSet<usize>| {
            for _ in 0..5 {
                assert!(tap.offer(&f, false));
            }
            while let Recv::Frame(c) = r.recv(NOW) {
                seen.insert(c.data.as_ptr() as usize);
            }
        };
        round(&mut tap, &mut r, &mut seen);
        let (buffers, bytes) = (tap.buffers(), tap.buffer_bytes());
        for _ in 0..1000 {
            round(&mut tap, &mut r, &mut seen);
        }
        // Every frame came back before the next round: no buffer was made
        // or grown after the first.
        assert_eq!((tap.buffers(), tap.buffer_bytes()), (buffers, bytes));
        assert!(
            buffers <= 5 && bytes <= 5 * FIRST_BUFFER,
            "{buffers} buffers, {bytes} bytes"
        );
        assert!(seen.len() <= 8, "{} distinct buffers for 5005 frames", seen.len());
        assert_eq!(r.lost(), 0);
    }
}

//! TAP ports: a device opened through `/dev/net/tun`, whose fd is the
//! switch side and whose kernel side is a host endpoint (it can be given an
//! address or moved into another network namespace; the fd keeps working).
//!
//! `open` creates the device if it is missing and attaches to it if it is a
//! free TAP device. A device switchd created is not persistent unless asked,
//! so it disappears when the port is deleted or switchd stops. Every frame
//! carries a virtio-net header (`IFF_VNET_HDR`) and the device may hand us
//! TCP as 64 KiB GSO super-frames with partial checksums
//! (`TUNSETOFFLOAD`), which cross the switch untouched to ports that take
//! them.
//!
//! A TAP fd is a character device: `recvmmsg`/`sendmmsg` do not work on it
//! (`ENOTSOCK`). A batch is therefore one io_uring submission of many
//! `read`s or `writev`s ([`FdRing`]) when the kernel allows io_uring, and
//! one syscall per frame otherwise (or with `switchd --no-io-uring`).
//! Reads land in the slot as `[virtio-net header][frame]`, so one plain
//! buffer takes both; writes gather the header and the pieces of an
//! [`Edit`](crate::batch::Edit), so egress tag changes copy nothing.

use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};

use super::handed::{refused, Handed, PortFds};
use super::outcome::SendOutcome;
use super::sys::{self, FdRing, OpenError};
use crate::batch::{RxBatch, TxEntry, BATCH, SLOT_LEN};
use crate::wire::vnet::{VnetHdr, VNET_HDR_LEN};

/// What the kernel may hand a TAP port: partial checksums and TCP
/// segmentation (IPv4, IPv6, with ECN). No UDP segmentation: those frames
/// are segmented by the kernel before we see them.
const TAP_OFFLOADS: libc::c_uint =
    libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6 | libc::TUN_F_TSO_ECN;

/// Where a received frame starts in its slot: right behind its virtio-net
/// header, which the same read puts at the start of the slot.
pub const FRAME_AT: usize = VNET_HDR_LEN;

/// Requests per io_uring submission: a receive batch, or a send chunk.
const RING_ENTRIES: u32 = BATCH as u32;

/// How TAP ports move frames to and from the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapIo {
    /// io_uring batches where the kernel allows them, else one syscall per frame.
    Auto,
    /// One `read` / `writev` per frame.
    Syscalls,
}

/// An open TAP device.
#[derive(Debug)]
pub struct TapPort {
    /// Batches reads and writes on `file`'s fd (`None`: one syscall per
    /// frame). Declared before `file`, so it is dropped (and releases its
    /// reference to the device) first.
    ring: Option<FdRing>,
    file: File,
    name: String,
    mtu: u32,
    /// Read by tests only.
    #[cfg_attr(not(test), allow(dead_code))]
    created: bool,
    /// One more than the frames the last wake-up found: how many reads to
    /// submit first, so that a steady rate costs one submission per wake-up
    /// (its frames plus one `EAGAIN`) and a flood grows to full batches.
    rx_hint: usize,
}

impl TapPort {
    /// Creates TAP device `name`, or attaches to it if it already exists and
    /// no other process holds it, and brings it admin-up. With `persist`,
    /// the device outlives this port (`TUNSETPERSIST`); without it, a device
    /// this call created is removed when the port is dropped.
    ///
    /// # Errors
    /// [`OpenError::Held`] when `name` is held by another process (e.g.
    /// qemu: such a device is attached as a `system` port instead);
    /// [`OpenError::NameIsTemplate`] when `name` has a `%`;
    /// [`OpenError::IsTun`], [`OpenError::MultiQueueTap`] or
    /// [`OpenError::NotATap`] when it exists and is a TUN device, a
    /// multi-queue TAP device or no tun/tap device at all;
    /// [`OpenError::Io`] naming the failing step otherwise.
    ///
    /// With [`TapIo::Auto`], a kernel that refuses io_uring is not an error:
    /// the port moves one frame per syscall (see [`TapPort::uses_io_uring`]).
    pub fn open(name: &proto::IfName, persist: bool, io: TapIo) -> Result<TapPort, OpenError> {
        let name = name.as_str();
        if name.contains('%') {
            // The kernel would take it as a template and create e.g. "tap0".
            return Err(OpenError::NameIsTemplate {
                name: name.to_owned(),
            });
        }
        let file = File::from(sys::tun_open().map_err(OpenError::io("open /dev/net/tun", name))?);
        let flags = libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_VNET_HDR;

        // IFF_TUN_EXCL creates the device or fails with EBUSY if the name is
        // taken, which tells "created" from "attached" without a race.
        let created = match sys::tun_set_iff(file.as_fd(), name, flags | libc::IFF_TUN_EXCL) {
            Ok(()) => true,
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                attach(&file, name, flags)?;
                false
            }
            Err(e) => {
                return Err(OpenError::Io {
                    step: "create tap",
                    name: name.to_owned(),
                    cause: e,
                })
            }
        };

        // Every frame comes with a virtio-net header, so the device may hand
        // us TCP as GSO super-frames with partial checksums (and take them
        // from us): one read instead of ~45 per 64 KiB. The mask and the
        // header size belong to the device and survive on persistent
        // devices, so always set them.
        sys::tun_set_vnet_hdr_size(file.as_fd(), VNET_HDR_LEN)
            .map_err(OpenError::io("set the virtio-net header size of", name))?;
        sys::tun_set_offload(file.as_fd(), TAP_OFFLOADS).map_err(OpenError::io("set offloads on", name))?;
        sys::if_set_up(name).map_err(OpenError::io("bring up", name))?;
        let mtu = sys::if_mtu(name).map_err(OpenError::io("read mtu of", name))?;
        // Last, so that a failure above never leaves a persistent device
        // behind. A device we only attached to keeps its persistence.
        if persist || created {
            sys::tun_set_persist(file.as_fd(), persist).map_err(OpenError::io("set persist on", name))?;
        }
        Ok(TapPort::new(file, io, name, mtu, created))
    }

    /// The port on an fd attached and set up.
    fn new(file: File, io: TapIo, name: &str, mtu: u32, created: bool) -> TapPort {
        TapPort {
            ring: new_ring(&file, io, name),
            file,
            name: name.to_owned(),
            mtu,
            created,
            rx_hint: 1,
        }
    }

    /// Takes over the TAP fd a previous image of switchd handed over on an
    /// in-place restart (SPEC §13): the device was never closed, so it keeps
    /// its ifindex, its addresses and, if it was moved into a guest's or a
    /// container's namespace, its place there. The fd must still be attached
    /// to a TAP named `name` with a virtio-net header.
    ///
    /// # Errors
    /// [`OpenError::Io`] (step "take over") when the fd is not that TAP; the
    /// caller then opens the port anew.
    pub fn adopt(name: &proto::IfName, io: TapIo, handed: Handed) -> Result<TapPort, OpenError> {
        let name = name.as_str();
        let (fd, state) = handed.into_first(name)?;
        let file = File::from(fd);
        let (attached, flags) = sys::tun_get_iff(file.as_fd()).map_err(OpenError::io("take over", name))?;
        let want = libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_VNET_HDR;
        if attached != name || flags & want != want {
            return Err(refused(
                name,
                format!("the fd handed over is attached to {attached:?} (flags {flags:#x})"),
            ));
        }
        // The header size and offload mask belong to the device and are as
        // the previous image set them; set again in case that image was
        // older and set others.
        sys::tun_set_vnet_hdr_size(file.as_fd(), VNET_HDR_LEN)
            .map_err(OpenError::io("set the virtio-net header size of", name))?;
        sys::tun_set_offload(file.as_fd(), TAP_OFFLOADS).map_err(OpenError::io("set offloads on", name))?;
        // A TAP moved into another namespace has no name here: its MTU is
        // the one the previous image read.
        let mtu = sys::if_mtu(name).unwrap_or(state.mtu);
        Ok(TapPort::new(file, io, name, mtu, false))
    }

    /// What this port hands to the next image on an in-place restart.
    pub fn hand_over(&self) -> PortFds {
        PortFds {
            fds: vec![self.file.as_raw_fd()],
            mtu: self.mtu,
            ..PortFds::default()
        }
    }

    /// Whether frames move in io_uring batches (rather than one syscall each).
    #[cfg(test)]
    pub fn uses_io_uring(&self) -> bool {
        self.ring.is_some()
    }

    /// The fd to register for readability.
    pub fn raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// The device MTU, read at open.
    pub fn mtu(&self) -> u32 {
        self.mtu
    }

    /// Frames carry a virtio-net header: GSO super-frames and partial
    /// checksums can be written as they are.
    pub fn offloads(&self) -> bool {
        true
    }

    /// Whether `open` created the device (rather than attaching to it).
    #[cfg(test)]
    pub fn created(&self) -> bool {
        self.created
    }

    /// Reads frames into slots `0..`, each at offset [`FRAME_AT`], until the
    /// fd would block or `BATCH` frames were read. Fewer than `BATCH` means
    /// drained.
    ///
    /// # Errors
    /// A device error, e.g. `EBADFD` once the device was deleted. Frames
    /// read before the error are discarded (the count is set to 0).
    pub fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        batch.set_count(0);
        // The last wake-up found one frame at most: request/response traffic,
        // with nothing to batch. There plain syscalls measured a lower
        // round-trip time than io_uring (README, Performance), so the ring
        // only serves wake-ups that follow a burst.
        let n = match self.ring.as_mut() {
            Some(ring) if self.rx_hint > 2 => match recv_ring(ring, batch, self.rx_hint) {
                Ok(r) => r?,
                // Frames the ring read before it failed stay; syscalls go on
                // from there, so nothing is lost or left unread.
                Err(RingFailed(e, read)) => {
                    self.drop_ring(&e);
                    recv_syscalls(&mut self.file, batch, read)?
                }
            },
            _ => recv_syscalls(&mut self.file, batch, 0)?,
        };
        self.rx_hint = (n + 1).min(BATCH);
        batch.set_count(n);
        Ok(n)
    }

    /// Writes each queued frame with its edit: one io_uring submission per
    /// `BATCH` frames, or one `writev` per frame (always for a single frame,
    /// which gains nothing from the ring).
    pub fn send_batch(&mut self, batch: &RxBatch, tx: &[TxEntry]) -> SendOutcome {
        let mut out = SendOutcome::default();
        let mut rest = tx;
        while !rest.is_empty() {
            let (chunk, more) = rest.split_at(rest.len().min(BATCH));
            rest = more;
            let mut hdrs = [[0u8; VNET_HDR_LEN]; BATCH];
            for (hdr, entry) in hdrs.iter_mut().zip(chunk) {
                *hdr = batch
                    .vnet(usize::from(entry.slot))
                    .for_edit(&entry.edit)
                    .to_bytes();
            }
            let mut iov = [IoSlice::new(&[]); 4 * BATCH];
            let mut counts = [0u8; BATCH];
            let mut used = 0;
            for ((entry, hdr), count) in chunk.iter().zip(&hdrs).zip(&mut counts) {
                let (head, tag, tail) = entry.edit.pieces(batch.frame(usize::from(entry.slot)));
                let pieces = [Some(&hdr[..]), Some(head), tag.map(|t| &t[..]), Some(tail)];
                for piece in pieces.into_iter().flatten() {
                    iov[used] = IoSlice::new(piece);
                    used += 1;
                    *count += 1;
                }
            }
            let counts = &counts[..chunk.len()];
            let mut results = [0i32; BATCH];
            let mut written = false;
            if let (Some(ring), true) = (self.ring.as_mut(), chunk.len() > 1) {
                match ring.write_gathered(&iov[..used], counts, &mut results) {
                    Ok(()) => written = true,
                    Err(e) => self.drop_ring(&e),
                }
            }
            if !written {
                write_syscalls(&mut self.file, &iov[..used], counts, &mut results);
            }
            for &r in &results[..chunk.len()] {
                count_write(&mut out, r);
            }
        }
        out
    }

    /// Falls back to plain syscalls for good after the ring itself failed
    /// (its queued requests are discarded with it, unread).
    fn drop_ring(&mut self, e: &io::Error) {
        tracing::warn!(tap = %self.name, "io_uring failed ({e}); one syscall per frame from now on");
        self.ring = None;
    }
}

/// The io_uring itself refused a submission (not one read: those come back
/// as results), after this many frames were read.
struct RingFailed(io::Error, usize);

/// Receives through the ring: `hint` reads first, doubling while every read
/// finds a frame, until one finds the queue empty or the batch is full.
/// Returns the frame count, or the device error a read reported.
fn recv_ring(ring: &mut FdRing, batch: &mut RxBatch, hint: usize) -> Result<io::Result<usize>, RingFailed> {
    let mut n = 0;
    let mut want = hint.clamp(1, BATCH);
    let mut results = [0i32; BATCH];
    loop {
        let first = n;
        let count = want.min(BATCH - first);
        let (buf, _) = batch.slots_mut();
        ring.read_slots(buf, SLOT_LEN, 0, (first, count), &mut results)
            .map_err(|e| RingFailed(e, n))?;
        let mut drained = false;
        for (i, &r) in results[..count].iter().enumerate() {
            match r {
                // A frame (a TAP read never returns a bare header).
                r if r > VNET_HDR_LEN as i32 => {
                    let slot = first + i;
                    if slot != n {
                        // An earlier read of this submission found the queue
                        // empty and this one found a frame that came in
                        // between: close the gap.
                        let (buf, _) = batch.slots_mut();
                        buf.copy_within(slot * SLOT_LEN..slot * SLOT_LEN + r as usize, n * SLOT_LEN);
                    }
                    take_frame(batch, n, r as usize);
                    n += 1;
                }
                r if r == -libc::EAGAIN || r >= 0 => drained = true,
                r => return Ok(Err(io::Error::from_raw_os_error(-r))),
            }
        }
        if drained || n == BATCH {
            return Ok(Ok(n));
        }
        want = count * 2;
    }
}

/// Records the `len` bytes a read put in slot `i` (`[virtio-net
/// header][frame]`) as frame `i` with its header.
fn take_frame(batch: &mut RxBatch, i: usize, len: usize) {
    let hdr = batch.slot_mut(i)[..VNET_HDR_LEN]
        .try_into()
        .expect("header length");
    batch.set_frame(i, FRAME_AT, len - VNET_HDR_LEN);
    batch.set_vnet(i, VnetHdr::from_bytes(&hdr));
}

/// Receives with one `read` per frame into slots `first..`; returns the
/// number of slots filled in all.
fn recv_syscalls(file: &mut File, batch: &mut RxBatch, first: usize) -> io::Result<usize> {
    let mut n = first;
    while n < BATCH {
        match file.read(batch.slot_mut(n)) {
            Ok(len) if len > VNET_HDR_LEN => {
                take_frame(batch, n, len);
                n += 1;
            }
            // A TAP read never returns 0 with room in the buffer, nor a bare
            // header; treat either as drained rather than spin.
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Sends with one `writev` per frame, results as the ring gives them.
fn write_syscalls(file: &mut File, iov: &[IoSlice<'_>], counts: &[u8], results: &mut [i32]) {
    let mut next = 0;
    for (&count, result) in counts.iter().zip(results) {
        let pieces = &iov[next..next + usize::from(count)];
        next += usize::from(count);
        *result = loop {
            match file.write_vectored(pieces) {
                Ok(len) => break len as i32,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break -e.raw_os_error().unwrap_or(libc::EIO),
            }
        };
    }
}

/// Counts one write result (bytes written, or `-errno`).
fn count_write(out: &mut SendOutcome, result: i32) {
    match result {
        len if len >= 0 => {
            out.sent += 1;
            out.bytes += (len as u64).saturating_sub(VNET_HDR_LEN as u64);
        }
        e if e == -libc::EAGAIN || e == -libc::ENOBUFS => out.dropped += 1,
        // The kernel refuses frames while the host side is down.
        e if e == -libc::EIO => out.link_down += 1,
        _ => out.errors += 1,
    }
}

/// Attaches `file` to existing device `name`, turning the kernel's terse
/// refusals into messages that say what the device is.
fn attach(file: &File, name: &str, flags: libc::c_int) -> Result<(), OpenError> {
    let err = match sys::tun_set_iff(file.as_fd(), name, flags) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    match err.raw_os_error() {
        Some(libc::EBUSY) => Err(OpenError::Held(name.to_owned())),
        // EINVAL: not a tun/tap device at all, a TUN device, or a TAP device
        // whose multi-queue flag differs from ours. The driver info tells
        // which.
        Some(libc::EINVAL) => {
            let name = name.to_owned();
            Err(match sys::if_driver(&name) {
                Ok((driver, bus)) if driver == "tun" && bus == "tun" => OpenError::IsTun { name },
                Ok((driver, bus)) if driver == "tun" && bus == "tap" => OpenError::MultiQueueTap { name },
                _ => OpenError::NotATap { name },
            })
        }
        // The device vanished between the two attempts.
        Some(libc::ENODEV) => Err(OpenError::NoSuchDevice(name.to_owned())),
        _ => Err(OpenError::Io {
            step: "attach tap",
            name: name.to_owned(),
            cause: err,
        }),
    }
}

/// The io_uring of a TAP port with [`TapIo::Auto`], if the kernel allows one.
fn new_ring(file: &File, io: TapIo, name: &str) -> Option<FdRing> {
    match io {
        TapIo::Syscalls => None,
        TapIo::Auto => match FdRing::new(file.as_fd(), RING_ENTRIES) {
            Ok(ring) => Some(ring),
            Err(e) => {
                tracing::debug!(tap = name, "io_uring unavailable ({e}); one syscall per frame");
                None
            }
        },
    }
}

#[cfg(test)]
mod tests;

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

use super::sys::{self, FdRing, OpenError};
use super::SendOutcome;
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
    /// [`OpenError::Refused`] when it exists but is not a TAP device or is a
    /// multi-queue device;
    /// [`OpenError::Io`] naming the failing step otherwise.
    ///
    /// With [`TapIo::Auto`], a kernel that refuses io_uring is not an error:
    /// the port moves one frame per syscall (see [`TapPort::uses_io_uring`]).
    pub fn open(name: &proto::IfName, persist: bool, io: TapIo) -> Result<TapPort, OpenError> {
        let name = name.as_str();
        if name.contains('%') {
            // The kernel would take it as a template and create e.g. "tap0".
            return Err(OpenError::Refused(format!(
                "{name:?} contains '%', which the kernel treats as a name template"
            )));
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
                    source: e,
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
        let ring = match io {
            TapIo::Syscalls => None,
            TapIo::Auto => match FdRing::new(file.as_fd(), RING_ENTRIES) {
                Ok(ring) => Some(ring),
                Err(e) => {
                    tracing::debug!(tap = name, "io_uring unavailable ({e}); one syscall per frame");
                    None
                }
            },
        };
        Ok(TapPort {
            ring,
            file,
            name: name.to_owned(),
            mtu,
            created,
            rx_hint: 1,
        })
    }

    /// Whether frames move in io_uring batches (rather than one syscall each).
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

    /// The device name given at open (the device may have been renamed or
    /// moved since; the fd does not care).
    pub fn name(&self) -> &str {
        &self.name
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
        Some(libc::EINVAL) => Err(OpenError::Refused(match sys::if_driver(name) {
            Ok((driver, bus)) if driver == "tun" && bus == "tun" => {
                format!("{name:?} is a TUN (layer 3) device, not a TAP device")
            }
            Ok((driver, bus)) if driver == "tun" && bus == "tap" => format!(
                "{name:?} is a multi-queue TAP device, which type=tap does not support; \
                 add it as type=system to attach through AF_PACKET"
            ),
            _ => format!("{name:?} exists and is not a TAP device"),
        })),
        // The device vanished between the two attempts.
        Some(libc::ENODEV) => Err(OpenError::NoSuchDevice(name.to_owned())),
        _ => Err(OpenError::Io {
            step: "attach tap",
            name: name.to_owned(),
            source: err,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::sys::test_util::*;
    use super::super::system::SystemPort;
    use super::*;
    use crate::batch::{Edit, RxBatch, TxEntry};

    /// The I/O tests run in both modes; `Auto` must really get io_uring
    /// where the kernel allows it (checked by `open_in`).
    const IO_MODES: [TapIo; 2] = [TapIo::Auto, TapIo::Syscalls];

    fn ifname(s: &str) -> proto::IfName {
        s.parse().unwrap()
    }

    /// Opens a TAP for the I/O tests and checks that `Auto` did not fall
    /// back to syscalls on a kernel that allows io_uring (a fallback would
    /// otherwise pass every test unnoticed).
    fn open_in(name: &str, io: TapIo) -> TapPort {
        let tap = TapPort::open(&ifname(name), false, io).unwrap();
        assert_eq!(tap.uses_io_uring(), open_in_would_use_ring(io), "{io:?}");
        tap
    }

    /// Whether a port opened with `io` must get an io_uring on this kernel.
    fn open_in_would_use_ring(io: TapIo) -> bool {
        io == TapIo::Auto
            && std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").map_or(true, |v| v.trim() == "0")
    }

    /// A test frame: broadcast dst, a local src, ethertype 0x88b5 (local
    /// experimental) and `payload_len` bytes starting with `seq`.
    fn frame(seq: u8, payload_len: usize) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, seq]);
        f.extend_from_slice(&[0x88, 0xb5]);
        f.extend((0..payload_len).map(|i| seq.wrapping_add(i as u8)));
        f
    }

    /// Frames of our test ethertype received by `port` (ignores anything
    /// else the kernel may emit).
    fn recv_system(port: &mut SystemPort, rx: &mut RxBatch) -> Vec<Vec<u8>> {
        let n = port.recv_batch(rx).unwrap();
        (0..n).map(|i| rx.frame(i).to_vec()).collect()
    }

    #[test]
    fn create_up_nonblocking_cloexec_removed_on_drop() {
        if !root_or_skip("create_up_nonblocking_cloexec_removed_on_drop") {
            return;
        }
        enter_private_netns();
        for io in IO_MODES {
            let name = uniq("a");
            let _g = LinkGuard(name.clone());
            let tap = open_in(&name, io);
            assert!(tap.created());
            assert_eq!(tap.mtu(), 1500);
            let text = ip_ok(&["-d", "link", "show", "dev", &name]);
            assert!(text.contains("tap"), "{text}");
            assert!(text.contains(",UP"), "not admin-up: {text}");
            assert!(text.contains("persist off"), "{text}");
            let (fl, fd) = fd_flags(tap.raw_fd());
            assert!(fl & libc::O_NONBLOCK != 0, "not non-blocking");
            assert!(fl & libc::O_ACCMODE == libc::O_RDWR);
            assert!(fd & libc::FD_CLOEXEC != 0, "not close-on-exec");
            assert_eq!(
                sys::if_driver(&name).unwrap(),
                ("tun".to_owned(), "tap".to_owned())
            );
            drop(tap);
            assert!(link_gone(&name), "non-persistent tap survived its fd");
        }
    }

    #[test]
    fn persist_keeps_device_and_reattaches() {
        if !root_or_skip("persist_keeps_device_and_reattaches") {
            return;
        }
        enter_private_netns();
        let name = uniq("p");
        let _g = LinkGuard(name.clone());
        let tap = TapPort::open(&ifname(&name), true, TapIo::Auto).unwrap();
        assert!(tap.created());
        drop(tap);
        assert!(link_exists(&name), "persistent tap vanished");
        assert!(ip_ok(&["-d", "link", "show", "dev", &name]).contains("persist on"));
        // Re-open: attached, not created; drop leaves it (still persistent).
        let tap = TapPort::open(&ifname(&name), false, TapIo::Auto).unwrap();
        assert!(!tap.created());
        drop(tap);
        assert!(link_exists(&name));
        ip_ok(&["link", "del", "dev", &name]);
        assert!(!link_exists(&name));
    }

    /// The ring holds its own reference to the device file; dropping a port
    /// must release it before the drop returns, or a port re-opened at once
    /// (del-port then add-port, a port re-attached) finds its own device
    /// "held by another process".
    #[test]
    fn a_dropped_port_releases_its_device_at_once() {
        if !root_or_skip("a_dropped_port_releases_its_device_at_once") {
            return;
        }
        enter_private_netns();
        enter_private_fd_table();
        let name = uniq("r");
        let _g = LinkGuard(name.clone());
        for io in IO_MODES {
            for i in 0..50 {
                let tap = TapPort::open(&ifname(&name), true, io)
                    .unwrap_or_else(|e| panic!("{io:?}: open number {i} right after a drop: {e}"));
                assert_eq!(tap.uses_io_uring(), open_in_would_use_ring(io), "{io:?}");
                drop(tap);
            }
        }
    }

    #[test]
    fn attach_existing_free_tap() {
        if !root_or_skip("attach_existing_free_tap") {
            return;
        }
        enter_private_netns();
        let name = uniq("e");
        let _g = LinkGuard(name.clone());
        ip_ok(&["tuntap", "add", "dev", &name, "mode", "tap"]);
        ip_ok(&["link", "set", "dev", &name, "mtu", "1400"]);
        let tap = TapPort::open(&ifname(&name), false, TapIo::Auto).unwrap();
        assert!(!tap.created());
        assert_eq!(tap.mtu(), 1400);
        assert!(ip_ok(&["link", "show", "dev", &name]).contains(",UP"));
        drop(tap);
        assert!(
            link_exists(&name),
            "switchd must not remove a tap it did not create"
        );
    }

    #[test]
    fn attach_sets_the_offloads_switchd_carries() {
        if !root_or_skip("attach_sets_the_offloads_switchd_carries") {
            return;
        }
        enter_private_netns();
        let name = uniq("o");
        let _g = LinkGuard(name.clone());
        // Someone left a persistent tap without vnet header or offloads.
        {
            let fd = sys::tun_open().unwrap();
            sys::tun_set_iff(fd.as_fd(), &name, libc::IFF_TAP | libc::IFF_NO_PI).unwrap();
            sys::tun_set_offload(fd.as_fd(), 0).unwrap();
            sys::tun_set_persist(fd.as_fd(), true).unwrap();
        }
        let features = || {
            let out = std::process::Command::new("ethtool")
                .args(["-k", &name])
                .output()
                .expect("run ethtool");
            assert!(out.status.success(), "ethtool -k {name}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let before = features();
        assert!(before.contains("tcp-segmentation-offload: off"), "{before}");
        assert!(before.contains("tx-checksumming: off"), "{before}");
        let tap = TapPort::open(&ifname(&name), false, TapIo::Auto).unwrap();
        assert!(!tap.created());
        let after = features();
        // The host side may now hand us (and take from us) TCP as GSO
        // super-frames with partial checksums, described by a vnet header.
        assert!(after.contains("tcp-segmentation-offload: on"), "{after}");
        assert!(after.contains("tx-checksumming: on"), "{after}");
        assert!(ip_ok(&["-d", "link", "show", "dev", &name]).contains("vnet_hdr on"));
    }

    #[test]
    fn held_tap_is_refused() {
        if !root_or_skip("held_tap_is_refused") {
            return;
        }
        enter_private_netns();
        let name = uniq("b");
        let _g = LinkGuard(name.clone());
        let _holder = TapPort::open(&ifname(&name), false, TapIo::Auto).unwrap();
        match TapPort::open(&ifname(&name), false, TapIo::Auto) {
            Err(e @ OpenError::Held(_)) => assert_eq!(
                e.to_string(),
                format!(
                    "{name:?} is held by another process (qemu?); \
                     add it as type=system to attach through AF_PACKET"
                )
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_tap_devices_are_refused() {
        if !root_or_skip("non_tap_devices_are_refused") {
            return;
        }
        enter_private_netns();
        let veth = uniq("v");
        let peer = uniq("w");
        let tun = uniq("u");
        let _g = [LinkGuard(veth.clone()), LinkGuard(tun.clone())];
        ip_ok(&["link", "add", &veth, "type", "veth", "peer", "name", &peer]);
        ip_ok(&["tuntap", "add", "dev", &tun, "mode", "tun"]);
        match TapPort::open(&ifname(&veth), false, TapIo::Auto) {
            Err(OpenError::Refused(m)) => assert_eq!(m, format!("{veth:?} exists and is not a TAP device")),
            other => panic!("{other:?}"),
        }
        match TapPort::open(&ifname(&tun), false, TapIo::Auto) {
            Err(OpenError::Refused(m)) => {
                assert_eq!(m, format!("{tun:?} is a TUN (layer 3) device, not a TAP device"))
            }
            other => panic!("{other:?}"),
        }
        match TapPort::open(&ifname("tap%d"), false, TapIo::Auto) {
            Err(OpenError::Refused(m)) => assert!(m.contains("template"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(link_exists(&veth) && link_exists(&tun));
    }

    #[test]
    fn send_batch_applies_edits() {
        if !root_or_skip("send_batch_applies_edits") {
            return;
        }
        enter_private_netns();
        for io in IO_MODES {
            let name = uniq("s");
            let _g = LinkGuard(name.clone());
            let mut tap = open_in(&name, io);
            let mut sys_port = SystemPort::open(&ifname(&name)).unwrap();

            let plain = frame(1, 50);
            let mut tagged = frame(2, 50);
            tagged.splice(12..12, [0x81, 0x00, 0xa0, 0x0a]); // PCP 5, VID 10
            let batch = batch_of(&[plain.clone(), tagged.clone()]);
            let tag = [0x81, 0x00, 0x00, 0x14]; // VID 20
            let tx = [
                TxEntry::new(0, Edit::KEEP),
                TxEntry::new(1, Edit::KEEP),
                TxEntry::new(1, Edit::POP),
                TxEntry::new(0, Edit::push(tag)),
                TxEntry::new(1, Edit::retag(tag)),
            ];
            let out = tap.send_batch(&batch, &tx);
            let mut expect = vec![plain.clone(), tagged.clone()];
            expect.push([&tagged[..12], &tagged[16..]].concat());
            expect.push([&plain[..12], &tag[..], &plain[12..]].concat());
            expect.push([&tagged[..12], &tag[..], &tagged[16..]].concat());
            let bytes: usize = expect.iter().map(Vec::len).sum();
            assert_eq!(
                out,
                SendOutcome {
                    sent: 5,
                    bytes: bytes as u64,
                    dropped: 0,
                    errors: 0,
                    link_down: 0
                }
            );

            let mut rx = RxBatch::new();
            assert_eq!(recv_system(&mut sys_port, &mut rx), expect);
        }
    }

    #[test]
    fn recv_batch_reads_what_the_device_sends() {
        if !root_or_skip("recv_batch_reads_what_the_device_sends") {
            return;
        }
        enter_private_netns();
        for io in IO_MODES {
            let name = uniq("r");
            let _g = LinkGuard(name.clone());
            let mut tap = open_in(&name, io);
            let mut sys_port = SystemPort::open(&ifname(&name)).unwrap();
            let mut rx = RxBatch::new();
            assert_eq!(
                tap.recv_batch(&mut rx).unwrap(),
                0,
                "empty fd must read as drained"
            );

            let frames: Vec<Vec<u8>> = (0..40).map(|i| frame(i, 60 + usize::from(i))).collect();
            let send = batch_of(&frames[..BATCH]);
            assert_eq!(sys_port.send_batch(&send, &keep_all(BATCH)).sent, BATCH as u64);
            let send = batch_of(&frames[BATCH..]);
            assert_eq!(sys_port.send_batch(&send, &keep_all(8)).sent, 8);

            // A full batch means "maybe more"; the rest follows; then drained.
            assert_eq!(tap.recv_batch(&mut rx).unwrap(), BATCH);
            for (i, f) in frames[..BATCH].iter().enumerate() {
                assert_eq!(rx.frame(i), &f[..]);
                assert_eq!(rx.frame_ref(i).start, FRAME_AT);
            }
            assert_eq!(tap.recv_batch(&mut rx).unwrap(), 8);
            for (i, f) in frames[BATCH..].iter().enumerate() {
                assert_eq!(rx.frame(i), &f[..]);
            }
            assert_eq!(tap.recv_batch(&mut rx).unwrap(), 0);
            assert_eq!(rx.count(), 0);

            // Deleting the device turns reads into an error.
            ip_ok(&["link", "del", "dev", &name]);
            let e = tap.recv_batch(&mut rx).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EBADFD), "{e}");
            let out = tap.send_batch(&batch_of(&[frame(9, 50)]), &keep_all(1));
            assert_eq!(
                out,
                SendOutcome {
                    sent: 0,
                    bytes: 0,
                    dropped: 0,
                    errors: 1,
                    link_down: 0
                }
            );
        }
    }

    #[test]
    fn bursts_after_a_trickle_keep_order_in_every_mode() {
        if !root_or_skip("bursts_after_a_trickle_keep_order_in_every_mode") {
            return;
        }
        enter_private_netns();
        for io in IO_MODES {
            let name = uniq("g");
            let _g = LinkGuard(name.clone());
            let mut tap = open_in(&name, io);
            let mut sys_port = SystemPort::open(&ifname(&name)).unwrap();
            let mut rx = RxBatch::new();
            let mut seq = 0u8;
            let mut send = |sys_port: &mut SystemPort, n: usize| {
                let frames: Vec<Vec<u8>> = (0..n)
                    .map(|_| {
                        seq = seq.wrapping_add(1);
                        frame(seq, 46 + usize::from(seq))
                    })
                    .collect();
                for chunk in frames.chunks(BATCH) {
                    let sent = sys_port.send_batch(&batch_of(chunk), &keep_all(chunk.len())).sent;
                    assert_eq!(sent, chunk.len() as u64);
                }
                frames
            };
            // One frame, then two, then a burst bigger than a batch, then a
            // trickle again: the reads switch between plain syscalls and
            // growing ring submissions (2 frames make the next wake-up start
            // with 3 reads, then 6, 12, ...), and no frame is lost or
            // reordered on the way.
            for burst in [1, 2, 40, 3, 1, 31, 33, 1] {
                let mut want = send(&mut sys_port, burst).into_iter();
                let mut got = 0;
                // The kernel may hold part of a burst in the device's qdisc
                // for a moment (it runs a bounded quota per call).
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
                while got < burst {
                    let n = tap.recv_batch(&mut rx).unwrap();
                    if n == 0 {
                        assert!(
                            std::time::Instant::now() < deadline,
                            "{io:?}: burst of {burst}: only {got} arrived"
                        );
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    for i in 0..n {
                        assert_eq!(rx.frame(i), &want.next().unwrap()[..], "{io:?}: burst of {burst}");
                    }
                    got += n;
                }
                assert_eq!(got, burst, "{io:?}");
            }
            assert_eq!(tap.recv_batch(&mut rx).unwrap(), 0);
        }
    }

    #[test]
    fn writes_while_the_link_is_down_count_as_link_down() {
        if !root_or_skip("writes_while_the_link_is_down_count_as_link_down") {
            return;
        }
        enter_private_netns();
        for io in IO_MODES {
            let name = uniq("d");
            let _g = LinkGuard(name.clone());
            let mut tap = open_in(&name, io);
            ip_ok(&["link", "set", "dev", &name, "down"]);
            let out = tap.send_batch(&batch_of(&[frame(3, 50)]), &keep_all(1));
            assert_eq!((out.sent, out.link_down, out.errors), (0, 1, 0), "{out:?}");
            ip_ok(&["link", "set", "dev", &name, "up"]);
            let out = tap.send_batch(&batch_of(&[frame(3, 50)]), &keep_all(1));
            assert_eq!((out.sent, out.link_down, out.errors), (1, 0, 0), "{out:?}");
        }
    }

    #[test]
    fn fd_keeps_working_after_netns_move() {
        if !root_or_skip("fd_keeps_working_after_netns_move") {
            return;
        }
        enter_private_netns();
        for io in IO_MODES {
            // Each mode starts from a namespace of its own.
            enter_private_netns();
            let name = uniq("m");
            let ns = format!("ns{}m", std::process::id());
            let _g = LinkGuard(name.clone());
            let _n = NetnsGuard(ns.clone());
            ip_ok(&["netns", "add", &ns]);
            let mut tap = open_in(&name, io);
            ip_ok(&["link", "set", "dev", &name, "netns", &ns]);
            assert!(!link_exists(&name));
            // Moving a device brings it down; the user brings it up over there.
            ip_ok(&["-n", &ns, "link", "set", "dev", &name, "up"]);

            // Follow the device and look at it from its new namespace.
            enter_netns(&ns);
            let mut sys_port = SystemPort::open(&ifname(&name)).unwrap();
            let frames = [frame(1, 64), frame(2, 100)];
            let out = tap.send_batch(&batch_of(&frames), &keep_all(2));
            assert_eq!(out.sent, 2, "{out:?}");
            let mut rx = RxBatch::new();
            assert_eq!(recv_system(&mut sys_port, &mut rx), frames.to_vec());

            let back = [frame(3, 80)];
            assert_eq!(sys_port.send_batch(&batch_of(&back), &keep_all(1)).sent, 1);
            assert_eq!(tap.recv_batch(&mut rx).unwrap(), 1);
            assert_eq!(rx.frame(0), &back[0][..]);
            drop(sys_port);
            drop(tap);
            assert!(link_gone(&name), "tap outlived its fd in the other namespace");
        }
    }
}

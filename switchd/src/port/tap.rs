//! TAP ports: a device opened through `/dev/net/tun`, whose fd is the
//! switch side and whose kernel side is a host endpoint (it can be given an
//! address or moved into another network namespace; the fd keeps working).
//!
//! `open` creates the device if it is missing and attaches to it if it is a
//! free TAP device. A device switchd created is not persistent unless asked,
//! so it disappears when the port is deleted or switchd stops. Frames carry
//! no packet-info or virtio-net header yet, and offloads are turned off on
//! the device (`TUNSETOFFLOAD(0)`) so the kernel hands over only complete,
//! MTU-sized frames with finished checksums.
//!
//! A TAP fd is a character device: `recvmmsg`/`sendmmsg` do not work on it
//! (`ENOTSOCK`), so a batch is one `read` or `writev` per frame. The
//! `writev` gathers the pieces of an [`Edit`](super::Edit), so egress tag
//! changes copy nothing.

use std::fs::File;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};

use super::sys::{self, OpenError};
use super::{RxBatch, SendOutcome, TxEntry, BATCH, HEADROOM};
use crate::offload::{VnetHdr, VNET_HDR_LEN};

/// What the kernel may hand a TAP port: partial checksums and TCP
/// segmentation (IPv4, IPv6, with ECN). No UDP segmentation: those frames
/// are segmented by the kernel before we see them.
const TAP_OFFLOADS: libc::c_uint =
    libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6 | libc::TUN_F_TSO_ECN;

/// An open TAP device.
#[derive(Debug)]
pub struct TapPort {
    file: File,
    name: String,
    mtu: u32,
    created: bool,
}

impl TapPort {
    /// Creates TAP device `name`, or attaches to it if it already exists and
    /// no other process holds it, and brings it admin-up. With `persist`,
    /// the device outlives this port (`TUNSETPERSIST`); without it, a device
    /// this call created is removed when the port is dropped.
    ///
    /// # Errors
    /// [`OpenError::Refused`] when `name` exists but is not a TAP device,
    /// is held by another process (e.g. qemu: such a device is attached as a
    /// `system` port instead) or is a multi-queue device;
    /// [`OpenError::Io`] naming the failing step otherwise.
    pub fn open(name: &proto::IfName, persist: bool) -> Result<TapPort, OpenError> {
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
        Ok(TapPort {
            file,
            name: name.to_owned(),
            mtu,
            created,
        })
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

    /// Reads frames into slots `0..`, each at offset `HEADROOM`, until the
    /// fd would block or `BATCH` frames were read. Fewer than `BATCH` means
    /// drained.
    ///
    /// # Errors
    /// A device error, e.g. `EBADFD` once the device was deleted. Frames
    /// read before the error are discarded (the count is set to 0).
    pub fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        batch.set_count(0);
        let mut n = 0;
        let mut hdr = [0u8; VNET_HDR_LEN];
        while n < BATCH {
            let read = {
                let mut iov = [
                    IoSliceMut::new(&mut hdr),
                    IoSliceMut::new(&mut batch.slot_mut(n)[HEADROOM..]),
                ];
                self.file.read_vectored(&mut iov)
            };
            match read {
                // A TAP read never returns 0 with room in the buffer; treat
                // it as drained rather than spin.
                Ok(0) => break,
                // Shorter than the header: cannot happen with IFF_VNET_HDR.
                Ok(len) if len < VNET_HDR_LEN => continue,
                Ok(len) => {
                    batch.set_frame(n, HEADROOM, len - VNET_HDR_LEN);
                    batch.set_vnet(n, VnetHdr::from_bytes(&hdr));
                    n += 1;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        batch.set_count(n);
        Ok(n)
    }

    /// Writes each queued frame with its edit, one `writev` per frame.
    pub fn send_batch(&mut self, batch: &RxBatch, tx: &[TxEntry]) -> SendOutcome {
        let mut out = SendOutcome::default();
        for entry in tx {
            let slot = usize::from(entry.slot);
            let (head, tag, rest) = entry.edit.pieces(batch.frame(slot));
            let hdr = batch.vnet(slot).for_edit(&entry.edit).to_bytes();
            let with_tag;
            let without_tag;
            let iov: &[IoSlice<'_>] = match tag {
                Some(t) => {
                    with_tag = [
                        IoSlice::new(&hdr),
                        IoSlice::new(head),
                        IoSlice::new(t),
                        IoSlice::new(rest),
                    ];
                    &with_tag
                }
                None => {
                    without_tag = [IoSlice::new(&hdr), IoSlice::new(head), IoSlice::new(rest)];
                    &without_tag
                }
            };
            loop {
                match self.file.write_vectored(iov) {
                    Ok(len) => {
                        out.sent += 1;
                        out.bytes += len.saturating_sub(VNET_HDR_LEN) as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::ENOBUFS)) => {
                        out.dropped += 1
                    }
                    // The kernel refuses frames while the host side is down.
                    Err(e) if e.raw_os_error() == Some(libc::EIO) => out.link_down += 1,
                    Err(_) => out.errors += 1,
                }
                break;
            }
        }
        out
    }

    /// The device name given at open (the device may have been renamed or
    /// moved since; the fd does not care).
    pub fn name(&self) -> &str {
        &self.name
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
        Some(libc::EBUSY) => Err(OpenError::Refused(format!(
            "{name:?} is held by another process (qemu?); add it as type=system to attach through AF_PACKET"
        ))),
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
    use super::super::{Edit, RxBatch, TxEntry};
    use super::*;

    fn ifname(s: &str) -> proto::IfName {
        s.parse().unwrap()
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

    /// Puts `frames` into slots `0..` of a batch.
    fn batch_of(frames: &[Vec<u8>]) -> RxBatch {
        let mut b = RxBatch::new();
        for (i, f) in frames.iter().enumerate() {
            b.slot_mut(i)[HEADROOM..HEADROOM + f.len()].copy_from_slice(f);
            b.set_frame(i, HEADROOM, f.len());
        }
        b.set_count(frames.len());
        b
    }

    fn keep_all(n: usize) -> Vec<TxEntry> {
        (0..n)
            .map(|i| TxEntry {
                slot: i as u8,
                edit: Edit::KEEP,
            })
            .collect()
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
        let name = uniq("a");
        let _g = LinkGuard(name.clone());
        let tap = TapPort::open(&ifname(&name), false).unwrap();
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

    #[test]
    fn persist_keeps_device_and_reattaches() {
        if !root_or_skip("persist_keeps_device_and_reattaches") {
            return;
        }
        enter_private_netns();
        let name = uniq("p");
        let _g = LinkGuard(name.clone());
        let tap = TapPort::open(&ifname(&name), true).unwrap();
        assert!(tap.created());
        drop(tap);
        assert!(link_exists(&name), "persistent tap vanished");
        assert!(ip_ok(&["-d", "link", "show", "dev", &name]).contains("persist on"));
        // Re-open: attached, not created; drop leaves it (still persistent).
        let tap = TapPort::open(&ifname(&name), false).unwrap();
        assert!(!tap.created());
        drop(tap);
        assert!(link_exists(&name));
        ip_ok(&["link", "del", "dev", &name]);
        assert!(!link_exists(&name));
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
        let tap = TapPort::open(&ifname(&name), false).unwrap();
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
        let tap = TapPort::open(&ifname(&name), false).unwrap();
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
        let _holder = TapPort::open(&ifname(&name), false).unwrap();
        match TapPort::open(&ifname(&name), false) {
            Err(OpenError::Refused(m)) => assert_eq!(
                m,
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
        match TapPort::open(&ifname(&veth), false) {
            Err(OpenError::Refused(m)) => assert_eq!(m, format!("{veth:?} exists and is not a TAP device")),
            other => panic!("{other:?}"),
        }
        match TapPort::open(&ifname(&tun), false) {
            Err(OpenError::Refused(m)) => {
                assert_eq!(m, format!("{tun:?} is a TUN (layer 3) device, not a TAP device"))
            }
            other => panic!("{other:?}"),
        }
        match TapPort::open(&ifname("tap%d"), false) {
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
        let name = uniq("s");
        let _g = LinkGuard(name.clone());
        let mut tap = TapPort::open(&ifname(&name), false).unwrap();
        let mut sys_port = SystemPort::open(&ifname(&name)).unwrap();

        let plain = frame(1, 50);
        let mut tagged = frame(2, 50);
        tagged.splice(12..12, [0x81, 0x00, 0xa0, 0x0a]); // PCP 5, VID 10
        let batch = batch_of(&[plain.clone(), tagged.clone()]);
        let tag = [0x81, 0x00, 0x00, 0x14]; // VID 20
        let tx = [
            TxEntry {
                slot: 0,
                edit: Edit::KEEP,
            },
            TxEntry {
                slot: 1,
                edit: Edit::KEEP,
            },
            TxEntry {
                slot: 1,
                edit: Edit::POP,
            },
            TxEntry {
                slot: 0,
                edit: Edit::push(tag),
            },
            TxEntry {
                slot: 1,
                edit: Edit::retag(tag),
            },
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

    #[test]
    fn recv_batch_reads_what_the_device_sends() {
        if !root_or_skip("recv_batch_reads_what_the_device_sends") {
            return;
        }
        enter_private_netns();
        let name = uniq("r");
        let _g = LinkGuard(name.clone());
        let mut tap = TapPort::open(&ifname(&name), false).unwrap();
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
            assert_eq!(rx.frame_ref(i).start, HEADROOM);
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

    #[test]
    fn writes_while_the_link_is_down_count_as_link_down() {
        if !root_or_skip("writes_while_the_link_is_down_count_as_link_down") {
            return;
        }
        enter_private_netns();
        let name = uniq("d");
        let _g = LinkGuard(name.clone());
        let mut tap = TapPort::open(&ifname(&name), false).unwrap();
        ip_ok(&["link", "set", "dev", &name, "down"]);
        let out = tap.send_batch(&batch_of(&[frame(3, 50)]), &keep_all(1));
        assert_eq!((out.sent, out.link_down, out.errors), (0, 1, 0), "{out:?}");
        ip_ok(&["link", "set", "dev", &name, "up"]);
        let out = tap.send_batch(&batch_of(&[frame(3, 50)]), &keep_all(1));
        assert_eq!((out.sent, out.link_down, out.errors), (1, 0, 0), "{out:?}");
    }

    #[test]
    fn fd_keeps_working_after_netns_move() {
        if !root_or_skip("fd_keeps_working_after_netns_move") {
            return;
        }
        enter_private_netns();
        let name = uniq("m");
        let ns = format!("ns{}m", std::process::id());
        let _g = LinkGuard(name.clone());
        let _n = NetnsGuard(ns.clone());
        ip_ok(&["netns", "add", &ns]);
        let mut tap = TapPort::open(&ifname(&name), false).unwrap();
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

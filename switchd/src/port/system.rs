//! System ports: an existing Ethernet device (physical NIC, veth end, a TAP
//! another process holds) attached through an AF_PACKET raw socket, in
//! promiscuous mode, the way OVS attaches `system` ports.
//!
//! Receive is one `recvmmsg` per batch and transmit one `sendmmsg`, over
//! arrays preallocated per port. Two kernel behaviours are undone here:
//! - the kernel strips the 802.1Q/802.1ad tag before AF_PACKET sees the
//!   frame and reports it in `PACKET_AUXDATA`; the tag is put back into the
//!   slot's headroom (4 bytes in front of the frame), so a trunk stays a
//!   trunk;
//! - an AF_PACKET socket also sees frames leaving the device (ours and the
//!   host stack's); `PACKET_IGNORE_OUTGOING` stops that, and frames marked
//!   `PACKET_OUTGOING` are dropped anyway.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use super::sys::{self, OpenError, PacketRx, PacketTx};
use super::SendOutcome;
use crate::batch::{Edit, RxBatch, TxEntry, BATCH, HEADROOM, SLOT_LEN};

/// Receive buffer asked for: room for a few hundred full-size frames, so a
/// busy wake-up of the engine does not overflow it.
const RCVBUF: i32 = 4 << 20;
/// Send buffer asked for; frames leave it as soon as the driver takes them.
const SNDBUF: i32 = 1 << 20;

/// An AF_PACKET socket bound to one device.
#[derive(Debug)]
pub struct SystemPort {
    fd: OwnedFd,
    ifindex: u32,
    mtu: u32,
    rx: PacketRx,
    tx: PacketTx,
    /// `PACKET_VNET_HDR` is on.
    vnet: bool,
}

impl SystemPort {
    /// Opens device `name` in the calling thread's network namespace: binds
    /// a raw socket to it, puts it in promiscuous mode and brings it
    /// admin-up if it is down.
    ///
    /// # Errors
    /// [`OpenError::NoSuchDevice`] if there is no such device;
    /// [`OpenError::Refused`] for a loopback or non-Ethernet device;
    /// [`OpenError::Io`] naming the failing step otherwise (e.g. `EPERM`
    /// without CAP_NET_RAW).
    pub fn open(name: &proto::IfName) -> Result<SystemPort, OpenError> {
        let name = name.as_str();
        let missing = |e: io::Error| match e.raw_os_error() {
            Some(libc::ENODEV) => OpenError::NoSuchDevice(name.to_owned()),
            _ => OpenError::Io {
                step: "look up",
                name: name.to_owned(),
                source: e,
            },
        };
        let ifindex = sys::if_index(name).map_err(missing)?;
        let flags = sys::if_flags(name).map_err(missing)?;
        if flags & libc::IFF_LOOPBACK != 0 {
            return Err(OpenError::Refused(format!("{name:?} is a loopback device")));
        }
        let hw = sys::if_hw_type(name).map_err(missing)?;
        if hw != libc::ARPHRD_ETHER {
            return Err(OpenError::Refused(format!(
                "{name:?} is not an Ethernet device (link type {hw})"
            )));
        }

        // Protocol 0: nothing is queued before the bind below, so no frame
        // of another device slips in.
        let fd = sys::packet_socket().map_err(OpenError::io("create packet socket for", name))?;
        let sock = fd.as_fd();
        match sys::setsockopt_int(sock, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, 1) {
            // Before Linux 4.20: the PACKET_OUTGOING check in recv does it.
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {}
            r => r.map_err(OpenError::io("set PACKET_IGNORE_OUTGOING on", name))?,
        }
        sys::setsockopt_int(sock, libc::SOL_PACKET, libc::PACKET_AUXDATA, 1)
            .map_err(OpenError::io("set PACKET_AUXDATA on", name))?;
        // A virtio-net header on every frame: GSO super-frames and partial
        // checksums are then described instead of arriving broken, and can
        // be handed on whole (SPEC §3 "Offloads").
        let vnet = sys::setsockopt_int(sock, libc::SOL_PACKET, libc::PACKET_VNET_HDR, 1).is_ok();
        sys::packet_add_promisc(sock, ifindex).map_err(OpenError::io("set promiscuous mode on", name))?;
        sys::set_buffer_size(sock, true, RCVBUF).map_err(OpenError::io("set SO_RCVBUF on", name))?;
        sys::set_buffer_size(sock, false, SNDBUF).map_err(OpenError::io("set SO_SNDBUF on", name))?;
        sys::packet_bind(sock, ifindex).map_err(|e| match e.raw_os_error() {
            Some(libc::ENODEV | libc::ENXIO) => OpenError::NoSuchDevice(name.to_owned()),
            _ => OpenError::Io {
                step: "bind to",
                name: name.to_owned(),
                source: e,
            },
        })?;
        // As OVS does: a port added to the switch carries traffic.
        sys::if_set_up(name).map_err(OpenError::io("bring up", name))?;
        let mtu = sys::if_mtu(name).map_err(OpenError::io("read mtu of", name))?;
        Ok(SystemPort {
            fd,
            ifindex,
            mtu,
            rx: PacketRx::new(vnet),
            tx: PacketTx::new(),
            vnet,
        })
    }

    /// The ifindex of the device the socket was bound to when opened.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Whether frames carry a virtio-net header (GSO super-frames and
    /// partial checksums can be sent as they are).
    pub fn offloads(&self) -> bool {
        self.vnet
    }

    /// Frames the kernel dropped since the last call because this socket's
    /// receive queue was full (the switch did not keep up).
    pub fn take_queue_drops(&mut self) -> u64 {
        sys::packet_queue_drops(self.fd.as_fd()).unwrap_or(0)
    }

    /// The fd to register for readability.
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The device MTU, read at open.
    pub fn mtu(&self) -> u32 {
        self.mtu
    }

    /// Receives up to `BATCH` frames with `recvmmsg`. A frame whose VLAN tag
    /// the kernel stripped gets it back and starts at offset 0 of its slot;
    /// any other frame starts at `HEADROOM`. Fewer than `BATCH` means
    /// drained.
    ///
    /// # Errors
    /// `ENODEV` once the device is gone (deleted or moved to another
    /// namespace); any other socket error. An admin-down device is not an
    /// error: the socket stays bound and receives again when it comes up.
    pub fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        batch.set_count(0);
        let mut kept = 0;
        let mut down_seen = false;
        // One call normally; another only if frames were skipped from a full
        // batch, so that "fewer than BATCH" still means drained.
        while kept < BATCH {
            let want = BATCH - kept;
            let n = match self.rx.recv(self.fd.as_fd(), batch, kept, want) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                Err(e) if e.raw_os_error() == Some(libc::ENETDOWN) => {
                    // Reported once (before any queued frame) when the device
                    // goes admin-down, and also when it is unregistered
                    // (deleted, or moved to another namespace); only then is
                    // the socket unbound.
                    if sys::packet_bound_ifindex(self.fd.as_fd())? != self.ifindex as i32 {
                        return Err(io::Error::from_raw_os_error(libc::ENODEV));
                    }
                    // Still bound: the error is consumed; read what was
                    // queued before the device went down.
                    if !down_seen {
                        down_seen = true;
                        continue;
                    }
                    0
                }
                Err(e) => return Err(e),
            };
            let first = kept;
            for i in 0..n {
                let m = self.rx.meta(i);
                if m.outgoing || m.truncated {
                    continue;
                }
                let slot = kept;
                if first + i != slot {
                    // Close the gap left by a skipped frame (rare: a copy
                    // beats handing the engine a hole).
                    let from = (first + i) * SLOT_LEN + HEADROOM;
                    let to = slot * SLOT_LEN + HEADROOM;
                    batch.slots_mut().0.copy_within(from..from + m.len, to);
                }
                match m.vlan {
                    Some((tpid, tci)) if m.len >= 12 => {
                        let s = batch.slot_mut(slot);
                        s.copy_within(HEADROOM..HEADROOM + 12, 0);
                        s[12..14].copy_from_slice(&tpid.to_be_bytes());
                        s[14..16].copy_from_slice(&tci.to_be_bytes());
                        batch.set_frame(slot, 0, m.len + 4);
                    }
                    _ => batch.set_frame(slot, HEADROOM, m.len),
                }
                let mut vnet = self.rx.vnet(i);
                if m.vlan.is_some() && !vnet.is_plain() {
                    // The kernel's offsets count from the frame it gave us,
                    // without the tag put back above (af_packet passes no
                    // VLAN length, unlike tun): move them past the tag.
                    vnet = vnet.for_edit(&Edit::push([0; 4]));
                }
                batch.set_vnet(slot, vnet);
                kept += 1;
            }
            if n < want {
                break;
            }
        }
        batch.set_count(kept);
        Ok(kept)
    }

    /// Sends the queued frames with `sendmmsg`, each with its edit.
    pub fn send_batch(&mut self, batch: &RxBatch, tx: &[TxEntry]) -> SendOutcome {
        let mut out = SendOutcome::default();
        let vnet = self.vnet;
        let frames = tx.iter().map(|e| {
            let slot = usize::from(e.slot);
            let (head, tag, rest) = e.edit.pieces(batch.frame(slot));
            let hdr = vnet.then(|| batch.vnet(slot).for_edit(&e.edit).to_bytes());
            (hdr, head, tag, rest)
        });
        self.tx.send(self.fd.as_fd(), frames, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::sys::test_util::*;
    use super::super::tap::TapPort;
    use super::*;
    use crate::batch::{Edit, RxBatch, TxEntry};

    fn ifname(s: &str) -> proto::IfName {
        s.parse().unwrap()
    }

    /// Broadcast dst, local src, ethertype 0x88b5, `len` payload bytes.
    fn frame(seq: u8, len: usize) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[0x02, 0, 0, 0, 1, seq]);
        f.extend_from_slice(&[0x88, 0xb5]);
        f.extend((0..len).map(|i| seq ^ i as u8));
        f
    }

    /// `f` with a tag (TPID, TCI) inserted at offset 12.
    fn tagged(f: &[u8], tpid: u16, tci: u16) -> Vec<u8> {
        [
            &f[..12],
            &tpid.to_be_bytes()[..],
            &tci.to_be_bytes()[..],
            &f[12..],
        ]
        .concat()
    }

    /// Writes `frames` into the tap fd: the device receives them, as from a
    /// wire.
    fn inject(tap: &mut TapPort, frames: &[Vec<u8>]) {
        let out = tap.send_batch(&batch_of(frames), &keep_all(frames.len()));
        assert_eq!(out.sent, frames.len() as u64, "{out:?}");
    }

    fn received(port: &mut SystemPort, rx: &mut RxBatch) -> Vec<Vec<u8>> {
        let n = port.recv_batch(rx).unwrap();
        assert_eq!(n, rx.count());
        (0..n).map(|i| rx.frame(i).to_vec()).collect()
    }

    /// A TAP device (its fd is the "wire") and a system port on it.
    fn wire(tag: &str) -> (LinkGuard, TapPort, SystemPort) {
        let name = uniq(tag);
        let g = LinkGuard(name.clone());
        let tap = TapPort::open(&ifname(&name), false, crate::port::tap::TapIo::Auto).unwrap();
        let port = SystemPort::open(&ifname(&name)).unwrap();
        (g, tap, port)
    }

    #[test]
    fn refusals() {
        if !root_or_skip("refusals") {
            return;
        }
        enter_private_netns();
        let missing = uniq("nx");
        match SystemPort::open(&ifname(&missing)) {
            Err(e @ OpenError::NoSuchDevice(_)) => {
                assert_eq!(e.to_string(), format!("no such device {missing:?}"))
            }
            other => panic!("{other:?}"),
        }
        match SystemPort::open(&ifname("lo")) {
            Err(OpenError::Refused(m)) => assert_eq!(m, "\"lo\" is a loopback device"),
            other => panic!("{other:?}"),
        }
        let tun = uniq("u");
        let _g = LinkGuard(tun.clone());
        ip_ok(&["tuntap", "add", "dev", &tun, "mode", "tun"]);
        match SystemPort::open(&ifname(&tun)) {
            Err(OpenError::Refused(m)) => {
                assert_eq!(m, format!("{tun:?} is not an Ethernet device (link type 65534)"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn open_brings_up_and_sets_fd_flags() {
        if !root_or_skip("open_brings_up_and_sets_fd_flags") {
            return;
        }
        enter_private_netns();
        let name = uniq("d");
        let _g = LinkGuard(name.clone());
        ip_ok(&["tuntap", "add", "dev", &name, "mode", "tap"]);
        ip_ok(&["link", "set", "dev", &name, "mtu", "9000"]);
        assert!(!ip_ok(&["link", "show", "dev", &name]).contains(",UP"));
        let port = SystemPort::open(&ifname(&name)).unwrap();
        let text = ip_ok(&["-d", "link", "show", "dev", &name]);
        assert!(text.contains(",UP"), "{text}");
        assert!(text.contains("promiscuity 1 "), "{text}");
        assert_eq!(port.mtu(), 9000);
        let (fl, fd) = fd_flags(port.raw_fd());
        assert!(fl & libc::O_NONBLOCK != 0);
        assert!(fd & libc::FD_CLOEXEC != 0);
        drop(port);
        let text = ip_ok(&["-d", "link", "show", "dev", &name]);
        assert!(text.contains("promiscuity 0 "), "{text}");
    }

    #[test]
    fn vlan_tags_are_restored_byte_for_byte() {
        if !root_or_skip("vlan_tags_are_restored_byte_for_byte") {
            return;
        }
        enter_private_netns();
        let (_g, mut tap, mut port) = wire("v");
        let base = frame(7, 46);
        let sent = vec![
            base.clone(),
            tagged(&base, 0x8100, 0xa064), // PCP 5, VID 100
            tagged(&base, 0x88a8, 0xa064),
            tagged(&base, 0x8100, 0x0000), // priority tag, VID 0
            tagged(&tagged(&base, 0x8100, 0x0014), 0x88a8, 0x2064), // QinQ
            tagged(&base, 0x8100, 0xf0c8), // PCP 7, DEI, VID 200
        ];
        inject(&mut tap, &sent);
        let mut rx = RxBatch::new();
        let got = received(&mut port, &mut rx);
        assert_eq!(got, sent);
        // Restored frames start at 0 (the tag went into the headroom).
        assert_eq!(rx.frame_ref(0).start, HEADROOM);
        for i in 1..sent.len() {
            assert_eq!(rx.frame_ref(i).start, 0, "frame {i}");
        }
    }

    #[test]
    fn send_applies_edits_and_never_reads_its_own_frames() {
        if !root_or_skip("send_applies_edits_and_never_reads_its_own_frames") {
            return;
        }
        enter_private_netns();
        let (g, mut tap, mut port) = wire("s");
        let plain = frame(1, 50);
        let tag10 = tagged(&plain, 0x8100, 0x000a);
        let batch = batch_of(&[plain.clone(), tag10.clone()]);
        let t20 = [0x81, 0x00, 0x00, 0x14];
        let tx = [
            TxEntry::new(0, Edit::KEEP),
            TxEntry::new(1, Edit::KEEP),
            TxEntry::new(1, Edit::POP),
            TxEntry::new(0, Edit::push(t20)),
            TxEntry::new(1, Edit::retag(t20)),
        ];
        let expect = vec![
            plain.clone(),
            tag10.clone(),
            plain.clone(),
            tagged(&plain, 0x8100, 0x0014),
            tagged(&plain, 0x8100, 0x0014),
        ];
        let out = port.send_batch(&batch, &tx);
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
        assert_eq!(tap.recv_batch(&mut rx).unwrap(), 5);
        let got: Vec<Vec<u8>> = (0..5).map(|i| rx.frame(i).to_vec()).collect();
        assert_eq!(got, expect);
        // Our own transmissions are not received (the kernel never loops a
        // socket's sends back to it) ...
        assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);
        // ... nor, thanks to PACKET_IGNORE_OUTGOING, what anyone else sends
        // out of the device (here a second socket; also the host stack).
        let mut other = SystemPort::open(&ifname(&g.0)).unwrap();
        assert_eq!(other.send_batch(&batch, &tx[..2]).sent, 2);
        assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);
        assert_eq!(tap.recv_batch(&mut rx).unwrap(), 2);
        // ... while frames arriving on the device are.
        inject(&mut tap, &[frame(2, 50)]);
        assert_eq!(received(&mut port, &mut rx), vec![frame(2, 50)]);
    }

    #[test]
    fn batches_of_at_most_batch_then_drained() {
        if !root_or_skip("batches_of_at_most_batch_then_drained") {
            return;
        }
        enter_private_netns();
        let (_g, mut tap, mut port) = wire("b");
        let frames: Vec<Vec<u8>> = (0..45).map(|i| frame(i, 46 + usize::from(i))).collect();
        inject(&mut tap, &frames[..BATCH]);
        inject(&mut tap, &frames[BATCH..]);
        let mut rx = RxBatch::new();
        assert_eq!(received(&mut port, &mut rx), frames[..BATCH].to_vec());
        assert_eq!(received(&mut port, &mut rx), frames[BATCH..].to_vec());
        assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);

        // More than BATCH queued for sending goes out in several calls.
        let big = batch_of(&frames[..BATCH]);
        let tx: Vec<TxEntry> = keep_all(BATCH).into_iter().chain(keep_all(8)).collect();
        let out = port.send_batch(&big, &tx);
        assert_eq!((out.sent, out.dropped, out.errors), (40, 0, 0));
        let mut n = 0;
        loop {
            let k = tap.recv_batch(&mut rx).unwrap();
            n += k;
            if k < BATCH {
                break;
            }
        }
        assert_eq!(n, 40);
    }

    #[test]
    fn oversized_frame_is_an_error_and_the_rest_still_goes() {
        if !root_or_skip("oversized_frame_is_an_error_and_the_rest_still_goes") {
            return;
        }
        enter_private_netns();
        let (_g, mut tap, mut port) = wire("o");
        let frames = [frame(1, 50), frame(2, 3000), frame(3, 50)];
        let out = port.send_batch(&batch_of(&frames), &keep_all(3));
        assert_eq!((out.sent, out.dropped, out.errors), (2, 0, 1), "{out:?}");
        let mut rx = RxBatch::new();
        assert_eq!(tap.recv_batch(&mut rx).unwrap(), 2);
        assert_eq!(rx.frame(0), &frames[0][..]);
        assert_eq!(rx.frame(1), &frames[2][..]);
    }

    #[test]
    fn admin_down_is_transient_and_deletion_is_an_error() {
        if !root_or_skip("admin_down_is_transient_and_deletion_is_an_error") {
            return;
        }
        enter_private_netns();
        let (g, mut tap, mut port) = wire("a");
        let mut rx = RxBatch::new();
        // Frames queued before the device went down are still delivered.
        inject(&mut tap, &[frame(1, 50)]);
        ip_ok(&["link", "set", "dev", &g.0, "down"]);
        assert_eq!(received(&mut port, &mut rx), vec![frame(1, 50)]);
        assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);
        let out = port.send_batch(&batch_of(&[frame(1, 50)]), &keep_all(1));
        assert_eq!((out.sent, out.errors), (0, 1), "{out:?}");
        ip_ok(&["link", "set", "dev", &g.0, "up"]);
        inject(&mut tap, &[frame(2, 50)]);
        assert_eq!(received(&mut port, &mut rx), vec![frame(2, 50)]);

        ip_ok(&["link", "del", "dev", &g.0]);
        let e = port.recv_batch(&mut rx).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENODEV), "{e}");
        let out = port.send_batch(&batch_of(&[frame(3, 50)]), &keep_all(1));
        assert_eq!((out.sent, out.errors), (0, 1), "{out:?}");
    }
}

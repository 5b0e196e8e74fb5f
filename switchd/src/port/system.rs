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

use super::handed::{refused, Handed, PortFds};
use super::outcome::SendOutcome;
use super::sys::{self, OpenError, PacketRx, PacketTx};
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
    /// [`OpenError::IsLoopback`] for a loopback device,
    /// [`OpenError::NotEthernet`] for a non-Ethernet one;
    /// [`OpenError::Io`] naming the failing step otherwise (e.g. `EPERM`
    /// without CAP_NET_RAW).
    pub fn open(name: &proto::IfName) -> Result<SystemPort, OpenError> {
        let name = name.as_str();
        let missing = |e: io::Error| match e.raw_os_error() {
            Some(libc::ENODEV) => OpenError::NoSuchDevice(name.to_owned()),
            _ => OpenError::Io {
                step: "look up",
                name: name.to_owned(),
                cause: e,
            },
        };
        let ifindex = sys::if_index(name).map_err(missing)?;
        let flags = sys::if_flags(name).map_err(missing)?;
        if flags & libc::IFF_LOOPBACK != 0 {
            return Err(OpenError::IsLoopback {
                name: name.to_owned(),
            });
        }
        let hw = sys::if_hw_type(name).map_err(missing)?;
        if hw != libc::ARPHRD_ETHER {
            return Err(OpenError::NotEthernet {
                name: name.to_owned(),
                link_type: hw,
            });
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
                cause: e,
            },
        })?;
        // As OVS does: a port added to the switch carries traffic.
        sys::if_set_up(name).map_err(OpenError::io("bring up", name))?;
        let mtu = sys::if_mtu(name).map_err(OpenError::io("read mtu of", name))?;
        Ok(SystemPort::new(fd, ifindex, mtu, vnet))
    }

    /// Takes over the AF_PACKET socket a previous image of switchd handed
    /// over on an in-place restart (SPEC §13): frames the kernel queued on it
    /// meanwhile are still there. It must still be bound to the device that
    /// is named `name` now.
    ///
    /// # Errors
    /// [`OpenError::Io`] (step "take over") when the socket is bound to no
    /// device or another one (the device was replaced meanwhile); the caller
    /// then opens the port anew.
    pub fn adopt(name: &proto::IfName, handed: Handed) -> Result<SystemPort, OpenError> {
        let name = name.as_str();
        let (fd, state) = handed.into_first(name)?;
        let bound = sys::packet_bound_ifindex(fd.as_fd()).map_err(OpenError::io("take over", name))?;
        let ifindex = sys::if_index(name).map_err(OpenError::io("look up", name))?;
        if i64::from(bound) != i64::from(ifindex) {
            return Err(refused(
                name,
                format!("the socket handed over is bound to ifindex {bound}, the device is {ifindex} now"),
            ));
        }
        let vnet =
            sys::getsockopt_int(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_VNET_HDR).is_ok_and(|v| v != 0);
        let mtu = sys::if_mtu(name).unwrap_or(state.mtu);
        Ok(SystemPort::new(fd, ifindex, mtu, vnet))
    }

    /// The port on a socket bound and set up.
    fn new(fd: OwnedFd, ifindex: u32, mtu: u32, vnet: bool) -> SystemPort {
        SystemPort {
            fd,
            ifindex,
            mtu,
            rx: PacketRx::new(vnet),
            tx: PacketTx::new(),
            vnet,
        }
    }

    /// What this port hands to the next image on an in-place restart.
    pub fn hand_over(&self) -> PortFds {
        PortFds {
            fds: vec![self.fd.as_raw_fd()],
            mtu: self.mtu,
            ..PortFds::default()
        }
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
mod tests;

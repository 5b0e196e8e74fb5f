//! Dgram ports: switchd binds a Unix datagram socket at `path=`, one frame
//! per datagram, as qemu's
//! `-netdev dgram,local.type=unix,local.path=VM,remote.type=unix,remote.path=PATH`
//! expects. The peer is whoever sent the last datagram: frames go to the
//! address the last received datagram came from (qemu's `local.path`), so
//! a restarted VM is picked up by its first frame. Until a datagram with a
//! sender address arrives, frames for the port count as dropped.
//!
//! Receive is one `recvmmsg` per batch and send one `sendmmsg`, over
//! arrays preallocated per port ([`DgramRx`], [`DgramTx`]). A Unix datagram
//! socket takes at most `net.unix.max_dgram_qlen` datagrams (10 by default)
//! that its reader has not read yet; frames beyond that are refused with
//! `EAGAIN` and count as dropped. The stream port type has no such limit.
//!
//! The socket file (mode, stale file, removal) is handled as for stream
//! ports, by [`SocketFile`].

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use super::handed::{Handed, PortFds};
use super::outcome::SendOutcome;
use super::stream::{SocketFile, DEFAULT_MODE, DEFAULT_MTU};
use super::sys::{DgramRx, DgramTx, OpenError, UnixAddr};
use crate::batch::{RxBatch, TxEntry, HEADROOM};

/// What happened on a dgram port since it was opened.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DgramStats {
    /// Datagrams larger than a slot, passed on empty (the pipeline drops
    /// and counts them as runts).
    pub truncated: u64,
    /// Times the peer address changed (the first peer included).
    pub peer_changes: u64,
}

/// A bound Unix datagram socket and the peer it sends to.
#[derive(Debug)]
pub struct DgramPort {
    port: String,
    fd: OwnedFd,
    /// Held for its `Drop`, which removes the socket file.
    _file: SocketFile,
    peer: Option<UnixAddr>,
    rx: DgramRx,
    tx: DgramTx,
    stats: DgramStats,
}

impl DgramPort {
    /// Creates the socket file at the port's `path` with its `mode`
    /// (default 0600) and binds a datagram socket to it. A stale socket
    /// file is replaced.
    ///
    /// # Errors
    /// As [`StreamPort::open`](super::stream::StreamPort::open).
    pub fn open(name: &proto::IfName, config: &proto::PortConfig) -> Result<DgramPort, OpenError> {
        let path = config
            .path
            .as_deref()
            .ok_or(OpenError::NeedsPath(proto::PortType::Dgram))?;
        let mode = config.mode.unwrap_or(DEFAULT_MODE);
        let (fd, file) = SocketFile::bind(path, libc::SOCK_DGRAM, mode)?;
        tracing::info!(
            port = %name,
            path = %file.shown(),
            mode = format_args!("{mode:04o}"),
            "dgram port bound"
        );
        Ok(DgramPort {
            port: name.to_string(),
            fd,
            _file: file,
            peer: None,
            rx: DgramRx::new(),
            tx: DgramTx::new(),
            stats: DgramStats::default(),
        })
    }

    /// Takes over the socket a previous image of switchd handed over on an
    /// in-place restart (SPEC §13), with the peer it was sending to; the
    /// socket file stays where it is.
    ///
    /// # Errors
    /// As [`SocketFile::take_over`]; the caller then opens the port anew.
    pub fn adopt(
        name: &proto::IfName,
        config: &proto::PortConfig,
        handed: Handed,
    ) -> Result<DgramPort, OpenError> {
        let path = config
            .path
            .as_deref()
            .ok_or(OpenError::NeedsPath(proto::PortType::Dgram))?;
        let (fd, state) = handed.into_first(name.as_str())?;
        let file = SocketFile::take_over(path, fd.as_fd())?;
        let peer = state.peer.as_deref().and_then(|p| UnixAddr::from_path(p).ok());
        Ok(DgramPort {
            port: name.to_string(),
            fd,
            _file: file,
            peer,
            rx: DgramRx::new(),
            tx: DgramTx::new(),
            stats: DgramStats::default(),
        })
    }

    /// What this port hands to the next image on an in-place restart.
    pub fn hand_over(&self) -> PortFds {
        use std::os::unix::ffi::OsStrExt;
        // An abstract or unnamed peer cannot be written as a path: the new
        // image learns it from the peer's next datagram.
        let peer = self
            .peer
            .as_ref()
            .map(UnixAddr::path_bytes)
            .filter(|b| !b.is_empty() && b[0] != 0)
            .map(|b| std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b)));
        PortFds {
            fds: vec![self.fd.as_raw_fd()],
            mtu: DEFAULT_MTU,
            peer,
            ..PortFds::default()
        }
    }

    /// The fd to register for readability.
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The MTU: qemu's default, since nothing on a socket has one.
    pub fn mtu(&self) -> u32 {
        DEFAULT_MTU
    }

    /// Receives up to `BATCH` datagrams into slots `0..` (at `HEADROOM`)
    /// and remembers the last sender as the peer. Fewer than `BATCH` means
    /// drained. Never fails: an unexpected receive error is logged and
    /// reads as drained, so the port stays up.
    pub fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        batch.set_count(0);
        let n = match self.rx.recv(self.fd.as_fd(), batch) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => {
                tracing::warn!(port = %self.port, "receive failed: {e}");
                0
            }
        };
        for i in 0..n {
            let meta = self.rx.meta(i);
            // A datagram cut to the slot is not a frame. It keeps its slot
            // (a full batch must stay full: it means "maybe more"), empty.
            let len = if meta.truncated {
                self.stats.truncated += 1;
                tracing::debug!(port = %self.port, total = self.stats.truncated, "datagram larger than a frame");
                0
            } else {
                meta.len
            };
            batch.set_frame(i, HEADROOM, len);
        }
        if let Some(from) = (0..n)
            .rev()
            .map(|i| self.rx.unix_source(i))
            .find(|a| !a.is_unnamed())
        {
            if self.peer != Some(from) {
                self.stats.peer_changes += 1;
                // Only the first at info: senders that take turns must not
                // turn into a log line per frame.
                if self.stats.peer_changes == 1 {
                    tracing::info!(port = %self.port, peer = ?from, "dgram peer");
                } else {
                    tracing::debug!(port = %self.port, peer = ?from, "dgram peer changed");
                }
                self.peer = Some(from);
            }
        }
        batch.set_count(n);
        Ok(n)
    }

    /// Sends each queued frame, with its edit, as one datagram to the peer.
    /// Without a peer, or when it cannot take them (queue full, socket
    /// gone), frames count as dropped.
    pub fn send_batch(&mut self, batch: &RxBatch, tx: &[TxEntry]) -> SendOutcome {
        let mut out = SendOutcome::default();
        let Some(peer) = self.peer else {
            out.dropped = tx.len() as u64;
            return out;
        };
        let datagrams = tx.iter().map(|e| {
            let (head, tag, rest) = e.edit.pieces(batch.frame(usize::from(e.slot)));
            [head, tag.map_or(&[][..], |t| &t[..]), rest, &[][..]]
        });
        self.tx.send_unix(self.fd.as_fd(), &peer, datagrams, &mut out);
        out
    }
}

//! An in-memory port kind for engine tests (compiled only for tests): a
//! [`FakeNet`] is a set of named devices, each with a queue of frames it
//! hands to switchd and a list of frames switchd sent to it. Tests add and
//! remove devices, inject frames and read what came out, so the engine's
//! behaviour (all-or-nothing changes, re-indexing, link loss and return,
//! restore) is testable without root, namespaces or a kernel device.
//!
//! A fake port still has a real fd (one end of a Unix socket pair that
//! never carries data), because the engine registers every device port
//! with its poller; tests drive the engine by calling it directly, not by
//! readiness.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex, MutexGuard};

use super::outcome::SendOutcome;
use super::sys::OpenError;
use crate::batch::{RxBatch, TxEntry, BATCH, HEADROOM};

/// MTU of a fake device unless a test sets another.
pub const FAKE_MTU: u32 = 1500;

#[derive(Debug)]
struct FakeDev {
    /// Changes each time a device of this name is created, like a kernel
    /// ifindex, so a port can tell "removed and added again".
    ifindex: u32,
    mtu: u32,
    /// Frames the device will hand to switchd.
    rx: VecDeque<Vec<u8>>,
    /// Frames switchd sent to the device.
    tx: Vec<Vec<u8>>,
    carrier: bool,
    /// The other end of a fake cable: what is sent here is received there.
    peer: Option<String>,
}

#[derive(Debug, Default)]
struct Devices {
    devs: HashMap<String, FakeDev>,
    next_ifindex: u32,
}

/// A set of fake devices shared by the test and the ports opened on it.
#[derive(Debug, Clone, Default)]
pub struct FakeNet(Arc<Mutex<Devices>>);

impl FakeNet {
    fn lock(&self) -> MutexGuard<'_, Devices> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates device `name` (a new ifindex if it existed before).
    pub fn add_device(&self, name: &str) {
        let mut d = self.lock();
        d.next_ifindex += 1;
        let ifindex = d.next_ifindex;
        d.devs.insert(
            name.to_owned(),
            FakeDev {
                ifindex,
                mtu: FAKE_MTU,
                rx: VecDeque::new(),
                tx: Vec::new(),
                carrier: true,
                peer: None,
            },
        );
    }

    /// Creates devices `a` and `b` joined by a cable, like a veth pair:
    /// a frame sent to one is received by the other.
    pub fn add_pair(&self, a: &str, b: &str) {
        self.add_device(a);
        self.add_device(b);
        let mut d = self.lock();
        for (x, y) in [(a, b), (b, a)] {
            if let Some(dev) = d.devs.get_mut(x) {
                dev.peer = Some(y.to_owned());
            }
        }
    }

    /// Names of the devices with frames switchd has not received yet.
    pub fn with_pending(&self) -> Vec<String> {
        let d = self.lock();
        let mut names: Vec<String> = d
            .devs
            .iter()
            .filter(|(_, dev)| !dev.rx.is_empty())
            .map(|(n, _)| n.clone())
            .collect();
        names.sort();
        names
    }

    /// Removes device `name`: a port on it fails its next receive.
    pub fn remove_device(&self, name: &str) {
        self.lock().devs.remove(name);
    }

    /// Cuts or restores the device's carrier (the peer of a veth going
    /// down or up).
    pub fn set_carrier(&self, name: &str, carrier: bool) {
        if let Some(dev) = self.lock().devs.get_mut(name) {
            dev.carrier = carrier;
        }
    }

    /// Whether the device has carrier (a missing one has none).
    pub fn carrier(&self, name: &str) -> bool {
        self.lock().devs.get(name).is_some_and(|d| d.carrier)
    }

    /// Queues `frame` as received by device `name`.
    pub fn inject(&self, name: &str, frame: &[u8]) {
        let mut d = self.lock();
        let dev = d
            .devs
            .get_mut(name)
            .unwrap_or_else(|| panic!("no fake device {name}"));
        dev.rx.push_back(frame.to_vec());
    }

    /// Whether device `name` still has frames switchd has not received.
    pub fn pending(&self, name: &str) -> bool {
        self.lock().devs.get(name).is_some_and(|d| !d.rx.is_empty())
    }

    /// Takes the frames switchd sent to device `name`.
    pub fn take_sent(&self, name: &str) -> Vec<Vec<u8>> {
        self.lock()
            .devs
            .get_mut(name)
            .map(|d| std::mem::take(&mut d.tx))
            .unwrap_or_default()
    }

    /// The device's ifindex, if it exists.
    pub fn if_index(&self, name: &str) -> Option<u32> {
        self.lock().devs.get(name).map(|d| d.ifindex)
    }

    /// Opens a port on device `name`.
    ///
    /// # Errors
    /// [`OpenError::NoSuchDevice`] if there is none.
    pub fn open(&self, name: &str) -> Result<FakePort, OpenError> {
        let (ifindex, mtu) = {
            let d = self.lock();
            let dev = d
                .devs
                .get(name)
                .ok_or_else(|| OpenError::NoSuchDevice(name.to_owned()))?;
            (dev.ifindex, dev.mtu)
        };
        let (readiness, _peer) = UnixDatagram::pair().map_err(OpenError::io("socketpair", name))?;
        Ok(FakePort {
            net: self.clone(),
            name: name.to_owned(),
            ifindex,
            mtu,
            readiness,
        })
    }
}

/// A port on a fake device.
#[derive(Debug)]
pub struct FakePort {
    net: FakeNet,
    name: String,
    ifindex: u32,
    mtu: u32,
    readiness: UnixDatagram,
}

impl FakePort {
    /// The fd the engine registers (never readable).
    pub fn raw_fd(&self) -> RawFd {
        self.readiness.as_raw_fd()
    }

    /// The device's ifindex when the port was opened.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The device MTU when the port was opened.
    pub fn mtu(&self) -> u32 {
        self.mtu
    }

    /// Moves up to `BATCH` injected frames into `batch`; `ENODEV` once the
    /// device is gone or was replaced, as a kernel device port reports it.
    pub fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        let mut d = self.net.lock();
        let dev = match d.devs.get_mut(&self.name) {
            Some(dev) if dev.ifindex == self.ifindex => dev,
            _ => return Err(io::Error::from_raw_os_error(libc::ENODEV)),
        };
        let mut n = 0;
        while n < BATCH {
            let Some(frame) = dev.rx.pop_front() else { break };
            batch.slot_mut(n)[HEADROOM..HEADROOM + frame.len()].copy_from_slice(&frame);
            batch.set_frame(n, HEADROOM, frame.len());
            n += 1;
        }
        batch.set_count(n);
        Ok(n)
    }

    /// Appends each entry's frame, edited, to the device's sent list.
    pub fn send_batch(&mut self, batch: &RxBatch, tx: &[TxEntry]) -> SendOutcome {
        let mut d = self.net.lock();
        let mut o = SendOutcome::default();
        let dev = match d.devs.get_mut(&self.name) {
            Some(dev) if dev.ifindex == self.ifindex => dev,
            _ => {
                o.errors = tx.len() as u64;
                return o;
            }
        };
        for e in tx {
            let frame = batch.frame(usize::from(e.slot));
            let (head, tag, rest) = e.edit.pieces(frame);
            let mut out = Vec::with_capacity(e.edit.out_len(frame.len()));
            out.extend_from_slice(head);
            if let Some(tag) = tag {
                out.extend_from_slice(tag);
            }
            out.extend_from_slice(rest);
            o.sent += 1;
            o.bytes += out.len() as u64;
            dev.tx.push(out);
        }
        // Down the cable, if there is one and it has carrier.
        if let Some(peer) = dev.peer.clone().filter(|_| dev.carrier) {
            let sent = dev.tx.split_off(dev.tx.len() - tx.len());
            if let Some(p) = d.devs.get_mut(&peer).filter(|p| p.carrier) {
                p.rx.extend(sent);
            }
        }
        o
    }
}

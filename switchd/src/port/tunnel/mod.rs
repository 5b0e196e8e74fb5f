//! Tunnel endpoints: the sockets that VXLAN and GRE ports share, and the
//! demultiplexing of what they receive to ports.
//!
//! A tunnel port has no device and no fd of its own. Every port with the
//! same [`EndpointKey`] — kind, local address (unspecified when `local_ip`
//! is not set) and, for VXLAN, UDP port — shares one [`Endpoint`], whichever
//! bridge it is on. The endpoint receives a batch, decodes each packet's
//! outer header in place and hands the engine, per slot, the port the packet
//! belongs to (by [`DemuxKey`]: outer source address and VNI/key) with the
//! slot's frame reference moved onto the inner Ethernet frame: no copy.
//! Packets that belong to no port are counted on the endpoint under a
//! `tunnel-*` [`DropReason`] (`port-stats` shows them on a pseudo-row).
//!
//! Sockets, and why:
//! - VXLAN receives on a UDP socket bound to `local:dst_port`: the kernel
//!   reassembles, checks the UDP checksum and demultiplexes by port. It
//!   *sends* on a raw `IPPROTO_UDP` socket without `IP_HDRINCL`: the kernel
//!   still routes, resolves neighbours and writes the IP header, but the UDP
//!   header is ours, so its source port can be the inner flow's hash
//!   (32768–61000, as OVS and Linux do) for ECMP entropy, which a bound UDP
//!   socket cannot give (its source port is fixed). The UDP checksum is 0 over
//!   IPv4 (RFC 7348 §4) and computed by the kernel over IPv6
//!   (`IPV6_CHECKSUM`). The raw socket would receive a copy of every UDP
//!   packet of the host; a one-instruction BPF filter makes it receive none.
//! - GRE sends and receives on one raw `IPPROTO_GRE` socket (no `ip_gre`
//!   module needed: raw sockets see the protocol before, and without, any
//!   kernel handler). IPv4 raw sockets receive the IP header too; it is
//!   skipped.
//! - Both senders set `IP_PMTUDISC_DO`: the kernel never fragments a tunnel
//!   packet (RFC 7348 §4.3: VTEPs MUST NOT fragment). The engine drops what
//!   would not fit ([`TunnelLink::max_frame`], counted `too-big`), from the
//!   MTU of the route to the peer ([`underlay_mtu`]).
//!
//! Files, each importing only files listed after it:
//! - `mod.rs` (here): [`Endpoint`], [`TunnelLink`], [`Demux`] and the outer
//!   header [`decode`] the engine uses;
//! - `vxlan.rs`, `gre.rs`: how each kind opens its sockets and reads its
//!   outer headers, called from here;
//! - `key.rs`: what identifies endpoints and ports ([`EndpointKey`],
//!   [`DemuxKey`], [`TunnelId`]), which both of the above need.

mod gre;
mod key;
mod vxlan;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

pub use key::{DemuxKey, EndpointKey, TunnelId, TunnelKind};

use super::outcome::SendOutcome;
use super::sys::{self, DgramRx, DgramTx, OpenError, SockAddr};
use crate::batch::{RxBatch, TxEntry, BATCH, HEADROOM};
use crate::stats::{DropReason, PortCounters};
use crate::wire::{self, ETH_HEADER_LEN};

/// Underlay MTU assumed while the route to a peer is unknown (no route yet).
pub const DEFAULT_UNDERLAY_MTU: u32 = 1500;

/// The MTU of the underlay towards the port's peer (see
/// [`sys::route_mtu`]).
///
/// # Errors
/// When there is no route to the peer, or `local_ip` is not local.
pub fn underlay_mtu(id: &TunnelId) -> io::Result<u32> {
    let local = Some(id.endpoint.local).filter(|a| !a.is_unspecified());
    sys::route_mtu(id.demux.remote, local)
}

/// A tunnel port's attachment to its endpoint: everything its egress needs,
/// built once when it is attached.
#[derive(Debug, Clone)]
pub struct TunnelLink {
    /// Index of the endpoint in the engine.
    pub endpoint: usize,
    /// The port's identity.
    pub id: TunnelId,
    /// Destination of every packet (port 0: the raw sockets want that).
    to: SockAddr,
    /// The VXLAN header, or the GRE header in its first `header_len` bytes.
    header: [u8; 8],
    header_len: usize,
    underlay_mtu: u32,
}

impl TunnelLink {
    /// A link of port `id` through endpoint `endpoint`, with the underlay
    /// MTU found for it.
    pub fn new(endpoint: usize, id: TunnelId, underlay_mtu: u32) -> TunnelLink {
        let (header, header_len) = match id.endpoint.kind {
            TunnelKind::Vxlan => (
                wire::vxlan::header(id.demux.key.unwrap_or(0)),
                wire::vxlan::HEADER_LEN,
            ),
            TunnelKind::Gre => wire::gre::header(id.demux.key),
        };
        TunnelLink {
            endpoint,
            id,
            to: SockAddr::new(SocketAddr::new(id.demux.remote, 0)),
            header,
            header_len,
            underlay_mtu,
        }
    }

    /// The MTU of the route to the peer (outer IP packet size).
    pub fn underlay_mtu(&self) -> u32 {
        self.underlay_mtu
    }

    /// Updates the underlay MTU (the route or its path MTU changed).
    pub fn set_underlay_mtu(&mut self, mtu: u32) {
        self.underlay_mtu = mtu;
    }

    /// Largest inner frame (Ethernet header and any 802.1Q tag included)
    /// whose encapsulation fits the underlay MTU.
    pub fn max_frame(&self) -> usize {
        self.underlay_mtu.saturating_sub(self.id.outer_len()) as usize
    }

    /// The port's MTU as `show` reports it: the largest untagged inner
    /// payload that fits (underlay MTU minus 50 for VXLAN over IPv4, 70
    /// over IPv6, 38 or 42 for GRE over IPv4, 58 or 62 over IPv6).
    pub fn inner_mtu(&self) -> u32 {
        (self.max_frame() as u32).saturating_sub(ETH_HEADER_LEN as u32)
    }

    /// Bytes switchd writes in front of each frame (the kernel writes the IP
    /// header): UDP + VXLAN headers, or the GRE header.
    fn encap_len(&self) -> usize {
        match self.id.endpoint.kind {
            TunnelKind::Vxlan => wire::vxlan::UDP_HEADER_LEN + wire::vxlan::HEADER_LEN,
            TunnelKind::Gre => self.header_len,
        }
    }
}

/// Decodes the outer headers of a packet received on an endpoint of
/// `kind` (`v6`: an IPv6 socket, which hands over no IP header). Returns
/// the VNI/key and the offset of the inner Ethernet frame.
///
/// # Errors
/// The `tunnel-*` reason the packet is dropped for.
#[inline]
pub fn decode(kind: TunnelKind, v6: bool, packet: &[u8]) -> Result<(Option<u32>, usize), DropReason> {
    match kind {
        TunnelKind::Vxlan => Ok((Some(vxlan::decode(packet)?), wire::vxlan::HEADER_LEN)),
        TunnelKind::Gre => gre::decode(v6, packet),
    }
}

/// The ports of one endpoint by [`DemuxKey`], plus how many ports each peer
/// has, to tell "unknown VNI/key" from "unknown peer" on a miss.
#[derive(Debug, Default)]
pub struct Demux {
    ports: HashMap<DemuxKey, u32, foldhash::fast::RandomState>,
    peers: HashMap<IpAddr, u32, foldhash::fast::RandomState>,
}

impl Demux {
    /// Adds port `port` under `key`.
    ///
    /// # Errors
    /// The port that already has `key`.
    pub fn insert(&mut self, key: DemuxKey, port: u32) -> Result<(), u32> {
        if let Some(&other) = self.ports.get(&key) {
            return Err(other);
        }
        self.ports.insert(key, port);
        *self.peers.entry(key.remote).or_insert(0) += 1;
        Ok(())
    }

    /// Removes whatever port has `key`.
    pub fn remove(&mut self, key: &DemuxKey) {
        if self.ports.remove(key).is_some() {
            if let Some(n) = self.peers.get_mut(&key.remote) {
                *n -= 1;
                if *n == 0 {
                    self.peers.remove(&key.remote);
                }
            }
        }
    }

    /// Number of ports.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.ports.len()
    }

    /// Whether no port is left.
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// The port of a packet from `remote` with VNI/key `key`.
    ///
    /// # Errors
    /// [`DropReason::TunnelUnknownKey`] when the peer has ports but none
    /// with this key; [`DropReason::TunnelUnknownPeer`] when it has none.
    #[inline]
    pub fn lookup(&self, remote: IpAddr, key: Option<u32>) -> Result<u32, DropReason> {
        match self.ports.get(&DemuxKey { remote, key }) {
            Some(&port) => Ok(port),
            None if self.peers.contains_key(&remote) => Err(DropReason::TunnelUnknownKey),
            None => Err(DropReason::TunnelUnknownPeer),
        }
    }
}

/// One shared tunnel socket (two for VXLAN: receive and send) with its
/// ports and counters.
#[derive(Debug)]
pub struct Endpoint {
    key: EndpointKey,
    rx_fd: OwnedFd,
    /// VXLAN's raw UDP sender; GRE sends on `rx_fd`.
    tx_fd: Option<OwnedFd>,
    rx: DgramRx,
    tx: DgramTx,
    /// Per-datagram UDP + VXLAN headers of the chunk being sent.
    vxlan_hdrs: Box<[[u8; 16]; BATCH]>,
    /// The ports sharing the endpoint.
    pub demux: Demux,
    /// What the socket received, and the packets no port could take.
    pub counters: PortCounters,
    /// On the engine's ready list.
    pub ready: bool,
    /// The drop total the engine last logged.
    pub logged_drops: u64,
}

impl Endpoint {
    /// Opens the sockets of endpoint `key`.
    ///
    /// # Errors
    /// [`OpenError::UdpPortTaken`] when the UDP port is taken (e.g. by a
    /// kernel vxlan device); [`OpenError::NotLocalAddress`] when the local
    /// address is not one of this host;
    /// [`OpenError::Io`] naming the failing step otherwise (e.g. `EPERM`
    /// without CAP_NET_RAW).
    pub fn open(key: EndpointKey) -> Result<Endpoint, OpenError> {
        let (rx_fd, tx_fd) = match key.kind {
            TunnelKind::Vxlan => {
                let (rx, tx) = vxlan::open(&key)?;
                (rx, Some(tx))
            }
            TunnelKind::Gre => (gre::open(&key)?, None),
        };
        Ok(Endpoint::on(key, rx_fd, tx_fd))
    }

    /// An endpoint on its sockets, with no ports yet.
    fn on(key: EndpointKey, rx_fd: OwnedFd, tx_fd: Option<OwnedFd>) -> Endpoint {
        Endpoint {
            key,
            rx_fd,
            tx_fd,
            rx: DgramRx::new(),
            tx: DgramTx::new(),
            vxlan_hdrs: Box::new([[0; 16]; BATCH]),
            demux: Demux::default(),
            counters: PortCounters::default(),
            ready: false,
            logged_drops: 0,
        }
    }

    /// An endpoint on the sockets a previous image of switchd handed over
    /// on an in-place restart (SPEC §13), found in the manifest by `key`:
    /// no moment without a socket on the UDP port (or GRE protocol), so no
    /// packet is refused meanwhile.
    ///
    /// # Errors
    /// When VXLAN's send socket is missing; the caller then opens anew.
    pub fn adopt(key: EndpointKey, rx_fd: OwnedFd, tx_fd: Option<OwnedFd>) -> Result<Endpoint, OpenError> {
        if key.kind == TunnelKind::Vxlan && tx_fd.is_none() {
            return Err(OpenError::Io {
                step: "take over",
                name: key.to_string(),
                cause: io::Error::other("no send socket handed over"),
            });
        }
        Ok(Endpoint::on(key, rx_fd, tx_fd))
    }

    /// The fds this endpoint hands to the next image: receive, then send.
    pub fn hand_over(&self) -> (RawFd, Option<RawFd>) {
        (
            self.rx_fd.as_raw_fd(),
            self.tx_fd.as_ref().map(AsRawFd::as_raw_fd),
        )
    }

    /// The endpoint's identity.
    pub fn key(&self) -> EndpointKey {
        self.key
    }

    /// The fd to register for readability.
    pub fn raw_fd(&self) -> RawFd {
        self.rx_fd.as_raw_fd()
    }

    /// Receives up to `BATCH` packets into `batch`. For each slot `i` below
    /// the returned count, `ingress[i]` is the port the packet belongs to,
    /// with frame `i` of `batch` set to the inner Ethernet frame, or `None`
    /// when the packet was dropped (and counted here). The flag says whether
    /// more may be queued (a full batch, or an error that was consumed).
    pub fn recv_batch(&mut self, batch: &mut RxBatch, ingress: &mut [Option<u32>; BATCH]) -> (usize, bool) {
        batch.set_count(0);
        let n = match self.rx.recv(self.rx_fd.as_fd(), batch) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return (0, false),
            // A pending socket error is reported once and cleared; what
            // is queued behind it is read on the next round.
            Err(_) => {
                self.counters.rx_errors += 1;
                return (0, true);
            }
        };
        let v6 = self.key.local.is_ipv6();
        for (i, port) in ingress.iter_mut().enumerate().take(n) {
            *port = None;
            let m = self.rx.meta(i);
            self.counters.rx_packets += 1;
            self.counters.rx_bytes += m.len as u64;
            let packet = &batch.slot_mut(i)[HEADROOM..HEADROOM + m.len];
            let found = if m.truncated {
                Err(DropReason::TunnelTruncated)
            } else {
                decode(self.key.kind, v6, packet).and_then(|(key, offset)| {
                    let remote = m.from.ok_or(DropReason::TunnelUnknownPeer)?;
                    Ok((self.demux.lookup(remote, key)?, offset))
                })
            };
            match found {
                Ok((id, offset)) => {
                    batch.set_frame(i, HEADROOM + offset, m.len - offset);
                    *port = Some(id);
                }
                Err(reason) => self.counters.count_drop(reason),
            }
        }
        batch.set_count(n);
        (n, n == BATCH)
    }

    /// Sends the frames queued for the port of `link`, each behind its
    /// tunnel header, gathered straight from `batch` (the frame is never
    /// copied). `bytes` counts inner frames, as on every other port.
    pub fn send_batch(&mut self, batch: &RxBatch, tx: &[TxEntry], link: &TunnelLink) -> SendOutcome {
        let mut out = SendOutcome::default();
        match self.key.kind {
            TunnelKind::Vxlan => {
                let fd = self.tx_fd.as_ref().unwrap_or(&self.rx_fd).as_fd();
                for chunk in tx.chunks(BATCH) {
                    for (h, e) in self.vxlan_hdrs.iter_mut().zip(chunk) {
                        let frame = batch.frame(usize::from(e.slot));
                        let payload = wire::vxlan::HEADER_LEN + e.edit.out_len(frame.len());
                        let sport = wire::vxlan::source_port(wire::flow_hash(frame));
                        h[..8].copy_from_slice(&wire::vxlan::udp_header(sport, self.key.port, payload));
                        h[8..].copy_from_slice(&link.header);
                    }
                    let hdrs = &*self.vxlan_hdrs;
                    let datagrams = chunk.iter().zip(hdrs.iter()).map(|(e, h)| {
                        let (head, tag, rest) = e.edit.pieces(batch.frame(usize::from(e.slot)));
                        [&h[..], head, tag_piece(tag), rest]
                    });
                    self.tx.send(fd, &link.to, datagrams, &mut out);
                }
            }
            TunnelKind::Gre => {
                let header = &link.header[..link.header_len];
                let datagrams = tx.iter().map(|e| {
                    let (head, tag, rest) = e.edit.pieces(batch.frame(usize::from(e.slot)));
                    [header, head, tag_piece(tag), rest]
                });
                self.tx.send(self.rx_fd.as_fd(), &link.to, datagrams, &mut out);
            }
        }
        out.bytes = out.bytes.saturating_sub(out.sent * link.encap_len() as u64);
        out
    }
}

/// The tag piece of a gather list: empty when no tag is inserted.
fn tag_piece(t: Option<&[u8; 4]>) -> &[u8] {
    t.map_or(&[], |t| &t[..])
}

#[cfg(test)]
mod tests {
    use super::super::sys::test_util::*;
    use super::*;
    use crate::batch::{Edit, SLOT_LEN};
    use proto::PortConfig;

    fn cfg(s: &[&str]) -> PortConfig {
        let settings: Vec<proto::PortSetting> = s.iter().map(|s| s.parse().unwrap()).collect();
        PortConfig::from_settings(&settings).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn link_mtus() {
        let id = TunnelId::from_config(&cfg(&["type=vxlan", "remote_ip=10.0.0.2"])).unwrap();
        let mut l = TunnelLink::new(0, id, 1500);
        assert_eq!((l.max_frame(), l.inner_mtu()), (1464, 1450));
        l.set_underlay_mtu(9000);
        assert_eq!(l.inner_mtu(), 8950);
        l.set_underlay_mtu(20);
        assert_eq!((l.max_frame(), l.inner_mtu()), (0, 0));
        let id6 = TunnelId::from_config(&cfg(&["type=vxlan", "remote_ip=fd00::2"])).unwrap();
        assert_eq!(TunnelLink::new(0, id6, 1500).inner_mtu(), 1430);
        let gre = TunnelId::from_config(&cfg(&["type=gre", "remote_ip=10.0.0.2"])).unwrap();
        assert_eq!(TunnelLink::new(0, gre, 1500).inner_mtu(), 1462);
        let keyed = TunnelId::from_config(&cfg(&["type=gre", "remote_ip=10.0.0.2", "key=1"])).unwrap();
        assert_eq!(TunnelLink::new(0, keyed, 1500).inner_mtu(), 1458);
        assert_eq!(TunnelLink::new(0, keyed, 1500).encap_len(), 8);
    }

    #[test]
    fn demux_by_peer_and_key() {
        let mut d = Demux::default();
        let a = ip("10.0.0.2");
        let b = ip("10.0.0.3");
        let k = |remote, key| DemuxKey { remote, key };
        d.insert(k(a, Some(42)), 1).unwrap();
        d.insert(k(a, Some(43)), 2).unwrap();
        d.insert(k(b, Some(42)), 3).unwrap();
        d.insert(k(b, None), 4).unwrap();
        assert_eq!(d.insert(k(a, Some(42)), 9), Err(1));
        assert_eq!(d.len(), 4);
        assert_eq!(d.lookup(a, Some(42)), Ok(1));
        assert_eq!(d.lookup(a, Some(43)), Ok(2));
        assert_eq!(d.lookup(b, Some(42)), Ok(3));
        assert_eq!(d.lookup(b, None), Ok(4));
        assert_eq!(d.lookup(a, None), Err(DropReason::TunnelUnknownKey));
        assert_eq!(d.lookup(a, Some(44)), Err(DropReason::TunnelUnknownKey));
        assert_eq!(
            d.lookup(ip("10.0.0.4"), Some(42)),
            Err(DropReason::TunnelUnknownPeer)
        );
        d.remove(&k(a, Some(42)));
        assert_eq!(d.lookup(a, Some(42)), Err(DropReason::TunnelUnknownKey));
        d.remove(&k(a, Some(43)));
        assert_eq!(d.lookup(a, Some(43)), Err(DropReason::TunnelUnknownPeer));
        // removing what is not there changes nothing
        d.remove(&k(a, Some(43)));
        assert_eq!(d.len(), 2);
        d.remove(&k(b, Some(42)));
        d.remove(&k(b, None));
        assert!(d.is_empty());
    }

    #[test]
    fn decode_fixtures() {
        let inner = [0xffu8; 14];
        let vx = [&wire::vxlan::header(42)[..], &inner[..]].concat();
        assert_eq!(decode(TunnelKind::Vxlan, false, &vx), Ok((Some(42), 8)));
        assert_eq!(
            decode(TunnelKind::Vxlan, false, &vx[..7]),
            Err(DropReason::TunnelTruncated)
        );
        // GRE over IPv4 as a raw socket hands it over: IP header first.
        let mut ip4 = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 47, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
        ];
        ip4.extend_from_slice(&[0x20, 0x00, 0x65, 0x58, 0, 0, 0, 0x2a]);
        ip4.extend_from_slice(&inner);
        assert_eq!(decode(TunnelKind::Gre, false, &ip4), Ok((Some(42), 28)));
        // over IPv6 there is no IP header
        assert_eq!(decode(TunnelKind::Gre, true, &ip4[20..]), Ok((Some(42), 8)));
        assert_eq!(
            decode(TunnelKind::Gre, false, &ip4[..10]),
            Err(DropReason::TunnelTruncated)
        );
    }

    /// Both kinds over loopback in a private namespace: what an endpoint
    /// sends (with a tag inserted by the egress edit on the way) comes back
    /// on the same endpoint, is given to the right port, and the inner frame
    /// is read in place in its slot, after the outer headers.
    #[test]
    fn endpoint_round_trip_over_loopback() {
        if !root_or_skip("endpoint_round_trip_over_loopback") {
            return;
        }
        enter_private_netns();
        ip_ok(&["link", "set", "dev", "lo", "up"]);
        let plain: Vec<u8> = [&[0xff; 6][..], &[2, 0, 0, 0, 0, 1], &[0x88, 0xb5], &[0x5a; 46]].concat();
        let tag = [0x81, 0x00, 0x00, 0x0a];
        let tagged: Vec<u8> = [&plain[..12], &tag[..], &plain[12..]].concat();
        for (settings, inner_at) in [
            (&["type=vxlan", "remote_ip=127.0.0.1", "key=42"][..], HEADROOM + 8),
            // an IPv4 raw socket hands over the 20-byte IP header too
            (
                &["type=gre", "remote_ip=127.0.0.1", "key=7"][..],
                HEADROOM + 20 + 8,
            ),
            (&["type=gre", "remote_ip=127.0.0.1"][..], HEADROOM + 20 + 4),
        ] {
            let id = TunnelId::from_config(&cfg(settings)).unwrap();
            let mut ep = Endpoint::open(id.endpoint).unwrap();
            ep.demux.insert(id.demux, 5).unwrap();
            let link = TunnelLink::new(0, id, underlay_mtu(&id).unwrap());
            assert!(
                link.underlay_mtu() > 60_000,
                "loopback MTU {}",
                link.underlay_mtu()
            );

            let mut tx_batch = RxBatch::new();
            tx_batch.slot_mut(0)[HEADROOM..HEADROOM + plain.len()].copy_from_slice(&plain);
            tx_batch.set_frame(0, HEADROOM, plain.len());
            tx_batch.set_count(1);
            let tx = [TxEntry::new(0, Edit::KEEP), TxEntry::new(0, Edit::push(tag))];
            let out = ep.send_batch(&tx_batch, &tx, &link);
            assert_eq!(
                out,
                SendOutcome {
                    sent: 2,
                    bytes: (plain.len() + tagged.len()) as u64,
                    dropped: 0,
                    errors: 0,
                    link_down: 0
                },
                "{settings:?}"
            );

            let mut rx = RxBatch::new();
            let mut ingress = [None; BATCH];
            let (n, more) = ep.recv_batch(&mut rx, &mut ingress);
            assert_eq!((n, more), (2, false), "{settings:?}");
            assert_eq!(&ingress[..2], &[Some(5), Some(5)]);
            assert_eq!(rx.frame(0), &plain[..]);
            assert_eq!(rx.frame(1), &tagged[..]);
            assert_eq!(rx.frame_ref(0).start, inner_at, "{settings:?}");
            assert!(rx.frame_ref(1).start + rx.frame_ref(1).len <= SLOT_LEN);
            assert_eq!(ep.counters.rx_packets, 2);
            assert_eq!(ep.counters.rx_dropped(), 0);
            // drained
            assert_eq!(ep.recv_batch(&mut rx, &mut ingress), (0, false));

            // The same packets for a port that is gone: counted, not given.
            ep.demux.remove(&id.demux);
            assert_eq!(ep.send_batch(&tx_batch, &tx[..1], &link).sent, 1);
            assert_eq!(ep.recv_batch(&mut rx, &mut ingress), (1, false));
            assert_eq!(ingress[0], None);
            assert_eq!(ep.counters.drops[DropReason::TunnelUnknownPeer.index()], 1);
        }
    }
}

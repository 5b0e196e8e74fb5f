//! The per-frame forwarding decision, pure: no sockets, no clock, no
//! allocation. The engine calls it for every received frame and executes
//! the result.
//!
//! The order is fixed, as in Linux's `br_handle_frame_finish` and OVS's
//! `xlate_normal`, and every step that refuses a frame names a
//! [`DropReason`]:
//!
//! 1. parse: runt, truncated VLAN tag ([`wire::parse`]);
//! 2. bad source: a multicast or all-zero source MAC is dropped and never
//!    learned (as the Linux bridge; OVS forwards such frames);
//! 3. reserved destination: 01:80:c2:00:00:0x (STP, pause, LACP, 802.1X) is
//!    never forwarded, nor learned from;
//! 4. VLAN ingress admission and classification ([`PortVlan::classify`]);
//! 5. spanning-tree state of the ingress port (BPDUs were taken out at
//!    step 3): a discarding port stops here, a learning port learns the
//!    source and stops (out of line, so a forwarding port pays one compare);
//! 6. learn the source on (VLAN, ingress port) — after admission, so a frame
//!    the port may not send cannot poison the table ("insert into forwarding
//!    database after filtering to avoid spoofing", `br_input.c`);
//! 7. decide: known unicast goes to its learned port (dropped if that is
//!    the ingress port); unknown unicast, broadcast and multicast flood;
//! 8. per egress port ([`egress`]): skip the ingress port, ports that are
//!    down or not forwarding ([`Gate`]), ports that do not carry the VLAN,
//!    and tunnel ports on a flood from a tunnel (split horizon); compute the
//!    tag edit; refuse a frame that would exceed the port's MTU.

use std::time::Instant;

use proto::MacAddr;

use crate::batch::Edit;
use crate::fdb::Fdb;
use crate::stats::DropReason;
use crate::vlan::PortVlan;
use crate::wire::{self, FrameMeta, ETH_HEADER_LEN, VLAN_TAG_LEN};
use crate::PortId;

/// What the pipeline needs to know about one port of the bridge.
#[derive(Debug, Clone)]
pub struct PortSpec {
    /// The port's id (what the MAC table stores).
    pub id: PortId,
    /// VLAN rules.
    pub vlan: PortVlan,
    /// VXLAN or GRE: a flood from a tunnel is not sent to other tunnels.
    pub tunnel: bool,
    /// Whether the port is attached and what spanning tree lets it do.
    pub gate: Gate,
    /// Largest payload (bytes after the Ethernet header and any VLAN tag)
    /// the port sends.
    pub mtu: u32,
    /// OpenFlow port number (SPEC §9), what flows call the port.
    pub ofport: u16,
    /// The VNI or GRE key of a tunnel port (the `tun_id` flows see on
    /// frames it receives), 0 for other ports.
    pub tun_id: u64,
}

impl PortSpec {
    /// Whether a frame of `frame_len` bytes, edited by `edit` and leaving
    /// tagged or not, fits the port's MTU. A device carries an 802.1Q tag
    /// on top of its MTU (Linux's `is_skb_forwardable`, 802.3's 1522-byte
    /// tagged frame); a tunnel's underlay has to carry the tag inside its
    /// payload, so there it counts.
    #[inline]
    pub fn fits(&self, edit: &Edit, leaves_tagged: bool, frame_len: usize) -> bool {
        let header = ETH_HEADER_LEN
            + if leaves_tagged && !self.tunnel {
                VLAN_TAG_LEN
            } else {
                0
            };
        edit.out_len(frame_len).saturating_sub(header) <= self.mtu as usize
    }
}

/// What the data path may do with a port: nothing while it is down, and
/// otherwise what its spanning-tree state allows (802.1D-2004 §17.4 /
/// SPEC §7): only a forwarding port forwards, a learning port learns, a
/// discarding port does neither. Ports of a bridge without RSTP, and ports
/// that do not take part, are forwarding when up. One field, so the egress
/// test stays one compare per port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gate {
    /// Not attached: skipped on egress.
    Down,
    /// Neither learns nor forwards.
    Discarding,
    /// Learns, does not forward.
    Learning,
    /// Learns and forwards.
    #[default]
    Forwarding,
    /// A mirror's output port (SPEC §11): up, but it carries only mirror
    /// traffic, so it neither learns nor forwards, nor is flooded to.
    MirrorOutput,
}

/// Where a frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Known unicast: to this port (an index into the ports slice).
    Output(usize),
    /// To every other port that carries the VLAN.
    Flood,
}

/// The result of [`ingress`]: the parsed frame, its VLAN and where it goes.
#[derive(Debug, Clone, Copy)]
pub struct Verdict {
    /// The parsed headers (the ingress tag as received).
    pub meta: FrameMeta,
    /// The VLAN the frame was classified into.
    pub vlan: u16,
    /// Output port or flood.
    pub decision: Decision,
}

/// A bridge's ports as the pipeline reads them: their specs in bridge order,
/// and where each port id sits among them.
///
/// Port ids are the engine's slots, shared by every bridge, so on any bridge
/// but the first, or after a port was deleted, a port's id and its position
/// differ. The position map turns "the port this MAC was learned on" into a
/// spec in O(1) however many ports the bridge has, where a scan of the specs
/// would cost O(ports) per known-unicast frame.
#[derive(Debug, Clone, Default)]
pub struct Ports {
    specs: Vec<PortSpec>,
    /// `PortId.0` → index in `specs`; [`NOT_HERE`] for ids of other bridges.
    position: Vec<u32>,
    /// OpenFlow port number → index in `specs` (numbers are handed out
    /// lowest first, so this stays about as long as the bridge has ports).
    by_ofport: Vec<u32>,
}

const NOT_HERE: u32 = u32::MAX;

impl Ports {
    /// Appends `spec`; returns its index.
    pub fn push(&mut self, spec: PortSpec) -> usize {
        let idx = self.specs.len();
        let id = spec.id.0 as usize;
        if self.position.len() <= id {
            self.position.resize(id + 1, NOT_HERE);
        }
        self.position[id] = idx as u32;
        let of = usize::from(spec.ofport);
        if self.by_ofport.len() <= of {
            self.by_ofport.resize(of + 1, NOT_HERE);
        }
        self.by_ofport[of] = idx as u32;
        self.specs.push(spec);
        idx
    }

    /// Removes the spec at `idx`; those after it move down by one.
    ///
    /// # Panics
    /// If `idx` is out of bounds.
    pub fn remove(&mut self, idx: usize) -> PortSpec {
        let spec = self.specs.remove(idx);
        self.position[spec.id.0 as usize] = NOT_HERE;
        self.by_ofport[usize::from(spec.ofport)] = NOT_HERE;
        for (i, s) in self.specs.iter().enumerate().skip(idx) {
            self.position[s.id.0 as usize] = i as u32;
            self.by_ofport[usize::from(s.ofport)] = i as u32;
        }
        spec
    }

    /// The index of the port with OpenFlow port number `ofport`.
    #[inline]
    pub fn index_of_ofport(&self, ofport: u16) -> Option<usize> {
        let idx = *self.by_ofport.get(usize::from(ofport))? as usize;
        (self.specs.get(idx)?.ofport == ofport).then_some(idx)
    }

    /// The index of the port with id `id`, if it is on this bridge.
    #[inline]
    pub fn index_of(&self, id: PortId) -> Option<usize> {
        let idx = *self.position.get(id.0 as usize)? as usize;
        // A spec whose id was changed in place (through `IndexMut`) is not
        // found rather than mistaken for another port.
        (self.specs.get(idx)?.id == id).then_some(idx)
    }
}

impl From<Vec<PortSpec>> for Ports {
    fn from(specs: Vec<PortSpec>) -> Ports {
        let mut ports = Ports::default();
        for spec in specs {
            ports.push(spec);
        }
        ports
    }
}

impl std::ops::Deref for Ports {
    type Target = [PortSpec];

    fn deref(&self) -> &[PortSpec] {
        &self.specs
    }
}

/// For the fields that change while a port is on the bridge (`up`, `mtu`,
/// `vlan`); a port's `id` is fixed when it is pushed.
impl std::ops::IndexMut<usize> for Ports {
    fn index_mut(&mut self, idx: usize) -> &mut PortSpec {
        &mut self.specs[idx]
    }
}

impl<'a> IntoIterator for &'a Ports {
    type Item = &'a PortSpec;
    type IntoIter = std::slice::Iter<'a, PortSpec>;

    fn into_iter(self) -> Self::IntoIter {
        self.specs.iter()
    }
}

impl std::ops::Index<usize> for Ports {
    type Output = PortSpec;

    fn index(&self, idx: usize) -> &PortSpec {
        &self.specs[idx]
    }
}

/// Steps 1–6: checks, classifies and learns from the frame received on
/// `ports[in_idx]`, and decides where it goes.
///
/// # Errors
/// The reason the frame is dropped as a whole.
///
/// # Panics
/// If `in_idx` is out of bounds.
#[inline]
pub fn ingress(
    fdb: &mut Fdb,
    ports: &Ports,
    in_idx: usize,
    frame: &[u8],
    now: Instant,
) -> Result<Verdict, DropReason> {
    let meta = wire::parse(frame)?;
    if meta.src.is_multicast() || meta.src.is_zero() {
        return Err(DropReason::BadSource);
    }
    if wire::is_reserved(&meta.dst) {
        return Err(DropReason::ReservedDestination);
    }
    let in_port = &ports[in_idx];
    let vlan = in_port.vlan.classify(meta.tag)?;
    if in_port.gate != Gate::Forwarding {
        return Err(not_forwarding(fdb, in_port.gate, vlan, meta.src, in_port.id, now));
    }
    fdb.learn(vlan, meta.src, in_port.id, now);
    let decision = if meta.dst.is_multicast() {
        Decision::Flood
    } else {
        match fdb.lookup(vlan, meta.dst, now).and_then(|id| ports.index_of(id)) {
            Some(i) if i == in_idx => return Err(DropReason::LearnedOnIngress),
            Some(i) => Decision::Output(i),
            // Unknown, or learned on a port that is no longer on the bridge.
            None => Decision::Flood,
        }
    };
    Ok(Verdict { meta, vlan, decision })
}

/// A frame received (and admitted into `vlan`) on a port that does not
/// forward: a learning port learns its source, a discarding one does not.
/// Out of line and with plain values, so the forwarding path pays one
/// compare for it.
#[cold]
#[inline(never)]
fn not_forwarding(
    fdb: &mut Fdb,
    gate: Gate,
    vlan: u16,
    src: MacAddr,
    id: PortId,
    now: Instant,
) -> DropReason {
    if gate == Gate::MirrorOutput {
        return DropReason::MirrorOutputPort;
    }
    if gate != Gate::Learning {
        return DropReason::StpDiscarding;
    }
    fdb.learn(vlan, src, id, now);
    DropReason::StpLearning
}

/// Step 7 for one candidate egress port: how the frame of `frame_len`
/// bytes described by `v` leaves `ports[out_idx]`.
///
/// `None` means "skip silently": the ingress port itself, a port that is
/// down or not forwarding, a port that does not carry the VLAN, or a tunnel port on a flood
/// that came from a tunnel (split horizon).
/// `Some(Err(DropReason::TooBig))` when the frame as it would leave
/// (`frame_len` after the edit, minus the Ethernet header and, except on a
/// tunnel port, the tag if it leaves tagged) exceeds the port's MTU.
///
/// # Panics
/// If `in_idx` or `out_idx` is out of bounds.
#[inline]
pub fn egress(
    ports: &[PortSpec],
    in_idx: usize,
    out_idx: usize,
    frame_len: usize,
    v: &Verdict,
) -> Option<Result<Edit, DropReason>> {
    let out = &ports[out_idx];
    if out_idx == in_idx || out.gate != Gate::Forwarding {
        return None;
    }
    if v.decision == Decision::Flood && out.tunnel && ports[in_idx].tunnel {
        return None;
    }
    let edit = out.vlan.egress_edit(v.vlan, v.meta.tag)?;
    if !out.fits(&edit, PortVlan::leaves_tagged(&edit, v.meta.tag), frame_len) {
        return Some(Err(DropReason::TooBig));
    }
    Some(Ok(edit))
}

/// The whole decision for one received frame: [`ingress`], then [`egress`]
/// for the learned port, or for every port on a flood. `emit` is called
/// once per port the frame goes to (or is refused by, with `TooBig`), with
/// the port's index in `ports`.
///
/// # Errors
/// The reason the frame is dropped as a whole (counted on the ingress port).
///
/// # Panics
/// If `in_idx` is out of bounds.
#[inline]
pub fn forward(
    fdb: &mut Fdb,
    ports: &Ports,
    in_idx: usize,
    frame: &[u8],
    now: Instant,
    emit: impl FnMut(usize, Result<Edit, DropReason>),
) -> Result<(), DropReason> {
    forward_sized(fdb, ports, in_idx, frame, frame.len(), now, emit)
}

/// [`forward`] for a frame that leaves as frames of at most `wire_len`
/// bytes: a GSO super-frame is checked against egress MTUs by the size of
/// its segments, not by its own.
#[inline]
pub fn forward_sized(
    fdb: &mut Fdb,
    ports: &Ports,
    in_idx: usize,
    frame: &[u8],
    wire_len: usize,
    now: Instant,
    mut emit: impl FnMut(usize, Result<Edit, DropReason>),
) -> Result<(), DropReason> {
    let v = ingress(fdb, ports, in_idx, frame, now)?;
    match v.decision {
        Decision::Output(i) => {
            if let Some(r) = egress(ports, in_idx, i, wire_len, &v) {
                emit(i, r);
            }
        }
        Decision::Flood => {
            fdb.count_flood();
            for i in 0..ports.len() {
                if let Some(r) = egress(ports, in_idx, i, wire_len, &v) {
                    emit(i, r);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{VlanTag, TPID_8021Q};
    use proto::{MacAddr, PortConfig, Trunks, VlanId, VlanMode};
    use std::time::Duration;

    const A: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xa]);
    const B: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xb]);
    const C: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xc]);

    fn vlan(mode: Option<VlanMode>, tag: Option<u16>, trunks: Option<&str>) -> PortVlan {
        let cfg = PortConfig {
            vlan_mode: mode,
            tag: tag.map(|t| VlanId::new(t).unwrap()),
            trunks: trunks.map(|t| t.parse::<Trunks>().unwrap()),
            ..PortConfig::default()
        };
        cfg.validate().unwrap();
        PortVlan::from_config(&cfg)
    }

    fn port(id: u32, v: PortVlan) -> PortSpec {
        PortSpec {
            id: PortId(id),
            vlan: v,
            tunnel: false,
            gate: Gate::Forwarding,
            mtu: 1500,
            ofport: id as u16 + 1,
            tun_id: 0,
        }
    }

    /// `n` unconfigured ports (trunks of all VLANs, untagged = VLAN 0).
    fn plain(n: u32) -> Ports {
        Ports::from(
            (0..n)
                .map(|i| port(i, vlan(None, None, None)))
                .collect::<Vec<_>>(),
        )
    }

    fn frame(dst: MacAddr, src: MacAddr, tag: Option<(u16, u8)>, payload: usize) -> Vec<u8> {
        let mut f = Vec::from(dst.0);
        f.extend_from_slice(&src.0);
        if let Some((vid, pcp)) = tag {
            f.extend_from_slice(
                &VlanTag {
                    tpid: TPID_8021Q,
                    pcp,
                    dei: false,
                    vid,
                }
                .to_bytes(),
            );
        }
        f.extend_from_slice(&[0x08, 0x00]);
        f.resize(f.len() + payload, 0x5a);
        f
    }

    fn fdb() -> Fdb {
        Fdb::new(1024, Duration::from_secs(300))
    }

    /// What `forward` emitted: (port index, edit or egress drop).
    type Emitted = Vec<(usize, Result<Edit, DropReason>)>;

    /// Runs `forward` and collects what it emitted.
    fn fwd(
        fdb: &mut Fdb,
        ports: &[PortSpec],
        in_idx: usize,
        f: &[u8],
        now: Instant,
    ) -> Result<Emitted, DropReason> {
        let mut out = Vec::new();
        let ports = Ports::from(ports.to_vec());
        forward(fdb, &ports, in_idx, f, now, |i, r| out.push((i, r)))?;
        Ok(out)
    }

    fn to(ports: &[usize]) -> Emitted {
        ports.iter().map(|&i| (i, Ok(Edit::KEEP))).collect()
    }

    #[test]
    fn floods_before_learning_then_unicasts() {
        let (mut fdb, ports, t) = (fdb(), plain(4), Instant::now());
        // A (port 0) -> B: unknown, flooded to all others; A is learned.
        assert_eq!(
            fwd(&mut fdb, &ports, 0, &frame(B, A, None, 46), t),
            Ok(to(&[1, 2, 3]))
        );
        assert_eq!(fdb.lookup(0, A, t), Some(PortId(0)));
        // B (port 2) -> A: known, only to port 0.
        assert_eq!(fwd(&mut fdb, &ports, 2, &frame(A, B, None, 46), t), Ok(to(&[0])));
        // A -> B is now known too.
        assert_eq!(fwd(&mut fdb, &ports, 0, &frame(B, A, None, 46), t), Ok(to(&[2])));
        let v = ingress(&mut fdb, &ports, 0, &frame(B, A, None, 46), t).unwrap();
        assert_eq!((v.vlan, v.decision), (0, Decision::Output(2)));
    }

    #[test]
    fn broadcast_and_multicast_flood_even_when_learned() {
        let (mut fdb, ports, t) = (fdb(), plain(3), Instant::now());
        let mcast = MacAddr([0x01, 0x00, 0x5e, 0, 0, 1]);
        assert_eq!(
            fwd(&mut fdb, &ports, 1, &frame(MacAddr::BROADCAST, A, None, 46), t),
            Ok(to(&[0, 2]))
        );
        assert_eq!(
            fwd(&mut fdb, &ports, 1, &frame(mcast, A, None, 46), t),
            Ok(to(&[0, 2]))
        );
    }

    #[test]
    fn hairpin_is_dropped() {
        let (mut fdb, ports, t) = (fdb(), plain(3), Instant::now());
        fwd(&mut fdb, &ports, 1, &frame(MacAddr::BROADCAST, A, None, 46), t).unwrap();
        fwd(&mut fdb, &ports, 1, &frame(MacAddr::BROADCAST, B, None, 46), t).unwrap();
        // A and B both behind port 1 (e.g. a hub): A -> B must not go back out
        assert_eq!(
            fwd(&mut fdb, &ports, 1, &frame(B, A, None, 46), t),
            Err(DropReason::LearnedOnIngress)
        );
    }

    #[test]
    fn reserved_destination_is_neither_forwarded_nor_learned() {
        let (mut fdb, ports, t) = (fdb(), plain(3), Instant::now());
        for last in [0x00, 0x01, 0x02, 0x03, 0x0e, 0x0f] {
            let stp = MacAddr([0x01, 0x80, 0xc2, 0, 0, last]);
            assert_eq!(
                fwd(&mut fdb, &ports, 0, &frame(stp, A, None, 46), t),
                Err(DropReason::ReservedDestination)
            );
        }
        assert!(fdb.is_empty());
        // 01:80:c2:00:00:10 is an ordinary multicast
        let not_reserved = MacAddr([0x01, 0x80, 0xc2, 0, 0, 0x10]);
        assert_eq!(
            fwd(&mut fdb, &ports, 0, &frame(not_reserved, A, None, 46), t),
            Ok(to(&[1, 2]))
        );
    }

    #[test]
    fn bad_source_is_dropped_and_not_learned() {
        let (mut fdb, ports, t) = (fdb(), plain(3), Instant::now());
        for src in [
            MacAddr([0; 6]),
            MacAddr::BROADCAST,
            MacAddr([0x01, 0x00, 0x5e, 0, 0, 1]),
        ] {
            assert_eq!(
                fwd(&mut fdb, &ports, 0, &frame(B, src, None, 46), t),
                Err(DropReason::BadSource)
            );
        }
        assert!(fdb.is_empty());
    }

    #[test]
    fn runt_and_truncated_tag() {
        let (mut fdb, ports, t) = (fdb(), plain(2), Instant::now());
        let f = frame(B, A, None, 0);
        assert_eq!(fwd(&mut fdb, &ports, 0, &f[..13], t), Err(DropReason::Runt));
        assert_eq!(fwd(&mut fdb, &ports, 0, &[], t), Err(DropReason::Runt));
        let tagged = frame(B, A, Some((10, 0)), 0);
        assert_eq!(
            fwd(&mut fdb, &ports, 0, &tagged[..17], t),
            Err(DropReason::TruncatedTag)
        );
        assert_eq!(fwd(&mut fdb, &ports, 0, &f[..14], t), Ok(to(&[1])));
        assert_eq!(fdb.len(), 1);
    }

    #[test]
    fn vlan_ingress_drop_does_not_learn() {
        let (mut fdb, t) = (fdb(), Instant::now());
        let ports = vec![
            port(0, vlan(None, Some(10), None)),
            port(1, vlan(None, None, None)),
        ];
        assert_eq!(
            fwd(&mut fdb, &ports, 0, &frame(B, A, Some((20, 0)), 46), t),
            Err(DropReason::VlanIngress)
        );
        assert!(fdb.is_empty());
    }

    #[test]
    fn floods_stay_in_their_vlan() {
        let (mut fdb, t) = (fdb(), Instant::now());
        let ports = vec![
            port(0, vlan(None, Some(10), None)),      // access 10
            port(1, vlan(None, Some(10), None)),      // access 10
            port(2, vlan(None, Some(20), None)),      // access 20
            port(3, vlan(None, None, Some("10"))),    // trunk 10
            port(4, vlan(None, None, None)),          // trunk all
            port(5, vlan(None, None, Some("20,30"))), // trunk 20,30
        ];
        let got = fwd(&mut fdb, &ports, 0, &frame(MacAddr::BROADCAST, A, None, 46), t).unwrap();
        let push10 = Edit::push([0x81, 0x00, 0x00, 10]);
        assert_eq!(got, vec![(1, Ok(Edit::KEEP)), (3, Ok(push10)), (4, Ok(push10))]);
        // A learned in VLAN 10 only: a VLAN-20 frame to A floods in VLAN 20
        assert_eq!(fdb.lookup(20, A, t), None);
        let got = fwd(&mut fdb, &ports, 5, &frame(A, C, Some((20, 0)), 46), t).unwrap();
        let pop = Edit::POP;
        assert_eq!(got, vec![(2, Ok(pop)), (4, Ok(Edit::KEEP))]);
    }

    #[test]
    fn split_horizon_between_tunnels() {
        let (mut fdb, t) = (fdb(), Instant::now());
        let mut ports = plain(4);
        ports[2].tunnel = true;
        ports[3].tunnel = true;
        // from a tunnel: flooded to local ports only
        assert_eq!(
            fwd(&mut fdb, &ports, 2, &frame(MacAddr::BROADCAST, A, None, 46), t),
            Ok(to(&[0, 1]))
        );
        // from a local port: flooded to the tunnels too
        assert_eq!(
            fwd(&mut fdb, &ports, 0, &frame(MacAddr::BROADCAST, B, None, 46), t),
            Ok(to(&[1, 2, 3]))
        );
        // known unicast tunnel -> tunnel is not a flood and goes through
        fwd(&mut fdb, &ports, 3, &frame(MacAddr::BROADCAST, C, None, 46), t).unwrap();
        assert_eq!(fwd(&mut fdb, &ports, 2, &frame(C, A, None, 46), t), Ok(to(&[3])));
    }

    #[test]
    fn a_tunnel_port_counts_a_pushed_tag_against_its_mtu() {
        let (mut fdb, t) = (fdb(), Instant::now());
        let mut ports = vec![
            port(0, vlan(None, Some(10), None)), // access 10
            port(1, vlan(None, None, None)),     // trunk tunnel: pushes a tag
        ];
        ports[1].tunnel = true;
        ports[1].mtu = 1000;
        // the tag travels inside the underlay's payload: 996 + 4 fits, 997 + 4 does not
        let got = fwd(&mut fdb, &ports, 0, &frame(MacAddr::BROADCAST, A, None, 996), t).unwrap();
        assert!(got[0].1.is_ok(), "{got:?}");
        let got = fwd(&mut fdb, &ports, 0, &frame(MacAddr::BROADCAST, A, None, 997), t).unwrap();
        assert_eq!(got, vec![(1, Err(DropReason::TooBig))]);
    }

    #[test]
    fn too_big_counts_the_pushed_tag_against_the_frame_not_the_payload() {
        let (mut fdb, t) = (fdb(), Instant::now());
        let mut ports = vec![
            port(0, vlan(None, Some(10), None)), // access 10
            port(1, vlan(None, None, None)),     // trunk: pushes a tag
            port(2, vlan(None, Some(10), None)), // access: untagged
        ];
        for p in &mut ports {
            p.mtu = 1500;
        }
        // a 1500-byte payload fits both, tagged or not
        let got = fwd(&mut fdb, &ports, 0, &frame(MacAddr::BROADCAST, A, None, 1500), t).unwrap();
        assert!(got.iter().all(|(_, r)| r.is_ok()), "{got:?}");
        // 1501 bytes: too big everywhere
        let got = fwd(&mut fdb, &ports, 0, &frame(MacAddr::BROADCAST, A, None, 1501), t).unwrap();
        assert_eq!(
            got,
            vec![(1, Err(DropReason::TooBig)), (2, Err(DropReason::TooBig))]
        );
        // smaller MTU on the trunk only: the tag does not count as payload
        ports[1].mtu = 1000;
        let got = fwd(&mut fdb, &ports, 0, &frame(MacAddr::BROADCAST, A, None, 1000), t).unwrap();
        assert!(got.iter().all(|(_, r)| r.is_ok()), "{got:?}");
        let got = fwd(&mut fdb, &ports, 0, &frame(MacAddr::BROADCAST, A, None, 1001), t).unwrap();
        assert_eq!(got[0], (1, Err(DropReason::TooBig)));
        assert!(got[1].1.is_ok());
        // egress() directly: 14 + 4 + 1000 bytes leaving tagged is exactly the MTU
        let v = ingress(
            &mut fdb,
            &Ports::from(ports.clone()),
            1,
            &frame(MacAddr::BROADCAST, B, Some((10, 0)), 1000),
            t,
        )
        .unwrap();
        assert_eq!(egress(&ports, 1, 0, 14 + 4 + 1000, &v), Some(Ok(Edit::POP)));
        assert_eq!(
            egress(&ports, 1, 0, 14 + 4 + 1501, &v),
            Some(Err(DropReason::TooBig))
        );
    }

    #[test]
    fn down_ports_are_skipped() {
        let (mut fdb, t) = (fdb(), Instant::now());
        let mut ports = plain(3);
        ports[1].gate = Gate::Down;
        assert_eq!(
            fwd(&mut fdb, &ports, 0, &frame(MacAddr::BROADCAST, A, None, 46), t),
            Ok(to(&[2]))
        );
        // a MAC learned on a port that is now down: nothing is emitted
        ports[1].gate = Gate::Forwarding;
        fwd(&mut fdb, &ports, 1, &frame(MacAddr::BROADCAST, B, None, 46), t).unwrap();
        ports[1].gate = Gate::Down;
        assert_eq!(fwd(&mut fdb, &ports, 0, &frame(B, A, None, 46), t), Ok(vec![]));
    }

    #[test]
    fn moved_mac_follows_at_once() {
        let (mut fdb, ports, t) = (fdb(), plain(3), Instant::now());
        fwd(&mut fdb, &ports, 1, &frame(MacAddr::BROADCAST, B, None, 46), t).unwrap();
        assert_eq!(fwd(&mut fdb, &ports, 0, &frame(B, A, None, 46), t), Ok(to(&[1])));
        // B shows up behind port 2 (VM migrated)
        let t1 = t + Duration::from_millis(5);
        fwd(&mut fdb, &ports, 2, &frame(MacAddr::BROADCAST, B, None, 46), t1).unwrap();
        assert_eq!(fwd(&mut fdb, &ports, 0, &frame(B, A, None, 46), t1), Ok(to(&[2])));
        assert_eq!(fdb.moved(), 1);
    }

    #[test]
    fn learned_port_gone_from_the_bridge_floods() {
        let (mut fdb, t) = (fdb(), Instant::now());
        fdb.learn(0, B, PortId(7), t);
        let ports = plain(3);
        assert_eq!(
            fwd(&mut fdb, &ports, 0, &frame(B, A, None, 46), t),
            Ok(to(&[1, 2]))
        );
    }

    #[test]
    fn ports_find_ids_that_differ_from_positions() {
        // a second bridge: engine slots 7, 3 and 12
        let mut ports = Ports::from(vec![
            port(7, vlan(None, None, None)),
            port(3, vlan(None, None, None)),
            port(12, vlan(None, None, None)),
        ]);
        assert_eq!(ports.index_of(PortId(7)), Some(0));
        assert_eq!(ports.index_of(PortId(3)), Some(1));
        assert_eq!(ports.index_of(PortId(12)), Some(2));
        // ids of other bridges, inside and beyond the map
        assert_eq!(ports.index_of(PortId(0)), None);
        assert_eq!(ports.index_of(PortId(5)), None);
        assert_eq!(ports.index_of(PortId(99)), None);
        // deleting the first port moves the others down
        assert_eq!(ports.remove(0).id, PortId(7));
        assert_eq!(ports.index_of(PortId(7)), None);
        assert_eq!(ports.index_of(PortId(3)), Some(0));
        assert_eq!(ports.index_of(PortId(12)), Some(1));
        assert_eq!(ports.push(port(7, vlan(None, None, None))), 2);
        assert_eq!(ports.index_of(PortId(7)), Some(2));
        // an id changed in place is not mistaken for the port that had it
        ports[0].id = PortId(40);
        assert_eq!(ports.index_of(PortId(3)), None);
    }

    #[test]
    fn known_unicast_reaches_its_port_when_ids_differ_from_positions() {
        let (mut fdb, t) = (fdb(), Instant::now());
        let ports = Ports::from(vec![
            port(7, vlan(None, None, None)),
            port(3, vlan(None, None, None)),
            port(12, vlan(None, None, None)),
        ]);
        let mut out = Vec::new();
        forward(
            &mut fdb,
            &ports,
            2,
            &frame(MacAddr::BROADCAST, B, None, 46),
            t,
            |i, _| out.push(i),
        )
        .unwrap();
        assert_eq!(out, [0, 1]);
        assert_eq!(fdb.lookup(0, B, t), Some(PortId(12)));
        out.clear();
        forward(&mut fdb, &ports, 0, &frame(B, A, None, 46), t, |i, _| out.push(i)).unwrap();
        assert_eq!(out, [2], "B was learned on id 12, which sits at index 2");
    }

    #[test]
    fn tagged_unicast_keeps_tag_and_pcp() {
        let (mut fdb, t) = (fdb(), Instant::now());
        let ports = vec![
            port(0, vlan(None, None, None)),
            port(1, vlan(None, None, None)),
            port(2, vlan(None, Some(30), None)),
        ];
        fwd(
            &mut fdb,
            &ports,
            1,
            &frame(MacAddr::BROADCAST, B, Some((30, 5)), 46),
            t,
        )
        .unwrap();
        // same encoding on both trunks: nothing to edit
        assert_eq!(
            fwd(&mut fdb, &ports, 0, &frame(B, A, Some((30, 5)), 46), t),
            Ok(to(&[1]))
        );
        // from the access port: tag pushed with PCP 0
        let got = fwd(&mut fdb, &ports, 2, &frame(B, C, None, 46), t).unwrap();
        assert_eq!(got, vec![(1, Ok(Edit::push([0x81, 0, 0, 30])))]);
    }

    /// Where a broadcast from port 0 goes, and what port 0 learned.
    fn flood_from_0(ports: &Ports) -> (Result<Vec<usize>, DropReason>, bool) {
        let mut fdb = Fdb::new(64, Duration::from_secs(300));
        let now = Instant::now();
        let f = frame(MacAddr([0xff; 6]), A, None, 46);
        let mut out = Vec::new();
        let r = forward(&mut fdb, ports, 0, &f, now, |i, e| {
            e.unwrap();
            out.push(i)
        });
        (r.map(|()| out), fdb.lookup(0, A, now).is_some())
    }

    #[test]
    fn spanning_tree_state_gates_ingress_learning_and_egress() {
        let mut ports = plain(4);
        assert_eq!(flood_from_0(&ports), (Ok(vec![1, 2, 3]), true));
        ports[0].gate = Gate::Discarding;
        assert_eq!(flood_from_0(&ports), (Err(DropReason::StpDiscarding), false));
        ports[0].gate = Gate::Learning;
        assert_eq!(flood_from_0(&ports), (Err(DropReason::StpLearning), true));
        ports[0].gate = Gate::Forwarding;
        ports[1].gate = Gate::Discarding;
        ports[3].gate = Gate::Learning;
        assert_eq!(flood_from_0(&ports), (Ok(vec![2]), true));
    }

    #[test]
    fn known_unicast_to_a_blocked_port_is_not_sent() {
        let mut ports = plain(3);
        let mut fdb = Fdb::new(64, Duration::from_secs(300));
        let now = Instant::now();
        fdb.learn(0, B, PortId(1), now);
        ports[1].gate = Gate::Discarding;
        let mut out = Vec::new();
        forward(&mut fdb, &ports, 0, &frame(B, A, None, 46), now, |i, _| {
            out.push(i)
        })
        .unwrap();
        assert!(out.is_empty(), "{out:?}");
    }
}

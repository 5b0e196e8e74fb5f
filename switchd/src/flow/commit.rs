//! Turning an edited flow key back into the bytes that leave: the frame
//! as received has key `base` (from `flow::extract`); the actions have
//! changed a copy of it into `cur`; [`plan`] says what it takes to make
//! the frame match `cur`, [`rewrite`] does it.
//!
//! Why this way (OVS's `commit_odp_actions`): actions only write the key,
//! which is cheap and lets `resubmit` see the edited packet; the frame is
//! touched once, at output, from the difference of the two keys. Most
//! outputs need nothing ([`Plan::Same`]) or only a VLAN change, which the
//! egress path already applies as a zero-copy [`Edit`] ([`Plan::Vlan`]).
//! Anything else is copied into a scratch buffer with every differing field
//! written ([`Plan::Rewrite`]).
//!
//! Checksums follow each write, never recomputed over the payload:
//! - the IPv4 header checksum and complete L4 checksums are updated
//!   incrementally (RFC 1624 eqn. 3, `HC' = ~(~HC + ~m + m')`), over the
//!   16-bit words that changed; TCP, UDP and ICMPv6 count the addresses of
//!   their pseudo-header, ICMPv4 does not. A UDP/IPv4 checksum of 0 ("none")
//!   stays 0, and a UDP result of 0 is sent as 0xffff (RFC 768);
//! - a partially checksummed frame (virtio-net `F_NEEDS_CSUM`, which every
//!   GSO super-frame is) holds in its L4 checksum field only the folded
//!   pseudo-header sum, and the rest is summed later (by
//!   [`crate::offload`] or a NIC): an address change adds `new - old` to
//!   that field with no complement steps, and changes inside the L4 header
//!   (ports, ICMP type) touch nothing, as Linux's
//!   `inet_proto_csum_replace4` does for `CHECKSUM_PARTIAL`;
//! - SCTP's CRC32c has no cheap incremental form: on a port change it is
//!   computed over the packet before and after, and the stored value is XORed with
//!   both (OVS's `packet_set_sctp_port`), so a correct CRC stays correct and
//!   a wrong one stays wrong rather than being "repaired" by the switch.
//!
//! Where OVS leaves a field alone, so does this: the ports of a later IP
//! fragment (no L4 header in it), the L4 checksum of a packet cut before it,
//! the pseudo-header of an IPv6 packet whose routing header has segments
//! left (the checksum uses the final destination, not the one rewritten).
//!
//! The key has one VLAN tag and no TPID (OVS's default `vlan-limit=1`), so
//! only the outer tag is pushed, popped or changed; a pushed tag is 802.1Q
//! (0x8100, also for `push_vlan:0x88a8`, until the key has a TPID), a
//! changed one keeps the frame's TPID (0x8100 or 0x88a8); the inner tag of
//! a QinQ frame is payload.
//!
//! Cost: no allocation; a [`Plan::Same`] costs one pass over the key's
//! words; a rewrite is one copy of the frame plus a few header writes.

use thiserror::Error;

use super::key::{Field, FlowKey, KEY_WORDS, VLAN_CFI};
use crate::batch::{Edit, HEADROOM};
use crate::wire::vnet::VnetHdr;
use crate::wire::{is_tpid, ETH_HEADER_LEN, TPID_8021Q, VLAN_TAG_LEN};

/// What it takes to turn a frame with key `base` into one with key `cur`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// No field the frame carries differs: send it as it is.
    Same,
    /// Only the VLAN tag differs: send the frame through this edit (and its
    /// virtio-net header through [`VnetHdr::for_edit`]).
    Vlan(Edit),
    /// Other fields differ: [`rewrite`] the frame into a buffer.
    Rewrite,
}

/// Why a frame could not be rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RewriteError {
    /// The frame ends inside a header whose fields the key says it has.
    #[error("frame of {len} bytes is too short for its {header} header, which the key says is there")]
    Truncated {
        /// The header that is cut.
        header: &'static str,
        /// Length of the frame.
        len: usize,
    },
    /// The frame is not what its key says (a `base` that is not the frame's).
    #[error("frame does not match its flow key: {0}")]
    Mismatch(&'static str),
    /// The output buffer cannot hold the rewritten frame.
    #[error("output buffer of {have} bytes is too small: the rewritten frame needs {need}")]
    BufferTooSmall {
        /// Bytes needed (headroom included).
        need: usize,
        /// Bytes given.
        have: usize,
    },
    /// A field differs that this frame has no place for (an L4 port of a
    /// frame without TCP/UDP/SCTP, an IPv6 address of an IPv4 frame, ...)
    /// or that is not settable (`dl_type`, `nw_proto`, `tcp_flags`).
    #[error("cannot write {} into this frame: it has no such field, or the field is not settable", .0.name())]
    Unwritable(Field),
    /// The virtio-net header's checksum offsets do not fit the frame.
    #[error("virtio-net header does not match the frame: {0}")]
    Offload(&'static str),
    /// A change that cannot be made correctly.
    #[error("cannot rewrite {0}")]
    Unsupported(&'static str),
}

/// Bits of a key, one mask per word.
type Mask = [u64; KEY_WORDS];

/// The bits of `fields`.
const fn mask_of(fields: &[Field]) -> Mask {
    let mut m = [0u64; KEY_WORDS];
    let mut i = 0;
    while i < fields.len() {
        let p = fields[i].place();
        let w = p.word as usize;
        if p.bits == 128 {
            m[w] = u64::MAX;
            m[w + 1] = u64::MAX;
        } else if p.bits == 64 {
            m[w] = u64::MAX;
        } else {
            m[w] |= ((1u64 << p.bits) - 1) << p.shift;
        }
        i += 1;
    }
    m
}

/// Fields no frame carries: where it came from and pipeline state.
const NOT_IN_FRAME: Mask = mask_of(&[
    Field::InPort,
    Field::TunId,
    Field::Metadata,
    Field::Reg0,
    Field::Reg1,
    Field::Reg2,
    Field::Reg3,
    Field::Reg4,
    Field::Reg5,
    Field::Reg6,
    Field::Reg7,
]);
const VLAN: Mask = mask_of(&[Field::VlanTci]);
/// What the Ethernet header step writes (or ignores) for every frame.
const L2: Mask = mask_of(&[
    Field::InPort,
    Field::TunId,
    Field::Metadata,
    Field::Reg0,
    Field::Reg1,
    Field::Reg2,
    Field::Reg3,
    Field::Reg4,
    Field::Reg5,
    Field::Reg6,
    Field::Reg7,
    Field::DlDst,
    Field::DlSrc,
    Field::VlanTci,
]);
const IPV4: Mask = mask_of(&[Field::NwSrc, Field::NwDst, Field::NwTos, Field::NwTtl]);
const IPV6: Mask = mask_of(&[
    Field::Ipv6Src,
    Field::Ipv6Dst,
    Field::NwTos,
    Field::NwTtl,
    Field::Ipv6Label,
]);
const PORTS: Mask = mask_of(&[Field::TpSrc, Field::TpDst]);
/// ICMP and ICMPv6 type and code (the low 8 bits of `tp_src`/`tp_dst`).
const ICMP: Mask = mask_of(&[Field::IcmpType, Field::IcmpCode]);
const ND_TARGET: Mask = mask_of(&[Field::NdTarget]);
const ND_SLL: Mask = mask_of(&[Field::ArpSha]);
const ND_TLL: Mask = mask_of(&[Field::ArpTha]);
const ARP: Mask = mask_of(&[
    Field::ArpOp,
    Field::ArpSpa,
    Field::ArpTpa,
    Field::ArpSha,
    Field::ArpTha,
]);

const ETH_TYPE_MIN: u16 = 0x0600;
/// `dl_type` of a frame without an ethertype (as `flow::extract`).
const DL_TYPE_NONE: u16 = 0x05ff;
const ETH_TYPE_IPV4: u16 = 0x0800;
const ETH_TYPE_IPV6: u16 = 0x86dd;
const ETH_TYPE_ARP: u16 = 0x0806;
const ETH_TYPE_RARP: u16 = 0x8035;

const IPPROTO_ICMP: u8 = 1;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ICMPV6: u8 = 58;
const IPPROTO_SCTP: u8 = 132;
const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_ROUTING: u8 = 43;
const IPPROTO_FRAGMENT: u8 = 44;
const IPPROTO_AH: u8 = 51;
const IPPROTO_DSTOPTS: u8 = 60;

const ND_NEIGHBOR_SOLICIT: u128 = 135;
const ND_NEIGHBOR_ADVERT: u128 = 136;
const ND_OPT_SOURCE_LINKADDR: u8 = 1;
const ND_OPT_TARGET_LINKADDR: u8 = 2;

fn tagged(tci: u16) -> bool {
    tci & VLAN_CFI != 0
}

/// What it takes to turn `frame`, whose key is `base`, into a frame with
/// key `cur`. Cheap: a pass over the key's words, and for a VLAN change
/// the frame's TPID.
///
/// - [`Plan::Same`] when no field the frame carries differs (registers,
///   metadata, `tun_id` and `in_port` are not in the frame; a `vlan_tci`
///   without [`VLAN_CFI`] means "untagged" whatever its other bits);
/// - [`Plan::Vlan`] when only the tag differs: see [`apply_vlan`]. The
///   edit is safe for [`Edit::pieces`] on `frame`;
/// - [`Plan::Rewrite`] for anything else, and for a `base` that says
///   "tagged" of a frame without a tag (then [`rewrite`] reports it).
///
/// `frame` is needed because the key has no TPID: changing the tag of an
/// 802.1ad frame must keep 0x88a8, and only the frame knows it (and
/// whether a tag the key announces is really there to be stripped).
pub fn plan(frame: &[u8], base: &FlowKey, cur: &FlowKey) -> Plan {
    let mut vlan = false;
    for ((b, c), (meta, v)) in base.0.iter().zip(&cur.0).zip(NOT_IN_FRAME.iter().zip(&VLAN)) {
        let d = (b ^ c) & !meta;
        if d & !v != 0 {
            return Plan::Rewrite;
        }
        vlan |= d != 0;
    }
    if !vlan {
        return Plan::Same;
    }
    let tpid = frame.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let fits = if tagged(base.vlan_tci()) {
        frame.len() >= ETH_HEADER_LEN + VLAN_TAG_LEN && tpid.is_some_and(is_tpid)
    } else {
        frame.len() >= ETH_HEADER_LEN
    };
    if !fits {
        return Plan::Rewrite;
    }
    match apply_vlan(base.vlan_tci(), cur.vlan_tci(), tpid.unwrap_or(TPID_8021Q)) {
        e if e == Edit::KEEP => Plan::Same,
        e => Plan::Vlan(e),
    }
}

/// The edit that turns a frame whose tag is `base_tci` into one whose tag
/// is `cur_tci` (both as in the key: [`VLAN_CFI`] set means tagged):
/// untagged → tagged pushes `[0x81, 0x00, TCI]`, tagged → untagged pops,
/// a different tag is replaced keeping `frame_tpid` (the TPID of the
/// frame's tag; unused otherwise). The TCI written is `cur_tci` without
/// [`VLAN_CFI`] (which on the wire is DEI, cleared as Linux's `push_vlan`
/// does). Equal tags keep the frame's tag byte for byte.
pub fn apply_vlan(base_tci: u16, cur_tci: u16, frame_tpid: u16) -> Edit {
    let tag = |tpid: u16| {
        let [t0, t1] = tpid.to_be_bytes();
        let [c0, c1] = (cur_tci & !VLAN_CFI).to_be_bytes();
        [t0, t1, c0, c1]
    };
    match (tagged(base_tci), tagged(cur_tci)) {
        (false, false) => Edit::KEEP,
        (false, true) => Edit::push(tag(TPID_8021Q)),
        (true, false) => Edit::POP,
        (true, true) if base_tci == cur_tci => Edit::KEEP,
        (true, true) => Edit::retag(tag(frame_tpid)),
    }
}

/// Writes the frame for `cur` into `out`: `frame` (with key `base` and
/// virtio-net header `vnet`) with every differing field written and its
/// checksums kept right (see the module documentation). The frame is put
/// at offset [`HEADROOM`] of `out`, as a received frame lies in an
/// [`RxBatch`](crate::batch::RxBatch) slot, so `out` needs
/// `HEADROOM + frame.len() + 4` bytes at most.
///
/// Returns where the new frame lies in `out` (start, length) and its
/// virtio-net header (`csum_start`/`hdr_len` moved by a pushed or popped
/// tag, see [`VnetHdr::for_edit`]).
///
/// # Errors
/// [`RewriteError`]: the frame does not hold a header the key says it has,
/// a differing field has no place in the frame, the virtio-net header's
/// offsets do not fit, or `out` is too small. Nothing is half-done that
/// matters: `out` is scratch until `Ok`.
pub fn rewrite(
    frame: &[u8],
    vnet: &VnetHdr,
    base: &FlowKey,
    cur: &FlowKey,
    out: &mut [u8],
) -> Result<(usize, usize, VnetHdr), RewriteError> {
    let was_tagged = tagged(base.vlan_tci());
    let min = ETH_HEADER_LEN + if was_tagged { VLAN_TAG_LEN } else { 0 };
    if frame.len() < min {
        return Err(RewriteError::Truncated {
            header: if was_tagged { "802.1Q" } else { "Ethernet" },
            len: frame.len(),
        });
    }
    let tpid = be16(frame, 12);
    if was_tagged && !is_tpid(tpid) {
        return Err(RewriteError::Mismatch(
            "the key has a VLAN tag, the frame has none",
        ));
    }

    // L2: copy the frame through its VLAN edit, then the addresses.
    let edit = apply_vlan(base.vlan_tci(), cur.vlan_tci(), tpid);
    let len = edit.out_len(frame.len());
    let need = HEADROOM + len;
    if out.len() < need {
        return Err(RewriteError::BufferTooSmall {
            need,
            have: out.len(),
        });
    }
    let o = &mut out[HEADROOM..need];
    let (macs, tag, rest) = edit.pieces(frame);
    o[..12].copy_from_slice(macs);
    let mut at = 12;
    if let Some(tag) = tag {
        o[12..16].copy_from_slice(tag);
        at = 16;
    }
    o[at..].copy_from_slice(rest);
    o[0..6].copy_from_slice(&mac(cur.get(Field::DlDst)));
    o[6..12].copy_from_slice(&mac(cur.get(Field::DlSrc)));
    let vnet_out = vnet.for_edit(&edit);

    let mut cx = Cx {
        base,
        cur,
        handled: L2,
    };
    let diff = xor(base, cur);
    if outside(&diff, &L2) {
        let out_tagged = edit.insert.is_some() || (was_tagged && !edit.strip);
        let (l3, dl_type) = network(o, if out_tagged { 16 } else { 12 });
        if dl_type != base.dl_type() {
            return Err(RewriteError::Mismatch("the ethertype is not the key's dl_type"));
        }
        match dl_type {
            ETH_TYPE_IPV4 => ipv4(o, l3, &mut cx, &vnet_out)?,
            ETH_TYPE_IPV6 => ipv6(o, l3, &mut cx, &vnet_out)?,
            ETH_TYPE_ARP | ETH_TYPE_RARP => arp(o, l3, &mut cx)?,
            _ => {}
        }
    }
    // Whatever differs and was not written has no place in this frame.
    if outside(&diff, &cx.handled) {
        return Err(RewriteError::Unwritable(first_field(&diff, &cx.handled)));
    }
    Ok((HEADROOM, len, vnet_out))
}

/// The two keys and what of their difference has been dealt with.
struct Cx<'a> {
    base: &'a FlowKey,
    cur: &'a FlowKey,
    /// Bits written (or deliberately left, as OVS does) so far.
    handled: Mask,
}

impl Cx<'_> {
    fn changed(&self, f: Field) -> bool {
        self.base.get(f) != self.cur.get(f)
    }

    /// The value `f` is to have.
    fn to(&self, f: Field) -> u128 {
        self.cur.get(f)
    }

    fn handle(&mut self, m: &Mask) {
        for (h, m) in self.handled.iter_mut().zip(m) {
            *h |= m;
        }
    }
}

fn xor(a: &FlowKey, b: &FlowKey) -> Mask {
    let mut m = [0u64; KEY_WORDS];
    for (m, (a, b)) in m.iter_mut().zip(a.0.iter().zip(&b.0)) {
        *m = a ^ b;
    }
    m
}

/// Whether `diff` has bits outside `except`.
fn outside(diff: &Mask, except: &Mask) -> bool {
    diff.iter().zip(except).any(|(d, e)| d & !e != 0)
}

/// The first field (registry order) with a bit of `diff` outside `except`.
fn first_field(diff: &Mask, except: &Mask) -> Field {
    Field::ALL
        .iter()
        .copied()
        .find(|f| {
            let m = mask_of(&[*f]);
            (0..KEY_WORDS).any(|i| diff[i] & !except[i] & m[i] != 0)
        })
        .unwrap_or(Field::DlType)
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// A 48-bit key value as MAC bytes.
fn mac(v: u128) -> [u8; 6] {
    let b = (v as u64).to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// Where the network header starts after the ethertype at `et_at`, and the
/// `dl_type` that names it (an 802.3 frame's LLC/SNAP ethertype, as
/// `flow::extract` reads it).
fn network(o: &[u8], et_at: usize) -> (usize, u16) {
    let et = be16(o, et_at);
    if et >= ETH_TYPE_MIN {
        return (et_at + 2, et);
    }
    match o.get(et_at + 2..et_at + 10) {
        Some(&[0xaa, 0xaa, 0x03, 0, 0, 0, t0, t1]) if u16::from_be_bytes([t0, t1]) >= ETH_TYPE_MIN => {
            (et_at + 10, u16::from_be_bytes([t0, t1]))
        }
        _ => (et_at + 2, DL_TYPE_NONE),
    }
}

/// A change to 16-bit words under a one's-complement checksum: the sum of
/// `~old + new` over the words replaced (RFC 1624), kept below 2^17 by an
/// end-around carry after each word.
#[derive(Debug, Clone, Copy, Default)]
struct Delta(u32);

impl Delta {
    fn word(&mut self, old: u16, new: u16) {
        if old != new {
            let s = self.0 + u32::from(!old) + u32::from(new);
            self.0 = (s & 0xffff) + (s >> 16);
        }
    }

    fn add(&mut self, other: Delta) {
        let s = self.0 + other.0;
        self.0 = (s & 0xffff) + (s >> 16);
    }

    fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// RFC 1624 eqn. 3 on a complete checksum: `~(~HC + Δ)`. Never gives
    /// 0xffff from a checksum a sender computed, so the result equals a full
    /// recomputation bit for bit.
    fn complete(self, hc: u16) -> u16 {
        !fold(u32::from(!hc) + self.0)
    }

    /// The same change on a partial checksum (the field holds the folded
    /// pseudo-header sum, not its complement): `sum + Δ`, no complements.
    fn partial(self, sum: u16) -> u16 {
        fold(u32::from(sum) + self.0)
    }
}

fn fold(mut x: u32) -> u16 {
    while x > 0xffff {
        x = (x & 0xffff) + (x >> 16);
    }
    x as u16
}

/// Writes `new` at `at` and returns the checksum change. `at` is an even
/// distance from the start of what the checksum covers and `new` has an
/// even length (true of every field written here), so the bytes replaced
/// are whole 16-bit words of the sum. The caller checks the bounds.
fn replace(o: &mut [u8], at: usize, new: &[u8]) -> Delta {
    let mut d = Delta::default();
    for (i, w) in new.chunks_exact(2).enumerate() {
        d.word(be16(o, at + 2 * i), u16::from_be_bytes([w[0], w[1]]));
    }
    o[at..at + new.len()].copy_from_slice(new);
    d
}

/// The transport header: where it lies and what the IP layer knows of it.
struct L4 {
    start: usize,
    /// End of the IP payload (Ethernet padding excluded).
    end: usize,
    proto: u8,
    v6: bool,
    /// One piece of a fragmented datagram (the first: later ones have no
    /// L4 header and never get here).
    fragment: bool,
}

fn ipv4(o: &mut [u8], l3: usize, cx: &mut Cx, vnet: &VnetHdr) -> Result<(), RewriteError> {
    let len = o.len();
    let Some(h) = o.get(l3..l3 + 20) else {
        return Err(RewriteError::Truncated { header: "IPv4", len });
    };
    // The checks of `extract`: a header it would not read is not written.
    let ihl = usize::from(h[0] & 0x0f) * 4;
    let tot = usize::from(be16(h, 2));
    if ihl < 20 || tot < ihl || l3 + tot > len {
        return Err(RewriteError::Mismatch(
            "the IPv4 header length or total length does not fit the frame",
        ));
    }
    let (proto, frag) = (h[9], be16(h, 6));
    if proto != cx.base.nw_proto() {
        return Err(RewriteError::Mismatch(
            "the IPv4 protocol is not the key's nw_proto",
        ));
    }
    cx.handle(&IPV4);
    let (mut ip, mut pseudo) = (Delta::default(), Delta::default());
    if cx.changed(Field::NwTos) {
        // TOS is the low byte of the header's first word.
        let w = [o[l3], cx.to(Field::NwTos) as u8];
        ip.add(replace(o, l3, &w));
    }
    if cx.changed(Field::NwTtl) {
        let w = [cx.to(Field::NwTtl) as u8, proto];
        ip.add(replace(o, l3 + 8, &w));
    }
    for (f, at) in [(Field::NwSrc, l3 + 12), (Field::NwDst, l3 + 16)] {
        if cx.changed(f) {
            let d = replace(o, at, &(cx.to(f) as u32).to_be_bytes());
            ip.add(d);
            pseudo.add(d);
        }
    }
    if !ip.is_empty() {
        // Always complete, also in a partially checksummed frame.
        let hc = be16(o, l3 + 10);
        put16(o, l3 + 10, ip.complete(hc));
    }
    if frag & 0x1fff != 0 {
        // A later fragment has no L4 header: L4 edits do not apply (OVS).
        cx.handle(&PORTS);
        return Ok(());
    }
    let l4 = L4 {
        start: l3 + ihl,
        end: l3 + tot,
        proto,
        v6: false,
        fragment: frag & 0x2000 != 0,
    };
    transport(o, &l4, pseudo, cx, vnet)
}

/// The upper-layer header of an IPv6 packet, after its extension headers.
struct Upper {
    proto: u8,
    start: usize,
    /// A fragment other than the first: no upper-layer header.
    later: bool,
    /// Part of a fragmented datagram.
    fragment: bool,
    /// A routing header with segments left: the L4 pseudo-header has the
    /// final destination, not the one in the IPv6 header.
    routed: bool,
}

/// Walks the extension headers as `extract` does (hop-by-hop, routing,
/// destination options, AH, fragment). `None` when one is cut.
fn ipv6_upper(o: &[u8], mut proto: u8, mut at: usize, end: usize) -> Option<Upper> {
    let (mut fragment, mut routed) = (false, false);
    loop {
        if !matches!(
            proto,
            IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS | IPPROTO_AH | IPPROTO_FRAGMENT
        ) {
            return Some(Upper {
                proto,
                start: at,
                later: false,
                fragment,
                routed,
            });
        }
        let h = o.get(at..at + 8).filter(|_| at + 8 <= end)?;
        let (hlen, offlg) = match proto {
            IPPROTO_AH => ((usize::from(h[1]) + 2) * 4, 0),
            IPPROTO_FRAGMENT => (8, be16(h, 2)),
            _ => ((usize::from(h[1]) + 1) * 8, 0),
        };
        if proto == IPPROTO_ROUTING && h[3] != 0 {
            routed = true;
        }
        // Offset or M bit: in pieces (an atomic fragment is whole).
        fragment |= offlg & 0xfff9 != 0;
        proto = h[0];
        at += hlen;
        if at > end {
            return None;
        }
        if offlg & 0xfff8 != 0 {
            return Some(Upper {
                proto: IPPROTO_FRAGMENT,
                start: at,
                later: true,
                fragment,
                routed,
            });
        }
    }
}

fn ipv6(o: &mut [u8], l3: usize, cx: &mut Cx, vnet: &VnetHdr) -> Result<(), RewriteError> {
    let len = o.len();
    let Some(h) = o.get(l3..l3 + 40) else {
        return Err(RewriteError::Truncated { header: "IPv6", len });
    };
    let end = l3 + 40 + usize::from(be16(h, 4));
    if end > len {
        return Err(RewriteError::Mismatch(
            "the IPv6 payload length does not fit the frame",
        ));
    }
    let next = h[6];
    cx.handle(&IPV6);
    // No IPv6 header checksum: version/class/label and hop limit are plain writes.
    if cx.changed(Field::NwTos) || cx.changed(Field::Ipv6Label) {
        let w = u32::from_be_bytes([o[l3], o[l3 + 1], o[l3 + 2], o[l3 + 3]]);
        let w = (w & 0xf000_0000) | (cx.to(Field::NwTos) as u32) << 20 | cx.to(Field::Ipv6Label) as u32;
        o[l3..l3 + 4].copy_from_slice(&w.to_be_bytes());
    }
    if cx.changed(Field::NwTtl) {
        o[l3 + 7] = cx.to(Field::NwTtl) as u8;
    }
    let upper = ipv6_upper(o, next, l3 + 40, end);
    let routed = upper.as_ref().is_some_and(|u| u.routed);
    let mut pseudo = Delta::default();
    if cx.changed(Field::Ipv6Src) {
        pseudo.add(replace(o, l3 + 8, &cx.to(Field::Ipv6Src).to_be_bytes()));
    }
    if cx.changed(Field::Ipv6Dst) {
        let d = replace(o, l3 + 24, &cx.to(Field::Ipv6Dst).to_be_bytes());
        if !routed {
            pseudo.add(d);
        }
    }
    // A cut extension header: the key has no protocol or L4 fields either.
    let Some(u) = upper else {
        return Ok(());
    };
    if u.proto != cx.base.nw_proto() {
        return Err(RewriteError::Mismatch(
            "the IPv6 upper-layer protocol is not the key's nw_proto",
        ));
    }
    if u.later {
        cx.handle(&PORTS);
        return Ok(());
    }
    let l4 = L4 {
        start: u.start,
        end,
        proto: u.proto,
        v6: true,
        fragment: u.fragment,
    };
    transport(o, &l4, pseudo, cx, vnet)
}

/// The L4 fields, then the L4 checksum once for every change (the
/// pseudo-header's from the IP layer, `pseudo`, and this layer's own).
fn transport(o: &mut [u8], l4: &L4, pseudo: Delta, cx: &mut Cx, vnet: &VnetHdr) -> Result<(), RewriteError> {
    // (checksum offset, header length extract requires, name, pseudo-header?)
    let (csum_at, min, name, has_pseudo) = match (l4.proto, l4.v6) {
        (IPPROTO_TCP, _) => (16, 20, "TCP", true),
        (IPPROTO_UDP, _) => (6, 8, "UDP", true),
        (IPPROTO_SCTP, _) => return sctp(o, l4, cx, vnet),
        (IPPROTO_ICMP, false) => (2, 8, "ICMP", false),
        (IPPROTO_ICMPV6, true) => (2, 8, "ICMPv6", true),
        _ => return Ok(()),
    };
    let short = l4.end - l4.start < min;
    let truncated = RewriteError::Truncated {
        header: name,
        len: o.len(),
    };
    let mut inner = Delta::default();
    if matches!(l4.proto, IPPROTO_ICMP | IPPROTO_ICMPV6) {
        cx.handle(&ICMP);
        if cx.changed(Field::IcmpType) || cx.changed(Field::IcmpCode) {
            if short {
                return Err(truncated);
            }
            let w = [cx.to(Field::IcmpType) as u8, cx.to(Field::IcmpCode) as u8];
            inner.add(replace(o, l4.start, &w));
        }
        let nd = matches!(
            cx.base.get(Field::Icmpv6Type),
            ND_NEIGHBOR_SOLICIT | ND_NEIGHBOR_ADVERT
        ) && cx.base.get(Field::Icmpv6Code) == 0;
        if l4.v6 && nd {
            inner.add(nd_fields(o, l4, cx)?);
        }
    } else {
        cx.handle(&PORTS);
        if cx.changed(Field::TpSrc) || cx.changed(Field::TpDst) {
            if short {
                return Err(truncated);
            }
            let (s, d) = (cx.to(Field::TpSrc) as u16, cx.to(Field::TpDst) as u16);
            let [s0, s1] = s.to_be_bytes();
            let [d0, d1] = d.to_be_bytes();
            inner.add(replace(o, l4.start, &[s0, s1, d0, d1]));
        }
    }
    let pseudo = if has_pseudo { pseudo } else { Delta::default() };
    if pseudo.is_empty() && inner.is_empty() {
        return Ok(());
    }
    let at = l4.start + csum_at;
    if at + 2 > l4.end {
        // Cut before its checksum (only an address change gets here, the
        // L4 fields needed the whole header): nothing to keep right (OVS).
        return Ok(());
    }
    let partial = if vnet.needs_csum() {
        let start = usize::from(vnet.csum_start);
        if start == l4.start && usize::from(vnet.csum_offset) != csum_at {
            return Err(RewriteError::Offload(
                "csum_offset is not the L4 header's checksum field",
            ));
        }
        if start < l4.start {
            return Err(RewriteError::Offload("csum_start lies before the L4 header"));
        }
        // Beyond it: an inner (tunnelled) checksum is partial; ours is complete.
        start == l4.start
    } else {
        false
    };
    let udp = l4.proto == IPPROTO_UDP;
    let field = be16(o, at);
    let new = if partial {
        // Only the pseudo-header is in the field yet; the rest is summed later.
        pseudo.partial(field)
    } else if udp && !l4.v6 && field == 0 {
        0 // UDP/IPv4 without a checksum stays without
    } else {
        let mut all = pseudo;
        all.add(inner);
        match all.complete(field) {
            0 if udp => 0xffff, // 0 would mean "no checksum"
            c => c,
        }
    };
    put16(o, at, new);
    Ok(())
}

/// ND's target and link-layer address options (`arp_sha`/`arp_tha` in the
/// key, as OVS overlays `nd_sll`/`nd_tll`): the first option of each kind
/// is the one `extract` reads and the one written.
fn nd_fields(o: &mut [u8], l4: &L4, cx: &mut Cx) -> Result<Delta, RewriteError> {
    let mut d = Delta::default();
    let target = l4.start + 8;
    cx.handle(&ND_TARGET);
    if cx.changed(Field::NdTarget) {
        if target + 16 > l4.end {
            return Err(RewriteError::Truncated {
                header: "ND",
                len: o.len(),
            });
        }
        d.add(replace(o, target, &cx.to(Field::NdTarget).to_be_bytes()));
    }
    let (mut sll, mut tll) = (false, false);
    let mut at = target + 16;
    while at + 8 <= l4.end {
        let opt_len = usize::from(o[at + 1]) * 8;
        if opt_len == 0 || at + opt_len > l4.end {
            break;
        }
        let (seen, field, mask) = match (o[at], opt_len) {
            (ND_OPT_SOURCE_LINKADDR, 8) => (&mut sll, Field::ArpSha, &ND_SLL),
            (ND_OPT_TARGET_LINKADDR, 8) => (&mut tll, Field::ArpTha, &ND_TLL),
            _ => {
                at += opt_len;
                continue;
            }
        };
        if !*seen {
            *seen = true;
            cx.handle(mask);
            if cx.changed(field) {
                // 2 bytes into an option at an 8-byte boundary: whole words.
                d.add(replace(o, at + 2, &mac(cx.to(field))));
            }
        }
        at += opt_len;
    }
    Ok(d)
}

/// SCTP ports, and the CRC32c over the packet (RFC 4960 appendix B) by
/// XOR of the CRCs before and after (see the module documentation).
fn sctp(o: &mut [u8], l4: &L4, cx: &mut Cx, vnet: &VnetHdr) -> Result<(), RewriteError> {
    cx.handle(&PORTS);
    if !cx.changed(Field::TpSrc) && !cx.changed(Field::TpDst) {
        return Ok(());
    }
    if l4.end - l4.start < 12 {
        return Err(RewriteError::Truncated {
            header: "SCTP",
            len: o.len(),
        });
    }
    let mut ports = [0u8; 4];
    ports[..2].copy_from_slice(&(cx.to(Field::TpSrc) as u16).to_be_bytes());
    ports[2..].copy_from_slice(&(cx.to(Field::TpDst) as u16).to_be_bytes());
    if vnet.needs_csum() && usize::from(vnet.csum_start) == l4.start {
        // The CRC is still to be computed, over the bytes as they leave.
        o[l4.start..l4.start + 4].copy_from_slice(&ports);
        return Ok(());
    }
    if l4.fragment {
        return Err(RewriteError::Unsupported(
            "the SCTP ports of a fragmented datagram: its CRC32c covers bytes in other fragments",
        ));
    }
    let field = l4.start + 8;
    let stored = [o[field], o[field + 1], o[field + 2], o[field + 3]];
    o[field..field + 4].fill(0);
    let before = crc32c(&o[l4.start..l4.end]);
    o[l4.start..l4.start + 4].copy_from_slice(&ports);
    let after = crc32c(&o[l4.start..l4.end]);
    // Stored little-endian (Linux's `sctp_compute_cksum` gives an __le32).
    let crc = u32::from_le_bytes(stored) ^ before ^ after;
    o[field..field + 4].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// CRC32c (Castagnoli, reflected polynomial 0x82f63b78), one table lookup
/// per byte: SCTP is rare enough that a slicing-by-8 or SSE4.2 version is
/// not worth its code here.
fn crc32c(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0x82f6_3b78
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    !data.iter().fold(!0u32, |c, &b| {
        TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

fn arp(o: &mut [u8], l3: usize, cx: &mut Cx) -> Result<(), RewriteError> {
    let len = o.len();
    let Some(h) = o.get(l3..l3 + 28) else {
        return Err(RewriteError::Truncated { header: "ARP", len });
    };
    if be16(h, 0) != 1 || be16(h, 2) != ETH_TYPE_IPV4 || h[4] != 6 || h[5] != 4 {
        return Err(RewriteError::Mismatch("not an Ethernet/IPv4 ARP packet"));
    }
    cx.handle(&ARP);
    // No checksum: plain writes.
    if cx.changed(Field::ArpOp) {
        put16(o, l3 + 6, cx.to(Field::ArpOp) as u16);
    }
    if cx.changed(Field::ArpSha) {
        o[l3 + 8..l3 + 14].copy_from_slice(&mac(cx.to(Field::ArpSha)));
    }
    if cx.changed(Field::ArpSpa) {
        o[l3 + 14..l3 + 18].copy_from_slice(&(cx.to(Field::ArpSpa) as u32).to_be_bytes());
    }
    if cx.changed(Field::ArpTha) {
        o[l3 + 18..l3 + 24].copy_from_slice(&mac(cx.to(Field::ArpTha)));
    }
    if cx.changed(Field::ArpTpa) {
        o[l3 + 24..l3 + 28].copy_from_slice(&(cx.to(Field::ArpTpa) as u32).to_be_bytes());
    }
    Ok(())
}


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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::RxBatch;
    use crate::offload;
    use crate::wire::vnet::{F_NEEDS_CSUM, GSO_TCPV4};
    use etherparse::{
        ArpHardwareId, ArpOperation, ArpPacket, EtherType, LinkExtSlice, LinkSlice, NetSlice, PacketBuilder,
        SlicedPacket, TransportSlice,
    };
    use proptest::prelude::*;

    const SRC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
    const DST: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
    const A4: [u8; 4] = [10, 0, 0, 1];
    const B4: [u8; 4] = [10, 0, 0, 2];
    const A6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const B6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    const TARGET: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Kind {
        Tcp4,
        Udp4,
        /// UDP/IPv4 with checksum 0 ("none").
        Udp4NoCsum,
        Icmp4,
        Sctp4,
        Tcp6,
        Udp6,
        Sctp6,
        Icmp6,
        /// A neighbour solicitation with source and target link-layer options.
        Nd6,
        Arp,
        /// LLDP: an ethertype switchd knows nothing beyond.
        Lldp,
    }

    const KINDS: [Kind; 12] = [
        Kind::Tcp4,
        Kind::Udp4,
        Kind::Udp4NoCsum,
        Kind::Icmp4,
        Kind::Sctp4,
        Kind::Tcp6,
        Kind::Udp6,
        Kind::Sctp6,
        Kind::Icmp6,
        Kind::Nd6,
        Kind::Arp,
        Kind::Lldp,
    ];

    /// The fields an action can change in a frame of `kind`.
    fn fields(kind: Kind) -> &'static [Field] {
        use Field as F;
        match kind {
            Kind::Tcp4 | Kind::Udp4 | Kind::Udp4NoCsum | Kind::Sctp4 => &[
                F::DlSrc,
                F::DlDst,
                F::NwSrc,
                F::NwDst,
                F::NwTos,
                F::NwTtl,
                F::TpSrc,
                F::TpDst,
            ],
            Kind::Icmp4 => &[
                F::DlSrc,
                F::DlDst,
                F::NwSrc,
                F::NwDst,
                F::NwTos,
                F::NwTtl,
                F::IcmpType,
                F::IcmpCode,
            ],
            Kind::Tcp6 | Kind::Udp6 | Kind::Sctp6 => &[
                F::DlSrc,
                F::DlDst,
                F::Ipv6Src,
                F::Ipv6Dst,
                F::NwTos,
                F::NwTtl,
                F::Ipv6Label,
                F::TpSrc,
                F::TpDst,
            ],
            Kind::Icmp6 => &[
                F::DlSrc,
                F::DlDst,
                F::Ipv6Src,
                F::Ipv6Dst,
                F::NwTos,
                F::NwTtl,
                F::Ipv6Label,
                F::Icmpv6Type,
                F::Icmpv6Code,
            ],
            Kind::Nd6 => &[
                F::DlSrc,
                F::DlDst,
                F::Ipv6Src,
                F::Ipv6Dst,
                F::NwTos,
                F::NwTtl,
                F::Ipv6Label,
                F::NdTarget,
                F::ArpSha,
                F::ArpTha,
            ],
            Kind::Arp => &[
                F::DlSrc,
                F::DlDst,
                F::ArpOp,
                F::ArpSpa,
                F::ArpTpa,
                F::ArpSha,
                F::ArpTha,
            ],
            Kind::Lldp => &[F::DlSrc, F::DlDst],
        }
    }

    /// A value for `field` that keeps the test's re-parse meaningful:
    /// etherparse wants an ICMP timestamp (13/14) to be exactly 20 bytes,
    /// and an ICMPv6 type 135/136 would make an echo an ND message.
    fn sane(field: Field, v: u128) -> u128 {
        let v = v & field.max();
        match (field, v) {
            (Field::IcmpType, 13 | 14) => 8,
            (Field::Icmpv6Type, 135 | 136) => 128,
            _ => v,
        }
    }

    fn is_v6(kind: Kind) -> bool {
        matches!(
            kind,
            Kind::Tcp6 | Kind::Udp6 | Kind::Sctp6 | Kind::Icmp6 | Kind::Nd6
        )
    }

    /// One's-complement sum (RFC 1071), not folded: the test's own full
    /// recomputation, independent of the incremental code.
    fn sum(data: &[u8], mut acc: u32) -> u32 {
        let mut chunks = data.chunks_exact(2);
        for c in &mut chunks {
            acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = chunks.remainder() {
            acc += u32::from(*last) << 8;
        }
        acc
    }

    fn fix_ipv4_checksum(f: &mut [u8], l3: usize) {
        f[l3 + 10..l3 + 12].fill(0);
        let ihl = usize::from(f[l3] & 0x0f) * 4;
        let c = !fold(sum(&f[l3..l3 + ihl], 0));
        f[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
    }

    fn fix_sctp_crc(f: &mut [u8], l4: usize) {
        f[l4 + 8..l4 + 12].fill(0);
        let c = crc32c(&f[l4..]);
        f[l4 + 8..l4 + 12].copy_from_slice(&c.to_le_bytes());
    }

    fn nd_body() -> Vec<u8> {
        let mut b = TARGET.to_vec();
        b.extend_from_slice(&[1, 1, 0x02, 0, 0, 0, 0, 0x0a]); // source link-layer address
        b.extend_from_slice(&[2, 1, 0x02, 0, 0, 0, 0, 0x0b]); // target link-layer address
        b
    }

    /// An untagged frame of `kind` (IPv4 at 14 with no options, IPv6 at 14
    /// with no extension headers) with correct checksums, a non-zero TOS /
    /// traffic class and flow label.
    fn build(kind: Kind, payload: &[u8]) -> Vec<u8> {
        let eth = || PacketBuilder::ethernet2(SRC, DST);
        let mut padded = payload.to_vec();
        padded.resize(payload.len().max(4), 0x5a); // an SCTP common header is 12 bytes
        let mut f = Vec::new();
        match kind {
            Kind::Tcp4 => eth()
                .ipv4(A4, B4, 64)
                .tcp(1000, 2000, 0x1000_0000, 65535)
                .ack(7)
                .write(&mut f, payload)
                .unwrap(),
            Kind::Udp4 | Kind::Udp4NoCsum => eth()
                .ipv4(A4, B4, 64)
                .udp(5000, 6000)
                .write(&mut f, payload)
                .unwrap(),
            Kind::Sctp4 => eth()
                .ipv4(A4, B4, 64)
                .udp(5000, 6000)
                .write(&mut f, &padded)
                .unwrap(),
            Kind::Icmp4 => eth()
                .ipv4(A4, B4, 64)
                .icmpv4_echo_request(7, 9)
                .write(&mut f, payload)
                .unwrap(),
            Kind::Tcp6 => eth()
                .ipv6(A6, B6, 64)
                .tcp(1000, 2000, 5, 65535)
                .write(&mut f, payload)
                .unwrap(),
            Kind::Udp6 => eth()
                .ipv6(A6, B6, 64)
                .udp(5000, 6000)
                .write(&mut f, payload)
                .unwrap(),
            Kind::Sctp6 => eth()
                .ipv6(A6, B6, 64)
                .udp(5000, 6000)
                .write(&mut f, &padded)
                .unwrap(),
            Kind::Icmp6 => eth()
                .ipv6(A6, B6, 64)
                .icmpv6_echo_request(7, 9)
                .write(&mut f, payload)
                .unwrap(),
            Kind::Nd6 => eth()
                .ipv6(A6, B6, 255)
                .icmpv6_raw(135, 0, [0; 4])
                .write(&mut f, &nd_body())
                .unwrap(),
            Kind::Arp => {
                let pkt = ArpPacket::new(
                    ArpHardwareId::ETHERNET,
                    EtherType::IPV4,
                    ArpOperation::REQUEST,
                    &SRC,
                    &A4,
                    &[0; 6],
                    &B4,
                )
                .unwrap();
                PacketBuilder::ethernet2(SRC, [0xff; 6])
                    .arp(pkt)
                    .write(&mut f)
                    .unwrap()
            }
            Kind::Lldp => {
                f.extend_from_slice(&[0x01, 0x80, 0xc2, 0, 0, 0x0e]);
                f.extend_from_slice(&SRC);
                f.extend_from_slice(&[0x88, 0xcc]);
                f.extend_from_slice(payload);
            }
        }
        match kind {
            Kind::Tcp4 | Kind::Udp4 | Kind::Udp4NoCsum | Kind::Sctp4 | Kind::Icmp4 => {
                f[15] = 0xb9; // DSCP 46, ECN 1
                f[18..20].copy_from_slice(&0x1234u16.to_be_bytes()); // IP id
                if kind == Kind::Sctp4 {
                    f[14 + 9] = IPPROTO_SCTP;
                    fix_sctp_crc(&mut f, 34);
                }
                if kind == Kind::Udp4NoCsum {
                    f[40..42].fill(0);
                }
                fix_ipv4_checksum(&mut f, 14);
            }
            k if is_v6(k) => {
                // Traffic class 0xb8, flow label 0x12345 (not in any checksum).
                f[14..18].copy_from_slice(&(6u32 << 28 | 0xb8 << 20 | 0x12345).to_be_bytes());
                if k == Kind::Sctp6 {
                    f[14 + 6] = IPPROTO_SCTP;
                    fix_sctp_crc(&mut f, 54);
                }
            }
            _ => {}
        }
        f
    }

    /// Puts a tag (TPID, TCI) after the MAC addresses.
    fn tag(f: &[u8], tpid: u16, tci: u16) -> Vec<u8> {
        let mut v = f[..12].to_vec();
        v.extend_from_slice(&tpid.to_be_bytes());
        v.extend_from_slice(&tci.to_be_bytes());
        v.extend_from_slice(&f[12..]);
        v
    }

    /// What Linux leaves in a frame with a partial checksum: the L4 field
    /// holds the folded pseudo-header sum. Returns the virtio-net header.
    fn make_partial(f: &mut [u8], l3: usize, l4: usize, csum_offset: usize, v6: bool) -> VnetHdr {
        let sum = pseudo_sum(f, l3, l4, v6);
        f[l4 + csum_offset..l4 + csum_offset + 2].copy_from_slice(&sum.to_be_bytes());
        VnetHdr {
            flags: F_NEEDS_CSUM,
            csum_start: l4 as u16,
            csum_offset: csum_offset as u16,
            ..Default::default()
        }
    }

    fn pseudo_sum(f: &[u8], l3: usize, l4: usize, v6: bool) -> u16 {
        let l4_len = (f.len() - l4) as u32;
        let (proto, addrs) = if v6 {
            (f[l3 + 6], &f[l3 + 8..l3 + 40])
        } else {
            (f[l3 + 9], &f[l3 + 12..l3 + 20])
        };
        fold(sum(addrs, u32::from(proto) + (l4_len >> 16) + (l4_len & 0xffff)))
    }

    fn mac_val(m: [u8; 6]) -> u128 {
        u128::from(u64::from_be_bytes([0, 0, m[0], m[1], m[2], m[3], m[4], m[5]]))
    }

    fn be32_val(b: &[u8]) -> u128 {
        u128::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn be128_val(b: &[u8]) -> u128 {
        u128::from_be_bytes(b[..16].try_into().unwrap())
    }

    /// The frame's key as `flow::extract` defines it, read with etherparse
    /// (layers) and by hand (fields): independent of the code under test.
    fn key_of(f: &[u8]) -> FlowKey {
        let p = SlicedPacket::from_ethernet(f).expect("etherparse parses the frame");
        let mut k = FlowKey::ZERO;
        let Some(LinkSlice::Ethernet2(eth)) = &p.link else {
            panic!("not Ethernet")
        };
        k.set(Field::DlDst, mac_val(eth.destination()));
        k.set(Field::DlSrc, mac_val(eth.source()));
        let mut dl_type = eth.ether_type().0;
        if let Some(LinkExtSlice::Vlan(v)) = p.link_exts.first() {
            let tci = u16::from(v.priority_code_point().value()) << 13 | v.vlan_identifier().value();
            k.set(Field::VlanTci, u128::from(tci | VLAN_CFI));
            dl_type = v.ether_type().0;
        }
        k.set(Field::DlType, u128::from(dl_type));
        match &p.net {
            Some(NetSlice::Ipv4(ip)) => {
                let h = ip.header().slice();
                k.set(Field::NwSrc, be32_val(&h[12..]));
                k.set(Field::NwDst, be32_val(&h[16..]));
                k.set(Field::NwTos, u128::from(h[1]));
                k.set(Field::NwTtl, u128::from(h[8]));
                k.set(Field::NwProto, u128::from(h[9]));
                if u16::from_be_bytes([h[6], h[7]]) & 0x1fff == 0 {
                    key_l4(&mut k, h[9], ip.payload().payload, false);
                }
            }
            Some(NetSlice::Ipv6(ip)) => {
                let h = ip.header();
                k.set(Field::Ipv6Src, u128::from_be_bytes(h.source()));
                k.set(Field::Ipv6Dst, u128::from_be_bytes(h.destination()));
                k.set(Field::NwTos, u128::from(h.traffic_class()));
                k.set(Field::Ipv6Label, u128::from(h.flow_label().value()));
                k.set(Field::NwTtl, u128::from(h.hop_limit()));
                let proto = ip.payload().ip_number.0;
                k.set(Field::NwProto, u128::from(proto));
                key_l4(&mut k, proto, ip.payload().payload, true);
            }
            Some(NetSlice::Arp(a)) => {
                let h = a.slice();
                let op = u16::from_be_bytes([h[6], h[7]]);
                if op <= 0xff {
                    k.set(Field::ArpOp, u128::from(op));
                }
                k.set(Field::ArpSha, mac_val(h[8..14].try_into().unwrap()));
                k.set(Field::ArpSpa, be32_val(&h[14..]));
                k.set(Field::ArpTha, mac_val(h[18..24].try_into().unwrap()));
                k.set(Field::ArpTpa, be32_val(&h[24..]));
            }
            None => {}
        }
        k
    }

    fn key_l4(k: &mut FlowKey, proto: u8, d: &[u8], v6: bool) {
        let ports = |k: &mut FlowKey| {
            k.set(Field::TpSrc, u128::from(u16::from_be_bytes([d[0], d[1]])));
            k.set(Field::TpDst, u128::from(u16::from_be_bytes([d[2], d[3]])));
        };
        match proto {
            IPPROTO_TCP if d.len() >= 20 => {
                ports(k);
                k.set(
                    Field::TcpFlags,
                    u128::from(u16::from_be_bytes([d[12], d[13]]) & 0xfff),
                );
            }
            IPPROTO_UDP if d.len() >= 8 => ports(k),
            IPPROTO_SCTP if d.len() >= 12 => ports(k),
            IPPROTO_ICMP if !v6 && d.len() >= 8 => {
                k.set(Field::IcmpType, u128::from(d[0]));
                k.set(Field::IcmpCode, u128::from(d[1]));
            }
            IPPROTO_ICMPV6 if v6 && d.len() >= 8 => {
                k.set(Field::Icmpv6Type, u128::from(d[0]));
                k.set(Field::Icmpv6Code, u128::from(d[1]));
                if (d[0] == 135 || d[0] == 136) && d[1] == 0 && d.len() >= 24 {
                    k.set(Field::NdTarget, be128_val(&d[8..]));
                    let mut opts = &d[24..];
                    let (mut sll, mut tll) = (false, false);
                    while opts.len() >= 8 && opts[1] != 0 && usize::from(opts[1]) * 8 <= opts.len() {
                        let mac = mac_val(opts[2..8].try_into().unwrap());
                        match (opts[0], opts[1]) {
                            (1, 1) if !sll => (sll, k.set(Field::ArpSha, mac)).1,
                            (2, 1) if !tll => (tll, k.set(Field::ArpTha, mac)).1,
                            _ => {}
                        }
                        sll |= opts[0] == 1 && opts[1] == 1;
                        tll |= opts[0] == 2 && opts[1] == 1;
                        opts = &opts[usize::from(opts[1]) * 8..];
                    }
                }
            }
            _ => {}
        }
    }

    /// The fields of `k` a frame carries.
    fn in_frame(k: &FlowKey) -> FlowKey {
        let mut m = [0u64; KEY_WORDS];
        for (m, n) in m.iter_mut().zip(&NOT_IN_FRAME) {
            *m = !n;
        }
        k.masked(&FlowKey(m))
    }

    /// Every checksum of `f` is right: the IPv4 header's and TCP/UDP/ICMPv6
    /// by etherparse, ICMPv4 and SCTP by the test's own recomputation.
    fn assert_checksums(f: &[u8]) {
        let p = SlicedPacket::from_ethernet(f).unwrap();
        match (&p.net, &p.transport) {
            (Some(NetSlice::Ipv4(ip)), t) => {
                let h = ip.header();
                assert_eq!(
                    h.header_checksum(),
                    h.to_header().calc_header_checksum(),
                    "IPv4 header checksum"
                );
                let (src, dst) = (h.source(), h.destination());
                let pl = ip.payload();
                match t {
                    Some(TransportSlice::Tcp(t)) => {
                        assert_eq!(t.checksum(), t.calc_checksum_ipv4(src, dst).unwrap(), "TCP/IPv4")
                    }
                    Some(TransportSlice::Udp(u)) if u.checksum() != 0 => assert_eq!(
                        u.checksum(),
                        u.to_header()
                            .calc_checksum_ipv4_raw(src, dst, u.payload())
                            .unwrap(),
                        "UDP/IPv4"
                    ),
                    Some(TransportSlice::Icmpv4(i)) => assert_eq!(fold(sum(i.slice(), 0)), 0xffff, "ICMPv4"),
                    _ if pl.ip_number.0 == IPPROTO_SCTP && !pl.fragmented => sctp_ok(pl.payload),
                    _ => {}
                }
            }
            (Some(NetSlice::Ipv6(ip)), t) => {
                let (src, dst) = (ip.header().source(), ip.header().destination());
                let pl = ip.payload();
                match t {
                    Some(TransportSlice::Tcp(t)) => {
                        assert_eq!(t.checksum(), t.calc_checksum_ipv6(src, dst).unwrap(), "TCP/IPv6")
                    }
                    Some(TransportSlice::Udp(u)) => assert_eq!(
                        u.checksum(),
                        u.to_header()
                            .calc_checksum_ipv6_raw(src, dst, u.payload())
                            .unwrap(),
                        "UDP/IPv6"
                    ),
                    Some(TransportSlice::Icmpv6(i)) => assert!(i.is_checksum_valid(src, dst), "ICMPv6"),
                    _ if pl.ip_number.0 == IPPROTO_SCTP => sctp_ok(pl.payload),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn sctp_ok(d: &[u8]) {
        let mut z = d.to_vec();
        z[8..12].fill(0);
        assert_eq!(d[8..12], crc32c(&z).to_le_bytes(), "SCTP CRC32c");
    }

    /// Runs [`rewrite`] into a fresh buffer; the new frame and header.
    fn run(
        frame: &[u8],
        vnet: &VnetHdr,
        base: &FlowKey,
        cur: &FlowKey,
    ) -> Result<(Vec<u8>, VnetHdr), RewriteError> {
        let mut out = vec![0xee; HEADROOM + frame.len() + 4];
        let (start, len, v) = rewrite(frame, vnet, base, cur, &mut out)?;
        assert_eq!(start, HEADROOM);
        Ok((out[start..start + len].to_vec(), v))
    }

    /// A value of `field` other than `old`.
    fn other(field: Field, old: u128) -> u128 {
        let v = sane(field, old ^ 0x5a5a_a5a5_0f0f_f0f0_3c3c_c3c3_1234_4321);
        if v == old {
            sane(field, old ^ 1)
        } else {
            v
        }
    }

    #[test]
    fn crc32c_check_value() {
        // The CRC-32C check value (RFC 3720 B.4 and every CRC catalogue).
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa); // RFC 3720 B.4: 32 zero bytes
    }

    /// Every field of every kind of frame, alone and all at once, untagged
    /// and under either TPID: the re-parsed frame has the new values and
    /// every checksum is right (and, checked by etherparse, equals a full
    /// recomputation bit for bit).
    #[test]
    fn every_field_of_every_kind() {
        let payload: Vec<u8> = (0..37u8).map(|i| i.wrapping_mul(29)).collect();
        for kind in KINDS {
            for tagging in [None, Some((0x8100, 0x2005)), Some((0x88a8, 0xf064))] {
                let mut frame = build(kind, &payload);
                if let Some((tpid, tci)) = tagging {
                    frame = tag(&frame, tpid, tci);
                }
                assert_checksums(&frame);
                let base = key_of(&frame);
                let mut all = base;
                for &f in fields(kind) {
                    let mut cur = base;
                    cur.set(f, other(f, base.get(f)));
                    all.set(f, cur.get(f));
                    let (out, _) = run(&frame, &VnetHdr::default(), &base, &cur).unwrap();
                    assert_eq!(out.len(), frame.len());
                    assert_eq!(key_of(&out), in_frame(&cur), "{kind:?} {tagging:x?} {f:?}");
                    assert_checksums(&out);
                    if kind == Kind::Udp4NoCsum {
                        assert_eq!(
                            out[out.len() - payload.len() - 2..][..2],
                            [0, 0],
                            "no checksum stays none"
                        );
                    }
                }
                let (out, _) = run(&frame, &VnetHdr::default(), &base, &all).unwrap();
                assert_eq!(key_of(&out), in_frame(&all), "{kind:?} {tagging:x?} all");
                assert_checksums(&out);
            }
        }
    }

    #[test]
    fn vlan_push_pop_and_change() {
        let frame = build(Kind::Tcp4, b"payload");
        let base = key_of(&frame);
        let none = VnetHdr::default();
        // Push: 0x8100 and the TCI without CFI; the rest shifts by 4.
        let mut cur = base;
        cur.set(Field::VlanTci, u128::from(VLAN_CFI | 5 << 13 | 100));
        let (out, _) = run(&frame, &none, &base, &cur).unwrap();
        assert_eq!(out[12..16], [0x81, 0x00, 0xa0, 0x64]);
        assert_eq!(out[16..], frame[12..]);
        assert_eq!(key_of(&out), in_frame(&cur));
        // Pop.
        let tagged = tag(&frame, 0x8100, 0x3007); // DEI set on the wire
        let tbase = key_of(&tagged);
        assert_eq!(tbase.vlan_tci(), 0x3007); // CFI/DEI folded as extract does
        let (out, _) = run(&tagged, &none, &tbase, &base).unwrap();
        assert_eq!(out, frame);
        // Change keeps an 802.1ad TPID.
        let ad = tag(&frame, 0x88a8, 0x0064);
        let adbase = key_of(&ad);
        let mut cur = adbase;
        cur.set(Field::VlanVid, 200);
        let (out, _) = run(&ad, &none, &adbase, &cur).unwrap();
        assert_eq!(out[12..16], [0x88, 0xa8, 0x00, 0xc8]);
        assert_eq!(out[16..], ad[16..]);
        // The same tag, unchanged: byte for byte, DEI included.
        let mut cur = tbase;
        cur.set(Field::NwTtl, 9);
        let (out, _) = run(&tagged, &none, &tbase, &cur).unwrap();
        assert_eq!(out[12..16], tagged[12..16]);
    }

    #[test]
    fn qinq_only_the_outer_tag_is_the_key_s() {
        // 802.1ad 100 outside, 802.1Q 200 inside; with one tag in the key
        // the inner TPID is dl_type and everything after it is payload.
        let frame = tag(&tag(&build(Kind::Udp4, b"x"), 0x8100, 200), 0x88a8, 100);
        let mut base = FlowKey::ZERO;
        base.set(Field::DlDst, mac_val(DST));
        base.set(Field::DlSrc, mac_val(SRC));
        base.set(Field::VlanTci, u128::from(VLAN_CFI | 100));
        base.set(Field::DlType, 0x8100);
        let none = VnetHdr::default();
        let mut cur = base;
        cur.set(Field::VlanVid, 300);
        let (out, _) = run(&frame, &none, &base, &cur).unwrap();
        assert_eq!(out[12..20], [0x88, 0xa8, 0x01, 0x2c, 0x81, 0x00, 0x00, 0xc8]);
        assert_eq!(out[20..], frame[20..]);
        let mut cur = base;
        cur.set(Field::VlanTci, 0);
        let (out, _) = run(&frame, &none, &base, &cur).unwrap();
        assert_eq!(out[12..], frame[16..]);
        let mut cur = base;
        cur.set(Field::NwSrc, 1);
        assert_eq!(
            run(&frame, &none, &base, &cur).unwrap_err(),
            RewriteError::Unwritable(Field::NwSrc)
        );
    }

    #[test]
    fn plan_says_what_it_takes() {
        let frame = build(Kind::Tcp4, b"abc");
        let base = key_of(&frame);
        assert_eq!(plan(&frame, &base, &base), Plan::Same);
        // Nothing the frame carries.
        let mut cur = base;
        for (f, v) in [
            (Field::InPort, 7),
            (Field::TunId, 99),
            (Field::Metadata, 1),
            (Field::Reg0, 5),
            (Field::Reg7, 6),
        ] {
            cur.set(f, v);
        }
        assert_eq!(plan(&frame, &base, &cur), Plan::Same);
        // A TCI without CFI is "untagged" whatever else it has.
        cur.set(Field::VlanTci, 5);
        assert_eq!(plan(&frame, &base, &cur), Plan::Same);
        // Push.
        cur.set(Field::VlanTci, u128::from(VLAN_CFI | 10));
        assert_eq!(
            plan(&frame, &base, &cur),
            Plan::Vlan(Edit::push([0x81, 0, 0, 10]))
        );
        // Anything else: a rewrite.
        cur.set(Field::DlSrc, 1);
        assert_eq!(plan(&frame, &base, &cur), Plan::Rewrite);
        for (f, v) in [(Field::NwTtl, 1), (Field::TpDst, 1), (Field::TcpFlags, 0x3f)] {
            let mut cur = base;
            cur.set(f, v);
            assert_eq!(plan(&frame, &base, &cur), Plan::Rewrite, "{f:?}");
        }

        // Pop and change of a tagged frame; 802.1ad is kept.
        for tpid in [0x8100u16, 0x88a8] {
            let tagged = tag(&frame, tpid, 0x0064);
            let tbase = key_of(&tagged);
            let mut cur = tbase;
            cur.set(Field::VlanTci, 0);
            assert_eq!(plan(&tagged, &tbase, &cur), Plan::Vlan(Edit::POP));
            cur.set(Field::VlanTci, u128::from(VLAN_CFI | 3 << 13 | 7));
            let [t0, t1] = tpid.to_be_bytes();
            assert_eq!(
                plan(&tagged, &tbase, &cur),
                Plan::Vlan(Edit::retag([t0, t1, 0x60, 7]))
            );
            // The edit gives what rewrite gives.
            let Plan::Vlan(e) = plan(&tagged, &tbase, &cur) else {
                unreachable!()
            };
            let (a, t, b) = e.pieces(&tagged);
            let edited = [a, &t.unwrap()[..], b].concat();
            assert_eq!(run(&tagged, &VnetHdr::default(), &tbase, &cur).unwrap().0, edited);
        }
        // A key that says "tagged" of an untagged frame: never an edit that
        // would strip bytes that are not a tag; rewrite reports it.
        let mut liar = base;
        liar.set(Field::VlanTci, u128::from(VLAN_CFI | 1));
        assert_eq!(plan(&frame, &liar, &base), Plan::Rewrite);
        assert!(matches!(
            run(&frame, &VnetHdr::default(), &liar, &base),
            Err(RewriteError::Mismatch(_))
        ));
    }

    #[test]
    fn apply_vlan_cases() {
        let t = |v: u16| VLAN_CFI | v;
        assert_eq!(apply_vlan(0, 0, 0x8100), Edit::KEEP);
        assert_eq!(apply_vlan(0, 0x0fff, 0x8100), Edit::KEEP); // no CFI: untagged
        assert_eq!(apply_vlan(t(5), t(5), 0x88a8), Edit::KEEP);
        assert_eq!(apply_vlan(0, t(5), 0x88a8), Edit::push([0x81, 0, 0, 5]));
        assert_eq!(apply_vlan(t(5), 0, 0x88a8), Edit::POP);
        assert_eq!(apply_vlan(t(5), t(6), 0x88a8), Edit::retag([0x88, 0xa8, 0, 6]));
    }

    #[test]
    fn udp_checksum_none_and_zero() {
        // UDP/IPv4 with no checksum stays without, whatever changes.
        let frame = build(Kind::Udp4NoCsum, b"hello");
        let base = key_of(&frame);
        let mut cur = base;
        cur.set(Field::NwSrc, 0xc0a8_0001);
        cur.set(Field::TpDst, 53);
        let (out, _) = run(&frame, &VnetHdr::default(), &base, &cur).unwrap();
        assert_eq!(out[40..42], [0, 0]);

        // A rewrite whose checksum comes out 0 sends 0xffff: pick the
        // source port that makes the sum of everything else all ones.
        for kind in [Kind::Udp4, Kind::Udp6] {
            let frame = build(kind, b"zero sum");
            let base = key_of(&frame);
            let (l3, l4) = (14, if kind == Kind::Udp6 { 54 } else { 34 });
            let mut f = frame.clone();
            f[l4..l4 + 2].fill(0);
            f[l4 + 6..l4 + 8].fill(0);
            let rest = fold(sum(
                &f[l4..],
                u32::from(pseudo_sum(&f, l3, l4, kind == Kind::Udp6)),
            ));
            let port = 0xffff - rest;
            let mut cur = base;
            cur.set(Field::TpSrc, u128::from(port));
            let (out, _) = run(&frame, &VnetHdr::default(), &base, &cur).unwrap();
            assert_eq!(out[l4 + 6..l4 + 8], [0xff, 0xff], "{kind:?}");
            assert_checksums(&out);
        }
    }

    /// Partial checksums: the field holds the new pseudo-header sum exactly
    /// as Linux would have written it, a port change leaves it alone, and
    /// completing it in software gives a valid checksum.
    #[test]
    fn partial_checksums_follow_address_changes() {
        for (kind, off) in [
            (Kind::Tcp4, 16),
            (Kind::Udp4, 6),
            (Kind::Tcp6, 16),
            (Kind::Udp6, 6),
        ] {
            let v6 = is_v6(kind);
            let l4 = if v6 { 54 } else { 34 };
            let mut frame = build(kind, &[7u8; 301]);
            let vnet = make_partial(&mut frame, 14, l4, off, v6);
            let base = key_of(&frame);

            // Ports only: the partial field does not change.
            let mut cur = base;
            cur.set(Field::TpSrc, 1);
            cur.set(Field::TpDst, 2);
            let (out, _) = run(&frame, &vnet, &base, &cur).unwrap();
            assert_eq!(
                out[l4 + off..l4 + off + 2],
                frame[l4 + off..l4 + off + 2],
                "{kind:?}"
            );

            // Addresses, ports, TTL, TOS and a pushed tag.
            let mut cur = base;
            if v6 {
                cur.set(Field::Ipv6Src, 0xfd00 << 112 | 0x1234);
                cur.set(Field::Ipv6Dst, 0xfd00 << 112 | 0xabcd_ef01);
            } else {
                cur.set(Field::NwSrc, 0xc0a8_0a0b);
                cur.set(Field::NwDst, 0xac10_fffe);
            }
            cur.set(Field::TpSrc, 4444);
            cur.set(Field::NwTtl, 3);
            cur.set(Field::NwTos, 0x10);
            cur.set(Field::VlanTci, u128::from(VLAN_CFI | 42));
            let (mut out, vout) = run(&frame, &vnet, &base, &cur).unwrap();
            assert_eq!(vout.csum_start, vnet.csum_start + 4);
            let (l3o, l4o) = (18, l4 + 4);
            let want = pseudo_sum(&out, l3o, l4o, v6);
            assert_eq!(
                u16::from_be_bytes([out[l4o + off], out[l4o + off + 1]]),
                want,
                "{kind:?}"
            );
            assert_eq!(key_of(&out), in_frame(&cur));
            offload::complete_checksum(&mut out, &vout).unwrap();
            assert_checksums(&out);
        }
    }

    /// A GSO super-frame rewritten, then segmented: every segment is a
    /// valid packet with the new addresses and ports.
    #[test]
    fn gso_super_frame_rewritten_then_segmented() {
        let mss = 1000;
        let data: Vec<u8> = (0..3 * mss - 100).map(|i| (i * 13 + 1) as u8).collect();
        let mut frame = build(Kind::Tcp4, &data);
        let vnet = VnetHdr {
            gso_type: GSO_TCPV4,
            gso_size: mss as u16,
            hdr_len: 54,
            ..make_partial(&mut frame, 14, 34, 16, false)
        };
        let base = key_of(&frame);
        let mut cur = base;
        cur.set(Field::NwSrc, 0xc0a8_0101);
        cur.set(Field::NwDst, 0xc0a8_0202);
        cur.set(Field::TpDst, 8080);
        cur.set(Field::NwTtl, 63);
        cur.set(Field::DlDst, 0x0200_0000_00ff);
        cur.set(Field::VlanTci, u128::from(VLAN_CFI | 7));
        let (out, vout) = run(&frame, &vnet, &base, &cur).unwrap();
        assert_eq!(
            (vout.csum_start, vout.hdr_len, vout.gso_size),
            (38, 58, mss as u16)
        );
        let mut segs = RxBatch::with_layout(8, 2048);
        let (n, next) = offload::segment(&out, &vout, 0, &mut segs).unwrap();
        assert_eq!((n, next), (3, None));
        let mut seen = Vec::new();
        for i in 0..n {
            let seg = segs.frame(i);
            assert_checksums(seg);
            let k = key_of(seg);
            for f in [
                Field::NwSrc,
                Field::NwDst,
                Field::TpSrc,
                Field::TpDst,
                Field::NwTtl,
                Field::DlDst,
                Field::VlanTci,
            ] {
                assert_eq!(k.get(f), cur.get(f), "segment {i} {f:?}");
            }
            seen.extend_from_slice(&seg[18 + 20 + 20..]);
        }
        assert_eq!(seen, data);
    }

    #[test]
    fn vnet_offsets_follow_a_popped_tag() {
        let mut frame = tag(&build(Kind::Tcp6, &[1; 100]), 0x8100, 5);
        let vnet = make_partial(&mut frame, 18, 58, 16, true);
        let base = key_of(&frame);
        let mut cur = base;
        cur.set(Field::VlanTci, 0);
        cur.set(Field::Ipv6Dst, 1);
        let (mut out, vout) = run(&frame, &vnet, &base, &cur).unwrap();
        assert_eq!((vout.csum_start, vout.csum_offset), (54, 16));
        offload::complete_checksum(&mut out, &vout).unwrap();
        assert_checksums(&out);
    }

    #[test]
    fn ipv4_fragments() {
        let frame = build(Kind::Tcp4, &[3u8; 40]);
        let base = key_of(&frame);
        // A first fragment (MF): the addresses update the TCP checksum of
        // the datagram; here it is all in this piece, so clearing MF again
        // gives a whole valid packet.
        let mut first = frame.clone();
        first[20] |= 0x20;
        fix_ipv4_checksum(&mut first, 14);
        let mut cur = base;
        cur.set(Field::NwDst, 0x0808_0808);
        let (mut out, _) = run(&first, &VnetHdr::default(), &base, &cur).unwrap();
        out[20] &= !0x20;
        fix_ipv4_checksum(&mut out, 14);
        assert_checksums(&out);

        // A later fragment: no L4 header, so port changes do not apply (as
        // OVS) and an address change leaves the payload alone.
        let mut later = frame.clone();
        later[20..22].copy_from_slice(&0x0010u16.to_be_bytes());
        fix_ipv4_checksum(&mut later, 14);
        let mut lbase = key_of(&later);
        assert_eq!(lbase.get(Field::TpSrc), 0);
        lbase.set(Field::TcpFlags, 0);
        let mut cur = lbase;
        cur.set(Field::TpDst, 99);
        cur.set(Field::NwSrc, 0x0101_0101);
        let (out, _) = run(&later, &VnetHdr::default(), &lbase, &cur).unwrap();
        assert_eq!(out[34..], later[34..]);
        assert_eq!(out[26..30], [1, 1, 1, 1]);
        assert_checksums(&out);
    }

    #[test]
    fn ipv6_routing_header_keeps_the_pseudo_header_destination() {
        // TCP/IPv6 behind a routing header with one segment left: the TCP
        // checksum covers the final destination, which is not the one in
        // the IPv6 header, so rewriting that one leaves the checksum alone.
        let frame = build(Kind::Tcp6, b"routed");
        let mut f = frame[..54].to_vec();
        f.extend_from_slice(&[IPPROTO_TCP, 0, 4, 1, 0, 0, 0, 0]);
        f.extend_from_slice(&frame[54..]);
        f[20] = IPPROTO_ROUTING;
        let plen = u16::from_be_bytes([f[18], f[19]]) + 8;
        f[18..20].copy_from_slice(&plen.to_be_bytes());
        let base = key_of(&f);
        assert_eq!(base.nw_proto(), IPPROTO_TCP);
        let csum = 62 + 16;
        let mut cur = base;
        cur.set(Field::Ipv6Dst, 7);
        let (out, _) = run(&f, &VnetHdr::default(), &base, &cur).unwrap();
        assert_eq!(out[csum..csum + 2], f[csum..csum + 2]);
        cur.set(Field::Ipv6Src, 7);
        let (out, _) = run(&f, &VnetHdr::default(), &base, &cur).unwrap();
        assert_ne!(out[csum..csum + 2], f[csum..csum + 2]);
    }

    #[test]
    fn sctp_crc() {
        for kind in [Kind::Sctp4, Kind::Sctp6] {
            let l4 = if kind == Kind::Sctp6 { 54 } else { 34 };
            let frame = build(kind, b"sctp chunk data");
            let base = key_of(&frame);
            let mut cur = base;
            cur.set(Field::TpSrc, 36412);
            let (out, _) = run(&frame, &VnetHdr::default(), &base, &cur).unwrap();
            assert_checksums(&out);
            assert_eq!(key_of(&out), in_frame(&cur));
            // A wrong CRC stays exactly as wrong: the switch does not
            // vouch for bytes it did not check.
            let mut bad = frame.clone();
            bad[l4 + 8] ^= 0x40;
            let (out, _) = run(&bad, &VnetHdr::default(), &base, &cur).unwrap();
            let mut z = out[l4..].to_vec();
            z[8..12].fill(0);
            let right = crc32c(&z).to_le_bytes();
            assert_eq!(out[l4 + 8] ^ right[0], 0x40);
            assert_eq!(out[l4 + 9..l4 + 12], right[1..]);
        }
        // A first fragment: its CRC covers bytes in other fragments.
        let mut frag = build(Kind::Sctp4, b"sctp chunk data");
        frag[20] |= 0x20;
        fix_ipv4_checksum(&mut frag, 14);
        let base = key_of(&frag);
        let mut cur = base;
        cur.set(Field::TpDst, 1);
        assert!(matches!(
            run(&frag, &VnetHdr::default(), &base, &cur),
            Err(RewriteError::Unsupported(_))
        ));
        // Partial: the CRC is computed later; only the ports change.
        let frame = build(Kind::Sctp4, b"sctp chunk data");
        let vnet = VnetHdr {
            flags: F_NEEDS_CSUM,
            csum_start: 34,
            csum_offset: 8,
            ..Default::default()
        };
        let (out, _) = run(&frame, &vnet, &base, &cur).unwrap();
        assert_eq!(out[42..46], frame[42..46]);
        assert_eq!(out[36..38], [0, 1]);
    }

    #[test]
    fn errors() {
        let none = VnetHdr::default();
        let frame = build(Kind::Tcp4, b"data");
        let base = key_of(&frame);
        let mut cur = base;
        cur.set(Field::TpDst, 1);

        // Buffer: headroom plus the frame.
        let mut small = vec![0; frame.len()];
        let e = rewrite(&frame, &none, &base, &cur, &mut small).unwrap_err();
        assert_eq!(
            e,
            RewriteError::BufferTooSmall {
                need: frame.len() + HEADROOM,
                have: frame.len()
            }
        );
        assert_eq!(
            e.to_string(),
            format!(
                "output buffer of {} bytes is too small: the rewritten frame needs {}",
                frame.len(),
                frame.len() + HEADROOM
            )
        );

        // The key has TCP ports; the frame's IP total length leaves 10
        // bytes of TCP header.
        let mut cut = frame[..14 + 30].to_vec();
        cut[16..18].copy_from_slice(&30u16.to_be_bytes());
        fix_ipv4_checksum(&mut cut, 14);
        let e = run(&cut, &none, &base, &cur).unwrap_err();
        assert_eq!(
            e,
            RewriteError::Truncated {
                header: "TCP",
                len: 44
            }
        );
        assert!(e.to_string().contains("too short for its TCP header"), "{e}");
        // An IPv4 total length beyond the frame; a frame cut in the IPv4
        // header; a short frame altogether.
        assert!(matches!(
            run(&frame[..50], &none, &base, &cur),
            Err(RewriteError::Mismatch(_))
        ));
        assert_eq!(
            run(&frame[..20], &none, &base, &cur).unwrap_err(),
            RewriteError::Truncated {
                header: "IPv4",
                len: 20
            }
        );
        assert!(matches!(
            run(&frame[..10], &none, &base, &cur),
            Err(RewriteError::Truncated {
                header: "Ethernet",
                ..
            })
        ));
        // nw_proto of the key is not the frame's.
        let mut udp_key = base;
        udp_key.set(Field::NwProto, 17);
        let mut udp_cur = udp_key;
        udp_cur.set(Field::TpDst, 1);
        assert!(matches!(
            run(&frame, &none, &udp_key, &udp_cur),
            Err(RewriteError::Mismatch(_))
        ));

        // Fields with no place in the frame, or not settable.
        for (kind, f, v) in [
            (Kind::Tcp4, Field::Ipv6Src, 1),
            (Kind::Tcp4, Field::DlType, 0x86dd),
            (Kind::Tcp4, Field::NwProto, 17),
            (Kind::Tcp4, Field::TcpFlags, 0x3f),
            (Kind::Tcp4, Field::NdTarget, 1),
            (Kind::Icmp4, Field::TpSrc, 0x108), // beyond ICMP's 8-bit type
            (Kind::Lldp, Field::NwSrc, 1),
            (Kind::Lldp, Field::TpDst, 1),
            (Kind::Arp, Field::NwTtl, 1),
            (Kind::Udp6, Field::NwSrc, 1),
            (Kind::Icmp6, Field::NdTarget, 1), // an echo, not ND
        ] {
            let frame = build(kind, b"0123456789");
            let base = key_of(&frame);
            let mut cur = base;
            cur.set(f, v);
            let e = run(&frame, &none, &base, &cur).unwrap_err();
            assert_eq!(e, RewriteError::Unwritable(f), "{kind:?} {f:?}");
            assert!(e.to_string().contains(f.name()));
        }

        // Virtio-net offsets that do not fit the frame.
        let mut cur = base;
        cur.set(Field::NwSrc, 1);
        for (start, offset) in [(20u16, 16u16), (34, 6)] {
            let vnet = VnetHdr {
                flags: F_NEEDS_CSUM,
                csum_start: start,
                csum_offset: offset,
                ..Default::default()
            };
            assert!(matches!(
                run(&frame, &vnet, &base, &cur),
                Err(RewriteError::Offload(_))
            ));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// A frame of a random kind, tag and payload, maybe partially
        /// checksummed, with random changes to random fields.
        #[test]
        fn random_rewrites_are_right(
            kind in prop::sample::select(KINDS.to_vec()),
            tagging in prop::option::of((any::<bool>(), any::<u16>())),
            payload in prop::collection::vec(any::<u8>(), 0..120),
            partial: bool,
            vlan in prop::option::of(prop::option::of(any::<u16>())),
            changes in prop::collection::vec((any::<prop::sample::Index>(), any::<u128>()), 0..8),
        ) {
            let mut frame = build(kind, &payload);
            let (mut l3, mut l4) = (14, if is_v6(kind) { 54 } else { 34 });
            if let Some((ad, tci)) = tagging {
                frame = tag(&frame, if ad { 0x88a8 } else { 0x8100 }, tci);
                (l3, l4) = (l3 + 4, l4 + 4);
            }
            let off = match kind {
                Kind::Tcp4 | Kind::Tcp6 => Some(16),
                Kind::Udp4 | Kind::Udp6 => Some(6),
                _ => None,
            };
            let vnet = match off {
                Some(off) if partial => make_partial(&mut frame, l3, l4, off, is_v6(kind)),
                _ => VnetHdr::default(),
            };
            let base = key_of(&frame);
            let mut cur = base;
            for (i, v) in changes {
                let f = *i.get(fields(kind));
                cur.set(f, sane(f, v));
            }
            match vlan {
                Some(None) => cur.set(Field::VlanTci, 0),
                Some(Some(tci)) => cur.set(Field::VlanTci, u128::from(tci | VLAN_CFI)),
                None => {}
            }

            let (out, vout) = run(&frame, &vnet, &base, &cur).unwrap();
            prop_assert_eq!(key_of(&out), in_frame(&cur));
            let mut done = out.clone();
            if vout.needs_csum() {
                offload::complete_checksum(&mut done, &vout).unwrap();
            }
            assert_checksums(&done);
            if kind == Kind::Udp4NoCsum {
                let at = out.len() - payload.len() - 2;
                prop_assert_eq!(&out[at..at + 2], &[0u8, 0][..]);
            }
            // What plan says agrees with what rewrite did.
            match plan(&frame, &base, &cur) {
                Plan::Same => prop_assert_eq!(&out, &frame),
                Plan::Vlan(e) => {
                    let (a, t, b) = e.pieces(&frame);
                    let t: &[u8] = t.map_or(&[], |t| &t[..]);
                    prop_assert_eq!(&out, &[a, t, b].concat());
                    prop_assert_eq!(vout, vnet.for_edit(&e));
                }
                Plan::Rewrite => {}
            }
        }

        /// Damaged frames (bytes overwritten, cut anywhere), keys that
        /// need not match them, any virtio-net header: never a panic.
        #[test]
        fn never_panics(kind in prop::sample::select(KINDS.to_vec()),
                        tagged: bool,
                        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
                        cut in any::<prop::sample::Index>(),
                        flips in prop::collection::vec((0..KEY_WORDS, any::<u64>()), 0..6),
                        vnet in (any::<u8>(), any::<u8>(), any::<u16>(), any::<u16>(), 0u16..200, 0u16..30)) {
            let mut frame = build(kind, b"some payload bytes");
            if tagged {
                frame = tag(&frame, 0x8100, 9);
            }
            let base = key_of(&frame);
            for (i, b) in edits {
                let n = frame.len();
                frame[i.index(n)] = b;
            }
            let frame = &frame[..cut.index(frame.len() + 1)];
            let mut cur = base;
            for (w, bits) in flips {
                cur.0[w] ^= bits;
            }
            let vnet = VnetHdr {
                flags: vnet.0,
                gso_type: vnet.1,
                hdr_len: vnet.2,
                gso_size: vnet.3,
                csum_start: vnet.4,
                csum_offset: vnet.5,
            };
            let _ = plan(frame, &base, &cur);
            let mut out = vec![0u8; HEADROOM + frame.len() + 4];
            if let Ok((start, len, _)) = rewrite(frame, &vnet, &base, &cur, &mut out) {
                prop_assert!(start + len <= out.len());
                prop_assert!(len + 4 >= frame.len() && len <= frame.len() + 4);
            }
        }
    }
}

//! The flow key: every header field a flow can match or an action can set,
//! packed into [`KEY_WORDS`] 64-bit words, and the registry of those fields
//! ([`Field`]) with their names, widths, places and prerequisites.
//!
//! Why words: the classifier hashes and compares keys under masks, and a
//! mask over fixed words is a handful of ANDs (OVS's `struct flow` /
//! miniflow idea). Why a registry: the parser, the printer, the classifier
//! and the action code all name fields, and one table keeps them agreeing.
//!
//! Field layout follows OVS where OVS overlays fields: `arp_spa`/`arp_tpa`
//! live in `nw_src`/`nw_dst`, `arp_op` in `nw_proto`, ICMP type and code in
//! `tp_src`/`tp_dst`, `ip_dscp` is the upper six bits of `nw_tos`, and
//! `vlan_tci` has the CFI bit (0x1000) set exactly when the frame is tagged
//! (so `vlan_tci=0` means "untagged").

/// Number of 64-bit words of a [`FlowKey`].
pub const KEY_WORDS: usize = 19;

/// The `vlan_tci` bit that says "a tag is present" (OVS's `VLAN_CFI`).
pub const VLAN_CFI: u16 = 0x1000;

/// A packet's header fields (or a match's values or mask), as words.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FlowKey(pub [u64; KEY_WORDS]);

impl std::fmt::Debug for FlowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_map();
        for field in Field::ALL {
            let v = self.get(*field);
            if v != 0 {
                d.entry(&field.name(), &format_args!("{v:#x}"));
            }
        }
        d.finish()
    }
}

/// Where a field lives: `bits` bits at bit `shift` of word `word`; a
/// 128-bit field takes words `word` (high half) and `word + 1` (low half).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// First word.
    pub word: u8,
    /// Bit offset inside the word (0 = least significant).
    pub shift: u8,
    /// Width in bits (1–64, or 128).
    pub bits: u8,
}

/// What must hold of a packet for a field to be meaningful (OVS's
/// prerequisites, `ovs-fields(7)`). A match that uses a field must also
/// match its prerequisite, or it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prereq {
    /// Any Ethernet frame.
    None,
    /// `dl_type=0x0800`.
    Ipv4,
    /// `dl_type=0x86dd`.
    Ipv6,
    /// `dl_type=0x0800` or `0x86dd`.
    Ip,
    /// `dl_type=0x0806` (ARP; OVS also accepts RARP 0x8035).
    Arp,
    /// IP (v4 or v6) and `nw_proto` one of TCP (6), UDP (17), SCTP (132).
    L4,
    /// IP and `nw_proto=6`.
    Tcp,
    /// IPv4 and `nw_proto=1`.
    Icmp,
    /// IPv6 and `nw_proto=58`.
    Icmpv6,
    /// ICMPv6 with `icmp_type` 135 or 136 (neighbour solicitation or advertisement).
    Nd,
}

impl Prereq {
    /// Whether a packet with this ethertype, IP protocol and ICMPv6 type
    /// meets the prerequisite; `None` is "not known" (a match that leaves
    /// the field wildcarded guarantees nothing about it). The parser asks
    /// it of a match's exact values, the action code of a packet's key.
    pub fn holds(self, dl_type: Option<u16>, nw_proto: Option<u8>, icmpv6_type: Option<u8>) -> bool {
        let ip4 = dl_type == Some(0x0800);
        let ip6 = dl_type == Some(0x86dd);
        let ip = ip4 || ip6;
        match self {
            Prereq::None => true,
            Prereq::Ipv4 => ip4,
            Prereq::Ipv6 => ip6,
            Prereq::Ip => ip,
            // RARP is parsed as ARP (as OVS).
            Prereq::Arp => matches!(dl_type, Some(0x0806) | Some(0x8035)),
            Prereq::L4 => ip && matches!(nw_proto, Some(6) | Some(17) | Some(132)),
            Prereq::Tcp => ip && nw_proto == Some(6),
            Prereq::Icmp => ip4 && nw_proto == Some(1),
            Prereq::Icmpv6 => ip6 && nw_proto == Some(58),
            Prereq::Nd => ip6 && nw_proto == Some(58) && matches!(icmpv6_type, Some(135) | Some(136)),
        }
    }
}

macro_rules! fields {
    ($( $(#[$doc:meta])* $var:ident = $name:literal, $word:literal, $shift:literal, $bits:literal, $prereq:ident, $writable:literal; )*) => {
        /// A match or set field (OVS names).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Field {
            $( $(#[$doc])* $var, )*
        }

        impl Field {
            /// Every field, in registry order.
            pub const ALL: &'static [Field] = &[$(Field::$var),*];

            /// The OVS name (`ovs-fields(7)`), as `ovs-ofctl` prints it.
            pub const fn name(self) -> &'static str {
                match self { $(Field::$var => $name,)* }
            }

            /// Where the field lives in a [`FlowKey`].
            pub const fn place(self) -> Place {
                match self { $(Field::$var => Place { word: $word, shift: $shift, bits: $bits },)* }
            }

            /// What a match on this field requires.
            pub const fn prereq(self) -> Prereq {
                match self { $(Field::$var => Prereq::$prereq,)* }
            }

            /// Whether `set_field` may write it.
            pub const fn writable(self) -> bool {
                match self { $(Field::$var => $writable,)* }
            }
        }
    };
}

fields! {
    /// OpenFlow port number of the ingress port.
    InPort = "in_port", 0, 0, 16, None, false;
    /// Ethertype (after any VLAN tag).
    DlType = "dl_type", 0, 16, 16, None, false;
    /// 802.1Q TCI with the CFI bit meaning "tagged".
    VlanTci = "vlan_tci", 0, 32, 16, None, true;
    /// The VLAN id part of `vlan_tci`.
    VlanVid = "dl_vlan", 0, 32, 12, None, true;
    /// The priority part of `vlan_tci`.
    VlanPcp = "dl_vlan_pcp", 0, 45, 3, None, true;
    /// IP protocol (IPv4 protocol or IPv6 next header).
    NwProto = "nw_proto", 0, 48, 8, Ip, false;
    /// ARP opcode (lower 8 bits, in `nw_proto`'s place, as OVS).
    ArpOp = "arp_op", 0, 48, 8, Arp, true;
    /// The whole IPv4 TOS / IPv6 traffic class byte.
    NwTos = "nw_tos", 0, 56, 8, Ip, true;
    /// DSCP: the upper six bits of `nw_tos`.
    IpDscp = "ip_dscp", 0, 58, 6, Ip, true;
    /// ECN: the lower two bits of `nw_tos`.
    NwEcn = "nw_ecn", 0, 56, 2, Ip, true;
    /// Destination MAC.
    DlDst = "dl_dst", 1, 0, 48, None, true;
    /// IPv4 TTL / IPv6 hop limit.
    NwTtl = "nw_ttl", 1, 48, 8, Ip, true;
    /// Source MAC.
    DlSrc = "dl_src", 2, 0, 48, None, true;
    /// TCP flags (12 bits).
    TcpFlags = "tcp_flags", 2, 48, 12, Tcp, false;
    /// IPv4 source.
    NwSrc = "nw_src", 3, 0, 32, Ipv4, true;
    /// IPv4 destination.
    NwDst = "nw_dst", 3, 32, 32, Ipv4, true;
    /// ARP sender protocol address (in `nw_src`'s place).
    ArpSpa = "arp_spa", 3, 0, 32, Arp, true;
    /// ARP target protocol address (in `nw_dst`'s place).
    ArpTpa = "arp_tpa", 3, 32, 32, Arp, true;
    /// TCP/UDP/SCTP source port.
    TpSrc = "tp_src", 4, 0, 16, L4, true;
    /// TCP/UDP/SCTP destination port.
    TpDst = "tp_dst", 4, 16, 16, L4, true;
    /// ICMP type (in `tp_src`'s place).
    IcmpType = "icmp_type", 4, 0, 8, Icmp, true;
    /// ICMP code (in `tp_dst`'s place).
    IcmpCode = "icmp_code", 4, 16, 8, Icmp, true;
    /// ICMPv6 type (in `tp_src`'s place).
    Icmpv6Type = "icmpv6_type", 4, 0, 8, Icmpv6, true;
    /// ICMPv6 code (in `tp_dst`'s place).
    Icmpv6Code = "icmpv6_code", 4, 16, 8, Icmpv6, true;
    /// IPv6 flow label (20 bits).
    Ipv6Label = "ipv6_label", 4, 32, 20, Ipv6, true;
    /// Tunnel id: VNI or GRE key of a frame received on a tunnel port.
    TunId = "tun_id", 5, 0, 64, None, true;
    /// Pipeline metadata.
    Metadata = "metadata", 6, 0, 64, None, true;
    /// Register 0.
    Reg0 = "reg0", 7, 0, 32, None, true;
    /// Register 1.
    Reg1 = "reg1", 7, 32, 32, None, true;
    /// Register 2.
    Reg2 = "reg2", 8, 0, 32, None, true;
    /// Register 3.
    Reg3 = "reg3", 8, 32, 32, None, true;
    /// Register 4.
    Reg4 = "reg4", 9, 0, 32, None, true;
    /// Register 5.
    Reg5 = "reg5", 9, 32, 32, None, true;
    /// Register 6.
    Reg6 = "reg6", 10, 0, 32, None, true;
    /// Register 7.
    Reg7 = "reg7", 10, 32, 32, None, true;
    /// IPv6 source.
    Ipv6Src = "ipv6_src", 11, 0, 128, Ipv6, true;
    /// IPv6 destination.
    Ipv6Dst = "ipv6_dst", 13, 0, 128, Ipv6, true;
    /// ND target address.
    NdTarget = "nd_target", 15, 0, 128, Nd, true;
    /// ARP sender hardware address.
    ArpSha = "arp_sha", 17, 0, 48, Arp, true;
    /// ARP target hardware address.
    ArpTha = "arp_tha", 18, 0, 48, Arp, true;
}

impl Field {
    /// The field called `name` (OVS names, plus the OXM-style aliases
    /// `ovs-ofctl` accepts: `eth_src`, `eth_dst`, `eth_type`, `ip_proto`,
    /// `ipv4_src`, `ipv4_dst`, `tcp_src`, `tcp_dst`, `udp_src`, `udp_dst`,
    /// `sctp_src`, `sctp_dst`, `icmpv4_type`, `icmpv4_code`, `vlan_pcp`,
    /// `nw_tos`-likes, `tunnel_id`, `NXM_NX_REGn`, `ip_ecn`, `ipv6_flabel`).
    pub fn from_name(name: &str) -> Option<Field> {
        if let Some(f) = Field::ALL.iter().find(|f| f.name() == name) {
            return Some(*f);
        }
        Some(match name {
            "eth_src" => Field::DlSrc,
            "eth_dst" => Field::DlDst,
            "eth_type" => Field::DlType,
            "ip_proto" => Field::NwProto,
            "ipv4_src" => Field::NwSrc,
            "ipv4_dst" => Field::NwDst,
            "tcp_src" | "udp_src" | "sctp_src" => Field::TpSrc,
            "tcp_dst" | "udp_dst" | "sctp_dst" => Field::TpDst,
            "icmpv4_type" => Field::IcmpType,
            "icmpv4_code" => Field::IcmpCode,
            "vlan_pcp" => Field::VlanPcp,
            "ip_ecn" => Field::NwEcn,
            "tunnel_id" => Field::TunId,
            "ipv6_flabel" => Field::Ipv6Label,
            "nd_target" => Field::NdTarget,
            "NXM_NX_REG0" => Field::Reg0,
            "NXM_NX_REG1" => Field::Reg1,
            "NXM_NX_REG2" => Field::Reg2,
            "NXM_NX_REG3" => Field::Reg3,
            "NXM_NX_REG4" => Field::Reg4,
            "NXM_NX_REG5" => Field::Reg5,
            "NXM_NX_REG6" => Field::Reg6,
            "NXM_NX_REG7" => Field::Reg7,
            _ => return None,
        })
    }

    /// Register `n` (0–7).
    pub fn reg(n: usize) -> Option<Field> {
        [
            Field::Reg0,
            Field::Reg1,
            Field::Reg2,
            Field::Reg3,
            Field::Reg4,
            Field::Reg5,
            Field::Reg6,
            Field::Reg7,
        ]
        .get(n)
        .copied()
    }

    /// All ones over the field's width.
    pub const fn max(self) -> u128 {
        let bits = self.place().bits as u32;
        if bits >= 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        }
    }
}

impl FlowKey {
    /// All zero: an all-wildcard mask, or a key with nothing set.
    pub const ZERO: FlowKey = FlowKey([0; KEY_WORDS]);

    /// The value of `field`.
    #[inline]
    pub fn get(&self, field: Field) -> u128 {
        let p = field.place();
        let w = p.word as usize;
        if p.bits == 128 {
            return (u128::from(self.0[w]) << 64) | u128::from(self.0[w + 1]);
        }
        let v = self.0[w] >> p.shift;
        u128::from(if p.bits == 64 {
            v
        } else {
            v & ((1u64 << p.bits) - 1)
        })
    }

    /// Sets `field` to `value` (bits beyond the field's width are ignored).
    #[inline]
    pub fn set(&mut self, field: Field, value: u128) {
        let p = field.place();
        let w = p.word as usize;
        if p.bits == 128 {
            self.0[w] = (value >> 64) as u64;
            self.0[w + 1] = value as u64;
            return;
        }
        let m = if p.bits == 64 {
            u64::MAX
        } else {
            ((1u64 << p.bits) - 1) << p.shift
        };
        self.0[w] = (self.0[w] & !m) | (((value as u64) << p.shift) & m);
    }

    /// Sets the bits of `field` selected by `mask` to those of `value`.
    #[inline]
    pub fn set_masked(&mut self, field: Field, value: u128, mask: u128) {
        let old = self.get(field);
        self.set(field, (old & !mask) | (value & mask));
    }

    /// `self & mask`, word by word.
    #[inline]
    pub fn masked(&self, mask: &FlowKey) -> FlowKey {
        let mut out = [0u64; KEY_WORDS];
        for (o, (a, b)) in out.iter_mut().zip(self.0.iter().zip(mask.0.iter())) {
            *o = a & b;
        }
        FlowKey(out)
    }

    /// `self | other`, word by word (the union of two masks).
    #[inline]
    pub fn union(&self, other: &FlowKey) -> FlowKey {
        let mut out = [0u64; KEY_WORDS];
        for (o, (a, b)) in out.iter_mut().zip(self.0.iter().zip(other.0.iter())) {
            *o = a | b;
        }
        FlowKey(out)
    }

    /// Whether every bit is zero.
    #[inline]
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    // Typed accessors for the fields the data path reads most.

    /// `dl_type`.
    #[inline]
    pub fn dl_type(&self) -> u16 {
        self.get(Field::DlType) as u16
    }

    /// `nw_proto`.
    #[inline]
    pub fn nw_proto(&self) -> u8 {
        self.get(Field::NwProto) as u8
    }

    /// `vlan_tci` (0 when untagged).
    #[inline]
    pub fn vlan_tci(&self) -> u16 {
        self.get(Field::VlanTci) as u16
    }

    /// `in_port`.
    #[inline]
    pub fn in_port(&self) -> u16 {
        self.get(Field::InPort) as u16
    }
}

/// Word indexes and the mask's value in each, for the words a mask
/// touches: enough to reduce a key to what the mask keeps in a few loads.
/// The classifier's subtables use one, and the exact-match cache one for the words beyond the first few.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Words {
    /// How many words the mask touches.
    pub(crate) n: usize,
    /// Their indexes in the key, ascending.
    pub(crate) idx: [u8; KEY_WORDS],
    /// The mask's value in each.
    pub(crate) mask: [u64; KEY_WORDS],
}

impl Words {
    pub(crate) fn of(mask: &FlowKey) -> Words {
        let mut w = Words {
            n: 0,
            idx: [0; KEY_WORDS],
            mask: [0; KEY_WORDS],
        };
        for (i, m) in mask.0.iter().enumerate() {
            if *m != 0 {
                w.idx[w.n] = i as u8;
                w.mask[w.n] = *m;
                w.n += 1;
            }
        }
        w
    }

    /// `key`'s masked words, in order: what a subtable hashes and stores.
    #[inline(always)]
    pub(crate) fn iter<'a>(&'a self, key: &'a FlowKey) -> impl Iterator<Item = u64> + 'a {
        self.idx[..self.n]
            .iter()
            .zip(&self.mask[..self.n])
            .map(|(i, m)| key.0[usize::from(*i)] & m)
    }

    /// Writes `key`'s masked words to `out` and returns them.
    #[inline(always)]
    pub(crate) fn reduce<'a>(&self, key: &FlowKey, out: &'a mut [u64; KEY_WORDS]) -> &'a [u64] {
        for (o, w) in out.iter_mut().zip(self.iter(key)) {
            *o = w;
        }
        &out[..self.n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_fit_their_words_and_do_not_overlap_unless_aliases() {
        for f in Field::ALL {
            let p = f.place();
            if p.bits == 128 {
                assert_eq!(p.shift, 0);
                assert!((p.word as usize) + 1 < KEY_WORDS);
            } else {
                assert!(u32::from(p.shift) + u32::from(p.bits) <= 64, "{f:?}");
                assert!((p.word as usize) < KEY_WORDS);
            }
            assert_eq!(Field::from_name(f.name()), Some(*f));
        }
    }

    #[test]
    fn get_set_round_trip() {
        let mut k = FlowKey::ZERO;
        for (i, f) in Field::ALL.iter().enumerate() {
            let mut k2 = FlowKey::ZERO;
            let v = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128.rotate_left(i as u32) & f.max();
            k2.set(*f, v);
            assert_eq!(k2.get(*f), v, "{f:?}");
            k.set(*f, v);
        }
        k.set(Field::VlanTci, 0x1000 | 10 | (5 << 13));
        assert_eq!(k.get(Field::VlanVid), 10);
        assert_eq!(k.get(Field::VlanPcp), 5);
        k.set(Field::NwTos, 0xb9);
        assert_eq!(k.get(Field::IpDscp), 0xb9 >> 2);
        assert_eq!(k.get(Field::NwEcn), 1);
    }
}

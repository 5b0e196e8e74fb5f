//! Tests of [`super`]: the checks of OXM decoding, one by one, VLAN
//! semantics, set-field TLVs, and round trips of random matches (whole
//! flows against `ovs-ofctl` bytes are in `action`'s tests).

use proptest::prelude::*;

use super::*;
use crate::flow::syntax::parse_flow;
use crate::flow::NoNames;

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// An `ofp_match` holding the TLVs `tlvs` (hex).
fn with(tlvs: &str) -> Vec<u8> {
    let body = unhex(tlvs);
    let mut out = vec![0, 1];
    out.extend_from_slice(&((4 + body.len()) as u16).to_be_bytes());
    out.extend_from_slice(&body);
    pad8(&mut out, 0);
    out
}

fn decode(tlvs: &str) -> Result<Match, OfError> {
    decode_match(&with(tlvs)).map(|(m, _)| m)
}

fn text(s: &str) -> Match {
    parse_flow(&format!("{s},actions=drop"), &NoNames)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .matching
}

const IP: &str = "80000a02 0800";
const TCP: &str = "80000a02 0800 80001401 06";

#[test]
fn ports_map_as_ovs() {
    assert_eq!(port_from_of13(1), Some(1));
    assert_eq!(port_from_of13(0xfeff), Some(0xfeff));
    assert_eq!(port_from_of13(0xff00), None);
    assert_eq!(port_from_of13(0xffff_fff7), None);
    assert_eq!(port_from_of13(0xffff_fff8), Some(ofport::IN_PORT));
    assert_eq!(port_from_of13(0xffff_fffe), Some(ofport::LOCAL));
    assert_eq!(port_from_of13(0xffff_ffff), Some(ofport::NONE));
    for p in [1, ofport::MAX, ofport::IN_PORT, ofport::CONTROLLER, ofport::NONE] {
        assert_eq!(port_from_of13(port_to_of13(p)), Some(p));
    }
    assert_eq!(port_to_of13(ofport::CONTROLLER), 0xffff_fffd);
}

#[test]
fn match_header_errors() {
    use OfError::*;
    assert_eq!(decode_match(&[0, 1]), Err(BadMatchLen));
    assert_eq!(decode_match(&unhex("0001 0003 00000000")), Err(BadMatchLen));
    assert_eq!(decode_match(&unhex("0000 0004 00000000")), Err(BadMatchType));
    assert_eq!(decode_match(&unhex("0002 0004 00000000")), Err(BadMatchType));
    // The padding must be there.
    assert_eq!(decode_match(&unhex("0001 0004 0000")), Err(BadMatchLen));
    assert_eq!(decode_match(&unhex("0001 0004 00000000")), Ok((Match::ANY, 8)));
    assert_eq!(
        decode_match(&unhex("0001 0004 00000000 ffff")).map(|r| r.1),
        Ok(8)
    );
    // A TLV cut short, or longer than the match.
    assert_eq!(decode_match(&unhex("0001 0006 8000 0000")), Err(BadMatchLen));
    assert_eq!(
        decode_match(&unhex("0001 000a 80000a04 0800 0000 00000000")),
        Err(BadMatchLen)
    );
}

#[test]
fn field_errors_in_ovs_order() {
    use OfError::*;
    // Unknown: IN_PHY_PORT, MPLS_LABEL, an unknown class, an experimenter.
    assert_eq!(decode("80000204 00000001"), Err(BadField));
    assert_eq!(decode("80004404 00000001"), Err(BadField));
    assert_eq!(decode("00050004 00000001"), Err(BadField));
    assert_eq!(decode("ffff5406 12345678 0002"), Err(BadField));
    // A known field with the wrong length; an experimenter too short for its id.
    assert_eq!(decode("80000a03 080000"), Err(BadMatchLen));
    assert_eq!(decode("ffff5402 0002"), Err(BadMatchLen));
    // Value bits outside the mask.
    assert_eq!(decode("80000d04 1005 1000"), Err(BadWildcards));
    // A mask on a field that takes none (all-ones is fine, as OVS).
    assert_eq!(decode("80000b04 0800 ff00"), Err(BadMask));
    assert_eq!(decode("80000b04 0800 ffff"), Ok(text("ip")));
    // Values the field cannot hold.
    assert_eq!(decode("80000c02 2001"), Err(BadValue));
    assert_eq!(decode("80000004 ffffff00"), Err(BadValue));
    assert_eq!(decode(&format!("{IP} 80001001 40")), Err(BadValue));
    assert_eq!(decode(&format!("{IP} 80001201 04")), Err(BadValue));
    assert_eq!(decode("80000a02 0806 80002a02 0100"), Err(BadValue));
    assert_eq!(decode("80000a02 86dd 80003804 00100000"), Err(BadValue));
    assert_eq!(decode(&format!("{IP} 00000a01 21")), Err(BadValue));
    // Prerequisites, in order: ip_proto before eth_type is refused.
    assert_eq!(decode("80001401 06 80000a02 0800"), Err(BadPrereq));
    assert_eq!(decode("80001a02 0050"), Err(BadPrereq));
    assert_eq!(decode(&format!("{IP} 80001a02 0050")), Err(BadPrereq));
    assert_eq!(decode(&format!("{IP} 80001401 11 80001a02 0050")), Err(BadPrereq));
    assert_eq!(decode("80000a02 86dd 80001401 01 80002601 08"), Err(BadPrereq));
    assert_eq!(
        decode("80000a02 86dd 80001401 3a 80003e10 fe800000000000000000000000000001"),
        Err(BadPrereq)
    );
    assert_eq!(decode("80000e01 03"), Err(BadPrereq));
    assert_eq!(decode("80000c02 0000 80000e01 03"), Err(BadPrereq));
    assert_eq!(decode("ffff5406 4f4e4600 0002"), Err(BadPrereq));
    assert_eq!(
        decode(&format!("{IP} 80001401 11 ffff5406 4f4e4600 0002")),
        Err(BadPrereq)
    );
    // The same bits twice, under any name.
    assert_eq!(decode("80000a02 0800 80000a02 0800"), Err(DupField));
    assert_eq!(decode("80000c02 1005 00000802 1005"), Err(DupField));
    assert_eq!(decode(&format!("{IP} 80001001 08 00000a01 20")), Err(DupField));
    assert_eq!(decode("00010004 00000001 00010004 00000001"), Err(DupField));
    assert_eq!(
        decode("80004c08 0000000000000001 00012008 0000000000000001"),
        Err(DupField)
    );
}

#[test]
fn fields_decode_as_the_text_syntax_reads_them() {
    let cases: &[(&str, &str)] = &[
        ("80000004 00000007", "in_port=7"),
        ("00000002 0007", "in_port=7"),
        ("80000c02 100a", "dl_vlan=10"),
        ("80000c02 0000", "vlan_tci=0/0x1fff"),
        ("80000d04 1000 1000", "vlan_tci=0x1000/0x1000"),
        ("80000c02 100a 80000e01 05", "dl_vlan=10,dl_vlan_pcp=5"),
        ("80000d04 1000 1000 80000e01 05", "dl_vlan_pcp=5"),
        ("00000904 2000 2000", "vlan_tci=0x2000/0x2000"),
        (&format!("{IP} 80001001 08"), "ip,nw_tos=32"),
        (&format!("{IP} 00000a01 20"), "ip,nw_tos=32"),
        (&format!("{IP} 80001201 03 00013a01 40"), "ip,nw_ecn=3,nw_ttl=64"),
        (
            &format!("{TCP} 80001a02 0050 80001d04 0400 fc00"),
            "tcp,tp_src=80,tp_dst=0x400/0xfc00",
        ),
        (&format!("{TCP} 00001202 0050"), "tcp,tp_src=80"),
        (&format!("{TCP} 00014402 0012"), "tcp,tcp_flags=0x12"),
        ("80000a02 0800 80001401 11 80001e02 0035", "udp,tp_src=53"),
        ("80000a02 0800 80001401 84 80002402 0035", "sctp,tp_dst=53"),
        (
            "80000a02 0800 80001401 01 80002601 08 80002801 00",
            "icmp,icmp_type=8,icmp_code=0",
        ),
        (
            "80000a02 0806 80002a02 0001 80002d08 0a000000 ffffff00",
            "arp,arp_op=1,arp_spa=10.0.0.0/24",
        ),
        (
            "80000a02 8035 80003006 001122334455",
            "rarp,arp_sha=00:11:22:33:44:55",
        ),
        (
            "00010004 00000005 00010f08 00000010 000000f0",
            "reg0=5,reg7=0x10/0xf0",
        ),
        ("00012008 0000000000001234", "tun_id=0x1234"),
        (
            "80004d10 0000000000001234 000000000000ffff",
            "tun_id=0x1234/0xffff",
        ),
        ("80000510 0000000000000001 00000000000000ff", "metadata=0x1/0xff"),
        (
            "80000a02 86dd 80001401 3a 80003a01 87 80003e10 fe800000000000000000000000000001",
            "icmp6,icmp_type=135,nd_target=fe80::1",
        ),
    ];
    for (tlvs, want) in cases {
        assert_eq!(decode(tlvs), Ok(text(want)), "{tlvs}");
    }
    let mut local = Match::ANY;
    local.set_exact(Field::InPort, u128::from(ofport::LOCAL));
    assert_eq!(decode("80000004 fffffffe"), Ok(local));
    // A zero mask matches nothing more (and may come again).
    assert_eq!(decode("8000070c 000000000000 000000000000"), Ok(Match::ANY));
}

#[test]
fn vlan_tci_masks_oxm_lacks_go_out_as_nxm() {
    let enc = |m: &Match| {
        let mut out = Vec::new();
        encode_match(m, &mut out);
        out
    };
    for s in [
        "vlan_tci=0x2000/0x2000",
        "vlan_tci=0x3005/0x3fff",
        "vlan_tci=0xf123",
        "vlan_tci=0x0000/0xf000",
        "vlan_tci=0x1000/0x1000",
        "dl_vlan_pcp=7",
        "dl_vlan=0xffff",
    ] {
        let m = text(s);
        let bytes = enc(&m);
        let back = decode_match(&bytes).unwrap().0;
        if s == "dl_vlan=0xffff" {
            // "Untagged" goes out as vlan_vid=0, as OVS sends it.
            assert_eq!(back, text("vlan_tci=0/0x1fff"));
        } else if s == "vlan_tci=0x0000/0xf000" {
            // Untagged frames' PCP is 0: the PCP bits add nothing.
            assert_eq!(back, text("vlan_tci=0/0x1000"));
        } else {
            assert_eq!(back, m, "{s}");
        }
    }
    assert_eq!(
        enc(&text("vlan_tci=0x2000/0x2000")),
        unhex("0001 000c 00000904 2000 2000 00000000")
    );
}

#[test]
fn set_field_tlvs_round_trip_for_every_writable_field() {
    for f in Field::ALL.iter().copied().filter(|f| f.writable()) {
        let v = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128 & f.max();
        let mut out = Vec::new();
        encode_set_field(f, v, None, &mut out);
        out.resize(out.len().div_ceil(8) * 8 + 4, 0);
        let want = match f {
            // nw_tos is written as its DSCP bits (the text parser's form).
            Field::NwTos => (Field::IpDscp, v >> 2),
            _ => (f, v),
        };
        assert_eq!(decode_set_field(&out), Ok(want), "{f:?}");
    }
    for proto in [6, 17, 132] {
        let mut out = Vec::new();
        encode_set_field(Field::TpDst, 80, Some(proto), &mut out);
        let w = lookup((be(&out[..2])) as u16, out[2] >> 1, 0).unwrap();
        assert_eq!(w.proto, Some(proto));
        assert_eq!(decode_set_field(&out), Ok((Field::TpDst, 80)));
    }
}

#[test]
fn every_wire_field_is_found_by_its_header() {
    for w in WIRE {
        assert_eq!(lookup(w.class, w.field, w.experimenter), Some(w), "{}", w.name);
        if w.class != OFPXMC_EXPERIMENTER {
            assert_eq!(lookup_header(w.header(false)), Some(w), "{}", w.name);
            assert_eq!(lookup_header(w.header(true)), None, "{}", w.name);
        }
    }
    for f in Field::ALL {
        let w = wire_for(*f, None);
        let ok = match w.map {
            Map::Plain(g) => g == *f || (*f == Field::NwTos && g == Field::IpDscp),
            Map::InPort32 => *f == Field::InPort,
            Map::VlanVid => *f == Field::VlanVid,
            Map::VlanPcp => *f == Field::VlanPcp,
            Map::IpTos => false,
        };
        assert!(ok, "{f:?} -> {}", w.name);
    }
}

/// Protocol classes of random matches: `dl_type`, `nw_proto`, and the
/// fields that may then appear (with whether they take a mask).
fn class_fields(class: usize) -> (Option<u16>, Option<u8>, Vec<(Field, bool)>) {
    use Field::*;
    let ip = vec![(IpDscp, false), (NwEcn, false), (NwTtl, false)];
    let v4 = [(NwSrc, true), (NwDst, true)];
    let v6 = [(Ipv6Src, true), (Ipv6Dst, true), (Ipv6Label, true)];
    let l4 = [(TpSrc, true), (TpDst, true)];
    let cat = |parts: &[&[(Field, bool)]]| parts.concat();
    match class {
        0 => (None, None, vec![]),
        1 => (Some(0x88cc), None, vec![]),
        2 => (Some(0x0800), None, cat(&[&ip, &v4])),
        3 => (Some(0x0800), Some(47), cat(&[&ip, &v4])),
        4 => (Some(0x86dd), None, cat(&[&ip, &v6])),
        5 => (Some(0x0800), Some(6), cat(&[&ip, &v4, &l4, &[(TcpFlags, true)]])),
        6 => (Some(0x86dd), Some(6), cat(&[&ip, &v6, &l4, &[(TcpFlags, true)]])),
        7 => (Some(0x0800), Some(17), cat(&[&ip, &v4, &l4])),
        8 => (Some(0x86dd), Some(132), cat(&[&ip, &v6, &l4])),
        9 => (
            Some(0x0800),
            Some(1),
            cat(&[&ip, &v4, &[(IcmpType, false), (IcmpCode, false)]]),
        ),
        10 => (
            Some(0x86dd),
            Some(58),
            cat(&[&ip, &v6, &[(Icmpv6Type, false), (Icmpv6Code, false)]]),
        ),
        11 => (
            Some(0x0806),
            None,
            vec![
                (ArpOp, false),
                (ArpSpa, true),
                (ArpTpa, true),
                (ArpSha, true),
                (ArpTha, true),
            ],
        ),
        _ => (
            Some(0x86dd),
            Some(58),
            cat(&[&ip, &v6, &[(NdTarget, true), (Icmpv6Code, false)]]),
        ),
    }
}

/// A random match that OXM carries exactly (no `dl_vlan=0xffff`, which
/// goes out as `vlan_vid=0`, and no masks on fields that take none).
fn build_match(class: usize, vlan: (u8, u16, u16), raws: &[(usize, u128, u128, bool)]) -> Match {
    use Field::*;
    let mut m = Match::ANY;
    let (dl_type, proto, fields) = class_fields(class % 13);
    if let Some(t) = dl_type {
        m.set_exact(DlType, t.into());
    }
    if let Some(p) = proto {
        m.set_exact(NwProto, p.into());
    }
    if class % 13 == 12 {
        m.set_exact(Icmpv6Type, 135 + (class as u128 / 13) % 2);
    }
    let cfi = u128::from(VLAN_CFI);
    let (kind, v, mk) = (vlan.0 % 8, u128::from(vlan.1), u128::from(vlan.2));
    match kind {
        1 => m.set(VlanTci, cfi | (v & 0xfff), 0x1fff),
        2 => m.set(VlanTci, cfi, cfi),
        3 => m.set(VlanTci, 0, 0x1fff),
        4 => m.set(VlanTci, cfi | v, 0xffff),
        5 => m.set(VlanTci, cfi | (v & 0xe000), cfi | 0xe000),
        6 => m.set(VlanTci, v, mk & 0x1fff),
        // Any TCI pattern but "untagged with PCP bits" (which OXM states
        // as plain "untagged": the same frames, other bits).
        7 if mk & cfi != 0 && v & cfi == 0 && mk & 0xe000 != 0 => {}
        7 => m.set(VlanTci, v, mk),
        _ => {}
    }
    let common = [
        (InPort, false),
        (DlSrc, true),
        (DlDst, true),
        (TunId, true),
        (Metadata, true),
        (Reg0, true),
        (Reg3, true),
        (Reg7, true),
    ];
    let all: Vec<(Field, bool)> = common.iter().copied().chain(fields).collect();
    for &(i, value, mask, masked) in raws {
        let (f, maskable) = all[i % all.len()];
        if m.mask_of(f) != 0 {
            continue;
        }
        let value = if f == InPort {
            if value % 2 == 0 {
                1 + value % u128::from(ofport::MAX)
            } else {
                u128::from(ofport::LOCAL)
            }
        } else {
            value
        };
        let mask = if maskable && masked { mask } else { f.max() };
        m.set(f, value, mask);
    }
    m
}

/// `m` without the PCP bits of a match on "untagged" (CFI 0) that asks
/// them to be 0: an untagged frame's TCI is 0 anyway.
fn untagged_pcp(mut m: Match) -> Match {
    let (v, mk) = (m.value_of(Field::VlanTci), m.mask_of(Field::VlanTci));
    let cfi = u128::from(VLAN_CFI);
    if mk & cfi != 0 && v & cfi == 0 && v & 0xe000 == 0 {
        m.set(Field::VlanTci, v, mk & 0x1fff);
    }
    m
}

fn arb_match() -> impl Strategy<Value = Match> {
    (
        any::<usize>(),
        (any::<u8>(), any::<u16>(), any::<u16>()),
        proptest::collection::vec(
            (any::<usize>(), any::<u128>(), any::<u128>(), any::<bool>()),
            0..8,
        ),
    )
        .prop_map(|(class, vlan, raws)| build_match(class, vlan, &raws))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn matches_round_trip(m in arb_match()) {
        let mut out = vec![0xaa];
        encode_match(&m, &mut out);
        prop_assert_eq!(out.len() % 8, 1);
        prop_assert_eq!(decode_match(&out[1..]), Ok((m, out.len() - 1)), "{:02x?}", &out[1..]);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_match(&bytes);
        let _ = decode_set_field(&bytes);
    }

    /// Well-formed TLV headers of known fields with random payloads, to
    /// reach the value, mask and prerequisite checks.
    #[test]
    fn decode_never_panics_on_known_fields(
        picks in proptest::collection::vec((any::<usize>(), any::<bool>(), any::<u128>(), any::<u128>()), 0..6),
    ) {
        let mut tlvs = Vec::new();
        for (i, masked, v, mk) in picks {
            let w = &WIRE[i % WIRE.len()];
            put_tlv(&mut tlvs, w, v & w.ones(), masked.then_some(mk & w.ones()));
        }
        let mut buf = vec![0, 1];
        buf.extend_from_slice(&((4 + tlvs.len()) as u16).to_be_bytes());
        buf.extend_from_slice(&tlvs);
        pad8(&mut buf, 0);
        if let Ok((m, n)) = decode_match(&buf) {
            prop_assert_eq!(n, buf.len());
            // What decodes encodes to something that decodes the same (up
            // to the PCP bits of "untagged", which OXM leaves implied).
            let mut again = Vec::new();
            encode_match(&m, &mut again);
            prop_assert_eq!(decode_match(&again).map(|r| untagged_pcp(r.0)), Ok(untagged_pcp(m)));
        }
        let _ = decode_set_field(&tlvs);
    }
}

/// Found by `decode_never_panics_on_known_fields`: NXM_OF_IN_PORT 0xff00
/// decoded to a match that OXM IN_PORT cannot carry back (0xffffff00 names
/// no port). The 16-bit numbers between the real and the reserved ports are
/// refused as OXM's 32-bit ones are.
#[test]
fn nxm_in_port_between_real_and_reserved_ports_is_refused() {
    let w = WIRE
        .iter()
        .find(|w| w.name == "NXM_OF_IN_PORT")
        .expect("NXM_OF_IN_PORT");
    for (port, ok) in [
        (0xfeffu128, true),
        (0xff00, false),
        (0xfff7, false),
        (0xfff8, true),
        (0xfffe, true),
    ] {
        let mut tlvs = Vec::new();
        put_tlv(&mut tlvs, w, port, None);
        let mut buf = vec![0, 1];
        buf.extend_from_slice(&((4 + tlvs.len()) as u16).to_be_bytes());
        buf.extend_from_slice(&tlvs);
        pad8(&mut buf, 0);
        let got = decode_match(&buf);
        assert_eq!(got.is_ok(), ok, "in_port {port:#x}: {got:?}");
        if let Ok((m, _)) = got {
            let mut again = Vec::new();
            encode_match(&m, &mut again);
            assert_eq!(decode_match(&again).map(|r| r.0), Ok(m), "in_port {port:#x}");
        }
    }
}

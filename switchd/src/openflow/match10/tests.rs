//! Tests of [`super`]: decoding with OpenFlow 1.0's "ignored" fields,
//! the values switchd refuses, encoding as OVS (checked by `ovs-ofctl
//! parse-ofp10-match` when installed), and round trips by proptest.

use std::io::Write;
use std::process::{Command, Stdio};

use proptest::prelude::*;
use proptest::strategy::ValueTree;

use super::*;
use crate::flow::syntax::parse_flow;
use crate::flow::types::ofport;
use crate::flow::NoNames;

fn text(s: &str) -> Match {
    parse_flow(&format!("{s},actions=drop"), &NoNames)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .matching
}

/// An `ofp_match` with wildcards `wc` and the given field values.
#[derive(Debug, Clone, Copy, Default)]
struct Raw {
    wc: u32,
    in_port: u16,
    dl_src: [u8; 6],
    dl_dst: [u8; 6],
    dl_vlan: u16,
    pcp: u8,
    dl_type: u16,
    tos: u8,
    proto: u8,
    nw_src: u32,
    nw_dst: u32,
    tp_src: u16,
    tp_dst: u16,
}

impl Raw {
    /// Everything wildcarded, as OVS writes it (the nw_src/nw_dst counts
    /// at 32, not 63).
    fn any() -> Raw {
        Raw {
            wc: (OFPFW_ALL & !(0x3f << OFPFW_NW_SRC_SHIFT) & !(0x3f << OFPFW_NW_DST_SHIFT))
                | NW_SRC_ALL
                | NW_DST_ALL,
            ..Raw::default()
        }
    }

    /// With `bits` matched (their wildcard bits cleared).
    fn on(mut self, bits: u32) -> Raw {
        self.wc &= !bits;
        self
    }

    fn bytes(&self) -> [u8; MATCH_LEN] {
        let mut b = [0u8; MATCH_LEN];
        b[0..4].copy_from_slice(&self.wc.to_be_bytes());
        b[4..6].copy_from_slice(&self.in_port.to_be_bytes());
        b[6..12].copy_from_slice(&self.dl_src);
        b[12..18].copy_from_slice(&self.dl_dst);
        b[18..20].copy_from_slice(&self.dl_vlan.to_be_bytes());
        b[20] = self.pcp;
        b[22..24].copy_from_slice(&self.dl_type.to_be_bytes());
        b[24] = self.tos;
        b[25] = self.proto;
        b[28..32].copy_from_slice(&self.nw_src.to_be_bytes());
        b[32..36].copy_from_slice(&self.nw_dst.to_be_bytes());
        b[36..38].copy_from_slice(&self.tp_src.to_be_bytes());
        b[38..40].copy_from_slice(&self.tp_dst.to_be_bytes());
        b
    }
}

const NW_SRC_ALL: u32 = 32 << OFPFW_NW_SRC_SHIFT;
const NW_DST_ALL: u32 = 32 << OFPFW_NW_DST_SHIFT;

/// A matched IPv4 source with `wcbits` low bits wildcarded.
fn nw_src(r: Raw, wcbits: u32, ip: u32) -> Raw {
    Raw {
        wc: (r.wc & !(0x3f << OFPFW_NW_SRC_SHIFT)) | (wcbits << OFPFW_NW_SRC_SHIFT),
        nw_src: ip,
        ..r
    }
}

#[test]
fn decodes_as_the_text_syntax_reads_it() {
    let tcp = Raw {
        dl_type: 0x0800,
        proto: 6,
        tp_dst: 80,
        ..Raw::any()
    }
    .on(OFPFW_DL_TYPE | OFPFW_NW_PROTO | OFPFW_TP_DST);
    let cases = [
        (Raw::any(), "priority=1"),
        (
            Raw {
                in_port: 3,
                ..Raw::any()
            }
            .on(OFPFW_IN_PORT),
            "in_port=3",
        ),
        (tcp, "tcp,tp_dst=80"),
        (nw_src(tcp, 8, 0x0a01_0203), "tcp,tp_dst=80,nw_src=10.1.2.0/24"),
        (nw_src(tcp, 40, 0x0a01_0203), "tcp,tp_dst=80"),
        (
            Raw {
                dl_vlan: 0xffff,
                pcp: 3,
                ..Raw::any()
            }
            .on(OFPFW_DL_VLAN | OFPFW_DL_VLAN_PCP),
            "dl_vlan=0xffff",
        ),
        (
            Raw {
                dl_vlan: 10,
                pcp: 3,
                ..Raw::any()
            }
            .on(OFPFW_DL_VLAN | OFPFW_DL_VLAN_PCP),
            "dl_vlan=10,dl_vlan_pcp=3",
        ),
        (
            Raw { pcp: 3, ..Raw::any() }.on(OFPFW_DL_VLAN_PCP),
            "dl_vlan_pcp=3",
        ),
        (
            Raw {
                dl_type: 0x0800,
                tos: 0x2b,
                ..Raw::any()
            }
            .on(OFPFW_DL_TYPE | OFPFW_NW_TOS),
            "ip,nw_tos=40",
        ),
        (
            Raw {
                dl_type: 0x0800,
                proto: 1,
                tp_src: 8,
                tp_dst: 0,
                ..Raw::any()
            }
            .on(OFPFW_DL_TYPE | OFPFW_NW_PROTO | OFPFW_TP_SRC | OFPFW_TP_DST),
            "icmp,icmp_type=8,icmp_code=0",
        ),
        (
            Raw {
                dl_type: 0x86dd,
                proto: 58,
                tp_src: 135,
                ..Raw::any()
            }
            .on(OFPFW_DL_TYPE | OFPFW_NW_PROTO | OFPFW_TP_SRC),
            "icmp6,icmp_type=135",
        ),
        (
            nw_src(
                Raw {
                    dl_type: 0x0806,
                    proto: 2,
                    ..Raw::any()
                }
                .on(OFPFW_DL_TYPE | OFPFW_NW_PROTO),
                0,
                0x0a00_0001,
            ),
            "arp,arp_op=2,arp_spa=10.0.0.1",
        ),
        (
            Raw {
                dl_src: [0, 1, 2, 3, 4, 5],
                dl_dst: [6, 7, 8, 9, 10, 11],
                ..Raw::any()
            }
            .on(OFPFW_DL_SRC | OFPFW_DL_DST),
            "dl_src=00:01:02:03:04:05,dl_dst=06:07:08:09:0a:0b",
        ),
        // Bits beyond OFPFW_ALL are ignored.
        (
            Raw {
                wc: u32::MAX,
                ..Raw::any()
            },
            "priority=1",
        ),
    ];
    for (raw, want) in cases {
        assert_eq!(decode(&raw.bytes()), Ok(text(want)), "{raw:?}");
    }
}

#[test]
fn fields_of_a_protocol_not_matched_are_ignored() {
    // Everything matched, values from a TCP/IPv4 frame, but a protocol
    // wildcarded or another one named: only what applies is kept.
    let all = Raw {
        wc: 0,
        in_port: 1,
        dl_type: 0x0800,
        proto: 6,
        tos: 0x20,
        nw_src: 0x0a00_0001,
        nw_dst: 0x0a00_0002,
        tp_src: 1000,
        tp_dst: 80,
        ..Raw::default()
    };
    let base = "in_port=1,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_vlan=0,dl_vlan_pcp=0";
    let cases = [
        (
            all,
            "tcp,nw_tos=32,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1000,tp_dst=80",
        ),
        (
            Raw {
                wc: OFPFW_NW_PROTO,
                ..all
            },
            "ip,nw_tos=32,nw_src=10.0.0.1,nw_dst=10.0.0.2",
        ),
        (
            Raw {
                wc: OFPFW_DL_TYPE,
                ..all
            },
            "",
        ),
        (
            Raw { proto: 47, ..all },
            "ip,nw_proto=47,nw_tos=32,nw_src=10.0.0.1,nw_dst=10.0.0.2",
        ),
        (
            Raw {
                dl_type: 0x0806,
                ..all
            },
            "arp,arp_op=6,arp_spa=10.0.0.1,arp_tpa=10.0.0.2",
        ),
        (
            Raw {
                dl_type: 0x86dd,
                ..all
            },
            "tcp6,nw_tos=32,tp_src=1000,tp_dst=80",
        ),
        (
            Raw {
                dl_type: 0x88cc,
                ..all
            },
            "dl_type=0x88cc",
        ),
    ];
    for (raw, want) in cases {
        let want = if want.is_empty() {
            base.to_string()
        } else {
            format!("{base},{want}")
        };
        assert_eq!(decode(&raw.bytes()), Ok(text(&want)), "{raw:?}");
    }
}

#[test]
fn values_the_key_cannot_hold_are_refused() {
    let vlan = |v: u16| {
        Raw {
            dl_vlan: v,
            ..Raw::any()
        }
        .on(OFPFW_DL_VLAN)
    };
    assert_eq!(decode(&vlan(0x1000).bytes()), Err(OfError::BadValue));
    assert_eq!(decode(&vlan(0xfffe).bytes()), Err(OfError::BadValue));
    assert_eq!(decode(&vlan(0xfff).bytes()), Ok(text("dl_vlan=4095")));
    // in_port between the real and the reserved ports names no port.
    let port = |p: u16| {
        Raw {
            in_port: p,
            ..Raw::any()
        }
        .on(OFPFW_IN_PORT)
    };
    assert_eq!(decode(&port(0xff00).bytes()), Err(OfError::BadValue));
    assert_eq!(decode(&port(0xfff7).bytes()), Err(OfError::BadValue));
    assert!(decode(&port(0xfeff).bytes()).is_ok() && decode(&port(0xfff8).bytes()).is_ok());
    let pcp = Raw { pcp: 8, ..Raw::any() };
    assert_eq!(decode(&pcp.on(OFPFW_DL_VLAN_PCP).bytes()), Err(OfError::BadValue));
    // Not matched: not looked at.
    assert_eq!(decode(&pcp.bytes()), Ok(Match::ANY));
    let icmp = Raw {
        dl_type: 0x0800,
        proto: 1,
        tp_dst: 256,
        ..Raw::any()
    }
    .on(OFPFW_DL_TYPE | OFPFW_NW_PROTO);
    assert_eq!(decode(&icmp.on(OFPFW_TP_DST).bytes()), Err(OfError::BadValue));
    assert_eq!(decode(&icmp.bytes()), Ok(text("icmp")));
}

#[test]
fn encodes_as_ovs() {
    let enc = |m: &Match| {
        let mut out = Vec::new();
        encode(m, &mut out);
        out
    };
    assert_eq!(enc(&Match::ANY), Raw::any().bytes());
    // A non-prefix mask narrows to the prefix ending at its lowest one.
    let m = text("ip,nw_src=10.0.0.0/255.0.255.0");
    let want = nw_src(
        Raw {
            dl_type: 0x0800,
            ..Raw::any()
        }
        .on(OFPFW_DL_TYPE),
        8,
        0x0a00_0000,
    );
    assert_eq!(enc(&m), want.bytes());
    // Fields 1.0 lacks are left out.
    assert_eq!(enc(&text("reg0=1,metadata=2,tun_id=3")), Raw::any().bytes());
    assert_eq!(
        enc(&text("ipv6,ipv6_src=::1")),
        Raw {
            dl_type: 0x86dd,
            ..Raw::any()
        }
        .on(OFPFW_DL_TYPE)
        .bytes()
    );
    // "Untagged", however it is written.
    let untagged = Raw {
        dl_vlan: OFP_VLAN_NONE,
        ..Raw::any()
    }
    .on(OFPFW_DL_VLAN | OFPFW_DL_VLAN_PCP);
    assert_eq!(enc(&text("vlan_tci=0/0x1fff")), untagged.bytes());
    assert_eq!(enc(&text("dl_vlan=0xffff")), untagged.bytes());
}

/// Matches OpenFlow 1.0 carries exactly.
fn arb_match10() -> impl Strategy<Value = Match> {
    (
        (0usize..8, any::<u16>(), any::<u8>()),
        proptest::option::of(1u16..=ofport::MAX),
        proptest::option::of(any::<[u8; 6]>()),
        proptest::option::of(any::<[u8; 6]>()),
        (0u32..=32, any::<u32>(), 0u32..=32, any::<u32>()),
        (
            any::<bool>(),
            any::<u8>(),
            any::<bool>(),
            any::<u16>(),
            any::<bool>(),
            any::<u16>(),
        ),
    )
        .prop_map(
            |((class, vlan, b), in_port, src, dst, (sw, sip, dw, dip), (tos, tosv, ts, tsv, td, tdv))| {
                let mut m = Match::ANY;
                let cfi = u128::from(VLAN_CFI);
                match vlan % 4 {
                    1 => m.set(Field::VlanTci, 0, 0xffff),
                    2 => m.set(Field::VlanTci, cfi | u128::from(vlan >> 4), cfi | 0xfff),
                    3 => m.set(Field::VlanTci, cfi | (u128::from(b & 7) << 13), cfi | 0xe000),
                    _ => {}
                }
                if let Some(p) = in_port {
                    m.set_exact(Field::InPort, p.into());
                }
                let mac = |a: [u8; 6]| a.iter().fold(0u128, |v, x| (v << 8) | u128::from(*x));
                if let Some(a) = src {
                    m.set_exact(Field::DlSrc, mac(a));
                }
                if let Some(a) = dst {
                    m.set_exact(Field::DlDst, mac(a));
                }
                let (dl_type, proto): (Option<u16>, Option<u8>) = match class {
                    0 => (None, None),
                    1 => (Some(0x88cc), None),
                    2 => (Some(0x0800), None),
                    3 => (Some(0x0800), Some(6)),
                    4 => (Some(0x0800), Some(1)),
                    5 => (Some(0x0806), Some(b)),
                    6 => (Some(0x86dd), Some(17)),
                    _ => (Some(0x86dd), Some(58)),
                };
                let Some(t) = dl_type else { return m };
                m.set_exact(Field::DlType, t.into());
                if let Some(p) = proto {
                    m.set_exact(Field::NwProto, p.into());
                }
                let prefix = |w: u32| if w >= 32 { 0 } else { u128::from(u32::MAX << w) };
                if matches!(t, 0x0800 | 0x0806) {
                    m.set(Field::NwSrc, sip.into(), prefix(sw));
                    m.set(Field::NwDst, dip.into(), prefix(dw));
                }
                if matches!(t, 0x0800 | 0x86dd) && tos {
                    m.set(Field::NwTos, tosv.into(), 0xfc);
                }
                let (s, d) = match (t, proto) {
                    (0x0800 | 0x86dd, Some(6 | 17)) => (Field::TpSrc, Field::TpDst),
                    (0x0800, Some(1)) => (Field::IcmpType, Field::IcmpCode),
                    (0x86dd, Some(58)) => (Field::Icmpv6Type, Field::Icmpv6Code),
                    _ => return m,
                };
                if ts {
                    m.set_exact(s, u128::from(tsv) & s.max());
                }
                if td {
                    m.set_exact(d, u128::from(tdv) & d.max());
                }
                m
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn matches_round_trip(m in arb_match10()) {
        let mut out = Vec::new();
        encode(&m, &mut out);
        prop_assert_eq!(decode(out.as_slice().try_into().unwrap()), Ok(m));
    }

    /// Whatever decodes is a fixed point of encode-then-decode.
    #[test]
    fn decode_is_normalized(bytes in any::<[u8; 40]>()) {
        if let Ok(m) = decode(&bytes) {
            let mut out = Vec::new();
            encode(&m, &mut out);
            prop_assert_eq!(decode(out.as_slice().try_into().unwrap()), Ok(m));
        }
    }
}

#[test]
fn ovs_ofctl_reencodes_our_matches_unchanged() {
    let ok = Command::new("ovs-ofctl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("ovs-ofctl not found: skipping the check against it");
        return;
    }
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut input = String::new();
    let mut matches = Vec::new();
    for _ in 0..200 {
        let m = arb_match10().new_tree(&mut runner).unwrap().current();
        let mut out = Vec::new();
        encode(&m, &mut out);
        input += &out.iter().map(|b| format!("{b:02x}")).collect::<String>();
        input.push('\n');
        matches.push(m);
    }
    let mut child = Command::new("ovs-ofctl")
        .arg("parse-ofp10-match")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("ovs-ofctl runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    // Per match: OVS's text of it (empty for a catch-all), the bytes its
    // own encoding changes ("NN: xx -> yy"), then a blank line. None may
    // change.
    let mut lines = out.lines();
    let mut read_back = 0;
    for m in &matches {
        let printed = lines.next().expect("a line per match");
        let diffs: Vec<&str> = lines.by_ref().take_while(|l| !l.is_empty()).collect();
        assert!(
            diffs.is_empty(),
            "{m:?}: ovs-ofctl printed {printed} and re-encoded {diffs:?}"
        );
        // And it reads the same match (when switchd's parser takes OVS's
        // text: OVS prints some it does not, e.g. a bare icmp_type for ARP).
        let ours = parse_flow(&format!("{printed},actions=drop"), &NoNames).map(|f| f.matching);
        if let Ok(back) = ours {
            assert_eq!(&back, m, "ovs-ofctl printed {printed}");
            read_back += 1;
        }
    }
    assert!(
        read_back > matches.len() / 2,
        "only {read_back} of OVS's texts parse"
    );
}

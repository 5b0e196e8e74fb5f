//! Port VLAN rules (SPEC §4), the Open vSwitch model: ingress admission and
//! classification, VLAN membership, and the egress encoding of each frame.
//!
//! Inside a bridge every frame belongs to exactly one VLAN, 0–4095; VLAN 0
//! is "untagged". A port's `vlan_mode`, `tag` (T) and `trunks` (S, empty =
//! all) decide three things, mirroring OVS's `input_vid_is_valid`,
//! `xvlan_input_translate`, `xbundle_includes_vlan` and
//! `xvlan_output_translate`:
//!
//! | mode | untagged / VID-0 ingress | tagged VID v | carries | leaves |
//! |---|---|---|---|---|
//! | access | VLAN T | dropped, even v = T | T | untagged |
//! | trunk | VLAN 0 if 0 ∈ S or S empty, else dropped | v ∈ S (or S empty) | S | tagged, VLAN 0 untagged |
//! | native-tagged | VLAN T | v ∈ S ∪ {T} | S ∪ {T} | tagged |
//! | native-untagged | VLAN T | v ∈ S ∪ {T} | S ∪ {T} | T untagged, others tagged |
//!
//! As in OVS, a native port never carries VLAN 0 (0 is removed from S), so a
//! VID-0 priority-tagged frame always joins the native VLAN. A VID-0 tag
//! counts as "untagged" everywhere, and switchd never emits one (OVS's
//! default `priority-tags=never`). Both TPIDs 0x8100 and 0x88a8 are accepted
//! on ingress; egress tags are always 0x8100. An egress tag keeps the PCP
//! and DEI of the ingress tag (also of a VID-0 priority tag), else PCP 0.
//!
//! [`PortVlan`] precomputes a 4096-bit membership bitmap from the validated
//! configuration, so every per-frame question is a bit test and a `match`.

use proto::{PortConfig, VlanMode};

use crate::batch::Edit;
use crate::stats::DropReason;
use crate::wire::{VlanTag, TPID_8021Q};

const WORDS: usize = 4096 / 64;

/// The VLAN behaviour of one port, precomputed from its configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct PortVlan {
    mode: VlanMode,
    /// Access VLAN or native VLAN (0 for a trunk).
    tag: u16,
    /// VLANs the port carries: admitted when tagged, emitted on egress.
    members: [u64; WORDS],
}

impl std::fmt::Debug for PortVlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n: u32 = self.members.iter().map(|w| w.count_ones()).sum();
        f.debug_struct("PortVlan")
            .field("mode", &self.mode)
            .field("tag", &self.tag)
            .field("carries", &format_args!("{n} VLANs"))
            .finish()
    }
}

impl PortVlan {
    /// Builds the rules of a port from its (already validated)
    /// configuration, using [`PortConfig::effective_vlan_mode`].
    pub fn from_config(cfg: &PortConfig) -> Self {
        let mode = cfg.effective_vlan_mode();
        let tag = cfg.tag.map_or(0, |t| t.get());
        let trunks = cfg.trunks.as_ref().filter(|t| !t.is_empty());
        let mut v = PortVlan {
            mode,
            tag,
            members: [0; WORDS],
        };
        let fill = |v: &mut PortVlan| match trunks {
            None => v.members = [u64::MAX; WORDS],
            Some(s) => s.iter().for_each(|id| v.set(id, true)),
        };
        match mode {
            VlanMode::Access => v.set(tag, true),
            VlanMode::Trunk => fill(&mut v),
            VlanMode::NativeTagged | VlanMode::NativeUntagged => {
                fill(&mut v);
                // OVS forces the native VLAN into the trunk set and takes VLAN
                // 0 out of it, so VID-0 frames always mean "native VLAN".
                v.set(tag, true);
                if tag != 0 {
                    v.set(0, false);
                }
            }
        }
        v
    }

    fn set(&mut self, vlan: u16, on: bool) {
        let (w, b) = (usize::from(vlan & 0x0fff) / 64, vlan % 64);
        if on {
            self.members[w] |= 1 << b;
        } else {
            self.members[w] &= !(1 << b);
        }
    }

    /// The mode in force.
    pub fn mode(&self) -> VlanMode {
        self.mode
    }

    /// The access or native VLAN (0 for a trunk).
    pub fn tag(&self) -> u16 {
        self.tag
    }

    /// Whether the port carries `vlan`: frames of `vlan` may enter tagged
    /// (except on access ports) and may leave through it.
    #[inline]
    pub fn carries(&self, vlan: u16) -> bool {
        let v = usize::from(vlan);
        v < 4096 && self.members[v / 64] & (1 << (v % 64)) != 0
    }

    /// The VLAN a frame received on this port belongs to.
    ///
    /// # Errors
    /// [`DropReason::VlanIngress`] when the port does not admit the frame
    /// (see the module table).
    #[inline]
    pub fn classify(&self, tag: Option<VlanTag>) -> Result<u16, DropReason> {
        let vid = tag.map_or(0, |t| t.vid);
        let ok = match (self.mode, vid) {
            // An untagged or priority-tagged frame.
            (VlanMode::Access | VlanMode::NativeTagged | VlanMode::NativeUntagged, 0) => Some(self.tag),
            (VlanMode::Trunk, 0) => self.carries(0).then_some(0),
            // A tagged frame.
            (VlanMode::Access, _) => None,
            (_, v) => self.carries(v).then_some(v),
        };
        ok.ok_or(DropReason::VlanIngress)
    }

    /// How a frame of `vlan` that arrived with `ingress_tag` (its outer tag
    /// as received, if any) must be changed to leave through this port, or
    /// `None` when the port does not carry `vlan`.
    ///
    /// The result is [`Edit::KEEP`] when the frame already has the right
    /// encoding (untagged, or a 0x8100 tag with the right VID), a strip for
    /// untagged egress of a tagged frame, an insert for tagged egress of an
    /// untagged frame, and strip + insert (a replacement in place) when the
    /// tag must change (other VID, 0x88a8 TPID, VID-0 priority tag).
    #[inline]
    pub fn egress_edit(&self, vlan: u16, ingress_tag: Option<VlanTag>) -> Option<Edit> {
        if !self.carries(vlan) {
            return None;
        }
        let tagged = vlan != 0
            && match self.mode {
                VlanMode::Access => false,
                VlanMode::Trunk | VlanMode::NativeTagged => true,
                VlanMode::NativeUntagged => vlan != self.tag,
            };
        if !tagged {
            return Some(Edit {
                strip: ingress_tag.is_some(),
                insert: None,
            });
        }
        let (pcp, dei) = ingress_tag.map_or((0, false), |t| (t.pcp, t.dei));
        let want = VlanTag {
            tpid: TPID_8021Q,
            pcp,
            dei,
            vid: vlan,
        };
        Some(match ingress_tag {
            Some(t) if t == want => Edit::KEEP,
            Some(_) => Edit::retag(want.to_bytes()),
            None => Edit::push(want.to_bytes()),
        })
    }

    /// Whether a frame that arrived with `ingress_tag` leaves tagged after
    /// `edit` (for MTU accounting).
    #[inline]
    pub fn leaves_tagged(edit: &Edit, ingress_tag: Option<VlanTag>) -> bool {
        edit.insert.is_some() || (ingress_tag.is_some() && !edit.strip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{self, TPID_8021AD};
    use proto::{Trunks, VlanId};

    fn cfg(mode: Option<VlanMode>, tag: Option<u16>, trunks: Option<&str>) -> PortConfig {
        let c = PortConfig {
            vlan_mode: mode,
            tag: tag.map(|t| VlanId::new(t).unwrap()),
            trunks: trunks.map(|t| t.parse::<Trunks>().unwrap()),
            ..PortConfig::default()
        };
        c.validate().unwrap();
        c
    }

    fn tag(vid: u16, pcp: u8) -> Option<VlanTag> {
        Some(VlanTag {
            tpid: TPID_8021Q,
            pcp,
            dei: false,
            vid,
        })
    }

    /// The ports of Open vSwitch's "ofproto-dpif - VLAN handling" test
    /// (tests/ofproto-dpif.at), numbered as there; OVS's bridge-internal port
    /// 100 is our port 0 (a port without VLAN configuration: trunk of all).
    /// Left out: OVS's dot1q-tunnel ports p9–p12 (switchd has no QinQ mode)
    /// and `other-config:priority-tags` on p3 and p8 (switchd never emits a
    /// VID-0 priority tag, like OVS's default), so where OVS pushes
    /// `vid=0,pcp=1` onto p3/p8 our table expects an untagged frame.
    fn ovs_ports() -> Vec<PortVlan> {
        use VlanMode::*;
        [
            cfg(None, None, None),                              // 0 (OVS 100): trunk, all VLANs
            cfg(None, None, Some("10,12")),                     // 1: trunk 10,12
            cfg(None, Some(10), None),                          // 2: access 10
            cfg(None, Some(12), None),                          // 3: access 12
            cfg(None, Some(12), None),                          // 4: access 12
            cfg(Some(NativeTagged), Some(10), None),            // 5
            cfg(Some(NativeTagged), Some(10), Some("10,12")),   // 6
            cfg(Some(NativeUntagged), Some(12), None),          // 7
            cfg(Some(NativeUntagged), Some(12), Some("10,12")), // 8
        ]
        .iter()
        .map(PortVlan::from_config)
        .collect()
    }

    /// (ingress port, VID or `None` for untagged, PCP, expected) where
    /// expected is `drop` (refused at ingress) or `VLAN: outputs`, each output
    /// `tN` (port N, 0x8100 tag with that VLAN and the ingress PCP) or `uN`
    /// (port N, untagged). Ports not listed must not receive the frame.
    /// Rows follow OVS's table, with the deviations noted on `ovs_ports`.
    #[rustfmt::skip]
    const MATRIX: &[(usize, Option<u16>, u8, &str)] = &[
        (0, None, 0, "0:"),          // VLAN 0 admitted, but no other port carries it (OVS: drop)
        (0, Some(0), 0, "0:"),
        (0, Some(0), 1, "0:"),
        (0, Some(10), 0, "10: t1 u2 t5 t6 t7 t8"),
        (0, Some(10), 1, "10: t1 u2 t5 t6 t7 t8"),
        (0, Some(11), 0, "11: t5 t7"),
        (0, Some(11), 1, "11: t5 t7"),
        (0, Some(12), 0, "12: t1 u3 u4 t5 t6 u7 u8"),
        (0, Some(12), 1, "12: t1 u3 u4 t5 t6 u7 u8"),

        (1, None, 0, "drop"),
        (1, Some(0), 0, "drop"),
        (1, Some(0), 1, "drop"),
        (1, Some(10), 0, "10: t0 u2 t5 t6 t7 t8"),
        (1, Some(10), 1, "10: t0 u2 t5 t6 t7 t8"),
        (1, Some(11), 0, "drop"),
        (1, Some(11), 1, "drop"),
        (1, Some(12), 0, "12: t0 u3 u4 t5 t6 u7 u8"),
        (1, Some(12), 1, "12: t0 u3 u4 t5 t6 u7 u8"),

        (2, None, 0, "10: t0 t1 t5 t6 t7 t8"),
        (2, Some(0), 0, "10: t0 t1 t5 t6 t7 t8"),
        (2, Some(0), 1, "10: t0 t1 t5 t6 t7 t8"),
        (2, Some(10), 0, "drop"),
        (2, Some(10), 1, "drop"),
        (2, Some(11), 0, "drop"),
        (2, Some(11), 1, "drop"),
        (2, Some(12), 0, "drop"),
        (2, Some(12), 1, "drop"),

        (3, None, 0, "12: t0 t1 u4 t5 t6 u7 u8"),
        (3, Some(0), 0, "12: t0 t1 u4 t5 t6 u7 u8"),
        (3, Some(0), 1, "12: t0 t1 u4 t5 t6 u7 u8"),
        (3, Some(10), 0, "drop"),
        (3, Some(10), 1, "drop"),
        (3, Some(11), 0, "drop"),
        (3, Some(11), 1, "drop"),
        (3, Some(12), 0, "drop"),
        (3, Some(12), 1, "drop"),

        (4, None, 0, "12: t0 t1 u3 t5 t6 u7 u8"),
        (4, Some(0), 0, "12: t0 t1 u3 t5 t6 u7 u8"),
        (4, Some(0), 1, "12: t0 t1 u3 t5 t6 u7 u8"),
        (4, Some(10), 0, "drop"),
        (4, Some(10), 1, "drop"),
        (4, Some(11), 0, "drop"),
        (4, Some(11), 1, "drop"),
        (4, Some(12), 0, "drop"),
        (4, Some(12), 1, "drop"),

        (5, None, 0, "10: t0 t1 u2 t6 t7 t8"),
        (5, Some(0), 0, "10: t0 t1 u2 t6 t7 t8"),
        (5, Some(0), 1, "10: t0 t1 u2 t6 t7 t8"),
        (5, Some(10), 0, "10: t0 t1 u2 t6 t7 t8"),
        (5, Some(10), 1, "10: t0 t1 u2 t6 t7 t8"),
        (5, Some(11), 0, "11: t0 t7"),
        (5, Some(11), 1, "11: t0 t7"),
        (5, Some(12), 0, "12: t0 t1 u3 u4 t6 u7 u8"),
        (5, Some(12), 1, "12: t0 t1 u3 u4 t6 u7 u8"),

        (6, None, 0, "10: t0 t1 u2 t5 t7 t8"),
        (6, Some(0), 0, "10: t0 t1 u2 t5 t7 t8"),
        (6, Some(0), 1, "10: t0 t1 u2 t5 t7 t8"),
        (6, Some(10), 0, "10: t0 t1 u2 t5 t7 t8"),
        (6, Some(10), 1, "10: t0 t1 u2 t5 t7 t8"),
        (6, Some(11), 0, "drop"),
        (6, Some(11), 1, "drop"),
        (6, Some(12), 0, "12: t0 t1 u3 u4 t5 u7 u8"),
        (6, Some(12), 1, "12: t0 t1 u3 u4 t5 u7 u8"),

        (7, None, 0, "12: t0 t1 u3 u4 t5 t6 u8"),
        (7, Some(0), 0, "12: t0 t1 u3 u4 t5 t6 u8"),
        (7, Some(0), 1, "12: t0 t1 u3 u4 t5 t6 u8"),
        (7, Some(10), 0, "10: t0 t1 u2 t5 t6 t8"),
        (7, Some(10), 1, "10: t0 t1 u2 t5 t6 t8"),
        (7, Some(11), 0, "11: t0 t5"),
        (7, Some(11), 1, "11: t0 t5"),
        (7, Some(12), 0, "12: t0 t1 u3 u4 t5 t6 u8"),
        (7, Some(12), 1, "12: t0 t1 u3 u4 t5 t6 u8"),

        (8, None, 0, "12: t0 t1 u3 u4 t5 t6 u7"),
        (8, Some(0), 0, "12: t0 t1 u3 u4 t5 t6 u7"),
        (8, Some(0), 1, "12: t0 t1 u3 u4 t5 t6 u7"),
        (8, Some(10), 0, "10: t0 t1 u2 t5 t6 t7"),
        (8, Some(10), 1, "10: t0 t1 u2 t5 t6 t7"),
        (8, Some(11), 0, "drop"),
        (8, Some(11), 1, "drop"),
        (8, Some(12), 0, "12: t0 t1 u3 u4 t5 t6 u7"),
        (8, Some(12), 1, "12: t0 t1 u3 u4 t5 t6 u7"),
    ];

    const PAYLOAD: [u8; 6] = [0xab, 0xcd, 1, 2, 3, 4];

    /// A broadcast frame from 50:54:00:00:00:01 with ethertype 0xabcd, as OVS
    /// sends, optionally tagged.
    fn frame(tpid: u16, vid: Option<u16>, pcp: u8) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[0x50, 0x54, 0, 0, 0, 1]);
        if let Some(vid) = vid {
            f.extend_from_slice(
                &VlanTag {
                    tpid,
                    pcp,
                    dei: false,
                    vid,
                }
                .to_bytes(),
            );
        }
        f.extend_from_slice(&PAYLOAD);
        f
    }

    fn apply(edit: &Edit, f: &[u8]) -> Vec<u8> {
        let (head, tag, rest) = edit.pieces(f);
        let mut out = head.to_vec();
        out.extend_from_slice(tag.map_or(&[][..], |t| &t[..]));
        out.extend_from_slice(rest);
        assert_eq!(out.len(), edit.out_len(f.len()));
        out
    }

    /// Parses "VLAN: t1 u2" into (VLAN, [(port, tagged)]).
    fn expected(s: &str) -> Option<(u16, Vec<(usize, bool)>)> {
        if s == "drop" {
            return None;
        }
        let (vlan, outs) = s.split_once(':').unwrap();
        let outs = outs
            .split_whitespace()
            .map(|o| (o[1..].parse().unwrap(), o.starts_with('t')))
            .collect();
        Some((vlan.parse().unwrap(), outs))
    }

    /// Runs the whole matrix with ingress tags of `tpid`.
    fn run_matrix(tpid: u16) {
        let ports = ovs_ports();
        for &(inp, vid, pcp, want) in MATRIX {
            let ctx = format!("in=p{inp} vid={vid:?} pcp={pcp} tpid={tpid:#06x}");
            let f = frame(tpid, vid, pcp);
            let meta = wire::parse(&f).unwrap();
            let got = ports[inp].classify(meta.tag);
            let Some((want_vlan, outs)) = expected(want) else {
                assert_eq!(got, Err(DropReason::VlanIngress), "{ctx}");
                continue;
            };
            assert_eq!(got, Ok(want_vlan), "{ctx}");
            for (p, port) in ports.iter().enumerate().filter(|&(p, _)| p != inp) {
                let want_out = outs.iter().find(|o| o.0 == p).map(|o| o.1);
                let edit = port.egress_edit(want_vlan, meta.tag);
                assert_eq!(edit.is_some(), want_out.is_some(), "{ctx} out=p{p}");
                assert_eq!(port.carries(want_vlan), want_out.is_some(), "{ctx} out=p{p}");
                let (Some(edit), Some(tagged)) = (edit, want_out) else {
                    continue;
                };
                // The frame as it leaves: same addresses and payload, and
                // exactly the expected tag.
                let out = apply(&edit, &f);
                let m = wire::parse(&out).unwrap();
                assert_eq!((m.dst, m.src), (meta.dst, meta.src), "{ctx} out=p{p}");
                assert!(out.ends_with(&PAYLOAD), "{ctx} out=p{p}");
                let want_tag = tagged.then_some(VlanTag {
                    tpid: TPID_8021Q,
                    pcp,
                    dei: false,
                    vid: want_vlan,
                });
                assert_eq!(m.tag, want_tag, "{ctx} out=p{p}");
                assert_eq!(PortVlan::leaves_tagged(&edit, meta.tag), tagged, "{ctx} out=p{p}");
                // No work when the frame is already right.
                let unchanged = match (meta.tag, want_tag) {
                    (None, None) => true,
                    (Some(a), Some(b)) => a == b,
                    _ => false,
                };
                assert_eq!(edit == Edit::KEEP, unchanged, "{ctx} out=p{p}: {edit:?}");
            }
        }
    }

    #[test]
    fn ovs_vlan_handling_matrix() {
        run_matrix(TPID_8021Q);
    }

    #[test]
    fn ovs_vlan_handling_matrix_with_8021ad_ingress() {
        // 0x88a8 is classified like 0x8100 and always leaves as 0x8100.
        run_matrix(TPID_8021AD);
    }

    #[test]
    fn access_port_drops_its_own_vid_and_keeps_priority_pcp() {
        let p = PortVlan::from_config(&cfg(None, Some(10), None));
        assert_eq!(p.mode(), VlanMode::Access);
        assert_eq!(p.classify(tag(10, 0)), Err(DropReason::VlanIngress));
        assert_eq!(p.classify(tag(0, 5)), Ok(10));
        assert_eq!(p.classify(None), Ok(10));
        // leaves untagged: a priority-tagged frame is stripped
        assert_eq!(p.egress_edit(10, tag(0, 5)), Some(Edit::POP));
        assert_eq!(p.egress_edit(10, None), Some(Edit::KEEP));
        assert_eq!(p.egress_edit(11, None), None);
        // PCP and DEI of a priority tag survive onto a trunk
        let trunk = PortVlan::from_config(&cfg(None, None, None));
        let prio = Some(VlanTag {
            tpid: TPID_8021Q,
            pcp: 5,
            dei: true,
            vid: 0,
        });
        let e = trunk.egress_edit(10, prio).unwrap();
        assert!(e.strip);
        assert_eq!(
            e.insert,
            Some(
                VlanTag {
                    tpid: TPID_8021Q,
                    pcp: 5,
                    dei: true,
                    vid: 10
                }
                .to_bytes()
            )
        );
    }

    #[test]
    fn trunk_untagged_rules() {
        let all = PortVlan::from_config(&cfg(None, None, None));
        assert_eq!(all.classify(None), Ok(0));
        assert!((0..4096).all(|v| all.carries(v)));
        assert!(!all.carries(4096));
        let with0 = PortVlan::from_config(&cfg(Some(VlanMode::Trunk), None, Some("0,20")));
        assert_eq!(with0.classify(None), Ok(0));
        assert_eq!(with0.classify(tag(0, 3)), Ok(0));
        assert_eq!(with0.classify(tag(20, 0)), Ok(20));
        assert_eq!(with0.classify(tag(21, 0)), Err(DropReason::VlanIngress));
        // VLAN 0 always leaves untagged, even on a trunk
        assert_eq!(with0.egress_edit(0, tag(0, 3)), Some(Edit::POP));
        assert_eq!(with0.egress_edit(0, None), Some(Edit::KEEP));
        let without0 = PortVlan::from_config(&cfg(None, None, Some("20")));
        assert_eq!(without0.classify(None), Err(DropReason::VlanIngress));
        assert_eq!(without0.egress_edit(0, None), None);
    }

    #[test]
    fn native_modes_exclude_vlan0_and_include_native() {
        for mode in [VlanMode::NativeTagged, VlanMode::NativeUntagged] {
            let p = PortVlan::from_config(&cfg(Some(mode), Some(7), Some("0,20")));
            assert!(
                p.carries(7) && p.carries(20) && !p.carries(0) && !p.carries(21),
                "{mode}"
            );
            assert_eq!(p.classify(tag(7, 0)), Ok(7));
            assert_eq!(p.classify(tag(0, 0)), Ok(7));
            let e7 = p.egress_edit(7, None).unwrap();
            assert_eq!(e7.insert.is_some(), mode == VlanMode::NativeTagged, "{mode}");
            assert!(p.egress_edit(20, None).unwrap().insert.is_some(), "{mode}");
        }
    }

    #[test]
    fn replaces_tag_with_other_vid_or_tpid_in_place() {
        let trunk = PortVlan::from_config(&cfg(None, None, None));
        let ad = Some(VlanTag {
            tpid: TPID_8021AD,
            pcp: 2,
            dei: false,
            vid: 30,
        });
        let e = trunk.egress_edit(30, ad).unwrap();
        assert_eq!(e, Edit::retag([0x81, 0x00, 0x40, 30]));
        assert_eq!(trunk.egress_edit(30, tag(30, 2)), Some(Edit::KEEP));
    }

    #[test]
    fn debug_is_short() {
        let s = format!("{:?}", PortVlan::from_config(&cfg(None, None, Some("1-3"))));
        assert_eq!(s, "PortVlan { mode: Trunk, tag: 0, carries: 3 VLANs }");
    }
}

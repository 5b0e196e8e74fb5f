//! Fuzz targets (issue 19): one `pub fn NAME(data: &[u8])` per surface that
//! reads bytes from outside — frames and the pure data path, the control
//! protocol, tunnel headers, BPDUs, LACPDUs, OpenFlow messages and the
//! `ovs-ofctl` flow syntax. `fuzz/` (a crate of its own, driven by
//! `scripts/fuzz.sh` under AFL++) calls them, and `tests/fuzz_corpus.rs`
//! replays the checked-in corpus and mutations of it through them on every
//! `cargo test`.
//!
//! Why the targets live inside the crate: `rstp`, `port` (tunnel decoding)
//! and `engine` are private modules, and a target must drive the real code,
//! not a copy. Nothing imports this module; it imports what it drives.
//!
//! Each target panics only on a real bug: a panic inside switchd, or an
//! invariant that must hold for any input and is cheap to check — a decoded
//! value re-encodes and decodes to itself, a frame switchd sends is at
//! least an Ethernet header, what a state machine transmits parses, the
//! segments of a GSO super-frame are what rate control charged for. Inputs
//! are bounded where the real path bounds them (a frame fits a receive
//! slot), so a slow input is slow for the same reason it would be live.
//!
//! Input layouts (so that seeds can be written by hand, see
//! `fuzz/corpus/`): most targets read one control byte first, then the
//! bytes of the surface itself; each function's doc says how.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use proto::{MacAddr, PortConfig, Trunks, VlanId, VlanMode};

use crate::batch::{Edit, RxBatch, HEADROOM, MAX_FRAME};
use crate::fdb::Fdb;
use crate::flow::commit::{self, Plan};
use crate::flow::exec::{self, Datapath, ToController};
use crate::flow::group::{Bucket, GroupTable, GroupType};
use crate::flow::syntax::{format_flow, format_match, parse_filter, parse_flow};
use crate::flow::table::{FlowTable, Origin};
use crate::flow::{extract, Action, Field, FlowKey, Match, NoNames, PortNames, VLAN_CFI};
use crate::lacp::{ActorConfig, Lacp};
use crate::offload;
use crate::openflow::codec;
use crate::openflow::msg::{Incoming, OFP10, OFP13};
use crate::openflow::{action as ofaction, conn, match10, oxm};
use crate::pipeline::{self, Gate, PortSpec, Ports};
use crate::port::tunnel::{self, Demux, DemuxKey, TunnelKind};
use crate::qos::{self, MeterTable};
use crate::rstp::{self, BridgeParams, PortParams, Rstp};
use crate::vlan::PortVlan;
use crate::wire::vnet::{VnetHdr, VNET_HDR_LEN};
use crate::wire::{self, bpdu, ETH_HEADER_LEN};
use crate::PortId;

/// A fuzz target: any bytes in, a panic only for a bug.
pub type Target = fn(&[u8]);

/// Every target, by name, as `fuzz/` and the corpus test call them.
pub const TARGETS: &[(&str, Target)] = &[
    ("frame", frame),
    ("control", control),
    ("tunnel", tunnel),
    ("bpdu", bpdu),
    ("lacpdu", lacpdu),
    ("openflow", openflow),
    ("flow_syntax", flow_syntax),
];

// ---------------------------------------------------------------------------
// frame: the data path

/// A received frame through the bridge's pure data path, as the engine runs
/// it (`engine/datapath.rs`, `engine/flowpath.rs`): the ingress checks, VLAN
/// classification, learning, NORMAL, the flow tables with their rewrites
/// (`flow::commit`), groups and meters, and for ports without offloads the
/// checksum completion and software segmentation of `offload`.
///
/// Layout: a control byte — bit 0: a 10-byte virtio-net header follows (a
/// TAP's receive), bits 1-2: the ingress port (of the four below), bit 3:
/// run the flow tables instead of plain NORMAL, bits 4-5: the spanning-tree
/// gate of port 1; then, with bit 3, two bytes choosing which of the 16
/// [`FLOW_TEMPLATES`] are installed and one byte that goes into them; then
/// the virtio-net header if any; the rest is the frame.
pub fn frame(data: &[u8]) {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let in_idx = usize::from(ctl >> 1) & 3;
    let flows = ctl & 8 != 0;
    let gate1 = [Gate::Forwarding, Gate::Learning, Gate::Discarding, Gate::Down][usize::from(ctl >> 4) & 3];
    let (mut bridge, rest) = if flows {
        let Some((sel, rest)) = rest.split_first_chunk::<3>() else {
            return;
        };
        (
            Bridge::new(Some((u16::from_be_bytes([sel[0], sel[1]]), sel[2]))),
            rest,
        )
    } else {
        (Bridge::new(None), rest)
    };
    bridge.ports[1].gate = gate1;
    let (vnet, frame) = if ctl & 1 != 0 {
        let Some((h, f)) = rest.split_first_chunk::<VNET_HDR_LEN>() else {
            return;
        };
        (VnetHdr::from_bytes(h), f)
    } else {
        (VnetHdr::default(), rest)
    };
    bridge.receive(in_idx, frame, vnet);
}

/// The frame target's bridge: four ports whose ids differ from their
/// positions (as on any bridge but the first), a MAC table with two
/// learned hosts, and optionally flow tables, a select and an all group,
/// and a meter.
///
/// | idx | id | ofport | VLANs                                  | other           |
/// |-----|----|--------|----------------------------------------|-----------------|
/// | 0   | 3  | 1      | access 10                              | offloads        |
/// | 1   | 7  | 2      | trunk of all                           | offloads        |
/// | 2   | 4  | 3      | native-untagged 20, trunks 10,20,30    | no offloads, MTU 1400 |
/// | 3   | 9  | 4      | trunk of all                           | VXLAN tunnel, VNI 42, MTU 1450 |
struct Bridge {
    ports: Ports,
    fdb: Fdb,
    tables: Option<Tables>,
    now: Instant,
}

struct Tables {
    /// The template selection and argument they were built from.
    key: (u16, u8),
    flows: FlowTable,
    groups: GroupTable,
    meters: MeterTable,
}

/// Flows the frame target can install: `{}` is replaced by the selection
/// byte (clamped to what the field takes). Each one is parsed by the real
/// `ovs-ofctl` syntax parser; a template that does not parse would be a
/// regression of the parser (the corpus test checks they all do).
pub const FLOW_TEMPLATES: [&str; 16] = [
    "priority=0,actions=NORMAL",
    "priority=10,in_port=1,actions=mod_vlan_vid:{vid},output:2",
    "priority=20,dl_vlan={vid},actions=strip_vlan,NORMAL",
    "priority=30,ip,nw_dst=10.0.0.{b},actions=mod_nw_dst:10.1.1.1,dec_ttl,output:3",
    "priority=31,tcp,tp_dst={b},actions=mod_tp_dst:8080,mod_dl_dst:02:00:00:00:00:99,NORMAL",
    "priority=25,udp,actions=mod_tp_src:{b},output:4,output:3",
    "priority=5,arp,actions=FLOOD",
    "priority=40,ipv6,actions=set_field:2001:db8::1->ipv6_dst,dec_ttl,output:1,output:2",
    "priority=15,actions=push_vlan:0x8100,mod_vlan_vid:{vid},resubmit(,1)",
    "table=1,priority=1,actions=pop_vlan,output:2,group:1",
    "priority=35,ip,actions=meter:1,mod_nw_tos:{tos},NORMAL",
    "priority=50,dl_src=02:00:00:00:00:{hex},actions=controller,group:2",
    "priority=45,icmp,actions=mod_nw_src:192.168.0.{b},in_port",
    "priority=33,sctp,actions=mod_tp_dst:{b},output:3,ALL",
    "priority=12,vlan_tci=0x1000/0x1000,actions=mod_vlan_pcp:{pcp},output:4,resubmit(,2)",
    "table=2,priority=7,ipv6,actions=load:{b}->NXM_NX_IPV6_LABEL[0..7],mod_dl_src:02:00:00:00:00:42,output:3",
];

/// Template `i` with its `{...}` filled from byte `b`.
pub fn flow_template(i: usize, b: u8) -> String {
    FLOW_TEMPLATES[i]
        .replace("{vid}", &(u16::from(b) * 16 + 1).to_string())
        .replace("{tos}", &((b & 0x3f) << 2).to_string())
        .replace("{pcp}", &(b & 7).to_string())
        .replace("{hex}", &format!("{b:02x}"))
        .replace("{b}", &b.to_string())
}

/// A port's VLAN rules from its settings, as `PortVlan::from_config`
/// gets them from the db.
fn vlan(mode: Option<VlanMode>, tag: Option<u16>, trunks: Option<&str>) -> PortVlan {
    let cfg = PortConfig {
        vlan_mode: mode,
        tag: tag.and_then(|t| VlanId::new(t).ok()),
        trunks: trunks.and_then(|t| t.parse::<Trunks>().ok()),
        ..PortConfig::default()
    };
    PortVlan::from_config(&cfg)
}

/// Ports of the frame target that take a virtio-net header (checksums and
/// GSO pass through); the others get software offloads, as in the engine.
const OFFLOADS: [bool; 4] = [true, true, false, false];

/// The ports' ids (engine slots), see [`Bridge`].
const IDS: [u32; 4] = [3, 7, 4, 9];

impl Bridge {
    /// The bridge; with `flows`, flow tables made of the templates whose
    /// bits are set in the `u16`, filled from the `u8`.
    fn new(flows: Option<(u16, u8)>) -> Bridge {
        let specs = vec![
            (vlan(None, Some(10), None), false, 1500, 0),
            (vlan(None, None, None), false, 1500, 0),
            (
                vlan(Some(VlanMode::NativeUntagged), Some(20), Some("10,20,30")),
                false,
                1400,
                0,
            ),
            (vlan(None, None, None), true, 1450, 42),
        ];
        let ports = Ports::from(
            specs
                .into_iter()
                .enumerate()
                .map(|(i, (vlan, tunnel, mtu, tun_id))| PortSpec {
                    id: PortId(IDS[i]),
                    vlan,
                    tunnel,
                    gate: Gate::Forwarding,
                    mtu,
                    ofport: i as u16 + 1,
                    tun_id,
                })
                .collect::<Vec<_>>(),
        );
        let now = Instant::now();
        let mut fdb = Fdb::new(64, Duration::from_secs(300));
        fdb.learn(10, MacAddr([2, 0, 0, 0, 0, 1]), PortId(IDS[2]), now);
        fdb.learn(0, MacAddr([2, 0, 0, 0, 0, 2]), PortId(IDS[3]), now);
        let tables = flows.map(|key| {
            let (flows, groups) = BUILT
                .with_borrow_mut(|built| built.remove(&key))
                .unwrap_or_else(|| build_tables(key, now));
            let mut meters = MeterTable::new();
            if let Ok(m) = qos::syntax::parse_meter("meter=1,pktps,burst,band=type=drop,rate=1,burst_size=1")
            {
                let _ = meters.add(m, now);
            }
            Tables {
                key,
                flows,
                groups,
                meters,
            }
        });
        Bridge {
            ports,
            fdb,
            tables,
            now,
        }
    }

    /// Frame `frame` with virtio-net header `vnet` received on
    /// `ports[in_idx]`, twice: then once more from the next port, so that
    /// the source has moved (what a migrated VM looks like).
    fn receive(&mut self, in_idx: usize, frame: &[u8], vnet: VnetHdr) {
        // A receive slot holds at most MAX_FRAME bytes; nothing longer
        // reaches the pipeline.
        if frame.len() > MAX_FRAME {
            return;
        }
        SEGMENTS.with_borrow_mut(|segs| {
            for (round, idx) in [in_idx, in_idx, (in_idx + 1) % 4].into_iter().enumerate() {
                self.now += Duration::from_millis(round as u64 * 700);
                self.forward(idx, frame, vnet, segs);
            }
        });
    }

    /// One frame through the data path, as `Engine::forward_frame` runs it.
    fn forward(&mut self, in_idx: usize, frame: &[u8], vnet: VnetHdr, segs: &mut RxBatch) {
        let Bridge {
            ports,
            fdb,
            tables,
            now,
        } = self;
        let now = *now;
        match tables {
            None => {
                let wire_len = offload::wire_len(frame, &vnet);
                let _ = pipeline::forward_sized(fdb, ports, in_idx, frame, wire_len, now, |out, res| {
                    if let Ok(edit) = res {
                        transmit(frame, &edit, &vnet, out, segs);
                    }
                });
            }
            Some(Tables {
                flows,
                groups,
                meters,
                ..
            }) => {
                // What `flowpath::run` checks before the tables.
                let Some(dst) = frame.first_chunk::<6>().filter(|_| frame.len() >= ETH_HEADER_LEN) else {
                    return;
                };
                if wire::is_reserved(&MacAddr(*dst)) || ports[in_idx].gate != Gate::Forwarding {
                    return;
                }
                let spec = &ports[in_idx];
                let base = extract(frame, spec.ofport, spec.tun_id);
                let mut key = base;
                let mut path = FuzzPath {
                    ports,
                    fdb,
                    meters,
                    segs,
                    frame,
                    vnet,
                    base,
                    in_idx,
                    now,
                    copy: Vec::new(),
                };
                let _ = exec::execute(flows, groups, &mut key, frame.len(), now, &mut path);
            }
        }
    }
}

/// The flow tables and groups of template selection `sel`, filled from
/// `b`: each template parsed by the real syntax parser and added.
fn build_tables((sel, b): (u16, u8), now: Instant) -> (FlowTable, GroupTable) {
    let mut flows = FlowTable::new();
    for i in (0..FLOW_TEMPLATES.len()).filter(|i| sel & (1 << i) != 0) {
        if let Ok(spec) = parse_flow(&flow_template(i, b), &FuzzNames) {
            let _ = flows.add(spec, true, Origin::Local, now);
        }
    }
    let mut groups = GroupTable::new();
    let bucket = |weight: u16, actions: Vec<Action>| Bucket {
        weight,
        watch_port: None,
        watch_group: None,
        actions,
    };
    let _ = groups.add(
        1,
        GroupType::Select,
        vec![
            bucket(1, vec![Action::Output(3)]),
            bucket(3, vec![Action::ModVlanVid(7), Action::Output(4)]),
        ],
        now,
    );
    let _ = groups.add(
        2,
        GroupType::All,
        vec![
            bucket(0, vec![Action::Output(1)]),
            bucket(0, vec![Action::Normal]),
        ],
        now,
    );
    (flows, groups)
}

/// Gives the flow tables back to [`BUILT`] for the next input.
impl Drop for Bridge {
    fn drop(&mut self) {
        if let Some(t) = self.tables.take() {
            BUILT.with_borrow_mut(|built| {
                if built.len() >= 256 {
                    built.clear();
                }
                built.insert(t.key, (t.flows, t.groups));
            });
        }
    }
}

thread_local! {
    /// Where software segmentation writes segments: the engine's layout
    /// (64 slots of 9216 bytes in the engine; 16 here), allocated once, as
    /// the engine does, since every segment is written whole before it is
    /// read.
    static SEGMENTS: RefCell<RxBatch> = RefCell::new(RxBatch::with_layout(16, 9216));

    /// Flow tables and groups already built, by template selection: a new
    /// flow table allocates its exact-match cache (8192 entries) on first
    /// use, which would cost more than the rest of an input together. They
    /// are reused as they are left (their cache and counters are the only
    /// state an input leaves, and neither changes a decision); the meters,
    /// whose buckets do change decisions, are made anew for every input.
    static BUILT: RefCell<HashMap<(u16, u8), (FlowTable, GroupTable)>> = RefCell::new(HashMap::new());
}

/// Port names of the fuzz targets' flows: `p1`..`p4` are ports 1..4.
#[derive(Debug, Clone, Copy)]
struct FuzzNames;

const NAMES: [(&str, u16); 4] = [("p1", 1), ("p2", 2), ("p3", 3), ("p4", 4)];

impl PortNames for FuzzNames {
    fn ofport(&self, name: &str) -> Option<u16> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }
    fn name(&self, ofport: u16) -> Option<&str> {
        NAMES.iter().find(|(_, p)| *p == ofport).map(|(n, _)| *n)
    }
}

/// The frame target's [`Datapath`]: what `engine/flowpath.rs`'s
/// `FlowPath` does, with sending replaced by [`transmit`].
struct FuzzPath<'a> {
    ports: &'a Ports,
    fdb: &'a mut Fdb,
    meters: &'a mut MeterTable,
    segs: &'a mut RxBatch,
    frame: &'a [u8],
    vnet: VnetHdr,
    base: FlowKey,
    in_idx: usize,
    now: Instant,
    /// The rewritten frame of the last [`FuzzPath::materialize`].
    copy: Vec<u8>,
}

impl FuzzPath<'_> {
    /// The frame as `key` describes it: the received one (maybe with a tag
    /// edit), or a rewritten copy in `self.copy`. `None` if it cannot be
    /// built (the engine counts `flow-unsupported`).
    fn materialize(&mut self, key: &FlowKey) -> Option<(bool, Edit, VnetHdr)> {
        match commit::plan(self.frame, &self.base, key) {
            Plan::Same => Some((false, Edit::KEEP, self.vnet)),
            Plan::Vlan(edit) => Some((false, edit, self.vnet)),
            Plan::Rewrite => {
                self.copy.clear();
                self.copy.resize(HEADROOM + self.frame.len() + 4, 0);
                let (start, len, hdr) =
                    commit::rewrite(self.frame, &self.vnet, &self.base, key, &mut self.copy).ok()?;
                assert!(
                    start + len <= self.copy.len()
                        && len + 4 >= self.frame.len()
                        && len <= self.frame.len() + 4,
                    "rewrite put {len} bytes at {start} for a {}-byte frame",
                    self.frame.len()
                );
                self.copy.copy_within(start..start + len, 0);
                self.copy.truncate(len);
                Some((true, Edit::KEEP, hdr))
            }
        }
    }

    fn send(&mut self, out_idx: usize, key: &FlowKey, blocked_too: bool) {
        let out = &self.ports[out_idx];
        if out.gate == Gate::Down || (!blocked_too && out.gate != Gate::Forwarding) {
            return;
        }
        let Some((copied, edit, vnet)) = self.materialize(key) else {
            return;
        };
        let frame = if copied { &self.copy[..] } else { self.frame };
        let tagged = key.vlan_tci() & VLAN_CFI != 0;
        if out.fits(&edit, tagged, offload::wire_len(frame, &vnet)) {
            transmit(frame, &edit, &vnet, out_idx, self.segs);
        }
    }
}

impl Datapath for FuzzPath<'_> {
    fn output(&mut self, port: u16, key: &FlowKey) {
        if let Some(i) = self.ports.index_of_ofport(port) {
            if i != self.in_idx {
                self.send(i, key, false);
            }
        }
    }

    fn in_port(&mut self, key: &FlowKey) {
        self.send(self.in_idx, key, false);
    }

    fn normal(&mut self, key: &FlowKey) {
        let Some((copied, edit, vnet)) = self.materialize(key) else {
            return;
        };
        // NORMAL reads the frame as edited so far: a tag edit too is made
        // into a copy first, as the engine's `copy` does.
        let owned;
        let frame = match (copied, edit == Edit::KEEP) {
            (true, _) => &self.copy[..],
            (false, true) => self.frame,
            (false, false) => {
                let (a, t, b) = edit.pieces(self.frame);
                owned = [a, t.map_or(&[][..], |t| &t[..]), b].concat();
                &owned[..]
            }
        };
        let vnet = if copied { vnet } else { vnet.for_edit(&edit) };
        let wire_len = offload::wire_len(frame, &vnet);
        let FuzzPath {
            ports,
            fdb,
            segs,
            now,
            ..
        } = self;
        let _ = pipeline::forward_sized(fdb, ports, self.in_idx, frame, wire_len, *now, |out, res| {
            if let Ok(edit) = res {
                transmit(frame, &edit, &vnet, out, segs);
            }
        });
    }

    fn flood(&mut self, key: &FlowKey, all: bool) {
        for i in 0..self.ports.len() {
            if i != self.in_idx {
                self.send(i, key, all);
            }
        }
    }

    fn controller(&mut self, key: &FlowKey, _: u16, _: ToController, _: u8, _: u64) {
        // No controller is connected; the frame is still built, as the
        // engine builds it before it looks for one.
        let _ = self.materialize(key);
    }

    fn meter(&mut self, id: u32) -> bool {
        let (_, bytes) = offload::segments(self.frame, &self.vnet);
        self.meters.apply(id, bytes as u64, self.now)
    }
}

/// What the engine's send path does with `frame` (its virtio-net header
/// `vnet`) leaving port `out` with `edit`: a port with offloads takes it as
/// it is; any other gets its partial checksum finished or, for a GSO
/// super-frame, its segments, each edited. Checks that what would be sent
/// is a whole Ethernet header at least, that the edit's pieces add up, and
/// that the segments are the ones [`offload::segments`] charged for and no
/// longer than [`offload::wire_len`] (the length the MTU check used).
fn transmit(frame: &[u8], edit: &Edit, vnet: &VnetHdr, out: usize, segs: &mut RxBatch) {
    let sent = |f: &[u8]| {
        let (a, t, b) = edit.pieces(f);
        let len = a.len() + t.map_or(0, |t| t.len()) + b.len();
        assert_eq!(
            len,
            edit.out_len(f.len()),
            "edit {edit:?} of a {}-byte frame",
            f.len()
        );
        assert!(len >= ETH_HEADER_LEN, "a {len}-byte frame sent");
    };
    if OFFLOADS[out] || vnet.is_plain() {
        sent(frame);
        return;
    }
    if !vnet.is_gso() {
        let mut f = frame.to_vec();
        if offload::complete_checksum(&mut f, vnet).is_ok() {
            sent(&f);
        }
        return;
    }
    let (want_n, want_bytes) = offload::segments(frame, vnet);
    let wire_len = offload::wire_len(frame, vnet);
    let (mut n, mut bytes, mut from) = (0, 0, 0);
    // At most 8 batches of 16 segments: enough to reach every branch of
    // `segment` without making a 1-byte MSS of a 64 KiB frame a hang.
    for _ in 0..8 {
        match offload::segment(frame, vnet, from, segs) {
            Ok((k, next)) => {
                for i in 0..k {
                    let seg = segs.frame(i);
                    assert!(
                        seg.len() <= wire_len,
                        "a {}-byte segment, wire_len said {wire_len}",
                        seg.len()
                    );
                    sent(seg);
                    bytes += seg.len();
                }
                n += k;
                match next {
                    Some(next) => from = next,
                    None => {
                        assert_eq!(
                            (n, bytes),
                            (want_n, want_bytes),
                            "segments made vs charged, vnet {vnet:?}, frame of {}",
                            frame.len()
                        );
                        return;
                    }
                }
            }
            Err(_) => return,
        }
    }
}

// ---------------------------------------------------------------------------
// control: the control protocol's codec

/// The control socket's framing and codec (`proto::codec`), as the server
/// (`control.rs`) and `switchctl` read lines: every line of `data` is read
/// with the server's framing ([`proto::codec::read_line`], here with a
/// 64 KiB limit), decoded as a request and as a reply; whatever decodes is
/// encoded again, and must decode to the same value.
pub fn control(data: &[u8]) {
    let mut r = Cursor::new(data);
    let mut line = Vec::new();
    while let Ok(true) = proto::codec::read_line(&mut r, &mut line, 64 * 1024) {
        if let Ok(req) = proto::codec::decode_request(&line) {
            let again = proto::codec::encode_request(&req).expect("a decoded request encodes");
            assert_eq!(again.last(), Some(&b'\n'));
            let back = proto::codec::decode_request(&again[..again.len() - 1]);
            assert_eq!(
                back.as_ref(),
                Ok(&req),
                "request {}",
                String::from_utf8_lossy(&again)
            );
        }
        if let Ok(reply) = proto::codec::decode_reply(&line) {
            let mut again = Vec::new();
            proto::codec::write_reply(&mut again, &reply).expect("a decoded reply encodes");
            let back = proto::codec::decode_reply(&again[..again.len() - 1]);
            assert_eq!(
                back.as_ref(),
                Ok(&reply),
                "reply {}",
                String::from_utf8_lossy(&again)
            );
        }
    }
}

// ---------------------------------------------------------------------------
// tunnel: VXLAN and GRE decapsulation

/// A packet received on a tunnel endpoint: its outer headers decoded as
/// `Endpoint::recv_batch` does ([`tunnel::decode`], then the demux by peer
/// and VNI/key), and the inner frame through the frame target's bridge from
/// its tunnel port.
///
/// Layout: a control byte — bit 0: GRE (else VXLAN), bit 1: an IPv6
/// endpoint (no IP header in front of GRE), bit 2: from the second peer
/// (10.0.0.3, which has a GRE port without key), bit 3: flow tables (then
/// two selection bytes and one argument byte follow, as in [`frame`]);
/// then the packet as the socket hands it over (VXLAN: the UDP payload;
/// GRE over IPv4: the IP header first).
pub fn tunnel(data: &[u8]) {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let kind = if ctl & 1 != 0 {
        TunnelKind::Gre
    } else {
        TunnelKind::Vxlan
    };
    let v6 = ctl & 2 != 0;
    let remote = IpAddr::V4(Ipv4Addr::new(10, 0, 0, if ctl & 4 != 0 { 3 } else { 2 }));
    let (flows, packet) = if ctl & 8 != 0 {
        let Some((sel, rest)) = rest.split_first_chunk::<3>() else {
            return;
        };
        (Some((u16::from_be_bytes([sel[0], sel[1]]), sel[2])), rest)
    } else {
        (None, rest)
    };
    let Ok((key, offset)) = tunnel::decode(kind, v6, packet) else {
        return;
    };
    assert!(
        offset <= packet.len(),
        "inner frame at {offset} of {}",
        packet.len()
    );
    match kind {
        TunnelKind::Vxlan => {
            let vni = key.expect("VXLAN always has a VNI");
            assert!(vni <= wire::vxlan::MAX_VNI);
            assert_eq!(&wire::vxlan::header(vni)[..], &packet[..wire::vxlan::HEADER_LEN]);
        }
        TunnelKind::Gre => {
            // What switchd would send for this key decodes to it.
            let (h, n) = wire::gre::header(key);
            let d = wire::gre::decode(&h[..n]).expect("our own GRE header decodes");
            assert_eq!((d.key, d.len), (key, n));
        }
    }
    let mut demux = Demux::default();
    let peer2 = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
    for (remote, key) in [
        (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), Some(42)),
        (peer2, None),
        (peer2, Some(7)),
    ] {
        let _ = demux.insert(DemuxKey { remote, key }, IDS[3]);
    }
    if demux.lookup(remote, key).is_err() {
        return;
    }
    let mut bridge = Bridge::new(flows);
    bridge.ports[3].tun_id = u64::from(key.unwrap_or(0));
    bridge.receive(3, &packet[offset..], VnetHdr::default());
}

// ---------------------------------------------------------------------------
// bpdu: spanning tree

/// BPDUs into a bridge's RSTP state machine, as `engine/stp.rs` hands them
/// over, with a second bridge cabled to port 1 so that what the first one
/// answers goes somewhere and comes back.
///
/// Layout: a control byte — bits 0-1: the port the frames arrive on (1-3;
/// 0 is 1), bit 2: bridge A forced to STP (protocol version 0), bit 3:
/// that port is an admin edge port, bits 4-7: seconds that pass after each
/// frame; then 60-byte Ethernet frames (the last may be short), each
/// checked with [`bpdu::llc_payload`], parsed, re-encoded, and received.
pub fn bpdu(data: &[u8]) {
    let Some((&ctl, frames)) = data.split_first() else {
        return;
    };
    let port = u16::from(ctl & 3).max(1);
    // The pair as it stands once settled depends only on the low four
    // bits; it is built once per value and cloned (the machines are
    // deterministic, so a clone is what a rebuild would give).
    let (mut a, mut b) =
        RSTP_START.with_borrow_mut(|start| start.entry(ctl & 0x0f).or_insert_with(|| rstp_pair(ctl)).clone());
    let mut events = Vec::new();
    // At most 16 frames: the state machines' reach, not the input's length.
    for f in frames.chunks(bpdu::FRAME_LEN).take(16) {
        if let Ok(llc) = bpdu::llc_payload(f) {
            if let Ok(parsed) = bpdu::parse(llc) {
                // What parses re-encodes to the same BPDU.
                let frame = rstp::BpduFrame::new(&parsed, [2, 0, 0, 0, 0, 9]);
                assert_eq!(
                    frame.bpdu(),
                    Ok(parsed),
                    "BPDU re-encoded as {:02x?}",
                    frame.as_bytes()
                );
            }
            let _ = a.receive(port, llc);
        }
        settle_rstp(&mut a, &mut b, &mut events);
        for _ in 0..ctl >> 4 {
            a.tick();
            b.tick();
            settle_rstp(&mut a, &mut b, &mut events);
        }
    }
    for r in [&a, &b] {
        let s = r.status();
        let roots = s.ports.iter().filter(|p| p.role == rstp::PortRole::Root).count();
        assert!(roots <= 1, "{roots} root ports: {s:?}");
    }
}

/// Bridge A (ports 1-3, up, point-to-point; forced to STP with `ctl`
/// bit 2; port `ctl & 3` an admin edge with bit 3) and bridge B (priority
/// 4096, the root) cabled port 1 to port 1, settled.
fn rstp_pair(ctl: u8) -> (Rstp, Rstp) {
    let port = u16::from(ctl & 3).max(1);
    let mut a = Rstp::new(
        [2, 0, 0, 0, 0, 0xa],
        BridgeParams {
            force_protocol_version: if ctl & 4 != 0 { 0 } else { 2 },
            ..BridgeParams::default()
        },
    );
    let mut b = Rstp::new(
        [2, 0, 0, 0, 0, 0xb],
        BridgeParams {
            priority: 4096,
            ..BridgeParams::default()
        },
    );
    for no in 1..=3 {
        a.add_port(
            no,
            PortParams {
                admin_edge: no == port && ctl & 8 != 0,
                ..PortParams::default()
            },
        );
        a.set_link(no, true, true);
    }
    b.add_port(1, PortParams::default());
    b.set_link(1, true, true);
    settle_rstp(&mut a, &mut b, &mut Vec::new());
    (a, b)
}

thread_local! {
    /// [`rstp_pair`] by the low four bits of the control byte.
    static RSTP_START: RefCell<HashMap<u8, (Rstp, Rstp)>> = RefCell::new(HashMap::new());
    /// [`lacp_pair`] by bits 1-2 of the control byte.
    static LACP_START: RefCell<HashMap<u8, (Lacp, Lacp)>> = RefCell::new(HashMap::new());
}

/// Delivers what A sends on port 1 to B and what B sends to A until both
/// are quiet (bounded: a pair that never settles is a bug of its own, which
/// the bound turns into a panic rather than a hang). Every BPDU either
/// sends must parse.
fn settle_rstp(a: &mut Rstp, b: &mut Rstp, events: &mut Vec<rstp::Event>) {
    for _ in 0..1000 {
        let sent = deliver_bpdus(a, b, events) | deliver_bpdus(b, a, events);
        if !sent {
            return;
        }
    }
    panic!("two RSTP bridges kept sending BPDUs to each other");
}

/// What `from` sends on port 1 into `to`'s port 1; whether anything was.
fn deliver_bpdus(from: &mut Rstp, to: &mut Rstp, events: &mut Vec<rstp::Event>) -> bool {
    events.clear();
    from.drain_events(events);
    let mut sent = false;
    for e in events.iter() {
        if let rstp::Event::Transmit { port, frame } = e {
            let llc = frame.llc_payload();
            assert!(bpdu::parse(llc).is_ok(), "sent an invalid BPDU: {frame:?}");
            if *port == 1 {
                sent = true;
                let _ = to.receive(1, llc);
            }
        }
    }
    sent
}

// ---------------------------------------------------------------------------
// lacpdu: link aggregation

/// LACPDUs into a bond's LACP state machine (`lacp`), with a second bond
/// whose two members are cabled to the first one's, so that the fuzzed
/// LACPDUs interleave with a real negotiation.
///
/// Layout: a control byte — bit 0: the LACPDUs arrive on member 2 (else
/// 1), bit 1: bond A is passive, bit 2: bond A asks for fast LACPDUs, bit
/// 3: member 2's carrier goes down after the first frame, bits 4-7:
/// seconds that pass (one tick each) after each frame; then 124-byte Ethernet frames (the
/// last may be short), each checked with
/// [`wire::lacp::slow_protocols_payload`], parsed, re-encoded, received.
pub fn lacpdu(data: &[u8]) {
    let Some((&ctl, frames)) = data.split_first() else {
        return;
    };
    let member = if ctl & 1 != 0 { 2 } else { 1 };
    let (mut a, mut b) =
        LACP_START.with_borrow_mut(|start| start.entry(ctl & 6).or_insert_with(|| lacp_pair(ctl)).clone());
    let mut now = 0u64;
    // At most 16 frames, as for BPDUs.
    for (i, f) in frames.chunks(wire::lacp::FRAME_LEN).take(16).enumerate() {
        if let Ok(payload) = wire::lacp::slow_protocols_payload(f) {
            if let Ok(pdu) = wire::lacp::parse(payload) {
                let frame = crate::lacp::LacpduFrame::new(&pdu, [2, 0, 0, 0, 0, 9]);
                assert_eq!(
                    frame.lacpdu(),
                    Ok(pdu),
                    "LACPDU re-encoded as {:02x?}",
                    frame.as_bytes()
                );
            }
            let _ = a.receive(member, payload, now);
        }
        if i == 0 && ctl & 8 != 0 {
            a.set_carrier(2, false);
            b.set_carrier(2, false);
        }
        settle_lacp(&mut a, &mut b, now);
        for _ in 0..ctl >> 4 {
            now += 1000;
            a.tick(now);
            b.tick(now);
            settle_lacp(&mut a, &mut b, now);
        }
    }
    for bond in [&a, &b] {
        for m in bond.status().members {
            assert!(!m.usable || (m.carrier && m.attached), "usable member {m:?}");
        }
    }
}

/// Bond A (active unless `ctl` bit 1, fast with bit 2) and bond B (active,
/// fast), members 1 and 2 cabled to each other, carriers up, settled.
fn lacp_pair(ctl: u8) -> (Lacp, Lacp) {
    let actor = |mac: u8, active: bool, fast: bool| ActorConfig {
        system: [2, 0, 0, 0, 0, mac],
        system_priority: 65534,
        key: 1,
        active,
        fast,
    };
    let mut a = Lacp::new(actor(0xa, ctl & 2 == 0, ctl & 4 != 0));
    let mut b = Lacp::new(actor(0xb, true, true));
    for bond in [&mut a, &mut b] {
        for m in 1..=2 {
            bond.add_member(m, 128);
            bond.set_carrier(m, true);
        }
    }
    settle_lacp(&mut a, &mut b, 0);
    (a, b)
}

/// Delivers what each bond sends on member N to the other's member N until
/// both are quiet (bounded, as [`settle_rstp`]); every LACPDU sent must
/// parse.
fn settle_lacp(a: &mut Lacp, b: &mut Lacp, now: u64) {
    let mut events = Vec::new();
    for _ in 0..1000 {
        let sent = deliver_lacpdus(a, b, now, &mut events) | deliver_lacpdus(b, a, now, &mut events);
        if !sent {
            return;
        }
    }
    panic!("two LACP bonds kept sending LACPDUs to each other");
}

/// What `from` sends on member N into `to`'s member N; whether anything was.
fn deliver_lacpdus(from: &mut Lacp, to: &mut Lacp, now: u64, events: &mut Vec<crate::lacp::Event>) -> bool {
    events.clear();
    from.drain_events(events);
    let mut sent = false;
    for e in events.iter() {
        if let crate::lacp::Event::Transmit { member, frame } = e {
            assert!(frame.lacpdu().is_ok(), "sent an invalid LACPDU: {frame:?}");
            sent = true;
            let _ = to.receive(*member, frame.payload(), now);
        }
    }
    sent
}

// ---------------------------------------------------------------------------
// openflow: messages from a controller

/// A byte stream from an OpenFlow controller, as `engine/openflow.rs`
/// reads it: framed ([`codec::frame`]), each message decoded
/// ([`codec::decode`]) for the negotiated version. A HELLO goes through the
/// version negotiation; the match of a FLOW_MOD is encoded again and must
/// decode to the same, and its actions, a PACKET_OUT's and a GROUP_MOD's
/// buckets' must encode stably ([`actions_round_trip`]); a FLOW_MOD that
/// validates is added to a flow table.
///
/// Layout: a control byte — bit 0: the connection speaks 1.0 (else 1.3);
/// then the stream.
pub fn openflow(data: &[u8]) {
    let Some((&ctl, mut stream)) = data.split_first() else {
        return;
    };
    let version = if ctl & 1 != 0 { OFP10 } else { OFP13 };
    let now = Instant::now();
    let mut session = conn::Session::new(now, (1 << OFP10) | (1 << OFP13));
    let mut table = FlowTable::new();
    while let Ok(Some(n)) = codec::frame(stream) {
        let (msg, rest) = stream.split_at(n);
        stream = rest;
        match codec::decode(msg, version) {
            Ok(Incoming::Hello { versions }) => {
                let _ = session.on_hello(versions);
            }
            Ok(Incoming::FlowMod(fm)) => {
                match_round_trip(version, &fm.matching);
                actions_round_trip(version, &fm.matching, &fm.actions, true);
                if ofaction::validate(&fm.matching, &fm.actions, fm.table_id).is_ok() {
                    let _ = table.add(fm.to_spec(), true, Origin::Controller, now);
                }
            }
            Ok(Incoming::PacketOut(po)) => actions_round_trip(version, &Match::ANY, &po.actions, false),
            Ok(Incoming::GroupMod(gm)) => {
                for b in &gm.buckets {
                    actions_round_trip(version, &Match::ANY, &b.actions, false);
                }
            }
            _ => {}
        }
    }
}

/// `m` encoded for `version` decodes to itself (in OXM, up to the PCP
/// bits of "untagged", which OXM leaves implied, as the oxm tests say).
fn match_round_trip(version: u8, m: &Match) {
    let mut out = Vec::new();
    if version == OFP10 {
        match10::encode(m, &mut out);
        let bytes: &[u8; match10::MATCH_LEN] = out.as_slice().try_into().expect("a 1.0 match is 40 bytes");
        assert_eq!(match10::decode(bytes), Ok(*m), "1.0 match {out:02x?}");
    } else {
        oxm::encode_match(m, &mut out);
        let back = oxm::decode_match(&out).map(|(b, n)| (untagged_pcp(b), n));
        assert_eq!(back, Ok((untagged_pcp(*m), out.len())), "OXM match {out:02x?}");
    }
}

/// A match on "untagged" with the PCP bits dropped (OXM cannot say them).
fn untagged_pcp(mut m: Match) -> Match {
    let (v, mk) = (m.value_of(Field::VlanTci), m.mask_of(Field::VlanTci));
    let cfi = u128::from(VLAN_CFI);
    if mk & cfi != 0 && v & cfi == 0 && v & 0xe000 == 0 {
        m.set(Field::VlanTci, v, mk & 0x1fff);
    }
    m
}

/// `actions` (of a flow matching `m`; `instructions`: a FLOW_MOD's, else an
/// action list) encoded for `version` decode, and what they decode to
/// encodes to the same bytes: switchd's own encoding is stable and
/// readable. Not "decode to themselves": the encoder says some actions in
/// another form with the same effect (found by this target: a 1.3
/// `NXAST_SET_TUNNEL` goes out as set-field `tun_id`, a set-field under a
/// non-contiguous mask as one `NXAST_REG_LOAD` per run of bits; the
/// syntax's 1.0 names such as `mod_nw_dst` as set-field), and those come
/// back in that form.
fn actions_round_trip(version: u8, m: &Match, actions: &[Action], instructions: bool) {
    let encode = |a: &[Action], out: &mut Vec<u8>| match (version, instructions) {
        (OFP10, _) => ofaction::encode_actions10(a, out),
        (_, true) => ofaction::encode_instructions13_for(m, a, out),
        (_, false) => ofaction::encode_actions13_for(m, a, out),
    };
    let decode = |b: &[u8]| match (version, instructions) {
        (OFP10, _) => ofaction::decode_actions10(b),
        (_, true) => ofaction::decode_instructions13(b),
        (_, false) => ofaction::decode_actions13(b),
    };
    let mut once = Vec::new();
    encode(actions, &mut once);
    let back = decode(&once);
    let Ok(back) = back else {
        panic!("{actions:?} encoded as {once:02x?}, which does not decode: {back:?}");
    };
    let mut twice = Vec::new();
    encode(&back, &mut twice);
    assert_eq!(
        once, twice,
        "{actions:?} encoded as {once:02x?}, decoded as {back:?}"
    );
}

// ---------------------------------------------------------------------------
// flow_syntax: `ovs-ofctl` syntax

/// The `ovs-ofctl` flow syntax (`flow::syntax`) and the meter syntax
/// (`qos::syntax`) on the input as UTF-8 text: what parses as a flow prints
/// (`format_flow`) to text that parses to the same flow and prints the same
/// (the contract of `flow::syntax`), and its match reads back as a filter;
/// what parses as a filter or a meter prints to the same again. A flow
/// that parses is also encoded as OpenFlow 1.3 (what a controller's
/// flow-stats request gets): its match must decode to itself, its actions
/// encode stably ([`actions_round_trip`]).
pub fn flow_syntax(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let names = FuzzNames;
    if let Ok(spec) = parse_flow(s, &names) {
        let text = format_flow(&spec, &names);
        let back = parse_flow(&text, &names);
        assert_eq!(back.as_ref(), Ok(&spec), "{s:?} printed as {text:?}");
        assert_eq!(format_flow(&spec, &names), text);
        let m = format_match(&spec.matching, &NoNames);
        let f = parse_filter(&m, &NoNames).map(|f| f.matching);
        assert_eq!(f, Ok(spec.matching), "{s:?}: match printed as {m:?}");
        match_round_trip(OFP13, &spec.matching);
        actions_round_trip(OFP13, &spec.matching, &spec.actions, true);
    }
    if let Ok(filter) = parse_filter(s, &names) {
        let m = format_match(&filter.matching, &names);
        let back = parse_filter(&m, &names).map(|f| f.matching);
        assert_eq!(back, Ok(filter.matching), "{s:?}: match printed as {m:?}");
    }
    if let Ok(meter) = qos::syntax::parse_meter(s) {
        let text = qos::syntax::to_text(&meter);
        assert_eq!(
            qos::syntax::parse_meter(&text).as_ref(),
            Ok(&meter),
            "{s:?} printed as {text:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every flow template parses, whatever byte fills it: a template that
    /// does not would silently leave the frame target without that flow.
    #[test]
    fn flow_templates_parse() {
        let mut bad = Vec::new();
        for i in 0..FLOW_TEMPLATES.len() {
            for b in [0u8, 1, 10, 127, 255] {
                let text = flow_template(i, b);
                if let Err(e) = parse_flow(&text, &FuzzNames) {
                    bad.push(format!("template {i} with {b}: {text:?}: {e}"));
                }
            }
        }
        assert!(bad.is_empty(), "{bad:#?}");
    }
}

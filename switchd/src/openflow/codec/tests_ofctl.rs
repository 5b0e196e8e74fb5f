//! The codec against the real oracle, Open vSwitch's `ovs-ofctl`:
//! - `ovs-ofctl ofp-print HEX` decodes each encoded message, and the text
//!   must hold the expected fields and no decode error (`***`);
//! - `ovs-ofctl -O OpenFlow1x COMMAND tcp:127.0.0.1:PORT` talks to a tiny
//!   switch made of this codec (decode what it sends, answer with
//!   [`encode`]), so both directions meet a real peer: the handshake,
//!   the table features and port descriptions `ovs-ofctl` asks for before
//!   a flow mod, the stats replies as `ovs-ofctl` prints them, and the
//!   Nicira extension requests it tries first and must fall back from.
//!
//! When `ovs-ofctl` is not installed these tests print SKIP and pass.
//! Tests of messages with matches or actions wait for the real
//! `oxm`/`match10`/`action` coders ([`coders_ready`]).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::tests::{coders_ready, enc, hex, port1, split, unhex};
use super::{decode, encode, frame};
use crate::flow::{Action, Field, Match};
use crate::openflow::error::OfError;
use crate::openflow::msg::*;

/// Whether `ovs-ofctl` can be run (else the caller skips, saying so).
fn have_ofctl() -> bool {
    let ok = Command::new("ovs-ofctl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIP: ovs-ofctl is not installed");
    }
    ok
}

/// `ovs-ofctl ofp-print` of one message (stdout and stderr).
fn ofp_print(msg: &[u8]) -> String {
    let o = Command::new("ovs-ofctl")
        .arg("ofp-print")
        .arg(hex(msg))
        .output()
        .expect("ovs-ofctl runs");
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// Asserts that `ovs-ofctl` decodes every message of `out` without error
/// and that the text of all of them holds each of `want`.
fn check(out: &[u8], want: &[&str]) {
    let mut text = String::new();
    for m in split(out) {
        let t = ofp_print(m);
        assert!(!t.contains("***"), "ovs-ofctl could not decode {}:\n{t}", hex(m));
        text += &t;
    }
    for w in want {
        assert!(text.contains(w), "no {w:?} in:\n{text}");
    }
}

#[test]
fn ofctl_prints_basic_messages() {
    if !have_ofctl() {
        return;
    }
    let req = unhex("0405000800000002");
    check(
        &enc(
            OFP13,
            1,
            &Outgoing::Hello {
                versions: SUPPORTED_VERSIONS,
            },
        ),
        &["OFPT_HELLO (OF1.3) (xid=0x1)", "version bitmap: 0x01, 0x04"],
    );
    check(
        &enc(
            OFP10,
            1,
            &Outgoing::Hello {
                versions: SUPPORTED_VERSIONS,
            },
        ),
        &["OFPT_HELLO (xid=0x1)"],
    );
    check(
        &enc(
            OFP13,
            2,
            &Outgoing::Error {
                error: OfError::BadType,
                data: &req,
            },
        ),
        &[
            "OFPT_ERROR (OF1.3) (xid=0x2): OFPBRC_BAD_TYPE",
            "OFPT_FEATURES_REQUEST (OF1.3)",
        ],
    );
    check(
        &enc(OFP13, 3, &Outgoing::EchoRequest),
        &["OFPT_ECHO_REQUEST (OF1.3) (xid=0x3)"],
    );
    check(
        &enc(OFP10, 3, &Outgoing::EchoReply(&req)),
        &["OFPT_ECHO_REPLY (xid=0x3): 8 bytes of payload"],
    );
    let gc = Outgoing::GetConfigReply {
        flags: 0,
        miss_send_len: 128,
    };
    check(
        &enc(OFP13, 4, &gc),
        &["OFPT_GET_CONFIG_REPLY (OF1.3) (xid=0x4): frags=normal miss_send_len=128"],
    );
    check(
        &enc(OFP10, 4, &gc),
        &["OFPT_GET_CONFIG_REPLY (xid=0x4): frags=normal miss_send_len=128"],
    );
    check(
        &enc(OFP13, 5, &Outgoing::BarrierReply),
        &["OFPT_BARRIER_REPLY (OF1.3) (xid=0x5)"],
    );
    check(
        &enc(OFP10, 5, &Outgoing::BarrierReply),
        &["OFPT_BARRIER_REPLY (xid=0x5)"],
    );
    check(
        &enc(
            OFP13,
            6,
            &Outgoing::RoleReply {
                role: Role::Master,
                generation_id: 3,
            },
        ),
        &["OFPT_ROLE_REPLY (OF1.3) (xid=0x6): role=primary generation_id=3"],
    );
    check(
        &enc(OFP13, 7, &Outgoing::GetAsyncReply(AsyncConfig::default())),
        &[
            "OFPT_GET_ASYNC_REPLY (OF1.3)",
            "PACKET_IN: no_match action",
            "FLOW_REMOVED: idle hard delete group_delete",
        ],
    );
}

/// Every error, in both versions, is a type/code pair OVS knows; the 1.3
/// ones print as the OVS name of the same error.
#[test]
fn ofctl_prints_every_error() {
    if !have_ofctl() {
        return;
    }
    use OfError::*;
    let all: &[(OfError, &str)] = &[
        (HelloIncompatible, "OFPHFC_INCOMPATIBLE"),
        (BadVersion, "OFPBRC_BAD_VERSION"),
        (BadType, "OFPBRC_BAD_TYPE"),
        (BadMultipart, "OFPBRC_BAD_STAT"),
        (BadExperimenter, "OFPBRC_BAD_VENDOR"),
        (BadExpType, "OFPBRC_BAD_SUBTYPE"),
        (Eperm, "OFPBRC_EPERM"),
        (BadLen, "OFPBRC_BAD_LEN"),
        (BufferUnknown, "OFPBRC_BUFFER_UNKNOWN"),
        (BadTableId, "OFPBRC_BAD_TABLE_ID"),
        (IsSlave, "OFPBRC_IS_SECONDARY"),
        (BadPort, "OFPBRC_BAD_PORT"),
        (MultipartBufferOverflow, "OFPBRC_MULTIPART_BUFFER_OVERFLOW"),
        (BadActionType, "OFPBAC_BAD_TYPE"),
        (BadActionLen, "OFPBAC_BAD_LEN"),
        (BadActionExperimenter, "OFPBAC_BAD_VENDOR"),
        (BadActionExpType, "OFPBAC_BAD_VENDOR_TYPE"),
        (BadOutPort, "OFPBAC_BAD_OUT_PORT"),
        (BadArgument, "OFPBAC_BAD_ARGUMENT"),
        (TooManyActions, "OFPBAC_TOO_MANY"),
        (BadOutGroup, "OFPBAC_BAD_OUT_GROUP"),
        (MatchInconsistent, "OFPBAC_MATCH_INCONSISTENT"),
        (UnsupportedOrder, "OFPBAC_UNSUPPORTED_ORDER"),
        (BadSetType, "OFPBAC_BAD_SET_TYPE"),
        (BadSetLen, "OFPBAC_BAD_SET_LEN"),
        (BadSetArgument, "OFPBAC_BAD_SET_ARGUMENT"),
        (UnknownInst, "OFPBIC_UNKNOWN_INST"),
        (UnsupInst, "OFPBIC_UNSUP_INST"),
        (BadInstTableId, "OFPBIC_BAD_TABLE_ID"),
        (UnsupMetadataMask, "OFPBIC_UNSUP_METADATA_MASK"),
        (BadInstLen, "OFPBIC_BAD_LEN"),
        (BadMatchType, "OFPBMC_BAD_TYPE"),
        (BadMatchLen, "OFPBMC_BAD_LEN"),
        (BadField, "OFPBMC_BAD_FIELD"),
        (BadWildcards, "OFPBMC_BAD_WILDCARDS"),
        (BadValue, "OFPBMC_BAD_VALUE"),
        (BadMask, "OFPBMC_BAD_MASK"),
        (BadPrereq, "OFPBMC_BAD_PREREQ"),
        (DupField, "OFPBMC_DUP_FIELD"),
        (TableFull, "OFPFMFC_TABLE_FULL"),
        (FlowModBadTableId, "OFPFMFC_BAD_TABLE_ID"),
        (Overlap, "OFPFMFC_OVERLAP"),
        (BadTimeout, "OFPFMFC_BAD_TIMEOUT"),
        (BadCommand, "OFPFMFC_BAD_COMMAND"),
        (BadFlags, "OFPFMFC_BAD_FLAGS"),
        (GroupExists, "OFPGMFC_GROUP_EXISTS"),
        (InvalidGroup, "OFPGMFC_INVALID_GROUP"),
        (OutOfGroups, "OFPGMFC_OUT_OF_GROUPS"),
        (OutOfBuckets, "OFPGMFC_OUT_OF_BUCKETS"),
        (ChainingUnsupported, "OFPGMFC_CHAINING_UNSUPPORTED"),
        (GroupLoop, "OFPGMFC_LOOP"),
        (UnknownGroup, "OFPGMFC_UNKNOWN_GROUP"),
        (BadGroupType, "OFPGMFC_BAD_TYPE"),
        (BadGroupCommand, "OFPGMFC_BAD_COMMAND"),
        (BadBucket, "OFPGMFC_BAD_BUCKET"),
        (BadWatch, "OFPGMFC_BAD_WATCH"),
        (PortModBadPort, "OFPPMFC_BAD_PORT"),
        (PortModBadHwAddr, "OFPPMFC_BAD_HW_ADDR"),
        (PortModBadConfig, "OFPPMFC_BAD_CONFIG"),
        (TableModBadTable, "OFPTMFC_BAD_TABLE"),
        (SwitchConfigBadFlags, "OFPSCFC_BAD_FLAGS"),
        (SwitchConfigBadLen, "OFPSCFC_BAD_LEN"),
        (RoleStale, "OFPRRFC_STALE"),
        (BadRole, "OFPRRFC_BAD_ROLE"),
        (MeterModUnknown, "OFPMMFC_UNKNOWN"),
        (MeterExists, "OFPMMFC_METER_EXISTS"),
        (InvalidMeter, "OFPMMFC_INVALID_METER"),
        (UnknownMeter, "OFPMMFC_UNKNOWN_METER"),
        (BadMeterCommand, "OFPMMFC_BAD_COMMAND"),
        (BadMeterFlags, "OFPMMFC_BAD_FLAGS"),
        (BadMeterRate, "OFPMMFC_BAD_RATE"),
        (BadMeterBurst, "OFPMMFC_BAD_BURST"),
        (BadMeterBand, "OFPMMFC_BAD_BAND"),
        (OutOfMeters, "OFPMMFC_OUT_OF_METERS"),
        (OutOfBands, "OFPMMFC_OUT_OF_BANDS"),
        (TableFeaturesEperm, "OFPTFFC_EPERM"),
    ];
    // One message per error and version, printed in one go per version
    // (ofp-print takes one message, so the buffer is split).
    for (error, name) in all {
        check(
            &enc(
                OFP13,
                1,
                &Outgoing::Error {
                    error: *error,
                    data: &[],
                },
            ),
            &[&format!("(xid=0x1): {name}")],
        );
        check(
            &enc(
                OFP10,
                1,
                &Outgoing::Error {
                    error: *error,
                    data: &[],
                },
            ),
            &["OFPT_ERROR (xid=0x1): OFP"],
        );
    }
}

#[test]
fn ofctl_prints_features_ports_packet_in() {
    if !have_ofctl() {
        return;
    }
    let f = FeaturesReply {
        datapath_id: 0xaabb_ccdd_eeff,
        n_buffers: 0,
        n_tables: 254,
        capabilities: 0xf,
        ports: vec![port1()],
    };
    check(
        &enc(OFP13, 1, &Outgoing::FeaturesReply(f.clone())),
        &[
            "OFPT_FEATURES_REPLY (OF1.3) (xid=0x1): dpid:0000aabbccddeeff",
            "n_tables:254, n_buffers:0",
            "capabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS",
        ],
    );
    check(&enc(OFP10, 1, &Outgoing::FeaturesReply(f)), &[
        "OFPT_FEATURES_REPLY (xid=0x1): dpid:0000aabbccddeeff",
        "capabilities: FLOW_STATS TABLE_STATS PORT_STATS\n",
        "actions: output set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src mod_dl_dst mod_nw_src mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst",
        " 1(p1): addr:00:11:22:33:44:55",
        "config:     PORT_DOWN",
        "state:      LINK_DOWN",
        "current:    10GB-FD COPPER",
    ]);
    let desc13 = [
        "1(p1): addr:00:11:22:33:44:55",
        "current:    10GB-FD COPPER",
        "speed: 10000 Mbps now, 10000 Mbps max",
    ];
    check(
        &enc(
            OFP13,
            2,
            &Outgoing::Multipart(MultipartReply::PortDesc(vec![port1()])),
        ),
        &desc13,
    );
    check(
        &enc(
            OFP13,
            2,
            &Outgoing::PortStatus {
                reason: PortReason::Modify,
                desc: port1(),
            },
        ),
        &desc13,
    );
    check(
        &enc(
            OFP10,
            2,
            &Outgoing::PortStatus {
                reason: PortReason::Add,
                desc: port1(),
            },
        ),
        &["OFPT_PORT_STATUS (xid=0x2): ADD: 1(p1): addr:00:11:22:33:44:55"],
    );
    check(
        &enc(
            OFP10,
            2,
            &Outgoing::Multipart(MultipartReply::PortDesc(vec![port1()])),
        ),
        &[
            "OFPST_PORT_DESC reply (xid=0x2):",
            "1(p1): addr:00:11:22:33:44:55",
        ],
    );

    let arp = unhex(
        "ffffffffffff000000000001 0806 0001 0800 06 04 0001 000000000001 0a000001 000000000000 0a000002",
    );
    let pi = PacketIn {
        buffer_id: NO_BUFFER,
        total_len: 42,
        reason: PacketInReason::Action,
        table_id: 2,
        cookie: 0x1234,
        in_port: 3,
        tun_id: Some(5),
        metadata: Some(0xff),
        data: &arp,
    };
    check(&enc(OFP13, 0, &Outgoing::PacketIn(pi)), &[
        "OFPT_PACKET_IN (OF1.3) (xid=0x0): table_id=2 cookie=0x1234 total_len=42 tun_id=0x5,metadata=0xff,in_port=3 (via action) data_len=42 (unbuffered)",
        "arp,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=00:00:00:00:00:01",
    ]);
    let pi = PacketIn {
        reason: PacketInReason::NoMatch,
        tun_id: None,
        metadata: None,
        in_port: 0xfffe,
        ..pi
    };
    check(
        &enc(OFP13, 0, &Outgoing::PacketIn(pi)),
        &["total_len=42 in_port=LOCAL (via no_match) data_len=42"],
    );
    check(
        &enc(OFP10, 0, &Outgoing::PacketIn(pi)),
        &["OFPT_PACKET_IN (xid=0x0): total_len=42 in_port=LOCAL (via no_match) data_len=42 (unbuffered)"],
    );
}

#[test]
fn ofctl_prints_stats_replies() {
    if !have_ofctl() {
        return;
    }
    let mp = |v, r| enc(v, 1, &Outgoing::Multipart(r));
    let d = Desc {
        mfr_desc: "switchd project".into(),
        hw_desc: "userspace".into(),
        sw_desc: "switchd 0.1.0".into(),
        serial_num: "None".into(),
        dp_desc: "br0".into(),
    };
    for v in [OFP13, OFP10] {
        check(
            &mp(v, MultipartReply::Desc(d.clone())),
            &[
                "Manufacturer: switchd project",
                "Hardware: userspace",
                "Software: switchd 0.1.0",
                "Serial Num: None",
                "DP Description: br0",
            ],
        );
        check(
            &mp(
                v,
                MultipartReply::Aggregate {
                    packet_count: 1,
                    byte_count: 2,
                    flow_count: 3,
                },
            ),
            &["packet_count=1 byte_count=2 flow_count=3"],
        );
        let t = TableStats {
            table_id: 0,
            active_count: 2,
            lookup_count: 3,
            matched_count: 1,
        };
        check(
            &mp(v, MultipartReply::Table(vec![t])),
            &["table 0", "active=2, lookup=3, matched=1"],
        );
        let p = PortStats {
            port_no: 2,
            rx_packets: 1,
            tx_packets: 2,
            rx_bytes: 3,
            tx_bytes: 4,
            rx_dropped: 5,
            tx_dropped: 6,
            rx_errors: 7,
            tx_errors: 8,
            duration: Duration::new(9, 500_000_000),
        };
        check(
            &mp(v, MultipartReply::PortStats(vec![p])),
            &[
                "1 ports",
                "port  2: rx pkts=1, bytes=3, drop=5, errs=7, frame=?, over=?, crc=?",
                "tx pkts=2, bytes=4, drop=6, errs=8, coll=?",
            ],
        );
    }
    check(&mp(OFP10, MultipartReply::Table(vec![TableStats { table_id: 0, active_count: 2, lookup_count: 3, matched_count: 1 }])), &[
        "table 0 (\"table0\")",
        "max_entries=1000000",
        "exact match or wildcard: in_port eth_{src,dst,type} vlan_{vid,pcp} ip_{src,dst} nw_{proto,tos} tcp_{src,dst}",
    ]);
    let p = PortStats {
        port_no: 2,
        duration: Duration::new(9, 500_000_000),
        ..PortStats::default()
    };
    check(
        &mp(OFP13, MultipartReply::PortStats(vec![p])),
        &["duration=9.500s"],
    );
    let gs = GroupStats {
        group_id: 1,
        ref_count: 2,
        packet_count: 3,
        byte_count: 4,
        duration: Duration::new(5, 6),
        buckets: vec![(7, 8)],
    };
    check(&mp(OFP13, MultipartReply::GroupStats(vec![gs])), &[
        "group_id=1,duration=5.000000006s,ref_count=2,packet_count=3,byte_count=4,bucket0:packet_count=7,byte_count=8",
    ]);
    let gd = GroupDesc {
        group_type: GroupType::Select,
        group_id: 9,
        buckets: vec![],
    };
    check(
        &mp(OFP13, MultipartReply::GroupDesc(vec![gd])),
        &["group_id=9,type=select"],
    );
    check(&mp(OFP13, MultipartReply::GroupFeatures { max_groups: 100 }), &[
        "Types:  0x7",
        "Capabilities:  0x5",
        "select group:\n       max_groups=0x64\n       actions: output group set_field strip_vlan push_vlan mod_nw_ttl dec_ttl",
    ]);
    let band = MeterBand {
        band_type: 1,
        rate: 1000,
        burst_size: 10,
    };
    check(
        &mp(
            OFP13,
            MultipartReply::MeterConfig(vec![MeterConfig {
                flags: 0x9,
                meter_id: 1,
                bands: vec![band],
            }]),
        ),
        &["meter=1 kbps stats bands=\ntype=drop rate=1000"],
    );
    let ms = MeterStats {
        meter_id: 1,
        flow_count: 2,
        packet_in_count: 3,
        byte_in_count: 4,
        duration: Duration::new(5, 6),
        bands: vec![(7, 8)],
    };
    check(&mp(OFP13, MultipartReply::MeterStats(vec![ms])), &[
        "meter:1 flow_count:2 packet_in_count:3 byte_in_count:4 duration:5.000000006s bands:\n0: packet_count:7 byte_count:8",
    ]);
    let mf = MeterFeatures {
        max_meter: 100,
        band_types: 2,
        capabilities: 0xf,
        max_bands: 1,
        max_color: 0,
    };
    check(
        &mp(OFP13, MultipartReply::MeterFeatures(mf)),
        &[
            "max_meter:100 max_bands:1 max_color:0",
            "band_types: drop",
            "capabilities: kbps pktps burst stats",
        ],
    );
}

#[test]
fn ofctl_prints_table_features() {
    if !have_ofctl() {
        return;
    }
    let out = enc(
        OFP13,
        1,
        &Outgoing::Multipart(MultipartReply::TableFeatures { n_tables: 254 }),
    );
    check(&out, &[
        "table 0 (\"table0\"):",
        "metadata: match=0xffffffffffffffff write=0xffffffffffffffff",
        "max_entries=1000000",
        "next tables: 1-253",
        "instructions: meter apply_actions write_metadata goto_table",
        "actions: output group set_field strip_vlan push_vlan mod_nw_ttl dec_ttl",
        "supported on Set-Field: tun_id metadata reg0...reg7 eth_{src,dst} vlan_{tci,vid,pcp} ip_{src,dst} \
         ipv6_{src,dst,label} nw_tos ip_dscp nw_{ecn,ttl} arp_{op,spa,tpa,sha,tha} tcp_{src,dst} udp_{src,dst} \
         sctp_{src,dst} icmp_{type,code} icmpv6_{type,code} nd_target",
        "arbitrary mask: tun_id metadata reg0...reg7 eth_{src,dst} vlan_{tci,vid} ip_{src,dst} ipv6_{src,dst,label} \
         arp_{spa,tpa,sha,tha} tcp_{src,dst,flags} udp_{src,dst} sctp_{src,dst} nd_target",
        "exact match or wildcard: in_port_oxm eth_type vlan_pcp nw_{proto,tos} ip_dscp nw_{ecn,ttl} arp_op \
         icmp_{type,code} icmpv6_{type,code}",
        "table 253 (\"table253\")",
    ]);
}

#[test]
fn ofctl_prints_flows() {
    if !have_ofctl() || !coders_ready() {
        return;
    }
    let mut m = Match::ANY;
    m.set_exact(Field::InPort, 1);
    m.set_exact(Field::DlType, 0x0800);
    m.set_exact(Field::NwSrc, 0x0a00_0001);
    let f = FlowStats {
        table_id: 1,
        duration: Duration::new(2, 3),
        priority: 4,
        idle_timeout: 5,
        hard_timeout: 6,
        flags: FlowModFlags {
            send_flow_rem: true,
            ..FlowModFlags::default()
        },
        cookie: 7,
        packet_count: 8,
        byte_count: 9,
        matching: m,
        actions: vec![Action::Output(2)],
    };
    check(&enc(OFP13, 1, &Outgoing::Multipart(MultipartReply::Flow(vec![f.clone()]))), &[
        "cookie=0x7, duration=2.000000003s, table=1, n_packets=8, n_bytes=9, idle_timeout=5, hard_timeout=6, \
         send_flow_rem priority=4,ip,in_port=1,nw_src=10.0.0.1 actions=output:2",
    ]);
    check(&enc(OFP10, 1, &Outgoing::Multipart(MultipartReply::Flow(vec![f]))), &[
        "cookie=0x7, duration=2.000000003s, table=1, n_packets=8, n_bytes=9, idle_timeout=5, hard_timeout=6, \
         priority=4,ip,in_port=1,nw_src=10.0.0.1 actions=output:2",
    ]);
    let r = FlowRemoved {
        cookie: 0x42,
        priority: 7,
        reason: FlowRemovedReason::IdleTimeout,
        table_id: 3,
        duration: Duration::new(5, 6),
        idle_timeout: 10,
        hard_timeout: 20,
        packet_count: 100,
        byte_count: 6400,
        matching: m,
    };
    check(&enc(OFP13, 1, &Outgoing::FlowRemoved(r.clone())), &[
        "OFPT_FLOW_REMOVED (OF1.3) (xid=0x1): priority=7,ip,in_port=1,nw_src=10.0.0.1 reason=idle table_id=3 \
         cookie:0x42 duration5.000000006s idle10 hard20 pkts100 bytes6400",
    ]);
    check(
        &enc(OFP10, 1, &Outgoing::FlowRemoved(r)),
        &[
            "OFPT_FLOW_REMOVED (xid=0x1): priority=7,ip,in_port=1,nw_src=10.0.0.1 reason=idle cookie:0x42 \
         duration5.000000006s idle10 pkts100 bytes6400",
        ],
    );
}

// ---------------------------------------------------------------- ovs-ofctl against a codec switch

/// What the codec switch answers to one decoded request, as OVS would:
/// one bridge with port 1 ("p1"), no flows, groups or meters.
fn answer(version: u8, req: Result<Incoming, OfError>, raw: &[u8]) -> Vec<Outgoing<'_>> {
    let req = match req {
        Ok(r) => r,
        Err(error) => return vec![Outgoing::Error { error, data: raw }],
    };
    let ports = vec![port1()];
    match req {
        Incoming::EchoRequest(_) => vec![Outgoing::EchoReply(&raw[8..])],
        Incoming::Experimenter { .. } => vec![Outgoing::Error {
            error: OfError::BadExperimenter,
            data: raw,
        }],
        Incoming::FeaturesRequest => vec![Outgoing::FeaturesReply(FeaturesReply {
            datapath_id: 0xaabb_ccdd_eeff,
            n_buffers: 0,
            n_tables: 254,
            capabilities: 0xf,
            ports,
        })],
        Incoming::GetConfigRequest => vec![Outgoing::GetConfigReply {
            flags: 0,
            miss_send_len: 128,
        }],
        Incoming::BarrierRequest => vec![Outgoing::BarrierReply],
        Incoming::Multipart(r) => vec![Outgoing::Multipart(match r {
            MultipartRequest::Desc => MultipartReply::Desc(Desc {
                mfr_desc: "switchd".into(),
                hw_desc: "codec test".into(),
                sw_desc: "0".into(),
                serial_num: "None".into(),
                dp_desc: "br0".into(),
            }),
            MultipartRequest::Flow(_) => MultipartReply::Flow(vec![]),
            MultipartRequest::Aggregate(_) => MultipartReply::Aggregate {
                packet_count: 0,
                byte_count: 0,
                flow_count: 0,
            },
            MultipartRequest::Table => MultipartReply::Table(
                (0..if version == OFP10 { 1 } else { 254 })
                    .map(|t| TableStats {
                        table_id: t,
                        active_count: 0,
                        lookup_count: 5,
                        matched_count: 0,
                    })
                    .collect(),
            ),
            MultipartRequest::TableFeatures => MultipartReply::TableFeatures { n_tables: 254 },
            MultipartRequest::PortStats(_) => MultipartReply::PortStats(vec![PortStats {
                port_no: 1,
                rx_packets: 11,
                ..PortStats::default()
            }]),
            MultipartRequest::PortDesc => MultipartReply::PortDesc(ports),
            MultipartRequest::GroupStats(_) => MultipartReply::GroupStats(vec![]),
            MultipartRequest::GroupDesc => MultipartReply::GroupDesc(vec![]),
            MultipartRequest::GroupFeatures => MultipartReply::GroupFeatures { max_groups: 4096 },
            MultipartRequest::MeterStats(_) => MultipartReply::MeterStats(vec![]),
            MultipartRequest::MeterConfig(_) => MultipartReply::MeterConfig(vec![]),
            MultipartRequest::MeterFeatures => MultipartReply::MeterFeatures(MeterFeatures {
                max_meter: 1024,
                band_types: 2,
                capabilities: 0xf,
                max_bands: 1,
                max_color: 0,
            }),
        })],
        _ => vec![],
    }
}

/// Runs `ovs-ofctl -O PROTOCOL COMMAND tcp:… ARGS` against a switch made
/// of the codec. Returns `ovs-ofctl`'s output (it must succeed) and what
/// the switch decoded, message by message (HELLO, ECHO and the requests
/// it answered included).
fn ofctl_session(protocol: &str, command: &str, args: &[&str]) -> (String, Vec<Result<Incoming, OfError>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let target = format!("tcp:{}", listener.local_addr().unwrap());
    let mut child = Command::new("ovs-ofctl")
        .args(["-O", protocol, "--timeout=20", command, &target])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ovs-ofctl starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    // ovs-ofctl opens several connections (table features, port
    // descriptions, then the command), keeping earlier ones open: one
    // thread each.
    let mut threads = Vec::new();
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "ovs-ofctl {command} hangs");
        match listener.accept() {
            Ok((s, _)) => threads.push(std::thread::spawn(move || serve(s))),
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    let o = child.wait_with_output().unwrap();
    let seen = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let text = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "ovs-ofctl -O {protocol} {command} {args:?} failed:\n{text}"
    );
    (text, seen)
}

/// Serves one connection: HELLO with both versions, then the answers of
/// [`answer`] in the negotiated version, until the peer closes it.
/// Returns what it decoded.
fn serve(mut s: TcpStream) -> Vec<Result<Incoming, OfError>> {
    let mut seen = Vec::new();
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(&enc(
        OFP13,
        1,
        &Outgoing::Hello {
            versions: SUPPORTED_VERSIONS,
        },
    ))
    .unwrap();
    let mut version = 0;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        while let Some(n) = frame(&buf).unwrap() {
            let raw: Vec<u8> = buf.drain(..n).collect();
            let msg = decode(&raw, version);
            if let Ok(Incoming::Hello { versions }) = msg {
                let common = versions & SUPPORTED_VERSIONS;
                version = if common & 1 << OFP13 != 0 { OFP13 } else { OFP10 };
                assert!(common != 0, "no common version with ovs-ofctl");
            }
            let xid = super::header(&raw).unwrap().xid;
            let mut out = Vec::new();
            for a in answer(version, msg.clone(), &raw) {
                encode(version, xid, &a, &mut out);
            }
            seen.push(msg);
            if s.write_all(&out).is_err() {
                return seen;
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return seen,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

#[test]
fn ofctl_talks_to_codec_switch() {
    if !have_ofctl() {
        return;
    }
    let (text, _) = ofctl_session("OpenFlow13", "show", &[]);
    assert!(
        text.contains("OFPT_FEATURES_REPLY (OF1.3)") && text.contains("n_tables:254"),
        "{text}"
    );
    assert!(text.contains(" 1(p1): addr:00:11:22:33:44:55"), "{text}");
    assert!(text.contains("OFPT_GET_CONFIG_REPLY (OF1.3)"), "{text}");
    let (text, _) = ofctl_session("OpenFlow10", "show", &[]);
    assert!(
        text.contains("OFPT_FEATURES_REPLY") && text.contains(" 1(p1): addr:00:11:22:33:44:55"),
        "{text}"
    );

    let (text, _) = ofctl_session("OpenFlow13", "dump-tables", &[]);
    assert!(
        text.contains("active=0, lookup=5, matched=0") && text.contains("tables 1...253: ditto"),
        "{text}"
    );
    let (text, _) = ofctl_session("OpenFlow10", "dump-tables", &[]);
    assert!(text.contains("table 0 (\"table0\")"), "{text}");
    let (text, _) = ofctl_session("OpenFlow13", "dump-table-features", &[]);
    assert!(
        text.contains("table 253 (\"table253\")") && text.contains("goto_table"),
        "{text}"
    );
    for p in ["OpenFlow13", "OpenFlow10"] {
        let (text, _) = ofctl_session(p, "dump-ports", &[]);
        assert!(text.contains("port  1: rx pkts=11"), "{text}");
        let (text, _) = ofctl_session(p, "dump-ports-desc", &[]);
        assert!(text.contains(" 1(p1): addr:00:11:22:33:44:55"), "{text}");
        let (text, _) = ofctl_session(p, "dump-desc", &[]);
        assert!(text.contains("Hardware: codec test"), "{text}");
    }
    let (text, _) = ofctl_session("OpenFlow13", "dump-group-features", &[]);
    assert!(text.contains("max_groups=0x1000"), "{text}");
    let (text, _) = ofctl_session("OpenFlow13", "meter-features", &[]);
    assert!(text.contains("max_meter:1024"), "{text}");
    // 1.0: ovs-ofctl first asks for Nicira's flow format; refused with an
    // error, it falls back to a standard OFPST_FLOW request (which decodes
    // fully once the 1.0 match coder is merged).
    let (_, seen) = ofctl_session("OpenFlow10", "dump-flows", &[]);
    let nx = seen
        .iter()
        .position(|m| matches!(m, Ok(Incoming::Experimenter { experimenter: 0x2320 })));
    assert!(nx.is_some(), "{seen:?}");
    assert!(
        seen.iter().skip(nx.unwrap()).any(|m| matches!(
            m,
            Ok(Incoming::Multipart(MultipartRequest::Flow(_))) | Err(OfError::BadMatchType)
        )),
        "{seen:?}"
    );
    let (_, seen) = ofctl_session("OpenFlow13", "del-meters", &[]);
    assert!(seen.contains(&Ok(Incoming::MeterMod(MeterMod {
        command: MeterModCommand::Delete,
        flags: 0,
        meter_id: METER_ALL,
        bands: vec![],
    }))));
}

#[test]
fn ofctl_flow_mods_reach_codec_switch() {
    if !have_ofctl() || !coders_ready() {
        return;
    }
    for p in ["OpenFlow13", "OpenFlow10"] {
        let (text, seen) = ofctl_session(p, "dump-flows", &["in_port=1"]);
        assert!(text.contains("OFPST_FLOW reply"), "{text}");
        let flow_stats = |m: &Result<Incoming, OfError>| match m {
            Ok(Incoming::Multipart(MultipartRequest::Flow(r))) => r.matching.value_of(Field::InPort) == 1,
            _ => false,
        };
        assert!(seen.iter().any(flow_stats), "{seen:?}");
    }
    let (_, seen) = ofctl_session(
        "OpenFlow13",
        "add-flow",
        &["table=3,priority=9,ip,nw_dst=10.0.0.2,actions=output:4"],
    );
    let f = seen
        .iter()
        .find_map(|m| match m {
            Ok(Incoming::FlowMod(f)) => Some(f.clone()),
            _ => None,
        })
        .expect("a flow mod");
    assert_eq!((f.command, f.table_id, f.priority), (FlowModCommand::Add, 3, 9));
    assert_eq!(f.matching.value_of(Field::NwDst), 0x0a00_0002);
    assert_eq!(f.actions, vec![Action::Output(4)]);
    let (_, seen) = ofctl_session(
        "OpenFlow10",
        "add-flow",
        &["priority=9,ip,nw_dst=10.0.0.2,actions=output:4"],
    );
    assert!(seen
        .iter()
        .any(|m| matches!(m, Ok(Incoming::FlowMod(f)) if f.actions == vec![Action::Output(4)])));
    let (_, seen) = ofctl_session(
        "OpenFlow13",
        "packet-out",
        &["in_port=controller packet=ffffffffffff0000000000010800 actions=output:1"],
    );
    assert!(seen
        .iter()
        .any(|m| matches!(m, Ok(Incoming::PacketOut(p)) if p.data.len() == 14)));
}

//! Codec tests without external tools: byte-exact encodings built by hand
//! from OpenFlow 1.3.5 / 1.0.0 (and OVS's `openflow-1.{0,3}.h`), decoding
//! of requests captured from `ovs-ofctl` 3.1 (through a small listener
//! that answered its HELLO, recorded what it sent, and replied just
//! enough), reply splitting, and a property test that `decode` never
//! panics. `tests_ofctl.rs` checks encodings against `ovs-ofctl ofp-print`.
//!
//! Tests of messages with a match or actions need `oxm.rs`, `match10.rs`
//! and `action.rs`, written elsewhere: while those are stubs
//! ([`coders_ready`] is false) such tests say SKIP and pass; once merged
//! they run.

use std::time::Duration;

use proptest::prelude::*;

use super::{decode, encode, frame, header, FrameError};
use crate::flow::types::ofport;
use crate::flow::{Action, Field, Match};
use crate::openflow::error::OfError;
use crate::openflow::msg::*;
use crate::openflow::wire::{mp, MAX_MSG_LEN};
use crate::openflow::{action, match10, oxm};

/// Bytes of a hex string (spaces and `|` allowed, for readability).
pub(super) fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    assert!(digits.len() % 2 == 0, "odd hex: {s}");
    digits
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

/// Lowercase hex of `b`.
pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether the match and action coders are the real ones rather than the
/// stubs of this branch: a real encoder always writes something (an
/// `ofp_match` has a header, a 1.0 match is 40 bytes, an output action 8
/// or 16 bytes).
pub(super) fn coders_ready() -> bool {
    let mut b = Vec::new();
    oxm::encode_match(&Match::ANY, &mut b);
    let oxm_ok = !b.is_empty();
    b.clear();
    match10::encode(&Match::ANY, &mut b);
    let m10_ok = !b.is_empty();
    b.clear();
    action::encode_actions13(&[Action::Output(1)], &mut b);
    let a13_ok = !b.is_empty();
    b.clear();
    action::encode_actions10(&[Action::Output(1)], &mut b);
    let ready = oxm_ok && m10_ok && a13_ok && !b.is_empty();
    if !ready {
        eprintln!("SKIP: oxm/match10/action are stubs in this tree; this test runs once they are merged");
    }
    ready
}

/// Encodes one outgoing message.
pub(super) fn enc(version: u8, xid: u32, msg: &Outgoing<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    encode(version, xid, msg, &mut out);
    out
}

/// Splits a buffer of messages into messages (checking the framing).
pub(super) fn split(mut buf: &[u8]) -> Vec<&[u8]> {
    let mut msgs = Vec::new();
    while !buf.is_empty() {
        let n = frame(buf).unwrap().expect("a whole message");
        assert!(n <= MAX_MSG_LEN);
        msgs.push(&buf[..n]);
        buf = &buf[n..];
    }
    msgs
}

/// A port for the description tests.
pub(super) fn port1() -> PortDesc {
    PortDesc {
        port_no: 1,
        hw_addr: [0x00, 0x11, 0x22, 0x33, 0x44, 0x55],
        name: "p1".into(),
        config: 1,
        state: 1,
        // 10GB_FD | COPPER (1.3 bits).
        curr: 1 << 6 | 1 << 11,
        curr_speed: 10_000_000,
        max_speed: 10_000_000,
    }
}

// ---------------------------------------------------------------- framing

#[test]
fn frame_and_header() {
    assert_eq!(frame(&[4, 0, 0]), Ok(None));
    assert_eq!(frame(&unhex("0400 0007 00000001")), Err(FrameError(7)));
    let hello = unhex("04000010000000010001000800000010");
    assert_eq!(frame(&hello[..12]), Ok(None));
    assert_eq!(frame(&[hello.clone(), hello.clone()].concat()), Ok(Some(16)));
    let h = header(&hello).unwrap();
    assert_eq!((h.version, h.msg_type, h.length, h.xid), (4, 0, 16, 1));
}

// ---------------------------------------------------------------- HELLO, ERROR, ECHO

#[test]
fn hello_decode() {
    // ovs-ofctl -O OpenFlow13: a bitmap of version 4 only.
    let ovs13 = unhex("04000010000000010001000800000010");
    assert_eq!(decode(&ovs13, 0), Ok(Incoming::Hello { versions: 1 << 4 }));
    // ovs-ofctl -O OpenFlow10: no elements: versions 1..=1.
    assert_eq!(
        decode(&unhex("0100000800000001"), 0),
        Ok(Incoming::Hello { versions: 0b10 })
    );
    // A 1.3 HELLO without elements: versions 1..=4.
    assert_eq!(
        decode(&unhex("0400000800000001"), 4),
        Ok(Incoming::Hello { versions: 0b11110 })
    );
    // A future version without elements.
    assert_eq!(
        decode(&unhex("0600000800000001"), 4),
        Ok(Incoming::Hello { versions: 0b111_1110 })
    );
    // An unknown element (type 7, 5 bytes + 3 padding) before the bitmap.
    let m = unhex("04000020 00000001 0007 0005 aa000000 0001 000c 00000012 00000000 00000000");
    assert_eq!(decode(&m, 1), Ok(Incoming::Hello { versions: 0x12 }));
    // An element longer than the message.
    assert_eq!(
        decode(&unhex("04000010000000010001001000000010"), 4),
        Err(OfError::BadLen)
    );
    // An element shorter than its header.
    assert_eq!(
        decode(&unhex("04000010000000010001000200000010"), 4),
        Err(OfError::BadLen)
    );
}

#[test]
fn hello_encode() {
    let v = SUPPORTED_VERSIONS;
    assert_eq!(
        hex(&enc(OFP13, 9, &Outgoing::Hello { versions: v })),
        "04000010000000090001000800000012"
    );
    assert_eq!(
        hex(&enc(OFP10, 9, &Outgoing::Hello { versions: v })),
        "0100000800000009"
    );
    // Not a version switchd speaks: nothing.
    assert!(enc(3, 9, &Outgoing::Hello { versions: v }).is_empty());
}

#[test]
fn error_encode() {
    let req = unhex("0405000800000002");
    let out = enc(
        OFP13,
        2,
        &Outgoing::Error {
            error: OfError::BadType,
            data: &req,
        },
    );
    assert_eq!(
        hex(&out),
        "04010014000000020001000104050008000000 02".replace(' ', "")
    );
    // At most 64 bytes of the offending message.
    let big = vec![0xab; 200];
    let out = enc(
        OFP10,
        3,
        &Outgoing::Error {
            error: OfError::BadInstTableId,
            data: &big,
        },
    );
    assert_eq!(out.len(), 8 + 4 + 64);
    assert_eq!(hex(&out[..12]), "0101004c0000000300020005");
    assert!(out[12..].iter().all(|b| *b == 0xab));
}

#[test]
fn error_decode() {
    let m = unhex("04010014000000020001000104050008 00000002");
    assert_eq!(decode(&m, 1), Ok(Incoming::Error { etype: 1, code: 1 }));
    assert_eq!(decode(&unhex("0401000a000000020001"), 4), Err(OfError::BadLen));
}

#[test]
fn echo() {
    let m = unhex("0102000c00000005 cafe babe");
    assert_eq!(decode(&m, 4), Ok(Incoming::EchoRequest(unhex("cafebabe"))));
    assert_eq!(decode(&unhex("0403000800000005"), 4), Ok(Incoming::EchoReply));
    assert_eq!(hex(&enc(OFP13, 5, &Outgoing::EchoRequest)), "0402000800000005");
    let payload = unhex("cafebabe");
    assert_eq!(
        hex(&enc(OFP10, 5, &Outgoing::EchoReply(&payload))),
        "0103000c00000005cafebabe"
    );
}

// ---------------------------------------------------------------- error numbers

#[test]
fn error_numbers() {
    use OfError::*;
    // 1.3 (OpenFlow 1.3.5 §7.4.4).
    assert_eq!(HelloIncompatible.to_wire(4), (0, 0));
    assert_eq!(BadLen.to_wire(4), (1, 6));
    assert_eq!(IsSlave.to_wire(4), (1, 10));
    assert_eq!(MultipartBufferOverflow.to_wire(4), (1, 13));
    assert_eq!(BadSetArgument.to_wire(4), (2, 15));
    assert_eq!(BadInstLen.to_wire(4), (3, 7));
    assert_eq!(DupField.to_wire(4), (4, 10));
    assert_eq!(BadFlags.to_wire(4), (5, 7));
    assert_eq!(BadWatch.to_wire(4), (6, 13));
    assert_eq!(PortModBadConfig.to_wire(4), (7, 2));
    assert_eq!(TableModBadTable.to_wire(4), (8, 0));
    assert_eq!(SwitchConfigBadLen.to_wire(4), (10, 1));
    assert_eq!(BadRole.to_wire(4), (11, 2));
    assert_eq!(OutOfBands.to_wire(4), (12, 11));
    assert_eq!(TableFeaturesEperm.to_wire(4), (13, 5));
    // 1.0 (OpenFlow 1.0.0 §5.4.4) and the nearest pairs.
    assert_eq!(BadMultipart.to_wire(1), (1, 2));
    assert_eq!(BadExperimenter.to_wire(1), (1, 3));
    assert_eq!(BufferUnknown.to_wire(1), (1, 8));
    assert_eq!(BadOutPort.to_wire(1), (2, 4));
    assert_eq!(UnknownInst.to_wire(1), (2, 0));
    assert_eq!(TableFull.to_wire(1), (3, 0));
    assert_eq!(Overlap.to_wire(1), (3, 1));
    assert_eq!(BadCommand.to_wire(1), (3, 4));
    assert_eq!(UnsupportedOrder.to_wire(1), (3, 5));
    assert_eq!(PortModBadHwAddr.to_wire(1), (4, 1));
    assert_eq!(GroupExists.to_wire(1), (1, 1));
    assert_eq!(BadMeterRate.to_wire(1), (1, 1));
}

// ---------------------------------------------------------------- decode: checks common to all

#[test]
fn decode_checks_length_and_version() {
    // The header's length must be the message's.
    assert_eq!(decode(&unhex("0405000900000002"), 4), Err(OfError::BadLen));
    assert_eq!(decode(&unhex("04050008000000"), 4), Err(OfError::BadLen));
    assert_eq!(decode(&[], 4), Err(OfError::BadLen));
    // A 1.0 request on a 1.3 connection, and the reverse.
    assert_eq!(decode(&unhex("0105000800000002"), 4), Err(OfError::BadVersion));
    assert_eq!(decode(&unhex("0405000800000002"), 1), Err(OfError::BadVersion));
    // Fixed-size bodies are exactly their size.
    assert_eq!(
        decode(&unhex("0405000c00000002 00000000"), 4),
        Err(OfError::BadLen)
    );
    assert_eq!(decode(&unhex("0414000900000002 00"), 4), Err(OfError::BadLen));
}

#[test]
fn decode_unhandled_types() {
    // ovs-ofctl queue-get-config (1.3 type 22, 1.0 type 20).
    assert_eq!(
        decode(&unhex("04160010000000020000000100000000"), 4),
        Err(OfError::BadType)
    );
    assert_eq!(
        decode(&unhex("0114000c0000000200010000"), 1),
        Err(OfError::BadType)
    );
    // A reply sent to the switch, and unassigned numbers.
    assert_eq!(decode(&unhex("0415000800000002"), 4), Err(OfError::BadType));
    assert_eq!(decode(&unhex("0418000800000002"), 1), Err(OfError::BadVersion));
    assert_eq!(decode(&unhex("0118000800000002"), 1), Err(OfError::BadType));
    assert_eq!(decode(&unhex("04ff000800000002"), 4), Err(OfError::BadType));
    // GROUP_MOD's 1.3 number is 1.0's PORT_MOD, of the wrong size.
    assert_eq!(
        decode(&unhex("010f001000000006 00020000 fffffffc"), 1),
        Err(OfError::BadLen)
    );
    // A negotiated version switchd does not speak.
    assert_eq!(decode(&unhex("0305000800000002"), 3), Err(OfError::BadVersion));
}

// ---------------------------------------------------------------- decode 1.3 (captured from ovs-ofctl)

/// `ovs-ofctl -O OpenFlow13` requests without matches or actions, as
/// captured, with what they decode to.
fn captured13() -> Vec<(&'static str, &'static str, Incoming)> {
    use MultipartRequest as M;
    let mpr = Incoming::Multipart;
    vec![
        ("show", "0405000800000002", Incoming::FeaturesRequest),
        ("get-frags", "0407000800000002", Incoming::GetConfigRequest),
        ("add-flow (barrier)", "0414000800000007", Incoming::BarrierRequest),
        ("dump-desc", "04120010000000020000000000000000", mpr(M::Desc)),
        ("dump-tables", "04120010000000020003000000000000", mpr(M::Table)),
        (
            "dump-table-features",
            "0412001000000002000c000000000000",
            mpr(M::TableFeatures),
        ),
        (
            "dump-ports",
            "04120018000000020004000000000000ffffffff00000000",
            mpr(M::PortStats(None)),
        ),
        (
            "dump-ports 5",
            "041200180000000200040000000000000000000500000000",
            mpr(M::PortStats(Some(5))),
        ),
        (
            "dump-ports-desc",
            "0412001000000002000d000000000000",
            mpr(M::PortDesc),
        ),
        (
            "dump-groups",
            "04120010000000020007000000000000",
            mpr(M::GroupDesc),
        ),
        (
            "dump-group-features",
            "04120010000000020008000000000000",
            mpr(M::GroupFeatures),
        ),
        (
            "dump-group-stats",
            "04120018000000060006000000000000fffffffc00000000",
            mpr(M::GroupStats(GROUP_ALL)),
        ),
        (
            "dump-group-stats 3",
            "041200180000000600060000000000000000000300000000",
            mpr(M::GroupStats(3)),
        ),
        (
            "dump-meters",
            "0412001800000002000a000000000000ffffffff00000000",
            mpr(M::MeterConfig(METER_ALL)),
        ),
        (
            "meter-stats",
            "04120018000000020009000000000000ffffffff00000000",
            mpr(M::MeterStats(METER_ALL)),
        ),
        (
            "meter-stats 3",
            "041200180000000200090000000000000000000300000000",
            mpr(M::MeterStats(3)),
        ),
        (
            "meter-features",
            "0412001000000002000b000000000000",
            mpr(M::MeterFeatures),
        ),
        (
            "del-groups",
            "040f00100000000600020000fffffffc",
            Incoming::GroupMod(GroupMod {
                command: GroupModCommand::Delete,
                group_type: GroupType::All,
                group_id: GROUP_ALL,
                buckets: vec![],
            }),
        ),
        (
            "del-groups group_id=7",
            "040f0010000000060002000000000007",
            Incoming::GroupMod(GroupMod {
                command: GroupModCommand::Delete,
                group_type: GroupType::All,
                group_id: 7,
                buckets: vec![],
            }),
        ),
        (
            "add-meter meter=1,kbps,band=type=drop,rate=1000",
            "041d002000000002000000010000000100010010000003e80000000000000000",
            Incoming::MeterMod(MeterMod {
                command: MeterModCommand::Add,
                flags: 1,
                meter_id: 1,
                bands: vec![MeterBand {
                    band_type: 1,
                    rate: 1000,
                    burst_size: 0,
                }],
            }),
        ),
        (
            "add-meter meter=2,pktps,burst,stats,band=type=drop,rate=10,burst_size=20",
            "041d0020000000020000000e00000002000100100000000a0000001400000000",
            Incoming::MeterMod(MeterMod {
                command: MeterModCommand::Add,
                flags: 0xe,
                meter_id: 2,
                bands: vec![MeterBand {
                    band_type: 1,
                    rate: 10,
                    burst_size: 20,
                }],
            }),
        ),
        (
            "mod-meter",
            "041d002000000002000100010000000100010010000007d00000000000000000",
            Incoming::MeterMod(MeterMod {
                command: MeterModCommand::Modify,
                flags: 1,
                meter_id: 1,
                bands: vec![MeterBand {
                    band_type: 1,
                    rate: 2000,
                    burst_size: 0,
                }],
            }),
        ),
        (
            "del-meter meter=1",
            "041d0010000000020002000000000001",
            Incoming::MeterMod(MeterMod {
                command: MeterModCommand::Delete,
                flags: 0,
                meter_id: 1,
                bands: vec![],
            }),
        ),
        (
            "del-meters",
            "041d00100000000200020000ffffffff",
            Incoming::MeterMod(MeterMod {
                command: MeterModCommand::Delete,
                flags: 0,
                meter_id: METER_ALL,
                bands: vec![],
            }),
        ),
    ]
}

#[test]
fn decode_captured13() {
    for (what, bytes, want) in captured13() {
        assert_eq!(decode(&unhex(bytes), OFP13), Ok(want), "{what}");
    }
}

#[test]
fn decode_hand_built13() {
    let cases: Vec<(&str, Result<Incoming, OfError>)> = vec![
        ("0409000c00000002 0000 0080", Ok(Incoming::SetConfig { flags: 0, miss_send_len: 128 })),
        ("0411001000000002 ff000000 00000003", Ok(Incoming::TableMod { table_id: 0xff })),
        (
            "0418001800000002 00000002 00000000 0000000000000007",
            Ok(Incoming::RoleRequest { role: Role::Master, generation_id: 7 }),
        ),
        ("0418001800000002 00000004 00000000 0000000000000007", Err(OfError::BadRole)),
        ("041a000800000002", Ok(Incoming::GetAsyncRequest)),
        (
            "041c002000000002 00000003 00000000 00000007 00000007 0000000f 00000000",
            Ok(Incoming::SetAsync(AsyncConfig {
                packet_in: [3, 0],
                port_status: [7, 7],
                flow_removed: [15, 0],
            })),
        ),
        (
            "0410002800000002 00000005 00000000 001122334455 0000 00000001 00000001 00000000 00000000",
            Ok(Incoming::PortMod(PortMod {
                port_no: 5,
                hw_addr: [0, 0x11, 0x22, 0x33, 0x44, 0x55],
                config: 1,
                mask: 1,
            })),
        ),
        // A port number 1.0 cannot hold.
        (
            "0410002800000002 0000ff00 00000000 001122334455 0000 00000001 00000001 00000000 00000000",
            Err(OfError::PortModBadPort),
        ),
        // Nicira experimenter message and experimenter multipart.
        ("0404001000000002 00002320 00000014", Ok(Incoming::Experimenter { experimenter: 0x2320 })),
        (
            "0412001800000002 ffff0000 00000000 00002320 00000000",
            Ok(Incoming::Experimenter { experimenter: 0x2320 }),
        ),
        // Queue stats (ovs-ofctl queue-stats): not handled.
        ("04120018000000020005000000000000ffffffffffffffff", Err(OfError::BadMultipart)),
        ("0412001000000002 0063 0000 00000000", Err(OfError::BadMultipart)),
        // Bodies of the wrong size.
        ("0412001800000002 0000 0000 00000000 0000000000000000", Err(OfError::BadLen)),
        ("0412001400000002 0004 0000 00000000 ffffffff", Err(OfError::BadLen)),
        // A port-stats port 1.0 cannot hold.
        ("0412001800000002 0004 0000 00000000 ffffff00 00000000", Err(OfError::BadPort)),
        // GROUP_MOD: bad command, bad type, bucket length too short / too long.
        ("040f001000000006 0005 0000 00000001", Err(OfError::BadGroupCommand)),
        ("040f001000000006 0000 0700 00000001", Err(OfError::BadGroupType)),
        ("040f002000000006 0000 0000 00000001 0008 0000 ffffffff ffffffff 00000000", Err(OfError::BadLen)),
        ("040f002000000006 0000 0000 00000001 0018 0000 ffffffff ffffffff 00000000", Err(OfError::BadLen)),
        // METER_MOD: bad command, a band shorter than 16 bytes.
        ("041d001000000002 0003 0000 00000001", Err(OfError::BadMeterCommand)),
        ("041d001c00000002 0000 0001 00000001 0001 000c 00000001 00000000", Err(OfError::BadLen)),
        // PACKET_OUT: an in_port 1.0 cannot hold; actions longer than the message.
        ("040d001800000002 ffffffff ffffff00 0000 000000000000", Err(OfError::BadPort)),
        ("040d001800000002 ffffffff 00000001 0008 000000000000", Err(OfError::BadLen)),
        // FLOW_MOD: bad command, unknown flags (before the match is read).
        (
            "040e003800000006 0000000000000000 0000000000000000 0005 0000 0000 8000 ffffffff ffffffff ffffffff 0000 0000 0001000400000000",
            Err(OfError::BadCommand),
        ),
        (
            "040e003800000006 0000000000000000 0000000000000000 0000 0000 0000 8000 ffffffff ffffffff ffffffff 0020 0000 0001000400000000",
            Err(OfError::BadFlags),
        ),
        (
            "040e003800000006 0000000000000000 0000000000000000 0003 0000 0000 8000 ffffffff ffffff00 ffffffff 0000 0000 0001000400000000",
            Err(OfError::BadPort),
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(decode(&unhex(bytes), OFP13), want, "{bytes}");
    }
    // Table features with a body (a request to change them).
    let m = unhex(&("0412005000000002 000c 0000 00000000".to_owned() + &"00".repeat(64)));
    assert_eq!(decode(&m, OFP13), Err(OfError::TableFeaturesEperm));
}

// ---------------------------------------------------------------- decode 1.0 (captured from ovs-ofctl)

#[test]
fn decode_captured10() {
    use MultipartRequest as M;
    let mpr = Incoming::Multipart;
    let cases: Vec<(&str, &str, Result<Incoming, OfError>)> = vec![
        ("show", "0105000800000002", Ok(Incoming::FeaturesRequest)),
        ("get-frags", "0107000800000002", Ok(Incoming::GetConfigRequest)),
        ("barrier", "0112000800000007", Ok(Incoming::BarrierRequest)),
        ("dump-desc", "0110000c0000000200000000", Ok(mpr(M::Desc))),
        ("dump-tables", "0110000c0000000200030000", Ok(mpr(M::Table))),
        (
            "dump-ports",
            "011000140000000200040000ffff000000000000",
            Ok(mpr(M::PortStats(None))),
        ),
        (
            "dump-ports 5",
            "0110001400000002000400000005000000000000",
            Ok(mpr(M::PortStats(Some(5)))),
        ),
        (
            "dump-ports-desc",
            "0110000c00000002000d0000",
            Ok(mpr(M::PortDesc)),
        ),
        (
            "queue-stats",
            "011000140000000200050000fffc0000ffffffff",
            Err(OfError::BadMultipart),
        ),
        // Nicira extensions ovs-ofctl tries first (NXT_SET_FLOW_FORMAT, NXST_FLOW).
        (
            "set-flow-format",
            "0104001400000006000023200000000c00000002",
            Ok(Incoming::Experimenter { experimenter: 0x2320 }),
        ),
        (
            "nx dump-flows",
            "0110002000000004ffff0000000023200000000000000000ffff0000ff000000",
            Ok(Incoming::Experimenter { experimenter: 0x2320 }),
        ),
        (
            "set-config",
            "0109000c00000002 0000 ffff",
            Ok(Incoming::SetConfig {
                flags: 0,
                miss_send_len: 0xffff,
            }),
        ),
        (
            "port-mod",
            "010f002000000002 0003 001122334455 00000001 00000001 00000000 00000000",
            Ok(Incoming::PortMod(PortMod {
                port_no: 3,
                hw_addr: [0, 0x11, 0x22, 0x33, 0x44, 0x55],
                config: 1,
                mask: 1,
            })),
        ),
        (
            "port-mod of port 0xff00",
            "010f002000000002 ff00 001122334455 00000001 00000001 00000000 00000000",
            Err(OfError::PortModBadPort),
        ),
        // 1.3-only types are unknown in 1.0.
        (
            "role request",
            "0118001800000002 00000002 00000000 0000000000000007",
            Err(OfError::BadType),
        ),
        (
            "meter mod",
            "011d0010000000020002000000000001",
            Err(OfError::BadType),
        ),
        (
            "group stats",
            "0110001400000002 0006 0000 fffffffc 00000000",
            Err(OfError::BadMultipart),
        ),
        // PACKET_OUT with actions past the end.
        (
            "packet-out",
            "010d001000000002 ffffffff 0003 0010",
            Err(OfError::BadLen),
        ),
        (
            "packet-out",
            "010d001000000002 ffffffff ff00 0000",
            Err(OfError::BadPort),
        ),
    ];
    for (what, bytes, want) in cases {
        assert_eq!(decode(&unhex(bytes), OFP10), want, "{what}");
    }
}

// ---------------------------------------------------------------- decode with matches/actions (needs the merge)

#[test]
fn decode_flow_mods13() {
    if !coders_ready() {
        return;
    }
    // add-flow priority=100,cookie=0x1234,idle_timeout=30,hard_timeout=60,send_flow_rem,ip,nw_src=10.0.0.1,actions=output:2
    let add = unhex(
        "040e006000000006000000000000123400000000000000000000001e003c0064ffffffffffffffffffffffff00010000\
         0001001280000a020800800016040a000001000000000000000400180000000000000010000000020000000000000000",
    );
    let Ok(Incoming::FlowMod(f)) = decode(&add, OFP13) else {
        panic!("{:?}", decode(&add, OFP13))
    };
    assert_eq!(f.command, FlowModCommand::Add);
    assert_eq!((f.table_id, f.cookie, f.cookie_mask), (0, 0x1234, 0));
    assert_eq!((f.idle_timeout, f.hard_timeout, f.priority), (30, 60, 100));
    assert_eq!((f.buffer_id, f.out_port, f.out_group), (NO_BUFFER, None, None));
    assert_eq!(
        f.flags,
        FlowModFlags {
            send_flow_rem: true,
            ..FlowModFlags::default()
        }
    );
    let mut m = Match::ANY;
    m.set_exact(Field::DlType, 0x0800);
    m.set_exact(Field::NwSrc, 0x0a00_0001);
    assert_eq!(f.matching, m);
    assert_eq!(f.actions, vec![Action::Output(2)]);

    // del-flows cookie=0x10/0xff,out_port=3,table=2
    let del = unhex(
        "040e003800000006000000000000001000000000000000ff0203000000008000ffffffff00000003ffffffff00000000\
         0001000400000000",
    );
    let Ok(Incoming::FlowMod(f)) = decode(&del, OFP13) else {
        panic!("{:?}", decode(&del, OFP13))
    };
    assert_eq!(f.command, FlowModCommand::Delete);
    assert_eq!((f.table_id, f.cookie, f.cookie_mask), (2, 0x10, 0xff));
    assert_eq!((f.out_port, f.out_group), (Some(3), None));
    assert_eq!(f.matching, Match::ANY);
    assert!(f.actions.is_empty());

    // --strict del-flows priority=5,in_port=1 (all tables)
    let del = unhex(
        "040e00400000000600000000000000000000000000000000ff04000000000005ffffffffffffffffffffffff00000000\
         0001000c800000040000000100000000",
    );
    let Ok(Incoming::FlowMod(f)) = decode(&del, OFP13) else {
        panic!("{:?}", decode(&del, OFP13))
    };
    assert_eq!(
        (f.command, f.table_id, f.priority),
        (FlowModCommand::DeleteStrict, 0xff, 5)
    );
    assert_eq!(f.matching.value_of(Field::InPort), 1);

    // mod-flows --strict priority=5,in_port=1,actions=normal
    let modify = unhex(
        "040e005800000006000000000000000000000000000000000002000000000005ffffffffffffffffffffffff00000000\
         0001000c800000040000000100000000000400180000000000000010fffffffa0000000000000000",
    );
    let Ok(Incoming::FlowMod(f)) = decode(&modify, OFP13) else {
        panic!("{:?}", decode(&modify, OFP13))
    };
    assert_eq!(f.command, FlowModCommand::ModifyStrict);
    assert_eq!(f.actions, vec![Action::Normal]);

    // table=2,cookie=0x5,priority=3,tcp,tp_dst=80,actions=write_metadata:0x5/0xff,goto_table:3
    let goto = unhex(
        "040e006800000006000000000000000500000000000000000200000000000003ffffffffffffffffffffffff00000000\
         0001001580000a020800800014010680001c0200500000000002001800000000000000000000000500000000000000ff\
         0001000803000000",
    );
    let Ok(Incoming::FlowMod(f)) = decode(&goto, OFP13) else {
        panic!("{:?}", decode(&goto, OFP13))
    };
    assert_eq!((f.table_id, f.cookie, f.priority), (2, 5, 3));
    assert_eq!(f.matching.value_of(Field::TpDst), 80);
    assert_eq!(f.actions.last(), Some(&Action::GotoTable(3)));
}

#[test]
fn decode_flow_mods10() {
    if !coders_ready() {
        return;
    }
    // add-flow priority=100,cookie=0x1234,idle_timeout=30,hard_timeout=60,send_flow_rem,ip,nw_src=10.0.0.1,actions=output:2
    let add = unhex(
        "010e005000000006003800ef0000000000000000000000000000000000000800000000000a00000100000000000000000000\
         0000000012340000001e003c0064ffffffffffff00010000000800020000",
    );
    let Ok(Incoming::FlowMod(f)) = decode(&add, OFP10) else {
        panic!("{:?}", decode(&add, OFP10))
    };
    assert_eq!(
        (f.command, f.table_id, f.cookie, f.cookie_mask),
        (FlowModCommand::Add, 0, 0x1234, 0)
    );
    assert_eq!((f.idle_timeout, f.hard_timeout, f.priority), (30, 60, 100));
    assert!(f.flags.send_flow_rem && f.flags.reset_counts);
    assert_eq!(f.matching.value_of(Field::NwSrc), 0x0a00_0001);
    assert_eq!(f.actions, vec![Action::Output(2)]);

    // del-flows out_port=3
    let del = unhex(
        "010e004800000006003820ff000000000000000000000000000000000000000000000000000000000000000000000000\
         00000000000000000003000000008000ffffffff00030000",
    );
    let Ok(Incoming::FlowMod(f)) = decode(&del, OFP10) else {
        panic!("{:?}", decode(&del, OFP10))
    };
    assert_eq!(
        (f.command, f.table_id, f.out_port),
        (FlowModCommand::Delete, 0xff, Some(3))
    );
    assert_eq!(f.matching, Match::ANY);

    // mod-flows in_port=1,actions=normal
    let modify = unhex(
        "010e005000000006003820fe000100000000000000000000000000000000000000000000000000000000000000000000\
         00000000000000000001000000008000ffffffffffff000000000008fffa0000",
    );
    let Ok(Incoming::FlowMod(f)) = decode(&modify, OFP10) else {
        panic!("{:?}", decode(&modify, OFP10))
    };
    assert_eq!(
        (f.command, f.table_id, f.out_port),
        (FlowModCommand::Modify, 0xff, None)
    );
    assert_eq!(f.matching.value_of(Field::InPort), 1);
    assert_eq!(f.actions, vec![Action::Normal]);
}

#[test]
fn decode_packet_outs() {
    if !coders_ready() {
        return;
    }
    let arp = unhex("ffffffffffff000000000001080600010800060400010000000000010a000001000000000000");
    // 1.3 packet-out in_port=controller ... actions=output:1
    let m = [
        unhex("040d004e00000006 ffffffff fffffffd 0010 000000000000 0000 0010 00000001 0000 000000000000"),
        arp.clone(),
    ]
    .concat();
    let want = PacketOut {
        buffer_id: NO_BUFFER,
        in_port: ofport::NONE,
        actions: vec![Action::Output(1)],
        data: arp,
    };
    assert_eq!(decode(&m, OFP13), Ok(Incoming::PacketOut(want.clone())));
    // 1.0
    let m = [
        unhex("010d003e00000006fffffffffffd00080000000800010000"),
        want.data.clone(),
    ]
    .concat();
    assert_eq!(decode(&m, OFP10), Ok(Incoming::PacketOut(want)));
    // 1.3 in_port=3 actions=normal
    let m = unhex("040d003600000006ffffffff00000003001000000000000000000010fffffffa0000000000000000ffffffffffff0000000000010800");
    let Ok(Incoming::PacketOut(p)) = decode(&m, OFP13) else {
        panic!()
    };
    assert_eq!(
        (p.in_port, p.actions, p.data.len()),
        (3, vec![Action::Normal], 14)
    );
}

#[test]
fn decode_flow_stats_requests() {
    if !coders_ready() {
        return;
    }
    // 1.3 dump-flows table=3,in_port=2,out_port=4
    let m = unhex(
        "041200400000000600010000000000000300000000000004ffffffff00000000000000000000000000000000000000000001000c800000040000000200000000",
    );
    let Ok(Incoming::Multipart(MultipartRequest::Flow(r))) = decode(&m, OFP13) else {
        panic!("{:?}", decode(&m, 4))
    };
    assert_eq!(
        (r.table_id, r.out_port, r.out_group, r.cookie_mask),
        (3, Some(4), None, 0)
    );
    assert_eq!(r.matching.value_of(Field::InPort), 2);
    // 1.3 dump-aggregate (everything)
    let m = unhex("04120038000000020002000000000000ff000000ffffffffffffffff00000000000000000000000000000000000000000001000400000000");
    let Ok(Incoming::Multipart(MultipartRequest::Aggregate(r))) = decode(&m, OFP13) else {
        panic!()
    };
    assert_eq!((r.table_id, r.out_port, r.matching), (0xff, None, Match::ANY));
    // 1.0 flow stats: all tables, no out_port, match everything.
    let m = unhex("0110003800000002 0001 0000 003fffff 0000 000000000000 000000000000 0000 00 00 0000 00 00 0000 00000000 00000000 0000 0000 ff 00 ffff");
    let Ok(Incoming::Multipart(MultipartRequest::Flow(r))) = decode(&m, OFP10) else {
        panic!("{:?}", decode(&m, 1))
    };
    assert_eq!((r.table_id, r.out_port, r.matching), (0xff, None, Match::ANY));
}

#[test]
fn decode_group_mods() {
    if !coders_ready() {
        return;
    }
    // add-group group_id=1,type=all,bucket=output:1,bucket=output:2
    let m = unhex(
        "040f005000000006000000000000000100200000ffffffffffffffff000000000000001000000001000000000000000000200000ffffffffffffffff0000000000000010000000020000000000000000",
    );
    let bucket = |p| Bucket {
        weight: 0,
        watch_port: None,
        watch_group: None,
        actions: vec![Action::Output(p)],
    };
    assert_eq!(
        decode(&m, OFP13),
        Ok(Incoming::GroupMod(GroupMod {
            command: GroupModCommand::Add,
            group_type: GroupType::All,
            group_id: 1,
            buckets: vec![bucket(1), bucket(2)],
        }))
    );
    // add-group group_id=2,type=select,bucket=weight:10,output:1
    let m = unhex(
        "040f00300000000600000100000000020020000affffffffffffffff0000000000000010000000010000000000000000",
    );
    let Ok(Incoming::GroupMod(g)) = decode(&m, OFP13) else {
        panic!()
    };
    assert_eq!((g.group_type, g.buckets[0].weight), (GroupType::Select, 10));
}

// ---------------------------------------------------------------- encode

#[test]
fn features_reply13() {
    let f = FeaturesReply {
        datapath_id: 0xaabb_ccdd_eeff,
        n_buffers: 0,
        n_tables: 254,
        capabilities: 0xf,
        ports: vec![port1()],
    };
    let out = enc(OFP13, 7, &Outgoing::FeaturesReply(f));
    assert_eq!(
        hex(&out),
        "0406002000000007 0000aabbccddeeff 00000000 fe000000 0000000f 00000000".replace(' ', "")
    );
}

#[test]
fn features_reply10() {
    let f = FeaturesReply {
        datapath_id: 0xaabb_ccdd_eeff,
        n_buffers: 0,
        n_tables: 254,
        capabilities: 0xf,
        ports: vec![port1()],
    };
    let out = enc(OFP10, 7, &Outgoing::FeaturesReply(f));
    let want = "0106005000000007 0000aabbccddeeff 00000000 fe000000 00000007 000007ff \
                0001 001122334455 70310000000000000000000000000000 00000001 00000001 000000c0 000000000000000000000000";
    assert_eq!(hex(&out), want.replace(' ', ""));
    // Too many ports for one message: as many as fit.
    let f = FeaturesReply {
        datapath_id: 1,
        n_buffers: 0,
        n_tables: 1,
        capabilities: 0,
        ports: vec![port1(); 2000],
    };
    let out = enc(OFP10, 7, &Outgoing::FeaturesReply(f));
    assert_eq!(split(&out).len(), 1);
    assert_eq!(out.len(), 32 + 48 * ((MAX_MSG_LEN - 32) / 48));
}

#[test]
fn get_config_barrier_role_async() {
    let gc = Outgoing::GetConfigReply {
        flags: 0,
        miss_send_len: 128,
    };
    assert_eq!(hex(&enc(OFP13, 2, &gc)), "0408000c0000000200000080");
    assert_eq!(hex(&enc(OFP10, 2, &gc)), "0108000c0000000200000080");
    assert_eq!(hex(&enc(OFP13, 2, &Outgoing::BarrierReply)), "0415000800000002");
    assert_eq!(hex(&enc(OFP10, 2, &Outgoing::BarrierReply)), "0113000800000002");
    let role = Outgoing::RoleReply {
        role: Role::Slave,
        generation_id: 9,
    };
    assert_eq!(
        hex(&enc(OFP13, 2, &role)),
        "041900180000000200000003000000000000000000000009"
    );
    assert!(enc(OFP10, 2, &role).is_empty());
    let a = Outgoing::GetAsyncReply(AsyncConfig::default());
    assert_eq!(
        hex(&enc(OFP13, 2, &a)),
        "041b002000000002 00000003 00000000 00000007 00000007 0000000f 00000000".replace(' ', "")
    );
    assert!(enc(OFP10, 2, &a).is_empty());
}

#[test]
fn packet_in13() {
    let data = unhex("deadbeef");
    let p = PacketIn {
        buffer_id: NO_BUFFER,
        total_len: 60,
        reason: PacketInReason::Action,
        table_id: 2,
        cookie: 0x1122_3344_5566_7788,
        in_port: 3,
        tun_id: None,
        metadata: None,
        data: &data,
    };
    let want = "040a002e00000000 ffffffff 003c 01 02 1122334455667788 \
                0001000c 80000004 00000003 00000000 0000 deadbeef";
    assert_eq!(hex(&enc(OFP13, 0, &Outgoing::PacketIn(p))), want.replace(' ', ""));
    // With metadata and a tunnel id; a reserved in_port.
    let p = PacketIn {
        tun_id: Some(5),
        metadata: Some(0xff),
        in_port: ofport::LOCAL,
        ..p
    };
    let want = "040a004600000000 ffffffff 003c 01 02 1122334455667788 \
                00010024 80000004 fffffffe 80000408 00000000000000ff 80004c08 0000000000000005 00000000 \
                0000 deadbeef";
    assert_eq!(hex(&enc(OFP13, 0, &Outgoing::PacketIn(p))), want.replace(' ', ""));
}

#[test]
fn packet_in10() {
    let data = unhex("deadbeef");
    let p = PacketIn {
        buffer_id: NO_BUFFER,
        total_len: 60,
        reason: PacketInReason::NoMatch,
        table_id: 0,
        cookie: u64::MAX,
        in_port: 3,
        tun_id: Some(1),
        metadata: None,
        data: &data,
    };
    assert_eq!(
        hex(&enc(OFP10, 0, &Outgoing::PacketIn(p))),
        "010a001600000000ffffffff003c00030000deadbeef"
    );
    // A frame too big for one message is cut.
    let big = vec![0u8; 70_000];
    let p = PacketIn {
        data: &big,
        total_len: u16::MAX,
        ..p
    };
    let out = enc(OFP10, 0, &Outgoing::PacketIn(p));
    assert_eq!(split(&out).len(), 1);
    assert_eq!(out.len(), MAX_MSG_LEN);
    let out = enc(OFP13, 0, &Outgoing::PacketIn(p));
    assert_eq!(out.len(), MAX_MSG_LEN);
}

#[test]
fn port_status() {
    let ps = Outgoing::PortStatus {
        reason: PortReason::Modify,
        desc: port1(),
    };
    let want13 = "040c005000000000 02 00000000000000 \
                  00000001 00000000 001122334455 0000 70310000000000000000000000000000 \
                  00000001 00000001 00000840 00000000 00000000 00000000 00989680 00989680";
    assert_eq!(hex(&enc(OFP13, 0, &ps)), want13.replace(' ', ""));
    let want10 = "010c004000000000 02 00000000000000 \
                  0001 001122334455 70310000000000000000000000000000 \
                  00000001 00000001 000000c0 00000000 00000000 00000000";
    assert_eq!(hex(&enc(OFP10, 0, &ps)), want10.replace(' ', ""));
    // Reserved ports and long names.
    let mut d = port1();
    d.port_no = ofport::LOCAL;
    d.name = "a-very-long-port-name".into();
    d.state = 0x7 | 0x300;
    let out = enc(
        OFP13,
        0,
        &Outgoing::PortStatus {
            reason: PortReason::Add,
            desc: d.clone(),
        },
    );
    assert_eq!(hex(&out[16..20]), "fffffffe");
    assert_eq!(&out[32..48], b"a-very-long-por\0");
    assert_eq!(hex(&out[52..56]), "00000007");
    let out = enc(
        OFP10,
        0,
        &Outgoing::PortStatus {
            reason: PortReason::Add,
            desc: d,
        },
    );
    assert_eq!(hex(&out[16..18]), "fffe");
    assert_eq!(hex(&out[44..48]), "00000301");
}

#[test]
fn flow_removed() {
    if !coders_ready() {
        return;
    }
    let mut m = Match::ANY;
    m.set_exact(Field::InPort, 1);
    let f = FlowRemoved {
        cookie: 0x42,
        priority: 7,
        reason: FlowRemovedReason::GroupDelete,
        table_id: 3,
        duration: Duration::new(5, 6),
        idle_timeout: 10,
        hard_timeout: 20,
        packet_count: 100,
        byte_count: 6400,
        matching: m,
    };
    let out = enc(OFP13, 0, &Outgoing::FlowRemoved(f.clone()));
    let want = "040b 0040 00000000 0000000000000042 0007 03 03 00000005 00000006 000a 0014 \
                0000000000000064 0000000000001900 0001000c 80000004 00000001 00000000";
    assert_eq!(hex(&out), want.replace(' ', ""));
    let out = enc(OFP10, 0, &Outgoing::FlowRemoved(f));
    assert_eq!(out.len(), 88);
    assert_eq!(hex(&out[..2]), "010b");
    // cookie, priority, reason (group delete → delete), duration, idle.
    assert_eq!(
        hex(&out[48..72]),
        "0000000000000042 0007 02 00 00000005 00000006 000a 0000".replace(' ', "")
    );
}

// ---------------------------------------------------------------- multipart replies

/// The (type, flags, body) of each message of a multipart reply.
fn replies(version: u8, buf: &[u8]) -> Vec<(u16, u16, Vec<u8>)> {
    let hl = if version == OFP10 {
        mp::HEADER_LEN10
    } else {
        mp::HEADER_LEN13
    };
    split(buf)
        .into_iter()
        .map(|m| {
            assert_eq!(m[0], version);
            assert_eq!(m[1], if version == OFP10 { 17 } else { 19 });
            (
                u16::from_be_bytes([m[8], m[9]]),
                u16::from_be_bytes([m[10], m[11]]),
                m[hl..].to_vec(),
            )
        })
        .collect()
}

#[test]
fn desc_reply() {
    let d = Desc {
        mfr_desc: "switchd".into(),
        hw_desc: "userspace".into(),
        sw_desc: "0.1.0".into(),
        serial_num: "None".into(),
        dp_desc: "br0".into(),
    };
    let out = enc(OFP13, 1, &Outgoing::Multipart(MultipartReply::Desc(d.clone())));
    assert_eq!(out.len(), 16 + 1056);
    assert_eq!(
        hex(&out[..16]),
        "0413043000000001 0000 0000 00000000".replace(' ', "")
    );
    assert_eq!(&out[16..24], b"switchd\0");
    assert_eq!(&out[16 + 768..16 + 773], b"None\0");
    assert_eq!(&out[16 + 800..16 + 804], b"br0\0");
    let out = enc(OFP10, 1, &Outgoing::Multipart(MultipartReply::Desc(d)));
    assert_eq!(hex(&out[..12]), "0111042c00000001 0000 0000".replace(' ', ""));
    assert_eq!(out.len(), 12 + 1056);
}

#[test]
fn empty_and_small_replies() {
    let out = enc(OFP13, 1, &Outgoing::Multipart(MultipartReply::Flow(vec![])));
    assert_eq!(hex(&out), "04130010000000010001000000000000");
    let out = enc(OFP10, 1, &Outgoing::Multipart(MultipartReply::PortStats(vec![])));
    assert_eq!(hex(&out), "0111000c0000000100040000");
    let agg = MultipartReply::Aggregate {
        packet_count: 1,
        byte_count: 2,
        flow_count: 3,
    };
    let out = enc(OFP13, 1, &Outgoing::Multipart(agg.clone()));
    assert_eq!(
        hex(&out[16..]),
        "0000000000000001 0000000000000002 00000003 00000000".replace(' ', "")
    );
    let out = enc(OFP10, 1, &Outgoing::Multipart(agg));
    assert_eq!(out.len(), 12 + 24);
    // 1.3-only replies: nothing in 1.0.
    for r in [
        MultipartReply::TableFeatures { n_tables: 254 },
        MultipartReply::GroupStats(vec![]),
        MultipartReply::GroupDesc(vec![]),
        MultipartReply::GroupFeatures { max_groups: 10 },
        MultipartReply::MeterStats(vec![]),
        MultipartReply::MeterConfig(vec![]),
        MultipartReply::MeterFeatures(MeterFeatures {
            max_meter: 1,
            band_types: 2,
            capabilities: 0xf,
            max_bands: 1,
            max_color: 0,
        }),
    ] {
        assert!(enc(OFP10, 1, &Outgoing::Multipart(r.clone())).is_empty(), "{r:?}");
        assert!(!enc(OFP13, 1, &Outgoing::Multipart(r)).is_empty());
    }
}

#[test]
fn table_stats() {
    let t = TableStats {
        table_id: 0,
        active_count: 2,
        lookup_count: 3,
        matched_count: 1,
    };
    let out = enc(OFP13, 1, &Outgoing::Multipart(MultipartReply::Table(vec![t])));
    assert_eq!(
        hex(&out[16..]),
        "00000000 00000002 0000000000000003 0000000000000001".replace(' ', "")
    );
    let out = enc(OFP10, 1, &Outgoing::Multipart(MultipartReply::Table(vec![t])));
    let name = hex(b"table0") + &"00".repeat(26);
    let want = format!("00000000 {name} 003fffff 000f4240 00000002 0000000000000003 0000000000000001");
    assert_eq!(hex(&out[12..]), want.replace(' ', ""));
}

#[test]
fn port_stats() {
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
        duration: Duration::new(9, 10),
    };
    let counters: String = (1..=8).map(|c| format!("{c:016x}")).collect::<String>() + &"ff".repeat(32);
    let out = enc(OFP13, 1, &Outgoing::Multipart(MultipartReply::PortStats(vec![p])));
    assert_eq!(
        hex(&out[16..]),
        format!("00000002 00000000 {counters} 00000009 0000000a").replace(' ', "")
    );
    let out = enc(OFP10, 1, &Outgoing::Multipart(MultipartReply::PortStats(vec![p])));
    assert_eq!(
        hex(&out[12..]),
        format!("0002 000000000000 {counters}").replace(' ', "")
    );
}

#[test]
fn replies_are_split() {
    // 1000 port stats × 112 bytes do not fit in one message.
    let ports: Vec<PortStats> = (1..=1000)
        .map(|n| PortStats {
            port_no: n,
            ..PortStats::default()
        })
        .collect();
    for (version, entry) in [(OFP13, 112), (OFP10, 104)] {
        let out = enc(
            version,
            1,
            &Outgoing::Multipart(MultipartReply::PortStats(ports.clone())),
        );
        let msgs = replies(version, &out);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].1, mp::REPLY_MORE);
        assert_eq!(msgs[1].1, 0);
        let mut n = 0u16;
        for (t, _, body) in &msgs {
            assert_eq!(*t, mp::PORT_STATS);
            assert_eq!(body.len() % entry, 0);
            for e in body.chunks(entry) {
                n += 1;
                let port = if version == OFP10 {
                    u16::from_be_bytes([e[0], e[1]])
                } else {
                    u16::from_be_bytes([e[2], e[3]])
                };
                assert_eq!(port, n);
            }
        }
        assert_eq!(n, 1000);
        // Every message but the last is full up to less than one entry.
        assert!(split(&out)[0].len() > MAX_MSG_LEN - entry);
    }
}

#[test]
fn table_features() {
    let out = enc(
        OFP13,
        4,
        &Outgoing::Multipart(MultipartReply::TableFeatures { n_tables: 254 }),
    );
    let msgs = replies(OFP13, &out);
    assert!(msgs.len() > 1);
    let last = msgs.len() - 1;
    let mut tables = 0u16;
    for (i, (t, flags, body)) in msgs.iter().enumerate() {
        assert_eq!(*t, mp::TABLE_FEATURES);
        assert_eq!(*flags, if i == last { 0 } else { mp::REPLY_MORE });
        let mut b = &body[..];
        while !b.is_empty() {
            let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
            assert_eq!(len % 8, 0);
            assert_eq!(u16::from(b[2]), tables);
            let name = format!("table{tables}\0");
            assert_eq!(&b[8..8 + name.len()], name.as_bytes());
            // Eight properties, each padded to 8 bytes, in type order.
            let mut props = &b[64..len];
            let mut types = Vec::new();
            while !props.is_empty() {
                let ptype = u16::from_be_bytes([props[0], props[1]]);
                let plen = usize::from(u16::from_be_bytes([props[2], props[3]]));
                if ptype == 2 {
                    // Next tables: every later one.
                    let next: Vec<u16> = props[4..plen].iter().map(|t| u16::from(*t)).collect();
                    assert_eq!(next, (tables + 1..254).collect::<Vec<u16>>());
                }
                types.push(ptype);
                props = &props[plen.next_multiple_of(8)..];
            }
            assert_eq!(types, [0, 2, 4, 6, 8, 10, 12, 14]);
            tables += 1;
            b = &b[len..];
        }
    }
    assert_eq!(tables, 254);
}

#[test]
fn group_and_meter_replies() {
    let gs = GroupStats {
        group_id: 1,
        ref_count: 2,
        packet_count: 3,
        byte_count: 4,
        duration: Duration::new(5, 6),
        buckets: vec![(7, 8)],
    };
    let out = enc(
        OFP13,
        1,
        &Outgoing::Multipart(MultipartReply::GroupStats(vec![gs])),
    );
    let want = "0038 0000 00000001 00000002 00000000 0000000000000003 0000000000000004 00000005 00000006 \
                0000000000000007 0000000000000008";
    assert_eq!(hex(&out[16..]), want.replace(' ', ""));
    let gd = GroupDesc {
        group_type: GroupType::Select,
        group_id: 9,
        buckets: vec![],
    };
    let out = enc(
        OFP13,
        1,
        &Outgoing::Multipart(MultipartReply::GroupDesc(vec![gd])),
    );
    assert_eq!(hex(&out[16..]), "0008010000000009");
    let out = enc(
        OFP13,
        1,
        &Outgoing::Multipart(MultipartReply::GroupFeatures { max_groups: 100 }),
    );
    let acts = format!(
        "{:08x}",
        1u32 | 1 << 17 | 1 << 18 | 1 << 22 | 1 << 23 | 1 << 24 | 1 << 25
    );
    let want = format!("00000007 00000005 00000064 00000064 00000064 00000000 {acts} {acts} {acts} 00000000");
    assert_eq!(hex(&out[16..]), want.replace(' ', ""));

    let band = MeterBand {
        band_type: 1,
        rate: 1000,
        burst_size: 10,
    };
    let mc = MeterConfig {
        flags: 0x9,
        meter_id: 1,
        bands: vec![band],
    };
    let out = enc(
        OFP13,
        1,
        &Outgoing::Multipart(MultipartReply::MeterConfig(vec![mc])),
    );
    assert_eq!(
        hex(&out[16..]),
        "0018 0009 00000001 0001 0010 000003e8 0000000a 00000000".replace(' ', "")
    );
    let ms = MeterStats {
        meter_id: 1,
        flow_count: 2,
        packet_in_count: 3,
        byte_in_count: 4,
        duration: Duration::new(5, 6),
        bands: vec![(7, 8)],
    };
    let out = enc(
        OFP13,
        1,
        &Outgoing::Multipart(MultipartReply::MeterStats(vec![ms])),
    );
    let want = "00000001 0038 000000000000 00000002 0000000000000003 0000000000000004 00000005 00000006 \
                0000000000000007 0000000000000008";
    assert_eq!(hex(&out[16..]), want.replace(' ', ""));
    let mf = MeterFeatures {
        max_meter: 100,
        band_types: 2,
        capabilities: 0xf,
        max_bands: 1,
        max_color: 0,
    };
    let out = enc(OFP13, 1, &Outgoing::Multipart(MultipartReply::MeterFeatures(mf)));
    assert_eq!(
        hex(&out[16..]),
        "00000064 00000002 0000000f 01 00 0000".replace(' ', "")
    );
}

#[test]
fn flow_stats_reply() {
    if !coders_ready() {
        return;
    }
    let mut m = Match::ANY;
    m.set_exact(Field::InPort, 1);
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
    let out = enc(
        OFP13,
        1,
        &Outgoing::Multipart(MultipartReply::Flow(vec![f.clone()])),
    );
    // The entry up to its instructions (whose bytes are action.rs's).
    let want = "01 00 00000002 00000003 0004 0005 0006 0001 00000000 0000000000000007 0000000000000008 \
                0000000000000009 0001000c 80000004 00000001 00000000 0004";
    assert_eq!(hex(&out[18..82]), want.replace(' ', ""));
    assert_eq!(
        usize::from(u16::from_be_bytes([out[16], out[17]])),
        out.len() - 16
    );
    let out = enc(OFP10, 1, &Outgoing::Multipart(MultipartReply::Flow(vec![f])));
    assert_eq!(hex(&out[12..16]), "00600100");
    assert_eq!(out.len(), 12 + 96);
    // 10,000 flows are split, each message within 64 KiB.
    let flows = vec![
        FlowStats {
            actions: vec![],
            ..flow_stats_sample()
        };
        10_000
    ];
    let out = enc(OFP13, 1, &Outgoing::Multipart(MultipartReply::Flow(flows)));
    assert!(replies(OFP13, &out).len() > 1);
}

/// A flow stats entry with no match or actions.
fn flow_stats_sample() -> FlowStats {
    FlowStats {
        table_id: 0,
        duration: Duration::ZERO,
        priority: 0,
        idle_timeout: 0,
        hard_timeout: 0,
        flags: FlowModFlags::default(),
        cookie: 0,
        packet_count: 0,
        byte_count: 0,
        matching: Match::ANY,
        actions: vec![],
    }
}

// ---------------------------------------------------------------- never panics

/// Every captured request, of both versions (for truncation tests).
fn all_captured() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = captured13().into_iter().map(|(_, b, _)| unhex(b)).collect();
    for b in [
        "040e006000000006000000000000123400000000000000000000001e003c0064ffffffffffffffffffffffff000100000001001280000a020800800016040a000001000000000000000400180000000000000010000000020000000000000000",
        "040d004e00000006fffffffffffffffd001000000000000000000010000000010000000000000000ffffffffffff000000000001080600010800060400010000000000010a000001000000000000",
        "040f005000000006000000000000000100200000ffffffffffffffff000000000000001000000001000000000000000000200000ffffffffffffffff0000000000000010000000020000000000000000",
        "041200400000000600010000000000000300000000000004ffffffff00000000000000000000000000000000000000000001000c800000040000000200000000",
        "010e005000000006003800ef0000000000000000000000000000000000000800000000000a000001000000000000000000000000000012340000001e003c0064ffffffffffff00010000000800020000",
        "010d003e00000006fffffffffffd00080000000800010000ffffffffffff000000000001080600010800060400010000000000010a000001000000000000",
        "0110002800000008ffff000000002320000000000000000000040006030000000000000200020000",
        "04000010000000010001000800000010",
    ] {
        v.push(unhex(b));
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Random bodies behind a consistent header, any type, either version.
    #[test]
    fn decode_random_never_panics(
        version in prop_oneof![Just(OFP10), Just(OFP13), any::<u8>()],
        conn in prop_oneof![Just(OFP10), Just(OFP13)],
        msg_type in 0u8..32,
        body in proptest::collection::vec(any::<u8>(), 0..200),
        xid in any::<u32>(),
    ) {
        let mut m = vec![version, msg_type];
        m.extend_from_slice(&u16::try_from(8 + body.len()).unwrap().to_be_bytes());
        m.extend_from_slice(&xid.to_be_bytes());
        m.extend_from_slice(&body);
        let _ = decode(&m, conn);
    }

    /// Entirely random bytes (mostly inconsistent lengths).
    #[test]
    fn decode_garbage_never_panics(m in proptest::collection::vec(any::<u8>(), 0..100), conn in 0u8..6) {
        let _ = decode(&m, conn);
    }

    /// Captured messages cut short (with the header's length fixed up, so
    /// that the body's own lengths are what is wrong), or with one byte changed.
    #[test]
    fn decode_mangled_never_panics(which in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>(),
                                   at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let all = all_captured();
        let m = which.get(&all);
        let n = 8 + cut.index(m.len() - 7);
        let mut t = m[..n.min(m.len())].to_vec();
        let len = u16::try_from(t.len()).unwrap().to_be_bytes();
        t[2..4].copy_from_slice(&len);
        let _ = decode(&t, t[0]);
        let mut f = m.clone();
        let i = at.index(f.len());
        f[i] = byte;
        let _ = decode(&f, f[0]);
    }
}

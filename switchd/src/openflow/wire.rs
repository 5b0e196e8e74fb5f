//! Numbers of the OpenFlow wire format (OpenFlow 1.3.5 and 1.0.0):
//! message types, multipart types, port numbers, flags, error types, and
//! the OXM headers of the flow key's fields (for TABLE_FEATURES).
//!
//! Kept apart from the codec so that the codec, `error.rs` and tests can
//! name the same constants without importing each other. Names follow
//! OVS's `include/openflow/openflow-1.{0,3}.h` without their `OFP*_`
//! prefixes, grouped in one module per name space.

use crate::flow::Field;

/// Size of `ofp_header`.
pub const HEADER_LEN: usize = 8;
/// Largest message: `ofp_header.length` is 16 bits.
pub const MAX_MSG_LEN: usize = 0xffff;

/// Message types of OpenFlow 1.3 (`OFPT_*`).
pub mod t13 {
    /// OFPT_HELLO.
    pub const HELLO: u8 = 0;
    /// OFPT_ERROR.
    pub const ERROR: u8 = 1;
    /// OFPT_ECHO_REQUEST.
    pub const ECHO_REQUEST: u8 = 2;
    /// OFPT_ECHO_REPLY.
    pub const ECHO_REPLY: u8 = 3;
    /// OFPT_EXPERIMENTER.
    pub const EXPERIMENTER: u8 = 4;
    /// OFPT_FEATURES_REQUEST.
    pub const FEATURES_REQUEST: u8 = 5;
    /// OFPT_FEATURES_REPLY.
    pub const FEATURES_REPLY: u8 = 6;
    /// OFPT_GET_CONFIG_REQUEST.
    pub const GET_CONFIG_REQUEST: u8 = 7;
    /// OFPT_GET_CONFIG_REPLY.
    pub const GET_CONFIG_REPLY: u8 = 8;
    /// OFPT_SET_CONFIG.
    pub const SET_CONFIG: u8 = 9;
    /// OFPT_PACKET_IN.
    pub const PACKET_IN: u8 = 10;
    /// OFPT_FLOW_REMOVED.
    pub const FLOW_REMOVED: u8 = 11;
    /// OFPT_PORT_STATUS.
    pub const PORT_STATUS: u8 = 12;
    /// OFPT_PACKET_OUT.
    pub const PACKET_OUT: u8 = 13;
    /// OFPT_FLOW_MOD.
    pub const FLOW_MOD: u8 = 14;
    /// OFPT_GROUP_MOD.
    pub const GROUP_MOD: u8 = 15;
    /// OFPT_PORT_MOD.
    pub const PORT_MOD: u8 = 16;
    /// OFPT_TABLE_MOD.
    pub const TABLE_MOD: u8 = 17;
    /// OFPT_MULTIPART_REQUEST.
    pub const MULTIPART_REQUEST: u8 = 18;
    /// OFPT_MULTIPART_REPLY.
    pub const MULTIPART_REPLY: u8 = 19;
    /// OFPT_BARRIER_REQUEST.
    pub const BARRIER_REQUEST: u8 = 20;
    /// OFPT_BARRIER_REPLY.
    pub const BARRIER_REPLY: u8 = 21;
    /// OFPT_QUEUE_GET_CONFIG_REQUEST (not handled: BadType).
    pub const QUEUE_GET_CONFIG_REQUEST: u8 = 22;
    /// OFPT_ROLE_REQUEST.
    pub const ROLE_REQUEST: u8 = 24;
    /// OFPT_ROLE_REPLY.
    pub const ROLE_REPLY: u8 = 25;
    /// OFPT_GET_ASYNC_REQUEST.
    pub const GET_ASYNC_REQUEST: u8 = 26;
    /// OFPT_GET_ASYNC_REPLY.
    pub const GET_ASYNC_REPLY: u8 = 27;
    /// OFPT_SET_ASYNC.
    pub const SET_ASYNC: u8 = 28;
    /// OFPT_METER_MOD.
    pub const METER_MOD: u8 = 29;
}

/// Message types of OpenFlow 1.0 (`OFPT10_*`) where they differ from
/// 1.3's; HELLO through FLOW_MOD (0–14) are the same numbers.
pub mod t10 {
    /// OFPT_VENDOR.
    pub const VENDOR: u8 = 4;
    /// OFPT_PORT_MOD.
    pub const PORT_MOD: u8 = 15;
    /// OFPT_STATS_REQUEST.
    pub const STATS_REQUEST: u8 = 16;
    /// OFPT_STATS_REPLY.
    pub const STATS_REPLY: u8 = 17;
    /// OFPT_BARRIER_REQUEST.
    pub const BARRIER_REQUEST: u8 = 18;
    /// OFPT_BARRIER_REPLY.
    pub const BARRIER_REPLY: u8 = 19;
    /// OFPT_QUEUE_GET_CONFIG_REQUEST (not handled: BadType).
    pub const QUEUE_GET_CONFIG_REQUEST: u8 = 20;
}

/// Multipart (1.3) / stats (1.0) types (`OFPMP_*`, `OFPST_*`): the same
/// numbers in both versions where both have them.
pub mod mp {
    /// OFPMP_DESC.
    pub const DESC: u16 = 0;
    /// OFPMP_FLOW.
    pub const FLOW: u16 = 1;
    /// OFPMP_AGGREGATE.
    pub const AGGREGATE: u16 = 2;
    /// OFPMP_TABLE.
    pub const TABLE: u16 = 3;
    /// OFPMP_PORT_STATS (1.0: OFPST_PORT).
    pub const PORT_STATS: u16 = 4;
    /// OFPMP_QUEUE (not handled: BadMultipart).
    pub const QUEUE: u16 = 5;
    /// OFPMP_GROUP.
    pub const GROUP: u16 = 6;
    /// OFPMP_GROUP_DESC.
    pub const GROUP_DESC: u16 = 7;
    /// OFPMP_GROUP_FEATURES.
    pub const GROUP_FEATURES: u16 = 8;
    /// OFPMP_METER.
    pub const METER: u16 = 9;
    /// OFPMP_METER_CONFIG.
    pub const METER_CONFIG: u16 = 10;
    /// OFPMP_METER_FEATURES.
    pub const METER_FEATURES: u16 = 11;
    /// OFPMP_TABLE_FEATURES.
    pub const TABLE_FEATURES: u16 = 12;
    /// OFPMP_PORT_DESC (in 1.0 an OVS extension, OFPST_PORT_DESC, which
    /// `ovs-ofctl -O OpenFlow10 dump-ports-desc` sends).
    pub const PORT_DESC: u16 = 13;
    /// OFPMP_EXPERIMENTER / OFPST_VENDOR.
    pub const EXPERIMENTER: u16 = 0xffff;

    /// OFPMPF_REPLY_MORE / OFPSF_REPLY_MORE: more replies follow.
    pub const REPLY_MORE: u16 = 1;
    /// Size of the 1.3 multipart header (`ofp_header` + type, flags, pad).
    pub const HEADER_LEN13: usize = 16;
    /// Size of the 1.0 stats header (`ofp_header` + type, flags).
    pub const HEADER_LEN10: usize = 12;
}

/// OpenFlow 1.3's 32-bit port numbers (`OFPP_*`).
pub mod port13 {
    /// OFPP_MAX: the last real port number.
    pub const MAX: u32 = 0xffff_ff00;
    /// OFPP_IN_PORT, the first reserved port switchd maps to 16 bits.
    pub const IN_PORT: u32 = 0xffff_fff8;
    /// OFPP_CONTROLLER.
    pub const CONTROLLER: u32 = 0xffff_fffd;
    /// OFPP_ANY.
    pub const ANY: u32 = 0xffff_ffff;
    /// 1.0 reserved port + OFFSET = 1.3 reserved port.
    pub const OFFSET: u32 = 0xffff_0000;
}

/// `ofp_flow_mod.command` (`OFPFC_*`).
pub mod fc {
    /// OFPFC_ADD.
    pub const ADD: u8 = 0;
    /// OFPFC_MODIFY.
    pub const MODIFY: u8 = 1;
    /// OFPFC_MODIFY_STRICT.
    pub const MODIFY_STRICT: u8 = 2;
    /// OFPFC_DELETE.
    pub const DELETE: u8 = 3;
    /// OFPFC_DELETE_STRICT.
    pub const DELETE_STRICT: u8 = 4;
}

/// `OFPFF_*` flow flags.
pub mod ff {
    /// OFPFF_SEND_FLOW_REM.
    pub const SEND_FLOW_REM: u16 = 1 << 0;
    /// OFPFF_CHECK_OVERLAP.
    pub const CHECK_OVERLAP: u16 = 1 << 1;
    /// OFPFF_RESET_COUNTS (1.3).
    pub const RESET_COUNTS: u16 = 1 << 2;
    /// OFPFF10_EMERG (1.0, same bit as RESET_COUNTS): refused.
    pub const EMERG10: u16 = 1 << 2;
    /// OFPFF_NO_PKT_COUNTS (1.3).
    pub const NO_PKT_COUNTS: u16 = 1 << 3;
    /// OFPFF_NO_BYT_COUNTS (1.3).
    pub const NO_BYT_COUNTS: u16 = 1 << 4;
}

/// Group and meter numbers (`OFPGT_*`, `OFPGC_*`, `OFPMC_*`, `OFPGFC_*`,
/// `OFPMBT_*`).
pub mod group {
    /// OFPGT_ALL.
    pub const TYPE_ALL: u8 = 0;
    /// OFPGT_SELECT.
    pub const TYPE_SELECT: u8 = 1;
    /// OFPGT_INDIRECT.
    pub const TYPE_INDIRECT: u8 = 2;
    /// OFPGT_FF.
    pub const TYPE_FF: u8 = 3;
    /// OFPGFC_SELECT_WEIGHT.
    pub const CAP_SELECT_WEIGHT: u32 = 1 << 0;
    /// OFPGFC_CHAINING.
    pub const CAP_CHAINING: u32 = 1 << 2;
    /// OFPMBT_DROP.
    pub const BAND_DROP: u16 = 1;
    /// Size of an `ofp_bucket` header.
    pub const BUCKET_LEN: usize = 16;
    /// Size of an `ofp_meter_band_*`.
    pub const BAND_LEN: usize = 16;
}

/// Meter flags (`OFPMF_*`).
pub mod mf {
    /// OFPMF_KBPS.
    pub const KBPS: u16 = 1 << 0;
    /// OFPMF_PKTPS.
    pub const PKTPS: u16 = 1 << 1;
    /// OFPMF_BURST.
    pub const BURST: u16 = 1 << 2;
    /// OFPMF_STATS.
    pub const STATS: u16 = 1 << 3;
}

/// `ofp_controller_role` (`OFPCR_ROLE_*`).
pub mod role {
    /// OFPCR_ROLE_NOCHANGE.
    pub const NOCHANGE: u32 = 0;
    /// OFPCR_ROLE_EQUAL.
    pub const EQUAL: u32 = 1;
    /// OFPCR_ROLE_MASTER.
    pub const MASTER: u32 = 2;
    /// OFPCR_ROLE_SLAVE.
    pub const SLAVE: u32 = 3;
}

/// Error types (`OFPET_*`); codes are written where they are used
/// ([`super::OfError::to_wire`]).
pub mod et {
    /// OFPET_HELLO_FAILED (both versions).
    pub const HELLO_FAILED: u16 = 0;
    /// OFPET_BAD_REQUEST (both versions).
    pub const BAD_REQUEST: u16 = 1;
    /// OFPET_BAD_ACTION (both versions).
    pub const BAD_ACTION: u16 = 2;
    /// OFPET_BAD_INSTRUCTION (1.3).
    pub const BAD_INSTRUCTION: u16 = 3;
    /// OFPET_BAD_MATCH (1.3).
    pub const BAD_MATCH: u16 = 4;
    /// OFPET_FLOW_MOD_FAILED (1.3).
    pub const FLOW_MOD_FAILED: u16 = 5;
    /// OFPET_GROUP_MOD_FAILED (1.3).
    pub const GROUP_MOD_FAILED: u16 = 6;
    /// OFPET_PORT_MOD_FAILED (1.3).
    pub const PORT_MOD_FAILED: u16 = 7;
    /// OFPET_TABLE_MOD_FAILED (1.3).
    pub const TABLE_MOD_FAILED: u16 = 8;
    /// OFPET_SWITCH_CONFIG_FAILED (1.3).
    pub const SWITCH_CONFIG_FAILED: u16 = 10;
    /// OFPET_ROLE_REQUEST_FAILED (1.3).
    pub const ROLE_REQUEST_FAILED: u16 = 11;
    /// OFPET_METER_MOD_FAILED (1.3).
    pub const METER_MOD_FAILED: u16 = 12;
    /// OFPET_TABLE_FEATURES_FAILED (1.3).
    pub const TABLE_FEATURES_FAILED: u16 = 13;
    /// OFPET_FLOW_MOD_FAILED in 1.0.
    pub const FLOW_MOD_FAILED10: u16 = 3;
    /// OFPET_PORT_MOD_FAILED in 1.0.
    pub const PORT_MOD_FAILED10: u16 = 4;
}

/// OpenFlow 1.3 instruction types (`OFPIT_*`), as TABLE_FEATURES lists them.
pub mod it {
    /// OFPIT_GOTO_TABLE.
    pub const GOTO_TABLE: u16 = 1;
    /// OFPIT_WRITE_METADATA.
    pub const WRITE_METADATA: u16 = 2;
    /// OFPIT_APPLY_ACTIONS.
    pub const APPLY_ACTIONS: u16 = 4;
    /// OFPIT_METER.
    pub const METER: u16 = 6;
}

/// OpenFlow 1.3 action types (`OFPAT_*`), as TABLE_FEATURES and
/// GROUP_FEATURES list them.
pub mod at {
    /// OFPAT_OUTPUT.
    pub const OUTPUT: u16 = 0;
    /// OFPAT_PUSH_VLAN.
    pub const PUSH_VLAN: u16 = 17;
    /// OFPAT_POP_VLAN.
    pub const POP_VLAN: u16 = 18;
    /// OFPAT_GROUP.
    pub const GROUP: u16 = 22;
    /// OFPAT_SET_NW_TTL.
    pub const SET_NW_TTL: u16 = 23;
    /// OFPAT_DEC_NW_TTL.
    pub const DEC_NW_TTL: u16 = 24;
    /// OFPAT_SET_FIELD.
    pub const SET_FIELD: u16 = 25;
    /// The actions switchd applies (apply-actions and group buckets).
    pub const SUPPORTED: &[u16] = &[
        OUTPUT, PUSH_VLAN, POP_VLAN, SET_FIELD, DEC_NW_TTL, GROUP, SET_NW_TTL,
    ];
    /// 1.0's `ofp_switch_features.actions`: OUTPUT through SET_TP_DST
    /// (bits 0–10; ENQUEUE, bit 11, is not supported).
    pub const BITMAP10: u32 = 0x7ff;
}

/// Table feature property types (`OFPTFPT_*`).
pub mod tfpt {
    /// OFPTFPT_INSTRUCTIONS.
    pub const INSTRUCTIONS: u16 = 0;
    /// OFPTFPT_NEXT_TABLES.
    pub const NEXT_TABLES: u16 = 2;
    /// OFPTFPT_WRITE_ACTIONS.
    pub const WRITE_ACTIONS: u16 = 4;
    /// OFPTFPT_APPLY_ACTIONS.
    pub const APPLY_ACTIONS: u16 = 6;
    /// OFPTFPT_MATCH.
    pub const MATCH: u16 = 8;
    /// OFPTFPT_WILDCARDS.
    pub const WILDCARDS: u16 = 10;
    /// OFPTFPT_WRITE_SETFIELD.
    pub const WRITE_SETFIELD: u16 = 12;
    /// OFPTFPT_APPLY_SETFIELD.
    pub const APPLY_SETFIELD: u16 = 14;
}

/// OXM headers: `class << 16 | field << 9 | hasmask << 8 | length`.
pub mod oxm {
    /// OFPXMC_OPENFLOW_BASIC.
    pub const CLASS_BASIC: u32 = 0x8000;
    /// OFPXMC_NXM_0 (OVS's original NXM fields).
    pub const CLASS_NXM0: u32 = 0x0000;
    /// OFPXMC_NXM_1 (OVS's Nicira-extension fields).
    pub const CLASS_NXM1: u32 = 0x0001;
    /// The `oxm_hasmask` bit.
    pub const HASMASK: u32 = 1 << 8;

    /// The header of field `field` of `class`, `len` bytes, unmasked.
    pub const fn header(class: u32, field: u32, len: u32) -> u32 {
        class << 16 | field << 9 | len
    }

    /// The masked form of an unmasked header (length doubled).
    pub const fn masked(h: u32) -> u32 {
        (h & !0xff) | HASMASK | ((h & 0xff) * 2)
    }

    /// OXM_OF_IN_PORT.
    pub const IN_PORT: u32 = header(CLASS_BASIC, 0, 4);
    /// OXM_OF_METADATA.
    pub const METADATA: u32 = header(CLASS_BASIC, 2, 8);
    /// OXM_OF_ETH_DST.
    pub const ETH_DST: u32 = header(CLASS_BASIC, 3, 6);
    /// OXM_OF_ETH_SRC.
    pub const ETH_SRC: u32 = header(CLASS_BASIC, 4, 6);
    /// OXM_OF_ETH_TYPE.
    pub const ETH_TYPE: u32 = header(CLASS_BASIC, 5, 2);
    /// OXM_OF_VLAN_VID.
    pub const VLAN_VID: u32 = header(CLASS_BASIC, 6, 2);
    /// OXM_OF_VLAN_PCP.
    pub const VLAN_PCP: u32 = header(CLASS_BASIC, 7, 1);
    /// OXM_OF_IP_DSCP.
    pub const IP_DSCP: u32 = header(CLASS_BASIC, 8, 1);
    /// OXM_OF_IP_ECN.
    pub const IP_ECN: u32 = header(CLASS_BASIC, 9, 1);
    /// OXM_OF_IP_PROTO.
    pub const IP_PROTO: u32 = header(CLASS_BASIC, 10, 1);
    /// OXM_OF_IPV4_SRC.
    pub const IPV4_SRC: u32 = header(CLASS_BASIC, 11, 4);
    /// OXM_OF_IPV4_DST.
    pub const IPV4_DST: u32 = header(CLASS_BASIC, 12, 4);
    /// OXM_OF_TCP_SRC.
    pub const TCP_SRC: u32 = header(CLASS_BASIC, 13, 2);
    /// OXM_OF_TCP_DST.
    pub const TCP_DST: u32 = header(CLASS_BASIC, 14, 2);
    /// OXM_OF_UDP_SRC.
    pub const UDP_SRC: u32 = header(CLASS_BASIC, 15, 2);
    /// OXM_OF_UDP_DST.
    pub const UDP_DST: u32 = header(CLASS_BASIC, 16, 2);
    /// OXM_OF_SCTP_SRC.
    pub const SCTP_SRC: u32 = header(CLASS_BASIC, 17, 2);
    /// OXM_OF_SCTP_DST.
    pub const SCTP_DST: u32 = header(CLASS_BASIC, 18, 2);
    /// OXM_OF_ICMPV4_TYPE.
    pub const ICMPV4_TYPE: u32 = header(CLASS_BASIC, 19, 1);
    /// OXM_OF_ICMPV4_CODE.
    pub const ICMPV4_CODE: u32 = header(CLASS_BASIC, 20, 1);
    /// OXM_OF_ARP_OP.
    pub const ARP_OP: u32 = header(CLASS_BASIC, 21, 2);
    /// OXM_OF_ARP_SPA.
    pub const ARP_SPA: u32 = header(CLASS_BASIC, 22, 4);
    /// OXM_OF_ARP_TPA.
    pub const ARP_TPA: u32 = header(CLASS_BASIC, 23, 4);
    /// OXM_OF_ARP_SHA.
    pub const ARP_SHA: u32 = header(CLASS_BASIC, 24, 6);
    /// OXM_OF_ARP_THA.
    pub const ARP_THA: u32 = header(CLASS_BASIC, 25, 6);
    /// OXM_OF_IPV6_SRC.
    pub const IPV6_SRC: u32 = header(CLASS_BASIC, 26, 16);
    /// OXM_OF_IPV6_DST.
    pub const IPV6_DST: u32 = header(CLASS_BASIC, 27, 16);
    /// OXM_OF_IPV6_FLABEL.
    pub const IPV6_FLABEL: u32 = header(CLASS_BASIC, 28, 4);
    /// OXM_OF_ICMPV6_TYPE.
    pub const ICMPV6_TYPE: u32 = header(CLASS_BASIC, 29, 1);
    /// OXM_OF_ICMPV6_CODE.
    pub const ICMPV6_CODE: u32 = header(CLASS_BASIC, 30, 1);
    /// OXM_OF_IPV6_ND_TARGET.
    pub const IPV6_ND_TARGET: u32 = header(CLASS_BASIC, 31, 16);
    /// OXM_OF_TUNNEL_ID.
    pub const TUNNEL_ID: u32 = header(CLASS_BASIC, 38, 8);
    /// NXM_OF_VLAN_TCI (the whole TCI, which OXM lacks).
    pub const NXM_VLAN_TCI: u32 = header(CLASS_NXM0, 4, 2);
    /// NXM_OF_IP_TOS (the whole TOS byte).
    pub const NXM_IP_TOS: u32 = header(CLASS_NXM0, 5, 1);
    /// NXM_NX_REG0.
    pub const NXM_REG0: u32 = header(CLASS_NXM1, 0, 4);
    /// NXM_NX_IP_TTL.
    pub const NXM_IP_TTL: u32 = header(CLASS_NXM1, 29, 1);
    /// NXM_NX_TCP_FLAGS.
    pub const NXM_TCP_FLAGS: u32 = header(CLASS_NXM1, 34, 2);

    /// NXM_NX_REG1.
    pub const NXM_REG1: u32 = header(CLASS_NXM1, 1, 4);
    /// NXM_NX_REG2.
    pub const NXM_REG2: u32 = header(CLASS_NXM1, 2, 4);
    /// NXM_NX_REG3.
    pub const NXM_REG3: u32 = header(CLASS_NXM1, 3, 4);
    /// NXM_NX_REG4.
    pub const NXM_REG4: u32 = header(CLASS_NXM1, 4, 4);
    /// NXM_NX_REG5.
    pub const NXM_REG5: u32 = header(CLASS_NXM1, 5, 4);
    /// NXM_NX_REG6.
    pub const NXM_REG6: u32 = header(CLASS_NXM1, 6, 4);
    /// NXM_NX_REG7.
    pub const NXM_REG7: u32 = header(CLASS_NXM1, 7, 4);
}

/// The OXM headers (unmasked) under which OpenFlow 1.3 names `field`, and
/// whether matches on it may be masked (OpenFlow 1.3.5 table 12; OVS's
/// `meta-flow.h` for the NXM ones). Exhaustive, so that a field added to
/// the flow key is not forgotten in TABLE_FEATURES.
pub const fn field_oxms(field: Field) -> (&'static [u32], bool) {
    use oxm::*;
    match field {
        Field::InPort => (&[IN_PORT], false),
        Field::DlType => (&[ETH_TYPE], false),
        Field::VlanTci => (&[NXM_VLAN_TCI], true),
        Field::VlanVid => (&[VLAN_VID], true),
        Field::VlanPcp => (&[VLAN_PCP], false),
        Field::NwProto => (&[IP_PROTO], false),
        Field::ArpOp => (&[ARP_OP], false),
        Field::NwTos => (&[NXM_IP_TOS], false),
        Field::IpDscp => (&[IP_DSCP], false),
        Field::NwEcn => (&[IP_ECN], false),
        Field::DlDst => (&[ETH_DST], true),
        Field::NwTtl => (&[NXM_IP_TTL], false),
        Field::DlSrc => (&[ETH_SRC], true),
        Field::TcpFlags => (&[NXM_TCP_FLAGS], true),
        Field::NwSrc => (&[IPV4_SRC], true),
        Field::NwDst => (&[IPV4_DST], true),
        Field::ArpSpa => (&[ARP_SPA], true),
        Field::ArpTpa => (&[ARP_TPA], true),
        Field::TpSrc => (&[TCP_SRC, UDP_SRC, SCTP_SRC], true),
        Field::TpDst => (&[TCP_DST, UDP_DST, SCTP_DST], true),
        Field::IcmpType => (&[ICMPV4_TYPE], false),
        Field::IcmpCode => (&[ICMPV4_CODE], false),
        Field::Icmpv6Type => (&[ICMPV6_TYPE], false),
        Field::Icmpv6Code => (&[ICMPV6_CODE], false),
        Field::Ipv6Label => (&[IPV6_FLABEL], true),
        Field::TunId => (&[TUNNEL_ID], true),
        Field::Metadata => (&[METADATA], true),
        Field::Reg0 => (&[NXM_REG0], true),
        Field::Reg1 => (&[NXM_REG1], true),
        Field::Reg2 => (&[NXM_REG2], true),
        Field::Reg3 => (&[NXM_REG3], true),
        Field::Reg4 => (&[NXM_REG4], true),
        Field::Reg5 => (&[NXM_REG5], true),
        Field::Reg6 => (&[NXM_REG6], true),
        Field::Reg7 => (&[NXM_REG7], true),
        Field::Ipv6Src => (&[IPV6_SRC], true),
        Field::Ipv6Dst => (&[IPV6_DST], true),
        Field::NdTarget => (&[IPV6_ND_TARGET], true),
        Field::ArpSha => (&[ARP_SHA], true),
        Field::ArpTha => (&[ARP_THA], true),
    }
}

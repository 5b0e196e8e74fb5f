//! Byte vectors captured from `ovs-ofctl` 3.1.0: for each flow, the
//! OFPT_FLOW_MOD (ADD) that `ovs-ofctl -O OpenFlow13 -mmmmm parse-flow
//! FLOW` (or `-O OpenFlow10`) prints in hex. The tests decode the match
//! and the instructions/actions from them, and check that switchd encodes
//! the same flow to the same bytes where it follows OVS.
//!
//! To add one: run the command above and paste the hex dump's bytes.

/// One captured flow.
#[derive(Debug)]
pub(super) struct Vector {
    /// The flow as given to `ovs-ofctl`.
    pub ovs: &'static str,
    /// The same flow in switchd's syntax, if it differs ("" = `ovs`):
    /// switchd has no `write_metadata`, a masked `set_field` is the same.
    pub ours: &'static str,
    /// What decoding the bytes gives, in switchd's syntax ("" = `ours`):
    /// OpenFlow 1.3 has set-fields where the flow said `mod_nw_src`, etc.
    pub decoded: &'static str,
    /// Whether switchd encodes `ours` to exactly these bytes.
    pub exact: bool,
    /// The whole FLOW_MOD, in hex.
    pub hex: &'static str,
}

pub(super) const VECTORS13: &[Vector] = &[
    Vector {
        ovs: "actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e003800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000400000000",
        ),
    },
    Vector {
        ovs: "in_port=1,actions=output:2",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000c800000040000000100000000000400180000000000000010000000020000000000000000",
        ),
    },
    Vector {
        ovs: "in_port=65279,actions=output:65279",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000c800000040000feff000000000004001800000000000000100000feff0000000000000000",
        ),
    },
    Vector {
        ovs: "tcp,in_port=1,nw_src=10.0.0.0/8,tp_dst=80,actions=output:2",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e007800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "00010029800000040000000180000a020800800017080a000000ff000000800014010680001c02005000000000000000",
            "000400180000000000000010000000020000000000000000",
        ),
    },
    Vector {
        ovs: "dl_src=00:11:22:33:44:55,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=normal",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e006800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001001e800008060011223344558000070c0100000000000100000000000000000400180000000000000010fffffffa",
            "0000000000000000",
        ),
    },
    Vector {
        ovs: "dl_type=0x88cc,actions=controller:128",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000a0288cc000000000000000400180000000000000010fffffffd0080000000000000",
        ),
    },
    Vector {
        ovs: "dl_vlan=10,dl_vlan_pcp=3,actions=flood",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000f80000c02100a80000e010300000400180000000000000010fffffffb0000000000000000",
        ),
    },
    Vector {
        ovs: "vlan_tci=0x1000/0x1000,actions=all",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000c80000d041000100000000000000400180000000000000010fffffffc0000000000000000",
        ),
    },
    Vector {
        ovs: "dl_vlan=0xffff,actions=in_port",
        ours: "",
        decoded: "vlan_tci=0/0x1fff,actions=in_port",
        exact: false,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000c020000000000000000000400180000000000000010fffffff80000000000000000",
        ),
    },
    Vector {
        ovs: "vlan_tci=0/0x1fff,actions=in_port",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000c020000000000000000000400180000000000000010fffffff80000000000000000",
        ),
    },
    Vector {
        ovs: "dl_vlan_pcp=5,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e004800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001001180000d041000100080000e010500000000000000",
        ),
    },
    Vector {
        ovs: "vlan_tci=0x1000/0x1fff,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e004000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000c021000000000000000",
        ),
    },
    Vector {
        ovs: "vlan_tci=0x1005/0x1007,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e004000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000c80000d041005100700000000",
        ),
    },
    Vector {
        ovs: "udp,nw_dst=192.168.1.1,tp_src=53,actions=controller",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e006800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001001d80000a02080080001804c0a80101800014011180001e020035000000000400180000000000000010fffffffd",
            "ffff000000000000",
        ),
    },
    Vector {
        ovs: "udp,tp_src=0x100/0xff00,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e004800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001001780000a020800800014011180001f040100ff0000",
        ),
    },
    Vector {
        ovs: "sctp,tp_dst=5000,actions=output:3",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e006000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001001580000a0208008000140184800024021388000000000400180000000000000010000000030000000000000000",
        ),
    },
    Vector {
        ovs: "icmp,icmp_type=8,icmp_code=0,actions=output:1",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e006800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001001980000a0208008000140101800026010880002801000000000000000000040018000000000000001000000001",
            "0000000000000000",
        ),
    },
    Vector {
        ovs: "arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_sha=00:11:22:33:44:55,arp_tha=00:00:00:00:00:00,actions=normal",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e008000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001003880000a02080680002a02000180002c040a00000180002f080a000000ffffff00800030060011223344558000",
            "3206000000000000000400180000000000000010fffffffa0000000000000000",
        ),
    },
    Vector {
        ovs: "rarp,arp_op=3,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e004000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001001080000a02803580002a020003",
        ),
    },
    Vector {
        ovs: "ipv6,ipv6_src=2001:db8::/32,ipv6_dst=::1,ipv6_label=0x12345,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e008000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001004a80000a0286dd8000352020010db8000000000000000000000000ffffffff0000000000000000000000008000",
            "3610000000000000000000000000000000018000380400012345000000000000",
        ),
    },
    Vector {
        ovs: "icmp6,icmp_type=135,nd_target=fe80::1,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001002880000a0286dd800014013a80003a018780003e10fe800000000000000000000000000001",
        ),
    },
    Vector {
        ovs: "icmp6,icmp_type=136,icmp_code=0,nd_target=fe80::/64,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e007000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001003d80000a0286dd800014013a80003a018880003c010080003f20fe800000000000000000000000000000ffffff",
            "ffffffffff0000000000000000000000",
        ),
    },
    Vector {
        ovs: "tcp6,tp_src=22,tcp_flags=+syn-ack,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001002180000a0286dd800014010680001a020016ffff55084f4e46000002001200000000000000",
        ),
    },
    Vector {
        ovs: "tcp,tcp_flags=0x12/0x1f,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001001b80000a0208008000140106ffff55084f4e46000012001f0000000000",
        ),
    },
    Vector {
        ovs: "ip,nw_tos=32,nw_ecn=1,nw_ttl=64,nw_proto=47,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001001e80000a0208008000100108800012010100013a0140800014012f0000",
        ),
    },
    Vector {
        ovs: "tun_id=0x1234/0xffff,reg0=5,reg3=0x10/0xf0,reg7=0xffffffff,metadata=0x1/0xff,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e007800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001004880004d100000000000001234000000000000ffff00010004000000050001070800000010000000f000010e04",
            "ffffffff80000510000000000000000100000000000000ff",
        ),
    },
    Vector {
        ovs: "in_port=3,dl_vlan=100,ip,nw_src=1.2.3.4,nw_dst=5.6.7.0/24,nw_proto=6,tp_src=1,tp_dst=2,actions=output:1",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e008800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001003d800000040000000380000a02080080000c02106480001604010203048000190805060700ffffff0080001401",
            "0680001a02000180001c020002000000000400180000000000000010000000010000000000000000",
        ),
    },
    Vector {
        ovs: "ip,actions=mod_nw_src:1.2.3.4,mod_nw_dst:5.6.7.8,mod_nw_tos:8,dec_ttl",
        ours: "",
        decoded: "ip,actions=set_field:1.2.3.4->nw_src,set_field:5.6.7.8->nw_dst,set_field:2->ip_dscp,dec_ttl",
        exact: true,
        hex: concat!(
            "040e008000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000a0208000000000000000004004000000000001900108000160401020304000000000019001080001804",
            "0506070800000000001900108000100102000000000000000018000800000000",
        ),
    },
    Vector {
        ovs: "actions=mod_vlan_vid:10,output:1",
        ours: "",
        decoded: "actions=push_vlan:0x8100,set_field:10->dl_vlan,output:1",
        exact: true,
        hex: concat!(
            "040e006800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000400000000000400300000000000110008810000000019001080000c02100a0000000000000000001000000001",
            "0000000000000000",
        ),
    },
    Vector {
        ovs: "dl_vlan=5,actions=mod_vlan_vid:10",
        ours: "",
        decoded: "dl_vlan=5,actions=set_field:10->dl_vlan",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000c02100500000000000000040018000000000019001080000c02100a000000000000",
        ),
    },
    Vector {
        ovs: "actions=mod_vlan_pcp:3",
        ours: "",
        decoded: "actions=push_vlan:0x8100,set_field:3->dl_vlan_pcp",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000400000000000400200000000000110008810000000019001080000e010300000000000000",
        ),
    },
    Vector {
        ovs: "dl_vlan=5,actions=mod_vlan_pcp:3,pop_vlan,output:2",
        ours: "",
        decoded: "dl_vlan=5,actions=set_field:3->dl_vlan_pcp,pop_vlan,output:2",
        exact: true,
        hex: concat!(
            "040e007000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000c02100500000000000000040030000000000019001080000e0103000000000000000012000800000000",
            "00000010000000020000000000000000",
        ),
    },
    Vector {
        ovs: "actions=push_vlan:0x8100,mod_vlan_vid:7",
        ours: "",
        decoded: "actions=push_vlan:0x8100,set_field:7->dl_vlan",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000400000000000400200000000000110008810000000019001080000c021007000000000000",
        ),
    },
    Vector {
        ovs: "actions=mod_dl_src:00:11:22:33:44:55,mod_dl_dst:00:11:22:33:44:66",
        ours: "",
        decoded: "actions=set_field:00:11:22:33:44:55->dl_src,set_field:00:11:22:33:44:66->dl_dst",
        exact: true,
        hex: concat!(
            "040e006000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "000100040000000000040028000000000019001080000806001122334455000000190010800006060011223344660000",
        ),
    },
    Vector {
        ovs: "tcp,actions=mod_tp_src:1,mod_tp_dst:2",
        ours: "",
        decoded: "tcp,actions=set_field:1->tp_src,set_field:2->tp_dst",
        exact: true,
        hex: concat!(
            "040e006800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000f80000a02080080001401060000040028000000000019001080001a0200010000000000000019001080001c02",
            "0002000000000000",
        ),
    },
    Vector {
        ovs: "udp6,actions=mod_tp_dst:53",
        ours: "",
        decoded: "udp6,actions=set_field:53->tp_dst",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000f80000a0286dd800014011100000400180000000000190010800020020035000000000000",
        ),
    },
    Vector {
        ovs: "sctp,actions=set_field:9->sctp_src",
        ours: "",
        decoded: "sctp,actions=set_field:9->tp_src",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000f80000a020800800014018400000400180000000000190010800022020009000000000000",
        ),
    },
    Vector {
        ovs: "actions=resubmit(,3),resubmit:4,resubmit(5,6),note:01.02.03.04.05.06",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e008000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "00010004000000000004004800000000ffff001000002320000efff803000000ffff001000002320000e0004ff000000",
            "ffff001000002320000e000506000000ffff0010000023200008010203040506",
        ),
    },
    Vector {
        ovs: "actions=note:",
        ours: "",
        decoded: "actions=note:00.00.00.00.00.00",
        exact: true,
        hex: concat!(
            "040e005000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "00010004000000000004001800000000ffff0010000023200008000000000000",
        ),
    },
    Vector {
        ovs: "actions=note:aa.bb.cc.dd.ee.ff.00.11.22",
        ours: "",
        decoded: "actions=note:aa.bb.cc.dd.ee.ff.00.11.22.00.00.00.00.00",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "00010004000000000004002000000000ffff0018000023200008aabbccddeeff0011220000000000",
        ),
    },
    Vector {
        ovs: "actions=load:0x5->NXM_NX_REG0[0..7],set_field:7->reg1,set_tunnel:9,set_tunnel64:0x123456789",
        ours: "",
        decoded: "actions=load:0x5->NXM_NX_REG0[0..7],set_field:7->reg1,set_field:9->tun_id,set_field:0x123456789->tun_id",
        exact: true,
        hex: concat!(
            "040e008800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "00010004000000000004005000000000ffff001800002320000700070001000400000000000000050019001000010204",
            "00000007000000000019001080004c0800000000000000090019001080004c080000000123456789",
        ),
    },
    Vector {
        ovs: "actions=set_field:0x5/0x5->reg0",
        ours: "",
        decoded: "actions=load:1->NXM_NX_REG0[0],load:1->NXM_NX_REG0[2]",
        exact: true,
        hex: concat!(
            "040e007000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "00010004000000000004003800000000ffff00180000232000070000000100040000000000000001ffff001800002320",
            "00070080000100040000000000000001",
        ),
    },
    Vector {
        ovs: "ipv6,actions=load:0x1->NXM_NX_IPV6_SRC[0..63]",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e006000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000a0286dd0000000000000004002000000000ffff0018000023200007003f000126100000000000000001",
        ),
    },
    Vector {
        ovs: "ipv6,actions=set_field:2001:db8::1->ipv6_src,set_field:0x54321->ipv6_label",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e007000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000a0286dd0000000000000004003000000000001900188000341020010db8000000000000000000000001",
            "00190010800038040005432100000000",
        ),
    },
    Vector {
        ovs: "actions=meter:3,output:1,goto_table:4",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e006000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "000100040000000000060008000000030004001800000000000000100000000100000000000000000001000804000000",
        ),
    },
    Vector {
        ovs: "actions=goto_table:1",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e004000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "00010004000000000001000801000000",
        ),
    },
    Vector {
        ovs: "table=3,actions=set_field:0xfe->metadata,goto_table:200",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000300000000008000ffffffffffffffffffffffff00000000",
            "00010004000000000004001800000000001900108000040800000000000000fe00010008c8000000",
        ),
    },
    Vector {
        ovs: "actions=write_metadata:0x5/0xff,goto_table:2",
        ours: "actions=set_field:0x5/0xff->metadata,goto_table:2",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "00010004000000000002001800000000000000000000000500000000000000ff0001000802000000",
        ),
    },
    Vector {
        ovs: "actions=write_metadata:0x5/0xf0f,goto_table:2",
        ours: "actions=set_field:0x5/0xf0f->metadata,goto_table:2",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000400000000000200180000000000000000000000050000000000000f0f0001000802000000",
        ),
    },
    Vector {
        ovs: "ip,actions=mod_nw_ttl:33",
        ours: "ip,actions=set_field:33->nw_ttl",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000a02080000000000000000040010000000000017000821000000",
        ),
    },
    Vector {
        ovs: "ip,actions=set_field:33->nw_ttl",
        ours: "",
        decoded: "",
        exact: false,
        hex: concat!(
            "040e005800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000a02080000000000000000040018000000000019001000013a012100000000000000",
        ),
    },
    Vector {
        ovs: "ip,actions=set_field:2->nw_ecn,set_field:3->ip_dscp",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e006800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000a0208000000000000000004002800000000001900108000120102000000000000000019001080001001",
            "0300000000000000",
        ),
    },
    Vector {
        ovs: "arp,actions=set_field:2->arp_op,set_field:10.0.0.1->arp_spa,set_field:00:00:00:00:00:01->arp_tha",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e007800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000a80000a02080600000000000000040038000000000019001080002a0200020000000000000019001080002c04",
            "0a0000010000000000190010800032060000000000010000",
        ),
    },
    Vector {
        ovs: "icmp,actions=set_field:3->icmp_type,set_field:1->icmp_code",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e006800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000f80000a0208008000140101000004002800000000001900108000260103000000000000000019001080002801",
            "0100000000000000",
        ),
    },
    Vector {
        ovs: "icmp6,icmp_type=135,actions=set_field:fe80::2->nd_target",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e006800000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001001480000a0286dd800014013a80003a01870000000000040020000000000019001880003e10fe80000000000000",
            "0000000000000002",
        ),
    },
    Vector {
        ovs: "actions=set_field:0x1234->vlan_tci",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000400000000000400180000000000190010000008021234000000000000",
        ),
    },
    Vector {
        ovs: "actions=set_field:0xabcdef->metadata",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "040e005000000001000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000",
            "0001000400000000000400180000000000190010800004080000000000abcdef",
        ),
    },
];

pub(super) const VECTORS10: &[Vector] = &[
    Vector {
        ovs: "actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e004800000001003820ff000000000000000000000000000000000000000000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff0000",
        ),
    },
    Vector {
        ovs: "in_port=1,actions=output:2",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e005000000001003820fe000100000000000000000000000000000000000000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff00000000000800020000",
        ),
    },
    Vector {
        ovs: "tcp,in_port=1,nw_src=10.0.0.0/8,tp_dst=80,actions=output:2",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e0050000000010038184e0001000000000000000000000000000000000800000600000a0000000000000000000050",
            "00000000000000000000000000008000ffffffffffff00000000000800020000",
        ),
    },
    Vector {
        ovs: "dl_src=00:11:22:33:44:55,dl_dst=01:02:03:04:05:06,actions=normal",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e005000000001003820f3000000112233445501020304050600000000000000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff000000000008fffa0000",
        ),
    },
    Vector {
        ovs: "dl_vlan=10,dl_vlan_pcp=3,actions=flood",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e005000000001002820fd0000000000000000000000000000000a0300000000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff000000000008fffb0000",
        ),
    },
    Vector {
        ovs: "dl_vlan=0xffff,actions=in_port",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e005000000001002820fd0000000000000000000000000000ffff0000000000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff000000000008fff80000",
        ),
    },
    Vector {
        ovs: "dl_vlan_pcp=5,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e004800000001002820ff000000000000000000000000000000000500000000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff0000",
        ),
    },
    Vector {
        ovs: "dl_vlan=7,actions=all",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e005000000001003820fd000000000000000000000000000000070000000000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff000000000008fffc0000",
        ),
    },
    Vector {
        ovs: "udp,nw_dst=192.168.1.1,tp_src=53,actions=controller:128",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e0050000000010030208f00000000000000000000000000000000000008000011000000000000c0a8010100350000",
            "00000000000000000000000000008000ffffffffffff000000000008fffd0080",
        ),
    },
    Vector {
        ovs: "icmp,icmp_type=8,icmp_code=0,actions=controller",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e0050000000010038200f000000000000000000000000000000000000080000010000000000000000000000080000",
            "00000000000000000000000000008000ffffffffffff000000000008fffdffff",
        ),
    },
    Vector {
        ovs: "arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,actions=normal",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e005000000001003200cf0000000000000000000000000000000000000806000100000a0000010a00000000000000",
            "00000000000000000000000000008000ffffffffffff000000000008fffa0000",
        ),
    },
    Vector {
        ovs: "ip,nw_tos=32,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e004800000001001820ef000000000000000000000000000000000000080020000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff0000",
        ),
    },
    Vector {
        ovs: "ip,nw_src=1.2.3.4,nw_dst=0.0.0.0/1,actions=drop",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e0048000000010037c0ef000000000000000000000000000000000000080000000000010203040000000000000000",
            "00000000000000000000000000008000ffffffffffff0000",
        ),
    },
    Vector {
        ovs: "ip,actions=mod_nw_src:1.2.3.4,mod_nw_dst:5.6.7.8,mod_nw_tos:8,dec_ttl",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e007000000001003820ef000000000000000000000000000000000000080000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff0000000600080102030400070008050607080008000808000000",
            "ffff0010000023200012000000000000",
        ),
    },
    Vector {
        ovs: "actions=mod_vlan_vid:10,mod_vlan_pcp:3,strip_vlan",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e006000000001003820ff000000000000000000000000000000000000000000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff000000010008000a000000020008030000000003000800000000",
        ),
    },
    Vector {
        ovs: "actions=mod_dl_src:00:11:22:33:44:55,mod_dl_dst:00:11:22:33:44:66",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e006800000001003820ff000000000000000000000000000000000000000000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff0000000400100011223344550000000000000005001000112233",
            "4466000000000000",
        ),
    },
    Vector {
        ovs: "tcp,actions=mod_tp_src:1,mod_tp_dst:2",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e005800000001003820cf000000000000000000000000000000000000080000060000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff00000009000800010000000a000800020000",
        ),
    },
    Vector {
        ovs: "actions=resubmit(,3),resubmit:4,resubmit(5,6),note:01.02.03.04.05.06",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e008800000001003820ff000000000000000000000000000000000000000000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff0000ffff001000002320000efff803000000ffff001000002320",
            "000e0004ff000000ffff001000002320000e000506000000ffff0010000023200008010203040506",
        ),
    },
    Vector {
        ovs: "actions=set_tunnel:9,set_tunnel64:0x123456789",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e007000000001003820ff000000000000000000000000000000000000000000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff0000ffff0010000023200002000000000009ffff001800002320",
            "00090000000000000000000123456789",
        ),
    },
    Vector {
        ovs: "actions=load:0x5->NXM_NX_REG0[0..7]",
        ours: "",
        decoded: "",
        exact: true,
        hex: concat!(
            "010e006000000001003820ff000000000000000000000000000000000000000000000000000000000000000000000000",
            "00000000000000000000000000008000ffffffffffff0000ffff00180000232000070007000100040000000000000005",
        ),
    },
];

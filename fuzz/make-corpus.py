#!/usr/bin/env python3
# Writes the seed corpus fuzz/corpus/<target>/ for the fuzz targets of
# switchd/src/fuzz.rs: small, meaningful inputs in each target's layout
# (the control byte, then the real bytes; see each target's doc). The
# frames are built field by field here, with correct checksums, so that a
# reader can see what each seed is; the OpenFlow messages are the ones
# ovs-ofctl sent in the codec's tests; flow strings are the README's and
# the tests'. Run it from anywhere; it rewrites the files it names and
# leaves the others alone: openflow/found-* are inputs AFL++ found (a 1.3
# FLOW_MOD with NXAST_SET_TUNNEL, one with a set-field under a
# non-contiguous mask; both re-encode in another form, see
# switchd/src/fuzz.rs actions_round_trip), and bpdu/found-* one a bug fixed
# in rstp (a root announcing Max Age 1 s), kept as seeds.
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def fold(s):
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def mac(n):
    return bytes([2, 0, 0, 0, 0, n])


BCAST = b"\xff" * 6


def eth(dst, src, ethertype, payload, tags=()):
    h = dst + src
    for tpid, tci in tags:
        h += struct.pack("!HH", tpid, tci)
    return h + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ttl=64, ident=1, frag=0x4000, tos=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), ident, frag, ttl, proto, 0, bytes(src), bytes(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def pseudo4(src, dst, proto, length):
    return bytes(src) + bytes(dst) + struct.pack("!BBH", 0, proto, length)


def tcp4(src, dst, sport, dport, payload, flags=0x18, seq=1000, partial=False):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 0x50, flags, 65535, 0, 0)
    seg = h + payload
    if partial:
        c = fold(sum(struct.unpack("!6H", pseudo4(src, dst, 6, len(seg)))))
    else:
        c = csum(pseudo4(src, dst, 6, len(seg)) + seg)
    return ipv4(src, dst, 6, seg[:16] + struct.pack("!H", c) + seg[18:])


def udp4(src, dst, sport, dport, payload, partial=False):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if partial:
        c = fold(sum(struct.unpack("!6H", pseudo4(src, dst, 17, len(seg)))))
    else:
        c = csum(pseudo4(src, dst, 17, len(seg)) + seg) or 0xFFFF
    return ipv4(src, dst, 17, seg[:6] + struct.pack("!H", c) + seg[8:])


def icmp4(src, dst, payload=b"ping"):
    m = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + payload
    m = m[:2] + struct.pack("!H", csum(m)) + m[4:]
    return ipv4(src, dst, 1, m)


def ipv6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hlim, src, dst) + payload


A6 = bytes.fromhex("fe800000000000000000000000000001")
B6 = bytes.fromhex("20010db8000000000000000000000002")


def icmp6_ns(src, target):
    dst = bytes.fromhex("ff0200000000000000000001ff000002")
    body = struct.pack("!BBHI16s", 135, 0, 0, 0, target) + bytes([1, 1]) + mac(0xA)
    ph = src + dst + struct.pack("!IxxxB", len(body), 58)
    body = body[:2] + struct.pack("!H", csum(ph + body)) + body[4:]
    return ipv6(src, dst, 58, body, hlim=255)


def arp_request(src_mac, spa, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, src_mac, bytes(spa), b"\0" * 6, bytes(tpa))


IP_A, IP_B = [10, 0, 0, 10], [10, 0, 0, 20]


def vnet(flags=0, gso_type=0, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0):
    # virtio-net header fields are in native (little-endian here) order.
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)


def frames():
    t = "frame"
    tcp = eth(mac(1), mac(0xA), 0x0800, tcp4(IP_A, IP_B, 40000, 443, b"hello" * 4))
    write(t, "untagged-tcp-known-unicast", b"\x00" + tcp)
    write(
        t,
        "tagged10-udp-from-trunk",
        b"\x02" + eth(mac(1), mac(0xB), 0x0800, udp4(IP_B, IP_A, 5353, 53, b"q" * 12), tags=[(0x8100, 0x2000 | 10)]),
    )
    write(t, "broadcast-arp-access", b"\x00" + eth(BCAST, mac(0xA), 0x0806, arp_request(mac(0xA), IP_A, IP_B)))
    write(
        t,
        "qinq-88a8-trunk",
        b"\x02" + eth(mac(2), mac(0xC), 0x0800, icmp4(IP_A, IP_B), tags=[(0x88A8, 30), (0x8100, 10)]),
    )
    write(t, "ipv6-neighbor-solicit", b"\x02" + eth(bytes.fromhex("3333ff000002"), mac(0xA), 0x86DD, icmp6_ns(A6, B6)))
    write(
        t,
        "native-untagged-port-icmp",
        b"\x04" + eth(mac(0xA), mac(0xD), 0x0800, icmp4(IP_B, IP_A)),
    )
    # A TCP GSO super-frame from a TAP (virtio-net header: needs checksum,
    # TCPv4, MSS 1000), flooded to the port without offloads, which segments it.
    payload = bytes(range(256)) * 12
    gso = eth(mac(0x77), mac(0xA), 0x0800, tcp4(IP_A, IP_B, 40001, 5201, payload, partial=True))
    write(t, "gso-tcp4-vnet", b"\x01" + vnet(1, 1, 54, 1000, 34, 16) + gso)
    gso_u = eth(mac(0x77), mac(0xA), 0x0800, udp4(IP_A, IP_B, 4000, 4001, payload[:2500], partial=True))
    write(t, "gso-udp4-vnet", b"\x01" + vnet(1, 5, 42, 1200, 34, 6) + gso_u)
    part = eth(mac(0x78), mac(0xA), 0x0800, udp4(IP_A, IP_B, 4000, 4001, b"partial", partial=True))
    write(t, "partial-csum-udp-vnet", b"\x01" + vnet(1, 0, 0, 0, 34, 6) + part)
    # A BPDU: refused as a reserved destination.
    write(t, "bpdu-reserved", b"\x02" + rst_bpdu())
    # Flow tables: every template, argument 10 (so tp_dst=10, dl_vlan=161...).
    write(t, "flows-all-tcp", b"\x08\xff\xff\x0a" + eth(mac(1), mac(0xA), 0x0800, tcp4(IP_A, [10, 0, 0, 10], 1, 10, b"x")))
    write(
        t,
        "flows-vlan-tagged",
        b"\x0a\x41\x06\x0a" + eth(BCAST, mac(0xB), 0x0800, udp4(IP_B, IP_A, 7, 10, b"x"), tags=[(0x8100, 161)]),
    )
    sctp = ipv4(IP_A, IP_B, 132, struct.pack("!HHII", 1000, 2000, 0, 0) + b"\0" * 16)
    write(t, "flows-sctp", b"\x08\x20\x00\x07" + eth(mac(2), mac(0xA), 0x0800, sctp))
    frag = ipv4(IP_A, IP_B, 17, b"\0" * 24, frag=0x0001)
    write(t, "flows-later-fragment", b"\x08\x00\x20\x19" + eth(mac(2), mac(0xA), 0x0800, frag))
    write(
        t,
        "flows-ipv6-gso",
        b"\x09\x80\x80\x05"
        + vnet(1, 4, 74, 700, 54, 16)
        + eth(mac(0x79), mac(0xA), 0x86DD, ipv6(A6, B6, 6, struct.pack("!HHIIBBHHH", 1, 2, 3, 4, 0x50, 0x10, 100, 0, 0) + payload[:2000])),
    )
    write(t, "flows-arp-flood", b"\x08\x00\x40\x00" + eth(BCAST, mac(0xA), 0x0806, arp_request(mac(0xA), IP_A, IP_B)))
    write(t, "runt", b"\x00" + mac(1) + mac(0xA))
    # Found by fuzzing (fixed in offload::gso_layout): a GSO TCPv4 frame whose
    # IHL (60 bytes) reaches past its 5-byte-MSS segments, flooded to the
    # port without offloads, panicked in software segmentation.
    bad_ihl = bytearray(eth(mac(0x77), mac(0xA), 0x0800, tcp4(IP_A, IP_B, 40001, 5201, b"0123456789", partial=True)))
    bad_ihl[14] = 0x4F
    write(t, "crash-gso-ipv4-ihl-past-l4", b"\x01" + vnet(1, 1, 0, 5, 34, 16) + bytes(bad_ihl))


def tunnels():
    t = "tunnel"
    inner = eth(BCAST, mac(0xE), 0x0806, arp_request(mac(0xE), IP_B, IP_A))
    vx = struct.pack("!II", 0x08000000, 42 << 8)
    write(t, "vxlan-vni42-arp", b"\x00" + vx + inner)
    write(t, "vxlan-vni42-tcp-flows", b"\x08\xff\xff\x0a" + vx + eth(mac(1), mac(0xE), 0x0800, tcp4(IP_B, IP_A, 9, 10, b"x")))
    write(t, "vxlan-unknown-vni", b"\x00" + struct.pack("!II", 0x08000000, 43 << 8) + inner)
    outer = lambda gre: ipv4([10, 0, 0, 2], [10, 0, 0, 1], 47, gre)  # noqa: E731
    gre_k = struct.pack("!HHI", 0x2000, 0x6558, 42) + inner
    write(t, "gre4-key42-arp", b"\x01" + outer(gre_k))
    gre_nokey = struct.pack("!HH", 0, 0x6558) + inner
    write(t, "gre4-nokey-peer2", b"\x05" + ipv4([10, 0, 0, 3], [10, 0, 0, 1], 47, gre_nokey))
    body = struct.pack("!HHHH", 0x8000, 0x6558, 0, 0) + inner
    c = csum(body)
    gre_c = body[:4] + struct.pack("!H", c) + body[6:]
    write(t, "gre4-checksum-peer2", b"\x05" + ipv4([10, 0, 0, 3], [10, 0, 0, 1], 47, gre_c))
    gre_s = struct.pack("!HHII", 0x3000, 0x6558, 7, 99) + inner
    write(t, "gre4-key7-seq-peer2", b"\x05" + ipv4([10, 0, 0, 3], [10, 0, 0, 1], 47, gre_s))
    write(t, "gre6-key42", b"\x03" + gre_k)


def bpdu_frame(llc_bpdu):
    f = bytes.fromhex("0180c2000000") + mac(0x33) + struct.pack("!H", len(llc_bpdu) + 3) + b"\x42\x42\x03" + llc_bpdu
    return f + b"\0" * (60 - len(f))


def bid(prio, m):
    return struct.pack("!H", prio) + m


def config_body(ver, typ, flags, root, cost, bridge, port, age=0, max_age=20, hello=2, fwd=15):
    return struct.pack("!HBBB", 0, ver, typ, flags) + root + struct.pack("!I", cost) + bridge + struct.pack(
        "!HHHHH", port, age * 256, max_age * 256, hello * 256, fwd * 256
    )


def rst_bpdu(flags=0x3C, root=None, cost=0, bridge=None, port=0x8001):
    root = root or bid(0x8000, mac(0x33))
    bridge = bridge or root
    return bpdu_frame(config_body(2, 2, flags, root, cost, bridge, port) + b"\0")


def bpdus():
    t = "bpdu"
    # RSTP, designated, proposal, from a better root (priority 0x1000).
    better = bid(0x1000, mac(0x33))
    write(t, "rst-proposal-better-root", b"\x11" + rst_bpdu(0x0E, better, 0, better, 0x8001))
    # The same root, then an agreement and a topology change.
    write(
        t,
        "rst-sequence-agreement-tc",
        b"\x21"
        + rst_bpdu(0x0E, better, 0, better, 0x8001)
        + rst_bpdu(0x7D, better, 0, better, 0x8001)
        + rst_bpdu(0x3D, better, 0, better, 0x8001),
    )
    # STP (802.1D-1998) configuration BPDU, as the Linux bridge sends it, and a TCN.
    cfg = bpdu_frame(config_body(0, 0, 0, bid(0x8000, mac(0x44)), 0, bid(0x8000, mac(0x44)), 0x8002))
    write(t, "stp-config-linux-bridge", b"\x12" + cfg)
    write(t, "stp-config-then-tcn", b"\x16" + cfg + bpdu_frame(struct.pack("!HBB", 0, 0, 0x80)))
    # A worse root on an edge port, and an RSTP BPDU on an STP-forced bridge.
    write(t, "rst-worse-root-edge", b"\x3b" + rst_bpdu(0x0C, bid(0xF000, mac(0x55)), 20000, bid(0xF000, mac(0x55))))
    write(t, "rst-to-stp-bridge", b"\x24" + rst_bpdu())
    # Our own bridge's id (02:00:00:00:00:0a) coming back: a loop.
    own = bid(0x8000, mac(0xA))
    write(t, "own-bpdu-loop", b"\x11" + bpdu_frame(config_body(0, 0, 0, own, 0, own, 0x8001)))
    # Message Age at Max Age (expired) and a large root path cost.
    write(t, "expired-and-high-cost", b"\x13" + bpdu_frame(config_body(0, 0, 0, better, 0, better, 1, age=20))
          + rst_bpdu(0x0E, better, 0xFFFFFFF0, bid(0x9000, mac(0x66))))


def lacpdu(actor, partner, subtype=1, version=1):
    def info(t, system, key, port, state, sprio=65534, pprio=128):
        return struct.pack("!BBH6sHHHB3x", t, 20, sprio, system, key, pprio, port, state)

    body = struct.pack("!BB", subtype, version) + info(1, *actor) + info(2, *partner)
    body += struct.pack("!BBH12x", 3, 16, 0) + b"\0" * 52
    return bytes.fromhex("0180c2000002") + mac(0x44) + struct.pack("!H", 0x8809) + body


def lacpdus():
    t = "lacpdu"
    # As Open vSwitch 3.1 sends them (lacp=active, lacp-time=fast), first
    # not knowing us, then in sync with bond A (02:00:00:00:00:0a, key 1).
    ovs = (mac(0xC), 5, 1, 0x47)
    nobody = (b"\0" * 6, 0, 0, 0x02)
    write(t, "ovs-active-fast-no-partner", b"\x10" + lacpdu(ovs, nobody))
    us = (mac(0xA), 1, 1, 0x3F)
    write(
        t,
        "ovs-then-in-sync",
        b"\x20" + lacpdu(ovs, nobody) + lacpdu((mac(0xC), 5, 1, 0x3F), us) + lacpdu((mac(0xC), 5, 1, 0x3F), us),
    )
    write(t, "passive-member2-carrier-down", b"\x3b" + lacpdu((mac(0xC), 5, 2, 0x3C), (mac(0xA), 1, 2, 0x3D)))
    write(t, "marker", b"\x00" + lacpdu(ovs, nobody, subtype=2))
    write(t, "version2", b"\x10" + lacpdu(ovs, us, version=2))
    # The partner claims to be us (same system): a loopback cable.
    write(t, "loopback-self", b"\x11" + lacpdu((mac(0xA), 1, 1, 0x3F), (mac(0xA), 1, 2, 0x3F)))


def openflow():
    t = "openflow"
    src = ""
    for f in ["switchd/src/openflow/codec/tests.rs", "switchd/src/openflow/action/tests.rs"]:
        with open(os.path.join(ROOT, f)) as fh:
            src += fh.read()
    seen, n13, n10 = set(), 0, 0
    hello13 = bytes.fromhex("04000010000000010001000800000012")
    hello10 = bytes.fromhex("0100000800000001")
    for h in re.findall(r'"((?:01|04)[0-9a-f]{14,})"', src):
        if len(h) % 2 or h in seen:
            continue
        b = bytes.fromhex(h)
        if struct.unpack("!H", b[2:4])[0] != len(b):
            continue
        seen.add(h)
        if b[0] == 4:
            write(t, "of13-%02d-type%d" % (n13, b[1]), b"\x00" + hello13 + b)
            n13 += 1
        else:
            write(t, "of10-%02d-type%d" % (n10, b[1]), b"\x01" + hello10 + b)
            n10 += 1


def control():
    t = "control"
    reqs = [
        {"op": "list-br"},
        {"op": "add-br", "bridge": "br0", "may_exist": True},
        {"op": "add-port", "bridge": "br0", "port": "vm1", "settings": [{"type": "tap"}, {"tag": 10}], "may_exist": False},
        {"op": "add-port", "bridge": "br0", "port": "vx0", "settings": [{"type": "vxlan"}, {"remote_ip": "10.0.0.2"}, {"key": 42}]},
        {"op": "set-port", "port": "eth1", "settings": [{"trunks": "10,20-30"}, {"vlan_mode": "native-untagged"}, {"mtu": 9000}]},
        {"op": "set-bridge", "bridge": "br0", "settings": [{"mac_aging": 300}, {"datapath_id": "0000000000000001"}]},
        {"op": "add-flow", "bridge": "br0", "flow": "priority=10,ip,nw_dst=10.0.0.1,actions=output:2"},
        {"op": "del-flows", "bridge": "br0", "strict": False},
        {"op": "dump-flows", "bridge": "br0", "table": 0},
        {"op": "add-bond", "bridge": "br0", "bond": "bond0", "members": ["eth1", "eth2"]},
        {"op": "set-controller", "bridge": "br0", "targets": ["ptcp:6653", "tcp:127.0.0.1:6633"]},
        {"op": "capture", "port": "vm1", "direction": "in", "count": 2},
        {"op": "rstp-show", "bridge": "br0"},
        {"op": "del-br", "bridge": "br0", "if_exists": True},
    ]
    import json

    lines = [json.dumps({"version": 1, "request": r}, separators=(",", ":")) for r in reqs]
    for i, line in enumerate(lines):
        write(t, "request-%02d" % i, line + "\n")
    write(t, "requests-pipelined", "\n".join(lines[:5]) + "\n")
    replies = [
        '{"version":1,"ok":{"kind":"done"}}',
        '{"version":1,"ok":{"kind":"names","data":["br0","br1"]}}',
        '{"version":1,"ok":{"kind":"flushed","data":{"removed":3}}}',
        '{"version":1,"error":{"kind":"bad-request","message":"bad request: name \\"a/b\\" contains \'/\', which is not allowed"}}',
        '{"version":2,"request":{"op":"list-br"}}',
    ]
    for i, line in enumerate(replies):
        write(t, "reply-%02d" % i, line + "\n")


def flow_syntax():
    t = "flow_syntax"
    flows = [
        "priority=0,actions=NORMAL",
        "table=0,priority=100,in_port=1,dl_vlan=10,actions=strip_vlan,output:2",
        "priority=200,tcp,nw_dst=10.0.0.0/24,tp_dst=443,actions=mod_nw_dst:10.1.1.1,dec_ttl,NORMAL",
        "cookie=0x1f,idle_timeout=30,hard_timeout=60,send_flow_rem,udp6,ipv6_src=2001:db8::/32,actions=controller:128",
        "priority=5,arp,arp_tpa=10.0.0.1,actions=FLOOD",
        "in_port=p1,actions=push_vlan:0x8100,set_field:4106->vlan_vid,resubmit(,1)",
        "table=1,actions=group:1,meter:3",
        "dl_src=02:00:00:00:00:0a/ff:ff:ff:00:00:00,actions=load:0x5->NXM_NX_REG0[0..3],goto_table:2",
        "vlan_tci=0x1000/0x1000,actions=mod_vlan_pcp:5,output:p4",
        "sctp,tp_src=1000,actions=mod_tp_src:2000,in_port",
        "ip,nw_frag=later,actions=drop",
        "icmp6,icmp_type=135,nd_target=fe80::1,actions=ALL",
        "tun_id=42,metadata=0x1/0xff,actions=write_metadata:0x2/0xf,output:3",
        " n_packets=3, n_bytes=180, priority=10,ip actions=output:1",
    ]
    for i, f in enumerate(flows):
        write(t, "flow-%02d" % i, f)
    write(t, "filter-out-port", "table=0,out_port=2,cookie=0x1/0xff")
    write(t, "meter-kbps", "meter=1,kbps,burst,stats,band=type=drop,rate=1000,burst_size=100")
    write(t, "meter-pktps", "meter=7 pktps band=type=drop,rate=10")


def main():
    frames()
    tunnels()
    bpdus()
    lacpdus()
    openflow()
    control()
    flow_syntax()


if __name__ == "__main__":
    main()

//! A frame made from a flow key: what `switchctl trace` (SPEC §11) runs
//! through a bridge when it is given a packet as fields. The learning
//! switch and the flow tables read frames, so the described packet becomes
//! one, built so that [`super::extract`] gives back the fields it was made
//! from: Ethernet addresses, an 802.1Q tag when `vlan_tci` says tagged, the
//! ethertype, and for IPv4/IPv6 an IP header with TTL, TOS, protocol and
//! addresses and a TCP/UDP/SCTP/ICMP header with its ports or type/code;
//! for ARP the ARP body. Checksums are left zero: nothing is sent.

use super::key::{Field, FlowKey, VLAN_CFI};

const MIN_FRAME: usize = 60;

fn mac(key: &FlowKey, f: Field) -> [u8; 6] {
    let v = key.get(f) as u64;
    let b = v.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// The frame `key` describes (at least 60 bytes).
pub fn frame_for(key: &FlowKey) -> Vec<u8> {
    let mut f = Vec::with_capacity(128);
    f.extend_from_slice(&mac(key, Field::DlDst));
    f.extend_from_slice(&mac(key, Field::DlSrc));
    let tci = key.vlan_tci();
    if tci & VLAN_CFI != 0 {
        f.extend_from_slice(&0x8100u16.to_be_bytes());
        f.extend_from_slice(&(tci & !VLAN_CFI).to_be_bytes());
    }
    let dl_type = key.dl_type();
    f.extend_from_slice(&dl_type.to_be_bytes());
    let proto = key.nw_proto();
    match dl_type {
        0x0800 => {
            let l4 = l4_header(key, proto, false);
            let total = 20 + l4.len();
            let ttl = match key.get(Field::NwTtl) as u8 {
                0 => 64,
                t => t,
            };
            f.extend_from_slice(&[0x45, key.get(Field::NwTos) as u8]);
            f.extend_from_slice(&(total as u16).to_be_bytes());
            f.extend_from_slice(&[0, 0, 0x40, 0, ttl, proto, 0, 0]);
            f.extend_from_slice(&(key.get(Field::NwSrc) as u32).to_be_bytes());
            f.extend_from_slice(&(key.get(Field::NwDst) as u32).to_be_bytes());
            f.extend_from_slice(&l4);
        }
        0x86dd => {
            let l4 = l4_header(key, proto, true);
            let tc = key.get(Field::NwTos) as u32;
            let label = key.get(Field::Ipv6Label) as u32;
            f.extend_from_slice(&((6 << 28) | (tc << 20) | label).to_be_bytes());
            f.extend_from_slice(&(l4.len() as u16).to_be_bytes());
            let hops = match key.get(Field::NwTtl) as u8 {
                0 => 64,
                t => t,
            };
            f.extend_from_slice(&[proto, hops]);
            f.extend_from_slice(&key.get(Field::Ipv6Src).to_be_bytes());
            f.extend_from_slice(&key.get(Field::Ipv6Dst).to_be_bytes());
            f.extend_from_slice(&l4);
        }
        0x0806 | 0x8035 => {
            f.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4]);
            f.extend_from_slice(&u16::from(key.get(Field::ArpOp) as u8).to_be_bytes());
            f.extend_from_slice(&mac(key, Field::ArpSha));
            f.extend_from_slice(&(key.get(Field::ArpSpa) as u32).to_be_bytes());
            f.extend_from_slice(&mac(key, Field::ArpTha));
            f.extend_from_slice(&(key.get(Field::ArpTpa) as u32).to_be_bytes());
        }
        _ => {}
    }
    if f.len() < MIN_FRAME {
        f.resize(MIN_FRAME, 0);
    }
    f
}

/// The transport header of protocol `proto` with the key's ports (or ICMP
/// type and code) and TCP flags.
fn l4_header(key: &FlowKey, proto: u8, v6: bool) -> Vec<u8> {
    let src = key.get(Field::TpSrc) as u16;
    let dst = key.get(Field::TpDst) as u16;
    let mut h = Vec::new();
    match proto {
        6 => {
            h.extend_from_slice(&src.to_be_bytes());
            h.extend_from_slice(&dst.to_be_bytes());
            h.extend_from_slice(&[0; 8]);
            let flags = key.get(Field::TcpFlags) as u16;
            h.extend_from_slice(&((5 << 12) | flags).to_be_bytes());
            h.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
        }
        17 => {
            h.extend_from_slice(&src.to_be_bytes());
            h.extend_from_slice(&dst.to_be_bytes());
            h.extend_from_slice(&8u16.to_be_bytes());
            h.extend_from_slice(&[0, 0]);
        }
        132 => {
            h.extend_from_slice(&src.to_be_bytes());
            h.extend_from_slice(&dst.to_be_bytes());
            h.extend_from_slice(&[0; 8]);
        }
        1 if !v6 => {
            h.extend_from_slice(&[src as u8, dst as u8, 0, 0, 0, 0, 0, 0]);
        }
        58 if v6 => {
            h.extend_from_slice(&[src as u8, dst as u8, 0, 0, 0, 0, 0, 0]);
            // Neighbour discovery: the target address follows.
            if matches!(src, 135 | 136) {
                h.extend_from_slice(&key.get(Field::NdTarget).to_be_bytes());
            }
        }
        _ => {}
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::extract;
    use crate::flow::syntax::parse_filter;
    use crate::flow::NoNames;

    /// The fields given come back from the frame made of them.
    #[test]
    fn extract_gives_back_the_described_fields() {
        for text in [
            "in_port=3,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02",
            "in_port=1,dl_vlan=10,dl_vlan_pcp=5,dl_src=02:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff",
            "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1234,tp_dst=80,nw_ttl=9,nw_tos=32",
            "in_port=2,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=53",
            "in_port=2,icmp,icmp_type=8,icmp_code=0,nw_dst=192.168.1.1",
            "in_port=2,arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_sha=02:00:00:00:00:01",
            "in_port=4,tcp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,tp_dst=443",
            "in_port=4,icmp6,icmp_type=135,nd_target=2001:db8::9",
        ] {
            let m = parse_filter(text, &NoNames).unwrap().matching;
            let key = m.value;
            let frame = frame_for(&key);
            let got = extract(&frame, key.in_port(), 0);
            assert!(m.matches(&got), "{text}: {got:?}");
        }
    }
}

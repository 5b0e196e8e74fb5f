//! The gratuitous learning packet a bond sends after a failover so that the
//! upstream switch relearns where a MAC is: a RARP request from that MAC to
//! broadcast, as Open vSwitch's `compose_rarp` (lib/packets.c) and
//! `bond_compose_learning_packet` build it. No allocation; no state.

use super::{ETH_HEADER_LEN, TPID_8021Q, VLAN_TAG_LEN};

/// Ethertype of RARP (RFC 903).
pub const ETHERTYPE_RARP: u16 = 0x8035;
/// Length of an Ethernet/IPv4 ARP (or RARP) body.
pub const ARP_ETH_IPV4_LEN: usize = 28;
/// The shortest Ethernet frame without its FCS (Linux's `ETH_ZLEN`): the
/// learning packet is zero-padded to it, as a NIC would on the wire.
pub const MIN_FRAME_LEN: usize = 60;

/// ARP hardware type Ethernet.
const HRD_ETHERNET: u16 = 1;
/// ARP protocol type IPv4.
const PRO_IP: u16 = 0x0800;
/// RARP opcode "request reverse" (RFC 903).
const OP_RARP_REQUEST: u16 = 3;

/// A RARP request from `mac` to ff:ff:ff:ff:ff:ff, with an 802.1Q tag
/// (TPID 0x8100, PCP 0, VID `vlan & 0xfff`) when `vlan != 0`. The body is
/// that of OVS's `compose_rarp`: hardware type 1, protocol 0x0800, lengths
/// 6 and 4, opcode 3, sender and target hardware address `mac`, sender and
/// target protocol address 0.0.0.0. Returns the buffer and the frame's
/// length, [`MIN_FRAME_LEN`] (the frame is 42 bytes, 46 tagged, padded
/// with zeros).
pub fn learning_packet(mac: [u8; 6], vlan: u16) -> ([u8; 64], usize) {
    let mut f = [0u8; 64];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    let mut at = 12;
    let vid = vlan & 0x0fff;
    if vid != 0 {
        f[at..at + 2].copy_from_slice(&TPID_8021Q.to_be_bytes());
        f[at + 2..at + 4].copy_from_slice(&vid.to_be_bytes());
        at += VLAN_TAG_LEN;
    }
    f[at..at + 2].copy_from_slice(&ETHERTYPE_RARP.to_be_bytes());
    at += 2;
    debug_assert!(at == ETH_HEADER_LEN || at == ETH_HEADER_LEN + VLAN_TAG_LEN);
    let body = &mut f[at..at + ARP_ETH_IPV4_LEN];
    body[0..2].copy_from_slice(&HRD_ETHERNET.to_be_bytes());
    body[2..4].copy_from_slice(&PRO_IP.to_be_bytes());
    body[4] = 6;
    body[5] = 4;
    body[6..8].copy_from_slice(&OP_RARP_REQUEST.to_be_bytes());
    body[8..14].copy_from_slice(&mac);
    // sender protocol address 14..18: 0.0.0.0
    body[18..24].copy_from_slice(&mac);
    // target protocol address 24..28: 0.0.0.0
    (f, MIN_FRAME_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    #[test]
    fn untagged_bytes_are_those_of_ovs_compose_rarp() {
        let (f, len) = learning_packet(MAC, 0);
        assert_eq!(len, 60);
        #[rustfmt::skip]
        let want: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff,       // broadcast
            0x02, 0x11, 0x22, 0x33, 0x44, 0x55,       // source = the MAC
            0x80, 0x35,                               // RARP
            0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03, // Ethernet/IPv4, request reverse
            0x02, 0x11, 0x22, 0x33, 0x44, 0x55,       // sha
            0, 0, 0, 0,                               // spa
            0x02, 0x11, 0x22, 0x33, 0x44, 0x55,       // tha
            0, 0, 0, 0,                               // tpa
        ];
        assert_eq!(f[..42], want);
        assert!(f[42..].iter().all(|&b| b == 0), "zero padding");
    }

    #[test]
    fn tagged_when_vlan_is_set() {
        let (f, len) = learning_packet(MAC, 100);
        assert_eq!(len, 60);
        assert_eq!(f[12..16], [0x81, 0x00, 0x00, 100]);
        let (untagged, _) = learning_packet(MAC, 0);
        assert_eq!(f[..12], untagged[..12]);
        assert_eq!(f[16..46], untagged[12..42]);
        assert!(f[46..].iter().all(|&b| b == 0));
        // the wire parser reads it back as sent
        let meta = crate::wire::parse(&f[..len]).unwrap();
        assert_eq!(meta.src.0, MAC);
        assert_eq!(meta.tag.unwrap().vid, 100);
        assert_eq!(crate::wire::network_header(&f[..len]), Some((18, ETHERTYPE_RARP)));
        // only the VID is used
        assert_eq!(learning_packet(MAC, 0xf064).0[14..16], [0x00, 0x64]);
    }
}

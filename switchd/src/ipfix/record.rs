//! What one IPFIX flow record says: the flow's key ([`FlowRecordKey`],
//! the fields that tell one unidirectional flow from another), its counters
//! ([`Counts`]) and times, and why it was exported ([`EndReason`]).
//!
//! The key is built from the engine's [`FlowKey`] (the fields the flow
//! table already extracted from the frame) by [`FlowRecordKey::from_flow_key`],
//! keeping only what the exported templates carry, so that two frames that
//! differ in a field no record shows (TTL, TCP flags, ToS, ARP addresses)
//! count in the same record instead of producing two records that a
//! collector could not tell apart. Its shape follows the templates: no IP
//! part for a non-IP frame, and transport ports or an ICMP type and code
//! only for the protocols that have them, so every key is encodable as is.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::flow::{Field, FlowKey, VLAN_CFI};

/// Ethertypes and IP protocols the key looks at.
const ETH_TYPE_IPV4: u16 = 0x0800;
const ETH_TYPE_IPV6: u16 = 0x86dd;
const IPPROTO_ICMP: u8 = 1;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ICMPV6: u8 = 58;
const IPPROTO_SCTP: u8 = 132;

/// The fields that identify one unidirectional flow on a bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowRecordKey {
    /// OpenFlow port the frames came in on (IPFIX `ingressInterface`).
    pub in_port: u32,
    /// OpenFlow port they went out of (IPFIX `egressInterface`); 0 when
    /// flooded, sent to several ports, dropped or not known.
    pub out_port: u32,
    /// Source MAC (`sourceMacAddress`).
    pub src_mac: [u8; 6],
    /// Destination MAC (`destinationMacAddress`).
    pub dst_mac: [u8; 6],
    /// Ethertype after any VLAN tag (`ethernetType`).
    pub eth_type: u16,
    /// VLAN id, 0 for an untagged (or priority-tagged) frame (`vlanId`).
    pub vlan: u16,
    /// The IP part, for IPv4 and IPv6 frames.
    pub ip: Option<IpKey>,
}

/// The IP part of a [`FlowRecordKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpKey {
    /// Source and destination addresses (their version is the record's
    /// `ipVersion` and picks the template).
    pub addrs: IpAddrs,
    /// IPv4 protocol or IPv6 next header (`protocolIdentifier`).
    pub proto: u8,
    /// Transport ports or ICMP type and code, when the protocol has them.
    pub l4: L4Key,
}

/// A flow's source and destination addresses, both of one IP version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpAddrs {
    /// `sourceIPv4Address`, `destinationIPv4Address`.
    V4 {
        /// Source.
        src: Ipv4Addr,
        /// Destination.
        dst: Ipv4Addr,
    },
    /// `sourceIPv6Address`, `destinationIPv6Address`.
    V6 {
        /// Source.
        src: Ipv6Addr,
        /// Destination.
        dst: Ipv6Addr,
    },
}

/// The transport part of an [`IpKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum L4Key {
    /// A protocol without ports the record shows (or a non-first fragment).
    None,
    /// TCP, UDP or SCTP: `sourceTransportPort`, `destinationTransportPort`.
    Ports {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
    },
    /// ICMP over IPv4 or ICMPv6 over IPv6: `icmpTypeCodeIPv4` or
    /// `icmpTypeCodeIPv6` (type × 256 + code).
    Icmp {
        /// ICMP type.
        kind: u8,
        /// ICMP code.
        code: u8,
    },
}

/// The 48-bit number the flow key holds for a MAC, as its six bytes.
fn mac_bytes(v: u128) -> [u8; 6] {
    let b = (v as u64).to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

impl FlowRecordKey {
    /// The record key of a frame whose extracted key is `key`, sent to
    /// OpenFlow port `out_port` (0: flooded, several ports, dropped).
    ///
    /// The VLAN is the frame's 802.1Q tag as received (the flow key's
    /// `vlan_tci`), 0 when untagged. Only IPv4 and IPv6 frames get an IP
    /// part; ARP's addresses, which the flow key keeps in the IPv4
    /// places, are left out. Ports are kept for TCP, UDP and SCTP, type
    /// and code for ICMP (IPv4) and ICMPv6 (IPv6); the flow key has them
    /// as 0 for a non-first fragment, as OVS.
    pub fn from_flow_key(key: &FlowKey, out_port: u32) -> FlowRecordKey {
        let tci = key.vlan_tci();
        let eth_type = key.dl_type();
        let proto = key.nw_proto();
        let ports = || L4Key::Ports {
            src: key.get(Field::TpSrc) as u16,
            dst: key.get(Field::TpDst) as u16,
        };
        // ICMP type and code live in `tp_src`/`tp_dst` (see flow::key).
        let icmp = || L4Key::Icmp {
            kind: key.get(Field::TpSrc) as u8,
            code: key.get(Field::TpDst) as u8,
        };
        let ip = match eth_type {
            ETH_TYPE_IPV4 => Some(IpKey {
                addrs: IpAddrs::V4 {
                    src: Ipv4Addr::from(key.get(Field::NwSrc) as u32),
                    dst: Ipv4Addr::from(key.get(Field::NwDst) as u32),
                },
                proto,
                l4: match proto {
                    IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP => ports(),
                    IPPROTO_ICMP => icmp(),
                    _ => L4Key::None,
                },
            }),
            ETH_TYPE_IPV6 => Some(IpKey {
                addrs: IpAddrs::V6 {
                    src: Ipv6Addr::from(key.get(Field::Ipv6Src)),
                    dst: Ipv6Addr::from(key.get(Field::Ipv6Dst)),
                },
                proto,
                l4: match proto {
                    IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP => ports(),
                    IPPROTO_ICMPV6 => icmp(),
                    _ => L4Key::None,
                },
            }),
            _ => None,
        };
        FlowRecordKey {
            in_port: u32::from(key.in_port()),
            out_port,
            src_mac: mac_bytes(key.get(Field::DlSrc)),
            dst_mac: mac_bytes(key.get(Field::DlDst)),
            eth_type,
            vlan: if tci & VLAN_CFI != 0 { tci & 0x0fff } else { 0 },
            ip,
        }
    }
}

/// Bytes of the Ethernet header in front of the payload of a frame whose
/// extracted key is `key`: 14, or 18 with an 802.1Q tag (the flow key sets
/// [`VLAN_CFI`] exactly when the frame has one, priority tags included).
pub fn eth_header_len(key: &FlowKey) -> u64 {
    if key.vlan_tci() & VLAN_CFI != 0 {
        18
    } else {
        14
    }
}

/// Packet and byte counts of a record (or of one observed packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Packets (`packetDeltaCount`).
    pub packets: u64,
    /// IP bytes, IP header included, of an IP flow; Ethernet frame bytes of
    /// a non-IP flow (`octetDeltaCount`; see the module documentation of
    /// [`super`] for why).
    pub octets: u64,
    /// Ethernet frame bytes, from the destination MAC to the end of the
    /// payload, no FCS (`layer2OctetDeltaCount`).
    pub l2_octets: u64,
}

impl Counts {
    /// `self + other`, field by field (wrapping, as IPFIX counters do).
    pub fn add(&mut self, other: Counts) {
        self.packets = self.packets.wrapping_add(other.packets);
        self.octets = self.octets.wrapping_add(other.octets);
        self.l2_octets = self.l2_octets.wrapping_add(other.l2_octets);
    }
}

/// Why a record was exported (IANA `flowEndReason`, RFC 5102 §5.11.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EndReason {
    /// No packet for the idle timeout (15 s).
    IdleTimeout = 1,
    /// The flow was in the cache for the active timeout; later packets
    /// start a new record.
    ActiveTimeout = 2,
    /// Exported on demand: `clear bridge BR ipfix`, a reconfiguration or
    /// the bridge's removal.
    ForcedEnd = 4,
    /// Evicted to make room for a new flow in a full cache.
    LackOfResources = 5,
}

/// One flow record, ready to be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowRecord {
    /// The flow.
    pub key: FlowRecordKey,
    /// Wall-clock time of the first packet, in milliseconds since the Unix
    /// epoch (`flowStartMilliseconds`).
    pub start_ms: u64,
    /// Wall-clock time of the last packet, never before `start_ms`
    /// (`flowEndMilliseconds`).
    pub end_ms: u64,
    /// Counters since the flow's previous record (deltas).
    pub counts: Counts,
    /// Why the record was exported (`flowEndReason`).
    pub end_reason: EndReason,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::extract;

    /// A tagged (VLAN 10) Ethernet/IPv4/UDP frame 10.0.0.1:1234 → 10.0.0.2:53.
    fn udp4_frame() -> Vec<u8> {
        let mut f = vec![
            0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x00,
        ];
        f.extend_from_slice(&[
            0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0xd2, 0, 53, 0, 8, 0, 0,
        ]);
        f
    }

    #[test]
    fn key_of_a_tagged_udp4_frame() {
        let fk = extract(&udp4_frame(), 3, 0);
        let k = FlowRecordKey::from_flow_key(&fk, 7);
        assert_eq!(
            k,
            FlowRecordKey {
                in_port: 3,
                out_port: 7,
                src_mac: [2, 0, 0, 0, 0, 1],
                dst_mac: [2, 0, 0, 0, 0, 2],
                eth_type: 0x0800,
                vlan: 10,
                ip: Some(IpKey {
                    addrs: IpAddrs::V4 {
                        src: Ipv4Addr::new(10, 0, 0, 1),
                        dst: Ipv4Addr::new(10, 0, 0, 2)
                    },
                    proto: 17,
                    l4: L4Key::Ports { src: 1234, dst: 53 },
                }),
            }
        );
        assert_eq!(eth_header_len(&fk), 18);
    }

    #[test]
    fn key_ignores_fields_no_record_shows() {
        // Same flow, other TTL: one key.
        let a = udp4_frame();
        let mut b = a.clone();
        b[18 + 8] = 1;
        let ka = FlowRecordKey::from_flow_key(&extract(&a, 3, 0), 0);
        let kb = FlowRecordKey::from_flow_key(&extract(&b, 3, 0), 0);
        assert_eq!(ka, kb);
    }

    #[test]
    fn arp_has_no_ip_part_and_icmp_has_type_code() {
        let mut k = FlowKey::ZERO;
        k.set(Field::DlType, 0x0806);
        k.set(Field::ArpSpa, 0x0a00_0001);
        k.set(Field::ArpOp, 1);
        let r = FlowRecordKey::from_flow_key(&k, 0);
        assert_eq!((r.ip, r.vlan, r.eth_type), (None, 0, 0x0806));
        assert_eq!(eth_header_len(&k), 14);

        let mut k = FlowKey::ZERO;
        k.set(Field::DlType, 0x86dd);
        k.set(Field::NwProto, 58);
        k.set(Field::Icmpv6Type, 128);
        k.set(Field::Ipv6Src, 1);
        let r = FlowRecordKey::from_flow_key(&k, 0);
        let ip = r.ip.unwrap();
        assert_eq!(ip.l4, L4Key::Icmp { kind: 128, code: 0 });
        assert_eq!(
            ip.addrs,
            IpAddrs::V6 {
                src: Ipv6Addr::from(1u128),
                dst: Ipv6Addr::UNSPECIFIED
            }
        );

        // A protocol without ports or type: no L4 part.
        let mut k = FlowKey::ZERO;
        k.set(Field::DlType, 0x0800);
        k.set(Field::NwProto, 47);
        k.set(Field::TpSrc, 99);
        assert_eq!(FlowRecordKey::from_flow_key(&k, 0).ip.unwrap().l4, L4Key::None);
    }
}

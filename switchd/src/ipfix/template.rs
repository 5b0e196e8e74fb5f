//! The Information Elements switchd exports (IANA "IPFIX Information
//! Elements" registry numbers and the lengths we send them with) and the
//! seven templates made of them, one per kind of flow key.
//!
//! Why several templates: a template fixes the fields of every record that
//! uses it (RFC 7011 §3.4.1), so one template for all flows would send
//! zero addresses for ARP and zero ports for ICMP, values a collector can
//! not tell from real ones. OVS defines one template per combination of L2,
//! L3 and L4 kind for the same reason; we do the same with the kinds our
//! keys have ([`TemplateKind`]). All of them share the L2 fields at the
//! front and the counters and times at the back, so every record says the
//! same things about ports, MACs, VLAN, packets, bytes and times.
//!
//! Only standard (IANA, enterprise 0) elements are used, all with their
//! registry's natural length, so Wireshark and nfacctd name and decode
//! every field without any configuration.

use super::record::{FlowRecordKey, IpAddrs, L4Key};

/// One Information Element as a template sends it: IANA id and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ie {
    /// IANA element id (enterprise bit clear).
    pub id: u16,
    /// Length in the data records, in bytes.
    pub len: u16,
    /// IANA name, for documentation and test messages.
    pub name: &'static str,
}

macro_rules! ies {
    ($( $(#[$doc:meta])* $konst:ident = $id:literal, $len:literal, $name:literal; )*) => {
        $( $(#[$doc])* pub const $konst: Ie = Ie { id: $id, len: $len, name: $name }; )*
    };
}

ies! {
    /// unsigned64: bytes since the previous record; IP bytes for IP flows.
    OCTET_DELTA_COUNT = 1, 8, "octetDeltaCount";
    /// unsigned64: packets since the previous record.
    PACKET_DELTA_COUNT = 2, 8, "packetDeltaCount";
    /// unsigned8: IPv4 protocol / IPv6 next header.
    PROTOCOL_IDENTIFIER = 4, 1, "protocolIdentifier";
    /// unsigned16: TCP/UDP/SCTP source port.
    SOURCE_TRANSPORT_PORT = 7, 2, "sourceTransportPort";
    /// ipv4Address.
    SOURCE_IPV4_ADDRESS = 8, 4, "sourceIPv4Address";
    /// unsigned32: ingress OpenFlow port.
    INGRESS_INTERFACE = 10, 4, "ingressInterface";
    /// unsigned16: TCP/UDP/SCTP destination port.
    DESTINATION_TRANSPORT_PORT = 11, 2, "destinationTransportPort";
    /// ipv4Address.
    DESTINATION_IPV4_ADDRESS = 12, 4, "destinationIPv4Address";
    /// unsigned32: egress OpenFlow port, 0 when not a single port.
    EGRESS_INTERFACE = 14, 4, "egressInterface";
    /// ipv6Address.
    SOURCE_IPV6_ADDRESS = 27, 16, "sourceIPv6Address";
    /// ipv6Address.
    DESTINATION_IPV6_ADDRESS = 28, 16, "destinationIPv6Address";
    /// unsigned16: ICMP type × 256 + code.
    ICMP_TYPE_CODE_IPV4 = 32, 2, "icmpTypeCodeIPv4";
    /// macAddress.
    SOURCE_MAC_ADDRESS = 56, 6, "sourceMacAddress";
    /// unsigned16: VLAN id, 0 when untagged.
    VLAN_ID = 58, 2, "vlanId";
    /// unsigned8: 4 or 6.
    IP_VERSION = 60, 1, "ipVersion";
    /// macAddress.
    DESTINATION_MAC_ADDRESS = 80, 6, "destinationMacAddress";
    /// unsigned8: [`EndReason`](super::record::EndReason).
    FLOW_END_REASON = 136, 1, "flowEndReason";
    /// unsigned16: ICMPv6 type × 256 + code.
    ICMP_TYPE_CODE_IPV6 = 139, 2, "icmpTypeCodeIPv6";
    /// dateTimeMilliseconds: first packet.
    FLOW_START_MILLISECONDS = 152, 8, "flowStartMilliseconds";
    /// dateTimeMilliseconds: last packet.
    FLOW_END_MILLISECONDS = 153, 8, "flowEndMilliseconds";
    /// unsigned16: Ethertype after any VLAN tag.
    ETHERNET_TYPE = 256, 2, "ethernetType";
    /// unsigned64: Ethernet frame bytes since the previous record.
    LAYER2_OCTET_DELTA_COUNT = 352, 8, "layer2OctetDeltaCount";
}

/// The kind of a flow key, which picks its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TemplateKind {
    /// Not IP (ARP, LLDP, ...): L2 fields only.
    L2,
    /// IPv4 with a protocol the record shows no L4 field of.
    Ipv4,
    /// IPv4 TCP, UDP or SCTP.
    Ipv4Ports,
    /// IPv4 ICMP.
    Ipv4Icmp,
    /// IPv6 with a protocol the record shows no L4 field of.
    Ipv6,
    /// IPv6 TCP, UDP or SCTP.
    Ipv6Ports,
    /// ICMPv6.
    Ipv6Icmp,
}

/// A template: its id (≥ 256, RFC 7011 §3.4.1) and its fields, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// Template id, also the set id of its data sets.
    pub id: u16,
    /// The fields of every record, in order.
    pub fields: &'static [Ie],
}

impl Template {
    /// Bytes of one data record.
    pub const fn record_len(&self) -> usize {
        let mut n = 0;
        let mut i = 0;
        while i < self.fields.len() {
            n += self.fields[i].len as usize;
            i += 1;
        }
        n
    }

    /// Bytes of the template record: 4 of header, 4 per field.
    pub const fn template_record_len(&self) -> usize {
        4 + 4 * self.fields.len()
    }
}

/// The fields of a template: the L2 ones, then `$ie`s, then counters and
/// times, so every template has the same head and tail.
macro_rules! fields {
    ($($ie:ident),*) => {
        &[
            INGRESS_INTERFACE,
            EGRESS_INTERFACE,
            SOURCE_MAC_ADDRESS,
            DESTINATION_MAC_ADDRESS,
            ETHERNET_TYPE,
            VLAN_ID,
            $($ie,)*
            FLOW_START_MILLISECONDS,
            FLOW_END_MILLISECONDS,
            PACKET_DELTA_COUNT,
            OCTET_DELTA_COUNT,
            LAYER2_OCTET_DELTA_COUNT,
            FLOW_END_REASON,
        ]
    };
}

/// Every template, indexed by [`TemplateKind`] (`TEMPLATES[kind as usize]`).
/// Ids are 256 and up, in the order of the kinds.
pub const TEMPLATES: [Template; 7] = [
    Template {
        id: 256,
        fields: fields!(),
    },
    Template {
        id: 257,
        fields: fields!(
            IP_VERSION,
            PROTOCOL_IDENTIFIER,
            SOURCE_IPV4_ADDRESS,
            DESTINATION_IPV4_ADDRESS
        ),
    },
    Template {
        id: 258,
        fields: fields!(
            IP_VERSION,
            PROTOCOL_IDENTIFIER,
            SOURCE_IPV4_ADDRESS,
            DESTINATION_IPV4_ADDRESS,
            SOURCE_TRANSPORT_PORT,
            DESTINATION_TRANSPORT_PORT
        ),
    },
    Template {
        id: 259,
        fields: fields!(
            IP_VERSION,
            PROTOCOL_IDENTIFIER,
            SOURCE_IPV4_ADDRESS,
            DESTINATION_IPV4_ADDRESS,
            ICMP_TYPE_CODE_IPV4
        ),
    },
    Template {
        id: 260,
        fields: fields!(
            IP_VERSION,
            PROTOCOL_IDENTIFIER,
            SOURCE_IPV6_ADDRESS,
            DESTINATION_IPV6_ADDRESS
        ),
    },
    Template {
        id: 261,
        fields: fields!(
            IP_VERSION,
            PROTOCOL_IDENTIFIER,
            SOURCE_IPV6_ADDRESS,
            DESTINATION_IPV6_ADDRESS,
            SOURCE_TRANSPORT_PORT,
            DESTINATION_TRANSPORT_PORT
        ),
    },
    Template {
        id: 262,
        fields: fields!(
            IP_VERSION,
            PROTOCOL_IDENTIFIER,
            SOURCE_IPV6_ADDRESS,
            DESTINATION_IPV6_ADDRESS,
            ICMP_TYPE_CODE_IPV6
        ),
    },
];

/// Bytes of a template set holding every template (set header included).
pub const TEMPLATE_SET_LEN: usize = {
    let mut n = 4;
    let mut i = 0;
    while i < TEMPLATES.len() {
        n += TEMPLATES[i].template_record_len();
        i += 1;
    }
    n
};

/// Bytes of the longest data record of any template.
pub const MAX_RECORD_LEN: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < TEMPLATES.len() {
        let l = TEMPLATES[i].record_len();
        if l > n {
            n = l;
        }
        i += 1;
    }
    n
};

impl TemplateKind {
    /// The kind of `key`'s records.
    pub fn of(key: &FlowRecordKey) -> TemplateKind {
        match key.ip {
            None => TemplateKind::L2,
            Some(ip) => match (ip.addrs, ip.l4) {
                (IpAddrs::V4 { .. }, L4Key::None) => TemplateKind::Ipv4,
                (IpAddrs::V4 { .. }, L4Key::Ports { .. }) => TemplateKind::Ipv4Ports,
                (IpAddrs::V4 { .. }, L4Key::Icmp { .. }) => TemplateKind::Ipv4Icmp,
                (IpAddrs::V6 { .. }, L4Key::None) => TemplateKind::Ipv6,
                (IpAddrs::V6 { .. }, L4Key::Ports { .. }) => TemplateKind::Ipv6Ports,
                (IpAddrs::V6 { .. }, L4Key::Icmp { .. }) => TemplateKind::Ipv6Icmp,
            },
        }
    }

    /// Its template.
    pub fn template(self) -> &'static Template {
        &TEMPLATES[self as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_data_set_ids_and_sizes_add_up() {
        for (i, t) in TEMPLATES.iter().enumerate() {
            assert_eq!(t.id, 256 + i as u16);
            // No field twice in one template.
            for (j, f) in t.fields.iter().enumerate() {
                assert!(
                    !t.fields[j + 1..].iter().any(|g| g.id == f.id),
                    "{} twice in {}",
                    f.name,
                    t.id
                );
                assert!(f.id < 0x8000, "enterprise bit set on {}", f.name);
            }
        }
        assert_eq!(TEMPLATES[0].record_len(), 4 + 4 + 6 + 6 + 2 + 2 + 8 * 5 + 1);
        assert_eq!(
            MAX_RECORD_LEN,
            TEMPLATES[TemplateKind::Ipv6Ports as usize].record_len()
        );
        assert_eq!(MAX_RECORD_LEN, 65 + 1 + 1 + 32 + 4);
        // Field counts: 12 for L2; 16, 18 and 17 for plain, ports and ICMP, twice.
        assert_eq!(TEMPLATE_SET_LEN, 4 + 7 * 4 + 4 * (12 + 2 * (16 + 18 + 17)));
        assert_eq!(TEMPLATE_SET_LEN, 488);
    }
}

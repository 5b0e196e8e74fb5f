//! IPFIX message encoding (RFC 7011 §3; the Exporting Process without its
//! socket): flow records into messages of at most [`MAX_MESSAGE_LEN`]
//! bytes, each handed to a callback that sends it to every target.
//!
//! # Layout
//!
//! ```text
//! message header (16): version 10 | length | export time (s) | sequence | observation domain
//! [template set (set id 2): one template record per TemplateKind]   when due
//! data set (set id = template id): records of one template, back to back
//! data set ...
//! ```
//!
//! Consecutive records of the same template share one data set; a record
//! of another template opens a new set. Sets are not padded (padding is
//! optional, §3.3.1). A message is closed when the next record would not
//! fit; the rest go in the next message, so records are never split.
//!
//! # Sequence numbers
//!
//! A message's sequence number is the number of data records this exporter
//! sent before it, modulo 2^32 (§3.1): template records do not count, a
//! message carrying only templates has the current count, and a message
//! with k records moves the count on by k. Every target gets the same
//! messages, so the count is right for each of them.
//!
//! # Templates
//!
//! Over UDP a collector that missed or forgot a template (it started after
//! us, or restarted) can decode nothing until it is sent again, so
//! templates go in the first message this exporter sends and again in the
//! first message after [`TEMPLATE_REFRESH`] (600 s, OVS's default
//! `template_interval`; RFC 7011 §8.4 asks UDP exporters to resend
//! templates periodically) or after [`Exporter::resend_templates`] (the
//! engine calls it when a target is added). They always come before the
//! data that uses them, in the same message, so a capture that holds a
//! data record holds its template before it (Wireshark needs that). RFC
//! 7011 §8.4 wants the refresh interval configurable; the SPEC has no key
//! for it, so it is this constant. Its SHOULD of sending templates in a
//! message of their own before the first data is
//! [`Exporter::send_templates`] (through [`Ipfix::start`](super::Ipfix::start)),
//! for the engine to call when export starts. Either way, a lost template
//! message leaves a collector unable to decode for at most one interval.
//!
//! # Size
//!
//! [`MAX_MESSAGE_LEN`] is 1400 bytes: with the IPv6 and UDP headers (48)
//! a message still fits a 1500-byte MTU path, and with an IPv4 VXLAN
//! underlay's 50 bytes of overhead too, so messages are never fragmented on
//! usual networks (OVS uses 1024). The largest template set and a record of
//! the longest template fit in one message with room to spare (checked at
//! compile time).

use std::time::{Duration, Instant};

use super::record::{FlowRecord, IpAddrs, L4Key};
use super::template::{self, Ie, TemplateKind, MAX_RECORD_LEN, TEMPLATES, TEMPLATE_SET_LEN};

/// `version` of an IPFIX message header.
pub const VERSION: u16 = 10;
/// Bytes of the message header.
pub const HEADER_LEN: usize = 16;
/// Bytes of a set header (set id, length).
pub const SET_HEADER_LEN: usize = 4;
/// Set id of a template set.
pub const TEMPLATE_SET_ID: u16 = 2;
/// Largest message sent, IPFIX header included (see the module docs).
pub const MAX_MESSAGE_LEN: usize = 1400;
/// How often templates are sent again.
pub const TEMPLATE_REFRESH: Duration = Duration::from_secs(600);

// A message with the templates has room for at least one record.
const _: () = assert!(HEADER_LEN + TEMPLATE_SET_LEN + SET_HEADER_LEN + MAX_RECORD_LEN <= MAX_MESSAGE_LEN);

/// Encodes records into IPFIX messages for one observation domain (see the
/// module documentation). Holds the sequence number and the template
/// refresh state; one per bridge.
#[derive(Debug)]
pub struct Exporter {
    obs_domain_id: u32,
    /// Data records sent so far, modulo 2^32.
    seq: u32,
    /// When templates were last sent; `None`: never, or a resend was asked.
    templates_sent: Option<Instant>,
    /// The message being built; `MAX_MESSAGE_LEN` reserved once.
    buf: Vec<u8>,
    messages: u64,
    records: u64,
}

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn put64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn set16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// Appends the value of `ie` in `r` (the template was chosen from `r`'s
/// key, so every field has a value; a field that had none would be
/// zeros of its length).
fn put_field(b: &mut Vec<u8>, ie: &Ie, r: &FlowRecord) {
    let k = &r.key;
    let ip = k.ip.as_ref();
    let before = b.len();
    match *ie {
        template::OCTET_DELTA_COUNT => put64(b, r.counts.octets),
        template::PACKET_DELTA_COUNT => put64(b, r.counts.packets),
        template::LAYER2_OCTET_DELTA_COUNT => put64(b, r.counts.l2_octets),
        template::INGRESS_INTERFACE => put32(b, k.in_port),
        template::EGRESS_INTERFACE => put32(b, k.out_port),
        template::SOURCE_MAC_ADDRESS => b.extend_from_slice(&k.src_mac),
        template::DESTINATION_MAC_ADDRESS => b.extend_from_slice(&k.dst_mac),
        template::ETHERNET_TYPE => put16(b, k.eth_type),
        template::VLAN_ID => put16(b, k.vlan),
        template::FLOW_START_MILLISECONDS => put64(b, r.start_ms),
        template::FLOW_END_MILLISECONDS => put64(b, r.end_ms.max(r.start_ms)),
        template::FLOW_END_REASON => b.push(r.end_reason as u8),
        template::PROTOCOL_IDENTIFIER => b.push(ip.map_or(0, |ip| ip.proto)),
        template::IP_VERSION => b.push(match ip.map(|ip| ip.addrs) {
            Some(IpAddrs::V4 { .. }) => 4,
            Some(IpAddrs::V6 { .. }) => 6,
            None => 0,
        }),
        template::SOURCE_IPV4_ADDRESS | template::DESTINATION_IPV4_ADDRESS => {
            if let Some(IpAddrs::V4 { src, dst }) = ip.map(|ip| ip.addrs) {
                let a = if ie.id == template::SOURCE_IPV4_ADDRESS.id {
                    src
                } else {
                    dst
                };
                b.extend_from_slice(&a.octets());
            }
        }
        template::SOURCE_IPV6_ADDRESS | template::DESTINATION_IPV6_ADDRESS => {
            if let Some(IpAddrs::V6 { src, dst }) = ip.map(|ip| ip.addrs) {
                let a = if ie.id == template::SOURCE_IPV6_ADDRESS.id {
                    src
                } else {
                    dst
                };
                b.extend_from_slice(&a.octets());
            }
        }
        template::SOURCE_TRANSPORT_PORT | template::DESTINATION_TRANSPORT_PORT => {
            if let Some(L4Key::Ports { src, dst }) = ip.map(|ip| ip.l4) {
                put16(
                    b,
                    if ie.id == template::SOURCE_TRANSPORT_PORT.id {
                        src
                    } else {
                        dst
                    },
                );
            }
        }
        template::ICMP_TYPE_CODE_IPV4 | template::ICMP_TYPE_CODE_IPV6 => {
            if let Some(L4Key::Icmp { kind, code }) = ip.map(|ip| ip.l4) {
                put16(b, u16::from_be_bytes([kind, code]));
            }
        }
        _ => {}
    }
    // Whatever happened above, the record has the template's length.
    b.resize(before + usize::from(ie.len), 0);
}

impl Exporter {
    /// An exporter for observation domain `obs_domain_id`, sequence 0,
    /// templates due in its first message.
    pub fn new(obs_domain_id: u32) -> Exporter {
        Exporter {
            obs_domain_id,
            seq: 0,
            templates_sent: None,
            buf: Vec::with_capacity(MAX_MESSAGE_LEN),
            messages: 0,
            records: 0,
        }
    }

    /// The observation domain of every message.
    pub fn obs_domain_id(&self) -> u32 {
        self.obs_domain_id
    }

    /// The sequence number of the next message: data records sent so far,
    /// modulo 2^32.
    pub fn sequence(&self) -> u32 {
        self.seq
    }

    /// Messages sent (handed to the callback), since creation.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Data records sent, since creation (not wrapped).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Makes the next message carry the templates (a target was added).
    pub fn resend_templates(&mut self) {
        self.templates_sent = None;
    }

    /// Whether the next message at `now` carries the templates.
    pub fn templates_due(&self, now: Instant) -> bool {
        self.templates_sent
            .is_none_or(|t| now.saturating_duration_since(t) >= TEMPLATE_REFRESH)
    }

    /// Starts a message: a header with length, sequence and time to fill.
    fn begin(&mut self, now: Instant) {
        self.buf.clear();
        self.buf.resize(HEADER_LEN, 0);
        if self.templates_due(now) {
            self.templates_sent = Some(now);
            put16(&mut self.buf, TEMPLATE_SET_ID);
            put16(&mut self.buf, TEMPLATE_SET_LEN as u16);
            for t in &TEMPLATES {
                put16(&mut self.buf, t.id);
                put16(&mut self.buf, t.fields.len() as u16);
                for f in t.fields {
                    put16(&mut self.buf, f.id);
                    put16(&mut self.buf, f.len);
                }
            }
        }
    }

    /// Fills in the header of a message holding `n` data records, hands it
    /// to `send` and moves the sequence on.
    fn finish(&mut self, n: u32, wall_ms: u64, send: &mut impl FnMut(&[u8])) {
        let len = self.buf.len();
        debug_assert!(len <= MAX_MESSAGE_LEN);
        let b = &mut self.buf;
        set16(b, 0, VERSION);
        set16(b, 2, len as u16);
        // Export time in seconds since the epoch, as the u32 the header
        // has (it wraps in 2106, as every IPFIX exporter's).
        b[4..8].copy_from_slice(&((wall_ms / 1000) as u32).to_be_bytes());
        b[8..12].copy_from_slice(&self.seq.to_be_bytes());
        b[12..16].copy_from_slice(&self.obs_domain_id.to_be_bytes());
        send(&self.buf);
        self.seq = self.seq.wrapping_add(n);
        self.messages += 1;
        self.records += u64::from(n);
    }

    /// Encodes `records` into as many messages as they need, in order,
    /// with the templates first when due, and hands each message to `send`
    /// (which sends it to every target). `now` is monotonic (template
    /// refresh); `wall_ms`, milliseconds since the Unix epoch, gives the
    /// export time. Returns the number of messages; nothing is sent for no
    /// records. No allocation: one buffer is reused.
    pub fn export(
        &mut self,
        records: &[FlowRecord],
        now: Instant,
        wall_ms: u64,
        mut send: impl FnMut(&[u8]),
    ) -> usize {
        let mut sent = 0;
        let mut rest = records;
        while !rest.is_empty() {
            self.begin(now);
            // Start of the open data set and its template id, if any.
            let mut set: Option<(usize, u16)> = None;
            let mut n = 0u32;
            while let Some((r, tail)) = rest.split_first() {
                let t = TemplateKind::of(&r.key).template();
                let same_set = set.is_some_and(|(_, id)| id == t.id);
                let need = t.record_len() + if same_set { 0 } else { SET_HEADER_LEN };
                if self.buf.len() + need > MAX_MESSAGE_LEN {
                    break;
                }
                if !same_set {
                    self.close_set(set);
                    set = Some((self.buf.len(), t.id));
                    put16(&mut self.buf, t.id);
                    put16(&mut self.buf, 0);
                }
                for f in t.fields {
                    put_field(&mut self.buf, f, r);
                }
                n += 1;
                rest = tail;
            }
            self.close_set(set);
            debug_assert!(n > 0, "a record always fits an empty message");
            self.finish(n, wall_ms, &mut send);
            sent += 1;
        }
        sent
    }

    /// Writes the length of the data set that starts at `set`.
    fn close_set(&mut self, set: Option<(usize, u16)>) {
        if let Some((at, _)) = set {
            let len = self.buf.len() - at;
            set16(&mut self.buf, at + 2, len as u16);
        }
    }

    /// Sends a message with the templates only (at start-up, so a
    /// collector knows them before the first record). Returns 1.
    pub fn send_templates(&mut self, now: Instant, wall_ms: u64, mut send: impl FnMut(&[u8])) -> usize {
        self.templates_sent = None;
        self.begin(now);
        self.finish(0, wall_ms, &mut send);
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfix::record::{Counts, EndReason, FlowRecordKey, IpKey};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn udp4_record() -> FlowRecord {
        FlowRecord {
            key: FlowRecordKey {
                in_port: 1,
                out_port: 2,
                src_mac: [0x02, 0, 0, 0, 0, 0x01],
                dst_mac: [0x02, 0, 0, 0, 0, 0x02],
                eth_type: 0x0800,
                vlan: 10,
                ip: Some(IpKey {
                    addrs: IpAddrs::V4 {
                        src: Ipv4Addr::new(10, 0, 0, 1),
                        dst: Ipv4Addr::new(10, 0, 0, 2),
                    },
                    proto: 17,
                    l4: L4Key::Ports { src: 1234, dst: 53 },
                }),
            },
            start_ms: 0x0000_018b_cfe5_6800,
            end_ms: 0x0000_018b_cfe5_6be8,
            counts: Counts {
                packets: 3,
                octets: 300,
                l2_octets: 354,
            },
            end_reason: EndReason::IdleTimeout,
        }
    }

    fn collect(e: &mut Exporter, records: &[FlowRecord], now: Instant, wall_ms: u64) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        e.export(records, now, wall_ms, |m| out.push(m.to_vec()));
        out
    }

    fn be16(b: &[u8], at: usize) -> u16 {
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    fn be32(b: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn first_message_is_byte_exact() {
        let mut e = Exporter::new(7);
        let now = Instant::now();
        let msgs = collect(&mut e, &[udp4_record()], now, 1_700_000_000_999);
        assert_eq!(msgs.len(), 1);
        let m = &msgs[0];

        // Hand-computed: header, template set of the 7 templates, one data
        // set with one IPv4+ports record.
        let mut want: Vec<u8> = Vec::new();
        let len = 16 + 488 + 4 + 79;
        want.extend_from_slice(&[0x00, 0x0a]); // version 10
        want.extend_from_slice(&(len as u16).to_be_bytes());
        want.extend_from_slice(&1_700_000_000u32.to_be_bytes()); // export time, s
        want.extend_from_slice(&[0, 0, 0, 0]); // sequence: no record before
        want.extend_from_slice(&[0, 0, 0, 7]); // observation domain
        want.extend_from_slice(&[0x00, 0x02, 0x01, 0xe8]); // template set, 488 bytes
        let l2: &[[u16; 2]] = &[[10, 4], [14, 4], [56, 6], [80, 6], [256, 2], [58, 2]];
        let tail: &[[u16; 2]] = &[[152, 8], [153, 8], [2, 8], [1, 8], [352, 8], [136, 1]];
        let v4: &[[u16; 2]] = &[[60, 1], [4, 1], [8, 4], [12, 4]];
        let v6: &[[u16; 2]] = &[[60, 1], [4, 1], [27, 16], [28, 16]];
        let ports: &[[u16; 2]] = &[[7, 2], [11, 2]];
        let icmp4: &[[u16; 2]] = &[[32, 2]];
        let icmp6: &[[u16; 2]] = &[[139, 2]];
        let templates: [(u16, Vec<[u16; 2]>); 7] = [
            (256, [l2, tail].concat()),
            (257, [l2, v4, tail].concat()),
            (258, [l2, v4, ports, tail].concat()),
            (259, [l2, v4, icmp4, tail].concat()),
            (260, [l2, v6, tail].concat()),
            (261, [l2, v6, ports, tail].concat()),
            (262, [l2, v6, icmp6, tail].concat()),
        ];
        for (id, fields) in &templates {
            want.extend_from_slice(&id.to_be_bytes());
            want.extend_from_slice(&(fields.len() as u16).to_be_bytes());
            for [ie, l] in fields {
                want.extend_from_slice(&ie.to_be_bytes());
                want.extend_from_slice(&l.to_be_bytes());
            }
        }
        want.extend_from_slice(&[0x01, 0x02, 0x00, 83]); // data set 258, 4 + 79 bytes
        want.extend_from_slice(&[
            0, 0, 0, 1, // ingressInterface
            0, 0, 0, 2, // egressInterface
            2, 0, 0, 0, 0, 1, // sourceMacAddress
            2, 0, 0, 0, 0, 2, // destinationMacAddress
            0x08, 0x00, // ethernetType
            0, 10, // vlanId
            4,  // ipVersion
            17, // protocolIdentifier
            10, 0, 0, 1, // sourceIPv4Address
            10, 0, 0, 2, // destinationIPv4Address
            0x04, 0xd2, // sourceTransportPort 1234
            0, 53, // destinationTransportPort
            0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // flowStartMilliseconds
            0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x6b, 0xe8, // flowEndMilliseconds
            0, 0, 0, 0, 0, 0, 0, 3, // packetDeltaCount
            0, 0, 0, 0, 0, 0, 0x01, 0x2c, // octetDeltaCount 300
            0, 0, 0, 0, 0, 0, 0x01, 0x62, // layer2OctetDeltaCount 354
            1,    // flowEndReason: idle timeout
        ]);
        assert_eq!(want.len(), len);
        assert_eq!(m, &want);
        assert_eq!((e.sequence(), e.messages(), e.records()), (1, 1, 1));
    }

    #[test]
    fn sequence_counts_data_records_and_templates_are_refreshed() {
        let mut e = Exporter::new(1);
        let t0 = Instant::now();
        let r = udp4_record();
        let m = collect(&mut e, &[r, r, r], t0, 0);
        assert_eq!((be32(&m[0], 8), e.sequence()), (0, 3));
        // Templates only in the first message.
        assert_eq!(be16(&m[0], 16), TEMPLATE_SET_ID);
        let m = collect(&mut e, &[r; 2], t0 + Duration::from_secs(1), 1000);
        assert_eq!(be32(&m[0], 8), 3);
        assert_eq!(be16(&m[0], 16), 258);
        assert_eq!(be16(&m[0], 2) as usize, 16 + 4 + 2 * 79);
        // A template-only message has the current count and moves nothing.
        let mut t = Vec::new();
        e.send_templates(t0, 0, |m| t.push(m.to_vec()));
        assert_eq!(
            (be32(&t[0], 8), be16(&t[0], 2) as usize, e.sequence()),
            (5, 16 + 488, 5)
        );
        // Refresh after 600 s, and on demand.
        let m = collect(&mut e, &[r], t0 + Duration::from_secs(599), 0);
        assert_eq!(be16(&m[0], 16), 258);
        let m = collect(&mut e, &[r], t0 + Duration::from_secs(600), 0);
        assert_eq!((be16(&m[0], 16), be32(&m[0], 8)), (TEMPLATE_SET_ID, 6));
        e.resend_templates();
        let m = collect(&mut e, &[r], t0 + Duration::from_secs(601), 0);
        assert_eq!(be16(&m[0], 16), TEMPLATE_SET_ID);
        assert!(collect(&mut e, &[], t0, 0).is_empty());
        // The count wraps modulo 2^32.
        e.seq = u32::MAX;
        collect(&mut e, &[r; 2], t0, 0);
        assert_eq!(e.sequence(), 1);
    }

    #[test]
    fn many_records_split_into_bounded_messages_in_order() {
        let mut e = Exporter::new(1);
        let now = Instant::now();
        // Alternate IPv6 and ARP-like records: sets open and close.
        let mut records = Vec::new();
        for i in 0..100u16 {
            let mut r = udp4_record();
            r.key.in_port = u32::from(i);
            if i % 3 == 0 {
                r.key.ip = Some(IpKey {
                    addrs: IpAddrs::V6 {
                        src: Ipv6Addr::LOCALHOST,
                        dst: Ipv6Addr::from(u128::from(i)),
                    },
                    proto: 58,
                    l4: L4Key::Icmp { kind: 128, code: 0 },
                });
            } else if i % 3 == 1 {
                r.key.ip = None;
                r.key.eth_type = 0x0806;
            }
            records.push(r);
        }
        let msgs = collect(&mut e, &records, now, 0);
        assert!(msgs.len() > 5);
        let mut seen = Vec::new();
        let mut seq = 0;
        for m in &msgs {
            assert!(m.len() <= MAX_MESSAGE_LEN);
            assert_eq!(be16(m, 2) as usize, m.len());
            assert_eq!(be32(m, 8), seq);
            // Walk the sets; data records' first field is ingressInterface.
            let mut at = HEADER_LEN;
            while at < m.len() {
                let (id, len) = (be16(m, at), be16(m, at + 2) as usize);
                assert!(len >= 4 && at + len <= m.len());
                if id >= 256 {
                    let rl = TEMPLATES[usize::from(id - 256)].record_len();
                    assert_eq!((len - 4) % rl, 0);
                    for k in 0..(len - 4) / rl {
                        seen.push(be32(m, at + 4 + k * rl));
                        seq += 1;
                    }
                }
                at += len;
            }
            assert_eq!(at, m.len());
        }
        assert_eq!(seen, (0..100).collect::<Vec<u32>>());
        assert_eq!(e.sequence(), 100);
    }
}

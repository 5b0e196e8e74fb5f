//! Offloads: what a frame's virtio-net header ([`VnetHdr`], the header that
//! TAP (`IFF_VNET_HDR`) and AF_PACKET (`PACKET_VNET_HDR`) put in front of
//! each frame; its format is in [`crate::wire::vnet`]) still asks to be
//! done, in software, for egress ports that cannot take the header.
//!
//! Why: the kernel hands a userspace switch TCP as 64 KiB GSO super-frames
//! with unfinished ("partial") checksums whenever the sender has offloads
//! on (veth defaults, virtio-net guests). Carrying them whole between ports
//! that accept a virtio-net header is what makes TCP fast through a
//! userspace switch: one frame moved instead of ~45. Ports without that
//! header (tunnels, Unix-socket ports) get, only for such frames, what a
//! NIC would have produced: the checksum completed in place
//! ([`complete_checksum`]) and TCP/UDP segmented in software
//! ([`segment`]) — as Linux's `skb_checksum_help` and `skb_segment` do.
//!
//! All functions are pure, bounds-checked and never panic on a bad header:
//! a header that does not match its frame is a [`DropReason`].

use crate::batch::RxBatch;
use crate::stats::DropReason;
use crate::wire;
use crate::wire::vnet::{VnetHdr, GSO_ECN, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4};

const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;

/// Where the headers of a GSO frame end and what its L4 protocol is.
struct GsoLayout {
    l3: usize,
    l4: usize,
    /// End of the L4 header = start of the payload to split.
    payload: usize,
    ipv4: bool,
    udp: bool,
    mss: usize,
}

fn gso_layout(frame: &[u8], hdr: &VnetHdr) -> Result<GsoLayout, DropReason> {
    let bad = DropReason::BadOffload;
    let (l3, _) = wire::network_header(frame).ok_or(DropReason::Runt)?;
    let l4 = usize::from(hdr.csum_start);
    let version = frame.get(l3).ok_or(bad)? >> 4;
    let ipv4 = match version {
        4 => true,
        6 => false,
        _ => return Err(bad),
    };
    let min_l3 = if ipv4 { 20 } else { 40 };
    if !hdr.needs_csum() || l4 < l3 + min_l3 {
        return Err(bad);
    }
    // Each IPv4 segment gets its header checksum over the IHL's bytes, so
    // the IHL must say where the L4 header is: a larger one (a guest can
    // send any) would reach past a short segment, a smaller one is not an
    // IPv4 header (Linux's inet_gso_segment refuses below 20 too).
    if ipv4 && l3 + usize::from(frame[l3] & 0x0f) * 4 != l4 {
        return Err(bad);
    }
    let (udp, l4_len) = match hdr.gso_type & !GSO_ECN {
        GSO_TCPV4 | GSO_TCPV6 => {
            let doff = usize::from(frame.get(l4 + 12).ok_or(bad)? >> 4) * 4;
            if doff < 20 {
                return Err(bad);
            }
            (false, doff)
        }
        GSO_UDP_L4 => (true, 8),
        _ => return Err(DropReason::GsoUnsupported),
    };
    let payload = l4 + l4_len;
    let mss = usize::from(hdr.gso_size);
    if payload > frame.len() || mss == 0 {
        return Err(bad);
    }
    Ok(GsoLayout {
        l3,
        l4,
        payload,
        ipv4,
        udp,
        mss,
    })
}

/// Length of the largest frame that leaves for this frame: a segment for a
/// GSO super-frame (what MTU checks must look at), else the frame itself.
pub fn wire_len(frame: &[u8], hdr: &VnetHdr) -> usize {
    if !hdr.is_gso() {
        return frame.len();
    }
    match gso_layout(frame, hdr) {
        Ok(g) => frame.len().min(g.payload + g.mss),
        Err(_) => frame.len(),
    }
}

/// The frames this frame leaves as and their bytes together: one frame
/// unless it is a GSO super-frame, which becomes one segment per `gso_size`
/// of payload, each with a copy of the headers. What rate control charges
/// (SPEC §12: the bytes of the segments, headers included). A header that
/// does not describe the frame counts it as one frame.
pub fn segments(frame: &[u8], hdr: &VnetHdr) -> (usize, usize) {
    if !hdr.is_gso() {
        return (1, frame.len());
    }
    match gso_layout(frame, hdr) {
        Ok(g) => {
            let n = (frame.len() - g.payload).div_ceil(g.mss).max(1);
            (n, frame.len() + (n - 1) * g.payload)
        }
        Err(_) => (1, frame.len()),
    }
}

/// One's-complement sum of `data` (RFC 1071), not folded.
fn sum(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Finishes a partial checksum in place, as a NIC would: the field at
/// `csum_start + csum_offset` holds the pseudo-header sum; the one's
/// complement of the sum from `csum_start` to the end goes there.
pub fn complete_checksum(frame: &mut [u8], hdr: &VnetHdr) -> Result<(), DropReason> {
    let start = usize::from(hdr.csum_start);
    let field = start + usize::from(hdr.csum_offset);
    if field + 2 > frame.len() || start >= frame.len() {
        return Err(DropReason::BadOffload);
    }
    let mut csum = !fold(sum(&frame[start..], 0));
    // UDP: an all-zero checksum means "none"; send its equivalent instead.
    if csum == 0 && hdr.csum_offset == 6 {
        csum = 0xffff;
    }
    frame[field..field + 2].copy_from_slice(&csum.to_be_bytes());
    Ok(())
}

/// Writes segments `from..` of the GSO super-frame `frame` into `out`
/// (slot `i` of `out` gets one complete frame with correct IP and L4
/// checksums), as many as fit. Returns `(produced, next)`: `next` is the
/// segment to resume from, or `None` when the last one was written.
///
/// TCP: sequence numbers advance by the segment size, FIN and PSH stay on
/// the last segment only, CWR on the first only; IPv4 ids count up.
pub fn segment(
    frame: &[u8],
    hdr: &VnetHdr,
    from: usize,
    out: &mut RxBatch,
) -> Result<(usize, Option<usize>), DropReason> {
    let g = gso_layout(frame, hdr)?;
    let data = &frame[g.payload..];
    let total = data.len().div_ceil(g.mss).max(1);
    let headers = &frame[..g.payload];
    let ip_id = if g.ipv4 {
        u16::from_be_bytes([frame[g.l3 + 4], frame[g.l3 + 5]])
    } else {
        0
    };
    let seq = if g.udp {
        0
    } else {
        u32::from_be_bytes([frame[g.l4 + 4], frame[g.l4 + 5], frame[g.l4 + 6], frame[g.l4 + 7]])
    };
    let mut produced = 0;
    let mut i = from;
    while i < total && produced < out.capacity() {
        let chunk = &data[(i * g.mss).min(data.len())..((i + 1) * g.mss).min(data.len())];
        let len = headers.len() + chunk.len();
        let slot = out.slot_mut(produced);
        if len > slot.len() {
            return Err(DropReason::BadOffload);
        }
        let seg = &mut slot[..len];
        seg[..headers.len()].copy_from_slice(headers);
        seg[headers.len()..].copy_from_slice(chunk);
        let l4_len = len - g.l4;
        if g.ipv4 {
            let ihl = usize::from(seg[g.l3] & 0x0f) * 4;
            let tot = (len - g.l3) as u16;
            seg[g.l3 + 2..g.l3 + 4].copy_from_slice(&tot.to_be_bytes());
            seg[g.l3 + 4..g.l3 + 6].copy_from_slice(&ip_id.wrapping_add(i as u16).to_be_bytes());
            seg[g.l3 + 10..g.l3 + 12].fill(0);
            let c = !fold(sum(&seg[g.l3..g.l3 + ihl], 0));
            seg[g.l3 + 10..g.l3 + 12].copy_from_slice(&c.to_be_bytes());
        } else {
            let plen = (len - g.l3 - 40) as u16;
            seg[g.l3 + 4..g.l3 + 6].copy_from_slice(&plen.to_be_bytes());
        }
        let csum_field = if g.udp {
            seg[g.l4 + 4..g.l4 + 6].copy_from_slice(&(l4_len as u16).to_be_bytes());
            g.l4 + 6
        } else {
            let s = seq.wrapping_add((i * g.mss) as u32);
            seg[g.l4 + 4..g.l4 + 8].copy_from_slice(&s.to_be_bytes());
            let flags = &mut seg[g.l4 + 13];
            if i + 1 < total {
                *flags &= !(0x01 | 0x08); // FIN, PSH: last segment only
            }
            if i > 0 {
                *flags &= !0x80; // CWR: first segment only
            }
            g.l4 + 16
        };
        // Full L4 checksum: pseudo-header + L4 header + payload.
        seg[csum_field..csum_field + 2].fill(0);
        let proto = if g.udp { IPPROTO_UDP } else { IPPROTO_TCP };
        let mut acc = if g.ipv4 {
            sum(&seg[g.l3 + 12..g.l3 + 20], 0)
        } else {
            sum(&seg[g.l3 + 8..g.l3 + 40], 0)
        };
        acc += u32::from(proto) + l4_len as u32;
        let mut c = !fold(sum(&seg[g.l4..], acc));
        if c == 0 && g.udp {
            c = 0xffff;
        }
        seg[csum_field..csum_field + 2].copy_from_slice(&c.to_be_bytes());
        out.set_frame(produced, 0, len);
        produced += 1;
        i += 1;
    }
    out.set_count(produced);
    Ok((produced, (i < total).then_some(i)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::vnet::F_NEEDS_CSUM;
    use etherparse::{PacketBuilder, SlicedPacket, TransportSlice};

    const MAC1: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const MAC2: [u8; 6] = [2, 0, 0, 0, 0, 2];

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + 3) as u8).collect()
    }

    /// An independently built TCP/IPv4 frame (correct checksums).
    fn tcp4(data: &[u8], vlan: Option<u16>, fin_psh: bool) -> Vec<u8> {
        let eth = PacketBuilder::ethernet2(MAC1, MAC2);
        let ip = match vlan {
            Some(v) => eth
                .single_vlan(v.try_into().unwrap())
                .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64),
            None => eth.ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64),
        };
        let tcp = ip.tcp(1000, 2000, 0x1000_0000, 65535).ack(7);
        let tcp = if fin_psh { tcp.fin().psh() } else { tcp };
        let mut out = Vec::new();
        tcp.write(&mut out, data).unwrap();
        out
    }

    fn tcp6(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(MAC1, MAC2)
            .ipv6([0xfd; 16], [0xfe; 16], 64)
            .tcp(1000, 2000, 5, 65535)
            .write(&mut out, data)
            .unwrap();
        out
    }

    fn udp4(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(MAC1, MAC2)
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5000, 6000)
            .write(&mut out, data)
            .unwrap();
        out
    }

    /// Turns a correct frame into what the kernel hands over with
    /// offloads: the L4 checksum replaced by the pseudo-header sum.
    fn make_partial(frame: &mut [u8], l4: usize, csum_offset: usize, ipv4: bool, l3: usize) {
        let proto = frame[if ipv4 { l3 + 9 } else { l3 + 6 }];
        let l4_len = frame.len() - l4;
        let mut acc = if ipv4 {
            sum(&frame[l3 + 12..l3 + 20], 0)
        } else {
            sum(&frame[l3 + 8..l3 + 40], 0)
        };
        acc += u32::from(proto) + l4_len as u32;
        frame[l4 + csum_offset..l4 + csum_offset + 2].copy_from_slice(&fold(acc).to_be_bytes());
    }

    fn transport_checksum_ok(frame: &[u8]) -> bool {
        // Recompute with etherparse and compare with what is in the frame.
        let p = SlicedPacket::from_ethernet(frame).unwrap();
        match (&p.net, &p.transport) {
            (Some(etherparse::NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(t))) => {
                let h = t.to_header();
                h.checksum
                    == h.calc_checksum_ipv4(&ip.header().to_header(), t.payload())
                        .unwrap()
            }
            (Some(etherparse::NetSlice::Ipv6(ip)), Some(TransportSlice::Tcp(t))) => {
                let h = t.to_header();
                h.checksum
                    == h.calc_checksum_ipv6(&ip.header().to_header(), t.payload())
                        .unwrap()
            }
            (Some(etherparse::NetSlice::Ipv4(ip)), Some(TransportSlice::Udp(u))) => {
                let h = u.to_header();
                h.checksum
                    == h.calc_checksum_ipv4(&ip.header().to_header(), u.payload())
                        .unwrap()
            }
            _ => panic!("unexpected packet"),
        }
    }

    #[test]
    fn completes_partial_tcp_and_udp_checksums() {
        for (mut f, l4, off) in [
            (tcp4(&payload(333), None, false), 34, 16),
            (udp4(&payload(77)), 34, 6),
        ] {
            let good = f.clone();
            make_partial(&mut f, l4, off, true, 14);
            assert_ne!(f, good);
            let h = VnetHdr {
                flags: F_NEEDS_CSUM,
                csum_start: l4 as u16,
                csum_offset: off as u16,
                ..Default::default()
            };
            complete_checksum(&mut f, &h).unwrap();
            assert_eq!(f, good);
        }
        let mut short = tcp4(&[], None, false);
        let h = VnetHdr {
            flags: F_NEEDS_CSUM,
            csum_start: 200,
            csum_offset: 16,
            ..Default::default()
        };
        assert_eq!(complete_checksum(&mut short, &h), Err(DropReason::BadOffload));
    }

    fn gso_hdr(gso_type: u8, l4: usize, csum_offset: u16, mss: u16) -> VnetHdr {
        VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type,
            hdr_len: 0,
            gso_size: mss,
            csum_start: l4 as u16,
            csum_offset,
        }
    }

    /// Segmenting must give exactly what a sender without offloads would
    /// have sent: each segment equals an independently built packet.
    #[test]
    fn tcp4_segments_equal_independently_built_packets() {
        for vlan in [None, Some(10)] {
            let data = payload(4000);
            let mss = 1448;
            let mut big = tcp4(&data, vlan, true);
            let l3 = if vlan.is_some() { 18 } else { 14 };
            let l4 = l3 + 20;
            make_partial(&mut big, l4, 16, true, l3);
            let h = gso_hdr(GSO_TCPV4, l4, 16, mss as u16);
            assert_eq!(wire_len(&big, &h), l4 + 20 + mss);
            let mut out = RxBatch::with_layout(8, 2048);
            let (n, next) = segment(&big, &h, 0, &mut out).unwrap();
            assert_eq!((n, next), (3, None));
            // What rate control charges: exactly the bytes of the segments.
            let total: usize = (0..n).map(|i| out.frame(i).len()).sum();
            assert_eq!(segments(&big, &h), (n, total));
            assert_eq!(segments(&big, &VnetHdr::default()), (1, big.len()));
            for i in 0..n {
                let chunk = &data[i * mss..((i + 1) * mss).min(data.len())];
                let seg = out.frame(i);
                assert!(transport_checksum_ok(seg), "segment {i}");
                let p = SlicedPacket::from_ethernet(seg).unwrap();
                let Some(etherparse::NetSlice::Ipv4(ip)) = &p.net else {
                    panic!()
                };
                assert!(
                    ip.header().to_header().header_checksum == ip.header().to_header().calc_header_checksum()
                );
                assert_eq!(ip.header().identification(), i as u16);
                let Some(TransportSlice::Tcp(t)) = &p.transport else {
                    panic!()
                };
                assert_eq!(t.payload(), chunk);
                assert_eq!(t.sequence_number(), 0x1000_0000 + (i * mss) as u32);
                let last = i == n - 1;
                assert_eq!((t.fin(), t.psh()), (last, last), "segment {i}");
                assert!(t.ack());
            }
        }
    }

    #[test]
    fn tcp6_and_udp_segments_have_correct_checksums_and_lengths() {
        let data = payload(3000);
        let mut big = tcp6(&data);
        make_partial(&mut big, 54, 16, false, 14);
        let h = gso_hdr(GSO_TCPV6, 54, 16, 1000);
        let mut out = RxBatch::with_layout(8, 2048);
        let (n, _) = segment(&big, &h, 0, &mut out).unwrap();
        assert_eq!(n, 3);
        for i in 0..n {
            assert!(transport_checksum_ok(out.frame(i)));
            let p = SlicedPacket::from_ethernet(out.frame(i)).unwrap();
            let Some(TransportSlice::Tcp(t)) = &p.transport else {
                panic!()
            };
            assert_eq!(t.payload(), &data[i * 1000..(i + 1) * 1000]);
        }

        let mut big = udp4(&payload(2500));
        make_partial(&mut big, 34, 6, true, 14);
        let h = gso_hdr(GSO_UDP_L4, 34, 6, 1200);
        let (n, _) = segment(&big, &h, 0, &mut out).unwrap();
        assert_eq!(n, 3);
        for i in 0..n {
            assert!(transport_checksum_ok(out.frame(i)));
        }
        assert_eq!(out.frame(2).len(), 42 + 100);
    }

    #[test]
    fn segmentation_resumes_when_out_is_full() {
        let data = payload(10 * 100);
        let mut big = tcp4(&data, None, false);
        make_partial(&mut big, 34, 16, true, 14);
        let h = gso_hdr(GSO_TCPV4, 34, 16, 100);
        let mut out = RxBatch::with_layout(4, 512);
        let mut seen = Vec::new();
        let mut from = 0;
        loop {
            let (n, next) = segment(&big, &h, from, &mut out).unwrap();
            for i in 0..n {
                assert!(transport_checksum_ok(out.frame(i)));
                let p = SlicedPacket::from_ethernet(out.frame(i)).unwrap();
                let Some(TransportSlice::Tcp(t)) = &p.transport else {
                    panic!()
                };
                seen.extend_from_slice(t.payload());
            }
            match next {
                Some(n) => from = n,
                None => break,
            }
        }
        assert_eq!(seen, data);
    }

    #[test]
    fn bad_headers_are_drop_reasons_not_panics() {
        let big = tcp4(&payload(100), None, false);
        let mut out = RxBatch::with_layout(4, 512);
        let cases = [
            gso_hdr(GSO_TCPV4, 34, 16, 0),    // no segment size
            gso_hdr(GSO_TCPV4, 10, 16, 50),   // L4 inside L3
            gso_hdr(GSO_TCPV4, 5000, 16, 50), // beyond the frame
            VnetHdr {
                flags: 0,
                ..gso_hdr(GSO_TCPV4, 34, 16, 50)
            },
        ];
        for h in cases {
            assert_eq!(
                segment(&big, &h, 0, &mut out).unwrap_err(),
                DropReason::BadOffload,
                "{h:?}"
            );
        }
        assert_eq!(
            segment(&big, &gso_hdr(3, 34, 6, 50), 0, &mut out).unwrap_err(),
            DropReason::GsoUnsupported
        );
        assert_eq!(
            segment(&[0u8; 10], &gso_hdr(GSO_TCPV4, 34, 16, 50), 0, &mut out).unwrap_err(),
            DropReason::Runt
        );
    }

    /// Found by the `frame` fuzz target: a GSO frame whose IPv4 header
    /// length (60 bytes here) reaches past its short segments panicked
    /// (slice out of range) when the segment's header checksum was
    /// computed, killing the engine thread; any guest can send one. An
    /// IHL that does not end where `csum_start` puts the L4 header, or
    /// below 20 bytes, is now a bad offload, in `wire_len` and `segments`
    /// too.
    #[test]
    fn ipv4_header_length_must_end_at_the_l4_header() {
        let mut out = RxBatch::with_layout(4, 512);
        for ihl_nibble in [0xf, 0x6, 0x4, 0x0] {
            let mut big = tcp4(&payload(10), None, false);
            big[14] = 0x40 | ihl_nibble;
            let h = gso_hdr(GSO_TCPV4, 34, 16, 5);
            assert_eq!(
                segment(&big, &h, 0, &mut out).unwrap_err(),
                DropReason::BadOffload,
                "IHL nibble {ihl_nibble:#x}"
            );
            assert_eq!(wire_len(&big, &h), big.len());
            assert_eq!(segments(&big, &h), (1, big.len()));
        }
        // With options that IHL counts, csum_start after them, it segments.
        let mut big = tcp4(&payload(10), None, false);
        big[14] = 0x46;
        big.splice(34..34, [1, 1, 1, 0]); // NOP NOP NOP EOL
        let tot = (big.len() - 14) as u16;
        big[16..18].copy_from_slice(&tot.to_be_bytes());
        let h = gso_hdr(GSO_TCPV4, 38, 16, 5);
        assert_eq!(segment(&big, &h, 0, &mut out), Ok((2, None)));
    }
}

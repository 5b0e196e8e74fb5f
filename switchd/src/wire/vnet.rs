//! The virtio-net header (`struct virtio_net_hdr`, virtio spec §5.1.6)
//! that TAP (`IFF_VNET_HDR`) and AF_PACKET (`PACKET_VNET_HDR`) put in front
//! of each frame: fixed offsets, no I/O, no allocation.
//!
//! ```text
//! byte   0       1          2..4      4..6       6..8         8..10
//!        flags   gso_type   hdr_len   gso_size   csum_start   csum_offset
//! ```
//!
//! It is a header format like the others in [`crate::wire`], so it lives
//! here: [`VnetHdr`] is a typed copy of the 10 bytes, in native byte order
//! (as the kernel uses it for TAP and AF_PACKET), with the questions the
//! engine asks of it ([`VnetHdr::is_gso`], [`VnetHdr::needs_csum`]). What
//! is done with a frame because of its header (checksum completion,
//! segmentation) is in [`crate::offload`]; how the header follows a VLAN
//! edit of its frame ([`VnetHdr::for_edit`]) is next to
//! [`Edit`](crate::batch::Edit) in `batch.rs`, since the wire layer knows
//! nothing of egress edits.

/// Size of `struct virtio_net_hdr` (no `num_buffers`).
pub const VNET_HDR_LEN: usize = 10;
/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: checksum from `csum_start` still to do.
pub const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_NONE`
pub const GSO_NONE: u8 = 0;
/// `VIRTIO_NET_HDR_GSO_TCPV4`
pub const GSO_TCPV4: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_TCPV6`
pub const GSO_TCPV6: u8 = 4;
/// `VIRTIO_NET_HDR_GSO_UDP_L4` (UDP segmentation, `UDP_SEGMENT`)
pub const GSO_UDP_L4: u8 = 5;
/// `VIRTIO_NET_HDR_GSO_ECN` flag bit of `gso_type`.
pub const GSO_ECN: u8 = 0x80;

/// A virtio-net header (native byte order, as the kernel uses for TAP and
/// AF_PACKET).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VnetHdr {
    /// `F_NEEDS_CSUM`, `F_DATA_VALID`.
    pub flags: u8,
    /// `GSO_*`, possibly with `GSO_ECN`.
    pub gso_type: u8,
    /// Length of the headers (a hint; not trusted).
    pub hdr_len: u16,
    /// Payload bytes per segment.
    pub gso_size: u16,
    /// Offset where checksumming starts (the L4 header).
    pub csum_start: u16,
    /// Offset of the checksum field from `csum_start`.
    pub csum_offset: u16,
}

impl VnetHdr {
    /// Decodes the 10 header bytes.
    pub fn from_bytes(b: &[u8; VNET_HDR_LEN]) -> Self {
        let u = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        VnetHdr {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u(2),
            gso_size: u(4),
            csum_start: u(6),
            csum_offset: u(8),
        }
    }

    /// Encodes the 10 header bytes.
    pub fn to_bytes(self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
        b
    }

    /// A GSO super-frame (to be segmented by whoever cannot carry it).
    pub fn is_gso(&self) -> bool {
        self.gso_type & !GSO_ECN != GSO_NONE
    }

    /// The checksum from `csum_start` is still to be computed.
    pub fn needs_csum(&self) -> bool {
        self.flags & F_NEEDS_CSUM != 0
    }

    /// Neither GSO nor a partial checksum: any port can take the frame as is.
    pub fn is_plain(&self) -> bool {
        !self.is_gso() && !self.needs_csum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = VnetHdr {
            flags: 1,
            gso_type: GSO_TCPV4,
            hdr_len: 66,
            gso_size: 1448,
            csum_start: 34,
            csum_offset: 16,
        };
        assert_eq!(VnetHdr::from_bytes(&h.to_bytes()), h);
    }
}

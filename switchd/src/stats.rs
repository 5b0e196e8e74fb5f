//! Drop reasons and per-port counters.
//!
//! Every frame the switch does not deliver has exactly one named
//! [`DropReason`], counted on one port: reasons found while receiving
//! (malformed frame, VLAN admission, ...) on the ingress port, reasons found
//! while sending (too big for the egress MTU, queue full, device error) on
//! the egress port. Tunnel packets that cannot be given to any port (bad
//! outer header, unknown peer or VNI/key) are counted on their tunnel
//! endpoint instead, with the `tunnel-*` reasons. Counters are plain `u64`s
//! owned by the engine thread, so counting is an add, never a lock or a log
//! line.

use std::collections::BTreeMap;

/// Why a frame (or one egress copy of it) was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Shorter than an Ethernet header (14 bytes).
    Runt,
    /// Ethertype 0x8100/0x88a8 but fewer than 4 bytes of tag after it.
    TruncatedTag,
    /// Multicast or all-zero source MAC: never learned, never forwarded.
    BadSource,
    /// Destination in 01:80:c2:00:00:00–0f (STP, LACP, pause, 802.1X).
    ReservedDestination,
    /// The ingress port's VLAN configuration does not admit the frame.
    VlanIngress,
    /// Known unicast whose destination was learned on the ingress port.
    LearnedOnIngress,
    /// The frame, as it would leave, exceeds the egress port's MTU.
    TooBig,
    /// The egress device did not take the frame (EAGAIN/ENOBUFS).
    TxQueueFull,
    /// The egress device failed to send the frame.
    TxError,
    /// A tunnel packet shorter than its headers (VXLAN, GRE, outer IPv4).
    TunnelTruncated,
    /// VXLAN flags other than exactly the I bit, or reserved bits set; GRE
    /// flags other than C, K and S.
    TunnelBadFlags,
    /// A GRE header whose version is not 0.
    TunnelBadVersion,
    /// A GRE packet whose protocol is not Ethernet (0x6558).
    TunnelNotEthernet,
    /// A GRE packet whose checksum (C bit) is wrong.
    TunnelBadChecksum,
    /// A tunnel packet from a known peer with a VNI or GRE key no port has.
    TunnelUnknownKey,
    /// A tunnel packet from an address no tunnel port has as `remote_ip`.
    TunnelUnknownPeer,
    /// A virtio-net (offload) header that does not match its frame, found
    /// when the frame had to be checksummed or segmented in software.
    BadOffload,
    /// A GSO super-frame of a kind switchd cannot segment in software
    /// (only TCP and UDP_L4 are), bound for a port without offloads.
    GsoUnsupported,
    /// The egress device's link is down (a TAP whose host side is down).
    LinkDown,
    /// The kernel dropped the frame before switchd could read it: the
    /// port's receive queue was full (AF_PACKET `PACKET_STATISTICS`).
    RxQueueFull,
    /// Received on a port that spanning tree holds discarding (neither
    /// learned from nor forwarded; BPDUs are not counted here).
    StpDiscarding,
    /// Received on a port in spanning tree's learning state: the source
    /// was learned, the frame not forwarded.
    StpLearning,
    /// A frame to the bridge group address on a port of an RSTP bridge
    /// that is not a valid BPDU (truncated, wrong LLC, bad protocol id...).
    BadBpdu,
    /// A slow-protocols frame on a member of an LACP bond that is not a
    /// valid LACPDU.
    BadLacpdu,
    /// Received on a bond member the bond does not take it from (a backup
    /// member, a broadcast on a non-active SLB member, a frame whose source
    /// is learned on another port: SPEC §8).
    BondInactiveMember,
    /// No flow of the bridge's flow tables matched the frame (SPEC §9).
    NoFlowMatch,
    /// `resubmit`/`goto_table` nested deeper than 64 (SPEC §9).
    FlowRecursion,
    /// `dec_ttl` on a TTL / hop limit of 0 or 1.
    TtlExceeded,
    /// A flow asked for something switchd cannot do to this frame:
    /// `push_vlan` on a frame that already has a tag (switchd carries one
    /// tag), or a rewrite the frame's headers do not allow.
    FlowUnsupported,
    /// Received on a mirror's output port, which carries only mirror
    /// traffic (SPEC §11): neither learned from nor forwarded.
    MirrorOutputPort,
    /// Over the port's `ingress_policing_rate` (SPEC §12).
    Policed,
    /// Over the port's `egress_policing_rate` (SPEC §12).
    TxPoliced,
    /// Dropped by a band of the meter a flow sent the frame through
    /// (`meter:N`, SPEC §12).
    Metered,
}

impl DropReason {
    /// Number of reasons.
    pub const COUNT: usize = 33;

    /// Every reason, in [`DropReason::index`] order.
    pub const ALL: [DropReason; Self::COUNT] = [
        DropReason::Runt,
        DropReason::TruncatedTag,
        DropReason::BadSource,
        DropReason::ReservedDestination,
        DropReason::VlanIngress,
        DropReason::LearnedOnIngress,
        DropReason::TooBig,
        DropReason::TxQueueFull,
        DropReason::TxError,
        DropReason::TunnelTruncated,
        DropReason::TunnelBadFlags,
        DropReason::TunnelBadVersion,
        DropReason::TunnelNotEthernet,
        DropReason::TunnelBadChecksum,
        DropReason::TunnelUnknownKey,
        DropReason::TunnelUnknownPeer,
        DropReason::BadOffload,
        DropReason::GsoUnsupported,
        DropReason::LinkDown,
        DropReason::RxQueueFull,
        DropReason::StpDiscarding,
        DropReason::StpLearning,
        DropReason::BadBpdu,
        DropReason::BadLacpdu,
        DropReason::BondInactiveMember,
        DropReason::NoFlowMatch,
        DropReason::FlowRecursion,
        DropReason::TtlExceeded,
        DropReason::FlowUnsupported,
        DropReason::MirrorOutputPort,
        DropReason::Policed,
        DropReason::TxPoliced,
        DropReason::Metered,
    ];

    /// The stable kebab-case name shown to users (`port-stats`, JSON keys).
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Runt => "runt",
            DropReason::TruncatedTag => "truncated-vlan-tag",
            DropReason::BadSource => "bad-source-mac",
            DropReason::ReservedDestination => "reserved-destination",
            DropReason::VlanIngress => "vlan-not-allowed",
            DropReason::LearnedOnIngress => "learned-on-ingress-port",
            DropReason::TooBig => "too-big",
            DropReason::TxQueueFull => "tx-queue-full",
            DropReason::TxError => "tx-error",
            DropReason::TunnelTruncated => "tunnel-truncated",
            DropReason::TunnelBadFlags => "tunnel-bad-flags",
            DropReason::TunnelBadVersion => "tunnel-bad-version",
            DropReason::TunnelNotEthernet => "tunnel-not-ethernet",
            DropReason::TunnelBadChecksum => "tunnel-bad-checksum",
            DropReason::TunnelUnknownKey => "tunnel-unknown-key",
            DropReason::TunnelUnknownPeer => "tunnel-unknown-peer",
            DropReason::BadOffload => "bad-offload-header",
            DropReason::GsoUnsupported => "gso-unsupported",
            DropReason::LinkDown => "link-down",
            DropReason::RxQueueFull => "rx-queue-full",
            DropReason::StpDiscarding => "stp-discarding",
            DropReason::StpLearning => "stp-learning",
            DropReason::BadBpdu => "bad-bpdu",
            DropReason::BadLacpdu => "bad-lacpdu",
            DropReason::BondInactiveMember => "bond-inactive-member",
            DropReason::NoFlowMatch => "no-flow-match",
            DropReason::FlowRecursion => "flow-recursion",
            DropReason::TtlExceeded => "ttl-exceeded",
            DropReason::FlowUnsupported => "flow-unsupported",
            DropReason::MirrorOutputPort => "mirror-output-port",
            DropReason::Policed => "policed",
            DropReason::TxPoliced => "tx-policed",
            DropReason::Metered => "metered",
        }
    }

    /// Whether the reason is found while sending, so it is counted on the
    /// egress port (as `tx_dropped`) rather than the ingress port.
    pub fn is_egress(self) -> bool {
        matches!(
            self,
            DropReason::TooBig
                | DropReason::TxQueueFull
                | DropReason::TxError
                | DropReason::BadOffload
                | DropReason::GsoUnsupported
                | DropReason::LinkDown
                | DropReason::TxPoliced
        )
    }

    /// Position in [`DropReason::ALL`] and in [`PortCounters::drops`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Counters of one port, updated by the engine as frames move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortCounters {
    /// Frames received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Receive errors reported by the device.
    pub rx_errors: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Send errors reported by the device.
    pub tx_errors: u64,
    /// Drops by reason, indexed by [`DropReason::index`].
    pub drops: [u64; DropReason::COUNT],
}

// By hand: `Default` is derived for arrays of at most 32 elements.
impl Default for PortCounters {
    fn default() -> Self {
        PortCounters {
            rx_packets: 0,
            rx_bytes: 0,
            rx_errors: 0,
            tx_packets: 0,
            tx_bytes: 0,
            tx_errors: 0,
            drops: [0; DropReason::COUNT],
        }
    }
}

impl PortCounters {
    /// Counts one drop.
    #[inline]
    pub fn count_drop(&mut self, r: DropReason) {
        self.drops[r.index()] += 1;
    }

    /// Received frames dropped: the sum of the ingress reasons.
    pub fn rx_dropped(&self) -> u64 {
        self.sum(false)
    }

    /// Frames not sent: the sum of the egress reasons.
    pub fn tx_dropped(&self) -> u64 {
        self.sum(true)
    }

    fn sum(&self, egress: bool) -> u64 {
        DropReason::ALL
            .iter()
            .filter(|r| r.is_egress() == egress)
            .map(|r| self.drops[r.index()])
            .sum()
    }

    /// The protocol view for `port-stats`; `drops` lists only the reasons
    /// that occurred, by name.
    pub fn to_proto(&self, bridge: &str, port: &str) -> proto::PortStats {
        let drops: BTreeMap<String, u64> = DropReason::ALL
            .iter()
            .filter(|r| self.drops[r.index()] != 0)
            .map(|r| (r.name().to_owned(), self.drops[r.index()]))
            .collect();
        proto::PortStats {
            bridge: bridge.to_owned(),
            port: port.to_owned(),
            rx_packets: self.rx_packets,
            rx_bytes: self.rx_bytes,
            rx_dropped: self.rx_dropped(),
            rx_errors: self.rx_errors,
            tx_packets: self.tx_packets,
            tx_bytes: self.tx_bytes,
            tx_dropped: self.tx_dropped(),
            tx_errors: self.tx_errors,
            drops,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_index_order_and_names_are_unique() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i, "{r:?}");
        }
        let mut names: Vec<&str> = DropReason::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DropReason::COUNT);
        for n in names {
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{n:?} is not kebab-case"
            );
        }
    }

    #[test]
    fn names_are_stable() {
        // These strings are user-visible (port-stats, JSON); changing one is a
        // protocol change.
        let expect = [
            "runt",
            "truncated-vlan-tag",
            "bad-source-mac",
            "reserved-destination",
            "vlan-not-allowed",
            "learned-on-ingress-port",
            "too-big",
            "tx-queue-full",
            "tx-error",
            "tunnel-truncated",
            "tunnel-bad-flags",
            "tunnel-bad-version",
            "tunnel-not-ethernet",
            "tunnel-bad-checksum",
            "tunnel-unknown-key",
            "tunnel-unknown-peer",
            "bad-offload-header",
            "gso-unsupported",
            "link-down",
            "rx-queue-full",
            "stp-discarding",
            "stp-learning",
            "bad-bpdu",
            "bad-lacpdu",
            "bond-inactive-member",
            "no-flow-match",
            "flow-recursion",
            "ttl-exceeded",
            "flow-unsupported",
            "mirror-output-port",
            "policed",
            "tx-policed",
            "metered",
        ];
        let got: Vec<&str> = DropReason::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn rx_and_tx_dropped_split_by_direction() {
        let mut c = PortCounters::default();
        c.count_drop(DropReason::Runt);
        c.count_drop(DropReason::VlanIngress);
        c.count_drop(DropReason::VlanIngress);
        c.count_drop(DropReason::TooBig);
        c.count_drop(DropReason::TxQueueFull);
        c.count_drop(DropReason::TxError);
        assert_eq!(c.rx_dropped(), 3);
        assert_eq!(c.tx_dropped(), 3);
        assert_eq!(DropReason::ALL.iter().filter(|r| r.is_egress()).count(), 7);
        c.count_drop(DropReason::Policed);
        c.count_drop(DropReason::TxPoliced);
        c.count_drop(DropReason::Metered);
        assert_eq!((c.rx_dropped(), c.tx_dropped()), (5, 4));
    }

    #[test]
    fn to_proto_lists_only_nonzero_reasons() {
        let mut c = PortCounters {
            rx_packets: 10,
            rx_bytes: 640,
            tx_packets: 7,
            tx_bytes: 448,
            ..Default::default()
        };
        c.count_drop(DropReason::BadSource);
        c.count_drop(DropReason::TooBig);
        c.count_drop(DropReason::TooBig);
        let p = c.to_proto("br0", "vnet0");
        assert_eq!((p.bridge.as_str(), p.port.as_str()), ("br0", "vnet0"));
        assert_eq!(
            (p.rx_packets, p.rx_bytes, p.tx_packets, p.tx_bytes),
            (10, 640, 7, 448)
        );
        assert_eq!((p.rx_dropped, p.tx_dropped), (1, 2));
        assert_eq!(p.drops.len(), 2);
        assert_eq!(p.drops["bad-source-mac"], 1);
        assert_eq!(p.drops["too-big"], 2);
    }
}

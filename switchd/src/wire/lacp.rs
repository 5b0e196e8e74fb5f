//! Link Aggregation Control Protocol Data Units (IEEE 802.1AX-2014 6.4.2;
//! 5.4.2 in 802.1AX-2008, 43.4.2 in 802.3-2005): typed parse and encode.
//! No I/O, no state, no heap.
//!
//! An LACPDU travels untagged to the Slow Protocols multicast address
//! 01:80:c2:00:00:02 with ethertype 0x8809 (802.3 Annex 57A), and is
//! always 110 octets after the Ethernet header (a 124-octet frame, well
//! above the 60-octet minimum, so never padded):
//!
//! ```text
//!  offset  size  field (after the Ethernet header; 802.1AX-2014 Figure 6-7)
//!       0     1  Subtype: 1 LACP (2 is the Marker protocol)
//!       1     1  Version Number: 1
//!       2     2  TLV_type 1 (Actor Information), Actor_Information_Length 20
//!       4    18  Actor: System Priority (2), System (6), Key (2),
//!                Port Priority (2), Port (2), State (1), Reserved (3)
//!      22     2  TLV_type 2 (Partner Information), Partner_Information_Length 20
//!      24    18  Partner: the same fields
//!      42     2  TLV_type 3 (Collector Information), Collector_Information_Length 16
//!      44     2  CollectorMaxDelay (tens of microseconds)
//!      46    12  Reserved
//!      58     2  TLV_type 0 (Terminator), Terminator_Length 0
//!      60    50  Reserved
//! ```
//!
//! Contract: [`parse`] accepts any byte slice and either returns a
//! [`Lacpdu`] or names the first rule the bytes break ([`LacpduError`]).
//! Reserved octets are ignored on receipt and written as zeros, as
//! 6.4.2.3 says; trailing octets (an FCS, padding) are ignored. Version 0
//! does not exist and is refused; a higher version (802.1AX-2014's version
//! 2 adds TLVs between the Collector and the Terminator) is read for the
//! version 1 fields, which it keeps at the same offsets, so its Terminator
//! is not checked (forward compatibility; Linux and Open vSwitch check no
//! version at all). [`Lacpdu::emit`] always writes version 1.
//! [`LacpduFrame`] holds a complete frame in a fixed array, which is what
//! the LACP core ([`crate::lacp`]) hands to the engine.

use std::fmt;

/// The Slow Protocols multicast address every LACPDU is sent to (802.3
/// Annex 57A, 802.1AX-2014 6.2.11.2).
pub const SLOW_PROTOCOLS_ADDRESS: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x02];
/// Ethertype of the Slow Protocols.
pub const ETHERTYPE_SLOW_PROTOCOLS: u16 = 0x8809;
/// Slow Protocols subtype of LACP.
pub const SUBTYPE_LACP: u8 = 1;
/// Slow Protocols subtype of the Marker protocol (802.1AX-2014 6.5).
pub const SUBTYPE_MARKER: u8 = 2;
/// The LACP version this codec writes.
pub const VERSION: u8 = 1;
/// Length of an LACPDU after the Ethernet header.
pub const LACPDU_LEN: usize = 110;
/// Length of an untagged Ethernet header.
pub const ETH_HEADER_LEN: usize = 14;
/// Length of a whole LACPDU frame (no FCS).
pub const FRAME_LEN: usize = ETH_HEADER_LEN + LACPDU_LEN;

/// TLV_type of the Actor Information.
pub const TLV_ACTOR: u8 = 1;
/// TLV_type of the Partner Information.
pub const TLV_PARTNER: u8 = 2;
/// TLV_type of the Collector Information.
pub const TLV_COLLECTOR: u8 = 3;
/// TLV_type of the Terminator.
pub const TLV_TERMINATOR: u8 = 0;
/// Actor_Information_Length and Partner_Information_Length.
pub const INFO_LEN: u8 = 20;
/// Collector_Information_Length.
pub const COLLECTOR_LEN: u8 = 16;

/// Offsets inside the LACPDU (after the Ethernet header), 6.4.2.3.
mod field {
    use std::ops::Range;

    pub const SUBTYPE: usize = 0;
    pub const VERSION: usize = 1;
    /// Start of the Actor Information TLV (type, length, 18 octets).
    pub const ACTOR: usize = 2;
    /// Start of the Partner Information TLV.
    pub const PARTNER: usize = 22;
    pub const COLLECTOR: usize = 42;
    pub const COLLECTOR_MAX_DELAY: Range<usize> = 44..46;
    pub const TERMINATOR: usize = 58;

    /// Offsets inside an Actor or Partner Information TLV.
    pub const INFO_SYSTEM_PRIORITY: usize = 2;
    pub const INFO_SYSTEM: Range<usize> = 4..10;
    pub const INFO_KEY: usize = 10;
    pub const INFO_PORT_PRIORITY: usize = 12;
    pub const INFO_PORT: usize = 14;
    pub const INFO_STATE: usize = 16;
}

/// Why a byte sequence is not an LACPDU this system may process, or why
/// one could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LacpduError {
    /// The frame is shorter than an Ethernet header.
    #[error("frame of {len} bytes is shorter than an Ethernet header")]
    FrameTooShort {
        /// Length of the frame.
        len: usize,
    },
    /// The destination is not 01:80:c2:00:00:02.
    #[error("destination is not the Slow Protocols address 01:80:c2:00:00:02")]
    NotSlowProtocolsAddress,
    /// The ethertype is not 0x8809 (a VLAN tag included: LACPDUs are untagged).
    #[error("ethertype {0:#06x} is not Slow Protocols (0x8809)")]
    NotSlowProtocols(u16),
    /// Shorter than the 110 octets of an LACPDU (or than its first two).
    #[error("LACPDU of {len} bytes is shorter than 110")]
    Truncated {
        /// Length of the Slow Protocols payload.
        len: usize,
    },
    /// A Marker PDU (subtype 2): a Slow Protocol, but not LACP.
    #[error("a Marker PDU (subtype 2), not an LACPDU")]
    Marker,
    /// A Slow Protocols subtype other than LACP and Marker.
    #[error("Slow Protocols subtype {0} is not LACP (1)")]
    Subtype(u8),
    /// Version Number 0, which no standard defines.
    #[error("LACP version {0} does not exist")]
    Version(u8),
    /// The Actor Information TLV header is not type 1, length 20.
    #[error("actor TLV has type {tlv_type}, length {length} (not 1, 20)")]
    ActorTlv {
        /// TLV_type found.
        tlv_type: u8,
        /// Length found.
        length: u8,
    },
    /// The Partner Information TLV header is not type 2, length 20.
    #[error("partner TLV has type {tlv_type}, length {length} (not 2, 20)")]
    PartnerTlv {
        /// TLV_type found.
        tlv_type: u8,
        /// Length found.
        length: u8,
    },
    /// The Collector Information TLV header is not type 3, length 16.
    #[error("collector TLV has type {tlv_type}, length {length} (not 3, 16)")]
    CollectorTlv {
        /// TLV_type found.
        tlv_type: u8,
        /// Length found.
        length: u8,
    },
    /// A version 1 LACPDU whose Terminator is not type 0, length 0.
    #[error("terminator TLV has type {tlv_type}, length {length} (not 0, 0)")]
    Terminator {
        /// TLV_type found.
        tlv_type: u8,
        /// Length found.
        length: u8,
    },
    /// The output buffer is too small.
    #[error("buffer of {have} bytes cannot hold {need}")]
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes given.
        have: usize,
    },
}

/// The state octet of an Actor or Partner Information TLV (6.4.2.3 m),
/// bit 0 first. Named like the bitflags crate, without the dependency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct State(pub u8);

impl State {
    /// LACP_Activity: active (1) or passive (0) LACP.
    pub const ACTIVITY: State = State(0x01);
    /// LACP_Timeout: short (1, ask for LACPDUs every second) or long (0).
    pub const TIMEOUT: State = State(0x02);
    /// Aggregation: the link may be aggregated (1) or is individual (0).
    pub const AGGREGATION: State = State(0x04);
    /// Synchronization: the link is attached to the right aggregator.
    pub const SYNCHRONIZATION: State = State(0x08);
    /// Collecting: frames received on the link are collected.
    pub const COLLECTING: State = State(0x10);
    /// Distributing: frames are sent on the link.
    pub const DISTRIBUTING: State = State(0x20);
    /// Defaulted: the partner information in use is the default, none received.
    pub const DEFAULTED: State = State(0x40);
    /// Expired: the receive machine is in its EXPIRED state.
    pub const EXPIRED: State = State(0x80);

    /// Each bit with the name `lacp-show` prints for it, in bit order.
    pub const NAMES: [(State, &'static str); 8] = [
        (State::ACTIVITY, "activity"),
        (State::TIMEOUT, "timeout"),
        (State::AGGREGATION, "aggregation"),
        (State::SYNCHRONIZATION, "synchronization"),
        (State::COLLECTING, "collecting"),
        (State::DISTRIBUTING, "distributing"),
        (State::DEFAULTED, "defaulted"),
        (State::EXPIRED, "expired"),
    ];

    /// No bit set.
    pub const fn empty() -> State {
        State(0)
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: State) -> bool {
        self.0 & other.0 == other.0
    }

    /// The bits of `other` set when `on`, cleared otherwise.
    #[must_use]
    pub const fn with(self, other: State, on: bool) -> State {
        if on {
            State(self.0 | other.0)
        } else {
            State(self.0 & !other.0)
        }
    }

    /// The names of the bits set, in bit order (for `lacp-show`).
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        State::NAMES
            .into_iter()
            .filter(move |(bit, _)| self.contains(*bit))
            .map(|(_, name)| name)
    }
}

impl std::ops::BitOr for State {
    type Output = State;
    fn bitor(self, rhs: State) -> State {
        State(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for State {
    fn bitor_assign(&mut self, rhs: State) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "State({:#04x}:", self.0)?;
        for name in self.names() {
            write!(f, " {name}")?;
        }
        write!(f, ")")
    }
}

/// The contents of an Actor or Partner Information TLV: who sends (the
/// system and its priority, the port and its priority), the key of the
/// port's aggregation, and its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PortInfo {
    /// System Priority.
    pub system_priority: u16,
    /// System: the MAC address that identifies the system.
    pub system: [u8; 6],
    /// Key: ports with the same key (and partner) may aggregate.
    pub key: u16,
    /// Port Priority.
    pub port_priority: u16,
    /// Port number.
    pub port: u16,
    /// State octet.
    pub state: State,
}

impl PortInfo {
    /// Reads the 18 octets after a TLV header; `tlv` starts at the header
    /// and is at least 20 octets long.
    fn read(tlv: &[u8]) -> Self {
        let mut system = [0u8; 6];
        system.copy_from_slice(&tlv[field::INFO_SYSTEM]);
        PortInfo {
            system_priority: u16_at(tlv, field::INFO_SYSTEM_PRIORITY),
            system,
            key: u16_at(tlv, field::INFO_KEY),
            port_priority: u16_at(tlv, field::INFO_PORT_PRIORITY),
            port: u16_at(tlv, field::INFO_PORT),
            state: State(tlv[field::INFO_STATE]),
        }
    }

    /// Writes the TLV (header, fields, zero reserved octets) into `tlv`.
    fn write(&self, tlv_type: u8, tlv: &mut [u8]) {
        tlv[0] = tlv_type;
        tlv[1] = INFO_LEN;
        tlv[field::INFO_SYSTEM_PRIORITY..][..2].copy_from_slice(&self.system_priority.to_be_bytes());
        tlv[field::INFO_SYSTEM].copy_from_slice(&self.system);
        tlv[field::INFO_KEY..][..2].copy_from_slice(&self.key.to_be_bytes());
        tlv[field::INFO_PORT_PRIORITY..][..2].copy_from_slice(&self.port_priority.to_be_bytes());
        tlv[field::INFO_PORT..][..2].copy_from_slice(&self.port.to_be_bytes());
        tlv[field::INFO_STATE] = self.state.0;
        tlv[field::INFO_STATE + 1..usize::from(INFO_LEN)].fill(0);
    }
}

/// A validated LACPDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lacpdu {
    /// The sender's own information.
    pub actor: PortInfo,
    /// What the sender knows of its partner (us, if we are heard).
    pub partner: PortInfo,
    /// CollectorMaxDelay, in tens of microseconds (6.4.2.3 w). Open vSwitch
    /// sends 0, and so do we.
    pub collector_max_delay: u16,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Parses a Slow Protocols payload (the bytes after the Ethernet header)
/// as an LACPDU, checking in this order: subtype, version, length, the
/// Actor, Partner and Collector TLV headers, and for version 1 the
/// Terminator.
///
/// # Errors
/// A [`LacpduError`] naming the first rule the bytes break.
pub fn parse(payload: &[u8]) -> Result<Lacpdu, LacpduError> {
    let truncated = LacpduError::Truncated { len: payload.len() };
    let Some(&[subtype, version]) = payload.first_chunk::<2>() else {
        return Err(truncated);
    };
    match subtype {
        SUBTYPE_LACP => {}
        SUBTYPE_MARKER => return Err(LacpduError::Marker),
        other => return Err(LacpduError::Subtype(other)),
    }
    if version == 0 {
        return Err(LacpduError::Version(version));
    }
    let b = payload.first_chunk::<LACPDU_LEN>().ok_or(truncated)?;
    let header = |at: usize| (b[at], b[at + 1]);
    let (tlv_type, length) = header(field::ACTOR);
    if (tlv_type, length) != (TLV_ACTOR, INFO_LEN) {
        return Err(LacpduError::ActorTlv { tlv_type, length });
    }
    let (tlv_type, length) = header(field::PARTNER);
    if (tlv_type, length) != (TLV_PARTNER, INFO_LEN) {
        return Err(LacpduError::PartnerTlv { tlv_type, length });
    }
    let (tlv_type, length) = header(field::COLLECTOR);
    if (tlv_type, length) != (TLV_COLLECTOR, COLLECTOR_LEN) {
        return Err(LacpduError::CollectorTlv { tlv_type, length });
    }
    let (tlv_type, length) = header(field::TERMINATOR);
    if version == VERSION && (tlv_type, length) != (TLV_TERMINATOR, 0) {
        return Err(LacpduError::Terminator { tlv_type, length });
    }
    Ok(Lacpdu {
        actor: PortInfo::read(&b[field::ACTOR..]),
        partner: PortInfo::read(&b[field::PARTNER..]),
        collector_max_delay: u16_at(b, field::COLLECTOR_MAX_DELAY.start),
    })
}

/// The Slow Protocols payload of an Ethernet frame that claims to carry an
/// LACPDU: checks the destination (01:80:c2:00:00:02) and the ethertype
/// (0x8809, untagged) and returns the bytes after the header, ready for
/// [`parse`] or [`crate::lacp::Lacp::receive`].
///
/// # Errors
/// [`LacpduError::FrameTooShort`], [`LacpduError::NotSlowProtocolsAddress`]
/// or [`LacpduError::NotSlowProtocols`].
pub fn slow_protocols_payload(frame: &[u8]) -> Result<&[u8], LacpduError> {
    let Some((header, rest)) = frame.split_first_chunk::<ETH_HEADER_LEN>() else {
        return Err(LacpduError::FrameTooShort { len: frame.len() });
    };
    if header[..6] != SLOW_PROTOCOLS_ADDRESS {
        return Err(LacpduError::NotSlowProtocolsAddress);
    }
    let ethertype = u16_at(header, 12);
    if ethertype != ETHERTYPE_SLOW_PROTOCOLS {
        return Err(LacpduError::NotSlowProtocols(ethertype));
    }
    Ok(rest)
}

impl Lacpdu {
    /// Writes the LACPDU (version 1, reserved octets zero) at the start of
    /// `buf` and returns [`LACPDU_LEN`].
    ///
    /// # Errors
    /// [`LacpduError::BufferTooSmall`] if `buf` is shorter than [`LACPDU_LEN`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, LacpduError> {
        let have = buf.len();
        let Some(b) = buf.first_chunk_mut::<LACPDU_LEN>() else {
            return Err(LacpduError::BufferTooSmall {
                need: LACPDU_LEN,
                have,
            });
        };
        b.fill(0);
        b[field::SUBTYPE] = SUBTYPE_LACP;
        b[field::VERSION] = VERSION;
        self.actor.write(TLV_ACTOR, &mut b[field::ACTOR..]);
        self.partner.write(TLV_PARTNER, &mut b[field::PARTNER..]);
        b[field::COLLECTOR] = TLV_COLLECTOR;
        b[field::COLLECTOR + 1] = COLLECTOR_LEN;
        b[field::COLLECTOR_MAX_DELAY].copy_from_slice(&self.collector_max_delay.to_be_bytes());
        // The Terminator (type 0, length 0) and the reserved octets are
        // the zeros written above.
        Ok(LACPDU_LEN)
    }

    /// Writes a whole Ethernet frame carrying the LACPDU into `buf`: the
    /// Slow Protocols address, `src`, ethertype 0x8809, the LACPDU.
    /// Returns [`FRAME_LEN`].
    ///
    /// # Errors
    /// [`LacpduError::BufferTooSmall`] if `buf` is shorter than [`FRAME_LEN`].
    pub fn emit_frame(&self, src: [u8; 6], buf: &mut [u8]) -> Result<usize, LacpduError> {
        let have = buf.len();
        let Some(frame) = buf.first_chunk_mut::<FRAME_LEN>() else {
            return Err(LacpduError::BufferTooSmall {
                need: FRAME_LEN,
                have,
            });
        };
        frame[..6].copy_from_slice(&SLOW_PROTOCOLS_ADDRESS);
        frame[6..12].copy_from_slice(&src);
        frame[12..14].copy_from_slice(&ETHERTYPE_SLOW_PROTOCOLS.to_be_bytes());
        self.emit(&mut frame[ETH_HEADER_LEN..])?;
        Ok(FRAME_LEN)
    }
}

/// A complete LACPDU frame in a fixed array, with its length (always
/// [`FRAME_LEN`] today), as the LACP core hands it to the engine.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LacpduFrame {
    bytes: [u8; FRAME_LEN],
    len: usize,
}

impl LacpduFrame {
    /// The frame carrying `pdu` from source MAC `src`.
    pub fn new(pdu: &Lacpdu, src: [u8; 6]) -> Self {
        let mut bytes = [0u8; FRAME_LEN];
        // Cannot fail: the buffer is exactly FRAME_LEN long.
        let len = pdu.emit_frame(src, &mut bytes).unwrap_or(FRAME_LEN);
        LacpduFrame { bytes, len }
    }

    /// The frame bytes, ready to send.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The bytes after the Ethernet header, what a receiver passes to
    /// [`parse`] or [`crate::lacp::Lacp::receive`].
    pub fn payload(&self) -> &[u8] {
        &self.bytes[ETH_HEADER_LEN..self.len]
    }

    /// Replaces the source MAC: the core writes the actor's system MAC,
    /// and the engine may put the sending member's own address there (as
    /// Open vSwitch does).
    pub fn set_source(&mut self, src: [u8; 6]) {
        self.bytes[6..12].copy_from_slice(&src);
    }

    /// The LACPDU this frame carries.
    ///
    /// # Errors
    /// None for a frame built by [`LacpduFrame::new`]; the [`parse`] error otherwise.
    pub fn lacpdu(&self) -> Result<Lacpdu, LacpduError> {
        parse(self.payload())
    }
}

impl fmt::Debug for LacpduFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.lacpdu() {
            Ok(p) => f.debug_tuple("LacpduFrame").field(&p).finish(),
            Err(e) => f.debug_tuple("LacpduFrame").field(&e).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An LACPDU as Open vSwitch (lib/lacp.c, compose_lacp_pdu) sends it
    /// from a negotiated two-member bond with `lacp-time=fast`, laid out by
    /// 802.1AX-2014 Figure 6-7: system priority 65534 (bridge.c's default
    /// for a bond of two or more), system aa:bb:cc:dd:ee:01, key 1 (the
    /// first member's port number), port priority 65535, port 1, state
    /// activity+timeout+aggregation+synchronization+collecting+distributing;
    /// its partner: us, 02:00:00:00:00:0a priority 65534 key 7 port 3
    /// priority 255 with the same state bits minus timeout; collector
    /// delay 0. Source: the member's MAC aa:bb:cc:dd:ee:11. `tshark -V`
    /// (Wireshark 4) decodes these bytes, written to a pcap, field for
    /// field as described here.
    #[rustfmt::skip]
    const OVS_LACPDU: [u8; FRAME_LEN] = [
        0x01, 0x80, 0xc2, 0x00, 0x00, 0x02, // dst: Slow Protocols
        0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x11, // src
        0x88, 0x09,                         // ethertype
        0x01, 0x01,                         // subtype LACP, version 1
        0x01, 0x14,                         // actor TLV, 20
        0xff, 0xfe,                         // system priority 65534
        0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01, // system
        0x00, 0x01,                         // key 1
        0xff, 0xff,                         // port priority 65535
        0x00, 0x01,                         // port 1
        0x3f,                               // state
        0x00, 0x00, 0x00,                   // reserved
        0x02, 0x14,                         // partner TLV, 20
        0xff, 0xfe,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
        0x00, 0x07,
        0x00, 0xff,
        0x00, 0x03,
        0x3d,
        0x00, 0x00, 0x00,
        0x03, 0x10,                         // collector TLV, 16
        0x00, 0x00,                         // collector max delay 0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // reserved
        0x00, 0x00,                         // terminator
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // reserved (50)
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    fn ovs_payload() -> [u8; LACPDU_LEN] {
        *OVS_LACPDU[ETH_HEADER_LEN..].first_chunk().unwrap()
    }

    #[test]
    fn ovs_lacpdu_fields() {
        let payload = slow_protocols_payload(&OVS_LACPDU).unwrap();
        assert_eq!(payload.len(), LACPDU_LEN);
        let pdu = parse(payload).unwrap();
        let a = pdu.actor;
        assert_eq!(a.system_priority, 65534);
        assert_eq!(a.system, [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01]);
        assert_eq!((a.key, a.port_priority, a.port), (1, 65535, 1));
        assert_eq!(
            a.state.names().collect::<Vec<_>>(),
            [
                "activity",
                "timeout",
                "aggregation",
                "synchronization",
                "collecting",
                "distributing"
            ]
        );
        let p = pdu.partner;
        assert_eq!(p.system_priority, 65534);
        assert_eq!(p.system, [2, 0, 0, 0, 0, 0x0a]);
        assert_eq!((p.key, p.port_priority, p.port), (7, 255, 3));
        assert!(!p.state.contains(State::TIMEOUT));
        assert!(p.state.contains(State::ACTIVITY | State::SYNCHRONIZATION));
        assert_eq!(pdu.collector_max_delay, 0);
        // And we write the very same bytes.
        let frame = LacpduFrame::new(&pdu, [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x11]);
        assert_eq!(frame.as_bytes(), &OVS_LACPDU[..]);
        assert_eq!(frame.payload(), payload);
        assert_eq!(frame.lacpdu(), Ok(pdu));
    }

    #[test]
    fn reserved_and_trailing_octets_are_ignored() {
        let mut long = [0xeeu8; 140];
        long[..LACPDU_LEN].copy_from_slice(&ovs_payload());
        for at in [19, 20, 21, 39, 40, 41, 46, 57, 60, 109] {
            long[at] = 0x5a;
        }
        assert_eq!(parse(&long), parse(&ovs_payload()));
    }

    #[test]
    fn every_malformation_has_its_error() {
        let good = ovs_payload();
        let with = |at: usize, v: u8| {
            let mut b = good;
            b[at] = v;
            parse(&b)
        };
        assert_eq!(parse(&[]), Err(LacpduError::Truncated { len: 0 }));
        assert_eq!(parse(&good[..1]), Err(LacpduError::Truncated { len: 1 }));
        assert_eq!(parse(&good[..109]), Err(LacpduError::Truncated { len: 109 }));
        assert_eq!(with(0, 2), Err(LacpduError::Marker));
        assert_eq!(with(0, 0), Err(LacpduError::Subtype(0)));
        assert_eq!(with(0, 10), Err(LacpduError::Subtype(10)));
        // the subtype is checked before the length
        assert_eq!(parse(&[2, 1]), Err(LacpduError::Marker));
        assert_eq!(with(1, 0), Err(LacpduError::Version(0)));
        assert_eq!(
            with(2, 2),
            Err(LacpduError::ActorTlv {
                tlv_type: 2,
                length: 20
            })
        );
        assert_eq!(
            with(3, 19),
            Err(LacpduError::ActorTlv {
                tlv_type: 1,
                length: 19
            })
        );
        assert_eq!(
            with(22, 1),
            Err(LacpduError::PartnerTlv {
                tlv_type: 1,
                length: 20
            })
        );
        assert_eq!(
            with(23, 0),
            Err(LacpduError::PartnerTlv {
                tlv_type: 2,
                length: 0
            })
        );
        assert_eq!(
            with(42, 0),
            Err(LacpduError::CollectorTlv {
                tlv_type: 0,
                length: 16
            })
        );
        assert_eq!(
            with(43, 20),
            Err(LacpduError::CollectorTlv {
                tlv_type: 3,
                length: 20
            })
        );
        assert_eq!(
            with(58, 4),
            Err(LacpduError::Terminator {
                tlv_type: 4,
                length: 0
            })
        );
        assert_eq!(
            with(59, 1),
            Err(LacpduError::Terminator {
                tlv_type: 0,
                length: 1
            })
        );
        // Version 2 (802.1AX-2014) puts TLVs where version 1 has its
        // Terminator: its version 1 fields are read, the rest skipped.
        let mut v2 = good;
        v2[1] = 2;
        v2[58..62].copy_from_slice(&[4, 4, 0, 1]);
        assert_eq!(parse(&v2), parse(&good));
        v2[43] = 17;
        assert_eq!(
            parse(&v2),
            Err(LacpduError::CollectorTlv {
                tlv_type: 3,
                length: 17
            })
        );
    }

    #[test]
    fn frame_checks() {
        assert_eq!(
            slow_protocols_payload(&OVS_LACPDU[..13]),
            Err(LacpduError::FrameTooShort { len: 13 })
        );
        let mut f = OVS_LACPDU;
        f[5] = 0;
        assert_eq!(
            slow_protocols_payload(&f),
            Err(LacpduError::NotSlowProtocolsAddress)
        );
        let mut f = OVS_LACPDU;
        f[12..14].copy_from_slice(&[0x81, 0x00]);
        assert_eq!(
            slow_protocols_payload(&f),
            Err(LacpduError::NotSlowProtocols(0x8100))
        );
        // A header alone is a (truncated) payload of 0 bytes.
        assert_eq!(slow_protocols_payload(&OVS_LACPDU[..14]), Ok(&[][..]));
        let pdu = Lacpdu::default();
        let mut small = [0u8; FRAME_LEN - 1];
        assert_eq!(
            pdu.emit_frame([2; 6], &mut small),
            Err(LacpduError::BufferTooSmall {
                need: FRAME_LEN,
                have: FRAME_LEN - 1
            })
        );
        assert_eq!(
            pdu.emit(&mut small[..LACPDU_LEN - 1]),
            Err(LacpduError::BufferTooSmall {
                need: LACPDU_LEN,
                have: LACPDU_LEN - 1
            })
        );
        let mut frame = LacpduFrame::new(&pdu, [2; 6]);
        frame.set_source([4; 6]);
        assert_eq!(&frame.as_bytes()[6..12], &[4; 6]);
        assert_eq!(frame.as_bytes().len(), FRAME_LEN);
    }

    #[test]
    fn state_bits_and_names() {
        assert_eq!(State::empty().names().count(), 0);
        let all = State(0xff);
        assert_eq!(
            all.names().collect::<Vec<_>>(),
            State::NAMES.map(|(_, n)| n).to_vec()
        );
        for (i, (bit, _)) in State::NAMES.iter().enumerate() {
            assert_eq!(bit.0, 1 << i);
        }
        let s = State::ACTIVITY | State::EXPIRED;
        assert_eq!(s, State(0x81));
        assert!(s.contains(State::EXPIRED) && !s.contains(State::DEFAULTED));
        assert_eq!(s.with(State::EXPIRED, false), State::ACTIVITY);
        assert_eq!(s.with(State::TIMEOUT, true), State(0x83));
        let mut t = State::empty();
        t |= State::DEFAULTED;
        assert_eq!(format!("{t:?}"), "State(0x40: defaulted)");
    }

    fn arb_info() -> impl Strategy<Value = PortInfo> {
        (any::<u16>(), any::<[u8; 6]>(), any::<[u16; 3]>(), any::<u8>()).prop_map(|(sp, system, n, s)| {
            PortInfo {
                system_priority: sp,
                system,
                key: n[0],
                port_priority: n[1],
                port: n[2],
                state: State(s),
            }
        })
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
            let _ = parse(&bytes);
            let _ = slow_protocols_payload(&bytes);
        }

        #[test]
        fn parse_never_panics_near_a_valid_lacpdu(
            edits in proptest::collection::vec((0usize..LACPDU_LEN, any::<u8>()), 0..6),
            cut in 0usize..=LACPDU_LEN,
        ) {
            let mut b = ovs_payload();
            for (at, v) in edits {
                b[at] = v;
            }
            let _ = parse(&b[..cut]);
            if let Ok(pdu) = parse(&b) {
                // Whatever was accepted re-encodes to something that
                // parses to the same thing.
                let mut again = [0u8; LACPDU_LEN];
                pdu.emit(&mut again).unwrap();
                prop_assert_eq!(parse(&again), Ok(pdu));
            }
        }

        #[test]
        fn encode_then_parse_round_trips(
            actor in arb_info(), partner in arb_info(), delay in any::<u16>(), src in any::<[u8; 6]>(),
        ) {
            let pdu = Lacpdu { actor, partner, collector_max_delay: delay };
            let frame = LacpduFrame::new(&pdu, src);
            prop_assert_eq!(frame.as_bytes().len(), FRAME_LEN);
            prop_assert_eq!(&frame.as_bytes()[6..12], &src[..]);
            prop_assert_eq!(slow_protocols_payload(frame.as_bytes()), Ok(frame.payload()));
            prop_assert_eq!(frame.lacpdu(), Ok(pdu));
        }
    }
}

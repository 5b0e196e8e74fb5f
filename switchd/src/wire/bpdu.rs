//! Bridge Protocol Data Units (IEEE 802.1D-2004 clause 9): typed parse and
//! encode of configuration, TCN and RST BPDUs. No I/O, no state, no heap.
//!
//! A BPDU travels in an 802.3 frame (a length, not an ethertype, after the
//! MAC addresses) to the bridge group address 01:80:c2:00:00:00, behind the
//! LLC header `42 42 03` (DSAP, SSAP: the spanning tree SAP; control: UI):
//!
//! ```text
//!  offset  size  field (offsets inside the BPDU, after the LLC header; 9.3)
//!       0     2  Protocol Identifier, 0
//!       2     1  Protocol Version Identifier: 0 STP, 2 RSTP (3 MSTP)
//!       3     1  BPDU Type: 0x00 Configuration, 0x80 TCN, 0x02 RST
//!       4     1  Flags (9.3.3): TC 0x01, Proposal 0x02, Port Role 0x0c,
//!                Learning 0x10, Forwarding 0x20, Agreement 0x40, TC Ack 0x80
//!       5     8  Root Identifier
//!      13     4  Root Path Cost
//!      17     8  Bridge Identifier
//!      25     2  Port Identifier
//!      27     2  Message Age      } timers in units of 1/256 s
//!      29     2  Max Age          }
//!      31     2  Hello Time       }
//!      33     2  Forward Delay    }
//!      35     1  Version 1 Length, 0 (RST BPDUs only)
//! ```
//!
//! A TCN BPDU is only the first four octets, a configuration BPDU the first
//! 35 and an RST BPDU all 36.
//!
//! Contract: [`parse`] accepts any byte slice and either returns a [`Bpdu`]
//! or says precisely why not ([`BpduError`]); it applies the validation of
//! 802.1D-2004 §9.3.4 that needs no knowledge of the receiving port (the one
//! that does, a configuration BPDU carrying the port's own identifiers, is
//! checked by [`crate::rstp::Rstp::receive`]). Trailing octets after the
//! BPDU (Ethernet padding, the MSTP extension of a version 3 BPDU) are
//! ignored. [`Bpdu::emit_frame`] and [`BpduFrame`] write a complete frame,
//! padded to the 60-octet Ethernet minimum, into memory the caller owns.
//!
//! Timers stay in 1/256 s ([`Time`]) here, exactly as on the wire; the
//! protocol works in whole seconds and converts with [`Time::secs`] and
//! [`Time::from_secs`].

use std::fmt;

/// The bridge group address every BPDU is sent to (802.1D-2004 Table 7-10).
pub const BRIDGE_GROUP_ADDRESS: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x00];
/// LLC header of a BPDU: DSAP and SSAP 0x42 (spanning tree), control 0x03 (UI).
pub const LLC_HEADER: [u8; 3] = [0x42, 0x42, 0x03];
/// Length of a TCN BPDU.
pub const TCN_LEN: usize = 4;
/// Length of a configuration BPDU.
pub const CONFIG_LEN: usize = 35;
/// Length of an RST BPDU.
pub const RST_LEN: usize = 36;
/// Length of an Ethernet header with an 802.3 length field.
pub const ETH_HEADER_LEN: usize = 14;
/// Every frame [`Bpdu::emit_frame`] writes is this long: the Ethernet
/// minimum without FCS, the BPDU followed by zero padding.
pub const FRAME_LEN: usize = 60;

/// BPDU Type of a configuration BPDU.
pub const TYPE_CONFIG: u8 = 0x00;
/// BPDU Type of an RST BPDU.
pub const TYPE_RST: u8 = 0x02;
/// BPDU Type of a topology change notification BPDU.
pub const TYPE_TCN: u8 = 0x80;

/// Offsets inside the BPDU (after the LLC header), 802.1D-2004 9.3.
mod field {
    use std::ops::Range;

    pub const PROTOCOL_ID: Range<usize> = 0..2;
    pub const VERSION: usize = 2;
    pub const TYPE: usize = 3;
    pub const FLAGS: usize = 4;
    pub const ROOT_ID: Range<usize> = 5..13;
    pub const ROOT_PATH_COST: Range<usize> = 13..17;
    pub const BRIDGE_ID: Range<usize> = 17..25;
    pub const PORT_ID: Range<usize> = 25..27;
    pub const MESSAGE_AGE: Range<usize> = 27..29;
    pub const MAX_AGE: Range<usize> = 29..31;
    pub const HELLO_TIME: Range<usize> = 31..33;
    pub const FORWARD_DELAY: Range<usize> = 33..35;
    pub const VERSION1_LENGTH: usize = 35;
}

/// Why a byte sequence is not a BPDU this bridge may process, or why a
/// BPDU could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BpduError {
    /// The frame is shorter than an Ethernet header.
    #[error("frame of {len} bytes is shorter than an Ethernet header")]
    FrameTooShort {
        /// Length of the frame.
        len: usize,
    },
    /// The destination is not 01:80:c2:00:00:00.
    #[error("destination is not the bridge group address 01:80:c2:00:00:00")]
    NotBridgeGroupAddress,
    /// The field after the source MAC is an ethertype, not an 802.3 length.
    #[error("type/length field {0:#06x} is not an 802.3 length")]
    NotLengthField(u16),
    /// The 802.3 length runs past the end of the frame.
    #[error("802.3 length {length} exceeds the {available} bytes after the header")]
    LengthExceedsFrame {
        /// Value of the length field.
        length: usize,
        /// Bytes present after the Ethernet header.
        available: usize,
    },
    /// Too short for an LLC header and the four octets every BPDU has.
    #[error("LLC payload of {len} bytes is too short for a BPDU")]
    Truncated {
        /// Length of the LLC payload.
        len: usize,
    },
    /// The LLC header is not `42 42 03`.
    #[error("LLC header {0:02x?} is not 42 42 03")]
    NotStpLlc([u8; 3]),
    /// The Protocol Identifier is not 0 (9.3.4).
    #[error("protocol identifier {0:#06x} is not the spanning tree protocol (0)")]
    ProtocolId(u16),
    /// A configuration BPDU shorter than 35 octets (9.3.4 a).
    #[error("configuration BPDU of {len} bytes is shorter than 35")]
    ShortConfig {
        /// Length of the BPDU.
        len: usize,
    },
    /// An RST BPDU shorter than 36 octets (9.3.4 c).
    #[error("RST BPDU of {len} bytes is shorter than 36")]
    ShortRst {
        /// Length of the BPDU.
        len: usize,
    },
    /// A configuration BPDU whose Message Age is not below its Max Age
    /// (9.3.4 a): the information has expired on its way here.
    #[error("message age {message_age}/256 s is not below max age {max_age}/256 s")]
    Expired {
        /// Message Age, 1/256 s.
        message_age: u16,
        /// Max Age, 1/256 s.
        max_age: u16,
    },
    /// A BPDU Type this standard does not define, or type 0x02 with a
    /// protocol version below 2.
    #[error("BPDU type {bpdu_type:#04x} with protocol version {version} is not a config, TCN or RST BPDU")]
    UnknownType {
        /// Protocol Version Identifier.
        version: u8,
        /// BPDU Type.
        bpdu_type: u8,
    },
    /// A configuration BPDU that carries the receiving port's own bridge
    /// and port identifiers: our own BPDU looped back (9.3.4 a).
    #[error("configuration BPDU carries this port's own bridge and port identifiers")]
    OwnBpdu,
    /// The output buffer is too small.
    #[error("buffer of {have} bytes cannot hold {need}")]
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes given.
        have: usize,
    },
}

/// A bridge identifier (802.1D-2004 9.2.5): 4 bits of priority, 12 bits of
/// system id extension (always 0 here) and the bridge's MAC address, as one
/// 64-bit number so that comparing two of them compares them as 17.6 says.
/// Displayed as `PPPP.MMMMMMMMMMMM`, e.g. `8000.020000000001`.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub struct BridgeId(pub u64);

impl BridgeId {
    /// The identifier of a bridge with `priority` (its low 12 bits, the
    /// system id extension, are kept as given) and MAC address `mac`.
    pub fn new(priority: u16, mac: [u8; 6]) -> Self {
        let [p0, p1] = priority.to_be_bytes();
        BridgeId(u64::from_be_bytes([
            p0, p1, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
        ]))
    }

    /// The first two octets: priority plus system id extension.
    pub fn priority(self) -> u16 {
        (self.0 >> 48) as u16
    }

    /// The Bridge Address component (the MAC address).
    pub fn mac(self) -> [u8; 6] {
        let b = self.0.to_be_bytes();
        [b[2], b[3], b[4], b[5], b[6], b[7]]
    }

    /// The eight octets as they appear in a BPDU.
    pub fn to_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }
}

impl fmt::Display for BridgeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}.{:012x}", self.priority(), self.0 & 0xffff_ffff_ffff)
    }
}

impl fmt::Debug for BridgeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A timer value on the wire: 1/256 s (9.2.8).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize,
)]
pub struct Time(pub u16);

impl Time {
    /// `secs` whole seconds.
    pub fn from_secs(secs: u8) -> Self {
        Time(u16::from(secs) << 8)
    }

    /// Rounded to the nearest whole second, as 17.21.25 rounds the Message
    /// Age (a kernel bridge sends fractions).
    pub fn secs(self) -> u8 {
        ((u32::from(self.0) + 128) >> 8).min(255) as u8
    }
}

/// The role a port announces in the flags of an RST BPDU (9.2.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum WireRole {
    /// 0: Unknown. 9.2.9: the receiver treats the BPDU as a configuration BPDU.
    Unknown,
    /// 1: Alternate or Backup Port.
    AlternateOrBackup,
    /// 2: Root Port.
    Root,
    /// 3: Designated Port.
    Designated,
}

/// The flags octet (9.3.3). A configuration BPDU uses only
/// [`Flags::TC`] and [`Flags::TC_ACK`]; an RST BPDU all but `TC_ACK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Flags(pub u8);

impl Flags {
    /// Topology Change.
    pub const TC: u8 = 0x01;
    /// Proposal.
    pub const PROPOSAL: u8 = 0x02;
    /// Port Role (two bits, see [`WireRole`]).
    pub const ROLE_MASK: u8 = 0x0c;
    /// Learning.
    pub const LEARNING: u8 = 0x10;
    /// Forwarding.
    pub const FORWARDING: u8 = 0x20;
    /// Agreement.
    pub const AGREEMENT: u8 = 0x40;
    /// Topology Change Acknowledgment.
    pub const TC_ACK: u8 = 0x80;

    /// Whether every bit of `bits` is set.
    pub fn has(self, bits: u8) -> bool {
        self.0 & bits == bits
    }

    /// `bits` set when `on`.
    #[must_use]
    pub fn with(self, bits: u8, on: bool) -> Self {
        if on {
            Flags(self.0 | bits)
        } else {
            Flags(self.0 & !bits)
        }
    }

    /// The Port Role field.
    pub fn role(self) -> WireRole {
        match (self.0 & Self::ROLE_MASK) >> 2 {
            0 => WireRole::Unknown,
            1 => WireRole::AlternateOrBackup,
            2 => WireRole::Root,
            _ => WireRole::Designated,
        }
    }

    /// The Port Role field set to `role`.
    #[must_use]
    pub fn with_role(self, role: WireRole) -> Self {
        let bits = match role {
            WireRole::Unknown => 0,
            WireRole::AlternateOrBackup => 1,
            WireRole::Root => 2,
            WireRole::Designated => 3,
        };
        Flags((self.0 & !Self::ROLE_MASK) | (bits << 2))
    }
}

/// The parameters a configuration or RST BPDU carries (a "Configuration
/// Message", 17.21.8): a priority vector, the timers, and the flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ConfigMessage {
    /// Flags octet.
    pub flags: Flags,
    /// Root Identifier.
    pub root: BridgeId,
    /// Root Path Cost.
    pub root_path_cost: u32,
    /// Bridge Identifier (of the transmitting, i.e. designated, bridge).
    pub bridge: BridgeId,
    /// Port Identifier (of the transmitting port).
    pub port: u16,
    /// Message Age.
    pub message_age: Time,
    /// Max Age.
    pub max_age: Time,
    /// Hello Time.
    pub hello_time: Time,
    /// Forward Delay.
    pub forward_delay: Time,
}

/// A validated BPDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Bpdu {
    /// Configuration BPDU (type 0x00), sent with protocol version 0.
    Config(ConfigMessage),
    /// Topology Change Notification BPDU (type 0x80).
    Tcn,
    /// RST BPDU (type 0x02); `version` is 2, or higher from an MSTP bridge
    /// (9.3.4 c treats those as RST BPDUs too).
    Rst {
        /// Protocol Version Identifier, at least 2.
        version: u8,
        /// The message.
        msg: ConfigMessage,
    },
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn time_at(b: &[u8], range: std::ops::Range<usize>) -> Time {
    Time(u16_at(b, range.start))
}

fn id_at(b: &[u8], range: std::ops::Range<usize>) -> BridgeId {
    let mut id = [0u8; 8];
    id.copy_from_slice(&b[range]);
    BridgeId(u64::from_be_bytes(id))
}

/// Reads the message fields of a BPDU known to be at least 35 octets long.
fn message(b: &[u8]) -> ConfigMessage {
    let cost = &b[field::ROOT_PATH_COST];
    ConfigMessage {
        flags: Flags(b[field::FLAGS]),
        root: id_at(b, field::ROOT_ID),
        root_path_cost: u32::from_be_bytes([cost[0], cost[1], cost[2], cost[3]]),
        bridge: id_at(b, field::BRIDGE_ID),
        port: u16_at(b, field::PORT_ID.start),
        message_age: time_at(b, field::MESSAGE_AGE),
        max_age: time_at(b, field::MAX_AGE),
        hello_time: time_at(b, field::HELLO_TIME),
        forward_delay: time_at(b, field::FORWARD_DELAY),
    }
}

/// Parses the LLC payload of a frame sent to the bridge group address (the
/// bytes the 802.3 length field covers, starting with `42 42 03`) with the
/// rules of 802.1D-2004 §9.3.4:
/// - type 0x00, at least 35 octets, Message Age below Max Age: a
///   configuration BPDU (whatever its version);
/// - type 0x80, at least 4 octets: a TCN BPDU;
/// - type 0x02 with version 2 or more, at least 36 octets: an RST BPDU.
///
/// # Errors
/// A [`BpduError`] naming the first rule the bytes break.
pub fn parse(llc_payload: &[u8]) -> Result<Bpdu, BpduError> {
    let Some((llc, b)) = llc_payload.split_first_chunk::<3>() else {
        return Err(BpduError::Truncated {
            len: llc_payload.len(),
        });
    };
    if *llc != LLC_HEADER {
        return Err(BpduError::NotStpLlc(*llc));
    }
    if b.len() < TCN_LEN {
        return Err(BpduError::Truncated {
            len: llc_payload.len(),
        });
    }
    let protocol = u16_at(b, field::PROTOCOL_ID.start);
    if protocol != 0 {
        return Err(BpduError::ProtocolId(protocol));
    }
    let (version, bpdu_type) = (b[field::VERSION], b[field::TYPE]);
    match bpdu_type {
        TYPE_CONFIG => {
            if b.len() < CONFIG_LEN {
                return Err(BpduError::ShortConfig { len: b.len() });
            }
            let msg = message(b);
            if msg.message_age >= msg.max_age {
                return Err(BpduError::Expired {
                    message_age: msg.message_age.0,
                    max_age: msg.max_age.0,
                });
            }
            Ok(Bpdu::Config(msg))
        }
        TYPE_TCN => Ok(Bpdu::Tcn),
        TYPE_RST if version >= 2 => {
            if b.len() < RST_LEN {
                return Err(BpduError::ShortRst { len: b.len() });
            }
            Ok(Bpdu::Rst {
                version,
                msg: message(b),
            })
        }
        _ => Err(BpduError::UnknownType { version, bpdu_type }),
    }
}

/// The LLC payload of an Ethernet frame that claims to carry a BPDU: checks
/// the destination (01:80:c2:00:00:00) and the 802.3 length field, and
/// returns the bytes the length covers (padding cut off), ready for
/// [`parse`] or [`crate::rstp::Rstp::receive`].
///
/// # Errors
/// [`BpduError::FrameTooShort`], [`BpduError::NotBridgeGroupAddress`],
/// [`BpduError::NotLengthField`] (an ethertype, e.g. a VLAN tag: BPDUs are
/// untagged) or [`BpduError::LengthExceedsFrame`].
pub fn llc_payload(frame: &[u8]) -> Result<&[u8], BpduError> {
    let Some((header, rest)) = frame.split_first_chunk::<ETH_HEADER_LEN>() else {
        return Err(BpduError::FrameTooShort { len: frame.len() });
    };
    if header[..6] != BRIDGE_GROUP_ADDRESS {
        return Err(BpduError::NotBridgeGroupAddress);
    }
    let length = u16_at(header, 12);
    // 802.3: values up to 1500 are lengths, 0x0600 and up are ethertypes.
    if length > 1500 {
        return Err(BpduError::NotLengthField(length));
    }
    let length = usize::from(length);
    rest.get(..length).ok_or(BpduError::LengthExceedsFrame {
        length,
        available: rest.len(),
    })
}

impl Bpdu {
    /// Length of the BPDU on the wire (after the LLC header).
    pub fn wire_len(&self) -> usize {
        match self {
            Bpdu::Config(_) => CONFIG_LEN,
            Bpdu::Tcn => TCN_LEN,
            Bpdu::Rst { .. } => RST_LEN,
        }
    }

    /// Writes the BPDU (without LLC header) at the start of `buf` and
    /// returns its length. Fields are written exactly as given: a caller
    /// that sends a configuration BPDU sets only its TC and TC Ack flags.
    ///
    /// # Errors
    /// [`BpduError::BufferTooSmall`] if `buf` is shorter than [`Bpdu::wire_len`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, BpduError> {
        let need = self.wire_len();
        let Some(b) = buf.get_mut(..need) else {
            return Err(BpduError::BufferTooSmall {
                need,
                have: buf.len(),
            });
        };
        b[field::PROTOCOL_ID].copy_from_slice(&[0, 0]);
        let (version, bpdu_type, msg) = match self {
            Bpdu::Config(msg) => (0, TYPE_CONFIG, Some(msg)),
            Bpdu::Tcn => (0, TYPE_TCN, None),
            Bpdu::Rst { version, msg } => (*version, TYPE_RST, Some(msg)),
        };
        b[field::VERSION] = version;
        b[field::TYPE] = bpdu_type;
        if let Some(m) = msg {
            b[field::FLAGS] = m.flags.0;
            b[field::ROOT_ID].copy_from_slice(&m.root.to_bytes());
            b[field::ROOT_PATH_COST].copy_from_slice(&m.root_path_cost.to_be_bytes());
            b[field::BRIDGE_ID].copy_from_slice(&m.bridge.to_bytes());
            b[field::PORT_ID].copy_from_slice(&m.port.to_be_bytes());
            b[field::MESSAGE_AGE].copy_from_slice(&m.message_age.0.to_be_bytes());
            b[field::MAX_AGE].copy_from_slice(&m.max_age.0.to_be_bytes());
            b[field::HELLO_TIME].copy_from_slice(&m.hello_time.0.to_be_bytes());
            b[field::FORWARD_DELAY].copy_from_slice(&m.forward_delay.0.to_be_bytes());
        }
        if let Bpdu::Rst { .. } = self {
            b[field::VERSION1_LENGTH] = 0;
        }
        Ok(need)
    }

    /// Writes a whole Ethernet frame carrying the BPDU into `buf`: the bridge
    /// group address, `src`, the 802.3 length, the LLC header, the BPDU, and
    /// zeros up to [`FRAME_LEN`]. Returns [`FRAME_LEN`].
    ///
    /// # Errors
    /// [`BpduError::BufferTooSmall`] if `buf` is shorter than [`FRAME_LEN`].
    pub fn emit_frame(&self, src: [u8; 6], buf: &mut [u8]) -> Result<usize, BpduError> {
        let Some(frame) = buf.get_mut(..FRAME_LEN) else {
            return Err(BpduError::BufferTooSmall {
                need: FRAME_LEN,
                have: buf.len(),
            });
        };
        frame.fill(0);
        frame[..6].copy_from_slice(&BRIDGE_GROUP_ADDRESS);
        frame[6..12].copy_from_slice(&src);
        let length = (LLC_HEADER.len() + self.wire_len()) as u16;
        frame[12..14].copy_from_slice(&length.to_be_bytes());
        frame[14..17].copy_from_slice(&LLC_HEADER);
        self.emit(&mut frame[17..])?;
        Ok(FRAME_LEN)
    }
}

/// A complete BPDU frame in a fixed array ([`FRAME_LEN`] bytes, padding
/// included), as the RSTP machines hand it to the engine.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BpduFrame([u8; FRAME_LEN]);

impl BpduFrame {
    /// The frame carrying `bpdu` from source MAC `src`.
    pub fn new(bpdu: &Bpdu, src: [u8; 6]) -> Self {
        let mut buf = [0u8; FRAME_LEN];
        // Cannot fail: the buffer is exactly FRAME_LEN long.
        let _ = bpdu.emit_frame(src, &mut buf);
        BpduFrame(buf)
    }

    /// The frame bytes, ready to send.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The part the 802.3 length field covers (LLC header and BPDU), what a
    /// receiver passes to [`parse`].
    pub fn llc_payload(&self) -> &[u8] {
        let len = usize::from(u16_at(&self.0, 12)).min(FRAME_LEN - ETH_HEADER_LEN);
        &self.0[ETH_HEADER_LEN..ETH_HEADER_LEN + len]
    }

    /// Replaces the source MAC (a BPDU goes out with the sending port's address).
    pub fn set_source(&mut self, src: [u8; 6]) {
        self.0[6..12].copy_from_slice(&src);
    }

    /// The BPDU this frame carries.
    pub fn bpdu(&self) -> Result<Bpdu, BpduError> {
        parse(self.llc_payload())
    }
}

impl fmt::Debug for BpduFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.bpdu() {
            Ok(b) => f.debug_tuple("BpduFrame").field(&b).finish(),
            Err(e) => f.debug_tuple("BpduFrame").field(&e).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A configuration BPDU as the Linux kernel bridge (`stp_state 1`) sends
    /// it from root bridge 8000.525400123456 on port 0x8001, with the
    /// Topology Change flag: message age 0, max age 20 s, hello 2 s,
    /// forward delay 15 s, padded to 60 bytes.
    const LINUX_CONFIG: [u8; 60] = [
        0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, // dst
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // src
        0x00, 0x26, // 802.3 length: 3 + 35
        0x42, 0x42, 0x03, // LLC
        0x00, 0x00, // protocol id
        0x00, // version
        0x00, // type: config
        0x01, // flags: TC
        0x80, 0x00, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // root id
        0x00, 0x00, 0x00, 0x00, // root path cost
        0x80, 0x00, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // bridge id
        0x80, 0x01, // port id
        0x00, 0x00, // message age 0
        0x14, 0x00, // max age 20 s
        0x02, 0x00, // hello 2 s
        0x0f, 0x00, // forward delay 15 s
        0, 0, 0, 0, 0, 0, 0, 0, // padding
    ];

    /// A TCN BPDU as the kernel bridge sends it on its root port.
    const LINUX_TCN: [u8; 21] = [
        0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x52, 0x54, 0x00, 0x12, 0x34, 0x57, 0x00,
        0x07, // eth, length 7
        0x42, 0x42, 0x03, 0x00, 0x00, 0x00, 0x80,
    ];

    /// An RST BPDU as Open vSwitch sends it from a designated port that
    /// proposes while learning and forwarding: root 1000.aabbccddee01 at
    /// cost 20000, from bridge 8000.aabbccddee02 port 0x8002, message age 1 s.
    const OVS_RST: [u8; 39] = [
        0x42, 0x42, 0x03, // LLC
        0x00, 0x00, 0x02, 0x02, // protocol, version 2, type RST
        0x3e, // flags: forwarding | learning | role designated | proposal
        0x10, 0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01, // root id
        0x00, 0x00, 0x4e, 0x20, // root path cost 20000
        0x80, 0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x02, // bridge id
        0x80, 0x02, // port id
        0x01, 0x00, 0x14, 0x00, 0x02, 0x00, 0x0f, 0x00, // times
        0x00, // version 1 length
    ];

    #[test]
    fn linux_config_bpdu_fields() {
        let payload = llc_payload(&LINUX_CONFIG).unwrap();
        assert_eq!(payload.len(), 38);
        let Bpdu::Config(m) = parse(payload).unwrap() else {
            panic!("not a config BPDU")
        };
        assert!(m.flags.has(Flags::TC));
        assert!(!m.flags.has(Flags::TC_ACK));
        assert_eq!(
            m.root,
            BridgeId::new(0x8000, [0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
        );
        assert_eq!(m.root.to_string(), "8000.525400123456");
        assert_eq!(m.root_path_cost, 0);
        assert_eq!(m.bridge, m.root);
        assert_eq!(m.port, 0x8001);
        assert_eq!(m.message_age.secs(), 0);
        assert_eq!(m.max_age.secs(), 20);
        assert_eq!(m.hello_time.secs(), 2);
        assert_eq!(m.forward_delay.secs(), 15);
        // And we write the very same bytes.
        let frame = BpduFrame::new(&Bpdu::Config(m), [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
        assert_eq!(frame.as_bytes(), &LINUX_CONFIG[..]);
    }

    #[test]
    fn linux_tcn_bpdu() {
        let payload = llc_payload(&LINUX_TCN).unwrap();
        assert_eq!(parse(payload), Ok(Bpdu::Tcn));
        let frame = BpduFrame::new(&Bpdu::Tcn, [0x52, 0x54, 0x00, 0x12, 0x34, 0x57]);
        assert_eq!(&frame.as_bytes()[..21], &LINUX_TCN[..]);
        assert!(frame.as_bytes()[21..].iter().all(|&b| b == 0));
        assert_eq!(frame.llc_payload(), &LINUX_TCN[14..]);
    }

    #[test]
    fn ovs_rst_bpdu_fields() {
        let Bpdu::Rst { version, msg: m } = parse(&OVS_RST).unwrap() else {
            panic!("not an RST BPDU")
        };
        assert_eq!(version, 2);
        assert_eq!(m.flags.role(), WireRole::Designated);
        for bit in [Flags::PROPOSAL, Flags::LEARNING, Flags::FORWARDING] {
            assert!(m.flags.has(bit), "{bit:#x}");
        }
        for bit in [Flags::TC, Flags::AGREEMENT, Flags::TC_ACK] {
            assert!(!m.flags.has(bit), "{bit:#x}");
        }
        assert_eq!(m.root.to_string(), "1000.aabbccddee01");
        assert_eq!(m.root.priority(), 0x1000);
        assert_eq!(m.root.mac(), [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01]);
        assert_eq!(m.root_path_cost, 20000);
        assert_eq!(m.bridge.to_string(), "8000.aabbccddee02");
        assert_eq!(m.port, 0x8002);
        assert_eq!(
            [m.message_age, m.max_age, m.hello_time, m.forward_delay].map(Time::secs),
            [1, 20, 2, 15]
        );
        let mut buf = [0u8; 40];
        assert_eq!(Bpdu::Rst { version, msg: m }.emit(&mut buf), Ok(36));
        assert_eq!(&buf[..36], &OVS_RST[3..]);
    }

    #[test]
    fn validation_rules_of_9_3_4() {
        // Config BPDU one byte short.
        assert_eq!(
            parse(&LINUX_CONFIG[14..51]),
            Err(BpduError::ShortConfig { len: 34 })
        );
        // RST one byte short.
        assert_eq!(parse(&OVS_RST[..38]), Err(BpduError::ShortRst { len: 35 }));
        // TCN needs 4 octets.
        assert_eq!(parse(&LINUX_TCN[14..20]), Err(BpduError::Truncated { len: 6 }));
        assert_eq!(parse(&[0x42, 0x42]), Err(BpduError::Truncated { len: 2 }));
        // LLC and protocol id.
        let mut bad = OVS_RST;
        bad[1] = 0x43;
        assert_eq!(parse(&bad), Err(BpduError::NotStpLlc([0x42, 0x43, 0x03])));
        let mut bad = OVS_RST;
        bad[4] = 1;
        assert_eq!(parse(&bad), Err(BpduError::ProtocolId(1)));
        // Message age must be below max age in a config BPDU.
        let mut old = LINUX_CONFIG;
        old[44] = 0x14; // message age 20 s = max age
        assert_eq!(
            parse(llc_payload(&old).unwrap()),
            Err(BpduError::Expired {
                message_age: 0x1400,
                max_age: 0x1400
            })
        );
        // Type 2 needs version >= 2; unknown types are refused.
        let mut v0 = OVS_RST;
        v0[5] = 0;
        assert_eq!(
            parse(&v0),
            Err(BpduError::UnknownType {
                version: 0,
                bpdu_type: 2
            })
        );
        let mut t = OVS_RST;
        t[6] = 0x42;
        assert!(matches!(
            parse(&t),
            Err(BpduError::UnknownType { bpdu_type: 0x42, .. })
        ));
        // Version 3 (MSTP) with type 2 is an RST BPDU; trailing bytes ignored.
        let mut mst = [0u8; 60];
        mst[..39].copy_from_slice(&OVS_RST);
        mst[5] = 3;
        assert!(matches!(parse(&mst), Ok(Bpdu::Rst { version: 3, .. })));
        // A config BPDU with a higher version is still a config BPDU.
        let mut v2 = LINUX_CONFIG;
        v2[19] = 2;
        assert!(matches!(parse(llc_payload(&v2).unwrap()), Ok(Bpdu::Config(_))));
    }

    #[test]
    fn frame_checks() {
        assert_eq!(
            llc_payload(&LINUX_CONFIG[..13]),
            Err(BpduError::FrameTooShort { len: 13 })
        );
        let mut f = LINUX_CONFIG;
        f[5] = 1;
        assert_eq!(llc_payload(&f), Err(BpduError::NotBridgeGroupAddress));
        let mut f = LINUX_CONFIG;
        f[12..14].copy_from_slice(&[0x81, 0x00]);
        assert_eq!(llc_payload(&f), Err(BpduError::NotLengthField(0x8100)));
        let mut f = LINUX_CONFIG;
        f[12..14].copy_from_slice(&[0x00, 0x2f]);
        assert_eq!(
            llc_payload(&f),
            Err(BpduError::LengthExceedsFrame {
                length: 47,
                available: 46
            })
        );
        let mut small = [0u8; 59];
        assert_eq!(
            Bpdu::Tcn.emit_frame([2; 6], &mut small),
            Err(BpduError::BufferTooSmall { need: 60, have: 59 })
        );
        assert_eq!(
            Bpdu::Tcn.emit(&mut small[..3]),
            Err(BpduError::BufferTooSmall { need: 4, have: 3 })
        );
    }

    #[test]
    fn time_and_flags() {
        assert_eq!(Time::from_secs(15), Time(0x0f00));
        assert_eq!(Time(0x0f7f).secs(), 15);
        assert_eq!(Time(0x0f80).secs(), 16);
        assert_eq!(Time(0xffff).secs(), 255);
        let f = Flags::default()
            .with_role(WireRole::Root)
            .with(Flags::AGREEMENT, true);
        assert_eq!(f, Flags(0x48));
        assert_eq!(f.role(), WireRole::Root);
        assert_eq!(
            f.with(Flags::AGREEMENT, false).with_role(WireRole::Unknown),
            Flags(0)
        );
        assert_eq!(Flags(0x04).role(), WireRole::AlternateOrBackup);
        assert_eq!(BridgeId::new(0, [0; 6]).to_string(), "0000.000000000000");
        assert_eq!(
            format!("{:?}", BridgeId::new(0xf000, [0xff; 6])),
            "f000.ffffffffffff"
        );
    }

    fn arb_message() -> impl Strategy<Value = ConfigMessage> {
        (
            any::<u8>(),
            any::<u64>(),
            any::<u32>(),
            any::<u64>(),
            any::<u16>(),
            any::<[u16; 4]>(),
        )
            .prop_map(|(flags, root, cost, bridge, port, t)| ConfigMessage {
                flags: Flags(flags),
                root: BridgeId(root),
                root_path_cost: cost,
                bridge: BridgeId(bridge),
                port,
                message_age: Time(t[0]),
                max_age: Time(t[1]),
                hello_time: Time(t[2]),
                forward_delay: Time(t[3]),
            })
    }

    fn arb_bpdu() -> impl Strategy<Value = Bpdu> {
        prop_oneof![
            arb_message()
                .prop_filter("message age below max age", |m| m.message_age < m.max_age)
                .prop_map(Bpdu::Config),
            Just(Bpdu::Tcn),
            (2u8.., arb_message()).prop_map(|(version, msg)| Bpdu::Rst { version, msg }),
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = parse(&bytes);
            let _ = llc_payload(&bytes);
        }

        #[test]
        fn parse_never_panics_behind_a_valid_header(
            tail in proptest::collection::vec(any::<u8>(), 0..60),
            version in any::<u8>(),
            bpdu_type in prop::sample::select(vec![0u8, 2, 0x80, 1, 0xff]),
        ) {
            let mut bytes = vec![0x42, 0x42, 0x03, 0, 0, version, bpdu_type];
            bytes.extend_from_slice(&tail);
            for n in 0..=bytes.len() {
                let _ = parse(&bytes[..n]);
            }
        }

        #[test]
        fn encode_then_parse_round_trips(bpdu in arb_bpdu(), src in any::<[u8; 6]>()) {
            let frame = BpduFrame::new(&bpdu, src);
            prop_assert_eq!(frame.as_bytes().len(), FRAME_LEN);
            prop_assert_eq!(&frame.as_bytes()[6..12], &src[..]);
            prop_assert_eq!(llc_payload(frame.as_bytes()), Ok(frame.llc_payload()));
            prop_assert_eq!(frame.bpdu(), Ok(bpdu));
        }
    }
}

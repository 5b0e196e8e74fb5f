//! The values of the QoS API: meter configurations, their units and
//! bands, the limits, and why a meter is refused. A leaf: the rest of
//! `qos` (and the engine) import these, they import nothing of `qos`.

use std::fmt;

/// Largest meter id (OpenFlow 1.3 `OFPM_MAX`).
pub const METER_ID_MAX: u32 = 0xffff_0000;
/// Most meters a bridge holds (what METER_FEATURES reports as `max_meter`).
pub const MAX_METERS: usize = 65_536;
/// Most bands per meter (as Open vSwitch's userspace datapath).
pub const MAX_BANDS: usize = 8;

/// What a meter's band rates count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// kbit/s; burst sizes in kbit. Frames are charged their Ethernet bytes.
    Kbps,
    /// packets/s; burst sizes in packets.
    Pktps,
}

impl Unit {
    /// `kbps` or `pktps`, as `ovs-ofctl` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Kbps => "kbps",
            Unit::Pktps => "pktps",
        }
    }
}

/// One drop band: frames over `rate` are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BandConfig {
    /// kbit/s or packets/s (the meter's [`Unit`]), at least 1.
    pub rate: u32,
    /// kbit or packets; 0 means the default, which is `rate` (one second
    /// at the rate, as Open vSwitch's userspace datapath).
    pub burst_size: u32,
}

impl BandConfig {
    /// The bucket size in force: `burst_size`, or `rate` when it is 0.
    pub fn burst_in_effect(&self) -> u32 {
        if self.burst_size == 0 {
            self.rate
        } else {
            self.burst_size
        }
    }
}

/// A meter as configured (`add-meter`, METER_MOD).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeterConfig {
    /// 1–[`METER_ID_MAX`].
    pub id: u32,
    /// What the rates count.
    pub unit: Unit,
    /// The `burst` flag: band burst sizes were given.
    pub burst: bool,
    /// The `stats` flag (counts are kept either way).
    pub stats: bool,
    /// 1–[`MAX_BANDS`] drop bands.
    pub bands: Vec<BandConfig>,
}

/// Why a meter configuration or change is refused. Each variant maps to
/// one OpenFlow `METER_MOD_FAILED` code; the message says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeterError {
    /// The id is 0 or above [`METER_ID_MAX`] (`OFPMMFC_INVALID_METER`).
    InvalidMeter(String),
    /// `add` of an id that exists (`OFPMMFC_METER_EXISTS`).
    Exists(u32),
    /// `modify`/`delete` of an id that does not exist (`OFPMMFC_UNKNOWN_METER`).
    Unknown(u32),
    /// Not exactly one of kbps/pktps, or unknown flags (`OFPMMFC_BAD_FLAGS`).
    BadFlags(String),
    /// A band rate of 0 (`OFPMMFC_BAD_RATE`).
    BadRate(String),
    /// A burst size that does not go with the flags (`OFPMMFC_BAD_BURST`).
    BadBurst(String),
    /// A band that is not a drop band, or no bands (`OFPMMFC_BAD_BAND`).
    BadBand(String),
    /// More than [`MAX_BANDS`] bands (`OFPMMFC_OUT_OF_BANDS`).
    OutOfBands(usize),
    /// The bridge holds [`MAX_METERS`] meters (`OFPMMFC_OUT_OF_METERS`).
    OutOfMeters,
}

impl fmt::Display for MeterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MeterError::InvalidMeter(s)
            | MeterError::BadFlags(s)
            | MeterError::BadRate(s)
            | MeterError::BadBurst(s)
            | MeterError::BadBand(s) => f.write_str(s),
            MeterError::Exists(id) => write!(f, "meter {id} already exists"),
            MeterError::Unknown(id) => write!(f, "meter {id} does not exist"),
            MeterError::OutOfBands(n) => write!(f, "{n} bands: a meter has at most {MAX_BANDS}"),
            MeterError::OutOfMeters => write!(f, "the bridge already has {MAX_METERS} meters"),
        }
    }
}

impl std::error::Error for MeterError {}

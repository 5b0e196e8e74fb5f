//! OpenFlow 1.3 meters with drop bands (SPEC §12): a bridge's
//! [`MeterTable`], each [`Meter`] with one [`TokenBucket`] per band, and
//! their counters ([`MeterStats`]).
//!
//! The semantics are those of Open vSwitch's userspace datapath
//! (`dp_netdev_run_meter` in `lib/dpif-netdev.c`), so that flows written
//! for OVS meter the same way here:
//! - every frame that reaches a meter is counted in the meter's packets and
//!   bytes, whether it passes or not (counts are kept with or without the
//!   `stats` flag);
//! - each band's bucket is offered the frame; a band whose bucket admits it
//!   is charged, the others are *exceeded*;
//! - if any band is exceeded the frame is dropped and counted on exactly one
//!   band: the exceeded band with the highest rate (the first of equals).
//!
//! kbps bands charge the frame's bytes to a bucket of `burst` kbit at
//! `rate` kbit/s; pktps bands charge 1 to a bucket of `burst` packets at
//! `rate` packets/s. The burst defaults to the rate (one second), as OVS.
//!
//! [`validate`] holds every rule a configuration must follow; the table
//! applies it on `add` and `modify`, and the engine calls it directly for
//! meters it builds itself.
use std::time::{Duration, Instant};

use super::bucket::TokenBucket;
use super::types::{MeterConfig, MeterError, Unit, MAX_BANDS, MAX_METERS, METER_ID_MAX};

/// One band in force: its bucket and what it dropped.
#[derive(Debug, Clone)]
struct Band {
    bucket: TokenBucket,
    /// The configured rate, to pick the highest exceeded band.
    rate: u32,
    /// Frames dropped on this band.
    packets: u64,
    /// Their bytes.
    bytes: u64,
}

/// A meter: its configuration, band buckets and counters.
#[derive(Debug, Clone)]
pub struct Meter {
    config: MeterConfig,
    created: Instant,
    /// One per configured band, in configuration order.
    bands: Vec<Band>,
    /// Frames that reached the meter, passed or dropped.
    packets: u64,
    /// Their bytes.
    bytes: u64,
}

/// A meter's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeterStats {
    /// Frames that reached the meter.
    pub packets: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Time since the meter was added.
    pub duration: Duration,
    /// Per band, in configuration order: (frames, bytes) it dropped.
    pub bands: Vec<(u64, u64)>,
}

/// Checks a meter configuration: the id is 1–[`METER_ID_MAX`], there are
/// 1–[`MAX_BANDS`] bands, every rate is at least 1, and burst sizes are
/// given exactly when the `burst` flag is set (as `ovs-ofctl` insists).
pub fn validate(c: &MeterConfig) -> Result<(), MeterError> {
    if c.id == 0 || c.id > METER_ID_MAX {
        return Err(MeterError::InvalidMeter(format!(
            "meter {} is out of range 1-{METER_ID_MAX}",
            c.id
        )));
    }
    if c.bands.is_empty() {
        return Err(MeterError::BadBand("a meter needs at least one band".into()));
    }
    if c.bands.len() > MAX_BANDS {
        return Err(MeterError::OutOfBands(c.bands.len()));
    }
    for (i, b) in c.bands.iter().enumerate() {
        let n = i + 1;
        if b.rate == 0 {
            return Err(MeterError::BadRate(format!(
                "band {n} has rate 0: a band's rate must be at least 1 {}",
                c.unit.as_str()
            )));
        }
        if c.burst && b.burst_size == 0 {
            return Err(MeterError::BadBurst(format!(
                "band must have 'burst_size' when 'burst' flag is set (band {n} has none)"
            )));
        }
        if !c.burst && b.burst_size != 0 {
            return Err(MeterError::BadBurst(format!(
                "band may have 'burst_size' only when 'burst' flag is set (band {n} has burst_size={})",
                b.burst_size
            )));
        }
    }
    Ok(())
}

/// Fresh, full buckets for `c`'s bands, with zero counters.
fn bands_of(c: &MeterConfig, now: Instant) -> Vec<Band> {
    c.bands
        .iter()
        .map(|b| Band {
            bucket: match c.unit {
                Unit::Kbps => TokenBucket::kbps(b.rate, b.burst_in_effect(), now),
                Unit::Pktps => TokenBucket::pktps(b.rate, b.burst_in_effect(), now),
            },
            rate: b.rate,
            packets: 0,
            bytes: 0,
        })
        .collect()
}

impl Meter {
    /// A meter for a configuration (not checked: see [`validate`]) with
    /// full buckets and zero counters, created at `now`.
    pub fn new(config: MeterConfig, now: Instant) -> Meter {
        let bands = bands_of(&config, now);
        Meter {
            config,
            created: now,
            bands,
            packets: 0,
            bytes: 0,
        }
    }

    /// The meter's id.
    pub fn id(&self) -> u32 {
        self.config.id
    }

    /// The configuration.
    pub fn config(&self) -> &MeterConfig {
        &self.config
    }

    /// Counters at `now`.
    pub fn stats(&self, now: Instant) -> MeterStats {
        MeterStats {
            packets: self.packets,
            bytes: self.bytes,
            duration: now.saturating_duration_since(self.created),
            bands: self.bands.iter().map(|b| (b.packets, b.bytes)).collect(),
        }
    }

    /// Runs a frame of `bytes` through the meter at `now`: whether it may
    /// go on (see the module's documentation for the rules).
    #[inline]
    pub fn apply(&mut self, bytes: u64, now: Instant) -> bool {
        self.packets += 1;
        self.bytes += bytes;
        let units = match self.config.unit {
            Unit::Kbps => bytes,
            Unit::Pktps => 1,
        };
        // Every band sees the frame (a band that admits it is charged even
        // when another drops it, as OVS); the highest-rate exceeded band,
        // the first of equals, is the one that drops it.
        let mut dropper: Option<usize> = None;
        let mut dropper_rate = 0;
        for (i, b) in self.bands.iter_mut().enumerate() {
            if !b.bucket.admit(units, now) && b.rate > dropper_rate {
                dropper_rate = b.rate;
                dropper = Some(i);
            }
        }
        match dropper {
            None => true,
            Some(i) => {
                let b = &mut self.bands[i];
                b.packets += 1;
                b.bytes += bytes;
                false
            }
        }
    }

    /// Replaces the bands by `config`'s (full buckets, band counters reset),
    /// keeping the meter's own counters and creation time.
    fn reconfigure(&mut self, config: MeterConfig, now: Instant) {
        self.bands = bands_of(&config, now);
        self.config = config;
    }
}

/// A bridge's meters, in id order.
///
/// A sorted `Vec` and a binary search: bridges have few meters, lookups
/// are per frame and must not allocate or chase pointers, and changes are
/// rare control-plane operations where an insertion's shift does not
/// matter.
#[derive(Debug, Clone, Default)]
pub struct MeterTable {
    meters: Vec<Meter>,
}

impl MeterTable {
    /// An empty table.
    pub fn new() -> MeterTable {
        MeterTable::default()
    }

    /// Position of meter `id`, or where it would go.
    #[inline]
    fn find(&self, id: u32) -> Result<usize, usize> {
        self.meters.binary_search_by_key(&id, |m| m.config.id)
    }

    /// Adds a meter.
    pub fn add(&mut self, config: MeterConfig, now: Instant) -> Result<(), MeterError> {
        validate(&config)?;
        let at = match self.find(config.id) {
            Ok(_) => return Err(MeterError::Exists(config.id)),
            Err(at) => at,
        };
        if self.meters.len() >= MAX_METERS {
            return Err(MeterError::OutOfMeters);
        }
        self.meters.insert(at, Meter::new(config, now));
        Ok(())
    }

    /// Replaces a meter's configuration.
    pub fn modify(&mut self, config: MeterConfig, now: Instant) -> Result<(), MeterError> {
        validate(&config)?;
        let at = self.find(config.id).map_err(|_| MeterError::Unknown(config.id))?;
        self.meters[at].reconfigure(config, now);
        Ok(())
    }

    /// Removes a meter; whether it existed.
    pub fn delete(&mut self, id: u32) -> bool {
        match self.find(id) {
            Ok(at) => {
                self.meters.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes every meter.
    pub fn clear(&mut self) {
        self.meters.clear();
    }

    /// The meter `id`.
    pub fn get(&self, id: u32) -> Option<&Meter> {
        self.find(id).ok().map(|at| &self.meters[at])
    }

    /// Whether meter `id` exists.
    pub fn contains(&self, id: u32) -> bool {
        self.find(id).is_ok()
    }

    /// Runs a frame of `bytes` through meter `id` at `now`: whether it may go on.
    /// An unknown meter has nothing to enforce: the frame goes on.
    #[inline]
    pub fn apply(&mut self, id: u32, bytes: u64, now: Instant) -> bool {
        match self.find(id) {
            Ok(at) => self.meters[at].apply(bytes, now),
            Err(_) => true,
        }
    }

    /// The meters in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Meter> {
        self.meters.iter()
    }

    /// Number of meters.
    pub fn len(&self) -> usize {
        self.meters.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.meters.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qos::types::BandConfig;

    fn at(t0: Instant, ns: u64) -> Instant {
        t0 + Duration::from_nanos(ns)
    }

    fn config(id: u32, unit: Unit, bands: &[(u32, u32)]) -> MeterConfig {
        let burst = bands.iter().any(|b| b.1 != 0);
        MeterConfig {
            id,
            unit,
            burst,
            stats: true,
            bands: bands
                .iter()
                .map(|&(rate, burst_size)| BandConfig { rate, burst_size })
                .collect(),
        }
    }

    #[test]
    fn validate_errors() {
        let ok = config(1, Unit::Kbps, &[(1000, 0)]);
        assert_eq!(validate(&ok), Ok(()));
        let cases: Vec<(MeterConfig, MeterError)> = vec![
            (
                config(0, Unit::Kbps, &[(1000, 0)]),
                MeterError::InvalidMeter("meter 0 is out of range 1-4294901760".into()),
            ),
            (
                config(METER_ID_MAX + 1, Unit::Kbps, &[(1000, 0)]),
                MeterError::InvalidMeter("meter 4294901761 is out of range 1-4294901760".into()),
            ),
            (
                config(1, Unit::Kbps, &[]),
                MeterError::BadBand("a meter needs at least one band".into()),
            ),
            (config(1, Unit::Kbps, &[(1, 0); 9]), MeterError::OutOfBands(9)),
            (
                config(1, Unit::Pktps, &[(10, 0), (0, 0)]),
                MeterError::BadRate("band 2 has rate 0: a band's rate must be at least 1 pktps".into()),
            ),
        ];
        for (c, e) in cases {
            assert_eq!(validate(&c), Err(e), "{c:?}");
        }
        assert_eq!(validate(&config(METER_ID_MAX, Unit::Kbps, &[(1, 0); 8])), Ok(()));

        let mut c = config(1, Unit::Kbps, &[(1000, 100), (2000, 0)]);
        assert_eq!(
            validate(&c),
            Err(MeterError::BadBurst(
                "band must have 'burst_size' when 'burst' flag is set (band 2 has none)".into()
            ))
        );
        c.burst = false;
        assert_eq!(
            validate(&c),
            Err(MeterError::BadBurst(
                "band may have 'burst_size' only when 'burst' flag is set (band 1 has burst_size=100)".into()
            ))
        );
    }

    #[test]
    fn table_add_modify_delete() {
        let t0 = Instant::now();
        let mut t = MeterTable::new();
        for id in [5, 1, 3] {
            t.add(config(id, Unit::Kbps, &[(1000, 0)]), t0).expect("add");
        }
        assert_eq!(t.iter().map(Meter::id).collect::<Vec<_>>(), [1, 3, 5]);
        assert_eq!(
            t.add(config(3, Unit::Kbps, &[(1, 0)]), t0),
            Err(MeterError::Exists(3))
        );
        assert!(matches!(
            t.add(config(0, Unit::Kbps, &[(1, 0)]), t0),
            Err(MeterError::InvalidMeter(_))
        ));
        assert_eq!(
            t.modify(config(4, Unit::Kbps, &[(1, 0)]), t0),
            Err(MeterError::Unknown(4))
        );
        assert!(matches!(
            t.modify(config(3, Unit::Kbps, &[]), t0),
            Err(MeterError::BadBand(_))
        ));
        assert!(t.contains(3) && !t.contains(4));
        assert_eq!(t.get(5).map(|m| m.config().bands[0].rate), Some(1000));
        assert!(t.delete(3));
        assert!(!t.delete(3));
        assert_eq!((t.len(), t.is_empty()), (2, false));
        // Unknown meters enforce nothing.
        assert!(t.apply(3, 1_000_000_000, t0));
        t.clear();
        assert!(t.is_empty());
    }

    #[test]
    fn table_is_bounded() {
        let t0 = Instant::now();
        let mut t = MeterTable::new();
        for id in 1..=MAX_METERS as u32 {
            t.add(config(id, Unit::Pktps, &[(1, 0)]), t0).expect("room");
        }
        assert_eq!(
            t.add(config(METER_ID_MAX, Unit::Pktps, &[(1, 0)]), t0),
            Err(MeterError::OutOfMeters)
        );
        // An existing id is still reported as such.
        assert_eq!(
            t.add(config(7, Unit::Pktps, &[(1, 0)]), t0),
            Err(MeterError::Exists(7))
        );
        assert!(t.delete(7));
        assert_eq!(t.add(config(METER_ID_MAX, Unit::Pktps, &[(1, 0)]), t0), Ok(()));
    }

    /// Offers `pps` frames of `bytes` per second for `secs` to meter 1:
    /// (frames passed from second 1 on, frames passed in all).
    fn stream(t: &mut MeterTable, t0: Instant, pps: u64, bytes: u64, secs: u64) -> (u64, u64) {
        let gap = 1_000_000_000 / pps;
        let (mut now, mut after, mut all) = (0, 0, 0);
        while now < secs * 1_000_000_000 {
            if t.apply(1, bytes, at(t0, now)) {
                all += 1;
                if now >= 1_000_000_000 {
                    after += 1;
                }
            }
            now += gap;
        }
        (after, all)
    }

    #[test]
    fn pktps_meter_rate_is_exact() {
        let t0 = Instant::now();
        let mut t = MeterTable::new();
        t.add(config(1, Unit::Pktps, &[(1000, 0)]), t0).expect("add");
        // 10 000 pps offered into 1 000 pps for 10 s.
        let (after, all) = stream(&mut t, t0, 10_000, 64, 10);
        assert!((after as f64 / 9000.0 - 1.0).abs() < 0.01, "{after}");
        let s = t.get(1).expect("meter").stats(at(t0, 10_000_000_000));
        assert_eq!(
            (s.packets, s.bytes),
            (100_000, 6_400_000),
            "every frame is counted"
        );
        assert_eq!(s.bands, [(100_000 - all, (100_000 - all) * 64)]);
        assert_eq!(s.duration, Duration::from_secs(10));
    }

    #[test]
    fn kbps_meter_rate_is_exact() {
        let t0 = Instant::now();
        let mut t = MeterTable::new();
        t.add(config(1, Unit::Kbps, &[(20_000, 0)]), t0).expect("add");
        // 100 Mbit/s of 1514-byte frames (8257 per second) into 20 Mbit/s.
        let (after, _) = stream(&mut t, t0, 8257, 1514, 10);
        let want = 20_000_000.0 / 8.0 * 9.0;
        let got = (after * 1514) as f64;
        assert!((got / want - 1.0).abs() < 0.01, "{got} vs {want}");
    }

    #[test]
    fn one_band_meter_drops_and_counts() {
        let t0 = Instant::now();
        let mut t = MeterTable::new();
        // 2 packets of burst at 1 pps.
        t.add(config(1, Unit::Pktps, &[(1, 2)]), t0).expect("add");
        let passed: Vec<bool> = (0..4).map(|_| t.apply(1, 100, t0)).collect();
        assert_eq!(passed, [true, true, false, false]);
        let s = t.get(1).expect("meter").stats(t0);
        assert_eq!((s.packets, s.bytes, s.bands), (4, 400, vec![(2, 200)]));
        // One second later, one more.
        assert!(t.apply(1, 100, at(t0, 1_000_000_000)));
        assert!(!t.apply(1, 100, at(t0, 1_000_000_000)));
    }

    /// Two bands, lower and higher rate, as OVS: a frame is dropped when
    /// any band is exceeded, and counted on the exceeded band with the
    /// highest rate only; bands that admit it are still charged.
    #[test]
    fn two_band_meter_counts_drops_on_the_highest_exceeded_band() {
        let t0 = Instant::now();
        let mut t = MeterTable::new();
        // Band 1: 10 pps, burst 10. Band 2: 2 pps, burst 2. The higher rate
        // is first so that "highest rate" differs from "last" and "first
        // exceeded".
        t.add(config(1, Unit::Pktps, &[(10, 10), (2, 2)]), t0)
            .expect("add");
        // 2 pass (both bands admit), then band 2 is exceeded (band 1 still
        // admits and is charged): 8 dropped on band 2; then both are
        // exceeded: dropped on band 1 (rate 10 > 2).
        let passed = (0..15).filter(|_| t.apply(1, 64, t0)).count();
        assert_eq!(passed, 2);
        let s = t.get(1).expect("meter").stats(t0);
        assert_eq!(s.packets, 15);
        assert_eq!(s.bands, [(5, 5 * 64), (8, 8 * 64)]);

        // The same with the bands the other way round: counts follow the
        // rate, not the position.
        let mut t = MeterTable::new();
        t.add(config(1, Unit::Pktps, &[(2, 2), (10, 10)]), t0)
            .expect("add");
        assert_eq!((0..15).filter(|_| t.apply(1, 64, t0)).count(), 2);
        let s = t.get(1).expect("meter").stats(t0);
        assert_eq!(s.bands, [(8, 8 * 64), (5, 5 * 64)]);
    }

    #[test]
    fn equal_rates_count_on_the_first() {
        let t0 = Instant::now();
        let mut t = MeterTable::new();
        t.add(config(1, Unit::Kbps, &[(8, 1), (8, 1)]), t0).expect("add");
        assert!(t.apply(1, 125, t0));
        assert!(!t.apply(1, 125, t0));
        assert_eq!(t.get(1).expect("meter").stats(t0).bands, [(1, 125), (0, 0)]);
    }

    #[test]
    fn modify_keeps_meter_counters_and_resets_bands() {
        let t0 = Instant::now();
        let t1 = at(t0, 5_000_000_000);
        let mut t = MeterTable::new();
        t.add(config(1, Unit::Pktps, &[(1, 1)]), t0).expect("add");
        assert!(t.apply(1, 100, t0));
        assert!(!t.apply(1, 100, t0));
        t.modify(config(1, Unit::Kbps, &[(1000, 0), (500, 0)]), t1)
            .expect("modify");
        let m = t.get(1).expect("meter");
        assert_eq!(m.config().unit, Unit::Kbps);
        let s = m.stats(t1);
        assert_eq!((s.packets, s.bytes), (2, 200));
        assert_eq!(s.bands, [(0, 0), (0, 0)]);
        assert_eq!(s.duration, Duration::from_secs(5), "creation time kept");
        // Fresh, full buckets: 500 kbit of burst at once.
        assert!(t.apply(1, 62_500, t1));
        assert!(!t.apply(1, 1, t1));
        assert_eq!(t.get(1).expect("meter").stats(t1).bands, [(0, 0), (1, 1)]);
    }
}

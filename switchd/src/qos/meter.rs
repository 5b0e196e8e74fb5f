//! Meters: TODO (helper).
use std::time::{Duration, Instant};

use super::{MeterConfig, MeterError};

/// TODO
#[derive(Debug, Clone)]
pub struct Meter {
    config: MeterConfig,
    created: Instant,
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

impl Meter {
    /// The configuration.
    pub fn config(&self) -> &MeterConfig {
        &self.config
    }
    /// Counters at `now`.
    pub fn stats(&self, now: Instant) -> MeterStats {
        MeterStats {
            duration: now.saturating_duration_since(self.created),
            ..MeterStats::default()
        }
    }
}

/// TODO
#[derive(Debug, Clone, Default)]
pub struct MeterTable {
    meters: Vec<Meter>,
}

impl MeterTable {
    /// An empty table.
    pub fn new() -> MeterTable {
        MeterTable::default()
    }
    /// Adds a meter.
    pub fn add(&mut self, config: MeterConfig, now: Instant) -> Result<(), MeterError> {
        self.meters.push(Meter { config, created: now });
        Ok(())
    }
    /// Replaces a meter's configuration.
    pub fn modify(&mut self, config: MeterConfig, now: Instant) -> Result<(), MeterError> {
        let _ = now;
        Err(MeterError::Unknown(config.id))
    }
    /// Removes a meter; whether it existed.
    pub fn delete(&mut self, id: u32) -> bool {
        let n = self.meters.len();
        self.meters.retain(|m| m.config.id != id);
        n != self.meters.len()
    }
    /// Removes every meter.
    pub fn clear(&mut self) {
        self.meters.clear();
    }
    /// The meter `id`.
    pub fn get(&self, id: u32) -> Option<&Meter> {
        self.meters.iter().find(|m| m.config.id == id)
    }
    /// Whether meter `id` exists.
    pub fn contains(&self, id: u32) -> bool {
        self.get(id).is_some()
    }
    /// Runs a frame of `bytes` through meter `id` at `now`: whether it may go on.
    #[inline]
    pub fn apply(&mut self, id: u32, bytes: u64, now: Instant) -> bool {
        let _ = (id, bytes, now);
        true
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

/// Checks a meter configuration (stub until the implementation lands).
pub fn validate(c: &MeterConfig) -> Result<(), MeterError> {
    let _ = c;
    Ok(())
}

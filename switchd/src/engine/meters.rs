//! The meter commands of SPEC §12 (`add-meter`, `mod-meter`, `del-meter`,
//! `dump-meters`), METER_MOD and the meter multipart replies of OpenFlow
//! 1.3, and the meters' place in the db. The meters themselves, their
//! buckets and their syntax are [`crate::qos`]'s; this file ties them to a
//! bridge: a flow may only name a meter that exists, and deleting a meter
//! deletes the flows that use it (as Open vSwitch does), so no flow ever
//! points at nothing.

use std::time::Instant;

use proto::{Error, ErrorKind, IfName, MeterBandInfo, MeterInfo, MetersInfo, Reply};

use super::ports::BridgeKey;
use super::Engine;
use crate::flow::table::{Entry, RemovedReason};
use crate::flow::types::Action;
use crate::openflow::msg::{self as of, MeterBand, MeterMod, MeterModCommand, METER_ALL};
use crate::openflow::wire::group::BAND_DROP as OFPMBT_DROP;
use crate::openflow::wire::mf;
use crate::qos::meter::validate;
use crate::qos::{syntax, BandConfig, Meter, MeterConfig, MeterError, Unit, MAX_BANDS, MAX_METERS};

fn invalid(msg: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, msg)
}

/// Whether a flow's actions use meter `id`.
fn uses(e: &Entry, id: u32) -> bool {
    e.spec.actions.contains(&Action::Meter(id))
}

impl Engine {
    pub(super) fn cmd_add_meter(&mut self, bridge: &IfName, text: &str) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        let cfg = syntax::parse_meter(text).map_err(invalid)?;
        self.bridges[b]
            .meters
            .add(cfg, Instant::now())
            .map_err(|e| meter_error(e, bridge))?;
        Ok(Reply::Done)
    }

    pub(super) fn cmd_mod_meter(&mut self, bridge: &IfName, text: &str) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        let cfg = syntax::parse_meter(text).map_err(invalid)?;
        self.bridges[b]
            .meters
            .modify(cfg, Instant::now())
            .map_err(|e| meter_error(e, bridge))?;
        Ok(Reply::Done)
    }

    pub(super) fn cmd_del_meter(&mut self, bridge: &IfName, sel: Option<&str>) -> Result<Reply, Error> {
        let (b, id) = self.meter_selection(bridge, sel)?;
        self.delete_meters(b, id);
        Ok(Reply::Done)
    }

    pub(super) fn cmd_dump_meters(&self, bridge: &IfName, sel: Option<&str>) -> Result<Reply, Error> {
        let (b, id) = self.meter_selection(bridge, sel)?;
        let now = Instant::now();
        let meters = self.selected_meters(b, id);
        Ok(Reply::Meters(MetersInfo {
            meters: meters
                .map(|m| meter_info(m, self.meter_flows(b, m.config().id), now))
                .collect(),
        }))
    }

    /// The bridge and the meter (or [`METER_ALL`]) of `del-meter` /
    /// `dump-meters`: `meter=N` must exist.
    fn meter_selection(&self, bridge: &IfName, sel: Option<&str>) -> Result<(BridgeKey, u32), Error> {
        let b = self.find_bridge(bridge)?;
        match syntax::parse_meter_id(sel.unwrap_or("")).map_err(invalid)? {
            Some(id) if !self.bridges[b].meters.contains(id) => {
                Err(meter_error(MeterError::Unknown(id), bridge))
            }
            Some(id) => Ok((b, id)),
            None => Ok((b, METER_ALL)),
        }
    }

    /// The meters `id` selects (one, or all for [`METER_ALL`]), by id.
    fn selected_meters(&self, b: BridgeKey, id: u32) -> impl Iterator<Item = &Meter> {
        self.bridges[b]
            .meters
            .iter()
            .filter(move |m| id == METER_ALL || m.config().id == id)
    }

    /// Flows of bridge `b` that use meter `id`.
    fn meter_flows(&self, b: BridgeKey, id: u32) -> u64 {
        self.bridges[b].flows.iter().filter(|(_, e)| uses(e, id)).count() as u64
    }

    /// Deletes meter `id` (or all, [`METER_ALL`]) and the flows that use
    /// it, telling controllers that asked (FLOW_REMOVED, reason delete:
    /// OpenFlow 1.3 has no "meter deleted" reason).
    fn delete_meters(&mut self, b: BridgeKey, id: u32) {
        let bridge = &mut self.bridges[b];
        let doomed: Vec<_> = bridge
            .flows
            .iter()
            .filter(|(_, e)| {
                e.spec
                    .actions
                    .iter()
                    .any(|a| matches!(a, Action::Meter(m) if id == METER_ALL || *m == id))
            })
            .map(|(f, _)| f)
            .collect();
        let gone: Vec<Entry> = doomed
            .into_iter()
            .filter_map(|f| bridge.flows.remove(f))
            .collect();
        if id == METER_ALL {
            bridge.meters.clear();
        } else {
            bridge.meters.delete(id);
        }
        if !gone.is_empty() {
            bridge.flows_changed();
            tracing::info!(bridge = %bridge.name, flows = gone.len(), "flows deleted with their meter");
            self.of_flows_removed(b, gone.iter().map(|e| (e, RemovedReason::Delete)), Instant::now());
            self.of_flush_all();
        }
    }

    /// Checks that every meter a flow's actions name exists on bridge `b`.
    pub(super) fn check_meters(&self, b: BridgeKey, actions: &[Action]) -> Result<(), String> {
        for a in actions {
            if let Action::Meter(m) = a {
                if !self.bridges[b].meters.contains(*m) {
                    return Err(format!("meter:{m}: meter {m} does not exist"));
                }
            }
        }
        Ok(())
    }

    /// Applies an OpenFlow METER_MOD to bridge `b`.
    pub(super) fn of_meter_mod(&mut self, b: BridgeKey, mm: &MeterMod) -> Result<(), MeterError> {
        let now = Instant::now();
        match mm.command {
            MeterModCommand::Delete => {
                // Deleting a meter that does not exist is not an error (as OVS).
                if mm.meter_id == METER_ALL || self.bridges[b].meters.contains(mm.meter_id) {
                    self.delete_meters(b, mm.meter_id);
                }
                Ok(())
            }
            MeterModCommand::Add => self.bridges[b].meters.add(config_from_of(mm)?, now),
            MeterModCommand::Modify => self.bridges[b].meters.modify(config_from_of(mm)?, now),
        }
    }

    /// OFPMP_METER_CONFIG: the meters `id` selects.
    pub(super) fn of_meter_configs(&self, b: BridgeKey, id: u32) -> Vec<of::MeterConfig> {
        self.selected_meters(b, id)
            .map(|m| {
                let c = m.config();
                of::MeterConfig {
                    flags: of_flags(c),
                    meter_id: c.id,
                    bands: c
                        .bands
                        .iter()
                        .map(|band| MeterBand {
                            band_type: OFPMBT_DROP,
                            rate: band.rate,
                            burst_size: band.burst_size,
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// OFPMP_METER: the counters of the meters `id` selects.
    pub(super) fn of_meter_stats(&self, b: BridgeKey, id: u32) -> Vec<of::MeterStats> {
        let now = Instant::now();
        self.selected_meters(b, id)
            .map(|m| {
                let s = m.stats(now);
                of::MeterStats {
                    meter_id: m.config().id,
                    flow_count: self.meter_flows(b, m.config().id).min(u64::from(u32::MAX)) as u32,
                    packet_in_count: s.packets,
                    byte_in_count: s.bytes,
                    duration: s.duration,
                    bands: s.bands,
                }
            })
            .collect()
    }

    /// The meters of bridge `b` as the db stores them, in the syntax
    /// `add-meter` takes.
    pub(super) fn meters_to_db(&self, b: BridgeKey) -> Vec<String> {
        self.bridges[b]
            .meters
            .iter()
            .map(|m| syntax::to_text(m.config()))
            .collect()
    }

    /// Restores bridge `b`'s meters from the db (before its flows, which
    /// may use them).
    pub(super) fn meters_from_db(&mut self, b: BridgeKey, lines: &[String]) -> Result<(), String> {
        let now = Instant::now();
        for (n, line) in lines.iter().enumerate() {
            let cfg = syntax::parse_meter(line).map_err(|e| format!("meter {}: {e}", n + 1))?;
            self.bridges[b]
                .meters
                .add(cfg, now)
                .map_err(|e| format!("meter {}: {e}", n + 1))?;
        }
        Ok(())
    }
}

/// OFPMP_METER_FEATURES: what the meters of this switch can do.
pub(super) fn of_features() -> of::MeterFeatures {
    of::MeterFeatures {
        max_meter: MAX_METERS as u32,
        band_types: 1 << OFPMBT_DROP,
        capabilities: u32::from(mf::KBPS | mf::PKTPS | mf::BURST | mf::STATS),
        max_bands: MAX_BANDS as u8,
        max_color: 0,
    }
}

/// A METER_MOD's meter, checked as `add-meter` checks its text.
fn config_from_of(mm: &MeterMod) -> Result<MeterConfig, MeterError> {
    // The id, the number of bands and their rates and bursts are checked by
    // `validate`, as for add-meter; here only what the wire form adds.
    let unit = match mm.flags & (mf::KBPS | mf::PKTPS) {
        mf::KBPS => Unit::Kbps,
        mf::PKTPS => Unit::Pktps,
        _ => {
            return Err(MeterError::BadFlags(
                "exactly one of kbps and pktps is needed".into(),
            ))
        }
    };
    if mm.flags & !(mf::KBPS | mf::PKTPS | mf::BURST | mf::STATS) != 0 {
        return Err(MeterError::BadFlags(format!(
            "unknown meter flags {:#x}",
            mm.flags
        )));
    }
    let burst = mm.flags & mf::BURST != 0;
    let mut bands = Vec::with_capacity(mm.bands.len());
    for band in &mm.bands {
        if band.band_type != OFPMBT_DROP {
            return Err(MeterError::BadBand(format!(
                "band type {} is not supported (only drop)",
                band.band_type
            )));
        }
        bands.push(BandConfig {
            rate: band.rate,
            // Without the burst flag a burst size means nothing (OpenFlow
            // 1.3.5 §7.3.4.4); the default applies.
            burst_size: if burst { band.burst_size } else { 0 },
        });
    }
    let cfg = MeterConfig {
        id: mm.meter_id,
        unit,
        burst,
        stats: mm.flags & mf::STATS != 0,
        bands,
    };
    validate(&cfg)?;
    Ok(cfg)
}

fn of_flags(c: &MeterConfig) -> u16 {
    let unit = match c.unit {
        Unit::Kbps => mf::KBPS,
        Unit::Pktps => mf::PKTPS,
    };
    unit | if c.burst { mf::BURST } else { 0 } | if c.stats { mf::STATS } else { 0 }
}

/// A meter error for switchctl: what kind of failure, and the reason.
fn meter_error(e: MeterError, bridge: &IfName) -> Error {
    let kind = match e {
        MeterError::Exists(_) => ErrorKind::AlreadyExists,
        MeterError::Unknown(_) => ErrorKind::InvalidArgument,
        _ => ErrorKind::InvalidArgument,
    };
    Error::new(kind, format!("bridge {:?}: {e}", bridge.as_str()))
}

/// One meter as `dump-meters` reports it.
fn meter_info(m: &Meter, flows: u64, now: Instant) -> MeterInfo {
    let c = m.config();
    let s = m.stats(now);
    MeterInfo {
        meter: c.id,
        unit: c.unit.as_str().to_owned(),
        burst: c.burst,
        stats: c.stats,
        flows,
        packets: s.packets,
        bytes: s.bytes,
        duration_ms: s.duration.as_millis().min(u128::from(u64::MAX)) as u64,
        bands: c
            .bands
            .iter()
            .enumerate()
            .map(|(i, band)| {
                let (packets, bytes) = s.bands.get(i).copied().unwrap_or_default();
                MeterBandInfo {
                    band_type: "drop".into(),
                    rate: band.rate,
                    burst_size: band.burst_in_effect(),
                    packets,
                    bytes,
                }
            })
            .collect(),
    }
}

//! The `ovs-ofctl` meter syntax: TODO (helper).
use super::MeterConfig;

/// Parses `meter=N,(kbps|pktps)[,burst][,stats],bands=type=drop,rate=R[,burst_size=B][,type=drop,...]`.
pub fn parse_meter(s: &str) -> Result<MeterConfig, String> {
    Err(format!("cannot parse {s:?} yet"))
}

/// Parses the meter selection of `del-meter`/`dump-meters`: `meter=N`,
/// `meter=all` or the empty string (all); `None` means every meter.
pub fn parse_meter_id(s: &str) -> Result<Option<u32>, String> {
    Err(format!("cannot parse {s:?} yet"))
}

/// The canonical text of a meter, which [`parse_meter`] reads back:
/// `meter=1,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100`.
pub fn to_text(c: &MeterConfig) -> String {
    format!("meter={}", c.id)
}

//! Rate control (SPEC §12): the token bucket shared by port policing and
//! OpenFlow meters, the per-port policer with Open vSwitch's units and
//! defaults, the meters of a bridge, and the `ovs-ofctl` meter syntax.
//!
//! Everything here is pure: time is a parameter (an [`std::time::Instant`]
//! the engine reads once per batch), nothing allocates per frame, and the
//! engine only pays for what is configured (a port without a policer, a
//! flow without `meter:N`, never reaches this module).
//!
//! - [`bucket`]: [`TokenBucket`], nanosecond-exact integer arithmetic;
//! - [`policer`]: [`Policer`], `ingress_policing_rate`/`_burst` and the
//!   egress policer;
//! - [`meter`]: [`MeterTable`] and [`Meter`], OpenFlow 1.3 meters with drop
//!   bands and their counters;
//! - [`syntax`]: parsing `meter=N,kbps,...,bands=type=drop,rate=R` and
//!   printing it back;
//! - [`types`]: the configuration values and errors the others share.

pub mod bucket;
pub mod meter;
pub mod policer;
pub mod syntax;
pub mod types;

pub use bucket::TokenBucket;
pub use meter::{Meter, MeterStats, MeterTable};
pub use policer::Policer;
pub use types::{BandConfig, MeterConfig, MeterError, Unit, MAX_BANDS, MAX_METERS, METER_ID_MAX};

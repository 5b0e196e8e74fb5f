//! The `switchd` control protocol, shared by the daemon and `switchctl` and
//! nothing else: validated value types ([`types`]), requests ([`request`]),
//! replies ([`reply`]), the typed error ([`error`]), line framing
//! ([`codec`]) and the binary stream of a capture ([`capture`]).
//!
//! The transport is a Unix stream socket; each message is one line of JSON
//! carrying a protocol `version`. A client may send several requests on one
//! connection; each gets exactly one reply, in order.

#![deny(missing_docs)]

pub mod capture;
pub mod codec;
pub mod error;
pub mod reply;
pub mod request;
pub mod types;

pub use capture::{BpfInsn, CaptureDirection};
pub use error::{Error, ErrorKind};
pub use reply::{
    BondInfo, BondMemberInfo, BondShowInfo, BridgeControllers, BridgeCounters, BridgeInfo, ControllerInfo,
    ControllerRole, ControllerState, ControllersInfo, CountersInfo, FdbEntry, FlowInfo, FlowsInfo,
    LacpBondInfo, LacpMemberInfo, LacpShowInfo, LacpState, LacpStatus, LacpSystem, MeterBandInfo, MeterInfo,
    MetersInfo, MirrorInfo, MirrorsInfo, PortInfo, PortState, PortStats, Reply, RestartInfo, RstpBridgeInfo,
    RstpInfo, RstpPortInfo, RstpProtocol, RstpRole, RstpState, TableCounters, TraceAction, TraceInfo,
    TraceResult, TraceStage, TraceStep,
};
pub use request::Request;
pub use types::{
    BondConfig, BondMode, BridgeClearKey, BridgeId, BridgeSetting, ClearKey, ControllerTarget, DatapathId,
    ExportSetting, ExternalIdsTable, FailMode, IfName, InvalidValue, LacpMode, LacpTime, MacAddr,
    MirrorConfig, OfVersion, OfVersions, PortConfig, PortSetting, PortType, RstpBridgeConfig, RstpPortConfig,
    RstpPortId, Trunks, VlanId, VlanMode, IPFIX_KEYS, MIRRORS_MAX, SFLOW_KEYS,
};

/// Default control socket path.
pub const DEFAULT_SOCKET: &str = "/run/switchd/switchd.sock";
/// Environment variable that overrides the socket path for `switchctl`.
pub const SOCKET_ENV: &str = "SWITCHD_SOCKET";

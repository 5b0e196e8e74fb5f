//! Requests a client sends to `switchd`, one per control message.
//!
//! Each variant is one `switchctl` command (SPEC §5). Names and settings are
//! the validated types of [`crate::types`], so a request that decodes is
//! already well-formed; whether it makes sense against the current state
//! (unknown bridge, duplicate port) is the daemon's to say.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::capture::{self, BpfInsn, CaptureDirection, SNAPLEN_MAX};
use crate::types::{
    BridgeClearKey, BridgeSetting, ClearKey, ControllerTarget, ExportSetting, ExternalIdsTable, IfName,
    InvalidValue, MirrorConfig, PortConfig, PortSetting, FLOW_TABLE_ALL, FLOW_TABLE_MAX, FLOW_TEXT_MAX,
};

/// A control request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// Create a bridge. With `may_exist`, an existing bridge is not an error.
    AddBr {
        /// Bridge name.
        bridge: IfName,
        /// `--may-exist`
        #[serde(default)]
        may_exist: bool,
    },
    /// Delete a bridge and all its ports. With `if_exists`, a missing bridge is not an error.
    DelBr {
        /// Bridge name.
        bridge: IfName,
        /// `--if-exists`
        #[serde(default)]
        if_exists: bool,
    },
    /// Names of all bridges.
    ListBr,
    /// Add a port to a bridge. With `may_exist`, a port that already exists
    /// on the same bridge is left as it is (as `ovs-vsctl --may-exist`).
    AddPort {
        /// Bridge name.
        bridge: IfName,
        /// Port (and device) name.
        port: IfName,
        /// `KEY=VALUE` settings.
        #[serde(default)]
        settings: Vec<PortSetting>,
        /// `--may-exist`
        #[serde(default)]
        may_exist: bool,
        /// Add a `system` port even if its device does not exist yet: it
        /// is then down (`no such device`) until the device appears, as
        /// `ovs-vsctl add-port` does. Without it such an `add-port` fails
        /// (SPEC §2).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        missing_ok: bool,
    },
    /// Remove a port. If `bridge` is given the port must be on it.
    DelPort {
        /// Optional bridge the port must belong to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bridge: Option<IfName>,
        /// Port name.
        port: IfName,
        /// `--if-exists`
        #[serde(default)]
        if_exists: bool,
    },
    /// Names of a bridge's ports.
    ListPorts {
        /// Bridge name.
        bridge: IfName,
    },
    /// Change settings of an existing port; all or nothing.
    SetPort {
        /// Port name.
        port: IfName,
        /// Settings to apply.
        settings: Vec<PortSetting>,
    },
    /// Change the `external_ids` of a bridge, a port or an interface (as
    /// `ovs-vsctl set|remove|clear TABLE REC external_ids...`): kept,
    /// stored and shown, never interpreted. Applied in order: `clear`,
    /// `remove`, `set`; all or nothing.
    SetExternalIds {
        /// Which record kind.
        table: ExternalIdsTable,
        /// The bridge or port name.
        record: IfName,
        /// Remove every key first.
        #[serde(default)]
        clear: bool,
        /// Keys to remove (absent keys are not an error, as OVS).
        #[serde(default)]
        remove: Vec<String>,
        /// Keys to set.
        #[serde(default)]
        set: BTreeMap<String, String>,
    },
    /// Remove settings of an existing port; all or nothing.
    ClearPort {
        /// Port name.
        port: IfName,
        /// Settings to remove.
        keys: Vec<ClearKey>,
    },
    /// Change settings of a bridge; all or nothing.
    SetBridge {
        /// Bridge name.
        bridge: IfName,
        /// Settings to apply.
        settings: Vec<BridgeSetting>,
    },
    /// sFlow / IPFIX settings of a bridge (SPEC §11), all or nothing.
    SetExport {
        /// Bridge name.
        bridge: IfName,
        /// Settings to apply.
        settings: Vec<ExportSetting>,
    },
    /// Remove a bridge's sFlow or IPFIX configuration (export stops; IPFIX
    /// first exports what its cache holds).
    ClearBridge {
        /// Bridge name.
        bridge: IfName,
        /// What to remove.
        keys: Vec<BridgeClearKey>,
    },
    /// Engine and table counters for monitoring (`switchd --metrics`,
    /// SPEC §11): engine loops and batches, MAC table events, floods, flow
    /// table lookups per table.
    Counters,
    /// Every bridge with its ports, configuration and state.
    Show,
    /// Replace the running image with the `switchd` binary on disk now, in
    /// the same process, handing every open port, tunnel socket and the
    /// control socket over (SPEC §13). The reply comes from the new image.
    Restart,
    /// The MAC table of a bridge, oldest entry first.
    FdbShow {
        /// Bridge name.
        bridge: IfName,
    },
    /// Remove learned MAC entries of one bridge, or of all bridges.
    FdbFlush {
        /// Bridge name; all bridges if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bridge: Option<IfName>,
    },
    /// Per-port counters of one bridge, or of all bridges.
    PortStats {
        /// Bridge name; all bridges if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bridge: Option<IfName>,
    },
    /// Spanning tree state of one bridge, or of every bridge that runs RSTP
    /// (SPEC §7; like `ovs-appctl rstp/show`).
    RstpShow {
        /// Bridge name; all bridges if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bridge: Option<IfName>,
    },
    /// Add a bond (SPEC §8): one port of `bridge` made of `members`, 2–32
    /// existing `system` devices. With `may_exist`, a bond of that name
    /// already on the same bridge is not an error. `del-port` removes it.
    AddBond {
        /// Bridge name.
        bridge: IfName,
        /// Bond (port) name.
        bond: IfName,
        /// Member device names, in order.
        members: Vec<IfName>,
        /// `KEY=VALUE` settings: the bond keys, VLAN keys, `mtu`, `rstp_*`.
        #[serde(default)]
        settings: Vec<PortSetting>,
        /// `--may-exist`
        #[serde(default)]
        may_exist: bool,
    },
    /// State of one bond, or of every bond (like `ovs-appctl bond/show`).
    BondShow {
        /// Bond name; all bonds if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bond: Option<IfName>,
    },
    /// LACP state of one bond, or of every bond that runs LACP (like
    /// `ovs-appctl lacp/show`).
    LacpShow {
        /// Bond name; all bonds if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bond: Option<IfName>,
    },
    // Flow tables (SPEC §9). Flows travel as the text the user typed: the
    // daemon alone parses the `ovs-ofctl` syntax, so there is one parser and
    // one set of error messages. Only the size is checked here.
    /// Add one flow, or replace the actions (and reset the counters) of the
    /// flow with the same match and priority (`ovs-ofctl add-flow`).
    AddFlow {
        /// Bridge name.
        bridge: IfName,
        /// The flow, e.g. `priority=100,in_port=vm1,tcp,tp_dst=22,actions=drop`.
        flow: String,
    },
    /// Add the flows of a text, one per line; blank lines and `#` comments
    /// are ignored, and the statistics fields of `dump-flows` lines too. All
    /// or nothing: a bad line is refused as `line N: reason`.
    AddFlows {
        /// Bridge name.
        bridge: IfName,
        /// The whole text, as read from the file or stdin.
        text: String,
    },
    /// Change the actions of the flows that `flow`'s match selects (all
    /// flows it covers, or with `strict` only the one with exactly that
    /// match and priority).
    ModFlows {
        /// Bridge name.
        bridge: IfName,
        /// Match and new actions, e.g. `in_port=vm1,actions=normal`.
        flow: String,
        /// `--strict`
        #[serde(default)]
        strict: bool,
    },
    /// Delete the flows a match selects; every flow if `filter` is absent.
    DelFlows {
        /// Bridge name.
        bridge: IfName,
        /// The match (may give `table=` and `cookie=V/MASK`); all flows if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filter: Option<String>,
        /// `--strict`: only the flow with exactly this match and priority.
        #[serde(default)]
        strict: bool,
    },
    /// Make the flow tables exactly the flows of a text (as `add-flows`
    /// reads it), atomically: on any error nothing changes.
    ReplaceFlows {
        /// Bridge name.
        bridge: IfName,
        /// The whole text, as read from the file or stdin.
        text: String,
    },
    /// The flows a match selects, with their counters (`ovs-ofctl
    /// dump-flows`).
    DumpFlows {
        /// Bridge name.
        bridge: IfName,
        /// The match; all flows if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filter: Option<String>,
        /// `--table N`: only table N (0–253); 255 or absent means all tables.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        table: Option<u8>,
    },
    // Meters (SPEC §12), in `ovs-ofctl`'s meter syntax; like flows, the
    // text travels as typed and the daemon alone parses it.
    /// Add a meter: `meter=N,(kbps|pktps)[,burst][,stats],bands=type=drop,rate=R[,burst_size=B]`.
    AddMeter {
        /// Bridge name.
        bridge: IfName,
        /// The meter, as `ovs-ofctl add-meter` takes it.
        meter: String,
    },
    /// Replace the flags and bands of an existing meter (`ovs-ofctl mod-meter`).
    ModMeter {
        /// Bridge name.
        bridge: IfName,
        /// The meter, as for [`Request::AddMeter`].
        meter: String,
    },
    /// Delete a meter (`meter=N`) or every meter; the flows that use a
    /// deleted meter are deleted with it (as Open vSwitch does).
    DelMeter {
        /// Bridge name.
        bridge: IfName,
        /// `meter=N` or `meter=all`; all if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        meter: Option<String>,
    },
    /// The meters of a bridge with their counters (`dump-meters`,
    /// `meter-stats`).
    DumpMeters {
        /// Bridge name.
        bridge: IfName,
        /// `meter=N`; all if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        meter: Option<String>,
    },
    /// Add a mirror (SPEC §11): copies of the selected frames to a port or a VLAN.
    AddMirror {
        /// Bridge name.
        bridge: IfName,
        /// Mirror name (unique on the bridge).
        mirror: IfName,
        /// What it selects and where the copies go.
        config: MirrorConfig,
    },
    /// Remove a mirror.
    DelMirror {
        /// Bridge name.
        bridge: IfName,
        /// Mirror name.
        mirror: IfName,
    },
    /// The mirrors of one bridge, or of all, with what they sent.
    ListMirrors {
        /// Bridge name; all bridges if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bridge: Option<IfName>,
    },
    /// Run a described packet through a bridge without sending it, learning
    /// or counting anything, and report each step (SPEC §11; like
    /// `ovs-appctl ofproto/trace`).
    Trace {
        /// Bridge name.
        bridge: IfName,
        /// The packet in `ovs-ofctl` match syntax, `in_port=P` required:
        /// `in_port=vm1,dl_src=...,dl_dst=...,tcp,tp_dst=80`.
        packet: String,
    },
    // OpenFlow controllers (SPEC §10), as `ovs-vsctl`'s commands of the
    // same names.
    /// Make `targets` the bridge's controller targets, replacing any it had:
    /// 1–8 distinct targets ([`ControllerTarget::check_set`]).
    SetController {
        /// Bridge name.
        bridge: IfName,
        /// The targets, in the order given.
        targets: Vec<ControllerTarget>,
    },
    /// Remove every controller target of a bridge (none is not an error).
    DelController {
        /// Bridge name.
        bridge: IfName,
    },
    /// The controller targets of one bridge, or of every bridge, with the
    /// state of each.
    GetController {
        /// Bridge name; all bridges if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bridge: Option<IfName>,
    },
    /// Stream the frames a port receives and/or sends (SPEC §11). Not an
    /// ordinary exchange: after a `done` reply the connection carries the
    /// records of [`crate::capture`] until the capture ends.
    Capture {
        /// Port name.
        port: IfName,
        /// Which frames: received, sent or both.
        #[serde(default)]
        direction: CaptureDirection,
        /// Bytes kept of each frame, 1-262144 (default 262144).
        #[serde(default = "default_snaplen")]
        snaplen: u32,
        /// End after this many frames; until stopped if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u64>,
        /// Classic BPF program (as `tcpdump -ddd` prints it, at most 4096
        /// instructions) a frame must pass; every frame if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filter: Option<Vec<BpfInsn>>,
    },
}

fn default_snaplen() -> u32 {
    SNAPLEN_MAX
}

impl Request {
    /// Checks the numeric ranges that the wire types alone cannot express
    /// (names, VLAN ids and trunk lists are checked while decoding), and the
    /// whole configuration of a new bond, which does not depend on any state.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        match self {
            Request::AddPort { settings, .. } | Request::SetPort { settings, .. } => {
                settings.iter().try_for_each(PortSetting::validate)
            }
            Request::AddBond {
                bond,
                members,
                settings,
                ..
            } => {
                settings.iter().try_for_each(PortSetting::validate)?;
                PortConfig::for_bond(bond, members, settings).map(drop)
            }
            Request::SetBridge { settings, .. } => settings.iter().try_for_each(BridgeSetting::validate),
            Request::SetController { targets, .. } => {
                if targets.is_empty() {
                    return Err(InvalidValue(
                        "set-controller needs at least one target (del-controller removes them all)".into(),
                    ));
                }
                ControllerTarget::check_set(targets)
            }
            Request::AddFlow { flow, .. } | Request::ModFlows { flow, .. } => check_flow_text("flow", flow),
            Request::AddFlows { text, .. } | Request::ReplaceFlows { text, .. } => {
                check_flow_text("flow text", text)
            }
            Request::DelFlows { filter, .. } => {
                filter.as_deref().map_or(Ok(()), |m| check_flow_text("match", m))
            }
            Request::DumpFlows { filter, table, .. } => {
                if let Some(m) = filter {
                    check_flow_text("match", m)?;
                }
                table.map_or(Ok(()), check_dump_table)
            }
            Request::Trace { packet, .. } => check_flow_text("packet", packet),
            Request::AddMeter { meter, .. } | Request::ModMeter { meter, .. } => {
                check_flow_text("meter", meter)
            }
            Request::DelMeter { meter, .. } | Request::DumpMeters { meter, .. } => {
                meter.as_deref().map_or(Ok(()), |m| check_flow_text("meter", m))
            }
            Request::AddMirror { config, .. } => config.check(),
            Request::SetExternalIds { remove, set, .. } => {
                remove.iter().try_for_each(|k| check_external_id(k, ""))?;
                set.iter().try_for_each(|(k, v)| check_external_id(k, v))
            }
            Request::Capture {
                snaplen,
                count,
                filter,
                ..
            } => capture::validate(*snaplen, *count, filter.as_deref()),
            _ => Ok(()),
        }
    }

    /// Whether the request changes configuration (and so is written to the db).
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Request::AddBr { .. }
                | Request::DelBr { .. }
                | Request::AddPort { .. }
                | Request::DelPort { .. }
                | Request::SetPort { .. }
                | Request::ClearPort { .. }
                | Request::SetBridge { .. }
                | Request::AddBond { .. }
                // The db stores the flows added with switchctl (SPEC §9).
                | Request::AddFlow { .. }
                | Request::AddFlows { .. }
                | Request::ModFlows { .. }
                | Request::DelFlows { .. }
                | Request::ReplaceFlows { .. }
                | Request::SetController { .. }
                | Request::DelController { .. }
                | Request::AddMirror { .. }
                | Request::SetExport { .. }
                | Request::ClearBridge { .. }
                | Request::DelMirror { .. }
                | Request::SetExternalIds { .. }
                | Request::AddMeter { .. }
                | Request::ModMeter { .. }
                | Request::DelMeter { .. }
        )
    }
}

/// Refuses a flow, match or flow file longer than [`FLOW_TEXT_MAX`], so a
/// runaway file (or `/dev/zero`) cannot make the daemon buffer and parse
/// without bound. `what` names the text in the message.
pub fn check_flow_text(what: &str, text: &str) -> Result<(), InvalidValue> {
    if text.len() > FLOW_TEXT_MAX {
        return Err(InvalidValue(format!(
            "{what} is {} bytes long, the limit is {FLOW_TEXT_MAX} bytes (4 MiB)",
            text.len()
        )));
    }
    Ok(())
}

/// The table of `dump-flows --table N`: 0–253, or 255 for all tables (as
/// OVS's `OFPTT_ALL`). 254 is not a table users have (OVS keeps it hidden).
pub fn check_dump_table(table: u8) -> Result<(), InvalidValue> {
    if table <= FLOW_TABLE_MAX || table == FLOW_TABLE_ALL {
        return Ok(());
    }
    Err(InvalidValue(format!(
        "table {table} does not exist (tables are 0-{FLOW_TABLE_MAX}; {FLOW_TABLE_ALL} means all tables)"
    )))
}

/// Longest `external_ids` key (bytes).
pub const EXTERNAL_ID_KEY_MAX: usize = 256;
/// Longest `external_ids` value (bytes).
pub const EXTERNAL_ID_VALUE_MAX: usize = 4096;
/// Most `external_ids` keys one record keeps.
pub const EXTERNAL_IDS_MAX: usize = 64;

/// Checks one `external_ids` key and value: a non-empty key of at most
/// [`EXTERNAL_ID_KEY_MAX`] bytes, a value of at most
/// [`EXTERNAL_ID_VALUE_MAX`], neither with control characters.
pub fn check_external_id(key: &str, value: &str) -> Result<(), InvalidValue> {
    if key.is_empty() {
        return Err(InvalidValue("external_ids: a key must not be empty".into()));
    }
    if key.len() > EXTERNAL_ID_KEY_MAX || value.len() > EXTERNAL_ID_VALUE_MAX {
        return Err(InvalidValue(format!(
            "external_ids:{}: keys are at most {EXTERNAL_ID_KEY_MAX} bytes, values {EXTERNAL_ID_VALUE_MAX}",
            key.chars().take(40).collect::<String>()
        )));
    }
    if key.chars().chain(value.chars()).any(char::is_control) {
        return Err(InvalidValue(format!(
            "external_ids:{key}: control characters are not allowed"
        )));
    }
    Ok(())
}

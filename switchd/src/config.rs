//! The persistent configuration db (`--db`, default
//! `/var/lib/switchd/config.json`): bridges, their settings (OpenFlow
//! controllers included) and their ports. MAC tables, counters and the
//! state of controller connections are runtime state and are not stored.
//! Settings added after the first release are optional and left out while
//! they have their default, so an older db loads and an unconfigured
//! bridge is stored as before.
//!
//! Writes are atomic: the new content goes to a temporary file in the same
//! directory, is fsynced, renamed over the old file, and the directory is
//! fsynced, so a crash leaves either the old or the new db, never a mix.
//! Loading validates everything with the same rules as the control
//! protocol; a db that does not validate stops the daemon with a clear
//! error instead of silently dropping part of the configuration.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use proto::{
    BridgeSetting, ControllerTarget, DatapathId, FailMode, IfName, MacAddr, OfVersions, PortConfig,
    RstpBridgeConfig,
};
use serde::{Deserialize, Serialize};

/// Default db path.
pub const DEFAULT_DB: &str = "/var/lib/switchd/config.json";
/// Format version written into the db.
pub const DB_VERSION: u32 = 1;

/// Why the db could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Reading failed.
    #[error("cannot read db {path}: {cause}")]
    Read {
        /// The db path.
        path: PathBuf,
        /// The cause (printed in the message, so not also a `source()`,
        /// which `{:#}` would print a second time).
        cause: io::Error,
    },
    /// The content is not a valid db.
    #[error("db {path} is invalid: {reason}")]
    Invalid {
        /// The db path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Writing failed.
    #[error("cannot write db {path}: {cause}")]
    Write {
        /// The db path.
        path: PathBuf,
        /// The cause (printed in the message, so not also a `source()`,
        /// which `{:#}` would print a second time).
        cause: io::Error,
    },
}

/// The whole stored configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Db {
    /// Format version.
    pub version: u32,
    /// This switch's identity (random, made once), from which bridge MACs
    /// are derived. Absent in a db written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_id: Option<u64>,
    /// Bridges in creation order.
    pub bridges: Vec<BridgeConfig>,
}

impl Default for Db {
    fn default() -> Self {
        Db {
            version: DB_VERSION,
            system_id: None,
            bridges: Vec::new(),
        }
    }
}

/// One stored bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeConfig {
    /// Bridge name.
    pub name: IfName,
    /// MAC ageing in seconds.
    pub mac_aging: u32,
    /// MAC table capacity.
    pub mac_table_size: u32,
    /// The bridge's own MAC address (bridge id, BPDU source). Absent in a
    /// db written before bridges had one; it is then derived from the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    /// Spanning-tree settings (`rstp`, `rstp_priority`, ...).
    #[serde(flatten)]
    pub rstp: RstpBridgeConfig,
    /// Ports in the order they were added.
    #[serde(default)]
    pub ports: Vec<PortEntry>,
    /// The flows added with switchctl, in `ovs-ofctl` syntax with port
    /// numbers (SPEC §9); absent while the bridge has only its default
    /// `priority=0,actions=NORMAL` flow, and in a db written before flow
    /// tables existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows: Option<Vec<String>>,
    /// OpenFlow controller targets (`set-controller`, SPEC §10), in the
    /// order given; absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controllers: Vec<ControllerTarget>,
    /// `fail_mode`; absent while standalone, the default.
    #[serde(default, skip_serializing_if = "is_default")]
    pub fail_mode: FailMode,
    /// `protocols` (a list of version names); absent while both, the default.
    #[serde(default, skip_serializing_if = "is_default")]
    pub protocols: OfVersions,
    /// `datapath_id` (16 hex digits); absent while the bridge uses the one
    /// derived from its MAC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapath_id: Option<DatapathId>,
    /// Mirrors (SPEC §11); absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mirrors: Vec<MirrorEntry>,
    /// sFlow settings not at their default, as `key=value` (SPEC §11).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sflow: Vec<String>,
    /// IPFIX settings not at their default, as `key=value` (SPEC §11).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipfix: Vec<String>,
    /// Meters (SPEC §12) in `add-meter` syntax, by id; absent when there
    /// are none. Restored before the flows, which may use them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meters: Vec<String>,
    /// `external_ids` of the bridge (ovs-vsctl's face); absent when empty.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub external_ids: std::collections::BTreeMap<String, String>,
}

/// For `skip_serializing_if`: a setting at its default is not written.
fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

impl BridgeConfig {
    /// The stored sFlow and IPFIX settings applied to their defaults.
    ///
    /// # Errors
    /// The first setting that does not apply.
    pub fn export_configs(&self) -> Result<(crate::sflow::SflowConfig, crate::ipfix::IpfixConfig), String> {
        let mut sf = crate::sflow::SflowConfig::default();
        for p in &self.sflow {
            sf.set_pair(p)?;
        }
        let mut ix = crate::ipfix::IpfixConfig::default();
        for p in &self.ipfix {
            ix.set_pair(p)?;
        }
        Ok((sf, ix))
    }
}

/// One stored mirror (SPEC §11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorEntry {
    /// Mirror name.
    pub name: IfName,
    /// Its selection and output.
    #[serde(flatten)]
    pub config: proto::MirrorConfig,
}

/// One stored port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortEntry {
    /// Port name.
    pub name: IfName,
    /// OpenFlow port number (SPEC §9), kept across restarts. Absent in a
    /// db written before ports had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ofport: Option<u16>,
    /// Its configuration.
    #[serde(flatten)]
    pub config: PortConfig,
}

impl Db {
    /// Checks what serde alone cannot: ranges, combinations, unique names.
    pub fn validate(&self) -> Result<(), String> {
        if self.version != DB_VERSION {
            return Err(format!(
                "version {} is not supported (expected {DB_VERSION})",
                self.version
            ));
        }
        let mut bridges = HashSet::new();
        let mut ports = HashSet::new();
        for b in &self.bridges {
            if !bridges.insert(b.name.as_str()) {
                return Err(format!("bridge {:?} appears twice", b.name.as_str()));
            }
            BridgeSetting::MacAging(b.mac_aging)
                .validate()
                .and(BridgeSetting::MacTableSize(b.mac_table_size).validate())
                .and(b.rstp.check())
                .map_err(|e| format!("bridge {:?}: {e}", b.name.as_str()))?;
            for p in &b.ports {
                if !ports.insert(p.name.as_str()) {
                    return Err(format!("port {:?} appears twice", p.name.as_str()));
                }
                p.config
                    .validate()
                    .map_err(|e| format!("port {:?}: {e}", p.name.as_str()))?;
            }
            // A set set-controller would take, bar emptiness (none is a
            // bridge without controllers); protocols and datapath_id
            // are checked by their types while decoding.
            ControllerTarget::check_set(&b.controllers)
                .map_err(|e| format!("bridge {:?}: {e}", b.name.as_str()))?;
            let mut meters = HashSet::new();
            for (n, m) in b.meters.iter().enumerate() {
                let cfg = crate::qos::syntax::parse_meter(m)
                    .map_err(|e| format!("bridge {:?}: meter {}: {e}", b.name.as_str(), n + 1))?;
                if !meters.insert(cfg.id) {
                    return Err(format!(
                        "bridge {:?}: meter {} appears twice",
                        b.name.as_str(),
                        cfg.id
                    ));
                }
            }
            for (n, f) in b.flows.iter().flatten().enumerate() {
                let spec = crate::flow::syntax::parse_flow(f, &crate::flow::NoNames)
                    .map_err(|e| format!("bridge {:?}: flow {}: {e}", b.name.as_str(), n + 1))?;
                for a in &spec.actions {
                    if let crate::flow::Action::Meter(m) = a {
                        if !meters.contains(m) {
                            return Err(format!(
                                "bridge {:?}: flow {}: meter {m} does not exist",
                                b.name.as_str(),
                                n + 1
                            ));
                        }
                    }
                }
            }
            let mut mirrors = HashSet::new();
            for m in &b.mirrors {
                if !mirrors.insert(m.name.as_str()) {
                    return Err(format!(
                        "bridge {:?}: mirror {:?} appears twice",
                        b.name.as_str(),
                        m.name.as_str()
                    ));
                }
                m.config.check().map_err(|e| {
                    format!("bridge {:?}: mirror {:?}: {e}", b.name.as_str(), m.name.as_str())
                })?;
            }
            b.export_configs()
                .map_err(|e| format!("bridge {:?}: {e}", b.name.as_str()))?;
            if b.mirrors.len() > proto::MIRRORS_MAX {
                return Err(format!(
                    "bridge {:?}: more than {} mirrors",
                    b.name.as_str(),
                    proto::MIRRORS_MAX
                ));
            }
        }
        Ok(())
    }
}

/// Reads the db; a missing file is an empty configuration.
pub fn load(path: &Path) -> Result<Db, ConfigError> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Db::default()),
        Err(cause) => {
            return Err(ConfigError::Read {
                path: path.into(),
                cause,
            })
        }
    };
    let db: Db = serde_json::from_slice(&text).map_err(|e| ConfigError::Invalid {
        path: path.into(),
        reason: e.to_string(),
    })?;
    db.validate().map_err(|reason| ConfigError::Invalid {
        path: path.into(),
        reason,
    })?;
    Ok(db)
}

/// Writes the db atomically (temp file, fsync, rename, fsync directory).
pub fn save(path: &Path, db: &Db) -> Result<(), ConfigError> {
    let err = |cause| ConfigError::Write {
        path: path.into(),
        cause,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(err)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp.{}", std::process::id()));
    let mut text = serde_json::to_vec_pretty(db).map_err(|e| err(io::Error::other(e)))?;
    text.push(b'\n');
    let write = || -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(&dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        err(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Db {
        Db {
            version: DB_VERSION,
            system_id: Some(7),
            bridges: vec![BridgeConfig {
                name: "br0".parse().unwrap(),
                mac_aging: 60,
                mac_table_size: 100,
                mac: Some(MacAddr([0x02, 0, 0, 0, 0, 1])),
                rstp: RstpBridgeConfig::default(),
                flows: None,
                controllers: vec![],
                fail_mode: FailMode::default(),
                protocols: OfVersions::default(),
                datapath_id: None,
                mirrors: vec![],
                sflow: vec![],
                ipfix: vec![],
                meters: vec![],
                external_ids: Default::default(),
                ports: vec![PortEntry {
                    name: "vnet0".parse().unwrap(),
                    ofport: Some(1),
                    config: PortConfig::from_settings(&[
                        "type=tap".parse().unwrap(),
                        "tag=10".parse().unwrap(),
                    ])
                    .unwrap(),
                }],
            }],
        }
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("switchd-config-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn save_then_load_round_trips() {
        let d = tmpdir("rt");
        let path = d.join("sub/config.json");
        assert_eq!(load(&path).unwrap(), Db::default());
        save(&path, &sample()).unwrap();
        assert_eq!(load(&path).unwrap(), sample());
        // no temporary files are left behind
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn invalid_db_is_refused_with_reason() {
        let d = tmpdir("bad");
        fs::create_dir_all(&d).unwrap();
        let path = d.join("config.json");
        let mut db = sample();
        db.bridges[0].ports[0].config.trunks = Some("20".parse().unwrap());
        fs::write(&path, serde_json::to_vec(&db).unwrap()).unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("port \"vnet0\"") && e.contains("trunks"), "{e}");
        fs::write(&path, b"{not json").unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("is invalid"));
        let mut db = sample();
        db.bridges[0].mac_aging = 0;
        fs::write(&path, serde_json::to_vec(&db).unwrap()).unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("mac_aging"));
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn openflow_settings_are_stored_only_when_set() {
        // a default bridge is stored as before OpenFlow existed ...
        let v = serde_json::to_value(sample()).unwrap();
        let keys: Vec<&String> = v["bridges"][0].as_object().unwrap().keys().collect();
        for key in ["controllers", "fail_mode", "protocols", "datapath_id"] {
            assert!(!keys.iter().any(|k| *k == key), "{key} written: {keys:?}");
        }
        // ... and such a db (as an older switchd wrote it) loads with the defaults
        let old: Db = serde_json::from_value(v).unwrap();
        assert_eq!(old, sample());
        assert!(old.bridges[0].controllers.is_empty());
        assert_eq!(old.bridges[0].fail_mode, FailMode::Standalone);
        assert_eq!(old.bridges[0].protocols, OfVersions::ALL);
        assert_eq!(old.bridges[0].datapath_id, None);
        // set: written with the switchctl spellings, and read back
        let mut db = sample();
        let b = &mut db.bridges[0];
        b.controllers = vec![
            "tcp:127.0.0.1".parse().unwrap(),
            "punix:/run/c.sock".parse().unwrap(),
        ];
        b.fail_mode = FailMode::Secure;
        b.protocols = "OpenFlow10".parse().unwrap();
        b.datapath_id = Some("0000020000000001".parse().unwrap());
        let v = serde_json::to_value(&db).unwrap();
        assert_eq!(
            v["bridges"][0]["controllers"],
            serde_json::json!(["tcp:127.0.0.1:6653", "punix:/run/c.sock"])
        );
        assert_eq!(v["bridges"][0]["fail_mode"], "secure");
        assert_eq!(v["bridges"][0]["protocols"], serde_json::json!(["OpenFlow10"]));
        assert_eq!(v["bridges"][0]["datapath_id"], "0000020000000001");
        let d = tmpdir("openflow");
        let path = d.join("config.json");
        save(&path, &db).unwrap();
        assert_eq!(load(&path).unwrap(), db);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn bad_openflow_settings_are_refused_with_reason() {
        let d = tmpdir("badof");
        fs::create_dir_all(&d).unwrap();
        let path = d.join("config.json");
        let with = |key: &str, value: serde_json::Value| {
            let mut v = serde_json::to_value(sample()).unwrap();
            v["bridges"][0][key] = value;
            fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
            load(&path).unwrap_err().to_string()
        };
        for (key, value, reason) in [
            (
                "controllers",
                serde_json::json!(["tcp:10.0.0.1", "tcp:10.0.0.1:6653"]),
                "bridge \"br0\": controller target \"tcp:10.0.0.1:6653\" is given twice",
            ),
            (
                "controllers",
                serde_json::json!((1..=9).map(|p| format!("tcp:10.0.0.1:{p}")).collect::<Vec<_>>()),
                "bridge \"br0\": a bridge has at most 8 controller targets, got 9",
            ),
            (
                "controllers",
                serde_json::json!(["tcp:ctl"]),
                "invalid controller target \"tcp:ctl\"",
            ),
            (
                "fail_mode",
                serde_json::json!("open"),
                "unknown variant `open`, expected `standalone` or `secure`",
            ),
            (
                "protocols",
                serde_json::json!([]),
                "protocols: at least one version is needed",
            ),
            (
                "datapath_id",
                serde_json::json!("0000000000000000"),
                "datapath_id: 0000000000000000 is not allowed",
            ),
        ] {
            let e = with(key, value);
            assert!(e.contains("is invalid") && e.contains(reason), "{key}: {e}");
        }
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn an_io_error_is_printed_once_in_the_chain() {
        // A directory where the db should be: reading it fails with EISDIR.
        let dir = tmpdir("eisdir");
        fs::create_dir_all(&dir).unwrap();
        let e = load(&dir).unwrap_err();
        let chain = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(chain.matches("Is a directory").count(), 1, "{chain}");
        let _ = fs::remove_dir_all(&dir);
    }
}

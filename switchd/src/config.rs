//! The persistent configuration db (`--db`, default
//! `/var/lib/switchd/config.json`): bridges, their settings and their ports.
//! MAC tables and counters are runtime state and are not stored.
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

use proto::{BridgeSetting, IfName, MacAddr, PortConfig, RstpBridgeConfig};
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
            for (n, f) in b.flows.iter().flatten().enumerate() {
                crate::flow::syntax::parse_flow(f, &crate::flow::NoNames)
                    .map_err(|e| format!("bridge {:?}: flow {}: {e}", b.name.as_str(), n + 1))?;
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

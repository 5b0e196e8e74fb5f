//! The typed error a request can fail with: a machine-readable kind plus a
//! human message naming the offending value. `switchctl` prints the message;
//! scripts can match on the kind in `--json` output.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What went wrong, broadly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The message could not be decoded (not JSON, unknown field, bad value).
    BadRequest,
    /// The message exceeded the size limit.
    TooLarge,
    /// The client speaks another protocol version.
    VersionMismatch,
    /// A value or combination of values is invalid.
    InvalidArgument,
    /// The named bridge does not exist.
    NoSuchBridge,
    /// The named port does not exist.
    NoSuchPort,
    /// The name is already in use.
    AlreadyExists,
    /// The feature is not available in this build.
    Unsupported,
    /// A device or socket could not be opened or configured.
    Device,
    /// The change was applied but could not be written to the db.
    Persist,
    /// The daemon is shutting down or hit an internal error.
    Internal,
    /// `restart`: the new binary failed its check or could not be
    /// executed; the running image goes on serving (SPEC §13).
    RestartRefused,
}

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct Error {
    /// What went wrong, broadly.
    pub kind: ErrorKind,
    /// What went wrong, for a person.
    pub message: String,
}

impl Error {
    /// Builds an error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<crate::types::InvalidValue> for Error {
    fn from(e: crate::types::InvalidValue) -> Self {
        Error::new(ErrorKind::InvalidArgument, e.0)
    }
}

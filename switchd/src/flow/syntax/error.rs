//! The one error type of the flow syntax, and its constructor for the
//! common "token: reason" case; a leaf every other syntax file imports.

/// Why a flow, match or action list was refused. `Display` is one line that
/// names the offending token and says what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    /// A `key` that is neither a match field, a flow field nor a shorthand.
    #[error("unknown field \"{0}\"")]
    UnknownField(String),
    /// An action keyword that is not known (and is not a port either).
    #[error("unknown action \"{0}\"")]
    UnknownAction(String),
    /// A field given twice (also under another of its names, e.g. `tp_dst`
    /// and `tcp_dst`).
    #[error("duplicate field \"{0}\"")]
    Duplicate(String),
    /// An `add-flow` line without `actions=`.
    #[error("missing \"actions=\" (every flow needs actions; \"actions=drop\" drops)")]
    MissingActions,
    /// Anything else: `what` is the token (field or action name), `reason`
    /// what is wrong with it.
    #[error("{what}: {reason}")]
    Invalid {
        /// The offending token.
        what: String,
        /// What is wrong.
        reason: String,
    },
}

/// Shorthand for [`SyntaxError::Invalid`].
pub(super) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> SyntaxError {
    SyntaxError::Invalid {
        what: what.into(),
        reason: reason.into(),
    }
}

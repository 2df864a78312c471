//! The one error type of the library and its binaries.

use std::path::PathBuf;

/// Everything that can go wrong in a client, by kind; every variant names what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line or configuration value is not acceptable.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The value (a flag, a config field, a file).
        what: String,
        /// Why.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The node did not answer (transport, JSON-RPC error, undecodable answer).
    #[error("{what}: {reason}")]
    Rpc {
        /// The call.
        what: String,
        /// Why.
        reason: String,
    },
    /// A transaction or call reverted; `reason` is the decoded custom error where known.
    #[error("{what} reverted: {reason}")]
    Reverted {
        /// The call.
        what: String,
        /// The revert reason.
        reason: String,
    },
    /// The chain holds no such ask, slot or log.
    #[error("not found: {0}")]
    NotFound(String),
    /// A wait ran out of time.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: u64,
    },
    /// The engine's API failed or answered something unusable.
    #[error("engine API {what}: {reason}")]
    Engine {
        /// The request.
        what: String,
        /// Why.
        reason: String,
    },
    /// The engine's attestation or encryption key was refused.
    #[error("engine key refused: {0}")]
    EngineKey(String),
    /// Encryption or decryption of private inputs failed.
    #[error("sealing: {0}")]
    Sealing(String),
    /// The prover failed, timed out or answered something unusable.
    #[error("prover: {0}")]
    Prover(String),
    /// The generator's journal is unreadable or could not be written.
    #[error("journal {}: {reason}", path.display())]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// An [`Error::Invalid`].
    pub fn invalid(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Invalid {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Rpc`].
    pub fn rpc(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Rpc {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    /// An [`Error::Engine`].
    pub fn engine(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Engine {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    /// A stable short name of the variant, for JSON output.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { .. } => "invalid",
            Error::Io { .. } => "io",
            Error::Rpc { .. } => "rpc",
            Error::Reverted { .. } => "reverted",
            Error::NotFound(_) => "not_found",
            Error::Timeout { .. } => "timeout",
            Error::Engine { .. } => "engine",
            Error::EngineKey(_) => "engine_key",
            Error::Sealing(_) => "sealing",
            Error::Prover(_) => "prover",
            Error::Journal { .. } => "journal",
        }
    }
}

/// The library's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

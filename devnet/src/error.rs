//! Why a step failed: one variant per kind of cause, each naming what it was doing.

use std::path::PathBuf;

/// A failed step. The devnet prints it under the step's name and exits 1.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// A chain could not be started.
    #[error(transparent)]
    Anvil(#[from] testkit::AnvilError),
    /// Forge's output or a forge script.
    #[error(transparent)]
    Forge(#[from] testkit::forge::ForgeError),
    /// A contract creation.
    #[error(transparent)]
    Create(#[from] testkit::contracts::CreateError),
    /// The Schnorr prover.
    #[error(transparent)]
    Schnorr(#[from] testkit::schnorr::SchnorrError),
    /// The registry client (registration, lookups).
    #[error("pcr-registry: {0}")]
    Registry(#[from] pcr_registry::error::Error),
    /// A file the devnet reads or writes.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A process could not be started or signalled.
    #[error("{what}: {source}")]
    Process {
        /// Which process, doing what.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// A JSON-RPC call or transaction.
    #[error("{what}: {reason}")]
    Rpc {
        /// The call.
        what: String,
        /// The node's answer or the transport's error.
        reason: String,
    },
    /// A transaction was mined and reverted.
    #[error("transaction reverted: {0}")]
    Reverted(String),
    /// Something did not happen in time.
    #[error("{what} did not happen within {secs} s{hint}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// The bound.
        secs: u64,
        /// Where to look (may be empty).
        hint: String,
    },
    /// A value read from a chain, a process or a file is not the expected one.
    #[error("{0}")]
    Check(String),
}

impl Error {
    /// An RPC error from anything displayable.
    pub(crate) fn rpc(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Rpc {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    /// A file error.
    pub(crate) fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::File {
            path: path.into(),
            source,
        }
    }
}

/// The devnet's result.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// Fails with [`Error::Check`] unless `ok`.
pub(crate) fn ensure(ok: bool, message: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Check(message()))
    }
}

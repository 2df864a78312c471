//! The library's one error type, split by cause. A *negative answer* (image not registered, revoked,
//! PCR mismatch, attestation rejected) is not an error: it is an outcome of the command.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256};

use marketplace_bindings::{
    IEnclaveRegistry, INitroAttestationVerifier, INitroOptimisticVerifier, IPcrRegistry,
};

/// Everything that stops a command from answering.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad local input: a missing file, a file that is not an EIF, a malformed `pcr.json` or
    /// deployment file, a bad argument value. Nothing was sent.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The chain could not be reached or answered something unusable.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// A transaction (or its simulation) was reverted by the contract.
    #[error(transparent)]
    Revert(#[from] Revert),
    /// The signing key could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// `rebuild` could not produce an image.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The command needs a contract that this deployment does not have.
    #[error("not available: {0}")]
    Unavailable(String),
}

/// Bad local input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid EIF.
    #[error("{path} is not a valid EIF: {reason}")]
    NotEif {
        /// The file.
        path: PathBuf,
        /// The parser's reason.
        reason: String,
    },
    /// The `pcr.json` is malformed.
    #[error("malformed pcr.json {path}: {source}")]
    PcrJson {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: nitro_pcrs::PcrJsonError,
    },
    /// PCR0, PCR1 or PCR2 is all zeros (debug mode): never registered.
    #[error("PCR{0} is all zeros (a debug-mode measurement); refusing")]
    DebugPcr(u8),
    /// The deployment file is malformed or lacks a field.
    #[error("malformed deployment file {path}: {reason}")]
    Deployment {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An argument value is invalid.
    #[error("{0}")]
    Invalid(String),
}

impl InputError {
    pub(crate) fn read(path: &Path, source: std::io::Error) -> Self {
        InputError::Read {
            path: path.to_owned(),
            source,
        }
    }
}

/// The signing key could not be loaded (the key itself is never part of a message).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The environment variable is not set.
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    /// The value is not a hex secp256k1 private key.
    #[error("{0} does not hold a valid hex private key")]
    BadKey(String),
    /// The keystore could not be read or decrypted.
    #[error("keystore {path}: {reason}")]
    Keystore {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// `rebuild` failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A step's command could not be started or exited unsuccessfully.
    #[error("{step} failed: {reason}")]
    Step {
        /// Which step (`git clone`, `git checkout`, the build command).
        step: String,
        /// Exit status or spawn error.
        reason: String,
    },
    /// The build finished without producing its PCRs.
    #[error("the build produced no {0}")]
    NoOutput(PathBuf),
}

/// Chain access failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The RPC URL does not parse.
    #[error("invalid RPC URL `{0}`")]
    BadUrl(String),
    /// The endpoint could not be reached or did not answer JSON-RPC.
    #[error("RPC {url} unreachable: {reason}")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// The transport's reason.
        reason: String,
    },
    /// The endpoint serves another chain than the deployment file names.
    #[error(
        "wrong chain: the RPC serves chain id {actual}, the deployment is for chain id {expected}"
    )]
    WrongChain {
        /// The deployment's chain id.
        expected: u64,
        /// The RPC's chain id.
        actual: u64,
    },
    /// No contract code at the registry address.
    #[error("no contract at {0} on this chain (wrong deployment file or chain?)")]
    NoCode(Address),
    /// Any other failed call.
    #[error("RPC call {call} failed: {reason}")]
    Call {
        /// What was being done.
        call: &'static str,
        /// The transport's or node's reason.
        reason: String,
    },
    /// A transaction was sent but not confirmed as successful.
    #[error("transaction {0} failed on chain")]
    TxFailed(B256),
}

/// A contract revert, decoded from the contracts' own interfaces.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Revert {
    /// An `IPcrRegistry` error.
    #[error("reverted: {}", pcr_registry_error(.0))]
    PcrRegistry(IPcrRegistry::IPcrRegistryErrors),
    /// An `IEnclaveRegistry` error.
    #[error("reverted: {}", enclave_registry_error(.0))]
    EnclaveRegistry(IEnclaveRegistry::IEnclaveRegistryErrors),
    /// The full on-chain Nitro verifier refused the document (or its hints).
    #[error("reverted: {0:?}")]
    Verifier(INitroAttestationVerifier::INitroAttestationVerifierErrors),
    /// An optimistic verifier error.
    #[error("reverted: {0:?}")]
    Optimistic(INitroOptimisticVerifier::INitroOptimisticVerifierErrors),
    /// The sender lacks the role the function requires (OpenZeppelin `AccessControl`).
    #[error("missing role: account {account} lacks {role_name} ({role})")]
    MissingRole {
        /// The sender.
        account: Address,
        /// The role id.
        role: B256,
        /// The role's name, when known.
        role_name: &'static str,
    },
    /// A revert this tool cannot decode.
    #[error("reverted: {0}")]
    Other(String),
}

fn pcr_registry_error(e: &IPcrRegistry::IPcrRegistryErrors) -> String {
    use IPcrRegistry::IPcrRegistryErrors as E;
    match e {
        E::PcrRegistryInvalidPcrLength(x) => {
            format!(
                "PcrRegistryInvalidPcrLength(PCR{}, {} bytes)",
                x.index, x.length
            )
        }
        E::PcrRegistryDebugPcr(x) => format!("PcrRegistryDebugPcr(PCR{})", x.index),
        E::PcrRegistryZeroFamily(_) => "PcrRegistryZeroFamily".into(),
        E::PcrRegistryImageAlreadyRegistered(x) => {
            format!("PcrRegistryImageAlreadyRegistered({})", x.imageId)
        }
        E::PcrRegistryImageRevoked(x) => format!("PcrRegistryImageRevoked({})", x.imageId),
        E::PcrRegistryImageNotRegistered(x) => {
            format!("PcrRegistryImageNotRegistered({})", x.imageId)
        }
    }
}

fn enclave_registry_error(e: &IEnclaveRegistry::IEnclaveRegistryErrors) -> String {
    // The derived Debug names the error and its fields, which is what a user needs.
    format!("{e:?}")
}

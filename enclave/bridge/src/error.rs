//! Named errors. Nothing the RPC returns can panic the job: every answer is checked and a bad one
//! becomes an [`RpcError`] or [`DataError`].

use alloy::primitives::{Address, B256};

/// Any failure of the bridge job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// An endpoint failed, disagreed, or answered something impossible.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// Chain data that cannot be right (the RPC is not trusted).
    #[error(transparent)]
    Data(#[from] DataError),
    /// A contract refused a call (found in simulation; nothing was sent).
    #[error(transparent)]
    Revert(#[from] Revert),
    /// The enclave key could not sign.
    #[error("signing: {0}")]
    Sign(#[from] matching_engine::SignError),
}

/// Unusable configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A chain has no read endpoint.
    #[error("{chain}: no RPC endpoint")]
    NoEndpoint {
        /// `L1` or `L2`.
        chain: &'static str,
    },
    /// A numeric setting is out of range.
    #[error("{0}")]
    OutOfRange(String),
}

/// An endpoint failed or misbehaved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The call failed at the transport or JSON-RPC level (not a revert).
    #[error("{chain} {call}: {reason}")]
    Call {
        /// `L1` or `L2`.
        chain: &'static str,
        /// The call.
        call: &'static str,
        /// The endpoint's message.
        reason: String,
    },
    /// No answer in time.
    #[error("{chain} {call}: no answer within {secs} s")]
    Timeout {
        /// `L1` or `L2`.
        chain: &'static str,
        /// The call.
        call: &'static str,
        /// The limit.
        secs: u64,
    },
    /// The endpoint serves another chain.
    #[error("{chain}: endpoint serves chain {actual}, expected {expected}")]
    WrongChain {
        /// `L1` or `L2`.
        chain: &'static str,
        /// The configured chain id.
        expected: u64,
        /// The endpoint's chain id.
        actual: u64,
    },
    /// A contract address holds no code.
    #[error("{chain}: no contract at {address}")]
    NoCode {
        /// `L1` or `L2`.
        chain: &'static str,
        /// The address.
        address: Address,
    },
    /// Two endpoints give different blocks at one height.
    #[error("{chain}: endpoints disagree on block {number}: {a} vs {b}")]
    Disagreement {
        /// `L1` or `L2`.
        chain: &'static str,
        /// The height.
        number: u64,
        /// One hash.
        a: B256,
        /// The other.
        b: B256,
    },
    /// The block changed under the job (a reorganisation below the confirmation depth).
    #[error("{chain}: block {number} changed from {was} to {now} while it was read")]
    Reorganised {
        /// `L1` or `L2`.
        chain: &'static str,
        /// The height.
        number: u64,
        /// The hash read first.
        was: B256,
        /// The hash read after.
        now: B256,
    },
    /// A transaction was mined but failed.
    #[error("{chain} {call}: transaction {tx} failed")]
    TxFailed {
        /// `L1` or `L2`.
        chain: &'static str,
        /// The call.
        call: &'static str,
        /// Its hash.
        tx: B256,
    },
}

/// Chain data that cannot be right.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The endpoint has no such block.
    #[error("{chain}: block {number} not found")]
    MissingBlock {
        /// `L1` or `L2`.
        chain: &'static str,
        /// The height.
        number: u64,
    },
    /// A header whose contents do not hash to the hash the endpoint claims, or whose number is not
    /// the one asked for.
    #[error("{chain}: header of block {number} is inconsistent ({reason})")]
    BadHeader {
        /// `L1` or `L2`.
        chain: &'static str,
        /// The height asked for.
        number: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A block timestamp ahead of the enclave's clock.
    #[error("{chain}: block {number} has timestamp {timestamp}, ahead of the clock ({now})")]
    FutureBlock {
        /// `L1` or `L2`.
        chain: &'static str,
        /// The height.
        number: u64,
        /// Its timestamp.
        timestamp: u64,
        /// The clock.
        now: u64,
    },
    /// `stakeAt` returned arrays of different lengths.
    #[error("stakeAt of {operator}: arrays of {vaults}, {collaterals} and {amounts} entries")]
    StakeArrays {
        /// The operator.
        operator: Address,
        /// Vault count.
        vaults: usize,
        /// Collateral count.
        collaterals: usize,
        /// Amount count.
        amounts: usize,
    },
    /// The same (operator, vault) pair twice, or a zero address.
    #[error("stake entry ({operator}, {vault}) is duplicated or has a zero address")]
    BadStakeEntry {
        /// The operator.
        operator: Address,
        /// The vault.
        vault: Address,
    },
    /// Too many entries for one snapshot (chunk count beyond `u32`, or an operator beyond the
    /// module's vault limit).
    #[error("snapshot too large: {0}")]
    SnapshotTooLarge(String),
    /// A log that is not what the filter asked for (wrong address, topic or undecodable data).
    #[error("{chain}: malformed {event} log in block {block:?}: {reason}")]
    BadLog {
        /// `L1` or `L2`.
        chain: &'static str,
        /// The event.
        event: &'static str,
        /// The block.
        block: Option<u64>,
        /// What is wrong.
        reason: String,
    },
    /// A number does not fit the contract's type (e.g. a time beyond `uint48`).
    #[error("{what} out of range: {value}")]
    OutOfRange {
        /// What.
        what: &'static str,
        /// The value.
        value: String,
    },
}

/// A contract refused a call; the revert decoded against the contracts' interfaces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{chain} {call} reverted: {reason}")]
pub struct Revert {
    /// `L1` or `L2`.
    pub chain: &'static str,
    /// The call.
    pub call: &'static str,
    /// The decoded error, e.g. `EnclaveAuthKeyNotLive(0x…, 0x…)`, or the raw data.
    pub reason: String,
}

impl Revert {
    /// The error's name (`EnclaveAuthKeyNotLive`), without arguments.
    #[must_use]
    pub fn name(&self) -> &str {
        let end = self
            .reason
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.reason.len());
        &self.reason[..end]
    }
}

impl Error {
    /// The revert, if the failure is one.
    #[must_use]
    pub fn revert(&self) -> Option<&Revert> {
        match self {
            Error::Revert(r) => Some(r),
            _ => None,
        }
    }
}

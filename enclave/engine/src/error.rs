//! Errors, split by cause.

use crate::types::{Address, AskId, MarketId};

/// Any error of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The block stream does not link up (gap, wrong parent, reorg deeper than the window).
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A sealed bid could not be opened or built.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// Signing a batch failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// An assignment batch is malformed (a caller bug, never caused by chain data).
    #[error(transparent)]
    Batch(#[from] BatchError),
}

/// An event that does not fit the state it is applied to.
///
/// The contracts make these impossible on a consistent event stream, so one points at a
/// decoding or ingest fault. The engine skips the event, reports it in
/// [`crate::BlockOutcome::rejected`], and keeps every other piece of state intact.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The market does not exist.
    #[error("unknown market {0}")]
    UnknownMarket(MarketId),
    /// The market already exists.
    #[error("market {0} created twice")]
    DuplicateMarket(MarketId),
    /// The ask does not exist.
    #[error("unknown ask {0}")]
    UnknownAsk(AskId),
    /// The ask already exists.
    #[error("ask {0} created twice")]
    DuplicateAsk(AskId),
    /// The ask's redundancy is 0 or above [`crate::MAX_REDUNDANCY`].
    #[error("ask {ask}: redundancy {redundancy} out of range")]
    BadRedundancy {
        /// The ask.
        ask: AskId,
        /// The redundancy it asked for.
        redundancy: u8,
    },
    /// The generator is not registered.
    #[error("unknown generator {0}")]
    UnknownGenerator(Address),
    /// The generator is not in the market.
    #[error("generator {generator} is not in market {market}")]
    NotJoined {
        /// The generator.
        generator: Address,
        /// The market.
        market: MarketId,
    },
    /// The generator is already in the market.
    #[error("generator {generator} already joined market {market}")]
    AlreadyJoined {
        /// The generator.
        generator: Address,
        /// The market.
        market: MarketId,
    },
    /// The slot is beyond the ask's redundancy.
    #[error("ask {ask}: slot {slot} out of range")]
    SlotOutOfRange {
        /// The ask.
        ask: AskId,
        /// The slot.
        slot: u8,
    },
    /// The event contradicts the slot's confirmed state (for example a proof from a generator
    /// that does not hold the slot, or a second confirmation with another generator).
    #[error("ask {ask} slot {slot}: event contradicts the slot's confirmed state")]
    SlotConflict {
        /// The ask.
        ask: AskId,
        /// The slot.
        slot: u8,
    },
    /// A bid for an ask that is not in a sealed-bid market, or whose auction is closed.
    #[error("ask {0}: no open auction")]
    NoOpenAuction(AskId),
}

/// The block stream handed to [`crate::Replica`] does not link up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// A block number was skipped.
    #[error("expected block {expected}, got {got}")]
    Gap {
        /// The next block number expected.
        expected: u64,
        /// The number received.
        got: u64,
    },
    /// The block's parent hash is not the hash of the block before it.
    #[error("block {0}: parent hash does not match the previous block")]
    ParentMismatch(u64),
    /// A rollback below the confirmed (irreversible) part of the state was requested: rebuild
    /// from the chain instead.
    #[error("reorg to block {target} is below the confirmed block {confirmed}")]
    ReorgTooDeep {
        /// The block to roll back to.
        target: u64,
        /// The last confirmed block.
        confirmed: u64,
    },
    /// The block's logs are not in strictly increasing index order.
    #[error("block {0}: logs out of order")]
    LogsOutOfOrder(u64),
}

/// A sealed bid cannot be opened or built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The ciphertext has the wrong length or an invalid ephemeral key.
    #[error("malformed sealed bid")]
    Malformed,
    /// Authentication failed: wrong key, tampered ciphertext, or a bid copied from another
    /// generator or ask (the bidder and the ask are bound as associated data).
    #[error("sealed bid failed authentication")]
    Unauthentic,
}

/// Signing failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The signing backend refused.
    #[error("signing failed: {0}")]
    Backend(String),
    /// The signature does not recover to a valid public key.
    #[error("invalid signature")]
    InvalidSignature,
}

/// A batch was built wrongly by its caller.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// A batch must hold at least one assignment.
    #[error("empty assignment batch")]
    Empty,
}

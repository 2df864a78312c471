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
    /// An upload to the input store was refused.
    #[error(transparent)]
    Inputs(#[from] InputsError),
    /// No invalid-inputs statement can be made.
    #[error(transparent)]
    Statement(#[from] StatementError),
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
    /// A private-inputs commitment that does not directly follow its ask's creation, or a
    /// second one for the same ask.
    #[error("ask {0}: private inputs committed out of place")]
    MisplacedCommitment(AskId),
    /// An encryption key that is not a compressed secp256k1 point. The generator then has no
    /// usable key in that market (the contract replaced its previous one).
    #[error("generator {generator}: invalid encryption key for market {market}")]
    BadEncryptionKey {
        /// The generator.
        generator: Address,
        /// The market.
        market: MarketId,
    },
}

/// An upload to the input store was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputsError {
    /// Larger than one entry may be.
    #[error("inputs of {len} bytes exceed the {max}-byte limit")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes do not hash to the name they were uploaded under.
    #[error("inputs do not hash to the given inputs hash")]
    HashMismatch,
    /// The store's byte budget or entry limit is reached.
    #[error("input store full")]
    StoreFull,
}

/// Why no invalid-inputs statement was signed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// The ask is unknown or retired.
    #[error("unknown ask {0}")]
    UnknownAsk(AskId),
    /// The ask is public.
    #[error("ask {0} is not private")]
    NotPrivate(AskId),
    /// The slot is not assigned on chain.
    #[error("ask {ask} slot {slot} is not assigned")]
    NotAssigned {
        /// The ask.
        ask: AskId,
        /// The slot.
        slot: u8,
    },
    /// The engine cannot read the ask's inputs (never assigned then; a guard for a changed key).
    #[error("ask {0}: inputs unavailable to the engine")]
    InputsUnavailable(AskId),
    /// The market's verifier has no configured input check.
    #[error("market {0} has no input check")]
    NoInputCheck(MarketId),
    /// The inputs pass the market's check: nothing to sign.
    #[error("ask {0}: the inputs are valid")]
    InputsValid(AskId),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
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

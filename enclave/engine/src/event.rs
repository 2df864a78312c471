//! The chain events the engine consumes, grouped in blocks.

use crate::types::{
    Address, Amount, Ask, AskId, Assignment, LogPos, Market, MarketId, Offer, Timestamp,
};

/// A decoded marketplace or staking event.
///
/// Events are facts the contracts already enforced; the engine applies them in chain order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A market was created.
    MarketCreated(Market),
    /// A generator registered (or re-registered) with a total capacity: how many assignments it
    /// runs at once across all markets.
    GeneratorRegistered {
        /// Generator address.
        generator: Address,
        /// Total capacity.
        capacity: u32,
    },
    /// A generator's total capacity changed.
    CapacityChanged {
        /// Generator address.
        generator: Address,
        /// New total capacity.
        capacity: u32,
    },
    /// A generator deregistered: it takes no new assignment (running ones continue).
    GeneratorDeregistered {
        /// Generator address.
        generator: Address,
    },
    /// A generator joined a market with an offer. Its time priority is this event's position.
    GeneratorJoined {
        /// Generator address.
        generator: Address,
        /// Market.
        market: MarketId,
        /// Offer.
        offer: Offer,
    },
    /// A generator replaced its offer in a market; it loses its time priority (as an amended
    /// order does in an order book).
    GeneratorUpdated {
        /// Generator address.
        generator: Address,
        /// Market.
        market: MarketId,
        /// New offer.
        offer: Offer,
    },
    /// A generator left a market (running assignments continue).
    GeneratorLeft {
        /// Generator address.
        generator: Address,
        /// Market.
        market: MarketId,
    },
    /// The staking module reports a generator's usable stake for a market (absolute value).
    StakeChanged {
        /// Generator address.
        generator: Address,
        /// Market.
        market: MarketId,
        /// Usable stake (locked amounts included).
        stake: Amount,
    },
    /// An ask was created.
    AskCreated(Ask),
    /// An ask was cancelled by its requester.
    AskCancelled {
        /// The ask.
        ask: AskId,
    },
    /// A sealed bid for an ask in a sealed-bid market (ciphertext from [`crate::seal_bid`]).
    BidSubmitted {
        /// The ask.
        ask: AskId,
        /// The bidder (the transaction sender, authenticated by the chain).
        generator: Address,
        /// The sealed bid.
        sealed: Vec<u8>,
    },
    /// The contract accepted a signed batch of assignments.
    AssignmentsAccepted {
        /// The accepted assignments, each with its deadline.
        assignments: Vec<AcceptedAssignment>,
    },
    /// The contract skipped one entry of a signed batch (its view differed, for example an
    /// offer changed between proposal and inclusion). The engine drops its proposal if it
    /// still holds it, bars that generator from the ask (so matching cannot loop on it), and
    /// matches the slot again. Skips of entries it no longer holds (a resubmitted batch that
    /// already landed) change nothing.
    AssignmentSkipped {
        /// The ask.
        ask: AskId,
        /// The slot as signed.
        slot: u8,
        /// The generator.
        generator: Address,
    },
    /// A generator submitted a valid proof and was paid.
    ProofSubmitted {
        /// The ask.
        ask: AskId,
        /// The slot.
        slot: u8,
        /// The generator.
        generator: Address,
    },
    /// A private ask's commitment, logged right after its [`Event::AskCreated`] in the same
    /// transaction.
    PrivateInputsCommitted {
        /// The ask.
        ask: AskId,
        /// keccak256 of the encrypted inputs.
        inputs_hash: [u8; 32],
        /// The content key wrapped to the engine's encryption key (81 bytes when well formed).
        engine_key_wrap: Vec<u8>,
        /// The encrypted inputs, or empty when the requester uploads them to the engine.
        inline_inputs: Vec<u8>,
    },
    /// A generator set its encryption key for a market (33 bytes, compressed, when well formed).
    EncryptionKeySet {
        /// The generator.
        generator: Address,
        /// The market.
        market: MarketId,
        /// The compressed secp256k1 public key.
        public_key: Vec<u8>,
    },
    /// The assigned generator gave a slot back before its deadline: the slot is open again
    /// (never to that generator) and its capacity and stake are free.
    AssignmentDiscarded {
        /// The ask.
        ask: AskId,
        /// The slot.
        slot: u8,
        /// The generator.
        generator: Address,
    },
    /// A private ask's slot was settled on the engine's statement that its inputs fail the
    /// market's input check: the generator was paid `payment`, nothing slashed.
    InputsInvalid {
        /// The ask.
        ask: AskId,
        /// The slot.
        slot: u8,
        /// The generator.
        generator: Address,
        /// What the generator was paid.
        payment: Amount,
    },
    /// A generator missed its deadline and was slashed.
    Slashed {
        /// The ask.
        ask: AskId,
        /// The slot.
        slot: u8,
        /// The generator.
        generator: Address,
    },
}

/// One assignment the contract accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptedAssignment {
    /// The assignment.
    pub assignment: Assignment,
    /// Block timestamp by which the proof is due.
    pub deadline: Timestamp,
}

/// One log of a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    /// Log index within the block.
    pub index: u32,
    /// The decoded event.
    pub event: Event,
}

/// A block with the engine-relevant logs it contains, in log-index order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: [u8; 32],
    /// Parent block hash.
    pub parent_hash: [u8; 32],
    /// Block timestamp (the engine's only clock).
    pub timestamp: Timestamp,
    /// Relevant logs, in increasing index order.
    pub logs: Vec<Log>,
}

impl Block {
    /// Position of a log of this block.
    #[must_use]
    pub fn pos(&self, log: &Log) -> LogPos {
        LogPos::new(self.number, log.index)
    }
}

//! Per-ask, per-generator and per-market state records.

use std::collections::BTreeMap;

use market_sealing::EncryptionPublicKey;

use crate::book::{Book, OfferKey};
use crate::private::PrivateAsk;
use crate::types::{Address, Amount, Ask, LogPos, Market, MarketId, Offer, Timestamp};

/// State of one slot of an ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotState {
    /// No generator yet.
    Open,
    /// Proposed by this engine, not yet accepted on chain. Holds the generator's capacity and stake.
    Proposed {
        /// The generator.
        generator: Address,
        /// The price.
        price: Amount,
    },
    /// Accepted on chain; the proof is due by `deadline`.
    Confirmed {
        /// The generator.
        generator: Address,
        /// The price.
        price: Amount,
        /// Block timestamp by which the proof is due.
        deadline: Timestamp,
    },
    /// The generator delivered a valid proof.
    Completed {
        /// The generator.
        generator: Address,
    },
    /// The generator missed its deadline and was slashed.
    Slashed {
        /// The generator.
        generator: Address,
    },
    /// Settled on the engine's statement that the private inputs fail the market's check.
    InputsInvalid {
        /// The generator.
        generator: Address,
    },
}

impl SlotState {
    /// The generator holding or having held the slot.
    #[must_use]
    pub fn generator(&self) -> Option<Address> {
        match *self {
            Self::Open => None,
            Self::Proposed { generator, .. }
            | Self::Confirmed { generator, .. }
            | Self::Completed { generator }
            | Self::Slashed { generator }
            | Self::InputsInvalid { generator } => Some(generator),
        }
    }
}

/// Where an ask stands as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AskPhase {
    /// Sealed-bid market: bids are accepted until the window closes.
    Bidding {
        /// Block timestamp at which the auction closes.
        closes: Timestamp,
    },
    /// Open slots are matched as generators become available.
    Matching,
    /// No more assignments: expired or (for open slots) past the expiry margin.
    Closed,
    /// Cancelled by the requester.
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SealedBid {
    pub(crate) pos: LogPos,
    pub(crate) generator: Address,
    pub(crate) sealed: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AskState {
    pub(crate) ask: Ask,
    pub(crate) created: LogPos,
    pub(crate) phase: AskPhase,
    pub(crate) slots: Vec<SlotState>,
    pub(crate) waiting: bool,
    pub(crate) bids: Vec<SealedBid>,
    /// Generators whose assignment to this ask the contract skipped, or that discarded it.
    pub(crate) barred: Vec<Address>,
    /// The private part of a private ask.
    pub(crate) private: Option<Box<PrivateAsk>>,
    /// Per slot, the block that proposed its current assignment (meaningful while the slot is
    /// [`SlotState::Proposed`]).
    pub(crate) proposed_in: Vec<ProposedIn>,
}

/// The block whose processing proposed an assignment: a fact of the chain, the same in every
/// engine that follows it, whenever each of them looks. A batch built only from this (and the
/// assignments) is byte-identical across replicas that share the engine key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProposedIn {
    /// The block number.
    pub block: u64,
    /// The engine's clock at that block (its timestamp, never decreasing).
    pub timestamp: Timestamp,
}

impl AskState {
    /// Whether `generator` may not take a slot of this ask: it holds or held one, or the
    /// contract skipped its assignment to it.
    pub(crate) fn bars(&self, generator: Address) -> bool {
        self.slots.iter().any(|s| s.generator() == Some(generator))
            || self.barred.contains(&generator)
    }

    pub(crate) fn open_slots(&self) -> usize {
        self.slots.iter().filter(|s| **s == SlotState::Open).count()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Membership {
    pub(crate) joined: bool,
    pub(crate) offer: Offer,
    /// Time priority: the position of the join or last update.
    pub(crate) seq: LogPos,
    pub(crate) stake: Amount,
    pub(crate) locked: Amount,
    /// Whether the generator is in the market's offer book (it can take one more assignment).
    pub(crate) in_book: bool,
    /// Its encryption key for private asks in this market.
    pub(crate) encryption_key: Option<EncryptionPublicKey>,
}

impl Membership {
    pub(crate) fn key(&self, generator: Address) -> OfferKey {
        OfferKey {
            cost: self.offer.cost,
            seq: self.seq,
            generator,
            proposed_time: self.offer.proposed_time,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GeneratorState {
    pub(crate) registered: bool,
    pub(crate) capacity: u32,
    /// Proposed plus confirmed assignments not yet completed or slashed.
    pub(crate) used: u32,
    pub(crate) markets: BTreeMap<MarketId, Membership>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MarketState {
    pub(crate) market: Market,
    pub(crate) active: bool,
    pub(crate) book: Book,
}

//! Domain types: identifiers, markets, asks, generator offers and assignments.

use core::fmt;

/// Amounts of the payment or stake token, in its smallest unit.
pub type Amount = u128;
/// Seconds since the Unix epoch, taken from block timestamps (never from a local clock).
pub type Timestamp = u64;
/// Identifier of a market, as numbered by the marketplace contract.
pub type MarketId = u64;
/// Identifier of an ask, as numbered by the marketplace contract.
pub type AskId = u64;

/// Largest redundancy (number of distinct generators) one ask may request.
pub const MAX_REDUNDANCY: u8 = 16;

/// A 20-byte Ethereum address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The zero address.
    pub const ZERO: Self = Self([0; 20]);

    /// An address whose last 8 bytes hold `n` big-endian (handy for tests and benchmarks).
    #[must_use]
    pub fn from_low_u64(n: u64) -> Self {
        let mut a = [0u8; 20];
        a[12..].copy_from_slice(&n.to_be_bytes());
        Self(a)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Position of a log in the chain: block number, then log index within the block.
///
/// Ordering by `LogPos` is chain order. It is also the time priority of offers and asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LogPos {
    /// Block number.
    pub block: u64,
    /// Log index within the block.
    pub log_index: u32,
}

impl LogPos {
    /// A position.
    #[must_use]
    pub const fn new(block: u64, log_index: u32) -> Self {
        Self { block, log_index }
    }
}

/// How a market matches asks to generators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchingMode {
    /// Standing generator offers, price-time priority, matched as asks arrive.
    OrderBook,
    /// Sealed bids encrypted to the engine key, opened when the bidding window closes.
    SealedBid {
        /// Seconds after the ask's creation block during which bids are accepted.
        bid_window: u64,
    },
}

/// A market as created on chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Market {
    /// Market identifier.
    pub id: MarketId,
    /// Matching mode.
    pub mode: MatchingMode,
    /// Stake locked per assignment and slashed on a missed deadline. A generator needs at least
    /// this much free stake in the market to take one more assignment.
    pub slashing_penalty: Amount,
    /// Image family provers must run in (`None`: a public market). The contract checks it when
    /// generators join; the engine carries it for status reporting.
    pub prover_family: Option<[u8; 32]>,
    /// First block timestamp at which the market accepts assignments.
    pub activation: Timestamp,
    /// The market's proof verifier contract. It also names the market's input check for
    /// private asks ([`crate::Config::input_checks`]).
    pub verifier: Address,
}

/// An ask (a request for a proof) as created on chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask {
    /// Ask identifier.
    pub id: AskId,
    /// Market.
    pub market: MarketId,
    /// Largest price the requester pays each generator.
    pub reward: Amount,
    /// Last block timestamp at which the contract accepts an assignment for this ask.
    pub expiry: Timestamp,
    /// Seconds a generator gets to submit the proof once assigned; the generator's proposed
    /// time must not exceed it. The contract sets each assignment's deadline from it.
    pub proving_time: u64,
    /// Number of distinct generators requested (1 to [`MAX_REDUNDANCY`]).
    pub redundancy: u8,
    /// Where unspent reward goes.
    pub refund_address: Address,
    /// keccak256 of the prover data (the inputs themselves stay on chain or off chain).
    pub prover_data_hash: [u8; 32],
    /// The account that created the ask (private inputs are bound to it).
    pub requester: Address,
    /// The public statement. The engine keeps it only for private asks, whose input check
    /// reads it; for a public ask it is dropped once the ask is known to be public.
    pub prover_data: Vec<u8>,
}

/// A generator's standing offer in one market.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offer {
    /// Smallest reward the generator accepts (what it is paid in order-book markets).
    pub cost: Amount,
    /// Seconds the generator needs to produce a proof.
    pub proposed_time: u64,
}

/// One generator assigned to one slot of an ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Assignment {
    /// The ask.
    pub ask: AskId,
    /// Slot within the ask's redundancy (0-based, below the ask's `redundancy`).
    pub slot: u8,
    /// The generator.
    pub generator: Address,
    /// Price paid to the generator on a valid proof (at most the ask's reward).
    pub price: Amount,
}

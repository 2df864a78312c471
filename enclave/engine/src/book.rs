//! Per-market indexes: standing offers in price-time order and asks waiting for a generator.

use core::cmp::Reverse;
use std::collections::BTreeSet;

use crate::types::{Address, Amount, AskId, LogPos};

/// A generator that can take one more assignment in a market, in price-time priority order:
/// cheapest first, then earliest offer, then lowest address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct OfferKey {
    pub(crate) cost: Amount,
    pub(crate) seq: LogPos,
    pub(crate) generator: Address,
    /// Not part of the priority (the three fields above are already unique); carried so the
    /// scan can filter on proving time without a generator lookup.
    pub(crate) proposed_time: u64,
}

/// An ask with open slots that no available generator can serve, best first: highest reward,
/// then earliest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct WaitKey {
    pub(crate) reward: Reverse<Amount>,
    pub(crate) seq: LogPos,
    pub(crate) ask: AskId,
}

/// The two indexes of one market.
///
/// Invariant (restored after every event): no waiting ask and available offer are compatible
/// (cost within the reward, proposed time within the proving time, generator not already on
/// the ask) while the market is active. So a new match can only involve the ask or the
/// generator that just changed, and the engine never rescans.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Book {
    pub(crate) offers: BTreeSet<OfferKey>,
    pub(crate) waiting: BTreeSet<WaitKey>,
}

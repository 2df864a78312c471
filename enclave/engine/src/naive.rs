//! The peer approach, kept as a yardstick: for each ask, filter every generator, then choose.
//!
//! This is how Kalypso's matching engine selects candidates (all generators, filtered by
//! market, cost, free compute and free stake). Here the choice among candidates uses this
//! crate's price-time rule, so both matchers make the same picks and only the data structure
//! differs. Used by the `engine` benchmark and as a test oracle.

use std::collections::BTreeMap;

use crate::types::{Address, Amount, Ask, Assignment, LogPos, MarketId, Offer};

/// A generator as the naive matcher sees it: one market, one offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NaiveGenerator {
    /// Address.
    pub address: Address,
    /// Market.
    pub market: MarketId,
    /// Offer.
    pub offer: Offer,
    /// Time priority.
    pub seq: LogPos,
    /// Total capacity.
    pub capacity: u32,
    /// Capacity in use.
    pub used: u32,
    /// Stake in the market.
    pub stake: Amount,
    /// Stake locked by running assignments.
    pub locked: Amount,
}

/// Scan-all matcher.
#[derive(Clone, Debug, Default)]
pub struct NaiveMatcher {
    generators: Vec<NaiveGenerator>,
    by_address: BTreeMap<Address, usize>,
}

impl NaiveMatcher {
    /// A matcher over these generators.
    #[must_use]
    pub fn new(generators: Vec<NaiveGenerator>) -> Self {
        let by_address = generators
            .iter()
            .enumerate()
            .map(|(i, g)| (g.address, i))
            .collect();
        Self {
            generators,
            by_address,
        }
    }

    /// Assigns up to `ask.redundancy` distinct generators to `ask`, each locking `penalty`.
    pub fn match_ask(&mut self, ask: &Ask, penalty: Amount) -> Vec<Assignment> {
        let mut candidates: Vec<&NaiveGenerator> = self
            .generators
            .iter()
            .filter(|g| {
                g.market == ask.market
                    && g.used < g.capacity
                    && g.stake.saturating_sub(g.locked) >= penalty
                    && g.offer.cost <= ask.reward
                    && g.offer.proposed_time <= ask.proving_time
            })
            .collect();
        candidates.sort_unstable_by_key(|g| (g.offer.cost, g.seq, g.address));
        let picks: Vec<(Address, Amount)> = candidates
            .iter()
            .take(usize::from(ask.redundancy))
            .map(|g| (g.address, g.offer.cost))
            .collect();
        let mut out = Vec::with_capacity(picks.len());
        for (slot, (address, price)) in picks.into_iter().enumerate() {
            let i = self.by_address[&address];
            let g = &mut self.generators[i];
            g.used += 1;
            g.locked = g.locked.saturating_add(penalty);
            out.push(Assignment {
                ask: ask.id,
                slot: u8::try_from(slot).expect("redundancy fits in u8"),
                generator: address,
                price,
            });
        }
        out
    }

    /// Ends one assignment of `generator`.
    pub fn release(&mut self, generator: Address, penalty: Amount) {
        if let Some(&i) = self.by_address.get(&generator) {
            let g = &mut self.generators[i];
            g.used = g.used.saturating_sub(1);
            g.locked = g.locked.saturating_sub(penalty);
        }
    }
}

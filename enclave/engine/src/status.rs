//! Read-only views of the engine state (for the HTTP API and for tests).

use crate::engine::Engine;
use std::collections::BTreeMap;

use crate::state::{AskPhase, ProposedIn, SlotState};
use crate::types::{Address, Ask, AskId, Assignment, Market, Timestamp};

/// Status of one ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AskStatus<'a> {
    /// The ask as created.
    pub ask: &'a Ask,
    /// Its phase.
    pub phase: AskPhase,
    /// Its slots.
    pub slots: &'a [SlotState],
}

/// Load of one generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GeneratorLoad {
    /// Whether it is registered.
    pub registered: bool,
    /// Total capacity.
    pub capacity: u32,
    /// Assignments held (proposed or confirmed, not finished).
    pub used: u32,
}

/// Summary of one market.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketSummary<'a> {
    /// The market as created.
    pub market: &'a Market,
    /// Whether its activation time has passed.
    pub active: bool,
    /// Generators able to take one more assignment now.
    pub available_generators: usize,
    /// Asks with open slots waiting for a generator.
    pub waiting_asks: usize,
}

impl Engine {
    /// Number of the last block started, if any.
    #[must_use]
    pub fn block(&self) -> Option<u64> {
        self.block
    }

    /// The engine's clock: the latest block timestamp.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Status of a live ask. `None` for an unknown ask or one the engine retired because
    /// nothing about it can change any more (the chain holds its final record).
    #[must_use]
    pub fn ask_status(&self, id: AskId) -> Option<AskStatus<'_>> {
        self.asks.get(&id).map(|a| AskStatus {
            ask: &a.ask,
            phase: a.phase,
            slots: &a.slots,
        })
    }

    /// Every proposed assignment not yet accepted on chain, by ask then slot. After a restart or
    /// a rollback this is what must be (re)submitted; the contract rejects duplicates.
    #[must_use]
    pub fn pending_assignments(&self) -> Vec<Assignment> {
        let mut out = Vec::new();
        let mut ids: Vec<AskId> = self
            .asks
            .iter()
            .filter(|(_, a)| {
                a.slots
                    .iter()
                    .any(|s| matches!(s, SlotState::Proposed { .. }))
            })
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        for id in ids {
            let a = &self.asks[&id];
            for (slot, s) in a.slots.iter().enumerate() {
                if let SlotState::Proposed { generator, price } = *s {
                    out.push(Assignment {
                        ask: id,
                        slot: u8::try_from(slot).expect("redundancy is at most MAX_REDUNDANCY"),
                        generator,
                        price,
                    });
                }
            }
        }
        out
    }

    /// [`Engine::pending_assignments`] grouped by the block that proposed them, oldest first
    /// (each group by ask then slot): what a relay cuts into batches so that every input of a
    /// batch is a function of the chain, not of when it looked.
    #[must_use]
    pub fn pending_by_block(&self) -> BTreeMap<ProposedIn, Vec<Assignment>> {
        let mut out: BTreeMap<ProposedIn, Vec<Assignment>> = BTreeMap::new();
        for a in self.pending_assignments() {
            let proposed_in = self.asks[&a.ask].proposed_in[usize::from(a.slot)];
            out.entry(proposed_in).or_default().push(a);
        }
        out
    }

    /// Number of asks retired so far.
    #[must_use]
    pub fn retired_asks(&self) -> u64 {
        self.retired
    }

    /// Number of live asks held in memory.
    #[must_use]
    pub fn live_asks(&self) -> usize {
        self.asks.len()
    }

    /// Load of a generator.
    #[must_use]
    pub fn generator_load(&self, generator: Address) -> Option<GeneratorLoad> {
        self.generators.get(&generator).map(|g| GeneratorLoad {
            registered: g.registered,
            capacity: g.capacity,
            used: g.used,
        })
    }

    /// All markets, by id.
    pub fn markets(&self) -> impl Iterator<Item = MarketSummary<'_>> {
        self.markets.values().map(|m| MarketSummary {
            market: &m.market,
            active: m.active,
            available_generators: m.book.offers.len(),
            waiting_asks: m.book.waiting.len(),
        })
    }
}

//! The engine state and how chain events change it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::book::Book;
use crate::check::InputCheckKind;
use crate::eip712::{AssignmentBatch, KeyedAssignmentBatch};
use crate::error::EventError;
use crate::event::{AcceptedAssignment, Block, Event};
use crate::seal::BidOpener;
use crate::signer::ProposedBatch;
use crate::state::{
    AskPhase, AskState, GeneratorState, MarketState, Membership, ProposedIn, SealedBid, SlotState,
};
use crate::store::{InputStore, StoreLimits};
use crate::types::{
    Address, Ask, AskId, Assignment, LogPos, MAX_REDUNDANCY, Market, MarketId, MatchingMode, Offer,
    Timestamp,
};

/// Engine settings. Every replica that must agree on assignments needs the same settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Seconds before an ask's expiry at which the engine stops proposing assignments for it,
    /// leaving time for the batch to be mined.
    pub expiry_margin: u64,
    /// The input check of each market whose verifier is listed (for invalid-inputs
    /// statements on private asks).
    pub input_checks: BTreeMap<Address, InputCheckKind>,
    /// Bounds of the input store (uploaded private inputs).
    pub inputs: StoreLimits,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            expiry_margin: 30,
            input_checks: BTreeMap::new(),
            inputs: StoreLimits::default(),
        }
    }
}

/// What applying one block produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockOutcome {
    /// Assignments proposed while applying the block, in the order they were made. They are
    /// pending until an [`Event::AssignmentsAccepted`] confirms them.
    pub proposals: Vec<Assignment>,
    /// Events skipped because they contradict the state (see [`EventError`]).
    pub rejected: Vec<(LogPos, EventError)>,
    /// Logs skipped because their position was already applied.
    pub duplicates: u32,
}

/// Whether a log was applied or skipped as already seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The event changed the state.
    Applied,
    /// The position was already applied; nothing changed.
    Duplicate,
}

/// The matching engine: a deterministic function of the chain events applied to it.
///
/// Feed blocks in chain order with [`Engine::apply_block`] (or [`crate::Replica`] to handle
/// reorgs). Proposed assignments come back in each [`BlockOutcome`] and stay pending in the state
/// until the contract's [`Event::AssignmentsAccepted`] confirms them.
#[derive(Clone)]
pub struct Engine {
    pub(crate) config: Config,
    pub(crate) opener: Option<BidOpener>,
    pub(crate) block: Option<u64>,
    pub(crate) now: Timestamp,
    pub(crate) last_pos: Option<LogPos>,
    pub(crate) markets: BTreeMap<MarketId, MarketState>,
    /// Hash maps for O(1) lookups; never iterated where the order could reach an output
    /// (iteration order is random per process).
    pub(crate) generators: HashMap<Address, GeneratorState>,
    pub(crate) asks: HashMap<AskId, AskState>,
    /// Markets not yet active, by activation time.
    pub(crate) activations: BTreeSet<(Timestamp, MarketId)>,
    /// Asks still taking proposals, by expiry.
    pub(crate) closing: BTreeSet<(Timestamp, AskId)>,
    /// Asks that may hold unconfirmed proposals, by expiry: past it the contract refuses them.
    pub(crate) dropping: BTreeSet<(Timestamp, AskId)>,
    /// Sealed-bid asks by auction close time.
    pub(crate) auctions: BTreeSet<(Timestamp, AskId)>,
    pub(crate) outbox: Vec<Assignment>,
    /// Asks forgotten by [`Engine::retire_if_done`].
    pub(crate) retired: u64,
    /// The ask created by the last applied log, not matched yet: a private-inputs commitment
    /// may follow it in the same transaction.
    pub(crate) fresh: Option<AskId>,
    /// Every private-inputs commitment seen, with the first ask that made it (replay guard;
    /// 32 bytes per private ask, kept for the engine's lifetime).
    pub(crate) commitments: HashMap<[u8; 32], AskId>,
    /// Uploaded private inputs.
    pub(crate) store: InputStore,
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("block", &self.block)
            .field("now", &self.now)
            .field("markets", &self.markets.len())
            .field("generators", &self.generators.len())
            .field("asks", &self.asks.len())
            .finish_non_exhaustive()
    }
}

/// Two engines are equal when their chain-derived state is equal (the bid-opening key and the
/// not yet drained proposals are not state).
impl PartialEq for Engine {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.block == other.block
            && self.now == other.now
            && self.last_pos == other.last_pos
            && self.markets == other.markets
            && self.generators == other.generators
            && self.asks == other.asks
            && self.activations == other.activations
            && self.closing == other.closing
            && self.dropping == other.dropping
            && self.auctions == other.auctions
            && self.retired == other.retired
            && self.fresh == other.fresh
            && self.commitments == other.commitments
            && self.store == other.store
    }
}

impl Eq for Engine {}

impl Engine {
    /// An empty engine. Without a bid opener, sealed bids cannot be opened and sealed-bid asks
    /// fall back to the standing offers when their auction closes.
    #[must_use]
    pub fn new(config: Config, opener: Option<BidOpener>) -> Self {
        Self {
            config,
            opener,
            block: None,
            now: 0,
            last_pos: None,
            markets: BTreeMap::new(),
            generators: HashMap::new(),
            asks: HashMap::new(),
            activations: BTreeSet::new(),
            closing: BTreeSet::new(),
            dropping: BTreeSet::new(),
            auctions: BTreeSet::new(),
            outbox: Vec::new(),
            retired: 0,
            fresh: None,
            commitments: HashMap::new(),
            store: InputStore::default(),
        }
    }

    /// Applies a block: advances the clock to its timestamp, then applies its logs in order.
    ///
    /// Idempotent: logs at positions already applied are skipped and counted as duplicates.
    pub fn apply_block(&mut self, block: &Block) -> BlockOutcome {
        let mut outcome = BlockOutcome::default();
        self.begin_block(block.number, block.timestamp);
        for log in &block.logs {
            match self.apply_log(block.pos(log), &log.event) {
                Ok(Applied::Applied) => {}
                Ok(Applied::Duplicate) => outcome.duplicates += 1,
                Err(e) => outcome.rejected.push((block.pos(log), e)),
            }
        }
        outcome.proposals = self.take_proposals();
        outcome
    }

    /// Starts a block: sets the clock and runs everything that depends on time (market
    /// activation, ask expiry, auction close). Does nothing for a block already started.
    pub fn begin_block(&mut self, number: u64, timestamp: Timestamp) {
        if self.block.is_some_and(|b| number <= b) {
            return;
        }
        self.flush_fresh();
        self.block = Some(number);
        // Block timestamps never decrease on chain; guard anyway so time cannot run backwards.
        self.now = self.now.max(timestamp);
        self.activate_markets();
        self.close_expiring_asks();
        self.drop_expired_proposals();
        self.close_auctions();
        self.drop_unclaimed_inputs();
    }

    /// Applies one log of the current block (see [`Engine::begin_block`]).
    ///
    /// # Errors
    /// [`EventError`] when the event contradicts the state; the state is then unchanged except
    /// that the position counts as applied.
    pub fn apply_log(&mut self, pos: LogPos, event: &Event) -> Result<Applied, EventError> {
        if self.last_pos.is_some_and(|last| pos <= last) {
            return Ok(Applied::Duplicate);
        }
        self.last_pos = Some(pos);
        if !matches!(event, Event::PrivateInputsCommitted { ask, .. } if self.fresh == Some(*ask)) {
            self.flush_fresh();
        }
        match event {
            Event::MarketCreated(market) => self.on_market_created(market),
            Event::GeneratorRegistered {
                generator,
                capacity,
            } => {
                let g = self.generators.entry(*generator).or_default();
                g.registered = true;
                g.capacity = *capacity;
                self.refresh(*generator);
                Ok(())
            }
            Event::CapacityChanged {
                generator,
                capacity,
            } => {
                let g = self
                    .generators
                    .get_mut(generator)
                    .filter(|g| g.registered)
                    .ok_or(EventError::UnknownGenerator(*generator))?;
                g.capacity = *capacity;
                self.refresh(*generator);
                Ok(())
            }
            Event::GeneratorDeregistered { generator } => {
                let g = self
                    .generators
                    .get_mut(generator)
                    .ok_or(EventError::UnknownGenerator(*generator))?;
                g.registered = false;
                self.refresh(*generator);
                Ok(())
            }
            Event::GeneratorJoined {
                generator,
                market,
                offer,
            } => self.on_joined(pos, *generator, *market, *offer),
            Event::GeneratorUpdated {
                generator,
                market,
                offer,
            } => self.on_updated(pos, *generator, *market, *offer),
            Event::GeneratorLeft { generator, market } => {
                joined_mut(&mut self.generators, *generator, *market)?.joined = false;
                self.refresh(*generator);
                Ok(())
            }
            Event::StakeChanged {
                generator,
                market,
                stake,
            } => {
                if !self.markets.contains_key(market) {
                    return Err(EventError::UnknownMarket(*market));
                }
                // Stake may be reported before the generator registers.
                let g = self.generators.entry(*generator).or_default();
                g.markets.entry(*market).or_default().stake = *stake;
                self.refresh(*generator);
                Ok(())
            }
            Event::AskCreated(ask) => self.on_ask_created(pos, ask),
            Event::AskCancelled { ask } => self.on_ask_cancelled(*ask),
            Event::BidSubmitted {
                ask,
                generator,
                sealed,
            } => {
                let a = self.asks.get_mut(ask).ok_or(EventError::UnknownAsk(*ask))?;
                if !matches!(a.phase, AskPhase::Bidding { .. }) {
                    return Err(EventError::NoOpenAuction(*ask));
                }
                a.bids.push(SealedBid {
                    pos,
                    generator: *generator,
                    sealed: sealed.clone(),
                });
                Ok(())
            }
            Event::AssignmentsAccepted { assignments } => {
                // Each entry stands alone: a bad one is skipped, the others apply.
                let mut first_error = None;
                for accepted in assignments {
                    if let Err(e) = self.on_accepted(accepted) {
                        first_error.get_or_insert(e);
                    }
                }
                first_error.map_or(Ok(()), Err)
            }
            Event::AssignmentSkipped {
                ask,
                slot,
                generator,
            } => self.on_skipped(*ask, *slot, *generator),
            Event::ProofSubmitted {
                ask,
                slot,
                generator,
            } => self.finish_slot(
                *ask,
                *slot,
                *generator,
                SlotState::Completed {
                    generator: *generator,
                },
            ),
            Event::Slashed {
                ask,
                slot,
                generator,
            } => self.finish_slot(
                *ask,
                *slot,
                *generator,
                SlotState::Slashed {
                    generator: *generator,
                },
            ),
            Event::InputsInvalid {
                ask,
                slot,
                generator,
                payment: _,
            } => self.finish_slot(
                *ask,
                *slot,
                *generator,
                SlotState::InputsInvalid {
                    generator: *generator,
                },
            ),
            Event::PrivateInputsCommitted {
                ask,
                inputs_hash,
                engine_key_wrap,
                inline_inputs,
            } => self.on_private_committed(*ask, *inputs_hash, engine_key_wrap, inline_inputs),
            Event::EncryptionKeySet {
                generator,
                market,
                public_key,
            } => self.on_encryption_key_set(*generator, *market, public_key),
            Event::AssignmentDiscarded {
                ask,
                slot,
                generator,
            } => self.on_discarded(*ask, *slot, *generator),
        }
        .map(|()| Applied::Applied)
    }

    /// Drains the assignments proposed since the last call.
    pub fn take_proposals(&mut self) -> Vec<Assignment> {
        self.flush_fresh();
        core::mem::take(&mut self.outbox)
    }

    /// Cuts assignments into batches of at most `max_len` (at least 1), in order, valid until
    /// `valid_until`: a batch with a private ask's entry is keyed (each entry with its content-key
    /// wrap, empty for a public ask's), a public-only batch is a plain [`AssignmentBatch`].
    #[must_use]
    pub fn batches(
        &self,
        assignments: &[Assignment],
        max_len: usize,
        valid_until: Timestamp,
    ) -> Vec<ProposedBatch> {
        assignments
            .chunks(max_len.max(1))
            .map(|chunk| {
                let private = chunk
                    .iter()
                    .any(|a| self.asks.get(&a.ask).is_some_and(|s| s.private.is_some()));
                if private {
                    let entries = chunk
                        .iter()
                        .map(|a| (*a, self.key_wrap(a).map(|w| w.to_vec()).unwrap_or_default()))
                        .collect();
                    ProposedBatch::Keyed(
                        KeyedAssignmentBatch::new(entries, valid_until)
                            .expect("chunks are never empty"),
                    )
                } else {
                    ProposedBatch::Plain(
                        AssignmentBatch::new(chunk.to_vec(), valid_until)
                            .expect("chunks are never empty"),
                    )
                }
            })
            .collect()
    }

    fn on_market_created(&mut self, market: &Market) -> Result<(), EventError> {
        if self.markets.contains_key(&market.id) {
            return Err(EventError::DuplicateMarket(market.id));
        }
        let active = market.activation <= self.now;
        if !active {
            self.activations.insert((market.activation, market.id));
        }
        self.markets.insert(
            market.id,
            MarketState {
                market: market.clone(),
                active,
                book: Book::default(),
            },
        );
        Ok(())
    }

    fn on_joined(
        &mut self,
        pos: LogPos,
        generator: Address,
        market: MarketId,
        offer: Offer,
    ) -> Result<(), EventError> {
        if !self.markets.contains_key(&market) {
            return Err(EventError::UnknownMarket(market));
        }
        let g = self
            .generators
            .get_mut(&generator)
            .filter(|g| g.registered)
            .ok_or(EventError::UnknownGenerator(generator))?;
        let mem = g.markets.entry(market).or_default();
        if mem.joined {
            return Err(EventError::AlreadyJoined { generator, market });
        }
        mem.joined = true;
        mem.offer = offer;
        mem.seq = pos;
        self.refresh(generator);
        Ok(())
    }

    fn on_updated(
        &mut self,
        pos: LogPos,
        generator: Address,
        market: MarketId,
        offer: Offer,
    ) -> Result<(), EventError> {
        let mem = joined_mut(&mut self.generators, generator, market)?;
        let book = &mut self
            .markets
            .get_mut(&market)
            .expect("a membership exists only for a created market")
            .book;
        if mem.in_book {
            book.offers.remove(&mem.key(generator));
        }
        mem.offer = offer;
        mem.seq = pos;
        if mem.in_book {
            book.offers.insert(mem.key(generator));
            // A cheaper or faster offer may now serve waiting asks.
            self.fill_from_offer(generator, market);
        }
        Ok(())
    }

    fn on_ask_created(&mut self, pos: LogPos, ask: &Ask) -> Result<(), EventError> {
        let market = self
            .markets
            .get(&ask.market)
            .ok_or(EventError::UnknownMarket(ask.market))?;
        if self.asks.contains_key(&ask.id) {
            return Err(EventError::DuplicateAsk(ask.id));
        }
        if ask.redundancy == 0 || ask.redundancy > MAX_REDUNDANCY {
            return Err(EventError::BadRedundancy {
                ask: ask.id,
                redundancy: ask.redundancy,
            });
        }
        let assignable = ask.expiry >= self.now.saturating_add(self.config.expiry_margin);
        let phase = match market.market.mode {
            _ if !assignable => AskPhase::Closed,
            MatchingMode::OrderBook => AskPhase::Matching,
            MatchingMode::SealedBid { bid_window } => AskPhase::Bidding {
                closes: self.now.saturating_add(bid_window),
            },
        };
        self.asks.insert(
            ask.id,
            AskState {
                ask: ask.clone(),
                created: pos,
                phase,
                slots: vec![SlotState::Open; usize::from(ask.redundancy)],
                waiting: false,
                bids: Vec::new(),
                barred: Vec::new(),
                private: None,
                proposed_in: vec![ProposedIn::default(); usize::from(ask.redundancy)],
            },
        );
        // Matched when the next log shows whether a private-inputs commitment follows.
        self.fresh = Some(ask.id);
        match phase {
            AskPhase::Matching => {
                self.closing.insert((ask.expiry, ask.id));
                self.dropping.insert((ask.expiry, ask.id));
            }
            AskPhase::Bidding { closes } => {
                self.closing.insert((ask.expiry, ask.id));
                self.dropping.insert((ask.expiry, ask.id));
                self.auctions.insert((closes, ask.id));
            }
            AskPhase::Closed | AskPhase::Cancelled => self.retire_if_done(ask.id),
        }
        Ok(())
    }

    fn on_ask_cancelled(&mut self, id: AskId) -> Result<(), EventError> {
        let a = self.asks.get_mut(&id).ok_or(EventError::UnknownAsk(id))?;
        if let AskPhase::Bidding { closes } = a.phase {
            self.auctions.remove(&(closes, id));
        }
        a.phase = AskPhase::Cancelled;
        let expiry = a.ask.expiry;
        self.closing.remove(&(expiry, id));
        self.unwait(id);
        self.drop_proposals(id);
        self.dropping.remove(&(expiry, id));
        self.retire_if_done(id);
        Ok(())
    }

    fn on_accepted(&mut self, accepted: &AcceptedAssignment) -> Result<(), EventError> {
        let Assignment {
            ask: id,
            slot,
            generator,
            price,
        } = accepted.assignment;
        let a = self.asks.get(&id).ok_or(EventError::UnknownAsk(id))?;
        let state = *a
            .slots
            .get(usize::from(slot))
            .ok_or(EventError::SlotOutOfRange { ask: id, slot })?;
        let market = a.ask.market;
        let confirmed = SlotState::Confirmed {
            generator,
            price,
            deadline: accepted.deadline,
        };
        match state {
            SlotState::Proposed {
                generator: g,
                price: p,
            } if g == generator && p == price => {
                self.set_slot(id, slot, confirmed);
                self.record_slot_key(id, slot, generator);
                return Ok(());
            }
            SlotState::Confirmed {
                generator: g,
                price: p,
                ..
            } if g == generator && p == price => return Ok(()),
            SlotState::Proposed { .. } | SlotState::Open => {}
            SlotState::Confirmed { .. }
            | SlotState::Completed { .. }
            | SlotState::Slashed { .. }
            | SlotState::InputsInvalid { .. } => {
                return Err(EventError::SlotConflict { ask: id, slot });
            }
        }
        if !self.generators.contains_key(&generator) {
            return Err(EventError::UnknownGenerator(generator));
        }
        // The contract gives an ask distinct generators: a generator already confirmed on
        // another slot of this ask cannot take this one.
        let twice = a.slots.iter().enumerate().any(|(i, s)| {
            i != usize::from(slot)
                && s.generator() == Some(generator)
                && !matches!(s, SlotState::Proposed { .. })
        });
        if twice {
            return Err(EventError::SlotConflict { ask: id, slot });
        }
        // The chain decided differently from this engine's proposals (for example a batch
        // signed before a restart under other inputs): the chain wins.
        // Settle every slot first, then move capacity, so that a generator freed here cannot
        // be matched into a slot this function is still rewriting.
        let mut displaced = Vec::new();
        for (i, s) in self.asks[&id].slots.clone().into_iter().enumerate() {
            let i = u8::try_from(i).expect("redundancy is at most MAX_REDUNDANCY");
            match s {
                SlotState::Proposed { generator: g, .. } if i == slot => displaced.push(g),
                SlotState::Proposed { generator: g, .. } if g == generator => {
                    displaced.push(g);
                    self.set_slot(id, i, SlotState::Open);
                }
                _ => {}
            }
        }
        self.set_slot(id, slot, confirmed);
        self.record_slot_key(id, slot, generator);
        self.take(generator, market);
        for g in displaced {
            self.release(g, market);
        }
        // A displaced generator no longer holds the ask, and a reopened slot needs a
        // generator: either may create a match the indexes have not seen, so re-match the ask.
        if self.asks[&id].open_slots() == 0 {
            self.unwait(id);
        } else {
            self.match_ask(id);
        }
        Ok(())
    }

    fn on_skipped(&mut self, id: AskId, slot: u8, generator: Address) -> Result<(), EventError> {
        let a = self.asks.get_mut(&id).ok_or(EventError::UnknownAsk(id))?;
        let state = *a
            .slots
            .get(usize::from(slot))
            .ok_or(EventError::SlotOutOfRange { ask: id, slot })?;
        if !matches!(state, SlotState::Proposed { generator: g, .. } if g == generator) {
            return Ok(());
        }
        self.reopen_barred(id, slot, generator);
        Ok(())
    }

    /// Opens a slot again without its generator (a skipped proposal, a discarded assignment):
    /// the generator is barred from the ask and freed, and the slot is matched anew.
    pub(crate) fn reopen_barred(&mut self, id: AskId, slot: u8, generator: Address) {
        let a = self
            .asks
            .get_mut(&id)
            .expect("caller checked the ask exists");
        // Bar first: releasing the generator must not hand it this ask again.
        a.barred.push(generator);
        let market = a.ask.market;
        self.set_slot(id, slot, SlotState::Open);
        self.release(generator, market);
        self.match_ask(id);
        self.retire_if_done(id);
    }

    fn finish_slot(
        &mut self,
        id: AskId,
        slot: u8,
        generator: Address,
        end: SlotState,
    ) -> Result<(), EventError> {
        let a = self.asks.get(&id).ok_or(EventError::UnknownAsk(id))?;
        match a.slots.get(usize::from(slot)) {
            None => Err(EventError::SlotOutOfRange { ask: id, slot }),
            Some(SlotState::Confirmed { generator: g, .. }) if *g == generator => {
                let market = a.ask.market;
                self.set_slot(id, slot, end);
                self.release(generator, market);
                self.retire_if_done(id);
                Ok(())
            }
            Some(_) => Err(EventError::SlotConflict { ask: id, slot }),
        }
    }

    pub(crate) fn set_slot(&mut self, id: AskId, slot: u8, state: SlotState) {
        let a = self
            .asks
            .get_mut(&id)
            .expect("caller checked the ask exists");
        a.slots[usize::from(slot)] = state;
        if state == SlotState::Open {
            self.forget_slot_key(id, slot);
        }
    }

    /// Drops the unconfirmed proposals of an ask and frees their generators.
    fn drop_proposals(&mut self, id: AskId) {
        let a = &self.asks[&id];
        let market = a.ask.market;
        let proposed: Vec<(u8, Address)> = a
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                SlotState::Proposed { generator, .. } => Some((
                    u8::try_from(i).expect("redundancy is at most MAX_REDUNDANCY"),
                    *generator,
                )),
                _ => None,
            })
            .collect();
        for (slot, g) in proposed {
            self.set_slot(id, slot, SlotState::Open);
            self.release(g, market);
        }
    }

    fn activate_markets(&mut self) {
        while let Some(&(at, id)) = self.activations.first() {
            if at > self.now {
                break;
            }
            self.activations.pop_first();
            let m = self
                .markets
                .get_mut(&id)
                .expect("activations hold created markets");
            m.active = true;
            let offers: Vec<Address> = m.book.offers.iter().map(|k| k.generator).collect();
            for g in offers {
                self.fill_from_offer(g, id);
            }
        }
    }

    fn close_expiring_asks(&mut self) {
        let horizon = self.now.saturating_add(self.config.expiry_margin);
        while let Some(&(expiry, id)) = self.closing.first() {
            if expiry >= horizon {
                break;
            }
            self.closing.pop_first();
            let a = self.asks.get_mut(&id).expect("closing holds live asks");
            if let AskPhase::Bidding { closes } = a.phase {
                self.auctions.remove(&(closes, id));
            }
            a.phase = AskPhase::Closed;
            self.unwait(id);
            self.retire_if_done(id);
        }
    }

    fn drop_expired_proposals(&mut self) {
        while let Some(&(expiry, id)) = self.dropping.first() {
            if expiry >= self.now {
                break;
            }
            self.dropping.pop_first();
            if self.asks.contains_key(&id) {
                self.drop_proposals(id);
                self.retire_if_done(id);
            }
        }
    }

    /// Forgets an ask once nothing about it can change any more: every slot has ended
    /// (completed or slashed), or the ask is closed or cancelled with no slot still held. Its
    /// record stays on chain; the engine's memory stays proportional to the live asks.
    pub(crate) fn retire_if_done(&mut self, id: AskId) {
        let Some(a) = self.asks.get(&id) else { return };
        let held = a
            .slots
            .iter()
            .any(|s| matches!(s, SlotState::Proposed { .. } | SlotState::Confirmed { .. }));
        let open =
            a.open_slots() > 0 && matches!(a.phase, AskPhase::Matching | AskPhase::Bidding { .. });
        if held || open {
            return;
        }
        let (expiry, phase) = (a.ask.expiry, a.phase);
        self.unwait(id);
        self.closing.remove(&(expiry, id));
        self.dropping.remove(&(expiry, id));
        if let AskPhase::Bidding { closes } = phase {
            self.auctions.remove(&(closes, id));
        }
        if let Some(a) = self.asks.remove(&id)
            && let Some(p) = a.private
            && p.inline.is_empty()
        {
            self.store.remove(&p.inputs_hash);
        }
        self.retired += 1;
    }

    fn close_auctions(&mut self) {
        while let Some(&(closes, id)) = self.auctions.first() {
            if closes > self.now {
                break;
            }
            self.auctions.pop_first();
            self.close_auction(id);
        }
    }
}

/// The membership of a generator in a market it has joined.
fn joined_mut(
    generators: &mut HashMap<Address, GeneratorState>,
    generator: Address,
    market: MarketId,
) -> Result<&mut Membership, EventError> {
    generators
        .get_mut(&generator)
        .and_then(|g| g.markets.get_mut(&market))
        .filter(|m| m.joined)
        .ok_or(EventError::NotJoined { generator, market })
}

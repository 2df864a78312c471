//! Order-book matching: price-time priority over indexed offers, and the capacity and stake
//! bookkeeping that keeps the indexes exact.

use core::cmp::Reverse;

use crate::book::WaitKey;
use crate::engine::Engine;
use crate::state::{AskPhase, ProposedIn, SlotState};
use crate::types::{Address, Amount, AskId, Assignment, MarketId};

impl Engine {
    /// Matches the open slots of an ask against the market's offers, best first; what cannot be
    /// matched waits. Cost: one ordered walk of the offers whose cost is within the reward.
    pub(crate) fn match_ask(&mut self, id: AskId) {
        let a = &self.asks[&id];
        if a.phase != AskPhase::Matching || !Self::matchable(a) {
            return;
        }
        let needed = a.open_slots();
        if needed == 0 {
            return;
        }
        let m = &self.markets[&a.ask.market];
        let mut picks: Vec<(Address, Amount)> = Vec::new();
        if m.active {
            for offer in &m.book.offers {
                if offer.cost > a.ask.reward || picks.len() == needed {
                    break;
                }
                if offer.proposed_time <= a.ask.proving_time && self.can_take(a, offer.generator) {
                    picks.push((offer.generator, offer.cost));
                }
            }
        }
        let filled = picks.len() == needed;
        for (generator, price) in picks {
            self.assign(id, generator, price);
        }
        if filled {
            // A re-matched ask may already be in the waiting index.
            self.unwait(id);
        } else {
            self.wait(id);
        }
    }

    /// Gives a generator that just became able to serve a market (joined, cheaper offer, stake,
    /// market activated) the best compatible waiting asks, one at a time, while it stays
    /// available. Only asks whose reward covers its cost are visited.
    pub(crate) fn fill_from_offer(&mut self, generator: Address, market: MarketId) {
        self.fill_from_offers(generator, &[market]);
    }

    /// [`Engine::fill_from_offer`] over several markets at once (a generator that freed
    /// capacity re-enters every market it serves): each unit of capacity goes to the best
    /// compatible waiting ask across them, in [`WaitKey`] order (highest reward, then
    /// earliest). Filling one market to the generator's capacity before looking at the next
    /// would starve the later market whenever the first has asks waiting.
    pub(crate) fn fill_from_offers(&mut self, generator: Address, markets: &[MarketId]) {
        loop {
            let best = markets
                .iter()
                .filter_map(|&market| self.best_waiting(generator, market))
                .min_by_key(|(key, _)| *key);
            let Some((key, price)) = best else { return };
            self.assign(key.ask, generator, price);
            if self.asks[&key.ask].open_slots() == 0 {
                self.unwait(key.ask);
            }
        }
    }

    /// The best waiting ask of `market` that `generator` can take now, and the price it would
    /// be paid (its offer's cost); `None` if the generator is not in the market's book or no
    /// waiting ask suits it.
    fn best_waiting(&self, generator: Address, market: MarketId) -> Option<(WaitKey, Amount)> {
        let m = &self.markets[&market];
        if !m.active {
            return None;
        }
        let mem = self
            .generators
            .get(&generator)
            .and_then(|g| g.markets.get(&market))
            .filter(|mem| mem.in_book)?;
        m.book
            .waiting
            .iter()
            .take_while(|w| w.reward.0 >= mem.offer.cost)
            .find(|w| {
                let a = &self.asks[&w.ask];
                a.ask.proving_time >= mem.offer.proposed_time && self.can_take(a, generator)
            })
            .map(|w| (*w, mem.offer.cost))
    }

    /// Proposes `generator` for the lowest open slot of an ask.
    pub(crate) fn assign(&mut self, id: AskId, generator: Address, price: Amount) {
        let proposed_in = ProposedIn {
            block: self.block.unwrap_or(0),
            timestamp: self.now,
        };
        let a = self.asks.get_mut(&id).expect("caller holds a live ask");
        let slot = a
            .slots
            .iter()
            .position(|s| *s == SlotState::Open)
            .expect("caller checked an open slot");
        a.slots[slot] = SlotState::Proposed { generator, price };
        a.proposed_in[slot] = proposed_in;
        let market = a.ask.market;
        let slot = u8::try_from(slot).expect("redundancy is at most MAX_REDUNDANCY");
        self.outbox.push(Assignment {
            ask: id,
            slot,
            generator,
            price,
        });
        self.record_slot_key(id, slot, generator);
        self.take(generator, market);
    }

    /// Books one assignment on a generator: one unit of capacity, one penalty of market stake.
    pub(crate) fn take(&mut self, generator: Address, market: MarketId) {
        let penalty = self.markets[&market].market.slashing_penalty;
        let g = self
            .generators
            .get_mut(&generator)
            .expect("caller checked the generator");
        g.used = g.used.saturating_add(1);
        let mem = g.markets.entry(market).or_default();
        mem.locked = mem.locked.saturating_add(penalty);
        self.refresh(generator);
    }

    /// Ends one assignment of a generator and lets it serve waiting asks again.
    pub(crate) fn release(&mut self, generator: Address, market: MarketId) {
        let penalty = self.markets[&market].market.slashing_penalty;
        let g = self
            .generators
            .get_mut(&generator)
            .expect("assigned generators exist");
        g.used = g.used.saturating_sub(1);
        let mem = g.markets.entry(market).or_default();
        mem.locked = mem.locked.saturating_sub(penalty);
        self.refresh(generator);
    }

    /// Recomputes in which market books a generator belongs and matches it where it just
    /// entered.
    pub(crate) fn refresh(&mut self, generator: Address) {
        let Some(g) = self.generators.get_mut(&generator) else {
            return;
        };
        let has_capacity = g.registered && g.used < g.capacity;
        let mut entered = Vec::new();
        for (id, mem) in &mut g.markets {
            let m = self
                .markets
                .get_mut(id)
                .expect("a membership exists only for a created market");
            let free_stake = mem.stake.saturating_sub(mem.locked);
            let available = has_capacity && mem.joined && free_stake >= m.market.slashing_penalty;
            if available == mem.in_book {
                continue;
            }
            let key = mem.key(generator);
            mem.in_book = available;
            if available {
                m.book.offers.insert(key);
                entered.push(*id);
            } else {
                m.book.offers.remove(&key);
            }
        }
        self.fill_from_offers(generator, &entered);
    }

    pub(crate) fn wait(&mut self, id: AskId) {
        self.set_waiting(id, true);
    }

    pub(crate) fn unwait(&mut self, id: AskId) {
        self.set_waiting(id, false);
    }

    /// Puts an ask in or takes it out of its market's waiting index.
    fn set_waiting(&mut self, id: AskId, waiting: bool) {
        let a = self.asks.get_mut(&id).expect("caller holds a live ask");
        if a.waiting == waiting {
            return;
        }
        a.waiting = waiting;
        let key = WaitKey {
            reward: Reverse(a.ask.reward),
            seq: a.created,
            ask: id,
        };
        let index = &mut self
            .markets
            .get_mut(&a.ask.market)
            .expect("asks exist only in created markets")
            .book
            .waiting;
        if waiting {
            index.insert(key);
        } else {
            index.remove(&key);
        }
    }
}

//! Sealed-bid auctions: bids are opened only here, when the bidding window closes.
//!
//! Rule: lowest price wins; with redundancy `k` the `k` lowest valid bids from distinct
//! generators win. Payment is uniform second price: every winner is paid the lowest losing
//! valid bid (the `k+1`-th), or the ask's reward when there are at most `k` valid bids. Bidding
//! one's true cost is then a dominant strategy, and the auctioneer (the enclave) cannot shade
//! the price because its code is attested. Ties: earlier bid (chain position), then lower
//! address. Slots left open after the auction are matched against the market's standing
//! offers like an order-book ask.

use std::collections::BTreeMap;

use crate::engine::Engine;
use crate::state::AskPhase;
use crate::types::{Address, Amount, AskId, LogPos};

impl Engine {
    pub(crate) fn close_auction(&mut self, id: AskId) {
        let a = self.asks.get_mut(&id).expect("auctions hold live asks");
        if !matches!(a.phase, AskPhase::Bidding { .. }) {
            return;
        }
        a.phase = AskPhase::Matching;
        let bids = core::mem::take(&mut a.bids);
        let (reward, proving_time, market) = (a.ask.reward, a.ask.proving_time, a.ask.market);
        let needed = a.open_slots();

        // A generator's last valid bid counts.
        let mut latest: BTreeMap<Address, (LogPos, Amount)> = BTreeMap::new();
        if let Some(opener) = &self.opener {
            for bid in &bids {
                if let Ok(price) = opener.open(id, bid.generator, &bid.sealed) {
                    latest.insert(bid.generator, (bid.pos, price));
                }
            }
        }
        let mut valid: Vec<(Amount, LogPos, Address)> = latest
            .into_iter()
            .filter(|(g, (_, price))| {
                *price <= reward
                    && self
                        .generators
                        .get(g)
                        .and_then(|s| s.markets.get(&market))
                        .is_some_and(|m| m.in_book && m.offer.proposed_time <= proving_time)
            })
            .map(|(g, (pos, price))| (price, pos, g))
            .collect();
        valid.sort_unstable();
        let clearing = valid.get(needed).map_or(reward, |(price, ..)| *price);
        let market_active = self.markets[&market].active;
        let a = &self.asks[&id];
        let valid: Vec<_> = if Self::matchable(a) {
            valid
                .into_iter()
                .filter(|(.., g)| self.can_take(a, *g))
                .collect()
        } else {
            Vec::new()
        };
        if market_active {
            for &(_, _, generator) in valid.iter().take(needed) {
                self.assign(id, generator, clearing);
            }
        }
        self.match_ask(id);
    }
}

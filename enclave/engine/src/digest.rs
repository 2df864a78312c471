//! A digest of the engine's state: keccak256 over a canonical encoding of everything the chain
//! alone decides (markets, generators, asks and their slots, the time indexes, the clock, the
//! position of the last applied log). Two engines that applied the same chain have the same
//! digest, whichever process, key or order of hash-map insertions produced them; so an engine
//! that has run through restarts, reorgs and a lying RPC can be compared with a fresh replay of
//! the chain by a few bytes.
//!
//! Left out, because the chain does not decide them: the bid-opening key, proposals not yet
//! drained, the uploaded inputs of private asks, and what only the engine's key opens (a
//! private ask's content key and its per-slot re-wraps). A private ask's commitment and inline
//! inputs, which are on chain, are in.
//!
//! The encoding is fixed-width big-endian integers, a length before every sequence, a tag before
//! every enum variant, and maps in key order (hash maps sorted first).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha3::{Digest as _, Keccak256};

use crate::book::{Book, OfferKey, WaitKey};
use crate::check::InputCheckKind;
use crate::engine::Engine;
use crate::private::PrivateAsk;
use crate::state::{
    AskPhase, AskState, GeneratorState, MarketState, Membership, ProposedIn, SealedBid, SlotState,
};
use crate::types::{Address, Ask, LogPos, Market, MatchingMode, Offer};

/// Version of the encoding, hashed first: a digest changes meaning only with it.
const ENCODING: &[u8] = b"matching-engine state digest v1";

/// Writes a value's canonical encoding.
trait Canon {
    fn feed(&self, h: &mut Keccak256);
}

macro_rules! canon_int {
    ($($t:ty),*) => {$(
        impl Canon for $t {
            fn feed(&self, h: &mut Keccak256) {
                h.update(self.to_be_bytes());
            }
        }
    )*};
}
canon_int!(u8, u16, u32, u64, u128);

impl Canon for bool {
    fn feed(&self, h: &mut Keccak256) {
        u8::from(*self).feed(h);
    }
}

impl Canon for usize {
    fn feed(&self, h: &mut Keccak256) {
        (*self as u64).feed(h);
    }
}

impl<const N: usize> Canon for [u8; N] {
    fn feed(&self, h: &mut Keccak256) {
        h.update(self);
    }
}

impl<T: Canon> Canon for [T] {
    fn feed(&self, h: &mut Keccak256) {
        self.len().feed(h);
        for item in self {
            item.feed(h);
        }
    }
}

impl<T: Canon> Canon for Vec<T> {
    fn feed(&self, h: &mut Keccak256) {
        self.as_slice().feed(h);
    }
}

impl<T: Canon + ?Sized> Canon for &T {
    fn feed(&self, h: &mut Keccak256) {
        (**self).feed(h);
    }
}

impl<T: Canon + ?Sized> Canon for Box<T> {
    fn feed(&self, h: &mut Keccak256) {
        (**self).feed(h);
    }
}

impl<T: Canon> Canon for Option<T> {
    fn feed(&self, h: &mut Keccak256) {
        match self {
            None => 0u8.feed(h),
            Some(v) => {
                1u8.feed(h);
                v.feed(h);
            }
        }
    }
}

impl<A: Canon, B: Canon> Canon for (A, B) {
    fn feed(&self, h: &mut Keccak256) {
        self.0.feed(h);
        self.1.feed(h);
    }
}

impl<K: Canon, V: Canon> Canon for BTreeMap<K, V> {
    fn feed(&self, h: &mut Keccak256) {
        self.len().feed(h);
        for entry in self {
            entry.feed(h);
        }
    }
}

impl<T: Canon> Canon for BTreeSet<T> {
    fn feed(&self, h: &mut Keccak256) {
        self.len().feed(h);
        for item in self {
            item.feed(h);
        }
    }
}

/// A hash map in key order: its iteration order differs between processes.
fn sorted<K: Ord + Copy, V>(map: &HashMap<K, V>) -> Vec<(K, &V)> {
    let mut entries: Vec<(K, &V)> = map.iter().map(|(k, v)| (*k, v)).collect();
    entries.sort_unstable_by_key(|(k, _)| *k);
    entries
}

impl Canon for Address {
    fn feed(&self, h: &mut Keccak256) {
        self.0.feed(h);
    }
}

impl Canon for LogPos {
    fn feed(&self, h: &mut Keccak256) {
        self.block.feed(h);
        self.log_index.feed(h);
    }
}

impl Canon for ProposedIn {
    fn feed(&self, h: &mut Keccak256) {
        self.block.feed(h);
        self.timestamp.feed(h);
    }
}

impl Canon for Market {
    fn feed(&self, h: &mut Keccak256) {
        let Market {
            id,
            mode,
            slashing_penalty,
            prover_family,
            activation,
            verifier,
        } = self;
        id.feed(h);
        match mode {
            MatchingMode::OrderBook => 0u8.feed(h),
            MatchingMode::SealedBid { bid_window } => {
                1u8.feed(h);
                bid_window.feed(h);
            }
        }
        slashing_penalty.feed(h);
        prover_family.feed(h);
        activation.feed(h);
        verifier.feed(h);
    }
}

impl Canon for Ask {
    fn feed(&self, h: &mut Keccak256) {
        let Ask {
            id,
            market,
            reward,
            expiry,
            proving_time,
            redundancy,
            refund_address,
            prover_data_hash,
            requester,
            prover_data,
        } = self;
        id.feed(h);
        market.feed(h);
        reward.feed(h);
        expiry.feed(h);
        proving_time.feed(h);
        redundancy.feed(h);
        refund_address.feed(h);
        prover_data_hash.feed(h);
        requester.feed(h);
        prover_data.feed(h);
    }
}

impl Canon for Offer {
    fn feed(&self, h: &mut Keccak256) {
        self.cost.feed(h);
        self.proposed_time.feed(h);
    }
}

impl Canon for OfferKey {
    fn feed(&self, h: &mut Keccak256) {
        self.cost.feed(h);
        self.seq.feed(h);
        self.generator.feed(h);
        self.proposed_time.feed(h);
    }
}

impl Canon for WaitKey {
    fn feed(&self, h: &mut Keccak256) {
        self.reward.0.feed(h);
        self.seq.feed(h);
        self.ask.feed(h);
    }
}

impl Canon for Book {
    fn feed(&self, h: &mut Keccak256) {
        self.offers.feed(h);
        self.waiting.feed(h);
    }
}

impl Canon for MarketState {
    fn feed(&self, h: &mut Keccak256) {
        self.market.feed(h);
        self.active.feed(h);
        self.book.feed(h);
    }
}

impl Canon for Membership {
    fn feed(&self, h: &mut Keccak256) {
        let Membership {
            joined,
            offer,
            seq,
            stake,
            locked,
            in_book,
            encryption_key,
        } = self;
        joined.feed(h);
        offer.feed(h);
        seq.feed(h);
        stake.feed(h);
        locked.feed(h);
        in_book.feed(h);
        encryption_key.as_ref().map(|k| k.to_bytes()).feed(h);
    }
}

impl Canon for GeneratorState {
    fn feed(&self, h: &mut Keccak256) {
        self.registered.feed(h);
        self.capacity.feed(h);
        self.used.feed(h);
        self.markets.feed(h);
    }
}

impl Canon for SlotState {
    fn feed(&self, h: &mut Keccak256) {
        match *self {
            SlotState::Open => 0u8.feed(h),
            SlotState::Proposed { generator, price } => {
                1u8.feed(h);
                generator.feed(h);
                price.feed(h);
            }
            SlotState::Confirmed {
                generator,
                price,
                deadline,
            } => {
                2u8.feed(h);
                generator.feed(h);
                price.feed(h);
                deadline.feed(h);
            }
            SlotState::Completed { generator } => {
                3u8.feed(h);
                generator.feed(h);
            }
            SlotState::Slashed { generator } => {
                4u8.feed(h);
                generator.feed(h);
            }
            SlotState::InputsInvalid { generator } => {
                5u8.feed(h);
                generator.feed(h);
            }
        }
    }
}

impl Canon for AskPhase {
    fn feed(&self, h: &mut Keccak256) {
        match *self {
            AskPhase::Bidding { closes } => {
                0u8.feed(h);
                closes.feed(h);
            }
            AskPhase::Matching => 1u8.feed(h),
            AskPhase::Closed => 2u8.feed(h),
            AskPhase::Cancelled => 3u8.feed(h),
        }
    }
}

impl Canon for SealedBid {
    fn feed(&self, h: &mut Keccak256) {
        self.pos.feed(h);
        self.generator.feed(h);
        self.sealed.feed(h);
    }
}

/// What the chain says of a private ask: its commitment and inline inputs (not what the
/// engine's key opens).
impl Canon for PrivateAsk {
    fn feed(&self, h: &mut Keccak256) {
        self.inputs_hash.feed(h);
        self.inline.feed(h);
    }
}

impl Canon for AskState {
    fn feed(&self, h: &mut Keccak256) {
        let AskState {
            ask,
            created,
            phase,
            slots,
            waiting,
            bids,
            barred,
            private,
            proposed_in,
        } = self;
        ask.feed(h);
        created.feed(h);
        phase.feed(h);
        slots.feed(h);
        waiting.feed(h);
        bids.feed(h);
        barred.feed(h);
        private.feed(h);
        proposed_in.feed(h);
    }
}

impl Canon for InputCheckKind {
    fn feed(&self, h: &mut Keccak256) {
        match self {
            InputCheckKind::SchnorrBn254 => 0u8.feed(h),
        }
    }
}

impl Engine {
    /// The digest of the state the chain decides (see the module documentation), as of
    /// [`Engine::block`].
    #[must_use]
    pub fn state_digest(&self) -> [u8; 32] {
        let Engine {
            config,
            opener: _,
            block,
            now,
            last_pos,
            markets,
            generators,
            asks,
            activations,
            closing,
            dropping,
            auctions,
            outbox: _,
            retired,
            fresh,
            commitments,
            store: _,
        } = self;
        let mut h = Keccak256::new();
        h.update(ENCODING);
        config.expiry_margin.feed(&mut h);
        config.input_checks.feed(&mut h);
        block.feed(&mut h);
        now.feed(&mut h);
        last_pos.feed(&mut h);
        markets.feed(&mut h);
        sorted(generators).feed(&mut h);
        sorted(asks).feed(&mut h);
        activations.feed(&mut h);
        closing.feed(&mut h);
        dropping.feed(&mut h);
        auctions.feed(&mut h);
        retired.feed(&mut h);
        fresh.feed(&mut h);
        sorted(commitments).feed(&mut h);
        h.finalize().into()
    }
}

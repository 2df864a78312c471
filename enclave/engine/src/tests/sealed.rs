//! Sealed-bid auctions and the bid encryption.

use rand_core::OsRng;

use super::harness::{World, check_invariants, gen_addr, join, register, stake};
use crate::state::{AskPhase, SlotState};
use crate::{
    Address, AskId, BidContext, BidOpener, Config, Engine, Event, Market, MatchingMode, SealError,
    SecretKey, seal_bid,
};

const CTX: BidContext = BidContext {
    chain_id: 31337,
    marketplace: Address([0x5f; 20]),
};

fn opener() -> BidOpener {
    BidOpener::new(
        SecretKey::from_slice(&[0x11; 32]).expect("valid scalar"),
        CTX,
    )
}

fn bid(ask: AskId, n: u64, price: u128) -> Event {
    Event::BidSubmitted {
        ask,
        generator: gen_addr(n),
        sealed: seal_bid(
            &mut OsRng,
            &opener().public_key(),
            &CTX,
            ask,
            gen_addr(n),
            price,
        ),
    }
}

/// Sealed-bid market 1 (window 60 s) with generators 1..=4 whose standing offers cost 90.
fn auction_world(with_key: bool) -> World {
    let mut w = World::with_engine(Engine::new(Config::default(), with_key.then(opener)));
    w.emit(Event::MarketCreated(Market {
        id: 1,
        mode: MatchingMode::SealedBid { bid_window: 60 },
        slashing_penalty: 1,
        prover_family: None,
        activation: 0,
        verifier: Address::ZERO,
    }));
    for n in 1..=4 {
        w.emit(register(n, 2))
            .emit(stake(n, 1, 100))
            .emit(join(n, 1, 90, 10));
    }
    w.mine(12);
    w
}

#[test]
fn bids_round_trip_and_are_bound_to_bidder_and_ask() {
    let o = opener();
    let sealed = seal_bid(&mut OsRng, &o.public_key(), &CTX, 7, gen_addr(1), 1234);
    assert_eq!(sealed.len(), crate::SEALED_BID_LEN);
    assert_eq!(o.open(7, gen_addr(1), &sealed), Ok(1234));
    assert_eq!(
        o.open(7, gen_addr(2), &sealed),
        Err(SealError::Unauthentic),
        "copied bid"
    );
    assert_eq!(
        o.open(8, gen_addr(1), &sealed),
        Err(SealError::Unauthentic),
        "other ask"
    );
    let other_chain = BidOpener::new(
        SecretKey::from_slice(&[0x11; 32]).expect("scalar"),
        BidContext { chain_id: 1, ..CTX },
    );
    assert_eq!(
        other_chain.open(7, gen_addr(1), &sealed),
        Err(SealError::Unauthentic)
    );
    let wrong_key = BidOpener::new(SecretKey::from_slice(&[0x22; 32]).expect("scalar"), CTX);
    assert_eq!(
        wrong_key.open(7, gen_addr(1), &sealed),
        Err(SealError::Unauthentic)
    );
    let mut tampered = sealed.clone();
    tampered[40] ^= 1;
    assert_eq!(
        o.open(7, gen_addr(1), &tampered),
        Err(SealError::Unauthentic)
    );
    assert_eq!(
        o.open(7, gen_addr(1), &sealed[..64]),
        Err(SealError::Malformed)
    );
    let mut bad_point = sealed;
    bad_point[0] = 0x04; // uncompressed tag on 33 bytes
    assert_eq!(
        o.open(7, gen_addr(1), &bad_point),
        Err(SealError::Malformed)
    );
}

#[test]
fn lowest_bid_wins_at_the_second_price_when_the_window_closes() {
    let mut w = auction_world(true);
    w.emit(Event::AskCreated(super::harness::ask_with(
        1,
        1,
        100,
        60,
        1,
        w.now + 10_000,
    )));
    w.emit(bid(1, 1, 70))
        .emit(bid(1, 2, 40))
        .emit(bid(1, 3, 55));
    let out = w.mine(12);
    assert!(out.proposals.is_empty(), "nothing opens before the close");
    assert!(matches!(w.phase(1), AskPhase::Bidding { .. }));
    w.mine(30);
    let out = w.mine(30);
    assert_eq!(out.proposals.len(), 1);
    assert_eq!(
        w.slots(1),
        vec![SlotState::Proposed {
            generator: gen_addr(2),
            price: 55
        }]
    );
    check_invariants(&w.engine);
}

#[test]
fn redundant_auction_pays_winners_the_lowest_losing_bid_and_ignores_bad_bids() {
    let mut w = auction_world(true);
    w.emit(Event::AskCreated(super::harness::ask_with(
        1,
        1,
        100,
        60,
        2,
        w.now + 10_000,
    )));
    w.emit(bid(1, 1, 30));
    w.emit(bid(1, 2, 20)).emit(bid(1, 2, 50)); // the last bid counts
    w.emit(bid(1, 3, 150)); // above the reward
    // Generator 4 copies generator 1's ciphertext: authentication fails.
    let Event::BidSubmitted { sealed, .. } = bid(1, 1, 10) else {
        unreachable!()
    };
    w.emit(Event::BidSubmitted {
        ask: 1,
        generator: gen_addr(4),
        sealed,
    });
    w.mine(12);
    w.mine(61);
    let slots = w.slots(1);
    assert_eq!(
        slots,
        vec![
            SlotState::Proposed {
                generator: gen_addr(1),
                price: 100
            },
            SlotState::Proposed {
                generator: gen_addr(2),
                price: 100
            },
        ]
    );
    // With a third valid bid below the reward, that bid sets the price.
    w.emit(Event::AskCreated(super::harness::ask_with(
        2,
        1,
        100,
        60,
        2,
        w.now + 10_000,
    )));
    w.emit(bid(2, 1, 30))
        .emit(bid(2, 2, 20))
        .emit(bid(2, 3, 60));
    w.mine(12);
    w.mine(61);
    let prices: Vec<_> = w
        .slots(2)
        .iter()
        .map(|s| match s {
            SlotState::Proposed { generator, price } => (*generator, *price),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(prices, vec![(gen_addr(2), 60), (gen_addr(1), 60)]);
    check_invariants(&w.engine);
}

#[test]
fn without_the_key_bids_stay_sealed_and_the_standing_offers_serve() {
    let mut w = auction_world(false);
    w.emit(Event::AskCreated(super::harness::ask_with(
        1,
        1,
        100,
        60,
        1,
        w.now + 10_000,
    )));
    w.emit(bid(1, 2, 40));
    w.mine(12);
    w.mine(61);
    assert_eq!(
        w.slots(1),
        vec![SlotState::Proposed {
            generator: gen_addr(1),
            price: 90
        }]
    );
}

#[test]
fn late_bids_are_rejected() {
    let mut w = auction_world(true);
    w.emit(Event::AskCreated(super::harness::ask_with(
        1,
        1,
        100,
        60,
        1,
        w.now + 10_000,
    )));
    w.mine(12);
    w.emit(bid(1, 2, 40));
    let out = w.mine(60);
    assert_eq!(out.rejected.len(), 1);
}

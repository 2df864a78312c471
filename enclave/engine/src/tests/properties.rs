//! Property tests over random scenarios.

use proptest::prelude::*;

use super::harness::{GENERATORS, MARKETS, Op, World, check_invariants, gen_addr};
use crate::naive::{NaiveGenerator, NaiveMatcher};
use crate::state::SlotState;
use crate::{Config, Engine, Event, LogPos, Offer, Replica};

fn op() -> impl Strategy<Value = Op> {
    let n = 0..GENERATORS;
    let m = 0..MARKETS;
    prop_oneof![
        3 => (n.clone(), m.clone(), 1..100u128, 1..50u64)
            .prop_map(|(n, market, cost, time)| Op::Join { n, market, cost, time }),
        1 => (n.clone(), m.clone(), 1..100u128, 1..50u64)
            .prop_map(|(n, market, cost, time)| Op::Update { n, market, cost, time }),
        1 => (n.clone(), m.clone()).prop_map(|(n, market)| Op::Leave { n, market }),
        2 => (n.clone(), m.clone(), 0..60u128)
            .prop_map(|(n, market, amount)| Op::Stake { n, market, amount }),
        1 => (n, 0..4u32).prop_map(|(n, capacity)| Op::Capacity { n, capacity }),
        6 => (m, 1..120u128, 1..60u64, 1..=3u8, 20..400u64).prop_map(
            |(market, reward, proving_time, k, ttl)| Op::Ask { market, reward, proving_time, k, ttl }
        ),
        1 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        3 => Just(Op::Submit),
        1 => any::<usize>().prop_map(|pick| Op::Skip { pick }),
        2 => any::<usize>().prop_map(|pick| Op::Prove { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Slash { pick }),
        4 => (1..40u64).prop_map(|dt| Op::Mine { dt }),
    ]
}

fn run(ops: &[Op]) -> World {
    let mut w = World::scenario();
    for op in ops {
        w.step(op);
    }
    w.step(&Op::Mine { dt: 1 });
    w
}

fn replay(w: &World) -> (Engine, Vec<crate::Assignment>) {
    let mut e = Engine::new(Config::default(), None);
    let mut proposals = Vec::new();
    for b in &w.blocks {
        proposals.extend(e.apply_block(b).proposals);
    }
    (e, proposals)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    /// Capacity, stake and index invariants hold after every block (checked inside `step`),
    /// no generator ever holds more than its capacity through engine proposals, the contract
    /// never sees a proposal for a slot it already filled, and no ask gets more than k
    /// distinct generators.
    #[test]
    fn invariants_hold_on_random_streams(ops in prop::collection::vec(op(), 1..120)) {
        let w = run(&ops);
        prop_assert_eq!(w.contract.rejected_duplicates, 0);
        for (id, ask) in &w.contract.asks {
            let held: Vec<_> = w.contract.slots.iter().filter(|((a, _), _)| a == id).map(|(_, g)| *g).collect();
            prop_assert!(held.len() <= usize::from(ask.redundancy));
            let distinct: std::collections::BTreeSet<_> = held.iter().collect();
            prop_assert_eq!(distinct.len(), held.len());
        }
    }

    /// Same events in, same state and same assignments out.
    #[test]
    fn replay_is_deterministic(ops in prop::collection::vec(op(), 1..120)) {
        let w = run(&ops);
        let (e, proposals) = replay(&w);
        prop_assert_eq!(&e, &w.engine);
        prop_assert_eq!(&proposals, &w.proposals);
        prop_assert_eq!(e.pending_assignments(), w.engine.pending_assignments());
    }

    /// A reorg onto a competing suffix leaves the replica exactly where a fresh application
    /// of the winning chain does.
    #[test]
    fn reorg_rollback_then_replay_equals_fresh_application(
        prefix in prop::collection::vec(op(), 0..60),
        left in prop::collection::vec(op(), 1..40),
        right in prop::collection::vec(op(), 1..40),
    ) {
        let base = run(&prefix);
        let mut a = base.clone();
        a.fork = 1;
        for op in &left { a.step(op); }
        a.step(&Op::Mine { dt: 1 });
        let mut b = base.clone();
        b.fork = 2;
        for op in &right { b.step(op); }
        b.step(&Op::Mine { dt: 1 });

        let mut replica = Replica::new(Engine::new(Config::default(), None), 64);
        for blk in &a.blocks {
            replica.push_block(blk.clone()).expect("linked chain");
        }
        prop_assert_eq!(replica.head(), &a.engine);
        // Redelivering a known block changes nothing.
        if let Some(last) = a.blocks.last() {
            let out = replica.push_block(last.clone()).expect("known block");
            prop_assert!(out.proposals.is_empty());
            prop_assert_eq!(replica.head(), &a.engine);
        }
        for blk in &b.blocks[base.blocks.len()..] {
            replica.push_block(blk.clone()).expect("reorg within the window");
        }
        prop_assert_eq!(replica.head(), &b.engine);
        check_invariants(replica.head());
    }

    /// With only asks arriving, the indexed engine makes exactly the naive scan-all matcher's
    /// picks.
    #[test]
    fn indexed_matching_equals_the_scan_all_matcher(
        gens in prop::collection::vec((0..MARKETS, 1..100u128, 1..50u64, 0..4u32, 0..60u128), 1..12),
        asks in prop::collection::vec((0..MARKETS, 1..120u128, 1..60u64, 1..=3u8), 1..60),
    ) {
        let mut w = World::scenario();
        w.mine(200); // market 2 active
        let mut naive_gens = Vec::new();
        for (i, &(market, cost, time, capacity, stake)) in gens.iter().enumerate() {
            let n = 100 + i as u64;
            w.emit(super::harness::register(n, capacity));
            w.emit(super::harness::stake(n, market, stake));
            w.emit(super::harness::join(n, market, cost, time));
            let index = u32::try_from(3 * i + 2).expect("small");
            naive_gens.push(NaiveGenerator {
                address: gen_addr(n),
                market,
                offer: Offer { cost, proposed_time: time },
                seq: LogPos::new(w.number + 1, index),
                capacity,
                used: 0,
                stake,
                locked: 0,
            });
        }
        w.mine(12);
        let mut naive = NaiveMatcher::new(naive_gens);
        let mut expected = Vec::new();
        for (i, &(market, reward, proving_time, k)) in asks.iter().enumerate() {
            let a = super::harness::ask_with(i as u64 + 1, market, reward, proving_time, k, w.now + 10_000);
            expected.extend(naive.match_ask(&a, super::harness::PENALTY));
            w.emit(Event::AskCreated(a));
        }
        let out = w.mine(12);
        prop_assert_eq!(out.proposals, expected);
        check_invariants(&w.engine);
        for a in w.engine.asks.values() {
            let only_open_or_proposed =
                a.slots.iter().all(|s| matches!(s, SlotState::Open | SlotState::Proposed { .. }));
            prop_assert!(only_open_or_proposed);
        }
    }
}

fn arbitrary_event() -> impl Strategy<Value = Event> {
    use crate::{AcceptedAssignment, Assignment, Market, MatchingMode};
    let g = (0..5u64).prop_map(gen_addr);
    let assignment =
        (0..6u64, 0..5u8, g.clone(), 0..200u128).prop_map(|(ask, slot, generator, price)| {
            Assignment {
                ask,
                slot,
                generator,
                price,
            }
        });
    prop_oneof![
        (0..4u64, 0..30u128, prop::option::of(1..90u64), 0..2_000u64).prop_map(
            |(id, penalty, window, activation)| {
                Event::MarketCreated(Market {
                    id,
                    mode: window.map_or(MatchingMode::OrderBook, |bid_window| {
                        MatchingMode::SealedBid { bid_window }
                    }),
                    slashing_penalty: penalty,
                    prover_family: None,
                    activation,
                    verifier: crate::Address::ZERO,
                })
            }
        ),
        (g.clone(), 0..5u32).prop_map(|(generator, capacity)| Event::GeneratorRegistered {
            generator,
            capacity
        }),
        (g.clone(), 0..5u32).prop_map(|(generator, capacity)| Event::CapacityChanged {
            generator,
            capacity
        }),
        g.clone()
            .prop_map(|generator| Event::GeneratorDeregistered { generator }),
        (g.clone(), 0..4u64, 0..100u128, 0..50u64).prop_map(
            |(generator, market, cost, proposed_time)| {
                Event::GeneratorJoined {
                    generator,
                    market,
                    offer: Offer {
                        cost,
                        proposed_time,
                    },
                }
            }
        ),
        (g.clone(), 0..4u64, 0..100u128, 0..50u64).prop_map(
            |(generator, market, cost, proposed_time)| {
                Event::GeneratorUpdated {
                    generator,
                    market,
                    offer: Offer {
                        cost,
                        proposed_time,
                    },
                }
            }
        ),
        (g.clone(), 0..4u64)
            .prop_map(|(generator, market)| Event::GeneratorLeft { generator, market }),
        (g.clone(), 0..4u64, 0..100u128).prop_map(|(generator, market, stake)| {
            Event::StakeChanged {
                generator,
                market,
                stake,
            }
        }),
        (
            0..6u64,
            0..4u64,
            0..150u128,
            0..60u64,
            0..20u8,
            900..1_600u64
        )
            .prop_map(|(id, market, reward, proving_time, k, expiry)| {
                Event::AskCreated(super::harness::ask_with(
                    id,
                    market,
                    reward,
                    proving_time,
                    k,
                    expiry,
                ))
            }),
        (0..6u64).prop_map(|ask| Event::AskCancelled { ask }),
        (
            0..6u64,
            g.clone(),
            prop::collection::vec(any::<u8>(), 0..80)
        )
            .prop_map(|(ask, generator, sealed)| Event::BidSubmitted {
                ask,
                generator,
                sealed
            }),
        prop::collection::vec((assignment, 0..2_000u64), 0..4).prop_map(|list| {
            Event::AssignmentsAccepted {
                assignments: list
                    .into_iter()
                    .map(|(assignment, deadline)| AcceptedAssignment {
                        assignment,
                        deadline,
                    })
                    .collect(),
            }
        }),
        (0..6u64, 0..5u8, g.clone()).prop_map(|(ask, slot, generator)| Event::AssignmentSkipped {
            ask,
            slot,
            generator
        }),
        (0..6u64, 0..5u8, g.clone()).prop_map(|(ask, slot, generator)| Event::ProofSubmitted {
            ask,
            slot,
            generator
        }),
        (0..6u64, 0..5u8, g).prop_map(|(ask, slot, generator)| Event::Slashed {
            ask,
            slot,
            generator
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Events no contract would emit (unknown ids, foreign slots, garbage bids, conflicting
    /// acceptances) never panic the engine and never break its accounting or indexes.
    #[test]
    fn arbitrary_events_never_panic_or_corrupt_state(
        blocks in prop::collection::vec((prop::collection::vec(arbitrary_event(), 0..8), 0..120u64), 1..25)
    ) {
        // A consistent base (markets 0 to 2, generators 0 to 4 staked and joined) so that
        // the arbitrary events meet live asks, offers and slots.
        let mut w = World::scenario();
        for n in 0..5 {
            for m in 0..MARKETS {
                w.step(&Op::Stake { n, market: m, amount: 100 });
                w.step(&Op::Join { n, market: m, cost: 10 * u128::from(n as u8), time: 5 });
            }
        }
        w.mine(200);
        for (events, dt) in blocks {
            for e in events {
                w.emit(e);
            }
            w.mine(dt);
            check_invariants(&w.engine);
        }
        let (e, _) = replay(&w);
        prop_assert_eq!(&e, &w.engine);
    }
}

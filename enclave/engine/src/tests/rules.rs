//! One test per matching rule.

use super::harness::{
    World, ask, ask_with, check_invariants, gen_addr, join, market, register, stake,
};
use crate::state::{AskPhase, SlotState};
use crate::{
    Address, Applied, AskId, Assignment, Event, EventError, LogPos, Market, MatchingMode, Offer,
};

/// Market 1 (penalty 10) with generators `n` joined at the given costs, capacity `cap`, stake
/// enough for 100 assignments.
fn world(offers: &[(u64, u128, u64)], cap: u32) -> World {
    let mut w = World::new();
    w.emit(market(1, 10));
    for &(n, cost, time) in offers {
        w.emit(register(n, cap))
            .emit(stake(n, 1, 1_000))
            .emit(join(n, 1, cost, time));
    }
    w.mine(12);
    w
}

/// Generator 1, holding one slot of capacity on ask `first`, proves it `n` times in turn: each
/// proof frees the slot, which must bring exactly one proposal, accepted on chain and proved
/// next. The asks proposed, in order.
fn serve_in_turn(w: &mut World, first: AskId, n: usize) -> Vec<AskId> {
    let mut done = first;
    let mut order = Vec::new();
    for _ in 0..n {
        w.emit(Event::ProofSubmitted {
            ask: done,
            slot: 0,
            generator: gen_addr(1),
        });
        let out = w.mine(12);
        assert_eq!(out.proposals.len(), 1, "one freed slot, one proposal");
        done = out.proposals[0].ask;
        order.push(done);
        w.submit_pending();
        w.mine(12);
    }
    order
}

fn proposed(generator: Address, price: u128) -> SlotState {
    SlotState::Proposed { generator, price }
}

#[test]
fn cheapest_offer_wins_and_is_paid_its_cost() {
    let mut w = world(&[(1, 50, 10), (2, 30, 10), (3, 40, 10)], 4);
    w.emit(ask(1, 1, 100, 60, 1));
    let out = w.mine(12);
    assert_eq!(
        out.proposals,
        vec![Assignment {
            ask: 1,
            slot: 0,
            generator: gen_addr(2),
            price: 30
        }]
    );
    check_invariants(&w.engine);
}

#[test]
fn equal_cost_goes_to_the_earlier_offer_and_an_update_loses_priority() {
    let mut w = world(&[(1, 30, 10), (2, 30, 10)], 4);
    w.emit(ask(1, 1, 100, 60, 1));
    w.mine(12);
    assert_eq!(w.holders(1), vec![Some(gen_addr(1))]);
    // Generator 1 re-states the same price: it now queues behind generator 2.
    w.emit(Event::GeneratorUpdated {
        generator: gen_addr(1),
        market: 1,
        offer: Offer {
            cost: 30,
            proposed_time: 10,
        },
    });
    w.emit(ask(2, 1, 100, 60, 1));
    w.mine(12);
    assert_eq!(w.holders(2), vec![Some(gen_addr(2))]);
    check_invariants(&w.engine);
}

#[test]
fn time_priority_is_kept_across_fills() {
    // Partial fills keep priority: the earliest of equal offers takes asks until it is full.
    let mut w = world(&[(1, 30, 10), (2, 30, 10)], 2);
    for id in 1..=3 {
        w.emit(ask(id, 1, 100, 60, 1));
    }
    w.mine(12);
    let holders: Vec<_> = (1..=3).map(|id| w.holders(id)[0]).collect();
    assert_eq!(
        holders,
        vec![Some(gen_addr(1)), Some(gen_addr(1)), Some(gen_addr(2))]
    );
}

#[test]
fn too_slow_or_too_expensive_generators_are_skipped() {
    let mut w = world(&[(1, 10, 100), (2, 200, 10), (3, 50, 30)], 4);
    w.emit(ask(1, 1, 100, 60, 1));
    w.mine(12);
    assert_eq!(w.holders(1), vec![Some(gen_addr(3))]);
}

#[test]
fn ask_without_a_compatible_offer_waits_and_matches_when_one_appears() {
    let mut w = world(&[(1, 150, 10)], 4);
    w.emit(ask(1, 1, 100, 60, 1));
    let out = w.mine(12);
    assert!(out.proposals.is_empty());
    assert_eq!(w.phase(1), AskPhase::Matching);
    assert_eq!(w.slots(1), vec![SlotState::Open]);
    check_invariants(&w.engine);
    // The generator lowers its price: the waiting ask is served at once.
    w.emit(Event::GeneratorUpdated {
        generator: gen_addr(1),
        market: 1,
        offer: Offer {
            cost: 90,
            proposed_time: 10,
        },
    });
    let out = w.mine(12);
    assert_eq!(out.proposals.len(), 1);
    assert_eq!(w.slots(1), vec![proposed(gen_addr(1), 90)]);
    check_invariants(&w.engine);
}

#[test]
fn capacity_is_exhausted_then_freed_by_a_proof() {
    let mut w = world(&[(1, 10, 10)], 2);
    for id in 1..=3 {
        w.emit(ask(id, 1, 100, 60, 1));
    }
    w.mine(12);
    assert_eq!(
        w.engine.generator_load(gen_addr(1)).map(|l| l.used),
        Some(2)
    );
    assert_eq!(w.slots(3), vec![SlotState::Open]);
    assert_eq!(w.submit_pending(), 2);
    w.mine(12);
    w.emit(Event::ProofSubmitted {
        ask: 1,
        slot: 0,
        generator: gen_addr(1),
    });
    let out = w.mine(12);
    assert_eq!(
        out.proposals,
        vec![Assignment {
            ask: 3,
            slot: 0,
            generator: gen_addr(1),
            price: 10
        }]
    );
    assert!(
        w.engine.ask_status(1).is_none(),
        "a finished ask is retired"
    );
    assert_eq!(w.engine.retired_asks(), 1);
    check_invariants(&w.engine);
}

#[test]
fn waiting_asks_are_served_highest_reward_first_then_earliest() {
    let mut w = world(&[(1, 10, 10)], 1);
    w.emit(ask(1, 1, 100, 60, 1)); // takes the only capacity
    w.emit(ask(2, 1, 50, 60, 1));
    w.emit(ask(3, 1, 80, 60, 1));
    w.emit(ask(4, 1, 80, 60, 1));
    w.mine(12);
    w.submit_pending();
    w.mine(12);
    assert_eq!(serve_in_turn(&mut w, 1, 3), vec![3, 4, 2]);
    check_invariants(&w.engine);
}

#[test]
fn redundancy_picks_distinct_generators_and_fills_late_slots() {
    let mut w = world(&[(1, 10, 10), (2, 20, 10)], 5);
    w.emit(ask(1, 1, 100, 60, 3));
    w.mine(12);
    assert_eq!(
        w.slots(1),
        vec![
            proposed(gen_addr(1), 10),
            proposed(gen_addr(2), 20),
            SlotState::Open
        ]
    );
    // Both have spare capacity, yet neither may take the third slot.
    w.emit(ask(2, 1, 100, 60, 1));
    w.mine(12);
    assert_eq!(w.holders(2), vec![Some(gen_addr(1))]);
    assert_eq!(w.slots(1)[2], SlotState::Open);
    w.emit(register(3, 1))
        .emit(stake(3, 1, 1_000))
        .emit(join(3, 1, 99, 10));
    w.mine(12);
    assert_eq!(w.slots(1)[2], proposed(gen_addr(3), 99));
    check_invariants(&w.engine);
}

#[test]
fn stake_below_the_penalty_excludes_and_locked_stake_counts() {
    let mut w = World::new();
    w.emit(market(1, 10));
    w.emit(register(1, 5))
        .emit(join(1, 1, 10, 10))
        .emit(stake(1, 1, 9));
    w.emit(ask(1, 1, 100, 60, 1));
    w.mine(12);
    assert_eq!(w.slots(1), vec![SlotState::Open], "9 < penalty 10");
    // 15 covers one penalty: ask 1 is served, ask 2 then waits on stake, not capacity.
    w.emit(stake(1, 1, 15));
    w.emit(ask(2, 1, 100, 60, 1));
    w.mine(12);
    assert_eq!(w.holders(1), vec![Some(gen_addr(1))]);
    assert_eq!(w.slots(2), vec![SlotState::Open]);
    w.emit(stake(1, 1, 20));
    w.mine(12);
    assert_eq!(w.holders(2), vec![Some(gen_addr(1))]);
    check_invariants(&w.engine);
}

#[test]
fn asks_expire_and_expired_proposals_free_the_generator() {
    let mut w = world(&[(1, 10, 10)], 1);
    let now = w.now;
    // Expires inside the margin: never matched.
    w.emit(Event::AskCreated(ask_with(1, 1, 100, 60, 1, now + 20)));
    // Matched, but the batch never lands before expiry.
    w.emit(Event::AskCreated(ask_with(2, 1, 100, 60, 1, now + 100)));
    // Waits for capacity.
    w.emit(Event::AskCreated(ask_with(3, 1, 100, 60, 1, now + 1_000)));
    w.mine(12);
    assert!(
        w.engine.ask_status(1).is_none(),
        "closed at birth, nothing held: retired"
    );
    assert_eq!(w.holders(2), vec![Some(gen_addr(1))]);
    assert_eq!(w.slots(3), vec![SlotState::Open]);
    w.mine(60); // now + 72: ask 2 inside its margin, proposal kept
    assert_eq!(w.phase(2), AskPhase::Closed);
    assert_eq!(w.holders(2), vec![Some(gen_addr(1))]);
    let out = w.mine(60); // now + 132 > expiry of ask 2
    assert!(
        w.engine.ask_status(2).is_none(),
        "proposal dropped, ask retired"
    );
    assert_eq!(out.proposals.first().map(|a| a.ask), Some(3));
    check_invariants(&w.engine);
}

#[test]
fn cancel_removes_a_waiting_ask_and_frees_a_proposed_generator() {
    let mut w = world(&[(1, 10, 10)], 1);
    w.emit(ask(1, 1, 100, 60, 1))
        .emit(ask(2, 1, 100, 60, 1))
        .emit(ask(3, 1, 100, 60, 1));
    w.mine(12);
    w.emit(Event::AskCancelled { ask: 2 });
    w.emit(Event::AskCancelled { ask: 1 });
    let out = w.mine(12);
    assert!(w.engine.ask_status(1).is_none());
    assert!(w.engine.ask_status(2).is_none());
    assert_eq!(w.engine.retired_asks(), 2);
    assert_eq!(
        out.proposals.iter().map(|a| a.ask).collect::<Vec<_>>(),
        vec![3]
    );
    check_invariants(&w.engine);
}

#[test]
fn markets_match_only_after_activation() {
    let mut w = World::new();
    let at = w.now + 100;
    w.emit(Event::MarketCreated(Market {
        id: 1,
        mode: MatchingMode::OrderBook,
        slashing_penalty: 1,
        prover_family: None,
        activation: at,
        verifier: Address::ZERO,
    }));
    w.emit(register(1, 2))
        .emit(stake(1, 1, 10))
        .emit(join(1, 1, 10, 10));
    w.emit(ask(1, 1, 100, 60, 1));
    assert!(w.mine(12).proposals.is_empty());
    check_invariants(&w.engine);
    assert!(w.mine(12).proposals.is_empty());
    assert_eq!(w.mine(100).proposals.len(), 1);
    check_invariants(&w.engine);
}

#[test]
fn slash_ends_the_assignment_without_reopening_the_slot() {
    let mut w = world(&[(1, 10, 10), (2, 20, 10)], 1);
    w.emit(ask(1, 1, 100, 60, 1));
    w.mine(12);
    w.submit_pending();
    w.mine(12);
    w.emit(Event::Slashed {
        ask: 1,
        slot: 0,
        generator: gen_addr(1),
    });
    let out = w.mine(100);
    assert!(out.proposals.is_empty(), "a slashed slot is not reassigned");
    assert!(w.engine.ask_status(1).is_none());
    assert_eq!(
        w.engine.generator_load(gen_addr(1)).map(|l| l.used),
        Some(0)
    );
    check_invariants(&w.engine);
}

#[test]
fn the_chain_wins_over_a_conflicting_proposal() {
    let mut w = world(&[(1, 10, 10), (2, 20, 10)], 1);
    w.emit(ask(1, 1, 100, 60, 1)).emit(ask(2, 1, 100, 60, 1));
    w.mine(12);
    assert_eq!(w.holders(1), vec![Some(gen_addr(1))]);
    assert_eq!(w.holders(2), vec![Some(gen_addr(2))]);
    // A batch signed under another view assigned generator 2 to ask 1.
    w.emit(Event::AssignmentsAccepted {
        assignments: vec![crate::AcceptedAssignment {
            assignment: Assignment {
                ask: 1,
                slot: 0,
                generator: gen_addr(2),
                price: 20,
            },
            deadline: w.now + 60,
        }],
    });
    let out = w.mine(12);
    assert!(
        matches!(w.slots(1)[0], SlotState::Confirmed { generator, .. } if generator == gen_addr(2))
    );
    // Generator 1 is free again and picks up nothing new; generator 2 is now over-committed
    // by the chain's choice (ask 2 keeps its proposal until the chain rules on it).
    assert!(out.proposals.is_empty());
    assert_eq!(
        w.engine.generator_load(gen_addr(2)).map(|l| l.used),
        Some(2)
    );
    check_invariants(&w.engine);
}

#[test]
fn duplicate_positions_are_skipped() {
    let mut w = world(&[(1, 10, 10)], 4);
    w.emit(ask(1, 1, 100, 60, 1));
    let block = w.build(12);
    let first = w.engine.apply_block(&block);
    let before = w.engine.clone();
    let again = w.engine.apply_block(&block);
    assert_eq!(first.proposals.len(), 1);
    assert!(again.proposals.is_empty());
    assert_eq!(again.duplicates, 1);
    assert_eq!(w.engine, before);
    assert_eq!(
        w.engine
            .apply_log(LogPos::new(block.number, 0), &block.logs[0].event),
        Ok(Applied::Duplicate)
    );
}

#[test]
fn inconsistent_events_are_rejected_without_changing_state() {
    let mut w = world(&[(1, 10, 10)], 4);
    w.emit(ask(1, 1, 100, 60, 1));
    w.mine(12);
    let cases = [
        (ask(2, 9, 100, 60, 1), EventError::UnknownMarket(9)),
        (ask(1, 1, 100, 60, 1), EventError::DuplicateAsk(1)),
        (
            ask(3, 1, 100, 60, 0),
            EventError::BadRedundancy {
                ask: 3,
                redundancy: 0,
            },
        ),
        (
            join(1, 1, 5, 5),
            EventError::AlreadyJoined {
                generator: gen_addr(1),
                market: 1,
            },
        ),
        (join(7, 1, 5, 5), EventError::UnknownGenerator(gen_addr(7))),
        (
            Event::ProofSubmitted {
                ask: 1,
                slot: 0,
                generator: gen_addr(1),
            },
            EventError::SlotConflict { ask: 1, slot: 0 },
        ),
        (
            Event::Slashed {
                ask: 1,
                slot: 4,
                generator: gen_addr(1),
            },
            EventError::SlotOutOfRange { ask: 1, slot: 4 },
        ),
        (
            Event::BidSubmitted {
                ask: 1,
                generator: gen_addr(1),
                sealed: vec![0; 65],
            },
            EventError::NoOpenAuction(1),
        ),
    ];
    for (event, expected) in cases {
        let before = w.engine.clone();
        w.emit(event);
        let out = w.mine(1);
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].1, expected);
        // Only the clock and the log position moved.
        let mut after = w.engine.clone();
        after.block = before.block;
        after.now = before.now;
        after.last_pos = before.last_pos;
        assert_eq!(after, before, "state changed on {expected}");
    }
}

fn accepted(ask: u64, slot: u8, n: u64, price: u128) -> Event {
    Event::AssignmentsAccepted {
        assignments: vec![crate::AcceptedAssignment {
            assignment: Assignment {
                ask,
                slot,
                generator: gen_addr(n),
                price,
            },
            deadline: 10_000,
        }],
    }
}

#[test]
fn a_generator_confirmed_twice_on_one_ask_is_rejected() {
    let mut w = world(&[(1, 10, 10), (2, 20, 10)], 4);
    w.emit(ask(1, 1, 100, 60, 2));
    w.mine(12);
    w.emit(accepted(1, 0, 1, 10));
    w.mine(12);
    w.emit(accepted(1, 1, 1, 10));
    let out = w.mine(12);
    assert_eq!(
        out.rejected[0].1,
        EventError::SlotConflict { ask: 1, slot: 1 }
    );
    assert_eq!(w.slots(1)[1], proposed(gen_addr(2), 20));
    check_invariants(&w.engine);
}

#[test]
fn a_generator_displaced_by_the_chain_fills_the_asks_open_slot() {
    // Generator 0 has no capacity; 1 and 2 take slots 0 and 1 of a three-slot ask and slot 2
    // waits. The chain then confirms generator 0 on slot 0: generator 1 no longer holds the
    // ask and takes slot 2, and the ask leaves the waiting index.
    let mut w = world(&[(0, 5, 10), (1, 10, 10), (2, 20, 10)], 4);
    w.emit(Event::CapacityChanged {
        generator: gen_addr(0),
        capacity: 0,
    });
    w.emit(ask(1, 1, 100, 60, 3));
    w.mine(12);
    assert_eq!(w.slots(1)[2], SlotState::Open);
    w.emit(accepted(1, 0, 0, 5));
    let out = w.mine(12);
    assert_eq!(
        out.proposals,
        vec![Assignment {
            ask: 1,
            slot: 2,
            generator: gen_addr(1),
            price: 10
        }]
    );
    check_invariants(&w.engine);
}

fn skipped(ask: u64, slot: u8, n: u64) -> Event {
    Event::AssignmentSkipped {
        ask,
        slot,
        generator: gen_addr(n),
    }
}

#[test]
fn a_skipped_proposal_bars_that_generator_and_the_next_best_is_proposed() {
    let mut w = world(&[(1, 10, 10), (2, 20, 10), (3, 30, 10)], 4);
    w.emit(ask(1, 1, 100, 60, 1)).emit(ask(2, 1, 100, 60, 1));
    w.mine(12);
    assert_eq!(w.holders(1), vec![Some(gen_addr(1))]);
    // The contract skipped generator 1 on ask 1 (say its offer changed meanwhile).
    w.emit(skipped(1, 0, 1));
    let out = w.mine(12);
    assert_eq!(
        out.proposals,
        vec![Assignment {
            ask: 1,
            slot: 0,
            generator: gen_addr(2),
            price: 20
        }]
    );
    // Generator 1 stays eligible elsewhere: ask 3 still goes to it.
    w.emit(ask(3, 1, 100, 60, 1));
    w.mine(12);
    assert_eq!(w.holders(3), vec![Some(gen_addr(1))]);
    // Skipped again: generator 3 is next; after that nobody is left and the ask waits.
    w.emit(skipped(1, 0, 2));
    w.mine(12);
    assert_eq!(w.holders(1), vec![Some(gen_addr(3))]);
    w.emit(skipped(1, 0, 3));
    w.mine(12);
    assert_eq!(w.slots(1), vec![SlotState::Open]);
    check_invariants(&w.engine);
}

#[test]
fn a_skip_of_an_entry_already_confirmed_changes_nothing() {
    let mut w = world(&[(1, 10, 10)], 4);
    w.emit(ask(1, 1, 100, 60, 1));
    w.mine(12);
    w.submit_pending();
    w.mine(12);
    let before = w.engine.clone();
    // A resubmitted batch: the contract skips the entry as SlotNotOpen.
    w.emit(skipped(1, 0, 1));
    let out = w.mine(1);
    assert!(out.rejected.is_empty() && out.proposals.is_empty());
    assert!(matches!(w.slots(1)[0], SlotState::Confirmed { .. }));
    let mut after = w.engine.clone();
    after.block = before.block;
    after.now = before.now;
    after.last_pos = before.last_pos;
    assert_eq!(after, before);
}

#[test]
fn the_block_that_proposed_an_assignment_is_a_fact_of_the_chain() {
    let mut w = world(&[(1, 50, 10), (2, 30, 10)], 4);
    w.emit(ask(1, 1, 100, 60, 2));
    w.mine(12);
    w.emit(ask(2, 1, 100, 60, 1));
    w.mine(12);
    let proposing = |w: &World, n: u64| crate::ProposedIn {
        block: n,
        timestamp: w.blocks[usize::try_from(n - 1).unwrap()].timestamp,
    };
    let first = proposing(&w, w.blocks.len() as u64 - 1);
    let second = proposing(&w, w.blocks.len() as u64);
    let grouped = w.engine.pending_by_block();
    assert_eq!(grouped.keys().copied().collect::<Vec<_>>(), [first, second]);
    assert_eq!(grouped[&first].len(), 2);
    assert_eq!(grouped[&second].len(), 1);
    // Looking later (empty blocks, the clock moves on) changes nothing.
    let later = w.engine.clone();
    w.mine(30);
    w.mine(30);
    assert_eq!(w.engine.pending_by_block(), grouped);
    // Neither does a restart that replays the same blocks into a new engine.
    let mut replayed = crate::Engine::new(crate::Config::default(), None);
    for block in &w.blocks {
        replayed.apply_block(block);
    }
    assert_eq!(replayed.pending_by_block(), grouped);
    assert_eq!(later.pending_by_block(), grouped);
    // Once accepted on chain an assignment leaves its group.
    w.submit_pending();
    w.mine(12);
    assert!(w.engine.pending_by_block().is_empty());
}

/// A generator in two markets whose capacity frees up serves the best waiting ask across both
/// (highest reward, then earliest), not its lower-numbered market first: filling one market
/// before looking at the other starved a market whose generators all served a busier one too
/// (`ci/chaos`: market 4's asks waited ~116 blocks while markets 1-3 waited 12-14).
#[test]
fn freed_capacity_serves_the_earliest_waiting_ask_across_the_generators_markets() {
    let mut w = World::new();
    for m in [1, 4] {
        w.emit(market(m, 10));
    }
    w.emit(register(1, 1));
    for m in [1, 4] {
        w.emit(stake(1, m, 1_000)).emit(join(1, m, 10, 10));
    }
    w.mine(12);
    w.emit(ask(1, 1, 100, 60, 1)); // takes the only capacity
    w.mine(12);
    // Equal rewards: the market-4 ask is the earliest of the three waiting.
    w.emit(ask(2, 4, 100, 60, 1));
    w.emit(ask(3, 1, 100, 60, 1));
    w.emit(ask(4, 1, 100, 60, 1));
    w.mine(12);
    w.submit_pending();
    w.mine(12);
    assert_eq!(serve_in_turn(&mut w, 1, 3), vec![2, 3, 4]);
    check_invariants(&w.engine);
}

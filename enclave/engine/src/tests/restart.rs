//! Restart and reorg tests: the engine is a function of the confirmed event log.

use super::harness::{Op, World, check_invariants};
use crate::{ChainError, Config, Engine, LogPos, Replica};

/// A small deterministic pseudo-random source (xorshift), so the scenario is fixed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// Generators join every market with spare capacity and stake.
fn market_world() -> World {
    let mut w = World::scenario();
    for n in 0..super::harness::GENERATORS {
        w.step(&Op::Capacity { n, capacity: 6 });
        for market in 0..super::harness::MARKETS {
            w.step(&Op::Stake {
                n,
                market,
                amount: 1_000,
            });
            w.step(&Op::Join {
                n,
                market,
                cost: 10 + 5 * n as u128,
                time: 5 + n,
            });
        }
    }
    w.step(&Op::Mine { dt: 200 }); // market 2 activates
    w
}

/// One block of traffic: new asks (while `asks` is set), the relayer's submission of pending
/// assignments, and proofs for some confirmed slots.
fn traffic(w: &mut World, rng: &mut Rng, asks: bool) {
    if asks {
        for _ in 0..rng.next(4) {
            w.step(&Op::Ask {
                market: rng.next(3),
                reward: 100,
                proving_time: 60,
                k: 1 + rng.next(3) as u8,
                ttl: 5_000,
            });
        }
    }
    w.step(&Op::Submit);
    for _ in 0..rng.next(4) {
        w.step(&Op::Prove {
            pick: rng.next(1_000) as usize,
        });
    }
    w.step(&Op::Mine { dt: 12 });
}

fn replay(blocks: &[crate::Block]) -> Engine {
    let mut e = Engine::new(Config::default(), None);
    for b in blocks {
        let _ = e.apply_block(b);
    }
    e
}

#[test]
fn restart_mid_stream_loses_no_ask_and_assigns_none_twice() {
    // The same traffic twice: once straight through, once with a crash after block 40 in
    // which the engine and the relayer's memory are lost while a batch is in flight.
    // (`assert!` rather than `assert_eq!` on whole chains keeps failure output readable.)
    let run = |crash_at: Option<u64>| {
        let mut w = market_world();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..60 {
            traffic(&mut w, &mut rng, true);
            if w.number == 40 {
                w.step(&Op::Submit); // a batch in flight
            }
            if Some(w.number) == crash_at {
                let before = w.engine.clone();
                let rebuilt = replay(&w.blocks);
                assert_eq!(rebuilt, before, "rebuild from the log reproduces the state");
                assert_eq!(rebuilt.pending_assignments(), before.pending_assignments());
                w.engine = rebuilt;
                w.in_flight.clear();
            }
        }
        for _ in 0..40 {
            traffic(&mut w, &mut rng, false);
        }
        w
    };
    let straight = run(None);
    let crashed = run(Some(40));

    // Nothing lost: every ask ends fully assigned on chain, each slot once, distinct generators.
    assert!(
        crashed.contract.asks.len() > 50,
        "the scenario creates asks"
    );
    for (id, ask) in &crashed.contract.asks {
        let held: Vec<_> = crashed
            .contract
            .slots
            .iter()
            .filter(|((a, _), _)| a == id)
            .map(|(_, g)| *g)
            .collect();
        assert_eq!(
            held.len(),
            usize::from(ask.redundancy),
            "ask {id} fully assigned"
        );
        let distinct: std::collections::BTreeSet<_> = held.iter().collect();
        assert_eq!(
            distinct.len(),
            held.len(),
            "ask {id} has distinct generators"
        );
    }
    // The resent in-flight batch was refused as duplicates, and the crash left no trace on
    // chain: both runs produced the same blocks and the same final state.
    assert!(
        crashed.contract.rejected_duplicates > 0,
        "the in-flight batch was resent"
    );
    assert_eq!(straight.contract.rejected_duplicates, 0);
    assert!(
        crashed.blocks == straight.blocks,
        "the crash is invisible on chain"
    );
    assert!(crashed.engine == straight.engine);
    assert!(crashed.engine == replay(&crashed.blocks));
    check_invariants(&crashed.engine);
}

#[test]
fn proposals_signed_before_a_crash_mid_block_are_rederived() {
    let mut w = market_world();
    let mut rng = Rng(7);
    for _ in 0..10 {
        traffic(&mut w, &mut rng, true);
    }
    for market in 0..3 {
        for _ in 0..6 {
            w.step(&Op::Ask {
                market,
                reward: 100,
                proving_time: 60,
                k: 2,
                ttl: 5_000,
            });
        }
    }
    let block = w.build(12);
    // Half the block applied, proposals already handed out, then the process dies.
    let mut dying = w.engine.clone();
    dying.begin_block(block.number, block.timestamp);
    for log in &block.logs[..block.logs.len() / 2] {
        dying
            .apply_log(LogPos::new(block.number, log.index), &log.event)
            .expect("valid");
    }
    let early = dying.take_proposals();
    assert!(!early.is_empty());
    // After the restart the full block arrives from the chain.
    let mut restarted = replay(&w.blocks);
    let full = restarted.apply_block(&block);
    assert_eq!(
        &full.proposals[..early.len()],
        &early[..],
        "the same assignments, in order"
    );
    let mut never_crashed = w.engine.clone();
    never_crashed.apply_block(&block);
    assert_eq!(restarted, never_crashed);
}

#[test]
fn replica_refuses_chains_that_do_not_link() {
    let mut w = market_world();
    let mut rng = Rng(3);
    for _ in 0..12 {
        traffic(&mut w, &mut rng, true);
    }
    let blocks = w.blocks.clone();
    let mut r = Replica::new(Engine::new(Config::default(), None), 4);
    for b in &blocks[..8] {
        r.push_block(b.clone()).expect("linked");
    }
    let next = blocks[9].clone();
    assert_eq!(
        r.push_block(next),
        Err(ChainError::Gap {
            expected: 9,
            got: 10
        })
    );
    let mut orphan = blocks[8].clone();
    orphan.parent_hash = [0xaa; 32];
    assert_eq!(r.push_block(orphan), Err(ChainError::ParentMismatch(9)));
    let mut shuffled = blocks[8].clone();
    shuffled.logs.reverse();
    if shuffled.logs.len() > 1 {
        assert_eq!(r.push_block(shuffled), Err(ChainError::LogsOutOfOrder(9)));
    }
    // Only the last 4 blocks are reversible.
    assert_eq!(
        r.rollback_to(3),
        Err(ChainError::ReorgTooDeep {
            target: 3,
            confirmed: 4
        })
    );
    let head = r.head().clone();
    r.rollback_to(6).expect("within the window");
    assert_eq!(r.head(), &replay(&blocks[..6]));
    assert_eq!(r.confirmed(), &replay(&blocks[..4]));
    for b in &blocks[6..8] {
        r.push_block(b.clone()).expect("linked");
    }
    assert_eq!(r.head(), &head);
}

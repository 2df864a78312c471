//! The state digest: a function of the chain applied, not of the process, the key, the order of
//! hash-map insertions, or what the chain does not decide.

use std::collections::HashMap;

use super::harness::{Op, World};
use crate::{BidOpener, Block, Config, Engine, Replica, SecretKey};

/// Generators in two markets, asks, assignments accepted, some proofs: a state with many asks,
/// generators and slots in every phase.
fn busy_world() -> World {
    let mut w = World::scenario();
    for n in 0..super::harness::GENERATORS {
        w.step(&Op::Capacity { n, capacity: 4 });
        for market in 0..2 {
            w.step(&Op::Stake {
                n,
                market,
                amount: 1_000,
            });
            w.step(&Op::Join {
                n,
                market,
                cost: 10 + n as u128,
                time: 5,
            });
        }
    }
    w.step(&Op::Mine { dt: 12 });
    for round in 0..12_u64 {
        for k in 1..=2 {
            w.step(&Op::Ask {
                market: round % 2,
                reward: 100,
                proving_time: 60,
                k,
                ttl: 5_000,
            });
        }
        w.step(&Op::Submit);
        w.step(&Op::Prove {
            pick: round as usize,
        });
        w.step(&Op::Mine { dt: 12 });
    }
    w
}

fn replay(config: Config, opener: Option<BidOpener>, blocks: &[Block]) -> Engine {
    let mut e = Engine::new(config, opener);
    for b in blocks {
        let _ = e.apply_block(b);
    }
    e
}

/// The same map rebuilt (a new hasher seed), until it iterates in another order.
fn reshuffled<K: Copy + Eq + std::hash::Hash, V: Clone>(map: &HashMap<K, V>) -> HashMap<K, V> {
    let order: Vec<K> = map.keys().copied().collect();
    for _ in 0..100 {
        let mut rebuilt = HashMap::new();
        let mut entries: Vec<(&K, &V)> = map.iter().collect();
        entries.reverse();
        for (k, v) in entries {
            rebuilt.insert(*k, v.clone());
        }
        if rebuilt.keys().copied().collect::<Vec<K>>() != order {
            return rebuilt;
        }
    }
    panic!("no other iteration order in 100 rebuilds");
}

#[test]
fn the_same_chain_gives_the_same_digest_in_any_process() {
    let w = busy_world();
    assert!(w.engine.asks.len() > 10 && w.engine.generators.len() > 3);
    let digest = w.engine.state_digest();
    assert_eq!(
        replay(Config::default(), None, &w.blocks).state_digest(),
        digest
    );
    // Hash maps iterate in another order in another process: the digest does not change.
    let mut shuffled = w.engine.clone();
    shuffled.asks = reshuffled(&w.engine.asks);
    shuffled.generators = reshuffled(&w.engine.generators);
    assert_eq!(shuffled.state_digest(), digest);
    assert!(shuffled == w.engine);
}

#[test]
fn what_the_chain_does_not_decide_is_left_out() {
    let w = busy_world();
    let digest = w.engine.state_digest();
    // Another bid-opening key (a fresh enclave's identity).
    let opener = BidOpener::new(
        SecretKey::from_slice(&[7; 32]).unwrap(),
        crate::BidContext {
            chain_id: 31337,
            marketplace: crate::Address::from_low_u64(9),
        },
    );
    assert_eq!(
        replay(Config::default(), Some(opener), &w.blocks).state_digest(),
        digest
    );
    // Proposals not yet drained.
    let mut undrained = w.engine.clone();
    undrained.outbox.push(crate::Assignment {
        ask: 1,
        slot: 0,
        generator: crate::Address::from_low_u64(1),
        price: 1,
    });
    assert_eq!(undrained.state_digest(), digest);
    // Uploaded inputs no ask claims.
    let mut uploaded = w.engine.clone();
    let inputs = b"ciphertext".to_vec();
    let _ = uploaded.upload_inputs(crate::keccak256(&inputs), &inputs);
    assert_eq!(uploaded.state_digest(), digest);
}

#[test]
fn any_change_of_the_chain_changes_the_digest() {
    let w = busy_world();
    let digest = w.engine.state_digest();
    // One more block with nothing in it moves the clock and the block.
    let mut later = w.clone();
    later.step(&Op::Mine { dt: 1 });
    assert_ne!(later.engine.state_digest(), digest);
    // The same blocks with one more ask.
    let mut more = w.clone();
    more.step(&Op::Ask {
        market: 0,
        reward: 100,
        proving_time: 60,
        k: 1,
        ttl: 5_000,
    });
    more.step(&Op::Mine { dt: 0 });
    let mut empty = w.clone();
    empty.step(&Op::Mine { dt: 0 });
    assert_ne!(more.engine.state_digest(), empty.engine.state_digest());
    // One stake, one ask's reward, one slot.
    let mut stake = w.engine.clone();
    let g = stake.generators.values_mut().next().unwrap();
    g.markets.values_mut().next().unwrap().stake += 1;
    assert_ne!(stake.state_digest(), digest);
    let mut reward = w.engine.clone();
    reward.asks.values_mut().next().unwrap().ask.reward += 1;
    assert_ne!(reward.state_digest(), digest);
    // An assigned slot reopened (`asks` is a HashMap: pick one whose slot 0 is not open, or
    // the change would be none, as it was for an open ask first in the map's random order).
    let mut slot = w.engine.clone();
    let a = slot
        .asks
        .values_mut()
        .find(|a| !matches!(a.slots[0], crate::SlotState::Open))
        .expect("the busy world has an ask with slot 0 assigned");
    a.slots[0] = crate::SlotState::Open;
    assert_ne!(slot.state_digest(), digest);
}

#[test]
fn a_rolled_back_replica_has_the_digest_of_the_new_chain_replayed() {
    let w = busy_world();
    let cut = w.blocks.len() - 5;
    let mut replica = Replica::new(Engine::new(Config::default(), None), 16);
    for b in &w.blocks {
        replica.push_block(b.clone()).unwrap();
    }
    // A fork of the last five blocks: other asks.
    let mut fork = w.clone();
    fork.engine = replay(Config::default(), None, &w.blocks[..cut]);
    fork.blocks.truncate(cut);
    fork.number = w.blocks[cut - 1].number;
    fork.last_hash = w.blocks[cut - 1].hash;
    fork.fork = 1;
    fork.in_flight.clear();
    for _ in 0..6 {
        fork.step(&Op::Ask {
            market: 1,
            reward: 90,
            proving_time: 60,
            k: 1,
            ttl: 4_000,
        });
        fork.step(&Op::Mine { dt: 12 });
    }
    for b in &fork.blocks[cut..] {
        replica.push_block(b.clone()).unwrap();
    }
    assert_eq!(
        replica.head().state_digest(),
        replay(Config::default(), None, &fork.blocks).state_digest()
    );
    assert_ne!(replica.head().state_digest(), w.engine.state_digest());
}

//! The relay's batches: a function of the chain alone, in turn order, counted by receipt.

use alloy::primitives::{Log as PrimitiveLog, LogData};
use matching_engine::{Ask, Block, Config, Event, LocalSigner, Log, Market, MatchingMode, Offer};

use super::*;

fn generator(n: u64) -> Address {
    Address::from_low_u64(0x1000 + n)
}

/// A chain of engine blocks: market 1, generators 1..=3 staked and joined, then asks.
struct Chain {
    blocks: Vec<Block>,
    number: u64,
    now: Timestamp,
}

impl Chain {
    fn new() -> Self {
        let mut chain = Self {
            blocks: Vec::new(),
            number: 0,
            now: 1_000,
        };
        let mut setup = vec![Event::MarketCreated(Market {
            id: 1,
            mode: MatchingMode::OrderBook,
            slashing_penalty: 10,
            prover_family: None,
            activation: 0,
            verifier: Address::ZERO,
        })];
        for n in 1..=3 {
            setup.push(Event::GeneratorRegistered {
                generator: generator(n),
                capacity: 100,
            });
            setup.push(Event::StakeChanged {
                generator: generator(n),
                market: 1,
                stake: 10_000,
            });
            setup.push(Event::GeneratorJoined {
                generator: generator(n),
                market: 1,
                offer: Offer {
                    cost: 10 * u128::from(n),
                    proposed_time: 10,
                },
            });
        }
        chain.mine(12, setup);
        chain
    }

    fn mine(&mut self, dt: u64, events: Vec<Event>) {
        self.number += 1;
        self.now += dt;
        let mut hash = [0; 32];
        hash[..8].copy_from_slice(&self.number.to_be_bytes());
        let parent_hash = self.blocks.last().map_or([0; 32], |b| b.hash);
        self.blocks.push(Block {
            number: self.number,
            hash,
            parent_hash,
            timestamp: self.now,
            logs: events
                .into_iter()
                .enumerate()
                .map(|(i, event)| Log {
                    index: u32::try_from(i).unwrap(),
                    event,
                })
                .collect(),
        });
    }

    fn asks(&mut self, ids: std::ops::RangeInclusive<u64>, redundancy: u8) {
        let events = ids
            .map(|id| {
                Event::AskCreated(Ask {
                    id,
                    market: 1,
                    reward: 100,
                    expiry: 1_000_000,
                    proving_time: 60,
                    redundancy,
                    refund_address: Address::from_low_u64(0xfeed),
                    prover_data_hash: [7; 32],
                    requester: Address::ZERO,
                    prover_data: Vec::new(),
                })
            })
            .collect();
        self.mine(12, events);
    }

    /// An engine that has applied the first `n` blocks.
    fn engine_at(&self, n: usize) -> Engine {
        let mut engine = Engine::new(Config::default(), None);
        for block in &self.blocks[..n] {
            engine.apply_block(block);
        }
        engine
    }
}

fn signer() -> LocalSigner {
    LocalSigner::from_bytes(&[0x42; 32]).unwrap()
}

fn relay(turn: Turn) -> Relay {
    Relay::new(
        31337,
        ChainAddress::repeat_byte(0x5f),
        RelayConfig {
            batch_size: 2,
            validity: 300,
            turn,
        },
    )
}

fn calldata_of(batches: &[Outgoing]) -> Vec<Bytes> {
    batches.iter().map(|b| b.calldata.clone()).collect()
}

#[test]
fn valid_until_counts_whole_periods_from_the_proposing_block() {
    assert_eq!(valid_until(1_000, 1_000, 300), 1_300);
    // Until half the validity is left, the first period.
    assert_eq!(valid_until(1_000, 1_150, 300), 1_300);
    assert_eq!(valid_until(1_000, 1_151, 300), 1_600);
    assert_eq!(valid_until(1_000, 1_450, 300), 1_600);
    assert_eq!(valid_until(1_000, 1_451, 300), 1_900);
    // A clock behind the block (never on chain) still gives the first period.
    assert_eq!(valid_until(1_000, 0, 300), 1_300);
    assert_eq!(valid_until(u64::MAX - 1, u64::MAX, 300), u64::MAX);
}

#[test]
fn the_turn_order_gives_each_block_one_owner_and_ordered_takeovers() {
    let turn = |index| Turn {
        index,
        count: 3,
        grace_blocks: 4,
    };
    for block in 30..36 {
        let ranks: Vec<u64> = (0..3).map(|i| turn(i).rank(block)).collect();
        let mut sorted = ranks.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2], "block {block}: {ranks:?}");
        assert_eq!(turn(block % 3).rank(block), 0);
        assert_eq!(turn((block + 1) % 3).sends_at(block), block + 4);
        assert_eq!(turn((block + 2) % 3).sends_at(block), block + 8);
    }
    assert_eq!(Turn::SINGLE.rank(7), 0);
    assert_eq!(Turn::SINGLE.sends_at(7), 7);
}

#[test]
fn replicas_polling_at_different_moments_sign_byte_identical_batches() {
    let mut chain = Chain::new();
    chain.asks(1..=3, 1); // block 2: three assignments, two batches of at most 2
    chain.asks(4..=4, 2); // block 3: two slots
    for _ in 0..4 {
        chain.mine(13, Vec::new());
    }
    // Replica A looks right after block 3; B two blocks and 26 seconds later, from a fresh
    // engine (as after a restart); C at the last block.
    let early = chain.engine_at(3);
    let late = chain.engine_at(5);
    let last = chain.engine_at(7);
    let a = relay(Turn::SINGLE).plan(&early, &signer()).unwrap();
    let b = relay(Turn::SINGLE).plan(&late, &signer()).unwrap();
    let c = relay(Turn::SINGLE).plan(&last, &signer()).unwrap();
    assert_eq!(a.len(), 3, "{a:?}");
    assert_eq!(
        a.iter().map(|o| o.assignments.len()).collect::<Vec<_>>(),
        [2, 1, 2]
    );
    assert_eq!(
        a.iter().map(|o| o.proposed_in.block).collect::<Vec<_>>(),
        [2, 2, 3]
    );
    assert_eq!(a[0].valid_until, chain.blocks[1].timestamp + 300);
    assert_eq!(a[2].valid_until, chain.blocks[2].timestamp + 300);
    assert_eq!(calldata_of(&a), calldata_of(&b));
    assert_eq!(calldata_of(&a), calldata_of(&c));
    // The bytes are the signer's alone: another key signs other bytes.
    let other = LocalSigner::from_bytes(&[0x43; 32]).unwrap();
    let d = relay(Turn::SINGLE).plan(&late, &other).unwrap();
    assert_ne!(calldata_of(&a), calldata_of(&d));
    // Once the period runs out unlanded, the batch is signed for the next one, the same for all.
    for _ in 0..12 {
        chain.mine(13, Vec::new());
    }
    let expired_a = relay(Turn::SINGLE)
        .plan(&chain.engine_at(19), &signer())
        .unwrap();
    let expired_b = relay(Turn::SINGLE)
        .plan(&chain.engine_at(19), &signer())
        .unwrap();
    assert_eq!(expired_a[0].valid_until, chain.blocks[1].timestamp + 600);
    assert_eq!(calldata_of(&expired_a), calldata_of(&expired_b));
}

#[test]
fn only_the_owner_sends_until_its_grace_passes() {
    let mut chain = Chain::new();
    chain.asks(1..=1, 1); // block 2
    for _ in 0..8 {
        chain.mine(12, Vec::new());
    }
    let turn = |index| Turn {
        index,
        count: 3,
        grace_blocks: 3,
    };
    let senders = |head: usize| -> Vec<(u64, Role)> {
        let engine = chain.engine_at(head);
        (0..3)
            .filter_map(|i| {
                let out = relay(turn(i)).plan(&engine, &signer()).unwrap();
                out.first().map(|o| (i, o.role))
            })
            .collect()
    };
    // Block 2 is replica 2's.
    assert_eq!(senders(2), [(2, Role::Owner)]);
    assert_eq!(senders(4), [(2, Role::Owner)]);
    assert_eq!(senders(5), [(0, Role::Takeover), (2, Role::Owner)]);
    assert_eq!(
        senders(8),
        [(0, Role::Takeover), (1, Role::Takeover), (2, Role::Owner)]
    );
    // What each of them would send is the same batch.
    let engine = chain.engine_at(8);
    let all: Vec<Vec<Bytes>> = (0..3)
        .map(|i| calldata_of(&relay(turn(i)).plan(&engine, &signer()).unwrap()))
        .collect();
    assert!(all.iter().all(|c| *c == all[0]));
}

#[test]
fn a_batch_is_not_sent_again_while_it_may_still_land() {
    let mut chain = Chain::new();
    chain.asks(1..=2, 1);
    let engine = chain.engine_at(2);
    let mut relay = relay(Turn::SINGLE);
    let first = relay.plan(&engine, &signer()).unwrap();
    assert_eq!(first.len(), 1);
    let until = first[0].valid_until;
    for a in &first[0].assignments {
        relay.in_flight.insert((a.ask, a.slot, a.generator), until);
    }
    assert!(relay.plan(&engine, &signer()).unwrap().is_empty());
    // Past its validUntil it is due again (for the next period).
    chain.mine(until - chain.now + 1, Vec::new());
    let again = relay.plan(&chain.engine_at(3), &signer()).unwrap();
    assert_eq!(again.len(), 1);
    assert!(again[0].valid_until > until);
    // After a reorg everything pending is sent again.
    relay.forget_in_flight();
    assert_eq!(
        calldata_of(&relay.plan(&engine, &signer()).unwrap()),
        calldata_of(&first)
    );
}

fn log(marketplace: ChainAddress, data: LogData) -> RpcLog {
    RpcLog {
        inner: PrimitiveLog {
            address: marketplace,
            data,
        },
        ..RpcLog::default()
    }
}

fn skipped(reason: ProofMarketplace::SkipReason) -> LogData {
    ProofMarketplace::AssignmentSkipped {
        askId: U256::from(1),
        generator: ChainAddress::repeat_byte(1),
        slot: U256::ZERO,
        reason,
    }
    .encode_log_data()
}

#[test]
fn receipts_tell_landed_batches_from_duplicates() {
    let m = ChainAddress::repeat_byte(0x5f);
    let accepted = ProofMarketplace::AssignmentAccepted {
        askId: U256::from(1),
        generator: ChainAddress::repeat_byte(1),
        slot: 0,
        price: U256::from(5),
        deadline: 9,
    }
    .encode_log_data();
    let not_open = skipped(ProofMarketplace::SkipReason::SlotNotOpen);
    let no_capacity = skipped(ProofMarketplace::SkipReason::NoCapacity);
    assert_eq!(
        classify(m, &[log(m, accepted.clone()), log(m, not_open.clone())], 2),
        Outcome::Landed
    );
    assert_eq!(
        classify(m, &[log(m, not_open.clone()), log(m, not_open.clone())], 2),
        Outcome::Duplicate
    );
    assert_eq!(
        classify(m, &[log(m, not_open.clone()), log(m, no_capacity)], 2),
        Outcome::Skipped
    );
    // Another contract's logs do not count.
    let other = ChainAddress::repeat_byte(0x66);
    assert_eq!(
        classify(m, &[log(other, accepted), log(m, not_open)], 1),
        Outcome::Duplicate
    );
    assert_eq!(classify(m, &[], 0), Outcome::Skipped);
    let mut stats = RelayStats::default();
    stats.record(Outcome::Duplicate, 40_000);
    stats.record(Outcome::Duplicate, 41_000);
    stats.record(Outcome::Landed, 90_000);
    stats.record(Outcome::Reverted, 30_000);
    assert_eq!(
        (
            stats.duplicates,
            stats.duplicate_gas,
            stats.landed,
            stats.reverted
        ),
        (2, 81_000, 1, 1)
    );
}

#[test]
fn a_dropped_batch_takes_its_assignments_out_of_flight_unless_sent_again() {
    let mut relay = Relay::new(
        31337,
        ChainAddress::ZERO,
        RelayConfig {
            batch_size: 50,
            validity: 300,
            turn: Turn::SINGLE,
        },
    );
    let first = (1, 0, generator(1));
    let again = (2, 0, generator(2));
    relay.in_flight.insert(first, 1_300);
    // Carried again since, by a batch valid longer.
    relay.in_flight.insert(again, 1_600);
    let dropped = Sent {
        tx: B256::ZERO,
        entries: vec![first, again],
        valid_until: 1_300,
    };
    relay.forget(&dropped);
    assert!(!relay.in_flight.contains_key(&first));
    assert_eq!(relay.in_flight.get(&again), Some(&1_600));
    let a = Assignment {
        ask: 1,
        slot: 0,
        generator: generator(1),
        price: 10,
    };
    assert!(!relay.in_flight(&a, 1_000), "it is sent again");
}

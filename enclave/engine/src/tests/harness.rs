//! A small chain simulator: builds blocks of events, applies them to an engine, and plays the
//! marketplace contract's part for assignment batches (accepting each slot once).

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::Engine;
use crate::state::{AskPhase, SlotState};
use crate::{
    AcceptedAssignment, Address, Amount, Ask, AskId, Assignment, Block, BlockOutcome, Config,
    Event, Log, Market, MarketId, MatchingMode, Offer, Timestamp,
};

pub(crate) fn gen_addr(n: u64) -> Address {
    Address::from_low_u64(0x1000 + n)
}

pub(crate) fn block_hash(number: u64, fork: u8, parent: &[u8; 32]) -> [u8; 32] {
    let mut h = [0u8; 41];
    h[..8].copy_from_slice(&number.to_be_bytes());
    h[8] = fork;
    h[9..].copy_from_slice(parent);
    crate::keccak256(&h)
}

pub(crate) fn market(id: MarketId, penalty: Amount) -> Event {
    Event::MarketCreated(Market {
        id,
        mode: MatchingMode::OrderBook,
        slashing_penalty: penalty,
        prover_family: None,
        activation: 0,
        verifier: Address::ZERO,
    })
}

pub(crate) fn register(n: u64, capacity: u32) -> Event {
    Event::GeneratorRegistered {
        generator: gen_addr(n),
        capacity,
    }
}

pub(crate) fn join(n: u64, market: MarketId, cost: Amount, proposed_time: u64) -> Event {
    Event::GeneratorJoined {
        generator: gen_addr(n),
        market,
        offer: Offer {
            cost,
            proposed_time,
        },
    }
}

pub(crate) fn stake(n: u64, market: MarketId, stake: Amount) -> Event {
    Event::StakeChanged {
        generator: gen_addr(n),
        market,
        stake,
    }
}

pub(crate) fn ask_with(
    id: AskId,
    market: MarketId,
    reward: Amount,
    proving_time: u64,
    redundancy: u8,
    expiry: Timestamp,
) -> Ask {
    Ask {
        id,
        market,
        reward,
        expiry,
        proving_time,
        redundancy,
        refund_address: Address::from_low_u64(0xfeed),
        prover_data_hash: [7; 32],
        requester: Address::ZERO,
        prover_data: Vec::new(),
    }
}

/// An order-book ask valid for a long time.
pub(crate) fn ask(id: AskId, market: MarketId, reward: Amount, proving_time: u64, k: u8) -> Event {
    Event::AskCreated(ask_with(id, market, reward, proving_time, k, 1_000_000))
}

/// The marketplace contract's view of assignments: each slot once, distinct generators.
#[derive(Clone, Debug, Default)]
pub(crate) struct ContractModel {
    pub(crate) asks: BTreeMap<AskId, Ask>,
    pub(crate) cancelled: BTreeSet<AskId>,
    pub(crate) slots: BTreeMap<(AskId, u8), Address>,
    pub(crate) rejected_duplicates: usize,
}

impl ContractModel {
    fn observe(&mut self, ev: &Event) {
        match ev {
            Event::AskCreated(a) => {
                self.asks.insert(a.id, a.clone());
            }
            Event::AskCancelled { ask } => {
                self.cancelled.insert(*ask);
            }
            // A discarded slot is open again on chain (the contract keeps no other record).
            Event::AssignmentDiscarded { ask, slot, .. } => {
                self.slots.remove(&(*ask, *slot));
            }
            _ => {}
        }
    }

    /// The assignments of a batch the contract would accept at time `now`.
    pub(crate) fn accept(
        &mut self,
        batch: &[Assignment],
        now: Timestamp,
    ) -> Vec<AcceptedAssignment> {
        let mut out = Vec::new();
        for a in batch {
            let Some(ask) = self.asks.get(&a.ask) else {
                continue;
            };
            let taken = self.slots.contains_key(&(a.ask, a.slot))
                || self
                    .slots
                    .iter()
                    .any(|((id, _), g)| *id == a.ask && *g == a.generator);
            if taken {
                self.rejected_duplicates += 1;
                continue;
            }
            let on_chain_assigned = self.slots.keys().any(|(id, _)| *id == a.ask);
            if (self.cancelled.contains(&a.ask) && !on_chain_assigned)
                || now > ask.expiry
                || a.slot >= ask.redundancy
                || a.price > ask.reward
            {
                continue;
            }
            self.slots.insert((a.ask, a.slot), a.generator);
            out.push(AcceptedAssignment {
                assignment: *a,
                deadline: now + ask.proving_time,
            });
        }
        out
    }
}

/// Builds blocks and applies them.
#[derive(Clone)]
pub(crate) struct World {
    pub(crate) engine: Engine,
    pub(crate) blocks: Vec<Block>,
    pub(crate) contract: ContractModel,
    pub(crate) next_logs: Vec<Event>,
    pub(crate) proposals: Vec<Assignment>,
    pub(crate) number: u64,
    pub(crate) now: Timestamp,
    pub(crate) last_hash: [u8; 32],
    /// Assignments submitted since the last block (a relayer does not resend those).
    pub(crate) in_flight: BTreeSet<Assignment>,
    /// Mixed into block hashes: two worlds cloned from one and mined with different forks
    /// build competing chains.
    pub(crate) fork: u8,
}

impl World {
    pub(crate) fn new() -> Self {
        Self::with_engine(Engine::new(Config::default(), None))
    }

    pub(crate) fn with_engine(engine: Engine) -> Self {
        Self {
            engine,
            blocks: Vec::new(),
            contract: ContractModel::default(),
            next_logs: Vec::new(),
            proposals: Vec::new(),
            number: 0,
            now: 1_000,
            last_hash: [0; 32],
            in_flight: BTreeSet::new(),
            fork: 0,
        }
    }

    pub(crate) fn emit(&mut self, ev: Event) -> &mut Self {
        self.contract.observe(&ev);
        self.next_logs.push(ev);
        self
    }

    /// The next block (timestamp `dt` seconds later) with the emitted events.
    pub(crate) fn build(&mut self, dt: u64) -> Block {
        self.number += 1;
        self.now += dt;
        let logs = core::mem::take(&mut self.next_logs)
            .into_iter()
            .enumerate()
            .map(|(i, event)| Log {
                index: u32::try_from(i).expect("small blocks"),
                event,
            })
            .collect();
        let hash = block_hash(self.number, self.fork, &self.last_hash);
        let parent_hash = core::mem::replace(&mut self.last_hash, hash);
        Block {
            number: self.number,
            hash,
            parent_hash,
            timestamp: self.now,
            logs,
        }
    }

    /// Mines and applies the next block.
    pub(crate) fn mine(&mut self, dt: u64) -> BlockOutcome {
        let block = self.build(dt);
        self.in_flight.clear();
        let out = self.engine.apply_block(&block);
        self.proposals.extend_from_slice(&out.proposals);
        self.blocks.push(block);
        out
    }

    /// Submits the engine's pending assignments; what the contract accepts is emitted for the
    /// next block.
    pub(crate) fn submit_pending(&mut self) -> usize {
        let pending: Vec<Assignment> = self
            .engine
            .pending_assignments()
            .into_iter()
            .filter(|a| !self.in_flight.contains(a))
            .collect();
        self.in_flight.extend(pending.iter().copied());
        let accepted = self.contract.accept(&pending, self.now);
        let n = accepted.len();
        if n > 0 {
            self.emit(Event::AssignmentsAccepted {
                assignments: accepted,
            });
        }
        n
    }

    pub(crate) fn slots(&self, id: AskId) -> Vec<SlotState> {
        self.engine
            .ask_status(id)
            .expect("ask exists")
            .slots
            .to_vec()
    }

    pub(crate) fn phase(&self, id: AskId) -> AskPhase {
        self.engine.ask_status(id).expect("ask exists").phase
    }

    /// Generators proposed or confirmed on an ask, by slot.
    pub(crate) fn holders(&self, id: AskId) -> Vec<Option<Address>> {
        self.slots(id).iter().map(SlotState::generator).collect()
    }
}

/// Checks the engine's internal invariants; panics with a description on the first violation.
pub(crate) fn check_invariants(e: &Engine) {
    // Capacity and stake accounting equals the slots held.
    let mut held: BTreeMap<Address, u32> = BTreeMap::new();
    let mut locked: BTreeMap<(Address, MarketId), Amount> = BTreeMap::new();
    for a in e.asks.values() {
        let gens: Vec<Address> = a.slots.iter().filter_map(SlotState::generator).collect();
        let distinct: BTreeSet<Address> = gens.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            gens.len(),
            "ask {} has a repeated generator",
            a.ask.id
        );
        for s in &a.slots {
            if let SlotState::Proposed { generator, .. } | SlotState::Confirmed { generator, .. } =
                s
            {
                *held.entry(*generator).or_default() += 1;
                *locked.entry((*generator, a.ask.market)).or_default() +=
                    e.markets[&a.ask.market].market.slashing_penalty;
            }
        }
    }
    for (addr, g) in &e.generators {
        assert_eq!(
            g.used,
            held.get(addr).copied().unwrap_or(0),
            "used of {addr}"
        );
        for (m, mem) in &g.markets {
            assert_eq!(
                mem.locked,
                locked.get(&(*addr, *m)).copied().unwrap_or(0),
                "locked of {addr} in {m}"
            );
            let free = mem.stake.saturating_sub(mem.locked);
            let available = g.registered
                && mem.joined
                && g.used < g.capacity
                && free >= e.markets[m].market.slashing_penalty;
            assert_eq!(available, mem.in_book, "book membership of {addr} in {m}");
            assert_eq!(
                e.markets[m].book.offers.contains(&mem.key(*addr)),
                mem.in_book,
                "offer index of {addr} in {m}"
            );
        }
    }
    // Waiting index matches the asks, and no waiting ask is compatible with an available offer.
    for (id, a) in &e.asks {
        let m = &e.markets[&a.ask.market];
        let key_in = m.book.waiting.iter().any(|w| w.ask == *id);
        assert_eq!(key_in, a.waiting, "waiting index of ask {id}");
        let unfilled = a.phase == AskPhase::Matching && a.open_slots() > 0 && Engine::matchable(a);
        assert_eq!(
            unfilled, a.waiting,
            "ask {id} waits exactly when it has open slots"
        );
        if a.waiting {
            assert_eq!(a.phase, AskPhase::Matching, "waiting ask {id} is matching");
            assert!(a.open_slots() > 0, "waiting ask {id} has open slots");
            if m.active {
                for o in &m.book.offers {
                    let compatible = o.cost <= a.ask.reward
                        && o.proposed_time <= a.ask.proving_time
                        && e.can_take(a, o.generator);
                    assert!(
                        !compatible,
                        "ask {id} waits while {} could serve it",
                        o.generator
                    );
                }
            }
        }
    }
}

/// One step of a random scenario (see [`World::step`]).
#[derive(Clone, Debug)]
pub(crate) enum Op {
    Join {
        n: u64,
        market: u64,
        cost: u128,
        time: u64,
    },
    Update {
        n: u64,
        market: u64,
        cost: u128,
        time: u64,
    },
    Leave {
        n: u64,
        market: u64,
    },
    Stake {
        n: u64,
        market: u64,
        amount: u128,
    },
    Capacity {
        n: u64,
        capacity: u32,
    },
    Ask {
        market: u64,
        reward: u128,
        proving_time: u64,
        k: u8,
        ttl: u64,
    },
    Cancel {
        pick: usize,
    },
    Submit,
    /// The contract skips one pending assignment instead of accepting it.
    Skip {
        pick: usize,
    },
    Prove {
        pick: usize,
    },
    Slash {
        pick: usize,
    },
    Mine {
        dt: u64,
    },
}

pub(crate) const GENERATORS: u64 = 6;
pub(crate) const MARKETS: u64 = 3;
pub(crate) const PENALTY: Amount = 10;

impl World {
    /// Markets 0..MARKETS (market 2 activates 100 s in) and registered generators 0..GENERATORS.
    pub(crate) fn scenario() -> Self {
        let mut w = World::new();
        for m in 0..MARKETS {
            w.emit(Event::MarketCreated(Market {
                id: m,
                mode: MatchingMode::OrderBook,
                slashing_penalty: PENALTY,
                prover_family: None,
                activation: if m == 2 { w.now + 100 } else { 0 },
                verifier: Address::ZERO,
            }));
        }
        for n in 0..GENERATORS {
            w.emit(register(n, 2));
        }
        w.mine(12);
        w
    }

    fn confirmed_slots(&self) -> Vec<(AskId, u8, Address)> {
        let mut out = Vec::new();
        for (id, a) in &self.engine.asks {
            for (slot, s) in a.slots.iter().enumerate() {
                if let SlotState::Confirmed { generator, .. } = s {
                    out.push((*id, u8::try_from(slot).expect("small"), *generator));
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Applies one step. Steps that would emit an event the contracts forbid emit nothing.
    pub(crate) fn step(&mut self, op: &Op) {
        let joined = |w: &Self, n: u64, m: u64| {
            w.engine
                .generators
                .get(&gen_addr(n))
                .and_then(|g| g.markets.get(&m))
                .is_some_and(|mem| mem.joined)
        };
        match *op {
            Op::Join {
                n,
                market,
                cost,
                time,
            } => {
                if !joined(self, n, market) {
                    self.emit(join(n, market, cost, time));
                }
            }
            Op::Update {
                n,
                market,
                cost,
                time,
            } => {
                if joined(self, n, market) {
                    self.emit(Event::GeneratorUpdated {
                        generator: gen_addr(n),
                        market,
                        offer: Offer {
                            cost,
                            proposed_time: time,
                        },
                    });
                }
            }
            Op::Leave { n, market } => {
                if joined(self, n, market) {
                    self.emit(Event::GeneratorLeft {
                        generator: gen_addr(n),
                        market,
                    });
                }
            }
            Op::Stake { n, market, amount } => {
                self.emit(stake(n, market, amount));
            }
            Op::Capacity { n, capacity } => {
                self.emit(Event::CapacityChanged {
                    generator: gen_addr(n),
                    capacity,
                });
            }
            Op::Ask {
                market,
                reward,
                proving_time,
                k,
                ttl,
            } => {
                let id = self.contract.asks.len() as AskId + 1;
                let a = ask_with(id, market, reward, proving_time, k, self.now + ttl);
                self.emit(Event::AskCreated(a));
            }
            Op::Cancel { pick } => {
                let unassigned: Vec<AskId> = self
                    .contract
                    .asks
                    .keys()
                    .copied()
                    .filter(|id| {
                        !self.contract.cancelled.contains(id)
                            && !self.contract.slots.keys().any(|(a, _)| a == id)
                    })
                    .collect();
                if !unassigned.is_empty() {
                    let id = unassigned[pick % unassigned.len()];
                    self.emit(Event::AskCancelled { ask: id });
                }
            }
            Op::Submit => {
                self.submit_pending();
            }
            Op::Skip { pick } => {
                let pending: Vec<Assignment> = self
                    .engine
                    .pending_assignments()
                    .into_iter()
                    .filter(|a| !self.in_flight.contains(a))
                    .collect();
                if !pending.is_empty() {
                    let a = pending[pick % pending.len()];
                    self.in_flight.insert(a);
                    self.emit(Event::AssignmentSkipped {
                        ask: a.ask,
                        slot: a.slot,
                        generator: a.generator,
                    });
                }
            }
            Op::Prove { pick } | Op::Slash { pick } => {
                let slots = self.confirmed_slots();
                if !slots.is_empty() {
                    let (ask, slot, generator) = slots[pick % slots.len()];
                    // Each slot ends once: skip if an end is already queued for this block.
                    let queued = self.next_logs.iter().any(|e| {
                        matches!(e, Event::ProofSubmitted { ask: a, slot: s, .. }
                            | Event::Slashed { ask: a, slot: s, .. } if *a == ask && *s == slot)
                    });
                    if !queued {
                        self.emit(if matches!(op, Op::Prove { .. }) {
                            Event::ProofSubmitted {
                                ask,
                                slot,
                                generator,
                            }
                        } else {
                            Event::Slashed {
                                ask,
                                slot,
                                generator,
                            }
                        });
                    }
                }
            }
            Op::Mine { dt } => {
                self.mine(dt);
                check_invariants(&self.engine);
            }
        }
    }
}

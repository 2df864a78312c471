//! `ci/bench engine` (`cargo bench -p matching-engine --bench engine`): asks matched per second on one core, and per-ask latency, with 10 000
//! generators across 100 markets; compared with the scan-all-generators matcher measured in the
//! same run. Prints one JSON line on stdout; progress goes to stderr.
//!
//! The stream is a full lifecycle: each block carries new asks, the contract's acceptance of
//! the previous block's proposals (batches of 50), and proofs for assignments accepted three
//! blocks earlier, so generators fill up, leave the books and come back.
//!
//! Throughput = asks / wall time of applying every event of the stream (acceptances and proofs
//! included). Latency = wall time of applying one `AskCreated` (matching included), read with
//! `Instant` around each call; the clock read (~20-30 ns) is inside the figure.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use matching_engine::naive::{NaiveGenerator, NaiveMatcher};
use matching_engine::{
    AcceptedAssignment, Address, Ask, Assignment, Config, Engine, Event, LogPos, Market,
    MatchingMode, Offer,
};

const MARKETS: u64 = 100;
const PER_MARKET: u64 = 100;
const PENALTY: u128 = 1_000;
const ASKS_PER_BLOCK: usize = 5_000;
const BLOCKS: usize = 200;
const PROOF_DELAY: usize = 3;
/// The peer scans 10 000 generators per ask; a prefix of the stream is enough to time it.
const PEER_ASKS: usize = 20_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

struct GenSpec {
    address: Address,
    market: u64,
    offer: Offer,
    capacity: u32,
}

fn generators(rng: &mut Rng) -> Vec<GenSpec> {
    let mut out = Vec::new();
    for m in 0..MARKETS {
        for i in 0..PER_MARKET {
            out.push(GenSpec {
                address: Address::from_low_u64(1 + m * PER_MARKET + i),
                market: m,
                offer: Offer {
                    cost: u128::from(rng.range(10, 1_000)),
                    proposed_time: rng.range(10, 600),
                },
                capacity: u32::try_from(rng.range(4, 16)).expect("small"),
            });
        }
    }
    out
}

fn asks(rng: &mut Rng, n: usize) -> Vec<Ask> {
    (0..n)
        .map(|i| Ask {
            id: i as u64 + 1,
            market: rng.range(0, MARKETS),
            reward: u128::from(rng.range(300, 2_000)),
            expiry: u64::MAX / 2,
            proving_time: rng.range(100, 1_000),
            redundancy: if rng.range(0, 10) == 0 { 3 } else { 1 },
            refund_address: Address::from_low_u64(0xfeed),
            prover_data_hash: [0; 32],
            requester: Address::ZERO,
            prover_data: Vec::new(),
        })
        .collect()
}

/// CPU time this thread has run, in nanoseconds (`/proc/thread-self/schedstat`, first field).
/// The build machine is shared, so throughput divides by the CPU time the thread actually got
/// rather than by wall time.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|f| f.parse().ok()))
        .expect("/proc/thread-self/schedstat is readable on Linux")
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1_000.0
}

struct Figures {
    asks_per_s: f64,
    wall_asks_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
    assigned: usize,
}

fn figures(wall: Duration, cpu_ns: u64, mut lat_ns: Vec<u64>, assigned: usize) -> Figures {
    lat_ns.sort_unstable();
    Figures {
        asks_per_s: lat_ns.len() as f64 / (cpu_ns as f64 / 1e9),
        wall_asks_per_s: lat_ns.len() as f64 / wall.as_secs_f64(),
        p50_us: percentile(&lat_ns, 0.50),
        p99_us: percentile(&lat_ns, 0.99),
        max_us: percentile(&lat_ns, 1.0),
        assigned,
    }
}

fn run_engine(gens: &[GenSpec], asks: &[Ask]) -> Figures {
    let mut e = Engine::new(Config::default(), None);
    let mut block = 1u64;
    let mut ts = 1_000u64;
    e.begin_block(block, ts);
    let mut idx = 0u32;
    let mut apply = |e: &mut Engine, ev: Event, block: u64| {
        let pos = LogPos::new(block, idx);
        idx += 1;
        e.apply_log(pos, &ev).expect("consistent stream");
    };
    for m in 0..MARKETS {
        apply(
            &mut e,
            Event::MarketCreated(Market {
                id: m,
                mode: MatchingMode::OrderBook,
                slashing_penalty: PENALTY,
                prover_family: None,
                activation: 0,
                verifier: Address::ZERO,
            }),
            block,
        );
    }
    for g in gens {
        apply(
            &mut e,
            Event::GeneratorRegistered {
                generator: g.address,
                capacity: g.capacity,
            },
            block,
        );
        apply(
            &mut e,
            Event::StakeChanged {
                generator: g.address,
                market: g.market,
                stake: PENALTY * u128::from(g.capacity + 2),
            },
            block,
        );
        apply(
            &mut e,
            Event::GeneratorJoined {
                generator: g.address,
                market: g.market,
                offer: g.offer,
            },
            block,
        );
    }

    let mut lat = Vec::with_capacity(asks.len());
    let mut to_accept: Vec<Assignment> = Vec::new();
    let mut to_prove: VecDeque<Vec<Assignment>> = VecDeque::new();
    let mut assigned = 0usize;
    let cpu0 = thread_cpu_ns();
    let started = Instant::now();
    for chunk in asks.chunks(ASKS_PER_BLOCK) {
        block += 1;
        ts += 2;
        e.begin_block(block, ts);
        let mut log = 0u32;
        let mut next = || {
            log += 1;
            LogPos::new(block, log)
        };
        // Proofs for assignments accepted PROOF_DELAY blocks ago.
        if to_prove.len() >= PROOF_DELAY
            && let Some(done) = to_prove.pop_front()
        {
            for a in done {
                let ev = Event::ProofSubmitted {
                    ask: a.ask,
                    slot: a.slot,
                    generator: a.generator,
                };
                e.apply_log(next(), &ev).expect("consistent stream");
            }
        }
        // The contract accepts last block's proposals in batches of 50.
        let accepted = std::mem::take(&mut to_accept);
        for batch in accepted.chunks(50) {
            let ev = Event::AssignmentsAccepted {
                assignments: batch
                    .iter()
                    .map(|a| AcceptedAssignment {
                        assignment: *a,
                        deadline: ts + 600,
                    })
                    .collect(),
            };
            e.apply_log(next(), &ev).expect("consistent stream");
        }
        to_prove.push_back(accepted);
        for a in chunk {
            let ev = Event::AskCreated(a.clone());
            let pos = next();
            let t0 = Instant::now();
            e.apply_log(pos, &ev).expect("consistent stream");
            lat.push(t0.elapsed().as_nanos() as u64);
        }
        let proposals = e.take_proposals();
        assigned += proposals.len();
        to_accept.extend(proposals);
    }
    let wall = started.elapsed();
    figures(wall, thread_cpu_ns() - cpu0, lat, assigned)
}

fn run_naive(gens: &[GenSpec], asks: &[Ask]) -> Figures {
    let mut naive = NaiveMatcher::new(
        gens.iter()
            .enumerate()
            .map(|(i, g)| NaiveGenerator {
                address: g.address,
                market: g.market,
                offer: g.offer,
                seq: LogPos::new(1, u32::try_from(i).expect("small")),
                capacity: g.capacity,
                used: 0,
                stake: PENALTY * u128::from(g.capacity + 2),
                locked: 0,
            })
            .collect(),
    );
    let mut lat = Vec::with_capacity(asks.len());
    let mut in_flight: VecDeque<Vec<Assignment>> = VecDeque::new();
    let mut assigned = 0;
    let cpu0 = thread_cpu_ns();
    let started = Instant::now();
    for chunk in asks.chunks(ASKS_PER_BLOCK) {
        if in_flight.len() > PROOF_DELAY
            && let Some(done) = in_flight.pop_front()
        {
            for a in done {
                naive.release(a.generator, PENALTY);
            }
        }
        let mut made = Vec::new();
        for a in chunk {
            let t0 = Instant::now();
            let picks = naive.match_ask(a, PENALTY);
            lat.push(t0.elapsed().as_nanos() as u64);
            made.extend(picks);
        }
        assigned += made.len();
        in_flight.push_back(made);
    }
    let wall = started.elapsed();
    figures(wall, thread_cpu_ns() - cpu0, lat, assigned)
}

fn main() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let gens = generators(&mut rng);
    let stream = asks(&mut rng, ASKS_PER_BLOCK * BLOCKS);
    let slots: usize = stream.iter().map(|a| usize::from(a.redundancy)).sum();

    eprintln!(
        "engine: {} generators, {} markets, {} asks",
        gens.len(),
        MARKETS,
        stream.len()
    );
    let ours = run_engine(&gens, &stream);
    eprintln!(
        "engine: {:.0} asks/s (cpu), {:.0} asks/s (wall), p50 {:.2} us, p99 {:.2} us, max {:.1} us, {} of {} slots assigned",
        ours.asks_per_s,
        ours.wall_asks_per_s,
        ours.p50_us,
        ours.p99_us,
        ours.max_us,
        ours.assigned,
        slots
    );
    eprintln!("peer (scan all generators): first {PEER_ASKS} asks");
    let peer = run_naive(&gens, &stream[..PEER_ASKS]);
    eprintln!(
        "peer: {:.0} asks/s, p50 {:.2} us, p99 {:.2} us, {} slots assigned",
        peer.asks_per_s, peer.p50_us, peer.p99_us, peer.assigned
    );
    let meets = ours.asks_per_s >= 200_000.0 && ours.p99_us <= 50.0;
    println!(
        concat!(
            "{{\"bench\":\"engine\",\"asks_per_s\":{:.0},\"wall_asks_per_s\":{:.0},\"p50_us\":{:.2},\"p99_us\":{:.2},",
            "\"max_us\":{:.1},\"target_asks_per_s\":200000,\"target_p99_us\":50,\"meets_target\":{},",
            "\"generators\":{},\"markets\":{},\"asks\":{},\"slots_assigned\":{},\"slots_requested\":{},",
            "\"peer\":\"scan-all-generators matcher (Kalypso-style candidate filter), same process\",",
            "\"peer_asks\":{},\"peer_asks_per_s\":{:.0},\"peer_p99_us\":{:.2},\"ratio_asks_per_s\":{:.1},",
            "\"ratio_p99\":{:.1},\"threads\":1}}"
        ),
        ours.asks_per_s,
        ours.wall_asks_per_s,
        ours.p50_us,
        ours.p99_us,
        ours.max_us,
        meets,
        gens.len(),
        MARKETS,
        stream.len(),
        ours.assigned,
        slots,
        PEER_ASKS,
        peer.asks_per_s,
        peer.p99_us,
        ours.asks_per_s / peer.asks_per_s,
        peer.p99_us / ours.p99_us,
    );
}

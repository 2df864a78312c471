//! `devnet load`: the whole system under a steady load of asks. A [`Scenario`] starts what
//! `devnet run` starts (anvil with one-second blocks and an L2's block gas limit, the registry,
//! the marketplace with several markets, the host proxy, the enclave app in local simulation
//! with its key registered) plus generator nodes; [`run`] offers asks at a fixed rate from
//! funded requesters, drains, and reads every ask's record from the chain; [`report`] turns a
//! [`Run`] into one JSON line, with what limited it.
//!
//! Other programs of this crate use it as a library: start a scenario, hand [`run`] its
//! [`Target`] (a clone: the scenario stays free), restart the proxy (in front of another
//! upstream) or the app while the load runs, then audit the records.

mod measure;
mod offer;
mod prover;
mod records;
mod report;
mod scenario;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use alloy::primitives::U256;
use serde_json::{Value, json};

pub(crate) use self::measure::Sample;
pub(crate) use self::offer::{Load, LoadOpts, Offered};
pub(crate) use self::records::{AskRecord, Records};
#[allow(unused_imports)] // the library's surface for programs that run a load
pub(crate) use self::report::{Facts, Judgement, judge};
pub(crate) use self::scenario::{
    ARBITRUM_ONE_BLOCK_GAS, Scenario, ScenarioOpts, ScenarioPaths, Target,
};

use self::report::{percentile, round};
use crate::error::Result;

/// The engine's own `poll_interval_ms` when its configuration gives none
/// (`enclave/app/src/config.rs`).
pub(crate) const ENGINE_DEFAULT_POLL_MS: u64 = 1_000;
/// Its `head_check_ms` likewise.
pub(crate) const ENGINE_DEFAULT_HEAD_CHECK_MS: u64 = 100;
/// The engine's confirmations in the devnet's configuration (`enclave::app_config`).
const CONFIRMATIONS: u64 = 1;
/// The p99 target of blocks from ask to assignment.
const P99_TARGET_BLOCKS: u64 = 2;

/// `devnet load`.
#[derive(Debug, clap::Args)]
pub(crate) struct LoadArgs {
    #[command(flatten)]
    paths: ScenarioPaths,
    /// Asks offered per second.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Seconds of offering.
    #[arg(long, default_value_t = 300)]
    duration: u64,
    /// Seconds at most after the last ask for assignments and proofs to land.
    #[arg(long, default_value_t = 60)]
    drain: u64,
    /// Markets.
    #[arg(long, default_value_t = 8)]
    markets: usize,
    /// Generator nodes (each joins two markets).
    #[arg(long, default_value_t = 32)]
    generators: usize,
    /// Assignments each generator node runs at once.
    #[arg(long, default_value_t = 64)]
    capacity: u32,
    /// Requester accounts.
    #[arg(long, default_value_t = 8)]
    requesters: usize,
    /// The block gas limit during the load (default: Arbitrum One's 32 M per block).
    #[arg(long, default_value_t = ARBITRUM_ONE_BLOCK_GAS)]
    block_gas_limit: u64,
    /// The engine's poll interval (ms); absent: the engine's default.
    #[arg(long)]
    poll_interval_ms: Option<u64>,
    /// The engine's head check during its pause (ms; 0: none); absent: the engine's default.
    #[arg(long)]
    head_check_ms: Option<u64>,
}

/// Everything a load run measured.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) load: LoadOpts,
    pub(crate) offered: Offered,
    pub(crate) records: Records,
    pub(crate) samples: Vec<Sample>,
    /// Seconds (on the samples' clock) when offering began and ended.
    pub(crate) offer_span: (f64, f64),
    /// Seconds of draining after the offer.
    pub(crate) drained_s: f64,
    /// Where the records were written.
    pub(crate) records_path: PathBuf,
    /// Proofs the load's prover handed to the generators.
    pub(crate) proofs_served: u64,
    /// The one-minute load average when the offer ended.
    pub(crate) load_average: f64,
}

/// Offers `load` to the scenario, drains for at most `drain` (until every ask is assigned and
/// proven), and reads every ask's record from the chain into `RUN/asks.jsonl`.
pub(crate) async fn run(s: &Target, load: LoadOpts, drain: Duration) -> Result<Run> {
    let mut generator = Load::prepare(s, load.clone()).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let started = Instant::now();
    let sampler = tokio::spawn(measure::sample_until(s.watched.clone(), started, stopped));
    eprintln!(
        "      offering {} asks/s for {} s over {} markets from {} requesters",
        load.rate,
        load.duration.as_secs(),
        s.markets.len(),
        load.requesters
    );
    let offer_start = started.elapsed().as_secs_f64();
    let offered = generator.offer(s).await?;
    let offer_end = started.elapsed().as_secs_f64();
    let load_average = measure::load_average().unwrap_or(0.0);
    eprintln!(
        "      offered {} asks in {:.1} s ({:.1}/s), {} refused; draining",
        offered.sent,
        offered.seconds,
        offered.rate(),
        offered.errors
    );
    let mut records = Records::new(s.marketplace, offered.first_block + 1);
    let drain_start = Instant::now();
    loop {
        let (head, _) = crate::chain::head(&s.provider).await?;
        records.read_to(&s.provider, head).await?;
        let c = records.counts();
        let done = c.created >= offered.sent && c.assigned == c.created && c.proved == c.assigned;
        if done || drain_start.elapsed() >= drain {
            eprintln!(
                "      after {:.0} s of drain: {} created, {} assigned, {} proved",
                drain_start.elapsed().as_secs_f64(),
                c.created,
                c.assigned,
                c.proved
            );
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let drained_s = drain_start.elapsed().as_secs_f64();
    let _ = stop.send(());
    let samples = sampler.await.unwrap_or_default();
    let records_path = s.run_dir.join("asks.jsonl");
    records.write_jsonl(&records_path)?;
    Ok(Run {
        load,
        offered,
        records,
        samples,
        offer_span: (offer_start, offer_end),
        drained_s,
        records_path,
        proofs_served: s.proofs_served.load(std::sync::atomic::Ordering::Relaxed),
        load_average,
    })
}

/// The samples within `[from, to]` seconds.
fn within(samples: &[Sample], from: f64, to: f64) -> Vec<&Sample> {
    samples
        .iter()
        .filter(|s| s.at_s >= from - 0.5 && s.at_s <= to + 1.5)
        .collect()
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// How many values each distinct value has, as a JSON object (keys in order).
fn histogram(sorted: &[u64]) -> Value {
    let mut counts = serde_json::Map::new();
    for chunk in sorted.chunk_by(|a, b| a == b) {
        counts.insert(chunk[0].to_string(), json!(chunk.len()));
    }
    Value::Object(counts)
}

/// The facts of a run the judgement reads, and the JSON line.
pub(crate) fn report(s: &ScenarioOpts, run: &Run) -> Value {
    let records = &run.records;
    let counts = records.counts();
    let mut latency: Vec<u64> = records
        .asks
        .values()
        .filter_map(AskRecord::blocks_to_assignment)
        .collect();
    latency.sort_unstable();
    let mut to_proof: Vec<u64> = records
        .asks
        .values()
        .filter_map(|r| r.proved_block.map(|b| b.saturating_sub(r.created_block)))
        .collect();
    to_proof.sort_unstable();

    // The load window: the blocks that hold the asks created.
    let created_blocks: Vec<u64> = records.asks.values().map(|r| r.created_block).collect();
    let (first, last) = (
        created_blocks.iter().min().copied().unwrap_or(0),
        created_blocks.iter().max().copied().unwrap_or(0),
    );
    let window: Vec<_> = records
        .blocks
        .range(first..=last)
        .map(|(_, b)| *b)
        .collect();
    let fullness: Vec<f64> = window
        .iter()
        .filter(|b| b.gas_limit > 0)
        .map(|b| b.gas_used as f64 / b.gas_limit as f64)
        .collect();
    let chain_seconds = match (window.first(), window.last()) {
        (Some(a), Some(b)) => (b.timestamp.saturating_sub(a.timestamp) + 1) as f64,
        _ => 0.0,
    };
    let accepted_rate = if chain_seconds > 0.0 {
        counts.created as f64 / chain_seconds
    } else {
        0.0
    };
    let (batch_gas, batch_assignments) = records
        .batches
        .values()
        .fold((0u64, 0u64), |(g, n), (gas, k)| (g + gas, n + k));

    // Costs over the offering.
    let (from, to) = run.offer_span;
    let during = within(&run.samples, from, to);
    let cpu = |pick: fn(&Sample) -> Option<measure::ProcUse>| match (during.first(), during.last())
    {
        (Some(a), Some(b)) => measure::cpu_between(a, b, pick),
        _ => None,
    };
    let engine_cpu = cpu(|x| x.engine);
    let anvil_cpu = cpu(|x| x.anvil);
    let load_cpu = cpu(|x| x.load);
    let generators_cpu = cpu(|x| x.generators);
    let peak = |pick: fn(&Sample) -> Option<measure::ProcUse>| {
        run.samples
            .iter()
            .filter_map(pick)
            .map(|u| u.peak_rss_kib)
            .max()
            .map(|k| round(k as f64 / 1024.0, 1))
    };
    let third = (to - from) / 3.0;
    let pending = |a: f64, b: f64| {
        mean(
            within(&run.samples, a, b)
                .into_iter()
                .filter_map(|x| x.pending)
                .map(|p| p as f64),
        )
    };
    let facts = Facts {
        target_rate: run.load.rate,
        offered_rate: run.offered.rate(),
        accepted_rate,
        send_errors: run.offered.errors,
        created: counts.created,
        assigned: counts.assigned,
        block_gas_mean: mean(fullness.iter().copied()),
        full_block_share: if fullness.is_empty() {
            0.0
        } else {
            fullness
                .iter()
                .filter(|f| **f >= report::FULL_BLOCK)
                .count() as f64
                / fullness.len() as f64
        },
        engine_cpu_pct: engine_cpu.map_or(0.0, |c| c.1),
        anvil_cpu_pct: anvil_cpu.map_or(0.0, |c| c.1),
        load_cpu_pct: load_cpu.map_or(0.0, |c| c.1),
        cores: std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64),
        load_average: run.load_average,
        pending_first: pending(from, from + third),
        pending_last: pending(to - third, to),
        asks_per_block: run.load.rate,
        p99_blocks: percentile(&latency, 99.0),
        p99_target: P99_TARGET_BLOCKS,
    };
    let judgement = judge(&facts);
    let cpu_json = |c: Option<(f64, f64)>| {
        c.map_or(
            Value::Null,
            |(s, pct)| json!({"cpu_s": round(s, 1), "pct_of_one_core": round(pct, 1)}),
        )
    };
    json!({
        "load": {
            "target_asks_per_s": run.load.rate,
            "duration_s": run.load.duration.as_secs(),
            "markets": s.markets,
            "generators": s.generators,
            "requesters": run.load.requesters,
        },
        "chain": {
            "block_time_s": 1,
            "block_gas_limit": s.block_gas_limit,
            "block_gas_limit_of": if s.block_gas_limit == ARBITRUM_ONE_BLOCK_GAS {
                "Arbitrum One (32 M effective execution gas per block)"
            } else {
                "custom"
            },
        },
        "engine_settings": {
            "poll_interval_ms": s.poll_interval_ms.unwrap_or(ENGINE_DEFAULT_POLL_MS),
            "head_check_ms": s.head_check_ms.unwrap_or(ENGINE_DEFAULT_HEAD_CHECK_MS),
            "source": match (s.poll_interval_ms, s.head_check_ms) {
                (None, None) => "engine defaults",
                _ => "configured",
            },
            "confirmations": CONFIRMATIONS,
        },
        "offered_asks_per_s": round(facts.offered_rate, 1),
        "accepted_asks_per_s": round(accepted_rate, 1),
        "send_errors": run.offered.errors,
        "first_send_error": run.offered.first_error,
        "asks": {
            "sent": run.offered.sent,
            "created": counts.created,
            "assigned": counts.assigned,
            "proved": counts.proved,
            "paid": counts.paid,
        },
        "blocks_ask_to_assignment": {
            "p50": percentile(&latency, 50.0),
            "p99": percentile(&latency, 99.0),
            "max": latency.last(),
            "histogram": histogram(&latency),
        },
        "blocks_ask_to_proof": {
            "p50": percentile(&to_proof, 50.0),
            "p99": percentile(&to_proof, 99.0),
        },
        "engine": {
            "cpu": cpu_json(engine_cpu),
            "peak_rss_mib": peak(|x| x.engine),
        },
        "anvil": { "cpu": cpu_json(anvil_cpu), "peak_rss_mib": peak(|x| x.anvil) },
        "load_generator": { "cpu": cpu_json(load_cpu), "peak_rss_mib": peak(|x| x.load) },
        "generator_nodes": { "cpu": cpu_json(generators_cpu) },
        "gas_per_ask_tx_limit": run.offered.gas_limit,
        "gas_per_assignment": batch_gas.checked_div(batch_assignments),
        "gas_per_create_ask": mean(records.create_gas.iter().map(|g| *g as f64)).round(),
        "gas_per_proof": mean(records.proof_gas.iter().map(|g| *g as f64)).round(),
        "assign_batches": records.batches.len(),
        "block_gas_used_pct": {
            "mean": round(facts.block_gas_mean * 100.0, 1),
            "max": round(fullness.iter().copied().fold(0.0, f64::max) * 100.0, 1),
            "blocks": window.len(),
        },
        "engine_pending_assignments": {
            "first_third_mean": round(facts.pending_first, 1),
            "last_third_mean": round(facts.pending_last, 1),
        },
        "proofs_served": run.proofs_served,
        "drain_s": round(run.drained_s, 1),
        "load_average_at_offer_end": run.load_average,
        "limited_by": judgement.limited_by,
        "reasons": judgement.reasons,
        "records": run.records_path.display().to_string(),
    })
}

/// `devnet load`: starts a scenario, runs the load, prints one JSON line; 0 when it ran
/// (whatever it measured), 1 when something failed.
pub(crate) async fn command(args: LoadArgs) -> u8 {
    let opts = ScenarioOpts {
        paths: args.paths.clone(),
        markets: args.markets,
        generators: args.generators,
        generator_capacity: args.capacity,
        block_gas_limit: args.block_gas_limit,
        poll_interval_ms: args.poll_interval_ms,
        head_check_ms: args.head_check_ms,
    };
    let load = LoadOpts {
        rate: args.rate,
        duration: Duration::from_secs(args.duration),
        requesters: args.requesters,
        reward: U256::from(100u64),
    };
    let result = async {
        let scenario = Scenario::start(opts.clone()).await?;
        let run = run(&scenario.target(), load, Duration::from_secs(args.drain)).await?;
        Ok::<Value, crate::error::Error>(report(&opts, &run))
    }
    .await;
    match result {
        Ok(line) => {
            #[allow(clippy::print_stdout)] // the command's answer
            {
                println!("{line}");
            }
            0
        }
        Err(e) => {
            eprintln!("devnet load: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_each_latency() {
        assert_eq!(histogram(&[2, 2, 2, 3, 5]), json!({"2": 3, "3": 1, "5": 1}));
        assert_eq!(histogram(&[]), json!({}));
    }
}

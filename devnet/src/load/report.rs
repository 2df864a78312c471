//! The pure end of a load run: percentiles, what limited the run, and the one JSON line.

use serde_json::{Value, json};

/// The `p`-th percentile (0–100) of `sorted` by nearest rank; `None` when empty.
pub(crate) fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// What a load run measured, as the judgement reads it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Facts {
    /// The rate asked for (asks/s).
    pub(crate) target_rate: f64,
    /// The rate the load generator offered (asks sent / seconds of sending).
    pub(crate) offered_rate: f64,
    /// Asks created on chain per second of chain time.
    pub(crate) accepted_rate: f64,
    /// Sends the node refused or that failed.
    pub(crate) send_errors: u64,
    /// Asks created, and of them assigned.
    pub(crate) created: u64,
    pub(crate) assigned: u64,
    /// Mean and share of nearly full blocks (gas used / limit, 0–1) over the load window.
    pub(crate) block_gas_mean: f64,
    pub(crate) full_block_share: f64,
    /// CPU of the engine's process, the chain node's and the load generator's, in % of one
    /// core over the load window.
    pub(crate) engine_cpu_pct: f64,
    pub(crate) anvil_cpu_pct: f64,
    pub(crate) load_cpu_pct: f64,
    /// Cores of the machine (a process above 100 % uses more than one), and the one-minute
    /// load average at the end of the offer (runnable processes: above the cores, every
    /// process got less than it asked for).
    pub(crate) cores: f64,
    pub(crate) load_average: f64,
    /// The engine's pending assignments (proposed, not yet landed): mean over the first and the
    /// last third of the load window, and the rate at which asks arrive per block.
    pub(crate) pending_first: f64,
    pub(crate) pending_last: f64,
    pub(crate) asks_per_block: f64,
    /// p99 blocks from ask to assignment, and the target.
    pub(crate) p99_blocks: Option<u64>,
    pub(crate) p99_target: u64,
}

/// Share of the target rate below which the run did not offer the load.
const OFFERED_SHARE: f64 = 0.95;
/// Mean block fullness from which blocks are the limit.
const FULL_MEAN: f64 = 0.85;
/// A block this full counts as full.
pub(crate) const FULL_BLOCK: f64 = 0.95;
/// CPU share (of one core) at which a single-threaded loop is saturated.
const SATURATED_PCT: f64 = 90.0;
/// The chain node's: it also waits on its RPC clients and its block timer.
const NODE_SATURATED_PCT: f64 = 80.0;

/// The judgement: what limited the run and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Judgement {
    /// `chain gas`, `chain node`, `engine`, `relayer`, `load generator`, or `none`.
    pub(crate) limited_by: &'static str,
    /// The measurements behind it, one sentence each.
    pub(crate) reasons: Vec<String>,
}

/// Judges, in order: the chain's gas (blocks full and asks backing up), the engine (its core
/// saturated while it falls behind), the relayer (pending assignments growing while the engine
/// has CPU to spare), the chain node (its CPU saturated, sends backing up), the load generator
/// (it did not offer the rate although nothing downstream was saturated), the engine again
/// when nothing backs up yet assignments land later than the target (its reaction to each
/// block); `none` when the rate was offered, accepted and assigned within the target.
pub(crate) fn judge(f: &Facts) -> Judgement {
    let mut reasons = Vec::new();
    let offered_short = f.offered_rate < f.target_rate * OFFERED_SHARE;
    let accepted_short = f.accepted_rate < f.offered_rate * OFFERED_SHARE;
    let blocks_full = f.block_gas_mean >= FULL_MEAN || f.full_block_share >= 0.5;
    let engine_saturated = f.engine_cpu_pct >= SATURATED_PCT;
    let growing =
        f.pending_last > f.pending_first.max(1.0) * 2.0 && f.pending_last > f.asks_per_block * 3.0;
    // anvil executes and mines on one thread; on a machine whose cores are all busy it gets
    // less than one.
    let anvil_saturated = f.anvil_cpu_pct >= NODE_SATURATED_PCT
        || (f.load_average > f.cores
            && f.anvil_cpu_pct >= NODE_SATURATED_PCT * f.cores / f.load_average);
    reasons.push(format!(
        "offered {:.1}/s of {:.1}/s asked; {:.1}/s created on chain; {} send errors",
        f.offered_rate, f.target_rate, f.accepted_rate, f.send_errors
    ));
    reasons.push(format!(
        "blocks {:.0} % full on average, {:.0} % of them at least {:.0} % full",
        f.block_gas_mean * 100.0,
        f.full_block_share * 100.0,
        FULL_BLOCK * 100.0
    ));
    reasons.push(format!(
        "CPU (% of one core): engine {:.0}, anvil {:.0}, load generator {:.0}; {} cores, load average {:.1}",
        f.engine_cpu_pct, f.anvil_cpu_pct, f.load_cpu_pct, f.cores, f.load_average
    ));
    reasons.push(format!(
        "engine pending assignments {:.0} in the first third, {:.0} in the last ({:.0} asks per block)",
        f.pending_first, f.pending_last, f.asks_per_block
    ));
    let limited_by = if blocks_full && (accepted_short || growing || offered_short) {
        "chain gas"
    } else if anvil_saturated && (growing || offered_short || accepted_short) {
        "chain node"
    } else if engine_saturated && (growing || over_target(f)) {
        "engine"
    } else if growing {
        "relayer"
    } else if offered_short {
        "load generator"
    } else if over_target(f) {
        reasons.push(format!(
            "p99 {} blocks from ask to assignment (target {}) without a backlog or a saturated \
             core: the engine reacts too late to each block",
            f.p99_blocks
                .map_or_else(|| "-".to_owned(), |p| p.to_string()),
            f.p99_target
        ));
        "engine"
    } else if blocks_full {
        "chain gas"
    } else {
        "none"
    };
    Judgement {
        limited_by,
        reasons,
    }
}

/// Whether ask-to-assignment latency missed its target (or nothing was assigned at all).
fn over_target(f: &Facts) -> bool {
    f.p99_blocks.is_none_or(|p| p > f.p99_target) || f.assigned < f.created
}

/// Rounds to `places` decimals for the JSON line.
pub(crate) fn round(x: f64, places: i32) -> Value {
    let scale = 10f64.powi(places);
    json!((x * scale).round() / scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[2, 2, 3], 50.0), Some(2));
        assert_eq!(percentile(&[2, 2, 3], 99.0), Some(3));
        assert_eq!(percentile(&[], 50.0), None);
    }

    fn healthy() -> Facts {
        Facts {
            target_rate: 200.0,
            offered_rate: 199.0,
            accepted_rate: 198.0,
            created: 60_000,
            assigned: 60_000,
            block_gas_mean: 0.4,
            full_block_share: 0.0,
            engine_cpu_pct: 20.0,
            anvil_cpu_pct: 60.0,
            load_cpu_pct: 15.0,
            cores: 2.0,
            load_average: 1.5,
            pending_first: 150.0,
            pending_last: 160.0,
            asks_per_block: 200.0,
            p99_blocks: Some(2),
            p99_target: 2,
            ..Facts::default()
        }
    }

    #[test]
    fn a_run_that_met_everything_names_nothing() {
        assert_eq!(judge(&healthy()).limited_by, "none");
    }

    #[test]
    fn full_blocks_that_back_asks_up_are_the_chain_gas() {
        let f = Facts {
            block_gas_mean: 0.97,
            full_block_share: 0.9,
            accepted_rate: 120.0,
            ..healthy()
        };
        let j = judge(&f);
        assert_eq!(j.limited_by, "chain gas");
        assert!(j.reasons[1].contains("97 % full"), "{:?}", j.reasons);
    }

    #[test]
    fn a_saturated_engine_that_falls_behind_is_the_engine() {
        let f = Facts {
            engine_cpu_pct: 98.0,
            pending_last: 2_000.0,
            p99_blocks: Some(9),
            ..healthy()
        };
        assert_eq!(judge(&f).limited_by, "engine");
    }

    #[test]
    fn growing_pending_work_with_an_idle_engine_is_the_relayer() {
        let f = Facts {
            pending_first: 200.0,
            pending_last: 5_000.0,
            p99_blocks: Some(12),
            ..healthy()
        };
        assert_eq!(judge(&f).limited_by, "relayer");
    }

    #[test]
    fn late_assignments_without_a_backlog_are_the_engine_reacting_late() {
        let f = Facts {
            p99_blocks: Some(3),
            ..healthy()
        };
        let j = judge(&f);
        assert_eq!(j.limited_by, "engine");
        assert!(
            j.reasons.last().unwrap().contains("p99 3 blocks"),
            "{:?}",
            j.reasons
        );
    }

    #[test]
    fn a_short_offer_with_a_saturated_node_is_the_chain_node() {
        let f = Facts {
            offered_rate: 90.0,
            accepted_rate: 88.0,
            anvil_cpu_pct: 97.0,
            ..healthy()
        };
        assert_eq!(judge(&f).limited_by, "chain node");
    }

    #[test]
    fn a_node_starved_of_cpu_by_a_busy_machine_is_the_chain_node() {
        let f = Facts {
            anvil_cpu_pct: 60.0,
            load_average: 4.0, // 2 cores: anvil gets about half of one
            pending_last: 1_800.0,
            ..healthy()
        };
        assert_eq!(judge(&f).limited_by, "chain node");
        let idle = Facts {
            load_average: 1.0,
            ..f
        };
        assert_eq!(judge(&idle).limited_by, "relayer");
    }

    #[test]
    fn a_short_offer_with_nothing_saturated_is_the_load_generator() {
        let f = Facts {
            offered_rate: 120.0,
            accepted_rate: 119.0,
            ..healthy()
        };
        assert_eq!(judge(&f).limited_by, "load generator");
    }
}

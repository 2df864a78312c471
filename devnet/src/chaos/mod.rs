//! `devnet chaos`: faults during a load run, then an accounting that shows nothing was lost.
//!
//! A load scenario (`load::Scenario`) runs with a fault box (`testkit::faultbox`) between the
//! host proxy's l2-rpc route and anvil. While `load::run` offers asks at a steady rate, each
//! fault of [`faults::Kind`] is injected in turn for a window and ended, with recovery time
//! after it: the RPC stalls, fails (HTTP, JSON-RPC) and lies (one log's data or topics, a
//! block's hash or parent hash); the host proxy is killed and started again; the chain
//! reorganises; the engine is killed and started again (it rebuilds from the chain, with a new
//! key registered); the relayer runs out of ETH and is refunded. After each, the run waits for
//! the engine to catch up and every ask created so far to be assigned (`recovered_s`).
//!
//! Then the accounting ([`audit`]), from the chain and the engine's `/status` only: every slot
//! assigned once or refunded after expiry, every proof paid once, no honest generator slashed
//! (the load's generators are honest), and the engine's state digest equal to that of a fresh
//! engine replaying the chain from its start block ([`replay`]). One JSON line; exit 1 when an
//! invariant fails, naming it.

mod audit;
mod faults;
mod replay;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use serde_json::{Value, json};
use testkit::faultbox::FaultBox;

use self::faults::{Kind, Subject, engine_status};
use crate::error::{Error, Result};
use crate::load::{self, LoadOpts, Scenario, ScenarioOpts, ScenarioPaths};
use crate::procs::Procs;

/// `devnet chaos`.
#[derive(Debug, clap::Args)]
pub(crate) struct ChaosArgs {
    #[command(flatten)]
    paths: ScenarioPaths,
    /// Asks offered per second (the default leaves this 2-core machine's anvil room to
    /// recover from each fault; at 50/s, with other work on the second core, anvil was the
    /// limit even without faults).
    #[arg(long, default_value_t = 25.0)]
    rate: f64,
    /// Seconds each fault lasts.
    #[arg(long, default_value_t = 15)]
    window: u64,
    /// Seconds after each fault before the next (the engine must recover within them).
    #[arg(long, default_value_t = 30)]
    recovery: u64,
    /// Seconds of load before the first fault.
    #[arg(long, default_value_t = 20)]
    lead_in: u64,
    /// Seconds at most after the last ask for assignments and proofs to land.
    #[arg(long, default_value_t = 180)]
    drain: u64,
    /// Markets.
    #[arg(long, default_value_t = 4)]
    markets: usize,
    /// Generator nodes (each joins two markets).
    #[arg(long, default_value_t = 8)]
    generators: usize,
    /// Assignments each generator node runs at once.
    #[arg(long, default_value_t = 64)]
    capacity: u32,
    /// Requester accounts.
    #[arg(long, default_value_t = 4)]
    requesters: usize,
    /// The faults, comma-separated, in order (`all`: every one; names in devnet/README.md).
    #[arg(long, default_value = "all")]
    faults: String,
}

/// The faults named by `list` (`all`, or names separated by commas).
fn parse_faults(list: &str) -> Result<Vec<Kind>> {
    if list.trim() == "all" {
        return Ok(Kind::ALL.to_vec());
    }
    list.split(',')
        .map(|name| {
            Kind::parse(name.trim()).ok_or_else(|| {
                let known: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                Error::Check(format!(
                    "unknown fault {name:?} (known: {})",
                    known.join(", ")
                ))
            })
        })
        .collect()
}

/// Asks created so far, and which of them have an accepted slot: what "recovered" waits for.
#[derive(Debug, Default)]
struct Progress {
    next: u64,
    created: u64,
    accepted: BTreeSet<u64>,
}

impl Progress {
    /// Reads `marketplace`'s events from its deployment block `from` (first call) or where the
    /// last call stopped, up to `head`.
    async fn read_to(
        &mut self,
        p: &alloy::providers::DynProvider,
        marketplace: Address,
        from: u64,
        head: u64,
    ) -> Result<()> {
        self.next = self.next.max(from);
        if head < self.next {
            return Ok(());
        }
        for ev in audit::read_events(p, marketplace, self.next, head).await? {
            match ev {
                audit::Ev::Created { ask, .. } => self.created = self.created.max(ask),
                audit::Ev::Accepted { ask, .. } => {
                    self.accepted.insert(ask);
                }
                _ => {}
            }
        }
        self.next = head + 1;
        Ok(())
    }

    /// How many asks up to `n` (asks are numbered from 1) have an accepted slot.
    fn assigned_among(&self, n: u64) -> u64 {
        self.accepted.range(..=n).count() as u64
    }

    /// Whether every ask up to `n` has an accepted slot.
    fn assigned_up_to(&self, n: u64) -> bool {
        self.assigned_among(n) == n
    }
}

/// The engine's figures after a fault.
fn engine_view(status: &Value) -> Value {
    let e = &status["engine"];
    json!({
        "synced_block": e["synced_block"],
        "head_block": e["head_block"],
        "reorgs": e["reorgs"],
        "rebuilds": e["rebuilds"],
        "pending_assignments": e["pending_assignments"],
        "last_error": e["last_error"],
    })
}

/// Times of a run.
#[derive(Clone, Copy, Debug)]
struct Pace {
    lead_in: Duration,
    window: Duration,
    recovery: Duration,
}

/// Injects each fault in turn, each followed by its recovery time; one JSON object per fault,
/// and the names of the faults the engine did not recover from in time.
async fn drive(
    t: &mut Subject<'_>,
    kinds: &[Kind],
    pace: Pace,
) -> Result<(Vec<Value>, Vec<String>)> {
    let p = t.scenario.provider.clone();
    let api = t.scenario.ports.api;
    let (marketplace, from) = (
        t.scenario.market.marketplace,
        t.scenario.market.marketplace_block,
    );
    let begun = Instant::now();
    let mut progress = Progress::default();
    let mut results = Vec::new();
    let mut unrecovered = Vec::new();
    tokio::time::sleep(pace.lead_in).await;
    for &kind in kinds {
        let (head_before, _) = crate::chain::head(&p).await?;
        let at_s = begun.elapsed().as_secs_f64();
        eprintln!(
            "      fault {} for {} s",
            kind.name(),
            pace.window.as_secs()
        );
        let detail = faults::inject(t, kind, pace.window).await?;
        let ended = Instant::now();
        let (head_after, _) = crate::chain::head(&p).await?;
        progress.read_to(&p, marketplace, from, head_after).await?;
        let asks_by_end = progress.created;
        let mut recovered_s = None;
        while ended.elapsed() < pace.recovery {
            let status = engine_status(api);
            let synced = status["engine"]["synced_block"].as_u64().unwrap_or(0);
            let (head, _) = crate::chain::head(&p).await?;
            progress.read_to(&p, marketplace, from, head).await?;
            if synced >= head_after && progress.assigned_up_to(asks_by_end) {
                recovered_s = Some(ended.elapsed().as_secs_f64());
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let status = engine_status(api);
        eprintln!(
            "      {}: recovered {}",
            kind.name(),
            recovered_s.map_or_else(
                || "NOT within the recovery time".into(),
                |r| format!("after {r:.1} s")
            )
        );
        if recovered_s.is_none() {
            unrecovered.push(format!(
                "{}: {asks_by_end} asks created by its end, {} assigned after {} s",
                kind.name(),
                progress.assigned_among(asks_by_end),
                pace.recovery.as_secs()
            ));
        }
        results.push(json!({
            "fault": kind.name(),
            "at_s": (at_s * 10.0).round() / 10.0,
            "window_s": pace.window.as_secs(),
            "blocks": [head_before, head_after],
            "asks_created_by_end": asks_by_end,
            "recovered_s": recovered_s.map(|r| (r * 10.0).round() / 10.0),
            "detail": detail,
            "engine_after": engine_view(&status),
        }));
        let rest = pace.recovery.saturating_sub(ended.elapsed());
        tokio::time::sleep(rest).await;
    }
    Ok((results, unrecovered))
}

/// What a run found, and the names of the invariants that failed (with examples).
struct Found {
    line: Value,
    failed: BTreeMap<String, Vec<String>>,
}

async fn chaos(args: ChaosArgs) -> Result<Found> {
    let kinds = parse_faults(&args.faults)?;
    let opts = ScenarioOpts {
        paths: args.paths.clone(),
        markets: args.markets,
        generators: args.generators,
        generator_capacity: args.capacity,
        block_gas_limit: load::ARBITRUM_ONE_BLOCK_GAS,
        poll_interval_ms: None,
        head_check_ms: None,
    };
    let mut scenario = Scenario::start(opts.clone()).await?;
    let fault_box =
        FaultBox::start(([127, 0, 0, 1], scenario.node.port).into()).map_err(|source| {
            Error::Process {
                what: "starting the fault box".into(),
                source,
            }
        })?;
    // The proxy's l2-rpc route now goes through the box.
    scenario.restart_proxy(fault_box.port()).await?;
    eprintln!(
        "      fault box 127.0.0.1:{} in front of anvil {}; faults: {}",
        fault_box.port(),
        scenario.rpc_url(),
        kinds
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let pace = Pace {
        lead_in: Duration::from_secs(args.lead_in),
        window: Duration::from_secs(args.window),
        recovery: Duration::from_secs(args.recovery),
    };
    // Asks keep coming through the last recovery (an engine restart adds its registration).
    let offering = pace.lead_in
        + (pace.window + pace.recovery) * u32::try_from(kinds.len()).unwrap_or(u32::MAX)
        + Duration::from_secs(30);
    let load = LoadOpts {
        rate: args.rate,
        duration: offering,
        requesters: args.requesters,
        reward: U256::from(100u64),
    };
    // The load runs on a clone of the scenario's target; the faults have the scenario.
    let target = scenario.target();
    let mut subject = Subject {
        scenario: &mut scenario,
        fault_box: &fault_box,
        restarts: 0,
    };
    // A fault that cannot be injected or ended ends the run (and the load with it).
    let (ran, (fault_results, unrecovered)) = tokio::try_join!(
        load::run(&target, load, Duration::from_secs(args.drain)),
        drive(&mut subject, &kinds, pace)
    )?;
    let s = &scenario;
    let load_report = load::report(&opts, &ran);

    // The accounting: the chain, then the engine.
    let (head, now) = crate::chain::head(&s.provider).await?;
    let events = audit::read_events(
        &s.provider,
        s.market.marketplace,
        s.market.marketplace_block,
        head,
    )
    .await?;
    let honest: BTreeSet<Address> = s.generators.iter().copied().collect();
    let accounting = audit::audit(&events, &honest, now, args.drain);
    let engine = engine_status(s.ports.api);
    // How the engine sees the first asks left open, if any.
    let open_asks: Vec<Value> = accounting
        .open_asks
        .iter()
        .map(|id| {
            crate::enclave::api(s.ports.api, &format!("/asks/{id}"))
                .ok()
                .and_then(|body| serde_json::from_slice(&body).ok())
                .unwrap_or_else(|| json!({"ask": id, "engine": "unknown_ask or no answer"}))
        })
        .collect();
    let fresh = replay::fresh_config(
        &faults::engine_config(&s.opts.paths.run_dir)?,
        s.rpc_url(),
        &s.opts.paths.run_dir,
    );
    let api = s.ports.api;
    // The fresh engine is stopped when this returns.
    let mut replay_procs = Procs::default();
    let state = replay::against_fresh_replay(
        &mut replay_procs,
        &s.opts.paths.enclave_app,
        &fresh,
        &s.opts.paths.run_dir,
        || crate::enclave::status(api).ok(),
    )
    .await?;

    let mut failed: BTreeMap<String, Vec<String>> = accounting
        .violations
        .iter()
        .map(|(name, (_, examples))| ((*name).to_owned(), examples.clone()))
        .collect();
    if state["equal"] != true {
        failed.insert(
            "state_digest_mismatch".into(),
            vec![format!(
                "block {}: running {} replay {}",
                state["block"], state["running"], state["replay"]
            )],
        );
    }
    if !unrecovered.is_empty() {
        failed.insert("fault_not_recovered".into(), unrecovered);
    }
    let line = json!({
        "chaos": {
            "rate": args.rate,
            "window_s": args.window,
            "recovery_s": args.recovery,
            "faults": fault_results,
        },
        "load": {
            "offered_asks_per_s": load_report["offered_asks_per_s"],
            "send_errors": load_report["send_errors"],
            "asks": load_report["asks"],
            "blocks_ask_to_assignment": load_report["blocks_ask_to_assignment"],
            "drain_s": load_report["drain_s"],
            "records": load_report["records"],
        },
        "engine": {
            "reorgs": engine["engine"]["reorgs"],
            "rebuilds": engine["engine"]["rebuilds"],
            "decode_errors": engine["engine"]["decode_errors"],
            "rejected_events": engine["engine"]["rejected_events"],
            "batches": engine["engine"]["batches"],
        },
        "accounting": accounting.to_json(),
        "open_asks_in_engine": open_asks,
        "state": state,
        "invariants": {
            "held": failed.is_empty(),
            "failed": failed.keys().collect::<Vec<_>>(),
        },
    });
    Ok(Found { line, failed })
}

/// `devnet chaos`: one JSON line; 0 when every invariant held, 1 when one failed (named on
/// standard error) or the run could not be carried out.
pub(crate) async fn command(args: ChaosArgs) -> u8 {
    match chaos(args).await {
        Ok(found) => {
            #[allow(clippy::print_stdout)] // the command's answer
            {
                println!("{}", found.line);
            }
            for (name, examples) in &found.failed {
                eprintln!(
                    "devnet chaos: invariant failed: {name}: {}",
                    examples.first().map_or("", String::as_str)
                );
            }
            u8::from(!found.failed.is_empty())
        }
        Err(e) => {
            eprintln!("devnet chaos: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_all_or_named_in_order() {
        assert_eq!(parse_faults("all").unwrap(), Kind::ALL.to_vec());
        assert_eq!(
            parse_faults("reorg, rpc-stall").unwrap(),
            [Kind::Reorg, Kind::Stall]
        );
        let err = parse_faults("reorg,nope").unwrap_err().to_string();
        assert!(
            err.contains("unknown fault \"nope\"") && err.contains("relayer-drained"),
            "{err}"
        );
    }

    #[test]
    fn recovery_waits_for_every_ask_up_to_the_fault_end() {
        let mut p = Progress::default();
        p.accepted.extend([1, 2, 4]);
        assert!(p.assigned_up_to(2));
        assert!(!p.assigned_up_to(4));
        p.accepted.insert(3);
        assert!(p.assigned_up_to(4));
        assert!(p.assigned_up_to(0));
    }
}

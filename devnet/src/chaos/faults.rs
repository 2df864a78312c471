//! The faults of a chaos run, each bounded in time, and what each did. The fault box's (a
//! stalled, failing or lying RPC between the host proxy's l2-rpc route and anvil) end on their
//! own; a killed process is started again, a reorganised chain keeps its transactions, a drained
//! relayer is refunded, before [`inject`] returns.

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider as _};
use alloy::rpc::json_rpc::{RpcRecv, RpcSend};
use alloy::sol_types::SolEvent as _;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use testkit::contracts::ProofMarketplace;
use testkit::faultbox::{self, FaultBox, LogChange};

use crate::enclave;
use crate::error::{Error, Result, ensure};
use crate::load::Scenario;
use crate::procs::wait_for;

/// Blocks replaced by the reorg fault.
pub(crate) const REORG_DEPTH: u64 = 3;

/// A fault of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The RPC holds every answer (longer than the window: answers come when it ends).
    Stall,
    /// The RPC answers HTTP 503.
    HttpErrors,
    /// The RPC answers JSON-RPC error objects.
    RpcErrors,
    /// The RPC zeroes `AskCreated.expiry` in one log of each answer.
    LieLogData,
    /// The RPC reports one `AskCreated` under the next ask id in each answer.
    LieLogTopic,
    /// The RPC reports a wrong hash for the newest block of each answer.
    LieBlockHash,
    /// The RPC reports a wrong parent hash for the newest block of each answer.
    LieParentHash,
    /// The host proxy is killed and, after the window, started again.
    ProxyRestart,
    /// The last [`REORG_DEPTH`] blocks are replaced by blocks with the same transactions.
    Reorg,
    /// The engine (the enclave app) is killed and, after the window, started again: a new key,
    /// registered; its state rebuilt from the chain.
    AppRestart,
    /// The relayer account's ETH is set to zero for the window, then given back.
    RelayerDrained,
}

impl Kind {
    /// Every fault, in the order a run injects them.
    pub(crate) const ALL: [Kind; 11] = [
        Kind::Stall,
        Kind::HttpErrors,
        Kind::RpcErrors,
        Kind::LieLogData,
        Kind::LieLogTopic,
        Kind::LieBlockHash,
        Kind::LieParentHash,
        Kind::ProxyRestart,
        Kind::Reorg,
        Kind::AppRestart,
        Kind::RelayerDrained,
    ];

    /// The name in the report and on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Stall => "rpc-stall",
            Kind::HttpErrors => "rpc-http-errors",
            Kind::RpcErrors => "rpc-jsonrpc-errors",
            Kind::LieLogData => "rpc-lie-log-data",
            Kind::LieLogTopic => "rpc-lie-log-topic",
            Kind::LieBlockHash => "rpc-lie-block-hash",
            Kind::LieParentHash => "rpc-lie-parent-hash",
            Kind::ProxyRestart => "proxy-restart",
            Kind::Reorg => "reorg",
            Kind::AppRestart => "engine-restart",
            Kind::RelayerDrained => "relayer-drained",
        }
    }

    /// The fault named `name`.
    pub(crate) fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The fault box's fault for this kind, if it is one.
    fn box_fault(self, window: Duration) -> Option<faultbox::Fault> {
        let ask_created = Some(ProofMarketplace::AskCreated::SIGNATURE_HASH);
        Some(match self {
            Kind::Stall => faultbox::Fault::Stall(window * 2),
            Kind::HttpErrors => faultbox::Fault::HttpStatus(503),
            Kind::RpcErrors => faultbox::Fault::RpcError,
            Kind::LieLogData => faultbox::Fault::AlterLog {
                event: ask_created,
                change: LogChange::ZeroDataWord(1),
            },
            Kind::LieLogTopic => faultbox::Fault::AlterLog {
                event: ask_created,
                change: LogChange::BumpTopic(1),
            },
            Kind::LieBlockHash => faultbox::Fault::WrongBlockHash,
            Kind::LieParentHash => faultbox::Fault::WrongParentHash,
            Kind::ProxyRestart | Kind::Reorg | Kind::AppRestart | Kind::RelayerDrained => {
                return None;
            }
        })
    }
}

/// What the faults act on: the scenario (a load runs beside it on a clone of its target) and
/// the fault box in front of its chain.
pub(crate) struct Subject<'a> {
    pub(crate) scenario: &'a mut Scenario,
    pub(crate) fault_box: &'a FaultBox,
    /// Restarts so far (numbers the logs of the processes they replaced).
    pub(crate) restarts: u32,
}

/// The engine's `/status` through the proxy, `Null` when it does not answer.
pub(crate) fn engine_status(api: u16) -> Value {
    enclave::status(api).unwrap_or(Value::Null)
}

/// Injects `kind` for `window` and ends it; what it did, as JSON.
///
/// # Errors
/// When the fault cannot be injected or ended (a process does not start again, the chain
/// refuses the reorg or a balance).
pub(crate) async fn inject(t: &mut Subject<'_>, kind: Kind, window: Duration) -> Result<Value> {
    let s = &*t.scenario;
    if let Some(fault) = kind.box_fault(window) {
        let before = t.fault_box.counters();
        t.fault_box.inject(fault, window);
        tokio::time::sleep(window).await;
        // The engine's view at the end of the fault, before it recovers.
        let status = engine_status(s.ports.api);
        let after = t.fault_box.counters();
        return Ok(json!({
            "box": {
                "requests": after.requests - before.requests,
                "faulted": after.faulted - before.faulted,
                "altered_logs": after.altered_logs - before.altered_logs,
                "altered_blocks": after.altered_blocks - before.altered_blocks,
            },
            "engine_last_error": status["engine"]["last_error"],
        }));
    }
    match kind {
        Kind::ProxyRestart => restart_proxy(t, window).await,
        Kind::AppRestart => restart_app(t, window).await,
        Kind::Reorg => {
            let done = reorg(&s.provider, REORG_DEPTH).await?;
            tokio::time::sleep(window).await;
            Ok(done)
        }
        Kind::RelayerDrained => drain_relayer(s, window).await,
        _ => Err(Error::Check(format!("{} has no injection", kind.name()))),
    }
}

fn kill_now(pid: Option<u32>, what: &str) -> Result<u32> {
    let pid = pid.ok_or_else(|| Error::Check(format!("no running {what} to kill")))?;
    let raw = i32::try_from(pid).map_err(|_| Error::Check(format!("{what} pid {pid}")))?;
    kill(Pid::from_raw(raw), Signal::SIGKILL).map_err(|e| Error::Process {
        what: format!("killing {what} (pid {pid})"),
        source: std::io::Error::from(e),
    })?;
    Ok(pid)
}

/// Moves `RUN/NAME.log` aside to `RUN/NAME.N.log` before a process of that name starts again.
fn keep_log(run: &Path, name: &str, n: u32) {
    let _ = std::fs::rename(
        run.join(format!("{name}.log")),
        run.join(format!("{name}.{n}.log")),
    );
}

async fn restart_proxy(t: &mut Subject<'_>, window: Duration) -> Result<Value> {
    let killed = kill_now(t.scenario.proxy_pid(), "host-proxy")?;
    tokio::time::sleep(window).await;
    t.restarts += 1;
    keep_log(&t.scenario.opts.paths.run_dir, "host-proxy", t.restarts);
    let started = Instant::now();
    let upstream = t.scenario.proxy_upstream();
    t.scenario.restart_proxy(upstream).await?;
    Ok(json!({
        "killed_pid": killed,
        "down_s": window.as_secs(),
        "started_pid": t.scenario.proxy_pid(),
        "start_s": started.elapsed().as_secs_f64(),
        "log_before": format!("host-proxy.{}.log", t.restarts),
    }))
}

/// The scenario engine's configuration (`RUN/enclave-app.json`, written when it started).
pub(crate) fn engine_config(run: &Path) -> Result<Value> {
    let path = run.join("enclave-app.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::file(&path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Check(format!("{}: {e}", path.display())))
}

async fn restart_app(t: &mut Subject<'_>, window: Duration) -> Result<Value> {
    let killed = kill_now(t.scenario.app_pid(), "enclave-app")?;
    tokio::time::sleep(window).await;
    // A new identity, registered like the first (its attestation verified on chain), on a
    // chain whose clock has reached the document's (the registry refuses documents from the
    // future). anvil's clock falls behind the wall clock while it mines slower than one block
    // a second (its CPU is the load's limit): set it right, as a chain's clock would be.
    let provider = t.scenario.provider.clone();
    let clock_set_forward_s = clock_to_wall(&provider).await?;
    wait_for(10, "the chain's clock at the wall clock", "", || async {
        let (_, stamped) = crate::chain::head(&provider).await.ok()?;
        (stamped >= crate::out::now_s()).then_some(())
    })
    .await?;
    t.restarts += 1;
    keep_log(&t.scenario.opts.paths.run_dir, "enclave-app", t.restarts);
    let started = Instant::now();
    t.scenario.restart_app().await?;
    Ok(json!({
        "killed_pid": killed,
        "down_s": window.as_secs(),
        "clock_set_forward_s": clock_set_forward_s,
        "started_pid": t.scenario.app_pid(),
        "new_engine_key": t.scenario.engine_key.to_string(),
        "start_and_register_s": started.elapsed().as_secs_f64(),
        "log_before": format!("enclave-app.{}.log", t.restarts),
    }))
}

async fn raw_request<P: RpcSend, T: RpcRecv>(
    p: &DynProvider,
    method: &'static str,
    params: P,
) -> Result<T> {
    p.raw_request(method.into(), params)
        .await
        .map_err(|e| Error::rpc(method, e))
}

/// Replaces the last `depth` blocks with new ones holding the same transactions in the same
/// blocks (`anvil_reorg` with the raw transactions), interval mining paused meanwhile: the
/// hashes change, nothing is lost, every sender's nonce stays right.
async fn reorg(p: &DynProvider, depth: u64) -> Result<Value> {
    let () = raw_request(p, "evm_setIntervalMining", (0,)).await?;
    let done = async {
        let head = p
            .get_block_number()
            .await
            .map_err(|e| Error::rpc("eth_blockNumber", e))?;
        let first = head + 1 - depth;
        let mut txs: Vec<(Bytes, u64)> = Vec::new();
        let mut hashes: Vec<B256> = Vec::new();
        let old_head = block_hash(p, head).await?;
        for number in first..=head {
            let block = p
                .get_block_by_number(number.into())
                .await
                .map_err(|e| Error::rpc("eth_getBlockByNumber", e))?
                .ok_or_else(|| Error::rpc("eth_getBlockByNumber", format!("no block {number}")))?;
            for hash in block.transactions.hashes() {
                let raw: Bytes = raw_request(p, "eth_getRawTransactionByHash", (hash,)).await?;
                txs.push((raw, number - first));
                hashes.push(hash);
            }
        }
        let () = raw_request(p, "anvil_reorg", (depth, txs.clone())).await?;
        let new_head = block_hash(p, head).await?;
        ensure(new_head != old_head, || {
            format!("anvil_reorg left block {head} as it was")
        })?;
        // anvil stamps the new blocks with the old head's time and keeps its clock that far
        // behind: set it right again, as a chain's clock would be.
        let clock_set_forward_s = clock_to_wall(p).await?;
        for hash in &hashes {
            let mined = p
                .get_transaction_receipt(*hash)
                .await
                .map_err(|e| Error::rpc("eth_getTransactionReceipt", e))?;
            ensure(mined.is_some(), || {
                format!("transaction {hash} was not mined again after the reorg")
            })?;
        }
        Ok::<Value, Error>(json!({
            "blocks": [first, head],
            "old_head_hash": old_head.to_string(),
            "new_head_hash": new_head.to_string(),
            "transactions_reincluded": hashes.len(),
            "clock_set_forward_s": clock_set_forward_s,
        }))
    }
    .await;
    // Mining resumes whatever happened.
    let resumed: Result<()> = raw_request(p, "evm_setIntervalMining", (1,)).await;
    let done = done?;
    resumed?;
    Ok(done)
}

/// When the head's time is behind the wall clock, stamps the next block one second past the
/// wall clock; returns how far the clock is set forward (0: it was not behind).
async fn clock_to_wall(p: &DynProvider) -> Result<u64> {
    let (_, stamped) = crate::chain::head(p).await?;
    let wall = crate::out::now_s();
    if stamped >= wall {
        return Ok(0);
    }
    let () = raw_request(p, "evm_setNextBlockTimestamp", (wall + 1,)).await?;
    Ok(wall + 1 - stamped)
}

async fn block_hash(p: &DynProvider, number: u64) -> Result<B256> {
    Ok(p.get_block_by_number(number.into())
        .await
        .map_err(|e| Error::rpc("eth_getBlockByNumber", e))?
        .ok_or_else(|| Error::rpc("eth_getBlockByNumber", format!("no block {number}")))?
        .header
        .hash)
}

/// Sets the relayer's ETH to zero for `window` and gives it back; reports what the engine
/// said meanwhile.
async fn drain_relayer(s: &Scenario, window: Duration) -> Result<Value> {
    let status = engine_status(s.ports.api);
    let relayer: Address = status["chain"]["relayer"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| Error::Check("the engine's /status names no relayer".into()))?;
    let p = &s.provider;
    let balance = p
        .get_balance(relayer)
        .await
        .map_err(|e| Error::rpc("eth_getBalance", e))?;
    let () = raw_request(p, "anvil_setBalance", (relayer, U256::ZERO)).await?;
    let sent_before = status["engine"]["batches_sent"].as_u64();
    tokio::time::sleep(window).await;
    let during = engine_status(s.ports.api);
    let restored: Result<()> = raw_request(p, "anvil_setBalance", (relayer, balance)).await;
    restored?;
    Ok(json!({
        "relayer": relayer.to_string(),
        "balance_restored": balance.to_string(),
        "batches_sent_during": during["engine"]["batches_sent"]
            .as_u64()
            .zip(sent_before)
            .map(|(a, b)| a.saturating_sub(b)),
        "engine_last_error": during["engine"]["last_error"],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_has_one_name_and_the_rpc_faults_a_box_fault() {
        let names: std::collections::BTreeSet<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), Kind::ALL.len());
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.name()), Some(k));
            let in_box = k.box_fault(Duration::from_secs(1)).is_some();
            assert_eq!(in_box, k.name().starts_with("rpc-"), "{}", k.name());
        }
        assert_eq!(Kind::parse("nope"), None);
        // A stall holds answers past the fault's end, so the box releases them when it ends.
        assert_eq!(
            Kind::Stall.box_fault(Duration::from_secs(10)),
            Some(faultbox::Fault::Stall(Duration::from_secs(20)))
        );
    }
}

//! A lying RPC against the engine, on a real anvil with the dev NSM (run by `ci/engine-e2e`):
//! the enclave app reads the chain through a fault box (`testkit::faultbox`) that alters what
//! the node says, for a few seconds at a time, while asks are created. Each lie is one an RPC
//! operator (or whoever sits between the enclave's TLS and the node) can tell at no cost:
//!
//! - one log's data: an `AskCreated` whose `expiry` word reads 0, so an engine that believed it
//!   would close the ask at once and never assign it (the ask is lost);
//! - one log's topic: an `AskCreated` under the next ask id, so an engine that believed it
//!   would not know the real ask and would sign for one that does not exist;
//! - the newest block's hash, or its parent hash, in `eth_getBlockByNumber`.
//!
//! The engine must act on none of them: each ask is assigned exactly once, after the lie ends,
//! and nothing the lie said stays in its state (it equals the state of an engine that never
//! heard the lie, started afterwards from the same chain).

mod common;

use std::time::{Duration, Instant};

use alloy::sol_types::SolEvent as _;
use common::*;
use serde_json::{Value, json};
use testkit::contracts::ProofMarketplace;
use testkit::faultbox::{Fault, FaultBox, LogChange};

/// How long each lie is told.
const LIE: Duration = Duration::from_secs(4);

/// The app reading the chain through `rpc`.
fn through(rpc: &str) -> Value {
    json!({"engine": {"rpc": {"url": rpc}}})
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/engine-e2e"]
async fn lies_of_the_rpc_are_never_acted_on() {
    let dir = tempfile::tempdir().unwrap();
    let anvil = start_anvil();
    let world = setup(dir.path(), &anvil).await;
    let fault_box = FaultBox::start(([127, 0, 0, 1], anvil.port).into()).unwrap();
    let app = App::start_with(dir.path(), 1, &world, through(&fault_box.url()));
    world.register_engine(&app).await;
    app.wait_for(
        |s| s["engine"]["key_live"] == true,
        "the engine key to be live",
    );

    let ask_created = ProofMarketplace::AskCreated::SIGNATURE_HASH;
    let lies = [
        (
            "AskCreated.expiry read as 0",
            Fault::AlterLog {
                event: Some(ask_created),
                change: LogChange::ZeroDataWord(1),
            },
        ),
        (
            "AskCreated under the next ask id",
            Fault::AlterLog {
                event: Some(ask_created),
                change: LogChange::BumpTopic(1),
            },
        ),
        ("a wrong block hash", Fault::WrongBlockHash),
        ("a wrong parent hash", Fault::WrongParentHash),
    ];
    let mut asks = Vec::new();
    for (seed, (what, lie)) in (1_u64..).zip(lies) {
        let told = fault_box.counters();
        fault_box.inject(lie, LIE);
        let (ask, _) = world.ask(1, 70, seed).await;
        // The ask's block is read (and lied about) while the lie lasts.
        let start = Instant::now();
        while fault_box.current().is_some() {
            assert!(start.elapsed() < LIE * 2, "the fault box's lie did not end");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let now = fault_box.counters();
        assert!(
            now.altered_logs + now.altered_blocks > told.altered_logs + told.altered_blocks,
            "{what}: the lie was never told ({now:?})"
        );
        world.wait_assigned(&[(ask, 1)], &app).await;
        asks.push(ask);
        eprintln!("{what}: ask {ask} assigned after the lie ended ({now:?})");
    }

    // Every slot accepted exactly once, and only the asks of the chain.
    let (accepted, _) = world.accepted().await;
    for ask in &asks {
        assert_eq!(
            accepted.get(&(*ask, 0)),
            Some(&1),
            "ask {ask}: {accepted:?}"
        );
    }
    assert_eq!(accepted.len(), asks.len(), "{accepted:?}");
    let status = app.status();
    assert_eq!(status["engine"]["rejected_events"], 0, "{status}");
    assert!(
        status["engine"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("inconsistent")),
        "the lies are reported as inconsistent chain data: {status}"
    );

    // Nothing of the lies stayed: the engine's state equals a fresh engine's, started now from
    // the same chain without a fault box.
    // (Its key is not registered: it never relays.)
    let fresh = App::start(dir.path(), 2, &world);
    let (ours, theirs) = same_block_digests(&app, &fresh);
    assert_eq!(
        ours, theirs,
        "the engine's state differs from a fresh replay"
    );
}

/// `(digest, digest)` of the two engines' states at the same block (waits until both report
/// one block; the chain is idle, so they meet).
fn same_block_digests(a: &App, b: &App) -> (Value, Value) {
    let start = Instant::now();
    loop {
        let (x, y) = (a.status(), b.status());
        let (sx, sy) = (&x["engine"]["state"], &y["engine"]["state"]);
        if sx["block"].is_u64() && sx["block"] == sy["block"] {
            return (sx.clone(), sy.clone());
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the engines never reported the same block: {sx} {sy}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

//! Three replicas of one engine on a real anvil with the dev NSM (run by `ci/engine-e2e`): the
//! first generates the engine identity and registers it, the others receive it from a running
//! replica through the attested hand-off (`identity: {"source": "peer"}`), and all three follow
//! the chain and relay byte-identical batches in turn order (`engine.replica`), each with its
//! own relayer account. Asks keep arriving while one replica, then a second, is killed: every
//! slot is still accepted exactly once; the first replica, restarted, takes the identity back
//! from the survivor without a new registration. The gas spent on duplicate batches (copies
//! whose every entry came back `SlotNotOpen`) is printed per ask and bounded.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolEvent;
use common::*;
use marketplace_bindings::IEnclaveRegistry;
use serde_json::{Value, json};
use testkit::contracts::ProofMarketplace;

/// anvil's accounts 1, 7 and 8: one relayer per replica (one account's nonce cannot be shared
/// by processes that send independently).
const RELAYERS: [&str; 3] = [
    RELAYER_KEY,
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
];
const REPLICAS: u64 = 3;
/// More than `confirmations` (0 here) plus the block a batch needs to be mined.
const GRACE_BLOCKS: u64 = 3;
/// Largest gas spent on duplicate batches per ask that the run accepts: fewer than one duplicate
/// per two asks (a duplicate batch of one entry costs about 49 k gas; only a takeover racing a
/// batch still in the mempool, or a restart, makes one).
const MAX_DUPLICATE_GAS_PER_ASK: u64 = 20_000;

/// Replica `index`'s configuration: its turn, its relayer, and where its identity comes from.
fn replica(index: u64, peers: &[&App]) -> Value {
    let identity = if peers.is_empty() {
        json!({"source": "generate"})
    } else {
        let peers: Vec<String> = peers
            .iter()
            .map(|p| format!("unix:{}", p.http.display()))
            .collect();
        json!({"source": "peer", "peers": peers})
    };
    json!({
        "identity": identity,
        "engine": {
            "replica": {"index": index, "count": REPLICAS, "grace_blocks": GRACE_BLOCKS},
        },
    })
}

fn start(dir: &Path, run: u32, index: u64, world: &World, peers: &[&App]) -> App {
    App::start_as(
        dir,
        run,
        world,
        replica(index, peers),
        RELAYERS[usize::try_from(index).unwrap()],
    )
}

fn engine_key(app: &App) -> Address {
    app.status()["engine_key"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Mines a block every second, and only then (as a real chain does: blocks keep coming when no
/// ask arrives, so that a replica's turn can pass, and a burst of asks does not make a burst of
/// blocks that runs through the grace before a batch can be mined).
async fn mine_every_second(world: &World) {
    world.automine(false).await;
    let _: Value = world
        .provider
        .raw_request("evm_setIntervalMining".into(), (1,))
        .await
        .unwrap();
}

/// Creates `n` asks, one block apart: the first of `first` slots, the others of one (the three
/// generators hold 8 assignments each, the cheapest fill first, and nobody proves here).
async fn asks(world: &World, n: u64, first: u8, seed: u64) -> Vec<(U256, u8)> {
    let mut out = Vec::new();
    for i in 0..n {
        let k = if i == 0 { first } else { 1 };
        out.push((world.ask(k, 60, seed + i).await.0, k));
    }
    out
}

async fn registrations(world: &World) -> usize {
    world
        .events(
            world.registry,
            IEnclaveRegistry::EnclaveKeyRegistered::SIGNATURE_HASH,
        )
        .await
        .len()
}

/// Gas used by batch transactions whose every marketplace entry was skipped as `SlotNotOpen`,
/// and how many there were.
async fn duplicate_batches(world: &World) -> (u64, u64) {
    let skips = world
        .events(
            world.marketplace,
            ProofMarketplace::AssignmentSkipped::SIGNATURE_HASH,
        )
        .await;
    let txs: BTreeSet<B256> = skips.iter().filter_map(|l| l.transaction_hash).collect();
    let (mut count, mut gas) = (0, 0);
    for tx in txs {
        let receipt = world
            .provider
            .get_transaction_receipt(tx)
            .await
            .unwrap()
            .unwrap();
        let mut accepted = 0;
        let mut not_open = 0;
        for log in receipt.inner.logs() {
            if log.address() != world.marketplace {
                continue;
            }
            if let Ok(e) = ProofMarketplace::AssignmentSkipped::decode_log_data(log.data()) {
                if e.reason == ProofMarketplace::SkipReason::SlotNotOpen {
                    not_open += 1;
                }
            } else if ProofMarketplace::AssignmentAccepted::decode_log_data(log.data()).is_ok() {
                accepted += 1;
            }
        }
        if accepted == 0 && not_open > 0 {
            count += 1;
            gas += receipt.gas_used;
        }
    }
    (count, gas)
}

/// Every slot of `all` accepted exactly once (and nothing else accepted).
async fn accepted_once(world: &World, all: &[(U256, u8)]) {
    let (accepted, _) = world.accepted().await;
    let expected: u32 = all.iter().map(|(_, k)| u32::from(*k)).sum();
    assert_eq!(accepted.values().sum::<u32>(), expected, "{accepted:?}");
    for (ask, k) in all {
        for s in 0..*k {
            assert_eq!(accepted.get(&(*ask, s)), Some(&1), "ask {ask} slot {s}");
        }
    }
}

fn batches(app: &App) -> Value {
    app.status()["engine"]["batches"].clone()
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/engine-e2e"]
async fn three_replicas_share_one_identity_and_lose_no_ask_when_two_die() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let anvil = start_anvil();
    let world = setup(dir, &anvil).await;

    // The first replica generates the identity; it is registered once.
    let first = start(dir, 0, 0, &world, &[]);
    world.register_engine(&first).await;
    let key = engine_key(&first);
    let live = |s: &Value| s["engine"]["key_live"] == true;
    first.wait_for(live, "the first replica's key to be live");
    // The others receive it from the first.
    let second = start(dir, 1, 1, &world, &[&first]);
    let third = start(dir, 2, 2, &world, &[&first]);
    for app in [&second, &third] {
        assert_eq!(engine_key(app), key, "the same identity");
        assert_eq!(app.status()["identity"]["source"], "peer");
        assert_eq!(
            app.status()["bid_public_key"],
            first.status()["bid_public_key"]
        );
        app.wait_for(live, "a replica's key to be live");
    }
    assert_eq!(registrations(&world).await, 1);

    mine_every_second(&world).await;
    let mut all = Vec::new();

    // All three up: each owns its blocks' batches.
    let batch = asks(&world, 5, 2, 100).await;
    world.wait_assigned(&batch, &third).await;
    all.extend(batch);
    let owners: Vec<u64> = [&first, &second, &third]
        .iter()
        .map(|a| batches(a)["sent_as_owner"].as_u64().unwrap())
        .collect();
    assert!(
        owners.iter().filter(|n| **n > 0).count() >= 2,
        "batches spread over the owners: {owners:?}"
    );

    // One replica dies (the one that generated the identity): its blocks are taken over.
    drop(first);
    let batch = asks(&world, 5, 2, 200).await;
    world.wait_assigned(&batch, &third).await;
    all.extend(batch);

    // A second dies: the last one sends everything, after the others' turns pass.
    drop(second);
    let batch = asks(&world, 5, 2, 300).await;
    world.wait_assigned(&batch, &third).await;
    all.extend(batch);
    let takeovers = batches(&third)["sent_as_takeover"].as_u64().unwrap();
    assert!(takeovers > 0, "the survivor took over: {}", batches(&third));

    // The first, restarted, takes the identity from the survivor: no new registration.
    let first = start(dir, 3, 0, &world, &[&third]);
    assert_eq!(engine_key(&first), key);
    assert_eq!(
        first.status()["identity"],
        json!({"source": "peer", "peer": format!("unix:{}", third.http.display())})
    );
    first.wait_for(live, "the restarted replica's key to be live");
    let batch = asks(&world, 3, 1, 400).await;
    world.wait_assigned(&batch, &first).await;
    all.extend(batch);
    assert_eq!(registrations(&world).await, 1, "registered once");

    // Each slot accepted once; every replica's engine agrees that nothing is pending.
    accepted_once(&world, &all).await;
    let head = world.provider.get_block_number().await.unwrap();
    for app in [&first, &third] {
        app.wait_for(
            |s| {
                s["engine"]["synced_block"].as_u64() >= Some(head)
                    && s["engine"]["pending_assignments"] == 0
            },
            "a replica to see every assignment land",
        );
    }

    let (count, gas) = duplicate_batches(&world).await;
    let per_ask = gas / all.len() as u64;
    // The one line of this test that ci/engine-e2e shows (`--show-output`).
    #[allow(clippy::print_stdout)]
    {
        println!(
            "duplicate batches: {count}, {gas} gas over {} asks: {per_ask} gas per ask \
             (survivor {}, restarted {})",
            all.len(),
            batches(&third),
            batches(&first)
        );
    }
    assert!(
        per_ask <= MAX_DUPLICATE_GAS_PER_ASK,
        "duplicates cost {per_ask} gas per ask"
    );
}

//! A relayed batch that the node drops before it is mined, on a real anvil with the dev NSM (run
//! by `ci/engine-e2e`): the relayer account runs out of ETH while the batch waits in the pool,
//! and anvil drops it at the next block. Once the account is refunded, the engine must send the
//! assignments again at once, not only after the batch's `validUntil` (five minutes here): a
//! relayer that ran dry, or a node that evicted or restarted, would otherwise hold its asks back
//! that long.

mod common;

use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use common::*;
use serde_json::Value;

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/engine-e2e"]
async fn a_batch_the_node_dropped_is_sent_again_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let anvil = start_anvil();
    let world = setup(dir.path(), &anvil).await;
    let app = world.live_engine(dir.path(), 1).await;
    let relayer: Address = app.status()["chain"]["relayer"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // Blocks only when the test mines them: the batch waits in the pool.
    world.automine(false).await;
    let (params, _) = world.ask_params(world.requester, 1, 1, 70, 1).await;
    let pending = world
        .market()
        .createAsk(params)
        .from(world.requester)
        .send()
        .await
        .unwrap();
    world.mine().await;
    let receipt = pending.get_receipt().await.unwrap();
    let ask = ask_id(&receipt, world.marketplace);
    let sent = app.wait_for(
        |s| s["engine"]["batches"]["sent_as_owner"].as_u64() >= Some(1),
        "the engine to relay the ask's batch",
    );
    assert_eq!(sent["engine"]["batches"]["landed"], 0, "{sent}");

    // The relayer runs dry: anvil drops the batch at the next block.
    let balance = world.provider.get_balance(relayer).await.unwrap();
    set_balance(&world, relayer, U256::ZERO).await;
    world.mine().await;
    let pool: Value = world
        .provider
        .raw_request("txpool_status".into(), ())
        .await
        .unwrap();
    assert_eq!(pool["pending"], "0x0", "the batch left the pool: {pool}");

    // Refunded: the assignment is sent again and lands well before the batch's validUntil.
    set_balance(&world, relayer, balance).await;
    world.automine(true).await;
    world.mine().await;
    let start = Instant::now();
    world.wait_assigned(&[(ask, 1)], &app).await;
    let took = start.elapsed();
    assert!(took < Duration::from_secs(30), "assigned after {took:?}");
    let status = app.status();
    assert!(
        status["engine"]["batches"]["dropped"].as_u64() >= Some(1),
        "{status}"
    );
    let (accepted, _) = world.accepted().await;
    assert_eq!(accepted.get(&(ask, 0)), Some(&1), "{accepted:?}");
}

async fn set_balance(world: &World, account: Address, balance: U256) {
    let () = world
        .provider
        .raw_request("anvil_setBalance".into(), (account, balance))
        .await
        .unwrap();
}

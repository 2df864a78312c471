//! The clients' provider against a real anvil: a send that fails after its nonce was chosen
//! leaves no gap, and concurrent sends of one account through a `SendQueue` all land.

use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolValue;
use market_client::chain::{self, SendQueue};
use market_client::error::Error;
use testkit::Anvil;
use testkit::contracts::{IERC20, TestToken};

/// anvil's first two funded accounts.
const DEPLOYER: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const SENDER: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// Longer than anvil (automine) takes to mine a transaction; a transaction held behind a nonce
/// gap never is.
const LANDS_WITHIN: Duration = Duration::from_secs(20);

/// anvil, and a token deployed on it (the sender holds none).
async fn token() -> (Anvil, Address) {
    let anvil = Anvil::start(31337, &["--hardfork", "cancun"]);
    let deployer: PrivateKeySigner = DEPLOYER.parse().unwrap();
    let p = ProviderBuilder::new()
        .wallet(alloy::network::EthereumWallet::from(deployer))
        .connect_http(anvil.url.parse().unwrap())
        .erased();
    let token = testkit::contracts::create(
        &p,
        "TestToken",
        &testkit::artifact("TestToken"),
        &("Test", "TST").abi_encode_params(),
    )
    .await;
    (anvil, token)
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/clients-test"]
async fn a_send_that_reverts_at_estimation_leaves_no_nonce_gap() {
    let (anvil, token) = token().await;
    let sender: PrivateKeySigner = SENDER.parse().unwrap();
    let me = sender.address();
    let p = chain::provider(&anvil.url, Some(sender)).unwrap();
    let (t, erc20) = (TestToken::new(token, &p), IERC20::new(token, &p));
    let mint = || chain::send("mint", t.mint(me, U256::from(5)).from(me));
    // A first transaction: a nonce count kept in the client would now be known, so the next
    // nonce is chosen at once, while the gas is estimated.
    assert!(mint().await.expect("the first mint").status());
    // The sender holds 5 tokens: a transfer of 6 reverts when its gas is estimated, after its
    // nonce was chosen.
    let failed = chain::send(
        "transfer",
        erc20
            .transfer(Address::repeat_byte(1), U256::from(6))
            .from(me),
    )
    .await;
    assert!(matches!(failed, Err(Error::Reverted { .. })), "{failed:?}");
    // A cached count would give the next transaction nonce 2 on an account at 1: the node would
    // queue it behind the missing 1 for ever.
    let landed = tokio::time::timeout(LANDS_WITHIN, mint())
        .await
        .expect("the next transaction lands: no nonce gap")
        .expect("the second mint succeeds");
    assert_eq!(
        (
            landed.status(),
            p.get_transaction_count(me).await.unwrap(),
            erc20.balanceOf(me).call().await.unwrap()
        ),
        (true, 2, U256::from(10))
    );
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/clients-test"]
async fn concurrent_sends_through_one_queue_all_land_once() {
    const SENDS: u64 = 24;
    let (anvil, token) = token().await;
    let sender: PrivateKeySigner = SENDER.parse().unwrap();
    let me = sender.address();
    let p = chain::provider(&anvil.url, Some(sender)).unwrap();
    let queue = std::sync::Arc::new(SendQueue::default());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..SENDS {
        let (p, queue) = (p.clone(), queue.clone());
        tasks.spawn(async move {
            let t = TestToken::new(token, &p);
            queue
                .send("mint", t.mint(me, U256::from(1u64 << i)).from(me))
                .await
        });
    }
    let mut nonces = std::collections::BTreeSet::new();
    let all = tokio::time::timeout(LANDS_WITHIN, tasks.join_all())
        .await
        .expect("every send lands");
    for receipt in all {
        let receipt = receipt.expect("each mint succeeds");
        let tx = p
            .get_transaction_by_hash(receipt.transaction_hash)
            .await
            .unwrap()
            .expect("the transaction is known");
        nonces.insert(alloy::consensus::Transaction::nonce(&tx));
    }
    // One transaction per send, nonces 0..SENDS, every mint applied once.
    assert_eq!(nonces, (0..SENDS).collect());
    let balance = IERC20::new(token, &p).balanceOf(me).call().await.unwrap();
    assert_eq!(balance, U256::from((1u64 << SENDS) - 1));
}

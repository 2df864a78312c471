//! The marketplace: a payment token, `NativeStaking`, `ProofMarketplace`, a Schnorr/BN254
//! verifier and one order-book market; then the demo's generator, ask, assignment check, proof
//! and payout.

use alloy::primitives::aliases::U96;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::DynProvider;
use alloy::sol_types::{SolCall, SolEvent, SolValue};
use testkit::contracts::{IERC20, NativeStaking, ProofMarketplace, TestToken};

use crate::chain::{self, keys};
use crate::error::{Error, Result, ensure};

/// One whole token (18 decimals).
pub(crate) fn whole(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

/// `value` as the contracts' `uint96`.
fn u96(value: U256, what: &str) -> Result<U96> {
    u128::try_from(value)
        .ok()
        .and_then(|v| U96::try_from(v).ok())
        .ok_or_else(|| Error::Check(format!("{what} {value} exceeds 96 bits")))
}

/// What [`deploy`] created.
#[derive(Clone, Debug)]
pub(crate) struct Market {
    /// The payment token (open mint: test only).
    pub(crate) token: Address,
    /// `NativeStaking`.
    pub(crate) staking: Address,
    /// `ProofMarketplace`.
    pub(crate) marketplace: Address,
    /// The block that created the marketplace (the engine reads from there).
    pub(crate) marketplace_block: u64,
    /// `SchnorrBn254Verifier`.
    pub(crate) verifier: Address,
    /// The market's id.
    pub(crate) id: U256,
    /// The block that created the market.
    pub(crate) market_block: u64,
}

/// The token's name and symbol, the engine family, the slashing penalty.
#[derive(Clone, Debug)]
pub(crate) struct MarketSpec<'a> {
    pub(crate) token_name: &'a str,
    pub(crate) token_symbol: &'a str,
    pub(crate) family: &'a str,
    pub(crate) penalty: U256,
}

/// Deploys the marketplace contracts against `registry` and creates one order-book market.
pub(crate) async fn deploy(
    p: &DynProvider,
    registry: Address,
    spec: &MarketSpec<'_>,
) -> Result<Market> {
    let deployer = chain::address(keys::DEPLOYER)?;
    let token = chain::create(
        p,
        "TestToken",
        &(spec.token_name, spec.token_symbol).abi_encode_params(),
    )
    .await?;
    let staking = chain::create(
        p,
        "NativeStaking",
        &(token, deployer, 5_000u16).abi_encode_params(),
    )
    .await?;
    let marketplace = chain::create(
        p,
        "ProofMarketplace",
        &(registry, keccak256(spec.family), token, staking).abi_encode_params(),
    )
    .await?;
    let (marketplace_block, _) = chain::head(p).await?;
    chain::send(
        "bindMarketplace",
        NativeStaking::new(staking, p).bindMarketplace(marketplace),
    )
    .await?;
    let verifier = chain::create(p, "SchnorrBn254Verifier", &[]).await?;
    let (id, market_block) = create_market(p, marketplace, verifier, spec.penalty).await?;
    Ok(Market {
        token,
        staking,
        marketplace,
        marketplace_block,
        verifier,
        id,
        market_block: market_block.unwrap_or(marketplace_block),
    })
}

/// Creates an order-book market checked by `verifier` with slashing `penalty`; returns its id
/// and the block that created it.
pub(crate) async fn create_market(
    p: &DynProvider,
    marketplace: Address,
    verifier: Address,
    penalty: U256,
) -> Result<(U256, Option<u64>)> {
    let penalty = u96(penalty, "penalty")?;
    let created = chain::send(
        "createMarket",
        ProofMarketplace::new(marketplace, p).createMarket(ProofMarketplace::MarketParams {
            verifier,
            mode: ProofMarketplace::MatchingMode::OrderBook,
            bidWindow: 0,
            slashingPenalty: penalty,
            proverFamily: B256::ZERO,
            activationDelay: 0,
        }),
    )
    .await?;
    let id = ProofMarketplace::new(marketplace, p)
        .marketCount()
        .call()
        .await
        .map_err(|e| Error::rpc("marketCount", e))?;
    Ok((id, created.block_number))
}

/// The demo generator: stake minted and deposited in the market, registered, joined.
pub(crate) async fn join_generator(
    p: &DynProvider,
    m: &Market,
    stake: U256,
    cost: U256,
) -> Result<Address> {
    let generator = chain::address(keys::GENERATOR)?;
    let token = TestToken::new(m.token, p);
    chain::send("mint", token.mint(generator, stake)).await?;
    let erc20 = IERC20::new(m.token, p);
    chain::send("approve", erc20.approve(m.staking, stake).from(generator)).await?;
    chain::send(
        "deposit",
        NativeStaking::new(m.staking, p)
            .deposit(m.id, stake)
            .from(generator),
    )
    .await?;
    let market = ProofMarketplace::new(m.marketplace, p);
    chain::send(
        "registerGenerator",
        market.registerGenerator(4).from(generator),
    )
    .await?;
    let cost = u96(cost, "cost")?;
    chain::send(
        "joinMarket",
        market
            .joinMarket(m.id, cost, 60, Bytes::new())
            .from(generator),
    )
    .await?;
    Ok(generator)
}

/// An ask created by the requester.
#[derive(Clone, Debug)]
pub(crate) struct Ask {
    /// Its id.
    pub(crate) id: U256,
    /// The `createAsk` transaction.
    pub(crate) tx: B256,
    /// The statement (`proverData`).
    pub(crate) statement: Bytes,
    /// The proof the generator will submit.
    pub(crate) proof: Bytes,
}

/// The requester escrows `reward` for a fresh Schnorr statement (the witness is handed to the
/// generator off chain; the chain sees only P and, later, the proof).
pub(crate) async fn ask(p: &DynProvider, m: &Market, reward: U256, seed: u64) -> Result<Ask> {
    let requester = chain::address(keys::REQUESTER)?;
    let sp = testkit::schnorr::statement_and_proof(p, seed).await?;
    let token = TestToken::new(m.token, p);
    chain::send("mint", token.mint(requester, reward)).await?;
    chain::send(
        "approve",
        IERC20::new(m.token, p)
            .approve(m.marketplace, reward)
            .from(requester),
    )
    .await?;
    let (_, now) = chain::head(p).await?;
    let receipt = chain::send(
        "createAsk",
        ProofMarketplace::new(m.marketplace, p)
            .createAsk(ProofMarketplace::AskParams {
                marketId: m.id,
                reward,
                expiry: now + 3600,
                provingTime: 600,
                redundancy: 1,
                refundAddress: requester,
                proverData: sp.statement.clone(),
            })
            .from(requester),
    )
    .await?;
    // AskCreated's first indexed topic is the ask id.
    let id = receipt
        .inner
        .logs()
        .iter()
        .filter(|l| l.address() == m.marketplace)
        .find_map(|l| match l.topics() {
            [sig, ask, ..] if *sig == ProofMarketplace::AskCreated::SIGNATURE_HASH => {
                Some(U256::from_be_bytes(ask.0))
            }
            _ => None,
        })
        .ok_or_else(|| Error::Check("createAsk logged no AskCreated".into()))?;
    Ok(Ask {
        id,
        tx: receipt.transaction_hash,
        statement: sp.statement,
        proof: sp.proof,
    })
}

/// An `AssignmentAccepted` for the ask, and the batch that carried it.
#[derive(Clone, Debug)]
pub(crate) struct Accepted {
    /// The `assignBatch` transaction.
    pub(crate) tx: B256,
    /// Who relayed it.
    pub(crate) relayer: Address,
    /// The assigned generator.
    pub(crate) generator: Address,
    /// The slot.
    pub(crate) slot: u8,
    /// The price.
    pub(crate) price: U256,
    /// The proving deadline.
    pub(crate) deadline: u64,
    /// The batch's EIP-712 digest, as the engine crate computes it (equal to the contract's).
    pub(crate) digest: B256,
    /// Who signed the batch.
    pub(crate) signer: Address,
}

/// Looks for the ask's `AssignmentAccepted` since the marketplace's creation.
pub(crate) async fn find_accepted(
    p: &DynProvider,
    m: &Market,
    ask: U256,
) -> Result<Option<(B256, ProofMarketplace::AssignmentAccepted)>> {
    use alloy::providers::Provider as _;
    let filter = alloy::rpc::types::Filter::new()
        .address(m.marketplace)
        .event_signature(ProofMarketplace::AssignmentAccepted::SIGNATURE_HASH)
        .topic1(B256::from(ask))
        .from_block(m.marketplace_block);
    let logs = p
        .get_logs(&filter)
        .await
        .map_err(|e| Error::rpc("eth_getLogs", e))?;
    let Some(log) = logs.first() else {
        return Ok(None);
    };
    let tx = log
        .transaction_hash
        .ok_or_else(|| Error::Check("AssignmentAccepted log without a transaction".into()))?;
    let event = ProofMarketplace::AssignmentAccepted::decode_log_data(log.data())
        .map_err(|e| Error::Check(format!("AssignmentAccepted does not decode: {e}")))?;
    Ok(Some((tx, event)))
}

/// The accepted assignment and who signed its batch: the relayed calldata decoded, the batch's
/// EIP-712 digest recomputed with the engine crate and compared with the marketplace's own
/// `batchDigest`, the signer recovered from the signature.
pub(crate) async fn check_batch(
    p: &DynProvider,
    m: &Market,
    tx: B256,
    event: &ProofMarketplace::AssignmentAccepted,
) -> Result<Accepted> {
    let (relayer, input) = chain::transaction(p, tx).await?;
    let call = ProofMarketplace::assignBatchCall::abi_decode(&input)
        .map_err(|e| Error::Check(format!("{tx} is not an assignBatch call: {e}")))?;
    let digest = engine_digest(p, m, &call).await?;
    let on_chain = ProofMarketplace::new(m.marketplace, p)
        .batchDigest(call.assignments.clone(), call.validUntil)
        .call()
        .await
        .map_err(|e| Error::rpc("batchDigest", e))?;
    ensure(on_chain == digest, || {
        format!(
            "the engine crate's batch digest {digest} differs from the marketplace's {on_chain}"
        )
    })?;
    let signature = matching_engine::Signature(
        <[u8; 65]>::try_from(call.signature.as_ref()).map_err(|_| {
            Error::Check(format!(
                "the batch signature has {} bytes, not 65",
                call.signature.len()
            ))
        })?,
    );
    let signer = matching_engine::recover(&digest.0, &signature)
        .map_err(|e| Error::Check(format!("the batch signature does not recover: {e}")))?;
    Ok(Accepted {
        tx,
        relayer,
        generator: event.generator,
        slot: event.slot,
        price: event.price,
        deadline: event.deadline,
        digest,
        signer: Address::from(signer.0),
    })
}

/// The batch's digest as the enclave computes it (`matching_engine::AssignmentBatch::digest`).
async fn engine_digest(
    p: &DynProvider,
    m: &Market,
    call: &ProofMarketplace::assignBatchCall,
) -> Result<B256> {
    use alloy::providers::Provider as _;
    let chain_id = p
        .get_chain_id()
        .await
        .map_err(|e| Error::rpc("eth_chainId", e))?;
    let narrow = |what: &str| {
        Error::Check(format!(
            "assignBatch carries a {what} the engine never signs"
        ))
    };
    let mut assignments = Vec::with_capacity(call.assignments.len());
    for a in &call.assignments {
        assignments.push(matching_engine::Assignment {
            ask: u64::try_from(a.askId).map_err(|_| narrow("64-bit+ ask id"))?,
            slot: u8::try_from(a.slot).map_err(|_| narrow("slot above 255"))?,
            generator: matching_engine::Address(a.generator.into_array()),
            price: u128::try_from(a.price).map_err(|_| narrow("128-bit+ price"))?,
        });
    }
    let valid_until = u64::try_from(call.validUntil).map_err(|_| narrow("64-bit+ validity"))?;
    let batch = matching_engine::AssignmentBatch::new(assignments, valid_until)
        .map_err(|e| Error::Check(format!("assignBatch: {e}")))?;
    let domain = matching_engine::Domain {
        chain_id,
        verifying_contract: matching_engine::Address(m.marketplace.into_array()),
    };
    Ok(B256::from(batch.digest(&domain)))
}

/// The generator proves the statement.
pub(crate) async fn prove(p: &DynProvider, m: &Market, ask: &Ask, slot: u8) -> Result<B256> {
    let generator = chain::address(keys::GENERATOR)?;
    let receipt = chain::send(
        "submitProof",
        ProofMarketplace::new(m.marketplace, p)
            .submitProof(
                ask.id,
                U256::from(slot),
                ask.statement.clone(),
                ask.proof.clone(),
            )
            .from(generator),
    )
    .await?;
    Ok(receipt.transaction_hash)
}

/// The generator withdraws; returns (received, balance after).
pub(crate) async fn withdraw(p: &DynProvider, m: &Market) -> Result<(U256, U256)> {
    let generator = chain::address(keys::GENERATOR)?;
    let token = IERC20::new(m.token, p);
    let balance = || async {
        token
            .balanceOf(generator)
            .call()
            .await
            .map_err(|e| Error::rpc("balanceOf", e))
    };
    let before = balance().await?;
    chain::send(
        "withdraw",
        ProofMarketplace::new(m.marketplace, p)
            .withdraw()
            .from(generator),
    )
    .await?;
    let after = balance().await?;
    Ok((after.saturating_sub(before), after))
}

/// What the requester may withdraw (its change).
pub(crate) async fn withdrawable(p: &DynProvider, m: &Market, who: Address) -> Result<U256> {
    ProofMarketplace::new(m.marketplace, p)
        .withdrawableOf(who)
        .call()
        .await
        .map_err(|e| Error::rpc("withdrawableOf", e))
}

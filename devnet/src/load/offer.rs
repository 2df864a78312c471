//! The load generator: funded requester accounts offer public asks at a fixed rate across the
//! markets. Each account's nonce is kept here; every transaction is signed here and sent with
//! `eth_sendRawTransaction` from its own task, so sends overlap (pipelined) and none waits for
//! a receipt. The ask itself is `market_client`'s (`NewAsk::params`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use alloy::consensus::{SignableTransaction as _, TxEnvelope, TxLegacy};
use alloy::eips::eip2718::Encodable2718 as _;
use alloy::network::TxSignerSync as _;
use alloy::primitives::{Address, Bytes, TxKind, U256};
use alloy::providers::Provider as _;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall as _;
use market_client::ask::NewAsk;
use testkit::contracts::{IERC20, ProofMarketplace};

use super::scenario::{CHAIN_ID, Target, fund};
use crate::error::{Error, Result, ensure};
use crate::marketplace::whole;

/// Sends in flight at once before the pacer waits (a node that stops answering stops the load
/// instead of piling up tasks).
const IN_FLIGHT: usize = 512;
/// Every load transaction's gas price (the chain's base fee is 0).
const GAS_PRICE: u128 = 1_000_000_000;

/// What to offer.
#[derive(Clone, Debug)]
pub(crate) struct LoadOpts {
    /// Asks per second.
    pub(crate) rate: f64,
    /// For how long.
    pub(crate) duration: Duration,
    /// Requester accounts the asks are spread over.
    pub(crate) requesters: usize,
    /// Each ask's reward (token units; generators ask 10–16).
    pub(crate) reward: U256,
}

/// What was offered.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Offered {
    /// Transactions sent and accepted by the node.
    pub(crate) sent: u64,
    /// Sends the node refused (or that failed).
    pub(crate) errors: u64,
    /// The first refusal's text.
    pub(crate) first_error: Option<String>,
    /// Seconds from the first send to the last.
    pub(crate) seconds: f64,
    /// The chain's head when sending began and ended.
    pub(crate) first_block: u64,
    pub(crate) last_block: u64,
    /// The gas limit each `createAsk` was sent with.
    pub(crate) gas_limit: u64,
}

impl Offered {
    /// Asks sent per second.
    pub(crate) fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.sent as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// One requester: its key and next nonce.
struct Requester {
    signer: PrivateKeySigner,
    nonce: u64,
}

/// Funded requesters ready to offer.
pub(crate) struct Load {
    opts: LoadOpts,
    requesters: Vec<Requester>,
    gas_limit: u64,
}

impl Load {
    /// Funds `opts.requesters` fresh accounts (gas, tokens for every ask they will send, the
    /// marketplace approved) and measures one ask's gas.
    pub(crate) async fn prepare(s: &Target, opts: LoadOpts) -> Result<Load> {
        ensure(opts.rate > 0.0 && opts.requesters > 0, || {
            "a load needs a positive rate and at least one requester".into()
        })?;
        let signers: Vec<PrivateKeySigner> = (0..opts.requesters)
            .map(|_| PrivateKeySigner::random())
            .collect();
        let addresses: Vec<Address> = signers.iter().map(PrivateKeySigner::address).collect();
        let per_account =
            (opts.rate * opts.duration.as_secs_f64()).ceil() as u64 / opts.requesters as u64 + 1;
        let tokens = opts.reward * U256::from(per_account) + whole(1);
        fund(&s.provider, s.token, &addresses, |_| tokens).await?;
        let mut approvals = Vec::new();
        for signer in &signers {
            let p = market_client::chain::provider(&s.rpc_url, Some(signer.clone()))
                .map_err(|e| Error::rpc("a requester's provider", e))?;
            let erc20 = IERC20::new(s.token, p);
            approvals.push(
                erc20
                    .approve(s.marketplace, U256::MAX)
                    .send()
                    .await
                    .map_err(|e| Error::rpc("approve", e))?,
            );
        }
        for tx in approvals {
            let receipt = tx
                .get_receipt()
                .await
                .map_err(|e| Error::rpc("approve", e))?;
            ensure(receipt.status(), || "an approval reverted".into())?;
        }
        let mut requesters = Vec::with_capacity(signers.len());
        for signer in signers {
            let nonce = s
                .provider
                .get_transaction_count(signer.address())
                .await
                .map_err(|e| Error::rpc("eth_getTransactionCount", e))?;
            requesters.push(Requester { signer, nonce });
        }
        let gas_limit = ask_gas(s, &opts, requesters[0].signer.address()).await?;
        Ok(Load {
            opts,
            requesters,
            gas_limit,
        })
    }

    /// Offers asks at the rate for the duration: ask `i` is due `i / rate` seconds after the
    /// start, goes to market `i mod M` from requester `i mod N`, with statement `i` of the pool.
    pub(crate) async fn offer(&mut self, s: &Target) -> Result<Offered> {
        let p = s.provider.clone();
        let (first_block, now) = crate::chain::head(&p).await?;
        let total = (self.opts.rate * self.opts.duration.as_secs_f64()).round() as u64;
        let sent = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
        let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let mut tasks = tokio::task::JoinSet::new();
        let started = Instant::now();
        let mut last_send = started;
        for i in 0..total {
            let due = started + Duration::from_secs_f64(i as f64 / self.opts.rate);
            tokio::time::sleep_until(due.into()).await;
            let raw = self.signed_ask(s, i, now)?;
            let permit = slots
                .clone()
                .acquire_owned()
                .await
                .map_err(|e| Error::Check(format!("the send limiter closed: {e}")))?;
            let (p, sent, errors, first_error) =
                (p.clone(), sent.clone(), errors.clone(), first_error.clone());
            tasks.spawn(async move {
                match p.send_raw_transaction(&raw).await {
                    Ok(_) => {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .get_or_insert_with(|| e.to_string());
                    }
                }
                drop(permit);
            });
            last_send = Instant::now();
            while tasks.try_join_next().is_some() {}
        }
        let seconds = last_send.duration_since(started).as_secs_f64();
        while tasks.join_next().await.is_some() {}
        let last_block = crate::chain::head(&p).await?.0;
        let first_error = first_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        Ok(Offered {
            sent: sent.load(Ordering::Relaxed),
            errors: errors.load(Ordering::Relaxed),
            first_error,
            // The span of `total` sends covers `total - 1` intervals.
            seconds: seconds * total as f64 / (total.saturating_sub(1).max(1)) as f64,
            first_block,
            last_block,
            gas_limit: self.gas_limit,
        })
    }

    /// Ask `i`, signed by its requester with the next nonce.
    fn signed_ask(&mut self, s: &Target, i: u64, now: u64) -> Result<Bytes> {
        let n = self.requesters.len() as u64;
        let requester = &mut self.requesters[(i % n) as usize];
        let sender = requester.signer.address();
        let input = create_ask_input(s, &self.opts, i, sender, now);
        let mut tx = TxLegacy {
            chain_id: Some(CHAIN_ID),
            nonce: requester.nonce,
            gas_price: GAS_PRICE,
            gas_limit: self.gas_limit,
            to: TxKind::Call(s.marketplace),
            value: U256::ZERO,
            input,
        };
        let signature = requester
            .signer
            .sign_transaction_sync(&mut tx)
            .map_err(|e| Error::Check(format!("signing an ask: {e}")))?;
        requester.nonce += 1;
        Ok(TxEnvelope::Legacy(tx.into_signed(signature))
            .encoded_2718()
            .into())
    }
}

/// `createAsk` calldata of ask `i`.
fn create_ask_input(s: &Target, opts: &LoadOpts, i: u64, sender: Address, now: u64) -> Bytes {
    let markets = s.markets.len() as u64;
    let ask = NewAsk {
        market_id: s.markets[(i % markets) as usize],
        reward: opts.reward,
        expiry_in: 3_600,
        proving_time: 600,
        redundancy: 1,
        refund_address: None,
        statement: s.pool.statement(i).clone(),
    };
    ProofMarketplace::createAskCall {
        params: ask.params(sender, now),
    }
    .abi_encode()
    .into()
}

/// One ask's gas as the node estimates it, with a fifth more for the asks whose storage writes
/// cost more (a requester's first, a market's first).
async fn ask_gas(s: &Target, opts: &LoadOpts, sender: Address) -> Result<u64> {
    let (_, now) = crate::chain::head(&s.provider).await?;
    let tx = alloy::rpc::types::TransactionRequest::default()
        .from(sender)
        .to(s.marketplace)
        .input(create_ask_input(s, opts, 0, sender, now).into());
    let gas = s
        .provider
        .estimate_gas(tx)
        .await
        .map_err(|e| Error::rpc("eth_estimateGas createAsk", e))?;
    Ok(gas + gas / 5)
}

//! The chain side shared by the binaries: the signing key, a provider, transactions that must
//! succeed, and reverts decoded into the marketplace's named errors.

use std::path::Path;

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use marketplace_bindings::ProofMarketplace::ProofMarketplaceErrors;
use marketplace_bindings::external::IERC20;

use crate::error::{Error, Result};

/// Reads a hex private key (optional `0x`, surrounding whitespace ignored) from `path`.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::Invalid`] when it holds no key.
pub fn read_key_file(path: &Path) -> Result<PrivateKeySigner> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_key(text.trim()).map_err(|_| {
        Error::invalid(
            format!("key file {}", path.display()),
            "not a 32-byte hex private key",
        )
    })
}

/// Parses a hex private key (the text itself is never put in an error).
///
/// # Errors
/// [`Error::Invalid`] when `text` is not a secp256k1 private key.
pub fn parse_key(text: &str) -> Result<PrivateKeySigner> {
    text.trim()
        .parse()
        .map_err(|_| Error::invalid("private key", "not a 32-byte hex private key"))
}

/// A provider over HTTP JSON-RPC at `url`, signing as `signer` when given.
///
/// Each transaction takes its nonce from the node's pending count at the moment it is filled
/// (alloy's `SimpleNonceManager`), never from a count kept here: a send that fails after its
/// nonce was chosen (its estimate reverts, its task is cancelled), or a transaction the node
/// drops (a reorg), leaves no gap that would hold every later transaction of the account in the
/// node's queue. (alloy's default, a cached count, never resynchronises: one such failure
/// stopped a generator's proofs for good.) Tasks that send from one account at once must take
/// turns through one [`SendQueue`], or two may be given the same nonce.
///
/// # Errors
/// [`Error::Invalid`] for a URL that does not parse.
pub fn provider(url: &str, signer: Option<PrivateKeySigner>) -> Result<DynProvider> {
    let parsed = url.parse().map_err(|e| Error::invalid("RPC URL", e))?;
    Ok(match signer {
        Some(signer) => ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .fetch_chain_id()
            .wallet(EthereumWallet::from(signer))
            .connect_http(parsed)
            .erased(),
        None => ProviderBuilder::new().connect_http(parsed).erased(),
    })
}

/// A contract call's failure: the marketplace's or the token's named error where the revert data
/// decodes, else the node's message.
pub fn call_error(what: &str, e: alloy::contract::Error) -> Error {
    if let Some(x) = e.as_decoded_interface_error::<ProofMarketplaceErrors>() {
        return Error::Reverted {
            what: what.into(),
            reason: format!("{x:?}"),
        };
    }
    if let Some(data) = e.as_revert_data() {
        return Error::Reverted {
            what: what.into(),
            reason: format!("revert data {data}"),
        };
    }
    if let alloy::contract::Error::TransportError(t) = &e
        && let Some(resp) = t.as_error_resp()
        && resp.message.contains("revert")
    {
        return Error::Reverted {
            what: what.into(),
            reason: resp.message.to_string(),
        };
    }
    Error::rpc(what, e)
}

/// Sends a contract call and waits for its receipt; fails unless it succeeded. For an account
/// that one task at a time sends from (concurrent senders: [`SendQueue::send`]).
///
/// # Errors
/// [`Error::Reverted`] when the call reverts (at estimation or mined), [`Error::Rpc`] otherwise.
pub async fn send<P: Provider, D: CallDecoder>(
    what: &str,
    call: CallBuilder<P, D>,
) -> Result<TransactionReceipt> {
    let pending = call.send().await.map_err(|e| call_error(what, e))?;
    confirmed(what, pending).await
}

/// The sends of one account, one at a time from filling to broadcast, so that each is filled
/// with the node's pending nonce after the one before reached the node's pool (see
/// [`provider`]). Receipts are awaited outside the turn: transactions of concurrent tasks are
/// in flight together.
#[derive(Debug, Default)]
pub struct SendQueue {
    turn: tokio::sync::Mutex<()>,
}

impl SendQueue {
    /// [`send`], taking its turn for the fill and the broadcast.
    ///
    /// # Errors
    /// As [`send`].
    pub async fn send<P: Provider, D: CallDecoder>(
        &self,
        what: &str,
        call: CallBuilder<P, D>,
    ) -> Result<TransactionReceipt> {
        let pending = {
            let _turn = self.turn.lock().await;
            call.send().await.map_err(|e| call_error(what, e))?
        };
        confirmed(what, pending).await
    }
}

/// The receipt of a broadcast transaction; fails unless it succeeded.
async fn confirmed(
    what: &str,
    pending: alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>,
) -> Result<TransactionReceipt> {
    let receipt = pending
        .get_receipt()
        .await
        .map_err(|e| Error::rpc(what, e))?;
    if !receipt.status() {
        return Err(Error::Reverted {
            what: what.into(),
            reason: format!("transaction {} failed", receipt.transaction_hash),
        });
    }
    Ok(receipt)
}

/// The latest block's number and timestamp.
///
/// # Errors
/// [`Error::Rpc`] when the node does not answer.
pub async fn head(provider: &impl Provider) -> Result<(u64, u64)> {
    let block = provider
        .get_block(alloy::eips::BlockId::latest())
        .await
        .map_err(|e| Error::rpc("eth_getBlockByNumber", e))?
        .ok_or_else(|| Error::rpc("eth_getBlockByNumber", "no latest block"))?;
    Ok((block.header.number, block.header.timestamp))
}

/// Approves `spender` for `amount` of `token` from `owner` unless the allowance already covers it.
///
/// # Errors
/// As [`send`].
pub async fn ensure_allowance(
    provider: &DynProvider,
    token: Address,
    owner: Address,
    spender: Address,
    amount: alloy::primitives::U256,
) -> Result<()> {
    let erc20 = IERC20::new(token, provider);
    let allowance = erc20
        .allowance(owner, spender)
        .call()
        .await
        .map_err(|e| call_error("allowance", e))?;
    if allowance < amount {
        send("approve", erc20.approve(spender, amount).from(owner)).await?;
    }
    Ok(())
}

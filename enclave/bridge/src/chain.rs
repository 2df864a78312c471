//! One chain as the job sees it: read endpoints (all untrusted; the first answers calls, every one
//! must agree on the blocks the job relies on), a sending endpoint with the transaction key, and
//! the checks on what they return.

use std::future::IntoFuture;
use std::time::Duration;

use alloy::consensus::ReceiptEnvelope;
use alloy::consensus::proofs::calculate_receipt_root;
use alloy::contract::{CallBuilder, CallDecoder};
use alloy::eips::{BlockId, BlockNumberOrTag, RpcBlockHash};
use alloy::network::Ethereum;
use alloy::primitives::{Address, B256, Bytes, Log as PrimitiveLog};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log, TransactionReceipt};
use alloy::sol_types::SolInterface;

use crate::error::{ConfigError, DataError, Error, Revert, RpcError};
use marketplace_bindings::external::IVetoSlasher;
use marketplace_bindings::{NetworkMiddleware, SymbioticStakingModule};

/// A block whose header was checked: it hashes to `hash`, has the number asked for, every read
/// endpoint returns the same one, and it is not ahead of the enclave's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedBlock {
    /// Height.
    pub number: u64,
    /// Hash (`keccak256(rlp(header))`, recomputed here).
    pub hash: B256,
    /// Timestamp (s).
    pub timestamp: u64,
    /// Root of the block's receipts (binds its logs to the hash).
    pub receipts_root: B256,
}

impl VerifiedBlock {
    /// The block as an `eth_call` target (by hash, required canonical).
    #[must_use]
    pub fn id(&self) -> BlockId {
        BlockId::Hash(RpcBlockHash {
            block_hash: self.hash,
            require_canonical: Some(true),
        })
    }
}

/// A chain's endpoints.
#[derive(Clone, Debug)]
pub struct Chain {
    name: &'static str,
    chain_id: u64,
    readers: Vec<DynProvider>,
    sender: DynProvider,
    from: Address,
    timeout: Duration,
    max_future_skew: u64,
}

impl Chain {
    /// Checks every endpoint's chain id. `sender` signs transactions as `from` and must read the
    /// account's nonce for each transaction (alloy's simple nonce manager, not the cached one:
    /// another relayer or an earlier run may share the account); `readers` (at least one) answer
    /// reads. Block timestamps more than `max_future_skew` seconds ahead of the
    /// clock are refused.
    ///
    /// # Errors
    /// [`ConfigError::NoEndpoint`], [`RpcError::WrongChain`] or an RPC failure.
    pub async fn connect(
        name: &'static str,
        chain_id: u64,
        readers: Vec<DynProvider>,
        sender: DynProvider,
        from: Address,
        timeout: Duration,
        max_future_skew: u64,
    ) -> Result<Self, Error> {
        if readers.is_empty() {
            return Err(ConfigError::NoEndpoint { chain: name }.into());
        }
        let chain = Chain {
            name,
            chain_id,
            readers,
            sender,
            from,
            timeout,
            max_future_skew,
        };
        for p in chain.readers.iter().chain([&chain.sender]) {
            let actual = chain.timed("eth_chainId", p.get_chain_id()).await?;
            if actual != chain_id {
                return Err(RpcError::WrongChain {
                    chain: name,
                    expected: chain_id,
                    actual,
                }
                .into());
            }
        }
        Ok(chain)
    }

    /// `L1` or `L2`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The chain id.
    #[must_use]
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The endpoint that answers reads.
    #[must_use]
    pub fn reader(&self) -> &DynProvider {
        &self.readers[0]
    }

    /// The endpoint that sends transactions.
    #[must_use]
    pub fn sender(&self) -> &DynProvider {
        &self.sender
    }

    /// Runs a future with the time limit.
    async fn within<T>(
        &self,
        call: &'static str,
        fut: impl IntoFuture<Output = T>,
    ) -> Result<T, Error> {
        tokio::time::timeout(self.timeout, fut.into_future())
            .await
            .map_err(|_| {
                RpcError::Timeout {
                    chain: self.name,
                    call,
                    secs: self.timeout.as_secs(),
                }
                .into()
            })
    }

    /// Runs an RPC future with the time limit, naming a failure.
    pub(crate) async fn timed<T, E: std::fmt::Display>(
        &self,
        call: &'static str,
        fut: impl IntoFuture<Output = Result<T, E>>,
    ) -> Result<T, Error> {
        self.within(call, fut).await?.map_err(|e| {
            RpcError::Call {
                chain: self.name,
                call,
                reason: e.to_string(),
            }
            .into()
        })
    }

    /// Runs a contract call with the time limit, decoding a revert.
    pub(crate) async fn call<T>(
        &self,
        call: &'static str,
        fut: impl IntoFuture<Output = Result<T, alloy::contract::Error>>,
    ) -> Result<T, Error> {
        self.within(call, fut)
            .await?
            .map_err(|e| self.contract_error(call, e))
    }

    fn contract_error(&self, call: &'static str, e: alloy::contract::Error) -> Error {
        match e.as_revert_data() {
            Some(data) => Revert {
                chain: self.name,
                call,
                reason: decode_revert(&data),
            }
            .into(),
            None => RpcError::Call {
                chain: self.name,
                call,
                reason: e.to_string(),
            }
            .into(),
        }
    }

    /// Fails unless `address` holds code.
    ///
    /// # Errors
    /// [`RpcError::NoCode`] or an RPC failure.
    pub async fn require_code(&self, address: Address) -> Result<(), Error> {
        let code = self
            .timed("eth_getCode", self.reader().get_code_at(address))
            .await?;
        if code.is_empty() {
            return Err(RpcError::NoCode {
                chain: self.name,
                address,
            }
            .into());
        }
        Ok(())
    }

    /// The read endpoint's latest block number.
    ///
    /// # Errors
    /// An RPC failure.
    pub async fn head(&self) -> Result<u64, Error> {
        self.timed("eth_blockNumber", self.reader().get_block_number())
            .await
    }

    /// Block `number`, checked on every read endpoint (see [`VerifiedBlock`]); `now` is the
    /// enclave's clock (s).
    ///
    /// # Errors
    /// [`DataError::MissingBlock`], [`DataError::BadHeader`], [`DataError::FutureBlock`],
    /// [`RpcError::Disagreement`] or an RPC failure.
    pub async fn verified_block(&self, number: u64, now: u64) -> Result<VerifiedBlock, Error> {
        let mut first: Option<VerifiedBlock> = None;
        for p in &self.readers {
            let block = self.header_from(p, number).await?;
            if let Some(f) = first {
                if f.hash != block.hash {
                    return Err(RpcError::Disagreement {
                        chain: self.name,
                        number,
                        a: f.hash,
                        b: block.hash,
                    }
                    .into());
                }
            } else {
                first = Some(block);
            }
        }
        let block = first.ok_or(ConfigError::NoEndpoint { chain: self.name })?;
        if block.timestamp > now.saturating_add(self.max_future_skew) {
            return Err(DataError::FutureBlock {
                chain: self.name,
                number,
                timestamp: block.timestamp,
                now,
            }
            .into());
        }
        Ok(block)
    }

    async fn header_from(&self, p: &DynProvider, number: u64) -> Result<VerifiedBlock, Error> {
        let block = self
            .timed(
                "eth_getBlockByNumber",
                p.get_block_by_number(BlockNumberOrTag::Number(number)),
            )
            .await?
            .ok_or(DataError::MissingBlock {
                chain: self.name,
                number,
            })?;
        let header = &block.header;
        let bad = |reason| DataError::BadHeader {
            chain: self.name,
            number,
            reason,
        };
        if header.inner.number != number {
            return Err(bad("another height").into());
        }
        let hash = header.inner.hash_slow();
        if hash != header.hash {
            return Err(bad("fields do not hash to the block hash").into());
        }
        Ok(VerifiedBlock {
            number,
            hash,
            timestamp: header.inner.timestamp,
            receipts_root: header.inner.receipts_root,
        })
    }

    /// Fails if `block` is no longer the block at its height (read endpoint).
    ///
    /// # Errors
    /// [`RpcError::Reorganised`] or an RPC failure.
    pub async fn still_canonical(&self, block: &VerifiedBlock) -> Result<(), Error> {
        let now = self.header_from(self.reader(), block.number).await?;
        if now.hash != block.hash {
            return Err(RpcError::Reorganised {
                chain: self.name,
                number: block.number,
                was: block.hash,
                now: now.hash,
            }
            .into());
        }
        Ok(())
    }

    /// The logs of `block`, from its receipts (read endpoint), checked against the block's
    /// receipts root: an endpoint cannot invent a log without forging the header every endpoint
    /// agreed on.
    ///
    /// # Errors
    /// [`DataError::MissingBlock`], [`DataError::BadHeader`] or an RPC failure.
    pub async fn verified_logs(&self, block: &VerifiedBlock) -> Result<Vec<PrimitiveLog>, Error> {
        let receipts = self
            .timed(
                "eth_getBlockReceipts",
                self.reader()
                    .get_block_receipts(BlockId::Hash(RpcBlockHash {
                        block_hash: block.hash,
                        require_canonical: Some(true),
                    })),
            )
            .await?
            .ok_or(DataError::MissingBlock {
                chain: self.name,
                number: block.number,
            })?;
        let envelopes: Vec<ReceiptEnvelope> = receipts
            .iter()
            .map(|r| r.inner.clone().into_primitives_receipt())
            .collect();
        if calculate_receipt_root(&envelopes) != block.receipts_root {
            return Err(DataError::BadHeader {
                chain: self.name,
                number: block.number,
                reason: "receipts do not hash to the receipts root",
            }
            .into());
        }
        Ok(envelopes
            .into_iter()
            .flat_map(|e| e.logs().to_vec())
            .collect())
    }

    /// Logs of `filter` (a block range no wider than the caller chose).
    ///
    /// # Errors
    /// An RPC failure.
    pub async fn logs(&self, filter: &Filter) -> Result<Vec<Log>, Error> {
        self.timed("eth_getLogs", self.reader().get_logs(filter))
            .await
    }

    /// Simulates `call` from the transaction key (a revert comes back decoded and nothing is
    /// sent), then sends it and waits for a successful receipt.
    ///
    /// # Errors
    /// [`Revert`], [`RpcError::TxFailed`] or an RPC failure.
    pub async fn send<D: CallDecoder + Clone>(
        &self,
        name: &'static str,
        call: CallBuilder<&DynProvider, D, Ethereum>,
    ) -> Result<TransactionReceipt, Error> {
        let call = call.from(self.from);
        self.call(name, call.call_raw()).await?;
        let pending = self.call(name, call.send()).await?;
        let hash = *pending.tx_hash();
        let receipt = self.timed(name, pending.get_receipt()).await?;
        if !receipt.status() {
            return Err(RpcError::TxFailed {
                chain: self.name,
                call: name,
                tx: hash,
            }
            .into());
        }
        Ok(receipt)
    }
}

/// Names a revert from the contracts' interfaces, else shows its raw data.
fn decode_revert(data: &Bytes) -> String {
    if let Ok(e) = SymbioticStakingModule::SymbioticStakingModuleErrors::abi_decode(data) {
        return strip(format!("{e:?}"));
    }
    if let Ok(e) = NetworkMiddleware::NetworkMiddlewareErrors::abi_decode(data) {
        return strip(format!("{e:?}"));
    }
    if let Ok(e) = IVetoSlasher::IVetoSlasherErrors::abi_decode(data) {
        return strip(format!("{e:?}"));
    }
    if data.is_empty() {
        return "no reason".into();
    }
    format!("unknown error {data}")
}

/// `Name(Name { a: 1 })` → `Name { a: 1 }`.
fn strip(debug: String) -> String {
    match debug.split_once('(') {
        Some((_, inner)) if inner.ends_with(')') => inner[..inner.len() - 1].to_owned(),
        _ => debug,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolError;

    #[test]
    fn reverts_are_named() {
        let e = NetworkMiddleware::EnclaveAuthKeyNotLive {
            signer: Address::repeat_byte(1),
            family: B256::repeat_byte(2),
        };
        let reason = decode_revert(&Bytes::from(e.abi_encode()));
        assert!(reason.starts_with("EnclaveAuthKeyNotLive"), "{reason}");
        let r = Revert {
            chain: "L2",
            call: "x",
            reason,
        };
        assert_eq!(r.name(), "EnclaveAuthKeyNotLive");
        let e = NetworkMiddleware::MiddlewareCaptureOutsideWindow {
            captureTimestamp: alloy::primitives::aliases::U48::from(5u8),
            earliest: alloy::primitives::aliases::U48::from(9u8),
        };
        assert!(
            decode_revert(&Bytes::from(e.abi_encode()))
                .starts_with("MiddlewareCaptureOutsideWindow")
        );
        assert_eq!(decode_revert(&Bytes::new()), "no reason");
        assert!(decode_revert(&Bytes::from(vec![1, 2, 3, 4])).starts_with("unknown error"));
    }
}

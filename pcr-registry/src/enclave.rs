//! The enclave-key side: `register-enclave` (through the family's verifier, full or optimistic) and
//! `watch` (follow optimistic claims, verify each document off-chain, challenge the bad ones).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256, Bytes, keccak256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::{SolCall, SolEvent};
use serde_json::json;

use crate::ExitStatus;
use crate::client::Registry;
use crate::deployment::family_id;
use crate::error::{Error, RpcError};
use crate::render::Report;
use marketplace_bindings::INitroOptimisticVerifier::{self, Status};

/// Which kind of verifier a family uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifierKind {
    /// Full on-chain verification (`NitroAttestationVerifier`): calldata carries the hints.
    Full(Address),
    /// Bonded optimistic claims (`NitroOptimisticVerifier`).
    Optimistic(Address),
}

/// Finds the family's verifier and tells the optimistic one apart by its `statusOf` view.
pub async fn verifier_of(registry: &Registry, family: &str) -> Result<VerifierKind, Error> {
    let config = registry.family_config(family_id(family)).await?;
    if config.maxAttestationAge == 0 {
        return Err(Error::Unavailable(format!(
            "family `{family}` is not configured in this enclave registry"
        )));
    }
    let verifier = config.verifier;
    if verifier == Address::ZERO {
        return Err(Error::Unavailable(format!(
            "family `{family}` has no verifier: its keys are registered only through a registrar module"
        )));
    }
    let probe = INitroOptimisticVerifier::new(verifier, registry.provider().clone())
        .statusOf(B256::ZERO, Address::ZERO)
        .call()
        .await;
    // A verifier without `statusOf` reverts (no such function); an RPC failure is not an answer.
    match probe {
        Ok(_) => Ok(VerifierKind::Optimistic(verifier)),
        Err(e) => match crate::client::decode_error("statusOf", e) {
            Error::Revert(_) => Ok(VerifierKind::Full(verifier)),
            other => Err(other),
        },
    }
}

fn report(status: ExitStatus, human: String, json: serde_json::Value) -> Report {
    Report {
        status,
        human: human + "\n",
        json,
    }
}

/// `register-enclave`: registers the document's key through the family's verifier. On the
/// optimistic path the first call proposes the document (with the bond); once the claim is valid a
/// second call registers the key.
pub async fn register_enclave(
    registry: &Registry,
    family: &str,
    document: Vec<u8>,
) -> Result<Report, Error> {
    let family_id = family_id(family);
    match verifier_of(registry, family).await? {
        VerifierKind::Full(_) => {
            let hints = nitro_hints::document_hints(&document).map_err(|e| {
                crate::error::InputError::Invalid(format!("cannot prepare hints: {e}"))
            })?;
            let calldata = nitro_hints::verify_input(&document, &hints);
            let (key, tx) = registry
                .register_enclave_key(family_id, Bytes::from(calldata))
                .await?;
            Ok(report(
                ExitStatus::Success,
                format!("registered enclave key {key} in family {family} (tx {tx})"),
                json!({"registered": true, "key": key.to_string(), "path": "full", "tx": tx.to_string()}),
            ))
        }
        VerifierKind::Optimistic(verifier) => {
            register_optimistic(registry, family, family_id, verifier, document).await
        }
    }
}

/// The optimistic path of `register-enclave`. Claims are per (document, proposer): this account's
/// own claim is proposed, followed and settled; a document already accepted (proven genuine, or by
/// any settled claim) is registered at once.
async fn register_optimistic(
    registry: &Registry,
    family: &str,
    family_id: B256,
    verifier: Address,
    document: Vec<u8>,
) -> Result<Report, Error> {
    let doc_hash = keccak256(&document);
    let v = INitroOptimisticVerifier::new(verifier, registry.provider().clone());
    let proposer = registry.sender().ok_or_else(|| {
        Error::Input(crate::error::InputError::Invalid(
            "register-enclave sends transactions: give a key (--private-key-env VAR or --keystore FILE)"
                .into(),
        ))
    })?;
    let claim = doc_hash.to_string();
    let accepted = v
        .isAccepted(doc_hash)
        .call()
        .await
        .map_err(|e| crate::client::decode_error("isAccepted", e))?;
    let status = v
        .statusOf(doc_hash, proposer)
        .call()
        .await
        .map_err(|e| crate::client::decode_error("statusOf", e))?;
    let registered = |key: Address, tx: B256, settled: Option<B256>| {
        report(
            ExitStatus::Success,
            format!("registered enclave key {key} in family {family} (tx {tx})"),
            json!({"registered": true, "key": key.to_string(), "path": "optimistic",
                   "claim": claim, "proposer": proposer.to_string(), "tx": tx.to_string(),
                   "settle_tx": settled.map(|t| t.to_string())}),
        )
    };
    if accepted {
        let (key, tx) = registry
            .register_enclave_key(family_id, Bytes::from(document))
            .await?;
        return Ok(registered(key, tx, None));
    }
    match status {
        Status::None => {
            let call = v.propose(Bytes::from(document));
            let bond = v
                .proposerBond()
                .call()
                .await
                .map_err(|e| crate::client::decode_error("proposerBond", e))?;
            let call = call.value(bond);
            registry.simulate("propose", &call).await?;
            let tx = registry.send("propose", call).await?;
            Ok(report(
                ExitStatus::Success,
                format!(
                    "proposed claim {claim} with a bond of {bond} wei (tx {tx}); once its \
                     challenge window is over, run register-enclave again to register the key"
                ),
                json!({"registered": false, "path": "optimistic", "claim": claim,
                       "proposer": proposer.to_string(), "claim_status": "proposed",
                       "bond_wei": bond.to_string(), "tx": tx.to_string()}),
            ))
        }
        Status::Valid => {
            // Our unchallenged claim is past its window: settling returns the bond and accepts
            // the document, which the registry's call to `verify` then needs.
            let call = v.settle(doc_hash, proposer);
            registry.simulate("settle", &call).await?;
            let settled = registry.send("settle", call).await?;
            let (key, tx) = registry
                .register_enclave_key(family_id, Bytes::from(document))
                .await?;
            Ok(registered(key, tx, Some(settled)))
        }
        other => {
            let word = match other {
                Status::Pending => "pending (challenge window not over)",
                Status::Challenged => "challenged (awaiting resolution)",
                _ => {
                    "invalid (lost: the document was proven not genuine, or a challenge went undefended)"
                }
            };
            Ok(report(
                ExitStatus::Rejected,
                format!("claim {claim} is {word}: key not registered"),
                json!({"registered": false, "path": "optimistic", "claim": claim,
                       "proposer": proposer.to_string(), "claim_status": word.split(' ').next()}),
            ))
        }
    }
}

/// Off-chain authenticity check of a claimed document, as the full verifier would judge it:
/// signature and chain to the AWS root at `now_ms` (for a claim: the document's own time); policy
/// (debug, freshness) is not the verifier's business, so it is not a reason to challenge.
pub fn genuine(document: &[u8], now_ms: u64) -> Result<(), nitro_attestation::Error> {
    let policy = nitro_attestation::Policy::default()
        .danger_allow_debug()
        .max_age_ms(u64::MAX / 2);
    nitro_attestation::Verifier::new(nitro_attestation::TrustedRoot::aws_nitro_g1(), policy)
        .with_cache_capacity(0)
        .with_clock(Arc::new(nitro_attestation::FixedClock(now_ms)))
        .verify(document)
        .map(|_| ())
}

/// `watch`: polls `Proposed` events of the family's optimistic verifier; for each claim (document,
/// proposer) fetches the document from the proposing transaction, verifies it off-chain at the
/// document's own time (as the contract's resolution does), and challenges it (attaching the bond)
/// when it is not genuine. Claims it challenged are closed by `resolveByTimeout` once their resolve
/// period is over.
pub async fn watch(
    registry: &Registry,
    family: &str,
    interval: Duration,
    polls: Option<u64>,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, Error> {
    let VerifierKind::Optimistic(verifier) = verifier_of(registry, family).await? else {
        return Err(Error::Unavailable(format!(
            "no optimistic verifier deployed for family `{family}` (nothing to watch)"
        )));
    };
    let provider = registry.provider();
    let v = INitroOptimisticVerifier::new(verifier, provider.clone());
    let mut from = registry.deployment().start_block;
    let mut verdicts: BTreeMap<(B256, Address), &'static str> = BTreeMap::new();
    let mut challenged: Vec<(B256, Address)> = Vec::new();
    let mut round = 0u64;
    loop {
        round += 1;
        let head = provider
            .get_block_number()
            .await
            .map_err(|e| rpc("eth_blockNumber", e))?;
        if head >= from {
            let filter = Filter::new()
                .address(verifier)
                .event_signature(INitroOptimisticVerifier::Proposed::SIGNATURE_HASH)
                .from_block(from)
                .to_block(head);
            let logs = provider
                .get_logs(&filter)
                .await
                .map_err(|e| rpc("eth_getLogs", e))?;
            for log in logs {
                let Ok(event) = log.log_decode::<INitroOptimisticVerifier::Proposed>() else {
                    continue;
                };
                let (id, proposer) = (event.inner.data.docHash, event.inner.data.proposer);
                let verdict = judge(registry, log.transaction_hash).await?;
                progress(&format!("claim {id} by {proposer}: {verdict}"));
                verdicts.insert((id, proposer), verdict);
                if verdict == "not-genuine"
                    && matches!(v.statusOf(id, proposer).call().await, Ok(Status::Pending))
                {
                    let call = v.challenge(id, proposer);
                    let bond = v
                        .challengerBond()
                        .call()
                        .await
                        .map_err(|e| crate::client::decode_error("challengerBond", e))?;
                    let call = call.value(bond);
                    registry.simulate("challenge", &call).await?;
                    let tx = registry.send("challenge", call).await?;
                    progress(&format!(
                        "challenged claim {id} by {proposer} with {bond} wei (tx {tx})"
                    ));
                    verdicts.insert((id, proposer), "challenged");
                    challenged.push((id, proposer));
                }
            }
            from = head + 1;
        }
        // Close our challenges the proposer did not defend in time.
        for &(id, proposer) in &challenged {
            let call = v.resolveByTimeout(id, proposer);
            if registry.simulate("resolveByTimeout", &call).await.is_ok() {
                let tx = registry.send("resolveByTimeout", call).await?;
                progress(&format!(
                    "claim {id} by {proposer} closed by timeout (tx {tx})"
                ));
            }
        }
        if polls.is_some_and(|n| round >= n) {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    let rows: Vec<serde_json::Value> = verdicts
        .iter()
        .map(|((id, proposer), verdict)| {
            json!({"claim": id.to_string(), "proposer": proposer.to_string(), "verdict": verdict})
        })
        .collect();
    let human = verdicts
        .iter()
        .map(|((id, proposer), verdict)| format!("{id}  {proposer}  {verdict}\n"))
        .collect::<String>();
    Ok(Report {
        status: ExitStatus::Success,
        human: if human.is_empty() {
            "no claims seen\n".into()
        } else {
            human
        },
        json: json!({"claims": rows}),
    })
}

fn rpc(call: &'static str, e: impl std::fmt::Display) -> Error {
    RpcError::Call {
        call,
        reason: e.to_string(),
    }
    .into()
}

/// Fetches the document from the proposing transaction and judges it at its own timestamp: the
/// contract resolves a challenge with certificate validity checked at the document's time
/// (`verifyAtDocumentTime`), and a proposal's timestamp is within minutes of the chain's.
async fn judge(registry: &Registry, tx: Option<B256>) -> Result<&'static str, Error> {
    use alloy::consensus::Transaction as _;
    let Some(tx) = tx else {
        return Ok("unknown (no transaction hash in the log)");
    };
    let Some(tx) = registry
        .provider()
        .get_transaction_by_hash(tx)
        .await
        .map_err(|e| rpc("eth_getTransactionByHash", e))?
    else {
        return Ok("unknown (transaction not found)");
    };
    // A claim proposed through another contract carries the document in an inner call, which a
    // log-based watcher cannot see; it is reported, not challenged.
    let Ok(call) = INitroOptimisticVerifier::proposeCall::abi_decode(tx.input()) else {
        return Ok("unknown (not a direct propose call)");
    };
    // `propose` parsed the document, so its timestamp reads; a document that did not is not genuine.
    let Ok(at_ms) = nitro_attestation::peek_timestamp(&call.document) else {
        return Ok("not-genuine");
    };
    Ok(match genuine(&call.document, at_ms) {
        Ok(()) => "genuine",
        Err(_) => "not-genuine",
    })
}

#[cfg(test)]
mod tests {
    use super::genuine;

    const DOC: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../attestation/tests/data/base_nitro-validator_2026-01-03_repaired.cose"
    );
    const DOC_TIME_MS: u64 = 1_767_472_867_402;

    #[test]
    fn judges_authenticity_at_the_given_time() {
        let doc = std::fs::read(DOC).unwrap();
        assert!(genuine(&doc, DOC_TIME_MS + 60_000).is_ok());
        // Freshness is the registry's business, certificate validity is not: a day later the
        // ~3-hour leaf certificate has expired and the full verifier would refuse the document.
        assert_eq!(
            genuine(&doc, DOC_TIME_MS + 86_400_000).unwrap_err().code(),
            "chain.expired"
        );
        let mut forged = doc.clone();
        let n = forged.len();
        forged[n - 10] ^= 1;
        assert_eq!(
            genuine(&forged, DOC_TIME_MS).unwrap_err().code(),
            "signature.invalid"
        );
    }

    #[test]
    fn debug_documents_are_genuine_for_the_verifier() {
        // The verifier judges authenticity only; the registry refuses debug PCRs itself, so a
        // watcher must not stake a bond challenging a genuine debug document.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../attestation/tests/data/evervault_beta_debug-mode-attestation-doc-bytes.cose"
        );
        let doc = std::fs::read(path).unwrap();
        let ts = nitro_attestation::peek_timestamp(&doc).unwrap();
        assert!(genuine(&doc, ts).is_ok());
    }
}

//! The matching engine's API as clients use it: its attested encryption key, private inputs
//! (upload and download) and invalid-inputs signatures.
//!
//! The encryption key is taken only from an attestation document that verifies: a fresh nonce,
//! the AWS Nitro root (or, in the named dev mode only, a given dev root), a secp256k1
//! `public_key` that is a live key of the marketplace's matching-engine family in the enclave
//! registry, attested by the very image (PCR0‖PCR1‖PCR2) the document reports; `user_data` is the
//! 33-byte compressed encryption key.

use std::time::Duration;

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::DynProvider;
use market_sealing::EncryptionPublicKey;
use marketplace_bindings::{IEnclaveRegistry, ProofMarketplace};
use nitro_attestation::{Policy, TrustedRoot, Verifier};
use rand_core::{OsRng, RngCore as _};
use serde::{Deserialize, Serialize};

use crate::chain::call_error;
use crate::error::{Error, Result};

/// How long one request to the engine may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Which attestation root the client accepts.
#[derive(Clone, Debug)]
pub enum EngineTrust {
    /// Production: the AWS Nitro root only (dev documents are refused).
    Aws,
    /// Named dev mode: documents of the dev NSM rooted in this DER certificate.
    DangerDevRoot(Vec<u8>),
}

/// The engine's API at one base URL.
#[derive(Clone, Debug)]
pub struct EngineApi {
    base: String,
    http: reqwest::Client,
}

/// The engine's signature that a slot's inputs are invalid (`POST /invalid-inputs`).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct InvalidInputs {
    /// The ask.
    pub ask: U256,
    /// The slot.
    pub slot: u8,
    /// The assigned generator.
    pub generator: Address,
    /// What the generator is paid.
    pub payment: U256,
    /// The engine's EIP-712 signature.
    pub signature: Bytes,
}

/// A verified engine encryption key and what vouched for it.
#[derive(Clone, Debug)]
pub struct AttestedKey {
    /// The encryption key (the document's `user_data`).
    pub key: EncryptionPublicKey,
    /// The engine's signing key (the document's `public_key`), live in the family.
    pub signer: Address,
    /// The image id of the document's PCRs.
    pub image_id: B256,
}

impl EngineApi {
    /// The API at `base` (e.g. `http://127.0.0.1:8080`; a trailing `/` is ignored).
    ///
    /// # Errors
    /// [`Error::Engine`] when the HTTP client cannot be built.
    pub fn new(base: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| Error::engine("client", e))?;
        Ok(EngineApi {
            base: base.trim_end_matches('/').to_string(),
            http,
        })
    }

    async fn body(what: &str, response: reqwest::Response) -> Result<Vec<u8>> {
        let status = response.status();
        let body = response.bytes().await.map_err(|e| Error::engine(what, e))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
            return Err(Error::engine(what, format!("status {status}: {text}")));
        }
        Ok(body.to_vec())
    }

    /// A fresh attestation document for `nonce` (raw COSE bytes).
    ///
    /// # Errors
    /// [`Error::Engine`] when the request fails.
    pub async fn attestation(&self, nonce: &[u8]) -> Result<Vec<u8>> {
        let what = "GET /attestation/raw";
        let url = format!("{}/attestation/raw?nonce={}", self.base, hex::encode(nonce));
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| Error::engine(what, e))?;
        Self::body(what, response).await
    }

    /// The engine's encryption key, verified as the module documentation says against the
    /// marketplace's engine family.
    ///
    /// # Errors
    /// [`Error::EngineKey`] when the document or the chain does not vouch for it.
    pub async fn encryption_key(
        &self,
        provider: &DynProvider,
        marketplace: Address,
        trust: &EngineTrust,
    ) -> Result<AttestedKey> {
        let mut nonce = [0u8; 32];
        OsRng.fill_bytes(&mut nonce);
        let document = self.attestation(&nonce).await?;
        let policy = Policy::default()
            .expect_nonce(nonce.to_vec())
            .require_secp256k1_key();
        let verifier = match trust {
            EngineTrust::Aws => Verifier::aws(policy),
            EngineTrust::DangerDevRoot(der) => {
                Verifier::new(TrustedRoot::from_der(der.clone()), policy)
            }
        };
        let verified = verifier
            .verify(&document)
            .map_err(|e| Error::EngineKey(format!("attestation document: {e} ({})", e.code())))?;
        let signer = Address::from(
            verified
                .enclave_key()
                .ok_or_else(|| Error::EngineKey("the document binds no secp256k1 key".into()))?
                .address(),
        );
        let doc = verified.document();
        let image_id = B256::from(
            doc.image_pcrs()
                .ok_or_else(|| Error::EngineKey("the document lacks PCR0..2".into()))?
                .image_id(),
        );
        let key = EncryptionPublicKey::from_slice(doc.user_data.as_deref().unwrap_or_default())
            .map_err(|e| {
                Error::EngineKey(format!("user_data is not a compressed secp256k1 key: {e}"))
            })?;
        check_live(provider, marketplace, signer, image_id).await?;
        Ok(AttestedKey {
            key,
            signer,
            image_id,
        })
    }

    /// Uploads a private ask's inputs blob (`PUT /inputs/0x{hash}`).
    ///
    /// # Errors
    /// [`Error::Engine`] when the engine refuses it.
    pub async fn put_inputs(&self, hash: B256, inputs: &[u8]) -> Result<()> {
        let what = "PUT /inputs";
        let response = self
            .http
            .put(format!("{}/inputs/{hash}", self.base))
            .header("content-type", "application/octet-stream")
            .body(inputs.to_vec())
            .send()
            .await
            .map_err(|e| Error::engine(what, e))?;
        Self::body(what, response).await.map(drop)
    }

    /// Downloads a private ask's inputs blob (`GET /inputs/0x{hash}`); the caller checks its hash.
    ///
    /// # Errors
    /// [`Error::Engine`] when the engine does not serve it.
    pub async fn get_inputs(&self, hash: B256) -> Result<Vec<u8>> {
        let what = "GET /inputs";
        let response = self
            .http
            .get(format!("{}/inputs/{hash}", self.base))
            .send()
            .await
            .map_err(|e| Error::engine(what, e))?;
        Self::body(what, response).await
    }

    /// Asks the engine to sign that a slot's inputs are invalid (`POST /invalid-inputs`).
    ///
    /// # Errors
    /// [`Error::Engine`] when it refuses (e.g. the inputs are valid) or answers something else.
    pub async fn invalid_inputs(&self, ask: U256, slot: u8) -> Result<InvalidInputs> {
        let what = "POST /invalid-inputs";
        let ask_id = u64::try_from(ask).map_err(|_| Error::engine(what, "ask id above 64 bits"))?;
        let response = self
            .http
            .post(format!("{}/invalid-inputs", self.base))
            .json(&serde_json::json!({ "ask": ask_id, "slot": slot }))
            .send()
            .await
            .map_err(|e| Error::engine(what, e))?;
        let body = Self::body(what, response).await?;
        let answer: InvalidInputs =
            serde_json::from_slice(&body).map_err(|e| Error::engine(what, e))?;
        if answer.ask != ask || answer.slot != slot {
            return Err(Error::engine(what, "the answer is for another slot"));
        }
        Ok(answer)
    }
}

/// The engine signer must be a live key of the marketplace's engine family, registered from
/// the very image the document reports.
async fn check_live(
    provider: &DynProvider,
    marketplace: Address,
    signer: Address,
    image_id: B256,
) -> Result<()> {
    let market = ProofMarketplace::new(marketplace, provider);
    let family = market
        .MATCHING_ENGINE_FAMILY()
        .call()
        .await
        .map_err(|e| call_error("MATCHING_ENGINE_FAMILY", e))?;
    let registry = market
        .enclaveRegistry()
        .call()
        .await
        .map_err(|e| call_error("enclaveRegistry", e))?;
    let record = IEnclaveRegistry::new(registry, provider)
        .getEnclaveKey(family, signer)
        .call()
        .await
        .map_err(|e| call_error("getEnclaveKey", e))?;
    if !record.live {
        return Err(Error::EngineKey(format!(
            "{signer} is not a live key of the engine family {family}"
        )));
    }
    if record.imageId != image_id {
        return Err(Error::EngineKey(format!(
            "{signer} was attested by image {}, the document reports {image_id}",
            record.imageId
        )));
    }
    Ok(())
}

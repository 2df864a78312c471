//! The attested hand-off of the engine identity between enclaves of one registered image
//! (`enclave/README.md`, "Replicas and identity hand-off", gives the bytes).
//!
//! A newcomer (configured `identity: {"source": "peer"}`) makes an ephemeral secp256k1 key,
//! attests it (`user_data` = its 33-byte compressed public key, `nonce` = 32 fresh random bytes)
//! and posts the document to a peer's `POST /identity/handoff`. The peer ([`Giver`]) verifies it
//! (root, freshness both ways, PCR0/1/2 equal to its own, the image live on chain in the engine
//! family, its own key live) and answers with its own fresh document (nonce = keccak256 of the
//! request) and the two secrets sealed to the ephemeral key (`market-sealing`). The newcomer
//! ([`receive`]) verifies that document the same way, opens the secrets, and keeps them only if
//! their public keys are the document's and the engine key is live on chain for its own image.
//!
//! Every refusal is a named [`HandoffError`]; nothing here logs or formats a secret.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use alloy::primitives::{Address, B256};
use alloy::providers::DynProvider;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::rt::TokioIo;
use market_sealing::{
    EncryptionKey, EncryptionPublicKey, HandoffBinding, SEALED_IDENTITY_LEN, open_identity,
    seal_identity,
};
use marketplace_bindings::{IEnclaveRegistry, IPcrRegistry};
use nitro_attestation::nsm::{AttestationRequest, Nsm};
use nitro_attestation::{
    AttestationDocument, Clock, Error as AttestationError, ImagePcrs, MAX_DOCUMENT_LEN, Policy,
    PolicyError, Verifier,
};
use rand_core::{OsRng, RngCore as _};

use crate::identity::{Identity, Origin};

/// The peer's HTTP route.
pub(crate) const HANDOFF_PATH: &str = "/identity/handoff";
/// Length of the newcomer's random nonce.
pub(crate) const REQUEST_NONCE_LEN: usize = 32;
/// How far a document's timestamp may be ahead of the verifier's clock.
pub(crate) const MAX_FUTURE_SKEW_MS: u64 = 5_000;
/// Largest request body: one attestation document.
pub(crate) const MAX_REQUEST_BYTES: usize = MAX_DOCUMENT_LEN;
/// Largest answer body: a length, a document and the sealed identity.
pub(crate) const MAX_ANSWER_BYTES: usize = 2 + MAX_DOCUMENT_LEN + SEALED_IDENTITY_LEN;
/// Time one exchange with a peer may take, connection set-up included.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);
/// Request hashes remembered against replay (oldest forgotten first).
const REPLAY_CAPACITY: usize = 4096;

/// Why a hand-off was refused, on either side. [`HandoffError::name`] is the stable name the
/// HTTP API answers with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum HandoffError {
    /// The bytes are no attestation document.
    #[error("malformed attestation document: {0}")]
    Malformed(AttestationError),
    /// The document's signature or certificate chain does not lead to the trusted root.
    #[error("untrusted attestation document ({code}): {0}", code = .0.code())]
    Untrusted(AttestationError),
    /// Dev mode: the document is not from a dev NSM (its `module_id` is not the dev one).
    #[cfg(any(test, feature = "danger-dev-nsm"))]
    #[error("dev mode: the document is not from a dev NSM")]
    NotDevNsm,
    /// PCR0/1/2 differ from this enclave's own (another image), or a debug-mode enclave.
    #[error("another image: {0}")]
    OtherImage(PolicyError),
    /// The document is older than the window, or from the future.
    #[error("not fresh: {0}")]
    Stale(PolicyError),
    /// The request's nonce is missing or not [`REQUEST_NONCE_LEN`] bytes.
    #[error("the request's nonce is {0:?} bytes, expected {REQUEST_NONCE_LEN}")]
    BadNonce(Option<usize>),
    /// The request's `user_data` is not a compressed secp256k1 key.
    #[error("the request's user_data is not a compressed secp256k1 key: {0}")]
    BadUserData(market_sealing::Error),
    /// This request was answered before.
    #[error("this request was answered before (replay)")]
    Replayed,
    /// The attested image is not registered, revoked, or of another family on chain.
    #[error("image {0} is not live in the engine family on chain")]
    ImageNotLive(B256),
    /// The giving enclave's own engine key is not live on chain.
    #[error("this enclave's engine key {0} is not live on chain")]
    OwnKeyNotLive(Address),
    /// A registry read failed.
    #[error("registry read: {0}")]
    Chain(String),
    /// The peer could not be reached or did not speak HTTP.
    #[error("peer unreachable: {0}")]
    Unreachable(String),
    /// The peer answered with an error.
    #[error("peer refused ({status} {name})")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The error name it gave.
        name: String,
    },
    /// The answer is not `length ‖ document ‖ sealed identity`.
    #[error("malformed answer: {0}")]
    BadAnswer(&'static str),
    /// The answer's document does not answer this request (its nonce is not keccak256 of it).
    #[error("the answer's nonce is not keccak256 of this request")]
    NonceMismatch,
    /// The answer's document binds no engine key (`public_key`).
    #[error("the answer's document binds no engine key: {0}")]
    NoEngineKey(PolicyError),
    /// The sealed identity does not open.
    #[error("sealed identity: {0}")]
    Sealed(market_sealing::Error),
    /// A received secret is no key.
    #[error("received secret: {0}")]
    Secret(#[from] crate::identity::SecretError),
    /// The received engine key is not the document's `public_key`.
    #[error("the received engine key is not the one the peer's document binds")]
    EngineKeyMismatch,
    /// The received bid key is not the document's `user_data`.
    #[error("the received bid key is not the one the peer's document binds")]
    BidKeyMismatch,
    /// The received engine key is not live on chain.
    #[error("the received engine key {0} is not live in the engine family")]
    KeyNotLive(Address),
    /// The received engine key is live, but attested by another image.
    #[error("the received engine key {key} belongs to image {image}, not this one")]
    KeyOfOtherImage {
        /// The key.
        key: Address,
        /// Its image on chain.
        image: B256,
    },
    /// The NSM did not attest the request.
    #[error("NSM: {0}")]
    Nsm(String),
}

impl HandoffError {
    /// The stable name of the refusal (HTTP `error`).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            HandoffError::Malformed(_) => "bad_document",
            HandoffError::Untrusted(_) => "untrusted_document",
            #[cfg(any(test, feature = "danger-dev-nsm"))]
            HandoffError::NotDevNsm => "untrusted_document",
            HandoffError::OtherImage(_) => "other_image",
            HandoffError::Stale(_) => "stale_document",
            HandoffError::BadNonce(_) => "bad_nonce",
            HandoffError::BadUserData(_) => "bad_user_data",
            HandoffError::Replayed => "replayed",
            HandoffError::ImageNotLive(_) => "image_not_live",
            HandoffError::OwnKeyNotLive(_) => "identity_not_live",
            HandoffError::Chain(_) => "chain_unavailable",
            HandoffError::Unreachable(_) => "unreachable",
            HandoffError::Refused { .. } => "refused",
            HandoffError::BadAnswer(_) => "bad_answer",
            HandoffError::NonceMismatch => "nonce_mismatch",
            HandoffError::NoEngineKey(_) => "no_engine_key",
            HandoffError::Sealed(_) => "sealed_identity",
            HandoffError::Secret(_) => "bad_secret",
            HandoffError::EngineKeyMismatch => "engine_key_mismatch",
            HandoffError::BidKeyMismatch => "bid_key_mismatch",
            HandoffError::KeyNotLive(_) => "key_not_live",
            HandoffError::KeyOfOtherImage { .. } => "key_of_other_image",
            HandoffError::Nsm(_) => "nsm_error",
        }
    }

    /// The HTTP status a giving enclave answers this refusal with.
    pub(crate) fn status(&self) -> u16 {
        match self {
            HandoffError::Malformed(_)
            | HandoffError::BadNonce(_)
            | HandoffError::BadUserData(_) => 400,
            HandoffError::Replayed => 409,
            HandoffError::OwnKeyNotLive(_) | HandoffError::Chain(_) | HandoffError::Nsm(_) => 503,
            _ => 403,
        }
    }

    fn from_verification(e: AttestationError, answer: bool) -> Self {
        match e {
            AttestationError::Malformed(_) => HandoffError::Malformed(e),
            AttestationError::Policy(p) => match p {
                PolicyError::TimestampNotMillis(_)
                | PolicyError::FromFuture { .. }
                | PolicyError::Stale { .. } => HandoffError::Stale(p),
                PolicyError::NonceMismatch => HandoffError::NonceMismatch,
                PolicyError::PublicKeyMissing
                | PolicyError::PublicKeyLength(_)
                | PolicyError::PublicKeyPrefix(_)
                | PolicyError::PublicKeyNotOnCurve
                    if answer =>
                {
                    HandoffError::NoEngineKey(p)
                }
                other => HandoffError::OtherImage(other),
            },
            other => HandoffError::Untrusted(other),
        }
    }
}

/// Which root hand-off documents must chain to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trust {
    /// The AWS Nitro Enclaves root (the image's build: always).
    Aws,
    /// **Dev mode** (dev NSM builds only): each dev NSM makes its own CA, so a document is
    /// checked against the dev root it carries. This authenticates no platform at all; it runs
    /// the protocol for local simulation and is never chosen with the NSM device. Documents of
    /// a dev NSM fail [`Trust::Aws`] (`chain.untrusted_root`).
    #[cfg(any(test, feature = "danger-dev-nsm"))]
    DangerDevCa,
}

impl Trust {
    /// The image's build trusts the AWS root only; a dev NSM build running the dev NSM trusts
    /// dev documents ([`Trust::DangerDevCa`]).
    pub(crate) fn for_config(config: &crate::config::Config) -> Trust {
        #[cfg(feature = "danger-dev-nsm")]
        if config.dev_nsm_pcrs.is_some() {
            return Trust::DangerDevCa;
        }
        let _ = config;
        Trust::Aws
    }

    fn verifier(
        self,
        #[cfg_attr(
            not(any(test, feature = "danger-dev-nsm")),
            expect(unused_variables, reason = "read only in dev mode")
        )]
        document: &[u8],
        policy: Policy,
    ) -> Result<Verifier, HandoffError> {
        match self {
            Trust::Aws => Ok(Verifier::aws(policy)),
            #[cfg(any(test, feature = "danger-dev-nsm"))]
            Trust::DangerDevCa => {
                let claimed = nitro_attestation::read_unverified(document)
                    .map_err(|e| HandoffError::Malformed(e.into()))?;
                if claimed.module_id != nitro_attestation::dev::DEV_MODULE_ID {
                    return Err(HandoffError::NotDevNsm);
                }
                let root = claimed.cabundle.first().cloned().unwrap_or_default();
                Ok(Verifier::new(
                    nitro_attestation::TrustedRoot::from_der(root),
                    policy,
                ))
            }
        }
    }
}

/// What both sides check a document against: this enclave's image and trust, and the chain
/// whose registry vouches for the engine family.
pub(crate) struct Scope {
    pub(crate) trust: Trust,
    /// This enclave's own attested PCR0/1/2.
    pub(crate) pcrs: ImagePcrs,
    pub(crate) chain_id: u64,
    pub(crate) registry: Address,
    /// Oldest document accepted.
    pub(crate) max_age_ms: u64,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Scope {
    /// This enclave's image id (keccak256 of PCR0 ‖ PCR1 ‖ PCR2, as the registry computes it).
    pub(crate) fn image_id(&self) -> B256 {
        B256::from(self.pcrs.image_id())
    }

    fn binding(&self, request: &[u8]) -> HandoffBinding {
        HandoffBinding::new(request, self.chain_id, self.registry.into_array())
    }

    /// Verifies `document`: root, freshness, this image's PCRs, and the nonce when given.
    fn verify(
        &self,
        document: &[u8],
        nonce: Option<&[u8; 32]>,
    ) -> Result<AttestationDocument, HandoffError> {
        let mut policy = Policy::default()
            .expect_image(self.pcrs.pcr0, self.pcrs.pcr1, self.pcrs.pcr2)
            .max_age_ms(self.max_age_ms)
            .max_future_skew_ms(MAX_FUTURE_SKEW_MS);
        if let Some(n) = nonce {
            policy = policy.expect_nonce(n.to_vec()).require_secp256k1_key();
        }
        let verifier = self
            .trust
            .verifier(document, policy)?
            .with_clock(self.clock.clone());
        verifier
            .verify(document)
            .map(nitro_attestation::VerifiedDocument::into_document)
            .map_err(|e| HandoffError::from_verification(e, nonce.is_some()))
    }
}

/// A registry read's future.
pub(crate) type ChainFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'a>>;

/// What the registry says of an engine key in the engine family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyOnChain {
    /// `isLiveKey(key, family)`.
    pub(crate) live: bool,
    /// `getEnclaveKey(family, key).imageId`.
    pub(crate) image: B256,
}

/// The registry reads the hand-off relies on.
pub(crate) trait ChainView: Send + Sync {
    /// Whether `image` is registered, not revoked, and in the engine family.
    fn image_live(&self, image: B256) -> ChainFuture<'_, bool>;
    /// The engine key's record in the engine family.
    fn key(&self, key: Address) -> ChainFuture<'_, KeyOnChain>;
}

/// [`ChainView`] over the `EnclaveRegistry` (which is the `PcrRegistry` too) through the app's
/// RPC.
pub(crate) struct Registry {
    pub(crate) reader: DynProvider,
    pub(crate) registry: Address,
    pub(crate) family: B256,
}

impl ChainView for Registry {
    fn image_live(&self, image: B256) -> ChainFuture<'_, bool> {
        Box::pin(async move {
            let found = IPcrRegistry::new(self.registry, &self.reader)
                .getImage(image)
                .call()
                .await
                .map_err(|e| format!("getImage: {e}"))?;
            Ok(
                found.status == IPcrRegistry::ImageStatus::Registered
                    && found.family == self.family,
            )
        })
    }

    fn key(&self, key: Address) -> ChainFuture<'_, KeyOnChain> {
        Box::pin(async move {
            let registry = IEnclaveRegistry::new(self.registry, &self.reader);
            let live = registry
                .isLiveKey(key, self.family)
                .call()
                .await
                .map_err(|e| format!("isLiveKey: {e}"))?;
            let record = registry
                .getEnclaveKey(self.family, key)
                .call()
                .await
                .map_err(|e| format!("getEnclaveKey: {e}"))?;
            Ok(KeyOnChain {
                live,
                image: record.imageId,
            })
        })
    }
}

/// Request hashes answered recently, oldest first.
#[derive(Default)]
struct Seen {
    order: VecDeque<[u8; 32]>,
    set: HashSet<[u8; 32]>,
}

impl Seen {
    /// Records `hash`; false when it was there already.
    fn insert(&mut self, hash: [u8; 32]) -> bool {
        if self.set.contains(&hash) {
            return false;
        }
        if self.order.len() >= REPLAY_CAPACITY
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(hash);
        self.set.insert(hash);
        true
    }
}

/// A verified request, ready to be answered.
#[derive(Debug)]
pub(crate) struct Admitted {
    binding: HandoffBinding,
    newcomer: EncryptionPublicKey,
}

impl Admitted {
    /// The nonce of the answer's document: keccak256 of the request.
    pub(crate) fn answer_nonce(&self) -> Vec<u8> {
        self.binding.request_hash.to_vec()
    }
}

/// The giving side, behind `POST /identity/handoff`.
pub(crate) struct Giver {
    scope: Scope,
    chain: Arc<dyn ChainView>,
    seen: Mutex<Seen>,
}

impl Giver {
    pub(crate) fn new(scope: Scope, chain: Arc<dyn ChainView>) -> Self {
        Self {
            scope,
            chain,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Checks a newcomer's request document; `own_key` is this enclave's engine key.
    ///
    /// A request is answered once: a replay (even within the window) is refused. A replay to
    /// another replica would gain nothing either: the answer is sealed to the ephemeral key
    /// only the newcomer holds.
    ///
    /// # Errors
    /// [`HandoffError`].
    pub(crate) async fn admit(
        &self,
        request: &[u8],
        own_key: Address,
    ) -> Result<Admitted, HandoffError> {
        let doc = self.scope.verify(request, None)?;
        let nonce_len = doc.nonce.as_ref().map(Vec::len);
        if nonce_len != Some(REQUEST_NONCE_LEN) {
            return Err(HandoffError::BadNonce(nonce_len));
        }
        let newcomer =
            EncryptionPublicKey::from_slice(doc.user_data.as_deref().unwrap_or_default())
                .map_err(HandoffError::BadUserData)?;
        let binding = self.scope.binding(request);
        if !self
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(binding.request_hash)
        {
            return Err(HandoffError::Replayed);
        }
        let image = self.scope.image_id();
        if !self
            .chain
            .image_live(image)
            .await
            .map_err(HandoffError::Chain)?
        {
            return Err(HandoffError::ImageNotLive(image));
        }
        if !self
            .chain
            .key(own_key)
            .await
            .map_err(HandoffError::Chain)?
            .live
        {
            return Err(HandoffError::OwnKeyNotLive(own_key));
        }
        Ok(Admitted { binding, newcomer })
    }

    /// The answer body: this enclave's `document` (made with [`Admitted::answer_nonce`]) and
    /// the identity sealed to the newcomer.
    pub(crate) fn answer(
        &self,
        admitted: &Admitted,
        identity: &Identity,
        document: &[u8],
    ) -> Result<Vec<u8>, HandoffError> {
        let sealed = seal_identity(
            &mut OsRng,
            &admitted.newcomer,
            &admitted.binding,
            &identity.secrets(),
        );
        encode_answer(document, &sealed)
    }
}

/// `len (2 bytes, big-endian) ‖ document ‖ sealed identity`.
fn encode_answer(document: &[u8], sealed: &[u8]) -> Result<Vec<u8>, HandoffError> {
    let len = u16::try_from(document.len())
        .ok()
        .filter(|_| document.len() <= MAX_DOCUMENT_LEN)
        .ok_or(HandoffError::BadAnswer("document longer than 16 KiB"))?;
    let mut out = Vec::with_capacity(2 + document.len() + sealed.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(document);
    out.extend_from_slice(sealed);
    Ok(out)
}

/// The document and the sealed identity of an answer.
fn decode_answer(answer: &[u8]) -> Result<(&[u8], &[u8]), HandoffError> {
    let (len, rest) = answer
        .split_first_chunk::<2>()
        .ok_or(HandoffError::BadAnswer("shorter than its length field"))?;
    let len = usize::from(u16::from_be_bytes(*len));
    if rest.len() != len + SEALED_IDENTITY_LEN {
        return Err(HandoffError::BadAnswer(
            "length ‖ document ‖ 113-byte sealed identity expected",
        ));
    }
    Ok(rest.split_at(len))
}

/// Receives the identity from the first of `peers` that hands over one that verifies; each
/// failure is logged (without secrets) and the next peer tried.
///
/// # Errors
/// The failure of each peer, in order, when none worked.
pub(crate) async fn receive(
    scope: &Scope,
    chain: &dyn ChainView,
    nsm: Arc<dyn Nsm>,
    peers: &[host_proxy_client::ProxyAddr],
) -> Result<Identity, Vec<(String, HandoffError)>> {
    let mut failures = Vec::new();
    for peer in peers {
        match from_peer(scope, chain, nsm.clone(), peer).await {
            Ok(identity) => return Ok(identity),
            Err(e) => {
                tracing::warn!("identity hand-off from {peer}: {} ({e})", e.name());
                failures.push((peer.to_string(), e));
            }
        }
    }
    Err(failures)
}

/// One attempt with one peer.
async fn from_peer(
    scope: &Scope,
    chain: &dyn ChainView,
    nsm: Arc<dyn Nsm>,
    peer: &host_proxy_client::ProxyAddr,
) -> Result<Identity, HandoffError> {
    let ephemeral = EncryptionKey::random(&mut OsRng);
    let mut nonce = [0u8; REQUEST_NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let attest = {
        let nsm = nsm.clone();
        let request = AttestationRequest {
            public_key: None,
            user_data: Some(ephemeral.public_key().to_bytes().to_vec()),
            nonce: Some(nonce.to_vec()),
        };
        tokio::task::spawn_blocking(move || nsm.attestation(&request))
    };
    let request = attest
        .await
        .map_err(|e| HandoffError::Nsm(e.to_string()))?
        .map_err(|e| HandoffError::Nsm(e.to_string()))?;
    let answer = tokio::time::timeout(EXCHANGE_TIMEOUT, post(peer, request.clone()))
        .await
        .map_err(|_| {
            HandoffError::Unreachable(format!("no answer within {EXCHANGE_TIMEOUT:?}"))
        })??;
    let (document, sealed) = decode_answer(&answer)?;
    let binding = scope.binding(&request);
    let doc = scope.verify(document, Some(&binding.request_hash))?;
    let secrets = open_identity(&ephemeral, &binding, sealed).map_err(HandoffError::Sealed)?;
    let identity = Identity::from_secrets(&secrets, nsm, Origin::Peer(peer.to_string()))?;
    if doc.public_key.as_deref() != Some(identity.public_key().as_slice()) {
        return Err(HandoffError::EngineKeyMismatch);
    }
    if doc.user_data.as_deref() != Some(identity.user_data().as_slice()) {
        return Err(HandoffError::BidKeyMismatch);
    }
    let image = scope.image_id();
    if !chain.image_live(image).await.map_err(HandoffError::Chain)? {
        return Err(HandoffError::ImageNotLive(image));
    }
    let key = Address::from(identity.address().0);
    let record = chain.key(key).await.map_err(HandoffError::Chain)?;
    if !record.live {
        return Err(HandoffError::KeyNotLive(key));
    }
    if record.image != image {
        return Err(HandoffError::KeyOfOtherImage {
            key,
            image: record.image,
        });
    }
    Ok(identity)
}

/// `POST /identity/handoff` with `request` as body over one proxy route (plain HTTP/1.1: what
/// travels is authenticated by the documents and encrypted to the ephemeral key).
async fn post(
    peer: &host_proxy_client::ProxyAddr,
    request: Vec<u8>,
) -> Result<Vec<u8>, HandoffError> {
    let unreachable = |e: &dyn std::fmt::Display| HandoffError::Unreachable(e.to_string());
    let io = host_proxy_client::Dialer::new(peer.clone())
        .connect()
        .await
        .map_err(|e| unreachable(&e))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| unreachable(&e))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let http_request = hyper::Request::post(HANDOFF_PATH)
        .header(hyper::header::HOST, "engine")
        .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
        .header(hyper::header::CONTENT_LENGTH, request.len())
        .body(Full::new(Bytes::from(request)))
        .map_err(|e| unreachable(&e))?;
    let response = sender
        .send_request(http_request)
        .await
        .map_err(|e| unreachable(&e))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|e| unreachable(&e))?
        .to_bytes();
    if !status.is_success() {
        let name = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_default();
        return Err(HandoffError::Refused {
            status: status.as_u16(),
            name,
        });
    }
    Ok(body.to_vec())
}

#[cfg(test)]
#[path = "handoff/tests.rs"]
mod tests;

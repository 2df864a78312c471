//! The verifier: envelope → payload → chain → signature → policy.

use std::sync::Arc;

use aws_lc_rs::signature::{ECDSA_P384_SHA384_FIXED, UnparsedPublicKey};

use crate::cache::CertCache;
use crate::chain::{TrustedRoot, verify_chain};
use crate::clock::{Clock, SystemClock};
use crate::document::{AttestationDocument, VerifiedDocument};
use crate::error::{Error, SignatureError};
use crate::input::check_len;
use crate::policy::Policy;
use crate::{cose, payload};

/// Default number of cached intermediate certificates.
pub const DEFAULT_CACHE_CAPACITY: usize = 256;

/// Verifies attestation documents against one trusted root and one policy.
///
/// Cheap to share: `verify` takes `&self`; the certificate cache is internally locked.
pub struct Verifier {
    root: TrustedRoot,
    policy: Policy,
    clock: Arc<dyn Clock>,
    cache: Option<CertCache>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("root_sha256", &hex::encode(self.root.sha256()))
            .field("policy", &self.policy)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier trusting only the AWS Nitro Enclaves Root-G1, with the system clock.
    pub fn aws(policy: Policy) -> Self {
        Self::new(TrustedRoot::aws_nitro_g1(), policy)
    }

    /// A verifier trusting `root`, with the system clock and a certificate cache.
    pub fn new(root: TrustedRoot, policy: Policy) -> Self {
        Verifier {
            root,
            policy,
            clock: Arc::new(SystemClock),
            cache: Some(CertCache::new(DEFAULT_CACHE_CAPACITY)),
        }
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the certificate cache size; 0 disables caching (every signature is checked).
    pub fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache = (capacity > 0).then(|| CertCache::new(capacity));
        self
    }

    /// The certificate cache, if enabled.
    pub fn cache(&self) -> Option<&CertCache> {
        self.cache.as_ref()
    }

    /// The trusted root.
    pub fn root(&self) -> &TrustedRoot {
        &self.root
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Full verification at the clock's time.
    pub fn verify(&self, cose_bytes: &[u8]) -> Result<VerifiedDocument, Error> {
        self.verify_at(cose_bytes, self.clock.now_ms())
    }

    /// Full verification at `now_ms`: authenticity, then the policy.
    pub fn verify_at(&self, cose_bytes: &[u8], now_ms: u64) -> Result<VerifiedDocument, Error> {
        let document = self.authenticate_at(cose_bytes, now_ms)?;
        let key = self.policy.check(&document, now_ms)?;
        Ok(VerifiedDocument::new(document, key))
    }

    /// Signature and chain only, at the clock's time; the policy is not applied.
    pub fn authenticate(&self, cose_bytes: &[u8]) -> Result<AttestationDocument, Error> {
        self.authenticate_at(cose_bytes, self.clock.now_ms())
    }

    /// Signature and chain only, at `now_ms`: the document is genuine NSM output under the trusted
    /// root, but may be stale, debug-mode or of any image.
    pub fn authenticate_at(
        &self,
        cose_bytes: &[u8],
        now_ms: u64,
    ) -> Result<AttestationDocument, Error> {
        check_len(cose_bytes)?;
        let envelope = cose::decode(cose_bytes)?;
        let payload = payload::parse(&envelope.payload)?;
        let leaf_point = verify_chain(
            &self.root,
            &payload.cabundle,
            payload.certificate,
            now_ms,
            self.cache.as_ref(),
        )?;
        UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, &leaf_point[..])
            .verify(&envelope.signed_bytes, &envelope.signature)
            .map_err(|_| SignatureError::Invalid)?;
        Ok(AttestationDocument::from_payload(&payload))
    }
}

/// Reads a document's `timestamp` without verifying anything, to verify "at the document's own
/// time" (real documents whose certificates have since expired).
pub fn peek_timestamp(cose_bytes: &[u8]) -> Result<u64, Error> {
    let envelope = cose::decode(cose_bytes)?;
    Ok(payload::peek_timestamp(&envelope.payload)?)
}

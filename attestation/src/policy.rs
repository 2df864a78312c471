//! What an authentic document must also satisfy: PCR values, no debug mode, freshness in both
//! directions, the expected nonce and a bound secp256k1 key.

use std::collections::BTreeMap;

use nitro_pcrs::Pcr;

use crate::document::AttestationDocument;
use crate::error::PolicyError;
use crate::key::EnclaveKey;

/// Smallest plausible millisecond timestamp (2001-09-09); anything lower is seconds or garbage.
pub const MIN_TIMESTAMP_MS: u64 = 1_000_000_000_000;

/// Default freshness window: 5 minutes.
pub const DEFAULT_MAX_AGE_MS: u64 = 5 * 60 * 1000;

/// Acceptance rules applied after the signature and chain verify.
///
/// The default rejects debug-mode documents, documents older than 5 minutes or from the future,
/// and checks nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    expected_pcrs: BTreeMap<u8, Pcr>,
    allow_debug: bool,
    max_age_ms: u64,
    max_future_skew_ms: u64,
    expected_nonce: Option<Vec<u8>>,
    require_secp256k1_key: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            expected_pcrs: BTreeMap::new(),
            allow_debug: false,
            max_age_ms: DEFAULT_MAX_AGE_MS,
            max_future_skew_ms: 0,
            expected_nonce: None,
            require_secp256k1_key: false,
        }
    }
}

impl Policy {
    /// Requires PCR `index` to equal `value`.
    pub fn expect_pcr(mut self, index: u8, value: impl Into<Pcr>) -> Self {
        self.expected_pcrs.insert(index, value.into());
        self
    }

    /// Requires the image measurements PCR0, PCR1 and PCR2.
    pub fn expect_image(
        self,
        pcr0: impl Into<Pcr>,
        pcr1: impl Into<Pcr>,
        pcr2: impl Into<Pcr>,
    ) -> Self {
        self.expect_pcr(0, pcr0)
            .expect_pcr(1, pcr1)
            .expect_pcr(2, pcr2)
    }

    /// Rejects documents older than `ms` at verification time.
    pub fn max_age_ms(mut self, ms: u64) -> Self {
        self.max_age_ms = ms;
        self
    }

    /// Tolerates document timestamps up to `ms` after the verification time (default 0).
    pub fn max_future_skew_ms(mut self, ms: u64) -> Self {
        self.max_future_skew_ms = ms;
        self
    }

    /// Requires `nonce` to equal `nonce`.
    pub fn expect_nonce(mut self, nonce: Vec<u8>) -> Self {
        self.expected_nonce = Some(nonce);
        self
    }

    /// Requires `public_key` to be an uncompressed secp256k1 key; the verified document then
    /// carries it with its Ethereum address.
    pub fn require_secp256k1_key(mut self) -> Self {
        self.require_secp256k1_key = true;
        self
    }

    /// Accepts debug-mode documents (all-zero PCR0/1/2). Their enclaves can be inspected by the
    /// host: never use this for anything that guards value.
    pub fn danger_allow_debug(mut self) -> Self {
        self.allow_debug = true;
        self
    }

    /// True when debug-mode documents are accepted.
    pub fn allows_debug(&self) -> bool {
        self.allow_debug
    }

    /// Applies the rules to an authentic document at `now_ms`.
    pub fn check(
        &self,
        doc: &AttestationDocument,
        now_ms: u64,
    ) -> Result<Option<EnclaveKey>, PolicyError> {
        let ts = doc.timestamp_ms;
        if ts < MIN_TIMESTAMP_MS {
            return Err(PolicyError::TimestampNotMillis(ts));
        }
        if ts > now_ms.saturating_add(self.max_future_skew_ms) {
            return Err(PolicyError::FromFuture {
                timestamp_ms: ts,
                now_ms,
            });
        }
        let age_ms = now_ms.saturating_sub(ts);
        if age_ms > self.max_age_ms {
            return Err(PolicyError::Stale {
                age_ms,
                max_age_ms: self.max_age_ms,
            });
        }
        if !self.allow_debug && doc.is_debug_mode() {
            return Err(PolicyError::DebugMode);
        }
        for (index, expected) in &self.expected_pcrs {
            match doc.pcr(*index) {
                None => return Err(PolicyError::PcrMissing(*index)),
                Some(actual) if actual != expected => {
                    return Err(PolicyError::PcrMismatch(*index));
                }
                Some(_) => {}
            }
        }
        if let Some(expected) = &self.expected_nonce
            && doc.nonce.as_ref() != Some(expected)
        {
            return Err(PolicyError::NonceMismatch);
        }
        if !self.require_secp256k1_key {
            return Ok(None);
        }
        let key = doc
            .public_key
            .as_deref()
            .ok_or(PolicyError::PublicKeyMissing)?;
        EnclaveKey::from_public_key(key).map(Some)
    }
}

//! The enclave's keys and attestations.
//!
//! Two secp256k1 keys make the engine identity. The first replica of a deployment generates them
//! inside the enclave; a later replica of the same registered image receives them from a running
//! one, encrypted to a key of its own attested document (`handoff.rs`). They never leave an
//! enclave unencrypted:
//! - the **engine key** signs assignment batches. Its 65-byte uncompressed public key is the
//!   document's `public_key`, which `EnclaveRegistry.registerEnclaveKey` turns into the
//!   address it registers (keccak256 of the 64 coordinate bytes);
//! - the **bid key** opens sealed bids. Its 33-byte compressed public key is the document's
//!   `user_data`, so bidders seal to a key the same attestation vouches for (a registrant may
//!   pin it on chain with `userDataHash = keccak256(user_data)`).
//!
//! Separate keys keep ECDSA signing and ECDH decryption apart.

use std::sync::Arc;

use k256::elliptic_curve::sec1::ToEncodedPoint as _;
use k256::elliptic_curve::zeroize::Zeroize as _;
use market_sealing::{IdentitySecrets, Zeroizing};
use matching_engine::{Address, BidContext, BidOpener, LocalSigner, SecretKey, Signer as _};
use nitro_attestation::NsmError;
use nitro_attestation::nsm::{AttestationRequest, Nsm};
use rand_core::OsRng;

/// Largest caller nonce put into a document (bytes).
pub(crate) const MAX_NONCE: usize = 64;

/// Why no attestation document was produced.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum AttestError {
    /// The caller's nonce is longer than [`MAX_NONCE`].
    #[error("nonce is {0} bytes, at most {MAX_NONCE}")]
    NonceTooLong(usize),
    /// The NSM refused.
    #[error("NSM: {0}")]
    Nsm(#[from] NsmError),
    /// The attestation worker ended before answering (the server is stopping).
    #[error("the attestation worker ended")]
    WorkerGone,
}

/// Where this enclave's identity came from (`/status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Generated here at start.
    Generated,
    /// Received through the hand-off from the peer at this address.
    Peer(String),
}

/// Why received secrets are no identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum SecretError {
    /// The engine secret is zero or not below the group order.
    #[error("the engine secret is not a secp256k1 scalar")]
    Engine,
    /// The bid secret is zero or not below the group order.
    #[error("the bid secret is not a secp256k1 scalar")]
    Bid,
}

/// Keys plus the NSM that attests them.
pub(crate) struct Identity {
    engine: Arc<LocalSigner>,
    /// The engine key's secret, kept to hand the identity on (zeroed on drop by k256).
    engine_secret: SecretKey,
    bid: SecretKey,
    nsm: Arc<dyn Nsm>,
    origin: Origin,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("engine", &self.engine.address())
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Fresh keys from the operating system's generator, attested by `nsm` (the application
    /// does not start without one).
    #[must_use]
    pub(crate) fn generate(nsm: Arc<dyn Nsm>) -> Self {
        let engine_secret = SecretKey::random(&mut OsRng);
        let engine = signer_of(&engine_secret);
        Self {
            engine: Arc::new(engine),
            engine_secret,
            bid: SecretKey::random(&mut OsRng),
            nsm,
            origin: Origin::Generated,
        }
    }

    /// The identity received from a peer (`handoff.rs` checks it before calling this).
    ///
    /// # Errors
    /// [`SecretError`] when a secret is not a scalar.
    pub(crate) fn from_secrets(
        secrets: &IdentitySecrets,
        nsm: Arc<dyn Nsm>,
        origin: Origin,
    ) -> Result<Self, SecretError> {
        let engine_secret =
            SecretKey::from_slice(secrets.engine.as_ref()).map_err(|_| SecretError::Engine)?;
        let bid = SecretKey::from_slice(secrets.bid.as_ref()).map_err(|_| SecretError::Bid)?;
        Ok(Self {
            engine: Arc::new(signer_of(&engine_secret)),
            engine_secret,
            bid,
            nsm,
            origin,
        })
    }

    /// Both secrets, to be sealed to a newcomer (zeroed when dropped).
    #[must_use]
    pub(crate) fn secrets(&self) -> IdentitySecrets {
        IdentitySecrets {
            engine: secret_bytes(&self.engine_secret),
            bid: secret_bytes(&self.bid),
        }
    }

    /// Where the identity came from.
    #[must_use]
    pub(crate) fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The batch signer.
    #[must_use]
    pub(crate) fn signer(&self) -> &LocalSigner {
        &self.engine
    }

    /// The batch signer, shared with the bridge job (the same attested key signs its stake
    /// snapshots and slash results).
    #[must_use]
    pub(crate) fn shared_signer(&self) -> Arc<LocalSigner> {
        self.engine.clone()
    }

    /// The engine key's address (what the registry registers).
    #[must_use]
    pub(crate) fn address(&self) -> Address {
        self.engine.address()
    }

    /// The engine key, uncompressed (65 bytes, `0x04 ‖ x ‖ y`): the document's `public_key`.
    #[must_use]
    pub(crate) fn public_key(&self) -> Vec<u8> {
        self.engine
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    /// The bid key, compressed (33 bytes): the document's `user_data`.
    #[must_use]
    pub(crate) fn user_data(&self) -> Vec<u8> {
        self.bid
            .public_key()
            .to_encoded_point(true)
            .as_bytes()
            .to_vec()
    }

    /// The opener of bids sealed to the bid key, for this chain and marketplace.
    #[must_use]
    pub(crate) fn bid_opener(&self, context: BidContext) -> BidOpener {
        BidOpener::new(self.bid.clone(), context)
    }

    /// A document binding both keys, with the caller's nonce (blocking: call it off the async
    /// runtime).
    ///
    /// # Errors
    /// [`AttestError`].
    pub(crate) fn attest(&self, nonce: Option<Vec<u8>>) -> Result<Vec<u8>, AttestError> {
        if let Some(n) = &nonce
            && n.len() > MAX_NONCE
        {
            return Err(AttestError::NonceTooLong(n.len()));
        }
        Ok(self.nsm.attestation(&AttestationRequest {
            public_key: Some(self.public_key()),
            user_data: Some(self.user_data()),
            nonce,
        })?)
    }
}

/// The batch signer of a secret key.
fn signer_of(secret: &SecretKey) -> LocalSigner {
    let bytes = secret_bytes(secret);
    LocalSigner::from_bytes(&bytes).expect("a k256 secret key is a valid scalar")
}

/// A secret key's 32 big-endian bytes, zeroed when dropped.
fn secret_bytes(secret: &SecretKey) -> Zeroizing<[u8; 32]> {
    let mut field = secret.to_bytes();
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&field);
    field.zeroize();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_nsm::ScriptedNsm;

    #[test]
    fn documents_bind_the_engine_key_the_bid_key_and_the_nonce() {
        let nsm = Arc::new(ScriptedNsm::new(vec![0xd2], [0; 3]));
        let identity = Identity::generate(nsm.clone());
        assert_eq!(
            identity.attest(Some(vec![0xc0, 0xff, 0xee])).unwrap(),
            [0xd2]
        );
        identity.attest(None).unwrap();
        assert!(matches!(
            identity.attest(Some(vec![0; MAX_NONCE + 1])),
            Err(AttestError::NonceTooLong(65))
        ));
        let requests = nsm.requests();
        let public_key = identity.public_key();
        assert_eq!(public_key.len(), 65);
        assert_eq!(public_key[0], 0x04);
        assert_eq!(identity.user_data().len(), 33);
        assert_eq!(
            requests,
            [
                AttestationRequest {
                    public_key: Some(public_key.clone()),
                    user_data: Some(identity.user_data()),
                    nonce: Some(vec![0xc0, 0xff, 0xee]),
                },
                AttestationRequest {
                    public_key: Some(public_key),
                    user_data: Some(identity.user_data()),
                    nonce: None,
                },
            ]
        );
    }

    #[test]
    fn secrets_rebuild_the_same_identity_and_debug_shows_none() {
        let nsm: Arc<dyn Nsm> = Arc::new(ScriptedNsm::new(vec![0xd2], [0; 3]));
        let first = Identity::generate(nsm.clone());
        let secrets = first.secrets();
        let second =
            Identity::from_secrets(&secrets, nsm, Origin::Peer("tcp:127.0.0.1:1".into())).unwrap();
        assert_eq!(second.address(), first.address());
        assert_eq!(second.public_key(), first.public_key());
        assert_eq!(second.user_data(), first.user_data());
        assert_eq!(second.origin(), &Origin::Peer("tcp:127.0.0.1:1".into()));
        let debug = format!("{second:?} {secrets:?}");
        for secret in [&*secrets.engine, &*secrets.bid] {
            assert!(!debug.contains(&hex::encode(secret)), "{debug}");
        }
        let zero = IdentitySecrets {
            engine: Zeroizing::new([0; 32]),
            bid: secrets.bid.clone(),
        };
        let nsm: Arc<dyn Nsm> = Arc::new(ScriptedNsm::new(vec![], [0; 3]));
        assert_eq!(
            Identity::from_secrets(&zero, nsm.clone(), Origin::Generated).err(),
            Some(SecretError::Engine)
        );
        let over = IdentitySecrets {
            engine: secrets.engine.clone(),
            bid: Zeroizing::new([0xff; 32]),
        };
        assert_eq!(
            Identity::from_secrets(&over, nsm, Origin::Generated).err(),
            Some(SecretError::Bid)
        );
    }
}

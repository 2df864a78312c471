//! Batch signing with the enclave key: 65-byte `r ‖ s ‖ v` secp256k1 signatures (low `s`,
//! `v` = 27 or 28), as Solidity's `ecrecover` and OpenZeppelin's `ECDSA.recover` expect.

use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;

use crate::eip712::{AssignmentBatch, Domain, InvalidInputs, KeyedAssignmentBatch, keccak256};
use crate::error::SignError;
use crate::types::Address;

/// A 65-byte recoverable signature: `r ‖ s ‖ v`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 65]);

impl core::fmt::Debug for Signature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Signature(0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// Something that signs 32-byte digests with a secp256k1 key.
pub trait Signer {
    /// The Ethereum address of the key.
    fn address(&self) -> Address;
    /// Signs a digest (no further hashing).
    ///
    /// # Errors
    /// [`SignError`] when the backend cannot sign.
    fn sign_digest(&self, digest: &[u8; 32]) -> Result<Signature, SignError>;
}

/// A secp256k1 key held in memory (inside the enclave, generated at boot).
#[derive(Clone)]
pub struct LocalSigner {
    key: SigningKey,
    address: Address,
}

impl core::fmt::Debug for LocalSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LocalSigner")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl LocalSigner {
    /// A fresh random key.
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        Self::from_key(SigningKey::random(rng))
    }

    /// A key from its 32 secret bytes.
    ///
    /// # Errors
    /// [`SignError::Backend`] when the bytes are not a valid scalar.
    pub fn from_bytes(secret: &[u8; 32]) -> Result<Self, SignError> {
        SigningKey::from_bytes(secret.into())
            .map(Self::from_key)
            .map_err(|e| SignError::Backend(e.to_string()))
    }

    fn from_key(key: SigningKey) -> Self {
        let address = address_of(key.verifying_key());
        Self { key, address }
    }

    /// The public key (bound to the attestation document).
    #[must_use]
    pub fn verifying_key(&self) -> &VerifyingKey {
        self.key.verifying_key()
    }
}

impl Signer for LocalSigner {
    fn address(&self) -> Address {
        self.address
    }

    fn sign_digest(&self, digest: &[u8; 32]) -> Result<Signature, SignError> {
        let (sig, recid) = self
            .key
            .sign_prehash_recoverable(digest)
            .map_err(|e| SignError::Backend(e.to_string()))?;
        // k256 already returns low-s signatures with the matching recovery id.
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&sig.to_bytes());
        out[64] = 27 + recid.to_byte();
        Ok(Signature(out))
    }
}

/// The Ethereum address of a public key: the last 20 bytes of keccak256 of its uncompressed
/// coordinates.
#[must_use]
pub fn address_of(key: &VerifyingKey) -> Address {
    let point = key.to_encoded_point(false);
    let hash = keccak256(&point.as_bytes()[1..]);
    let mut a = [0u8; 20];
    a.copy_from_slice(&hash[12..]);
    Address(a)
}

/// Recovers the signer's address, rejecting high-`s` signatures as `ecrecover` users should.
///
/// # Errors
/// [`SignError::InvalidSignature`] for a malformed, high-`s` or unrecoverable signature.
pub fn recover(digest: &[u8; 32], sig: &Signature) -> Result<Address, SignError> {
    let v = sig.0[64];
    let recid = v
        .checked_sub(27)
        .and_then(RecoveryId::from_byte)
        .ok_or(SignError::InvalidSignature)?;
    let s = EcdsaSignature::from_slice(&sig.0[..64]).map_err(|_| SignError::InvalidSignature)?;
    if s.normalize_s().is_some() {
        return Err(SignError::InvalidSignature);
    }
    VerifyingKey::recover_from_prehash(digest, &s, recid)
        .map(|k| address_of(&k))
        .map_err(|_| SignError::InvalidSignature)
}

/// A batch with the engine key's signature over its EIP-712 digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedBatch {
    /// The batch.
    pub batch: AssignmentBatch,
    /// The digest signed.
    pub digest: [u8; 32],
    /// The signature.
    pub signature: Signature,
}

impl AssignmentBatch {
    /// Signs the batch for `domain`.
    ///
    /// # Errors
    /// [`SignError`] from the signer.
    pub fn sign(self, signer: &dyn Signer, domain: &Domain) -> Result<SignedBatch, SignError> {
        let digest = self.digest(domain);
        let signature = signer.sign_digest(&digest)?;
        Ok(SignedBatch {
            batch: self,
            digest,
            signature,
        })
    }
}

/// A keyed batch with the engine key's signature over its EIP-712 digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedKeyedBatch {
    /// The batch.
    pub batch: KeyedAssignmentBatch,
    /// The digest signed.
    pub digest: [u8; 32],
    /// The signature.
    pub signature: Signature,
}

impl KeyedAssignmentBatch {
    /// Signs the batch for `domain`.
    ///
    /// # Errors
    /// [`SignError`] from the signer.
    pub fn sign(self, signer: &dyn Signer, domain: &Domain) -> Result<SignedKeyedBatch, SignError> {
        let digest = self.digest(domain);
        let signature = signer.sign_digest(&digest)?;
        Ok(SignedKeyedBatch {
            batch: self,
            digest,
            signature,
        })
    }
}

/// An invalid-inputs statement with the engine key's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedInvalidInputs {
    /// The statement.
    pub statement: InvalidInputs,
    /// The digest signed.
    pub digest: [u8; 32],
    /// The signature.
    pub signature: Signature,
}

impl InvalidInputs {
    /// Signs the statement for `domain`.
    ///
    /// # Errors
    /// [`SignError`] from the signer.
    pub fn sign(
        self,
        signer: &dyn Signer,
        domain: &Domain,
    ) -> Result<SignedInvalidInputs, SignError> {
        let digest = self.digest(domain);
        let signature = signer.sign_digest(&digest)?;
        Ok(SignedInvalidInputs {
            statement: self,
            digest,
            signature,
        })
    }
}

/// A batch ready for the relayer: `assignBatch` or `assignBatchWithKeys`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposedBatch {
    /// Public asks only: `AssignmentBatch`, exactly as before private asks existed.
    Plain(AssignmentBatch),
    /// At least one private ask's entry: `KeyedAssignmentBatch`.
    Keyed(KeyedAssignmentBatch),
}

/// A signed [`ProposedBatch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignedProposal {
    /// For `assignBatch`.
    Plain(SignedBatch),
    /// For `assignBatchWithKeys`.
    Keyed(SignedKeyedBatch),
}

impl ProposedBatch {
    /// The assignments.
    #[must_use]
    pub fn assignments(&self) -> &[crate::types::Assignment] {
        match self {
            Self::Plain(b) => b.assignments(),
            Self::Keyed(b) => b.assignments(),
        }
    }

    /// Signs the batch for `domain`.
    ///
    /// # Errors
    /// [`SignError`] from the signer.
    pub fn sign(self, signer: &dyn Signer, domain: &Domain) -> Result<SignedProposal, SignError> {
        match self {
            Self::Plain(b) => b.sign(signer, domain).map(SignedProposal::Plain),
            Self::Keyed(b) => b.sign(signer, domain).map(SignedProposal::Keyed),
        }
    }
}

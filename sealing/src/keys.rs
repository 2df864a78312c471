//! Encryption keys: a secp256k1 secret (the engine's bid key, a generator's per-market key)
//! and its 33-byte compressed public key.

use core::fmt;

use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::{NonZeroScalar, PublicKey, SecretKey};
use rand_core::CryptoRngCore;

use crate::error::Error;

/// Length of a compressed secp256k1 public key.
pub const PUBLIC_KEY_LEN: usize = 33;

/// A secp256k1 decryption key. Its scalar is zeroed when dropped (k256 zeroizes `SecretKey`);
/// `Debug` shows only the public key.
#[derive(Clone)]
pub struct EncryptionKey {
    secret: SecretKey,
    public: EncryptionPublicKey,
}

impl EncryptionKey {
    /// A fresh random key.
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        Self::from(SecretKey::random(rng))
    }

    /// A key from its 32 big-endian secret bytes.
    ///
    /// # Errors
    /// [`Error::BadSecretKey`] when the bytes are zero or not below the group order.
    pub fn from_bytes(secret: &[u8; 32]) -> Result<Self, Error> {
        SecretKey::from_slice(secret)
            .map(Self::from)
            .map_err(|_| Error::BadSecretKey)
    }

    /// The public key senders encrypt to.
    #[must_use]
    pub fn public_key(&self) -> &EncryptionPublicKey {
        &self.public
    }

    /// The secret key, for callers that hold it in the k256 type (the enclave's identity).
    #[must_use]
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret
    }

    pub(crate) fn scalar(&self) -> NonZeroScalar {
        self.secret.to_nonzero_scalar()
    }
}

impl From<SecretKey> for EncryptionKey {
    fn from(secret: SecretKey) -> Self {
        let public = EncryptionPublicKey::from(secret.public_key());
        Self { secret, public }
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("public_key", &self.public)
            .finish_non_exhaustive()
    }
}

/// A secp256k1 public key, kept with its 33-byte compressed encoding (the form on chain, in
/// attestation documents and in every salt of this crate).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EncryptionPublicKey {
    key: PublicKey,
    compressed: [u8; PUBLIC_KEY_LEN],
}

impl EncryptionPublicKey {
    /// Parses a compressed key (`0x02`/`0x03` prefix and 32 bytes of x).
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless 33 bytes, [`Error::BadPoint`] for another prefix (an
    /// uncompressed or identity encoding) or an x-coordinate off the curve.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        parse_point(bytes, "public key")
    }

    /// The 33-byte compressed encoding.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.compressed
    }

    /// The key as the k256 type.
    #[must_use]
    pub fn to_public_key(&self) -> PublicKey {
        self.key
    }
}

impl From<PublicKey> for EncryptionPublicKey {
    fn from(key: PublicKey) -> Self {
        let mut compressed = [0u8; PUBLIC_KEY_LEN];
        compressed.copy_from_slice(key.to_encoded_point(true).as_bytes());
        Self { key, compressed }
    }
}

impl fmt::Debug for EncryptionPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionPublicKey(0x")?;
        for b in self.compressed {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// Parses a compressed point, naming `what` in the error.
pub(crate) fn parse_point(bytes: &[u8], what: &'static str) -> Result<EncryptionPublicKey, Error> {
    if bytes.len() != PUBLIC_KEY_LEN {
        return Err(Error::WrongLength {
            what,
            expected: PUBLIC_KEY_LEN,
            got: bytes.len(),
        });
    }
    if !matches!(bytes[0], 0x02 | 0x03) {
        return Err(Error::BadPoint { what });
    }
    PublicKey::from_sec1_bytes(bytes)
        .map(EncryptionPublicKey::from)
        .map_err(|_| Error::BadPoint { what })
}
